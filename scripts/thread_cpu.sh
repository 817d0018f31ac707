#!/usr/bin/env bash
# CPU use per thread of a command, every 2 seconds: clock ticks (100 per second per
# thread) each thread used in the interval, as `tid:ticks` (threads under 6 ticks left
# out). The README's "both cores busy through the pass" comes from this:
#   scripts/thread_cpu.sh target/release/coroner analyze target/bench-bundles/50gb/bundle -o out -q
# Two cores give at most 400 ticks per line in total.
set -u
"$@" &
pid=$!
declare -A prev
t=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 2
  t=$((t + 2))
  line="t=${t}s"
  for task in /proc/"$pid"/task/*; do
    tid=${task##*/}
    # Fields 14 and 15 of stat: user and system ticks.
    used=$(awk '{print $14 + $15}' "$task/stat" 2>/dev/null) || continue
    [ -z "$used" ] && continue
    delta=$((used - ${prev[$tid]:-0}))
    prev[$tid]=$used
    [ "$delta" -gt 5 ] && line="$line $tid:$delta"
  done
  echo "$line"
done
wait "$pid"
