//! Command descriptor blocks: the exact bytes to send. Every function is total
//! (no error, no panic); the transport adds the data direction and length.
//!
//! The last byte of every CDB is CONTROL, always 0 (no NACA, no linking).

use crate::ElementTypeCode;

/// Operation codes of the commands this module builds.
pub mod opcode {
    /// TEST UNIT READY (SPC).
    pub const TEST_UNIT_READY: u8 = 0x00;
    /// REQUEST SENSE (SPC).
    pub const REQUEST_SENSE: u8 = 0x03;
    /// INITIALIZE ELEMENT STATUS (SMC).
    pub const INITIALIZE_ELEMENT_STATUS: u8 = 0x07;
    /// INQUIRY (SPC).
    pub const INQUIRY: u8 = 0x12;
    /// MODE SENSE(6) (SPC).
    pub const MODE_SENSE_6: u8 = 0x1a;
    /// LOAD UNLOAD (SSC).
    pub const LOAD_UNLOAD: u8 = 0x1b;
    /// PREVENT ALLOW MEDIUM REMOVAL (SPC).
    pub const PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1e;
    /// MODE SENSE(10) (SPC).
    pub const MODE_SENSE_10: u8 = 0x5a;
    /// MOVE MEDIUM (SMC).
    pub const MOVE_MEDIUM: u8 = 0xa5;
    /// READ ELEMENT STATUS (SMC).
    pub const READ_ELEMENT_STATUS: u8 = 0xb8;
    /// REWIND (SSC).
    pub const REWIND: u8 = 0x01;
    /// READ(6) (SSC).
    pub const READ_6: u8 = 0x08;
    /// WRITE(6) (SSC).
    pub const WRITE_6: u8 = 0x0a;
    /// WRITE FILEMARKS(6) (SSC).
    pub const WRITE_FILEMARKS_6: u8 = 0x10;
}

/// Largest transfer length of a READ(6) or WRITE(6) (a 24-bit field).
pub const TRANSFER_LENGTH_6_MAX: u32 = 0x00ff_ffff;

/// The low 24 bits of `n`, big-endian, as the 6-byte CDBs carry lengths.
fn length24(n: u32) -> [u8; 3] {
    let [_, a, b, c] = n.min(TRANSFER_LENGTH_6_MAX).to_be_bytes();
    [a, b, c]
}

/// The element address assignment mode page (SMC).
pub const ELEMENT_ADDRESS_ASSIGNMENT_PAGE: u8 = 0x1d;

/// Largest allocation length READ ELEMENT STATUS can carry (a 24-bit field).
pub const READ_ELEMENT_STATUS_ALLOCATION_MAX: u32 = 0x00ff_ffff;

/// MODE SENSE byte 1: DBD, "disable block descriptors". The element address
/// page is all we want; a changer has no blocks to describe.
const MODE_SENSE_DBD: u8 = 0x08;

/// INQUIRY: standard data when `evpd` is `None`, else the vital product data
/// page `evpd` (0x80 unit serial number, 0x83 device identification).
/// `alloc` is the most the device may return (SPC-3 and later: 16 bits).
#[must_use]
pub fn inquiry(evpd: Option<u8>, alloc: u16) -> [u8; 6] {
    let [len_hi, len_lo] = alloc.to_be_bytes();
    let (evpd_bit, page) = match evpd {
        Some(page) => (0x01, page),
        None => (0x00, 0x00),
    };
    [opcode::INQUIRY, evpd_bit, page, len_hi, len_lo, 0]
}

/// TEST UNIT READY: GOOD, or CHECK CONDITION with the reason in the sense data.
#[must_use]
pub fn test_unit_ready() -> [u8; 6] {
    [opcode::TEST_UNIT_READY, 0, 0, 0, 0, 0]
}

/// REQUEST SENSE for fixed-format sense (DESC = 0), `alloc` bytes at most
/// (18 covers the fixed format with no vendor bytes).
#[must_use]
pub fn request_sense(alloc: u8) -> [u8; 6] {
    [opcode::REQUEST_SENSE, 0, 0, 0, alloc, 0]
}

/// MODE SENSE(6) of the element address assignment page (0x1D), current
/// values, block descriptors disabled. tgt answers this one (see the notes).
#[must_use]
pub fn mode_sense6_element_address(alloc: u8) -> [u8; 6] {
    [opcode::MODE_SENSE_6, MODE_SENSE_DBD, ELEMENT_ADDRESS_ASSIGNMENT_PAGE, 0, alloc, 0]
}

