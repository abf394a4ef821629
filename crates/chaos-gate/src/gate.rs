//! The gate's state machine: trigger (or attach), poll until every run has
//! finished, judge, and on timeout, cancellation or a platform failure stop
//! what is still going.
//!
//! The gate owns the list of runs it started, so whatever ends it (a
//! verdict, the deadline, a signal, a broken platform) it knows exactly
//! which runs to stop. Every `await` on the platform races the `abort`
//! future; nothing can keep the gate from reacting to a signal or the
//! deadline except the bounded grace and stop windows below.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, MissedTickBehavior};

use crate::platform::{ErrorKind, Platform, PlatformError, RunRef, RunStatus};
use crate::report::{Event, EventSink, ExperimentReport, GateReport};
use crate::text::one_line;
use crate::verdict::{classify, judge, Outcome, PhaseClass, RunVerdict, Signal};

/// How long triggers already sent may still answer after an abort, so that
/// a run started at the last moment is known and can be stopped.
const TRIGGER_GRACE: Duration = Duration::from_millis(1500);
/// How long to look for the run of a trigger an abort cut off.
const CUT_TRIGGER_LOOK: Duration = Duration::from_secs(1);
/// All stops together get this long (spec §7).
const STOP_BUDGET: Duration = Duration::from_secs(2);
/// A heartbeat after this many polls without any change.
const HEARTBEAT_POLLS: u32 = 6;
/// How often, and how far apart, a lost trigger's run is looked for before
/// concluding that it did not start.
const FIND_ATTEMPTS: u32 = 3;
const FIND_PAUSE: Duration = Duration::from_secs(1);
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
    /// Watch this run instead of triggering.
    pub attach: Option<String>,
    pub threshold: f64,
    pub poll_interval: Duration,
    pub timeout: Duration,
    pub stop_on_abort: bool,
    pub endpoint: String,
}

