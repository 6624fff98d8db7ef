//! Fuzzes the aggregation-manifest decoder: no panics, and accepted bytes re-encode exactly.
#![no_main]

use kiln_protocol::aggregation::AggregationManifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = AggregationManifest::decode(data) {
        assert_eq!(m.encode().unwrap(), data);
    }
});
