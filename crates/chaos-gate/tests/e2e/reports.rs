//! README "Reports and outputs": the JUnit report (valid against the Jenkins xUnit XSD, written
//! whole whatever the outcome) and each CI host's outputs, with the hosts
//! simulated by their environment.

use crate::common::*;

const FAULTS: &str = r#"
[[experiments]]
id = "cart"
phases = ["Running", "Completed_With_Probe_Failure"]
resiliency_score = 50.0

[[experiments.faults]]
name = "pod-delete"
verdict = "Pass"
probe_success_percentage = "100"

[[experiments.faults]]
name = "network-loss"
verdict = "Fail"
probe_success_percentage = "0"
fail_step = "probe cart-health failed"

[[experiments]]
id = "ok"
phases = ["Running", "Completed"]
resiliency_score = 100.0
"#;

#[tokio::test]
async fn junit_for_a_pass_validates_and_holds_each_fault() {
    let sim = sim(&experiment("ok", &["Running", "Completed"], Some(100.0))).await;
    let run = Gate::new(&sim, "ok").run().await;
    run.assert_code(0);
    let xml = run.valid_junit();
    assert!(
        xml.contains(r#"<testsuite name="chaos-gate" tests="2" failures="0" errors="0""#),
        "{xml}"
    );
    assert!(
        // One classname for an experiment and its faults: one package in
        // Jenkins.
        xml.contains(r#"<testcase name="ok" classname="chaos-gate.ok""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="pod-delete" classname="chaos-gate.ok""#),
        "{xml}"
    );
    assert!(
        xml.contains("fault pod-delete: verdict Pass, probe success 100%"),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
}

#[tokio::test]
async fn junit_for_a_fail_says_phase_score_and_threshold_in_message_and_body() {
    let sim = sim(FAULTS).await;
    let run = Gate::new(&sim, "cart,ok")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "75")
        .run()
        .await;
    run.assert_code(1);
    let xml = run.valid_junit();
    let case = xml
        .split("<testcase name=\"cart\"")
        .nth(1)
        .and_then(|s| s.split("</testcase>").next())
        .expect("a test case for cart");
    let message = case
        .split("message=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a failure message");
    for needle in ["Completed_With_Probe_Failure", "50", "75"] {
        assert!(
            message.contains(needle),
            "message lacks {needle}: {message}"
        );
    }
    let body = case
        .split("<failure")
        .nth(1)
        .and_then(|s| s.split_once('>'))
        .and_then(|(_, rest)| rest.split("</failure>").next())
        .expect("a failure body");
    for needle in [
        "phase: Completed_With_Probe_Failure",
        "resilience score: 50",
        "expected resilience score: 75",
    ] {
        assert!(body.contains(needle), "body lacks {needle}: {body}");
    }
    // Faults: one passing, one failing with its probe percentage and step.
    assert!(
        xml.contains(r#"<testcase name="pod-delete" time="0" classname="chaos-gate.cart"/>"#)
            || xml.contains(r#"<testcase name="pod-delete""#),
        "{xml}"
    );
    assert!(xml.contains("fault network-loss: verdict Fail, probe success 0%, failed step: probe cart-health failed"), "{xml}");
    assert!(
        xml.contains(r#"tests="4""#) && xml.contains(r#"failures="2""#),
        "{xml}"
    );
}

#[tokio::test]
async fn junit_for_a_timeout_validates_and_is_a_failure() {
    let sim = sim(&experiment("slow", &["Running"], None)).await;
    let run = Gate::new(&sim, "slow")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    let xml = run.valid_junit();
    assert!(
        xml.contains(r#"<failure type="chaos-gate.timeout""#),
        "{xml}"
    );
    assert!(xml.contains("phase Running"), "{xml}");
}

#[tokio::test]
async fn junit_for_a_platform_error_is_an_error() {
    let sim = sim(&experiment("exp", &["Running"], None)).await;
    let run = Gate::new(&sim, "missing-experiment").run().await;
    run.assert_code(3);
    let xml = run.valid_junit();
    assert!(
        xml.contains(r#"<error type="chaos-gate.platform-error""#),
        "{xml}"
    );
}

#[tokio::test]
async fn junit_path_is_honoured_and_hostile_text_stays_valid_xml() {
    let hostile = "[[experiments]]\nid = \"exp\"\nphases = [\"Completed\"]\nresiliency_score = 100.0\n\n[[experiments.faults]]\nname = \"bad ]]> \\u0001 <x> & \\\"q\\\"\"\nverdict = \"Fail\"\n";
    let sim = sim(hostile).await;
    let gate = Gate::new(&sim, "exp").env("CHAOS_GATE_JUNIT_PATH", "reports/chaos.xml");
    let path = gate.path("reports/chaos.xml");
    let run = gate.run().await;
    run.assert_code(0);
    let xml = std::fs::read_to_string(path).expect("JUnit at junit_path");
    assert_valid_junit(&xml);
    let leftovers: Vec<_> = std::fs::read_dir(run.path("reports"))
        .expect("folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

/// Lines of a GitHub output file as name → value (both forms).
fn parse_github_output(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

#[tokio::test]
async fn github_outputs_summary_masks_and_annotations() {
    let sim = sim(FAULTS).await;
    let gate = Gate::new(&sim, "cart,ok")
        .env("GITHUB_ACTIONS", "true")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "75");
    let output = gate.path("github_output");
    std::fs::write(&output, "earlier=kept\n").expect("seed");
    let gate = gate
        .env("GITHUB_OUTPUT", output.to_str().expect("utf-8"))
        .path_env("GITHUB_STEP_SUMMARY", "step_summary");
    let run = gate.run().await;
    run.assert_code(1);

    // The mask is the very first line on stdout.
    assert_eq!(
        run.stdout.lines().next(),
        Some(format!("::add-mask::{API_KEY}").as_str())
    );
    assert!(
        !run.stdout
            .replace(&format!("::add-mask::{API_KEY}"), "")
            .contains(API_KEY)
    );

    let runs = sim.runs();
    let notify = |exp: &str| {
        runs.iter()
            .find(|r| r.experiment_id == exp)
            .map(|r| r.notify_id.clone())
            .expect("run")
    };
    let text = std::fs::read_to_string(&output).expect("outputs written");
    let outputs = parse_github_output(&text);
    let get = |k: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("output {k} missing: {text}"))
    };
    assert_eq!(get("earlier"), "kept", "the file is appended to");
    assert_eq!(get("verdict"), "fail");
    assert_eq!(get("resilience_score"), "50");
    assert_eq!(
        get("notify_ids"),
        format!("{},{}", notify("cart"), notify("ok"))
    );
    assert_eq!(get("junit_path"), "chaos-gate-junit.xml");
    let results: serde_json::Value =
        serde_json::from_str(&get("results")).expect("results is JSON");
    assert_eq!(
        results,
        serde_json::json!([
            {"experiment_id": "cart", "notify_id": notify("cart"), "phase": "Completed_With_Probe_Failure", "resilience_score": 50.0, "verdict": "fail", "baseline_score": null, "stopped": null},
            {"experiment_id": "ok", "notify_id": notify("ok"), "phase": "Completed", "resilience_score": 100.0, "verdict": "pass", "baseline_score": null, "stopped": null}
        ])
    );

    let md = run.read("step_summary");
    assert!(md.contains("| cart |"), "{md}");
    assert!(md.contains("█████░░░░░ 50"), "a score bar: {md}");
    assert!(md.contains("| cart | network-loss | Fail | 0% |"), "{md}");

    assert!(
        run.stdout
            .contains("::group::chaos-gate: 2 experiment(s) on harness")
    );
    let group = run.stdout.find("::group::").expect("group");
    let end = run.stdout.find("::endgroup::").expect("endgroup");
    let table = run.stdout.find("EXPERIMENT").expect("table");
    assert!(
        group < end && end < table,
        "the polling log is grouped, the table is not"
    );
    run.assert_stdout_has(
        "::error title=chaos-gate%3A cart fail::phase Completed_With_Probe_Failure",
    );
}

#[tokio::test]
async fn github_score_is_empty_when_no_run_reported_one() {
    let sim = sim(&experiment("exp", &["Completed"], None)).await;
    let gate = Gate::new(&sim, "exp");
    let run = gate.path_env("GITHUB_OUTPUT", "out").run().await;
    run.assert_code(1);
    let text = run.read("out");
    assert!(text.contains("\nresilience_score=\n"), "{text}");
}

#[tokio::test]
async fn platform_text_cannot_become_a_workflow_command() {
    let evil = r#"[[experiments]]
id = "exp"
phases = ["Running\n::warning::phase-injected", "Completed"]
resiliency_score = 10.0

[[experiments.faults]]
name = "f%0A::warning::percent-injected\n::error::newline-injected"
verdict = "Fail"
fail_step = "\r::notice::cr-injected"
"#;
    let sim = sim(evil).await;
    let gate = Gate::new(&sim, "exp").env("GITHUB_ACTIONS", "true");
    let summary = gate.path("summary");
    let run = gate
        .path_env("GITHUB_OUTPUT", "out")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))
        .run()
        .await;
    run.assert_code(1);
    for stream in [&run.stdout, &run.stderr] {
        for line in stream.split(['\n', '\r']) {
            let l = line.trim_start();
            if l.starts_with("::") {
                assert!(
                    [
                        "::add-mask::",
                        "::group::",
                        "::endgroup::",
                        "::error title=chaos-gate",
                        "::warning title=chaos-gate"
                    ]
                    .iter()
                    .any(|ok| l.starts_with(ok)),
                    "a workflow command came from platform text: {l}"
                );
                assert!(!l.contains("injected::"), "{l}");
            }
        }
    }
    assert!(
        run.stdout.contains("percent-injected"),
        "the text itself is still shown"
    );
}

#[tokio::test]
async fn gitlab_dotenv_and_collapsible_sections() {
    let sim = sim(FAULTS).await;
    let run = Gate::new(&sim, "ok").env("GITLAB_CI", "true").run().await;
    run.assert_code(0);
    let notify = sim.runs()[0].notify_id.clone();
    let dotenv = std::fs::read_to_string(run.path("chaos-gate.env")).expect("dotenv written");
    assert_eq!(
        dotenv,
        format!(
            "CHAOS_GATE_VERDICT=pass\nCHAOS_GATE_RESILIENCE_SCORE=100\nCHAOS_GATE_NOTIFY_IDS={notify}\n"
        )
    );
    let start = run
        .stdout
        .find("\x1b[0Ksection_start:")
        .expect("a section starts");
    let end = run
        .stdout
        .find("\x1b[0Ksection_end:")
        .expect("a section ends");
    assert!(start < end);
    assert!(run.stdout[start..].contains(":chaos_gate_polling[collapsed=true]\r\x1b[0K"));
}

#[tokio::test]
async fn drone_and_harness_ci_output_files() {
    let sim = sim(FAULTS).await;
    let gate = Gate::new(&sim, "cart").env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "75");
    let drone = gate.path("drone.env");
    let harness = gate.path("harness.env");
    let run = gate
        .env("DRONE_OUTPUT", drone.to_str().expect("utf-8"))
        .env("HARNESS_OUTPUT_FILE", harness.to_str().expect("utf-8"))
        .run()
        .await;
    run.assert_code(1);
    let notify = sim.runs()[0].notify_id.clone();
    let expected = format!(
        "CHAOS_GATE_VERDICT=fail\nCHAOS_GATE_RESILIENCE_SCORE=50\nCHAOS_GATE_NOTIFY_IDS={notify}\n"
    );
    assert_eq!(
        std::fs::read_to_string(drone).expect("drone file"),
        expected
    );
    assert_eq!(
        std::fs::read_to_string(harness).expect("harness file"),
        expected
    );
}

#[tokio::test]
async fn json_log_format_prints_one_object_per_line() {
    let sim = sim(&experiment("exp", &["Running", "Completed"], Some(100.0))).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_LOG_FORMAT", "json")
        .run()
        .await;
    run.assert_code(0);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert!(kinds.contains(&"triggered") && kinds.contains(&"phase"));
    assert_eq!(kinds.last(), Some(&"finished"));
    assert_eq!(
        events.last().map(|e| e["verdict"].clone()),
        Some("pass".into())
    );
}

#[tokio::test]
async fn github_output_and_summary_files_have_exactly_this_content() {
    let sim = sim(&experiment("ok", &["Running", "Completed"], Some(100.0))).await;
    let gate = Gate::new(&sim, "ok").env("GITHUB_ACTIONS", "true");
    let run = gate
        .path_env("GITHUB_OUTPUT", "github_output")
        .path_env("GITHUB_STEP_SUMMARY", "step_summary")
        .run()
        .await;
    run.assert_code(0);
    let r = sim.runs()[0].clone();
    let (notify, run_id) = (r.notify_id, r.run_id);
    assert_eq!(
        run.read("github_output"),
        format!(
            "verdict=pass\n\
             resilience_score=100\n\
             notify_ids={notify}\n\
             junit_path=chaos-gate-junit.xml\n\
             results=[{{\"experiment_id\":\"ok\",\"notify_id\":\"{notify}\",\"phase\":\"Completed\",\"resilience_score\":100.0,\"verdict\":\"pass\",\"baseline_score\":null,\"stopped\":null}}]\n"
        )
    );
    let link = format!(
        "{}/ng/account/{ACCOUNT}/module/chaos/orgs/default/projects/{PROJECT}/experiments/ok/runs/{run_id}",
        sim.url()
    );
    assert_eq!(
        run.read("step_summary"),
        format!(
            "### chaos-gate: pass\n\n\
             Gate passed: every run met the expected resilience score 100.\n\n\
             | Experiment | Notify ID | Phase | Resilience score | Expected | Verdict |\n\
             |---|---|---|---|---|---|\n\
             | [ok]({link}) | {notify} | Completed | ██████████ 100 | 100 | ✅ pass |\n\
             \n\
             | Experiment | Fault | Verdict | Probe success | Failed step |\n\
             |---|---|---|---|---|\n\
             | ok | pod-delete | Pass | 100% |  |\n\
             \n\
             | Experiment | Probe results |\n\
             |---|---|\n\
             | ok | none reported by the platform |\n\
             \n"
        )
    );
}

/// What real JUnit consumers showed: a skipped fault's reason as text
/// (GitLab shows only the body), fault cases that take no time of their own
/// (summing tools would count the experiment's time twice), a failing phase
/// typed as a phase failure, not a score failure.
#[tokio::test]
async fn junit_details_for_real_consumers() {
    let body = "[[experiments]]\nid = \"exp\"\nphases = [\"Running\", \"Error\"]\nresiliency_score = 100.0\n\
                [[experiments.faults]]\nname = \"pod-delete\"\nverdict = \"Awaited\"\n";
    let sim = sim(body).await;
    let run = Gate::new(&sim, "exp").run().await;
    run.assert_code(1);
    let xml = run.valid_junit();
    assert!(xml.contains(r#"<failure type="chaos-gate.phase""#), "{xml}");
    let skipped = xml
        .split("<skipped")
        .nth(1)
        .unwrap_or_else(|| panic!("a skipped fault: {xml}"));
    let (_, text) = skipped
        .split_once('>')
        .unwrap_or_else(|| panic!("{skipped}"));
    assert!(
        text.starts_with("fault pod-delete: verdict Awaited"),
        "the reason is the element's text: {xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="pod-delete" classname="chaos-gate.exp" time="0.000">"#),
        "{xml}"
    );
}

/// Two experiments, one with a name on the platform and one without.
const NAMED: &str = r#"
[[experiments]]
id = "UUID1"
name = "Checkout pod delete"
phases = ["Running", "Completed"]
resiliency_score = 100.0

[[experiments.faults]]
name = "pod-delete"

[[experiments]]
id = "UUID2"
phases = ["Running", "Completed"]
resiliency_score = 100.0
"#;

/// README "Reports and outputs": a test case is named by the experiment's name where the
/// platform gives one, with its ID beside it; by its ID otherwise. Its
/// faults keep the experiment's ID as their classname. On both platforms,
/// for one run (read on its own) and for runs that finish together (read in
/// one request).
#[tokio::test]
async fn junit_names_test_cases_by_experiment_name_with_the_id_beside_it() {
    let (one, two) = (uuid(1), uuid(2));
    let body = NAMED.replace("UUID1", &one).replace("UUID2", &two);
    for litmus in [false, true] {
        for ids in [one.clone(), format!("{one},{two}")] {
            let run = if litmus {
                Gate::litmus(&litmus_sim(&body).await, &ids).run().await
            } else {
                Gate::new(&sim(&body).await, &ids).run().await
            };
            run.assert_code(0);
            let xml = run.junit().expect("JUnit written");
            assert_valid_junit(&xml);
            let named = format!(
                "<testcase name=\"Checkout pod delete ({one})\" classname=\"chaos-gate.{one}\""
            );
            assert!(xml.contains(&named), "litmus={litmus} {ids}: {xml}");
            assert!(
                xml.contains(&format!(
                    "<testcase name=\"pod-delete\" classname=\"chaos-gate.{one}\""
                )),
                "{xml}"
            );
            if ids.contains(',') {
                let plain = format!("<testcase name=\"{two}\" classname=\"chaos-gate.{two}\"");
                assert!(xml.contains(&plain), "litmus={litmus}: {xml}");
            }
        }
    }
}
