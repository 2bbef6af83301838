//! Pay stubs (the `paystubs` group, `functions/api-paystubs`): `GET /paystubs?employee_id=&year=`
//! lists an employee's final stubs; `GET /paystubs/{id}` returns one as JSON — the stored
//! paycheck (`current`), year-to-date wages (`ytd`) and the `statement`: every line with its
//! current and year-to-date amounts and the explanation of how it was calculated — or, with
//! `Accept: application/pdf`, the same statement as a PDF.
//!
//! Stubs are written when a run is paid (`payroll_runs::engine::pay`). An `employee` token sees
//! only its own stubs (another employee's answer 404); staff roles read every stub of their
//! tenant.

mod pdf;
mod render;
pub mod statement;

use crate::auth::{Auth, Permission, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, parse_id};
use crate::state::SharedState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use payroll_runs::engine::{self, PayStub};
use payroll_store::TenantTx;
use payroll_store::crypto::mask_ssn;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use statement::{Employee, Employer, Lines, ResultIn, Statement, StubHead, YtdStub};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_stubs, get_stub),
    components(schemas(StubOut, StubList)),
    tags((name = "paystubs", description = "Final pay stubs: JSON with current and year-to-date lines and their explanations, or PDF"))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/paystubs", get(list_stubs))
        .route("/paystubs/{id}", get(get_stub))
}

fn money(d: Decimal) -> String {
    statement::money(d)
}

/// A final pay stub: this paycheck's lines (current) and year-to-date after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StubOut {
    pub id: Uuid,
    pub run_id: Uuid,
    /// `regular`, `off_cycle` or `correction` (a reversal: negative amounts).
    pub run_type: String,
    pub employee_id: Uuid,
    pub pay_date: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = String)]
    pub gross_pay: String,
    #[schema(value_type = String)]
    pub net_pay: String,
    #[schema(value_type = String)]
    pub employee_taxes: String,
    #[schema(value_type = String)]
    pub employer_taxes: String,
    /// The paycheck: earnings, taxes, deductions, garnishments and the trace explaining each line.
    #[schema(value_type = Object)]
    pub current: Value,
    /// Year-to-date after this stub (gross, taxable wages by tax, 401(k)).
    #[schema(value_type = Object)]
    pub ytd: Value,
    /// `GET /paystubs/{id}` only: the stub as printed — employer, employee (SSN masked), each
    /// earnings (hours × rate), tax, deduction, garnishment and employer line with `current`,
    /// `ytd` and `explanation`, the totals and net pay.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub statement: Option<Statement>,
    pub created_at: DateTime<Utc>,
}

