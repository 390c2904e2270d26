//! INQUIRY data (SPC): the standard data, the unit serial number page (VPD
//! 0x80) and the device identification page (VPD 0x83), plus the designator
//! format that READ ELEMENT STATUS reuses for DVCID.
//!
//! Unlike READ ELEMENT STATUS, a short INQUIRY answer is an error
//! ([`ParseErrorKind::Truncated`](crate::ParseErrorKind::Truncated)): the
//! caller chose the allocation length, and a cut serial number or identifier
//! would name the wrong device.

use crate::error::{ascii_field, be16_at, u8_at, ParseError};

/// Length of standard INQUIRY data up to the end of PRODUCT REVISION LEVEL,
/// the last field this crate reads.
pub const STANDARD_INQUIRY_MIN_LEN: usize = 36;

/// VPD page code of the unit serial number page.
pub const VPD_UNIT_SERIAL_NUMBER: u8 = 0x80;

/// VPD page code of the device identification page.
pub const VPD_DEVICE_IDENTIFICATION: u8 = 0x83;

/// Length of a VPD page header (device type, page code, page length).
const VPD_HEADER_LEN: usize = 4;

/// Length of a designation descriptor header (code set, type, reserved, length).
pub(crate) const DESIGNATOR_HEADER_LEN: usize = 4;

/// The peripheral device type (byte 0, bits 4..0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// 0x00: a disk.
    DirectAccess,
    /// 0x01: a tape drive.
    SequentialAccess,
    /// 0x08: a medium changer (SMC).
    MediumChanger,
    /// Any other type, by its code.
    Other(u8),
}

impl DeviceType {
    /// The type for the 5-bit code (higher bits are ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & 0x1f {
            0x00 => Self::DirectAccess,
            0x01 => Self::SequentialAccess,
            0x08 => Self::MediumChanger,
            other => Self::Other(other),
        }
    }

    /// The 5-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::DirectAccess => 0x00,
            Self::SequentialAccess => 0x01,
            Self::MediumChanger => 0x08,
            Self::Other(code) => code & 0x1f,
        }
    }
}

/// Standard INQUIRY data: what the device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardInquiry {
    /// PERIPHERAL QUALIFIER (byte 0, bits 7..5): 0 = a device is connected
    /// at this LUN, 1 = supported but not connected, 3 = no device.
    pub qualifier: u8,
    /// PERIPHERAL DEVICE TYPE.
    pub device_type: DeviceType,
    /// RMB: the medium is removable.
    pub removable: bool,
    /// VERSION: the SPC revision claimed (5 = SPC-3, 6 = SPC-4).
    pub version: u8,
    /// T10 VENDOR IDENTIFICATION, trimmed.
    pub vendor: String,
    /// PRODUCT IDENTIFICATION, trimmed.
    pub product: String,
    /// PRODUCT REVISION LEVEL, trimmed.
    pub revision: String,
}

/// Parses standard INQUIRY data (at least [`STANDARD_INQUIRY_MIN_LEN`] bytes).
///
/// # Errors
/// [`Truncated`](crate::ParseErrorKind::Truncated) if the data ends before
/// the product revision.
pub fn parse_standard(data: &[u8]) -> Result<StandardInquiry, ParseError> {
    if data.len() < STANDARD_INQUIRY_MIN_LEN {
        return Err(ParseError::truncated("standard INQUIRY data", 0, STANDARD_INQUIRY_MIN_LEN, data.len()));
    }
    let byte0 = u8_at(data, 0, "peripheral device type")?;
    let text = |range: std::ops::Range<usize>| ascii_field(data.get(range).unwrap_or_default()).trim_start().to_owned();
    Ok(StandardInquiry {
        qualifier: byte0 >> 5,
        device_type: DeviceType::from_code(byte0),
        removable: u8_at(data, 1, "RMB")? & 0x80 != 0,
        version: u8_at(data, 2, "version")?,
        vendor: text(8..16),
        product: text(16..32),
        revision: text(32..36),
    })
}

/// The payload of VPD page `page`: the bytes after its 4-byte header, exactly
/// PAGE LENGTH of them.
fn vpd_payload(data: &[u8], page: u8) -> Result<&[u8], ParseError> {
    let code = u8_at(data, 1, "VPD page code")?;
    if code != page {
        return Err(ParseError::unexpected("VPD page code", 1, u32::from(code)));
    }
    let len = usize::from(be16_at(data, 2, "VPD page length")?);
    let end = VPD_HEADER_LEN.saturating_add(len);
    data.get(VPD_HEADER_LEN..end).ok_or_else(|| ParseError::truncated("VPD page", VPD_HEADER_LEN, end, data.len()))
}

