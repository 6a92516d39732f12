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
