//! Encodings, hashes and file reads: `jsonencode` writes JSON exactly as Terraform does
//! (compact, keys sorted, HTML-safe escapes), so policy documents hash the same.

use super::{R, take};
use crate::value::{Value, format_number};
use base64::Engine as _;

/// The functions this file defines.
pub(super) const NAMES: &[&str] = &[
    "jsonencode",
    "jsondecode",
    "base64encode",
    "base64decode",
    "base64gzip",
    "urlencode",
    "md5",
    "sha1",
    "sha256",
    "file",
    "filebase64",
    "fileexists",
];

pub(super) fn call(name: &str, args: Vec<Value>) -> R {
    let b64 = base64::engine::general_purpose::STANDARD;
    match name {
        "jsonencode" => {
            let [v] = take(args, ["value"])?;
            Ok(Value::String(json_encode(&v.v)))
        }
        "jsondecode" => {
            let [s] = take(args, ["string"])?;
            let text = s.string()?;
            serde_json::from_str::<serde_json::Value>(&text)
                .map(|json| Value::from_json(&json))
                .map_err(|e| s.err(format!("is not valid JSON: {e}")))
        }
        "base64encode" => {
            let [s] = take(args, ["string"])?;
            Ok(Value::String(b64.encode(s.string()?)))
        }
        "base64decode" => {
            let [s] = take(args, ["string"])?;
            let bytes = b64
                .decode(s.string()?)
                .map_err(|e| s.err(format!("is not valid base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| s.err("decodes to bytes that are not UTF-8 text"))
        }
        "base64gzip" => {
            let [s] = take(args, ["string"])?;
            Ok(Value::String(b64.encode(gzip(s.string()?.as_bytes()))))
        }
        "urlencode" => {
            let [s] = take(args, ["string"])?;
            Ok(Value::String(urlencode(&s.string()?)))
        }
        "md5" | "sha1" | "sha256" => {
            let [s] = take(args, ["string"])?;
            let text = s.string()?;
            let digest: Vec<u8> = match name {
                "md5" => {
                    use md5::Digest as _;
                    md5::Md5::digest(text.as_bytes()).to_vec()
                }
                "sha1" => {
                    use sha1::Digest as _;
                    sha1::Sha1::digest(text.as_bytes()).to_vec()
                }
                _ => {
                    use sha2::Digest as _;
                    sha2::Sha256::digest(text.as_bytes()).to_vec()
                }
            };
            Ok(Value::String(
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            ))
        }
        "file" | "filebase64" => {
            let [p] = take(args, ["path"])?;
            let path = p.string()?;
            let hint =
                "relative paths start at the directory keel runs in; use \"${path.module}/NAME\"";
            if name == "file" {
                std::fs::read_to_string(&path)
                    .map(Value::String)
                    .map_err(|e| {
                        p.err(format!(
                            "names \"{path}\", which cannot be read as text: {e} ({hint})"
                        ))
                    })
            } else {
                std::fs::read(&path)
                    .map(|b| Value::String(b64.encode(b)))
                    .map_err(|e| {
                        p.err(format!(
                            "names \"{path}\", which cannot be read: {e} ({hint})"
                        ))
                    })
            }
        }
        "fileexists" => {
            let [p] = take(args, ["path"])?;
            let path = std::path::PathBuf::from(p.string()?);
            if path.is_dir() {
                return Err(p.err(format!(
                    "names {}, which is a directory, not a file",
                    path.display()
                )));
            }
            Ok(Value::Bool(path.is_file()))
        }
        other => Err(format!("there is no function named \"{other}\"")),
    }
}

/// Percent-encodes everything but letters, digits and `-_.~`, as Terraform's urlencode.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A gzip member (RFC 1952) with the header Go's gzip writer uses: no name, no time.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend(crc32fast::hash(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// JSON the way Terraform's jsonencode writes it: compact, keys sorted, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped so the result is safe to embed in HTML and JavaScript.
pub fn json_encode(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// Go's encoding/json string escaping.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::super::test_util::*;
    use super::json_encode;
    use crate::value::Value;
    use base64::Engine as _;

    #[test]
    fn jsonencode_is_compact_sorted_and_html_safe() {
        let v = m(&[
            ("b", n(1.0)),
            ("a", s("<x>&\u{2028}\u{1}")),
            ("c", l(&[Value::Bool(true), Value::Null, n(1.5)])),
        ]);
        assert_eq!(
            json_encode(&v),
            r#"{"a":"\u003cx\u003e\u0026\u2028\u0001","b":1,"c":[true,null,1.5]}"#
        );
        assert_eq!(call("jsonencode", &[s("a\"b\\\n")]), Ok(s(r#""a\"b\\\n""#)));
        fails("jsonencode", &[], "takes 1 argument (value), got 0");
    }

    #[test]
    fn jsondecode_round_trips_and_names_bad_input() {
        assert_eq!(
            call("jsondecode", &[s(r#"{"x":[1,"y"]}"#)]),
            Ok(m(&[("x", l(&[n(1.0), s("y")]))]))
        );
        fails(
            "jsondecode",
            &[s("{")],
            "argument 1 (string) is not valid JSON",
        );
    }

    #[test]
    fn encodings_and_hashes_match_terraform() {
        assert_eq!(call("base64encode", &[s("keel")]), Ok(s("a2VlbA==")));
        assert_eq!(call("base64decode", &[s("a2VlbA==")]), Ok(s("keel")));
        fails(
            "base64decode",
            &[s("%%")],
            "argument 1 (string) is not valid base64",
        );
        assert_eq!(
            call("sha256", &[s("hello")]),
            Ok(s(
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            ))
        );
        assert_eq!(
            call("md5", &[s("hello")]),
            Ok(s("5d41402abc4b2a76b9719d911017c592"))
        );
        assert_eq!(
            call("sha1", &[s("hello")]),
            Ok(s("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"))
        );
        assert_eq!(
            call("urlencode", &[s("a b&c=d/é~")]),
            Ok(s("a%20b%26c%3Dd%2F%C3%A9~"))
        );
        fails(
            "urlencode",
            &[l(&[])],
            "argument 1 (string) must be a string",
        );
    }

    #[test]
    fn base64gzip_decompresses_to_the_input() {
        let Ok(Value::String(b)) = call("base64gzip", &[s("hello hello hello")]) else {
            panic!("base64gzip gives a string");
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        let body = &bytes[10..bytes.len() - 8];
        let plain = miniz_oxide::inflate::decompress_to_vec(body).unwrap();
        assert_eq!(plain, b"hello hello hello");
        assert_eq!(&bytes[bytes.len() - 4..], &17u32.to_le_bytes());
    }

    #[test]
    fn files_are_read_and_a_missing_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, "{}").unwrap();
        let p = s(&path.display().to_string());
        assert_eq!(call("file", &[p.clone()]), Ok(s("{}")));
        assert_eq!(call("filebase64", &[p.clone()]), Ok(s("e30=")));
        assert_eq!(call("fileexists", &[p]), Ok(Value::Bool(true)));
        assert_eq!(
            call("fileexists", &[s("/nonexistent/x")]),
            Ok(Value::Bool(false))
        );
        fails("file", &[s("/nonexistent/x")], "/nonexistent/x");
        let d = s(&dir.path().display().to_string());
        fails("fileexists", &[d], "is a directory");
    }
}
