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
// How the binary is run:
//   binary:    path of the chaos-gate binary (default: `chaos-gate` from PATH)
//   useDocker: true to run the container image instead (needs docker on the
//              agent); the workspace is mounted at the same path and the
//              container runs with the agent's user and group IDs
//   image:     image for useDocker (default ghcr.io/chaos-gate/chaos-gate:v0)
//   publishJunit: false to skip the junit step (default true)
//   propagate: false to return the exit code without failing the build; the
//              build result is still set (UNSTABLE for a failed gate, FAILURE
//              for errors, ABORTED for cancellation) so later stages can react
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
    'binary', 'useDocker', 'image', 'publishJunit', 'propagate',
    'apiKeyCredentialsId', 'tokenCredentialsId', 'passwordCredentialsId',
    'usernamePasswordCredentialsId',
]

@Field final String DEFAULT_IMAGE = 'ghcr.io/chaos-gate/chaos-gate:v0'

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

    // Not under the CHAOS_GATE_ prefix, which the binary reserves for settings.
    envList << "CHAOSGATE_STEP_BIN=${config.binary ?: 'chaos-gate'}".toString()
    envList << "CHAOSGATE_STEP_IMAGE=${config.image ?: DEFAULT_IMAGE}".toString()

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

    // Single-quoted Groovy strings: the shell, not Groovy, expands the
    // variables, so no secret is ever interpolated into a command line.
    String script
    if (useDocker) {
        // Forward every CHAOS_GATE_* variable by name only (`-e NAME`), so
        // values, secrets included, never appear in the process list. The
        // container runs as the agent's user so the report is not root-owned.
        script = '''
            set -eu
            set -- run --rm --user "$(id -u):$(id -g)" -v "$PWD:$PWD" -w "$PWD"
            for name in $(env | sed -n 's/^\\(CHAOS_GATE_[A-Z0-9_]*\\)=.*/\\1/p'); do
                set -- "$@" -e "$name"
            done
            exec docker "$@" "$CHAOSGATE_STEP_IMAGE"
        '''
    } else {
        script = 'exec "$CHAOSGATE_STEP_BIN"'
    }

    int code = 0
    try {
        withEnv(envList) {
            withCredentials(creds) {
                code = sh(script: script, returnStatus: true)
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
