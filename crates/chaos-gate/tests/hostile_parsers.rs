//! Property tests over every parser of platform text (issue 10): the
//! GraphQL answers of both platforms, the Litmus login answer, the Harness
//! REST stop answer, `Retry-After` and the servers' error messages, plus
//! the URL builder and the header check of secrets. They run the same
//! entry points as the cargo-fuzz targets in `fuzz/` (so those are
//! compile-checked here on stable); `PROPTEST_CASES=100000 cargo test
//! --test hostile_parsers` runs longer.

mod support;

use std::time::{Duration, SystemTime};

use chaos_gate::http::{MAX_RETRY_AFTER, parse_retry_after, retry_wait, server_message};
use chaos_gate::platform::{harness, litmus};
use chaos_gate::settings::{RawSettings, Settings, header_problem};
use chaos_gate::urls::{UrlBuilder, check_identifier};
use proptest::prelude::*;
use reqwest::Url;
use serde_json::{Value, json};

/// Arbitrary JSON a few levels deep, with the keys the parsers look for.
fn any_json() -> impl Strategy<Value = Value> {
    support::any_json_with(
        &[
            "data",
            "errors",
            "message",
            "notifyID",
            "workflowRuns",
            "workflowID",
            "workflows",
            "experimentRuns",
            "experimentID",
            "experimentRunID",
            "experimentDetails",
            "phase",
            "resiliencyScore",
            "executionData",
            "createdAt",
            "accessToken",
            "isStopped",
        ],
        "[a-zA-Z]{1,10}",
        &["\\{\"nodes\":.{0,40}"],
    )
}

/// Root fields of `data` in the answers both clients read.
const ROOTS: &[&str] = &[
    "runChaosExperiment",
    "listWorkflowRun",
    "listWorkflow",
    "getExperimentRun",
    "listExperimentRun",
    "stopExperimentRuns",
    "getExperiment",
];

/// The bodies one case feeds to a parser: raw bytes, a JSON value, and the
/// value under `data.<root>` for every root field.
fn bodies(bytes: &[u8], v: &Value) -> Vec<Vec<u8>> {
    let mut out = vec![bytes.to_vec(), v.to_string().into_bytes()];
    for root in ROOTS {
        out.push(json!({ "data": { *root: v } }).to_string().into_bytes());
        out.push(
            json!({ "data": { *root: { "workflowRuns": [v], "experimentRuns": [v],
                                        "workflows": [v], "experimentDetails": v } } })
            .to_string()
            .into_bytes(),
        );
    }
    out
}

/// Percent-decodes a path segment as a server does.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

proptest! {
    #[test]
    fn harness_answers_never_panic(
        v in any_json(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        for body in bodies(&bytes, &v) {
            for op in harness::ANSWERS {
                let _ = harness::parse_answer(op, &body);
            }
        }
    }

    #[test]
    fn litmus_answers_never_panic(
        v in any_json(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        for body in bodies(&bytes, &v) {
            for op in litmus::ANSWERS {
                let _ = litmus::parse_answer(op, &body);
            }
        }
    }

    #[test]
    fn a_login_answer_gives_its_token_or_an_error(token in ".{0,40}", v in any_json()) {
        let body = json!({ "accessToken": token }).to_string();
        match litmus::parse_login_answer(body.as_bytes()) {
            Ok(secret) => prop_assert_eq!(secret.expose(), token.trim()),
            Err(e) => prop_assert!(token.trim().is_empty(), "{e}"),
        }
        let _ = litmus::parse_login_answer(v.to_string().as_bytes());
    }

    #[test]
    fn the_stop_answer_is_read_or_ignored(stopped in any::<bool>(), v in any_json(),
                                          bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        let body = json!({ "isStopped": stopped, "other": v }).to_string();
        prop_assert_eq!(harness::parse_stop_answer(body.as_bytes()), Some(stopped));
        let _ = harness::parse_stop_answer(&bytes);
        let _ = harness::parse_stop_answer(v.to_string().as_bytes());
    }

    #[test]
    fn server_messages_never_panic(v in any_json(), bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = server_message(&bytes);
        let _ = server_message(v.to_string().as_bytes());
    }

    #[test]
    fn retry_after_never_shortens_the_backoff_and_is_capped(
        text in prop_oneof![
            "[0-9]{1,30}",
            ".{0,40}",
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Dec) (19|20|21|99)[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9] GMT",
        ],
        bytes in prop::collection::vec(any::<u8>(), 0..60),
        backoff_ms in 0u64..20_000,
        now_secs in 0u64..5_000_000_000,
    ) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs);
        let backoff = Duration::from_millis(backoff_ms);
        for value in [text.as_bytes(), &bytes[..]] {
            let asked = parse_retry_after(value, now);
            let wait = retry_wait(backoff, asked);
            prop_assert!(wait >= backoff);
            prop_assert!(wait <= backoff.max(MAX_RETRY_AFTER));
        }
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            prop_assert!(parse_retry_after(text.as_bytes(), now).is_some());
        }
    }

    #[test]
    fn an_identifier_is_one_segment_or_refused(id in prop_oneof![
        ".{0,24}",
        "[./%?#a-z ]{0,12}",
        Just(".".to_string()),
        Just("..".to_string()),
        Just(String::new()),
    ]) {
        let endpoint = Url::parse("https://h.example/prefix/").expect("url");
        let built = UrlBuilder::at(&endpoint)
            .route("gateway/chaos/manager/api/rest/v2/experiment")
            .id("experiment ID", &id);
        match built {
            Ok(b) => {
                prop_assert!(check_identifier("experiment ID", &id).is_ok());
                let url = b.route("stop").query("notifyId", &id).build();
                prop_assert_eq!(url.host_str(), Some("h.example"));
                prop_assert!(url.fragment().is_none());
                let segments: Vec<String> = url.path_segments().expect("path").map(decode).collect();
                let mut want: Vec<String> = ["prefix", "gateway", "chaos", "manager", "api", "rest", "v2", "experiment"]
                    .iter().map(|s| s.to_string()).collect();
                want.push(id.clone());
                want.push("stop".to_string());
                prop_assert_eq!(segments, want);
                let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                prop_assert_eq!(query, vec![("notifyId".to_string(), id.clone())]);
            }
            Err(_) => prop_assert!(matches!(id.trim(), "" | "." | "..")),
        }
    }

    #[test]
    fn a_secret_is_accepted_or_refused_without_being_shown(
        secret in "[a-zA-Z0-9]{6}[\\x00-\\x7f]{0,6}[a-zA-Z0-9]{6}",
    ) {
        prop_assume!(!secret.contains('\0'));
        let raw = RawSettings::from_vars([
            ("CHAOS_GATE_API_KEY".to_string(), secret.clone()),
            ("CHAOS_GATE_ACCOUNT_ID".to_string(), "a".to_string()),
            ("CHAOS_GATE_PROJECT_ID".to_string(), "p".to_string()),
            ("CHAOS_GATE_EXPERIMENT_ID".to_string(), "e".to_string()),
        ]);
        match Settings::from_raw(&raw) {
            Ok(_) => prop_assert!(header_problem(secret.trim()).is_none()),
            Err(errs) => {
                prop_assert!(header_problem(secret.trim()).is_some());
                let text = errs.to_string();
                prop_assert!(text.contains("CHAOS_GATE_API_KEY"));
                prop_assert!(!text.contains(secret.trim()), "{}", text);
            }
        }
    }
}
