//! Earnings: time entries classified into regular/overtime/double time at the FLSA regular rate,
//! salary, supplemental pay, paid leave, tips with tip credit and minimum-wage make-up.
//!
//! * Regular rate (29 CFR 778.109): per workweek, (straight-time pay for all hours worked +
//!   non-discretionary pay allocated to the week) / hours worked. Non-discretionary pay is
//!   commission, service charges and bonuses not marked discretionary (29 CFR 778.211); dated ones
//!   go to their workweek, undated ones are spread over the period's workweeks by hours worked.
//!   Tips never enter the regular rate (29 CFR 531.60). With a tip credit, each hour counts at
//!   max(cash rate, minimum wage) (29 CFR 531.60).
//! * Overtime for h hours at straight rate r in week w: h×r + 0.5×RR_w×h; double time:
//!   h×r + 1.0×RR_w×h (29 CFR 778.115: straight time for all hours plus the half-time premium).
//! * Tipped employees with a tip credit (29 U.S.C. 203(m)): per workweek, cash wages plus tips
//!   must reach minimum wage × hours (+ the minimum-wage overtime premium); the employer makes up
//!   any shortfall.
//!
//! Each line's amount is computed exactly and rounded once to cents.

use crate::error::CalcError;
use crate::hours::{self, Classified};
use crate::money::{add, cmp, is_positive, max, mul, normalize, sub};
use crate::request::{EarningInput, EarningType, OvertimeRules, PaycheckRequest};
use crate::response::{EarningLine, HoursSummary};
use crate::rules::FederalPack;
use crate::state::StatePack;
use crate::trace::{DayText, Label, LineTrace, PremiumText, TraceValue};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering::Less;

pub struct EarningsContext<'a> {
    pub req: &'a PaycheckRequest,
    pub federal: &'static FederalPack,
    pub work_state: &'static StatePack,
    pub overtime_rules: OvertimeRules,
}

pub struct EarningsOutcome {
    pub lines: Vec<EarningLine>,
    pub traces: Vec<LineTrace>,
    pub hours: HoursSummary,
}

const HALF: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
const ONE_AND_HALF: Decimal = Decimal::from_parts(15, 0, 0, false, 1);
const TWO: Decimal = Decimal::from_parts(2, 0, 0, false, 0);
const EMPLOYEE_MW_SOURCE: &str = "request: employee.minimum_wage (local ordinance)";

/// Static trace line id for a kind (the common case: one line of that kind).
fn line_id(kind: EarningType) -> &'static str {
    match kind {
        EarningType::Regular => "earning:regular",
        EarningType::Overtime => "earning:overtime",
        EarningType::DoubleTime => "earning:double_time",
        EarningType::Salary => "earning:salary",
        EarningType::Bonus => "earning:bonus",
        EarningType::Commission => "earning:commission",
        EarningType::Retro => "earning:retro",
        EarningType::Holiday => "earning:holiday",
        EarningType::Pto => "earning:pto",
        EarningType::Sick => "earning:sick",
        EarningType::CashTips => "earning:cash_tips",
        EarningType::ChargedTips => "earning:charged_tips",
        EarningType::ServiceCharge => "earning:service_charge",
        EarningType::Reimbursement => "earning:reimbursement",
        EarningType::TipMakeup => "earning:tip_makeup",
    }
}

/// How a line's trace id is made unique when several lines share a kind.
enum IdSuffix {
    None,
    /// A group of time-entry hours: `:{job}@{rate}` (the straight rate).
    Group(Decimal),
    /// An earnings input: `:earnings[i]`.
    Input(usize),
}

/// Pay that enters the FLSA regular rate when not discretionary.
fn in_regular_rate(e: &EarningInput) -> bool {
    match e.kind {
        EarningType::Commission | EarningType::ServiceCharge => true,
        EarningType::Bonus => !e.discretionary,
        _ => false,
    }
}

/// An earnings input's amount, validated.
struct InputCalc {
    exact: Decimal,
    hours: Option<Decimal>,
    rate: Option<Decimal>,
}

fn neg(field: String) -> CalcError {
    CalcError::invalid(field, "must not be negative")
}

/// Validate one earnings input and compute its exact amount.
fn input_amount(i: usize, e: &EarningInput, req: &PaycheckRequest) -> Result<InputCalc, CalcError> {
    let f = |name: &str| format!("earnings[{i}].{name}");
    if e.kind == EarningType::TipMakeup {
        return Err(CalcError::invalid(
            f("type"),
            "tip_makeup is computed from the tipped employee's hours and tips, not an input",
        ));
    }
    for (name, v) in [
        ("hours", e.hours),
        ("rate", e.rate),
        ("amount", e.amount),
        ("annual_amount", e.annual_amount),
        ("previous_rate", e.previous_rate),
    ] {
        if v.is_some_and(|v| v < Decimal::ZERO) {
            return Err(neg(f(name)));
        }
    }
    if hours::job_too_long(e.job.as_deref()) {
        hours::validate_job(&format!("earnings[{i}]"), e.job.as_deref())?;
    }
    if e.discretionary && e.kind != EarningType::Bonus {
        return Err(CalcError::invalid(
            f("discretionary"),
            "only a bonus can be discretionary",
        ));
    }
    if e.annual_amount.is_some() && e.kind != EarningType::Salary {
        return Err(CalcError::invalid(
            f("annual_amount"),
            "only a salary is given as an annual amount",
        ));
    }
    if e.previous_rate.is_some() && e.kind != EarningType::Retro {
        return Err(CalcError::invalid(
            f("previous_rate"),
            "only retro pay has a previous rate",
        ));
    }
    match (e.hours, e.rate) {
        (Some(_), None) => {
            return Err(CalcError::invalid(f("rate"), "required with hours"));
        }
        (None, Some(_)) => {
            return Err(CalcError::invalid(f("hours"), "required with rate"));
        }
        _ => {}
    }
    let ways = usize::from(e.hours.is_some())
        + usize::from(e.amount.is_some())
        + usize::from(e.annual_amount.is_some());
    if ways != 1 {
        let allowed = if e.kind == EarningType::Salary {
            "hours and rate, amount, or annual_amount"
        } else {
            "hours and rate, or amount"
        };
        return Err(CalcError::invalid(
            format!("earnings[{i}]"),
            format!("give exactly one of: {allowed}"),
        ));
    }
    if let Some(a) = e.amount {
        if e.previous_rate.is_some() {
            return Err(CalcError::invalid(
                f("previous_rate"),
                "retro pay is hours, rate and previous_rate, or an amount",
            ));
        }
        return Ok(InputCalc {
            exact: a,
            hours: None,
            rate: None,
        });
    }
    if let Some(a) = e.annual_amount {
        return Ok(InputCalc {
            exact: a / req.pay_frequency.periods_per_year(),
            hours: None,
            rate: None,
        });
    }
    let (h, r) = match (e.hours, e.rate) {
        (Some(h), Some(r)) => (h, r),
        _ => return Err(CalcError::Invariant("earnings input without amount".into())),
    };
    if e.kind == EarningType::Retro {
        let prev = e
            .previous_rate
            .ok_or_else(|| CalcError::invalid(f("previous_rate"), "required for retro hours"))?;
        if r < prev {
            return Err(CalcError::invalid(
                f("rate"),
                format!("{r} is below previous_rate {prev}: retro pay cannot be negative"),
            ));
        }
        return Ok(InputCalc {
            exact: h * (r - prev),
            hours: Some(h),
            rate: Some(r - prev),
        });
    }
    Ok(InputCalc {
        exact: h * r,
        hours: Some(h),
        rate: Some(r),
    })
}

/// Labour facts and pay of one workweek.
#[derive(Default, Clone)]
struct WeekPay {
    /// Applicable minimum wage and its source.
    mw: Decimal,
    mw_source: &'static str,
    /// Straight-time pay counted for the regular rate.
    straight: Decimal,
    /// Non-discretionary pay allocated to the week.
    nd: Decimal,
    rr: Decimal,
    /// Tips allocated to the week (time entries plus tip inputs).
    tips: Decimal,
    /// Exact cash wages for the week's hours (regular + overtime + double time).
    cash: Decimal,
    /// Exact overtime premium (0.5×RR×OT + 1.0×RR×DT).
    premium: Decimal,
    /// Pay the minimum wage requires for the week's hours (tip credit only).
    required: Decimal,
    makeup: Decimal,
}

