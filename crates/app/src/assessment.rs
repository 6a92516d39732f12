//! 考评 of one period, grouped and ranked (definitions in `docs/assessment.md` and
//! `jiesu_domain::assessment`).

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Directory;
use jiesu_domain::assessment::{self, Assessment, GroupBy, Period};
use jiesu_store::User;
use jiesu_world::AssessmentWeights;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    /// `2026-10`, `2026-W43`, `2026-Q4`, `2026` or `2026-10-05`.
    pub period: Option<String>,
    /// unit (default), street, category, top_category, channel.
    pub by: Option<String>,
    /// RFC 3339; default now.
    pub as_of: Option<String>,
    /// How many groups at the bottom to flag; default 3.
    pub bottom: Option<usize>,
}

#[derive(Serialize)]
pub struct AssessmentView {
    #[serde(flatten)]
    pub assessment: Assessment,
    pub weights: AssessmentWeights,
}

fn bad(field: &str, msg: &str) -> AppError {
    AppError::bad_query(field, msg)
}

/// Parses the query parameters into a domain query's parts.
pub fn parse(
    q: &AssessmentQuery,
    now: Timestamp,
) -> AppResult<(Period, GroupBy, Timestamp, usize)> {
    let period = q.period.as_deref().and_then(Period::parse).ok_or_else(|| {
        bad(
            "period",
            "one of 2026-10, 2026-W43, 2026-Q4, 2026, 2026-10-05",
        )
    })?;
    let by = match q.by.as_deref() {
        None => GroupBy::Unit,
        Some(s) => s
            .parse()
            .map_err(|()| bad("by", "one of unit, street, category, top_category, channel"))?,
    };
    let as_of = match q.as_of.as_deref() {
        None => now,
        Some(s) => s.parse::<Timestamp>().map_err(|_| {
            bad(
                "as_of",
                "an RFC 3339 instant, e.g. 2026-11-05T00:00:00+08:00",
            )
        })?,
    };
    let bottom = q.bottom.unwrap_or(3);
    if bottom > 1000 {
        return Err(bad("bottom", "at most 1000"));
    }
    Ok((period, by, as_of, bottom))
}

/// How the assessment is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// From the assessment facts the store keeps in step with the events (the default).
    Facts,
    /// By replaying every event log of the period (`assessment::assess`): the reference the
    /// facts are tested against; slow on a large period.
    Replay,
}

/// Computes the assessment from the store's facts and names the groups from the world.
pub async fn compute(
    store: &jiesu_store::Store,
    dir: &Directory,
    period: Period,
    by: GroupBy,
    as_of: Timestamp,
    bottom: usize,
) -> AppResult<AssessmentView> {
    compute_with(Method::Facts, store, dir, period, by, as_of, bottom).await
}

/// `compute`, choosing the method.
pub async fn compute_with(
    method: Method,
    store: &jiesu_store::Store,
    dir: &Directory,
    period: Period,
    by: GroupBy,
    as_of: Timestamp,
    bottom: usize,
) -> AppResult<AssessmentView> {
    // Read first: the query holds a `&dyn Fn`, which must not live across an await (the
    // handler's future has to be Send).
    enum Input {
        Counts(Vec<assessment::GroupScore>),
        Logs(Vec<assessment::RequestLog>),
    }
    let input = match method {
        Method::Facts => Input::Counts(
            store
                .assessment_counts(period.start, period.end, as_of, by)
                .await?,
        ),
        Method::Replay => Input::Logs(
            store
                .assessment_logs(period.start, period.end, as_of)
                .await?,
        ),
    };
    let weights = dir.world.weights.clone();
    let top = |c: &str| dir.top_category(c).to_string();
    let q = assessment::Query {
        period,
        as_of,
        by,
        weights: &weights,
        bottom,
        top_category: &top,
    };
    let mut a = match input {
        Input::Counts(counts) => assessment::assemble(counts, &q),
        Input::Logs(logs) => assessment::assess(&logs, &q),
    };
    for g in &mut a.groups {
        g.name = match by {
            GroupBy::Unit => dir.unit(&g.key).map(|u| u.name.clone()),
            GroupBy::Street => dir.street(&g.key).map(|s| s.name.clone()),
            GroupBy::Category | GroupBy::TopCategory => {
                dir.category(&g.key).map(|c| c.name.clone())
            }
            GroupBy::Channel => g
                .key
                .parse::<jiesu_domain::Channel>()
                .ok()
                .map(|c| c.label_zh().to_string()),
        };
    }
    Ok(AssessmentView {
        assessment: a,
        weights,
    })
}

/// The assessment `q` asks for, for someone who may see it.
pub async fn get(app: &App, user: &User, q: &AssessmentQuery) -> AppResult<AssessmentView> {
    require(user, Capability::ViewAssessment)?;
    let (period, by, as_of, bottom) = parse(q, app.now())?;
    compute(&app.store, &app.dir, period, by, as_of, bottom).await
}
