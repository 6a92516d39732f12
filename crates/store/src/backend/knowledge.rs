//! The 咨询 knowledge base's tables (migration 0014): entries, revisions, uses, feedback.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`
//! and the helpers the sibling files share.

use super::*;
use crate::{KnowledgeAuthor, KnowledgeEntry, KnowledgeFeedback, KnowledgeRevision};
use jiesu_domain::knowledge::{EntryContent, EntryStatus};

const ENTRY_COLUMNS: &str = "id, question, answer, policy_source, unit_code, valid_from, valid_to, \
     keywords, status, revision, revision_author, created_by, created_at, updated_at, \
     reviewed_by, reviewed_at, review_note, uses, unhelpful";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("knowledge: {e}"))
}

fn keywords_json(k: &[String]) -> Result<String> {
    serde_json::to_string(k).map_err(corrupt)
}

fn content_from_row(r: &<DB as sqlx::Database>::Row) -> Result<EntryContent> {
    let date = |s: String| s.parse::<jiff::civil::Date>().map_err(corrupt);
    Ok(EntryContent {
        question: r.try_get("question")?,
        answer: r.try_get("answer")?,
        policy_source: r.try_get("policy_source")?,
        unit: r.try_get("unit_code")?,
        valid_from: date(r.try_get("valid_from")?)?,
        valid_to: r
            .try_get::<Option<String>, _>("valid_to")?
            .map(date)
            .transpose()?,
        keywords: serde_json::from_str(&r.try_get::<String, _>("keywords")?).map_err(corrupt)?,
    })
}

fn entry_from_row(r: &<DB as sqlx::Database>::Row) -> Result<KnowledgeEntry> {
    Ok(KnowledgeEntry {
        id: r.try_get("id")?,
        content: content_from_row(r)?,
        status: r
            .try_get::<String, _>("status")?
            .parse::<EntryStatus>()
            .map_err(corrupt)?,
        revision: r.try_get("revision")?,
        revision_author: r.try_get("revision_author")?,
        created_by: r.try_get("created_by")?,
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r
            .try_get::<Option<i64>, _>("reviewed_at")?
            .map(ts)
            .transpose()?,
        review_note: r.try_get("review_note")?,
        uses: r.try_get("uses")?,
        unhelpful: r.try_get("unhelpful")?,
    })
}

/// id, entry_id, revision, request_id, user_id, note, at.
type FeedbackRow = (i64, i64, i64, Option<i64>, Option<i64>, Option<String>, i64);

fn date_text(d: jiff::civil::Date) -> String {
    d.to_string()
}

impl Db {
    async fn insert_revision(
        tx: &mut Tx,
        id: i64,
        revision: i64,
        c: &EntryContent,
        author: KnowledgeAuthor<'_>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO knowledge_revisions (entry_id, revision, question, answer, policy_source, \
             unit_code, valid_from, valid_to, keywords, author, author_name, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(revision)
        .bind(c.question.clone())
        .bind(c.answer.clone())
        .bind(c.policy_source.clone())
        .bind(c.unit.clone())
        .bind(date_text(c.valid_from))
        .bind(c.valid_to.map(date_text))
        .bind(keywords_json(&c.keywords)?)
        .bind(author.map(|a| a.0))
        .bind(author.map_or("系统".to_string(), |a| a.1.to_string()))
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn entry_in(tx: &mut Tx, id: i64) -> Result<KnowledgeEntry> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM knowledge_entries WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        entry_from_row(&row)
    }

