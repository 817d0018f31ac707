//! Hostile input: the broken bundles forensics brings. One directory holds a corpus the test
//! builds itself (nothing large is committed): cut and damaged gzip and zstd streams, empty
//! files, NULs, a 1 GiB line, invalid UTF-8 at every byte of every common line shape, a
//! journald export with a huge length field and text between entries, deeply nested JSON,
//! tar members with absolute paths, `..`, links, terminal escapes and HTML in their names, a
//! truncated tar, a directory symlink loop, a FIFO, a socket and compressions we do not
//! decode. One `coroner analyze` over all of it must:
//! - not panic, and stay under [`RSS_BOUND`] of memory;
//! - end each damaged source with an error naming the file and the byte offset, having
//!   counted everything before the fault (checked against `gzip -dc | wc --bytes`);
//! - leave the good sources untouched, and exit 2;
//! - keep the accounting of every table exact, write Parquet that reads back as valid
//!   UTF-8, and never let a name from an archive escape it, reach the terminal with its
//!   control bytes, or reach the HTML unescaped;
//! - write the same tables with 1 and 2 threads.
//!
//! The stderr and the `sources.parquet` rows are compared with snapshots in
//! `tests/snapshots/`, so the error texts stay what a person can act on; after changing
//! them on purpose, rerun with `CORONER_BLESS=1` and review the diff.

mod common;

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Row, fixtures, gzip, s, sh, table_rows, u, zstd};

/// Peak resident memory allowed for the whole corpus. The 1 GiB line is what pushes it: a
/// source holds at most one `--max-line` (64 MiB) record in memory before it gives up.
const RSS_BOUND_KIB: i64 = 512 * 1024;
const RSS_BOUND: &str = "512 MiB";

/// A line of each shape the parsers take apart field by field.
const LINE_SHAPES: [(&str, &str); 7] = [
    (
        "combined",
        r#"192.0.2.7 - alice [17/May/2015:10:05:03 +0000] "GET /a?q=1 HTTP/1.1" 200 123 "http://r.example/" "Mozilla/5.0 (X11)""#,
    ),
    (
        "traefik",
        r#"192.0.2.9 - - [02/Jul/2026:15:42:01 +0000] "GET /api/v1/streaming HTTP/1.1" 101 0 "-" "-" 1234 "websecure-app@docker" "http://10.0.0.5:4000" 120012ms"#,
    ),
    (
        "cloudflared",
        r#"2026-07-02T15:42:01Z ERR  error="stream 2213 canceled by remote with error code 0" connIndex=1 event=1 ingressRule=0 originService=http://localhost:8080"#,
    ),
    (
        "npmlog",
        "info streaming:abc-123 Ending stream for user 42 after 17 seconds",
    ),
    (
        "logfmt",
        r#"time="2026-07-02T15:42:01Z" level=error msg="ws close" dur_ms=812 cause=upstream_closed"#,
    ),
    (
        "syslog",
        "Jul  2 15:42:01 host kernel: Out of memory: Killed process 812 (netdata) total-vm:812kB",
    ),
    (
        "docker",
        r#"{"log":"GET /health 200\n","stream":"stdout","time":"2026-07-02T15:42:01.123456789Z"}"#,
    ),
];

struct Corpus {
    dir: tempfile::TempDir,
    /// The apache log the cut gzip files hold (for counting what came before a cut).
    apache: Vec<u8>,
    /// (file name, the stream's bytes) of every gzip cut at some offset.
    cut_gzips: Vec<(String, Vec<u8>)>,
    /// What the cut zstd stream decodes to in full.
    zstd_plain: Vec<u8>,
    /// A socket passed as a path (`sock`): opening it fails even for root. Held so the
    /// socket file exists for the run.
    _socket: UnixListener,
}

impl Corpus {
    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }
}

