//! A paycheck result written straight to JSON text.
//!
//! `PaycheckResult::to_json` writes the same bytes as `serde_json::to_string(&result)` (compact,
//! fields in declaration order, the same string escaping and number texts), without going through
//! serde's serializer: serde_json checks every byte of every string one at a time, and a result
//! is ≈ 15 kB of mostly strings (labels, rule ids, source citations), so that check and the
//! `fmt` machinery behind texts built from values were most of the cost of `calculate_json`.
//! Tests compare the two outputs on random results, on results read back from JSON and on texts
//! that need escaping; docs/PERFORMANCE.md has the comparison over the 60,004-request corpus.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::io::Write as _;

/// A JSON text being written, as bytes (every piece pushed is valid UTF-8: whole `str`s and
/// ASCII). Separators are implied: a value or key written right after an opening `{` or `[` gets
/// no comma, anything later gets one (no JSON value ends in `{` or `[`).
pub(crate) struct JsonOut {
    out: Vec<u8>,
}

impl JsonOut {
    pub(crate) fn with_capacity(n: usize) -> JsonOut {
        JsonOut {
            out: Vec::with_capacity(n),
        }
    }

    /// The text written.
    pub(crate) fn finish(self) -> String {
        // Only whole strings and ASCII were pushed, so this never takes the lossy branch.
        String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// A comma unless this is the first item of an object or array.
    #[inline]
    fn sep(&mut self) {
        if !matches!(self.out.last(), Some(b'{' | b'[') | None) {
            self.out.push(b',');
        }
    }

    #[inline]
    pub(crate) fn open_obj(&mut self) {
        self.out.push(b'{');
    }
    #[inline]
    pub(crate) fn close_obj(&mut self) {
        self.out.push(b'}');
    }
    #[inline]
    pub(crate) fn open_arr(&mut self) {
        self.out.push(b'[');
    }
    #[inline]
    pub(crate) fn close_arr(&mut self) {
        self.out.push(b']');
    }

    /// Starts an array element or an object key written with `str` or `text` (the separator
    /// before it).
    #[inline]
    pub(crate) fn elem(&mut self) {
        self.sep();
    }

    /// The `:` after a key written with `str` or `text`.
    #[inline]
    pub(crate) fn colon(&mut self) {
        self.out.push(b':');
    }

    /// Starts a field whose name is a constant needing no escaping (`"name":`).
    #[inline]
    pub(crate) fn key(&mut self, name: &str) {
        self.sep();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A string value, quoted and escaped as serde_json does.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        self.out.push(b'"');
        push_escaped(&mut self.out, s);
        self.out.push(b'"');
    }

    /// A string value written by `f` into the output, then escaped if it needs it.
    pub(crate) fn text(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        self.out.push(b'"');
        let start = self.out.len();
        f(&mut self.out);
        if self.out.get(start..).is_some_and(needs_escape) {
            let raw = self.out.split_off(start);
            push_escaped(&mut self.out, &String::from_utf8_lossy(&raw));
        }
        self.out.push(b'"');
    }

    /// A decimal as a JSON string (`money::ser_money`'s text).
    #[inline]
    pub(crate) fn money(&mut self, d: &Decimal) {
        self.out.push(b'"');
        push_decimal(&mut self.out, d);
        self.out.push(b'"');
    }

    #[inline]
    pub(crate) fn bool(&mut self, b: bool) {
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// A date as a JSON string (`YYYY-MM-DD`, as chrono serializes it).
    pub(crate) fn date(&mut self, d: NaiveDate) {
        self.dated("", d);
    }

    /// A static prefix and a date as one JSON string (`hours:workweek:2025-03-03`).
    pub(crate) fn dated(&mut self, prefix: &str, d: NaiveDate) {
        self.text(|o| {
            o.extend_from_slice(prefix.as_bytes());
            push_date(o, d);
        });
    }
}

/// Two decimal digits of every number below 100.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal digits of `v` ending just before `buf[end]`, two at a time; returns where
/// they start. `buf` must have room for them (20 bytes for any `u64`).
#[inline]
fn digits_u64(buf: &mut [u8], mut end: usize, mut v: u64) -> usize {
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        end -= 2;
        if let (Some(d), Some(p)) = (buf.get_mut(end..end + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    }
    if v >= 10 {
        let pair = v as usize * 2;
        end -= 2;
        if let (Some(d), Some(p)) = (buf.get_mut(end..end + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    } else {
        end -= 1;
        if let Some(d) = buf.get_mut(end) {
            *d = b'0' + v as u8;
        }
    }
    end
}

/// `d`'s `Display` text, written into `out` in one piece.
#[inline]
pub(crate) fn push_decimal(out: &mut Vec<u8>, d: &Decimal) {
    let mut buf = [0; 64];
    out.extend_from_slice(decimal_text(d, &mut buf));
}

/// `d`'s `Display` text (its own scale, `-` on negative values, a `0` before the point of a
/// value below one), any 96-bit mantissa, built at the end of `buf`: the one decimal formatter
/// of the crate (`money::ser_money` and `money::format_decimal` use it too).
pub(crate) fn decimal_text<'a>(d: &Decimal, buf: &'a mut [u8; 64]) -> &'a [u8] {
    const TEN19: u128 = 10_000_000_000_000_000_000;
    let m = d.mantissa().unsigned_abs();
    let scale = d.scale() as usize;
    // At most 29 digits (scale at most 28), a point and a sign. Zeros first, which pads.
    *buf = [b'0'; 64];
    let end = buf.len();
    let mut start = match u64::try_from(m) {
        Ok(small) => digits_u64(buf, end, small),
        Err(_) => {
            // The low 19 digits, then the rest (above 10^19, so never zero).
            digits_u64(buf, end, (m % TEN19) as u64);
            digits_u64(buf, end - 19, (m / TEN19) as u64)
        }
    };
    if scale > 0 {
        // At least one digit before the point; then move the whole part one place left and put
        // the point after it.
        start = start.min(end - scale - 1);
        let point = end - scale;
        for i in start..point {
            if let Some(&b) = buf.get(i) {
                buf[i - 1] = b;
            }
        }
        buf[point - 1] = b'.';
        start -= 1;
    }
    if d.is_sign_negative() {
        start -= 1;
        buf[start] = b'-';
    }
    buf.get(start..).unwrap_or_default()
}

/// `d` as `YYYY-MM-DD` (chrono's text; years outside 0–9999 through chrono itself).
pub(crate) fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    match date_bytes(d) {
        Some(b) => out.extend_from_slice(&b),
        None => {
            let _ = write!(out, "{d}");
        }
    }
}

/// `YYYY-MM-DD` for a year in 0–9999.
pub(crate) fn date_bytes(d: NaiveDate) -> Option<[u8; 10]> {
    let y = u16::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let (m, day) = (d.month() as u8, d.day() as u8);
    Some([
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + day / 10,
        b'0' + day % 10,
    ])
}

/// A `usize` in decimal.
pub(crate) fn push_usize(out: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 20];
    let start = digits_u64(&mut buf, 20, n as u64);
    out.extend_from_slice(buf.get(start..).unwrap_or_default());
}

/// Whether a byte must be escaped inside a JSON string (serde_json's rule: control characters,
/// `"` and `\`; everything else, DEL and non-ASCII included, is written as it is).
#[inline]
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any byte of the word `x` must be escaped: a byte below 0x20, or equal to `"` or `\\`,
/// sets the high bit of its lane (the classic "has less than" / "has a zero byte" word tricks:
/// exact as a yes/no answer, since a borrow only crosses lanes above a lane that already hit).
#[inline]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = x.wrapping_sub(ONES * 0x20);
    let quote = x ^ (ONES * u64::from(b'"'));
    let slash = x ^ (ONES * u64::from(b'\\'));
    (below | quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash) & !x & HIGH != 0
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(b);
    u64::from_le_bytes(x)
}

