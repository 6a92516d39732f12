//! 养老服务 desks: the 照护管理师 / 民政 registry and orders (`/care`), the provider's desk at
//! phone width (`/care/provider`), the 民政 network, meals, settlement and supply–demand
//! (`/care/admin`, `/care/supply`), and the family's order page on the portal
//! (`/portal/care`). Every page calls one `jiesu_app::care` use case per action; the use case
//! checks the capability and audits what it unmasks, the page only decides how things look.

use super::{
    FieldErrors, FormData, Nav, WebUser, api_error_page, csrf_refused, error_page, fmt, page,
};
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_app::care::orders::{FamilyRequest, OrderQuery, OrderRequest, fen_yuan};
use jiesu_app::care::{meals, network, orders, registry, settle, supply};
use jiesu_domain::Role;
use jiesu_domain::care::ability::{AssessmentInput, ITEMS};
use jiesu_domain::care::claim::PartyKind;
use jiesu_domain::care::meals::{MealInput, MealKind};
use jiesu_domain::care::order::{
    OrderCommand, OrderEvent, OrderState, OrderStatus, ServiceKind, Slot,
};
use jiesu_domain::care::person::{Consent, ElderInput, FamilyContact};
use jiesu_store::care::{Carer, MealPoint, PriceItem, Provider, WeeklySlot};
use jiff::Timestamp;
use std::collections::BTreeMap;

// ------------------------------------------------------------------ shared bits

pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

pub struct OptGroup {
    pub label: String,
    pub items: Vec<Opt>,
}

fn service_opts(selected: &str) -> Vec<Opt> {
    ServiceKind::ALL
        .iter()
        .map(|s| Opt {
            code: s.as_str().into(),
            label: s.label_zh().into(),
            selected: s.as_str() == selected,
        })
        .collect()
}

fn street_opts(app: &AppState, selected: &str) -> Vec<Opt> {
    app.dir
        .world
        .streets
        .iter()
        .map(|s| Opt {
            code: s.code.clone(),
            label: s.name.clone(),
            selected: s.code == selected,
        })
        .collect()
}

fn community_groups(app: &AppState, selected: &[String]) -> Vec<OptGroup> {
    app.dir
        .world
        .streets
        .iter()
        .map(|s| OptGroup {
            label: s.name.clone(),
            items: app
                .dir
                .world
                .communities
                .iter()
                .filter(|c| c.street_code == s.code)
                .map(|c| Opt {
                    code: c.code.clone(),
                    label: c.name.clone(),
                    selected: selected.contains(&c.code),
                })
                .collect(),
        })
        .collect()
}

fn community_name(app: &AppState, code: &str) -> String {
    app.dir
        .community(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// A use case's error beside its form field: the app's field path (`family[0].phone`,
/// `services[2].price_fen`, `consent.date`) is reduced to the form's field name by `map`.
fn form_errors(e: &jiesu_app::AppError, map: &dyn Fn(&str) -> String) -> FieldErrors {
    let mut out = FieldErrors::default();
    let field = e
        .field
        .as_deref()
        .map(map)
        .unwrap_or_else(|| "_form".into());
    out.add(&field, jiesu_app::messages::of(e));
    out
}

/// The first part of a field path: `family[0].phone` → `family`.
fn head(field: &str) -> String {
    field.split(['[', '.']).next().unwrap_or(field).to_string()
}

fn status_of(e: &jiesu_app::AppError) -> StatusCode {
    ApiError::from(e.clone()).status
}

fn app_error_page(user: &WebUser, e: jiesu_app::AppError) -> Response {
    api_error_page(user, &ApiError::from(e))
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

/// 元 as typed (`80`, `80.5`, `80.50`) → fen; more than two decimals is not a price.
pub fn parse_yuan(s: &str) -> Result<i64, &'static str> {
    let s = s.trim().trim_end_matches('元').trim();
    if s.is_empty() {
        return Err("请填写金额。");
    }
    if s.starts_with('-') {
        return Err("金额不能为负数。");
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return Err("金额格式不正确。");
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err("金额格式不正确，请填写数字，如 80 或 80.50。");
    }
    if frac.len() > 2 {
        return Err("金额最多两位小数（精确到分）。");
    }
    if int.len() > 7 {
        return Err("金额过大。");
    }
    let yuan: i64 = if int.is_empty() {
        0
    } else {
        int.parse().unwrap_or(0)
    };
    let fen: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(yuan * 100 + fen)
}

/// `2026-11-03T09:00` (a `datetime-local` input) in the deployment's zone.
fn parse_local(app: &AppState, s: &str) -> Option<Timestamp> {
    let dt: jiff::civil::DateTime = s.trim().parse().ok()?;
    app.dir.calendar.time_zone().to_timestamp(dt).ok()
}

fn local_input(app: &AppState, t: Timestamp) -> String {
    app.dir
        .calendar
        .time_zone()
        .to_datetime(t)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn slot_text(s: &Option<Slot>) -> String {
    match s {
        Some(s) => format!(
            "{}–{}",
            fmt::datetime(s.start),
            fmt::datetime(s.end).get(11..).unwrap_or_default()
        ),
        None => String::new(),
    }
}

/// The deployment's local date now.
fn today(app: &AppState) -> jiff::civil::Date {
    app.dir.calendar.local_date(app.now())
}

fn hhmm(min: u16) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

fn weekday_zh(d: u8) -> &'static str {
    WEEKDAYS
        .get(usize::from(d.saturating_sub(1)))
        .copied()
        .unwrap_or("")
}

fn status_class(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Missed | OrderStatus::Declined => "sla-overdue",
        OrderStatus::Requested | OrderStatus::Assigned => "sla-warning",
        OrderStatus::VisitFinished | OrderStatus::Rated | OrderStatus::Settled => "sla-ok",
        _ => "",
    }
}

// ------------------------------------------------------------------ order rows

pub struct OrderRow {
    pub id: i64,
    pub code: String,
    pub service: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub community: String,
    pub slot: String,
    pub created: String,
    pub alerts: u8,
}

fn order_row(app: &AppState, o: &OrderState) -> OrderRow {
    OrderRow {
        id: o.id,
        code: o.code.clone(),
        service: o.service.label_zh(),
        status: o.status.label_zh(),
        status_class: status_class(o.status),
        community: community_name(app, &o.community),
        slot: slot_text(&o.slot.or(o.wanted)),
        created: fmt::datetime(o.created_at),
        alerts: o.alerts,
    }
}

pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub active: bool,
}

// ------------------------------------------------------------------ /care: the desk

pub struct ElderRow {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub age: i32,
    pub community: String,
    pub living_alone: bool,
    pub basic: bool,
}

fn elder_row(e: &registry::ElderView) -> ElderRow {
    ElderRow {
        id: e.id,
        name: e.name.clone(),
        id_number: e.id_number.clone(),
        age: e.age,
        community: e.community_name.clone(),
        living_alone: e.living_alone,
        basic: e.basic_service_object,
    }
}

#[derive(Template)]
#[template(path = "care_desk.html")]
struct DeskPage {
    nav: Nav,
    scope: String,
    elders: Vec<ElderRow>,
    total: i64,
    prev: Option<u32>,
    next: Option<u32>,
    counts: Vec<(String, &'static str, i64)>,
    flash: String,
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    offset: Option<u32>,
    ok: Option<String>,
}

const PAGE: u32 = 50;

pub async fn desk(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let offset = q.offset.unwrap_or(0);
    let elders = match registry::list(&app, &user.user, None, None, Some(PAGE), Some(offset)).await
    {
        Ok(p) => p,
        Err(e) => return app_error_page(&user, e),
    };
    let mut counts = Vec::new();
    for s in [
        OrderStatus::Requested,
        OrderStatus::Declined,
        OrderStatus::Missed,
        OrderStatus::Assigned,
        OrderStatus::Scheduled,
        OrderStatus::VisitStarted,
        OrderStatus::VisitFinished,
    ] {
        let q = OrderQuery {
            status: Some(s.as_str().into()),
            limit: Some(1),
            ..Default::default()
        };
        match orders::list(&app, &user.user, &q).await {
            Ok(p) => counts.push((s.as_str().to_string(), s.label_zh(), p.total)),
            Err(e) => return app_error_page(&user, e),
        }
    }
    let scope = match (user.role(), user.user.unit_code.as_deref()) {
        (Role::CareManager, Some(street)) => app
            .dir
            .street(street)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| street.to_string()),
        _ => "全区".into(),
    };
    let total = elders.total;
    page(&DeskPage {
        nav: Nav::for_user(&user, "/care"),
        scope,
        elders: elders.items.iter().map(elder_row).collect(),
        total,
        prev: (offset > 0).then(|| offset.saturating_sub(PAGE)),
        next: (i64::from(offset + PAGE) < total).then_some(offset + PAGE),
        counts,
        flash: q.ok.map(|_| "已保存。".to_string()).unwrap_or_default(),
    })
}

// ------------------------------------------------------------------ find (and from a request)

