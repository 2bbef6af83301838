//! `payroll calc --batch FILE.jsonl [--output OUT]`: one request per line in, one result per line
//! out, in input order.
//!
//! The input is processed in chunks of `CHUNK` lines so memory stays bounded however long the file
//! is. Three stages overlap: while the worker threads calculate chunk k (rayon, order kept by an
//! indexed `collect`), the calling thread writes the results of chunk k−1 and reads chunk k+1.

use crate::cli::CalcArgs;
use crate::failure::{EXIT_INPUT, EXIT_INTERNAL, Failure, message_of, one_line};
use crate::io;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payroll_domain::{CalcError, calculate_json};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};

/// Lines per chunk: large enough to keep every core busy, small enough to bound memory.
pub const CHUNK: usize = 4096;

/// A chunk of input: the non-blank lines' bytes in one buffer, with their input line numbers.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    /// (input line number, start, end) into `data`.
    lines: Vec<(u64, usize, usize)>,
    /// Bytes read for this chunk (blank lines included).
    bytes: u64,
    eof: bool,
}

impl Chunk {
    fn line(&self, i: usize) -> &[u8] {
        let (_, s, e) = self.lines[i];
        &self.data[s..e]
    }
}

/// Read up to `CHUNK` non-blank lines; `line_no` counts every input line.
fn read_chunk(r: &mut dyn BufRead, line_no: &mut u64) -> std::io::Result<Chunk> {
    let mut c = Chunk {
        data: Vec::with_capacity(CHUNK * 1024),
        lines: Vec::with_capacity(CHUNK),
        ..Chunk::default()
    };
    while c.lines.len() < CHUNK {
        let start = c.data.len();
        let n = r.read_until(b'\n', &mut c.data)?;
        if n == 0 {
            c.eof = true;
            break;
        }
        c.bytes += n as u64;
        *line_no += 1;
        if c.data[start..].iter().all(u8::is_ascii_whitespace) {
            c.data.truncate(start);
            continue;
        }
        c.lines.push((*line_no, start, c.data.len()));
    }
    Ok(c)
}

/// Calculate one line: the compact JSON result, or the error.
pub fn calc_line(bytes: &[u8]) -> Result<String, CalcError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| CalcError::invalid("request", format!("line is not valid UTF-8 ({e})")))?;
    calculate_json(text)
}

fn compute(c: &Chunk) -> Vec<Result<String, CalcError>> {
    (0..c.lines.len())
        .into_par_iter()
        .map(|i| calc_line(c.line(i)))
        .collect()
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    line: u64,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    field: &'a str,
    message: String,
}

/// The output line for a failed input line.
pub fn error_line(line: u64, e: &CalcError) -> String {
    let v = ErrorLine {
        line,
        error: ErrorBody {
            code: e.code(),
            field: e.field(),
            message: one_line(&message_of(e)),
        },
    };
    // Serializing plain strings and numbers cannot fail; keep a valid line regardless.
    serde_json::to_string(&v).unwrap_or_else(|_| format!("{{\"line\":{line}}}"))
}

#[derive(Default)]
struct Stats {
    ok: u64,
    invalid: u64,
    internal: u64,
}

fn write_results(
    out: &mut dyn Write,
    c: &Chunk,
    results: &[Result<String, CalcError>],
    stats: &mut Stats,
    pb: Option<&ProgressBar>,
) -> Result<(), Failure> {
    for (i, r) in results.iter().enumerate() {
        let w = match r {
            Ok(json) => {
                stats.ok += 1;
                out.write_all(json.as_bytes())
            }
            Err(e) => {
                let line = c.lines[i].0;
                if e.is_client_error() {
                    stats.invalid += 1;
                } else {
                    stats.internal += 1;
                }
                let msg = format!("line {line}: error: {}", one_line(&e.to_string()));
                match pb {
                    Some(pb) => pb.suspend(|| eprintln!("{msg}")),
                    None => eprintln!("{msg}"),
                }
                out.write_all(error_line(line, e).as_bytes())
            }
        };
        w.and_then(|()| out.write_all(b"\n"))
            .map_err(|e| io::write_failure(&e))?;
    }
    Ok(())
}