/// Whether any byte of `b` must be escaped, eight bytes at a time (the last word overlapping
/// the one before it); texts shorter than a word byte by byte.
#[inline]
fn needs_escape(b: &[u8]) -> bool {
    if b.len() < 8 {
        return b.iter().any(|&x| escaped(x));
    }
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        if word_needs_escape(word(w)) {
            return true;
        }
    }
    !words.remainder().is_empty()
        && b.get(b.len() - 8..)
            .is_some_and(|w| word_needs_escape(word(w)))
}

/// `s` escaped as serde_json escapes it: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and other
/// control characters as `\u00XX` with lower-case hex digits.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut run = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if !escaped(b) {
            continue;
        }
        out.extend_from_slice(s.as_bytes().get(run..i).unwrap_or_default());
        run = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
    }
    out.extend_from_slice(s.as_bytes().get(run..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn quoted(s: &str) -> String {
        let mut j = JsonOut::with_capacity(0);
        j.str(s);
        j.finish()
    }

    fn decimal(d: &Decimal) -> String {
        let mut b = Vec::new();
        push_decimal(&mut b, d);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn escaping_matches_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é × ½ \u{2028} 😀 \"quoted\" back\\slash");
        for s in [
            "",
            "plain",
            "IRS Pub 15-T (2025), Worksheet 1A",
            &all,
            "a\"b",
            "0123456789abcdef\n",
            "01234567\\",
            "0123456789abcdef0123456789abcdef\u{1f}",
            "\u{7f}\u{80}ÿ!#[]",
        ] {
            assert_eq!(quoted(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
        // Every ASCII byte value at every position of texts shorter than, as long as, and
        // longer than a word (the overlapping last word), alone among harmless bytes.
        for len in [1, 7, 8, 9, 15, 16, 17, 24] {
            for at in 0..len {
                for b in 0u8..0x80 {
                    let mut s = "a".repeat(len);
                    s.replace_range(at..at + 1, &char::from(b).to_string());
                    assert_eq!(
                        needs_escape(s.as_bytes()),
                        escaped(b),
                        "{b:#x} at {at} of {len}"
                    );
                    assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
                }
            }
        }
    }

    #[test]
    fn separators_follow_the_structure() {
        let mut j = JsonOut::with_capacity(0);
        j.open_obj();
        j.key("a");
        j.open_arr();
        j.elem();
        j.bool(true);
        j.elem();
        j.open_obj();
        j.close_obj();
        j.elem();
        j.open_arr();
        j.close_arr();
        j.close_arr();
        j.elem();
        j.str("b\"");
        j.colon();
        j.money(&Decimal::new(-1205, 2));
        j.key("d");
        j.date(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap());
        j.key("t");
        j.text(|o| o.extend_from_slice(b"x\ty"));
        j.close_obj();
        assert_eq!(
            j.finish(),
            r#"{"a":[true,{},[]],"b\"":"-12.05","d":"2025-03-03","t":"x\ty"}"#
        );
    }

    #[test]
    fn numbers_and_dates_match_their_display() {
        for n in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut s = Vec::new();
            push_usize(&mut s, n);
            assert_eq!(String::from_utf8(s).unwrap(), n.to_string());
        }
        for d in [
            Decimal::ZERO,
            Decimal::new(0, 2),
            Decimal::new(5, 3),
            Decimal::new(-5, 3),
            Decimal::new(100, 0),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::from_i128_with_scale(10_000_000_000_000_000_000, 28),
            Decimal::from_i128_with_scale(-123_456_789_012_345_678_901_234, 4),
        ] {
            assert_eq!(decimal(&d), d.to_string());
        }
        for d in [
            NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-1, 1, 1).unwrap(),
        ] {
            let mut s = Vec::new();
            push_date(&mut s, d);
            assert_eq!(String::from_utf8(s).unwrap(), d.to_string());
        }
    }

    proptest! {
        #[test]
        fn any_string_escapes_as_serde_json_does(s in any::<String>()) {
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_ascii_text_escapes_as_serde_json_does(s in "[\\x00-\\x7f]{0,40}") {
            prop_assert_eq!(quoted(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_decimal_reads_as_its_display(
            m in any::<i64>(),
            wide in -(1i128 << 95)..(1i128 << 95),
            scale in 0u32..=28,
        ) {
            let d = Decimal::new(m, scale.min(18));
            prop_assert_eq!(decimal(&d), d.to_string());
            let d = Decimal::from_i128_with_scale(wide, scale);
            prop_assert_eq!(decimal(&d), d.to_string());
        }
    }
}
