//! 系统管理: accounts and roles, and the deployment's world — units, categories, SLA classes,
//! holidays, assessment weights. Edits are validated, stored as a new world version, take effect
//! at once (the server swaps its directory) and are written to the audit log.

use super::intake::Opt;
use super::{FieldErrors, FormData, Nav, WebUser, api_error_page, csrf_refused, page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_domain::{Directory, Role};
use jiesu_world::{DayKind, Span, World};

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit: String,
    pub disabled: bool,
}

pub struct CatRow {
    pub depth: usize,
    pub code: String,
    pub name: String,
    pub responsible: String,
    pub sla: String,
}

pub struct SlaRow {
    pub code: String,
    pub name: String,
    pub response: String,
    pub completion: String,
}

pub struct HolidayRow {
    pub date: String,
    pub kind: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    /// The admin's own account id (their row offers a password change, not a reset).
    me: i64,
    flash: String,
    errors: FieldErrors,
    users: Vec<UserRow>,
    roles: Vec<Opt>,
    units: Vec<Opt>,
    unit_rows: Vec<(String, String, String, String)>,
    categories: Vec<CatRow>,
    sla: Vec<SlaRow>,
    holidays: Vec<HolidayRow>,
    w: jiesu_world::AssessmentWeights,
    form: Vec<(String, String)>,
    leaves: Vec<Opt>,
}

