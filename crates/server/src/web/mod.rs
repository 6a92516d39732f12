//! The web UI: server-rendered pages (askama templates in `crates/server/templates/`) with htmx
//! for the live parts, one desk per role, all in Chinese. Pages call the same services as the
//! JSON API (the use cases of `jiesu_app`), and every page checks its capability with
//! `jiesu_app::policy`, so the engine's
//! rules hold here too; a page only decides how things look.

mod admin;
mod alarms;
mod assets;
mod care;
mod dashboard;
mod fmt;
mod intake;
mod knowledge;
mod portal;
mod session;
mod webhooks;
mod work;

pub use session::{WebUser, csrf_token};

use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiesu_app::Capability;
use jiesu_domain::Role;

/// When it was computed, under which world revision, and the data.
type DashEntry = (std::time::Instant, u64, std::sync::Arc<dashboard::DashData>);

/// Computed page data kept briefly (the dashboard's month aggregation), keyed by what it shows
/// and the world revision it was computed under.
#[derive(Default)]
pub struct WebCache {
    dash: std::sync::Mutex<std::collections::HashMap<String, DashEntry>>,
    refreshing: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl WebCache {
    fn get(
        &self,
        key: &str,
        rev: u64,
    ) -> Option<(std::time::Duration, std::sync::Arc<dashboard::DashData>)> {
        let map = self.dash.lock().ok()?;
        map.get(key)
            .filter(|(_, r, _)| *r == rev)
            .map(|(at, _, d)| (at.elapsed(), d.clone()))
    }
    fn put(&self, key: &str, rev: u64, d: std::sync::Arc<dashboard::DashData>) {
        if let Ok(mut map) = self.dash.lock() {
            // Bounded: months × shadings in use are few; drop all if someone walks the calendar.
            if map.len() >= 64 {
                map.clear();
            }
            map.insert(key.to_string(), (std::time::Instant::now(), rev, d));
        }
    }
    /// True when the caller should refresh `key` (no one else is).
    fn start_refresh(&self, key: &str) -> bool {
        self.refreshing
            .lock()
            .map(|mut s| s.insert(key.to_string()))
            .unwrap_or(false)
    }
    fn end_refresh(&self, key: &str) {
        if let Ok(mut s) = self.refreshing.lock() {
            s.remove(key);
        }
    }
}

/// Largest portal submission (text plus one photo).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/intake", get(intake::show).post(intake::submit))
        .route("/intake/suggest", post(intake::suggest))
        .route("/intake/history", post(intake::history))
        .route("/board", get(work::board))
        .route("/queue", get(work::queue))
        .route("/callback", get(work::callback_desk))
        .route("/requests", get(work::list))
        .route("/r/{id}", get(work::detail))
        .route("/r/{id}/photo/{n}", get(work::photo))
        .route("/r/{id}/act/{action}", post(work::act))
        .route("/dashboard", get(dashboard::page_handler))
        .route(
            "/portal",
            get(portal::show)
                .post(portal::submit)
                // The photo needs more than the API's JSON limit; the handler checks each part.
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/portal/track", get(portal::track))
        .route("/portal/rate", post(portal::rate))
        .route("/admin", get(admin::show))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}/{action}", post(admin::account_action))
        .route(
            "/account/password",
            get(session::password_page).post(session::change_password),
        )
        .route("/admin/weights", post(admin::save_weights))
        .route("/admin/holidays", post(admin::save_holidays))
        .route("/admin/sla", post(admin::save_sla))
        .route("/admin/category", post(admin::save_category))
        .route("/admin/unit", post(admin::save_unit))
        .route(
            "/admin/webhooks",
            get(webhooks::show).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}/disable", post(webhooks::disable))
        .route("/admin/webhooks/retry", post(webhooks::retry))
        // 养老服务 (issue 14): the care desks and the family's portal pages.
        .route("/care", get(care::desk))
        .route("/care/find", get(care::find))
        .route(
            "/care/from-request/{id}",
            get(care::from_request_page).post(care::from_request),
        )
        .route("/care/elders", post(care::register_elder))
        .route("/care/elders/new", get(care::new_elder))
        .route("/care/elders/{id}", get(care::elder).post(care::save_elder))
        .route("/care/elders/{id}/edit", get(care::edit_elder))
        .route(
            "/care/elders/{id}/assess",
            get(care::assess_page).post(care::assess),
        )
        .route("/care/orders", get(care::order_list))
        .route("/care/orders/{id}", get(care::order))
        .route("/care/orders/{id}/assign", post(care::assign))
        .route("/care/orders/{id}/act/{action}", post(care::order_act))
        .route("/care/provider", get(care::provider_desk))
        .route("/care/provider/carers", post(care::add_carer))
        .route("/care/meals", post(care::record_meal))
        .route("/care/admin", get(care::admin))
        .route("/care/admin/providers", post(care::save_provider))
        .route("/care/admin/meal-points", post(care::save_point))
        .route("/care/admin/settle", get(care::settlement))
        .route("/care/admin/settle.xlsx", get(care::settle_xlsx))
        .route("/care/admin/settle/prepare", post(care::settle_prepare))
        .route(
            "/care/admin/settle/{id}/approve",
            post(care::settle_approve),
        )
        .route("/care/supply", get(care::supply_view))
        .route(
            "/portal/care",
            get(care::family_page).post(care::family_submit),
        )
        .route("/portal/care/find", get(care::family_find))
        .route("/portal/care/{code}", get(care::family_order))
        .route("/portal/care/{code}/rate", post(care::family_rate))
        // 一键呼 (issue 15): the alarm desk, one alarm, devices and KPIs.
        .route("/alarms", get(alarms::desk_page))
        .route("/alarms/feed", get(alarms::feed))
        .route("/alarms/desk.js", get(alarms::script))
        .route("/alarms/devices", get(alarms::devices_page))
        .route("/alarms/{id}", get(alarms::detail))
        .route("/alarms/{id}/act/{action}", post(alarms::act))
        .route("/static/{*path}", get(assets::serve))
        .merge(knowledge::routes())
}

