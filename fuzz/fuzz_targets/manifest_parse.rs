//! Fuzzes the dataset manifest parser: no panics, and an accepted manifest locates every row
//! inside its shards.
#![no_main]

use kiln_protocol::dataset::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        assert_eq!(Manifest::parse(m.to_json().as_bytes()).ok().as_ref(), Some(&m));
        for row in [0, m.total_rows / 2, m.total_rows.saturating_sub(1)] {
            let (shard, r) = m.locate(row).expect("rows below total_rows exist");
            assert!(r < m.shards[shard].rows as usize);
        }
        assert!(m.locate(m.total_rows).is_none());
    }
});
