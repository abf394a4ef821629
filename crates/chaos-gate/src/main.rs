//! The `chaos-gate` binary: reads the settings, wires the platform client,
//! the gate and the reporters together, and turns the outcome into the exit
//! code. Everything with logic in it lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chaos_gate::gate::{self, Abort, Plan};
use chaos_gate::http::Http;
use chaos_gate::output::{Stdout, eprint_line};
use chaos_gate::platform::harness::Harness;
use chaos_gate::platform::litmus::Litmus;
use chaos_gate::report::{Event, EventSink};
use chaos_gate::report_file;
use chaos_gate::reporter::{Reporters, console::Console, drone, github, gitlab, junit::Junit};
use chaos_gate::settings::{self, OnPlatformError, PlatformKind, RawSettings, Settings};
use chaos_gate::signals::Signals;

// Nothing here prints with `println!`/`eprintln!`: they panic on a closed
// or broken stream (exit 101). Everything goes through `output`, which
// ignores write errors (spec §7).
fn main() -> ExitCode {
    let stdout = Stdout::process();
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        None => {}
        Some(arg) => match arg.to_str() {
            Some("--help" | "-h" | "help") => {
                stdout.lines(&settings::help_text());
                return ExitCode::SUCCESS;
            }
            Some("--version" | "-V") => {
                stdout.line(&format!("chaos-gate {}", env!("CARGO_PKG_VERSION")));
                return ExitCode::SUCCESS;
            }
            _ => {
                eprint_line(&format!(
                    "error: chaos-gate takes no arguments (got {arg:?}); its settings come from \
                     the environment. Run `chaos-gate --help` to list them."
                ));
                return ExitCode::from(2);
            }
        },
    }

    let env = |name: &str| std::env::var(name).ok();
    let (raw, settings) = Settings::from_env();
    let on_github = github::detected(&env);
    if on_github {
        // Before anything else is printed: the runner masks from here on.
        for secret in raw.secret_values() {
            for value in github::mask_values(secret) {
                stdout.workflow_command("add-mask", &[], &value);
            }
        }
    }
    let settings = match settings {
        Ok(s) => s,
        Err(errors) => {
            for w in &raw.warnings {
                eprint_line(&format!("warning: {w}"));
            }
            let text = errors.to_string();
            for (i, line) in text.lines().enumerate() {
                let prefix = if i == 0 { "error: " } else { "" };
                eprint_line(&format!("{prefix}{line}"));
            }
            if on_github {
                stdout.workflow_command("error", &[("title", "chaos-gate settings")], &text);
            }
            return ExitCode::from(2);
        }
    };
    chaos_gate::logging::init(settings.log_format);

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprint_line(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(run(&settings, &raw, on_github, &env, stdout));
    // Whatever is still blocked (a DNS look-up) must not hold the exit.
    runtime.shutdown_background();
    ExitCode::from(u8::try_from(code).unwrap_or(3))
}

/// Builds the reporters the environment asks for, in printing order.
fn reporters(
    settings: &Settings,
    on_github: bool,
    env: &dyn Fn(&str) -> Option<String>,
    stdout: &Stdout,
) -> Reporters {
    let mut r = Reporters::default();
    r.push(Junit::new(settings.junit_path.clone()));
    if on_github {
        r.push(github::GitHub::new(
            stdout.clone(),
            env("GITHUB_OUTPUT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            env("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            settings.exit_policy(),
            settings.junit_path.clone(),
        ));
    }
    if gitlab::detected(env) {
        r.push(gitlab::GitLab::new(
            stdout.clone(),
            PathBuf::from(gitlab::DOTENV_FILE),
        ));
    }
    let drone_files = drone::output_files(env);
    if !drone_files.is_empty() {
        r.push(drone::Drone::new(drone_files));
    }
    r.push(Console::new(
        stdout.clone(),
        settings.log_format,
        settings.junit_path.clone(),
    ));
    r
}

async fn run(
    settings: &Settings,
    raw: &RawSettings,
    on_github: bool,
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
    let mut reporters = reporters(settings, on_github, env, &stdout);
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
    let plan = Plan {
        experiments: settings.experiments.clone(),
        attach: settings.notify_id.clone(),
        rules: chaos_gate::verdict::Rules {
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
    };
    let http = Http::for_endpoint(
        Some(&settings.endpoint),
        settings.ca_cert.as_deref(),
        deadline,
    );
    let report = match http {
        Ok(http) => run_gate(settings, http, &plan, &mut reporters, abort).await,
        Err(e) => gate::failed_to_start(settings.platform.name(), &plan, &e.to_string()),
    };
    let policy = settings.exit_policy();
    let code = report.outcome.exit_code(policy);
    if report.outcome.failure_not_enforced(policy) {
        reporters.emit(&Event::Warning {
            message: "on_fail=warn: the gate failed, but the failure is not enforced (report only); this job does not fail",
        });
    }
    if report.outcome.platform_error.is_some()
        && settings.on_platform_error == OnPlatformError::Warn
        && report.outcome.cancelled.is_none()
    {
        reporters.emit(&Event::Warning {
            message: "on_platform_error=warn: the platform error above does not fail this job",
        });
    }
    // No output file may hold the exit (a FIFO nobody reads): the files
    // get BUDGET from now, or from the signal if one came.
    report_file::limit_to(Instant::now() + report_file::BUDGET);
    if let Some(at) = signalled.lock().ok().and_then(|g| *g) {
        report_file::limit_to(at + report_file::BUDGET);
    }
    for e in reporters.finish(&report) {
        eprint_line(&format!("error: {e}"));
    }
    code
}

/// The experiment file to create or update first (spec §9), if any.
fn file(settings: &Settings) -> Option<gate::ExperimentFile<'_>> {
    Some(gate::ExperimentFile {
        manifest: settings.manifest.as_ref()?,
        infra_id: settings.infra_id.as_deref()?,
    })
}

/// Builds the platform client and runs the gate (or the dry run) on it.
async fn run_gate(
    settings: &Settings,
    http: Http,
    plan: &Plan,
    reporters: &mut Reporters,
    abort: impl Future<Output = Abort> + Send,
) -> chaos_gate::report::GateReport {
    match settings.platform {
        PlatformKind::Harness => {
            let harness = Harness::new(
                http,
                settings.endpoint.clone(),
                settings
                    .api_key
                    .clone()
                    .unwrap_or_else(|| chaos_gate::secret::Secret::new("")),
                settings.account_id.clone(),
                settings.org_id.clone(),
                settings.project_id.clone(),
            )
            .with_inputs(settings.runtime_inputs.clone(), settings.input_set.clone());
            gate::run_all(
                &harness,
                plan,
                file(settings),
                settings.dry_run,
                reporters,
                abort,
            )
            .await
        }
        PlatformKind::Litmus => {
            // Settings validation makes sure there is one.
            let Some(auth) = settings.litmus_auth.clone() else {
                return gate::failed_to_start(
                    "litmus",
                    plan,
                    "platform litmus needs token, or username and password",
                );
            };
            let litmus = Litmus::new(http, &settings.endpoint, auth, settings.project_id.clone());
            gate::run_all(
                &litmus,
                plan,
                file(settings),
                settings.dry_run,
                reporters,
                abort,
            )
            .await
        }
    }
}
