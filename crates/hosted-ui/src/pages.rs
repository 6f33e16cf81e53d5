//! The browser side: `/oauth2/authorize` and the sign-in, sign-up, confirmation and password
//! pages. Every page belongs to one authorization request, carried in its query string, and
//! ends — once someone has signed in — with a redirect back to the app.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use maud::Markup;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use taskapi_userpool::hosted_ui::{OAuthGrant, PasswordStep};
use taskapi_userpool::{Category, PoolError};

use crate::authorize::{self, Authorization, AuthorizeQuery, Refusal, ResponseType};
use crate::csrf::random_key;
use crate::error::{PageError, internal};
use crate::html::{self, Form, Links};
use crate::{AppState, CODE_TTL, HostedUi, PendingCode, SignedIn, cookies};

/// The hosted UI's form pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Login,
    /// The new-password form of a user an administrator created.
    NewPassword,
    /// The code of the user's authenticator app, when the pool asks for MFA.
    Mfa,
    Signup,
    ConfirmUser,
    ForgotPassword,
    ConfirmForgotPassword,
}

impl Step {
    pub(crate) const ALL: [Step; 7] = [
        Step::Login,
        Step::NewPassword,
        Step::Mfa,
        Step::Signup,
        Step::ConfirmUser,
        Step::ForgotPassword,
        Step::ConfirmForgotPassword,
    ];

    /// Cognito's path of the page.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Step::Login => "/login",
            Step::NewPassword => "/forceChangePassword",
            Step::Mfa => "/mfa",
            Step::Signup => "/signup",
            Step::ConfirmUser => "/confirmUser",
            Step::ForgotPassword => "/forgotPassword",
            Step::ConfirmForgotPassword => "/confirmForgotPassword",
        }
    }

    /// The quota category of the action the form stands for.
    fn category(self) -> Category {
        match self {
            Step::Login | Step::NewPassword | Step::Mfa => Category::UserAuthentication,
            Step::Signup | Step::ConfirmUser => Category::UserCreation,
            Step::ForgotPassword | Step::ConfirmForgotPassword => Category::UserAccountRecovery,
        }
    }

    /// `GET` shows the form, `POST` submits it.
    pub(crate) fn route(self) -> MethodRouter<AppState> {
        get(move |state, headers, raw| show(self, state, headers, raw)).post(
            move |state, connect, headers, raw, body| {
                submit(self, state, connect, headers, raw, body)
            },
        )
    }
}

/// The fields of every form, named as Cognito's hosted UI names them; each page uses some.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Fields {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
    /// The challenge the new-password or MFA form answers.
    #[serde(default)]
    session: String,
}

/// What a submitted form leads to.
enum Next {
    /// Another (or the same) form, with a notice.
    Show(Step, &'static str),
    /// Signed in as this internal username: back to the app.
    SignedIn(String),
}

/// `GET /oauth2/authorize`: straight back to the app with a code when a session for the
/// client's pool exists, otherwise to the sign-in page with the same request.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let auth = match request(&state, raw.as_deref()) {
        Ok(auth) => auth,
        Err(refusal) => return refusal.into_response(),
    };
    let prompt = auth.prompt.as_deref().unwrap_or_default();
    let signed_in = match prompt {
        "login" => None,
        _ => session(&state, &headers)
            .await
            .filter(|s| s.pool_id == auth.client.pool_id),
    };
    if let Some(who) = signed_in {
        return finish(&state.ui, &auth, &who).await;
    }
    if prompt == "none" {
        return authorize::redirect(
            &auth.redirect_uri,
            &[
                ("error", "login_required"),
                ("state", auth.state.as_deref().unwrap_or_default()),
            ],
            false,
        );
    }
    authorize::found(format!("/login?{}", auth.query))
}

