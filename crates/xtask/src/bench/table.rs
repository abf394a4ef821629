//! The bench's result table: one row per figure, with the target next to
//! what was measured, printed on the console and written as Markdown.

use std::fmt::Write as _;

/// Whether a figure meets its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    NotMet,
    /// Reported for comparison; the issue sets no threshold.
    Info,
}

impl Verdict {
    pub fn from_ok(ok: bool) -> Verdict {
        if ok { Verdict::Ok } else { Verdict::NotMet }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NotMet => "NOT MET",
            Verdict::Info => "",
        }
    }
}

pub struct Row {
    pub figure: String,
    pub measured: String,
    pub target: String,
    pub verdict: Verdict,
}

#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    /// Adds a row checked against a target.
    pub fn check(&mut self, figure: &str, measured: String, target: &str, ok: bool) {
        self.push(figure, measured, target, Verdict::from_ok(ok));
    }

    /// Adds a row reported without a target.
    pub fn info(&mut self, figure: &str, measured: String) {
        self.push(figure, measured, "(reported)", Verdict::Info);
    }

    fn push(&mut self, figure: &str, measured: String, target: &str, verdict: Verdict) {
        let row = Row {
            figure: figure.to_string(),
            measured,
            target: target.to_string(),
            verdict,
        };
        match row.verdict {
            Verdict::Info => println!("    {:<8} {}: {}", "", row.figure, row.measured),
            v => println!(
                "    {:<8} {}: {} (target {})",
                v.label(),
                row.figure,
                row.measured,
                row.target
            ),
        }
        self.rows.push(row);
    }

    /// The figures that missed their target.
    pub fn not_met(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::NotMet)
            .map(|r| r.figure.as_str())
            .collect()
    }

    /// The table in fixed-width columns for a terminal.
    pub fn console(&self) -> String {
        let header = ["figure", "measured", "target", ""];
        let cells: Vec<[&str; 4]> = self
            .rows
            .iter()
            .map(|r| [&*r.figure, &*r.measured, &*r.target, r.verdict.label()])
            .collect();
        let mut width = header.map(str::len);
        for row in &cells {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |row: &[&str; 4]| {
            let mut s = String::new();
            for (i, (c, w)) in row.iter().zip(width).enumerate() {
                let sep = if i == 0 { "" } else { " | " };
                let _ = write!(s, "{sep}{c:<w$}");
            }
            s.trim_end().to_string()
        };
        let mut out = line(&header);
        out.push('\n');
        out.push_str(&"-".repeat(width.iter().sum::<usize>() + 9));
        for row in &cells {
            out.push('\n');
            out.push_str(&line(row));
        }
        out
    }

    /// The table in Markdown, for bench/README.md and the main README.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| figure | measured | target | |\n|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.figure,
                r.measured,
                r.target,
                r.verdict.label()
            );
        }
        out
    }
}
