//! The browser's session: the API's server-side session in an HttpOnly, SameSite=Strict cookie,
//! and a CSRF token derived from it that every form and htmx call must carry.

use super::{Nav, page};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, authenticate, session_token, token_hash, user_for_token};
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_domain::Role;
use jiesu_store::User;
use sha2::{Digest, Sha256};

/// A logged-in browser user.
pub struct WebUser {
    pub user: User,
    /// The token forms must echo (hidden `csrf` field or `X-CSRF-Token` header).
    pub csrf: String,
    /// Hash of the session token (to revoke it at logout).
    token_hash: String,
}

/// The CSRF token of a session: a hash of the secret session token, so a page from another
/// site can neither read nor compute it, and nothing extra is stored.
pub fn csrf_token(session_token: &str) -> String {
    let d = Sha256::digest(format!("jiesu-csrf\0{session_token}").as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl WebUser {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Constant-time comparison of the echoed token.
    pub fn csrf_ok(&self, given: Option<&str>, headers: &HeaderMap) -> bool {
        let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        let given = given.or(header).unwrap_or("");
        given.len() == self.csrf.len()
            && given
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Refuses with a page unless the user's role has `cap` (`jiesu_app::policy`).
    // The refusal is the page itself, returned at once by the handler; boxing it buys nothing.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, cap: Capability) -> Result<(), Response> {
        if jiesu_app::require(&self.user, cap).is_ok() {
            Ok(())
        } else {
            Err(super::error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                &format!("{}不能使用此页面。", self.user.role.label_zh()),
            ))
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let to_login = |parts: &Parts| {
            if parts.headers.contains_key("hx-request") {
                // htmx follows this header with a full page load.
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                r.headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/login"));
                return r;
            }
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", url_encode(next))).into_response()
        };
        let Some(token) = session_token(parts) else {
            return Err(to_login(parts));
        };
        match user_for_token(app, &token).await {
            Ok(user) => Ok(WebUser {
                user,
                csrf: csrf_token(&token),
                token_hash: token_hash(&token),
            }),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(to_login(parts)),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Percent-encodes everything but unreserved characters (for `next=` and links).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a role starts.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Operator => "/intake",
        Role::Dispatcher => "/board",
        Role::Handler => "/queue",
        Role::Callback => "/callback",
        Role::Supervisor | Role::Admin => "/dashboard",
        Role::System | Role::Citizen => "/portal",
    }
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_string)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    username: String,
    next: String,
    error: String,
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(axum::extract::Query(q): axum::extract::Query<NextQuery>) -> Response {
    page(&LoginPage {
        nav: Nav::anonymous("login"),
        username: String::new(),
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        error: String::new(),
    })
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(State(app): State<AppState>, form: axum::Form<LoginForm>) -> Response {
    let f = form.0;
    let again = |status: StatusCode, error: String| {
        let mut r = page(&LoginPage {
            nav: Nav::anonymous("login"),
            username: f.username.clone(),
            next: safe_next(Some(&f.next)).unwrap_or_default(),
            error,
        });
        *r.status_mut() = status;
        r
    };
    if f.username.trim().is_empty() || f.password.is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请输入用户名和密码。".into(),
        );
    }
    match authenticate(&app, &f.username, f.password.clone()).await {
        Ok((token, _expires, user)) => {
            let to = safe_next(Some(&f.next)).unwrap_or_else(|| home_of(user.role).into());
            let max_age = app.session_ttl.as_secs().max(0);
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
            );
            let mut r = Redirect::to(&to).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => again(
            StatusCode::TOO_MANY_REQUESTS,
            "登录失败次数过多，请15分钟后再试。".into(),
        ),
        Err(e) if e.status.is_client_error() => {
            again(StatusCode::UNAUTHORIZED, "用户名或密码错误。".into())
        }
        Err(e) => e.into_response(),
    }
}

pub async fn logout(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: super::FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return super::csrf_refused(Some(&user));
    }
    app.sessions.forget(&user.token_hash);
    if let Err(e) = jiesu_app::accounts::close_session(&app, &user.token_hash).await {
        tracing::warn!(error = %e, "revoking a session failed");
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("jiesu_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}
