//! jiesu's domain rules, pure and without I/O: the request lifecycle as an event-sourced state
//! machine, the SLA policy on the Chinese working calendar, and intake validation.
//!
//! Everything here takes the current time and the world as arguments, so every rule can be
//! tested with a fixed clock.

pub mod alarms;
pub mod analytics;
pub mod assessment;
pub mod calendar;
pub mod care;
pub mod case;
pub mod childcare;
pub mod commands;
pub mod directory;
pub mod enterprise;
pub mod error;
pub mod indicators;
pub mod intake;
pub mod knowledge;
pub mod lifecycle;
pub mod model;
pub mod password;
pub mod tracking;

pub use calendar::WorkCalendar;
pub use case::{CaseEvent, CaseKind};
pub use commands::{Command, Ctx, can_see, decide, decide_merge, sla_breaches};
pub use directory::Directory;
pub use error::DomainError;
pub use intake::IntakeInput;
pub use lifecycle::{Actor, Caller, Event, EventKind, Intake, NewEvent, RequestId, RequestState};
pub use model::*;
