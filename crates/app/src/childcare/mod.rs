//! 一老一小 (3): childcare use cases — institutions and places, applications (a kind of case on
//! the one engine), allocation rounds with a published seed, the waiting list and its offer
//! clock, enrolments, 医育结合 health checks and the monthly 普惠 subsidy.
//!
//! Every function acting for a person checks its `Capability` first; the domain then decides
//! each case command (`jiesu_domain::childcare::application`). A parent reaches an application
//! only with its number and a guardian's phone (like the care family portal).

pub mod applications;
pub mod health;
pub mod institutions;
pub mod rounds;
pub mod subsidy;

use crate::App;
use crate::error::{AppError, AppResult};
use jiesu_domain::childcare::ChildcareApplication;
use jiesu_domain::childcare::application::{ApplicationState, ChildcareRules};
use jiesu_domain::{Actor, Role};
use jiesu_store::CaseQuery;

/// The rules in force (data: the national band table, the demo priority weights, 5 choices,
/// 7 days to accept).
pub fn rules() -> ChildcareRules {
    ChildcareRules::default()
}

/// The system, for rounds and the waiting list.
pub(crate) fn system() -> Actor {
    Actor {
        user_id: None,
        username: "system".into(),
        role: Role::System,
        unit: None,
    }
}

/// The deployment's local date now.
pub(crate) fn today(app: &App) -> jiff::civil::Date {
    jiesu_domain::childcare::application::today(app.now())
}

/// Every application in `statuses` (all when empty), by code.
pub(crate) async fn all_applications(
    app: &App,
    statuses: &[&str],
) -> AppResult<Vec<ApplicationState>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let q = CaseQuery {
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            limit: 500,
            offset,
            oldest_first: true,
            ..CaseQuery::default()
        };
        let (page, _) = app.store.list_cases::<ChildcareApplication>(&q).await?;
        let n = page.len();
        out.extend(page);
        if n < 500 {
            break;
        }
        offset += 500;
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// The application with this number (404 when there is none).
pub(crate) async fn by_code(app: &App, code: &str) -> AppResult<ApplicationState> {
    app.store
        .case_by_code::<ChildcareApplication>(code)
        .await?
        .ok_or_else(AppError::not_found)
}
