//! TLS with `ca_cert`, proxies from the environment, and secrets that never
//! show in any output at any log level.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use crate::common::*;

const PASSING: &str = "[[experiments]]\nid = \"exp\"\nphases = [\"Running\", \"Completed\"]\nresiliency_score = 100.0\n";

/// Serves TLS on loopback with a certificate made now for `localhost`,
/// relaying each connection to `upstream`.
async fn tls_front(upstream: std::net::SocketAddr) -> TlsFront {
    TlsFront::start(upstream, &["localhost"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_cert_trusts_a_private_certificate_and_without_it_the_gate_exits_3() {
    let sim = sim(PASSING).await;
    let front = tls_front(sim.addr()).await;
    let endpoint = front.endpoint();

    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_ENDPOINT", &endpoint)
        .file_env("CHAOS_GATE_CA_CERT", "ca.pem", &front.pem)
        .run()
        .await;
    run.assert_code(0);

    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_ENDPOINT", &endpoint)
        .env("CHAOS_GATE_TIMEOUT", "3")
        .run()
        .await;
    run.assert_code(3);
    assert!(
        run.output().to_lowercase().contains("certificate"),
        "{}",
        run.output()
    );
}

/// The system's store, read from one bundle file (SSL_CERT_FILE here, the
/// distribution's bundle otherwise) or, when SSL_CERT_DIR is set, from the
/// directory as well: a CA a company added there is trusted without
/// ca_cert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_in_the_system_store_is_trusted_from_its_bundle_file_or_directory() {
    let sim = sim(PASSING).await;
    let front = tls_front(sim.addr()).await;
    let (endpoint, pem) = (front.endpoint(), &front.pem);

    let gate = Gate::new(&sim, "exp").env("CHAOS_GATE_ENDPOINT", &endpoint);
    let bundle = gate.path("bundle.pem");
    // A bundle as update-ca-certificates writes it: the public roots, then
    // the one the company added.
    let public = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    std::fs::write(&bundle, format!("{public}\n{pem}")).expect("write bundle");
    let run = gate
        .env("SSL_CERT_FILE", bundle.to_str().expect("utf-8"))
        .run()
        .await;
    run.assert_code(0);

    let gate = Gate::new(&sim, "exp").env("CHAOS_GATE_ENDPOINT", &endpoint);
    let dir = gate.path("certs");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("company.pem"), pem).expect("write CA");
    let run = gate
        .env("SSL_CERT_DIR", dir.to_str().expect("utf-8"))
        .file_env("SSL_CERT_FILE", "empty.pem", "")
        .run()
        .await;
    run.assert_code(0);
}

#[tokio::test]
async fn a_ca_cert_that_is_not_pem_is_bad_input() {
    let sim = sim(PASSING).await;
    let run = Gate::new(&sim, "exp")
        .file_env("CHAOS_GATE_CA_CERT", "ca.pem", "not a certificate")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("CHAOS_GATE_CA_CERT");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn http_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let sim = sim(PASSING).await;
    // Nothing listens on the endpoint itself: only the proxy can answer.
    let unreachable = "http://localhost:9";
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_ENDPOINT", unreachable)
        .env("HTTP_PROXY", &sim.url())
        .run()
        .await;
    run.assert_code(0);
    assert!(
        !sim.requests().is_empty(),
        "requests went through the proxy"
    );

    let seen = sim.requests().len();
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_ENDPOINT", unreachable)
        .env("HTTP_PROXY", &sim.url())
        .env("NO_PROXY", "localhost")
        .env("CHAOS_GATE_TIMEOUT", "2")
        .run()
        .await;
    run.assert_code(3);
    assert_eq!(sim.requests().len(), seen, "NO_PROXY went around the proxy");
}

/// A forward proxy on loopback that only tunnels (`CONNECT`), counting the
/// tunnels it opened.
async fn connect_proxy() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(socket);
                let mut request = String::new();
                if reader.read_line(&mut request).await.is_err() {
                    return;
                }
                let Some(target) = request
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split_whitespace().next())
                else {
                    return;
                };
                let target = target.to_string();
                // The rest of the request head.
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    return;
                };
                let mut client = reader.into_inner();
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, tunnels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_is_honoured_and_no_proxy_bypasses_it() {
    let sim = sim(PASSING).await;
    let front = tls_front(sim.addr()).await;
    let (proxy_port, tunnels) = connect_proxy().await;
    let endpoint = front.endpoint();
    let proxy = format!("http://127.0.0.1:{proxy_port}");

    let gate = Gate::new(&sim, "exp").env("CHAOS_GATE_ENDPOINT", &endpoint);
    let ca = gate.path("ca.pem");
    std::fs::write(&ca, &front.pem).expect("write CA");
    let ca = ca.to_str().expect("utf-8").to_string();
    let run = gate
        .env("CHAOS_GATE_CA_CERT", &ca)
        .env("HTTPS_PROXY", &proxy)
        .run()
        .await;
    run.assert_code(0);
    let through_proxy = tunnels.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        through_proxy >= 1,
        "the requests were tunnelled through HTTPS_PROXY"
    );

    let gate = Gate::new(&sim, "exp").env("CHAOS_GATE_ENDPOINT", &endpoint);
    let run = gate
        .env("CHAOS_GATE_CA_CERT", &ca)
        .env("HTTPS_PROXY", &proxy)
        .env("NO_PROXY", "localhost")
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst),
        through_proxy,
        "NO_PROXY went around the proxy"
    );
}

