//! End-to-end checks of the `kiln` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("kiln runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn help_lists_the_subcommands() {
    let o = kiln(&["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for sub in ["artifact", "hparams", "bench"] {
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
