//! The working desks: 派单台 (dispatcher board), 承办队列 (handler queue), 回访台 (callback
//! desk), the request list behind every drill-down, and one request's page with its timeline
//! and the actions the engine allows — the others shown disabled with the engine's reason.

use super::intake::{OptGroup, unit_groups};
use super::{
    FieldErrors, FormData, Nav, WebUser, api_error_page, csrf_refused, error_page, fmt, page,
};
use crate::ApiError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_app::actions::{Action, perform};
use jiesu_app::requests::{ListQuery, build_filter};
use jiesu_domain::{
    Command, ContactMethod, Ctx, DomainError, Event, EventKind, RequestState, Role, Satisfaction,
    SpecialHandling, Status, decide,
};
use jiesu_store::{ListFilter, ListOrder, OPEN_STATUSES};
use jiff::Timestamp;

/// One line of a work list.
pub struct Row {
    pub id: i64,
    pub code: String,
    pub received: String,
    pub kind: String,
    pub category: String,
    pub place: String,
    pub unit: String,
    pub status: String,
    pub sla: &'static str,
    pub left: String,
    pub text: String,
}

pub fn row(app: &AppState, st: &RequestState, now: Timestamp) -> Row {
    let dir = &app.dir;
    let sla = crate::views::sla_state(st, now);
    let left = match (st.status.is_in_handling(), st.completion_due) {
        (true, Some(due)) if sla == "paused" => format!("延期待批（{}）", fmt::datetime(due)),
        (true, Some(due)) => fmt::time_left(due, now),
        // Replied or suspended after a breach: the clock stopped, the breach stands.
        _ if sla == "overdue" => "已超时".into(),
        _ => String::new(),
    };
    // Red means the time shown has run out: a breached response deadline with the completion
    // clock still inside its time reads "响应超时 · 剩…" in the completion clock's colour.
    let (sla, left) = match (sla, st.status.is_in_handling(), st.completion_due) {
        ("overdue", true, Some(due)) if due >= now && !st.completion_overdue => {
            let colour = match st.warn_at {
                Some(w) if w <= now => "warning",
                _ => "ok",
            };
            (colour, format!("响应超时 · {left}"))
        }
        other => (other.0, left),
    };
    let n = crate::views::names(dir, st);
    Row {
        id: st.id,
        code: st.tracking_code.clone(),
        received: fmt::datetime(st.intake.received_at),
        kind: st.intake.request_type.label_zh().into(),
        category: n.category.unwrap_or_default(),
        place: [n.street, n.community]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        unit: n.lead_unit.unwrap_or_default(),
        status: st.status.label_zh().into(),
        sla: match sla {
            "overdue" => "sla-overdue",
            "warning" => "sla-warning",
            "ok" => "sla-ok",
            "paused" => "sla-paused",
            _ => "",
        },
        left,
        text: st.intake.text.chars().take(60).collect(),
    }
}

pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorkList {
    nav: Nav,
    title: String,
    intro: String,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    show_unit: bool,
    /// "共 N 件": every request the desk or the filter holds, not just this page's.
    total: i64,
    /// Numbered pages of a desk (`?page=N`), or the list's next page (a cursor).
    prev: String,
    more: String,
    page_no: u32,
    pages: u32,
    filters: Option<Filters>,
    error: String,
}

/// Rows a desk shows per page.
pub const PER_PAGE: u32 = 50;

/// One numbered page of a desk: its rows, the total, and the links either side.
struct Paged {
    rows: Vec<Row>,
    total: i64,
    prev: String,
    more: String,
    page_no: u32,
    pages: u32,
}

/// Page `n` (from 1) of `f` at `PER_PAGE` rows, with the total; `base` is the desk's URL with
/// its tab (`/board?tab=new`).
async fn paged(
    app: &AppState,
    mut f: ListFilter,
    n: u32,
    base: &str,
) -> Result<Paged, crate::ApiError> {
    let total = jiesu_app::requests::count(app, &f).await?;
    let pages = (total.max(0) as u32).div_ceil(PER_PAGE).max(1);
    let n = n.clamp(1, pages);
    f.limit = PER_PAGE;
    f.offset = (n - 1) * PER_PAGE;
    f.cursor = None;
    let rows = list_rows(app, &f).await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let link = |k: u32| format!("{base}{sep}page={k}");
    Ok(Paged {
        rows,
        total,
        prev: if n > 1 { link(n - 1) } else { String::new() },
        more: if n < pages {
            link(n + 1)
        } else {
            String::new()
        },
        page_no: n,
        pages,
    })
}

