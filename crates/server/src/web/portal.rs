//! 市民服务: a citizen files a request (text, address, optional photo) without an account, gets
//! a tracking code, follows its progress, and rates the outcome once. The tracking page shows
//! what the platform did, never who called.

use super::intake::{Opt, street_opts};
use super::{FieldErrors, MAX_UPLOAD_BYTES, Nav, error_page, fmt, page};
use crate::AppState;
use crate::api::requests::file_citizen_request;
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{
    Actor, Channel, Command, EventKind, RequestState, RequestType, Role, Satisfaction,
};

/// The photo types accepted, recognised by their first bytes (the declared type is not
/// trusted).
fn sniff_image(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if b.len() > 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The message for a photo over the limit.
fn too_large() -> String {
    format!("照片不能超过 {} MB。", MAX_UPLOAD_BYTES / (1024 * 1024))
}

fn citizen() -> Actor {
    Actor {
        user_id: None,
        username: "市民".into(),
        role: Role::Citizen,
        unit: None,
    }
}

#[derive(Default)]
pub struct Values {
    pub request_type: String,
    pub text: String,
    pub address: String,
    pub street: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub idem: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    nav: Nav,
    v: Values,
    errors: FieldErrors,
    types: Vec<Opt>,
    streets: Vec<Opt>,
    max_mb: usize,
}

fn types() -> Vec<Opt> {
    [
        RequestType::Complaint,
        RequestType::HelpRequest,
        RequestType::Consultation,
        RequestType::Suggestion,
        RequestType::Report,
        RequestType::Praise,
    ]
    .iter()
    .map(|t| Opt {
        code: t.as_str().into(),
        label: t.label_zh().into(),
    })
    .collect()
}

fn render(app: &AppState, v: Values, errors: FieldErrors, status: StatusCode) -> Response {
    let mut r = page(&PortalPage {
        nav: Nav::anonymous("/portal"),
        v,
        errors,
        types: types(),
        streets: street_opts(&app.dir),
        max_mb: MAX_UPLOAD_BYTES / (1024 * 1024),
    });
    *r.status_mut() = status;
    r
}

pub async fn show(State(app): State<AppState>) -> Response {
    let v = Values {
        request_type: "complaint".into(),
        idem: crate::auth::new_token().unwrap_or_default(),
        ..Default::default()
    };
    render(&app, v, FieldErrors::default(), StatusCode::OK)
}

/// The page a client that has used up a public limit gets.
fn slow_down() -> Response {
    let mut r = error_page(
        None,
        StatusCode::TOO_MANY_REQUESTS,
        "操作过于频繁，请稍后再试。如有紧急情况请拨打 12345。",
    );
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("600"),
    );
    r
}

