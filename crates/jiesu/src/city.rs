//! `jiesu demo --scale city`: a city-scale year of 考评 facts (Beijing: ≈2,400万 requests, 343
//! streets) for the assessment benchmark, loaded with COPY on PostgreSQL.
//!
//! The histories come from the demo simulator (the real domain decides every step: returns,
//! overrules, extensions, reopens, whistles, merges, unreached callbacks), in the Xicheng
//! world, several generators in parallel with different seeds. Each request is then placed in
//! one of 23 synthetic districts of 15 streets (343 streets in all): its street and street
//! office take the district's copy of the Xicheng street, departments become the district's
//! department (`housing-admin@110105`), city-wide utilities stay as they are. Only the facts
//! are stored — the event log of 2,400万 requests (≈1.6亿 events of JSON) would not fit the
//! time or the disk of the benchmark machine, and the assessment reads only the facts. The
//! world saved is Xicheng's, so synthetic districts' groups carry no display name.

use anyhow::{Context, Result, anyhow, bail};
use jiesu_app::console::{self, Database};
use jiesu_domain::assessment::{RequestFacts, request_facts};
use jiesu_domain::{Actor, Directory, Role};
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use crate::demo::sim::{Accounts, Generator, local_day};

/// Beijing's streets and townships.
const CITY_STREETS: usize = 343;
/// Requests per COPY.
const CHUNK: usize = 20_000;

fn actor(role: Role) -> Actor {
    Actor {
        user_id: None,
        username: role.as_str().into(),
        role,
        unit: None,
    }
}

/// How Xicheng codes become city codes.
struct CityMap {
    /// Xicheng street code → its index (0..15).
    street_index: HashMap<String, usize>,
    streets: usize,
    /// Units that are street offices (their code is a street code).
    street_units: HashMap<String, usize>,
    /// City-wide units (utilities) keep their code.
    citywide: std::collections::HashSet<String>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl CityMap {
    fn new(dir: &Directory) -> CityMap {
        let street_index: HashMap<String, usize> = dir
            .world
            .streets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i))
            .collect();
        let mut street_units = HashMap::new();
        let mut citywide = std::collections::HashSet::new();
        for u in &dir.world.units {
            match u.kind {
                jiesu_world::UnitKind::Street => {
                    if let Some(&i) = street_index.get(&u.code) {
                        street_units.insert(u.code.clone(), i);
                    }
                }
                jiesu_world::UnitKind::Department => {}
                _ => {
                    citywide.insert(u.code.clone());
                }
            }
        }
        CityMap {
            streets: street_index.len().max(1),
            street_index,
            street_units,
            citywide,
        }
    }

    fn districts(&self) -> usize {
        CITY_STREETS.div_ceil(self.streets)
    }

    /// The city code of street index `i` in district `d`, folded into the 343.
    fn street_code(&self, d: usize, i: usize) -> String {
        let mut d = d;
        if d * self.streets + i >= CITY_STREETS {
            d = d.saturating_sub(1);
        }
        format!("{:06}{:03}", 110101 + d, i + 1)
    }

    fn relabel(&self, f: &mut RequestFacts) {
        let d = (splitmix(f.request_id as u64) % self.districts() as u64) as usize;
        if let Some(&i) = self.street_index.get(&f.street) {
            f.street = self.street_code(d, i);
        }
        let unit = |u: &mut String| {
            if u.is_empty() || self.citywide.contains(u.as_str()) {
                return;
            }
            *u = match self.street_units.get(u.as_str()) {
                Some(&i) => self.street_code(d, i),
                None => format!("{u}@{:06}", 110101 + d),
            };
        };
        for c in &mut f.cycles {
            unit(&mut c.unit);
        }
        for c in &mut f.callbacks {
            unit(&mut c.unit);
        }
        for w in &mut f.whistles {
            unit(&mut w.unit);
        }
    }
}

