//! `deploy/` matches the binary: every example config passes `--check-config`, and every flag
//! and environment variable the systemd units and their env files use exists in the command's
//! `--help`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// The subcommand a role's files configure.
fn subcommand(role: &str) -> Vec<&'static str> {
    match role {
        "validator" => vec!["validator"],
        "miner" => vec!["miner"],
        "gateway" => vec!["gateway", "serve"],
        other => panic!("unknown role {other}"),
    }
}

fn kiln(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env_remove("KILN_CONFIG")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(deploy().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

fn role_of(path: &Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    let name = name.strip_prefix("kiln-").unwrap_or(name);
    name.split('.').next().unwrap().to_string()
}

#[test]
fn every_example_config_passes_check_config() {
    let configs = files("config", "toml");
    assert_eq!(
        configs.len(),
        9,
        "three roles on finney, testnet and local: {configs:?}"
    );
    for path in configs {
        let mut args = subcommand(&role_of(&path));
        args.push("--check-config");
        args.push(path.to_str().unwrap());
        let out = kiln(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("a valid configuration"),
            "{}: {stdout}{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn check_config_refuses_what_would_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(deploy().join("config/validator.local.toml")).unwrap();
    for (bad, why) in [
        ("max-evalutions = 3\n", "has no flag --max-evalutions"),
        ("model = \"huge\"\n", "huge"),
        ("netuid = \"one\"\n", "netuid"),
    ] {
        // A later key for a flag already set is a second value: write the bad line alone over
        // a copy without that key.
        let key = bad.split(' ').next().unwrap();
        let kept: String = good
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} ")))
            .map(|l| format!("{l}\n"))
            .collect();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("{kept}{bad}")).unwrap();
        let out = kiln(&["validator", "--check-config", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad} passed");
        assert!(stderr.contains(why), "{bad}: {stderr}");
    }
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, "chain = \"nowhere\"\n").unwrap();
    let out = kiln(&["gateway", "serve", "--check-config", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}

#[test]
fn systemd_units_use_only_real_flags_and_env_vars() {
    let units = files("systemd", "service");
    assert_eq!(units.len(), 3, "{units:?}");
    for unit in units {
        let role = role_of(&unit);
        let sub = subcommand(&role);
        let help = String::from_utf8(kiln(&[sub.as_slice(), &["--help"]].concat()).stdout).unwrap();
        let text = std::fs::read_to_string(&unit).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap_or_else(|| panic!("{}: no ExecStart", unit.display()));
        let words: Vec<&str> = exec.split_whitespace().collect();
        assert!(words[0].ends_with("/kiln"), "{exec}");
        assert_eq!(words[1..=sub.len()], sub[..], "{exec}");
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")),
                "{}: {flag} is not a flag of `kiln {}`",
                unit.display(),
                sub.join(" ")
            );
        }
        // The config file it names is one of the examples' role.
        let config = words
            .iter()
            .skip_while(|w| **w != "--config")
            .nth(1)
            .unwrap();
        assert!(config.ends_with(&format!("/{role}.toml")), "{exec}");
        // Its environment file's variables.
        let env_file = deploy().join(format!("systemd/{role}.env.example"));
        assert!(
            text.contains(&format!("/etc/kiln/{role}.env")),
            "{}",
            unit.display()
        );
        let env = std::fs::read_to_string(&env_file).unwrap();
        let names: Vec<&str> = env
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
            .map(|l| l.split('=').next().unwrap())
            .collect();
        assert!(!names.is_empty(), "{}", env_file.display());
        for name in names {
            assert!(
                // `[env: NAME=value]`, or `[env: NAME]` where values are hidden.
                help.contains(&format!("env: {name}=")) || help.contains(&format!("env: {name}]")),
                "{}: {name} is no environment variable of `kiln {}`",
                env_file.display(),
                sub.join(" ")
            );
        }
    }
}

#[test]
fn a_required_flag_may_come_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.toml");
    std::fs::write(&path, "database-url = \"postgres://127.0.0.1/kiln\"\n").unwrap();
    let out = kiln(&["api", "--check-config", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the file the flag is still required.
    let out = kiln(&["api", "--check-config", "/dev/null"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database-url"));
}
