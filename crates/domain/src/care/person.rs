//! The elder registry's rules: the 居民身份证号码 (GB 11643) with its check character, the birth
//! date and age, and what a registration must hold. Pure: the store seals the identities, the app
//! checks the community against the directory.

use crate::error::DomainError;
use jiff::civil::Date;

/// GB 11643-1999 weights of the 17 body digits (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for a weighted sum mod 11.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// A valid 18-character ID number, upper-cased, and the birth date it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    pub value: String,
    pub birth_date: Date,
}

/// Checks an 18-character 居民身份证号码: 17 digits, the check character of GB 11643 (a final
/// `x` is accepted as `X`), and a real birth date in positions 7–14.
pub fn parse_id_number(field: &str, raw: &str) -> Result<IdNumber, DomainError> {
    let v: String = raw.trim().to_uppercase();
    let chars: Vec<char> = v.chars().collect();
    if chars.len() != 18 {
        return Err(DomainError::invalid(
            field,
            "bad_id_length",
            format!("must be 18 characters, got {}", chars.len()),
        ));
    }
    if !chars[..17].iter().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::invalid(
            field,
            "bad_id_digits",
            "the first 17 characters must be digits",
        ));
    }
    let want = check_character(&v[..17]);
    if chars[17] != want {
        return Err(DomainError::invalid(
            field,
            "bad_id_check",
            format!("check character is {}, expected {want}", chars[17]),
        ));
    }
    let num = |a: usize, b: usize| -> i32 { v[a..b].parse().unwrap_or(0) };
    let birth_date =
        Date::new(num(6, 10) as i16, num(10, 12) as i8, num(12, 14) as i8).map_err(|_| {
            DomainError::invalid(
                field,
                "bad_id_birth_date",
                "positions 7–14 are not a real date",
            )
        })?;
    Ok(IdNumber {
        value: v,
        birth_date,
    })
}

/// The GB 11643 check character of a 17-digit body (non-digits count as 0).
fn check_character(body: &str) -> char {
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// A 17-digit body with its check character appended: how synthetic ID numbers (the demo's,
/// the tests') are made.
pub fn with_check_character(body: &str) -> String {
    format!("{body}{}", check_character(body))
}

/// Full years between `birth` and `on`.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = i32::from(on.year()) - i32::from(birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A family contact (sealed by the store: name and phone are personal information).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FamilyContact {
    pub name: String,
    pub relation: String,
    pub phone: String,
}

/// Consent to processing, with its date and scope (个人信息保护法 Art.29: health data is
/// sensitive and needs separate consent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Consent {
    pub date: Date,
    /// e.g. "基本信息", "健康信息", "服务记录", "设备数据".
    pub scope: Vec<String>,
}

/// What registering (or editing) an elder takes, as typed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ElderInput {
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub birth_date: Date,
    pub street: String,
    pub community: String,
    pub address: String,
    #[serde(default)]
    pub living_alone: bool,
    /// 基本养老服务对象: entitled to the meal subsidy and other basic services.
    #[serde(default)]
    pub basic_service_object: bool,
    /// Other subsidy eligibilities (e.g. "低保", "特困", "失独", "重度残疾").
    #[serde(default)]
    pub subsidies: Vec<String>,
    #[serde(default)]
    pub family: Vec<FamilyContact>,
    /// The care manager's username.
    pub care_manager: Option<String>,
    /// Medical notes for responders (allergies, conditions); sealed.
    #[serde(default)]
    pub medical_notes: String,
    pub consent: Option<Consent>,
}

/// The least age of the registry (老年人: 60 and over, 老年人权益保障法 Art.2).
pub const ELDER_MIN_AGE: i32 = 60;

