//! 知识库 pages: the list with search and filters, the editor, the review queue; and at the
//! intake desk the suggestions panel (entries matching the typed text), 一键答复 (the form
//! recorded as a 咨询 answered from an entry, cited) and 没有帮助.

use super::intake::{unit_groups, values_from};
use super::{FieldErrors, FormData, Nav, WebUser, api_error_page, csrf_refused, page};
use crate::AppState;
use crate::api::requests::CreateBody;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiesu_app::Capability;
use jiesu_app::knowledge::{self as kb, EntryView, ListQuery, ReviewBody};
use jiesu_domain::knowledge::{EntryInput, EntryStatus, split_keywords};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/knowledge", get(list))
        .route("/knowledge/new", get(new_page).post(create))
        .route("/knowledge/review", get(review_queue))
        .route("/knowledge/preset", post(preset))
        .route("/knowledge/{id}", get(detail).post(update))
        .route("/knowledge/{id}/act/{action}", post(act))
        .route("/knowledge/{id}/feedback", post(feedback))
        .route("/intake/knowledge", post(answer))
        .route("/intake/knowledge/suggest", post(suggest))
}

/// Units under their kind, for the unit select: (code, name).
pub struct UnitGroup {
    pub label: String,
    pub items: Vec<(String, String)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One row of a list.
pub struct Row {
    pub id: i64,
    pub question: String,
    pub unit: String,
    pub status: String,
    pub status_code: String,
    pub valid: String,
    pub in_force: bool,
    pub uses: i64,
    pub unhelpful: i64,
}

fn valid_text(v: &EntryView) -> String {
    let c = &v.entry.content;
    match c.valid_to {
        Some(to) => format!("{} 至 {}", c.valid_from, to),
        None => format!("{} 起长期有效", c.valid_from),
    }
}

fn row(v: &EntryView) -> Row {
    Row {
        id: v.entry.id,
        question: v.entry.content.question.clone(),
        unit: v.unit_name.clone(),
        status: v.status_label.to_string(),
        status_code: v.entry.status.as_str().to_string(),
        valid: valid_text(v),
        in_force: v.in_force,
        uses: v.entry.uses,
        unhelpful: v.entry.unhelpful,
    }
}

pub struct Tab {
    pub href: String,
    pub label: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "knowledge.html")]
struct ListPage {
    nav: Nav,
    title: String,
    q: String,
    status: String,
    unit: String,
    tabs: Vec<Tab>,
    units: Vec<UnitGroup>,
    rows: Vec<Row>,
    error: String,
    can_edit: bool,
    can_review: bool,
    can_preset: bool,
    flash: String,
}

#[derive(serde::Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    done: Option<String>,
}

fn groups(app: &AppState) -> Vec<UnitGroup> {
    unit_groups(&app.dir)
        .into_iter()
        .map(|g| UnitGroup {
            label: g.label,
            items: g.items.into_iter().map(|o| (o.code, o.label)).collect(),
        })
        .collect()
}

async fn list(State(app): State<AppState>, user: WebUser, Query(p): Query<ListParams>) -> Response {
    if let Err(r) = user.require(Capability::ReadKnowledge) {
        return r;
    }
    let q = ListQuery {
        q: p.q.clone(),
        status: p.status.clone(),
        unit: p.unit.clone(),
    };
    let (rows, error) = match kb::list(&app, &user.user, &q).await {
        Ok(v) => (v.iter().map(row).collect::<Vec<_>>(), String::new()),
        Err(e) => (Vec::new(), super::fmt::error_zh(&ApiError::from(e))),
    };
    let status = p.status.clone().unwrap_or_default();
    let sees_all = jiesu_app::policy::allows(user.role(), Capability::EditKnowledge)
        || jiesu_app::policy::allows(user.role(), Capability::ReviewKnowledge);
    let mut tabs = vec![Tab {
        href: "/knowledge".into(),
        label: "全部".into(),
        active: status.is_empty(),
    }];
    if sees_all {
        for s in EntryStatus::ALL {
            tabs.push(Tab {
                href: format!("/knowledge?status={}", s.as_str()),
                label: s.label_zh().into(),
                active: status == s.as_str(),
            });
        }
    }
    let empty_kb = app
        .store
        .knowledge_stamp()
        .await
        .map(|(n, _)| n == 0)
        .unwrap_or(false);
    let flash = match p.done.as_deref() {
        Some("preset") => "已载入预置条目，等待审核。".to_string(),
        _ => String::new(),
    };
    page(&ListPage {
        nav: Nav::for_user(&user, "/knowledge"),
        title: "知识库".into(),
        q: p.q.unwrap_or_default(),
        status,
        unit: p.unit.unwrap_or_default(),
        tabs,
        units: groups(&app),
        rows,
        error,
        can_edit: jiesu_app::policy::allows(user.role(), Capability::EditKnowledge),
        can_review: jiesu_app::policy::allows(user.role(), Capability::ReviewKnowledge),
        can_preset: empty_kb && user.role() == jiesu_domain::Role::Admin,
        flash,
    })
}