impl AdminPage {
    /// The value just typed into a field (re-shown after an error).
    fn typed(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

fn span_text(s: &Span) -> String {
    match s {
        Span::Hours(h) => format!("{h}小时"),
        Span::WorkingDays(d) => format!("{d}个工作日"),
    }
}

async fn render(
    app: &AppState,
    user: &WebUser,
    flash: String,
    errors: FieldErrors,
    form: Vec<(String, String)>,
) -> Response {
    let users = match jiesu_app::accounts::users(app, &user.user).await {
        Ok(u) => u,
        Err(e) => return api_error_page(user, &e.into()),
    };
    let dir = &app.dir;
    let unit_name = |c: &str| dir.unit(c).map(|u| u.name.clone()).unwrap_or_default();
    let mut categories = Vec::new();
    fn walk(dir: &Directory, parent: Option<&str>, depth: usize, out: &mut Vec<CatRow>) {
        for c in dir
            .world
            .categories
            .iter()
            .filter(|c| c.parent.as_deref() == parent)
        {
            out.push(CatRow {
                depth,
                code: c.code.clone(),
                name: c.name.clone(),
                responsible: match &c.responsible {
                    Some(jiesu_world::Responsible::Street) => "属地街道".into(),
                    Some(jiesu_world::Responsible::Unit(u)) => {
                        dir.unit(u).map(|x| x.name.clone()).unwrap_or_default()
                    }
                    None => String::new(),
                },
                // The class's name (紧急, 一般…), not its code.
                sla: c
                    .sla_class
                    .as_deref()
                    .map(|k| {
                        dir.world
                            .sla
                            .classes
                            .iter()
                            .find(|x| x.code == k)
                            .map(|x| x.name.clone())
                            .unwrap_or_else(|| jiesu_app::messages::sla_kind_zh(k).to_string())
                    })
                    .unwrap_or_default(),
            });
            walk(dir, Some(&c.code), depth + 1, out);
        }
    }
    walk(dir, None, 0, &mut categories);
    let year = super::fmt::date(app.now())[..4].to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = page(&AdminPage {
        nav: Nav::for_user(user, "/admin"),
        me: user.user.id,
        flash,
        errors,
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id,
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                role: u.role.label_zh().into(),
                unit: u.unit_code.as_deref().map(unit_name).unwrap_or_default(),
                disabled: u.disabled,
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .filter(|r| r.is_account_role())
            .map(|r| Opt {
                code: r.as_str().into(),
                label: r.label_zh().into(),
            })
            .collect(),
        units: dir
            .world
            .units
            .iter()
            .map(|u| Opt {
                code: u.code.clone(),
                label: u.name.clone(),
            })
            .collect(),
        unit_rows: dir
            .world
            .units
            .iter()
            .map(|u| {
                (
                    u.code.clone(),
                    u.name.clone(),
                    jiesu_app::messages::unit_kind_zh(u.kind).to_string(),
                    u.street_code
                        .as_deref()
                        .and_then(|s| dir.street(s))
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        categories,
        sla: dir
            .world
            .sla
            .classes
            .iter()
            .map(|c| SlaRow {
                code: c.code.clone(),
                name: c.name.clone(),
                response: span_text(&c.response),
                completion: span_text(&c.completion),
            })
            .collect(),
        holidays: dir
            .world
            .holidays
            .days
            .iter()
            .filter(|(d, _)| d.to_string().starts_with(&year))
            .map(|(d, (k, name))| HolidayRow {
                date: d.to_string(),
                kind: match k {
                    DayKind::Holiday => "放假".into(),
                    _ => "调休上班".into(),
                },
                name: name.clone(),
            })
            .collect(),
        w: dir.world.weights.clone(),
        form,
        leaves: dir
            .world
            .categories
            .iter()
            .filter(|c| dir.is_leaf_category(&c.code))
            .map(|c| Opt {
                code: c.code.clone(),
                label: c.name.clone(),
            })
            .collect(),
    });
    *r.status_mut() = status;
    r
}

#[derive(serde::Deserialize)]
pub struct AdminQuery {
    ok: Option<String>,
}

pub async fn show(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<AdminQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::EditWorld) {
        return r;
    }
    let flash = match q.ok.as_deref() {
        Some("user") => "账号已创建。",
        Some("disabled") => "账号已停用，其登录已全部失效。",
        Some("enabled") => "账号已启用。",
        Some("revoked") => "该账号的登录已全部失效。",
        Some("reset") => "密码已重置，该账号下次登录须先修改密码；其登录已全部失效。",
        Some("weights") => "考评权重已保存，即时生效。",
        Some("holidays") => "节假日已保存，即时生效。",
        Some("sla") => "时限已保存，此后派单按新时限计算。",
        Some("category") => "分类的责任单位和时限已保存，此后受理按新设置派单。",
        Some("unit") => "单位名称已保存。",
        _ => "",
    };
    render(
        &app,
        &user,
        flash.into(),
        FieldErrors::default(),
        Vec::new(),
    )
    .await
}

/// Guards shared by every admin form (this page's and the webhooks page's).
// The refusal is the page itself, returned at once by the handler; boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub(super) fn guard(user: &WebUser, form: &FormData, headers: &HeaderMap) -> Result<(), Response> {
    user.require(Capability::EditWorld)?;
    if !user.csrf_ok(form.get("csrf"), headers) {
        return Err(csrf_refused(Some(user)));
    }
    Ok(())
}

pub async fn create_user(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let account = jiesu_app::accounts::AccountForm {
        username: form.get("username").unwrap_or_default(),
        display_name: form.get("display_name"),
        password: form.get("password").unwrap_or_default(),
        role: form.get("role").unwrap_or_default(),
        unit: form.get("unit"),
    };
    // Validated, hashed, stored and audited by the use case.
    match jiesu_app::accounts::create_user(&app, &user.user, account)
        .await
        .map_err(crate::ApiError::from)
    {
        Ok(_) => Redirect::to("/admin?ok=user").into_response(),
        Err(e) => {
            let mut errors = FieldErrors::from_api(&e);
            if let Some((f, _)) = errors.0.first_mut() {
                // Field names from the API are the form's; prefix keeps them apart from
                // the other admin forms on the page.
                *f = format!("user.{f}");
            }
            let keep = form
                .0
                .iter()
                .filter(|(k, _)| k != "password" && k != "csrf")
                .cloned()
                .collect();
            render(&app, &user, String::new(), errors, keep).await
        }
    }
}

/// `POST /admin/users/{id}/{disable|enable|revoke|password}`: an account's state, for the
/// admin (never their own). Each ends the account's sessions where it should, and is audited
/// by the use case.
pub async fn account_action(
    State(app): State<AppState>,
    user: WebUser,
    axum::extract::Path((id, action)): axum::extract::Path<(i64, String)>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    use jiesu_app::accounts as acc;
    let (done, ok) = match action.as_str() {
        "disable" => (
            acc::set_disabled(&app, &user.user, id, true)
                .await
                .map(drop),
            "disabled",
        ),
        "enable" => (
            acc::set_disabled(&app, &user.user, id, false)
                .await
                .map(drop),
            "enabled",
        ),
        "revoke" => (
            acc::revoke_sessions(&app, &user.user, id).await.map(drop),
            "revoked",
        ),
        "password" => (
            acc::reset_password(
                &app,
                &user.user,
                id,
                form.get("password").unwrap_or_default(),
            )
            .await
            .map(drop),
            "reset",
        ),
        _ => return super::error_page(Some(&user), StatusCode::NOT_FOUND, "没有这个操作。"),
    };
    app.sessions.forget_user(id);
    match done.map_err(crate::ApiError::from) {
        Ok(()) => Redirect::to(&format!("/admin?ok={ok}")).into_response(),
        Err(e) if e.body.field.is_some() => {
            let mut errors = FieldErrors::from_api(&e);
            if let Some((f, _)) = errors.0.first_mut() {
                *f = format!("reset.{id}");
            }
            render(&app, &user, String::new(), errors, Vec::new()).await
        }
        Err(e) => api_error_page(&user, &e),
    }
}

/// Stores the edited world as a new version, swaps it in, audits the edit and goes back to the
/// admin page with its message.
async fn commit(
    app: &AppState,
    user: &WebUser,
    world: World,
    (action, target, detail): (&str, &str, String),
    ok: &str,
) -> Response {
    if let Err(e) =
        jiesu_app::world_admin::replace(app, &user.user, world, (action, target, detail)).await
    {
        return api_error_page(user, &e.into());
    }
    Redirect::to(&format!("/admin?ok={ok}")).into_response()
}

fn number(form: &FormData, name: &str, errors: &mut FieldErrors) -> f64 {
    match form.get(name).map(str::parse::<f64>) {
        Some(Ok(v)) if v.is_finite() && (0.0..=100.0).contains(&v) => v,
        _ => {
            errors.add(name, "请填写 0–100 之间的数。");
            0.0
        }
    }
}

pub async fn save_weights(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let w = jiesu_world::AssessmentWeights {
        response: number(&form, "w.response", &mut errors),
        resolution: number(&form, "w.resolution", &mut errors),
        satisfaction: number(&form, "w.satisfaction", &mut errors),
        satisfied_score: number(&form, "w.satisfied_score", &mut errors),
        basically_satisfied_score: number(&form, "w.basically_satisfied_score", &mut errors),
        unsatisfied_score: number(&form, "w.unsatisfied_score", &mut errors),
    };
    if errors.is_empty() {
        // The rule the weights file is held to (jiesu_world::AssessmentWeights::problems).
        for p in w.problems() {
            use jiesu_world::WeightProblem as P;
            match p {
                P::BadWeight(k, _) => errors.add(&format!("w.{k}"), "权重须为不小于 0 的数。"),
                P::SumNot100(sum) => errors.add(
                    "w.response",
                    format!("响应率、解决率、满意率三项权重之和须为 100，现为 {sum}。"),
                ),
                P::BadScore(k, _) => errors.add(&format!("w.{k}"), "分值须在 0 到 100 之间。"),
                P::ScoresOutOfOrder => {
                    errors.add("w.satisfied_score", "分值须满足 满意 ≥ 基本满意 ≥ 不满意。")
                }
            }
        }
    }
    if !errors.is_empty() {
        return render(&app, &user, String::new(), errors, form.0).await;
    }
    let mut world = app.dir.world.clone();
    let before = serde_json::to_string(&world.weights).unwrap_or_default();
    world.weights = w.clone();
    let after = serde_json::to_string(&w).unwrap_or_default();
    commit(
        &app,
        &user,
        world,
        ("edit_weights", "weights", format!("{before} → {after}")),
        "weights",
    )
    .await
}

pub async fn save_holidays(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let date = match form.get("h.date").map(str::parse::<jiff::civil::Date>) {
        Some(Ok(d)) => Some(d),
        _ => {
            errors.add("h.date", "日期格式应为 2026-10-01。");
            None
        }
    };
    let op = form.text("h.op");
    let kind = match form.get("h.kind") {
        Some("holiday") => DayKind::Holiday,
        Some("workday") => DayKind::MakeupWorkday,
        _ if op == "remove" => DayKind::Holiday,
        _ => {
            errors.add("h.kind", "请选择放假或调休上班。");
            DayKind::Holiday
        }
    };
    let name = form.text("h.name");
    if op == "add" && name.is_empty() {
        errors.add("h.name", "请填写节日名称。");
    }
    if name.chars().count() > 40 {
        errors.add("h.name", "名称不超过40字。");
    }
    let mut world = app.dir.world.clone();
    if let Some(d) = date {
        match op.as_str() {
            "remove" if !world.holidays.days.contains_key(&d) => {
                errors.add("h.date", "该日期不在节假日表中。")
            }
            "add" | "remove" => {}
            _ => errors.add("h.op", "未知操作。"),
        }
    }
    let Some(d) = date.filter(|_| errors.is_empty()) else {
        return render(&app, &user, String::new(), errors, form.0).await;
    };
    let detail = if op == "remove" {
        world.holidays.days.remove(&d);
        format!("remove {d}")
    } else {
        world.holidays.days.insert(d, (kind, name.clone()));
        world.holidays.years.insert(d.year());
        format!("add {d} {kind:?} {name}")
    };
    commit(
        &app,
        &user,
        world,
        ("edit_holidays", &d.to_string(), detail),
        "holidays",
    )
    .await
}

fn span(form: &FormData, name: &str, errors: &mut FieldErrors) -> Option<Span> {
    let n = form.get(&format!("{name}.n")).map(str::parse::<u32>);
    let unit = form.get(&format!("{name}.unit"));
    match (n, unit) {
        (Some(Ok(n)), Some("hours")) if (1..=24 * 30).contains(&n) => Some(Span::Hours(n)),
        (Some(Ok(n)), Some("days")) if (1..=60).contains(&n) => Some(Span::WorkingDays(n)),
        _ => {
            errors.add(name, "请填写时长：1–720 小时或 1–60 个工作日。");
            None
        }
    }
}

pub async fn save_sla(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let code = form.text("s.code");
    let mut world = app.dir.world.clone();
    let idx = world.sla.classes.iter().position(|c| c.code == code);
    if idx.is_none() {
        errors.add("s.code", "请选择时限类别。");
    }
    let response = span(&form, "s.response", &mut errors);
    let completion = span(&form, "s.completion", &mut errors);
    let (Some(i), Some(response), Some(completion)) = (idx, response, completion) else {
        return render(&app, &user, String::new(), errors, form.0).await;
    };
    let before = format!(
        "{} {}",
        span_text(&world.sla.classes[i].response),
        span_text(&world.sla.classes[i].completion)
    );
    world.sla.classes[i].response = response;
    world.sla.classes[i].completion = completion;
    let after = format!("{} {}", span_text(&response), span_text(&completion));
    commit(
        &app,
        &user,
        world,
        ("edit_sla", &code, format!("{before} → {after}")),
        "sla",
    )
    .await
}

/// A leaf category's routing: its responsible unit (or the request's street office) and SLA
/// class.
pub async fn save_category(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let mut world = app.dir.world.clone();
    let code = form.text("c.code");
    let idx = world.categories.iter().position(|c| c.code == code);
    match idx {
        None => errors.add("c.code", "请选择分类。"),
        Some(_) if !app.dir.is_leaf_category(&code) => {
            errors.add("c.code", "只有末级分类有责任单位和时限。")
        }
        _ => {}
    }
    let responsible = match form.get("c.responsible") {
        Some("street") => Some(jiesu_world::Responsible::Street),
        Some(u) if app.dir.unit(u).is_some() => Some(jiesu_world::Responsible::Unit(u.into())),
        _ => {
            errors.add("c.responsible", "请选择责任单位。");
            None
        }
    };
    let sla = form.text("c.sla");
    if !world.sla.classes.iter().any(|c| c.code == sla) {
        errors.add("c.sla", "请选择时限类别。");
    }
    let (Some(i), Some(responsible), true) = (idx, responsible, errors.is_empty()) else {
        return render(&app, &user, String::new(), errors, form.0).await;
    };
    let before = format!(
        "{:?} {}",
        world.categories[i].responsible,
        world.categories[i].sla_class.clone().unwrap_or_default()
    );
    world.categories[i].responsible = Some(responsible.clone());
    world.categories[i].sla_class = Some(sla.clone());
    commit(
        &app,
        &user,
        world,
        (
            "edit_category",
            &code,
            format!("{before} → {responsible:?} {sla}"),
        ),
        "category",
    )
    .await
}

/// A unit's display name (its code, which events refer to, never changes).
pub async fn save_unit(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = guard(&user, &form, &headers) {
        return r;
    }
    let mut errors = FieldErrors::default();
    let mut world = app.dir.world.clone();
    let code = form.text("n.code");
    let idx = world.units.iter().position(|u| u.code == code);
    if idx.is_none() {
        errors.add("n.code", "请选择单位。");
    }
    let name = form.text("n.name");
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        errors.add("n.name", "名称为1–40个字符。");
    }
    let (Some(i), true) = (idx, errors.is_empty()) else {
        return render(&app, &user, String::new(), errors, form.0).await;
    };
    let before = std::mem::replace(&mut world.units[i].name, name.clone());
    commit(
        &app,
        &user,
        world,
        ("edit_unit", &code, format!("{before} → {name}")),
        "unit",
    )
    .await
}

// ---- 审计日志: the audit viewer ----

/// Rows per page of the audit viewer.
const AUDIT_PAGE_SIZE: u32 = 50;

/// The viewer's filters as typed (re-shown in the form and carried by the paging links).
#[derive(serde::Deserialize, serde::Serialize, Default)]
pub struct AuditFilters {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    target: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    page: String,
}

pub struct AuditRowView {
    id: i64,
    seq: String,
    at: String,
    actor: String,
    role: String,
    action: String,
    target: String,
    /// The target's page, where it has one (requests).
    link: String,
    detail: String,
    /// The first broken link of the chain.
    broken: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageView {
    nav: Nav,
    /// The admin sees the links back to the other admin pages (an auditor cannot open them).
    admin: bool,
    f: AuditFilters,
    errors: FieldErrors,
    actions: Vec<Opt>,
    chain_ok: bool,
    chain_rows: u64,
    head_seq: String,
    head_hash: String,
    broken_id: i64,
    broken_seq: String,
    broken_reason: String,
    total: u64,
    page: u32,
    pages: u32,
    rows: Vec<AuditRowView>,
    prev: String,
    next: String,
}

/// What each audited action is called on the page (an unknown one shows its code).
const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("login", "登录"),
    ("login_failed", "登录失败"),
    ("lockout", "登录锁定"),
    ("logout", "退出登录"),
    ("change_password", "修改密码"),
    ("create_user", "创建账号"),
    ("disable_user", "停用账号"),
    ("enable_user", "启用账号"),
    ("reset_password", "重置密码"),
    ("revoke_sessions", "注销全部登录"),
    ("view_caller_identity", "查看来电人信息"),
    ("export_requests", "导出诉求"),
    ("edit_weights", "修改考评权重"),
    ("edit_holidays", "修改节假日"),
    ("edit_sla", "修改时限"),
    ("edit_category", "修改分类"),
    ("edit_unit", "修改单位"),
    ("create_webhook", "添加推送订阅"),
    ("disable_webhook", "停用推送订阅"),
    ("retry_dead_letter", "重试死信"),
    ("retry_dead_letters", "重试全部死信"),
    ("open311_key_issued", "签发 Open311 密钥"),
    ("open311_key_revoked", "吊销 Open311 密钥"),
];

fn action_label(code: &str) -> String {
    AUDIT_ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| format!("{l}（{code}）"))
        .unwrap_or_else(|| code.to_string())
}

/// Midnight (Beijing) starting `YYYY-MM-DD`, plus `days`.
fn local_day(s: &str, days: i64) -> Option<jiff::Timestamp> {
    let d: jiff::civil::Date = s.trim().parse().ok()?;
    let d = d.checked_add(jiff::Span::new().days(days)).ok()?;
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8));
    tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .ok()
}

