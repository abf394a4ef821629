//! Settings: where every setting is declared, read from the environment and
//! validated (README "Settings").
//!
//! The CI hosts hand a step its settings under different prefixes: Drone and
//! Harness CI as `PLUGIN_<NAME>`, GitHub Actions as `INPUT_<NAME>` (keeping
//! hyphens), and users directly as `CHAOS_GATE_<NAME>`. Reading happens in
//! steps so that every error can name the variable it came from:
//!
//! 1. [`RawSettings::from_vars`] merges the prefixes (highest precedence wins),
//!    normalises names, drops empty values and collects warnings for unknown
//!    names;
//! 2. [`Settings::from_raw`] runs each setting's own parser (declared with
//!    it in [`SETTINGS`]) on its value, or on its default when it was not
//!    given, into [`LowSettings`];
//! 3. a short validation step applies the rules between settings (what a
//!    platform requires, `experiment_id` or `notify_id` or
//!    `experiment_file`, the warning band below the threshold, a setting of
//!    the other platform) and chooses the [`Mode`].
//!
//! Every problem found on the way is reported, all at once: per-setting
//! problems in the order of the table, then those between settings.
//!
//! A setting is written once: its name, default, help and parser are one
//! item of [`SETTINGS`] (the platforms' own settings are items of their
//! modules, [`crate::platform::harness::settings`] and
//! [`crate::platform::litmus::settings`]). `--help`, the docs test and the
//! CI-host files (`cargo xtask settings`) are generated from the same table.
//!
//! `envy` was the first idea, but it stops at the first bad value and cannot
//! tell which of the three prefixed variables supplied it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::platform::harness::settings::{self as harness, HarnessLow, HarnessSettings};
use crate::platform::litmus::settings::{self as litmus, LitmusLow, LitmusSettings};

/// Reads one setting's value (the one given, or its default) into
/// [`LowSettings`]; a problem goes to the errors through [`Value`]. It may
/// read what settings earlier in [`SETTINGS`] left there (the platform
/// comes first).
pub type Parse = fn(&mut Value<'_>, &mut LowSettings);

/// One setting: the single source of truth for its parsing, `--help`, the
/// README, `action.yml`, `plugin.yaml`, the GitLab component and the
/// Jenkins step (a test checks that they all agree with this table).
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// Canonical snake_case name.
    pub name: &'static str,
    /// Default shown to users, and parsed when the setting is not given;
    /// empty when there is none (the parser then does not run).
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
    /// given for the other platform it is bad input (README "Settings").
    pub platform: Option<&'static str>,
    /// Its parser.
    pub parse: Parse,
}

/// The kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
}

/// A setting: name, default (`""`: none), help, parser.
pub(crate) const fn s(
    name: &'static str,
    default: &'static str,
    help: &'static str,
    parse: Parse,
) -> SettingSpec {
    SettingSpec {
        name,
        default,
        help,
        secret: false,
        kind: Kind::Text,
        choices: &[],
        platform: None,
        parse,
    }
}

/// A secret setting (no default).
pub(crate) const fn secret(name: &'static str, help: &'static str, parse: Parse) -> SettingSpec {
    SettingSpec {
        secret: true,
        ..s(name, "", help, parse)
    }
}

impl SettingSpec {
    pub(crate) const fn number(self) -> SettingSpec {
        SettingSpec {
            kind: Kind::Number,
            ..self
        }
    }

    pub(crate) const fn boolean(self) -> SettingSpec {
        SettingSpec {
            kind: Kind::Bool,
            ..self
        }
    }

    pub(crate) const fn choices(self, choices: &'static [&'static str]) -> SettingSpec {
        SettingSpec { choices, ..self }
    }

    pub(crate) const fn harness(self) -> SettingSpec {
        SettingSpec {
            platform: Some("harness"),
            ..self
        }
    }

    pub(crate) const fn litmus(self) -> SettingSpec {
        SettingSpec {
            platform: Some("litmus"),
            ..self
        }
    }
}

