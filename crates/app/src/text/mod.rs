//! Routing intelligence at intake: suggested request type, category and unit, street and
//! community from the address, emergency flags and earlier requests this one may repeat
//! (并单 candidates).
//!
//! * [`suggest`]: a dry run on an intake draft (nothing is stored).
//! * [`reload_models`]: load the newest trained models now.
//! * [`training::train_from_store`]: `jiesu train --db URL` — trains the category, request-type and unit
//!   classifiers on closed requests and stores them as new versions.
//!
//! Classifiers come from the deployment's own history; until one is trained (or when its label
//! set is too small) rules stand in: leaf keywords of the category tree, cue words for the
//! request type, and the category's routing for the unit. Every suggestion says which source
//! produced it.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::{Directory, RequestType};
use jiesu_store::{Store, TextHistory, User};
use jiesu_text::address::{Gazetteer, GazetteerPlace, Resolution, Resolver};
use jiesu_text::{
    DuplicateIndex, EmergencyFlag, EmergencyLevel, Model, Segmenter, detect_emergency, normalize,
};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub mod accuracy;
pub mod training;
pub use training::{DEFAULT_TRAIN_LIMIT, KindReport, TrainReport, train_from_store};

/// Model kinds `jiesu train` produces.
pub const MODEL_KINDS: &[&str] = &["category", "request_type", "unit"];
/// Earlier requests count as duplicates within this window of the new one.
pub const DUPLICATE_WINDOW: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How far back the duplicate index and the address resolver read history at start.
const HISTORY_DAYS: i64 = 60;
const HISTORY_LIMIT: u32 = 200_000;
/// Hamming radius of duplicate candidates. Wider than the library's default (6, tuned on
/// long web messages): hotline texts are 30–100 characters, where inserting one word (已经,
/// 一直) already moves the SimHash 7–10 bits, while unrelated texts stay about 25–32 apart.
/// The place and time window filter first, and a dispatcher confirms every merge.
pub const DUPLICATE_MAX_DISTANCE: u32 = 10;
/// At most this many duplicate candidates are shown.
const MAX_DUPLICATES: usize = 5;
/// Rules' answers below this confidence ask for a human.
const RULE_REVIEW_THRESHOLD: f32 = 0.6;

// ------------------------------------------------------------------ state

/// A classifier loaded from the `models` table.
struct LoadedModel {
    id: i64,
    version: i64,
    model: Model,
}

/// The in-memory text services. Built on first use (loading jieba's dictionary and the
/// history takes a moment, and tests that never file a request should not pay for it).
pub struct TextState {
    resolver: Resolver,
    duplicates: DuplicateIndex,
    /// Requests already in the index: the first intake both loads history (which already
    /// holds it) and adds itself.
    indexed: HashSet<u64>,
    models: HashMap<String, LoadedModel>,
}

/// Shared by every handler; models are swapped in place when newer ones are stored.
pub struct TextServices {
    dir: Arc<Directory>,
    state: tokio::sync::OnceCell<RwLock<TextState>>,
}

impl TextServices {
    pub fn new(dir: Arc<Directory>) -> Self {
        TextServices {
            dir,
            state: tokio::sync::OnceCell::new(),
        }
    }

