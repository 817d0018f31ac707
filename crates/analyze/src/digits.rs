//! Numbers written as decimal digits without the formatting machinery, for the writers
//! that run per row: drop evidence offsets (millions of drops in a large bundle) and the
//! ports and IPv4 addresses of TIME_WAIT groups (up to 100,000 per capture).

/// `n`'s decimal digits, as `{n}` writes them, at the end of `buf`.
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Append `n` as `{n}` writes it.
pub fn push_decimal(n: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(digits(n, &mut [0; 20]));
}

/// [`push_decimal`] onto a string.
pub fn push_decimal_str(n: u64, out: &mut String) {
    out.extend(digits(n, &mut [0; 20]).iter().map(|&d| char::from(d)));
}

/// Append `ip` as `{ip}` writes it (dotted decimal).
pub fn push_ipv4(ip: std::net::Ipv4Addr, out: &mut Vec<u8>) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_decimal(u64::from(octet), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_as_display() {
        let mut cases = vec![0, 1, 9, 10, 99, 100, 12345, u64::MAX, u64::MAX - 1];
        cases.extend((0..64).map(|k| 1u64 << k));
        cases.extend((1..20).map(|k| 10u64.pow(k) - 1));
        cases.extend(0..=u64::from(u16::MAX));
        for n in cases {
            let mut s = String::from("x");
            push_decimal_str(n, &mut s);
            assert_eq!(s, format!("x{n}"));
            let mut v = b"x".to_vec();
            push_decimal(n, &mut v);
            assert_eq!(v, format!("x{n}").as_bytes());
        }
    }

    #[test]
    fn ipv4_is_written_as_display() {
        let mut out = Vec::new();
        for octet in 0..=255u8 {
            for ip in [
                std::net::Ipv4Addr::new(octet, 0, 255, octet.wrapping_mul(7)),
                std::net::Ipv4Addr::new(10, octet, 9, 100),
            ] {
                out.clear();
                push_ipv4(ip, &mut out);
                assert_eq!(out, ip.to_string().as_bytes());
            }
        }
    }
}
