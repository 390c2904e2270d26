//! # rsm-transport: a CDB to the device, its answer back
//!
//! Owns **moving CDBs and data to a SCSI device and bringing back its status,
//! its data and its sense bytes**, behind one trait, [`ScsiTransport`], with
//! two implementations:
//!
//! - [`IscsiTransport`]: iSCSI through libiscsi, an initiator in user space.
//!   The library is loaded when a transport connects (`dlopen` of
//!   `libiscsi.so.7`), never linked, so the default build, the tests that need
//!   no hardware and `rsm demo` need no system library. Without it,
//!   [`IscsiTransport::connect`] answers [`TransportError::LibraryMissing`],
//!   which names the package to install. This is how rsm reaches the virtual
//!   library of `ops/vtl` and any library behind an iSCSI bridge.
//! - [`SgTransport`] (Linux): the `SG_IO` ioctl on `/dev/sgN`, for a library
//!   attached directly (SAS, Fibre Channel, parallel SCSI).
//!
//! It **must not touch** what the bytes mean (building CDBs and parsing
//! answers is `rsm-scsi`'s; this crate only separates the sense bytes from
//! the rest), NTMS objects or codes, or the event log. It never retries: a
//! UNIT ATTENTION, a BUSY or a timeout goes back to the caller, the adapter,
//! which knows whether the command may be sent again.
//!
//! Key types: [`ScsiTransport`] and its [`DataDirection`], [`Response`] and
//! [`TransportError`]; [`IscsiUrl`] and [`IscsiTransport`]; [`SgTransport`]
//! with [`SgIoHdr`] and [`SgBuffers`], the request it hands the kernel.
//!
//! ## Unsafe code
//!
//! All of it is in one private module, `ffi`: libiscsi's functions and its
//! `struct scsi_task`, and the two ioctls of the sg driver. Every `unsafe`
//! block says why it is sound; the rest of the crate denies `unsafe_code`.
//!
//! ## Example
//!
//! ```
//! use rsm_transport::{IscsiTransport, IscsiUrl, TransportError};
//!
//! // The changer of a virtual library: LUN 3 of a target on 127.0.0.1.
//! let url: IscsiUrl = "iscsi://127.0.0.1/iqn.2026-11.org.rsm:vtl-3260/3".parse()?;
//! assert_eq!((url.port, url.lun), (3260, 3));
//! assert_eq!(url.portal(), "127.0.0.1:3260");
//!
//! // A machine without libiscsi gets a sentence naming the package, not a crash.
//! let missing = IscsiTransport::connect_with_library("libiscsi-absent.so.0", &url, "iqn.2026-11.org.rsm:doc");
//! let Err(error) = missing else { panic!("a library that does not exist was loaded") };
//! assert!(matches!(error, TransportError::LibraryMissing { .. }));
//! assert!(error.to_string().contains("apt-get install libiscsi7"));
//! # Ok::<(), TransportError>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod ffi;
#[cfg(unix)]
mod iscsi;
#[cfg(target_os = "linux")]
mod sg;
mod url;

#[cfg(target_os = "linux")]
pub use ffi::sg::SgIoHdr;
#[cfg(unix)]
pub use iscsi::{IscsiTransport, LIBISCSI_NAMES, LIBISCSI_PACKAGE};
#[cfg(target_os = "linux")]
pub use sg::{SgBuffers, SgTransport};
pub use url::{IscsiUrl, ISCSI_DEFAULT_PORT};

/// Every bound this crate puts on a request, with its reason.
pub mod limits {
    /// Longest CDB sent: 16 bytes, the largest fixed-length CDB (SPC), the
    /// size of libiscsi's `cdb[SCSI_CDB_MAX_SIZE]` and of what `SG_IO`
    /// accepts without variable-length CDB support. Every changer and drive
    /// command rsm sends is 6, 10 or 12 bytes.
    pub const CDB_LEN_MAX: usize = 16;

    /// Most data moved by one command, either way: 16 MiB, one more than the
    /// largest 24-bit allocation length (READ ELEMENT STATUS). The buffer
    /// for data from the device is allocated before the command is sent, so
    /// a caller's mistake must not become a huge allocation.
    pub const DATA_LEN_MAX: usize = 1 << 24;

    /// Sense buffer handed to `SG_IO`: 252 bytes, the most sense data SPC
    /// allows (ADDITIONAL SENSE LENGTH is one byte, plus the 8-byte header,
    /// rounded down to a multiple of 4 as SPC-4 prescribes).
    pub const SENSE_LEN_MAX: usize = 252;

    /// Time allowed for an iSCSI connect and login (TCP connect, login,
    /// and libiscsi's TEST UNIT READY that absorbs the login's unit
    /// attentions). A target on the same network answers in milliseconds;
    /// 10 s leaves room for a busy bridge without hanging a caller for a
    /// TCP timeout of minutes when the host does not answer at all.
    pub const CONNECT_TIMEOUT_MS: u32 = 10_000;