/// MODE SENSE(10) of the element address assignment page (0x1D), current
/// values, block descriptors disabled.
#[must_use]
pub fn mode_sense10_element_address(alloc: u16) -> [u8; 10] {
    let [len_hi, len_lo] = alloc.to_be_bytes();
    [opcode::MODE_SENSE_10, MODE_SENSE_DBD, ELEMENT_ADDRESS_ASSIGNMENT_PAGE, 0, 0, 0, 0, len_hi, len_lo, 0]
}

/// READ ELEMENT STATUS of `count` elements of `element_type` from address
/// `start` on, with primary volume tags if `voltag` and device identifiers of
/// data transfer elements if `dvcid`. CURDATA is 0: the changer may move to
/// find out.
///
/// `alloc` is a 24-bit field; larger values are sent as
/// [`READ_ELEMENT_STATUS_ALLOCATION_MAX`]. Ask for one element type at a
/// time: tgt's answer to [`ElementTypeCode::All`] is corrupt (see the crate
/// documentation).
#[must_use]
pub fn read_element_status(
    element_type: ElementTypeCode,
    start: u16,
    count: u16,
    voltag: bool,
    dvcid: bool,
    alloc: u32,
) -> [u8; 12] {
    let [start_hi, start_lo] = start.to_be_bytes();
    let [count_hi, count_lo] = count.to_be_bytes();
    let [_, len_2, len_1, len_0] = alloc.min(READ_ELEMENT_STATUS_ALLOCATION_MAX).to_be_bytes();
    let byte1 = if voltag { 0x10 } else { 0 } | element_type.code();
    [
        opcode::READ_ELEMENT_STATUS,
        byte1,
        start_hi,
        start_lo,
        count_hi,
        count_lo,
        u8::from(dvcid),
        len_2,
        len_1,
        len_0,
        0,
        0,
    ]
}

/// MOVE MEDIUM from element `source` to element `destination` with the
/// transport element `transport`; `invert` turns the medium over (two-sided
/// media only; tgt mishandles it, so never set it there).
#[must_use]
pub fn move_medium(transport: u16, source: u16, destination: u16, invert: bool) -> [u8; 12] {
    let [t_hi, t_lo] = transport.to_be_bytes();
    let [s_hi, s_lo] = source.to_be_bytes();
    let [d_hi, d_lo] = destination.to_be_bytes();
    [opcode::MOVE_MEDIUM, 0, t_hi, t_lo, s_hi, s_lo, d_hi, d_lo, 0, 0, u8::from(invert), 0]
}

/// INITIALIZE ELEMENT STATUS: the changer re-inventories every element.
#[must_use]
pub fn initialize_element_status() -> [u8; 6] {
    [opcode::INITIALIZE_ELEMENT_STATUS, 0, 0, 0, 0, 0]
}

/// PREVENT ALLOW MEDIUM REMOVAL: PREVENT field 01b (prevent) or 00b (allow).
#[must_use]
pub fn prevent_allow_medium_removal(prevent: bool) -> [u8; 6] {
    [opcode::PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, u8::from(prevent), 0]
}

/// LOAD UNLOAD (SSC), for a tape drive: `load` threads the tape, otherwise
/// the drive unloads (rewinds and ejects) so the changer can take it;
/// `immediate` returns status before the motion completes.
#[must_use]
pub fn load_unload(load: bool, immediate: bool) -> [u8; 6] {
    [opcode::LOAD_UNLOAD, u8::from(immediate), 0, 0, u8::from(load), 0]
}

/// REWIND (SSC): back to the beginning of the partition; waits for it.
#[must_use]
pub fn rewind() -> [u8; 6] {
    [opcode::REWIND, 0, 0, 0, 0, 0]
}

/// READ(6) (SSC) of one variable-length block of at most `length` bytes;
/// `sili` suppresses the incorrect-length report of a shorter block.
#[must_use]
pub fn read6_variable(length: u32, sili: bool) -> [u8; 6] {
    let [a, b, c] = length24(length);
    [opcode::READ_6, if sili { 0x02 } else { 0 }, a, b, c, 0]
}

/// WRITE(6) (SSC) of one variable-length block of `length` bytes.
#[must_use]
pub fn write6_variable(length: u32) -> [u8; 6] {
    let [a, b, c] = length24(length);
    [opcode::WRITE_6, 0, a, b, c, 0]
}

