//! The `chaos-gate` binary: the command line (`--help`, `--version`), the
//! settings, and the exit code. The gate itself is [`chaos_gate::app::run`].

use std::process::ExitCode;

use chaos_gate::output::{Stdout, eprint_line};
use chaos_gate::reporter::github;
use chaos_gate::settings::{self, Settings};

// Nothing here prints with `println!`/`eprintln!`: they panic on a closed
// or broken stream (exit 101). Everything goes through `output`, which
// ignores write errors (README "Failure behaviour").
fn main() -> ExitCode {
    let stdout = Stdout::process();
    if let Some(arg) = std::env::args_os().nth(1) {
        match arg.to_str() {
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
        }
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
    let code = runtime.block_on(chaos_gate::app::run(&settings, &raw, &env, stdout));
    // Whatever is still blocked (a DNS look-up) must not hold the exit.
    runtime.shutdown_background();
    ExitCode::from(u8::try_from(code).unwrap_or(3))
}
