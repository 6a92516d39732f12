//! The console's use cases: opening a database from the command line, and the bulk work of
//! the operator's tools (the demo and city builds, the importer, the 考评 fact rebuild, the
//! benchmarks). Whoever runs these holds the database itself, so no account stands behind them
//! and no HTTP door reaches this module.
//!
//! Bulk writes here skip what the request pipeline does per request (validation against the
//! world, the search index, the outbox): their callers build already-decided histories, which
//! are replayed facts, not new events for subscribers.

use crate::error::{AppError, AppResult, ErrorKind};
use crate::{App, Clock};
use jiesu_domain::assessment::RequestFacts;
use jiesu_domain::{Directory, Event, RequestState};
use jiesu_store::{NewUser, Store};
use jiesu_world::World;
use std::collections::{BTreeMap, HashSet};

/// What a database already holds (a bulk build needs an empty one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holdings {
    pub requests: i64,
    pub users: usize,
    /// 考评 fact rows: (cycles, callbacks, whistles).
    pub fact_rows: (i64, i64, i64),
}

impl Holdings {
    pub fn is_empty(&self) -> bool {
        let (c, b, w) = self.fact_rows;
        self.requests == 0 && self.users == 0 && c + b + w == 0
    }
}

/// A database opened (and migrated) from the console, before a world is put in force.
pub struct Database {
    store: Store,
}

impl Database {
    /// Opens the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> AppResult<Database> {
        Ok(Database {
            store: Store::open(url).await?,
        })
    }

    /// As `open`, sealing callers with this keyring rather than the environment's.
    pub async fn open_with(url: &str, pii: jiesu_store::Pii) -> AppResult<Database> {
        Ok(Database {
            store: Store::open_with(url, pii).await?,
        })
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    pub async fn holdings(&self) -> AppResult<Holdings> {
        Ok(Holdings {
            requests: self
                .store
                .count_by_status()
                .await?
                .iter()
                .map(|(_, n)| n)
                .sum(),
            users: self.store.users().await?.len(),
            fact_rows: self.store.fact_rows().await?,
        })
    }

    /// The world in force (see [`crate::maintenance::init_world`]), then the context over it.
    pub async fn into_app(
        self,
        named: bool,
        files: impl FnOnce() -> Result<(World, String), String>,
    ) -> AppResult<App> {
        let dir = crate::maintenance::init_world(&self.store, named, files).await?;
        Ok(App::new(self.store, dir, Clock::System))
    }

    /// Read-only tools (reports, checks, benchmarks): the stored world, else the one `files`
    /// loads, which is not saved.
    pub async fn into_app_read_only(
        self,
        files: impl FnOnce() -> Result<World, String>,
    ) -> AppResult<App> {
        let world = match self.store.load_world().await? {
            Some(w) => w,
            None => files().map_err(|e| {
                AppError::new(ErrorKind::Invalid, "invalid_world", format!("world: {e}"))
            })?,
        };
        Ok(App::new(self.store, Directory::new(world), Clock::System))
    }
}

/// Requests by status.
pub async fn counts(app: &App) -> AppResult<BTreeMap<String, i64>> {
    Ok(app.store.count_by_status().await?.into_iter().collect())
}

/// 考评 fact rows: (cycles, callbacks, whistles).
pub async fn fact_rows(app: &App) -> AppResult<(i64, i64, i64)> {
    Ok(app.store.fact_rows().await?)
}

/// Creates an account the console vouches for (the demo's accounts); the id.
pub async fn create_account(app: &App, user: &NewUser) -> AppResult<i64> {
    Ok(app.store.create_user(user, app.now()).await?)
}

/// The id the database gave the request with `tracking_code`, if stored.
pub async fn id_of(app: &App, tracking_code: &str) -> AppResult<Option<i64>> {
    Ok(app
        .store
        .get_by_tracking_code(tracking_code)
        .await?
        .map(|st| st.id))
}

/// Stores whole histories in one transaction (the demo build).
pub async fn load_histories(app: &App, items: &[(RequestState, Vec<Event>)]) -> AppResult<()> {
    Ok(app.store.bulk_insert(items).await?)
}

