//! Property tests: no byte string makes a parser panic (it returns Ok or
//! Err; loops end because each turn consumes input), truncations of valid
//! data parse to a prefix, and what the builder lays out parses back to what
//! it was built from. Proptest prints the seed of a failing case and keeps it
//! under `proptest-regressions/`.

mod common;

use common::{all_fixtures, build_report, PageSpec};
use proptest::prelude::*;
use rsm_scsi::{
    element_status, inquiry, mode_sense, sense, Association, CodeSet, DeviceId, ElementDescriptor, ElementMap,
    ElementRange, ElementType, IdType, MediumType, ModeHeader, ParseErrorKind, Sense, SenseFormat, SenseKey,
};

/// Runs every parser of the crate on `data`; each must return, not panic.
fn parse_everything(data: &[u8]) {
    if let Ok(status) = element_status::parse(data) {
        // Every descriptor but a page's last consumed at least 12 bytes, the
        // last at least 6, and every page 8 of header.
        assert!(status.elements.len() <= data.len() / 6);
    }
    let _ = element_status::parse_header(data);
    let _ = sense::parse(data).map(|sense| sense.classify());
    let _ = inquiry::parse_standard(data);
    let _ = inquiry::parse_unit_serial_number(data);
    if let Ok(ids) = inquiry::parse_device_identification(data) {
        let _ = inquiry::preferred_identifier(&ids).map(DeviceId::hex);
    }
    let _ = mode_sense::parse_element_address_assignment(data, ModeHeader::Six);
    let _ = mode_sense::parse_element_address_assignment(data, ModeHeader::Ten);
}

fn arb_kind() -> impl Strategy<Value = ElementType> {
    prop::sample::select(ElementType::ALL.to_vec())
}

/// A volume tag the builder can lay out and the parser gives back unchanged:
/// printable ASCII, not ending in a space, 1 to 32 characters.
fn arb_tag() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[!-~]([ -~]{0,30}[!-~])?")
}

fn arb_device_id(max_len: usize) -> impl Strategy<Value = DeviceId> {
    (0u8..16, 0u8..4, 0u8..16, prop::collection::vec(any::<u8>(), 1..=max_len)).prop_map(
        |(code_set, association, id_type, identifier)| DeviceId {
            code_set: CodeSet::from_code(code_set),
            association: Association::from_code(association),
            id_type: IdType::from_code(id_type),
            identifier,
        },
    )
}

fn arb_element(
    kind: ElementType,
    pvoltag: bool,
    avoltag: bool,
    dvcid_max: usize,
) -> impl Strategy<Value = ElementDescriptor> {
    let is_ie = kind == ElementType::ImportExport;
    let has_access = kind != ElementType::MediumTransport;
    let tags = (
        if pvoltag { arb_tag().boxed() } else { Just(None).boxed() },
        if avoltag { arb_tag().boxed() } else { Just(None).boxed() },
    );
    let dvcid = if dvcid_max > 0 { prop::option::of(arb_device_id(dvcid_max)).boxed() } else { Just(None).boxed() };
    (any::<u16>(), any::<[bool; 8]>(), any::<(u8, u8)>(), 0u8..8, any::<Option<u16>>(), tags, dvcid).prop_map(
        move |(address, bits, (asc, ascq), medium, source, (primary, alternate), dvcid)| ElementDescriptor {
            address,
            kind,
            full: bits[0],
            except: bits[1],
            access: bits[2] && has_access,
            impexp: bits[3] && is_ie,
            inenab: bits[4] && is_ie,
            exenab: bits[5] && is_ie,
            asc,
            ascq,
            disabled: bits[6],
            invert: bits[7],
            medium_type: MediumType::from_code(medium),
            source,
            primary_volume_tag: primary,
            alternate_volume_tag: alternate,
            dvcid,
            truncated: false,
        },
    )
}

