//! Runs a child process and reads what it cost from `wait4(2)`: its exit
//! code, wall time, the instant it exited, CPU time and peak RSS.
//!
//! `wait4` on the child's own PID reports that process plus every
//! descendant it waited for (the kernel adds the child's RUSAGE_CHILDREN to
//! its own usage), so a shell script's figure includes its curl, jq and
//! sleep processes, and nothing else the bench ran before or beside it.
//!
//! Peak RSS needs care: a child created by fork or posix_spawn (vfork)
//! starts on a copy of its parent's memory, and on exec the kernel carries
//! that memory's high-water mark into the process's `ru_maxrss`. A child of
//! the bench would so report at least the bench's own peak (tens of MB
//! after reading the simulator's records). Each measured command therefore
//! runs under `xtask __measure REPORT PROGRAM ARGS...`: a fresh process
//! whose own peak is about 2 MB spawns the program, waits for it with
//! `wait4` and writes the figures to REPORT. Its peak is written too, so a
//! figure that does not exceed it is shown as the upper bound it is.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The hidden task name of the measuring wrapper.
pub const MEASURE_TASK: &str = "__measure";

/// What one finished child cost.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// From just before spawning to `wait4` returning.
    pub wall: Duration,
    /// When `wait4` returned, in milliseconds since the Unix epoch: the
    /// same clock the simulator stamps its records with.
    pub exited_at_unix_ms: u64,
    /// Just before the child was spawned, in microseconds since the Unix
    /// epoch (the simulator's `at_unix_us` clock).
    pub started_at_unix_us: u64,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in bytes.
    pub max_rss_bytes: u64,
    /// The measuring process's own peak RSS when it spawned the child: a
    /// `max_rss_bytes` not above it only bounds the child's peak.
    pub spawner_rss_bytes: u64,
}

impl Usage {
    /// Whether `max_rss_bytes` is the child's own peak rather than an upper
    /// bound inherited from the measuring process. The kernel keeps the
    /// larger of the two, so a figure clearly above the spawner's peak (by
    /// more than what spawning itself allocates) is the child's.
    pub fn rss_is_exact(&self) -> bool {
        self.max_rss_bytes > self.spawner_rss_bytes + 256 * 1024
    }
}

/// A command that runs `program` under the measuring wrapper, writing its
/// figures to `report`. Add arguments, environment and stdio to it as to
/// `Command::new(program)`: the wrapper passes all of them on, and a
/// relative `program` is looked up in the PATH given to the command.
pub fn command(program: impl AsRef<OsStr>, report: &Path) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?;
    let mut c = Command::new(exe);
    c.arg(MEASURE_TASK).arg(report).arg(program);
    Ok(c)
}

/// Runs a command made by [`command`] and returns the figures it wrote.
pub fn run(command: &mut Command, report: &Path) -> Result<Usage, String> {
    let _ = std::fs::remove_file(report);
    let status = command
        .status()
        .map_err(|e| format!("cannot run the measuring wrapper: {e}"))?;
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("the measuring wrapper wrote no figures ({status}): {e}"))?;
    parse_report(&text)
}

/// The wrapper's side (`xtask __measure REPORT PROGRAM ARGS...`): runs
/// PROGRAM with this process's environment and stdio, and writes its
/// figures to REPORT as `key=value` lines.
pub fn measure_main(args: &[String]) -> ExitCode {
    let [report, program, rest @ ..] = args else {
        eprintln!("usage: xtask {MEASURE_TASK} REPORT PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let spawner_rss_bytes = own_peak_rss().unwrap_or(0);
    let result = measure(Command::new(program).args(rest)).and_then(|usage| {
        let text = format!(
            "code={}\nwall_ns={}\nexited_at_unix_ms={}\nstarted_at_unix_us={}\ncpu_ns={}\nmax_rss_bytes={}\nspawner_rss_bytes={spawner_rss_bytes}\n",
            usage.code.map_or("signal".to_string(), |c| c.to_string()),
            usage.wall.as_nanos(),
            usage.exited_at_unix_ms,
            usage.started_at_unix_us,
            usage.cpu.as_nanos(),
            usage.max_rss_bytes,
        );
        std::fs::write(report, text).map_err(|e| format!("cannot write {report}: {e}"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {MEASURE_TASK}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Spawns `command`, waits for it with `wait4`, and returns its usage.
fn measure(command: &mut Command) -> Result<Usage, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let started_at_unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|_| "PID out of range".to_string())?;
    let (status, usage) = wait4(pid).map_err(|e| format!("wait4 on {program}: {e}"))?;
    let wall = started.elapsed();
    let exited_at_unix_ms = unix_ms(SystemTime::now());
    // `child` was reaped by wait4; std's Child neither waits nor kills on
    // drop, so letting it go is safe.
    drop(child);
    Ok(Usage {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        wall,
        exited_at_unix_ms,
        started_at_unix_us,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        // Linux reports ru_maxrss in kibibytes.
        max_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        spawner_rss_bytes: 0,
    })
}

fn parse_report(text: &str) -> Result<Usage, String> {
    let value = |key: &str| -> Result<&str, String> {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .ok_or_else(|| format!("the measuring wrapper's report has no {key}"))
    };
    let number = |key: &str| -> Result<u64, String> {
        value(key)?
            .parse()
            .map_err(|e| format!("the measuring wrapper's {key}: {e}"))
    };
    Ok(Usage {
        code: value("code")?.parse().ok(),
        wall: Duration::from_nanos(number("wall_ns")?),
        exited_at_unix_ms: number("exited_at_unix_ms")?,
        started_at_unix_us: number("started_at_unix_us").unwrap_or(0),
        cpu: Duration::from_nanos(number("cpu_ns")?),
        max_rss_bytes: number("max_rss_bytes")?,
        spawner_rss_bytes: number("spawner_rss_bytes")?,
    })
}

/// This process's peak RSS so far (VmHWM), in bytes.
fn own_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Blocks until `pid` exits; retries on EINTR. The one place the bench
/// needs unsafe code: std throws the child's rusage away.
#[allow(unsafe_code)]
fn wait4(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types
        // wait4 expects; pid is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    match values.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back() {
        let u = parse_report(
            "code=2\nwall_ns=1500000\nexited_at_unix_ms=7\ncpu_ns=900\nmax_rss_bytes=4000000\nspawner_rss_bytes=2500000\n",
        )
        .expect("valid");
        assert_eq!(u.code, Some(2));
        assert_eq!(u.wall, Duration::from_micros(1500));
        assert!(u.rss_is_exact());
        let signalled = parse_report(
            "code=signal\nwall_ns=1\nexited_at_unix_ms=1\ncpu_ns=1\nmax_rss_bytes=1\nspawner_rss_bytes=1\n",
        )
        .expect("valid");
        assert_eq!(signalled.code, None);
        assert!(!signalled.rss_is_exact());
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(&mut [ms(4), ms(1), ms(2), ms(3)]),
            Duration::from_micros(2500)
        );
        assert_eq!(median(&mut []), Duration::ZERO);
    }
}
