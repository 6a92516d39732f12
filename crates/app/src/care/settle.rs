//! Monthly settlement: claims per provider (verified visits × price − co-payment) and per meal
//! point (the elders' subsidies it advanced + its operating subsidy per diner-day), prepared from
//! the order and meal logs, approved by the 民政 office (then locked), exported as JSON or XLSX
//! whose totals reconcile to the logs to the fen.

use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Capability, require};
use jiesu_domain::care::claim::{
    Claim, ClaimCommand, ClaimLine, ClaimState, ClaimStatus, LineKind, NewClaim, PartyKind,
    claim_lines, meals_due, paid_by_item, parse_month, visits_due, window_start,
};
use jiesu_domain::care::order::{OrderCommand, OrderStatus, ServiceOrder};
use jiesu_store::{CaseQuery, User};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

fn start_of(app: &App, d: Date) -> AppResult<Timestamp> {
    app.dir
        .calendar
        .time_zone()
        .to_timestamp(d.at(0, 0, 0, 0))
        .map_err(AppError::internal)
}

fn next_month(d: Date) -> AppResult<Date> {
    d.checked_add(jiff::Span::new().months(1))
        .map_err(AppError::internal)
}

/// Approved claims of a party in the window of `month` (the `paid` side).
async fn approved_claims(app: &App, party: &str, month: Date) -> AppResult<Vec<ClaimState>> {
    let (claims, _) = app
        .store
        .list_cases::<Claim>(&CaseQuery {
            owner: Some(party.to_string()),
            statuses: vec![ClaimStatus::Approved.as_str().into()],
            limit: 1000,
            ..Default::default()
        })
        .await?;
    let from = jiesu_domain::care::claim::month_of(window_start(month));
    let to = jiesu_domain::care::claim::month_of(month);
    Ok(claims
        .into_iter()
        .filter(|c| c.month >= from && c.month <= to)
        .collect())
}

/// The lines a claim for `party` in `month` would hold now, from the logs.
pub async fn compute_lines(
    app: &App,
    kind: PartyKind,
    party: &str,
    month: Date,
) -> AppResult<Vec<ClaimLine>> {
    let from = window_start(month);
    let to = next_month(month)?;
    let due = match kind {
        PartyKind::Provider => {
            let (orders, _) = app
                .store
                .list_cases::<ServiceOrder>(&CaseQuery {
                    owner: Some(party.to_string()),
                    statuses: [
                        OrderStatus::VisitFinished,
                        OrderStatus::Rated,
                        OrderStatus::Settled,
                    ]
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
                    at_from: Some(start_of(app, from)?),
                    at_to: Some(start_of(app, to)?),
                    limit: 100_000,
                    ..Default::default()
                })
                .await?;
            visits_due(&orders, app.dir.calendar.time_zone())
        }
        PartyKind::MealPoint => {
            let meals = app.store.meals(Some(party), None, from, to).await?;
            meals_due(&meals, app.dir.world.care.point_operating_subsidy_fen)
        }
    };
    let paid = paid_by_item(&approved_claims(app, party, month).await?);
    Ok(claim_lines(month, &due, &paid))
}

async fn party_name(app: &App, kind: PartyKind, party: &str) -> AppResult<String> {
    let name = match kind {
        PartyKind::Provider => app
            .store
            .providers()
            .await?
            .into_iter()
            .find(|p| p.code == party)
            .map(|p| p.name),
        PartyKind::MealPoint => app
            .store
            .meal_points()
            .await?
            .into_iter()
            .find(|p| p.code == party)
            .map(|p| p.name),
    };
    name.ok_or_else(|| {
        AppError::invalid("party", "unknown_party", "no such provider or meal point")
    })
}

/// Prepares (or, before approval, prepares again) the claim of `party` for `month`.
pub async fn prepare(
    app: &App,
    user: &User,
    kind: PartyKind,
    party: &str,
    month: &str,
) -> AppResult<ClaimState> {
    require(user, Capability::SettleCare)?;
    let m = parse_month("month", month)?;
    if next_month(m)? > next_month(super::today(app))? {
        return Err(AppError::invalid(
            "month",
            "month_in_future",
            "must not be in the future",
        ));
    }
    party_name(app, kind, party).await?;
    let lines = compute_lines(app, kind, party, m).await?;
    let key = ClaimState::key(kind, party, month);
    let actor = user.actor();
    let now = app.now();
    let st = match app.store.case_by_code::<Claim>(&key).await? {
        Some(c) => {
            app.store
                .act_case::<Claim>(&app.dir, &actor, c.id, &ClaimCommand::Revise { lines }, now)
                .await?
        }
        None => {
            let n = NewClaim {
                party_kind: kind,
                party: party.to_string(),
                month: month.to_string(),
                lines,
            };
            app.store
                .create_case::<Claim>(&app.dir, &actor, &n, now)
                .await?
        }
    };
    Ok(st)
}

