//! Accounting invariants and rendering independence, on every sample and fixture: what
//! one table says must add up with what the others say, and how a file is stored must not
//! change what it says.

mod common;

use std::path::Path;

use common::{Row, analyze_into, fixtures, samples, table_rows};

#[test]
fn tables_add_up_on_every_sample_and_fixture() {
    let out = tempfile::tempdir().unwrap();
    let (fx, sm) = (fixtures(), samples());
    analyze_into(
        out.path(),
        &[&fx, &sm],
        &["--quiet", "-p", "context canceled", "-p", "GET /"],
        0,
    );
    common::assert_tables_add_up(out.path(), 2);
}

/// The same files stored plain instead of compressed (same names: coroner goes by magic
/// bytes) give byte-identical tables, except sources.parquet's compression columns.
#[test]
fn plain_and_compressed_renderings_say_the_same() {
    for sample in ["t3-drop", "hachyderm", "redis-timewait"] {
        let src = samples().join(sample);
        let plain = tempfile::tempdir().unwrap();
        let dst = plain.path().join(sample);
        copy_decompressed(&src, &dst);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Relative inputs, so source names are the same in both runs.
        let run = |cwd: &Path, out: &Path| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
                .current_dir(cwd)
                .args(["analyze", "--quiet", "-o"])
                .arg(out)
                .arg(sample)
                .output()
                .unwrap();
            common::assert_exit(&o, 0);
        };
        run(&samples(), a.path());
        run(plain.path(), b.path());
        for entry in std::fs::read_dir(a.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".parquet") {
                continue;
            }
            let other = b.path().join(&name);
            if name == "sources.parquet" {
                let strip = |rows: Vec<Row>| -> Vec<Row> {
                    rows.into_iter()
                        .map(|mut r| {
                            r.remove("compression");
                            r.remove("stored_bytes");
                            r
                        })
                        .collect()
                };
                assert_eq!(
                    strip(table_rows(&path)),
                    strip(table_rows(&other)),
                    "{sample}"
                );
            } else {
                assert!(
                    std::fs::read(&path).unwrap() == std::fs::read(&other).unwrap(),
                    "{sample}: {name} differs between compressed and plain"
                );
            }
        }
    }
}

fn copy_decompressed(src: &Path, dst: &Path) {
    use std::io::Read;
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_decompressed(&p, &to);
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let mut out = Vec::new();
        match bytes.get(..4) {
            Some([0x1f, 0x8b, ..]) => {
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Some([0x28, 0xb5, 0x2f, 0xfd]) => out = zstd::decode_all(&bytes[..]).unwrap(),
            _ => out = bytes,
        }
        std::fs::write(&to, out).unwrap();
        // Same modification time: year-less times and capture dates come from it.
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&to)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
}
