//! 温度计 → 指挥棒: per community, the demand the hotline measures (elders, elder-care requests
//! of the last 12 months) against the supply the network gives (meal points, providers, orders
//! served and missed), and where demand is high and supply thin.

use crate::App;
use crate::error::AppResult;
use crate::policy::{Capability, require};
use jiesu_domain::CaseKind;
use jiesu_domain::care::order::{OrderStatus, ServiceOrder};
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
    let per = |n: i64, d: i64| {
        if d > 0 {
            (n as f64 * 1000.0 / d as f64 * 10.0).round() / 10.0
        } else {
            0.0
        }
    };
    let mut demand: Vec<f64> = Vec::new();
    for r in rows.values_mut() {
        r.requests_per_1000 = per(r.requests_total, r.elders);
        r.meal_points_per_1000 = per(r.meal_points, r.elders);
        if r.requests_total > 0 {
            demand.push(r.requests_per_1000);
        }
    }
    demand.sort_by(f64::total_cmp);
    let q3 = demand
        .get(demand.len() * 3 / 4)
        .copied()
        .unwrap_or(f64::INFINITY);
    for r in rows.values_mut() {
        if r.requests_total == 0 || r.requests_per_1000 < q3 {
            continue;
        }
        if r.providers == 0 {
            r.why.push("无服务商覆盖".into());
        }
        if r.elders > 0 && r.meal_points_per_1000 < 1.0 {
            r.why
                .push(format!("助餐点{:.1}个/千名老人", r.meal_points_per_1000));
        }
        let orders = r.orders_served + r.orders_missed;
        if orders > 0 && r.orders_missed * 10 > orders {
            r.why.push(format!("漏服务{}/{}", r.orders_missed, orders));
        }
        r.thin = !r.why.is_empty();
        if r.thin {
            r.why.insert(
                0,
                format!("诉求{:.1}件/千名老人，居前四分之一", r.requests_per_1000),
            );
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

/// The 民政 desk's monthly figures for one street (or the district: `street` empty).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CareKpis {
    pub street: String,
    pub street_name: String,
    /// Orders whose visit (or, unvisited, whose slot) falls in the month.
    pub orders: i64,
    pub visits_verified: i64,
    /// Verified visits started within 15 minutes of the slot's start.
    pub on_time: i64,
    pub on_time_share: Option<f64>,
    pub missed: i64,
    pub late_alerts: i64,
    pub ratings: i64,
    pub rating_avg: Option<f64>,
    pub meals: i64,
    pub meal_points_serving: i64,
    pub meals_per_point: Option<f64>,
}

/// Orders on time, missed visits, ratings and meals per point for `month`, per street and for
/// the district (the first row).
pub async fn kpis(app: &App, user: &User, month: &str) -> AppResult<Vec<CareKpis>> {
    require(user, Capability::ViewCareSupply)?;
    let m = jiesu_domain::care::claim::parse_month("month", month)?;
    let next = m
        .checked_add(jiff::Span::new().months(1))
        .map_err(crate::error::AppError::internal)?;
    let tz = app.dir.calendar.time_zone();
    let ts = |d: jiff::civil::Date| {
        tz.to_timestamp(d.at(0, 0, 0, 0))
            .map_err(crate::error::AppError::internal)
    };
    let (orders, _) = app
        .store
        .list_cases::<ServiceOrder>(&jiesu_store::CaseQuery {
            at_from: Some(ts(m)?),
            at_to: Some(ts(next)?),
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let mut by: BTreeMap<String, CareKpis> = BTreeMap::new();
    let district = String::new();
    for o in &orders {
        for key in [district.clone(), o.street.clone()] {
            let k = by.entry(key.clone()).or_insert_with(|| CareKpis {
                street: key.clone(),
                ..Default::default()
            });
            k.orders += 1;
            k.late_alerts += i64::from(o.alerts);
            if o.status == OrderStatus::Missed {
                k.missed += 1;
            }
            if let Some(v) = o.verified_visit() {
                k.visits_verified += 1;
                let on_time = o
                    .slot
                    .is_some_and(|s| v.started_at <= s.start + SignedDuration::from_mins(15));
                if on_time {
                    k.on_time += 1;
                }
            }
            if let Some(r) = &o.rating {
                k.ratings += 1;
                k.rating_avg = Some(k.rating_avg.unwrap_or(0.0) + f64::from(r.score));
            }
        }
    }
    let points = app.store.meal_points().await?;
    let meals = app.store.meals(None, None, m, next).await?;
    for p in &points {
        for key in [district.clone(), p.street.clone()] {
            let k = by.entry(key.clone()).or_insert_with(|| CareKpis {
                street: key.clone(),
                ..Default::default()
            });
            if p.active {
                k.meal_points_serving += 1;
            }
        }
    }
    let street_of: std::collections::HashMap<&str, &str> = points
        .iter()
        .map(|p| (p.code.as_str(), p.street.as_str()))
        .collect();
    for meal in meals.iter().filter(|x| !x.voided) {
        let street = street_of
            .get(meal.point.as_str())
            .copied()
            .unwrap_or_default();
        for key in [district.as_str(), street] {
            if let Some(k) = by.get_mut(key) {
                k.meals += 1;
            }
        }
    }
    let mut out: Vec<CareKpis> = by
        .into_values()
        .map(|mut k| {
            k.street_name = if k.street.is_empty() {
                "全区".into()
            } else {
                app.dir
                    .street(&k.street)
                    .map(|s| s.name.clone())
                    .unwrap_or_default()
            };
            k.on_time_share = (k.visits_verified > 0)
                .then(|| (k.on_time as f64 / k.visits_verified as f64 * 1000.0).round() / 10.0);
            k.rating_avg = k
                .rating_avg
                .map(|s| (s / k.ratings as f64 * 100.0).round() / 100.0);
            k.meals_per_point = (k.meal_points_serving > 0)
                .then(|| (k.meals as f64 / k.meal_points_serving as f64 * 10.0).round() / 10.0);
            k
        })
        .collect();
    out.sort_by(|a, b| a.street.cmp(&b.street));
    Ok(out)
}
