// Runs the Jenkins shared-library step vars/chaosGate.groovy in a real Groovy
// with stand-ins for the pipeline steps it calls (sh, powershell, isUnix,
// withEnv, withCredentials, string, usernamePassword, junit, echo, error,
// unstable, fileExists, env, currentBuild), against the simulator.
//
//   groovy ci/jenkins/step_test.groovy STEP_FILE GATE_BINARY SIM_URL WORK_DIR
//
// `sh` runs the step's script with `sh -xe` in WORK_DIR, as Jenkins does,
// with the agent's environment plus withEnv/withCredentials; `junit` records
// whether the report it is asked to publish exists and what it holds. Docker
// mode runs against a stand-in `docker` on PATH that records its arguments
// (no daemon here). The Windows path (`powershell`) is checked for being
// chosen and for what its script does; it is not executed (no PowerShell
// here).
//
// Not Jenkins itself: no CPS transformation, no sandbox. What it proves is
// that the step compiles, calls the steps it should with the right
// arguments, runs the binary, and reads its exit codes.

import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

if (args.length != 4) {
    System.err.println('usage: step_test.groovy STEP_FILE GATE_BINARY SIM_URL WORK_DIR')
    System.exit(2)
}
String stepFile = args[0]
String gate = args[1]
String simUrl = args[2]
File work = new File(args[3])
work.mkdirs()

