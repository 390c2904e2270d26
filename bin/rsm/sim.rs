//! The simulator: the topology `library create-sim` asks for, and the
//! operator's hands and injected faults (`rsm sim ...`).

use crate::cli::{FaultKind, SimCmd};
use crate::render::done;
use crate::resolve::{drive, drive_place, existing_library, port};
use crate::{Failure, Outcome};
use rsm::hardware::Fault;
use rsm::*;

/// The topology `library create-sim` asks for (of the default media type);
/// bar codes are `PREFIX`, a
/// number of at least four digits and `L8` (`LIB10001L8`).
pub fn sim_spec(
    name: &str,
    prefix: &str,
    drives: u16,
    slots: u32,
    ie_ports: u16,
    media: u32,
    standalone: bool,
) -> LibrarySpec {
    let media_type = default_media_type();
    let barcodes = barcodes(prefix, media).collect();
    if standalone {
        LibrarySpec {
            name: name.into(),
            kind: LibraryKind::Standalone,
            drives: 1,
            slots: 0,
            ie_ports: 0,
            barcodes,
            media_type,
            unlabelled: Vec::new(),
        }
    } else {
        let unlabelled = Vec::new();
        LibrarySpec {
            name: name.into(),
            kind: LibraryKind::Changer,
            drives,
            slots,
            ie_ports,
            barcodes,
            media_type,
            unlabelled,
        }
    }
}

fn barcodes(prefix: &str, media: u32) -> impl Iterator<Item = String> + '_ {
    (1..=media).map(move |i| format!("{prefix}{i:04}L8"))
}

/// Letters and digits of a library name, upper-cased (at most 16): `lib-1` -> `LIB1`.
pub fn prefix_of(name: &str) -> String {
    let prefix: String = name.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
    if prefix.is_empty() {
        "TAPE".into()
    } else {
        prefix.to_uppercase()
    }
}

/// The default bar code prefix of `library create-sim NAME`: [`prefix_of`]
/// the name, followed by the first of B, C, ..., Z, BB, ... that makes all
/// `media` bar codes new to the store (`zp` then `Zp`: `ZP0001L8`, then
/// `ZPB0001L8`). At most 16 + 4 letters, 5 digits and `L8`: well within
/// the 63 characters of a bar code, whatever the library's name.
pub fn free_prefix(state: &State, name: &str, media: u32) -> String {
    let base = prefix_of(name);
    let taken = |prefix: &str| barcodes(prefix, media).any(|b| state.barcodes.contains_key(&b));
    let mut n = 0;
    let mut prefix = base.clone();
    while taken(&prefix) {
        n += 1;
        prefix = format!("{base}{}", letters(n));
    }
    prefix
}

/// The `n`th of B, ..., Z, BB, ...: bijective base 25 in letters, never a
/// digit (which would read as part of the number).
fn letters(n: usize) -> String {
    let mut letters = Vec::new();
    let mut k = n;
    while k > 0 {
        k -= 1;
        letters.push(char::from(b'B' + u8::try_from(k % 25).unwrap_or(0)));
        k /= 25;
    }
    letters.iter().rev().collect()
}

