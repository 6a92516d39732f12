//! 医育结合: health checks of enrolled children, recorded by their institution, and the due
//! checks per child from the national schedule.

use super::{by_code, today};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Role;
use jiesu_domain::childcare::application::ApplicationStatus;
use jiesu_domain::childcare::health::{DueCheck, HealthCheck, due_checks};
use jiesu_store::User;
use jiesu_store::childcare::HealthRecord;
use serde::Serialize;

/// Records a check of an enrolled child; only its institution's staff (or the 卫健委 desk).
pub async fn record(
    app: &App,
    user: &User,
    code: &str,
    h: &HealthCheck,
) -> AppResult<HealthRecord> {
    require(user, Capability::NurseryDesk)?;
    let st = by_code(app, code).await?;
    let inst = st.institution().unwrap_or_default().to_string();
    if user.role == Role::Nursery && user.unit_code.as_deref() != Some(inst.as_str()) {
        return Err(AppError::not_found());
    }
    if st.status != ApplicationStatus::Enrolled {
        return Err(AppError::new(
            crate::error::ErrorKind::Refused,
            "not_enrolled",
            "health checks are recorded for enrolled children",
        ));
    }
    h.check(st.birth_date, app.now())?;
    let mut rec = HealthRecord {
        id: 0,
        application: st.code.clone(),
        child_ref: st.child_ref.clone(),
        institution: inst,
        check: HealthCheck {
            notes: h.notes.trim().to_string(),
            ..h.clone()
        },
        recorded_by: user.username.clone(),
        created_at: app.now(),
    };
    rec.id = app.store.add_health_check(&rec).await?;
    Ok(rec)
}

/// A child's checks and what is due.
#[derive(Debug, Clone, Serialize)]
pub struct ChildHealth {
    pub application: String,
    pub checks: Vec<HealthRecord>,
    pub due: Vec<DueCheck>,
}

pub async fn of_child(app: &App, user: &User, code: &str) -> AppResult<ChildHealth> {
    require(user, Capability::NurseryDesk)?;
    let st = by_code(app, code).await?;
    if user.role == Role::Nursery && user.unit_code.as_deref() != st.institution() {
        return Err(AppError::not_found());
    }
    let checks = app.store.health_checks(Some(&st.code), None).await?;
    let done: Vec<_> = checks.iter().map(|c| c.check.date).collect();
    Ok(ChildHealth {
        application: st.code.clone(),
        due: due_checks(st.birth_date, &done, today(app)),
        checks,
    })
}
