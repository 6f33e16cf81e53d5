//! SigV4 in front of the AWS JSON door: actions that need IAM credentials on AWS need a
//! valid signature here too, from a key in [`TrustedKeys`]. The signature is recomputed by
//! `aws-sigv4` (the AWS SDK's own signer) from the request as received (the headers the
//! client signed, the body, the scope and the time) and compared in constant time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::credentials::TrustedKeys;
use crate::door::AwsDoor;
use crate::error::AwsError;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "cognito-idp";
/// How far a request's `X-Amz-Date` may be from the server's clock, as on AWS.
const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The actions Cognito serves without IAM credentials (`authtype: none` in the service
/// model); every other action must be signed.
const PUBLIC_ACTIONS: [&str; 34] = [
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListUserSessions",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "RevokeUserSession",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

/// Whether `action` needs a SigV4 signature.
pub(crate) fn needs_iam(action: &str) -> bool {
    !PUBLIC_ACTIONS.contains(&action)
}

/// The region of a verified signature's credential scope (an AWS region's name, checked
/// with the rest of the scope): a request extension set by [`layer`], so the header is
/// parsed once, for the action (CreateUserPool names new pools after it). Requests whose
/// action needs no signature carry none.
#[derive(Debug, Clone)]
pub(crate) struct SignedRegion(pub String);

/// The layer: requests for IAM-authorized actions pass only with a valid signature, and
/// carry its region on to the action.
pub(crate) async fn layer(
    State(door): State<Arc<AwsDoor>>,
    request: Request,
    next: Next,
) -> Response {
    if !crate::codec::action(request.headers()).is_some_and(needs_iam) {
        return next.run(request).await;
    }
    let (parts, body) = match crate::codec::buffered(request).await {
        Ok(buffered) => buffered,
        Err(error) => return crate::codec::error_response(&error),
    };
    let signed = match verify(&parts, &body, &door.trusted, SystemTime::now()) {
        Ok(signed) => signed,
        Err(error) => {
            tracing::warn!(error = %error, kind = error.type_name(), "refused an unsigned or badly signed request");
            return crate::codec::error_response(&error);
        }
    };
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(signed);
    next.run(request).await
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    scope_date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(what: &str) -> AwsError {
    AwsError::IncompleteSignature(format!(
        "Authorization header requires '{what}' parameter. Authorization=AWS4-HMAC-SHA256 \
         Credential=<access key>/<date>/<region>/{SERVICE}/aws4_request, \
         SignedHeaders=<headers>, Signature=<signature>"
    ))
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, AwsError> {
    let rest = header
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            AwsError::IncompleteSignature(format!(
                "Unsupported Authorization scheme: only {ALGORITHM} is accepted"
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential"))?;
    let signed = signed.ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| incomplete("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = scope[..] else {
        return Err(incomplete("Credential"));
    };
    Ok(Authorization {
        access_key_id,
        scope_date,
        region,
        service,
        terminator,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// Checks the request's signature; `Ok` means a trusted key signed exactly this request,
/// in the region it names.
pub(crate) fn verify(
    parts: &Parts,
    body: &[u8],
    keys: &TrustedKeys,
    now: SystemTime,
) -> Result<SignedRegion, AwsError> {
    let header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .ok_or(AwsError::MissingAuthenticationToken)?
        .to_str()
        .map_err(|_| incomplete("Credential"))?;
    let auth = parse_authorization(header)?;
    let secret = keys
        .secret(auth.access_key_id)
        .ok_or(AwsError::UnrecognizedClient)?;
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AwsError::IncompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header."
                    .into(),
            )
        })?;
    let signed_at = parse_amz_date(amz_date)?;
    check_clock(amz_date, signed_at, now)?;
    check_scope(&auth, amz_date)?;
    let expected = recompute(parts, body, &auth, secret, signed_at)?;
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(SignedRegion(auth.region.to_owned()))
    } else {
        Err(AwsError::InvalidSignature(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .into(),
        ))
    }
}

fn parse_amz_date(value: &str) -> Result<SystemTime, AwsError> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(value, format)
        .map(|t| SystemTime::from(t.assume_utc()))
        .map_err(|_| {
            AwsError::IncompleteSignature(format!(
                "X-Amz-Date {value} is not in the ISO 8601 basic format YYYYMMDDTHHMMSSZ"
            ))
        })
}

fn basic(t: SystemTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from(t)
        .format(format)
        .unwrap_or_else(|_| "?".into())
}

/// Refuses signatures from more than 15 minutes ago or ahead, in AWS's words.
fn check_clock(amz_date: &str, signed_at: SystemTime, now: SystemTime) -> Result<(), AwsError> {
    if signed_at + CLOCK_SKEW < now {
        return Err(AwsError::InvalidSignature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            basic(now - CLOCK_SKEW),
            basic(now)
        )));
    }
    if signed_at > now + CLOCK_SKEW {
        return Err(AwsError::InvalidSignature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            basic(now + CLOCK_SKEW),
            basic(now)
        )));
    }
    Ok(())
}

