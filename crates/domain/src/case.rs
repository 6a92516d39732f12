//! A kind of case, described once and run by the store's one engine.
//!
//! A 12345 request is the first case; elder-care service orders, 一键呼 alarms and childcare
//! applications are others. Each kind states its rules here, pure and without I/O: how a case is
//! created, which events a command decides, how an event changes the state, and its timers. The
//! store supplies everything else once for all kinds: the transaction, the row lock and the
//! version check, retries on a concurrent writer, the event log, the outbox, and the timer sweep.
//!
//! Timers are exactly-once by construction: `fire_timers` must return events whose `apply`
//! moves `next_timer` past `now` (or to `None`), as the request's overdue flags do. The engine
//! writes them under the row lock with the version check, so a second sweep — or one running at
//! the same time on another server — finds nothing left to fire.

use crate::commands::Ctx;
use crate::error::DomainError;
use crate::lifecycle::Actor;
use jiff::Timestamp;
use serde::{Serialize, de::DeserializeOwned};

/// A stored event of a case: its position, time, actor, reason and kind-specific payload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseEvent<E> {
    /// 1, 2, … within the case; the state's version after this event.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: Actor,
    pub reason: Option<String>,
    pub payload: E,
}

/// Columns the store keeps beside a case's state, so lists and lookups need not read every
/// state: each kind fills what it uses (an order: its number, provider, community, elder and
/// visit time). `code` is unique within a kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseIndex {
    pub code: Option<String>,
    pub owner: Option<String>,
    pub region: Option<String>,
    pub subject: Option<i64>,
    pub at: Option<Timestamp>,
}

/// An event decided but not yet stamped: the payload and an optional reason.
pub type Decided<E> = (E, Option<String>);

/// The rules of one kind of case.
pub trait CaseKind: Send + Sync + 'static {
    /// Stored in every row of this kind (`cases.kind`, `case_events.kind`); never change it.
    const KIND: &'static str;
    type State: Clone + Serialize + DeserializeOwned + Send + Sync;
    /// The event payload (usually an enum). Events go out to webhook subscribers as they are:
    /// keep identities (names, phones, ID numbers) out of them and refer to registry ids.
    type Event: Clone + Serialize + DeserializeOwned + Send + Sync;
    type Command: Send + Sync;
    /// What creating a case takes.
    type Create: Send + Sync;

    /// The event's stable name (stored beside the payload, used by subscribers).
    fn event_name(e: &Self::Event) -> &'static str;

    /// The empty state of case `id` before its first event (version 0).
    fn initial(id: i64, now: Timestamp) -> Self::State;

    /// The first events of a new case; refused with a reason like any command.
    fn create(
        input: &Self::Create,
        actor: &Actor,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<Self::Event>>, DomainError>;

    /// The events `cmd` by `actor` produces, or why it is refused (then nothing changes).
    fn decide(
        st: &Self::State,
        actor: &Actor,
        cmd: &Self::Command,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<Self::Event>>, DomainError>;

    /// Applies one event; must set the version to `e.seq`.
    fn apply(st: &mut Self::State, e: &CaseEvent<Self::Event>);

    /// The case's id (as given to `initial`).
    fn id(st: &Self::State) -> i64;

    fn version(st: &Self::State) -> i64;

    /// A short status for lists and indexes.
    fn status(st: &Self::State) -> &str;

    /// Whether `actor` may see (and so act on) the case; a case it may not see is "not found".
    fn can_see(_actor: &Actor, _st: &Self::State) -> bool {
        true
    }

    /// The earliest instant at which `fire_timers` would produce events (`None`: no timer).
    fn next_timer(st: &Self::State) -> Option<Timestamp>;

    /// The events due at `now`; applying them must move `next_timer` past `now`.
    fn fire_timers(st: &Self::State, now: Timestamp) -> Vec<Decided<Self::Event>>;

    /// The indexed columns of the case (see [`CaseIndex`]); none by default.
    fn index(_st: &Self::State) -> CaseIndex {
        CaseIndex::default()
    }
}

/// Stamps decided events onto `st` (seq = version + 1, …) and applies them.
pub fn stamp<K: CaseKind>(
    st: &mut K::State,
    decided: Vec<Decided<K::Event>>,
    actor: &Actor,
    now: Timestamp,
) -> Vec<CaseEvent<K::Event>> {
    decided
        .into_iter()
        .map(|(payload, reason)| {
            let e = CaseEvent {
                seq: K::version(st) + 1,
                at: now,
                actor: actor.clone(),
                reason,
                payload,
            };
            K::apply(st, &e);
            debug_assert_eq!(
                K::version(st),
                e.seq,
                "{}: apply must set the version",
                K::KIND
            );
            e
        })
        .collect()
}
