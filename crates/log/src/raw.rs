//! The log's sled tree opened bare, with the same configuration as
//! [`crate::SledLog`] but no verification, no lock file and no chain: for
//! benchmarks that measure the raw ceilings the log is compared with.
//! Nothing else may write through it.

use crate::LogError;
use std::path::Path;

/// Opens (or creates) the tree that holds the log's batches under `dir`,
/// configured as [`crate::SledLog`] configures it.
#[doc(hidden)]
pub fn open_log_tree(dir: &Path) -> Result<sled::Tree, LogError> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(crate::sled_log::CACHE_CAPACITY_BYTES)
        .flush_every_ms(None)
        .open()
        .map_err(|e| LogError::Io(format!("cannot open {}: {e}", dir.display())))?;
    db.open_tree("log").map_err(|e| LogError::Io(e.to_string()))
}