/// Every file the run left, and what it printed, without GitHub's own mask
/// lines (which carry the secret by design: they are how the runner hides
/// it).
fn everything(run: &Run) -> String {
    let mut all = String::new();
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        if !line.starts_with("::add-mask::") {
            all.push_str(line);
            all.push('\n');
        }
    }
    for entry in walk(run.dir.path()) {
        all.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap_or_default(),
        ));
    }
    all
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_any_output_at_trace_level() {
    let slow = "[[experiments]]\nid = \"slow\"\nphases = [\"Running\"]\n";
    let flaky = "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 2\nstatus = 503\n";
    let sim = sim(&format!("{PASSING}\n{slow}\n{flaky}")).await;
    let cases: Vec<(&str, Gate)> = vec![
        ("pass with retries", Gate::new(&sim, "exp")),
        (
            "refused key",
            Gate::new(&sim, "exp").env("CHAOS_GATE_API_KEY", "wrong-key-0000"),
        ),
        (
            "timeout and stop",
            Gate::new(&sim, "slow").env("CHAOS_GATE_TIMEOUT", "1"),
        ),
        (
            "bad settings",
            Gate::new(&sim, "exp").env("CHAOS_GATE_TIMEOUT", "never"),
        ),
        (
            "json logs",
            Gate::new(&sim, "exp").env("CHAOS_GATE_LOG_FORMAT", "json"),
        ),
    ];
    for (name, gate) in cases {
        let run = gate
            .env("RUST_LOG", "trace")
            .env("GITHUB_ACTIONS", "true")
            .path_env("GITHUB_OUTPUT", "github_output")
            .path_env("GITHUB_STEP_SUMMARY", "summary")
            .env("GITLAB_CI", "true")
            .env("INPUT_PASSWORD", "litmus-pa55word-zz")
            .env("INPUT_TOKEN", "litmus-t0ken-zz")
            .run()
            .await;
        let all = everything(&run);
        for secret in [
            API_KEY,
            "wrong-key-0000",
            "litmus-pa55word-zz",
            "litmus-t0ken-zz",
        ] {
            assert!(!all.contains(secret), "{name}: {secret} leaked:\n{all}");
        }
        assert!(
            run.stdout.starts_with("::add-mask::"),
            "{name}: masks come first:\n{}",
            run.stdout
        );
    }
}
