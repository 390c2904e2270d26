//! Parsers against hand-built data (`tests/fixtures/hand_*.hex`) for what tgt
//! never sends: standard multi-page reports, ACCESS/EXCEPT/ImpExp bits,
//! alternate tags, descriptor-format sense, and malformed or truncated data.

mod common;

use common::{assert_lines, fixture, render};
use rsm_scsi::{
    element_status, inquiry, mode_sense, sense, Condition, ElementRange, ElementType, ModeHeader, ParseError,
    ParseErrorKind, SenseFormat, SenseKey,
};

#[track_caller]
fn check_elements(name: &str, expect: &str) {
    let status = element_status::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_lines(&render(&status), expect);
}

#[track_caller]
fn check_error<T: std::fmt::Debug>(result: Result<T, ParseError>, what: &str, offset: usize, kind: ParseErrorKind) {
    let err = result.expect_err("an error");
    assert_eq!((err.what, err.offset, err.kind), (what, offset, kind));
}

#[test]
fn multi_page_report_with_every_element_type() {
    check_elements(
        "hand_res_multi_page",
        r#"MT 1
           ST 1000 full access medium=Data src=500 tag=ABC001L6
           ST 1001 access
           IE 10 full access impexp inenab exenab medium=Cleaning tag=CLN001L1
           DT 500 full except access asc=04/01 src=1001 tag=ABC002L6 dvcid=Ascii/LogicalUnit/T10:"IBM     ULT3580-TD8     1013000123"
           DT 501 except access disabled asc=3B/18 dvcid=Ascii/LogicalUnit/T10:"IBM     ULT3580-TD8     1013000124""#,
    );
    let status = element_status::parse(&fixture("hand_res_multi_page")).unwrap();
    assert_eq!(status.of_type(ElementType::Storage).count(), 2);
    assert_eq!(status.get(500).and_then(|e| e.primary_volume_tag.as_deref()), Some("ABC002L6"));
    assert_eq!(status.header.elements_available, 6);
}

#[test]
fn access_and_except_bits_with_both_volume_tags() {
    check_elements(
        "hand_res_access_except",
        "ST 2000 full access tag=XYZ123 alt=ALT-A
         ST 2001 except asc=3B/11
         ST 2002 full access invert src=2000 tag=INV001
         ST 2003 full tag=RSV001
         ST 2004 full invert tag=NOSRC1",
    );
}

#[test]
fn transport_flags_outside_full_and_except_are_ignored() {
    check_elements("hand_res_mt_except", "MT 1 full except asc=3B/16");
}

#[test]
fn reserved_element_type_is_an_error() {
    check_error(
        element_status::parse(&fixture("hand_res_bad_element_type")),
        "element type code",
        8,
        ParseErrorKind::UnexpectedValue { value: 5 },
    );
}

#[test]
fn descriptor_length_below_12_is_an_error() {
    check_error(
        element_status::parse(&fixture("hand_res_descriptor_length_too_small")),
        "element descriptor length",
        10,
        ParseErrorKind::LengthTooSmall { value: 8, min: 12 },
    );
}

#[test]
fn page_header_cut_short_is_truncation_not_error() {
    check_elements("hand_res_page_header_cut", "(truncated)");
}

#[test]
fn page_longer_than_the_data_keeps_what_is_whole() {
    check_elements(
        "hand_res_overstated_page",
        "ST 3000 full
         ST 3001
         ST 3002 full (cut)
         (truncated)",
    );
}

#[test]
fn bytes_past_the_report_byte_count_are_ignored() {
    check_elements("hand_res_trailing_bytes", "IE 7 full impexp");
}

#[test]
fn pages_without_descriptors() {
    check_elements("hand_res_empty_pages", "DT 256 access");
}

#[test]
fn short_element_status_header_is_an_error() {
    check_error(
        element_status::parse(&[0x00, 0x01, 0x00]),
        "element status data header",
        0,
        ParseErrorKind::Truncated { needed: 8, available: 3 },
    );
}

#[track_caller]
fn check_sense(name: &str, expect: (SenseKey, u16, Option<u64>, bool, SenseFormat, Condition)) {
    let s = sense::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!((s.key, s.asc_ascq(), s.information, s.deferred, s.format, s.classify()), expect, "{name}");
}

