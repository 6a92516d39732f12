//! Open311 GeoReport v2 under `/open311/v2`: discovery, services, service definitions, POST
//! requests (form-encoded, with a client API key) and GET requests, in JSON and XML exactly as
//! the spec writes them (<http://wiki.open311.org/GeoReport_v2>).
//!
//! Requests filed here enter the same engine as the hotline's: the same intake validation
//! (channel `open311`), the same store command and the same routing suggestions. What goes out
//! is what the district's publication policy allows (`jiesu_app::open311::publish`: channels,
//! public categories, address precision, text redaction; docs/open311.md); this door only
//! renders it, and an unpublished request answers exactly as a missing one.

mod doc;
mod form;
pub mod keys;
pub mod services;

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use doc::Doc;
use jiesu_app::open311::{COORDS_CLOSE, COORDS_OPEN, PublicRequest};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{Actor, Channel, DomainError, RequestState, Role, Status};
use jiesu_store::{Open311Query, StoreError};
use jiff::{SignedDuration, Timestamp};

pub use keys::admin_routes;

/// The spec's default and largest window of `GET requests`.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);
/// The spec's most results per answer (also the largest `page_size`).
pub const MAX_RESULTS: u32 = 1000;
/// The spec limits a description to 4,000 characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// When this implementation last changed in a way clients could notice (discovery `changeset`).
const CHANGESET: &str = "2026-11-01T00:00:00+08:00";
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// `/open311/v2/…`; nest it under that prefix.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{file}", get(get_top).post(post_top))
        .route("/services/{file}", get(get_service))
        .route("/requests/{file}", get(get_request))
        .fallback(fallback)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// `requests.json` → (`requests`, JSON). Service codes contain dots, so the last one counts.
fn split_format(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    (!name.is_empty()).then_some((name, format))
}

/// An error the spec's way: an HTTP status and a description, answered as an `errors` list.
#[derive(Debug)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
}

impl Open311Error {
    fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
        }
    }
    fn bad(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }
    fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "open311: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged",
        )
    }
}

impl From<StoreError> for Open311Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::NotFound => Open311Error::not_found("not found"),
            other => Open311Error::internal(other),
        }
    }
}

impl From<jiesu_app::AppError> for Open311Error {
    fn from(e: jiesu_app::AppError) -> Self {
        crate::ApiError::from(e).into()
    }
}

impl From<crate::ApiError> for Open311Error {
    fn from(e: crate::ApiError) -> Self {
        if e.status.is_server_error() {
            return Open311Error::internal(e.body.message);
        }
        let status = match e.status {
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => e.status,
            _ => StatusCode::BAD_REQUEST,
        };
        let description = match &e.body.field {
            Some(f) => format!("{}: {}", open311_field(f), e.body.message),
            None => e.body.message,
        };
        Open311Error::new(status, description)
    }
}

impl From<DomainError> for Open311Error {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message, .. } => {
                Open311Error::bad(format!("{}: {message}", open311_field(&field)))
            }
            DomainError::NotVisible => Open311Error::not_found("not found"),
            other => Open311Error::bad(other.to_string()),
        }
    }
}

/// The Open311 parameter behind an intake field, so errors name what the client sent.
fn open311_field(field: &str) -> &str {
    match field {
        "text" => "description",
        "address" => "address_string",
        "caller_name" => "first_name/last_name",
        "caller_phone" => "phone",
        "category" => "service_code",
        other => other,
    }
}