pub async fn submit(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if !app
        .public_limits
        .allow(&crate::throttle::PORTAL_FILE, &addr.0)
    {
        return slow_down();
    }
    let mut v = Values::default();
    let mut errors = FieldErrors::default();
    let mut photo: Option<(&'static str, Vec<u8>)> = None;
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(_) => {
            errors.add("_form", "请通过页面上的表单提交。");
            return render(&app, v, errors, StatusCode::BAD_REQUEST);
        }
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                // Usually the body limit: the photo is larger than allowed.
                let msg = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    "提交的数据不完整，请重试。".to_string()
                };
                errors.add("photo", msg);
                return render(&app, v, errors, StatusCode::PAYLOAD_TOO_LARGE);
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "photo" {
            let has_file = field.file_name().is_some_and(|n| !n.is_empty());
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(_) => {
                    errors.add("photo", too_large());
                    return render(&app, v, errors, StatusCode::PAYLOAD_TOO_LARGE);
                }
            };
            if !has_file && bytes.is_empty() {
                continue;
            }
            if bytes.len() > MAX_UPLOAD_BYTES {
                errors.add("photo", too_large());
            } else {
                match sniff_image(&bytes) {
                    Some(t) => photo = Some((t, bytes.to_vec())),
                    None => errors.add("photo", "只接受 JPG、PNG 或 WebP 格式的照片。"),
                }
            }
            continue;
        }
        let value = match field.text().await {
            Ok(t) => t.trim().to_string(),
            Err(_) => {
                errors.add("_form", "提交的数据不完整，请重试。");
                return render(&app, v, errors, StatusCode::BAD_REQUEST);
            }
        };
        match name.as_str() {
            "request_type" => v.request_type = value,
            "text" => v.text = value,
            "address" => v.address = value,
            "street" => v.street = value,
            "caller_name" => v.caller_name = value,
            "caller_phone" => v.caller_phone = value,
            "idem" => v.idem = value,
            _ => {}
        }
    }
    if v.text.is_empty() {
        errors.add("text", "请填写您要反映的问题。");
    }
    if v.caller_phone.is_empty() {
        errors.add("caller_phone", "请留下联系电话，以便承办单位与您联系。");
    }
    if !errors.is_empty() {
        return render(&app, v, errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let now = app.now();
    let input = IntakeInput {
        request_type: v.request_type.clone(),
        channel: None,
        category: None,
        street: opt(&v.street),
        community: None,
        address: opt(&v.address),
        title: None,
        text: v.text.clone(),
        caller_name: opt(&v.caller_name),
        caller_phone: opt(&v.caller_phone),
        urgent: false,
        received_at: None,
    };
    let intake = match crate::api::requests::validate_intake(&input, Channel::Web, &app.dir, now) {
        Ok(i) => i,
        Err(e) => {
            let e = crate::ApiError::from(e);
            return render(&app, v, FieldErrors::from_api(&e), e.status);
        }
    };
    // The photo is stored first, unlinked: if filing fails nothing points at it and the
    // cleanup removes it, so no request is ever half-saved.
    let photo_id = match &photo {
        Some((t, bytes)) => match jiesu_app::intake::add_photo(&app, t, bytes).await {
            Ok(id) => Some(id),
            Err(e) => {
                let e = crate::ApiError::from(e);
                return error_page(None, e.status, &fmt::error_zh(&e));
            }
        },
        None => None,
    };
    let key = opt(&v.idem).map(|k| format!("portal:{k}"));
    let st = match file_citizen_request(&app, &citizen(), intake, opt(&v.address), key)
        .await
        .map_err(crate::ApiError::from)
    {
        Ok(st) => st,
        Err(e) => return render(&app, v, FieldErrors::from_api(&e), e.status),
    };
    if let Some(id) = photo_id
        && let Err(e) = jiesu_app::intake::link_photo(&app, id, st.id).await
    {
        tracing::warn!(error = %e, "linking a portal photo failed");
    }
    Redirect::to(&format!("/portal/track?code={}&new=1", st.tracking_code)).into_response()
}

pub struct Step {
    pub when: String,
    pub label: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "portal_track.html")]
struct TrackPage {
    nav: Nav,
    code: String,
    found: bool,
    new: bool,
    status: String,
    text: String,
    steps: Vec<Step>,
    can_rate: bool,
    rated: String,
    errors: FieldErrors,
    flash: String,
}

#[derive(serde::Deserialize)]
pub struct TrackQuery {
    code: Option<String>,
    new: Option<String>,
    rated: Option<String>,
}

/// What a citizen sees of the lifecycle: milestones and the reply, not internal notes.
fn public_steps(app: &AppState, events: &[jiesu_domain::Event]) -> Vec<Step> {
    let unit = |c: &str| app.dir.unit(c).map(|u| u.name.clone()).unwrap_or_default();
    events
        .iter()
        .filter_map(|e| {
            let detail = match &e.kind {
                EventKind::Received { .. } => "您的诉求已受理".to_string(),
                EventKind::Dispatched { unit: u, .. } => format!("已派至{}办理", unit(u)),
                EventKind::Accepted { .. } => "承办单位已签收".into(),
                EventKind::Contacted { reached: true, .. } => "承办单位已与您联系".into(),
                EventKind::Replied { text } => format!("答复：{text}"),
                EventKind::ExtensionDecided { approved: true, .. } => "办理期限已延长".into(),
                EventKind::CallbackRecorded { reached: true, .. } => "已回访".into(),
                EventKind::Reopened { .. } => "已安排重新办理".into(),
                EventKind::MergedInto { .. } => "与相同诉求合并办理".into(),
                EventKind::Closed {
                    outcome, answer, ..
                } => match answer {
                    Some(a) => format!("已办结（{}）：{a}", outcome.label_zh()),
                    None => format!("已办结（{}）", outcome.label_zh()),
                },
                EventKind::CitizenRated { satisfaction, .. } => {
                    format!("您的评价：{}", satisfaction.label_zh())
                }
                _ => return None,
            };
            Some(Step {
                when: fmt::datetime(e.at),
                label: e.kind.label_zh(),
                detail,
            })
        })
        .collect()
}

