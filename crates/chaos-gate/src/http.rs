//! HTTP transport shared by the platform clients: TLS set-up, retries with
//! backoff, capped response bodies, and the classification of every failure
//! into what the gate must do next (spec §7).
//!
//! The one question each failure answers is "may the request have taken
//! effect?". Reads are retried whatever the answer; a trigger is retried only
//! when the answer is certainly no (the connection was refused, or 429), and
//! otherwise comes back as [`ErrorKind::OutcomeUnknown`] so that the gate can
//! look for the run it may have started instead of starting a second one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use crate::platform::{ErrorKind, PlatformError};
use crate::text::snippet;

/// Longest a single request may take, whatever time is left overall.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after the first attempt of one call.
const MAX_RETRIES: usize = 5;
/// Requests in flight at once, whatever the number of experiments: triggers,
/// reads and stops of many runs queue for a slot, so the gate holds at most
/// this many connections (kept alive and reused) however large it runs.
pub const MAX_IN_FLIGHT: usize = 8;

/// Whether a request may be repeated when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Safe to repeat: status polls, look-ups, logins.
    Read,
    /// Starts something: repeated only when it certainly did not arrive.
    Write,
}

/// One failed attempt, before the retry policy decides.
#[derive(Debug)]
struct Attempt {
    error: PlatformError,
    retryable: bool,
    /// True when the server may have acted on the request.
    maybe_sent: bool,
    retry_after: Option<Duration>,
}

/// A configured HTTP client with the gate's overall deadline.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    deadline: Instant,
    /// The last failed attempt, cleared by a success: at the deadline it
    /// tells a platform that stopped answering (exit 3) from a run that was
    /// simply still going (exit 4).
    last_failure: Arc<Mutex<Option<String>>>,
    min_delay: Duration,
    /// One permit per request in flight (see [`MAX_IN_FLIGHT`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Http {
    /// Builds the client: rustls with the system roots plus `ca_cert`,
    /// proxies from `HTTPS_PROXY` / `NO_PROXY`.
    pub fn new(ca_cert: Option<&[u8]>, deadline: Instant) -> Result<Http, PlatformError> {
        Http::for_endpoint(None, ca_cert, deadline)
    }

    /// [`Http::new`] for requests to `endpoint` only: the system's roots
    /// are not loaded when nothing will need them (plain HTTP, which is
    /// only allowed on loopback, and no HTTPS proxy), so the first request
    /// leaves about 1.5 ms sooner; `ca_cert` is trusted either way.
    pub fn for_endpoint(
        endpoint: Option<&reqwest::Url>,
        ca_cert: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<Http, PlatformError> {
        let ca_cert = match ca_cert {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| PlatformError::new(ErrorKind::Unusable, format!("ca_cert: {e}")))?,
            None => Vec::new(),
        };
        let builder = || {
            reqwest::Client::builder()
                // No redirects: neither API uses them, and a redirect to
                // another host would carry x-api-key along (reqwest strips
                // only the standard credential headers).
                .redirect(reqwest::redirect::Policy::none())
                .use_rustls_tls()
                .user_agent(concat!("chaos-gate/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_secs(50))
                .pool_max_idle_per_host(MAX_IN_FLIGHT)
                .add_roots(ca_cert.iter().cloned())
        };
        // The system's roots from its one bundle file when there is one;
        // should any of its certificates not load, the native store as a
        // whole, the way reqwest reads it.
        let system = if endpoint.is_some_and(|e| !needs_roots(e)) {
            Some(Vec::new())
        } else {
            system_bundle()
        };
        let client = match system {
            Some(system) => builder()
                .tls_built_in_root_certs(false)
                .add_roots(system)
                .build()
                .or_else(|_| builder().build()),
            None => builder().build(),
        };
        let client = client.map_err(|e| {
            PlatformError::new(
                ErrorKind::Unusable,
                format!("cannot set up the HTTP client: {e}"),
            )
        })?;
        Ok(Http {
            client,
            deadline,
            last_failure: Arc::new(Mutex::new(None)),
            min_delay: Duration::from_millis(500),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// The underlying client, for building requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The error of the last attempt if it failed (and nothing succeeded
    /// since).
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().ok().and_then(|g| g.clone())
    }

    fn record(&self, failure: Option<String>) {
        if let Ok(mut g) = self.last_failure.lock() {
            *g = failure;
        }
    }

    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends a request built by `build` (called again for every attempt) and
    /// returns what `read` makes of the body, which is checked to be JSON
    /// first. `what` names the call in errors, `cap` bounds the body size
    /// read.
    ///
    /// The body is handed to `read` as bytes rather than a parsed `Value`
    /// so that callers deserialise straight into their own types: a 50 MB
    /// `executionData` is then held as the body and its text, not three
    /// times over.
    ///
    /// `read` turns the body into the caller's answer inside each attempt,
    /// so that a body of the wrong shape is retried like one that is not
    /// JSON at all (spec §7), unless `read` says asking again cannot help.
    pub async fn send<T>(
        &self,
        what: &str,
        mode: Mode,
        cap: usize,
        build: impl Fn() -> RequestBuilder,
        read: impl Fn(&[u8]) -> Result<T, Rejected>,
    ) -> Result<T, PlatformError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(MAX_RETRIES)
            .with_jitter();
        let attempt = || async {
            let timeout = REQUEST_TIMEOUT
                .min(self.time_left())
                .max(Duration::from_millis(100));
            // Never closed, so a permit always comes; held until the body
            // is read, not across the wait before a retry.
            let _slot = self.in_flight.acquire().await.ok();
            let result = attempt(what, build().timeout(timeout), cap, &read).await;
            self.record(result.as_ref().err().map(|a| a.error.message.clone()));
            result
        };
        let result = attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|a: &Attempt| a.retryable && (mode == Mode::Read || !a.maybe_sent))
            .adjust(|a: &Attempt, delay| {
                // Honour Retry-After, but never sleep past the deadline: the
                // gate ends there anyway.
                let delay = a.retry_after.or(delay)?;
                let left = self.time_left();
                if left.is_zero() {
                    None
                } else {
                    Some(delay.min(left))
                }
            })
            .notify(|a: &Attempt, delay| {
                tracing::warn!(
                    "{}; retrying in {:.1}s",
                    a.error.message,
                    delay.as_secs_f64()
                );
            })
            .await;
        result.map_err(|a| {
            if mode == Mode::Write && a.maybe_sent && a.retryable {
                PlatformError::new(ErrorKind::OutcomeUnknown, a.error.message)
            } else {
                a.error
            }
        })
    }
}

/// Where Linux distributions keep the system's CA bundle: one file holding
/// every trusted root, the ones an administrator added included
/// (update-ca-certificates, update-ca-trust write them there). The same list
/// as OpenSSL's probe and Go's crypto/x509.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system's roots read from its single bundle file: `SSL_CERT_FILE`, or
/// the distribution's bundle. Reading it is one file instead of the several
/// hundred of /etc/ssl/certs that the native store reads one by one (about
/// 5 ms before the first request). `None` leaves it to the native store:
/// when `SSL_CERT_DIR` names a directory (its files must be read), when no
/// bundle exists, or when the bundle is not PEM.
fn system_bundle() -> Option<Vec<reqwest::Certificate>> {
    let set = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if set("SSL_CERT_DIR").is_some() {
        return None;
    }
    let path = match set("SSL_CERT_FILE") {
        Some(file) => std::path::PathBuf::from(file),
        None => CA_BUNDLES
            .iter()
            .map(std::path::Path::new)
            .find(|p| p.is_file())?
            .to_path_buf(),
    };
    let pem = std::fs::read(path).ok()?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|c| !c.is_empty())
}

