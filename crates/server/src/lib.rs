//! The HTTP face of jiesu: `/api/v1` (JSON, described at `/api/v1/openapi.json`) and `/healthz`.
//!
//! Handlers are thin doors: parse, call one use case of `jiesu_app`, render the answer.

pub mod api;
pub mod auth;
pub mod error;
pub mod events;
pub mod metrics;
pub mod mqtt;
pub mod open311;
pub mod openapi;
pub mod search;
pub mod throttle;
pub mod tls;
pub mod views;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::routing::{get, post};
use jiesu_domain::Directory;
use jiesu_store::Store;
use std::sync::Arc;
use std::time::Duration;

pub use error::{ApiError, ApiResult};

/// Largest JSON body the API accepts (a request text is ≤ 10,000 characters).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub use jiesu_app::{App, Clock, LiveWorld};

/// What every handler gets: the application context, and what only the HTTP doors need
/// (the session cache and lengths, proxy trust, the web pages' short-lived data).
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy).
    pub trust_proxy: bool,
    /// Rate limits of the public doors (portal, Open311 POST).
    pub public_limits: Arc<throttle::RateLimiter>,
    pub sessions: Arc<auth::SessionCache>,
    /// How long a login lasts.
    pub session_ttl: jiff::SignedDuration,
    /// A session unused this long ends (等保: idle timeout), however long it had left.
    pub session_idle: jiff::SignedDuration,
    /// Page data the web UI keeps briefly (the dashboard's month).
    pub web_cache: Arc<web::WebCache>,
    /// Clients reach this server over https (it terminates TLS, or a proxy in front does):
    /// every answer carries HSTS and cookies are `Secure`.
    pub public_https: bool,
    /// With it, `/metrics` answers only `Authorization: Bearer <token>` (a scraper's secret);
    /// without it, only an administrator's API token.
    pub metrics_token: Option<String>,
    /// Request counts and latencies by route, for `/metrics`.
    pub http_metrics: Arc<metrics::HttpMetrics>,
}

/// Handlers reach the context's world, clock and services through the state.
impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(store: Store, dir: Directory, clock: Clock) -> Self {
        Self::from_app(App::new(store, dir, clock))
    }
    /// The server's state over a context the caller opened (the CLI's `serve`).
    pub fn from_app(app: App) -> Self {
        AppState {
            app,
            web_cache: Arc::new(web::WebCache::default()),
            trust_proxy: false,
            public_limits: Arc::new(throttle::RateLimiter::default()),
            sessions: Arc::new(auth::SessionCache::default()),
            session_ttl: auth::SESSION_TTL,
            session_idle: jiesu_app::accounts::IDLE_TIMEOUT,
            public_https: false,
            metrics_token: None,
            http_metrics: Arc::new(metrics::HttpMetrics::default()),
        }
    }
}

/// JSON body whose rejections are our `{code, message, field}` errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

pub fn router(state: AppState) -> Router {
    let hsts = state.public_https;
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route(
            "/requests",
            post(api::requests::create).get(api::requests::list),
        )
        .merge(api::suggest::routes())
        .merge(api::suggest_accuracy::routes())
        .merge(api::analytics::routes())
        .merge(api::knowledge::routes())
        .merge(api::care::routes())
        .merge(api::alarms::routes())
        .merge(api::childcare::routes())
        .merge(open311::admin_routes())
        .merge(events::routes())
        .route("/requests/export", get(api::export::export))
        .route("/requests/{id}", get(api::requests::get_one))
        .route("/requests/{id}/events", get(api::requests::events))
        .route("/requests/{id}/{action}", post(api::requests::act))
        .route("/regions", get(api::world::regions))
        .route("/units", get(api::world::units))
        .route("/categories", get(api::world::categories))
        .route(
            "/users",
            get(api::admin::users).post(api::admin::create_user),
        )
        .route("/users/{id}/disable", post(api::admin::disable_user))
        .route("/users/{id}/enable", post(api::admin::enable_user))
        .route("/users/{id}/password", post(api::admin::reset_password))
        .route(
            "/users/{id}/sessions/revoke",
            post(api::admin::revoke_sessions),
        )
        .route("/audit", get(api::admin::audit))
        .route("/audit/verify", get(api::admin::verify_audit))
        .route("/sla/sweep", post(api::admin::sweep))
        .route("/assessment", get(api::assessment::get))
        .route("/openapi.json", get(openapi::document))
        .fallback(api::not_found);
    Router::new()
        .merge(web::routes())
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::scrape))
        .nest("/api/v1", api)
        .nest("/open311/v2", open311::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(move |res| {
            security_headers(res, hsts)
        }))
        // Outermost, so it sees the final status; layered per route, so it sees the template.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// Scripts only from this origin (no inline script, no `javascript:` links, no eval); inline
/// style attributes stay allowed (the pages use a few, and styles cannot run code). No page may
/// be framed (clickjacking), forms post only here, plugins never load.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS when clients come over https: a year, so a browser never tries plain http again
/// (no `includeSubDomains`: other hosts of the district's domain are not ours to bind).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The headers every answer carries unless its handler chose its own: pages and JSON show
/// callers and cases, so nothing is cached by default (static assets and photos set theirs).
async fn security_headers(
    mut res: axum::response::Response,
    hsts: bool,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = res.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}

/// Runs the SLA sweep every `every` until the process ends.
pub fn spawn_sla_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    jiesu_app::sla::spawn_sweeper(state.app, every)
}

/// Fans the outbox out to webhooks and delivers, until the process ends (safe beside other
/// servers on one database).
pub fn spawn_event_delivery(
    state: &AppState,
    cfg: events::DeliveryConfig,
) -> tokio::task::JoinHandle<()> {
    events::spawn_delivery_worker(state.app.store.clone(), cfg)
}

/// Serves on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address reaches handlers (login throttling, the audit log).
    axum::serve(
        listener,
        world_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// [`serve`] over TLS: the listener's connections are handshaken with `tls` (see
/// [`tls::load_config`]) and the state is marked https (HSTS, `Secure` cookies).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    mut state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.public_https = true;
    let listener = tls::TlsListener::new(listener, tls)?;
    // `tap_io` only to borrow axum's peer-address plumbing (`Connected`) for our listener.
    axum::serve(
        axum::serve::ListenerExt::tap_io(listener, |_| {}),
        world_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The routes of the world in force.
fn world_router(state: AppState) -> Router {
    // Routes are built for one world; an admin's edit bumps the revision and the next request
    // rebuilds them around the new directory (cheap, and rare).
    let built: Arc<std::sync::Mutex<(u64, Router)>> = Arc::new(std::sync::Mutex::new((
        state.world.get().0,
        router(state.clone()),
    )));
    Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
        let (rev, dir) = state.world.get();
        let r = {
            let mut b = match built.lock() {
                Ok(b) => b,
                Err(p) => p.into_inner(),
            };
            if b.0 != rev {
                let mut st = state.clone();
                st.app.dir = dir;
                *b = (rev, router(st));
            }
            b.1.clone()
        };
        async move { tower::ServiceExt::oneshot(r, req).await }
    }))
}