async fn home(user: Option<WebUser>) -> Response {
    match user {
        Some(u) => Redirect::to(session::home_of(u.role())).into_response(),
        None => Redirect::to("/portal").into_response(),
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for WebUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <WebUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(parts, app)
                .await
                .ok(),
        )
    }
}

/// The header of every page: who is logged in, the desks their role opens, the CSRF token.
pub struct Nav {
    pub logged_in: bool,
    /// The header's search box (受理编号, phone or words): for roles that read requests.
    pub search: bool,
    pub user: String,
    pub role: String,
    pub csrf: String,
    pub links: Vec<NavLink>,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

impl Nav {
    pub fn for_user(u: &WebUser, active: &str) -> Nav {
        // The pages a role may open (`jiesu_app::policy`); the callback desk is linked for
        // 回访员 only, though dispatchers may open it too.
        let all: &[(&str, &str, Capability, &[Role])] = &[
            ("/intake", "受理台", Capability::RecordIntake, &[]),
            ("/board", "派单台", Capability::DispatchBoard, &[]),
            ("/queue", "承办队列", Capability::HandlerQueue, &[]),
            (
                "/callback",
                "回访台",
                Capability::CallbackDesk,
                &[Role::Callback],
            ),
            ("/requests", "诉求查询", Capability::ReadRequests, &[]),
            ("/dashboard", "考评态势", Capability::ViewAssessment, &[]),
            ("/knowledge", "知识库", Capability::ReadKnowledge, &[]),
            ("/admin", "系统管理", Capability::EditWorld, &[]),
            // 养老服务 (issue 14).
            ("/care", "老人名册", Capability::ManageElders, &[]),
            (
                "/care/orders",
                "服务工单",
                Capability::ActOnCareOrders,
                &[Role::CareAdmin, Role::CareManager],
            ),
            (
                "/care/provider",
                "服务商工作台",
                Capability::ProviderDesk,
                &[],
            ),
            (
                "/care/admin",
                "养老服务网络",
                Capability::ManageCareNetwork,
                &[],
            ),
            (
                "/care/admin/settle",
                "养老结算",
                Capability::SettleCare,
                &[],
            ),
            (
                "/care/supply",
                "养老供需",
                Capability::ViewCareSupply,
                &[Role::CareAdmin, Role::CareManager],
            ),
            // 一键呼 (issue 15): the desk for who works alarms, the devices page for who only
            // watches them.
            ("/alarms", "一键呼接警", Capability::WorkAlarms, &[]),
            (
                "/alarms/devices",
                "一键呼设备",
                Capability::ViewDevices,
                &[Role::Supervisor],
            ),
            (
                "/admin/audit",
                "审计日志",
                Capability::ViewAudit,
                &[Role::Supervisor],
            ),
        ];
        let role = u.role();
        Nav {
            logged_in: true,
            search: jiesu_app::policy::allows(role, Capability::ReadRequests),
            user: u.user.display_name.clone(),
            role: role.label_zh().to_string(),
            csrf: u.csrf.clone(),
            links: all
                .iter()
                .filter(|(_, _, cap, only)| {
                    jiesu_app::policy::allows(role, *cap)
                        && (only.is_empty() || only.contains(&role))
                })
                .map(|(href, label, _, _)| NavLink {
                    href,
                    label,
                    active: *href == active,
                })
                .collect(),
        }
    }

    pub fn anonymous(active: &str) -> Nav {
        Nav {
            logged_in: false,
            search: false,
            user: String::new(),
            role: String::new(),
            csrf: String::new(),
            links: vec![
                NavLink {
                    href: "/portal",
                    label: "市民服务",
                    active: active == "/portal",
                },
                NavLink {
                    href: "/login",
                    label: "工作人员登录",
                    active: active == "login",
                },
            ],
        }
    }
}

/// Renders a template; a template error is a bug, shown as a 500 and logged.
pub fn page<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>500</h1>")).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    status: u16,
    message: String,
}

pub fn error_page(user: Option<&WebUser>, status: StatusCode, message: &str) -> Response {
    let nav = match user {
        Some(u) => Nav::for_user(u, ""),
        None => Nav::anonymous(""),
    };
    let mut r = page(&ErrorPage {
        nav,
        status: status.as_u16(),
        message: message.to_string(),
    });
    *r.status_mut() = status;
    r
}

pub fn csrf_refused(user: Option<&WebUser>) -> Response {
    error_page(
        user,
        StatusCode::FORBIDDEN,
        "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。",
    )
}

/// An API error as a page (for failures that are not a form field's fault).
pub fn api_error_page(user: &WebUser, e: &ApiError) -> Response {
    error_page(Some(user), e.status, &fmt::error_zh(e))
}

/// A url-encoded form as ordered pairs: typed parsing is done field by field so each bad field
/// gets its own message beside it, and repeated fields (multi-selects) are kept.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The trimmed value, `None` when missing or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "0" && v != "false")
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(FormData)
            .map_err(|_| error_page(None, StatusCode::BAD_REQUEST, "表单数据格式错误。"))
    }
}

/// Field errors shown beside their inputs.
#[derive(Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// An API error: beside its field when it names one, else as the form's general message.
    pub fn from_api(e: &ApiError) -> FieldErrors {
        let mut out = FieldErrors::default();
        out.add(e.body.field.as_deref().unwrap_or("_form"), fmt::error_zh(e));
        out
    }
}
