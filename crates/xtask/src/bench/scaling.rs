//! Costs at any size (README "Performance"): the sweep over the number of experiments,
//! node-heavy execution data, bytes on the wire and the time to the first
//! request.

use std::collections::BTreeSet;
use std::time::Duration;

use super::child::{self, Usage};
use super::scenario::Experiment;
use super::table::Table;
use super::{Bench, MB, ms, rss};
use crate::sim::Recorded;

/// Status polls of the short and the long run at each N: the CPU per poll
/// is the difference of their CPU times over the difference of their polls,
/// so triggers, the execution-data read and start-up cancel out.
const SHORT_POLLS: usize = 3;
const LONG_POLLS: usize = 13;
/// A growth exponent above this is reported as superlinear.
const LINEAR: f64 = 1.2;

/// What one N cost, medians over the repetitions.
struct Point {
    n: usize,
    cpu_per_poll: Duration,
    peak: Usage,
    connections: usize,
    /// From the last run first shown finished to the gate's exit.
    latency: Duration,
    /// The same from the answer that showed it to the exit, less the time
    /// the simulator spent on the requests in between: the gate's own time.
    own: Duration,
    /// Status-poll requests over status polls.
    requests_per_poll: f64,
    wire_per_poll: f64,
}

impl Bench {
    /// The N sweep: per-poll CPU, peak RSS, connections, requests and bytes
    /// per poll, and the time from the last run finishing to the exit, for
    /// N experiments triggered together; then the growth exponent of the
    /// per-poll CPU fitted over N >= 100.
    pub(super) fn scaling(&self, table: &mut Table) -> Result<(), String> {
        let ns: &[usize] = match &self.options.sizes {
            Some(sizes) => sizes,
            None if self.options.quick => &[1, 10, 100],
            None => &[1, 10, 100, 500, 1000, 5000],
        };
        let reps = self.options.reps(5, 1);
        let mut points = Vec::new();
        for &n in ns {
            let point = self.scale_point(n, reps)?;
            table.info(
                &format!("N = {n}"),
                format!(
                    "CPU/poll {:.2} ms; peak RSS {}; {} connection(s); {:.2} status requests/poll; \
                     {:.0} B/poll on the wire; last run finished -> exit {} (the gate's own time {})",
                    point.cpu_per_poll.as_secs_f64() * 1000.0,
                    rss(&point.peak),
                    point.connections,
                    point.requests_per_poll,
                    point.wire_per_poll,
                    ms(point.latency),
                    ms(point.own),
                ),
            );
            points.push(point);
        }
        let worst_connections = points.iter().map(|p| p.connections).max().unwrap_or(0);
        table.check(
            &format!(
                "TCP connections, N up to {}",
                ns.last().copied().unwrap_or(0)
            ),
            format!("at most {worst_connections}"),
            "<= 16",
            worst_connections <= 16,
        );
        let one_request = points
            .iter()
            .all(|p| (p.requests_per_poll - 1.0).abs() < 1e-9);
        table.check(
            "status requests per poll, every N",
            if one_request {
                "1".to_string()
            } else {
                "NOT 1 (see the N rows)".to_string()
            },
            "1",
            one_request,
        );
        let fitted: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.n >= 100)
            .map(|p| {
                let cpu = p.cpu_per_poll.as_secs_f64().max(1e-6);
                ((p.n as f64).ln(), cpu.ln())
            })
            .collect();
        if let Some(slope) = slope(&fitted) {
            let shape = if slope > LINEAR {
                "SUPERLINEAR"
            } else {
                "linear or better"
            };
            table.check(
                "per-poll CPU growth exponent, N >= 100",
                format!("{slope:.2} ({shape})"),
                &format!("<= {LINEAR}"),
                self.options.quick || slope <= LINEAR,
            );
        }
        let at = |n: usize| points.iter().find(|p| p.n == n);
        if let (Some(small), Some(large)) = (at(500), at(5000)) {
            let ratio =
                large.cpu_per_poll.as_secs_f64() / small.cpu_per_poll.as_secs_f64().max(1e-9);
            table.check(
                "per-poll CPU, N = 5,000 vs N = 500",
                format!(
                    "{ratio:.1}x ({} vs {})",
                    ms(large.cpu_per_poll),
                    ms(small.cpu_per_poll)
                ),
                "<= 12x and < 15 ms",
                ratio <= 12.0 && large.cpu_per_poll < Duration::from_millis(15),
            );
            table.check(
                "peak RSS, N = 5,000",
                rss(&large.peak),
                "< 40 MB",
                (large.peak.max_rss_bytes as f64) < 40.0 * MB,
            );
            table.check(
                "gate's own time, last run finished -> exit, N = 5,000",
                format!(
                    "{} ({} wall, with the simulator building 5,000 answers)",
                    ms(large.own),
                    ms(large.latency)
                ),
                "< 250 ms",
                large.own < Duration::from_millis(250),
            );
        }
        Ok(())
    }

    /// One N of the sweep: the short and the long run, `reps` times each.
    fn scale_point(&self, n: usize, reps: usize) -> Result<Point, String> {
        // Short IDs: all of them go into one environment variable (a single
        // string may hold at most 128 KiB, too little for 5,000 UUIDs), so
        // the sweep names its experiments by identity: triggered through
        // REST v2, polled as any other.
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let experiments = |polls| -> Vec<Experiment> {
            ids.iter()
                .map(|id| Experiment::new(id.clone(), polls, 1))
                .collect()
        };
        let short = self.scenario(&format!("scale-{n}-short"), &experiments(SHORT_POLLS))?;
        let long = self.scenario(&format!("scale-{n}-long"), &experiments(LONG_POLLS))?;
        let joined = ids.join(",");
        let (mut short_cpu, mut long_cpu) = (Vec::new(), Vec::new());
        let (mut latencies, mut owns) = (Vec::new(), Vec::new());
        let mut peak: Option<Usage> = None;
        let (mut connections, mut requests_per_poll, mut wire_per_poll) = (0, 0.0, 0.0);
        for i in 0..reps {
            let name = format!("scale-{n}-short-{i}");
            let sim = self.start_sim(&short, &name)?;
            let usage =
                self.expect(&mut self.gate(&sim.url, &joined, "100ms", &name)?, 0, &name)?;
            short_cpu.push(usage.cpu);
            drop(sim);

            let name = format!("scale-{n}-long-{i}");
            let sim = self.start_sim(&long, &name)?;
            let usage =
                self.expect(&mut self.gate(&sim.url, &joined, "100ms", &name)?, 0, &name)?;
            long_cpu.push(usage.cpu);
            let requests = sim.requests()?;
            let runs = sim.runs()?;
            if runs.len() != n {
                return Err(format!("{name}: {} runs, expected {n}", runs.len()));
            }
            let last_finished = runs
                .iter()
                .map(|r| r.terminal_at_unix_ms)
                .collect::<Option<Vec<u64>>>()
                .and_then(|t| t.into_iter().max())
                .ok_or_else(|| format!("{name}: a run was never shown finished"))?;
            latencies.push(Duration::from_millis(
                usage.exited_at_unix_ms.saturating_sub(last_finished),
            ));
            let polls: Vec<&Recorded> = requests.iter().filter(|r| r.is_status_poll()).collect();
            if polls.iter().any(|p| p.notify_ids.len() != n) {
                return Err(format!("{name}: a status poll did not name all {n} runs"));
            }
            owns.push(own_time(&requests, &polls, &usage));
            requests_per_poll = polls.len() as f64 / LONG_POLLS as f64;
            wire_per_poll =
                polls.iter().map(|p| p.wire_bytes).sum::<u64>() as f64 / polls.len().max(1) as f64;
            let distinct: BTreeSet<u64> = requests.iter().map(|r| r.connection).collect();
            connections = connections.max(distinct.len());
            if peak.is_none_or(|p| usage.max_rss_bytes > p.max_rss_bytes) {
                peak = Some(usage);
            }
        }
        let (short_cpu, long_cpu) = (child::median(&mut short_cpu), child::median(&mut long_cpu));
        let per_poll = long_cpu.saturating_sub(short_cpu) / (LONG_POLLS - SHORT_POLLS) as u32;
        Ok(Point {
            n,
            cpu_per_poll: per_poll,
            peak: peak.ok_or("no run measured")?,
            connections,
            latency: child::median(&mut latencies),
            own: child::median(&mut owns),
            requests_per_poll,
            wire_per_poll,
        })
    }

    /// Node-heavy (Argo-shaped) execution data: peak RSS against the
    /// answer, and CPU per MB over a run of the same shape without it.
    pub(super) fn argo_execution_data(&self, table: &mut Table) -> Result<(), String> {
        let sizes: &[usize] = if self.options.quick {
            &[1_000_000, 5_000_000]
        } else {
            &[1_000_000, 10_000_000, 50_000_000]
        };
        let reps = self.options.reps(3, 1);
        let id = "b0000000-0000-4000-8000-000000000005";
        let plain = self.scenario("argo-0", &[Experiment::new(id, 3, 3)])?;
        let mut base = Vec::new();
        for i in 0..reps {
            let name = format!("argo-0-{i}");
            let sim = self.start_sim(&plain, &name)?;
            base.push(
                self.expect(&mut self.gate(&sim.url, id, "100ms", &name)?, 0, &name)?
                    .cpu,
            );
        }
        let base = child::median(&mut base);
        for &size in sizes {
            let path = self.scenario(
                &format!("argo-{size}"),
                &[Experiment::new(id, 3, 3).with_argo_execution_data(size)],
            )?;
            let (mut cpus, mut peak, mut answer) = (Vec::new(), None::<Usage>, 0);
            for i in 0..reps {
                let name = format!("argo-{size}-{i}");
                let sim = self.start_sim(&path, &name)?;
                let usage = self.expect(&mut self.gate(&sim.url, id, "100ms", &name)?, 0, &name)?;
                answer = sim
                    .requests()?
                    .iter()
                    .filter(|r| r.is_execution_data())
                    .map(|r| r.response_bytes)
                    .max()
                    .ok_or_else(|| format!("{name}: chaos-gate never asked for executionData"))?;
                cpus.push(usage.cpu);
                if peak.is_none_or(|p| usage.max_rss_bytes > p.max_rss_bytes) {
                    peak = Some(usage);
                }
            }
            let peak = peak.ok_or("no run measured")?;
            let cpu = child::median(&mut cpus);
            let answer_mb = answer as f64 / MB;
            let per_mb = cpu.saturating_sub(base).as_secs_f64() * 1000.0 / answer_mb.max(1e-9);
            let ratio = peak.max_rss_bytes as f64 / answer.max(1) as f64;
            let figure = format!("Argo-shaped executionData, {:.0} MB", size as f64 / MB);
            let measured = format!(
                "peak RSS {} = {ratio:.2}x the {answer_mb:.1} MB answer; {per_mb:.1} ms CPU per MB",
                rss(&peak)
            );
            if size >= 50_000_000 {
                table.check(
                    &figure,
                    measured,
                    "<= 2.5x the answer, < 10 ms CPU per MB",
                    ratio <= 2.5 && per_mb < 10.0,
                );
            } else if size >= 10_000_000 {
                table.check(&figure, measured, "< 10 ms CPU per MB", per_mb < 10.0);
            } else {
                // Small answers: the process's fixed few MB weigh in.
                table.info(&figure, measured);
            }
        }
        Ok(())
    }

    /// From spawning chaos-gate to its first request reaching the
    /// simulator, and the bytes of a status poll for one run on the wire,
    /// both directions.
    pub(super) fn first_request_and_wire(&self, table: &mut Table) -> Result<(), String> {
        let id = "b0000000-0000-4000-8000-000000000006";
        let path = self.scenario("first", &[Experiment::new(id, 3, 1)])?;
        let reps = self.options.reps(11, 3);
        let (mut firsts, mut wire) = (Vec::new(), 0.0);
        for i in 0..reps {
            let name = format!("first-{i}");
            let sim = self.start_sim(&path, &name)?;
            let usage = self.expect(&mut self.gate(&sim.url, id, "100ms", &name)?, 0, &name)?;
            let requests = sim.requests()?;
            let first = requests
                .iter()
                .map(|r| r.at_unix_us)
                .min()
                .ok_or_else(|| format!("{name}: no request recorded"))?;
            firsts.push(Duration::from_micros(
                first.saturating_sub(usage.started_at_unix_us),
            ));
            let polls: Vec<&Recorded> = requests.iter().filter(|r| r.is_status_poll()).collect();
            wire =
                polls.iter().map(|p| p.wire_bytes).sum::<u64>() as f64 / polls.len().max(1) as f64;
        }
        let first = child::median(&mut firsts);
        table.check(
            "start to first request",
            format!("{} median of {reps}", ms(first)),
            "< 2 ms",
            first < Duration::from_millis(2),
        );
        table.check(
            "wire bytes per status poll, N = 1, both directions",
            format!("{wire:.0} B (HTTP heads included)"),
            "<= 900 B",
            wire <= 900.0,
        );
        Ok(())
    }
}