    /// Time allowed for the iSCSI logout when a transport is dropped. The
    /// logout is a courtesy to the target; the socket is closed after it
    /// either way.
    pub const LOGOUT_TIMEOUT_MS: u32 = 1_000;
}

/// SCSI status codes (SAM-5), the values of [`Response::status`].
pub mod status {
    /// GOOD: the command completed.
    pub const GOOD: u8 = 0x00;
    /// CHECK CONDITION: the command failed; [`Response::sense`](crate::Response::sense) says why.
    pub const CHECK_CONDITION: u8 = 0x02;
    /// CONDITION MET.
    pub const CONDITION_MET: u8 = 0x04;
    /// BUSY: the device cannot take the command now; it may be sent again later.
    pub const BUSY: u8 = 0x08;
    /// RESERVATION CONFLICT: another initiator holds a reservation.
    pub const RESERVATION_CONFLICT: u8 = 0x18;
    /// TASK SET FULL: the device's command queue is full.
    pub const TASK_SET_FULL: u8 = 0x28;
    /// ACA ACTIVE.
    pub const ACA_ACTIVE: u8 = 0x30;
    /// TASK ABORTED.
    pub const TASK_ABORTED: u8 = 0x40;
}

/// Which way data moves with a command, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataDirection {
    /// No data (TEST UNIT READY, MOVE MEDIUM, LOAD UNLOAD).
    None,
    /// Data from the device, at most this many bytes: the allocation length
    /// of the CDB (INQUIRY, MODE SENSE, READ ELEMENT STATUS). It is also the
    /// transfer length announced to the transport, so it must equal the
    /// CDB's allocation length: tgt refuses a READ ELEMENT STATUS whose CDB
    /// asks for more than the iSCSI expected length (24/00). 0 is the same
    /// as [`DataDirection::None`].
    FromDevice(usize),
    /// These bytes to the device (MODE SELECT, WRITE). Empty is the same as
    /// [`DataDirection::None`].
    ToDevice(Vec<u8>),
}

impl DataDirection {
    /// Bytes to move: the allocation length, the length of the data out, or 0.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::None => 0,
            Self::FromDevice(len) => *len,
            Self::ToDevice(data) => data.len(),
        }
    }

    /// No data moves.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the device answered: its status, and the data or the sense bytes
/// that came with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// The SCSI status byte ([`status`]): 0 GOOD, 2 CHECK CONDITION, 8 BUSY, ...
    pub status: u8,
    /// The data the device returned, at most the allocation length; empty
    /// when no data was asked for. Over iSCSI it is always empty with CHECK
    /// CONDITION (the response carries the sense bytes instead).
    pub data: Vec<u8>,
    /// The sense bytes as the device sent them (fixed or descriptor format;
    /// `rsm_scsi::sense::parse` reads both). Normally present exactly with
    /// CHECK CONDITION; may be empty if the device sent none.
    pub sense: Vec<u8>,
}

impl Response {
    /// The status is GOOD.
    #[must_use]
    pub fn is_good(&self) -> bool {
        self.status == status::GOOD
    }

    /// The status is CHECK CONDITION: the sense bytes say why.
    #[must_use]
    pub fn is_check_condition(&self) -> bool {
        self.status == status::CHECK_CONDITION
    }
}

/// Why a command got no status back, or a transport could not be made.
///
/// A device that answers, whatever it answers (CHECK CONDITION, BUSY,
/// RESERVATION CONFLICT), is a [`Response`], never one of these.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The shared library a transport needs could not be loaded (iSCSI:
    /// libiscsi is not installed). `package` says what to install.
    #[error("{library} could not be loaded: install {package}")]
    LibraryMissing {
        /// The file name that was looked for, e.g. `libiscsi.so.7`.
        library: String,
        /// The package that provides it, with the command that installs it.
        package: &'static str,
    },
    /// The library was loaded but lacks a function this crate calls: it is
    /// not libiscsi, or a release older than 1.19's ABI (soname 7).
    #[error("{library} has no function {symbol}: install {package}")]
    LibraryIncompatible {
        /// The file that was loaded.
        library: String,
        /// The missing function.
        symbol: &'static str,
        /// The package that provides a suitable library.
        package: &'static str,
    },
    /// No session or device: the TCP connect or the iSCSI login failed or
    /// took longer than [`limits::CONNECT_TIMEOUT_MS`], the target name is
    /// unknown to the portal, the device file cannot be opened, or it is not
    /// an sg device. The message includes libiscsi's or the kernel's reason.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The command was sent, or was being sent, and no status came back:
    /// the connection broke, the kernel refused the request, the host
    /// adapter reported an error. The device may have carried it out.
    #[error("i/o error: {0}")]
    Io(String),
    /// No status within the time given. The device may still carry the
    /// command out; an iSCSI session is closed (the next command logs in
    /// again) so that a late answer cannot be taken for the next command's.
    #[error("timed out: {0}")]
    Timeout(String),
    /// An iSCSI URL that is not `iscsi://HOST[:PORT]/TARGET/LUN`.
    #[error("bad iSCSI URL: {0}")]
    BadUrl(String),
    /// A request that cannot be sent as given: a CDB of 0 or more than
    /// [`limits::CDB_LEN_MAX`] bytes, more data than
    /// [`limits::DATA_LEN_MAX`], a timeout of 0, an initiator name with a
    /// NUL byte. Nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// Moves a CDB and its data to one device (one LUN) and brings back the