    /// The loaded state, building it from the world and the database on first use.
    pub async fn ensure_loaded(
        &self,
        store: &Store,
        now: Timestamp,
    ) -> AppResult<&RwLock<TextState>> {
        self.state
            .get_or_try_init(|| async {
                let started = Instant::now();
                let dir = self.dir.clone();
                let (segmenter, resolver) = tokio::task::spawn_blocking(move || build_base(&dir))
                    .await
                    .map_err(AppError::internal)?;
                let mut state = TextState {
                    duplicates: DuplicateIndex::new(Arc::new(segmenter), DUPLICATE_MAX_DISTANCE),
                    indexed: HashSet::new(),
                    resolver,
                    models: HashMap::new(),
                };
                let since = now
                    .checked_sub(SignedDuration::from_hours(HISTORY_DAYS * 24))
                    .unwrap_or(Timestamp::UNIX_EPOCH);
                let history = store.text_history(since, HISTORY_LIMIT).await?;
                let count = history.len();
                // Oldest first, so the index's tie-break (newest first) matches time order.
                let state = tokio::task::spawn_blocking(move || {
                    for h in history.iter().rev() {
                        state.remember(h);
                    }
                    state
                })
                .await
                .map_err(AppError::internal)?;
                let lock = RwLock::new(state);
                if let Err(e) = load_newer_models(&lock, store).await {
                    tracing::warn!(error = %e.message, "loading trained models failed; rules only");
                }
                tracing::info!(
                    history = count,
                    ms = started.elapsed().as_millis() as u64,
                    "text services ready"
                );
                Ok::<_, AppError>(lock)
            })
            .await
    }

    /// Loads models newer than those in memory; returns the versions now in force.
    pub async fn reload(&self, store: &Store, now: Timestamp) -> AppResult<Value> {
        let lock = self.ensure_loaded(store, now).await?;
        load_newer_models(lock, store).await?;
        Ok(model_versions(lock))
    }
}

fn model_versions(lock: &RwLock<TextState>) -> Value {
    let Ok(state) = lock.read() else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for kind in MODEL_KINDS {
        out.insert(
            kind.to_string(),
            state
                .models
                .get(*kind)
                .map_or(Value::Null, |m| serde_json::json!(m.version)),
        );
    }
    Value::Object(out)
}

async fn load_newer_models(lock: &RwLock<TextState>, store: &Store) -> AppResult<usize> {
    let latest = store.latest_models().await?;
    let mut loaded = 0;
    for info in latest {
        let current = lock
            .read()
            .ok()
            .and_then(|s| s.models.get(&info.kind).map(|m| m.id));
        if current == Some(info.id) || !MODEL_KINDS.contains(&info.kind.as_str()) {
            continue;
        }
        let Some(bytes) = store.model_bytes(info.id).await? else {
            continue;
        };
        // Decoding rebuilds jieba with the model's lexicon: CPU work off the async threads.
        let model = tokio::task::spawn_blocking(move || Model::from_bytes(&bytes))
            .await
            .map_err(AppError::internal)?;
        match model {
            Ok(model) => {
                if let Ok(mut state) = lock.write() {
                    state.models.insert(
                        info.kind.clone(),
                        LoadedModel {
                            id: info.id,
                            version: info.version,
                            model,
                        },
                    );
                    loaded += 1;
                    tracing::info!(kind = info.kind, version = info.version, "model loaded");
                }
            }
            // A corrupt row must not take suggestions down: keep the model in force.
            Err(e) => {
                tracing::warn!(kind = info.kind, version = info.version, error = %e, "stored model unreadable")
            }
        }
    }
    Ok(loaded)
}

/// Words jieba must keep whole: region, unit and place names and the category keywords.
pub fn lexicon(dir: &Directory) -> Vec<String> {
    let w = &dir.world;
    let mut words: Vec<String> = Vec::new();
    words.extend(w.streets.iter().map(|s| s.name.clone()));
    words.extend(w.communities.iter().map(|c| c.name.clone()));
    words.extend(w.units.iter().map(|u| u.name.clone()));
    words.extend(w.places.iter().map(|p| p.name.clone()));
    for c in &w.categories {
        words.extend(c.keywords.iter().cloned());
    }
    words.retain(|x| x.chars().count() >= 2);
    words.sort();
    words.dedup();
    words
}

