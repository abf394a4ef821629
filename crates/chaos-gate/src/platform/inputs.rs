//! Harness runtime inputs (`runtime_inputs`) and input sets: parsing the
//! setting, merging it over a stored input set, and the wire shape of
//! `runChaosV2Experiment`'s `runtimeInputs` (reference A1, A5).
//!
//! The setting is YAML or JSON (JSON is YAML 1.2), read with yaml-rust2's
//! event parser so that every complaint can name the line and column it is
//! about: a mapping of experiment-level input names to values, plus an
//! optional `tasks:` mapping of task (fault) names to their own mappings.

use serde_json::{Map, Number, Value};
use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One input: a name and the value to run with.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub name: String,
    pub value: Value,
}

/// Values for an experiment's runtime inputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuntimeInputs {
    pub experiment: Vec<Input>,
    /// Task (fault step) name and its inputs, in document order.
    pub tasks: Vec<(String, Vec<Input>)>,
}

impl RuntimeInputs {
    pub fn is_empty(&self) -> bool {
        self.experiment.is_empty() && self.tasks.iter().all(|(_, i)| i.is_empty())
    }

    /// The `runtimeInputs` object of a REST v2 run request.
    pub fn to_wire(&self) -> Value {
        let list = |inputs: &[Input]| {
            Value::Array(
                inputs
                    .iter()
                    .map(|i| serde_json::json!({ "name": i.name, "value": i.value }))
                    .collect(),
            )
        };
        let tasks: Map<String, Value> = self
            .tasks
            .iter()
            .map(|(t, inputs)| (t.clone(), list(inputs)))
            .collect();
        serde_json::json!({ "experiment": list(&self.experiment), "tasks": tasks })
    }

    /// These inputs over `base` (a stored input set): a value given here
    /// replaces the one of the same name and place there. Harness itself
    /// ignores `inputsetIdentity` when `runtimeInputs` is present (A1), so
    /// the merge is done here and only `runtimeInputs` is sent.
    pub fn over(&self, base: &RuntimeInputs) -> RuntimeInputs {
        fn merge(base: &[Input], top: &[Input]) -> Vec<Input> {
            let mut out: Vec<Input> = base
                .iter()
                .filter(|b| !top.iter().any(|t| t.name == b.name))
                .cloned()
                .collect();
            out.extend(top.iter().cloned());
            out
        }
        let mut tasks: Vec<(String, Vec<Input>)> = Vec::new();
        for (name, inputs) in &base.tasks {
            let top = self
                .tasks
                .iter()
                .find(|(t, _)| t == name)
                .map(|(_, i)| i.as_slice())
                .unwrap_or_default();
            tasks.push((name.clone(), merge(inputs, top)));
        }
        for (name, inputs) in &self.tasks {
            if !base.tasks.iter().any(|(t, _)| t == name) {
                tasks.push((name.clone(), inputs.clone()));
            }
        }
        RuntimeInputs {
            experiment: merge(&base.experiment, &self.experiment),
            tasks,
        }
    }

    /// Every (task, name) given: task `None` for experiment-level inputs.
    pub fn names(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.experiment
            .iter()
            .map(|i| (None, i.name.as_str()))
            .chain(self.tasks.iter().flat_map(|(t, inputs)| {
                inputs
                    .iter()
                    .map(move |i| (Some(t.as_str()), i.name.as_str()))
            }))
    }

    /// An input set's `spec` (a JSON string of the run request's
    /// `runtimeInputs` shape). Entries without a name are skipped.
    pub fn from_spec(spec: &str) -> Result<RuntimeInputs, String> {
        let v: Value = serde_json::from_str(spec)
            .map_err(|e| format!("the input set's spec is not JSON ({e})"))?;
        let list = |v: Option<&Value>| -> Vec<Input> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|i| {
                            Some(Input {
                                name: i.get("name")?.as_str()?.to_string(),
                                value: i.get("value").cloned().unwrap_or(Value::Null),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let tasks = v
            .get("tasks")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), list(Some(v)))).collect())
            .unwrap_or_default();
        Ok(RuntimeInputs {
            experiment: list(v.get("experiment")),
            tasks,
        })
    }
}

/// A YAML node with where it starts.
#[derive(Debug)]
enum Node {
    Scalar(Value, Marker),
    Seq(Vec<Node>, Marker),
    Map(Vec<(Node, Node)>, Marker),
    Alias(Marker),
}

impl Node {
    fn mark(&self) -> Marker {
        match self {
            Node::Scalar(_, m) | Node::Seq(_, m) | Node::Map(_, m) | Node::Alias(m) => *m,
        }
    }
}

