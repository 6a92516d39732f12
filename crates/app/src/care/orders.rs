//! Service orders: created from a 12345 request, a care plan or the family's portal form;
//! matched to providers; scheduled, visited (EVV), rated; read by each role as it may.

use super::network::provider;
use super::registry::{self, ElderView};
use super::{Paged, page_args, today};
use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Capability, allows, require};
use jiesu_domain::care::order::{
    NewOrder, OrderCommand, OrderEvent, OrderState, OrderStatus, Origin, ServiceKind, ServiceOrder,
    Slot,
};
use jiesu_domain::case::CaseEvent;
use jiesu_domain::{Actor, Role};
use jiesu_store::care::{CarePlan, Provider};
use jiesu_store::{CaseQuery, User};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// A new order's public number: `YL` + local date + 6 unguessable characters.
fn order_code(app: &App) -> AppResult<String> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(AppError::internal)?;
    let t = jiesu_domain::tracking::tracking_code(app.now(), b);
    Ok(format!("YL{}", &t[2..]))
}

/// What a person asks for when turning a request (or a call) into an order.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OrderRequest {
    pub elder_id: i64,
    pub service: ServiceKind,
    #[serde(default)]
    pub note: String,
    pub wanted: Option<Slot>,
    /// A handler answering the request: reply to it with the order's number.
    #[serde(default)]
    pub reply: bool,
}

/// Creates an order from 12345 request `request_id`: the elder from the registry, the
/// request's link kept; with `reply` a handler's reply records the order.
pub async fn from_request(
    app: &App,
    user: &User,
    request_id: i64,
    r: &OrderRequest,
) -> AppResult<OrderState> {
    require(user, Capability::CreateCareOrders)?;
    // A care manager does not read the hotline's requests at large: only the elder-care ones of
    // their street, to turn them into orders.
    let req = if user.role == Role::CareManager {
        let r = app
            .store
            .get(request_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let elderly = r
            .intake
            .category
            .as_deref()
            .is_some_and(|c| c == "elderly" || c.starts_with("elderly."));
        if !elderly || r.intake.street.as_deref() != user.unit_code.as_deref() {
            return Err(AppError::not_found());
        }
        r
    } else {
        crate::actions::load_visible(app, user, request_id).await?
    };
    if req.status.is_terminal() {
        return Err(AppError::new(
            ErrorKind::Refused,
            "request_closed",
            "the request is closed",
        ));
    }
    let elder = registry::load(app, r.elder_id).await?;
    let n = NewOrder {
        code: order_code(app)?,
        elder_id: elder.id,
        street: elder.data.street.clone(),
        community: elder.data.community.clone(),
        service: r.service,
        origin: Origin::Request {
            request_id,
            code: req.tracking_code.clone(),
        },
        care_manager: elder.data.care_manager.clone(),
        note: r.note.clone(),
        wanted: r.wanted,
    };
    let st = create(app, &user.actor(), &n).await?;
    if r.reply {
        let text = format!(
            "已为老人生成养老服务工单{}（{}），由服务商与家属联系并上门服务。",
            st.code,
            r.service.label_zh()
        );
        crate::actions::perform(
            app,
            user,
            request_id,
            &crate::actions::Action::Command(jiesu_domain::Command::Reply { text }),
        )
        .await?;
    }
    Ok(st)
}

async fn create(app: &App, actor: &Actor, n: &NewOrder) -> AppResult<OrderState> {
    Ok(app
        .store
        .create_case::<ServiceOrder>(&app.dir, actor, n, app.now())
        .await?)
}

/// What family type on the portal: the elder's ID number and a phone registered for them.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FamilyRequest {
    pub id_number: String,
    pub phone: String,
    pub service: ServiceKind,
    #[serde(default)]
    pub note: String,
    pub wanted: Option<Slot>,
}

