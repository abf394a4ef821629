//! The only way anything reaches stdout or stderr.
//!
//! Two promises are kept here, once, for every caller:
//!
//! - **Nothing printed can crash the gate or change its exit code.** A
//!   closed or broken stream (`| head -c1`, `>&-`, a runner that went away)
//!   makes `println!` panic (exit 101); these writers ignore every write
//!   error instead, so the gate still stops its runs, writes its report and
//!   exits with the code it owes (README "Failure behaviour"). Nothing else in the crate uses
//!   `println!`/`eprintln!`.
//! - **No line can become a CI command by accident.** [`Stdout::line`]
//!   writes exactly one line: control characters are written as escapes
//!   (a newline cannot start a second line, an escape character cannot open
//!   or close a GitLab section or move the cursor), and a line that GitHub's
//!   runner would read as a workflow command (it starts with `::` after
//!   leading blanks, or holds the older `##[` form) is neutralised. The few
//!   lines that are meant to be commands go through
//!   [`Stdout::workflow_command`] and the GitLab section methods, which
//!   escape the text they are given themselves.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::text::one_line;

/// A writer that swallows every error: for stdout and stderr, where a
/// failed write must not end the gate.
struct Quiet<W: Write>(W);

impl<W: Write> Quiet<W> {
    fn write_all(&mut self, bytes: &[u8]) {
        let _ = self.0.write_all(bytes);
        let _ = self.0.flush();
    }
}

/// The line as it may be printed: one line, no control characters, not a
/// workflow command.
pub fn safe_line(text: &str) -> String {
    let line = one_line(text);
    neutralise_commands(&line)
}

/// Breaks what GitHub's runner would read as a workflow command: a line
/// that starts with `::` once leading whitespace is trimmed, and the older
/// `##[command]` form anywhere. The first `:` becomes `%3A`, GitHub's own
/// escape for it, and `##[` becomes `#%23[`.
fn neutralise_commands(line: &str) -> String {
    let mut out = line.replace("##[", "#%23[");
    let body = out.trim_start();
    if body.starts_with("::") {
        let at = out.len() - body.len();
        out.replace_range(at..at + 1, "%3A");
    }
    out
}

/// Standard output: the console, GitHub's workflow commands and GitLab's
/// sections. Cloning shares the stream (and its lock).
#[derive(Clone)]
pub struct Stdout {
    sink: Arc<Mutex<Quiet<Box<dyn Write + Send>>>>,
}

impl Stdout {
    /// The process's stdout.
    pub fn process() -> Stdout {
        Stdout::to(Box::new(std::io::stdout()))
    }

    /// Any writer (tests).
    pub fn to(w: Box<dyn Write + Send>) -> Stdout {
        Stdout {
            sink: Arc::new(Mutex::new(Quiet(w))),
        }
    }

    fn write(&self, bytes: &[u8]) {
        let mut guard = match self.sink.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.write_all(bytes);
    }

    /// Prints `text` as one line that cannot be read as a command.
    pub fn line(&self, text: &str) {
        let mut line = safe_line(text);
        line.push('\n');
        self.write(line.as_bytes());
    }

    /// Prints `lines` as [`Stdout::line`] would, each made safe, in one
    /// write.
    pub fn block(&self, lines: &[String]) {
        let mut text = String::new();
        for l in lines {
            text.push_str(&safe_line(l));
            text.push('\n');
        }
        self.write(text.as_bytes());
    }

    /// Prints several lines of text (help): each line goes through
    /// [`Stdout::line`].
    pub fn lines(&self, text: &str) {
        for l in text.lines() {
            self.line(l);
        }
    }

