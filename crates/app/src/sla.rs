//! The timer sweep: deadline breaches raise 督办 exactly once, across restarts and several
//! servers on one PostgreSQL (the store's engine guarantees it; this is the use case and the
//! background task).

use crate::App;
use crate::error::AppResult;
use crate::policy::{Capability, require};
use jiesu_store::{SweepReport, User};
use std::time::Duration;

/// Runs the sweep now, for someone who may.
pub async fn sweep(app: &App, user: &User) -> AppResult<SweepReport> {
    require(user, Capability::RunSweep)?;
    let r = app.store.sweep_sla(app.now()).await?;
    sweep_cases(app).await?;
    Ok(r)
}

/// Fires the due timers of every other kind of case (elder-care orders' late-visit alerts,
/// alarms' escalation chains).
pub async fn sweep_cases(app: &App) -> AppResult<SweepReport> {
    // 一键呼 clocks also run every second on their own task (alarms::spawn_clock); here they
    // are swept too so a plain `jiesu sweep` leaves nothing due.
    app.store
        .sweep_case_timers::<jiesu_domain::alarms::Alarm>(app.now())
        .await?;
    // 托育 offer clock: expired offers free places for the waiting list.
    crate::childcare::rounds::sweep(app).await?;
    Ok(app
        .store
        .sweep_case_timers::<jiesu_domain::care::ServiceOrder>(app.now())
        .await?)
}

/// Runs the sweep every `every` until the process ends.
pub fn spawn_sweeper(app: App, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            let swept = app.store.sweep_sla(app.now()).await;
            if let Err(e) = sweep_cases(&app).await {
                tracing::warn!(error = %e, "case timer sweep failed");
            }
            let at_ms = jiff::Timestamp::now().as_millisecond();
            crate::metrics::sweep_finished(started.elapsed(), swept.is_ok(), at_ms);
            match swept {
                Ok(r) if r.escalations > 0 => {
                    tracing::info!(escalations = r.escalations, "SLA sweep raised 督办")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SLA sweep failed"),
            }
        }
    })
}