/// Stores imported histories in one transaction, each under its idempotency key.
pub async fn import_histories(
    app: &App,
    items: &[(RequestState, Vec<Event>, Option<String>)],
) -> AppResult<()> {
    Ok(app.store.bulk_insert_keyed(items).await?)
}

/// Which of `keys` an earlier import stored already.
pub async fn imported_keys(app: &App, keys: &[String]) -> AppResult<HashSet<String>> {
    Ok(app.store.existing_idempotency_keys(keys).await?)
}

/// One request and its events in one transaction, nothing else: the intake benchmark's
/// yardstick for what the pipeline adds.
pub async fn insert_raw(app: &App, st: &RequestState, events: &[Event]) -> AppResult<i64> {
    Ok(app.store.insert_raw(st, events).await?)
}

/// Rebuilds the 考评 facts from the event logs: (requests, events) read.
pub async fn rebuild_facts(app: &App) -> AppResult<(u64, u64)> {
    Ok(app.store.rebuild_assessment_facts().await?)
}

/// Appends fact rows directly (the city-scale build, which keeps no event logs).
pub async fn copy_facts(app: &App, facts: &[RequestFacts]) -> AppResult<()> {
    Ok(app.store.copy_facts(facts).await?)
}

/// Drops (`false`) or builds (`true`) the fact tables' indexes around a bulk load.
pub async fn fact_indexes(app: &App, present: bool) -> AppResult<()> {
    Ok(app.store.fact_indexes(present).await?)
}

/// Trains the text services from the stored requests and stores the models.
pub async fn train(app: &App, limit: u32) -> AppResult<crate::text::TrainReport> {
    crate::text::train_from_store(&app.store, &app.dir, limit).await
}

// ---- elder care: the demo's network and the command line's care commands ----

/// The active account `username`: console commands that act as a person (`jiesu care settle
/// --user`, the demo's history) run every use case with a real account, never a made-up one.
pub async fn account(app: &App, username: &str) -> AppResult<jiesu_store::User> {
    match app.store.user_by_username(username.trim()).await? {
        Some(u) if !u.disabled => Ok(u),
        _ => Err(AppError::invalid(
            "user",
            "unknown_user",
            format!("no active account `{}`", username.trim()),
        )),
    }
}

/// Registers elders in bulk (the demo's registry; identities sealed by the store as for every
/// registration). Each is checked by the domain's rules on `today` and against the directory;
/// the first refusal stops the load and names the row. Returns the ids in order.
pub async fn load_elders(
    app: &App,
    elders: &[jiesu_domain::care::person::ElderInput],
    today: jiff::civil::Date,
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(elders.len());
    for (i, e) in elders.iter().enumerate() {
        let row = |err: AppError| {
            let field = format!("elders[{i}].{}", err.field.clone().unwrap_or_default());
            err.with_field(&field)
        };
        let e = crate::care::registry::normalized(app, e, today).map_err(row)?;
        ids.push(app.store.create_elder(&e, app.now()).await?);
    }
    Ok(ids)
}

/// Creates a service order as `user` through the case engine (the domain's `create` decides
/// who may and checks the community), at the app's clock. The demo's history uses it for
/// orders turned from requests that have been closed since (`care::orders::from_request`
/// refuses a closed request, rightly, for a person today).
pub async fn create_order(
    app: &App,
    user: &jiesu_store::User,
    n: &jiesu_domain::care::order::NewOrder,
) -> AppResult<jiesu_domain::care::OrderState> {
    Ok(app
        .store
        .create_case::<jiesu_domain::care::ServiceOrder>(&app.dir, &user.actor(), n, app.now())
        .await?)
}

/// A command on an order as `user` through the case engine (the domain's `decide`), at the
/// app's clock: the demo's bulk history, without the matcher's and the schedule's per-call
/// reads of the whole network (the demo chooses within the same rules itself).
pub async fn act_order(
    app: &App,
    user: &jiesu_store::User,
    id: i64,
    cmd: &jiesu_domain::care::order::OrderCommand,
) -> AppResult<jiesu_domain::care::OrderState> {
    Ok(app
        .store
        .act_case::<jiesu_domain::care::ServiceOrder>(&app.dir, &user.actor(), id, cmd, app.now())
        .await?)
}