/// A run being watched.
struct Watched {
    run: RunRef,
    phase: Option<String>,
    score: Option<f64>,
    error: Option<String>,
    started: Instant,
    warned_phases: Vec<String>,
    listed: bool,
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
            score: None,
            error: None,
            started: Instant::now(),
            warned_phases: Vec::new(),
            listed: false,
            result: None,
        }
    }

    fn finish(&mut self, verdict: RunVerdict, message: String, link: Option<String>) {
        self.result = Some(ExperimentReport {
            experiment_id: self.run.experiment_id.clone(),
            notify_id: Some(self.run.notify_id.clone()),
            run_id: self.run.run_id.clone(),
            link,
            phase: self.phase.clone(),
            score: self.score,
            verdict,
            message,
            faults: Vec::new(),
            duration: self.started.elapsed(),
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
    started_at: SystemTime,
    started: Instant,
    watched: Vec<Watched>,
    /// Whether a status poll has ever been answered: a platform that never
    /// answered one before the deadline is a platform error, not a timeout.
    answered: bool,
    /// Experiments that never got a run (their trigger failed or was cut).
    unstarted: Vec<(String, RunVerdict, String)>,
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
            started_at: SystemTime::now(),
            started: Instant::now(),
            watched: Vec::new(),
            answered: false,
            unstarted: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    /// Runs the gate to its end and returns the report.
    pub async fn run(mut self) -> GateReport {
        self.sink.emit(&Event::Started {
            platform: self.platform.name(),
            endpoint: &self.plan.endpoint,
            experiments: &self.plan.experiments,
            attach: self.plan.attach.as_deref(),
            threshold: self.plan.threshold,
            timeout: self.plan.timeout,
            poll_interval: self.plan.poll_interval,
            dry_run: false,
        });
        if let Err(end) = self.start_runs().await {
            self.end(end).await;
        } else if let Err(end) = self.watch().await {
            self.end(end).await;
        }
        self.report()
    }

    /// Triggers every experiment at once, or attaches to the given run.
    async fn start_runs(&mut self) -> Result<(), End> {
        if let Some(notify_id) = &self.plan.attach {
            let experiment_id = self.plan.experiments.first().cloned().unwrap_or_default();
            self.sink.emit(&Event::Attached {
                experiment_id: &experiment_id,
                notify_id,
            });
            self.watched
                .push(Watched::new(&experiment_id, notify_id.clone(), None));
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
        let mut failure = None;
        for (i, experiment_id) in self.plan.experiments.iter().enumerate() {
            match results.get(i).map(Option::as_ref) {
                Some(Some(Ok(t))) => {
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
                Some(Some(Err(e))) => {
                    self.unstarted.push((
                        experiment_id.clone(),
                        RunVerdict::Error,
                        format!("not started: {}", e.message),
                    ));
                    failure.get_or_insert_with(|| e.clone());
                }
                Some(None) | None => {
                    // The trigger was cut before it answered: it may still
                    // have started a run. Look for one briefly, so that it
                    // is stopped with the others rather than left going.
                    // A trigger never sent has nothing to look for.
                    let found = match sent[i].load(Relaxed) {
                        true => self.find_cut_trigger(experiment_id, since).await,
                        false => None,
                    };
                    if let Some(found) = found {
                        self.sink.emit(&Event::Triggered {
                            experiment_id,
                            notify_id: &found.notify_id,
                            link: None,
                            adopted: true,
                        });
                        self.watched.push(Watched::new(
                            experiment_id,
                            found.notify_id,
                            found.run_id,
                        ));
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
            return Err(End::Abort(a));
        }
        if let Some(e) = failure {
            return Err(End::Platform(e));
        }
        Ok(())
    }

    /// One bounded look for the run of a trigger that an abort cut off.
    async fn find_cut_trigger(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Option<crate::platform::FoundRun> {
        if !self.plan.stop_on_abort {
            return None;
        }
        tokio::time::timeout(
            CUT_TRIGGER_LOOK,
            self.platform.find_run(experiment_id, since),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
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
            let statuses = statuses.map_err(End::Platform)?;
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
                if quiet_polls % HEARTBEAT_POLLS == 0 {
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
        // Matched by hash, not by scanning: per-poll work stays linear.
        let by_id: std::collections::HashMap<&str, &RunStatus> = statuses
            .iter()
            .rev() // the first answer for a run wins, as before
            .map(|s| (s.notify_id.as_str(), s))
            .collect();
        for (i, w) in self.watched.iter_mut().enumerate() {
            if w.result.is_some() {
                continue;
            }
            let Some(&s) = by_id.get(w.run.notify_id.as_str()) else {
                continue;
            };
            if s.run_id.is_some() {
                w.run.run_id.clone_from(&s.run_id);
            }
            // An attached run given without experiment_id: the platform
            // names its experiment (stopping it needs the ID).
            if w.run.experiment_id.is_empty() {
                if let Some(e) = &s.experiment_id {
                    w.run.experiment_id.clone_from(e);
                }
            }
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
            match classify(&s.phase) {
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
        // Judge first: the verdict stands on phase and score, whatever
        // happens to the faults read that follows (the deadline or a
        // signal may cut it short).
        for &i in &finished {
            let link = self.platform.run_link(&self.watched[i].run);
            let w = &mut self.watched[i];
            let phase = w.phase.clone().unwrap_or_default();
            let (verdict, mut message) = judge(&one_line(&phase), w.score, self.plan.threshold);
            if let Some(e) = &w.error {
                message.push_str(&format!(
                    "; the platform says: {}",
                    crate::text::snippet(e, 300)
                ));
            }
            if verdict == RunVerdict::Fail {
                self.outcome.failed = true;
            }
            w.finish(verdict, message, link);
        }
        let platform = self.platform;
        let refs: Vec<RunRef> = finished
            .iter()
            .map(|&i| self.watched[i].run.clone())
            .collect();
        let reads = platform.faults_of(&refs);
        let faults = tokio::select! {
            biased;
            a = &mut self.abort => return Err(End::Abort(a)),
            f = reads => f,
        };
        for (&i, faults) in finished.iter().zip(faults) {
            let faults = faults.unwrap_or_else(|e| {
                let message = format!(
                    "{}: the run's faults could not be read ({}); the verdict stands on phase and score",
                    self.watched[i].run.experiment_id, e.message
                );
                self.sink.emit(&Event::Warning { message: &message });
                Vec::new()
            });
            if let Some(r) = self.watched[i].result.as_mut() {
                r.faults = faults;
                self.sink.emit(&Event::RunFinished { report: r });
            }
        }
        Ok(())
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
                    // doing, not a timeout (§7).
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
                self.outcome.platform_error = Some(e.message.clone());
                (RunVerdict::Error, format!("platform error: {}", e.message))
            }
        };
        self.stop_unfinished().await;
        for w in self.watched.iter_mut().filter(|w| w.result.is_none()) {
            let phase = w.phase.clone();
            let message = match &phase {
                Some(p) => format!("{why} (last phase {})", one_line(p)),
                None => format!("{why} (the run was never listed)"),
            };
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
    /// [`STOP_BUDGET`].
    async fn stop_unfinished(&mut self) {
        let runs: Vec<RunRef> = self
            .watched
            .iter()
            .filter(|w| w.result.is_none())
            .map(|w| w.run.clone())
            .collect();
        if runs.is_empty() {
            return;
        }
        if !self.plan.stop_on_abort {
            let ids: Vec<&str> = runs.iter().map(|r| r.notify_id.as_str()).collect();
            let message = format!(
                "stop_on_abort=false: leaving {} run(s) going on the platform (notify IDs {})",
                runs.len(),
                ids.join(", ")
            );
            self.sink.emit(&Event::Warning { message: &message });
            return;
        }
        for r in &runs {
            self.sink.emit(&Event::Stopping {
                experiment_id: &r.experiment_id,
                notify_id: &r.notify_id,
            });
        }
        let platform = self.platform;
        let stops = futures_util::future::join_all(runs.iter().map(|r| async move {
            match tokio::time::timeout(STOP_BUDGET, platform.stop(r)).await {
                Ok(result) => result,
                Err(_) => Err(PlatformError::new(
                    ErrorKind::Unreachable,
                    format!("no answer within {}s", STOP_BUDGET.as_secs()),
                )),
            }
        }))
        .await;
        for (r, result) in runs.iter().zip(stops) {
            let error = result.err().map(|e| e.message);
            self.sink.emit(&Event::Stopped {
                experiment_id: &r.experiment_id,
                error: error.as_deref(),
            });
        }
    }

    fn report(self) -> GateReport {
        let mut experiments: Vec<ExperimentReport> = Vec::new();
        let mut by_experiment = std::collections::HashMap::new();
        for w in self.watched.iter().rev() {
            by_experiment.insert(w.run.experiment_id.as_str(), w);
        }
        for id in &self.plan.experiments {
            if let Some(r) = by_experiment
                .get(id.as_str())
                .and_then(|w| w.result.clone())
            {
                experiments.push(r);
            } else if let Some((_, verdict, message)) =
                self.unstarted.iter().find(|(e, _, _)| e == id)
            {
                experiments.push(ExperimentReport {
                    experiment_id: id.clone(),
                    notify_id: None,
                    run_id: None,
                    link: None,
                    phase: None,
                    score: None,
                    verdict: *verdict,
                    message: message.clone(),
                    faults: Vec::new(),
                    duration: Duration::ZERO,
                });
            }
        }
        // An attached run with no experiment_id given.
        if self.plan.experiments.is_empty() {
            experiments.extend(self.watched.iter().filter_map(|w| w.result.clone()));
        }
        GateReport {
            platform: self.platform.name(),
            threshold: self.plan.threshold,
            outcome: self.outcome,
            experiments,
            started_at: self.started_at,
            duration: self.started.elapsed(),
            dry_run: false,
        }
    }
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
                })
            }
            Err(e) if e.kind == ErrorKind::OutcomeUnknown => {
                tracing::warn!(
                    "{experiment_id}: the trigger's outcome is unknown ({}); looking for the run it may have started",
                    e.message
                );
                for attempt in 0..FIND_ATTEMPTS {
                    if attempt > 0 {
                        tokio::time::sleep(FIND_PAUSE).await;
                    }
                    if let Some(found) = platform.find_run(experiment_id, since).await? {
                        return Ok(Started {
                            notify_id: found.notify_id,
                            run_id: found.run_id,
                            adopted: true,
                        });
                    }
                }
                last_unknown = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_unknown.unwrap_or_else(|| PlatformError::unusable("the trigger failed")))
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
        threshold: plan.threshold,
        timeout: plan.timeout,
        poll_interval: plan.poll_interval,
        dry_run: true,
    });
    let checks = futures_util::future::join_all(
        plan.experiments
            .iter()
            .map(|e| platform.check_experiment(e)),
    );
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
            Ok(info) => {
                let problem = if info.removed {
                    Some(format!(
                        "experiment {id} has been removed; check experiment_id"
                    ))
                } else if info.infra_active == Some(false) {
                    Some(format!(
                        "the chaos infrastructure of experiment {id} is not active; it could not run"
                    ))
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
                sink.emit(&Event::Checked {
                    experiment_id: id,
                    name: None,
                    problem: Some(&e.message),
                });
                let not_found =
                    e.kind == ErrorKind::Unusable && e.message.contains("was not found");
                if not_found {
                    outcome.invalid.get_or_insert_with(|| e.message.clone());
                } else {
                    outcome
                        .platform_error
                        .get_or_insert_with(|| e.message.clone());
                }
                (RunVerdict::Error, e.message, None)
            }
        };
        let _ = name;
        experiments.push(ExperimentReport {
            experiment_id: id.clone(),
            notify_id: None,
            run_id: None,
            link: None,
            phase: None,
            score: None,
            verdict,
            message,
            faults: Vec::new(),
            duration: Duration::ZERO,
        });
    }
    GateReport {
        platform: platform.name(),
        threshold: plan.threshold,
        outcome,
        experiments,
        started_at,
        duration: started.elapsed(),
        dry_run: true,
    }
}

/// The report of a gate that could not start at all (the HTTP client could
/// not be set up): every experiment is a platform error, so that the JUnit
/// file and outputs still say what happened.
pub fn failed_to_start(platform: &'static str, plan: &Plan, message: &str) -> GateReport {
    GateReport {
        platform,
        threshold: plan.threshold,
        outcome: Outcome {
            platform_error: Some(message.to_string()),
            ..Outcome::default()
        },
        experiments: plan
            .experiments
            .iter()
            .map(|id| ExperimentReport {
                experiment_id: id.clone(),
                notify_id: plan.attach.clone(),
                run_id: None,
                link: None,
                phase: None,
                score: None,
                verdict: RunVerdict::Error,
                message: message.to_string(),
                faults: Vec::new(),
                duration: Duration::ZERO,
            })
            .collect(),
        started_at: SystemTime::now(),
        duration: Duration::ZERO,
        dry_run: false,
    }
}