impl From<PayStub> for StubOut {
    fn from(s: PayStub) -> StubOut {
        StubOut {
            id: s.id,
            run_id: s.run_id,
            run_type: s.run_type,
            employee_id: s.employee_id,
            pay_date: s.pay_date,
            period_start: s.period_start,
            period_end: s.period_end,
            gross_pay: money(s.gross_pay),
            net_pay: money(s.net_pay),
            employee_taxes: money(s.employee_taxes),
            employer_taxes: money(s.employer_taxes),
            current: s.result,
            ytd: s.ytd,
            statement: None,
            created_at: s.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StubList {
    pub items: Vec<StubOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StubParams {
    /// Required for staff; an employee token defaults to its own employee.
    pub employee_id: Option<String>,
    pub year: Option<i32>,
}

/// An employee's pay stubs, by pay date (an `employee` token sees only its own).
#[utoipa::path(get, path = "/paystubs", tag = "paystubs", params(StubParams),
    responses((status = 200, body = StubList), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn list_stubs(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StubParams>,
) -> ApiResult<Response> {
    let employee_id = match q
        .employee_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => {
            Uuid::parse_str(s).map_err(|_| ApiError::validation("employee_id", "must be a UUID"))?
        }
        None if auth.roles.contains(&Role::Employee) && !auth.allows(Permission::Read) => {
            auth.employee_id.ok_or_else(ApiError::forbidden)?
        }
        None => return Err(ApiError::validation("employee_id", "is required")),
    };
    auth.require_employee_read(employee_id)?;
    if let Some(y) = q.year
        && !(1900..=2200).contains(&y)
    {
        return Err(ApiError::validation("year", "must be a calendar year"));
    }
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let stubs = engine::list_stubs(&tx, employee_id, q.year).await?;
    tx.commit().await?;
    Ok(axum::Json(StubList {
        items: stubs.into_iter().map(StubOut::from).collect(),
    })
    .into_response())
}

/// Does the request ask for a PDF (`Accept` naming `application/pdf` without `q=0`)?
fn wants_pdf(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let is_pdf = parts
                .next()
                .is_some_and(|m| m.eq_ignore_ascii_case("application/pdf"));
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            is_pdf && !refused
        })
}

/// One pay stub: current and year-to-date amounts and the explanation of each line, as JSON,
/// or as a PDF with `Accept: application/pdf`.
#[utoipa::path(get, path = "/paystubs/{id}", tag = "paystubs",
    responses((status = 200, body = StubOut,
               description = "The stub (JSON), or the printable stub with `Accept: application/pdf` (application/pdf)"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn get_stub(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    if !auth.allows(Permission::Read) && !auth.roles.contains(&Role::Employee) {
        return Err(ApiError::forbidden());
    }
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let stub = engine::get_stub(&tx, id).await?;
    if let Err(e) = auth.require_employee_read(stub.employee_id) {
        tx.rollback().await?;
        return Err(e);
    }
    let statement = load_statement(&tx, &stub).await?;
    tx.commit().await?;
    if wants_pdf(&headers) {
        let bytes = render::pdf(&statement);
        let mut resp = (StatusCode::OK, bytes).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!(
            "inline; filename=\"paystub-{}-{}.pdf\"",
            stub.pay_date, stub.id
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        h.insert(header::VARY, HeaderValue::from_static("accept"));
        return Ok(resp);
    }
    let mut out = StubOut::from(stub);
    out.statement = Some(statement);
    let mut resp = axum::Json(out).into_response();
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(resp)
}

fn bad_stored(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored pay stub {what}: {e}"))
}

fn parse_lines<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    what: &str,
) -> Result<Vec<T>, ApiError> {
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str::<Option<Vec<T>>>(&t)
            .map(Option::unwrap_or_default)
            .map_err(|e| bad_stored(what, e)),
    }
}

/// The statement of a stub: its paycheck (read as text, so trace steps keep their order), the
/// employer and employee, and the employee's stubs of the year up to this one.
async fn load_statement(tx: &TenantTx, stub: &PayStub) -> Result<Statement, ApiError> {
    let c = tx.client();
    let text: String = c
        .query_one(
            "SELECT result::text FROM pay_stubs WHERE tenant_id = $1 AND id = $2",
            &[&tx.tenant(), &stub.id],
        )
        .await
        .map_err(payroll_store::StoreError::from)?
        .get(0);
    let result: ResultIn = serde_json::from_str(&text).map_err(|e| bad_stored("result", e))?;

    let row = c
        .query_opt(
            "SELECT e.first_name, e.last_name, e.ssn_last4, e.home_address,
                    c.legal_name, c.ein, c.address
               FROM employees e
               LEFT JOIN company_settings c ON c.tenant_id = e.tenant_id
              WHERE e.tenant_id = $1 AND e.id = $2",
            &[&tx.tenant(), &stub.employee_id],
        )
        .await
        .map_err(payroll_store::StoreError::from)?
        .ok_or_else(ApiError::not_found)?;
    let first: String = row.get(0);
    let last: String = row.get(1);
    let ssn_last4: Option<String> = row.get(2);
    let home: Option<Value> = row.get(3);
    let employee = Employee {
        id: stub.employee_id,
        name: format!("{first} {last}"),
        ssn: ssn_last4.as_deref().map(mask_ssn),
        address: statement::address_lines(home.as_ref()),
    };
    let company_address: Option<Value> = row.get(6);
    let employer = Employer {
        name: row.get::<_, Option<String>>(4).unwrap_or_default(),
        ein: row
            .get::<_, Option<String>>(5)
            .filter(|e| !e.trim().is_empty()),
        address: statement::address_lines(company_address.as_ref()),
    };

    let rows = c
        .query(
            "SELECT r.type, (s.result->'earnings')::text, (s.result->'taxes')::text,
                    (s.result->'deductions')::text, (s.result->'garnishments')::text,
                    s.gross_pay, s.net_pay, s.employee_taxes, s.employer_taxes
               FROM pay_stubs s
               JOIN payroll_runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
              WHERE s.tenant_id = $1 AND s.employee_id = $2 AND s.year = $3
                AND (s.pay_date, s.created_at, s.id) <= ($4, $5, $6)
              ORDER BY s.pay_date, s.created_at, s.id",
            &[
                &tx.tenant(),
                &stub.employee_id,
                &stub.year,
                &stub.pay_date,
                &stub.created_at,
                &stub.id,
            ],
        )
        .await
        .map_err(payroll_store::StoreError::from)?;
    let mut ytd = Vec::with_capacity(rows.len());
    for r in &rows {
        let run_type: String = r.get(0);
        ytd.push(YtdStub {
            sign: statement::stub_sign(&run_type),
            lines: Lines {
                earnings: parse_lines(r.get(1), "earnings")?,
                taxes: parse_lines(r.get(2), "taxes")?,
                deductions: parse_lines(r.get(3), "deductions")?,
                garnishments: parse_lines(r.get(4), "garnishments")?,
            },
            gross_pay: r.get(5),
            net_pay: r.get(6),
            employee_taxes: r.get(7),
            employer_taxes: r.get(8),
        });
    }
    let head = StubHead {
        stub_id: stub.id,
        run_id: stub.run_id,
        run_type: stub.run_type.clone(),
        pay_date: stub.pay_date,
        period_start: stub.period_start,
        period_end: stub.period_end,
        gross_pay: stub.gross_pay,
        net_pay: stub.net_pay,
        employee_taxes: stub.employee_taxes,
        employer_taxes: stub.employer_taxes,
    };
    Ok(statement::build(&head, &result, &ytd, employer, employee))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn pdf_is_chosen_by_accept() {
        assert!(wants_pdf(&accept("application/pdf")));
        assert!(wants_pdf(&accept(
            "application/json;q=0.5, Application/PDF"
        )));
        assert!(!wants_pdf(&accept("application/pdf;q=0, application/json")));
        assert!(!wants_pdf(&accept("application/json")));
        assert!(!wants_pdf(&HeaderMap::new()));
    }
}
