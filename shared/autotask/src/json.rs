//! Lenient JSON decoding for text that customers wrote.
//!
//! JSON (RFC 8259 §8.2) allows `\uD800`-style escapes of lone UTF-16
//! surrogates, but they name no Unicode scalar value, so `serde_json` refuses
//! the whole document ("lone leading surrogate in hex escape"). A ticket title
//! carrying one would make every read of that ticket (and every queue message
//! quoting it) fail forever. [`from_slice`] decodes as `serde_json` does and,
//! only when that fails, retries once with each lone surrogate escape replaced
//! by `\uFFFD` (the replacement character), so nothing else changes.

use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Decodes `bytes` as JSON, replacing lone surrogate escapes with U+FFFD.
/// Errors: `serde_json`'s error for anything else that is not valid JSON.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(e) => match replace_lone_surrogates(bytes) {
            Cow::Owned(fixed) => serde_json::from_slice(&fixed),
            Cow::Borrowed(_) => Err(e),
        },
    }
}

/// [`from_slice`] over a string.
pub fn from_str<T: DeserializeOwned>(s: &str) -> serde_json::Result<T> {
    from_slice(s.as_bytes())
}

fn hex4(b: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u16::from_str_radix(s, 16).ok().filter(|_| s.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// `\uXXXX` at `i` (the backslash), as its code unit.
fn escape_at(b: &[u8], i: usize) -> Option<u16> {
    if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') { hex4(b.get(i + 2..)?) } else { None }
}

/// The document with every `\uXXXX` escape of a lone surrogate replaced by
/// `\uFFFD`; borrowed when there is none. Escaped backslashes (`\\ud800`)
/// are text, not escapes, and are left alone.
pub fn replace_lone_surrogates(b: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            if let Some(o) = out.as_mut() {
                o.push(b[i]);
            }
            i += 1;
            continue;
        }
        let (len, lone) = match escape_at(b, i) {
            Some(0xD800..=0xDBFF) => match escape_at(b, i + 6) {
                Some(0xDC00..=0xDFFF) => (12, false),
                _ => (6, true),
            },
            Some(0xDC00..=0xDFFF) => (6, true),
            Some(_) => (6, false),
            None => (2.min(b.len() - i), false),
        };
        if lone {
            out.get_or_insert_with(|| b[..i].to_vec()).extend_from_slice(b"\\uFFFD");
        } else if let Some(o) = out.as_mut() {
            o.extend_from_slice(&b[i..i + len]);
        }
        i += len;
    }
    match out {
        Some(o) => Cow::Owned(o),
        None => Cow::Borrowed(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_lone_surrogate_becomes_the_replacement_character() {
        assert!(serde_json::from_str::<Value>(r#"{"title":"a\ud800b"}"#).is_err(), "serde_json refuses it");
        let v: Value = from_str(r#"{"title":"a\ud800b","x":"\uDC00"}"#).unwrap();
        assert_eq!(v["title"], "a\u{FFFD}b");
        assert_eq!(v["x"], "\u{FFFD}");
    }

    #[test]
    fn pairs_escaped_backslashes_and_valid_documents_are_unchanged() {
        let pair = r#"{"t":"\ud83d\ude00 ok \\ud800 \n"}"#;
        assert!(matches!(replace_lone_surrogates(pair.as_bytes()), Cow::Borrowed(_)));
        let v: Value = from_str(pair).unwrap();
        assert_eq!(v["t"], "😀 ok \\ud800 \n");
        // a high surrogate followed by another high one: both are lone
        let v: Value = from_str(r#"["\ud800\ud800\udc00"]"#).unwrap();
        assert_eq!(v[0], "\u{FFFD}\u{10000}");
    }

    #[test]
    fn other_errors_are_still_errors() {
        assert!(from_str::<Value>(r#"{"t":"\ud800"#).is_err());
        assert!(from_str::<Value>("not json \\").is_err());
    }
}
