//! A `Retry-After` header value, and the wait it leads to: never shorter
//! than the backoff, never longer than the cap.
#![no_main]

use std::time::{Duration, SystemTime};

use chaos_gate::http::{parse_retry_after, retry_wait, MAX_RETRY_AFTER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let backoff = Duration::from_millis(500);
    let wait = retry_wait(backoff, parse_retry_after(data, now));
    assert!(wait >= backoff && wait <= MAX_RETRY_AFTER);
});
