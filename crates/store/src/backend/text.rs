//! Text services: models, intake suggestions, training examples, history.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`,
//! `PG`, `FOR_UPDATE`, `begin_write` and the items the sibling files share.

use super::*;

impl Db {
    pub async fn save_model(&self, m: &NewModel) -> Result<i64> {
        let mut tx = begin_write(&self.write).await?;
        if PG {
            // Two trainers finishing together must not pick the same version.
            sqlx::query("SELECT pg_advisory_xact_lock(74130002)")
                .execute(&mut *tx)
                .await?;
        }
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM models WHERE kind = $1")
                .bind(m.kind.clone())
                .fetch_one(&mut *tx)
                .await?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO models (kind, version, created_at, trained_on, report, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.kind.clone())
        .bind(version)
        .bind(ms(m.created_at))
        .bind(m.trained_on)
        .bind(m.report.clone())
        .bind(m.bytes.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    pub async fn latest_models(&self) -> Result<Vec<ModelInfo>> {
        let rows: Vec<(i64, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT m.id, m.kind, m.version, m.created_at, m.trained_on FROM models m \
             WHERE m.version = (SELECT MAX(version) FROM models x WHERE x.kind = m.kind) \
             ORDER BY m.kind",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, kind, version, created_at, trained_on)| {
                Ok(ModelInfo {
                    id,
                    kind,
                    version,
                    created_at: ts(created_at)?,
                    trained_on,
                })
            })
            .collect()
    }

    pub async fn model_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT bytes FROM models WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?)
    }

    pub async fn save_suggestion(
        &self,
        request_id: i64,
        suggestion: &str,
        chosen: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO request_suggestions (request_id, created_at, suggestion, chosen) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(request_id)
        .bind(ms(now))
        .bind(suggestion.to_string())
        .bind(chosen.to_string())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn suggestion(&self, request_id: i64) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT suggestion, chosen FROM request_suggestions WHERE request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn suggestion_outcomes(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SuggestionOutcome>> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.request_id, s.suggestion, r.request_type, r.category, r.street, \
             r.community, r.lead_unit FROM request_suggestions s \
             JOIN requests r ON r.id = s.request_id \
             WHERE s.created_at >= $1 AND s.created_at < $2 AND s.request_id > $3 \
             ORDER BY s.request_id LIMIT $4",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(request_id, suggestion, request_type, category, street, community, lead_unit)| {
                    SuggestionOutcome {
                        request_id,
                        suggestion,
                        request_type,
                        category,
                        street,
                        community,
                        lead_unit,
                    }
                },
            )
            .collect())
    }

    pub async fn training_examples(&self, limit: u32) -> Result<Vec<TrainingExample>> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT text, request_type, category, lead_unit FROM requests \
             WHERE status = 'closed' ORDER BY closed_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(text, request_type, category, lead_unit)| TrainingExample {
                    text,
                    request_type,
                    category,
                    lead_unit,
                },
            )
            .collect())
    }

    pub async fn text_history(&self, since: Timestamp, limit: u32) -> Result<Vec<TextHistory>> {
        // The address lives only in the state document; each dialect reads JSON its own way.
        let address = if PG {
            "(state::json -> 'intake' ->> 'address')"
        } else {
            "json_extract(state, '$.intake.address')"
        };
        let sql = format!(
            "SELECT id, tracking_code, status, text, {address} AS address, street, community, \
             received_at FROM requests WHERE received_at >= $1 \
             ORDER BY received_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(ms(since))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TextHistory {
                    id: r.try_get("id")?,
                    tracking_code: r.try_get("tracking_code")?,
                    status: r.try_get("status")?,
                    text: r.try_get("text")?,
                    address: r.try_get("address")?,
                    street: r.try_get("street")?,
                    community: r.try_get("community")?,
                    received_at: ts(r.try_get("received_at")?)?,
                })
            })
            .collect()
    }
}
