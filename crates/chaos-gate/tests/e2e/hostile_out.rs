//! Hostile input against the gate's outputs (issue 10): platform text that
//! tries to become a workflow command or a GitLab section marker, secrets
//! quoted back by the platform, report paths that are devices, FIFOs or
//! planted links, closed and broken stdout/stderr, output files that block,
//! and text or numbers too large to read. Each drives the real binary
//! against the simulator or wiremock on loopback.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncReadExt;
use wiremock::MockServer;

use crate::common::*;
use crate::modes::start_elsewhere;

/// The experiment most tests gate on.
const ID: &str = "5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21";

/// A simulator on which ID completes at once with a score of 100.
async fn completing_sim() -> chaos_sim::Simulator {
    sim(&experiment(ID, &["Completed"], Some(100.0))).await
}

/// The marker every hostile string carries, to find where it landed.
const INJ: &str = "INJ";

/// An experiment whose every piece of platform text tries to break out:
/// workflow commands after a newline or at the start, the older `##[`
/// form, percent escapes, a GitLab section end with its escape codes.
fn hostile_experiment(id: &str) -> String {
    format!(
        r###"[[experiments]]
id = "{id}"
name = "::error::INJ-name\n::warning::INJ-name2"
phases = ["Running\n::error::INJ-phase", "##[error]INJ-v1-phase", "  ::group::INJ-lead", "Completed"]
resiliency_score = 10.0
error_response = "\u001b[0Ksection_end:1:chaos_gate_polling\r\u001b[0K::error::INJ-err"

[[experiments.faults]]
name = "::add-mask::INJ-fault\n::set-output name=verdict::pass"
verdict = "::warning::INJ-verdict"
probe_success_percentage = "%0A::error::INJ-probe"
fail_step = "\r\n::stop-commands::INJ-stop\n##[set-output name=verdict;]pass"

"###
    )
}

/// Every CI host's outputs switched on, pointing into the gate's folder.
fn on_every_host(gate: Gate) -> Gate {
    let output = gate.path("github-output");
    let summary = gate.path("step-summary");
    let drone = gate.path("drone-output");
    gate.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", output.to_str().expect("utf-8"))
        .env("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))
        .env("GITLAB_CI", "true")
        .env("DRONE_OUTPUT", drone.to_str().expect("utf-8"))
}

/// What is wrong with the run's streams and files, from the point of view
/// of a CI host reading them.
fn stray_commands(run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let ours = [
        "::add-mask::",
        "::group::chaos-gate",
        "::endgroup::",
        "::error title=chaos-gate",
        "::warning title=chaos-gate",
    ];
    for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        // GitHub's runner reads lines ending in \n, \r\n or a lone \r.
        for line in stream.split(['\n', '\r']) {
            let l = line.trim_start();
            if l.starts_with("::") && !ours.iter().any(|ok| l.starts_with(ok)) {
                problems.push(format!(
                    "{name}: a workflow command from platform text: {l:?}"
                ));
            }
            if l.starts_with("::add-mask::") && l.contains(INJ) {
                problems.push(format!("{name}: a mask from platform text: {l:?}"));
            }
            if line.contains("##[") {
                problems.push(format!("{name}: a ##[ command: {line:?}"));
            }
        }
        // The only escape characters are those of the gate's own section
        // markers, one start and one end.
        let mut markers = 0;
        for line in stream.split('\n').filter(|l| l.contains('\u{1b}')) {
            let ours = (line.starts_with("\u{1b}[0Ksection_start:")
                || line.starts_with("\u{1b}[0Ksection_end:"))
                && line.matches('\u{1b}').count() == 2
                && line.contains(":chaos_gate_polling");
            markers += 1;
            if !ours || markers > 2 {
                problems.push(format!(
                    "{name}: an escape code from platform text: {line:?}"
                ));
            }
        }
    }
    let read = |n: &str| std::fs::read_to_string(run.path(n)).unwrap_or_default();
    let outputs: Vec<String> = github_output_names(&read("github-output"));
    let expected = [
        "verdict",
        "resilience_score",
        "notify_ids",
        "junit_path",
        "results",
    ];
    if !outputs.is_empty() && outputs != expected {
        problems.push(format!("GITHUB_OUTPUT names {outputs:?}"));
    }
    for file in ["chaos-gate.env", "drone-output"] {
        let text = read(file);
        let keys: Vec<&str> = text
            .lines()
            .map(|l| l.split('=').next().unwrap_or(""))
            .collect();
        if !text.is_empty()
            && keys
                != [
                    "CHAOS_GATE_VERDICT",
                    "CHAOS_GATE_RESILIENCE_SCORE",
                    "CHAOS_GATE_NOTIFY_IDS",
                ]
        {
            problems.push(format!("{file} lines {keys:?}:\n{text}"));
        }
    }
    let summary = read("step-summary");
    for line in summary.lines() {
        let headline = line.starts_with("Gate ") || line.starts_with("Dry run");
        if line.contains(INJ) && !line.starts_with('|') && !headline {
            problems.push(format!(
                "step summary: platform text left the table: {line:?}"
            ));
        }
        if line.contains("<script") || line.contains("](javascript") {
            problems.push(format!("step summary: markup: {line:?}"));
        }
    }
    problems.extend(run.junit_problem());
    problems
}