fn can_rate(st: &RequestState) -> bool {
    st.citizen_rating.is_none()
        && matches!(
            st.status,
            jiesu_domain::Status::Replied
                | jiesu_domain::Status::CalledBack
                | jiesu_domain::Status::Closed
        )
}

async fn render_track(
    app: &AppState,
    code: &str,
    new: bool,
    errors: FieldErrors,
    flash: String,
) -> Response {
    let code = code.trim().to_uppercase();
    let mut t = TrackPage {
        nav: Nav::anonymous("/portal"),
        code: code.clone(),
        found: false,
        new,
        status: String::new(),
        text: String::new(),
        steps: Vec::new(),
        can_rate: false,
        rated: String::new(),
        errors,
        flash,
    };
    if code.is_empty() || code.len() > 40 {
        return page(&t);
    }
    let (st, events) = match jiesu_app::actions::by_tracking_code(app, &code).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            let mut r = page(&t);
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        }
        Err(e) => {
            let e = crate::ApiError::from(e);
            return error_page(None, e.status, &fmt::error_zh(&e));
        }
    };
    t.found = true;
    t.status = st.status.label_zh().into();
    t.text = st.intake.text.clone();
    t.steps = public_steps(app, &events);
    t.can_rate = can_rate(&st);
    t.rated = st
        .citizen_rating
        .map(|s| s.label_zh().to_string())
        .unwrap_or_default();
    let status = if t.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = page(&t);
    *r.status_mut() = status;
    r
}

pub async fn track(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    Query(q): Query<TrackQuery>,
) -> Response {
    // Only lookups count; the page itself (no code yet) is free.
    if q.code.as_deref().is_some_and(|c| !c.trim().is_empty())
        && !app
            .public_limits
            .allow(&crate::throttle::PORTAL_LOOKUP, &addr.0)
    {
        return slow_down();
    }
    let flash = if q.rated.is_some() {
        "感谢您的评价。".to_string()
    } else {
        String::new()
    };
    render_track(
        &app,
        q.code.as_deref().unwrap_or_default(),
        q.new.is_some(),
        FieldErrors::default(),
        flash,
    )
    .await
}

pub async fn rate(
    State(app): State<AppState>,
    addr: crate::auth::ClientAddr,
    form: super::FormData,
) -> Response {
    if !app
        .public_limits
        .allow(&crate::throttle::PORTAL_LOOKUP, &addr.0)
    {
        return slow_down();
    }
    let code = form.text("code").to_uppercase();
    let mut errors = FieldErrors::default();
    let satisfaction = match form.get("satisfaction").map(str::parse::<Satisfaction>) {
        Some(Ok(s)) => Some(s),
        _ => {
            errors.add("satisfaction", "请选择满意、基本满意或不满意。");
            None
        }
    };
    let Some(satisfaction) = satisfaction else {
        return render_track(&app, &code, false, errors, String::new()).await;
    };
    let cmd = Command::Rate {
        satisfaction,
        comment: form.get("comment").map(str::to_string),
    };
    match jiesu_app::actions::rate_by_code(&app, &citizen(), &code, cmd)
        .await
        .map_err(crate::ApiError::from)
    {
        Ok(None) => error_page(None, StatusCode::NOT_FOUND, "没有这个受理编号。"),
        Ok(Some(_)) => Redirect::to(&format!("/portal/track?code={code}&rated=1")).into_response(),
        Err(e) => {
            let mut r =
                render_track(&app, &code, false, FieldErrors::from_api(&e), String::new()).await;
            *r.status_mut() = e.status;
            r
        }
    }
}
