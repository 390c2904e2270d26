//! Parsers against real captures from tgt 1.0.85's SMC and SSC emulation
//! (`tests/fixtures/tgt_*.hex`; each file says what was sent and in what
//! state). These pin tgt's quirks: a report 8 bytes short, a wrong first
//! address, corrupt element type 0, stale tags.

mod common;

use common::{assert_lines, fixture, render};
use rsm_scsi::{
    element_status, inquiry, mode_sense, sense, Association, CodeSet, Condition, DeviceType, ElementRange, ElementType,
    IdType, ModeHeader, ParseErrorKind, SenseFormat, SenseKey,
};

#[track_caller]
fn check_elements(name: &str, expect: &str) {
    let status = element_status::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_lines(&render(&status), expect);
}

#[test]
fn transport_page_with_wrong_first_address() {
    let data = fixture("tgt_res_mt_voltag");
    let status = element_status::parse(&data).unwrap();
    // tgt says 501 (the last element of its list); the descriptor says 1.
    assert_eq!(status.header.first_address_reported, 501);
    assert_eq!(status.header.elements_available, 1);
    assert_eq!((status.header.byte_count, data.len()), (60, 60));
    check_elements(
        "tgt_res_mt_voltag",
        "MT 1 (cut)
         (truncated)",
    );
}

#[test]
fn storage_page_with_volume_tags() {
    check_elements(
        "tgt_res_st_voltag",
        "ST 1000 full tag=ABC001L6
         ST 1001 full tag=ABC002L6
         ST 1002 full tag=ABC003L6
         ST 1003 full tag=ABC004L6
         ST 1004 full tag=ABC005L6
         ST 1005 full tag=ABC006L6
         ST 1006
         ST 1007
         ST 1008
         ST 1009 (cut)
         (truncated)",
    );
}

#[test]
fn import_export_page_has_no_impexp_or_access() {
    let status = element_status::parse(&fixture("tgt_res_ie_voltag")).unwrap();
    assert_eq!(status.header.first_address_reported, 501);
    check_elements(
        "tgt_res_ie_voltag",
        "IE 10 (cut)
         (truncated)",
    );
}

#[test]
fn empty_drives() {
    check_elements(
        "tgt_res_dt_voltag",
        "DT 500
         DT 501 (cut)
         (truncated)",
    );
    check_elements(
        "tgt_res_dt_plain",
        "DT 500
         DT 501 (cut)
         (truncated)",
    );
}

#[test]
fn storage_page_without_volume_tags_cuts_the_last_descriptor_in_half() {
    let status = element_status::parse(&fixture("tgt_res_st_plain")).unwrap();
    check_elements(
        "tgt_res_st_plain",
        "ST 1000 full
         ST 1001 full
         ST 1002 full
         ST 1003 full
         ST 1004 full
         ST 1005 full
         ST 1006
         ST 1007
         ST 1008
         ST 1009 (cut)
         (truncated)",
    );
    assert_eq!(status.header.report_len(), 176);
}

#[test]
fn drive_identifiers_after_volume_tags() {
    check_elements(
        "tgt_res_dt_voltag_dvcid",
        r#"DT 500 dvcid=Ascii/LogicalUnit/T10:"IET     VIRTUAL-TAPE    beaf11"
           DT 501 (cut)
           (truncated)"#,
    );
    let status = element_status::parse(&fixture("tgt_res_dt_voltag_dvcid")).unwrap();
    let id = status.elements[0].dvcid.as_ref().unwrap();
    assert_eq!(id.identifier.len(), 34);
    assert_eq!((id.code_set, id.association, id.id_type), (CodeSet::Ascii, Association::LogicalUnit, IdType::T10));
}

#[test]
fn drive_identifiers_without_volume_tags() {
    check_elements(
        "tgt_res_dt_dvcid",
        r#"DT 500 dvcid=Ascii/LogicalUnit/T10:"IET     VIRTUAL-TAPE    beaf11"
           DT 501 (cut)
           (truncated)"#,
    );
}

#[test]
fn loaded_drives_show_tag_and_source() {
    check_elements(
        "tgt_res_dt_loaded_voltag",
        "DT 500 full src=1000 tag=ABC001L6
         DT 501 full src=1001 tag=ABC002L6 (cut)
         (truncated)",
    );
    check_elements(
        "tgt_res_dt_loaded_voltag_dvcid",
        r#"DT 500 full src=1000 tag=ABC001L6 dvcid=Ascii/LogicalUnit/T10:"IET     VIRTUAL-TAPE    beaf11"
           DT 501 full src=1001 tag=ABC002L6 (cut)
           (truncated)"#,
    );
}

#[test]
fn loaded_drive_without_volume_tags_loses_its_source() {
    check_elements(
        "tgt_res_dt_loaded_plain",
        "DT 500 full src=1000
         DT 501 full (cut)
         (truncated)",
    );
}

#[test]
fn source_is_the_previous_element_not_home() {
    check_elements(
        "tgt_res_st_after_round_trip",
        "ST 1000 full src=500 tag=ABC001L6
         ST 1001 full src=501 tag=ABC002L6
         ST 1002 full tag=ABC003L6
         ST 1003 full tag=ABC004L6
         ST 1004 full tag=ABC005L6
         ST 1005 full tag=ABC006L6
         ST 1006
         ST 1007
         ST 1008
         ST 1009 (cut)
         (truncated)",
    );
}

#[test]
fn full_import_export_element() {
    check_elements(
        "tgt_res_ie_full",
        "IE 10 full src=1005 tag=ABC006L6 (cut)
         (truncated)",
    );
}

#[test]
fn failed_load_leaves_a_stale_tag_on_an_empty_drive() {
    check_elements(
        "tgt_res_dt_stale_tag",
        "DT 500
         DT 501 tag=NOFILE01 (cut)
         (truncated)",
    );
}