fn build_corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bundle");
    std::fs::create_dir_all(b.join("links")).unwrap();
    let put = |name: &str, data: &[u8]| std::fs::write(b.join(name), data).unwrap();

    // A good source beside all of it: it must come out untouched.
    let good: Vec<u8> = (0..50)
        .flat_map(|i| {
            format!(
                "{}\n",
                LINE_SHAPES[0].1.replace("/a?q=1", &format!("/g{i}"))
            )
            .into_bytes()
        })
        .collect();
    put("good.log", &good);

    // gzip cut inside the header, inside the deflate data, inside the trailer.
    let apache = std::fs::read(fixtures().join("elastic-examples/apache_logs")).unwrap();
    let gz = gzip(&apache);
    let mut cut_gzips = Vec::new();
    // (One byte is not yet a gzip magic: such a file is plain text, one record.)
    for cut in [
        2,
        10,
        100,
        gz.len() / 4,
        gz.len() / 2,
        gz.len() * 3 / 4,
        gz.len() - 8,
        gz.len() - 1,
    ] {
        let name = format!("cut-{cut:07}.log.gz");
        put(&name, &gz[..cut]);
        cut_gzips.push((name, gz[..cut].to_vec()));
    }
    // A valid member followed by garbage (a hand concatenation gone wrong).
    let small: Vec<u8> = apache[..apache.iter().position(|&b| b == b'\n').unwrap() + 1].repeat(100);
    let mut trailer = gzip(&small);
    trailer.extend_from_slice(b"garbage after the member\n");
    put("trailer.log.gz", &trailer);
    // A flipped byte in the CRC.
    let mut crc = gzip(&small);
    let at = crc.len() - 6;
    crc[at] ^= 0xff;
    put("crc.log.gz", &crc);

    // zstd cut in half, and with a damaged block.
    let zstd_plain: Vec<u8> = (0..100_000u32)
        .flat_map(|i| format!("line {i} of a log {}\n", i.wrapping_mul(2_654_435_761)).into_bytes())
        .collect();
    let z = zstd(&zstd_plain);
    put("cut.log.zst", &z[..z.len() / 2]);
    let mut bad = z.clone();
    let mid = bad.len() / 2;
    for x in &mut bad[mid..mid + 64] {
        *x ^= 0x5a;
    }
    put("corrupt.log.zst", &bad);

    // Compressions we recognise but do not decode.
    put("old.log.bz2", b"BZh91AY&SY\x00\x01\x02");
    put("old.log.xz", b"\xfd7zXZ\x00\x00\x04");

    // Nothing, and nothing but NULs (a crash's preallocated tail).
    put("empty.log", b"");
    put("nuls.log", &vec![0u8; 1 << 20]);

    // A 1 GiB line: sparse on disk (1 MiB of text, then a hole) and, compressed, 1024
    // concatenated zstd frames of 1 MiB each. Both must stop at --max-line.
    {
        let f = std::fs::File::create(b.join("one-gib-line.log")).unwrap();
        (&f).write_all(&vec![b'x'; 1 << 20]).unwrap();
        f.set_len(1 << 30).unwrap();
        let frame = zstd(&vec![b'x'; 1 << 20]);
        put("one-gib-line.log.zst", &frame.repeat(1024));
    }

    // Invalid UTF-8 at every byte position of every line shape, one file per shape.
    for (name, line) in LINE_SHAPES {
        let mut file = Vec::new();
        for i in 0..line.len() {
            let mut l = line.as_bytes().to_vec();
            l[i] = 0xff;
            file.extend_from_slice(&l);
            file.push(b'\n');
        }
        put(&format!("bad-utf8-{name}.log"), &file);
    }

    // journald export: a length field of 2^62 (must not allocate), text between entries.
    let mut export = Vec::new();
    for (i, msg) in [b"one".as_slice(), b"\n", b"three"].iter().enumerate() {
        write!(
            export,
            "__CURSOR=s=abc;i={i}\n__REALTIME_TIMESTAMP={}\n_PID=1\nSYSLOG_IDENTIFIER=app\n",
            1_600_000_000_000_000u64 + i as u64 * 1_000_000
        )
        .unwrap();
        if i == 1 {
            export.extend_from_slice(b"MESSAGE\n");
            export.extend_from_slice(&(1u64 << 62).to_le_bytes());
            export.extend_from_slice(b"short\n\nstray text between entries\n\n");
        } else {
            export.extend_from_slice(b"MESSAGE=");
            export.extend_from_slice(msg);
            export.extend_from_slice(b"\n\n");
        }
    }
    put("journal.export", &export);

    // docker json-file with a line nested 100,000 deep between two good ones.
    let mut docker = Vec::new();
    docker.extend_from_slice(
        br#"{"log":"before\n","stream":"stdout","time":"2026-07-02T15:42:01Z"}"#,
    );
    docker.push(b'\n');
    docker.extend_from_slice(br#"{"log":"#);
    docker.extend(std::iter::repeat_n(b'[', 100_000));
    docker.extend(std::iter::repeat_n(b'{', 100_000));
    docker.push(b'\n');
    docker
        .extend_from_slice(br#"{"log":"after\n","stream":"stdout","time":"2026-07-02T15:42:02Z"}"#);
    docker.push(b'\n');
    put("deep.json", &docker);

    // A tar that tries to get out: absolute and `..` paths, a symlink to /etc/passwd, a
    // hard link, escapes and HTML in names, a cut gzip member. Then the same tar cut short.
    let evil = evil_tar(&small, &gz[..gz.len() / 2]);
    put("evil.tar", &evil);
    put("cut.tar", &evil[..evil.len() / 2 + 100]);

    // A directory symlink loop, and a FIFO in the tree (opening it would block forever).
    std::os::unix::fs::symlink("..", b.join("links/up")).unwrap();
    let status = Command::new("mkfifo")
        .arg(b.join("links/fifo"))
        .status()
        .unwrap();
    assert!(status.success());

    let listener = UnixListener::bind(dir.path().join("sock")).unwrap();
    Corpus {
        dir,
        apache,
        cut_gzips,
        zstd_plain,
        _socket: listener,
    }
}

/// A member name that tries to paint the terminal and ring its bell.
const ESCAPE_NAME: &str = "logs/\x1b[31mred\x1b]0;owned\x07.log";
const HTML_NAME: &str = "logs/<script>alert(1)</script>.log";

fn evil_tar(small: &[u8], cut_gz: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let file = |b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        // Set the raw name: tar::Builder refuses `..` and absolute paths, attackers do not.
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    file(&mut b, "/abs/access.log", small);
    file(&mut b, "../../escape.log", small);
    file(&mut b, ESCAPE_NAME, &small.repeat(3));
    file(&mut b, HTML_NAME, small);
    file(&mut b, "logs/cut.log.gz", cut_gz);
    for (kind, name, target) in [
        (tar::EntryType::Symlink, "logs/passwd", "/etc/passwd"),
        (tar::EntryType::Symlink, "logs/up", "../../.."),
        (tar::EntryType::Link, "logs/hard", "/abs/access.log"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_mtime(1_700_000_000);
        h.set_link_name(target).unwrap();
        h.set_path(name).unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    file(&mut b, "logs/after-links.log", small);
    b.into_inner().unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    out: tempfile::TempDir,
}

fn analyze(corpus: &Corpus, threads: &str) -> Run {
    let out = tempfile::tempdir().unwrap();
    // Relative paths, so the names in the snapshots do not depend on the temp dir.
    let o = Command::new(env!("CARGO_BIN_EXE_coroner"))
        .current_dir(corpus.dir.path())
        .args(["analyze", "--threads", threads, "--chunk-size", "64K", "-o"])
        .arg(out.path())
        .args(["bundle", "sock", "missing.log"])
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        out,
    }
}

/// Records a reader must have counted in `data[..n]`: every line, and a partial last one.
fn lines_in(data: &[u8]) -> u64 {
    let full = data.iter().filter(|&&b| b == b'\n').count() as u64;
    full + u64::from(!data.is_empty() && data.last() != Some(&b'\n'))
}

#[test]
fn a_corpus_of_broken_inputs_is_read_around_every_fault() {
    let corpus = build_corpus();
    let run = analyze(&corpus, "2");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    let sources = table_rows(&run.out.path().join("sources.parquet"));
    let row = |name: &str| -> &Row {
        sources
            .iter()
            .find(|r| s(r, "source") == name)
            .unwrap_or_else(|| {
                panic!(
                    "no source {name:?} in {:#?}",
                    sources.iter().map(|r| s(r, "source")).collect::<Vec<_>>()
                )
            })
    };
    // Every failing source is named on stderr with its cause and offset, as in the table.
    for r in &sources {
        let cause = s(r, "error");
        if cause.is_empty() {
            continue;
        }
        let line = match r["error_offset"].as_u64() {
            Some(at) => format!("coroner: {}: {cause} (at byte {at})", s(r, "source")),
            None => format!("coroner: {}: {cause}", s(r, "source")),
        };
        let line = strip_controls(&line);
        assert!(run.stderr.contains(&line), "{line:?} not in {}", run.stderr);
    }

    // The good source is untouched.
    let good = row("bundle/good.log");
    assert_eq!((u(good, "records"), u(good, "unparsed_records")), (50, 0));
    assert_eq!(good["error"], serde_json::Value::Null);

    // A cut gzip keeps exactly what gzip itself delivers before the cut, every line of it.
    for (name, bytes) in &corpus.cut_gzips {
        let r = row(&format!("bundle/{name}"));
        let path = corpus.bundle().join(name);
        let zcat: u64 = sh(&format!(
            "gzip -dc {} 2>/dev/null | wc --bytes; true",
            path.display()
        ))
        .parse()
        .unwrap();
        assert_eq!(u(r, "bytes"), zcat, "{name}");
        assert_eq!(
            u(r, "records"),
            lines_in(&corpus.apache[..zcat as usize]),
            "{name}"
        );
        assert_eq!(u(r, "stored_bytes"), bytes.len() as u64, "{name}");
        assert!(!s(r, "error").is_empty(), "{name} has no error");
        if zcat > 0 {
            assert_eq!(r["error_offset"], zcat, "{name}");
        }
    }
    // A cut zstd stream: what was decoded is counted, line for line.
    let r = row("bundle/cut.log.zst");
    assert_eq!(s(r, "error"), "truncated zstd stream");
    let n = u(r, "bytes") as usize;
    assert!(n > 0 && n < corpus.zstd_plain.len());
    assert_eq!(u(r, "records"), lines_in(&corpus.zstd_plain[..n]));
    assert_eq!(r["error_offset"], n as u64);
    assert!(s(row("bundle/corrupt.log.zst"), "error").starts_with("zstd: "));
    // Garbage after a good member: the member is whole, the error sits where it ends.
    let r = row("bundle/trailer.log.gz");
    assert_eq!(
        (u(r, "records"), s(r, "error")),
        (100, "gzip: invalid gzip header")
    );
    assert_eq!(r["error_offset"], u(r, "bytes"));
    assert!(!s(row("bundle/crc.log.gz"), "error").is_empty());

    // The 1 GiB line, plain and compressed, ends at the cap having read at most the cap.
    for name in ["bundle/one-gib-line.log", "bundle/one-gib-line.log.zst"] {
        let r = row(name);
        assert_eq!(s(r, "error"), "line longer than 64 MiB", "{name}");
        assert_eq!(
            (r["error_offset"].as_u64(), u(r, "records")),
            (Some(0), 0),
            "{name}"
        );
    }
    // Empty and NUL-filled files are sources: counted, not errors.
    assert_eq!(u(row("bundle/empty.log"), "bytes"), 0);
    let nuls = row("bundle/nuls.log");
    assert_eq!(
        (u(nuls, "bytes"), u(nuls, "unparsed_bytes")),
        (1 << 20, 1 << 20)
    );

    // Invalid UTF-8 anywhere in a line: every line is still a record, none is lost.
    for (name, line) in LINE_SHAPES {
        let r = row(&format!("bundle/bad-utf8-{name}.log"));
        assert_eq!(u(r, "records"), line.len() as u64, "{name}");
        assert_eq!(
            u(r, "bytes"),
            (line.len() as u64) * (line.len() as u64 + 1),
            "{name}"
        );
        assert_eq!(r["error"], serde_json::Value::Null, "{name}");
    }

    // The huge journald length field is an unparsed entry; the entries around it are read.
    let j = row("bundle/journal.export");
    assert_eq!(s(j, "format"), "journald-export");
    assert!(
        u(j, "records") >= 3 && u(j, "unparsed_records") >= 1,
        "{j:?}"
    );
    assert_eq!(j["error"], serde_json::Value::Null);
    // Deep JSON nesting is one more line.
    assert_eq!(u(row("bundle/deep.json"), "records"), 3);

    // The tar: members are labels, never paths. Links are passed over (nothing followed);
    // the member after them is read; a cut gzip member ends only itself.
    for member in [
        "/abs/access.log",
        "../../escape.log",
        ESCAPE_NAME,
        HTML_NAME,
        "logs/after-links.log",
    ] {
        let r = row(&format!("bundle/evil.tar:{member}"));
        assert!(u(r, "records") >= 100, "{member}");
        assert_eq!(r["error"], serde_json::Value::Null, "{member}");
    }
    assert_eq!(
        s(row("bundle/evil.tar:logs/cut.log.gz"), "error"),
        "truncated gzip stream"
    );
    for link in ["logs/passwd", "logs/up", "logs/hard"] {
        assert!(
            !sources
                .iter()
                .any(|r| s(r, "source") == format!("bundle/evil.tar:{link}")),
            "{link} was read"
        );
    }
    let listing = sh(&format!(
        "cd {} && find . | sort",
        corpus.dir.path().display()
    ));
    assert!(
        !listing.contains("escape.log") && !listing.contains("abs"),
        "{listing}"
    );
    assert!(!corpus.dir.path().join("../escape.log").exists());
    assert!(!Path::new("/abs").exists());
    // The cut tar: members before the cut are read, the archive's error names its offset.
    let cut = row("bundle/cut.tar");
    assert!(s(cut, "error").starts_with("tar: "), "{cut:?}");
    assert!(u(row("bundle/cut.tar:/abs/access.log"), "records") >= 100);

    // The loop is reported and not followed; the FIFO is passed over (not opened: the run
    // returned); the socket and the missing file are named.
    assert_eq!(
        s(row("bundle/links/up"), "error"),
        "symbolic link loop (not followed)"
    );
    assert!(!sources.iter().any(|r| s(r, "source").ends_with("fifo")));
    assert_eq!(s(row("sock"), "error"), "No such device or address");
    assert_eq!(s(row("missing.log"), "error"), "No such file or directory");
    assert_eq!(
        s(row("bundle/old.log.bz2"), "error"),
        "bzip2 compression is not supported (decompress it first)"
    );

    // Nothing a log or an archive said reaches the terminal as a control sequence...
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.bytes().any(|b| b == 0x1b || b == 0x07), "{text:?}");
    }
    assert!(
        run.stdout.contains("red"),
        "the escape-named member leads the summary: {}",
        run.stdout
    );
    // ...or the HTML report as markup.
    let html = std::fs::read(run.out.path().join("report.html")).unwrap();
    let html = String::from_utf8(html).expect("report.html is UTF-8");
    assert!(
        !html.contains("<script"),
        "unescaped <script> in report.html"
    );
    assert!(!html.bytes().any(|b| b == 0x1b || b == 0x07));

    // The tables add up, and every one reads back (arrow checks their strings are UTF-8).
    common::assert_tables_add_up(run.out.path(), 0);

    // Memory stayed bounded, the 1 GiB line included.
    let peak_kib = children_peak_rss_kib();
    assert!(
        peak_kib < RSS_BOUND_KIB,
        "peak RSS {peak_kib} KiB over the {RSS_BOUND} bound"
    );

    // 1 thread writes the same tables as 2.
    let one = analyze(&corpus, "1");
    assert_eq!(one.code, 2);
    for entry in std::fs::read_dir(run.out.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".parquet") {
            assert!(
                std::fs::read(&path).unwrap() == std::fs::read(one.out.path().join(&name)).unwrap(),
                "{name} differs between 1 and 2 threads"
            );
        }
    }

    // The words: stderr and every source's row, as snapshots.
    snapshot("hostile.stderr", &sorted_lines(&run.stderr));
    let table: String = sources
        .iter()
        .map(|r| {
            let mut line = String::new();
            for k in [
                "source",
                "format",
                "compression",
                "bytes",
                "records",
                "unparsed_records",
                "error",
                "error_offset",
            ] {
                let v = match &r[k] {
                    serde_json::Value::String(x) => x.escape_debug().to_string(),
                    serde_json::Value::Null => "-".into(),
                    v => v.to_string(),
                };
                line.push_str(&v);
                line.push('\t');
            }
            line.pop();
            line + "\n"
        })
        .collect();
    snapshot("hostile.sources.tsv", &table);
}