#[test]
fn sense_in_both_formats() {
    use Condition as C;
    use SenseFormat::{Descriptor, Fixed};
    use SenseKey as K;
    check_sense("hand_sense_descriptor", (K::IllegalRequest, 0x3b0e, Some(1000), false, Descriptor, C::SourceEmpty));
    check_sense(
        "hand_sense_descriptor_info_first_invalid",
        (K::UnitAttention, 0x2800, None, false, Descriptor, C::UnitAttention),
    );
    check_sense(
        "hand_sense_descriptor_deferred",
        (K::NotReady, 0x0401, None, true, Descriptor, C::NotReady { becoming_ready: true }),
    );
    check_sense("hand_sense_descriptor_cut", (K::HardwareError, 0x4400, None, false, Descriptor, C::HardwareError));
    check_sense("hand_sense_fixed_deferred_info", (K::NotReady, 0x3b18, Some(500), true, Fixed, C::ElementDisabled));
    check_sense("hand_sense_fixed_key_only", (K::MediumError, 0x0000, None, false, Fixed, C::Other));
}

#[test]
fn sense_that_is_not_sense() {
    check_error(
        sense::parse(&fixture("hand_sense_vendor_format")),
        "sense response code",
        0,
        ParseErrorKind::UnexpectedValue { value: 0x7f },
    );
    check_error(sense::parse(&[]), "sense response code", 0, ParseErrorKind::Truncated { needed: 1, available: 0 });
    check_error(sense::parse(&[0x70, 0x00]), "sense key", 2, ParseErrorKind::Truncated { needed: 3, available: 2 });
    check_error(sense::parse(&[0x72]), "sense key", 1, ParseErrorKind::Truncated { needed: 2, available: 1 });
}

#[test]
fn mode_sense_10_with_block_descriptor_and_another_page_first() {
    let map =
        mode_sense::parse_element_address_assignment(&fixture("hand_mode_sense10_block_descriptor"), ModeHeader::Ten)
            .unwrap();
    assert_eq!(map.transport, ElementRange { first: 1, count: 4 });
    assert_eq!(map.storage, ElementRange { first: 0x1000, count: 100 });
    assert_eq!(map.import_export, ElementRange { first: 0, count: 0 });
    assert_eq!(map.data_transfer, ElementRange { first: 0x100, count: 6 });
}

#[test]
fn malformed_mode_sense() {
    check_error(
        mode_sense::parse_element_address_assignment(
            &fixture("hand_mode_sense6_block_descriptor_overrun"),
            ModeHeader::Six,
        ),
        "block descriptors",
        4,
        ParseErrorKind::Truncated { needed: 4 + 0xf0, available: 24 },
    );
    check_error(
        mode_sense::parse_element_address_assignment(&fixture("hand_mode_sense6_page_missing"), ModeHeader::Six),
        "mode pages",
        4,
        ParseErrorKind::PageNotFound { page: 0x1d },
    );
    check_error(
        mode_sense::parse_element_address_assignment(&fixture("hand_mode_sense6_page_short"), ModeHeader::Six),
        "import/export element range",
        14,
        ParseErrorKind::Truncated { needed: 16, available: 14 },
    );
    check_error(
        mode_sense::parse_element_address_assignment(&[0x17, 0, 0], ModeHeader::Six),
        "mode parameter header",
        0,
        ParseErrorKind::Truncated { needed: 4, available: 3 },
    );
    // MODE SENSE(6) data read with the 10-byte header: "block descriptor
    // length" 1 moves the walk off the page boundaries, and 1Dh is not found.
    check_error(
        mode_sense::parse_element_address_assignment(&fixture("tgt_mode_sense6_1d"), ModeHeader::Ten),
        "mode pages",
        9,
        ParseErrorKind::PageNotFound { page: 0x1d },
    );
}

#[test]
fn truncated_inquiry_data() {
    check_error(
        inquiry::parse_device_identification(&fixture("hand_vpd83_overstated")),
        "VPD page",
        4,
        ParseErrorKind::Truncated { needed: 4 + 0x48, available: 20 },
    );
    check_error(
        inquiry::parse_standard(&fixture("hand_inquiry_short")),
        "standard INQUIRY data",
        0,
        ParseErrorKind::Truncated { needed: 36, available: 20 },
    );
    let serial = fixture("tgt_vpd80_changer");
    check_error(
        inquiry::parse_unit_serial_number(&serial[..20]),
        "VPD page",
        4,
        ParseErrorKind::Truncated { needed: 40, available: 20 },
    );
}
