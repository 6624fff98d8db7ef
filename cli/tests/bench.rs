//! The `kiln bench` commands through the binary: each prints its figures (and the convergence
//! benchmark its curves and plot), and refuses bad arguments.

mod common;

use common::{kiln, scratch, stdout};

#[test]
fn bench_codec_prints_every_figure() {
    let o = kiln(&[
        "bench", "codec", "--set", "tiny", "--runs", "1", "--peers", "3", "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "compression_ratio_vs_fp32",
        "bits_per_kept_value",
        "encode_gbps",
        "decode_gbps",
        "aggregate_gbps",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
    }
    assert!(
        v["compression_ratio_vs_fp32"].as_f64().unwrap() > 150.0,
        "{v}"
    );
    let o = kiln(&[
        "bench", "codec", "--set", "tiny", "--runs", "1", "--peers", "2",
    ]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("compression_ratio_vs_fp32 "))
    );
}

#[test]
fn bench_train_prints_a_row_per_mode() {
    let o = kiln(&[
        "bench",
        "train",
        "--presets",
        "tiny",
        "--runs",
        "1",
        "--steps",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["mode"], "eval");
    assert_eq!(lines[1]["mode"], "train");
    for l in &lines {
        assert!(l["tokens_per_s"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["mfu"].is_null(), "no MFU without a peak on the CPU: {l}");
    }
    let o = kiln(&["bench", "train", "--device", "gpu"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unknown device"),
        "{o:?}"
    );
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_device_needs_a_cuda_build() {
    let o = kiln(&["bench", "train", "--device", "cuda:0"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`cuda` feature"),
        "{o:?}"
    );
}

#[test]
fn bench_yuma_reports_the_epoch_time() {
    let o = kiln(&[
        "bench",
        "yuma",
        "--uids",
        "32",
        "--validators",
        "8",
        "--runs",
        "2",
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("weight_entries 248"), "{text}");
    let ms: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("epoch_ms "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(ms > 0.0, "{text}");
    assert!(
        !kiln(&["bench", "yuma", "--validators", "0"])
            .status
            .success()
    );
}

#[test]
fn bench_validator_reports_the_cost_per_miner() {
    let o = kiln(&["bench", "validator", "--miners", "3"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    let figure = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} missing from {text}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(figure("miners "), 3.0);
    assert!(figure("eval_per_miner_median_s ") > 0.0, "{text}");
    assert!(figure("miners_per_second ") > 0.0, "{text}");
    assert!(
        !kiln(&["bench", "validator", "--miners", "0"])
            .status
            .success()
    );
}

#[test]
fn bench_convergence_prints_curves_figures_and_a_plot() {
    let plot = scratch("convergence.svg");
    let o = kiln(&[
        "bench",
        "convergence",
        "--miners",
        "2",
        "--windows",
        "2",
        "--arms",
        "network,adamw-1,adamw-ddp,network+random",
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    for arm in ["network", "adamw-1", "adamw-ddp", "network+random"] {
        let loss = json["arms"][arm]["loss"].as_array().unwrap();
        assert_eq!(loss.len(), 3, "{arm}: the start and two windows");
        // Every arm starts from the same genesis model on the same held-out rows.
        assert_eq!(loss[0], json["arms"]["network"]["loss"][0], "{arm}");
        let last = loss[2].as_f64().unwrap();
        assert!(
            last < loss[0].as_f64().unwrap(),
            "{arm} did not learn: {loss:?}"
        );
        let key = format!("final_loss_{}", arm.replace(['-', '+'], "_"));
        assert_eq!(json[&key].as_f64().unwrap(), (last * 1e4).round() / 1e4);
    }
    // Tokens: two miners' rows per network window, one miner's for adamw-1.
    let tokens = |arm: &str| json["arms"][arm]["tokens"][1].as_u64().unwrap();
    assert_eq!(tokens("network"), 2 * tokens("adamw-1"));
    assert_eq!(tokens("adamw-ddp"), tokens("network"));
    assert_eq!(tokens("network+random"), 3 * tokens("adamw-1"));
    let honest = json["arms"]["network+random"]["honest_indicators"]
        .as_array()
        .unwrap();
    assert_eq!(honest.len(), 2);
    assert_eq!(
        json["arms"]["network+random"]["random_data_indicators"][0]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for figure in [
        "progress_ratio_vs_adamw1",
        "token_efficiency_vs_ddp",
        "honest_pass_rate",
        "random_data_fail_rate",
    ] {
        assert!(!json[figure].is_null(), "{figure} missing from {json}");
        assert!(text.lines().any(|l| l.starts_with(figure)), "{text}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("network+random"),
        "{svg}"
    );
    assert!(
        !kiln(&["bench", "convergence", "--preset", "huge"])
            .status
            .success()
    );
}

#[test]
fn bench_devnet_reports_blocks_per_second() {
    let o = kiln(&["bench", "devnet", "--blocks", "5", "--starts", "1"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    for figure in ["startup_ms ", "blocks 5", "blocks_per_s ", "ms_per_block "] {
        assert!(text.contains(figure), "{figure} missing: {text}");
    }
}

/// Runs `kiln` with extra environment variables.
#[test]
fn bench_gateway_prints_both_paths() {
    let o = kiln(&[
        "bench",
        "gateway",
        "--artifacts",
        "2",
        "--mib",
        "1",
        "--concurrency",
        "2",
    ]);
    if !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not found on PATH") {
        assert!(
            std::env::var_os("KILN_REQUIRE_S3").is_none(),
            "KILN_REQUIRE_S3 is set but weed is missing"
        );
        eprintln!("SKIPPED: `weed` not installed");
        return;
    }
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    for figure in [
        "upload_direct_mbps",
        "upload_gateway_mbps",
        "download_ratio",
    ] {
        let v: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(figure))
            .unwrap_or_else(|| panic!("{figure} missing:\n{text}"))
            .trim()
            .parse()
            .unwrap();
        assert!(v > 0.0, "{figure} = {v}");
    }
}
