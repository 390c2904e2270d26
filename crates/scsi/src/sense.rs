//! Sense data (SPC-4 4.5): why a command ended in CHECK CONDITION, in the
//! fixed (0x70/0x71) or descriptor (0x72/0x73) format, and what that means
//! for a changer ([`Condition`]).

use std::fmt;

use crate::error::{array_at, u8_at, ParseError};

/// Offset of ADDITIONAL SENSE LENGTH in both formats; the sense data ends
/// that many bytes after it.
const ADDITIONAL_LENGTH_OFFSET: usize = 7;

/// Bytes up to and including ADDITIONAL SENSE LENGTH.
const FIXED_PART_LEN: usize = 8;

/// Descriptor type of the information sense data descriptor.
const INFORMATION_DESCRIPTOR: u8 = 0x00;

/// Additional length of the information descriptor (SPC-4: 0x0A).
const INFORMATION_DESCRIPTOR_LEN: usize = 0x0a;

/// The sense key: the class of the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseKey {
    /// 0x0: no error to report.
    NoSense,
    /// 0x1: the command completed after the device recovered.
    RecoveredError,
    /// 0x2: the logical unit cannot be accessed now.
    NotReady,
    /// 0x3: a flaw in the medium.
    MediumError,
    /// 0x4: the device failed (a robot that cannot position).
    HardwareError,
    /// 0x5: the command or its parameters are wrong.
    IllegalRequest,
    /// 0x6: something changed (reset, medium changed); the command was not
    /// executed.
    UnitAttention,
    /// 0x7: the medium is write-protected or the access is denied.
    DataProtect,
    /// 0x8: blank medium or format-defined end of data.
    BlankCheck,
    /// 0x9: vendor specific.
    VendorSpecific,
    /// 0xA: a copy command was aborted.
    CopyAborted,
    /// 0xB: the device aborted the command.
    AbortedCommand,
    /// 0xC: reserved (was EQUAL).
    Reserved,
    /// 0xD: the medium is full (tape: end of partition).
    VolumeOverflow,
    /// 0xE: data did not match on a verify or compare.
    Miscompare,
    /// 0xF: completed (SPC-4).
    Completed,
}

impl SenseKey {
    /// The key for a 4-bit code (higher bits ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & 0x0f {
            0x0 => Self::NoSense,
            0x1 => Self::RecoveredError,
            0x2 => Self::NotReady,
            0x3 => Self::MediumError,
            0x4 => Self::HardwareError,
            0x5 => Self::IllegalRequest,
            0x6 => Self::UnitAttention,
            0x7 => Self::DataProtect,
            0x8 => Self::BlankCheck,
            0x9 => Self::VendorSpecific,
            0xa => Self::CopyAborted,
            0xb => Self::AbortedCommand,
            0xc => Self::Reserved,
            0xd => Self::VolumeOverflow,
            0xe => Self::Miscompare,
            _ => Self::Completed,
        }
    }

    /// The 4-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::NoSense => 0x0,
            Self::RecoveredError => 0x1,
            Self::NotReady => 0x2,
            Self::MediumError => 0x3,
            Self::HardwareError => 0x4,
            Self::IllegalRequest => 0x5,
            Self::UnitAttention => 0x6,
            Self::DataProtect => 0x7,
            Self::BlankCheck => 0x8,
            Self::VendorSpecific => 0x9,
            Self::CopyAborted => 0xa,
            Self::AbortedCommand => 0xb,
            Self::Reserved => 0xc,
            Self::VolumeOverflow => 0xd,
            Self::Miscompare => 0xe,
            Self::Completed => 0xf,
        }
    }

    /// The name SPC gives it (`"ILLEGAL REQUEST"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::NoSense => "NO SENSE",
            Self::RecoveredError => "RECOVERED ERROR",
            Self::NotReady => "NOT READY",
            Self::MediumError => "MEDIUM ERROR",
            Self::HardwareError => "HARDWARE ERROR",
            Self::IllegalRequest => "ILLEGAL REQUEST",
            Self::UnitAttention => "UNIT ATTENTION",
            Self::DataProtect => "DATA PROTECT",
            Self::BlankCheck => "BLANK CHECK",
            Self::VendorSpecific => "VENDOR SPECIFIC",
            Self::CopyAborted => "COPY ABORTED",
            Self::AbortedCommand => "ABORTED COMMAND",
            Self::Reserved => "RESERVED",
            Self::VolumeOverflow => "VOLUME OVERFLOW",
            Self::Miscompare => "MISCOMPARE",
            Self::Completed => "COMPLETED",
        }
    }
}

