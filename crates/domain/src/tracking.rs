//! Citizens' tracking codes.

use jiff::Timestamp;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Unguessable tracking code for the citizen: `XC` + local date (Asia/Shanghai) + 6 base-32
/// characters drawn from `random` (the store passes OS randomness; the unique index catches a
/// collision).
pub fn tracking_code(received: Timestamp, random: [u8; 6]) -> String {
    let date = received
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)))
        .date();
    let mut s = format!(
        "XC{:02}{:02}{:02}",
        date.year() % 100,
        date.month(),
        date.day()
    );
    for b in random {
        s.push(ALPHABET[(b as usize) % ALPHABET.len()] as char);
    }
    s
}

/// `s` as a tracking code if it has the shape of one (`XC`, six digits, six code characters),
/// whatever its case and surrounding spaces: what a 受理编号 typed into a search box becomes.
pub fn as_tracking_code(s: &str) -> Option<String> {
    let c = s.trim().to_ascii_uppercase();
    let b = c.as_bytes();
    let ok = b.len() == 14
        && b.starts_with(b"XC")
        && b[2..8].iter().all(u8::is_ascii_digit)
        && b[8..].iter().all(|x| ALPHABET.contains(x));
    ok.then_some(c)
}

/// Whether `s` reads as a phone number rather than words: 7 to 15 digits, with nothing but
/// spaces, dashes, dots, brackets or a leading + between them.
pub fn looks_like_phone(s: &str) -> bool {
    let s = s.trim();
    // A date (2026-11-03) is not a number to call.
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        return false;
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_and_phones_are_recognised() {
        use super::{as_tracking_code, looks_like_phone};
        assert_eq!(
            as_tracking_code(" xc26110323456z ").as_deref(),
            Some("XC26110323456Z")
        );
        for not in [
            "XC2611032345",
            "XC26110323456Z1",
            "XD26110323456Z",
            "XC2611032345IO",
            "暖气",
        ] {
            assert_eq!(as_tracking_code(not), None, "{not}");
        }
        for p in [
            "13812345678",
            "138 1234 5678",
            "+86-138-1234-5678",
            "(010) 6612-3456",
            "6612345",
        ] {
            assert!(looks_like_phone(p), "{p}");
        }
        for not in [
            "123456",
            "暖气 13812345678",
            "2026-11-03 供暖",
            "2026-11-03",
            "1234567890123456",
        ] {
            assert!(!looks_like_phone(not), "{not}");
        }
    }

    #[test]
    fn shape() {
        let t: jiff::Timestamp = "2026-11-02T23:30:00Z".parse().unwrap();
        let c = super::tracking_code(t, [0, 1, 2, 3, 4, 30]);
        assert_eq!(c, "XC26110323456Z");
    }
}
