//! MODE SENSE data: the element address assignment page (SMC, page 0x1D),
//! which says where each kind of element starts and how many there are.

use crate::cdb::ELEMENT_ADDRESS_ASSIGNMENT_PAGE;
use crate::error::{be16_at, u8_at, ParseError, ParseErrorKind};
use crate::ElementType;

/// Bytes of page 0x1D after its 2-byte page header that this crate reads:
/// four (first address, count) pairs. SMC's page length is 0x12 (18); the
/// last two are reserved.
const ELEMENT_ADDRESS_PAGE_FIELDS_LEN: usize = 16;

/// Which MODE SENSE was sent: the two have different parameter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeHeader {
    /// MODE SENSE(6): a 4-byte header, 1-byte mode data length.
    Six,
    /// MODE SENSE(10): an 8-byte header, 2-byte mode data length.
    Ten,
}

impl ModeHeader {
    fn len(self) -> usize {
        match self {
            Self::Six => 4,
            Self::Ten => 8,
        }
    }
}

/// A run of element addresses: `count` elements from `first` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ElementRange {
    /// The first address.
    pub first: u16,
    /// How many elements; 0 if the changer has none of this kind.
    pub count: u16,
}

impl ElementRange {
    /// Whether `address` is one of these elements.
    #[must_use]
    pub fn contains(&self, address: u16) -> bool {
        // u32 so that a range reaching 0xFFFF does not overflow.
        let end = u32::from(self.first).saturating_add(u32::from(self.count));
        (u32::from(self.first)..end).contains(&u32::from(address))
    }

    /// The addresses in order (those that fit in 16 bits).
    pub fn addresses(&self) -> impl Iterator<Item = u16> {
        let first = self.first;
        (0..self.count).map_while(move |i| first.checked_add(i))
    }
}

/// Where the elements of each type are: the element address assignment page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ElementMap {
    /// Medium transport elements (the robot's hands).
    pub transport: ElementRange,
    /// Storage elements (slots).
    pub storage: ElementRange,
    /// Import/export elements (mail slots, ports).
    pub import_export: ElementRange,
    /// Data transfer elements (drives).
    pub data_transfer: ElementRange,
}

impl ElementMap {
    /// The range of one element type.
    #[must_use]
    pub fn range(&self, kind: ElementType) -> ElementRange {
        match kind {
            ElementType::MediumTransport => self.transport,
            ElementType::Storage => self.storage,
            ElementType::ImportExport => self.import_export,
            ElementType::DataTransfer => self.data_transfer,
        }
    }

    /// The type of the element at `address`, if it is in a range (the first
    /// match in the order MT, ST, IE, DT if ranges overlap, which tgt allows).
    #[must_use]
    pub fn type_of(&self, address: u16) -> Option<ElementType> {
        ElementType::ALL.into_iter().find(|&kind| self.range(kind).contains(address))
    }
}

