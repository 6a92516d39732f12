//! The monthly 普惠 subsidy per institution: per enrolled child-month, pro-rated by enrolled
//! days, in integer fen, from the enrolment spells the applications' states give
//! (`EnrolmentSpell::of`); an approved month is locked and read back as approved.

use super::all_applications;
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::childcare::application::ApplicationStatus;
use jiesu_domain::childcare::subsidy::{EnrolmentSpell, Settlement, SubsidyRules, settle_month};
use jiesu_store::User;
use serde::Serialize;

/// A month's settlement and whether it is approved (locked).
#[derive(Debug, Clone, Serialize)]
pub struct MonthSettlement {
    #[serde(flatten)]
    pub settlement: Settlement,
    pub approved: bool,
    pub approved_by: Option<String>,
    /// The enrolment spells it was computed from.
    pub spells: Vec<EnrolmentSpell>,
}

/// The subsidy rules in force (data).
pub fn subsidy_rules() -> SubsidyRules {
    SubsidyRules::demo()
}

/// The settlement of `institution` for `month` (`YYYY-MM`).
pub async fn settle(
    app: &App,
    user: &User,
    institution: &str,
    month: &str,
) -> AppResult<MonthSettlement> {
    require(user, Capability::ManageChildcare)?;
    let first = jiesu_domain::care::claim::parse_month("month", month)?;
    let inst = app
        .store
        .institution(institution)
        .await?
        .ok_or_else(AppError::not_found)?;
    let held = [ApplicationStatus::Enrolled, ApplicationStatus::Left].map(|s| s.as_str());
    let spells: Vec<EnrolmentSpell> = all_applications(app, &held)
        .await?
        .iter()
        .filter_map(EnrolmentSpell::of)
        .filter(|s| s.institution == institution)
        .collect();
    if let Some(a) = app
        .store
        .childcare_settlement(institution, &jiesu_domain::care::claim::month_of(first))
        .await?
    {
        return Ok(MonthSettlement {
            settlement: a.settlement,
            approved: true,
            approved_by: Some(a.approved_by),
            spells,
        });
    }
    let settlement = settle_month(&inst.data, &spells, first, &subsidy_rules())?;
    Ok(MonthSettlement {
        settlement,
        approved: false,
        approved_by: None,
        spells,
    })
}

/// Approves (locks) the month as computed now; a second approval is refused (409).
pub async fn approve(
    app: &App,
    user: &User,
    institution: &str,
    month: &str,
) -> AppResult<MonthSettlement> {
    let mut s = settle(app, user, institution, month).await?;
    if s.approved {
        return Err(AppError::new(
            crate::error::ErrorKind::Conflict,
            "month_locked",
            "the month is already approved",
        )
        .with_field("month"));
    }
    app.store
        .approve_childcare_settlement(&s.settlement, &user.username, app.now())
        .await?;
    s.approved = true;
    s.approved_by = Some(user.username.clone());
    Ok(s)
}

/// The month as a workbook: one row per enrolled child (application, child, band, days, first
/// and last day, city, district and total fen) and a totals row; the same numbers as the JSON.
pub fn to_xlsx(m: &MonthSettlement) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let x = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    let st = &m.settlement;
    let s = wb.add_worksheet().set_name("托育补贴").map_err(x)?;
    let head = [
        "申请编号",
        "儿童",
        "班型",
        "在托天数",
        "起",
        "止",
        "市级补贴(分)",
        "区级补贴(分)",
        "合计(分)",
    ];
    for (c, h) in head.iter().enumerate() {
        s.write_string(0, c as u16, *h).map_err(x)?;
    }
    for (i, l) in st.lines.iter().enumerate() {
        let row = (i + 1) as u32;
        s.write_string(row, 0, &l.application).map_err(x)?;
        s.write_string(row, 1, &l.child_ref).map_err(x)?;
        s.write_string(row, 2, l.band.label_zh()).map_err(x)?;
        s.write_number(row, 3, f64::from(l.days)).map_err(x)?;
        s.write_string(row, 4, l.first_day.to_string()).map_err(x)?;
        s.write_string(row, 5, l.last_day.to_string()).map_err(x)?;
        for (col, v) in [l.city_fen, l.district_fen, l.total_fen].iter().enumerate() {
            s.write_number(row, (6 + col) as u16, *v as f64)
                .map_err(x)?;
        }
    }
    let row = (st.lines.len() + 1) as u32;
    s.write_string(row, 0, format!("{} {} 合计", st.institution, st.month))
        .map_err(x)?;
    s.write_number(row, 3, f64::from(st.totals.child_days))
        .map_err(x)?;
    for (col, v) in [
        st.totals.city_fen,
        st.totals.district_fen,
        st.totals.total_fen,
    ]
    .iter()
    .enumerate()
    {
        s.write_number(row, (6 + col) as u16, *v as f64)
            .map_err(x)?;
    }
    wb.save_to_buffer().map_err(x)
}
