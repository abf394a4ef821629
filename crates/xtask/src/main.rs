//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `demo`: builds chaos-gate and the simulator, starts the simulator on
//!   loopback with its demo scenario, and runs the gate twice: on an
//!   experiment that passes and on one that fails. Shows the console output,
//!   where the JUnit reports are, and the two exit codes.
//! - `bench [--quick] [--host] [--gate PATH] [--only SECTION,...] [--sizes
//!   N,...]`: measures what the gate costs a pipeline (bytes per poll,
//!   requests per poll, decision latency, memory, start-up, CPU, size)
//!   against the simulator and against a curl + jq baseline, and prints each
//!   figure next to its target. See bench/README.md.
//! - `settings [--write | --check]`: writes (or checks) the settings in the
//!   host files and the README from the gate's SETTINGS table.
//!
//! Nearly plain `std`: a newcomer's first command should not wait on
//! dependencies. The crates used (libc, serde_json, lexopt) are small and
//! build in seconds; Cargo.toml says what each is for.

mod bench;
mod settings;
mod sim;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sim::Sim;

const TASKS: &str = "Tasks:
  demo [--litmus]        run the gate end to end against the simulator
                         (Harness; --litmus: LitmusChaos ChaosCenter)
  bench [--quick] [--host] [--gate PATH] [--only SECTION,...] [--sizes N,...]
                         measure what the gate costs (bench/README.md);
                         --quick: small sizes, fails only if the bench breaks;
                         --host: measure the host build, not the static one;
                         --gate PATH: measure that binary, build none;
                         --only: run only these sections: ordinary, wire,
                           scaling, latency, execution-data, argo, start-up,
                           long-gate, size (e.g. --only scaling);
                         --sizes: the N sweep's numbers of experiments
                           (e.g. --sizes 500,5000; default 1,10,100 with
                           --quick, else 1,10,100,500,1000,5000)
  settings [--write | --check]
                         write (or check) the settings in the host files
                         and the README from crates/chaos-gate/src/settings.rs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().cloned().unwrap_or_default();
    let rest = args.get(1..).unwrap_or_default();
    if task != bench::MEASURE_TASK && wants_help(rest) {
        println!("{TASKS}");
        return ExitCode::SUCCESS;
    }
    let result = match task.as_str() {
        "demo" => demo_options(rest).and_then(demo),
        "bench" => bench::Options::parse(rest).and_then(bench::run),
        "settings" => settings_mode(rest)
            .and_then(|mode| root().and_then(|r| settings::run(&r, &[mode.to_string()]))),
        "help" | "-h" | "--help" => {
            println!("{TASKS}");
            return ExitCode::SUCCESS;
        }
        // The bench runs each measured command through this (bench/child.rs).
        bench::MEASURE_TASK => return bench::measure_main(&args[1..]),
        _ => Err(format!("unknown task {task:?}. {TASKS}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root of the checkout the command is run in, as cargo finds
/// it from the current directory (`cargo xtask` runs from anywhere inside
/// the workspace). Not CARGO_MANIFEST_DIR: that path is fixed when xtask is
/// compiled, so a copied checkout whose target/ holds a built xtask would
/// run (and build, and bench) the original tree instead of itself.
fn root() -> Result<PathBuf, String> {
    let out = Command::new(cargo())
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .map_err(|e| format!("cannot run cargo locate-project: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo locate-project --workspace failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    manifest
        .parent()
        .filter(|p| p.join("crates").join("xtask").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "{} is not this project's workspace (no crates/xtask next to it); \
                 run cargo xtask inside the chaos-gate checkout",
                manifest.display()
            )
        })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Whether a task's arguments ask for the usage (`-h`, `--help`).
fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "-h" || a == "--help")
}

/// The value of `flag` (`--flag VALUE` or `--flag=VALUE`), as UTF-8.
fn value(parser: &mut lexopt::Parser, task: &str, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|_| format!("{task}: {flag} needs a value"))?
        .into_string()
        .map_err(|v| format!("{task}: {flag}: {} is not UTF-8", v.to_string_lossy()))
}

/// `demo [--litmus]`: whether to run against the LitmusChaos simulator.
fn demo_options(args: &[String]) -> Result<bool, String> {
    let mut litmus = false;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| format!("demo: {e}"))? {
        match arg {
            lexopt::Arg::Long("litmus") => litmus = true,
            other => {
                return Err(format!(
                    "demo: {}; use --litmus or nothing",
                    other.unexpected()
                ));
            }
        }
    }
    Ok(litmus)
}

