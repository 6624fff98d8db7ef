//! Fuzzes the commitment parser: no panics, and accepted bytes round-trip exactly.
#![no_main]

use kiln_protocol::commitment::Commitment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Commitment::parse(data) {
        assert_eq!(c.encode().expect("a parsed commitment re-encodes"), data);
    }
});
