//! Settings: where every setting is declared, read from the environment and
//! validated (spec §2).
//!
//! The CI hosts hand a step its settings under different prefixes: Drone and
//! Harness CI as `PLUGIN_<NAME>`, GitHub Actions as `INPUT_<NAME>` (keeping
//! hyphens), and users directly as `CHAOS_GATE_<NAME>`. Reading happens in two
//! steps so that every error can name the variable it came from:
//!
//! 1. [`RawSettings::from_vars`] merges the prefixes (highest precedence wins),
//!    normalises names, drops empty values and collects warnings for unknown
//!    names;
//! 2. [`Settings::from_raw`] parses and checks every value and reports *all*
//!    problems at once.
//!
//! `envy` was the first idea, but it stops at the first bad value and cannot
//! tell which of the three prefixed variables supplied it, so the parsing is
//! done here against the [`SETTINGS`] table, which is also what `--help`, the
//! docs test and the CI-host files are checked against.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::secret::Secret;

/// One setting as users see it: the single source of truth for `--help`, the
/// README, `action.yml`, `plugin.yaml`, the GitLab component and the Jenkins
/// step (a test checks that they all agree with this table).
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// Canonical snake_case name.
    pub name: &'static str,
    /// Default shown to users; empty when there is none.
    pub default: &'static str,
    /// One line of meaning.
    pub help: &'static str,
    /// A secret is never printed and is masked on GitHub.
    pub secret: bool,
    /// What kind of value it takes, for host files that type their inputs
    /// (GitLab's `spec: inputs`).
    pub kind: Kind,
    /// The values it accepts, when it is one of a few words.
    pub choices: &'static [&'static str],
    /// The one platform it applies to (`harness`, `litmus`), if only one:
    /// given for the other platform it is bad input (spec §2 v2).
    pub platform: Option<&'static str>,
}

/// The kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
}

const fn s(name: &'static str, default: &'static str, help: &'static str) -> SettingSpec {
    SettingSpec {
        name,
        default,
        help,
        secret: false,
        kind: Kind::Text,
        choices: &[],
        platform: None,
    }
}

const fn secret(name: &'static str, help: &'static str) -> SettingSpec {
    SettingSpec {
        secret: true,
        ..s(name, "", help)
    }
}

impl SettingSpec {
    const fn number(self) -> SettingSpec {
        SettingSpec {
            kind: Kind::Number,
            ..self
        }
    }

    const fn boolean(self) -> SettingSpec {
        SettingSpec {
            kind: Kind::Bool,
            ..self
        }
    }

    const fn choices(self, choices: &'static [&'static str]) -> SettingSpec {
        SettingSpec { choices, ..self }
    }

    const fn harness(self) -> SettingSpec {
        SettingSpec {
            platform: Some("harness"),
            ..self
        }
    }

    const fn litmus(self) -> SettingSpec {
        SettingSpec {
            platform: Some("litmus"),
            ..self
        }
    }
}

/// Every setting chaos-gate reads, in the order of spec §2.
pub const SETTINGS: &[SettingSpec] = &[
    s("platform", "harness", "`harness` or `litmus`").choices(&["harness", "litmus"]),
    s(
        "endpoint",
        "https://app.harness.io",
        "base URL of the platform; plain http:// only on loopback (the default is for harness; required for litmus)",
    ),
    secret("api_key", "Harness API key (required for harness)").harness(),
    s(
        "account_id",
        "",
        "Harness account identifier (required for harness)",
    ).harness(),
    s("org_id", "default", "Harness organization identifier").harness(),
    s(
        "project_id",
        "",
        "Harness project identifier / Litmus project ID (required)",
    ),
    s(
        "experiment_id",
        "",
        "one or more stored experiment IDs, comma-separated (required unless `notify_id` or `experiment_file`)",
    ),
    s(
        "notify_id",
        "",
        "watch a run that was already triggered, with that notify ID, instead of triggering",
    ),
    s(
        "expected_resilience_score",
        "100",
        "pass threshold, 0 to 100 inclusive, may be fractional",
    ).number(),
    s(
        "timeout",
        "30m",
        "longest wait for all runs: plain seconds or units (90, 90s, 15m, 1h30m); at least 1s",
    ),
    s(
        "poll_interval",
        "5s",
        "time between status polls; at least 100ms",
    ),
    s(
        "junit_path",
        "chaos-gate-junit.xml",
        "where the JUnit report goes (folders are created)",
    ),
    s(
        "stop_on_abort",
        "true",
        "stop runs still going on timeout or cancellation",
    ).boolean(),
    s(
        "on_platform_error",
        "fail",
        "`fail` or `warn`: whether a platform error (exit 3) fails the job",
    ).choices(&["fail", "warn"]),
    secret("token", "Litmus access token").litmus(),
    s("username", "", "Litmus login, used when no token is given").litmus(),
    secret("password", "Litmus password, used when no token is given").litmus(),
    s("ca_cert", "", "path to extra PEM CA certificates to trust"),
    s(
        "log_format",
        "text",
        "`text` or `json` (one JSON object per line on stdout)",
    ).choices(&["text", "json"]),
    s(
        "dry_run",
        "false",
        "check settings, credentials and that each experiment exists; trigger nothing",
    ).boolean(),
    s(
        "runtime_inputs",
        "",
        "Harness only: runtime input values as YAML or JSON (names to values, plus tasks: task names to names to values), or @path to a file",
    ).harness(),
    s(
        "input_set",
        "",
        "Harness only: identity of a stored input set to run with; runtime_inputs override its values",
    ).harness(),
    s(
        "warning_score",
        "",
        "a score at least this but below `expected_resilience_score` is `warn`, not `fail`; at most the threshold",
    ),
    s(
        "baseline_runs",
        "0",
        "compare each run with the median score of its experiment's last N (at most 50) finished runs; `0` turns it off",
    ).number(),
    s(
        "max_score_drop",
        "10",
        "with `baseline_runs`: a score more than this many points below the baseline fails, even above the threshold",
    ).number(),
    s(
        "critical_faults",
        "",
        "comma-separated fault names, or `*` for all: a run in which one did not pass fails whatever its score",
    ),
    s(
        "require_probes",
        "false",
        "a run in which no probe was evaluated is `inconclusive`, which fails",
    ).boolean(),
    s(
        "on_fail",
        "fail",
        "`fail` or `warn`: whether a failing or inconclusive gate fails the job (`warn`: report only)",
    ).choices(&["fail", "warn"]),
    s(
        "warn_exit_code",
        "0",
        "the exit code of a gate that ends in a warning: `0`, or 5 to 125",
    ).number(),
    s(
        "experiment_file",
        "",
        "path to an experiment manifest (JSON or YAML): create or update the stored experiment from it, then run it; instead of `experiment_id`",
    ),
    s(
        "infra_id",
        "",
        "the chaos infrastructure the experiment from `experiment_file` runs on (required with `experiment_file`)",
    ),
];

