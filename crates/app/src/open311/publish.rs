//! What the public Open311 read side shows of a request: the district's publication policy
//! (`[publication]` in district.toml, the `public` column of categories.csv) applied by pure
//! functions, so the door only renders and every rule is tested here without a server.

use jiesu_domain::intake::{mask_name, mask_phone};
use jiesu_domain::{RequestState, SpecialHandling};
use jiesu_world::{AddressPrecision, TextRule, World};

/// Opens the coordinates Open311 appends to the address it stores (the store has no geo
/// columns); read back as `lat`/`long`.
pub const COORDS_OPEN: &str = "（经纬度 ";
pub const COORDS_CLOSE: &str = "）";

/// What of one request may be published; names and dates come from the request itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub description: Option<String>,
}

/// Whether the policy publishes `st` at all: not closed as 涉密涉隐私, through a published
/// channel, in a public category (a request with no category yet is not published: nobody
/// decided what it is about).
pub fn is_published(st: &RequestState, world: &World) -> bool {
    st.special != Some(SpecialHandling::SecretsPrivacy)
        && world
            .district
            .publication
            .publishes_channel(st.intake.channel.as_str())
        && st
            .intake
            .category
            .as_deref()
            .is_some_and(|c| world.category_is_public(c))
}

/// The published face of `st`, or `None` when the policy keeps it private.
pub fn publish(st: &RequestState, world: &World) -> Option<Published> {
    if !is_published(st, world) {
        return None;
    }
    let policy = &world.district.publication;
    let caller = &st.intake.caller;
    let identity = |s: &str| scrub(s, caller.name.as_deref(), caller.phone.as_deref());
    let (address, lat, long) = split_coordinates(st.intake.address.as_deref());
    let named = |with_community: bool| {
        // A request filed through Open311 names no street; the gazetteer may know its road.
        let (street, community) = match st.intake.street.as_deref() {
            Some(s) => (Some(s), st.intake.community.as_deref()),
            None => place_of(world, st.intake.address.as_deref().unwrap_or_default()),
        };
        let street = street.and_then(|c| world.street(c))?;
        let community = community
            .and_then(|c| world.community(c))
            .filter(|c| with_community && c.street_code == street.code);
        Some(match community {
            Some(c) => format!("{}{}", street.name, c.name),
            None => street.name.clone(),
        })
    };
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let (address, lat, long) = match policy.address {
        AddressPrecision::Full => (address.map(|a| identity(&a)), lat, long),
        AddressPrecision::Building => (
            address
                .map(|a| identity(&cut_to_building(&a)))
                .filter(|a| !a.is_empty()),
            lat.map(round),
            long.map(round),
        ),
        AddressPrecision::Community => (named(true), None, None),
        AddressPrecision::Street => (named(false), None, None),
        AddressPrecision::None => (None, None, None),
    };
    let description = match policy.text {
        TextRule::Full => Some(identity(&st.intake.text)),
        TextRule::Redacted => Some(redact(&identity(&st.intake.text))),
        TextRule::None => None,
    };
    Some(Published {
        address,
        lat,
        long,
        description,
    })
}

/// The street (and community) of the longest gazetteer names in `address`, when they all
/// agree; a road crossing two streets gives nothing rather than a guess.
fn place_of<'w>(world: &'w World, address: &str) -> (Option<&'w str>, Option<&'w str>) {
    let found: Vec<&jiesu_world::Place> = world
        .places
        .iter()
        .filter(|p| address.contains(p.name.as_str()))
        .collect();
    let Some(longest) = found.iter().map(|p| p.name.chars().count()).max() else {
        return (None, None);
    };
    let best: Vec<_> = found
        .into_iter()
        .filter(|p| p.name.chars().count() == longest)
        .collect();
    let street = best[0].street_code.as_str();
    if best.iter().any(|p| p.street_code != street) {
        return (None, None);
    }
    let community = best[0].community_code.as_deref();
    let community =
        community.filter(|c| best.iter().all(|p| p.community_code.as_deref() == Some(*c)));
    (Some(street), community)
}

