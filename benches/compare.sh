#!/usr/bin/env bash
# The README's performance table: coroner beside the read floor and GNU/ripgrep on the same
# files, in one run. Needs hyperfine and ripgrep (apt-get install hyperfine ripgrep).
# Usage: benches/compare.sh [MiB]   (default 64; the data is the real apache log repeated)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-64}
dir=target/tmp/compare-$mb
mkdir -p "$dir"
if [ ! -s "$dir/access.log" ]; then
  seed=tests/fixtures/elastic-examples/apache_logs
  : > "$dir/access.log"
  while [ "$(stat -c %s "$dir/access.log")" -lt $((mb << 20)) ]; do cat "$seed" >> "$dir/access.log"; done
  gzip -k -6 "$dir/access.log"
fi
cargo build --release --quiet
bin=$PWD/target/release/coroner
cd "$dir"
cat access.log > /dev/null  # warm the page cache
hyperfine -N -i --warmup 2 --runs 10 --export-markdown compare.md --output=null \
  'cat access.log' \
  'wc -l access.log' \
  'rg -c -F zzzz access.log' \
  'gzip -dc access.log.gz' \
  "$bin detect access.log --quiet --threads 1" \
  "$bin detect access.log --quiet --threads 2" \
  "$bin detect access.log.gz --quiet"
echo "bytes: $(stat -c %s access.log) plain, $(stat -c %s access.log.gz) gzip"
cat compare.md

# Pattern share (issue 4): one rg pass for one guess beside coroner's one pass for ten.
pats=(-p 'GET /' -p 'POST ' -p '" 404 ' -p '" 500 ' -p 'Googlebot' -p '.png' -p '/blog/'
      -p 'Mozilla/5.0 (Windows' -p 'wp-login.php' -p 'zzzz-never-there')
hyperfine -N -i --warmup 2 --runs 10 --export-markdown share.md --output=null \
  "sh -c \"rg -F 'GET /' access.log | wc --bytes\"" \
  "sh -c \"grep -F 'GET /' access.log | wc --bytes\"" \
  "$bin share access.log -p 'GET /' --quiet" \
  "$bin share access.log ${pats[*]@Q} --quiet"
cat share.md
