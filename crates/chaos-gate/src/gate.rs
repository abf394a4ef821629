//! The gate's state machine: trigger (or attach), poll until every run has
//! finished, judge, and on timeout, cancellation or a platform failure stop
//! what is still going.
//!
//! The gate owns the list of runs it started, so whatever ends it (a
//! verdict, the deadline, a signal, a broken platform) it knows exactly
//! which runs to stop. Every `await` on the platform races the `abort`
//! future; nothing can keep the gate from reacting to a signal or the
//! deadline except the bounded grace and stop windows below.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, MissedTickBehavior};

use crate::manifest::Manifest;
use crate::platform::{Platform, PlatformError, RunRef, RunStatus, SaveRequest};
use crate::report::{
    Baseline, Event, EventSink, ExperimentReport, GateReport, ProgressKind, SyncAction, SyncReport,
};
use crate::settings::Mode;
use crate::text::one_line;
use crate::verdict::{Evidence, Outcome, PhaseClass, Rules, RunVerdict, Signal, judge};

/// How long triggers already sent may still answer after an abort, so that
/// a run started at the last moment is known and can be stopped.
const TRIGGER_GRACE: Duration = Duration::from_millis(1500);
/// How long to look for the run of a trigger an abort cut off.
const CUT_TRIGGER_LOOK: Duration = Duration::from_secs(1);
/// All stops together get this long (README "Failure behaviour").
const STOP_BUDGET: Duration = Duration::from_secs(2);
/// A heartbeat after this many polls without any change.
const HEARTBEAT_POLLS: u32 = 6;
/// How often, and how far apart, a lost trigger's run is looked for before
/// concluding that it did not start: a run may be listed late.
const FIND_ATTEMPTS: u32 = 4;
const FIND_PAUSE: Duration = Duration::from_secs(1);
/// While a run to stop has no run ID yet (ChaosCenter: still `Queued`), it
/// is polled this often for one, and the search ends this long before the
/// stop budget does, so that the stop itself still fits.
const RUN_ID_PAUSE: Duration = Duration::from_millis(150);
const STOP_SEND_MARGIN: Duration = Duration::from_millis(400);
/// After a stop on timeout or platform failure, how long the stopped runs
/// are polled for a finished phase (README "Failure behaviour"), and how often.
const CONFIRM_BUDGET: Duration = Duration::from_secs(10);
const CONFIRM_PAUSE: Duration = Duration::from_millis(500);
/// Allowance for the platform's clock being behind ours when looking for a
/// run "created since the gate started".
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Why a gate ended before every run finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abort {
    Timeout,
    Signal(Signal),
}

/// What the gate is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub experiments: Vec<String>,
    /// How finished runs are judged.
    pub rules: Rules,
    /// Read each experiment's last N finished runs for its baseline.
    pub baseline_runs: u32,
    pub poll_interval: Duration,
    pub timeout: Duration,
    pub stop_on_abort: bool,
    pub endpoint: String,
}

/// A run being watched.
struct Watched {
    run: RunRef,
    phase: Option<String>,
    /// What the last phase seen means (the platform's mapping).
    class: PhaseClass,
    score: Option<f64>,
    error: Option<String>,
    started: Instant,
    warned_phases: Vec<String>,
    listed: bool,
    /// Whether this gate stopped the run: `Some(true)` confirmed,
    /// `Some(false)` a stop sent (or due) but not confirmed, `None` no stop.
    stopped: Option<bool>,
    baseline: Option<Baseline>,
    result: Option<ExperimentReport>,
}

impl Watched {
    fn new(experiment_id: &str, notify_id: String, run_id: Option<String>) -> Watched {
        Watched {
            run: RunRef {
                experiment_id: experiment_id.to_string(),
                notify_id,
                run_id,
            },
            phase: None,
            class: PhaseClass::Going,
            score: None,
            error: None,
            started: Instant::now(),
            warned_phases: Vec::new(),
            listed: false,
            stopped: None,
            baseline: None,
            result: None,
        }
    }

    fn finish(&mut self, verdict: RunVerdict, message: String, link: Option<String>) {
        let notify_id = Some(self.run.notify_id.clone());
        self.result = Some(ExperimentReport {
            run_id: self.run.run_id.clone(),
            link,
            phase: self.phase.clone(),
            phase_class: self.phase.as_ref().map(|_| self.class),
            score: self.score,
            duration: self.started.elapsed(),
            baseline: self.baseline.clone(),
            stopped: self.stopped,
            ..ExperimentReport::without_run(&self.run.experiment_id, notify_id, verdict, message)
        });
    }
}

type AbortFuture<'a> = Pin<Box<dyn Future<Output = Abort> + Send + 'a>>;

/// One gate run: the platform, the plan, where events go, and what aborts it.
pub struct Gate<'a, P: Platform> {
    platform: &'a P,
    plan: &'a Plan,
    sink: &'a mut dyn EventSink,
    abort: AbortFuture<'a>,
    /// Watch the run with this notify ID instead of triggering.
    attach: Option<&'a str>,
    started_at: SystemTime,
    started: Instant,
    watched: Vec<Watched>,
    /// Whether a status poll has ever been answered: a platform that never
    /// answered one before the deadline is a platform error, not a timeout.
    answered: bool,
    /// Experiments that never got a run (their trigger failed or was cut).
    unstarted: Vec<(String, RunVerdict, String)>,
    /// Each experiment's baseline, read before anything is triggered.
    baselines: HashMap<String, Baseline>,
    /// A status poll failed for good: the platform is not asked again.
    poll_failed: bool,
    outcome: Outcome,
}

impl<'a, P: Platform> Gate<'a, P> {
    pub fn new(
        platform: &'a P,
        plan: &'a Plan,
        sink: &'a mut dyn EventSink,
        abort: impl Future<Output = Abort> + Send + 'a,
    ) -> Self {
        Gate {
            platform,
            plan,
            sink,
            abort: Box::pin(abort),
            attach: None,
            started_at: SystemTime::now(),
            started: Instant::now(),
            watched: Vec::new(),
            answered: false,
            unstarted: Vec::new(),
            baselines: HashMap::new(),
            poll_failed: false,
            outcome: Outcome::default(),
        }
    }

    /// Watches the run already triggered with `notify_id` instead of
    /// triggering.
    pub fn attaching(mut self, notify_id: &'a str) -> Self {
        self.attach = Some(notify_id);
        self
    }

    /// Runs the gate to its end and returns the report.
    pub async fn run(mut self) -> GateReport {
        self.sink.emit(&Event::Started {
            platform: self.platform.name(),
            endpoint: &self.plan.endpoint,
            experiments: &self.plan.experiments,
            attach: self.attach,
            threshold: self.plan.rules.threshold,
            timeout: self.plan.timeout,
            poll_interval: self.plan.poll_interval,
            dry_run: false,
        });
        if let Err(end) = self.read_baselines().await {
            self.end(end).await;
        } else if let Err(end) = self.start_runs().await {
            self.end(end).await;
        } else if let Err(end) = self.watch().await {
            self.end(end).await;
        }
        self.report()
    }

