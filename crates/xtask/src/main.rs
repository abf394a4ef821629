//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `demo`: builds chaos-gate and the simulator, starts the simulator on
//!   loopback with its demo scenario, and runs the gate twice: on an
//!   experiment that passes and on one that fails. Shows the console output,
//!   where the JUnit reports are, and the two exit codes.
//!
//! Plain `std`: a newcomer's first command should not wait on dependencies.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "demo" => demo(),
        _ => Err(format!(
            "unknown task {task:?}. Tasks:\n  demo   run the gate end to end against the simulator"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate lives in crates/xtask).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Kills the simulator however the demo ends.
struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo() -> Result<(), String> {
    let root = root();
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
    let scenario = root.join("crates/chaos-sim/scenarios/demo.toml");
    println!("==> starting the simulator with {}", scenario.display());
    let mut child = Command::new(bin.join("chaos-sim"))
        .arg("--scenario")
        .arg(&scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start chaos-sim: {e}"))?;
    let stdout = child.stdout.take().ok_or("chaos-sim has no stdout")?;
    let sim = Sim(child);
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .map_err(|e| format!("cannot read chaos-sim's address: {e}"))?;
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("chaos-sim did not print its address (got {first:?})"))?
        .to_string();
    println!("    simulated Harness at {url}");

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
            .env("CHAOS_GATE_ENDPOINT", &url)
            .env("CHAOS_GATE_API_KEY", "sim-api-key")
            .env("CHAOS_GATE_ACCOUNT_ID", "acc-demo")
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
