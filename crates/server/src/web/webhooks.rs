//! 事件推送 (webhooks) for admins: subscribers with their delivery counts, a form to add one
//! (the signing secret is shown once, on the answer to that form), disabling, and the dead
//! letters with their retry. The same service functions as `/api/v1/webhooks`, so validation
//! and the audit log are one.

use super::admin::guard;
use super::{FieldErrors, FormData, Nav, WebUser, api_error_page, fmt, page};
use crate::ApiError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_app::webhooks as hooks;

pub struct HookRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub created: String,
    pub active: bool,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}

pub struct DeadRow {
    pub id: i64,
    pub webhook: String,
    /// The request's id (linked) or, for a case event, empty with `case` naming it.
    pub request_id: Option<i64>,
    pub case: String,
    pub event_type: String,
    pub attempts: i64,
    pub error: String,
    pub failed: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    nav: Nav,
    flash: String,
    /// The new subscriber's secret, on the answer to the form that created it only.
    secret: String,
    errors: FieldErrors,
    name: String,
    url: String,
    hooks: Vec<HookRow>,
    dead: Vec<DeadRow>,
}

/// Dead letters listed on the page (newest first); the API pages through the rest.
const DEAD_SHOWN: u32 = 50;

async fn render(
    app: &AppState,
    user: &WebUser,
    flash: String,
    secret: String,
    errors: FieldErrors,
    typed: (String, String),
) -> Response {
    let (hooks, dead) = match (
        jiesu_app::webhooks::list(app, &user.user).await,
        jiesu_app::webhooks::dead_letters(app, &user.user, None, None, DEAD_SHOWN).await,
    ) {
        (Ok(h), Ok(d)) => (h, d),
        (Err(e), _) | (_, Err(e)) => return api_error_page(user, &e.into()),
    };
    let name_of = |id: i64| {
        hooks
            .iter()
            .find(|h| h.id == id)
            .map_or_else(|| id.to_string(), |h| h.name.clone())
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let dead = dead
        .iter()
        .map(|d| DeadRow {
            id: d.id,
            webhook: name_of(d.webhook_id),
            request_id: d.request_id,
            case: match (&d.case_kind, d.case_id) {
                (Some(k), Some(id)) => format!("{k} #{id}"),
                _ => String::new(),
            },
            event_type: d.event_type.clone(),
            attempts: d.attempts,
            error: d.last_error.clone().unwrap_or_default(),
            failed: d.failed_at.map(fmt::datetime).unwrap_or_default(),
        })
        .collect();
    let mut r = page(&WebhooksPage {
        nav: Nav::for_user(user, "/admin"),
        flash,
        secret,
        errors,
        name: typed.0,
        url: typed.1,
        hooks: hooks
            .iter()
            .map(|h| HookRow {
                id: h.id,
                name: h.name.clone(),
                url: h.url.clone(),
                created: fmt::datetime(h.created_at),
                active: h.disabled_at.is_none(),
                pending: h.pending,
                delivered: h.delivered,
                dead: h.dead,
            })
            .collect(),
        dead,
    });
    *r.status_mut() = status;
    r
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    ok: Option<String>,
}

pub async fn show(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<ShowQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ManageWebhooks) {
        return r;
    }
    let flash = match q.ok.as_deref() {
        Some("disabled") => "已停用，此后的事件不再推送给它。",
        Some("retried") => "死信已重新排队，将按退避重试。",
        _ => "",
    };
    let typed = (String::new(), String::new());
    render(
        &app,
        &user,
        flash.into(),
        String::new(),
        FieldErrors::default(),
        typed,
    )
    .await
}

pub async fn create(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let (name, url) = (form.text("name"), form.text("url"));
    match hooks::create_webhook(&app, &user.user, &name, &url)
        .await
        .map_err(ApiError::from)
    {
        // The secret is on this answer only: no redirect, so a reload cannot show it again.
        Ok(c) => {
            let flash = format!(
                "已添加「{}」。请立即把签名密钥配置到接收方，此后不再显示。",
                c.webhook.name
            );
            let typed = (String::new(), String::new());
            render(&app, &user, flash, c.secret, FieldErrors::default(), typed).await
        }
        Err(e) if e.status.is_client_error() && e.body.field.is_some() => {
            render(
                &app,
                &user,
                String::new(),
                String::new(),
                FieldErrors::from_api(&e),
                (name, url),
            )
            .await
        }
        Err(e) => api_error_page(&user, &e),
    }
}

pub async fn disable(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    match hooks::disable_webhook(&app, &user.user, id).await {
        Ok(_) => Redirect::to("/admin/webhooks?ok=disabled").into_response(),
        Err(e) => api_error_page(&user, &e.into()),
    }
}

/// Retries one dead letter (`id` in the form) or all of them.
pub async fn retry(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let result = match form.get("id").map(str::parse::<i64>) {
        Some(Ok(id)) => hooks::retry_dead_letter(&app, &user.user, id).await,
        Some(Err(_)) => {
            return api_error_page(
                &user,
                &crate::ApiError::invalid("id", "invalid_id", "not a dead letter id"),
            );
        }
        None => hooks::retry_dead_letters(&app, &user.user, None).await,
    };
    match result {
        Ok(_) => Redirect::to("/admin/webhooks?ok=retried").into_response(),
        Err(e) => api_error_page(&user, &e.into()),
    }
}
