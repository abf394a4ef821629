//! A run's `executionData` string.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = chaos_gate::platform::execution_data::parse(text);
    }
});
