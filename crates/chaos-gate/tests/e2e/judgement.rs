//! Judging like a quality gate (README "Phases and verdicts", "Exit codes"):
//! the warning band, baselines from the platform's own run history,
//! critical faults, probes required and report-only, end to end.

use crate::common::*;

/// The experiment's ID (a UUID: anything else is an identity, README "Settings").
const EXP: &str = "00000000-0000-4000-8000-000000000001";

/// An experiment `exp` ending in `phase` with `score`, its faults
/// (`name`, verdict, probe success) and its past runs (phase, score),
/// newest first.
fn exp_toml(
    phase: &str,
    score: Option<f64>,
    faults: &[(&str, &str, Option<&str>)],
    history: &[(&str, Option<f64>)],
) -> String {
    let mut t = format!("[[experiments]]\nid = \"{EXP}\"\nphases = [\"Running\", {phase:?}]\n");
    if let Some(s) = score {
        t.push_str(&format!("resiliency_score = {s:?}\n"));
    }
    for (name, verdict, probe) in faults {
        t.push_str(&format!(
            "[[experiments.faults]]\nname = {name:?}\nverdict = {verdict:?}\n"
        ));
        if let Some(p) = probe {
            t.push_str(&format!("probe_success_percentage = {p:?}\n"));
        }
    }
    for (phase, score) in history {
        t.push_str(&format!("[[experiments.history]]\nphase = {phase:?}\n"));
        if let Some(s) = score {
            t.push_str(&format!("resiliency_score = {s:?}\n"));
        }
    }
    t
}

const PASSING_FAULT: &[(&str, &str, Option<&str>)] = &[("pod-delete", "Pass", Some("100"))];

/// One row: a scenario, settings, and what the gate must end with.
struct Row {
    name: &'static str,
    scenario: String,
    env: Vec<(&'static str, &'static str)>,
    code: i32,
    verdict: &'static str,
    /// Text stdout must contain.
    says: &'static str,
}

fn row(
    name: &'static str,
    scenario: String,
    env: &[(&'static str, &'static str)],
    code: i32,
    verdict: &'static str,
    says: &'static str,
) -> Row {
    Row {
        name,
        scenario,
        env: env.to_vec(),
        code,
        verdict,
        says,
    }
}

