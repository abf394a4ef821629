//! Judging phases and scores (README "Phases and verdicts") and turning what happened into an
//! exit code (README "Exit codes"). Pure functions: the gate feeds them, the reporters
//! read their results.

use std::fmt;

use crate::platform::execution_data::FaultOutcome;
use crate::platform::{Fault, Probe};
use crate::settings::{CriticalFaults, OnFail, OnPlatformError};

/// What a run phase means for the gate (the table in README "Phases and
/// verdicts"): the gate's typed run state. Each platform maps its own phase
/// words to it ([`crate::platform::RunStatus::class`]); the gate, the
/// verdict and the reports read only the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseClass {
    /// `Queued`, `Pending`, `Running`, `Blocked`, `NA`, empty, not listed.
    Going,
    /// `Completed`, `Completed_With_Probe_Failure`, `Succeeded`,
    /// `Completed_With_Probe_Absent`, `Passed`.
    ScoreDecides,
    /// `Completed_With_Error`, `Error`, `Failed`, `Stopped`, `Skipped`,
    /// `Timeout`, `Terminated`, `Interrupted`.
    Fails,
    /// Anything else: still going, with one warning naming it.
    Unknown,
}

/// The verdict on one experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    Pass,
    /// Below the threshold but within the warning band: the job passes.
    Warn,
    Fail,
    /// `require_probes` and no probe was evaluated: fails, but says why.
    Inconclusive,
    Timeout,
    Error,
    Cancelled,
}

impl RunVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Pass => "pass",
            RunVerdict::Warn => "warn",
            RunVerdict::Fail => "fail",
            RunVerdict::Inconclusive => "inconclusive",
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
    // Whole scores (most of them) need no decimals; `as` is exact below
    // 1e15, and -0 becomes 0.
    if score.fract() == 0.0 {
        return (score as i64).to_string();
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
    if text == "-0" { "0".to_string() } else { text }
}

/// How finished runs are judged (README "Phases and verdicts"), from the settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rules {
    pub threshold: f64,
    pub warning_score: Option<f64>,
    pub max_score_drop: f64,
    pub critical_faults: CriticalFaults,
    pub require_probes: bool,
}

/// What a run is judged on. `faults` is `None` until they are read (or when
/// they could not be): the rules that need them are then not applied.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The phase as the platform sent it (for messages) and its class.
    pub phase: &'a str,
    pub class: PhaseClass,
    pub score: Option<f64>,
    pub faults: Option<&'a [Fault]>,
    /// The platform's probe results, where it reports them.
    pub probes: Option<&'a [Probe]>,
    /// The median of the experiment's recent runs, when one was read.
    pub baseline: Option<f64>,
}

