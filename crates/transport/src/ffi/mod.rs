//! Every line of unsafe code in the crate, and nothing else.
//!
//! - [`libiscsi`]: libiscsi loaded with `dlopen`, its `struct scsi_task`
//!   mirrored `#[repr(C)]`, and a [`libiscsi::Session`] that owns one
//!   `iscsi_context` and runs its event loop with a deadline.
//! - [`sg`] (Linux): the `SG_IO` and `SG_GET_VERSION_NUM` ioctls.
//!
//! Each `unsafe` block carries a SAFETY comment; what the rest of the crate
//! calls here is safe to call with any arguments.

#[cfg(unix)]
pub(crate) mod libiscsi;
#[cfg(target_os = "linux")]
pub(crate) mod sg;
