//! 知识库: the 咨询 knowledge base's use cases. Admins and the responsible units' handlers write
//! entries; a second person (a supervisor or another admin) reviews each revision before it is
//! published; the desks find published entries in force by their words, suggest them for the
//! text an operator types, answer a 咨询 from one (一键答复: the request is recorded and closed
//! as answered, the entry cited) and count uses and "没有帮助".
//!
//! Search uses the request search's machinery ([`jiesu_text::search::SearchIndex`], jieba
//! tokens matched as phrases, BM25): a second, small index of entries (question as the title,
//! keywords as the text, the answer script as the third field), rebuilt whenever the stored
//! entries changed (`Store::knowledge_stamp`), so several servers on one PostgreSQL agree.
//! Ranking adds the entry's own keywords found in the text to the index's score.
//!
//! Every change of an entry (create, edit, submit, approve, reject, retire) is audited
//! (`target_type` `knowledge`).

use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::intake::{IntakeRequest, Recorded};
use crate::policy::{Capability, allows, require};
use jiesu_domain::Role;
use jiesu_domain::knowledge::{
    self as rules, EntryContent, EntryFacts, EntryInput, EntryStatus, Transition,
};
use jiesu_store::{KnowledgeEntry, KnowledgeFeedback, KnowledgeRevision, User};
use jiesu_text::search::SearchIndex;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// At most this many entries are suggested for one text.
pub const MAX_SUGGESTIONS: usize = 3;
/// A text shorter than this gets no suggestions (nothing to go on).
pub const MIN_SUGGEST_CHARS: usize = 4;
/// A search query longer than this is refused (`q`).
pub const MAX_QUERY_CHARS: usize = 200;
/// Weight of one of the entry's keywords found in the text, against the index's BM25 score.
const KEYWORD_WEIGHT: f32 = 3.0;
/// An entry none of whose keywords is in the text is suggested only above this score: single
/// characters in common (路, 坏, 证) add up to a few points on any entry, a real match of the
/// question's words to far more.
const MIN_SCORE_WITHOUT_KEYWORD: f32 = 15.0;

/// The entries' search index and the stamp of the stored entries it was built from.
pub struct KnowledgeIndex {
    index: Option<SearchIndex>,
    built: tokio::sync::Mutex<Option<(i64, i64)>>,
}

impl Default for KnowledgeIndex {
    fn default() -> Self {
        KnowledgeIndex {
            index: match SearchIndex::in_memory() {
                Ok(i) => Some(i),
                Err(e) => {
                    tracing::warn!(error = %e, "no knowledge index; searches match substrings");
                    None
                }
            },
            built: tokio::sync::Mutex::new(None),
        }
    }
}

/// An entry as the doors show it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: KnowledgeEntry,
    pub status_label: &'static str,
    pub unit_name: String,
    /// Published and within its dates today: suggested and usable for 一键答复.
    pub in_force: bool,
}

/// One entry with its history (the detail view).
#[derive(Debug, Clone, Serialize)]
pub struct EntryDetail {
    #[serde(flatten)]
    pub view: EntryView,
    pub revisions: Vec<KnowledgeRevision>,
    /// "没有帮助" marks, newest first (editors and reviewers only; empty for others).
    pub feedback: Vec<KnowledgeFeedback>,
}

/// A suggestion for a text: the entry, its score and the keywords of it the text holds.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    #[serde(flatten)]
    pub view: EntryView,
    pub score: f32,
    pub matched_keywords: Vec<String>,
}

/// The list's filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Words (jieba-matched like the request search).
    pub q: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
}

/// A review's body (approve: an optional note; reject: the reason, required).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub note: Option<String>,
}

/// "没有帮助": for which request (optional) and why (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    pub request_id: Option<i64>,
    pub note: Option<String>,
}

/// A use of an entry (the script read to a caller) for a request, optionally.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseBody {
    pub request_id: Option<i64>,
}

fn editor(user: &User) -> rules::Editor<'_> {
    rules::Editor {
        user_id: user.id,
        role: user.role,
        unit: user.unit_code.as_deref(),
    }
}

