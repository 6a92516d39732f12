//! The alarm desk: the live list (unacknowledged first, then by priority), one alarm with the
//! elder's profile one glance away, the steps, the follow-up 12345 request, and the KPIs.

use crate::App;
use crate::care::registry::{self, ElderView};
use crate::care::{Paged, page_args};
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::alarms::kpi::{AlarmKpis, kpis};
use jiesu_domain::alarms::{Alarm, AlarmCommand, AlarmEvent, AlarmState, AlarmStatus, Outcome};
use jiesu_domain::case::CaseEvent;
use jiesu_domain::{Channel, Role};
use jiesu_store::alarms::Device;
use jiesu_store::{CaseQuery, User};
use jiff::Timestamp;
use serde::Serialize;

/// The statuses still on the desk.
pub const OPEN: &[AlarmStatus] = &[
    AlarmStatus::Raised,
    AlarmStatus::Acknowledged,
    AlarmStatus::Contacted,
    AlarmStatus::Dispatched,
    AlarmStatus::OnSite,
];

/// One alarm as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmView {
    #[serde(flatten)]
    pub alarm: AlarmState,
    pub status_zh: &'static str,
    pub code_zh: &'static str,
    pub street_name: String,
    pub community_name: String,
    /// Seconds since raised (open alarms) — the clock the desk shows.
    pub open_secs: i64,
    /// Seconds to acknowledgement, once acknowledged.
    pub ack_secs: Option<i64>,
}

fn view(app: &App, a: AlarmState) -> AlarmView {
    let now = app.now();
    AlarmView {
        status_zh: a.status.label_zh(),
        code_zh: a.code.map(|c| c.label_zh()).unwrap_or("报警"),
        street_name: app
            .dir
            .street(&a.street)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        community_name: app
            .dir
            .community(&a.community)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        open_secs: now.duration_since(a.raised_at).as_secs().max(0),
        ack_secs: jiesu_domain::alarms::seconds_to_acknowledge(&a),
        alarm: a,
    }
}

/// What the desk lists.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DeskQuery {
    pub street: Option<String>,
    /// `open` (default) or `all`.
    pub scope: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// A care manager works their street's alarms only; others may narrow to a street.
fn street_scope(user: &User, asked: Option<String>) -> AppResult<Option<String>> {
    if user.role == Role::CareManager {
        return Ok(user.unit_code.clone());
    }
    Ok(asked.filter(|s| !s.is_empty()))
}

/// The desk's list: open alarms, unacknowledged first, then by priority and age; or all of
/// them, newest first.
pub async fn list(app: &App, user: &User, q: &DeskQuery) -> AppResult<Paged<AlarmView>> {
    require(user, Capability::WorkAlarms)?;
    let (limit, offset) = page_args(q.limit, q.offset)?;
    let open = match q.scope.as_deref() {
        None | Some("") | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(AppError::bad_query("scope", "open or all")),
    };
    let cq = CaseQuery {
        region_prefix: street_scope(user, q.street.clone())?,
        at_from: q.from,
        at_to: q.to,
        statuses: if open {
            OPEN.iter().map(|s| s.as_str().to_string()).collect()
        } else {
            Vec::new()
        },
        limit: if open { 1000 } else { limit },
        offset: if open { 0 } else { offset },
        ..Default::default()
    };
    let (mut items, total) = app.store.list_cases::<Alarm>(&cq).await?;
    if open {
        // The desk works the open alarms as a queue: whoever is not taken yet comes first.
        items.sort_by_key(|a| (a.status != AlarmStatus::Raised, a.priority, a.raised_at));
        items = items
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
    }
    Ok(Paged {
        items: items.into_iter().map(|a| view(app, a)).collect(),
        total,
        limit,
        offset,
    })
}

/// One event as the desk reads it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    #[serde(flatten)]
    pub event: CaseEvent<AlarmEvent>,
    pub name: &'static str,
    pub label_zh: String,
}

/// Who a chain step tells, as the desk says it (the chain names them by code).
pub fn notify_zh(who: &str) -> String {
    match who {
        "desk_supervisor" => "接警台值班长".into(),
        "street_duty" => "街道值班人员".into(),
        "care_manager" => "照护管理师".into(),
        "care_admin" => "民政养老管理员".into(),
        "family" => "家属".into(),
        other => other
            .parse::<Role>()
            .map(|r| r.label_zh().to_string())
            .unwrap_or_else(|_| "相关人员".into()),
    }
}

