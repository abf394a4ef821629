//! Shared test harness: an in-process simulator on loopback and the real
//! `chaos-gate` binary run against it in a fresh temporary directory, with
//! nothing from the test runner's environment.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chaos_sim::{Scenario, Simulator};
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub const API_KEY: &str = "sim-key-5ecr3t-9b1d";
pub const ACCOUNT: &str = "acc-test";
pub const PROJECT: &str = "proj-test";

/// Longest any single gate run in a test may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A scenario: the `[harness]` credentials followed by `body`.
pub fn scenario(body: &str) -> Scenario {
    let text = format!("[harness]\naccount_id = \"{ACCOUNT}\"\napi_key = \"{API_KEY}\"\n\n{body}");
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("bad test scenario: {e}\n{text}"))
}

pub const LITMUS_USER: &str = "admin";
pub const LITMUS_PASSWORD: &str = "litmus-pa55-k3y";
pub const LITMUS_TOKEN: &str = "litmus-static-t0ken";

/// A Litmus scenario: the `[litmus]` credentials followed by `body`.
pub fn litmus_scenario(body: &str) -> Scenario {
    let text = format!(
        "platform = \"litmus\"\n[litmus]\nusername = \"{LITMUS_USER}\"\npassword = \"{LITMUS_PASSWORD}\"\ntoken = \"{LITMUS_TOKEN}\"\nproject_id = \"{PROJECT}\"\n\n{body}"
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("bad test scenario: {e}\n{text}"))
}

/// Starts a Litmus simulator with the scenario `body`.
pub async fn litmus_sim(body: &str) -> Simulator {
    Simulator::start(litmus_scenario(body))
        .await
        .expect("simulator starts")
}

/// Starts a simulator with the scenario `body`.
pub async fn sim(body: &str) -> Simulator {
    Simulator::start(scenario(body))
        .await
        .expect("simulator starts")
}

/// An experiment ID as Harness gives them: a UUID, numbered (an
/// `experiment_id` that is not a UUID is an identity, README "Settings").
pub fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// One experiment with these phases and score (TOML fragments).
pub fn experiment(id: &str, phases: &[&str], score: Option<f64>) -> String {
    let phases: Vec<String> = phases.iter().map(|p| format!("{p:?}")).collect();
    let score = score
        .map(|s| format!("resiliency_score = {s:?}\n"))
        .unwrap_or_default();
    format!(
        "[[experiments]]\nid = \"{id}\"\nphases = [{}]\n{score}\n[[experiments.faults]]\nname = \"pod-delete\"\nverdict = \"Pass\"\nprobe_success_percentage = \"100\"\n\n",
        phases.join(", ")
    )
}

/// The real binary, configured for a simulator, in a temporary directory.
pub struct Gate {
    env: Vec<(String, String)>,
    pub dir: TempDir,
}

/// What a finished run left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub dir: TempDir,
}

impl Run {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The JUnit report at the default path, if written.
    pub fn junit(&self) -> Option<String> {
        std::fs::read_to_string(self.path("chaos-gate-junit.xml")).ok()
    }

    /// stdout and stderr together, for searching.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// The binary under test: the one cargo built for this test run, or the one
/// named by `CHAOS_GATE_TEST_BINARY` (CI points it at the static musl
/// release build the Dockerfile ships).
pub fn bin() -> String {
    std::env::var("CHAOS_GATE_TEST_BINARY")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_chaos-gate").to_string())
}

impl Gate {
    /// A gate on `experiment` against the simulator, polling fast.
    pub fn new(sim: &Simulator, experiment: &str) -> Gate {
        Gate::harness_at(&sim.url(), experiment)
    }

    /// A Harness gate on `experiment` against any server at `endpoint`
    /// (wiremock, a TLS front), polling fast.
    pub fn harness_at(endpoint: &str, experiment: &str) -> Gate {
        Gate::bare()
            .env("CHAOS_GATE_ENDPOINT", endpoint)
            .env("CHAOS_GATE_API_KEY", API_KEY)
            .env("CHAOS_GATE_ACCOUNT_ID", ACCOUNT)
            .env("CHAOS_GATE_PROJECT_ID", PROJECT)
            .env("CHAOS_GATE_EXPERIMENT_ID", experiment)
            .env("CHAOS_GATE_POLL_INTERVAL", "0.1")
            .env("CHAOS_GATE_TIMEOUT", "30")
    }

    /// A Litmus gate on `experiment`, logging in with username and password.
    pub fn litmus(sim: &Simulator, experiment: &str) -> Gate {
        Gate::litmus_at(&sim.url(), experiment)
    }