/// Judges a finished run by the first rule of README "Phases and verdicts" that applies. `phase`
/// must be of class `ScoreDecides` or `Fails`. The message names the
/// numbers compared.
pub fn judge(e: Evidence<'_>, rules: &Rules) -> (RunVerdict, String) {
    let class = e.class;
    // The phase comes from the platform: short, on one line.
    let phase = &crate::text::shown(e.phase);
    let t = fmt_score(rules.threshold);
    let shown = e.score.map(fmt_score).unwrap_or_else(|| "none".to_string());
    // Two decimals may show a score just below a bound as equal to it: say
    // so rather than contradict the verdict.
    let by = |bound: &str| {
        if shown == bound {
            " (by less than 0.01)"
        } else {
            ""
        }
    };
    // 1. A phase that fails whatever the score.
    if class != PhaseClass::ScoreDecides {
        return (
            RunVerdict::Fail,
            format!(
                "phase {phase} fails the gate whatever the score (resilience score {shown}, expected {t})"
            ),
        );
    }
    // 2. No score.
    let Some(score) = e.score else {
        return (
            RunVerdict::Fail,
            format!("phase {phase}, but the run reported no resilience score (expected {t})"),
        );
    };
    // 3. Probes required and none evaluated.
    if rules.require_probes {
        let absent = e.phase.eq_ignore_ascii_case("Completed_With_Probe_Absent");
        // The platform's probe results where it reports them; otherwise
        // the faults' probe success percentages.
        let none_evaluated = match e.probes {
            Some(probes) => !probes.iter().any(Probe::evaluated),
            None => e.faults.is_some_and(|faults| {
                !faults.iter().any(|f| {
                    f.probe_success_percentage
                        .as_deref()
                        .is_some_and(|p| !p.trim().is_empty())
                })
            }),
        };
        if absent || none_evaluated {
            return (
                RunVerdict::Inconclusive,
                format!(
                    "phase {phase}, resilience score {shown}, but no probe was evaluated in the run \
                     (require_probes){}: the score proves nothing",
                    match e.probes {
                        Some(p) if !absent => format!(
                            "; the platform reports {} probe result(s), none Passed or Failed",
                            p.len()
                        ),
                        _ => String::new(),
                    }
                ),
            );
        }
    }
    // 4. A critical fault that did not pass.
    if let Some(f) = e.faults.and_then(|faults| {
        faults.iter().find(|f| {
            rules.critical_faults.contains(&f.name) && f.outcome() != FaultOutcome::Passed
        })
    }) {
        return (
            RunVerdict::Fail,
            format!(
                "critical fault {} did not pass (verdict {}); resilience score {shown}, expected {t}",
                f.name,
                f.verdict.as_deref().unwrap_or("none")
            ),
        );
    }
    // 5. The threshold, and the warning band below it.
    if score < rules.threshold {
        return match rules.warning_score {
            Some(w) if score >= w => (
                RunVerdict::Warn,
                format!(
                    "phase {phase}, resilience score {shown} is below the expected {t} but at least the warning score {}",
                    fmt_score(w)
                ),
            ),
            Some(w) => {
                let w = fmt_score(w);
                (
                    RunVerdict::Fail,
                    format!(
                        "phase {phase}, resilience score {shown} is below the expected {t} and the warning score {w}{}",
                        by(&w)
                    ),
                )
            }
            None => (
                RunVerdict::Fail,
                format!(
                    "phase {phase}, resilience score {shown} is below the expected {t}{}",
                    by(&t)
                ),
            ),
        };
    }
    // 6. A regression against the experiment's own recent runs.
    if let Some(b) = e.baseline
        && score < b - rules.max_score_drop
    {
        return (
            RunVerdict::Fail,
            format!(
                "phase {phase}, resilience score {shown} meets the expected {t} but is more than \
                     {} points below the baseline {} (a regression)",
                fmt_score(rules.max_score_drop),
                fmt_score(b)
            ),
        );
    }
    // 7. Pass.
    let mut message = format!("phase {phase}, resilience score {shown} meets the expected {t}");
    if let Some(b) = e.baseline {
        message.push_str(&format!(
            " and is within {} points of the baseline {}",
            fmt_score(rules.max_score_drop),
            fmt_score(b)
        ));
    }
    (RunVerdict::Pass, message)
}

/// The baseline of an experiment from its recent runs (newest first):
/// the median score of the last `n` runs that finished with a phase that
/// lets the score decide and had a score, created before `before` (the
/// gate's start: never a run of this gate). `None` when there is none.
pub fn baseline(
    runs: &[crate::platform::PastRun],
    n: u32,
    before: std::time::SystemTime,
) -> Option<crate::report::Baseline> {
    let mut picked: Vec<&crate::platform::PastRun> = runs
        .iter()
        .filter(|r| r.class == PhaseClass::ScoreDecides && r.score.is_some())
        .filter(|r| r.created_at.is_none_or(|at| at < before))
        .take(usize::try_from(n).unwrap_or(usize::MAX))
        .collect();
    picked.reverse();
    let scores: Vec<f64> = picked.iter().filter_map(|r| r.score).collect();
    Some(crate::report::Baseline {
        score: median(&scores)?,
        run_ids: picked.iter().filter_map(|r| r.run_id.clone()).collect(),
        scores,
    })
}

/// The median of `scores` (the mean of the two middle ones for an even
/// count); `None` for none.
pub fn median(scores: &[f64]) -> Option<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
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
/// can hold at once; [`Outcome::exit_code`] applies the priority in README "Exit codes".
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
    /// At least one run was inconclusive.
    pub inconclusive: bool,
    /// At least one run warned.
    pub warned: bool,
}

/// How an outcome becomes an exit code: the settings that soften it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitPolicy {
    pub on_platform_error: OnPlatformError,
    pub on_fail: OnFail,
    pub warn_exit_code: u8,
}

impl Default for ExitPolicy {
    fn default() -> ExitPolicy {
        ExitPolicy {
            on_platform_error: OnPlatformError::Fail,
            on_fail: OnFail::Fail,
            warn_exit_code: 0,
        }
    }
}

impl Outcome {
    /// Records one run's verdict.
    pub fn count(&mut self, verdict: RunVerdict) {
        match verdict {
            RunVerdict::Fail => self.failed = true,
            RunVerdict::Inconclusive => self.inconclusive = true,
            RunVerdict::Warn => self.warned = true,
            _ => {}
        }
    }

    /// Whether some run failed or was inconclusive.
    pub fn failing(&self) -> bool {
        self.failed || self.inconclusive
    }