/// Spread `amount` over the weeks in proportion to hours worked; returns false when no hours.
fn spread(amount: Decimal, cls: &Classified, total_hours: Decimal, out: &mut [Decimal]) -> bool {
    if total_hours <= Decimal::ZERO {
        return false;
    }
    for (w, o) in cls.weeks.iter().zip(out.iter_mut()) {
        *o += amount * w.hours / total_hours;
    }
    true
}

/// Trace labels of one kind of allocation (`tips`, `regular_rate_allocation`).
struct AllocLabels {
    /// `{what}.method`
    method: &'static str,
    /// `{what}.workweek:` (followed by the week's start date)
    workweek: &'static str,
}

const TIPS_ALLOCATION: AllocLabels = AllocLabels {
    method: "tips.method",
    workweek: "tips.workweek:",
};

const RR_ALLOCATION: AllocLabels = AllocLabels {
    method: "regular_rate_allocation.method",
    workweek: "regular_rate_allocation.workweek:",
};

/// Where amounts paid for the period are placed in its workweeks.
struct Placement<'c> {
    cls: &'c Classified,
    week_start_day: chrono::Weekday,
    total_hours: Decimal,
}

impl Placement<'_> {
    /// Allocate a dated amount to its workweek, or spread it by hours worked over the period's
    /// workweeks (undated, or dated in a week without hours in this period); traced in `t`.
    fn allocate(
        &self,
        amount: Decimal,
        date: Option<NaiveDate>,
        out: &mut [Decimal],
        mut t: Option<&mut LineTrace>,
        what: &AllocLabels,
    ) {
        let cls = self.cls;
        if let Some(d) = date
            && let Some(w) = cls.week_index(hours::workweek_start(d, self.week_start_day))
        {
            out[w] += amount;
            if let Some(t) = t {
                t.step(Label::Dated(what.workweek, cls.weeks[w].start), amount);
            }
            return;
        }
        if spread(amount, cls, self.total_hours, out) {
            if let Some(t) = t.as_deref_mut() {
                t.step(
                    what.method,
                    if date.is_some() {
                        "dated outside the period's worked workweeks: spread over them by hours worked"
                    } else {
                        "undated: spread over the period's workweeks by hours worked"
                    },
                );
                for w in &cls.weeks {
                    t.step(
                        Label::Dated(what.workweek, w.start),
                        normalize(amount * w.hours / self.total_hours),
                    );
                }
            }
        } else if let Some(t) = t {
            t.step(what.method, "no hours worked in the period: not allocated");
        }
    }
}

/// Lines of time-entry pay are grouped by job and straight rate.
type GroupKey<'r> = (Option<&'r str>, Decimal);

/// Group kinds, in line order.
const REGULAR: u8 = 0;
const OVERTIME: u8 = 1;
const DOUBLE: u8 = 2;

/// The time-entry hours of one kind (`REGULAR`, `OVERTIME`, `DOUBLE`) for one (job, straight
/// rate): one line.
struct Group<'r> {
    kind: u8,
    key: GroupKey<'r>,
    /// The number of the key (see `group_entry`).
    kid: usize,
    hours: Decimal,
    /// Overtime / double time: exact amount, whether the regular rate equals the straight rate
    /// in every week, and the index in the week parts of the group's last week.
    exact: Decimal,
    rr_is_rate: bool,
    last_part: usize,
    /// Index in creation order (what the week parts refer to).
    id: usize,
}

/// One week of an overtime / double-time group: (group id, week index, hours, exact amount).
type WeekPart = (usize, usize, Decimal, Decimal);

/// Same job and a rate equal in value (as `==` on the key would compare it).
#[inline(always)]
fn same_key(a: &GroupKey, b: &GroupKey) -> bool {
    cmp(a.1, b.1) == std::cmp::Ordering::Equal && a.0 == b.0
}

/// The group of `kind` for `key`, created when absent (all kinds in one small vector, searched
/// linearly: a paycheck has a few). `kid` numbers the distinct keys (equal keys, equal numbers),
/// so a group is found by comparing integers; the keys themselves are compared only for a number
/// not seen with this kind yet.
#[inline]
fn group_entry<'g, 'r>(
    groups: &'g mut Vec<Group<'r>>,
    kind: u8,
    key: GroupKey<'r>,
    kid: usize,
) -> &'g mut Group<'r> {
    let mut i = 0;
    while i < groups.len() && !(groups[i].kind == kind && groups[i].kid == kid) {
        i += 1;
    }
    if i == groups.len() {
        groups.push(Group {
            kind,
            key,
            kid,
            hours: Decimal::ZERO,
            exact: Decimal::ZERO,
            rr_is_rate: true,
            last_part: usize::MAX,
            id: i,
        });
    }
    &mut groups[i]
}

/// The earning lines being made, and the number of lines of each kind (trace ids are made unique
/// with a suffix when a kind has several lines).
struct Lines {
    lines: Vec<EarningLine>,
    counts: [u8; 16],
}

impl Lines {
    #[inline(always)]
    fn push(
        &mut self,
        traces: &mut Vec<LineTrace>,
        (l, mut t, suffix): (EarningLine, LineTrace, IdSuffix),
    ) {
        if self.counts[l.kind as usize] > 1 {
            match suffix {
                IdSuffix::Group(rate) => {
                    t.line = Label::from(format!(
                        "{}:{}@{}",
                        line_id(l.kind),
                        l.job.as_deref().unwrap_or("-"),
                        normalize(rate)
                    ));
                }
                IdSuffix::Input(i) => {
                    t.line = Label::from(format!("{}:earnings[{i}]", line_id(l.kind)));
                }
                IdSuffix::None => {}
            }
        }
        traces.push(t);
        self.lines.push(l);
    }
}

