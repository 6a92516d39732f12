//! `jiesu`: the one binary — serve, demo, migrate, world check, sla due, user add.
//!
//! Here: the command line (clap), dispatch and the helpers the subcommands share; each
//! subcommand's work is in `cmd/<name>.rs` (or its own module: `bench`, `report`, `rollup`).

mod bench;
mod bench_alarms;
mod bench_at_rest;
mod bench_care;
mod city;
mod cmd;
mod demo;
mod export;
mod import;
mod report;
mod rollup;
mod world_files;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use jiesu_app::App;
use jiesu_app::console::Database;
use jiesu_domain::Directory;
use jiff::Timestamp;
use std::path::PathBuf;

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
        /// Serve https with this PEM certificate chain (with --tls-key).
        #[arg(long, env = "JIESU_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "JIESU_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
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
    /// 养老: the month's elder-care settlement as a file.
    Care {
        #[command(subcommand)]
        cmd: cmd::care::CareCmd,
    },
    /// 托育: run an allocation round (dry by default; `--publish` to commit), as JSON.
    Childcare {
        #[command(subcommand)]
        cmd: cmd::childcare::ChildcareCmd,
    },
    /// 一键呼 devices: `simulate` drives N devices on a broker and prints what it sent (JSON).
    Device {
        #[command(subcommand)]
        cmd: cmd::device::DeviceCmd,
    },
    /// Open311 GeoReport v2 clients.
    Open311 {
        #[command(subcommand)]
        cmd: Open311Cmd,
    },
    /// The audit log: `verify` recomputes its hash chain.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// The keyring sealing callers' names and phones at rest (`JIESU_PII_KEY_FILE` or
    /// `JIESU_PII_KEYRING`): make one, add a key, reseal under the newest, count by key.
    Keys {
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Back the whole database up into FILE while the server runs (one consistent snapshot;
    /// a portable format with per-table row counts and SHA-256); prints JSON.
    Backup {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
        #[arg(long)]
        out: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into an empty database (SQLite or PostgreSQL, whichever it came
    /// from); checked against the backup's hashes before it commits; prints JSON.
    Restore {
        #[arg(long, env = "JIESU_DB")]
        db: String,
        #[arg(long)]
        from: PathBuf,
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
enum KeysCmd {
    /// Write a new keyring FILE (mode 600) with one fresh key and a fresh blind-index key.
    New {
        #[arg(long)]
        out: PathBuf,
        /// aes-256-gcm (default) or sm4-gcm (for 密评).
        #[arg(long, default_value = "aes-256-gcm")]
        algorithm: String,
        /// Key id (default: k<date>-<random>).
        #[arg(long)]
        id: Option<String>,
    },
    /// Put a fresh key first in the keyring FILE (it seals from the next start); every key
    /// already there keeps opening what it sealed.
    Add {
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value = "aes-256-gcm")]
        algorithm: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Reseal every caller under the active key of the environment's keyring (also callers
    /// stored before encryption was on) and update the blind indexes; retires keys nothing
    /// uses any more, which may then leave the keyring. Resumable; prints JSON.
    Rotate {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
    },
    /// Count the stored names and phones by the key that seals them; prints JSON.
    Status {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute every link of the audit chain; prints JSON (rows, head_seq, head_hash, broken)
    /// and exits 1 naming the first broken link. Keep the head: a log cut short after it is
    /// otherwise a valid shorter chain.
    Verify {
        #[arg(long, env = "JIESU_DB", default_value = "sqlite://jiesu.db")]
        db: String,
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
            tls_cert,
            tls_key,
        } => {
            let tls = tls_cert
                .zip(tls_key)
                .map(|(cert, key)| cmd::serve::TlsFiles { cert, key });
            cmd::serve::run(db, bind, world, sweep_every, index, webhook_lease_secs, tls).await
        }
        Cmd::Reindex { db, index } => cmd::reindex::run(db, index).await,
        Cmd::Backup { db, out, force } => cmd::backup::backup(db, out, force).await,
        Cmd::Restore { db, from } => cmd::backup::restore(db, from).await,
        Cmd::Audit {
            cmd: AuditCmd::Verify { db },
        } => cmd::audit::verify(db).await,
        Cmd::Keys { cmd } => match cmd {
            KeysCmd::New { out, algorithm, id } => cmd::keys::new(&out, &algorithm, id),
            KeysCmd::Add {
                file,
                algorithm,
                id,
            } => cmd::keys::add(&file, &algorithm, id),
            KeysCmd::Rotate { db } => cmd::keys::rotate(db).await,
            KeysCmd::Status { db } => cmd::keys::status(db).await,
        },
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
            cmd::demo::run(cmd::demo::Args {
                db,
                bind,
                months,
                no_serve,
                seed,
                world,
                scale,
                requests,
                threads,
            })
            .await
        }
        Cmd::Migrate { db } => cmd::migrate::run(db).await,
        Cmd::World { cmd } => cmd::world::run(cmd),
        Cmd::Sla { cmd } => cmd::sla::run(cmd),
        Cmd::User { cmd } => cmd::user::run(cmd).await,
        Cmd::Text { cmd } => cmd::text::run(cmd),
        Cmd::Train { db, limit } => cmd::train::run(db, limit).await,
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
        } => cmd::open311::key(cmd).await,
        Cmd::Care { cmd } => cmd::care::run(cmd).await,
        Cmd::Childcare { cmd } => cmd::childcare::run(cmd).await,
        Cmd::Device { cmd } => cmd::device::run(cmd).await,
        Cmd::Export {
            db,
            format,
            out,
            filters,
        } => cmd::export::run(db, format, out, filters).await,
        Cmd::Import {
            mapping,
            db,
            dry_run,
            chunk,
            file,
        } => cmd::import::run(mapping, db, dry_run, chunk, file).await,
    }
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

/// Opens (and migrates) the database at `db` and puts the world in force: the database's,
/// else (a new database) the given or default world, saved. A `--world` given for an
/// initialised database replaces the world if it differs.
pub async fn open_app(db: &str, world: Option<&std::path::Path>) -> Result<App> {
    let database = Database::open(db).await.context("opening the database")?;
    with_world(database, world).await
}

/// [`open_app`] for a database already opened (a build that checked it is empty first).
pub async fn with_world(database: Database, world: Option<&std::path::Path>) -> Result<App> {
    database
        .into_app(world.is_some(), || {
            world_files::load(world).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| anyhow!("{e}"))
}

/// For read-only tools (reports, checks, benchmarks): the stored world, else the shipped
/// one, not saved.
pub async fn open_read_only(db: &str) -> Result<App> {
    Database::open(db)
        .await
        .context("opening the database")?
        .into_app_read_only(|| {
            world_files::load(None)
                .map(|(w, _)| w)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| anyhow!("{e}"))
}
