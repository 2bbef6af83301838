//! `payroll calc [FILE]`: one request in, one result out.

use crate::cli::CalcArgs;
use crate::failure::Failure;
use crate::io;
use payroll_domain::{CalcError, calculate, parse_request};
use std::io::Write;

/// Calculate one request given as JSON text; the result as JSON (compact or indented).
pub fn calculate_text(json: &str, pretty: bool) -> Result<String, CalcError> {
    let req = parse_request(json)?;
    let res = calculate(&req)?;
    if pretty {
        serde_json::to_string_pretty(&res)
            .map_err(|e| CalcError::Invariant(format!("serialize the result: {e}")))
    } else {
        Ok(res.to_json())
    }
}

pub fn run(a: &CalcArgs) -> Result<(), Failure> {
    let text = io::read_all(a.file.as_ref())?;
    // Everything is computed before anything is written: on error stdout stays empty.
    let json = calculate_text(&text, a.pretty)?;
    let mut out = io::open_output(a.output.as_ref())?;
    out.write_all(json.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| io::write_failure(&e))
}
