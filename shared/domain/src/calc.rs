//! The pipeline (DESIGN §3): hours → earnings → pre-tax deductions → taxes → cash tips offset →
//! garnishments → post-tax deductions → net pay, with invariants checked on every paycheck.

use crate::deductions::{self, PreTaxOutcome};
use crate::earnings::{self, EarningsContext};
use crate::error::CalcError;
use crate::federal::{self, FicaInput, FitInput, TaxOut};
use crate::garnish::{self, GarnishContext};
use crate::money::{add, max, sub, zero};
use crate::request::{DeductionType, EarningType, PaycheckRequest, StateCode, Ytd};
use crate::response::{DeductionLine, PaycheckResult, Payer, TaxLine};
use crate::rules;
use crate::state::StatePack;
use crate::state::withholding::{self, StateOptions, StateRole, StateTaxInput};
use crate::trace::{LineTrace, Str};
use rust_decimal::Decimal;
use std::borrow::Cow;

/// Parse a JSON request, calculate, and serialize the result (the `payroll calc` contract).
pub fn calculate_json(json: &str) -> Result<String, CalcError> {
    let req = crate::parse_request(json)?;
    let res = calculate(&req)?;
    Ok(res.to_json())
}

/// The state pack for `code` on the pay date, or the right error: a state we have no pack for at
/// all is unsupported; a known state without a pack for that date has no rule pack.
fn state_pack(
    code: StateCode,
    date: chrono::NaiveDate,
    field: &str,
) -> Result<&'static StatePack, CalcError> {
    if let Some(p) = rules::state_for(code.as_str(), date) {
        return Ok(p);
    }
    if rules::state_known(code.as_str()) {
        return Err(CalcError::NoRulePack {
            field: field.into(),
            jurisdiction: code.as_str().into(),
            date,
        });
    }
    Err(CalcError::UnsupportedState {
        field: field.into(),
        state: code.as_str().into(),
        supported: withholding::supported_states(),
    })
}

fn validate_top(req: &PaycheckRequest) -> Result<(), CalcError> {
    if let (Some(s), Some(e)) = (req.period_start, req.period_end)
        && s > e
    {
        return Err(CalcError::invalid(
            "period_end",
            format!("{e} is before period_start {s}"),
        ));
    }
    let y = &req.ytd;
    for (name, v) in [
        ("gross", y.gross),
        ("fit_wages", y.fit_wages),
        ("social_security_wages", y.social_security_wages),
        ("medicare_wages", y.medicare_wages),
        ("futa_wages", y.futa_wages),
        ("sui_wages", y.sui_wages),
        ("sdi_wages", y.sdi_wages),
        ("supplemental", y.supplemental),
        ("401k", y.k401),
    ] {
        if v < Decimal::ZERO {
            return Err(CalcError::invalid(
                format!("ytd.{name}"),
                "must not be negative",
            ));
        }
    }
    if let Some(mw) = req.employee.minimum_wage
        && mw <= Decimal::ZERO
    {
        return Err(CalcError::invalid(
            "employee.minimum_wage",
            "must be positive",
        ));
    }
    Ok(())
}

/// Employee taxes are withheld from the cash actually paid. When that runs short (typically cash
/// tips), taxes are reduced in this order and the rest is reported as uncollected: income taxes
/// first (federal, then state), then Additional Medicare, Medicare, Social Security — so payroll
/// taxes on wages are the last to go (Pub 15 (2025) "Tips": collect regular-wage taxes first,
/// income tax on tips last).
fn collect_employee_taxes(lines: &mut [TaxLine], traces: &mut [LineTrace], available: Decimal) {
    let total = lines.iter().fold(Decimal::ZERO, |s, l| add(s, l.amount));
    if crate::money::cmp(total, available) != std::cmp::Ordering::Greater {
        return;
    }
    let mut short = total - available.max(Decimal::ZERO);
    let rank = |code: &str| -> u8 {
        match code {
            "US_FIT" => 0,
            c if c.ends_with("_SIT") => 1,
            "US_ADDL_MEDICARE" => 3,
            "US_MEDICARE" => 4,
            "US_SS" => 5,
            _ => 2, // state employee payroll taxes (SDI ...)
        }
    };
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| (rank(&lines[i].code), i));
    for i in order {
        if short <= Decimal::ZERO {
            break;
        }
        let (Some(l), Some(t)) = (lines.get_mut(i), traces.get_mut(i)) else {
            break;
        };
        let cut = l.amount.min(short);
        if cut > Decimal::ZERO {
            l.amount -= cut;
            l.uncollected = Some(cut);
            short -= cut;
            t.step("uncollected_insufficient_pay", cut);
            t.step("withheld", l.amount);
        }
    }
}

