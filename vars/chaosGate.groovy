// Jenkins shared-library step: chaosGate(Map config)
//
// Runs chaos-gate, publishes its JUnit report whatever happened, then fails
// the build unless the gate passed. Returns the binary's exit code.
//
//   chaosGate(
//       account_id: 'abc123',
//       project_id: 'payments',
//       experiment_id: ['exp-1', 'exp-2'],      // a list or a comma-separated string
//       expected_resilience_score: 90,
//       apiKeyCredentialsId: 'harness-api-key', // Jenkins "Secret text" credential
//   )
//
// Settings: the keys are chaos-gate setting names in snake_case, exactly as
// in the settings table (project_id, expected_resilience_score, ...).
// camelCase spellings of the same names (projectId) are accepted too and mean
// the same setting. Each setting is passed to the binary as CHAOS_GATE_<NAME>;
// values may be strings, numbers, booleans or lists (lists are comma-joined).
// Settings not given are left to the binary's defaults, or to CHAOS_GATE_*
// variables already in the environment (for example from `environment {}`).
//
// Secrets (api_key, token, password) are never accepted as plain values in the
// map. Give the ID of a Jenkins credential instead; it is bound with
// withCredentials for the duration of the run only:
//   apiKeyCredentialsId            Secret text   -> CHAOS_GATE_API_KEY
//   tokenCredentialsId             Secret text   -> CHAOS_GATE_TOKEN
//   passwordCredentialsId          Secret text   -> CHAOS_GATE_PASSWORD
//   usernamePasswordCredentialsId  Username with password
//                                  -> CHAOS_GATE_USERNAME + CHAOS_GATE_PASSWORD
//
// Which chaos-gate runs (exact versions):
//   version:   the chaos-gate release to run, e.g. '0.1.0'. Default: this
//              library's own release (DEFAULT_VERSION below, stamped by
//              ci/versions.py), so `@Library('chaos-gate@v0.1.0')` runs 0.1.0.
//              The binary must report it (`chaos-gate --version`), or the
//              step fails with exit 2; '' runs whatever `binary` is.
//   binary:    path of the chaos-gate binary (default: `chaos-gate` from
//              PATH; on Windows agents `chaos-gate.exe` is found the same way)
//   useDocker: true to run the image ghcr.io/chaos-gate/chaos-gate:v<version>
//              instead (Unix agents with a docker CLI). The container runs
//              with the agent's user and group IDs, in the workspace, with
//              every CHAOS_GATE_* variable and the proxy variables
//              (HTTPS_PROXY, HTTP_PROXY, NO_PROXY and their lower-case forms)
//              forwarded by name. The workspace reaches the container as
//              Jenkins' own docker-workflow plugin does it: when the agent
//              itself runs in a container known to the Docker daemon, with
//              `--volumes-from <that container>` (a bind mount of $PWD would
//              name a path on the daemon's host, not in the agent);
//              otherwise with `-v $PWD:$PWD`.
//   volumesFrom: with useDocker, the container (ID or name) whose volumes
//              hold the workspace, when detection cannot find it
//   image:     image for useDocker (default
//              ghcr.io/chaos-gate/chaos-gate:v<version>)
//   publishJunit: false to skip the junit step (default true). The report of
//              an earlier build is deleted before the run, so a run that
//              writes none (exit 2, a missing binary) publishes nothing
//              rather than stale results.
//   propagate: false to return the exit code without failing the build; the
//              build result is still set (UNSTABLE for a failed gate, FAILURE
//              for errors, ABORTED for cancellation) so later stages can react
//
// Agents: Unix agents run the step with `sh`, Windows agents (isUnix() false)
// with `powershell` (binary mode only).
//
// Exit codes (chaos-gate contract §5): 0 pass, 1 gate failed, 2 bad settings,
// 3 platform error, 4 timed out, 129/130/143 cancelled by a signal.

import groovy.transform.Field

@Field final List<String> SETTINGS = [
    'platform', 'endpoint', 'api_key', 'account_id', 'org_id', 'project_id',
    'experiment_id', 'notify_id', 'expected_resilience_score', 'timeout',
    'poll_interval', 'junit_path', 'stop_on_abort', 'on_platform_error',
    'token', 'username', 'password', 'ca_cert', 'log_format', 'dry_run',
]

@Field final List<String> SECRET_SETTINGS = ['api_key', 'token', 'password']

@Field final List<String> OPTIONS = [
    'version', 'binary', 'useDocker', 'volumesFrom', 'image', 'publishJunit', 'propagate',
    'apiKeyCredentialsId', 'tokenCredentialsId', 'passwordCredentialsId',
    'usernamePasswordCredentialsId',
]

// The release this library runs by default; stamped by ci/versions.py and
// checked by the release workflow.
@Field final String DEFAULT_VERSION = '0.1.0'

@Field final String IMAGE_REPOSITORY = 'ghcr.io/chaos-gate/chaos-gate'

// Read by the binary when set (reqwest honours both spellings).
@Field final List<String> PROXY_VARIABLES = [
    'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy',
]

