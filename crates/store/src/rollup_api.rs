//! The `Store` face of the 考评 fast path (facts written once in `rollup.rs`, compiled per
//! backend): grouped counts, rebuild, and bulk loads of precomputed facts (COPY on PostgreSQL).

use crate::{Result, Store};
use jiesu_domain::assessment::{Assessment, GroupBy, GroupScore, Query, RequestFacts, assemble};
use jiff::Timestamp;
use std::fmt::Write as _;

/// The three statements of the fast path (cycles, callbacks, whistles), grouped as `by` says,
/// with `$1` = period start, `$2` = period end, `$3` = as_of (epoch ms). Public so a benchmark
/// can run exactly these statements elsewhere (DuckDB).
pub fn assessment_sql(by: GroupBy) -> [String; 3] {
    let g = match by {
        GroupBy::Unit => "unit",
        GroupBy::Street => "street",
        GroupBy::Category | GroupBy::TopCategory => "category",
        GroupBy::Channel => "channel",
    };
    // A cycle version counts when it was opened in the period and is valid at the cut-off.
    let cycles = format!(
        "SELECT {g}, COUNT(*), \
         SUM(CASE WHEN accepted_at <= $3 AND contacted_at <= $3 AND accepted_at <= response_due \
             AND contacted_at <= response_due THEN 1 ELSE 0 END), \
         SUM(CASE WHEN replied_at <= $3 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN replied_at <= $3 AND replied_at <= completion_due THEN 1 ELSE 0 END) \
         FROM assessment_cycles WHERE opened_at >= $1 AND opened_at < $2 AND valid_from <= $3 \
         AND valid_to > $3 GROUP BY {g}"
    );
    // The counted callback of a request in the period: its latest reached one (no reached
    // callback after it inside the period and the cut-off); a request with only unreached
    // ones is counted once, on its latest callback, when no reached callback precedes it
    // inside the period.
    // `lr`: this row is the request's counted (latest reached) callback; computed once per
    // row in the inner query rather than once per sum.
    let callbacks = format!(
        "SELECT {g}, SUM(lr), SUM(CASE WHEN resolved THEN lr ELSE 0 END), \
         SUM(CASE WHEN satisfaction = 1 THEN lr ELSE 0 END), \
         SUM(CASE WHEN satisfaction = 2 THEN lr ELSE 0 END), \
         SUM(CASE WHEN satisfaction = 3 THEN lr ELSE 0 END), \
         SUM(CASE WHEN (next_at >= $2 OR next_at > $3) AND prev_reached_at < $1 THEN 1 ELSE 0 END) \
         FROM (SELECT {g}, resolved, satisfaction, next_at, prev_reached_at, \
               CASE WHEN reached AND (next_reached_at >= $2 OR next_reached_at > $3) THEN 1 ELSE 0 END AS lr \
               FROM assessment_callbacks WHERE at >= $1 AND at < $2 AND at <= $3 AND valid_to > $3) AS c \
         GROUP BY {g}"
    );
    let whistles = format!(
        "SELECT {g}, COUNT(*), \
         SUM(CASE WHEN reported_at <= $3 AND reported_at <= due THEN 1 ELSE 0 END) \
         FROM assessment_whistles WHERE at >= $1 AND at < $2 AND at <= $3 AND valid_to > $3 \
         GROUP BY {g}"
    );
    [cycles, callbacks, whistles]
}

impl Store {
    /// The grouped counts of `[start, end)` as of `as_of`, from the assessment facts (for
    /// `GroupBy::TopCategory` keyed by leaf category; `assemble` folds them).
    pub async fn assessment_counts(
        &self,
        start: Timestamp,
        end: Timestamp,
        as_of: Timestamp,
        by: GroupBy,
    ) -> Result<Vec<GroupScore>> {
        delegate!(self.assessment_counts(start, end, as_of, by))
    }

    /// The assessment of `q` from the facts: the same answer as `assess` over the event logs.
    pub async fn assess_fast(&self, q: &Query<'_>) -> Result<Assessment> {
        let counts = self
            .assessment_counts(q.period.start, q.period.end, q.as_of, q.by)
            .await?;
        Ok(assemble(counts, q))
    }

