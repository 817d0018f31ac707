//! Help that teaches: examples in `--help`, the format list, completions and a man page,
//! all from the real binary.

mod common;

use common::coroner;

fn stdout(args: &[&str]) -> String {
    let o = coroner(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn analyze_help_shows_examples_from_the_post_mortems() {
    let help = stdout(&["analyze", "--help"]);
    for want in [
        "Examples, from real post-mortems",
        "--short-ms",
        "--burst",
        "drops.parquet",
    ] {
        assert!(help.contains(want), "{want} missing:\n{help}");
    }
    assert!(stdout(&["share", "--help"]).contains("Redis::"));
}

#[test]
fn formats_lists_every_format_with_an_example() {
    let list = stdout(&["formats"]);
    for id in [
        "journald-export",
        "traefik-clf",
        "cloudflared",
        "netstat",
        "gunicorn",
    ] {
        assert!(list.contains(id), "{id}");
    }
}

#[test]
fn completions_and_man_page_are_generated() {
    assert!(stdout(&["completions", "bash"]).contains("_coroner"));
    assert!(stdout(&["completions", "zsh"]).contains("#compdef coroner"));
    let man = stdout(&["man"]);
    assert!(
        man.contains(".TH coroner 1"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains(r"Post\-mortem log forensics"));
}
