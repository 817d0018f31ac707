//! The bundled samples are what the generator makes, and coroner reads them as their
//! expected.json says (formats, compression, records).

mod common;

use common::*;

#[test]
fn committed_samples_equal_a_fresh_generation() {
    let dir = tempfile::tempdir().unwrap();
    let written = coroner_gen::write_samples(dir.path()).unwrap();
    assert!(!written.is_empty());
    let mut files = 0;
    for entry in walk(dir.path()) {
        let rel = entry.strip_prefix(dir.path()).unwrap();
        let committed = std::fs::read(samples().join(rel)).unwrap_or_else(|e| {
            panic!(
                "samples/{} missing ({e}): run `cargo run -p coroner-gen -- samples samples`",
                rel.display()
            )
        });
        assert!(
            committed == std::fs::read(&entry).unwrap(),
            "samples/{} is stale: regenerate",
            rel.display()
        );
        files += 1;
    }
    assert!(files >= 3);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out.sort();
    out
}

#[test]
fn t3_drop_sources_are_read_as_expected() {
    let sample = samples().join("t3-drop");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(samples().join("t3-drop.expected.json")).unwrap())
            .unwrap();
    let (code, rows, stderr) = detect(&[&sample], &[]);
    assert_eq!(code, 0, "{stderr}");
    let sources = expected["sources"].as_object().unwrap();
    assert!(sources.len() >= 3);
    for (name, want) in sources {
        let r = row(&rows, &format!("t3-drop/{name}"));
        assert!(
            r["format"]
                .as_str()
                .unwrap()
                .starts_with(want["format"].as_str().unwrap()),
            "{name}: {}",
            r["format"]
        );
        assert_eq!(r["compression"], want["compression"], "{name}");
        assert_eq!(r["records"], want["records"], "{name}");
        assert_eq!(r["unparsed_records"], 0, "{name}");
    }
}
