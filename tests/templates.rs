//! Template mining on real data: every record lands in exactly one template, so per source
//! the template rows add up to the source's bytes (`wc --bytes`) and records, whatever the
//! thread count or chunk size.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt64Type};
use common::{coroner, fixtures, read_parquet, samples};

fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "analyze".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    let o = coroner(args);
    common::assert_exit(&o, 0);
}

/// (records, bytes) per source, summed over the template rows.
fn sums(batch: &RecordBatch) -> BTreeMap<String, (u64, u64)> {
    let source = batch.column_by_name("source").unwrap().as_string::<i32>();
    let records = batch
        .column_by_name("records")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let bytes = batch
        .column_by_name("bytes")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let mut out = BTreeMap::new();
    for i in 0..batch.num_rows() {
        let e = out.entry(source.value(i).to_string()).or_insert((0, 0));
        e.0 += records.value(i);
        e.1 += bytes.value(i);
    }
    out
}

#[test]
fn template_sums_equal_source_totals_on_every_fixture_and_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (fx, sm) = (fixtures(), samples());
    analyze(&[&fx, &sm], dir.path(), &["--top", "5"]);
    let templates = read_parquet(&dir.path().join("templates.parquet"));
    let sources = read_parquet(&dir.path().join("sources.parquet"));
    let got = sums(&templates);

    let name = sources.column_by_name("source").unwrap().as_string::<i32>();
    let format = sources.column_by_name("format").unwrap().as_string::<i32>();
    let records = sources
        .column_by_name("records")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let bytes = sources
        .column_by_name("bytes")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let (mut all_records, mut all_bytes, mut checked) = (0, 0, 0);
    for i in 0..sources.num_rows() {
        if format.value(i) == "tar" || bytes.value(i) == 0 {
            continue;
        }
        let want = (records.value(i), bytes.value(i));
        assert_eq!(got.get(name.value(i)), Some(&want), "{}", name.value(i));
        all_records += want.0;
        all_bytes += want.1;
        checked += 1;
        // Plain files: the independent truth is wc itself.
        let path = Path::new(name.value(i));
        if path.extension().is_none_or(|e| e != "gz" && e != "zst")
            && path.is_file()
            && !name.value(i).contains(".tar")
        {
            assert_eq!(want.1, common::wc(path).0, "{}", name.value(i));
        }
    }
    assert!(
        checked > 30,
        "fixtures and samples hold many sources, got {checked}"
    );
    assert_eq!(got["*"], (all_records, all_bytes));

    // --top 5: at most 5 templates per source, plus <other> and <not a record>.
    let source = templates
        .column_by_name("source")
        .unwrap()
        .as_string::<i32>();
    let template = templates
        .column_by_name("template")
        .unwrap()
        .as_string::<i32>();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..templates.num_rows() {
        if !template.value(i).starts_with('<') || template.value(i).starts_with("<*>") {
            *per.entry(source.value(i)).or_default() += 1;
        }
    }
    assert!(per.values().all(|&n| n <= 5), "{per:?}");
    let share = templates
        .column_by_name("share")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert!((0..templates.num_rows()).all(|i| (0.0..=1.0).contains(&share.value(i))));
}

#[test]
fn templates_do_not_depend_on_chunk_size() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let input = fixtures().join("kjournald");
    analyze(&[&input], a.path(), &[]);
    analyze(
        &[&input],
        b.path(),
        &["--chunk-size", "4K", "--threads", "2"],
    );
    let ta = std::fs::read(a.path().join("templates.parquet")).unwrap();
    let tb = std::fs::read(b.path().join("templates.parquet")).unwrap();
    assert!(ta == tb, "templates.parquet differs with 4 KiB chunks");
}

#[test]
fn without_patterns_pattern_share_holds_the_top_templates() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().join("kjournald/rpi4-journal.short.txt");
    analyze(&[&input], dir.path(), &["--top", "3"]);
    let share = read_parquet(&dir.path().join("pattern_share.parquet"));
    let templates = read_parquet(&dir.path().join("templates.parquet"));
    let kind = share.column_by_name("kind").unwrap().as_string::<i32>();
    assert!((0..share.num_rows()).all(|i| kind.value(i) == "template"));
    let sp = share.column_by_name("pattern").unwrap().as_string::<i32>();
    let tt = templates
        .column_by_name("template")
        .unwrap()
        .as_string::<i32>();
    let sb = share
        .column_by_name("bytes")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let tb = templates
        .column_by_name("bytes")
        .unwrap()
        .as_primitive::<UInt64Type>();
    // The same rows, but `<not a record>` (the `-- Boot --` lines): it has no records.
    let rows: Vec<usize> = (0..templates.num_rows())
        .filter(|&i| tt.value(i) != "<not a record>")
        .collect();
    assert_eq!(share.num_rows(), rows.len());
    assert!(
        rows.len() < templates.num_rows(),
        "the short rendering has boot separators"
    );
    for (i, &j) in rows.iter().enumerate() {
        assert_eq!((sp.value(i), sb.value(i)), (tt.value(j), tb.value(j)));
    }
}