/// From the simulator having the last status poll's answer ready to the
/// gate's exit, less the time the simulator spent on the requests that
/// came after it (their `at` to `answered_at` windows, overlaps counted
/// once): what the gate itself took to read that answer, ask for and read
/// the execution data, judge, report and exit.
fn own_time(requests: &[Recorded], polls: &[&Recorded], usage: &Usage) -> Duration {
    let last_answer = polls
        .iter()
        .map(|p| p.answered_at_unix_us)
        .max()
        .unwrap_or(0);
    let exit = usage.started_at_unix_us + u64::try_from(usage.wall.as_micros()).unwrap_or(0);
    let mut windows: Vec<(u64, u64)> = requests
        .iter()
        .filter(|r| r.at_unix_us >= last_answer && r.answered_at_unix_us > r.at_unix_us)
        .map(|r| (r.at_unix_us, r.answered_at_unix_us.min(exit)))
        .collect();
    Duration::from_micros(
        exit.saturating_sub(last_answer)
            .saturating_sub(covered(&mut windows)),
    )
}

/// The length of the union of the windows.
fn covered(windows: &mut [(u64, u64)]) -> u64 {
    windows.sort_unstable();
    let (mut total, mut end) = (0, 0);
    for &(a, b) in windows.iter() {
        let a = a.max(end);
        if b > a {
            total += b - a;
            end = b;
        }
    }
    total
}

/// The least-squares slope of `y` on `x`; `None` for fewer than two points.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_windows_count_once() {
        assert_eq!(covered(&mut [(10, 20), (15, 25), (30, 31), (0, 5)]), 21);
        assert_eq!(covered(&mut []), 0);
    }

    #[test]
    fn slope_of_a_power_law_is_its_exponent() {
        let pts: Vec<(f64, f64)> = [100.0f64, 1000.0, 5000.0]
            .iter()
            .map(|&n| (n.ln(), (3.0 * n * n).ln()))
            .collect();
        let s = slope(&pts).expect("a slope");
        assert!((s - 2.0).abs() < 1e-9, "{s}");
        assert!(slope(&pts[..1]).is_none());
    }
}