fn non_empty(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    let n = v.trim().chars().count();
    if n == 0 {
        return Err(DomainError::invalid(field, "empty", "must not be empty"));
    }
    if n > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// Validates a registration on `today`; returns the phone normalised. The community's existence
/// and street are checked by the caller against the directory.
pub fn validate_elder(e: &ElderInput, today: Date) -> Result<Option<String>, DomainError> {
    non_empty("name", &e.name, 50)?;
    let id = parse_id_number("id_number", &e.id_number)?;
    if e.birth_date > today {
        return Err(DomainError::invalid(
            "birth_date",
            "birth_date_in_future",
            "must not be in the future",
        ));
    }
    if id.birth_date != e.birth_date {
        return Err(DomainError::invalid(
            "birth_date",
            "birth_date_mismatch",
            format!("the ID number says {}", id.birth_date),
        ));
    }
    if age_on(e.birth_date, today) < ELDER_MIN_AGE {
        return Err(DomainError::invalid(
            "birth_date",
            "too_young",
            format!("the registry is for people aged {ELDER_MIN_AGE} and over"),
        ));
    }
    non_empty("address", &e.address, 200)?;
    let phone = match e.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(crate::intake::normalize_phone(p).ok_or_else(|| {
            DomainError::invalid("phone", "bad_phone", "not a Chinese phone number")
        })?),
    };
    if e.family.len() > 10 {
        return Err(DomainError::invalid(
            "family",
            "too_many",
            "at most 10 contacts",
        ));
    }
    for (i, f) in e.family.iter().enumerate() {
        non_empty(&format!("family[{i}].name"), &f.name, 50)?;
        non_empty(&format!("family[{i}].relation"), &f.relation, 20)?;
        if crate::intake::normalize_phone(&f.phone).is_none() {
            return Err(DomainError::invalid(
                &format!("family[{i}].phone"),
                "bad_phone",
                "not a Chinese phone number",
            ));
        }
    }
    if e.subsidies.len() > 20 || e.subsidies.iter().any(|s| s.trim().is_empty()) {
        return Err(DomainError::invalid(
            "subsidies",
            "bad_list",
            "at most 20 non-empty names",
        ));
    }
    if e.medical_notes.chars().count() > 2000 {
        return Err(DomainError::invalid(
            "medical_notes",
            "too_long",
            "at most 2000 characters",
        ));
    }
    if let Some(c) = &e.consent {
        if c.date > today {
            return Err(DomainError::invalid(
                "consent.date",
                "date_in_future",
                "must not be in the future",
            ));
        }
        if c.scope.is_empty() || c.scope.iter().any(|s| s.trim().is_empty()) {
            return Err(DomainError::invalid(
                "consent.scope",
                "empty",
                "name at least one scope",
            ));
        }
    }
    Ok(phone)
}

/// Masks an ID number for roles that do not need it: `110102********1234`.
pub fn mask_id_number(v: &str) -> String {
    let c: Vec<char> = v.chars().collect();
    if c.len() < 10 {
        return "*".repeat(c.len());
    }
    let head: String = c[..6].iter().collect();
    let tail: String = c[c.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(c.len() - 10))
}

/// Masks a name: the surname kept (`王**`).
pub fn mask_name(v: &str) -> String {
    let mut c = v.chars();
    match c.next() {
        None => String::new(),
        Some(first) => format!("{first}{}", "*".repeat(c.count().max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters() {
        // The standard's worked example: 11010519491231002X.
        let id = parse_id_number("id", "11010519491231002x").unwrap();
        assert_eq!(id.value, "11010519491231002X");
        assert_eq!(id.birth_date, jiff::civil::date(1949, 12, 31));
        let e = parse_id_number("id", "110105194912310021").unwrap_err();
        assert_eq!(e.code(), "bad_id_check");
        assert!(e.to_string().starts_with("id:"), "{e}");
        assert_eq!(
            parse_id_number("id", "1101051949").unwrap_err().code(),
            "bad_id_length"
        );
        assert_eq!(
            parse_id_number("id", &with_check_character("11010219501330123"))
                .unwrap_err()
                .code(),
            "bad_id_birth_date"
        );
    }

    #[test]
    fn age_and_masks() {
        let b = jiff::civil::date(1946, 5, 20);
        assert_eq!(age_on(b, jiff::civil::date(2026, 5, 19)), 79);
        assert_eq!(age_on(b, jiff::civil::date(2026, 5, 20)), 80);
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_name("王淑兰"), "王**");
    }

    fn elder() -> ElderInput {
        ElderInput {
            name: "王淑兰".into(),
            id_number: "11010519491231002X".into(),
            phone: Some("13800138000".into()),
            birth_date: jiff::civil::date(1949, 12, 31),
            street: "110102001".into(),
            community: "110102001001".into(),
            address: "西长安街1号".into(),
            living_alone: true,
            basic_service_object: true,
            subsidies: vec![],
            family: vec![],
            care_manager: None,
            medical_notes: String::new(),
            consent: None,
        }
    }

    #[test]
    fn registration_rules() {
        let today = jiff::civil::date(2026, 12, 4);
        assert!(validate_elder(&elder(), today).is_ok());
        let mut e = elder();
        e.birth_date = jiff::civil::date(2027, 1, 1);
        assert_eq!(
            validate_elder(&e, today).unwrap_err().code(),
            "birth_date_in_future"
        );
        let mut e = elder();
        e.birth_date = jiff::civil::date(1950, 1, 1);
        assert_eq!(
            validate_elder(&e, today).unwrap_err().code(),
            "birth_date_mismatch"
        );
        let mut e = elder();
        e.id_number = with_check_character("11010219900101123");
        e.birth_date = jiff::civil::date(1990, 1, 1);
        assert_eq!(validate_elder(&e, today).unwrap_err().code(), "too_young");
        let mut e = elder();
        e.phone = Some("12".into());
        let err = validate_elder(&e, today).unwrap_err();
        assert!(err.to_string().starts_with("phone:"), "{err}");
    }
}
