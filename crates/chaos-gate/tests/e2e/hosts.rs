//! One source of truth for settings: every CI-host file and the README list
//! exactly the settings of `chaos_gate::settings::SETTINGS`, with the same
//! defaults and the same secrets.

use std::collections::BTreeSet;
use std::path::Path;

use chaos_gate::settings::SETTINGS;
use yaml_rust2::{Yaml, YamlLoader};

fn repo_file(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn yaml_docs(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn names() -> BTreeSet<String> {
    SETTINGS.iter().map(|s| s.name.to_string()).collect()
}

fn secrets() -> BTreeSet<String> {
    SETTINGS
        .iter()
        .filter(|s| s.secret)
        .map(|s| s.name.to_string())
        .collect()
}

/// The keys of a YAML mapping.
fn keys(map: &Yaml) -> Vec<String> {
    map.as_hash()
        .map(|h| {
            h.keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A scalar as text (`true`, `5`, `harness`).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Every setting is listed, and nothing else that looks like a setting.
fn assert_same(file: &str, found: &BTreeSet<String>) {
    let want = names();
    let missing: Vec<_> = want.difference(found).collect();
    let extra: Vec<_> = found.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{file}: settings missing {missing:?}, settings the code does not have {extra:?}"
    );
}

/// A default given in a host file must be the code's default.
fn assert_default(file: &str, name: &str, value: Option<String>) {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return;
    };
    let spec = SETTINGS
        .iter()
        .find(|s| s.name == name)
        .expect("known setting");
    assert_eq!(value, spec.default, "{file}: default of {name}");
}

#[test]
fn action_yml_lists_every_setting() {
    let docs = yaml_docs("action.yml");
    let inputs = &docs[0]["inputs"];
    // Which release runs is not a setting.
    let installation = ["version", "releases_url"];
    let found: BTreeSet<String> = keys(inputs)
        .into_iter()
        .filter(|k| !installation.contains(&k.as_str()))
        .collect();
    assert_same("action.yml", &found);
    for name in &found {
        assert_default(
            "action.yml",
            name,
            scalar(&inputs[name.as_str()]["default"]),
        );
        let description = inputs[name.as_str()]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            !description.is_empty(),
            "action.yml: {name} has a description"
        );
        if secrets().contains(name) {
            assert!(
                description.contains("Secret"),
                "action.yml: {name} is marked secret"
            );
        }
    }
    let outputs: BTreeSet<String> = keys(&docs[0]["outputs"]).into_iter().collect();
    let want: BTreeSet<String> = [
        "verdict",
        "resilience_score",
        "notify_ids",
        "junit_path",
        "results",
        "experiment_action",
        "experiment_id",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(outputs, want, "action.yml outputs");
}

#[test]
fn plugin_yaml_lists_every_setting_with_its_secret_flag() {
    let docs = yaml_docs("plugin.yaml");
    let props = &docs[0]["properties"];
    let found: BTreeSet<String> = keys(props).into_iter().collect();
    assert_same("plugin.yaml", &found);
    for name in &found {
        let p = &props[name.as_str()];
        assert_default("plugin.yaml", name, scalar(&p["defaultValue"]));
        assert_eq!(
            p["secret"].as_bool(),
            Some(secrets().contains(name)),
            "plugin.yaml: secret flag of {name}"
        );
        for field in ["type", "description", "required"] {
            assert!(!p[field].is_badvalue(), "plugin.yaml: {name} has {field}");
        }
    }
}

#[test]
fn the_gitlab_component_lists_every_setting() {
    let docs = yaml_docs("templates/chaos-gate.yml");
    let inputs = &docs[0]["spec"]["inputs"];
    // Job placement inputs are not settings.
    let placement = ["stage", "job_name", "image", "version", "command"];
    let found: BTreeSet<String> = keys(inputs)
        .into_iter()
        .filter(|k| !placement.contains(&k.as_str()))
        .collect();
    assert_same("templates/chaos-gate.yml", &found);
    // The component asks for exit 78 on a warning, which its
    // `allow_failure: exit_codes` maps to GitLab's warning state.
    assert_eq!(
        scalar(&inputs["warn_exit_code"]["default"]).as_deref(),
        Some("78")
    );
    for name in found.iter().filter(|n| *n != "warn_exit_code") {
        assert_default(
            "templates/chaos-gate.yml",
            name,
            scalar(&inputs[name.as_str()]["default"]),
        );
    }
    let job = repo_file("templates/chaos-gate.yml");
    for name in &found {
        assert!(
            job.contains(&format!("$[[ inputs.{name} ]]")),
            "templates/chaos-gate.yml: input {name} reaches the job"
        );
    }
}

#[test]
fn the_jenkins_step_lists_every_setting() {
    let groovy = repo_file("vars/chaosGate.groovy");
    let list = |marker: &str| -> BTreeSet<String> {
        let start = groovy
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in the step"));
        let rest = &groovy[start + marker.len()..];
        let end = rest.find(']').expect("end of list");
        rest[..end]
            .split(',')
            .map(|s| s.trim().trim_matches('\'').to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    assert_same("vars/chaosGate.groovy", &list("List<String> SETTINGS = ["));
    assert_eq!(
        list("List<String> SECRET_SETTINGS = ["),
        secrets(),
        "Jenkins secrets"
    );
}

#[test]
fn the_readme_settings_table_lists_every_setting_with_its_default() {
    let readme = repo_file("README.md");
    let table = readme
        .split("<!-- BEGIN settings-table")
        .nth(1)
        .and_then(|rest| rest.split_once('\n'))
        .map(|(_, table)| table)
        .expect("README has a <!-- BEGIN settings-table --> section");
    let mut found = BTreeSet::new();
    for row in table
        .trim_start()
        .lines()
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        found.insert(name.to_string());
        if let Some(spec) = SETTINGS.iter().find(|s| s.name == name) {
            // The default is the first `code` in the cell (what may follow
            // explains it, as "for harness").
            let default = cells[3].split('`').nth(1).unwrap_or(cells[3]);
            if !spec.default.is_empty() {
                assert_eq!(default, spec.default, "README default of {name}");
            }
            if spec.secret {
                assert!(cells[2].contains("secret"), "README marks {name} secret");
            }
        }
    }
    assert_same("README.md", &found);
}
