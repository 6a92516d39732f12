//! `/devices` and `/alarms`: 一键呼 (`jiesu_app::alarms`) — vendors and devices, the vendors'
//! signed alarm posts, silent devices and their maintenance tasks, the streets' escalation
//! chains, the alarm desk and its KPIs.

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::{ApiJson, AppState};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_app::alarms::desk::{self, AlarmDetail, AlarmView, DeskQuery, KpiReport, Step};
use jiesu_app::alarms::devices::{self, DeviceDetail, NewVendor};
use jiesu_app::alarms::ingest::{self, StatsView};
use jiesu_app::care::Paged;
use jiesu_domain::alarms::device::{DeviceInput, DeviceStatus, VendorInput};
use jiesu_domain::alarms::message::{Reply, ReplyResult};
use jiesu_domain::alarms::{AlarmState, Chain};
use jiesu_store::alarms::{Device, DeviceQuery, Fault, Vendor};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices", get(list_devices).post(register_device))
        .route("/devices/alarms", post(vendor_alarm))
        .route("/devices/vendors", get(list_vendors).post(create_vendor))
        .route("/devices/faults", get(list_faults))
        .route("/devices/ingest-stats", get(ingest_stats))
        .route("/devices/{id}", get(get_device))
        .route("/devices/{id}/retire", post(retire_device))
        .route("/alarms", get(list_alarms))
        .route("/alarms/kpis", get(kpis))
        .route("/alarms/chains", get(list_chains))
        .route("/alarms/chains/{street}", axum::routing::put(save_chain))
        .route("/alarms/{id}", get(get_alarm))
        .route("/alarms/{id}/steps", post(step))
}

type IdPath = Result<Path<i64>, PathRejection>;
type CodePath = Result<Path<String>, PathRejection>;