    /// Reads each experiment's recent runs for its baseline (one request
    /// per experiment, all at once) before anything is triggered, so that
    /// no run of this gate can be among them. A baseline that cannot be
    /// read is a warning: the run is then judged without one.
    async fn read_baselines(&mut self) -> Result<(), End> {
        let n = self.plan.baseline_runs;
        if n == 0 {
            return Ok(());
        }
        // Past the N wanted, room for runs that failed or are still going.
        let limit = n.saturating_mul(2).saturating_add(10).min(100);
        let platform = self.platform;
        let reads = futures_util::future::join_all(
            self.plan
                .experiments
                .iter()
                .map(|e| platform.recent_runs(e, limit)),
        );
        let results = tokio::select! {
            biased;
            a = &mut self.abort => return Err(End::Abort(a)),
            r = reads => r,
        };
        for (e, result) in self.plan.experiments.iter().zip(results) {
            match result {
                Ok(runs) => match crate::verdict::baseline(&runs, n, self.started_at) {
                    Some(b) => {
                        self.sink.emit(&Event::BaselineRead {
                            experiment_id: e,
                            baseline: Some(&b),
                            wanted: n,
                        });
                        self.baselines.insert(e.clone(), b);
                    }
                    None => self.sink.emit(&Event::BaselineRead {
                        experiment_id: e,
                        baseline: None,
                        wanted: n,
                    }),
                },
                Err(err @ PlatformError::Auth { .. }) => return Err(End::Platform(err)),
                Err(err) => {
                    let message = format!(
                        "{e}: no baseline, its recent runs could not be read ({})",
                        err
                    );
                    self.sink.emit(&Event::Warning { message: &message });
                }
            }
        }
        Ok(())
    }

    /// Triggers every experiment at once, or attaches to the given run.
    async fn start_runs(&mut self) -> Result<(), End> {
        if let Some(notify_id) = self.attach {
            let experiment_id = self.plan.experiments.first().cloned().unwrap_or_default();
            self.sink.emit(&Event::Attached {
                experiment_id: &experiment_id,
                notify_id,
            });
            self.watched
                .push(Watched::new(&experiment_id, notify_id.to_string(), None));
            return Ok(());
        }
        let platform = self.platform;
        let since = self
            .started_at
            .checked_sub(CLOCK_SKEW)
            .unwrap_or(self.started_at);
        // At most MAX_IN_FLIGHT triggers at a time (the connection bound);
        // once aborted, a trigger not yet sent is not sent at all, and only
        // those sent (`sent[i]`) can have started a run to look for.
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        let halt = &AtomicBool::new(false);
        let sent: &Vec<AtomicBool> = &self
            .plan
            .experiments
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect();
        let triggers =
            futures_util::StreamExt::collect::<Vec<_>>(futures_util::StreamExt::buffered(
                futures_util::stream::iter(self.plan.experiments.iter().enumerate().map(
                    |(i, e)| async move {
                        if halt.load(Relaxed) {
                            return None;
                        }
                        sent[i].store(true, Relaxed);
                        Some(trigger_once(platform, e, since).await)
                    },
                )),
                crate::http::MAX_IN_FLIGHT,
            ));
        tokio::pin!(triggers);
        let (results, aborted) = tokio::select! {
            biased;
            a = &mut self.abort => {
                halt.store(true, Relaxed);
                // Let triggers already on the wire answer briefly, so their
                // runs can be stopped rather than left behind.
                let r = tokio::time::timeout(TRIGGER_GRACE, &mut triggers).await.ok();
                (r.unwrap_or_default(), Some(a))
            }
            r = &mut triggers => (r, None),
        };
        // A trigger the deadline kept from being sent (README "Failure behaviour") ends the gate
        // as timed out, and counts as cut: nothing may have started.
        let too_late = |r: &Result<Started, PlatformError>| {
            r.as_ref()
                .is_err_and(|e| matches!(e, PlatformError::TooLate { .. }))
        };
        let aborted = aborted.or(results
            .iter()
            .flatten()
            .any(too_late)
            .then_some(Abort::Timeout));
        let mut failure = None;
        for (i, experiment_id) in self.plan.experiments.iter().enumerate() {
            match results
                .get(i)
                .and_then(Option::as_ref)
                .filter(|r| !too_late(r))
            {
                Some(Ok(t)) => {
                    self.sink.emit(&Event::Triggered {
                        experiment_id,
                        notify_id: &t.notify_id,
                        link: None,
                        adopted: t.adopted,
                    });
                    self.watched.push(Watched::new(
                        experiment_id,
                        t.notify_id.clone(),
                        t.run_id.clone(),
                    ));
                }
                Some(Err(e)) => {
                    self.unstarted.push((
                        experiment_id.clone(),
                        RunVerdict::Error,
                        format!("not started: {}", e),
                    ));
                    failure.get_or_insert_with(|| e.clone());
                }
                None => {
                    // The trigger was cut before it answered: it may still
                    // have started a run. Look for one briefly, so that it
                    // is stopped with the others rather than left going.
                    // A trigger never sent has nothing to look for.
                    let found = match sent[i].load(Relaxed) {
                        true => self.find_cut_trigger(experiment_id, since).await,
                        false => None,
                    };
                    if let Some(found) = found {
                        let notify_id = found.notify_id.unwrap_or_default();
                        self.sink.emit(&Event::Triggered {
                            experiment_id,
                            notify_id: &notify_id,
                            link: None,
                            adopted: true,
                        });
                        self.watched
                            .push(Watched::new(experiment_id, notify_id, found.run_id));
                        continue;
                    }
                    let (verdict, why) = match aborted {
                        Some(Abort::Signal(s)) => (
                            RunVerdict::Cancelled,
                            format!("cancelled by {} before it started", s.name()),
                        ),
                        _ => (
                            RunVerdict::Timeout,
                            "timed out before it started".to_string(),
                        ),
                    };
                    self.unstarted.push((experiment_id.clone(), verdict, why));
                }
            }
        }
        if let Some(a) = aborted {
            // No status poll was due yet: a deadline during the triggers is
            // a timeout (4) unless the platform is failing (README "Failure behaviour").
            self.answered |= a == Abort::Timeout;
            return Err(End::Abort(a));
        }
        if let Some(e) = failure {
            return Err(End::Platform(e));
        }
        Ok(())
    }

