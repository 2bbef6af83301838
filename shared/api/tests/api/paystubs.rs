//! Pay stubs (the `paystubs` group): two paid biweekly runs for an hourly CA employee with
//! overtime, a 401(k) and an SSN on file, then `GET /paystubs/{id}` as JSON (current and
//! year-to-date columns, explanations) and as PDF (a valid file: header, objects where the
//! cross-reference table says, the text of the stub in it), and who may read which stub.

use crate::common::TestApp;
use http::Method;
use payroll_api::auth::Role;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

fn p(path: &str) -> String {
    format!("/api/payroll/v1{path}")
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<&Value>, status: u16) -> Value {
    ok_with(app, method, path, body, &[], status).await
}

async fn ok_with(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
    status: u16,
) -> Value {
    let r = app
        .call(method.clone(), &p(path), Some(&app.admin()), body, headers)
        .await;
    assert_eq!(r.status.as_u16(), status, "{method} {path}: {}", r.text);
    r.json
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// What [`paid_stubs`] made.
pub struct Paid {
    pub employee: Uuid,
    /// The first period's stub (paid 2025-01-24) and the second's (paid 2025-02-07).
    pub first: Uuid,
    pub second: Uuid,
}

/// Calculate, approve and pay the regular run of the period starting `start`.
async fn pay_period(app: &TestApp, schedule: &str, start: &str) {
    let run = id(&ok(
        app,
        Method::POST,
        "/payroll-runs",
        Some(&json!({"pay_schedule_id": schedule, "period_start": start})),
        201,
    )
    .await);
    ok(
        app,
        Method::POST,
        &format!("/payroll-runs/{run}/calculate"),
        Some(&json!({})),
        202,
    )
    .await;
    let mut v = Value::Null;
    for _ in 0..400 {
        v = ok(app, Method::GET, &format!("/payroll-runs/{run}"), None, 200).await;
        if v["status"] != "calculating" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(v["status"], "calculated", "{v}");
    let hash = format!("\"{}\"", v["calc_hash"].as_str().unwrap());
    ok_with(
        app,
        Method::POST,
        &format!("/payroll-runs/{run}/approve"),
        None,
        &[("if-match", &hash)],
        200,
    )
    .await;
    ok(
        app,
        Method::POST,
        &format!("/payroll-runs/{run}/pay"),
        Some(&json!({})),
        200,
    )
    .await;
}

/// Company, a biweekly schedule (periods from Monday 2025-01-06, paid 5 days after the end), an
/// hourly employee (20.00/h, CA, SSN, 5 % 401(k)) working 9 h a day on weekdays (CA daily
/// overtime), and the first two periods paid. `app` must serve every group.
pub async fn paid_stubs(app: &TestApp) -> Paid {
    let address = json!({"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"});
    ok(
        app,
        Method::PUT,
        "/company",
        Some(&json!({"legal_name": "Harbor Bistro LLC", "ein": "12-3456789", "address": address,
                     "workweek_start": "monday", "sui": {"CA": {"rate": "0.034", "wage_base": "7000.00"}}})),
        200,
    )
    .await;
    let loc = id(&ok(
        app,
        Method::POST,
        "/locations",
        Some(
            &json!({"name": "SF", "state": "CA", "locality": "San Francisco", "address": address}),
        ),
        201,
    )
    .await);
    let schedule = id(&ok(
        app,
        Method::POST,
        "/pay-schedules",
        Some(&json!({"name": "Biweekly", "frequency": "biweekly",
                     "first_period_start": "2025-01-06", "pay_date_offset_days": 5})),
        201,
    )
    .await);
    let emp = id(&ok(
        app,
        Method::POST,
        "/employees",
        Some(&json!({"first_name": "José", "last_name": "Park", "hire_date": "2024-06-01",
            "location_id": loc, "pay_schedule_id": schedule, "pay_type": "hourly",
            "hourly_rate": "20.00", "resident_state": "CA", "ssn": "123-45-6789",
            "home_address": {"line1": "9 Pine St", "city": "Oakland", "state": "CA", "postal_code": "94607"},
            "federal_w4": {"form": "2020", "filing_status": "single"},
            "state_w4": {"CA": {"filing_status": "single", "allowances": 1}}})),
        201,
    )
    .await);
    ok(
        app,
        Method::POST,
        &format!("/employees/{emp}/deductions"),
        Some(&json!({"type": "401k", "percent": "5"})),
        201,
    )
    .await;
    let mut entries = Vec::new();
    for monday in ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"] {
        let d: chrono::NaiveDate = monday.parse().unwrap();
        for i in 0..5 {
            let date = d + chrono::Days::new(i);
            entries.push(
                json!({"external_id": format!("e-{date}"), "employee_id": emp,
                                "date": date.to_string(), "hours": "9"}),
            );
        }
    }
    ok(
        app,
        Method::POST,
        "/time-entries/batch",
        Some(&json!({"entries": entries})),
        200,
    )
    .await;
    pay_period(app, &schedule, "2025-01-06").await;
    pay_period(app, &schedule, "2025-01-20").await;
    let list = ok(
        app,
        Method::GET,
        &format!("/paystubs?employee_id={emp}&year=2025"),
        None,
        200,
    )
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["pay_date"], "2025-01-24");
    assert_eq!(items[1]["pay_date"], "2025-02-07");
    let uuid = |v: &Value| Uuid::parse_str(v.as_str().unwrap()).unwrap();
    Paid {
        employee: uuid(&json!(emp)),
        first: uuid(&items[0]["id"]),
        second: uuid(&items[1]["id"]),
    }
}

