//! JSON written byte for byte as Go's `encoding/json` writes it (`Marshal` and
//! `MarshalIndent(v, "", "  ")`), keys in the order given: what the Terraform AWS provider
//! produces for `aws_iam_policy_document`, so a document keel renders compares equal, as
//! text, with one Terraform rendered. Go escapes `<`, `>` and `&` (as `\u003c` ...), the
//! line and paragraph separators, and control characters; everything else is written as is.

/// A JSON value with ordered object keys. Policy documents hold only strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Str(String),
    Bool(bool),
    List(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// `json.Marshal`.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// `json.MarshalIndent(v, "", "  ")`.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some("  "), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<&str>, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(unit) = indent {
                out.push('\n');
                for _ in 0..depth {
                    out.push_str(unit);
                }
            }
        };
        match self {
            Json::Str(s) => quote(s, out),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::List(items) if items.is_empty() => out.push_str("[]"),
            Json::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    item.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    quote(k, out);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

/// A string as Go quotes it with HTML escaping on (json.Marshal's default).
fn quote(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u32 as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let v = Json::Obj(vec![
            ("A".into(), Json::Str("x".into())),
            (
                "B".into(),
                Json::List(vec![Json::Str("1".into()), Json::Str("2".into())]),
            ),
            ("C".into(), Json::List(vec![])),
        ]);
        assert_eq!(
            v.pretty(),
            "{\n  \"A\": \"x\",\n  \"B\": [\n    \"1\",\n    \"2\"\n  ],\n  \"C\": []\n}"
        );
        assert_eq!(v.compact(), r#"{"A":"x","B":["1","2"],"C":[]}"#);
    }

    #[test]
    fn escapes_html_and_control_characters_as_go_does() {
        let v = Json::Str("a<b>&c\u{1}\"\\\u{2028}é".into());
        assert_eq!(v.compact(), r#""a\u003cb\u003e\u0026c\u0001\"\\\u2028é""#);
    }
}