// Jenkins imports NonCPS into every pipeline script; a stand-in annotation
// does here.
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME)
@Target([ElementType.METHOD])
@interface NonCPS {}
''')
CompilerConfiguration cc = new CompilerConfiguration()
ImportCustomizer imports = new ImportCustomizer()
imports.addImports('com.cloudbees.groovy.cps.NonCPS')
cc.addCompilationCustomizers(imports)

// Fake docker: records its arguments, one per line; `inspect` knows no
// container.
File fakeBin = new File(work, 'fake-bin')
fakeBin.mkdirs()
File dockerLog = new File(work, 'docker-args.txt')
File fakeDocker = new File(fakeBin, 'docker')
fakeDocker.text = """#!/bin/sh
if [ "\$1" = inspect ]; then exit 1; fi
for a in "\$@"; do printf '%s\\n' "\$a"; done > '${dockerLog.absolutePath}'
exit 0
"""
fakeDocker.setExecutable(true)

class Aborted extends RuntimeException {
    Aborted(String m) { super(m) }
}

// One run of the step with fresh stand-ins; returns what happened.
Map runStep(GroovyClassLoader loader, CompilerConfiguration cc, String stepFile, File work,
            Map config, Map opts) {
    Map rec = [calls: [], junit: [], echo: [], unstable: [], code: null, error: null,
               scripts: [], result: null]
    List<Map> overlays = []
    Map<String, String> creds = ['harness-key': 'sim-api-key']
    Binding b = new Binding()
    Map envMap = new HashMap(opts.env ?: [:])
    b.setVariable('env', envMap)
    Map currentBuild = [result: null]
    b.setVariable('currentBuild', currentBuild)
    Closure effectiveEnv = {
        Map<String, String> e = new HashMap<String, String>(System.getenv())
        e.putAll(envMap)
        if (opts.path) {
            e['PATH'] = opts.path + ':' + e['PATH']
        }
        for (Map o : overlays) {
            e.putAll(o)
        }
        return e
    }
    b.setVariable('isUnix', { -> opts.windows ? false : true })
    b.setVariable('withEnv', { List l, Closure body ->
        Map o = [:]
        l.each { String s -> int i = s.indexOf('='); o[s.substring(0, i)] = s.substring(i + 1) }
        overlays << o
        try { return body() } finally { overlays.remove(overlays.size() - 1) }
    })
    b.setVariable('string', { Map m -> [kind: 'string'] + m })
    b.setVariable('usernamePassword', { Map m -> [kind: 'usernamePassword'] + m })
    b.setVariable('withCredentials', { List l, Closure body ->
        Map o = [:]
        l.each { Map c ->
            if (c.kind == 'string') {
                o[c.variable] = creds[c.credentialsId]
            } else {
                o[c.usernameVariable] = 'user'
                o[c.passwordVariable] = creds[c.credentialsId]
            }
        }
        overlays << o
        try { return body() } finally { overlays.remove(overlays.size() - 1) }
    })
    b.setVariable('sh', { Map m ->
        rec.calls << 'sh'
        rec.scripts << m.script
        File f = File.createTempFile('step', '.sh', work)
        f.text = m.script
        ProcessBuilder pb = new ProcessBuilder('sh', '-xe', f.absolutePath)
        pb.directory(work)
        pb.environment().clear()
        pb.environment().putAll(effectiveEnv())
        pb.redirectErrorStream(true)
        Process p = pb.start()
        String out = p.inputStream.text
        int code = p.waitFor()
        f.delete()
        rec.output = (rec.output ?: '') + out
        if (!m.returnStatus && code != 0) {
            throw new Aborted("script returned exit code ${code}")
        }
        return code
    })
    b.setVariable('powershell', { Map m ->
        rec.calls << 'powershell'
        rec.scripts << m.script
        return opts.powershellCode ?: 0
    })
    b.setVariable('junit', { Map m ->
        File r = new File(work, m.testResults)
        rec.junit << [path: m.testResults, exists: r.exists(), text: r.exists() ? r.text : null,
                      allowEmptyResults: m.allowEmptyResults]
    })
    b.setVariable('fileExists', { String p -> new File(work, p).exists() })
    b.setVariable('echo', { String s -> rec.echo << s })
    b.setVariable('unstable', { String s -> rec.unstable << s })
    b.setVariable('error', { String s -> throw new Aborted(s) })

    Script step = new GroovyShell(loader, b, cc).parse(new File(stepFile))
    try {
        rec.code = step.call(config)
    } catch (Aborted e) {
        rec.error = e.message
    }
    rec.result = currentBuild.result
    return rec
}

Map base = [
    endpoint: simUrl, account_id: 'acc-demo', project_id: 'demo-project',
    expected_resilience_score: 80, poll_interval: '0.5s', timeout: '1m',
    apiKeyCredentialsId: 'harness-key', binary: gate,
]
File report = new File(work, 'chaos-gate-junit.xml')
int passed = 0
List<String> failures = []
Closure check = { String name, boolean ok, Object detail ->
    if (ok) {
        passed++
        println "ok   ${name}"
    } else {
        failures << name
        println "FAIL ${name}: ${detail}"
    }
}

// 1. A passing experiment: exit 0, the report is this run's and published.
report.delete()
Map r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'checkout-pod-delete'], [:])
check('pass: exit 0 and a fresh report published', r.code == 0 && r.error == null &&
    r.junit.size() == 1 && r.junit[0].exists && r.junit[0].text.contains('checkout-pod-delete'), r)

// 2. A failing experiment with propagate: false: exit 1, UNSTABLE.
r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'payment-network-loss', propagate: false], [:])
check('fail: exit 1, unstable, report published', r.code == 1 && r.unstable.size() == 1 &&
    r.junit[0].exists && r.junit[0].text.contains('payment-network-loss'), r)

// 2b. A score in the warning band: the step's warn_exit_code (78 unless
//     the pipeline sets one) marks the build UNSTABLE, with propagate left
//     on: a warning never fails the build.
r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'payment-network-loss', warning_score: 40], [:])
check('warn: exit 78, unstable, not an error', r.code == 78 && r.unstable.size() == 1 &&
    r.error == null && r.junit[0].exists, r)

// 3. Bad settings (exit 2) after an earlier build's report: nothing stale
//    is published.
report.text = '<testsuites><testsuite name="STALE"/></testsuites>'
r = runStep(loader, cc, stepFile, work,
    base + [experiment_id: 'checkout-pod-delete', expected_resilience_score: 200, propagate: false], [:])
check('exit 2: the previous report is removed, not published', r.code == 2 && r.result == 'FAILURE' &&
    r.junit.size() == 1 && !r.junit[0].exists, r)

// 4. No binary (exit 127) after an earlier report: nothing stale either.
report.text = '<testsuites><testsuite name="STALE"/></testsuites>'
r = runStep(loader, cc, stepFile, work,
    base + [experiment_id: 'checkout-pod-delete', binary: '/nonexistent/chaos-gate'], [:])
check('exit 127: error raised, previous report removed', r.error?.contains('exit 127') &&
    !r.junit[0].exists, r)

// 5. A binary of another version than the one pinned: refused.
r = runStep(loader, cc, stepFile, work,
    base + [experiment_id: 'checkout-pod-delete', version: '9.9.9', propagate: false], [:])
check('version pin: another version exits 2', r.code == 2 && r.output.contains('pins chaos-gate 9.9.9'), r)

// 6. version: '' runs whatever the binary is.
r = runStep(loader, cc, stepFile, work,
    base + [experiment_id: 'checkout-pod-delete', version: ''], [:])
check("version '': any binary runs", r.code == 0, r)

// 7. Docker mode: exact image, settings and proxies forwarded by name only,
//    workspace by -v (no container found) or --volumes-from (given).
Map dockerEnv = [HTTPS_PROXY: 'http://proxy.invalid:3128', no_proxy: 'localhost']
dockerLog.delete()
r = runStep(loader, cc, stepFile, work,
    base.findAll { it.key != 'binary' } + [experiment_id: 'checkout-pod-delete', useDocker: true],
    [path: fakeBin.absolutePath, env: dockerEnv])
List<String> argv = dockerLog.exists() ? dockerLog.readLines() : []
check('docker: exact image, proxies and settings by name, -v workspace',
    r.code == 0 && argv && argv.last() == 'ghcr.io/chaos-gate/chaos-gate:v0.1.0' &&
    argv.join(' ').contains('-e HTTPS_PROXY') && argv.join(' ').contains('-e no_proxy') &&
    !argv.join(' ').contains('-e HTTP_PROXY') &&
    argv.join(' ').contains('-e CHAOS_GATE_PROJECT_ID') && argv.join(' ').contains('-e CHAOS_GATE_API_KEY') &&
    argv.contains('-v') && !argv.any { it.contains('sim-api-key') || it.contains('proxy.invalid') }, argv)
dockerLog.delete()
r = runStep(loader, cc, stepFile, work,
    base.findAll { it.key != 'binary' } + [experiment_id: 'checkout-pod-delete', useDocker: true,
                                            volumesFrom: 'jenkins-agent', version: '0.2.0'],
    [path: fakeBin.absolutePath])
argv = dockerLog.exists() ? dockerLog.readLines() : []
check('docker: --volumes-from the agent container, version picks the image',
    argv && argv.join(' ').contains('--volumes-from jenkins-agent') && !argv.contains('-v') &&
    argv.last() == 'ghcr.io/chaos-gate/chaos-gate:v0.2.0', argv)

// 8. Windows agent: powershell, never sh; removes the old report first.
r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'checkout-pod-delete'], [windows: true])
check('windows: powershell runs the binary, old report removed first',
    r.calls == ['powershell'] && r.code == 0 && r.scripts[0].contains('Remove-Item -LiteralPath $junit') &&
    r.scripts[0].contains('exit $LASTEXITCODE'), r.calls)
r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'checkout-pod-delete', useDocker: true],
    [windows: true])
check('windows: useDocker is refused with a message', r.error?.contains('needs a Unix agent'), r.error)

// 9. A secret as a plain value is refused before anything runs.
r = runStep(loader, cc, stepFile, work, base + [experiment_id: 'x', api_key: 'plain'], [:])
check('plain secret refused', r.error?.contains("'api_key' is a secret") && r.calls.isEmpty(), r.error)

println()
if (failures) {
    println "jenkins step checks: ${failures.size()} of ${passed + failures.size()} FAILED: ${failures.join('; ')}"
    System.exit(1)
}
println "jenkins step checks: all ${passed} ok"
