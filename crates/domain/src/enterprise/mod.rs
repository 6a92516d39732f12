//! 企事通 (issue 17): enterprises (统一社会信用代码 by GB 32100), 服务包 membership and their
//! 服务管家, anonymous dispatch, and the policy registry's eligibility conditions. Pure rules.
//!
//! - [`credit_code`]: parse and check a 统一社会信用代码; make synthetic ones.
//! - [`registry`]: the firm's record, its 服务包 membership by year, its steward over time.
//! - [`anonymity`]: what a viewer may see of an anonymous request's firm; reveals to audit.
//! - [`policy`]: a policy's eligibility as a condition tree; matching with reasons.
//! - [`kpi`]: requests attributed to steward and tier; firms with repeated unresolved requests.

pub mod anonymity;
pub mod credit_code;
pub mod kpi;
pub mod policy;
pub mod registry;

pub use anonymity::{FirmLink, FirmView, MaskedFirm, Peers, Reveal, Viewer, firm_view};
pub use credit_code::{CreditCode, parse_credit_code, with_check_character};
pub use policy::{Condition, Match, Policy, matches, parse_policy};
pub use registry::{Enterprise, EnterpriseInput, Industry, Membership, Size, Tier};
