//! `/requests`: intake, lists, one request, its events, and one endpoint per action.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::views::{EventView, RequestView, event_views, request_view, reveals_identity};
use crate::{ApiJson, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

pub use jiesu_app::actions::{Action, has_identity};
/// `POST /requests`: a new request, optionally dispatched or closed in the same action. The
/// idempotency key is also accepted as the `Idempotency-Key` header.
pub use jiesu_app::intake::IntakeRequest as CreateBody;
pub use jiesu_app::intake::{file_citizen_request, validate as validate_intake};
pub use jiesu_app::requests::{ListQuery, build_filter};

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

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(mut body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    if body.idempotency_key.is_none() {
        body.idempotency_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    let view = intake(&app, &user, body).await?;
    let status = if view.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)))
}

/// 受理 through `jiesu_app::intake::record`, rendered as the API answers it (the web desk
/// renders the same view).
pub async fn intake(
    app: &AppState,
    user: &jiesu_store::User,
    body: CreateBody,
) -> ApiResult<CreatedView> {
    let r = jiesu_app::intake::record(app, user, body).await?;
    // The creator typed the caller's details in; echoing them back is not a new disclosure.
    let view = request_view(&app.dir, r.state, reveals_identity(user.role), app.now());
    Ok(CreatedView {
        request: view,
        replayed: r.replayed,
        suggestions: r.suggestions,
    })
}

#[derive(Serialize)]
pub struct ListView {
    pub items: Vec<RequestView>,
    pub next_cursor: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ListView>> {
    let Query(q) = query?;
    let page = jiesu_app::requests::list(&app, &user, &q).await?;
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

pub async fn get_one(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<RequestView>> {
    let Path(id) = id?;
    let (st, reveal) = jiesu_app::actions::view(&app, &user, id, "request detail").await?;
    Ok(Json(request_view(&app.dir, st, reveal, app.now())))
}

pub async fn events(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Vec<EventView>>> {
    let Path(id) = id?;
    let (events, reveal) = jiesu_app::actions::events(&app, &user, id).await?;
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
    // Who may act at all is answered before the body is read: a role without the capability
    // learns nothing about what a valid command would look like.
    jiesu_app::require(&user, jiesu_app::Capability::ActOnRequests)?;
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
    let st = jiesu_app::actions::perform(&app, &user, id, &act).await?;
    // Acting does not re-disclose identity: the answer is masked; the detail view reveals.
    Ok(Json(request_view(&app.dir, st, false, app.now())))
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