/// The family's request on the portal. The ID number and a registered family (or the elder's
/// own) phone must match; any mismatch gets the same answer, so numbers cannot be probed.
pub async fn from_family(app: &App, f: &FamilyRequest) -> AppResult<OrderState> {
    jiesu_domain::care::person::parse_id_number("id_number", &f.id_number)?;
    let phone = jiesu_domain::intake::normalize_phone(&f.phone)
        .ok_or_else(|| AppError::invalid("phone", "bad_phone", "not a Chinese phone number"))?;
    let no_match = || {
        AppError::invalid(
            "id_number",
            "elder_not_matched",
            "no registered elder with this ID number and phone",
        )
    };
    let elder = app
        .store
        .elder_by_id_number(&f.id_number)
        .await?
        .ok_or_else(no_match)?;
    let known = elder.data.phone.as_deref() == Some(phone.as_str())
        || elder.data.family.iter().any(|c| c.phone == phone);
    if !known {
        return Err(no_match());
    }
    let n = NewOrder {
        code: order_code(app)?,
        elder_id: elder.id,
        street: elder.data.street.clone(),
        community: elder.data.community.clone(),
        service: f.service,
        origin: Origin::Family,
        care_manager: elder.data.care_manager.clone(),
        note: f.note.clone(),
        wanted: f.wanted,
    };
    let actor = Actor {
        user_id: None,
        username: "family".into(),
        role: Role::Citizen,
        unit: None,
    };
    create(app, &actor, &n).await
}

/// The most visits one plan may create at once.
pub const MAX_PLAN_VISITS: usize = 100;

/// A care manager's plan: one order per visit between the plan's dates on its weekdays.
pub async fn plan(app: &App, user: &User, p: &CarePlan) -> AppResult<(i64, Vec<OrderState>)> {
    require(user, Capability::CreateCareOrders)?;
    if !matches!(user.role, Role::CareManager | Role::CareAdmin) {
        return Err(AppError::forbidden(
            "care plans: only 照护管理师、民政养老管理员 may do this",
        ));
    }
    let elder = registry::load(app, p.elder_id).await?;
    if p.weekdays.is_empty() || p.weekdays.iter().any(|d| !(1..=7).contains(d)) {
        return Err(AppError::invalid(
            "weekdays",
            "bad_weekday",
            "1 (Monday) to 7, at least one",
        ));
    }
    if p.start_min >= 1440
        || p.duration_min == 0
        || u32::from(p.start_min) + u32::from(p.duration_min) > 1440
    {
        return Err(AppError::invalid(
            "duration_min",
            "bad_duration",
            "the visit must start and end within the day",
        ));
    }
    if p.to_date < p.from_date {
        return Err(AppError::invalid(
            "to_date",
            "bad_range",
            "must not be before from_date",
        ));
    }
    if p.to_date > jiff::civil::date(2099, 12, 31) {
        return Err(AppError::invalid(
            "to_date",
            "date_out_of_range",
            "must be before 2100",
        ));
    }
    if p.from_date < today(app) {
        return Err(AppError::invalid(
            "from_date",
            "date_in_past",
            "must not be in the past",
        ));
    }
    let tz = app.dir.calendar.time_zone().clone();
    let mut slots = Vec::new();
    let mut d = p.from_date;
    while d <= p.to_date {
        let wd = d.weekday().to_monday_one_offset() as u8;
        if p.weekdays.contains(&wd) {
            let start = tz
                .to_timestamp(d.at(0, 0, 0, 0))
                .map_err(AppError::internal)?
                + SignedDuration::from_mins(i64::from(p.start_min));
            slots.push(Slot {
                start,
                end: start + SignedDuration::from_mins(i64::from(p.duration_min)),
            });
            if slots.len() > MAX_PLAN_VISITS {
                return Err(AppError::invalid(
                    "to_date",
                    "too_many_visits",
                    format!("a plan creates at most {MAX_PLAN_VISITS} visits at once"),
                ));
            }
        }
        d = d.tomorrow().map_err(AppError::internal)?;
    }
    let plan_id = app
        .store
        .add_care_plan(
            &CarePlan {
                created_by: user.username.clone(),
                ..p.clone()
            },
            app.now(),
        )
        .await?;
    let mut orders = Vec::new();
    for slot in slots {
        let n = NewOrder {
            code: order_code(app)?,
            elder_id: elder.id,
            street: elder.data.street.clone(),
            community: elder.data.community.clone(),
            service: p.service,
            origin: Origin::CarePlan { plan_id },
            care_manager: elder.data.care_manager.clone(),
            note: String::new(),
            wanted: Some(slot),
        };
        orders.push(create(app, &user.actor(), &n).await?);
    }
    Ok((plan_id, orders))
}