/// Splits `地址（经纬度 39.94,116.38）` into the address and the coordinates.
pub fn split_coordinates(address: Option<&str>) -> (Option<String>, Option<f64>, Option<f64>) {
    let Some(a) = address else {
        return (None, None, None);
    };
    let parsed = a.strip_suffix(COORDS_CLOSE).and_then(|rest| {
        let (head, coords) = rest.rsplit_once(COORDS_OPEN)?;
        let (lat, long) = coords.split_once(',')?;
        Some((
            head.trim(),
            lat.trim().parse().ok()?,
            long.trim().parse().ok()?,
        ))
    });
    match parsed {
        Some((head, lat, long)) => (
            (!head.is_empty()).then(|| head.to_string()),
            Some(lat),
            Some(long),
        ),
        None => (Some(a.to_string()), None, None),
    }
}

/// Masks the caller's own identity wherever the text repeats it: their name, their number,
/// and any mainland mobile number. The floor under every text rule, `full` included.
pub fn scrub(text: &str, name: Option<&str>, phone: Option<&str>) -> String {
    let mut s = text.to_string();
    if let Some(n) = name.filter(|n| n.chars().count() >= 2) {
        s = s.replace(n, &mask_name(n));
    }
    let mut out = String::with_capacity(s.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        let b = digits.as_bytes();
        let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        if mobile || (b.len() >= 7 && Some(digits.as_str()) == phone) {
            out.push_str(&mask_phone(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

// ---------------------------------------------------------------- redaction

/// What a masked span stood for, shown in its place so a reader knows something was there.
pub const PHONE: &str = "【电话】";
pub const ID_NUMBER: &str = "【证件号】";
pub const EMAIL: &str = "【邮箱】";
pub const PLATE: &str = "【车牌】";
pub const NUMBER: &str = "【号码】";
pub const HOUSE: &str = "【门牌】";

/// Digit runs at least this long are masked whatever they are (phone numbers without an area
/// code, QQ and account numbers, order numbers); shorter ones are amounts, years, counts.
pub const LONG_DIGITS: usize = 7;

/// The `redacted` text rule: phone numbers (mobile with or without separators or +86,
/// landlines with an area code, already-masked `138****5678`), ID-card numbers (18 with a
/// digit or X check, 15 old ones), e-mail addresses, vehicle plates, any run of
/// [`LONG_DIGITS`] or more digits, and house, building, unit, floor and flat numbers
/// (`38号院3单元501`, `5号楼2-301`, `三单元`) are replaced by a label. Road and place names
/// stay: they say where the problem is, not who reported it. One pass, linear in the text.
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some((len, label)) = match_at(&chars, i) {
            out.push_str(label);
            i += len;
            continue;
        }
        // Nothing starts here: copy the whole digit or address-character run so a match
        // never begins in the middle of a number.
        let run = if is_digit(chars[i]) {
            digit_token(&chars, i)
        } else if is_local_part(chars[i]) {
            run_len(&chars, i, |c| is_local_part(c) && !is_digit(c))
        } else {
            1
        };
        out.extend(&chars[i..i + run.max(1)]);
        i += run.max(1);
    }
    out
}

fn match_at(chars: &[char], i: usize) -> Option<(usize, &'static str)> {
    let c = chars[i];
    let prev = i.checked_sub(1).map(|p| chars[p]);
    if is_local_part(c)
        && !prev.is_some_and(is_local_part)
        && let Some(len) = email(chars, i)
    {
        return Some((len, EMAIL));
    }
    if PROVINCES.contains(c)
        && let Some(len) = plate(chars, i)
    {
        return Some((len, PLATE));
    }
    if (is_digit(c) || c == '+' || c == '(' || c == '（')
        && !prev.is_some_and(is_digit)
        && let Some(m) = number(chars, i)
    {
        return Some(m);
    }
    if (is_digit(c) || is_cn_numeral(c) || "甲乙丙丁".contains(c))
        && let Some(len) = house(chars, i)
    {
        return Some((len, HOUSE));
    }
    None
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// A full-width digit as its ASCII twin (people type both).
fn ascii(c: char) -> char {
    if ('０'..='９').contains(&c) {
        char::from(b'0' + (c as u32 - '０' as u32) as u8)
    } else {
        c
    }
}

/// Digit groups joined by dashes (`2026-11-03`): copied whole when nothing matched at their
/// start, so the tail of a date is never read as a flat number.
fn digit_token(chars: &[char], i: usize) -> usize {
    let mut j = i;
    loop {
        j += run_len(chars, j, is_digit);
        if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|c| is_digit(*c)) {
            j += 1;
        } else {
            return j - i;
        }
    }
}

fn digit_or_star(c: char) -> bool {
    is_digit(c) || c == '*' || c == '＊'
}

fn is_cn_numeral(c: char) -> bool {
    "一二三四五六七八九十百零〇两".contains(c)
}

fn is_local_part(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn run_len(chars: &[char], start: usize, f: impl Fn(char) -> bool) -> usize {
    chars[start..].iter().take_while(|&&c| f(c)).count()
}

/// `name@host.tld`: a local part, `@`, dotted labels ending in at least two letters.
fn email(chars: &[char], i: usize) -> Option<usize> {
    let local = run_len(chars, i, is_local_part);
    if local == 0 || chars.get(i + local) != Some(&'@') {
        return None;
    }
    let start = i + local + 1;
    let host = run_len(chars, start, |c| {
        c.is_ascii_alphanumeric() || c == '.' || c == '-'
    });
    let host_text: String = chars[start..start + host].iter().collect();
    let host_text = host_text.trim_end_matches(['.', '-']);
    let (name, tld) = host_text.rsplit_once('.')?;
    let ok = !name.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic());
    ok.then_some(local + 1 + host_text.chars().count())
}

/// Mainland plates start with a province's one-character name.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// `京A12345`, `京A·D12345` (new energy, 6 after the letter): a province, a capital letter,
/// an optional middle dot or space, then 5–6 capital letters or digits with at least one digit.
fn plate(chars: &[char], i: usize) -> Option<usize> {
    let letter = *chars.get(i + 1)?;
    if !letter.is_ascii_uppercase() {
        return None;
    }
    let mut j = i + 2;
    if chars.get(j).is_some_and(|c| "·• ".contains(*c)) {
        j += 1;
    }
    let body = run_len(chars, j, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let digits = chars[j..j + body].iter().any(char::is_ascii_digit);
    ((5..=6).contains(&body) && digits).then_some(j + body - i)
}

/// Phone numbers, ID numbers and long digit runs starting at `i` (a digit, `+` or an opening
/// bracket, not inside a longer number).
fn number(chars: &[char], i: usize) -> Option<(usize, &'static str)> {
    let group = |at: usize| run_len(chars, at, digit_or_star);
    let sep = |at: usize| chars.get(at).is_some_and(|c| "- －—".contains(*c));
    let text = |from: usize, len: usize| -> String { chars[from..from + len].iter().collect() };
    let ends_clean = |at: usize| !chars.get(at).is_some_and(|c| c.is_ascii_alphanumeric());

    // +86 / 0086 before a mobile.
    let mut start = i;
    if chars[i] == '+' {
        if text(i + 1, 2.min(chars.len() - i - 1))
            .chars()
            .map(ascii)
            .ne("86".chars())
        {
            return None;
        }
        start = i + 3;
        if sep(start) {
            start += 1;
        }
        let (len, label) = mobile(chars, start)?;
        return Some((start + len - i, label));
    }
    // (010)66012345, （010）6601-2345.
    if chars[i] == '(' || chars[i] == '（' {
        let area = group(i + 1);
        let close = chars.get(i + 1 + area).copied();
        if !(3..=4).contains(&area)
            || ascii(chars[i + 1]) != '0'
            || !matches!(close, Some(')') | Some('）'))
        {
            return None;
        }
        let mut j = i + 2 + area;
        if sep(j) {
            j += 1;
        }
        let local = local_number(chars, j)?;
        return Some((j + local - i, PHONE));
    }
    if let Some(m) = mobile(chars, start) {
        return Some(m);
    }
    let first = group(i);
    // 010-66012345, 0731 8888 8888: an area code, a separator, a local number.
    if (3..=4).contains(&first)
        && ascii(chars[i]) == '0'
        && sep(i + first)
        && let Some(local) = local_number(chars, i + first + 1)
    {
        return Some((first + 1 + local, PHONE));
    }
    // 400-810-8888.
    if first == 3 && sep(i + 3) && group(i + 4) == 3 && sep(i + 7) && group(i + 8) == 4 {
        return Some((12, NUMBER));
    }
    let run = text(i, first);
    let digits = run.chars().filter(|c| is_digit(*c)).count();
    if digits == 0 {
        return None;
    }
    // An ID number: 17 digits and a check digit or X (or 15 digits before 1999).
    if first == 17 && matches!(chars.get(i + 17), Some('X' | 'x')) && ends_clean(i + 18) {
        return Some((18, ID_NUMBER));
    }
    if (first == 18 || first == 15) && ends_clean(i + first) {
        return Some((first, ID_NUMBER));
    }
    if ascii(chars[i]) == '0' && (10..=12).contains(&first) {
        return Some((first, PHONE));
    }
    // An already masked number (`138****5678`) is still a number; so is any long run.
    let masked = digits < first && first >= LONG_DIGITS;
    (first >= LONG_DIGITS && (digits >= LONG_DIGITS || masked)).then_some((first, NUMBER))
}

/// `13812345678`, `138 1234 5678`, `138-1234-5678`, `138****5678` at `i`.
fn mobile(chars: &[char], i: usize) -> Option<(usize, &'static str)> {
    let is_mobile_start = |at: usize| {
        chars.get(at).is_some_and(|c| ascii(*c) == '1')
            && chars
                .get(at + 1)
                .is_some_and(|c| ('3'..='9').contains(&ascii(*c)) || *c == '*')
    };
    if !is_mobile_start(i) {
        return None;
    }
    let group = |at: usize| run_len(chars, at, digit_or_star);
    let sep = |at: usize| chars.get(at).is_some_and(|c| "- －".contains(*c));
    let after_ok = |at: usize| !chars.get(at).is_some_and(|c| digit_or_star(*c));
    if group(i) == 11 && after_ok(i + 11) {
        return Some((11, PHONE));
    }
    if group(i) == 3
        && sep(i + 3)
        && group(i + 4) == 4
        && sep(i + 8)
        && group(i + 9) == 4
        && after_ok(i + 13)
    {
        return Some((13, PHONE));
    }
    None
}

/// A local telephone number of 7–8 digits, possibly split once (`6601 2345`, `6601-2345`).
fn local_number(chars: &[char], j: usize) -> Option<usize> {
    let group = |at: usize| run_len(chars, at, digit_or_star);
    let sep = |at: usize| chars.get(at).is_some_and(|c| "- －".contains(*c));
    let a = group(j);
    if (7..=8).contains(&a) && !chars.get(j + a).is_some_and(|c| digit_or_star(*c)) {
        return Some(a);
    }
    if (3..=4).contains(&a) && sep(j + a) {
        let b = group(j + a + 1);
        if (7..=8).contains(&(a + b)) && b >= 3 {
            return Some(a + 1 + b);
        }
    }
    None
}

/// Markers after a number that make it part of an address, longest first. The first group
/// names the building or house (kept at `building` precision); the rest go inside it.
const BUILDING_MARKERS: &[&str] = &["号院", "号楼", "号", "栋", "幢", "座"];
const INSIDE_MARKERS: &[&str] = &["单元", "门", "层", "楼", "室", "户"];

/// One `number + marker` step of an address at `i` (`first`: the chain's first step): its
/// length and whether the marker is a building-level one.
fn house_step(chars: &[char], i: usize, first: bool) -> Option<(usize, bool)> {
    let mut j = i;
    if chars.get(j).is_some_and(|c| "甲乙丙丁".contains(*c)) {
        j += 1;
    }
    let arabic = run_len(chars, j, is_digit);
    let chinese = if arabic == 0 {
        run_len(chars, j, is_cn_numeral)
    } else {
        0
    };
    let n = arabic + chinese;
    if n == 0 || arabic > 5 {
        return None;
    }
    let end = j + n;
    let rest: String = chars[end..(end + 2).min(chars.len())].iter().collect();
    let marker = BUILDING_MARKERS
        .iter()
        .map(|m| (m, true))
        .chain(INSIDE_MARKERS.iter().map(|m| (m, false)))
        .find(|(m, _)| rest.starts_with(**m))?;
    let (m, building) = marker;
    // Chinese numerals read as counts too (这一户, 一楼大厅); only these markers make them an
    // address, or any marker once the chain has begun (三单元五层).
    if chinese > 0 && first && !["号院", "号楼", "号", "单元"].contains(m) {
        return None;
    }
    let after = chars.get(end + m.chars().count()).copied();
    // 11月3号 is a date, 4号线 a metro line, 2室1厅 a flat's size.
    if *m == "号" && ((i > 0 && chars[i - 1] == '月') || matches!(after, Some('线' | '码'))) {
        return None;
    }
    if *m == "室" && after.is_some_and(|c| is_digit(c) || is_cn_numeral(c)) {
        return None;
    }
    Some((end + m.chars().count() - i, building))
}

/// A house number and everything inside it (`38号院3单元501`, `5号楼2-301`, `1-2-301`): the
/// length of the whole chain.
fn house(chars: &[char], i: usize) -> Option<usize> {
    let len = house_chain(chars, i).map(|(len, _)| len);
    len.or_else(|| dashed_flat(chars, i))
}

/// The chain at `i`: its full length and the length of its building part.
fn house_chain(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let (first, building) = house_step(chars, i, true)?;
    let mut j = i + first;
    let mut building_end = if building { j } else { i };
    let mut inside = !building;
    loop {
        if let Some((len, is_building)) = house_step(chars, j, false) {
            if is_building && !inside {
                building_end = j + len;
            } else {
                inside = true;
            }
            j += len;
            continue;
        }
        // The flat itself after the last marker: 501, 2-301, 501室.
        if let Some(len) = dashed_flat(chars, j).or_else(|| {
            let n = run_len(chars, j, is_digit);
            (1..=4).contains(&n).then_some(n)
        }) {
            j += len;
            if chars.get(j).is_some_and(|c| "室号户".contains(*c)) {
                j += 1;
            }
        }
        break;
    }
    Some((j - i, building_end - i))
}

/// `1-2-301` or `2-301`: short digit groups joined by dashes (not a date: no 4-digit first
/// group).
fn dashed_flat(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    let mut groups = 0;
    loop {
        let n = run_len(chars, j, is_digit);
        if n == 0 || n > 4 || (groups == 0 && n > 3) {
            break;
        }
        j += n;
        groups += 1;
        if chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|c| is_digit(*c)) {
            j += 1;
        } else {
            break;
        }
    }
    let clean = !chars.get(j).is_some_and(|c| is_digit(*c) || *c == '-');
    (groups >= 2 && clean && chars.get(j - 1).is_some_and(|c| is_digit(*c))).then_some(j - i)
}

/// The address cut after its building: `鼓楼西大街38号院3单元501` → `鼓楼西大街38号院`,
/// `新街口外大街8号院2号楼3门401` → `新街口外大街8号院2号楼`. An address with no house number
/// is kept (it names only a road or a place).
pub fn cut_to_building(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let prev_digit = i > 0 && is_digit(chars[i - 1]);
        if !prev_digit && let Some((_, building)) = house_chain(&chars, i) {
            let kept: String = chars[..i + building].iter().collect();
            return kept.trim_end_matches([' ', '-', '，', ',']).to_string();
        }
        if !prev_digit && is_digit(chars[i]) && dashed_flat(&chars, i).is_some() {
            let kept: String = chars[..i].iter().collect();
            return kept.trim_end_matches([' ', '-', '，', ',']).to_string();
        }
        i += 1;
    }
    address.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_domain::{Caller, Channel, Intake, RequestType};

    /// (input, redacted).
    const REDACTIONS: &[(&str, &str)] = &[
        // Mobiles, with and without separators, country code, already masked.
        ("电话13812345678", "电话【电话】"),
        ("电话 138 1234 5678 找我", "电话 【电话】 找我"),
        ("138-1234-5678", "【电话】"),
        ("+86 13812345678", "【电话】"),
        ("+8613812345678。", "【电话】。"),
        ("号码是138****5678", "号码是【电话】"),
        // Landlines.
        ("座机010-66012345", "座机【电话】"),
        ("（010）66012345", "【电话】"),
        ("(010)6601-2345转8", "【电话】转8"),
        ("0731 88888888", "【电话】"),
        ("01066012345", "【电话】"),
        ("拨打66012345", "拨打【号码】"),
        ("400-810-8888", "【号码】"),
        // ID cards: 18 with a digit or X check, 15 old ones, already masked.
        ("身份证11010219900101123X", "身份证【证件号】"),
        ("身份证号110102199001011234，", "身份证号【证件号】，"),
        ("110102900101123", "【证件号】"),
        ("110102********1234", "【证件号】"),
        ("11010219900101123x号", "【证件号】号"),
        // E-mail, plates.
        ("邮箱wang.jg@example.com。", "邮箱【邮箱】。"),
        ("123456789@qq.com", "【邮箱】"),
        ("a@b", "a@b"),
        ("车牌京A12345违停", "车牌【车牌】违停"),
        ("京A·D12345", "【车牌】"),
        ("北京市西城区", "北京市西城区"),
        // Long digit runs; short numbers stay.
        ("订单号20261103001", "订单号【号码】"),
        ("QQ123456789", "QQ【号码】"),
        ("押金2000元，14度，2026年", "押金2000元，14度，2026年"),
        ("2026-11-03 09:00", "2026-11-03 09:00"),
        // House, building, unit and flat numbers.
        ("鼓楼西大街38号院3单元501", "鼓楼西大街【门牌】"),
        (
            "新街口外大街8号院2号楼3门401室漏水",
            "新街口外大街【门牌】漏水",
        ),
        ("5号楼2-301", "【门牌】"),
        ("住在1-2-301", "住在【门牌】"),
        ("甲3号", "【门牌】"),
        ("三单元五层", "【门牌】"),
        ("十二号楼", "【门牌】"),
        ("3楼楼道灯坏了", "【门牌】楼道灯坏了"),
        ("12栋", "【门牌】"),
        // Not addresses.
        ("11月3号开始不热", "11月3号开始不热"),
        ("4号线地铁", "4号线地铁"),
        ("2室1厅", "2室1厅"),
        ("这一户人家", "这一户人家"),
        ("两个门", "两个门"),
        // Mixed.
        (
            "我住护国寺街9号院2单元302，电话13900001111，身份证11010219800101002X，邮箱a1@x.cn",
            "我住护国寺街【门牌】，电话【电话】，身份证【证件号】，邮箱【邮箱】",
        ),
        ("全角１３８１２３４５６７８", "全角【电话】"),
        ("", ""),
    ];

    #[test]
    fn redaction_table() {
        let mut wrong = Vec::new();
        for (input, expected) in REDACTIONS {
            let got = redact(input);
            if got != *expected {
                wrong.push(format!("{input:?}\n   got {got:?}\n  want {expected:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn redaction_never_panics_and_is_idempotent() {
        let pieces = [
            "1", "13", "138", "-", " ", "号", "号院", "单元", "室", "@", ".", "x", "X", "京", "A",
            "（", "(", "）", "+", "86", "*", "甲", "三", "月", "0", "010", "１",
        ];
        // Every pair and triple of awkward pieces, at string ends.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}");
                    let once = redact(&s);
                    assert_eq!(redact(&once), once, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn building_cut() {
        for (input, expected) in [
            ("鼓楼西大街38号院3单元501", "鼓楼西大街38号院"),
            ("新街口外大街8号院2号楼3门401", "新街口外大街8号院2号楼"),
            ("鼓楼西大街12号院3号楼", "鼓楼西大街12号院3号楼"),
            ("西直门内大街", "西直门内大街"),
            ("护国寺街9号2-301", "护国寺街9号"),
            ("德胜门外大街1-2-301", "德胜门外大街"),
            ("某小区3单元501", "某小区"),
            ("阜成门内大街甲3号", "阜成门内大街甲3号"),
        ] {
            assert_eq!(cut_to_building(input), expected, "{input}");
        }
    }

    fn xicheng() -> World {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
        jiesu_world::load_dir(&dir).expect("shipped world")
    }

    /// A request in 什刹海街道 西四北社区 with a flat address, the caller's phone and another
    /// number in the text.
    fn request(channel: Channel, category: Option<&str>) -> RequestState {
        let at: jiff::Timestamp = "2026-11-02T01:00:00Z".parse().expect("time");
        let intake = Intake {
            request_type: RequestType::Complaint,
            channel,
            category: category.map(str::to_string),
            street: Some("110102012".into()),
            community: Some("110102012001".into()),
            address: Some(format!(
                "鼓楼西大街38号院3单元501{COORDS_OPEN}39.94012,116.38923{COORDS_CLOSE}"
            )),
            title: None,
            text: "我是王建国，住38号院3单元501，电话13812345678，邻居13900001111也可作证。".into(),
            caller: Caller {
                name: Some("王建国".into()),
                phone: Some("13812345678".into()),
            },
            urgent: false,
            received_at: at,
        };
        RequestState::new(7, "XC0007".into(), intake, at)
    }

    #[test]
    fn who_is_published() {
        let world = xicheng();
        let public = "property.service";
        assert!(publish(&request(Channel::Open311, Some(public)), &world).is_some());
        assert!(publish(&request(Channel::Web, Some(public)), &world).is_some());
        for channel in [
            Channel::Hotline,
            Channel::App,
            Channel::Device,
            Channel::Enterprise,
            Channel::Import,
        ] {
            assert_eq!(
                publish(&request(channel, Some(public)), &world),
                None,
                "{channel}"
            );
        }
        for private in ["civil.assistance", "medical.service", "elderly.home-care"] {
            let st = request(Channel::Open311, Some(private));
            assert_eq!(publish(&st, &world), None, "{private}");
        }
        assert_eq!(publish(&request(Channel::Open311, None), &world), None);
        let mut secret = request(Channel::Open311, Some(public));
        secret.special = Some(SpecialHandling::SecretsPrivacy);
        assert_eq!(publish(&secret, &world), None);
        // The district may publish the hotline too, if it decides so.
        let mut w = world.clone();
        w.district.publication.channels.push("hotline".into());
        assert!(publish(&request(Channel::Hotline, Some(public)), &w).is_some());
    }

    #[test]
    fn the_default_is_community_level_and_redacted() {
        let p = publish(
            &request(Channel::Open311, Some("property.service")),
            &xicheng(),
        )
        .expect("published");
        assert_eq!(p.address.as_deref(), Some("什刹海街道西四北社区"));
        assert_eq!((p.lat, p.long), (None, None));
        assert_eq!(
            p.description.as_deref(),
            Some("我是王**，住【门牌】，电话【电话】，邻居【电话】也可作证。")
        );
    }

    #[test]
    fn without_a_street_the_gazetteer_places_it() {
        let world = xicheng();
        let mut st = request(Channel::Open311, Some("property.service"));
        st.intake.street = None;
        st.intake.community = None;
        let at = |st: &RequestState| publish(st, &world).expect("published").address;
        // A road: its street only.
        assert_eq!(at(&st).as_deref(), Some("什刹海街道"));
        // A place inside one community: both.
        st.intake.address = Some("护国寺街9号院3单元501".into());
        let community = world
            .community("110102012006")
            .expect("community")
            .name
            .clone();
        assert_eq!(at(&st), Some(format!("什刹海街道{community}")));
        // Nothing known: no location rather than a guess.
        st.intake.address = Some("某某小区3单元501".into());
        assert_eq!(at(&st), None);
    }

    #[test]
    fn every_address_precision_and_text_rule() {
        let st = request(Channel::Open311, Some("property.service"));
        let mut world = xicheng();
        let mut at = |address, text| {
            world.district.publication.address = address;
            world.district.publication.text = text;
            publish(&st, &world).expect("published")
        };
        let full = at(AddressPrecision::Full, TextRule::Full);
        assert_eq!(full.address.as_deref(), Some("鼓楼西大街38号院3单元501"));
        assert_eq!((full.lat, full.long), (Some(39.94012), Some(116.38923)));
        // Even the full text never shows the caller's own name or number.
        assert_eq!(
            full.description.as_deref(),
            Some("我是王**，住38号院3单元501，电话138****5678，邻居139****1111也可作证。")
        );
        let building = at(AddressPrecision::Building, TextRule::None);
        assert_eq!(building.address.as_deref(), Some("鼓楼西大街38号院"));
        assert_eq!((building.lat, building.long), (Some(39.94), Some(116.389)));
        assert_eq!(building.description, None);
        let street = at(AddressPrecision::Street, TextRule::Redacted);
        assert_eq!(street.address.as_deref(), Some("什刹海街道"));
        let none = at(AddressPrecision::None, TextRule::Redacted);
        assert_eq!((none.address, none.lat, none.long), (None, None, None));
    }

    #[test]
    fn coordinates_and_scrubbing() {
        assert_eq!(
            scrub("王建国说电话13812345678，楼号12", Some("王建国"), None),
            "王**说电话138****5678，楼号12"
        );
        assert_eq!(
            split_coordinates(Some("鼓楼西大街（经纬度 39.94,116.38）")),
            (Some("鼓楼西大街".into()), Some(39.94), Some(116.38))
        );
        assert_eq!(
            split_coordinates(Some("（经纬度 39.94,116.38）")),
            (None, Some(39.94), Some(116.38))
        );
    }
}
