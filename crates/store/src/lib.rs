//! Persistence for jiesu over SQLite (embedded default) and PostgreSQL, chosen by URL.
//!
//! One implementation of every operation is written once (`backend/`, a file per capability) and
//! compiled twice, once per sqlx driver, so the two backends cannot drift; dialect differences
//! are constants in each instantiation (`sqlite`, `postgres`), which mounts every file of
//! `backend/` as a module of its own. Every command runs in one transaction: a crash never
//! leaves half an action.
//!
//! The case engine lives here too (`backend/engine.rs`): one command loop and one timer sweep
//! for every kind of case. A request's `act` loads its state, asks the domain to `decide`,
//! appends the events and updates the projection, all in one transaction; other kinds
//! (`jiesu_domain::CaseKind`) run through the same loop over the generic `cases` tables.

#![allow(
    clippy::duplicate_mod,
    reason = "backend/ is compiled once per sqlx driver, as modules of sqlite.rs and postgres.rs"
)]

use jiesu_domain::{
    Actor, Channel, Command, DomainError, Event, EventKind, Intake, NewEvent, RequestId,
    RequestState, Status,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub mod audit_chain;
pub mod backup;
pub mod care;
pub mod pii;
pub mod testing;
pub use audit_chain::{BrokenLink, ChainHash, ChainReport};
pub use pii::{Algorithm, Keyring, Pii, PiiError, SealedWith};
mod types;
pub use types::*;
mod webhooks;
pub use webhooks::*;

pub mod sqlite;

pub mod postgres;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("not found")]
    NotFound,
    /// A unique value is taken (username, idempotency key with other content …).
    #[error("{field} already exists")]
    Duplicate { field: &'static str },
    /// Another writer kept winning the race for this request; the caller may retry.
    #[error("the request changed concurrently; retry")]
    Conflict,
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database could not take the write (I/O error, writer stopped).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("bad database url: {0}")]
    BadUrl(String),
    /// The PII keyring is wrong for this database, or a sealed value does not open.
    #[error(transparent)]
    Pii(#[from] PiiError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database, whichever backend the URL chose.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

/// Calls the same method on whichever backend is in use.
macro_rules! delegate {
    ($self:ident . $m:ident ( $($a:expr),* )) => {
        match $self {
            Store::Sqlite(db) => db.$m($($a),*).await,
            Store::Postgres(db) => db.$m($($a),*).await,
        }
    };
}

// 主动治理 analytics (after the macro, which it uses).
mod analytics_api;
// 考评 fast path: assessment facts (after the macro, which it uses).
mod rollup_api;
pub use rollup_api::assessment_sql;
// The admin's audit viewer query (after the macro, which it uses).
mod audit_query_api;
pub use audit_query_api::{AuditPage, AuditQuery, AuditRow};
// The 咨询 knowledge base (after the macro, which it uses).
mod knowledge_api;
pub use knowledge_api::*;
// 一键呼 vendors, devices, faults and chains (after the macro, which it uses).
pub mod alarms;
// 托育 institutions, rounds, health checks, settlements (after the macro, which it uses).
pub mod childcare;

impl Store {
    /// `sqlite://path.db` (created if missing) or `postgres://…`, with the PII keyring the
    /// environment names (`Pii::from_env`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, Pii::from_env()?).await
    }

    /// As `connect`, with this keyring (or none: `Pii::off()`).
    pub async fn connect_with(url: &str, pii: Pii) -> Result<Store> {
        let pii = std::sync::Arc::new(pii);
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::Db::connect(url, pii).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::Db::connect(url, pii).await?))
        } else {
            Err(StoreError::BadUrl(format!(
                "`{url}`: use sqlite://FILE or postgres://…"
            )))
        }
    }

    /// Connects, applies pending migrations and checks the PII keyring against the keys this
    /// database's rows were sealed with (`check_keys`).
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, Pii::from_env()?).await
    }

    /// As `open`, with this keyring.
    pub async fn open_with(url: &str, pii: Pii) -> Result<Store> {
        let s = Self::connect_with(url, pii).await?;
        s.migrate().await?;
        s.check_keys().await?;
        Ok(s)
    }

    /// The keyring (or its absence) this store seals callers' data with.
    pub fn pii(&self) -> &Pii {
        match self {
            Store::Sqlite(db) => &db.pii,
            Store::Postgres(db) => &db.pii,
        }
    }

    /// Refuses a keyring that cannot read this database: no keyring while rows are sealed, a
    /// key whose id is known here but whose bytes differ, or a keyring lacking a key that
    /// still seals rows (`keys rotate` retires a key once nothing uses it). Registers the
    /// keyring's keys otherwise.
    pub async fn check_keys(&self) -> Result<()> {
        delegate!(self.check_keys())
    }

    /// Seals every caller still in plaintext or under a key other than the active one, and
    /// brings every blind index up to date; then retires the keys nothing uses any more.
    /// Resumable: each batch commits on its own. `progress` gets the running totals.
    pub async fn reseal(
        &self,
        progress: &mut (dyn FnMut(&ResealReport) + Send),
    ) -> Result<ResealReport> {
        delegate!(self.reseal(progress))
    }

    /// How many requests' callers are sealed under each key (or plaintext), and the keys
    /// registered in this database.
    pub async fn key_status(&self) -> Result<KeyStatus> {
        delegate!(self.key_status())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies pending migrations; returns the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        delegate!(self.migrate())
    }

    pub async fn close(&self) {
        delegate!(self.close())
    }

    // ---- world ----

    pub async fn save_world(
        &self,
        world: &jiesu_world::World,
        source: &str,
        now: Timestamp,
    ) -> Result<()> {
        let json = serde_json::to_string(world).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        delegate!(self.save_world(json, source, now))
    }

    /// The world in force (newest saved), if the database was initialised.
    pub async fn load_world(&self) -> Result<Option<jiesu_world::World>> {
        let json: Option<String> = delegate!(self.load_world())?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    // ---- requests ----

    /// 受理: stores a new request, and in the same transaction the follow-up action an operator
    /// takes at once (dispatch, or close as answered/special). With an idempotency key already
    /// used for the same content, returns the earlier request with `replayed = true`.
    pub async fn create_request(&self, new: NewRequest<'_>) -> Result<Created> {
        delegate!(self.create_request(new))
    }

    /// One action on a request, decided by the domain and stored atomically.
    pub async fn act(
        &self,
        dir: &jiesu_domain::Directory,
        actor: &Actor,
        id: RequestId,
        cmd: &Command,
        now: Timestamp,
    ) -> Result<RequestState> {
        delegate!(self.act(dir, actor, id, cmd, now))
    }

    /// 并单 `child` into `master`: events on both, one transaction.
    pub async fn merge(
        &self,
        actor: &Actor,
        child: RequestId,
        master: RequestId,
        now: Timestamp,
    ) -> Result<RequestState> {
        delegate!(self.merge(actor, child, master, now))
    }

    pub async fn get(&self, id: RequestId) -> Result<Option<RequestState>> {
        delegate!(self.get(id))
    }

    pub async fn get_by_tracking_code(&self, code: &str) -> Result<Option<RequestState>> {
        delegate!(self.get_by_tracking_code(code))
    }

    pub async fn events(&self, id: RequestId) -> Result<Vec<Event>> {
        delegate!(self.events(id))
    }

    /// A page of requests, newest first, filtered; `scope_unit` limits to one unit's requests.
    pub async fn list(&self, filter: &ListFilter) -> Result<Page> {
        delegate!(self.list(filter))
    }

    /// How many requests match `filter` (its cursor, offset and limit aside).
    pub async fn count(&self, filter: &ListFilter) -> Result<i64> {
        delegate!(self.count(filter))
    }

    /// Raises automatic 督办 for every breach not yet flagged. Safe to run from several servers
    /// at once: one holds the sweep lock, and each breach is flagged exactly once.
    pub async fn sweep_sla(&self, now: Timestamp) -> Result<SweepReport> {
        delegate!(self.sweep_sla(now))
    }

    /// Bulk load for the demo and imports: requests with complete event logs, in one
    /// transaction per call.
    pub async fn bulk_insert(&self, items: &[(RequestState, Vec<Event>)]) -> Result<()> {
        delegate!(self.bulk_insert(items))
    }

    /// One request row and its events in one transaction, with no domain logic: the raw insert
    /// rate benchmarks compare intake against.
    pub async fn insert_raw(&self, st: &RequestState, events: &[Event]) -> Result<i64> {
        delegate!(self.insert_raw(st, events))
    }

    /// Stores a checked upload (a citizen's photo), not yet linked to a request.
    pub async fn add_attachment(
        &self,
        content_type: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<i64> {
        delegate!(self.add_attachment(content_type, bytes, now))
    }
    pub async fn link_attachments(&self, ids: &[i64], request_id: i64) -> Result<()> {
        delegate!(self.link_attachments(ids, request_id))
    }
    pub async fn attachments(&self, request_id: i64) -> Result<Vec<AttachmentMeta>> {
        delegate!(self.attachments(request_id))
    }
    /// The bytes of a linked upload.
    pub async fn attachment_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        delegate!(self.attachment_bytes(id))
    }
    pub async fn purge_unlinked_attachments(&self, before: Timestamp) -> Result<u64> {
        delegate!(self.purge_unlinked_attachments(before))
    }
    /// Requests this user recorded since `since` (the intake desk's shift counter).
    pub async fn intakes_by(&self, user_id: i64, since: Timestamp) -> Result<i64> {
        delegate!(self.intakes_by(user_id, since))
    }
    /// Counts by status (for the health of a dataset and the dashboard).
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        delegate!(self.count_by_status())
    }

    // ---- accounts ----

    pub async fn create_user(&self, u: &NewUser, now: Timestamp) -> Result<i64> {
        delegate!(self.create_user(u, now))
    }
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        delegate!(self.user_by_username(username))
    }
    pub async fn users(&self) -> Result<Vec<User>> {
        delegate!(self.users())
    }
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        delegate!(self.create_session(token_hash, user_id, now, expires))
    }
    /// The user behind a live session token (hash), if any (no idle limit).
    pub async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        delegate!(self.session_user(token_hash, now, None))
    }
    /// [`Store::session_user`] for a session also used within `idle` (the use is recorded).
    pub async fn active_session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
        idle: jiff::SignedDuration,
    ) -> Result<Option<User>> {
        delegate!(self.session_user(token_hash, now, Some(idle)))
    }
    pub async fn revoke_session(&self, token_hash: &str, now: Timestamp) -> Result<bool> {
        delegate!(self.revoke_session(token_hash, now))
    }
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        delegate!(self.user_by_id(id))
    }
    /// A new password hash; `must_change` forces its holder to change it first.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.set_password(user_id, password_hash, must_change, now))
    }
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> Result<()> {
        delegate!(self.set_user_disabled(user_id, disabled))
    }
    /// Ends a user's live sessions but `keep` (a token hash); returns how many.
    pub async fn revoke_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64> {
        delegate!(self.revoke_user_sessions(user_id, keep, now))
    }
    /// One failed login against each key; the counts within `window` after it.
    pub async fn throttle_fail(
        &self,
        keys: &[String],
        now: Timestamp,
        window: jiff::SignedDuration,
    ) -> Result<Vec<i64>> {
        delegate!(self.throttle_fail(keys, now, window))
    }
    /// The failed logins counted within `window` per key.
    pub async fn throttle_counts(
        &self,
        keys: &[String],
        now: Timestamp,
        window: jiff::SignedDuration,
    ) -> Result<Vec<i64>> {
        delegate!(self.throttle_counts(keys, now, window))
    }
    pub async fn throttle_clear(&self, keys: &[String]) -> Result<()> {
        delegate!(self.throttle_clear(keys))
    }

    // ---- audit ----

    /// Appends to the audit chain with SHA-256 links.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        delegate!(self.audit(entry, ChainHash::Sha256))
    }
    /// Appends to the audit chain with links of `alg` (the deployment's choice).
    pub async fn audit_with(&self, entry: &AuditEntry, alg: ChainHash) -> Result<()> {
        delegate!(self.audit(entry, alg))
    }
    /// Recomputes the whole audit chain; names the first broken link.
    pub async fn verify_audit(&self) -> Result<ChainReport> {
        delegate!(self.verify_audit())
    }
    pub async fn audit_for(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEntry>> {
        delegate!(self.audit_for(target_type, target_id))
    }

    // ---- text: models, suggestions, history for the resolver and duplicate index ----

    /// Stores a trained model as the next version of its `kind`; returns that version.
    pub async fn save_model(&self, model: &NewModel) -> Result<i64> {
        delegate!(self.save_model(model))
    }

    /// The newest model of each kind (without its bytes), to see whether a newer one exists.
    pub async fn latest_models(&self) -> Result<Vec<ModelInfo>> {
        delegate!(self.latest_models())
    }

    /// The bytes of one stored model.
    pub async fn model_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        delegate!(self.model_bytes(id))
    }

    /// Records the suggestion made at intake beside the operator's choice (JSON texts). A
    /// second call for the same request (an idempotent replay) keeps the first.
    pub async fn save_suggestion(
        &self,
        request_id: i64,
        suggestion: &str,
        chosen: &str,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.save_suggestion(request_id, suggestion, chosen, now))
    }

    /// The stored `(suggestion, chosen)` JSON of a request.
    pub async fn suggestion(&self, request_id: i64) -> Result<Option<(String, String)>> {
        delegate!(self.suggestion(request_id))
    }

    /// Suggestions stored at intake in `[from, to)`, with where each request stands now,
    /// `limit` at a time after request id `after` (ascending ids).
    pub async fn suggestion_outcomes(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SuggestionOutcome>> {
        delegate!(self.suggestion_outcomes(from, to, after, limit))
    }

    /// Closed requests, most recently closed first, as training examples.
    pub async fn training_examples(&self, limit: u32) -> Result<Vec<TrainingExample>> {
        delegate!(self.training_examples(limit))
    }

    /// Requests received at or after `since` (newest first, at most `limit`): what the
    /// duplicate index and the address resolver learn from at start.
    pub async fn text_history(&self, since: Timestamp, limit: u32) -> Result<Vec<TextHistory>> {
        delegate!(self.text_history(since, limit))
    }

    // ---- Open311: client API keys and the public request query ----

    /// Stores a new Open311 client key by its SHA-256 (hex); the key itself is never stored.
    pub async fn create_api_key(
        &self,
        name: &str,
        key_hash: &str,
        now: Timestamp,
    ) -> Result<ApiKey> {
        delegate!(self.create_api_key(name, key_hash, now))
    }

    /// Every issued key, revoked ones included, oldest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        delegate!(self.api_keys())
    }

    /// The key with this hash, revoked or not (the caller decides what a revoked key means).
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        delegate!(self.api_key_by_hash(key_hash))
    }

    /// Revokes a key; revoking twice keeps the first revocation time. `NotFound` if no such id.
    pub async fn revoke_api_key(&self, id: i64, now: Timestamp) -> Result<ApiKey> {
        delegate!(self.revoke_api_key(id, now))
    }

    /// Requests as Open311 `GET requests` filters them, newest first, one page.
    pub async fn open311_requests(&self, q: &Open311Query) -> Result<Vec<RequestState>> {
        delegate!(self.open311_requests(q))
    }

    /// 考评 input; see `Db::assessment_logs`.
    pub async fn assessment_logs(
        &self,
        start: Timestamp,
        end: Timestamp,
        as_of: Timestamp,
    ) -> Result<Vec<jiesu_domain::assessment::RequestLog>> {
        delegate!(self.assessment_logs(start, end, as_of))
    }

    /// Of `keys`, those already used as an idempotency key (bulk check before an import).
    pub async fn existing_idempotency_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        delegate!(self.existing_idempotency_keys(keys))
    }

    /// `bulk_insert` that also sets each request's idempotency key, in one transaction.
    pub async fn bulk_insert_keyed(
        &self,
        items: &[(RequestState, Vec<Event>, Option<String>)],
    ) -> Result<()> {
        delegate!(self.bulk_insert_keyed(items))
    }

    /// Requests with id > `after_id`, by id, at most `limit`: for (re)building the search index.
    pub async fn search_documents(&self, after_id: i64, limit: u32) -> Result<Vec<RequestState>> {
        delegate!(self.search_documents(after_id, limit))
    }

    // ---- generic cases (engine.rs): every kind but the request, one engine ----

    /// Creates a case of kind `K` from its first decided events, in one transaction.
    pub async fn create_case<K: jiesu_domain::CaseKind>(
        &self,
        dir: &jiesu_domain::Directory,
        actor: &Actor,
        input: &K::Create,
        now: Timestamp,
    ) -> Result<K::State> {
        match self {
            Store::Sqlite(db) => db.create_case::<K>(dir, actor, input, now).await,
            Store::Postgres(db) => db.create_case::<K>(dir, actor, input, now).await,
        }
    }

    /// Many cases of kind `K` in one transaction, each stored or refused on its own (a
    /// duplicate code refuses that one only): a burst pays for one commit.
    pub async fn create_cases<K: jiesu_domain::CaseKind>(
        &self,
        dir: &jiesu_domain::Directory,
        actor: &Actor,
        inputs: &[&K::Create],
        now: Timestamp,
    ) -> Result<Vec<Result<K::State>>> {
        match self {
            Store::Sqlite(db) => db.create_cases::<K>(dir, actor, inputs, now).await,
            Store::Postgres(db) => db.create_cases::<K>(dir, actor, inputs, now).await,
        }
    }

    /// One command on a case of kind `K`, decided by `K::decide` and stored atomically (the
    /// same loop as `act`: row lock, version check, retry on a concurrent writer).
    pub async fn act_case<K: jiesu_domain::CaseKind>(
        &self,
        dir: &jiesu_domain::Directory,
        actor: &Actor,
        id: i64,
        cmd: &K::Command,
        now: Timestamp,
    ) -> Result<K::State> {
        match self {
            Store::Sqlite(db) => db.act_case::<K>(dir, actor, id, cmd, now).await,
            Store::Postgres(db) => db.act_case::<K>(dir, actor, id, cmd, now).await,
        }
    }

    pub async fn get_case<K: jiesu_domain::CaseKind>(&self, id: i64) -> Result<Option<K::State>> {
        match self {
            Store::Sqlite(db) => db.get_case::<K>(id).await,
            Store::Postgres(db) => db.get_case::<K>(id).await,
        }
    }

    /// The case of kind `K` whose index code (`CaseKind::index`) is `code`.
    pub async fn case_by_code<K: jiesu_domain::CaseKind>(
        &self,
        code: &str,
    ) -> Result<Option<K::State>> {
        match self {
            Store::Sqlite(db) => db.case_by_code::<K>(code).await,
            Store::Postgres(db) => db.case_by_code::<K>(code).await,
        }
    }

    /// Cases of kind `K` matching `q` on their index columns, and how many match in all.
    pub async fn list_cases<K: jiesu_domain::CaseKind>(
        &self,
        q: &CaseQuery,
    ) -> Result<(Vec<K::State>, i64)> {
        match self {
            Store::Sqlite(db) => db.list_cases::<K>(q).await,
            Store::Postgres(db) => db.list_cases::<K>(q).await,
        }
    }

    /// The case's events in order.
    pub async fn case_events<K: jiesu_domain::CaseKind>(
        &self,
        id: i64,
    ) -> Result<Vec<jiesu_domain::CaseEvent<K::Event>>> {
        match self {
            Store::Sqlite(db) => db.case_events::<K>(id).await,
            Store::Postgres(db) => db.case_events::<K>(id).await,
        }
    }

    /// Fires every due timer of kind `K` (`K::fire_timers`) as the system, exactly once, like
    /// `sweep_sla` does for requests. The periodic task calls it once per kind.
    pub async fn sweep_case_timers<K: jiesu_domain::CaseKind>(
        &self,
        now: Timestamp,
    ) -> Result<SweepReport> {
        match self {
            Store::Sqlite(db) => db.sweep_case_timers::<K>(now).await,
            Store::Postgres(db) => db.sweep_case_timers::<K>(now).await,
        }
    }

    /// Outbox rows of generic cases after `after_id`, ascending, at most `limit`.
    pub async fn case_outbox(&self, after_id: i64, limit: u32) -> Result<Vec<CaseOutboxEntry>> {
        delegate!(self.case_outbox(after_id, limit))
    }

    // ---- elder care registry (backend/care.rs) ----

    pub async fn create_elder(
        &self,
        e: &jiesu_domain::care::person::ElderInput,
        now: Timestamp,
    ) -> Result<i64> {
        delegate!(self.create_elder(e, now))
    }
    pub async fn update_elder(
        &self,
        id: i64,
        e: &jiesu_domain::care::person::ElderInput,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.update_elder(id, e, now))
    }
    pub async fn elder(&self, id: i64) -> Result<Option<care::Elder>> {
        delegate!(self.elder(id))
    }
    pub async fn elder_by_id_number(&self, id_number: &str) -> Result<Option<care::Elder>> {
        delegate!(self.elder_by_id_number(id_number))
    }
    pub async fn elders_by_phone(&self, phone: &str) -> Result<Vec<care::Elder>> {
        delegate!(self.elders_by_phone(phone))
    }
    pub async fn elders(&self, q: &care::ElderQuery) -> Result<(Vec<care::Elder>, i64)> {
        delegate!(self.elders(q))
    }
    pub async fn add_assessment(
        &self,
        elder_id: i64,
        a: &jiesu_domain::care::ability::AssessmentInput,
        res: &jiesu_domain::care::ability::AssessmentResult,
        by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        delegate!(self.add_assessment(elder_id, a, res, by, now))
    }
    pub async fn assessments(&self, elder_id: i64) -> Result<Vec<care::Assessment>> {
        delegate!(self.assessments(elder_id))
    }
    pub async fn save_provider(&self, p: &care::Provider, now: Timestamp) -> Result<()> {
        delegate!(self.save_provider(p, now))
    }
    pub async fn providers(&self) -> Result<Vec<care::Provider>> {
        delegate!(self.providers())
    }
    pub async fn add_carer(&self, c: &care::Carer) -> Result<i64> {
        delegate!(self.add_carer(c))
    }
    pub async fn carers(&self, provider: Option<&str>) -> Result<Vec<care::Carer>> {
        delegate!(self.carers(provider))
    }
    pub async fn save_meal_point(&self, m: &care::MealPoint, now: Timestamp) -> Result<()> {
        delegate!(self.save_meal_point(m, now))
    }
    pub async fn meal_points(&self) -> Result<Vec<care::MealPoint>> {
        delegate!(self.meal_points())
    }
    pub async fn add_meal(
        &self,
        m: &jiesu_domain::care::meals::MealInput,
        daily_fen: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<jiesu_domain::care::meals::Meal> {
        delegate!(self.add_meal(m, daily_fen, by, now))
    }
    pub async fn void_meal(&self, point: &str, id: i64) -> Result<()> {
        delegate!(self.void_meal(point, id))
    }
    pub async fn meals(
        &self,
        point: Option<&str>,
        elder_id: Option<i64>,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<jiesu_domain::care::meals::Meal>> {
        delegate!(self.meals(point, elder_id, from, to))
    }
    pub async fn add_care_plan(&self, p: &care::CarePlan, now: Timestamp) -> Result<i64> {
        delegate!(self.add_care_plan(p, now))
    }
    pub async fn requests_by_community(
        &self,
        since: Timestamp,
        prefix: &str,
    ) -> Result<Vec<(String, String, i64)>> {
        delegate!(self.requests_by_community(since, prefix))
    }
    pub async fn cases_by_region(
        &self,
        kind: &str,
        since: Timestamp,
    ) -> Result<Vec<(String, String, i64)>> {
        delegate!(self.cases_by_region(kind, since))
    }
    pub async fn community_care(
        &self,
        today: jiff::civil::Date,
    ) -> Result<Vec<care::CommunityCare>> {
        delegate!(self.community_care(today))
    }

    // ---- events out: outbox fan-out, webhook deliveries, dead letters (outbox.rs) ----

    /// Moves up to `limit` rows of each outbox (requests' and generic cases') into one pending
    /// delivery per active webhook; returns how many outbox rows it consumed.
    pub async fn outbox_fan_out(&self, now: Timestamp, limit: u32) -> Result<usize> {
        delegate!(self.outbox_fan_out(now, limit))
    }
    /// Claims due deliveries under a lease of `lease_ms` (safe with several servers).
    pub async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        delegate!(self.claim_deliveries(now, lease_ms, limit))
    }
    pub async fn delivery_succeeded(&self, id: i64, now: Timestamp) -> Result<()> {
        delegate!(self.delivery_succeeded(id, now))
    }
    /// A failed attempt: due again at `retry_at`, or dead without one.
    pub async fn delivery_failed(
        &self,
        id: i64,
        now: Timestamp,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        delegate!(self.delivery_failed(id, now, error, retry_at))
    }
    pub async fn create_webhook(
        &self,
        name: &str,
        url: &str,
        secret: &str,
        created_by: &str,
        now: Timestamp,
    ) -> Result<Webhook> {
        delegate!(self.create_webhook(name, url, secret, created_by, now))
    }
    pub async fn webhook(&self, id: i64) -> Result<Option<Webhook>> {
        delegate!(self.webhook(id))
    }
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        delegate!(self.webhooks())
    }
    pub async fn disable_webhook(&self, id: i64, now: Timestamp) -> Result<Webhook> {
        delegate!(self.disable_webhook(id, now))
    }
    pub async fn dead_letters(
        &self,
        webhook_id: Option<i64>,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        delegate!(self.dead_letters(webhook_id, before_id, limit))
    }
    /// Re-queues dead letters: one by `id`, all of `webhook_id`, or all; returns how many.
    pub async fn retry_dead_letters(
        &self,
        id: Option<i64>,
        webhook_id: Option<i64>,
        now: Timestamp,
    ) -> Result<u64> {
        delegate!(self.retry_dead_letters(id, webhook_id, now))
    }
    pub async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        delegate!(self.prune_deliveries(before))
    }
    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        delegate!(self.outbox_stats())
    }
    /// The connection pools now (for /metrics).
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        match self {
            Store::Sqlite(db) => db.pool_stats(),
            Store::Postgres(db) => db.pool_stats(),
        }
    }
    /// Stored event ids after `after_id`, ascending, at most `limit`.
    pub async fn event_ids(&self, after_id: i64, limit: u32) -> Result<Vec<i64>> {
        delegate!(self.event_ids(after_id, limit))
    }
}

