//! Pure US payroll calculation (no I/O, no async, no clock).
//!
//! `calculate(&PaycheckRequest) -> PaycheckResult` runs the pipeline of DESIGN §3:
//! hours → earnings → pre-tax deductions → taxes → post-tax deductions and garnishments → net,
//! with rule packs selected by pay date and a trace on every line.

pub mod calc;
pub mod deductions;
pub mod earnings;
pub mod error;
pub mod federal;
pub mod garnish;
pub mod hours;
mod json;
pub mod money;
pub mod request;
pub mod response;
pub mod rules;
pub mod runs;
pub mod schedule;
pub mod state;
pub mod trace;
pub mod validate;

pub use calc::{calculate, calculate_json};
pub use error::CalcError;
pub use request::{PaycheckRequest, parse_request};
pub use response::PaycheckResult;