pub struct CityArgs<'a> {
    pub db: &'a str,
    pub requests: u64,
    pub seed: u64,
    pub world: Option<&'a Path>,
    pub threads: usize,
    /// End of the simulated year (default now).
    pub end: Option<Timestamp>,
}

/// Builds the facts of `requests` requests over the year before `end` into an empty database.
/// Prints a JSON summary.
pub async fn build(a: CityArgs<'_>) -> Result<serde_json::Value> {
    let started = Instant::now();
    let database = Database::open(a.db)
        .await
        .with_context(|| format!("opening {}", a.db))?;
    let held = database.holdings().await?;
    let (c, b, w) = held.fact_rows;
    if c + b + w + held.requests > 0 {
        bail!("the database already holds requests or assessment facts; use an empty one");
    }
    let app = crate::with_world(database, a.world).await?;
    let dir = app.dir.clone();
    let end = a.end.unwrap_or_else(Timestamp::now);
    let first_day = local_day(end.as_millisecond()) - 365;
    let threads = a.threads.max(1);
    console::fact_indexes(&app, false).await?;
    let map = std::sync::Arc::new(CityMap::new(&dir));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RequestFacts>>(2 * threads);
    let mut handles = Vec::new();
    for k in 0..threads {
        let share =
            a.requests / threads as u64 + u64::from((k as u64) < a.requests % threads as u64);
        let (tx, map, world) = (tx.clone(), map.clone(), dir.world.clone());
        let seed = a.seed.wrapping_add(k as u64 * 7919);
        handles.push(tokio::task::spawn_blocking(move || -> Result<u64> {
            let dir = Directory::new(world);
            let acc = Accounts {
                operator: actor(Role::Operator),
                dispatcher: actor(Role::Dispatcher),
                callback: actor(Role::Callback),
                supervisor: actor(Role::Supervisor),
                handlers: HashMap::new(),
            };
            let mut g = Generator::new(&dir, seed, end, acc)?;
            g.run(share, first_day, CHUNK, |chunk| {
                let facts: Vec<RequestFacts> = chunk
                    .iter()
                    .map(|(st, events)| {
                        // Unique across generators; merges refer to masters only through
                        // events, which the facts do not keep.
                        let id = st.id * threads as i64 + k as i64;
                        let mut f = request_facts(id, events);
                        map.relabel(&mut f);
                        f
                    })
                    .collect();
                tx.blocking_send(facts).is_ok()
            });
            Ok(g.stats.requests)
        }));
    }
    drop(tx);
    let mut loaded: u64 = 0;
    let mut next_log = 1_000_000;
    let load_started = Instant::now();
    while let Some(facts) = rx.recv().await {
        console::copy_facts(&app, &facts).await?;
        loaded += facts.len() as u64;
        if loaded >= next_log {
            let secs = load_started.elapsed().as_secs_f64();
            tracing::info!(
                loaded,
                of = a.requests,
                per_s = (loaded as f64 / secs) as u64,
                "city facts"
            );
            next_log += 1_000_000;
        }
    }
    let mut generated = 0;
    for h in handles {
        generated += h.await.map_err(|e| anyhow!("a generator crashed: {e}"))??;
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    let index_started = Instant::now();
    console::fact_indexes(&app, true).await?;
    let index_secs = index_started.elapsed().as_secs_f64();
    let (cycles, callbacks, whistles) = console::fact_rows(&app).await?;
    app.close().await;
    Ok(serde_json::json!({
        "backend": app.backend(),
        "requests": generated,
        "streets": CITY_STREETS,
        "fact_rows": {"cycles": cycles, "callbacks": callbacks, "whistles": whistles},
        "from_day": crate::local_rfc3339(&dir, Timestamp::from_millisecond(crate::demo::sim::day_start(first_day))?),
        "to": crate::local_rfc3339(&dir, end),
        "threads": threads,
        "seed": a.seed,
        "generate_and_copy_seconds": (load_secs * 10.0).round() / 10.0,
        "index_seconds": (index_secs * 10.0).round() / 10.0,
        "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    }))
}
