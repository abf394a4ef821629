//! The dialect-neutral GraphQL layer: decode a request body, validate the
//! document against a schema, coerce variables, hand each root field to a
//! resolver, and project the resolver's full object onto the selection set.
//!
//! Projection is what makes the simulator honest about payload size: a
//! client that selects five fields gets five fields, one that selects
//! `executionData` pays for it. Resolvers therefore always build the whole
//! object (skipping only expensive fields nobody selected) and let this
//! module cut it down.
//!
//! Error answers follow gqlgen, the Go server Harness and Litmus both use:
//! an undecodable body is HTTP 400, a document that does not parse or
//! validate is HTTP 422 with `extensions.code`, and a resolver error is HTTP
//! 200 with an `errors` array and `data: null`.

use std::collections::HashSet;

use apollo_compiler::ast::Value as GqlValue;
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde_json::{Map, Value, json};

use crate::server::Reply;

type JsonObject = Map<String, Value>;

/// A request whose document is valid and whose variables are coerced.
pub(crate) struct GqlRequest {
    document: Valid<ExecutableDocument>,
    operation: Node<Operation>,
    variables: JsonObject,
}

/// A request the GraphQL layer refused, with the root field it was after
/// when that could still be told (so recording and injection see it).
pub(crate) struct Rejection {
    pub reply: Reply,
    pub operation: Option<String>,
}

/// One root field of the operation, with its arguments evaluated.
pub(crate) struct RootField {
    pub name: String,
    pub response_key: String,
    /// Arguments as JSON, variables substituted.
    pub args: JsonObject,
    field: Node<Field>,
    /// Every field name selected anywhere below this root field, so a
    /// resolver can skip building what nobody asked for.
    selected: HashSet<String>,
}

impl RootField {
    /// Whether `name` is selected anywhere below this root field.
    pub fn wants(&self, name: &str) -> bool {
        self.selected.contains(name)
    }
}

/// Parses a schema that ships inside the binary; failure is a build defect,
/// caught by each dialect's unit test, never a request problem.
pub(crate) fn parse_schema(sdl: &str, name: &str) -> Valid<Schema> {
    Schema::parse_and_validate(sdl, name)
        .unwrap_or_else(|e| panic!("embedded schema {name} is invalid: {e}"))
}

/// Parses a schema split over several embedded files, as LitmusChaos ships
/// it (each file `extend`s `Query` / `Mutation` and uses types of the
/// others). The result is the same as validating the concatenation, but a
/// diagnostic names the file and line it comes from.
pub(crate) fn parse_schema_files(files: &[(&str, &str)]) -> Valid<Schema> {
    let mut builder = Schema::builder();
    for (name, sdl) in files {
        builder = builder.parse(*sdl, *name);
    }
    builder
        .build()
        .and_then(Schema::validate)
        .unwrap_or_else(|e| panic!("embedded schema is invalid: {e}"))
}

fn error_reply(status: u16, message: impl Into<String>, code: Option<&str>) -> Reply {
    let mut error = json!({ "message": message.into() });
    if let Some(code) = code {
        error["extensions"] = json!({ "code": code });
    }
    Reply::json(status, &json!({ "errors": [error], "data": null }))
}