impl fmt::Display for SenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of the two sense data formats was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenseFormat {
    /// Response code 0x70 or 0x71 (what tgt sends).
    Fixed,
    /// Response code 0x72 or 0x73.
    Descriptor,
}

/// Decoded sense data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sense {
    /// SENSE KEY.
    pub key: SenseKey,
    /// ADDITIONAL SENSE CODE (0 if the data ends before it).
    pub asc: u8,
    /// ADDITIONAL SENSE CODE QUALIFIER (0 if the data ends before it).
    pub ascq: u8,
    /// INFORMATION, when the device marked it valid (fixed: VALID bit, 32
    /// bits; descriptor: an information descriptor with VALID, 64 bits).
    pub information: Option<u64>,
    /// The sense is about an earlier command (response code 0x71/0x73), not
    /// the one that got CHECK CONDITION.
    pub deferred: bool,
    /// The format it came in.
    pub format: SenseFormat,
}

impl Sense {
    /// ASC and ASCQ as one number, `0x3B0D` for 3B/0D (libiscsi's convention).
    #[must_use]
    pub fn asc_ascq(&self) -> u16 {
        u16::from_be_bytes([self.asc, self.ascq])
    }

    /// What the sense means for a changer or drive command. Checked in this
    /// order, first match wins:
    ///
    /// | sense | condition |
    /// |---|---|
    /// | key UNIT ATTENTION (e.g. 28/00, 29/xx) | [`Condition::UnitAttention`] |
    /// | key HARDWARE ERROR (e.g. 15/01) | [`Condition::HardwareError`] |
    /// | 3B/0E medium source element empty | [`Condition::SourceEmpty`] |
    /// | 3B/0D medium destination element full | [`Condition::DestinationFull`] |
    /// | 53/02 medium removal prevented | [`Condition::RemovalPrevented`] |
    /// | 3B/18 element disabled | [`Condition::ElementDisabled`] |
    /// | 24/00 invalid field in CDB | [`Condition::InvalidField`] |
    /// | 21/01 invalid element address | [`Condition::InvalidElementAddress`] |
    /// | 3A/xx medium not present | [`Condition::MediumNotPresent`] |
    /// | 04/xx logical unit not ready (04/01: becoming ready) | [`Condition::NotReady`] |
    /// | any other with key NOT READY | [`Condition::NotReady`] (not becoming ready) |
    /// | anything else | [`Condition::Other`] |
    #[must_use]
    pub fn classify(&self) -> Condition {
        match (self.key, self.asc, self.ascq) {
            (SenseKey::UnitAttention, _, _) => Condition::UnitAttention,
            (SenseKey::HardwareError, _, _) => Condition::HardwareError,
            (_, 0x3b, 0x0e) => Condition::SourceEmpty,
            (_, 0x3b, 0x0d) => Condition::DestinationFull,
            (_, 0x53, 0x02) => Condition::RemovalPrevented,
            (_, 0x3b, 0x18) => Condition::ElementDisabled,
            (_, 0x24, 0x00) => Condition::InvalidField,
            (_, 0x21, 0x01) => Condition::InvalidElementAddress,
            (_, 0x3a, _) => Condition::MediumNotPresent,
            (_, 0x04, ascq) => Condition::NotReady { becoming_ready: ascq == 0x01 },
            (SenseKey::NotReady, _, _) => Condition::NotReady { becoming_ready: false },
            _ => Condition::Other,
        }
    }
}