/// The terminal form of a name: control characters as the CLI renders them (`\x1b` → `^[`
/// is its business; here it is enough that they are gone).
fn strip_controls(line: &str) -> String {
    line.chars().filter(|c| !c.is_control()).collect()
}

fn sorted_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Compare with `tests/snapshots/NAME`, or write it with `CORONER_BLESS=1`.
fn snapshot(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("CORONER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with CORONER_BLESS=1 to create it)",
            path.display()
        )
    });
    if want != got {
        let diff: Vec<String> = diff_lines(&want, got);
        panic!(
            "{} differs from what coroner wrote now (CORONER_BLESS=1 to accept):\n{}",
            path.display(),
            diff.join("\n")
        );
    }
}

/// Lines only in the snapshot (-) and only in the new output (+).
fn diff_lines(want: &str, got: &str) -> Vec<String> {
    let w: std::collections::BTreeSet<&str> = want.lines().collect();
    let g: std::collections::BTreeSet<&str> = got.lines().collect();
    w.difference(&g)
        .map(|l| format!("- {l}"))
        .chain(g.difference(&w).map(|l| format!("+ {l}")))
        .collect()
}

/// The largest resident set of any child this test process has waited for, in KiB.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage writes one `rusage` into the zeroed struct we own; RUSAGE_CHILDREN
    // is a valid `who`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage
    };
    usage.ru_maxrss
}
