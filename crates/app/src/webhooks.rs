//! Webhook subscribers: create (the secret is shown once), list, disable, dead letters and
//! their retry; every change is written to the audit log. Administrators only.

use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Capability, require};
use jiesu_store::{DeadLetter, User, Webhook};
use serde::{Deserialize, Serialize};

fn require_admin(user: &User) -> AppResult<()> {
    require(user, Capability::ManageWebhooks)
}

/// Every change to a subscriber is written to the audit log.
async fn audit(
    app: &App,
    user: &User,
    action: &str,
    target: String,
    detail: String,
) -> AppResult<()> {
    crate::accounts::audit(app, user, action, "webhook", target, Some(detail)).await
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
pub fn check_url(url: &str) -> AppResult<url::Url> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        AppError::invalid("url", "invalid_url", format!("not an absolute URL: {e}"))
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(AppError::invalid(
                "url",
                "unsupported_scheme",
                format!("scheme `{other}`: use http:// or https://"),
            ));
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid(
            "url",
            "invalid_url",
            "the URL has no host",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in a URL end up in logs and lists; the signature authenticates us.
        return Err(AppError::invalid(
            "url",
            "invalid_url",
            "no user:password in the URL; receivers verify X-Jiesu-Signature instead",
        ));
    }
    Ok(parsed)
}

fn new_secret() -> AppResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(AppError::internal)?;
    Ok(format!(
        "whsec_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

/// Validates, stores and audits a new subscriber (API and web admin page alike).
pub async fn create_webhook(app: &App, user: &User, name: &str, url: &str) -> AppResult<Created> {
    require_admin(user)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "invalid_name",
            "1–100 characters",
        ));
    }
    if url.len() > 2000 {
        return Err(AppError::invalid(
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

/// Stops deliveries to a subscriber, audited.
pub async fn disable_webhook(app: &App, user: &User, id: i64) -> AppResult<Webhook> {
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

#[derive(Serialize)]
pub struct Retried {
    /// Dead letters put back in the queue with fresh attempts.
    pub retried: u64,
}

/// Puts one dead letter back in the queue with fresh attempts, audited; 404 when there is none.
pub async fn retry_dead_letter(app: &App, user: &User, id: i64) -> AppResult<u64> {
    require_admin(user)?;
    let n = app
        .store
        .retry_dead_letters(Some(id), None, app.now())
        .await?;
    if n == 0 {
        return Err(AppError::new(
            ErrorKind::NotFound,
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

/// Puts every dead letter (of one subscriber, or all) back in the queue, audited.
pub async fn retry_dead_letters(app: &App, user: &User, webhook_id: Option<i64>) -> AppResult<u64> {
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

/// Every subscriber, with delivery counts.
pub async fn list(app: &App, user: &User) -> AppResult<Vec<Webhook>> {
    require_admin(user)?;
    Ok(app.store.webhooks().await?)
}

/// Dead letters, newest first: of one subscriber or all, before a delivery id, at most `limit`.
pub async fn dead_letters(
    app: &App,
    user: &User,
    webhook_id: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> AppResult<Vec<DeadLetter>> {
    require_admin(user)?;
    if limit == 0 || limit > 500 {
        return Err(AppError::bad_query("limit", "between 1 and 500"));
    }
    Ok(app.store.dead_letters(webhook_id, before, limit).await?)
}

#[cfg(test)]
mod url_tests {
    use super::check_url;

    #[test]
    fn http_and_https_receivers_are_accepted_other_schemes_not() {
        assert!(check_url("http://10.0.0.5:8080/hook").is_ok());
        assert!(check_url("https://hooks.example.gov.cn/jiesu").is_ok());
        let e = check_url("ftp://example.org/h").unwrap_err();
        assert_eq!(e.code, "unsupported_scheme");
        assert!(check_url("https://user:pw@example.org/h").is_err());
    }
}
