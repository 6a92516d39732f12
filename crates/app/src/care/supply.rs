//! 温度计 → 指挥棒: per community, the demand the hotline measures (elders, elder-care requests
//! of the last 12 months) against the supply the network gives (meal points, providers, orders
//! served and missed), and where demand is high and supply thin.

use crate::App;
use crate::error::AppResult;
use crate::policy::{Capability, require};
use jiesu_domain::care::order::{OrderStatus, ServiceOrder};
use jiesu_domain::CaseKind;
use jiesu_store::User;
use jiff::SignedDuration;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CommunityRow {
    pub community: String,
    pub community_name: String,
    pub street: String,
    pub street_name: String,
    pub elders: i64,
    pub elders_80: i64,
    pub living_alone: i64,
    /// Elder-care requests in the last 12 months, by category code.
    pub requests: BTreeMap<String, i64>,
    pub requests_total: i64,
    /// Requests per 1,000 registered elders.
    pub requests_per_1000: f64,
    pub meal_points: i64,
    pub meal_points_per_1000: f64,
    pub providers: i64,
    pub orders_served: i64,
    pub orders_missed: i64,
    /// Demand in the top quarter of communities while supply is thin: no provider covering, fewer
    /// than one meal point per 1,000 elders, or more than 10% of orders missed.
    pub thin: bool,
    pub why: Vec<String>,
}

pub async fn view(app: &App, user: &User) -> AppResult<Vec<CommunityRow>> {
    require(user, Capability::ViewCareSupply)?;
    let now = app.now();
    let since = now - SignedDuration::from_hours(24 * 365);
    let mut rows: BTreeMap<String, CommunityRow> = BTreeMap::new();
    for c in &app.dir.world.communities {
        let street_name = app
            .dir
            .street(&c.street_code)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        rows.insert(
            c.code.clone(),
            CommunityRow {
                community: c.code.clone(),
                community_name: c.name.clone(),
                street: c.street_code.clone(),
                street_name,
                ..Default::default()
            },
        );
    }
    for c in app.store.community_care(super::today(app)).await? {
        if let Some(r) = rows.get_mut(&c.community) {
            (r.elders, r.elders_80, r.living_alone) = (c.elders, c.elders_80, c.living_alone);
            (r.meal_points, r.providers) = (c.meal_points, c.providers);
        }
    }
    for (community, category, n) in app.store.requests_by_community(since, "elderly").await? {
        if let Some(r) = rows.get_mut(&community) {
            *r.requests.entry(category).or_default() += n;
            r.requests_total += n;
        }
    }
    for (community, status, n) in app.store.cases_by_region(ServiceOrder::KIND, since).await? {
        if let Some(r) = rows.get_mut(&community) {
            match status.parse::<OrderStatus>() {
                Ok(OrderStatus::VisitFinished | OrderStatus::Rated | OrderStatus::Settled) => {
                    r.orders_served += n
                }
                Ok(OrderStatus::Missed) => r.orders_missed += n,
                _ => {}
            }
        }
    }
    let per = |n: i64, d: i64| if d > 0 { (n as f64 * 1000.0 / d as f64 * 10.0).round() / 10.0 } else { 0.0 };
    let mut demand: Vec<f64> = Vec::new();
    for r in rows.values_mut() {
        r.requests_per_1000 = per(r.requests_total, r.elders);
        r.meal_points_per_1000 = per(r.meal_points, r.elders);
        if r.requests_total > 0 {
            demand.push(r.requests_per_1000);
        }
    }
    demand.sort_by(f64::total_cmp);
    let q3 = demand.get(demand.len() * 3 / 4).copied().unwrap_or(f64::INFINITY);
    for r in rows.values_mut() {
        if r.requests_total == 0 || r.requests_per_1000 < q3 {
            continue;
        }
        if r.providers == 0 {
            r.why.push("无服务商覆盖".into());
        }
        if r.elders > 0 && r.meal_points_per_1000 < 1.0 {
            r.why.push(format!("助餐点{:.1}个/千名老人", r.meal_points_per_1000));
        }
        let orders = r.orders_served + r.orders_missed;
        if orders > 0 && r.orders_missed * 10 > orders {
            r.why.push(format!("漏服务{}/{}", r.orders_missed, orders));
        }
        r.thin = !r.why.is_empty();
        if r.thin {
            r.why.insert(0, format!("诉求{:.1}件/千名老人，居前四分之一", r.requests_per_1000));
        }
    }
    let mut out: Vec<CommunityRow> = rows.into_values().collect();
    out.sort_by(|a, b| {
        b.thin
            .cmp(&a.thin)
            .then(b.requests_per_1000.total_cmp(&a.requests_per_1000))
            .then(a.community.cmp(&b.community))
    });
    Ok(out)
}
