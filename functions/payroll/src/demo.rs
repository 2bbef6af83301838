//! The demo restaurant group, loaded through the public API in-process (so the demo exercises
//! exactly what clients use): two locations (CA and TX), two pay schedules, 25 employees across
//! server, cook, host, bartender and manager roles (tipped servers and bartenders), and two weeks
//! of time entries with tips.

use axum::body::Body;
use http::{Method, Request};
use http_body_util::BodyExt;
use payroll_api::auth::Role;
use payroll_api::{Group, SharedState};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

/// The demo's biweekly period (time entries are loaded for it).
pub const PERIOD_START: &str = "2026-11-02";
const DAYS: u64 = 14;

struct Client {
    router: axum::Router,
    token: String,
}

impl Client {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut b = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", payroll_api::BASE_PATH))
            .header("authorization", format!("Bearer {}", self.token));
        let req = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                b.body(Body::from(v.to_string()))
            }
            None => b.body(Body::empty()),
        }
        .map_err(|e| e.to_string())?;
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "{method} {path}: {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{method} {path}: {e}"))
    }
}

fn id_of(v: &Value) -> Result<String, String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {v}"))
}

/// (first, last, role, location index 0 = CA / 1 = TX)
const STAFF: [(&str, &str, &str, usize); 25] = [
    ("Ana", "Diaz", "server", 0),
    ("Ben", "Okafor", "server", 0),
    ("Chloe", "Nguyen", "server", 0),
    ("Diego", "Ramirez", "server", 1),
    ("Ella", "Schmidt", "server", 1),
    ("Farah", "Haddad", "server", 1),
    ("Gus", "Petrov", "server", 1),
    ("Hana", "Sato", "bartender", 0),
    ("Ivan", "Kowalski", "bartender", 1),
    ("Jade", "Morris", "bartender", 1),
    ("Kofi", "Mensah", "cook", 0),
    ("Lucia", "Ferrari", "cook", 0),
    ("Marco", "Silva", "cook", 0),
    ("Nina", "Johansson", "cook", 1),
    ("Omar", "Farouk", "cook", 1),
    ("Priya", "Raman", "cook", 1),
    ("Quinn", "Baker", "host", 0),
    ("Rosa", "Lopez", "host", 0),
    ("Sam", "Carter", "host", 1),
    ("Tara", "Singh", "host", 1),
    ("Uma", "Patel", "manager", 0),
    ("Victor", "Hughes", "manager", 1),
    ("Wen", "Zhao", "manager", 0),
    ("Xavier", "Dubois", "manager", 1),
    ("Yara", "Costa", "cook", 1),
];

/// Hourly rate by role and location: CA pays at least the San Francisco minimum (no tip credit);
/// TX tipped staff earn the $2.13 cash wage plus tips.
fn rate(role: &str, loc: usize, i: usize) -> &'static str {
    let ca = loc == 0;
    match (role, ca) {
        ("server" | "bartender", true) => ["19.75", "20.25", "21.00"][i % 3],
        ("server" | "bartender", false) => "2.13",
        ("cook", true) => ["24.00", "26.50", "28.00"][i % 3],
        ("cook", false) => ["17.50", "19.00", "21.00"][i % 3],
        ("host", true) => "19.50",
        ("host", false) => "12.50",
        _ => "0",
    }
}

