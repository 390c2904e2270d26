//! What a library's own reports say about media types: the media
//! identifier at the end of an LTO bar code label (`L8`: an LTO-8 data
//! cartridge), and a tape drive's INQUIRY product identification
//! (`ULT3580-TD8`: an LTO-8 drive). An attached library's media type comes
//! from these where they give it, else from the operator's configuration.

use crate::ids::MediaTypeId;
use crate::media_services::{media_type_named, MEDIA_TYPES};

/// The media type an LTO bar code label names: eight characters, a
/// six-character volume serial and the media identifier (`L1`..`L9` data
/// cartridges, `LY` and `LZ` WORM ones of generations 8 and 9). Cleaning
/// cartridges (`CLN...`), LTO-7 type M (`M8`) and every other bar code
/// name no type of the catalog.
pub fn media_type_from_barcode(barcode: &str) -> Option<MediaTypeId> {
    let label = barcode.to_ascii_uppercase();
    let (serial, suffix) = (label.get(..6)?, label.get(6..)?);
    if label.len() != 8 || !serial.bytes().all(|b| b.is_ascii_alphanumeric()) || serial.starts_with("CLN") {
        return None;
    }
    let name = match suffix.as_bytes() {
        [b'L', g @ b'1'..=b'9'] => format!("LTO-{}", *g as char),
        b"LY" => "LTO-8-WORM".to_string(),
        b"LZ" => "LTO-9-WORM".to_string(),
        _ => return None,
    };
    media_type_named(&name).map(|t| t.id)
}

/// The media type an LTO drive writes natively, from its INQUIRY product
/// identification: IBM's `ULT3580-TD8` and `ULTRIUM-HH8`, HPE's `Ultrium
/// 8-SCSI`, and `LTO8`/`LTO-8` as other vendors write it. A product that
/// names no generation (a virtual drive's `VIRTUAL-TAPE`) names no type.
pub fn drive_type_from_product(product: &str) -> Option<MediaTypeId> {
    let product = product.to_ascii_uppercase();
    let generation = ["-TD", "-HH", "-FH", "ULTRIUM ", "LTO-", "LTO"]
        .iter()
        .find_map(|marker| {
            let at = product.find(marker)? + marker.len();
            let digits: String = product[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse::<u8>().ok()
        })
        .filter(|g| *g > 0)?;
    MEDIA_TYPES.iter().find(|t| t.family == "LTO" && t.generation == generation && t.sides == 1).map(|t| t.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(id: Option<MediaTypeId>) -> Option<&'static str> {
        id.and_then(crate::media_services::media_type).map(|t| t.name)
    }

    #[test]
    fn an_lto_label_names_its_generation_and_worm() {
        assert_eq!(name(media_type_from_barcode("E01001L8")), Some("LTO-8"));
        assert_eq!(name(media_type_from_barcode("ABC123l7")), Some("LTO-7"));
        assert_eq!(name(media_type_from_barcode("WRM001LY")), Some("LTO-8-WORM"));
        assert_eq!(name(media_type_from_barcode("CLN001L1")), None, "a cleaner");
        assert_eq!(name(media_type_from_barcode("TYPEM1M8")), None, "LTO-7 type M is not in the catalog");
        assert_eq!(name(media_type_from_barcode("L8")), None);
        assert_eq!(name(media_type_from_barcode("LIB10001L8")), None, "not an LTO label's length");
        assert_eq!(name(media_type_from_barcode("caf\u{e9}L8")), None);
    }

    #[test]
    fn a_drive_product_names_the_generation_it_writes() {
        assert_eq!(name(drive_type_from_product("ULT3580-TD8")), Some("LTO-8"));
        assert_eq!(name(drive_type_from_product("ULTRIUM-HH9")), Some("LTO-9"));
        assert_eq!(name(drive_type_from_product("Ultrium 7-SCSI")), Some("LTO-7"));
        assert_eq!(name(drive_type_from_product("LTO6")), Some("LTO-6"));
        assert_eq!(name(drive_type_from_product("VIRTUAL-TAPE")), None);
        assert_eq!(name(drive_type_from_product("ULTRIUM-TD12")), None, "no LTO-12 in the catalog");
        assert_eq!(name(drive_type_from_product("")), None);
    }
}
