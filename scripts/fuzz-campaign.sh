#!/usr/bin/env bash
# The fuzz campaign of issue 7: each target in turn to 10 million executions or 30 minutes,
# one libFuzzer process at a time, appending "target rc secs execs cov ft" to
# $LOGS/summary.txt (the rows of fuzz/RESULTS.md). Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`).
#
#   scripts/fuzz-campaign.sh CORPUS_DIR LOG_DIR [TARGET...]   (default: every target)
#
# CORPUS_DIR/<target> is each target's corpus (grown in place; kept out of the repository).
# Touch LOG_DIR/stop to end the campaign after the running target.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$1 logs=$2
shift 2
mkdir -p "$logs"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  [ -e "$logs/stop" ] && break
  mkdir -p "$corpus/$t"
  extra=()
  # A zstd frame may declare a 2 GiB window, reserved at once (README, Reliability).
  [ "$t" = archive ] && extra=(-malloc_limit_mb=4096)
  start=$(date +%s)
  rc=0
  cargo +nightly fuzz run "$t" "$corpus/$t" -- -runs=10000000 -max_total_time=1800 \
    -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 "${extra[@]}" \
    > "$logs/$t.log" 2>&1 || rc=$?
  end=$(date +%s)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$t.log" | awk '{print $2}')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$logs/$t.log" | tail -1)
  echo "$t rc=$rc secs=$((end - start)) execs=${execs:-0} $cov" >> "$logs/summary.txt"
done
