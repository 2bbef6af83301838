//! Pay schedules: period generation from frequency, anchor and pay-date offset.
//!
//! A schedule is anchored at `first_period_start`, the first day of its first pay period:
//! - `weekly`: periods of 7 days starting at the anchor;
//! - `biweekly`: periods of 14 days starting at the anchor;
//! - `semimonthly`: the 1st–15th and the 16th–last day of each month (anchor on the 1st or 16th);
//! - `monthly`: calendar months (anchor on the 1st).
//!
//! Each period is paid `pay_date_offset_days` (0..=30) after its last day. Nothing exists before the
//! anchor. Pure: no I/O, no clock.

use crate::error::CalcError;
use crate::request::PayFrequency;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The most periods one call may list (a larger range is an error, not a truncated answer).
pub const MAX_PERIODS: usize = 400;

/// The largest pay-date offset, in days after the period end.
pub const MAX_PAY_DATE_OFFSET_DAYS: i32 = 30;

/// The frequencies a pay schedule may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleFrequency {
    Weekly,
    Biweekly,
    Semimonthly,
    Monthly,
}

impl ScheduleFrequency {
    pub const ALL: [ScheduleFrequency; 4] = [
        ScheduleFrequency::Weekly,
        ScheduleFrequency::Biweekly,
        ScheduleFrequency::Semimonthly,
        ScheduleFrequency::Monthly,
    ];

    /// Parse a frequency name; the error names the field `frequency`.
    pub fn parse(s: &str) -> Result<ScheduleFrequency, CalcError> {
        ScheduleFrequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                CalcError::invalid(
                    "frequency",
                    format!("{s:?} is not one of weekly, biweekly, semimonthly, monthly"),
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleFrequency::Weekly => "weekly",
            ScheduleFrequency::Biweekly => "biweekly",
            ScheduleFrequency::Semimonthly => "semimonthly",
            ScheduleFrequency::Monthly => "monthly",
        }
    }

    /// The calculation contract's frequency (for `pay_frequency` in a paycheck request).
    pub fn pay_frequency(self) -> PayFrequency {
        match self {
            ScheduleFrequency::Weekly => PayFrequency::Weekly,
            ScheduleFrequency::Biweekly => PayFrequency::Biweekly,
            ScheduleFrequency::Semimonthly => PayFrequency::Semimonthly,
            ScheduleFrequency::Monthly => PayFrequency::Monthly,
        }
    }
}

/// One pay period (both ends inclusive) and its pay date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayPeriod {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub pay_date: NaiveDate,
}

/// A validated schedule definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub frequency: ScheduleFrequency,
    pub first_period_start: NaiveDate,
    pub pay_date_offset_days: i32,
}

impl Schedule {
    /// Validate the anchor against the frequency and the offset range. Errors name the field.
    pub fn new(
        frequency: ScheduleFrequency,
        first_period_start: NaiveDate,
        pay_date_offset_days: i32,
    ) -> Result<Schedule, CalcError> {
        validate_anchor(frequency, first_period_start)?;
        validate_offset(pay_date_offset_days)?;
        Ok(Schedule {
            frequency,
            first_period_start,
            pay_date_offset_days,
        })
    }

