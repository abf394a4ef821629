//! Judging phases and scores (spec §4) and turning what happened into an
//! exit code (spec §5). Pure functions: the gate feeds them, the reporters
//! read their results.

use std::fmt;

use crate::settings::OnPlatformError;

/// What a run phase means for the gate (§4's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseClass {
    /// `Queued`, `Pending`, `Running`, `Blocked`, `NA`, empty, not listed.
    Going,
    /// `Completed`, `Completed_With_Probe_Failure`, `Succeeded`.
    ScoreDecides,
    /// `Completed_With_Error`, `Error`, `Failed`, `Stopped`, `Skipped`,
    /// `Timeout`, `Terminated`.
    Fails,
    /// Anything else: still going, with one warning naming it.
    Unknown,
}

/// Classifies a phase string. Matching ignores case: servers have been seen
/// to upper-case phases, and `COMPLETED` meaning anything but `Completed`
/// would surprise everyone.
pub fn classify(phase: &str) -> PhaseClass {
    let p = phase.trim().to_ascii_lowercase();
    match p.as_str() {
        "" | "queued" | "pending" | "running" | "blocked" | "na" => PhaseClass::Going,
        "completed" | "completed_with_probe_failure" | "succeeded" => PhaseClass::ScoreDecides,
        "completed_with_error"
        | "error"
        | "failed"
        | "stopped"
        | "skipped"
        | "timeout"
        | "terminated" => PhaseClass::Fails,
        _ => PhaseClass::Unknown,
    }
}

/// The verdict on one experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    Pass,
    Fail,
    Timeout,
    Error,
    Cancelled,
}

impl RunVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Pass => "pass",
            RunVerdict::Fail => "fail",
            RunVerdict::Timeout => "timeout",
            RunVerdict::Error => "error",
            RunVerdict::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for RunVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A score for people, the one place scores are formatted: `85`, `85.5`,
/// `0.25`. At most two decimals, cut rather than rounded so that 79.999 is
/// never shown as 80 next to a threshold of 80; never `-0`, and never the
/// 300-digit expansion of a tiny or huge float a server may send.
pub fn fmt_score(score: f64) -> String {
    if !score.is_finite() || score.abs() >= 1e15 {
        return format!("{score:e}");
    }
    // Six decimals first, so that float noise (0.29 is 0.28999…) does not
    // lose a hundredth when the rest is cut.
    let six = format!("{score:.6}");
    let Some((int, frac)) = six.split_once('.') else {
        return six;
    };
    let frac = frac.get(..2).unwrap_or(frac).trim_end_matches('0');
    let text = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

/// Judges a finished run. `phase` must be of class `ScoreDecides` or `Fails`.
pub fn judge(phase: &str, score: Option<f64>, threshold: f64) -> (RunVerdict, String) {
    let t = fmt_score(threshold);
    // The phase comes from the platform: short, on one line.
    let class = classify(phase);
    let phase = &crate::text::shown(phase);
    let shown = score.map(fmt_score).unwrap_or_else(|| "none".to_string());
    match (class, score) {
        (PhaseClass::ScoreDecides, Some(s)) if s >= threshold => (
            RunVerdict::Pass,
            format!("phase {phase}, resilience score {shown} meets the expected {t}"),
        ),
        (PhaseClass::ScoreDecides, Some(_)) => {
            // Two decimals may show a score just below the threshold as
            // equal to it: say so rather than contradict the verdict.
            let by = if shown == t { " (by less than 0.01)" } else { "" };
            (
                RunVerdict::Fail,
                format!("phase {phase}, resilience score {shown} is below the expected {t}{by}"),
            )
        }
        (PhaseClass::ScoreDecides, None) => (
            RunVerdict::Fail,
            format!("phase {phase}, but the run reported no resilience score (expected {t})"),
        ),
        _ => (
            RunVerdict::Fail,
            format!("phase {phase} fails the gate whatever the score (resilience score {shown}, expected {t})"),
        ),
    }
}

/// The signals that cancel a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hup,
    Int,
    Term,
}

impl Signal {
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Hup => 129,
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "SIGHUP",
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// Everything that happened in one gate that bears on the exit code. Several
/// can hold at once; [`Outcome::exit_code`] applies §5's priority.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// A check found settings that cannot work (a dry run's missing
    /// experiment): exit 2.
    pub invalid: Option<String>,
    pub cancelled: Option<Signal>,
    pub platform_error: Option<String>,
    pub timed_out: bool,
    /// At least one run failed its verdict.
    pub failed: bool,
}

