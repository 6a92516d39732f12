//! Reading requests: one, a page of a list, counts, search documents.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    pub async fn get(&self, id: RequestId) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, tracking_code, state FROM requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|(id, code, s)| decode_state(&self.pii, id, code, &s))
            .transpose()
    }

    pub async fn get_by_tracking_code(&self, code: &str) -> Result<Option<RequestState>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE tracking_code = $1",
        )
        .bind(code.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.map(|(id, code, s)| decode_state(&self.pii, id, code, &s))
            .transpose()
    }

    pub async fn events(&self, id: RequestId) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_name, actor_role, actor_unit, reason, payload \
             FROM request_events WHERE request_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| event_from_row(r, &self.pii)).collect()
    }

    /// The `WHERE` of a list filter (every condition but the cursor), appended to `sql`, with
    /// its parameters: one text for the page and for its total.
    fn filter_where(&self, f: &ListFilter, sql: &mut String, params: &mut Vec<P>) {
        let mut push = |sql: &mut String, clause: &str, p: P| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if !f.statuses.is_empty() {
            sql.push_str(" AND status IN (");
            for (i, s) in f.statuses.iter().enumerate() {
                push(
                    sql,
                    if i == 0 { "?" } else { ", ?" },
                    P::S(s.as_str().into()),
                );
            }
            sql.push(')');
        }
        if let Some(u) = &f.unit {
            push(sql, " AND lead_unit = ?", P::S(u.clone()));
        }
        if let Some(u) = &f.scope_unit {
            push(
                sql,
                " AND id IN (SELECT request_id FROM request_units WHERE unit_code = ?)",
                P::S(u.clone()),
            );
        }
        if let Some(s) = &f.street {
            push(sql, " AND street = ?", P::S(s.clone()));
        }
        if let Some(c) = &f.community {
            push(sql, " AND community = ?", P::S(c.clone()));
        }
        if !f.categories.is_empty() {
            sql.push_str(" AND category IN (");
            for (i, c) in f.categories.iter().enumerate() {
                push(sql, if i == 0 { "?" } else { ", ?" }, P::S(c.clone()));
            }
            sql.push(')');
        }
        if let Some(t) = &f.request_type {
            push(sql, " AND request_type = ?", P::S(t.clone()));
        }
        if let Some(c) = &f.channel {
            push(sql, " AND channel = ?", P::S(c.clone()));
        }
        match f.overdue {
            Some(true) => sql.push_str(" AND (response_overdue OR completion_overdue)"),
            Some(false) => sql.push_str(" AND NOT response_overdue AND NOT completion_overdue"),
            None => {}
        }
        if let Some(t) = f.warning_at {
            push(
                sql,
                " AND clock_running AND NOT completion_overdue AND warn_at <= ?",
                P::I(ms(t)),
            );
        }
        if let Some(t) = f.received_from {
            push(sql, " AND received_at >= ?", P::I(ms(t)));
        }
        if let Some(t) = f.received_to {
            push(sql, " AND received_at < ?", P::I(ms(t)));
        }
        if let Some(t) = &f.text {
            // LIKE wildcards in the user's text are matched literally.
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            push(
                sql,
                " AND text LIKE ? ESCAPE '\\'",
                P::S(format!("%{escaped}%")),
            );
        }
        if let Some(code) = &f.code {
            push(sql, " AND tracking_code = ?", P::S(code.clone()));
        }
        if let Some(phone) = &f.phone {
            match self.pii.phone_index(phone) {
                Some(ix) => push(sql, " AND caller_phone_index = ?", P::S(ix)),
                // No digits: no phone matches.
                None => sql.push_str(" AND 1 = 0"),
            }
        }
        if let Some(ids) = &f.ids {
            // Candidates from the search index; an empty list matches nothing.
            if ids.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(" AND id IN (");
                for (i, id) in ids.iter().enumerate() {
                    push(sql, if i == 0 { "?" } else { ", ?" }, P::I(*id));
                }
                sql.push(')');
            }
        }
        if f.extension_pending {
            sql.push_str(" AND status IN ('accepted', 'in_progress') AND NOT clock_running");
        }
    }

    /// How many requests match `f` (cursor, offset and limit aside): the total a paged list
    /// shows.
    pub async fn count(&self, f: &ListFilter) -> Result<i64> {
        let mut sql = String::from("SELECT COUNT(*) FROM requests WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        self.filter_where(f, &mut sql, &mut params);
        let row = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn list(&self, f: &ListFilter) -> Result<Page> {
        let mut sql =
            String::from("SELECT id, tracking_code, state, received_at FROM requests WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        self.filter_where(f, &mut sql, &mut params);
        let mut push = |sql: &mut String, clause: &str, p: P| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        let newest = f.order == ListOrder::Newest;
        if let Some(c) = f.cursor.filter(|_| newest) {
            push(&mut sql, " AND (received_at < ?", P::I(c.received_at_ms));
            push(&mut sql, " OR (received_at = ?", P::I(c.received_at_ms));
            push(&mut sql, " AND id < ?))", P::I(c.id));
        }
        let limit = f.limit.clamp(1, 500) as i64;
        let order = match f.order {
            ListOrder::Newest => " ORDER BY received_at DESC, id DESC LIMIT ?",
            ListOrder::Deadline => {
                " ORDER BY CASE WHEN completion_due IS NULL THEN 1 ELSE 0 END, completion_due, id LIMIT ?"
            }
            ListOrder::OldestReply => {
                " ORDER BY CASE WHEN replied_at IS NULL THEN 1 ELSE 0 END, replied_at, id LIMIT ?"
            }
        };
        push(&mut sql, order, P::I(limit + 1));
        if f.offset > 0 && f.cursor.is_none() {
            // Numbered pages (the desks): the orders without a cursor page by position.
            push(&mut sql, " OFFSET ?", P::I(i64::from(f.offset)));
        }
        let _ = P::B(false); // keeps the bool variant for future filters
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.read)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let code: String = r.try_get(1)?;
            let state: String = r.try_get(2)?;
            let received: i64 = r.try_get(3)?;
            items.push(decode_state(&self.pii, id, code, &state)?);
            keys.push(Cursor {
                received_at_ms: received,
                id,
            });
        }
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            keys.get(limit as usize - 1)
                .copied()
                .filter(|_| newest && f.offset == 0)
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Requests this user recorded (受理) since `since`: the intake desk's shift counter.
    pub async fn intakes_by(&self, user_id: i64, since: Timestamp) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM request_events WHERE kind = 'received' AND actor_user_id = $1 AND at >= $2",
        )
        .bind(user_id)
        .bind(ms(since))
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    /// Requests with id > `after_id`, by id, at most `limit`: the stream the search index is
    /// built from (keyset paging, so a rebuild over a million rows stays cheap per page).
    pub async fn search_documents(&self, after_id: i64, limit: u32) -> Result<Vec<RequestState>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, tracking_code, state FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, code, state)| decode_state(&self.pii, id, code, &state))
            .collect()
    }
}
