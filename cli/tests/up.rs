//! `kiln up`: the acceptance run (six windows, three honest miners, a random-data trainer and a
//! copycat, summary as JSON), a Ctrl-C that leaves no process behind, and components that exit
//! when their parent is gone.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kiln() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
    c.env_remove("DATABASE_URL").env_remove("KILN_CONFIG");
    c
}

#[test]
fn kiln_up_runs_six_windows_and_only_honest_miners_earn() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = kiln()
        .args([
            "up",
            "--windows",
            "6",
            "--miners",
            "3",
            "--cheaters",
            "random-data,copycat",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    // The live view showed the dashboard's address first among its links, every window, and
    // the summary closes it.
    let links: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .split_once("http://")
                .map(|(name, _)| name.trim())
        })
        .collect();
    assert_eq!(links.first(), Some(&"dashboard"), "{stdout}");
    assert!(stdout.contains("/api/v1/status"), "{stdout}");
    let windows = stdout.lines().filter(|l| l.starts_with("window ")).count();
    assert_eq!(windows, 6, "{stdout}");
    assert!(
        stdout.contains("honest miners hold all non-zero weight: yes"),
        "{stdout}"
    );

    let summary: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(
        summary["windows"].as_array().unwrap().len(),
        6,
        "{summary:#}"
    );
    assert_eq!(summary["honest_hold_all_weight"], true, "{summary:#}");
    let miners = summary["miners"].as_array().unwrap();
    assert_eq!(miners.len(), 5, "{summary:#}");
    let of = |b: &'static str| miners.iter().filter(move |m| m["behaviour"] == b);
    assert_eq!(of("honest").count(), 3);
    let honest_weight: f64 = of("honest").map(|m| m["weight"].as_f64().unwrap()).sum();
    assert!((honest_weight - 1.0).abs() < 1e-6, "{summary:#}");
    // The chain's incentive, from the weights the chain revealed (commit-reveal v4 is on by
    // default): the honest miners hold it, the cheaters have none.
    let honest_incentive: f64 = of("honest").map(|m| m["incentive"].as_f64().unwrap()).sum();
    assert!(honest_incentive > 0.99, "{summary:#}");
    for (cheat, reason) in [
        ("random-data", "assigned-data check failed"),
        ("copycat", "copy of uid"),
    ] {
        let m = of(cheat)
            .next()
            .unwrap_or_else(|| panic!("no {cheat}: {summary:#}"));
        assert_eq!(m["weight"].as_f64(), Some(0.0), "{m:#}");
        assert_eq!(m["incentive"].as_f64(), Some(0.0), "{m:#}");
        assert_eq!(m["final_score"].as_f64(), Some(0.0), "{m:#}");
        let penalties: Vec<&str> = m["penalties"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(penalties.iter().any(|p| p.contains(reason)), "{m:#}");
    }
    // The model's held-out loss: in every window's header, in the summary and in the JSON,
    // lower at the last window than at the first.
    let headers = stdout
        .lines()
        .filter(|l| l.starts_with("window ") && l.contains("model loss "))
        .count();
    assert_eq!(headers, 6, "{stdout}");
    assert!(stdout.contains("model loss on held-out rows: "), "{stdout}");
    let series = summary["model_loss"].as_array().unwrap();
    assert_eq!(series.len(), 6, "{summary:#}");
    let first = summary["model_loss_first"].as_f64().unwrap();
    let last = summary["model_loss_last"].as_f64().unwrap();
    assert_eq!(series[0]["loss"].as_f64(), Some(first));
    assert_eq!(series[5]["loss"].as_f64(), Some(last));
    assert!(last < first, "the model did not learn: {summary:#}");
    // The private Postgres cluster is gone with the run.
    assert!(!dir.path().join("state/run/pg/postmaster.pid").exists());
}

/// Direct children of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // pid (comm) state ppid …: comm may hold spaces; split after its ')'.
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s[s.rfind(')').unwrap_or(0)..]
            .trim_start_matches(')')
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn ctrl_c_stops_kiln_up_and_every_component() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = kiln()
        .args(["up", "--miners", "2", "--plain", "--warm-windows", "0"])
        .arg("--state-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(up.stdout.take().unwrap()).lines();
    // Once the first window is on screen, everything runs.
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("window ") {
            break;
        }
    }
    assert!(seen.contains("window "), "kiln up ended early:\n{seen}");
    let kids = children(up.id());
    // devnet, gateway, validator, two miners (and nothing else of ours).
    assert!(kids.len() >= 5, "{kids:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(up.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = up.wait().unwrap();
    assert!(status.success(), "{status}");
    let started = Instant::now();
    while kids.iter().any(|k| alive(*k)) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<_> = kids.iter().filter(|k| alive(**k)).collect();
    assert!(
        left.is_empty(),
        "still running after kiln up exited: {left:?}"
    );
}

#[test]
fn a_component_exits_when_its_parent_is_gone() {
    let mut devnet = kiln()
        .args(["devnet", "--port", "0"])
        .env("KILN_EXIT_WITH_PARENT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(devnet.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    // Still running while its stdin is open.
    std::thread::sleep(Duration::from_millis(500));
    assert!(devnet.try_wait().unwrap().is_none());
    // The parent's end of the pipe closes, as when the parent dies.
    drop(devnet.stdin.take());
    let started = Instant::now();
    while devnet.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the devnet outlived its parent"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