/// A vendor platform's alarm: signed, not logged in (see `ingest::http`).
async fn vendor_alarm(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Reply>)> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let reply = ingest::http(&app, h("x-jiesu-vendor"), h("x-jiesu-signature"), &body).await?;
    let status = match reply.result {
        ReplyResult::Accepted => StatusCode::CREATED,
        ReplyResult::Duplicate => StatusCode::OK,
        ReplyResult::Refused => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Json(reply)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceList {
    street: Option<String>,
    elder_id: Option<i64>,
    vendor: Option<String>,
    online: Option<bool>,
    status: Option<DeviceStatus>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_devices(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<DeviceList>, QueryRejection>,
) -> ApiResult<Json<Paged<Device>>> {
    let Query(q) = q?;
    let dq = DeviceQuery {
        street: q.street,
        elder_id: q.elder_id,
        vendor: q.vendor,
        online: q.online,
        status: q.status,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json(devices::list(&app, &user, dq).await?))
}

async fn register_device(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<DeviceInput>,
) -> ApiResult<(StatusCode, Json<Device>)> {
    Ok((
        StatusCode::CREATED,
        Json(devices::register(&app, &user, body).await?),
    ))
}

async fn get_device(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: CodePath,
) -> ApiResult<Json<DeviceDetail>> {
    let Path(id) = id?;
    Ok(Json(devices::get(&app, &user, &id).await?))
}

async fn retire_device(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: CodePath,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    devices::retire(&app, &user, &id).await?;
    Ok(Json(json!({"retired": id})))
}

async fn list_vendors(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Vendor>>> {
    Ok(Json(devices::vendors(&app, &user).await?))
}

async fn create_vendor(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<VendorInput>,
) -> ApiResult<(StatusCode, Json<NewVendor>)> {
    Ok((
        StatusCode::CREATED,
        Json(devices::create_vendor(&app, &user, body).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultList {
    street: Option<String>,
    #[serde(default)]
    all: bool,
}

async fn list_faults(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<FaultList>, QueryRejection>,
) -> ApiResult<Json<Vec<Fault>>> {
    let Query(q) = q?;
    Ok(Json(devices::faults(&app, &user, q.street, q.all).await?))
}

async fn ingest_stats(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<StatsView>> {
    jiesu_app::require(&user, jiesu_app::Capability::ViewDevices)?;
    Ok(Json(app.alarms.stats.view()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlarmList {
    street: Option<String>,
    scope: Option<String>,
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_alarms(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<AlarmList>, QueryRejection>,
) -> ApiResult<Json<Paged<AlarmView>>> {
    let Query(q) = q?;
    let dq = DeskQuery {
        street: q.street,
        scope: q.scope,
        from: q.from,
        to: q.to,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(desk::list(&app, &user, &dq).await?))
}

async fn get_alarm(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
) -> ApiResult<Json<AlarmDetail>> {
    let Path(id) = id?;
    Ok(Json(desk::get(&app, &user, id).await?))
}

async fn step(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: IdPath,
    ApiJson(body): ApiJson<Step>,
) -> ApiResult<Json<AlarmState>> {
    let Path(id) = id?;
    Ok(Json(desk::act(&app, &user, id, body).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KpiQuery {
    month: String,
    street: Option<String>,
}

async fn kpis(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<KpiQuery>, QueryRejection>,
) -> ApiResult<Json<KpiReport>> {
    let Query(q) = q?;
    Ok(Json(desk::kpi(&app, &user, &q.month, q.street).await?))
}

async fn list_chains(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Value>> {
    let chains = devices::chains(&app, &user).await?;
    Ok(Json(Value::Array(
        chains
            .into_iter()
            .map(|(street, chain)| json!({"street": street, "chain": chain}))
            .collect(),
    )))
}

async fn save_chain(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    street: CodePath,
    ApiJson(body): ApiJson<Chain>,
) -> ApiResult<Json<Chain>> {
    let Path(street) = street?;
    devices::save_chain(&app, &user, &street, &body).await?;
    Ok(Json(body))
}

pub fn openapi_paths() -> Vec<(String, Value)> {
    let op = crate::openapi::case_op;
    let obj = json!({"type": "object"});
    let arr = json!({"type": "array", "items": {"type": "object"}});
    let s = json!({"type": "string"});
    let int_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}});
    let dev_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 64}});
    let street = json!({"name": "street", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 20}});
    let q = |name: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "schema": schema});
    let page = || {
        vec![
            q(
                "limit",
                json!({"type": "integer", "minimum": 1, "maximum": 500}),
            ),
            q("offset", json!({"type": "integer", "minimum": 0})),
        ]
    };
    let code = json!({"type": "string", "pattern": "^[A-Za-z0-9._-]{3,64}$"});
    let device = json!({"type": "object", "required": ["device_id", "vendor", "model", "elder_id", "installed_on"], "properties": {
        "device_id": code, "vendor": code, "model": s, "elder_id": {"type": "integer"}, "installed_on": {"type": "string", "format": "date"},
        "room": s, "network_id": s, "heartbeat_secs": {"type": "integer", "minimum": 10, "maximum": 86400}}});
    let vendor = json!({"type": "object", "required": ["code", "name"], "properties": {"code": code, "name": s}});
    let chain = json!({"type": "object", "required": ["steps", "on_site_secs"], "properties": {
        "steps": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "object", "required": ["after_secs", "notify"], "properties": {"after_secs": {"type": "integer", "minimum": 1, "maximum": 86400}, "notify": {"type": "array", "items": s}}}},
        "on_site_secs": {"type": "integer", "minimum": 60, "maximum": 86400}}});
    let alarm_msg = json!({"type": "object", "required": ["device_id", "reference", "status_code", "time"], "properties": {
        "device_id": code, "reference": {"type": "string", "minLength": 1, "maxLength": 64}, "device_type": s,
        "status_code": {"enum": jiesu_domain::alarms::message::AlarmCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()},
        "priority": {"type": "integer", "minimum": 1, "maximum": 9}, "room": s,
        "gps": {"type": "object", "required": ["lat", "lon"], "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
        "time": {"type": "string", "format": "date-time"}}});
    let step = json!({"type": "object", "required": ["action"], "properties": {
        "action": {"enum": ["acknowledge", "contact", "dispatch", "on_site", "resolve", "follow_up", "close"]},
        "reached": {"type": "boolean"}, "note": s,
        "responder": {"enum": jiesu_domain::alarms::Responder::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()},
        "outcome": {"enum": jiesu_domain::alarms::Outcome::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()}}});
    let mut vendor_post = op(
        "a vendor platform's alarm, signed: X-Jiesu-Vendor names the vendor, X-Jiesu-Signature is t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"t.body\")>; 201 stored, 200 a duplicate of (device_id, reference)",
        json!([
            {"name": "X-Jiesu-Vendor", "in": "header", "required": true, "schema": code},
            {"name": "X-Jiesu-Signature", "in": "header", "required": true, "schema": s}
        ]),
        Some(alarm_msg),
        "201",
        obj.clone(),
        true,
    );
    vendor_post["responses"]["200"] = json!({"description": "a duplicate: the first alarm's id", "content": {"application/json": {"schema": obj}}});
    vendor_post["responses"]["401"] = json!({"description": "unknown vendor or bad signature", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    vec![
        (
            "/api/v1/devices".into(),
            json!({
            "get": op("一键呼 devices (a care manager: their street)", Value::Array({let mut p = page(); p.extend([q("street", s.clone()), q("elder_id", json!({"type": "integer"})), q("vendor", s.clone()), q("online", json!({"type": "boolean"})), q("status", json!({"enum": ["active", "retired"]}))]); p}), None, "200", obj.clone(), false),
            "post": op("provision a device to an elder's home (民政)", json!([]), Some(device), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/devices/alarms".into(),
            json!({"post": vendor_post}),
        ),
        (
            "/api/v1/devices/vendors".into(),
            json!({
            "get": op("device vendors (never their secrets)", json!([]), None, "200", arr.clone(), false),
            "post": op("register a vendor; its signing secret is in the answer, once (民政)", json!([]), Some(vendor), "201", obj.clone(), false)}),
        ),
        (
            "/api/v1/devices/faults".into(),
            json!({"get": op("maintenance tasks devices opened (offline, battery low, test call missing); open only unless all", json!([q("street", s.clone()), q("all", json!({"type": "boolean"}))]), None, "200", arr.clone(), false)}),
        ),
        (
            "/api/v1/devices/ingest-stats".into(),
            json!({"get": op("what this server took in since it started: alarms, duplicates, heartbeats, refusals by code", json!([]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/devices/{id}".into(),
            json!({"get": op("a device with its liveness, transitions and faults", json!([dev_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/devices/{id}/retire".into(),
            json!({"post": op("retire a device (its alarms stay)", json!([dev_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/alarms".into(),
            json!({"get": op("the alarm desk: open alarms, unacknowledged first (scope=all: every alarm, newest first)", Value::Array({let mut p = page(); p.extend([q("street", s.clone()), q("scope", json!({"enum": ["open", "all"]})), q("from", json!({"type": "string", "format": "date-time"})), q("to", json!({"type": "string", "format": "date-time"}))]); p}), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/alarms/kpis".into(),
            json!({"get": op("a month's alarm KPIs: acknowledged within 60 s / 180 s, median to on site, false alarms, offline devices", json!([{"name": "month", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}, q("street", s.clone())]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/alarms/chains".into(),
            json!({"get": op("every street's escalation chain (the default where none is set)", json!([]), None, "200", arr, false)}),
        ),
        (
            "/api/v1/alarms/chains/{street}".into(),
            json!({"put": op("set a street's escalation chain (new alarms take it)", json!([street]), Some(chain), "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/alarms/{id}".into(),
            json!({"get": op("one alarm: its steps, device, the elder's profile (audited) and recent alarms", json!([int_id]), None, "200", obj.clone(), false)}),
        ),
        (
            "/api/v1/alarms/{id}/steps".into(),
            json!({"post": op("a step on the desk: acknowledge, contact (reached), dispatch (responder), on_site, resolve (outcome), follow_up (opens the linked 12345 request), close", json!([int_id]), Some(step), "200", obj, false)}),
        ),
    ]
}