fn today(app: &App) -> jiff::civil::Date {
    app.dir.calendar.local_date(app.now())
}

fn view(app: &App, entry: KnowledgeEntry) -> EntryView {
    let in_force = entry.status == EntryStatus::Published && entry.content.valid_on(today(app));
    EntryView {
        status_label: entry.status.label_zh(),
        unit_name: app
            .dir
            .unit(&entry.content.unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| entry.content.unit.clone()),
        in_force,
        entry,
    }
}

/// Whether `user` sees `entry`: published entries everyone who reads the knowledge base;
/// the others its reviewers, admins, and the handlers of the entry's unit.
fn may_see(user: &User, entry: &KnowledgeEntry) -> bool {
    if entry.status == EntryStatus::Published {
        return true;
    }
    match user.role {
        Role::Handler => user.unit_code.as_deref() == Some(entry.content.unit.as_str()),
        r => allows(r, Capability::ReviewKnowledge) || allows(r, Capability::EditKnowledge),
    }
}

async fn load(app: &App, user: &User, id: i64) -> AppResult<KnowledgeEntry> {
    match app.store.knowledge_get(id).await? {
        Some(e) if may_see(user, &e) => Ok(e),
        _ => Err(AppError::not_found()),
    }
}

async fn audit(app: &App, user: &User, action: &str, e: &KnowledgeEntry, detail: String) {
    // The change is made; a failed audit write is logged, never undoes it.
    if let Err(err) = crate::accounts::audit(
        app,
        user,
        action,
        "knowledge",
        e.id.to_string(),
        Some(detail),
    )
    .await
    {
        tracing::warn!(error = %err.message, "audit write failed");
    }
}

fn conflict() -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        "concurrent_change",
        "条目已被他人修改，请刷新后重试。",
    )
}

fn store_err(e: jiesu_store::StoreError) -> AppError {
    match e {
        jiesu_store::StoreError::Conflict => conflict(),
        other => other.into(),
    }
}

/// Lists entries `user` may see, filtered; with `q`, the matching ones best first.
pub async fn list(app: &App, user: &User, q: &ListQuery) -> AppResult<Vec<EntryView>> {
    require(user, Capability::ReadKnowledge)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<EntryStatus>().map_err(|_| {
            AppError::bad_query(
                "status",
                "status 应为 draft、in_review、published 或 retired",
            )
        })?),
    };
    let unit = q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = unit
        && app.dir.unit(u).is_none()
    {
        return Err(AppError::bad_query(
            "unit",
            format!("没有编码为“{u}”的单位"),
        ));
    }
    let words = q.q.as_deref().map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = words
        && w.chars().count() > MAX_QUERY_CHARS
    {
        return Err(AppError::bad_query(
            "q",
            format!("查询最多 {MAX_QUERY_CHARS} 个字"),
        ));
    }
    let all = app.store.knowledge_list(status, unit).await?;
    let visible: Vec<KnowledgeEntry> = all.into_iter().filter(|e| may_see(user, e)).collect();
    let Some(words) = words else {
        return Ok(visible.into_iter().map(|e| view(app, e)).collect());
    };
    let ranked = rank(app, words, false).await?;
    let mut out: Vec<EntryView> = Vec::new();
    for (id, _) in ranked {
        if let Some(e) = visible.iter().find(|e| e.id == id) {
            out.push(view(app, e.clone()));
        }
    }
    Ok(out)
}

/// One entry with its revisions (and, for those who edit or review, its feedback).
pub async fn get(app: &App, user: &User, id: i64) -> AppResult<EntryDetail> {
    require(user, Capability::ReadKnowledge)?;
    let e = load(app, user, id).await?;
    let revisions = app.store.knowledge_revisions(id).await?;
    let feedback = if allows(user.role, Capability::EditKnowledge)
        || allows(user.role, Capability::ReviewKnowledge)
    {
        app.store.knowledge_feedback(id).await?
    } else {
        Vec::new()
    };
    Ok(EntryDetail {
        view: view(app, e),
        revisions,
        feedback,
    })
}