impl fmt::Display for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, ASC/ASCQ {:02X}/{:02X}", self.key, self.asc, self.ascq)?;
        if self.deferred {
            f.write_str(" (deferred)")?;
        }
        Ok(())
    }
}

/// What a sense means to whoever sent a changer or drive command; see
/// [`Sense::classify`] for the table and the crate documentation for the
/// NTMS code each one should become.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// MOVE MEDIUM from an element that holds nothing (3B/0E).
    SourceEmpty,
    /// MOVE MEDIUM into an element that already holds a medium (3B/0D).
    DestinationFull,
    /// The drive holding the medium has removal prevented (53/02).
    RemovalPrevented,
    /// The device is not ready (04/xx or key NOT READY); `becoming_ready`
    /// for 04/01, where waiting and retrying is expected to work.
    NotReady {
        /// ASC/ASCQ 04/01: in process of becoming ready.
        becoming_ready: bool,
    },
    /// The element is disabled (3B/18).
    ElementDisabled,
    /// The device reports an event (reset, power on, inventory changed): the
    /// command was not executed and may be retried; re-read element status.
    UnitAttention,
    /// A field of the CDB is invalid (24/00); tgt also says this for an
    /// element address that does not exist.
    InvalidField,
    /// The element address does not exist (21/01).
    InvalidElementAddress,
    /// No medium in the drive (3A/xx).
    MediumNotPresent,
    /// The device failed (key HARDWARE ERROR).
    HardwareError,
    /// None of the above.
    Other,
}

/// Parses sense data in either format.
///
/// Fields past ADDITIONAL SENSE LENGTH or past the data read as absent (ASC
/// and ASCQ as 0, no information) rather than as an error; descriptors of
/// the descriptor format other than the information descriptor are skipped,
/// and a descriptor running past the end ends the walk.
///
/// # Errors
/// [`Truncated`](crate::ParseErrorKind::Truncated) if the data is too short
/// for the sense key (3 bytes fixed, 2 descriptor);
/// [`UnexpectedValue`](crate::ParseErrorKind::UnexpectedValue) if the
/// response code is not 0x70..=0x73.
pub fn parse(data: &[u8]) -> Result<Sense, ParseError> {
    let byte0 = u8_at(data, 0, "sense response code")?;
    let (format, deferred) = match byte0 & 0x7f {
        0x70 => (SenseFormat::Fixed, false),
        0x71 => (SenseFormat::Fixed, true),
        0x72 => (SenseFormat::Descriptor, false),
        0x73 => (SenseFormat::Descriptor, true),
        other => return Err(ParseError::unexpected("sense response code", 0, u32::from(other))),
    };
    // The sense data ends ADDITIONAL SENSE LENGTH bytes after byte 7, or
    // where the data does if that comes first.
    let end = match data.get(ADDITIONAL_LENGTH_OFFSET) {
        Some(&additional) => data.len().min(FIXED_PART_LEN.saturating_add(usize::from(additional))),
        None => data.len(),
    };
    let sense = data.get(..end).unwrap_or_default();
    let byte = |offset: usize| sense.get(offset).copied().unwrap_or(0);
    match format {
        SenseFormat::Fixed => {
            let key = SenseKey::from_code(u8_at(data, 2, "sense key")?);
            let information = if byte0 & 0x80 != 0 {
                array_at::<4>(data, 3, "information").ok().map(|bytes| u64::from(u32::from_be_bytes(bytes)))
            } else {
                None
            };
            Ok(Sense { key, asc: byte(12), ascq: byte(13), information, deferred, format })
        }
        SenseFormat::Descriptor => {
            let key = SenseKey::from_code(u8_at(data, 1, "sense key")?);
            let information = descriptor_information(sense);
            Ok(Sense { key, asc: byte(2), ascq: byte(3), information, deferred, format })
        }
    }
}