#[derive(Template)]
#[template(path = "care_find.html")]
struct FindPage {
    nav: Nav,
    q: String,
    searched: bool,
    found: Vec<ElderRow>,
    error: String,
    /// Turning 12345 request `request_id` into an order.
    request_id: i64,
    services: Vec<Opt>,
    errors: FieldErrors,
    note: String,
    reply: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct FindQuery {
    q: Option<String>,
}

async fn find_page(
    app: &AppState,
    user: &WebUser,
    q: &str,
    request_id: i64,
    errors: FieldErrors,
    service: &str,
    note: String,
) -> Response {
    let q = q.trim().to_string();
    let mut p = FindPage {
        nav: Nav::for_user(user, if request_id > 0 { "" } else { "/care" }),
        searched: !q.is_empty(),
        q: q.clone(),
        found: Vec::new(),
        error: String::new(),
        request_id,
        services: service_opts(service),
        errors,
        note,
        reply: user.role() == Role::Handler,
    };
    let mut status = if p.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if !q.is_empty() {
        match registry::find(app, &user.user, &q).await {
            Ok(v) => p.found = v.iter().map(elder_row).collect(),
            Err(e) => {
                status = status_of(&e);
                p.error = jiesu_app::messages::of(&e);
            }
        }
    }
    with_status(page(&p), status)
}

pub async fn find(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<FindQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ReadElders) {
        return r;
    }
    find_page(
        &app,
        &user,
        q.q.as_deref().unwrap_or_default(),
        0,
        FieldErrors::default(),
        "",
        String::new(),
    )
    .await
}

// The refusal is the page itself, returned at once by the handler (as `WebUser::require`).
#[allow(clippy::result_large_err)]
fn path_id(user: &WebUser, id: &str) -> Result<i64, Response> {
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| error_page(Some(user), StatusCode::NOT_FOUND, "编号无效。"))
}

/// 转养老服务工单: find the elder of a 12345 request and choose the service.
pub async fn from_request_page(
    State(app): State<AppState>,
    user: WebUser,
    Path(rid): Path<String>,
    Query(q): Query<FindQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::CreateCareOrders) {
        return r;
    }
    let rid = match path_id(&user, &rid) {
        Ok(i) => i,
        Err(r) => return r,
    };
    find_page(
        &app,
        &user,
        q.q.as_deref().unwrap_or_default(),
        rid,
        FieldErrors::default(),
        "",
        String::new(),
    )
    .await
}

pub async fn from_request(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(rid): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::CreateCareOrders) {
        return r;
    }
    let rid = match path_id(&user, &rid) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let q = form.text("q");
    let service = form.text("service");
    let note = form.text("note");
    let mut errors = FieldErrors::default();
    let elder_id = form.get("elder_id").and_then(|v| v.parse::<i64>().ok());
    if elder_id.is_none() {
        errors.add("elder_id", "请先查找并选择老人。");
    }
    let kind = service.parse::<ServiceKind>().ok();
    if kind.is_none() {
        errors.add("service", "请选择服务项目。");
    }
    let (Some(elder_id), Some(kind)) = (elder_id, kind) else {
        return find_page(&app, &user, &q, rid, errors, &service, note).await;
    };
    let r = OrderRequest {
        elder_id,
        service: kind,
        note: note.clone(),
        wanted: None,
        reply: form.checked("reply"),
    };
    match orders::from_request(&app, &user.user, rid, &r).await {
        Ok(o) => Redirect::to(&format!("/care/orders/{}?ok=created", o.id)).into_response(),
        Err(e) if e.field.is_some() => {
            let errors = form_errors(&e, &head);
            let s = status_of(&e);
            with_status(
                find_page(&app, &user, &q, rid, errors, &service, note).await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ one elder

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

pub struct AssessmentRow {
    pub date: String,
    pub assessor: String,
    pub total: u8,
    pub preliminary: &'static str,
    pub grade: &'static str,
    pub recorded: String,
}

#[derive(Template)]
#[template(path = "care_elder.html")]
struct ElderPage {
    nav: Nav,
    id: i64,
    name: String,
    masked: bool,
    facts: Vec<Fact>,
    family: Vec<String>,
    grade: String,
    assessments: Vec<AssessmentRow>,
    can_manage: bool,
    orders: Vec<OrderRow>,
    flash: String,
}

pub async fn elder(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ReadElders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let e = match registry::get(&app, &user.user, id).await {
        Ok(e) => e,
        Err(e) => return app_error_page(&user, e),
    };
    let can_manage = jiesu_app::policy::allows(user.role(), Capability::ManageElders) && !e.masked;
    let assessments = if can_manage {
        match registry::assessments(&app, &user.user, id).await {
            Ok(v) => v
                .iter()
                .map(|a| AssessmentRow {
                    date: a.input.date.to_string(),
                    assessor: a.input.assessor.clone(),
                    total: a.result.total,
                    preliminary: a.result.preliminary.label_zh(),
                    grade: a.result.grade.label_zh(),
                    recorded: fmt::datetime(a.recorded_at),
                })
                .collect(),
            Err(e) => return app_error_page(&user, e),
        }
    } else {
        Vec::new()
    };
    let orders = if jiesu_app::policy::allows(user.role(), Capability::ActOnCareOrders) {
        let q = OrderQuery {
            elder_id: Some(id),
            limit: Some(20),
            ..Default::default()
        };
        match orders::list(&app, &user.user, &q).await {
            Ok(p) => p.items.iter().map(|o| order_row(&app, o)).collect(),
            Err(e) => return app_error_page(&user, e),
        }
    } else {
        Vec::new()
    };
    let yes = |b: bool| if b { "是" } else { "否" }.to_string();
    let mut facts = vec![
        Fact {
            label: "身份证号",
            value: e.id_number.clone(),
        },
        Fact {
            label: "出生日期",
            value: format!("{}（{}岁）", e.birth_date, e.age),
        },
        Fact {
            label: "电话",
            value: e.phone.clone().unwrap_or_default(),
        },
        Fact {
            label: "所在社区",
            value: format!("{} {}", e.street_name, e.community_name),
        },
        Fact {
            label: "地址",
            value: e.address.clone(),
        },
        Fact {
            label: "独居",
            value: yes(e.living_alone),
        },
        Fact {
            label: "基本养老服务对象",
            value: yes(e.basic_service_object),
        },
        Fact {
            label: "其他补贴",
            value: e.subsidies.join("、"),
        },
        Fact {
            label: "照护管理师",
            value: e.care_manager.clone().unwrap_or_default(),
        },
    ];
    if let Some(n) = &e.medical_notes {
        facts.push(Fact {
            label: "健康备注",
            value: n.clone(),
        });
    }
    facts.push(Fact {
        label: "授权",
        value: e
            .consent
            .as_ref()
            .map(|c| format!("{}：{}", c.date, c.scope.join("、")))
            .unwrap_or_else(|| "未记录".into()),
    });
    page(&ElderPage {
        nav: Nav::for_user(&user, "/care"),
        id,
        name: e.name.clone(),
        masked: e.masked,
        facts,
        family: e
            .family
            .iter()
            .map(|f| format!("{}（{}）{}", f.name, f.relation, f.phone))
            .collect(),
        grade: e
            .grade
            .map(|g| g.label_zh().to_string())
            .unwrap_or_else(|| "未评估".into()),
        assessments,
        can_manage,
        orders,
        flash: match q.ok.as_deref() {
            Some("assessed") => "评估已记录，能力等级已按各项得分计算。".into(),
            Some(_) => "老人信息已保存。".into(),
            None => String::new(),
        },
    })
}

// ------------------------------------------------------------------ register / edit

#[derive(Default)]
pub struct ElderValues {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub birth_date: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub living_alone: bool,
    pub basic: bool,
    pub subsidies: String,
    pub family: Vec<(String, String, String)>,
    pub care_manager: String,
    pub medical_notes: String,
    pub consent_date: String,
    pub consent_scope: Vec<String>,
}

const CONSENT_SCOPES: [&str; 4] = ["基本信息", "健康信息", "服务记录", "设备数据"];

#[derive(Template)]
#[template(path = "care_elder_form.html")]
struct ElderFormPage {
    nav: Nav,
    /// 0: a new registration.
    id: i64,
    v: ElderValues,
    errors: FieldErrors,
    streets: Vec<Opt>,
    communities: Vec<OptGroup>,
    scopes: Vec<(&'static str, bool)>,
}

fn elder_form(
    app: &AppState,
    user: &WebUser,
    id: i64,
    mut v: ElderValues,
    errors: FieldErrors,
) -> Response {
    while v.family.len() < 3 {
        v.family.push(Default::default());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let communities = community_groups(app, std::slice::from_ref(&v.community));
    let streets = street_opts(app, &v.street);
    let scopes = CONSENT_SCOPES
        .iter()
        .map(|s| (*s, v.consent_scope.iter().any(|x| x == s)))
        .collect();
    with_status(
        page(&ElderFormPage {
            nav: Nav::for_user(user, "/care"),
            id,
            v,
            errors,
            streets,
            communities,
            scopes,
        }),
        status,
    )
}

pub async fn new_elder(State(app): State<AppState>, user: WebUser) -> Response {
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let v = ElderValues {
        street: match user.role() {
            Role::CareManager => user.user.unit_code.clone().unwrap_or_default(),
            _ => String::new(),
        },
        consent_date: today(&app).to_string(),
        ..Default::default()
    };
    elder_form(&app, &user, 0, v, FieldErrors::default())
}

pub async fn edit_elder(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let e = match registry::get(&app, &user.user, id).await {
        Ok(e) if !e.masked => e,
        Ok(_) => {
            return error_page(
                Some(&user),
                StatusCode::NOT_FOUND,
                "老人不存在或您无权修改。",
            );
        }
        Err(e) => return app_error_page(&user, e),
    };
    let v = ElderValues {
        name: e.name,
        id_number: e.id_number,
        phone: e.phone.unwrap_or_default(),
        birth_date: e.birth_date.to_string(),
        street: e.street,
        community: e.community,
        address: e.address,
        living_alone: e.living_alone,
        basic: e.basic_service_object,
        subsidies: e.subsidies.join("、"),
        family: e
            .family
            .into_iter()
            .map(|f| (f.name, f.relation, f.phone))
            .collect(),
        care_manager: e.care_manager.unwrap_or_default(),
        medical_notes: e.medical_notes.unwrap_or_default(),
        consent_date: e
            .consent
            .as_ref()
            .map(|c| c.date.to_string())
            .unwrap_or_default(),
        consent_scope: e.consent.map(|c| c.scope).unwrap_or_default(),
    };
    elder_form(&app, &user, id, v, FieldErrors::default())
}

fn elder_values(f: &FormData) -> ElderValues {
    ElderValues {
        name: f.text("name"),
        id_number: f.text("id_number"),
        phone: f.text("phone"),
        birth_date: f.text("birth_date"),
        street: f.text("street"),
        community: f.text("community"),
        address: f.text("address"),
        living_alone: f.checked("living_alone"),
        basic: f.checked("basic_service_object"),
        subsidies: f.text("subsidies"),
        family: (0..3)
            .map(|i| {
                (
                    f.text(&format!("family_name_{i}")),
                    f.text(&format!("family_relation_{i}")),
                    f.text(&format!("family_phone_{i}")),
                )
            })
            .collect(),
        care_manager: f.text("care_manager"),
        medical_notes: f.text("medical_notes"),
        consent_date: f.text("consent_date"),
        consent_scope: f.all("consent_scope"),
    }
}

fn elder_input(v: &ElderValues, errors: &mut FieldErrors) -> Option<ElderInput> {
    let birth_date = match v.birth_date.parse::<jiff::civil::Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add("birth_date", "请填写出生日期（年-月-日）。");
            None
        }
    };
    let consent = if v.consent_scope.is_empty() {
        None
    } else {
        match v.consent_date.parse::<jiff::civil::Date>() {
            Ok(date) => Some(Consent {
                date,
                scope: v.consent_scope.clone(),
            }),
            Err(_) => {
                errors.add("consent", "请填写授权日期（年-月-日）。");
                return None;
            }
        }
    };
    let family = v
        .family
        .iter()
        .filter(|(n, r, p)| !(n.is_empty() && r.is_empty() && p.is_empty()))
        .map(|(n, r, p)| FamilyContact {
            name: n.clone(),
            relation: r.clone(),
            phone: p.clone(),
        })
        .collect();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Some(ElderInput {
        name: v.name.clone(),
        id_number: v.id_number.clone(),
        phone: opt(&v.phone),
        birth_date: birth_date?,
        street: v.street.clone(),
        community: v.community.clone(),
        address: v.address.clone(),
        living_alone: v.living_alone,
        basic_service_object: v.basic,
        subsidies: v
            .subsidies
            .split(['、', ',', '，', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        family,
        care_manager: opt(&v.care_manager),
        medical_notes: v.medical_notes.clone(),
        consent,
    })
}

/// Registers an elder.
pub async fn register_elder(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    save(&app, &user, &headers, 0, form).await
}

/// Edits an elder.
pub async fn save_elder(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    match path_id(&user, &id) {
        Ok(id) => save(&app, &user, &headers, id, form).await,
        Err(r) => r,
    }
}

async fn save(
    app: &AppState,
    user: &WebUser,
    headers: &HeaderMap,
    id: i64,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), headers) {
        return csrf_refused(Some(user));
    }
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let v = elder_values(&form);
    let mut errors = FieldErrors::default();
    let Some(input) = elder_input(&v, &mut errors) else {
        return elder_form(app, user, id, v, errors);
    };
    let r = if id == 0 {
        registry::register(app, &user.user, &input).await
    } else {
        registry::update(app, &user.user, id, &input)
            .await
            .map(|()| id)
    };
    match r {
        Ok(id) => Redirect::to(&format!("/care/elders/{id}?ok=saved")).into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &head);
            with_status(elder_form(app, user, id, v, errors), s)
        }
        Err(e) => app_error_page(user, e),
    }
}

// ------------------------------------------------------------------ assessment

pub struct ItemRow {
    pub code: &'static str,
    pub area: &'static str,
    pub item: &'static str,
    pub scores: Vec<(u8, bool)>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "care_assess.html")]
