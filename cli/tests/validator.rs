//! `kiln validator` with two honest `kiln miner`s, a miner that trains on random rows, a copycat
//! and a hostile uploader on a devnet, the gateway and a fresh Postgres database: every window's
//! verdicts, weights on chain, the manifests and checkpoints the miners can apply, a `kill -9`
//! and restart of the validator, and nothing scored or sent twice.

mod common;

use bytes::Bytes;
use common::*;
use kiln_protocol::commitment::{Commitment, CommitmentKind};
use kiln_runtime_client::BlockSel;
use kiln_runtime_client::keys::{account, from_secret};
use kiln_storage_gateway::GatewayClient;
use kiln_validator::db::testing::TestDb;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A run under way: the warm-start model of `kiln up` (the tiny model after 30 windows of plain
/// training on the dataset), saved as every participant's current model. (At genesis an update
/// helps every row alike, so the assigned-data check cannot tell miners apart yet.)
async fn pretrained(net: &Net, dirs: &[std::path::PathBuf]) {
    let warm = kiln_stack::warm::warm_model(&net.dir.path().join("data"), net.dir.path(), 30)
        .await
        .unwrap();
    for dir in dirs {
        let model = dir.join("model");
        std::fs::create_dir_all(&model).unwrap();
        for entry in std::fs::read_dir(&warm).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, model.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_validator_rewards_honest_miners_and_zeroes_cheats() {
    let Some(net) = net(false).await else { return };
    let db = TestDb::new().await.unwrap();
    let url = net.gateway.url();
    let gateway = GatewayClient::new(&url, NETUID, Duration::from_secs(30), 2).unwrap();
    let alice = from_secret("//Alice").unwrap();
    let (dave, eve, grace) = (
        from_secret("//Dave").unwrap(),
        from_secret("//Eve").unwrap(),
        from_secret("//Grace").unwrap(),
    );
    for who in [&dave, &eve, &grace] {
        net.chain
            .burned_register(NETUID, &alice, &account(who))
            .await
            .unwrap();
    }
    // Grace is no dev account: her hotkey needs funds for commitment fees.
    net.chain
        .transfer(&alice, &account(&grace), 10_000_000_000)
        .await
        .unwrap();
    let validator_dir = net.dir.path().join("validator");
    pretrained(
        &net,
        &[
            validator_dir.clone(),
            state_dir(&net, "//Bob"),
            state_dir(&net, "//Charlie"),
            state_dir(&net, "//Grace"),
        ],
    )
    .await;
    at_window_start(&net.chain).await;
    let mut miners = [
        MinerProc::start(&net, "//Bob", &url, &[]),
        MinerProc::start(&net, "//Charlie", &url, &[]),
        MinerProc::start(&net, "//Grace", &url, &["--cheat", "random-data"]),
    ];
    let mut args: Vec<String> = ["validator", "--json", "--listen", "127.0.0.1:0", "--chain"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend([
        net.node.ws_url(),
        "--gateway".into(),
        url.clone(),
        "--hotkey-uri".into(),
        "//Ferdie".into(),
        "--database-url".into(),
        db.url.clone(),
        "--state-dir".into(),
        validator_dir.to_str().unwrap().into(),
        "--checkpoint-every".into(),
        "1".into(),
    ]);
    args.extend(net.dataset_args.iter().cloned());
    let with_windows = |n: &str| {
        let mut a = args.clone();
        a.extend(["--windows".into(), n.into()]);
        a
    };
    let mut validator = MinerProc::spawn(&with_windows("3"));
    let mut killed = false;
    let mut http = None;

    // The cheats act on Bob's commitments as they appear: Dave commits Bob's exact digest a
    // little later; Eve uploads and commits bytes that are not an artifact.
    let mut windows: Vec<Value> = Vec::new();
    let mut copied = Vec::new();
    while windows.len() < 3 {
        if let Ok(Some(e)) =
            tokio::time::timeout(Duration::from_millis(50), miners[0].events.recv()).await
            && e["event"] == "window"
            && e["outcome"] == "committed"
        {
            let w = e["window"].as_u64().unwrap();
            let c = Commitment {
                kind: CommitmentKind::Artifact,
                window: w,
                digest: digest(&e["digest"]),
                byte_len: e["bytes"].as_u64().unwrap(),
                locator: "gw".into(),
            };
            net.chain
                .set_commitment(NETUID, &dave, &c.encode().unwrap())
                .await
                .unwrap();
            let junk = Bytes::from(format!("not an artifact, window {w}").repeat(40));
            let receipt = gateway.upload(&eve, junk.clone()).await.unwrap();
            let bad = Commitment {
                digest: receipt.digest,
                byte_len: junk.len() as u64,
                ..c
            };
            net.chain
                .set_commitment(NETUID, &eve, &bad.encode().unwrap())
                .await
                .unwrap();
            copied.push(w);
        }
        if let Ok(Some(v)) =
            tokio::time::timeout(Duration::from_millis(50), validator.events.recv()).await
        {
            if v["event"] == "started" {
                http = v["listen"].as_str().map(String::from);
                continue;
            }
            windows.push(v);
            if !killed {
                // `kill -9` right after the first window, while the next one is under way;
                // the restart resumes from Postgres and scores the remaining two.
                killed = true;
                validator.child.kill().unwrap();
                validator.child.wait().unwrap();
                validator = MinerProc::spawn(&with_windows("2"));
            } else if windows.len() == 2 {
                let addr = http
                    .clone()
                    .expect("the restarted validator said where it listens");
                let (status, body) = http_get(&addr, "/healthz");
                assert!(status.contains("200"), "{status} {body}");
                let health: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(health["status"], "ok", "{health}");
                assert_eq!(
                    health["last_scored_window"], windows[1]["window"],
                    "{health}"
                );
                let (status, _) = http_get(&addr, "/readyz");
                assert!(status.contains("200"), "{status}");
                // The dashboard API serves what was recorded, across the restart.
                let (status, body) = http_get(&addr, "/api/v1/windows");
                assert!(status.contains("200"), "{status} {body}");
                let page: Value = serde_json::from_str(&body).unwrap();
                let listed: Vec<&Value> = page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|w| &w["window"])
                    .collect();
                assert_eq!(listed, [&windows[1]["window"], &windows[0]["window"]]);
                let (_, body) = http_get(&addr, "/api/v1/miners");
                let miners: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(miners["window"], windows[1]["window"], "{miners}");
                let (_, metrics) = http_get(&addr, "/metrics");
                for line in [
                    "kiln_validator_windows_total 1",
                    "kiln_validator_submissions_total{outcome=\"evaluated\"}",
                    "kiln_validator_last_scored_window",
                    "kiln_validator_evaluation_seconds_count",
                ] {
                    assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
                }
            }
        }
    }
    validator.wait_ok();

    // Across the kill: consecutive windows, each scored and recorded once.
    let numbers: Vec<u64> = windows
        .iter()
        .map(|v| v["window"].as_u64().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|p| p[1] == p[0] + 1), "{numbers:?}");
    let recorded: Vec<i64> = sqlx::query_scalar("SELECT win FROM windows ORDER BY win")
        .fetch_all(db.db.pool())
        .await
        .unwrap();
    assert_eq!(
        recorded,
        numbers.iter().map(|&w| w as i64).collect::<Vec<_>>()
    );

    let grace_uid = net
        .chain
        .uid_of(NETUID, &account(&grace))
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let (bob, charlie, dave_uid, eve_uid) = ("1", "2", "3", "4");
    for v in &windows {
        let w = v["window"].as_u64().unwrap();
        let outcome = |uid: &str| v["outcomes"][uid].as_str().unwrap_or("none").to_string();
        assert_eq!(outcome(bob), "evaluated", "{v}");
        assert_eq!(outcome(charlie), "evaluated", "{v}");
        // (On two busy cores a miner can miss a window's deadline.)
        assert!(
            ["evaluated", "missing"].contains(&outcome(&grace_uid).as_str()),
            "{v}"
        );
        assert_eq!(v["finals"][grace_uid.as_str()].as_f64(), Some(0.0), "{v}");
        if copied.contains(&w) {
            assert_eq!(outcome(dave_uid), "copy", "{v}");
            assert_eq!(outcome(eve_uid), "invalid", "{v}");
        }
        assert_eq!(v["finals"][dave_uid].as_f64(), Some(0.0), "{v}");
        assert_eq!(v["finals"][eve_uid].as_f64(), Some(0.0), "{v}");
        // Weights every window (tiny preset), only for the honest miners.
        let weighted: Vec<u64> = v["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["uid"].as_u64().unwrap())
            .collect();
        assert!(weighted.iter().all(|u| *u == 1 || *u == 2), "{v}");
        // A copy or an invalid upload is never aggregated. (The random-data trainer's update
        // lowers the loss and may be: inclusion does not depend on pay. A window whose updates
        // were trained before the previous manifest arrived publishes none.)
        if let Some(peers) = v["manifest"]["peers"].as_array() {
            assert!(peers.iter().all(|p| p != 3 && p != 4), "{v}");
        }
    }
    assert!(
        windows.iter().any(|v| !v["manifest"].is_null()),
        "a manifest was published"
    );
    assert!(!copied.is_empty());
    let evaluated = |uid: &str| {
        windows
            .iter()
            .filter(|v| v["outcomes"][uid] == "evaluated")
            .count()
    };
    assert!(evaluated(&grace_uid) >= 1, "{windows:?}");
    let last = windows.last().unwrap();
    let mut weighted: Vec<u64> = last["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["uid"].as_u64().unwrap())
        .collect();
    weighted.sort_unstable();
    assert_eq!(
        weighted,
        [1, 2],
        "both honest miners hold the weight: {last}"
    );

    // On chain: the validator's (uid 0) weights go to the honest miners only.
    let on_chain = net
        .chain
        .weights_of(NETUID, 0, BlockSel::Latest)
        .await
        .unwrap();
    let mut uids: Vec<u16> = on_chain.iter().map(|(u, _)| *u).collect();
    uids.sort_unstable();
    assert_eq!(uids, [1, 2], "{on_chain:?}");

    // Postgres: each window once, each weight vector included once, every penalty with its
    // reason.
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT win, status FROM weight_submissions ORDER BY win")
            .fetch_all(db.db.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|(_, s)| s == "included"), "{rows:?}");
    // The random-data trainer's assigned-data average never rose above zero.
    let bma: Vec<f64> = sqlx::query_scalar("SELECT bma FROM scores WHERE uid = $1")
        .bind(grace_uid.parse::<i32>().unwrap())
        .fetch_all(db.db.pool())
        .await
        .unwrap();
    assert_eq!(bma.len(), 3);
    assert!(bma.iter().all(|b| *b <= 0.0), "{bma:?}");
    // Every published manifest names a checkpoint whose bytes load to its result model.
    let published: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT c.digest, c.model_hash FROM checkpoints c WHERE c.published ORDER BY c.win",
    )
    .fetch_all(db.db.pool())
    .await
    .unwrap();
    assert!(!published.is_empty());
    for (digest, model_hash) in &published {
        let bytes = gateway
            .download(&digest.as_slice().try_into().unwrap())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.safetensors"), &bytes).unwrap();
        let config = kiln_training::ModelConfig::tiny();
        let model = kiln_training::Model::load_weights(
            &config,
            &dir.path().join("model.safetensors"),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        assert_eq!(
            model.state_hash().unwrap().as_slice(),
            model_hash.as_slice()
        );
    }
    let reasons: Vec<(i32, String)> =
        sqlx::query_as("SELECT uid, reason FROM penalties ORDER BY win, uid")
            .fetch_all(db.db.pool())
            .await
            .unwrap();
    assert!(
        reasons
            .iter()
            .any(|(u, r)| *u == 3 && r.starts_with("copy of uid 1")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(u, r)| *u == 4 && r.starts_with("invalid")),
        "{reasons:?}"
    );

    // Replay recomputes every window's scores and weights from the database exactly, and
    // notices a tampered score.
    let replay = |extra: &[String]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"));
        cmd.args(["validator", "replay", "--database-url", &db.url]);
        for v in &windows {
            cmd.args(["--window", &v["window"].to_string()]);
        }
        cmd.args(extra).output().unwrap()
    };
    let out = replay(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches(": match").count(), 3, "{text}");
    let first = windows[0]["window"].as_i64().unwrap();
    sqlx::query("UPDATE scores SET final_score = final_score + 1e-9 WHERE win = $1 AND uid = 1")
        .bind(first)
        .execute(db.db.pool())
        .await
        .unwrap();
    let out = replay(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("window {first}: MISMATCH")));

    // The miners followed the validator's manifests.
    let mut synced = BTreeMap::new();
    for (i, m) in miners.iter_mut().enumerate() {
        // (A manifest that comes after the miner's wait is a gap, not an error.)
        while let Ok(e) = m.events.try_recv() {
            if e["event"] == "synced" {
                *synced.entry(i).or_insert(0) += 1;
            }
        }
    }
    drop(miners);
    db.drop_database().await.unwrap();
    assert!(!synced.is_empty(), "a miner applied a manifest");
}

/// On a subnet with hash commit-reveal (v2), the validator commits each window's weights and
/// reveals them in the epoch after the commit, from Postgres, while it goes on scoring.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_commit_reveal_weights_are_revealed_one_epoch_later() {
    commit_reveal_weights_are_revealed_one_epoch_later(2).await;
}