/// A new entry, as a draft (revision 1).
pub async fn create(app: &App, user: &User, input: &EntryInput) -> AppResult<EntryView> {
    require(user, Capability::EditKnowledge)?;
    let content = rules::validate(input, &app.dir, today(app))?;
    rules::may_edit(&editor(user), &content.unit)?;
    let e = app
        .store
        .knowledge_create(
            &content,
            Some((user.id, &user.display_name)),
            EntryStatus::Draft,
            app.now(),
        )
        .await?;
    audit(
        app,
        user,
        "knowledge_create",
        &e,
        e.content.question.clone(),
    )
    .await;
    Ok(view(app, e))
}

/// A new revision of entry `id`. A published entry goes back to draft: only reviewed text is
/// suggested. `revision`, when given, must be the one the editor started from.
pub async fn update(
    app: &App,
    user: &User,
    id: i64,
    input: &EntryInput,
    revision: Option<i64>,
) -> AppResult<EntryView> {
    require(user, Capability::EditKnowledge)?;
    let e = load(app, user, id).await?;
    if revision.is_some_and(|r| r != e.revision) {
        return Err(conflict());
    }
    let to = rules::decide(Transition::Edit, &facts(&e), &editor(user))?;
    let content = rules::validate(input, &app.dir, today(app))?;
    // Moving an entry to another unit needs the right to edit there too.
    rules::may_edit(&editor(user), &content.unit)?;
    let updated = app
        .store
        .knowledge_update(
            id,
            (e.revision, e.status),
            &content,
            Some((user.id, &user.display_name)),
            to,
            app.now(),
        )
        .await
        .map_err(store_err)?;
    audit(
        app,
        user,
        "knowledge_edit",
        &updated,
        format!("第{}版", updated.revision),
    )
    .await;
    Ok(view(app, updated))
}

fn facts(e: &KnowledgeEntry) -> EntryFacts<'_> {
    EntryFacts {
        status: e.status,
        unit: &e.content.unit,
        revision_author: e.revision_author,
    }
}

async fn transition(
    app: &App,
    user: &User,
    id: i64,
    t: Transition,
    note: Option<String>,
) -> AppResult<EntryView> {
    let cap = match t {
        Transition::Approve | Transition::Reject => Capability::ReviewKnowledge,
        _ => Capability::EditKnowledge,
    };
    require(user, cap)?;
    let note = match note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n.chars().count() > rules::MAX_NOTE_CHARS => {
            return Err(AppError::invalid(
                "note",
                "too_long",
                format!("说明最多 {} 个字。", rules::MAX_NOTE_CHARS),
            ));
        }
        Some(n) => Some(jiesu_text::mask_pii(n)),
    };
    if t == Transition::Reject && note.is_none() {
        return Err(AppError::invalid("note", "required", "驳回须写明理由。"));
    }
    let e = load(app, user, id).await?;
    let to = rules::decide(t, &facts(&e), &editor(user))?;
    let review =
        matches!(t, Transition::Approve | Transition::Reject).then_some((user.id, note.as_deref()));
    let moved = app
        .store
        .knowledge_set_status(id, (e.revision, e.status), to, review, app.now())
        .await
        .map_err(store_err)?;
    let action = match t {
        Transition::Submit => "knowledge_submit",
        Transition::Approve => "knowledge_approve",
        Transition::Reject => "knowledge_reject",
        Transition::Retire => "knowledge_retire",
        Transition::Edit => "knowledge_edit",
    };
    let detail = match &note {
        Some(n) => format!("第{}版：{n}", moved.revision),
        None => format!("第{}版", moved.revision),
    };
    audit(app, user, action, &moved, detail).await;
    Ok(view(app, moved))
}

/// 提交审核.
pub async fn submit(app: &App, user: &User, id: i64) -> AppResult<EntryView> {
    transition(app, user, id, Transition::Submit, None).await
}

/// 审核通过 (not by the revision's author).
pub async fn approve(app: &App, user: &User, id: i64, body: ReviewBody) -> AppResult<EntryView> {
    transition(app, user, id, Transition::Approve, body.note).await
}