    /// A GitHub workflow command `::name k=v,…::data`, with the properties
    /// and the data escaped as GitHub defines, so neither can end the
    /// command or start another.
    pub fn workflow_command(&self, name: &str, properties: &[(&str, &str)], data: &str) {
        let props: Vec<String> = properties
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v).replace("##[", "#%23[")))
            .collect();
        let sep = if props.is_empty() { "" } else { " " };
        let mut data = escape_data(data);
        // The older `##[` form is broken up too, except in a mask, whose
        // value must stay the secret itself.
        if name != "add-mask" {
            data = data.replace("##[", "#%23[");
        }
        let line = format!("::{name}{sep}{}::{data}\n", props.join(","));
        self.write(line.as_bytes());
    }

    /// GitLab's collapsible section start; `header` is escaped like any
    /// line.
    pub fn gitlab_section_start(&self, timestamp: u64, name: &str, header: &str) {
        let line = format!(
            "\x1b[0Ksection_start:{timestamp}:{name}[collapsed=true]\r\x1b[0K{}\n",
            safe_line(header)
        );
        self.write(line.as_bytes());
    }

    /// GitLab's section end.
    pub fn gitlab_section_end(&self, timestamp: u64, name: &str) {
        let line = format!("\x1b[0Ksection_end:{timestamp}:{name}\r\x1b[0K\n");
        self.write(line.as_bytes());
    }
}

/// Escapes workflow-command data: `%`, CR and LF (GitHub's rules).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property: data escapes plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Prints one line on stderr, as [`Stdout::line`] would on stdout; a
/// closed or broken stderr is ignored.
pub fn eprint_line(text: &str) {
    let mut line = safe_line(text);
    line.push('\n');
    Quiet(std::io::stderr().lock()).write_all(line.as_bytes());
}

/// The `tracing` subscriber's writer: stderr, ignoring write errors (a
/// closed stderr must not crash a log call). The subscriber writes each
/// event whole in one call, so each becomes one safe line, as
/// [`eprint_line`] writes it: a message that carries platform text cannot
/// start a workflow command on stderr either (GitHub reads both streams).
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let event = text.strip_suffix('\n').unwrap_or(&text);
        eprint_line(event);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct Broken(std::io::ErrorKind);
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(self.0.into())
        }
    }

    fn printed(f: impl FnOnce(&Stdout)) -> String {
        let buf = Buf::default();
        f(&Stdout::to(Box::new(buf.clone())));
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_line_that_starts_with_a_command_is_neutralised() {
        for (text, want) in [
            ("::error::boom", "%3A:error::boom\n"),
            ("   ::add-mask::x", "   %3A:add-mask::x\n"),
            ("\t::set-output name=a::b", "\\t::set-output name=a::b\n"),
            ("a ##[error]b", "a #%23[error]b\n"),
            ("x: phase ::warning::y", "x: phase ::warning::y\n"),
            ("a\n::error::b", "a\\n::error::b\n"),
            (
                "\u{1b}[0Ksection_end:1:x\r",
                "\\u{1b}[0Ksection_end:1:x\\r\n",
            ),
        ] {
            assert_eq!(printed(|o| o.line(text)), want, "{text:?}");
        }
    }

    #[test]
    fn every_printed_line_is_one_line_that_is_not_a_command() {
        let hostile = [
            "::error::x",
            "\n::warning::y",
            "  ::group::z",
            "\r\n::endgroup::",
        ];
        for h in hostile {
            let out = printed(|o| {
                o.line(h);
                o.lines(h);
                o.gitlab_section_start(1, "s", h);
            });
            for l in out.lines() {
                assert!(!l.trim_start().starts_with("::"), "{l:?} in {out:?}");
            }
        }
    }

    #[test]
    fn workflow_commands_escape_their_text() {
        let out = printed(|o| {
            o.workflow_command("error", &[("title", "a:b,c\n::x")], "m%\n::warning::y")
        });
        assert_eq!(
            out,
            "::error title=a%3Ab%2Cc%0A%3A%3Ax::m%25%0A::warning::y\n"
        );
        assert_eq!(
            printed(|o| o.workflow_command("endgroup", &[], "")),
            "::endgroup::\n"
        );
        assert_eq!(
            printed(|o| o.workflow_command("warning", &[("title", "##[x]")], "a ##[error]b")),
            "::warning title=#%23[x]::a #%23[error]b\n"
        );
        assert_eq!(
            printed(|o| o.workflow_command("add-mask", &[], "p##[w")),
            "::add-mask::p##[w\n"
        );
    }

    #[test]
    fn a_broken_stream_is_ignored() {
        for kind in [
            std::io::ErrorKind::BrokenPipe,
            std::io::ErrorKind::Other,
            std::io::ErrorKind::WouldBlock,
        ] {
            let out = Stdout::to(Box::new(Broken(kind)));
            out.line("still alive");
            out.workflow_command("error", &[], "x");
            out.gitlab_section_end(1, "s");
        }
    }
}
