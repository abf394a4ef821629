//! Parsing a run's `executionData` into faults.
//!
//! `executionData` is a JSON document inside a string. Its shape differs
//! between Harness, Litmus and their versions, and every field may be
//! missing, so each field is read leniently: a string, a number or a bool is
//! taken as text, anything else counts as absent. Unknown fields are skipped
//! without being kept, which matters for documents of tens of megabytes.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// One fault of a run, as found in its execution data.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Fault {
    pub name: String,
    /// `Pass`, `Fail`, `Awaited`, `Stopped`, `N/A` or whatever the server said.
    pub verdict: Option<String>,
    /// As the server sent it (a string such as `"100"`), without `%`.
    pub probe_success_percentage: Option<String>,
    pub fail_step: Option<String>,
    pub status: Option<String>,
    pub engine: Option<String>,
    pub duration: Option<Duration>,
    /// The probe statuses of the fault's ChaosResult, where the execution
    /// data carries them (ChaosCenter, reference B5); `None` when it
    /// carries none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<super::Probe>>,
}

impl Fault {
    /// How a fault verdict reads for reports.
    pub fn outcome(&self) -> FaultOutcome {
        match self
            .verdict
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("pass") | Some("passed") => FaultOutcome::Passed,
            Some("fail") | Some("failed") | Some("error") => FaultOutcome::Failed,
            _ => FaultOutcome::NotDecided,
        }
    }
}

/// A fault verdict reduced to what a test case can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOutcome {
    Passed,
    Failed,
    /// Awaited, stopped, N/A, empty or unknown.
    NotDecided,
}