/// `settings [--write | --check]`: the flag settings::run acts on
/// (`--check` when none is given).
fn settings_mode(args: &[String]) -> Result<&'static str, String> {
    let mut mode = None;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| format!("settings: {e}"))? {
        let flag = match arg {
            lexopt::Arg::Long("write") => "--write",
            lexopt::Arg::Long("check") => "--check",
            other => {
                return Err(format!(
                    "settings: {}; use --write or --check",
                    other.unexpected()
                ));
            }
        };
        if mode.is_some_and(|m| m != flag) {
            return Err("settings: use --write or --check, not both".to_string());
        }
        mode = Some(flag);
    }
    Ok(mode.unwrap_or("--check"))
}

fn demo(litmus: bool) -> Result<(), String> {
    let root = root()?;
    println!("==> building chaos-gate and chaos-sim");
    let status = Command::new(cargo())
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "chaos-gate", "-p", "chaos-sim"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the build failed (see above)".to_string());
    }
    let bin = root.join("target").join("debug");
    let (scenario, platform) = if litmus {
        (
            "crates/chaos-sim/scenarios/litmus-demo.toml",
            "LitmusChaos ChaosCenter",
        )
    } else {
        ("crates/chaos-sim/scenarios/demo.toml", "Harness")
    };
    let scenario = root.join(scenario);
    println!("==> starting the simulator with {}", scenario.display());
    let sim = Sim::start(&bin.join("chaos-sim"), &scenario, None)?;
    let url = sim.url.clone();
    println!("    simulated {platform} at {url}");
    // The settings of each platform; everything else is shared.
    let credentials: &[(&str, &str)] = if litmus {
        &[
            ("CHAOS_GATE_PLATFORM", "litmus"),
            ("CHAOS_GATE_USERNAME", "admin"),
            ("CHAOS_GATE_PASSWORD", "sim-password"),
        ]
    } else {
        &[
            ("CHAOS_GATE_API_KEY", "sim-api-key"),
            ("CHAOS_GATE_ACCOUNT_ID", "acc-demo"),
        ]
    };

    let out = root.join("target").join("demo");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut codes = Vec::new();
    for (experiment, label) in [
        ("checkout-pod-delete", "passing"),
        ("payment-network-loss", "failing"),
    ] {
        let junit = out.join(format!("{experiment}-junit.xml"));
        println!("\n==> chaos-gate on the {label} experiment {experiment}\n");
        let status = Command::new(bin.join("chaos-gate"))
            .envs(credentials.iter().copied())
            .env("CHAOS_GATE_ENDPOINT", &url)
            .env("CHAOS_GATE_PROJECT_ID", "demo-project")
            .env("CHAOS_GATE_EXPERIMENT_ID", experiment)
            .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80")
            .env("CHAOS_GATE_POLL_INTERVAL", "0.5s")
            .env("CHAOS_GATE_TIMEOUT", "1m")
            .env("CHAOS_GATE_JUNIT_PATH", &junit)
            .status()
            .map_err(|e| format!("cannot run chaos-gate: {e}"))?;
        let code = status.code().unwrap_or(-1);
        println!(
            "\n    exit code: {code}    JUnit report: {}",
            junit.display()
        );
        codes.push((experiment, code));
    }
    drop(sim);
    println!("\n==> summary");
    for (experiment, code) in &codes {
        let meaning = match code {
            0 => "passed: the deploy may go ahead",
            1 => "failed: the deploy is blocked",
            _ => "unexpected (see the output above)",
        };
        println!("    {experiment:<22} exit {code}  {meaning}");
    }
    match codes.as_slice() {
        [(_, 0), (_, 1)] => Ok(()),
        _ => Err("the demo did not end with exit codes 0 and 1".to_string()),
    }
}
