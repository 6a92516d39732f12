//! `/care`: elder care (`jiesu_app::care`) — the registry, assessments, the provider network,
//! meal points and meals, service orders (from a request, a plan, the family), monthly
//! settlement and the supply–demand view; and the family's public order page.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::{ApiJson, AppState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_app::care::orders::{
    self, FamilyRequest, Match, OrderDetail, OrderQuery, OrderRequest, PublicOrder,
};
use jiesu_app::care::registry::{self, ElderView};
use jiesu_app::care::settle::{self, SettlementReport};
use jiesu_app::care::supply::{self, CommunityRow};
use jiesu_app::care::{Paged, meals, network};
use jiesu_domain::care::ability::AssessmentInput;
use jiesu_domain::care::claim::{ClaimState, PartyKind};
use jiesu_domain::care::meals::{Meal, MealInput};
use jiesu_domain::care::order::{OrderCommand, OrderState, ServiceKind, Slot};
use jiesu_domain::care::person::ElderInput;
use jiesu_store::care::{Assessment, CarePlan, Carer, MealPoint, Provider};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/care/elders", get(list_elders).post(create_elder))
        .route("/care/elders/find", get(find_elders))
        .route("/care/elders/{id}", get(get_elder).put(update_elder))
        .route(
            "/care/elders/{id}/assessments",
            get(list_assessments).post(assess),
        )
        .route("/care/providers", get(list_providers))
        .route("/care/providers/{code}", axum::routing::put(save_provider))
        .route(
            "/care/providers/{code}/carers",
            get(list_carers).post(add_carer),
        )
        .route("/care/meal-points", get(list_meal_points))
        .route(
            "/care/meal-points/{code}",
            axum::routing::put(save_meal_point),
        )
        .route("/care/meal-points/{code}/meals", post(record_meal))
        .route("/care/meal-points/{code}/meals/{id}/void", post(void_meal))
        .route("/care/orders", get(list_orders).post(create_order))
        .route("/care/plans", post(create_plan))
        .route("/care/orders/{id}", get(get_order))
        .route("/care/orders/{id}/matches", get(order_matches))
        .route("/care/orders/{id}/{action}", post(order_action))
        .route("/care/settlement", get(settlement))
        .route("/care/settlement.xlsx", get(settlement_xlsx))
        .route("/care/claims", post(prepare_claim))
        .route("/care/claims/{id}", get(get_claim))
        .route("/care/claims/{id}/approve", post(approve_claim))
        .route("/care/supply", get(supply_view))
        .route("/care/kpis", get(kpis))
        .route("/care/family/orders", post(family_order))
        .route("/care/family/orders/{code}", get(family_get))
        .route("/care/family/orders/{code}/rate", post(family_rate))
}

type IdPath = Result<Path<i64>, PathRejection>;
type CodePath = Result<Path<String>, PathRejection>;

#[derive(Serialize)]
struct Created {
    id: i64,
}

