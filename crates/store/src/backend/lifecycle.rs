//! Actions on requests: `act` and the SLA sweep through the one engine (engine.rs), and 并单.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    pub async fn act(
        &self,
        dir: &Directory,
        actor: &Actor,
        id: RequestId,
        cmd: &Command,
        now: Timestamp,
    ) -> Result<RequestState> {
        // The one command loop (engine.rs).
        self.run_act(&RequestRows(&self.pii), id, actor, now, |st| {
            if !jiesu_domain::can_see(actor, st) {
                return Err(StoreError::Domain(DomainError::NotVisible));
            }
            let ctx = jiesu_domain::Ctx { dir, now };
            Ok(jiesu_domain::decide(st, actor, cmd, &ctx)?)
        })
        .await
    }

    pub(super) async fn write_events(
        tx: &mut Tx,
        st: &RequestState,
        prev: i64,
        events: &[Event],
        pii: &Pii,
    ) -> Result<()> {
        Self::insert_events(tx, st.id, events, pii).await?;
        Self::update_projection(tx, st, prev, pii).await?;
        // 考评 facts (rollup.rs), in the same transaction.
        Self::refresh_facts(tx, st.id, events).await?;
        if events.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Dispatched { .. }
                    | EventKind::Reopened { .. }
                    | EventKind::Whistled { .. }
            )
        }) {
            Self::sync_units(tx, st).await?;
        }
        Ok(())
    }

    pub async fn merge(
        &self,
        actor: &Actor,
        child: RequestId,
        master: RequestId,
        now: Timestamp,
    ) -> Result<RequestState> {
        for _ in 0..MAX_RETRIES {
            let mut tx = begin_write(&self.write).await?;
            // Lock in id order so two opposite merges cannot deadlock.
            let (first, second) = if child < master {
                (child, master)
            } else {
                (master, child)
            };
            let a = Self::load_for_update(&mut tx, first, &self.pii).await?;
            let b = Self::load_for_update(&mut tx, second, &self.pii).await?;
            let (c, m) = if child < master { (a, b) } else { (b, a) };
            let mut c = c.ok_or(StoreError::NotFound)?;
            let mut m = m.ok_or_else(|| {
                StoreError::Domain(DomainError::invalid(
                    "master_id",
                    "unknown_request",
                    format!("no request {master}"),
                ))
            })?;
            if !jiesu_domain::can_see(actor, &c) {
                return Err(StoreError::Domain(DomainError::NotVisible));
            }
            let (ce, me) = jiesu_domain::decide_merge(&c, &m, actor)?;
            let (cp, mp) = (c.version, m.version);
            let cev = stamp(&mut c, vec![ce], actor, now);
            let mev = stamp(&mut m, vec![me], actor, now);
            let r = async {
                Self::write_events(&mut tx, &c, cp, &cev, &self.pii).await?;
                Self::write_events(&mut tx, &m, mp, &mev, &self.pii).await
            }
            .await;
            match r {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(c);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    pub async fn sweep_sla(&self, now: Timestamp) -> Result<SweepReport> {
        // The one timer sweep (engine.rs); SLA breaches are the request's timers.
        self.run_sweep(&RequestRows(&self.pii), now, |st| {
            jiesu_domain::sla_breaches(st, now)
        })
        .await
    }
}
