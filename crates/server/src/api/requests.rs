//! `/requests`: intake, lists, one request, its events, and one endpoint per action.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::views::{EventView, RequestView, event_views, request_view, reveals_identity};
use crate::{ApiJson, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{Channel, Command, Role, SpecialHandling, Status};
use jiesu_store::{AuditEntry, Cursor, ListFilter, NewRequest};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `POST /requests`: a new request, optionally dispatched or closed in the same action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub request_type: String,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub urgent: bool,
    pub received_at: Option<Timestamp>,
    /// Dispatch at once to this unit (派单 in the same action).
    pub dispatch_to: Option<String>,
    /// Answer a 咨询 on the spot and close it.
    pub answer: Option<String>,
    /// Close at intake with an Art.11 special handling.
    pub special_handling: Option<SpecialHandling>,
    /// Same key twice → the first request, nothing new stored. Also accepted as the
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

#[derive(Serialize)]
pub struct CreatedView {
    #[serde(flatten)]
    pub request: RequestView,
    /// True when the idempotency key had been used and nothing new was stored.
    pub replayed: bool,
    /// What the platform suggests (type, category, unit, place, emergency, duplicates);
    /// `null` only if the text services failed. Never applied silently: the operator decides.
    pub suggestions: Option<crate::api::suggest::Suggestions>,
}

const INTAKE_ROLES: &[Role] = &[Role::Operator, Role::Dispatcher, Role::Admin];

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    let key = body.idempotency_key.clone().or_else(|| {
        headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let view = intake(&app, &user, body, key).await?;
    let status = if view.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)))
}

/// Validates a submission from any door (API, web, portal, Open311, import) and applies the
/// deployment's privacy rule to the text it will store: with `mask_numbers_in_text`, phone
/// and ID numbers written into the text or title are masked (条例 Art.8).
pub fn validate_intake(
    input: &IntakeInput,
    channel: jiesu_domain::Channel,
    dir: &jiesu_domain::Directory,
    now: Timestamp,
) -> Result<jiesu_domain::Intake, jiesu_domain::DomainError> {
    let mut intake = jiesu_domain::intake::validate(input, channel, dir, now)?;
    if dir.world.district.mask_numbers_in_text {
        intake.text = jiesu_text::mask_pii(&intake.text);
        intake.title = intake.title.as_deref().map(jiesu_text::mask_pii);
    }
    Ok(intake)
}

/// 受理: validates, suggests, stores (with the follow-up action) and indexes one request. Shared
/// by the JSON API and the web intake desk.
pub async fn intake(
    app: &AppState,
    user: &jiesu_store::User,
    body: CreateBody,
    key: Option<String>,
) -> ApiResult<CreatedView> {
    if !INTAKE_ROLES.contains(&user.role) {
        return Err(ApiError::forbidden(format!(
            "受理: only operators and dispatchers record requests, not {}",
            user.role.label_zh()
        )));
    }
    let now = app.now();
    if let Some(k) = &key
        && (k.is_empty() || k.len() > 200)
    {
        return Err(ApiError::invalid(
            "idempotency_key",
            "invalid",
            "must be 1–200 characters",
        ));
    }
    let input = IntakeInput {
        request_type: body.request_type,
        channel: body.channel,
        category: body.category,
        street: body.street,
        community: body.community,
        address: body.address,
        title: body.title,
        text: body.text,
        caller_name: body.caller_name,
        caller_phone: body.caller_phone,
        urgent: body.urgent,
        received_at: body.received_at,
    };
    let intake = validate_intake(&input, Channel::Hotline, &app.dir, now)?;
    let suggest_input = crate::api::suggest::SuggestInput {
        text: intake.text.clone(),
        title: intake.title.clone(),
        address: intake.address.clone(),
        request_type: Some(intake.request_type.as_str().to_string()),
        category: intake.category.clone(),
        street: intake.street.clone(),
        community: intake.community.clone(),
        received_at: intake.received_at,
    };
    let follow_up = match (body.dispatch_to, body.answer, body.special_handling) {
        (None, None, None) => None,
        (Some(unit), None, None) => Some(Command::Dispatch { unit, reason: None }),
        (None, answer, special) => Some(Command::Close {
            special,
            answer,
            reason: None,
        }),
        (Some(_), _, _) => {
            return Err(ApiError::invalid(
                "dispatch_to",
                "conflicting",
                "dispatch_to cannot be combined with answer or special_handling",
            ));
        }
    };
    // Suggestions depend only on what was said, so they are computed first and stored in the
    // request's own transaction. A failure costs the suggestion, never the intake.
    let suggestions = match crate::api::suggest::suggest_for(app, &suggest_input).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e.body.message, "suggestions failed");
            None
        }
    };
    let suggestion_json = suggestions
        .as_ref()
        .and_then(|s| serde_json::to_string(s).ok());
    let actor = user.actor();
    let created = app
        .store
        .create_request(NewRequest {
            dir: &app.dir,
            actor: &actor,
            intake,
            idempotency_key: key,
            follow_up,
            suggestion: suggestion_json,
            now,
        })
        .await?;
    crate::search::after_write(app.search.as_ref(), &created.state);
    let suggestions = match suggestions {
        Some(s) => Some(remember_intake(app, &created, s).await),
        None => None,
    };
    // The creator typed the caller's details in; echoing them back is not a new disclosure.
    let replayed = created.replayed;
    let view = request_view(&app.dir, created.state, reveals_identity(user.role), now);
    Ok(CreatedView {
        request: view,
        replayed,
        suggestions,
    })
}

