//! Hours: validation of time entries, workweeks, and overtime classification.
//!
//! Workweeks are 7 consecutive days starting on the employer's workweek start day; an entry belongs
//! to the workweek containing its date and weeks are never averaged (29 CFR 778.104).
//!
//! * FLSA: within each workweek, in date order (input order within a day), hours after the 40th
//!   are overtime (29 U.S.C. 207(a)(1); the threshold comes from the federal rule pack).
//! * California (Labor Code 510(a)): per workday hours over 8 are overtime and over 12 double
//!   time; regular hours beyond 40 in the workweek become overtime (only hours still regular are
//!   counted, so nothing is counted twice); on the 7th consecutive workday of a workweek the first
//!   8 hours are overtime and hours over 8 double time.
//! * FLSA-exempt employees: every hour is regular.

use crate::error::CalcError;
use crate::money::{add, cmp, is_negative};
use crate::request::{OvertimeRules, PaycheckRequest, TimeEntry};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;

/// Longest accepted `job` label, in characters.
pub const MAX_JOB_LEN: usize = 64;

/// California daily overtime threshold (Labor Code 510(a)).
pub const CA_DAILY_OVERTIME_HOURS: Decimal = Decimal::from_parts(8, 0, 0, false, 0);
/// California daily double-time threshold (Labor Code 510(a)).
pub const CA_DAILY_DOUBLE_TIME_HOURS: Decimal = Decimal::from_parts(12, 0, 0, false, 0);
/// California weekly overtime threshold (Labor Code 510(a)).
pub const CA_WEEKLY_OVERTIME_HOURS: Decimal = Decimal::from_parts(40, 0, 0, false, 0);
/// Citation for the California constants above.
pub const CA_SOURCE: &str = "Cal. Labor Code 510(a) (daily >8 h and weekly >40 h at 1.5x, daily >12 h at 2x, 7th consecutive workday: first 8 h at 1.5x, over 8 h at 2x)";

const HOURS_PER_DAY: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

/// How one time entry's hours were classified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntrySplit {
    pub regular: Decimal,
    pub overtime: Decimal,
    pub double_time: Decimal,
}

/// One calendar day of a workweek (for the trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayClass {
    pub date: NaiveDate,
    pub hours: Decimal,
    pub split: EntrySplit,
    /// California: the 7th consecutive workday of the workweek.
    pub seventh_day: bool,
}

/// One workweek that has time entries in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workweek {
    /// First day of the workweek.
    pub start: NaiveDate,
    /// Hours worked in the week (sum of the entries in this period).
    pub hours: Decimal,
    pub totals: EntrySplit,
    /// Range into `Classified::order` of the entries of this week, in date order.
    pub first: usize,
    pub end: usize,
    /// Range into `Classified::days` of this week's workdays (`Classified::days_of`).
    pub days: std::ops::Range<usize>,
}

impl Workweek {
    /// Last day of the workweek.
    pub fn last_day(&self) -> NaiveDate {
        self.start
            .checked_add_days(Days::new(6))
            .unwrap_or(self.start)
    }
}

/// The classification of all time entries of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classified {
    /// Per time entry (same index as `time_entries`).
    pub splits: Vec<EntrySplit>,
    /// Per time entry: index into `weeks`.
    pub entry_week: Vec<usize>,
    /// Entry indices in date order (input order within a day).
    pub order: Vec<usize>,
    /// Workweeks in date order.
    pub weeks: Vec<Workweek>,
    pub totals: EntrySplit,
    /// The workdays of all weeks, in date order (one list; each week has its range).
    pub days: Vec<DayClass>,
}

impl Classified {
    /// Index of the workweek starting on `start`, if it has entries.
    pub fn week_index(&self, start: NaiveDate) -> Option<usize> {
        self.weeks.iter().position(|w| w.start == start)
    }
    pub fn total_hours(&self) -> Decimal {
        self.weeks.iter().map(|w| w.hours).sum()
    }
    /// The workdays of `w`, in date order.
    pub fn days_of(&self, w: &Workweek) -> &[DayClass] {
        self.days.get(w.days.clone()).unwrap_or(&[])
    }
}

/// First day of the workweek containing `date`, for workweeks starting on `start`.
pub fn workweek_start(date: NaiveDate, start: Weekday) -> NaiveDate {
    let back = (date.weekday().num_days_from_monday() + 7 - start.num_days_from_monday()) % 7;
    date.checked_sub_days(Days::new(u64::from(back)))
        .unwrap_or(date)
}

/// The workweek containing `date`: its first day (`workweek_start`) and the last date that
/// workweek holds for reuse on later dates (6 days on, or `date` itself when the date arithmetic
/// leaves chrono's range, so only that date reuses it).
fn workweek_span(date: NaiveDate, start: Weekday) -> (NaiveDate, NaiveDate) {
    let back = (date.weekday().num_days_from_monday() + 7 - start.num_days_from_monday()) % 7;
    match date.checked_sub_days(Days::new(u64::from(back))) {
        Some(first) => (first, first.checked_add_days(Days::new(6)).unwrap_or(date)),
        None => (date, date),
    }
}