async fn review_queue(State(app): State<AppState>, user: WebUser) -> Response {
    if let Err(r) = user.require(Capability::ReviewKnowledge) {
        return r;
    }
    let (rows, error) = match kb::review_queue(&app, &user.user).await {
        Ok(v) => (v.iter().map(row).collect::<Vec<_>>(), String::new()),
        Err(e) => (Vec::new(), super::fmt::error_zh(&ApiError::from(e))),
    };
    page(&ListPage {
        nav: Nav::for_user(&user, "/knowledge"),
        title: "知识库 · 待我审核".into(),
        q: String::new(),
        status: String::new(),
        unit: String::new(),
        tabs: Vec::new(),
        units: Vec::new(),
        rows,
        error,
        can_edit: false,
        can_review: true,
        can_preset: false,
        flash: String::new(),
    })
}

/// The editor's fields as typed.
#[derive(Default)]
pub struct Form {
    pub question: String,
    pub answer: String,
    pub policy_source: String,
    pub unit: String,
    pub valid_from: String,
    pub valid_to: String,
    pub keywords: String,
    pub revision: String,
}

impl Form {
    fn from(f: &FormData) -> Form {
        Form {
            question: f.text("question"),
            answer: f.text("answer"),
            policy_source: f.text("policy_source"),
            unit: f.text("unit"),
            valid_from: f.text("valid_from"),
            valid_to: f.text("valid_to"),
            keywords: f.text("keywords"),
            revision: f.text("revision"),
        }
    }
    fn of(v: &EntryView) -> Form {
        let c = &v.entry.content;
        Form {
            question: c.question.clone(),
            answer: c.answer.clone(),
            policy_source: c.policy_source.clone(),
            unit: c.unit.clone(),
            valid_from: c.valid_from.to_string(),
            valid_to: c.valid_to.map(|d| d.to_string()).unwrap_or_default(),
            keywords: c.keywords.join("，"),
            revision: v.entry.revision.to_string(),
        }
    }
    fn input(&self) -> EntryInput {
        EntryInput {
            question: self.question.clone(),
            answer: self.answer.clone(),
            policy_source: self.policy_source.clone(),
            unit: self.unit.clone(),
            valid_from: Some(self.valid_from.clone()),
            valid_to: Some(self.valid_to.clone()),
            keywords: split_keywords(&self.keywords),
        }
    }
}

pub struct RevisionRow {
    pub revision: i64,
    pub author: String,
    pub at: String,
    pub question: String,
}

pub struct FeedbackRow {
    pub at: String,
    pub request: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "knowledge_entry.html")]
struct EntryPage {
    nav: Nav,
    /// None: a new entry.
    entry: Option<Row>,
    answer: String,
    policy_source: String,
    keywords: String,
    review_note: String,
    form: Form,
    errors: FieldErrors,
    units: Vec<UnitGroup>,
    can_edit: bool,
    actions: Vec<(&'static str, &'static str)>,
    revisions: Vec<RevisionRow>,
    feedback: Vec<FeedbackRow>,
    flash: String,
}

async fn new_page(State(app): State<AppState>, user: WebUser) -> Response {
    if let Err(r) = user.require(Capability::EditKnowledge) {
        return r;
    }
    let form = Form {
        unit: user.user.unit_code.clone().unwrap_or_default(),
        ..Form::default()
    };
    render_new(&app, &user, form, FieldErrors::default())
}

fn render_new(app: &AppState, user: &WebUser, form: Form, errors: FieldErrors) -> Response {
    page(&EntryPage {
        nav: Nav::for_user(user, "/knowledge"),
        entry: None,
        answer: String::new(),
        policy_source: String::new(),
        keywords: String::new(),
        review_note: String::new(),
        form,
        errors,
        units: groups(app),
        can_edit: true,
        actions: Vec::new(),
        revisions: Vec::new(),
        feedback: Vec::new(),
        flash: String::new(),
    })
}