/// Builds [`Node`]s from the parser's events: a mapping collects keys and
/// values in turn and pairs them when it ends.
#[derive(Default)]
struct Builder {
    stack: Vec<(bool, Vec<Node>, Marker)>,
    docs: Vec<Node>,
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some((_, items, _)) => items.push(node),
            None => self.docs.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, _, tag) => {
                // `!!str 5` is the string "5", whatever it looks like.
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == TScalarStyle::Plain && !tagged_str {
                    match Yaml::from_str(&text) {
                        Yaml::Null => Value::Null,
                        Yaml::Boolean(b) => Value::Bool(b),
                        Yaml::Integer(i) => Value::Number(i.into()),
                        Yaml::Real(r) => r
                            .parse::<f64>()
                            .ok()
                            .and_then(Number::from_f64)
                            .map_or(Value::String(r), Value::Number),
                        _ => Value::String(text),
                    }
                } else {
                    Value::String(text)
                };
                self.push(Node::Scalar(value, mark));
            }
            Event::SequenceStart(..) => self.stack.push((false, Vec::new(), mark)),
            Event::MappingStart(..) => self.stack.push((true, Vec::new(), mark)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((is_map, items, m)) = self.stack.pop() {
                    let node = if is_map {
                        let mut pairs = Vec::with_capacity(items.len() / 2);
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        Node::Map(pairs, m)
                    } else {
                        Node::Seq(items, m)
                    };
                    self.push(node);
                }
            }
            Event::Alias(_) => self.push(Node::Alias(mark)),
            _ => {}
        }
    }
}

fn at(m: Marker) -> String {
    format!("line {}, column {}", m.line(), m.col() + 1)
}

/// Reads the `runtime_inputs` document. Errors say what is wrong and where
/// (line and column).
pub fn parse(text: &str) -> Result<RuntimeInputs, String> {
    let mut b = Builder::default();
    Parser::new_from_str(text).load(&mut b, true).map_err(|e| {
        format!(
            "is not valid YAML or JSON: {} at {}",
            e.info(),
            at(*e.marker())
        )
    })?;
    let mut docs = b.docs.into_iter();
    let Some(doc) = docs.next() else {
        return Err("is empty: it names no inputs".to_string());
    };
    if let Some(extra) = docs.next() {
        return Err(format!(
            "holds more than one YAML document (the second starts at {}); give one mapping",
            at(extra.mark())
        ));
    }
    let Node::Map(pairs, _) = doc else {
        return Err(format!(
            "must be a mapping of input names to values (with an optional tasks: mapping); \
             found something else at {}",
            at(doc.mark())
        ));
    };
    let mut out = RuntimeInputs::default();
    let mut seen_tasks = false;
    for (key, value) in pairs {
        let name = key_name(&key)?;
        if name == "tasks" {
            if seen_tasks {
                return Err(format!("names tasks twice (again at {})", at(key.mark())));
            }
            seen_tasks = true;
            let Node::Map(tasks, _) = value else {
                return Err(format!(
                    "tasks must map task (fault) names to mappings of input names to values; \
                     found something else at {}",
                    at(value.mark())
                ));
            };
            for (task_key, inputs) in tasks {
                let task = key_name(&task_key)?;
                if out.tasks.iter().any(|(t, _)| *t == task) {
                    return Err(format!(
                        "names task {task:?} twice (again at {})",
                        at(task_key.mark())
                    ));
                }
                let Node::Map(pairs, _) = inputs else {
                    return Err(format!(
                        "task {task:?} must map input names to values; found something else at {}",
                        at(inputs.mark())
                    ));
                };
                let mut list = Vec::new();
                for (k, v) in pairs {
                    push_input(&mut list, &k, v, Some(&task))?;
                }
                out.tasks.push((task, list));
            }
        } else {
            push_input(&mut out.experiment, &key, value, None)?;
        }
    }
    if out.is_empty() {
        return Err("names no inputs: give at least one input name and its value".to_string());
    }
    Ok(out)
}

fn key_name(key: &Node) -> Result<String, String> {
    match key {
        Node::Scalar(Value::String(s), _) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Node::Scalar(v @ (Value::Number(_) | Value::Bool(_)), _) => Ok(v.to_string()),
        other => Err(format!(
            "has a key at {} that is not a name",
            at(other.mark())
        )),
    }
}