/// 驳回 with a reason: back to draft (not by the revision's author).
pub async fn reject(app: &App, user: &User, id: i64, body: ReviewBody) -> AppResult<EntryView> {
    transition(app, user, id, Transition::Reject, body.note).await
}

/// 停用.
pub async fn retire(app: &App, user: &User, id: i64) -> AppResult<EntryView> {
    transition(app, user, id, Transition::Retire, None).await
}

/// The review queue: entries waiting for review that `user` may review (not their own).
pub async fn review_queue(app: &App, user: &User) -> AppResult<Vec<EntryView>> {
    require(user, Capability::ReviewKnowledge)?;
    let waiting = app
        .store
        .knowledge_list(Some(EntryStatus::InReview), None)
        .await?;
    Ok(waiting
        .into_iter()
        .filter(|e| e.revision_author != Some(user.id))
        .map(|e| view(app, e))
        .collect())
}

/// Rebuilds the index when the stored entries changed since it was built.
async fn refresh(app: &App) -> AppResult<()> {
    let Some(index) = app.knowledge.index.as_ref() else {
        return Ok(());
    };
    let stamp = app.store.knowledge_stamp().await?;
    let mut built = app.knowledge.built.lock().await;
    if *built == Some(stamp) {
        return Ok(());
    }
    let entries = app.store.knowledge_list(None, None).await?;
    index.clear().map_err(AppError::internal)?;
    for e in entries.iter().filter(|e| e.status != EntryStatus::Retired) {
        let c = &e.content;
        index
            .upsert(
                e.id,
                e.updated_at.as_millisecond(),
                e.status.as_str(),
                None,
                Some(&c.unit),
                Some(&c.question),
                &c.keywords.join(" "),
                Some(&c.answer),
            )
            .map_err(AppError::internal)?;
    }
    index.commit().map_err(AppError::internal)?;
    *built = Some(stamp);
    Ok(())
}

/// Entry ids for `text`, best first, with the index's score. `relaxed`: any word may match
/// (a caller's sentence); otherwise every word must (a search box), falling back to any.
async fn rank(app: &App, text: &str, relaxed: bool) -> AppResult<Vec<(i64, f32)>> {
    refresh(app).await?;
    let Some(index) = app.knowledge.index.as_ref() else {
        // No index: a substring match on the question and keywords.
        let all = app.store.knowledge_list(None, None).await?;
        return Ok(all
            .into_iter()
            .filter(|e| {
                e.content.question.contains(text)
                    || e.content.keywords.iter().any(|k| text.contains(k.as_str()))
            })
            .map(|e| (e.id, 1.0))
            .collect());
    };
    let hits = if relaxed {
        index.search_relaxed(text, 50)
    } else {
        let strict = index.search(text, 200);
        if strict.is_empty() {
            index.search_relaxed(text, 200)
        } else {
            strict
        }
    };
    Ok(hits)
}

