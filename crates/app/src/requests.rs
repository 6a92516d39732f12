//! Lists of requests: one filter language for the API list, the export and the web pages,
//! always scoped to what the actor may see.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::{Channel, Role, Status};
use jiesu_store::{Cursor, ListFilter, Page, User};
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One status or several, comma-separated; `open` means every non-finished status.
    pub status: Option<String>,
    pub unit: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    /// A category (a parent includes its sub-categories).
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    pub channel: Option<String>,
    pub overdue: Option<bool>,
    /// `warning`: past the warning point (80% of the time used), not yet overdue.
    pub sla: Option<String>,
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// Text contains.
    pub q: Option<String>,
    /// The caller's phone, matched exactly however written (through the blind index: phones
    /// are sealed at rest). Only roles that see callers' identities; each search is audited.
    pub phone: Option<String>,
    /// A tracking code (受理编号), exactly; `q` holding one means the same.
    pub code: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Longest text search (`q`) accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

fn parse_time(field: &str, v: &Option<String>) -> AppResult<Option<Timestamp>> {
    v.as_deref()
        .map(|s| {
            s.parse::<Timestamp>().map_err(|_| {
                AppError::bad_query(
                    field,
                    "expected an RFC 3339 instant such as 2026-10-01T00:00:00+08:00",
                )
            })
        })
        .transpose()
}

/// The store filter for a list query, scoped to what `user` may see: a handler only its
/// unit's requests. Shared by the list, the export and the web pages.
pub async fn build_filter(app: &App, user: &User, q: &ListQuery) -> AppResult<ListFilter> {
    require(user, Capability::ReadRequests)?;
    let mut f = parse_filter(app, q, user.role.sees_caller_identity()).await?;
    if let Some(phone) = &f.phone {
        if !user.role.sees_caller_identity() {
            return Err(AppError::forbidden(
                "only roles that see callers' identities may search by phone",
            )
            .with_field("phone"));
        }
        // Who looked up which number, without the number: its blind index names it.
        let index = app.store.pii().phone_index(phone).unwrap_or_default();
        crate::accounts::audit(app, user, "search_by_phone", "phone", index, None).await?;
    }
    if user.role == Role::Handler {
        // A handler sees only its unit's requests; without a unit, nothing.
        f.scope_unit = Some(user.unit_code.clone().unwrap_or_default());
    }
    Ok(f)
}

/// The filter for the console (`jiesu export`): whoever runs the binary holds the database
/// itself, so no unit scope applies; identities are still masked in every row.
pub async fn console_filter(app: &App, q: &ListQuery) -> AppResult<ListFilter> {
    parse_filter(app, q, false).await
}