/// An event of a generic case waiting in the outbox (`case_outbox`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseOutboxEntry {
    pub id: i64,
    pub kind: String,
    pub case_id: i64,
    pub event_id: i64,
    pub seq: i64,
    pub at: Timestamp,
    pub name: String,
    /// The event payload (JSON).
    pub payload: String,
}

/// A stored upload, without its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentMeta {
    pub id: i64,
    pub content_type: String,
    pub size: i64,
    pub created_at: Timestamp,
}

/// A model to store (`jiesu train`).
#[derive(Debug, Clone)]
pub struct NewModel {
    /// What it predicts: `category`, `request_type`, `unit`.
    pub kind: String,
    pub created_at: Timestamp,
    /// How many examples it was trained on.
    pub trained_on: i64,
    /// Training summary (JSON).
    pub report: String,
    pub bytes: Vec<u8>,
}

/// A stored model without its bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub id: i64,
    pub kind: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub trained_on: i64,
}

/// What was suggested at a request's intake (JSON) and the routing it has now.
#[derive(Debug, Clone)]
pub struct SuggestionOutcome {
    pub request_id: i64,
    pub suggestion: String,
    pub request_type: String,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub lead_unit: Option<String>,
}

/// A closed request's text and the labels it ended with.
#[derive(Debug, Clone)]
pub struct TrainingExample {
    pub text: String,
    pub request_type: String,
    pub category: Option<String>,
    pub lead_unit: Option<String>,
}