/// Names chaos-gate itself writes as outputs (GitLab's dotenv report turns
/// them into `CHAOS_GATE_*` variables of later jobs). Seeing them is normal,
/// so they are ignored without a warning.
const OWN_OUTPUTS: &[&str] = &crate::reporter::outputs::NAMES;

/// The longest `timeout` or `poll_interval`: no gate waits a week, and
/// deadlines must stay within what the clock can add.
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most past runs a baseline reads: one page of any platform's listing.
const MAX_BASELINE_RUNS: u32 = 50;
/// The shortest `timeout` (spec §2 v2): a gate needs at least one request.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// The shortest `poll_interval` (spec §2 v2): anything shorter floods the
/// platform with status polls.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The prefixes, lowest precedence first.
const PREFIXES: &[&str] = &["PLUGIN_", "INPUT_", "CHAOS_GATE_"];

/// A value as found in the environment, with the variable that supplied it.
#[derive(Debug, Clone)]
pub struct RawValue {
    pub value: String,
    pub variable: String,
    rank: usize,
}

/// The environment reduced to known settings, before parsing.
#[derive(Debug, Default)]
pub struct RawSettings {
    values: BTreeMap<&'static str, RawValue>,
    /// Unknown names, each with a suggestion; printed as warnings.
    pub warnings: Vec<String>,
}

/// Upper-case, `-` and spaces as `_`: GitHub keeps hyphens in input names
/// (`INPUT_API-KEY`), Drone upper-cases them.
fn normalise(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn spec(name: &str) -> Option<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// The known setting closest to an unknown name, for the warning.
fn closest(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .map(|s| (strsim::jaro_winkler(name, s.name), s.name))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
        .unwrap_or("platform")
}

impl RawSettings {
    /// Reads the settings out of `(variable, value)` pairs, normally
    /// `std::env::vars_os()` made lossy.
    pub fn from_vars<I>(vars: I) -> RawSettings
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut raw = RawSettings::default();
        let mut unknown = BTreeMap::new();
        for (variable, value) in vars {
            let Some((rank, rest)) = PREFIXES
                .iter()
                .enumerate()
                .find_map(|(rank, p)| variable.strip_prefix(p).map(|rest| (rank, rest)))
            else {
                continue;
            };
            let name = normalise(rest);
            let Some(spec) = spec(&name) else {
                if !OWN_OUTPUTS.contains(&name.as_str()) && !name.is_empty() {
                    unknown.insert(variable.clone(), name);
                }
                continue;
            };
            // Empty means unset: GitHub passes every input, set or not.
            if value.trim().is_empty() {
                continue;
            }
            let replace = raw.values.get(spec.name).is_none_or(|old| old.rank <= rank);
            if replace {
                raw.values.insert(
                    spec.name,
                    RawValue {
                        value,
                        variable,
                        rank,
                    },
                );
            }
        }
        for (variable, name) in unknown {
            raw.warnings.push(format!(
                "{variable} is not a chaos-gate setting and is ignored; did you mean {}? \
                 (see `chaos-gate --help`)",
                closest(&name)
            ));
        }
        raw
    }

    /// The raw value of a setting, if it was set to something non-empty.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.values.get(name)
    }

    /// Every secret value that was supplied (for masking on GitHub).
    pub fn secret_values(&self) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(name, _)| spec(name).is_some_and(|s| s.secret))
            .map(|(_, v)| v.value.as_str())
            .collect()
    }
}

