//! The `Store` face of the 咨询 knowledge base (written once in `backend/knowledge.rs`, compiled
//! per backend): entries with their review state, every revision of their content, uses and
//! "did not help" feedback.

use crate::{Result, Store};
use jiesu_domain::knowledge::{EntryContent, EntryStatus};
use jiff::Timestamp;
use serde::Serialize;

/// One entry as it stands: its current content, review state and counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnowledgeEntry {
    pub id: i64,
    #[serde(flatten)]
    pub content: EntryContent,
    pub status: EntryStatus,
    /// 1 for the first content, +1 for each edit.
    pub revision: i64,
    /// Who wrote the current revision (`None`: loaded by the system).
    pub revision_author: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<Timestamp>,
    /// A rejection's reason (or the approval's note).
    pub review_note: Option<String>,
    /// Answers given from it.
    pub uses: i64,
    /// "没有帮助" marks from the desk.
    pub unhelpful: i64,
}

/// One revision of an entry's content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnowledgeRevision {
    pub entry_id: i64,
    pub revision: i64,
    #[serde(flatten)]
    pub content: EntryContent,
    pub author: Option<i64>,
    pub author_name: String,
    pub at: Timestamp,
}

/// One "did not help" mark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnowledgeFeedback {
    pub id: i64,
    pub entry_id: i64,
    pub revision: i64,
    pub request_id: Option<i64>,
    pub user_id: Option<i64>,
    pub note: Option<String>,
    pub at: Timestamp,
}

/// Who writes a revision: an account (id, name) or the system (`None`, e.g. the demo's seed).
pub type KnowledgeAuthor<'a> = Option<(i64, &'a str)>;

impl Store {
    /// Stores a new entry with `content` as revision 1, in `status`.
    pub async fn knowledge_create(
        &self,
        content: &EntryContent,
        author: KnowledgeAuthor<'_>,
        status: EntryStatus,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        delegate!(self.knowledge_create(content, author, status, now))
    }

    /// A new revision of entry `id`'s content, moving it to `status`; only if it is still at
    /// `revision` in `from` (else `Conflict`: someone changed it meanwhile). One transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn knowledge_update(
        &self,
        id: i64,
        from: (i64, EntryStatus),
        content: &EntryContent,
        author: KnowledgeAuthor<'_>,
        status: EntryStatus,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        delegate!(self.knowledge_update(id, from, content, author, status, now))
    }

    /// Moves entry `id` from `from` (at revision `revision`) to `to`; a review (approve,
    /// reject) records its reviewer and note. `Conflict` when it changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn knowledge_set_status(
        &self,
        id: i64,
        from: (i64, EntryStatus),
        to: EntryStatus,
        review: Option<(i64, Option<&str>)>,
        now: Timestamp,
    ) -> Result<KnowledgeEntry> {
        delegate!(self.knowledge_set_status(id, from, to, review, now))
    }

    pub async fn knowledge_get(&self, id: i64) -> Result<Option<KnowledgeEntry>> {
        delegate!(self.knowledge_get(id))
    }

    /// Every entry (in `status`, of `unit`, when given), by id.
    pub async fn knowledge_list(
        &self,
        status: Option<EntryStatus>,
        unit: Option<&str>,
    ) -> Result<Vec<KnowledgeEntry>> {
        delegate!(self.knowledge_list(status, unit))
    }

    /// Entry `id`'s revisions, oldest first.
    pub async fn knowledge_revisions(&self, id: i64) -> Result<Vec<KnowledgeRevision>> {
        delegate!(self.knowledge_revisions(id))
    }

    /// Counts a use of revision `revision` of entry `id` (an answer given from it, for
    /// `request_id` when a request was closed with it). One transaction.
    pub async fn knowledge_record_use(
        &self,
        id: i64,
        revision: i64,
        request_id: Option<i64>,
        user_id: Option<i64>,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.knowledge_record_use(id, revision, request_id, user_id, now))
    }

    /// Records a "did not help" for entry `id` and counts it. One transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn knowledge_record_feedback(
        &self,
        id: i64,
        revision: i64,
        request_id: Option<i64>,
        user_id: Option<i64>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<KnowledgeFeedback> {
        delegate!(self.knowledge_record_feedback(id, revision, request_id, user_id, note, now))
    }

    /// Entry `id`'s "did not help" marks, newest first.
    pub async fn knowledge_feedback(&self, id: i64) -> Result<Vec<KnowledgeFeedback>> {
        delegate!(self.knowledge_feedback(id))
    }

    /// Changes when any entry's content or status changes (not its counts): the search
    /// index's staleness check, cheap enough for every search.
    pub async fn knowledge_stamp(&self) -> Result<(i64, i64)> {
        delegate!(self.knowledge_stamp())
    }
}
