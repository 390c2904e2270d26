//! The log's sled tree opened bare, with the same configuration as
//! [`crate::SledLog`] but no verification, no lock file and no chain: for
//! benchmarks that measure the raw ceilings the log is compared with.
//! Nothing else may write through it.

use crate::sled_files::DB_FILE;
use crate::{seal, LogError};
use std::path::{Path, PathBuf};

/// The bare tree; when dropped it flushes and seals the files again if they
/// were sealed when it opened, so reading a log bare does not cost the
/// log's next open a trial copy (nor a measurement of that open its time).
#[doc(hidden)]
pub struct RawLogTree {
    tree: Option<sled::Tree>,
    dir: PathBuf,
    reseal: bool,
}

impl std::ops::Deref for RawLogTree {
    type Target = sled::Tree;

    fn deref(&self) -> &sled::Tree {
        self.tree.as_ref().expect("the tree is only taken by drop")
    }
}

impl Drop for RawLogTree {
    fn drop(&mut self) {
        let Some(tree) = self.tree.take() else { return };
        let flushed = tree.flush().is_ok();
        drop(tree);
        if self.reseal && flushed {
            seal::write_seal(&self.dir, &self.dir.join(DB_FILE));
        }
    }
}

/// Opens (or creates) the tree that holds the log's batches under `dir`,
/// configured as [`crate::SledLog`] configures it.
#[doc(hidden)]
pub fn open_log_tree(dir: &Path) -> Result<RawLogTree, LogError> {
    let reseal = seal::is_sealed(dir);
    seal::break_seal(dir).map_err(|e| LogError::Io(format!("cannot unseal {}: {e}", dir.display())))?;
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(crate::sled_log::CACHE_CAPACITY_BYTES)
        .flush_every_ms(None)
        .open()
        .map_err(|e| LogError::Io(format!("cannot open {}: {e}", dir.display())))?;
    let tree = db.open_tree("log").map_err(|e| LogError::Io(e.to_string()))?;
    Ok(RawLogTree { tree: Some(tree), dir: dir.to_path_buf(), reseal })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::envelopes;
    use crate::{EventLog, SledLog};

    #[tokio::test]
    async fn a_bare_read_of_a_sealed_log_leaves_it_sealed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = SledLog::open(dir.path()).expect("a new log");
        log.append(&envelopes(1, 3)).await.expect("append");
        let next = log.next_seq();
        drop(log);
        assert!(seal::is_sealed(dir.path()), "a clean close seals the log");
        let tree = open_log_tree(dir.path()).expect("the bare tree");
        assert_eq!(tree.iter().count(), 1, "one batch");
        drop(tree);
        assert!(seal::is_sealed(dir.path()), "read bare, the log is sealed again");
        let log = SledLog::open(dir.path()).expect("opens in place");
        assert_eq!(log.next_seq(), next);
    }
}