async fn create(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::EditKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let f = Form::from(&form);
    match kb::create(&app, &user.user, &f.input()).await {
        Ok(v) => Redirect::to(&format!("/knowledge/{}?done=saved", v.entry.id)).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            let mut r = render_new(&app, &user, f, FieldErrors::from_api(&e));
            *r.status_mut() = e.status;
            r
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DetailParams {
    done: Option<String>,
}

async fn detail(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    Query(p): Query<DetailParams>,
) -> Response {
    if let Err(r) = user.require(Capability::ReadKnowledge) {
        return r;
    }
    let flash = match p.done.as_deref() {
        Some("saved") => "已保存为草稿。提交审核并经另一位审核人通过后才会发布。",
        Some("submit") => "已提交审核。",
        Some("approve") => "审核通过，条目已发布。",
        Some("reject") => "已驳回，条目退回草稿。",
        Some("retire") => "条目已停用。",
        _ => "",
    };
    render_entry(&app, &user, id, None, FieldErrors::default(), flash).await
}

async fn render_entry(
    app: &AppState,
    user: &WebUser,
    id: i64,
    form: Option<Form>,
    errors: FieldErrors,
    flash: &str,
) -> Response {
    let d = match kb::get(app, &user.user, id).await {
        Ok(d) => d,
        Err(e) => return api_error_page(user, &ApiError::from(e)),
    };
    let v = &d.view;
    let ed = jiesu_domain::knowledge::Editor {
        user_id: user.user.id,
        role: user.role(),
        unit: user.user.unit_code.as_deref(),
    };
    let facts = jiesu_domain::knowledge::EntryFacts {
        status: v.entry.status,
        unit: &v.entry.content.unit,
        revision_author: v.entry.revision_author,
    };
    use jiesu_domain::knowledge::{Transition, decide};
    let may = |t: Transition, cap: Capability| {
        jiesu_app::policy::allows(user.role(), cap) && decide(t, &facts, &ed).is_ok()
    };
    let mut actions: Vec<(&'static str, &'static str)> = Vec::new();
    if may(Transition::Submit, Capability::EditKnowledge) {
        actions.push(("submit", "提交审核"));
    }
    if may(Transition::Approve, Capability::ReviewKnowledge) {
        actions.push(("approve", "审核通过"));
        actions.push(("reject", "驳回"));
    }
    if may(Transition::Retire, Capability::EditKnowledge) {
        actions.push(("retire", "停用"));
    }
    let can_edit = may(Transition::Edit, Capability::EditKnowledge);
    let revisions = d
        .revisions
        .iter()
        .rev()
        .map(|r| RevisionRow {
            revision: r.revision,
            author: r.author_name.clone(),
            at: super::fmt::datetime(r.at),
            question: r.content.question.clone(),
        })
        .collect();
    let feedback = d
        .feedback
        .iter()
        .map(|f| FeedbackRow {
            at: super::fmt::datetime(f.at),
            request: f.request_id.map(|r| r.to_string()).unwrap_or_default(),
            note: f.note.clone().unwrap_or_default(),
        })
        .collect();
    let c = &v.entry.content;
    page(&EntryPage {
        nav: Nav::for_user(user, "/knowledge"),
        entry: Some(row(v)),
        answer: c.answer.clone(),
        policy_source: c.policy_source.clone(),
        keywords: c.keywords.join("、"),
        review_note: v.entry.review_note.clone().unwrap_or_default(),
        form: form.unwrap_or_else(|| Form::of(v)),
        errors,
        units: groups(app),
        can_edit,
        actions,
        revisions,
        feedback,
        flash: flash.to_string(),
    })
}

async fn update(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::EditKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let f = Form::from(&form);
    let revision = f.revision.parse::<i64>().ok();
    match kb::update(&app, &user.user, id, &f.input(), revision).await {
        Ok(_) => Redirect::to(&format!("/knowledge/{id}?done=saved")).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            let mut r = render_entry(&app, &user, id, Some(f), FieldErrors::from_api(&e), "").await;
            if r.status() == StatusCode::OK {
                *r.status_mut() = status;
            }
            r
        }
    }
}

async fn act(
    State(app): State<AppState>,
    user: WebUser,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::ReadKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let note = form.get("note").map(str::to_string);
    let u = &user.user;
    let r = match action.as_str() {
        "submit" => kb::submit(&app, u, id).await,
        "approve" => kb::approve(&app, u, id, ReviewBody { note }).await,
        "reject" => kb::reject(&app, u, id, ReviewBody { note }).await,
        "retire" => kb::retire(&app, u, id).await,
        _ => {
            return super::error_page(Some(&user), StatusCode::NOT_FOUND, "没有这个操作。");
        }
    };
    match r {
        Ok(_) => Redirect::to(&format!("/knowledge/{id}?done={action}")).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            let mut errors = FieldErrors::default();
            errors.add(
                if e.body.field.as_deref() == Some("note") {
                    "note"
                } else {
                    "_action"
                },
                super::fmt::error_zh(&e),
            );
            let mut r = render_entry(&app, &user, id, None, errors, "").await;
            if r.status() == StatusCode::OK {
                *r.status_mut() = status;
            }
            r
        }
    }
}

