#!/usr/bin/env bash
# Two coroner binaries on the same input, alternating, N times each: the median CPU
# (user + system) and wall time of each. On this shared 2-core VM one run per binary
# cannot tell a few percent apart; alternating spreads the machine's moods over both.
#   scripts/ab.sh OLD_BINARY NEW_BINARY target/bench-bundles/5gb/bundle 5
# Each run is `BINARY analyze INPUT -o TMPDIR/out --quiet` under GNU time.
set -eu
a=$1 b=$2 input=$3 n=${4:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$n"); do
  for which in A B; do
    if [ "$which" = A ]; then bin=$a; else bin=$b; fi
    rm -rf "$work/out"
    # Exit 2 is a damaged input, reported and analysed; anything else is a failed run,
    # whose time would mislead.
    status=0
    /usr/bin/time -o "$work/run" -f "$which %U %S %e" \
      "$bin" analyze "$input" -o "$work/out" --quiet >/dev/null || status=$?
    if [ "$status" -eq 0 ] || [ "$status" -eq 2 ]; then
      cat "$work/run" >>"$work/times"
    else
      echo "ab.sh: $bin exited $status; that run is not counted" >&2
    fi
  done
done
python3 - "$work/times" "$a" "$b" <<'PY'
import statistics as st, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 4 and p[0] in runs:
        runs[p[0]].append((float(p[1]) + float(p[2]), float(p[3])))
for which, name in (("A", sys.argv[2]), ("B", sys.argv[3])):
    cpu = [r[0] for r in runs[which]]
    wall = [r[1] for r in runs[which]]
    if not cpu:
        print(f"{name}: no run counted")
        continue
    print(f"{name}: CPU median {st.median(cpu):.2f} s ({' '.join(f'{c:.2f}' for c in cpu)}), "
          f"wall median {st.median(wall):.2f} s")
PY