/// WRITE FILEMARKS(6) (SSC): `count` filemarks, status after they are written.
#[must_use]
pub fn write_filemarks6(count: u32) -> [u8; 6] {
    let [a, b, c] = length24(count);
    [opcode::WRITE_FILEMARKS_6, 0, a, b, c, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ElementType;

    #[test]
    fn tape_commands_carry_24_bit_lengths() {
        assert_eq!(rewind(), [0x01, 0, 0, 0, 0, 0]);
        assert_eq!(read6_variable(65_536, true), [0x08, 0x02, 0x01, 0x00, 0x00, 0]);
        assert_eq!(read6_variable(80, false), [0x08, 0x00, 0x00, 0x00, 0x50, 0]);
        assert_eq!(write6_variable(80), [0x0a, 0, 0, 0, 0x50, 0]);
        assert_eq!(write_filemarks6(1), [0x10, 0, 0, 0, 1, 0]);
        assert_eq!(write6_variable(u32::MAX), [0x0a, 0, 0xff, 0xff, 0xff, 0], "clamped to 24 bits");
    }

    #[test]
    fn inquiry_standard_and_vpd() {
        assert_eq!(inquiry(None, 96), [0x12, 0x00, 0x00, 0x00, 0x60, 0x00]);
        assert_eq!(inquiry(Some(0x80), 255), [0x12, 0x01, 0x80, 0x00, 0xff, 0x00]);
        assert_eq!(inquiry(Some(0x83), 0x1234), [0x12, 0x01, 0x83, 0x12, 0x34, 0x00]);
    }

    #[test]
    fn test_unit_ready_is_all_zero() {
        assert_eq!(test_unit_ready(), [0; 6]);
    }

    #[test]
    fn request_sense_fixed_format() {
        assert_eq!(request_sense(18), [0x03, 0x00, 0x00, 0x00, 0x12, 0x00]);
    }

    #[test]
    fn mode_sense_element_address_page() {
        // The exact CDB the notes' tgt session sent: 1A 08 1D 00 FF 00.
        assert_eq!(mode_sense6_element_address(255), [0x1a, 0x08, 0x1d, 0x00, 0xff, 0x00]);
        assert_eq!(mode_sense10_element_address(0x0100), [0x5a, 0x08, 0x1d, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn read_element_status_fields() {
        assert_eq!(
            read_element_status(ElementType::Storage.into(), 1000, 10, true, false, 4096),
            [0xb8, 0x12, 0x03, 0xe8, 0x00, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00]
        );
        assert_eq!(
            read_element_status(ElementTypeCode::DataTransfer, 0, 0xffff, true, true, 0x01_0203),
            [0xb8, 0x14, 0x00, 0x00, 0xff, 0xff, 0x01, 0x01, 0x02, 0x03, 0x00, 0x00]
        );
        assert_eq!(
            read_element_status(ElementTypeCode::All, 1, 1, false, false, 8),
            [0xb8, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00]
        );
    }

    #[test]
    fn read_element_status_allocation_saturates_at_24_bits() {
        let cdb = read_element_status(ElementTypeCode::MediumTransport, 0, 1, false, false, u32::MAX);
        assert_eq!(cdb, [0xb8, 0x01, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0, 0]);
    }

    #[test]
    fn move_medium_fields() {
        // 1000 -> 500 with transport 1, as in the notes' tgt session.
        assert_eq!(move_medium(1, 1000, 500, false), [0xa5, 0x00, 0x00, 0x01, 0x03, 0xe8, 0x01, 0xf4, 0, 0, 0x00, 0]);
        assert_eq!(
            move_medium(0x0102, 0x0304, 0x0506, true),
            [0xa5, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0x01, 0]
        );
    }

    #[test]
    fn initialize_element_status_is_opcode_only() {
        assert_eq!(initialize_element_status(), [0x07, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn prevent_allow_medium_removal_field() {
        assert_eq!(prevent_allow_medium_removal(true), [0x1e, 0, 0, 0, 0x01, 0]);
        assert_eq!(prevent_allow_medium_removal(false), [0x1e, 0, 0, 0, 0x00, 0]);
    }

    #[test]
    fn load_unload_fields() {
        assert_eq!(load_unload(true, false), [0x1b, 0x00, 0, 0, 0x01, 0]);
        assert_eq!(load_unload(false, false), [0x1b, 0x00, 0, 0, 0x00, 0]);
        assert_eq!(load_unload(false, true), [0x1b, 0x01, 0, 0, 0x00, 0]);
    }
}