pub fn compute(ctx: &EarningsContext) -> Result<EarningsOutcome, CalcError> {
    let req = ctx.req;
    let fed = &ctx.federal.params;
    let labor = &ctx.work_state.labor;
    let exempt = req.employee.flsa_exempt;
    let state = ctx.work_state.header.jurisdiction.as_str();

    // 1. Validation and input amounts.
    let mut inputs: Vec<InputCalc> = Vec::with_capacity(req.earnings.len());
    for (i, e) in req.earnings.iter().enumerate() {
        inputs.push(input_amount(i, e, req)?);
    }
    let order = hours::validate_and_order(req)?;

    // 2–3. Workweeks and classification.
    let entries = &req.time_entries;
    let week_start_day: chrono::Weekday = req.employee.workweek_start.into();
    let cls = hours::classify_ordered(
        entries,
        order,
        week_start_day,
        ctx.overtime_rules,
        exempt,
        fed.flsa_overtime_threshold_hours.value,
    );
    let total_hours = cls.total_hours();

    // Minimum wage per week: max(federal, state on the week's last day, local).
    let tip_credit = req.employee.tipped && labor.tip_credit_allowed;
    let cash_wage_floor = match &labor.tipped_cash_wage {
        Some(p) => p.value.max(fed.flsa_tipped_cash_wage.value),
        None => fed.flsa_tipped_cash_wage.value,
    };
    let mut weeks: Vec<WeekPay> = cls
        .weeks
        .iter()
        .map(|w| {
            let mut mw = fed.flsa_minimum_wage.value;
            let mut src = fed.flsa_minimum_wage.source.as_str();
            let (s, s_src) = labor.minimum_wage_on(w.last_day());
            if s > mw {
                (mw, src) = (s, s_src);
            }
            if let Some(l) = req.employee.minimum_wage
                && l > mw
            {
                (mw, src) = (l, EMPLOYEE_MW_SOURCE);
            }
            WeekPay {
                mw,
                mw_source: src,
                ..WeekPay::default()
            }
        })
        .collect();

    // Rates against the minimum wage (or the tipped cash wage with a tip credit).
    for (i, e) in entries.iter().enumerate() {
        let wk = &weeks[cls.entry_week[i]];
        if tip_credit {
            if cmp(e.rate, cash_wage_floor) == Less {
                return Err(CalcError::invalid(
                    format!("time_entries[{i}].rate"),
                    format!(
                        "{} is below the tipped cash wage {cash_wage_floor} ({state})",
                        e.rate
                    ),
                ));
            }
        } else if !exempt && cmp(e.rate, wk.mw) == Less {
            let tip = if req.employee.tipped {
                format!("; {state} allows no tip credit")
            } else {
                String::new()
            };
            return Err(CalcError::invalid(
                format!("time_entries[{i}].rate"),
                format!(
                    "{} is below the minimum wage {} for the workweek of {}{tip}",
                    e.rate, wk.mw, cls.weeks[cls.entry_week[i]].start
                ),
            ));
        }
    }

    // Input lines (built now so allocations can be traced on them).
    let mut input_traces: Vec<Option<LineTrace>> = Vec::with_capacity(inputs.len());
    // Non-discretionary pay and tips per week: on the stack for up to 8 weeks (a period has 1–5),
    // else one allocation.
    let mut per_week_stack = [Decimal::ZERO; 16];
    let mut per_week_heap: Vec<Decimal> = Vec::new();
    let per_week: &mut [Decimal] = if cls.weeks.len() <= 8 {
        &mut per_week_stack[..2 * cls.weeks.len()]
    } else {
        per_week_heap.resize(2 * cls.weeks.len(), Decimal::ZERO);
        &mut per_week_heap
    };
    let (nd, tips_w) = per_week.split_at_mut(cls.weeks.len());
    let (mut cash_tips_in, mut charged_tips_in) = (Decimal::ZERO, Decimal::ZERO);
    let place = Placement {
        cls: &cls,
        week_start_day,
        total_hours,
    };
    for (i, (e, c)) in req.earnings.iter().zip(&inputs).enumerate() {
        match e.kind {
            EarningType::CashTips => cash_tips_in += c.exact,
            EarningType::ChargedTips => charged_tips_in += c.exact,
            _ => {}
        }
        if e.kind.is_tips() {
            if tip_credit {
                place.allocate(c.exact, e.date, tips_w, None, &TIPS_ALLOCATION);
            }
            input_traces.push(None);
            continue;
        }
        let rule = if e.annual_amount.is_some() {
            "earnings.salary.annual_over_periods"
        } else if e.kind == EarningType::Retro && e.hours.is_some() {
            "earnings.retro.hours_times_rate_difference"
        } else if e.hours.is_some() {
            "earnings.hours_times_rate"
        } else {
            "earnings.amount"
        };
        let mut t = LineTrace::new(line_id(e.kind), rule);
        t.input("source", TraceValue::Indexed("earnings", i));
        if let (Some(h), Some(r)) = (e.hours, e.rate) {
            t.input("hours", h).input("rate", r);
            if let Some(p) = e.previous_rate {
                t.input("previous_rate", p);
                t.step("rate_difference", r - p);
            }
        }
        if let Some(a) = e.amount {
            t.input("amount", a);
        }
        if let Some(a) = e.annual_amount {
            t.input("annual_amount", a);
            t.input("periods_per_year", req.pay_frequency.periods_per_year());
            t.input("pay_frequency", req.pay_frequency.as_str());
        }
        if e.kind == EarningType::Bonus {
            t.input("discretionary", e.discretionary);
        }
        if !exempt && in_regular_rate(e) && !entries.is_empty() {
            t.step("in_flsa_regular_rate", true);
            place.allocate(cents_of(c.exact), e.date, nd, Some(&mut t), &RR_ALLOCATION);
        }
        input_traces.push(Some(t));
    }

    // Tips on time entries go to their week.
    let (mut cash_tips_te, mut charged_tips_te) = (Decimal::ZERO, Decimal::ZERO);
    for (i, e) in entries.iter().enumerate() {
        let c = e.cash_tips.unwrap_or_default();
        let g = e.charged_tips.unwrap_or_default();
        cash_tips_te = add(cash_tips_te, c);
        charged_tips_te = add(charged_tips_te, g);
        if tip_credit {
            let tw = &mut tips_w[cls.entry_week[i]];
            *tw = add(*tw, add(c, g));
        }
    }

    // 4. Regular rate per week, then the pay of each entry.
    for (wi, w) in cls.weeks.iter().enumerate() {
        let wp = &mut weeks[wi];
        let mut straight = Decimal::ZERO;
        for &i in &cls.order[w.first..w.end] {
            let e = &entries[i];
            let r = if tip_credit {
                max(e.rate, wp.mw)
            } else {
                e.rate
            };
            straight = add(straight, mul(e.hours, r));
        }
        wp.straight = straight;
        wp.nd = nd[wi];
        wp.tips = tips_w[wi];
        if is_positive(w.hours) {
            wp.rr = add(straight, wp.nd) / w.hours;
        }
    }

    // Lines per kind and (job, straight rate): few groups, so one small vector searched linearly
    // and sorted by kind and key at the end (the order a sorted map per kind would give).
    let mut groups: Vec<Group> = Vec::with_capacity(6);
    let mut parts: Vec<WeekPart> = Vec::new();
    // Key numbers: the previous entry's key (mostly the same), else an equal key of a group made
    // earlier, else a new number.
    let mut prev: Option<(GroupKey, usize)> = None;
    let mut n_keys = 0;
    for &i in &cls.order {
        let e = &entries[i];
        let s = cls.splits[i];
        let wi = cls.entry_week[i];
        let wp = &mut weeks[wi];
        let key = (e.job.as_deref(), e.rate);
        let kid = match prev {
            Some((k, id)) if same_key(&k, &key) => id,
            _ => match groups.iter().find(|g| same_key(&g.key, &key)) {
                Some(g) => g.kid,
                None => {
                    n_keys += 1;
                    n_keys - 1
                }
            },
        };
        prev = Some((key, kid));
        if is_positive(s.regular) {
            let g = group_entry(&mut groups, REGULAR, key, kid);
            g.hours = add(g.hours, s.regular);
            // Cash wages per week only matter for the tip credit (make-up and its trace).
            if tip_credit {
                wp.cash = add(wp.cash, mul(s.regular, e.rate));
            }
        }
        if !is_positive(s.overtime) && !is_positive(s.double_time) {
            continue;
        }
        for (h, mult, kind) in [
            (s.overtime, HALF, OVERTIME),
            (s.double_time, Decimal::ONE, DOUBLE),
        ] {
            if !is_positive(h) {
                continue;
            }
            let premium = mul(mul(mult, wp.rr), h);
            let amount = add(mul(h, e.rate), premium);
            if tip_credit {
                wp.cash = add(wp.cash, amount);
            }
            wp.premium = add(wp.premium, premium);
            let acc = group_entry(&mut groups, kind, key, kid);
            acc.hours = add(acc.hours, h);
            acc.exact = add(acc.exact, amount);
            acc.rr_is_rate &= wp.rr == e.rate;
            match parts.get_mut(acc.last_part) {
                Some(last) if last.1 == wi => {
                    last.2 = add(last.2, h);
                    last.3 = add(last.3, amount);
                }
                _ => {
                    if parts.capacity() == 0 {
                        parts.reserve(2 * cls.weeks.len());
                    }
                    acc.last_part = parts.len();
                    parts.push((acc.id, wi, h, amount));
                }
            }
        }
    }
    // Lines by kind, then by key (the order a sorted map per kind would give).
    groups.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.key.cmp(&b.key)));
    let n_of = |kind: u8| groups.iter().filter(|g| g.kind == kind).count();

    // 7. Tip make-up per week.
    if tip_credit {
        for (wi, w) in cls.weeks.iter().enumerate() {
            let wp = &mut weeks[wi];
            if !is_positive(w.hours) {
                continue;
            }
            wp.required = add(
                add(
                    mul(wp.mw, w.hours),
                    mul(mul(HALF, wp.mw), w.totals.overtime),
                ),
                mul(wp.mw, w.totals.double_time),
            );
            wp.makeup = max(sub(sub(wp.required, wp.cash), wp.tips), Decimal::ZERO);
        }
    }

    // Lines and traces.
    let n_lines = groups.len() + inputs.len() + 3;
    // Lines per kind, so a trace id gets its suffix as soon as the line is made (when several
    // lines share a kind).
    let mut counts = [0u8; 16];
    {
        let mut bump = |k: EarningType, n: usize| {
            let c = &mut counts[k as usize];
            *c = c.saturating_add(u8::try_from(n).unwrap_or(u8::MAX));
        };
        bump(EarningType::Regular, n_of(REGULAR));
        bump(EarningType::Overtime, n_of(OVERTIME));
        bump(EarningType::DoubleTime, n_of(DOUBLE));
        for (e, t) in req.earnings.iter().zip(&input_traces) {
            if t.is_some() {
                bump(e.kind, 1);
            }
        }
        for (kind, te, inp) in [
            (EarningType::CashTips, cash_tips_te, cash_tips_in),
            (EarningType::ChargedTips, charged_tips_te, charged_tips_in),
        ] {
            if !add(te, inp).is_zero() {
                bump(kind, 1);
            }
        }
    }
    let mut out = Lines {
        lines: Vec::with_capacity(n_lines),
        counts,
    };
    // Room for the whole paycheck's traces (the pipeline appends deductions, taxes and
    // garnishments to this list): one allocation instead of a copy into a larger one.
    let later = req.deductions.len() + req.garnishments.len() + 12;
    let mut traces: Vec<LineTrace> = Vec::with_capacity(n_lines + cls.weeks.len() + later);
    for (wi, wp) in weeks.iter().enumerate() {
        traces.push(week_trace(ctx, &cls, wi, wp, tip_credit));
    }

    for g in &groups {
        let (job, rate) = g.key;
        if g.kind == REGULAR {
            let h = g.hours;
            let mut t = LineTrace::new(
                line_id(EarningType::Regular),
                "earnings.regular.hours_times_rate",
            );
            t.reserve(3, 0, 0);
            t.input("hours", h).input("rate", rate);
            if let Some(j) = job {
                t.input_text("job", j);
            }
            let amount = t.round(mul(h, rate));
            out.push(
                &mut traces,
                (
                    EarningLine {
                        kind: EarningType::Regular,
                        job: job.map(str::to_owned),
                        hours: Some(h),
                        rate: Some(rate),
                        amount,
                    },
                    t,
                    IdSuffix::Group(rate),
                ),
            );
            continue;
        }
        let (kind, mult, double_time) = if g.kind == OVERTIME {
            (EarningType::Overtime, ONE_AND_HALF, false)
        } else {
            (EarningType::DoubleTime, TWO, true)
        };
        let n_weeks = parts.iter().filter(|p| p.0 == g.id).count();
        let mut t = LineTrace::new(
            line_id(kind),
            if kind == EarningType::Overtime {
                "earnings.overtime.regular_rate"
            } else {
                "earnings.double_time.regular_rate"
            },
        );
        t.reserve(3, 0, 1 + n_weeks);
        t.input("hours", g.hours).input("straight_rate", rate);
        if let Some(j) = job {
            t.input_text("job", j);
        }
        t.step(
            "formula",
            if kind == EarningType::Overtime {
                "per workweek: hours × straight rate + 0.5 × regular rate × hours"
            } else {
                "per workweek: hours × straight rate + 1.0 × regular rate × hours"
            },
        );
        for &(_, wi, h, amt) in parts.iter().filter(|p| p.0 == g.id) {
            t.step_week_premium(
                cls.weeks[wi].start,
                PremiumText {
                    hours: h,
                    rate,
                    double_time,
                    regular_rate: weeks[wi].rr,
                    amount: amt,
                },
            );
        }
        let amount = t.round(g.exact);
        out.push(
            &mut traces,
            (
                EarningLine {
                    kind,
                    job: job.map(str::to_owned),
                    hours: Some(g.hours),
                    rate: g.rr_is_rate.then(|| normalize(mul(mult, rate))),
                    amount,
                },
                t,
                IdSuffix::Group(rate),
            ),
        );
    }

    for (i, ((e, c), t)) in req
        .earnings
        .iter()
        .zip(&inputs)
        .zip(input_traces)
        .enumerate()
    {
        let Some(mut t) = t else { continue };
        let amount = t.round(c.exact);
        out.push(
            &mut traces,
            (
                EarningLine {
                    kind: e.kind,
                    job: e.job.clone(),
                    hours: c.hours,
                    rate: c.rate,
                    amount,
                },
                t,
                IdSuffix::Input(i),
            ),
        );
    }

    for (kind, te, inp) in [
        (EarningType::CashTips, cash_tips_te, cash_tips_in),
        (EarningType::ChargedTips, charged_tips_te, charged_tips_in),
    ] {
        let exact = add(te, inp);
        if exact.is_zero() {
            continue;
        }
        let mut t = LineTrace::new(line_id(kind), "earnings.tips");
        t.reserve(2, 0, 1);
        t.input("from_time_entries", te)
            .input("from_earnings_inputs", normalize(inp))
            .step("in_flsa_regular_rate", false);
        let amount = t.round(exact);
        out.push(
            &mut traces,
            (
                EarningLine {
                    kind,
                    job: None,
                    hours: None,
                    rate: None,
                    amount,
                },
                t,
                IdSuffix::None,
            ),
        );
    }

    if tip_credit {
        let total = weeks.iter().fold(Decimal::ZERO, |s, w| add(s, w.makeup));
        if is_positive(total) {
            let mut t = LineTrace::new(
                line_id(EarningType::TipMakeup),
                "earnings.tip_makeup.flsa_203m",
            )
            .pack(ctx.federal.header.id.as_str());
            t.param("flsa_minimum_wage", &fed.flsa_minimum_wage)
                .param("flsa_tipped_cash_wage", &fed.flsa_tipped_cash_wage);
            if let Some(p) = &labor.tipped_cash_wage {
                t.param("state_tipped_cash_wage", p);
            }
            for (wi, wp) in weeks.iter().enumerate() {
                if is_positive(wp.makeup) {
                    t.step(
                        Label::Dated("workweek:", cls.weeks[wi].start),
                        normalize(wp.makeup),
                    );
                }
            }
            let amount = t.round(total);
            out.push(
                &mut traces,
                (
                    EarningLine {
                        kind: EarningType::TipMakeup,
                        job: None,
                        hours: None,
                        rate: None,
                        amount,
                    },
                    t,
                    IdSuffix::None,
                ),
            );
        }
    }

    let lines = out.lines;

    // Hours summary: classified time plus hours given directly on regular/OT/DT inputs.
    let mut summary = HoursSummary {
        regular: cls.totals.regular,
        overtime: cls.totals.overtime,
        double_time: cls.totals.double_time,
    };
    for (e, c) in req.earnings.iter().zip(&inputs) {
        let h = c.hours.unwrap_or_default();
        match e.kind {
            EarningType::Regular => summary.regular += h,
            EarningType::Overtime => summary.overtime += h,
            EarningType::DoubleTime => summary.double_time += h,
            _ => {}
        }
    }

    Ok(EarningsOutcome {
        lines,
        traces,
        hours: summary,
    })
}