async fn create_elder(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ElderInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = registry::register(&app, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElderList {
    street: Option<String>,
    community: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_elders(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<ElderList>, QueryRejection>,
) -> ApiResult<Json<Paged<ElderView>>> {
    let Query(q) = q?;
    Ok(Json(
        registry::list(&app, &user, q.street, q.community, q.limit, q.offset).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindQuery {
    q: String,
}

async fn find_elders(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<FindQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<ElderView>>> {
    let Query(q) = q?;
    Ok(Json(registry::find(&app, &user, &q.q).await?))
}

async fn get_elder(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<ElderView>> {
    let Path(id) = id?;
    Ok(Json(registry::get(&app, &user, id).await?))
}

async fn update_elder(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<ElderInput>,
) -> ApiResult<Json<ElderView>> {
    let Path(id) = id?;
    registry::update(&app, &user, id, &body).await?;
    Ok(Json(registry::get(&app, &user, id).await?))
}

async fn assess(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<AssessmentInput>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    let Path(id) = id?;
    Ok((
        StatusCode::CREATED,
        Json(registry::assess(&app, &user, id, &body).await?),
    ))
}

async fn list_assessments(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<Vec<Assessment>>> {
    let Path(id) = id?;
    Ok(Json(registry::assessments(&app, &user, id).await?))
}

async fn list_providers(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Provider>>> {
    Ok(Json(network::providers(&app, &user).await?))
}

fn same_code(path: &str, body: &str) -> ApiResult<()> {
    if path == body {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "code",
            "code_mismatch",
            "the body's code is not the path's",
        ))
    }
}

async fn save_provider(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(body): ApiJson<Provider>,
) -> ApiResult<Json<Provider>> {
    let Path(code) = code?;
    same_code(&code, &body.code)?;
    network::save_provider(&app, &user, &body).await?;
    let saved = network::providers(&app, &user)
        .await?
        .into_iter()
        .find(|p| p.code == code);
    Ok(Json(saved.unwrap_or(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CarerBody {
    name: String,
    #[serde(default)]
    skills: Vec<ServiceKind>,
}

async fn add_carer(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(body): ApiJson<CarerBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let Path(code) = code?;
    let c = Carer {
        id: 0,
        provider: code,
        name: body.name,
        skills: body.skills,
        active: true,
    };
    let id = network::add_carer(&app, &user, &c).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn list_carers(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<Vec<Carer>>> {
    let Path(code) = code?;
    Ok(Json(network::carers(&app, &user, &code).await?))
}

async fn list_meal_points(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<MealPoint>>> {
    Ok(Json(network::meal_points(&app, &user).await?))
}

async fn save_meal_point(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(body): ApiJson<MealPoint>,
) -> ApiResult<Json<MealPoint>> {
    let Path(code) = code?;
    same_code(&code, &body.code)?;
    network::save_meal_point(&app, &user, &body).await?;
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MealBody {
    elder_id: i64,
    date: jiff::civil::Date,
    meal: jiesu_domain::care::meals::MealKind,
    bill_fen: i64,
}

async fn record_meal(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(body): ApiJson<MealBody>,
) -> ApiResult<(StatusCode, Json<Meal>)> {
    let Path(code) = code?;
    let m = MealInput {
        elder_id: body.elder_id,
        point: code,
        date: body.date,
        meal: body.meal,
        bill_fen: body.bill_fen,
    };
    Ok((
        StatusCode::CREATED,
        Json(meals::record(&app, &user, &m).await?),
    ))
}

async fn void_meal(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    p: Result<Path<(String, i64)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path((code, id)) = p?;
    meals::void(&app, &user, &code, id).await?;
    Ok(Json(json!({"voided": id})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrderBody {
    request_id: i64,
    elder_id: i64,
    service: ServiceKind,
    #[serde(default)]
    note: String,
    wanted: Option<Slot>,
    #[serde(default)]
    reply: bool,
}

async fn create_order(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(b): ApiJson<CreateOrderBody>,
) -> ApiResult<(StatusCode, Json<OrderState>)> {
    let r = OrderRequest {
        elder_id: b.elder_id,
        service: b.service,
        note: b.note,
        wanted: b.wanted,
        reply: b.reply,
    };
    Ok((
        StatusCode::CREATED,
        Json(orders::from_request(&app, &user, b.request_id, &r).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    elder_id: i64,
    service: ServiceKind,
    weekdays: Vec<u8>,
    start_min: u16,
    duration_min: u16,
    from_date: jiff::civil::Date,
    to_date: jiff::civil::Date,
}

#[derive(Serialize)]
struct PlanCreated {
    plan_id: i64,
    orders: Vec<OrderState>,
}

async fn create_plan(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(b): ApiJson<PlanBody>,
) -> ApiResult<(StatusCode, Json<PlanCreated>)> {
    let p = CarePlan {
        id: 0,
        elder_id: b.elder_id,
        service: b.service,
        weekdays: b.weekdays,
        start_min: b.start_min,
        duration_min: b.duration_min,
        from_date: b.from_date,
        to_date: b.to_date,
        created_by: String::new(),
    };
    let (plan_id, orders) = orders::plan(&app, &user, &p).await?;
    Ok((StatusCode::CREATED, Json(PlanCreated { plan_id, orders })))
}

async fn list_orders(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<OrderQuery>, QueryRejection>,
) -> ApiResult<Json<Paged<OrderState>>> {
    let Query(q) = q?;
    Ok(Json(orders::list(&app, &user, &q).await?))
}

async fn get_order(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<OrderDetail>> {
    let Path(id) = id?;
    Ok(Json(orders::detail(&app, &user, id).await?))
}

async fn order_matches(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<Vec<Match>>> {
    let Path(id) = id?;
    Ok(Json(orders::matches(&app, &user, id).await?))
}

/// The body of `POST /care/orders/{id}/{action}`; which fields count depends on the action.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    provider: Option<String>,
    carer_id: Option<i64>,
    slot: Option<Slot>,
    place: Option<String>,
    at: Option<jiff::Timestamp>,
    notes: Option<String>,
    score: Option<u8>,
    comment: Option<String>,
}

/// The order actions and the fields each needs.
pub const ORDER_ACTIONS: &[(&str, &[&str])] = &[
    ("assign", &["provider"]),
    ("decline", &[]),
    ("schedule", &["carer_id", "slot"]),
    ("start", &["carer_id", "place"]),
    ("finish", &[]),
    ("rate", &["score"]),
    ("cancel", &[]),
];

fn need<T>(v: Option<T>, field: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid(field, "missing_field", "is required for this action"))
}

async fn order_action(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    p: Result<Path<(i64, String)>, PathRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<OrderState>> {
    let Path((id, action)) = p?;
    if !ORDER_ACTIONS.iter().any(|(a, _)| *a == action) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_action",
            "no such order action",
        ));
    }
    let b: ActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send `Content-Type: application/json`",
            ));
        }
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                let msg = e.to_string();
                let field = crate::error::field_from_serde(&msg).unwrap_or_else(|| "body".into());
                ApiError::invalid(&field, "invalid_field", msg)
            }
            _ => ApiError::bad_request("malformed_json", e.to_string()),
        })?
    };
    let cmd = match action.as_str() {
        "assign" => {
            let code = need(b.provider, "provider")?;
            return Ok(Json(orders::assign(&app, &user, id, &code).await?));
        }
        "decline" => OrderCommand::Decline,
        "schedule" => OrderCommand::Schedule {
            carer_id: need(b.carer_id, "carer_id")?,
            slot: need(b.slot, "slot")?,
        },
        "start" => OrderCommand::StartVisit {
            carer_id: need(b.carer_id, "carer_id")?,
            place: need(b.place, "place")?,
            at: b.at,
        },
        "finish" => OrderCommand::FinishVisit {
            notes: b.notes.unwrap_or_default(),
            at: b.at,
        },
        "rate" => OrderCommand::Rate {
            score: need(b.score, "score")?,
            comment: b.comment.unwrap_or_default(),
        },
        "cancel" => OrderCommand::Cancel,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_action",
                "no such order action",
            ));
        }
    };
    Ok(Json(orders::act(&app, &user, id, &cmd).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    month: String,
    party: Option<String>,
}

async fn settlement(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> ApiResult<Json<SettlementReport>> {
    let Query(q) = q?;
    Ok(Json(
        settle::report(&app, &user, &q.month, q.party.as_deref()).await?,
    ))
}

async fn settlement_xlsx(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let r = settle::report(&app, &user, &q.month, q.party.as_deref()).await?;
    let bytes = settle::to_xlsx(&r)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"settlement-{}.xlsx\"", r.month),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    party_kind: PartyKind,
    party: String,
    month: String,
}

async fn prepare_claim(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(b): ApiJson<ClaimBody>,
) -> ApiResult<Json<ClaimState>> {
    Ok(Json(
        settle::prepare(&app, &user, b.party_kind, &b.party, &b.month).await?,
    ))
}

async fn get_claim(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<ClaimState>> {
    let Path(id) = id?;
    Ok(Json(settle::claim(&app, &user, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    total_fen: i64,
}

async fn approve_claim(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(b): ApiJson<ApproveBody>,
) -> ApiResult<Json<ClaimState>> {
    let Path(id) = id?;
    Ok(Json(settle::approve(&app, &user, id, b.total_fen).await?))
}

async fn supply_view(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<CommunityRow>>> {
    Ok(Json(supply::view(&app, &user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KpiQuery {
    month: String,
}

async fn kpis(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<KpiQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<supply::CareKpis>>> {
    let Query(q) = q?;
    Ok(Json(supply::kpis(&app, &user, &q.month).await?))
}

async fn family_order(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<FamilyRequest>,
) -> ApiResult<(StatusCode, Json<PublicOrder>)> {
    let o = orders::from_family(&app, &b).await?;
    Ok((
        StatusCode::CREATED,
        Json(orders::public_by_code(&app, &o.code).await?),
    ))
}

async fn family_get(State(app): State<AppState>, code: CodePath) -> ApiResult<Json<PublicOrder>> {
    let Path(code) = code?;
    Ok(Json(orders::public_by_code(&app, &code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    score: u8,
    #[serde(default)]
    comment: String,
}

async fn family_rate(
    State(app): State<AppState>,
    code: CodePath,
    ApiJson(b): ApiJson<RateBody>,
) -> ApiResult<Json<PublicOrder>> {
    let Path(code) = code?;
    let o = orders::rate_by_code(&app, &code, b.score, &b.comment).await?;
    Ok(Json(orders::public_by_code(&app, &o.code).await?))
}

/// The OpenAPI entries of these routes.
pub fn openapi_paths() -> Vec<(String, Value)> {
    let obj = json!({"type": "object"});
    let arr = json!({"type": "array", "items": {"type": "object"}});
    let int_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let code = json!({"name": "code", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 64}});
    let page = |extra: Vec<Value>| {
        let mut p = vec![
            json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500}}),
            json!({"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}),
        ];
        p.extend(extra);
        Value::Array(p)
    };
    let q = |name: &str, schema: Value, required: bool| json!({"name": name, "in": "query", "required": required, "schema": schema});
    let s = json!({"type": "string"});
    let op = crate::openapi::case_op;
    let slot = json!({"type": "object", "required": ["start", "end"], "properties": {"start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"}}});
    let services = json!({"enum": ServiceKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()});
    let date = json!({"type": "string", "format": "date"});
    let elder = json!({"type": "object", "required": ["name", "id_number", "birth_date", "street", "community", "address"], "properties": {
        "name": s, "id_number": {"type": "string", "description": "18 characters, GB 11643 check character"},
        "phone": {"type": ["string", "null"]}, "birth_date": date, "street": s, "community": s, "address": s,
        "living_alone": {"type": "boolean"}, "basic_service_object": {"type": "boolean"},
        "subsidies": {"type": "array", "items": s}, "family": {"type": "array", "items": {"type": "object", "required": ["name", "relation", "phone"], "properties": {"name": s, "relation": s, "phone": s}}},
        "care_manager": {"type": ["string", "null"]}, "medical_notes": s,
        "consent": {"type": ["object", "null"], "required": ["date", "scope"], "properties": {"date": date, "scope": {"type": "array", "items": s}}}},
        "additionalProperties": false});
    let assessment = json!({"type": "object", "required": ["date", "assessor", "scores"], "properties": {
        "date": date, "assessor": s, "scores": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 4}, "description": "item code (B1.1 … B4.5) → score"},
        "coma": {"type": "boolean"}, "dementia_or_mental_disorder": {"type": "boolean"}, "risk_events_30d": {"type": "integer", "minimum": 0, "maximum": 255}}});
    let price = json!({"type": "object", "required": ["service", "price_fen", "copay_fen"], "properties": {"service": services, "price_fen": {"type": "integer", "minimum": 0}, "copay_fen": {"type": "integer", "minimum": 0}}});
    let wslot = json!({"type": "object", "required": ["weekday", "start_min", "end_min", "capacity"], "properties": {"weekday": {"type": "integer", "minimum": 1, "maximum": 7}, "start_min": {"type": "integer", "minimum": 0, "maximum": 1440}, "end_min": {"type": "integer", "minimum": 0, "maximum": 1440}, "capacity": {"type": "integer", "minimum": 1}}});
    let provider = json!({"type": "object", "required": ["code", "name", "street", "community", "phone", "active", "services", "coverage", "slots"], "properties": {
        "code": s, "name": s, "street": s, "community": s, "phone": s, "active": {"type": "boolean"},
        "services": {"type": "array", "items": price}, "coverage": {"type": "array", "items": s}, "slots": {"type": "array", "items": wslot}}});
    let meal_point = json!({"type": "object", "required": ["code", "name", "street", "community", "address", "capacity", "hours", "active", "communities"], "properties": {
        "code": s, "name": s, "street": s, "community": s, "address": s, "capacity": {"type": "integer", "minimum": 1}, "hours": s, "active": {"type": "boolean"}, "communities": {"type": "array", "items": s}}});
    let meal = json!({"type": "object", "required": ["elder_id", "date", "meal", "bill_fen"], "properties": {"elder_id": {"type": "integer"}, "date": date, "meal": {"enum": ["lunch", "dinner"]}, "bill_fen": {"type": "integer", "description": "the bill in whole fen"}}, "additionalProperties": false});
    let new_order = json!({"type": "object", "required": ["request_id", "elder_id", "service"], "properties": {"request_id": {"type": "integer"}, "elder_id": {"type": "integer"}, "service": services, "note": s, "wanted": slot, "reply": {"type": "boolean"}}, "additionalProperties": false});
    let plan = json!({"type": "object", "required": ["elder_id", "service", "weekdays", "start_min", "duration_min", "from_date", "to_date"], "properties": {"elder_id": {"type": "integer"}, "service": services, "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}}, "start_min": {"type": "integer", "minimum": 0, "maximum": 1439}, "duration_min": {"type": "integer", "minimum": 1, "maximum": 1440}, "from_date": date, "to_date": date}, "additionalProperties": false});
    let action = json!({"type": "object", "properties": {"provider": s, "carer_id": {"type": "integer"}, "slot": slot, "place": s, "at": {"type": "string", "format": "date-time"}, "notes": s, "score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": s}, "additionalProperties": false});
    let family = json!({"type": "object", "required": ["id_number", "phone", "service"], "properties": {"id_number": s, "phone": s, "service": services, "note": s, "wanted": slot}});
    let month = q(
        "month",
        json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
        true,
    );
    let party = q("party", s.clone(), false);
    let mut order_action = op(
        "an action on a service order: assign (provider), decline, schedule (carer_id, slot), start (carer_id, place, at?), finish (notes?, at?), rate (score, comment?), cancel — the domain decides who may in which state",
        json!([int_id, {"name": "action", "in": "path", "required": true, "schema": {"enum": ORDER_ACTIONS.iter().map(|(a, _)| *a).collect::<Vec<_>>()}}]),
        None,
        "200",
        obj.clone(),
        false,
    );
    order_action["requestBody"] =
        json!({"required": false, "content": {"application/json": {"schema": action}}});
    vec![
        (
            "/api/v1/care/elders".into(),
            json!({
            "get": op("the elder registry, masked (民政, care managers: their street)", page(vec![q("street", s.clone(), false), q("community", s.clone(), false)]), None, "200", obj.clone(), false),
            "post": op("register an elder (identities sealed; the ID number's check character and birth date checked)", json!([]), Some(elder.clone()), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/elders/find".into(),
            json!({"get": op("find elders by an exact ID number or phone (audited)", json!([q("q", json!({"type": "string", "minLength": 1}), true)]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/care/elders/{id}".into(),
            json!({
            "get": op("one elder: identities for roles that need them (audited), masked otherwise", json!([int_id]), None, "200", obj.clone(), false),
            "put": op("replace an elder's record", json!([int_id]), Some(elder), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/elders/{id}/assessments".into(),
            json!({
            "get": op("the elder's capacity assessments, newest first", json!([int_id]), None, "200", arr.clone(), false),
            "post": op("record a GB/T 42195 assessment; the grade is derived from the scores", json!([int_id]), Some(assessment), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/providers".into(),
            json!({"get": op("providers with price lists (fen), coverage, weekly slots (a provider: its own)", json!([]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/care/providers/{code}".into(),
            json!({"put": op("create or replace a provider (民政; a provider its own price list and slots)", json!([code]), Some(provider), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/providers/{code}/carers".into(),
            json!({
            "get": op("a provider's carers", json!([code]), None, "200", arr.clone(), false),
            "post": op("add a carer", json!([code]), Some(json!({"type": "object", "required": ["name"], "properties": {"name": s, "skills": {"type": "array", "items": services}}, "additionalProperties": false})), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/meal-points".into(),
            json!({"get": op("meal points (父母食堂) and the communities they serve", json!([]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/care/meal-points/{code}".into(),
            json!({"put": op("create or replace a meal point (民政)", json!([code]), Some(meal_point), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/meal-points/{code}/meals".into(),
            json!({"post": op("record a meal; the elder's daily subsidy is applied at payment when the rules say so; a second lunch (or dinner) the same day is refused", json!([code]), Some(meal), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/meal-points/{code}/meals/{id}/void".into(),
            json!({"post": op("void a meal recorded in error (a claimed one is paid back next month)", json!([code, int_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/orders".into(),
            json!({
            "get": op("service orders (a provider: its own; a care manager: their street)", page(vec![q("status", s.clone(), false), q("provider", s.clone(), false), q("street", s.clone(), false), q("community", s.clone(), false), q("elder_id", json!({"type": "integer"}), false)]), None, "200", obj.clone(), false),
            "post": op("turn a 12345 request into a service order (with reply: true a handler's reply records it)", json!([]), Some(new_order), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/plans".into(),
            json!({"post": op("a care plan: one order per visit on its weekdays between its dates (at most 100)", json!([]), Some(plan), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/orders/{id}".into(),
            json!({"get": op("an order with its elder (identities for the visiting provider, audited) and its event log", json!([int_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/orders/{id}/matches".into(),
            json!({"get": op("providers that can take the order, ranked by rating, load and distance, each with why", json!([int_id]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/care/orders/{id}/{action}".into(),
            json!({"post": order_action}),
        ),
        (
            "/api/v1/care/settlement".into(),
            json!({"get": op("a month's settlement per provider and meal point: stored claims or drafts, lines and totals in fen", json!([month.clone(), party.clone()]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/settlement.xlsx".into(),
            json!({"get": {"summary": "the same settlement as a workbook (summary and line sheets, amounts in fen)", "security": [{"bearer": []}], "parameters": [month, party],
            "responses": {"200": {"description": "XLSX", "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}, "400": {"description": "bad parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "422": {"description": "bad month", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}),
        ),
        (
            "/api/v1/care/claims".into(),
            json!({"post": op("prepare (or before approval prepare again) a party's claim for a month", json!([]), Some(json!({"type": "object", "required": ["party_kind", "party", "month"], "properties": {"party_kind": {"enum": ["provider", "meal_point"]}, "party": s, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}, "additionalProperties": false})), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/claims/{id}".into(),
            json!({"get": op("one claim with its lines", json!([int_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/claims/{id}/approve".into(),
            json!({"post": op("approve a claim as seen (its total); the month is then locked", json!([int_id]), Some(json!({"type": "object", "required": ["total_fen"], "properties": {"total_fen": {"type": "integer"}}, "additionalProperties": false})), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/care/supply".into(),
            json!({"get": op("per community: elders, elder-care requests (12 months), meal points per 1,000 elders, providers, orders served and missed; thin supply flagged with why", json!([]), None, "200", arr, false)}),
        ),
        (
            "/api/v1/care/kpis".into(),
            json!({"get": op("the month's figures per street and for the district (first row): orders, verified visits, on time (started within 15 min), missed, late alerts, ratings, meals per point", json!([q("month", json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}), true)]), None, "200", json!({"type": "array", "items": {"type": "object"}}), false)}),
        ),
        (
            "/api/v1/care/family/orders".into(),
            json!({"post": op("family ask for a service (no login): the elder's ID number and a registered phone", json!([]), Some(family), "201", obj.clone(), true)}),
        ),
        (
            "/api/v1/care/family/orders/{code}".into(),
            json!({"get": op("an order by its number (no identities)", json!([code]), None, "200", obj.clone(), true)}),
        ),
        (
            "/api/v1/care/family/orders/{code}/rate".into(),
            json!({"post": op("the family rate a finished visit", json!([code]), Some(json!({"type": "object", "required": ["score"], "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": s}, "additionalProperties": false})), "200", obj, true)}),
        ),
    ]
}
