//! A tape's first block through its drive (SSC): what classification reads
//! and the free-media label rsm writes. REWIND, then one variable-length
//! READ(6) or WRITE(6) (and a filemark after a write), then REWIND again so
//! the drive unloads at once.

use rsm_scsi::{cdb, sense, SenseKey};
use rsm_transport::{status, DataDirection, ScsiTransport};

use super::command::{check_error, hex, transport_error, Runner};
use crate::adapter::{AdapterError, FIRST_BLOCK_MAX};

/// [`FIRST_BLOCK_MAX`] as a transfer length (64 KiB fits 24 bits).
const FIRST_BLOCK_LEN: u32 = 64 * 1024;
const _: () = assert!(FIRST_BLOCK_LEN as usize == FIRST_BLOCK_MAX);

/// What a READ at the beginning of the tape answered, beyond GOOD.
fn nothing_written(key: SenseKey, asc: u8, ascq: u8) -> bool {
    // BLANK CHECK (end of data at once), or a filemark, end of data or end
    // of partition before any block (00/01, 00/05, 00/02).
    key == SenseKey::BlankCheck || (key == SenseKey::NoSense && asc == 0 && matches!(ascq, 1 | 2 | 5))
}

fn rewind(runner: &Runner<'_>, transport: &dyn ScsiTransport, drive: u16, timeout_ms: u32) -> Result<(), AdapterError> {
    runner.run(transport, &format!("REWIND of drive {drive}"), &cdb::rewind(), 0, timeout_ms).map(drop)
}

/// The first block of the tape loaded in `drive`, at most
/// [`FIRST_BLOCK_MAX`] bytes of it (a longer block is cut there); `None`
/// when nothing is written at the beginning.
pub(crate) fn read_first_block(
    runner: &Runner<'_>,
    transport: &dyn ScsiTransport,
    drive: u16,
    timeout_ms: u32,
) -> Result<Option<Vec<u8>>, AdapterError> {
    let length = FIRST_BLOCK_LEN;
    let block = match read_block(runner, transport, drive, length, timeout_ms)? {
        Read::Block(data) => Some(data),
        Read::Nothing => None,
        // A drive that ignores SILI reports the shorter block's length as
        // the residue (INFORMATION): read again, exactly that much.
        Read::Shorter { residue } if residue > 0 && residue < length => {
            match read_block(runner, transport, drive, length.saturating_sub(residue), timeout_ms)? {
                Read::Block(data) => Some(data),
                Read::Nothing => None,
                Read::Shorter { .. } => {
                    return Err(AdapterError::Io(format!(
                        "READ(6) of the first block in drive {drive}: its length changed between two reads"
                    )))
                }
            }
        }
        Read::Shorter { residue } => {
            return Err(AdapterError::Io(format!(
                "READ(6) of the first block in drive {drive}: an incorrect length with residue {residue}"
            )))
        }
    };
    rewind(runner, transport, drive, timeout_ms)?;
    Ok(block.filter(|b| !b.is_empty()).map(|mut b| {
        b.truncate(FIRST_BLOCK_MAX);
        b
    }))
}

/// What one READ(6) at the beginning of the tape found.
enum Read {
    /// The block (cut at the length asked for when longer).
    Block(Vec<u8>),
    /// Nothing written.
    Nothing,
    /// A shorter block than asked for, reported as an incorrect length
    /// with this residue and no data.
    Shorter { residue: u32 },
}

/// Rewinds and reads one block of at most `length` bytes.
fn read_block(
    runner: &Runner<'_>,
    transport: &dyn ScsiTransport,
    drive: u16,
    length: u32,
    timeout_ms: u32,
) -> Result<Read, AdapterError> {
    rewind(runner, transport, drive, timeout_ms)?;
    let operation = format!("READ(6) of the first block in drive {drive}");
    let wanted = usize::try_from(length).unwrap_or(FIRST_BLOCK_MAX);
    let response = transport
        .execute(&cdb::read6_variable(length, true), DataDirection::FromDevice(wanted), timeout_ms)
        .map_err(|e| transport_error(&operation, transport, e))?;
    match response.status {
        status::GOOD => Ok(Read::Block(response.data)),
        status::CHECK_CONDITION => {
            let sense = sense::parse(&response.sense).map_err(|e| {
                AdapterError::Io(format!("{operation}: unreadable sense data ({e}): {}", hex(&response.sense)))
            })?;
            if nothing_written(sense.key, sense.asc, sense.ascq) {
                Ok(Read::Nothing)
            } else if sense.key == SenseKey::NoSense && !response.data.is_empty() {
                // A block longer than asked for (ILI): its first bytes came.
                Ok(Read::Block(response.data))
            } else if sense.key == SenseKey::NoSense {
                // INFORMATION is the residue (negative, for a longer block: unused).
                let residue = sense.information.and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
                Ok(Read::Shorter { residue })
            } else {
                Err(check_error(&operation, &sense, 0))
            }
        }
        other => Err(AdapterError::Io(format!("{operation}: unexpected SCSI status {other:#04x}"))),
    }
}

/// Writes `block` as the first block of the tape loaded in `drive`, then a
/// filemark, and rewinds.
pub(crate) fn write_first_block(
    runner: &Runner<'_>,
    transport: &dyn ScsiTransport,
    drive: u16,
    block: &[u8],
    timeout_ms: u32,
) -> Result<(), AdapterError> {
    if block.is_empty() || block.len() > FIRST_BLOCK_MAX {
        return Err(AdapterError::Io(format!(
            "a first block of {} bytes (1 to {FIRST_BLOCK_MAX}) for drive {drive}",
            block.len()
        )));
    }
    rewind(runner, transport, drive, timeout_ms)?;
    let operation = format!("WRITE(6) of the first block in drive {drive}");
    let length = u32::try_from(block.len()).unwrap_or(FIRST_BLOCK_LEN);
    let response = transport
        .execute(&cdb::write6_variable(length), DataDirection::ToDevice(block.to_vec()), timeout_ms)
        .map_err(|e| transport_error(&operation, transport, e))?;
    match response.status {
        status::GOOD => {}
        status::CHECK_CONDITION => {
            let sense = sense::parse(&response.sense).map_err(|e| {
                AdapterError::Io(format!("{operation}: unreadable sense data ({e}): {}", hex(&response.sense)))
            })?;
            return Err(check_error(&operation, &sense, 0));
        }
        other => return Err(AdapterError::Io(format!("{operation}: unexpected SCSI status {other:#04x}"))),
    }
    let filemark = format!("WRITE FILEMARKS after the first block in drive {drive}");
    runner.run(transport, &filemark, &cdb::write_filemarks6(1), 0, timeout_ms)?;
    rewind(runner, transport, drive, timeout_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_check_and_marks_before_any_block_mean_nothing_is_written() {
        assert!(nothing_written(SenseKey::BlankCheck, 0, 5));
        assert!(nothing_written(SenseKey::NoSense, 0, 1));
        assert!(nothing_written(SenseKey::NoSense, 0, 5));
        assert!(!nothing_written(SenseKey::NoSense, 0, 0), "an incorrect length is a block");
        assert!(!nothing_written(SenseKey::MediumError, 0x11, 0), "an unreadable block is an error");
    }
}
