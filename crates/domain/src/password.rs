//! 身份鉴别: whether a password may be set, by the deployment's policy
//! (`jiesu_world::PasswordPolicy`, `[passwords]` in district.toml). Pure; the hashing is the
//! app's.

use crate::error::DomainError;
use jiesu_world::PasswordPolicy;

/// Well-known passwords (the top of public leak lists, and the keyboard walks and pinyin ones
/// seen in Chinese leaks) that pass a length and class rule and so need naming. Compared
/// ignoring case.
const WELL_KNOWN: &[&str] = &[
    "password123",
    "password1234",
    "password12345",
    "password@123",
    "passw0rd123",
    "p@ssw0rd123",
    "p@ssword123",
    "qwerty123456",
    "qwertyuiop1",
    "qwer1234!@#$",
    "1qaz2wsx3edc",
    "1qaz@wsx3edc",
    "1q2w3e4r5t6y",
    "zaq12wsx!@",
    "abc123456789",
    "abcd1234!@#$",
    "admin123456",
    "admin@12345",
    "administrator1",
    "welcome12345",
    "iloveyou1234",
    "woaini1314!",
    "woaini123456",
    "aa123456789",
    "a1234567890",
    "a123456789!",
    "zxcvbnm12345",
    "asdfghjkl123",
    "changeme123",
    "letmein12345",
    "Abc@12345678",
    "Aa123456789",
    "Aa@123456789",
    "Qq123456789",
    "P@ssw0rd1234",
    "Admin@123456",
    "Root@123456",
    "Test@123456",
    "Beijing@2026",
    "Beijing2026!",
    "China@123456",
];

/// Refuses, naming the field `password`, a password the policy does not allow for `username`.
pub fn check(policy: &PasswordPolicy, username: &str, password: &str) -> Result<(), DomainError> {
    let weak = |msg: String| Err(DomainError::invalid("password", "weak_password", msg));
    let n = password.chars().count();
    if n < policy.min_length as usize {
        return weak(format!("at least {} characters", policy.min_length));
    }
    if n > 1024 {
        return Err(DomainError::invalid(
            "password",
            "too_long",
            "at most 1024 characters",
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password
            .chars()
            .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if classes < policy.min_classes as usize {
        return weak(format!(
            "use at least {} of: lower case, upper case, digits, other characters",
            policy.min_classes
        ));
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if policy.forbid_username && !user.is_empty() && lower.contains(&user) {
        return weak("must not contain the username".into());
    }
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return weak("too few different characters".into());
    }
    if WELL_KNOWN
        .iter()
        .map(|w| w.to_lowercase())
        .chain(policy.weak.iter().map(|w| w.to_lowercase()))
        .any(|w| w == lower)
    {
        return weak("a well-known password; choose another".into());
    }
    Ok(())
}

/// Whether a password set at `changed_at` has outlived the policy's `max_age_days`.
pub fn expired(policy: &PasswordPolicy, changed_at: jiff::Timestamp, now: jiff::Timestamp) -> bool {
    policy.max_age_days > 0
        && now.duration_since(changed_at)
            >= jiff::SignedDuration::from_hours(24 * i64::from(policy.max_age_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), DomainError>) -> Option<String> {
        r.err().map(|e| match e {
            DomainError::Invalid { code, field, .. } => format!("{field}:{code}"),
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn the_issue_s_examples_are_refused() {
        let p = PasswordPolicy::default();
        // Ten of one letter, the username itself, a common one.
        assert!(check(&p, "admin", "aaaaaaaaaa").is_err());
        assert!(check(&p, "wang.li.2026", "wang.li.2026").is_err());
        assert!(
            check(&p, "admin", "Admin@2026xyz").is_err(),
            "contains the username"
        );
        assert!(check(&p, "wang", "P@ssw0rd1234").is_err(), "well-known");
        assert!(
            check(&p, "wang", "p@SSW0RD1234").is_err(),
            "well-known, any case"
        );
        assert_eq!(
            code(check(&p, "wang", "short1A")),
            Some("password:weak_password".into())
        );
    }

    #[test]
    fn a_good_password_passes_and_classes_count() {
        let p = PasswordPolicy::default();
        assert!(check(&p, "wang", "Correct-horse-battery").is_ok());
        assert!(
            check(&p, "wang", "correct-horse-battery9").is_ok(),
            "lower, digit, other"
        );
        assert!(
            check(&p, "wang", "correcthorsebattery").is_err(),
            "one kind only"
        );
        assert!(
            check(&p, "wang", "西城区接诉即办Ab1").is_ok(),
            "CJK counts as other"
        );
        let lax = PasswordPolicy {
            min_classes: 1,
            forbid_username: false,
            ..PasswordPolicy::default()
        };
        assert!(check(&lax, "wang", "correcthorsebattery").is_ok());
        assert!(check(&lax, "wang", "wangwangwang1").is_ok());
    }

    #[test]
    fn the_deployment_s_own_weak_list_applies() {
        let p = PasswordPolicy {
            weak: vec!["Xicheng12345".into()],
            ..PasswordPolicy::default()
        };
        assert!(check(&p, "wang", "xicheng12345").is_err());
        assert!(check(&PasswordPolicy::default(), "wang", "Xicheng12345").is_ok());
    }

    #[test]
    fn expiry_is_off_by_default() {
        let t0: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let later: jiff::Timestamp = "2027-06-01T00:00:00Z".parse().unwrap();
        assert!(!expired(&PasswordPolicy::default(), t0, later));
        let p = PasswordPolicy {
            max_age_days: 90,
            ..PasswordPolicy::default()
        };
        assert!(expired(&p, t0, later));
        assert!(!expired(&p, t0, "2026-03-01T00:00:00Z".parse().unwrap()));
    }
}