    /// `jiesu rollup rebuild`: every fact derived again from the event log, in one transaction.
    /// Returns (requests, events) read.
    pub async fn rebuild_assessment_facts(&self) -> Result<(u64, u64)> {
        delegate!(self.rebuild_assessment_facts())
    }

    /// Bulk loads: drop (`false`) or create and ANALYZE (`true`) the fact tables' indexes.
    pub async fn fact_indexes(&self, present: bool) -> Result<()> {
        delegate!(self.fact_indexes(present))
    }

    /// Rows in the fact tables: (cycles, callbacks, whistles).
    pub async fn fact_rows(&self) -> Result<(i64, i64, i64)> {
        delegate!(self.fact_rows())
    }

    /// Appends precomputed facts of requests that have none (generators). PostgreSQL: COPY.
    pub async fn copy_facts(&self, facts: &[RequestFacts]) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.append_facts(facts).await,
            Store::Postgres(db) => copy_facts_pg(db.write_pool(), facts).await,
        }
    }
}

/// COPY text format: tab-separated, `\N` for NULL. Codes never hold tabs, newlines or
/// backslashes (checked: such a value is refused rather than escaped).
async fn copy_facts_pg(pool: &sqlx::PgPool, facts: &[RequestFacts]) -> Result<()> {
    fn text(out: &mut String, s: &str) -> Result<()> {
        if s.contains(['\t', '\n', '\r', '\\']) {
            return Err(crate::StoreError::Corrupt(format!(
                "code `{s}` holds a control character"
            )));
        }
        out.push_str(s);
        Ok(())
    }
    fn opt(out: &mut String, v: Option<i64>) {
        match v {
            Some(v) => {
                let _ = write!(out, "{v}");
            }
            None => out.push_str("\\N"),
        }
    }
    let mut cycles = String::new();
    let mut callbacks = String::new();
    let mut whistles = String::new();
    for f in facts {
        let mut keys = String::new();
        text(&mut keys, &f.street)?;
        keys.push('\t');
        text(&mut keys, &f.category)?;
        keys.push('\t');
        text(&mut keys, &f.channel)?;
        for c in &f.cycles {
            let _ = write!(cycles, "{}\t{}\t{}\t", f.request_id, c.cycle, c.version);
            text(&mut cycles, &c.unit)?;
            let _ = write!(
                cycles,
                "\t{keys}\t{}\t{}\t{}\t{}\t{}\t",
                c.opened_at, c.valid_from, c.valid_to, c.response_due, c.completion_due
            );
            opt(&mut cycles, c.accepted_at);
            cycles.push('\t');
            opt(&mut cycles, c.contacted_at);
            cycles.push('\t');
            opt(&mut cycles, c.replied_at);
            cycles.push('\n');
        }
        for c in &f.callbacks {
            let _ = write!(callbacks, "{}\t{}\t", f.request_id, c.n);
            text(&mut callbacks, &c.unit)?;
            let _ = writeln!(
                callbacks,
                "\t{keys}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                c.at,
                c.valid_to,
                c.reached,
                c.resolved,
                c.satisfaction,
                c.next_at,
                c.next_reached_at,
                c.prev_reached_at
            );
        }
        for w in &f.whistles {
            let _ = write!(whistles, "{}\t{}\t", f.request_id, w.n);
            text(&mut whistles, &w.unit)?;
            let _ = write!(whistles, "\t{keys}\t{}\t{}\t{}\t", w.at, w.valid_to, w.due);
            opt(&mut whistles, w.reported_at);
            whistles.push('\n');
        }
    }
    let mut conn = pool.acquire().await?;
    for (table, cols, data) in [
        (
            "assessment_cycles",
            "request_id, cycle, version, unit, street, category, channel, opened_at, valid_from, valid_to, response_due, completion_due, accepted_at, contacted_at, replied_at",
            cycles,
        ),
        (
            "assessment_callbacks",
            "request_id, n, unit, street, category, channel, at, valid_to, reached, resolved, satisfaction, next_at, next_reached_at, prev_reached_at",
            callbacks,
        ),
        (
            "assessment_whistles",
            "request_id, n, unit, street, category, channel, at, valid_to, due, reported_at",
            whistles,
        ),
    ] {
        if data.is_empty() {
            continue;
        }
        let mut copy = conn
            .copy_in_raw(&format!("COPY {table} ({cols}) FROM STDIN"))
            .await?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await?;
    }
    Ok(())
}