/// Which chaos platform to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformKind {
    Harness,
    Litmus,
}

impl PlatformKind {
    /// The name as the `platform` setting spells it.
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Harness => "harness",
            PlatformKind::Litmus => "litmus",
        }
    }
}

/// What a platform error does to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPlatformError {
    Fail,
    Warn,
}

/// What a failing or inconclusive gate does to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFail {
    Fail,
    /// Report only: the failure is reported but the job ends in a warning.
    Warn,
}

/// Faults whose failure fails a run whatever its score.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CriticalFaults {
    #[default]
    None,
    All,
    Named(Vec<String>),
}

impl CriticalFaults {
    /// Whether the fault `name` is critical (names match without regard to
    /// case).
    pub fn contains(&self, name: &str) -> bool {
        match self {
            CriticalFaults::None => false,
            CriticalFaults::All => true,
            CriticalFaults::Named(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

/// Console log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Litmus credentials: a token, or a login that yields one.
#[derive(Debug, Clone)]
pub enum LitmusAuth {
    Token(Secret),
    Login { username: String, password: Secret },
}

/// Validated settings. Secrets are wrapped in [`Secret`], whose `Debug`
/// prints a placeholder.
#[derive(Debug, Clone)]
pub struct Settings {
    pub platform: PlatformKind,
    pub endpoint: Url,
    pub api_key: Option<Secret>,
    pub account_id: String,
    pub org_id: String,
    pub project_id: String,
    pub experiments: Vec<String>,
    pub notify_id: Option<String>,
    pub expected_resilience_score: f64,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub junit_path: PathBuf,
    pub stop_on_abort: bool,
    pub on_platform_error: OnPlatformError,
    pub litmus_auth: Option<LitmusAuth>,
    /// PEM bytes of `ca_cert`, already checked to contain certificates.
    pub ca_cert: Option<Vec<u8>>,
    pub log_format: LogFormat,
    pub dry_run: bool,
    pub warning_score: Option<f64>,
    pub baseline_runs: u32,
    pub max_score_drop: f64,
    pub critical_faults: CriticalFaults,
    pub require_probes: bool,
    pub on_fail: OnFail,
    pub warn_exit_code: u8,
    /// `runtime_inputs`, parsed (Harness only).
    pub runtime_inputs: Option<crate::platform::inputs::RuntimeInputs>,
    /// `input_set` (Harness only).
    pub input_set: Option<String>,
    /// The checked manifest of `experiment_file` (spec §9).
    pub manifest: Option<crate::manifest::Manifest>,
    /// The infrastructure the manifest's experiment runs on.
    pub infra_id: Option<String>,
}

/// One bad setting: the variable it was read from (or the names it could
/// have been given under) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub variable: String,
    pub message: String,
}

/// Every bad setting found, reported together.
#[derive(Debug, Clone)]
pub struct SettingsErrors(pub Vec<SettingError>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} setting{} invalid; nothing was triggered:",
            if n == 1 { " is" } else { "s are" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {}: {}", e.variable, e.message)?;
        }
        write!(
            f,
            "Run `chaos-gate --help` for every setting and its default."
        )
    }
}

impl std::error::Error for SettingsErrors {}

/// The variable names a missing setting could be given under.
fn wanted(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    format!("CHAOS_GATE_{upper} (or INPUT_{upper}, PLUGIN_{upper})")
}

/// Parses `90`, `1.5`, `90s`, `15m`, `1h30m`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("{secs} is not a usable number of seconds"));
    }
    humantime::parse_duration(text).map_err(|e| {
        format!("not a duration ({e}); use plain seconds (90) or units (90s, 15m, 1h30m)")
    })
}

/// Parses the booleans the hosts write: `true`/`false` (GitHub, GitLab),
/// also `yes`/`no`, `1`/`0`, `on`/`off`.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err("not a boolean; use true or false".to_string()),
    }
}

/// True for `localhost` and loopback addresses, where plain http is allowed.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks an endpoint: http(s) only, plain http only on loopback.
pub fn parse_endpoint(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err("plain http:// is refused except on loopback; use https://".to_string());
        }
        other => return Err(format!("scheme {other}:// is not supported; use https://")),
    }
    if url.host().is_none() {
        return Err("has no host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry credentials; use the api_key, token or password settings".to_string(),
        );
    }
    Ok(url)
}

/// What keeps `value` from being sent in an HTTP header (a line break or
/// another control character), if anything. Secrets and `account_id` go
/// into headers; a value with such a character would otherwise fail every
/// request with a confusing connection error (spec §2 v2).
pub fn header_problem(value: &str) -> Option<&'static str> {
    if value.contains(['\r', '\n']) {
        Some("holds a line break")
    } else if reqwest::header::HeaderValue::from_str(value).is_err() {
        Some("holds a control character")
    } else {
        None
    }
}

/// A value as it may be echoed: credentials written into a URL
/// (`https://user:pass@host`) are replaced by `***`.
fn without_credentials(value: &str) -> Cow<'_, str> {
    let Some(scheme_end) = value.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(value);
    };
    let authority_end = value[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(value.len(), |i| scheme_end + i);
    match value[scheme_end..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}***{}",
            &value[..scheme_end],
            &value[scheme_end + at..]
        )),
        None => Cow::Borrowed(value),
    }
}

