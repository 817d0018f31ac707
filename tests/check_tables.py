"""Open every table coroner wrote, the way a notebook does, and check the contract's
columns and types (docs/reports.md). Usage: python3 tests/check_tables.py OUT_DIR"""
import json
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

CONTRACT = {
    "sources.parquet": {
        "source": "string", "format": "string", "compression": "string",
        "stored_bytes": "uint64", "bytes": "uint64", "records": "uint64",
        "unparsed_records": "uint64", "unparsed_bytes": "uint64",
        "first_ts": "timestamp[us, tz=UTC]", "last_ts": "timestamp[us, tz=UTC]",
        "error": "string",
    },
    "pattern_share.parquet": {
        "source": "string", "pattern": "string", "kind": "string", "records": "uint64",
        "bytes": "uint64", "total_bytes": "uint64", "share": "double",
    },
    "templates.parquet": {
        "source": "string", "template_id": "uint64", "template": "string",
        "records": "uint64", "bytes": "uint64", "share": "double",
        "first_ts": "timestamp[us, tz=UTC]", "last_ts": "timestamp[us, tz=UTC]",
        "example": "string",
    },
    "bursts.parquet": {
        "source": "string", "signature": "string", "start": "timestamp[us, tz=UTC]",
        "end": "timestamp[us, tz=UTC]", "seconds": "uint64", "events": "uint64",
        "peak": "uint64", "threshold": "uint64",
    },
    "sockets.parquet": {
        "ts": "timestamp[us, tz=UTC]", "source": "string", "layer": "string",
        "duration_ms": "double", "cause": "string", "client": "string", "path": "string",
        "status": "uint64",
    },
    "socket_histogram.parquet": {
        "layer": "string", "cause": "string", "le_ms": "double", "count": "uint64",
    },
    "drops.parquet": {
        "ts": "timestamp[us, tz=UTC]", "duration_ms": "double", "verdict": "string",
        "layers": "string", "evidence": "string",
    },
    "socket_states.parquet": {
        "capture": "string", "captured_at": "timestamp[us, tz=UTC]", "state": "string",
        "count": "uint64",
    },
    "timewait.parquet": {
        "capture": "string", "local_addr": "string", "remote": "string",
        "time_wait": "uint64", "ports_available": "uint64", "utilization": "double",
    },
    "timeline.parquet": {
        "source": "string", "bucket_start": "timestamp[us, tz=UTC]",
        "bucket_seconds": "uint64", "records": "uint64", "bytes": "uint64",
        "errors": "uint64", "status_2xx": "uint64", "status_3xx": "uint64",
        "status_4xx": "uint64", "status_5xx": "uint64", "p50_ms": "double",
        "p90_ms": "double", "p99_ms": "double",
    },
    "findings.parquet": {
        "ts": "timestamp[us, tz=UTC]", "source": "string", "kind": "string",
        "subject": "string", "detail": "string", "count": "uint64",
    },
}

def main(out: Path) -> int:
    summary = json.loads((out / "summary.json").read_text())
    assert summary["report_version"] == "1", summary["report_version"]
    failures = 0
    for name in summary["tables"]:
        table = pq.read_table(out / name)
        frame = pl.read_parquet(out / name)
        assert frame.height == table.num_rows
        want = CONTRACT.get(name)
        if want is None:
            print(f"{name}: not in this check's contract")
            failures += 1
            continue
        names = table.schema.names[: len(want)]
        if names != list(want):
            print(f"{name}: columns {names}, contract says {list(want)}")
            failures += 1
            continue
        for column, type_name in want.items():
            got = str(table.schema.field(column).type)
            if got != type_name:
                print(f"{name}.{column}: {got}, contract says {type_name}")
                failures += 1
        print(f"{name}: {table.num_rows} rows, {len(table.schema)} columns: ok" if not failures else f"{name}: FAILED")
    sources = pl.read_parquet(out / "sources.parquet")
    total = sources.filter(pl.col("format") != "tar")["bytes"].sum()
    assert total == summary["totals"]["bytes"], (total, summary["totals"]["bytes"])
    if "templates.parquet" in summary["tables"]:
        # Every record lands in one template: per source the rows add up to the source.
        t = pl.read_parquet(out / "templates.parquet")
        per = t.group_by("source").agg(pl.col("bytes").sum(), pl.col("records").sum())
        joined = per.join(sources, on="source", suffix="_src")
        bad = joined.filter((pl.col("bytes") != pl.col("bytes_src")) | (pl.col("records") != pl.col("records_src")))
        if bad.height:
            print(f"templates.parquet: sums differ from sources.parquet: {bad}")
            failures += 1
    if "timeline.parquet" in summary["tables"]:
        # Every record sits in one bucket (or the untimed row): the sums are the source's.
        t = pl.read_parquet(out / "timeline.parquet")
        per = t.group_by("source").agg(pl.col("bytes").sum(), pl.col("records").sum())
        joined = per.join(
            sources.select(["source", "bytes", "records"]), on="source", suffix="_src"
        )
        bad = joined.filter(
            (pl.col("bytes") != pl.col("bytes_src")) | (pl.col("records") != pl.col("records_src"))
        )
        if bad.height:
            print(f"timeline.parquet: sums differ from sources.parquet: {bad}")
            failures += 1
    print(f"{failures} failed, python table check")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
