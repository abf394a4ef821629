//! The scenario file: which experiments exist, how their runs progress, and
//! which failures the simulated platform injects.
//!
//! A scenario is plain data so that a test can state the whole behaviour of
//! the platform it runs against in a few lines of TOML. Every optional key has
//! a default that gives a healthy, quickly finishing run; unknown keys are
//! rejected so that a typo fails loudly instead of silently testing nothing.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Operation names an `[[inject]]` entry may target in a Harness scenario:
/// the GraphQL root field names of the Harness dialect plus `stop` for the
/// REST v2 stop endpoint.
pub const HARNESS_OPERATIONS: &[&str] = &[
    "runChaosExperiment",
    "listWorkflowRun",
    "listWorkflow",
    "stop",
    "runChaosV2Experiment",
    "getChaosV2ExperimentVariables",
    "getInputSet",
    "getProbesInExperiment",
    "getInfraDetails",
    "listChaosV2Experiment",
    "saveChaosV2Experiment",
];

/// Operation names an `[[inject]]` entry may target in a Litmus scenario:
/// `login` for `POST /auth/login` plus the GraphQL root field names a gate
/// uses (`listExperimentRun` to find the run of a trigger whose answer was
/// lost).
pub const LITMUS_OPERATIONS: &[&str] = &[
    "login",
    "runChaosExperiment",
    "getExperimentRun",
    "stopExperimentRuns",
    "getExperiment",
    "listExperimentRun",
    "getServerVersion",
    "getInfra",
    "listExperiment",
    "saveChaosExperiment",
];

/// Which platform's API a scenario simulates. One simulator speaks one
/// dialect: the other dialect's routes answer 404, as they would on the
/// real platform, so a client configured for the wrong one fails visibly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Harness Chaos Engineering (`[harness]`).
    #[default]
    Harness,
    /// LitmusChaos ChaosCenter 3.x (`[litmus]`).
    Litmus,
}

impl Platform {
    /// The operation names `[[inject]]` entries may use with this dialect.
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Platform::Harness => HARNESS_OPERATIONS,
            Platform::Litmus => LITMUS_OPERATIONS,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Platform::Harness => "harness",
            Platform::Litmus => "litmus",
        }
    }
}

/// A whole simulated platform: credentials, experiments and injected faults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The dialect served: `"harness"` (the default) or `"litmus"`.
    #[serde(default)]
    pub platform: Platform,
    /// Credentials and identifiers the Harness dialect checks; required in
    /// (and only allowed in) a Harness scenario.
    #[serde(default)]
    pub harness: Option<HarnessConfig>,
    /// Credentials and identifiers the Litmus dialect checks; required in
    /// (and only allowed in) a Litmus scenario.
    #[serde(default)]
    pub litmus: Option<LitmusConfig>,
    /// Stored experiments ("workflows" in the Harness API).
    #[serde(default)]
    pub experiments: Vec<Experiment>,
    /// Failures to inject, tried in file order; the first entry that matches a
    /// call wins.
    #[serde(default)]
    pub inject: Vec<Inject>,
    /// Chaos infrastructures (`[[infras]]`) that experiments saved from a
    /// manifest run on, and that `getInfraDetails` (Harness) and `getInfra`
    /// (Litmus) answer about.
    #[serde(default)]
    pub infras: Vec<InfraSpec>,
    /// The score runs of experiments created through the API end with.
    #[serde(default = "default_created_score")]
    pub created_resiliency_score: f64,
}

fn default_created_score() -> f64 {
    100.0
}

/// `[[infras]]`: one chaos infrastructure.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfraSpec {
    pub id: String,
    /// Display name; defaults to the ID.
    #[serde(default)]
    pub name: Option<String>,
    /// The infrastructure answers inactive to this many look-ups, then
    /// active (it is being installed).
    #[serde(default)]
    pub active_after_polls: u32,
    /// `false`: never becomes active (its cluster is gone).
    #[serde(default = "default_true")]
    pub active: bool,
}