/// Parses the element address assignment page out of MODE SENSE data.
///
/// Block descriptors are skipped by their declared length; other pages before
/// 0x1D are skipped by theirs. Nothing past the mode data length is read.
///
/// # Errors
/// [`Truncated`](crate::ParseErrorKind::Truncated) if the header, the block
/// descriptors or the page's fields run past the data;
/// [`PageNotFound`](crate::ParseErrorKind::PageNotFound) if no page 0x1D is
/// there; [`LengthTooSmall`](crate::ParseErrorKind::LengthTooSmall) if its
/// page length is below 16.
pub fn parse_element_address_assignment(data: &[u8], header: ModeHeader) -> Result<ElementMap, ParseError> {
    let header_len = header.len();
    if data.len() < header_len {
        return Err(ParseError::truncated("mode parameter header", 0, header_len, data.len()));
    }
    let (declared_total, block_descriptors_len) = match header {
        ModeHeader::Six => (
            usize::from(u8_at(data, 0, "mode data length")?).saturating_add(1),
            usize::from(u8_at(data, 3, "block descriptor length")?),
        ),
        ModeHeader::Ten => (
            usize::from(be16_at(data, 0, "mode data length")?).saturating_add(2),
            usize::from(be16_at(data, 6, "block descriptor length")?),
        ),
    };
    let end = data.len().min(declared_total);
    let mut pos = header_len.saturating_add(block_descriptors_len);
    if pos > end {
        return Err(ParseError::truncated("block descriptors", header_len, pos, end));
    }
    // Each turn moves past at least a 2-byte page header, so this ends.
    while pos < end {
        let byte0 = u8_at(data, pos, "mode page code")?;
        let subpage_format = byte0 & 0x40 != 0;
        let (page_header_len, page_len) = if subpage_format {
            (4, usize::from(be16_at(data, pos.saturating_add(2), "mode subpage length")?))
        } else {
            (2, usize::from(u8_at(data, pos.saturating_add(1), "mode page length")?))
        };
        let body = pos.saturating_add(page_header_len);
        if byte0 & 0x3f == ELEMENT_ADDRESS_ASSIGNMENT_PAGE && !subpage_format {
            if page_len < ELEMENT_ADDRESS_PAGE_FIELDS_LEN {
                return Err(ParseError {
                    what: "element address assignment page length",
                    offset: pos.saturating_add(1),
                    kind: ParseErrorKind::LengthTooSmall { value: page_len, min: ELEMENT_ADDRESS_PAGE_FIELDS_LEN },
                });
            }
            let fields = data.get(..end).unwrap_or_default();
            let range = |at: usize, what| -> Result<ElementRange, ParseError> {
                let at = body.saturating_add(at);
                Ok(ElementRange {
                    first: be16_at(fields, at, what)?,
                    count: be16_at(fields, at.saturating_add(2), what)?,
                })
            };
            return Ok(ElementMap {
                transport: range(0, "medium transport element range")?,
                storage: range(4, "storage element range")?,
                import_export: range(8, "import/export element range")?,
                data_transfer: range(12, "data transfer element range")?,
            });
        }
        pos = body.saturating_add(page_len);
    }
    Err(ParseError {
        what: "mode pages",
        offset: header_len.saturating_add(block_descriptors_len),
        kind: ParseErrorKind::PageNotFound { page: ELEMENT_ADDRESS_ASSIGNMENT_PAGE },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_contains_and_lists_its_addresses() {
        let range = ElementRange { first: 1000, count: 3 };
        assert!(range.contains(1000) && range.contains(1002));
        assert!(!range.contains(999) && !range.contains(1003));
        assert_eq!(range.addresses().collect::<Vec<_>>(), [1000, 1001, 1002]);
        let top = ElementRange { first: 0xfffe, count: 5 };
        assert!(top.contains(0xffff));
        assert_eq!(top.addresses().collect::<Vec<_>>(), [0xfffe, 0xffff]);
        assert!(!ElementRange { first: 5, count: 0 }.contains(5));
    }

    #[test]
    fn page_after_another_page_is_found() {
        // MODE SENSE(6), no block descriptors, page 0x1F (2 bytes long) first.
        let mut data = vec![0, 0, 0, 0, 0x1f, 0x02, 0xaa, 0xbb, 0x1d, 0x12];
        data.extend_from_slice(&[0, 1, 0, 1, 0, 2, 0, 3, 0, 9, 0, 0, 0, 7, 0, 1, 0, 0]);
        data[0] = u8::try_from(data.len() - 1).unwrap();
        let map = parse_element_address_assignment(&data, ModeHeader::Six).unwrap();
        assert_eq!(map.storage, ElementRange { first: 2, count: 3 });
        assert_eq!(map.import_export, ElementRange { first: 9, count: 0 });
        assert_eq!(map.type_of(7), Some(ElementType::DataTransfer));
        assert_eq!(map.type_of(9), None);
    }

    #[test]
    fn mode_data_length_bounds_the_search() {
        // The page is in the buffer but past the declared mode data length.
        let mut data = vec![3, 0, 0, 0, 0x1d, 0x12];
        data.extend_from_slice(&[0; 18]);
        let err = parse_element_address_assignment(&data, ModeHeader::Six).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::PageNotFound { page: 0x1d });
    }
}
