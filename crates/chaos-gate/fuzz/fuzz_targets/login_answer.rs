//! The answer of ChaosCenter's `POST /auth/login`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chaos_gate::platform::litmus::parse_login_answer(data);
});
