//! A string that must never be printed.
//!
//! API keys, tokens and passwords travel through the program as [`Secret`]:
//! its `Debug` and `Display` print a placeholder, so a stray `{:?}` in a log
//! line or an error cannot leak one. The value is reached only through
//! [`Secret::expose`], at the few places that put it into a request header.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// Every secret value this process holds, so that text a server sends back
/// (an error message that quotes the key it refused) can be cleaned of them
/// before it is printed. See [`redact`].
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Values shorter than this are not searched for: they would match
/// ordinary text, and no real credential is that short.
const MIN_REDACTED_LEN: usize = 4;

/// A secret setting value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value and remembers it for [`redact`].
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        if value.len() >= MIN_REDACTED_LEN
            && let Ok(mut known) = KNOWN.write()
            && !known.contains(&value)
        {
            known.push(value.clone());
        }
        Secret(value)
    }

    /// The value itself, for a request header or body. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The strings to look for in an answer: each secret as it is, and as it
/// reads once and twice JSON-escaped (inside a JSON string, and inside a
/// JSON document carried in a JSON string, as `executionData` is).
fn patterns() -> Vec<String> {
    let Ok(known) = KNOWN.read() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for secret in known.iter() {
        let mut form = secret.clone();
        for _ in 0..3 {
            if !out.contains(&form) {
                out.push(form.clone());
            }
            let quoted = serde_json::to_string(&form).unwrap_or_default();
            form = quoted
                .get(1..quoted.len().saturating_sub(1))
                .unwrap_or_default()
                .to_string();
        }
    }
    // Longest first, so that a secret containing another is replaced whole.
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out
}

/// A platform's answer with every known secret value replaced by `***`,
/// as it is read and before anything parses it: the one place redaction
/// happens for everything the platform says, so no report, log or output
/// can quote a key back (a server that echoes the key it refused, a fault
/// whose details carry a secret).
///
/// In a JSON answer only string contents are touched (never a key, a
/// number or the structure, so the answer still parses); any other answer
/// is redacted wherever a value occurs. An answer with no secret in it is
/// returned as it came.
pub fn redact_answer(body: Vec<u8>) -> Vec<u8> {
    let patterns = patterns();
    let text = String::from_utf8_lossy(&body);
    let found: Vec<&str> = patterns
        .iter()
        .map(String::as_str)
        .filter(|p| text.contains(p))
        .collect();
    if found.is_empty() {
        return body;
    }
    let is_json = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
    let spans = if is_json {
        string_spans(text.as_bytes())
    } else {
        vec![(0, text.len())]
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        // Both ends sit next to a `"` (or at the ends), so on character
        // boundaries.
        let (Some(before), Some(inside)) = (text.get(copied..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&replace_all(inside, &found));
        copied = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out.into_bytes()
}

/// The byte ranges of the contents of JSON string values (not keys) in a
/// valid JSON document.
fn string_spans(json: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < json.len() && json[j] != b'"' {
            j += if json[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(json.len());
        // A key is followed by a colon.
        let next = json[(end + 1).min(json.len())..]
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        if next != Some(&b':') {
            spans.push((start, end));
        }
        i = end + 1;
    }
    spans
}

fn replace_all(text: &str, patterns: &[&str]) -> String {
    let mut out = text.to_string();
    for p in patterns {
        if out.contains(p) {
            out = out.replace(p, "***");
        }
    }
    out
}

/// `text` with every known secret value replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Ok(known) = KNOWN.read() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), "***"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn answers_are_redacted_inside_strings_only() {
        let _s = Secret::new("Zq9-answer-secret");
        let _q = Secret::new("quo\"te\\d-secret");
        let body = br#"{"data":{"msg":"key Zq9-answer-secret refused","Zq9-answer-secret":1,
            "exec":"{\"f\":\"quo\\\"te\\\\d-secret\"}","n":12345}}"#;
        let out = String::from_utf8(redact_answer(body.to_vec())).unwrap();
        assert!(out.contains(r#""msg":"key *** refused""#), "{out}");
        assert!(
            out.contains(r#""Zq9-answer-secret":1"#),
            "keys are left: {out}"
        );
        assert!(!out.contains("te\\\\\\\\d-secret"), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        let exec: serde_json::Value =
            serde_json::from_str(v["data"]["exec"].as_str().unwrap()).unwrap();
        assert_eq!(exec["f"], "***");
        // Not JSON: redacted wherever it occurs.
        let html = b"<p>bad key Zq9-answer-secret</p>".to_vec();
        assert_eq!(redact_answer(html), b"<p>bad key ***</p>");
        // Nothing to do: the same bytes back.
        assert_eq!(redact_answer(b"{\"a\":1}".to_vec()), b"{\"a\":1}");
    }

    #[test]
    fn known_values_are_redacted_from_text() {
        let _s = Secret::new("k3y-to-hide");
        assert_eq!(
            redact("token k3y-to-hide is invalid"),
            "token *** is invalid"
        );
        assert_eq!(redact("nothing here"), "nothing here");
        let _short = Secret::new("ab");
        assert_eq!(redact("ab cab"), "ab cab", "too short to search for");
    }
}
