//! Output comparison: one request per stdin line → its `calculate_json` output (or `ERR field |
//! message`) per stdout line. Run the old and the new build over the same file and `cmp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io::{BufRead, Write};
fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        if line.trim().is_empty() {
            continue;
        }
        match payroll_domain::calculate_json(&line) {
            Ok(s) => writeln!(out, "{s}").unwrap(),
            Err(e) => writeln!(out, "ERR {} | {}", e.field(), e).unwrap(),
        }
    }
}
