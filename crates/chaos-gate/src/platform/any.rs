//! The platform the settings name, behind [`Platform`]: [`connect`] builds
//! it, and [`AnyPlatform`] hands every call to it. Nothing outside
//! `platform` names a platform.

use std::time::SystemTime;

use super::harness::Harness;
use super::litmus::Litmus;
use super::{
    ExperimentInfo, Fault, FoundRun, InfraInfo, InputProblem, PastRun, Platform, PlatformError,
    Probe, RunRef, RunStatus, SaveRequest, StoredExperiment,
};
use crate::http::Http;
use crate::settings::{PlatformSettings, Settings};

/// One of the platforms chaos-gate talks to.
pub enum AnyPlatform {
    Harness(Harness),
    Litmus(Litmus),
}

/// The platform client the settings ask for, over `http`.
pub fn connect(settings: &Settings, http: Http) -> AnyPlatform {
    match &settings.platform {
        PlatformSettings::Harness(h) => AnyPlatform::Harness(
            Harness::new(
                http,
                settings.endpoint.clone(),
                h.api_key.clone(),
                h.account_id.clone(),
                h.org_id.clone(),
                settings.project_id.clone(),
            )
            .with_inputs(h.runtime_inputs.clone(), h.input_set.clone()),
        ),
        PlatformSettings::Litmus(l) => AnyPlatform::Litmus(Litmus::new(
            http,
            &settings.endpoint,
            l.auth.clone(),
            settings.project_id.clone(),
        )),
    }
}

/// Calls the same method on whichever platform it is.
macro_rules! each {
    ($self:ident, $p:ident => $call:expr) => {
        match $self {
            AnyPlatform::Harness($p) => $call,
            AnyPlatform::Litmus($p) => $call,
        }
    };
}

impl Platform for AnyPlatform {
    fn name(&self) -> &'static str {
        each!(self, p => p.name())
    }

    async fn trigger(&self, experiment_id: &str) -> Result<String, PlatformError> {
        each!(self, p => p.trigger(experiment_id).await)
    }

    async fn find_runs(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Result<Vec<FoundRun>, PlatformError> {
        each!(self, p => p.find_runs(experiment_id, since).await)
    }

    async fn poll(&self, runs: &[RunRef]) -> Result<Vec<RunStatus>, PlatformError> {
        each!(self, p => p.poll(runs).await)
    }

    async fn faults(&self, run: &RunRef) -> Result<Vec<Fault>, PlatformError> {
        each!(self, p => p.faults(run).await)
    }

    async fn faults_of(&self, runs: &[RunRef]) -> Vec<Result<Vec<Fault>, PlatformError>> {
        each!(self, p => p.faults_of(runs).await)
    }

    async fn probes(&self, runs: &[RunRef]) -> Result<Option<Vec<Probe>>, PlatformError> {
        each!(self, p => p.probes(runs).await)
    }

    async fn check_inputs(&self, experiment_id: &str) -> Result<Vec<InputProblem>, PlatformError> {
        each!(self, p => p.check_inputs(experiment_id).await)
    }

    async fn stop(&self, run: &RunRef) -> Result<(), PlatformError> {
        each!(self, p => p.stop(run).await)
    }

    async fn recent_runs(
        &self,
        experiment_id: &str,
        limit: u32,
    ) -> Result<Vec<PastRun>, PlatformError> {
        each!(self, p => p.recent_runs(experiment_id, limit).await)
    }

    async fn check_experiment(&self, experiment_id: &str) -> Result<ExperimentInfo, PlatformError> {
        each!(self, p => p.check_experiment(experiment_id).await)
    }

    async fn infra(&self, infra_id: &str) -> Result<InfraInfo, PlatformError> {
        each!(self, p => p.infra(infra_id).await)
    }

    async fn find_experiment(&self, name: &str) -> Result<Option<StoredExperiment>, PlatformError> {
        each!(self, p => p.find_experiment(name).await)
    }

    async fn save_experiment(&self, request: &SaveRequest<'_>) -> Result<String, PlatformError> {
        each!(self, p => p.save_experiment(request).await)
    }

    fn run_link(&self, run: &RunRef) -> Option<String> {
        each!(self, p => p.run_link(run))
    }

    fn experiment_name(&self, experiment_id: &str) -> Option<String> {
        each!(self, p => p.experiment_name(experiment_id))
    }

    fn failing(&self) -> Option<String> {
        each!(self, p => p.failing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RawSettings;

    fn connected(vars: &[(&str, &str)]) -> AnyPlatform {
        let raw = RawSettings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let settings = Settings::from_raw(&raw).expect("valid");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let http = Http::for_endpoint(Some(&settings.endpoint), None, deadline).expect("client");
        connect(&settings, http)
    }

    #[test]
    fn connect_builds_the_platform_the_settings_name() {
        let harness = connected(&[
            ("CHAOS_GATE_API_KEY", "k"),
            ("CHAOS_GATE_ACCOUNT_ID", "a"),
            ("CHAOS_GATE_PROJECT_ID", "p"),
            ("CHAOS_GATE_EXPERIMENT_ID", "e"),
        ]);
        assert!(matches!(harness, AnyPlatform::Harness(_)));
        assert_eq!(harness.name(), "harness");
        let litmus = connected(&[
            ("CHAOS_GATE_PLATFORM", "litmus"),
            ("CHAOS_GATE_ENDPOINT", "http://127.0.0.1:1"),
            ("CHAOS_GATE_TOKEN", "t"),
            ("CHAOS_GATE_PROJECT_ID", "p"),
            ("CHAOS_GATE_EXPERIMENT_ID", "e"),
        ]);
        assert!(matches!(litmus, AnyPlatform::Litmus(_)));
        assert_eq!(litmus.name(), "litmus");
    }
}
