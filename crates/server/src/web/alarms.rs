//! 一键呼 alarm desk pages (issue 15, item 5): the live desk (`/alarms`, an htmx fragment
//! `/alarms/feed` polled every second, a beep and a highlighted row for a new alarm), one alarm
//! with the elder's profile, the device, the timeline and the next steps its state allows
//! (`/alarms/{id}`), and the silent devices, maintenance tasks and the month's KPIs
//! (`/alarms/devices`). Every page calls one `jiesu_app::alarms` use case per action: the use
//! case checks the capability and audits the elder's profile it shows.

use super::{
    FieldErrors, FormData, Nav, WebUser, api_error_page, csrf_refused, error_page, fmt, page,
};
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiesu_app::Capability;
use jiesu_app::alarms::desk::{self, AlarmView, DeskQuery, Step};
use jiesu_app::alarms::devices;
use jiesu_domain::Role;
use jiesu_domain::alarms::device::FaultKind;
use jiesu_domain::alarms::{AlarmEvent, AlarmStatus, Outcome, Responder};
use jiesu_store::alarms::DeviceQuery;
use serde::Deserialize;

// ------------------------------------------------------------------ shared bits

/// `45秒`, `3分05秒`, `2小时04分`, `1天3小时`.
fn clock(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}秒")
    } else if s < 3600 {
        format!("{}分{:02}秒", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}小时{:02}分", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}天{}小时", s / 86_400, (s % 86_400) / 3600)
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

fn app_error_page(user: &WebUser, e: jiesu_app::AppError) -> Response {
    api_error_page(user, &ApiError::from(e))
}

// The refusal is the page itself, returned at once by the handler; boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn path_id(user: &WebUser, id: &str) -> Result<i64, Response> {
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| error_page(Some(user), StatusCode::NOT_FOUND, "报警编号无效。"))
}

pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

fn street_opts(app: &AppState, selected: &str) -> Vec<Opt> {
    app.dir
        .world
        .streets
        .iter()
        .map(|s| Opt {
            code: s.code.clone(),
            label: s.name.clone(),
            selected: s.code == selected,
        })
        .collect()
}

/// How a row is coloured: red until someone takes it, amber while nobody is on site, green on
/// site, grey once resolved.
fn tone(s: AlarmStatus) -> &'static str {
    match s {
        AlarmStatus::Raised => "raised",
        AlarmStatus::Acknowledged | AlarmStatus::Contacted | AlarmStatus::Dispatched => "working",
        AlarmStatus::OnSite => "onsite",
        AlarmStatus::Resolved | AlarmStatus::Closed => "done",
    }
}

/// One alarm as the desk's list shows it.
pub struct Row {
    pub id: i64,
    pub status: &'static str,
    pub status_zh: &'static str,
    pub tone: &'static str,
    pub raised: bool,
    pub code_zh: &'static str,
    pub street: String,
    pub community: String,
    pub room: String,
    pub priority: u8,
    pub device: String,
    pub raised_at: String,
    /// Since raised.
    pub open: String,
    /// Raised and still unacknowledged past the 60 s standard.
    pub late: bool,
    /// Raising to acknowledgement, once acknowledged.
    pub ack: String,
    /// Since acknowledged, until someone is on site.
    pub since_ack: String,
    pub escalations: u8,
    pub on_site_escalations: u8,
    pub responder: String,
}

fn row(app: &AppState, v: &AlarmView) -> Row {
    let a = &v.alarm;
    let now = app.now();
    let since_ack = match (a.acknowledged_at, a.status) {
        (Some(t), AlarmStatus::Acknowledged | AlarmStatus::Contacted | AlarmStatus::Dispatched) => {
            clock(now.duration_since(t).as_secs())
        }
        _ => String::new(),
    };
    Row {
        id: a.id,
        status: a.status.as_str(),
        status_zh: v.status_zh,
        tone: tone(a.status),
        raised: a.status == AlarmStatus::Raised,
        code_zh: v.code_zh,
        street: v.street_name.clone(),
        community: v.community_name.clone(),
        room: a.room.clone().unwrap_or_default(),
        priority: a.priority,
        device: a.device_id.clone(),
        raised_at: fmt::datetime(a.raised_at),
        open: clock(v.open_secs),
        late: a.status == AlarmStatus::Raised && v.open_secs >= 60,
        ack: v.ack_secs.map(clock).unwrap_or_default(),
        since_ack,
        escalations: a.escalations,
        on_site_escalations: a.on_site_escalations,
        responder: a
            .responder
            .map(|r| r.label_zh().to_string())
            .unwrap_or_default(),
    }
}