/// Decodes and validates a GraphQL POST body.
pub(crate) fn parse_request(
    schema: &Valid<Schema>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<GqlRequest, Rejection> {
    let reject = |reply: Reply| Rejection {
        reply,
        operation: None,
    };
    // gqlgen picks its POST transport by media type; anything else is refused.
    let media_type = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if media_type.as_deref() != Some("application/json") {
        return Err(reject(error_reply(400, "transport not supported", None)));
    }
    let decoded: Value = serde_json::from_slice(body).map_err(|e| {
        reject(error_reply(
            400,
            format!("json request body could not be decoded: {e}"),
            None,
        ))
    })?;
    let Value::Object(mut envelope) = decoded else {
        return Err(reject(error_reply(
            400,
            "json request body could not be decoded: body is not a JSON object",
            None,
        )));
    };
    let query = match envelope.remove("query") {
        Some(Value::String(q)) if !q.trim().is_empty() => q,
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(reject(error_reply(
                422,
                "no operation provided",
                Some("GRAPHQL_VALIDATION_FAILED"),
            )));
        }
        Some(_) => {
            return Err(reject(error_reply(
                400,
                "json request body could not be decoded: query is not a string",
                None,
            )));
        }
    };
    let operation_name = match envelope.remove("operationName") {
        Some(Value::String(n)) if !n.is_empty() => Some(n),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(_) => {
            return Err(reject(error_reply(
                400,
                "json request body could not be decoded: operationName is not a string",
                None,
            )));
        }
    };
    let raw_variables: JsonMap = match envelope.remove("variables") {
        Some(Value::Null) | None => JsonMap::new(),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| {
            reject(error_reply(
                400,
                format!("json request body could not be decoded: variables: {e}"),
                None,
            ))
        })?,
        Some(_) => {
            return Err(reject(error_reply(
                400,
                "json request body could not be decoded: variables is not an object",
                None,
            )));
        }
    };

    let document =
        match ExecutableDocument::parse_and_validate(schema, query.as_str(), "query.graphql") {
            Ok(doc) => doc,
            Err(with_errors) => {
                let operation =
                    operation_name_guess(&with_errors.partial, operation_name.as_deref());
                // Like gqlgen, a document that does not parse is reported by its
                // syntax errors alone, not by what validating the remains finds.
                let diagnostics: Vec<_> = with_errors
                    .errors
                    .iter()
                    .map(|d| (d.error.to_string(), d.line_column_range()))
                    .collect();
                let syntax_failed = diagnostics
                    .iter()
                    .any(|(text, _)| text.starts_with("syntax error"));
                let errors: Vec<Value> = diagnostics
                    .into_iter()
                    .filter(|(text, _)| !syntax_failed || text.starts_with("syntax error"))
                    .map(|(text, range)| {
                        let code = if syntax_failed {
                            "GRAPHQL_PARSE_FAILED"
                        } else {
                            "GRAPHQL_VALIDATION_FAILED"
                        };
                        let mut error = json!({ "message": text, "extensions": { "code": code } });
                        if let Some(range) = range {
                            error["locations"] =
                                json!([{ "line": range.start.line, "column": range.start.column }]);
                        }
                        error
                    })
                    .collect();
                return Err(Rejection {
                    reply: Reply::json(422, &json!({ "errors": errors, "data": null })),
                    operation,
                });
            }
        };
    let operation = match document.operations.get(operation_name.as_deref()) {
        Ok(op) => op.clone(),
        Err(e) => {
            return Err(reject(error_reply(
                422,
                e.message().to_string(),
                Some("GRAPHQL_VALIDATION_FAILED"),
            )));
        }
    };
    let root_name = first_root_field_name(&document, &operation.selection_set);
    let coerced =
        apollo_compiler::request::coerce_variable_values(schema, &operation, &raw_variables)
            .map_err(|e| Rejection {
                reply: error_reply(
                    422,
                    e.message().to_string(),
                    Some("GRAPHQL_VALIDATION_FAILED"),
                ),
                operation: root_name.clone(),
            })?;
    let variables = match serde_json::to_value(&*coerced) {
        Ok(Value::Object(map)) => map,
        _ => JsonObject::new(),
    };
    Ok(GqlRequest {
        document,
        operation,
        variables,
    })
}

/// The root field an unusable document was after, for recording; a best
/// effort on whatever part of the document parsed.
fn operation_name_guess(doc: &ExecutableDocument, name: Option<&str>) -> Option<String> {
    let op = doc
        .operations
        .get(name)
        .ok()
        .or_else(|| doc.operations.iter().next())?;
    first_root_field_name(doc, &op.selection_set)
}

