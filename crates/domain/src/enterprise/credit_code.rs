//! 统一社会信用代码 (GB 32100-2015): the enterprise's identity.
//!
//! 18 characters from a 31-character alphabet (the digits and the capitals without I, O, S, V,
//! Z): position 1 the registration authority (9 = 市场监管/工商, 1 = 机构编制, 5 = 民政, …),
//! 2 the organisation type under that authority (1 = 企业, 2 = 个体工商户, …), 3–8 the
//! registering authority's administrative division (GB/T 2260, digits), 9–17 the 主体标识码
//! (the organisation code of GB 11714, itself ending in a GB 11714 check character), and 18 the
//! check character: the weighted sum of the first 17 values, weights 3^(i-1) mod 31, gives
//! `31 - sum mod 31` (31 written as 0).
//!
//! What [`parse_credit_code`] enforces: length, alphabet, digits in 3–8 and the 18th check
//! character. The GB 11714 check of positions 9–17 is reported by
//! [`CreditCode::organisation_code_checks`] but not enforced: the 18th character already catches
//! every single-character typo, and registries hold real codes issued before the rules settled
//! (the 18th check is where a mistyped code is refused, with the field named).

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// The code's alphabet in value order: a character's value is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^(i-1) mod 31.
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// GB 11714 weights of the 8 body characters of an organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// The field errors name unless the caller gives another.
pub const FIELD: &str = "credit_code";

/// A valid 统一社会信用代码, upper-case, without spaces. Serialises as its 18-character string;
/// deserialising validates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// 登记管理部门代码 (position 1).
    pub fn registration_authority(&self) -> char {
        self.char_at(0)
    }
    /// 机构类别代码 (position 2).
    pub fn organisation_type(&self) -> char {
        self.char_at(1)
    }
    /// 登记管理机关行政区划码 (positions 3–8), e.g. `110102` for 西城区.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
    /// 主体标识码 (positions 9–17), the GB 11714 organisation code with its own check character.
    pub fn organisation_code(&self) -> &str {
        &self.0[8..17]
    }
    /// Whether positions 9–17 carry a correct GB 11714 check character (informational).
    pub fn organisation_code_checks(&self) -> bool {
        organisation_check_character(&self.0[8..16]) == Some(self.char_at(16))
    }
    /// Whether the code was issued by the 市场监管 (工商) registry, i.e. is a business.
    pub fn is_market_registered(&self) -> bool {
        self.registration_authority() == '9'
    }
    fn char_at(&self, i: usize) -> char {
        self.0.as_bytes()[i] as char
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CreditCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        parse_credit_code(s)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        parse_credit_code(&s).map_err(<D::Error as serde::de::Error>::custom)
    }
}

/// The value of a character in the alphabet, `None` outside it.
fn value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// Upper-cases, turns full-width letters and digits (typed with a Chinese IME) into ASCII and
/// drops every kind of whitespace, so `９１１１ 0108…` and `911101…` are the same code.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// Parses a 统一社会信用代码 for the field `credit_code`.
pub fn parse_credit_code(raw: &str) -> Result<CreditCode, DomainError> {
    parse_credit_code_at(FIELD, raw)
}

/// Parses a 统一社会信用代码, naming `field` in errors (e.g. `items[3].credit_code`).
///
/// Codes: `empty`; `bad_credit_code_length` (not 18 characters); `bad_credit_code_char` (a
/// character outside the alphabet, or a non-digit in the division code 3–8);
/// `bad_credit_code_check` (the 18th character is not the check character of the first 17).
pub fn parse_credit_code_at(field: &str, raw: &str) -> Result<CreditCode, DomainError> {
    let v = normalize(raw);
    let chars: Vec<char> = v.chars().collect();
    if chars.is_empty() {
        return Err(DomainError::invalid(field, "empty", "must not be empty"));
    }
    if chars.len() != 18 {
        return Err(DomainError::invalid(
            field,
            "bad_credit_code_length",
            format!("must be 18 characters, got {}", chars.len()),
        ));
    }
    if let Some((i, c)) = chars.iter().enumerate().find(|(_, c)| value(**c).is_none()) {
        return Err(DomainError::invalid(
            field,
            "bad_credit_code_char",
            format!(
                "character {} `{c}` is not allowed (digits and capitals except I, O, S, V, Z)",
                i + 1
            ),
        ));
    }
    if let Some(i) = (2..8).find(|&i| !chars[i].is_ascii_digit()) {
        return Err(DomainError::invalid(
            field,
            "bad_credit_code_char",
            format!(
                "character {} `{}` must be a digit (positions 3–8 are the division code)",
                i + 1,
                chars[i]
            ),
        ));
    }
    let want = check_character(&v[..17]).unwrap_or('?');
    if chars[17] != want {
        return Err(DomainError::invalid(
            field,
            "bad_credit_code_check",
            format!("check character is {}, expected {want}", chars[17]),
        ));
    }
    Ok(CreditCode(v))
}

/// The GB 32100 check character of the first 17 characters; `None` when `first17` is not 17
/// characters of the alphabet.
pub fn check_character(first17: &str) -> Option<char> {
    let chars: Vec<char> = first17.chars().collect();
    if chars.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in chars.into_iter().zip(WEIGHTS) {
        sum += value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(check as usize)
}

/// The first 17 characters with their check character appended: how synthetic codes (the
/// demo's, the tests') are made. `None` when `first17` is not 17 characters of the alphabet.
pub fn with_check_character(first17: &str) -> Option<String> {
    let first17 = normalize(first17);
    check_character(&first17).map(|c| format!("{first17}{c}"))
}

/// The GB 11714 check character of an organisation code's 8-character body (digits and
/// capitals, a letter worth 10 + its place): `11 - sum mod 11`, with 10 written `X` and 11 `0`.
pub fn organisation_check_character(body8: &str) -> Option<char> {
    let chars: Vec<char> = body8.chars().collect();
    if chars.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in chars.into_iter().zip(ORG_WEIGHTS) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    })
}

/// A full code from its parts, both check characters computed: `authority` and `org_type` one
/// character each, `division` six digits, `org_body` the organisation code's 8-character body.
/// For synthetic codes; `None` when a part does not fit the alphabet.
pub fn compose(authority: char, org_type: char, division: &str, org_body: &str) -> Option<String> {
    if division.len() != 6 || !division.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let org_check = organisation_check_character(org_body)?;
    let code = with_check_character(&format!(
        "{authority}{org_type}{division}{org_body}{org_check}"
    ))?;
    parse_credit_code(&code).ok().map(|c| c.0)
}

/// Masks a code for views that need no identity: the division kept, the rest starred
/// (`91110102**********`).
pub fn mask_credit_code(code: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    if c.len() < 8 {
        return "*".repeat(c.len());
    }
    let head: String = c[..8].iter().collect();
    format!("{head}{}", "*".repeat(c.len() - 8))
}