struct AssessPage {
    nav: Nav,
    id: i64,
    name: String,
    date: String,
    assessor: String,
    coma: bool,
    dementia: bool,
    risk: String,
    items: Vec<ItemRow>,
    errors: FieldErrors,
}

fn assess_form(
    user: &WebUser,
    id: i64,
    name: String,
    f: Option<&FormData>,
    date: String,
    errors: FieldErrors,
) -> Response {
    let items = ITEMS
        .iter()
        .map(|(code, area, item, max)| {
            let chosen = f
                .and_then(|f| f.get(&format!("s_{code}")))
                .and_then(|v| v.parse::<u8>().ok());
            ItemRow {
                code,
                area,
                item,
                scores: (0..=*max).map(|s| (s, chosen == Some(s))).collect(),
                error: errors.get(&format!("scores.{code}")).to_string(),
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    with_status(
        page(&AssessPage {
            nav: Nav::for_user(user, "/care"),
            id,
            name,
            date: f.map(|f| f.text("date")).unwrap_or(date),
            assessor: f.map(|f| f.text("assessor")).unwrap_or_default(),
            coma: f.is_some_and(|f| f.checked("coma")),
            dementia: f.is_some_and(|f| f.checked("dementia")),
            risk: f
                .map(|f| f.text("risk_events_30d"))
                .unwrap_or_else(|| "0".into()),
            items,
            errors,
        }),
        status,
    )
}

pub async fn assess_page(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    match registry::get(&app, &user.user, id).await {
        Ok(e) => assess_form(
            &user,
            id,
            e.name,
            None,
            today(&app).to_string(),
            FieldErrors::default(),
        ),
        Err(e) => app_error_page(&user, e),
    }
}

pub async fn assess(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::ManageElders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let name = match registry::get(&app, &user.user, id).await {
        Ok(e) => e.name,
        Err(e) => return app_error_page(&user, e),
    };
    let mut errors = FieldErrors::default();
    let date = form.text("date").parse::<jiff::civil::Date>();
    if date.is_err() {
        errors.add("date", "请填写评估日期（年-月-日）。");
    }
    let mut scores = BTreeMap::new();
    for (code, ..) in ITEMS {
        match form.get(&format!("s_{code}")).map(str::parse::<u8>) {
            Some(Ok(s)) => {
                scores.insert(code.to_string(), s);
            }
            _ => errors.add(&format!("scores.{code}"), "请为此项评分。"),
        }
    }
    let risk = form.text("risk_events_30d").parse::<u8>();
    if risk.is_err() {
        errors.add("risk_events_30d", "请填写近30天照护风险事件次数（整数）。");
    }
    let (Ok(date), Ok(risk), true) = (date, risk, errors.is_empty()) else {
        return assess_form(&user, id, name, Some(&form), String::new(), errors);
    };
    let a = AssessmentInput {
        date,
        assessor: form.text("assessor"),
        scores,
        coma: form.checked("coma"),
        dementia_or_mental_disorder: form.checked("dementia"),
        risk_events_30d: risk,
    };
    match registry::assess(&app, &user.user, id, &a).await {
        Ok(_) => Redirect::to(&format!("/care/elders/{id}?ok=assessed")).into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &|f| f.to_string());
            with_status(
                assess_form(&user, id, name, Some(&form), String::new(), errors),
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ order lists

#[derive(Template)]
#[template(path = "care_orders.html")]
struct OrdersPage {
    nav: Nav,
    title: &'static str,
    tabs: Vec<Tab>,
    rows: Vec<OrderRow>,
    total: i64,
    prev: String,
    next: String,
}

#[derive(serde::Deserialize, Default)]
pub struct OrdersQuery {
    status: Option<String>,
    offset: Option<u32>,
}

pub async fn order_list(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<OrdersQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ActOnCareOrders) {
        return r;
    }
    let status = q.status.clone().filter(|s| !s.is_empty());
    let offset = q.offset.unwrap_or(0);
    let oq = OrderQuery {
        status: status.clone(),
        limit: Some(PAGE),
        offset: Some(offset),
        ..Default::default()
    };
    let p = match orders::list(&app, &user.user, &oq).await {
        Ok(p) => p,
        Err(e) => return app_error_page(&user, e),
    };
    let cur = status.clone().unwrap_or_default();
    let mut tabs = vec![Tab {
        href: "/care/orders".into(),
        label: "全部",
        active: cur.is_empty(),
    }];
    tabs.extend(OrderStatus::ALL.iter().map(|s| Tab {
        href: format!("/care/orders?status={}", s.as_str()),
        label: s.label_zh(),
        active: cur == s.as_str(),
    }));
    let link = |o: u32| format!("/care/orders?status={cur}&offset={o}");
    page(&OrdersPage {
        nav: Nav::for_user(&user, "/care/orders"),
        title: "养老服务工单",
        tabs,
        rows: p.items.iter().map(|o| order_row(&app, o)).collect(),
        total: p.total,
        prev: if offset > 0 {
            link(offset.saturating_sub(PAGE))
        } else {
            String::new()
        },
        next: if i64::from(offset + PAGE) < p.total {
            link(offset + PAGE)
        } else {
            String::new()
        },
    })
}

// ------------------------------------------------------------------ one order

pub struct MatchRow {
    pub provider: String,
    pub name: String,
    pub price: String,
    pub copay: String,
    pub score: String,
    pub reasons: String,
}

pub struct CarerOpt {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

pub struct Step {
    pub when: String,
    pub label: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "care_order.html")]
struct OrderPage {
    nav: Nav,
    id: i64,
    code: String,
    status: &'static str,
    status_class: &'static str,
    service: &'static str,
    facts: Vec<Fact>,
    elder_masked: bool,
    elder_id: i64,
    steps: Vec<Step>,
    flash: String,
    errors: FieldErrors,
    /// The matcher's proposals (care staff, while the order awaits a provider).
    can_assign: bool,
    matches: Vec<MatchRow>,
    can_cancel: bool,
    /// The provider's actions in the order's state.
    provider_desk: bool,
    can_schedule: bool,
    can_start: bool,
    can_finish: bool,
    can_decline: bool,
    carers: Vec<CarerOpt>,
    slot_start: String,
    duration: String,
    place: String,
}

fn event_step(app: &AppState, e: &jiesu_domain::case::CaseEvent<OrderEvent>) -> Step {
    let (label, detail) = match &e.payload {
        OrderEvent::Requested { origin, note, .. } => (
            "工单创建",
            format!(
                "来源：{}{}",
                origin.label_zh(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("；{note}")
                }
            ),
        ),
        OrderEvent::Assigned {
            provider,
            price_fen,
            copay_fen,
            reason,
        } => (
            "派给服务商",
            format!(
                "{provider}，价格{}元，自付{}元；{reason}",
                fen_yuan(*price_fen),
                fen_yuan(*copay_fen)
            ),
        ),
        OrderEvent::Declined { provider } => ("服务商拒单", provider.clone()),
        OrderEvent::Scheduled { slot, .. } => ("已排班", slot_text(&Some(*slot))),
        OrderEvent::Rescheduled { slot, .. } => ("改期", slot_text(&Some(*slot))),
        OrderEvent::VisitStarted { at, place, .. } => {
            ("开始服务", format!("{}，地点：{place}", fmt::datetime(*at)))
        }
        OrderEvent::VisitFinished { at, notes } => (
            "结束服务",
            format!(
                "{}{}",
                fmt::datetime(*at),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!("；{notes}")
                }
            ),
        ),
        OrderEvent::LateAlert { minutes, .. } => {
            ("超时提醒", format!("服务开始已超时{minutes}分钟"))
        }
        OrderEvent::Missed => ("漏服务", "服务时段已过，未开始服务".into()),
        OrderEvent::Rated { score, comment } => ("评价", format!("{score}分 {comment}")),
        OrderEvent::Settled { .. } => ("已结算", String::new()),
        OrderEvent::Cancelled => ("已取消", String::new()),
    };
    let _ = app;
    Step {
        when: fmt::datetime(e.at),
        label: label.into(),
        detail,
    }
}

async fn render_order(
    app: &AppState,
    user: &WebUser,
    id: i64,
    errors: FieldErrors,
    flash: String,
) -> Response {
    let d = match orders::detail(app, &user.user, id).await {
        Ok(d) => d,
        Err(e) => return app_error_page(user, e),
    };
    let o = &d.order;
    let role = user.role();
    let staff = jiesu_app::policy::allows(role, Capability::CreateCareOrders);
    let can_assign = staff
        && matches!(
            o.status,
            OrderStatus::Requested | OrderStatus::Declined | OrderStatus::Missed
        );
    let matches = if can_assign {
        match orders::matches(app, &user.user, id).await {
            Ok(v) => v
                .iter()
                .map(|m| MatchRow {
                    provider: m.provider.clone(),
                    name: m.name.clone(),
                    price: fen_yuan(m.price_fen),
                    copay: fen_yuan(m.copay_fen),
                    score: format!("{:.3}", m.score),
                    reasons: m.reasons.join("；"),
                })
                .collect(),
            Err(e) => return app_error_page(user, e),
        }
    } else {
        Vec::new()
    };
    let provider_desk = role == Role::Provider;
    let carers = if provider_desk {
        let code = user.user.unit_code.clone().unwrap_or_default();
        match network::carers(app, &user.user, &code).await {
            Ok(v) => v
                .into_iter()
                .filter(|c| c.active)
                .map(|c| CarerOpt {
                    id: c.id,
                    selected: o.carer_id == Some(c.id),
                    name: format!(
                        "{}（{}）",
                        c.name,
                        c.skills
                            .iter()
                            .map(|s| s.label_zh())
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                })
                .collect(),
            Err(e) => return app_error_page(user, e),
        }
    } else {
        Vec::new()
    };
    let e = &d.elder;
    let mut facts = vec![
        Fact {
            label: "服务项目",
            value: o.service.label_zh().into(),
        },
        Fact {
            label: "老人",
            value: format!("{}（{}岁）", e.name, e.age),
        },
        Fact {
            label: "电话",
            value: e.phone.clone().unwrap_or_default(),
        },
        Fact {
            label: "地址",
            value: format!("{} {}", e.community_name, e.address),
        },
        Fact {
            label: "来源",
            value: o
                .origin
                .as_ref()
                .map(|x| x.label_zh())
                .unwrap_or_default()
                .into(),
        },
        Fact {
            label: "服务商",
            value: d.provider_name.clone().unwrap_or_default(),
        },
        Fact {
            label: "预约时段",
            value: slot_text(&o.slot.or(o.wanted)),
        },
    ];
    if o.provider.is_some() {
        facts.push(Fact {
            label: "价格",
            value: format!(
                "{}元（老人自付{}元）",
                fen_yuan(o.price_fen),
                fen_yuan(o.copay_fen)
            ),
        });
    }
    if !o.note.is_empty() {
        facts.push(Fact {
            label: "备注",
            value: o.note.clone(),
        });
    }
    if let Some(v) = &o.visit {
        facts.push(Fact {
            label: "服务核验",
            value: format!(
                "开始{}，结束{}，地点：{}",
                fmt::datetime(v.started_at),
                fmt::opt_datetime(v.finished_at),
                v.place
            ),
        });
    }
    if let Some(r) = &o.rating {
        facts.push(Fact {
            label: "评价",
            value: format!("{}分 {}", r.score, r.comment),
        });
    }
    let now = app.now();
    let default_start = o
        .slot
        .or(o.wanted)
        .map(|s| s.start)
        .filter(|t| *t > now)
        .unwrap_or(now + jiff::SignedDuration::from_hours(1));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    with_status(
        page(&OrderPage {
            nav: Nav::for_user(
                user,
                if provider_desk {
                    "/care/provider"
                } else {
                    "/care/orders"
                },
            ),
            id,
            code: o.code.clone(),
            status: o.status.label_zh(),
            status_class: status_class(o.status),
            service: o.service.label_zh(),
            facts,
            elder_masked: e.masked,
            elder_id: e.id,
            steps: d.events.iter().map(|ev| event_step(app, ev)).collect(),
            flash,
            errors,
            can_assign,
            matches,
            can_cancel: matches!(role, Role::CareManager | Role::CareAdmin | Role::Operator)
                && matches!(
                    o.status,
                    OrderStatus::Requested
                        | OrderStatus::Assigned
                        | OrderStatus::Scheduled
                        | OrderStatus::Declined
                        | OrderStatus::Missed
                ),
            provider_desk,
            can_schedule: provider_desk
                && matches!(o.status, OrderStatus::Assigned | OrderStatus::Scheduled),
            can_start: provider_desk && o.status == OrderStatus::Scheduled,
            can_finish: provider_desk && o.status == OrderStatus::VisitStarted,
            can_decline: provider_desk
                && matches!(o.status, OrderStatus::Assigned | OrderStatus::Scheduled),
            carers,
            slot_start: local_input(app, default_start),
            duration: o
                .slot
                .or(o.wanted)
                .map(|s| s.end.duration_since(s.start).as_mins().to_string())
                .unwrap_or_else(|| "60".into()),
            place: if e.masked {
                String::new()
            } else {
                format!("{}{}", e.community_name, e.address)
            },
        }),
        status,
    )
}

fn done_text(what: &str) -> &'static str {
    match what {
        "created" => "养老服务工单已创建，请从下方推荐的服务商中选择派单。",
        "assign" => "已派给服务商。",
        "schedule" => "排班已保存，老人与家属可在市民服务页面查看预约时段。",
        "start" => "已开始服务，服务地点和开始时间已记录。",
        "finish" => "服务已结束，等待家属评价。",
        "decline" => "已拒单，工单退回照护管理师重新派单。",
        "cancel" => "工单已取消。",
        _ => "操作已完成。",
    }
}

pub async fn order(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ActOnCareOrders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let flash =
        q.ok.as_deref()
            .map(done_text)
            .unwrap_or_default()
            .to_string();
    render_order(&app, &user, id, FieldErrors::default(), flash).await
}

pub async fn assign(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::CreateCareOrders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let code = form.text("provider");
    match orders::assign(&app, &user.user, id, &code).await {
        Ok(_) => Redirect::to(&format!("/care/orders/{id}?ok=assign")).into_response(),
        Err(e)
            if e.kind != jiesu_app::ErrorKind::NotFound
                && e.kind != jiesu_app::ErrorKind::Forbidden =>
        {
            let s = status_of(&e);
            let errors = form_errors(&e, &|_| "_form".into());
            with_status(
                render_order(&app, &user, id, errors, String::new()).await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

/// The provider's (and care staff's) commands on an order from its page.
pub async fn order_act(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::ActOnCareOrders) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::default();
    let carer = || form.get("carer_id").and_then(|v| v.parse::<i64>().ok());
    let cmd = match action.as_str() {
        "schedule" => {
            let start = form.get("start").and_then(|s| parse_local(&app, s));
            let mins = form
                .get("duration")
                .and_then(|d| d.parse::<i64>().ok())
                .filter(|m| (1..=720).contains(m));
            if carer().is_none() {
                errors.add("carer_id", "请选择护理员。");
            }
            if start.is_none() {
                errors.add("start", "请选择开始时间。");
            }
            if mins.is_none() {
                errors.add("duration", "服务时长应为1～720分钟。");
            }
            match (carer(), start, mins) {
                (Some(carer_id), Some(start), Some(m)) => Some(OrderCommand::Schedule {
                    carer_id,
                    slot: Slot {
                        start,
                        end: start + jiff::SignedDuration::from_mins(m),
                    },
                }),
                _ => None,
            }
        }
        "start" => {
            if carer().is_none() {
                errors.add("carer_id", "请选择上门的护理员。");
            }
            // GPS from the browser when allowed, else the confirmed address as typed.
            let gps = form.text("gps");
            let place = if gps.is_empty() {
                form.text("place")
            } else {
                gps
            };
            carer().map(|carer_id| OrderCommand::StartVisit {
                carer_id,
                place,
                at: None,
            })
        }
        "finish" => Some(OrderCommand::FinishVisit {
            notes: form.text("notes"),
            at: None,
        }),
        "decline" => Some(OrderCommand::Decline),
        "cancel" => Some(OrderCommand::Cancel),
        _ => return error_page(Some(&user), StatusCode::NOT_FOUND, "未知操作。"),
    };
    let Some(cmd) = cmd else {
        return render_order(&app, &user, id, errors, String::new()).await;
    };
    match orders::act(&app, &user.user, id, &cmd).await {
        Ok(_) => {
            let to = if user.role() == Role::Provider && action == "decline" {
                "/care/provider?ok=decline".to_string()
            } else {
                format!("/care/orders/{id}?ok={action}")
            };
            Redirect::to(&to).into_response()
        }
        Err(e)
            if e.kind != jiesu_app::ErrorKind::NotFound
                && e.kind != jiesu_app::ErrorKind::Forbidden =>
        {
            let s = status_of(&e);
            let errors = form_errors(&e, &|f| match f {
                "slot.start" => "start".into(),
                "slot.end" | "slot" => "duration".into(),
                "started_at" | "place" => "place".into(),
                "finished_at" | "notes" => "notes".into(),
                other => other.to_string(),
            });
            with_status(
                render_order(&app, &user, id, errors, String::new()).await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ the provider's desk

pub struct PriceRow {
    pub service: &'static str,
    pub price: String,
    pub copay: String,
}

pub struct CarerRow {
    pub name: String,
    pub skills: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "care_provider.html")]
struct ProviderPage {
    nav: Nav,
    name: String,
    found: bool,
    today: Vec<OrderRow>,
    upcoming: Vec<OrderRow>,
    waiting: Vec<OrderRow>,
    finished: Vec<OrderRow>,
    prices: Vec<PriceRow>,
    slots: Vec<String>,
    carers: Vec<CarerRow>,
    skills: Vec<Opt>,
    errors: FieldErrors,
    flash: String,
    /// A meal point's staff account: the meal form instead.
    meal_point: Option<MealPointInfo>,
    meal: MealValues,
    meal_errors: FieldErrors,
}

pub struct MealPointInfo {
    pub code: String,
    pub name: String,
}

#[derive(Default)]
pub struct MealValues {
    pub elder_id: String,
    pub point: String,
    pub date: String,
    pub meal: String,
    pub bill: String,
}

async fn provider_desk_page(
    app: &AppState,
    user: &WebUser,
    errors: FieldErrors,
    flash: String,
    meal: MealValues,
    meal_errors: FieldErrors,
) -> Response {
    let code = user.user.unit_code.clone().unwrap_or_default();
    let own = match network::providers(app, &user.user).await {
        Ok(v) => v.into_iter().find(|p| p.code == code),
        Err(e) => return app_error_page(user, e),
    };
    let mut p = ProviderPage {
        nav: Nav::for_user(user, "/care/provider"),
        name: own.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        found: own.is_some(),
        today: Vec::new(),
        upcoming: Vec::new(),
        waiting: Vec::new(),
        finished: Vec::new(),
        prices: Vec::new(),
        slots: Vec::new(),
        carers: Vec::new(),
        skills: service_opts(""),
        errors,
        flash,
        meal_point: None,
        meal,
        meal_errors,
    };
    let status = if p.errors.is_empty() && p.meal_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let Some(own) = own else {
        // A meal point's staff: the account's unit is the point.
        if let Ok(points) = network::meal_points(app, &user.user).await
            && let Some(mp) = points.into_iter().find(|m| m.code == code)
        {
            p.name = mp.name.clone();
            p.meal.point = mp.code.clone();
            if p.meal.date.is_empty() {
                p.meal.date = today(app).to_string();
            }
            p.meal_point = Some(MealPointInfo {
                code: mp.code,
                name: mp.name,
            });
        }
        return with_status(page(&p), status);
    };
    let today = today(app);
    let tz = app.dir.calendar.time_zone().clone();
    let list = |s: OrderStatus| OrderQuery {
        status: Some(s.as_str().into()),
        limit: Some(200),
        ..Default::default()
    };
    for s in [
        OrderStatus::Assigned,
        OrderStatus::Scheduled,
        OrderStatus::VisitStarted,
        OrderStatus::VisitFinished,
    ] {
        let items = match orders::list(app, &user.user, &list(s)).await {
            Ok(p) => p.items,
            Err(e) => return app_error_page(user, e),
        };
        for o in items {
            let row = order_row(app, &o);
            match s {
                OrderStatus::Assigned => p.waiting.push(row),
                OrderStatus::VisitFinished => {
                    if p.finished.len() < 10 {
                        p.finished.push(row)
                    }
                }
                _ => {
                    let day = o.slot.map(|x| tz.to_datetime(x.start).date());
                    if day.is_some_and(|d| d <= today) || s == OrderStatus::VisitStarted {
                        p.today.push(row)
                    } else {
                        p.upcoming.push(row)
                    }
                }
            }
        }
    }
    p.today.sort_by(|a, b| a.slot.cmp(&b.slot));
    p.upcoming.sort_by(|a, b| a.slot.cmp(&b.slot));
    p.prices = own
        .services
        .iter()
        .map(|s| PriceRow {
            service: s.service.label_zh(),
            price: fen_yuan(s.price_fen),
            copay: fen_yuan(s.copay_fen),
        })
        .collect();
    p.slots = own
        .slots
        .iter()
        .map(|s| {
            format!(
                "{} {}–{}，可接{}单",
                weekday_zh(s.weekday),
                hhmm(s.start_min),
                hhmm(s.end_min),
                s.capacity
            )
        })
        .collect();
    p.carers = match network::carers(app, &user.user, &own.code).await {
        Ok(v) => v
            .iter()
            .map(|c| CarerRow {
                name: c.name.clone(),
                skills: c
                    .skills
                    .iter()
                    .map(|s| s.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                active: c.active,
            })
            .collect(),
        Err(e) => return app_error_page(user, e),
    };
    with_status(page(&p), status)
}

pub async fn provider_desk(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ProviderDesk) {
        return r;
    }
    let flash = match q.ok.as_deref() {
        Some("carer") => "护理员已添加。",
        Some("meal") => "助餐记录已保存。",
        Some(x) => done_text(x),
        None => "",
    };
    provider_desk_page(
        &app,
        &user,
        FieldErrors::default(),
        flash.into(),
        MealValues::default(),
        FieldErrors::default(),
    )
    .await
}

pub async fn add_carer(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::ProviderDesk) {
        return r;
    }
    let skills = form
        .all("skills")
        .iter()
        .filter_map(|s| s.parse::<ServiceKind>().ok())
        .collect();
    let c = Carer {
        id: 0,
        provider: user.user.unit_code.clone().unwrap_or_default(),
        name: form.text("carer_name"),
        skills,
        active: true,
    };
    match network::add_carer(&app, &user.user, &c).await {
        Ok(_) => Redirect::to("/care/provider?ok=carer").into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &|f| {
                if f == "name" {
                    "carer_name".into()
                } else {
                    f.to_string()
                }
            });
            with_status(
                provider_desk_page(
                    &app,
                    &user,
                    errors,
                    String::new(),
                    MealValues::default(),
                    FieldErrors::default(),
                )
                .await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ meals

fn meal_values(f: &FormData) -> MealValues {
    MealValues {
        elder_id: f.text("elder_id"),
        point: f.text("point"),
        date: f.text("date"),
        meal: f.text("meal"),
        bill: f.text("bill"),
    }
}

fn meal_input(v: &MealValues, errors: &mut FieldErrors) -> Option<MealInput> {
    let elder_id = v.elder_id.parse::<i64>().ok();
    if elder_id.is_none() {
        errors.add("elder_id", "请填写老人编号。");
    }
    let date = v.date.parse::<jiff::civil::Date>().ok();
    if date.is_none() {
        errors.add("date", "请填写就餐日期（年-月-日）。");
    }
    let meal = v.meal.parse::<MealKind>().ok();
    if meal.is_none() {
        errors.add("meal", "请选择午餐或晚餐。");
    }
    let bill = match parse_yuan(&v.bill) {
        Ok(f) => Some(f),
        Err(m) => {
            errors.add("bill", format!("账单金额：{m}"));
            None
        }
    };
    Some(MealInput {
        elder_id: elder_id?,
        point: v.point.clone(),
        date: date?,
        meal: meal?,
        bill_fen: bill?,
    })
}

fn meal_field(f: &str) -> String {
    match f {
        "bill_fen" => "bill".into(),
        other => head(other),
    }
}

/// Records a meal at the till: a meal point's staff (back to its desk) or the 民政 office.
pub async fn record_meal(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::RecordMeals) {
        return r;
    }
    let v = meal_values(&form);
    let mut errors = FieldErrors::default();
    let input = meal_input(&v, &mut errors);
    let result = match input {
        Some(m) => meals::record(&app, &user.user, &m).await.map_err(|e| {
            let s = status_of(&e);
            (s, form_errors(&e, &meal_field))
        }),
        None => Err((StatusCode::UNPROCESSABLE_ENTITY, errors)),
    };
    let provider = user.role() == Role::Provider;
    match result {
        Ok(m) => {
            let text = format!(
                "助餐记录已保存：账单{}元，补贴{}元，老人实付{}元。",
                fen_yuan(m.bill_fen),
                fen_yuan(m.elder_subsidy_fen),
                fen_yuan(m.elder_paid_fen)
            );
            if provider {
                let keep = MealValues {
                    point: v.point,
                    date: v.date,
                    ..Default::default()
                };
                provider_desk_page(
                    &app,
                    &user,
                    FieldErrors::default(),
                    text,
                    keep,
                    FieldErrors::default(),
                )
                .await
            } else {
                admin_page(
                    &app,
                    &user,
                    AdminForms {
                        flash: text,
                        ..Default::default()
                    },
                )
                .await
            }
        }
        Err((s, errors)) if provider => with_status(
            provider_desk_page(
                &app,
                &user,
                FieldErrors::default(),
                String::new(),
                v,
                errors,
            )
            .await,
            s,
        ),
        Err((s, errors)) => with_status(
            admin_page(
                &app,
                &user,
                AdminForms {
                    meal_errors: errors,
                    meal: v,
                    ..Default::default()
                },
            )
            .await,
            s,
        ),
    }
}

// ------------------------------------------------------------------ 民政: the network

pub struct ProviderRow {
    pub code: String,
    pub name: String,
    pub place: String,
    pub phone: String,
    pub active: bool,
    pub prices: String,
    pub coverage: String,
    pub slots: String,
}

pub struct MealPointRow {
    pub code: String,
    pub name: String,
    pub place: String,
    pub capacity: u32,
    pub hours: String,
    pub communities: String,
    pub active: bool,
}

pub struct ServiceRow {
    pub code: &'static str,
    pub label: &'static str,
    pub on: bool,
    pub price: String,
    pub copay: String,
    pub error: String,
}

#[derive(Default)]
pub struct ProviderValues {
    pub code: String,
    pub name: String,
    pub street: String,
    pub community: String,
    pub phone: String,
    pub active: bool,
    pub services: BTreeMap<String, (String, String)>,
    pub coverage: Vec<String>,
    pub slots: String,
    pub editing: bool,
}

#[derive(Default)]
pub struct PointValues {
    pub code: String,
    pub name: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub capacity: String,
    pub hours: String,
    pub communities: Vec<String>,
    pub active: bool,
}

#[derive(Default)]
struct AdminForms {
    flash: String,
    provider: Option<ProviderValues>,
    provider_errors: FieldErrors,
    point: Option<PointValues>,
    point_errors: FieldErrors,
    meal: MealValues,
    meal_errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "care_admin.html")]
struct AdminPage {
    nav: Nav,
    flash: String,
    providers: Vec<ProviderRow>,
    points: Vec<MealPointRow>,
    pv: ProviderValues,
    perr: FieldErrors,
    services: Vec<ServiceRow>,
    p_streets: Vec<Opt>,
    p_communities: Vec<OptGroup>,
    coverage: Vec<OptGroup>,
    mv: PointValues,
    merr: FieldErrors,
    m_streets: Vec<Opt>,
    m_communities: Vec<OptGroup>,
    m_served: Vec<OptGroup>,
    meal: MealValues,
    meal_errors: FieldErrors,
    point_opts: Vec<Opt>,
    month: String,
}

fn provider_values(p: &Provider) -> ProviderValues {
    ProviderValues {
        code: p.code.clone(),
        name: p.name.clone(),
        street: p.street.clone(),
        community: p.community.clone(),
        phone: p.phone.clone(),
        active: p.active,
        services: p
            .services
            .iter()
            .map(|s| {
                (
                    s.service.as_str().to_string(),
                    (fen_yuan(s.price_fen), fen_yuan(s.copay_fen)),
                )
            })
            .collect(),
        coverage: p.coverage.clone(),
        slots: p
            .slots
            .iter()
            .map(|s| {
                format!(
                    "{} {}-{} {}",
                    weekday_zh(s.weekday),
                    hhmm(s.start_min),
                    hhmm(s.end_min),
                    s.capacity
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        editing: true,
    }
}

async fn admin_page(app: &AppState, user: &WebUser, f: AdminForms) -> Response {
    let providers = match network::providers(app, &user.user).await {
        Ok(v) => v,
        Err(e) => return app_error_page(user, e),
    };
    let points = match network::meal_points(app, &user.user).await {
        Ok(v) => v,
        Err(e) => return app_error_page(user, e),
    };
    let errors =
        !(f.provider_errors.is_empty() && f.point_errors.is_empty() && f.meal_errors.is_empty());
    let pv = f.provider.unwrap_or(ProviderValues {
        active: true,
        ..Default::default()
    });
    let mv = f.point.unwrap_or(PointValues {
        active: true,
        ..Default::default()
    });
    let services = ServiceKind::ALL
        .iter()
        .map(|k| {
            let v = pv.services.get(k.as_str());
            ServiceRow {
                code: k.as_str(),
                label: k.label_zh(),
                on: v.is_some(),
                price: v.map(|x| x.0.clone()).unwrap_or_default(),
                copay: v.map(|x| x.1.clone()).unwrap_or_default(),
                error: f
                    .provider_errors
                    .get(&format!("svc_{}", k.as_str()))
                    .to_string(),
            }
        })
        .collect();
    let mut meal = f.meal;
    if meal.date.is_empty() {
        meal.date = today(app).to_string();
    }
    let page_data = AdminPage {
        nav: Nav::for_user(user, "/care/admin"),
        flash: f.flash,
        providers: providers
            .iter()
            .map(|p| ProviderRow {
                code: p.code.clone(),
                name: p.name.clone(),
                place: community_name(app, &p.community),
                phone: p.phone.clone(),
                active: p.active,
                prices: p
                    .services
                    .iter()
                    .map(|s| format!("{} {}元", s.service.label_zh(), fen_yuan(s.price_fen)))
                    .collect::<Vec<_>>()
                    .join("、"),
                coverage: {
                    let names: Vec<String> = p
                        .coverage
                        .iter()
                        .take(4)
                        .map(|c| community_name(app, c))
                        .collect();
                    if p.coverage.len() > 4 {
                        format!("{}等{}个社区", names.join("、"), p.coverage.len())
                    } else {
                        names.join("、")
                    }
                },
                slots: p
                    .slots
                    .iter()
                    .map(|s| {
                        format!(
                            "{}{}–{}({})",
                            weekday_zh(s.weekday),
                            hhmm(s.start_min),
                            hhmm(s.end_min),
                            s.capacity
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
        points: points
            .iter()
            .map(|m| MealPointRow {
                code: m.code.clone(),
                name: m.name.clone(),
                place: format!("{} {}", community_name(app, &m.community), m.address),
                capacity: m.capacity,
                hours: m.hours.clone(),
                communities: m
                    .communities
                    .iter()
                    .map(|c| community_name(app, c))
                    .collect::<Vec<_>>()
                    .join("、"),
                active: m.active,
            })
            .collect(),
        p_streets: street_opts(app, &pv.street),
        p_communities: community_groups(app, std::slice::from_ref(&pv.community)),
        coverage: community_groups(app, &pv.coverage),
        services,
        perr: f.provider_errors,
        pv,
        m_streets: street_opts(app, &mv.street),
        m_communities: community_groups(app, std::slice::from_ref(&mv.community)),
        m_served: community_groups(app, &mv.communities),
        merr: f.point_errors,
        mv,
        point_opts: points
            .iter()
            .map(|m| Opt {
                code: m.code.clone(),
                label: m.name.clone(),
                selected: m.code == meal.point,
            })
            .collect(),
        meal,
        meal_errors: f.meal_errors,
        month: {
            let d = today(app);
            format!("{:04}-{:02}", d.year(), d.month())
        },
    };
    with_status(
        page(&page_data),
        if errors {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
    )
}

#[derive(serde::Deserialize, Default)]
pub struct AdminQuery {
    edit: Option<String>,
    ok: Option<String>,
}

pub async fn admin(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<AdminQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::ManageCareNetwork) {
        return r;
    }
    let mut f = AdminForms {
        flash: match q.ok.as_deref() {
            Some("provider") => "服务商已保存。".into(),
            Some("point") => "助餐点已保存。".into(),
            _ => String::new(),
        },
        ..Default::default()
    };
    if let Some(code) = q.edit.as_deref() {
        match network::providers(&app, &user.user).await {
            Ok(v) => f.provider = v.iter().find(|p| p.code == code).map(provider_values),
            Err(e) => return app_error_page(&user, e),
        }
    }
    admin_page(&app, &user, f).await
}

/// `周一 08:00-12:00 4` (or `1 08:00-12:00 4`), one slot a line.
fn parse_slots(text: &str) -> Result<Vec<WeeklySlot>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || format!("第{}行格式不正确，应为“周一 08:00-12:00 4”。", i + 1);
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [day, range, cap] = parts[..] else {
            return Err(bad());
        };
        let weekday = WEEKDAYS
            .iter()
            .position(|d| *d == day)
            .map(|p| p as u8 + 1)
            .or_else(|| day.parse::<u8>().ok())
            .ok_or_else(bad)?;
        let (a, b) = range.split_once('-').ok_or_else(bad)?;
        let mins = |t: &str| -> Option<u16> {
            let (h, m) = t.split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60).then_some(h * 60 + m)
        };
        let (start_min, end_min) = (mins(a).ok_or_else(bad)?, mins(b).ok_or_else(bad)?);
        let capacity = cap.parse::<u32>().map_err(|_| bad())?;
        out.push(WeeklySlot {
            weekday,
            start_min,
            end_min,
            capacity,
        });
    }
    Ok(out)
}

pub async fn save_provider(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::ManageCareNetwork) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let mut pv = ProviderValues {
        code: form.text("code"),
        name: form.text("name"),
        street: form.text("street"),
        community: form.text("community"),
        phone: form.text("phone"),
        active: form.checked("active"),
        coverage: form.all("coverage"),
        slots: form.text("slots"),
        editing: form.checked("editing"),
        ..Default::default()
    };
    let mut services = Vec::new();
    let mut order = Vec::new();
    for k in ServiceKind::ALL {
        let key = k.as_str();
        if !form.checked(&format!("svc_{key}")) {
            continue;
        }
        let price = form.text(&format!("price_{key}"));
        let copay = form.text(&format!("copay_{key}"));
        pv.services
            .insert(key.to_string(), (price.clone(), copay.clone()));
        let p = parse_yuan(&price);
        let c = if copay.is_empty() {
            Ok(0)
        } else {
            parse_yuan(&copay)
        };
        match (p, c) {
            (Ok(price_fen), Ok(copay_fen)) => {
                order.push(key);
                services.push(PriceItem {
                    service: *k,
                    price_fen,
                    copay_fen,
                });
            }
            (Err(m), _) => errors.add(&format!("svc_{key}"), format!("价格：{m}")),
            (_, Err(m)) => errors.add(&format!("svc_{key}"), format!("自付金额：{m}")),
        }
    }
    let slots = match parse_slots(&pv.slots) {
        Ok(s) => s,
        Err(m) => {
            errors.add("slots", m);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return admin_page(
            &app,
            &user,
            AdminForms {
                provider: Some(pv),
                provider_errors: errors,
                ..Default::default()
            },
        )
        .await;
    }
    let p = Provider {
        code: pv.code.clone(),
        name: pv.name.clone(),
        street: pv.street.clone(),
        community: pv.community.clone(),
        phone: pv.phone.clone(),
        active: pv.active,
        services,
        coverage: pv.coverage.clone(),
        slots,
    };
    match network::save_provider(&app, &user.user, &p).await {
        Ok(()) => Redirect::to("/care/admin?ok=provider").into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &|f| {
                if let Some(rest) = f.strip_prefix("services[")
                    && let Some(i) = rest.split(']').next().and_then(|i| i.parse::<usize>().ok())
                    && let Some(k) = order.get(i)
                {
                    return format!("svc_{k}");
                }
                head(f)
            });
            with_status(
                admin_page(
                    &app,
                    &user,
                    AdminForms {
                        provider: Some(pv),
                        provider_errors: errors,
                        ..Default::default()
                    },
                )
                .await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

pub async fn save_point(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::ManageCareNetwork) {
        return r;
    }
    let mv = PointValues {
        code: form.text("code"),
        name: form.text("name"),
        street: form.text("street"),
        community: form.text("community"),
        address: form.text("address"),
        capacity: form.text("capacity"),
        hours: form.text("hours"),
        communities: form.all("communities"),
        active: form.checked("active"),
    };
    let Ok(capacity) = mv.capacity.parse::<u32>() else {
        let mut errors = FieldErrors::default();
        errors.add("capacity", "每餐接待人数应为1～5000的整数。");
        return admin_page(
            &app,
            &user,
            AdminForms {
                point: Some(mv),
                point_errors: errors,
                ..Default::default()
            },
        )
        .await;
    };
    let m = MealPoint {
        code: mv.code.clone(),
        name: mv.name.clone(),
        street: mv.street.clone(),
        community: mv.community.clone(),
        address: mv.address.clone(),
        capacity,
        hours: mv.hours.clone(),
        active: mv.active,
        communities: mv.communities.clone(),
    };
    match network::save_meal_point(&app, &user.user, &m).await {
        Ok(()) => Redirect::to("/care/admin?ok=point").into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &head);
            with_status(
                admin_page(
                    &app,
                    &user,
                    AdminForms {
                        point: Some(mv),
                        point_errors: errors,
                        ..Default::default()
                    },
                )
                .await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ settlement

pub struct ClaimRow {
    pub claim_id: i64,
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub party: String,
    pub name: String,
    pub status: &'static str,
    pub status_code: String,
    pub lines: usize,
    pub visits: String,
    pub meals: String,
    pub operating: String,
    pub adjustments: String,
    pub total: String,
    pub total_fen: i64,
}

#[derive(Template)]
#[template(path = "care_settle.html")]
struct SettlePage {
    nav: Nav,
    month: String,
    rows: Vec<ClaimRow>,
    total: String,
    error: String,
    flash: String,
}

#[derive(serde::Deserialize, Default)]
pub struct MonthQuery {
    month: Option<String>,
    ok: Option<String>,
}

fn this_month(app: &AppState) -> String {
    let d = today(app);
    format!("{:04}-{:02}", d.year(), d.month())
}

async fn settle_page(
    app: &AppState,
    user: &WebUser,
    month: &str,
    flash: String,
    error: String,
) -> Response {
    let mut p = SettlePage {
        nav: Nav::for_user(user, "/care/admin/settle"),
        month: month.to_string(),
        rows: Vec::new(),
        total: String::new(),
        error,
        flash,
    };
    match settle::report(app, &user.user, month, None).await {
        Ok(r) => {
            p.total = fen_yuan(r.total_fen);
            p.rows = r
                .claims
                .iter()
                .filter(|c| !c.lines.is_empty() || c.claim_id.is_some())
                .map(|c| ClaimRow {
                    claim_id: c.claim_id.unwrap_or(0),
                    kind: c.party_kind.label_zh(),
                    kind_code: c.party_kind.as_str(),
                    party: c.party.clone(),
                    name: c.party_name.clone(),
                    status: match c.status.as_str() {
                        "approved" => "已审核",
                        "prepared" => "待审核",
                        _ => "未生成",
                    },
                    status_code: c.status.clone(),
                    lines: c.lines.len(),
                    visits: fen_yuan(c.visits_fen),
                    meals: fen_yuan(c.meal_subsidy_fen),
                    operating: fen_yuan(c.operating_fen),
                    adjustments: fen_yuan(c.adjustments_fen),
                    total: fen_yuan(c.total_fen),
                    total_fen: c.total_fen,
                })
                .collect();
            with_status(
                page(&p),
                if p.error.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
            )
        }
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            p.error = jiesu_app::messages::of(&e);
            with_status(page(&p), s)
        }
        Err(e) => app_error_page(user, e),
    }
}

pub async fn settlement(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::SettleCare) {
        return r;
    }
    let month = q
        .month
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| this_month(&app));
    let flash = match q.ok.as_deref() {
        Some("prepare") => "结算单已生成，请核对后审核。",
        Some("approve") => "结算单已审核，该月已锁定。",
        _ => "",
    };
    settle_page(&app, &user, &month, flash.into(), String::new()).await
}

pub async fn settle_xlsx(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<MonthQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::SettleCare) {
        return r;
    }
    let month = q.month.unwrap_or_else(|| this_month(&app));
    let bytes = match settle::report(&app, &user.user, &month, None)
        .await
        .and_then(|r| settle::to_xlsx(&r))
    {
        Ok(b) => b,
        Err(e) => return app_error_page(&user, e),
    };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"care-settlement-{}.xlsx\"",
        month
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '-')
            .collect::<String>()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub async fn settle_prepare(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::SettleCare) {
        return r;
    }
    let month = form.text("month");
    let kind = match form.get("kind") {
        Some("meal_point") => PartyKind::MealPoint,
        _ => PartyKind::Provider,
    };
    match settle::prepare(&app, &user.user, kind, &form.text("party"), &month).await {
        Ok(_) => {
            Redirect::to(&format!("/care/admin/settle?month={month}&ok=prepare")).into_response()
        }
        Err(e) if e.kind != jiesu_app::ErrorKind::Forbidden => {
            let s = status_of(&e);
            let msg = jiesu_app::messages::of(&e);
            with_status(
                settle_page(&app, &user, &month, String::new(), msg).await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

pub async fn settle_approve(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::SettleCare) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let month = form.text("month");
    let total = form
        .get("total_fen")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(-1);
    match settle::approve(&app, &user.user, id, total).await {
        Ok(_) => {
            Redirect::to(&format!("/care/admin/settle?month={month}&ok=approve")).into_response()
        }
        Err(e)
            if e.kind != jiesu_app::ErrorKind::Forbidden
                && e.kind != jiesu_app::ErrorKind::NotFound =>
        {
            let s = status_of(&e);
            let msg = jiesu_app::messages::of(&e);
            with_status(
                settle_page(&app, &user, &month, String::new(), msg).await,
                s,
            )
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ supply and demand

pub struct SupplyRow {
    pub community: String,
    pub street: String,
    pub elders: i64,
    pub elders_80: i64,
    pub living_alone: i64,
    pub requests: i64,
    pub per_1000: String,
    pub meal_points: i64,
    pub points_per_1000: String,
    pub providers: i64,
    pub served: i64,
    pub missed: i64,
    pub thin: bool,
    pub why: String,
}

#[derive(Template)]
#[template(path = "care_supply.html")]
struct SupplyPage {
    nav: Nav,
    rows: Vec<SupplyRow>,
    thin: usize,
}

pub async fn supply_view(State(app): State<AppState>, user: WebUser) -> Response {
    if let Err(r) = user.require(Capability::ViewCareSupply) {
        return r;
    }
    let rows = match supply::view(&app, &user.user).await {
        Ok(v) => v,
        Err(e) => return app_error_page(&user, e),
    };
    let rows: Vec<SupplyRow> = rows
        .into_iter()
        .map(|r| SupplyRow {
            community: r.community_name,
            street: r.street_name,
            elders: r.elders,
            elders_80: r.elders_80,
            living_alone: r.living_alone,
            requests: r.requests_total,
            per_1000: format!("{:.1}", r.requests_per_1000),
            meal_points: r.meal_points,
            points_per_1000: format!("{:.1}", r.meal_points_per_1000),
            providers: r.providers,
            served: r.orders_served,
            missed: r.orders_missed,
            thin: r.thin,
            why: r.why.join("；"),
        })
        .collect();
    page(&SupplyPage {
        nav: Nav::for_user(&user, "/care/supply"),
        thin: rows.iter().filter(|r| r.thin).count(),
        rows,
    })
}

// ------------------------------------------------------------------ the family on the portal

fn slow_down() -> Response {
    let mut r = error_page(
        None,
        StatusCode::TOO_MANY_REQUESTS,
        "操作过于频繁，请稍后再试。如有紧急情况请拨打 12345。",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
    r
}

#[derive(Default)]
pub struct FamilyValues {
    pub id_number: String,
    pub phone: String,
    pub service: String,
    pub note: String,
    pub start: String,
}

#[derive(Template)]
#[template(path = "portal_care.html")]
struct FamilyPage {
    nav: Nav,
    v: FamilyValues,
    services: Vec<Opt>,
    errors: FieldErrors,
}

fn family_form(v: FamilyValues, errors: FieldErrors, status: StatusCode) -> Response {
    let services = service_opts(&v.service);
    with_status(
        page(&FamilyPage {
            nav: Nav::anonymous("/portal"),
            v,
            services,
            errors,
        }),
        status,
    )
}

pub async fn family_page() -> Response {
    family_form(
        FamilyValues::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
}

pub async fn family_submit(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    form: FormData,
) -> Response {
    if !app
        .public_limits
        .allow(&crate::throttle::PORTAL_FILE, &addr.0)
    {
        return slow_down();
    }
    let v = FamilyValues {
        id_number: form.text("id_number"),
        phone: form.text("phone"),
        service: form.text("service"),
        note: form.text("note"),
        start: form.text("start"),
    };
    let mut errors = FieldErrors::default();
    if v.id_number.is_empty() {
        errors.add("id_number", "请填写老人的身份证号。");
    }
    if v.phone.is_empty() {
        errors.add("phone", "请填写登记过的家属电话或老人本人电话。");
    }
    let service = v.service.parse::<ServiceKind>().ok();
    if service.is_none() {
        errors.add("service", "请选择服务项目。");
    }
    let wanted = if v.start.is_empty() {
        None
    } else {
        match parse_local(&app, &v.start) {
            Some(start) => Some(Slot {
                start,
                end: start + jiff::SignedDuration::from_hours(1),
            }),
            None => {
                errors.add("start", "请选择希望上门的时间。");
                None
            }
        }
    };
    let (Some(service), true) = (service, errors.is_empty()) else {
        return family_form(v, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let f = FamilyRequest {
        id_number: v.id_number.clone(),
        phone: v.phone.clone(),
        service,
        note: v.note.clone(),
        wanted,
    };
    match orders::from_family(&app, &f).await {
        Ok(o) => Redirect::to(&format!("/portal/care/{}?new=1", o.code)).into_response(),
        Err(e) if e.field.is_some() => {
            let s = status_of(&e);
            let errors = form_errors(&e, &|f| match head(f).as_str() {
                "wanted" => "start".into(),
                other => other.to_string(),
            });
            family_form(v, errors, s)
        }
        Err(e) => {
            let e = ApiError::from(e);
            error_page(None, e.status, &fmt::error_zh(&e))
        }
    }
}

#[derive(Template)]
#[template(path = "portal_care_order.html")]
struct FamilyOrderPage {
    nav: Nav,
    code: String,
    new: bool,
    rated: bool,
    service: &'static str,
    status: &'static str,
    provider: String,
    slot: String,
    started: String,
    finished: String,
    rating: String,
    can_rate: bool,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct FamilyQuery {
    new: Option<String>,
    rated: Option<String>,
}

async fn family_order_page(
    app: &AppState,
    code: &str,
    q: &FamilyQuery,
    errors: FieldErrors,
) -> Response {
    let code = code.trim().to_uppercase();
    if code.is_empty() || code.len() > 40 {
        return error_page(None, StatusCode::NOT_FOUND, "没有这个服务工单号。");
    }
    let o = match orders::public_by_code(app, &code).await {
        Ok(o) => o,
        Err(e) if e.kind == jiesu_app::ErrorKind::NotFound => {
            return error_page(
                None,
                StatusCode::NOT_FOUND,
                "没有这个服务工单号，请核对后重试。",
            );
        }
        Err(e) => {
            let e = ApiError::from(e);
            return error_page(None, e.status, &fmt::error_zh(&e));
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    with_status(
        page(&FamilyOrderPage {
            nav: Nav::anonymous("/portal"),
            code: o.code.clone(),
            new: q.new.is_some(),
            rated: q.rated.is_some(),
            service: o.service,
            status: o.status,
            provider: o.provider_name.clone().unwrap_or_default(),
            slot: slot_text(&o.slot),
            started: fmt::opt_datetime(o.visit_started_at),
            finished: fmt::opt_datetime(o.visit_finished_at),
            rating: o.rating.map(|r| format!("{r}分")).unwrap_or_default(),
            can_rate: o.can_rate,
            errors,
        }),
        status,
    )
}

pub async fn family_order(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    Path(code): Path<String>,
    Query(q): Query<FamilyQuery>,
) -> Response {
    if !app
        .public_limits
        .allow(&crate::throttle::PORTAL_LOOKUP, &addr.0)
    {
        return slow_down();
    }
    family_order_page(&app, &code, &q, FieldErrors::default()).await
}

#[derive(serde::Deserialize, Default)]
pub struct CodeQuery {
    code: Option<String>,
}

/// The portal's lookup box: to the order's page.
pub async fn family_find(Query(q): Query<CodeQuery>) -> Response {
    let code: String = q
        .code
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    if code.is_empty() {
        return Redirect::to("/portal/care").into_response();
    }
    Redirect::to(&format!("/portal/care/{code}")).into_response()
}

pub async fn family_rate(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    Path(code): Path<String>,
    form: FormData,
) -> Response {
    if !app
        .public_limits
        .allow(&crate::throttle::PORTAL_LOOKUP, &addr.0)
    {
        return slow_down();
    }
    let code = code.trim().to_uppercase();
    let score = form
        .get("score")
        .and_then(|s| s.parse::<u8>().ok())
        .filter(|s| (1..=5).contains(s));
    let Some(score) = score else {
        let mut errors = FieldErrors::default();
        errors.add("score", "请选择1～5分。");
        return family_order_page(&app, &code, &FamilyQuery::default(), errors).await;
    };
    match orders::rate_by_code(&app, &code, score, &form.text("comment")).await {
        Ok(_) => Redirect::to(&format!("/portal/care/{code}?rated=1")).into_response(),
        Err(e) if e.kind == jiesu_app::ErrorKind::NotFound => {
            error_page(None, StatusCode::NOT_FOUND, "没有这个服务工单号。")
        }
        Err(e) => {
            let s = status_of(&e);
            let mut errors = FieldErrors::default();
            errors.add(
                e.field.as_deref().map(head).as_deref().unwrap_or("_form"),
                jiesu_app::messages::of(&e),
            );
            with_status(
                family_order_page(&app, &code, &FamilyQuery::default(), errors).await,
                s,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parses_to_whole_fen() {
        assert_eq!(parse_yuan("80"), Ok(8000));
        assert_eq!(parse_yuan("80.5"), Ok(8050));
        assert_eq!(parse_yuan("0.05元"), Ok(5));
        assert!(parse_yuan("-1").is_err());
        assert!(parse_yuan("1.234").is_err());
        assert!(parse_yuan("abc").is_err());
        assert!(parse_yuan("").is_err());
    }

    #[test]
    fn slots_parse_from_lines() {
        let s = parse_slots("周一 08:00-12:00 4\n3 13:30-17:00 2\n").unwrap_or_default();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].weekday, s[0].start_min, s[0].end_min, s[0].capacity),
            (1, 480, 720, 4)
        );
        assert_eq!((s[1].weekday, s[1].start_min), (3, 810));
        assert!(parse_slots("周一 8点到12点").is_err());
    }
}
