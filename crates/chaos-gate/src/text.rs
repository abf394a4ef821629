//! Making text that came from a server safe to print.
//!
//! Platform text (phases, fault names, error messages) ends up in terminals,
//! CI logs that interpret `::commands::` at the start of a line, GitLab's
//! escape-coded sections and XML. A newline or an escape character in it
//! could start a workflow command or end a log section, so every piece of
//! it is passed through [`one_line`] before it is printed.

use std::borrow::Cow;
use std::fmt::Write;

/// The text on one line with control characters written as escapes
/// (`\n`, `\r`, `\t`, `\u{1b}`), so it can neither start a new line nor
/// drive the terminal, and with any secret value the process holds
/// replaced (a server may quote the key it refused).
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

/// At most `max` characters of `text` on one line, with an ellipsis when cut.
pub fn snippet(text: &str, max: usize) -> String {
    let line = one_line(text.trim());
    if line.chars().count() <= max {
        return line.into_owned();
    }
    let mut cut: String = line.chars().take(max).collect();
    cut.push('…');
    cut
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
        assert_eq!(snippet("abcdef", 3), "abc…");
        assert_eq!(snippet("  ab ", 3), "ab");
    }
}
