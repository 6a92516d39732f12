//! Enterprise-service KPIs: which requests count for which steward and tier, and the firms
//! with repeated unresolved requests. The three rates themselves are the 考评 engine's
//! (`assessment`): the app runs it over each group's request logs.
//!
//! Attribution is by the day the request was received: a request belongs to the steward who
//! held the firm then and to the firm's 服务包 tier then, so handing a firm to another steward
//! in June does not move May's requests (nor their rates) to the new one. A request received
//! while the firm had no steward, or was not on the list, is in the `None` group.

use super::credit_code::CreditCode;
use super::registry::{Enterprise, Tier};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// An enterprise request as the KPIs need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseRequest {
    pub request_id: i64,
    pub credit_code: CreditCode,
    /// The civil date (Beijing) the request was received.
    pub received_on: Date,
    /// The latest reached callback's verdict: `Some(false)` when the firm said it was not
    /// resolved, `None` before any reached callback.
    pub resolved: Option<bool>,
}

fn firm<'a>(firms: &'a [Enterprise], code: &CreditCode) -> Option<&'a Enterprise> {
    firms.iter().find(|f| f.credit_code == *code)
}

/// Request ids by the steward who held the firm the day each was received.
pub fn by_steward(
    requests: &[EnterpriseRequest],
    firms: &[Enterprise],
) -> BTreeMap<Option<String>, Vec<i64>> {
    let mut out: BTreeMap<Option<String>, Vec<i64>> = BTreeMap::new();
    for r in requests {
        let s = firm(firms, &r.credit_code)
            .and_then(|f| f.steward_on(r.received_on))
            .map(str::to_string);
        out.entry(s).or_default().push(r.request_id);
    }
    out
}

/// Request ids by the firm's 服务包 tier the day each was received.
pub fn by_tier(
    requests: &[EnterpriseRequest],
    firms: &[Enterprise],
) -> BTreeMap<Option<Tier>, Vec<i64>> {
    let mut out: BTreeMap<Option<Tier>, Vec<i64>> = BTreeMap::new();
    for r in requests {
        let t = firm(firms, &r.credit_code)
            .and_then(|f| f.membership_on(r.received_on))
            .map(|m| m.tier);
        out.entry(t).or_default().push(r.request_id);
    }
    out
}

/// A firm with repeated unresolved requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatedFirm {
    pub credit_code: CreditCode,
    /// The unresolved requests, in the order given.
    pub unresolved: Vec<i64>,
}

/// Firms with at least `min` requests received in `from..=to` whose callback said unresolved,
/// most unresolved first (then by code, so the list is stable).
pub fn repeated_unresolved(
    requests: &[EnterpriseRequest],
    from: Date,
    to: Date,
    min: usize,
) -> Vec<RepeatedFirm> {
    let mut by: BTreeMap<&CreditCode, Vec<i64>> = BTreeMap::new();
    for r in requests {
        if r.resolved == Some(false) && (from..=to).contains(&r.received_on) {
            by.entry(&r.credit_code).or_default().push(r.request_id);
        }
    }
    let mut out: Vec<RepeatedFirm> = by
        .into_iter()
        .filter(|(_, ids)| ids.len() >= min.max(1))
        .map(|(c, ids)| RepeatedFirm {
            credit_code: c.clone(),
            unresolved: ids,
        })
        .collect();
    out.sort_by(|a, b| {
        b.unresolved
            .len()
            .cmp(&a.unresolved.len())
            .then_with(|| a.credit_code.cmp(&b.credit_code))
    });
    out
}
