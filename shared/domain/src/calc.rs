//! The pipeline. (Placeholder: being written.)
use crate::{CalcError, PaycheckRequest, PaycheckResult};

pub fn calculate(_req: &PaycheckRequest) -> Result<PaycheckResult, CalcError> {
    Err(CalcError::Invariant("not implemented yet".into()))
}

pub fn calculate_json(json: &str) -> Result<String, CalcError> {
    let req = crate::parse_request(json)?;
    let res = calculate(&req)?;
    serde_json::to_string(&res).map_err(|e| CalcError::Invariant(e.to_string()))
}