/// The list page's filter form, re-filled with what was asked.
pub struct Filters {
    pub q: String,
    pub status: String,
    pub unit: String,
    pub street: String,
    pub community: String,
    pub category: String,
    pub request_type: String,
    pub channel: String,
    /// 受理日期 from / to (inclusive), `YYYY-MM-DD` in Beijing time.
    pub from: String,
    pub to: String,
    pub overdue: bool,
    /// The chosen street's communities only (none until a street is chosen).
    pub communities: Vec<super::intake::Opt>,
    pub types: Vec<super::intake::Opt>,
    pub channels: Vec<super::intake::Opt>,
    pub units: Vec<OptGroup>,
    pub streets: Vec<super::intake::Opt>,
    pub categories: Vec<OptGroup>,
    pub statuses: Vec<super::intake::Opt>,
}

fn tabs(base: &str, active: &str, items: &[(&str, &'static str)]) -> Vec<Tab> {
    items
        .iter()
        .map(|(key, label)| Tab {
            href: format!("{base}?tab={key}"),
            label,
            active: *key == active,
        })
        .collect()
}

#[derive(serde::Deserialize)]
pub struct TabQuery {
    tab: Option<String>,
    page: Option<u32>,
}

async fn list_rows(app: &AppState, f: &ListFilter) -> Result<Vec<Row>, crate::ApiError> {
    let page = jiesu_app::requests::page(app, f).await?;
    let now = app.now();
    Ok(page.items.iter().map(|s| row(app, s, now)).collect())
}

/// 派单台: new, returned, overdue and extension requests, each a tab.
pub async fn board(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<TabQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::DispatchBoard) {
        return r;
    }
    let tab = q.tab.unwrap_or_else(|| "new".into());
    let mut f = ListFilter::default();
    match tab.as_str() {
        "returned" => f.statuses = vec![Status::Returned],
        "overdue" => {
            f.statuses = OPEN_STATUSES.to_vec();
            f.overdue = Some(true);
            f.order = ListOrder::Deadline;
        }
        "extension" => f.extension_pending = true,
        "warning" => {
            f.warning_at = Some(app.now());
            f.order = ListOrder::Deadline;
        }
        _ => f.statuses = vec![Status::Received],
    }
    let p = match paged(&app, f, q.page.unwrap_or(1), &format!("/board?tab={tab}")).await {
        Ok(p) => p,
        Err(e) => return api_error_page(&user, &e),
    };
    page(&WorkList {
        nav: Nav::for_user(&user, "/board"),
        title: "派单台".into(),
        intro:
            "待派、退单待审、超时督办和延期待批的诉求；打开一件即可派单、驳回退单、并单、批延期。"
                .into(),
        tabs: tabs(
            "/board",
            &tab,
            &[
                ("new", "待派单"),
                ("returned", "退单待审"),
                ("overdue", "已超时"),
                ("warning", "即将超时"),
                ("extension", "延期待批"),
            ],
        ),
        rows: p.rows,
        show_unit: true,
        total: p.total,
        prev: p.prev,
        more: p.more,
        page_no: p.page_no,
        pages: p.pages,
        filters: None,
        error: String::new(),
    })
}

/// 承办队列: the unit's open requests, most urgent deadline first.
pub async fn queue(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<TabQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::HandlerQueue) {
        return r;
    }
    let tab = q.tab.unwrap_or_else(|| "open".into());
    let mut f = ListFilter {
        order: ListOrder::Deadline,
        // An admin looking at the queue sees every unit's; a handler only their own.
        scope_unit: (user.role() == Role::Handler)
            .then(|| user.user.unit_code.clone().unwrap_or_default()),
        statuses: vec![Status::Dispatched, Status::Accepted, Status::InProgress],
        ..Default::default()
    };
    match tab.as_str() {
        "warning" => f.warning_at = Some(app.now()),
        "overdue" => f.overdue = Some(true),
        "new" => f.statuses = vec![Status::Dispatched],
        // 挂账 matters have no running deadline; they would crowd the top of the queue.
        "suspended" => f.statuses = vec![Status::Suspended],
        _ => {}
    }
    let p = match paged(&app, f, q.page.unwrap_or(1), &format!("/queue?tab={tab}")).await {
        Ok(p) => p,
        Err(e) => return api_error_page(&user, &e),
    };
    let unit = user
        .user
        .unit_code
        .as_deref()
        .and_then(|u| app.dir.unit(u))
        .map(|u| u.name.clone())
        .unwrap_or_default();
    page(&WorkList {
        nav: Nav::for_user(&user, "/queue"),
        title: format!("承办队列 {unit}"),
        intro: "按办理时限排序；红色已超时，橙色已过预警点。".into(),
        tabs: tabs(
            "/queue",
            &tab,
            &[
                ("open", "全部待办"),
                ("new", "待签收"),
                ("warning", "即将超时"),
                ("overdue", "已超时"),
                ("suspended", "挂账"),
            ],
        ),
        rows: p.rows,
        show_unit: user.role() != Role::Handler,
        total: p.total,
        prev: p.prev,
        more: p.more,
        page_no: p.page_no,
        pages: p.pages,
        filters: None,
        error: String::new(),
    })
}