fn event_zh(e: &AlarmEvent) -> String {
    match e {
        AlarmEvent::Raised { .. } => "报警".into(),
        AlarmEvent::Escalated { step, notify } => {
            format!(
                "第{step}级升级，通知{}",
                notify
                    .iter()
                    .map(|w| notify_zh(w))
                    .collect::<Vec<_>>()
                    .join("、")
            )
        }
        AlarmEvent::Acknowledged => "接警".into(),
        AlarmEvent::Contacted { reached, .. } => if *reached {
            "已联系到老人"
        } else {
            "未联系到老人"
        }
        .into(),
        AlarmEvent::Dispatched { responder, .. } => format!("派员：{}", responder.label_zh()),
        AlarmEvent::OnSiteOverdue { count } => format!("超时未到场（第{count}次再升级）"),
        AlarmEvent::OnSite => "已到场".into(),
        AlarmEvent::Resolved { outcome, .. } => format!("处置完毕：{}", outcome.label_zh()),
        AlarmEvent::RequestLinked { request_id } => format!("已生成接诉工单 #{request_id}"),
        AlarmEvent::Closed => "关闭".into(),
    }
}

/// One alarm with everything the desk needs at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmDetail {
    pub alarm: AlarmView,
    pub events: Vec<EventView>,
    pub device: Option<Device>,
    /// The elder, identities shown (and the view audited): the desk calls them and sends help.
    pub elder: Option<ElderView>,
    /// The elder's other alarms, newest first.
    pub recent: Vec<AlarmView>,
}

async fn visible(app: &App, user: &User, id: i64) -> AppResult<AlarmState> {
    let st = app
        .store
        .get_case::<Alarm>(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    use jiesu_domain::CaseKind;
    if !Alarm::can_see(&user.actor(), &st) {
        return Err(AppError::not_found());
    }
    Ok(st)
}

pub async fn get(app: &App, user: &User, id: i64) -> AppResult<AlarmDetail> {
    require(user, Capability::WorkAlarms)?;
    let st = visible(app, user, id).await?;
    let events = app
        .store
        .case_events::<Alarm>(id)
        .await?
        .into_iter()
        .map(|e| EventView {
            name: <Alarm as jiesu_domain::CaseKind>::event_name(&e.payload),
            label_zh: event_zh(&e.payload),
            event: e,
        })
        .collect();
    let device = app.store.device(&st.device_id).await?;
    let (elder, recent) = match st.elder_id {
        Some(eid) => {
            let elder = match app.store.elder(eid).await? {
                Some(e) => {
                    crate::accounts::audit(
                        app,
                        user,
                        "view_elder",
                        "elder",
                        eid.to_string(),
                        Some(format!("alarm {id}")),
                    )
                    .await?;
                    let grade = app
                        .store
                        .assessments(eid)
                        .await?
                        .first()
                        .map(|a| a.result.grade);
                    Some(registry::view(app, &e, false, grade))
                }
                None => None,
            };
            let (recent, _) = app
                .store
                .list_cases::<Alarm>(&CaseQuery {
                    subject: Some(eid),
                    limit: 6,
                    ..Default::default()
                })
                .await?;
            (
                elder,
                recent
                    .into_iter()
                    .filter(|a| a.id != id)
                    .take(5)
                    .map(|a| view(app, a))
                    .collect(),
            )
        }
        None => (None, Vec::new()),
    };
    Ok(AlarmDetail {
        alarm: view(app, st),
        events,
        device,
        elder,
        recent,
    })
}

/// A step on the desk, as a door receives it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    Acknowledge,
    Contact {
        reached: bool,
        #[serde(default)]
        note: String,
    },
    Dispatch {
        responder: jiesu_domain::alarms::Responder,
        #[serde(default)]
        note: String,
    },
    OnSite,
    Resolve {
        outcome: Outcome,
        #[serde(default)]
        note: String,
    },
    /// Opens the linked 12345 request (channel `device`, urgent) for follow-up.
    FollowUp,
    Close,
}

/// Gives one step; the domain decides whether the alarm's state allows it.
pub async fn act(app: &App, user: &User, id: i64, step: Step) -> AppResult<AlarmState> {
    require(user, Capability::WorkAlarms)?;
    let st = visible(app, user, id).await?;
    let cmd = match step {
        Step::Acknowledge => AlarmCommand::Acknowledge,
        Step::Contact { reached, note } => AlarmCommand::Contact { reached, note },
        Step::Dispatch { responder, note } => AlarmCommand::Dispatch { responder, note },
        Step::OnSite => AlarmCommand::OnSite,
        Step::Resolve { outcome, note } => AlarmCommand::Resolve { outcome, note },
        Step::Close => AlarmCommand::Close,
        Step::FollowUp => return follow_up(app, user, st).await,
    };
    Ok(app
        .store
        .act_case::<Alarm>(&app.dir, &user.actor(), id, &cmd, app.now())
        .await?)
}

