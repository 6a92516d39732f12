//! 考评 input read from the event log.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    /// 考评 input: the event logs, up to `as_of`, of the requests that have any event in
    /// [start, end) no later than `as_of`. Read in chunks of request ids so no single result
    /// set holds a whole period's rows.
    pub async fn assessment_logs(
        &self,
        start: Timestamp,
        end: Timestamp,
        as_of: Timestamp,
    ) -> Result<Vec<jiesu_domain::assessment::RequestLog>> {
        /// Requests per chunk: a few tens of thousands of rows each.
        const CHUNK: usize = 4000;
        let (start, end, as_of) = (
            start.as_millisecond(),
            end.as_millisecond(),
            as_of.as_millisecond(),
        );
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT request_id FROM request_events \
             WHERE at >= $1 AND at < $2 AND at <= $3 ORDER BY request_id",
        )
        .bind(start)
        .bind(end)
        .bind(as_of)
        .fetch_all(&self.read)
        .await?;
        let mut logs: Vec<jiesu_domain::assessment::RequestLog> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let (Some(&lo), Some(&hi)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            // The id range bounds the chunk; the subquery keeps out ids in the range that have
            // no event in the period.
            let rows = sqlx::query(
                "SELECT request_id, seq, at, actor_user_id, actor_name, actor_role, actor_unit, reason, payload \
                 FROM request_events WHERE request_id >= $1 AND request_id <= $2 AND at <= $3 \
                 AND request_id IN (SELECT request_id FROM request_events \
                     WHERE request_id >= $1 AND request_id <= $2 AND at >= $4 AND at < $5 AND at <= $3) \
                 ORDER BY request_id, seq",
            )
            .bind(lo)
            .bind(hi)
            .bind(as_of)
            .bind(start)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
            for r in &rows {
                let id: i64 = r.try_get("request_id")?;
                let e = event_from_row(r, &self.pii)?;
                match logs.last_mut() {
                    Some(l) if l.id == id => l.events.push(e),
                    _ => logs.push(jiesu_domain::assessment::RequestLog {
                        id,
                        events: vec![e],
                    }),
                }
            }
        }
        Ok(logs)
    }
}