    /// A Litmus gate on `experiment` against any server at `endpoint`.
    pub fn litmus_at(endpoint: &str, experiment: &str) -> Gate {
        Gate::bare()
            .env("CHAOS_GATE_PLATFORM", "litmus")
            .env("CHAOS_GATE_ENDPOINT", endpoint)
            .env("CHAOS_GATE_USERNAME", LITMUS_USER)
            .env("CHAOS_GATE_PASSWORD", LITMUS_PASSWORD)
            .env("CHAOS_GATE_PROJECT_ID", PROJECT)
            .env("CHAOS_GATE_EXPERIMENT_ID", experiment)
            .env("CHAOS_GATE_POLL_INTERVAL", "0.1")
            .env("CHAOS_GATE_TIMEOUT", "30")
    }

    /// No settings at all.
    pub fn bare() -> Gate {
        Gate {
            env: Vec::new(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Gate {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn without(mut self, name: &str) -> Gate {
        self.env.retain(|(k, _)| k != name);
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs the binary to its end.
    pub async fn run(self) -> Run {
        self.run_args(&[]).await
    }

    pub async fn run_args(self, args: &[&str]) -> Run {
        let child = self.command(args).spawn().expect("chaos-gate starts");
        let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
            .await
            .expect("chaos-gate finished within the test's limit")
            .expect("chaos-gate output");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            dir: self.dir,
        }
    }

    /// Starts the binary and leaves it running (for signal tests).
    pub fn spawn(self) -> (Child, TempDir) {
        let child = self.command(&[]).spawn().expect("chaos-gate starts");
        (child, self.dir)
    }
}

/// Sends `signal` (`TERM`, `INT`, `HUP`) to a running gate and waits for it
/// to exit; returns its exit code and how long it took after the signal.
pub async fn signal_and_wait(child: &mut Child, signal: &str) -> (Option<i32>, Duration) {
    let pid = child.id().expect("the gate is running").to_string();
    let sent = tokio::time::Instant::now();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the gate exits after the signal")
        .expect("exit status");
    (status.code(), sent.elapsed())
}

/// Waits until `check` holds, polling every 20 ms, or panics after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Number of requests for a GraphQL root field or REST operation.
pub fn count(sim: &Simulator, operation: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some(operation))
        .count()
}

/// A fixture file kept beside the tests.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks a JUnit document against the Jenkins xUnit schema kept in
/// tests/fixtures, with libxml2's validator (see `xsd`).
pub fn assert_valid_junit(xml: &str) {
    if let Err(e) = crate::xsd::validate(&fixture("junit-10.xsd"), xml) {
        panic!("JUnit does not validate against junit-10.xsd: {e}\n{xml}");
    }
}

impl Run {
    /// For table tests: what is wrong with the JUnit report, if anything
    /// (missing, or invalid against the schema).
    pub fn junit_problem(&self) -> Option<String> {
        match self.junit() {
            Some(xml) => crate::xsd::validate(&fixture("junit-10.xsd"), &xml)
                .err()
                .map(|e| format!("JUnit invalid: {e}")),
            None => Some("no JUnit report".to_string()),
        }
    }

    /// For table tests: one failed row, with what the run printed.
    pub fn row_failure(&self, row: &str, problems: &[String]) -> String {
        format!(
            "{row}: {}\n--- stdout\n{}\n--- stderr\n{}",
            problems.join("; "),
            self.stdout,
            self.stderr
        )
    }
}

/// The experiment ID most tests gate on.
pub const EXP: &str = "00000000-0000-4000-8000-000000000001";

/// The Harness GraphQL path.
pub const QUERY: &str = "/gateway/chaos/manager/api/query";

/// An `[[inject]]` table for `operation` with the keys in `rest` (TOML
/// lines).
pub fn inject(operation: &str, rest: &str) -> String {
    format!("[[inject]]\noperation = \"{operation}\"\n{rest}\n")
}

/// The recorded requests for a GraphQL root field or REST operation.
pub fn requests_of(sim: &Simulator, operation: &str) -> Vec<chaos_sim::RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some(operation))
        .collect()
}

/// The one request for `operation`; panics unless there was exactly one.
pub fn only_request(sim: &Simulator, operation: &str) -> chaos_sim::RecordedRequest {
    let [request] = requests_of(sim, operation)
        .try_into()
        .unwrap_or_else(|all: Vec<_>| panic!("{} {operation} requests, not one", all.len()));
    request
}

/// The query parameter `name` of a recorded request, decoded.
pub fn query_param(r: &chaos_sim::RecordedRequest, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x{}?{}", r.path, r.query)).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The JSON body of a recorded request.
pub fn request_body(r: &chaos_sim::RecordedRequest) -> serde_json::Value {
    serde_json::from_str(&r.body).expect("a JSON body")
}

/// A header of a recorded request, by name in any case.
pub fn header<'a>(r: &'a chaos_sim::RecordedRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A TLS server on loopback relaying to a plain one.
pub struct TlsFront {
    pub port: u16,
    /// The certificate it presents, made at start for the names given.
    pub pem: String,
    /// The TCP connections it has accepted.
    pub connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TlsFront {
    /// Serves TLS on loopback with a certificate made now for `names`,
    /// relaying each connection to `upstream`.
    pub async fn start(upstream: std::net::SocketAddr, names: &[&str]) -> TlsFront {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::net::{TcpListener, TcpStream};
        use tokio_rustls::{TlsAcceptor, rustls};

        let made = rcgen::generate_simple_self_signed(
            names.iter().map(|n| n.to_string()).collect::<Vec<String>>(),
        )
        .expect("certificate");
        let pem = made.cert.pem();
        let key = rustls::pki_types::PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key.into())
        .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            port,
            pem,
            connections,
        }
    }

    /// `https://localhost:PORT`.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Gate {
    /// Writes `contents` to `name` in the gate's folder and sets `variable`
    /// to that file's path.
    pub fn file_env(self, variable: &str, name: &str, contents: &str) -> Gate {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        self.env(variable, path.to_str().expect("utf-8"))
    }

    /// Sets `variable` to the path of `name` in the gate's folder.
    pub fn path_env(self, variable: &str, name: &str) -> Gate {
        let path = self.path(name);
        self.env(variable, path.to_str().expect("utf-8"))
    }
}

/// A wiremock answer to the Harness GraphQL requests whose body holds
/// `needle` (an operation's name and its parenthesis, such as
/// `"ListWorkflowRun("`).
pub fn on_query(needle: &'static str, answer: wiremock::ResponseTemplate) -> wiremock::Mock {
    use wiremock::matchers::{body_string_contains, method, path};
    wiremock::Mock::given(method("POST"))
        .and(path(QUERY))
        .and(body_string_contains(needle))
        .respond_with(answer)
}

/// HTTP 200 with this JSON body.
pub fn json_answer(body: serde_json::Value) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(body)
}

/// A `runChaosExperiment` answer with this notify ID.
pub fn trigger_answer(notify: &str) -> wiremock::ResponseTemplate {
    json_answer(serde_json::json!({"data": {"runChaosExperiment": {"notifyID": notify}}}))
}

/// Answers every POST whose path matches `path_pattern` as a stopped run.
pub fn stops_answered(path_pattern: &str) -> wiremock::Mock {
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path_regex(path_pattern))
        .respond_with(json_answer(serde_json::json!({"isStopped": true})))
}

