//! One request: reading it (with the identity-view audit of 条例 Art.8/35), its event log,
//! and every lifecycle action or 并单 on it, from any door.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::{Actor, Command, Event, RequestState};
use jiesu_store::{AttachmentMeta, User};

/// What can be done to one request: a lifecycle command, or 并单 into a master.
pub enum Action {
    Command(Command),
    Merge { master_id: i64 },
}

/// Applies one action for `user` and keeps the search index in step.
pub async fn perform(app: &App, user: &User, id: i64, act: &Action) -> AppResult<RequestState> {
    require(user, Capability::ActOnRequests)?;
    perform_as(app, &user.actor(), id, act).await
}

/// [`perform`] for an actor without an account (a citizen rating on the portal): the domain
/// decides what that actor may do.
pub async fn perform_as(
    app: &App,
    actor: &Actor,
    id: i64,
    act: &Action,
) -> AppResult<RequestState> {
    let now = app.now();
    let st = match act {
        Action::Merge { master_id } => app.store.merge(actor, id, *master_id, now).await?,
        Action::Command(cmd) => app.store.act(&app.dir, actor, id, cmd, now).await?,
    };
    crate::metrics::action_performed(match act {
        Action::Merge { .. } => "merge",
        Action::Command(cmd) => cmd.name(),
    });
    crate::search::after_write(app.search.as_ref(), &st);
    Ok(st)
}

/// Request `id` if `user` may see it; a request outside a handler's unit is "not found", the
/// same answer as a missing id, so ids cannot be probed.
pub async fn load_visible(app: &App, user: &User, id: i64) -> AppResult<RequestState> {
    require(user, Capability::ReadRequests)?;
    let st = app.store.get(id).await?.ok_or_else(AppError::not_found)?;
    if !jiesu_domain::can_see(&user.actor(), &st) {
        return Err(AppError::not_found());
    }
    Ok(st)
}

/// Whether the request holds a caller's identity at all.
pub fn has_identity(st: &RequestState) -> bool {
    st.intake.caller.name.is_some() || st.intake.caller.phone.is_some()
}

/// Logs that `user` saw the caller's identity on request `id` (条例 Art.8/35).
pub async fn log_identity_view(app: &App, user: &User, id: i64, what: &str) -> AppResult<()> {
    let detail = Some(what.to_string());
    crate::accounts::audit(
        app,
        user,
        "view_caller_identity",
        "request",
        id.to_string(),
        detail,
    )
    .await
}

/// One request as `user` may see it, and whether the caller's identity is revealed to them
/// (then the view has been logged as `what`).
pub async fn view(app: &App, user: &User, id: i64, what: &str) -> AppResult<(RequestState, bool)> {
    let st = load_visible(app, user, id).await?;
    let reveal = user.role.sees_caller_identity();
    if reveal && has_identity(&st) {
        log_identity_view(app, user, id, what).await?;
    }
    Ok((st, reveal))
}

/// A request's event log as `user` may see it, and whether identities are revealed (logged).
pub async fn events(app: &App, user: &User, id: i64) -> AppResult<(Vec<Event>, bool)> {
    let (_, reveal) = view(app, user, id, "event log").await?;
    Ok((app.store.events(id).await?, reveal))
}

/// The request with this tracking code, for a citizen who holds the code (the portal).
pub async fn by_tracking_code(
    app: &App,
    code: &str,
) -> AppResult<Option<(RequestState, Vec<Event>)>> {
    let Some(st) = app.store.get_by_tracking_code(code).await? else {
        return Ok(None);
    };
    let events = app.store.events(st.id).await?;
    Ok(Some((st, events)))
}

/// Everything a request page shows: the state, whether identities are revealed (the view is
/// then logged), the event log and the photos' metadata.
pub struct Detail {
    pub state: RequestState,
    pub reveal: bool,
    pub events: Vec<Event>,
    pub photos: Vec<AttachmentMeta>,
}

pub async fn detail(app: &App, user: &User, id: i64, what: &str) -> AppResult<Detail> {
    let (state, reveal) = view(app, user, id, what).await?;
    let events = app.store.events(id).await?;
    // A missing photo list costs the photos, not the page.
    let photos = app.store.attachments(id).await.unwrap_or_default();
    Ok(Detail {
        state,
        reveal,
        events,
        photos,
    })
}

/// Photo number `n` of a request `user` may see, with its bytes.
pub async fn photo(
    app: &App,
    user: &User,
    id: i64,
    n: usize,
) -> AppResult<Option<(AttachmentMeta, Vec<u8>)>> {
    load_visible(app, user, id).await?;
    let list = app.store.attachments(id).await?;
    let Some(meta) = list.into_iter().nth(n) else {
        return Ok(None);
    };
    Ok(app
        .store
        .attachment_bytes(meta.id)
        .await?
        .map(|b| (meta, b)))
}

/// The id of the request with tracking code `code` (any case, spaces around), if `user` may
/// see it.
pub async fn id_of_code(app: &App, user: &User, code: &str) -> AppResult<Option<i64>> {
    require(user, Capability::ReadRequests)?;
    let Some(code) = jiesu_domain::tracking::as_tracking_code(code) else {
        return Ok(None);
    };
    Ok(app
        .store
        .get_by_tracking_code(&code)
        .await?
        .filter(|st| jiesu_domain::can_see(&user.actor(), st))
        .map(|st| st.id))
}

/// A citizen's rating of the request with tracking code `code` (the portal: holding the code
/// is the citizen's proof). `None` when no request has that code.
pub async fn rate_by_code(
    app: &App,
    citizen: &Actor,
    code: &str,
    cmd: Command,
) -> AppResult<Option<RequestState>> {
    let Some(st) = app.store.get_by_tracking_code(code).await? else {
        return Ok(None);
    };
    perform_as(app, citizen, st.id, &Action::Command(cmd))
        .await
        .map(Some)
}
