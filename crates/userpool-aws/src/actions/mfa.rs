//! TOTP multi-factor authentication: the pool's MFA setting, a user's authenticator app
//! (associate, verify, prefer), and checking a code (each one accepted once).

use serde::{Deserialize, Serialize};

use super::auth::Bearer;
use super::shapes::Empty;
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{MfaConfiguration, Pool, Totp, User};
use taskapi_userpool::signin::{MFA_SETUP, MFA_SETUP_VERIFIED};
use taskapi_userpool::totp;

#[derive(Deserialize, Serialize, Default, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SoftwareTokenMfaConfig {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SetUserPoolMfaConfig {
    user_pool_id: String,
    software_token_mfa_configuration: Option<SoftwareTokenMfaConfig>,
    sms_mfa_configuration: Option<serde_json::Value>,
    email_mfa_configuration: Option<serde_json::Value>,
    mfa_configuration: Option<MfaConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PoolRef {
    user_pool_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MfaConfigResponse {
    software_token_mfa_configuration: SoftwareTokenMfaConfig,
    mfa_configuration: MfaConfiguration,
}

/// AssociateSoftwareToken and VerifySoftwareToken: signed in (`AccessToken`) or in the
/// middle of a sign-in that must set MFA up (`Session`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SoftwareTokenRequest {
    access_token: Option<String>,
    session: Option<String>,
    user_code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AssociateResponse {
    secret_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VerifyResponse {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MfaSettings {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SetUserMfaPreference {
    access_token: Option<String>,
    user_pool_id: Option<String>,
    username: Option<String>,
    software_token_mfa_settings: Option<MfaSettings>,
    #[serde(rename = "SMSMfaSettings")]
    sms_mfa_settings: Option<MfaSettings>,
    email_mfa_settings: Option<MfaSettings>,
}

impl AwsDoor {
    pub(super) fn set_user_pool_mfa_config(
        &self,
        req: SetUserPoolMfaConfig,
    ) -> Result<MfaConfigResponse, PoolError> {
        let mut pool = self.pool(&req.user_pool_id)?;
        if req.sms_mfa_configuration.is_some() || req.email_mfa_configuration.is_some() {
            return Err(PoolError::InvalidParameter(
                "The local user pool supports only software token (TOTP) MFA; \
                 SmsMfaConfiguration and EmailMfaConfiguration are not supported"
                    .into(),
            ));
        }
        if let Some(config) = req.software_token_mfa_configuration {
            pool.config.software_token_mfa = config.enabled;
        }
        if let Some(mfa) = req.mfa_configuration {
            pool.config.mfa_configuration = mfa;
        }
        if pool.config.mfa_configuration != MfaConfiguration::Off && !pool.config.software_token_mfa
        {
            return Err(PoolError::InvalidParameter(
                "At least one MFA method must be enabled when MfaConfiguration is ON or OPTIONAL"
                    .into(),
            ));
        }
        pool.modified = self.now();
        self.store().update_pool(&pool)?;
        Ok(mfa_config(&pool))
    }

    pub(super) fn get_user_pool_mfa_config(
        &self,
        req: PoolRef,
    ) -> Result<MfaConfigResponse, PoolError> {
        Ok(mfa_config(&self.pool(&req.user_pool_id)?))
    }

    pub(super) fn associate_software_token(
        &self,
        req: SoftwareTokenRequest,
    ) -> Result<AssociateResponse, PoolError> {
        let (pool, user, _) = self.token_owner(&req)?;
        if !pool.config.software_token_mfa && pool.config.mfa_configuration == MfaConfiguration::Off
        {
            return Err(PoolError::SoftwareTokenMfaNotFound);
        }
        let secret = totp::new_secret();
        let state = Totp {
            pending: Some(secret.clone()),
            ..user.totp.clone()
        };
        self.store().set_totp(&pool.id, &user.username, &state)?;
        Ok(AssociateResponse {
            secret_code: secret,
            session: req.session,
        })
    }

    pub(super) fn verify_software_token(
        &self,
        req: SoftwareTokenRequest,
    ) -> Result<VerifyResponse, PoolError> {
        let code = req.user_code.as_deref().ok_or_else(|| {
            PoolError::InvalidParameter("Missing required parameter UserCode".into())
        })?;
        let (pool, user, sign_in_client) = self.token_owner(&req)?;
        let pending = user
            .totp
            .pending
            .clone()
            .ok_or(PoolError::EnableSoftwareTokenMfa)?;
        let step = totp::matching_step(&pending, code, self.now())
            .ok_or(PoolError::EnableSoftwareTokenMfa)?;
        // A sign-in that had to set MFA up turns it on; a signed-in user turns it on with
        // SetUserMFAPreference, as in Cognito.
        let during_sign_in = sign_in_client.is_some();
        let state = Totp {
            secret: Some(pending),
            pending: None,
            enabled: user.totp.enabled || during_sign_in,
            last_step: step,
        };
        self.store().set_totp(&pool.id, &user.username, &state)?;
        let session = match (sign_in_client, req.session.as_deref()) {
            (Some(client_id), Some(session)) => {
                self.store().take_challenge(session)?;
                let client = self
                    .store()
                    .client(&client_id)?
                    .ok_or_else(|| PoolError::client_not_found(&client_id))?;
                Some(self.start_challenge(MFA_SETUP_VERIFIED, &client, &pool, &user)?)
            }
            _ => None,
        };
        Ok(VerifyResponse {
            status: "SUCCESS",
            session,
        })
    }

    pub(super) fn set_user_mfa_preference(
        &self,
        req: SetUserMfaPreference,
    ) -> Result<Empty, PoolError> {
        let user = match (&req.access_token, &req.user_pool_id, &req.username) {
            (Some(token), _, _) => self.bearer(token)?.user,
            (None, Some(pool_id), Some(username)) => self.admin_user(pool_id, username)?.1,
            _ => {
                return Err(PoolError::InvalidParameter(
                    "Missing required parameter AccessToken".into(),
                ));
            }
        };
        let other_enabled = [&req.sms_mfa_settings, &req.email_mfa_settings]
            .iter()
            .any(|s| s.as_ref().and_then(|s| s.enabled).unwrap_or(false));
        if other_enabled {
            return Err(PoolError::InvalidParameter(
                "The local user pool supports only software token (TOTP) MFA".into(),
            ));
        }
        let Some(settings) = req.software_token_mfa_settings else {
            return Ok(Empty {});
        };
        let enabled = settings
            .enabled
            .unwrap_or(user.totp.enabled || settings.preferred_mfa == Some(true));
        if enabled && user.totp.secret.is_none() {
            return Err(PoolError::InvalidParameter(
                "User has not verified software token mfa".into(),
            ));
        }
        let state = Totp {
            enabled,
            ..user.totp.clone()
        };
        self.store()
            .set_totp(&user.pool_id, &user.username, &state)?;
        Ok(Empty {})
    }

    /// The pool and user a software-token request is about and, for a `Session` (a sign-in
    /// that must set MFA up), the app client of that sign-in.
    fn token_owner(
        &self,
        req: &SoftwareTokenRequest,
    ) -> Result<(Pool, User, Option<String>), PoolError> {
        if let Some(token) = &req.access_token {
            let Bearer { pool, user } = self.bearer(token)?;
            return Ok((pool, user, None));
        }
        let session = req.session.as_deref().ok_or_else(|| {
            PoolError::InvalidParameter("Missing required parameter AccessToken or Session".into())
        })?;
        let expired =
            || PoolError::NotAuthorized("Invalid session for the user, session is expired.".into());
        let challenge = self
            .store()
            .peek_challenge(session)?
            .filter(|c| c.kind == MFA_SETUP && c.expires_at > self.now())
            .ok_or_else(expired)?;
        let pool = self.pool(&challenge.pool_id)?;
        let user = self
            .store()
            .find_user(&pool.id, &challenge.username)?
            .filter(|u| u.username == challenge.username)
            .ok_or_else(expired)?;
        Ok((pool, user, Some(challenge.client_id)))
    }
}

fn mfa_config(pool: &Pool) -> MfaConfigResponse {
    MfaConfigResponse {
        software_token_mfa_configuration: SoftwareTokenMfaConfig {
            enabled: pool.config.software_token_mfa,
        },
        mfa_configuration: pool.config.mfa_configuration,
    }
}
