//! `jiesu`: the one binary — serve, demo, migrate, world check, sla due, user add.

mod bench;
mod city;
mod demo;
mod export;
mod import;
mod report;
mod rollup;
mod world_files;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use jiesu_domain::Directory;
use jiesu_server::{AppState, Clock};
use jiesu_store::Store;
use jiesu_world::Span;
use jiff::Timestamp;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "jiesu",
    version,
    about = "接诉即办: 12345 requests from intake to assessment"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API (initialises an empty database with the world first).
    Serve {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long, env = "JIESU_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// World folder (default: ./world/xicheng, else the shipped Xicheng world).
        #[arg(long)]
        world: Option<PathBuf>,
        /// Seconds between SLA sweeps.
        #[arg(long, default_value_t = 60)]
        sweep_every: u64,
        /// Directory of the full-text index (default: in memory, rebuilt at each start).
        #[arg(long, env = "JIESU_INDEX")]
        index: Option<PathBuf>,
        /// Seconds a claimed webhook delivery is reserved for this server; if it dies, the
        /// delivery is sent again (by any server) after this.
        #[arg(long, env = "JIESU_WEBHOOK_LEASE_SECS", default_value_t = 30)]
        webhook_lease_secs: u64,
    },
    /// Build a fresh demo database (Xicheng world, one account per role, N months of history),
    /// then serve it.
    Demo {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu-demo.db")]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Build the data and exit.
        #[arg(long)]
        no_serve: bool,
        /// Seed of the generator (same seed, same history).
        #[arg(long, default_value_t = 12345)]
        seed: u64,
        #[arg(long)]
        world: Option<PathBuf>,
        /// `district` (default): the Xicheng demo above. `city`: a Beijing-scale year of
        /// assessment facts only (343 streets; COPY on PostgreSQL) for the 考评 benchmark;
        /// prints JSON and exits.
        #[arg(long, default_value = "district")]
        scale: String,
        /// With `--scale city`: requests in the year (Beijing 2024: ≈2,400万).
        #[arg(long, default_value_t = 24_000_000)]
        requests: u64,
        /// With `--scale city`: generator threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// 考评 fast path: rebuild the assessment facts from the event log, or check them.
    Rollup {
        #[command(subcommand)]
        cmd: rollup::RollupCmd,
    },
    /// Apply pending migrations.
    Migrate {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
    },
    /// The world files.
    World {
        #[command(subcommand)]
        cmd: WorldCmd,
    },
    /// Deadline arithmetic on the working calendar.
    Sla {
        #[command(subcommand)]
        cmd: SlaCmd,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Chinese text: train and evaluate a classifier on a CSV file.
    Text {
        #[command(subcommand)]
        cmd: TextCmd,
    },
    /// Train the category, request-type and unit classifiers on closed requests in the
    /// database and store them as new model versions (servers pick them up within a minute).
    /// Prints JSON with counts and timings.
    Train {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// Train on at most this many of the most recently closed requests.
        #[arg(long, default_value_t = jiesu_server::api::suggest::DEFAULT_TRAIN_LIMIT)]
        limit: u32,
    },
    /// Benchmarks that print JSON.
    Bench {
        #[command(subcommand)]
        cmd: bench::BenchCmd,
    },
    /// The monthly 考评 as XLSX (rankings, rates with counts, overdue list, hot spots, spikes,
    /// 每月一题 candidates), JSON (the same) or CSV (the rates table).
    Report {
        /// Period: 2026-10, or any of 2026-W43, 2026-Q4, 2026, 2026-10-05.
        #[arg(long)]
        month: String,
        #[arg(long, default_value = "unit")]
        by: String,
        /// RFC 3339; default now.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, default_value_t = 3)]
        bottom: usize,
        #[arg(long, env = "JIESU_DB")]
        db: String,
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a CSV export of another platform through a TOML column mapping; prints JSON
    /// (rows read, imported, skipped, rejected with row-level errors, warnings, rows/s).
    Import {
        #[arg(long)]
        mapping: PathBuf,
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// Check and count everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = import::DEFAULT_CHUNK)]
        chunk: usize,
        file: PathBuf,
    },
    /// Export requests to CSV or XLSX, filtered like the list API (identities masked); prints
    /// JSON (rows, seconds).
    Export {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        /// `csv` or `xlsx`.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        filters: export::Filters,
    },
    /// Open311 GeoReport v2 clients.
    Open311 {
        #[command(subcommand)]
        cmd: Open311Cmd,
    },
    /// Rebuild the on-disk full-text index from the database; prints JSON (docs, docs/s).
    Reindex {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long, env = "JIESU_INDEX")]
        index: PathBuf,
    },
}