/// A successful answer: the XML root element and the document.
type Answer = Result<(&'static str, Doc), Open311Error>;

fn respond(format: Format, answer: Answer) -> Response {
    let (status, root, doc) = match answer {
        Ok((root, doc)) => (StatusCode::OK, root, doc),
        Err(e) => {
            let doc = Doc::List(
                "error",
                vec![Doc::Obj(vec![
                    ("code", Doc::Int(i64::from(e.status.as_u16()))),
                    ("description", Doc::str(e.description)),
                ])],
            );
            (e.status, "errors", doc)
        }
    };
    let (body, content_type) = match format {
        Format::Json => (doc::to_json(&doc), "application/json"),
        Format::Xml => (doc::to_xml(root, &doc), "application/xml; charset=utf-8"),
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn fallback() -> Response {
    respond(
        Format::Json,
        Err(Open311Error::not_found(
            "no such Open311 endpoint; see discovery.json",
        )),
    )
}

fn unknown_format() -> Response {
    respond(
        Format::Json,
        Err(Open311Error::not_found(
            "unknown endpoint or format: use .json or .xml",
        )),
    )
}

/// Query or form parameters. Per the spec an empty parameter is the same as a missing one.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &[u8]) -> Result<Params, String> {
        form::parse(raw).map(Params)
    }

    /// A single-valued parameter; sent twice with different values is an error.
    fn one(&self, name: &str) -> Result<Option<&str>, Open311Error> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.0 {
            let v = v.trim();
            if k != name || v.is_empty() {
                continue;
            }
            match found {
                Some(prev) if prev != v => {
                    return Err(Open311Error::bad(format!("`{name}` was given twice")));
                }
                _ => found = Some(v),
            }
        }
        Ok(found)
    }

    /// A list parameter: comma-delimited, and may be declared several times.
    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `attribute[code]=v` and `attribute[code][]=v` as (code, v).
    fn attributes(&self) -> Result<Vec<(String, String)>, Open311Error> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix("attribute[") else {
                continue;
            };
            let code = rest
                .strip_suffix("][]")
                .or_else(|| rest.strip_suffix(']'))
                .filter(|c| !c.is_empty() && !c.contains(['[', ']']))
                .ok_or_else(|| {
                    Open311Error::bad(format!("malformed `{k}`: use attribute[code]=value"))
                })?;
            out.push((code.to_string(), v.clone()));
        }
        Ok(out)
    }
}

/// This endpoint serves one jurisdiction, named by the district code; a client naming another
/// one is told so rather than served the wrong city's data.
fn check_jurisdiction(app: &AppState, p: &Params) -> Result<(), Open311Error> {
    match p.one("jurisdiction_id")? {
        None => Ok(()),
        Some(j) if j == app.dir.world.district.code => Ok(()),
        Some(j) => Err(Open311Error::not_found(format!(
            "jurisdiction_id `{j}` not found; this endpoint serves {} ({})",
            app.dir.world.district.code, app.dir.world.district.name
        ))),
    }
}

fn query_params(uri: &Uri) -> Result<Params, Open311Error> {
    Params::parse(uri.query().unwrap_or_default().as_bytes())
        .map_err(|e| Open311Error::bad(format!("malformed query string: {e}")))
}

async fn get_top(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Ok(Path(file)) = path else {
        return unknown_format();
    };
    let Some((name, format)) = split_format(&file) else {
        return unknown_format();
    };
    let answer = async {
        let params = query_params(&uri)?;
        check_jurisdiction(&app, &params)?;
        match name {
            "discovery" => Ok(("discovery", discovery(&headers))),
            "services" => Ok(("services", services::list(&app.dir))),
            "requests" => list_requests(&app, &params).await,
            other => Err(Open311Error::not_found(format!(
                "no Open311 resource `{other}`"
            ))),
        }
    }
    .await;
    respond(format, answer)
}

async fn post_top(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Ok(Path(file)) = path else {
        return unknown_format();
    };
    let Some((name, format)) = split_format(&file) else {
        return unknown_format();
    };
    if name != "requests" {
        return respond(
            format,
            Err(Open311Error::not_found(format!(
                "cannot POST to `{name}`; POST requests.{{json,xml}}"
            ))),
        );
    }
    if !app
        .public_limits
        .allow(&crate::throttle::OPEN311_POST, &addr.0)
    {
        return respond(
            format,
            Err(Open311Error::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this client; wait a minute",
            )),
        );
    }
    respond(format, create_request(&app, &headers, &uri, body).await)
}