/// Collects errors while parsing, so that all are reported together.
struct Checker<'a> {
    raw: &'a RawSettings,
    errors: Vec<SettingError>,
}

impl<'a> Checker<'a> {
    fn value(&self, name: &str) -> Option<&'a RawValue> {
        self.raw.get(name)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.value(name).map(|v| v.value.trim().to_string())
    }

    /// Whether an error already names `variable` (it is reported once).
    fn reported(&self, variable: &str) -> bool {
        self.errors.iter().any(|e| e.variable.starts_with(variable))
    }

    fn fail(&mut self, variable: String, message: impl Into<String>) {
        self.errors.push(SettingError {
            variable,
            message: message.into(),
        });
    }

    fn missing(&mut self, name: &str, why: &str) {
        self.fail(wanted(name), format!("required {why}"));
    }

    /// Refuses a value that cannot be sent in an HTTP header, naming the
    /// variable and never showing the value (it may be a secret).
    fn header_safe(&mut self, name: &str, what_to_do: &str) {
        let Some(v) = self.value(name) else {
            return;
        };
        if let Some(problem) = header_problem(v.value.trim()) {
            let variable = v.variable.clone();
            self.fail(
                variable,
                format!(
                    "{problem}, which cannot be sent in an HTTP header (the value is not shown); \
                     {what_to_do}"
                ),
            );
        }
    }

    /// Parses a setting with `parse`, falling back to its default. The
    /// message names the variable and, unless secret, the value read.
    fn parse<T>(&mut self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let spec = spec(name).expect("parse() is only called with names from SETTINGS");
        match self.value(name) {
            Some(v) => match parse(v.value.trim()) {
                Ok(t) => Some(t),
                Err(e) => {
                    let shown = if spec.secret {
                        String::new()
                    } else {
                        format!("={:?}", without_credentials(&v.value))
                    };
                    self.fail(format!("{}{shown}", v.variable), e);
                    None
                }
            },
            None => parse(spec.default).ok(),
        }
    }
}