/// Parses the unit serial number page (VPD 0x80): the serial number, trimmed
/// on both sides (tgt right-justifies it in 36 bytes).
///
/// # Errors
/// [`UnexpectedValue`](crate::ParseErrorKind::UnexpectedValue) if the page
/// is another page; [`Truncated`](crate::ParseErrorKind::Truncated) if the
/// data is shorter than the page length says.
pub fn parse_unit_serial_number(data: &[u8]) -> Result<String, ParseError> {
    let payload = vpd_payload(data, VPD_UNIT_SERIAL_NUMBER)?;
    Ok(ascii_field(payload).trim_start().to_owned())
}

/// CODE SET of a designator: how to read its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSet {
    /// 1: binary.
    Binary,
    /// 2: printable ASCII.
    Ascii,
    /// 3: UTF-8.
    Utf8,
    /// Reserved codes (0, 4..=15).
    Other(u8),
}

impl CodeSet {
    /// The set for the 4-bit code (higher bits ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & 0x0f {
            1 => Self::Binary,
            2 => Self::Ascii,
            3 => Self::Utf8,
            other => Self::Other(other),
        }
    }

    /// The 4-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Binary => 1,
            Self::Ascii => 2,
            Self::Utf8 => 3,
            Self::Other(code) => code & 0x0f,
        }
    }
}

/// ASSOCIATION of a designator: what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Association {
    /// 0: the logical unit (the changer, the drive) itself.
    LogicalUnit,
    /// 1: the target port it was reached through.
    TargetPort,
    /// 2: the SCSI target device holding it.
    TargetDevice,
    /// 3: reserved.
    Reserved,
}

impl Association {
    /// The association for the 2-bit code (higher bits ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & 0x03 {
            0 => Self::LogicalUnit,
            1 => Self::TargetPort,
            2 => Self::TargetDevice,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::LogicalUnit => 0,
            Self::TargetPort => 1,
            Self::TargetDevice => 2,
            Self::Reserved => 3,
        }
    }
}

/// DESIGNATOR TYPE (called IDENTIFIER TYPE in SMC): the naming scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdType {
    /// 0: vendor specific.
    VendorSpecific,
    /// 1: T10 vendor ID based (8-byte vendor, then vendor-chosen bytes).
    T10,
    /// 2: EUI-64 based.
    Eui64,
    /// 3: NAA (world wide name).
    Naa,
    /// 4: relative target port.
    RelativeTargetPort,
    /// 5: target port group.
    TargetPortGroup,
    /// 6: logical unit group.
    LogicalUnitGroup,
    /// 7: MD5 logical unit identifier.
    Md5,
    /// 8: SCSI name string.
    ScsiNameString,
    /// Any other code (protocol specific, UUID, reserved).
    Other(u8),
}

impl IdType {
    /// The type for the 4-bit code (higher bits ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & 0x0f {
            0 => Self::VendorSpecific,
            1 => Self::T10,
            2 => Self::Eui64,
            3 => Self::Naa,
            4 => Self::RelativeTargetPort,
            5 => Self::TargetPortGroup,
            6 => Self::LogicalUnitGroup,
            7 => Self::Md5,
            8 => Self::ScsiNameString,
            other => Self::Other(other),
        }
    }

    /// The 4-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::VendorSpecific => 0,
            Self::T10 => 1,
            Self::Eui64 => 2,
            Self::Naa => 3,
            Self::RelativeTargetPort => 4,
            Self::TargetPortGroup => 5,
            Self::LogicalUnitGroup => 6,
            Self::Md5 => 7,
            Self::ScsiNameString => 8,
            Self::Other(code) => code & 0x0f,
        }
    }
}

/// A designation descriptor: one name of a device, from VPD 0x83 or from the
/// DVCID part of a data transfer element descriptor (same layout: code set,
/// association and type, reserved, length, identifier).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// How to read `identifier`.
    pub code_set: CodeSet,
    /// What it names.
    pub association: Association,
    /// The naming scheme.
    pub id_type: IdType,
    /// The identifier, exactly as many bytes as its length field says.
    pub identifier: Vec<u8>,
}

