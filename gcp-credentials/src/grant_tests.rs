use super::*;
use crate::secret::{ClientSecret, RefreshToken};

fn user(quota: Option<&str>) -> AuthorizedUser {
    AuthorizedUser {
        client_id: "client-1".to_owned(),
        client_secret: ClientSecret::new("s3cret/+"),
        refresh_token: RefreshToken::new("1//refresh tok"),
        quota_project_id: quota.map(str::to_owned),
        token_uri: None,
    }
}

fn reply(status: u16, body: &str) -> Result<Token> {
    let response = Response::builder()
        .status(status)
        .body(body.as_bytes())
        .unwrap();
    parse_token_response(response)
}

#[test]
fn authorized_user_request_is_a_form_post() {
    let request = authorized_user_request(&user(Some("billing-proj")), None).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), DEFAULT_TOKEN_URI);
    assert_eq!(
        request.headers()[CONTENT_TYPE],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(request.headers()[USER_PROJECT_HEADER], "billing-proj");
    assert_eq!(
        request.body().as_ref(),
        b"grant_type=refresh_token&client_id=client-1&client_secret=s3cret%2F%2B&refresh_token=1%2F%2Frefresh%20tok"
    );
    let without = authorized_user_request(&user(None), Some("http://127.0.0.1:1/t")).unwrap();
    assert!(without.headers().get(USER_PROJECT_HEADER).is_none());
    assert_eq!(without.uri(), "http://127.0.0.1:1/t");
}

#[test]
fn metadata_requests_carry_the_flavor_header() {
    let server = MetadataServer {
        host: "127.0.0.1:8080".to_owned(),
    };
    let request = metadata_token_request(
        &server,
        &[CLOUD_HEALTHCARE_SCOPE.to_owned(), "b".to_owned()],
    )
    .unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(
        request.uri(),
        "http://127.0.0.1:8080/computeMetadata/v1/instance/service-accounts/default/token\
         ?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-healthcare%2Cb"
    );
    assert_eq!(request.headers()[METADATA_FLAVOR], "Google");
    let ping = metadata_ping_request(&server).unwrap();
    assert_eq!(ping.uri(), "http://127.0.0.1:8080/");
    let yes = Response::builder()
        .header("Metadata-Flavor", "Google")
        .body(())
        .unwrap();
    assert!(is_metadata_server_response(&yes));
    assert!(!is_metadata_server_response(&Response::new(())));
}

#[test]
fn static_credentials_need_no_request() {
    let creds = Credentials::Static(AccessToken::new("t"));
    assert!(token_request(&creds, &[], 0, None).unwrap().is_none());
}

#[test]
fn bad_endpoints_are_rejected() {
    for uri in ["not a uri", "/relative", "ftp://host/token"] {
        let err = authorized_user_request(&user(None), Some(uri)).unwrap_err();
        assert!(err.to_string().contains("absolute http(s) URL"), "{err}");
    }
    let err = authorized_user_request(&user(Some("bad\nproject")), None).unwrap_err();
    assert!(err.to_string().contains("quota project"), "{err}");
}

#[test]
fn parses_tokens() {
    let token = reply(
        200,
        r#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
    )
    .unwrap();
    assert_eq!(token.access_token.secret(), "ya29.x");
    assert_eq!(token.expires_in, Some(Duration::from_secs(3599)));
    assert_eq!(token.token_type, "Bearer");
    let token = reply(200, r#"{"access_token":"a","expires_in":"60"}"#).unwrap();
    assert_eq!(token.expires_in, Some(Duration::from_secs(60)));
    assert_eq!(
        reply(200, r#"{"access_token":"a"}"#).unwrap().expires_in,
        None
    );
}

#[test]
fn oauth_errors_carry_error_and_description() {
    let err = reply(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )
    .unwrap_err();
    match &err {
        Error::OAuth {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(error, "invalid_grant");
            assert_eq!(description.as_deref(), Some("Invalid JWT Signature."));
        }
        other => panic!("expected an OAuth error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "token endpoint refused the grant (HTTP 400): invalid_grant: Invalid JWT Signature."
    );
}

#[test]
fn malformed_replies_say_what_came() {
    for (status, body, expect) in [
        (200, "", "an empty body"),
        (
            502,
            "<html>Bad Gateway</html>",
            "not JSON, starting \"<html>Bad Gateway</html>\"",
        ),
        (200, "[1]", "found an array"),
        (200, r#"{"token":"x"}"#, "\"access_token\", found none"),
        (200, r#"{"access_token":""}"#, "found an empty string"),
        (200, r#"{"access_token":7}"#, "found a number"),
        (200, r#"{"access_token":"a","expires_in":-5}"#, "found -5"),
        (
            200,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            "found \"soon\"",
        ),
        (500, r#"{"message":"x"}"#, "neither"),
    ] {
        let err = reply(status, body).unwrap_err().to_string();
        assert!(err.contains(expect), "{body}: {err}");
        assert!(err.contains(&format!("HTTP {status}")), "{err}");
    }
    // The token itself never appears in an error about another field.
    let err = reply(200, r#"{"access_token":"ya29.SECRET","expires_in":[]}"#).unwrap_err();
    assert!(!err.to_string().contains("SECRET"), "{err}");
}
