//! The Python with Bittensor's SDK that the interop tests run.

/// `KILN_BITTENSOR_PYTHON`, a Python with `bittensor==11.3.0`. Without it the caller skips,
/// saying so, unless `KILN_REQUIRE_BITTENSOR_SDK` is set (as in CI): then it fails.
pub(crate) fn python() -> Option<String> {
    match std::env::var("KILN_BITTENSOR_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var_os("KILN_REQUIRE_BITTENSOR_SDK").is_none(),
                "KILN_REQUIRE_BITTENSOR_SDK is set but KILN_BITTENSOR_PYTHON is not"
            );
            eprintln!("SKIPPED: set KILN_BITTENSOR_PYTHON to a Python with bittensor==11.3.0");
            None
        }
    }
}
