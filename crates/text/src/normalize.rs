//! Text normalisation (全角/半角, whitespace, punctuation) and PII masking.

/// Normalise a text for storage, matching and features.
///
/// * full-width ASCII (Ｕ+FF01..Ｕ+FF5E) becomes half-width, the ideographic space a plain space;
/// * Chinese punctuation with an ASCII twin (，；：！？（）) becomes that twin, curly quotes straight;
///   `。`、`、` and `《》` stay because they have no ASCII equivalent that keeps their meaning;
/// * control and zero-width characters are dropped, any run of whitespace becomes one space,
///   and the result is trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        // Ideographs, most of any text, map to themselves: skip the Unicode table lookups.
        let c = if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            c
        } else {
            let Some(c) = normalize_char(c) else { continue };
            if c.is_whitespace() {
                pending_space = !out.is_empty();
                continue;
            }
            c
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Map one character; `None` drops it.
fn normalize_char(c: char) -> Option<char> {
    let mapped = match c {
        '\u{3000}' => ' ',
        // Full-width ASCII block: a fixed offset from the ASCII range.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{FF5F}' => '(',
        '\u{FF60}' => ')',
        '“' | '”' | '„' | '〝' | '〞' => '"',
        '‘' | '’' | '‚' => '\'',
        '【' | '〔' => '[',
        '】' | '〕' => ']',
        '—' | '–' => '-',
        // Zero-width characters and the BOM carry nothing and break matching.
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => return None,
        _ => c,
    };
    if mapped.is_whitespace() {
        return Some(' ');
    }
    if mapped.is_control() {
        return None;
    }
    Some(mapped)
}

/// Replace mainland mobile numbers, landlines and resident ID numbers with masks.
///
/// Mobiles (`1[3-9]` + 9 digits) keep their first 3 and last 4 digits (`138****5678`, the form
/// citizens recognise from receipts); ID numbers (17 digits + digit/X) keep the 6-digit region
/// and the last 4; landlines with an area code (`010-66012345`, `0731 8888888`) and bare
/// 7–8-digit numbers right after a phone cue (电话, 座机, 联系, …) are fully masked.
/// Digit runs that are longer or shorter than these shapes are left alone: they are amounts,
/// order numbers or dates. One left-to-right pass; linear in the text length.
pub fn mask_pii(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_boundary = i == 0 || !is_ascii_alnum(chars[i - 1]);
        if c.is_ascii_digit() && at_boundary {
            if let Some((len, masked)) = match_pii(&chars, i) {
                out.push_str(&masked);
                i += len;
                continue;
            }
            // Not PII: copy the whole digit run so we never start matching in its middle.
            while i < chars.len() && chars[i].is_ascii_digit() {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_ascii_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn digit_run(chars: &[char], start: usize) -> usize {
    chars[start..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// Try the PII shapes at `start` (a digit at a word boundary); returns consumed length and mask.
fn match_pii(chars: &[char], start: usize) -> Option<(usize, String)> {
    let run = digit_run(chars, start);
    let end = start + run;
    let next = chars.get(end).copied();
    let ends_clean = |pos: usize| chars.get(pos).is_none_or(|c| !is_ascii_alnum(*c));

    // ID number: 17 digits + check digit (digit or X), or 18 digits.
    if run == 17 && matches!(next, Some('X') | Some('x')) && ends_clean(end + 1) {
        let s: String = chars[start..start + 6].iter().collect();
        let tail: String = chars[end - 3..=end].iter().collect();
        return Some((18, format!("{s}********{tail}")));
    }
    if run == 18 && ends_clean(end) {
        let s: String = chars[start..start + 6].iter().collect();
        let tail: String = chars[end - 4..end].iter().collect();
        return Some((18, format!("{s}********{tail}")));
    }
    // Mobile: 1[3-9]\d{9}, whole run.
    if run == 11
        && chars[start] == '1'
        && ('3'..='9').contains(&chars[start + 1])
        && ends_clean(end)
    {
        let head: String = chars[start..start + 3].iter().collect();
        let tail: String = chars[end - 4..end].iter().collect();
        return Some((11, format!("{head}****{tail}")));
    }
    // Landline with area code: 0 + 2–3 digits, optional '-' or ' ', then 7–8 digits.
    if chars[start] == '0' {
        if (3..=4).contains(&run) && matches!(next, Some('-') | Some(' ')) {
            let local = digit_run(chars, end + 1);
            if (7..=8).contains(&local) && ends_clean(end + 1 + local) {
                let len = run + 1 + local;
                return Some((len, "*".repeat(len)));
            }
        }
        if (10..=12).contains(&run) && ends_clean(end) {
            return Some((run, "*".repeat(run)));
        }
    }
    // Bare local number only when a phone cue precedes it closely.
    if (7..=8).contains(&run) && ends_clean(end) && phone_cue_before(chars, start) {
        return Some((run, "*".repeat(run)));
    }
    None
}

fn phone_cue_before(chars: &[char], start: usize) -> bool {
    const CUES: [&str; 8] = ["电话", "座机", "联系", "致电", "拨打", "手机", "tel", "Tel"];
    let from = start.saturating_sub(8);
    let window: String = chars[from..start].iter().collect();
    CUES.iter().any(|cue| window.contains(cue))
}
