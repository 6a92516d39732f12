//! 主动治理 analytics queries (the maths is in `jiesu_domain::analytics`), mounted once per
//! backend (see sqlite.rs, postgres.rs). Aggregates only: counts by category and place per window,
//! callback answers per place, the samples behind an alert, texts for keyword trends and the
//! requests due in a period. Every query is bounded by an indexed time range.

use super::*;

use jiesu_domain::analytics::{AnswerCount, DueRequest, Evidence, PlaceCount};

impl Db {
    /// When the first request on record was received (epoch ms), if any.
    pub async fn history_start(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(received_at) FROM requests")
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Requests received in [start, end) per (category, street, community); requests without a
    /// category are left out, an unknown street or community is "".
    pub async fn place_counts(&self, start: i64, end: i64) -> Result<Vec<PlaceCount>> {
        let rows: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT category, street, community, COUNT(*) FROM requests \
             WHERE received_at >= $1 AND received_at < $2 AND category IS NOT NULL \
             GROUP BY category, street, community",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(category, street, community, n)| PlaceCount {
                category,
                street: street.unwrap_or_default(),
                community: community.unwrap_or_default(),
                count: u64::try_from(n).unwrap_or(0),
            })
            .collect())
    }

    /// Satisfaction answers of callbacks recorded in [start, end), per the request's
    /// (category, street, community): how many, and how many 不满意. Read from the assessment
    /// facts (`assessment_callbacks`, satisfaction 0 none … 3 不满意, kept with the events), which
    /// are indexed by time and narrow, instead of the event payloads.
    pub async fn callback_answers(&self, start: i64, end: i64) -> Result<Vec<AnswerCount>> {
        let sql = "SELECT r.category, r.street, r.community, COUNT(*), \
                 SUM(CASE WHEN c.satisfaction = 3 THEN 1 ELSE 0 END) \
             FROM assessment_callbacks c JOIN requests r ON r.id = c.request_id \
             WHERE c.at >= $1 AND c.at < $2 AND c.reached AND c.satisfaction > 0 \
                 AND r.category IS NOT NULL \
             GROUP BY r.category, r.street, r.community";
        type Row = (String, Option<String>, Option<String>, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(sql)
            .bind(start)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(category, street, community, n, bad)| AnswerCount {
                category,
                street: street.unwrap_or_default(),
                community: community.unwrap_or_default(),
                answers: u64::try_from(n).unwrap_or(0),
                unsatisfied: u64::try_from(bad).unwrap_or(0),
            })
            .collect())
    }

    /// The requests of one cell received in [start, end), oldest first, at most `limit`.
    /// `street` / `community` of `None` match any.
    pub async fn cell_requests(
        &self,
        start: i64,
        end: i64,
        category: &str,
        street: Option<&str>,
        community: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Evidence>> {
        let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT id, tracking_code, received_at, text FROM requests \
             WHERE received_at >= $1 AND received_at < $2 AND category = $3 \
                 AND ($4 = '' OR street = $4) AND ($5 = '' OR community = $5) \
             ORDER BY received_at, id LIMIT $6",
        )
        .bind(start)
        .bind(end)
        .bind(category.to_string())
        .bind(street.unwrap_or("").to_string())
        .bind(community.unwrap_or("").to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, tracking_code, at, text)| {
                Ok(Evidence {
                    id,
                    tracking_code,
                    received_at: ts(at)?,
                    excerpt: text.chars().take(60).collect(),
                })
            })
            .collect()
    }

    /// How many requests were received in [start, end).
    pub async fn received_count(&self, start: i64, end: i64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM requests WHERE received_at >= $1 AND received_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The texts of the requests received in [start, end).
    pub async fn request_texts(&self, start: i64, end: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT text FROM requests WHERE received_at >= $1 AND received_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.read)
        .await?)
    }

    /// Requests (merged children aside) whose completion deadline falls in [start, end) and
    /// that were not replied by it, per the current projection.
    pub async fn due_unreplied(&self, start: i64, end: i64) -> Result<Vec<DueRequest>> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, tracking_code, status, category, street, lead_unit, received_at, \
                 completion_due, replied_at FROM requests \
             WHERE completion_due >= $1 AND completion_due < $2 AND status <> 'merged' \
                 AND (replied_at IS NULL OR replied_at > completion_due)",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(
                |(id, code, status, category, street, unit, received, due, replied)| {
                    Ok(DueRequest {
                        id,
                        tracking_code: code,
                        status,
                        category,
                        street,
                        unit,
                        received_at: ts(received)?,
                        completion_due: ts(due)?,
                        replied_at: replied.map(ts).transpose()?,
                    })
                },
            )
            .collect()
    }
}