// POSIX sh, binary mode. Single-quoted in Groovy: the shell, not Groovy,
// expands the variables, so no value is ever interpolated into a command.
@Field final String SH_BINARY = '''
set -eu
rm -f -- "$CHAOSGATE_STEP_JUNIT"
if ! command -v "$CHAOSGATE_STEP_BIN" >/dev/null 2>&1; then
    echo "chaosGate: $CHAOSGATE_STEP_BIN not found (set binary, or useDocker: true)" >&2
    exit 127
fi
if [ -n "$CHAOSGATE_STEP_VERSION" ]; then
    found="$("$CHAOSGATE_STEP_BIN" --version 2>/dev/null || true)"
    if [ "$found" != "chaos-gate $CHAOSGATE_STEP_VERSION" ]; then
        echo "chaosGate: $CHAOSGATE_STEP_BIN reports '$found'; this step pins chaos-gate $CHAOSGATE_STEP_VERSION (set version to match, or to '' for any)" >&2
        exit 2
    fi
fi
exec "$CHAOSGATE_STEP_BIN"
'''

// POSIX sh, docker mode. Variables are forwarded by name only (`-e NAME`),
// so values, secrets included, never appear in the process list.
@Field final String SH_DOCKER = '''
set -eu
rm -f -- "$CHAOSGATE_STEP_JUNIT"
set -- run --rm --user "$(id -u):$(id -g)" -w "$PWD"
cid="${CHAOSGATE_STEP_VOLUMES_FROM:-}"
if [ -z "$cid" ]; then
    # The agent's own container, as the daemon names it (cgroup v2 hides it
    # from /proc/self/cgroup; the mount table still shows it).
    cid="$(sed -n 's|.*/containers/\\([0-9a-f]\\{64\\}\\)/.*|\\1|p' /proc/self/mountinfo 2>/dev/null | head -n 1)"
    if [ -z "$cid" ]; then
        cid="$(grep -o -E '[0-9a-f]{64}' /proc/self/cgroup 2>/dev/null | head -n 1 || true)"
    fi
    if [ -n "$cid" ] && ! docker inspect --type container "$cid" >/dev/null 2>&1; then
        cid=""
    fi
fi
if [ -n "$cid" ]; then
    echo "chaosGate: the agent runs in container $cid: sharing its volumes"
    set -- "$@" --volumes-from "$cid"
else
    set -- "$@" -v "$PWD:$PWD"
fi
for name in $(env | sed -n 's/^\\(CHAOS_GATE_[A-Z0-9_]*\\)=.*/\\1/p') $CHAOSGATE_STEP_PROXY_NAMES; do
    if env | grep -q "^$name="; then
        set -- "$@" -e "$name"
    fi
done
exec docker "$@" "$CHAOSGATE_STEP_IMAGE"
'''

// Windows PowerShell 5.1 or PowerShell 7, binary mode.
@Field final String POWERSHELL_BINARY = '''
$ErrorActionPreference = 'Stop'
$junit = $env:CHAOSGATE_STEP_JUNIT
if (Test-Path -LiteralPath $junit) { Remove-Item -LiteralPath $junit -Force }
$bin = $env:CHAOSGATE_STEP_BIN
if (-not (Get-Command -Name $bin -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine("chaosGate: $bin not found (set binary)")
    exit 127
}
if ($env:CHAOSGATE_STEP_VERSION) {
    $found = (& $bin --version 2>$null | Out-String).Trim()
    if ($found -ne "chaos-gate $($env:CHAOSGATE_STEP_VERSION)") {
        [Console]::Error.WriteLine("chaosGate: $bin reports '$found'; this step pins chaos-gate $($env:CHAOSGATE_STEP_VERSION) (set version to match, or to '' for any)")
        exit 2
    }
}
& $bin
exit $LASTEXITCODE
'''

@Field final Map<Integer, String> EXIT_MEANINGS = [
    0  : 'every run passed',
    1  : 'the gate failed (a score below the threshold, a failing phase, or no score)',
    2  : 'bad settings; nothing was triggered',
    3  : 'platform error (unreachable, authentication refused, or an unusable response)',
    4  : 'timed out waiting for the runs',
    126: 'the chaos-gate binary is not executable',
    127: 'the chaos-gate binary was not found (set `binary` or `useDocker`)',
    129: 'cancelled by SIGHUP',
    130: 'cancelled by SIGINT',
    143: 'cancelled by SIGTERM',
]

// projectId -> project_id, project-id -> project_id, project_id unchanged.
@NonCPS
static String toSnake(String key) {
    return key.replaceAll(/([a-z0-9])([A-Z])/, '$1_$2').replace('-', '_').toLowerCase()
}

@NonCPS
static String render(Object value) {
    if (value instanceof Collection) {
        return value.collect { it.toString().trim() }.join(',')
    }
    return value.toString()
}

// `true`, 'true', 'yes', '1' are true; a missing key gives the default.
@NonCPS
static boolean flag(Map config, String key, boolean dflt) {
    if (!config.containsKey(key) || config[key] == null) {
        return dflt
    }
    Object v = config[key]
    if (v instanceof Boolean) {
        return v
    }
    return v.toString().trim().toLowerCase() in ['true', 'yes', '1', 'on']
}

