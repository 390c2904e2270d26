//! On-media identifiers (OMIDs) and the media label libraries that claim
//! them (spec §1.11, UpdateNtmsOmidInfo, §7.2).
//!
//! A media label library looks at the first block of a side and either
//! claims it, saying what the label is (`MediaLabelInfo`: a type, an id
//! and a description), or does not. rsm ships three, tried in order:
//! rsm's own free-media label, LTFS volumes, and ANSI standard labels
//! (VOL1, as Bacula and mainframe tapes write them). Pure functions of the
//! bytes: the hardware adapters read the block, the rules decide.

use serde::{Deserialize, Serialize};

/// The largest label rsm reads or records, in bytes: a tape block of the
/// usual maximum; labels are 80 bytes.
pub const LABEL_BYTES_MAX: usize = 64 * 1024;
/// NTMS_OMIDLABELID_LENGTH: the longest label id.
pub const OMID_ID_LEN_MAX: usize = 255;
/// NTMS_OMIDLABELTYPE_LENGTH, less the terminating NUL.
pub const OMID_TYPE_LEN_MAX: usize = 63;
/// NTMS_OMIDLABELINFO_LENGTH, less the terminating NUL.
pub const OMID_INFO_LEN_MAX: usize = 255;

/// A side's on-media identifier: OmidLabelId, szOmidLabelType and
/// szOmidLabelInfo.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Omid {
    /// szOmidLabelType: the format or application that wrote the label
    /// (`ANSI`, `LTFS`, `RSM`, or a file system's type).
    pub label_type: String,
    /// OmidLabelId: what tells this side from every other of that type.
    pub label_id: Vec<u8>,
    /// szOmidLabelInfo: a description for people.
    pub info: String,
}

impl Omid {
    /// `TYPE:ID`, the id shown as text when it is printable.
    pub fn display(&self) -> String {
        let id = String::from_utf8_lossy(&self.label_id);
        format!("{}:{}", self.label_type, id.trim_end())
    }
}

/// What is on a side's first block, as the label libraries see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirstBlock {
    /// Nothing written (a blank medium).
    Blank,
    /// A label a library claimed.
    Claimed(Omid),
    /// Data no library claims.
    Unclaimed,
}

/// What a new cartridge is found to be (spec §7.2, cases 2 to 5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Classification {
    /// Nothing on it: the free pool, sides UNPREPARED until rsm's
    /// free-media label is written.
    Blank,
    /// rsm's own free-media label: the free pool, sides AVAILABLE.
    Free(Omid),
    /// A label a library claims, unknown to this database: the import
    /// pool, sides IMPORT.
    Import(Omid),
    /// Data no library claims: the unrecognized pool, sides FOREIGN.
    Foreign,
    /// No drive of its library reads its media type (or the drive refused
    /// it): the unrecognized pool, sides INCOMPATIBLE; it should be ejected.
    Incompatible,
}

impl Classification {
    /// The classification of what a drive read.
    pub fn of(block: &FirstBlock) -> Classification {
        match block {
            FirstBlock::Blank => Classification::Blank,
            FirstBlock::Claimed(omid) if omid.label_type == RSM_FREE_LABEL_TYPE => Classification::Free(omid.clone()),
            FirstBlock::Claimed(omid) => Classification::Import(omid.clone()),
            FirstBlock::Unclaimed => Classification::Foreign,
        }
    }
}

/// A media label library (the `ClaimMediaLabel` of Windows' label DLLs).
pub trait MediaLabelLibrary: Sync {
    /// Its name.
    fn name(&self) -> &'static str;
    /// The label's identifier when this library recognises the block.
    fn claim(&self, block: &[u8]) -> Option<Omid>;
}

/// rsm's own free-media label: an ANSI VOL1 record whose implementation
/// identifier is `RSM-FREE`, written by the NTMS_LM_WRITESCRATCH request.
pub struct RsmFreeLabel;
/// LTFS volumes: partition 0 starts with a VOL1 record whose
/// implementation identifier is `LTFS` (LTFS format specification §8.1).
pub struct LtfsLabel;
/// ANSI X3.27 / ISO 1001 volume labels (VOL1) of any other writer.
pub struct AnsiLabel;