/// After a stored intake: the request joins the duplicate index (and teaches the address
/// resolver), and its own entry is dropped from the duplicates shown.
async fn remember_intake(
    app: &AppState,
    created: &jiesu_store::Created,
    mut suggestions: crate::api::suggest::Suggestions,
) -> crate::api::suggest::Suggestions {
    let st = &created.state;
    suggestions.duplicates.retain(|d| d.id != st.id);
    if created.replayed {
        return suggestions;
    }
    // The duplicate index keys on the street, resolved if the operator gave none; the
    // resolver learns only from streets an operator confirmed (else it would teach itself).
    let confirmed = st.intake.street.is_some();
    crate::api::suggest::remember(
        app,
        jiesu_store::TextHistory {
            id: st.id,
            tracking_code: st.tracking_code.clone(),
            status: st.status.as_str().to_string(),
            text: st.intake.text.clone(),
            address: st.intake.address.clone().filter(|_| confirmed),
            street: st
                .intake
                .street
                .clone()
                .or_else(|| suggestions.street.as_ref().map(|p| p.code.clone())),
            community: st.intake.community.clone(),
            received_at: st.intake.received_at,
        },
    )
    .await;
    suggestions
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One status or several, comma-separated; `open` means every non-finished status.
    pub status: Option<String>,
    pub unit: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    /// A category (a parent includes its sub-categories).
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    pub channel: Option<String>,
    pub overdue: Option<bool>,
    /// `warning`: past the warning point (80% of the time used), not yet overdue.
    pub sla: Option<String>,
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// Text contains.
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Serialize)]
pub struct ListView {
    pub items: Vec<RequestView>,
    pub next_cursor: Option<String>,
}

