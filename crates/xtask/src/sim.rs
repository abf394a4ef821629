//! The simulator as a separate process: started on a free loopback port
//! with a scenario file, asked over HTTP what it recorded, and killed when
//! dropped, however the task ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A running `chaos-sim`.
pub struct Sim {
    child: Child,
    /// The base URL it listens on, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    /// Starts `binary --scenario scenario` and waits for the line giving its
    /// address. Its per-request log goes to `log` when given.
    pub fn start(binary: &Path, scenario: &Path, log: Option<&Path>) -> Result<Sim, String> {
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::File::create(path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
            ),
            None => Stdio::null(),
        };
        let mut child = Command::new(binary)
            .arg("--scenario")
            .arg(scenario)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("chaos-sim has no stdout")?;
        // Owned from here on, so the process is killed on every error path.
        let mut sim = Sim {
            child,
            url: String::new(),
        };
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| format!("cannot read chaos-sim's address: {e}"))?;
        sim.url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| format!("chaos-sim did not print its address (got {first:?})"))?
            .to_string();
        Ok(sim)
    }

    /// Every request the simulator recorded, in order (`GET /_sim/requests`).
    pub fn requests(&self) -> Result<Vec<Recorded>, String> {
        let all = self.get_json("/_sim/requests")?;
        let items = all.as_array().ok_or("/_sim/requests is not a JSON array")?;
        Ok(items.iter().map(Recorded::from_json).collect())
    }

    /// Every run the simulator started (`GET /_sim/runs`).
    pub fn runs(&self) -> Result<Vec<RunRecord>, String> {
        let all = self.get_json("/_sim/runs")?;
        let items = all.as_array().ok_or("/_sim/runs is not a JSON array")?;
        Ok(items.iter().map(RunRecord::from_json).collect())
    }

    /// A plain HTTP/1.1 GET on loopback: the simulator's own endpoints need
    /// nothing more, and an HTTP client crate would slow every first build.
    fn get_json(&self, path: &str) -> Result<Value, String> {
        let host = self.url.trim_start_matches("http://");
        let mut stream =
            TcpStream::connect(host).map_err(|e| format!("cannot reach chaos-sim: {e}"))?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| format!("GET {path}: {e}"))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .map_err(|e| format!("GET {path}: {e}"))?;
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("GET {path}: no HTTP head in the answer"))?;
        let head = String::from_utf8_lossy(&answer[..split]);
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")));
        }
        serde_json::from_slice(&answer[split + 4..]).map_err(|e| format!("GET {path}: {e}"))
    }
}

/// One request as the simulator recorded it, reduced to what a benchmark
/// counts.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// GraphQL root field (`listWorkflowRun`, `runChaosExperiment`), `stop`,
    /// or empty when the simulator could not tell.
    pub operation: String,
    /// The GraphQL document sent, empty for a non-GraphQL request.
    pub document: String,
    pub notify_ids: Vec<String>,
    pub response_bytes: u64,
    /// Both directions on the wire: request line, headers and body, and the
    /// same of the answer.
    pub wire_bytes: u64,
    /// When it arrived, in microseconds since the Unix epoch.
    pub at_unix_us: u64,
    /// When the simulator had its answer ready (0 if none was sent).
    pub answered_at_unix_us: u64,
    /// Which TCP connection carried it (numbered in the order accepted).
    pub connection: u64,
}

impl Recorded {
    fn from_json(v: &Value) -> Recorded {
        let body = v["body"].as_str().unwrap_or("");
        let document = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|b| b["query"].as_str().map(String::from))
            .unwrap_or_default();
        Recorded {
            operation: v["operation"].as_str().unwrap_or("").to_string(),
            document,
            notify_ids: v["notify_ids"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            response_bytes: v["response_bytes"].as_u64().unwrap_or(0),
            wire_bytes: v["request_wire_bytes"].as_u64().unwrap_or(0)
                + v["response_wire_bytes"].as_u64().unwrap_or(0),
            at_unix_us: v["at_unix_us"].as_u64().unwrap_or(0),
            answered_at_unix_us: v["answered_at_unix_us"].as_u64().unwrap_or(0),
            connection: v["connection"].as_u64().unwrap_or(0),
        }
    }

    /// Whether the GraphQL document names `field` (as a whole word).
    pub fn selects(&self, field: &str) -> bool {
        self.document
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| word == field)
    }

    /// A status poll: a `listWorkflowRun` that asks for the phase. The
    /// request chaos-gate sends once per run for `executionData` does not,
    /// nor does its look-up of a run whose trigger answer was lost.
    pub fn is_status_poll(&self) -> bool {
        self.operation == "listWorkflowRun" && self.selects("phase")
    }

    /// The once-per-run request for a finished run's `executionData`.
    pub fn is_execution_data(&self) -> bool {
        self.operation == "listWorkflowRun"
            && self.selects("executionData")
            && !self.selects("phase")
    }
}

/// One run as the simulator sees it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// When a poll first served the run a terminal phase.
    pub terminal_at_unix_ms: Option<u64>,
}

impl RunRecord {
    fn from_json(v: &Value) -> RunRecord {
        RunRecord {
            terminal_at_unix_ms: v["terminal_at_unix_ms"].as_u64(),
        }
    }
}