/// A provider proposed for an order, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub provider: String,
    pub name: String,
    pub price_fen: i64,
    pub copay_fen: i64,
    pub score: f64,
    pub rating: Option<f64>,
    pub ratings: i64,
    /// Orders assigned or scheduled and not yet visited.
    pub open_orders: i64,
    /// Visits it can take in the wanted slot (weekly capacity when no slot is wanted).
    pub capacity: i64,
    pub distance: &'static str,
    pub reasons: Vec<String>,
}

/// Open (assigned, scheduled, in visit) orders of a provider, and its ratings.
async fn provider_load(app: &App, code: &str) -> AppResult<(i64, Option<f64>, i64)> {
    let q = |statuses: &[OrderStatus], limit| CaseQuery {
        owner: Some(code.to_string()),
        statuses: statuses.iter().map(|s| s.as_str().to_string()).collect(),
        limit,
        ..Default::default()
    };
    let (_, open) = app
        .store
        .list_cases::<ServiceOrder>(&q(
            &[
                OrderStatus::Assigned,
                OrderStatus::Scheduled,
                OrderStatus::VisitStarted,
            ],
            1,
        ))
        .await?;
    let (rated, _) = app
        .store
        .list_cases::<ServiceOrder>(&q(&[OrderStatus::Rated, OrderStatus::Settled], 200))
        .await?;
    let scores: Vec<f64> = rated
        .iter()
        .filter_map(|o| o.rating.as_ref().map(|r| f64::from(r.score)))
        .collect();
    let avg = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    Ok((open, avg, scores.len() as i64))
}

/// The weekday (1–7) and minutes from midnight of an instant, locally.
fn local_slot(app: &App, t: Timestamp) -> (u8, u16) {
    let dt = app.dir.calendar.time_zone().to_datetime(t);
    (
        dt.weekday().to_monday_one_offset() as u8,
        (i32::from(dt.hour()) * 60 + i32::from(dt.minute())) as u16,
    )
}

/// The capacity of `p`'s weekly slots that contain `slot` (all of it, when `slot` is None).
fn capacity_for(app: &App, p: &Provider, slot: Option<&Slot>) -> i64 {
    match slot {
        None => p.slots.iter().map(|s| i64::from(s.capacity)).sum(),
        Some(w) => {
            let (wd, start) = local_slot(app, w.start);
            let mins = w.end.duration_since(w.start).as_mins();
            let end = i64::from(start) + mins;
            p.slots
                .iter()
                .filter(|s| s.weekday == wd && s.start_min <= start && i64::from(s.end_min) >= end)
                .map(|s| i64::from(s.capacity))
                .sum()
        }
    }
}

/// Visits of provider `code` scheduled in a slot overlapping `slot`.
async fn booked(app: &App, code: &str, slot: &Slot) -> AppResult<Vec<OrderState>> {
    let (items, _) = app
        .store
        .list_cases::<ServiceOrder>(&CaseQuery {
            owner: Some(code.to_string()),
            statuses: vec![
                OrderStatus::Scheduled.as_str().into(),
                OrderStatus::VisitStarted.as_str().into(),
            ],
            at_from: Some(slot.start - SignedDuration::from_hours(12)),
            at_to: Some(slot.end),
            limit: 10_000,
            ..Default::default()
        })
        .await?;
    Ok(items
        .into_iter()
        .filter(|o| o.slot.is_some_and(|s| s.overlaps(slot)))
        .collect())
}