/// The resolver's gazetteer from the world.
pub fn gazetteer(dir: &Directory) -> Gazetteer {
    let w = &dir.world;
    Gazetteer {
        streets: w
            .streets
            .iter()
            .map(|s| (s.code.clone(), s.name.clone()))
            .collect(),
        communities: w
            .communities
            .iter()
            .map(|c| (c.code.clone(), c.name.clone(), c.street_code.clone()))
            .collect(),
        places: w
            .places
            .iter()
            .map(|p| GazetteerPlace {
                name: p.name.clone(),
                kind: serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                street_code: p.street_code.clone(),
                community_code: p.community_code.clone(),
            })
            .collect(),
    }
}

fn build_base(dir: &Directory) -> (Segmenter, Resolver) {
    let segmenter = Segmenter::new(lexicon(dir));
    let resolver = Resolver::new(&gazetteer(dir), &dir.world.district.name);
    (segmenter, resolver)
}

/// Duplicates are matched within a street: communities are often unknown at intake, and
/// the index treats an unknown place as matching any, so the street is the finest key every
/// request has once its address resolves.
fn place_key(street: Option<&str>) -> &str {
    street.unwrap_or("")
}

impl TextState {
    /// Adds an earlier request to the duplicate index and, when its place is known, teaches
    /// the resolver its address.
    fn remember(&mut self, h: &TextHistory) {
        let Ok(id) = u64::try_from(h.id) else {
            return;
        };
        if !self.indexed.insert(id) {
            return;
        }
        self.duplicates.insert(
            id,
            &h.text,
            place_key(h.street.as_deref()),
            h.received_at.as_millisecond(),
        );
        if let (Some(address), Some(street)) = (&h.address, &h.street) {
            self.resolver.learn(address, street, h.community.as_deref());
        }
    }
}

// ------------------------------------------------------------------ suggestions

/// What suggestions are computed from.
#[derive(Debug, Clone, Default)]
pub struct SuggestInput {
    pub text: String,
    pub title: Option<String>,
    pub address: Option<String>,
    /// What the operator already chose (used for routing, never overridden).
    pub request_type: Option<String>,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub received_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranked {
    pub value: String,
    pub confidence: f32,
}

/// One suggested label.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggested {
    /// `None` when nothing fits.
    pub value: Option<String>,
    /// Chinese name for display.
    pub label: Option<String>,
    pub confidence: f32,
    /// `model` (trained on this deployment's history) or `rules`.
    pub source: String,
    /// Model version when `source` is `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<i64>,
    pub top: Vec<Ranked>,
    pub needs_review: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub confidence: f32,
    /// `operator` (given in the request) or `address`.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Duplicate {
    pub id: i64,
    pub tracking_code: String,
    pub similarity: f32,
    pub status: String,
}

/// Everything suggested for one request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestions {
    pub request_type: Suggested,
    pub category: Suggested,
    pub unit: Suggested,
    pub street: Option<Place>,
    pub community: Option<Place>,
    /// Why the address resolved as it did.
    pub address_evidence: Vec<String>,
    pub emergency: EmergencyFlag,
    pub duplicates: Vec<Duplicate>,
    /// Something here needs an operator's judgement.
    pub needs_review: bool,
}

/// Computes the suggestions for `input`. CPU only (a few jieba cuts and dot products); the
/// duplicates' tracking codes and statuses are read from the store afterwards.
pub async fn suggest_for(app: &App, input: &SuggestInput) -> AppResult<Suggestions> {
    let lock = app.text.ensure_loaded(&app.store, app.now()).await?;
    let (mut suggestions, candidates) = {
        let state = lock
            .read()
            .map_err(|_| AppError::internal("text services lock poisoned"))?;
        compute(&app.dir, &state, input)
    };
    for (id, similarity) in candidates.into_iter().take(MAX_DUPLICATES) {
        let Ok(id) = i64::try_from(id) else { continue };
        // A request seen by the index but gone from the store (a restored backup) is skipped.
        if let Some(st) = app.store.get(id).await? {
            suggestions.duplicates.push(Duplicate {
                id,
                tracking_code: st.tracking_code,
                similarity: (similarity * 1000.0).round() / 1000.0,
                status: st.status.as_str().to_string(),
            });
        }
    }
    if !suggestions.duplicates.is_empty() {
        suggestions.needs_review = true;
    }
    Ok(suggestions)
}

