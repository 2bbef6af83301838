//! Money and decimal helpers: one rounding policy, strict parsing of decimal strings.
//!
//! Policy: amounts are exact `Decimal`s while a line is computed; each line is rounded once,
//! half away from zero, to cents (`cents`). Totals are sums of rounded lines.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serializer};
use std::str::FromStr;

/// Round to cents, half away from zero, and fix the scale at 2 so it prints as `"12.30"`.
#[inline]
pub fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Zero with scale 2 (`"0.00"`).
#[inline]
pub fn zero() -> Decimal {
    Decimal::new(0, 2)
}

/// Parse a plain decimal string: optional `-`, digits, optional `.` and digits. No exponent,
/// no spaces, no `+`, at most `max_dp` decimals.
pub fn parse_decimal(s: &str, max_dp: u32) -> Result<Decimal, String> {
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
    use serde::de::Error;
    let v = serde_json_value_string(d, what)?;
    parse_decimal(&v, max_dp).map_err(D::Error::custom)
}

fn serde_json_value_string<'de, D: Deserializer<'de>>(d: D, what: &str) -> Result<String, D::Error> {
    struct V<'a>(&'a str);
    impl<'de> serde::de::Visitor<'de> for V<'_> {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "{} as a JSON string (e.g. \"12.50\")", self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
    }
    d.deserialize_str(V(what))
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

/// Serialize a decimal as a string (normalised: no trailing zeros beyond what it carries).
pub fn ser_dec<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn half_away_from_zero_not_bankers() {
        assert_eq!(cents(dec!(430.125)).to_string(), "430.13");
        assert_eq!(cents(dec!(328.125)).to_string(), "328.13");
        assert_eq!(cents(dec!(-0.005)).to_string(), "-0.01");
        assert_eq!(cents(dec!(600)).to_string(), "600.00");
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