impl Settings {
    /// Reads and validates settings from the process environment.
    pub fn from_env() -> (RawSettings, Result<Settings, SettingsErrors>) {
        let raw = RawSettings::from_vars(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }));
        let settings = Settings::from_raw(&raw);
        (raw, settings)
    }

    /// Parses every setting; returns every problem found.
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, SettingsErrors> {
        let mut c = Checker {
            raw,
            errors: Vec::new(),
        };

        let platform = c.parse("platform", |t| match t.to_ascii_lowercase().as_str() {
            "harness" => Ok(PlatformKind::Harness),
            "litmus" => Ok(PlatformKind::Litmus),
            _ => Err("unknown platform; use harness or litmus".to_string()),
        });

        let endpoint = match (c.value("endpoint"), platform) {
            (None, Some(PlatformKind::Litmus)) => {
                c.missing("endpoint", "for platform litmus (the ChaosCenter URL)");
                None
            }
            _ => c.parse("endpoint", parse_endpoint),
        };

        for (name, what_to_do) in [
            ("api_key", "copy the API key again, without line breaks"),
            ("token", "copy the access token again, without line breaks"),
            (
                "password",
                "set the password without line breaks or control characters",
            ),
            (
                "account_id",
                "use the account identifier as Harness shows it",
            ),
        ] {
            c.header_safe(name, what_to_do);
        }
        let api_key = c.text("api_key").map(Secret::new);
        let account_id = c.text("account_id").unwrap_or_default();
        if platform == Some(PlatformKind::Harness) {
            if api_key.is_none() {
                c.missing("api_key", "for platform harness (a Harness API key)");
            }
            if account_id.is_empty() {
                c.missing(
                    "account_id",
                    "for platform harness (the Harness account identifier)",
                );
            }
        }
        let org_id = c.text("org_id").unwrap_or_else(|| "default".to_string());
        let project_id = c.text("project_id").unwrap_or_default();
        if project_id.is_empty() {
            c.missing("project_id", "(the project that holds the experiments)");
        }

        let experiments: Vec<String> = c
            .text("experiment_id")
            .map(|t| t.split(',').map(str::trim).map(String::from).collect())
            .unwrap_or_default();
        // Each ID goes into request URLs (the stop): an empty entry (`a,,b`,
        // a trailing comma) or `.`/`..` would change the endpoint (§7 v2).
        if let Some(v) = c.value("experiment_id") {
            let variable = format!("{}={:?}", v.variable, v.value);
            for (i, e) in experiments.iter().enumerate() {
                if let Err(bad) = crate::urls::check_identifier("experiment ID", e) {
                    c.fail(
                        variable.clone(),
                        format!(
                            "entry {} of the comma-separated list: {bad}; list experiment IDs \
                             separated by single commas",
                            i + 1
                        ),
                    );
                }
            }
        }
        let experiments: Vec<String> = experiments.into_iter().filter(|e| !e.is_empty()).collect();
        let notify_id = c.text("notify_id");
        let experiment_file = c.value("experiment_file").cloned();
        match (&notify_id, experiments.len()) {
            (None, 0) if experiment_file.is_none() => c.missing(
                "experiment_id",
                "unless notify_id or experiment_file is given",
            ),
            (Some(_), n) if n > 1 => {
                let var = c
                    .value("notify_id")
                    .map(|v| v.variable.clone())
                    .unwrap_or_default();
                c.fail(
                    var,
                    "watches one run, but experiment_id lists several experiments; give one experiment or none",
                );
            }
            _ => {}
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &experiments {
            if !seen.insert(e) {
                let var = c
                    .value("experiment_id")
                    .map(|v| v.variable.clone())
                    .unwrap_or_default();
                c.fail(
                    var,
                    format!("lists {e} twice; each experiment runs once per gate"),
                );
            }
        }

        let score = c.parse("expected_resilience_score", parse_score);
        let warning_score = match c.value("warning_score") {
            None => Some(None),
            Some(_) => c.parse("warning_score", parse_score).map(Some),
        };
        if let (Some(Some(w)), Some(t)) = (warning_score, score)
            && w > t
        {
            let var = c
                .value("warning_score")
                .map(|v| format!("{}={:?}", v.variable, v.value))
                .unwrap_or_default();
            c.fail(
                    var,
                    format!(
                        "is above expected_resilience_score ({}); the warning band lies below the threshold",
                        crate::verdict::fmt_score(t)
                    ),
                );
        }
        let baseline_runs = c.parse("baseline_runs", |t| match t.parse::<u32>() {
            Ok(n) if n <= MAX_BASELINE_RUNS => Ok(n),
            Ok(_) => Err(format!("at most {MAX_BASELINE_RUNS} runs")),
            Err(_) => Err("not a whole number; use 0 to turn baselines off".to_string()),
        });
        let max_score_drop = c.parse("max_score_drop", parse_score);
        let critical_faults = c.text("critical_faults").map_or(CriticalFaults::None, |t| {
            let names: Vec<String> = t
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
            if names.iter().any(|n| n == "*") {
                CriticalFaults::All
            } else if names.is_empty() {
                CriticalFaults::None
            } else {
                CriticalFaults::Named(names)
            }
        });
        let require_probes = c.parse("require_probes", parse_bool);
        let on_fail = c.parse("on_fail", |t| match t.to_ascii_lowercase().as_str() {
            "fail" => Ok(OnFail::Fail),
            "warn" => Ok(OnFail::Warn),
            _ => Err("use fail or warn".to_string()),
        });
        let warn_exit_code = c.parse("warn_exit_code", |t| match t.parse::<u8>() {
            Ok(n) if n == 0 || (5..=125).contains(&n) => Ok(n),
            _ => Err(
                "use 0, or a code from 5 to 125 (1 to 4 and 126 up mean other things)".to_string(),
            ),
        });
        let positive = |t: &str| {
            let d = parse_duration(t)?;
            if d.is_zero() {
                Err("must be longer than zero".to_string())
            } else if d > MAX_DURATION {
                Err("is longer than the 7 days chaos-gate allows".to_string())
            } else {
                Ok(d)
            }
        };
        let at_least = |min: Duration| {
            move |t: &str| {
                let d = positive(t)?;
                if d < min {
                    Err(format!(
                        "is shorter than the {} chaos-gate allows",
                        humantime::format_duration(min)
                    ))
                } else {
                    Ok(d)
                }
            }
        };
        let timeout = c.parse("timeout", at_least(MIN_TIMEOUT));
        let poll_interval = c.parse("poll_interval", at_least(MIN_POLL_INTERVAL));
        let junit_path = c
            .text("junit_path")
            .unwrap_or_else(|| "chaos-gate-junit.xml".to_string());
        let stop_on_abort = c.parse("stop_on_abort", parse_bool);
        let on_platform_error = c.parse("on_platform_error", |t| {
            match t.to_ascii_lowercase().as_str() {
                "fail" => Ok(OnPlatformError::Fail),
                "warn" => Ok(OnPlatformError::Warn),
                _ => Err("use fail or warn".to_string()),
            }
        });
        let log_format = c.parse("log_format", |t| match t.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("use text or json".to_string()),
        });
        let dry_run = c.parse("dry_run", parse_bool);

        let token = c.text("token").map(Secret::new);
        let username = c.text("username");
        let password = c.text("password").map(Secret::new);
        let litmus_auth = match (token, username, password) {
            (Some(t), _, _) => Some(LitmusAuth::Token(t)),
            (None, Some(username), Some(password)) => {
                Some(LitmusAuth::Login { username, password })
            }
            (None, u, p) => {
                if platform == Some(PlatformKind::Litmus) {
                    match (u, p) {
                        (Some(_), None) => {
                            c.missing("password", "with username for platform litmus")
                        }
                        (None, Some(_)) => {
                            c.missing("username", "with password for platform litmus")
                        }
                        _ => c.missing("token", "for platform litmus (or username and password)"),
                    }
                }
                None
            }
        };

        let ca_cert = c.value("ca_cert").and_then(|v| {
            let path = v.value.trim();
            match std::fs::read(path) {
                Ok(pem) => match reqwest::Certificate::from_pem_bundle(&pem) {
                    Ok(certs) if !certs.is_empty() => Some(pem),
                    _ => {
                        let var = format!("{}={path:?}", v.variable);
                        c.fail(var, "holds no PEM certificate".to_string());
                        None
                    }
                },
                Err(e) => {
                    let var = format!("{}={path:?}", v.variable);
                    c.fail(var, format!("cannot read the file ({e})"));
                    None
                }
            }
        });

        let (runtime_inputs, input_set) = harness_inputs(&mut c, platform);
        let infra_id = c.text("infra_id");
        let manifest = match (&experiment_file, platform) {
            (Some(file), Some(platform)) => {
                let var = format!("{}={:?}", file.variable, file.value.trim());
                if !experiments.is_empty() || notify_id.is_some() {
                    c.fail(
                        var.clone(),
                        "names the experiment to run; give experiment_file, or experiment_id/notify_id, not both",
                    );
                }
                if infra_id.is_none() {
                    c.missing(
                        "infra_id",
                        "with experiment_file (the chaos infrastructure the experiment runs on)",
                    );
                }
                match crate::manifest::load(std::path::Path::new(file.value.trim()), platform) {
                    Ok(m) => Some(m),
                    Err(problems) => {
                        for p in problems {
                            c.fail(var.clone(), p.to_string());
                        }
                        None
                    }
                }
            }
            _ => None,
        };
        if let (Some(_), None) = (&infra_id, &experiment_file) {
            let var = c
                .value("infra_id")
                .map(|v| v.variable.clone())
                .unwrap_or_default();
            c.fail(
                var,
                "is only used with experiment_file; stored experiments already name their infrastructure",
            );
        }

        // A setting of the other platform (spec §2 v2); its default (which
        // hosts may pass on, such as org_id's) is not a choice anyone made.
        if let Some(platform) = platform {
            for spec in SETTINGS {
                let Some(only) = spec.platform.filter(|p| *p != platform.name()) else {
                    continue;
                };
                let Some(v) = c.value(spec.name) else {
                    continue;
                };
                if v.value.trim() == spec.default || c.reported(&v.variable) {
                    continue;
                }
                let variable = v.variable.clone();
                c.fail(
                    variable,
                    format!(
                        "is a {only} setting, but platform is {}; remove it, or set platform to {only}",
                        platform.name()
                    ),
                );
            }
        }

        if !c.errors.is_empty() {
            return Err(SettingsErrors(c.errors));
        }
        // Every `None` above pushed an error, so these are all present.
        let (
            Some(platform),
            Some(endpoint),
            Some(expected_resilience_score),
            Some(timeout),
            Some(poll_interval),
            Some(stop_on_abort),
            Some(on_platform_error),
            Some(log_format),
            Some(dry_run),
            Some(warning_score),
            Some(baseline_runs),
            Some(max_score_drop),
            Some(require_probes),
            Some(on_fail),
            Some(warn_exit_code),
        ) = (
            platform,
            endpoint,
            score,
            timeout,
            poll_interval,
            stop_on_abort,
            on_platform_error,
            log_format,
            dry_run,
            warning_score,
            baseline_runs,
            max_score_drop,
            require_probes,
            on_fail,
            warn_exit_code,
        )
        else {
            return Err(SettingsErrors(vec![SettingError {
                variable: "settings".to_string(),
                message: "a setting could not be read".to_string(),
            }]));
        };
        Ok(Settings {
            platform,
            endpoint,
            api_key,
            account_id,
            org_id,
            project_id,
            experiments,
            notify_id,
            expected_resilience_score,
            timeout,
            poll_interval,
            junit_path: PathBuf::from(junit_path),
            stop_on_abort,
            on_platform_error,
            litmus_auth,
            ca_cert,
            log_format,
            dry_run,
            warning_score,
            baseline_runs,
            max_score_drop,
            critical_faults,
            require_probes,
            on_fail,
            warn_exit_code,
            runtime_inputs,
            input_set,
            manifest,
            infra_id,
        })
    }
}