/// Every setting chaos-gate reads, in the order of README "Settings", each with its
/// parser.
pub const SETTINGS: &[SettingSpec] = &[
    s("platform", "harness", "`harness` or `litmus`", |v, low| {
        low.platform = v.parse(|t| match t.to_ascii_lowercase().as_str() {
            "harness" => Ok(PlatformKind::Harness),
            "litmus" => Ok(PlatformKind::Litmus),
            _ => Err("unknown platform; use harness or litmus".to_string()),
        });
    })
    .choices(&["harness", "litmus"]),
    s(
        "endpoint",
        "https://app.harness.io",
        "base URL of the platform; plain http:// only on loopback (the default is for harness; required for litmus)",
        |v, low| low.endpoint = v.parse(parse_endpoint),
    ),
    harness::API_KEY,
    harness::ACCOUNT_ID,
    harness::ORG_ID,
    s(
        "project_id",
        "",
        "Harness project identifier / Litmus project ID (required)",
        |v, low| low.project_id = Some(v.text().to_string()),
    ),
    s(
        "experiment_id",
        "",
        "one or more stored experiment IDs, comma-separated (required unless `notify_id` or `experiment_file`)",
        parse_experiment_ids,
    ),
    s(
        "notify_id",
        "",
        "watch a run that was already triggered, with that notify ID, instead of triggering",
        |v, low| low.notify_id = Some(v.text().to_string()),
    ),
    s(
        "expected_resilience_score",
        "100",
        "pass threshold, 0 to 100 inclusive, may be fractional",
        |v, low| low.expected_resilience_score = v.parse(parse_score),
    )
    .number(),
    s(
        "timeout",
        "30m",
        "longest wait for all runs: plain seconds or units (90, 90s, 15m, 1h30m); at least 1s",
        |v, low| low.timeout = v.parse(|t| duration_at_least(t, MIN_TIMEOUT)),
    ),
    s(
        "poll_interval",
        "5s",
        "time between status polls; at least 100ms",
        |v, low| low.poll_interval = v.parse(|t| duration_at_least(t, MIN_POLL_INTERVAL)),
    ),
    s(
        "junit_path",
        "chaos-gate-junit.xml",
        "where the JUnit report goes (folders are created)",
        |v, low| low.junit_path = Some(PathBuf::from(v.text())),
    ),
    s(
        "stop_on_abort",
        "true",
        "stop runs still going on timeout or cancellation",
        |v, low| low.stop_on_abort = v.parse(parse_bool),
    )
    .boolean(),
    s(
        "on_platform_error",
        "fail",
        "`fail` or `warn`: whether a platform error (exit 3) fails the job",
        |v, low| {
            low.on_platform_error = v.parse(|t| match t.to_ascii_lowercase().as_str() {
                "fail" => Ok(OnPlatformError::Fail),
                "warn" => Ok(OnPlatformError::Warn),
                _ => Err("use fail or warn".to_string()),
            });
        },
    )
    .choices(&["fail", "warn"]),
    litmus::TOKEN,
    litmus::USERNAME,
    litmus::PASSWORD,
    s(
        "ca_cert",
        "",
        "path to extra PEM CA certificates to trust",
        parse_ca_cert,
    ),
    s(
        "log_format",
        "text",
        "`text` or `json` (one JSON object per line on stdout)",
        |v, low| {
            low.log_format = v.parse(|t| match t.to_ascii_lowercase().as_str() {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("use text or json".to_string()),
            });
        },
    )
    .choices(&["text", "json"]),
    s(
        "dry_run",
        "false",
        "check settings, credentials and that each experiment exists; trigger nothing",
        |v, low| low.dry_run = v.parse(parse_bool),
    )
    .boolean(),
    harness::RUNTIME_INPUTS,
    harness::INPUT_SET,
    s(
        "warning_score",
        "",
        "a score at least this but below `expected_resilience_score` is `warn`, not `fail`; at most the threshold",
        |v, low| low.warning_score = v.parse(parse_score),
    ),
    s(
        "baseline_runs",
        "0",
        "compare each run with the median score of its experiment's last N (at most 50) finished runs; `0` turns it off",
        |v, low| {
            low.baseline_runs = v.parse(|t| match t.parse::<u32>() {
                Ok(n) if n <= MAX_BASELINE_RUNS => Ok(n),
                Ok(_) => Err(format!("at most {MAX_BASELINE_RUNS} runs")),
                Err(_) => Err("not a whole number; use 0 to turn baselines off".to_string()),
            });
        },
    )
    .number(),
    s(
        "max_score_drop",
        "10",
        "with `baseline_runs`: a score more than this many points below the baseline fails, even above the threshold",
        |v, low| low.max_score_drop = v.parse(parse_score),
    )
    .number(),
    s(
        "critical_faults",
        "",
        "comma-separated fault names, or `*` for all: a run in which one did not pass fails whatever its score",
        |v, low| {
            let names: Vec<String> = v
                .text()
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
            low.critical_faults = if names.iter().any(|n| n == "*") {
                CriticalFaults::All
            } else if names.is_empty() {
                CriticalFaults::None
            } else {
                CriticalFaults::Named(names)
            };
        },
    ),
    s(
        "require_probes",
        "false",
        "a run in which no probe was evaluated is `inconclusive`, which fails",
        |v, low| low.require_probes = v.parse(parse_bool),
    )
    .boolean(),
    s(
        "on_fail",
        "fail",
        "`fail` or `warn`: whether a failing or inconclusive gate fails the job (`warn`: report only)",
        |v, low| {
            low.on_fail = v.parse(|t| match t.to_ascii_lowercase().as_str() {
                "fail" => Ok(OnFail::Fail),
                "warn" => Ok(OnFail::Warn),
                _ => Err("use fail or warn".to_string()),
            });
        },
    )
    .choices(&["fail", "warn"]),
    s(
        "warn_exit_code",
        "0",
        "the exit code of a gate that ends in a warning: `0`, or 5 to 125",
        |v, low| {
            low.warn_exit_code = v.parse(|t| match t.parse::<u8>() {
                Ok(n) if n == 0 || (5..=125).contains(&n) => Ok(n),
                _ => Err(
                    "use 0, or a code from 5 to 125 (1 to 4 and 126 up mean other things)"
                        .to_string(),
                ),
            });
        },
    )
    .number(),
    s(
        "experiment_file",
        "",
        "path to an experiment manifest (JSON or YAML): create or update the stored experiment from it, then run it; instead of `experiment_id`",
        |v, low| {
            // The manifest's schema is the platform's.
            let Some(platform) = low.platform else {
                return;
            };
            let path = v.text().to_string();
            match crate::manifest::load(std::path::Path::new(&path), platform.manifest()) {
                Ok(m) => low.manifest = Some(m),
                Err(problems) => {
                    let variable = format!("{}={path:?}", v.variable());
                    for p in problems {
                        v.fail(variable.clone(), p.to_string());
                    }
                }
            }
        },
    ),
    s(
        "infra_id",
        "",
        "the chaos infrastructure the experiment from `experiment_file` runs on (required with `experiment_file`)",
        |v, low| low.infra_id = Some(v.text().to_string()),
    ),
];

