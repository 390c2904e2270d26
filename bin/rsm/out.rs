//! Everything `rsm` prints goes through here: results on stdout, errors and
//! warnings on stderr. Nothing here panics. A reader that closed stdout
//! (`rsm show media | head -1`) ends the output quietly
//! ([`Failure::Closed`]); any other write error (a full disk) is
//! [`Failure::Output`], which `main` reports on stderr with a non-zero exit.
//!
//! Human output is escaped: names, bar codes, device strings and principals
//! come from outside (the command line, a device, an old log), and none of
//! them may steer the terminal or forge a line. Each [`line`] and [`error`]
//! is escaped whole; multi-line [`text`] is built from escaped parts (tables
//! escape their cells). JSON is escaped by serde.

use crate::Failure;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Write};

/// Writes `text` to stdout as it is, and flushes it: an error shows up here,
/// not at exit.
pub fn text(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Failure::output)
}

/// One line on stdout, escaped.
pub fn line(line: &str) -> Result<(), Failure> {
    text(&format!("{}\n", escape(line)))
}

/// One JSON document on stdout, on one line.
pub fn json(document: &Value) -> Result<(), Failure> {
    text(&format!("{document}\n"))
}

/// The document that reports a failure: the failure decides the exit
/// status, so a stdout that cannot take it (a full disk) is only said on
/// stderr; a closed one is the reader's choice and is not.
pub fn failure_json(document: &Value) {
    if let Err(Failure::Output(e)) = json(document) {
        error(&format!("rsm: cannot write the JSON report to standard output: {e}"));
    }
}

/// One line on stderr, escaped. Errors are dropped: stderr is where they
/// would be reported.
pub fn error(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", escape(line)).and_then(|()| err.flush());
}

/// A warning on stderr.
pub fn warn(message: &str) {
    error(&format!("rsm: warning: {message}"));
}

/// `text` with every character that could steer a terminal or break a line
/// written as an escape: control characters (`\n`, `\u{1b}`, C1 controls)
/// and the invisible format characters that reorder or hide text (`\u{202e}`).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if c.is_control() => escaped.extend(c.escape_debug()),
            c if needs_escape(c) => escaped.extend(c.escape_unicode()),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Control characters, line separators, and what the model's name rule
/// calls invisible (format characters, fillers: `limits::is_plain`); plain
/// spaces stay.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || (!c.is_whitespace() && !rsm::limits::is_plain(c))
}

/// Resolves once standard output is a pipe whose reader has gone (checked
/// twice a second): a command that waits for something to print ends then
/// instead of holding the store until it next writes.
pub async fn reader_gone() {
    loop {
        let mut fd = libc::pollfd { fd: libc::STDOUT_FILENO, events: 0, revents: 0 };
        // SAFETY: poll reads and writes the one pollfd given, which lives on
        // this stack frame; a zero timeout never blocks.
        let ready = unsafe { libc::poll(&mut fd, 1, 0) };
        if ready > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_what_steers_a_terminal_and_nothing_else() {
        assert_eq!(escape("lib1-drive-1"), "lib1-drive-1");
        assert_eq!(escape("DOMAIN\\bob é"), "DOMAIN\\bob é");
        assert_eq!(escape("ev\nil"), "ev\\nil");
        assert_eq!(escape("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
    }
}