/// On a subnet with timelocked commit-reveal (v4, subtensor's default), the validator commits
/// each window's weights encrypted to a round of the devnet's beacon, and the chain reveals
/// them itself in the next epoch; Postgres records the round and the reveal block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelocked_commit_reveal_weights_are_revealed_by_the_chain() {
    commit_reveal_weights_are_revealed_one_epoch_later(4).await;
}

async fn commit_reveal_weights_are_revealed_one_epoch_later(version: u16) {
    let Some(net) = net_with(false, Some(version)).await else {
        return;
    };
    let db = TestDb::new().await.unwrap();
    let mut args: Vec<String> = ["validator", "--json", "--windows", "3", "--listen"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend([
        "127.0.0.1:0".into(),
        "--chain".into(),
        net.node.ws_url(),
        "--gateway".into(),
        net.gateway.url(),
        "--hotkey-uri".into(),
        "//Ferdie".into(),
        "--database-url".into(),
        db.url.clone(),
        "--state-dir".into(),
        net.dir.path().join("validator").to_str().unwrap().into(),
    ]);
    args.extend(net.dataset_args.iter().cloned());
    let mut validator = MinerProc::spawn(&args);
    let mut windows = Vec::new();
    while windows.len() < 3 {
        let v = validator.next(120).await;
        if v["event"] == "window" {
            windows.push(v);
        }
    }
    validator.wait_ok();

    // Nobody mined: each window weights the validator itself (uid 0).
    // (window, status, commit block, inclusion block, error)
    type Row = (
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT win, status, commit_block, block, error, reveal_round FROM weight_submissions
         ORDER BY win",
    )
    .fetch_all(db.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let tempo = i64::from(TEMPO);
    let mut revealed = 0;
    for (win, status, commit, reveal, error, round) in &rows {
        let commit = commit.unwrap_or_else(|| panic!("window {win} was not committed: {error:?}"));
        // Timelocked rows name their drand round; hash commits have none.
        assert_eq!(round.is_some(), version >= 3, "{rows:?}");
        match status.as_str() {
            "included" => {
                let reveal = reveal.unwrap();
                assert_eq!(reveal / tempo, commit / tempo + 1, "{rows:?}");
                revealed += 1;
            }
            // The last commit may still wait for its epoch when the validator stops.
            "committed" => assert_eq!(*win, rows[2].0, "{rows:?}"),
            other => panic!("window {win}: {other} {error:?}"),
        }
    }
    assert!(revealed >= 2, "{rows:?}");
    let on_chain = net
        .chain
        .weights_of(NETUID, 0, BlockSel::Latest)
        .await
        .unwrap();
    assert_eq!(on_chain, [(0, 65535)]);
    db.drop_database().await.unwrap();
}

/// `kiln api` serves a validator's database on its own, and refuses one of another run.
#[tokio::test]
async fn kiln_api_serves_a_validator_database_and_refuses_another_run() {
    use kiln_validator::db::testing::synthetic_record;
    use std::io::BufRead;
    let db = TestDb::new().await.unwrap();
    let tiny = kiln_protocol::Hparams::tiny().hparams_hash();
    db.db.claim(1, "hk", &tiny, &[1; 32]).await.unwrap();
    db.db.persist_window(&synthetic_record(3, 4)).await.unwrap();
    let kiln = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"));
        c.args(["api", "--database-url", &db.url, "--listen", "127.0.0.1:0"]);
        c
    };
    let out = kiln().args(["--preset", "72b"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("other hparams"));

    let mut child = kiln().stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap()
        .trim_end_matches("/api/v1/status")
        .to_string();
    let (status, body) = http_get(&addr, "/api/v1/windows/3");
    assert!(status.contains("200"), "{status} {body}");
    let w: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(w["submissions"].as_array().unwrap().len(), 4);
    let (status, body) = http_get(&addr, "/api/v1/windows/4");
    assert!(status.contains("404"), "{status} {body}");
    // The web dashboard, from the database alone.
    let (status, body) = http_get(&addr, "/windows/3");
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("<h1>Window 3</h1>"), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
    db.drop_database().await.unwrap();
}
