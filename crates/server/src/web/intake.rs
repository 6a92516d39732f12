//! 受理台: the operator's one-form intake, with suggestions as the text is typed, a 咨询
//! answered on the spot, everything else dispatched in the same action, and the shift counter.

use super::fmt;
use super::{FieldErrors, FormData, Nav, WebUser, csrf_refused, page};
use crate::AppState;
use crate::api::requests::{CreateBody, intake};
use crate::api::suggest::{SuggestInput, Suggestions, suggest_for};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_domain::{Channel, Directory, RequestType, SpecialHandling};
use jiesu_text::EmergencyLevel;

pub struct Opt {
    pub code: String,
    pub label: String,
}

pub struct OptGroup {
    pub label: String,
    pub items: Vec<Opt>,
}

/// What the form holds (re-shown as typed when something is wrong).
#[derive(Default)]
pub struct Values {
    pub request_type: String,
    pub channel: String,
    pub category: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub text: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub urgent: bool,
    pub disposition: String,
    pub dispatch_to: String,
    pub answer: String,
    pub special: String,
    pub idem: String,
}

pub struct Done {
    pub id: i64,
    pub tracking_code: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    nav: Nav,
    v: Values,
    errors: FieldErrors,
    done: Option<Done>,
    counter: i64,
    types: Vec<Opt>,
    channels: Vec<Opt>,
    categories: Vec<OptGroup>,
    streets: Vec<Opt>,
    communities: Vec<OptGroup>,
    units: Vec<OptGroup>,
    specials: Vec<Opt>,
}

fn opts_types() -> Vec<Opt> {
    RequestType::ALL
        .iter()
        .map(|t| Opt {
            code: t.as_str().into(),
            label: t.label_zh().into(),
        })
        .collect()
}

/// Adds `opt` to the group labelled `label`, opening the group at its first item.
fn push_grouped(groups: &mut Vec<OptGroup>, label: String, opt: Opt) {
    match groups.iter_mut().find(|g| g.label == label) {
        Some(g) => g.items.push(opt),
        None => groups.push(OptGroup {
            label,
            items: vec![opt],
        }),
    }
}

/// Leaf categories grouped under their top-level parent.
pub fn category_groups(dir: &Directory) -> Vec<OptGroup> {
    let mut groups: Vec<OptGroup> = Vec::new();
    for c in &dir.world.categories {
        if !dir.is_leaf_category(&c.code) {
            continue;
        }
        let top = dir.top_category(&c.code);
        let top_name = dir
            .category(top)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| top.to_string());
        let opt = Opt {
            code: c.code.clone(),
            label: c.name.clone(),
        };
        push_grouped(&mut groups, top_name, opt);
    }
    groups
}

pub fn street_opts(dir: &Directory) -> Vec<Opt> {
    dir.world
        .streets
        .iter()
        .map(|s| Opt {
            code: s.code.clone(),
            label: s.name.clone(),
        })
        .collect()
}

fn community_groups(dir: &Directory) -> Vec<OptGroup> {
    dir.world
        .streets
        .iter()
        .map(|s| OptGroup {
            label: s.name.clone(),
            items: dir
                .world
                .communities
                .iter()
                .filter(|c| c.street_code == s.code)
                .map(|c| Opt {
                    code: c.code.clone(),
                    label: c.name.clone(),
                })
                .collect(),
        })
        .collect()
}

/// Units grouped by kind (street offices, departments, utilities).
pub fn unit_groups(dir: &Directory) -> Vec<OptGroup> {
    let mut groups: Vec<OptGroup> = Vec::new();
    for u in &dir.world.units {
        let label = match u.kind {
            jiesu_world::UnitKind::Street => "街道办事处",
            jiesu_world::UnitKind::Department => "区职能部门",
            _ => "公共服务企业",
        };
        let opt = Opt {
            code: u.code.clone(),
            label: u.name.clone(),
        };
        push_grouped(&mut groups, label.into(), opt);
    }
    groups
}

fn new_key() -> String {
    crate::auth::new_token().unwrap_or_default()
}