// Splits the map into settings (snake_case name -> string) and problems.
@NonCPS
Map parseConfig(Map config) {
    Map<String, String> settings = [:]
    List<String> problems = []
    for (Object k : config.keySet()) {
        String key = k.toString()
        Object v = config[k]
        if (OPTIONS.contains(key)) {
            continue
        }
        String name = toSnake(key)
        if (!SETTINGS.contains(name)) {
            problems << ("unknown key '${key}' (settings: ${SETTINGS.join(', ')}; " +
                "options: ${OPTIONS.join(', ')})").toString()
        } else if (SECRET_SETTINGS.contains(name)) {
            problems << ("'${key}' is a secret: give a Jenkins credential ID with apiKeyCredentialsId, " +
                'tokenCredentialsId, passwordCredentialsId or usernamePasswordCredentialsId instead').toString()
        } else if (v != null && render(v) != '') {
            settings[name] = render(v)
        }
    }
    List<String> envList = []
    for (String name : settings.keySet()) {
        envList << "CHAOS_GATE_${name.toUpperCase()}=${settings[name]}".toString()
    }
    return [settings: settings, problems: problems, envList: envList]
}

def call(Map config = [:]) {
    Map parsed = parseConfig(config)
    if (parsed.problems) {
        error("chaosGate: ${parsed.problems.join('; ')}")
    }
    Map<String, String> settings = parsed.settings
    List<String> envList = parsed.envList

    String junitPath = settings['junit_path'] ?: (env.CHAOS_GATE_JUNIT_PATH ?: 'chaos-gate-junit.xml')
    boolean useDocker = flag(config, 'useDocker', false)
    boolean propagate = flag(config, 'propagate', true)
    boolean publishJunit = flag(config, 'publishJunit', true)

    String version = config.containsKey('version') ? render(config.version ?: '').trim() : DEFAULT_VERSION
    version = version.startsWith('v') ? version.substring(1) : version
    String image = config.image ?: (version ? "${IMAGE_REPOSITORY}:v${version}" : '')
    if (useDocker && !image) {
        error('chaosGate: useDocker needs a version or an image')
    }
    boolean unix = isUnix()
    if (useDocker && !unix) {
        error('chaosGate: useDocker needs a Unix agent; on Windows install chaos-gate-windows-amd64.exe and give its path as binary')
    }

    // Not under the CHAOS_GATE_ prefix, which the binary reserves for settings.
    envList << "CHAOSGATE_STEP_BIN=${config.binary ?: 'chaos-gate'}".toString()
    envList << "CHAOSGATE_STEP_IMAGE=${image}".toString()
    envList << "CHAOSGATE_STEP_VERSION=${version}".toString()
    envList << "CHAOSGATE_STEP_JUNIT=${junitPath}".toString()
    envList << "CHAOSGATE_STEP_VOLUMES_FROM=${config.volumesFrom ?: ''}".toString()
    envList << "CHAOSGATE_STEP_PROXY_NAMES=${PROXY_VARIABLES.join(' ')}".toString()

    List creds = []
    if (config.apiKeyCredentialsId) {
        creds << string(credentialsId: config.apiKeyCredentialsId as String, variable: 'CHAOS_GATE_API_KEY')
    }
    if (config.tokenCredentialsId) {
        creds << string(credentialsId: config.tokenCredentialsId as String, variable: 'CHAOS_GATE_TOKEN')
    }
    if (config.passwordCredentialsId) {
        creds << string(credentialsId: config.passwordCredentialsId as String, variable: 'CHAOS_GATE_PASSWORD')
    }
    if (config.usernamePasswordCredentialsId) {
        creds << usernamePassword(credentialsId: config.usernamePasswordCredentialsId as String,
            usernameVariable: 'CHAOS_GATE_USERNAME', passwordVariable: 'CHAOS_GATE_PASSWORD')
    }

    int code = 0
    try {
        withEnv(envList) {
            withCredentials(creds) {
                if (!unix) {
                    code = powershell(script: POWERSHELL_BINARY, returnStatus: true)
                } else {
                    code = sh(script: useDocker ? SH_DOCKER : SH_BINARY, returnStatus: true)
                }
            }
        }
    } finally {
        // Whatever the outcome (even an interrupted step), publish what exists.
        if (publishJunit) {
            junit(testResults: junitPath, allowEmptyResults: true)
        }
    }

    String meaning = EXIT_MEANINGS.get(code) ?: 'unexpected exit code'
    if (code == 0) {
        echo "chaos-gate: passed (exit 0: ${meaning})"
        return code
    }
    String message = "chaos-gate: exit ${code}: ${meaning}"
    String result = code == 1 ? 'UNSTABLE' : (code in [129, 130, 143] ? 'ABORTED' : 'FAILURE')
    if (propagate) {
        if (result == 'ABORTED') {
            currentBuild.result = 'ABORTED'
        }
        error(message)
    }
    if (result == 'UNSTABLE') {
        unstable(message)
    } else {
        currentBuild.result = result
        echo message
    }
    return code
}
