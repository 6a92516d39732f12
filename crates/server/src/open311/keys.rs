//! Open311 client API keys (`jiesu_app::open311`): the admin routes.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use jiesu_store::ApiKey;
use serde::Deserialize;

pub use jiesu_app::open311::{IssuedKey, KEY_PREFIX, KeyRefusal, check_key, check_name, issue};

/// `/api/v1/open311/keys…`, merged into the `/api/v1` router.
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/open311/keys", get(list).post(create))
        .route("/open311/keys/{id}/revoke", post(revoke))
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<ApiKey>>> {
    Ok(Json(jiesu_app::open311::keys(&app, &user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    pub name: String,
}

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    crate::ApiJson(body): crate::ApiJson<CreateKeyBody>,
) -> ApiResult<(StatusCode, Json<IssuedKey>)> {
    let issued = jiesu_app::open311::issue_for(&app, &user, &body.name).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub async fn revoke(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<ApiKey>> {
    // The policy first: a refused role learns nothing about ids.
    jiesu_app::require(&user, jiesu_app::Capability::ManageApiKeys)?;
    let Path(id) = id?;
    Ok(Json(jiesu_app::open311::revoke(&app, &user, id).await?))
}