    /// README "Exit codes": 2, a signal's code, 3, 4, 1, the warning code, 0. A platform
    /// error with `on_platform_error=warn` and a failing gate with
    /// `on_fail=warn` end in the warning code, and what follows them in the
    /// order still counts.
    pub fn exit_code(&self, policy: ExitPolicy) -> i32 {
        let warn_platform =
            self.platform_error.is_some() && policy.on_platform_error == OnPlatformError::Warn;
        if self.invalid.is_some() {
            2
        } else if let Some(s) = self.cancelled {
            s.exit_code()
        } else if self.platform_error.is_some() && !warn_platform {
            3
        } else if self.timed_out {
            4
        } else if self.failing() && policy.on_fail == OnFail::Fail {
            1
        } else if self.warned || self.failing() || warn_platform {
            i32::from(policy.warn_exit_code)
        } else {
            0
        }
    }

    /// Whether the job's failure was softened to a warning by `on_fail=warn`.
    pub fn failure_not_enforced(&self, policy: ExitPolicy) -> bool {
        policy.on_fail == OnFail::Warn
            && self.exit_code(policy) == i32::from(policy.warn_exit_code)
            && self.failing()
    }

    /// The `verdict` output: `pass`, `warn`, `fail`, `inconclusive`,
    /// `error`, `timeout`, `cancelled`. It stays truthful with
    /// `on_fail=warn`.
    pub fn verdict(&self) -> &'static str {
        if self.cancelled.is_some() {
            "cancelled"
        } else if self.invalid.is_some() || self.platform_error.is_some() {
            "error"
        } else if self.timed_out {
            "timeout"
        } else if self.failed {
            "fail"
        } else if self.inconclusive {
            "inconclusive"
        } else if self.warned {
            "warn"
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
        let (v, m) = judge(ev("Completed", Some(79.999)), &rules(80.0));
        assert_eq!(v, RunVerdict::Fail);
        assert!(m.contains("79.99 is below the expected 80"), "{m}");
        let (_, m) = judge(ev("Completed", Some(79.991)), &rules(79.995));
        assert!(m.contains("(by less than 0.01)"), "{m}");
    }

    #[test]
    fn a_huge_phase_is_cut_in_the_verdict_message() {
        let phase = "X".repeat(1_000_000);
        let (_, m) = judge(ev(&phase, Some(50.0)), &rules(80.0));
        assert!(m.len() < 400, "{}", m.len());
        assert!(m.contains("1000000 characters in all"), "{m}");
    }

    fn rules(threshold: f64) -> Rules {
        Rules {
            threshold,
            max_score_drop: 10.0,
            ..Rules::default()
        }
    }

