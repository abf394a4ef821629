//! Property tests: nothing a server or an environment sends makes the
//! parsers panic. `.ci/run` runs these with proptest's default case count;
//! `PROPTEST_CASES=100000 cargo test --test properties` runs longer. The
//! cargo-fuzz targets in `fuzz/` drive the same functions without bounds.

mod support;

use chaos_gate::platform::execution_data;
use chaos_gate::platform::harness::parse_poll_answer;
use chaos_gate::settings::{RawSettings, Settings, parse_duration};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Arbitrary JSON, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    support::any_json_with(
        &[
            "nodes",
            "chaosData",
            "experimentVerdict",
            "probeSuccessPercentage",
            "workflowRuns",
            "notifyID",
            "phase",
            "resiliencyScore",
            "data",
            "errors",
        ],
        "[a-z]{1,8}",
        &[],
    )
}

proptest! {
    #[test]
    fn execution_data_never_panics_on_text(s in ".{0,400}") {
        let _ = execution_data::parse(&s);
    }

    #[test]
    fn execution_data_never_panics_on_json(v in any_json()) {
        let _ = execution_data::parse(&v.to_string());
        let wrapped = json!({"nodes": {"n": {"chaosData": v.clone()}, "m": v}});
        let _ = execution_data::parse(&wrapped.to_string());
    }

    #[test]
    fn poll_answers_never_panic(v in any_json(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_poll_answer(&bytes, &["n-1"]);
        let _ = parse_poll_answer(v.to_string().as_bytes(), &["n-1"]);
        let shaped = json!({"data": {"listWorkflowRun": {"workflowRuns": [v.clone(), {"notifyID": "n-1", "phase": v}]}}});
        let _ = parse_poll_answer(shaped.to_string().as_bytes(), &["n-1"]);
    }

    #[test]
    fn accepted_scores_are_within_0_to_100(score in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let body = json!({"data": {"listWorkflowRun": {"workflowRuns": [
            {"notifyID": "n-1", "phase": "Completed", "resiliencyScore": score}]}}});
        if let Ok(runs) = parse_poll_answer(body.to_string().as_bytes(), &["n-1"]) {
            for r in runs {
                prop_assert!(r.score.is_none_or(|s| (0.0..=100.0).contains(&s)));
            }
        }
    }

    #[test]
    fn durations_never_panic(s in ".{0,30}") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn any_environment_gives_settings_or_errors(
        vars in prop::collection::vec(
            (prop_oneof![Just("CHAOS_GATE_"), Just("INPUT_"), Just("PLUGIN_"), Just("")],
             prop_oneof![
                 Just("TIMEOUT".to_string()), Just("POLL_INTERVAL".to_string()),
                 Just("EXPECTED_RESILIENCE_SCORE".to_string()), Just("ENDPOINT".to_string()),
                 Just("PLATFORM".to_string()), Just("EXPERIMENT_ID".to_string()),
                 Just("API-KEY".to_string()), "[A-Za-z_-]{1,12}"],
             ".{0,24}"),
            0..12)
    ) {
        let raw = RawSettings::from_vars(vars.into_iter().map(|(p, n, v)| (format!("{p}{n}"), v)));
        let _ = Settings::from_raw(&raw);
    }

    #[test]
    fn runtime_inputs_parse_or_say_where(s in "[a-zA-Z0-9:\\-\\[\\]{}\"'!&*#,. \n]{0,80}") {
        // Any text: inputs, or an error (never a panic); a YAML syntax
        // error names a line.
        match chaos_gate::platform::inputs::parse(&s) {
            Ok(inputs) => prop_assert!(!inputs.is_empty()),
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }

    #[test]
    fn json_documents_read_as_inputs_never_panic(v in any_json()) {
        let _ = chaos_gate::platform::inputs::parse(&v.to_string());
    }
}