/// status, data and sense bytes.
///
/// Contract, for every implementation:
///
/// - A device that answers with a status gives `Ok`, whatever the status:
///   CHECK CONDITION is `Ok` with [`Response::sense`] filled in. `Err` means
///   no status came back (or nothing was sent: [`TransportError::InvalidRequest`]).
/// - Nothing is retried, so nothing is sent twice: a UNIT ATTENTION comes
///   back as CHECK CONDITION (a device reports one on the first command of a
///   new session or after a reset), BUSY as BUSY.
/// - `execute` blocks until the answer or `timeout_ms` milliseconds, plus
///   at most a reconnect ([`limits::CONNECT_TIMEOUT_MS`]) for an iSCSI
///   session that an earlier failure closed. Calls from several threads are
///   carried out one at a time.
pub trait ScsiTransport: Send + Sync {
    /// Sends `cdb` with `dir`'s data and waits at most `timeout_ms` (> 0)
    /// for the device's status.
    ///
    /// # Errors
    /// [`TransportError::InvalidRequest`] before anything is sent;
    /// [`TransportError::Timeout`], [`TransportError::Io`] and
    /// [`TransportError::Connect`] (reconnecting) when no status came back.
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError>;

    /// The device, for messages and logs: the iSCSI URL or the device path.
    fn describe(&self) -> String;
}

impl<T: ScsiTransport + ?Sized> ScsiTransport for Box<T> {
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError> {
        (**self).execute(cdb, dir, timeout_ms)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<T: ScsiTransport + ?Sized> ScsiTransport for std::sync::Arc<T> {
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError> {
        (**self).execute(cdb, dir, timeout_ms)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// The checks every transport makes before sending anything.
pub(crate) fn check_request(cdb: &[u8], dir: &DataDirection, timeout_ms: u32) -> Result<(), TransportError> {
    if cdb.is_empty() || cdb.len() > limits::CDB_LEN_MAX {
        return Err(TransportError::InvalidRequest(format!(
            "a CDB of {} bytes (1 to {} are sent)",
            cdb.len(),
            limits::CDB_LEN_MAX
        )));
    }
    if dir.len() > limits::DATA_LEN_MAX {
        return Err(TransportError::InvalidRequest(format!(
            "{} bytes of data (at most {})",
            dir.len(),
            limits::DATA_LEN_MAX
        )));
    }
    if timeout_ms == 0 {
        return Err(TransportError::InvalidRequest("a timeout of 0 ms".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_request_bounds() {
        assert_eq!(check_request(&[0; 6], &DataDirection::None, 1), Ok(()));
        assert_eq!(check_request(&[0; 16], &DataDirection::FromDevice(limits::DATA_LEN_MAX), 1), Ok(()));
        for (cdb_len, dir, timeout_ms) in [
            (0, DataDirection::None, 1),
            (17, DataDirection::None, 1),
            (6, DataDirection::FromDevice(limits::DATA_LEN_MAX + 1), 1),
            (6, DataDirection::None, 0),
        ] {
            let result = check_request(&vec![0; cdb_len], &dir, timeout_ms);
            assert!(
                matches!(result, Err(TransportError::InvalidRequest(_))),
                "{cdb_len} {dir:?} {timeout_ms}: {result:?}"
            );
        }
    }

    #[test]
    fn data_direction_lengths() {
        assert_eq!(DataDirection::None.len(), 0);
        assert!(DataDirection::FromDevice(0).is_empty());
        assert_eq!(DataDirection::FromDevice(96).len(), 96);
        assert_eq!(DataDirection::ToDevice(vec![1, 2, 3]).len(), 3);
    }

    #[test]
    fn response_status_helpers() {
        let good = Response::default();
        assert!(good.is_good() && !good.is_check_condition());
        let check = Response { status: status::CHECK_CONDITION, data: Vec::new(), sense: vec![0x70] };
        assert!(check.is_check_condition() && !check.is_good());
    }

    #[test]
    fn library_missing_names_the_package() {
        let error = TransportError::LibraryMissing { library: "libiscsi.so.7".to_owned(), package: LIBISCSI_PACKAGE };
        assert_eq!(
            error.to_string(),
            "libiscsi.so.7 could not be loaded: install libiscsi7 (Debian: apt-get install libiscsi7)"
        );
    }
}
