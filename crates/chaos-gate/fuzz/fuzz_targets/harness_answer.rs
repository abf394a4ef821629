//! Every answer body the Harness client reads (trigger, status poll,
//! execution data, run look-up, experiment check, REST stop), chosen by the
//! first byte.
#![no_main]

use chaos_gate::platform::harness::{parse_answer, ANSWERS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, body)) = data.split_first() {
        let operation = ANSWERS[usize::from(pick) % ANSWERS.len()];
        let _ = parse_answer(operation, body);
    }
});