/// What text services need of an earlier request.
#[derive(Debug, Clone)]
pub struct TextHistory {
    pub id: i64,
    pub tracking_code: String,
    pub status: String,
    pub text: String,
    pub address: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub received_at: Timestamp,
}

/// A query over the case index (`CaseKind::index`): every given field must match.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub owner: Option<String>,
    pub region: Option<String>,
    /// `region` starting with this code (a street's communities start with its code).
    pub region_prefix: Option<String>,
    pub subject: Option<i64>,
    pub at_from: Option<Timestamp>,
    pub at_to: Option<Timestamp>,
    /// Any of these statuses (empty: all).
    pub statuses: Vec<String>,
    pub limit: u32,
    pub offset: u32,
    pub oldest_first: bool,
}

/// The unique constraints the store turns into answers, by name: PostgreSQL's (its default
/// `<table>_<columns>_key` for those declared inline in the migrations) beside the columns
/// SQLite names in its message instead (`UNIQUE constraint failed: t.a, t.b`).
const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    (TRACKING_CODE_KEY, "requests.tracking_code"),
    (IDEMPOTENCY_KEY_KEY, "requests.idempotency_key"),
    (
        REQUEST_EVENT_SEQ_KEY,
        "request_events.request_id, request_events.seq",
    ),
    (USERNAME_KEY, "users.username"),
    (API_KEY_HASH_KEY, "api_keys.key_hash"),
    (
        CASE_EVENT_SEQ_KEY,
        "case_events.kind, case_events.case_id, case_events.seq",
    ),
    (CASE_CODE_KEY, "cases.kind, cases.code"),
    (ELDER_ID_KEY, "care_elders.id_index"),
    (
        MEAL_ONCE_KEY,
        "care_meals.elder_id, care_meals.date, care_meals.meal",
    ),
];
const TRACKING_CODE_KEY: &str = "requests_tracking_code_key";
const IDEMPOTENCY_KEY_KEY: &str = "requests_idempotency_key_key";
const REQUEST_EVENT_SEQ_KEY: &str = "request_events_request_id_seq_key";
const USERNAME_KEY: &str = "users_username_key";
const API_KEY_HASH_KEY: &str = "api_keys_key_hash_key";
const CASE_EVENT_SEQ_KEY: &str = "case_events_seq";
const CASE_CODE_KEY: &str = "cases_kind_code";
const ELDER_ID_KEY: &str = "care_elders_id_index_key";
const MEAL_ONCE_KEY: &str = "care_meals_once";