/// A wiremock matcher of the LitmusChaos GraphQL requests whose body holds
/// `needle`; the caller says how to answer.
pub fn litmus_query(needle: &'static str) -> wiremock::MockBuilder {
    use wiremock::matchers::{body_string_contains, method, path};
    wiremock::Mock::given(method("POST"))
        .and(path("/api/query"))
        .and(body_string_contains(needle))
}

/// How many requests the server received whose body holds `needle`.
pub async fn received_with(server: &wiremock::MockServer, needle: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
        .count()
}

impl Gate {
    /// A Litmus gate that sends `token` instead of logging in.
    pub fn with_token(self, token: &str) -> Gate {
        self.without("CHAOS_GATE_USERNAME")
            .without("CHAOS_GATE_PASSWORD")
            .env("CHAOS_GATE_TOKEN", token)
    }
}

impl Run {
    /// The JUnit report at the default path, which must be written and
    /// valid against the schema.
    pub fn valid_junit(&self) -> String {
        let xml = self.junit().expect("JUnit written");
        assert_valid_junit(&xml);
        xml
    }
}

impl Run {
    /// Asserts that stdout holds `text`, showing stdout when it does not.
    #[track_caller]
    pub fn assert_stdout_has(&self, text: &str) {
        assert!(self.stdout.contains(text), "{}", self.stdout);
    }

    /// Asserts that stderr holds `text`, showing stderr when it does not.
    #[track_caller]
    pub fn assert_stderr_has(&self, text: &str) {
        assert!(self.stderr.contains(text), "{}", self.stderr);
    }

    /// Asserts that stdout or stderr holds `text`, showing both when
    /// neither does.
    #[track_caller]
    pub fn assert_output_has(&self, text: &str) {
        assert!(self.output().contains(text), "{}", self.output());
    }
}

impl Run {
    /// The file `name` the run left in its folder.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// Runs a gate that must be refused as bad settings (README "Settings"): exit 2,
/// every one of `variables` named on stderr, none of `hidden` printed,
/// nothing sent to `sim` and no JUnit report.
pub async fn refused(gate: Gate, sim: &Simulator, variables: &[&str], hidden: &[&str]) -> Run {
    let run = gate.run().await;
    run.assert_code(2);
    for v in variables {
        assert!(run.stderr.contains(v), "{v} not named in:\n{}", run.stderr);
    }
    for h in hidden {
        assert!(
            !run.output().contains(h),
            "{h:?} was printed:\n{}",
            run.output()
        );
    }
    assert!(
        sim.requests().is_empty(),
        "a request was sent: {:?}",
        sim.requests()
    );
    assert!(run.junit().is_none(), "a JUnit file was written");
    run
}