/// What an ASC/ASCQ pair means (SPC-4 annex D), in SPC's words lower-cased,
/// for the pairs a changer or a tape drive commonly reports; `None` for the
/// others.
#[must_use]
pub fn asc_ascq_text(asc: u8, ascq: u8) -> Option<&'static str> {
    Some(match (asc, ascq) {
        (0x00, 0x00) => "no additional sense information",
        (0x00, 0x01) => "filemark detected",
        (0x00, 0x02) => "end-of-partition/medium detected",
        (0x00, 0x04) => "beginning-of-partition/medium detected",
        (0x00, 0x05) => "end-of-data detected",
        (0x04, 0x00) => "logical unit not ready, cause not reportable",
        (0x04, 0x01) => "logical unit is in process of becoming ready",
        (0x04, 0x02) => "logical unit not ready, initializing command required",
        (0x04, 0x03) => "logical unit not ready, manual intervention required",
        (0x04, 0x12) => "logical unit not ready, offline",
        (0x0c, 0x00) => "write error",
        (0x11, 0x00) => "unrecovered read error",
        (0x14, 0x00) => "recorded entity not found",
        (0x15, 0x00) => "random positioning error",
        (0x15, 0x01) => "mechanical positioning error",
        (0x1a, 0x00) => "parameter list length error",
        (0x20, 0x00) => "invalid command operation code",
        (0x21, 0x01) => "invalid element address",
        (0x24, 0x00) => "invalid field in CDB",
        (0x25, 0x00) => "logical unit not supported",
        (0x26, 0x00) => "invalid field in parameter list",
        (0x27, 0x00) => "write protected",
        (0x28, 0x00) => "not ready to ready change, medium may have changed",
        (0x28, 0x01) => "import or export element accessed",
        (0x29, 0x00) => "power on, reset, or bus device reset occurred",
        (0x2a, 0x01) => "mode parameters changed",
        (0x30, 0x00) => "incompatible medium installed",
        (0x30, 0x01) => "cannot read medium, unknown format",
        (0x30, 0x02) => "cannot read medium, incompatible format",
        (0x30, 0x03) => "cleaning cartridge installed",
        (0x3a, 0x00) => "medium not present",
        (0x3b, 0x00) => "sequential positioning error",
        (0x3b, 0x0d) => "medium destination element full",
        (0x3b, 0x0e) => "medium source element empty",
        (0x3b, 0x11) => "medium magazine not accessible",
        (0x3b, 0x12) => "medium magazine removed",
        (0x3b, 0x13) => "medium magazine inserted",
        (0x3b, 0x14) => "medium magazine locked",
        (0x3b, 0x15) => "medium magazine unlocked",
        (0x3b, 0x18) => "element disabled",
        (0x3b, 0x1a) => "data transfer device removed",
        (0x3f, 0x01) => "microcode has been changed",
        (0x44, 0x00) => "internal target failure",
        (0x53, 0x00) => "media load or eject failed",
        (0x53, 0x01) => "unload tape failure",
        (0x53, 0x02) => "medium removal prevented",
        (0x5a, 0x01) => "operator medium removal request",
        (0x5d, 0x00) => "failure prediction threshold exceeded",
        _ => return None,
    })
}

/// Sense data in words, the raw key/ASC/ASCQ after:
/// `illegal request: medium source element empty (sense 05/3B/0E)`; a pair
/// outside [`asc_ascq_text`]'s table gets only the key's name.
#[must_use]
pub fn explain(key: u8, asc: u8, ascq: u8) -> String {
    let name = SenseKey::from_code(key).name().to_lowercase();
    let raw = format!("sense {key:02X}/{asc:02X}/{ascq:02X}");
    match asc_ascq_text(asc, ascq) {
        Some(text) => format!("{name}: {text} ({raw})"),
        None => format!("{name} ({raw})"),
    }
}

