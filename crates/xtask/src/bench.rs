//! `cargo xtask bench [--quick] [--host] [--gate PATH] [--only SECTION,...]
//! [--sizes N,...]`: what the gate costs a pipeline, each figure next to its
//! target.
//!
//! Builds the release binaries, writes scenarios for the simulator under
//! target/bench, runs chaos-gate (and, for comparison, the curl + jq loop
//! in bench/harness-recipe.sh that follows Harness's documented recipe)
//! against a fresh `chaos-sim` process per run, and reads the cost from two
//! sides: the simulator's records (bytes sent per request, when a run was
//! first shown finished) and `wait4` on each child (CPU time, peak RSS,
//! exit instant). bench/README.md explains every figure.
//!
//! The gate measured is the static musl binary when that target is
//! installed: it is what the image and the Linux release archives ship.
//! `--host` measures the host build instead, `--gate PATH` a binary built
//! elsewhere (another release profile, say) without building one.
//!
//! `--quick` is the smoke run `.ci/run` makes: smaller sizes, fewer
//! repetitions, and an error only when the bench itself breaks. The full
//! run fails when a target is not met, so a regression shows.
//!
//! `--only` runs some of the sections (see [`SECTIONS`]) and `--sizes` sets
//! the N sweep's sizes, to measure one figure again without the whole run.

mod child;
mod scaling;
mod scenario;
mod table;

pub use child::{MEASURE_TASK, measure_main};

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::sim::{Recorded, Sim};
use child::Usage;
use scenario::Experiment;
use table::Table;

const MUSL: &str = "x86_64-unknown-linux-musl";
/// Where the Dockerfile's runtime image gets its CA bundle from (the Debian
/// builder); this machine's copy stands in for it.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Decimal megabytes: the stricter reading of "MB" in the targets.
const MB: f64 = 1_000_000.0;

/// The ordinary run: three faults, seen over ten status polls.
const ORDINARY_POLLS: usize = 10;
const ORDINARY_FAULTS: usize = 3;
/// A 10-minute gate polling every 5 s.
const LONG_GATE_POLLS: usize = 120;
/// The large `executionData` the memory target is set for (a tenth of it
/// in a quick run).
const LARGE_EXECUTION_DATA: usize = 50_000_000;

pub struct Options {
    quick: bool,
    host: bool,
    gate: Option<PathBuf>,
    /// `--only`: the names of the sections to run; all of them when empty.
    only: Vec<&'static str>,
    /// `--sizes`: the N sweep's sizes, instead of its default ones.
    sizes: Option<Vec<usize>>,
}

/// What one section measures, into the table.
type Section = fn(&Bench, &mut Table) -> Result<(), String>;