    /// One bounded look for the run of a trigger that an abort cut off:
    /// adopted only when exactly one run of the experiment appeared.
    async fn find_cut_trigger(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Option<crate::platform::FoundRun> {
        if !self.plan.stop_on_abort {
            return None;
        }
        let found = tokio::time::timeout(
            CUT_TRIGGER_LOOK,
            self.platform.find_runs(experiment_id, since),
        )
        .await
        .ok()
        .and_then(Result::ok)?;
        match <[_; 1]>::try_from(found) {
            Ok([run]) if run.notify_id.is_some() || run.run_id.is_some() => Some(run),
            _ => None,
        }
    }

    /// Polls until every run has a verdict.
    async fn watch(&mut self) -> Result<(), End> {
        let mut ticks = tokio::time::interval(self.plan.poll_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut quiet_polls = 0u32;
        loop {
            // `biased`: when the deadline and a tick (or an answer) are
            // ready together, the deadline wins.
            tokio::select! {
                biased;
                a = &mut self.abort => return Err(End::Abort(a)),
                _ = ticks.tick() => {}
            }
            let pending: Vec<RunRef> = self
                .watched
                .iter()
                .filter(|w| w.result.is_none())
                .map(|w| w.run.clone())
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let statuses = tokio::select! {
                biased;
                a = &mut self.abort => return Err(End::Abort(a)),
                r = self.platform.poll(&pending) => r,
            };
            let statuses = statuses.map_err(|e| {
                self.poll_failed = true;
                End::Platform(e)
            })?;
            self.answered = true;
            let (changed, finished) = self.apply(&statuses);
            if !finished.is_empty() {
                self.conclude(finished).await?;
            }
            if self.watched.iter().all(|w| w.result.is_some()) {
                return Ok(());
            }
            if changed {
                quiet_polls = 0;
            } else {
                quiet_polls += 1;
                if quiet_polls.is_multiple_of(HEARTBEAT_POLLS) {
                    self.heartbeat();
                }
            }
        }
    }

    /// Applies a poll's answer; returns whether anything changed and the
    /// indices of runs that just finished.
    fn apply(&mut self, statuses: &[RunStatus]) -> (bool, Vec<usize>) {
        let mut changed = false;
        let mut finished = Vec::new();
        let answers = Answers::new(statuses);
        for (i, w) in self.watched.iter_mut().enumerate() {
            if w.result.is_some() {
                continue;
            }
            let Some(s) = answers.about(&w.run) else {
                continue;
            };
            learn_ids(&mut w.run, s);
            if !w.listed {
                w.listed = true;
                let link = self.platform.run_link(&w.run);
                self.sink.emit(&Event::Listed {
                    experiment_id: &w.run.experiment_id,
                    run_id: w.run.run_id.as_deref(),
                    link: link.as_deref(),
                });
            }
            w.score = s.score;
            w.error.clone_from(&s.error);
            if w.phase.as_deref() != Some(s.phase.as_str()) {
                changed = true;
                self.sink.emit(&Event::PhaseChanged {
                    experiment_id: &w.run.experiment_id,
                    from: w.phase.as_deref(),
                    to: &s.phase,
                    score: s.score,
                });
                w.phase = Some(s.phase.clone());
            }
            w.class = s.class;
            match s.class {
                PhaseClass::Going => {}
                PhaseClass::Unknown => {
                    if !w.warned_phases.contains(&s.phase) {
                        w.warned_phases.push(s.phase.clone());
                        let message = format!(
                            "{}: phase {:?} is not one chaos-gate knows; treating the run as still going",
                            w.run.experiment_id,
                            one_line(&s.phase)
                        );
                        self.sink.emit(&Event::Warning { message: &message });
                    }
                }
                PhaseClass::ScoreDecides | PhaseClass::Fails => finished.push(i),
            }
        }
        (changed, finished)
    }

    /// Judges runs that finished and reads their faults (once, together).
    async fn conclude(&mut self, finished: Vec<usize>) -> Result<(), End> {
        let platform = self.platform;
        let refs: Vec<RunRef> = finished
            .iter()
            .map(|&i| self.watched[i].run.clone())
            .collect();
        let reads = platform.faults_of(&refs);
        // Probe results of all the runs that finished, in one request.
        let probe_read = platform.probes(&refs);
        let (faults, probes) = tokio::select! {
            biased;
            a = &mut self.abort => {
                // The deadline or a signal cut the read short: these runs
                // are judged on phase, score and baseline, and that verdict
                // stands (they are finished, so nothing stops them).
                for &i in &finished {
                    self.judge(i, None, None);
                }
                return Err(End::Abort(a));
            }
            f = futures_util::future::join(reads, probe_read) => f,
        };
        let probes = match probes {
            Ok(p) => p.map(|all| ProbesByRun::new(all, refs.len() == 1)),
            Err(e) => {
                let message = format!(
                    "the probe results of the finished runs could not be read ({}); the \
                     verdicts stand without them",
                    e
                );
                self.sink.emit(&Event::Warning { message: &message });
                None
            }
        };
        for (&i, faults) in finished.iter().zip(faults) {
            let run_probes = probes.as_ref().map(|p| p.of(&self.watched[i].run));
            // An empty list says nothing about this run's probes: judged as
            // a platform that reports none (the faults' probe success
            // percentages decide rule 3).
            let run_probes = run_probes.filter(|p| !p.is_empty());
            match faults {
                Ok(faults) => {
                    // Probe statuses the execution data carries (ChaosCenter)
                    // stand in where the platform has no probe endpoint.
                    let from_faults: Option<Vec<crate::platform::Probe>> =
                        faults.iter().any(|f| f.probes.is_some()).then(|| {
                            faults
                                .iter()
                                .flat_map(|f| f.probes.iter().flatten().cloned())
                                .collect()
                        });
                    self.judge(i, Some(faults), run_probes.or(from_faults));
                }
                Err(e) => {
                    let message = format!(
                        "{}: the run's faults could not be read ({}); the verdict stands on phase and score",
                        self.watched[i].run.experiment_id, e
                    );
                    self.sink.emit(&Event::Warning { message: &message });
                    self.judge(i, None, run_probes);
                }
            }
            if let Some(r) = self.watched[i].result.as_ref() {
                self.sink.emit(&Event::RunFinished { report: r });
            }
        }
        Ok(())
    }

    /// Judges finished run `i` by the rules in README "Phases and verdicts", with its faults and probe
    /// results when they have been read.
    fn judge(
        &mut self,
        i: usize,
        faults: Option<Vec<crate::platform::Fault>>,
        probes: Option<Vec<crate::platform::Probe>>,
    ) {
        // A run judged again (its faults read after a first verdict) keeps
        // the link it was given.
        let link = match self.watched[i].result.as_mut() {
            Some(r) => r.link.take(),
            None => self.platform.run_link(&self.watched[i].run),
        };
        let baseline = self
            .baselines
            .get(&self.watched[i].run.experiment_id)
            .cloned();
        let w = &mut self.watched[i];
        w.baseline = baseline;
        let phase = one_line(w.phase.as_deref().unwrap_or_default()).into_owned();
        let evidence = Evidence {
            phase: &phase,
            class: w.class,
            score: w.score,
            faults: faults.as_deref(),
            probes: probes.as_deref(),
            baseline: w.baseline.as_ref().map(|b| b.score),
        };
        let (verdict, mut message) = judge(evidence, &self.plan.rules);
        if let Some(e) = &w.error {
            message.push_str(&format!(
                "; the platform says: {}",
                crate::text::snippet(e, 300)
            ));
        }
        w.finish(verdict, message, link);
        if let Some(r) = w.result.as_mut() {
            r.name = self.platform.experiment_name(&r.experiment_id);
            if let Some(faults) = faults {
                r.faults = faults;
            }
            r.probes = probes;
        }
    }

    fn heartbeat(&mut self) {
        let waiting: Vec<(String, Option<String>)> = self
            .watched
            .iter()
            .filter(|w| w.result.is_none())
            .map(|w| (w.run.experiment_id.clone(), w.phase.clone()))
            .collect();
        let elapsed = self.started.elapsed();
        self.sink.emit(&Event::Heartbeat {
            elapsed,
            remaining: self.plan.timeout.saturating_sub(elapsed),
            waiting: &waiting,
        });
    }

    /// Ends a gate early: records why, stops what is still going (when
    /// `stop_on_abort`), and gives every unfinished run its verdict.
    async fn end(&mut self, end: End) {
        let (verdict, why) = match &end {
            End::Abort(Abort::Signal(s)) => {
                self.outcome.cancelled = Some(*s);
                (RunVerdict::Cancelled, format!("cancelled by {}", s.name()))
            }
            End::Abort(Abort::Timeout) => {
                let unfinished = self.watched.iter().any(|w| w.result.is_none())
                    || !self.unstarted.is_empty()
                    || self.watched.is_empty();
                match self.platform_failing() {
                    // Every run already has its verdict: only the read of
                    // their faults was cut short.
                    _ if !unfinished => {
                        self.sink.emit(&Event::Warning {
                            message: "the timeout came while reading the runs' faults; the verdicts stand",
                        });
                        (RunVerdict::Timeout, String::new())
                    }
                    // The deadline came while the platform was failing, or
                    // before it ever answered a status poll: the gate could
                    // not tell how the runs ended, which is the platform's
                    // doing, not a timeout (README "Failure behaviour").
                    Some(msg) => self.no_usable_answer(&msg),
                    None if !self.answered => self.no_usable_answer("it did not answer in time"),
                    None => {
                        self.outcome.timed_out = true;
                        (
                            RunVerdict::Timeout,
                            format!(
                                "still going when the timeout of {} was reached",
                                humantime::format_duration(self.plan.timeout)
                            ),
                        )
                    }
                }
            }
            End::Platform(e) => {
                self.outcome.platform_error = Some(e.to_string());
                (RunVerdict::Error, format!("platform error: {}", e))
            }
        };
        let confirm = !matches!(end, End::Abort(Abort::Signal(_)));
        // A platform whose status polls just failed (or that is failing at
        // the deadline or signal) is not asked for run IDs again; after a
        // failed trigger the others' runs are looked up as usual.
        let look = !self.poll_failed
            && (matches!(end, End::Platform(_)) || self.platform.failing().is_none());
        self.stop_unfinished(confirm, look).await;
        for w in self.watched.iter_mut().filter(|w| w.result.is_none()) {
            let phase = w.phase.clone();
            let mut message = match &phase {
                Some(p) => format!("{why} (last phase {})", one_line(p)),
                None => format!("{why} (the run was never listed)"),
            };
            match w.stopped {
                Some(true) => message.push_str("; chaos-gate stopped the run"),
                Some(false) => {
                    message.push_str("; the stop was not confirmed: the chaos may still be running")
                }
                None => {}
            }
            let link = self.platform.run_link(&w.run);
            w.finish(verdict, message, link);
        }
    }

    /// The last request's error if the platform is failing right now.
    fn platform_failing(&self) -> Option<String> {
        self.platform.failing()
    }

    /// Records a platform that gave no usable answer before the deadline.
    fn no_usable_answer(&mut self, why: &str) -> (RunVerdict, String) {
        let text = format!(
            "no usable answer from the platform before the timeout of {}: {why}",
            humantime::format_duration(self.plan.timeout)
        );
        self.outcome.platform_error = Some(text.clone());
        (RunVerdict::Error, text)
    }

    /// Stops every unfinished run: one attempt each, all at once, within
    /// [`STOP_BUDGET`]. A run whose run ID is not known yet is polled for
    /// it first (a stop that names no run would stop other people's runs,
    /// or only mark this one stopped). With `confirm` (a timeout or a
    /// platform failure, not a signal), the stopped runs are then polled
    /// until they show a finished phase, for at most [`CONFIRM_BUDGET`].
    async fn stop_unfinished(&mut self, confirm: bool, look: bool) {
        let unfinished: Vec<usize> = (0..self.watched.len())
            .filter(|&i| self.watched[i].result.is_none())
            .collect();
        if unfinished.is_empty() {
            return;
        }
        if !self.plan.stop_on_abort {
            let ids: Vec<&str> = unfinished
                .iter()
                .map(|&i| self.watched[i].run.notify_id.as_str())
                .collect();
            let message = format!(
                "stop_on_abort=false: leaving {} run(s) going on the platform (notify IDs {})",
                unfinished.len(),
                ids.join(", ")
            );
            self.sink.emit(&Event::Warning { message: &message });
            return;
        }
        for &i in &unfinished {
            let r = &self.watched[i].run;
            self.sink.emit(&Event::Stopping {
                experiment_id: &r.experiment_id,
                notify_id: &r.notify_id,
            });
        }
        let runs: Vec<RunRef> = unfinished
            .iter()
            .map(|&i| self.watched[i].run.clone())
            .collect();
        let (runs, outcomes) = stop_all(self.platform, runs, look).await;
        // The report keeps the last phase seen while the run was going;
        // `stopped` says what became of it.
        for (&i, run) in unfinished.iter().zip(runs) {
            self.watched[i].run = run;
        }
        let mut sent = Vec::new();
        for (&i, outcome) in unfinished.iter().zip(outcomes) {
            if let StopOutcome::Finished(phase) = &outcome {
                // Over before a stop was needed: nothing was sent.
                self.sink.emit(&Event::StopConfirmed {
                    experiment_id: &self.watched[i].run.experiment_id,
                    phase,
                });
                continue;
            }
            let error = match &outcome {
                StopOutcome::Sent | StopOutcome::Finished(_) => None,
                StopOutcome::Failed(e) => Some(e.clone()),
                StopOutcome::NoRunId => Some(format!(
                    "the platform gave no run ID within {}s, and a stop without one could stop \
                     other people's runs",
                    STOP_BUDGET.as_secs()
                )),
            };
            let w = &mut self.watched[i];
            w.stopped = match outcome {
                StopOutcome::Sent => {
                    sent.push(i);
                    Some(!confirm)
                }
                StopOutcome::Finished(_) => None,
                StopOutcome::Failed(_) | StopOutcome::NoRunId => Some(false),
            };
            self.sink.emit(&Event::Stopped {
                experiment_id: &w.run.experiment_id,
                error: error.as_deref(),
            });
        }
        if confirm && !sent.is_empty() {
            self.confirm_stops(&sent).await;
        }
        for &i in &unfinished {
            if self.watched[i].stopped == Some(false) {
                let link = self.platform.run_link(&self.watched[i].run);
                let w = &self.watched[i];
                let mut message = format!(
                    "{}: the stop of run {} was not confirmed; the chaos may still be running",
                    w.run.experiment_id,
                    describe(&w.run)
                );
                if let Some(link) = link {
                    message.push_str(&format!(": {link}"));
                }
                self.sink.emit(&Event::Warning { message: &message });
            }
        }
    }

    /// Polls stopped runs until each shows a finished phase (a confirmed
    /// stop), for at most [`CONFIRM_BUDGET`].
    async fn confirm_stops(&mut self, sent: &[usize]) {
        let deadline = Instant::now() + CONFIRM_BUDGET;
        let mut waiting: Vec<usize> = sent.to_vec();
        while !waiting.is_empty() && Instant::now() < deadline {
            let refs: Vec<RunRef> = waiting
                .iter()
                .map(|&i| self.watched[i].run.clone())
                .collect();
            if let Ok(Ok(statuses)) =
                tokio::time::timeout_at(deadline, self.platform.poll(&refs)).await
            {
                let answers = Answers::new(&statuses);
                waiting.retain(|&i| {
                    let w = &mut self.watched[i];
                    let Some(s) = answers.about(&w.run) else {
                        return true;
                    };
                    learn_ids(&mut w.run, s);
                    if is_finished(s.class) {
                        w.stopped = Some(true);
                        self.sink.emit(&Event::StopConfirmed {
                            experiment_id: &w.run.experiment_id,
                            phase: &s.phase,
                        });
                        false
                    } else {
                        true
                    }
                });
            }
            if !waiting.is_empty() {
                tokio::time::sleep_until((Instant::now() + CONFIRM_PAUSE).min(deadline)).await;
            }
        }
    }

    fn report(mut self) -> GateReport {
        let mut experiments: Vec<ExperimentReport> = Vec::new();
        // Each experiment's first watched run. Settings refuse an experiment
        // listed twice, so each report is moved out once, not copied (5,000
        // reports with their faults).
        let mut by_experiment: HashMap<String, usize> = HashMap::new();
        for (i, w) in self.watched.iter().enumerate().rev() {
            by_experiment.insert(w.run.experiment_id.clone(), i);
        }
        let unstarted: HashMap<&str, (RunVerdict, &str)> = self
            .unstarted
            .iter()
            .rev()
            .map(|(e, v, m)| (e.as_str(), (*v, m.as_str())))
            .collect();
        for id in &self.plan.experiments {
            let result = by_experiment
                .get(id)
                .and_then(|&i| self.watched[i].result.take());
            if let Some(r) = result {
                experiments.push(r);
            } else if let Some((verdict, message)) = unstarted.get(id.as_str()) {
                experiments.push(ExperimentReport::without_run(
                    id,
                    None,
                    *verdict,
                    message.to_string(),
                ));
            } else {
                // The gate ended before it got to this experiment (while
                // reading baselines): it was never started.
                let (verdict, message) =
                    match (&self.outcome.cancelled, &self.outcome.platform_error) {
                        (Some(s), _) => (
                            RunVerdict::Cancelled,
                            format!("cancelled by {} before it started", s.name()),
                        ),
                        (None, Some(e)) => (RunVerdict::Error, format!("not started: {e}")),
                        (None, None) => (
                            RunVerdict::Timeout,
                            "timed out before it started".to_string(),
                        ),
                    };
                experiments.push(ExperimentReport::without_run(id, None, verdict, message));
            }
        }
        // An attached run with no experiment_id given.
        if self.plan.experiments.is_empty() {
            experiments.extend(self.watched.iter_mut().filter_map(|w| w.result.take()));
        }
        let mut outcome = self.outcome.clone();
        for e in &experiments {
            outcome.count(e.verdict);
        }
        GateReport {
            platform: self.platform.name(),
            threshold: self.plan.rules.threshold,
            warning_score: self.plan.rules.warning_score,
            outcome,
            experiments,
            started_at: self.started_at,
            duration: self.started.elapsed(),
            dry_run: false,
            sync: None,
        }
    }
}

/// The probe results of runs that finished together, found for each run in
/// constant time. A probe result is about a run when its notify ID is the
/// run's (where the gate has one); otherwise when its run ID is the run's;
/// one that names neither is about the one run asked for, if only one was.
struct ProbesByRun {
    all: Vec<crate::platform::Probe>,
    one_run: bool,
    /// Results that name a notify ID.
    by_notify: HashMap<String, Vec<usize>>,
    /// Results that name a run ID but no notify ID.
    by_run_only: HashMap<String, Vec<usize>>,
    /// Results that name a run ID, whatever else they name.
    by_run: HashMap<String, Vec<usize>>,
    /// Results that name no run ID.
    no_run_id: Vec<usize>,
    /// Results that name neither.
    unnamed: Vec<usize>,
}

impl ProbesByRun {
    fn new(all: Vec<crate::platform::Probe>, one_run: bool) -> ProbesByRun {
        let mut p = ProbesByRun {
            all: Vec::new(),
            one_run,
            by_notify: HashMap::new(),
            by_run_only: HashMap::new(),
            by_run: HashMap::new(),
            no_run_id: Vec::new(),
            unnamed: Vec::new(),
        };
        for (i, probe) in all.iter().enumerate() {
            if let Some(n) = &probe.notify_id {
                p.by_notify.entry(n.clone()).or_default().push(i);
            }
            match (&probe.notify_id, &probe.run_id) {
                (_, Some(r)) => {
                    p.by_run.entry(r.clone()).or_default().push(i);
                    if probe.notify_id.is_none() {
                        p.by_run_only.entry(r.clone()).or_default().push(i);
                    }
                }
                (Some(_), None) => p.no_run_id.push(i),
                (None, None) => {
                    p.no_run_id.push(i);
                    p.unnamed.push(i);
                }
            }
        }
        p.all = all;
        p
    }

    /// Run `run`'s probe results, in the order the platform gave them.
    fn of(&self, run: &RunRef) -> Vec<crate::platform::Probe> {
        let mut picked: Vec<usize> = Vec::new();
        let by_run = |map: &HashMap<String, Vec<usize>>| {
            run.run_id
                .as_ref()
                .and_then(|r| map.get(r))
                .cloned()
                .unwrap_or_default()
        };
        if !run.notify_id.is_empty() {
            picked.extend(self.by_notify.get(&run.notify_id).into_iter().flatten());
            picked.extend(by_run(&self.by_run_only));
            if self.one_run {
                picked.extend(&self.unnamed);
            }
        } else {
            picked.extend(by_run(&self.by_run));
            if self.one_run {
                picked.extend(&self.no_run_id);
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked.into_iter().map(|i| self.all[i].clone()).collect()
    }
}

/// A poll's answers, found by notify ID or run ID in constant time.
struct Answers<'s> {
    by_notify: HashMap<&'s str, &'s RunStatus>,
    by_run: HashMap<&'s str, &'s RunStatus>,
}

impl<'s> Answers<'s> {
    fn new(statuses: &'s [RunStatus]) -> Answers<'s> {
        let mut by_notify = HashMap::with_capacity(statuses.len());
        let mut by_run = HashMap::new();
        for s in statuses {
            if !s.notify_id.is_empty() {
                by_notify.insert(s.notify_id.as_str(), s);
            }
            if let Some(r) = s.run_id.as_deref() {
                by_run.insert(r, s);
            }
        }
        Answers { by_notify, by_run }
    }

    /// The answer about `run`: by its notify ID when it has one, else by
    /// its run ID (a run adopted from a listing without notify IDs).
    fn about(&self, run: &RunRef) -> Option<&'s RunStatus> {
        let found = if run.notify_id.is_empty() {
            self.by_run.get(run.run_id.as_deref()?)
        } else {
            self.by_notify.get(run.notify_id.as_str())
        };
        found.copied().filter(|s| run.matches(s))
    }
}

/// Takes the IDs a poll showed for a run: its run ID once assigned, its
/// notify ID when it was adopted without one, and its experiment when it
/// was attached without `experiment_id` (stopping it needs the ID).
fn learn_ids(run: &mut RunRef, s: &RunStatus) {
    if s.run_id.is_some() {
        run.run_id.clone_from(&s.run_id);
    }
    if run.notify_id.is_empty() && !s.notify_id.is_empty() {
        run.notify_id.clone_from(&s.notify_id);
    }
    if run.experiment_id.is_empty()
        && let Some(e) = &s.experiment_id
    {
        run.experiment_id.clone_from(e);
    }
}

/// What became of one run the gate set out to stop.
#[derive(Debug, Clone, PartialEq)]
enum StopOutcome {
    /// The platform accepted the stop.
    Sent,
    /// The platform refused it, or did not answer in time.
    Failed(String),
    /// The run had no run ID before the budget ran out: nothing was sent.
    NoRunId,
    /// The look for its run ID showed it already finished, in this phase.
    Finished(String),
}

/// Whether a phase means the run is over.
fn is_finished(class: PhaseClass) -> bool {
    matches!(class, PhaseClass::ScoreDecides | PhaseClass::Fails)
}

/// A run for messages: its notify ID, or its run ID when it has none.
fn describe(run: &RunRef) -> &str {
    if run.notify_id.is_empty() {
        run.run_id.as_deref().unwrap_or("(no ID yet)")
    } else {
        &run.notify_id
    }
}

/// Stops `runs` within [`STOP_BUDGET`]: those with a run ID at once; the
/// others are polled for one (until [`STOP_SEND_MARGIN`] before the end)
/// and stopped as soon as they have it. Returns the runs with the IDs
/// learned, and an outcome for each.
async fn stop_all<P: Platform>(
    platform: &P,
    runs: Vec<RunRef>,
    look: bool,
) -> (Vec<RunRef>, Vec<StopOutcome>) {
    let deadline = Instant::now() + STOP_BUDGET;
    let stop_one = |run: RunRef| async move {
        let outcome = match tokio::time::timeout_at(deadline, platform.stop(&run)).await {
            Ok(Ok(())) => StopOutcome::Sent,
            Ok(Err(e)) => StopOutcome::Failed(e.to_string()),
            Err(_) => StopOutcome::Failed(format!("no answer within {}s", STOP_BUDGET.as_secs())),
        };
        (run, outcome)
    };
    type Numbered = Vec<(usize, RunRef)>;
    let (ready, unnamed): (Numbered, Numbered) = runs
        .into_iter()
        .enumerate()
        .partition(|(_, r)| r.run_id.is_some());
    let now = futures_util::future::join_all(
        ready
            .into_iter()
            .map(|(k, r)| async move { (k, stop_one(r).await) }),
    );
    let later = async move {
        let mut unnamed = unnamed;
        let mut finished: HashMap<usize, String> = HashMap::new();
        let look_until = if !look {
            Instant::now()
        } else {
            deadline.checked_sub(STOP_SEND_MARGIN).unwrap_or(deadline)
        };
        loop {
            let missing: Vec<RunRef> = unnamed
                .iter()
                .filter(|(k, r)| r.run_id.is_none() && !finished.contains_key(k))
                .map(|(_, r)| r.clone())
                .collect();
            if missing.is_empty() || Instant::now() >= look_until {
                break;
            }
            // A platform that cannot answer now will not name the runs in
            // time: one failed look ends the search.
            let Ok(Ok(statuses)) =
                tokio::time::timeout_at(look_until, platform.poll(&missing)).await
            else {
                break;
            };
            let answers = Answers::new(&statuses);
            for (k, r) in unnamed.iter_mut() {
                if let Some(s) = answers.about(r) {
                    learn_ids(r, s);
                    if is_finished(s.class) {
                        finished.insert(*k, s.phase.clone());
                    }
                }
            }
            let still = unnamed
                .iter()
                .any(|(k, r)| r.run_id.is_none() && !finished.contains_key(k));
            if still {
                tokio::time::sleep_until((Instant::now() + RUN_ID_PAUSE).min(look_until)).await;
            }
        }
        futures_util::future::join_all(unnamed.into_iter().map(|(k, r)| {
            let done = finished.remove(&k);
            async move {
                match (done, r.run_id.is_some()) {
                    (Some(phase), _) => (k, (r, StopOutcome::Finished(phase))),
                    (None, true) => (k, stop_one(r).await),
                    (None, false) => (k, (r, StopOutcome::NoRunId)),
                }
            }
        }))
        .await
    };
    let (mut first, second) = futures_util::future::join(now, later).await;
    first.extend(second);
    first.sort_by_key(|(k, _)| *k);
    first.into_iter().map(|(_, pair)| pair).unzip()
}

/// Why the gate ended early.
enum End {
    Abort(Abort),
    Platform(PlatformError),
}

/// A started (or adopted) run.
struct Started {
    notify_id: String,
    run_id: Option<String>,
    adopted: bool,
}

/// Triggers one experiment, never starting it twice: when a trigger's
/// outcome is unknown, the run it may have started is looked for first, and
/// the trigger is repeated only when there is certainly none.
async fn trigger_once<P: Platform>(
    platform: &P,
    experiment_id: &str,
    since: SystemTime,
) -> Result<Started, PlatformError> {
    let mut last_unknown = None;
    for _ in 0..2 {
        match platform.trigger(experiment_id).await {
            Ok(notify_id) => {
                return Ok(Started {
                    notify_id,
                    run_id: None,
                    adopted: false,
                });
            }
            Err(e @ PlatformError::OutcomeUnknown(_)) => {
                tracing::warn!(
                    "{experiment_id}: the trigger's outcome is unknown ({}); looking for the run it may have started",
                    e.to_string()
                );
                if let Some(found) = look_for_run(platform, experiment_id, since, &e).await? {
                    return Ok(found);
                }
                last_unknown = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_unknown.unwrap_or_else(|| PlatformError::unusable("the trigger failed")))
}

/// Looks for the run a trigger with an unknown outcome may have started,
/// allowing for a run that is listed late. `None` only when no run of the
/// experiment has appeared since the gate started, so that triggering
/// again cannot make a second run; two candidates (someone else may have
/// started one) are an error: the gate cannot tell which is its own, so it
/// neither watches, stops nor triggers anything more.
async fn look_for_run<P: Platform>(
    platform: &P,
    experiment_id: &str,
    since: SystemTime,
    lost: &PlatformError,
) -> Result<Option<Started>, PlatformError> {
    let mut unnamed = false;
    for attempt in 0..FIND_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(FIND_PAUSE).await;
        }
        let found = platform.find_runs(experiment_id, since).await?;
        match found.as_slice() {
            [] => {}
            [run] if run.notify_id.is_some() || run.run_id.is_some() => {
                return Ok(Some(Started {
                    notify_id: run.notify_id.clone().unwrap_or_default(),
                    run_id: run.run_id.clone(),
                    adopted: true,
                }));
            }
            // Listed, but with no ID to follow it by yet (ChaosCenter
            // assigns the run ID when the run leaves Queued): look again.
            [_] => unnamed = true,
            runs => {
                return Err(PlatformError::unusable(format!(
                    "{experiment_id}: the trigger's outcome is unknown ({}), and {} runs of the \
                     experiment were started since the gate began, so chaos-gate cannot tell \
                     which is its own. It triggered nothing more and stopped nothing; check the \
                     experiment's runs on the platform.",
                    lost,
                    runs.len()
                )));
            }
        }
    }
    if unnamed {
        return Err(PlatformError::unusable(format!(
            "{experiment_id}: the trigger's outcome is unknown ({}); a run of the experiment \
             appeared but the platform gave it no ID to watch it by. chaos-gate triggered \
             nothing more; check the experiment's runs on the platform.",
            lost
        )));
    }
    Ok(None)
}

/// A dry run: checks that every experiment exists, is not removed and has
/// an active infrastructure where the platform reports one. Triggers
/// nothing. A missing or unusable experiment makes the outcome invalid
/// (exit 2); a platform failure, including refused credentials, is a
/// platform error (exit 3).
pub async fn dry_run<P: Platform>(
    platform: &P,
    plan: &Plan,
    sink: &mut dyn EventSink,
    abort: impl Future<Output = Abort>,
) -> GateReport {
    let started_at = SystemTime::now();
    let started = Instant::now();
    sink.emit(&Event::Started {
        platform: platform.name(),
        endpoint: &plan.endpoint,
        experiments: &plan.experiments,
        attach: None,
        threshold: plan.rules.threshold,
        timeout: plan.timeout,
        poll_interval: plan.poll_interval,
        dry_run: true,
    });
    let checks = futures_util::future::join_all(plan.experiments.iter().map(|e| async move {
        let info = platform.check_experiment(e).await?;
        // The runtime inputs, before anything runs: only for an
        // experiment that exists and could run. A platform that cannot
        // say which inputs it declares is a warning, not a failure.
        let inputs = if info.removed || info.infra_active == Some(false) {
            Vec::new()
        } else {
            match platform.check_inputs(e).await {
                Ok(problems) => problems,
                Err(err @ PlatformError::Auth { .. }) => return Err(err),
                Err(err) => vec![crate::platform::InputProblem {
                    missing_required: false,
                    message: format!(
                        "{e}: the experiment's runtime inputs could not be read, so the inputs \
                         given were not checked ({})",
                        err
                    ),
                }],
            }
        };
        Ok::<_, PlatformError>((info, inputs))
    }));
    let mut outcome = Outcome::default();
    let results = tokio::select! {
        r = checks => r,
        a = abort => {
            match a {
                Abort::Signal(s) => outcome.cancelled = Some(s),
                Abort::Timeout => outcome.platform_error = Some("no answer from the platform before the timeout".to_string()),
            }
            Vec::new()
        }
    };
    let mut experiments = Vec::new();
    for (id, result) in plan.experiments.iter().zip(results) {
        let (verdict, message, name) = match result {
            Ok((info, inputs)) => {
                for p in inputs.iter().filter(|p| !p.missing_required) {
                    sink.emit(&Event::Warning {
                        message: &p.message,
                    });
                }
                let missing: Vec<&str> = inputs
                    .iter()
                    .filter(|p| p.missing_required)
                    .map(|p| p.message.as_str())
                    .collect();
                let problem = if info.removed {
                    Some(format!(
                        "experiment {id} has been removed; check experiment_id"
                    ))
                } else if info.infra_active == Some(false) {
                    Some(format!(
                        "the chaos infrastructure of experiment {id} is not active; it could not run"
                    ))
                } else if !missing.is_empty() {
                    Some(missing.join("; "))
                } else {
                    None
                };
                sink.emit(&Event::Checked {
                    experiment_id: id,
                    name: info.name.as_deref(),
                    problem: problem.as_deref(),
                });
                match problem {
                    Some(p) => {
                        outcome.invalid.get_or_insert_with(|| p.clone());
                        (RunVerdict::Error, p, info.name)
                    }
                    None => (
                        RunVerdict::Pass,
                        "dry run: exists and can run".to_string(),
                        info.name,
                    ),
                }
            }
            Err(e) => {
                let message = e.to_string();
                sink.emit(&Event::Checked {
                    experiment_id: id,
                    name: None,
                    problem: Some(&message),
                });
                if matches!(e, PlatformError::NotFound { .. }) {
                    outcome.invalid.get_or_insert_with(|| message.clone());
                } else {
                    outcome
                        .platform_error
                        .get_or_insert_with(|| message.clone());
                }
                (RunVerdict::Error, message, None)
            }
        };
        let _ = name;
        experiments.push(ExperimentReport::without_run(id, None, verdict, message));
    }
    GateReport {
        platform: platform.name(),
        threshold: plan.rules.threshold,
        warning_score: plan.rules.warning_score,
        outcome,
        experiments,
        started_at,
        duration: started.elapsed(),
        dry_run: true,
        sync: None,
    }
}

/// The report of a gate that could not start at all (the HTTP client could
/// not be set up): every experiment is a platform error, so that the JUnit
/// file and outputs still say what happened. `notify_id`: the run the gate
/// was given ([`Mode::notify_id`]).
pub fn failed_to_start(
    platform: &'static str,
    plan: &Plan,
    notify_id: Option<&str>,
    message: &str,
) -> GateReport {
    GateReport {
        platform,
        threshold: plan.rules.threshold,
        warning_score: plan.rules.warning_score,
        outcome: Outcome {
            platform_error: Some(message.to_string()),
            ..Outcome::default()
        },
        experiments: plan
            .experiments
            .iter()
            .map(|id| {
                ExperimentReport::without_run(
                    id,
                    notify_id.map(str::to_string),
                    RunVerdict::Error,
                    message.to_string(),
                )
            })
            .collect(),
        started_at: SystemTime::now(),
        duration: Duration::ZERO,
        dry_run: false,
        sync: None,
    }
}

/// Experiment as code (README "Experiment as code"): the checked manifest and the
/// infrastructure it runs on.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentFile<'m> {
    pub manifest: &'m Manifest,
    pub infra_id: &'m str,
}

/// How the create/update step ended.
#[derive(Debug)]
pub enum Synced {
    /// The stored experiment matches the manifest (or, in a dry run, what
    /// would be done is known): gate on `experiment_id` of the report.
    Ready(SyncReport),
    /// The step failed or was cut short: the gate's whole report, with
    /// nothing triggered.
    Ended(GateReport),
}

/// The create/update step before the gate (README "Experiment as code"): waits within the
/// timeout until the infrastructure is active, finds the experiment by the
/// manifest's name, and creates it, updates it (the digest of the
/// normalised manifest differs from the one in its tags) or leaves it
/// alone. With `dry_run` it says what it would do and changes nothing.
pub async fn sync_experiment<P: Platform, A: Future<Output = Abort> + Unpin>(
    platform: &P,
    file: ExperimentFile<'_>,
    plan: &Plan,
    sink: &mut dyn EventSink,
    abort: &mut A,
    dry_run: bool,
) -> Synced {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let m = file.manifest;
    let mut report = SyncReport {
        name: m.name.clone(),
        file: m.path.clone(),
        infra_id: file.infra_id.to_string(),
        action: None,
        experiment_id: None,
        error: None,
        duration: Duration::ZERO,
    };
    let mut outcome = Outcome::default();
    let result = sync_steps(platform, file, plan, sink, abort, dry_run, &mut report).await;
    report.duration = started.elapsed();
    let failure = match result {
        Ok(()) => return Synced::Ready(report),
        Err(f) => f,
    };
    let message = match failure {
        SyncFailure::Abort(Abort::Signal(s)) => {
            outcome.cancelled = Some(s);
            format!("cancelled by {} before the experiment was ready", s.name())
        }
        SyncFailure::Abort(Abort::Timeout) => match platform.failing() {
            Some(msg) => {
                let m = format!("no usable answer from the platform before the timeout: {msg}");
                outcome.platform_error = Some(m.clone());
                m
            }
            None => {
                outcome.timed_out = true;
                format!(
                    "timed out after {} before the experiment was ready (infrastructure {})",
                    humantime::format_duration(plan.timeout),
                    file.infra_id
                )
            }
        },
        SyncFailure::Invalid(msg) => {
            outcome.invalid = Some(msg.clone());
            msg
        }
        SyncFailure::Platform(msg) => {
            outcome.platform_error = Some(msg.clone());
            msg
        }
    };
    sink.emit(&Event::Progress {
        kind: ProgressKind::ExperimentFileFailed,
        message: &format!(
            "experiment file {}: {message}; nothing was triggered",
            m.path
        ),
    });
    report.error = Some(message);
    Synced::Ended(GateReport {
        platform: platform.name(),
        threshold: plan.rules.threshold,
        warning_score: plan.rules.warning_score,
        outcome,
        experiments: Vec::new(),
        started_at,
        duration: started.elapsed(),
        dry_run,
        sync: Some(report),
    })
}

/// Why the create/update step ended early.
enum SyncFailure {
    Abort(Abort),
    /// A settings-level problem found on the platform (exit 2).
    Invalid(String),
    /// The platform failed or refused (exit 3).
    Platform(String),
}

/// Runs `call` unless `abort` comes first.
async fn unless_aborted<T, A: Future<Output = Abort> + Unpin>(
    abort: &mut A,
    call: impl Future<Output = T>,
) -> Result<T, SyncFailure> {
    tokio::select! {
        biased;
        a = abort => Err(SyncFailure::Abort(a)),
        r = call => Ok(r),
    }
}

async fn sync_steps<P: Platform, A: Future<Output = Abort> + Unpin>(
    platform: &P,
    file: ExperimentFile<'_>,
    plan: &Plan,
    sink: &mut dyn EventSink,
    abort: &mut A,
    dry_run: bool,
    report: &mut SyncReport,
) -> Result<(), SyncFailure> {
    let m = file.manifest;
    let infra_id = file.infra_id;
    sink.emit(&Event::Progress {
        kind: ProgressKind::ExperimentFile,
        message: &format!(
            "experiment file {}: experiment {} on infrastructure {infra_id}{}",
            m.path,
            m.name,
            if dry_run {
                " (dry run: nothing is changed)"
            } else {
                ""
            }
        ),
    });
    let platform_error = |what: &str, e: PlatformError| -> SyncFailure {
        match e {
            PlatformError::NotFound { .. } => SyncFailure::Invalid(e.to_string()),
            _ => SyncFailure::Platform(format!("{what}: {e}")),
        }
    };

    // 1. The infrastructure, until it is active.
    let waiting_since = Instant::now();
    let mut polls = 0u32;
    let save_infra_id = loop {
        let info = unless_aborted(abort, platform.infra(infra_id))
            .await?
            .map_err(|e| platform_error("reading the infrastructure", e))?;
        let label = match &info.name {
            Some(n) if n != infra_id => format!("{infra_id} ({})", one_line(n)),
            _ => infra_id.to_string(),
        };
        if info.active {
            sink.emit(&Event::Progress {
                kind: ProgressKind::InfraActive,
                message: &format!("infrastructure {label} is active"),
            });
            break info.save_id;
        }
        if polls.is_multiple_of(HEARTBEAT_POLLS) {
            let waited = Duration::from_secs(waiting_since.elapsed().as_secs());
            sink.emit(&Event::Progress {
                kind: ProgressKind::InfraWaiting,
                message: &format!(
                    "waiting for infrastructure {label} to become active ({} so far, timeout {})",
                    humantime::format_duration(waited),
                    humantime::format_duration(plan.timeout)
                ),
            });
        }
        polls = polls.saturating_add(1);
        unless_aborted(abort, tokio::time::sleep(plan.poll_interval)).await?;
    };

    // 2. The stored experiment of that name, and whether it is current.
    let digest = m.digest(infra_id);
    let stored = unless_aborted(abort, platform.find_experiment(&m.name))
        .await?
        .map_err(|e| platform_error("looking for the experiment by name", e))?;
    let action = match &stored {
        None => SyncAction::Created,
        Some(s) if crate::manifest::stored_digest(&s.tags) == Some(digest.as_str()) => {
            SyncAction::Unchanged
        }
        Some(_) => SyncAction::Updated,
    };
    report.action = Some(action);
    report.experiment_id = stored.as_ref().map(|s| s.experiment_id.clone());
    if dry_run || action == SyncAction::Unchanged {
        let message = match (action, dry_run) {
            (SyncAction::Unchanged, _) => format!(
                "experiment {} ({}) is unchanged: the stored experiment was saved from this manifest",
                m.name,
                report.experiment_id.as_deref().unwrap_or("?")
            ),
            (SyncAction::Created, _) => format!(
                "dry run: experiment {} does not exist in the project; it would be created",
                m.name
            ),
            (SyncAction::Updated, _) => format!(
                "dry run: experiment {} ({}) differs from the manifest; it would be updated",
                m.name,
                report.experiment_id.as_deref().unwrap_or("?")
            ),
        };
        sink.emit(&Event::Progress {
            kind: ProgressKind::ExperimentChecked,
            message: &message,
        });
        return Ok(());
    }

    // 3. Create or update. Tags people or the platform added are kept; the
    // digest tag is replaced.
    let mut tags: Vec<String> = stored
        .as_ref()
        .map(|s| {
            s.tags
                .iter()
                .filter(|t| crate::manifest::stored_digest(std::slice::from_ref(*t)).is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    tags.push(crate::manifest::digest_tag(&digest));
    let request = SaveRequest {
        existing_id: stored.as_ref().map(|s| s.experiment_id.as_str()),
        name: &m.name,
        description: &m.description,
        manifest: &m.json,
        infra_id: &save_infra_id,
        tags,
    };
    let saved = unless_aborted(abort, platform.save_experiment(&request)).await?;
    let id = match saved {
        Ok(id) => id,
        Err(e @ PlatformError::OutcomeUnknown(_)) => {
            // The save may have happened: the stored experiment tells.
            let again = unless_aborted(abort, platform.find_experiment(&m.name))
                .await?
                .ok()
                .flatten();
            match again {
                Some(s) if crate::manifest::stored_digest(&s.tags) == Some(digest.as_str()) => {
                    s.experiment_id
                }
                _ => {
                    return Err(SyncFailure::Platform(format!(
                        "the platform did not save experiment {} from {}: {}",
                        m.name, m.path, e
                    )));
                }
            }
        }
        Err(e @ PlatformError::Auth { .. }) => {
            return Err(SyncFailure::Platform(e.to_string()));
        }
        Err(e) => {
            return Err(SyncFailure::Platform(format!(
                "the platform refused experiment {} from {}: {}",
                m.name,
                m.path,
                one_line(&e.to_string())
            )));
        }
    };
    report.experiment_id = Some(id.clone());
    sink.emit(&Event::Progress {
        kind: ProgressKind::ExperimentSaved,
        message: &format!(
            "experiment {} {} from {} (ID {id})",
            m.name,
            action.as_str(),
            m.path
        ),
    });
    Ok(())
}

/// The whole gate for one platform, as the mode says: the one place the
/// [`Mode`] is matched.
pub async fn run_all<P: Platform>(
    platform: &P,
    mode: &Mode,
    plan: &Plan,
    sink: &mut dyn EventSink,
    abort: impl Future<Output = Abort> + Send,
) -> GateReport {
    match mode {
        Mode::Trigger => Gate::new(platform, plan, sink, abort).run().await,
        Mode::Attach { notify_id } => {
            Gate::new(platform, plan, sink, abort)
                .attaching(notify_id)
                .run()
                .await
        }
        Mode::DryRun { .. } => dry_run(platform, plan, sink, abort).await,
        Mode::Sync {
            manifest,
            infra_id,
            dry_run,
        } => {
            let file = ExperimentFile { manifest, infra_id };
            sync_then_run(platform, file, *dry_run, plan, sink, abort).await
        }
    }
}

/// Experiment as code: first the create/update step (README "Experiment as code"), then the
/// gate (or the dry run) on the experiment it names.
async fn sync_then_run<P: Platform>(
    platform: &P,
    file: ExperimentFile<'_>,
    dry: bool,
    plan: &Plan,
    sink: &mut dyn EventSink,
    abort: impl Future<Output = Abort> + Send,
) -> GateReport {
    let mut abort = Box::pin(abort);
    let synced = sync_experiment(platform, file, plan, sink, &mut abort, dry).await;
    let sync = match synced {
        Synced::Ended(report) => return report,
        Synced::Ready(sync) => sync,
    };
    let mut plan = plan.clone();
    plan.experiments = sync.experiment_id.iter().cloned().collect();
    let mut report = if plan.experiments.is_empty() {
        // A dry run of an experiment that does not exist yet: nothing more
        // to check.
        GateReport {
            platform: platform.name(),
            threshold: plan.rules.threshold,
            warning_score: plan.rules.warning_score,
            outcome: Outcome::default(),
            experiments: Vec::new(),
            started_at: SystemTime::now(),
            duration: sync.duration,
            dry_run: dry,
            sync: None,
        }
    } else if dry {
        dry_run(platform, &plan, sink, abort).await
    } else {
        Gate::new(platform, &plan, sink, abort).run().await
    };
    report.sync = Some(sync);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Probe;

    fn probe(name: &str, notify: Option<&str>, run: Option<&str>) -> Probe {
        Probe {
            notify_id: notify.map(str::to_string),
            run_id: run.map(str::to_string),
            fault: String::new(),
            name: name.to_string(),
            mode: None,
            verdict: None,
            description: None,
        }
    }

    fn run(notify: &str, run_id: Option<&str>) -> RunRef {
        RunRef {
            experiment_id: "e".to_string(),
            notify_id: notify.to_string(),
            run_id: run_id.map(str::to_string),
        }
    }

    fn names(p: &ProbesByRun, r: &RunRef) -> Vec<String> {
        p.of(r).into_iter().map(|p| p.name).collect()
    }

    /// The rule the gate applied by scanning every result for every run,
    /// now found by hash: by notify ID where the run has one (a result that
    /// names only a run ID still counts), by run ID otherwise, and results
    /// naming no run only when one run was asked for; platform order kept.
    #[test]
    fn probe_results_go_to_their_run() {
        let all = vec![
            probe("a", Some("n1"), Some("r1")),
            probe("b", Some("n2"), Some("r2")),
            probe("c", None, Some("r1")),
            probe("d", Some("n1"), None),
            probe("e", None, None),
            probe("f", Some("n9"), Some("r1")),
        ];
        let many = ProbesByRun::new(all.clone(), false);
        assert_eq!(names(&many, &run("n1", Some("r1"))), ["a", "c", "d"]);
        assert_eq!(names(&many, &run("n2", Some("r2"))), ["b"]);
        // No notify ID yet (a run adopted from a listing): by run ID.
        assert_eq!(names(&many, &run("", Some("r1"))), ["a", "c", "f"]);
        assert!(names(&many, &run("", None)).is_empty());

        let one = ProbesByRun::new(all, true);
        assert_eq!(names(&one, &run("n1", Some("r1"))), ["a", "c", "d", "e"]);
        assert_eq!(names(&one, &run("", Some("r1"))), ["a", "c", "d", "e", "f"]);
    }
}
