//! 托育 (issue 16): institutions and places, applications as a kind of case, the allocation
//! round (child-proposing deferred acceptance with a published lottery seed), the 普惠 subsidy
//! and 医育结合 health checks. Pure rules; the store and the doors run them.

pub mod allocation;
pub mod application;
pub mod health;
pub mod institution;
pub mod subsidy;

pub use allocation::{Market, RoundResult, run_round, verify};
pub use application::{ApplicationState, ChildcareApplication, ChildcareRules};
pub use institution::{Band, BandRules, Institution};