pub fn calculate(req: &PaycheckRequest) -> Result<PaycheckResult, CalcError> {
    validate_top(req)?;
    let fed = rules::federal_for(req.pay_date)?;
    let ws = req.work_state;
    let work_pack = state_pack(ws, req.pay_date, "work_state")?;
    let resident = match req.resident_state {
        Some(rs) if rs != ws => Some((rs, state_pack(rs, req.pay_date, "resident_state")?)),
        _ => None,
    };
    if let Some(w4) = &req.federal_w4 {
        federal::validate_w4(w4)?;
    }

    // 1–2. Hours and earnings.
    let overtime_rules = req
        .employee
        .overtime_rules
        .unwrap_or(work_pack.labor.overtime_rules);
    let earn = earnings::compute(&EarningsContext {
        req,
        federal: fed,
        work_state: work_pack,
        overtime_rules,
    })?;
    let z = zero();
    let (mut gross, mut wages, mut supplemental, mut cash_tips, mut tips, mut bonus) =
        (z, z, z, z, z, z);
    for l in &earn.lines {
        gross = add(gross, l.amount);
        if l.kind.is_wages() {
            wages = add(wages, l.amount);
        }
        if l.kind.is_supplemental() {
            supplemental = add(supplemental, l.amount);
        }
        if l.kind.paid_outside_payroll() {
            cash_tips = add(cash_tips, l.amount);
        }
        if l.kind.is_tips() {
            tips = add(tips, l.amount);
        }
        if l.kind == EarningType::Bonus {
            bonus = add(bonus, l.amount);
        }
    }
    // Cash this check actually pays out (cash tips are already in the employee's hands).
    let cash = sub(gross, cash_tips);

    // 3. Pre-tax deductions and the taxable bases.
    // Their traces go straight after the earnings traces in the result's list.
    let mut traces: Vec<LineTrace> = earn.traces;
    let pre: PreTaxOutcome = deductions::pre_tax_into(req, fed, wages, cash, &mut traces)?;
    let pretax_total = pre.total();
    let fit_wages = max(sub(wages, pretax_total), z);
    let regular_part = sub(wages, supplemental);
    let fit_regular = max(sub(regular_part, pretax_total), z);
    let fit_supplemental = sub(fit_wages, fit_regular);
    let fica_wages = max(sub(sub(wages, pre.section_125), pre.hsa), z);

    // 4. Taxes. Employee lines and traces go straight into the result's lists (traces after the
    // earnings, pre-tax deduction and cash-tips traces); employer lines follow them at the end.
    let cash_tips_trace = crate::money::is_positive(cash_tips);
    if cash_tips_trace {
        let mut t = LineTrace::new("deduction:cash_tips_paid", "payroll.cash_tips_offset");
        t.reserve(1, 0, 1);
        t.input("cash_tips", cash_tips).step(
            "explanation",
            "cash tips are wages for tax but the employee already holds them",
        );
        traces.push(t);
    }
    let ee_first = traces.len();
    let (fit_line, fit_trace) = federal::income_tax(
        fed,
        &FitInput {
            w4: req.federal_w4.as_ref(),
            frequency: req.pay_frequency,
            regular_wages: fit_regular,
            supplemental_wages: fit_supplemental,
            ytd_supplemental: req.ytd.supplemental,
        },
    )?;
    let mut taxes: Vec<TaxLine> = Vec::with_capacity(12);
    taxes.push(fit_line);
    traces.push(fit_trace);
    let fica = FicaInput {
        wages: fica_wages,
        futa_wages: fica_wages,
        ytd: &req.ytd,
        employer: &req.employer,
        work_state: ws,
    };
    federal::employee_fica_into(
        fed,
        &fica,
        &mut TaxOut {
            lines: &mut taxes,
            traces: &mut traces,
        },
    );
    // The employer lines (FICA, FUTA, SUI) are appended after every employee line below; their
    // inputs are checked here, where `payroll_taxes_into` reports them.
    federal::validate_employer(fed, &fica)?;
    let work_first = taxes.len();
    withholding::withhold_into(
        &StateTaxInput {
            state: ws,
            pack: work_pack,
            pay_date: req.pay_date,
            frequency: req.pay_frequency,
            wages,
            supplemental,
            pretax: &pre,
            w4: req.state_w4.get(&ws),
            ytd: &req.ytd,
            other_state_credit: z,
        },
        &StateOptions {
            role: StateRole::Work,
            bonus: Some(bonus),
        },
        &mut TaxOut {
            lines: &mut taxes,
            traces: &mut traces,
        },
    )?;
    let work_sit = taxes[work_first..]
        .iter()
        .filter(|l| l.code.ends_with("_SIT"))
        .fold(Decimal::ZERO, |s, l| add(s, l.amount));
    let mut packs: Vec<Str> = vec![
        Cow::Borrowed(fed.header.id.as_str()),
        Cow::Borrowed(work_pack.header.id.as_str()),
    ];
    if let Some((rs, rpack)) = resident {
        packs.push(Cow::Borrowed(rpack.header.id.as_str()));
        withholding::withhold_into(
            &StateTaxInput {
                state: rs,
                pack: rpack,
                pay_date: req.pay_date,
                frequency: req.pay_frequency,
                wages,
                supplemental,
                pretax: &pre,
                w4: req.state_w4.get(&rs),
                ytd: &req.ytd,
                other_state_credit: work_sit,
            },
            &StateOptions {
                role: StateRole::Resident,
                bonus: Some(bonus),
            },
            &mut TaxOut {
                lines: &mut taxes,
                traces: &mut traces,
            },
        )?;
    }
    collect_employee_taxes(&mut taxes, &mut traces[ee_first..], sub(cash, pretax_total));
    // Only employee lines in `taxes` so far.
    let ee_tax_total = taxes.iter().fold(Decimal::ZERO, |s, l| add(s, l.amount));

    // Cash tips: taxed above, but already paid; offset so net pay is the cash this check pays.
    let mut deduction_lines: Vec<DeductionLine> = pre.lines;
    if cash_tips_trace {
        deduction_lines.push(DeductionLine {
            kind: DeductionType::CashTipsPaid,
            pre_tax: false,
            amount: cash_tips,
            not_taken: None,
        });
    }

    // 5. Garnishments (priority over voluntary deductions), then post-tax deductions.
    let after_taxes = sub(sub(cash, pretax_total), ee_tax_total);
    let nontip_wages = sub(wages, tips);
    let disposable = max(sub(nontip_wages, ee_tax_total), z);
    let (garnishments, g_traces) = garnish::compute(&GarnishContext {
        orders: &req.garnishments,
        federal: fed,
        frequency: req.pay_frequency,
        disposable,
        available: max(after_taxes, z),
    })?;
    let garn_total = garnishments
        .iter()
        .fold(Decimal::ZERO, |s, g| add(s, g.amount));
    let (post_lines, post_traces) =
        deductions::post_tax(req, fed, wages, max(sub(after_taxes, garn_total), z))?;
    deduction_lines.extend(post_lines);

    // 6. Net pay, employer cost, YTD.
    let ded_total = deduction_lines
        .iter()
        .fold(Decimal::ZERO, |s, d| add(s, d.amount));
    let net = sub(sub(sub(gross, ee_tax_total), ded_total), garn_total);

    let deferrals = deduction_lines
        .iter()
        .filter(|d| d.kind.is_elective_deferral())
        .fold(Decimal::ZERO, |s, d| add(s, d.amount));
    let sdi_wages = taxes
        .iter()
        .filter(|l| l.code.ends_with("_SDI"))
        .fold(Decimal::ZERO, |s, l| add(s, l.taxable_wages));
    let y = &req.ytd;
    let ytd_after = Ytd {
        gross: add(y.gross, gross),
        fit_wages: add(y.fit_wages, crate::money::cents(fit_wages)),
        social_security_wages: add(y.social_security_wages, fica_wages),
        medicare_wages: add(y.medicare_wages, fica_wages),
        futa_wages: add(y.futa_wages, fica_wages),
        sui_wages: add(y.sui_wages, fica_wages),
        sdi_wages: add(y.sdi_wages, sdi_wages),
        supplemental: add(y.supplemental, supplemental),
        k401: add(y.k401, deferrals),
    };

    // Employer lines after the employee lines, then the garnishment and post-tax traces.
    let er_first = taxes.len();
    traces.reserve(4 + g_traces.len() + post_traces.len());
    federal::employer_taxes_into(
        fed,
        &fica,
        &mut TaxOut {
            lines: &mut taxes,
            traces: &mut traces,
        },
    )?;
    let er_tax_total = taxes[er_first..]
        .iter()
        .fold(Decimal::ZERO, |s, l| add(s, l.amount));
    let employer_cost = add(cash, er_tax_total);
    traces.extend(g_traces);
    traces.extend(post_traces);

    let result = PaycheckResult {
        pay_date: req.pay_date,
        pay_frequency: req.pay_frequency,
        gross_pay: gross,
        net_pay: net,
        employer_cost,
        hours: earn.hours,
        earnings: earn.lines,
        taxes,
        deductions: deduction_lines,
        garnishments,
        ytd_after,
        rule_packs: packs,
        trace: traces,
    };
    check_invariants(&result)?;
    Ok(result)
}

