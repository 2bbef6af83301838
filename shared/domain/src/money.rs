//! Money and decimal helpers: one rounding policy, strict parsing of decimal strings.
//!
//! Policy: amounts are exact `Decimal`s while a line is computed; each line is rounded once,
//! half away from zero, to cents (`cents`). Totals are sums of rounded lines.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serializer};
use std::str::FromStr;

/// Round to cents, half away from zero, and fix the scale at 2 so it prints as `"12.30"`.
///
/// Computed inline on the mantissa for non-negative values that fit 64 bits (the same value and
/// scale as the library's rounding and `rescale(2)`); anything else goes to the library.
#[inline]
pub fn cents(d: Decimal) -> Decimal {
    let (f, x, h) = raw(d);
    if f & SIGN_BIT == 0 {
        let s = scale_of(f);
        if s <= 2 {
            if h == 0 {
                let m = u128::from(x) * u128::from(POW10_U64[(2 - s) as usize]);
                return Decimal::from_parts(m as u32, (m >> 32) as u32, (m >> 64) as u32, false, 2);
            }
        } else if h == 0 && s - 2 < 20 {
            // The common case without a 128-bit division. Half away from zero: up when the
            // remainder is at least half the unit (r ≥ p − r, i.e. 2r ≥ p without overflow).
            let p = POW10_U64[(s - 2) as usize];
            let (q, r) = (x / p, x % p);
            return from_u64(q + u64::from(r >= p - r), 2);
        } else {
            // 10^(s-2) ≤ 10^26 and the mantissa < 2^96: exact in 128 bits.
            let m = (u128::from(h) << 64) | u128::from(x);
            let p = POW10_U128[(s - 2) as usize];
            let (q, r) = (m / p, m % p);
            let q = q + u128::from(r * 2 >= p);
            return Decimal::from_parts(q as u32, (q >> 32) as u32, (q >> 64) as u32, false, 2);
        }
    }
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// 10^0 ..= 10^28.
const POW10_U128: [u128; 29] = {
    let mut t = [1u128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `d.normalize()` (trailing zeros stripped, any zero becomes `0`), computed inline when the
/// mantissa fits 64 bits.
#[inline]
pub fn normalize(d: Decimal) -> Decimal {
    let (f, x, h) = raw(d);
    if x == 0 && h == 0 {
        return Decimal::ZERO;
    }
    let mut s = scale_of(f);
    if s == 0 {
        return d;
    }
    if h != 0 {
        return d.normalize();
    }
    let mut m = x;
    while s > 0 && m % 10 == 0 {
        m /= 10;
        s -= 1;
    }
    Decimal::from_parts(m as u32, (m >> 32) as u32, 0, f & SIGN_BIT != 0, s)
}

/// `a.max(b)` (`Decimal::max`: `b` when `a < b`, otherwise `a`), with the inline comparison.
#[inline(always)]
pub fn max(a: Decimal, b: Decimal) -> Decimal {
    if cmp(a, b) == std::cmp::Ordering::Less {
        b
    } else {
        a
    }
}

/// `a.min(b)` (`Decimal::min`: `b` when `a > b`, otherwise `a`), with the inline comparison.
#[inline(always)]
pub fn min(a: Decimal, b: Decimal) -> Decimal {
    if cmp(a, b) == std::cmp::Ordering::Greater {
        b
    } else {
        a
    }
}

/// `d < 0` (a negative zero is not below zero), without a call.
#[inline(always)]
pub fn is_negative(d: Decimal) -> bool {
    let (f, x, h) = raw(d);
    f & SIGN_BIT != 0 && (x | u64::from(h)) != 0
}

/// `d > 0`, without a call.
#[inline(always)]
pub fn is_positive(d: Decimal) -> bool {
    let (f, x, h) = raw(d);
    f & SIGN_BIT == 0 && (x | u64::from(h)) != 0
}

/// A decimal's raw parts: the flags word (sign bit 31, scale in bits 16–23), the low 64 bits
/// of the mantissa, and its high 32 bits. (`serialize` is the library's own byte layout; this
/// compiles to three plain loads.)
#[inline(always)]
fn raw(d: Decimal) -> (u32, u64, u32) {
    let b = d.serialize();
    let f = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let lo = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let mid = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    let hi = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
    (f, (u64::from(mid) << 32) | u64::from(lo), hi)
}

const SIGN_BIT: u32 = 0x8000_0000;

/// The scale in a flags word.
#[inline(always)]
fn scale_of(flags: u32) -> u32 {
    (flags >> 16) & 0xFF
}

/// A non-negative decimal from a 64-bit mantissa and a scale (≤ 28).
#[inline(always)]
fn from_u64(m: u64, scale: u32) -> Decimal {
    Decimal::from_parts(m as u32, (m >> 32) as u32, 0, false, scale)
}

/// `a * b` with exactly the value and scale `Decimal`'s `*` gives, computed inline when both
/// mantissas fit 32 bits and the scales add up to at most 28 (any zero operand gives
/// `Decimal::ZERO`, as the library does); anything else goes to `*`.
#[inline(always)]
pub fn mul(a: Decimal, b: Decimal) -> Decimal {
    let ((fa, xa, ha), (fb, xb, hb)) = (raw(a), raw(b));
    if (xa == 0 && ha == 0) || (xb == 0 && hb == 0) {
        return Decimal::ZERO;
    }
    let s = scale_of(fa) + scale_of(fb);
    if (ha | hb) == 0 && xa <= u64::from(u32::MAX) && xb <= u64::from(u32::MAX) && s <= 28 {
        let m = xa * xb;
        return Decimal::from_parts(m as u32, (m >> 32) as u32, 0, (fa ^ fb) & SIGN_BIT != 0, s);
    }
    a * b
}

/// 10^0 ..= 10^19.
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `a + b` with exactly the value and scale `Decimal`'s `+` gives (a zero operand returns the
/// other operand unchanged; otherwise the sum at the larger scale), computed inline on the
/// integer mantissas when both are non-negative and the sum fits 64 bits; anything else goes
/// to `add_wide`. (`Decimal`'s `+` is an out-of-line call through its general path; the hours
/// and earnings loops add ~170 small positive values per paycheck.)
#[inline(always)]
pub fn add(a: Decimal, b: Decimal) -> Decimal {
    let ((fa, xa, ha), (fb, xb, hb)) = (raw(a), raw(b));
    if (fa | fb) & SIGN_BIT == 0 && (ha | hb) == 0 {
        if xa == 0 {
            return b;
        }
        if xb == 0 {
            return a;
        }
        let (sa, sb) = (scale_of(fa), scale_of(fb));
        if let Some(m) = aligned(xa, sa, xb, sb).and_then(|(x, y)| x.checked_add(y)) {
            return from_u64(m, sa.max(sb));
        }
    }
    add_wide(a, b)
}

/// `add` beyond 64 bits or with a negative operand: on 128-bit mantissas when both are
/// non-negative and fit 64 bits, else `Decimal`'s `+`.
#[inline(never)]
fn add_wide(a: Decimal, b: Decimal) -> Decimal {
    if a.is_zero() {
        return b;
    }
    if b.is_zero() {
        return a;
    }
    if !a.is_sign_negative() && !b.is_sign_negative() {
        let (ma, mb) = (a.mantissa() as u128, b.mantissa() as u128);
        if ma <= u128::from(u64::MAX) && mb <= u128::from(u64::MAX) {
            let (sa, sb) = (a.scale(), b.scale());
            let (x, y, s) = if sa == sb {
                (ma, mb, sa)
            } else if sa > sb && sa - sb < 20 {
                (ma, mb * u128::from(POW10_U64[(sa - sb) as usize]), sa)
            } else if sb > sa && sb - sa < 20 {
                (ma * u128::from(POW10_U64[(sb - sa) as usize]), mb, sb)
            } else {
                return a + b;
            };
            let m = x + y;
            if m < (1u128 << 96) {
                return Decimal::from_parts(m as u32, (m >> 32) as u32, (m >> 64) as u32, false, s);
            }
        }
    }
    a + b
}

/// Two 64-bit mantissas brought to the larger of their scales (the smaller-scale one multiplied
/// by a power of ten), or `None` when that overflows 64 bits.
#[inline(always)]
fn aligned(xa: u64, sa: u32, xb: u64, sb: u32) -> Option<(u64, u64)> {
    if sa == sb {
        Some((xa, xb))
    } else if sa > sb {
        let p = POW10_U64.get((sa - sb) as usize)?;
        Some((xa, xb.checked_mul(*p)?))
    } else {
        let p = POW10_U64.get((sb - sa) as usize)?;
        Some((xa.checked_mul(*p)?, xb))
    }
}

/// `a - b` with exactly the value, scale and sign `Decimal`'s `-` gives (`b` zero: `a`
/// unchanged; otherwise the difference at the larger scale, a zero difference positive),
/// computed inline on the integer mantissas when both are non-negative, `a` is not zero and both
/// fit 64 bits after aligning the scales; anything else goes to `-`.
#[inline(always)]
pub fn sub(a: Decimal, b: Decimal) -> Decimal {
    let ((fa, xa, ha), (fb, xb, hb)) = (raw(a), raw(b));
    if (fa | fb) & SIGN_BIT == 0 && (ha | hb) == 0 && xa != 0 {
        if xb == 0 {
            return a;
        }
        let (sa, sb) = (scale_of(fa), scale_of(fb));
        if let Some((x, y)) = aligned(xa, sa, xb, sb) {
            let s = sa.max(sb);
            return if x >= y {
                from_u64(x - y, s)
            } else {
                let m = y - x;
                Decimal::from_parts(m as u32, (m >> 32) as u32, 0, true, s)
            };
        }
    }
    a - b
}

/// `a.cmp(&b)`, computed inline on the mantissas when both are non-negative and fit 64 bits
/// (exact: the smaller-scale mantissa is scaled up in 128 bits); anything else goes to `cmp`.
#[inline(always)]
pub fn cmp(a: Decimal, b: Decimal) -> std::cmp::Ordering {
    let ((fa, xa, ha), (fb, xb, hb)) = (raw(a), raw(b));
    if (fa | fb) & SIGN_BIT == 0 && (ha | hb) == 0 {
        let (sa, sb) = (scale_of(fa), scale_of(fb));
        if sa == sb {
            return xa.cmp(&xb);
        } else if sa > sb && sa - sb < 20 {
            return u128::from(xa)
                .cmp(&(u128::from(xb) * u128::from(POW10_U64[(sa - sb) as usize])));
        } else if sb > sa && sb - sa < 20 {
            return (u128::from(xa) * u128::from(POW10_U64[(sb - sa) as usize]))
                .cmp(&u128::from(xb));
        }
    }
    a.cmp(&b)
}

/// Zero with scale 2 (`"0.00"`).
#[inline]
pub fn zero() -> Decimal {
    Decimal::new(0, 2)
}

/// Parse a plain decimal string: optional `-`, digits, optional `.` and digits. No exponent,
/// no spaces, no `+`, at most `max_dp` decimals.
pub fn parse_decimal(s: &str, max_dp: u32) -> Result<Decimal, String> {
    match parse_plain(s, max_dp) {
        Some(d) => Ok(d),
        None => parse_decimal_checked(s, max_dp),
    }
}

/// The common case in one pass: digits (1 to 15), optionally `.` and 1 to `max_dp` digits, the
/// value fitting 64 bits. The same value and scale as `Decimal::from_str`; `None` for anything
/// else (a sign included), which `parse_decimal_checked` then accepts or explains.
#[inline]
fn parse_plain(s: &str, max_dp: u32) -> Option<Decimal> {
    let mut m: u64 = 0;
    let mut whole = 0u32;
    let mut frac: Option<u32> = None;
    for &c in s.as_bytes() {
        match c {
            b'0'..=b'9' => {
                m = m.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                match &mut frac {
                    Some(f) => *f += 1,
                    None => whole += 1,
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    let scale = frac.unwrap_or(0);
    if whole == 0 || whole > 15 || frac == Some(0) || scale > max_dp {
        return None;
    }
    Some(Decimal::from_i128_with_scale(i128::from(m), scale))
}

/// `parse_decimal` for every input: the checks, each with its message, then the library.
fn parse_decimal_checked(s: &str, max_dp: u32) -> Result<Decimal, String> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let ok_int = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    let ok_frac = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok_int || !ok_frac || int.len() > 15 {
        return Err(format!("{s:?} is not a decimal number like \"1234.50\""));
    }
    if let Some(f) = frac
        && f.len() as u32 > max_dp
    {
        return Err(format!("{s:?} has more than {max_dp} decimal places"));
    }
    Decimal::from_str(s).map_err(|e| format!("{s:?} is not a decimal number: {e}"))
}

fn de_str<'de, D: Deserializer<'de>>(d: D, max_dp: u32, what: &str) -> Result<Decimal, D::Error> {
    struct V<'a> {
        what: &'a str,
        max_dp: u32,
    }
    impl<'de> serde::de::Visitor<'de> for V<'_> {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "{} as a JSON string (e.g. \"12.50\")", self.what)
        }
        // Parsed from the borrowed text: no copy of the string.
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_decimal(v, self.max_dp).map_err(E::custom)
        }
    }
    d.deserialize_str(V { what, max_dp })
}

/// Money on input: a JSON string with at most 2 decimals.
pub fn de_money<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    de_str(d, 2, "a money amount")
}

/// Optional money.
pub fn de_money_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "de_money")] Decimal);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

