//! Every answer body the Litmus client reads (login, trigger, run status,
//! execution data, run look-up, stop, experiment check), chosen by the
//! first byte.
#![no_main]

use chaos_gate::platform::litmus::{parse_answer, ANSWERS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, body)) = data.split_first() {
        let operation = ANSWERS[usize::from(pick) % ANSWERS.len()];
        let _ = parse_answer(operation, body);
    }
});