/// Text that tolerates numbers, bools and nulls, and reads anything else as
/// absent.
#[derive(Debug, Default)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text {
    /// The text, trimmed, or `None` when empty.
    fn get(self) -> Option<String> {
        self.0
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// The `nodes` map; anything but a map counts as no nodes.
#[derive(Default)]
struct Nodes(BTreeMap<String, NodeValue>);

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nodes, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nodes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of nodes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Nodes, A::Error> {
                // Only nodes with chaosData are kept: an Argo workflow has
                // many more nodes (steps, pods) than faults.
                let mut nodes = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<String, NodeValue>()? {
                    if v.0.as_ref().is_some_and(|n| n.chaos_data.is_some()) {
                        nodes.insert(k, v);
                    }
                }
                Ok(Nodes(nodes))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Nodes, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Nodes::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Nodes, E> {
                Ok(Nodes::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ChaosData {
    experiment_name: Text,
    engine_name: Text,
    experiment_verdict: Text,
    probe_success_percentage: Text,
    fail_step: Text,
    experiment_status: Text,
    /// The ChaosResult (ChaosCenter, reference B5), read only for its
    /// `status.probeStatuses`.
    chaos_result: Option<serde_json::Value>,
}

/// `chaosResult.status.probeStatuses` of a fault: `[{name, type, mode,
/// status: {verdict, description}}]` (chaos-operator ChaosResult, reference
/// B5). `None` when the document carries no such list.
fn probe_statuses(
    fault: &str,
    chaos_result: Option<&serde_json::Value>,
) -> Option<Vec<super::Probe>> {
    let list = chaos_result?
        .get("status")?
        .get("probeStatuses")?
        .as_array()?;
    let text = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    Some(
        list.iter()
            .filter(|p| p.is_object())
            .map(|p| {
                let status = p.get("status");
                super::Probe {
                    notify_id: None,
                    run_id: None,
                    fault: fault.to_string(),
                    name: text(p.get("name")).unwrap_or_else(|| "(unnamed probe)".to_string()),
                    mode: text(p.get("mode")),
                    verdict: text(status.and_then(|s| s.get("verdict"))),
                    description: text(status.and_then(|s| s.get("description"))),
                }
            })
            .collect(),
    )
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Node {
    name: Text,
    started_at: Text,
    finished_at: Text,
    chaos_data: Option<NodeChaosData>,
}

/// `chaosData` that is not an object is treated as absent.
#[derive(Default)]
struct NodeChaosData(Option<ChaosData>);

impl<'de> Deserialize<'de> for NodeChaosData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(NodeChaosData(d.deserialize_any(ObjectOnly::new())?))
    }
}

/// Reads a `T` from a JSON object and skips anything else as absent,
/// without building an intermediate `Value`: node-heavy documents (an Argo
/// workflow with thousands of step and pod nodes) are read at the speed of
/// the parser, in no more memory than the faults take.
struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<T> ObjectOnly<T> {
    fn new() -> Self {
        ObjectOnly(std::marker::PhantomData)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Option<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(a)).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Option<T>, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Document {
    nodes: Nodes,
}

/// A node that is not an object is skipped.
struct NodeValue(Option<Node>);

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(NodeValue(d.deserialize_any(ObjectOnly::new())?))
    }
}

/// Why execution data could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ExecutionDataError(pub String);

/// The `executionData` field of an answer, read straight into faults.
///
/// serde_json hands an escaped string (and `executionData`, being JSON in a
/// string, is all escapes) to a visitor as text in its scratch buffer; the
/// faults are parsed from there, so the document is never also copied into
/// a `String` of its own. With a 50 MB document that is the difference
/// between two copies in memory and three.
#[derive(Debug)]
pub struct ExecutionData(pub Result<Vec<Fault>, ExecutionDataError>);

impl<'de> Deserialize<'de> for ExecutionData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExecutionData, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExecutionData;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("executionData as a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExecutionData, E> {
                Ok(ExecutionData(parse(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ExecutionData, E> {
                Ok(ExecutionData(Ok(Vec::new())))
            }
            fn visit_none<E: de::Error>(self) -> Result<ExecutionData, E> {
                Ok(ExecutionData(Ok(Vec::new())))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ExecutionData, D::Error> {
                ExecutionData::deserialize(d)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ExecutionData, E> {
                Ok(not_a_string())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ExecutionData, E> {
                Ok(not_a_string())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ExecutionData, E> {
                Ok(not_a_string())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ExecutionData, E> {
                Ok(not_a_string())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ExecutionData, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(not_a_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<ExecutionData, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(not_a_string())
            }
        }
        d.deserialize_any(V)
    }
}

fn not_a_string() -> ExecutionData {
    ExecutionData(Err(ExecutionDataError(
        "executionData is not a string holding a JSON document".to_string(),
    )))
}

/// The faults in an `executionData` document: the nodes that carry
/// `chaosData`, ordered by start time, then name. An empty string has none.
pub fn parse(execution_data: &str) -> Result<Vec<Fault>, ExecutionDataError> {
    let trimmed = execution_data.trim_start();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    // serde would also read a struct from an array; a document is an object.
    if !trimmed.starts_with('{') {
        return Err(ExecutionDataError(format!(
            "executionData is not a JSON object (it starts with {})",
            crate::text::snippet(trimmed, 40)
        )));
    }
    let doc: Document = serde_json::from_str(execution_data).map_err(|e| {
        ExecutionDataError(format!(
            "executionData is not the JSON document expected ({e})"
        ))
    })?;
    let mut faults: Vec<(u64, Fault)> = Vec::new();
    for (id, node) in doc.nodes.0 {
        let Some(node) = node.0 else { continue };
        let Some(chaos) = node.chaos_data.and_then(|c| c.0) else {
            continue;
        };
        let started = node.started_at.get().and_then(|s| s.parse::<u64>().ok());
        let finished = node.finished_at.get().and_then(|s| s.parse::<u64>().ok());
        let duration = match (started, finished) {
            (Some(s), Some(f)) if f >= s => Some(Duration::from_secs(f - s)),
            _ => None,
        };
        let name = chaos
            .experiment_name
            .get()
            .or(node.name.get())
            .unwrap_or(id);
        let probe = chaos
            .probe_success_percentage
            .get()
            .map(|p| p.trim_end_matches('%').trim().to_string());
        let probes = probe_statuses(&name, chaos.chaos_result.as_ref());
        faults.push((
            started.unwrap_or(u64::MAX),
            Fault {
                probes,
                name,
                verdict: chaos.experiment_verdict.get(),
                probe_success_percentage: probe,
                fail_step: chaos.fail_step.get(),
                status: chaos.experiment_status.get(),
                engine: chaos.engine_name.get(),
                duration,
            },
        ));
    }
    faults.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    Ok(faults.into_iter().map(|(_, f)| f).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_faults_from_nodes_with_chaos_data() {
        let doc = r#"{"phase":"Succeeded","nodes":{
            "a":{"name":"install","type":"Steps","startedAt":"1"},
            "b":{"name":"pod-delete-x","type":"ChaosEngine","startedAt":"10","finishedAt":"40",
                 "chaosData":{"experimentName":"pod-delete","experimentVerdict":"Pass",
                 "probeSuccessPercentage":"100","failStep":"","engineName":"e1"}},
            "c":{"name":"net","startedAt":"5","chaosData":{"experimentVerdict":"Fail",
                 "probeSuccessPercentage":0,"failStep":"probe failed"}}}}"#;
        let faults = parse(doc).expect("parses");
        assert_eq!(faults.len(), 2);
        assert_eq!(faults[0].name, "net");
        assert_eq!(faults[0].probe_success_percentage.as_deref(), Some("0"));
        assert_eq!(faults[0].outcome(), FaultOutcome::Failed);
        assert_eq!(faults[1].name, "pod-delete");
        assert_eq!(faults[1].duration, Some(Duration::from_secs(30)));
        assert_eq!(faults[1].fail_step, None);
        assert_eq!(faults[1].outcome(), FaultOutcome::Passed);
    }

    #[test]
    fn an_answer_field_is_read_straight_into_faults() {
        #[derive(Deserialize)]
        struct Run {
            #[serde(rename = "executionData")]
            execution_data: Option<ExecutionData>,
        }
        let inner =
            r#"{"nodes":{"a":{"chaosData":{"experimentName":"x","experimentVerdict":"Pass"}}}}"#;
        let answer = serde_json::json!({ "executionData": inner }).to_string();
        let run: Run = serde_json::from_str(&answer).unwrap();
        let faults = run.execution_data.unwrap().0.unwrap();
        assert_eq!(faults[0].name, "x");
        let run: Run = serde_json::from_str(r#"{"executionData": null}"#).unwrap();
        assert!(run.execution_data.is_none());
        let run: Run = serde_json::from_str(r#"{"executionData": {"a": 1}}"#).unwrap();
        assert!(run.execution_data.unwrap().0.is_err());
        let run: Run = serde_json::from_str(r#"{"executionData": "nope"}"#).unwrap();
        assert!(run.execution_data.unwrap().0.is_err());
    }

    #[test]
    fn tolerates_missing_and_wrong_fields() {
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("{}").unwrap(), vec![]);
        assert_eq!(parse(r#"{"nodes":[1,2]}"#).unwrap(), vec![]);
        assert_eq!(
            parse(r#"{"nodes":{"x":5,"y":{"chaosData":"no"}}}"#).unwrap(),
            vec![]
        );
        let f = parse(r#"{"nodes":{"x":{"chaosData":{"experimentVerdict":["?"]}}}}"#).unwrap();
        assert_eq!(f[0].name, "x");
        assert_eq!(f[0].verdict, None);
        assert!(parse("not json").is_err());
        assert!(parse("[1]").is_err());
    }
}
