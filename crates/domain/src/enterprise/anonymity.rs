//! 匿名转办 (anonymous dispatch): a firm may ask that the handling unit not learn who
//! complained. The rule, as pure functions every door (API, page, export, webhook, Open311,
//! search) asks before it shows a request's firm.
//!
//! On an anonymous request only three viewers see the firm: the firm's own staff (the portal
//! account that filed it), the firm's 服务管家 and the 派单员 (who must know the firm to route
//! the matter and answer for the anonymity). Everyone else — the handling unit first of all, but
//! also other stewards, operators reading it later, callback, supervisors, admins, and the
//! system's own payloads — sees a masked firm. Each time a steward or dispatcher sees the firm
//! of an anonymous request that is a reveal, returned as a [`Reveal`] the app must log.
//!
//! The masked label is `某企业`, with the firm's industry only when at least [`MIN_PEERS`]
//! registered firms share it, and its street only when at least [`MIN_PEERS`] firms share both
//! (k-anonymity: "a bank in 金融街" names nobody, "the only pharmaceutical firm in 椿树" names
//! one). The caller's identity goes with the firm: [`may_see_caller`].

use super::credit_code::{CreditCode, mask_credit_code};
use super::registry::{Enterprise, Industry};
use crate::model::{Role, vocabulary};
use serde::{Deserialize, Serialize};

/// The least number of registered firms a masked label may point at.
pub const MIN_PEERS: u32 = 10;

/// The label of a fully masked firm.
pub const MASKED_LABEL: &str = "某企业";

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer<'a> {
    pub username: &'a str,
    pub role: Role,
    /// The handler's unit.
    pub unit: Option<&'a str>,
    /// The viewer is the firm's 服务管家 on the day of viewing ([`Enterprise::is_steward`]).
    pub steward_of_firm: bool,
    /// The viewer is the firm's own account (an enterprise portal login of this firm).
    pub staff_of_firm: bool,
}

impl<'a> Viewer<'a> {
    /// The viewer an engine actor is for `firm` on `on`: its steward if it holds the firm that
    /// day; its staff if the actor's enterprise account belongs to `own_firm` (the portal
    /// session's firm, `None` for staff accounts).
    pub fn of(
        actor: &'a crate::lifecycle::Actor,
        firm: &Enterprise,
        on: jiff::civil::Date,
        own_firm: Option<&CreditCode>,
    ) -> Self {
        Viewer {
            username: &actor.username,
            role: actor.role,
            unit: actor.unit.as_deref(),
            steward_of_firm: firm.is_steward(&actor.username, on),
            staff_of_firm: own_firm == Some(&firm.credit_code),
        }
    }
}

/// A request's link to a firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmLink {
    pub request_id: i64,
    pub credit_code: CreditCode,
    /// The firm asked that the handling unit not learn who it is.
    #[serde(default)]
    pub anonymous: bool,
}

/// How many registered firms share the firm's attributes (the app counts them in the
/// registry), for the k-anonymity of the masked label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peers {
    /// Firms with the same industry (the firm itself included).
    pub industry: u32,
    /// Firms with the same industry in the same street (the firm itself included).
    pub industry_street: u32,
}

vocabulary! {
    /// Why a viewer may see the firm of an anonymous request.
    RevealGround {
        Steward = "steward" / "服务管家",
        Dispatcher = "dispatcher" / "派单员",
    }
}

/// A marker the app logs in the audit trail: `viewer` saw the firm of anonymous request
/// `request_id`.
#[must_use = "every reveal of an anonymous request's firm must be audited"]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    pub request_id: i64,
    pub credit_code: CreditCode,
    pub viewer: String,
    pub role: Role,
    pub ground: RevealGround,
}

/// A masked firm: what the label says and nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedFirm {
    pub label: String,
    pub industry: Option<Industry>,
    pub street: Option<String>,
}

/// What the viewer may see of a request's firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum FirmView {
    /// The firm itself; on an anonymous request with the reveal to audit.
    Full {
        reveal: Option<Reveal>,
    },
    Masked(MaskedFirm),
}

impl FirmView {
    pub fn is_full(&self) -> bool {
        matches!(self, FirmView::Full { .. })
    }
}