#[derive(Subcommand)]
enum Open311Cmd {
    /// API keys of Open311 clients.
    Key {
        #[command(subcommand)]
        cmd: Open311KeyCmd,
    },
}

#[derive(Subcommand)]
enum Open311KeyCmd {
    /// Issue a key to a client; prints it once (only its hash is stored).
    Add {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long)]
        name: String,
    },
    /// List issued keys (without the keys).
    List {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
    },
    /// Revoke a key: the client's POSTs are refused from now on.
    Revoke {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum TextCmd {
    /// Train a classifier; the text column may hold raw text or space-separated tokens.
    Train {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        text_col: String,
        #[arg(long)]
        label_col: String,
        #[arg(long)]
        model: PathBuf,
    },
    /// Evaluate a model on a labelled CSV; prints JSON (accuracy, macro_f1, per label, texts/s).
    Eval {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        text_col: String,
        #[arg(long)]
        label_col: String,
    },
}

#[derive(Subcommand)]
enum WorldCmd {
    /// Validate a world folder; prints every error as FILE:LINE.
    Check { dir: PathBuf },
}

#[derive(Subcommand)]
enum SlaCmd {
    /// Print the deadline: --from T plus --working-days N or --hours N.
    Due {
        #[arg(long)]
        from: String,
        #[arg(long, conflicts_with = "hours", required_unless_present = "hours")]
        working_days: Option<u32>,
        #[arg(long)]
        hours: Option<u32>,
        #[arg(long)]
        world: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("JIESU_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("JIESU_LOG_FORMAT").is_ok_and(|v| v == "json");
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Serve {
            db,
            bind,
            world,
            sweep_every,
            index,
            webhook_lease_secs,
        } => {
            let store = Store::open(&db).await.context("opening the database")?;
            let dir = init_world(&store, world.as_deref()).await?;
            serve(store, dir, &bind, sweep_every, index, webhook_lease_secs).await
        }
        Cmd::Reindex { db, index } => {
            let store = Store::connect(&db).await.context("opening the database")?;
            let idx = jiesu_text::search::SearchIndex::open(&index)
                .with_context(|| format!("opening the index {}", index.display()))?;
            let report = jiesu_server::search::rebuild(&store, &idx).await?;
            println!(
                "{}",
                serde_json::json!({
                    "docs": report.docs,
                    "seconds": report.seconds,
                    "docs_per_second": report.docs_per_second,
                    "index": index.display().to_string(),
                })
            );
            store.close().await;
            Ok(())
        }
        Cmd::Demo {
            db,
            bind,
            months,
            no_serve,
            seed,
            world,
            scale,
            requests,
            threads,
        } => {
            match scale.as_str() {
                "district" => {}
                "city" => {
                    let summary = city::build(city::CityArgs {
                        db: &db,
                        requests,
                        seed,
                        world: world.as_deref(),
                        threads,
                        end: None,
                    })
                    .await?;
                    println!("{}", serde_json::to_string_pretty(&summary)?);
                    return Ok(());
                }
                other => bail!("--scale `{other}`: district or city"),
            }
            let (store, dir) = demo::build(&db, months, seed, world.as_deref()).await?;
            if no_serve {
                store.close().await;
                Ok(())
            } else {
                serve(store, dir, &bind, 60, None, 30).await
            }
        }
        Cmd::Migrate { db } => {
            let store = Store::connect(&db).await?;
            let applied = store.migrate().await?;
            println!(
                "{}",
                serde_json::json!({"backend": store.backend(), "applied": applied})
            );
            Ok(())
        }
        Cmd::World {
            cmd: WorldCmd::Check { dir },
        } => match jiesu_world::load_dir(&dir) {
            Ok(w) => {
                println!(
                    "{}: ok — {} streets, {} communities, {} units, {} categories, {} SLA classes, holidays for {:?}",
                    dir.display(),
                    w.streets.len(),
                    w.communities.len(),
                    w.units.len(),
                    w.categories.len(),
                    w.sla.classes.len(),
                    w.holidays.years
                );
                Ok(())
            }
            Err(errors) => {
                for e in errors.iter() {
                    eprintln!("{}/{e}", dir.display());
                }
                std::process::exit(1);
            }
        },
        Cmd::Sla {
            cmd:
                SlaCmd::Due {
                    from,
                    working_days,
                    hours,
                    world,
                },
        } => {
            let (w, _) = world_files::load(world.as_deref()).map_err(|e| anyhow!("{e}"))?;
            let dir = Directory::new(w);
            let from: Timestamp = from
                .parse()
                .with_context(|| format!("--from `{from}`: expected RFC 3339 with an offset"))?;
            let span = match (working_days, hours) {
                (Some(n), _) => Span::WorkingDays(n),
                (None, Some(h)) => Span::Hours(h),
                (None, None) => bail!("give --working-days N or --hours N"),
            };
            let due = dir.calendar.due(from, span);
            println!("{}", local_rfc3339(&dir, due));
            Ok(())
        }
        Cmd::User {
            cmd:
                UserCmd::Add {
                    db,
                    username,
                    role,
                    unit,
                    display_name,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let store = Store::open(&db).await?;
            let dir = init_world(&store, None).await?;
            let nu = jiesu_server::api::admin::new_user(
                &dir,
                &username,
                display_name.as_deref(),
                password,
                &role,
                unit.as_deref(),
            )
            .map_err(|e| {
                anyhow!(
                    "{}{}",
                    e.field.map(|f| format!("{f}: ")).unwrap_or_default(),
                    e.message
                )
            })?;
            let id = store.create_user(&nu, Timestamp::now()).await?;
            println!(
                "{}",
                serde_json::json!({"id": id, "username": nu.username, "role": nu.role.as_str(), "unit": nu.unit_code})
            );
            Ok(())
        }
        Cmd::Text { cmd } => {
            let out = match cmd {
                TextCmd::Train {
                    input,
                    text_col,
                    label_col,
                    model,
                } => serde_json::to_value(
                    jiesu_text::train_csv(&input, &text_col, &label_col, &model)
                        .map_err(|e| anyhow!("{e}"))?,
                )?,
                TextCmd::Eval {
                    model,
                    input,
                    text_col,
                    label_col,
                } => serde_json::to_value(
                    jiesu_text::eval_csv(&model, &input, &text_col, &label_col)
                        .map_err(|e| anyhow!("{e}"))?,
                )?,
            };
            print_out(&serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        Cmd::Train { db, limit } => {
            let store = Store::open(&db).await.context("opening the database")?;
            let dir = init_world(&store, None).await?;
            let report = jiesu_server::api::suggest::train_from_store(&store, &dir, limit)
                .await
                .map_err(|e| anyhow!("training failed: {e}"))?;
            store.close().await;
            print_out(&serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Cmd::Bench { cmd } => bench::run(cmd).await,
        Cmd::Rollup { cmd } => rollup::run(cmd).await,
        Cmd::Report {
            month,
            by,
            as_of,
            bottom,
            db,
            format,
            out,
        } => {
            report::run(report::ReportArgs {
                period: &month,
                by: &by,
                as_of: as_of.as_deref(),
                bottom,
                db: &db,
                format: &format,
                out: &out,
            })
            .await
        }
        Cmd::Open311 {
            cmd: Open311Cmd::Key { cmd },
        } => open311_key(cmd).await,
        Cmd::Export {
            db,
            format,
            out,
            filters,
        } => {
            let report = export::run(&db, &format, &out, filters).await?;
            print_out(&serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Cmd::Import {
            mapping,
            db,
            dry_run,
            chunk,
            file,
        } => {
            let report = import::run(import::Args {
                mapping: &mapping,
                db: &db,
                file: &file,
                dry_run,
                chunk: chunk.max(1),
            })
            .await?;
            print_out(&serde_json::to_string_pretty(&report)?);
            Ok(())
        }
    }
}

/// `jiesu open311 key …`: prints JSON; `add` prints the key, which is shown only this once.
async fn open311_key(cmd: Open311KeyCmd) -> Result<()> {
    let api_error = |e: jiesu_server::ApiError| {
        let field = e.body.field.map(|f| format!("--{f}: ")).unwrap_or_default();
        anyhow!("{field}{}", e.body.message)
    };
    let out = match cmd {
        Open311KeyCmd::Add { db, name } => {
            let store = Store::open(&db).await.context("opening the database")?;
            let issued = jiesu_server::open311::keys::issue(&store, &name, Timestamp::now())
                .await
                .map_err(|e| api_error(e.into()))?;
            store.close().await;
            eprintln!("store this api_key now: it cannot be shown again");
            serde_json::to_value(issued)?
        }
        Open311KeyCmd::List { db } => {
            let store = Store::open(&db).await.context("opening the database")?;
            let keys = store.api_keys().await?;
            store.close().await;
            serde_json::to_value(keys)?
        }
        Open311KeyCmd::Revoke { db, id } => {
            let store = Store::open(&db).await.context("opening the database")?;
            let key = match store.revoke_api_key(id, Timestamp::now()).await {
                Err(jiesu_store::StoreError::NotFound) => bail!("no Open311 key with id {id}"),
                other => other?,
            };
            store.close().await;
            serde_json::to_value(key)?
        }
    };
    print_out(&serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Prints a result; a closed pipe (`| head`) is not an error worth a panic.
fn print_out(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{s}");
}

/// `2026-10-15T23:59:59+08:00` in the world's zone.
pub fn local_rfc3339(dir: &Directory, t: Timestamp) -> String {
    t.to_zoned_datetime(dir.calendar.time_zone().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The world in force: the database's, else (a new database) the given or default world, saved.
/// A `--world` given for an initialised database replaces the world if it differs.
pub async fn init_world(store: &Store, dir: Option<&std::path::Path>) -> Result<Directory> {
    let stored = store.load_world().await?;
    let world = match (stored, dir) {
        (Some(w), None) => w,
        (stored, dir) => {
            let (w, source) = world_files::load(dir).map_err(|e| anyhow!("world: {e}"))?;
            if stored.as_ref() != Some(&w) {
                store.save_world(&w, &source, Timestamp::now()).await?;
                tracing::info!(source, "world saved to the database");
            }
            w
        }
    };
    Ok(Directory::new(world))
}

async fn serve(
    store: Store,
    dir: Directory,
    bind: &str,
    sweep_every: u64,
    index: Option<PathBuf>,
    webhook_lease_secs: u64,
) -> Result<()> {
    let mut state = AppState::new(store, dir, Clock::System);
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
            let store = state.store.clone();
            let idx = idx.clone();
            tokio::spawn(async move {
                match jiesu_server::search::rebuild(&store, &idx).await {
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
    // Events out: fans the outbox out to webhooks and delivers (safe beside other servers).
    jiesu_server::events::spawn_delivery_worker(state.store.clone(), {
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
    println!("jiesu serving on http://{addr} ({})", state.store.backend());
    jiesu_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
