//! Shared by the integration tests: fixture loading, a one-line-per-element
//! rendering for `check(input, expect)` tests, and a small builder of
//! standard READ ELEMENT STATUS data.
#![allow(dead_code)] // Each test binary uses its own part.

use std::fmt::Write as _;
use std::path::PathBuf;

use rsm_scsi::{CodeSet, DeviceId, ElementDescriptor, ElementStatus, ElementType, MediumType};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// The bytes of `tests/fixtures/<name>.hex`: hex pairs separated by white
/// space, `#` starting a comment line.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    parse_hex(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Every fixture, by name, in name order.
pub fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("the fixtures directory exists")
        .map(|entry| entry.expect("a readable directory entry").file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".hex").map(str::to_owned))
        .collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), fixture(&name))).collect()
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    for line in text.lines().filter(|line| !line.trim_start().starts_with('#')) {
        for pair in line.split_whitespace() {
            bytes.push(u8::from_str_radix(pair, 16).map_err(|e| format!("{pair:?}: {e}"))?);
        }
    }
    Ok(bytes)
}

/// One line per element: type and address, then only what is set.
pub fn render(status: &ElementStatus) -> String {
    let mut out = String::new();
    for element in &status.elements {
        out.push_str(&render_element(element));
        out.push('\n');
    }
    if status.truncated {
        out.push_str("(truncated)\n");
    }
    out
}

pub fn render_element(e: &ElementDescriptor) -> String {
    let mut line = format!("{} {}", e.kind.abbreviation(), e.address);
    let flags = [
        (e.full, "full"),
        (e.except, "except"),
        (e.access, "access"),
        (e.impexp, "impexp"),
        (e.inenab, "inenab"),
        (e.exenab, "exenab"),
        (e.disabled, "disabled"),
        (e.invert, "invert"),
    ];
    for (set, name) in flags {
        if set {
            line.push(' ');
            line.push_str(name);
        }
    }
    if (e.asc, e.ascq) != (0, 0) {
        let _ = write!(line, " asc={:02X}/{:02X}", e.asc, e.ascq);
    }
    if e.medium_type != MediumType::Unspecified {
        let _ = write!(line, " medium={:?}", e.medium_type);
    }
    if let Some(source) = e.source {
        let _ = write!(line, " src={source}");
    }
    if let Some(tag) = &e.primary_volume_tag {
        let _ = write!(line, " tag={tag}");
    }
    if let Some(tag) = &e.alternate_volume_tag {
        let _ = write!(line, " alt={tag}");
    }
    if let Some(id) = &e.dvcid {
        let text = id.text().unwrap_or_else(|| id.hex());
        let _ = write!(line, " dvcid={:?}/{:?}/{:?}:{text:?}", id.code_set, id.association, id.id_type);
    }
    if e.truncated {
        line.push_str(" (cut)");
    }
    line
}

/// Compares `actual` with `expected` line by line, ignoring the indentation
/// of `expected` and blank lines, and shows both on a mismatch.
#[track_caller]
pub fn assert_lines(actual: &str, expected: &str) {
    let want: Vec<&str> = expected.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let got: Vec<&str> = actual.lines().collect();
    assert!(want == got, "\n--- expected\n{}\n--- actual\n{}", want.join("\n"), got.join("\n"));
}

/// One page of a report to build: its element type, which optional parts
/// each descriptor carries, and the descriptors.
#[derive(Debug, Clone)]
pub struct PageSpec {
    pub kind: ElementType,
    pub pvoltag: bool,
    pub avoltag: bool,
    /// Room for a device identifier: 0 for none (4 reserved bytes instead),
    /// else the longest identifier any descriptor of the page carries.
    pub dvcid_max: usize,
    pub elements: Vec<ElementDescriptor>,
}

impl PageSpec {
    pub fn descriptor_len(&self) -> usize {
        12 + 36 * usize::from(self.pvoltag) + 36 * usize::from(self.avoltag) + 4 + self.dvcid_max
    }
}

/// READ ELEMENT STATUS data for `pages`, laid out as SMC-3 says (byte counts
/// exact), with the header's first address and count taken from the
/// descriptors.
pub fn build_report(pages: &[PageSpec]) -> Vec<u8> {
    let mut body = Vec::new();
    for page in pages {
        let len = page.descriptor_len();
        let mut flags = 0u8;
        if page.pvoltag {
            flags |= 0x80;
        }
        if page.avoltag {
            flags |= 0x40;
        }
        body.push(page.kind.code());
        body.push(flags);
        body.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        body.push(0);
        body.extend_from_slice(&u32::try_from(len * page.elements.len()).unwrap().to_be_bytes()[1..]);
        for element in &page.elements {
            let start = body.len();
            body.extend_from_slice(&element_bytes(page, element));
            assert_eq!(body.len() - start, len);
        }
    }
    let first = pages.iter().flat_map(|page| &page.elements).map(|e| e.address).next().unwrap_or(0);
    let count: usize = pages.iter().map(|page| page.elements.len()).sum();
    let mut data = Vec::new();
    data.extend_from_slice(&first.to_be_bytes());
    data.extend_from_slice(&u16::try_from(count).unwrap().to_be_bytes());
    data.push(0);
    data.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    data.extend_from_slice(&body);
    data
}

fn element_bytes(page: &PageSpec, e: &ElementDescriptor) -> Vec<u8> {
    let mut flags = 0u8;
    for (set, bit) in
        [(e.full, 0x01), (e.impexp, 0x02), (e.except, 0x04), (e.access, 0x08), (e.exenab, 0x10), (e.inenab, 0x20)]
    {
        if set {
            flags |= bit;
        }
    }
    let mut byte9 = e.medium_type.code();
    if e.source.is_some() {
        byte9 |= 0x80;
    }
    if e.invert {
        byte9 |= 0x40;
    }
    if e.disabled {
        byte9 |= 0x08;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&e.address.to_be_bytes());
    out.extend_from_slice(&[flags, 0, e.asc, e.ascq, 0, 0, 0, byte9]);
    out.extend_from_slice(&e.source.unwrap_or(0).to_be_bytes());
    let tag = |out: &mut Vec<u8>, tag: &Option<String>| {
        let text = tag.as_deref().unwrap_or("").as_bytes();
        assert!(text.len() <= 32);
        out.extend_from_slice(text);
        out.resize(out.len() + 32 - text.len(), b' ');
        out.extend_from_slice(&[0, 0, 0, 0]);
    };
    if page.pvoltag {
        tag(&mut out, &e.primary_volume_tag);
    }
    if page.avoltag {
        tag(&mut out, &e.alternate_volume_tag);
    }
    let room = 4 + page.dvcid_max;
    let start = out.len();
    if let Some(id) = &e.dvcid {
        out.push(id.code_set.code());
        out.push(id.association.code() << 4 | id.id_type.code());
        out.push(0);
        out.push(u8::try_from(id.identifier.len()).unwrap());
        out.extend_from_slice(&id.identifier);
    }
    assert!(out.len() - start <= room);
    out.resize(start + room, 0);
    out
}

/// An ASCII T10 vendor ID designator, as tgt and most drives report in DVCID.
pub fn t10_ascii(text: &str) -> DeviceId {
    DeviceId {
        code_set: CodeSet::Ascii,
        association: rsm_scsi::Association::LogicalUnit,
        id_type: rsm_scsi::IdType::T10,
        identifier: text.as_bytes().to_vec(),
    }
}
