//! iSCSI through libiscsi, loaded when a transport connects.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::ffi::libiscsi::{Api, Session};
use crate::{DataDirection, IscsiUrl, Response, ScsiTransport, TransportError};

/// The file names [`IscsiTransport::connect`] loads libiscsi by, in order:
/// the runtime library's soname, then the development symlink.
pub const LIBISCSI_NAMES: [&str; 2] = ["libiscsi.so.7", "libiscsi.so"];

/// What to install when libiscsi is missing.
pub const LIBISCSI_PACKAGE: &str = "libiscsi7 (Debian: apt-get install libiscsi7)";

/// One LUN of an iSCSI target, through its own libiscsi session.
///
/// The session logs in with libiscsi's full connect, which sends TEST UNIT
/// READY until the unit attentions of a new session (29/00, power on or
/// reset) are used up, so the first command normally sees none. A command
/// that times out, or whose connection fails, closes the session; the next
/// command logs in again (and a UNIT ATTENTION may then come back: it is
/// returned, not retried).
///
/// Commands from several threads are carried out one at a time (a libiscsi
/// context is not thread-safe). The changer and each drive are separate
/// transports ([`IscsiTransport::connect_lun`]), so a slow drive command
/// does not hold up the changer.
pub struct IscsiTransport {
    /// The LUN this transport talks to, for `describe` and `connect_lun`.
    url: IscsiUrl,
    /// The initiator name it logged in with, reused by `connect_lun`.
    initiator: String,
    /// libiscsi's functions, shared with the transports `connect_lun` makes.
    api: Arc<Api>,
    /// The session; the lock makes commands from several threads take turns.
    session: Mutex<Session>,
}

impl IscsiTransport {
    /// Loads libiscsi ([`LIBISCSI_NAMES`]) and logs in to `url`'s LUN as
    /// `initiator` (an IQN such as `iqn.2026-11.org.rsm:host1`).
    ///
    /// # Errors
    /// [`TransportError::LibraryMissing`] (naming `libiscsi.so.7` and
    /// [`LIBISCSI_PACKAGE`]) or [`TransportError::LibraryIncompatible`]
    /// without a usable libiscsi; [`TransportError::Connect`] if the login
    /// fails or takes longer than [`crate::limits::CONNECT_TIMEOUT_MS`];
    /// [`TransportError::InvalidRequest`] for an empty initiator name or a
    /// name with a NUL byte.
    pub fn connect(url: &IscsiUrl, initiator: &str) -> Result<Self, TransportError> {
        Self::connect_api(load_libiscsi()?, url, initiator)
    }

    /// [`IscsiTransport::connect`] with libiscsi loaded by the file name
    /// `library` (a name `dlopen` searches for, or a path), and no other.
    ///
    /// # Errors
    /// As [`IscsiTransport::connect`], with `library` in
    /// [`TransportError::LibraryMissing`].
    pub fn connect_with_library(library: &str, url: &IscsiUrl, initiator: &str) -> Result<Self, TransportError> {
        Self::connect_api(Arc::new(Api::load(library, LIBISCSI_PACKAGE)?), url, initiator)
    }

    /// Another LUN of the same target (a drive of the changer's target), in
    /// a session of its own, with the same initiator name and library.
    ///
    /// # Errors
    /// [`TransportError::Connect`] if the login fails.
    pub fn connect_lun(&self, lun: u16) -> Result<Self, TransportError> {
        Self::connect_api(Arc::clone(&self.api), &self.url.with_lun(lun), &self.initiator)
    }

    /// Whether libiscsi can be loaded here, without connecting: for a
    /// command that wants to say so before it tries.
    ///
    /// # Errors
    /// As the library errors of [`IscsiTransport::connect`].
    pub fn check_library() -> Result<(), TransportError> {
        load_libiscsi().map(drop)
    }

    /// The LUN this transport talks to.
    #[must_use]
    pub fn url(&self) -> &IscsiUrl {
        &self.url
    }

    /// The initiator name it logged in with.
    #[must_use]
    pub fn initiator(&self) -> &str {
        &self.initiator
    }

    fn connect_api(api: Arc<Api>, url: &IscsiUrl, initiator: &str) -> Result<Self, TransportError> {
        if initiator.is_empty() {
            return Err(TransportError::InvalidRequest("an empty initiator name".to_owned()));
        }
        let session = Session::connect(Arc::clone(&api), initiator, &url.target, &url.portal(), url.lun)?;
        Ok(Self { url: url.clone(), initiator: initiator.to_owned(), api, session: Mutex::new(session) })
    }
}

/// libiscsi by the first of [`LIBISCSI_NAMES`] that loads; else the error
/// for the first name.
fn load_libiscsi() -> Result<Arc<Api>, TransportError> {
    let mut first_error = None;
    for name in LIBISCSI_NAMES {
        match Api::load(name, LIBISCSI_PACKAGE) {
            Ok(api) => return Ok(Arc::new(api)),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.expect("LIBISCSI_NAMES is not empty"))
}

impl ScsiTransport for IscsiTransport {
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError> {
        let mut session = match self.session.lock() {
            Ok(session) => session,
            Err(poisoned) => {
                // A thread panicked mid-command: start over with a new session.
                let mut session = poisoned.into_inner();
                session.disconnect();
                self.session.clear_poison();
                session
            }
        };
        session.execute(cdb, dir, timeout_ms)
    }

    fn describe(&self) -> String {
        format!("iSCSI {}", self.url)
    }
}

impl fmt::Debug for IscsiTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IscsiTransport")
            .field("url", &self.url.to_string())
            .field("initiator", &self.initiator)
            .field("library", &self.api.name())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> IscsiUrl {
        IscsiUrl::parse("iscsi://127.0.0.1:3260/iqn.2026-11.org.rsm:vtl-3260/3").expect("a valid URL")
    }

    #[test]
    fn missing_library_names_the_package() {
        let error = IscsiTransport::connect_with_library("libiscsi-absent.so.0", &url(), "iqn.2026-11.org.rsm:test")
            .expect_err("a library that does not exist");
        assert_eq!(
            error,
            TransportError::LibraryMissing { library: "libiscsi-absent.so.0".to_owned(), package: LIBISCSI_PACKAGE }
        );
        assert!(error.to_string().contains("apt-get install libiscsi7"), "{error}");
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn a_library_that_is_not_libiscsi_is_incompatible() {
        // The C library is on every Linux machine, and has none of libiscsi's functions.
        let error = IscsiTransport::connect_with_library("libc.so.6", &url(), "iqn.2026-11.org.rsm:test")
            .expect_err("libc is not libiscsi");
        assert_eq!(
            error,
            TransportError::LibraryIncompatible {
                library: "libc.so.6".to_owned(),
                symbol: "iscsi_create_context",
                package: LIBISCSI_PACKAGE,
            }
        );
    }

    #[test]
    fn library_names_start_with_the_soname() {
        assert_eq!(LIBISCSI_NAMES[0], "libiscsi.so.7");
    }
}
