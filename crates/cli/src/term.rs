//! Terminal hygiene: log content is hostile, so nothing from a log reaches the terminal
//! with its control characters intact.

/// Replace every control character (C0 incl. ESC, DEL, C1) by a visible `\xNN`/`\u{..}`
/// escape. Printable text, including non-ASCII, is kept as is.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("tab\there\n"), "tab\\x09here\\x0a");
        assert_eq!(clean("\u{9b}31m"), "\\x9b31m");
        assert_eq!(clean("café ✓"), "café ✓");
    }
}
