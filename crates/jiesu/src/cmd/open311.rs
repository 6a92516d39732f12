//! `jiesu open311 key add|list|revoke`: Open311 API keys.

use crate::{Open311KeyCmd, print_out};
use anyhow::{Context, Result, anyhow, bail};
use jiesu_store::Store;
use jiff::Timestamp;

/// `jiesu open311 key …`: prints JSON; `add` prints the key, which is shown only this once.
pub async fn key(cmd: Open311KeyCmd) -> Result<()> {
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
