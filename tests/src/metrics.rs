//! `deploy/`'s Grafana dashboards and Prometheus alerts against scrapes of running components:
//! every metric they query must be one the services export.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace's `deploy/` folder.
fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every `kiln_…` metric name in `text` (a PromQL expression or a rules file).
pub fn queried(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in text.match_indices("kiln_") {
        if text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        names.push(name);
    }
    names
}

/// The metric names `deploy/` queries, each with where (`dashboard FILE: PANEL` or
/// `alerts.yml`). Panics on a dashboard that is not JSON or a target without a kiln metric.
pub fn deploy_queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = deploy().join("grafana/dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboard in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable dashboard");
        let dashboard: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        let panels = dashboard["panels"].as_array().expect("a panels list");
        for panel in panels {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().expect("a target with an expr");
                let names = queried(expr);
                assert!(
                    !names.is_empty(),
                    "{}: `{expr}` queries no kiln metric",
                    file.display()
                );
                let at = format!("{}: {}", file.display(), panel["title"]);
                out.extend(names.into_iter().map(|n| (at.clone(), n)));
            }
        }
    }
    let alerts = deploy().join("prometheus/alerts.yml");
    let text = std::fs::read_to_string(&alerts).expect("deploy/prometheus/alerts.yml");
    out.extend(queried(&text).into_iter().map(|n| ("alerts.yml".into(), n)));
    out
}

/// What a Prometheus text scrape exports: the name of every sample line.
pub fn exported(scrape: &str) -> BTreeSet<String> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(String::from)
        .collect()
}

/// The `kiln_…` metrics of a scrape that have a `# TYPE` line but no `# HELP` line.
pub fn undescribed(scrape: &str) -> Vec<String> {
    let after = |prefix: &str| -> BTreeSet<&str> {
        scrape
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|l| l.split(' ').next())
            .collect()
    };
    let help = after("# HELP ");
    after("# TYPE ")
        .into_iter()
        .filter(|n| n.starts_with("kiln_") && !help.contains(n))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queried_finds_whole_names_only() {
        assert_eq!(
            queried(r#"sum(rate(kiln_gateway_uploads_total{outcome!~"stored"}[5m])) / x_kiln_y"#),
            ["kiln_gateway_uploads_total"]
        );
    }

    #[test]
    fn exported_reads_sample_lines_and_undescribed_finds_missing_help() {
        let scrape = "# HELP kiln_a A.\n# TYPE kiln_a counter\nkiln_a{x=\"1\"} 0\n\n\
                      # TYPE kiln_b summary\nkiln_b{quantile=\"0.5\"} 0\nkiln_b_sum 0\n";
        let names: Vec<String> = exported(scrape).into_iter().collect();
        assert_eq!(names, ["kiln_a", "kiln_b", "kiln_b_sum"]);
        assert_eq!(undescribed(scrape), ["kiln_b"]);
    }

    #[test]
    fn deploy_queries_every_role() {
        let q = deploy_queries();
        for role in ["kiln_validator_", "kiln_gateway_", "kiln_miner_"] {
            assert!(
                q.iter().any(|(_, n)| n.starts_with(role)),
                "no {role}* query"
            );
        }
    }
}