/// `[harness]`: what a request must carry to be accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessConfig {
    /// Expected in the `accountIdentifier` query parameter, the
    /// `Harness-Account` header and the `identifiers` GraphQL argument.
    pub account_id: String,
    /// Expected in the `x-api-key` header.
    pub api_key: String,
    /// When set, `identifiers.orgIdentifier` must equal it; otherwise any
    /// organization is accepted.
    #[serde(default)]
    pub org_id: Option<String>,
    /// When set, `identifiers.projectIdentifier` must equal it; otherwise any
    /// project is accepted.
    #[serde(default)]
    pub project_id: Option<String>,
}

/// `[litmus]`: what the ChaosCenter dialect accepts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitmusConfig {
    /// Accepted by `POST /auth/login` together with `password`; without
    /// both, every login is refused (a token-only scenario).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// A static access token accepted as `Authorization: Bearer <token>`,
    /// like a personal API token; tokens handed out by a login are accepted
    /// as well.
    #[serde(default)]
    pub token: Option<String>,
    /// The project every operation must name in its `projectID` argument,
    /// and the one the login answer reports.
    pub project_id: String,
    /// The only `Origin` header `/api/query` accepts; by default the
    /// simulator's own URL (`http://127.0.0.1:PORT`), which is what a client
    /// sends when it uses that URL as its endpoint. Set it when listening on
    /// another address (`0.0.0.0`) or to test a mismatch.
    #[serde(default)]
    pub allowed_origin: Option<String>,
    /// Every token (the static one, and each one a login hands out) is
    /// accepted for its first N GraphQL requests and is "expired" after
    /// that: answered HTTP 200 with a `permission_denied: ...` GraphQL
    /// error, as ChaosCenter answers an expired JWT. A new login hands out a
    /// fresh token with a fresh budget. Unlimited when absent.
    #[serde(default)]
    pub token_valid_requests: Option<u32>,
    /// Tokens the server has revoked (logged out): answered HTTP 401 with
    /// `Error verifying JWT token: Token is revoked`, the only case where
    /// ChaosCenter's `/query` answers 401.
    #[serde(default)]
    pub revoked_tokens: Vec<String>,
    /// What `getServerVersion` answers, and which version's behaviour the
    /// simulator follows where versions differ (`stopExperimentRuns`: before
    /// 3.31.0 `notifyID` is ignored; before 3.29.0 a stop only reaches the
    /// cluster and the phase follows on the next poll). A value that is not
    /// `MAJOR.MINOR[.PATCH]` (such as a dev build's `ci`) behaves as the
    /// newest version.
    #[serde(default = "default_server_version")]
    pub server_version: String,
}

