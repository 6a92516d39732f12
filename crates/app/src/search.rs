//! Keeps the full-text index ([`jiesu_text::search::SearchIndex`]) in step with the store:
//! rebuilt from the store at start, a request re-indexed after intake and after each action,
//! commits batched on a timer (a tantivy commit costs milliseconds; intake must not pay it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiesu_domain::RequestState;
use jiesu_store::Store;
use jiesu_text::search::{SearchError, SearchIndex};

/// At most this many candidate ids come from the index for one list query; they go into an
/// `id IN (…)` clause, which both backends accept at this size (bind-parameter limits are far
/// above it), and a broader query is ranked so the best candidates are the ones kept.
pub const MAX_CANDIDATES: usize = 2_000;

/// Rows read from the store per page while rebuilding.
const REBUILD_PAGE: u32 = 2_000;

/// Adds or replaces `st` in the index (not yet committed).
pub fn index_state(index: &SearchIndex, st: &RequestState) -> Result<(), SearchError> {
    index.upsert(
        st.id,
        st.intake.received_at.as_millisecond(),
        st.status.as_str(),
        st.intake.street.as_deref(),
        st.lead_unit.as_deref(),
        st.intake.title.as_deref(),
        &st.intake.text,
        st.intake.address.as_deref(),
    )
}

/// Re-indexes one request after a write; a failure is logged, never returned: the database is
/// the record, the index a cache that `jiesu reindex` rebuilds.
pub fn after_write(index: Option<&Arc<SearchIndex>>, st: &RequestState) {
    if let Some(index) = index
        && let Err(e) = index_state(index, st)
    {
        tracing::warn!(error = %e, id = st.id, "search index update failed");
    }
}

/// Outcome of a rebuild.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RebuildReport {
    pub docs: u64,
    pub seconds: f64,
    pub docs_per_second: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Store(#[from] jiesu_store::StoreError),
    #[error(transparent)]
    Index(#[from] SearchError),
}

/// Clears `index` and indexes every stored request, then commits.
pub async fn rebuild_for(
    app: &crate::App,
    index: &SearchIndex,
) -> Result<RebuildReport, RebuildError> {
    rebuild(&app.store, index).await
}

/// [`rebuild_for`] over a bare store (`jiesu reindex`, which migrates nothing).
pub async fn rebuild(store: &Store, index: &SearchIndex) -> Result<RebuildReport, RebuildError> {
    let started = Instant::now();
    index.clear()?;
    let mut after = 0i64;
    let mut docs = 0u64;
    loop {
        let page = store.search_documents(after, REBUILD_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for st in &page {
            index_state(index, st)?;
        }
        docs += page.len() as u64;
    }
    index.commit()?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(RebuildReport {
        docs,
        seconds,
        docs_per_second: if seconds > 0.0 {
            docs as f64 / seconds
        } else {
            0.0
        },
    })
}

/// Commits the index every `every` when there were writes, until the process ends.
pub fn spawn_committer(index: Arc<SearchIndex>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            commit_if_dirty(&index).await;
        }
    })
}

/// Commits off the async threads when there are pending writes; errors are logged.
pub async fn commit_if_dirty(index: &Arc<SearchIndex>) {
    if !index.is_dirty() {
        return;
    }
    let index = index.clone();
    match tokio::task::spawn_blocking(move || index.commit()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "search index commit failed"),
        Err(e) => tracing::warn!(error = %e, "search index commit task failed"),
    }
}

/// Candidate request ids for the text query `q`, best first; `None` when the index has no
/// match (the caller then falls back to a substring match, which also finds parts of words).
pub async fn candidates(index: &Arc<SearchIndex>, q: &str) -> Option<Vec<i64>> {
    // Read-your-writes: a request recorded a moment ago is findable at once.
    commit_if_dirty(index).await;
    let index = index.clone();
    let q = q.to_string();
    // Tokenising and searching are CPU work; keep them off the async threads.
    let hits = tokio::task::spawn_blocking(move || index.search(&q, MAX_CANDIDATES))
        .await
        .ok()?;
    if hits.is_empty() {
        None
    } else {
        Some(hits.into_iter().map(|(id, _)| id).collect())
    }
}
