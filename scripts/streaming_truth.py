#!/usr/bin/env python3
"""The Mastodon streaming ends of a journal (`journalctl -o short-iso` text, .gz or plain),
counted without coroner: per request id the first `Ending stream` or `Tried writing to
closed socket` line is the end; it has a duration when an earlier line of the id has an
earlier time. Prints the ends and how many have no duration, to compare with
`sockets.parquet` (layer `mastodon-streaming`, `duration_ms` null)."""
import datetime
import gzip
import re
import sys

LINE = re.compile(
    rb"^(\S+) \S+ [^:]+: (?:verb|ERR!) "
    rb"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (.*)$"
)


def main(path):
    opener = gzip.open if path.endswith(".gz") else open
    first, ended, ends, timed = {}, set(), 0, 0
    with opener(path, "rb") as f:
        for line in f:
            m = LINE.match(line.rstrip(b"\n"))
            if not m:
                continue
            stamp, rid, rest = m.groups()
            if rid in ended:
                continue
            t = datetime.datetime.strptime(stamp.decode(), "%Y-%m-%dT%H:%M:%S%z").timestamp()
            if rest.startswith(b"Ending stream") or rest.startswith(b"Tried writing to closed socket"):
                ended.add(rid)
                ends += 1
                f0 = first.pop(rid, None)
                if f0 is not None and f0 < t:
                    timed += 1
            elif rid not in first or t < first[rid]:
                first[rid] = t
    print(f"ends {ends} with duration {timed} without {ends - timed}")


if __name__ == "__main__":
    main(sys.argv[1])