/// Hours, rates and percentages: a JSON string with at most 6 decimals.
pub fn de_dec<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    de_str(d, 6, "a decimal number")
}

/// Optional hours/rate.
pub fn de_dec_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "de_dec")] Decimal);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

/// Format `d` exactly as `Decimal`'s `Display` does (its own scale, `-` on negative values) into
/// the start of `buf`, returning the length. `None` when the mantissa does not fit in 64 bits.
/// (The text comes from `json::decimal_text`, the crate's one decimal formatter.)
pub fn format_decimal(d: &Decimal, buf: &mut [u8; 64]) -> Option<usize> {
    u64::try_from(d.mantissa().unsigned_abs()).ok()?;
    let mut tmp = [0; 64];
    let text = crate::json::decimal_text(d, &mut tmp);
    buf.get_mut(..text.len())?.copy_from_slice(text);
    Some(text.len())
}

/// Serialize a decimal as a JSON string, the same text as `Decimal`'s own `Serialize`.
pub fn ser_money<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; 64];
    match std::str::from_utf8(crate::json::decimal_text(d, &mut buf)) {
        Ok(text) => s.serialize_str(text),
        Err(_) => serde::Serialize::serialize(d, s),
    }
}

/// `ser_money` for an optional decimal (used with `skip_serializing_if = "Option::is_none"`).
pub fn ser_money_opt<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_money(d, s),
        None => s.serialize_none(),
    }
}

