//! `cargo xtask settings [--write | --check]`: the CI-host files and the
//! README list every setting of `chaos_gate::settings::SETTINGS`, written
//! from that one table.
//!
//! Each generated part sits between two marker lines in its file
//! (`BEGIN <region>` and `END <region>` in a comment); everything outside
//! them is hand-written. `--write` rewrites the parts, `--check` (in
//! `.ci/run`) fails when any of them differs from what the table gives.
//! Adding a setting is one entry in the table, then `--write`.

use std::path::Path;

use chaos_gate::settings::{Kind, SETTINGS, SettingSpec};

/// Settings whose default depends on the platform: host files give them
/// no default (the gate applies its own), or a litmus job would inherit
/// Harness's URL.
const NO_HOST_DEFAULT: &[&str] = &["endpoint"];

/// Defaults a host integration chooses differently from the gate's own:
/// the GitLab component asks for exit 78 on a warning, which its
/// `allow_failure: exit_codes` maps to the job's warning state (the step
/// cannot tell a warning from a pass by exit 0).
const GITLAB_DEFAULTS: &[(&str, &str)] = &[("warn_exit_code", "78")];

/// One generated part of a file.
struct Region {
    file: &'static str,
    name: &'static str,
    render: fn(&str) -> String,
}

const REGIONS: &[Region] = &[
    Region {
        file: "README.md",
        name: "settings-table",
        render: readme_table,
    },
    Region {
        file: "action.yml",
        name: "settings-inputs",
        render: action_inputs,
    },
    Region {
        file: "action.yml",
        name: "settings-env",
        render: action_env,
    },
    Region {
        file: "docker/action.yml",
        name: "settings-inputs",
        render: action_inputs,
    },
    Region {
        file: "plugin.yaml",
        name: "settings-properties",
        render: plugin_properties,
    },
    Region {
        file: "templates/chaos-gate.yml",
        name: "settings-inputs",
        render: gitlab_inputs,
    },
    Region {
        file: "templates/chaos-gate.yml",
        name: "settings-variables",
        render: gitlab_variables,
    },
    Region {
        file: "vars/chaosGate.groovy",
        name: "settings-lists",
        render: jenkins_lists,
    },
];

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let write = match args.first().map(String::as_str) {
        Some("--write") => true,
        Some("--check") | None => false,
        Some(other) => {
            return Err(format!(
                "settings: unknown option {other:?}; use --write or --check"
            ));
        }
    };
    let mut stale = Vec::new();
    let mut files: Vec<&str> = REGIONS.iter().map(|r| r.file).collect();
    files.dedup();
    for file in files {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut new = text.clone();
        for region in REGIONS.iter().filter(|r| r.file == file) {
            new = replace_region(&new, region).map_err(|e| format!("{file}: {e}"))?;
        }
        if new != text {
            if write {
                std::fs::write(&path, &new)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("wrote {file}");
            } else {
                stale.push(file);
            }
        }
    }
    if stale.is_empty() {
        if !write {
            println!("the settings in the host files and the README match the table");
        }
        Ok(())
    } else {
        Err(format!(
            "out of date with crates/chaos-gate/src/settings.rs: {}; run `cargo xtask settings --write`",
            stale.join(", ")
        ))
    }
}

/// `text` with the lines between the region's markers replaced.
fn replace_region(text: &str, region: &Region) -> Result<String, String> {
    let begin = format!("BEGIN {}", region.name);
    let end = format!("END {}", region.name);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| l.contains(&begin))
        .ok_or_else(|| format!("no line with the marker {begin:?}"))?;
    let stop = lines[start..]
        .iter()
        .position(|l| l.contains(&end))
        .map(|p| p + start)
        .ok_or_else(|| format!("no line with the marker {end:?}"))?;
    let marker = lines[start];
    let indent: String = marker.chars().take_while(|c| *c == ' ').collect();
    let mut out: String = lines[..=start].concat();
    out.push_str(&(region.render)(&indent));
    out.push_str(&lines[stop..].concat());
    Ok(out)
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

fn host_default(s: &SettingSpec) -> &'static str {
    if NO_HOST_DEFAULT.contains(&s.name) {
        ""
    } else {
        s.default
    }
}

/// The meaning as host files show it; secrets say how to pass them.
fn description(s: &SettingSpec, secret_hint: &str) -> String {
    let mut d = s.help.to_string();
    if s.secret {
        d.push_str(". Secret: ");
        d.push_str(secret_hint);
    }
    d
}