#[test]
fn header_only_answer() {
    let data = fixture("tgt_res_st_header_only");
    let header = element_status::parse_header(&data).unwrap();
    assert_eq!((header.first_address_reported, header.elements_available, header.byte_count), (1000, 10, 528));
    assert_eq!(header.report_len(), 536);
    check_elements("tgt_res_st_header_only", "(truncated)");
}

#[test]
fn element_type_all_is_rejected() {
    // tgt writes the storage page header over the transport descriptor; the
    // page walk then lands inside a storage descriptor (its reserved byte 8).
    let err = element_status::parse(&fixture("tgt_res_all_types")).unwrap_err();
    assert_eq!(
        (err.what, err.offset, err.kind),
        ("element type code", 68, ParseErrorKind::UnexpectedValue { value: 0 })
    );
}

#[test]
fn mode_sense_6_element_address_page() {
    let map = mode_sense::parse_element_address_assignment(&fixture("tgt_mode_sense6_1d"), ModeHeader::Six).unwrap();
    assert_eq!(map.transport, ElementRange { first: 1, count: 1 });
    assert_eq!(map.storage, ElementRange { first: 1000, count: 10 });
    assert_eq!(map.import_export, ElementRange { first: 10, count: 1 });
    assert_eq!(map.data_transfer, ElementRange { first: 500, count: 2 });
    assert_eq!(map.type_of(1009), Some(ElementType::Storage));
    assert_eq!(map.type_of(501), Some(ElementType::DataTransfer));
}

#[test]
fn mode_sense_6_skips_the_block_descriptor() {
    let with = fixture("tgt_mode_sense6_1d_block_descriptor");
    let without = fixture("tgt_mode_sense6_1d");
    assert_eq!(with[3], 8, "tgt sent an 8-byte block descriptor");
    assert_eq!(
        mode_sense::parse_element_address_assignment(&with, ModeHeader::Six),
        mode_sense::parse_element_address_assignment(&without, ModeHeader::Six),
    );
}

#[test]
fn mode_sense_10_element_address_page() {
    let ten = mode_sense::parse_element_address_assignment(&fixture("tgt_mode_sense10_1d"), ModeHeader::Ten).unwrap();
    let six = mode_sense::parse_element_address_assignment(&fixture("tgt_mode_sense6_1d"), ModeHeader::Six).unwrap();
    assert_eq!(ten, six);
}

#[test]
fn standard_inquiry_of_changer_and_drive() {
    let changer = inquiry::parse_standard(&fixture("tgt_inquiry_changer")).unwrap();
    assert_eq!(changer.device_type, DeviceType::MediumChanger);
    assert_eq!((changer.qualifier, changer.removable, changer.version), (0, true, 5));
    assert_eq!(
        (changer.vendor.as_str(), changer.product.as_str(), changer.revision.as_str()),
        ("IET", "VIRTUAL-CHANGER", "0001")
    );
    let drive = inquiry::parse_standard(&fixture("tgt_inquiry_drive")).unwrap();
    assert_eq!(drive.device_type, DeviceType::SequentialAccess);
    assert_eq!((drive.vendor.as_str(), drive.product.as_str()), ("IET", "VIRTUAL-TAPE"));
}

#[test]
fn unit_serial_number() {
    assert_eq!(inquiry::parse_unit_serial_number(&fixture("tgt_vpd80_changer")).unwrap(), "beaf13");
}

#[test]
fn device_identification() {
    let ids = inquiry::parse_device_identification(&fixture("tgt_vpd83_changer")).unwrap();
    let summary: Vec<String> =
        ids.iter().map(|id| format!("{:?}/{:?}/{:?}:{}", id.code_set, id.association, id.id_type, id.hex())).collect();
    assert_eq!(
        summary,
        [
            "Ascii/LogicalUnit/T10:494554202020202030303031303030330000000000000000000000000000000000000000",
            "Binary/LogicalUnit/Naa:3000000100000003",
            "Binary/LogicalUnit/Naa:60000000000000000e00000000010003",
        ]
    );
    assert_eq!(ids[0].text().as_deref(), Some("IET     00010003"));
    assert_eq!(inquiry::preferred_identifier(&ids).map(|id| id.hex()).as_deref(), Some("3000000100000003"));
}

#[track_caller]
fn check_sense(name: &str, key: SenseKey, asc_ascq: u16, condition: Condition) {
    let sense = sense::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!((sense.key, sense.asc_ascq(), sense.classify()), (key, asc_ascq, condition), "{name}");
    assert_eq!((sense.format, sense.deferred, sense.information), (SenseFormat::Fixed, false, None), "{name}");
}

#[test]
fn sense_table() {
    use Condition as C;
    use SenseKey as K;
    check_sense("tgt_sense_unit_attention", K::UnitAttention, 0x2900, C::UnitAttention);
    check_sense("tgt_sense_destination_full", K::IllegalRequest, 0x3b0d, C::DestinationFull);
    check_sense("tgt_sense_source_empty", K::IllegalRequest, 0x3b0e, C::SourceEmpty);
    check_sense("tgt_sense_invalid_address", K::IllegalRequest, 0x2400, C::InvalidField);
    check_sense("tgt_sense_removal_prevented", K::IllegalRequest, 0x5302, C::RemovalPrevented);
    check_sense("tgt_sense_invalid_opcode", K::IllegalRequest, 0x2000, C::Other);
    check_sense("tgt_sense_hardware_error", K::HardwareError, 0x1501, C::HardwareError);
    check_sense("tgt_sense_medium_not_present", K::NotReady, 0x3a00, C::MediumNotPresent);
    check_sense("tgt_request_sense_no_sense", K::NoSense, 0x0000, C::Other);
}
