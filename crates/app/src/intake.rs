//! 受理 from every door. One pipeline: validate (the domain's rules, then the district's
//! privacy rule on the text), suggest, store with the follow-up action in one transaction,
//! index for search, teach the duplicate index.
//!
//! * [`record`]: a request taken by staff (hotline desk, JSON API), optionally dispatched or
//!   closed in the same action.
//! * [`file_citizen_request`]: a request filed by a citizen (Open311 client, web portal).
//! * [`validate`]: the rules alone, for doors that must refuse before anything else (a photo
//!   upload waits for a valid form).

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use crate::text::{SuggestInput, Suggestions};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{Actor, Channel, Command, Directory, Intake, RequestState, SpecialHandling};
use jiesu_store::{NewRequest, TextHistory, User};
use jiff::Timestamp;
use serde::Deserialize;

/// A request as staff record it (the JSON body of `POST /requests`, the intake desk's form).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    pub request_type: String,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub urgent: bool,
    pub received_at: Option<Timestamp>,
    /// Dispatch at once to this unit (派单 in the same action).
    pub dispatch_to: Option<String>,
    /// Answer a 咨询 on the spot and close it.
    pub answer: Option<String>,
    /// Close at intake with an Art.11 special handling.
    pub special_handling: Option<SpecialHandling>,
    /// Same key twice → the first request, nothing new stored.
    pub idempotency_key: Option<String>,
}

/// What [`record`] did.
pub struct Recorded {
    pub state: RequestState,
    /// True when the idempotency key had been used and nothing new was stored.
    pub replayed: bool,
    /// `None` only if the text services failed: a failure costs the suggestion, never the
    /// intake. Never applied silently: the operator decides.
    pub suggestions: Option<Suggestions>,
}

/// Validates a submission from any door and applies the deployment's privacy rule to the text
/// it will store: with `mask_numbers_in_text`, phone and ID numbers written into the text or
/// title are masked (条例 Art.8).
pub fn validate(
    input: &IntakeInput,
    channel: Channel,
    dir: &Directory,
    now: Timestamp,
) -> Result<Intake, jiesu_domain::DomainError> {
    let mut intake = jiesu_domain::intake::validate(input, channel, dir, now)?;
    if dir.world.district.mask_numbers_in_text {
        intake.text = jiesu_text::mask_pii(&intake.text);
        intake.title = intake.title.as_deref().map(jiesu_text::mask_pii);
    }
    Ok(intake)
}

/// 受理 by staff: checks the role, validates, suggests, stores (with the follow-up action)
/// and indexes one request.
pub async fn record(app: &App, user: &User, body: IntakeRequest) -> AppResult<Recorded> {
    require(user, Capability::RecordIntake)?;
    let now = app.now();
    let key = body.idempotency_key;
    if let Some(k) = &key
        && (k.is_empty() || k.len() > 200)
    {
        return Err(AppError::invalid(
            "idempotency_key",
            "invalid",
            "must be 1–200 characters",
        ));
    }
    let input = IntakeInput {
        request_type: body.request_type,
        channel: body.channel,
        category: body.category,
        street: body.street,
        community: body.community,
        address: body.address,
        title: body.title,
        text: body.text,
        caller_name: body.caller_name,
        caller_phone: body.caller_phone,
        urgent: body.urgent,
        received_at: body.received_at,
    };
    let intake = validate(&input, Channel::Hotline, &app.dir, now)?;
    let follow_up = match (body.dispatch_to, body.answer, body.special_handling) {
        (None, None, None) => None,
        (Some(unit), None, None) => Some(Command::Dispatch { unit, reason: None }),
        (None, answer, special) => Some(Command::Close {
            special,
            answer,
            reason: None,
        }),
        (Some(_), _, _) => {
            return Err(AppError::invalid(
                "dispatch_to",
                "conflicting",
                "dispatch_to cannot be combined with answer or special_handling",
            ));
        }
    };
    let address = intake.address.clone();
    // The operator confirmed the place: the resolver may learn from it.
    store(app, &user.actor(), intake, address, key, follow_up, true).await
}