/// Published entries in force that match an intake text, best first (at most
/// [`MAX_SUGGESTIONS`]): the index's score plus [`KEYWORD_WEIGHT`] per keyword of the entry
/// the text holds; an entry with no keyword in the text needs a strong textual match.
pub async fn suggest(app: &App, user: &User, text: &str) -> AppResult<Vec<Suggestion>> {
    require(user, Capability::ReadKnowledge)?;
    let text: String = text.chars().take(2_000).collect();
    let text = text.trim();
    if text.chars().count() < MIN_SUGGEST_CHARS {
        return Ok(Vec::new());
    }
    let hits = rank(app, text, true).await?;
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let day = today(app);
    let published = app
        .store
        .knowledge_list(Some(EntryStatus::Published), None)
        .await?;
    let mut out: Vec<Suggestion> = Vec::new();
    for (id, score) in hits {
        let Some(e) = published.iter().find(|e| e.id == id) else {
            continue;
        };
        if !e.content.valid_on(day) {
            continue;
        }
        let matched: Vec<String> = e
            .content
            .keywords
            .iter()
            .filter(|k| text.contains(k.as_str()))
            .cloned()
            .collect();
        if matched.is_empty() && score < MIN_SCORE_WITHOUT_KEYWORD {
            continue;
        }
        out.push(Suggestion {
            score: score + KEYWORD_WEIGHT * matched.len() as f32,
            matched_keywords: matched,
            view: view(app, e.clone()),
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(MAX_SUGGESTIONS);
    Ok(out)
}

/// A published entry in force, for a use at the desk (else `entry_unavailable`).
async fn usable(app: &App, user: &User, id: i64) -> AppResult<KnowledgeEntry> {
    let e = load(app, user, id).await?;
    if e.status != EntryStatus::Published || !e.content.valid_on(today(app)) {
        return Err(AppError::new(
            ErrorKind::Refused,
            "entry_unavailable",
            "该条目未发布或不在有效期内，不能用于答复。",
        ));
    }
    Ok(e)
}

/// 一键答复: records `body` as a 咨询 answered on the spot from entry `id` — the entry's
/// script with its citation is the answer — and counts the use for the new request.
pub async fn answer_at_intake(
    app: &App,
    user: &User,
    id: i64,
    mut body: IntakeRequest,
) -> AppResult<(Recorded, EntryView)> {
    require(user, Capability::RecordIntake)?;
    require(user, Capability::UseKnowledge)?;
    let e = usable(app, user, id).await?;
    body.request_type = jiesu_domain::RequestType::Consultation.as_str().to_string();
    body.answer = Some(rules::cited_answer(e.id, &e.content));
    body.dispatch_to = None;
    body.special_handling = None;
    let recorded = crate::intake::record(app, user, body).await?;
    if !recorded.replayed {
        app.store
            .knowledge_record_use(
                e.id,
                e.revision,
                Some(recorded.state.id),
                Some(user.id),
                app.now(),
            )
            .await?;
    }
    let e = app.store.knowledge_get(id).await?.unwrap_or(e);
    Ok((recorded, view(app, e)))
}

/// Counts a use of entry `id` (its script read to a caller), for a request when given.
pub async fn record_use(app: &App, user: &User, id: i64, body: UseBody) -> AppResult<EntryView> {
    require(user, Capability::UseKnowledge)?;
    let e = usable(app, user, id).await?;
    if let Some(r) = body.request_id {
        crate::actions::load_visible(app, user, r)
            .await
            .map_err(|err| err.with_field("request_id"))?;
    }
    app.store
        .knowledge_record_use(e.id, e.revision, body.request_id, Some(user.id), app.now())
        .await?;
    let e = app.store.knowledge_get(id).await?.unwrap_or(e);
    Ok(view(app, e))
}

/// "没有帮助": the entry's answer did not help (for a request, with a note, when given).
pub async fn feedback(
    app: &App,
    user: &User,
    id: i64,
    body: FeedbackBody,
) -> AppResult<KnowledgeFeedback> {
    require(user, Capability::UseKnowledge)?;
    let e = load(app, user, id).await?;
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n.chars().count() > rules::MAX_NOTE_CHARS => {
            return Err(AppError::invalid(
                "note",
                "too_long",
                format!("说明最多 {} 个字。", rules::MAX_NOTE_CHARS),
            ));
        }
        // Staff may quote a caller; numbers in the note are masked like a request's text.
        Some(n) => Some(jiesu_text::mask_pii(n)),
    };
    if let Some(r) = body.request_id {
        crate::actions::load_visible(app, user, r)
            .await
            .map_err(|err| err.with_field("request_id"))?;
    }
    Ok(app
        .store
        .knowledge_record_feedback(
            e.id,
            e.revision,
            body.request_id,
            Some(user.id),
            note.as_deref(),
            app.now(),
        )
        .await?)
}

// ---- the preset entries ----

#[derive(Deserialize)]
struct SeedFile {
    entry: Vec<SeedEntry>,
}

#[derive(Deserialize)]
struct SeedEntry {
    question: String,
    answer: String,
    policy_source: String,
    unit: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

const SEED: &str = include_str!("../data/knowledge_seed.toml");

/// The preset entries (`crates/app/data/knowledge_seed.toml`) that fit `app`'s world: one
/// naming a unit this deployment does not have is left out (and logged), never an error, so a
/// district with other units still gets the rest.
pub fn preset(app: &App) -> AppResult<Vec<EntryContent>> {
    preset_for(&app.dir, today(app))
}

fn preset_for(
    dir: &jiesu_domain::Directory,
    day: jiff::civil::Date,
) -> AppResult<Vec<EntryContent>> {
    let file: SeedFile = toml::from_str(SEED).map_err(AppError::internal)?;
    Ok(file
        .entry
        .into_iter()
        .filter_map(|s| {
            let input = EntryInput {
                question: s.question,
                answer: s.answer,
                policy_source: s.policy_source,
                unit: s.unit,
                valid_from: s.valid_from,
                valid_to: s.valid_to,
                keywords: s.keywords,
            };
            match rules::validate(&input, dir, day) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(question = %input.question, error = %e, "preset entry left out");
                    None
                }
            }
        })
        .collect())
}

/// Console work (`jiesu demo`): loads the preset entries as published, authored by the system,
/// into an empty knowledge base. Returns how many were loaded (0 when it held entries).
pub async fn load_preset_published(app: &App) -> AppResult<usize> {
    if app.store.knowledge_stamp().await?.0 > 0 {
        return Ok(0);
    }
    let entries = preset(app)?;
    for c in &entries {
        app.store
            .knowledge_create(c, None, EntryStatus::Published, app.now())
            .await?;
    }
    Ok(entries.len())
}

/// An admin's 载入预置条目 on an empty deployment: the preset entries, authored by the admin
/// and submitted for review, so another person checks them before the desks use them.
/// Refused (`not_empty`) when the knowledge base holds entries.
pub async fn load_preset_for_review(app: &App, user: &User) -> AppResult<usize> {
    require(user, Capability::EditKnowledge)?;
    if user.role != Role::Admin {
        return Err(AppError::forbidden("只有管理员可以载入预置条目。"));
    }
    if app.store.knowledge_stamp().await?.0 > 0 {
        return Err(AppError::new(
            ErrorKind::Refused,
            "not_empty",
            "知识库已有条目，预置条目只能载入到空的知识库。",
        ));
    }
    let entries = preset(app)?;
    for c in &entries {
        let e = app
            .store
            .knowledge_create(
                c,
                Some((user.id, &user.display_name)),
                EntryStatus::InReview,
                app.now(),
            )
            .await?;
        audit(
            app,
            user,
            "knowledge_create",
            &e,
            format!("预置：{}", c.question),
        )
        .await;
    }
    Ok(entries.len())
}

/// Keeps the index warm: builds it now (a door may call this at start).
pub async fn warm(app: &App) {
    if let Err(e) = refresh(app).await {
        tracing::warn!(error = %e.message, "knowledge index build failed");
    }
}

/// The shared index handle (for [`App`]).
pub fn new_index() -> Arc<KnowledgeIndex> {
    Arc::new(KnowledgeIndex::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_entry_fits_the_shipped_world() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
        let dir = jiesu_domain::Directory::new(jiesu_world::load_dir(&path).expect("world"));
        let file: SeedFile = toml::from_str(SEED).expect("the seed file parses");
        let entries = preset_for(&dir, "2026-11-02".parse().expect("date")).expect("preset");
        assert_eq!(entries.len(), file.entry.len(), "none left out");
        for topic in ["公积金", "社保", "入学", "供暖", "老年卡"] {
            assert!(
                entries.iter().any(|e| e.question.contains(topic)),
                "a preset entry for {topic}"
            );
        }
        for e in &entries {
            assert!(e.keywords.len() >= 3, "{}: keywords", e.question);
            assert!(
                e.answer.chars().count() >= 80,
                "{}: a real answer script",
                e.question
            );
        }
        // A district without these units keeps what fits.
        let mut world = dir.world.clone();
        world.units.retain(|u| u.code != "education");
        let fewer = preset_for(
            &jiesu_domain::Directory::new(world),
            "2026-11-02".parse().expect("date"),
        )
        .expect("preset");
        assert_eq!(fewer.len(), entries.len() - 1);
    }
}