fn parse_time(field: &str, v: &Option<String>) -> ApiResult<Option<Timestamp>> {
    v.as_deref()
        .map(|s| {
            s.parse::<Timestamp>().map_err(|_| {
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    field,
                    "expected an RFC 3339 instant such as 2026-10-01T00:00:00+08:00",
                )
            })
        })
        .transpose()
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ListView>> {
    let Query(q) = query?;
    let f = build_filter(&app, &user, &q).await?;
    let page = app.store.list(&f).await?;
    let now = app.now();
    // Lists never reveal identities: only the detail view does, and that view is logged.
    Ok(Json(ListView {
        items: page
            .items
            .into_iter()
            .map(|s| request_view(&app.dir, s, false, now))
            .collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}

/// The store filter for a list query, scoped to what `user` may see. Shared by the list, the
/// export and the web pages.
pub async fn build_filter(
    app: &AppState,
    user: &jiesu_store::User,
    q: &ListQuery,
) -> ApiResult<ListFilter> {
    let bad = |field: &str, msg: String| {
        ApiError::field(StatusCode::BAD_REQUEST, "bad_query", field, msg)
    };
    let mut f = ListFilter {
        limit: q.limit.unwrap_or(50),
        ..Default::default()
    };
    if q.limit.is_some_and(|l| l == 0 || l > 500) {
        return Err(bad("limit", "between 1 and 500".into()));
    }
    if let Some(s) = &q.status {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "open" {
                f.statuses.extend_from_slice(jiesu_store::OPEN_STATUSES);
            } else {
                let st: Status = part.parse().map_err(|_| {
                    bad(
                        "status",
                        format!(
                            "unknown status `{part}`; use open or {}",
                            crate::views::status_codes()
                        ),
                    )
                })?;
                f.statuses.push(st);
            }
        }
    }
    if let Some(c) = &q.category {
        if app.dir.category(c).is_none() {
            return Err(bad("category", format!("unknown category `{c}`")));
        }
        f.categories = leaves_under(app, c);
    }
    if let Some(t) = &q.request_type {
        let t: jiesu_domain::RequestType = t
            .parse()
            .map_err(|_| bad("type", format!("unknown type `{t}`")))?;
        f.request_type = Some(t.as_str().to_string());
    }
    if let Some(c) = &q.channel {
        let c: Channel = c
            .parse()
            .map_err(|_| bad("channel", format!("unknown channel `{c}`")))?;
        f.channel = Some(c.as_str().to_string());
    }
    f.unit = q.unit.clone();
    f.street = q.street.clone();
    f.community = q.community.clone();
    f.overdue = q.overdue;
    match q.sla.as_deref() {
        None => {}
        Some("warning") => f.warning_at = Some(app.now()),
        Some("overdue") => f.overdue = Some(true),
        Some(other) => {
            return Err(bad(
                "sla",
                format!("unknown value `{other}`; use warning or overdue"),
            ));
        }
    }
    f.received_from = parse_time("received_from", &q.received_from)?;
    f.received_to = parse_time("received_to", &q.received_to)?;
    f.text = q.q.clone().filter(|s| !s.trim().is_empty());
    if let (Some(index), Some(text)) = (&app.search, &f.text)
        && let Some(ids) = crate::search::candidates(index, text).await
    {
        // The index found words; scope and the other filters still apply in SQL.
        f.ids = Some(ids);
        f.text = None;
    }
    if let Some(c) = &q.cursor {
        f.cursor = Some(Cursor::decode(c).ok_or_else(|| bad("cursor", "malformed cursor".into()))?);
    }
    if user.role == Role::Handler {
        // A handler sees only its unit's requests; without a unit, nothing.
        f.scope_unit = Some(user.unit_code.clone().unwrap_or_default());
    }
    Ok(f)
}

fn leaves_under(app: &AppState, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![code.to_string()];
    while let Some(c) = stack.pop() {
        if app.dir.is_leaf_category(&c) {
            out.push(c.clone());
        }
        for child in app
            .dir
            .world
            .categories
            .iter()
            .filter(|x| x.parent.as_deref() == Some(c.as_str()))
        {
            stack.push(child.code.clone());
        }
    }
    out
}

pub async fn load_visible(
    app: &AppState,
    user: &jiesu_store::User,
    id: i64,
) -> ApiResult<jiesu_domain::RequestState> {
    let st = app.store.get(id).await?.ok_or_else(ApiError::not_found)?;
    if !jiesu_domain::can_see(&user.actor(), &st) {
        // Same answer as a missing id: ids cannot be probed.
        return Err(ApiError::not_found());
    }
    Ok(st)
}

/// Logs that `user` saw the caller's identity on request `id` (条例 Art.8/35).
pub async fn log_identity_view(
    app: &AppState,
    user: &jiesu_store::User,
    id: i64,
    what: &str,
) -> ApiResult<()> {
    app.store
        .audit(&AuditEntry {
            at: app.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().to_string(),
            action: "view_caller_identity".into(),
            target_type: "request".into(),
            target_id: id.to_string(),
            detail: Some(what.to_string()),
        })
        .await?;
    Ok(())
}

pub fn has_identity(st: &jiesu_domain::RequestState) -> bool {
    st.intake.caller.name.is_some() || st.intake.caller.phone.is_some()
}

pub async fn get_one(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<RequestView>> {
    let Path(id) = id?;
    let st = load_visible(&app, &user, id).await?;
    let reveal = reveals_identity(user.role);
    if reveal && has_identity(&st) {
        log_identity_view(&app, &user, id, "request detail").await?;
    }
    Ok(Json(request_view(&app.dir, st, reveal, app.now())))
}

pub async fn events(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Vec<EventView>>> {
    let Path(id) = id?;
    let st = load_visible(&app, &user, id).await?;
    let reveal = reveals_identity(user.role);
    if reveal && has_identity(&st) {
        log_identity_view(&app, &user, id, "event log").await?;
    }
    let events = app.store.events(id).await?;
    Ok(Json(event_views(events, reveal)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    master_id: i64,
}

const ACTIONS: &[&str] = &[
    "dispatch",
    "accept",
    "contact",
    "reply",
    "return",
    "extend",
    "decide-extension",
    "escalate",
    "callback",
    "reopen",
    "merge",
    "whistle",
    "report",
    "suspend",
    "close",
];

/// `POST /requests/{id}/{action}`: the body is the action's fields as JSON (may be empty for
/// `accept`).
pub async fn act(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    path: Result<Path<(i64, String)>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<RequestView>> {
    let Path((id, action)) = path?;
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_action",
            format!("unknown action `{action}`; one of {}", ACTIONS.join(", ")),
        ));
    }
    let mut value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        let is_json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send `Content-Type: application/json`",
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("malformed_json", e.to_string()))?
    };
    let act = if action == "merge" {
        let m: MergeBody = serde_json::from_value(value).map_err(body_error)?;
        Action::Merge {
            master_id: m.master_id,
        }
    } else {
        let obj = value.as_object_mut().ok_or_else(|| {
            ApiError::bad_request("malformed_json", "the body must be a JSON object")
        })?;
        if obj.contains_key("action") {
            return Err(ApiError::invalid(
                "action",
                "unknown_field",
                "`action` comes from the path",
            ));
        }
        obj.insert("action".into(), serde_json::Value::String(action.clone()));
        Action::Command(serde_json::from_value(value).map_err(body_error)?)
    };
    let st = perform(&app, &user, id, &act).await?;
    // Acting does not re-disclose identity: the answer is masked; the detail view reveals.
    Ok(Json(request_view(&app.dir, st, false, app.now())))
}

/// What can be done to one request: a lifecycle command, or 并单 into a master.
pub enum Action {
    Command(Command),
    Merge { master_id: i64 },
}

/// Applies one action for `user` and keeps the search index in step. Shared by the JSON API and
/// the web pages.
pub async fn perform(
    app: &AppState,
    user: &jiesu_store::User,
    id: i64,
    act: &Action,
) -> ApiResult<jiesu_domain::RequestState> {
    let now = app.now();
    let actor = user.actor();
    let st = match act {
        Action::Merge { master_id } => app.store.merge(&actor, id, *master_id, now).await?,
        Action::Command(cmd) => app.store.act(&app.dir, &actor, id, cmd, now).await?,
    };
    crate::search::after_write(app.search.as_ref(), &st);
    Ok(st)
}

fn body_error(e: serde_json::Error) -> ApiError {
    let msg = e.to_string();
    let field = msg.find("field `").and_then(|i| {
        msg[i + 7..]
            .find('`')
            .map(|j| msg[i + 7..i + 7 + j].to_string())
    });
    let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", msg);
    err.body.field = field;
    err
}

/// A request filed by a citizen (Open311 client, web portal): the same suggestions the hotline
/// records, stored in the request's own transaction; indexed for search and duplicates. No
/// operator confirmed the place, so the address resolver does not learn from it.
pub async fn file_citizen_request(
    app: &AppState,
    actor: &jiesu_domain::Actor,
    intake: jiesu_domain::Intake,
    address_words: Option<String>,
    idempotency_key: Option<String>,
) -> ApiResult<jiesu_domain::RequestState> {
    let now = app.now();
    let suggest_input = crate::api::suggest::SuggestInput {
        text: intake.text.clone(),
        title: intake.title.clone(),
        address: address_words,
        request_type: Some(intake.request_type.as_str().to_string()),
        category: intake.category.clone(),
        street: intake.street.clone(),
        community: intake.community.clone(),
        received_at: intake.received_at,
    };
    // A failure costs the suggestion, never the request.
    let suggestions = match crate::api::suggest::suggest_for(app, &suggest_input).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e.body.message, "citizen intake: suggestions failed");
            None
        }
    };
    let created = app
        .store
        .create_request(NewRequest {
            dir: &app.dir,
            actor,
            intake,
            idempotency_key,
            follow_up: None,
            suggestion: suggestions
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
            now,
        })
        .await?;
    let st = created.state;
    crate::search::after_write(app.search.as_ref(), &st);
    if let (Some(s), false) = (&suggestions, created.replayed) {
        crate::api::suggest::remember(
            app,
            jiesu_store::TextHistory {
                id: st.id,
                tracking_code: st.tracking_code.clone(),
                status: st.status.as_str().to_string(),
                text: st.intake.text.clone(),
                address: None,
                street: st
                    .intake
                    .street
                    .clone()
                    .or_else(|| s.street.as_ref().map(|p| p.code.clone())),
                community: st.intake.community.clone(),
                received_at: st.intake.received_at,
            },
        )
        .await;
    }
    Ok(st)
}