impl LitmusConfig {
    /// `server_version` as (major, minor, patch); `None` when it does not
    /// parse, which the simulator treats as the newest version.
    pub fn version(&self) -> Option<(u64, u64, u64)> {
        let core = self.server_version.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = match parts.next() {
            Some(p) => p?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some((major, minor, patch))
    }

    /// Whether the server is at least `major.minor` (an unparseable
    /// version counts as the newest).
    pub fn at_least(&self, major: u64, minor: u64) -> bool {
        self.version()
            .is_none_or(|(ma, mi, _)| (ma, mi) >= (major, minor))
    }
}

fn default_server_version() -> String {
    "3.31.0".to_string()
}

/// `[[experiments]]`: one stored experiment and the script its runs follow.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The workflow ID (Harness) or experiment ID (Litmus) a client
    /// triggers it by.
    pub id: String,
    /// Display name; defaults to the ID.
    #[serde(default)]
    pub name: Option<String>,
    /// Shown as `workflowDescription` / `description`.
    #[serde(default)]
    pub description: String,
    /// The phase shown at each poll of a run: poll `k` (from 0) shows
    /// `phases[min(k, len - 1)]`, so the last entry is where the run ends.
    #[serde(default = "default_phases")]
    pub phases: Vec<String>,
    /// Score reported once the run shows its last phase; `None` means the
    /// platform never reports one.
    #[serde(default)]
    pub resiliency_score: Option<f64>,
    /// The run is missing from `listWorkflowRun` (Harness) or
    /// `getExperimentRun` answers "no matching experiment run" (Litmus) for
    /// this many polls after the trigger (the platform's indexing lag),
    /// though the polls count. Litmus writes the run before the trigger
    /// returns, so there the default of 0 is the realistic value.
    #[serde(default)]
    pub unlisted_polls: u32,
    /// A new run of this experiment is missing from the first K listing
    /// answers that would otherwise include it: Litmus `listExperimentRun`,
    /// and Harness `listWorkflowRun` used without `notifyIDs` (the lookup of
    /// a run whose trigger answer was lost). A hidden run counts no poll.
    #[serde(default)]
    pub unlisted_lists: u32,
    /// Runs of the experiment that finished before the simulator started,
    /// newest first (`[[experiments.history]]`): what a gate's baseline
    /// reads from the run listings.
    #[serde(default)]
    pub history: Vec<PastRun>,
    /// A scheduled experiment: the trigger answers an empty notify ID and
    /// starts nothing, as seen on the open-source sibling.
    #[serde(default)]
    pub cron: bool,
    /// Whether the chaos infrastructure is connected; a trigger of an
    /// experiment on an inactive infrastructure fails.
    #[serde(default = "default_true")]
    pub infra_active: bool,
    /// A removed experiment cannot be triggered. Harness's `listWorkflow`
    /// shows it with `isRemoved: true`; ChaosCenter filters removed
    /// experiments out, so Litmus's `getExperiment` answers "no matching
    /// experiments" as for an unknown ID.
    #[serde(default)]
    pub removed: bool,
    /// `errorResponse` of a finished run (Harness only: Litmus's
    /// `ExperimentRun` has no such field).
    #[serde(default)]
    pub error_response: Option<String>,
    /// Raw `executionData` string returned verbatim instead of the generated
    /// document, to feed clients hostile or malformed data.
    #[serde(default)]
    pub execution_data: Option<String>,
    /// Pads the generated `executionData` to about this many bytes, to
    /// measure what a client pays for asking for it.
    #[serde(default)]
    pub execution_data_pad_bytes: usize,
    /// Grows the generated `executionData` to about this many bytes with
    /// Argo step and pod nodes (no `chaosData`), the shape of a large real
    /// workflow: many small objects rather than one long string.
    #[serde(default)]
    pub execution_data_nodes_bytes: usize,
    /// Size the generated `workflowManifest` is padded to.
    #[serde(default = "default_manifest_bytes")]
    pub manifest_bytes: usize,
    /// The faults the experiment runs; each becomes a ChaosEngine node.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// The experiment's tags (a gate keeps its manifest digest here).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Harness: the experiment's human-readable identity, which REST v2
    /// accepts instead of its ID with `isIdentity=true` (run, variables,
    /// input sets); the ID stays what stops and GraphQL use. Defaults to
    /// the ID.
    #[serde(default)]
    pub identity: Option<String>,
    /// Harness: the runtime inputs the experiment declares
    /// (`[[experiments.variables]]`, `getChaosV2ExperimentVariables`).
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// Harness: stored input sets (`[[experiments.input_sets]]`).
    #[serde(default)]
    pub input_sets: Vec<InputSet>,
}

/// `[[experiments.variables]]`: one runtime input of an experiment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    /// The task (fault step) it belongs to; experiment-level when absent.
    #[serde(default)]
    pub task: Option<String>,
    /// A run cannot start without a value for it (unless it has a
    /// default).
    #[serde(default)]
    pub required: bool,
    /// Its default value, if any.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
}

/// `[[experiments.input_sets]]`: a stored input set.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSet {
    pub identity: String,
    /// Experiment-level input names to values.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, serde_json::Value>,
    /// Task names to input names to values.
    #[serde(default)]
    pub tasks:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>>,
}

impl Experiment {
    /// The identity REST v2 names it by (the ID unless set).
    pub fn identity(&self) -> &str {
        self.identity.as_deref().unwrap_or(&self.id)
    }
}

/// `[[experiments.faults]]`: one fault and how it ends.
/// A run that finished before the simulator started.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastRun {
    /// Its final phase.
    #[serde(default = "default_past_phase")]
    pub phase: String,
    #[serde(default)]
    pub resiliency_score: Option<f64>,
    /// How long before the simulator started it was created; by default an
    /// hour per place in the list (the first is the newest).
    #[serde(default)]
    pub minutes_ago: Option<u64>,
}