/// The label libraries, in the order they are asked.
pub const MEDIA_LABEL_LIBRARIES: &[&dyn MediaLabelLibrary] = &[&RsmFreeLabel, &LtfsLabel, &AnsiLabel];

/// The label type of rsm's free-media label.
pub const RSM_FREE_LABEL_TYPE: &str = "RSM";
const RSM_FREE_IMPLEMENTATION: &str = "RSM-FREE";

/// The first library's claim on `block`, if any.
pub fn claim_label(block: &[u8]) -> Option<Omid> {
    MEDIA_LABEL_LIBRARIES.iter().find_map(|library| library.claim(block))
}

/// What `block` (none: nothing could be read, a blank medium) is.
pub fn read_first_block(block: Option<&[u8]>) -> FirstBlock {
    match block {
        None => FirstBlock::Blank,
        Some(b) if b.is_empty() || b.iter().all(|&x| x == 0) => FirstBlock::Blank,
        Some(b) => claim_label(b).map_or(FirstBlock::Unclaimed, FirstBlock::Claimed),
    }
}

/// rsm's free-media label for a cartridge: VOL1 with the bar code's first
/// six ASCII characters as volume identifier and its first fourteen as owner
/// identifier (for people and for tools that read only VOL1), followed by
/// user volume labels (UVL1, UVL2, ...) that carry the whole bar code, which
/// is what tells one cartridge's label from another's: bar codes run to 63
/// characters and long ones may share their first fourteen.
pub fn free_media_label(barcode: &str) -> Vec<u8> {
    // VOL1 needs a volume identifier; a bar code with no ASCII has none of its own.
    let ascii: String = barcode.chars().filter(|c| c.is_ascii_graphic()).collect();
    let volume = if ascii.is_empty() { "RSMFRE" } else { ascii.as_str() };
    let mut label = vol1(volume, RSM_FREE_IMPLEMENTATION, barcode);
    let payload = barcode_payload(barcode);
    for (i, chunk) in payload.as_bytes().chunks(UVL_PAYLOAD_LEN).enumerate() {
        label.extend_from_slice(format!("UVL{}", i + 1).as_bytes());
        label.extend_from_slice(chunk);
        label.resize(label.len() + UVL_PAYLOAD_LEN - chunk.len(), b' ');
    }
    label
}

/// Characters of payload in one user volume label after its "UVLn".
const UVL_PAYLOAD_LEN: usize = VOL1_LEN - 4;
/// User volume labels a label may carry (UVL1 to UVL9).
const UVL_MAX: usize = 9;
const PLAIN_BARCODE: &str = "BARCODE=";
const HEX_BARCODE: &str = "BARCODE-HEX=";

/// The bar code as the user volume labels carry it: as itself when it is
/// printable ASCII (every real bar code), else as the hex of its UTF-8 (at
/// most 12 + 2 x 252 characters, seven labels).
fn barcode_payload(barcode: &str) -> String {
    if barcode.bytes().all(|b| b.is_ascii_graphic()) {
        format!("{PLAIN_BARCODE}{barcode}")
    } else {
        let hex: String = barcode.bytes().map(|b| format!("{b:02X}")).collect();
        format!("{HEX_BARCODE}{hex}")
    }
}

