//! Input and output streams: a file or standard input/output (`-`).

use crate::failure::{EXIT_INTERNAL, Failure};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Buffer size for batch input and output.
pub const BUF: usize = 1 << 20;

/// How the input is named in error messages.
pub fn input_name(path: Option<&Path>) -> String {
    match path {
        Some(p) if p != Path::new("-") => p.display().to_string(),
        _ => "stdin".to_owned(),
    }
}

fn is_stdio(path: Option<&PathBuf>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

/// Open the input for reading. The size is known for a regular file (for the progress bar).
pub fn open_input(
    path: Option<&PathBuf>,
) -> Result<(Box<dyn BufRead + Send>, Option<u64>), Failure> {
    if is_stdio(path) {
        return Ok((Box::new(BufReader::with_capacity(BUF, io::stdin())), None));
    }
    let p = path.map(PathBuf::as_path).unwrap_or(Path::new("-"));
    let f =
        File::open(p).map_err(|e| Failure::input(format!("{}: cannot read: {e}", p.display())))?;
    let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(BUF, f)), len))
}

/// Read the whole input as UTF-8 text.
pub fn read_all(path: Option<&PathBuf>) -> Result<String, Failure> {
    let name = input_name(path.map(PathBuf::as_path));
    let (mut r, _) = open_input(path)?;
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| Failure::input(format!("request: {name} is not valid UTF-8 ({e})")))
}

/// Open the output for writing (buffered).
pub fn open_output(path: Option<&PathBuf>) -> Result<BufWriter<Box<dyn Write + Send>>, Failure> {
    if is_stdio(path) {
        return Ok(BufWriter::with_capacity(BUF, Box::new(io::stdout())));
    }
    let p = path.map(PathBuf::as_path).unwrap_or(Path::new("-"));
    let f = File::create(p)
        .map_err(|e| Failure::input(format!("{}: cannot create: {e}", p.display())))?;
    Ok(BufWriter::with_capacity(BUF, Box::new(f)))
}

/// A failed write: silent for a closed pipe (`payroll generate ... | head`), else exit 1.
pub fn write_failure(e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::silent(0)
    } else {
        Failure {
            code: EXIT_INTERNAL,
            message: Some(format!("output: cannot write: {e}")),
        }
    }
}
