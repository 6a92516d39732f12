//! `jiesu user add`: creates an account, the password read from standard input.

use crate::{UserCmd, open_app};
use anyhow::{Context, Result, anyhow};
use jiesu_app::accounts::AccountForm;
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
    let app = open_app(&db, None).await?;
    let form = AccountForm {
        username: &username,
        display_name: display_name.as_deref(),
        password,
        role: &role,
        unit: unit.as_deref(),
    };
    let id = jiesu_app::accounts::bootstrap_user(&app, form)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    app.close().await;
    let role: jiesu_domain::Role = role.parse().map_err(|_| anyhow!("role: unknown"))?;
    println!(
        "{}",
        serde_json::json!({"id": id, "username": username.trim(), "role": role.as_str(), "unit": unit})
    );
    Ok(())
}
