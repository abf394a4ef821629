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

/// What the command line asks for: serve, or print the usage (`-h`,
/// `--help`). An error is a message for stderr, followed by the usage.
enum Parsed {
    Serve(Args),
    Help,
}

fn parse_args(mut parser: lexopt::Parser) -> Result<Parsed, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut scenario = None;
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("scenario") => scenario = Some(PathBuf::from(value(&mut parser, "--scenario")?)),
            Long("listen") => {
                let v = value(&mut parser, "--listen")?;
                listen = v.parse().map_err(|_| {
                    format!("--listen: `{v}` is not an address like 127.0.0.1:8080")
                })?;
            }
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Long(other) => return Err(format!("unknown argument `--{other}`")),
            Short(other) => return Err(format!("unknown argument `-{other}`")),
            Value(other) => {
                return Err(format!("unknown argument `{}`", other.to_string_lossy()));
            }
        }
    }
    let scenario = scenario.ok_or("--scenario is required")?;
    Ok(Parsed::Serve(Args { scenario, listen }))
}

/// The value of `flag` (`--flag VALUE` or `--flag=VALUE`), as UTF-8.
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|_| format!("{flag} needs a value"))?
        .into_string()
        .map_err(|v| format!("{flag}: `{}` is not UTF-8", v.to_string_lossy()))
}

fn main() -> ExitCode {
    let args = match parse_args(lexopt::Parser::from_env()) {
        Ok(Parsed::Serve(args)) => args,
        Ok(Parsed::Help) => {
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