/// The invariants every paycheck must satisfy (DESIGN §3.6). A failure is a bug, reported as
/// `CalcError::Invariant`, never a wrong paycheck.
pub fn check_invariants(r: &PaycheckResult) -> Result<(), CalcError> {
    let fail = |m: String| Err(CalcError::Invariant(m));
    // The sums in one pass per list (plain loops: this runs on every paycheck).
    let (mut sum_e, mut cash_tips) = (Decimal::ZERO, Decimal::ZERO);
    for e in &r.earnings {
        sum_e = add(sum_e, e.amount);
        if e.kind == EarningType::CashTips {
            cash_tips = add(cash_tips, e.amount);
        }
    }
    if crate::money::cmp(sum_e, r.gross_pay) != std::cmp::Ordering::Equal {
        return fail(format!("gross {} != sum of earnings {sum_e}", r.gross_pay));
    }
    let (mut ee, mut er) = (Decimal::ZERO, Decimal::ZERO);
    for t in &r.taxes {
        if t.payer == Payer::Employee {
            ee = add(ee, t.amount);
        } else {
            er = add(er, t.amount);
        }
    }
    let mut ded = Decimal::ZERO;
    for d in &r.deductions {
        ded = add(ded, d.amount);
    }
    let mut garn = Decimal::ZERO;
    for g in &r.garnishments {
        garn = add(garn, g.amount);
    }
    if crate::money::cmp(r.net_pay, sub(sub(sub(r.gross_pay, ee), ded), garn))
        != std::cmp::Ordering::Equal
    {
        return fail(format!(
            "net {} != gross {} - taxes {ee} - deductions {ded} - garnishments {garn}",
            r.net_pay, r.gross_pay
        ));
    }
    if crate::money::is_negative(r.net_pay) {
        return fail(format!("net pay {} is negative", r.net_pay));
    }
    // Every line amount: not negative, rounded to cents (reported in list order).
    let bad = |a: Decimal| crate::money::is_negative(a) || a.scale() > 2;
    let any_bad = r.earnings.iter().any(|e| bad(e.amount))
        || r.taxes
            .iter()
            .any(|t| bad(t.amount) || bad(t.taxable_wages))
        || r.deductions.iter().any(|d| bad(d.amount))
        || r.garnishments.iter().any(|g| bad(g.amount));
    if any_bad {
        let all_amounts = r
            .earnings
            .iter()
            .map(|e| e.amount)
            .chain(r.taxes.iter().flat_map(|t| [t.amount, t.taxable_wages]))
            .chain(r.deductions.iter().map(|d| d.amount))
            .chain(r.garnishments.iter().map(|g| g.amount));
        for a in all_amounts {
            if crate::money::is_negative(a) {
                return fail(format!("negative line amount {a}"));
            }
            if a.scale() > 2 {
                return fail(format!("line amount {a} is not rounded to cents"));
            }
        }
    }
    if crate::money::cmp(r.employer_cost, add(sub(r.gross_pay, cash_tips), er))
        != std::cmp::Ordering::Equal
    {
        return fail(format!("employer cost {} inconsistent", r.employer_cost));
    }
    Ok(())
}
