//! A pool's `LambdaConfig`: checked as Cognito checks it when a pool is created or updated,
//! and read to find the function of each trigger.

use serde_json::Value;

use super::Trigger;
use crate::error::PoolError;
use crate::model::PoolConfig;

/// Cognito's pattern for every function ARN in `LambdaConfig`, quoted in its error.
const ARN_PATTERN: &str = "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?";

/// The members that name one function each.
const FUNCTION_MEMBERS: [&str; 10] = [
    "PreSignUp",
    "CustomMessage",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "PreTokenGeneration",
    "UserMigration",
];

/// The members that are `{LambdaArn, LambdaVersion}`, with the versions each allows.
const VERSIONED_MEMBERS: [(&str, &[&str]); 3] = [
    ("PreTokenGenerationConfig", &["V1_0", "V2_0", "V3_0"]),
    ("CustomSMSSender", &["V1_0"]),
    ("CustomEmailSender", &["V1_0"]),
];

/// Which event version a pre token generation function gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEventVersion {
    /// `V1_0`: ID-token claims and groups.
    V1,
    /// `V2_0` and `V3_0`: both tokens, and the access token's scopes.
    V2,
}

/// Checks a `LambdaConfig` as CreateUserPool and UpdateUserPool do, with Cognito's
/// validation messages.
pub fn validate(config: &Value) -> Result<(), PoolError> {
    let Some(members) = config.as_object() else {
        return Err(type_error("lambdaConfig"));
    };
    for name in FUNCTION_MEMBERS {
        if let Some(value) = members.get(name) {
            check_arn(value, &field(&[name]))?;
        }
    }
    for (name, versions) in VERSIONED_MEMBERS {
        let Some(value) = members.get(name) else {
            continue;
        };
        let Some(inner) = value.as_object() else {
            return Err(type_error(&field(&[name])));
        };
        let arn = inner
            .get("LambdaArn")
            .ok_or_else(|| null(&[name, "LambdaArn"]))?;
        check_arn(arn, &field(&[name, "LambdaArn"]))?;
        let version = inner
            .get("LambdaVersion")
            .ok_or_else(|| null(&[name, "LambdaVersion"]))?;
        let version = version
            .as_str()
            .ok_or_else(|| type_error(&field(&[name, "LambdaVersion"])))?;
        if !versions.contains(&version) {
            return Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '{version}' at '{}' failed to satisfy \
                 constraint: Member must satisfy enum value set: [{}]",
                field(&[name, "LambdaVersion"]),
                versions.join(", ")
            )));
        }
    }
    if let (Some(legacy), Some(arn)) = (
        members.get("PreTokenGeneration"),
        members
            .get("PreTokenGenerationConfig")
            .map(|c| &c["LambdaArn"]),
    ) && legacy != arn
    {
        return Err(PoolError::InvalidParameter(
            "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same".into(),
        ));
    }
    Ok(())
}

/// The function configured for a trigger, if any.
pub fn function_of(config: &PoolConfig, trigger: Trigger) -> Option<&str> {
    let members = config.echo.get("LambdaConfig")?;
    if trigger == Trigger::PreTokenGeneration
        && let Some(arn) = members["PreTokenGenerationConfig"]["LambdaArn"].as_str()
    {
        return Some(arn);
    }
    members.get(trigger.name())?.as_str()
}

/// The event version of the pool's pre token generation function: `V1_0` unless
/// `PreTokenGenerationConfig` says otherwise.
pub fn token_event_version(config: &PoolConfig) -> TokenEventVersion {
    let version = config
        .echo
        .get("LambdaConfig")
        .and_then(|c| c["PreTokenGenerationConfig"]["LambdaVersion"].as_str());
    match version {
        Some("V2_0" | "V3_0") => TokenEventVersion::V2,
        _ => TokenEventVersion::V1,
    }
}

/// The name the Invoke API is called with: a Lambda function ARN's name (without its
/// version or alias qualifier, which local endpoints do not serve), else what was given.
pub fn function_name(arn: &str) -> &str {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => arn,
    }
}

fn check_arn(value: &Value, at: &str) -> Result<(), PoolError> {
    let arn = value.as_str().ok_or_else(|| type_error(at))?;
    let length = arn.chars().count();
    if !(20..=2048).contains(&length) {
        return Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{arn}' at '{at}' failed to satisfy \
             constraint: Member must have length between 20 and 2048"
        )));
    }
    if is_arn(arn) {
        Ok(())
    } else {
        Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{arn}' at '{at}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: {ARN_PATTERN}"
        )))
    }
}