#[inline]
fn cents_of(d: Decimal) -> Decimal {
    crate::money::cents(d)
}

/// The trace of one workweek: each day's classification, the regular rate, the minimum wage and
/// any tip make-up.
fn week_trace(
    ctx: &EarningsContext,
    cls: &Classified,
    wi: usize,
    wp: &WeekPay,
    tip_credit: bool,
) -> LineTrace {
    let w = &cls.weeks[wi];
    let exempt = ctx.req.employee.flsa_exempt;
    let fed = &ctx.federal.params;
    let (rule, pack) = if exempt {
        ("hours.exempt", ctx.federal.header.id.as_str())
    } else {
        match ctx.overtime_rules {
            OvertimeRules::Flsa => ("hours.flsa", ctx.federal.header.id.as_str()),
            OvertimeRules::California => ("hours.california", ctx.work_state.header.id.as_str()),
        }
    };
    let mut t = LineTrace::new(Label::Dated("hours:workweek:", w.start), rule).pack(pack);
    // Days + 4 totals + up to 9 pay steps; 2 inputs; up to 4 params.
    let days = cls.days_of(w);
    t.reserve(2, 4, days.len() + 13);
    t.input("week_start", w.start)
        .input("week_end", w.last_day());
    if !exempt {
        match ctx.overtime_rules {
            OvertimeRules::Flsa => {
                t.param(
                    "flsa_overtime_threshold_hours",
                    &fed.flsa_overtime_threshold_hours,
                );
            }
            OvertimeRules::California => {
                t.param_value(
                    "ca_daily_overtime_hours",
                    hours::CA_DAILY_OVERTIME_HOURS,
                    hours::CA_SOURCE,
                )
                .param_value(
                    "ca_daily_double_time_hours",
                    hours::CA_DAILY_DOUBLE_TIME_HOURS,
                    hours::CA_SOURCE,
                )
                .param_value(
                    "ca_weekly_overtime_hours",
                    hours::CA_WEEKLY_OVERTIME_HOURS,
                    hours::CA_SOURCE,
                );
            }
        }
        t.param_value("minimum_wage", wp.mw, wp.mw_source);
    }
    for d in days {
        let s = d.split;
        t.step(
            Label::Dated("", d.date),
            DayText {
                regular: s.regular,
                overtime: s.overtime,
                double_time: s.double_time,
                seventh_day: d.seventh_day,
            },
        );
    }
    t.step("hours_worked", w.hours)
        .step("regular_hours", w.totals.regular)
        .step("overtime_hours", w.totals.overtime)
        .step("double_time_hours", w.totals.double_time);
    if !exempt && is_positive(w.hours) {
        if tip_credit {
            t.step(
                "straight_time_basis",
                "tip credit: each hour at max(cash rate, minimum wage)",
            );
        }
        t.step("straight_time_pay", normalize(wp.straight))
            .step("nondiscretionary_pay", normalize(wp.nd))
            .step("regular_rate", normalize(wp.rr));
        if is_positive(wp.premium) {
            t.step("overtime_premium", normalize(wp.premium));
        }
    }
    if tip_credit && is_positive(w.hours) {
        t.step("tip_credit_required", normalize(wp.required))
            .step("cash_wages", normalize(wp.cash))
            .step("tips", normalize(wp.tips))
            .step("tip_makeup", normalize(wp.makeup));
    }
    t
}

