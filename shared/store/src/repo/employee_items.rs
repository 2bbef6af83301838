//! An employee's deductions, garnishments and bank accounts. DELETE marks a row deleted
//! (`deleted_at`) rather than removing it, so past payroll runs keep their meaning.
//! Account numbers arrive here already encrypted, with their last four digits.

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio_postgres::Row;
use uuid::Uuid;

/// Soft-delete one item of `employee_id` in `table`; true if a live row was deleted.
async fn soft_delete(
    tx: &TenantTx,
    table: &str,
    employee_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE {table} SET deleted_at = now(), version = version + 1, updated_at = now()
          WHERE tenant_id = $1 AND employee_id = $2 AND id = $3 AND deleted_at IS NULL"
    );
    let n = tx
        .client()
        .execute(&sql, &[&tx.tenant(), &employee_id, &id])
        .await?;
    Ok(n == 1)
}

/// The `active on date` filter shared by deductions and garnishments (`$3` is the date or NULL).
const ACTIVE_ON: &str = "deleted_at IS NULL
    AND ($3::date IS NULL OR ((start_date IS NULL OR start_date <= $3) AND (end_date IS NULL OR end_date >= $3)))";

// ---------------------------------------------------------------------------------------------
// Deductions

#[derive(Debug, Clone, PartialEq)]
pub struct Deduction {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// The calculation's deduction type (`401k`, `section_125`, ...).
    pub kind: String,
    pub amount: Option<Decimal>,
    pub percent: Option<Decimal>,
    pub annual_limit: Option<Decimal>,
    pub coverage: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewDeduction {
    pub kind: String,
    pub amount: Option<Decimal>,
    pub percent: Option<Decimal>,
    pub annual_limit: Option<Decimal>,
    pub coverage: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

const DED_COLS: &str = "id, employee_id, type, amount, percent, annual_limit, coverage, start_date, end_date, created_at, updated_at";

fn ded_from_row(r: &Row) -> Deduction {
    Deduction {
        id: r.get(0),
        employee_id: r.get(1),
        kind: r.get(2),
        amount: r.get(3),
        percent: r.get(4),
        annual_limit: r.get(5),
        coverage: r.get(6),
        start_date: r.get(7),
        end_date: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
    }
}

pub async fn insert_deduction(
    tx: &TenantTx,
    employee_id: Uuid,
    d: &NewDeduction,
) -> Result<Deduction, StoreError> {
    let sql = format!(
        "INSERT INTO deductions (tenant_id, id, employee_id, type, amount, percent, annual_limit,
            coverage, start_date, end_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {DED_COLS}"
    );
    let row = tx
        .client()
        .query_one(
            &sql,
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &employee_id,
                &d.kind,
                &d.amount,
                &d.percent,
                &d.annual_limit,
                &d.coverage,
                &d.start_date,
                &d.end_date,
            ],
        )
        .await?;
    Ok(ded_from_row(&row))
}

/// Live deductions in creation order; with `active_on`, only those in effect that day.
pub async fn list_deductions(
    tx: &TenantTx,
    employee_id: Uuid,
    active_on: Option<NaiveDate>,
) -> Result<Vec<Deduction>, StoreError> {
    let sql = format!(
        "SELECT {DED_COLS} FROM deductions WHERE tenant_id = $1 AND employee_id = $2 AND {ACTIVE_ON}
          ORDER BY created_at, id"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &employee_id, &active_on])
        .await?;
    Ok(rows.iter().map(ded_from_row).collect())
}

pub async fn get_deduction(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<Option<Deduction>, StoreError> {
    let sql = format!(
        "SELECT {DED_COLS} FROM deductions
          WHERE tenant_id = $1 AND employee_id = $2 AND id = $3 AND deleted_at IS NULL"
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &employee_id, &id])
        .await?;
    Ok(row.as_ref().map(ded_from_row))
}

pub async fn delete_deduction(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    soft_delete(tx, "deductions", employee_id, id).await
}

// ---------------------------------------------------------------------------------------------
// Garnishments

#[derive(Debug, Clone, PartialEq)]
pub struct Garnishment {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// `child_support`, `tax_levy`, `student_loan` or `creditor`.
    pub kind: String,
    pub amount: Option<Decimal>,
    pub percent: Option<Decimal>,
    pub limit_percent: Option<Decimal>,
    pub exempt_amount: Option<Decimal>,
    pub fee: Option<Decimal>,
    pub reference: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewGarnishment {
    pub kind: String,
    pub amount: Option<Decimal>,
    pub percent: Option<Decimal>,
    pub limit_percent: Option<Decimal>,
    pub exempt_amount: Option<Decimal>,
    pub fee: Option<Decimal>,
    pub reference: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

const GAR_COLS: &str = "id, employee_id, type, amount, percent, limit_percent, exempt_amount, fee, reference, start_date, end_date, created_at, updated_at";

fn gar_from_row(r: &Row) -> Garnishment {
    Garnishment {
        id: r.get(0),
        employee_id: r.get(1),
        kind: r.get(2),
        amount: r.get(3),
        percent: r.get(4),
        limit_percent: r.get(5),
        exempt_amount: r.get(6),
        fee: r.get(7),
        reference: r.get(8),
        start_date: r.get(9),
        end_date: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
    }
}

pub async fn insert_garnishment(
    tx: &TenantTx,
    employee_id: Uuid,
    g: &NewGarnishment,
) -> Result<Garnishment, StoreError> {
    let sql = format!(
        "INSERT INTO garnishments (tenant_id, id, employee_id, type, amount, percent, limit_percent,
            exempt_amount, fee, reference, start_date, end_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {GAR_COLS}"
    );
    let row = tx
        .client()
        .query_one(
            &sql,
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &employee_id,
                &g.kind,
                &g.amount,
                &g.percent,
                &g.limit_percent,
                &g.exempt_amount,
                &g.fee,
                &g.reference,
                &g.start_date,
                &g.end_date,
            ],
        )
        .await?;
    Ok(gar_from_row(&row))
}

/// Live garnishments in creation order (the order of priority among orders of the same type);
/// with `active_on`, only those in effect that day.
pub async fn list_garnishments(
    tx: &TenantTx,
    employee_id: Uuid,
    active_on: Option<NaiveDate>,
) -> Result<Vec<Garnishment>, StoreError> {
    let sql = format!(
        "SELECT {GAR_COLS} FROM garnishments WHERE tenant_id = $1 AND employee_id = $2 AND {ACTIVE_ON}
          ORDER BY created_at, id"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &employee_id, &active_on])
        .await?;
    Ok(rows.iter().map(gar_from_row).collect())
}

pub async fn get_garnishment(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<Option<Garnishment>, StoreError> {
    let sql = format!(
        "SELECT {GAR_COLS} FROM garnishments
          WHERE tenant_id = $1 AND employee_id = $2 AND id = $3 AND deleted_at IS NULL"
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &employee_id, &id])
        .await?;
    Ok(row.as_ref().map(gar_from_row))
}

pub async fn delete_garnishment(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    soft_delete(tx, "garnishments", employee_id, id).await
}

// ---------------------------------------------------------------------------------------------
// Bank accounts

#[derive(Debug, Clone, PartialEq)]
pub struct BankAccount {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub routing_number: String,
    /// AES-256-GCM ciphertext of the account number.
    pub account_number_enc: Vec<u8>,
    pub account_last4: String,
    /// `checking` or `savings`.
    pub account_type: String,
    /// `percent`, `amount` or `remainder`.
    pub split: String,
    pub percent: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub priority: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewBankAccount {
    pub routing_number: String,
    pub account_number_enc: Vec<u8>,
    pub account_last4: String,
    pub account_type: String,
    pub split: String,
    pub percent: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub priority: i32,
}

const BANK_COLS: &str = "id, employee_id, routing_number, account_number_enc, account_last4, account_type, split, percent, amount, priority, created_at, updated_at";

fn bank_from_row(r: &Row) -> BankAccount {
    BankAccount {
        id: r.get(0),
        employee_id: r.get(1),
        routing_number: r.get(2),
        account_number_enc: r.get(3),
        account_last4: r.get(4),
        account_type: r.get(5),
        split: r.get(6),
        percent: r.get(7),
        amount: r.get(8),
        priority: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
    }
}

/// Add an account. A second live `remainder` account is refused (`Invalid` on `split`), and the
/// live percentages may not add up to more than 100.
pub async fn insert_bank_account(
    tx: &TenantTx,
    employee_id: Uuid,
    b: &NewBankAccount,
) -> Result<BankAccount, StoreError> {
    // Serialize concurrent additions for the same employee.
    tx.client()
        .execute(
            "SELECT 1 FROM employees WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            &[&tx.tenant(), &employee_id],
        )
        .await?;
    let live = list_bank_accounts(tx, employee_id).await?;
    if b.split == "remainder" && live.iter().any(|a| a.split == "remainder") {
        return Err(StoreError::invalid(
            "split",
            "the employee already has a remainder account; delete it first",
        ));
    }
    if let Some(p) = b.percent {
        let total: Decimal = live.iter().filter_map(|a| a.percent).sum::<Decimal>() + p;
        if total > Decimal::ONE_HUNDRED {
            return Err(StoreError::invalid(
                "percent",
                format!("the employee's percentage splits would total {total}%, more than 100%"),
            ));
        }
    }
    let sql = format!(
        "INSERT INTO bank_accounts (tenant_id, id, employee_id, routing_number, account_number_enc,
            account_last4, account_type, split, percent, amount, priority)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {BANK_COLS}"
    );
    let row = tx
        .client()
        .query_one(
            &sql,
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &employee_id,
                &b.routing_number,
                &b.account_number_enc,
                &b.account_last4,
                &b.account_type,
                &b.split,
                &b.percent,
                &b.amount,
                &b.priority,
            ],
        )
        .await?;
    Ok(bank_from_row(&row))
}

/// Live accounts in payment order (priority, then creation).
pub async fn list_bank_accounts(
    tx: &TenantTx,
    employee_id: Uuid,
) -> Result<Vec<BankAccount>, StoreError> {
    let sql = format!(
        "SELECT {BANK_COLS} FROM bank_accounts
          WHERE tenant_id = $1 AND employee_id = $2 AND deleted_at IS NULL
          ORDER BY priority, created_at, id"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &employee_id])
        .await?;
    Ok(rows.iter().map(bank_from_row).collect())
}

pub async fn get_bank_account(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<Option<BankAccount>, StoreError> {
    let sql = format!(
        "SELECT {BANK_COLS} FROM bank_accounts
          WHERE tenant_id = $1 AND employee_id = $2 AND id = $3 AND deleted_at IS NULL"
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &employee_id, &id])
        .await?;
    Ok(row.as_ref().map(bank_from_row))
}

pub async fn delete_bank_account(
    tx: &TenantTx,
    employee_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    soft_delete(tx, "bank_accounts", employee_id, id).await
}