async fn get_service(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Response {
    let Ok(Path(file)) = path else {
        return unknown_format();
    };
    let Some((code, format)) = split_format(&file) else {
        return unknown_format();
    };
    let answer = (|| {
        let params = query_params(&uri)?;
        check_jurisdiction(&app, &params)?;
        if services::leaf(&app.dir, code).is_none() {
            return Err(Open311Error::not_found(format!(
                "service_code `{code}` not found"
            )));
        }
        services::definition(code)
            .map(|d| ("service_definition", d))
            .ok_or_else(|| {
                Open311Error::not_found(format!(
                    "service `{code}` has no service definition (its metadata is false)"
                ))
            })
    })();
    respond(format, answer)
}

async fn get_request(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Response {
    let Ok(Path(file)) = path else {
        return unknown_format();
    };
    let Some((id, format)) = split_format(&file) else {
        return unknown_format();
    };
    let answer = async {
        let params = query_params(&uri)?;
        check_jurisdiction(&app, &params)?;
        let missing = || Open311Error::not_found(format!("service_request_id `{id}` not found"));
        let id: i64 = id.parse().map_err(|_| missing())?;
        // Unpublished reads as missing (the same answer), so ids cannot be probed.
        let r = jiesu_app::open311::request(&app, id)
            .await?
            .ok_or_else(missing)?;
        Ok((
            "service_requests",
            Doc::List("request", vec![request_doc(&app, &r)]),
        ))
    }
    .await;
    respond(format, answer)
}

fn discovery(headers: &HeaderMap) -> Doc {
    // Behind a proxy the client-facing scheme comes from X-Forwarded-Proto.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    Doc::Obj(vec![
        ("changeset", Doc::str(CHANGESET)),
        (
            "contact",
            Doc::str("北京市西城区接诉即办平台（12345）：接口问题请联系平台管理员"),
        ),
        (
            "key_service",
            Doc::str("API keys are issued per client by the platform administrator"),
        ),
        (
            "endpoints",
            Doc::List(
                "endpoint",
                vec![Doc::Obj(vec![
                    ("specification", Doc::str(SPECIFICATION)),
                    ("url", Doc::str(format!("{scheme}://{host}/open311/v2"))),
                    ("changeset", Doc::str(CHANGESET)),
                    ("type", Doc::str("production")),
                    (
                        "formats",
                        Doc::List(
                            "format",
                            vec![Doc::str("text/xml"), Doc::str("application/json")],
                        ),
                    ),
                ])],
            ),
        ),
    ])
}

// ---- GET requests ----

/// `start_date`/`end_date`: W3C date-times with an offset, or plain dates (local midnight; an
/// end date includes its whole day).
fn parse_date(app: &AppState, name: &str, v: &str, end: bool) -> Result<Timestamp, Open311Error> {
    if let Ok(t) = v.parse::<Timestamp>() {
        return Ok(t);
    }
    let tz = app.dir.calendar.time_zone().clone();
    let date: Option<jiff::civil::Date> = v.parse().ok().filter(|_| v.len() == 10);
    let local = date.and_then(|d| {
        let d = if end { d.tomorrow().ok()? } else { d };
        d.at(0, 0, 0, 0)
            .to_zoned_datetime(tz)
            .ok()
            .map(|z| z.timestamp())
    });
    match local {
        Some(t) if end => Ok(t - SignedDuration::from_millis(1)),
        Some(t) => Ok(t),
        None => Err(Open311Error::bad(format!(
            "{name}: `{v}` is not a W3C date-time such as 2026-11-01T00:00:00+08:00 \
             (or a date such as 2026-11-01)"
        ))),
    }
}

async fn list_requests(app: &AppState, p: &Params) -> Answer {
    let now = app.now();
    let mut q = Open311Query {
        public_only: true,
        limit: MAX_RESULTS,
        ..Default::default()
    };
    let ids = p.list("service_request_id");
    if !ids.is_empty() {
        // The id list overrides every other filter (spec).
        if ids.len() > MAX_RESULTS as usize {
            return Err(Open311Error::bad(format!(
                "service_request_id: at most {MAX_RESULTS} ids"
            )));
        }
        for id in &ids {
            q.ids.push(id.parse().map_err(|_| {
                Open311Error::bad(format!("service_request_id: `{id}` is not an id"))
            })?);
        }
    } else {
        for code in p.list("service_code") {
            if services::leaf(&app.dir, &code).is_none() {
                return Err(Open311Error::bad(format!(
                    "service_code: `{code}` is not a service (see services.json)"
                )));
            }
            q.categories.push(code);
        }
        for s in p.list("status") {
            match s.as_str() {
                "open" => q.statuses.extend_from_slice(jiesu_store::OPEN_STATUSES),
                "closed" => q.statuses.extend([Status::Closed, Status::Merged]),
                other => {
                    return Err(Open311Error::bad(format!(
                        "status: `{other}` is not open or closed"
                    )));
                }
            }
        }
        let start = p
            .one("start_date")?
            .map(|v| parse_date(app, "start_date", v, false))
            .transpose()?;
        let end = p
            .one("end_date")?
            .map(|v| parse_date(app, "end_date", v, true))
            .transpose()?;
        // The spec's window: at most 90 days, the most recent 90 when no date is given.
        let (from, to) = match (start, end) {
            (None, None) => (now - MAX_WINDOW, now),
            (Some(s), None) => (s, s + MAX_WINDOW),
            (None, Some(e)) => (e - MAX_WINDOW, e),
            (Some(s), Some(e)) => {
                if e < s {
                    return Err(Open311Error::bad("end_date is before start_date"));
                }
                if e.duration_since(s) > MAX_WINDOW {
                    return Err(Open311Error::bad(
                        "start_date and end_date may not span more than 90 days",
                    ));
                }
                (s, e)
            }
        };
        q.from = Some(from);
        q.to = Some(to);
    }
    let number = |name: &str| -> Result<Option<u64>, Open311Error> {
        p.one(name)?
            .map(|v| {
                v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    Open311Error::bad(format!("{name}: `{v}` is not a positive integer"))
                })
            })
            .transpose()
    };
    let page = number("page")?.unwrap_or(1);
    let page_size = number("page_size")?.unwrap_or(u64::from(MAX_RESULTS));
    if page_size > u64::from(MAX_RESULTS) {
        return Err(Open311Error::bad(format!(
            "page_size: at most {MAX_RESULTS}"
        )));
    }
    q.limit = page_size as u32;
    q.offset = (page - 1).saturating_mul(page_size);
    let items = jiesu_app::open311::requests(app, &q).await?;
    let docs = items.iter().map(|r| request_doc(app, r)).collect();
    Ok(("service_requests", Doc::List("request", docs)))
}