/// Why `viewer` may see the firm of an anonymous request, or `None` when it may not. Staff of
/// the firm see it without a reveal (it is their own name).
fn ground(viewer: &Viewer) -> Option<Option<RevealGround>> {
    if viewer.staff_of_firm {
        Some(None)
    } else if viewer.steward_of_firm {
        Some(Some(RevealGround::Steward))
    } else if viewer.role == Role::Dispatcher {
        Some(Some(RevealGround::Dispatcher))
    } else {
        None
    }
}

/// What `viewer` may see of the firm of `link` (whose record is `firm`). Whether the viewer may
/// see the request at all is the engine's question (`can_see`); this answers only for the firm.
pub fn firm_view(viewer: &Viewer, link: &FirmLink, firm: &Enterprise, peers: Peers) -> FirmView {
    if !link.anonymous {
        return FirmView::Full { reveal: None };
    }
    match ground(viewer) {
        Some(g) => FirmView::Full {
            reveal: g.map(|ground| Reveal {
                request_id: link.request_id,
                credit_code: link.credit_code.clone(),
                viewer: viewer.username.to_string(),
                role: viewer.role,
                ground,
            }),
        },
        None => FirmView::Masked(masked(firm, peers)),
    }
}

/// The masked form of `firm` given how many firms share its attributes.
pub fn masked(firm: &Enterprise, peers: Peers) -> MaskedFirm {
    let industry = (peers.industry >= MIN_PEERS).then_some(firm.industry);
    let street =
        (industry.is_some() && peers.industry_street >= MIN_PEERS).then(|| firm.street.clone());
    let label = match (&industry, &street) {
        (Some(i), Some(s)) => format!("某{}企业（{s}）", i.label_zh()),
        (Some(i), None) => format!("某{}企业", i.label_zh()),
        _ => MASKED_LABEL.to_string(),
    };
    MaskedFirm {
        label,
        industry,
        street,
    }
}

/// Whether `viewer` may see the caller's name and phone on a request linked to a firm: on an
/// anonymous one the caller is the firm's staff, so the caller is hidden from whoever may not
/// see the firm (a phone call back would name the firm).
pub fn may_see_caller(viewer: &Viewer, link: &FirmLink) -> bool {
    let base = viewer.role.sees_caller_identity() || viewer.staff_of_firm || viewer.steward_of_firm;
    base && (!link.anonymous || ground(viewer).is_some())
}

/// `text` with the firm's name, short name and credit code replaced by `某企业`, for the
/// request's text, notes and replies shown to a masked viewer (callers name their firm in the
/// text too). Case-insensitive for the code; the longer name first so the short name inside it
/// leaves no remnant.
pub fn redact(text: &str, firm: &Enterprise) -> String {
    let mut names: Vec<&str> = vec![firm.name.as_str()];
    if let Some(s) = firm.short_name.as_deref() {
        names.push(s);
    }
    names.retain(|n| n.chars().count() >= 2);
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for n in names {
        out = out.replace(n, MASKED_LABEL);
    }
    let code = firm.credit_code.as_str();
    replace_ignore_ascii_case(&out, code, MASKED_LABEL)
}

fn replace_ignore_ascii_case(hay: &str, needle: &str, with: &str) -> String {
    let lower = hay.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(hay.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(&needle) {
        if i < last {
            continue;
        }
        out.push_str(&hay[last..i]);
        out.push_str(with);
        last = i + needle.len();
    }
    out.push_str(&hay[last..]);
    out
}

/// The credit code as a masked viewer may see it (the division only), for tables that keep a
/// column: `91110102**********`. On an anonymous request prefer no column at all.
pub fn masked_code(code: &CreditCode) -> String {
    mask_credit_code(code.as_str())
}

/// Whether dispatching anonymous `link` to `unit` would let the unit learn the firm through its
/// steward: the steward (who sees the firm) is a handler of that very unit. The dispatcher is
/// warned and should route elsewhere or ask the firm; a non-anonymous request never conflicts.
pub fn steward_in_unit(link: &FirmLink, steward_unit: Option<&str>, unit: &str) -> bool {
    link.anonymous && steward_unit == Some(unit)
}