fn default_past_phase() -> String {
    "Completed".to_string()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub name: String,
    /// Final `experimentVerdict`: usually `Pass`, `Fail`, `Stopped` or `N/A`.
    #[serde(default = "default_verdict")]
    pub verdict: String,
    /// Final `probeSuccessPercentage`; defaults to "100" for a `Pass` and
    /// "0" for anything else.
    #[serde(default)]
    pub probe_success_percentage: Option<String>,
    /// Final `failStep` (why the fault failed).
    #[serde(default)]
    pub fail_step: String,
    /// The fault's probes and how each ends (`[[experiments.faults.probes]]`).
    #[serde(default)]
    pub probes: Vec<ProbeSpec>,
}

/// One resilience probe of a fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub name: String,
    /// `SOT`, `EOT`, `Edge`, `Continuous` or `OnChaos`.
    #[serde(default = "default_probe_mode")]
    pub mode: String,
    /// Final verdict: `Passed`, `Failed`, `N/A` or `Awaited`.
    #[serde(default = "default_probe_verdict")]
    pub verdict: String,
    /// The platform's description of the result.
    #[serde(default)]
    pub description: Option<String>,
    /// `httpProbe`, `cmdProbe`, `promProbe`, `k8sProbe`, ...
    #[serde(default = "default_probe_type")]
    pub r#type: String,
}

fn default_probe_mode() -> String {
    "SOT".to_string()
}

fn default_probe_verdict() -> String {
    "Passed".to_string()
}

fn default_probe_type() -> String {
    "httpProbe".to_string()
}

impl Fault {
    /// The probe success percentage shown once the run has finished.
    pub fn final_probe_success(&self) -> String {
        match &self.probe_success_percentage {
            Some(p) => p.clone(),
            None if self.verdict == "Pass" => "100".to_string(),
            None => "0".to_string(),
        }
    }
}

/// `[[inject]]`: a failure the simulator answers with instead of (or after)
/// the real behaviour of an operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// One of the dialect's operation names: [`HARNESS_OPERATIONS`] or
    /// [`LITMUS_OPERATIONS`].
    pub operation: String,
    /// Applies to the first N calls of the operation; every call when absent.
    #[serde(default)]
    pub first: Option<u32>,
    /// HTTP status to answer with.
    #[serde(default)]
    pub status: Option<u16>,
    /// Value of a `Retry-After` header on the injected answer.
    #[serde(default)]
    pub retry_after: Option<RetryAfter>,
    /// Sleep this long before answering, so a client's timeout can fire first.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Raw body to answer with (an HTML error page, broken JSON, ...).
    #[serde(default)]
    pub body: Option<String>,
    /// Content type of `body`; by default JSON when the body parses as JSON,
    /// HTML otherwise.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Close the connection without sending any response.
    #[serde(default)]
    pub drop_connection: bool,
    /// Carry out the real call first (create the run, count the poll, stop
    /// the run) and only then inject; otherwise the call has no effect.
    #[serde(default)]
    pub after_effect: bool,
}

impl Inject {
    /// Whether this entry replaces the answer; an entry with only a delay
    /// just slows the real answer down.
    pub fn replaces_answer(&self) -> bool {
        self.drop_connection || self.status.is_some() || self.body.is_some()
    }
}

/// A `Retry-After` value, written in TOML either as seconds or as a string
/// (an HTTP date, or deliberately garbage).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RetryAfter {
    Seconds(u64),
    Text(String),
}

impl RetryAfter {
    pub fn header_value(&self) -> String {
        match self {
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::Text(t) => t.clone(),
        }
    }
}

fn default_phases() -> Vec<String> {
    ["Queued", "Running", "Completed"]
        .map(String::from)
        .to_vec()
}

fn default_true() -> bool {
    true
}

fn default_manifest_bytes() -> usize {
    6000
}

fn default_verdict() -> String {
    "Pass".to_string()
}

impl Experiment {
    /// The display name: `name`, or the ID when the scenario gives none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

impl Scenario {
    /// Parses and checks a scenario; the error names the offending key or
    /// entry so a test author can fix it without reading this code.
    pub fn from_toml(s: &str) -> Result<Scenario, String> {
        let scenario: Scenario = toml::from_str(s).map_err(|e| format!("invalid scenario: {e}"))?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Reads a scenario file; errors name the file.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
        Scenario::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The experiment with this workflow ID, if the scenario has one.
    pub fn experiment(&self, id: &str) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.id == id)
    }