/// Whether `arn` matches [`ARN_PATTERN`]: `arn`, two named parts, an optional region, an
/// account number, a resource, and up to two more parts.
fn is_arn(arn: &str) -> bool {
    let word = |part: &str| {
        part.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=/,.@-".contains(c))
    };
    let parts: Vec<&str> = arn.split(':').collect();
    (6..=8).contains(&parts.len())
        && parts[0] == "arn"
        && parts.iter().all(|p| word(p))
        && [1, 2, 5]
            .iter()
            .chain(&[6, 7][..parts.len() - 6])
            .all(|&i| !parts[i].is_empty())
        && !parts[4].is_empty()
        && parts[4].chars().all(|c| c.is_ascii_digit())
}

/// A member's path as Cognito's validation messages write it: `lambdaConfig.preSignUp`.
fn field(path: &[&str]) -> String {
    let camel = |name: &str| {
        let mut chars = name.chars();
        chars.next().map_or_else(String::new, |first| {
            // Leading capitals lower-cased together: `KMSKeyID` → `kMSKeyID` in Cognito,
            // but every member named here starts with one capital.
            first.to_lowercase().chain(chars).collect()
        })
    };
    std::iter::once("lambdaConfig".to_owned())
        .chain(path.iter().map(|p| camel(p)))
        .collect::<Vec<_>>()
        .join(".")
}

fn type_error(at: &str) -> PoolError {
    PoolError::InvalidParameter(format!(
        "1 validation error detected: Value at '{at}' has the wrong type"
    ))
}

fn null(path: &[&str]) -> PoolError {
    PoolError::InvalidParameter(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
         Member must not be null",
        field(path)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cognito-triggers";

    #[test]
    fn function_arns_are_checked_against_cognitos_pattern() {
        assert!(validate(&json!({ "PreSignUp": ARN })).is_ok());
        assert!(validate(&json!({ "PreSignUp": format!("{ARN}:live") })).is_ok());
        let refused = validate(&json!({ "PreSignUp": "cognito-triggers-function" }))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("at 'lambdaConfig.preSignUp'")
                && refused.contains("regular expression"),
            "{refused}"
        );
        for bad in [
            "arn:aws:lambda:us-east-1:12345678901x:function:f",
            "arn:aws::us-east-1:123456789012:function:f",
            "arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
            "arn:aws:lambda:us east-1:123456789012:function:f",
        ] {
            assert!(validate(&json!({ "UserMigration": bad })).is_err(), "{bad}");
        }
        let short = validate(&json!({ "PostConfirmation": "arn:a:b::1:c" })).unwrap_err();
        assert!(short.to_string().contains("length between 20 and 2048"));
    }

    #[test]
    fn lambda_versions_are_checked_per_member() {
        let config = |version: &str| json!({ "PreTokenGenerationConfig": { "LambdaArn": ARN, "LambdaVersion": version } });
        assert!(validate(&config("V2_0")).is_ok());
        let refused = validate(&config("V4_0")).unwrap_err().to_string();
        assert!(
            refused.contains("'lambdaConfig.preTokenGenerationConfig.lambdaVersion'")
                && refused.contains("[V1_0, V2_0, V3_0]"),
            "{refused}"
        );
        let sender = json!({ "CustomEmailSender": { "LambdaArn": ARN, "LambdaVersion": "V2_0" } });
        assert!(validate(&sender).is_err());
        let missing = json!({ "PreTokenGenerationConfig": { "LambdaArn": ARN } });
        assert!(
            validate(&missing)
                .unwrap_err()
                .to_string()
                .contains("must not be null")
        );
    }

    #[test]
    fn the_two_pre_token_members_must_agree() {
        let other = ARN.replace("cognito-triggers", "other");
        let config = json!({
            "PreTokenGeneration": other,
            "PreTokenGenerationConfig": { "LambdaArn": ARN, "LambdaVersion": "V1_0" }
        });
        assert!(validate(&config).is_err());
    }

    #[test]
    fn the_invoke_api_is_called_with_the_function_name() {
        assert_eq!(function_name(ARN), "cognito-triggers");
        assert_eq!(function_name(&format!("{ARN}:live")), "cognito-triggers");
        let other = "arn:aws:states:us-east-1:123456789012:thing:x";
        assert_eq!(function_name(other), other);
    }
}