fn rows() -> Vec<Row> {
    let scored = |s: f64| exp_toml("Completed", Some(s), PASSING_FAULT, &[]);
    let with_history =
        |s: f64, h: &[(&str, Option<f64>)]| exp_toml("Completed", Some(s), PASSING_FAULT, h);
    let t80 = ("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80");
    let w60 = ("CHAOS_GATE_WARNING_SCORE", "60");
    let b3 = ("CHAOS_GATE_BASELINE_RUNS", "3");
    // A perfect score, but the fault pod-delete failed and net passed.
    let pod_delete_failed = exp_toml(
        "Completed",
        Some(100.0),
        &[
            ("pod-delete", "Fail", Some("0")),
            ("net", "Pass", Some("100")),
        ],
        &[],
    );
    let history = [
        ("Completed", Some(100.0)),
        ("Completed", Some(90.0)),
        ("Completed", Some(100.0)),
    ];
    vec![
        // Rule 5: the warning band, ties included.
        row(
            "a score equal to the warning score warns",
            scored(60.0),
            &[t80, w60],
            0,
            "warn",
            "is below the expected 80 but at least the warning score 60",
        ),
        row(
            "a warning with warn_exit_code",
            scored(70.0),
            &[t80, w60, ("CHAOS_GATE_WARN_EXIT_CODE", "78")],
            78,
            "warn",
            "Gate passed with a warning",
        ),
        row(
            "a score below the warning score fails",
            scored(59.99),
            &[t80, w60],
            1,
            "fail",
            "and the warning score 60",
        ),
        row(
            "a score equal to the threshold passes",
            scored(80.0),
            &[t80, w60],
            0,
            "pass",
            "meets the expected 80",
        ),
        // Rule 6: baselines (median of 100, 90, 100 is 100).
        row(
            "more than max_score_drop below the baseline is a regression",
            with_history(89.0, &history),
            &[t80, b3],
            1,
            "fail",
            "more than 10 points below the baseline 100 (a regression)",
        ),
        row(
            "exactly the baseline minus the drop passes",
            with_history(90.0, &history),
            &[t80, b3],
            0,
            "pass",
            "within 10 points of the baseline 100",
        ),
        row(
            "a baseline from fewer runs than asked",
            with_history(95.0, &history[..2]),
            &[t80, ("CHAOS_GATE_BASELINE_RUNS", "5")],
            0,
            "pass",
            "baseline 95 (median of its last 2 finished run(s) of 5 asked",
        ),
        row(
            "no finished run: no baseline",
            with_history(95.0, &[("Error", Some(100.0)), ("Completed", None)]),
            &[t80, b3],
            0,
            "pass",
            "no baseline",
        ),
        row(
            "a warning comes before a regression",
            with_history(70.0, &history),
            &[t80, w60, b3],
            0,
            "warn",
            "at least the warning score 60",
        ),
        // Rule 4: critical faults, before the score.
        row(
            "a critical fault that failed fails a perfect score",
            pod_delete_failed.clone(),
            &[("CHAOS_GATE_CRITICAL_FAULTS", "pod-delete")],
            1,
            "fail",
            "critical fault pod-delete did not pass",
        ),
        row(
            "every fault is critical with *",
            exp_toml("Completed", Some(100.0), &[("net", "Fail", Some("0"))], &[]),
            &[("CHAOS_GATE_CRITICAL_FAULTS", "*")],
            1,
            "fail",
            "critical fault net did not pass",
        ),
        row(
            "a failed fault that is not critical is tolerated by the score",
            pod_delete_failed.clone(),
            &[("CHAOS_GATE_CRITICAL_FAULTS", "net")],
            0,
            "pass",
            "Gate passed",
        ),
        // Rule 3: probes required, before critical faults.
        row(
            "no probe evaluated is inconclusive",
            exp_toml(
                "Completed_With_Probe_Absent",
                Some(100.0),
                &[("pod-delete", "Pass", None)],
                &[],
            ),
            &[
                ("CHAOS_GATE_REQUIRE_PROBES", "true"),
                ("CHAOS_GATE_CRITICAL_FAULTS", "*"),
            ],
            1,
            "inconclusive",
            "no probe was evaluated",
        ),
        row(
            "faults without probe results are inconclusive too",
            exp_toml(
                "Completed",
                Some(100.0),
                &[("pod-delete", "Pass", Some(""))],
                &[],
            ),
            &[("CHAOS_GATE_REQUIRE_PROBES", "true")],
            1,
            "inconclusive",
            "inconclusive",
        ),
        row(
            "probes evaluated pass",
            scored(100.0),
            &[("CHAOS_GATE_REQUIRE_PROBES", "true")],
            0,
            "pass",
            "Gate passed",
        ),
        // Rule 1 before all.
        row(
            "a failing phase fails first",
            exp_toml("Interrupted", Some(100.0), &[], &[]),
            &[("CHAOS_GATE_REQUIRE_PROBES", "true"), w60],
            1,
            "fail",
            "fails the gate whatever the score",
        ),
        // Report-only and the exit codes of section 5.
        row(
            "on_fail=warn reports a failure without enforcing it",
            scored(50.0),
            &[t80, ("CHAOS_GATE_ON_FAIL", "warn")],
            0,
            "fail",
            "the failure is not enforced",
        ),
        row(
            "on_fail=warn with warn_exit_code",
            scored(50.0),
            &[
                t80,
                ("CHAOS_GATE_ON_FAIL", "warn"),
                ("CHAOS_GATE_WARN_EXIT_CODE", "42"),
            ],
            42,
            "fail",
            "the failure is not enforced",
        ),
        row(
            "on_fail=warn softens inconclusive too",
            exp_toml("Completed_With_Probe_Absent", Some(100.0), &[], &[]),
            &[
                ("CHAOS_GATE_REQUIRE_PROBES", "true"),
                ("CHAOS_GATE_ON_FAIL", "warn"),
                ("CHAOS_GATE_WARN_EXIT_CODE", "42"),
            ],
            42,
            "inconclusive",
            "not enforced",
        ),
        row(
            "a timeout outranks on_fail=warn",
            exp_toml("Running", None, &[], &[]),
            &[
                ("CHAOS_GATE_TIMEOUT", "1"),
                ("CHAOS_GATE_ON_FAIL", "warn"),
                ("CHAOS_GATE_WARN_EXIT_CODE", "42"),
            ],
            4,
            "timeout",
            "timed out",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_of_section_4_in_order_with_its_exit_code() {
    let mut failures = Vec::new();
    for row in rows() {
        let sim = sim(&row.scenario).await;
        let mut gate = Gate::new(&sim, EXP).env("GITHUB_OUTPUT", "out.txt");
        for (k, v) in &row.env {
            gate = gate.env(k, v);
        }
        let run = gate.run().await;
        let mut problems = Vec::new();
        if run.code != Some(row.code) {
            problems.push(format!("exit {:?}, expected {}", run.code, row.code));
        }
        let out = std::fs::read_to_string(run.path("out.txt")).unwrap_or_default();
        if !out.contains(&format!("verdict={}\n", row.verdict)) {
            problems.push(format!("verdict output is not {}", row.verdict));
        }
        if !run.stdout.contains(row.says) {
            problems.push(format!("stdout lacks {:?}", row.says));
        }
        problems.extend(run.junit_problem());
        if !problems.is_empty() {
            failures.push(run.row_failure(row.name, &problems));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The baseline is read once per experiment, before anything is
/// triggered, so no run of this gate can be part of it.
#[tokio::test]
async fn the_baseline_is_one_listing_per_experiment_before_the_trigger() {
    let sim = sim(&exp_toml(
        "Completed",
        Some(100.0),
        PASSING_FAULT,
        &[("Completed", Some(100.0))],
    ))
    .await;
    let run = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_BASELINE_RUNS", "3")
        .env("GITHUB_OUTPUT", "out.txt")
        .run()
        .await;
    run.assert_code(0);
    let requests = sim.requests();
    let listings: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.body.contains("ListPastWorkflowRuns"))
        .map(|(i, _)| i)
        .collect();
    let trigger = requests
        .iter()
        .position(|r| r.operation.as_deref() == Some("runChaosExperiment"))
        .expect("a trigger");
    assert_eq!(listings.len(), 1, "one listing");
    assert!(listings[0] < trigger, "read before the trigger");
    let out = std::fs::read_to_string(run.path("out.txt")).expect("outputs");
    assert!(out.contains(r#""baseline_score":100.0"#), "{out}");

    // A second gate on the same experiment: the first gate's run is now a
    // past run and counts; the second gate's own run does not.
    let second = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_BASELINE_RUNS", "3")
        .run()
        .await;
    second.assert_code(0);
    second.assert_stdout_has("median of its last 2 finished run(s)");
}

#[tokio::test]
async fn a_litmus_baseline_comes_from_listexperimentrun() {
    let sim = litmus_sim(&exp_toml(
        "Completed",
        Some(70.0),
        PASSING_FAULT,
        &[("Completed", Some(95.0)), ("Completed", Some(85.0))],
    ))
    .await;
    let run = Gate::litmus(&sim, EXP)
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "60")
        .env("CHAOS_GATE_BASELINE_RUNS", "2")
        .run()
        .await;
    run.assert_code(1);
    run.assert_stdout_has("more than 10 points below the baseline 90");
    assert_eq!(
        sim.requests()
            .iter()
            .filter(|r| r.body.contains("ListPastExperimentRuns"))
            .count(),
        1
    );
}

/// The report tells the same story as the exit code: a warning run is a
/// passing test case that says it warned; a fault that failed under a
/// passing run is a passing case; inconclusive is a failure. Each valid
/// against the XSD.
#[tokio::test]
async fn junit_agrees_with_the_exit_code_for_each_verdict() {
    let cases = [
        (
            exp_toml("Completed", Some(70.0), PASSING_FAULT, &[]),
            vec![
                ("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80"),
                ("CHAOS_GATE_WARNING_SCORE", "60"),
            ],
            0,
            "<system-out>warning: ",
            "<failure",
        ),
        (
            exp_toml(
                "Completed",
                Some(100.0),
                &[("pod-delete", "Fail", Some("0"))],
                &[],
            ),
            vec![],
            0,
            "its resilience score tolerated this fault",
            "<failure",
        ),
        (
            exp_toml("Completed_With_Probe_Absent", Some(100.0), &[], &[]),
            vec![("CHAOS_GATE_REQUIRE_PROBES", "true")],
            1,
            r#"<failure type="chaos-gate.inconclusive""#,
            "<error",
        ),
        (
            exp_toml(
                "Completed",
                Some(100.0),
                &[("pod-delete", "Fail", Some("0"))],
                &[],
            ),
            vec![("CHAOS_GATE_CRITICAL_FAULTS", "pod-delete")],
            1,
            r#"<failure type="chaos-gate.fault""#,
            "<error",
        ),
    ];
    for (scenario, env, code, has, lacks) in cases {
        let sim = sim(&scenario).await;
        let mut gate = Gate::new(&sim, EXP);
        for (k, v) in &env {
            gate = gate.env(k, v);
        }
        let run = gate.run().await;
        run.assert_code(code);
        let xml = run.valid_junit();
        assert!(xml.contains(has), "{has:?} in\n{xml}");
        assert!(!xml.contains(lacks), "no {lacks:?} in\n{xml}");
    }
}

#[tokio::test]
async fn judgement_settings_are_checked_before_anything_is_sent() {
    let sim = sim(&exp_toml("Completed", Some(100.0), PASSING_FAULT, &[])).await;
    for (k, v, says) in [
        (
            "CHAOS_GATE_WARNING_SCORE",
            "90",
            "above expected_resilience_score",
        ),
        ("CHAOS_GATE_WARN_EXIT_CODE", "3", "5 to 125"),
        ("CHAOS_GATE_ON_FAIL", "maybe", "fail or warn"),
        ("CHAOS_GATE_BASELINE_RUNS", "-1", "whole number"),
        ("CHAOS_GATE_MAX_SCORE_DROP", "101", "outside 0..100"),
    ] {
        let run = Gate::new(&sim, EXP)
            .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80")
            .env(k, v)
            .run()
            .await;
        run.assert_code(2);
        assert!(
            run.stderr.contains(k) && run.stderr.contains(says),
            "{k}: {}",
            run.stderr
        );
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
}

/// The step summary with a baseline: the recent scores and this run's
/// beside the threshold, warning score and baseline, as Markdown tables
/// that really parse as tables (GitHub-flavoured Markdown), and a
/// `::warning::` annotation for a warning.
#[tokio::test]
async fn the_step_summary_charts_recent_scores_as_tables_that_render() {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let sim = sim(&exp_toml(
        "Completed",
        Some(72.5),
        PASSING_FAULT,
        &[("Completed", Some(100.0)), ("Completed", Some(90.0))],
    ))
    .await;
    let run = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80")
        .env("CHAOS_GATE_WARNING_SCORE", "70")
        .env("CHAOS_GATE_BASELINE_RUNS", "5")
        .env("GITHUB_STEP_SUMMARY", "summary.md")
        .run()
        .await;
    run.assert_code(0);
    run.assert_stdout_has(&format!("::warning title=chaos-gate%3A {EXP} warn::"));
    let md = std::fs::read_to_string(run.path("summary.md")).expect("summary written");
    assert!(md.contains("recent scores"), "{md}");
    assert!(md.contains("| **this run** | **72.5** |"), "{md}");
    assert!(md.contains("| baseline | 95 |"), "{md}");
    let tables = Parser::new_ext(&md, Options::ENABLE_TABLES)
        .filter(|e| matches!(e, Event::Start(Tag::Table(_))))
        .count();
    assert_eq!(
        tables, 4,
        "experiments, recent scores, faults, probe results:\n{md}"
    );
    assert!(
        !Parser::new_ext(&md, Options::ENABLE_TABLES)
            .any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))),
        "no raw HTML:\n{md}"
    );
}