/// `experiment_id`: a comma-separated list. Each ID goes into request URLs
/// (the stop): an empty entry (`a,,b`, a trailing comma) or `.`/`..` would
/// change the endpoint (README "Failure behaviour"); each experiment runs once.
fn parse_experiment_ids(v: &mut Value<'_>, low: &mut LowSettings) {
    let ids: Vec<String> = v
        .text()
        .split(',')
        .map(str::trim)
        .map(String::from)
        .collect();
    let named = format!("{}={:?}", v.variable(), v.as_given());
    for (i, e) in ids.iter().enumerate() {
        if let Err(bad) = crate::urls::check_identifier("experiment ID", e) {
            v.fail(
                named.clone(),
                format!(
                    "entry {} of the comma-separated list: {bad}; list experiment IDs \
                     separated by single commas",
                    i + 1
                ),
            );
        }
    }
    let ids: Vec<String> = ids.into_iter().filter(|e| !e.is_empty()).collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in &ids {
        if !seen.insert(e) {
            let variable = v.variable();
            v.fail(
                variable,
                format!("lists {e} twice; each experiment runs once per gate"),
            );
        }
    }
    low.experiments = ids;
}

/// `ca_cert`: a file of PEM certificates, read and checked now.
fn parse_ca_cert(v: &mut Value<'_>, low: &mut LowSettings) {
    let path = v.text().to_string();
    let variable = format!("{}={path:?}", v.variable());
    match std::fs::read(&path) {
        Ok(pem) => match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if !certs.is_empty() => low.ca_cert = Some(pem),
            _ => v.fail(variable, "holds no PEM certificate"),
        },
        Err(e) => v.fail(variable, format!("cannot read the file ({e})")),
    }
}

