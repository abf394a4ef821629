//! A status-poll answer body, as the Harness client reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chaos_gate::platform::harness::parse_poll_answer(data, &["n-1", "n-2"]);
});
