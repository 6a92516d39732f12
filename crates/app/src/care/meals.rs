//! 父母食堂 meals: recorded at the till with the subsidy applied at payment.

use super::today;
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Role;
use jiesu_domain::care::meals::{Meal, MealInput, validate_meal};
use jiesu_store::{StoreError, User};

/// A meal point's staff (a provider account whose unit is the point) or the 民政 office.
fn may_record(user: &User, point: &str) -> AppResult<()> {
    require(user, Capability::RecordMeals)?;
    if user.role == Role::Provider && user.unit_code.as_deref() != Some(point) {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Records a meal: the elder registered, the point active and not full for that meal; the
/// elder's daily subsidy deducted when the rules say so; a second lunch (or dinner) the same day
/// refused naming `meal`.
pub async fn record(app: &App, user: &User, m: &MealInput) -> AppResult<Meal> {
    may_record(user, &m.point)?;
    validate_meal(m, today(app))?;
    let points = app.store.meal_points().await?;
    let point = points
        .iter()
        .find(|p| p.code == m.point && p.active)
        .ok_or_else(|| {
            AppError::invalid("point", "unknown_meal_point", "no such active meal point")
        })?;
    let same = app
        .store
        .meals(
            Some(&m.point),
            None,
            m.date,
            m.date.tomorrow().map_err(AppError::internal)?,
        )
        .await?
        .into_iter()
        .filter(|x| x.meal == m.meal && !x.voided)
        .count();
    if same as u32 >= point.capacity {
        return Err(AppError::invalid(
            "point",
            "point_full",
            "the meal point is full for this meal",
        ));
    }
    let rules = &app.dir.world.care;
    match app
        .store
        .add_meal(m, rules.elder_meal_subsidy_fen, &user.username, app.now())
        .await
    {
        Ok(meal) => Ok(meal),
        Err(StoreError::NotFound) => Err(AppError::invalid(
            "elder_id",
            "unknown_elder",
            "no such elder in the registry",
        )),
        Err(StoreError::Duplicate { .. }) => Err(AppError::new(
            crate::error::ErrorKind::Conflict,
            "duplicate_meal",
            "the elder already has this meal on this day",
        )
        .with_field("meal")),
        Err(e) => Err(e.into()),
    }
}

/// Voids a meal recorded in error (a claimed one is paid back in the next claim).
pub async fn void(app: &App, user: &User, point: &str, id: i64) -> AppResult<()> {
    may_record(user, point)?;
    app.store.void_meal(point, id).await?;
    crate::accounts::audit(app, user, "void_meal", "care_meal", id.to_string(), None).await?;
    Ok(())
}