/// Whether a `job` label is longer than `MAX_JOB_LEN` characters.
pub fn job_too_long(job: Option<&str>) -> bool {
    // A label of at most MAX_JOB_LEN bytes has at most that many characters: no count needed.
    job.is_some_and(|j| j.len() > MAX_JOB_LEN && j.chars().count() > MAX_JOB_LEN)
}

/// Check a `job` label.
pub fn validate_job(field_prefix: &str, job: Option<&str>) -> Result<(), CalcError> {
    if job_too_long(job) {
        return Err(CalcError::invalid(
            format!("{field_prefix}.job"),
            format!("longer than {MAX_JOB_LEN} characters"),
        ));
    }
    Ok(())
}

/// Validate the time entries: period present and ordered, dates inside it, hours in [0, 24] and
/// at most 24 per calendar day, rates and tips not negative, job labels short.
pub fn validate_time_entries(req: &PaycheckRequest) -> Result<(), CalcError> {
    validate_and_order(req).map(|_| ())
}

/// `validate_time_entries`, returning the entry indices in date order (input order within a
/// day), as `classify_ordered` takes them.
pub fn validate_and_order(req: &PaycheckRequest) -> Result<Vec<usize>, CalcError> {
    let entries = &req.time_entries;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let start = req
        .period_start
        .ok_or_else(|| CalcError::invalid("period_start", "required with time_entries"))?;
    let end = req
        .period_end
        .ok_or_else(|| CalcError::invalid("period_end", "required with time_entries"))?;
    if start > end {
        return Err(CalcError::invalid(
            "period_end",
            format!("{end} is before period_start {start}"),
        ));
    }
    for (i, e) in entries.iter().enumerate() {
        if is_negative(e.hours) {
            return Err(CalcError::invalid(
                format!("time_entries[{i}].hours"),
                "must not be negative",
            ));
        }
        if cmp(e.hours, HOURS_PER_DAY) == std::cmp::Ordering::Greater {
            return Err(CalcError::invalid(
                format!("time_entries[{i}].hours"),
                format!("{} hours is more than 24 in one entry", e.hours),
            ));
        }
        if is_negative(e.rate) {
            return Err(CalcError::invalid(
                format!("time_entries[{i}].rate"),
                "must not be negative",
            ));
        }
        if e.date < start || e.date > end {
            return Err(CalcError::invalid(
                format!("time_entries[{i}].date"),
                format!("{} is outside the pay period {start} to {end}", e.date),
            ));
        }
        if e.cash_tips.is_some_and(is_negative) || e.charged_tips.is_some_and(is_negative) {
            let name = if e.cash_tips.is_some_and(is_negative) {
                "cash_tips"
            } else {
                "charged_tips"
            };
            return Err(CalcError::invalid(
                format!("time_entries[{i}].{name}"),
                "must not be negative",
            ));
        }
        // The field name is only formatted for an error.
        if job_too_long(e.job.as_deref()) {
            validate_job(&format!("time_entries[{i}]"), e.job.as_deref())?;
        }
    }
    // At most 24 hours per calendar day: walk the entries in date order (input order within a
    // day) and report the entry whose hours cross 24.
    let order = date_order(entries);
    // With every entry on its own date, each day's total is one entry's hours (checked above).
    if order
        .windows(2)
        .all(|w| entries[w[0]].date != entries[w[1]].date)
    {
        return Ok(order);
    }
    let mut day: Option<NaiveDate> = None;
    let mut sum = Decimal::ZERO;
    for &i in &order {
        let e = &entries[i];
        if day != Some(e.date) {
            day = Some(e.date);
            sum = Decimal::ZERO;
        }
        sum = add(sum, e.hours);
        if cmp(sum, HOURS_PER_DAY) == std::cmp::Ordering::Greater {
            return Err(CalcError::invalid(
                format!("time_entries[{i}].hours"),
                format!("entries on {} total {sum} hours, more than 24", e.date),
            ));
        }
    }
    Ok(order)
}

/// Entry indices sorted by date, input order kept within a day.
fn date_order(entries: &[TimeEntry]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Entries usually come in date order already: then the (stable) sort would keep it.
    if !entries.windows(2).all(|w| w[0].date <= w[1].date) {
        order.sort_by_key(|&i| entries[i].date);
    }
    order
}