/// `runtime_inputs` (inline, or `@path`) and `input_set`: Harness only.
fn harness_inputs(
    c: &mut Checker<'_>,
    platform: Option<PlatformKind>,
) -> (
    Option<crate::platform::inputs::RuntimeInputs>,
    Option<String>,
) {
    if platform == Some(PlatformKind::Litmus) {
        for name in ["runtime_inputs", "input_set"] {
            if let Some(v) = c.value(name) {
                let var = v.variable.clone();
                c.fail(
                    var,
                    "is a Harness setting; LitmusChaos has no runtime inputs or input sets. \
                     Remove it, or set platform=harness",
                );
            }
        }
        return (None, None);
    }
    let input_set = c.text("input_set");
    let inputs = c.value("runtime_inputs").and_then(|v| {
        let text = v.value.trim();
        let (doc, source) = match text.strip_prefix('@') {
            Some(path) => match std::fs::read_to_string(path.trim()) {
                Ok(doc) => (doc, format!("{}=@{}", v.variable, path.trim())),
                Err(e) => {
                    c.fail(
                        format!("{}={text:?}", v.variable),
                        format!("cannot read the file ({e})"),
                    );
                    return None;
                }
            },
            None => (v.value.clone(), v.variable.clone()),
        };
        match crate::platform::inputs::parse(&doc) {
            Ok(inputs) => Some(inputs),
            Err(e) => {
                c.fail(source, e);
                None
            }
        }
    });
    (inputs, input_set)
}

