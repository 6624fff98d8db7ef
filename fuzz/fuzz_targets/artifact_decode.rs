//! Fuzzes the artifact decoder: it must never panic, and anything it accepts must re-encode
//! to exactly the input bytes (the format is canonical).
#![no_main]

use kiln_protocol::artifact::{Artifact, DecodeOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = DecodeOptions { max_len: 1 << 20, expect: None };
    if let Ok(a) = Artifact::decode(data, &opts) {
        let again = a.encode().expect("a decoded artifact re-encodes");
        assert_eq!(again, data, "accepted bytes are not canonical");
        for t in &a.tensors {
            // Reconstruction must not panic for any accepted tensor of modest size.
            if t.geometry.elements() <= 1 << 22 {
                let dense = t.to_dense();
                assert!(dense.iter().all(|v| v.is_finite()));
            }
        }
    }
});