fn push_input(
    list: &mut Vec<Input>,
    key: &Node,
    value: Node,
    task: Option<&str>,
) -> Result<(), String> {
    let name = key_name(key)?;
    let place = match task {
        Some(t) => format!("input {name:?} of task {t:?}"),
        None => format!("input {name:?}"),
    };
    if list.iter().any(|i| i.name == name) {
        return Err(format!("names {place} twice (again at {})", at(key.mark())));
    }
    let value = to_json(value, &place, 0)?;
    if value.is_null() {
        return Err(format!("{place} at {} has no value", at(key.mark())));
    }
    list.push(Input { name, value });
    Ok(())
}

/// Values nested deeper than this are refused (no input needs them, and
/// the conversion recurses).
const MAX_DEPTH: usize = 32;

fn to_json(node: Node, place: &str, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{place} is nested more than {MAX_DEPTH} levels deep at {}",
            at(node.mark())
        ));
    }
    Ok(match node {
        Node::Scalar(v, _) => v,
        Node::Seq(items, _) => Value::Array(
            items
                .into_iter()
                .map(|n| to_json(n, place, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(pairs, _) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(key_name(&k)?, to_json(v, place, depth + 1)?);
            }
            Value::Object(m)
        }
        Node::Alias(m) => {
            return Err(format!(
                "{place} uses a YAML alias at {}; write the value out",
                at(m)
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_with_tasks() {
        let r = parse("TARGET_NS: shop\nREPLICAS: 3\nDEBUG: true\ntasks:\n  pod-delete-0ef:\n    CHAOS_DURATION: \"60\"\n").unwrap();
        assert_eq!(r.experiment.len(), 3);
        assert_eq!(r.experiment[1].value, json!(3));
        assert_eq!(r.experiment[2].value, json!(true));
        assert_eq!(r.tasks[0].0, "pod-delete-0ef");
        assert_eq!(r.tasks[0].1[0].value, json!("60"));
        assert_eq!(
            r.to_wire(),
            json!({"experiment": [{"name": "TARGET_NS", "value": "shop"}, {"name": "REPLICAS", "value": 3}, {"name": "DEBUG", "value": true}],
                   "tasks": {"pod-delete-0ef": [{"name": "CHAOS_DURATION", "value": "60"}]}})
        );
    }

    #[test]
    fn quoting_and_tags_keep_strings() {
        let r = parse("A: \"5\"\nB: !!str 5\nC: 5\nD: 'true'\n").unwrap();
        let v: Vec<&Value> = r.experiment.iter().map(|i| &i.value).collect();
        assert_eq!(v, [&json!("5"), &json!("5"), &json!(5), &json!("true")]);
    }

    #[test]
    fn json_is_read_too() {
        let r = parse(r#"{"A": "x", "tasks": {"t": {"B": 1.5}}}"#).unwrap();
        assert_eq!(r.experiment[0].name, "A");
        assert_eq!(r.tasks[0].1[0].value, json!(1.5));
    }

    #[test]
    fn errors_say_where() {
        let e = parse("A: x\nB: [1, 2\n").unwrap_err();
        assert!(e.contains("line "), "{e}");
        let e = parse("A: x\nA: y\n").unwrap_err();
        assert!(e.contains("twice") && e.contains("line 2"), "{e}");
        let e = parse("A:\n").unwrap_err();
        assert!(e.contains("no value") && e.contains("line 1"), "{e}");
        let e = parse("- a\n- b\n").unwrap_err();
        assert!(
            e.contains("mapping") && e.contains("line 1, column 1"),
            "{e}"
        );
        let e = parse("tasks:\n  t: 5\n").unwrap_err();
        assert!(e.contains("task \"t\"") && e.contains("line 2"), "{e}");
        assert!(parse("").unwrap_err().contains("no inputs"));
        assert!(parse("{}").unwrap_err().contains("no inputs"));
        assert!(parse("tasks: {}").unwrap_err().contains("no inputs"));
        let deep = format!("A: {}{}", "[".repeat(5000), "]".repeat(5000));
        let e = parse(&deep).unwrap_err();
        assert!(e.contains("nested") || e.contains("line 1"), "{e}");
        let e = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert!(e.contains("alias") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn inputs_override_an_input_set() {
        let set = RuntimeInputs::from_spec(
            r#"{"experiment":[{"name":"A","value":"set"},{"name":"B","value":"set"}],"tasks":{"t":[{"name":"C","value":1}]}}"#,
        )
        .unwrap();
        let top = parse("B: mine\ntasks:\n  t:\n    C: 2\n  u:\n    D: 3\n").unwrap();
        let merged = top.over(&set);
        assert_eq!(
            merged.to_wire(),
            json!({"experiment": [{"name": "A", "value": "set"}, {"name": "B", "value": "mine"}],
                   "tasks": {"t": [{"name": "C", "value": 2}], "u": [{"name": "D", "value": 3}]}})
        );
    }
}
