//! The browser's session: the API's server-side session in an HttpOnly, SameSite=Strict cookie,
//! and a CSRF token derived from it that every form and htmx call must carry.

use super::{Nav, page};
use crate::AppState;
use crate::auth::{
    ClientAddr, SESSION_COOKIE, authenticate, session_token, token_hash, user_for_token,
};
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_domain::Role;
use jiesu_store::User;

/// A logged-in browser user.
pub struct WebUser {
    pub user: User,
    /// The token forms must echo (hidden `csrf` field or `X-CSRF-Token` header).
    pub csrf: String,
    /// Hash of the session token (to revoke it at logout).
    token_hash: String,
}

pub use crate::auth::csrf_token;

impl WebUser {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Constant-time comparison of the echoed token.
    pub fn csrf_ok(&self, given: Option<&str>, headers: &HeaderMap) -> bool {
        let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        let given = given.or(header).unwrap_or("");
        crate::auth::same_secret(given, &self.csrf)
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
        let found = user_for_token(app, &token).await;
        if let Ok(u) = &found {
            crate::metrics::note_user(parts, u.id);
        }
        match found {
            // A reset (or expired) password comes first: every page but the change form and
            // logout sends the holder there.
            Ok(user)
                if jiesu_app::accounts::must_change_password(app, &user)
                    && parts.uri.path() != PASSWORD_PAGE
                    && parts.uri.path() != "/logout" =>
            {
                Err(Redirect::to(PASSWORD_PAGE).into_response())
            }
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
        Role::CareAdmin => "/care/admin",
        Role::CareManager => "/care",
        Role::Provider => "/care/provider",
        // Actors without a desk here (the system, citizens, and roles whose desks live
        // elsewhere) start at the portal.
        _ => "/portal",
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

pub async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    form: axum::Form<LoginForm>,
) -> Response {
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
    match authenticate(&app, &f.username, f.password.clone(), &addr.0).await {
        Ok((token, _expires, user)) => {
            let to = if jiesu_app::accounts::must_change_password(&app, &user) {
                PASSWORD_PAGE.to_string()
            } else {
                safe_next(Some(&f.next)).unwrap_or_else(|| home_of(user.role).into())
            };
            let max_age = app.session_ttl.as_secs().max(0);
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
                secure_attr(&app)
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

/// Where a person changes their own password.
pub const PASSWORD_PAGE: &str = "/account/password";

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    nav: Nav,
    forced: bool,
    errors: super::FieldErrors,
    rules: String,
}

fn password_form(app: &AppState, user: &WebUser, errors: super::FieldErrors) -> Response {
    let p = &app.dir.world.district.passwords;
    let mut r = page(&PasswordPage {
        nav: Nav::for_user(user, PASSWORD_PAGE),
        forced: jiesu_app::accounts::must_change_password(app, &user.user),
        rules: format!(
            "至少{}位；小写字母、大写字母、数字、其他字符中至少{}类；{}不能是常见密码，也不能与当前密码相同。",
            p.min_length,
            p.min_classes,
            if p.forbid_username {
                "不能包含用户名；"
            } else {
                ""
            }
        ),
        errors,
    });
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub async fn password_page(State(app): State<AppState>, user: WebUser) -> Response {
    password_form(&app, &user, super::FieldErrors::default())
}

/// The change-password form: the current password, the new one twice. Other sessions of the
/// account end; this one stays.
pub async fn change_password(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: super::FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return super::csrf_refused(Some(&user));
    }
    let new = form.get("password").unwrap_or_default().to_string();
    let mut errors = super::FieldErrors::default();
    if new.is_empty() {
        errors.add("password", "请输入新密码。");
    } else if form.get("confirm") != Some(new.as_str()) {
        errors.add("confirm", "两次输入的新密码不一致。");
    }
    if !errors.is_empty() {
        let mut r = password_form(&app, &user, errors);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let current = form.get("current_password").unwrap_or_default().to_string();
    match jiesu_app::accounts::change_password(&app, &user.user, &user.token_hash, current, &new)
        .await
    {
        Ok(()) => {
            app.sessions.forget_user(user.user.id);
            Redirect::to(&format!("{}?changed=1", home_of(user.role()))).into_response()
        }
        Err(e) if e.field.is_some() => {
            let message = match e.code.as_str() {
                "bad_credentials" => "当前密码不正确。".to_string(),
                _ => jiesu_app::messages::of(&e),
            };
            let mut errors = super::FieldErrors::default();
            errors.add(e.field.as_deref().unwrap_or("password"), message);
            let mut r = password_form(&app, &user, errors);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => super::api_error_page(&user, &e.into()),
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
    if let Err(e) = jiesu_app::accounts::audit_logout(&app, &user.user).await {
        tracing::warn!(error = %e, "auditing a logout failed");
    }
    if let Err(e) = jiesu_app::accounts::close_session(&app, &user.token_hash).await {
        tracing::warn!(error = %e, "revoking a session failed");
    }
    let mut r = Redirect::to("/login").into_response();
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attr(&app)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Over https the session cookie is `Secure`: a browser never sends it over plain http (a
/// downgraded or mistyped `http://` link cannot leak it).
fn secure_attr(app: &AppState) -> &'static str {
    if app.public_https { "; Secure" } else { "" }
}