async fn preset(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::EditKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    match kb::load_preset_for_review(&app, &user.user).await {
        Ok(_) => Redirect::to("/knowledge?status=in_review&done=preset").into_response(),
        Err(e) => api_error_page(&user, &ApiError::from(e)),
    }
}

/// 没有帮助 (an htmx post from the intake panel or the entry page): answers a fragment.
async fn feedback(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::UseKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let body = kb::FeedbackBody {
        request_id: form.get("request_id").and_then(|v| v.parse().ok()),
        note: form.get("note").map(str::to_string),
    };
    match kb::feedback(&app, &user.user, id, body).await {
        Ok(_) => Html("<span class=\"muted\" role=\"status\">已记录：没有帮助，谢谢反馈。</span>")
            .into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            let msg = escape(&super::fmt::error_zh(&e));
            (
                e.status,
                Html(format!("<span class=\"err\" role=\"alert\">{msg}</span>")),
            )
                .into_response()
        }
    }
}

/// One suggestion in the intake panel.
pub struct Hit {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub source: String,
    pub unit: String,
    pub matched: String,
    pub uses: i64,
}

#[derive(Template)]
#[template(path = "knowledge_suggest.html")]
struct SuggestPartial {
    empty: bool,
    error: String,
    hits: Vec<Hit>,
    can_answer: bool,
    can_feedback: bool,
}

async fn suggest(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::ReadKnowledge) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let text = form.text("text");
    let mut p = SuggestPartial {
        empty: text.chars().count() < kb::MIN_SUGGEST_CHARS,
        error: String::new(),
        hits: Vec::new(),
        can_answer: jiesu_app::policy::allows(user.role(), Capability::UseKnowledge)
            && jiesu_app::policy::allows(user.role(), Capability::RecordIntake),
        can_feedback: jiesu_app::policy::allows(user.role(), Capability::UseKnowledge),
    };
    if !p.empty {
        match kb::suggest(&app, &user.user, &text).await {
            Ok(hits) => {
                p.hits = hits
                    .into_iter()
                    .map(|s| Hit {
                        id: s.view.entry.id,
                        question: s.view.entry.content.question.clone(),
                        answer: s.view.entry.content.answer.clone(),
                        source: s.view.entry.content.policy_source.clone(),
                        unit: s.view.unit_name.clone(),
                        matched: s.matched_keywords.join("、"),
                        uses: s.view.entry.uses,
                    })
                    .collect()
            }
            Err(e) => p.error = super::fmt::error_zh(&ApiError::from(e)),
        }
    }
    page(&p)
}

/// 一键答复: the intake form, posted by an entry's button, recorded as a 咨询 answered on the
/// spot with the entry's script (cited); back to the desk like any intake.
async fn answer(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(r) = user.require(Capability::RecordIntake) {
        return r;
    }
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    let mut v = values_from(&form);
    let Some(entry) = form.get("kb_entry").and_then(|e| e.parse::<i64>().ok()) else {
        let mut errors = FieldErrors::default();
        errors.add("_form", "请选择要答复的知识库条目。");
        let mut r = super::intake::render(&app, &user, v, errors, None).await;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let body = CreateBody {
        request_type: "consultation".into(),
        channel: opt(&v.channel),
        category: opt(&v.category),
        street: opt(&v.street),
        community: opt(&v.community),
        address: opt(&v.address),
        title: None,
        text: v.text.clone(),
        caller_name: opt(&v.caller_name),
        caller_phone: opt(&v.caller_phone),
        urgent: v.urgent,
        received_at: None,
        dispatch_to: None,
        answer: None,
        special_handling: None,
        idempotency_key: opt(&v.idem).map(|k| format!("web:{}:{k}", user.user.id)),
    };
    match kb::answer_at_intake(&app, &user.user, entry, body).await {
        Ok((r, _)) => Redirect::to(&format!("/intake?done={}", r.state.id)).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            // Shown as the operator left it, as a 咨询 answered on the spot.
            v.request_type = "consultation".into();
            v.disposition = "answer".into();
            let mut r =
                super::intake::render(&app, &user, v, FieldErrors::from_api(&e), None).await;
            *r.status_mut() = e.status;
            r
        }
    }
}