/// The part of the interval [from, from + h] that lies inside [lo, hi] (hi = None: unbounded).
#[inline]
fn overlap(from: Decimal, h: Decimal, lo: Decimal, hi: Option<Decimal>) -> Decimal {
    use std::cmp::Ordering::{Greater, Less};
    let to = add(from, h);
    if cmp(to, lo) == Less {
        // Ends below the band: what follows would give max(< 0, ZERO) = ZERO. (Ending exactly at
        // `lo` gives a zero with the operands' scale, so that case takes the long way.)
        return Decimal::ZERO;
    }
    // The same choices as `Decimal::min` / `Decimal::max` (on a tie: the receiver), with the
    // inline comparison.
    let top = match hi {
        Some(hi) if cmp(to, hi) == Greater => hi,
        _ => to,
    };
    let base = if cmp(from, lo) == Less { lo } else { from };
    let d = top - base;
    if cmp(d, Decimal::ZERO) == Less {
        Decimal::ZERO
    } else {
        d
    }
}

/// Classify the (validated) time entries into regular, overtime and double-time hours.
///
/// `flsa_weekly_threshold` is the FLSA overtime threshold from the federal pack (40).
pub fn classify(
    entries: &[TimeEntry],
    week_start_day: Weekday,
    rules: OvertimeRules,
    exempt: bool,
    flsa_weekly_threshold: Decimal,
) -> Classified {
    classify_ordered(
        entries,
        date_order(entries),
        week_start_day,
        rules,
        exempt,
        flsa_weekly_threshold,
    )
}

/// `classify` with the entries' date order already known (`order` as `validate_and_order`
/// returns it).
pub fn classify_ordered(
    entries: &[TimeEntry],
    order: Vec<usize>,
    week_start_day: Weekday,
    rules: OvertimeRules,
    exempt: bool,
    flsa_weekly_threshold: Decimal,
) -> Classified {
    if let Some((splits, entry_week, weeks, totals, days)) = fast::classify(
        entries,
        &order,
        week_start_day,
        rules,
        exempt,
        flsa_weekly_threshold,
    ) {
        return Classified {
            splits,
            entry_week,
            order,
            weeks,
            totals,
            days,
        };
    }
    classify_decimal(
        entries,
        order,
        week_start_day,
        rules,
        exempt,
        flsa_weekly_threshold,
    )
}

/// `classify` on `Decimal`s throughout (the reference; `fast::classify` gives the same result on
/// the inputs it accepts).
fn classify_decimal(
    entries: &[TimeEntry],
    order: Vec<usize>,
    week_start_day: Weekday,
    rules: OvertimeRules,
    exempt: bool,
    flsa_weekly_threshold: Decimal,
) -> Classified {
    let n = entries.len();
    let mut splits = vec![EntrySplit::default(); n];
    let mut entry_week = vec![0usize; n];
    let mut weeks: Vec<Workweek> = Vec::with_capacity(3);
    let mut days: Vec<DayClass> = Vec::with_capacity(n);

    // Group into weeks (order is by date, so each week is one contiguous run).
    let mut pos = 0;
    while pos < n {
        let start = workweek_start(entries[order[pos]].date, week_start_day);
        let mut end = pos;
        let mut hours = Decimal::ZERO;
        while end < n && workweek_start(entries[order[end]].date, week_start_day) == start {
            hours = add(hours, entries[order[end]].hours);
            entry_week[order[end]] = weeks.len();
            end += 1;
        }
        weeks.push(Workweek {
            start,
            hours,
            totals: EntrySplit::default(),
            first: pos,
            end,
            days: 0..0,
        });
        pos = end;
    }

    for w in &mut weeks {
        let first_day = days.len();
        let idx = &order[w.first..w.end];
        if exempt {
            for &i in idx {
                splits[i].regular = entries[i].hours;
            }
        } else {
            match rules {
                OvertimeRules::Flsa => {
                    let mut cum = Decimal::ZERO;
                    for &i in idx {
                        let h = entries[i].hours;
                        let reg = overlap(cum, h, Decimal::ZERO, Some(flsa_weekly_threshold));
                        splits[i] = EntrySplit {
                            regular: reg,
                            overtime: h - reg,
                            double_time: Decimal::ZERO,
                        };
                        cum = add(cum, h);
                    }
                }
                OvertimeRules::California => classify_california(entries, idx, &mut splits),
            }
        }
        // Per-day summary and week totals.
        let seventh =
            !exempt && rules == OvertimeRules::California && worked_all_seven(entries, idx);
        let last = w.last_day();
        for &i in idx {
            let e = &entries[i];
            let s = splits[i];
            match days[first_day..].last_mut() {
                Some(d) if d.date == e.date => {
                    d.hours = add(d.hours, e.hours);
                    add_split(&mut d.split, s);
                }
                _ => days.push(DayClass {
                    date: e.date,
                    hours: e.hours,
                    split: s,
                    seventh_day: seventh && e.date == last,
                }),
            }
            add_split(&mut w.totals, s);
        }
        w.days = first_day..days.len();
    }
    let mut totals = EntrySplit::default();
    for w in &weeks {
        add_split(&mut totals, w.totals);
    }
    Classified {
        splits,
        entry_week,
        order,
        weeks,
        totals,
        days,
    }
}

