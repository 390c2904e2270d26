//! READ ELEMENT STATUS data (SMC-3 6.10): what is in each element.
//!
//! The data is an 8-byte header (first element address reported, number of
//! elements, byte count of the report), then one element status page per
//! element type, each an 8-byte page header (type, PVolTag/AVolTag, element
//! descriptor length, byte count of its descriptors) and its descriptors.
//!
//! The parser follows the standard and tolerates what real changers do:
//!
//! - *A short report.* Data that stops before the byte counts say (a small
//!   allocation length, or tgt's report that is always 8 bytes short) is not
//!   an error: every descriptor present is parsed, a descriptor cut short
//!   keeps the fields that are wholly there (see [`ElementDescriptor::truncated`]),
//!   a descriptor cut before its ASCQ byte is dropped, and
//!   [`ElementStatus::truncated`] says so.
//! - *A wrong header.* The header's first address and element count are
//!   reported as read ([`ElementStatusHeader`]) and never used: the
//!   descriptors carry their own addresses (tgt reports a wrong first address
//!   for a type with one element).
//! - *Bits a type does not define* read as false: only FULL and EXCEPT are
//!   read for a transport, ACCESS too for storage and drives, and IMPEXP,
//!   INENAB and EXENAB too for import/export elements.
//!
//! What it rejects: a page whose element type code is not 1..=4 (also what
//! tgt's corrupt answer to element type 0 looks like), and a descriptor
//! length below 12 for a page that has descriptors, since nothing after it
//! could be located.
//!
//! Bounds: every loop consumes at least 8 bytes (a page header) or 12 (a
//! descriptor) of the input per turn, nothing is allocated from a length
//! field, and the output grows by one descriptor per at least 6 input bytes.

use crate::error::{ascii_field, be16_at, be16_opt, be24_at, to_usize, u8_at, ParseError, ParseErrorKind};
use crate::inquiry::{DeviceId, DESIGNATOR_HEADER_LEN};

/// Length of the element status data header and of each page header.
pub const HEADER_LEN: usize = 8;

/// The smallest element descriptor length: address, flags, ASC/ASCQ, SValid
/// and source address end at byte 12 (SMC-3 descriptors are 16 or more).
pub const DESCRIPTOR_LEN_MIN: usize = 12;

/// A descriptor cut shorter than this (it lacks ASCQ) is dropped: its flags
/// alone would report an element without its condition.
pub const PARTIAL_DESCRIPTOR_LEN_MIN: usize = 6;

/// Offset of the volume tags in a descriptor.
const VOLUME_TAGS_OFFSET: usize = 12;

/// A volume tag: 32 bytes of identification, 2 reserved, 2 of sequence number.
pub const VOLUME_TAG_LEN: usize = 36;

/// The volume identification part of a volume tag.
const VOLUME_ID_LEN: usize = 32;

/// The kind of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ElementType {
    /// 1: a medium transport (the robot's hand).
    MediumTransport,
    /// 2: a storage element (a slot).
    Storage,
    /// 3: an import/export element (a mail slot).
    ImportExport,
    /// 4: a data transfer element (a drive).
    DataTransfer,
}

impl ElementType {
    /// Every type, in code order.
    pub const ALL: [Self; 4] = [Self::MediumTransport, Self::Storage, Self::ImportExport, Self::DataTransfer];

    /// The type for an element type code, `None` for 0 (all) and reserved codes.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::MediumTransport),
            2 => Some(Self::Storage),
            3 => Some(Self::ImportExport),
            4 => Some(Self::DataTransfer),
            _ => None,
        }
    }

    /// The element type code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::MediumTransport => 1,
            Self::Storage => 2,
            Self::ImportExport => 3,
            Self::DataTransfer => 4,
        }
    }

    /// The usual abbreviation: MT, ST, IE, DT.
    #[must_use]
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::MediumTransport => "MT",
            Self::Storage => "ST",
            Self::ImportExport => "IE",
            Self::DataTransfer => "DT",
        }
    }

    /// The bits of descriptor byte 2 this type defines (SMC-3 tables 23-27).
    fn flag_mask(self) -> u8 {
        match self {
            Self::MediumTransport => FULL | EXCEPT,
            Self::Storage | Self::DataTransfer => FULL | EXCEPT | ACCESS,
            Self::ImportExport => FULL | IMPEXP | EXCEPT | ACCESS | EXENAB | INENAB,
        }
    }
}

/// The element type field of READ ELEMENT STATUS: one type, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementTypeCode {
    /// 0: every type, one page each. Do not use with tgt (see the crate docs).
    All,
    /// 1: medium transport elements.
    MediumTransport,
    /// 2: storage elements.
    Storage,
    /// 3: import/export elements.
    ImportExport,
    /// 4: data transfer elements.
    DataTransfer,
}

