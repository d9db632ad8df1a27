//! Orthanc's jobs REST API over a [`JobsHandle`], as an axum router (feature `axum`).
//!
//! | Method and path | Answer |
//! |---|---|
//! | `GET /jobs` | JSON array of job ids |
//! | `GET /jobs?expand` | JSON array of jobs in Orthanc's form ([`JobRecord::to_orthanc_json`]) |
//! | `GET /jobs/{id}` | one job in Orthanc's form |
//! | `POST /jobs/{id}/cancel\|pause\|resume\|resubmit` | `{}`; 400 if the state does not allow it |
//! | `GET /jobs/{id}/{output}` | the output's bytes with its media type |
//!
//! Unknown jobs and outputs are 404 with a JSON body shaped like Orthanc's errors.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::Error;
use crate::handle::JobsHandle;
use crate::id::JobId;
use crate::job::OutputBody;
use crate::state::Action;

#[cfg(doc)]
use crate::record::JobRecord;

/// The router: mount it at the root (or nest it) of an axum application.
pub fn router(handle: JobsHandle) -> Router {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}", get(show))
        .route("/jobs/{id}/{name}", get(output).post(act))
        .with_state(handle)
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An error in Orthanc's shape.
fn error_response(status: StatusCode, method: Method, uri: &str, details: &str) -> Response {
    let message = match status {
        StatusCode::NOT_FOUND => "Accessing an inexistent item",
        StatusCode::BAD_REQUEST => "Bad request",
        _ => "Internal error",
    };
    let body = json!({
        "HttpError": status.canonical_reason().unwrap_or(""),
        "HttpStatus": status.as_u16(),
        "Message": message,
        "Details": details,
        "Method": method.as_str(),
        "Uri": uri,
    });
    json_response(status, &body)
}

fn from_error(error: &Error, method: Method, uri: &str) -> Response {
    let status = match error {
        Error::NotFound { .. } | Error::InvalidId { .. } => StatusCode::NOT_FOUND,
        Error::ActionNotAllowed { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_response(status, method, uri, &error.to_string())
}

fn expand_requested(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            key == "expand" && value != "false" && value != "0"
        })
    })
}

async fn list(State(handle): State<JobsHandle>, RawQuery(query): RawQuery) -> Response {
    let records = match handle.list().await {
        Ok(records) => records,
        Err(error) => return from_error(&error, Method::GET, "/jobs"),
    };
    let body: Vec<Value> = if expand_requested(query.as_deref()) {
        let now = handle.clock().now();
        records.iter().map(|r| r.to_orthanc_json(now)).collect()
    } else {
        records.iter().map(|r| json!(r.id.to_string())).collect()
    };
    json_response(StatusCode::OK, &Value::Array(body))
}

async fn show(State(handle): State<JobsHandle>, Path(id): Path<String>) -> Response {
    let uri = format!("/jobs/{id}");
    let result = match id.parse::<JobId>() {
        Ok(id) => handle.get(id).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(record) => json_response(
            StatusCode::OK,
            &record.to_orthanc_json(handle.clock().now()),
        ),
        Err(error) => from_error(&error, Method::GET, &uri),
    }
}

async fn act(
    State(handle): State<JobsHandle>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let uri = format!("/jobs/{id}/{name}");
    let Ok(action) = name.parse::<Action>() else {
        let details = format!("expected cancel, pause, resume or resubmit, found {name:?}");
        return error_response(StatusCode::NOT_FOUND, Method::POST, &uri, &details);
    };
    let result = match id.parse::<JobId>() {
        Ok(id) => handle.act(id, action).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(_) => json_response(StatusCode::OK, &json!({})),
        Err(error) => from_error(&error, Method::POST, &uri),
    }
}

async fn output(
    State(handle): State<JobsHandle>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let uri = format!("/jobs/{id}/{name}");
    let result = match id.parse::<JobId>() {
        Ok(id) => handle.output(id, &name).await,
        Err(error) => Err(error),
    };
    let output = match result {
        Ok(Some(output)) => output,
        Ok(None) => {
            let details = format!("Job has no such output: {name}");
            return error_response(StatusCode::NOT_FOUND, Method::GET, &uri, &details);
        }
        Err(error) => return from_error(&error, Method::GET, &uri),
    };
    let body = match output.body {
        OutputBody::Bytes(bytes) => Body::from(bytes),
        OutputBody::File(path) => match tokio::fs::File::open(&path).await {
            Ok(file) => Body::from_stream(tokio_util::io::ReaderStream::new(file)),
            Err(error) => {
                let details = format!("cannot open output file {}: {error}", path.display());
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Method::GET,
                    &uri,
                    &details,
                );
            }
        },
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&output.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(filename) = output.filename {
        let quoted = filename.replace(['"', '\\', '\r', '\n'], "_");
        if let Ok(value) = HeaderValue::from_str(&format!("filename=\"{quoted}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::expand_requested;

    #[test]
    fn expand_flag() {
        assert!(expand_requested(Some("expand")));
        assert!(expand_requested(Some("a=1&expand=true")));
        assert!(!expand_requested(Some("expand=false")));
        assert!(!expand_requested(None));
        assert!(!expand_requested(Some("expanded")));
    }
}
