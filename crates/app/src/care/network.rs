//! The service network: providers (price list, coverage, weekly slots, carers) and meal
//! points, edited by the 民政 office; a provider sees and changes only its own.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, allows, require};
use jiesu_domain::Role;
use jiesu_store::User;
use jiesu_store::care::{Carer, MealPoint, Provider};
use std::collections::HashSet;

fn check_code(field: &str, code: &str) -> AppResult<()> {
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "bad_code",
            "2–32 letters, digits, '-' or '_'",
        ))
    }
}

fn check_text(field: &str, v: &str, max: usize) -> AppResult<()> {
    let n = v.trim().chars().count();
    if n == 0 {
        return Err(AppError::invalid(field, "empty", "must not be empty"));
    }
    if n > max {
        return Err(AppError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

fn check_place(app: &App, street: &str, community: &str) -> AppResult<()> {
    if app.dir.street(street).is_none() {
        return Err(AppError::invalid(
            "street",
            "unknown_street",
            "no such street",
        ));
    }
    match app.dir.community(community) {
        Some(c) if c.street_code == street => Ok(()),
        Some(_) => Err(AppError::invalid(
            "community",
            "community_not_in_street",
            "the community is not in this street",
        )),
        None => Err(AppError::invalid(
            "community",
            "unknown_community",
            "no such community",
        )),
    }
}

fn check_communities(app: &App, field: &str, list: &[String]) -> AppResult<()> {
    if list.is_empty() {
        return Err(AppError::invalid(
            field,
            "empty",
            "name at least one community",
        ));
    }
    let mut seen = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        if app.dir.community(c).is_none() {
            return Err(AppError::invalid(
                &format!("{field}[{i}]"),
                "unknown_community",
                "no such community",
            ));
        }
        if !seen.insert(c) {
            return Err(AppError::invalid(
                &format!("{field}[{i}]"),
                "duplicate",
                "listed twice",
            ));
        }
    }
    Ok(())
}

/// Validates a provider as a whole: prices in whole non-negative fen, co-payments within the
/// price, coverage that exists, weekly slots that do not overlap.
pub fn validate_provider(app: &App, p: &Provider) -> AppResult<()> {
    check_code("code", &p.code)?;
    check_text("name", &p.name, 100)?;
    check_place(app, &p.street, &p.community)?;
    if jiesu_domain::intake::normalize_phone(&p.phone).is_none() {
        return Err(AppError::invalid(
            "phone",
            "bad_phone",
            "not a Chinese phone number",
        ));
    }
    if p.services.is_empty() {
        return Err(AppError::invalid(
            "services",
            "empty",
            "name at least one service",
        ));
    }
    let mut seen = HashSet::new();
    for (i, s) in p.services.iter().enumerate() {
        let f = |x: &str| format!("services[{i}].{x}");
        if !seen.insert(s.service) {
            return Err(AppError::invalid(
                &f("service"),
                "duplicate",
                "listed twice",
            ));
        }
        if s.price_fen < 0 {
            return Err(AppError::invalid(
                &f("price_fen"),
                "negative_amount",
                "must not be negative",
            ));
        }
        if s.price_fen > 10_000_000 {
            return Err(AppError::invalid(
                &f("price_fen"),
                "amount_too_large",
                "at most 100000 元",
            ));
        }
        if s.copay_fen < 0 || s.copay_fen > s.price_fen {
            return Err(AppError::invalid(
                &f("copay_fen"),
                "bad_copay",
                "must be between 0 and the price",
            ));
        }
    }
    check_communities(app, "coverage", &p.coverage)?;
    for (i, s) in p.slots.iter().enumerate() {
        let f = |x: &str| format!("slots[{i}].{x}");
        if !(1..=7).contains(&s.weekday) {
            return Err(AppError::invalid(
                &f("weekday"),
                "bad_weekday",
                "1 (Monday) to 7",
            ));
        }
        if s.start_min >= s.end_min || s.end_min > 1440 {
            return Err(AppError::invalid(
                &f("end_min"),
                "slot_end_before_start",
                "the end must be after the start, within the day",
            ));
        }
        if !(1..=1000).contains(&s.capacity) {
            return Err(AppError::invalid(
                &f("capacity"),
                "bad_capacity",
                "1–1000 visits",
            ));
        }
        for (j, o) in p.slots.iter().enumerate().take(i) {
            if o.weekday == s.weekday && s.start_min < o.end_min && o.start_min < s.end_min {
                return Err(AppError::invalid(
                    &format!("slots[{i}]"),
                    "overlapping_slots",
                    format!("overlaps slots[{j}] on the same weekday"),
                ));
            }
        }
    }
    Ok(())
}

/// Whether `user` may edit provider `code`: the 民政 office any, a provider only itself.
fn may_edit(user: &User, code: &str) -> AppResult<()> {
    if allows(user.role, Capability::ManageCareNetwork) {
        return Ok(());
    }
    require(user, Capability::ProviderDesk)?;
    if user.unit_code.as_deref() == Some(code) {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

/// Creates or replaces a provider. A provider may change its own price list, slots and
/// contact, but not its coverage (the 民政 office contracts that) or its active flag.
pub async fn save_provider(app: &App, user: &User, p: &Provider) -> AppResult<()> {
    may_edit(user, &p.code)?;
    validate_provider(app, p)?;
    let mut p = p.clone();
    if user.role == Role::Provider {
        let old = provider(app, &p.code)
            .await?
            .ok_or_else(AppError::not_found)?;
        p.coverage = old.coverage;
        p.active = old.active;
    }
    app.store.save_provider(&p, app.now()).await?;
    crate::accounts::audit(
        app,
        user,
        "save_provider",
        "care_provider",
        p.code.clone(),
        None,
    )
    .await?;
    Ok(())
}

pub(crate) async fn provider(app: &App, code: &str) -> AppResult<Option<Provider>> {
    Ok(app
        .store
        .providers()
        .await?
        .into_iter()
        .find(|p| p.code == code))
}

/// The providers `user` may see: all for the 民政 office and 12345 staff, its own for a
/// provider.
pub async fn providers(app: &App, user: &User) -> AppResult<Vec<Provider>> {
    let all = app.store.providers().await?;
    if user.role == Role::Provider {
        require(user, Capability::ProviderDesk)?;
        return Ok(all
            .into_iter()
            .filter(|p| Some(&p.code) == user.unit_code.as_ref())
            .collect());
    }
    require(user, Capability::CreateCareOrders)
        .or_else(|_| require(user, Capability::ManageCareNetwork))?;
    Ok(all)
}

pub async fn add_carer(app: &App, user: &User, c: &Carer) -> AppResult<i64> {
    may_edit(user, &c.provider)?;
    check_text("name", &c.name, 50)?;
    if provider(app, &c.provider).await?.is_none() {
        return Err(AppError::invalid(
            "provider",
            "unknown_provider",
            "no such provider",
        ));
    }
    let id = app.store.add_carer(c).await?;
    crate::accounts::audit(
        app,
        user,
        "add_carer",
        "care_provider",
        c.provider.clone(),
        None,
    )
    .await?;
    Ok(id)
}

pub async fn carers(app: &App, user: &User, provider: &str) -> AppResult<Vec<Carer>> {
    may_edit(user, provider)?;
    Ok(app.store.carers(Some(provider)).await?)
}

pub fn validate_meal_point(app: &App, m: &MealPoint) -> AppResult<()> {
    check_code("code", &m.code)?;
    check_text("name", &m.name, 100)?;
    check_place(app, &m.street, &m.community)?;
    check_text("address", &m.address, 200)?;
    check_text("hours", &m.hours, 100)?;
    if !(1..=5000).contains(&m.capacity) {
        return Err(AppError::invalid(
            "capacity",
            "bad_capacity",
            "1–5000 diners a meal",
        ));
    }
    check_communities(app, "communities", &m.communities)
}

pub async fn save_meal_point(app: &App, user: &User, m: &MealPoint) -> AppResult<()> {
    require(user, Capability::ManageCareNetwork)?;
    validate_meal_point(app, m)?;
    app.store.save_meal_point(m, app.now()).await?;
    crate::accounts::audit(
        app,
        user,
        "save_meal_point",
        "care_meal_point",
        m.code.clone(),
        None,
    )
    .await?;
    Ok(())
}

pub async fn meal_points(app: &App, user: &User) -> AppResult<Vec<MealPoint>> {
    if user.role == Role::Provider {
        require(user, Capability::RecordMeals)?;
    } else {
        require(user, Capability::CreateCareOrders)
            .or_else(|_| require(user, Capability::ManageCareNetwork))
            .or_else(|_| require(user, Capability::ViewCareSupply))?;
    }
    Ok(app.store.meal_points().await?)
}
