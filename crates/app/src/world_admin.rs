//! Editing the world in force: an administrator's change is stored as a new version, swapped in
//! for every later call, and audited.

use crate::App;
use crate::error::AppResult;
use crate::policy::{Capability, require};
use jiesu_domain::Directory;
use jiesu_store::User;
use jiesu_world::World;

/// Stores `world` as the new version, makes it the one in force and audits the edit
/// (`action` on `target`, with `detail`).
pub async fn replace(
    app: &App,
    user: &User,
    world: World,
    (action, target, detail): (&str, &str, String),
) -> AppResult<()> {
    require(user, Capability::EditWorld)?;
    let source = format!("admin:{}", user.username);
    app.store.save_world(&world, &source, app.now()).await?;
    app.world.replace(Directory::new(world));
    // The edit is in force; a failed audit write is logged, never undoes it.
    if let Err(e) =
        crate::accounts::audit(app, user, action, "world", target.to_string(), Some(detail)).await
    {
        tracing::warn!(error = %e.message, "audit write failed");
    }
    Ok(())
}