/// Approves a claim as its approver saw it (`total_fen`); the month is then locked and its
/// visits' orders are marked settled. Approving an approved claim again only finishes marking
/// its orders (after an interruption).
pub async fn approve(app: &App, user: &User, id: i64, total_fen: i64) -> AppResult<ClaimState> {
    require(user, Capability::SettleCare)?;
    let c = app
        .store
        .get_case::<Claim>(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let c = if c.status == ClaimStatus::Approved {
        c
    } else {
        app.store
            .act_case::<Claim>(
                &app.dir,
                &user.actor(),
                id,
                &ClaimCommand::Approve { total_fen },
                app.now(),
            )
            .await?
    };
    for l in c
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Visit && l.amount_fen > 0)
    {
        let Some(order_id) = l.item.strip_prefix("order:").and_then(|s| s.parse().ok()) else {
            continue;
        };
        let r = app
            .store
            .act_case::<ServiceOrder>(
                &app.dir,
                &user.actor(),
                order_id,
                &OrderCommand::Settle { claim_id: c.id },
                app.now(),
            )
            .await;
        match r.map_err(AppError::from) {
            Ok(_) => {}
            // Already settled (an adjustment of an order settled before).
            Err(e) if e.kind == ErrorKind::Refused => {}
            Err(e) => return Err(e),
        }
    }
    crate::accounts::audit(
        app,
        user,
        "approve_claim",
        "care_claim",
        id.to_string(),
        Some(format!("{} {} {} fen", c.party, c.month, c.total_fen)),
    )
    .await?;
    Ok(c)
}

/// One party's claim in a report: stored (prepared or approved) or a draft from the logs.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimReport {
    pub claim_id: Option<i64>,
    pub party_kind: PartyKind,
    pub party: String,
    pub party_name: String,
    pub month: String,
    /// `draft` when not prepared yet.
    pub status: String,
    pub lines: Vec<ClaimLine>,
    pub visits_fen: i64,
    pub meal_subsidy_fen: i64,
    pub operating_fen: i64,
    pub adjustments_fen: i64,
    pub total_fen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SettlementReport {
    pub month: String,
    pub claims: Vec<ClaimReport>,
    pub total_fen: i64,
}

fn summarise(mut r: ClaimReport) -> ClaimReport {
    let sum = |k: LineKind| -> i64 {
        r.lines
            .iter()
            .filter(|l| l.kind == k && !l.adjustment)
            .map(|l| l.amount_fen)
            .sum()
    };
    r.visits_fen = sum(LineKind::Visit);
    r.meal_subsidy_fen = sum(LineKind::MealSubsidy);
    r.operating_fen = sum(LineKind::Operating);
    r.adjustments_fen = r
        .lines
        .iter()
        .filter(|l| l.adjustment)
        .map(|l| l.amount_fen)
        .sum();
    r.total_fen = r.lines.iter().map(|l| l.amount_fen).sum();
    r
}

/// The month's settlement for every provider and meal point (or the one named): each party's
/// stored claim where there is one, else its draft from the logs.
pub async fn report(
    app: &App,
    user: &User,
    month: &str,
    party: Option<&str>,
) -> AppResult<SettlementReport> {
    require(user, Capability::SettleCare)?;
    let m = parse_month("month", month)?;
    let mut parties: Vec<(PartyKind, String, String)> = Vec::new();
    for p in app.store.providers().await? {
        parties.push((PartyKind::Provider, p.code, p.name));
    }
    for p in app.store.meal_points().await? {
        parties.push((PartyKind::MealPoint, p.code, p.name));
    }
    if let Some(code) = party {
        parties.retain(|(_, c, _)| c == code);
        if parties.is_empty() {
            return Err(AppError::invalid(
                "party",
                "unknown_party",
                "no such provider or meal point",
            ));
        }
    }
    let mut claims = Vec::new();
    for (kind, code, name) in parties {
        let stored = app
            .store
            .case_by_code::<Claim>(&ClaimState::key(kind, &code, month))
            .await?;
        let r = match stored {
            Some(c) => ClaimReport {
                claim_id: Some(c.id),
                party_kind: kind,
                party: code,
                party_name: name,
                month: month.to_string(),
                status: c.status.as_str().to_string(),
                lines: c.lines,
                visits_fen: 0,
                meal_subsidy_fen: 0,
                operating_fen: 0,
                adjustments_fen: 0,
                total_fen: 0,
            },
            None => ClaimReport {
                claim_id: None,
                party_kind: kind,
                lines: compute_lines(app, kind, &code, m).await?,
                party: code,
                party_name: name,
                month: month.to_string(),
                status: "draft".into(),
                visits_fen: 0,
                meal_subsidy_fen: 0,
                operating_fen: 0,
                adjustments_fen: 0,
                total_fen: 0,
            },
        };
        claims.push(summarise(r));
    }
    let total_fen = claims.iter().map(|c| c.total_fen).sum();
    Ok(SettlementReport {
        month: month.to_string(),
        claims,
        total_fen,
    })
}

