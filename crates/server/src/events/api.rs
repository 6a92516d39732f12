//! Admin API of webhook subscribers: create (the secret is shown once), list with delivery
//! counts, disable, dead letters and their retry. Every change is written to the audit log.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::{ApiJson, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiesu_store::{AuditEntry, DeadLetter, User, Webhook};
use serde::{Deserialize, Serialize};

fn require_admin(user: &User) -> ApiResult<()> {
    Ok(jiesu_app::require(
        user,
        jiesu_app::Capability::ManageWebhooks,
    )?)
}

async fn audit(
    app: &AppState,
    user: &User,
    action: &str,
    target: String,
    detail: String,
) -> ApiResult<()> {
    app.store
        .audit(&AuditEntry {
            at: app.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().into(),
            action: action.into(),
            target_type: "webhook".into(),
            target_id: target,
            detail: Some(detail),
        })
        .await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub name: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct Created {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Signs every delivery (`X-Jiesu-Signature`); shown this once and never again.
    pub secret: String,
}

/// Checks a receiver URL: `http` (intranet receivers) or `https` (rustls, with the system's
/// root certificates).
pub fn check_url(url: &str) -> ApiResult<reqwest::Url> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
        ApiError::invalid("url", "invalid_url", format!("not an absolute URL: {e}"))
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(ApiError::invalid(
                "url",
                "unsupported_scheme",
                format!("scheme `{other}`: use http:// or https://"),
            ));
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "url",
            "invalid_url",
            "the URL has no host",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in a URL end up in logs and lists; the signature authenticates us.
        return Err(ApiError::invalid(
            "url",
            "invalid_url",
            "no user:password in the URL; receivers verify X-Jiesu-Signature instead",
        ));
    }
    Ok(parsed)
}

fn new_secret() -> ApiResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(ApiError::internal)?;
    Ok(format!(
        "whsec_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

pub async fn create(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let created = create_webhook(&app, &user, &body.name, &body.url).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Validates, stores and audits a new subscriber (API and web admin page alike).
pub(crate) async fn create_webhook(
    app: &AppState,
    user: &User,
    name: &str,
    url: &str,
) -> ApiResult<Created> {
    require_admin(user)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "invalid_name",
            "1–100 characters",
        ));
    }
    if url.len() > 2000 {
        return Err(ApiError::invalid(
            "url",
            "invalid_url",
            "at most 2,000 characters",
        ));
    }
    let url = check_url(url)?;
    let secret = new_secret()?;
    let webhook = app
        .store
        .create_webhook(name, url.as_str(), &secret, &user.username, app.now())
        .await?;
    audit(
        app,
        user,
        "create_webhook",
        webhook.id.to_string(),
        format!("{} → {}", webhook.name, webhook.url),
    )
    .await?;
    Ok(Created { webhook, secret })
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Webhook>>> {
    require_admin(&user)?;
    Ok(Json(app.store.webhooks().await?))
}

pub async fn disable(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Webhook>> {
    let Path(id) = id?;
    Ok(Json(disable_webhook(&app, &user, id).await?))
}

/// Stops deliveries to a subscriber, audited.
pub(crate) async fn disable_webhook(app: &AppState, user: &User, id: i64) -> ApiResult<Webhook> {
    require_admin(user)?;
    let webhook = app.store.disable_webhook(id, app.now()).await?;
    audit(
        app,
        user,
        "disable_webhook",
        id.to_string(),
        webhook.name.clone(),
    )
    .await?;
    Ok(webhook)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    pub webhook_id: Option<i64>,
    /// Paging: dead letters with a smaller id than this (the last one of the previous page).
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

pub async fn dead_letters(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<DeadLetterQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    let Query(q) = q?;
    require_admin(&user)?;
    if q.limit.is_some_and(|l| l == 0 || l > 500) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "limit",
            "between 1 and 500",
        ));
    }
    Ok(Json(
        app.store
            .dead_letters(q.webhook_id, q.before, q.limit.unwrap_or(100))
            .await?,
    ))
}

#[derive(Serialize)]
pub struct Retried {
    /// Dead letters put back in the queue with fresh attempts.
    pub retried: u64,
}

pub async fn retry_one(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Json<Retried>> {
    let Path(id) = id?;
    let n = retry_dead_letter(&app, &user, id).await?;
    Ok(Json(Retried { retried: n }))
}

/// Puts one dead letter back in the queue with fresh attempts, audited; 404 when there is none.
pub(crate) async fn retry_dead_letter(app: &AppState, user: &User, id: i64) -> ApiResult<u64> {
    require_admin(user)?;
    let n = app
        .store
        .retry_dead_letters(Some(id), None, app.now())
        .await?;
    if n == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no dead letter {id}"),
        ));
    }
    audit(
        app,
        user,
        "retry_dead_letter",
        format!("delivery:{id}"),
        "1 dead letter".into(),
    )
    .await?;
    Ok(n)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RetryAllQuery {
    /// Only this webhook's dead letters (default: all).
    pub webhook_id: Option<i64>,
}

pub async fn retry_all(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    q: Result<Query<RetryAllQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Retried>> {
    let Query(q) = q?;
    let n = retry_dead_letters(&app, &user, q.webhook_id).await?;
    Ok(Json(Retried { retried: n }))
}

/// Puts every dead letter (of one subscriber, or all) back in the queue, audited.
pub(crate) async fn retry_dead_letters(
    app: &AppState,
    user: &User,
    webhook_id: Option<i64>,
) -> ApiResult<u64> {
    require_admin(user)?;
    let n = app
        .store
        .retry_dead_letters(None, webhook_id, app.now())
        .await?;
    let target = webhook_id.map_or_else(|| "all".to_string(), |w| w.to_string());
    audit(
        app,
        user,
        "retry_dead_letters",
        target,
        format!("{n} dead letters"),
    )
    .await?;
    Ok(n)
}

#[cfg(test)]
mod url_tests {
    use super::check_url;

    #[test]
    fn http_and_https_receivers_are_accepted_other_schemes_not() {
        assert!(check_url("http://10.0.0.5:8080/hook").is_ok());
        assert!(check_url("https://hooks.example.gov.cn/jiesu").is_ok());
        let e = check_url("ftp://example.org/h").unwrap_err();
        assert_eq!(e.body.code, "unsupported_scheme");
        assert!(check_url("https://user:pw@example.org/h").is_err());
    }
}
