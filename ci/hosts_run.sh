#!/usr/bin/env bash
# Runs the host integrations with the hosts' own tools against the simulator
# (crates/chaos-sim, demo scenario), as ci/lint.sh's last check:
#
#   1. the GitHub composite action's `run:` script (action.yml) with the
#      runner's variables, installing the binary from a local copy of a
#      release (file:// URL) after the SHA-256 check, then running it; and
#      refusing a binary whose checksum does not match;
#   2. the GitLab CI/CD component (templates/chaos-gate.yml) included with
#      inputs, run by gitlab-ci-local with the shell executor: a passing and
#      a failing experiment, a version pin that does not match, and an old
#      report that must not survive a run that writes none;
#   3. the Jenkins step (vars/chaosGate.groovy) in a real Groovy with
#      stand-in pipeline steps (ci/jenkins/step_test.groovy).
#
#   bash ci/hosts_run.sh TOOLS_DIR
#
# TOOLS_DIR is ci/lint.sh's tool directory (gitlab-ci-local under npm/, the
# Python venv under venv/). The binaries come from CHAOS_GATE_BIN and
# CHAOS_SIM_BIN, or are built (debug) when those are unset.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="$1"
GCL="$TOOLS/npm/node_modules/.bin/gitlab-ci-local"
PY="$TOOLS/venv/bin/python"

if [[ -z "${CHAOS_GATE_BIN:-}" || -z "${CHAOS_SIM_BIN:-}" ]]; then
  echo "building chaos-gate and chaos-sim (debug)"
  cargo build --quiet --locked -p chaos-gate -p chaos-sim
  CHAOS_GATE_BIN="$ROOT/target/debug/chaos-gate"
  CHAOS_SIM_BIN="$ROOT/target/debug/chaos-sim"
fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' crates/chaos-gate/Cargo.toml | head -n 1)"
if [[ "$("$CHAOS_GATE_BIN" --version)" != "chaos-gate $version" ]]; then
  echo "$CHAOS_GATE_BIN does not report version $version" >&2
  exit 1
fi

work="$(mktemp -d "$TOOLS/tmp/hosts.XXXXXX")"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$CHAOS_SIM_BIN" --scenario crates/chaos-sim/scenarios/demo.toml >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^chaos-sim listening on \(http[^ ]*\)$/\1/p' "$work/sim.out" | head -n 1)"
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "the simulator did not start:" >&2; cat "$work/sim.log" >&2; exit 1; }
echo "simulator at $url"

failures=()
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures+=("$*"); }

# ---------------------------------------------------------------- GitHub
echo
echo "-- GitHub composite action (action.yml run: script)"
release="$work/releases/v$version"
mkdir -p "$release"
cp "$CHAOS_GATE_BIN" "$release/chaos-gate-linux-amd64"
(cd "$release" && sha256sum chaos-gate-linux-amd64 >SHA256SUMS)
"$PY" -c 'import sys, yaml; print(yaml.safe_load(open("action.yml"))["runs"]["steps"][0]["run"])' >"$work/action-run.sh"

run_action() { # DIR EXPERIMENT
  mkdir -p "$1"
  (
    cd "$1"
    : >github-output
    env -i PATH="$PATH" HOME="$HOME" \
      RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP="$1" RUNNER_TOOL_CACHE="$1/toolcache" \
      GITHUB_ACTION_PATH="$ROOT" GITHUB_OUTPUT="$1/github-output" \
      CHAOSGATE_VERSION="$version" CHAOSGATE_RELEASES_URL="file://$work/releases" \
      INPUT_ENDPOINT="$url" INPUT_API_KEY=sim-api-key INPUT_ACCOUNT_ID=acc-demo \
      INPUT_PROJECT_ID=demo-project INPUT_EXPERIMENT_ID="$2" \
      INPUT_EXPECTED_RESILIENCE_SCORE=80 INPUT_POLL_INTERVAL=0.5s INPUT_TIMEOUT=1m \
      INPUT_JUNIT_PATH=chaos-gate-junit.xml INPUT_PLATFORM=harness INPUT_ORG_ID=default \
      INPUT_STOP_ON_ABORT=true INPUT_ON_PLATFORM_ERROR=fail INPUT_LOG_FORMAT=text INPUT_DRY_RUN=false \
      bash -e "$work/action-run.sh" >log 2>&1
  )
}
if run_action "$work/gh-pass" checkout-pod-delete &&
  grep -q '^verdict=pass$' "$work/gh-pass/github-output" &&
  [[ -f "$work/gh-pass/chaos-gate-junit.xml" ]] &&
  grep -q 'sha256 .* OK' "$work/gh-pass/log"; then
  ok "action: installs the checked binary for linux/amd64 and the gate passes"
else
  bad "action: pass"; cat "$work/gh-pass/log"
fi
set +e
run_action "$work/gh-fail" payment-network-loss
code=$?
set -e
if [[ $code -eq 1 ]] && grep -q '^verdict=fail$' "$work/gh-fail/github-output"; then
  ok "action: a failing experiment fails the step (exit 1)"
else
  bad "action: fail (exit $code)"; cat "$work/gh-fail/log"
fi
printf 'tampered' >>"$release/chaos-gate-linux-amd64"
set +e
run_action "$work/gh-tampered" checkout-pod-delete
code=$?
set -e
if [[ $code -eq 2 ]] && grep -q 'checksum mismatch' "$work/gh-tampered/log"; then
  ok "action: a binary that does not match SHA256SUMS is refused"
else
  bad "action: tampered binary (exit $code)"; cat "$work/gh-tampered/log"
