//! What the dashboard prints: verdicts in words, numbers and hashes shortened for people.

/// A verdict as people read it, and whether it is bad news for the miner.
pub(super) fn verdict(name: &str) -> (&'static str, bool) {
    match name {
        "evaluated" => ("evaluated", false),
        "not_evaluated" => ("waiting its turn", false),
        "infrastructure" => ("storage unreachable, no penalty", false),
        "missing" => ("no submission", true),
        "late" => ("committed too late", true),
        "hash_mismatch" => ("artifact does not match its hash", true),
        "too_large" => ("artifact too large", true),
        "invalid" => ("invalid artifact", true),
        "copy" => ("copied another miner", true),
        _ => ("other", true),
    }
}

/// A weight submission's status in words.
pub(super) fn weights_status(status: &str) -> &'static str {
    match status {
        "pending" => "sending",
        "committed" => "committed, awaiting reveal",
        "included" => "on chain",
        "failed" => "failed",
        "skipped" => "skipped",
        "expired" => "expired unrevealed",
        _ => "unknown",
    }
}

/// The first 8 characters of a hash or key, with an ellipsis when longer.
pub(super) fn short(s: &str) -> String {
    match s.char_indices().nth(8) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A value with `digits` decimals; a dash for none.
pub(super) fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

/// A proportion in `[0, 1]` as a percentage; a dash for none.
pub(super) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

/// A duration in seconds as `1 min 05 s` or `42 s`.
pub(super) fn seconds(s: u64) -> String {
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_the_validator_records_has_words() {
        for v in [
            "evaluated",
            "not_evaluated",
            "infrastructure",
            "missing",
            "late",
            "hash_mismatch",
            "too_large",
            "invalid",
            "copy",
        ] {
            assert_ne!(verdict(v).0, "other", "{v}");
        }
        assert!(verdict("copy").1 && !verdict("infrastructure").1);
    }

    #[test]
    fn shortening_keeps_short_strings_and_char_boundaries() {
        assert_eq!(short("abc"), "abc");
        assert_eq!(short("0123456789abcdef"), "01234567…");
        assert_eq!(short("ééééééééé"), "éééééééé…");
        assert_eq!(seconds(65), "1 min 05 s");
        assert_eq!(seconds(9), "9 s");
        assert_eq!(pct(Some(0.5)), "50.0 %");
        assert_eq!(num(None, 3), "–");
    }
}
