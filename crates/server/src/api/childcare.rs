//! `/childcare`: 托育 (`jiesu_app::childcare`) — institutions and places per street, the
//! applications and their commands, rounds (create with a seed, run dry, publish), the waiting
//! list, health checks and the monthly subsidy; and the family's portal (number + phone).

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::{ApiJson, AppState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_app::AppError;
use jiesu_app::care::Paged;
use jiesu_app::childcare::applications::{
    self, Answer, ApplicationFilter, ApplicationView, ApplyRequest, DateRequest, VerifyRequest,
};
use jiesu_app::childcare::health::{self, ChildHealth};
use jiesu_app::childcare::institutions::{self, StreetPlaces};
use jiesu_app::childcare::rounds::{self, CreateRound, RoundReport};
use jiesu_app::childcare::subsidy::{self, MonthSettlement};
use jiesu_domain::childcare::health::HealthCheck;
use jiesu_domain::childcare::institution::Institution;
use jiesu_store::childcare::{HealthRecord, Round, StoredInstitution};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/childcare/institutions", get(list_institutions))
        .route(
            "/childcare/institutions/{code}",
            get(get_institution).put(save_institution),
        )
        .route("/childcare/places", get(places))
        .route(
            "/childcare/applications",
            get(list_applications).post(apply),
        )
        .route("/childcare/applications/{code}", get(get_application))
        .route("/childcare/applications/{code}/verify", post(verify))
        .route("/childcare/applications/{code}/accept", post(accept))
        .route("/childcare/applications/{code}/decline", post(decline))
        .route("/childcare/applications/{code}/withdraw", post(withdraw))
        .route("/childcare/applications/{code}/enrol", post(enrol))
        .route("/childcare/applications/{code}/leave", post(leave))
        .route(
            "/childcare/applications/{code}/health",
            get(child_health).post(record_check),
        )
        .route("/childcare/rounds", get(list_rounds).post(create_round))
        .route("/childcare/rounds/{code}", get(get_round))
        .route("/childcare/rounds/{code}/run", post(run_round))
        .route("/childcare/rounds/{code}/publish", post(publish_round))
        .route("/childcare/waiting-list/refill", post(refill))
        .route("/childcare/subsidy", get(settle))
        .route("/childcare/subsidy.xlsx", get(settle_xlsx))
        .route("/childcare/subsidy/approve", post(approve))
        .route("/childcare/portal/applications", post(portal_apply))
        .route("/childcare/portal/lookup", post(portal_lookup))
        .route("/childcare/portal/answer", post(portal_answer))
}

type CodePath = Result<Path<String>, PathRejection>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreetQuery {
    street: Option<String>,
}