fn first_root_field_name(doc: &ExecutableDocument, set: &SelectionSet) -> Option<String> {
    for selection in &set.selections {
        let found = match selection {
            Selection::Field(f) => Some(f.name.to_string()),
            Selection::InlineFragment(inline) => first_root_field_name(doc, &inline.selection_set),
            Selection::FragmentSpread(spread) => doc
                .fragments
                .get(&spread.fragment_name)
                .and_then(|f| first_root_field_name(doc, &f.selection_set)),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

impl GqlRequest {
    /// The root field name used to record and match the request: the first
    /// one the operation selects.
    pub fn operation_name(&self) -> Option<String> {
        first_root_field_name(&self.document, &self.operation.selection_set)
    }

    /// The operation's root fields, fragments flattened and `@skip` /
    /// `@include` honoured, with their arguments evaluated.
    pub fn root_fields(&self) -> Vec<RootField> {
        let mut fields = Vec::new();
        self.collect_fields(&self.operation.selection_set, &mut |f| {
            fields.push(f.clone())
        });
        fields
            .into_iter()
            .map(|field| {
                let args = field
                    .arguments
                    .iter()
                    .map(|a| (a.name.to_string(), self.value_to_json(&a.value)))
                    .collect();
                let mut selected = HashSet::new();
                self.collect_names(&field.selection_set, &mut selected);
                RootField {
                    name: field.name.to_string(),
                    response_key: field.response_key().to_string(),
                    args,
                    field,
                    selected,
                }
            })
            .collect()
    }

    /// Resolves every root field and builds the response. A resolver error
    /// nulls `data` (every root field of these schemas is non-null, and
    /// gqlgen propagates the null) and is reported with its path.
    pub fn execute(&self, mut resolve: impl FnMut(&RootField) -> Result<Value, String>) -> Reply {
        let mut data = JsonObject::new();
        let mut errors = Vec::new();
        let mut data_is_null = false;
        for root in self.root_fields() {
            match resolve(&root) {
                Ok(value) => {
                    let projected = self.project(&root.field.selection_set, value);
                    merge_into(&mut data, root.response_key.clone(), projected);
                }
                Err(message) => {
                    errors.push(json!({ "message": message, "path": [root.response_key] }));
                    if root.field.definition.ty.is_non_null() {
                        data_is_null = true;
                    } else {
                        data.insert(root.response_key.clone(), Value::Null);
                    }
                }
            }
        }
        let mut body = JsonObject::new();
        if !errors.is_empty() {
            body.insert("errors".into(), Value::Array(errors));
        }
        body.insert(
            "data".into(),
            if data_is_null {
                Value::Null
            } else {
                Value::Object(data)
            },
        );
        Reply::json(200, &Value::Object(body))
    }

    /// Cuts `value` down to what `set` selects. It takes the value by move
    /// so that a field selected once (the usual case, and the 50 MB
    /// `executionData` of a benchmark) is moved rather than copied.
    fn project(&self, set: &SelectionSet, value: Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| self.project(set, item))
                    .collect(),
            ),
            Value::Object(mut object) if !set.selections.is_empty() => {
                let mut fields = Vec::new();
                self.collect_fields(set, &mut |field| fields.push(field.clone()));
                let mut out = JsonObject::new();
                for (i, field) in fields.iter().enumerate() {
                    let projected = if field.name == "__typename" {
                        Value::String(set.ty.to_string())
                    } else {
                        let selected_again =
                            fields[i + 1..].iter().any(|later| later.name == field.name);
                        let full = if selected_again {
                            object.get(field.name.as_str()).cloned()
                        } else {
                            object.remove(field.name.as_str())
                        };
                        self.project(&field.selection_set, full.unwrap_or(Value::Null))
                    };
                    merge_into(&mut out, field.response_key().to_string(), projected);
                }
                Value::Object(out)
            }
            other => other,
        }
    }

    /// Calls `f` for every field `set` selects, looking through fragments.
    /// All types of these schemas are object types, so every fragment that
    /// validated applies.
    fn collect_fields(&self, set: &SelectionSet, f: &mut dyn FnMut(&Node<Field>)) {
        for selection in &set.selections {
            if !self.included(selection.directives()) {
                continue;
            }
            match selection {
                Selection::Field(field) => f(field),
                Selection::InlineFragment(inline) => self.collect_fields(&inline.selection_set, f),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name) {
                        self.collect_fields(&fragment.selection_set, f);
                    }
                }
            }
        }
    }

    fn collect_names(&self, set: &SelectionSet, names: &mut HashSet<String>) {
        self.collect_fields(set, &mut |field| {
            names.insert(field.name.to_string());
            self.collect_names(&field.selection_set, names);
        });
    }

    /// `@skip(if:)` / `@include(if:)`.
    fn included(&self, directives: &apollo_compiler::executable::DirectiveList) -> bool {
        let flag = |name: &str| {
            directives
                .get(name)
                .and_then(|d| d.specified_argument_by_name("if"))
                .map(|v| self.value_to_json(v) == Value::Bool(true))
        };
        flag("skip") != Some(true) && flag("include") != Some(false)
    }

    /// An argument literal as JSON, with variables substituted.
    fn value_to_json(&self, value: &GqlValue) -> Value {
        match value {
            GqlValue::Null => Value::Null,
            GqlValue::Enum(name) => Value::String(name.to_string()),
            GqlValue::Variable(name) => self
                .variables
                .get(name.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            GqlValue::String(s) => Value::String(s.clone()),
            GqlValue::Float(f) => f
                .try_to_f64()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Null, Value::Number),
            GqlValue::Int(i) => match i.as_str().parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => i
                    .try_to_f64()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number),
            },
            GqlValue::Boolean(b) => Value::Bool(*b),
            GqlValue::List(items) => {
                Value::Array(items.iter().map(|v| self.value_to_json(v)).collect())
            }
            GqlValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.value_to_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Inserts a projected field, merging it with an earlier selection of the
/// same response key (`infra { infraID } infra { name }` is one field).
fn merge_into(out: &mut JsonObject, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                merge_into(existing, k, v);
            }
        }
        (Some(Value::Array(existing)), Value::Array(new)) if existing.len() == new.len() => {
            for (slot, v) in existing.iter_mut().zip(new) {
                if let (Value::Object(a), Value::Object(b)) = (slot, v) {
                    for (k, v) in b {
                        merge_into(a, k, v);
                    }
                }
            }
        }
        (_, value) => {
            out.insert(key, value);
        }
    }
}