/// Providers that may take the order: active, covering the elder's community, offering the
/// service, with room in the wanted slot; ranked by rating, load and distance, each with why.
pub async fn matches(app: &App, user: &User, id: i64) -> AppResult<Vec<Match>> {
    require(user, Capability::CreateCareOrders)?;
    let o = get_state(app, user, id).await?;
    let street_of = |c: &str| app.dir.community(c).map(|c| c.street_code.clone());
    let mut out = Vec::new();
    for p in app.store.providers().await? {
        let Some(item) = p.services.iter().find(|s| s.service == o.service) else {
            continue;
        };
        if !p.active || !p.coverage.contains(&o.community) {
            continue;
        }
        let capacity = capacity_for(app, &p, o.wanted.as_ref());
        if o.wanted.is_some() && capacity == 0 {
            continue;
        }
        let taken = match &o.wanted {
            Some(w) => booked(app, &p.code, w).await?.len() as i64,
            None => 0,
        };
        if o.wanted.is_some() && taken >= capacity {
            continue;
        }
        let (open, rating, ratings) = provider_load(app, &p.code).await?;
        let (distance, d_score) = if p.community == o.community {
            ("同社区", 1.0)
        } else if Some(&p.street) == street_of(&o.community).as_ref() {
            ("同街道", 0.6)
        } else {
            ("跨街道", 0.2)
        };
        let r = rating.unwrap_or(4.0);
        let score = 0.5 * r / 5.0 + 0.3 * (10.0 / (10.0 + open as f64)) + 0.2 * d_score;
        let mut reasons = vec![
            "覆盖老人所在社区".to_string(),
            format!(
                "提供{}，价格{}元",
                o.service.label_zh(),
                fen_yuan(item.price_fen)
            ),
        ];
        reasons.push(match rating {
            Some(r) => format!("评分{r:.1}（{ratings}次）"),
            None => "尚无评价（按4.0计）".into(),
        });
        reasons.push(format!("在办{open}单"));
        if o.wanted.is_some() {
            reasons.push(format!("所选时段余量{}", capacity - taken));
        }
        reasons.push(distance.to_string());
        out.push(Match {
            provider: p.code.clone(),
            name: p.name.clone(),
            price_fen: item.price_fen,
            copay_fen: item.copay_fen,
            score: (score * 1000.0).round() / 1000.0,
            rating,
            ratings,
            open_orders: open,
            capacity,
            distance,
            reasons,
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.provider.cmp(&b.provider))
    });
    Ok(out)
}

/// Yuan with two decimals from fen, for people.
pub fn fen_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Assigns the order to `provider` at its listed price; refused naming `provider` when it does
/// not cover the elder's community or offer the service.
pub async fn assign(app: &App, user: &User, id: i64, code: &str) -> AppResult<OrderState> {
    require(user, Capability::CreateCareOrders)?;
    let o = get_state(app, user, id).await?;
    let p = provider(app, code)
        .await?
        .ok_or_else(|| AppError::invalid("provider", "unknown_provider", "no such provider"))?;
    if !p.active {
        return Err(AppError::invalid(
            "provider",
            "provider_inactive",
            "the provider is not active",
        ));
    }
    if !p.coverage.contains(&o.community) {
        return Err(AppError::invalid(
            "provider",
            "provider_not_covering",
            "the provider does not cover the elder's community",
        ));
    }
    let Some(item) = p.services.iter().find(|s| s.service == o.service) else {
        return Err(AppError::invalid(
            "provider",
            "service_not_offered",
            "the provider does not offer this service",
        ));
    };
    let reason = matches(app, user, id)
        .await?
        .into_iter()
        .find(|m| m.provider == p.code)
        .map(|m| m.reasons.join("；"))
        .unwrap_or_else(|| "人工指定".into());
    act(
        app,
        user,
        id,
        &OrderCommand::Assign {
            provider: p.code.clone(),
            price_fen: item.price_fen,
            copay_fen: item.copay_fen,
            reason,
        },
    )
    .await
}

