//! `jiesu user add`: creates an account, the password read from standard input.

use crate::{UserCmd, init_world};
use anyhow::{Context, Result, anyhow};
use jiesu_store::Store;
use jiff::Timestamp;
use std::io::Read;

pub async fn run(cmd: UserCmd) -> Result<()> {
    let UserCmd::Add {
        db,
        username,
        role,
        unit,
        display_name,
        password_stdin: _,
    } = cmd;
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