pub(super) async fn render(
    app: &AppState,
    user: &WebUser,
    v: Values,
    errors: FieldErrors,
    done: Option<Done>,
) -> Response {
    let now = app.now();
    let counter = app
        .store
        .intakes_by(user.user.id, fmt::start_of_day(now))
        .await
        .unwrap_or(0);
    let dir = &app.dir;
    page(&IntakePage {
        nav: Nav::for_user(user, "/intake"),
        v,
        errors,
        done,
        counter,
        types: opts_types(),
        channels: Channel::ALL
            .iter()
            .filter(|c| !matches!(c, Channel::Import | Channel::Open311 | Channel::Device))
            .map(|c| Opt {
                code: c.as_str().into(),
                label: c.label_zh().into(),
            })
            .collect(),
        categories: category_groups(dir),
        streets: street_opts(dir),
        communities: community_groups(dir),
        units: unit_groups(dir),
        specials: SpecialHandling::ALL
            .iter()
            .map(|s| Opt {
                code: s.as_str().into(),
                label: s.label_zh().into(),
            })
            .collect(),
    })
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    done: Option<i64>,
}

pub async fn show_(app: &AppState, user: &WebUser, done: Option<i64>) -> Response {
    let done = match done {
        Some(id) => match jiesu_app::actions::load_visible(app, &user.user, id).await {
            Ok(st) => Some(Done {
                id,
                tracking_code: st.tracking_code.clone(),
                outcome: match (&st.lead_unit, st.status) {
                    (Some(u), _) => format!(
                        "已派至{}",
                        app.dir.unit(u).map(|x| x.name.as_str()).unwrap_or(u)
                    ),
                    (None, s) => s.label_zh().to_string(),
                },
            }),
            _ => None,
        },
        None => None,
    };
    let v = Values {
        request_type: "complaint".into(),
        channel: "hotline".into(),
        disposition: "dispatch".into(),
        idem: new_key(),
        ..Default::default()
    };
    render(app, user, v, FieldErrors::default(), done).await
}

pub async fn show(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(r) = user.require(Capability::RecordIntake) {
        return r;
    }
    show_(&app, &user, q.done).await
}

pub(super) fn values_from(form: &FormData) -> Values {
    Values {
        request_type: form.text("request_type"),
        channel: form.text("channel"),
        category: form.text("category"),
        street: form.text("street"),
        community: form.text("community"),
        address: form.text("address"),
        text: form.text("text"),
        caller_name: form.text("caller_name"),
        caller_phone: form.text("caller_phone"),
        urgent: form.checked("urgent"),
        disposition: form.text("disposition"),
        dispatch_to: form.text("dispatch_to"),
        answer: form.text("answer"),
        special: form.text("special"),
        idem: form.text("idem"),
    }
}

