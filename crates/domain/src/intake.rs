//! 受理: turning what a caller, a form or a device said into a valid [`Intake`].

use crate::commands::{optional_text, required_text_up_to};
use crate::directory::Directory;
use crate::error::DomainError;
use crate::lifecycle::{Caller, Intake};
use crate::model::*;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Longest request text we accept (a long letter is ~3,000 characters).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Clock skew tolerated between a client's `received_at` and ours.
pub const FUTURE_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// A new request as a caller or client submits it, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeInput {
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
}

/// The rules one field at a time, for a door that checks a draft (the suggestion dry run)
/// with the same limits and messages as [`validate`].
///
/// The request's text: required, trimmed, at most [`MAX_TEXT_CHARS`], no control characters.
pub fn check_text(text: &str) -> Result<String, DomainError> {
    // Notes stop at MAX_NOTE_CHARS; a caller's letter may run to MAX_TEXT_CHARS.
    required_text_up_to("text", text, MAX_TEXT_CHARS)
}

/// A category of the world; with `leaf`, one without sub-categories (what a request is
/// filed under; a draft may name a parent).
pub fn check_category(dir: &Directory, c: &str, leaf: bool) -> Result<(), DomainError> {
    if dir.category(c).is_none() {
        return Err(DomainError::invalid(
            "category",
            "unknown_category",
            format!("unknown category `{c}`"),
        ));
    }
    if leaf && !dir.is_leaf_category(c) {
        return Err(DomainError::invalid(
            "category",
            "not_a_leaf",
            format!("`{c}` has sub-categories; choose one of them"),
        ));
    }
    Ok(())
}

pub fn check_street(dir: &Directory, s: &str) -> Result<(), DomainError> {
    match dir.street(s) {
        Some(_) => Ok(()),
        None => Err(DomainError::invalid(
            "street",
            "unknown_street",
            format!("unknown street `{s}`"),
        )),
    }
}

pub fn check_community<'d>(
    dir: &'d Directory,
    c: &str,
) -> Result<&'d jiesu_world::Community, DomainError> {
    dir.community(c).ok_or_else(|| {
        DomainError::invalid(
            "community",
            "unknown_community",
            format!("unknown community `{c}`"),
        )
    })
}

/// A request type's code.
pub fn check_request_type(v: &str) -> Result<RequestType, DomainError> {
    parse_code("request_type", v)
}

fn parse_code<T: std::str::FromStr>(field: &str, v: &str) -> Result<T, DomainError> {
    v.trim()
        .parse()
        .map_err(|_| DomainError::invalid(field, "unknown_value", format!("unknown value `{v}`")))
}

/// Validates a submission. `default_channel` is the channel of the door it came through.
pub fn validate(
    input: &IntakeInput,
    default_channel: Channel,
    dir: &Directory,
    now: Timestamp,
) -> Result<Intake, DomainError> {
    let request_type: RequestType = parse_code("request_type", &input.request_type)?;
    let channel = match input.channel.as_deref() {
        None | Some("") => default_channel,
        Some(c) => parse_code("channel", c)?,
    };
    let text = check_text(&input.text)?;
    let category = match optional_text("category", &input.category)? {
        None => None,
        Some(c) => {
            check_category(dir, &c, true)?;
            Some(c)
        }
    };
    let mut street = optional_text("street", &input.street)?;
    if let Some(s) = &street {
        check_street(dir, s)?;
    }
    let community = optional_text("community", &input.community)?;
    if let Some(c) = &community {
        let comm = check_community(dir, c)?;
        match &street {
            Some(s) if s != &comm.street_code => {
                return Err(DomainError::invalid(
                    "community",
                    "wrong_street",
                    format!("community `{c}` is not in street `{s}`"),
                ));
            }
            Some(_) => {}
            None => street = Some(comm.street_code.clone()),
        }
    }
    let address = optional_text("address", &input.address)?;
    let title = optional_text("title", &input.title)?;
    if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(DomainError::invalid(
            "title",
            "too_long",
            "at most 200 characters",
        ));
    }
    let name = optional_text("caller_name", &input.caller_name)?;
    if name.as_ref().is_some_and(|n| n.chars().count() > 50) {
        return Err(DomainError::invalid(
            "caller_name",
            "too_long",
            "at most 50 characters",
        ));
    }
    let phone = match optional_text("caller_phone", &input.caller_phone)? {
        None => None,
        Some(p) => Some(normalize_phone(&p).ok_or_else(|| {
            DomainError::invalid(
                "caller_phone",
                "invalid_phone",
                "not a mainland mobile (11 digits from 13–19) or a landline number",
            )
        })?),
    };
    let received_at = input.received_at.unwrap_or(now);
    if received_at > crate::calendar::add(now, FUTURE_SKEW) {
        return Err(DomainError::invalid(
            "received_at",
            "in_future",
            "must not be in the future",
        ));
    }
    Ok(Intake {
        request_type,
        channel,
        category,
        street,
        community,
        address,
        title,
        text,
        caller: Caller { name, phone },
        urgent: input.urgent,
        received_at,
    })
}

/// A phone number in canonical digits: an 11-digit mobile (1[3-9]…), or a landline of 7–8
/// digits with an optional 3–4 digit area code starting 0 (separators allowed), or a 400/800
/// service number. `+86`/`0086` prefixes are dropped.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_string();
    for p in ["+86", "0086"] {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.to_string();
        }
    }
    if s.chars()
        .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' ' || c == '(' || c == ')'))
    {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let b = digits.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = (b.len() == 7 || b.len() == 8)
        || (b.len() >= 10 && b.len() <= 12 && b[0] == b'0' && b[1] != b'0');
    let service = b.len() == 10 && (digits.starts_with("400") || digits.starts_with("800"));
    (mobile || landline || service).then_some(digits)
}

/// `13812345678` → `138****5678`; short numbers keep only their last 2 digits.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let keep = chars.len().saturating_sub(2);
        let tail: String = chars[keep..].iter().collect();
        format!("{}{tail}", "*".repeat(keep))
    }
}

/// `张三` → `张*`, `欧阳娜娜` → `欧***`.
pub fn mask_name(n: &str) -> String {
    let mut chars = n.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's text may run to MAX_TEXT_CHARS (a long letter), past the note limit that
    /// once cut it at 5,000; one more is refused, naming the field.
    #[test]
    fn text_limit_is_the_text_limit() {
        const { assert!(MAX_TEXT_CHARS > crate::commands::MAX_NOTE_CHARS) };
        let ok = "字".repeat(MAX_TEXT_CHARS);
        assert_eq!(check_text(&ok).unwrap().chars().count(), MAX_TEXT_CHARS);
        let long = "字".repeat(MAX_TEXT_CHARS + 1);
        let e = check_text(&long).unwrap_err();
        assert!(
            matches!(&e, DomainError::Invalid { field, code, .. } if field == "text" && *code == "too_long"),
            "{e:?}"
        );
        assert!(check_text("  \n ").is_err());
        assert!(check_text("有\u{7}控制符").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("138 1234 5678").as_deref(),
            Some("13812345678")
        );
        assert_eq!(
            normalize_phone("+8613812345678").as_deref(),
            Some("13812345678")
        );
        assert_eq!(
            normalize_phone("010-66001234").as_deref(),
            Some("01066001234")
        );
        assert_eq!(normalize_phone("12812345678"), None);
        assert_eq!(normalize_phone("abc"), None);
        assert_eq!(normalize_phone("1381234567x"), None);
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三"), "张*");
    }
}