/// The report as a workbook: a summary sheet (one row per party) and a line sheet (one row per
/// line), amounts in integer fen so the workbook equals the JSON exactly.
pub fn to_xlsx(r: &SettlementReport) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let x = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    {
        let s = wb.add_worksheet().set_name("汇总").map_err(x)?;
        let head = [
            "月份",
            "类别",
            "编码",
            "名称",
            "状态",
            "上门服务(分)",
            "助餐补贴(分)",
            "运营补贴(分)",
            "调整(分)",
            "合计(分)",
        ];
        for (c, h) in head.iter().enumerate() {
            s.write_string(0, c as u16, *h).map_err(x)?;
        }
        for (i, c) in r.claims.iter().enumerate() {
            let row = (i + 1) as u32;
            s.write_string(row, 0, &c.month).map_err(x)?;
            s.write_string(row, 1, c.party_kind.label_zh()).map_err(x)?;
            s.write_string(row, 2, &c.party).map_err(x)?;
            s.write_string(row, 3, &c.party_name).map_err(x)?;
            s.write_string(row, 4, status_zh(&c.status)).map_err(x)?;
            for (col, v) in [
                c.visits_fen,
                c.meal_subsidy_fen,
                c.operating_fen,
                c.adjustments_fen,
                c.total_fen,
            ]
            .iter()
            .enumerate()
            {
                s.write_number(row, (5 + col) as u16, *v as f64)
                    .map_err(x)?;
            }
        }
        let row = (r.claims.len() + 1) as u32;
        s.write_string(row, 3, "总计").map_err(x)?;
        s.write_number(row, 9, r.total_fen as f64).map_err(x)?;
    }
    {
        let s = wb.add_worksheet().set_name("明细").map_err(x)?;
        let head = [
            "编码",
            "类别",
            "项目",
            "服务日期",
            "老人编号",
            "金额(分)",
            "调整",
        ];
        for (c, h) in head.iter().enumerate() {
            s.write_string(0, c as u16, *h).map_err(x)?;
        }
        let mut row = 1u32;
        for c in &r.claims {
            for l in &c.lines {
                s.write_string(row, 0, &c.party).map_err(x)?;
                s.write_string(row, 1, l.kind.label_zh()).map_err(x)?;
                s.write_string(row, 2, &l.item).map_err(x)?;
                s.write_string(row, 3, l.service_date.to_string())
                    .map_err(x)?;
                s.write_number(row, 4, l.elder_id as f64).map_err(x)?;
                s.write_number(row, 5, l.amount_fen as f64).map_err(x)?;
                s.write_string(row, 6, if l.adjustment { "是" } else { "否" })
                    .map_err(x)?;
                row += 1;
            }
        }
    }
    wb.save_to_buffer().map_err(x)
}

fn status_zh(s: &str) -> &'static str {
    match s {
        "approved" => "已审核",
        "prepared" => "待审核",
        _ => "草稿",
    }
}

/// A claim by id, for its party (a provider its own) or the 民政 office.
pub async fn claim(app: &App, user: &User, id: i64) -> AppResult<ClaimState> {
    let c = app
        .store
        .get_case::<Claim>(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if user.role == jiesu_domain::Role::Provider {
        require(user, Capability::ProviderDesk)?;
        if user.unit_code.as_deref() != Some(c.party.as_str()) {
            return Err(AppError::not_found());
        }
    } else {
        require(user, Capability::SettleCare)?;
    }
    Ok(c)
}