fn check_scope(auth: &Authorization<'_>, amz_date: &str) -> Result<(), AwsError> {
    let scope_error = |message: String| Err(AwsError::InvalidSignature(message));
    if auth.service != SERVICE {
        return scope_error(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        ));
    }
    if auth.terminator != "aws4_request" {
        return scope_error(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '".to_owned()
                + auth.terminator
                + "'.",
        );
    }
    if !amz_date.starts_with(auth.scope_date) || auth.scope_date.len() != 8 {
        return scope_error(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.scope_date,
            &amz_date[..amz_date.len().min(8)]
        ));
    }
    if !is_aws_region(auth.region) {
        return scope_error(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            auth.region
        ));
    }
    // What decides what the request does must be signed: a signature that leaves out the
    // target could be replayed with another action (issue 19), one that leaves out the
    // content type with a body read another way. Every SDK signs all four.
    for required in SIGNED_HEADERS {
        if !auth.signed_headers.contains(&required) {
            return scope_error(format!("'{required}' must be a signed header."));
        }
    }
    Ok(())
}

/// The headers every signature must cover.
const SIGNED_HEADERS: [&str; 4] = ["host", "x-amz-date", "x-amz-target", "content-type"];

/// The partition prefixes of AWS regions (`us-east-1`, `us-gov-west-1`, `cn-north-1`,
/// `eu-isoe-west-1`, `eusc-de-east-1`, ...), as the SDKs' endpoint rules list them.
const REGION_PREFIXES: [&str; 11] = [
    "af", "ap", "ca", "cn", "eu", "eusc", "il", "me", "mx", "sa", "us",
];

