//! A bytes-read progress line on stderr for runs longer than a second.
//!
//! The pipeline reports decompressed bytes once per chunk (megabytes, not lines), so the
//! hot path never touches the terminal. Nothing is drawn when stderr is not a terminal,
//! with `--quiet`, or during the first second (a quick run stays quiet).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows how much has been read; cheap to call from any worker.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: AtomicBool,
}

impl Progress {
    /// `quiet`: never draw. `stored`: total stored bytes of the inputs (shown for scale;
    /// compressed inputs read more than they store, so no percentage is promised).
    pub fn new(quiet: bool, stored: u64) -> Progress {
        use std::io::IsTerminal;
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed}  {bytes} read ({bytes_per_sec}); inputs: {msg} on disk",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(indicatif::HumanBytes(stored).to_string());
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    /// `bytes` more were read (one chunk).
    pub fn add(&self, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        bar.inc(bytes);
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() > Duration::from_secs(1) {
            self.shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Clear the line before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Stored bytes of the inputs (files, and files under directories), for the progress line.
pub fn stored_bytes(paths: &[std::path::PathBuf]) -> u64 {
    fn walk(p: &std::path::Path, depth: u32) -> u64 {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_file() => m.len(),
            Ok(m) if m.is_dir() && depth < 32 => std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| walk(&e.path(), depth + 1)).sum())
                .unwrap_or(0),
            _ => std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map_or(0, |m| m.len()),
        }
    }
    paths.iter().map(|p| walk(p, 0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_or_not_a_terminal_draws_nothing() {
        use std::io::IsTerminal;
        let p = Progress::new(false, 10);
        assert_eq!(p.bar.is_some(), std::io::stderr().is_terminal());
        p.add(5);
        p.finish();
        assert!(Progress::new(true, 10).bar.is_none());
    }

    #[test]
    fn stored_bytes_walks_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"12345").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b"), b"123").unwrap();
        assert_eq!(stored_bytes(&[dir.path().to_path_buf()]), 8);
        assert_eq!(stored_bytes(&[dir.path().join("missing")]), 0);
    }
}