impl DeviceId {
    /// The identifier as lower-case hex (the usual way to print an NAA name).
    #[must_use]
    pub fn hex(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(self.identifier.len().saturating_mul(2));
        for byte in &self.identifier {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    /// The identifier as text if its code set is ASCII or UTF-8 (cut at the
    /// first NUL, trailing spaces removed; bytes that are not printable ASCII
    /// become U+FFFD), else `None`.
    #[must_use]
    pub fn text(&self) -> Option<String> {
        match self.code_set {
            CodeSet::Ascii | CodeSet::Utf8 => Some(ascii_field(&self.identifier)),
            CodeSet::Binary | CodeSet::Other(_) => None,
        }
    }

    /// Reads one descriptor at the start of `bytes`: the descriptor and its
    /// total length, or `None` if `bytes` ends before the identifier does.
    pub(crate) fn read(bytes: &[u8]) -> Option<(Self, usize)> {
        let header: [u8; DESIGNATOR_HEADER_LEN] = bytes.get(..DESIGNATOR_HEADER_LEN)?.try_into().ok()?;
        let [code_set, kind, _reserved, len] = header;
        let end = DESIGNATOR_HEADER_LEN.saturating_add(usize::from(len));
        let identifier = bytes.get(DESIGNATOR_HEADER_LEN..end)?.to_vec();
        let id = Self {
            code_set: CodeSet::from_code(code_set),
            association: Association::from_code(kind >> 4),
            id_type: IdType::from_code(kind),
            identifier,
        };
        Some((id, end))
    }
}

/// Parses the device identification page (VPD 0x83) into its designators,
/// in the order the device lists them.
///
/// # Errors
/// [`UnexpectedValue`](crate::ParseErrorKind::UnexpectedValue) if the page
/// is another page; [`Truncated`](crate::ParseErrorKind::Truncated) if the
/// data is shorter than the page length says, or a descriptor runs past the
/// end of the page.
pub fn parse_device_identification(data: &[u8]) -> Result<Vec<DeviceId>, ParseError> {
    let payload = vpd_payload(data, VPD_DEVICE_IDENTIFICATION)?;
    let mut ids = Vec::new();
    let mut pos = 0usize;
    // Each turn consumes at least the 4-byte header, so this ends.
    while let Some(rest) = payload.get(pos..).filter(|rest| !rest.is_empty()) {
        let offset = VPD_HEADER_LEN.saturating_add(pos);
        let Some((id, len)) = DeviceId::read(rest) else {
            let needed = match rest.get(3) {
                Some(&len) => DESIGNATOR_HEADER_LEN.saturating_add(usize::from(len)),
                None => DESIGNATOR_HEADER_LEN,
            };
            return Err(ParseError::truncated(
                "designation descriptor",
                offset,
                offset.saturating_add(needed),
                offset.saturating_add(rest.len()),
            ));
        };
        ids.push(id);
        pos = pos.saturating_add(len);
    }
    Ok(ids)
}

/// The identifier to name a logical unit by: among the designators whose
/// association is the logical unit, the first NAA, else the first EUI-64,
/// else the first T10 vendor ID based one.
#[must_use]
pub fn preferred_identifier(ids: &[DeviceId]) -> Option<&DeviceId> {
    [IdType::Naa, IdType::Eui64, IdType::T10]
        .into_iter()
        .find_map(|wanted| ids.iter().find(|id| id.association == Association::LogicalUnit && id.id_type == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseErrorKind;

    #[test]
    fn codes_round_trip() {
        for code in 0..=0x1f {
            assert_eq!(DeviceType::from_code(code).code(), code);
        }
        for code in 0..=0x0f {
            assert_eq!(CodeSet::from_code(code).code(), code);
            assert_eq!(IdType::from_code(code).code(), code);
        }
        for code in 0..=3 {
            assert_eq!(Association::from_code(code).code(), code);
        }
    }

    #[test]
    fn short_standard_data_names_the_length_needed() {
        let err = parse_standard(&[0x08; 35]).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Truncated { needed: 36, available: 35 });
    }

    #[test]
    fn wrong_vpd_page_is_rejected() {
        let err = parse_unit_serial_number(&[0x08, 0x83, 0x00, 0x00]).unwrap_err();
        assert_eq!((err.offset, err.kind), (1, ParseErrorKind::UnexpectedValue { value: 0x83 }));
    }

    #[test]
    fn descriptor_past_page_end_is_truncated() {
        // Page length 6: one header (4) and 2 of the 8 identifier bytes declared.
        let data = [0x08, 0x83, 0x00, 0x06, 0x01, 0x03, 0x00, 0x08, 0x30, 0x00];
        let err = parse_device_identification(&data).unwrap_err();
        assert_eq!((err.offset, err.kind), (4, ParseErrorKind::Truncated { needed: 16, available: 10 }));
    }

    #[test]
    fn preferred_identifier_skips_port_names() {
        let id = |association, id_type, byte| DeviceId {
            code_set: CodeSet::Binary,
            association,
            id_type,
            identifier: vec![byte],
        };
        let ids = [
            id(Association::TargetPort, IdType::Naa, 1),
            id(Association::LogicalUnit, IdType::T10, 2),
            id(Association::LogicalUnit, IdType::Eui64, 3),
        ];
        assert_eq!(preferred_identifier(&ids).map(DeviceId::hex), Some("03".to_owned()));
        assert_eq!(preferred_identifier(&ids[..1]), None);
    }
}