impl ElementTypeCode {
    /// The 4-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::All => 0,
            Self::MediumTransport => 1,
            Self::Storage => 2,
            Self::ImportExport => 3,
            Self::DataTransfer => 4,
        }
    }
}

impl From<ElementType> for ElementTypeCode {
    fn from(kind: ElementType) -> Self {
        match kind {
            ElementType::MediumTransport => Self::MediumTransport,
            ElementType::Storage => Self::Storage,
            ElementType::ImportExport => Self::ImportExport,
            ElementType::DataTransfer => Self::DataTransfer,
        }
    }
}

// Descriptor byte 2.
const FULL: u8 = 0x01;
const IMPEXP: u8 = 0x02;
const EXCEPT: u8 = 0x04;
const ACCESS: u8 = 0x08;
const EXENAB: u8 = 0x10;
const INENAB: u8 = 0x20;

// Descriptor byte 9.
const SVALID: u8 = 0x80;
const INVERT: u8 = 0x40;
const ED: u8 = 0x08;
const MEDIUM_TYPE: u8 = 0x07;

// Page header byte 1.
const PVOLTAG: u8 = 0x80;
const AVOLTAG: u8 = 0x40;

/// MEDIUM TYPE of descriptor byte 9 (SMC-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MediumType {
    /// 0: not specified (what tgt always reports).
    #[default]
    Unspecified,
    /// 1: a data medium.
    Data,
    /// 2: a cleaning medium.
    Cleaning,
    /// 3: a diagnostic medium.
    Diagnostic,
    /// 4: a WORM medium.
    Worm,
    /// 5: a microcode image medium.
    Microcode,
    /// 6 and 7: reserved.
    Reserved(u8),
}

impl MediumType {
    /// The type for the 3-bit code (higher bits ignored).
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code & MEDIUM_TYPE {
            0 => Self::Unspecified,
            1 => Self::Data,
            2 => Self::Cleaning,
            3 => Self::Diagnostic,
            4 => Self::Worm,
            5 => Self::Microcode,
            other => Self::Reserved(other),
        }
    }

    /// The 3-bit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::Data => 1,
            Self::Cleaning => 2,
            Self::Diagnostic => 3,
            Self::Worm => 4,
            Self::Microcode => 5,
            Self::Reserved(code) => code & MEDIUM_TYPE,
        }
    }
}

/// The element status data header, as read. Only `byte_count` is worth
/// acting on: see [`ElementStatusHeader::report_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementStatusHeader {
    /// FIRST ELEMENT ADDRESS REPORTED. Not trusted: tgt reports the last
    /// element of its list when a type has one element.
    pub first_address_reported: u16,
    /// NUMBER OF ELEMENTS AVAILABLE. Not trusted: the descriptors are counted.
    pub elements_available: u16,
    /// BYTE COUNT OF REPORT AVAILABLE: the bytes of all pages (page headers
    /// and descriptors), not counting this header.
    pub byte_count: u32,
}

impl ElementStatusHeader {
    /// The allocation length that fetches the whole report: this header plus
    /// `byte_count`. Read once with allocation length 8 to learn it, then
    /// again with this (tgt answers an 8-byte request with the full count).
    #[must_use]
    pub fn report_len(&self) -> u32 {
        self.byte_count.saturating_add(8)
    }
}

/// Parses just the 8-byte element status data header.
///
/// # Errors
/// [`Truncated`](crate::ParseErrorKind::Truncated) if `data` is shorter than 8 bytes.
pub fn parse_header(data: &[u8]) -> Result<ElementStatusHeader, ParseError> {
    if data.len() < HEADER_LEN {
        return Err(ParseError::truncated("element status data header", 0, HEADER_LEN, data.len()));
    }
    Ok(ElementStatusHeader {
        first_address_reported: be16_at(data, 0, "first element address reported")?,
        elements_available: be16_at(data, 2, "number of elements available")?,
        byte_count: be24_at(data, 5, "byte count of report available")?,
    })
}