/// 回访台: replied requests waiting for the callback, longest-waiting first.
pub async fn callback_desk(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<TabQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::CallbackDesk) {
        return r;
    }
    let f = ListFilter {
        order: ListOrder::OldestReply,
        statuses: vec![Status::Replied],
        ..Default::default()
    };
    let p = match paged(&app, f, q.page.unwrap_or(1), "/callback").await {
        Ok(p) => p,
        Err(e) => return api_error_page(&user, &e),
    };
    page(&WorkList {
        nav: Nav::for_user(&user, "/callback"),
        title: "回访台".into(),
        intro: "已答复待回访的诉求，答复最早的在前。打开一件，按话术回访并记录结果；未解决可重办。"
            .into(),
        tabs: Vec::new(),
        rows: p.rows,
        show_unit: true,
        total: p.total,
        prev: p.prev,
        more: p.more,
        page_no: p.page_no,
        pages: p.pages,
        filters: None,
        error: String::new(),
    })
}

/// 诉求查询: any filter the API's list takes; every dashboard figure links here.
pub async fn list(
    State(app): State<AppState>,
    user: WebUser,
    raw: axum::extract::RawQuery,
) -> Response {
    let raw = raw.0.unwrap_or_default();
    // Empty form fields arrive as `unit=`; they mean "any".
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    // The form's 受理日期 (`from`, `to`: local dates, both inclusive) as the list's instants.
    let day = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let (from, to) = (day("from"), day("to"));
    let mut date_error = String::new();
    let mut api_pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "from" && k != "to")
        .cloned()
        .collect();
    for (name, value, label) in [
        ("received_from", &from, "起始日期"),
        ("received_to", &to, "截止日期"),
    ] {
        let Some(v) = value else { continue };
        match v.parse::<jiff::civil::Date>() {
            Ok(d) => {
                let d = if name == "received_to" {
                    d.tomorrow().unwrap_or(d)
                } else {
                    d
                };
                api_pairs.push((name.into(), format!("{d}T00:00:00+08:00")));
            }
            Err(_) => date_error = format!("{label}格式应为 2026-11-02。"),
        }
    }
    let cleaned = serde_urlencoded::to_string(&api_pairs).unwrap_or_default();
    let parsed: Result<ListQuery, _> = serde_urlencoded::from_str(&cleaned);
    let dir = &app.dir;
    let mut filters = Filters {
        q: String::new(),
        status: String::new(),
        unit: String::new(),
        street: String::new(),
        community: String::new(),
        category: String::new(),
        request_type: String::new(),
        channel: String::new(),
        from: from.clone().unwrap_or_default(),
        to: to.clone().unwrap_or_default(),
        overdue: false,
        communities: Vec::new(),
        types: jiesu_domain::RequestType::ALL
            .iter()
            .map(|t| super::intake::Opt {
                code: t.as_str().into(),
                label: t.label_zh().into(),
            })
            .collect(),
        channels: jiesu_domain::Channel::ALL
            .iter()
            .map(|c| super::intake::Opt {
                code: c.as_str().into(),
                label: c.label_zh().into(),
            })
            .collect(),
        units: unit_groups(dir),
        streets: super::intake::street_opts(dir),
        categories: super::intake::category_groups(dir),
        statuses: Status::ALL
            .iter()
            .map(|s| super::intake::Opt {
                code: s.as_str().into(),
                label: s.label_zh().into(),
            })
            .collect(),
    };
    let mut view = WorkList {
        nav: Nav::for_user(&user, "/requests"),
        title: "诉求查询".into(),
        intro: String::new(),
        tabs: Vec::new(),
        rows: Vec::new(),
        show_unit: true,
        total: 0,
        prev: String::new(),
        more: String::new(),
        page_no: 1,
        pages: 1,
        filters: None,
        error: String::new(),
    };
    if !date_error.is_empty() {
        view.error = date_error;
        view.filters = Some(filters);
        let mut r = page(&view);
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    let q = match parsed {
        Ok(q) => q,
        Err(e) => {
            tracing::debug!(error = %e, "list query refused");
            view.error = "查询条件有误，请检查各项筛选条件后重试。".into();
            view.filters = Some(filters);
            let mut r = page(&view);
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return r;
        }
    };
    filters.q = q.q.clone().unwrap_or_default();
    filters.status = q.status.clone().unwrap_or_default();
    filters.unit = q.unit.clone().unwrap_or_default();
    filters.street = q.street.clone().unwrap_or_default();
    filters.category = q.category.clone().unwrap_or_default();
    filters.community = q.community.clone().unwrap_or_default();
    filters.request_type = q.request_type.clone().unwrap_or_default();
    filters.channel = q.channel.clone().unwrap_or_default();
    filters.overdue = q.overdue == Some(true);
    // Communities of the chosen street only.
    filters.communities = q
        .street
        .as_deref()
        .map(|s| {
            dir.world
                .communities
                .iter()
                .filter(|c| c.street_code == s)
                .map(|c| super::intake::Opt {
                    code: c.code.clone(),
                    label: c.name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    view.filters = Some(filters);
    let f = match build_filter(&app, &user.user, &q)
        .await
        .map_err(ApiError::from)
    {
        Ok(f) => f,
        Err(e) => {
            view.error = fmt::error_zh(&e);
            let mut r = page(&view);
            *r.status_mut() = e.status;
            return r;
        }
    };
    let total = match jiesu_app::requests::count(&app, &f).await {
        Ok(n) => n,
        Err(e) => return api_error_page(&user, &e.into()),
    };
    view.total = total;
    match jiesu_app::requests::page(&app, &f).await {
        // A 受理编号 from the search box opens its request.
        Ok(p) if f.code.is_some() && p.items.len() == 1 => {
            Redirect::to(&format!("/r/{}", p.items[0].id)).into_response()
        }
        Ok(p) => {
            let now = app.now();
            view.rows = p.items.iter().map(|s| row(&app, s, now)).collect();
            if let Some(c) = p.next_cursor {
                let mut next: Vec<(String, String)> =
                    pairs.into_iter().filter(|(k, _)| k != "cursor").collect();
                next.push(("cursor".into(), c.encode()));
                view.more = format!(
                    "/requests?{}",
                    serde_urlencoded::to_string(&next).unwrap_or_default()
                );
            }
            page(&view)
        }
        Err(e) => api_error_page(&user, &e.into()),
    }
}

// ------------------------------------------------------------------ one request

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

pub struct TimelineItem {
    pub when: String,
    pub label: &'static str,
    pub who: String,
    pub detail: String,
}

/// An action as the page offers it: enabled with its form, or disabled with the reason.
pub struct ActionView {
    pub name: &'static str,
    pub label: &'static str,
    pub enabled: bool,
    pub why: String,
    pub open: bool,
}

pub struct Photo {
    pub n: usize,
    pub size_kb: u64,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    nav: Nav,
    id: i64,
    code: String,
    status: String,
    sla: &'static str,
    left: String,
    text: String,
    facts: Vec<Fact>,
    caller: String,
    caller_masked: bool,
    timeline: Vec<TimelineItem>,
    actions: Vec<ActionView>,
    errors: FieldErrors,
    flash: String,
    units: Vec<OptGroup>,
    /// The unit the category and street route to (preselected for 派单; nothing else is).
    suggested_unit: String,
    departments: Vec<super::intake::Opt>,
    specials: Vec<super::intake::Opt>,
    photos: Vec<Photo>,
    script: String,
    /// 转养老服务工单 (issue 14): an elder-care request, for roles that create care orders.
    care_order: bool,
}

/// Which actions a role's desk offers (the engine still decides each one).
fn offered(role: Role) -> &'static [&'static str] {
    match role {
        Role::Operator => &["dispatch", "close"],
        Role::Dispatcher => &[
            "dispatch",
            "decide-extension",
            "escalate",
            "merge",
            "callback",
            "reopen",
            "suspend",
            "close",
        ],
        Role::Handler => &[
            "accept", "contact", "reply", "return", "extend", "whistle", "report",
        ],
        Role::Callback => &["callback", "reopen", "close"],
        Role::Supervisor => &["escalate", "suspend", "close"],
        Role::Admin => &[
            "dispatch",
            "accept",
            "contact",
            "reply",
            "return",
            "extend",
            "decide-extension",
            "escalate",
            "whistle",
            "report",
            "callback",
            "reopen",
            "merge",
            "suspend",
            "close",
        ],
        // The system, citizens and roles outside the 12345 desks act on no request here.
        _ => &[],
    }
}

fn action_label(name: &str) -> &'static str {
    match name {
        "dispatch" => "派单 / 改派 / 驳回退单",
        "accept" => "签收",
        "contact" => "联系诉求人",
        "reply" => "答复",
        "return" => "退单",
        "extend" => "申请延期",
        "decide-extension" => "审批延期",
        "escalate" => "督办",
        "whistle" => "吹哨",
        "report" => "报到",
        "callback" => "回访",
        "reopen" => "重办",
        "merge" => "并单",
        "suspend" => "挂账",
        "close" => "办结",
        _ => "操作",
    }
}

/// A representative command for asking the engine whether `name` is possible now: role and
/// state refusals come back as such; a field complaint means the action itself is allowed.
fn probe(name: &str, st: &RequestState, app: &AppState) -> Option<Command> {
    let other_unit = app
        .dir
        .world
        .units
        .iter()
        .find(|u| Some(&u.code) != st.lead_unit.as_ref())
        .map(|u| u.code.clone())
        .unwrap_or_default();
    let department = app
        .dir
        .world
        .units
        .iter()
        .find(|u| u.kind == jiesu_world::UnitKind::Department)
        .map(|u| u.code.clone())
        .unwrap_or_default();
    let r = || "probe".to_string();
    Some(match name {
        "dispatch" => Command::Dispatch {
            unit: other_unit,
            reason: Some(r()),
        },
        "accept" => Command::Accept,
        "contact" => Command::Contact {
            method: ContactMethod::Phone,
            reached: true,
            note: None,
        },
        "reply" => Command::Reply { text: r() },
        "return" => Command::Return { reason: r() },
        "extend" => Command::Extend {
            working_days: 1,
            reason: r(),
        },
        "decide-extension" => Command::DecideExtension {
            approve: true,
            reason: None,
        },
        "escalate" => Command::Escalate { reason: r() },
        "whistle" => Command::Whistle {
            units: vec![department],
            reason: r(),
        },
        "report" => Command::Report { note: None },
        "callback" => Command::Callback {
            reached: true,
            resolved: Some(true),
            satisfaction: Some(Satisfaction::Satisfied),
            note: None,
        },
        "reopen" => Command::Reopen { reason: r() },
        "suspend" => Command::Suspend { reason: r() },
        "close" => Command::Close {
            special: None,
            answer: None,
            reason: None,
        },
        _ => return None,
    })
}

fn availability(app: &AppState, user: &WebUser, st: &RequestState, name: &str) -> (bool, String) {
    if name == "merge" {
        // 并单 needs the master too; the engine checks both when it is asked.
        return if st.status.is_terminal() {
            (false, "诉求已结束，不能并单。".into())
        } else {
            (true, String::new())
        };
    }
    let Some(cmd) = probe(name, st, app) else {
        return (false, String::new());
    };
    let ctx = Ctx {
        dir: &app.dir,
        now: app.now(),
    };
    match decide(st, &user.user.actor(), &cmd, &ctx) {
        Ok(_) | Err(DomainError::Invalid { .. }) => (true, String::new()),
        Err(e) => (false, fmt::error_zh(&crate::ApiError::from(e))),
    }
}

/// Who acted: the role's Chinese label and the unit's name, never a login name.
fn who(app: &AppState, e: &Event) -> String {
    let unit = e.actor.unit.as_deref().map(|u| unit_name(app, u));
    jiesu_app::messages::actor_zh(e.actor.role, unit.as_deref())
}

/// What the page says after an action succeeded (not the button's label again).
fn done_text(name: &str) -> &'static str {
    match name {
        "dispatch" => "派单已生效，承办单位的队列中已可看到。",
        "accept" => "已签收，办理时限开始计算。",
        "contact" => "联系记录已保存。",
        "reply" => "答复已提交，等待回访。",
        "return" => "退单已提交，等待派单员审核。",
        "extend" => "延期申请已提交，等待审批。",
        "decide-extension" => "延期审批结果已记录。",
        "escalate" => "督办已发出。",
        "whistle" => "已通知所叫部门报到。",
        "report" => "报到已记录。",
        "callback" => "回访结果已记录。",
        "reopen" => "诉求已退回重办。",
        "merge" => "已并入主件。",
        "suspend" => "诉求已挂账。",
        "close" => "诉求已办结。",
        _ => "操作已完成。",
    }
}

fn unit_name(app: &AppState, code: &str) -> String {
    app.dir
        .unit(code)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn detail_of(app: &AppState, e: &Event) -> String {
    let yes_no = |b: bool| if b { "是" } else { "否" };
    let mut d = match &e.kind {
        EventKind::Received { intake } => format!(
            "{} · {}",
            intake.channel.label_zh(),
            intake.request_type.label_zh()
        ),
        EventKind::Dispatched {
            unit,
            response_due,
            completion_due,
            ..
        } => format!(
            "派至{}；响应时限 {}，办理时限 {}",
            unit_name(app, unit),
            fmt::datetime(*response_due),
            fmt::datetime(*completion_due)
        ),
        EventKind::Returned { unit } => format!("{}退回", unit_name(app, unit)),
        EventKind::Accepted { unit } => format!("{}签收", unit_name(app, unit)),
        EventKind::Contacted {
            method,
            reached,
            note,
        } => format!(
            "{}，{}{}",
            method.label_zh(),
            if *reached {
                "已联系上"
            } else {
                "未联系上"
            },
            if note.is_empty() {
                String::new()
            } else {
                format!("：{note}")
            }
        ),
        EventKind::Replied { text } => text.clone(),
        EventKind::ExtensionRequested { working_days } => format!("申请延期{working_days}个工作日"),
        EventKind::ExtensionDecided {
            approved,
            completion_due,
            ..
        } => format!(
            "{}，办理时限 {}",
            if *approved { "批准" } else { "驳回" },
            fmt::datetime(*completion_due)
        ),
        EventKind::Escalated {
            escalation, unit, ..
        } => format!(
            "{}{}",
            escalation.label_zh(),
            unit.as_deref()
                .map(|u| format!("（{}）", unit_name(app, u)))
                .unwrap_or_default()
        ),
        EventKind::CallbackRecorded {
            reached,
            resolved,
            satisfaction,
            note,
        } => {
            let mut s = format!("联系上：{}", yes_no(*reached));
            if let Some(r) = resolved {
                s.push_str(&format!("；已解决：{}", yes_no(*r)));
            }
            if let Some(x) = satisfaction {
                s.push_str(&format!("；{}", x.label_zh()));
            }
            if !note.is_empty() {
                s.push_str(&format!("；{note}"));
            }
            s
        }
        EventKind::Reopened { unit, .. } => format!("退回{}重办", unit_name(app, unit)),
        EventKind::MergedInto { master } => format!("并入诉求 #{master}"),
        EventKind::MergeReceived { child } => format!("诉求 #{child} 并入本件"),
        EventKind::Whistled { targets } => format!(
            "召集 {}",
            targets
                .iter()
                .map(|t| unit_name(app, &t.unit))
                .collect::<Vec<_>>()
                .join("、")
        ),
        EventKind::Reported { unit, note } => format!("{}报到 {note}", unit_name(app, unit)),
        EventKind::Suspended => String::new(),
        EventKind::Closed {
            outcome,
            special,
            answer,
        } => {
            let mut s = outcome.label_zh().to_string();
            if let Some(x) = special {
                s.push_str(&format!("：{}", x.label_zh()));
            }
            if let Some(a) = answer {
                s.push_str(&format!("：{a}"));
            }
            s
        }
        EventKind::CitizenRated {
            satisfaction,
            comment,
        } => format!("{} {comment}", satisfaction.label_zh()),
    };
    if let Some(r) = &e.reason {
        if !d.is_empty() {
            d.push('；');
        }
        let r = if e.actor.role == Role::System {
            jiesu_app::messages::system_reason_zh(r)
        } else {
            r.clone()
        };
        if !r.is_empty() {
            d.push_str(&format!("理由：{r}"));
        }
    }
    d
}

/// The callback script for the desk, filled with this request's facts.
fn callback_script(app: &AppState, st: &RequestState) -> String {
    let unit = st
        .lead_unit
        .as_deref()
        .map(|u| unit_name(app, u))
        .unwrap_or_default();
    format!(
        "您好，这里是12345市民服务热线回访。您于{}反映的“{}”，已由{}答复办理。请问：1. 您反映的问题是否已解决？2. 您对办理结果是满意、基本满意还是不满意？",
        fmt::date(st.intake.received_at),
        st.intake.text.chars().take(30).collect::<String>(),
        unit
    )
}

async fn render_detail(
    app: &AppState,
    user: &WebUser,
    id: i64,
    errors: FieldErrors,
    open: &str,
    flash: String,
) -> Response {
    let jiesu_app::actions::Detail {
        state: st,
        reveal,
        events,
        photos,
    } = match jiesu_app::actions::detail(app, &user.user, id, "web request page").await {
        Ok(d) => d,
        Err(e) => return api_error_page(user, &e.into()),
    };
    let now = app.now();
    let view = crate::views::request_view(&app.dir, st.clone(), reveal, now);
    let r = row(app, &st, now);
    let mut facts = vec![
        Fact {
            label: "类型",
            value: r.kind.clone(),
        },
        Fact {
            label: "渠道",
            value: st.intake.channel.label_zh().into(),
        },
        Fact {
            label: "受理时间",
            value: r.received.clone(),
        },
        Fact {
            label: "分类",
            value: r.category.clone(),
        },
        Fact {
            label: "地点",
            value: format!(
                "{} {}",
                r.place,
                st.intake.address.clone().unwrap_or_default()
            ),
        },
        Fact {
            label: "承办单位",
            value: r.unit.clone(),
        },
        Fact {
            label: "响应时限",
            value: fmt::opt_datetime(st.response_due),
        },
        Fact {
            label: "办理时限",
            value: fmt::opt_datetime(st.completion_due),
        },
    ];
    if st.intake.urgent {
        facts.push(Fact {
            label: "紧急",
            value: "是".into(),
        });
    }
    if let Some(x) = &st.extension {
        facts.push(Fact {
            label: "延期申请",
            value: format!(
                "{}个工作日，{}",
                x.working_days,
                x.reason.clone().unwrap_or_default()
            ),
        });
    }
    if !st.co_handlers.is_empty() {
        facts.push(Fact {
            label: "吹哨部门",
            value: st
                .co_handlers
                .iter()
                .map(|c| {
                    format!(
                        "{}{}",
                        unit_name(app, &c.unit),
                        if c.reported_at.is_some() {
                            "（已报到）"
                        } else {
                            "（未报到）"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("、"),
        });
    }
    if let Some(x) = st.citizen_rating {
        facts.push(Fact {
            label: "市民评价",
            value: x.label_zh().into(),
        });
    }
    let caller = [
        view.state.intake.caller.name.clone(),
        view.state.intake.caller.phone.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let actions = offered(user.role())
        .iter()
        .map(|name| {
            let (enabled, why) = availability(app, user, &st, name);
            ActionView {
                name,
                label: action_label(name),
                enabled,
                why,
                open: *name == open,
            }
        })
        .collect();
    let departments = app
        .dir
        .world
        .units
        .iter()
        .filter(|u| u.kind != jiesu_world::UnitKind::Street)
        .map(|u| super::intake::Opt {
            code: u.code.clone(),
            label: u.name.clone(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut resp = page(&RequestPage {
        nav: Nav::for_user(user, ""),
        id,
        code: st.tracking_code.clone(),
        status: r.status.clone(),
        sla: r.sla,
        left: r.left.clone(),
        text: st.intake.text.clone(),
        facts,
        caller,
        caller_masked: !reveal,
        timeline: events
            .iter()
            .map(|e| TimelineItem {
                when: fmt::datetime(e.at),
                label: e.kind.label_zh(),
                who: who(app, e),
                detail: detail_of(app, e),
            })
            .collect(),
        actions,
        errors,
        flash,
        units: unit_groups(&app.dir),
        suggested_unit: st
            .intake
            .category
            .as_deref()
            .zip(st.intake.street.as_deref())
            .and_then(|(c, s)| app.dir.world.route(c, s))
            .map(|u| u.code.clone())
            .unwrap_or_default(),
        departments,
        specials: SpecialHandling::ALL
            .iter()
            .map(|s| super::intake::Opt {
                code: s.as_str().into(),
                label: s.label_zh().into(),
            })
            .collect(),
        photos: photos
            .iter()
            .enumerate()
            .map(|(n, p)| Photo {
                n,
                size_kb: (p.size as u64).div_ceil(1024),
            })
            .collect(),
        script: callback_script(app, &st),
        care_order: jiesu_app::policy::allows(user.role(), Capability::CreateCareOrders)
            && !st.status.is_terminal()
            && st
                .intake
                .category
                .as_deref()
                .is_some_and(|c| c.starts_with("elderly")),
    });
    *resp.status_mut() = status;
    resp
}

#[derive(serde::Deserialize)]
pub struct DetailQuery {
    ok: Option<String>,
}

pub async fn detail(
    State(app): State<AppState>,
    user: WebUser,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let Ok(Path(id)) = id else {
        return error_page(Some(&user), StatusCode::NOT_FOUND, "诉求不存在。");
    };
    // `/r/<受理编号>` resolves to the request's own page.
    let id = match id.parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            return match jiesu_app::actions::id_of_code(&app, &user.user, &id).await {
                Ok(Some(found)) => Redirect::to(&format!("/r/{found}")).into_response(),
                Ok(None) => error_page(Some(&user), StatusCode::NOT_FOUND, "诉求不存在。"),
                Err(e) => api_error_page(&user, &ApiError::from(e)),
            };
        }
    };
    let flash =
        q.ok.as_deref()
            .map(|a| done_text(a).to_string())
            .unwrap_or_default();
    render_detail(&app, &user, id, FieldErrors::default(), "", flash).await
}

/// The form fields of an action as the engine's command.
fn command_from(name: &str, f: &FormData, errors: &mut FieldErrors) -> Option<Command> {
    let text = |k: &str| f.text(k);
    let opt = |k: &str| f.get(k).map(str::to_string);
    let yes = |k: &str| match f.get(k) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    Some(match name {
        "dispatch" => Command::Dispatch {
            unit: text("unit"),
            reason: opt("reason"),
        },
        "accept" => Command::Accept,
        "contact" => {
            let method = match f.get("method").unwrap_or("phone").parse::<ContactMethod>() {
                Ok(m) => m,
                Err(_) => {
                    errors.add("method", "请选择联系方式。");
                    return None;
                }
            };
            let Some(reached) = yes("reached") else {
                errors.add("reached", "请选择是否联系上。");
                return None;
            };
            Command::Contact {
                method,
                reached,
                note: opt("note"),
            }
        }
        "reply" => Command::Reply { text: text("text") },
        "return" => Command::Return {
            reason: text("reason"),
        },
        "extend" => {
            let Some(days) = f.get("working_days").and_then(|d| d.parse::<u32>().ok()) else {
                errors.add("working_days", "请填写延期的工作日数（正整数）。");
                return None;
            };
            Command::Extend {
                working_days: days,
                reason: text("reason"),
            }
        }
        "decide-extension" => {
            let Some(approve) = yes("approve") else {
                errors.add("approve", "请选择批准或驳回。");
                return None;
            };
            Command::DecideExtension {
                approve,
                reason: opt("reason"),
            }
        }
        "escalate" => Command::Escalate {
            reason: text("reason"),
        },
        "whistle" => Command::Whistle {
            units: f.all("units"),
            reason: text("reason"),
        },
        "report" => Command::Report { note: opt("note") },
        "callback" => {
            let Some(reached) = yes("reached") else {
                errors.add("reached", "请选择是否联系上诉求人。");
                return None;
            };
            let satisfaction = match f.get("satisfaction") {
                None => None,
                Some(s) => match s.parse::<Satisfaction>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        errors.add("satisfaction", "满意度取值无效。");
                        return None;
                    }
                },
            };
            Command::Callback {
                reached,
                resolved: yes("resolved"),
                satisfaction,
                note: opt("note"),
            }
        }
        "reopen" => Command::Reopen {
            reason: text("reason"),
        },
        "suspend" => Command::Suspend {
            reason: text("reason"),
        },
        "close" => {
            let special = match f.get("special") {
                None => None,
                Some(s) => match s.parse::<SpecialHandling>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        errors.add("special", "特殊处理取值无效。");
                        return None;
                    }
                },
            };
            Command::Close {
                special,
                answer: opt("answer"),
                reason: opt("reason"),
            }
        }
        _ => return None,
    })
}

pub async fn act(
    State(app): State<AppState>,
    user: WebUser,
    path: Result<Path<(i64, String)>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let Ok(Path((id, name))) = path else {
        return error_page(Some(&user), StatusCode::NOT_FOUND, "诉求不存在。");
    };
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let mut errors = FieldErrors::default();
    let action = if name == "merge" {
        let master = form.text("master");
        let master_id = match master.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => match jiesu_app::actions::id_of_code(&app, &user.user, &master).await {
                Ok(Some(m)) => Some(m),
                _ => None,
            },
        };
        match master_id {
            Some(master_id) => Some(Action::Merge { master_id }),
            None => {
                errors.add("master", "请填写主件的受理编号或ID。");
                None
            }
        }
    } else {
        command_from(&name, &form, &mut errors).map(Action::Command)
    };
    // A street office handles its own street: dispatching elsewhere is asked twice.
    if let Some(Action::Command(Command::Dispatch { unit, .. })) = &action
        && form.get("cross_street") != Some("yes")
        && let Ok(st) = jiesu_app::actions::load_visible(&app, &user.user, id).await
        && !app.dir.covers(unit, st.intake.street.as_deref())
    {
        let street = st
            .intake
            .street
            .as_deref()
            .and_then(|s| app.dir.street(s))
            .map(|s| s.name.clone())
            .unwrap_or_default();
        errors.add(
            "unit",
            format!(
                "所选街道办事处不辖本诉求所在的{street}；确需跨街道派单，请勾选“确认跨街道派单”。"
            ),
        );
        return render_detail(&app, &user, id, errors, &name, String::new()).await;
    }
    let Some(action) = action else {
        if errors.is_empty() {
            return error_page(Some(&user), StatusCode::NOT_FOUND, "未知操作。");
        }
        return render_detail(&app, &user, id, errors, &name, String::new()).await;
    };
    match perform(&app, &user.user, id, &action)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Redirect::to(&format!("/r/{id}?ok={name}")).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => api_error_page(&user, &e),
        Err(e) => {
            let mut r = render_detail(
                &app,
                &user,
                id,
                FieldErrors::from_api(&e),
                &name,
                String::new(),
            )
            .await;
            *r.status_mut() = e.status;
            r
        }
    }
}

/// A citizen's photo, for staff who may see the request.
pub async fn photo(
    State(app): State<AppState>,
    user: WebUser,
    path: Result<Path<(i64, usize)>, axum::extract::rejection::PathRejection>,
) -> Response {
    let Ok(Path((id, n))) = path else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(Some((meta, bytes))) = jiesu_app::actions::photo(&app, &user.user, id, n).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
            // Only the types checked at upload are served, and never sniffed as HTML.
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response()
}