/// `2026-11-02T09:00:00+08:00` in the district's zone.
fn w3c(app: &AppState, t: Timestamp) -> String {
    t.to_zoned_datetime(app.dir.calendar.time_zone().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn status_notes(st: &RequestState) -> String {
    // Labels only, never the free text of replies or reasons: those may name the caller.
    match (st.status, st.close_outcome, st.merged_into) {
        (Status::Merged, _, Some(master)) => format!("{}（并入 {master}）", st.status.label_zh()),
        (Status::Closed, Some(outcome), _) => {
            format!("{}（{}）", st.status.label_zh(), outcome.label_zh())
        }
        (s, _, _) => s.label_zh().to_string(),
    }
}

/// The public face of a request (the spec's `request` element): the policy's `published`
/// location and text, the rest (service, status, unit, dates) as they are.
fn request_doc(app: &AppState, r: &PublicRequest) -> Doc {
    let (st, published) = (&r.state, &r.published);
    let dir = &app.dir;
    let closed = st.status.is_terminal();
    let category = st.intake.category.as_deref().and_then(|c| dir.category(c));
    let agency = st
        .lead_unit
        .as_deref()
        .and_then(|u| dir.unit(u))
        .map(|u| u.name.clone());
    let updated = if closed {
        st.closed_at.unwrap_or(st.updated_at)
    } else {
        st.updated_at
    };
    Doc::Obj(vec![
        ("service_request_id", Doc::str(st.id.to_string())),
        ("status", Doc::str(if closed { "closed" } else { "open" })),
        ("status_notes", Doc::str(status_notes(st))),
        ("service_name", Doc::opt(category.map(|c| c.name.clone()))),
        ("service_code", Doc::opt(st.intake.category.clone())),
        ("description", Doc::opt(published.description.clone())),
        ("agency_responsible", Doc::opt(agency)),
        ("service_notice", Doc::Null),
        (
            "requested_datetime",
            Doc::str(w3c(app, st.intake.received_at)),
        ),
        ("updated_datetime", Doc::str(w3c(app, updated))),
        (
            "expected_datetime",
            Doc::opt(st.completion_due.map(|t| w3c(app, t))),
        ),
        ("address", Doc::opt(published.address.clone())),
        ("address_id", Doc::Null),
        ("zipcode", Doc::Null),
        ("lat", published.lat.map_or(Doc::Null, Doc::Num)),
        ("long", published.long.map_or(Doc::Null, Doc::Num)),
        ("media_url", Doc::Null),
    ])
}

// ---- POST requests ----

fn coordinate(p: &Params, name: &str, limit: f64) -> Result<Option<f64>, Open311Error> {
    p.one(name)?
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= limit)
                .ok_or_else(|| {
                    Open311Error::bad(format!("{name}: `{v}` is not a WGS84 coordinate"))
                })
        })
        .transpose()
}

/// The caller's name from the spec's two fields: Chinese names are family name first with no
/// space, Latin ones given name first.
fn caller_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (None, None) => None,
        (Some(f), None) => Some(f.to_string()),
        (None, Some(l)) => Some(l.to_string()),
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
    }
}

