//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `demo`: builds chaos-gate and the simulator, starts the simulator on
//!   loopback with its demo scenario, and runs the gate twice: on an
//!   experiment that passes and on one that fails. Shows the console output,
//!   where the JUnit reports are, and the two exit codes.
//! - `bench [--quick] [--host]`: measures what the gate costs a pipeline
//!   (bytes per poll, requests per poll, decision latency, memory, start-up,
//!   CPU, size) against the simulator and against a curl + jq baseline, and
//!   prints each figure next to its target. See bench/README.md.
//!
//! Nearly plain `std`: a newcomer's first command should not wait on
//! dependencies. The two crates used (libc, serde_json) are small and
//! already in the lockfile; Cargo.toml says what each is for.

mod bench;
mod settings;
mod sim;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sim::Sim;

const TASKS: &str = "Tasks:
  demo [--litmus]        run the gate end to end against the simulator
                         (Harness; --litmus: LitmusChaos ChaosCenter)
  bench [--quick] [--host]
                         measure what the gate costs (bench/README.md);
                         --quick: small sizes, fails only if the bench breaks;
                         --host: measure the host build, not the static one
  settings [--write | --check]
                         write (or check) the settings in the host files
                         and the README from crates/chaos-gate/src/settings.rs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().cloned().unwrap_or_default();
    let result = match task.as_str() {
        "demo" => demo(&args[1..]),
        "bench" => bench::Options::parse(&args[1..]).and_then(bench::run),
        "settings" => root().and_then(|r| settings::run(&r, &args[1..])),
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

fn demo(args: &[String]) -> Result<(), String> {
    let litmus = match args.first().map(String::as_str) {
        None => false,
        Some("--litmus") => true,
        Some(other) => {
            return Err(format!(
                "demo: unknown option {other:?}; use --litmus or nothing"
            ));
        }
    };
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
