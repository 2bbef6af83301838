//! Payroll runs end to end (DESIGN §4): create a run for a schedule's period, calculate it in
//! chunks through a [`payroll_queue::JobQueue`], approve it against its `calc_hash`, pay it (pay
//! stubs and YTD in the same transaction), void it (a linked reversal run for a paid one).
//!
//! Exactly once: results are upserted keyed by (run, employee) and only over a `pending` row of
//! the current calculation attempt, so a duplicated or redelivered chunk changes nothing; chunks
//! persist under a lock on the run row, and the statement that records a chunk's progress also
//! flips the run to `calculated` — with its `inputs_hash`, `calc_hash` and totals computed in SQL
//! over every item — when the last employee is done.

pub mod engine;
pub mod load;
pub mod scheduler;
pub mod worker;

pub use engine::{
    ChunkOutcome, NewRun, Run, RunItem, approve, calculate, create_run, fail_chunk, get_run,
    get_stub, list_items, list_stubs, pay, process_chunk, void,
};

use sha2::{Digest, Sha256};

/// An error with its sources (`database: db error: ERROR: could not extend file ...`): the
/// database's own message is in the source, and it is what an operator reading a failed run or
/// a dead-lettered chunk needs. Parts a message already ends with are not repeated.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The run hash over `(employee_id, input_hash, result_hash)` items
/// (`payroll_domain::runs::canonical_text`); with empty result hashes, the inputs hash.
pub fn run_hash(items: &[(String, String, String)]) -> String {
    sha256_hex(payroll_domain::runs::canonical_text(items).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("disk full on the data volume")]
    struct Root;

    #[derive(Debug, thiserror::Error)]
    #[error("db error")]
    struct Client(#[source] Root);

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        /// Ends with its source's text: that part is not repeated.
        #[error("database: db error")]
        Db(#[source] Client),
    }

    #[test]
    fn error_chain_names_every_source_once() {
        let e = Outer::Db(Client(Root));
        assert_eq!(e.to_string(), "database: db error");
        assert_eq!(
            error_chain(&e),
            "database: db error: disk full on the data volume"
        );
        assert_eq!(error_chain(&Root), "disk full on the data volume");
    }
}
