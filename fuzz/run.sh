#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, starting from the committed seeds.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# New corpus entries go to fuzz/corpus/ (git-ignored); crashes to fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
for target in artifact_decode commitment_parse manifest_parse registration_decode aggregation_decode timelock_decrypt shield_decrypt; do
  mkdir -p "corpus/$target"
  echo "fuzz: $target for ${secs}s"
  cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$secs" -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|Done|==|SUMMARY|INFO: Seed)' || true
  # libFuzzer exits non-zero on a crash; pipefail is masked by grep above, so check artifacts.
  if compgen -G "artifacts/$target/crash-*" > /dev/null; then
    echo "fuzz: $target found a crash:" artifacts/"$target"/crash-*
    exit 1
  fi
done
