//! Citizens' tracking codes.

use jiff::Timestamp;

/// Unguessable tracking code for the citizen: `XC` + local date (Asia/Shanghai) + 6 base-32
/// characters drawn from `random` (the store passes OS randomness; the unique index catches a
/// collision).
pub fn tracking_code(received: Timestamp, random: [u8; 6]) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
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

#[cfg(test)]
mod tests {
    #[test]
    fn shape() {
        let t: jiff::Timestamp = "2026-11-02T23:30:00Z".parse().unwrap();
        let c = super::tracking_code(t, [0, 1, 2, 3, 4, 30]);
        assert_eq!(c, "XC26110323456Z");
    }
}