/// The status of one element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElementDescriptor {
    /// ELEMENT ADDRESS.
    pub address: u16,
    /// The type of the page the descriptor came in.
    pub kind: ElementType,
    /// FULL: the element holds a medium.
    pub full: bool,
    /// EXCEPT: the element is in an abnormal state; `asc`/`ascq` say why.
    pub except: bool,
    /// ACCESS (storage, import/export, data transfer): the transport can
    /// reach the element. As reported: tgt never sets it.
    pub access: bool,
    /// IMPEXP (import/export only): the medium was put in by an operator
    /// (1) rather than by the changer (0).
    pub impexp: bool,
    /// INENAB (import/export only): the element can import media.
    pub inenab: bool,
    /// EXENAB (import/export only): the element can export media.
    pub exenab: bool,
    /// ADDITIONAL SENSE CODE of the element's condition (0 when normal).
    pub asc: u8,
    /// ADDITIONAL SENSE CODE QUALIFIER.
    pub ascq: u8,
    /// ED (SMC-3): the element is disabled.
    pub disabled: bool,
    /// INVERT: the medium was turned over on its way here.
    pub invert: bool,
    /// MEDIUM TYPE.
    pub medium_type: MediumType,
    /// The element the medium last came from, when SVALID is set. tgt reports
    /// the previous element of the last move, not the medium's home.
    pub source: Option<u16>,
    /// The primary volume tag (the barcode), trailing spaces removed; `None`
    /// when the page has no PVolTag, the tag is blank, or the descriptor is
    /// cut before its 32 identification bytes end. A tag on an empty element
    /// is stale (tgt keeps one after a failed load).
    pub primary_volume_tag: Option<String>,
    /// The alternate volume tag, under the same rules (AVolTag).
    pub alternate_volume_tag: Option<String>,
    /// The device identifier (DVCID), when present with a non-zero length
    /// and wholly inside the descriptor; normally only on data transfer
    /// elements.
    pub dvcid: Option<DeviceId>,
    /// The descriptor was cut before its declared length: fields past the
    /// cut are at their empty values (`None`, false, 0).
    pub truncated: bool,
}

/// A parsed READ ELEMENT STATUS answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElementStatus {
    /// The data header as read.
    pub header: ElementStatusHeader,
    /// Every descriptor, in the order received (page by page).
    pub elements: Vec<ElementDescriptor>,
    /// The data ended before the byte counts said it would: the last
    /// descriptor may be cut or missing. Compare the allocation length with
    /// [`ElementStatusHeader::report_len`] to tell a small allocation (read
    /// again) from a device that sends less than it counts (tgt: always).
    pub truncated: bool,
}

impl ElementStatus {
    /// The elements of one type.
    pub fn of_type(&self, kind: ElementType) -> impl Iterator<Item = &ElementDescriptor> {
        self.elements.iter().filter(move |element| element.kind == kind)
    }

    /// The element at `address`, if reported.
    #[must_use]
    pub fn get(&self, address: u16) -> Option<&ElementDescriptor> {
        self.elements.iter().find(|element| element.address == address)
    }
}

/// Parses READ ELEMENT STATUS data (one or several pages).
///
/// # Errors
/// [`Truncated`](crate::ParseErrorKind::Truncated) if the data is shorter than
/// the 8-byte header; [`UnexpectedValue`](crate::ParseErrorKind::UnexpectedValue)
/// for a page whose element type code is not 1..=4;
/// [`LengthTooSmall`](crate::ParseErrorKind::LengthTooSmall) for a page with
/// descriptor bytes and a descriptor length below [`DESCRIPTOR_LEN_MIN`].
/// Data that ends early is not an error (see the module documentation).
pub fn parse(data: &[u8]) -> Result<ElementStatus, ParseError> {
    let header = parse_header(data)?;
    let declared_end = HEADER_LEN.saturating_add(to_usize(header.byte_count));
    let end = data.len().min(declared_end);
    let mut truncated = data.len() < declared_end;
    let mut elements = Vec::new();
    let mut pos = HEADER_LEN;
    // Each turn moves `pos` past a page header (8 bytes) and its descriptors.
    while pos < end {
        if end.saturating_sub(pos) < HEADER_LEN {
            // A page header cut short: nothing of the page can be read.
            truncated = true;
            break;
        }
        let code = u8_at(data, pos, "element type code")? & 0x0f;
        let kind = ElementType::from_code(code)
            .ok_or_else(|| ParseError::unexpected("element type code", pos, u32::from(code)))?;
        let flags = u8_at(data, pos.saturating_add(1), "volume tag flags")?;
        let descriptor_len = usize::from(be16_at(data, pos.saturating_add(2), "element descriptor length")?);
        let page_bytes = to_usize(be24_at(data, pos.saturating_add(5), "byte count of descriptor data")?);
        if page_bytes > 0 && descriptor_len < DESCRIPTOR_LEN_MIN {
            return Err(ParseError {
                what: "element descriptor length",
                offset: pos.saturating_add(2),
                kind: ParseErrorKind::LengthTooSmall { value: descriptor_len, min: DESCRIPTOR_LEN_MIN },
            });
        }
        let layout = Layout { kind, descriptor_len, pvoltag: flags & PVOLTAG != 0, avoltag: flags & AVOLTAG != 0 };
        let page_start = pos.saturating_add(HEADER_LEN);
        let page_declared_end = page_start.saturating_add(page_bytes);
        let page_end = page_declared_end.min(end);
        truncated |= page_declared_end > end;
        let mut at = page_start;
        // Each turn moves `at` by descriptor_len >= 12.
        while at < page_end {
            let available = data.get(at..page_end).unwrap_or_default();
            let bytes = available.get(..descriptor_len).unwrap_or(available);
            match layout.descriptor(bytes) {
                Some(element) => elements.push(element),
                None => {
                    truncated = true;
                    break;
                }
            }
            at = at.saturating_add(descriptor_len);
        }
        pos = page_declared_end;
    }
    Ok(ElementStatus { header, elements, truncated })
}

