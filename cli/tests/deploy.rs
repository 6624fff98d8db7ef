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

/// Whether `--help` output lists `flag` (`--name`, as a word of a line's start).
fn has_flag(help: &str, flag: &str) -> bool {
    help.lines().any(|l| {
        l.trim_start()
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .take_while(|w| w.starts_with('-'))
            .any(|w| w == flag)
    })
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
                has_flag(&help, flag),
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

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    if Command::new("promtool").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("KILN_REQUIRE_PROMTOOL").is_none(),
            "promtool is required (apt-get install prometheus)"
        );
        eprintln!("SKIPPED: promtool not found (apt-get install prometheus)");
        return;
    }
    for (what, file) in [("config", "prometheus.yml"), ("rules", "alerts.yml")] {
        let path = deploy().join("prometheus").join(file);
        let out = Command::new("promtool")
            .args(["check", what])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool check {what} {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// The dashboards' and alerts' metric names are checked against a scrape of a running subnet:
// `AssertDeployMetricsScraped` in `tests/tests/adversarial.rs`.

/// A compose service that runs the kiln image: (name, command words, environment names).
type KilnService = (String, Vec<String>, Vec<String>);

/// The services of a compose file that run the kiln image. Reads the files' own layout: two
/// spaces per level, `command:` as a JSON-style list, `environment:` as a map.
fn kiln_services(text: &str) -> Vec<KilnService> {
    let mut services: Vec<(KilnService, bool)> = Vec::new();
    let mut in_services = false;
    let mut in_env = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        match indent {
            0 => in_services = t == "services:",
            2 if in_services => {
                services.push((
                    (t.trim_end_matches(':').to_string(), Vec::new(), Vec::new()),
                    false,
                ));
                in_env = false;
            }
            4 if in_services => {
                let Some(((_, command, _), kiln)) = services.last_mut() else {
                    continue;
                };
                in_env = t == "environment:";
                *kiln |= t == "image: ${KILN_IMAGE}";
                if let Some(list) = t.strip_prefix("command: ") {
                    *command = serde_json::from_str(list).unwrap();
                }
            }
            6 if in_services && in_env => {
                if let Some(((_, _, env), _)) = services.last_mut() {
                    env.push(t.split(':').next().unwrap().to_string());
                }
            }
            _ => {}
        }
    }
    services
        .into_iter()
        .filter(|(_, kiln)| *kiln)
        .map(|(s, _)| s)
        .collect()
}

#[test]
fn compose_files_use_only_real_flags_env_vars_and_config_files() {
    let composes = files("compose", "yml");
    assert_eq!(composes.len(), 2, "{composes:?}");
    let env_example = std::fs::read_to_string(deploy().join("compose/.env.example")).unwrap();
    let mut seen = Vec::new();
    for path in composes {
        let text = std::fs::read_to_string(&path).unwrap();
        let services = kiln_services(&text);
        assert!(!services.is_empty(), "{}", path.display());
        for (name, command, env) in services {
            let role = command
                .first()
                .unwrap_or_else(|| panic!("{name}: no command"))
                .clone();
            let sub = subcommand(&role);
            assert_eq!(command[..sub.len()], sub[..], "{name}: {command:?}");
            let help =
                String::from_utf8(kiln(&[sub.as_slice(), &["--help"]].concat()).stdout).unwrap();
            for flag in command.iter().filter(|w| w.starts_with("--")) {
                assert!(
                    has_flag(&help, flag),
                    "{name}: {flag} is not a flag of `kiln {role}`"
                );
            }
            for var in &env {
                assert!(
                    help.contains(&format!("env: {var}="))
                        || help.contains(&format!("env: {var}]")),
                    "{name}: {var} is no environment variable of `kiln {}`",
                    sub.join(" ")
                );
            }
            // The config it mounts exists for every network `.env.example` may name.
            for network in ["finney", "testnet", "local"] {
                assert!(
                    deploy()
                        .join(format!("config/{role}.{network}.toml"))
                        .is_file(),
                    "{name}: no config/{role}.{network}.toml"
                );
            }
            assert!(
                text.contains(&format!(
                    "../config/{role}.${{KILN_NETWORK}}.toml:/etc/kiln/{role}.toml"
                )),
                "{name}"
            );
            seen.push(role);
        }
        // Every `${VAR}` the file uses is in `.env.example`.
        for (i, _) in text.match_indices("${") {
            let var: String = text[i + 2..].chars().take_while(|c| *c != '}').collect();
            assert!(
                env_example.contains(&format!("\n{var}="))
                    || env_example.starts_with(&format!("{var}=")),
                "{}: ${{{var}}} is not in .env.example",
                path.display()
            );
        }
    }
    seen.sort();
    assert_eq!(seen, ["gateway", "miner", "validator"]);
}
