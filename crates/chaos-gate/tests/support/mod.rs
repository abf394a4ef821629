//! What the two property suites (properties.rs, hostile_parsers.rs)
//! share: arbitrary JSON shaped for the parsers, each suite naming the keys
//! its parsers look for.

use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON a few levels deep. Leaves are null, booleans, integers,
/// finite floats, short text and text matching each of `more_text`; object
/// keys are one of `keys` or text matching `other_key`, every one of them
/// as likely as the others.
pub fn any_json_with(
    keys: &'static [&'static str],
    other_key: &'static str,
    more_text: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    let mut leaves = vec![
        Just(Value::Null).boxed(),
        any::<bool>().prop_map(Value::from).boxed(),
        any::<i64>().prop_map(Value::from).boxed(),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from)
            .boxed(),
        ".{0,20}".prop_map(Value::from).boxed(),
    ];
    leaves.extend(more_text.iter().map(|p| p.prop_map(Value::from).boxed()));
    let named = u32::try_from(keys.len()).expect("a few keys");
    prop::strategy::Union::new(leaves).prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    named => prop::sample::select(keys).prop_map(str::to_string),
                    1 => other_key,
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
