//! Company settings: one row per tenant (created with the tenant), read and replaced as a whole.

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use tokio_postgres::Row;
use uuid::Uuid;

/// State unemployment insurance: the employer's rate (a fraction) and the taxable wage base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiRate {
    pub rate: Decimal,
    pub wage_base: Decimal,
}

/// The stored company settings of the transaction's tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanySettings {
    pub tenant_id: Uuid,
    pub legal_name: String,
    pub ein: Option<String>,
    /// A JSON object (`{}` when not set).
    pub address: Value,
    /// `monday` .. `sunday`.
    pub workweek_start: String,
    /// By state code, e.g. `{"CA": {"rate": "0.034", "wage_base": "7000.00"}}`.
    pub sui: BTreeMap<String, SuiRate>,
    /// By state code, e.g. `{"CA": "0.009"}`.
    pub futa_credit_reduction: BTreeMap<String, Decimal>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A full replacement of the settings (validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyUpdate {
    pub legal_name: String,
    pub ein: Option<String>,
    pub address: Value,
    pub workweek_start: String,
    pub sui: BTreeMap<String, SuiRate>,
    pub futa_credit_reduction: BTreeMap<String, Decimal>,
}

const COLUMNS: &str = "tenant_id, legal_name, ein, address, workweek_start, sui, futa_credit_reduction, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<CompanySettings, StoreError> {
    let sui: Value = r.try_get(5)?;
    let futa: Value = r.try_get(6)?;
    Ok(CompanySettings {
        tenant_id: r.try_get(0)?,
        legal_name: r.try_get(1)?,
        ein: r.try_get(2)?,
        address: r.try_get(3)?,
        workweek_start: r.try_get(4)?,
        sui: serde_json::from_value(sui)
            .map_err(|e| StoreError::Config(format!("company_settings.sui is malformed: {e}")))?,
        futa_credit_reduction: serde_json::from_value(futa).map_err(|e| {
            StoreError::Config(format!(
                "company_settings.futa_credit_reduction is malformed: {e}"
            ))
        })?,
        version: r.try_get(7)?,
        created_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
    })
}

/// The settings of the transaction's tenant.
pub async fn get(tx: &TenantTx) -> Result<CompanySettings, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLUMNS} FROM company_settings WHERE tenant_id = $1"),
            &[&tx.tenant()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The settings, locked until the end of the transaction (read before an update).
pub async fn get_for_update(tx: &TenantTx) -> Result<CompanySettings, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLUMNS} FROM company_settings WHERE tenant_id = $1 FOR UPDATE"),
            &[&tx.tenant()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Replace the settings if the stored version is still `expected_version`; bumps the version.
pub async fn update(
    tx: &TenantTx,
    u: &CompanyUpdate,
    expected_version: i64,
) -> Result<CompanySettings, StoreError> {
    let sui = serde_json::to_value(&u.sui).map_err(|e| StoreError::Config(e.to_string()))?;
    let futa = serde_json::to_value(&u.futa_credit_reduction)
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let row = tx
        .client()
        .query_opt(
            &format!(
                "UPDATE company_settings
                    SET legal_name = $2, ein = $3, address = $4, workweek_start = $5, sui = $6,
                        futa_credit_reduction = $7, version = version + 1, updated_at = now()
                  WHERE tenant_id = $1 AND version = $8
              RETURNING {COLUMNS}"
            ),
            &[
                &tx.tenant(),
                &u.legal_name,
                &u.ein,
                &u.address,
                &u.workweek_start,
                &sui,
                &futa,
                &expected_version,
            ],
        )
        .await?;
    match row {
        Some(r) => from_row(&r),
        None => {
            let current = get(tx).await?;
            Err(StoreError::Stale {
                current: format!("\"v{}\"", current.version),
            })
        }
    }
}
