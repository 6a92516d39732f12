//! What the API shows of a request: its state, names for its codes, the SLA light, and the
//! caller's identity masked unless the viewer's role needs it (条例 Art.8/35).

use jiesu_domain::intake::{mask_name, mask_phone};
use jiesu_domain::{Directory, Event, EventKind, RequestState, Role, Status};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub state: RequestState,
    pub status_label: &'static str,
    pub request_type_label: &'static str,
    pub category_name: Option<String>,
    pub street_name: Option<String>,
    pub community_name: Option<String>,
    pub lead_unit_name: Option<String>,
    /// `ok`, `warning` (past the warning point), `overdue`, `paused` (extension pending) or
    /// `none` (no clock running).
    pub sla_state: &'static str,
    /// Whether the caller's name and phone are masked in this view.
    pub caller_masked: bool,
}

pub fn sla_state(st: &RequestState, now: Timestamp) -> &'static str {
    if st.response_overdue || st.completion_overdue {
        return "overdue";
    }
    if !st.status.is_in_handling() {
        return "none";
    }
    if st.extension.is_some() {
        return "paused";
    }
    match (st.completion_due, st.warn_at) {
        (Some(d), _) if d < now => "overdue",
        (_, Some(w)) if w <= now => "warning",
        _ => "ok",
    }
}

pub fn mask_state(st: &mut RequestState) {
    let c = &mut st.intake.caller;
    c.name = c.name.as_deref().map(mask_name);
    c.phone = c.phone.as_deref().map(mask_phone);
}

/// The world's names for a request's codes (`None` where the code is absent or unknown).
pub struct Names {
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub lead_unit: Option<String>,
}

pub fn names(dir: &Directory, st: &RequestState) -> Names {
    let i = &st.intake;
    Names {
        category: i
            .category
            .as_deref()
            .and_then(|c| dir.category(c))
            .map(|c| c.name.clone()),
        street: i
            .street
            .as_deref()
            .and_then(|c| dir.street(c))
            .map(|s| s.name.clone()),
        community: i
            .community
            .as_deref()
            .and_then(|c| dir.community(c))
            .map(|c| c.name.clone()),
        lead_unit: st
            .lead_unit
            .as_deref()
            .and_then(|c| dir.unit(c))
            .map(|u| u.name.clone()),
    }
}

/// `reveal`: show the caller's identity (the caller has checked the role and logs the view).
pub fn request_view(
    dir: &Directory,
    mut st: RequestState,
    reveal: bool,
    now: Timestamp,
) -> RequestView {
    if !reveal {
        mask_state(&mut st);
    }
    let Names {
        category: category_name,
        street: street_name,
        community: community_name,
        lead_unit: lead_unit_name,
    } = names(dir, &st);
    RequestView {
        status_label: st.status.label_zh(),
        request_type_label: st.intake.request_type.label_zh(),
        sla_state: sla_state(&st, now),
        category_name,
        street_name,
        community_name,
        lead_unit_name,
        caller_masked: !reveal,
        state: st,
    }
}

/// Whether this role sees callers' identities (and so whether a view of them is logged).
pub fn reveals_identity(role: Role) -> bool {
    role.sees_caller_identity()
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    #[serde(flatten)]
    pub event: Event,
    pub label: &'static str,
}

pub fn event_views(mut events: Vec<Event>, reveal: bool) -> Vec<EventView> {
    for e in &mut events {
        if !reveal && let EventKind::Received { intake } = &mut e.kind {
            intake.caller.name = intake.caller.name.as_deref().map(mask_name);
            intake.caller.phone = intake.caller.phone.as_deref().map(mask_phone);
        }
    }
    events
        .into_iter()
        .map(|e| EventView {
            label: e.kind.label_zh(),
            event: e,
        })
        .collect()
}

/// Statuses by their API codes, for error messages.
pub fn status_codes() -> String {
    Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
