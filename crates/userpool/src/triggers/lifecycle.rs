//! The triggers around an account's life: sign-up, confirmation, sign-in, the messages it
//! is sent and the tokens it gets. Each returns what its function's answer changes; the
//! caller applies it where the trigger fires.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::claims::{self, TokenChanges, TokenSource};
use super::lambda_config::token_event_version;
use super::{
    ClientData, Event, Trigger, flag, given_attributes, unrecognizable, user_attributes,
    with_metadata,
};
use crate::UserPools;
use crate::error::PoolError;
use crate::model::{Client, CodePurpose, Pool, User};

/// What a `PreSignUp` answer asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SignUpVerdict {
    /// `autoConfirmUser`: the user is confirmed at once, and no code is sent.
    pub confirm: bool,
    /// `autoVerifyEmail`: the e-mail address counts as verified.
    pub verify_email: bool,
}

/// A message a `CustomMessage` function wrote, with the code already in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomText {
    pub subject: Option<String>,
    pub message: Option<String>,
}

/// Where a code is sent from: the `CustomMessage_*` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSource {
    SignUp,
    ResendCode,
    ForgotPassword,
    VerifyUserAttribute,
    AdminCreateUser,
}

impl MessageSource {
    fn trigger_source(self) -> &'static str {
        match self {
            Self::SignUp => "CustomMessage_SignUp",
            Self::ResendCode => "CustomMessage_ResendCode",
            Self::ForgotPassword => "CustomMessage_ForgotPassword",
            Self::VerifyUserAttribute => "CustomMessage_VerifyUserAttribute",
            Self::AdminCreateUser => "CustomMessage_AdminCreateUser",
        }
    }

    /// The source of a code sent again on request (not the first sign-up code).
    pub fn of_resent(purpose: CodePurpose) -> Self {
        match purpose {
            CodePurpose::SignUp => Self::ResendCode,
            CodePurpose::ForgotPassword => Self::ForgotPassword,
            CodePurpose::VerifyEmail => Self::VerifyUserAttribute,
        }
    }
}

/// The placeholders Cognito gives a `CustomMessage` function, replaced in its answer.
const CODE_PARAMETER: &str = "{####}";
const USERNAME_PARAMETER: &str = "{username}";

impl UserPools {
    /// `PreSignUp_SignUp`: the function may refuse the sign-up (nothing is stored then),
    /// confirm the user, or verify the e-mail address.
    pub fn pre_sign_up(
        &self,
        client_id: Option<&str>,
        pool: &Pool,
        username: &str,
        attributes: &BTreeMap<String, String>,
        source: &'static str,
        data: &ClientData,
    ) -> Result<SignUpVerdict, PoolError> {
        let request = with_metadata(
            json!({
                "userAttributes": given_attributes(attributes),
                "validationData": data.validation,
            }),
            data.metadata.as_ref(),
        );
        let Some(response) = self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::PreSignUp,
                source,
                user_name: username,
                client_id,
                request,
            },
        )?
        else {
            return Ok(SignUpVerdict::default());
        };
        let verdict = SignUpVerdict {
            confirm: flag(&response, "autoConfirmUser"),
            verify_email: flag(&response, "autoVerifyEmail"),
        };
        if verdict.verify_email && !attributes.contains_key("email") {
            return Err(PoolError::InvalidParameter(
                "Email is required to autoVerifyEmail".into(),
            ));
        }
        Ok(verdict)
    }

    /// `PostConfirmation_ConfirmSignUp` or `_ConfirmForgotPassword`, once the change is
    /// stored. Its failure is the caller's answer; the confirmation stands, as in Cognito.
    pub fn post_confirmation(
        &self,
        client_id: Option<&str>,
        pool: &Pool,
        user: &User,
        source: &'static str,
    ) -> Result<(), PoolError> {
        self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::PostConfirmation,
                source,
                user_name: &user.username,
                client_id,
                request: json!({ "userAttributes": user_attributes(user) }),
            },
        )?;
        Ok(())
    }

    /// `PreAuthentication_Authentication`, before a known user's secret is checked: the
    /// function may refuse the sign-in. `validation` is the sign-in's `ClientMetadata`.
    pub fn pre_authentication(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
        validation: Option<&Map<String, Value>>,
    ) -> Result<(), PoolError> {
        self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::PreAuthentication,
                source: "PreAuthentication_Authentication",
                user_name: &user.username,
                client_id: Some(&client.id),
                request: json!({
                    "userAttributes": user_attributes(user),
                    "validationData": validation.cloned().unwrap_or_default(),
                    "userNotFound": false,
                }),
            },
        )?;
        Ok(())
    }

    /// `PostAuthentication_Authentication`, once every factor is proven and before any
    /// token is issued: its failure ends the sign-in.
    pub fn post_authentication(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<(), PoolError> {
        self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::PostAuthentication,
                source: "PostAuthentication_Authentication",
                user_name: &user.username,
                client_id: Some(&client.id),
                request: json!({
                    "userAttributes": user_attributes(user),
                    "newDeviceUsed": false,
                }),
            },
        )?;
        Ok(())
    }

    /// `PreTokenGeneration` (`TokenGeneration_*`): what the function changes in the tokens
    /// about to be minted (nothing without a function).
    pub fn token_changes(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
        groups: &[String],
        scopes: &[String],
        source: TokenSource,
    ) -> Result<TokenChanges, PoolError> {
        let version = token_event_version(&pool.config);
        let Some(response) = self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::PreTokenGeneration,
                source: source.trigger_source(),
                user_name: &user.username,
                client_id: Some(&client.id),
                request: claims::request(version, user_attributes(user), groups, scopes),
            },
        )?
        else {
            return Ok(TokenChanges::default());
        };
        claims::parse(version, &response)
    }

    /// `CustomMessage_*`: the subject and text the function writes for a code (or a
    /// temporary password), with Cognito's placeholders filled in.
    pub fn custom_text(
        &self,
        client_id: Option<&str>,
        pool: &Pool,
        user: &User,
        code: &str,
        source: MessageSource,
        metadata: Option<&Map<String, Value>>,
    ) -> Result<CustomText, PoolError> {
        let Some(response) = self.invoke_trigger(
            pool,
            Event {
                trigger: Trigger::CustomMessage,
                source: source.trigger_source(),
                user_name: &user.username,
                client_id,
                request: with_metadata(
                    json!({
                        "userAttributes": user_attributes(user),
                        "codeParameter": CODE_PARAMETER,
                        "usernameParameter": USERNAME_PARAMETER,
                        "linkParameter": "{##Click Here##}",
                    }),
                    metadata,
                ),
            },
        )?
        else {
            return Ok(CustomText::default());
        };
        let text = |name: &str| -> Result<Option<String>, PoolError> {
            match &response[name] {
                Value::Null => Ok(None),
                Value::String(text) => Ok(Some(
                    text.replace(CODE_PARAMETER, code)
                        .replace(USERNAME_PARAMETER, &user.username),
                )),
                _ => Err(unrecognizable()),
            }
        };
        Ok(CustomText {
            subject: text("emailSubject")?,
            message: text("emailMessage")?,
        })
    }
}