fn arb_page() -> impl Strategy<Value = PageSpec> {
    (arb_kind(), any::<bool>(), any::<bool>(), prop_oneof![Just(0usize), 1usize..48]).prop_flat_map(
        |(kind, pvoltag, avoltag, dvcid_max)| {
            prop::collection::vec(arb_element(kind, pvoltag, avoltag, dvcid_max), 0..8)
                .prop_map(move |elements| PageSpec { kind, pvoltag, avoltag, dvcid_max, elements })
        },
    )
}

fn arb_report() -> impl Strategy<Value = Vec<PageSpec>> {
    prop::collection::vec(arb_page(), 0..5)
}

/// Data that gets past the header checks: a header whose byte count may or
/// may not match, then page headers with valid type codes and random
/// lengths, and random descriptor bytes.
fn arb_plausible_report() -> impl Strategy<Value = Vec<u8>> {
    let page = (1u8..=4, any::<u8>(), 0u16..120, 0u32..400, prop::collection::vec(any::<u8>(), 0..300));
    (any::<u16>(), any::<bool>(), 0u32..2000, prop::collection::vec(page, 0..4)).prop_map(
        |(first, exact, count, pages)| {
            let mut body = Vec::new();
            for (kind, flags, descriptor_len, page_bytes, bytes) in pages {
                body.push(kind);
                body.push(flags);
                body.extend_from_slice(&descriptor_len.to_be_bytes());
                body.push(0);
                body.extend_from_slice(&page_bytes.to_be_bytes()[1..]);
                body.extend_from_slice(&bytes);
            }
            let byte_count = if exact { u32::try_from(body.len()).unwrap() } else { count };
            let mut data = first.to_be_bytes().to_vec();
            data.extend_from_slice(&[0, 1, 0]);
            data.extend_from_slice(&byte_count.to_be_bytes()[1..]);
            data.extend_from_slice(&body);
            data
        },
    )
}