/// The classification on integers: hours as (mantissa, scale) pairs with exactly the values and
/// scales the `Decimal` operations of `classify_decimal` give (`money::add` and `Decimal`'s `-`:
/// a zero operand yields the other operand unchanged, otherwise the result is at the larger
/// scale; `Decimal::ZERO` has scale 0). Used when every entry's hours are non-negative with at
/// most 6 decimals and there are at most `MAX` entries; otherwise `None` and the `Decimal` path
/// runs.
mod fast {
    use super::{
        CA_DAILY_DOUBLE_TIME_HOURS, CA_DAILY_OVERTIME_HOURS, CA_WEEKLY_OVERTIME_HOURS, DayClass,
        EntrySplit, Workweek, workweek_span,
    };
    use crate::request::{OvertimeRules, TimeEntry};
    use chrono::{NaiveDate, Weekday};
    use rust_decimal::Decimal;
    use std::cmp::Ordering::{self, Greater, Less};

    const MAX: usize = 64;
    const MAX_SCALE: u32 = 6;
    const P10: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

    /// A non-negative decimal `m / 10^s` (s ≤ 6).
    #[derive(Debug, Clone, Copy, Default)]
    struct H {
        m: u64,
        s: u32,
    }

    const ZERO: H = H { m: 0, s: 0 };

    impl H {
        fn from_dec(d: Decimal) -> Option<H> {
            if d.is_sign_negative() || d.scale() > MAX_SCALE {
                return None;
            }
            let m = u64::try_from(d.mantissa()).ok()?;
            // Bounded so that sums of up to MAX values scaled by 10^6 stay far inside 64 bits.
            (m <= 10_000_000_000).then_some(H { m, s: d.scale() })
        }
        fn dec(self) -> Decimal {
            Decimal::from_parts(self.m as u32, (self.m >> 32) as u32, 0, false, self.s)
        }
        /// Both mantissas at the larger scale, and that scale.
        #[inline]
        fn aligned(a: H, b: H) -> (u64, u64, u32) {
            match a.s.cmp(&b.s) {
                Ordering::Equal => (a.m, b.m, a.s),
                Greater => (a.m, b.m * P10[(a.s - b.s) as usize], a.s),
                Less => (a.m * P10[(b.s - a.s) as usize], b.m, b.s),
            }
        }
        #[inline]
        fn add(a: H, b: H) -> H {
            if a.m == 0 {
                return b;
            }
            if b.m == 0 {
                return a;
            }
            let (x, y, s) = H::aligned(a, b);
            H { m: x + y, s }
        }
        #[inline]
        fn cmp(a: H, b: H) -> Ordering {
            let (x, y, _) = H::aligned(a, b);
            x.cmp(&y)
        }
        /// `a - b`, or `None` when it is below zero.
        #[inline]
        fn sub(a: H, b: H) -> Option<H> {
            if a.m == 0 {
                // 0 - b is -b: below zero unless b is zero (then b itself).
                return (b.m == 0).then_some(b);
            }
            if b.m == 0 {
                return Some(a);
            }
            let (x, y, s) = H::aligned(a, b);
            if x >= y {
                Some(H { m: x - y, s })
            } else {
                None
            }
        }
    }

    /// `super::overlap` on `H`.
    #[inline(always)]
    fn overlap(from: H, h: H, lo: H, hi: Option<H>) -> H {
        let to = H::add(from, h);
        if H::cmp(to, lo) == Less {
            return ZERO;
        }
        let top = match hi {
            Some(hi) if H::cmp(to, hi) == Greater => hi,
            _ => to,
        };
        let base = if H::cmp(from, lo) == Less { lo } else { from };
        H::sub(top, base).unwrap_or(ZERO)
    }

    /// `Classified`'s splits, entry weeks, weeks and totals.
    type Parts = (
        Vec<EntrySplit>,
        Vec<usize>,
        Vec<Workweek>,
        EntrySplit,
        Vec<DayClass>,
    );

    #[derive(Debug, Clone, Copy, Default)]
    struct Split {
        regular: H,
        overtime: H,
        double_time: H,
    }

    impl Split {
        #[inline(always)]
        fn add(&mut self, b: Split) {
            self.regular = H::add(self.regular, b.regular);
            self.overtime = H::add(self.overtime, b.overtime);
            self.double_time = H::add(self.double_time, b.double_time);
        }
        fn dec(self) -> EntrySplit {
            EntrySplit {
                regular: self.regular.dec(),
                overtime: self.overtime.dec(),
                double_time: self.double_time.dec(),
            }
        }
    }

    /// Whether every one of the 7 days of the week has hours worked (`idx` is one week, by date).
    fn worked_all_seven(dates: &[NaiveDate], hours: &[H], idx: &[usize]) -> bool {
        let mut days = 0u8;
        let mut prev: Option<NaiveDate> = None;
        for &i in idx {
            if hours[i].m > 0 && prev != Some(dates[i]) {
                days += 1;
                prev = Some(dates[i]);
            }
        }
        days == 7
    }