/// Whether requests to `endpoint` may need the system's roots: it is HTTPS,
/// or a proxy is set (an HTTPS proxy needs them even for a plain endpoint).
fn needs_roots(endpoint: &reqwest::Url) -> bool {
    endpoint.scheme() != "http"
        || [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()))
}

/// Adds certificates as roots.
trait AddRoots {
    fn add_roots(self, certs: impl IntoIterator<Item = reqwest::Certificate>) -> Self;
}

impl AddRoots for reqwest::ClientBuilder {
    fn add_roots(self, certs: impl IntoIterator<Item = reqwest::Certificate>) -> Self {
        certs
            .into_iter()
            .fold(self, |b, cert| b.add_root_certificate(cert))
    }
}

/// A body the caller cannot use, and whether asking again may help.
#[derive(Debug)]
pub struct Rejected {
    pub error: PlatformError,
    pub retry: bool,
}

/// One attempt: send, check the status, read at most `cap` bytes, check
/// that the body is JSON, and read it into the caller's answer.
async fn attempt<T>(
    what: &str,
    request: RequestBuilder,
    cap: usize,
    read: &impl Fn(&[u8]) -> Result<T, Rejected>,
) -> Result<T, Attempt> {
    let response = request.send().await.map_err(|e| {
        let maybe_sent = !e.is_connect();
        let detail = if e.is_timeout() {
            "timed out waiting for an answer".to_string()
        } else if e.is_connect() {
            format!("cannot connect ({})", error_chain(&e))
        } else {
            format!("connection failed ({})", error_chain(&e))
        };
        Attempt {
            error: PlatformError::new(ErrorKind::Unreachable, format!("{what}: {detail}")),
            retryable: true,
            maybe_sent,
            retry_after: None,
        }
    })?;
    let status = response.status();
    let url = redacted_url(&response);
    let retry_after = retry_after(&response);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::text::snippet(v, 200));
    let body = read_capped(response, cap).await.map_err(|e| Attempt {
        retryable: !matches!(e.kind, ErrorKind::TooLarge),
        error: PlatformError::new(e.kind, format!("{what} ({url}): {}", e.message)),
        maybe_sent: true,
        retry_after: None,
    })?;

    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(Attempt {
            error: PlatformError::new(
                ErrorKind::Auth,
                format!(
                    "{what} ({url}) was refused with HTTP {status}: {}",
                    server_message(&body)
                ),
            ),
            retryable: false,
            maybe_sent: false,
            retry_after: None,
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Attempt {
            error: PlatformError::new(
                ErrorKind::Unreachable,
                format!("{what} ({url}): HTTP {status}: {}", server_message(&body)),
            ),
            retryable: true,
            // A 429 was turned away before any work; a 5xx may have been
            // half done.
            maybe_sent: status != StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        });
    }
    if status.is_redirection() {
        let to = location.unwrap_or_else(|| "nowhere".to_string());
        return Err(Attempt {
            error: PlatformError::new(
                ErrorKind::Unusable,
                format!(
                    "{what} ({url}): HTTP {status}, redirected to {to}; chaos-gate does not \
                     follow redirects (they would carry the credentials along): set endpoint \
                     to the platform's own URL"
                ),
            ),
            retryable: false,
            maybe_sent: false,
            retry_after: None,
        });
    }
    if !status.is_success() {
        // A GraphQL server answers a document it cannot run with 4xx and an
        // `errors` array: report its words; repeating would not help.
        return Err(Attempt {
            error: PlatformError::new(
                ErrorKind::Unusable,
                format!("{what} ({url}): HTTP {status}: {}", server_message(&body)),
            ),
            retryable: false,
            maybe_sent: false,
            retry_after: None,
        });
    }
    // Checked without building anything: `IgnoredAny` skips every value.
    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        Ok(_) => read(&body).map_err(|r| Attempt {
            error: r.error,
            retryable: r.retry,
            maybe_sent: true,
            retry_after: None,
        }),
        Err(e) => Err(Attempt {
            error: PlatformError::new(
                ErrorKind::Unusable,
                format!(
                    "{what} ({url}): the answer is not JSON ({e}); it starts with {}",
                    snippet(&String::from_utf8_lossy(&body), 120)
                ),
            ),
            retryable: true,
            maybe_sent: true,
            retry_after: None,
        }),
    }
}

