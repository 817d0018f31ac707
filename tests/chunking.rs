//! Vector-style property test: the same input cut at random chunk sizes, read with 1 or 2
//! threads, plain or compressed, must give identical accounting. This is the invariant the
//! parallel pipeline rests on (records never split, never doubled, never lost).

mod common;

use coroner_analyze::config::RunConfig;
use coroner_analyze::pipeline::run;
use proptest::prelude::*;

/// A little of everything the framers must get right: long and empty lines, a last line
/// without newline, journalctl continuations and separators, export binary fields with
/// blank lines inside, garbage between export entries.
fn corpus(seed: u64) -> Vec<(&'static str, Vec<u8>)> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut lines = Vec::new();
    for i in 0..3000 {
        let n = next() % 300;
        if n == 0 {
            lines.push(b'\n');
            continue;
        }
        lines.extend(format!("203.0.113.{} - - [02/Jul/2026:15:{:02}:{:02} +0000] \"GET /ws/{i} HTTP/1.1\" 101 0 \"-\" \"-\" {i} \"t3@k8s\" \"http://10.0.0.1\" {n}ms\n", n % 250, i / 60 % 60, i % 60).bytes());
    }
    lines.extend(b"last line without newline");

    let mut syslog = Vec::new();
    for i in 0..2000 {
        if i % 97 == 0 {
            syslog.extend(b"-- Boot 27acae2fe35a40ac93f9c7732c0b8e59 --\n");
        }
        syslog.extend(format!("2026-07-02T15:{:02}:{:02}.000{:03}+0000 devvm t3-dispatch[812]: ws close dur_ms={} cause=downstream_closed\n", i / 60 % 60, i % 60, i % 1000, next() % 100000).bytes());
        if next() % 10 == 0 {
            syslog.extend(b"                                   continued\n");
        }
    }

    let mut export = Vec::new();
    for i in 0..1500u64 {
        export.extend(
            format!(
                "__CURSOR=s=1;i={i}\n__REALTIME_TIMESTAMP={}\n_PID=812\n",
                1_782_992_521_000_000 + i * 1000
            )
            .bytes(),
        );
        if next() % 5 == 0 {
            let value = b"panic: boom\n\ngoroutine 1 [running]:\n";
            export.extend(b"MESSAGE\n");
            export.extend((value.len() as u64).to_le_bytes());
            export.extend(value);
            export.push(b'\n');
        } else {
            export.extend(format!("MESSAGE=http: proxy error: context canceled {i}\n").bytes());
        }
        if next() % 50 == 0 {
            export.extend(b"Sep 17 11:26:36 stray kernel: line without equals\n");
        }
        export.push(b'\n');
    }
    vec![
        ("access.log", lines),
        ("journal.txt", syslog),
        ("unit.export", export),
    ]
}

fn accounting(dir: &std::path::Path, chunk: usize, threads: usize) -> Vec<String> {
    let config = RunConfig {
        chunk_size: chunk,
        threads,
        ..RunConfig::default()
    };
    let result = run(&[dir.to_path_buf()], &config, &|_| {});
    result
        .sources
        .iter()
        .map(|s| {
            let name = s.name.rsplit('/').next().unwrap().to_string();
            format!(
                "{name} {} {:?} {:?} {}",
                s.format(),
                s.stats,
                s.error,
                s.compression
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn any_chunking_gives_the_same_accounting(seed in 1u64.., chunk in 1usize..200_000, threads in 1usize..=2) {
        let dir = tempfile::tempdir().unwrap();
        for (name, data) in corpus(seed) {
            std::fs::write(dir.path().join(name), &data).unwrap();
            std::fs::write(dir.path().join(format!("{name}.gz")), common::gzip(&data)).unwrap();
            std::fs::write(dir.path().join(format!("{name}.zst")), common::zstd(&data)).unwrap();
        }
        let whole = accounting(dir.path(), 1 << 30, 1);
        let cut = accounting(dir.path(), chunk, threads);
        prop_assert_eq!(&whole, &cut);
        // Plain, gzip and zstd renderings agree but for the compression column.
        for triple in whole.chunks(3) {
            let strip = |s: &str| s.rsplit_once(' ').unwrap().0.split_once(' ').unwrap().1.to_string();
            prop_assert_eq!(strip(&triple[0]), strip(&triple[1]));
            prop_assert_eq!(strip(&triple[0]), strip(&triple[2]));
        }
    }
}