/// Records meals in bulk as `by` (the demo's meal log): each checked by the domain's rules on
/// `today`, the elder's subsidy applied at payment by the store as for every meal.
pub async fn load_meals(
    app: &App,
    by: &str,
    meals: &[jiesu_domain::care::meals::MealInput],
    today: jiff::civil::Date,
) -> AppResult<Vec<jiesu_domain::care::meals::Meal>> {
    let daily = app.dir.world.care.elder_meal_subsidy_fen;
    let mut out = Vec::with_capacity(meals.len());
    for m in meals {
        jiesu_domain::care::meals::validate_meal(m, today)?;
        out.push(app.store.add_meal(m, daily, by, app.now()).await?);
    }
    Ok(out)
}

/// What a month of elder care holds, for the benchmark's row counts.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CareRows {
    /// Orders whose verified visit ended in the month.
    pub visits: i64,
    /// Meals of the month (voided included).
    pub meals: i64,
    pub providers: i64,
    pub meal_points: i64,
}

/// Row counts of `month` (its first day to the next month's), in the deployment's time zone.
pub async fn care_rows(app: &App, month: jiff::civil::Date) -> AppResult<CareRows> {
    use jiesu_domain::care::order::{OrderStatus, ServiceOrder};
    let next = month
        .checked_add(jiff::Span::new().months(1))
        .map_err(AppError::internal)?;
    let tz = app.dir.calendar.time_zone();
    let at = |d: jiff::civil::Date| {
        tz.to_timestamp(d.at(0, 0, 0, 0))
            .map_err(AppError::internal)
    };
    let (orders, _) = app
        .store
        .list_cases::<ServiceOrder>(&jiesu_store::CaseQuery {
            statuses: [
                OrderStatus::VisitFinished,
                OrderStatus::Rated,
                OrderStatus::Settled,
            ]
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
            at_from: Some(at(month)?),
            at_to: Some(at(next)?),
            limit: 1_000_000,
            ..Default::default()
        })
        .await?;
    let visits = orders
        .iter()
        .filter(|o| o.verified_visit().is_some())
        .count() as i64;
    let meals = app.store.meals(None, None, month, next).await?.len() as i64;
    Ok(CareRows {
        visits,
        meals,
        providers: app.store.providers().await?.len() as i64,
        meal_points: app.store.meal_points().await?.len() as i64,
    })
}

/// 一键呼 fleets for the demo and the benchmark: a vendor (its secret returned) and `n`
/// devices `{prefix}-000001…` spread over `elders` (their streets and communities), installed
/// on `installed_on`, in batches of a thousand. The registration rules are the desk's.
pub async fn provision_devices(
    app: &App,
    vendor: &jiesu_domain::alarms::device::VendorInput,
    prefix: &str,
    n: u32,
    elders: &[i64],
    installed_on: jiff::civil::Date,
) -> AppResult<String> {
    use jiesu_domain::alarms::device::DeviceInput;
    if elders.is_empty() {
        return Err(AppError::invalid(
            "elders",
            "empty",
            "register elders first",
        ));
    }
    let v = vendor.clone().normalized()?;
    let secret = crate::alarms::devices::secret()?;
    match app.store.create_vendor(&v, &secret, app.now()).await {
        Ok(()) | Err(jiesu_store::StoreError::Duplicate { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let mut places: std::collections::HashMap<i64, (String, String)> =
        std::collections::HashMap::new();
    let mut batch = Vec::with_capacity(1000);
    let today = crate::care::today(app);
    for i in 0..n {
        let elder_id = elders[i as usize % elders.len()];
        let (street, community) = match places.entry(elder_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.get().clone(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let e = crate::care::registry::load(app, elder_id).await?;
                v.insert((e.data.street.clone(), e.data.community.clone()))
                    .clone()
            }
        };
        let d = DeviceInput {
            device_id: format!("{prefix}-{:06}", i + 1),
            vendor: v.code.clone(),
            model: "YJH-2".into(),
            elder_id,
            installed_on,
            room: ["卧室", "客厅", "卫生间"][i as usize % 3].into(),
            network_id: String::new(),
            heartbeat_secs: 60,
        }
        .normalized(today)?;
        batch.push((d, street, community));
        if batch.len() == 1000 || i + 1 == n {
            app.store.create_devices(&batch, app.now()).await?;
            batch.clear();
        }
    }
    app.alarms.live.load(app).await?;
    Ok(secret)
}