impl Settings {
    /// The settings that turn an outcome into an exit code.
    pub fn exit_policy(&self) -> crate::verdict::ExitPolicy {
        crate::verdict::ExitPolicy {
            on_platform_error: self.on_platform_error,
            on_fail: self.on_fail,
            warn_exit_code: self.warn_exit_code,
        }
    }
}

/// A score or a number of points: 0 to 100, may be fractional, may end
/// in `%`.
fn parse_score(t: &str) -> Result<f64, String> {
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    let v: f64 = t
        .parse()
        .map_err(|_| "not a number; use a score from 0 to 100".to_string())?;
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err("outside 0..100".to_string())
    }
}

/// The text of `chaos-gate --help`: every setting with its default and meaning.
pub fn help_text() -> String {
    let mut out = format!(
        "chaos-gate {}: gate a deploy on a chaos experiment's resilience score.\n\n\
         Usage: chaos-gate [--help | --version]\n\n\
         Settings come from the environment as CHAOS_GATE_<NAME> (highest precedence),\n\
         INPUT_<NAME> (GitHub Actions) or PLUGIN_<NAME> (Drone / Harness CI). Names are\n\
         case-insensitive, `-` equals `_`, and an empty value counts as unset.\n\n",
        env!("CARGO_PKG_VERSION")
    );
    let width = SETTINGS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            String::new()
        } else {
            format!(" [default: {}]", s.default)
        };
        let secret = if s.secret { " (secret)" } else { "" };
        out.push_str(&format!(
            "  {:width$}  {}{secret}{default}\n",
            s.name, s.help
        ));
    }
    out.push_str(
        "\nExit codes: 0 pass, 1 gate failed, 2 bad settings, 3 platform error,\n\
         4 timed out, 129/130/143 cancelled by SIGHUP/SIGINT/SIGTERM.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(vars: &[(&str, &str)]) -> RawSettings {
        RawSettings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const BASE: &[(&str, &str)] = &[
        ("CHAOS_GATE_API_KEY", "k"),
        ("CHAOS_GATE_ACCOUNT_ID", "a"),
        ("CHAOS_GATE_PROJECT_ID", "p"),
        ("CHAOS_GATE_EXPERIMENT_ID", "e"),
    ];

    fn with(extra: &[(&str, &str)]) -> Result<Settings, SettingsErrors> {
        let mut v: Vec<(&str, &str)> = BASE.to_vec();
        v.extend_from_slice(extra);
        Settings::from_raw(&raw(&v))
    }

    #[test]
    fn durations_take_seconds_or_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn durations_are_bounded() {
        let errs = with(&[("CHAOS_GATE_TIMEOUT", "100000000h")]).unwrap_err();
        assert!(errs.to_string().contains("7 days"), "{errs}");
        assert!(with(&[("CHAOS_GATE_TIMEOUT", "7d")]).is_ok());
        assert!(with(&[("CHAOS_GATE_POLL_INTERVAL", "1e30")]).is_err());
    }

    #[test]
    fn precedence_is_chaos_gate_then_input_then_plugin() {
        let r = raw(&[
            ("PLUGIN_TIMEOUT", "1"),
            ("INPUT_TIMEOUT", "2"),
            ("CHAOS_GATE_TIMEOUT", "3"),
        ]);
        assert_eq!(r.get("timeout").map(|v| v.value.as_str()), Some("3"));
        let r = raw(&[("PLUGIN_TIMEOUT", "1"), ("INPUT_TIMEOUT", "2")]);
        assert_eq!(
            r.get("timeout").map(|v| v.variable.as_str()),
            Some("INPUT_TIMEOUT")
        );
    }

    #[test]
    fn hyphens_case_and_empty_values() {
        let r = raw(&[("INPUT_API-KEY", "x"), ("CHAOS_GATE_API_KEY", "")]);
        assert_eq!(r.get("api_key").map(|v| v.value.as_str()), Some("x"));
        let r = raw(&[("INPUT_Poll-Interval", "7")]);
        assert_eq!(r.get("poll_interval").map(|v| v.value.as_str()), Some("7"));
    }

    #[test]
    fn unknown_names_warn_with_the_closest_setting() {
        let r = raw(&[
            ("CHAOS_GATE_EXPERIMENT", "x"),
            ("CHAOS_GATE_VERDICT", "pass"),
        ]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("CHAOS_GATE_EXPERIMENT"));
        assert!(r.warnings[0].contains("experiment_id"));
    }

    #[test]
    fn all_errors_are_reported_together() {
        let errs = Settings::from_raw(&raw(&[
            ("CHAOS_GATE_TIMEOUT", "soon"),
            ("INPUT_EXPECTED_RESILIENCE_SCORE", "101"),
        ]))
        .unwrap_err();
        let vars: Vec<_> = errs.0.iter().map(|e| e.variable.as_str()).collect();
        assert!(vars.iter().any(|v| v.starts_with("CHAOS_GATE_TIMEOUT")));
        assert!(
            vars.iter()
                .any(|v| v.starts_with("INPUT_EXPECTED_RESILIENCE_SCORE"))
        );
        assert!(vars.iter().any(|v| v.starts_with("CHAOS_GATE_API_KEY")));
        assert!(vars.iter().any(|v| v.starts_with("CHAOS_GATE_PROJECT_ID")));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("http://localhost:8080").is_ok());
        assert!(parse_endpoint("http://[::1]:8080").is_ok());
        assert!(parse_endpoint("http://chaos.example.com").is_err());
        assert!(parse_endpoint("ftp://chaos.example.com").is_err());
        assert!(parse_endpoint("https://chaos.example.com").is_ok());
        assert_eq!(
            without_credentials("https://us:pa ss@h.example/x@y"),
            "https://***@h.example/x@y"
        );
        assert_eq!(
            without_credentials("https://h.example/a@b"),
            "https://h.example/a@b"
        );
        assert_eq!(without_credentials("not a url"), "not a url");
    }

    #[test]
    fn defaults_apply() {
        let s = with(&[]).expect("valid");
        assert_eq!(s.timeout, Duration::from_secs(1800));
        assert_eq!(s.poll_interval, Duration::from_secs(5));
        assert_eq!(s.expected_resilience_score, 100.0);
        assert_eq!(s.endpoint.as_str(), "https://app.harness.io/");
        assert_eq!(s.org_id, "default");
        assert!(s.stop_on_abort);
        assert!(!s.dry_run);
    }

    #[test]
    fn secret_values_are_not_echoed_in_errors() {
        let errs = Settings::from_raw(&raw(&[
            ("CHAOS_GATE_PLATFORM", "litmus"),
            ("CHAOS_GATE_ENDPOINT", "http://127.0.0.1:1"),
            ("CHAOS_GATE_PASSWORD", "hunter2"),
            ("CHAOS_GATE_PROJECT_ID", "p"),
            ("CHAOS_GATE_EXPERIMENT_ID", "e"),
        ]))
        .unwrap_err();
        assert!(!errs.to_string().contains("hunter2"));
        assert!(errs.to_string().contains("USERNAME"));
    }

    #[test]
    fn poll_interval_and_timeout_have_minimums() {
        for (name, value) in [
            ("CHAOS_GATE_POLL_INTERVAL", "1ns"),
            ("CHAOS_GATE_POLL_INTERVAL", "99ms"),
            ("CHAOS_GATE_TIMEOUT", "0.999"),
            ("CHAOS_GATE_TIMEOUT", "500ms"),
        ] {
            let errs = with(&[(name, value)]).unwrap_err();
            assert_eq!(errs.0.len(), 1, "{errs}");
            assert!(errs.0[0].variable.starts_with(name), "{errs}");
            assert!(errs.0[0].message.contains("shorter than"), "{errs}");
        }
        let s = with(&[
            ("CHAOS_GATE_POLL_INTERVAL", "100ms"),
            ("CHAOS_GATE_TIMEOUT", "1s"),
        ])
        .expect("the minimums themselves are fine");
        assert_eq!(s.poll_interval, MIN_POLL_INTERVAL);
        assert_eq!(s.timeout, MIN_TIMEOUT);
    }

    #[test]
    fn header_values_with_line_breaks_or_control_characters_are_refused() {
        assert_eq!(header_problem("abc"), None);
        assert_eq!(header_problem("a b\tc"), None);
        assert_eq!(header_problem("ключ"), None, "non-ASCII bytes can be sent");
        assert_eq!(header_problem("a\nb"), Some("holds a line break"));
        assert_eq!(header_problem("a\rb"), Some("holds a line break"));
        assert_eq!(header_problem("a\u{0}b"), Some("holds a control character"));
        assert_eq!(
            header_problem("a\u{7f}b"),
            Some("holds a control character")
        );
        for name in [
            "CHAOS_GATE_API_KEY",
            "CHAOS_GATE_ACCOUNT_ID",
            "CHAOS_GATE_TOKEN",
            "CHAOS_GATE_PASSWORD",
        ] {
            let errs = with(&[(name, "s3cr3t-one\ns3cr3t-two")]).unwrap_err();
            let text = errs.to_string();
            assert!(text.contains(name), "{text}");
            assert!(!text.contains("s3cr3t"), "the value is not shown: {text}");
        }
    }

    #[test]
    fn experiment_id_lists_with_empty_or_dot_entries_are_refused() {
        for value in ["a,,b", "a,", ",a", "a, ,b", ".", "a,..", ","] {
            let errs = with(&[("CHAOS_GATE_EXPERIMENT_ID", value)]).unwrap_err();
            assert!(
                errs.0
                    .iter()
                    .all(|e| e.variable.starts_with("CHAOS_GATE_EXPERIMENT_ID")),
                "{value}: {errs}"
            );
        }
        let s = with(&[("CHAOS_GATE_EXPERIMENT_ID", " a , b/c ,..d")]).expect("valid");
        assert_eq!(s.experiments, ["a", "b/c", "..d"]);
    }

    #[test]
    fn settings_table_has_unique_names() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
    }
}
