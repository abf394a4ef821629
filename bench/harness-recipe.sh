#!/usr/bin/env bash
# The baseline chaos-gate is benchmarked against: the gate a user would write
# by following Harness's documented recipe, with curl and jq.
#
#   1. launch:   runChaosExperiment, keep the notify ID;
#   2. monitor:  every POLL_INTERVAL seconds (2, as the recipe), the
#                tutorial's full ListWorkflowRun query (workflowManifest,
#                executionData, weightages, infra, identifiers, createdBy,
#                ...) until the phase is Completed or Stopped, for at most
#                TIMEOUT seconds (180, as the recipe);
#   3. validate: the resilience score of the last answer, quotes stripped,
#                compared with `[ "$actual" -lt "$expected" ]`.
#
# As in the recipe: no retries, no JUnit, no stop on cancel, and a run that
# ends in any other phase (Error, Completed_With_Probe_Failure, ...) is
# polled until the timeout. `cargo xtask bench` runs it against the
# simulator to compare CPU time and bytes per poll with chaos-gate's.
#
# Settings (environment):
#   ENDPOINT        base URL (default https://app.harness.io)
#   API_KEY         Harness API key (required)
#   ACCOUNT_ID      account identifier (required)
#   ORG_ID          organization identifier (default "default")
#   PROJECT_ID      project identifier (required)
#   EXPERIMENT_ID   the stored experiment ("workflow") to run (required)
#   EXPECTED_SCORE  pass threshold, a whole number (default 100)
#   POLL_INTERVAL   seconds between polls (default 2)
#   TIMEOUT         longest wait in seconds (default 180)
#
# Exit: 0 when the score is at least EXPECTED_SCORE, 1 otherwise (or when no
# score came back), other codes when curl or jq fail.
set -euo pipefail

ENDPOINT="${ENDPOINT:-https://app.harness.io}"
: "${API_KEY:?API_KEY is required}"
: "${ACCOUNT_ID:?ACCOUNT_ID is required}"
ORG_ID="${ORG_ID:-default}"
: "${PROJECT_ID:?PROJECT_ID is required}"
: "${EXPERIMENT_ID:?EXPERIMENT_ID is required}"
EXPECTED_SCORE="${EXPECTED_SCORE:-100}"
POLL_INTERVAL="${POLL_INTERVAL:-2}"
TIMEOUT="${TIMEOUT:-180}"

URL="${ENDPOINT%/}/gateway/chaos/manager/api/query?accountIdentifier=${ACCOUNT_ID}"

# shellcheck disable=SC2016 # $name is a GraphQL variable, not the shell's
RUN_QUERY='mutation RunChaosExperiment($workflowID: String!, $identifiers: IdentifiersRequest!) {
  runChaosExperiment(workflowID: $workflowID, identifiers: $identifiers) { notifyID }
}'

# The tutorial's query, field for field.
# shellcheck disable=SC2016 # $name is a GraphQL variable, not the shell's
LIST_QUERY='query ListWorkflowRun($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    totalNoOfWorkflowRuns
    workflowRuns {
      identifiers { orgIdentifier projectIdentifier accountIdentifier }
      workflowRunID
      workflowID
      weightages { experimentName weightage }
      updatedAt
      createdAt
      infra { infraID infraNamespace infraScope isActive isInfraConfirmed }
      workflowName
      workflowManifest
      phase
      resiliencyScore
      experimentsPassed
      experimentsFailed
      experimentsAwaited
      experimentsStopped
      experimentsNa
      totalExperiments
      executionData
      isRemoved
      updatedBy { userID username }
      createdBy { username userID }
    }
  }
}'

# POSTs a GraphQL body and prints the answer.
graphql() {
  curl --silent --show-error --fail -X POST "$URL" \
    -H "Content-Type: application/json" \
    -H "x-api-key: ${API_KEY}" \
    -H "Harness-Account: ${ACCOUNT_ID}" \
    --data-binary "$1"
}

identifiers=$(jq -n --arg org "$ORG_ID" --arg account "$ACCOUNT_ID" --arg project "$PROJECT_ID" \
  '{orgIdentifier: $org, accountIdentifier: $account, projectIdentifier: $project}')

# 1. launch
run_body=$(jq -n --arg q "$RUN_QUERY" --arg id "$EXPERIMENT_ID" --argjson ids "$identifiers" \
  '{query: $q, variables: {workflowID: $id, identifiers: $ids}}')
notify_id=$(graphql "$run_body" | jq -r '.data.runChaosExperiment.notifyID // empty')
if [ -z "$notify_id" ]; then
  echo "could not launch experiment $EXPERIMENT_ID" >&2
  exit 1
fi
echo "launched $EXPERIMENT_ID: notify ID $notify_id"

# 2. monitor
list_body=$(jq -n --arg q "$LIST_QUERY" --arg n "$notify_id" --argjson ids "$identifiers" \
  '{query: $q, variables: {identifiers: $ids, request: {notifyIDs: [$n]}}}')
response=""
phase=""
start=$SECONDS
while [ $((SECONDS - start)) -lt "$TIMEOUT" ]; do
  response=$(graphql "$list_body")
  phase=$(jq -r '.data.listWorkflowRun.workflowRuns[0].phase // empty' <<<"$response")
  echo "phase: ${phase:-not listed yet}"
  if [ "$phase" = "Completed" ] || [ "$phase" = "Stopped" ]; then
    break
  fi
  sleep "$POLL_INTERVAL"
done

# 3. validate
actual=$(jq '.data.listWorkflowRun.workflowRuns[0].resiliencyScore' <<<"$response" | tr -d '"')
actual="${actual%%.*}" # -lt compares whole numbers only
if ! [[ "$actual" =~ ^[0-9]+$ ]]; then
  echo "no resilience score (phase ${phase:-unknown})" >&2
  exit 1
fi
if [ "$actual" -lt "$EXPECTED_SCORE" ]; then
  echo "resilience score $actual is below $EXPECTED_SCORE: failing"
  exit 1
fi
echo "resilience score $actual meets $EXPECTED_SCORE: passing"
