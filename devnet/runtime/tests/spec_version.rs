//! Clients cache a chain's metadata by genesis hash and `spec_version` (Bittensor's SDK keeps it
//! under `~/.bittensor/runtime-cache`), and the dev genesis is the same on every machine, so a
//! metadata change without a new `spec_version` would leave them decoding with a stale copy.
//! This pins the metadata's hash to the spec version: change one, bump the other.

use codec::Encode;
use kiln_devnet_runtime::{Runtime, VERSION};

/// The spec version and the BLAKE2-256 of the V15 metadata it names.
const PINNED: (u32, &str) = (
    6,
    "b82427a54692a18cfedc11621d6fa53467acb67aa6ae04886954f9e1cdccc742",
);

#[test]
fn metadata_changes_come_with_a_new_spec_version() {
    let metadata = Runtime::metadata_at_version(15).expect("V15 metadata");
    let hash = sp_io::hashing::blake2_256(&metadata.encode());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        (VERSION.spec_version, hex.as_str()),
        PINNED,
        "the metadata changed: bump spec_version in devnet/runtime/src/lib.rs and pin the new \
         (spec_version, hash) here"
    );
}