    pub async fn knowledge_create(
        &self,
        c: &EntryContent,
        author: KnowledgeAuthor<'_>,
        status: EntryStatus,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        let mut tx = begin_write(&self.write).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO knowledge_entries (question, answer, policy_source, unit_code, valid_from, \
             valid_to, keywords, status, revision, version, revision_author, created_by, created_at, \
             updated_at, uses, unhelpful) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 1, $9, $9, $10, $10, 0, 0) RETURNING id",
        )
        .bind(c.question.clone())
        .bind(c.answer.clone())
        .bind(c.policy_source.clone())
        .bind(c.unit.clone())
        .bind(date_text(c.valid_from))
        .bind(c.valid_to.map(date_text))
        .bind(keywords_json(&c.keywords)?)
        .bind(status.as_str())
        .bind(author.map(|a| a.0))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        Self::insert_revision(&mut tx, id, 1, c, author, now).await?;
        let e = Self::entry_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Fails with `NotFound` when the entry does not exist, `Conflict` when it is no longer at
    /// `from`.
    async fn check_at(tx: &mut Tx, id: i64, (revision, status): (i64, EntryStatus)) -> Result<()> {
        let e = Self::entry_in(tx, id).await?;
        if e.revision != revision || e.status != status {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    pub async fn knowledge_update(
        &self,
        id: i64,
        from: (i64, EntryStatus),
        c: &EntryContent,
        author: KnowledgeAuthor<'_>,
        status: EntryStatus,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        let mut tx = begin_write(&self.write).await?;
        Self::check_at(&mut tx, id, from).await?;
        let revision = from.0 + 1;
        let n = sqlx::query(
            "UPDATE knowledge_entries SET question = $1, answer = $2, policy_source = $3, \
             unit_code = $4, valid_from = $5, valid_to = $6, keywords = $7, status = $8, \
             revision = $9, version = version + 1, revision_author = $10, updated_at = $11 \
             WHERE id = $12 AND revision = $13 AND status = $14",
        )
        .bind(c.question.clone())
        .bind(c.answer.clone())
        .bind(c.policy_source.clone())
        .bind(c.unit.clone())
        .bind(date_text(c.valid_from))
        .bind(c.valid_to.map(date_text))
        .bind(keywords_json(&c.keywords)?)
        .bind(status.as_str())
        .bind(revision)
        .bind(author.map(|a| a.0))
        .bind(ms(now))
        .bind(id)
        .bind(from.0)
        .bind(from.1.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        Self::insert_revision(&mut tx, id, revision, c, author, now).await?;
        let e = Self::entry_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(e)
    }

    pub async fn knowledge_set_status(
        &self,
        id: i64,
        from: (i64, EntryStatus),
        to: EntryStatus,
        review: Option<(i64, Option<&str>)>,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        let mut tx = begin_write(&self.write).await?;
        Self::check_at(&mut tx, id, from).await?;
        let n = match review {
            Some((reviewer, note)) => sqlx::query(
                "UPDATE knowledge_entries SET status = $1, version = version + 1, updated_at = $2, \
                 reviewed_by = $3, reviewed_at = $2, review_note = $4 \
                 WHERE id = $5 AND revision = $6 AND status = $7",
            )
            .bind(to.as_str())
            .bind(ms(now))
            .bind(reviewer)
            .bind(note.map(str::to_string))
            .bind(id)
            .bind(from.0)
            .bind(from.1.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "UPDATE knowledge_entries SET status = $1, version = version + 1, updated_at = $2 \
                 WHERE id = $3 AND revision = $4 AND status = $5",
            )
            .bind(to.as_str())
            .bind(ms(now))
            .bind(id)
            .bind(from.0)
            .bind(from.1.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        let e = Self::entry_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(e)
    }

    pub async fn knowledge_get(&self, id: i64) -> Result<Option<KnowledgeEntry>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM knowledge_entries WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    pub async fn knowledge_list(
        &self,
        status: Option<EntryStatus>,
        unit: Option<&str>,
    ) -> Result<Vec<KnowledgeEntry>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM knowledge_entries \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR unit_code = $2) ORDER BY id"
        )))
        .bind(status.map(|s| s.as_str().to_string()))
        .bind(unit.map(str::to_string))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn knowledge_revisions(&self, id: i64) -> Result<Vec<KnowledgeRevision>> {
        let rows = sqlx::query(
            "SELECT entry_id, revision, question, answer, policy_source, unit_code, valid_from, \
             valid_to, keywords, author, author_name, at FROM knowledge_revisions \
             WHERE entry_id = $1 ORDER BY revision",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KnowledgeRevision {
                    entry_id: r.try_get("entry_id")?,
                    revision: r.try_get("revision")?,
                    content: content_from_row(r)?,
                    author: r.try_get("author")?,
                    author_name: r.try_get("author_name")?,
                    at: ts(r.try_get("at")?)?,
                })
            })
            .collect()
    }

    pub async fn knowledge_record_use(
        &self,
        id: i64,
        revision: i64,
        request_id: Option<i64>,
        user_id: Option<i64>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        let n = sqlx::query("UPDATE knowledge_entries SET uses = uses + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO knowledge_uses (entry_id, revision, request_id, user_id, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(revision)
        .bind(request_id)
        .bind(user_id)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn knowledge_record_feedback(
        &self,
        id: i64,
        revision: i64,
        request_id: Option<i64>,
        user_id: Option<i64>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<KnowledgeFeedback> {
        let mut tx = begin_write(&self.write).await?;
        let n = sqlx::query("UPDATE knowledge_entries SET unhelpful = unhelpful + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        let fid: i64 = sqlx::query_scalar(
            "INSERT INTO knowledge_feedback (entry_id, revision, request_id, user_id, note, at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(revision)
        .bind(request_id)
        .bind(user_id)
        .bind(note.map(str::to_string))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(KnowledgeFeedback {
            id: fid,
            entry_id: id,
            revision,
            request_id,
            user_id,
            note: note.map(str::to_string),
            at: ts(ms(now))?,
        })
    }

    pub async fn knowledge_feedback(&self, id: i64) -> Result<Vec<KnowledgeFeedback>> {
        let rows: Vec<FeedbackRow> = sqlx::query_as(
            "SELECT id, entry_id, revision, request_id, user_id, note, at \
                 FROM knowledge_feedback WHERE entry_id = $1 ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, entry_id, revision, request_id, user_id, note, at)| {
                Ok(KnowledgeFeedback {
                    id,
                    entry_id,
                    revision,
                    request_id,
                    user_id,
                    note,
                    at: ts(at)?,
                })
            })
            .collect()
    }

    pub async fn knowledge_stamp(&self) -> Result<(i64, i64)> {
        let (n, v): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM knowledge_entries",
        )
        .fetch_one(&self.read)
        .await?;
        Ok((n, v))
    }
}