/// The sections of a run, in the order they run, by the names `--only`
/// takes.
const SECTIONS: &[(&str, Section)] = &[
    ("ordinary", Bench::ordinary_run),
    ("wire", Bench::first_request_and_wire),
    ("scaling", Bench::scaling),
    ("latency", Bench::decision_latency),
    ("execution-data", Bench::large_execution_data),
    ("argo", Bench::argo_execution_data),
    ("start-up", Bench::start_up),
    ("long-gate", Bench::long_gate_cpu),
    ("size", Bench::size),
];

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        use lexopt::Arg::Long;
        let mut options = Options {
            quick: false,
            host: false,
            gate: None,
            only: Vec::new(),
            sizes: None,
        };
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(|e| format!("bench: {e}"))? {
            match arg {
                Long("quick") => options.quick = true,
                Long("host") => options.host = true,
                Long("gate") => {
                    let path = crate::value(&mut parser, "bench", "--gate")?;
                    let path = std::fs::canonicalize(&path)
                        .map_err(|e| format!("bench: --gate {path}: {e}"))?;
                    options.gate = Some(path);
                }
                Long("only") => {
                    for name in crate::value(&mut parser, "bench", "--only")?.split(',') {
                        let (known, _) = SECTIONS
                            .iter()
                            .find(|(known, _)| *known == name.trim())
                            .ok_or_else(|| {
                            format!(
                                "bench: --only: no section {name:?} (sections: {})",
                                section_names()
                            )
                        })?;
                        options.only.push(known);
                    }
                }
                Long("sizes") => {
                    let list = crate::value(&mut parser, "bench", "--sizes")?;
                    let sizes = list
                        .split(',')
                        .map(|n| n.trim().replace('_', "").parse::<usize>())
                        .collect::<Result<Vec<_>, _>>()
                        .ok()
                        .filter(|sizes| sizes.iter().all(|&n| n > 0))
                        .ok_or_else(|| {
                            format!(
                                "bench: --sizes {list:?}: give numbers of experiments above 0, \
                                 comma-separated (like 500,5000)"
                            )
                        })?;
                    options.sizes = Some(sizes);
                }
                other => {
                    return Err(format!(
                        "bench: {}; it takes --quick, --host, --gate PATH, \
                         --only SECTION,... ({}) and --sizes N,...",
                        other.unexpected(),
                        section_names()
                    ));
                }
            }
        }
        Ok(options)
    }

    /// Whether the section `name` is to run.
    fn runs(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.contains(&name)
    }

    /// Repetitions for medians.
    fn reps(&self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

pub fn run(options: Options) -> Result<(), String> {
    let bench = Bench::prepare(options)?;
    let mut table = Table::default();
    println!("\n==> measuring");
    for (name, section) in SECTIONS {
        if bench.options.runs(name) {
            section(&bench, &mut table)?;
        }
    }

    let report = bench.out.join("report.md");
    let markdown = format!("{}\n\n{}", bench.describe(), table.markdown());
    std::fs::write(&report, markdown)
        .map_err(|e| format!("cannot write {}: {e}", report.display()))?;
    println!("\n==> results ({})\n", bench.describe());
    println!("{}", table.console());
    println!("\nMarkdown: {}", report.display());
    let missed = table.not_met();
    if missed.is_empty() {
        println!("every target is met");
        return Ok(());
    }
    if bench.options.quick {
        println!(
            "{} target(s) NOT MET (a --quick run only checks that the bench works)",
            missed.len()
        );
        return Ok(());
    }
    Err(format!(
        "{} target(s) NOT MET: {}",
        missed.len(),
        missed.join("; ")
    ))
}

/// The names `--only` takes, for messages.
fn section_names() -> String {
    SECTIONS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The binaries, the output folder and the options of one bench run.
struct Bench {
    options: Options,
    root: PathBuf,
    /// target/bench: scenarios, logs, JUnit files, the report.
    out: PathBuf,
    /// The chaos-gate binary the run-time figures are measured on.
    gate: Binary,
    /// The one whose size is reported: the static build when there is one.
    shipped: Binary,
    sim: PathBuf,
}

impl Bench {
    /// Builds what is measured and creates target/bench.
    fn prepare(options: Options) -> Result<Bench, String> {
        let root = crate::root()?;
        let target = target_dir(&root);
        let out = target.join("bench");
        for dir in ["scenarios", "logs", "junit"] {
            let d = out.join(dir);
            std::fs::create_dir_all(&d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        println!("==> building");
        // A full run measures against a release simulator, so its own
        // overhead stays out of the latency figure; the smoke run reuses
        // the debug one `cargo test` has already built.
        let sim_profile = if options.quick { "debug" } else { "release" };
        let mut sim_build = vec!["build", "--locked", "-p", "chaos-sim"];
        if !options.quick {
            sim_build.push("--release");
        }
        cargo(&root, &sim_build, &[])?;
        let sim = target.join(sim_profile).join("chaos-sim");

        let (gate, shipped) = match &options.gate {
            Some(path) => {
                let given = Binary {
                    path: path.clone(),
                    kind: "given",
                };
                (given.clone(), given)
            }
            None => build_gate(&root, &target, options.host)?,
        };
        Ok(Bench {
            options,
            root,
            out,
            gate,
            shipped,
            sim,
        })
    }

    /// One line saying what was measured where.
    fn describe(&self) -> String {
        let kind = self.gate.kind;
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let mut mode = if self.options.quick { "quick" } else { "full" }.to_string();
        mode += " run";
        if !self.options.only.is_empty() {
            mode += &format!(", {} only", self.options.only.join(", "));
        }
        if let Some(sizes) = &self.options.sizes {
            let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
            mode += &format!(", N = {}", sizes.join(", "));
        }
        format!(
            "{mode}; {kind} release build of chaos-gate ({}); {cores} cores",
            self.gate.path.display()
        )
    }

    /// Where the measuring wrapper writes a child's figures.
    fn usage_report(&self) -> PathBuf {
        self.out.join("usage.txt")
    }

    /// Writes a scenario file and returns its path.
    fn scenario(&self, name: &str, experiments: &[Experiment]) -> Result<PathBuf, String> {
        let path = self.out.join("scenarios").join(format!("{name}.toml"));
        scenario::write(&path, experiments)?;
        Ok(path)
    }

    /// A fresh simulator serving `scenario`, logging to logs/<name>-sim.log.
    fn start_sim(&self, scenario: &Path, name: &str) -> Result<Sim, String> {
        let log = self.out.join("logs").join(format!("{name}-sim.log"));
        Sim::start(&self.sim, scenario, Some(&log))
    }

    /// logs/<name>.log, as a child's stdout and stderr.
    fn log(&self, name: &str) -> Result<(Stdio, Stdio), String> {
        let path = self.out.join("logs").join(format!("{name}.log"));
        let file =
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let copy = file
            .try_clone()
            .map_err(|e| format!("cannot reopen {}: {e}", path.display()))?;
        Ok((Stdio::from(file), Stdio::from(copy)))
    }

    /// chaos-gate on `experiments` (comma-separated) against `url`, with an
    /// environment holding only its settings: no CI host is detected, and
    /// nothing of the caller's leaks in. Output goes to logs/<name>.log.
    fn gate(
        &self,
        url: &str,
        experiments: &str,
        poll: &str,
        name: &str,
    ) -> Result<Command, String> {
        let (stdout, stderr) = self.log(name)?;
        let mut c = child::command(&self.gate.path, &self.usage_report())?;
        c.env_clear()
            .env("CHAOS_GATE_ENDPOINT", url)
            .env("CHAOS_GATE_API_KEY", scenario::API_KEY)
            .env("CHAOS_GATE_ACCOUNT_ID", scenario::ACCOUNT)
            .env("CHAOS_GATE_PROJECT_ID", scenario::PROJECT)
            .env("CHAOS_GATE_EXPERIMENT_ID", experiments)
            .env(
                "CHAOS_GATE_EXPECTED_RESILIENCE_SCORE",
                scenario::EXPECTED.to_string(),
            )
            .env("CHAOS_GATE_POLL_INTERVAL", poll)
            .env("CHAOS_GATE_TIMEOUT", "15m")
            .env(
                "CHAOS_GATE_JUNIT_PATH",
                self.out.join("junit").join(format!("{name}.xml")),
            )
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        Ok(c)
    }

    /// bench/harness-recipe.sh on `experiment` against `url`; the caller's
    /// PATH is kept so it finds bash, curl and jq.
    fn baseline(
        &self,
        url: &str,
        experiment: &str,
        poll: &str,
        name: &str,
    ) -> Result<Command, String> {
        let (stdout, stderr) = self.log(name)?;
        let mut c = child::command("bash", &self.usage_report())?;
        c.arg(self.root.join("bench").join("harness-recipe.sh"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ENDPOINT", url)
            .env("API_KEY", scenario::API_KEY)
            .env("ACCOUNT_ID", scenario::ACCOUNT)
            .env("PROJECT_ID", scenario::PROJECT)
            .env("EXPERIMENT_ID", experiment)
            .env("EXPECTED_SCORE", scenario::EXPECTED.to_string())
            .env("POLL_INTERVAL", poll)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        Ok(c)
    }

    /// Runs a command that must exit with `code`; anything else means the
    /// bench is broken, and the error points at the log.
    fn expect(&self, command: &mut Command, code: i32, name: &str) -> Result<Usage, String> {
        let usage = child::run(command, &self.usage_report())?;
        if usage.code != Some(code) {
            let log = self.out.join("logs").join(format!("{name}.log"));
            let see = if log.exists() {
                format!(" (see {})", log.display())
            } else {
                String::new()
            };
            return Err(format!(
                "{name}: exit {:?}, expected {code}{see}",
                usage.code
            ));
        }
        Ok(usage)
    }

    /// Runs chaos-gate and the baseline on the same ordinary run (three
    /// faults, ten status polls), both polling every 0.2 s so that only
    /// what a poll costs differs.
    fn compare_with_baseline(&self) -> Result<Comparison, String> {
        baseline_tools_present()?;
        let id = "b0000000-0000-4000-8000-000000000001";
        let path = self.scenario(
            "ordinary",
            &[Experiment::new(id, ORDINARY_POLLS, ORDINARY_FAULTS)],
        )?;
        // Bytes do not change between repetitions; CPU time is a median.
        let reps = self.options.reps(3, 1);
        let (mut ours, mut theirs) = (None, None);
        let (mut gate_cpu, mut base_cpu) = (Vec::new(), Vec::new());
        let mut peak: Option<Usage> = None;
        for i in 0..reps {
            let name = format!("ordinary-gate-{i}");
            let sim = self.start_sim(&path, &name)?;
            let gate = self.expect(&mut self.gate(&sim.url, id, "0.2s", &name)?, 0, &name)?;
            ours.get_or_insert(Traffic::of(&sim.requests()?));
            gate_cpu.push(gate.cpu);
            if peak.is_none_or(|p| gate.max_rss_bytes > p.max_rss_bytes) {
                peak = Some(gate);
            }
            drop(sim);

            let name = format!("ordinary-baseline-{i}");
            let sim = self.start_sim(&path, &name)?;
            let base = self.expect(&mut self.baseline(&sim.url, id, "0.2", &name)?, 0, &name)?;
            theirs.get_or_insert(Traffic::of(&sim.requests()?));
            base_cpu.push(base.cpu);
        }
        match (ours, theirs, peak) {
            (Some(ours), Some(theirs), Some(peak)) if ours.polls > 0 && theirs.polls > 0 => {
                Ok(Comparison {
                    ours,
                    theirs,
                    gate_cpu: child::median(&mut gate_cpu),
                    base_cpu: child::median(&mut base_cpu),
                    peak,
                    reps,
                })
            }
            _ => Err("no status polls were recorded on the ordinary run".into()),
        }
    }

    /// Bytes per status poll and per run, peak RSS of an ordinary run, and
    /// the baseline's CPU time and bytes on the same run.
    fn ordinary_run(&self, table: &mut Table) -> Result<(), String> {
        let Comparison {
            ours,
            theirs,
            gate_cpu,
            base_cpu,
            peak,
            reps,
        } = self.compare_with_baseline()?;
        table.info(
            "bytes per status poll, chaos-gate",
            format!("{:.0} B ({} polls)", ours.per_poll(), ours.polls),
        );
        table.info(
            "bytes per status poll, baseline (recipe's query)",
            format!("{:.0} B ({} polls)", theirs.per_poll(), theirs.polls),
        );
        let ratio = theirs.per_poll() / ours.per_poll();
        table.check(
            "bytes per status poll: baseline / chaos-gate",
            format!("{ratio:.1}x fewer"),
            ">= 20x fewer",
            ratio >= 20.0,
        );
        table.info(
            "bytes per run (trigger, polls, executionData once)",
            format!(
                "chaos-gate {} B (executionData {} B), baseline {} B: {:.1}x fewer",
                ours.total_bytes,
                ours.execution_data_bytes,
                theirs.total_bytes,
                theirs.total_bytes as f64 / ours.total_bytes.max(1) as f64
            ),
        );
        table.check(
            "peak RSS, ordinary run",
            rss(&peak),
            "< 15 MB",
            (peak.max_rss_bytes as f64) < 15.0 * MB,
        );
        table.info(
            "CPU time for the run: baseline / chaos-gate",
            format!(
                "{:.1}x less ({} vs {}, medians of {reps})",
                base_cpu.as_secs_f64() / gate_cpu.as_secs_f64().max(1e-6),
                ms(base_cpu),
                ms(gate_cpu)
            ),
        );
        Ok(())
    }

    /// From the simulator first serving a terminal phase to the gate's
    /// exit, with a 1 s poll interval.
    fn decision_latency(&self, table: &mut Table) -> Result<(), String> {
        let id = "b0000000-0000-4000-8000-000000000002";
        let path = self.scenario("latency", &[Experiment::new(id, 3, ORDINARY_FAULTS)])?;
        let mut latencies = Vec::new();
        for i in 0..self.options.reps(5, 2) {
            let name = format!("latency-{i}");
            let sim = self.start_sim(&path, &name)?;
            let usage = self.expect(&mut self.gate(&sim.url, id, "1s", &name)?, 0, &name)?;
            let terminal = sim
                .runs()?
                .first()
                .and_then(|r| r.terminal_at_unix_ms)
                .ok_or_else(|| format!("{name}: the simulator never served a terminal phase"))?;
            latencies.push(Duration::from_millis(
                usage.exited_at_unix_ms.saturating_sub(terminal),
            ));
        }
        let worst = latencies.iter().max().copied().unwrap_or_default();
        let n = latencies.len();
        let median = child::median(&mut latencies);
        table.check(
            "decision latency, poll interval 1 s",
            format!("median {}, max {} ({n} runs)", ms(median), ms(worst)),
            "<= 1050 ms (1 poll interval + 50 ms)",
            median <= Duration::from_millis(1050),
        );
        Ok(())
    }

    /// Peak RSS against the size of the answer carrying a large
    /// `executionData`.
    fn large_execution_data(&self, table: &mut Table) -> Result<(), String> {
        let pad = if self.options.quick {
            LARGE_EXECUTION_DATA / 10
        } else {
            LARGE_EXECUTION_DATA
        };
        let id = "b0000000-0000-4000-8000-000000000003";
        let path = self.scenario(
            "large",
            &[Experiment::new(id, 3, ORDINARY_FAULTS).with_execution_data(pad)],
        )?;
        let sim = self.start_sim(&path, "large")?;
        let usage = self.expect(&mut self.gate(&sim.url, id, "0.2s", "large")?, 0, "large")?;
        let response = sim
            .requests()?
            .iter()
            .filter(|r| r.is_execution_data())
            .map(|r| r.response_bytes)
            .max()
            .ok_or("large: chaos-gate never asked for executionData")?;
        let ratio = usage.max_rss_bytes as f64 / response as f64;
        let figure = format!("peak RSS, {:.0} MB executionData", pad as f64 / MB);
        let measured = format!(
            "{} = {ratio:.2}x the {:.1} MB answer (CPU {})",
            rss(&usage),
            response as f64 / MB,
            ms(usage.cpu)
        );
        if pad == LARGE_EXECUTION_DATA {
            table.check(&figure, measured, "< 2.5x the answer", ratio < 2.5);
        } else {
            // The target is set for 50 MB; on a smaller answer the process's
            // fixed few MB weigh in and the ratio says little.
            table.info(&figure, format!("{measured}; the 2.5x target is for 50 MB"));
        }
        Ok(())
    }

    /// Wall time of `--version` and of a settings error, median of many.
    fn start_up(&self, table: &mut Table) -> Result<(), String> {
        let reps = self.options.reps(30, 5);
        let cases = [
            StartUp {
                figure: "start-up: chaos-gate --version",
                args: &["--version"],
                env: &[],
                code: 0,
            },
            // Every setting right but one, as a typo in a pipeline would be.
            StartUp {
                figure: "start-up: settings error (exit 2)",
                args: &[],
                env: &[
                    ("CHAOS_GATE_API_KEY", scenario::API_KEY),
                    ("CHAOS_GATE_ACCOUNT_ID", scenario::ACCOUNT),
                    ("CHAOS_GATE_PROJECT_ID", scenario::PROJECT),
                    (
                        "CHAOS_GATE_EXPERIMENT_ID",
                        "b0000000-0000-4000-8000-000000000001",
                    ),
                    ("CHAOS_GATE_TIMEOUT", "x"),
                ],
                code: 2,
            },
        ];
        for StartUp {
            figure,
            args,
            env,
            code,
        } in cases
        {
            let command = || -> Result<Command, String> {
                let mut c = child::command(&self.gate.path, &self.usage_report())?;
                c.args(args)
                    .env_clear()
                    .envs(env.iter().copied())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                Ok(c)
            };
            // One unmeasured run first: the binary comes from the page
            // cache afterwards, as on a CI runner that pulled the image.
            self.expect(&mut command()?, code, "start-up")?;
            let mut walls = Vec::new();
            for _ in 0..reps {
                walls.push(self.expect(&mut command()?, code, "start-up")?.wall);
            }
            let median = child::median(&mut walls);
            table.check(
                figure,
                format!("{} median of {reps}", ms(median)),
                "< 10 ms",
                median < Duration::from_millis(10),
            );
        }
        Ok(())
    }

    /// Total CPU time of a gate that polls 120 times, as a 10-minute gate
    /// polling every 5 s does. The polls come every 50 ms here so the run
    /// takes seconds: what is measured is the CPU per poll, which does not
    /// depend on the wait between polls.
    fn long_gate_cpu(&self, table: &mut Table) -> Result<(), String> {
        let id = "b0000000-0000-4000-8000-000000000004";
        let path = self.scenario(
            "long",
            &[Experiment::new(id, LONG_GATE_POLLS, ORDINARY_FAULTS)],
        )?;
        let reps = self.options.reps(3, 1);
        let mut cpus = Vec::new();
        for i in 0..reps {
            let name = format!("long-{i}");
            let sim = self.start_sim(&path, &name)?;
            let usage = self.expect(&mut self.gate(&sim.url, id, "100ms", &name)?, 0, &name)?;
            let polls = sim
                .requests()?
                .iter()
                .filter(|r| r.is_status_poll())
                .count();
            if polls != LONG_GATE_POLLS {
                return Err(format!(
                    "{name}: {polls} status polls, expected {LONG_GATE_POLLS}"
                ));
            }
            cpus.push(usage.cpu);
        }
        let cpu = child::median(&mut cpus);
        let polls = LONG_GATE_POLLS;
        table.check(
            "CPU time, 10-minute gate polling every 5 s",
            format!(
                "{} for {polls} polls, median of {reps} ({:.2} ms per poll; polled every 50 ms here)",
                ms(cpu),
                cpu.as_secs_f64() * 1000.0 / polls as f64
            ),
            "< 100 ms",
            cpu < Duration::from_millis(100),
        );
        Ok(())
    }

    /// The stripped release binary, and the image as the Dockerfile
    /// assembles it: that binary plus the CA bundle, on `scratch`.
    fn size(&self, table: &mut Table) -> Result<(), String> {
        let (binary, what) = (&self.shipped.path, self.shipped.kind);
        // Stripped as the Dockerfile does, whatever the profile did.
        let stripped = self.out.join("chaos-gate.stripped");
        std::fs::copy(binary, &stripped)
            .map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
        let strip = Command::new("strip").arg(&stripped).status();
        let note = match strip {
            Ok(s) if s.success() => "",
            _ => " (strip failed: unstripped size)",
        };
        let bytes = file_size(&stripped)?;
        table.check(
            &format!("size: stripped {what} release binary"),
            format!("{:.2} MB{note}", bytes as f64 / MB),
            "< 8 MB",
            (bytes as f64) < 8.0 * MB,
        );
        match file_size(Path::new(CA_BUNDLE)) {
            Ok(ca) => table.check(
                "size: container image (binary + CA bundle)",
                format!(
                    "{:.2} MB ({:.2} MB CA bundle)",
                    (bytes + ca) as f64 / MB,
                    ca as f64 / MB
                ),
                "< 15 MB",
                ((bytes + ca) as f64) < 15.0 * MB,
            ),
            Err(e) => table.info("size: container image", format!("not measured: {e}")),
        }
        Ok(())
    }
}

/// One start-up case: how chaos-gate is invoked and the exit it must give.
struct StartUp {
    figure: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    code: i32,
}

/// A chaos-gate binary and what it is, for the report.
#[derive(Clone)]
struct Binary {
    path: PathBuf,
    kind: &'static str,
}

/// Builds chaos-gate for release; returns the binary the figures are
/// measured on and the one whose size is reported. Both are the static musl
/// build when that target is installed (`host` measures the host build,
/// sizing still the static one); without it, both are the host build.
///
/// chaos-gate is built on its own, as the Dockerfile does: built together
/// with chaos-sim, its dependencies would get the union of both crates'
/// features, a different binary.
fn build_gate(root: &Path, target: &Path, host: bool) -> Result<(Binary, Binary), String> {
    let host_build = |kind| -> Result<Binary, String> {
        cargo(
            root,
            &["build", "--locked", "--release", "-p", "chaos-gate"],
            &[],
        )?;
        Ok(Binary {
            path: target.join("release").join("chaos-gate"),
            kind,
        })
    };
    if !musl_installed() {
        println!(
            "    the {MUSL} target is not installed (rustup target add {MUSL}): \
             measuring the host build, size included"
        );
        let host = host_build("host (no musl target)")?;
        return Ok((host.clone(), host));
    }
    cargo(
        root,
        &[
            "build",
            "--locked",
            "--release",
            "--target",
            MUSL,
            "-p",
            "chaos-gate",
        ],
        &musl_cc(),
    )?;
    let static_build = || Binary {
        path: target.join(MUSL).join("release").join("chaos-gate"),
        kind: "static",
    };
    let measured = if host {
        host_build("host")?
    } else {
        static_build()
    };
    Ok((measured, static_build()))
}

/// chaos-gate and the baseline on the same run.
struct Comparison {
    ours: Traffic,
    theirs: Traffic,
    gate_cpu: Duration,
    base_cpu: Duration,
    /// chaos-gate's run with the highest peak RSS.
    peak: Usage,
    reps: usize,
}

/// What the simulator sent one gate, by kind of request.
struct Traffic {
    /// Status polls (`listWorkflowRun` asking for the phase).
    polls: u64,
    poll_bytes: u64,
    execution_data_bytes: u64,
    /// Every answer, triggers and executionData included.
    total_bytes: u64,
}

impl Traffic {
    fn of(requests: &[Recorded]) -> Traffic {
        let polls: Vec<&Recorded> = requests.iter().filter(|r| r.is_status_poll()).collect();
        Traffic {
            polls: polls.len() as u64,
            poll_bytes: polls.iter().map(|r| r.response_bytes).sum(),
            execution_data_bytes: requests
                .iter()
                .filter(|r| r.is_execution_data())
                .map(|r| r.response_bytes)
                .sum(),
            total_bytes: requests.iter().map(|r| r.response_bytes).sum(),
        }
    }

    fn per_poll(&self) -> f64 {
        self.poll_bytes as f64 / self.polls.max(1) as f64
    }
}

/// A child's peak RSS in MB, or the bound it is under when it did not
/// exceed the measuring process's own (see bench/child.rs).
fn rss(usage: &Usage) -> String {
    let mb = usage.max_rss_bytes as f64 / MB;
    if usage.rss_is_exact() {
        format!("{mb:.1} MB")
    } else {
        format!("<= {mb:.1} MB (the measuring process's own peak)")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Cargo's target directory: CARGO_TARGET_DIR when set, else target/.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// Fails early, with what to install, when the baseline cannot run.
fn baseline_tools_present() -> Result<(), String> {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Err(format!(
                "the baseline (bench/harness-recipe.sh) needs bash, curl and jq; {tool} is not on PATH"
            ));
        }
    }
    Ok(())
}

/// Runs cargo in the workspace with extra environment variables.
fn cargo(root: &Path, args: &[&str], env: &[(String, String)]) -> Result<(), String> {
    println!("    cargo {}", args.join(" "));
    let status = Command::new(crate::cargo())
        .current_dir(root)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed (see above)", args.join(" ")))
    }
}

/// Whether the standard library for the musl target is installed.
fn musl_installed() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let sysroot = String::from_utf8_lossy(&o.stdout).trim().to_string();
            Path::new(&sysroot)
                .join("lib/rustlib")
                .join(MUSL)
                .join("lib")
                .is_dir()
        })
        .unwrap_or(false)
}

/// The C compiler for ring's C parts on musl, as .ci/run chooses it, unless
/// the caller already set one.
fn musl_cc() -> Vec<(String, String)> {
    const VAR: &str = "CC_x86_64_unknown_linux_musl";
    if std::env::var_os(VAR).is_some() {
        return Vec::new();
    }
    let has_musl_gcc = Command::new("musl-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let cc = if has_musl_gcc { "musl-gcc" } else { "gcc" };
    vec![(VAR.to_string(), cc.to_string())]
}
