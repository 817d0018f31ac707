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
    print(f"{failures} failed, python table check")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