/// Opens the 12345 request that carries an alarm's follow-up into the engine, 考评 and
/// analytics: channel `device`, urgent, in the elder's street and community; no identity in its
/// text (it names the alarm). Asking twice gives the same request.
async fn follow_up(app: &App, user: &User, st: AlarmState) -> AppResult<AlarmState> {
    if st.request_id.is_some() {
        return Err(AppError::new(
            crate::ErrorKind::Refused,
            "already_linked",
            "the alarm has a request",
        ));
    }
    let code = st.code.map(|c| c.label_zh()).unwrap_or("报警");
    let outcome = st
        .outcome
        .map(|o| format!("，处置结果：{}", o.label_zh()))
        .unwrap_or_default();
    let input = jiesu_domain::intake::IntakeInput {
        request_type: "help_request".into(),
        channel: Some(Channel::Device.as_str().into()),
        category: Some("elderly.home-care".into()),
        street: Some(st.street.clone()),
        community: Some(st.community.clone()),
        address: None,
        title: Some(format!("一键呼报警（{code}）后续跟进")),
        text: format!(
            "一键呼报警（编号{}，设备{}）需要后续跟进：{code}{outcome}。请承办单位联系老人及家属，核实情况并落实后续服务。",
            st.id, st.device_id
        ),
        caller_name: None,
        caller_phone: None,
        urgent: true,
        received_at: None,
    };
    let rec =
        crate::intake::record_for_case(app, input, Channel::Device, format!("alarm:{}", st.id))
            .await?;
    Ok(app
        .store
        .act_case::<Alarm>(
            &app.dir,
            &user.actor(),
            st.id,
            &AlarmCommand::LinkRequest {
                request_id: rec.state.id,
            },
            app.now(),
        )
        .await?)
}

/// The desk's figures for a street (all when `None`) and a month (`YYYY-MM`).
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    pub month: String,
    pub street: Option<String>,
    #[serde(flatten)]
    pub kpis: AlarmKpis,
    /// Devices offline now (or never heard from), of the street's active devices.
    pub devices: i64,
    pub devices_offline: i64,
    pub open_faults: i64,
}

pub async fn kpi(
    app: &App,
    user: &User,
    month: &str,
    street: Option<String>,
) -> AppResult<KpiReport> {
    require(user, Capability::WorkAlarms).or_else(|_| require(user, Capability::ViewCareSupply))?;
    let street = street_scope(user, street)?;
    let first: jiff::civil::Date = format!("{month}-01")
        .parse()
        .map_err(|_| AppError::bad_query("month", "YYYY-MM"))?;
    let tz = app.dir.calendar.time_zone().clone();
    let start = first
        .to_zoned_datetime(tz.clone())
        .map_err(AppError::internal)?
        .timestamp();
    let end = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| AppError::bad_query("month", "YYYY-MM"))?
        .to_zoned_datetime(tz)
        .map_err(AppError::internal)?
        .timestamp();
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let (page, total) = app
            .store
            .list_cases::<Alarm>(&CaseQuery {
                region_prefix: street.clone(),
                at_from: Some(start),
                at_to: Some(end),
                limit: 1000,
                offset,
                oldest_first: true,
                ..Default::default()
            })
            .await?;
        let n = page.len() as u32;
        all.extend(page);
        offset += n;
        if n == 0 || i64::from(offset) >= total {
            break;
        }
    }
    let q = |online| jiesu_store::alarms::DeviceQuery {
        street: street.clone(),
        online,
        status: Some(jiesu_domain::alarms::device::DeviceStatus::Active),
        limit: 1,
        ..Default::default()
    };
    let (_, devices) = app.store.devices(&q(None)).await?;
    let (_, devices_offline) = app.store.devices(&q(Some(false))).await?;
    let open_faults = app.store.faults(street.as_deref(), true, 1000).await?.len() as i64;
    Ok(KpiReport {
        month: month.to_string(),
        street,
        kpis: kpis(&all),
        devices,
        devices_offline,
        open_faults,
    })
}
