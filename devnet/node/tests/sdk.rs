//! Bittensor's own Python SDK (`bittensor==11.3.0` from PyPI, with its bundled `btcli`) against
//! a devnet, unmodified: `devnet/sdk/conformance.py` creates and starts a subnet and sets its
//! hyperparameters as its owner, registers, serves an axon and commits as a miner, stakes, sets
//! weights and reads incentive and dividends back as a validator, and runs `btcli subnets list`
//! and `btcli subnets metagraph`. It prints one line per operation and exits non-zero on any
//! failure.
//!
//! Needs a Python with `bittensor==11.3.0` in `KILN_BITTENSOR_PYTHON` (CI makes a virtualenv
//! from `devnet/sdk/requirements.txt`); without it the test says so and passes, unless
//! `KILN_REQUIRE_BITTENSOR_SDK` is set, as in CI, where it fails.

use kiln_devnet::{NodeConfig, spawn};
use kiln_devnet_runtime::dev;
use std::path::Path;
use std::process::Command;

#[path = "support/sdk_python.rs"]
mod sdk_python;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bittensor_sdk_and_btcli_work_unmodified() {
    let Some(python) = sdk_python::python() else {
        return;
    };
    let node = spawn(NodeConfig {
        state_file: None,
        port: 0,
        block_time_ms: 250,
        instant: false,
        genesis: dev::genesis(vec![dev::fast_subnet(1, 10)]),
    })
    .await
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/conformance.py");
    let url = node.ws_url();
    // The SDK caches metadata by genesis hash and spec version under ~/.bittensor; a private
    // cache keeps a stale copy from another build out of the run.
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .env("BITTENSOR_RUNTIME_CACHE_DIR", cache_dir)
            .arg(script)
            .args(["--url", &url])
            .output()
            .expect("running the conformance script")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the SDK conformance run failed:\n{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("ok ")) && !stdout.contains("FAIL "),
        "every operation must report ok:\n{stdout}"
    );
    node.stop().unwrap();
}
