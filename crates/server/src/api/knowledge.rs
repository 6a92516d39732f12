//! `/knowledge`: the 咨询 knowledge base (`jiesu_app::knowledge`) — list and search, one entry
//! with its revisions, create, edit, the review steps, uses, "没有帮助", and 一键答复.

use crate::api::requests::{CreateBody, CreatedView};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::views::{request_view, reveals_identity};
use crate::{ApiJson, AppState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_app::knowledge::{
    self as kb, EntryDetail, EntryView, FeedbackBody, ListQuery, ReviewBody, Suggestion, UseBody,
};
use jiesu_domain::knowledge::EntryInput;
use jiesu_store::KnowledgeFeedback;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/knowledge", get(list).post(create))
        .route("/knowledge/suggest", post(suggest))
        .route("/knowledge/{id}", get(get_one).post(update))
        .route("/knowledge/{id}/submit", post(submit))
        .route("/knowledge/{id}/approve", post(approve))
        .route("/knowledge/{id}/reject", post(reject))
        .route("/knowledge/{id}/retire", post(retire))
        .route("/knowledge/{id}/use", post(record_use))
        .route("/knowledge/{id}/feedback", post(feedback))
        .route("/knowledge/{id}/answer", post(answer))
}

type IdPath = Result<Path<i64>, PathRejection>;

#[derive(Serialize)]
struct ListView {
    items: Vec<EntryView>,
    total: usize,
}

async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<ListView>> {
    let Query(q) = q?;
    let items = kb::list(&app, &user, &q).await?;
    Ok(Json(ListView {
        total: items.len(),
        items,
    }))
}

async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<EntryInput>,
) -> ApiResult<(StatusCode, Json<EntryView>)> {
    Ok((
        StatusCode::CREATED,
        Json(kb::create(&app, &user, &body).await?),
    ))
}

async fn get_one(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<EntryDetail>> {
    let Path(id) = id?;
    Ok(Json(kb::get(&app, &user, id).await?))
}

/// An edit: the entry's fields, and the revision the editor started from (optional; a stale
/// one is refused with 409).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    question: String,
    answer: String,
    policy_source: String,
    unit: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    revision: Option<i64>,
}

async fn update(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    let input = EntryInput {
        question: body.question,
        answer: body.answer,
        policy_source: body.policy_source,
        unit: body.unit,
        valid_from: body.valid_from,
        valid_to: body.valid_to,
        keywords: body.keywords,
    };
    Ok(Json(
        kb::update(&app, &user, id, &input, body.revision).await?,
    ))
}

async fn submit(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    Ok(Json(kb::submit(&app, &user, id).await?))
}

async fn approve(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    Ok(Json(kb::approve(&app, &user, id, body).await?))
}

async fn reject(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    Ok(Json(kb::reject(&app, &user, id, body).await?))
}

async fn retire(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    Ok(Json(kb::retire(&app, &user, id).await?))
}

async fn record_use(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<UseBody>,
) -> ApiResult<Json<EntryView>> {
    let Path(id) = id?;
    Ok(Json(kb::record_use(&app, &user, id, body).await?))
}