/// `rsm sim ...`: the operator's hands and fault injection.
pub async fn sim(engine: &Engine, cmd: &SimCmd, user: &str, json: bool) -> Outcome {
    // The operator's hands and the hardware's faults change what is in the
    // library: the session's simulator needs CONTROL on it.
    let operator = engine.session_for(user).await?;
    match cmd {
        SimCmd::Door(door) => crate::door::sim_door(engine, user, door, json).await,
        SimCmd::NeedsCleaning { drive: name } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            let standalone = engine
                .query(move |s| s.libraries.get(&library).is_some_and(|l| l.kind == LibraryKind::Standalone))
                .await?;
            if standalone {
                // Found by a hostile run: the message promised a cleaning nobody queues.
                return Err(Failure::Rejected(NtmsError::new(
                    ErrorCode::NotSupported,
                    format!("{name} is a stand-alone drive: it is cleaned by hand (rsm clean records it)"),
                )));
            }
            operator.simulator(library).await?.set_needs_cleaning(address).map_err(device_error)?;
            done(json, &format!("{name} asks to be cleaned; `rsm run` (or the next --wait) queues its cleaning"))
        }
        SimCmd::PullDrive { drive: name } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            operator.simulator(library).await?.operator_pull_drive(address).map_err(device_error)?;
            done(json, &format!("{name} pulled out; the next inventory finds it gone"))
        }
        SimCmd::Insert { drive: name, barcode, unseen } => {
            check_barcode(barcode)?;
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            if *unseen {
                // As the seen form does (found by a hostile run: a changer's
                // cartridge was put in a stand-alone drive as well).
                let b = barcode.clone();
                let elsewhere = engine
                    .query(move |s| {
                        s.medium_by_barcode(&b)
                            .filter(|m| m.library != library || m.location != Location::Offline)
                            .is_some()
                    })
                    .await?;
                if elsewhere {
                    return Err(Failure::Rejected(NtmsError::new(
                        ErrorCode::InvalidMedia,
                        format!("medium {barcode} is elsewhere, not on this drive's shelf"),
                    )));
                }
            }
            let sim = operator.simulator(library).await?;
            sim.operator_insert(address, barcode).map_err(device_error)?;
            if *unseen {
                return done(json, &format!("{barcode} is in {name}; rsm was not told (rsm detect finds it)"));
            }
            let session = engine.session_for(user).await?;
            let cmd = Command::OperatorInsert { session: session.id(), drive: drive_id, barcode: barcode.clone() };
            if let Err(e) = session.submit(cmd).await {
                // rsm refused it: the operator takes the cartridge back out.
                let _ = sim.operator_remove(address);
                return Err(e.into());
            }
            done(json, &format!("{barcode} is in {name}"))
        }
        SimCmd::FillPort { port: name, barcode, label_file } => {
            check_barcode(barcode)?;
            let first_block = label_file.as_deref().map(crate::media::read_label).transpose()?;
            if first_block.as_ref().is_some_and(Vec::is_empty) {
                return Err(Failure::Usage(
                    "the label file is empty: a cartridge with nothing written on it is blank (leave out --label-file)"
                        .into(),
                ));
            }
            let (library, address) = port(engine, name).await?;
            let sim = operator.simulator(library).await?;
            if sim.locate(barcode).is_some() {
                return Err(Failure::Rejected(NtmsError::new(
                    ErrorCode::InvalidMedia,
                    format!("a cartridge with bar code {barcode} is already in the library"),
                )));
            }
            sim.operator_fill_port_with(address, barcode, first_block).map_err(device_error)?;
            done(json, &format!("{barcode} is in {name}; rsm inject takes it in"))
        }
        SimCmd::EmptyPort { port: name } => {
            let (library, address) = port(engine, name).await?;
            let barcode = operator.simulator(library).await?.operator_empty_port(address).map_err(device_error)?;
            // Only a cartridge the views have in the port goes offline at the next inventory.
            let text = barcode.clone();
            let known = engine
                .query(move |s| s.medium_by_barcode(&text).is_some_and(|m| matches!(m.location, Location::Port(_))))
                .await?;
            let then = if known { "; rsm inventory records it offline" } else { "" };
            done(json, &format!("{barcode} taken out of {name}{then}"))
        }
        SimCmd::Remove { drive: name, unseen: true } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            let barcode = operator.simulator(library).await?.operator_remove(address).map_err(device_error)?;
            done(json, &format!("{barcode} taken out of {name}; rsm was not told (rsm detect finds it)"))
        }
        SimCmd::Remove { drive: name, unseen: false } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            let session = engine.session_for(user).await?;
            session.submit(Command::OperatorRemove { session: session.id(), drive: drive_id }).await?;
            let sim = operator.simulator(library).await?;
            let barcode = sim.operator_remove(address).map_err(device_error)?;
            done(json, &format!("{barcode} taken out of {name}"))
        }
        SimCmd::Fail { fault, library: lib_name, drive: drive_name, count } => {
            let drive_id = match drive_name {
                Some(d) => Some(drive(engine, d).await?),
                None => None,
            };
            let library = match (lib_name, drive_id) {
                (Some(l), _) => existing_library(engine, l).await?,
                (None, Some(d)) => drive_place(engine, d).await?.0,
                (None, None) => {
                    let only = engine.query(|s| s.libraries.keys().copied().collect::<Vec<_>>()).await?;
                    match only.as_slice() {
                        [one] => *one,
                        _ => return Err(Failure::Usage("name the library with --library".into())),
                    }
                }
            };
            let address = match drive_id {
                Some(d) => {
                    let (of, address) = drive_place(engine, d).await?;
                    if of != library {
                        return Err(Failure::Usage("--drive names a drive of another library than --library".into()));
                    }
                    Some(address)
                }
                None => None,
            };
            let fault = match (fault, address) {
                (FaultKind::Robot, _) => Fault::RobotFailure,
                (FaultKind::Unload, Some(drive)) => Fault::DriveWillNotUnload { drive },
                (FaultKind::Load, Some(drive)) => Fault::DriveWillNotLoad { drive },
                _ => return Err(Failure::Usage("unload and load faults need --drive".into())),
            };
            let sim = operator.simulator(library).await?;
            sim.inject(fault.clone(), *count).map_err(device_error)?;
            let what = match (fault, drive_name) {
                (Fault::RobotFailure, _) => "the robot fails its next move".to_string(),
                (Fault::DriveWillNotUnload { .. }, Some(d)) => format!("{d} will not unload"),
                (_, d) => format!("{} will not load", d.as_deref().unwrap_or("the drive")),
            };
            if *count == 0 {
                done(json, &format!("disarmed: {what}"))
            } else {
                done(json, &format!("armed: {what} ({count} time(s))"))
            }
        }
    }
}

/// A bar code the operator's hand brings in follows the model's rule
/// (ERROR_INVALID_PARAMETER), before the simulator is touched.
pub fn check_barcode(barcode: &str) -> Result<(), Failure> {
    // Found by a hostile run: a bar code that reads as an id was put in a
    // slot, where rsm can only call it unlabeled.
    let plain = !barcode.is_empty()
        && barcode.chars().count() <= rsm::limits::BARCODE_LEN_MAX
        && barcode.chars().all(rsm::limits::is_plain)
        && rsm::uuid::Uuid::parse_str(barcode).is_err();
    if plain {
        Ok(())
    } else {
        Err(Failure::Rejected(NtmsError::new(
            ErrorCode::InvalidParameter,
            format!(
                "a bar code is 1 to {} printable characters without spaces, and does not read as an id",
                rsm::limits::BARCODE_LEN_MAX
            ),
        )))
    }
}

pub fn device_error(e: rsm::hardware::AdapterError) -> Failure {
    let code = failure_code(&e);
    Failure::Rejected(NtmsError::new(code, e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_that_tell_libraries_apart() {
        let letters: Vec<String> = [1, 2, 25, 26, 27, 650].into_iter().map(super::letters).collect();
        assert_eq!(letters, ["B", "C", "Z", "BB", "BC", "ZZ"]);
        assert_eq!(super::prefix_of("lib-1"), "LIB1");
        assert_eq!(super::prefix_of("__"), "TAPE");
        assert_eq!(super::prefix_of(&"x".repeat(63)).len(), 16);
    }
}
