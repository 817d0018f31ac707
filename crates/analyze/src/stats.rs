//! The per-source accumulator behind `sources.parquet`: counts that merge exactly, so a
//! source cut into any number of chunks and folded in any grouping gives the same totals.

use coroner_parse::format::Payload;
use coroner_parse::timestamp::Micros;

/// Accounting of one source (or of one chunk of it, before merging).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Bytes framed: records + meta + unparsed non-record bytes. Equals the source's
    /// decompressed size when it was read to the end.
    pub bytes: u64,
    pub records: u64,
    /// Records whose envelope grammar did not match (damaged export data, a syslog file line
    /// that is not a syslog line). Plain-file records of the wrong payload are added when
    /// the source is finished, see [`SourceStats::finish`].
    pub unparsed_records: u64,
    pub unparsed_bytes: u64,
    /// Bytes that carry no record by design (journalctl `-- Boot … --` separators, blank
    /// lines between export entries).
    pub meta_bytes: u64,
    pub first_ts: Option<Micros>,
    pub last_ts: Option<Micros>,
    /// Records and bytes per detected payload (parsed records only).
    pub payload_records: [u64; Payload::COUNT],
    pub payload_bytes: [u64; Payload::COUNT],
}

impl SourceStats {
    #[inline]
    pub fn record(&mut self, len: usize, payload: Payload, ts: Option<Micros>) {
        self.bytes += len as u64;
        self.records += 1;
        self.payload_records[payload as usize] += 1;
        self.payload_bytes[payload as usize] += len as u64;
        self.see_time(ts);
    }

    /// A record counted by its bytes alone, not read (see [`RunConfig::read_records`]):
    /// in no payload's counts, with no time.
    ///
    /// [`RunConfig::read_records`]: crate::config::RunConfig::read_records
    #[inline]
    pub fn unread(&mut self, len: usize) {
        self.bytes += len as u64;
        self.records += 1;
    }

    #[inline]
    pub fn unparsed(&mut self, len: usize, ts: Option<Micros>) {
        self.bytes += len as u64;
        self.records += 1;
        self.unparsed_records += 1;
        self.unparsed_bytes += len as u64;
        self.see_time(ts);
    }

    /// Bytes that are not records at all (binary data).
    #[inline]
    pub fn opaque(&mut self, len: usize) {
        self.bytes += len as u64;
        self.unparsed_bytes += len as u64;
    }

    #[inline]
    pub fn meta(&mut self, len: usize) {
        self.bytes += len as u64;
        self.meta_bytes += len as u64;
    }

    #[inline]
    fn see_time(&mut self, ts: Option<Micros>) {
        if let Some(t) = ts {
            self.first_ts = Some(self.first_ts.map_or(t, |f| f.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |l| l.max(t)));
        }
    }

    /// Fold another part of the same source into this one. Commutative and associative.
    pub fn merge(&mut self, other: &SourceStats) {
        self.bytes += other.bytes;
        self.records += other.records;
        self.unparsed_records += other.unparsed_records;
        self.unparsed_bytes += other.unparsed_bytes;
        self.meta_bytes += other.meta_bytes;
        for t in [other.first_ts, other.last_ts] {
            self.see_time(t);
        }
        for i in 0..Payload::COUNT {
            self.payload_records[i] += other.payload_records[i];
            self.payload_bytes[i] += other.payload_bytes[i];
        }
    }

    /// The payload that more than half of the parsed records carry, if any (never `Text`).
    pub fn dominant_payload(&self) -> Option<Payload> {
        let parsed: u64 = self.payload_records.iter().sum();
        Payload::ALL
            .iter()
            .copied()
            .filter(|&p| p != Payload::Text)
            .find(|&p| self.payload_records[p as usize] * 2 > parsed && parsed > 0)
    }

    /// Close the books of a plain file: when one structured payload dominates, the lines
    /// that are not of it did not match the file's grammar (a malformed access-log line):
    /// they are unparsed records. Inside journald or syslog, free text is a normal message,
    /// so only plain files get this rule.
    pub fn finish(&mut self, plain: bool) {
        if plain && self.dominant_payload().is_some() {
            let text = Payload::Text as usize;
            self.unparsed_records += self.payload_records[text];
            self.unparsed_bytes += self.payload_bytes[text];
            self.payload_records[text] = 0;
            self.payload_bytes[text] = 0;
        }
    }

    /// `nginx-access:9998,text:2`: the payload mix, most records first.
    pub fn payload_mix(&self) -> String {
        let mut mix: Vec<(u64, Payload)> = Payload::ALL
            .iter()
            .map(|&p| (self.payload_records[p as usize], p))
            .filter(|(n, _)| *n > 0)
            .collect();
        mix.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        mix.iter()
            .map(|(n, p)| format!("{}:{n}", p.id()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_exact_and_order_free() {
        let mut a = SourceStats::default();
        a.record(10, Payload::NginxAccess, Some(5));
        a.meta(3);
        let mut b = SourceStats::default();
        b.record(7, Payload::Text, Some(2));
        b.unparsed(4, None);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(
            (ab.bytes, ab.records, ab.first_ts, ab.last_ts),
            (24, 3, Some(2), Some(5))
        );
        assert_eq!(ab.bytes, 10 + 7 + 4 + ab.meta_bytes);
    }

    #[test]
    fn plain_files_count_off_grammar_lines_as_unparsed() {
        let mut s = SourceStats::default();
        for _ in 0..3 {
            s.record(100, Payload::NginxAccess, None);
        }
        s.record(50, Payload::Text, None);
        assert_eq!(s.payload_mix(), "nginx-access:3,text:1");
        let mut journal = s.clone();
        s.finish(true);
        assert_eq!((s.unparsed_records, s.unparsed_bytes), (1, 50));
        journal.finish(false);
        assert_eq!(journal.unparsed_records, 0);
    }
}
