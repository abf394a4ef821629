//! The Harness REST v2 stop answer, and the error message the transport
//! quotes from any answer it refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chaos_gate::platform::harness::parse_stop_answer(data);
    let _ = chaos_gate::http::server_message(data);
});
