//! README "Settings": prefixes, precedence, name normalisation, empty-as-unset,
//! unknown names, and bad input (exit 2, the variable named, no request
//! sent, no JUnit written).

use crate::common::*;

const PASSING: &str =
    "[[experiments]]\nid = \"exp\"\nphases = [\"Completed\"]\nresiliency_score = 100.0\n";

#[tokio::test]
async fn each_bad_value_is_refused_naming_its_variable() {
    let sim = sim(PASSING).await;
    let cases: &[(&str, &str)] = &[
        ("CHAOS_GATE_TIMEOUT", "soon"),
        ("CHAOS_GATE_TIMEOUT", "0"),
        ("CHAOS_GATE_POLL_INTERVAL", "-5"),
        ("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "101"),
        ("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "-1"),
        ("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "high"),
        ("CHAOS_GATE_ENDPOINT", "ftp://chaos.example.com"),
        ("CHAOS_GATE_ENDPOINT", "http://chaos.example.com"),
        ("CHAOS_GATE_ENDPOINT", "not a url"),
        ("CHAOS_GATE_PLATFORM", "gremlin"),
        ("CHAOS_GATE_STOP_ON_ABORT", "maybe"),
        ("CHAOS_GATE_ON_PLATFORM_ERROR", "ignore"),
        ("CHAOS_GATE_LOG_FORMAT", "xml"),
        ("CHAOS_GATE_DRY_RUN", "perhaps"),
        ("CHAOS_GATE_CA_CERT", "/no/such/file.pem"),
    ];
    for (name, value) in cases {
        let run = refused(Gate::new(&sim, "exp").env(name, value), &sim, &[name], &[]).await;
        assert!(
            run.stderr.contains(&format!("{name}={value:?}")),
            "the value read is shown: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn missing_required_settings_are_refused() {
    let sim = sim(PASSING).await;
    for name in [
        "CHAOS_GATE_API_KEY",
        "CHAOS_GATE_ACCOUNT_ID",
        "CHAOS_GATE_PROJECT_ID",
        "CHAOS_GATE_EXPERIMENT_ID",
    ] {
        refused(Gate::new(&sim, "exp").without(name), &sim, &[name], &[]).await;
    }
    // Litmus needs an endpoint of its own and credentials.
    refused(
        Gate::bare()
            .env("CHAOS_GATE_PLATFORM", "litmus")
            .env("CHAOS_GATE_PROJECT_ID", "p")
            .env("CHAOS_GATE_EXPERIMENT_ID", "e"),
        &sim,
        &["CHAOS_GATE_ENDPOINT", "CHAOS_GATE_TOKEN"],
        &[],
    )
    .await;
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let sim = sim(PASSING).await;
    let gate = Gate::new(&sim, "exp")
        .without("CHAOS_GATE_API_KEY")
        .without("CHAOS_GATE_TIMEOUT")
        .env("INPUT_TIMEOUT", "forever")
        .env("PLUGIN_EXPECTED_RESILIENCE_SCORE", "150")
        .env("CHAOS_GATE_ENDPOINT", "http://10.1.2.3");
    let run = refused(
        gate,
        &sim,
        &[
            "CHAOS_GATE_API_KEY",
            "INPUT_TIMEOUT",
            "PLUGIN_EXPECTED_RESILIENCE_SCORE",
            "CHAOS_GATE_ENDPOINT",
        ],
        &[],
    )
    .await;
    run.assert_stderr_has("4 settings are invalid");
}

#[tokio::test]
async fn plain_http_is_refused_except_on_loopback() {
    let sim = sim(PASSING).await;
    let run = refused(
        Gate::new(&sim, "exp").env("CHAOS_GATE_ENDPOINT", "http://chaos.internal:8080"),
        &sim,
        &["CHAOS_GATE_ENDPOINT"],
        &[],
    )
    .await;
    run.assert_stderr_has("https://");
    // The simulator itself is plain http on 127.0.0.1, and accepted.
    Gate::new(&sim, "exp").run().await.assert_code(0);
    let localhost = sim.url().replace("127.0.0.1", "localhost");
    Gate::new(&sim, "exp")
        .env("CHAOS_GATE_ENDPOINT", &localhost)
        .run()
        .await
        .assert_code(0);
}

#[tokio::test]
async fn github_inputs_keep_hyphens() {
    let sim = sim(PASSING).await;
    let run = Gate::bare()
        .env("INPUT_ENDPOINT", &sim.url())
        .env("INPUT_API-KEY", API_KEY)
        .env("INPUT_ACCOUNT-ID", ACCOUNT)
        .env("INPUT_PROJECT_ID", PROJECT)
        .env("INPUT_EXPERIMENT-ID", "exp")
        .env("INPUT_POLL-INTERVAL", "0.1")
        .env("INPUT_Expected-Resilience-Score", "90")
        .run()
        .await;
    run.assert_code(0);
    run.assert_stdout_has("expected resilience score 90");
}

#[tokio::test]
async fn plugin_settings_work_alone() {
    let sim = sim(PASSING).await;
    Gate::bare()
        .env("PLUGIN_ENDPOINT", &sim.url())
        .env("PLUGIN_API_KEY", API_KEY)
        .env("PLUGIN_ACCOUNT_ID", ACCOUNT)
        .env("PLUGIN_PROJECT_ID", PROJECT)
        .env("PLUGIN_EXPERIMENT_ID", "exp")
        .env("PLUGIN_POLL_INTERVAL", "0.1")
        .run()
        .await
        .assert_code(0);
}

#[tokio::test]
async fn chaos_gate_beats_input_beats_plugin() {
    let sim = sim(PASSING).await;
    let run = Gate::new(&sim, "ignored")
        .env("PLUGIN_EXPERIMENT_ID", "from-plugin")
        .env("INPUT_EXPERIMENT_ID", "from-input")
        .env("CHAOS_GATE_EXPERIMENT_ID", "exp")
        .run()
        .await;
    run.assert_code(0);
    let sim2 = crate::common::sim(PASSING.replace("\"exp\"", "\"from-input\"").as_str()).await;
    Gate::new(&sim2, "x")
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("PLUGIN_EXPERIMENT_ID", "from-plugin")
        .env("INPUT_EXPERIMENT_ID", "from-input")
        .run()
        .await
        .assert_code(0);
    let first = &sim2.requests()[0];
    // An identity goes in the REST v2 run's path (README "Platforms").
    let body = format!("{} {}", first.path, first.body);
    assert!(
        body.contains("from-input") && !body.contains("from-plugin"),
        "{body}"
    );
}

#[tokio::test]
async fn empty_values_count_as_unset() {
    let sim = sim(PASSING).await;
    // GitHub passes every input, empty when nobody set it.
    let run = Gate::new(&sim, "")
        .env("INPUT_EXPERIMENT_ID", "exp")
        .env("CHAOS_GATE_TIMEOUT", "")
        .env("INPUT_TIMEOUT", "")
        .env("INPUT_ORG_ID", "")
        .env("INPUT_TOKEN", "")
        .env("INPUT_CA_CERT", "")
        .run()
        .await;
    run.assert_code(0);
    assert!(
        run.stdout.contains("timeout 30m"),
        "the default applies: {}",
        run.stdout
    );
}

#[tokio::test]
async fn unknown_names_warn_with_the_closest_setting() {
    let sim = sim(PASSING).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_SCORE", "50")
        .env("INPUT_POLL_INTERVALL", "1")
        .run()
        .await;
    run.assert_code(0);
    let out = run.output();
    assert!(
        out.contains("CHAOS_GATE_EXPECTED_SCORE is not a chaos-gate setting")
            && out.contains("did you mean expected_resilience_score"),
        "{out}"
    );
    assert!(out.contains("did you mean poll_interval"), "{out}");
}

#[tokio::test]
async fn durations_take_units() {
    let sim = sim(PASSING).await;
    for (value, shown) in [
        ("90", "1m 30s"),
        ("90s", "1m 30s"),
        ("15m", "15m"),
        ("1h30m", "1h 30m"),
    ] {
        let run = Gate::new(&sim, "exp")
            .env("CHAOS_GATE_TIMEOUT", value)
            .run()
            .await;
        run.assert_code(0);
        assert!(
            run.stdout.contains(&format!("timeout {shown}")),
            "{value}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn help_lists_every_setting_with_its_default() {
    let run = Gate::bare().run_args(&["--help"]).await;
    run.assert_code(0);
    for s in chaos_gate::settings::SETTINGS {
        assert!(
            run.stdout.contains(s.name),
            "{} missing from --help",
            s.name
        );
        if !s.default.is_empty() {
            assert!(
                run.stdout.contains(&format!("[default: {}]", s.default)),
                "default of {} missing",
                s.name
            );
        }
    }
    let run = Gate::bare().run_args(&["--version"]).await;
    run.assert_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("chaos-gate {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn a_bad_setting_never_echoes_a_secret() {
    let sim = sim(PASSING).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_TIMEOUT", "x")
        .env("CHAOS_GATE_PASSWORD", "pa55-w0rd-very-secret")
        .run()
        .await;
    run.assert_code(2);
    assert!(!run.output().contains(API_KEY));
    assert!(!run.output().contains("pa55-w0rd-very-secret"));
}

/// README "Settings": a setting given for the other platform is bad input,
/// naming the variable; a default a host passes on (org_id's) is not.
#[tokio::test]
async fn a_setting_for_the_other_platform_is_bad_input() {
    let sim = sim(&experiment("exp", &["Completed"], Some(100.0))).await;
    for (name, value) in [
        ("CHAOS_GATE_TOKEN", "t0ken"),
        ("CHAOS_GATE_USERNAME", "admin"),
    ] {
        let run = Gate::new(&sim, "exp").env(name, value).run().await;
        run.assert_code(2);
        assert!(
            run.stderr.contains(name) && run.stderr.contains("is a litmus setting"),
            "{name}: {}",
            run.stderr
        );
    }
    let litmus = litmus_sim(&experiment("exp", &["Completed"], Some(100.0))).await;
    let run = Gate::litmus(&litmus, "exp")
        .env("CHAOS_GATE_ACCOUNT_ID", "acc")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("is a harness setting");
    assert!(litmus.requests().is_empty() && sim.requests().is_empty());
    // org_id's default, as the GitLab component passes it, is no choice.
    Gate::litmus(&litmus, "exp")
        .env("CHAOS_GATE_ORG_ID", "default")
        .run()
        .await
        .assert_code(0);
}