pub async fn submit(
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
    let v = values_from(&form);
    let mut errors = FieldErrors::default();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let (dispatch_to, answer, special_handling) = match v.disposition.as_str() {
        "dispatch" => {
            if v.dispatch_to.is_empty() {
                errors.add("dispatch_to", "请选择承办单位。");
            }
            (opt(&v.dispatch_to), None, None)
        }
        "answer" => {
            if v.answer.is_empty() {
                errors.add("answer", "请填写当场答复的内容。");
            }
            (None, opt(&v.answer), None)
        }
        "special" => match v.special.parse::<SpecialHandling>() {
            Ok(s) => (None, None, Some(s)),
            Err(_) => {
                errors.add("special", "请选择特殊处理方式。");
                (None, None, None)
            }
        },
        "record" => (None, None, None),
        _ => {
            errors.add("disposition", "请选择处理方式。");
            (None, None, None)
        }
    };
    if v.text.is_empty() {
        errors.add("text", "请填写诉求内容。");
    }
    if !errors.is_empty() {
        let mut r = render(&app, &user, v, errors, None).await;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let body = CreateBody {
        request_type: v.request_type.clone(),
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
        dispatch_to,
        answer,
        special_handling,
        // The form's one-time key makes a double click or a resubmitted page record one request.
        idempotency_key: opt(&v.idem).map(|k| format!("web:{}:{k}", user.user.id)),
    };
    match intake(&app, &user.user, body).await {
        Ok(created) => {
            Redirect::to(&format!("/intake?done={}", created.request.state.id)).into_response()
        }
        Err(e) => {
            let mut r = render(&app, &user, v, FieldErrors::from_api(&e), None).await;
            *r.status_mut() = e.status;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "intake_suggest.html")]
struct SuggestPartial {
    empty: bool,
    error: String,
    s: Option<Suggestions>,
    emergency_level: String,
    transfer: String,
    categories: Vec<(String, String, String)>,
    duplicates: Vec<(i64, String, String, String)>,
}

fn pct(c: f32) -> String {
    format!("{:.0}%", c * 100.0)
}

pub async fn suggest(
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
    let text = form.text("text");
    let mut partial = SuggestPartial {
        empty: text.chars().count() < 4,
        error: String::new(),
        s: None,
        emergency_level: String::new(),
        transfer: String::new(),
        categories: Vec::new(),
        duplicates: Vec::new(),
    };
    if partial.empty {
        return page(&partial);
    }
    let input = SuggestInput {
        text: text.chars().take(10_000).collect(),
        title: None,
        address: form.get("address").map(str::to_string),
        request_type: form.get("request_type").map(str::to_string),
        category: form.get("category").map(str::to_string),
        street: form.get("street").map(str::to_string),
        community: form.get("community").map(str::to_string),
        received_at: app.now(),
    };
    match suggest_for(&app, &input).await {
        Ok(s) => {
            partial.emergency_level = match s.emergency.level {
                EmergencyLevel::Immediate => "immediate".into(),
                EmergencyLevel::Urgent => "urgent".into(),
                EmergencyLevel::None => String::new(),
            };
            partial.transfer = s
                .emergency
                .transfer
                .map(|t| t.number().to_string())
                .unwrap_or_default();
            partial.categories = s
                .category
                .top
                .iter()
                .take(3)
                .map(|r| {
                    let name = app
                        .dir
                        .category(&r.value)
                        .map(|c| c.name.clone())
                        .unwrap_or_else(|| r.value.clone());
                    (r.value.clone(), name, pct(r.confidence))
                })
                .collect();
            partial.duplicates = s
                .duplicates
                .iter()
                .map(|d| {
                    let status = d
                        .status
                        .parse::<jiesu_domain::Status>()
                        .map(|s| s.label_zh().to_string())
                        .unwrap_or_else(|_| d.status.clone());
                    (d.id, d.tracking_code.clone(), pct(d.similarity), status)
                })
                .collect();
            partial.s = Some(s);
        }
        Err(e) => partial.error = fmt::error_zh(&e.into()),
    }
    page(&partial)
}

impl SuggestPartial {
    fn conf(&self, c: &f32) -> String {
        pct(*c)
    }
}

// ------------------------------------------------------------------ caller history

/// One earlier request of the caller, as the history beside the form shows it.
pub struct PastRequest {
    pub id: i64,
    pub code: String,
    pub status: String,
    pub date: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "intake_history.html")]
struct HistoryPartial {
    /// Nothing to look up yet (no phone, or not one), or not for this role.
    empty: bool,
    total: i64,
    recent: Vec<PastRequest>,
    phone_link: String,
}

/// 来电历史: the caller's earlier requests as the phone is typed (htmx): how many, the last
/// three with status and date. Only for roles that see callers' identities; each lookup is
/// audited like the phone search (`search_by_phone`, the number's blind index, not the number).
pub async fn history(
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
    let phone = form.text("caller_phone");
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let mut partial = HistoryPartial {
        empty: true,
        total: 0,
        recent: Vec::new(),
        phone_link: String::new(),
    };
    if !user.role().sees_caller_identity()
        || digits < 7
        || !jiesu_domain::tracking::looks_like_phone(&phone)
    {
        return page(&partial);
    }
    let q = jiesu_app::requests::ListQuery {
        phone: Some(phone.clone()),
        limit: Some(3),
        ..Default::default()
    };
    let f = match jiesu_app::requests::build_filter(&app, &user.user, &q).await {
        Ok(f) => f,
        // A number the list refuses has no history to show.
        Err(_) => return page(&partial),
    };
    let (total, p) = match (
        jiesu_app::requests::count(&app, &f).await,
        jiesu_app::requests::page(&app, &f).await,
    ) {
        (Ok(n), Ok(p)) => (n, p),
        _ => return page(&partial),
    };
    partial.empty = false;
    partial.total = total;
    partial.phone_link = format!(
        "/requests?{}",
        serde_urlencoded::to_string([("phone", phone.as_str())]).unwrap_or_default()
    );
    partial.recent = p
        .items
        .iter()
        .map(|s| PastRequest {
            id: s.id,
            code: s.tracking_code.clone(),
            status: s.status.label_zh().into(),
            date: fmt::date(s.intake.received_at),
            text: s.intake.text.chars().take(30).collect(),
        })
        .collect();
    page(&partial)
}
