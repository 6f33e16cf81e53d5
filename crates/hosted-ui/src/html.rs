//! The hosted UI's pages: plain server-rendered HTML forms that work without JavaScript.
//! Field names are Cognito's (`username`, `password`, `code`, `new_password`), so scripts and
//! browser automation written against the real hosted UI find them.

use maud::{DOCTYPE, Markup, html};

use crate::csrf;

/// What every form page needs: where it posts, its CSRF token, and a message to show.
pub struct Form<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

/// Links to the other pages of the same authorization request (`?<query>` appended).
pub struct Links<'a> {
    pub query: &'a str,
}

impl Links<'_> {
    fn to(&self, path: &str) -> String {
        format!("{path}?{}", self.query)
    }
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · taskapi" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The pages' only style, inline; the content security policy admits it by its hash.
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}\
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px #0002}label{display:block;margin-top:1rem;font-weight:600}\
input{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem}\
button{margin-top:1.5rem;width:100%;padding:.6rem;background:#1f6feb;color:#fff;border:0;\
border-radius:4px;font-size:1rem}.error{color:#b00020}.notice{color:#0a6b2d}\
nav{margin-top:1rem;display:flex;justify-content:space-between}";

/// A form with its CSRF field and messages around `fields`.
fn form(title: &str, form: &Form<'_>, fields: Markup, button: &str, after: Markup) -> Markup {
    layout(
        title,
        html! {
            @if let Some(error) = form.error { p.error role="alert" { (error) } }
            @if let Some(notice) = form.notice { p.notice role="status" { (notice) } }
            form method="post" action=(form.action) {
                input type="hidden" name=(csrf::FIELD) value=(form.csrf);
                (fields)
                button type="submit" { (button) }
            }
            (after)
        },
    )
}

fn email_field(value: &str, readonly: bool) -> Markup {
    html! {
        label for="username" { "Email" }
        input #username type="email" name="username" value=(value) required
            autocomplete="username" readonly[readonly];
    }
}

/// A password input; `autocomplete` tells password managers whether to fill in a saved
/// password (`current-password`) or offer a new one (`new-password`).
fn password_field(name: &str, label: &str, autocomplete: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        input id=(name) type="password" name=(name) required autocomplete=(autocomplete);
    }
}

/// The way back to signing in from the confirmation and password-reset pages.
fn back_to_sign_in(links: &Links<'_>) -> Markup {
    html! { nav { a href=(links.to("/login")) { "Back to sign in" } } }
}

/// The e-mail and password form, for signing in and for signing up; its button says what
/// its title says.
fn credentials(
    title: &str,
    f: &Form<'_>,
    username: &str,
    autocomplete: &str,
    after: Markup,
) -> Markup {
    let fields = html! {
        (email_field(username, false))
        (password_field("password", "Password", autocomplete))
    };
    form(title, f, fields, title, after)
}

pub fn login(f: &Form<'_>, links: &Links<'_>, username: &str) -> Markup {
    credentials(
        "Sign in",
        f,
        username,
        "current-password",
        html! {
            nav {
                a href=(links.to("/forgotPassword")) { "Forgot your password?" }
                a href=(links.to("/signup")) { "Need an account? Sign up" }
            }
        },
    )
}

/// A one-time code: e-mailed, or from an authenticator app.
fn code_field(label: &str) -> Markup {
    html! {
        label for="code" { (label) }
        input #code type="text" name="code" required inputmode="numeric"
            autocomplete="one-time-code";
    }
}

/// Who is answering which challenge (from the sign-in that opened it).
fn challenge_fields(username: &str, session: &str) -> Markup {
    html! {
        (email_field(username, true))
        input type="hidden" name="session" value=(session);
    }
}

/// The new-password form for a user an administrator created with a temporary password.
pub fn new_password(f: &Form<'_>, username: &str, session: &str) -> Markup {
    form(
        "Change password",
        f,
        html! {
            (challenge_fields(username, session))
            (password_field("new_password", "New password", "new-password"))
        },
        "Sign in",
        html! {},
    )
}

/// The second factor: the current code of the user's authenticator app.
pub fn mfa(f: &Form<'_>, username: &str, session: &str) -> Markup {
    form(
        "Multi-factor authentication",
        f,
        html! {
            (challenge_fields(username, session))
            (code_field("Code"))
        },
        "Sign in",
        html! {},
    )
}

pub fn signup(f: &Form<'_>, links: &Links<'_>, username: &str) -> Markup {
    credentials(
        "Sign up",
        f,
        username,
        "new-password",
        html! { nav { a href=(links.to("/login")) { "Already have an account? Sign in" } } },
    )
}

pub fn confirm_user(f: &Form<'_>, links: &Links<'_>, username: &str) -> Markup {
    form(
        "Confirm your account",
        f,
        html! {
            (email_field(username, false))
            (code_field("Confirmation code"))
        },
        "Confirm",
        back_to_sign_in(links),
    )
}

pub fn forgot_password(f: &Form<'_>, links: &Links<'_>, username: &str) -> Markup {
    form(
        "Forgot your password?",
        f,
        html! {
            p { "We will send a code to your e-mail address to reset your password." }
            (email_field(username, false))
        },
        "Reset password",
        back_to_sign_in(links),
    )
}

pub fn confirm_forgot_password(f: &Form<'_>, links: &Links<'_>, username: &str) -> Markup {
    form(
        "Reset your password",
        f,
        html! {
            (email_field(username, false))
            (code_field("Confirmation code"))
            (password_field("new_password", "New password", "new-password"))
        },
        "Reset password",
        back_to_sign_in(links),
    )
}

/// A page that explains why the request cannot go on; it never redirects anywhere.
pub fn error(title: &str, message: &str) -> Markup {
    layout(title, html! { p.error role="alert" { (message) } })
}

/// Shown after signing out when no sign-out URL was given.
pub fn signed_out() -> Markup {
    layout(
        "Signed out",
        html! { p.notice { "You have been signed out." } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = login(
            &Form {
                action: "/login?a=1&b=2",
                csrf: "t",
                error: Some("<script>"),
                notice: None,
            },
            &Links { query: "a=1" },
            "\"><x>",
        )
        .into_string();
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<x>"));
        assert!(page.contains("action=\"/login?a=1&amp;b=2\""));
    }
}