/// Whether `region` has the form of an AWS region: a partition prefix, one or more
/// lowercase words, and a number. The scope's region names new pools (`<region>_<id>`),
/// and ids of other forms are no pool's on AWS.
pub(crate) fn is_aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [prefix, words @ .., number] = parts.as_slice() else {
        return false;
    };
    REGION_PREFIXES.contains(prefix)
        && !words.is_empty()
        && words
            .iter()
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The signature the client must have sent: `aws-sigv4` signing the same method, path,
/// signed headers and body with the trusted secret at the request's own time.
fn recompute(
    parts: &Parts,
    body: &[u8],
    auth: &Authorization<'_>,
    secret: &str,
    signed_at: SystemTime,
) -> Result<String, AwsError> {
    let mismatch = |why: String| AwsError::InvalidSignature(why);
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let values: Vec<&str> = parts
            .headers
            .get_all(*name)
            .iter()
            .map(|v| v.to_str())
            .collect::<Result<_, _>>()
            .map_err(|_| mismatch(format!("Signed header {name} is not visible ASCII")))?;
        if values.is_empty() {
            return Err(mismatch(format!(
                "Signed header {name} is missing from the request"
            )));
        }
        for value in values {
            headers.push((*name, value));
        }
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let request = SignableRequest::new(
        parts.method.as_str(),
        format!("http://{host}{path}"),
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| mismatch(format!("The request cannot be signed: {e}")))?;
    let identity = Identity::from(Credentials::new(
        auth.access_key_id,
        secret,
        None,
        None,
        "taskapi-local",
    ));
    let mut settings = SigningSettings::default();
    // Sign exactly what the client says it signed, user-agent included if it did.
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|e| mismatch(format!("The request cannot be signed: {e}")))?;
    let output = sign(request, &params.into())
        .map_err(|e| mismatch(format!("The request cannot be signed: {e}")))?;
    Ok(output.signature().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::AccessKey;

    const BODY: &[u8] = br#"{"UserPoolId":"us-east-1_AbC123xyz"}"#;

    fn keys() -> TrustedKeys {
        TrustedKeys::new([AccessKey {
            id: "AKIDEXAMPLE".into(),
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }])
    }

    const TARGET: (&str, &str) = (
        "x-amz-target",
        "AWSCognitoIdentityProviderService.AdminGetUser",
    );

    /// A request signed the way botocore signs it (its headers, its order).
    fn signed(secret: &str, at: SystemTime, body: &[u8]) -> Parts {
        signed_as(secret, at, body, "us-east-1", Some(TARGET))
    }

    /// A request signed in `region`, with `target` among the signed headers or else sent
    /// as `x-amz-target: ...AdminDeleteUser` outside the signature.
    fn signed_as(
        secret: &str,
        at: SystemTime,
        body: &[u8],
        region: &str,
        target: Option<(&str, &str)>,
    ) -> Parts {
        let amz_date = basic(at);
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.1"),
            ("host", "127.0.0.1:3000"),
            ("x-amz-date", amz_date.as_str()),
        ];
        headers.extend(target);
        let identity = Identity::from(Credentials::new("AKIDEXAMPLE", secret, None, None, "t"));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(SERVICE)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let request = SignableRequest::new(
            "POST",
            "http://127.0.0.1:3000/",
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params.into()).unwrap().into_parts();
        let mut builder = http::Request::builder().method("POST").uri("/");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if target.is_none() {
            builder = builder.header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.AdminDeleteUser",
            );
        }
        let mut req = builder.body(()).unwrap();
        instructions.apply_to_request_http1x(&mut req);
        req.into_parts().0
    }

    fn verdict(parts: &Parts, body: &[u8], now: SystemTime) -> String {
        match verify(parts, body, &keys(), now) {
            Ok(SignedRegion(region)) => format!("ok in {region}"),
            Err(e) => e.type_name().into(),
        }
    }

    #[test]
    fn a_valid_signature_passes_and_any_change_fails() {
        let now = SystemTime::now();
        let parts = signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", now, BODY);
        assert_eq!(verdict(&parts, BODY, now), "ok in us-east-1");
        assert_eq!(
            verdict(&parts, br#"{"UserPoolId":"us-east-1_other"}"#, now),
            "InvalidSignatureException"
        );
        let mut retargeted = parts.clone();
        retargeted.headers.insert(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.AdminDeleteUser"
                .parse()
                .unwrap(),
        );
        assert_eq!(verdict(&retargeted, BODY, now), "InvalidSignatureException");
        let wrong = signed("not-the-secret", now, BODY);
        assert_eq!(verdict(&wrong, BODY, now), "InvalidSignatureException");
    }

    #[test]
    fn a_signature_must_cover_the_target_and_name_an_aws_region() {
        let (secret, now) = (
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            SystemTime::now(),
        );
        // Valid as a signature of what it covers, replayed with another target (issue 19).
        let replayed = signed_as(secret, now, BODY, "us-east-1", None);
        assert_eq!(verdict(&replayed, BODY, now), "InvalidSignatureException");
        for region in [
            "zz-evil-9",
            "us-east",
            "us",
            "evil",
            "us-east-1x",
            "US-EAST-1",
            "",
        ] {
            let parts = signed_as(secret, now, BODY, region, Some(TARGET));
            assert_eq!(
                verdict(&parts, BODY, now),
                "InvalidSignatureException",
                "{region}"
            );
        }
        for region in ["eu-west-3", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"] {
            let parts = signed_as(secret, now, BODY, region, Some(TARGET));
            assert_eq!(
                verdict(&parts, BODY, now),
                format!("ok in {region}"),
                "{region}"
            );
        }
    }

    #[test]
    fn missing_unknown_stale_and_malformed() {
        let now = SystemTime::now();
        let mut parts = signed("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", now, BODY);
        let stale = now + Duration::from_secs(16 * 60);
        assert_eq!(verdict(&parts, BODY, stale), "InvalidSignatureException");
        let early = now - Duration::from_secs(16 * 60);
        assert_eq!(verdict(&parts, BODY, early), "InvalidSignatureException");
        assert_eq!(
            verdict(&parts, BODY, now + Duration::from_secs(14 * 60)),
            "ok in us-east-1"
        );
        let header = parts.headers[http::header::AUTHORIZATION]
            .to_str()
            .unwrap()
            .replace("AKIDEXAMPLE", "AKIDUNKNOWN");
        parts
            .headers
            .insert(http::header::AUTHORIZATION, header.parse().unwrap());
        assert_eq!(verdict(&parts, BODY, now), "UnrecognizedClientException");
        parts
            .headers
            .insert(http::header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(verdict(&parts, BODY, now), "IncompleteSignatureException");
        parts.headers.remove(http::header::AUTHORIZATION);
        assert_eq!(
            verdict(&parts, BODY, now),
            "MissingAuthenticationTokenException"
        );
    }

    #[test]
    fn admin_actions_need_iam_and_public_ones_do_not() {
        for action in ["AdminAddUserToGroup", "ListUsers", "CreateUserPool", "Nope"] {
            assert!(needs_iam(action), "{action}");
        }
        for action in ["SignUp", "InitiateAuth", "ForgotPassword", "GetUser"] {
            assert!(!needs_iam(action), "{action}");
        }
    }
}
