//! The pay stub as a PDF: employer and employee, the period and pay date, a table per section
//! (earnings with hours × rate, taxes withheld, deductions, garnishments, employer
//! contributions) with current and year-to-date columns, the totals and net pay, then how each
//! line was calculated. Pages break wherever the content needs.

use super::pdf::{Document, Font, PAGE_HEIGHT, PAGE_WIDTH, Page, wrap};
use super::statement::{Statement, StubLine, Total};

const LEFT: f32 = 40.0;
const RIGHT: f32 = PAGE_WIDTH - 40.0;
const TOP: f32 = PAGE_HEIGHT - 40.0;
const BOTTOM: f32 = 56.0;
const COL_HOURS: f32 = 330.0;
const COL_RATE: f32 = 400.0;
const COL_CURRENT: f32 = 486.0;
const COL_YTD: f32 = RIGHT - 4.0;
const DESC_WIDTH: f32 = 236.0;

/// `1234567.5` → `1,234,567.50` (the text is already a two-decimal amount).
pub fn grouped(amount: &str) -> String {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", amount),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

struct Writer {
    pages: Vec<Page>,
    page: Page,
    y: f32,
    continued: String,
}

impl Writer {
    fn new(continued: String) -> Writer {
        Writer {
            pages: Vec::new(),
            page: Page::default(),
            y: TOP,
            continued,
        }
    }

    /// Room for `h` points, on a new page if needed.
    fn need(&mut self, h: f32) {
        if self.y - h < BOTTOM {
            self.pages.push(std::mem::take(&mut self.page));
            self.y = TOP;
            self.page
                .text(LEFT, self.y, Font::Bold, 9.0, &self.continued.clone());
            self.y -= 18.0;
        }
    }

    fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    fn finish(mut self, footer_left: &str) -> Vec<Page> {
        self.pages.push(self.page);
        let n = self.pages.len();
        for (i, p) in self.pages.iter_mut().enumerate() {
            p.rule(LEFT, RIGHT, BOTTOM - 14.0, 0.3);
            p.text(LEFT, BOTTOM - 26.0, Font::Regular, 7.0, footer_left);
            p.text_right(
                RIGHT,
                BOTTOM - 26.0,
                Font::Regular,
                7.0,
                &format!("Page {} of {n}", i + 1),
            );
        }
        self.pages
    }
}

fn table_header(w: &mut Writer, title: &str, with_hours: bool) {
    w.need(34.0);
    w.page.shade(LEFT, w.y - 4.0, RIGHT - LEFT, 14.0, 0.88);
    w.page.text(LEFT + 4.0, w.y, Font::Bold, 9.5, title);
    if with_hours {
        w.page.text_right(COL_HOURS, w.y, Font::Bold, 8.0, "Hours");
        w.page.text_right(COL_RATE, w.y, Font::Bold, 8.0, "Rate");
    }
    w.page
        .text_right(COL_CURRENT, w.y, Font::Bold, 8.0, "Current");
    w.page
        .text_right(COL_YTD, w.y, Font::Bold, 8.0, "Year to date");
    w.gap(15.0);
}

fn line_row(w: &mut Writer, l: &StubLine) {
    let desc = wrap(&l.label, Font::Regular, 9.0, DESC_WIDTH);
    let h = 11.5 * desc.len().max(1) as f32;
    w.need(h);
    let y = w.y;
    for (i, d) in desc.iter().enumerate() {
        w.page
            .text(LEFT + 4.0, y - 11.5 * i as f32, Font::Regular, 9.0, d);
    }
    if let Some(hours) = &l.hours {
        w.page.text_right(COL_HOURS, y, Font::Regular, 9.0, hours);
    }
    if let Some(rate) = &l.rate {
        w.page.text_right(COL_RATE, y, Font::Regular, 9.0, rate);
    }
    w.page
        .text_right(COL_CURRENT, y, Font::Regular, 9.0, &grouped(&l.current));
    w.page
        .text_right(COL_YTD, y, Font::Regular, 9.0, &grouped(&l.ytd));
    w.gap(h);
}

fn total_row(w: &mut Writer, label: &str, current: &str, ytd: &str, bold: bool) {
    let font = if bold { Font::Bold } else { Font::Regular };
    w.need(13.0);
    w.page.rule(LEFT, RIGHT, w.y + 9.0, 0.3);
    w.page.text(LEFT + 4.0, w.y, font, 9.0, label);
    w.page
        .text_right(COL_CURRENT, w.y, font, 9.0, &grouped(current));
    w.page.text_right(COL_YTD, w.y, font, 9.0, &grouped(ytd));
    w.gap(13.0);
}

fn section(
    w: &mut Writer,
    title: &str,
    lines: &[StubLine],
    with_hours: bool,
    total: Option<&Total>,
) {
    if lines.is_empty() {
        return;
    }
    table_header(w, title, with_hours);
    for l in lines {
        line_row(w, l);
    }
    if let Some(t) = total {
        total_row(
            w,
            &format!("Total {}", t.label.to_lowercase()),
            &t.current,
            &t.ytd,
            true,
        );
    }
    w.gap(8.0);
}

fn paragraph(w: &mut Writer, x: f32, text: &str, font: Font, size: f32) {
    let lead = size * 1.3;
    for line in wrap(text, font, size, RIGHT - x) {
        w.need(lead);
        w.page.text(x, w.y, font, size, &line);
        w.gap(lead);
    }
}

/// The stub as PDF bytes.
pub fn pdf(s: &Statement) -> Vec<u8> {
    let title = format!(
        "Earnings statement - {} - pay date {}",
        s.employee.name, s.pay_date
    );
    let mut w = Writer::new(format!(
        "Earnings statement (continued) - {} - pay date {}",
        s.employee.name, s.pay_date
    ));

    // Heading: employer left, employee right.
    w.page
        .text(LEFT, w.y, Font::Bold, 16.0, "Earnings statement");
    let kind = match s.run_type.as_str() {
        "off_cycle" => "Off-cycle payroll",
        "correction" => "Reversal (void of a paid payroll)",
        _ => "Regular payroll",
    };
    w.page.text_right(RIGHT, w.y, Font::Regular, 9.0, kind);
    w.gap(26.0);
    let top = w.y;
    let name = if s.employer.name.is_empty() {
        "Employer"
    } else {
        s.employer.name.as_str()
    };
    w.page.text(LEFT, top, Font::Bold, 10.5, name);
    let mut left = vec![];
    if let Some(ein) = &s.employer.ein {
        left.push(format!("EIN {ein}"));
    }
    left.extend(s.employer.address.iter().cloned());
    for (i, l) in left.iter().enumerate() {
        w.page
            .text(LEFT, top - 12.0 * (i + 1) as f32, Font::Regular, 9.0, l);
    }
    let x2 = 330.0;
    w.page.text(x2, top, Font::Bold, 10.5, &s.employee.name);
    let mut right = vec![format!(
        "SSN {}",
        s.employee.ssn.as_deref().unwrap_or("not on file")
    )];
    right.push(format!("Employee ID {}", s.employee.id));
    right.extend(s.employee.address.iter().cloned());
    for (i, l) in right.iter().enumerate() {
        w.page
            .text(x2, top - 12.0 * (i + 1) as f32, Font::Regular, 9.0, l);
    }
    w.gap(12.0 * (left.len().max(right.len()) + 1) as f32 + 8.0);

    // Period, pay date, net pay.
    w.page.shade(LEFT, w.y - 22.0, RIGHT - LEFT, 34.0, 0.93);
    let facts = [
        (
            "Pay period",
            format!("{} to {}", s.period_start, s.period_end),
        ),
        ("Pay date", s.pay_date.to_string()),
        (
            "Hours (reg / OT / DT)",
            format!(
                "{} / {} / {}",
                s.hours.get("regular").map_or("0.00", String::as_str),
                s.hours.get("overtime").map_or("0.00", String::as_str),
                s.hours.get("double_time").map_or("0.00", String::as_str)
            ),
        ),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        let x = LEFT + 8.0 + 130.0 * i as f32;
        w.page.text(x, w.y, Font::Regular, 7.5, k);
        w.page.text(x, w.y - 13.0, Font::Bold, 10.0, v);
    }
    w.page
        .text_right(RIGHT - 8.0, w.y, Font::Regular, 7.5, "Net pay");
    w.page.text_right(
        RIGHT - 8.0,
        w.y - 14.0,
        Font::Bold,
        13.0,
        &grouped(&s.net_pay.current),
    );
    w.gap(44.0);

    let total = |label: &str| s.totals.iter().find(|t| t.label == label);
    section(&mut w, "Earnings", &s.earnings, true, total("Gross pay"));
    section(
        &mut w,
        "Taxes withheld",
        &s.taxes,
        false,
        total("Taxes withheld"),
    );
    section(
        &mut w,
        "Deductions",
        &s.deductions,
        false,
        total("Deductions"),
    );
    section(
        &mut w,
        "Garnishments",
        &s.garnishments,
        false,
        total("Garnishments"),
    );

    table_header(&mut w, "Summary", false);
    for t in &s.totals {
        if t.label == "Employer contributions" {
            continue;
        }
        let net = t.label == "Net pay";
        total_row(&mut w, &t.label, &t.current, &t.ytd, net);
    }
    w.gap(8.0);

    if !s.employer_contributions.is_empty() {
        section(
            &mut w,
            "Employer contributions (paid by your employer, not taken from your pay)",
            &s.employer_contributions,
            false,
            total("Employer contributions"),
        );
    }

    // How each line was calculated.
    w.need(40.0);
    w.gap(4.0);
    w.page
        .text(LEFT, w.y, Font::Bold, 11.0, "How each line was calculated");
    w.gap(14.0);
    paragraph(
        &mut w,
        LEFT,
        "Every amount is computed in exact decimals and rounded once, half away from zero, to the \
         cent; totals are sums of the rounded lines. Each explanation names the rule, the rule \
         pack, the inputs, the parameters with their legal sources, and the intermediate steps.",
        Font::Regular,
        7.5,
    );
    w.gap(4.0);
    let groups: [(&str, &[StubLine]); 5] = [
        ("Earnings", &s.earnings),
        ("Taxes withheld", &s.taxes),
        ("Deductions", &s.deductions),
        ("Garnishments", &s.garnishments),
        ("Employer contributions", &s.employer_contributions),
    ];
    for (_, lines) in groups {
        for l in lines {
            let Some(ex) = &l.explanation else { continue };
            w.need(24.0);
            let head = format!("{}: {}", l.label, grouped(&l.current));
            w.page.text(LEFT, w.y, Font::Bold, 8.5, &head);
            w.gap(11.0);
            paragraph(&mut w, LEFT + 10.0, ex, Font::Regular, 7.5);
            w.gap(4.0);
        }
    }
    for n in &s.hours_by_workweek {
        w.need(24.0);
        w.page.text(LEFT, w.y, Font::Bold, 8.5, &n.label);
        w.gap(11.0);
        paragraph(&mut w, LEFT + 10.0, &n.explanation, Font::Regular, 7.5);
        w.gap(4.0);
    }
    if !s.rule_packs.is_empty() {
        w.gap(4.0);
        paragraph(
            &mut w,
            LEFT,
            &format!("Rule packs: {}.", s.rule_packs.join(", ")),
            Font::Regular,
            7.5,
        );
    }

    let footer = format!("Pay stub {} - run {}", s.stub_id, s.run_id);
    Document {
        title,
        pages: w.finish(&footer),
    }
    .to_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::routes::paystubs::statement::{Employee, Employer, Note};
    use std::collections::BTreeMap;
    use uuid::Uuid;

    #[test]
    fn grouping() {
        assert_eq!(grouped("1234567.50"), "1,234,567.50");
        assert_eq!(grouped("-1000.00"), "-1,000.00");
        assert_eq!(grouped("999.99"), "999.99");
        assert_eq!(grouped("0.00"), "0.00");
    }

    fn line(code: &str, current: &str, explanation: Option<String>) -> StubLine {
        StubLine {
            code: code.into(),
            label: code.into(),
            hours: None,
            rate: None,
            current: current.into(),
            ytd: current.into(),
            explanation,
        }
    }

    #[test]
    fn long_statements_break_into_pages() {
        let long = "a step = 1.00; ".repeat(400);
        let s = Statement {
            stub_id: Uuid::nil(),
            run_id: Uuid::nil(),
            run_type: "regular".into(),
            pay_date: "2025-01-24".parse().unwrap(),
            period_start: "2025-01-06".parse().unwrap(),
            period_end: "2025-01-19".parse().unwrap(),
            employer: Employer {
                name: "Bistro".into(),
                ein: None,
                address: vec![],
            },
            employee: Employee {
                id: Uuid::nil(),
                name: "Ana".into(),
                ssn: Some("***-**-6789".into()),
                address: vec![],
            },
            hours: BTreeMap::new(),
            earnings: (0..60)
                .map(|i| line(&format!("earning:{i}"), "1000.00", Some(long.clone())))
                .collect(),
            taxes: vec![],
            deductions: vec![],
            garnishments: vec![],
            employer_contributions: vec![],
            totals: vec![],
            net_pay: Total {
                label: "Net pay".into(),
                current: "54321.00".into(),
                ytd: "54321.00".into(),
            },
            hours_by_workweek: vec![Note {
                label: "Hours".into(),
                explanation: "x".into(),
            }],
            rule_packs: vec!["US-2025@2025.1".into()],
        };
        let pdf = pdf(&s);
        let n = crate::routes::paystubs::pdf::tests_support::check(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page ").count();
        assert!(pages > 3, "{pages}");
        assert_eq!(n, 5 + 2 * pages);
        assert!(text.contains(&format!("(Page {pages} of {pages}) Tj")));
        assert!(text.contains("(54,321.00) Tj"));
    }
}
