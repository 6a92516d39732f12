//! A strict `application/x-www-form-urlencoded` parser for POST bodies and query strings.
//!
//! The usual parsers are lenient: a broken `%` escape passes through and bytes that are not
//! UTF-8 become U+FFFD. For a request that enters the case file that would silently change what
//! the caller wrote, so here both are errors the client is told about.

/// `name=value` pairs in order; repeated names are kept.
pub fn parse(input: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (i, part) in input.split(|&b| b == b'&').enumerate() {
        if part.is_empty() {
            // `a=1&&b=2` and a trailing `&` are common and harmless.
            continue;
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(eq) => (&part[..eq], &part[eq + 1..]),
            None => (part, &[][..]),
        };
        let name = decode(name).map_err(|e| format!("pair {}: name {e}", i + 1))?;
        if name.is_empty() {
            return Err(format!("pair {}: empty name", i + 1));
        }
        let value = decode(value).map_err(|e| format!("`{name}`: {e}"))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn decode(raw: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "has a malformed %-escape".to_string())?;
                bytes.push(hex);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(
            parse(b"a=1&b=x+y%26z&&attribute%5Bt%5D=%E6%B8%A9&c").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y&z".into()),
                ("attribute[t]".into(), "温".into()),
                ("c".into(), "".into()),
            ]
        );
        assert!(parse(b"a=%zz").is_err());
        assert!(parse(b"a=%4").is_err());
        assert!(parse(b"a=%FF").is_err());
        assert!(parse(b"=1").is_err());
        assert!(parse(b"").unwrap().is_empty());
    }
}