    /// The periods overlapping `from..=to` (see [`periods`]).
    pub fn periods(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<PayPeriod>, CalcError> {
        periods(
            self.frequency,
            self.first_period_start,
            self.pay_date_offset_days,
            from,
            to,
        )
    }
}

/// Semimonthly schedules start on the 1st or the 16th; monthly schedules on the 1st.
pub fn validate_anchor(
    frequency: ScheduleFrequency,
    first_period_start: NaiveDate,
) -> Result<(), CalcError> {
    match frequency {
        ScheduleFrequency::Semimonthly if !matches!(first_period_start.day(), 1 | 16) => {
            Err(CalcError::invalid(
                "first_period_start",
                "a semimonthly schedule must start on the 1st or the 16th of a month",
            ))
        }
        ScheduleFrequency::Monthly if first_period_start.day() != 1 => Err(CalcError::invalid(
            "first_period_start",
            "a monthly schedule must start on the 1st of a month",
        )),
        _ => Ok(()),
    }
}

/// The pay date is 0 to 30 days after the period end.
pub fn validate_offset(pay_date_offset_days: i32) -> Result<(), CalcError> {
    if (0..=MAX_PAY_DATE_OFFSET_DAYS).contains(&pay_date_offset_days) {
        Ok(())
    } else {
        Err(CalcError::invalid(
            "pay_date_offset_days",
            format!("must be between 0 and {MAX_PAY_DATE_OFFSET_DAYS}"),
        ))
    }
}

fn out_of_range() -> CalcError {
    CalcError::invalid("to", "the dates are outside the supported calendar range")
}

fn add_days(d: NaiveDate, n: u64) -> Result<NaiveDate, CalcError> {
    d.checked_add_days(Days::new(n)).ok_or_else(out_of_range)
}

fn last_day_of_month(d: NaiveDate) -> Result<NaiveDate, CalcError> {
    let first = d.with_day(1).ok_or_else(out_of_range)?;
    first
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .ok_or_else(out_of_range)
}

/// The period that starts on `start` (which must be a valid period start for the frequency).
fn period_from(frequency: ScheduleFrequency, start: NaiveDate) -> Result<NaiveDate, CalcError> {
    match frequency {
        ScheduleFrequency::Weekly => add_days(start, 6),
        ScheduleFrequency::Biweekly => add_days(start, 13),
        ScheduleFrequency::Semimonthly if start.day() < 16 => {
            start.with_day(15).ok_or_else(out_of_range)
        }
        ScheduleFrequency::Semimonthly | ScheduleFrequency::Monthly => last_day_of_month(start),
    }
}

/// The start of the period containing `date`, for `date` on or after the anchor.
fn start_of_period_containing(
    frequency: ScheduleFrequency,
    anchor: NaiveDate,
    date: NaiveDate,
) -> Result<NaiveDate, CalcError> {
    if date <= anchor {
        return Ok(anchor);
    }
    let len = match frequency {
        ScheduleFrequency::Weekly => 7,
        ScheduleFrequency::Biweekly => 14,
        ScheduleFrequency::Semimonthly => {
            let day = if date.day() >= 16 { 16 } else { 1 };
            return date.with_day(day).ok_or_else(out_of_range);
        }
        ScheduleFrequency::Monthly => return date.with_day(1).ok_or_else(out_of_range),
    };
    // Non-negative: date > anchor.
    let elapsed = (date - anchor).num_days().unsigned_abs();
    add_days(anchor, elapsed / len * len)
}

/// List the periods of a schedule that overlap `from..=to` (both inclusive), in order.
///
/// Periods before the anchor do not exist, so a range entirely before it yields nothing. More than
/// [`MAX_PERIODS`] periods is an error naming `to`; `from` after `to` is an error naming `from`.
pub fn periods(
    frequency: ScheduleFrequency,
    first_period_start: NaiveDate,
    pay_date_offset_days: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PayPeriod>, CalcError> {
    validate_anchor(frequency, first_period_start)?;
    validate_offset(pay_date_offset_days)?;
    if from > to {
        return Err(CalcError::invalid("from", "must not be after `to`"));
    }
    let offset = u64::from(pay_date_offset_days.unsigned_abs());
    let mut out = Vec::new();
    if to < first_period_start {
        return Ok(out);
    }
    let mut start = start_of_period_containing(frequency, first_period_start, from)?;
    while start <= to {
        if out.len() == MAX_PERIODS {
            return Err(CalcError::invalid(
                "to",
                format!(
                    "the range spans more than {MAX_PERIODS} pay periods; ask for a shorter range"
                ),
            ));
        }
        let end = period_from(frequency, start)?;
        out.push(PayPeriod {
            period_start: start,
            period_end: end,
            pay_date: add_days(end, offset)?,
        });
        start = match end.succ_opt() {
            Some(s) => s,
            None => break,
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ScheduleFrequency::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn triples(ps: &[PayPeriod]) -> Vec<(String, String, String)> {
        ps.iter()
            .map(|p| {
                (
                    p.period_start.to_string(),
                    p.period_end.to_string(),
                    p.pay_date.to_string(),
                )
            })
            .collect()
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_owned(), b.to_owned(), c.to_owned())
    }

    #[test]
    fn weekly_from_anchor() {
        let ps = periods(Weekly, d("2024-01-01"), 5, d("2024-01-01"), d("2024-01-20")).unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2024-01-01", "2024-01-07", "2024-01-12"),
                t("2024-01-08", "2024-01-14", "2024-01-19"),
                t("2024-01-15", "2024-01-21", "2024-01-26"),
            ]
        );
    }

    #[test]
    fn weekly_range_starting_mid_period_includes_overlapping_period() {
        let ps = periods(Weekly, d("2024-01-01"), 0, d("2024-03-06"), d("2024-03-11")).unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2024-03-04", "2024-03-10", "2024-03-10"),
                t("2024-03-11", "2024-03-17", "2024-03-17"),
            ]
        );
    }

    #[test]
    fn biweekly_across_leap_day() {
        let ps = periods(
            Biweekly,
            d("2024-02-19"),
            4,
            d("2024-02-25"),
            d("2024-03-05"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2024-02-19", "2024-03-03", "2024-03-07"),
                t("2024-03-04", "2024-03-17", "2024-03-21"),
            ]
        );
    }

    #[test]
    fn biweekly_far_from_anchor_stays_aligned() {
        // 2023-01-02 + 26 * 14 days = 2024-01-01.
        let ps = periods(
            Biweekly,
            d("2023-01-02"),
            0,
            d("2024-01-05"),
            d("2024-01-05"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![t("2024-01-01", "2024-01-14", "2024-01-14")]
        );
    }

    #[test]
    fn semimonthly_leap_february_and_month_ends() {
        let ps = periods(
            Semimonthly,
            d("2024-01-16"),
            3,
            d("2024-02-01"),
            d("2024-04-30"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2024-02-01", "2024-02-15", "2024-02-18"),
                t("2024-02-16", "2024-02-29", "2024-03-03"),
                t("2024-03-01", "2024-03-15", "2024-03-18"),
                t("2024-03-16", "2024-03-31", "2024-04-03"),
                t("2024-04-01", "2024-04-15", "2024-04-18"),
                t("2024-04-16", "2024-04-30", "2024-05-03"),
            ]
        );
    }

    #[test]
    fn semimonthly_common_year_february() {
        let ps = periods(
            Semimonthly,
            d("2023-01-01"),
            0,
            d("2023-02-20"),
            d("2023-02-20"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![t("2023-02-16", "2023-02-28", "2023-02-28")]
        );
    }

    #[test]
    fn monthly_calendar_months_and_year_end() {
        let ps = periods(
            Monthly,
            d("2024-01-01"),
            30,
            d("2024-02-10"),
            d("2024-03-01"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2024-02-01", "2024-02-29", "2024-03-30"),
                t("2024-03-01", "2024-03-31", "2024-04-30"),
            ]
        );
        let ps = periods(
            Monthly,
            d("2023-12-01"),
            1,
            d("2023-12-31"),
            d("2024-01-01"),
        )
        .unwrap();
        assert_eq!(
            triples(&ps),
            vec![
                t("2023-12-01", "2023-12-31", "2024-01-01"),
                t("2024-01-01", "2024-01-31", "2024-02-01"),
            ]
        );
    }

    #[test]
    fn range_before_anchor_yields_nothing() {
        for f in ScheduleFrequency::ALL {
            let ps = periods(f, d("2024-06-01"), 0, d("2024-01-01"), d("2024-05-31")).unwrap();
            assert!(ps.is_empty(), "{f:?}");
        }
    }

    #[test]
    fn range_straddling_anchor_starts_at_anchor() {
        let ps = periods(Weekly, d("2024-06-05"), 2, d("2024-05-01"), d("2024-06-05")).unwrap();
        assert_eq!(
            triples(&ps),
            vec![t("2024-06-05", "2024-06-11", "2024-06-13")]
        );
    }

    #[test]
    fn anchor_rules() {
        assert_eq!(
            periods(
                Semimonthly,
                d("2024-01-02"),
                0,
                d("2024-01-01"),
                d("2024-02-01")
            )
            .unwrap_err()
            .field(),
            "first_period_start"
        );
        assert_eq!(
            Schedule::new(Monthly, d("2024-01-16"), 0)
                .unwrap_err()
                .field(),
            "first_period_start"
        );
        assert!(Schedule::new(Semimonthly, d("2024-01-16"), 0).is_ok());
        assert!(Schedule::new(Weekly, d("2024-01-17"), 0).is_ok());
    }

    #[test]
    fn offset_bounds() {
        assert_eq!(
            Schedule::new(Weekly, d("2024-01-01"), 31)
                .unwrap_err()
                .field(),
            "pay_date_offset_days"
        );
        assert_eq!(
            Schedule::new(Weekly, d("2024-01-01"), -1)
                .unwrap_err()
                .field(),
            "pay_date_offset_days"
        );
        assert!(Schedule::new(Weekly, d("2024-01-01"), 30).is_ok());
    }

    #[test]
    fn too_many_periods_is_an_error() {
        // 400 weekly periods fit: 2024-01-01 + 400 weeks - 1 day.
        let last = d("2024-01-01") + Days::new(400 * 7 - 1);
        let ps = periods(Weekly, d("2024-01-01"), 0, d("2024-01-01"), last).unwrap();
        assert_eq!(ps.len(), 400);
        assert_eq!(ps[399].period_end, last);
        let e = periods(
            Weekly,
            d("2024-01-01"),
            0,
            d("2024-01-01"),
            last + Days::new(1),
        )
        .unwrap_err();
        assert_eq!(e.field(), "to");
        // A huge monthly range fails fast too.
        let e = periods(
            Monthly,
            d("1900-01-01"),
            0,
            d("1900-01-01"),
            d("2100-01-01"),
        )
        .unwrap_err();
        assert_eq!(e.field(), "to");
    }

    #[test]
    fn reversed_range_is_an_error() {
        let e = periods(Weekly, d("2024-01-01"), 0, d("2024-02-01"), d("2024-01-01")).unwrap_err();
        assert_eq!(e.field(), "from");
    }

    #[test]
    fn frequency_names() {
        assert_eq!(ScheduleFrequency::parse("biweekly").unwrap(), Biweekly);
        assert_eq!(
            ScheduleFrequency::parse("daily").unwrap_err().field(),
            "frequency"
        );
        assert_eq!(Semimonthly.pay_frequency(), PayFrequency::Semimonthly);
    }

    #[test]
    fn end_of_calendar_does_not_panic() {
        let max = NaiveDate::MAX;
        let r = periods(Weekly, max - Days::new(3), 0, max - Days::new(3), max);
        assert!(r.is_err());
    }
}