/// Whether `e` is a unique violation of the constraint named `name` (one of
/// `UNIQUE_CONSTRAINTS`). PostgreSQL reports the name (`constraint()`); SQLite does not (sqlx
/// 0.9 returns `None` there), so its message is matched against the constraint's columns.
fn is_unique_violation_of(e: &sqlx::Error, name: &str) -> bool {
    let sqlx::Error::Database(d) = e else {
        return false;
    };
    if !d.is_unique_violation() {
        return false;
    }
    if let Some(c) = d.constraint() {
        return c == name;
    }
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(n, _)| *n == name)
        .is_some_and(|(_, cols)| {
            d.message()
                .strip_prefix("UNIQUE constraint failed: ")
                .is_some_and(|m| m == *cols)
        })
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Field names bound into each sealed value (see `Pii::seal`).
const CALLER_NAME: &str = "caller.name";
const CALLER_PHONE: &str = "caller.phone";

fn sealed_caller(pii: &Pii, c: &jiesu_domain::Caller) -> jiesu_domain::Caller {
    jiesu_domain::Caller {
        name: c.name.as_deref().map(|v| pii.seal(CALLER_NAME, v)),
        phone: c.phone.as_deref().map(|v| pii.seal(CALLER_PHONE, v)),
    }
}

fn open_caller(pii: &Pii, c: &mut jiesu_domain::Caller) -> Result<()> {
    if let Some(v) = &mut c.name {
        *v = pii.open(CALLER_NAME, v)?;
    }
    if let Some(v) = &mut c.phone {
        *v = pii.open(CALLER_PHONE, v)?;
    }
    Ok(())
}