    /// The experiment with this identity (REST v2 `isIdentity=true`).
    pub fn experiment_by_identity(&self, identity: &str) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.identity() == identity)
    }

    /// Checks what serde cannot: things that would make the simulator's
    /// behaviour undefined rather than merely unusual.
    fn check(&self) -> Result<(), String> {
        let (has_harness, has_litmus) = (self.harness.is_some(), self.litmus.is_some());
        let (needed, present, other) = match self.platform {
            Platform::Harness => (has_harness, has_litmus, Platform::Litmus),
            Platform::Litmus => (has_litmus, has_harness, Platform::Harness),
        };
        let own = self.platform.table();
        if !needed {
            return Err(format!(
                "invalid scenario: platform \"{own}\" needs a [{own}] table"
            ));
        }
        if present {
            return Err(format!(
                "invalid scenario: a [{}] table has no meaning with platform \"{own}\" (set platform = \"{}\" or remove it)",
                other.table(),
                other.table()
            ));
        }
        let mut seen = HashSet::new();
        for exp in &self.experiments {
            if exp.id.is_empty() {
                return Err("invalid scenario: an experiment has an empty id".into());
            }
            if !seen.insert(exp.id.as_str()) {
                return Err(format!(
                    "invalid scenario: experiment id `{}` appears twice",
                    exp.id
                ));
            }
            if exp.phases.is_empty() {
                return Err(format!(
                    "invalid scenario: experiment `{}` has no phases",
                    exp.id
                ));
            }
        }
        for (i, inj) in self.inject.iter().enumerate() {
            let known = self.platform.operations();
            if !known.contains(&inj.operation.as_str()) {
                return Err(format!(
                    "invalid scenario: inject entry {} has unknown operation `{}` for platform \"{own}\" (known: {})",
                    i + 1,
                    inj.operation,
                    known.join(", ")
                ));
            }
            if let Some(status) = inj.status
                && !(100..=999).contains(&status)
            {
                return Err(format!(
                    "invalid scenario: inject entry {} has HTTP status {status} out of range",
                    i + 1
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [harness]
        account_id = "acc"
        api_key = "key"

        [[experiments]]
        id = "exp"
    "#;

    #[test]
    fn defaults_give_a_healthy_run() {
        let s = Scenario::from_toml(MINIMAL).expect("valid");
        let e = &s.experiments[0];
        assert_eq!(e.phases, ["Queued", "Running", "Completed"]);
        assert!(e.infra_active && !e.cron && !e.removed);
        assert_eq!(e.manifest_bytes, 6000);
        assert_eq!(e.display_name(), "exp");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Scenario::from_toml(&format!("{MINIMAL}\nphasez = []\n")).unwrap_err();
        assert!(err.contains("phasez"), "{err}");
    }

    #[test]
    fn unknown_inject_operation_is_named() {
        let err = Scenario::from_toml(&format!(
            "{MINIMAL}\n[[inject]]\noperation = \"listWorkflowRuns\"\n"
        ))
        .unwrap_err();
        assert!(err.contains("listWorkflowRuns"), "{err}");
    }

    const LITMUS: &str = r#"
        platform = "litmus"

        [litmus]
        project_id = "proj"

        [[experiments]]
        id = "exp"
    "#;

    #[test]
    fn platform_defaults_to_harness() {
        assert_eq!(
            Scenario::from_toml(MINIMAL).expect("valid").platform,
            Platform::Harness
        );
        let s = Scenario::from_toml(LITMUS).expect("valid");
        assert_eq!(s.platform, Platform::Litmus);
        let litmus = s.litmus.expect("[litmus]");
        assert_eq!(litmus.project_id, "proj");
        assert!(litmus.token.is_none() && litmus.allowed_origin.is_none());
    }

    #[test]
    fn each_platform_needs_its_own_table_only() {
        let err =
            Scenario::from_toml("platform = \"litmus\"\n[harness]\naccount_id='a'\napi_key='k'\n")
                .unwrap_err();
        assert!(err.contains("[litmus]"), "{err}");
        let err =
            Scenario::from_toml(&format!("{MINIMAL}\n[litmus]\nproject_id = 'p'\n")).unwrap_err();
        assert!(err.contains("[litmus]") && err.contains("harness"), "{err}");
        let err = Scenario::from_toml(&format!(
            "platform = \"harness\"\n{}",
            "[litmus]\nproject_id='p'\n"
        ))
        .unwrap_err();
        assert!(err.contains("[harness]"), "{err}");
        let err = Scenario::from_toml("platform = \"gremlin\"\n").unwrap_err();
        assert!(err.contains("gremlin"), "{err}");
    }

    #[test]
    fn inject_operations_depend_on_the_platform() {
        let err = Scenario::from_toml(&format!("{MINIMAL}\n[[inject]]\noperation = \"login\"\n"))
            .unwrap_err();
        assert!(err.contains("`login`"), "{err}");
        let err = Scenario::from_toml(&format!(
            "{LITMUS}\n[[inject]]\noperation = \"listWorkflowRun\"\n"
        ))
        .unwrap_err();
        assert!(
            err.contains("getExperimentRun"),
            "lists the known ones: {err}"
        );
        for op in LITMUS_OPERATIONS {
            Scenario::from_toml(&format!("{LITMUS}\n[[inject]]\noperation = \"{op}\"\n"))
                .expect("valid");
        }
    }

    #[test]
    fn retry_after_accepts_number_or_text() {
        let s = Scenario::from_toml(&format!(
            "{MINIMAL}\n[[inject]]\noperation = \"stop\"\nretry_after = 3\n[[inject]]\noperation = \"stop\"\nretry_after = \"soon\"\n"
        ))
        .expect("valid");
        let values: Vec<_> = s
            .inject
            .iter()
            .map(|i| i.retry_after.as_ref().map(RetryAfter::header_value))
            .collect();
        assert_eq!(values, [Some("3".to_string()), Some("soon".to_string())]);
    }

    #[test]
    fn litmus_keys_for_tokens_and_versions() {
        let s = Scenario::from_toml(LITMUS).expect("valid");
        let litmus = s.litmus.expect("[litmus]");
        assert_eq!(litmus.server_version, "3.31.0");
        assert_eq!(litmus.token_valid_requests, None);
        assert!(litmus.revoked_tokens.is_empty());
        assert_eq!(s.experiments[0].unlisted_lists, 0);

        let s = Scenario::from_toml(&LITMUS.replace(
            "project_id = \"proj\"",
            "project_id = \"proj\"\nserver_version = \"3.30.0\"\ntoken_valid_requests = 3\nrevoked_tokens = [\"old\"]",
        ))
        .expect("valid");
        let litmus = s.litmus.expect("[litmus]");
        assert_eq!(litmus.version(), Some((3, 30, 0)));
        assert!(!litmus.at_least(3, 31) && litmus.at_least(3, 29));
        assert_eq!(litmus.token_valid_requests, Some(3));
        assert_eq!(litmus.revoked_tokens, ["old"]);
    }

    #[test]
    fn server_versions_parse_loosely_and_unknown_ones_are_newest() {
        let config = |v: &str| LitmusConfig {
            username: None,
            password: None,
            token: None,
            project_id: "p".into(),
            allowed_origin: None,
            token_valid_requests: None,
            revoked_tokens: Vec::new(),
            server_version: v.into(),
        };
        assert_eq!(config("3.1.0").version(), Some((3, 1, 0)));
        assert_eq!(config("v3.9").version(), Some((3, 9, 0)));
        assert_eq!(config("3.31.0-rc1").version(), Some((3, 31, 0)));
        assert!(!config("3.1.0").at_least(3, 29));
        assert!(!config("3.28.9").at_least(3, 29));
        assert!(config("3.29.0").at_least(3, 29));
        assert!(config("4.0.0").at_least(3, 31));
        for odd in ["ci", "", "3", "3.x.0", "3.1.2.4"] {
            assert_eq!(config(odd).version(), None, "{odd}");
            assert!(config(odd).at_least(3, 31), "{odd}");
        }
    }

    #[test]
    fn the_as_code_scenario_has_an_infrastructure_being_installed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/as-code.toml");
        let s = Scenario::load(&path).expect("the shipped scenario loads");
        assert!(s.experiments.is_empty());
        assert_eq!(s.infras[0].id, "infra-boutique");
        assert_eq!(s.infras[0].active_after_polls, 3);
        assert!(s.infras[0].active);
        assert_eq!(s.created_resiliency_score, 100.0);
    }
}
