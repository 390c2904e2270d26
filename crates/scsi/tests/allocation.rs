//! No input makes a parser allocate beyond a fixed multiple of its size:
//! nothing is allocated from a length field. Measured with a counting global
//! allocator (per thread, so the test harness's own threads do not count).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{all_fixtures, build_report, PageSpec};
use proptest::prelude::*;
use rsm_scsi::{element_status, inquiry, mode_sense, sense, ElementDescriptor, ElementType, MediumType, ModeHeader};

/// Bytes a parser may hold at its peak per byte of input: an element
/// descriptor (104 bytes on 64-bit targets) comes from at least 12 input
/// bytes, a growing `Vec` may hold up to twice its length, and while it
/// grows the old buffer is live too.
const BYTES_PER_INPUT_BYTE_MAX: usize = 40;

/// Allowance for inputs too small for the ratio to mean anything (a first
/// `Vec` capacity, one designator).
const BYTES_CONSTANT_MAX: usize = 1024;

struct Counting;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn add(bytes: usize) {
    let _ = CURRENT.try_with(|current| {
        let now = current.get().saturating_add(bytes);
        current.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn sub(bytes: usize) {
    let _ = CURRENT.try_with(|current| current.set(current.get().saturating_sub(bytes)));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// thread-local `Cell`s with const initialisers, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        sub(layout.size());
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the new block arriving before the old one leaves: the
        // worst case of a moving reallocation.
        add(new_size);
        sub(layout.size());
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most `f` held allocated at once, above what was allocated before it.
/// Whatever `f` returns is dropped inside the measurement.
fn peak_bytes<T>(f: impl FnOnce() -> T) -> usize {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(base));
    drop(f());
    PEAK.with(Cell::get).saturating_sub(base)
}

fn check_bounded(data: &[u8]) -> Result<(), TestCaseError> {
    let limit = BYTES_PER_INPUT_BYTE_MAX * data.len() + BYTES_CONSTANT_MAX;
    let runs: [(&str, usize); 7] = [
        ("element_status::parse", peak_bytes(|| element_status::parse(data))),
        ("sense::parse", peak_bytes(|| sense::parse(data))),
        ("inquiry::parse_standard", peak_bytes(|| inquiry::parse_standard(data))),
        ("inquiry::parse_unit_serial_number", peak_bytes(|| inquiry::parse_unit_serial_number(data))),
        ("inquiry::parse_device_identification", peak_bytes(|| inquiry::parse_device_identification(data))),
        ("mode sense (6)", peak_bytes(|| mode_sense::parse_element_address_assignment(data, ModeHeader::Six))),
        ("mode sense (10)", peak_bytes(|| mode_sense::parse_element_address_assignment(data, ModeHeader::Ten))),
    ];
    for (parser, bytes) in runs {
        prop_assert!(
            bytes <= limit,
            "{} allocated {} bytes for {} input bytes (limit {})",
            parser,
            bytes,
            data.len(),
            limit
        );
    }
    Ok(())
}

/// The densest report the format allows: many 12-byte descriptors.
fn dense_report(count: usize) -> Vec<u8> {
    let element = |address| ElementDescriptor {
        address,
        kind: ElementType::Storage,
        full: true,
        except: false,
        access: true,
        impexp: false,
        inenab: false,
        exenab: false,
        asc: 0,
        ascq: 0,
        disabled: false,
        invert: false,
        medium_type: MediumType::Data,
        source: Some(7),
        primary_volume_tag: None,
        alternate_volume_tag: None,
        dvcid: None,
        truncated: false,
    };
    let mut data = build_report(&[PageSpec {
        kind: ElementType::Storage,
        pvoltag: false,
        avoltag: false,
        dvcid_max: 0,
        elements: (0..count).map(|i| element(u16::try_from(i % 65536).unwrap())).collect(),
    }]);
    // Rewrite the descriptor length from 16 to the minimum, 12, keeping the
    // bytes: 4 more descriptors per 3.
    data[10..12].copy_from_slice(&12u16.to_be_bytes());
    data
}

#[test]
fn densest_reports_stay_within_the_bound() {
    for count in [1, 10, 100, 1000, 10_000] {
        let data = dense_report(count);
        let parsed = element_status::parse(&data).unwrap();
        assert!(parsed.elements.len() >= count, "{count}: {}", parsed.elements.len());
        check_bounded(&data).unwrap();
    }
}

#[test]
fn real_captures_stay_within_the_bound() {
    for (name, data) in all_fixtures() {
        check_bounded(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_huge_length_field_allocates_nothing_for_it() {
    // Byte count 16 MiB, descriptor length 65535, page byte count 16 MiB, in
    // 16 bytes of data.
    let data = [0, 1, 0, 1, 0, 0xff, 0xff, 0xff, 2, 0x80, 0xff, 0xff, 0, 0xff, 0xff, 0xff];
    assert!(peak_bytes(|| element_status::parse(&data)) < BYTES_CONSTANT_MAX);
    let vpd = [0x08, 0x83, 0xff, 0xff, 0x01, 0x03, 0x00, 0xff];
    assert!(peak_bytes(|| inquiry::parse_device_identification(&vpd)) < BYTES_CONSTANT_MAX);
}

proptest! {
    #[test]
    fn arbitrary_bytes_stay_within_the_bound(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        check_bounded(&data)?;
    }
}
