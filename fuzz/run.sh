#!/usr/bin/env bash
# Fuzz every target with cargo-fuzz (needs a nightly toolchain; installs cargo-fuzz if missing).
#   bash fuzz/run.sh [SECONDS_PER_TARGET=600] [TARGET...]
# Two targets run at a time (one per core). Each run first replays the regression inputs of earlier findings
# (fuzz/regressions/<target>), then fuzzes from the working corpus fuzz/corpus/<target> (not committed), which starts
# as a copy of the committed seeds (fuzz/seeds/<target>). New crashes land in fuzz/artifacts/<target>/; logs in
# fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wav_ingest raw_pcm mfcc profile_parse)
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build -O
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "${targets[@]}"; do
  if [ -d "regressions/$t" ]; then
    "$bin/$t" regressions/"$t"/* > "logs/$t.regressions.log" 2>&1 || { echo "regression input of $t fails again: logs/$t.regressions.log"; exit 1; }
  fi
done
run() {
  mkdir -p "corpus/$1" "artifacts/$1"
  for f in seeds/"$1"/*; do [ -e "corpus/$1/${f##*/}" ] || cp "$f" "corpus/$1/"; done
  "$bin/$1" "corpus/$1" -max_total_time="$seconds" -rss_limit_mb=4096 -artifact_prefix="artifacts/$1/" \
    -print_final_stats=1 > "logs/$1.log" 2>&1 && echo "$1: $(grep -E '^Done' "logs/$1.log")" || echo "$1: FOUND A CRASH, see logs/$1.log and artifacts/$1/"
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  [ $((i + 1)) -lt ${#targets[@]} ] && run "${targets[i + 1]}" &
  wait
done