/// The bar code the user volume labels after a VOL1 record carry, if they
/// carry one well formed.
fn parse_barcode_payload(block: &[u8]) -> Option<String> {
    let mut payload = String::new();
    for (i, record) in block.get(VOL1_LEN..)?.chunks_exact(VOL1_LEN).take(UVL_MAX).enumerate() {
        if record[..4] != *format!("UVL{}", i + 1).as_bytes() {
            break;
        }
        payload.push_str(std::str::from_utf8(&record[4..]).ok()?);
    }
    let payload = payload.trim_end();
    if let Some(plain) = payload.strip_prefix(PLAIN_BARCODE) {
        return (!plain.is_empty() && plain.bytes().all(|b| b.is_ascii_graphic())).then(|| plain.to_string());
    }
    let hex = payload.strip_prefix(HEX_BARCODE)?;
    if hex.is_empty() || hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// An ANSI VOL1 record (80 bytes): `volume` (6), `implementation` (13) and
/// `owner` (14), each cut and space-padded; label standard version 4.
pub fn vol1(volume: &str, implementation: &str, owner: &str) -> Vec<u8> {
    let field = |text: &str, width: usize| {
        let mut bytes: Vec<u8> = text.bytes().filter(|b| b.is_ascii_graphic() || *b == b' ').take(width).collect();
        bytes.resize(width, b' ');
        bytes
    };
    let mut record = b"VOL1".to_vec();
    record.extend(field(volume, 6));
    record.push(b' '); // accessibility: unrestricted
    record.extend(field("", 13));
    record.extend(field(implementation, 13));
    record.extend(field(owner, 14));
    record.extend(field("", 28));
    record.push(b'4');
    debug_assert_eq!(record.len(), VOL1_LEN);
    record
}

const VOL1_LEN: usize = 80;

/// The fields of a VOL1 record, when `block` starts with one: volume
/// identifier, implementation identifier, owner (each trimmed).
fn parse_vol1(block: &[u8]) -> Option<(String, String, String)> {
    let record = block.get(..VOL1_LEN)?;
    if &record[..4] != b"VOL1" || !record.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return None;
    }
    let text = |range: std::ops::Range<usize>| String::from_utf8_lossy(&record[range]).trim().to_string();
    let volume = text(4..10);
    if volume.is_empty() {
        return None;
    }
    Some((volume, text(24..37), text(37..51)))
}

impl MediaLabelLibrary for RsmFreeLabel {
    fn name(&self) -> &'static str {
        "rsm free media"
    }

    fn claim(&self, block: &[u8]) -> Option<Omid> {
        let (volume, implementation, owner) = parse_vol1(block)?;
        // A label of rsm before the user volume labels carries its bar code
        // only in the owner field.
        let id = parse_barcode_payload(block).unwrap_or(if owner.is_empty() { volume.clone() } else { owner });
        (implementation == RSM_FREE_IMPLEMENTATION).then(|| Omid {
            label_type: RSM_FREE_LABEL_TYPE.into(),
            label_id: id.clone().into_bytes(),
            info: format!("rsm free media label of {id}, volume {volume}"),
        })
    }
}

impl MediaLabelLibrary for LtfsLabel {
    fn name(&self) -> &'static str {
        "LTFS"
    }

    fn claim(&self, block: &[u8]) -> Option<Omid> {
        let (volume, implementation, owner) = parse_vol1(block)?;
        (implementation == "LTFS").then(|| Omid {
            label_type: "LTFS".into(),
            label_id: volume.clone().into_bytes(),
            info: format!("LTFS volume {volume}{}", owned_by(&owner)),
        })
    }
}

impl MediaLabelLibrary for AnsiLabel {
    fn name(&self) -> &'static str {
        "ANSI standard label"
    }

    fn claim(&self, block: &[u8]) -> Option<Omid> {
        let (volume, implementation, owner) = parse_vol1(block)?;
        let writer = if implementation.is_empty() { String::new() } else { format!(", written by {implementation}") };
        Some(Omid {
            label_type: "ANSI".into(),
            label_id: volume.clone().into_bytes(),
            info: format!("ANSI VOL1 volume {volume}{}{writer}", owned_by(&owner)),
        })
    }
}

fn owned_by(owner: &str) -> String {
    if owner.is_empty() {
        String::new()
    } else {
        format!(", owner {owner}")
    }
}

