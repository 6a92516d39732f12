//! 一老一小 (1): elder care — the registry's rules, capacity assessment, service orders (a kind
//! of case), meals and their subsidies, and monthly settlement (a kind of case too).

pub mod ability;
pub mod claim;
pub mod meals;
pub mod order;
pub mod person;

pub use claim::{Claim, ClaimState};
pub use order::{OrderState, ServiceKind, ServiceOrder};