async fn show(
    step: Step,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match request(&state, raw.as_deref()) {
        Ok(auth) => {
            let fields = Fields {
                username: auth.login_hint.clone().unwrap_or_default(),
                ..Fields::default()
            };
            form_page(&state, &headers, &auth, step, None, None, &fields)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// A submitted form: the same rules as the Cognito API, through the user pool's core.
async fn submit(
    step: Step,
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let caller = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    let (auth, mut fields) = match posted(&state, &headers, raw.as_deref(), &body) {
        Ok(parts) => parts,
        Err(refusal) => return refusal.into_response(),
    };
    fields.username = fields.username.trim().to_owned();
    match run(step, &state, &auth, &mut fields, caller).await {
        Ok(Next::SignedIn(username)) => sign_in(&state, &auth, username).await,
        Ok(Next::Show(next, notice)) => {
            form_page(&state, &headers, &auth, next, None, Some(notice), &fields)
        }
        Err(error) if internal(&error).is_some() => PageError::from(error).into_response(),
        Err(error) => {
            // A refused new password leaves its challenge open; anything else there, and any
            // failed MFA code (its challenge is spent), means signing in again.
            let policy = matches!(
                error,
                PoolError::InvalidPassword(_) | PoolError::InvalidParameter(_)
            );
            let again = match step {
                Step::NewPassword if policy => Step::NewPassword,
                Step::NewPassword | Step::Mfa => Step::Login,
                other => other,
            };
            let message = error.to_string();
            form_page(
                &state,
                &headers,
                &auth,
                again,
                Some(&message),
                None,
                &fields,
            )
        }
    }
}

/// Runs one step's form in the core.
async fn run(
    step: Step,
    state: &AppState,
    auth: &Authorization,
    fields: &mut Fields,
    caller: Option<IpAddr>,
) -> Result<Next, PoolError> {
    let client = auth.client.id.clone();
    let user = fields.username.clone();
    let ui = &state.ui;
    if let Some(caller) = caller {
        let (client, category) = (client.clone(), step.category());
        ui.core(move |pools| pools.fair_share(&client, category, caller))
            .await?;
    }
    match step {
        Step::Login => {
            let password = std::mem::take(&mut fields.password);
            let (c, u) = (client.clone(), user.clone());
            match ui
                .core(move |pools| pools.password_sign_in(&c, &u, &password))
                .await
            {
                Ok(next) => Ok(after_password(next, fields)),
                // As Cognito's hosted UI: a new code, and the confirmation form.
                Err(PoolError::UserNotConfirmed) => {
                    ui.core(move |pools| pools.resend_code(&client, &user, caller))
                        .await?;
                    Ok(Next::Show(
                        Step::ConfirmUser,
                        "Your account is not confirmed yet. We sent a new confirmation code \
                         to your e-mail address.",
                    ))
                }
                Err(error) => Err(error),
            }
        }
        Step::NewPassword => {
            let (session, password) = (fields.session.clone(), fields.new_password.clone());
            let next = ui
                .core(move |pools| pools.complete_new_password(&client, &session, &user, &password))
                .await?;
            Ok(after_password(next, fields))
        }
        Step::Mfa => {
            let (session, code) = (fields.session.clone(), fields.code.clone());
            let username = ui
                .core(move |pools| pools.answer_software_token(&client, &session, &user, &code))
                .await?;
            Ok(Next::SignedIn(username))
        }
        Step::Signup => {
            let password = std::mem::take(&mut fields.password);
            let confirmed = ui
                .core(move |pools| pools.self_sign_up(&client, &user, &password))
                .await?;
            Ok(if confirmed {
                Next::Show(Step::Login, "Your account is ready. Sign in.")
            } else {
                Next::Show(
                    Step::ConfirmUser,
                    "We sent a confirmation code to your e-mail address.",
                )
            })
        }
        Step::ConfirmUser => {
            let code = fields.code.clone();
            ui.core(move |pools| pools.confirm_self_sign_up(&client, &user, &code, caller))
                .await?;
            Ok(Next::Show(
                Step::Login,
                "Your account is confirmed. Sign in.",
            ))
        }
        Step::ForgotPassword => {
            ui.core(move |pools| pools.start_password_reset(&client, &user, caller))
                .await?;
            Ok(Next::Show(
                Step::ConfirmForgotPassword,
                "If the account exists, we sent a code to its e-mail address.",
            ))
        }
        Step::ConfirmForgotPassword => {
            let (code, password) = (fields.code.clone(), fields.new_password.clone());
            ui.core(move |pools| {
                pools.finish_password_reset(&client, &user, &code, &password, caller)
            })
            .await?;
            Ok(Next::Show(
                Step::Login,
                "Your password has been reset. Sign in with the new one.",
            ))
        }
    }
}

/// Where a proven password leads: signed in, or the form of the challenge still owed.
fn after_password(step: PasswordStep, fields: &mut Fields) -> Next {
    match step {
        PasswordStep::SignedIn { username } => Next::SignedIn(username),
        PasswordStep::NewPasswordRequired { session } => {
            fields.session = session;
            Next::Show(
                Step::NewPassword,
                "You signed in with a temporary password. Choose a new one to continue.",
            )
        }
        PasswordStep::SoftwareTokenMfa { session } => {
            fields.session = session;
            Next::Show(Step::Mfa, "Enter the code from your authenticator app.")
        }
    }
}

/// Parses and validates the authorization request a page belongs to.
fn request(state: &AppState, raw: Option<&str>) -> Result<Authorization, Refusal> {
    authorize::validate(&state.ui.pools, AuthorizeQuery::parse(raw)?)
}

/// A posted form of a page: its authorization request, its fields, and a CSRF check.
fn posted(
    state: &AppState,
    headers: &HeaderMap,
    raw: Option<&str>,
    body: &[u8],
) -> Result<(Authorization, Fields), Refusal> {
    let auth = request(state, raw)?;
    let fields: Fields = parse_form(headers, body)?;
    if !state.ui.csrf.verify(headers, fields.csrf.as_deref()) {
        return Err(Refusal::Page(PageError::Csrf));
    }
    Ok((auth, fields))
}

/// An `application/x-www-form-urlencoded` body.
pub(crate) fn parse_form<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, PageError> {
    if !is_form(headers) {
        return Err(PageError::BadRequest(
            "Forms must be sent as application/x-www-form-urlencoded.".into(),
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| PageError::BadRequest(format!("The form is malformed: {e}")))
}

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The live hosted-UI session of this browser, if any: one whose user is still enabled
/// and has not been signed out everywhere (or reset their password) since. A session that
/// ended is forgotten.
async fn session(state: &AppState, headers: &HeaderMap) -> Option<SignedIn> {
    let id = cookies::get(headers, cookies::SESSION)?;
    let who = state.ui.sessions.get(&id, state.ui.now())?;
    let (pool_id, username) = (who.pool_id.clone(), who.username.clone());
    let epoch = state
        .ui
        .core(move |pools| pools.session_epoch(&pool_id, &username))
        .await;
    if matches!(epoch, Ok(Some(epoch)) if epoch == who.epoch) {
        return Some(who);
    }
    state.ui.sessions.remove(&id);
    None
}

/// Starts a hosted-UI session for `username` and completes the authorization request.
async fn sign_in(state: &AppState, auth: &Authorization, username: String) -> Response {
    let now = state.ui.now();
    let (pool_id, user) = (auth.client.pool_id.clone(), username.clone());
    // A user just signed in exists; should they be deleted this instant, -1 matches no
    // generation and the session is simply never good.
    let epoch = state
        .ui
        .core(move |pools| pools.session_epoch(&pool_id, &user))
        .await
        .ok()
        .flatten()
        .unwrap_or(-1);
    let who = SignedIn {
        pool_id: auth.client.pool_id.clone(),
        username,
        auth_time: now,
        epoch,
    };
    let id = random_key();
    state.ui.sessions.insert(
        id.clone(),
        &who.account(),
        who.clone(),
        now,
        now + cookies::MAX_AGE_SECS,
    );
    let mut response = finish(&state.ui, auth, &who).await;
    append_cookie(
        &mut response,
        &cookies::set(cookies::SESSION, &id, state.listener.secure),
    );
    response
}

/// Back to the app: with a code, or with the tokens in the fragment for the implicit flow.
async fn finish(ui: &Arc<HostedUi>, auth: &Authorization, who: &SignedIn) -> Response {
    let state = auth.state.as_deref().unwrap_or_default();
    let now = ui.now();
    match auth.response_type {
        ResponseType::Code => {
            let code = random_key();
            ui.codes.insert(
                code.clone(),
                &who.account(),
                PendingCode {
                    client_id: auth.client.id.clone(),
                    redirect_uri: auth.redirect_uri.clone(),
                    challenge: auth.challenge.clone(),
                    scopes: auth.scopes.clone(),
                    nonce: auth.nonce.clone(),
                    username: who.username.clone(),
                    auth_time: who.auth_time,
                    epoch: who.epoch,
                },
                now,
                now + CODE_TTL,
            );
            authorize::redirect(
                &auth.redirect_uri,
                &[("code", &code), ("state", state)],
                false,
            )
        }
        ResponseType::Token => {
            let (client_id, username, scopes, nonce, auth_time, epoch) = (
                auth.client.id.clone(),
                who.username.clone(),
                auth.scopes.clone(),
                auth.nonce.clone(),
                who.auth_time,
                who.epoch,
            );
            let minted = ui
                .core(move |pools| {
                    pools.oauth_tokens(&OAuthGrant {
                        client_id: &client_id,
                        username: &username,
                        scopes: &scopes,
                        nonce: nonce.as_deref(),
                        auth_time,
                        epoch,
                        refresh: false,
                    })
                })
                .await;
            match minted {
                Ok(tokens) => {
                    let expires_in = tokens.expires_in.to_string();
                    authorize::redirect(
                        &auth.redirect_uri,
                        &[
                            ("id_token", tokens.id_token.as_deref().unwrap_or_default()),
                            ("access_token", &tokens.access_token),
                            ("token_type", "Bearer"),
                            ("expires_in", &expires_in),
                            ("state", state),
                        ],
                        true,
                    )
                }
                Err(e) if internal(&e).is_some() => PageError::from(e).into_response(),
                Err(e) => authorize::redirect(
                    &auth.redirect_uri,
                    &[
                        ("error", "access_denied"),
                        ("error_description", &e.to_string()),
                        ("state", state),
                    ],
                    true,
                ),
            }
        }
    }
}

/// A step's form for this request; 400 when it shows an error.
fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authorization,
    step: Step,
    error: Option<&str>,
    notice: Option<&str>,
    fields: &Fields,
) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let links = Links { query: &auth.query };
    let action = format!("{}?{}", step.path(), auth.query);
    let name = fields.username.as_str();
    render(
        state,
        headers,
        status,
        &action,
        error,
        notice,
        |f| match step {
            Step::Login => html::login(f, &links, name),
            Step::NewPassword => html::new_password(f, name, &fields.session),
            Step::Mfa => html::mfa(f, name, &fields.session),
            Step::Signup => html::signup(f, &links, name),
            Step::ConfirmUser => html::confirm_user(f, &links, name),
            Step::ForgotPassword => html::forgot_password(f, &links, name),
            Step::ConfirmForgotPassword => html::confirm_forgot_password(f, &links, name),
        },
    )
}

/// Renders a form page with a CSRF token, giving the browser a CSRF secret if it has none.
fn render(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    action: &str,
    error: Option<&str>,
    notice: Option<&str>,
    body: impl FnOnce(&Form<'_>) -> Markup,
) -> Response {
    let secret = state.ui.csrf.secret(headers);
    let token = state.ui.csrf.token(&secret.value);
    let markup = body(&Form {
        action,
        csrf: &token,
        error,
        notice,
    });
    let mut response = (status, markup).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if secret.is_new {
        append_cookie(
            &mut response,
            &cookies::set(cookies::CSRF, &secret.value, state.listener.secure),
        );
    }
    response
}

pub(crate) fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}