async fn create_request(
    app: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Open311Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        } else {
            Open311Error::bad(format!("unreadable body: {}", r.body_text()))
        }
    })?;
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Err(Open311Error::bad(
            "send the parameters as Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let p =
        Params::parse(&body).map_err(|e| Open311Error::bad(format!("malformed form body: {e}")))?;
    // The spec sends api_key in the body; some clients put it in the query string.
    let query = query_params(uri)?;
    let presented = match p.one("api_key")? {
        Some(k) => Some(k),
        None => query.one("api_key")?,
    };
    let client = match keys::check_key(app, presented).await {
        Ok(k) => k,
        Err(keys::KeyRefusal::Refused(why)) => {
            return Err(Open311Error::new(StatusCode::FORBIDDEN, why));
        }
        Err(keys::KeyRefusal::Failed(e)) => return Err(Open311Error::internal(e)),
    };
    check_jurisdiction(app, &p)?;
    let code = p
        .one("service_code")?
        .ok_or_else(|| Open311Error::bad("service_code is required (see services.json)"))?;
    let category = services::leaf(&app.dir, code)
        .ok_or_else(|| Open311Error::not_found(format!("service_code `{code}` not found")))?;
    let answers = services::check(code, &p.attributes()?).map_err(Open311Error::bad)?;

    // Location: lat & long, or address_string, or address_id (spec).
    let lat = coordinate(&p, "lat", 90.0)?;
    let long = coordinate(&p, "long", 180.0)?;
    let address_string = p.one("address_string")?;
    let address_id = p.one("address_id")?;
    if lat.is_some() != long.is_some() {
        return Err(Open311Error::bad("lat and long must be sent together"));
    }
    if lat.is_none() && address_string.is_none() && address_id.is_none() {
        return Err(Open311Error::bad(
            "a location is required: lat & long, address_string or address_id",
        ));
    }
    let mut address: Vec<String> = Vec::new();
    if let Some(a) = address_string {
        address.push(a.to_string());
    }
    if let Some(id) = address_id {
        address.push(format!("（地址编号 {id}）"));
    }
    if let (Some(lat), Some(long)) = (lat, long) {
        address.push(format!("{COORDS_OPEN}{lat},{long}{COORDS_CLOSE}"));
    }

    let description = p.one("description")?;
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(Open311Error::bad(format!(
            "description: at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    // Without a description the service name says what the problem is.
    let mut text = description.unwrap_or(&category.name).to_string();
    for line in &answers.lines {
        text.push('\n');
        text.push_str(line);
    }
    if let Some(url) = p.one("media_url")? {
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.contains(char::is_whitespace)
        {
            return Err(Open311Error::bad("media_url: must be an http(s) URL"));
        }
        text.push_str(&format!("\n图片: {url}"));
    }

    let now = app.now();
    let input = IntakeInput {
        request_type: p.one("request_type")?.unwrap_or("complaint").to_string(),
        channel: None,
        category: Some(code.to_string()),
        street: None,
        community: None,
        address: Some(address.join(" ")),
        title: None,
        text,
        caller_name: caller_name(p.one("first_name")?, p.one("last_name")?),
        caller_phone: p.one("phone")?.map(str::to_string),
        urgent: answers.urgent,
        received_at: None,
    };
    let intake = crate::api::requests::validate_intake(&input, Channel::Open311, &app.dir, now)?;
    let notice = service_notice(app, &intake);
    let actor = Actor {
        user_id: None,
        username: format!("open311:{}", client.name),
        role: Role::Citizen,
        unit: None,
    };
    // The words of the address, without the coordinates appended for the record.
    let st = crate::api::requests::file_citizen_request(
        app,
        &actor,
        intake,
        address_string.map(str::to_string),
        None,
    )
    .await?;
    Ok((
        "service_requests",
        Doc::List(
            "request",
            vec![Doc::Obj(vec![
                ("service_request_id", Doc::str(st.id.to_string())),
                (
                    "service_notice",
                    Doc::str(format!("{notice}查询编号 {}。", st.tracking_code)),
                ),
                ("account_id", Doc::Null),
            ])],
        ),
    ))
}

/// What the platform will do: the deadline class the category (or urgency) puts it in.
fn service_notice(app: &AppState, intake: &jiesu_domain::Intake) -> String {
    let class = jiesu_domain::commands::sla_class_for(&app.dir, intake);
    let span = match class.completion {
        jiesu_world::Span::Hours(h) => format!("{h}小时"),
        jiesu_world::Span::WorkingDays(n) => format!("{n}个工作日"),
    };
    format!(
        "已受理，将派至承办单位；按「{}」时限，派单后{span}内办结。",
        class.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_names() {
        assert_eq!(
            split_format("heating.no-heat.xml"),
            Some(("heating.no-heat", Format::Xml))
        );
        assert_eq!(split_format("requests.csv"), None);
        assert_eq!(split_format(".json"), None);
        assert_eq!(
            caller_name(Some("建国"), Some("王")).as_deref(),
            Some("王建国")
        );
        assert_eq!(
            caller_name(Some("John"), Some("Smith")).as_deref(),
            Some("John Smith")
        );
    }
}