/// Adds a stored request to the duplicate index and the resolver's history.
pub async fn remember(app: &App, h: TextHistory) {
    match app.text.ensure_loaded(&app.store, app.now()).await {
        Ok(lock) => {
            if let Ok(mut state) = lock.write() {
                state.remember(&h);
            }
        }
        Err(e) => tracing::warn!(error = %e.message, "text services unavailable"),
    }
}

fn compute(
    dir: &Directory,
    state: &TextState,
    input: &SuggestInput,
) -> (Suggestions, Vec<(u64, f32)>) {
    let full_text = match &input.title {
        Some(t) if !t.trim().is_empty() => format!("{t}。{}", input.text),
        _ => input.text.clone(),
    };
    let text = normalize(&full_text);

    // Where: the operator's codes win; otherwise the address (then the text) decides.
    let resolution: Resolution = state
        .resolver
        .resolve_parts(input.address.as_deref(), &text);
    let street = match &input.street {
        Some(code) => dir.street(code).map(|s| Place {
            code: s.code.clone(),
            name: s.name.clone(),
            confidence: 1.0,
            source: "operator".into(),
        }),
        None => resolution.street.as_ref().map(|r| Place {
            code: r.code.clone(),
            name: r.name.clone(),
            confidence: r.confidence,
            source: "address".into(),
        }),
    };
    let community = match &input.community {
        Some(code) => dir.community(code).map(|c| Place {
            code: c.code.clone(),
            name: c.name.clone(),
            confidence: 1.0,
            source: "operator".into(),
        }),
        None => resolution
            .community
            .as_ref()
            .filter(|c| street.as_ref().is_none_or(|s| c.code.starts_with(&s.code)))
            .map(|r| Place {
                code: r.code.clone(),
                name: r.name.clone(),
                confidence: r.confidence,
                source: "address".into(),
            }),
    };
    // A community given without a street still places the request.
    let street = street.or_else(|| {
        community.as_ref().and_then(|c| {
            dir.world.street_of_community(&c.code).map(|s| Place {
                code: s.code.clone(),
                name: s.name.clone(),
                confidence: c.confidence,
                source: c.source.clone(),
            })
        })
    });

    let request_type = match state.models.get("request_type") {
        Some(m) => from_model(m, &text, |v| {
            v.parse::<RequestType>()
                .ok()
                .map(|t| t.label_zh().to_string())
        }),
        None => type_by_rules(&text),
    };
    let category = match state.models.get("category") {
        Some(m) => from_model(m, &text, |v| category_label(dir, v)),
        None => category_by_rules(dir, &text),
    };
    let routed_category = input.category.clone().or_else(|| category.value.clone());
    let street_code = street.as_ref().map(|s| s.code.clone());
    let unit = match state.models.get("unit") {
        Some(m) => {
            let mut s = from_model(m, &text, |v| dir.world.unit(v).map(|u| u.name.clone()));
            // The model learns which kind of office handles a text, not where the caller
            // lives: a street office is swapped for the office of the resolved street.
            if let (Some(v), Some(street)) = (&s.value, &street_code)
                && dir
                    .world
                    .unit(v)
                    .is_some_and(|u| u.kind == jiesu_world::UnitKind::Street)
                && let Some(office) = dir.world.street_office(street)
                && &office.code != v
            {
                s.value = Some(office.code.clone());
                s.label = Some(office.name.clone());
                s.source = "model+address".into();
            }
            s
        }
        None => unit_by_rules(dir, routed_category.as_deref(), street_code.as_deref()),
    };

    let emergency = detect_emergency(&full_text);
    let candidates = state.duplicates.query(
        &full_text,
        place_key(street_code.as_deref()),
        input.received_at.as_millisecond(),
        DUPLICATE_WINDOW.as_millis() as i64,
    );
    let needs_review = request_type.needs_review
        || category.needs_review
        || unit.needs_review
        || street.is_none()
        || emergency.level != EmergencyLevel::None;
    (
        Suggestions {
            request_type,
            category,
            unit,
            street,
            community,
            address_evidence: resolution.evidence,
            emergency,
            duplicates: Vec::new(),
            needs_review,
        },
        candidates,
    )
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn from_model(m: &LoadedModel, text: &str, label: impl Fn(&str) -> Option<String>) -> Suggested {
    let p = m.model.predict(text);
    let value = (!p.label.is_empty()).then(|| p.label.clone());
    Suggested {
        label: value.as_deref().and_then(&label),
        value,
        confidence: round3(p.confidence),
        source: "model".into(),
        model_version: Some(m.version),
        top: p
            .top
            .iter()
            .map(|(v, c)| Ranked {
                value: v.clone(),
                confidence: round3(*c),
            })
            .collect(),
        needs_review: p.needs_review,
    }
}

fn rules(
    value: Option<String>,
    label: Option<String>,
    confidence: f32,
    top: Vec<Ranked>,
) -> Suggested {
    Suggested {
        needs_review: value.is_none() || confidence < RULE_REVIEW_THRESHOLD,
        value,
        label,
        confidence: round3(confidence),
        source: "rules".into(),
        model_version: None,
        top,
    }
}

fn category_label(dir: &Directory, code: &str) -> Option<String> {
    let path = dir.world.category_path(code);
    (!path.is_empty()).then(|| {
        path.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" › ")
    })
}

