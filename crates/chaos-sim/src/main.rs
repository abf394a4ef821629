//! `chaos-sim --scenario PATH [--listen ADDR]`: serves a scenario until
//! SIGINT or SIGTERM, for tools that run in another process (demos,
//! benchmarks). The first line on stdout gives the URL to use, so a
//! wrapper can start it with port 0 and read where it landed.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use chaos_sim::{Scenario, Simulator};

const USAGE: &str = "usage: chaos-sim --scenario PATH [--listen ADDR]

Serves a simulated Harness Chaos Engineering or LitmusChaos ChaosCenter 3.x API
described by a TOML scenario (its `platform` key picks the dialect).

  --scenario PATH   scenario file (see crates/chaos-sim/scenarios/demo.toml and
                    litmus-demo.toml)
  --listen ADDR     address to listen on (default 127.0.0.1:0, a free port)

Prints `chaos-sim listening on http://HOST:PORT` first on stdout, one line per
request on stderr, and serves GET /_sim/requests (what each request carried,
when it came and how many bytes the answer had) and GET /_sim/runs (each
run's phase, polls, whether its chaos still runs on the cluster, and when a
poll first showed it finished), as JSON.
Stops on SIGINT or SIGTERM.";

struct Args {
    scenario: PathBuf,
    listen: SocketAddr,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut scenario = None;
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--scenario" => scenario = Some(PathBuf::from(value()?)),
            "--listen" => {
                let v = value()?;
                listen = v.parse().map_err(|_| {
                    format!("--listen: `{v}` is not an address like 127.0.0.1:8080")
                })?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let scenario = scenario.ok_or("--scenario is required")?;
    Ok(Args { scenario, listen })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chaos-sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let sim = match Simulator::start_with(scenario, args.listen, true).await {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("chaos-sim: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "chaos-sim listening on {}", sim.url());
        let _ = stdout.flush();
        wait_for_signal().await;
        eprintln!("chaos-sim: shutting down");
        sim.shutdown();
        ExitCode::SUCCESS
    })
}

/// Waits for SIGINT or SIGTERM (only Ctrl-C where there is no SIGTERM).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
