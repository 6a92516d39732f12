//! The application layer: every use case of jiesu, one module per capability, over the store,
//! the world directory, the text and search services and a clock, and nothing of HTTP.
//!
//! The doors (the JSON API, the web desks, Open311, the CLI, the importer) parse their input,
//! call one use case here and render its answer. Every use case that acts for a person checks
//! [`policy::require`] first; what the state of a case allows is the domain's to decide.
//!
//! | module | capability |
//! |---|---|
//! | [`intake`] | 受理 from every door: validation, privacy masking, suggestions, storage, indexing |
//! | [`knowledge`] | 知识库: 咨询 answers written, reviewed, searched, suggested at intake, used |
//! | [`actions`] | lifecycle actions and 并单 on one request; reading one request and its log |
//! | [`requests`] | lists and filters, scoped to what the actor may see |
//! | [`assessment`] | 考评 of a period |
//! | [`accounts`] | users, passwords, the audit log |
//! | [`text`] | suggestions, the duplicate index, model loading and training |
//! | [`search`] | the full-text index kept in step with the store |
//! | [`sla`] | the timer sweep (deadline breaches, and every case kind's timers) |
//! | [`console`] | the command line's database and bulk work (demo, import, facts, benchmarks) |
//! | [`policy`] | who may do what: one table, one `require` |
//! | [`care`] | 养老: the elder registry, providers, orders, meals, settlement |
//! | [`alarms`] | 一键呼: devices, MQTT/HTTP ingestion, liveness, the alarm desk, its KPIs |
//! | [`childcare`] | 托育: institutions, applications, rounds, waiting list, health checks, subsidy |

pub mod accounts;
pub mod actions;
pub mod alarms;
pub mod analytics;
pub mod assessment;
pub mod care;
pub mod childcare;
pub mod console;
pub mod error;
pub mod export;
pub mod intake;
pub mod knowledge;
pub mod maintenance;
pub mod messages;
pub mod metrics;
pub mod open311;
pub mod policy;
pub mod requests;
pub mod search;
pub mod sign;
pub mod sla;
pub mod text;
pub mod views;
pub mod webhooks;
pub mod world_admin;

pub use error::{AppError, AppResult, ErrorKind};
pub use policy::{Capability, require};

use jiesu_domain::Directory;
use jiesu_store::Store;
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

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

/// The world in force, swapped whole when an admin edits it.
pub struct LiveWorld {
    current: std::sync::RwLock<(u64, Arc<Directory>)>,
}

impl LiveWorld {
    pub fn new(dir: Arc<Directory>) -> Self {
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

/// What every use case runs against. Cheap to clone (handles only).
#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// The world in force when the current call started (see [`LiveWorld`]).
    pub dir: Arc<Directory>,
    pub clock: Clock,
    /// Classifiers, address resolver, duplicate index (loaded on first use; models swap in).
    pub text: Arc<text::TextServices>,
    /// Full-text index of requests (in memory unless the server is given `--index DIR`);
    /// `None` when it could not be created, and `?q=` then falls back to a substring match.
    pub search: Option<Arc<jiesu_text::search::SearchIndex>>,
    /// The directory admins edit; a door serving many calls takes `dir` from it per call.
    pub world: Arc<LiveWorld>,
    /// The 知识库's search index (rebuilt from the store when its entries change).
    pub knowledge: Arc<knowledge::KnowledgeIndex>,
    /// 一键呼: devices' liveness (in memory, not a row per heartbeat) and ingestion counters.
    pub alarms: Arc<alarms::Runtime>,
}

impl App {
    pub fn new(store: Store, dir: Directory, clock: Clock) -> Self {
        let dir = Arc::new(dir);
        App {
            world: Arc::new(LiveWorld::new(dir.clone())),
            knowledge: knowledge::new_index(),
            alarms: Arc::new(alarms::Runtime::default()),
            text: Arc::new(text::TextServices::new(dir.clone())),
            store,
            dir,
            clock,
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
    /// The same context over another world (the live one after an admin's edit).
    pub fn with_dir(&self, dir: Arc<Directory>) -> App {
        App {
            dir,
            ..self.clone()
        }
    }
}

impl App {
    /// Whether the database answers; the backend's name either way (`/healthz`).
    pub async fn health(&self) -> (bool, &'static str) {
        match self.store.count_by_status().await {
            Ok(_) => (true, self.store.backend()),
            Err(e) => {
                tracing::error!(error = %e, "health check failed");
                (false, self.store.backend())
            }
        }
    }
}

impl App {
    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }
    /// Closes the database connections (a command-line run ends with it).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