/// NTMS_FILESYSTEM_INFO as UpdateNtmsOmidInfo takes it: the file system's
/// type, the volume's name and serial number, used as the OMID.
pub fn file_system_omid(file_system: &str, volume: &str, serial: u32) -> Omid {
    Omid {
        label_type: file_system.to_string(),
        label_id: format!("{volume}:{serial:08X}").into_bytes(),
        info: format!("{file_system} volume {volume}, serial {serial:08X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_library_claims_its_own_labels_in_order() {
        let free = claim_label(&free_media_label("A00001L8")).expect("claimed");
        assert_eq!((free.label_type.as_str(), free.label_id.as_slice()), ("RSM", b"A00001L8".as_slice()));
        let other = claim_label(&free_media_label("A00002L8")).expect("claimed");
        assert_ne!(free, other, "two cartridges whose bar codes share six characters");
        let ltfs = claim_label(&vol1("LT0042", "LTFS", "backup")).expect("claimed");
        assert_eq!((ltfs.label_type.as_str(), ltfs.info.as_str()), ("LTFS", "LTFS volume LT0042, owner backup"));
        let ansi = claim_label(&vol1("BAC001", "Bacula", "")).expect("claimed");
        assert_eq!((ansi.label_type.as_str(), ansi.label_id.as_slice()), ("ANSI", b"BAC001".as_slice()));
        assert_eq!(ansi.display(), "ANSI:BAC001");
    }

    #[test]
    fn free_labels_of_long_bar_codes_sharing_their_first_fourteen_differ() {
        let long = "CARTRIDGE-0000000000000001";
        let other = "CARTRIDGE-0000000000000002";
        let a = claim_label(&free_media_label(long)).expect("claimed");
        let b = claim_label(&free_media_label(other)).expect("claimed");
        assert_eq!(a.label_id, long.as_bytes());
        assert_ne!(a, b);
        let widest = "\u{1f4fc}".repeat(crate::limits::BARCODE_LEN_MAX);
        let label = free_media_label(&widest);
        assert_eq!(claim_label(&label).expect("claimed").label_id, widest.as_bytes());
        assert_eq!(label.len() % 80, 0);
        assert!(label.iter().all(|b| b.is_ascii_graphic() || *b == b' '));
    }

    #[test]
    fn a_free_label_without_user_volume_labels_is_read_by_its_owner_field() {
        let old = vol1("A00001", "RSM-FREE", "A00001L8");
        assert_eq!(claim_label(&old).expect("claimed").label_id, b"A00001L8");
        let mut bad = free_media_label("A00001L8");
        bad[80 + 12] = b'G';
        bad.truncate(160);
        bad[80 + 4..80 + 16].copy_from_slice(b"BARCODE-HEX=");
        assert_eq!(claim_label(&bad).expect("claimed").label_id, b"A00001L8", "a bad payload falls back");
    }

    #[test]
    fn blank_and_foreign_blocks_are_told_apart() {
        assert_eq!(read_first_block(None), FirstBlock::Blank);
        assert_eq!(read_first_block(Some(&[0; 512])), FirstBlock::Blank);
        assert_eq!(read_first_block(Some(b"tar archive, not a label")), FirstBlock::Unclaimed);
        // A VOL1 record cut short, with an empty volume id, or with control bytes is nobody's.
        assert_eq!(read_first_block(Some(&vol1("ABC123", "", "")[..79])), FirstBlock::Unclaimed);
        assert_eq!(read_first_block(Some(&vol1("", "", ""))), FirstBlock::Unclaimed);
        let mut control = vol1("ABC123", "", "");
        control[60] = 0x07;
        assert_eq!(read_first_block(Some(&control)), FirstBlock::Unclaimed);
    }

    #[test]
    fn a_vol1_record_is_eighty_bytes_whatever_its_fields() {
        let long = vol1("TOO-LONG-VOLUME", "an implementation too long", "\u{e9}t\u{e9}\nowner");
        assert_eq!(long.len(), 80);
        assert_eq!(&long[4..10], b"TOO-LO");
        assert!(long.iter().all(|b| b.is_ascii_graphic() || *b == b' '));
    }
}