proptest! {
    #[test]
    fn no_byte_string_makes_a_parser_panic(data in prop::collection::vec(any::<u8>(), 0..700)) {
        parse_everything(&data);
    }

    #[test]
    fn plausible_element_status_never_panics(data in arb_plausible_report()) {
        parse_everything(&data);
    }

    #[test]
    fn mutated_real_captures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let fixtures = all_fixtures();
        let (_, mut data) = fixtures[pick.index(fixtures.len())].clone();
        if !data.is_empty() {
            for (at, byte) in edits {
                let i = at.index(data.len());
                data[i] = byte;
            }
            data.truncate(cut.index(data.len() + 1));
        }
        parse_everything(&data);
    }

    #[test]
    fn built_reports_parse_back(pages in arb_report()) {
        let data = build_report(&pages);
        let status = element_status::parse(&data).unwrap();
        let expected: Vec<ElementDescriptor> = pages.iter().flat_map(|page| page.elements.clone()).collect();
        prop_assert_eq!(&status.elements, &expected);
        prop_assert!(!status.truncated);
        prop_assert_eq!(usize::from(status.header.elements_available), expected.len());
        prop_assert_eq!(status.header.report_len() as usize, data.len());
    }

    #[test]
    fn truncated_reports_parse_to_a_prefix(pages in arb_report(), cut in any::<prop::sample::Index>()) {
        let data = build_report(&pages);
        let full = element_status::parse(&data).unwrap().elements;
        let cut = cut.index(data.len() + 1);
        match element_status::parse(&data[..cut]) {
            Err(err) => {
                prop_assert!(cut < 8);
                prop_assert_eq!(err.kind, ParseErrorKind::Truncated { needed: 8, available: cut });
            }
            Ok(status) => {
                prop_assert_eq!(status.truncated, cut < data.len());
                prop_assert!(status.elements.len() <= full.len());
                let last = status.elements.len().saturating_sub(1);
                for (i, (got, want)) in status.elements.iter().zip(&full).enumerate() {
                    if got.truncated {
                        // Only the last one can be cut, and what it has is right.
                        prop_assert_eq!(i, last);
                        prop_assert_eq!((got.address, got.kind, got.full, got.asc, got.ascq), (want.address, want.kind, want.full, want.asc, want.ascq));
                        prop_assert!(got.source.is_none() || got.source == want.source);
                        prop_assert!(got.primary_volume_tag.is_none() || got.primary_volume_tag == want.primary_volume_tag);
                        prop_assert!(got.dvcid.is_none() || got.dvcid == want.dvcid);
                    } else {
                        prop_assert_eq!(got, want);
                    }
                }
            }
        }
    }

    #[test]
    fn fixed_sense_parses_back(key in 0u8..16, asc: u8, ascq: u8, information: Option<u32>, deferred: bool) {
        let mut data = vec![0u8; 18];
        data[0] = if deferred { 0x71 } else { 0x70 } | if information.is_some() { 0x80 } else { 0 };
        data[2] = key;
        data[3..7].copy_from_slice(&information.unwrap_or(0).to_be_bytes());
        data[7] = 10;
        data[12] = asc;
        data[13] = ascq;
        let expected = Sense {
            key: SenseKey::from_code(key),
            asc,
            ascq,
            information: information.map(u64::from),
            deferred,
            format: SenseFormat::Fixed,
        };
        prop_assert_eq!(sense::parse(&data), Ok(expected));
    }

    #[test]
    fn descriptor_sense_parses_back(
        key in 0u8..16,
        asc: u8,
        ascq: u8,
        information: Option<u64>,
        deferred: bool,
        before in prop::collection::vec((0x80u8.., prop::collection::vec(any::<u8>(), 0..10)), 0..3),
    ) {
        let mut data = vec![if deferred { 0x73 } else { 0x72 }, key, asc, ascq, 0, 0, 0, 0];
        for (kind, bytes) in &before {
            data.push(*kind);
            data.push(u8::try_from(bytes.len()).unwrap());
            data.extend_from_slice(bytes);
        }
        if let Some(value) = information {
            data.extend_from_slice(&[0x00, 0x0a, 0x80, 0x00]);
            data.extend_from_slice(&value.to_be_bytes());
        }
        data[7] = u8::try_from(data.len() - 8).unwrap();
        let expected = Sense {
            key: SenseKey::from_code(key),
            asc,
            ascq,
            information,
            deferred,
            format: SenseFormat::Descriptor,
        };
        prop_assert_eq!(sense::parse(&data), Ok(expected));
    }

    #[test]
    fn element_address_page_parses_back(
        ranges in any::<[(u16, u16); 4]>(),
        ten: bool,
        block_descriptors in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        let mut page = vec![0x1d, 0x12];
        for (first, count) in ranges {
            page.extend_from_slice(&first.to_be_bytes());
            page.extend_from_slice(&count.to_be_bytes());
        }
        page.extend_from_slice(&[0, 0]);
        let bdl = block_descriptors.len();
        let mut data = if ten {
            let total = 8 + bdl + page.len();
            let mut header = u16::try_from(total - 2).unwrap().to_be_bytes().to_vec();
            header.extend_from_slice(&[0, 0, 0, 0]);
            header.extend_from_slice(&u16::try_from(bdl).unwrap().to_be_bytes());
            header
        } else {
            vec![u8::try_from(4 + bdl + page.len() - 1).unwrap(), 0, 0, u8::try_from(bdl).unwrap()]
        };
        data.extend_from_slice(&block_descriptors);
        data.extend_from_slice(&page);
        let range = |(first, count): (u16, u16)| ElementRange { first, count };
        let expected = ElementMap {
            transport: range(ranges[0]),
            storage: range(ranges[1]),
            import_export: range(ranges[2]),
            data_transfer: range(ranges[3]),
        };
        let header = if ten { ModeHeader::Ten } else { ModeHeader::Six };
        prop_assert_eq!(mode_sense::parse_element_address_assignment(&data, header), Ok(expected));
    }
}