/// Split a tip pool in proportion to hours, to the cent, by the largest-remainder method (ties go
/// to the lower index); the parts always sum exactly to `total`.
pub fn allocate_tip_pool(total: Decimal, hours: &[Decimal]) -> Result<Vec<Decimal>, CalcError> {
    if total < Decimal::ZERO {
        return Err(neg("total".into()));
    }
    if total.round_dp(2) != total {
        return Err(CalcError::invalid(
            "total",
            "must be a whole number of cents",
        ));
    }
    let mut sum_h = Decimal::ZERO;
    for (i, h) in hours.iter().enumerate() {
        if *h < Decimal::ZERO {
            return Err(neg(format!("hours[{i}]")));
        }
        sum_h += *h;
    }
    if sum_h.is_zero() {
        return Err(CalcError::invalid("hours", "total hours must be positive"));
    }
    let total_cents = total * Decimal::ONE_HUNDRED;
    let mut parts: Vec<Decimal> = Vec::with_capacity(hours.len());
    let mut rema: Vec<(Decimal, usize)> = Vec::with_capacity(hours.len());
    let mut given = Decimal::ZERO;
    for (i, h) in hours.iter().enumerate() {
        let exact = total_cents * *h / sum_h;
        let base = exact.floor();
        given += base;
        parts.push(base);
        rema.push((exact - base, i));
    }
    // Largest remainder first; ties to the lower index.
    rema.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total_cents - given;
    let mut k = 0;
    while left > Decimal::ZERO && !rema.is_empty() {
        parts[rema[k % rema.len()].1] += Decimal::ONE;
        left -= Decimal::ONE;
        k += 1;
    }
    for p in &mut parts {
        *p /= Decimal::ONE_HUNDRED;
        p.rescale(2);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::state::LaborRules;
    use proptest::prelude::*;
    use rust_decimal::dec;
    use serde_json::{Value, json};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A state pack with hand-written labour rules (the withholding part of the real pack kept).
    fn pack(state: &str, labor_toml: &str) -> &'static StatePack {
        let mut p = crate::rules::state_for(state, date("2025-03-14"))
            .unwrap()
            .clone();
        p.labor = toml::from_str::<LaborRules>(labor_toml).unwrap();
        Box::leak(Box::new(p))
    }

    fn tx() -> &'static StatePack {
        pack(
            "TX",
            r#"
            overtime_rules = "flsa"
            minimum_wage = { value = "7.25", source = "test: TX minimum wage" }
            tip_credit_allowed = true
            tip_credit_source = "test"
            tipped_cash_wage = { value = "2.13", source = "test: TX cash wage" }
            "#,
        )
    }

    fn ca() -> &'static StatePack {
        pack(
            "CA",
            r#"
            overtime_rules = "california"
            minimum_wage = { value = "16.50", source = "test: CA minimum wage" }
            tip_credit_allowed = false
            tip_credit_source = "test"
            "#,
        )
    }

    fn request(state: &str, freq: &str, start: &str, end: &str, entries: Value) -> Value {
        json!({
            "pay_date": "2025-03-14", "pay_frequency": freq, "work_state": state,
            "period_start": start, "period_end": end,
            "time_entries": entries
        })
    }

    /// Entries on consecutive days from `start`.
    fn days(start: &str, hours: &[&str], rate: &str) -> Vec<Value> {
        let s = date(start);
        hours
            .iter()
            .enumerate()
            .map(|(i, h)| {
                json!({"date": (s + chrono::Days::new(i as u64)).to_string(), "hours": h, "rate": rate})
            })
            .collect()
    }

    fn run_with(v: &Value, st: &'static StatePack) -> Result<EarningsOutcome, CalcError> {
        let req = crate::parse_request(&v.to_string())?;
        let federal = crate::rules::federal_for(req.pay_date)?;
        let overtime_rules = req
            .employee
            .overtime_rules
            .unwrap_or(st.labor.overtime_rules);
        compute(&EarningsContext {
            req: &req,
            federal,
            work_state: st,
            overtime_rules,
        })
    }

    fn run(v: &Value, st: &'static StatePack) -> EarningsOutcome {
        run_with(v, st).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(v: &Value, st: &'static StatePack) -> CalcError {
        match run_with(v, st) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    fn amount(o: &EarningsOutcome, kind: EarningType) -> Decimal {
        o.lines
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.amount)
            .sum()
    }

    fn gross(o: &EarningsOutcome) -> Decimal {
        o.lines.iter().map(|l| l.amount).sum()
    }

    fn hours3(o: &EarningsOutcome) -> (Decimal, Decimal, Decimal) {
        (o.hours.regular, o.hours.overtime, o.hours.double_time)
    }

    fn trace<'o>(o: &'o EarningsOutcome, line: &str) -> &'o LineTrace {
        o.traces
            .iter()
            .find(|t| t.line == line)
            .unwrap_or_else(|| panic!("no trace {line}"))
    }

    fn step(t: &LineTrace, k: &str) -> crate::trace::TraceValue {
        t.step_value(k).unwrap_or_else(|| panic!("no step {k}"))
    }

    // 2025-03-03 is a Monday.

    #[test]
    fn w1_california_daily_overtime() {
        let o = run(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["9", "10", "8", "12", "7"], "20")),
            ),
            ca(),
        );
        assert_eq!(hours3(&o), (dec!(39), dec!(7), dec!(0)));
        assert_eq!(amount(&o, EarningType::Regular), dec!(780.00));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(210.00));
        let t = trace(&o, "hours:workweek:2025-03-03");
        assert_eq!(t.rule, "hours.california");
        assert_eq!(
            step(t, "2025-03-04"),
            "10 h: 8 regular, 2 overtime, 0 double time"
                .to_string()
                .into()
        );
    }

    #[test]
    fn w2_california_fourteen_hour_day() {
        let o = run(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["14"], "20")),
            ),
            ca(),
        );
        assert_eq!(hours3(&o), (dec!(8), dec!(4), dec!(2)));
        // 160 + 4 × 30 + 2 × 40.
        assert_eq!(amount(&o, EarningType::Regular), dec!(160.00));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(120.00));
        assert_eq!(amount(&o, EarningType::DoubleTime), dec!(80.00));
        let dt = o
            .lines
            .iter()
            .find(|l| l.kind == EarningType::DoubleTime)
            .unwrap();
        assert_eq!(dt.rate, Some(dec!(40)));
    }

    #[test]
    fn w3_flsa_five_ten_hour_days() {
        let o = run(
            &request(
                "TX",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["10"; 5], "15")),
            ),
            tx(),
        );
        assert_eq!(hours3(&o), (dec!(40), dec!(10), dec!(0)));
        assert_eq!(trace(&o, "hours:workweek:2025-03-03").rule, "hours.flsa");
    }

    #[test]
    fn w4_weeks_not_averaged() {
        let mut e = days("2025-03-03", &["10"; 5], "15");
        e.extend(days("2025-03-10", &["6"; 5], "15"));
        let o = run(
            &request("TX", "biweekly", "2025-03-03", "2025-03-16", json!(e)),
            tx(),
        );
        assert_eq!(hours3(&o), (dec!(70), dec!(10), dec!(0)));
        assert_eq!(gross(&o), dec!(1050.00) + dec!(225.00));
    }

    #[test]
    fn california_weekly_and_seventh_day() {
        let o = run(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["8"; 6], "20")),
            ),
            ca(),
        );
        assert_eq!(hours3(&o), (dec!(40), dec!(8), dec!(0)));
        let o = run(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["9"; 7], "20")),
            ),
            ca(),
        );
        assert_eq!(hours3(&o), (dec!(40), dec!(22), dec!(1)));
        // 40 × 20 + 22 × 30 + 1 × 40.
        assert_eq!(gross(&o), dec!(1500.00));
        let t = trace(&o, "hours:workweek:2025-03-03");
        assert_eq!(
            step(t, "2025-03-09"),
            "9 h: 0 regular, 8 overtime, 1 double time (7th consecutive workday)"
                .to_string()
                .into()
        );
    }

    #[test]
    fn w5_overtime_pay() {
        let o = run(
            &request(
                "TX",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["10"; 5], "15")),
            ),
            tx(),
        );
        assert_eq!(amount(&o, EarningType::Regular), dec!(600.00));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(225.00));
        assert_eq!(gross(&o), dec!(825.00));
        let ot = &o.lines[1];
        assert_eq!(
            (ot.kind, ot.hours, ot.rate),
            (EarningType::Overtime, Some(dec!(10)), Some(dec!(22.5)))
        );
        assert_eq!(
            o.traces
                .iter()
                .filter(|t| t.line == "earning:overtime")
                .count(),
            1
        );
    }

    #[test]
    fn w6_each_line_rounded_once() {
        // Direct inputs.
        let v = json!({
            "pay_date": "2025-03-14", "pay_frequency": "weekly", "work_state": "TX",
            "earnings": [
                {"type": "regular", "hours": "37.25", "rate": "15.75"},
                {"type": "overtime", "hours": "2.75", "rate": "23.625"}
            ]
        });
        let o = run(&v, tx());
        assert_eq!(amount(&o, EarningType::Regular), dec!(586.69));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(64.97));
        assert_eq!(gross(&o), dec!(651.66));
        assert_eq!(hours3(&o), (dec!(37.25), dec!(2.75), dec!(0)));
        // Computed: CA, 10.75 h on Monday, 29.25 h over the rest of the week.
        let o = run(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days(
                    "2025-03-03",
                    &["10.75", "8", "8", "8", "5.25"],
                    "17.00"
                )),
            ),
            ca(),
        );
        assert_eq!(hours3(&o), (dec!(37.25), dec!(2.75), dec!(0)));
        // 37.25 × 17 = 633.25; 2.75 × 25.5 = 70.125 → 70.13.
        assert_eq!(amount(&o, EarningType::Regular), dec!(633.25));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(70.13));
    }

    #[test]
    fn w6_computed_at_15_75() {
        // The same split at $15.75 in a state with the federal minimum.
        let st = pack(
            "TX",
            r#"
            overtime_rules = "california"
            minimum_wage = { value = "7.25", source = "test" }
            tip_credit_allowed = false
            tip_credit_source = "test"
            "#,
        );
        let o = run(
            &request(
                "TX",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days(
                    "2025-03-03",
                    &["10.75", "8", "8", "8", "5.25"],
                    "15.75"
                )),
            ),
            st,
        );
        assert_eq!(amount(&o, EarningType::Regular), dec!(586.69));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(64.97));
        assert_eq!(gross(&o), dec!(651.66));
        let t = trace(&o, "earning:overtime");
        assert_eq!(t.rounding().unwrap().exact, dec!(64.96875));
    }

    #[test]
    fn w7_biweekly_with_overtime() {
        let mut e = days("2025-03-03", &["8"; 5], "25");
        e.extend(days("2025-03-10", &["9"; 5], "25"));
        let o = run(
            &request("TX", "biweekly", "2025-03-03", "2025-03-16", json!(e)),
            tx(),
        );
        assert_eq!(hours3(&o), (dec!(80), dec!(5), dec!(0)));
        assert_eq!(gross(&o), dec!(2187.50));
        assert_eq!(o.lines.len(), 2);
    }

    #[test]
    fn w8_w9_salary() {
        for (annual, freq, want) in [
            ("120000", "biweekly", dec!(4615.38)),
            ("52000", "weekly", dec!(1000.00)),
            ("52000", "biweekly", dec!(2000.00)),
            ("52000", "semimonthly", dec!(2166.67)),
            ("52000", "monthly", dec!(4333.33)),
        ] {
            let v = json!({
                "pay_date": "2025-03-31", "pay_frequency": freq, "work_state": "TX",
                "employee": {"flsa_exempt": true},
                "earnings": [{"type": "salary", "annual_amount": annual}]
            });
            let o = run(&v, tx());
            assert_eq!(o.lines.len(), 1);
            assert_eq!(o.lines[0].amount, want, "{annual} {freq}");
            assert_eq!(o.lines[0].amount.to_string(), want.to_string());
            assert_eq!(o.traces[0].line, "earning:salary");
        }
    }

    #[test]
    fn w10_tip_pool() {
        let parts = allocate_tip_pool(dec!(800.00), &[dec!(40), dec!(35), dec!(15)]).unwrap();
        assert_eq!(parts, vec![dec!(355.56), dec!(311.11), dec!(133.33)]);
        assert_eq!(
            parts.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            ["355.56", "311.11", "133.33"]
        );
        // Ties go to the lower index.
        let parts = allocate_tip_pool(dec!(0.02), &[dec!(1), dec!(1), dec!(1)]).unwrap();
        assert_eq!(parts, vec![dec!(0.01), dec!(0.01), dec!(0.00)]);
        assert_eq!(
            allocate_tip_pool(dec!(10), &[dec!(0), dec!(0)])
                .unwrap_err()
                .field(),
            "hours"
        );
        assert_eq!(
            allocate_tip_pool(dec!(10), &[]).unwrap_err().field(),
            "hours"
        );
        assert_eq!(
            allocate_tip_pool(dec!(10), &[dec!(1), dec!(-1)])
                .unwrap_err()
                .field(),
            "hours[1]"
        );
        assert_eq!(
            allocate_tip_pool(dec!(-1), &[dec!(1)]).unwrap_err().field(),
            "total"
        );
    }

    proptest! {
        #[test]
        fn tip_pool_parts_sum_to_total(
            total in 0i64..100_000_000,
            hours in proptest::collection::vec(0i64..10_000, 1..20),
        ) {
            prop_assume!(hours.iter().any(|h| *h > 0));
            let total = Decimal::new(total, 2);
            let hours: Vec<Decimal> = hours.into_iter().map(|h| Decimal::new(h, 2)).collect();
            let parts = allocate_tip_pool(total, &hours).unwrap();
            prop_assert_eq!(parts.len(), hours.len());
            prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
            let sum_h: Decimal = hours.iter().copied().sum();
            for (p, h) in parts.iter().zip(&hours) {
                prop_assert!(*p >= Decimal::ZERO);
                prop_assert!((*p - total * *h / sum_h).abs() < dec!(0.01));
            }
        }
    }

    fn tipped(entries: Vec<Value>, tips: Value) -> Value {
        let mut v = request("TX", "weekly", "2025-03-03", "2025-03-09", json!(entries));
        v["employee"] = json!({"tipped": true});
        v["earnings"] = tips;
        v
    }

    #[test]
    fn w11_tipped_no_makeup() {
        let o = run(
            &tipped(
                days("2025-03-03", &["6"; 5], "2.13"),
                json!([{"type": "cash_tips", "amount": "500.00"}]),
            ),
            tx(),
        );
        assert_eq!(amount(&o, EarningType::Regular), dec!(63.90));
        assert_eq!(amount(&o, EarningType::CashTips), dec!(500.00));
        assert!(o.lines.iter().all(|l| l.kind != EarningType::TipMakeup));
        assert_eq!(gross(&o), dec!(563.90));
        let t = trace(&o, "hours:workweek:2025-03-03");
        assert_eq!(step(t, "tip_makeup"), Decimal::ZERO.into());
        assert_eq!(step(t, "tip_credit_required"), dec!(217.5).into());
    }

    #[test]
    fn w12_tipped_makeup() {
        let o = run(
            &tipped(
                days("2025-03-03", &["8"; 5], "2.13"),
                json!([{"type": "charged_tips", "amount": "100.00"}]),
            ),
            tx(),
        );
        assert_eq!(amount(&o, EarningType::Regular), dec!(85.20));
        assert_eq!(amount(&o, EarningType::ChargedTips), dec!(100.00));
        assert_eq!(amount(&o, EarningType::TipMakeup), dec!(104.80));
        assert_eq!(gross(&o), dec!(290.00));
        let kinds: Vec<_> = o.lines.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                EarningType::Regular,
                EarningType::ChargedTips,
                EarningType::TipMakeup
            ]
        );
        assert_eq!(
            step(trace(&o, "earning:tip_makeup"), "workweek:2025-03-03"),
            dec!(104.8).into()
        );
    }

    #[test]
    fn tipped_overtime_and_tips_on_entries() {
        // 45 h at 2.13 with 60.00 tips per day on the time entries (300 in the week).
        let mut e = days("2025-03-03", &["9"; 5], "2.13");
        for x in &mut e {
            x["charged_tips"] = json!("40.00");
            x["cash_tips"] = json!("20.00");
        }
        let o = run(&tipped(e, json!([])), tx());
        assert_eq!(hours3(&o), (dec!(40), dec!(5), dec!(0)));
        // RR = 7.25 (each hour at max(2.13, 7.25)); OT = 5 × 2.13 + 0.5 × 7.25 × 5 = 28.775.
        assert_eq!(amount(&o, EarningType::Regular), dec!(85.20));
        assert_eq!(amount(&o, EarningType::Overtime), dec!(28.78));
        let ot = o
            .lines
            .iter()
            .find(|l| l.kind == EarningType::Overtime)
            .unwrap();
        assert_eq!(ot.rate, None);
        assert_eq!(amount(&o, EarningType::CashTips), dec!(100.00));
        assert_eq!(amount(&o, EarningType::ChargedTips), dec!(200.00));
        // Required 45 × 7.25 + 0.5 × 7.25 × 5 = 344.375; paid 85.20 + 28.775 + 300 = 413.975.
        assert!(o.lines.iter().all(|l| l.kind != EarningType::TipMakeup));
        // With only 100 of tips: make-up 344.375 − 213.975 = 130.40.
        let mut e = days("2025-03-03", &["9"; 5], "2.13");
        e[0]["cash_tips"] = json!("100.00");
        let o = run(&tipped(e, json!([])), tx());
        assert_eq!(amount(&o, EarningType::TipMakeup), dec!(130.40));
    }

    #[test]
    fn tipped_makeup_per_week_not_averaged() {
        // Week 1: 40 h, tips 400 (no make-up); week 2: 40 h, tips 0 (make-up 290 − 85.20 = 204.80).
        let mut e = days("2025-03-03", &["8"; 5], "2.13");
        e[0]["cash_tips"] = json!("400.00");
        e.extend(days("2025-03-10", &["8"; 5], "2.13"));
        let mut v = tipped(e, json!([]));
        v["period_end"] = json!("2025-03-16");
        v["pay_frequency"] = json!("biweekly");
        let o = run(&v, tx());
        assert_eq!(amount(&o, EarningType::TipMakeup), dec!(204.80));
    }

    #[test]
    fn tipped_rate_floors() {
        // Below the tipped cash wage with a tip credit.
        let e = err(&tipped(days("2025-03-03", &["8"], "2.00"), json!([])), tx());
        assert_eq!(e.field(), "time_entries[0].rate");
        // No tip credit in CA: a tipped employee's rate below the minimum wage is an error.
        let mut v = tipped(days("2025-03-03", &["8", "8"], "16.50"), json!([]));
        v["work_state"] = json!("CA");
        v["time_entries"][1]["rate"] = json!("2.13");
        let e = err(&v, ca());
        assert_eq!(e.field(), "time_entries[1].rate");
        assert!(e.to_string().contains("16.50"), "{e}");
    }

    #[test]
    fn minimum_wage_checks() {
        let e = err(
            &request(
                "CA",
                "weekly",
                "2025-03-03",
                "2025-03-09",
                json!(days("2025-03-03", &["8"], "16.00")),
            ),
            ca(),
        );
        assert_eq!(e.field(), "time_entries[0].rate");
        assert!(e.to_string().contains("minimum wage 16.50"), "{e}");
        // A local minimum wage above the state's.
        let mut v = request(
            "TX",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["8"], "10.00")),
        );
        v["employee"] = json!({"minimum_wage": "12.00"});
        assert_eq!(err(&v, tx()).field(), "time_entries[0].rate");
        // Exempt employees are not checked.
        v["employee"] = json!({"flsa_exempt": true, "minimum_wage": "12.00"});
        assert_eq!(run(&v, tx()).lines[0].amount, dec!(80.00));
        // A mid-year state increase applies from the week that ends on or after its date.
        let st = pack(
            "TX",
            r#"
            overtime_rules = "flsa"
            minimum_wage = { value = "7.25", source = "test" }
            minimum_wage_changes = [{ from = "2025-03-09", value = "9.00", source = "test: July increase" }]
            tip_credit_allowed = false
            tip_credit_source = "test"
            "#,
        );
        let v = request(
            "TX",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["8"], "8.00")),
        );
        assert!(err(&v, st).to_string().contains("minimum wage 9.00"));
    }

    #[test]
    fn w13_regular_rate_blends_jobs() {
        let mut e = days("2025-03-03", &["6"; 5], "12");
        for x in &mut e {
            x["job"] = json!("cook");
        }
        let mut e2 = days("2025-03-06", &["5"; 3], "20");
        for x in &mut e2 {
            x["job"] = json!("server");
        }
        e.extend(e2);
        let o = run(
            &request("TX", "weekly", "2025-03-03", "2025-03-09", json!(e)),
            tx(),
        );
        assert_eq!(hours3(&o), (dec!(40), dec!(5), dec!(0)));
        assert_eq!(gross(&o), dec!(696.67));
        let got: Vec<_> = o
            .lines
            .iter()
            .map(|l| (l.kind, l.job.as_deref(), l.hours, l.rate, l.amount))
            .collect();
        assert_eq!(
            got,
            [
                (
                    EarningType::Regular,
                    Some("cook"),
                    Some(dec!(30)),
                    Some(dec!(12)),
                    dec!(360.00)
                ),
                (
                    EarningType::Regular,
                    Some("server"),
                    Some(dec!(10)),
                    Some(dec!(20)),
                    dec!(200.00)
                ),
                (
                    EarningType::Overtime,
                    Some("server"),
                    Some(dec!(5)),
                    None,
                    dec!(136.67)
                ),
            ]
        );
        let ids: Vec<_> = o.traces.iter().map(|t| t.line.to_string()).collect();
        assert_eq!(
            ids,
            [
                "hours:workweek:2025-03-03",
                "earning:regular:cook@12",
                "earning:regular:server@20",
                "earning:overtime",
            ]
        );
        let t = trace(&o, "hours:workweek:2025-03-03");
        assert_eq!(step(t, "straight_time_pay"), dec!(660).into());
        match step(t, "regular_rate") {
            crate::trace::TraceValue::Num(rr) => assert_eq!(rr.round_dp(4), dec!(14.6667)),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn nondiscretionary_bonus_in_regular_rate() {
        // 50 h at 15 with a 100.00 production bonus: RR = (750 + 100) / 50 = 17;
        // OT = 10 × 15 + 0.5 × 17 × 10 = 235.
        let mut v = request(
            "TX",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["10"; 5], "15")),
        );
        v["earnings"] = json!([{"type": "bonus", "amount": "100.00"}]);
        let o = run(&v, tx());
        assert_eq!(amount(&o, EarningType::Overtime), dec!(235.00));
        assert_eq!(amount(&o, EarningType::Bonus), dec!(100.00));
        assert_eq!(gross(&o), dec!(935.00));
        assert_eq!(
            o.lines
                .iter()
                .find(|l| l.kind == EarningType::Overtime)
                .unwrap()
                .rate,
            None
        );
        // Discretionary: stays out, OT at 1.5 × 15.
        v["earnings"][0]["discretionary"] = json!(true);
        let o = run(&v, tx());
        assert_eq!(amount(&o, EarningType::Overtime), dec!(225.00));
        // Tips never enter the regular rate.
        v["earnings"] = json!([{"type": "charged_tips", "amount": "100.00"}]);
        assert_eq!(amount(&run(&v, tx()), EarningType::Overtime), dec!(225.00));
    }

    #[test]
    fn undated_commission_spread_by_hours_dated_to_its_week() {
        // Week 1: 50 h, week 2: 30 h at 20. Commission 400 undated: 250 to week 1, 150 to week 2.
        // RR1 = (1000 + 250) / 50 = 25; OT = 10 × 20 + 0.5 × 25 × 10 = 325.
        let mut e = days("2025-03-03", &["10"; 5], "20");
        e.extend(days("2025-03-10", &["6"; 5], "20"));
        let mut v = request("TX", "biweekly", "2025-03-03", "2025-03-16", json!(e));
        v["earnings"] = json!([{"type": "commission", "amount": "400.00"}]);
        let o = run(&v, tx());
        assert_eq!(amount(&o, EarningType::Overtime), dec!(325.00));
        let t = trace(&o, "earning:commission");
        assert_eq!(
            step(t, "regular_rate_allocation.workweek:2025-03-03"),
            dec!(250).into()
        );
        assert_eq!(
            step(t, "regular_rate_allocation.workweek:2025-03-10"),
            dec!(150).into()
        );
        // Dated in week 2: week 1 RR = 20, OT = 300.
        v["earnings"][0]["date"] = json!("2025-03-12");
        assert_eq!(amount(&run(&v, tx()), EarningType::Overtime), dec!(300.00));
        // Dated in week 1: RR = (1000 + 400) / 50 = 28; OT = 200 + 140 = 340.
        v["earnings"][0]["date"] = json!("2025-03-04");
        assert_eq!(amount(&run(&v, tx()), EarningType::Overtime), dec!(340.00));
    }

    #[test]
    fn w18_retro_and_other_inputs_in_order() {
        let v = json!({
            "pay_date": "2025-03-14", "pay_frequency": "biweekly", "work_state": "TX",
            "period_start": "2025-03-03", "period_end": "2025-03-16",
            "time_entries": days("2025-03-03", &["8"], "20"),
            "earnings": [
                {"type": "retro", "hours": "160", "rate": "62.50", "previous_rate": "57.69"},
                {"type": "pto", "hours": "8", "rate": "20"},
                {"type": "cash_tips", "amount": "10.00"},
                {"type": "reimbursement", "amount": "45.50"},
                {"type": "retro", "amount": "12.34"}
            ]
        });
        let o = run(&v, tx());
        let got: Vec<_> = o.lines.iter().map(|l| (l.kind, l.amount)).collect();
        assert_eq!(
            got,
            [
                (EarningType::Regular, dec!(160.00)),
                (EarningType::Retro, dec!(769.60)),
                (EarningType::Pto, dec!(160.00)),
                (EarningType::Reimbursement, dec!(45.50)),
                (EarningType::Retro, dec!(12.34)),
                (EarningType::CashTips, dec!(10.00)),
            ]
        );
        assert_eq!(o.lines[1].rate, Some(dec!(4.81)));
        let ids: Vec<_> = o.traces.iter().map(|t| t.line.to_string()).collect();
        assert!(
            ids.contains(&"earning:retro:earnings[0]".to_string()),
            "{ids:?}"
        );
        assert!(
            ids.contains(&"earning:retro:earnings[4]".to_string()),
            "{ids:?}"
        );
        assert!(ids.contains(&"earning:pto".to_string()), "{ids:?}");
        // PTO hours are not hours worked.
        assert_eq!(hours3(&o), (dec!(8), dec!(0), dec!(0)));
    }

    #[test]
    fn input_validation_names_the_field() {
        let base = |earnings: Value| {
            json!({
                "pay_date": "2025-03-14", "pay_frequency": "weekly", "work_state": "TX",
                "earnings": earnings
            })
        };
        for (input, field) in [
            (json!({"type": "bonus"}), "earnings[0]"),
            (
                json!({"type": "bonus", "amount": "1.00", "hours": "1", "rate": "1"}),
                "earnings[0]",
            ),
            (json!({"type": "regular", "hours": "1"}), "earnings[0].rate"),
            (json!({"type": "regular", "rate": "1"}), "earnings[0].hours"),
            (
                json!({"type": "regular", "hours": "-1", "rate": "1"}),
                "earnings[0].hours",
            ),
            (
                json!({"type": "regular", "hours": "1", "rate": "-1"}),
                "earnings[0].rate",
            ),
            (
                json!({"type": "bonus", "amount": "-1.00"}),
                "earnings[0].amount",
            ),
            (
                json!({"type": "bonus", "annual_amount": "1.00"}),
                "earnings[0].annual_amount",
            ),
            (
                json!({"type": "salary", "annual_amount": "-1.00"}),
                "earnings[0].annual_amount",
            ),
            (
                json!({"type": "salary", "annual_amount": "1.00", "amount": "1.00"}),
                "earnings[0]",
            ),
            (
                json!({"type": "tip_makeup", "amount": "1.00"}),
                "earnings[0].type",
            ),
            (
                json!({"type": "retro", "hours": "1", "rate": "2"}),
                "earnings[0].previous_rate",
            ),
            (
                json!({"type": "retro", "amount": "1.00", "previous_rate": "2"}),
                "earnings[0].previous_rate",
            ),
            (
                json!({"type": "retro", "hours": "1", "rate": "2", "previous_rate": "3"}),
                "earnings[0].rate",
            ),
            (
                json!({"type": "regular", "hours": "1", "rate": "2", "previous_rate": "1"}),
                "earnings[0].previous_rate",
            ),
            (
                json!({"type": "commission", "amount": "1.00", "discretionary": true}),
                "earnings[0].discretionary",
            ),
            (
                json!({"type": "bonus", "amount": "1.00", "job": "j".repeat(65)}),
                "earnings[0].job",
            ),
        ] {
            assert_eq!(
                err(
                    &base(json!([{"type": "bonus", "amount": "1.00"}, input])),
                    tx()
                )
                .field(),
                field.replace("[0]", "[1]"),
                "{input}"
            );
        }
        // 64 characters is fine; salary as hours × rate is fine.
        let o = run(
            &base(
                json!([{"type": "bonus", "amount": "1.00", "job": "j".repeat(64)}, {"type": "salary", "hours": "80", "rate": "25"}]),
            ),
            tx(),
        );
        assert_eq!(gross(&o), dec!(2001.00));
        // Time entries without a period.
        let mut v = base(json!([]));
        v["time_entries"] = json!(days("2025-03-03", &["8"], "20"));
        assert_eq!(err(&v, tx()).field(), "period_start");
    }

    #[test]
    fn zero_lines_omitted_and_exempt_hours_regular() {
        let mut v = request(
            "CA",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["14", "0"], "30")),
        );
        v["employee"] = json!({"flsa_exempt": true});
        let o = run(&v, ca());
        assert_eq!(hours3(&o), (dec!(14), dec!(0), dec!(0)));
        assert_eq!(o.lines.len(), 1);
        assert_eq!(o.lines[0].amount, dec!(420.00));
        assert_eq!(trace(&o, "hours:workweek:2025-03-03").rule, "hours.exempt");
        // Overtime rules override: FLSA in CA → 14 h regular.
        let mut v = request(
            "CA",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["14"], "30")),
        );
        v["employee"] = json!({"overtime_rules": "flsa"});
        assert_eq!(hours3(&run(&v, ca())), (dec!(14), dec!(0), dec!(0)));
    }

    #[test]
    fn sunday_workweek() {
        // Mon–Sun 7 × 10 h with a Sunday start: week of 03-02 has Mon–Sat = 60 h (20 OT),
        // week of 03-09 has Sunday = 10 h.
        let mut v = request(
            "TX",
            "weekly",
            "2025-03-03",
            "2025-03-09",
            json!(days("2025-03-03", &["10"; 7], "10")),
        );
        v["employee"] = json!({"workweek_start": "sunday"});
        let o = run(&v, tx());
        assert_eq!(hours3(&o), (dec!(50), dec!(20), dec!(0)));
        assert!(
            o.traces
                .iter()
                .any(|t| t.line == "hours:workweek:2025-03-02")
        );
        assert!(
            o.traces
                .iter()
                .any(|t| t.line == "hours:workweek:2025-03-09")
        );
    }
}
