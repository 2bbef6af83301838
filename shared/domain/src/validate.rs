//! Validation of identifiers: ABA routing numbers, SSNs, EINs, and a JSON parser whose errors
//! name the failing field path. Pure functions; the HTTP API maps the errors to 422 responses.

use crate::CalcError;
use crate::request::{StateCode, StateW4};
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Why an identifier was refused (the message is safe to show: it never repeats the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct IdError(pub &'static str);

fn digits_only(s: &str, allowed_dash_at: &[usize], len: usize) -> Option<Vec<u8>> {
    // Either exactly `len` digits, or digits with dashes exactly at the given byte positions.
    let b = s.as_bytes();
    if b.len() == len && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().map(|c| c - b'0').collect());
    }
    if allowed_dash_at.is_empty() || b.len() != len + allowed_dash_at.len() {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    for (i, c) in b.iter().enumerate() {
        if allowed_dash_at.contains(&i) {
            if *c != b'-' {
                return None;
            }
        } else if c.is_ascii_digit() {
            out.push(c - b'0');
        } else {
            return None;
        }
    }
    Some(out)
}

/// An ABA routing transit number: 9 digits with the checksum
/// 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
pub fn aba_routing(s: &str) -> Result<(), IdError> {
    let d = digits_only(s, &[], 9).ok_or(IdError("must be exactly 9 digits"))?;
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, v)| u32::from(*v) * [3, 7, 1][i % 3])
        .sum();
    if !sum.is_multiple_of(10) {
        return Err(IdError(
            "is not a valid ABA routing number (checksum failed)",
        ));
    }
    // The first two digits are a Federal Reserve routing symbol: 00-12, 21-32, 61-72, 80.
    let prefix = d[0] * 10 + d[1];
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) {
        return Err(IdError(
            "is not a valid ABA routing number (unknown prefix)",
        ));
    }
    Ok(())
}

/// A US Social Security number, given as `123-45-6789` or `123456789`; returns the 9 digits.
/// Refuses area 000, 666 and 900-999, group 00 and serial 0000 (never issued).
pub fn normalize_ssn(s: &str) -> Result<String, IdError> {
    let d = digits_only(s.trim(), &[3, 6], 9)
        .ok_or(IdError("must be 9 digits, as 123-45-6789 or 123456789"))?;
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    if area == 0 || area == 666 || area >= 900 {
        return Err(IdError(
            "is not a valid SSN (area number 000, 666 and 900-999 are never issued)",
        ));
    }
    if d[3] == 0 && d[4] == 0 {
        return Err(IdError(
            "is not a valid SSN (group number 00 is never issued)",
        ));
    }
    if d[5..].iter().all(|v| *v == 0) {
        return Err(IdError(
            "is not a valid SSN (serial number 0000 is never issued)",
        ));
    }
    Ok(d.iter().map(|v| char::from(b'0' + v)).collect())
}

/// IRS campus prefixes that are not assigned to EINs.
const INVALID_EIN_PREFIXES: [u8; 17] = [
    0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97,
];

/// A federal Employer Identification Number, given as `12-3456789` or `123456789`; returns the
/// canonical `12-3456789`. The two-digit prefix must be one the IRS assigns.
pub fn normalize_ein(s: &str) -> Result<String, IdError> {
    let d = digits_only(s.trim(), &[2], 9)
        .ok_or(IdError("must be 9 digits, as 12-3456789 or 123456789"))?;
    let prefix = d[0] * 10 + d[1];
    if INVALID_EIN_PREFIXES.contains(&prefix) {
        return Err(IdError(
            "is not a valid EIN (the IRS does not assign this prefix)",
        ));
    }
    let text: String = d.iter().map(|v| char::from(b'0' + v)).collect();
    Ok(format!("{}-{}", &text[..2], &text[2..]))
}

/// A bank account number: 4 to 17 digits.
pub fn account_number(s: &str) -> Result<(), IdError> {
    let b = s.as_bytes();
    if (4..=17).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(IdError("must be 4 to 17 digits"))
    }
}

/// A state withholding certificate as stored on a tax profile: the filing statuses the state
/// calculations accept and a sane number of allowances. Errors name `state_w4.<ST>.<field>`.
pub fn state_w4(state: StateCode, w4: &StateW4) -> Result<(), CalcError> {
    let f = |name: &str| format!("state_w4.{state}.{name}");
    if let Some(s) = w4.filing_status.as_deref()
        && !matches!(s, "single" | "married" | "head_of_household")
    {
        return Err(CalcError::invalid(
            f("filing_status"),
            "use single, married or head_of_household",
        ));
    }
    for (name, v) in [
        ("allowances", w4.allowances),
        ("additional_allowances", w4.additional_allowances),
    ] {
        if v.is_some_and(|n| n > 99) {
            return Err(CalcError::invalid(f(name), "must be at most 99"));
        }
    }
    if w4
        .extra_withholding
        .is_some_and(|d| d < rust_decimal::Decimal::ZERO)
    {
        return Err(CalcError::invalid(
            f("extra_withholding"),
            "must not be negative",
        ));
    }
    Ok(())
}