fn progress_bar(total_bytes: Option<u64>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = match total_bytes {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total_bytes.is_some() {
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}"
    } else {
        "{spinner} {bytes} {binary_bytes_per_sec} {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    Some(pb)
}

pub fn run(a: &CalcArgs) -> Result<(), Failure> {
    let name = io::input_name(a.file.as_deref());
    let (mut reader, size) = io::open_input(a.file.as_ref())?;
    let mut out = io::open_output(a.output.as_ref())?;
    let pb = progress_bar(size);
    let read_err = |e: std::io::Error| Failure::input(format!("{name}: cannot read: {e}"));

    let mut stats = Stats::default();
    let mut line_no = 0u64;
    let mut cur = read_chunk(&mut reader, &mut line_no).map_err(read_err)?;
    let mut prev: Option<(Chunk, Vec<Result<String, CalcError>>)> = None;
    loop {
        if let Some(pb) = &pb {
            pb.inc(cur.bytes);
        }
        let eof = cur.eof;
        let (results, side) = rayon::join(
            || compute(&cur),
            || -> Result<Option<Chunk>, Failure> {
                if let Some((c, r)) = prev.take() {
                    write_results(&mut out, &c, &r, &mut stats, pb.as_ref())?;
                    if let Some(pb) = &pb {
                        pb.set_message(format!("{} requests", stats.ok + stats.invalid));
                    }
                }
                if eof {
                    Ok(None)
                } else {
                    read_chunk(&mut reader, &mut line_no)
                        .map(Some)
                        .map_err(read_err)
                }
            },
        );
        let next = side?;
        prev = Some((cur, results));
        match next {
            Some(n) => cur = n,
            None => break,
        }
    }
    if let Some((c, r)) = prev.take() {
        write_results(&mut out, &c, &r, &mut stats, pb.as_ref())?;
    }
    out.flush().map_err(|e| io::write_failure(&e))?;
    if let Some(pb) = &pb {
        pb.finish_and_clear();
        eprintln!(
            "{} requests: {} calculated, {} invalid, {} internal errors",
            stats.ok + stats.invalid + stats.internal,
            stats.ok,
            stats.invalid,
            stats.internal
        );
    }
    if stats.internal > 0 {
        Err(Failure::silent(EXIT_INTERNAL))
    } else if stats.invalid > 0 {
        Err(Failure::silent(EXIT_INPUT))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn chunks_skip_blank_lines_but_keep_numbering() {
        let input = b"{\"a\":1}\n\n   \r\n{\"b\":2}\r\n{\"c\":3}";
        let mut r: &[u8] = input;
        let mut n = 0;
        let c = read_chunk(&mut r, &mut n).unwrap();
        assert!(c.eof);
        assert_eq!(n, 5);
        let nums: Vec<u64> = c.lines.iter().map(|l| l.0).collect();
        assert_eq!(nums, vec![1, 4, 5]);
        assert_eq!(c.line(0), b"{\"a\":1}\n");
        assert_eq!(c.line(2), b"{\"c\":3}");
        assert_eq!(c.bytes, input.len() as u64);
    }

    #[test]
    fn chunk_stops_at_chunk_size() {
        let input = "{}\n".repeat(CHUNK + 3);
        let mut r = input.as_bytes();
        let mut n = 0;
        let a = read_chunk(&mut r, &mut n).unwrap();
        assert_eq!((a.lines.len(), a.eof), (CHUNK, false));
        let b = read_chunk(&mut r, &mut n).unwrap();
        assert_eq!((b.lines.len(), b.eof), (3, true));
        assert_eq!(b.lines[0].0, CHUNK as u64 + 1);
    }

    #[test]
    fn error_line_shape() {
        let e = CalcError::invalid("time_entries[0].hours", "must not be negative");
        assert_eq!(
            error_line(7, &e),
            r#"{"line":7,"error":{"code":"invalid_request","field":"time_entries[0].hours","message":"must not be negative"}}"#
        );
    }

    #[test]
    fn invalid_utf8_is_a_request_error() {
        let e = calc_line(b"{\"pay_date\": \"\xff\"}").unwrap_err();
        assert_eq!(e.field(), "request");
        assert!(e.is_client_error());
    }
}