/// The INFORMATION field of the first information descriptor with VALID set.
fn descriptor_information(sense: &[u8]) -> Option<u64> {
    let mut pos = FIXED_PART_LEN;
    // Each turn moves past a descriptor of at least 2 bytes.
    while let Some(&[descriptor_type, additional]) = sense.get(pos..pos.saturating_add(2)).and_then(|b| b.first_chunk())
    {
        let len = usize::from(additional).saturating_add(2);
        let descriptor = sense.get(pos..pos.saturating_add(len))?;
        if descriptor_type == INFORMATION_DESCRIPTOR && usize::from(additional) >= INFORMATION_DESCRIPTOR_LEN {
            let valid = descriptor.get(2).is_some_and(|b| b & 0x80 != 0);
            let value = array_at::<8>(descriptor, 4, "information").ok().map(u64::from_be_bytes);
            if valid && value.is_some() {
                return value;
            }
        }
        pos = pos.saturating_add(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sense_in_words_with_the_raw_codes_after() {
        assert_eq!(explain(0x05, 0x3b, 0x0e), "illegal request: medium source element empty (sense 05/3B/0E)");
        assert_eq!(explain(0x04, 0x15, 0x01), "hardware error: mechanical positioning error (sense 04/15/01)");
        assert_eq!(explain(0x0b, 0x99, 0x01), "aborted command (sense 0B/99/01)");
        // Every condition the crate classifies has its words.
        for (asc, ascq) in
            [(0x3b, 0x0e), (0x3b, 0x0d), (0x53, 0x02), (0x3b, 0x18), (0x24, 0x00), (0x21, 0x01), (0x3a, 0x00)]
        {
            assert!(asc_ascq_text(asc, ascq).is_some(), "{asc:02X}/{ascq:02X}");
        }
    }

    fn fixed(key: u8, asc: u8, ascq: u8) -> Sense {
        let data = [0x70, 0, key, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0];
        parse(&data).unwrap()
    }

    #[test]
    fn sense_keys_round_trip() {
        for code in 0..16 {
            assert_eq!(SenseKey::from_code(code).code(), code);
        }
    }

    #[test]
    fn classification_table() {
        let table = [
            (5, 0x3b, 0x0e, Condition::SourceEmpty),
            (5, 0x3b, 0x0d, Condition::DestinationFull),
            (5, 0x53, 0x02, Condition::RemovalPrevented),
            (2, 0x04, 0x01, Condition::NotReady { becoming_ready: true }),
            (2, 0x04, 0x03, Condition::NotReady { becoming_ready: false }),
            (2, 0x3b, 0x18, Condition::ElementDisabled),
            (6, 0x28, 0x00, Condition::UnitAttention),
            (6, 0x29, 0x00, Condition::UnitAttention),
            (6, 0x29, 0x04, Condition::UnitAttention),
            (5, 0x24, 0x00, Condition::InvalidField),
            (5, 0x21, 0x01, Condition::InvalidElementAddress),
            (2, 0x3a, 0x00, Condition::MediumNotPresent),
            (2, 0x3a, 0x02, Condition::MediumNotPresent),
            (4, 0x15, 0x01, Condition::HardwareError),
            (4, 0x3b, 0x0e, Condition::HardwareError),
            (2, 0x00, 0x00, Condition::NotReady { becoming_ready: false }),
            (5, 0x20, 0x00, Condition::Other),
            (5, 0x26, 0x00, Condition::Other),
            (0, 0x00, 0x00, Condition::Other),
        ];
        for (key, asc, ascq, condition) in table {
            assert_eq!(fixed(key, asc, ascq).classify(), condition, "key {key:x} {asc:02x}/{ascq:02x}");
        }
    }

    #[test]
    fn display_names_key_and_codes() {
        assert_eq!(fixed(5, 0x3b, 0x0d).to_string(), "ILLEGAL REQUEST, ASC/ASCQ 3B/0D");
        assert_eq!(fixed(5, 0x3b, 0x0d).asc_ascq(), 0x3b0d);
    }

    #[test]
    fn additional_length_bounds_the_fields() {
        // ADDITIONAL SENSE LENGTH 4: ASC at byte 12 is outside.
        let data = [0x70, 0, 0x05, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x24, 0x00];
        let sense = parse(&data).unwrap();
        assert_eq!((sense.key, sense.asc, sense.ascq), (SenseKey::IllegalRequest, 0, 0));
    }
}
