//! One document, two renderings: GeoReport v2 answers are built once as a [`Doc`] and written as
//! JSON or as XML. The spec defines JSON as a mechanical mapping of its XML (the "Spark
//! convention"), so building both from one tree keeps them from drifting apart.

/// A node of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// JSON `null`; an empty element in XML.
    Null,
    Str(String),
    Bool(bool),
    Int(i64),
    Num(f64),
    /// Named fields in order.
    Obj(Vec<(&'static str, Doc)>),
    /// A JSON array; in XML, one `<item>` element per entry inside the parent element.
    List(&'static str, Vec<Doc>),
}

impl Doc {
    pub fn str(s: impl Into<String>) -> Doc {
        Doc::Str(s.into())
    }
    pub fn opt(s: Option<impl Into<String>>) -> Doc {
        s.map_or(Doc::Null, |s| Doc::Str(s.into()))
    }
}

/// The answer as JSON. A root object or list is written as is (the spec's JSON has no root
/// element).
pub fn to_json(doc: &Doc) -> String {
    let mut out = String::new();
    write_json(&mut out, doc);
    out
}

fn write_json(out: &mut String, doc: &Doc) {
    match doc {
        Doc::Null => out.push_str("null"),
        Doc::Str(s) => out.push_str(&json_string(s)),
        Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Doc::Int(i) => out.push_str(&i.to_string()),
        // A non-finite number cannot be written in JSON; inputs are checked to be finite, so
        // this only guards against a future caller.
        Doc::Num(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        },
        Doc::Obj(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(k));
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
        Doc::List(_, items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v);
            }
            out.push(']');
        }
    }
}

fn json_string(s: &str) -> String {
    // Serialising a str cannot fail; the fallback keeps the output valid JSON regardless.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The answer as an XML document whose root element is `root`.
pub fn to_xml(root: &'static str, doc: &Doc) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    write_element(&mut out, root, doc);
    out.push('\n');
    out
}

fn write_element(out: &mut String, name: &str, doc: &Doc) {
    match doc {
        Doc::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Doc::Obj(fields) => {
            open(out, name);
            for (k, v) in fields {
                write_element(out, k, v);
            }
            close(out, name);
        }
        Doc::List(item, items) => {
            open(out, name);
            for v in items {
                write_element(out, item, v);
            }
            close(out, name);
        }
        Doc::Str(s) => {
            open(out, name);
            escape_into(out, s);
            close(out, name);
        }
        Doc::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Doc::Int(i) => {
            open(out, name);
            out.push_str(&i.to_string());
            close(out, name);
        }
        Doc::Num(f) => {
            open(out, name);
            if f.is_finite() {
                out.push_str(&f.to_string());
            }
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes character data. Characters XML 1.0 cannot carry at all (most C0 controls, lone
/// surrogates cannot occur in a `str`, U+FFFE/U+FFFF) are dropped: a caller's text with a stray
/// control character must not make the whole document unparseable.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as a reference so a parser does not normalise it away.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_ways() {
        let d = Doc::List(
            "error",
            vec![Doc::Obj(vec![
                ("code", Doc::Int(403)),
                ("description", Doc::str("bad <key> & \"x\"\u{1}")),
                ("account_id", Doc::Null),
            ])],
        );
        assert_eq!(
            to_json(&d),
            r#"[{"code":403,"description":"bad <key> & \"x\"\u0001","account_id":null}]"#
        );
        assert_eq!(
            to_xml("errors", &d),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>403</code>\
             <description>bad &lt;key&gt; &amp; &quot;x&quot;</description><account_id/>\
             </error></errors>\n"
        );
    }
}