async fn list_institutions(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<StreetQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<StoredInstitution>>> {
    let Query(q) = q?;
    Ok(Json(
        institutions::list(&app, &user, q.street.as_deref()).await?,
    ))
}

async fn get_institution(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<StoredInstitution>> {
    let Path(code) = code?;
    Ok(Json(institutions::get(&app, &user, &code).await?))
}

async fn save_institution(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(i): ApiJson<Institution>,
) -> ApiResult<Json<StoredInstitution>> {
    let Path(code) = code?;
    jiesu_app::require(&user, jiesu_app::Capability::ManageChildcare)?;
    if i.code != code {
        return Err(AppError::invalid(
            "code",
            "invalid",
            "the body's code differs from the path's",
        )
        .into());
    }
    Ok(Json(institutions::save(&app, &user, &i).await?))
}

async fn places(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<StreetPlaces>>> {
    Ok(Json(institutions::places_by_street(&app, &user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationList {
    status: Option<String>,
    street: Option<String>,
    institution: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_applications(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<ApplicationList>, QueryRejection>,
) -> ApiResult<Json<Paged<ApplicationView>>> {
    let Query(q) = q?;
    let f = ApplicationFilter {
        status: q.status,
        street: q.street,
        institution: q.institution,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(applications::list(&app, &user, &f).await?))
}

async fn apply(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(r): ApiJson<ApplyRequest>,
) -> ApiResult<(StatusCode, Json<ApplicationView>)> {
    let st = applications::apply(&app, &user, &r).await?;
    Ok((StatusCode::CREATED, Json(applications::view(st))))
}

async fn get_application(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<ApplicationView>> {
    let Path(code) = code?;
    Ok(Json(applications::get(&app, &user, &code).await?))
}

async fn verify(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(v): ApiJson<VerifyRequest>,
) -> ApiResult<Json<ApplicationView>> {
    let Path(code) = code?;
    Ok(Json(applications::verify(&app, &user, &code, &v).await?))
}

async fn answer(
    app: &AppState,
    user: &jiesu_store::User,
    code: CodePath,
    a: Answer,
) -> ApiResult<Json<ApplicationView>> {
    let Path(code) = code?;
    Ok(Json(applications::answer(app, user, &code, a).await?))
}

async fn accept(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<ApplicationView>> {
    answer(&app, &user, code, Answer::Accept).await
}

async fn decline(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<ApplicationView>> {
    answer(&app, &user, code, Answer::Decline).await
}

async fn withdraw(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<ApplicationView>> {
    answer(&app, &user, code, Answer::Withdraw).await
}

async fn enrol(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(d): ApiJson<DateRequest>,
) -> ApiResult<Json<ApplicationView>> {
    let Path(code) = code?;
    Ok(Json(applications::enrol(&app, &user, &code, d.date).await?))
}

async fn leave(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(d): ApiJson<DateRequest>,
) -> ApiResult<Json<ApplicationView>> {
    let Path(code) = code?;
    Ok(Json(applications::leave(&app, &user, &code, d.date).await?))
}

async fn child_health(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<ChildHealth>> {
    let Path(code) = code?;
    Ok(Json(health::of_child(&app, &user, &code).await?))
}

async fn record_check(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
    ApiJson(h): ApiJson<HealthCheck>,
) -> ApiResult<(StatusCode, Json<HealthRecord>)> {
    let Path(code) = code?;
    Ok((
        StatusCode::CREATED,
        Json(health::record(&app, &user, &code, &h).await?),
    ))
}

async fn list_rounds(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Round>>> {
    Ok(Json(rounds::list(&app, &user).await?))
}

async fn create_round(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(r): ApiJson<CreateRound>,
) -> ApiResult<(StatusCode, Json<Round>)> {
    Ok((
        StatusCode::CREATED,
        Json(rounds::create(&app, &user, &r).await?),
    ))
}

async fn get_round(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<Round>> {
    let Path(code) = code?;
    Ok(Json(rounds::get(&app, &user, &code).await?))
}

async fn run_round(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<RoundReport>> {
    let Path(code) = code?;
    Ok(Json(rounds::run(&app, &user, &code).await?))
}

async fn publish_round(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    code: CodePath,
) -> ApiResult<Json<RoundReport>> {
    let Path(code) = code?;
    Ok(Json(rounds::publish(&app, &user, &code).await?))
}

async fn refill(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Value>> {
    jiesu_app::require(&user, jiesu_app::Capability::ManageChildcare)?;
    let offered = rounds::refill(&app).await?;
    Ok(Json(json!({"offered": offered})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    institution: String,
    month: String,
}

async fn settle(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> ApiResult<Json<MonthSettlement>> {
    let Query(q) = q?;
    Ok(Json(
        subsidy::settle(&app, &user, &q.institution, &q.month).await?,
    ))
}

async fn settle_xlsx(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<MonthQuery>, QueryRejection>,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let Query(q) = q?;
    let m = subsidy::settle(&app, &user, &q.institution, &q.month).await?;
    let bytes = subsidy::to_xlsx(&m)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"childcare-subsidy-{}-{}.xlsx\"",
                    m.settlement.institution, m.settlement.month
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn approve(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(q): ApiJson<MonthQuery>,
) -> ApiResult<Json<MonthSettlement>> {
    Ok(Json(
        subsidy::approve(&app, &user, &q.institution, &q.month).await?,
    ))
}

async fn portal_apply(
    State(app): State<AppState>,
    ApiJson(r): ApiJson<ApplyRequest>,
) -> ApiResult<(StatusCode, Json<ApplicationView>)> {
    let st = applications::apply_on_portal(&app, &r).await?;
    Ok((StatusCode::CREATED, Json(applications::view(st))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proof {
    code: String,
    phone: String,
}

async fn portal_lookup(
    State(app): State<AppState>,
    ApiJson(p): ApiJson<Proof>,
) -> ApiResult<Json<ApplicationView>> {
    let st = applications::prove(&app, &p.code, &p.phone).await?;
    Ok(Json(applications::view(st)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalAnswer {
    code: String,
    phone: String,
    answer: Answer,
}

async fn portal_answer(
    State(app): State<AppState>,
    ApiJson(p): ApiJson<PortalAnswer>,
) -> ApiResult<Json<ApplicationView>> {
    Ok(Json(
        applications::answer_on_portal(&app, &p.code, &p.phone, p.answer).await?,
    ))
}

/// The OpenAPI entries of these routes.
pub fn openapi_paths() -> Vec<(String, Value)> {
    let op = crate::openapi::case_op;
    let obj = json!({"type": "object"});
    let arr = json!({"type": "array", "items": {"type": "object"}});
    let s = json!({"type": "string", "maxLength": 200});
    let code_s = json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{2,32}$"});
    let app_code = json!({"name": "code", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 64}});
    let code_p = json!({"name": "code", "in": "path", "required": true, "schema": code_s});
    let date = json!({"type": "string", "format": "date"});
    let q = |name: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "schema": schema});
    let bands = json!({"enum": ["infant", "toddler", "older"]});
    let criteria = json!({"type": "array", "items": {"enum": jiesu_domain::childcare::allocation::Criterion::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()}});
    let institution = json!({"type": "object",
        "required": ["code", "name", "kind", "operator", "street", "community", "address", "licence_no", "classes"],
        "properties": {"code": code_s, "name": s, "kind": {"enum": ["puhui", "market"]}, "operator": s,
            "street": s, "community": s, "address": s, "licence_no": s, "community_point": {"type": "boolean"},
            "monthly_price_fen": {"type": ["integer", "null"], "minimum": 0},
            "classes": {"type": "array", "items": {"type": "object", "required": ["band", "capacity", "carers"], "properties": {
                "band": bands, "capacity": {"type": "integer", "minimum": 0, "maximum": 1000}, "carers": {"type": "integer", "minimum": 0, "maximum": 1000}}}},
            "health_contract": {"type": ["object", "null"], "required": ["provider", "from"], "properties": {"provider": code_s, "from": date, "to": {"type": ["string", "null"], "format": "date"}}}}});
    let apply = json!({"type": "object",
        "required": ["child_ref", "birth_date", "guardians", "street", "community", "choices", "start_date"],
        "properties": {"child_ref": s, "birth_date": date,
            "guardians": {"type": "array", "items": {"type": "object", "required": ["name", "phone"], "properties": {"name": s, "phone": s}}},
            "street": s, "community": s, "choices": {"type": "array", "items": s}, "criteria": criteria,
            "sibling_enrolled_at": {"type": ["string", "null"]}, "sibling_application": {"type": ["string", "null"]},
            "start_date": date}});
    let verify = json!({"type": "object", "properties": {"criteria": criteria, "sibling_enrolled_at": {"type": ["string", "null"]}}});
    let day = json!({"type": "object", "required": ["date"], "properties": {"date": date}});
    let check = json!({"type": "object", "required": ["date", "provider", "height_mm", "weight_g"], "properties": {
        "date": date, "provider": code_s, "height_mm": {"type": "integer", "minimum": 0, "maximum": 100000},
        "weight_g": {"type": "integer", "minimum": 0, "maximum": 1000000}, "notes": s}});
    let round = json!({"type": "object", "required": ["code", "name", "seed_text"], "properties": {"code": code_s, "name": s, "seed_text": s}});
    let month = json!({"type": "object", "required": ["institution", "month"], "properties": {"institution": code_s, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}});
    let proof = json!({"type": "object", "required": ["code", "phone"], "properties": {"code": s, "phone": s}});
    let portal_answer = json!({"type": "object", "required": ["code", "phone", "answer"], "properties": {"code": s, "phone": s, "answer": {"enum": ["accept", "decline", "withdraw"]}}});
    let month_params = json!([
            {"name": "institution", "in": "query", "required": true, "schema": code_s},
            {"name": "month", "in": "query", "required": true, "schema": {"type": "string"}}]);
    let mut xlsx = op(
        "the same month as a workbook (one row per child, amounts in fen)",
        month_params,
        None,
        "200",
        obj.clone(),
        false,
    );
    xlsx["responses"]["200"] = json!({"description": "XLSX", "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}});
    let cmd = |summary: &str, body: Option<Value>| json!({"post": op(summary, json!([app_code.clone()]), body, "200", obj.clone(), false)});
    vec![
        (
            "/api/v1/childcare/institutions".into(),
            json!({"get": op("托育机构 (of a street when given)", json!([q("street", s.clone())]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/childcare/institutions/{code}".into(),
            json!({
            "get": op("one institution (a nursery: its own)", json!([code_p.clone()]), None, "200", obj.clone(), false),
            "put": op("create or replace an institution: every class within its band's size and staffing limits, never fewer places than enrolled (卫健委)", json!([code_p.clone()]), Some(institution), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/places".into(),
            json!({"get": op("places per street against the applications not placed (where places are missing)", json!([]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/childcare/applications".into(),
            json!({
            "get": op("applications (a nursery: those that chose it or hold a place there)", json!([q("status", s.clone()), q("street", s.clone()), q("institution", s.clone()), q("limit", json!({"type": "integer", "minimum": 1, "maximum": 500})), q("offset", json!({"type": "integer", "minimum": 0}))]), None, "200", obj.clone(), false),
            "post": op("submit an application (卫健委, or 12345 on the family's behalf)", json!([]), Some(apply.clone()), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/applications/{code}".into(),
            json!({"get": op("one application with its offer and reasons", json!([app_code.clone()]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/applications/{code}/verify".into(),
            cmd(
                "documents checked: confirm criteria the family claimed (卫健委)",
                Some(verify),
            ),
        ),
        (
            "/api/v1/childcare/applications/{code}/accept".into(),
            cmd("accept the offer for the family (卫健委)", None),
        ),
        (
            "/api/v1/childcare/applications/{code}/decline".into(),
            cmd(
                "decline the offer for the family; the place goes to the waiting list (卫健委)",
                None,
            ),
        ),
        (
            "/api/v1/childcare/applications/{code}/withdraw".into(),
            cmd(
                "withdraw the application; a held place goes to the waiting list (卫健委)",
                None,
            ),
        ),
        (
            "/api/v1/childcare/applications/{code}/enrol".into(),
            cmd(
                "enrol the child from this day (the institution)",
                Some(day.clone()),
            ),
        ),
        (
            "/api/v1/childcare/applications/{code}/leave".into(),
            cmd(
                "the child leaves after this day (the institution)",
                Some(day),
            ),
        ),
        (
            "/api/v1/childcare/applications/{code}/health".into(),
            json!({
            "get": op("the child's health checks and the checks due", json!([app_code.clone()]), None, "200", obj.clone(), false),
            "post": op("record a health check of an enrolled child (the institution)", json!([app_code.clone()]), Some(check), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/rounds".into(),
            json!({
            "get": op("allocation rounds, newest first", json!([]), None, "200", arr.clone(), false),
            "post": op("create a round; its seed text is published from now on (卫健委)", json!([]), Some(round), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/rounds/{code}".into(),
            json!({"get": op("one round with its seed and, once published, its result and market", json!([code_p.clone()]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/rounds/{code}/run".into(),
            json!({"post": op("run the round dry (a published one: re-run from its stored market and seed)", json!([code_p.clone()]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/rounds/{code}/publish".into(),
            json!({"post": op("publish the round: refused with any violation; offers issued with their reasons", json!([code_p]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/waiting-list/refill".into(),
            json!({"post": op("offer every free place to the waiting list now", json!([]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/subsidy".into(),
            json!({"get": op("an institution's monthly 普惠 subsidy in fen, with the enrolment spells it reconciles to", json!([
            {"name": "institution", "in": "query", "required": true, "schema": code_s},
            {"name": "month", "in": "query", "required": true, "schema": {"type": "string"}}]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/subsidy.xlsx".into(),
            json!({"get": xlsx}),
        ),
        (
            "/api/v1/childcare/subsidy/approve".into(),
            json!({"post": op("approve (lock) an institution's month (卫健委)", json!([]), Some(month), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/childcare/portal/applications".into(),
            json!({"post": op("the family applies on the portal; the answer carries the application's number", json!([]), Some(apply), "201", obj.clone(), true)}),
        ),
        (
            "/api/v1/childcare/portal/lookup".into(),
            json!({"post": op("the family reads its application: number and a guardian's phone", json!([]), Some(proof), "200", obj.clone(), true)}),
        ),
        (
            "/api/v1/childcare/portal/answer".into(),
            json!({"post": op("the family accepts or declines the offer, or withdraws", json!([]), Some(portal_answer), "200", obj.clone(), true)}),
        ),
    ]
}
