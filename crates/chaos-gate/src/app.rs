//! One gate from validated settings to exit code: the reporters the CI
//! host asks for, the platform the settings name, the deadline and the
//! signals that abort the gate, the warnings the exit policy owes, and
//! the report files, bounded so that none holds the exit.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::gate::{self, Abort, Plan};
use crate::http::Http;
use crate::output::{Stdout, eprint_line};
use crate::report::{Event, EventSink};
use crate::settings::{OnPlatformError, RawSettings, Settings};
use crate::signals::Signals;
use crate::verdict::{ExitPolicy, Outcome, Rules};

/// Runs the gate the settings describe and returns the exit code.
/// `env` reads the CI host's variables; `raw` carries the warnings found
/// while reading the settings.
pub async fn run(
    settings: &Settings,
    raw: &RawSettings,
    env: &dyn Fn(&str) -> Option<String>,
    stdout: Stdout,
) -> i32 {
    // Installed before anything is triggered, so no signal is lost.
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprint_line(&format!("error: cannot install signal handlers: {e}"));
            return 3;
        }
    };
    let mut reporters = crate::reporter::for_host(settings, env, &stdout);
    for w in &raw.warnings {
        reporters.emit(&Event::Warning { message: w });
    }
    let deadline = tokio::time::Instant::now() + settings.timeout;
    // When a signal arrived: the files must be written by 5 s after it.
    let signalled: Arc<Mutex<Option<Instant>>> = Arc::default();
    let signal_time = Arc::clone(&signalled);
    let abort = async move {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => Abort::Timeout,
            s = signals.first() => {
                if let Ok(mut at) = signal_time.lock() {
                    *at = Some(Instant::now());
                }
                Abort::Signal(s)
            }
        }
    };
    let plan = plan(settings);
    let platform = Http::for_endpoint(
        Some(&settings.endpoint),
        settings.ca_cert.as_deref(),
        deadline,
    )
    .map(|http| crate::platform::connect(settings, http));
    let report = match platform {
        Ok(platform) => {
            gate::run_all(&platform, &settings.mode, &plan, &mut reporters, abort).await
        }
        Err(e) => gate::failed_to_start(
            settings.platform.name(),
            &plan,
            settings.mode.notify_id(),
            &e.to_string(),
        ),
    };
    let policy = settings.exit_policy();
    let code = report.outcome.exit_code(policy);
    for message in policy_warnings(&report.outcome, policy) {
        reporters.emit(&Event::Warning { message });
    }
    // No output file may hold the exit (a FIFO nobody reads): the files
    // get BUDGET from now, or from the signal if one came.
    crate::report_file::limit_to(Instant::now() + crate::report_file::BUDGET);
    if let Some(at) = signalled.lock().ok().and_then(|g| *g) {
        crate::report_file::limit_to(at + crate::report_file::BUDGET);
    }
    for e in reporters.finish(&report) {
        eprint_line(&format!("error: {e}"));
    }
    code
}

/// What the gate is asked to do, from the settings.
fn plan(settings: &Settings) -> Plan {
    Plan {
        experiments: settings.experiments.clone(),
        rules: Rules {
            threshold: settings.expected_resilience_score,
            warning_score: settings.warning_score,
            max_score_drop: settings.max_score_drop,
            critical_faults: settings.critical_faults.clone(),
            require_probes: settings.require_probes,
        },
        baseline_runs: settings.baseline_runs,
        poll_interval: settings.poll_interval,
        timeout: settings.timeout,
        stop_on_abort: settings.stop_on_abort,
        endpoint: settings.endpoint.as_str().trim_end_matches('/').to_string(),
    }
}

/// The warnings an outcome owes when the exit policy softens it: a
/// failure `on_fail=warn` does not enforce, a platform error
/// `on_platform_error=warn` lets pass (unless the gate was cancelled).
pub fn policy_warnings(outcome: &Outcome, policy: ExitPolicy) -> Vec<&'static str> {
    let mut warnings = Vec::new();
    if outcome.failure_not_enforced(policy) {
        warnings.push(
            "on_fail=warn: the gate failed, but the failure is not enforced (report only); this job does not fail",
        );
    }
    if outcome.platform_error.is_some()
        && policy.on_platform_error == OnPlatformError::Warn
        && outcome.cancelled.is_none()
    {
        warnings.push("on_platform_error=warn: the platform error above does not fail this job");
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::OnFail;
    use crate::verdict::Signal;

    fn policy(on_fail: OnFail, on_platform_error: OnPlatformError) -> ExitPolicy {
        ExitPolicy {
            on_platform_error,
            on_fail,
            warn_exit_code: 0,
        }
    }

    #[test]
    fn no_warning_when_the_policy_enforces() {
        let failed = Outcome {
            failed: true,
            ..Outcome::default()
        };
        let strict = policy(OnFail::Fail, OnPlatformError::Fail);
        assert!(policy_warnings(&failed, strict).is_empty());
        assert!(policy_warnings(&Outcome::default(), strict).is_empty());
        let lenient = policy(OnFail::Warn, OnPlatformError::Warn);
        assert!(policy_warnings(&Outcome::default(), lenient).is_empty());
    }

    #[test]
    fn on_fail_warn_says_the_failure_is_not_enforced() {
        let failed = Outcome {
            failed: true,
            ..Outcome::default()
        };
        let w = policy_warnings(&failed, policy(OnFail::Warn, OnPlatformError::Fail));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("on_fail=warn:"), "{w:?}");
        // A timeout is not a failure that on_fail softens.
        let timed_out = Outcome {
            failed: true,
            timed_out: true,
            ..Outcome::default()
        };
        let w = policy_warnings(&timed_out, policy(OnFail::Warn, OnPlatformError::Fail));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn on_platform_error_warn_says_so_unless_cancelled() {
        let error = Outcome {
            platform_error: Some("down".to_string()),
            ..Outcome::default()
        };
        let warn = policy(OnFail::Fail, OnPlatformError::Warn);
        let w = policy_warnings(&error, warn);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("on_platform_error=warn:"), "{w:?}");
        let cancelled = Outcome {
            cancelled: Some(Signal::Term),
            ..error.clone()
        };
        assert!(policy_warnings(&cancelled, warn).is_empty());
        let strict = policy(OnFail::Fail, OnPlatformError::Fail);
        assert!(policy_warnings(&error, strict).is_empty());
    }
}