/// Checks a provider's schedule: the carer is its own, active and skilled; the slot inside its
/// weekly slots with room; the carer not booked elsewhere at the time.
async fn check_schedule(app: &App, o: &OrderState, carer_id: i64, slot: &Slot) -> AppResult<()> {
    let code = o.provider.clone().unwrap_or_default();
    let carer = app
        .store
        .carers(Some(&code))
        .await?
        .into_iter()
        .find(|c| c.id == carer_id && c.active)
        .ok_or_else(|| {
            AppError::invalid(
                "carer_id",
                "unknown_carer",
                "not an active carer of this provider",
            )
        })?;
    if !carer.skills.is_empty() && !carer.skills.contains(&o.service) {
        return Err(AppError::invalid(
            "carer_id",
            "carer_lacks_skill",
            format!("the carer does not do {}", o.service.label_zh()),
        ));
    }
    slot.check("slot")?;
    let p = provider(app, &code)
        .await?
        .ok_or_else(AppError::not_found)?;
    let capacity = capacity_for(app, &p, Some(slot));
    if capacity == 0 {
        return Err(AppError::invalid(
            "slot",
            "outside_slots",
            "outside the provider's weekly time slots",
        ));
    }
    let others: Vec<OrderState> = booked(app, &code, slot)
        .await?
        .into_iter()
        .filter(|x| x.id != o.id)
        .collect();
    if others.len() as i64 >= capacity {
        return Err(AppError::invalid(
            "slot",
            "slot_full",
            "the time slot is fully booked",
        ));
    }
    if others.iter().any(|x| x.carer_id == Some(carer_id)) {
        return Err(AppError::invalid(
            "carer_id",
            "carer_busy",
            "the carer has another visit at this time",
        ));
    }
    Ok(())
}

/// A command on an order for `user` (the domain decides role and state; the app checks what
/// needs the registry).
pub async fn act(app: &App, user: &User, id: i64, cmd: &OrderCommand) -> AppResult<OrderState> {
    require(user, Capability::ActOnCareOrders)?;
    let o = get_state(app, user, id).await?;
    match cmd {
        OrderCommand::Schedule { carer_id, slot } => {
            check_schedule(app, &o, *carer_id, slot).await?
        }
        OrderCommand::StartVisit { carer_id, .. } => {
            let code = o.provider.clone().unwrap_or_default();
            let ok = app
                .store
                .carers(Some(&code))
                .await?
                .iter()
                .any(|c| c.id == *carer_id && c.active);
            if !ok {
                return Err(AppError::invalid(
                    "carer_id",
                    "unknown_carer",
                    "not an active carer of this provider",
                ));
            }
        }
        OrderCommand::Settle { .. } => {
            return Err(AppError::forbidden(
                "orders are settled by approving the month's claim",
            ));
        }
        _ => {}
    }
    Ok(app
        .store
        .act_case::<ServiceOrder>(&app.dir, &user.actor(), id, cmd, app.now())
        .await?)
}

