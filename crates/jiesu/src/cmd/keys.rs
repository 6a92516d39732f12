//! `jiesu keys`: the keyring that seals callers' names and phones at rest (see
//! `jiesu_store::pii`): make one, add a key, reseal the database under the newest key, and
//! count what each key seals.

use anyhow::{Context, Result, anyhow, bail};
use jiesu_store::{Algorithm, Keyring};
use std::path::Path;

fn algorithm(name: &str) -> Result<Algorithm> {
    match name {
        "aes-256-gcm" => Ok(Algorithm::Aes256Gcm),
        "sm4-gcm" => Ok(Algorithm::Sm4Gcm),
        other => bail!("--algorithm `{other}`: use aes-256-gcm or sm4-gcm"),
    }
}

/// A fresh key id: the date and a random suffix, so two made on one day differ.
fn fresh_id() -> String {
    let mut b = [0u8; 3];
    let _ = getrandom::fill(&mut b);
    format!(
        "k{}-{:02x}{:02x}{:02x}",
        jiff::Timestamp::now().strftime("%Y%m%d"),
        b[0],
        b[1],
        b[2]
    )
}

/// Writes `text` to `path` readable by its owner only, never over an existing file by
/// accident (`replace` is for `add`, which rewrites the keyring it read).
fn write_secret(path: &Path, text: &str, replace: bool) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("partial");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    if !replace && path.exists() {
        bail!("{} exists; a keyring is never overwritten", path.display());
    }
    let _ = std::fs::remove_file(&tmp);
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub fn new(out: &Path, alg: &str, id: Option<String>) -> Result<()> {
    let alg = algorithm(alg)?;
    let id = id.unwrap_or_else(fresh_id);
    let text = Keyring::generate(alg, &id);
    Keyring::from_toml(&text).map_err(|e| anyhow!("{e}"))?;
    write_secret(out, &text, false)?;
    println!(
        "{}",
        serde_json::json!({ "keyring": out.display().to_string(), "active": id, "algorithm": alg.as_str() })
    );
    Ok(())
}

pub fn add(file: &Path, alg: &str, id: Option<String>) -> Result<()> {
    let alg = algorithm(alg)?;
    let id = id.unwrap_or_else(fresh_id);
    let old =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let text = Keyring::with_new_key(&old, alg, &id).map_err(|e| anyhow!("{e}"))?;
    write_secret(file, &text, true)?;
    println!(
        "{}",
        serde_json::json!({ "keyring": file.display().to_string(), "active": id, "algorithm": alg.as_str(),
            "next": "restart every server with this keyring, then run `jiesu keys rotate`" })
    );
    Ok(())
}

pub async fn rotate(db: String) -> Result<()> {
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let report = jiesu_app::maintenance::reseal(&db, &mut |r| {
        if last.elapsed().as_secs() >= 5 {
            eprintln!("{} requests scanned, {} resealed", r.scanned, r.states);
            last = std::time::Instant::now();
        }
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let mut v = serde_json::to_value(&report)?;
    v["seconds"] = serde_json::json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0);
    println!("{v}");
    Ok(())
}

pub async fn status(db: String) -> Result<()> {
    let s = jiesu_app::maintenance::key_status(&db)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&s)?);
    Ok(())
}
