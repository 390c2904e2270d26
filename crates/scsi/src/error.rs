//! The one error every parser returns, and the bounds-checked readers they
//! are built from.

/// Why a response could not be parsed: which structure, where, and what was
/// wrong with it.
///
/// Parsers never panic; everything they cannot read becomes one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}: {kind}")]
pub struct ParseError {
    /// The field or structure being read (`"sense key"`, `"element status page header"`).
    pub what: &'static str,
    /// Offset of that field from the start of the data given to the parser.
    pub offset: usize,
    /// What was wrong with it.
    pub kind: ParseErrorKind,
}

/// The ways a response can be unreadable.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The data ends before a field the format requires. For the INQUIRY and
    /// MODE SENSE parsers this usually means the allocation length was too
    /// small: read again with at least `needed` bytes.
    #[error("data ends at byte {available}, {needed} bytes needed")]
    Truncated {
        /// Bytes needed to read the field, counted from the start of the data.
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
    /// A field holds a value the format does not allow there: a response code
    /// that is not sense data, a page code other than the one asked for, a
    /// reserved element type code.
    #[error("unexpected value {value:#04x}")]
    UnexpectedValue {
        /// The value found.
        value: u32,
    },
    /// A length field is smaller than the structure it describes can be (an
    /// element descriptor length below 12), so nothing after it can be
    /// located.
    #[error("length {value} is below the minimum {min}")]
    LengthTooSmall {
        /// The length declared.
        value: usize,
        /// The smallest length the format allows.
        min: usize,
    },
    /// The mode page asked for is not in the MODE SENSE data.
    #[error("mode page {page:#04x} not present")]
    PageNotFound {
        /// The page code looked for.
        page: u8,
    },
}

impl ParseError {
    pub(crate) fn truncated(what: &'static str, offset: usize, needed: usize, available: usize) -> Self {
        Self { what, offset, kind: ParseErrorKind::Truncated { needed, available } }
    }

    pub(crate) fn unexpected(what: &'static str, offset: usize, value: u32) -> Self {
        Self { what, offset, kind: ParseErrorKind::UnexpectedValue { value } }
    }
}

/// `N` bytes at `offset`, or a [`ParseErrorKind::Truncated`] naming `what`.
pub(crate) fn array_at<const N: usize>(data: &[u8], offset: usize, what: &'static str) -> Result<[u8; N], ParseError> {
    let end = offset.saturating_add(N);
    data.get(offset..end)
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
        .ok_or_else(|| ParseError::truncated(what, offset, end, data.len()))
}

/// The byte at `offset`.
pub(crate) fn u8_at(data: &[u8], offset: usize, what: &'static str) -> Result<u8, ParseError> {
    array_at::<1>(data, offset, what).map(|[b]| b)
}

/// A big-endian 16-bit field at `offset`.
pub(crate) fn be16_at(data: &[u8], offset: usize, what: &'static str) -> Result<u16, ParseError> {
    array_at::<2>(data, offset, what).map(u16::from_be_bytes)
}

/// A big-endian 24-bit field at `offset`.
pub(crate) fn be24_at(data: &[u8], offset: usize, what: &'static str) -> Result<u32, ParseError> {
    array_at::<3>(data, offset, what).map(|[a, b, c]| u32::from_be_bytes([0, a, b, c]))
}

/// A big-endian 16-bit field at `offset` if the data reaches that far.
pub(crate) fn be16_opt(data: &[u8], offset: usize) -> Option<u16> {
    array_at::<2>(data, offset, "").ok().map(u16::from_be_bytes)
}

/// A `u32` length read from the wire, as `usize` (saturating on a target whose
/// `usize` is narrower, where no input could be that long anyway).
pub(crate) fn to_usize(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// SCSI ASCII text (vendor, product, serial number, volume tag) as a `String`:
/// cut at the first NUL, trailing spaces removed, and any byte outside printable
/// ASCII (0x20..=0x7E, the only ones SPC allows) replaced by U+FFFD.
pub(crate) fn ascii_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = bytes.get(..end).unwrap_or_default();
    let text: String =
        text.iter().map(|&b| if (0x20..=0x7e).contains(&b) { char::from(b) } else { '\u{fffd}' }).collect();
    text.trim_end_matches(' ').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_report_what_and_where_when_short() {
        let data = [0x12, 0x34, 0x56];
        assert_eq!(be16_at(&data, 1, "x"), Ok(0x3456));
        assert_eq!(be24_at(&data, 0, "x"), Ok(0x12_3456));
        assert_eq!(be16_at(&data, 2, "field"), Err(ParseError::truncated("field", 2, 4, 3)));
        assert_eq!(u8_at(&data, usize::MAX, "far"), Err(ParseError::truncated("far", usize::MAX, usize::MAX, 3)));
        assert_eq!(be16_opt(&data, 2), None);
    }

    #[test]
    fn ascii_fields_are_trimmed_and_sanitized() {
        assert_eq!(ascii_field(b"ABC001L6                        "), "ABC001L6");
        assert_eq!(ascii_field(b"IET\0garbage"), "IET");
        assert_eq!(ascii_field(b"  lead"), "  lead");
        assert_eq!(ascii_field(&[0x41, 0xff, 0x42]), "A\u{fffd}B");
        assert_eq!(ascii_field(b"    "), "");
    }
}