/// The family rates a finished visit on the portal with the order's number.
pub async fn rate_by_code(
    app: &App,
    code: &str,
    score: u8,
    comment: &str,
) -> AppResult<OrderState> {
    let o = app
        .store
        .case_by_code::<ServiceOrder>(code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let actor = Actor {
        user_id: None,
        username: "family".into(),
        role: Role::Citizen,
        unit: None,
    };
    Ok(app
        .store
        .act_case::<ServiceOrder>(
            &app.dir,
            &actor,
            o.id,
            &OrderCommand::Rate {
                score,
                comment: comment.to_string(),
            },
            app.now(),
        )
        .await?)
}

/// What the family sees of an order by its number: no identities.
#[derive(Debug, Clone, Serialize)]
pub struct PublicOrder {
    pub code: String,
    pub service: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub provider_name: Option<String>,
    pub slot: Option<Slot>,
    pub visit_started_at: Option<Timestamp>,
    pub visit_finished_at: Option<Timestamp>,
    pub rating: Option<u8>,
    pub can_rate: bool,
}

pub async fn public_by_code(app: &App, code: &str) -> AppResult<PublicOrder> {
    let o = app
        .store
        .case_by_code::<ServiceOrder>(code.trim())
        .await?
        .ok_or_else(AppError::not_found)?;
    let provider_name = match &o.provider {
        Some(c) => provider(app, c).await?.map(|p| p.name),
        None => None,
    };
    Ok(PublicOrder {
        code: o.code.clone(),
        service: o.service.label_zh(),
        status: o.status.label_zh(),
        status_code: o.status.as_str(),
        provider_name,
        slot: o.slot,
        visit_started_at: o.visit.as_ref().map(|v| v.started_at),
        visit_finished_at: o.visit.as_ref().and_then(|v| v.finished_at),
        rating: o.rating.as_ref().map(|r| r.score),
        can_rate: o.rating.is_none()
            && matches!(o.status, OrderStatus::VisitFinished | OrderStatus::Settled),
    })
}

/// The order if `user` may see it (a provider its own, a care manager their street's).
pub(crate) async fn get_state(app: &App, user: &User, id: i64) -> AppResult<OrderState> {
    require(user, Capability::ActOnCareOrders)?;
    let o = app
        .store
        .get_case::<ServiceOrder>(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !<ServiceOrder as jiesu_domain::CaseKind>::can_see(&user.actor(), &o) {
        return Err(AppError::not_found());
    }
    Ok(o)
}

/// An order with its elder (identities for the provider doing the visit and for roles that see
/// them, audited; masked for others) and its event log.
#[derive(Debug, Clone, Serialize)]
pub struct OrderDetail {
    pub order: OrderState,
    pub elder: ElderView,
    pub provider_name: Option<String>,
    pub events: Vec<CaseEvent<OrderEvent>>,
}

pub async fn detail(app: &App, user: &User, id: i64) -> AppResult<OrderDetail> {
    let order = get_state(app, user, id).await?;
    let e = registry::load(app, order.elder_id).await?;
    // The provider on the order needs the address and phone to visit.
    let unmasked = registry::sees_identity(user, &e)
        || (user.role == Role::Provider
            && order.provider == user.unit_code
            && !order.status.is_terminal());
    if unmasked {
        crate::accounts::audit(
            app,
            user,
            "view_elder",
            "elder",
            e.id.to_string(),
            Some(format!("order {}", order.code)),
        )
        .await?;
    }
    let provider_name = match &order.provider {
        Some(c) => provider(app, c).await?.map(|p| p.name),
        None => None,
    };
    let events = app.store.case_events::<ServiceOrder>(id).await?;
    Ok(OrderDetail {
        elder: registry::view(app, &e, !unmasked, None),
        order,
        provider_name,
        events,
    })
}

/// The order list filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrderQuery {
    pub status: Option<String>,
    pub provider: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub elder_id: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Orders `user` may see: a provider its own, a care manager their street's, newest first.
pub async fn list(app: &App, user: &User, q: &OrderQuery) -> AppResult<Paged<OrderState>> {
    require(user, Capability::ActOnCareOrders)?;
    let (limit, offset) = page_args(q.limit, q.offset)?;
    let mut cq = CaseQuery {
        owner: q.provider.clone(),
        region: q.community.clone(),
        region_prefix: q.street.clone(),
        subject: q.elder_id,
        limit,
        offset,
        ..Default::default()
    };
    if let Some(s) = &q.status {
        let st: OrderStatus = s
            .parse()
            .map_err(|_| AppError::bad_query("status", "not an order status"))?;
        cq.statuses = vec![st.as_str().to_string()];
    }
    match user.role {
        Role::Provider => cq.owner = Some(user.unit_code.clone().unwrap_or_default()),
        Role::CareManager => cq.region_prefix = Some(user.unit_code.clone().unwrap_or_default()),
        _ => {}
    }
    if !allows(user.role, Capability::ActOnCareOrders) {
        return Err(AppError::forbidden("service orders"));
    }
    let (items, total) = app.store.list_cases::<ServiceOrder>(&cq).await?;
    Ok(Paged {
        items,
        total,
        limit,
        offset,
    })
}
