//! Cancellation by signal: SIGINT, SIGTERM and SIGHUP end the gate, which
//! then stops its runs and writes its reports (spec §5, §7).
//!
//! The handlers are installed at start-up, before anything is triggered, so
//! a signal that arrives during the trigger is not lost (and does not kill
//! the process with runs left going).

use tokio::signal::unix::{signal, Signal as Stream, SignalKind};

use crate::verdict::Signal;

/// Installed signal handlers.
pub struct Signals {
    int: Stream,
    term: Stream,
    hup: Stream,
}

impl Signals {
    /// Installs the handlers; from now on these signals no longer kill the
    /// process.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the first of the three.
    pub async fn first(mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Int,
            _ = self.term.recv() => Signal::Term,
            _ = self.hup.recv() => Signal::Hup,
        }
    }
}
