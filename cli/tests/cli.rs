//! End-to-end checks of the `kiln` binary.

mod common;

use common::{http_get, kiln, scratch, stdout};
use std::process::{Command, Output};

#[test]
fn help_lists_the_subcommands() {
    let o = kiln(&["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for sub in [
        "artifact",
        "hparams",
        "bench",
        "dataset",
        "devnet",
        "model",
        "chain",
        "keys",
        "gateway",
        "miner",
        "validator",
    ] {
        assert!(text.contains(sub), "{sub} missing from:\n{text}");
    }
}

#[test]
fn inspect_prints_header_and_tensors() {
    let file = scratch("good.art");
    let f = file.to_str().unwrap();
    let o = kiln(&[
        "artifact",
        "synth",
        "--out",
        f,
        "--shapes",
        "128x64,64",
        "--window",
        "42",
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = kiln(&["artifact", "inspect", f]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("window           42"), "{text}");
    assert!(
        text.contains("tensor.0.weight") && text.contains("128x64"),
        "{text}"
    );

    let o = kiln(&[
        "artifact",
        "inspect",
        "--json",
        "--expect-chunk",
        "64",
        "--expect-topk",
        "64",
        f,
    ]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["header"]["window"], 42);
    assert_eq!(v["tensors"][0]["k"], 64);
    assert_eq!(v["tensors"][0]["kept"], 2 * 64);
    assert_eq!(v["tensors"][1]["kept"], 64);
}

#[test]
fn inspect_reports_decoder_errors_with_nonzero_exit() {
    let file = scratch("bad.art");
    let f = file.to_str().unwrap();
    assert!(kiln(&["artifact", "synth", "--out", f]).status.success());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] = b'X';
    std::fs::write(&file, &bytes).unwrap();
    let o = kiln(&["artifact", "inspect", f]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad magic"),
        "{o:?}"
    );

    bytes[0] = b'K';
    bytes.push(7);
    std::fs::write(&file, &bytes).unwrap();
    let o = kiln(&["artifact", "inspect", f]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("trailing bytes"),
        "{o:?}"
    );
}

#[test]
fn hparams_presets_and_validation() {
    let o = kiln(&["hparams", "show", "--preset", "72b"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("blocks_per_window = 115"), "{text}");
    let file = scratch("h.toml");
    std::fs::write(&file, text.replace("topk = 64", "topk = 0")).unwrap();
    let o = kiln(&["hparams", "validate", file.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("compression.topk"),
        "{o:?}"
    );
    assert!(
        !kiln(&["hparams", "show", "--preset", "nope"])
            .status
            .success()
    );
}

#[test]
fn dataset_and_model_commands_round_trip() {
    let ds = scratch("synth-ds");
    let d = ds.to_str().unwrap();
    let o = kiln(&[
        "dataset",
        "synth",
        "--out",
        d,
        "--rows",
        "40",
        "--rows-per-shard",
        "16",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(
        stdout(&o).contains("wrote 40 rows of 64 tokens in 3 shards"),
        "{o:?}"
    );
    let o = kiln(&["dataset", "verify", d]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("ok: 40 rows"), "{o:?}");

    // A flipped byte in a shard makes verification fail with the shard's name.
    let shard = ds.join("shard-00001.bin");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&shard, bytes).unwrap();
    let o = kiln(&["dataset", "verify", d]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("shard-00001.bin"),
        "{o:?}"
    );

    let text = scratch("doc.txt");
    std::fs::write(&text, "abcdefghij").unwrap();
    let built = scratch("built");
    let o = kiln(&[
        "dataset",
        "build",
        "--input",
        text.to_str().unwrap(),
        "--out",
        built.to_str().unwrap(),
        "--seq-len",
        "4",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("11 tokens -> 2 rows of 4"), "{o:?}");
    assert!(stdout(&o).contains("3 trailing tokens"), "{o:?}");

    let m = scratch("model");
    let o = kiln(&[
        "model",
        "init",
        "--preset",
        "tiny",
        "--seed",
        "3",
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let hash = stdout(&o).split_whitespace().next().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let o = kiln(&["model", "hash", m.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains(&format!("state_hash {hash}")), "{o:?}");
    assert!(stdout(&o).contains("parameters 125248"), "{o:?}");
    let o = kiln(&[
        "model",
        "init",
        "--preset",
        "huge",
        "--out",
        m.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
}

/// A `kiln devnet` child process, killed on drop.
struct Devnet(std::process::Child);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One JSON-RPC call over plain HTTP.
fn rpc(addr: &str, method: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":[]}}"#);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let json = out.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(json).unwrap()
}

/// Starts `kiln devnet` on a free port; returns the child and its `host:port`.
fn start_devnet() -> (Devnet, String) {
    use std::io::BufRead;
    let child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["devnet", "--port", "0", "--block-time-ms", "20"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut devnet = Devnet(child);
    let mut line = String::new();
    std::io::BufReader::new(devnet.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("ws://").next().unwrap().to_string();
    (devnet, addr)
}

#[test]
fn devnet_serves_json_rpc_and_produces_blocks() {
    let (_devnet, addr) = start_devnet();
    assert_eq!(rpc(&addr, "system_chain")["result"], "kiln devnet");
    let number = |v: serde_json::Value| {
        let hex = v["result"]["number"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x")
            .to_string();
        u64::from_str_radix(&hex, 16).unwrap()
    };
    let first = number(rpc(&addr, "chain_getHeader"));
    let mut later = first;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        later = number(rpc(&addr, "chain_getHeader"));
        if later > first {
            break;
        }
    }
    assert!(later > first, "no block after {first}");
    let methods = rpc(&addr, "rpc_methods");
    let names = methods["result"]["methods"].as_array().unwrap();
    for m in [
        "author_submitAndWatchExtrinsic",
        "state_call",
        "chain_subscribeFinalizedHeads",
    ] {
        assert!(names.iter().any(|n| n == m), "{m} not listed");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("chainHead_"))
    );
}

fn kiln_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("kiln runs")
}

#[test]
fn keys_new_show_and_inspect() {
    let o = kiln(&["keys", "inspect", "//Alice"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"));
    let o = kiln(&[
        "keys",
        "inspect",
        "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
    ]);
    assert!(
        stdout(&o).contains("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
    );
    assert!(!kiln(&["keys", "inspect", "not a key"]).status.success());

    let root = scratch("wallets");
    let root = root.to_str().unwrap();
    let pw = [("KILN_COLDKEY_PASSWORD", "hunter2-but-longer")];
    let o = kiln_env(
        &[
            "keys",
            "new",
            "--wallet",
            "op",
            "--wallet-path",
            root,
            "--coldkey",
        ],
        &pw,
    );
    assert!(o.status.success(), "{o:?}");
    let cold = stdout(&o);
    let cold = cold
        .lines()
        .find_map(|l| l.strip_prefix("ss58"))
        .unwrap()
        .trim()
        .to_string();
    let o = kiln(&[
        "keys",
        "new",
        "--wallet",
        "op",
        "--wallet-path",
        root,
        "--hotkey",
        "miner",
    ]);
    assert!(o.status.success(), "{o:?}");
    let hot = stdout(&o);
    let hot = hot
        .lines()
        .find_map(|l| l.strip_prefix("ss58"))
        .unwrap()
        .trim()
        .to_string();
    let o = kiln(&["keys", "show", "--wallet", "op", "--wallet-path", root]);
    let text = stdout(&o);
    assert!(
        text.contains(&cold) && text.contains(&format!("miner  {hot}")),
        "{text}"
    );
    // The coldkey is encrypted: nothing in it reads as the phrase or seed.
    let bytes = std::fs::read(format!("{root}/op/coldkey")).unwrap();
    assert!(bytes.starts_with(b"$NACL"));
    // Never overwrites.
    let o = kiln(&[
        "keys",
        "new",
        "--wallet",
        "op",
        "--wallet-path",
        root,
        "--hotkey",
        "miner",
    ]);
    assert!(!o.status.success());
}

#[test]
fn chain_commands_against_a_devnet() {
    let (_devnet, addr) = start_devnet();
    let url = format!("ws://{addr}");
    let chain = |args: &[&str]| {
        let mut all = vec!["chain", "--chain", url.as_str(), "--netuid", "1"];
        all.extend_from_slice(args);
        kiln(&all)
    };
    let o = chain(&["hyperparams", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let params: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(params["tempo"], 10);
    // `kiln devnet` turns commit-reveal v4 on, as on finney.
    assert_eq!(params["commit_reveal"], "timelocked");

    let o = chain(&[
        "register",
        "--coldkey-uri",
        "//Alice",
        "--hotkey-uri",
        "//Bob",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("as uid 1"), "{o:?}");
    let o = chain(&[
        "stake",
        "--coldkey-uri",
        "//Alice",
        "--hotkey-uri",
        "//Bob",
        "--amount",
        "2.5",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("staked 2500000000 rao"), "{o:?}");
    let o = chain(&[
        "serve-axon",
        "--hotkey-uri",
        "//Bob",
        "--ip",
        "10.1.2.3",
        "--port",
        "8091",
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = chain(&[
        "serve-axon",
        "--hotkey-uri",
        "//Bob",
        "--ip",
        "127.0.0.1",
        "--port",
        "8091",
    ]);
    assert!(!o.status.success(), "loopback axons are refused locally");
    let digest = "ab".repeat(32);
    let o = chain(&[
        "commit",
        "--hotkey-uri",
        "//Bob",
        "--window",
        "2",
        "--blake3",
        &digest,
        "--bytes",
        "10",
        "--locator",
        "gw:main",
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = chain(&["commitments", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["kiln"]["window"], 2);
    assert_eq!(rows[0]["kiln"]["blake3"], digest.as_str());

    // The owner hotkey (//Ferdie, uid 0) weights Bob; an unregistered hotkey is refused locally.
    let o = chain(&[
        "set-weights",
        "--hotkey-uri",
        "//Ferdie",
        "--weights",
        "1:1.0,0:0.5",
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = chain(&[
        "set-weights",
        "--hotkey-uri",
        "//Charlie",
        "--weights",
        "1:1",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("HotKeyNotRegisteredInSubNet"),
        "{o:?}"
    );

    let o = chain(&["metagraph", "--json"]);
    assert!(o.status.success(), "{o:?}");
    let graph: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let neurons = graph["neurons"].as_array().unwrap();
    assert_eq!(neurons.len(), 2);
    assert_eq!(
        neurons[1]["hotkey"],
        "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
    );
    assert!(neurons[0]["last_update"].as_u64().unwrap() > 0);
    // 2.5 TAO staked, plus whatever epochs have paid Bob since.
    assert!(
        neurons[1]["stake"].as_u64().unwrap() >= 2_500_000_000,
        "{graph}"
    );
    assert_eq!(neurons[1]["axon"]["port"], 8091);
    let o = chain(&["metagraph"]);
    assert!(stdout(&o).contains("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"));
}

#[test]
fn gateway_serves_and_collects() {
    use std::io::BufRead;
    let (_devnet, chain) = start_devnet();
    let chain = format!("ws://{chain}");
    let dir = scratch("gateway-store");
    let dir = dir.to_str().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([
            "gateway",
            "serve",
            "--chain",
            &chain,
            "--dir",
            dir,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut gateway = Devnet(child);
    let mut line = String::new();
    std::io::BufReader::new(gateway.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    let (status, body) = http_get(&addr, "/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("ok"), "{body}");
    let (status, body) = http_get(&addr, &format!("/v1/artifacts/{}", "ab".repeat(32)));
    assert!(
        status.contains("404") && body.contains("not_found"),
        "{status} {body}"
    );
    let (status, _) = http_get(&addr, "/v1/artifacts/not-a-digest");
    assert!(status.contains("400"), "{status}");
    let (_, metrics) = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("kiln_gateway_downloads_total"),
        "{metrics}"
    );

    let o = kiln(&[
        "gateway",
        "gc",
        "--chain",
        &chain,
        "--dir",
        dir,
        "--keep-windows",
        "2",
        "--preset",
        "tiny",
        "--dry-run",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("scanned    0"), "{o:?}");
}

#[test]
fn a_config_file_sits_between_flags_and_env_and_the_defaults() {
    let file = scratch("config.toml");
    std::fs::write(&file, "preset = \"72b\"\nformat = \"json\"\n").unwrap();
    let path = file.to_str().unwrap();
    let show = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["hparams", "show", "--config", path];
        all.extend_from_slice(args);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
        cmd.args(&all).env_remove("KILN_PRESET");
        cmd.envs(env.iter().copied()).output().unwrap()
    };
    // The file's values replace the defaults (preset tiny, format toml).
    let o = show(&[], &[]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.starts_with('{') && text.contains("\"72b\""), "{text}");
    // A flag or an environment variable wins over the file.
    for o in [
        show(&["--preset", "tiny"], &[]),
        show(&[], &[("KILN_PRESET", "tiny")]),
    ] {
        let text = stdout(&o);
        assert!(
            text.contains("\"tiny\"") && !text.contains("\"72b\""),
            "{text}"
        );
    }
    // Unknown keys and unreadable files are clear errors.
    std::fs::write(&file, "presett = \"tiny\"\n").unwrap();
    let o = show(&[], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("has no flag --presett"), "{err}");
    std::fs::write(&file, "preset = [\n").unwrap();
    let o = show(&[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("config.toml"));
    // The gateway reads its own `--config` settings file (keys that are not flags).
    std::fs::write(&file, "registry_refresh_secs = \"soon\"\n").unwrap();
    let o = kiln(&["gateway", "gc", "--config", path, "--keep-windows", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("expected u64") && !err.contains("has no flag"),
        "{err}"
    );
}
