//! Diagnostic logging to stderr with `tracing` (retries, skipped data).
//!
//! The console reporter owns stdout; logs go to stderr so that CI workflow
//! commands and the final table stay clean. The level is `info` unless
//! `RUST_LOG` says otherwise, or `debug` when a GitHub run has debug
//! logging on (`RUNNER_DEBUG=1`). Secrets are never passed to a log call:
//! they live in `Secret`, whose formatting is redacted. Dependencies (the
//! HTTP stack) may log request headers at trace level, so their events are
//! let through only at warning level and above, whatever `RUST_LOG` says.

use tracing::Level;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;

use crate::settings::LogFormat;

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let level = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::new(v),
        _ if std::env::var("RUNNER_DEBUG").is_ok_and(|v| v == "1") => EnvFilter::new("debug"),
        _ => EnvFilter::new("info"),
    };
    let own_or_warning =
        filter_fn(|m| m.target().starts_with("chaos_gate") || *m.level() <= Level::WARN);
    let layer = tracing_subscriber::fmt::layer()
        // Not `std::io::stderr`: a closed stderr must not fail a log call.
        .with_writer(|| crate::output::LogWriter)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(
                layer
                    .without_time()
                    .with_filter(level)
                    .with_filter(own_or_warning),
            )
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(layer.json().with_filter(level).with_filter(own_or_warning))
            .try_init(),
    };
}