/// `phone_in_q`: a `q` that reads as a phone number searches callers' phones (for roles that
/// see callers; others search it as text).
async fn parse_filter(app: &App, q: &ListQuery, phone_in_q: bool) -> AppResult<ListFilter> {
    let bad = |field: &str, msg: String| AppError::bad_query(field, msg);
    let mut f = ListFilter {
        limit: q.limit.unwrap_or(50),
        ..Default::default()
    };
    if q.limit.is_some_and(|l| l == 0 || l > 500) {
        return Err(bad("limit", "between 1 and 500".into()));
    }
    if let Some(s) = &q.status {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "open" {
                f.statuses.extend_from_slice(jiesu_store::OPEN_STATUSES);
            } else {
                let st: Status = part.parse().map_err(|_| {
                    bad(
                        "status",
                        format!("unknown status `{part}`; use open or {}", status_codes()),
                    )
                })?;
                f.statuses.push(st);
            }
        }
    }
    if let Some(c) = &q.category {
        if app.dir.category(c).is_none() {
            return Err(bad("category", format!("unknown category `{c}`")));
        }
        f.categories = leaves_under(app, c);
    }
    if let Some(t) = &q.request_type {
        let t: jiesu_domain::RequestType = t
            .parse()
            .map_err(|_| bad("type", format!("unknown type `{t}`")))?;
        f.request_type = Some(t.as_str().to_string());
    }
    if let Some(c) = &q.channel {
        let c: Channel = c
            .parse()
            .map_err(|_| bad("channel", format!("unknown channel `{c}`")))?;
        f.channel = Some(c.as_str().to_string());
    }
    f.unit = q.unit.clone();
    f.street = q.street.clone();
    f.community = q.community.clone();
    f.overdue = q.overdue;
    match q.sla.as_deref() {
        None => {}
        Some("warning") => f.warning_at = Some(app.now()),
        Some("overdue") => f.overdue = Some(true),
        Some(other) => {
            return Err(bad(
                "sla",
                format!("unknown value `{other}`; use warning or overdue"),
            ));
        }
    }
    f.received_from = parse_time("received_from", &q.received_from)?;
    f.received_to = parse_time("received_to", &q.received_to)?;
    if let Some(t) = &q.q
        && t.chars().count() > MAX_QUERY_CHARS
    {
        // An unbounded pattern costs the database (SQLite refuses LIKE patterns over 50,000
        // bytes outright); nobody searches for more than a sentence.
        return Err(bad("q", format!("at most {MAX_QUERY_CHARS} characters")));
    }
    f.text = q.q.clone().filter(|s| !s.trim().is_empty());
    if let Some(c) = &q.code {
        f.code = Some(jiesu_domain::tracking::as_tracking_code(c).ok_or_else(|| {
            bad(
                "code",
                "a 受理编号: XC, six digits and six letters or digits".into(),
            )
        })?);
    }
    // One search box takes a 受理编号, a caller's phone or words.
    if let Some(t) = f.text.clone() {
        if let Some(code) = jiesu_domain::tracking::as_tracking_code(&t) {
            f.code = Some(code);
            f.text = None;
        } else if phone_in_q && q.phone.is_none() && jiesu_domain::tracking::looks_like_phone(&t) {
            f.phone = Some(t.trim().to_string());
            f.text = None;
        }
    }
    if let Some(p) = &q.phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let shape = p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'));
        if !shape || !(3..=20).contains(&digits) || p.chars().count() > 32 {
            return Err(bad(
                "phone",
                "a phone number: 3 to 20 digits, with spaces, dashes, + or brackets".into(),
            ));
        }
        f.phone = Some(p.clone());
    }
    if let (Some(index), Some(text)) = (&app.search, &f.text)
        && let Some(ids) = crate::search::candidates(index, text).await
    {
        // The index found words; scope and the other filters still apply in SQL.
        f.ids = Some(ids);
        f.text = None;
    }
    if let Some(c) = &q.cursor {
        f.cursor = Some(Cursor::decode(c).ok_or_else(|| bad("cursor", "malformed cursor".into()))?);
    }
    Ok(f)
}

fn leaves_under(app: &App, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![code.to_string()];
    while let Some(c) = stack.pop() {
        if app.dir.is_leaf_category(&c) {
            out.push(c.clone());
        }
        for child in app
            .dir
            .world
            .categories
            .iter()
            .filter(|x| x.parent.as_deref() == Some(c.as_str()))
        {
            stack.push(child.code.clone());
        }
    }
    out
}

/// One page of requests matching `q`, as `user` may see them.
pub async fn list(app: &App, user: &User, q: &ListQuery) -> AppResult<Page> {
    let f = build_filter(app, user, q).await?;
    Ok(app.store.list(&f).await?)
}

/// One page for a filter already built (the export pages through one).
pub async fn page(app: &App, f: &ListFilter) -> AppResult<Page> {
    Ok(app.store.list(f).await?)
}

/// How many requests match a filter already built (its cursor, offset and limit aside): the
/// "共 N 件" of a desk.
pub async fn count(app: &App, f: &ListFilter) -> AppResult<i64> {
    Ok(app.store.count(f).await?)
}

/// Statuses by their API codes, for error messages.
pub fn status_codes() -> String {
    Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
