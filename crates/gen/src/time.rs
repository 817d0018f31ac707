//! UTC timestamps as microseconds since the Unix epoch, and the handful of text
//! layouts the samples print. Hand-rolled (Howard Hinnant's civil-date algorithms)
//! to keep the crate std-only; every sample time is UTC, so no zone handling.

/// Microseconds in one second.
pub const SEC: i64 = 1_000_000;
/// Microseconds in one millisecond.
pub const MS: i64 = 1_000;
/// Microseconds in one minute.
pub const MIN: i64 = 60 * SEC;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The instant `year-month-day hour:min:sec` UTC, in µs since the epoch.
pub fn at(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> i64 {
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3_600
        + i64::from(min) * 60
        + i64::from(sec);
    secs * SEC
}

/// Broken-down UTC time of an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub micros: u32,
}

impl Civil {
    pub fn of(us: i64) -> Self {
        let secs = us.div_euclid(SEC);
        let micros = us.rem_euclid(SEC) as u32;
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400) as u32;
        Self {
            year,
            month,
            day,
            hour: sod / 3_600,
            min: sod / 60 % 60,
            sec: sod % 60,
            micros,
        }
    }
}

/// Go's `log` package default prefix (`log.LstdFlags`): `2026/07/02 15:42:01`.
pub fn go_log(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// Common Log Format time as Traefik writes it from `StartUTC`:
/// `02/Jul/2026:15:42:01 +0000`.
pub fn clf(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.min,
        c.sec
    )
}

/// RFC 3339 to the second in UTC, as zerolog's console writer prints it
/// (cloudflared): `2026-07-02T15:42:01Z`.
pub fn rfc3339(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// `journalctl -o short-iso --utc` (systemd < 255): `2018-08-11T01:52:03+0000`.
pub fn short_iso(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0000",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// gunicorn's error-log date (`[%Y-%m-%d %H:%M:%S %z]`): `[2023-11-30 14:02:11 +0000]`.
pub fn gunicorn(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "[{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000]",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// PHP's `error_log` stamp with `date.timezone = UTC`: `11-Mar-2021 10:15:42 UTC`.
pub fn php(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:02}-{}-{:04} {:02}:{:02}:{:02} UTC",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.min,
        c.sec
    )
}

/// Redis's log stamp: `13 Dec 2022 18:58:01.020` (no zone; the samples are UTC).
pub fn redis(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:02} {} {:04} {:02}:{:02}:{:02}.{:03}",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.min,
        c.sec,
        c.micros / 1000
    )
}

/// PostgreSQL's `%m` with `log_timezone = UTC`: `2022-12-13 18:58:01.722 UTC`.
pub fn postgres(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.min,
        c.sec,
        c.micros / 1000
    )
}

/// RFC 3339 with milliseconds, as Sidekiq prints it: `2018-08-11T01:52:03.123Z`.
pub fn rfc3339_ms(us: i64) -> String {
    let c = Civil::of(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.min,
        c.sec,
        c.micros / 1000
    )
}

/// `15:42:01`, for prose in the sample READMEs.
pub fn hms(us: i64) -> String {
    let c = Civil::of(us);
    format!("{:02}:{:02}:{:02}", c.hour, c.min, c.sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-1, 0, 1, 59, 365, 10_957, 20_636, 20_636 + 366, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn layouts() {
        // 2026-07-02T15:42:01.5Z, cross-checked with `date -u -d @1783006921`.
        let t = at(2026, 7, 2, 15, 42, 1) + SEC / 2;
        assert_eq!(t / SEC, 1_783_006_921);
        assert_eq!(go_log(t), "2026/07/02 15:42:01");
        assert_eq!(clf(t), "02/Jul/2026:15:42:01 +0000");
        assert_eq!(rfc3339(t), "2026-07-02T15:42:01Z");
        assert_eq!(hms(t), "15:42:01");
        assert_eq!(Civil::of(t).micros, 500_000);
        assert_eq!(short_iso(t), "2026-07-02T15:42:01+0000");
        assert_eq!(gunicorn(t), "[2026-07-02 15:42:01 +0000]");
        assert_eq!(php(t), "02-Jul-2026 15:42:01 UTC");
        assert_eq!(redis(t), "02 Jul 2026 15:42:01.500");
        assert_eq!(postgres(t), "2026-07-02 15:42:01.500 UTC");
        assert_eq!(rfc3339_ms(t), "2026-07-02T15:42:01.500Z");
    }
}
