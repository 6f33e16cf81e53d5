//! Signing Cognito requests with SigV4 as the AWS SDKs do, for tests and benchmarks that
//! drive the local user pool's IAM-authorized actions over plain HTTP.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// The headers to add to a `POST <url>` of `body` for `X-Amz-Target: <target>` with
/// `Content-Type: application/x-amz-json-1.1`: `authorization` and `x-amz-date`, signed
/// for service `cognito-idp` in `us-east-1` at `time`.
pub fn cognito_headers(
    (access_key_id, secret): (&str, &str),
    url: &str,
    target: &str,
    body: &[u8],
    time: SystemTime,
) -> Vec<(String, String)> {
    let identity = Identity::from(Credentials::new(
        access_key_id,
        secret,
        None,
        None,
        "taskapi-testkit",
    ));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters");
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
    ];
    let request = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
        .expect("a signable request");
    let (instructions, _) = sign(request, &params.into())
        .expect("signing succeeds")
        .into_parts();
    instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}