impl Outcome {
    /// §5: 2, a signal's code, 3, 4, 1, 0; 3 becomes 0 with
    /// `on_platform_error=warn`, and what follows it in the order still
    /// counts (a failed verdict still exits 1).
    pub fn exit_code(&self, on_platform_error: OnPlatformError) -> i32 {
        if self.invalid.is_some() {
            2
        } else if let Some(s) = self.cancelled {
            s.exit_code()
        } else if self.platform_error.is_some() && on_platform_error == OnPlatformError::Fail {
            3
        } else if self.timed_out {
            4
        } else if self.failed {
            1
        } else {
            0
        }
    }

    /// The `verdict` output: `pass`, `fail`, `error`, `timeout`, `cancelled`.
    pub fn verdict(&self) -> &'static str {
        if self.cancelled.is_some() {
            "cancelled"
        } else if self.invalid.is_some() || self.platform_error.is_some() {
            "error"
        } else if self.timed_out {
            "timeout"
        } else if self.failed {
            "fail"
        } else {
            "pass"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_have_at_most_two_decimals_and_no_negative_zero() {
        for (score, want) in [
            (100.0, "100"),
            (85.5, "85.5"),
            (0.25, "0.25"),
            (0.29, "0.29"),
            (79.999, "79.99"),
            (66.666_666, "66.66"),
            (-0.0, "0"),
            (1e-320, "0"),
            (5e-324, "0"),
            (-1e-9, "0"),
            (0.0, "0"),
            (1e300, "1e300"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(fmt_score(score), want, "{score:?}");
        }
    }

    #[test]
    fn a_score_just_below_the_threshold_is_not_shown_as_meeting_it() {
        let (v, m) = judge("Completed", Some(79.999), 80.0);
        assert_eq!(v, RunVerdict::Fail);
        assert!(m.contains("79.99 is below the expected 80"), "{m}");
        let (_, m) = judge("Completed", Some(79.991), 79.995);
        assert!(m.contains("(by less than 0.01)"), "{m}");
    }

    #[test]
    fn a_huge_phase_is_cut_in_the_verdict_message() {
        let phase = "X".repeat(1_000_000);
        let (_, m) = judge(&phase, Some(50.0), 80.0);
        assert!(m.len() < 400, "{}", m.len());
        assert!(m.contains("1000000 characters in all"), "{m}");
    }

    #[test]
    fn phases_follow_the_table() {
        for p in ["Queued", "Pending", "Running", "Blocked", "NA", ""] {
            assert_eq!(classify(p), PhaseClass::Going, "{p}");
        }
        for p in [
            "Completed",
            "Completed_With_Probe_Failure",
            "Succeeded",
            "COMPLETED",
        ] {
            assert_eq!(classify(p), PhaseClass::ScoreDecides, "{p}");
        }
        for p in [
            "Completed_With_Error",
            "Error",
            "Failed",
            "Stopped",
            "Skipped",
            "Timeout",
            "Terminated",
        ] {
            assert_eq!(classify(p), PhaseClass::Fails, "{p}");
        }
        assert_eq!(classify("Paused"), PhaseClass::Unknown);
    }

    #[test]
    fn score_decides_inclusively() {
        assert_eq!(judge("Completed", Some(80.0), 80.0).0, RunVerdict::Pass);
        assert_eq!(judge("Completed", Some(79.99), 80.0).0, RunVerdict::Fail);
        assert_eq!(judge("Completed", None, 0.0).0, RunVerdict::Fail);
        assert_eq!(judge("Error", Some(100.0), 0.0).0, RunVerdict::Fail);
        assert!(judge("Completed", None, 50.0)
            .1
            .contains("no resilience score"));
    }

    #[test]
    fn exit_code_priority() {
        let warn = OnPlatformError::Warn;
        let fail = OnPlatformError::Fail;
        let mut o = Outcome {
            failed: true,
            timed_out: true,
            ..Outcome::default()
        };
        assert_eq!(o.exit_code(fail), 4);
        o.platform_error = Some("x".into());
        assert_eq!(o.exit_code(fail), 3);
        assert_eq!(o.exit_code(warn), 4);
        o.cancelled = Some(Signal::Term);
        assert_eq!(o.exit_code(fail), 143);
        o.invalid = Some("x".into());
        assert_eq!(o.exit_code(fail), 2);
        let only_error = Outcome {
            platform_error: Some("x".into()),
            ..Outcome::default()
        };
        assert_eq!(only_error.exit_code(warn), 0);
        assert_eq!(only_error.verdict(), "error");
        assert_eq!(Outcome::default().exit_code(fail), 0);
    }

    #[test]
    fn scores_print_short() {
        assert_eq!(fmt_score(100.0), "100");
        assert_eq!(fmt_score(85.5), "85.5");
        assert_eq!(fmt_score(0.0), "0");
        assert_eq!(fmt_score(79.999), "79.99", "cut, never rounded up to 80");
    }
}