/// Deserialize a JSON value into `T`; an error names the failing field path
/// (`job_rates.server`, `federal_w4.filing_status`, or `body` for the whole value).
pub fn from_json_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, CalcError> {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Ok(t),
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            let msg = e.into_inner().to_string();
            // Missing and unknown fields name themselves better than the path of their parent.
            let field = match (msg.split('`').nth(1), msg.starts_with("missing field")) {
                (Some(name), true) if field == "body" => name.to_owned(),
                (Some(name), true) => format!("{field}.{name}"),
                _ => field,
            };
            Err(CalcError::invalid(field, msg))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn aba_checksum() {
        // Real published routing numbers.
        assert_eq!(aba_routing("011000015"), Ok(())); // Federal Reserve Bank of Boston
        assert_eq!(aba_routing("021000021"), Ok(())); // JPMorgan Chase NY
        assert_eq!(aba_routing("121000358"), Ok(())); // Bank of America CA
        assert_eq!(aba_routing("322271627"), Ok(())); // Chase CA
        assert_eq!(
            aba_routing("021000022"),
            Err(IdError(
                "is not a valid ABA routing number (checksum failed)"
            ))
        );
        assert_eq!(
            aba_routing("12345678"),
            Err(IdError("must be exactly 9 digits"))
        );
        assert_eq!(
            aba_routing("02100002a"),
            Err(IdError("must be exactly 9 digits"))
        );
        assert_eq!(
            aba_routing("0210000210"),
            Err(IdError("must be exactly 9 digits"))
        );
        // Checksum holds (3·(9+0+0) + 7·(9+0+0) + 1·(0+0+0) = 90) but 99 is no routing symbol.
        assert_eq!(
            aba_routing("990000000"),
            Err(IdError(
                "is not a valid ABA routing number (unknown prefix)"
            ))
        );
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(normalize_ssn("123-45-6789").unwrap(), "123456789");
        assert_eq!(normalize_ssn("123456789").unwrap(), "123456789");
        assert_eq!(normalize_ssn(" 665-01-0001 ").unwrap(), "665010001");
        assert!(normalize_ssn("000-12-3456").is_err());
        assert!(normalize_ssn("666-12-3456").is_err());
        assert!(normalize_ssn("900-12-3456").is_err());
        assert!(normalize_ssn("999-12-3456").is_err());
        assert!(normalize_ssn("123-00-4567").is_err());
        assert!(normalize_ssn("123-45-0000").is_err());
        assert!(normalize_ssn("12-345-6789").is_err());
        assert!(normalize_ssn("1234-5-6789").is_err());
        assert!(normalize_ssn("12345678").is_err());
        assert!(normalize_ssn("12345678a").is_err());
        assert!(normalize_ssn("123 45 6789").is_err());
        // The message never echoes the input.
        let e = normalize_ssn("666-12-3456").unwrap_err();
        assert!(!e.to_string().contains("3456"));
    }

    #[test]
    fn ein_rules() {
        assert_eq!(normalize_ein("12-3456789").unwrap(), "12-3456789");
        assert_eq!(normalize_ein("123456789").unwrap(), "12-3456789");
        assert_eq!(normalize_ein("95-1234567").unwrap(), "95-1234567");
        assert!(normalize_ein("00-1234567").is_err());
        assert!(normalize_ein("07-1234567").is_err());
        assert!(normalize_ein("89-1234567").is_err());
        assert!(normalize_ein("123-456789").is_err());
        assert!(normalize_ein("12-345678").is_err());
        assert!(normalize_ein("ab-cdefghi").is_err());
    }

    #[test]
    fn account_numbers() {
        assert!(account_number("1234").is_ok());
        assert!(account_number("12345678901234567").is_ok());
        assert!(account_number("123").is_err());
        assert!(account_number("123456789012345678").is_err());
        assert!(account_number("1234-5678").is_err());
    }

    #[test]
    fn state_certificates() {
        let ca = StateCode::parse("CA").unwrap();
        let w4 = |v: serde_json::Value| serde_json::from_value::<StateW4>(v).unwrap();
        assert!(
            state_w4(
                ca,
                &w4(serde_json::json!({"filing_status": "married", "allowances": 2}))
            )
            .is_ok()
        );
        let e = state_w4(ca, &w4(serde_json::json!({"filing_status": "widow"}))).unwrap_err();
        assert_eq!(e.field(), "state_w4.CA.filing_status");
        let e = state_w4(ca, &w4(serde_json::json!({"allowances": 100}))).unwrap_err();
        assert_eq!(e.field(), "state_w4.CA.allowances");
        let e = state_w4(ca, &w4(serde_json::json!({"extra_withholding": "-1.00"}))).unwrap_err();
        assert_eq!(e.field(), "state_w4.CA.extra_withholding");
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn json_errors_name_the_field() {
        let f = |v: serde_json::Value| from_json_value::<Sample>(v).unwrap_err().field().to_owned();
        assert_eq!(f(serde_json::json!({"inner": {"n": 1}})), "name");
        assert_eq!(f(serde_json::json!({"name": "a", "inner": {}})), "inner.n");
        assert_eq!(
            f(serde_json::json!({"name": "a", "inner": {"n": "x"}})),
            "inner.n"
        );
        assert_eq!(f(serde_json::json!({"name": 5, "inner": {"n": 1}})), "name");
        assert_eq!(
            f(serde_json::json!({"name": "a", "inner": {"n": 1}, "zz": 1})),
            "zz"
        );
        assert_eq!(f(serde_json::json!("text")), "body");
        let ok: Sample =
            from_json_value(serde_json::json!({"name": "a", "inner": {"n": 2}})).unwrap();
        assert_eq!(ok.inner.n, 2);
    }
}
