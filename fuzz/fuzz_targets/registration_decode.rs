//! Fuzzes the decoder of stored Commitments-pallet values: no panics, and accepted bytes
//! re-encode exactly.
#![no_main]

use kiln_protocol::registration::Registration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Registration::decode(data) {
        assert_eq!(r.encode(), data);
    }
});