/// A request another kind of case opens for follow-up (an 一键呼 alarm's), recorded by the
/// system on `channel`; the same `key` twice gives the first request.
pub(crate) async fn record_for_case(
    app: &App,
    input: IntakeInput,
    channel: Channel,
    key: String,
) -> AppResult<Recorded> {
    let intake = validate(&input, channel, &app.dir, app.now())?;
    let address = intake.address.clone();
    store(
        app,
        &Actor::system(),
        intake,
        address,
        Some(key),
        None,
        false,
    )
    .await
}

/// A request filed by a citizen (Open311 client, web portal): the same suggestions the hotline
/// records, stored in the request's own transaction; indexed for search and duplicates. No
/// operator confirmed the place, so the address resolver does not learn from it.
pub async fn file_citizen_request(
    app: &App,
    actor: &Actor,
    intake: Intake,
    address_words: Option<String>,
    idempotency_key: Option<String>,
) -> AppResult<RequestState> {
    let r = store(
        app,
        actor,
        intake,
        address_words,
        idempotency_key,
        None,
        false,
    )
    .await?;
    Ok(r.state)
}

/// The pipeline both doors share, after validation.
async fn store(
    app: &App,
    actor: &Actor,
    intake: Intake,
    address_words: Option<String>,
    idempotency_key: Option<String>,
    follow_up: Option<Command>,
    place_confirmed: bool,
) -> AppResult<Recorded> {
    let now = app.now();
    let suggest_input = SuggestInput {
        text: intake.text.clone(),
        title: intake.title.clone(),
        address: address_words,
        request_type: Some(intake.request_type.as_str().to_string()),
        category: intake.category.clone(),
        street: intake.street.clone(),
        community: intake.community.clone(),
        received_at: intake.received_at,
    };
    // Suggestions depend only on what was said, so they are computed first and stored in the
    // request's own transaction. A failure costs the suggestion, never the intake.
    let suggestions = match crate::text::suggest_for(app, &suggest_input).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e.message, "suggestions failed");
            None
        }
    };
    let created = app
        .store
        .create_request(NewRequest {
            dir: &app.dir,
            actor,
            intake,
            idempotency_key,
            follow_up,
            suggestion: suggestions
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
            now,
        })
        .await?;
    crate::search::after_write(app.search.as_ref(), &created.state);
    if !created.replayed {
        crate::metrics::intake_recorded(created.state.intake.channel.as_str());
    }
    let suggestions = match suggestions {
        Some(s) => Some(remember(app, &created, s, place_confirmed).await),
        None => None,
    };
    Ok(Recorded {
        state: created.state,
        replayed: created.replayed,
        suggestions,
    })
}

/// After a stored intake: the request joins the duplicate index (and, when an operator
/// confirmed the place, teaches the address resolver), and its own entry is dropped from the
/// duplicates shown.
async fn remember(
    app: &App,
    created: &jiesu_store::Created,
    mut suggestions: Suggestions,
    place_confirmed: bool,
) -> Suggestions {
    let st = &created.state;
    suggestions.duplicates.retain(|d| d.id != st.id);
    if created.replayed {
        return suggestions;
    }
    // The duplicate index keys on the street, resolved if none was given; the resolver learns
    // only from streets an operator confirmed (else it would teach itself).
    let confirmed = place_confirmed && st.intake.street.is_some();
    crate::text::remember(
        app,
        TextHistory {
            id: st.id,
            tracking_code: st.tracking_code.clone(),
            status: st.status.as_str().to_string(),
            text: st.intake.text.clone(),
            address: st.intake.address.clone().filter(|_| confirmed),
            street: st
                .intake
                .street
                .clone()
                .or_else(|| suggestions.street.as_ref().map(|p| p.code.clone())),
            community: st.intake.community.clone(),
            received_at: st.intake.received_at,
        },
    )
    .await;
    suggestions
}

/// Stores a citizen's photo before the request it belongs to, unlinked: if filing fails
/// nothing points at it and the cleanup removes it, so no request is ever half-saved.
pub async fn add_photo(app: &App, content_type: &str, bytes: &[u8]) -> AppResult<i64> {
    Ok(app
        .store
        .add_attachment(content_type, bytes, app.now())
        .await?)
}

/// Links a stored photo to the request it came with.
pub async fn link_photo(app: &App, photo_id: i64, request_id: i64) -> AppResult<()> {
    Ok(app.store.link_attachments(&[photo_id], request_id).await?)
}