    pub(super) fn classify(
        entries: &[TimeEntry],
        order: &[usize],
        week_start_day: Weekday,
        rules: OvertimeRules,
        exempt: bool,
        flsa_weekly_threshold: Decimal,
    ) -> Option<Parts> {
        let n = entries.len();
        if n > MAX {
            return None;
        }
        let threshold = H::from_dec(flsa_weekly_threshold)?;
        let (ot8, dt12, wk40) = (
            H::from_dec(CA_DAILY_OVERTIME_HOURS)?,
            H::from_dec(CA_DAILY_DOUBLE_TIME_HOURS)?,
            H::from_dec(CA_WEEKLY_OVERTIME_HOURS)?,
        );
        let mut hours = [ZERO; MAX];
        let mut dates = [NaiveDate::MIN; MAX];
        // The workweek of each entry (in date order, an entry on the same date as the previous
        // one is in the same week).
        let mut wstart = [NaiveDate::MIN; MAX];
        for (i, e) in entries.iter().enumerate() {
            hours[i] = H::from_dec(e.hours)?;
            dates[i] = e.date;
        }
        // The current workweek (first day, last date it holds): dates come in order, so a date
        // up to that last one is in the same week.
        let mut cur: Option<(NaiveDate, NaiveDate)> = None;
        for &i in order {
            let d = dates[i];
            let w = match cur {
                Some((first, last)) if d <= last => first,
                _ => {
                    let span = workweek_span(d, week_start_day);
                    cur = Some(span);
                    span.0
                }
            };
            wstart[i] = w;
        }
        let mut sp = [Split::default(); MAX];
        let mut entry_week = vec![0usize; n];
        let mut weeks: Vec<Workweek> = Vec::with_capacity(3);
        let mut days: Vec<DayClass> = Vec::with_capacity(n);
        let mut totals = Split::default();

        let mut pos = 0;
        while pos < n {
            let start = wstart[order[pos]];
            let mut end = pos;
            let mut wh = ZERO;
            while end < n && wstart[order[end]] == start {
                wh = H::add(wh, hours[order[end]]);
                entry_week[order[end]] = weeks.len();
                end += 1;
            }
            let idx = &order[pos..end];
            let seventh = !exempt
                && rules == OvertimeRules::California
                && worked_all_seven(&dates, &hours, idx);
            if exempt {
                for &i in idx {
                    sp[i].regular = hours[i];
                }
            } else {
                match rules {
                    OvertimeRules::Flsa => {
                        let mut cum = ZERO;
                        for &i in idx {
                            let h = hours[i];
                            let reg = overlap(cum, h, ZERO, Some(threshold));
                            sp[i] = Split {
                                regular: reg,
                                overtime: H::sub(h, reg)?,
                                double_time: ZERO,
                            };
                            cum = H::add(cum, h);
                        }
                    }
                    OvertimeRules::California => {
                        let last_date = idx.last().map(|&i| dates[i]);
                        let mut day: Option<NaiveDate> = None;
                        let mut cum = ZERO;
                        for &i in idx {
                            if day != Some(dates[i]) {
                                day = Some(dates[i]);
                                cum = ZERO;
                            }
                            let h = hours[i];
                            sp[i] = if seventh && Some(dates[i]) == last_date {
                                Split {
                                    regular: ZERO,
                                    overtime: overlap(cum, h, ZERO, Some(ot8)),
                                    double_time: overlap(cum, h, ot8, None),
                                }
                            } else {
                                Split {
                                    regular: overlap(cum, h, ZERO, Some(ot8)),
                                    overtime: overlap(cum, h, ot8, Some(dt12)),
                                    double_time: overlap(cum, h, dt12, None),
                                }
                            };
                            cum = H::add(cum, h);
                        }
                        let mut cum_reg = ZERO;
                        for &i in idx {
                            let s = &mut sp[i];
                            let keep = overlap(cum_reg, s.regular, ZERO, Some(wk40));
                            cum_reg = H::add(cum_reg, s.regular);
                            s.overtime = H::add(s.overtime, H::sub(s.regular, keep)?);
                            s.regular = keep;
                        }
                    }
                }
            }
            // Per-day summary and week totals.
            let mut w = Workweek {
                start,
                hours: wh.dec(),
                totals: EntrySplit::default(),
                first: pos,
                end,
                days: 0..0,
            };
            let first_day = days.len();
            let last = w.last_day();
            let mut wt = Split::default();
            let mut cur: Option<(NaiveDate, H, Split)> = None;
            for &i in idx {
                let s = sp[i];
                match &mut cur {
                    Some((d, dh, ds)) if *d == dates[i] => {
                        *dh = H::add(*dh, hours[i]);
                        ds.add(s);
                    }
                    _ => {
                        if let Some((d, dh, ds)) = cur {
                            days.push(DayClass {
                                date: d,
                                hours: dh.dec(),
                                split: ds.dec(),
                                seventh_day: seventh && d == last,
                            });
                        }
                        cur = Some((dates[i], hours[i], s));
                    }
                }
                wt.add(s);
            }
            if let Some((d, dh, ds)) = cur {
                days.push(DayClass {
                    date: d,
                    hours: dh.dec(),
                    split: ds.dec(),
                    seventh_day: seventh && d == last,
                });
            }
            w.totals = wt.dec();
            w.days = first_day..days.len();
            totals.add(wt);
            weeks.push(w);
            pos = end;
        }
        let splits = sp[..n].iter().map(|s| s.dec()).collect();
        Some((splits, entry_week, weeks, totals.dec(), days))
    }
}