/// `1234.5` as the PDF prints it: `1,234.50`.
pub fn grouped(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap();
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{frac}")
}

/// The checks a PDF reader makes to find objects: the header, `startxref` pointing at the
/// `xref` table, each in-use entry's offset starting `N 0 obj`, the trailer naming the catalog,
/// and every `/Length` matching its stream. Returns the number of pages.
pub fn check_pdf(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF-1."), "not a PDF");
    let sx = pdf.windows(9).rposition(|w| w == b"startxref").unwrap();
    let tail = std::str::from_utf8(&pdf[sx..]).unwrap();
    assert!(tail.trim_end().ends_with("%%EOF"));
    let xref: usize = tail.lines().nth(1).unwrap().trim().parse().unwrap();
    assert_eq!(&pdf[xref..xref + 4], b"xref");
    let table = std::str::from_utf8(&pdf[xref..]).unwrap();
    let mut lines = table.lines().skip(1);
    let count: usize = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(lines.next().unwrap().ends_with(" f "));
    for n in 1..count {
        let entry = lines.next().unwrap();
        let off: usize = entry[..10].parse().unwrap();
        assert!(entry.ends_with(" n "), "{entry}");
        let want = format!("{n} 0 obj");
        assert_eq!(&pdf[off..off + want.len()], want.as_bytes(), "object {n}");
    }
    let trailer = &table[table.find("trailer").unwrap()..];
    assert!(trailer.contains(&format!("/Size {count}")), "{trailer}");
    assert!(trailer.contains("/Root 1 0 R"), "{trailer}");
    // Each stream's /Length is its exact byte count.
    let mut at = 0;
    while let Some(i) = pdf[at..].windows(8).position(|w| w == b"/Length ") {
        let start = at + i + 8;
        let digits = pdf[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let len: usize = std::str::from_utf8(&pdf[start..start + digits])
            .unwrap()
            .parse()
            .unwrap();
        let body = start
            + pdf[start..]
                .windows(7)
                .position(|w| w == b"stream\n")
                .unwrap()
            + 7;
        assert_eq!(&pdf[body + len..body + len + 10], b"\nendstream");
        at = body + len;
    }
    String::from_utf8_lossy(pdf).matches("/Type /Page ").count()
}

/// The text shown by the content streams (the strings of `Tj` operators, escapes undone, in
/// WinAnsi decoded to Latin-1).
pub fn shown_text(pdf: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < pdf.len() {
        if pdf[i] == b'(' {
            let mut s = Vec::new();
            i += 1;
            while i < pdf.len() && pdf[i] != b')' {
                if pdf[i] == b'\\' {
                    i += 1;
                    if pdf[i].is_ascii_digit() {
                        let oct = std::str::from_utf8(&pdf[i..i + 3]).unwrap();
                        s.push(u8::from_str_radix(oct, 8).unwrap());
                        i += 2;
                    } else {
                        s.push(pdf[i]);
                    }
                } else {
                    s.push(pdf[i]);
                }
                i += 1;
            }
            if pdf[i + 1..].starts_with(b" Tj") {
                out.extend(s.iter().map(|&b| char::from(b)));
                out.push('\n');
            }
        }
        i += 1;
    }
    out
}

#[tokio::test]
async fn a_pay_stub_as_json_and_as_pdf_with_current_and_ytd_columns() {
    let app = TestApp::spawn().await;
    let paid = paid_stubs(&app).await;

    // JSON: the statement carries current and YTD per line and the explanation of each.
    let first = ok(
        &app,
        Method::GET,
        &format!("/paystubs/{}", paid.first),
        None,
        200,
    )
    .await;
    let second = ok(
        &app,
        Method::GET,
        &format!("/paystubs/{}", paid.second),
        None,
        200,
    )
    .await;
    let st = &second["statement"];
    assert_eq!(st["employee"]["name"], "José Park");
    assert_eq!(st["employee"]["ssn"], "***-**-6789");
    assert!(!second.to_string().contains("123-45-6789"));
    assert_eq!(st["employer"]["name"], "Harbor Bistro LLC");
    assert_eq!(st["employer"]["address"][1], "San Francisco, CA 94105");
    let dec = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    // Regular: 80 h × 20.00 each period; overtime (CA daily, 1 h a day) at 30.00.
    let line = |section: &str, code: &str| -> Value {
        st[section]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["code"] == code)
            .unwrap_or_else(|| panic!("{section} {code}: {st}"))
            .clone()
    };
    let regular = line("earnings", "earning:regular");
    assert_eq!(regular["hours"], "80.00");
    assert_eq!(regular["rate"], "20.00");
    assert_eq!(regular["current"], "1600.00");
    assert_eq!(regular["ytd"], "3200.00");
    let ot = line("earnings", "earning:overtime");
    assert_eq!(ot["hours"], "10.00");
    assert_eq!(ot["current"], "300.00");
    assert_eq!(ot["ytd"], "600.00");
    assert!(
        ot["explanation"]
            .as_str()
            .unwrap()
            .contains("Rounded half away from zero"),
        "{ot}"
    );
    // Taxes: YTD is the sum of both stubs' lines.
    let fit = line("taxes", "tax:US_FIT");
    let first_fit = first["statement"]["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "tax:US_FIT")
        .unwrap()
        .clone();
    assert_eq!(
        dec(&fit["ytd"]),
        dec(&fit["current"]) + dec(&first_fit["current"])
    );
    let fit_ex = fit["explanation"].as_str().unwrap();
    assert!(
        fit_ex.contains("us.fit") && fit_ex.contains("Parameters:"),
        "{fit_ex}"
    );
    let k401 = line("deductions", "deduction:401k");
    assert_eq!(k401["current"], "95.00"); // 5 % of 1,900.00
    assert_eq!(k401["ytd"], "190.00");
    assert!(!st["employer_contributions"].as_array().unwrap().is_empty());
    assert!(line("employer_contributions", "employer:US_FUTA")["explanation"].is_string());
    assert_eq!(st["net_pay"]["current"], second["net_pay"]);
    assert_eq!(
        dec(&st["net_pay"]["ytd"]),
        dec(&first["net_pay"]) + dec(&second["net_pay"])
    );
    let gross = st["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "Gross pay")
        .unwrap();
    assert_eq!(gross["current"], "1900.00");
    assert_eq!(gross["ytd"], "3800.00");
    assert!(!st["hours_by_workweek"].as_array().unwrap().is_empty());

    // PDF.
    let r = app
        .call(
            Method::GET,
            &p(&format!("/paystubs/{}", paid.second)),
            Some(&app.admin()),
            None,
            &[("accept", "application/pdf")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.header("content-disposition").unwrap().contains(".pdf"));
    let resp = app
        .router
        .clone()
        .oneshot_pdf(&p(&format!("/paystubs/{}", paid.second)), &app.admin())
        .await;
    let pages = check_pdf(&resp);
    assert!(pages >= 1);
    let text = shown_text(&resp);
    for want in [
        "Earnings statement",
        "Harbor Bistro LLC",
        "EIN 12-3456789",
        "José Park",
        "SSN ***-**-6789",
        "Pay date",
        "2025-02-07",
        "2025-01-20 to 2025-02-02",
        "Regular",
        "80.00",
        "3,200.00",
        "Overtime",
        "Federal income tax",
        "401(k) (pre-tax)",
        "Employer contributions",
        "Net pay",
        "How each line was calculated",
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF text:\n{text}");
    }
    let net = grouped(second["net_pay"].as_str().unwrap());
    assert!(text.contains(&net), "net pay {net} not in:\n{text}");
    assert!(!text.contains("123-45-6789"));
    // A PDF reader agrees, where poppler's pdftotext is installed.
    if let Ok(out) = std::process::Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&resp)?;
            child.wait_with_output()
        })
    {
        assert!(out.status.success());
        let t = String::from_utf8_lossy(&out.stdout);
        assert!(t.contains("Earnings statement") && t.contains(&net), "{t}");
    }

    // Who reads which stub: the employee its own (JSON and PDF); another employee, another
    // tenant: 404; a clerk may read.
    let own = app.token_for(app.tenant, Role::Employee, Some(paid.employee));
    let stranger = app.token_for(app.tenant, Role::Employee, Some(Uuid::new_v4()));
    let other_tenant = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    for (token, status) in [
        (&own, 200),
        (&stranger, 404),
        (&other_tenant, 404),
        (&app.token(Role::PayrollClerk), 200),
    ] {
        for accept in ["application/json", "application/pdf"] {
            let r = app
                .call(
                    Method::GET,
                    &p(&format!("/paystubs/{}", paid.first)),
                    Some(token),
                    None,
                    &[("accept", accept)],
                )
                .await;
            assert_eq!(r.status.as_u16(), status, "{accept}: {}", r.text);
        }
    }
    let mine = app.get(&p("/paystubs?year=2025"), &own).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 2);
    let theirs = app
        .get(
            &p(&format!("/paystubs?employee_id={}", paid.employee)),
            &stranger,
        )
        .await;
    assert_eq!(theirs.status, 404);
    app.cleanup().await;
}

/// The raw bytes of a GET with `Accept: application/pdf` (TestApp reads bodies as text).
trait OneshotPdf {
    async fn oneshot_pdf(self, path: &str, token: &str) -> Vec<u8>;
}

impl OneshotPdf for axum::Router {
    async fn oneshot_pdf(self, path: &str, token: &str) -> Vec<u8> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = http::Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/pdf")
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = self.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }
}