// ------------------------------------------------------------------ the live desk

/// What the polled fragment shows (also rendered inside the page on first load).
pub struct Feed {
    pub rows: Vec<Row>,
    pub raised: usize,
    pub total: i64,
    pub csrf: String,
    pub updated: String,
}

#[derive(Deserialize, Default)]
pub struct DeskArgs {
    street: Option<String>,
}

async fn load_feed(
    app: &AppState,
    user: &WebUser,
    street: Option<String>,
) -> Result<Feed, jiesu_app::AppError> {
    let q = DeskQuery {
        street,
        limit: Some(200),
        ..Default::default()
    };
    let list = desk::list(app, &user.user, &q).await?;
    let rows: Vec<Row> = list.items.iter().map(|v| row(app, v)).collect();
    Ok(Feed {
        raised: rows.iter().filter(|r| r.raised).count(),
        total: list.total,
        rows,
        csrf: user.csrf.clone(),
        updated: app
            .dir
            .calendar
            .time_zone()
            .to_datetime(app.now())
            .strftime("%H:%M:%S")
            .to_string(),
    })
}

#[derive(Template)]
#[template(path = "alarm_desk.html")]
struct DeskPage {
    nav: Nav,
    feed: Feed,
    feed_url: String,
    /// A care manager works their street only: no street picker.
    pick_street: bool,
    streets: Vec<Opt>,
    devices_link: bool,
}

#[derive(Template)]
#[template(path = "alarm_feed.html")]
struct FeedFragment {
    feed: Feed,
}

pub async fn desk_page(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<DeskArgs>,
) -> Response {
    if let Err(r) = user.require(Capability::WorkAlarms) {
        return r;
    }
    let street = q.street.filter(|s| !s.is_empty());
    let feed = match load_feed(&app, &user, street.clone()).await {
        Ok(f) => f,
        Err(e) => return app_error_page(&user, e),
    };
    let feed_url = match &street {
        Some(s) => format!("/alarms/feed?street={s}"),
        None => "/alarms/feed".into(),
    };
    page(&DeskPage {
        nav: Nav::for_user(&user, "/alarms"),
        feed,
        feed_url,
        pick_street: user.role() != Role::CareManager,
        streets: street_opts(&app, street.as_deref().unwrap_or_default()),
        devices_link: jiesu_app::policy::allows(user.role(), Capability::ViewDevices),
    })
}

/// The fragment htmx polls every second.
pub async fn feed(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<DeskArgs>,
) -> Response {
    if let Err(r) = user.require(Capability::WorkAlarms) {
        return r;
    }
    match load_feed(&app, &user, q.street.filter(|s| !s.is_empty())).await {
        Ok(feed) => page(&FeedFragment { feed }),
        Err(e) => app_error_page(&user, e),
    }
}

/// The desk's script: the CSP allows scripts from this origin only, so it is served here.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        DESK_JS,
    )
        .into_response()
}