/// A request's state as stored: the caller sealed (the state in memory stays plain).
fn state_json(pii: &Pii, st: &RequestState) -> Result<String> {
    if !pii.is_on() {
        return to_json(st);
    }
    let mut sealed = st.clone();
    sealed.intake.caller = sealed_caller(pii, &st.intake.caller);
    to_json(&sealed)
}

/// An event's payload as stored: only `Received` carries the caller.
fn event_json(pii: &Pii, kind: &EventKind) -> Result<String> {
    match kind {
        EventKind::Received { intake } if pii.is_on() => {
            let mut intake = intake.clone();
            intake.caller = sealed_caller(pii, &intake.caller);
            to_json(&EventKind::Received { intake })
        }
        _ => to_json(kind),
    }
}

fn open_event(pii: &Pii, kind: &mut EventKind) -> Result<()> {
    if let EventKind::Received { intake } = kind {
        open_caller(pii, &mut intake.caller)?;
    }
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Unguessable tracking code for the citizen (see `jiesu_domain::tracking`), from OS randomness.
fn tracking_code(received: Timestamp) -> String {
    let mut buf = [0u8; 6];
    // The OS RNG does not fail on supported platforms; a zeroed buffer still yields a valid
    // (guessable) code, and the unique index catches a collision.
    let _ = getrandom::fill(&mut buf);
    jiesu_domain::tracking::tracking_code(received, buf)
}

/// The earliest response deadline among whistled units that have not reported, which the SLA
/// sweep watches.
fn next_whistle_due(st: &RequestState) -> Option<i64> {
    if st.status.is_terminal() {
        return None;
    }
    st.co_handlers
        .iter()
        .filter(|c| c.reported_at.is_none() && !c.overdue)
        .map(|c| ms(c.response_due))
        .min()
}

/// Stamps decided events with their position, time and actor, and applies them.
fn stamp(
    st: &mut RequestState,
    decided: Vec<NewEvent>,
    actor: &Actor,
    now: Timestamp,
) -> Vec<Event> {
    decided
        .into_iter()
        .map(|n| {
            let e = Event {
                seq: st.version + 1,
                at: now,
                actor: actor.clone(),
                reason: n.reason,
                kind: n.kind,
            };
            st.apply(&e);
            e
        })
        .collect()
}

/// Statuses the SLA sweep and the "open" filter consider live (moved to the domain).
pub use jiesu_domain::OPEN_STATUSES;

#[allow(dead_code)]
fn _assert_event_kind_used(_: EventKind, _: Intake) {}

/// An Open311 client's API key as stored (without the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    /// Who the key was issued to; requests it files are recorded as by `open311:<name>`.
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Filters of Open311 `GET requests`; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct Open311Query {
    /// Only these ids (empty: any).
    pub ids: Vec<RequestId>,
    /// Only these categories (empty: any).
    pub categories: Vec<String>,
    /// Only requests that came through these channels (empty: any).
    pub channels: Vec<Channel>,
    /// Only these statuses (empty: any).
    pub statuses: Vec<Status>,
    /// Received at or after.
    pub from: Option<Timestamp>,
    /// Received at or before (the spec's `end_date` is inclusive).
    pub to: Option<Timestamp>,
    /// Leave out requests closed as 涉密涉隐私: they must never be published.
    pub public_only: bool,
    pub offset: u64,
    pub limit: u32,
}