pub async fn load(state: SharedState, tenant: Uuid) -> Result<String, String> {
    let token = state
        .jwt
        .mint("demo-loader", tenant, &[Role::PayrollAdmin], None, 3600)?;
    let c = Client {
        router: payroll_api::app(state, &Group::ALL),
        token,
    };
    c.call(
        Method::PUT,
        "/company",
        Some(json!({
            "legal_name": "Demo Bistro Group LLC",
            "ein": "12-3456789",
            "address": {"line1": "100 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"},
            "workweek_start": "monday",
            "sui": {"CA": {"rate": "0.034", "wage_base": "7000.00"}, "TX": {"rate": "0.027", "wage_base": "9000.00"}},
            "futa_credit_reduction": {"CA": "0.009"}
        })),
    )
    .await?;
    let mut locations = Vec::new();
    for body in [
        json!({"name": "Mission Street Bistro", "state": "CA", "locality": "San Francisco",
               "address": {"line1": "2100 Mission St", "city": "San Francisco", "state": "CA", "postal_code": "94110"}}),
        json!({"name": "Congress Avenue Grill", "state": "TX", "locality": "Austin",
               "address": {"line1": "600 Congress Ave", "city": "Austin", "state": "TX", "postal_code": "78701"}}),
    ] {
        locations.push(id_of(
            &c.call(Method::POST, "/locations", Some(body)).await?,
        )?);
    }
    let hourly = id_of(
        &c.call(
            Method::POST,
            "/pay-schedules",
            Some(
                json!({"name": "Hourly staff (biweekly)", "frequency": "biweekly",
                        "first_period_start": "2026-01-05", "pay_date_offset_days": 5}),
            ),
        )
        .await?,
    )?;
    let salaried = id_of(
        &c.call(
            Method::POST,
            "/pay-schedules",
            Some(
                json!({"name": "Managers (semimonthly)", "frequency": "semimonthly",
                        "first_period_start": "2026-01-01", "pay_date_offset_days": 0}),
            ),
        )
        .await?,
    )?;

    let start =
        chrono::NaiveDate::parse_from_str(PERIOD_START, "%Y-%m-%d").map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    let mut employees = 0;
    for (i, (first, last, role, loc)) in STAFF.iter().enumerate() {
        let state_code = if *loc == 0 { "CA" } else { "TX" };
        let manager = *role == "manager";
        let tipped = matches!(*role, "server" | "bartender");
        let mut body = json!({
            "first_name": first, "last_name": last,
            "email": format!("{}.{}@demo-bistro.example", first.to_lowercase(), last.to_lowercase()),
            "ssn": format!("5{:02}-{:02}-{:04}", 10 + i, 11 + i, 1001 + i * 37),
            "hire_date": format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 27),
            "location_id": locations[*loc],
            "pay_schedule_id": if manager { &salaried } else { &hourly },
            "tipped": tipped,
            "flsa_exempt": manager,
            "resident_state": state_code,
        });
        if manager {
            body["pay_type"] = json!("salary");
            body["annual_salary"] = json!(["68000.00", "72000.00", "75000.00", "82000.00"][i % 4]);
        } else {
            body["pay_type"] = json!("hourly");
            body["hourly_rate"] = json!(rate(role, *loc, i));
        }
        let emp = id_of(&c.call(Method::POST, "/employees", Some(body)).await?)?;
        employees += 1;
        let filing = ["single", "married_filing_jointly", "head_of_household"][i % 3];
        let mut state_w4 = json!({});
        if *loc == 0 {
            state_w4 = json!({"CA": {"filing_status": if i % 3 == 1 { "married" } else { "single" }, "allowances": (i % 3) as u32}});
        }
        c.call(
            Method::PUT,
            &format!("/employees/{emp}/tax-profile"),
            Some(json!({
                "federal_w4": {"form": "2020", "filing_status": filing, "dependents_amount": if i % 4 == 0 { "2000.00" } else { "0.00" }},
                "state_w4": state_w4
            })),
        )
        .await?;
        if i % 3 == 0 {
            c.call(
                Method::POST,
                &format!("/employees/{emp}/deductions"),
                Some(json!({"type": "401k", "percent": "4"})),
            )
            .await?;
        }
        if manager {
            continue;
        }
        // Two weeks: five shifts a week, some long ones (overtime), tips for servers and bartenders.
        for d in 0..DAYS {
            let day = start + chrono::Days::new(d);
            if (d + i as u64) % 7 >= 5 {
                continue; // two days off a week, staggered
            }
            let hours = ["6.5", "8", "9.5", "7.25", "10"][(d as usize + i) % 5];
            let mut e = json!({
                "external_id": format!("demo-{emp}-{day}"),
                "employee_id": emp,
                "date": day.to_string(),
                "hours": hours,
                "job": role,
                "rate": rate(role, *loc, i),
            });
            if tipped {
                let base = 60 + ((d as usize * 7 + i * 13) % 90);
                e["charged_tips"] = json!(format!("{base}.{:02}", (i * 17 + d as usize) % 100));
                e["cash_tips"] = json!(format!("{}.00", 10 + (d as usize + i) % 40));
            }
            entries.push(e);
        }
    }
    let n_entries = entries.len();
    c.call(
        Method::POST,
        "/time-entries/batch",
        Some(json!({"entries": entries})),
    )
    .await?;
    Ok(format!(
        "demo loaded: 2 locations (CA, TX), 2 pay schedules, {employees} employees, {n_entries} time entries for the period starting {PERIOD_START}"
    ))
}