/// Leaf whose keywords cover the most characters of the text (a longer keyword is more
/// specific); confidence = its share of all matched keyword characters × a saturation in the
/// amount matched (one short keyword is weak evidence).
fn category_by_rules(dir: &Directory, text: &str) -> Suggested {
    let mut scores: Vec<(String, f32)> = dir
        .world
        .leaf_categories()
        .filter_map(|c| {
            let score: usize = c
                .keywords
                .iter()
                .filter(|k| !k.is_empty() && text.contains(k.as_str()))
                .map(|k| k.chars().count())
                .sum();
            (score > 0).then(|| (c.code.clone(), score as f32))
        })
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: f32 = scores.iter().map(|s| s.1).sum();
    let top: Vec<Ranked> = scores
        .iter()
        .take(3)
        .map(|(v, s)| Ranked {
            value: v.clone(),
            confidence: round3(s / total * (1.0 - (-s / 3.0).exp())),
        })
        .collect();
    match top.first() {
        Some(best) => rules(
            Some(best.value.clone()),
            category_label(dir, &best.value),
            best.confidence,
            top,
        ),
        None => rules(None, None, 0.0, top),
    }
}

/// Cue words of each request type, most specific first; anything else is a 投诉.
const TYPE_CUES: &[(RequestType, &[&str])] = &[
    (RequestType::Report, &["举报", "检举"]),
    (
        RequestType::Consultation,
        &[
            "请问",
            "咨询",
            "怎么办理",
            "如何办理",
            "如何申请",
            "需要什么材料",
        ],
    ),
    (RequestType::Suggestion, &["建议"]),
    (RequestType::Praise, &["表扬", "感谢"]),
    (RequestType::HelpRequest, &["求助", "帮忙"]),
];

fn type_by_rules(text: &str) -> Suggested {
    let found = TYPE_CUES
        .iter()
        .find(|(_, cues)| cues.iter().any(|c| text.contains(c)));
    let (t, confidence) = match found {
        Some((t, _)) => (*t, 0.7),
        None => (RequestType::Complaint, 0.5),
    };
    rules(
        Some(t.as_str().to_string()),
        Some(t.label_zh().to_string()),
        confidence,
        vec![Ranked {
            value: t.as_str().to_string(),
            confidence,
        }],
    )
}

