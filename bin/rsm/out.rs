//! Everything `rsm` prints goes through here: results on stdout, errors and
//! warnings on stderr. Nothing here panics. A reader that closed stdout
//! (`rsm show media | head -1`) ends the output quietly
//! ([`Failure::Closed`]); any other write error (a full disk) is
//! [`Failure::Output`], which `main` reports on stderr with a non-zero exit.

use crate::Failure;
use serde_json::Value;
use std::io::{self, Write};

/// Writes `text` to stdout as it is, and flushes it: an error shows up here,
/// not at exit.
pub fn text(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Failure::output)
}

/// One line on stdout.
pub fn line(line: &str) -> Result<(), Failure> {
    text(&format!("{line}\n"))
}

/// One JSON document on stdout, on one line.
pub fn json(document: &Value) -> Result<(), Failure> {
    line(&document.to_string())
}

/// One line on stderr. Errors are dropped: stderr is where they would be
/// reported.
pub fn error(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|()| err.flush());
}

/// A warning on stderr.
pub fn warn(message: &str) {
    error(&format!("rsm: warning: {message}"));
}