/// A `timeout` or `poll_interval`: longer than zero, at least `min`, at
/// most [`MAX_DURATION`].
fn duration_at_least(text: &str, min: Duration) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        Err("must be longer than zero".to_string())
    } else if d > MAX_DURATION {
        Err("is longer than the 7 days chaos-gate allows".to_string())
    } else if d < min {
        Err(format!(
            "is shorter than the {} chaos-gate allows",
            humantime::format_duration(min)
        ))
    } else {
        Ok(d)
    }
}

/// Names chaos-gate itself writes as outputs (GitLab's dotenv report turns
/// them into `CHAOS_GATE_*` variables of later jobs). Seeing them is normal,
/// so they are ignored without a warning.
const OWN_OUTPUTS: &[&str] = &crate::reporter::outputs::NAMES;

/// The longest `timeout` or `poll_interval`: no gate waits a week, and
/// deadlines must stay within what the clock can add.
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most past runs a baseline reads: one page of any platform's listing.
const MAX_BASELINE_RUNS: u32 = 50;
/// The shortest `timeout` (README "Settings"): a gate needs at least one request.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// The shortest `poll_interval` (README "Settings"): anything shorter floods the
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

    /// What the platform asks of an experiment manifest.
    pub fn manifest(self) -> crate::manifest::Requirements {
        match self {
            PlatformKind::Harness => crate::platform::harness::MANIFEST,
            PlatformKind::Litmus => crate::platform::litmus::MANIFEST,
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

/// The platform the settings name, with its own settings.
#[derive(Debug, Clone)]
pub enum PlatformSettings {
    Harness(HarnessSettings),
    Litmus(LitmusSettings),
}

impl PlatformSettings {
    pub fn kind(&self) -> PlatformKind {
        match self {
            PlatformSettings::Harness(_) => PlatformKind::Harness,
            PlatformSettings::Litmus(_) => PlatformKind::Litmus,
        }
    }

    /// The name as the `platform` setting spells it.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// Validated settings. Secrets are wrapped in [`crate::secret::Secret`],
/// whose `Debug` prints a placeholder.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The platform, with the settings only it has.
    pub platform: PlatformSettings,
    pub endpoint: Url,
    pub project_id: String,
    /// `experiment_id`, split; empty with `experiment_file`.
    pub experiments: Vec<String>,
    /// What the gate does: trigger, attach, dry run, or experiment as code.
    pub mode: Mode,
    pub expected_resilience_score: f64,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub junit_path: PathBuf,
    pub stop_on_abort: bool,
    pub on_platform_error: OnPlatformError,
    /// PEM bytes of `ca_cert`, already checked to contain certificates.
    pub ca_cert: Option<Vec<u8>>,
    pub log_format: LogFormat,
    pub warning_score: Option<f64>,
    pub baseline_runs: u32,
    pub max_score_drop: f64,
    pub critical_faults: CriticalFaults,
    pub require_probes: bool,
    pub on_fail: OnFail,
    pub warn_exit_code: u8,
}

/// What the gate does, chosen once when the settings are validated from
/// `notify_id`, `dry_run`, `experiment_file` and `infra_id`; the gate
/// matches it in one place ([`crate::gate::run_all`]).
#[derive(Debug, Clone)]
pub enum Mode {
    /// Trigger every experiment of `experiment_id` and gate on the runs.
    Trigger,
    /// Watch the run already triggered with `notify_id` instead of
    /// triggering (`experiment_id` names its experiment, if given).
    Attach { notify_id: String },
    /// `dry_run`: check the settings, the credentials and that each
    /// experiment exists; trigger nothing. A `notify_id` given with it is
    /// not watched: it only names the run in the report of a gate whose
    /// client could not be set up.
    DryRun { notify_id: Option<String> },
    /// Experiment as code (README "Experiment as code"): create or update the stored
    /// experiment from `experiment_file`, then gate on it, or with
    /// `dry_run` say what would be done and check it.
    Sync {
        /// The checked manifest of `experiment_file`.
        manifest: crate::manifest::Manifest,
        /// The infrastructure the manifest's experiment runs on.
        infra_id: String,
        dry_run: bool,
    },
}

impl Mode {
    /// The notify ID of a run the gate was given rather than started.
    pub fn notify_id(&self) -> Option<&str> {
        match self {
            Mode::Attach { notify_id } => Some(notify_id),
            Mode::DryRun { notify_id } => notify_id.as_deref(),
            Mode::Trigger | Mode::Sync { .. } => None,
        }
    }
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
/// request with a confusing connection error (README "Settings").
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

/// What each setting's parser read, before the rules between settings.
/// A field stays empty for a setting that was not given and has no
/// default, or whose value was refused (an error says why, and no
/// [`Settings`] is built).
#[derive(Debug, Default)]
pub struct LowSettings {
    pub(crate) platform: Option<PlatformKind>,
    endpoint: Option<Url>,
    project_id: Option<String>,
    experiments: Vec<String>,
    notify_id: Option<String>,
    expected_resilience_score: Option<f64>,
    timeout: Option<Duration>,
    poll_interval: Option<Duration>,
    junit_path: Option<PathBuf>,
    stop_on_abort: Option<bool>,
    on_platform_error: Option<OnPlatformError>,
    ca_cert: Option<Vec<u8>>,
    log_format: Option<LogFormat>,
    dry_run: Option<bool>,
    warning_score: Option<f64>,
    baseline_runs: Option<u32>,
    max_score_drop: Option<f64>,
    critical_faults: CriticalFaults,
    require_probes: Option<bool>,
    on_fail: Option<OnFail>,
    warn_exit_code: Option<u8>,
    manifest: Option<crate::manifest::Manifest>,
    infra_id: Option<String>,
    /// The Harness settings ([`crate::platform::harness::settings`]).
    pub(crate) harness: HarnessLow,
    /// The Litmus settings ([`crate::platform::litmus::settings`]).
    pub(crate) litmus: LitmusLow,
}

/// One setting's value as its parser sees it: the one given, with the
/// variable that supplied it, or the setting's default.
pub struct Value<'a> {
    spec: &'static SettingSpec,
    given: Option<&'a RawValue>,
    errors: &'a mut Vec<SettingError>,
}

impl Value<'_> {
    /// The value, trimmed.
    pub fn text(&self) -> &str {
        self.as_given().trim()
    }

    /// The value as it was given (the default when none was).
    pub fn as_given(&self) -> &str {
        self.given.map_or(self.spec.default, |v| v.value.as_str())
    }

    /// The variable that supplied the value (for the default, the names
    /// it could have been given under).
    pub fn variable(&self) -> String {
        self.given
            .map_or_else(|| wanted(self.spec.name), |v| v.variable.clone())
    }

    /// Reports a problem with the value under `variable`.
    pub fn fail(&mut self, variable: String, message: impl Into<String>) {
        self.errors.push(SettingError {
            variable,
            message: message.into(),
        });
    }

    /// Parses the value with `parse`. A problem names the variable and,
    /// unless the setting is secret, the value read.
    pub fn parse<T>(&mut self, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match parse(self.text()) {
            Ok(t) => Some(t),
            Err(e) => {
                let shown = if self.spec.secret {
                    String::new()
                } else {
                    format!("={:?}", without_credentials(self.as_given()))
                };
                let variable = format!("{}{shown}", self.variable());
                self.fail(variable, e);
                None
            }
        }
    }

    /// Refuses a value that cannot be sent in an HTTP header, naming the
    /// variable and never showing the value (it may be a secret).
    pub fn header_safe(&mut self, what_to_do: &str) {
        if let Some(problem) = header_problem(self.text()) {
            let variable = self.variable();
            self.fail(
                variable,
                format!(
                    "{problem}, which cannot be sent in an HTTP header (the value is not shown); \
                     {what_to_do}"
                ),
            );
        }
    }
}

/// Collects the problems between settings, after the parsers' own, so
/// that all are reported together.
pub struct Checker<'a> {
    raw: &'a RawSettings,
    errors: Vec<SettingError>,
}

