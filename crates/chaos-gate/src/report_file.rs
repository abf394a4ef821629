//! The one writer of every file the gate writes (README "Reports and outputs", README "Failure behaviour"): the JUnit
//! report and GitLab's dotenv file (whole files), and the CI hosts' shared
//! output files (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, Drone's output
//! file), which are only ever appended to.
//!
//! What it guarantees:
//!
//! - A whole file is written whole or not at all: into a temporary file
//!   beside it, then renamed over it. The temporary file is created
//!   exclusively (`O_EXCL`) under an unpredictable name by `tempfile`, so a
//!   link planted in the folder can neither be written through nor make the
//!   write fail; it is removed if anything fails.
//! - An existing target that is not a regular file (`/dev/null`, a FIFO, a
//!   terminal) is written into, never replaced.
//! - An append never truncates or replaces what the file held.
//! - No write can hold the exit: each runs on its own thread and is given
//!   up on at a deadline ([`limit_to`]; [`BUDGET`] per write when none was
//!   set), with an error that names the file. A FIFO nobody reads, or a
//!   stalled network disk, then costs at most the budget.

use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

/// Longest the files may take, from the start of the writes or from a
/// signal (the process must be gone 5 s after a signal, README "Failure behaviour"; the
/// second left is for stopping runs' stragglers and the exit itself).
pub const BUDGET: Duration = Duration::from_secs(4);

/// Each file gets at least this, even past the deadline, so that a write
/// that takes no time is not skipped.
const FLOOR: Duration = Duration::from_millis(20);

/// When writing must be over, once `main` has said ([`limit_to`]).
static DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

/// Brings the deadline forward to `at` (never pushes it back). `main` calls
/// it before the files are written with now plus [`BUDGET`], and with the
/// moment a signal arrived plus [`BUDGET`].
pub fn limit_to(at: Instant) {
    let mut d = DEADLINE.lock().unwrap_or_else(|p| p.into_inner());
    *d = Some(d.map_or(at, |old| old.min(at)));
}

/// How long the next write may take: until the deadline, or [`BUDGET`]
/// when none was set.
fn time_left() -> Duration {
    let d = *DEADLINE.lock().unwrap_or_else(|p| p.into_inner());
    d.map_or(BUDGET, |d| d.saturating_duration_since(Instant::now()))
        .max(FLOOR)
}

/// Runs `write` on its own thread and waits for it until the deadline.
fn with_deadline(
    path: &Path,
    what: &str,
    write: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    within(time_left(), path, what, write)
}

/// Runs `write` on its own thread and waits for it at most `wait`.
fn within(
    wait: Duration,
    path: &Path,
    what: &str,
    write: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("report-file".to_string())
        .spawn(move || {
            let _ = tx.send(write());
        })
        .with_context(|| format!("cannot start writing {what} to {}", path.display()))?;
    match rx.recv_timeout(wait) {
        Ok(result) => result,
        // The thread is left blocked; the process exits without it.
        Err(_) => Err(anyhow!(
            "gave up writing {what} to {} after {:.1}s: the file does not take the write \
             (a FIFO nobody reads, a stalled disk?); check that path",
            path.display(),
            wait.as_secs_f64()
        )),
    }
}

/// Writes a whole file (`what` names it in errors, e.g. "the JUnit report
/// (junit_path)"), within the deadline.
pub fn write_whole(path: &Path, what: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
    let owned = path.to_path_buf();
    let label = what.to_string();
    with_deadline(path, what, move || write_whole_now(&owned, &label, &bytes))
}

/// Appends `text` to a shared output file, creating it if missing; never
/// truncates it. Within the deadline.
pub fn append(path: &Path, what: &str, text: String) -> anyhow::Result<()> {
    let owned = path.to_path_buf();
    let label = what.to_string();
    with_deadline(path, what, move || {
        append_now(&owned, &label, text.as_bytes())
    })
}

fn append_now(path: &Path, what: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} to append {what}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot append {what} to {}", path.display()))
}

fn write_whole_now(path: &Path, what: &str, bytes: &[u8]) -> anyhow::Result<()> {
    // Follows a link: what matters is what the writes would reach.
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            bail!(
                "cannot write {what} to {}: it is a folder; name a file",
                path.display()
            );
        }
        if !meta.is_file() {
            // A device or a FIFO: write into it. Replacing it would turn
            // /dev/null into a regular file for every later user.
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {} to write {what}", path.display()))?;
            return f
                .write_all(bytes)
                .with_context(|| format!("cannot write {what} to {}", path.display()));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the folder {} for {what}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    // 0666 before the umask, as a plain create would have it (tempfile's
    // default, 0600, would hide the report from a runner reading it as
    // another user).
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(&dir)
        .with_context(|| {
            format!(
                "cannot create a temporary file in {} for {what}",
                dir.display()
            )
        })?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    let tmp_path = tmp.path().to_path_buf();
    let file: File = tmp.persist(path).map_err(|e| {
        anyhow!(
            "cannot move {} to {}: {}",
            tmp_path.display(),
            path.display(),
            e.error
        )
    })?;
    drop(file);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_whole_file_replaces_a_regular_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/report.xml");
        write_whole(&path, "the report", b"one".to_vec()).unwrap();
        write_whole(&path, "the report", b"two".to_vec()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.xml")]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "readable by others as before: {mode:o}");
    }

    #[test]
    fn dev_null_is_written_into_not_replaced() {
        // A node of the test's own first (when it may make one), so that a
        // regression fails here rather than replace the machine's /dev/null.
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("null");
        let made = std::process::Command::new("mknod")
            .args(["-m", "666", node.to_str().unwrap(), "c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if made {
            write_whole(&node, "the report", b"x".to_vec()).unwrap();
            let meta = std::fs::symlink_metadata(&node).unwrap();
            assert!(meta.file_type().is_char_device(), "a device was replaced");
        }
        write_whole(Path::new("/dev/null"), "the report", b"x".to_vec()).unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device());
    }

    #[test]
    fn a_folder_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_whole(dir.path(), "the report", b"x".to_vec()).unwrap_err();
        assert!(format!("{e:#}").contains("is a folder"), "{e:#}");
    }

    #[test]
    fn a_link_planted_at_a_temporary_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        // The names the old writer used, and any name with its prefix.
        for n in 0..64 {
            std::os::unix::fs::symlink(&victim, dir.path().join(format!(".r.xml.{n}.tmp")))
                .unwrap();
        }
        std::os::unix::fs::symlink(
            &victim,
            dir.path()
                .join(format!(".r.xml.{}.tmp", std::process::id())),
        )
        .unwrap();
        write_whole(&dir.path().join("r.xml"), "the report", b"new".to_vec()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("r.xml")).unwrap(),
            "new"
        );
    }

    #[test]
    fn appends_keep_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "before\n").unwrap();
        append(&path, "outputs", "a=1\n".to_string()).unwrap();
        append(&path, "outputs", "b=2\n".to_string()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before\na=1\nb=2\n"
        );
    }

    #[test]
    fn a_write_that_blocks_is_given_up_on_at_the_deadline() {
        let started = Instant::now();
        let wait = Duration::from_millis(200);
        let e = within(wait, Path::new("/some/fifo"), "the step summary", || {
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        });
        assert!(started.elapsed() < Duration::from_secs(2));
        let e = format!("{:#}", e.unwrap_err());
        assert!(
            e.contains("gave up writing the step summary to /some/fifo"),
            "{e}"
        );
    }
}