/// Keeps the ids the page has seen; a new 待接警 row after the first load is highlighted for
/// 15 s and, once 「声音提醒」 is ticked (browsers play audio only after a user gesture),
/// announced by a short WebAudio beep (no sound file).
const DESK_JS: &str = r##"// 一键呼接警台: new alarms beep and are highlighted.
(function () {
  "use strict";
  var seen = {};
  var fresh = {};
  var audio = null;
  var box = document.getElementById("alarm-sound");
  function arm() {
    if (!box || !box.checked) return;
    var A = window.AudioContext || window.webkitAudioContext;
    if (!audio && A) audio = new A();
    if (audio && audio.state === "suspended") audio.resume();
  }
  function beep() {
    if (!audio || !box || !box.checked) return;
    var t = audio.currentTime;
    [0, 0.3].forEach(function (d) {
      var o = audio.createOscillator();
      var g = audio.createGain();
      o.type = "square";
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, t + d);
      g.gain.exponentialRampToValueAtTime(0.25, t + d + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + d + 0.2);
      o.connect(g);
      g.connect(audio.destination);
      o.start(t + d);
      o.stop(t + d + 0.22);
    });
  }
  function scan(first) {
    var now = Date.now();
    var fresh_count = 0;
    document.querySelectorAll("#alarm-feed tr[data-alarm]").forEach(function (tr) {
      var id = tr.getAttribute("data-alarm");
      if (!Object.prototype.hasOwnProperty.call(seen, id)) {
        seen[id] = now;
        if (!first && tr.getAttribute("data-status") === "raised") {
          fresh[id] = now;
          fresh_count++;
        }
      }
      if (fresh[id] && now - fresh[id] < 15000) tr.classList.add("fresh");
    });
    if (fresh_count > 0) {
      beep();
      var n = document.getElementById("alarm-new");
      if (n) n.textContent = "新报警" + fresh_count + "起";
    }
  }
  if (box) box.addEventListener("change", arm);
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === "alarm-feed") scan(false);
  });
  scan(true);
})();
"##;

// ------------------------------------------------------------------ one alarm

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

pub struct Contact {
    pub name: String,
    pub relation: String,
    pub phone: String,
}

pub struct ElderBox {
    pub id: i64,
    pub name: String,
    pub age: i32,
    pub phone: String,
    pub address: String,
    pub place: String,
    pub living_alone: bool,
    pub family: Vec<Contact>,
    pub medical_notes: String,
    pub care_manager: String,
    pub grade: String,
}

pub struct DeviceBox {
    pub device_id: String,
    pub model: String,
    pub room: String,
    pub online: &'static str,
    pub online_tone: &'static str,
    pub since: String,
    pub battery: String,
}

pub struct StepRow {
    pub label: String,
    pub when: String,
    pub who: String,
    pub detail: String,
}

pub struct RecentRow {
    pub id: i64,
    pub code_zh: &'static str,
    pub status_zh: &'static str,
    pub when: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "alarm_detail.html")]
struct DetailPage {
    nav: Nav,
    id: i64,
    row: Row,
    facts: Vec<Fact>,
    elder: Option<ElderBox>,
    device: Option<DeviceBox>,
    recent: Vec<RecentRow>,
    steps: Vec<StepRow>,
    /// Roles that keep the registry open the elder's record from here.
    elder_link: bool,
    flash: String,
    errors: FieldErrors,
    can_ack: bool,
    can_contact: bool,
    can_dispatch: bool,
    can_on_site: bool,
    can_resolve: bool,
    /// Before dispatch only a false alarm may be resolved.
    false_alarm_only: bool,
    outcomes: Vec<Opt>,
    responders: Vec<Opt>,
    can_follow_up: bool,
    request_id: Option<i64>,
    can_close: bool,
}

fn done_text(what: &str) -> &'static str {
    match what {
        "acknowledge" => "已接警，请立即联系老人。",
        "contact" => "联系结果已记录。",
        "dispatch" => "已派员，到场前超时将再次升级。",
        "on_site" => "已记录到场。",
        "resolve" => "处置结果已记录。",
        "follow_up" => "已生成接诉工单，转入12345办理。",
        "close" => "报警已关闭。",
        _ => "操作已完成。",
    }
}

fn action_zh(what: &str) -> &'static str {
    match what {
        "acknowledge" => "接警",
        "contact" => "记录联系结果",
        "dispatch" => "派员",
        "on_site" => "记录到场",
        "resolve" => "记录处置结果",
        "follow_up" => "生成接诉工单",
        "close" => "关闭报警",
        _ => "此操作",
    }
}