fn readme_table(_: &str) -> String {
    let mut out = String::from("| setting | meaning | default |\n|---|---|---|\n");
    for s in SETTINGS {
        let secret = if s.secret { " (secret)" } else { "" };
        let default = if s.default.is_empty() {
            String::new()
        } else {
            format!("`{}`", s.default)
        };
        out.push_str(&format!(
            "| `{}` | {}{secret} | {default} |\n",
            s.name,
            s.help.replace('|', "\\|")
        ));
    }
    out
}

fn action_inputs(i: &str) -> String {
    let mut out = String::new();
    for s in SETTINGS {
        out.push_str(&format!("{i}{}:\n", s.name));
        out.push_str(&format!(
            "{i}  description: {}\n",
            quoted(&description(
                s,
                "pass it from `secrets.`, never as plain text."
            ))
        ));
        out.push_str(&format!("{i}  required: false\n"));
        let d = host_default(s);
        if !d.is_empty() {
            out.push_str(&format!("{i}  default: {}\n", quoted(d)));
        }
    }
    out
}

fn action_env(i: &str) -> String {
    SETTINGS
        .iter()
        .map(|s| {
            format!(
                "{i}INPUT_{}: ${{{{ inputs.{} }}}}\n",
                s.name.to_ascii_uppercase(),
                s.name
            )
        })
        .collect()
}

fn plugin_properties(i: &str) -> String {
    let mut out = String::new();
    for s in SETTINGS {
        out.push_str(&format!("{i}{}:\n", s.name));
        out.push_str(&format!("{i}  type: string\n"));
        out.push_str(&format!("{i}  defaultValue: {}\n", quoted(host_default(s))));
        out.push_str(&format!(
            "{i}  description: {}\n",
            quoted(&description(
                s,
                "pass it with `from_secret:` (Drone) or `<+secrets.getValue(\"id\")>` (Harness CI)."
            ))
        ));
        out.push_str(&format!("{i}  secret: {}\n", s.secret));
        out.push_str(&format!("{i}  required: false\n"));
    }
    out
}

fn gitlab_inputs(i: &str) -> String {
    let mut out = String::new();
    for s in SETTINGS {
        out.push_str(&format!("{i}{}:\n", s.name));
        out.push_str(&format!(
            "{i}  description: {}\n",
            quoted(&description(
                s,
                "use a masked CI/CD variable CHAOS_GATE_<NAME> instead of this input."
            ))
        ));
        let default = GITLAB_DEFAULTS
            .iter()
            .find(|(name, _)| *name == s.name)
            .map_or(host_default(s), |(_, d)| d);
        match s.kind {
            // Typed inputs take their default unquoted; a pipeline may then
            // pass `90` or `true` as YAML gives them.
            Kind::Number if !default.is_empty() => {
                out.push_str(&format!("{i}  type: number\n{i}  default: {default}\n"))
            }
            Kind::Bool if !default.is_empty() => {
                out.push_str(&format!("{i}  type: boolean\n{i}  default: {default}\n"))
            }
            _ => {
                if !s.choices.is_empty() {
                    out.push_str(&format!("{i}  options: [{}]\n", s.choices.join(", ")));
                }
                out.push_str(&format!("{i}  default: {}\n", quoted(default)));
            }
        }
    }
    out
}

/// Secrets go under the lower-precedence `INPUT_` prefix, so that a masked
/// CI/CD variable `CHAOS_GATE_<NAME>` always wins over an empty input.
fn gitlab_variables(i: &str) -> String {
    SETTINGS
        .iter()
        .map(|s| {
            let prefix = if s.secret { "INPUT_" } else { "CHAOS_GATE_" };
            format!(
                "{i}{prefix}{}: \"$[[ inputs.{} ]]\"\n",
                s.name.to_ascii_uppercase(),
                s.name
            )
        })
        .collect()
}

fn jenkins_lists(i: &str) -> String {
    let list = |names: Vec<&str>| -> String {
        let mut lines = Vec::new();
        let mut line = String::new();
        for n in names {
            let item = format!("'{n}',");
            if !line.is_empty() && line.len() + item.len() + 1 > 72 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&item);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
            .iter()
            .map(|l| format!("{i}    {l}\n"))
            .collect::<String>()
    };
    format!(
        "{i}@Field final List<String> SETTINGS = [\n{}{i}]\n\n{i}@Field final List<String> SECRET_SETTINGS = [\n{}{i}]\n",
        list(SETTINGS.iter().map(|s| s.name).collect()),
        list(
            SETTINGS
                .iter()
                .filter(|s| s.secret)
                .map(|s| s.name)
                .collect()
        ),
    )
}