#[inline]
fn add_split(a: &mut EntrySplit, b: EntrySplit) {
    a.regular = add(a.regular, b.regular);
    a.overtime = add(a.overtime, b.overtime);
    a.double_time = add(a.double_time, b.double_time);
}

/// Whether every one of the 7 days of the workweek has hours worked (`idx` is one week, by date).
fn worked_all_seven(entries: &[TimeEntry], idx: &[usize]) -> bool {
    let mut days = 0u8;
    let mut prev: Option<NaiveDate> = None;
    for &i in idx {
        let e = &entries[i];
        if e.hours > Decimal::ZERO && prev != Some(e.date) {
            days += 1;
            prev = Some(e.date);
        }
    }
    days == 7
}

/// California: daily thresholds, the 7th consecutive workday, then the weekly rule on hours still
/// classified regular. `idx` is one workweek's entries in date order.
fn classify_california(entries: &[TimeEntry], idx: &[usize], splits: &mut [EntrySplit]) {
    let seventh = worked_all_seven(entries, idx);
    let last_date = idx.last().map(|&i| entries[i].date);
    let zero = Decimal::ZERO;
    let mut day: Option<NaiveDate> = None;
    let mut cum = zero;
    for &i in idx {
        let e = &entries[i];
        if day != Some(e.date) {
            day = Some(e.date);
            cum = zero;
        }
        let h = e.hours;
        splits[i] = if seventh && Some(e.date) == last_date {
            EntrySplit {
                regular: zero,
                overtime: overlap(cum, h, zero, Some(CA_DAILY_OVERTIME_HOURS)),
                double_time: overlap(cum, h, CA_DAILY_OVERTIME_HOURS, None),
            }
        } else {
            EntrySplit {
                regular: overlap(cum, h, zero, Some(CA_DAILY_OVERTIME_HOURS)),
                overtime: overlap(
                    cum,
                    h,
                    CA_DAILY_OVERTIME_HOURS,
                    Some(CA_DAILY_DOUBLE_TIME_HOURS),
                ),
                double_time: overlap(cum, h, CA_DAILY_DOUBLE_TIME_HOURS, None),
            }
        };
        cum = add(cum, h);
    }
    // Weekly: regular hours beyond 40 (counting only regular hours) become overtime.
    let mut cum_reg = zero;
    for &i in idx {
        let s = &mut splits[i];
        let keep = overlap(cum_reg, s.regular, zero, Some(CA_WEEKLY_OVERTIME_HOURS));
        cum_reg = add(cum_reg, s.regular);
        s.overtime = add(s.overtime, s.regular - keep);
        s.regular = keep;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    fn entries(start: &str, hours: &[&str]) -> Vec<TimeEntry> {
        let s: NaiveDate = start.parse().unwrap();
        hours
            .iter()
            .enumerate()
            .map(|(i, h)| TimeEntry {
                date: s + Days::new(i as u64),
                hours: h.parse().unwrap(),
                rate: dec!(20),
                job: None,
                cash_tips: None,
                charged_tips: None,
            })
            .collect()
    }

    fn totals(e: &[TimeEntry], rules: OvertimeRules) -> (Decimal, Decimal, Decimal) {
        let c = classify(e, Weekday::Mon, rules, false, dec!(40));
        (c.totals.regular, c.totals.overtime, c.totals.double_time)
    }

    // 2025-03-03 is a Monday.

    #[test]
    fn w1_california_daily() {
        let e = entries("2025-03-03", &["9", "10", "8", "12", "7"]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(39), dec!(7), dec!(0))
        );
        // Under the FLSA the same 46 hours are 40 + 6.
        assert_eq!(
            totals(&e, OvertimeRules::Flsa),
            (dec!(40), dec!(6), dec!(0))
        );
    }

    #[test]
    fn w2_california_fourteen_hours() {
        let e = entries("2025-03-03", &["14"]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(8), dec!(4), dec!(2))
        );
    }

    #[test]
    fn w2_split_across_two_entries_same_day() {
        let mut e = entries("2025-03-03", &["6"]);
        e.extend(entries("2025-03-03", &["8"]));
        let c = classify(&e, Weekday::Mon, OvertimeRules::California, false, dec!(40));
        assert_eq!(c.splits[0].regular, dec!(6));
        assert_eq!(
            c.splits[1],
            EntrySplit {
                regular: dec!(2),
                overtime: dec!(4),
                double_time: dec!(2)
            }
        );
        assert_eq!(c.days_of(&c.weeks[0]).len(), 1);
        assert_eq!(c.days_of(&c.weeks[0])[0].hours, dec!(14));
    }

    #[test]
    fn w3_flsa_five_ten_hour_days() {
        let e = entries("2025-03-03", &["10"; 5]);
        assert_eq!(
            totals(&e, OvertimeRules::Flsa),
            (dec!(40), dec!(10), dec!(0))
        );
        let c = classify(&e, Weekday::Mon, OvertimeRules::Flsa, false, dec!(40));
        // The overtime falls on the last day.
        assert_eq!(c.splits[4].overtime, dec!(10));
        assert_eq!(c.splits[3].overtime, dec!(0));
    }

    #[test]
    fn w4_weeks_not_averaged() {
        let mut e = entries("2025-03-03", &["10"; 5]);
        e.extend(entries("2025-03-10", &["6"; 5]));
        assert_eq!(
            totals(&e, OvertimeRules::Flsa),
            (dec!(70), dec!(10), dec!(0))
        );
        let c = classify(&e, Weekday::Mon, OvertimeRules::Flsa, false, dec!(40));
        assert_eq!(c.weeks.len(), 2);
        assert_eq!(c.weeks[0].hours, dec!(50));
        assert_eq!(c.weeks[1].hours, dec!(30));
    }

    #[test]
    fn california_weekly_rule_six_eight_hour_days() {
        let e = entries("2025-03-03", &["8"; 6]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(40), dec!(8), dec!(0))
        );
    }

    #[test]
    fn california_weekly_rule_does_not_double_count() {
        // 6 days: 10, 10, 10, 10, 6, 6 = 52 h: daily OT 8; regular 44 -> 40 + 4 weekly OT
        // (the 8 daily-overtime hours are not counted again toward the 40).
        let e = entries("2025-03-03", &["10", "10", "10", "10", "6", "6"]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(40), dec!(12), dec!(0))
        );
    }

    #[test]
    fn california_seventh_consecutive_day() {
        // 7 × 9 h: days 1-6 give 48 regular + 6 OT; weekly rule moves 8 to OT; day 7: 8 OT + 1 DT.
        let e = entries("2025-03-03", &["9"; 7]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(40), dec!(22), dec!(1))
        );
        let c = classify(&e, Weekday::Mon, OvertimeRules::California, false, dec!(40));
        assert!(c.days_of(&c.weeks[0])[6].seventh_day);
        assert_eq!(
            c.splits[6],
            EntrySplit {
                regular: dec!(0),
                overtime: dec!(8),
                double_time: dec!(1)
            }
        );
        // Seven days spanning two workweeks are not a 7th consecutive day in either.
        let e = entries("2025-03-05", &["9"; 7]);
        assert_eq!(
            totals(&e, OvertimeRules::California),
            (dec!(56), dec!(7), dec!(0))
        );
    }

    #[test]
    fn exempt_all_regular() {
        let e = entries("2025-03-03", &["14"; 5]);
        let c = classify(&e, Weekday::Mon, OvertimeRules::California, true, dec!(40));
        assert_eq!(
            c.totals,
            EntrySplit {
                regular: dec!(70),
                ..Default::default()
            }
        );
    }

    #[test]
    fn workweek_span_matches_workweek_start() {
        let days = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let from: NaiveDate = "2024-12-20".parse().unwrap();
        for ws in days {
            for k in 0..30u64 {
                let d = from.checked_add_days(Days::new(k)).unwrap();
                let (first, last) = workweek_span(d, ws);
                assert_eq!(first, workweek_start(d, ws));
                assert_eq!(last, first.checked_add_days(Days::new(6)).unwrap());
                assert_ne!(workweek_start(last.succ_opt().unwrap(), ws), first);
            }
            // At the ends of chrono's range the span still gives the same first day, and a
            // later date it holds has that first day too.
            for d in [NaiveDate::MIN, NaiveDate::MAX] {
                let (first, last) = workweek_span(d, ws);
                assert_eq!(first, workweek_start(d, ws));
                assert!(last >= d);
                assert_eq!(workweek_start(last, ws), first);
            }
        }
    }

    #[test]
    fn workweek_start_day() {
        let d: NaiveDate = "2025-03-05".parse().unwrap(); // Wednesday
        assert_eq!(workweek_start(d, Weekday::Mon).to_string(), "2025-03-03");
        assert_eq!(workweek_start(d, Weekday::Sun).to_string(), "2025-03-02");
        assert_eq!(workweek_start(d, Weekday::Wed).to_string(), "2025-03-05");
        assert_eq!(workweek_start(d, Weekday::Thu).to_string(), "2025-02-27");
        // Sunday-start weeks: Sat 03-08 and Sun 03-09 fall in different weeks.
        let e = entries("2025-03-03", &["10"; 7]);
        let c = classify(&e, Weekday::Sun, OvertimeRules::Flsa, false, dec!(40));
        assert_eq!(c.weeks.len(), 2);
        assert_eq!(c.weeks[0].hours, dec!(60));
        assert_eq!(c.totals.overtime, dec!(20));
    }

    proptest::proptest! {
        /// The integer classification gives exactly the values and scales of the `Decimal` one.
        #[test]
        fn fast_classification_matches_decimal(
            raw in proptest::collection::vec((0u64..14, 0i64..=2_400_000, 0u32..=6), 1..30),
            california in proptest::bool::ANY,
            exempt in proptest::bool::weighted(0.1),
            start in 0u8..7,
        ) {
            let s: NaiveDate = "2025-03-03".parse().unwrap();
            let e: Vec<TimeEntry> = raw
                .iter()
                .map(|&(day, m, scale)| {
                    let mut h = Decimal::new(m, 5);
                    h.rescale(scale);
                    TimeEntry {
                        date: s + Days::new(day),
                        hours: h,
                        rate: dec!(20),
                        job: None,
                        cash_tips: None,
                        charged_tips: None,
                    }
                })
                .collect();
            let rules = if california { OvertimeRules::California } else { OvertimeRules::Flsa };
            let wd = Weekday::try_from(start).unwrap();
            let fast = classify(&e, wd, rules, exempt, dec!(40));
            let slow = classify_decimal(&e, date_order(&e), wd, rules, exempt, dec!(40));
            proptest::prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        }
    }

    #[test]
    fn fast_classification_keeps_scales() {
        let e = entries(
            "2025-03-03",
            &[
                "8.00", "0", "12.500", "0.000", "9.000001", "7.5", "14", "3.25",
            ],
        );
        for rules in [OvertimeRules::Flsa, OvertimeRules::California] {
            for exempt in [false, true] {
                let fast = classify(&e, Weekday::Mon, rules, exempt, dec!(40));
                let slow =
                    classify_decimal(&e, date_order(&e), Weekday::Mon, rules, exempt, dec!(40));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
            }
        }
    }

    fn req(entries: serde_json::Value) -> PaycheckRequest {
        crate::parse_request(
            &serde_json::json!({
                "pay_date": "2025-03-14", "pay_frequency": "weekly", "work_state": "TX",
                "period_start": "2025-03-03", "period_end": "2025-03-09",
                "time_entries": entries
            })
            .to_string(),
        )
        .unwrap()
    }

    fn err_field(r: &PaycheckRequest) -> String {
        validate_time_entries(r).unwrap_err().field().to_owned()
    }

    #[test]
    fn validation_names_the_field() {
        use serde_json::json;
        let e = |d: &str, h: &str| json!({"date": d, "hours": h, "rate": "15"});
        assert!(validate_time_entries(&req(json!([e("2025-03-03", "8")]))).is_ok());
        assert_eq!(
            err_field(&req(json!([e("2025-03-03", "8"), e("2025-03-04", "-1")]))),
            "time_entries[1].hours"
        );
        assert_eq!(
            err_field(&req(json!([e("2025-03-03", "24.5")]))),
            "time_entries[0].hours"
        );
        assert_eq!(
            err_field(&req(json!([
                e("2025-03-03", "12"),
                e("2025-03-04", "12"),
                e("2025-03-03", "12.5")
            ]))),
            "time_entries[2].hours"
        );
        assert_eq!(
            err_field(&req(json!([e("2025-03-10", "8")]))),
            "time_entries[0].date"
        );
        assert_eq!(
            err_field(&req(
                json!([{"date": "2025-03-03", "hours": "8", "rate": "-1"}])
            )),
            "time_entries[0].rate"
        );
        assert_eq!(
            err_field(&req(
                json!([{"date": "2025-03-03", "hours": "8", "rate": "15", "job": "x".repeat(65)}])
            )),
            "time_entries[0].job"
        );
        assert_eq!(
            err_field(&req(
                json!([{"date": "2025-03-03", "hours": "8", "rate": "15", "cash_tips": "-1.00"}])
            )),
            "time_entries[0].cash_tips"
        );
        let mut r = req(json!([e("2025-03-03", "8")]));
        r.period_start = None;
        assert_eq!(err_field(&r), "period_start");
        let mut r = req(json!([e("2025-03-03", "8")]));
        r.period_end = None;
        assert_eq!(err_field(&r), "period_end");
        let mut r = req(json!([e("2025-03-03", "8")]));
        r.period_end = Some("2025-03-01".parse().unwrap());
        assert_eq!(err_field(&r), "period_end");
    }
}
