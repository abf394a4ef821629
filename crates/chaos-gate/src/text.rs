//! Making text that came from a server safe and readable where it is shown.
//!
//! Platform text (names, IDs, phases, fault names, error messages) ends up
//! in terminals, CI logs that interpret `::commands::` at the start of a
//! line, GitLab's escape-coded sections, Markdown, dotenv files and XML, and
//! a hostile or broken server can send any of it megabytes long. Two cuts
//! exist, each applied in one place:
//!
//! - [`shown`]: for people (console, JSON log, annotations, step summary):
//!   one line, control characters escaped, at most [`SHOWN_MAX`] characters
//!   with an ellipsis and the original length when cut.
//! - [`bounded`]: for files that keep detail (the JUnit body, `results`):
//!   the same, up to [`BOUNDED_MAX`] characters.
//!
//! Every line printed also passes `output::Stdout::line`, which escapes
//! control characters and neutralises workflow commands whatever its
//! caller did.

use std::borrow::Cow;
use std::fmt::Write;

/// Longest platform text shown to people, in characters.
pub const SHOWN_MAX: usize = 200;

/// Longest message shown to people, in characters: messages are composed
/// by the gate around platform text that is already cut to [`SHOWN_MAX`].
pub const MESSAGE_MAX: usize = 600;

/// Longest platform text kept in report files, in characters.
pub const BOUNDED_MAX: usize = 4096;

/// The text on one line with control characters written as escapes
/// (`\n`, `\r`, `\t`, `\u{1b}`), so it can neither start a new line nor
/// drive the terminal, and with any secret value the process holds
/// replaced (a second net: answers are already redacted as they are read).
pub fn one_line(text: &str) -> Cow<'_, str> {
    let text = crate::secret::redact(text);
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` cut to at most `max` characters (before escaping), with an
/// ellipsis and the original length when cut; not escaped.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((at, _)) => {
            let total = text.chars().count();
            Cow::Owned(format!("{}… ({total} characters in all)", &text[..at]))
        }
    }
}

/// Platform text as people see it: cut to [`SHOWN_MAX`] characters, on
/// one line, control characters escaped.
pub fn shown(text: &str) -> String {
    one_line(&cut(text, SHOWN_MAX)).into_owned()
}

/// A message that carries platform text, as people see it: cut to
/// [`MESSAGE_MAX`] characters, on one line.
pub fn shown_message(text: &str) -> String {
    one_line(&cut(text, MESSAGE_MAX)).into_owned()
}

/// Platform text as report files keep it: cut to [`BOUNDED_MAX`]
/// characters; line breaks kept (XML escapes what it must).
pub fn bounded(text: &str) -> String {
    crate::secret::redact(&cut(text, BOUNDED_MAX)).into_owned()
}

/// At most `max` characters of `text` (trimmed) on one line, with an
/// ellipsis and the original length when cut.
pub fn snippet(text: &str, max: usize) -> String {
    one_line(&cut(text.trim(), max)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_break_the_line() {
        assert_eq!(one_line("a\n::warning::x"), "a\\n::warning::x");
        assert_eq!(one_line("\u{1b}[0Ksection_end"), "\\u{1b}[0Ksection_end");
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn snippet_cuts_long_text() {
        assert_eq!(snippet("abcdef", 3), "abc… (6 characters in all)");
        assert_eq!(snippet("  ab ", 3), "ab");
    }

    #[test]
    fn shown_text_is_short_and_says_how_long_it_was() {
        let long = "P".repeat(2 * 1024 * 1024);
        let s = shown(&long);
        assert!(s.chars().count() < SHOWN_MAX + 40, "{}", s.len());
        assert!(s.starts_with(&"P".repeat(SHOWN_MAX)));
        assert!(s.ends_with("… (2097152 characters in all)"), "{s}");
        assert_eq!(shown("Completed"), "Completed");
        assert_eq!(shown(&"é".repeat(SHOWN_MAX)), "é".repeat(SHOWN_MAX));
        // Multi-byte characters are cut on a character boundary.
        assert!(shown(&"é".repeat(SHOWN_MAX + 1)).starts_with(&"é".repeat(SHOWN_MAX)));
        // Cut first, then escaped: the escapes cannot be cut in half.
        assert!(shown(&"\n".repeat(1000)).ends_with("\\n… (1000 characters in all)"));
    }

    #[test]
    fn bounded_text_keeps_more_but_not_everything() {
        let long = "x\n".repeat(10_000);
        let b = bounded(&long);
        assert!(b.chars().count() < BOUNDED_MAX + 40);
        assert!(b.contains('\n'));
        assert_eq!(bounded("short"), "short");
    }
}
