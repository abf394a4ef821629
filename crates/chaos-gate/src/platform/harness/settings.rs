//! The Harness settings: each declared with its parser (they take their
//! place in [`crate::settings::SETTINGS`]), and what platform harness
//! requires of them.

use crate::platform::inputs::RuntimeInputs;
use crate::secret::Secret;
use crate::settings::{Checker, PlatformKind, SettingSpec, s, secret};

/// What the Harness settings read, before the platform's rules.
#[derive(Debug, Default)]
pub struct HarnessLow {
    api_key: Option<Secret>,
    account_id: Option<String>,
    org_id: Option<String>,
    runtime_inputs: Option<RuntimeInputs>,
    input_set: Option<String>,
}

/// The validated Harness settings.
#[derive(Debug, Clone)]
pub struct HarnessSettings {
    pub api_key: Secret,
    pub account_id: String,
    pub org_id: String,
    /// `runtime_inputs`, parsed.
    pub runtime_inputs: Option<RuntimeInputs>,
    pub input_set: Option<String>,
}

pub const API_KEY: SettingSpec = secret(
    "api_key",
    "Harness API key (required for harness)",
    |v, low| {
        v.header_safe("copy the API key again, without line breaks");
        low.harness.api_key = Some(Secret::new(v.text()));
    },
)
.harness();

pub const ACCOUNT_ID: SettingSpec = s(
    "account_id",
    "",
    "Harness account identifier (required for harness)",
    |v, low| {
        v.header_safe("use the account identifier as Harness shows it");
        low.harness.account_id = Some(v.text().to_string());
    },
)
.harness();

pub const ORG_ID: SettingSpec = s(
    "org_id",
    "default",
    "Harness organization identifier",
    |v, low| low.harness.org_id = Some(v.text().to_string()),
)
.harness();

/// LitmusChaos has nothing like them: said instead of the general "is a
/// harness setting".
const NO_INPUTS_ON_LITMUS: &str = "is a Harness setting; LitmusChaos has no runtime inputs or input sets. \
     Remove it, or set platform=harness";

pub const RUNTIME_INPUTS: SettingSpec = s(
    "runtime_inputs",
    "",
    "Harness only: runtime input values as YAML or JSON (names to values, plus tasks: task names to names to values), or @path to a file",
    |v, low| {
        if low.platform == Some(PlatformKind::Litmus) {
            let variable = v.variable();
            v.fail(variable, NO_INPUTS_ON_LITMUS);
            return;
        }
        let text = v.text().to_string();
        let (doc, source) = match text.strip_prefix('@') {
            Some(path) => match std::fs::read_to_string(path.trim()) {
                Ok(doc) => (doc, format!("{}=@{}", v.variable(), path.trim())),
                Err(e) => {
                    let variable = format!("{}={text:?}", v.variable());
                    v.fail(variable, format!("cannot read the file ({e})"));
                    return;
                }
            },
            None => (v.as_given().to_string(), v.variable()),
        };
        match crate::platform::inputs::parse(&doc) {
            Ok(inputs) => low.harness.runtime_inputs = Some(inputs),
            Err(e) => v.fail(source, e),
        }
    },
)
.harness();

pub const INPUT_SET: SettingSpec = s(
    "input_set",
    "",
    "Harness only: identity of a stored input set to run with; runtime_inputs override its values",
    |v, low| {
        if low.platform == Some(PlatformKind::Litmus) {
            let variable = v.variable();
            v.fail(variable, NO_INPUTS_ON_LITMUS);
            return;
        }
        low.harness.input_set = Some(v.text().to_string());
    },
)
.harness();

impl HarnessSettings {
    /// What platform harness requires of its settings; `None` when
    /// something is missing (the errors say what).
    pub(crate) fn validate(low: HarnessLow, c: &mut Checker<'_>) -> Option<HarnessSettings> {
        if low.api_key.is_none() {
            c.missing("api_key", "for platform harness (a Harness API key)");
        }
        if low.account_id.is_none() {
            c.missing(
                "account_id",
                "for platform harness (the Harness account identifier)",
            );
        }
        Some(HarnessSettings {
            api_key: low.api_key?,
            account_id: low.account_id?,
            org_id: low.org_id?,
            runtime_inputs: low.runtime_inputs,
            input_set: low.input_set,
        })
    }
}
