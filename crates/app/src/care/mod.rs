//! 一老一小 (1): elder care use cases — the registry, the provider network, service orders (a
//! kind of case on the one engine), meals, monthly settlement and the supply–demand view.
//!
//! Every function acting for a person checks its `Capability` first. Identities in the
//! registry are sealed by the store; here they are masked for roles that do not need them and
//! every unmasked view is audited (条例 Art.8/35, 个人信息保护法 Art.28 for health data).

pub mod meals;
pub mod network;
pub mod orders;
pub mod registry;
pub mod settle;
pub mod supply;

use crate::App;
use crate::error::{AppError, AppResult};

/// The deployment's local date now.
pub(crate) fn today(app: &App) -> jiff::civil::Date {
    let tz = &app.dir.calendar;
    tz.local_date(app.now())
}

/// A page of results with the total.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

/// Checks a page request (1–500 a page).
pub(crate) fn page_args(limit: Option<u32>, offset: Option<u32>) -> AppResult<(u32, u32)> {
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_query("limit", "1–500"));
    }
    Ok((limit, offset.unwrap_or(0)))
}