/// Serialize a decimal as a string (normalised: no trailing zeros beyond what it carries).
pub fn ser_dec<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn add_gives_the_value_and_scale_of_decimal_plus() {
        let vals = [
            dec!(0),
            dec!(0.00),
            dec!(-0.00),
            dec!(8),
            dec!(9.5),
            dec!(8.75),
            dec!(12.500),
            dec!(-3.25),
            dec!(17.50),
            dec!(0.0000001),
            dec!(26.2516666666666666666666667),
            dec!(18446744073709551615),
            dec!(18446744073709551616),
            dec!(79228162514264337593543950335),
            dec!(7922816251426433759354395033.5),
        ];
        for a in vals {
            for b in vals {
                // (Where `+` overflows, `add` panics the same way: not called.)
                let Some(want) = a.checked_add(b) else {
                    continue;
                };
                let fast = add(a, b);
                assert_eq!(fast.to_string(), want.to_string(), "{a} + {b}");
                assert_eq!(fast.scale(), want.scale(), "{a} + {b}");
                assert_eq!(
                    fast.is_sign_negative(),
                    want.is_sign_negative(),
                    "{a} + {b}"
                );
            }
        }
        for a in vals {
            for b in vals {
                assert_eq!(cmp(a, b), a.cmp(&b), "{a} vs {b}");
            }
        }
        assert_eq!(add(dec!(0.00), dec!(5)).to_string(), "5");
        assert_eq!(add(dec!(8), dec!(0.25)).to_string(), "8.25");
        assert_eq!(add(dec!(1.50), dec!(2.5)).to_string(), "4.00");
    }

    #[test]
    fn inline_cents_mul_and_signs_match_the_library() {
        let vals = [
            dec!(0),
            dec!(0.00),
            dec!(-0.00),
            dec!(0.004),
            dec!(0.005),
            dec!(0.0049999),
            dec!(-0.005),
            dec!(1),
            dec!(8.5),
            dec!(17.50),
            dec!(12.345),
            dec!(430.125),
            dec!(328.124999999),
            dec!(64.96875),
            dec!(0.0000001),
            dec!(26.2516666666666666666666667),
            dec!(4294967295),
            dec!(4294967296),
            dec!(429496.7295),
            dec!(18446744073709551615),
            dec!(1844674407370955161.5),
            dec!(18446744073709551616),
            dec!(79228162514264337593543950335),
            dec!(0.0000000000000000000000000001),
            dec!(-3.25),
            dec!(-17.505),
            dec!(11428.57142857142857142857143),
            dec!(11428.57500000000000000000000),
            dec!(7922816251426433759354395.0335),
            dec!(7922816251426433759354395.0300),
            dec!(1.0000000000000000000000000050),
            dec!(120.000),
            dec!(-120.000),
        ];
        let show = |d: Decimal| format!("{d} {} {}", d.scale(), d.is_sign_negative());
        for a in vals {
            let mut want = a.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            want.rescale(2);
            assert_eq!(show(cents(a)), show(want), "cents({a})");
            assert_eq!(show(normalize(a)), show(a.normalize()), "normalize({a})");
            assert_eq!(is_negative(a), a < Decimal::ZERO, "{a}");
            assert_eq!(is_positive(a), a > Decimal::ZERO, "{a}");
            for b in vals {
                assert_eq!(show(max(a, b)), show(a.max(b)), "max({a}, {b})");
                assert_eq!(show(min(a, b)), show(a.min(b)), "min({a}, {b})");
            }
            for b in vals {
                let Some(want) = a.checked_mul(b) else {
                    continue;
                };
                assert_eq!(show(mul(a, b)), show(want), "{a} * {b}");
            }
        }
    }

    proptest::proptest! {
        /// The one-pass parser gives what the checked path gives (value, scale, sign, or the
        /// same error) on decimal-looking texts, long ones, signs, stray characters included.
        #[test]
        fn one_pass_parsing_matches_the_checked_path(
            s in "-?[0-9]{0,22}(\\.[0-9]{0,8})?|[0-9.+ e-]{0,12}",
            max_dp in 0u32..=6,
        ) {
            let show = |r: Result<Decimal, String>| r.map(|d| format!("{d} {} {}", d.scale(), d.is_sign_negative()));
            proptest::prop_assert_eq!(show(parse_decimal(&s, max_dp)), show(parse_decimal_checked(&s, max_dp)));
            if let Some(d) = parse_plain(&s, max_dp) {
                let lib = Decimal::from_str(&s).unwrap();
                proptest::prop_assert_eq!(show(Ok(d)), show(Ok(lib)));
            }
        }

        /// The inline paths against the library on random values: mantissas of 1–96 bits
        /// (around the 32- and 64-bit limits too), scales 0–28, both signs, zeros.
        #[test]
        fn inline_ops_match_the_library_on_random_values(
            ma in 0u128..(1u128 << 96), sa in 0u32..=28, na: bool, ka in 0u32..4,
            mb in 0u128..(1u128 << 96), sb in 0u32..=28, nb: bool, kb in 0u32..4,
        ) {
            // Narrow the mantissa to 0, 32, 64 or 96 bits (small values are the common case).
            let narrow = |m: u128, k: u32| match k {
                0 => m % 1_000_000,
                1 => m & u128::from(u32::MAX),
                2 => m & u128::from(u64::MAX),
                _ => m,
            };
            let (ma, mb) = (narrow(ma, ka), narrow(mb, kb));
            let a = Decimal::from_parts(ma as u32, (ma >> 32) as u32, (ma >> 64) as u32, na, sa);
            let b = Decimal::from_parts(mb as u32, (mb >> 32) as u32, (mb >> 64) as u32, nb, sb);
            let show = |d: Decimal| format!("{d} {} {}", d.scale(), d.is_sign_negative());
            if let Some(want) = a.checked_add(b) {
                proptest::prop_assert_eq!(show(add(a, b)), show(want));
            }
            if let Some(want) = a.checked_mul(b) {
                proptest::prop_assert_eq!(show(mul(a, b)), show(want));
            }
            if let Some(want) = a.checked_sub(b) {
                proptest::prop_assert_eq!(show(sub(a, b)), show(want));
            }
            // Equal values at different scales (a zero difference).
            let b2 = Decimal::from_parts(ma as u32, (ma >> 32) as u32, (ma >> 64) as u32, na, sa.min(20));
            if let Some(want) = a.checked_sub(b2) {
                proptest::prop_assert_eq!(show(sub(a, b2)), show(want));
            }
            proptest::prop_assert_eq!(cmp(a, b), a.cmp(&b));
            let mut want = a.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            want.rescale(2);
            proptest::prop_assert_eq!(show(cents(a)), show(want));
            proptest::prop_assert_eq!(show(normalize(a)), show(a.normalize()));
            proptest::prop_assert_eq!(is_negative(a), a < Decimal::ZERO);
            proptest::prop_assert_eq!(is_positive(a), a > Decimal::ZERO);
        }
    }

    #[test]
    fn half_away_from_zero_not_bankers() {
        assert_eq!(cents(dec!(430.125)).to_string(), "430.13");
        assert_eq!(cents(dec!(328.125)).to_string(), "328.13");
        assert_eq!(cents(dec!(-0.005)).to_string(), "-0.01");
        assert_eq!(cents(dec!(600)).to_string(), "600.00");
    }

    #[test]
    fn fast_format_matches_display() {
        let cases = [
            dec!(0),
            dec!(0.00),
            dec!(-0.00),
            dec!(1),
            dec!(-1),
            dec!(12.30),
            dec!(-0.005),
            dec!(0.000001),
            dec!(123456789.123456789),
            dec!(18446744073709551615),
            dec!(3646.71),
            dec!(17.5123456789012345),
            Decimal::new(-5, 0) * Decimal::ZERO,
        ];
        for d in cases {
            let mut buf = [0u8; 64];
            let n = format_decimal(&d, &mut buf).unwrap();
            assert_eq!(
                std::str::from_utf8(&buf[..n]).unwrap(),
                d.to_string(),
                "{d:?}"
            );
            #[derive(serde::Serialize)]
            struct W(#[serde(serialize_with = "ser_money")] Decimal);
            assert_eq!(
                serde_json::to_string(&W(d)).unwrap(),
                serde_json::to_string(&d).unwrap()
            );
        }
        // Beyond 64 bits: falls back to the library's formatting.
        let big = dec!(79228162514264337593543950335);
        assert!(format_decimal(&big, &mut [0u8; 64]).is_none());
        #[derive(serde::Serialize)]
        struct W(#[serde(serialize_with = "ser_money")] Decimal);
        assert_eq!(
            serde_json::to_string(&W(big)).unwrap(),
            "\"79228162514264337593543950335\""
        );
    }

    #[test]
    fn strict_parsing() {
        assert!(parse_decimal("12.345", 2).is_err());
        assert!(parse_decimal("1e5", 2).is_err());
        assert!(parse_decimal(" 1", 2).is_err());
        assert!(parse_decimal("+1", 2).is_err());
        assert!(parse_decimal("1.", 2).is_err());
        assert!(parse_decimal(".5", 2).is_err());
        assert!(parse_decimal("", 2).is_err());
        assert!(parse_decimal("NaN", 2).is_err());
        assert!(parse_decimal("9999999999999999", 2).is_err());
        assert_eq!(parse_decimal("-12.5", 2), Ok(dec!(-12.5)));
        assert_eq!(parse_decimal("0.000001", 6), Ok(dec!(0.000001)));
    }
}
