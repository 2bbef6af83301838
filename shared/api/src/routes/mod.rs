//! Endpoint groups. Each Lambda function serves one group; `payroll serve` serves them all.

use crate::state::SharedState;
use axum::Router;

pub mod audit;
pub mod company;
pub mod employees;
pub mod ops;
pub mod paychecks;
pub mod paystubs;
pub mod runs;
pub mod time;

/// The endpoint groups, one per `functions/api-*` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `/company`, `/locations`, `/pay-schedules`
    Company,
    /// `/employees` and their compensations, tax profile, deductions, garnishments, bank accounts
    Employees,
    /// `/time-entries`
    Time,
    /// `/paychecks/calculate`, `/rule-packs`
    Paychecks,
    /// `/audit-events`
    Audit,
    /// `/payroll-runs`
    Runs,
    /// `/paystubs` (JSON or PDF)
    Paystubs,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Company,
        Group::Employees,
        Group::Time,
        Group::Paychecks,
        Group::Audit,
        Group::Runs,
        Group::Paystubs,
    ];

    /// The group's routes, relative to the base path `/api/payroll/v1`.
    pub fn router(self) -> Router<SharedState> {
        match self {
            Group::Company => company::router(),
            Group::Employees => employees::router(),
            Group::Time => time::router(),
            Group::Paychecks => paychecks::router(),
            Group::Audit => audit::router(),
            Group::Runs => runs::router(),
            Group::Paystubs => paystubs::router(),
        }
    }
}
