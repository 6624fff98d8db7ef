//! `kiln devnet --state-file`: stopped with Ctrl-C, the chain is saved; started again on the
//! same file, it resumes at the saved best block.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A `kiln devnet` child, killed on drop.
struct Devnet(std::process::Child);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kiln devnet` on `file`; returns the child and its first stdout lines up to the
/// listening one.
fn start(file: &std::path::Path) -> (Devnet, Vec<String>) {
    let mut devnet = Devnet(
        Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args([
                "devnet",
                "--port",
                "0",
                "--block-time-ms",
                "20",
                "--state-file",
            ])
            .arg(file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(devnet.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "no listening line: {lines:?}"
        );
        lines.push(line.trim().to_string());
        if line.contains("listening on") {
            return (devnet, lines);
        }
    }
}

fn best_block(lines: &[String]) -> u64 {
    let line = lines
        .iter()
        .find(|l| l.contains("best block"))
        .unwrap_or_else(|| panic!("no state file line in {lines:?}"));
    line.rsplit("best block ")
        .next()
        .and_then(|n| n.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no block number in {line}"))
}

/// Lets it author for a while, then Ctrl-C; it must exit cleanly.
fn run_then_interrupt(devnet: &mut Devnet) {
    std::thread::sleep(Duration::from_millis(500));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(devnet.0.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = devnet.0.wait().unwrap();
    assert!(status.success(), "kiln devnet exited with {status}");
}

#[test]
fn devnet_resumes_from_its_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("devnet.state");
    let (mut first, lines) = start(&file);
    assert_eq!(best_block(&lines), 0, "a new file starts at genesis");
    run_then_interrupt(&mut first);
    assert!(file.exists());

    let (mut second, lines) = start(&file);
    let resumed = best_block(&lines);
    assert!(resumed >= 5, "resumed at block {resumed}");
    run_then_interrupt(&mut second);

    let (third, lines) = start(&file);
    assert!(
        best_block(&lines) > resumed,
        "the resumed chain grew and was saved"
    );
    drop(third);
}
