//! TEMPORARY STUB (replaced by the real module).
pub type Micros = i64;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YearHint { FirstRecord { year: i32, first_month: u8 }, EndsAt { year: i32, month: u8 } }
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeContext { pub offset_secs: i32, pub year: YearHint }
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64; let d = d as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
pub fn parse_rfc3339(b: &[u8], off: i32) -> Option<(Micros, usize)> {
    let n = |r: std::ops::Range<usize>| -> Option<u32> { let s = b.get(r)?; if !s.iter().all(u8::is_ascii_digit) { return None; } Some(s.iter().fold(0, |a, &d| a * 10 + (d - b'0') as u32)) };
    let (y, mo, d, h, mi, s) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    let mut i = 19; let mut frac = 0i64; let mut digits = 0;
    if b.get(i) == Some(&b'.') { i += 1; while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) { if digits < 6 { frac = frac * 10 + (c - b'0') as i64; digits += 1; } i += 1; } }
    while digits < 6 { frac *= 10; digits += 1; }
    let secs = days_from_civil(y as i32, mo, d) * 86400 + (h * 3600 + mi * 60 + s) as i64;
    let mut offset = off as i64;
    if b.get(i) == Some(&b'Z') { offset = 0; i += 1; }
    Some(((secs - offset) * 1_000_000 + frac, i))
}
pub fn payload_time(_p: crate::format::Payload, _t: &[u8], _c: &TimeContext) -> Option<Micros> { None }
pub fn first_syslog_month(_h: &[u8]) -> Option<u8> { None }