fi

# ---------------------------------------------------------------- GitLab
echo
echo "-- GitLab component (gitlab-ci-local $("$GCL" --version), shell executor)"
proj="$work/gitlab"
mkdir -p "$proj"
cp -r templates "$proj/"
(
  cd "$proj"
  git init -q .
  printf 'include:\n  - local: templates/chaos-gate.yml\n' >.gitlab-ci.yml
  git add -A
  git -c user.name=ci -c user.email=ci@localhost commit -qm component
  git remote add origin https://gitlab.example.com/chaos-gate/chaos-gate.git
  git update-ref refs/remotes/origin/main HEAD
  git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
)
# gitlab-ci-local exits 0 when a job with `allow_failure: exit_codes` fails
# (it prints FAIL or WARN), so the outcome is read from its summary line.
failed() { grep -q ' FAIL  chaos-gate' "$work/gitlab-$1.log"; }
warned() { grep -q ' WARN  chaos-gate' "$work/gitlab-$1.log"; }
gitlab_job() { # NAME INPUT-LINES...: writes .gitlab-ci.yml, runs the job
  local name="$1"
  shift
  {
    echo "include:"
    echo "  - local: templates/chaos-gate.yml"
    echo "    inputs:"
    echo "      endpoint: $url"
    echo "      account_id: acc-demo"
    echo "      project_id: demo-project"
    echo "      poll_interval: 0.5s"
    echo "      timeout: 1m"
    echo "      command: $CHAOS_GATE_BIN"
    for line in "$@"; do echo "      $line"; done
  } >"$proj/.gitlab-ci.yml"
  (cd "$proj" && NO_COLOR=1 "$GCL" --force-shell-executor --no-color \
    --variable GITLAB_CI=true --variable CHAOS_GATE_API_KEY=sim-api-key \
    chaos-gate >"$work/gitlab-$name.log" 2>&1)
}
if gitlab_job pass "experiment_id: checkout-pod-delete" "expected_resilience_score: 80" &&
  [[ -f "$proj/.gitlab-ci-local/artifacts/chaos-gate/chaos-gate-junit.xml" ]] &&
  grep -q '^CHAOS_GATE_VERDICT=pass' "$proj/chaos-gate.env"; then
  ok "component: a passing experiment passes the job, report and dotenv are artifacts"
else
  bad "component: pass"; cat "$work/gitlab-pass.log"
fi
gitlab_job fail "experiment_id: payment-network-loss" "expected_resilience_score: 80" || true
if failed fail; then
  ok "component: a failing experiment fails the job"
else
  bad "component: fail"; cat "$work/gitlab-fail.log"
fi
gitlab_job pin "experiment_id: checkout-pod-delete" "version: 9.9.9" || true
if failed pin && grep -q 'pins version 9.9.9' "$work/gitlab-pin.log"; then
  ok "component: a binary of another version than the pinned one is refused"
else
  bad "component: version pin"; cat "$work/gitlab-pin.log"
fi
gitlab_job warn "experiment_id: payment-network-loss" "expected_resilience_score: 80" \
  "warning_score: \"40\"" || true
if warned warn && ! failed warn && grep -q '^CHAOS_GATE_VERDICT=warn' "$proj/chaos-gate.env"; then
  ok "component: a warning (warn_exit_code) is the job's allowed-to-fail warning state"
else
  bad "component: warn"; cat "$work/gitlab-warn.log"
fi
echo '<testsuites><testsuite name="STALE"/></testsuites>' >"$proj/chaos-gate-junit.xml"
gitlab_job stale "experiment_id: checkout-pod-delete" "expected_resilience_score: 200" || true
if failed stale && [[ ! -e "$proj/chaos-gate-junit.xml" ]]; then
  ok "component: bad settings (exit 2) leave no old report behind"
else
  bad "component: stale report"; cat "$work/gitlab-stale.log"
fi

# ---------------------------------------------------------------- JUnit readers
echo
echo "-- JUnit report through real readers (junitparser, GitLab's parser rules)"
mkdir -p "$work/junit"
set +e
(cd "$work/junit" && env -i PATH="$PATH" CHAOS_GATE_ENDPOINT="$url" \
  CHAOS_GATE_API_KEY=sim-api-key CHAOS_GATE_ACCOUNT_ID=acc-demo \
  CHAOS_GATE_PROJECT_ID=demo-project CHAOS_GATE_EXPERIMENT_ID=payment-network-loss \
  CHAOS_GATE_EXPECTED_RESILIENCE_SCORE=80 CHAOS_GATE_POLL_INTERVAL=0.5s \
  CHAOS_GATE_TIMEOUT=1m "$CHAOS_GATE_BIN" >"$work/junit/log" 2>&1)
code=$?
set -e
# One experiment and its two faults; the run failed, so do its failed fault.
if [[ $code -eq 1 ]] &&
  "$PY" ci/junit_readers.py "$work/junit/chaos-gate-junit.xml" 3 2 "below the expected 80"; then
  ok "junit: counts, failure message and GitLab-visible reasons"
else
  bad "junit readers (exit $code)"; cat "$work/junit/log"
fi

# ---------------------------------------------------------------- Jenkins
echo
echo "-- Jenkins step ($(groovy --version 2>/dev/null | head -n 1))"
if groovy ci/jenkins/step_test.groovy vars/chaosGate.groovy "$CHAOS_GATE_BIN" "$url" "$work/jenkins"; then
  :
else
  failures+=("jenkins step")
fi

echo
if ((${#failures[@]})); then
  printf 'host run FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "host runs: all ok"