/// `GET /admin/audit`: the audit log with filters (actor, action, target, date range, text),
/// newest first in pages with a count, and the hash chain's state (its head, or the first
/// broken link). For the admin and the auditor (`Capability::ViewAudit`).
pub async fn audit(
    State(app): State<AppState>,
    user: WebUser,
    q: Result<Query<AuditFilters>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = user.require(Capability::ViewAudit) {
        return r;
    }
    let mut errors = FieldErrors::default();
    // A repeated or malformed parameter reads as no filters, with the reason shown.
    let f = match q {
        Ok(Query(f)) => f,
        Err(e) => {
            errors.add("_form", super::fmt::error_zh(&crate::ApiError::from(e)));
            AuditFilters::default()
        }
    };
    let none_if_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let (target_type, target_id) = match f.target.trim().split_once(':') {
        Some((t, id)) => (none_if_empty(t), none_if_empty(id)),
        None => (none_if_empty(&f.target), None),
    };
    let from = match f.from.trim() {
        "" => None,
        s => local_day(s, 0).or_else(|| {
            errors.add("from", "日期格式应为 2026-11-02");
            None
        }),
    };
    let to = match f.to.trim() {
        "" => None,
        s => local_day(s, 1).or_else(|| {
            errors.add("to", "日期格式应为 2026-11-02");
            None
        }),
    };
    let page: u32 = match f.page.trim() {
        "" => 1,
        s => s
            .parse()
            .ok()
            .filter(|p| *p >= 1 && *p <= 100_000)
            .unwrap_or_else(|| {
                errors.add("page", "页码应为正整数");
                1
            }),
    };
    let query = jiesu_store::AuditQuery {
        actor: none_if_empty(&f.actor),
        action: none_if_empty(&f.action),
        target_type,
        target_id,
        from,
        to,
        text: none_if_empty(&f.q),
        offset: (page - 1) * AUDIT_PAGE_SIZE,
        limit: AUDIT_PAGE_SIZE,
    };
    let found = if errors.is_empty() {
        match jiesu_app::accounts::audit_search(&app, &user.user, &query).await {
            Ok(p) => Some(p),
            Err(e) => {
                let e: crate::ApiError = e.into();
                if e.status.is_server_error() {
                    return api_error_page(&user, &e);
                }
                errors = FieldErrors::from_api(&e);
                None
            }
        }
    } else {
        None
    };
    let chain = match jiesu_app::accounts::verify_audit(&app, &user.user).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&user, &e.into()),
    };
    let (total, found_rows) = found.map(|p| (p.total, p.rows)).unwrap_or_default();
    let pages = total.div_ceil(AUDIT_PAGE_SIZE as u64).max(1) as u32;
    let link_to = |p: u32| {
        let mut g = AuditFilters {
            page: p.to_string(),
            ..Default::default()
        };
        g.actor.clone_from(&f.actor);
        g.action.clone_from(&f.action);
        g.target.clone_from(&f.target);
        g.from.clone_from(&f.from);
        g.to.clone_from(&f.to);
        g.q.clone_from(&f.q);
        format!(
            "/admin/audit?{}",
            serde_urlencoded::to_string(&g).unwrap_or_default()
        )
    };
    let broken_id = chain.broken.as_ref().map(|b| b.id);
    let rows = found_rows
        .into_iter()
        .map(|r| {
            let e = r.entry;
            let target = if e.target_id.is_empty() {
                e.target_type.clone()
            } else {
                format!("{}:{}", e.target_type, e.target_id)
            };
            let link = if e.target_type == "request" && e.target_id.parse::<i64>().is_ok() {
                format!("/r/{}", e.target_id)
            } else {
                String::new()
            };
            AuditRowView {
                id: r.id,
                seq: r.seq.map(|s| s.to_string()).unwrap_or_default(),
                at: super::fmt::datetime(e.at),
                actor: e.username,
                // A failed login acted as no one (`none`).
                role: match e.role.parse::<Role>() {
                    Ok(r) => r.label_zh().to_string(),
                    Err(_) if e.role == "none" || e.role.is_empty() => "—".to_string(),
                    Err(_) => e.role,
                },
                action: action_label(&e.action),
                target,
                link,
                detail: e.detail.unwrap_or_default(),
                broken: Some(r.id) == broken_id,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut r = super::page(&AuditPageView {
        nav: Nav::for_user(&user, "/admin/audit"),
        admin: jiesu_app::policy::allows(user.role(), Capability::EditWorld),
        actions: AUDIT_ACTIONS
            .iter()
            .map(|(c, l)| Opt {
                code: c.to_string(),
                label: l.to_string(),
            })
            .collect(),
        chain_ok: chain.ok(),
        chain_rows: chain.rows,
        head_seq: chain.head_seq.map(|s| s.to_string()).unwrap_or_default(),
        head_hash: chain.head_hash.clone().unwrap_or_default(),
        broken_id: broken_id.unwrap_or_default(),
        broken_seq: chain
            .broken
            .as_ref()
            .and_then(|b| b.seq)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        broken_reason: chain.broken.map(|b| b.reason).unwrap_or_default(),
        total,
        page,
        pages,
        rows,
        prev: if page > 1 {
            link_to(page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            link_to(page + 1)
        } else {
            String::new()
        },
        errors,
        f,
    });
    *r.status_mut() = status;
    r
}
