//! Self-service account actions: sign-up and its confirmation, and password recovery.

use serde::{Deserialize, Serialize};

use super::shapes::Empty;
use taskapi_userpool::codes::{CodeDeliveryDetails, Delivery};

use super::{Attribute, Metadata, attributes, check_secret_hash, client_data};
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{Client, CodePurpose, Pool, UserStatus};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SignUp {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    password: Option<String>,
    user_attributes: Option<Vec<Attribute>>,
    validation_data: Option<Vec<Attribute>>,
    client_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmSignUp {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
}

/// ResendConfirmationCode and ForgotPassword take the same members.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmForgotPassword {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SignUpResponse {
    user_confirmed: bool,
    user_sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_delivery_details: Option<CodeDeliveryDetails>,
}

impl AwsDoor {
    pub(super) fn sign_up(&self, req: SignUp) -> Result<SignUpResponse, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        let attrs = attributes(&pool, req.user_attributes)?;
        let data = client_data(req.client_metadata, req.validation_data);
        let (user, code_delivery_details) =
            self.register(&client, &pool, &req.username, req.password, attrs, &data)?;
        Ok(SignUpResponse {
            user_confirmed: user.status == UserStatus::Confirmed,
            user_sub: user.sub().to_owned(),
            code_delivery_details,
        })
    }

    pub(super) fn confirm_sign_up(&self, req: ConfirmSignUp) -> Result<Empty, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.confirm_registration(&client, &pool, &req.username, &req.confirmation_code)?;
        Ok(Empty {})
    }

    pub(super) fn resend_confirmation_code(&self, req: UserRequest) -> Result<Delivery, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.send_user_code(&client, &pool, &req.username, CodePurpose::SignUp)
    }

    pub(super) fn forgot_password(&self, req: UserRequest) -> Result<Delivery, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.send_user_code(&client, &pool, &req.username, CodePurpose::ForgotPassword)
    }

    /// The app client and its pool for a public action about `username`, once `SECRET_HASH`
    /// proves the caller holds the client's secret (where it has one).
    fn signed_client(
        &self,
        client_id: &str,
        username: &str,
        secret_hash: Option<&str>,
    ) -> Result<(Client, Pool), PoolError> {
        let (client, pool) = self.client(client_id)?;
        check_secret_hash(&client, username, secret_hash)?;
        Ok((client, pool))
    }

    pub(super) fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPassword,
    ) -> Result<Empty, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.reset_password(
            &client,
            &pool,
            &req.username,
            &req.confirmation_code,
            &req.password,
        )?;
        Ok(Empty {})
    }
}