    fn ev(phase: &str, score: Option<f64>) -> Evidence<'_> {
        Evidence {
            phase,
            class: crate::platform::chaoscenter_phase(phase),
            score,
            faults: None,
            probes: None,
            baseline: None,
        }
    }

    fn fault(name: &str, verdict: &str, probe: Option<&str>) -> Fault {
        Fault {
            name: name.into(),
            verdict: Some(verdict.into()),
            probe_success_percentage: probe.map(String::from),
            ..Fault::default()
        }
    }

    #[test]
    fn score_decides_inclusively() {
        assert_eq!(
            judge(ev("Completed", Some(80.0)), &rules(80.0)).0,
            RunVerdict::Pass
        );
        assert_eq!(
            judge(ev("Completed", Some(79.99)), &rules(80.0)).0,
            RunVerdict::Fail
        );
        assert_eq!(
            judge(ev("Completed", None), &rules(0.0)).0,
            RunVerdict::Fail
        );
        assert_eq!(
            judge(ev("Error", Some(100.0)), &rules(0.0)).0,
            RunVerdict::Fail
        );
        assert!(
            judge(ev("Completed", None), &rules(50.0))
                .1
                .contains("no resilience score")
        );
    }

    #[test]
    fn the_rules_apply_in_order_with_their_ties() {
        let mut r = rules(80.0);
        r.warning_score = Some(60.0);
        assert_eq!(
            judge(ev("Completed", Some(60.0)), &r).0,
            RunVerdict::Warn,
            "equal to the warning score"
        );
        assert_eq!(judge(ev("Completed", Some(59.99)), &r).0, RunVerdict::Fail);
        let with_baseline = |score, b| Evidence {
            baseline: Some(b),
            ..ev("Completed", Some(score))
        };
        assert_eq!(
            judge(with_baseline(85.0, 95.0), &r).0,
            RunVerdict::Pass,
            "baseline minus the drop"
        );
        assert_eq!(
            judge(with_baseline(84.9, 95.0), &r).0,
            RunVerdict::Fail,
            "a regression"
        );
        assert!(
            judge(with_baseline(84.9, 95.0), &r)
                .1
                .contains("baseline 95")
        );
        // A warning comes before a regression (rule 5 before 6).
        assert_eq!(judge(with_baseline(70.0, 100.0), &r).0, RunVerdict::Warn);
        // Critical faults (rule 4) come before the score.
        r.critical_faults = CriticalFaults::Named(vec!["pod-delete".into()]);
        let faults = [
            fault("pod-delete", "Fail", Some("0")),
            fault("net", "Pass", Some("100")),
        ];
        let e = Evidence {
            faults: Some(&faults),
            ..ev("Completed", Some(100.0))
        };
        let (v, m) = judge(e, &r);
        assert_eq!(v, RunVerdict::Fail);
        assert!(m.contains("critical fault pod-delete"), "{m}");
        // Probes required (rule 3) before critical faults.
        r.require_probes = true;
        let none = [fault("pod-delete", "Fail", None)];
        let e = Evidence {
            faults: Some(&none),
            ..ev("Completed", Some(100.0))
        };
        assert_eq!(judge(e, &r).0, RunVerdict::Inconclusive);
        // The platform's probe results, where it reports them, decide.
        let probe = |verdict: &str| Probe {
            name: "http-ok".into(),
            fault: "pod-delete".into(),
            verdict: Some(verdict.into()),
            ..Probe::default()
        };
        let unevaluated = [probe("N/A"), probe("Awaited")];
        let e = Evidence {
            probes: Some(&unevaluated),
            faults: Some(&faults),
            ..ev("Completed", Some(100.0))
        };
        assert_eq!(judge(e, &r).0, RunVerdict::Inconclusive);
        let evaluated = [probe("N/A"), probe("Failed")];
        let e = Evidence {
            probes: Some(&evaluated),
            faults: Some(&none),
            ..ev("Completed", Some(100.0))
        };
        assert_ne!(judge(e, &r).0, RunVerdict::Inconclusive);
        assert_eq!(
            judge(ev("Completed_With_Probe_Absent", Some(100.0)), &r).0,
            RunVerdict::Inconclusive
        );
        // A failing phase (rule 1) before everything.
        assert_eq!(judge(ev("Error", Some(100.0)), &r).0, RunVerdict::Fail);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[90.0]), Some(90.0));
        assert_eq!(median(&[100.0, 80.0, 90.0]), Some(90.0));
        assert_eq!(median(&[100.0, 80.0]), Some(90.0));
    }

    #[test]
    fn exit_code_priority() {
        let warn = ExitPolicy {
            on_platform_error: OnPlatformError::Warn,
            ..ExitPolicy::default()
        };
        let fail = ExitPolicy::default();
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
    fn warnings_and_report_only() {
        let code = |o: &Outcome, on_fail, warn_exit_code| {
            o.exit_code(ExitPolicy {
                on_fail,
                warn_exit_code,
                ..ExitPolicy::default()
            })
        };
        let warned = Outcome {
            warned: true,
            ..Outcome::default()
        };
        assert_eq!(code(&warned, OnFail::Fail, 0), 0);
        assert_eq!(code(&warned, OnFail::Fail, 78), 78);
        assert_eq!(warned.verdict(), "warn");
        let failed = Outcome {
            failed: true,
            warned: true,
            ..Outcome::default()
        };
        assert_eq!(code(&failed, OnFail::Fail, 78), 1);
        assert_eq!(code(&failed, OnFail::Warn, 78), 78);
        assert_eq!(
            failed.verdict(),
            "fail",
            "stays truthful under on_fail=warn"
        );
        let inconclusive = Outcome {
            inconclusive: true,
            ..Outcome::default()
        };
        assert_eq!(inconclusive.verdict(), "inconclusive");
        assert_eq!(code(&inconclusive, OnFail::Fail, 0), 1);
        // A timeout outranks on_fail=warn.
        let timed = Outcome {
            failed: true,
            timed_out: true,
            ..Outcome::default()
        };
        assert_eq!(code(&timed, OnFail::Warn, 78), 4);
        // A platform error with on_platform_error=warn ends in the warning code.
        let p = Outcome {
            platform_error: Some("x".into()),
            ..Outcome::default()
        };
        assert_eq!(
            p.exit_code(ExitPolicy {
                on_platform_error: OnPlatformError::Warn,
                on_fail: OnFail::Fail,
                warn_exit_code: 78
            }),
            78
        );
    }

    #[test]
    fn scores_print_short() {
        assert_eq!(fmt_score(100.0), "100");
        assert_eq!(fmt_score(85.5), "85.5");
        assert_eq!(fmt_score(0.0), "0");
        assert_eq!(fmt_score(79.999), "79.99", "cut, never rounded up to 80");
    }
}