/// What a page header says about its descriptors.
struct Layout {
    kind: ElementType,
    descriptor_len: usize,
    pvoltag: bool,
    avoltag: bool,
}

impl Layout {
    /// One descriptor from `bytes` (at most `descriptor_len` of them); `None`
    /// if there are fewer than [`PARTIAL_DESCRIPTOR_LEN_MIN`].
    fn descriptor(&self, bytes: &[u8]) -> Option<ElementDescriptor> {
        let &[addr_hi, addr_lo, flags, _reserved, asc, ascq] = bytes.first_chunk::<PARTIAL_DESCRIPTOR_LEN_MIN>()?;
        let flags = flags & self.kind.flag_mask();
        let byte9 = bytes.get(9).copied().unwrap_or(0);
        let source = if byte9 & SVALID != 0 { be16_opt(bytes, 10) } else { None };
        let tag_at = |index: usize| -> Option<String> {
            let start = VOLUME_TAGS_OFFSET.saturating_add(VOLUME_TAG_LEN.saturating_mul(index));
            let tag = ascii_field(bytes.get(start..start.saturating_add(VOLUME_ID_LEN))?);
            (!tag.is_empty()).then_some(tag)
        };
        let primary_volume_tag = if self.pvoltag { tag_at(0) } else { None };
        let alternate_volume_tag = if self.avoltag { tag_at(usize::from(self.pvoltag)) } else { None };
        let tags = usize::from(self.pvoltag).saturating_add(usize::from(self.avoltag));
        let dvcid_at = VOLUME_TAGS_OFFSET.saturating_add(VOLUME_TAG_LEN.saturating_mul(tags));
        let dvcid = bytes
            .get(dvcid_at..)
            .filter(|rest| rest.len() >= DESIGNATOR_HEADER_LEN)
            .and_then(DeviceId::read)
            .map(|(id, _)| id)
            .filter(|id| !id.identifier.is_empty());
        Some(ElementDescriptor {
            address: u16::from_be_bytes([addr_hi, addr_lo]),
            kind: self.kind,
            full: flags & FULL != 0,
            except: flags & EXCEPT != 0,
            access: flags & ACCESS != 0,
            impexp: flags & IMPEXP != 0,
            inenab: flags & INENAB != 0,
            exenab: flags & EXENAB != 0,
            asc,
            ascq,
            disabled: byte9 & ED != 0,
            invert: byte9 & INVERT != 0,
            medium_type: MediumType::from_code(byte9),
            source,
            primary_volume_tag,
            alternate_volume_tag,
            dvcid,
            truncated: bytes.len() < self.descriptor_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_codes_round_trip() {
        for kind in ElementType::ALL {
            assert_eq!(ElementType::from_code(kind.code()), Some(kind));
            assert_eq!(ElementTypeCode::from(kind).code(), kind.code());
        }
        assert_eq!(ElementType::from_code(0), None);
        assert_eq!(ElementType::from_code(5), None);
        for code in 0..8 {
            assert_eq!(MediumType::from_code(code).code(), code);
        }
    }

    #[test]
    fn header_only_answer_gives_the_length_to_ask_for() {
        // tgt's answer to allocation length 8 for its 10 slots with VolTag.
        let status = parse(&[0x03, 0xe8, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x10]).unwrap();
        assert!(status.elements.is_empty() && status.truncated);
        assert_eq!(status.header.byte_count, 528);
        assert_eq!(status.header.report_len(), 536);
    }

    #[test]
    fn descriptor_cut_before_ascq_is_dropped() {
        let mut data = vec![0, 1, 0, 1, 0, 0, 0, 24, 2, 0, 0, 16, 0, 0, 0, 16];
        data.extend_from_slice(&[0x03, 0xe8, 0x01, 0x00, 0x00]);
        let status = parse(&data).unwrap();
        assert!(status.elements.is_empty() && status.truncated);
    }

    #[test]
    fn page_with_no_descriptors_may_have_any_length() {
        let data = [0, 0, 0, 0, 0, 0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0];
        let status = parse(&data).unwrap();
        assert!(status.elements.is_empty() && !status.truncated);
    }
}
