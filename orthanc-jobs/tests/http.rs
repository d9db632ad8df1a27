//! Orthanc's jobs REST API over an engine, through tower's `oneshot`.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "axum")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::{Engine, EngineConfig, JobState, MemoryStore};
use serde_json::Value;
use tower::ServiceExt;

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, content_type, body.to_vec())
}

async fn json(app: &axum::Router, method: &str, uri: &str) -> (StatusCode, Value) {
    let (status, content_type, body) = call(app, method, uri).await;
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "{method} {uri}"
    );
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn serves_orthancs_jobs_api() {
    let probe = Arc::new(Probe::default());
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(1)
        .poll_interval(Duration::from_millis(10));
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config)
        .await
        .unwrap();
    let app = orthanc_jobs::http::router(engine.handle().clone());

    let done = engine
        .submit_and_wait(Steps::new("a", 2, 0, &probe), 7)
        .await
        .unwrap();
    let long = engine
        .submit(Steps::new("b", 100, 50, &probe), 0)
        .await
        .unwrap();
    wait_state(&engine, long, JobState::Running, Duration::from_secs(5)).await;

    let (status, ids) = json(&app, "GET", "/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids,
        serde_json::json!([done.id.to_string(), long.to_string()])
    );

    let (_, expanded) = json(&app, "GET", "/jobs?expand").await;
    let first = &expanded[0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "CompletionTime",
            "Content",
            "CreationTime",
            "EffectiveRuntime",
            "ErrorCode",
            "ErrorDescription",
            "ErrorDetails",
            "ID",
            "Priority",
            "Progress",
            "State",
            "Timestamp",
            "Type"
        ]
    );
    assert_eq!(first["ID"], done.id.to_string());
    assert_eq!(first["Type"], "Steps");
    assert_eq!(first["State"], "Success");
    assert_eq!(first["Progress"], 100);
    assert_eq!(first["Priority"], 7);
    assert_eq!(first["ErrorCode"], 0);
    assert_eq!(first["ErrorDescription"], "Success");
    assert_eq!(first["Content"], serde_json::json!({"Tag": "a", "Next": 2}));
    let created = first["CreationTime"].as_str().unwrap();
    assert_eq!(created.len(), 22, "{created}");
    assert_eq!(&created[8..9], "T");
    assert!(first["EffectiveRuntime"].is_number());
    assert!(
        expanded[1].get("CompletionTime").is_none(),
        "a running job has no CompletionTime"
    );

    let (status, one) = json(&app, "GET", &format!("/jobs/{long}")).await;
    assert_eq!(
        (status, one["State"].as_str()),
        (StatusCode::OK, Some("Running"))
    );

    // Actions: allowed ones answer {}, disallowed ones 400.
    let (status, body) = json(&app, "POST", &format!("/jobs/{long}/resume")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = json(&app, "POST", &format!("/jobs/{long}/pause")).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!({})));
    wait_state(&engine, long, JobState::Paused, Duration::from_secs(5)).await;
    let (status, _) = json(&app, "POST", &format!("/jobs/{long}/resume")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json(&app, "POST", &format!("/jobs/{long}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    let canceled = engine.wait(long).await.unwrap();
    assert_eq!(canceled.state, JobState::Failure);
    let (_, one) = json(&app, "GET", &format!("/jobs/{long}")).await;
    assert_eq!(
        (one["ErrorCode"].as_i64(), one["State"].as_str()),
        (Some(37), Some("Failure"))
    );
    let (status, _) = json(&app, "POST", &format!("/jobs/{long}/resubmit")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json(&app, "POST", &format!("/jobs/{}/resubmit", done.id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Outputs.
    let (status, content_type, body) =
        call(&app, "GET", &format!("/jobs/{}/report", done.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(body, b"{\"steps\":2}");
    let (status, error) = json(&app, "GET", &format!("/jobs/{}/nope", done.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["Details"], "Job has no such output: nope");

    // Unknown and malformed ids.
    let unknown = orthanc_jobs::JobId::new();
    let (status, _) = json(&app, "GET", &format!("/jobs/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json(&app, "POST", &format!("/jobs/{unknown}/cancel")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json(&app, "GET", "/jobs/not-a-job").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json(&app, "POST", &format!("/jobs/{long}/explode")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    engine.cancel(long).await.ok();
    engine.shutdown().await;
}

/// A job whose output is a file it wrote.
struct WritesFile {
    path: std::path::PathBuf,
}

impl orthanc_jobs::Job for WritesFile {
    fn type_name(&self) -> &str {
        "Archive"
    }

    fn step<'a>(&'a mut self, _ctx: &'a orthanc_jobs::StepContext) -> orthanc_jobs::StepFuture<'a> {
        Box::pin(async move {
            std::fs::write(&self.path, b"PK\x03\x04 not really a zip").unwrap();
            orthanc_jobs::StepOutcome::Success
        })
    }

    fn save(&self) -> Result<Value, serde_json::Error> {
        Ok(serde_json::json!({ "Path": self.path }))
    }

    fn reset(&mut self) {}

    fn take_outputs(&mut self) -> Vec<orthanc_jobs::JobOutput> {
        vec![
            orthanc_jobs::JobOutput::file("archive", "application/zip", self.path.clone())
                .with_filename("archive.zip"),
        ]
    }
}

#[tokio::test]
async fn serves_a_file_output_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(
        Arc::new(MemoryStore::new()),
        registry(&probe),
        EngineConfig::new(),
    )
    .await
    .unwrap();
    let app = orthanc_jobs::http::router(engine.handle().clone());
    let path = dir.path().join("out.zip");
    let done = engine
        .submit_and_wait(WritesFile { path }, 0)
        .await
        .unwrap();
    let request = Request::builder()
        .uri(format!("/jobs/{}/archive", done.id))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "filename=\"archive.zip\""
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(&body[..], b"PK\x03\x04 not really a zip");
    engine.shutdown().await;
}
