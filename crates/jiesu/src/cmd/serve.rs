//! `jiesu serve`: opens the database, puts the world in force and serves; `serve` is shared
//! with `jiesu demo`.

use crate::open_app;
use anyhow::{Context, Result};
use jiesu_app::App;
use jiesu_server::AppState;
use std::path::PathBuf;
use std::time::Duration;

/// The PEM files of `--tls-cert` and `--tls-key` (clap makes sure both or neither are given).
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: String,
    bind: String,
    world: Option<PathBuf>,
    sweep_every: u64,
    index: Option<PathBuf>,
    webhook_lease_secs: u64,
    tls: Option<TlsFiles>,
) -> Result<()> {
    // A bad certificate or key is reported before the database is opened or migrated.
    let tls = tls
        .map(|t| jiesu_server::tls::load_config(&t.cert, &t.key))
        .transpose()?;
    let app = open_app(&db, world.as_deref()).await?;
    serve_with(app, &bind, sweep_every, index, webhook_lease_secs, tls).await
}

/// Starts the background workers (search index, SLA sweeper, webhook delivery, model
/// watcher) and serves plain http until Ctrl-C or SIGTERM.
pub async fn serve(
    app: App,
    bind: &str,
    sweep_every: u64,
    index: Option<PathBuf>,
    webhook_lease_secs: u64,
) -> Result<()> {
    serve_with(app, bind, sweep_every, index, webhook_lease_secs, None).await
}

/// An on/off environment variable: `1` or `true` is on, unset is off, anything else an error
/// (a typo must not silently turn a security setting off).
fn env_flag(name: &str) -> Result<bool> {
    match std::env::var(name) {
        Err(_) => Ok(false),
        Ok(v) => match v.as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" | "" => Ok(false),
            _ => anyhow::bail!("{name}={v}: 1 or 0"),
        },
    }
}

/// [`serve`], over TLS when `tls` is given (HSTS and `Secure` cookies then).
pub async fn serve_with(
    app: App,
    bind: &str,
    sweep_every: u64,
    index: Option<PathBuf>,
    webhook_lease_secs: u64,
    tls: Option<std::sync::Arc<jiesu_server::tls::ServerConfig>>,
) -> Result<()> {
    let mut state = AppState::from_app(app);
    // Behind a reverse proxy that sets X-Forwarded-For (see docs/security.md), login throttling
    // and the audit log use the address it reports; never set this on a directly exposed port.
    state.trust_proxy = std::env::var("JIESU_TRUST_PROXY").is_ok_and(|v| v == "1" || v == "true");
    // A proxy in front terminates TLS: the server speaks http to it, but clients are on https,
    // so HSTS is sent and cookies are Secure all the same.
    state.public_https = tls.is_some() || env_flag("JIESU_PUBLIC_HTTPS")?;
    if let Ok(t) = std::env::var("JIESU_METRICS_TOKEN") {
        // A scraper's secret: long enough that it cannot be guessed over the network.
        anyhow::ensure!(
            t.len() >= 16 && t.is_ascii() && !t.contains(char::is_whitespace),
            "JIESU_METRICS_TOKEN: at least 16 printable ASCII characters, no spaces"
        );
        state.metrics_token = Some(t);
    }
    if let Ok(v) = std::env::var("JIESU_SESSION_IDLE_MINS") {
        let mins: i64 = v
            .parse()
            .ok()
            .filter(|m| (1..=24 * 60).contains(m))
            .with_context(|| format!("JIESU_SESSION_IDLE_MINS={v}: minutes, 1 to 1440"))?;
        state.session_idle = jiff::SignedDuration::from_mins(mins);
    }
    if let Some(path) = &index {
        let idx = jiesu_text::search::SearchIndex::open(path)
            .with_context(|| format!("opening the index {}", path.display()))?;
        state.app.search = Some(std::sync::Arc::new(idx));
    }
    if let Some(idx) = state.search.clone() {
        // An in-memory index starts empty; an on-disk one is trusted when it has documents
        // (`jiesu reindex` rebuilds it). The rebuild runs beside serving: until it is done,
        // `?q=` falls back to substring match for words the index does not know yet.
        if index.is_none() || idx.num_docs() == 0 {
            let app = state.app.clone();
            let idx = idx.clone();
            tokio::spawn(async move {
                match jiesu_server::search::rebuild_for(&app, &idx).await {
                    Ok(r) => tracing::info!(
                        docs = r.docs,
                        docs_per_second = r.docs_per_second,
                        "search index built"
                    ),
                    Err(e) => tracing::warn!(error = %e, "search index build failed"),
                }
            });
        }
        // Commits are batched: one per second at most, only after writes.
        jiesu_server::search::spawn_committer(idx, Duration::from_secs(1));
    }
    jiesu_server::spawn_sla_sweeper(state.clone(), Duration::from_secs(sweep_every.max(1)));
    // 一键呼: the alarms' acknowledgement clocks and escalation chains tick every second (the
    // SLA sweep's minute is far too coarse for a 60 s clock); devices' liveness with them.
    jiesu_app::alarms::spawn_clock(state.app.clone(), Duration::from_secs(1));
    // The devices' broker (JIESU_MQTT=mqtt://host:port); the client id must stay the same
    // across restarts so the broker keeps what arrived while this server was down.
    if let Ok(url) = std::env::var("JIESU_MQTT") {
        let id = std::env::var("JIESU_MQTT_CLIENT_ID").unwrap_or_else(|_| "jiesu-server".into());
        let cfg = jiesu_server::mqtt::MqttConfig::from_url(&url, &id)
            .map_err(|e| anyhow::anyhow!("JIESU_MQTT: {e}"))?;
        jiesu_server::mqtt::spawn(state.app.clone(), cfg);
    }
    // Events out: fans the outbox out to webhooks and delivers (safe beside other servers).
    jiesu_server::spawn_event_delivery(&state, {
        let lease = Duration::from_secs(webhook_lease_secs.max(2));
        jiesu_server::events::DeliveryConfig {
            lease,
            // A request to a receiver must end well inside its lease.
            timeout: Duration::from_secs(10).min(lease / 2),
            ..Default::default()
        }
    });
    // Loads the text services at once, then picks up models `jiesu train` stores.
    jiesu_server::api::suggest::spawn_model_watcher(state.app.clone(), Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let addr = listener.local_addr()?;
    match tls {
        Some(cfg) => {
            println!("jiesu serving on https://{addr} ({})", state.backend());
            jiesu_server::serve_tls(listener, cfg, state, shutdown_signal()).await?;
        }
        None => {
            println!("jiesu serving on http://{addr} ({})", state.backend());
            jiesu_server::serve(listener, state, shutdown_signal()).await?;
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what systemd, Docker and Kubernetes send to stop a
/// service): either way the server stops accepting and lets in-flight answers (an export, a
/// filing) finish before the process ends.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM handler unavailable; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: draining in-flight requests");
}
