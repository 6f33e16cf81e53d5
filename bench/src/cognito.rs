//! Cognito's JSON protocol over plain HTTP, as any SDK speaks it, so one client drives
//! taskapi's local pool and the emulators alike.

use serde_json::Value;

pub const TARGET: &str = "AWSCognitoIdentityProviderService.";

/// A `Credential` the emulators accept for their admin actions: they read the region and
/// service from it and check no signature. (taskapi's pool does check; its admin actions
/// are signed with its own credentials, see `signup::client_id`.)
const UNCHECKED_SIGNATURE: &str = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

/// One action anyone may call (no credentials): the body, or the error type.
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    action: &str,
    body: &Value,
) -> Result<Value, String> {
    send(request(http, base, action, body)).await
}

/// One admin action against an emulator that does not check signatures.
pub async fn call_unsigned_admin(
    http: &reqwest::Client,
    base: &str,
    action: &str,
    body: &Value,
) -> Result<Value, String> {
    send(
        request(http, base, action, body)
            .header("authorization", UNCHECKED_SIGNATURE)
            .header("x-amz-date", "20260101T000000Z"),
    )
    .await
}

fn request(
    http: &reqwest::Client,
    base: &str,
    action: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    http.post(format!("{base}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("{TARGET}{action}"))
        .body(body.to_string())
}

async fn send(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let ok = response.status().is_success();
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|_| format!("{status}: {text:.80}"))?
    };
    if ok {
        Ok(body)
    } else {
        Err(body["__type"].as_str().map_or_else(
            || format!("{status}"),
            |kind| kind.rsplit('#').next().unwrap_or(kind).to_owned(),
        ))
    }
}
