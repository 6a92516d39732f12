//! The HTTP face of jiesu: `/api/v1` (JSON, described at `/api/v1/openapi.json`) and `/healthz`.
//!
//! Handlers are thin: parse, call the domain and the store, shape the answer.

pub mod api;
pub mod auth;
pub mod error;
pub mod events;
pub mod open311;
pub mod openapi;
pub mod search;
pub mod views;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::routing::{get, post};
use jiesu_domain::Directory;
use jiesu_store::Store;
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use error::{ApiError, ApiResult};

/// Largest JSON body the API accepts (a request text is ≤ 10,000 characters).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where "now" comes from: the system clock, or a settable one for tests of deadlines.
#[derive(Clone)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(start.as_millisecond())))
    }
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(ms) => Timestamp::from_millisecond(ms.load(Ordering::SeqCst))
                .unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
    /// Moves a manual clock; no effect on the system clock.
    pub fn set(&self, t: Timestamp) {
        if let Clock::Manual(ms) = self {
            ms.store(t.as_millisecond(), Ordering::SeqCst);
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub dir: Arc<Directory>,
    pub clock: Clock,
    pub limiter: Arc<auth::LoginLimiter>,
    pub sessions: Arc<auth::SessionCache>,
    /// How long a login lasts.
    pub session_ttl: jiff::SignedDuration,
    /// Classifiers, address resolver, duplicate index (loaded on first use; models swap in).
    pub text: Arc<api::suggest::TextServices>,
    /// Full-text index of requests (in memory unless the server is given `--index DIR`);
    /// `None` when it could not be created, and `?q=` then falls back to a substring match.
    pub search: Option<Arc<jiesu_text::search::SearchIndex>>,
    /// The directory admins edit: `serve` rebuilds its routes with the newest one, so `dir`
    /// above is always the world in force when a request arrives.
    pub world: Arc<LiveWorld>,
    /// Page data the web UI keeps briefly (the dashboard's month).
    pub web_cache: Arc<web::WebCache>,
}

/// The world in force, swapped whole when an admin edits it.
pub struct LiveWorld {
    current: std::sync::RwLock<(u64, Arc<Directory>)>,
}

impl LiveWorld {
    fn new(dir: Arc<Directory>) -> Self {
        LiveWorld {
            current: std::sync::RwLock::new((0, dir)),
        }
    }
    /// The revision (bumped by every replace) and the directory.
    pub fn get(&self) -> (u64, Arc<Directory>) {
        match self.current.read() {
            Ok(g) => (g.0, g.1.clone()),
            Err(p) => {
                let g = p.into_inner();
                (g.0, g.1.clone())
            }
        }
    }
    pub fn replace(&self, dir: Directory) {
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.0 += 1;
        g.1 = Arc::new(dir);
    }
}

impl AppState {
    pub fn new(store: Store, dir: Directory, clock: Clock) -> Self {
        let dir = Arc::new(dir);
        AppState {
            world: Arc::new(LiveWorld::new(dir.clone())),
            web_cache: Arc::new(web::WebCache::default()),
            text: Arc::new(api::suggest::TextServices::new(dir.clone())),
            store,
            dir,
            clock,
            limiter: Arc::new(auth::LoginLimiter::default()),
            sessions: Arc::new(auth::SessionCache::default()),
            session_ttl: auth::SESSION_TTL,
            search: match jiesu_text::search::SearchIndex::in_memory() {
                Ok(index) => Some(Arc::new(index)),
                Err(e) => {
                    tracing::warn!(error = %e, "no search index; ?q= uses substring match");
                    None
                }
            },
        }
    }
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// JSON body whose rejections are our `{code, message, field}` errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route(
            "/requests",
            post(api::requests::create).get(api::requests::list),
        )
        .merge(api::suggest::routes())
        .merge(api::suggest_accuracy::routes())
        .merge(api::analytics::routes())
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
        .route("/audit", get(api::admin::audit))
        .route("/sla/sweep", post(api::admin::sweep))
        .route("/assessment", get(api::assessment::get))
        .route("/openapi.json", get(openapi::document))
        .fallback(api::not_found);
    Router::new()
        .merge(web::routes())
        .route("/healthz", get(api::healthz))
        .nest("/api/v1", api)
        .nest("/open311/v2", open311::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Runs the SLA sweep every `every` until the process ends.
pub fn spawn_sla_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.sweep_sla(state.now()).await {
                Ok(r) if r.escalations > 0 => {
                    tracing::info!(escalations = r.escalations, "SLA sweep raised 督办")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SLA sweep failed"),
            }
        }
    })
}

/// Serves on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Routes are built for one world; an admin's edit bumps the revision and the next request
    // rebuilds them around the new directory (cheap, and rare).
    let built: Arc<std::sync::Mutex<(u64, Router)>> = Arc::new(std::sync::Mutex::new((
        state.world.get().0,
        router(state.clone()),
    )));
    let outer =
        Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
            let (rev, dir) = state.world.get();
            let r = {
                let mut b = match built.lock() {
                    Ok(b) => b,
                    Err(p) => p.into_inner(),
                };
                if b.0 != rev {
                    let mut st = state.clone();
                    st.dir = dir;
                    *b = (rev, router(st));
                }
                b.1.clone()
            };
            async move { tower::ServiceExt::oneshot(r, req).await }
        }));
    axum::serve(listener, outer)
        .with_graceful_shutdown(shutdown)
        .await
}
