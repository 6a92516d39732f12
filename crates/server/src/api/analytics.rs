//! `/api/v1/analytics/…`: 主动治理 — hot spots, spikes, 每月一题 candidates, keyword trends,
//! the overdue list and persistent bottom flags, as HTTP over `jiesu_app::analytics`. Roles:
//! supervisor, admin, dispatcher.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};

pub use jiesu_app::analytics::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/analytics/hotspots", get(hotspots))
        .route("/analytics/spikes", get(spikes))
        .route("/analytics/recurring", get(recurring))
        .route("/analytics/keywords", get(keywords))
        .route("/analytics/overdue", get(overdue))
        .route("/analytics/flags", get(flags))
}

pub async fn hotspots(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<CellQuery>, QueryRejection>,
) -> ApiResult<Json<HotspotsView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::analytics::hotspots(&app, &user, &q).await?))
}

pub async fn spikes(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<CellQuery>, QueryRejection>,
) -> ApiResult<Json<SpikesView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::analytics::spikes(&app, &user, &q).await?))
}

pub async fn recurring(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<RecurringParams>, QueryRejection>,
) -> ApiResult<Json<RecurringView>> {
    let Query(q) = query?;
    Ok(Json(
        jiesu_app::analytics::recurring(&app, &user, &q).await?,
    ))
}

pub async fn keywords(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<KeywordParams>, QueryRejection>,
) -> ApiResult<Json<KeywordsView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::analytics::keywords(&app, &user, &q).await?))
}

pub async fn overdue(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<OverdueParams>, QueryRejection>,
) -> ApiResult<Json<OverdueView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::analytics::overdue(&app, &user, &q).await?))
}

pub async fn flags(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<FlagParams>, QueryRejection>,
) -> ApiResult<Json<FlagsView>> {
    let Query(q) = query?;
    Ok(Json(jiesu_app::analytics::flags(&app, &user, &q).await?))
}

// ------------------------------------------------------------------ OpenAPI

/// The analytics paths of the OpenAPI document (merged in by `openapi::spec`).
pub fn openapi_paths() -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    let param = |name: &str, required: bool, schema: serde_json::Value, description: &str| json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description});
    let period = |what: &str| param("period", true, json!({"type": "string"}), what);
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let number = json!({"type": "number"});
    let level = |default: &str| {
        param(
            "level",
            false,
            json!({"enum": ["community", "street", "district"], "default": default}),
            "place level of a cell",
        )
    };
    let cells = vec![
        period("2026-W43, 2026-10 or 2026-10-05"),
        level("street"),
        param(
            "baseline",
            false,
            json!({"enum": ["auto", "last_year", "trailing"]}),
            "auto: last year's same period ±1 when the history reaches back, else trailing",
        ),
        param(
            "trailing",
            false,
            integer.clone(),
            "trailing windows (default 8 weeks / 3 months / 28 days)",
        ),
        param("category", false, string.clone(), "only this leaf category"),
        param("limit", false, integer.clone(), "default 20"),
    ];
    let mut hot = cells.clone();
    hot.push(param(
        "sort",
        false,
        json!({"enum": ["count", "increase"]}),
        "default count",
    ));
    let mut spike = cells;
    spike.extend([
        param(
            "alpha",
            false,
            number.clone(),
            "largest Poisson p-value that alerts (default 0.001)",
        ),
        param(
            "min_count",
            false,
            integer.clone(),
            "fewest requests that may alert (default 5)",
        ),
        param(
            "sample",
            false,
            integer.clone(),
            "evidence requests per alert (default 10)",
        ),
    ]);
    let op = |summary: &str, params: Vec<serde_json::Value>| {
        json!({"get": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": {"description": "bad parameter (code bad_query, field named)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "not logged in"},
                "403": {"description": "only supervisor, admin and dispatcher"},
            },
        }})
    };
    vec![
        (
            "/api/v1/analytics/hotspots".into(),
            op(
                "主动治理 hot spots: category × place counts of a week/month/day with the change against the seasonal baseline, ranked (docs/analytics.md)",
                hot,
            ),
        ),
        (
            "/api/v1/analytics/spikes".into(),
            op(
                "spike alerts: cells whose count is improbable under Poisson(baseline mean), with p-value, score and evidence requests",
                spike,
            ),
        ),
        (
            "/api/v1/analytics/recurring".into(),
            op(
                "每月一题 candidates: the same category and place month after month, scored by volume, persistence, spread and 不满意 share, with the score explained",
                vec![
                    period("the last month, e.g. 2026-10"),
                    param(
                        "months",
                        false,
                        integer.clone(),
                        "months up to and including period (default 6)",
                    ),
                    level("community"),
                    param(
                        "min_months",
                        false,
                        integer.clone(),
                        "fewest months with requests (default half)",
                    ),
                    param(
                        "min_volume",
                        false,
                        integer.clone(),
                        "fewest requests (default 3)",
                    ),
                    param("limit", false, integer.clone(), "default 20"),
                ],
            ),
        ),
        (
            "/api/v1/analytics/keywords".into(),
            op(
                "keyword trends: words (jieba; stop words and place names skipped) whose share of requests rose most against the previous windows",
                vec![
                    period("2026-W43, 2026-10 or 2026-10-05"),
                    param(
                        "previous",
                        false,
                        integer.clone(),
                        "previous windows (default 4)",
                    ),
                    param("min_count", false, integer.clone(), "default 5"),
                    param("limit", false, integer.clone(), "default 30"),
                ],
            ),
        ),
        (
            "/api/v1/analytics/overdue".into(),
            op(
                "overdue list: requests whose completion deadline fell in the period and that were not replied by it, with unit, due and how late",
                vec![
                    period("any assessment period"),
                    param(
                        "as_of",
                        false,
                        json!({"type": "string", "format": "date-time"}),
                        "cut-off (default now)",
                    ),
                    param("unit", false, string.clone(), "only this lead unit"),
                    param("limit", false, integer.clone(), "default 100"),
                ],
            ),
        ),
        (
            "/api/v1/analytics/flags".into(),
            op(
                "治理类 candidates: groups below a threshold, or in the bottom N, for K consecutive months; beside the latest month's last-N flags",
                vec![
                    period("the latest month, e.g. 2026-10"),
                    param("months", false, integer.clone(), "K (default 3)"),
                    param(
                        "metric",
                        false,
                        json!({"enum": ["composite", "response_rate", "resolution_rate", "satisfaction_score"]}),
                        "default composite",
                    ),
                    param(
                        "threshold",
                        false,
                        number,
                        "0–100; without it only the bottom rule applies",
                    ),
                    param("bottom", false, integer, "N (default 3)"),
                    param(
                        "by",
                        false,
                        json!({"enum": ["unit", "street", "category", "top_category", "channel"]}),
                        "default unit",
                    ),
                    param(
                        "as_of",
                        false,
                        json!({"type": "string", "format": "date-time"}),
                        "default now",
                    ),
                ],
            ),
        ),
    ]
}