async fn feedback(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> ApiResult<(StatusCode, Json<KnowledgeFeedback>)> {
    let Path(id) = id?;
    Ok((
        StatusCode::CREATED,
        Json(kb::feedback(&app, &user, id, body).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestBody {
    text: String,
}

async fn suggest(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SuggestBody>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    Ok(Json(kb::suggest(&app, &user, &body.text).await?))
}

/// 一键答复: the body is an intake (`POST /requests`'s); it is recorded as a 咨询 closed on the
/// spot with the entry's script, cited, as the answer.
async fn answer(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    let Path(id) = id?;
    let (r, _) = kb::answer_at_intake(&app, &user, id, body).await?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let view = request_view(&app.dir, r.state, reveals_identity(user.role), app.now());
    Ok((
        status,
        Json(CreatedView {
            request: view,
            replayed: r.replayed,
            suggestions: r.suggestions,
        }),
    ))
}

/// The OpenAPI paths of this module (merged into `openapi::spec`).
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let ok = |schema: Value| json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
    let entry = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "question": {"type": "string"}, "answer": {"type": "string"},
        "policy_source": {"type": "string"}, "unit": {"type": "string"}, "unit_name": {"type": "string"},
        "valid_from": {"type": "string", "format": "date"}, "valid_to": {"type": ["string", "null"], "format": "date"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "status": {"enum": ["draft", "in_review", "published", "retired"]}, "status_label": {"type": "string"},
        "revision": {"type": "integer"}, "in_force": {"type": "boolean"},
        "uses": {"type": "integer"}, "unhelpful": {"type": "integer"}}});
    let input_props = json!({
        "question": {"type": "string", "minLength": 4, "maxLength": 200},
        "answer": {"type": "string", "minLength": 10, "maxLength": 4000},
        "policy_source": {"type": "string", "minLength": 1, "maxLength": 300},
        "unit": {"type": "string", "description": "a unit code of the directory (GET /units)"},
        "valid_from": {"type": "string", "format": "date", "description": "YYYY-MM-DD; today when absent"},
        "valid_to": {"type": "string", "format": "date", "description": "YYYY-MM-DD, inclusive, not before valid_from"},
        "keywords": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 20}}});
    let input = json!({"type": "object", "required": ["question", "answer", "policy_source", "unit"], "properties": input_props, "additionalProperties": false});
    let mut update_props = input_props.clone();
    update_props["revision"] = json!({"type": "integer", "description": "the revision the edit started from; another one answers 409"});
    let update = json!({"type": "object", "required": ["question", "answer", "policy_source", "unit"], "properties": update_props, "additionalProperties": false});
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let std_errors = json!({
        "400": err("malformed request"), "401": err("not logged in"), "403": err("role may not do this"),
        "404": err("no such entry (or not visible to you)"), "409": err("not allowed in the entry's state, or changed meanwhile"),
        "422": err("a field is invalid (named)")});
    let op = |summary: &str, params: Value, req: Option<Value>, status: &str, schema: Value| {
        let mut o = json!({"summary": summary, "security": [{"bearer": []}], "parameters": params, "responses": std_errors.clone()});
        o["responses"][status] = ok(schema);
        if status != "200" {
            o["responses"][status]["description"] = json!("created");
        }
        if let Some(b) = req {
            o["requestBody"] = b;
        }
        o
    };
    let review = json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": 500}}, "additionalProperties": false});
    let list_params = json!([
        {"name": "q", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 200}, "description": "words, matched with jieba like the request search"},
        {"name": "status", "in": "query", "required": false, "schema": {"enum": ["draft", "in_review", "published", "retired"]}},
        {"name": "unit", "in": "query", "required": false, "schema": {"type": "string"}}]);
    let step = |summary: &str, req: Option<Value>| {
        op(summary, json!([id.clone()]), req, "200", entry.clone())
    };
    vec![
        (
            "/api/v1/knowledge",
            json!({
                "get": op("知识库: entries you may see (published for everyone; drafts and reviews for editors and reviewers), best match first with q", list_params, None, "200",
                    json!({"type": "object", "properties": {"items": {"type": "array", "items": entry.clone()}, "total": {"type": "integer"}}})),
                "post": op("a new entry, as a draft (admin; a handler for its own unit)", json!([]), Some(body(input)), "201", entry.clone()),
            }),
        ),
        (
            "/api/v1/knowledge/suggest",
            json!({"post": op("published entries in force that match a caller's text, best first (at most 3)", json!([]),
                Some(body(json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 10000}}, "additionalProperties": false}))),
                "200", json!({"type": "array", "items": entry.clone()}))}),
        ),
        (
            "/api/v1/knowledge/{id}",
            json!({
                "get": op("one entry with its revisions (and its 没有帮助 marks for editors and reviewers)", json!([id.clone()]), None, "200", entry.clone()),
                "post": op("edit: a new revision (a published entry goes back to draft for review)", json!([id.clone()]), Some(body(update)), "200", entry.clone()),
            }),
        ),
        (
            "/api/v1/knowledge/{id}/submit",
            json!({"post": step("submit a draft for review", None)}),
        ),
        (
            "/api/v1/knowledge/{id}/approve",
            json!({"post": step("publish a revision under review (supervisor, admin; not its author)", Some(body(review.clone())))}),
        ),
        (
            "/api/v1/knowledge/{id}/reject",
            json!({"post": step("send a revision under review back to draft with a reason (`note`, required; not its author)", Some(body(review)))}),
        ),
        (
            "/api/v1/knowledge/{id}/retire",
            json!({"post": step("retire an entry: no longer suggested or usable", None)}),
        ),
        (
            "/api/v1/knowledge/{id}/use",
            json!({"post": step("count a use of a published entry in force (its script read to a caller), for a request when given",
            Some(body(json!({"type": "object", "properties": {"request_id": {"type": "integer", "minimum": 1}}, "additionalProperties": false}))))}),
        ),
        (
            "/api/v1/knowledge/{id}/feedback",
            json!({"post": op("没有帮助: the entry's answer did not help (for a request and with a note, when given)", json!([id.clone()]),
            Some(body(json!({"type": "object", "properties": {"request_id": {"type": "integer", "minimum": 1}, "note": {"type": "string", "maxLength": 500}}, "additionalProperties": false}))),
            "201", json!({"type": "object", "properties": {"id": {"type": "integer"}, "entry_id": {"type": "integer"}, "revision": {"type": "integer"}, "request_id": {"type": ["integer", "null"]}, "note": {"type": ["string", "null"]}}}))}),
        ),
        (
            "/api/v1/knowledge/{id}/answer",
            json!({"post": {
            "summary": "一键答复: record an intake as a 咨询 answered on the spot from this entry (its script, cited, is the answer) and count the use",
            "security": [{"bearer": []}], "parameters": [id.clone()],
            "requestBody": body(json!({"$ref": "#/components/schemas/NewRequest"})),
            "responses": {
                "201": ok(json!({"$ref": "#/components/schemas/Request"})),
                "200": {"description": "the same idempotency_key again: the request it created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                "400": err("malformed request"), "401": err("not logged in"), "403": err("role may not do this"),
                "404": err("no such entry"), "409": err("the entry is not published or not in force"), "422": err("a field is invalid (named)")}}}),
        ),
    ]
}
