//! Open311: client API keys and the public request query.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

pub(super) fn api_key_from_row(
    (id, name, created_at, revoked_at): (i64, String, i64, Option<i64>),
) -> Result<ApiKey> {
    Ok(ApiKey {
        id,
        name,
        created_at: ts(created_at)?,
        revoked_at: revoked_at.map(ts).transpose()?,
    })
}

impl Db {
    pub async fn create_api_key(
        &self,
        name: &str,
        key_hash: &str,
        now: Timestamp,
    ) -> Result<ApiKey> {
        let r = sqlx::query_scalar(
            "INSERT INTO api_keys (name, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name.to_string())
        .bind(key_hash.to_string())
        .bind(ms(now))
        .fetch_one(&self.write)
        .await;
        match r {
            Ok(id) => Ok(ApiKey {
                id,
                name: name.to_string(),
                // As stored (milliseconds), so this answer and later lists agree.
                created_at: ts(ms(now))?,
                revoked_at: None,
            }),
            Err(e) if is_unique_violation_of(&e, API_KEY_HASH_KEY) => {
                Err(StoreError::Duplicate { field: "key_hash" })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows: Vec<(i64, String, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter().map(api_key_from_row).collect()
    }

    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let row: Option<(i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys WHERE key_hash = $1",
        )
        .bind(key_hash.to_string())
        // The writer pool: a key revoked a moment ago must not pass on a lagging reader.
        .fetch_optional(&self.write)
        .await?;
        row.map(api_key_from_row).transpose()
    }

    pub async fn revoke_api_key(&self, id: i64, now: Timestamp) -> Result<ApiKey> {
        let mut tx = begin_write(&self.write).await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let row: Option<(i64, String, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, name, created_at, revoked_at FROM api_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        row.map(api_key_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn open311_requests(&self, q: &Open311Query) -> Result<Vec<RequestState>> {
        let mut sql = String::from("SELECT id, tracking_code, state FROM requests WHERE 1=1");
        let mut params: Vec<P> = Vec::new();
        // Appends `clause` with each `?` numbered as the next bind parameter.
        fn push(sql: &mut String, params: &mut Vec<P>, clause: &str, p: P) {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        }
        fn push_in(sql: &mut String, params: &mut Vec<P>, column: &str, values: Vec<P>) {
            sql.push_str(&format!(" AND {column} IN ("));
            for (i, v) in values.into_iter().enumerate() {
                push(sql, params, if i == 0 { "?" } else { ", ?" }, v);
            }
            sql.push(')');
        }
        if !q.ids.is_empty() {
            let ids = q.ids.iter().map(|&i| P::I(i)).collect();
            push_in(&mut sql, &mut params, "id", ids);
        }
        if !q.categories.is_empty() {
            let cats = q.categories.iter().map(|c| P::S(c.clone())).collect();
            push_in(&mut sql, &mut params, "category", cats);
        }
        if !q.channels.is_empty() {
            let chs = q.channels.iter().map(|c| P::S(c.as_str().into())).collect();
            push_in(&mut sql, &mut params, "channel", chs);
        }
        if !q.statuses.is_empty() {
            let sts = q.statuses.iter().map(|s| P::S(s.as_str().into())).collect();
            push_in(&mut sql, &mut params, "status", sts);
        }
        if let Some(t) = q.from {
            push(&mut sql, &mut params, " AND received_at >= ?", P::I(ms(t)));
        }
        if let Some(t) = q.to {
            push(&mut sql, &mut params, " AND received_at <= ?", P::I(ms(t)));
        }
        if q.public_only {
            // The special handling lives only in the state document; each dialect reads JSON
            // its own way.
            let special = if PG {
                "(state::json ->> 'special')"
            } else {
                "json_extract(state, '$.special')"
            };
            sql.push_str(&format!(
                " AND ({special} IS NULL OR {special} <> 'secrets_privacy')"
            ));
        }
        let limit = i64::from(q.limit.clamp(1, 1000));
        let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
        push(
            &mut sql,
            &mut params,
            " ORDER BY received_at DESC, id DESC LIMIT ?",
            P::I(limit),
        );
        push(&mut sql, &mut params, " OFFSET ?", P::I(offset));
        let rows: Vec<(i64, String, String)> = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_>>()?;
        rows.into_iter()
            .map(|(id, code, state)| decode_state(&self.pii, id, code, &state))
            .collect()
    }
}