/// The category's default routing: its named unit, or the office of the request's street.
fn unit_by_rules(dir: &Directory, category: Option<&str>, street: Option<&str>) -> Suggested {
    let Some(category) = category else {
        return rules(None, None, 0.0, Vec::new());
    };
    let unit = match dir
        .world
        .category(category)
        .and_then(|c| c.responsible.as_ref())
    {
        Some(jiesu_world::Responsible::Unit(code)) => dir.world.unit(code),
        Some(jiesu_world::Responsible::Street) => street.and_then(|s| dir.world.street_office(s)),
        None => None,
    };
    match unit {
        Some(u) => rules(
            Some(u.code.clone()),
            Some(u.name.clone()),
            0.8,
            vec![Ranked {
                value: u.code.clone(),
                confidence: 0.8,
            }],
        ),
        None => rules(None, None, 0.0, Vec::new()),
    }
}

/// Checks for newer models every `every` until the process ends.
pub fn spawn_model_watcher(app: App, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The first tick fires at once: the services load at start, not on the first call.
            tick.tick().await;
            if let Err(e) = app.text.reload(&app.store, app.now()).await {
                tracing::warn!(error = %e.message, "model reload failed");
            }
        }
    })
}

// ------------------------------------------------------------------ use cases

/// A suggestion draft takes the intake body; fields that only matter when storing
/// (caller, dispatch, idempotency) are accepted and ignored so the UI can send one body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestBody {
    pub text: String,
    pub title: Option<String>,
    pub address: Option<String>,
    pub request_type: Option<String>,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub received_at: Option<Timestamp>,
    pub channel: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub urgent: bool,
    pub dispatch_to: Option<String>,
    pub answer: Option<String>,
    pub special_handling: Option<Value>,
    pub idempotency_key: Option<String>,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Checks what a suggestion needs with intake's own rules (`jiesu_domain::intake::check_*`),
/// so the dry run refuses the codes intake would. A draft may leave the type out, name a parent
/// category, or a community without its street.
pub fn suggest_input(
    dir: &Directory,
    body: SuggestBody,
    now: Timestamp,
) -> AppResult<SuggestInput> {
    use jiesu_domain::intake::{
        MAX_TEXT_CHARS, check_category, check_community, check_request_type, check_street,
    };
    // Unlike intake, a draft's stray control characters (pasted text) are read past, not
    // refused: the suggestion is a help, and intake still refuses them when the form is sent.
    let text = body.text.trim().to_string();
    if normalize(&text).is_empty() {
        return Err(AppError::invalid("text", "required", "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(
            "text",
            "too_long",
            format!("at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    let category = blank_to_none(body.category);
    if let Some(c) = &category {
        check_category(dir, c, false)?;
    }
    let street = blank_to_none(body.street);
    if let Some(s) = &street {
        check_street(dir, s)?;
    }
    let community = blank_to_none(body.community);
    if let Some(c) = &community {
        check_community(dir, c)?;
    }
    let request_type = blank_to_none(body.request_type);
    if let Some(t) = &request_type {
        check_request_type(t)?;
    }
    Ok(SuggestInput {
        text,
        title: blank_to_none(body.title),
        address: blank_to_none(body.address),
        request_type,
        category,
        street,
        community,
        received_at: body.received_at.unwrap_or(now),
    })
}

/// Suggestions for an intake draft; nothing is stored.
pub async fn suggest(app: &App, user: &User, body: SuggestBody) -> AppResult<Suggestions> {
    require(user, Capability::Suggest)?;
    let input = suggest_input(&app.dir, body, app.now())?;
    suggest_for(app, &input).await
}

/// Loads the newest stored models now (the server also checks periodically); returns the
/// versions in force.
pub async fn reload_models(app: &App, user: &User) -> AppResult<Value> {
    require(user, Capability::ReloadModels)?;
    app.text.reload(&app.store, app.now()).await
}