/// An event's line on the timeline: the use case's Chinese label, except an escalation, whose
/// recipients are named in Chinese here.
fn step_label(e: &AlarmEvent, label_zh: &str) -> String {
    match e {
        AlarmEvent::Escalated { step, notify } => format!(
            "第{step}级升级，通知{}",
            notify
                .iter()
                .map(|n| jiesu_app::alarms::desk::notify_zh(n))
                .collect::<Vec<_>>()
                .join("、")
        ),
        _ => label_zh.to_string(),
    }
}

fn step_detail(e: &AlarmEvent) -> String {
    match e {
        AlarmEvent::Contacted { note, .. }
        | AlarmEvent::Dispatched { note, .. }
        | AlarmEvent::Resolved { note, .. } => note.clone(),
        AlarmEvent::Raised { room, .. } => room
            .as_ref()
            .map(|r| format!("位置：{r}"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[derive(Deserialize, Default)]
pub struct DetailArgs {
    ok: Option<String>,
}

async fn render_detail(
    app: &AppState,
    user: &WebUser,
    id: i64,
    errors: FieldErrors,
    flash: String,
) -> Response {
    let d = match desk::get(app, &user.user, id).await {
        Ok(d) => d,
        Err(e) => return app_error_page(user, e),
    };
    let a = &d.alarm.alarm;
    let mut r = row(app, &d.alarm);
    // A finished alarm's clock stops when it was resolved.
    if let Some(end) = d.events.iter().find_map(|e| match e.event.payload {
        AlarmEvent::Resolved { .. } => Some(e.event.at),
        _ => None,
    }) {
        r.open = clock(end.duration_since(a.raised_at).as_secs());
    }
    let mut facts = vec![
        Fact {
            label: "报警类型",
            value: d.alarm.code_zh.to_string(),
        },
        Fact {
            label: "报警时间",
            value: fmt::datetime(a.raised_at),
        },
        Fact {
            label: "优先级",
            value: format!("{}级（1为最高）", a.priority),
        },
        Fact {
            label: "所在街道",
            value: format!("{} {}", d.alarm.street_name, d.alarm.community_name),
        },
    ];
    if let Some(p) = a.pressed_at {
        facts.push(Fact {
            label: "设备按下时间",
            value: fmt::datetime(p),
        });
    }
    if let Some(reached) = a.reached {
        facts.push(Fact {
            label: "联系老人",
            value: if reached {
                "已联系到"
            } else {
                "未联系到"
            }
            .into(),
        });
    }
    if let Some(rs) = a.responder {
        facts.push(Fact {
            label: "派出人员",
            value: rs.label_zh().into(),
        });
    }
    if let Some(t) = a.on_site_at {
        facts.push(Fact {
            label: "到场时间",
            value: fmt::datetime(t),
        });
    }
    if let Some(o) = a.outcome {
        facts.push(Fact {
            label: "处置结果",
            value: o.label_zh().into(),
        });
    }
    let elder = d.elder.as_ref().map(|e| ElderBox {
        id: e.id,
        name: e.name.clone(),
        age: e.age,
        phone: e.phone.clone().unwrap_or_default(),
        address: e.address.clone(),
        place: format!("{} {}", e.street_name, e.community_name),
        living_alone: e.living_alone,
        family: e
            .family
            .iter()
            .map(|f| Contact {
                name: f.name.clone(),
                relation: f.relation.clone(),
                phone: f.phone.clone(),
            })
            .collect(),
        medical_notes: e.medical_notes.clone().unwrap_or_default(),
        care_manager: e.care_manager.clone().unwrap_or_default(),
        grade: e
            .grade
            .map(|g| g.label_zh().to_string())
            .unwrap_or_else(|| "未评估".into()),
    });
    let device = d.device.as_ref().map(|dv| {
        let (online, online_tone) = match dv.online {
            Some(true) => ("在线", "ok"),
            Some(false) => ("离线", "bad"),
            None => ("尚未上线", "bad"),
        };
        DeviceBox {
            device_id: dv.data.device_id.clone(),
            model: dv.data.model.clone(),
            room: dv.data.room.clone(),
            online,
            online_tone,
            since: fmt::opt_datetime(dv.last_change_at),
            battery: dv.battery.map(|b| format!("{b}%")).unwrap_or_default(),
        }
    });
    let recent = d
        .recent
        .iter()
        .map(|v| RecentRow {
            id: v.alarm.id,
            code_zh: v.code_zh,
            status_zh: v.status_zh,
            when: fmt::datetime(v.alarm.raised_at),
            outcome: v
                .alarm
                .outcome
                .map(|o| o.label_zh().to_string())
                .unwrap_or_default(),
        })
        .collect();
    let steps = d
        .events
        .iter()
        .map(|e| StepRow {
            label: step_label(&e.event.payload, &e.label_zh),
            when: fmt::datetime(e.event.at),
            who: if e.event.actor.role == Role::System {
                "系统".into()
            } else {
                e.event.actor.role.label_zh().to_string()
            },
            detail: {
                let note = step_detail(&e.event.payload);
                match &e.event.reason {
                    Some(why) if note.is_empty() => why.clone(),
                    _ => note,
                }
            },
        })
        .collect();
    use AlarmStatus as S;
    let s = a.status;
    let false_alarm_only = matches!(s, S::Acknowledged | S::Contacted);
    let outcomes = Outcome::ALL
        .iter()
        .filter(|o| !false_alarm_only || **o == Outcome::FalseAlarm)
        .map(|o| Opt {
            code: o.as_str().into(),
            label: o.label_zh().into(),
            selected: false,
        })
        .collect();
    let responders = Responder::ALL
        .iter()
        .map(|o| Opt {
            code: o.as_str().into(),
            label: o.label_zh().into(),
            selected: a.responder == Some(*o),
        })
        .collect();
    page(&DetailPage {
        nav: Nav::for_user(user, "/alarms"),
        id,
        facts,
        elder,
        device,
        recent,
        steps,
        elder_link: jiesu_app::policy::allows(user.role(), Capability::ManageElders),
        flash,
        errors,
        can_ack: s == S::Raised,
        can_contact: matches!(s, S::Acknowledged | S::Contacted),
        can_dispatch: matches!(s, S::Acknowledged | S::Contacted | S::Dispatched),
        can_on_site: s == S::Dispatched,
        can_resolve: matches!(
            s,
            S::Acknowledged | S::Contacted | S::Dispatched | S::OnSite
        ),
        false_alarm_only,
        outcomes,
        responders,
        can_follow_up: s != S::Raised && a.request_id.is_none(),
        request_id: a.request_id,
        can_close: s == S::Resolved,
        row: r,
    })
}

pub async fn detail(
    State(app): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DetailArgs>,
) -> Response {
    if let Err(r) = user.require(Capability::WorkAlarms) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let flash =
        q.ok.as_deref()
            .map(done_text)
            .unwrap_or_default()
            .to_string();
    render_detail(&app, &user, id, FieldErrors::default(), flash).await
}

/// One step from the alarm's page (or 「接警」 from the desk): the use case decides whether the
/// alarm's state allows it; a refusal is shown on the page in Chinese.
pub async fn act(
    State(app): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(form.get("csrf"), &headers) {
        return csrf_refused(Some(&user));
    }
    if let Err(r) = user.require(Capability::WorkAlarms) {
        return r;
    }
    let id = match path_id(&user, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut errors = FieldErrors::default();
    let note = form.text("note");
    let step = match action.as_str() {
        "acknowledge" => Some(Step::Acknowledge),
        "contact" => match form.get("reached") {
            Some("yes") => Some(Step::Contact {
                reached: true,
                note,
            }),
            Some("no") => Some(Step::Contact {
                reached: false,
                note,
            }),
            _ => {
                errors.add("reached", "请选择是否联系到老人。");
                None
            }
        },
        "dispatch" => match form
            .get("responder")
            .and_then(|r| r.parse::<Responder>().ok())
        {
            Some(responder) => Some(Step::Dispatch { responder, note }),
            None => {
                errors.add("responder", "请选择派出的人员。");
                None
            }
        },
        "on_site" => Some(Step::OnSite),
        "resolve" => match form.get("outcome").and_then(|o| o.parse::<Outcome>().ok()) {
            Some(outcome) => Some(Step::Resolve { outcome, note }),
            None => {
                errors.add("outcome", "请选择处置结果。");
                None
            }
        },
        "follow_up" => Some(Step::FollowUp),
        "close" => Some(Step::Close),
        _ => return error_page(Some(&user), StatusCode::NOT_FOUND, "未知操作。"),
    };
    let Some(step) = step else {
        let mut r = render_detail(&app, &user, id, errors, String::new()).await;
        if r.status() == StatusCode::OK {
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        return r;
    };
    match desk::act(&app, &user.user, id, step).await {
        Ok(_) => Redirect::to(&format!("/alarms/{id}?ok={action}")).into_response(),
        Err(e)
            if e.kind != jiesu_app::ErrorKind::NotFound
                && e.kind != jiesu_app::ErrorKind::Forbidden =>
        {
            let status = ApiError::from(e.clone()).status;
            let why = if e.code == "invalid_transition" {
                // The engine names the alarm's status; the catalogue's sentence speaks of a
                // 12345 request, so the desk says it of the alarm.
                let now = desk::get(&app, &user.user, id)
                    .await
                    .map(|d| d.alarm.status_zh)
                    .unwrap_or("当前状态");
                format!("报警当前为“{now}”，不能执行此操作。")
            } else {
                jiesu_app::messages::of(&e)
            };
            let field = match e.field.as_deref() {
                Some("note") => "note",
                _ => "_form",
            };
            let mut errors = FieldErrors::default();
            errors.add(field, format!("{}：{why}", action_zh(&action)));
            if field != "_form" {
                errors.add("_form", format!("{}：{why}", action_zh(&action)));
            }
            let mut r = render_detail(&app, &user, id, errors, String::new()).await;
            if r.status() == StatusCode::OK && !status.is_server_error() {
                *r.status_mut() = status;
            }
            r
        }
        Err(e) => app_error_page(&user, e),
    }
}

// ------------------------------------------------------------------ devices and KPIs

pub struct FaultRow {
    pub device: String,
    pub kind: &'static str,
    pub detail: String,
    pub opened: String,
    pub street: String,
    pub elder_id: i64,
}

pub struct DeviceRow {
    pub device: String,
    pub model: String,
    pub place: String,
    pub room: String,
    pub elder_id: i64,
    pub since: String,
    pub battery: String,
}

pub struct KpiCard {
    pub alarms: i64,
    pub acknowledged: i64,
    pub within60: String,
    pub within60_ok: bool,
    pub within180: String,
    pub within180_ok: bool,
    pub median_ack: String,
    pub median_on_site: String,
    pub resolved: i64,
    pub false_alarm: String,
    pub escalated: i64,
    pub devices: i64,
    pub devices_offline: i64,
    pub open_faults: i64,
}

#[derive(Template)]
#[template(path = "alarm_devices.html")]
struct DevicesPage {
    nav: Nav,
    month: String,
    pick_street: bool,
    streets: Vec<Opt>,
    kpi: Option<KpiCard>,
    kpi_error: String,
    faults: Vec<FaultRow>,
    offline: Vec<DeviceRow>,
    offline_total: i64,
    desk_link: bool,
}

#[derive(Deserialize, Default)]
pub struct DevicesArgs {
    month: Option<String>,
    street: Option<String>,
}

/// A fault's detail in Chinese: the liveness tracker records an offline fault's reason by
/// its code.
fn fault_detail(kind: FaultKind, detail: &str) -> String {
    match detail {
        "silent" => "超过3个心跳周期无消息".into(),
        "last_will" => "设备断线（遗嘱消息）".into(),
        "status" => "设备上报离线".into(),
        d if d.chars().any(|c| c.is_ascii_alphabetic()) => kind.label_zh().into(),
        d => d.to_string(),
    }
}

pub async fn devices_page(
    State(app): State<AppState>,
    user: WebUser,
    Query(q): Query<DevicesArgs>,
) -> Response {
    if let Err(r) = user.require(Capability::ViewDevices) {
        return r;
    }
    let this_month = app
        .dir
        .calendar
        .local_date(app.now())
        .strftime("%Y-%m")
        .to_string();
    let month = q
        .month
        .filter(|m| !m.trim().is_empty())
        .map(|m| m.trim().to_string())
        .unwrap_or(this_month);
    let pick_street = user.role() != Role::CareManager;
    let street = if pick_street {
        q.street.filter(|s| !s.is_empty())
    } else {
        user.user.unit_code.clone()
    };
    let street_name = |code: &str| {
        app.dir
            .street(code)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let faults = match devices::faults(&app, &user.user, street.clone(), false).await {
        Ok(v) => v
            .into_iter()
            .map(|f| FaultRow {
                detail: fault_detail(f.kind, &f.detail),
                kind: f.kind.label_zh(),
                device: f.device_id,
                opened: fmt::datetime(f.opened_at),
                street: street_name(&f.street),
                elder_id: f.elder_id,
            })
            .collect(),
        Err(e) => return app_error_page(&user, e),
    };
    let dq = DeviceQuery {
        street: street.clone(),
        online: Some(false),
        status: Some(jiesu_domain::alarms::device::DeviceStatus::Active),
        limit: 200,
        ..Default::default()
    };
    let (offline, offline_total) = match devices::list(&app, &user.user, dq).await {
        Ok(p) => (
            p.items
                .into_iter()
                .map(|d| DeviceRow {
                    place: format!(
                        "{} {}",
                        street_name(&d.street),
                        app.dir
                            .community(&d.community)
                            .map(|c| c.name.clone())
                            .unwrap_or_default()
                    ),
                    since: match (d.online, d.last_change_at) {
                        (None, _) => "从未上线".into(),
                        (_, Some(t)) => fmt::datetime(t),
                        _ => String::new(),
                    },
                    battery: d.battery.map(|b| format!("{b}%")).unwrap_or_default(),
                    device: d.data.device_id,
                    model: d.data.model,
                    room: d.data.room,
                    elder_id: d.data.elder_id,
                })
                .collect(),
            p.total,
        ),
        Err(e) => return app_error_page(&user, e),
    };
    let (kpi, kpi_error) = match desk::kpi(&app, &user.user, &month, street.clone()).await {
        Ok(k) => (
            Some(KpiCard {
                alarms: k.kpis.alarms,
                acknowledged: k.kpis.acknowledged,
                within60: pct(k.kpis.ack_within_60s_pct),
                within60_ok: k.kpis.ack_within_60s_pct.is_none_or(|v| v >= 98.5),
                within180: pct(k.kpis.ack_within_180s_pct),
                within180_ok: k.kpis.ack_within_180s_pct.is_none_or(|v| v >= 99.0),
                median_ack: k
                    .kpis
                    .median_ack_secs
                    .map(clock)
                    .unwrap_or_else(|| "—".into()),
                median_on_site: k
                    .kpis
                    .median_on_site_secs
                    .map(clock)
                    .unwrap_or_else(|| "—".into()),
                resolved: k.kpis.resolved,
                false_alarm: pct(k.kpis.false_alarm_pct),
                escalated: k.kpis.escalated,
                devices: k.devices,
                devices_offline: k.devices_offline,
                open_faults: k.open_faults,
            }),
            String::new(),
        ),
        Err(e) if e.kind == jiesu_app::ErrorKind::Forbidden => {
            (None, "您的角色不能查看接警考核指标。".to_string())
        }
        Err(e) => (None, jiesu_app::messages::of(&e)),
    };
    let status = if kpi_error.is_empty() || kpi_error.starts_with("您的角色") {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut r = page(&DevicesPage {
        nav: Nav::for_user(&user, "/alarms/devices"),
        month,
        pick_street,
        streets: street_opts(&app, street.as_deref().unwrap_or_default()),
        kpi,
        kpi_error,
        faults,
        offline,
        offline_total,
        desk_link: jiesu_app::policy::allows(user.role(), Capability::WorkAlarms),
    });
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clocks_read_in_chinese() {
        assert_eq!(clock(-3), "0秒");
        assert_eq!(clock(45), "45秒");
        assert_eq!(clock(185), "3分05秒");
        assert_eq!(clock(7440), "2小时04分");
        assert_eq!(clock(97_200), "1天3小时");
    }
}
