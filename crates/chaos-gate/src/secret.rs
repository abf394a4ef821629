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
        if value.len() >= MIN_REDACTED_LEN {
            if let Ok(mut known) = KNOWN.write() {
                if !known.contains(&value) {
                    known.push(value.clone());
                }
            }
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