/// The output names of a GITHUB_OUTPUT file, in order.
fn github_output_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let heredoc = line.find("<<");
        let equals = line.find('=');
        match (heredoc, equals) {
            (Some(h), e) if e.is_none_or(|e| h < e) => {
                let delimiter = &line[h + 2..];
                names.push(line[..h].to_string());
                for l in lines.by_ref() {
                    if l == delimiter {
                        break;
                    }
                }
            }
            (_, Some(e)) => names.push(line[..e].to_string()),
            _ => names.push(format!("(not an output: {line:?})")),
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_text_becomes_no_command_in_any_mode_or_format() {
    let mut failures = Vec::new();
    let check = |row: &str, run: Run, code: i32, failures: &mut Vec<String>| {
        let mut problems = stray_commands(&run);
        if run.code != Some(code) {
            problems.push(format!("exit {:?}, expected {code}", run.code));
        }
        if !run.output().contains(INJ) {
            problems.push("the hostile text is not shown at all".to_string());
        }
        if !problems.is_empty() {
            failures.push(run.row_failure(row, &problems));
        }
    };

    let harness = sim(&hostile_experiment(ID)).await;
    for format in ["text", "json"] {
        let run = on_every_host(Gate::new(&harness, ID))
            .env("CHAOS_GATE_LOG_FORMAT", format)
            .run()
            .await;
        check(
            &format!("trigger, log_format={format}"),
            run,
            1,
            &mut failures,
        );
    }
    let run = on_every_host(Gate::new(&harness, ID))
        .env("CHAOS_GATE_DRY_RUN", "true")
        .run()
        .await;
    check("dry run: the experiment's name", run, 0, &mut failures);

    // Attaching without an experiment ID: the ID and name are learned from
    // the platform's answer.
    let evil_id = "::error::INJ-id\n::warning::INJ-id2";
    let attach_sim = sim_with_id(evil_id).await;
    let notify = start_elsewhere(&attach_sim, evil_id, false).await;
    let run = on_every_host(Gate::new(&attach_sim, ""))
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("CHAOS_GATE_NOTIFY_ID", &notify)
        .run()
        .await;
    check("attach: ID from the platform", run, 1, &mut failures);

    let litmus = litmus_sim(&hostile_experiment(ID)).await;
    let run = on_every_host(Gate::litmus(&litmus, ID)).run().await;
    check("litmus trigger", run, 1, &mut failures);

    // An error message from the platform.
    let broken = sim(&format!(
        "{}[[inject]]\noperation = \"listWorkflowRun\"\nbody = '''{}'''\n",
        experiment(ID, &["Completed"], Some(100.0)),
        json!({"data": null, "errors": [{"message": "no\n::error::INJ-graphql\r::warning::INJ-cr"}]})
    ))
    .await;
    let run = on_every_host(Gate::new(&broken, ID)).run().await;
    check("GraphQL error message", run, 3, &mut failures);

    // A retried answer: its message reaches stderr through the log.
    let retried = sim(&format!(
        "{}[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 2\nstatus = 503\nbody = '''{}'''\n",
        hostile_experiment(ID),
        json!({"message": "busy\n::error::INJ-retry\r##[error]INJ-retry-v1"})
    ))
    .await;
    let run = on_every_host(Gate::new(&retried, ID))
        .env("RUST_LOG", "debug")
        .run()
        .await;
    if !run.stderr.contains("INJ-retry") {
        failures.push(format!("the retry is not logged:\n{}", run.stderr));
    }
    check("a retried answer, logged on stderr", run, 1, &mut failures);

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

async fn sim_with_id(id: &str) -> chaos_sim::Simulator {
    let escaped = serde_json::to_string(id).expect("json");
    let body = hostile_experiment("ID").replace("id = \"ID\"", &format!("id = {escaped}"));
    sim(&body).await
}

/// A trigger and a poll answer from wiremock whose notify ID is hostile:
/// it is printed, and lands in GITHUB_OUTPUT, the dotenv file and Drone's.
#[tokio::test]
async fn a_hostile_notify_id_adds_no_output_and_no_command() {
    for notify in [
        "n-1\n::error::INJ-notify",
        "n-1\nverdict=pass\nINJ=1",
        "n-1<<EOF\nverdict=pass\nEOF",
        "n-1\r::set-output name=verdict::INJ",
    ] {
        let server = MockServer::start().await;
        let mount =
            |needle: &'static str, answer: serde_json::Value| on_query(needle, json_answer(answer));
        mount(
            "RunChaosExperiment(",
            json!({"data": {"runChaosExperiment": {"notifyID": notify}}}),
        )
        .mount(&server)
        .await;
        mount("ListWorkflowRunExecutionData(", json!({"data": {"listWorkflowRun": {
            "workflowRuns": [{"workflowRunID": "r-1", "notifyID": notify, "executionData": "{}"}]}}}))
        .mount(&server)
        .await;
        mount(
            "ListRecentWorkflowRuns(",
            json!({"data": {"listWorkflowRun": {"workflowRuns": []}}}),
        )
        .mount(&server)
        .await;
        mount(
            "ListWorkflowRun(",
            json!({"data": {"listWorkflowRun": {
            "totalNoOfWorkflowRuns": 1,
            "workflowRuns": [{"workflowRunID": "r-1", "workflowID": "5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21", "notifyID": notify,
                              "phase": "Completed", "resiliencyScore": 20.0}]}}}),
        )
        .mount(&server)
        .await;
        let run = on_every_host(Gate::harness_at(&server.uri(), ID))
            .run()
            .await;
        let problems = stray_commands(&run);
        assert!(
            problems.is_empty(),
            "{}",
            run.row_failure(notify, &problems)
        );
        run.assert_code(1);
        let dotenv = std::fs::read_to_string(run.path("chaos-gate.env")).expect("dotenv");
        assert!(dotenv.contains("CHAOS_GATE_VERDICT=fail\n"), "{dotenv}");
    }
}

/// Secret values quoted back by the platform, in every place platform text
/// can come from, reach no output in any format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_quoted_back_by_the_platform_reaches_no_output() {
    let harness = format!(
        r#"[[experiments]]
id = "5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21"
phases = ["Running key={API_KEY}", "Completed"]
resiliency_score = 50.0
error_response = "auth with {API_KEY} failed"

[[experiments.faults]]
name = "pod-delete {API_KEY}"
verdict = "Fail"
fail_step = "probe called https://svc/?key={API_KEY}&x=1"
"#
    );
    let litmus = format!(
        r#"[[experiments]]
id = "5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21"
phases = ["Completed"]
resiliency_score = 50.0

[[experiments.faults]]
name = "pod-delete"
verdict = "Fail"
fail_step = "login as admin:{LITMUS_PASSWORD} refused"
"#
    );
    let mut failures = Vec::new();
    let harness_sim = sim(&harness).await;
    let litmus_sim = litmus_sim(&litmus).await;
    for format in ["text", "json"] {
        for (name, gate, secret) in [
            ("harness", Gate::new(&harness_sim, ID), API_KEY),
            ("litmus", Gate::litmus(&litmus_sim, ID), LITMUS_PASSWORD),
        ] {
            let run = on_every_host(gate)
                .env("CHAOS_GATE_LOG_FORMAT", format)
                .env("RUST_LOG", "trace")
                .run()
                .await;
            let mut problems = Vec::new();
            if run.code != Some(1) {
                problems.push(format!("exit {:?}", run.code));
            }
            let files = [
                "chaos-gate-junit.xml",
                "github-output",
                "step-summary",
                "chaos-gate.env",
                "drone-output",
            ];
            let mut texts = vec![
                ("stdout".to_string(), run.stdout.clone()),
                ("stderr".to_string(), run.stderr.clone()),
            ];
            for f in files {
                texts.push((
                    f.to_string(),
                    std::fs::read_to_string(run.path(f)).unwrap_or_default(),
                ));
            }
            for (what, text) in &texts {
                // The add-mask line is the one place the value belongs.
                let leaked = text
                    .lines()
                    .any(|l| l.contains(secret) && !l.starts_with("::add-mask::"));
                if leaked {
                    problems.push(format!("{what} holds the secret"));
                }
            }
            let junit = run.junit().unwrap_or_default();
            if !junit.contains("***") {
                problems.push("the JUnit report lost the text around the secret".to_string());
            }
            if !problems.is_empty() {
                failures.push(run.row_failure(&format!("{name}, log_format={format}"), &problems));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn credentials_in_the_endpoint_are_refused_without_being_echoed() {
    for (endpoint, credential) in [
        ("https://alice:s3cr3t-pw@chaos.example.com", "s3cr3t-pw"),
        ("http://admin:p%40ss-w0rd@127.0.0.1:9/", "p%40ss-w0rd"),
        (
            "https://t0ken-in-user@chaos.example.com/prefix",
            "t0ken-in-user",
        ),
        ("https://u:with space-pw@chaos.example.com", "space-pw"),
    ] {
        let run = Gate::harness_at(endpoint, ID)
            .env("GITHUB_ACTIONS", "true")
            .run()
            .await;
        run.assert_code(2);
        assert!(
            !run.output().contains(credential),
            "{endpoint}: {}",
            run.output()
        );
        run.assert_stderr_has("CHAOS_GATE_ENDPOINT");
        assert!(run.junit().is_none(), "no JUnit for bad settings");
    }
}

#[tokio::test]
async fn dev_null_as_junit_path_stays_a_device() {
    let sim = completing_sim().await;
    // First a device of the test's own (a copy of /dev/null's node, when
    // the test may make one): a gate that would replace a device must not
    // get to replace the machine's /dev/null.
    let own = tempfile::tempdir().expect("temp dir");
    let node = own.path().join("null");
    let made = std::process::Command::new("mknod")
        .args(["-m", "666", node.to_str().expect("utf-8"), "c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let run = Gate::new(&sim, ID)
            .env("CHAOS_GATE_JUNIT_PATH", node.to_str().expect("utf-8"))
            .run()
            .await;
        run.assert_code(0);
        let meta = std::fs::symlink_metadata(&node).expect("node");
        assert!(meta.file_type().is_char_device(), "a device was replaced");
    }
    let run = Gate::new(&sim, ID)
        .env("CHAOS_GATE_JUNIT_PATH", "/dev/null")
        .run()
        .await;
    run.assert_code(0);
    let meta = std::fs::metadata("/dev/null").expect("/dev/null");
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
}

/// A FIFO named `name` in the gate's folder.
fn fifo_in(gate: &Gate, name: &str) -> std::path::PathBuf {
    let fifo = gate.path(name);
    mkfifo(&fifo);
    fifo
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[tokio::test]
async fn a_fifo_as_junit_path_is_written_into_for_its_reader() {
    let sim = completing_sim().await;
    let gate = Gate::new(&sim, ID);
    let fifo = fifo_in(&gate, "junit.fifo");
    let reader_path = fifo.clone();
    let (tx, read) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(std::fs::read_to_string(reader_path)));
    let run = gate
        .env("CHAOS_GATE_JUNIT_PATH", fifo.to_str().expect("utf-8"))
        .run()
        .await;
    run.assert_code(0);
    // A gate that replaced the FIFO leaves its reader waiting forever.
    let xml = read
        .recv_timeout(Duration::from_secs(10))
        .expect("the reader got the report")
        .expect("read the FIFO");
    assert_valid_junit(&xml);
    let meta = std::fs::symlink_metadata(&fifo).expect("still there");
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
}

/// The old writer used `.NAME.<pid>.tmp`; a link planted there for every
/// likely pid must neither be written through nor stop the report.
#[tokio::test]
async fn a_link_planted_at_the_old_temporary_name_is_not_written_through() {
    let sim = completing_sim().await;
    let gate = Gate::new(&sim, ID);
    let outside = tempfile::tempdir().expect("temp dir");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    for pid in last..last + 3000 {
        std::os::unix::fs::symlink(
            &victim,
            gate.path(&format!(".chaos-gate-junit.xml.{pid}.tmp")),
        )
        .expect("plant");
    }
    let run = gate.run().await;
    run.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    run.valid_junit();
    assert!(
        std::fs::symlink_metadata(run.path("chaos-gate-junit.xml"))
            .expect("JUnit")
            .file_type()
            .is_file()
    );
}

#[tokio::test]
async fn output_files_are_appended_to_never_replaced() {
    let sim = completing_sim().await;
    let gate = on_every_host(Gate::new(&sim, ID));
    for f in ["github-output", "step-summary", "drone-output"] {
        std::fs::write(gate.path(f), format!("EARLIER_{f}=kept\n")).expect("write");
    }
    let run = gate.run().await;
    run.assert_code(0);
    for f in ["github-output", "step-summary", "drone-output"] {
        let text = std::fs::read_to_string(run.path(f)).expect("file");
        assert!(
            text.starts_with(&format!("EARLIER_{f}=kept\n")),
            "{f}: {text}"
        );
        assert!(text.len() > 30, "{f} got the gate's part: {text}");
    }
}

/// Spawns the gate with stdout and/or stderr broken: every write fails
/// with EPIPE.
async fn with_broken(
    gate: Gate,
    args: &[&str],
    stdout: bool,
    stderr: bool,
) -> (Option<i32>, String) {
    let mut cmd = gate.command(args);
    // A connected socket whose other end is closed: every write fails
    // with EPIPE, as on a pipe whose reader is gone (`| head -c1`).
    let broken = || {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("socket pair");
        drop(ours);
        Stdio::from(std::os::fd::OwnedFd::from(theirs))
    };
    if stdout {
        cmd.stdout(broken());
    }
    if stderr {
        cmd.stderr(broken());
    }
    // Not `output()`: tokio's sets both streams to pipes of its own.
    let child = cmd.spawn().expect("chaos-gate starts");
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("exits")
        .expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// Spawns the gate with file descriptors closed, as `>&-` / `2>&-` do.
#[allow(unsafe_code)]
async fn with_closed(gate: Gate, args: &[&str], fds: &'static [i32]) -> Option<i32> {
    let mut cmd = gate.command(args);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: only closes descriptors in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            use std::os::fd::FromRawFd;
            for fd in fds {
                drop(std::os::fd::OwnedFd::from_raw_fd(*fd));
            }
            Ok(())
        });
    }
    let status = tokio::time::timeout(Duration::from_secs(60), cmd.status())
        .await
        .expect("exits")
        .expect("status");
    status.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_or_broken_stdout_or_stderr_changes_no_exit_code() {
    let sim = sim(&format!(
        "{}[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 2\nstatus = 503\n",
        experiment(ID, &["Running", "Completed"], Some(40.0))
    ))
    .await;
    // Each case: a gate, its arguments, the exit code it owes.
    type Case<'a> = (&'a str, Box<dyn Fn() -> Gate + 'a>, &'a [&'a str], i32);
    let cases: Vec<Case> = vec![
        ("--help", Box::new(Gate::bare), &["--help"], 0),
        ("--version", Box::new(Gate::bare), &["--version"], 0),
        ("an argument", Box::new(Gate::bare), &["--nope"], 2),
        (
            "bad settings",
            Box::new(|| Gate::bare().env("INPUT_TIMEOUT", "soon")),
            &[],
            2,
        ),
        (
            "bad settings on GitHub",
            Box::new(|| {
                Gate::bare()
                    .env("GITHUB_ACTIONS", "true")
                    .env("CHAOS_GATE_API_KEY", API_KEY)
            }),
            &[],
            2,
        ),
        (
            "a failing run with retries logged at debug",
            Box::new(|| on_every_host(Gate::new(&sim, ID)).env("RUST_LOG", "debug")),
            &[],
            1,
        ),
        (
            "a failing run, json log",
            Box::new(|| Gate::new(&sim, ID).env("CHAOS_GATE_LOG_FORMAT", "json")),
            &[],
            1,
        ),
    ];
    let mut failures = Vec::new();
    for (name, gate, args, code) in &cases {
        for (how, out, err) in [
            ("stdout", true, false),
            ("stderr", false, true),
            ("both", true, true),
        ] {
            let (got, text) = with_broken(gate(), args, out, err).await;
            if got != Some(*code) || text.contains("panicked") {
                failures.push(format!(
                    "{name}, broken {how}: exit {got:?}, expected {code}\n{text}"
                ));
            }
        }
        const FDS: [&[i32]; 3] = [&[1], &[2], &[1, 2]];
        for fds in FDS {
            let got = with_closed(gate(), args, fds).await;
            if got != Some(*code) {
                failures.push(format!(
                    "{name}, closed fds {fds:?}: exit {got:?}, expected {code}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An output file that is a FIFO nobody reads: the gate gives it up and
/// exits with 143 within 5 s of SIGTERM, naming the file on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_blocks_does_not_hold_the_exit_after_a_signal() {
    for variable in [
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
        "DRONE_OUTPUT",
        "CHAOS_GATE_JUNIT_PATH",
    ] {
        let sim = sim(&experiment("slow", &["Running"], None)).await;
        let gate = Gate::new(&sim, "slow");
        let fifo = fifo_in(&gate, "nobody-reads");
        let gate = gate.env(variable, fifo.to_str().expect("utf-8"));
        let (mut child, _dir) = gate.spawn();
        eventually(Duration::from_secs(20), "the run to be polled", || {
            count(&sim, "listWorkflowRun") >= 2
        })
        .await;
        let (code, took) = signal_and_wait(&mut child, "TERM").await;
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr).await;
        }
        assert_eq!(code, Some(143), "{variable}: {stderr}");
        eprintln!("{variable}: exited {took:?} after SIGTERM");
        assert!(
            took < Duration::from_secs(5),
            "{variable}: exited {took:?} after SIGTERM"
        );
        assert!(
            stderr.contains("gave up writing") && stderr.contains("nobody-reads"),
            "{variable}: the file is named: {stderr}"
        );
        assert!(
            sim.runs()[0].stopped,
            "{variable}: the run was stopped all the same"
        );
    }
}

#[tokio::test]
async fn an_output_that_blocks_does_not_hold_a_finished_gate() {
    let sim = completing_sim().await;
    let gate = Gate::new(&sim, ID);
    let fifo = fifo_in(&gate, "summary.fifo");
    let started = tokio::time::Instant::now();
    let run = gate
        .env("GITHUB_STEP_SUMMARY", fifo.to_str().expect("utf-8"))
        .run()
        .await;
    run.assert_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    run.assert_stderr_has("summary.fifo");
    assert_valid_junit(&run.junit().expect("JUnit written before"));
}

/// Megabytes of platform text: the console and annotations show a readable
/// cut with the original length, the files stay bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_too_long_to_read_is_cut_where_people_read_it() {
    let huge = "P".repeat(2 * 1024 * 1024);
    let cases = [
        (
            "a 2 MB phase",
            format!(
                "[[experiments]]\nid = \"5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21\"\nphases = [\"{huge}\", \"Completed\"]\nresiliency_score = 50.0\n"
            ),
        ),
        (
            "a 2 MB fault name and failed step",
            format!(
                "[[experiments]]\nid = \"5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21\"\nphases = [\"Completed\"]\nresiliency_score = 50.0\n\n[[experiments.faults]]\nname = \"{huge}\"\nverdict = \"Fail\"\nfail_step = \"{huge}\"\n"
            ),
        ),
        (
            "a 2 MB error response",
            format!(
                "[[experiments]]\nid = \"5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21\"\nphases = [\"Error\"]\nerror_response = \"{huge}\"\n"
            ),
        ),
        (
            "a 2 MB GraphQL error",
            format!(
                "{}[[inject]]\noperation = \"listWorkflowRun\"\nbody = '{{\"data\":null,\"errors\":[{{\"message\":\"{huge}\"}}]}}'\n",
                experiment(ID, &["Completed"], Some(1.0))
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (name, body) in cases {
        let sim = sim(&body).await;
        for format in ["text", "json"] {
            let run = on_every_host(Gate::new(&sim, ID))
                .env("CHAOS_GATE_LOG_FORMAT", format)
                .run()
                .await;
            let mut problems = Vec::new();
            if !matches!(run.code, Some(1) | Some(3)) {
                problems.push(format!("exit {:?}", run.code));
            }
            if run.stdout.len() > 64 * 1024 || run.stderr.len() > 64 * 1024 {
                problems.push(format!(
                    "{} + {} bytes printed",
                    run.stdout.len(),
                    run.stderr.len()
                ));
            }
            if !run.stdout.contains("characters in all") {
                problems.push("no note of the original length".to_string());
            }
            for f in [
                "chaos-gate-junit.xml",
                "github-output",
                "step-summary",
                "chaos-gate.env",
            ] {
                let len = std::fs::metadata(run.path(f)).map(|m| m.len()).unwrap_or(0);
                if len > 256 * 1024 {
                    problems.push(format!("{f} is {len} bytes"));
                }
            }
            problems.extend(run.junit_problem());
            if !problems.is_empty() {
                let short = Run {
                    stdout: run.stdout.chars().take(3000).collect(),
                    stderr: run.stderr.chars().take(3000).collect(),
                    ..run
                };
                failures.push(short.row_failure(&format!("{name}, {format}"), &problems));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Scores a server may send that print badly: no `-0`, no 323-digit
/// number, at most two decimals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_scores_print_as_short_numbers() {
    for (score, threshold, shown, code) in [
        ("-0.0", "0", "0", 0),
        ("1e-320", "0", "0", 0),
        ("5e-324", "50", "0", 1),
        ("66.66666666666667", "50", "66.66", 0),
        ("79.99999", "80", "79.99", 1),
    ] {
        let sim = sim(&format!(
            "[[experiments]]\nid = \"5a1e7c3b-1d2e-4f60-9a8b-7c6d5e4f3a21\"\nphases = [\"Completed\"]\nresiliency_score = {score}\n"
        ))
        .await;
        let run = on_every_host(Gate::new(&sim, ID))
            .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", threshold)
            .run()
            .await;
        run.assert_code(code);
        let output = std::fs::read_to_string(run.path("github-output")).expect("outputs");
        let dotenv = std::fs::read_to_string(run.path("chaos-gate.env")).expect("dotenv");
        let summary = std::fs::read_to_string(run.path("step-summary")).expect("summary");
        let junit = run.junit().expect("JUnit");
        assert!(
            output.contains(&format!("resilience_score={shown}\n")),
            "{score}: {output}"
        );
        assert!(
            dotenv.contains(&format!("CHAOS_GATE_RESILIENCE_SCORE={shown}\n")),
            "{score}: {dotenv}"
        );
        assert!(
            run.stdout.contains(&format!("score {shown}")),
            "{score}: {}",
            run.stdout
        );
        for (what, text) in [
            ("stdout", &run.stdout),
            ("summary", &summary),
            ("JUnit", &junit),
            ("outputs", &output),
        ] {
            assert!(
                !text.contains("-0 ") && !text.contains("-0\n") && !text.contains("-0.0"),
                "{score}: {what} shows -0:\n{text}"
            );
            assert!(
                !text.contains("0000000000"),
                "{score}: {what} spells out a tiny float:\n{text}"
            );
        }
    }
}