/// The URL without its query string (which carries account identifiers but
/// is noise in a message).
fn redacted_url(response: &Response) -> String {
    let mut url = response.url().clone();
    url.set_query(None);
    url.to_string()
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // An HTTP date: wait until then.
    let when = httpdate::parse_http_date(text).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

struct ReadError {
    kind: ErrorKind,
    message: String,
}

async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    let too_large = |n: u64| ReadError {
        kind: ErrorKind::TooLarge,
        message: format!(
            "the answer is larger than {} MiB ({} bytes announced or read); stopped reading it",
            cap / (1024 * 1024),
            n
        ),
    };
    let announced = response.content_length();
    if let Some(len) = announced {
        if len > cap as u64 {
            return Err(too_large(len));
        }
    }
    // Sized up front: a large body is not copied while the vector grows.
    let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(too_large((body.len() + chunk.len()) as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(ReadError {
                    kind: ErrorKind::Unreachable,
                    message: format!("the connection broke while reading ({})", error_chain(&e)),
                })
            }
        }
    }
}

/// What the server said, from a JSON `message`/`error`/`errors` field or the
/// start of the body.
pub fn server_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(errors) = v.get("errors").and_then(Value::as_array) {
            let msgs: Vec<String> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .map(|m| snippet(m, 300))
                .collect();
            if !msgs.is_empty() {
                return msgs.join("; ");
            }
        }
        for key in ["message", "error", "error_description", "detail"] {
            if let Some(m) = v.get(key).and_then(Value::as_str) {
                return snippet(m, 300);
            }
        }
    }
    if body.is_empty() {
        return "(empty body)".to_string();
    }
    snippet(&String::from_utf8_lossy(body), 200)
}

/// An error with its sources, which is where reqwest keeps the useful part
/// (a refused connection, a certificate problem).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_message_prefers_graphql_errors() {
        let body = br#"{"errors":[{"message":"bad id"},{"message":"also"}],"data":null}"#;
        assert_eq!(server_message(body), "bad id; also");
        assert_eq!(
            server_message(br#"{"message":"Token is not valid"}"#),
            "Token is not valid"
        );
        assert_eq!(server_message(b""), "(empty body)");
        assert!(server_message(b"<html><body>502 Bad Gateway</body></html>").contains("502"));
    }
}