impl<'a> Checker<'a> {
    /// The value given for a setting, if any.
    pub fn value(&self, name: &str) -> Option<&'a RawValue> {
        self.raw.get(name)
    }

    /// The variable a setting was given under (empty if it was not).
    fn variable(&self, name: &str) -> String {
        self.value(name)
            .map(|v| v.variable.clone())
            .unwrap_or_default()
    }

    /// Whether an error already names `variable` (it is reported once).
    fn reported(&self, variable: &str) -> bool {
        self.errors.iter().any(|e| e.variable.starts_with(variable))
    }

    pub fn fail(&mut self, variable: String, message: impl Into<String>) {
        self.errors.push(SettingError {
            variable,
            message: message.into(),
        });
    }

    /// A required setting that was not given.
    pub fn missing(&mut self, name: &str, why: &str) {
        self.fail(wanted(name), format!("required {why}"));
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

    /// Parses every setting with its own parser, then applies the rules
    /// between settings; returns every problem found.
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, SettingsErrors> {
        let mut low = LowSettings::default();
        let mut errors = Vec::new();
        for spec in SETTINGS {
            let given = raw.get(spec.name);
            if given.is_none() && spec.default.is_empty() {
                continue;
            }
            let mut value = Value {
                spec,
                given,
                errors: &mut errors,
            };
            (spec.parse)(&mut value, &mut low);
        }
        let mut c = Checker { raw, errors };
        let settings = Settings::validate(low, &mut c);
        match settings {
            Some(settings) if c.errors.is_empty() => Ok(settings),
            _ if !c.errors.is_empty() => Err(SettingsErrors(c.errors)),
            // Every value left out above pushed an error.
            _ => Err(SettingsErrors(vec![SettingError {
                variable: "settings".to_string(),
                message: "a setting could not be read".to_string(),
            }])),
        }
    }

    /// The rules between settings, and the [`Mode`]. `None` when a value
    /// is missing (an error says why).
    fn validate(low: LowSettings, c: &mut Checker<'_>) -> Option<Settings> {
        let LowSettings {
            platform,
            endpoint,
            project_id,
            experiments,
            notify_id,
            expected_resilience_score,
            timeout,
            poll_interval,
            junit_path,
            stop_on_abort,
            on_platform_error,
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
            manifest,
            infra_id,
            harness,
            litmus,
        } = low;

        // What the platform requires of its own settings.
        let platform_settings = match platform {
            Some(PlatformKind::Harness) => {
                HarnessSettings::validate(harness, c).map(PlatformSettings::Harness)
            }
            Some(PlatformKind::Litmus) => {
                LitmusSettings::validate(litmus, c).map(PlatformSettings::Litmus)
            }
            None => None,
        };

        if project_id.is_none() {
            c.missing("project_id", "(the project that holds the experiments)");
        }
        match (&notify_id, experiments.len()) {
            (None, 0) if c.value("experiment_file").is_none() => c.missing(
                "experiment_id",
                "unless notify_id or experiment_file is given",
            ),
            (Some(_), n) if n > 1 => {
                let var = c.variable("notify_id");
                c.fail(
                    var,
                    "watches one run, but experiment_id lists several experiments; give one experiment or none",
                );
            }
            _ => {}
        }

        if let (Some(w), Some(t)) = (warning_score, expected_resilience_score)
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

        if let (Some(file), Some(_)) = (c.value("experiment_file"), platform) {
            if !experiments.is_empty() || notify_id.is_some() {
                c.fail(
                    format!("{}={:?}", file.variable, file.value.trim()),
                    "names the experiment to run; give experiment_file, or experiment_id/notify_id, not both",
                );
            }
            if infra_id.is_none() {
                c.missing(
                    "infra_id",
                    "with experiment_file (the chaos infrastructure the experiment runs on)",
                );
            }
        }
        if infra_id.is_some() && c.value("experiment_file").is_none() {
            let var = c.variable("infra_id");
            c.fail(
                var,
                "is only used with experiment_file; stored experiments already name their infrastructure",
            );
        }

        // A setting of the other platform (README "Settings"); its default (which
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

        // `experiment_file` came with `infra_id` and without `notify_id`
        // (or an error above says otherwise).
        let dry_run = dry_run?;
        let mode = match (manifest, infra_id) {
            (Some(manifest), Some(infra_id)) => Mode::Sync {
                manifest,
                infra_id,
                dry_run,
            },
            _ if dry_run => Mode::DryRun { notify_id },
            _ => match notify_id {
                Some(notify_id) => Mode::Attach { notify_id },
                None => Mode::Trigger,
            },
        };
        Some(Settings {
            platform: platform_settings?,
            endpoint: endpoint?,
            project_id: project_id?,
            experiments,
            mode,
            expected_resilience_score: expected_resilience_score?,
            timeout: timeout?,
            poll_interval: poll_interval?,
            junit_path: junit_path?,
            stop_on_abort: stop_on_abort?,
            on_platform_error: on_platform_error?,
            ca_cert,
            log_format: log_format?,
            warning_score,
            baseline_runs: baseline_runs?,
            max_score_drop: max_score_drop?,
            critical_faults,
            require_probes: require_probes?,
            on_fail: on_fail?,
            warn_exit_code: warn_exit_code?,
        })
    }
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
        let PlatformSettings::Harness(h) = &s.platform else {
            panic!("harness is the default platform")
        };
        assert_eq!(h.org_id, "default");
        assert_eq!(s.junit_path, PathBuf::from("chaos-gate-junit.xml"));
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.stop_on_abort);
        assert!(matches!(s.mode, Mode::Trigger));
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
    fn the_mode_is_chosen_once() {
        let mode = |extra: &[(&str, &str)]| with(extra).expect("valid").mode;
        assert!(matches!(mode(&[]), Mode::Trigger));
        assert!(matches!(
            mode(&[("CHAOS_GATE_NOTIFY_ID", "n-1")]),
            Mode::Attach { notify_id } if notify_id == "n-1"
        ));
        assert!(matches!(
            mode(&[("CHAOS_GATE_DRY_RUN", "true")]),
            Mode::DryRun { notify_id: None }
        ));
        // dry_run wins over notify_id: the run is not watched.
        let m = mode(&[
            ("CHAOS_GATE_DRY_RUN", "yes"),
            ("CHAOS_GATE_NOTIFY_ID", "n-1"),
        ]);
        assert!(matches!(&m, Mode::DryRun { notify_id: Some(n) } if n == "n-1"));
        assert_eq!(m.notify_id(), Some("n-1"));
        assert_eq!(Mode::Trigger.notify_id(), None);
    }

    #[test]
    fn every_default_parses_cleanly() {
        for spec in SETTINGS.iter().filter(|s| !s.default.is_empty()) {
            let mut low = LowSettings::default();
            let mut errors = Vec::new();
            let mut value = Value {
                spec,
                given: None,
                errors: &mut errors,
            };
            (spec.parse)(&mut value, &mut low);
            assert!(errors.is_empty(), "{}: {errors:?}", spec.name);
        }
    }

    #[test]
    fn platform_settings_are_parsed_by_their_platform() {
        let litmus = Settings::from_raw(&raw(&[
            ("CHAOS_GATE_PLATFORM", "litmus"),
            ("CHAOS_GATE_ENDPOINT", "http://127.0.0.1:1"),
            ("CHAOS_GATE_USERNAME", "admin"),
            ("CHAOS_GATE_PASSWORD", "pw"),
            ("CHAOS_GATE_PROJECT_ID", "p"),
            ("CHAOS_GATE_EXPERIMENT_ID", "e"),
        ]))
        .expect("valid");
        assert!(matches!(
            &litmus.platform,
            PlatformSettings::Litmus(l)
                if matches!(&l.auth, crate::platform::litmus::LitmusAuth::Login { username, .. } if username == "admin")
        ));
        let errs = with(&[
            ("CHAOS_GATE_TOKEN", "t"),
            ("CHAOS_GATE_RUNTIME_INPUTS", "a: 1"),
        ])
        .unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        assert!(errs.0[0].message.contains("is a litmus setting"), "{errs}");
        let errs = Settings::from_raw(&raw(&[
            ("CHAOS_GATE_PLATFORM", "litmus"),
            ("CHAOS_GATE_ENDPOINT", "http://127.0.0.1:1"),
            ("CHAOS_GATE_TOKEN", "t"),
            ("CHAOS_GATE_PROJECT_ID", "p"),
            ("CHAOS_GATE_EXPERIMENT_ID", "e"),
            ("CHAOS_GATE_INPUT_SET", "s"),
        ]))
        .unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        assert!(
            errs.0[0]
                .message
                .contains("LitmusChaos has no runtime inputs"),
            "{errs}"
        );
    }

    #[test]
    fn settings_table_has_unique_names() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
    }
}
