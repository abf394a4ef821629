//! Cancellation by signal: SIGINT, SIGTERM and SIGHUP end the gate, which
//! then stops its runs and writes its reports (README "Exit codes", README "Failure behaviour").
//!
//! The handlers are installed at start-up, before anything is triggered, so
//! a signal that arrives during the trigger is not lost (and does not kill
//! the process with runs left going).
//!
//! On Windows the console events stand in for the signals: Ctrl+C is
//! SIGINT (what a GitHub runner sends first on cancellation), Ctrl+Break and
//! shutdown are SIGTERM (the runner's second step), closing the console is
//! SIGHUP.

#[cfg(unix)]
use tokio::signal::unix::{Signal as Stream, SignalKind, signal};
#[cfg(windows)]
use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};

use crate::verdict::Signal;

/// Installed signal handlers.
#[cfg(unix)]
pub struct Signals {
    int: Stream,
    term: Stream,
    hup: Stream,
}

#[cfg(unix)]
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

/// Installed console-event handlers (Windows).
#[cfg(windows)]
pub struct Signals {
    c: tokio::signal::windows::CtrlC,
    brk: tokio::signal::windows::CtrlBreak,
    close: tokio::signal::windows::CtrlClose,
    shutdown: tokio::signal::windows::CtrlShutdown,
}

#[cfg(windows)]
impl Signals {
    /// Installs the handlers; from now on these events no longer end the
    /// process.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            c: ctrl_c()?,
            brk: ctrl_break()?,
            close: ctrl_close()?,
            shutdown: ctrl_shutdown()?,
        })
    }

    /// Waits for the first event, as the signal it stands for.
    pub async fn first(mut self) -> Signal {
        tokio::select! {
            _ = self.c.recv() => Signal::Int,
            _ = self.brk.recv() => Signal::Term,
            _ = self.shutdown.recv() => Signal::Term,
            _ = self.close.recv() => Signal::Hup,
        }
    }
}
