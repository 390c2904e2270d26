//! The data of one file written since its last sync: what its readers see
//! and a power cut drops.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// A file's pending data over its backing file, which holds the durable
/// content: written bytes by offset, the size its users see, and how much
/// of the backing content a held truncation hides.
#[derive(Debug)]
pub(crate) struct Overlay {
    /// The size the file has for its users.
    size: u64,
    /// Backing bytes at and after this offset read as zeros: a truncation
    /// (`set_len`, `O_TRUNC`) not yet synced.
    hidden_from: u64,
    /// Written bytes by offset; no two overlap.
    extents: BTreeMap<u64, Vec<u8>>,
}

impl Overlay {
    /// Nothing pending over a backing file of `backing_len` bytes.
    pub(crate) fn new(backing_len: u64) -> Overlay {
        Overlay { size: backing_len, hidden_from: backing_len, extents: BTreeMap::new() }
    }

    /// The size the file has for its users.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Written bytes held (a held truncation holds none).
    pub(crate) fn held_bytes(&self) -> u64 {
        self.extents.values().map(|d| d.len() as u64).sum()
    }

    /// Writes `data` at `offset`.
    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        // Extents overlapping or adjacent to [offset, end], highest first:
        // they are merged into one.
        let touching: Vec<u64> = self
            .extents
            .range(..=end)
            .rev()
            .take_while(|(start, bytes)| **start + bytes.len() as u64 >= offset)
            .map(|(start, _)| *start)
            .collect();
        let stop = touching
            .iter()
            .map(|start| start + self.extents[start].len() as u64)
            .max()
            .map_or(end, |last| last.max(end));
        // The lowest extent, if it starts at or before `offset`, is grown in
        // place: sequential writes then cost their own length only.
        let (start, mut merged) = match touching.last() {
            Some(&lowest) if lowest <= offset => {
                (lowest, self.extents.remove(&lowest).expect("a touching extent is stored"))
            }
            _ => (offset, Vec::new()),
        };
        merged.resize((stop - start) as usize, 0);
        for other in touching.iter().filter(|s| **s != start) {
            if let Some(bytes) = self.extents.remove(other) {
                let at = (other - start) as usize;
                merged[at..at + bytes.len()].copy_from_slice(&bytes);
            }
        }
        let at = (offset - start) as usize;
        merged[at..at + data.len()].copy_from_slice(data);
        self.extents.insert(start, merged);
        self.size = self.size.max(end);
    }

    /// Sets the size to `len`: bytes past it are gone, and read as zeros if
    /// the file grows again.
    pub(crate) fn set_len(&mut self, len: u64) {
        self.size = len;
        self.hidden_from = self.hidden_from.min(len);
        let cut: Vec<u64> = self.extents.range(len..).map(|(start, _)| *start).collect();
        for start in cut {
            self.extents.remove(&start);
        }
        if let Some((start, bytes)) = self.extents.range_mut(..len).next_back() {
            let keep = (len - start) as usize;
            if bytes.len() > keep {
                bytes.truncate(keep);
            }
        }
    }

    /// Reads up to `len` bytes at `offset` as the file's users see them:
    /// the backing file's durable bytes under the held ones.
    pub(crate) fn read(&self, backing: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let end = offset.saturating_add(len).min(self.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let mut out = vec![0u8; (end - offset) as usize];
        let from_backing = end.min(self.hidden_from).saturating_sub(offset) as usize;
        read_at_most(backing, &mut out[..from_backing], offset)?;
        let first = self.extents.range(..=offset).next_back().map_or(offset, |(start, _)| *start);
        for (start, bytes) in self.extents.range(first..end) {
            let (lo, hi) = ((*start).max(offset), (start + bytes.len() as u64).min(end));
            if lo < hi {
                out[(lo - offset) as usize..(hi - offset) as usize]
                    .copy_from_slice(&bytes[(lo - start) as usize..(hi - start) as usize]);
            }
        }
        Ok(out)
    }

    /// Writes everything held into `backing` and syncs it: the file's
    /// content is then durable and nothing is held any more.
    pub(crate) fn apply(&self, backing: &File) -> io::Result<()> {
        if self.hidden_from < backing.metadata()?.len() {
            backing.set_len(self.hidden_from)?;
        }
        for (start, bytes) in &self.extents {
            backing.write_all_at(bytes, *start)?;
        }
        if backing.metadata()?.len() != self.size {
            backing.set_len(self.size)?;
        }
        backing.sync_all()
    }
}

/// Reads into `buf` from `offset`; what lies past the file's end stays zero.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn backing(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(bytes).expect("write");
        let reopened = file.reopen().expect("reopen");
        (file, reopened)
    }

    /// The reference: the whole file as bytes.
    fn model(base: &[u8], ops: &[(u64, Option<Vec<u8>>)]) -> Vec<u8> {
        let mut v = base.to_vec();
        for (at, op) in ops {
            match op {
                Some(data) => {
                    let end = *at as usize + data.len();
                    if v.len() < end {
                        v.resize(end, 0);
                    }
                    v[*at as usize..end].copy_from_slice(data);
                }
                None => v.resize(*at as usize, 0),
            }
        }
        v
    }

    #[test]
    fn reads_and_apply_match_a_plain_file_under_writes_and_truncations() {
        let base: Vec<u8> = (0..200u8).collect();
        let mut seed = 7u64;
        for _ in 0..300 {
            let (_keep, file) = backing(&base);
            let mut overlay = Overlay::new(base.len() as u64);
            let mut ops = Vec::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = (seed >> 33) % 260;
                if (seed >> 20).is_multiple_of(5) {
                    overlay.set_len(at);
                    ops.push((at, None));
                } else {
                    let len = 1 + (seed >> 40) as usize % 40;
                    let data: Vec<u8> = (0..len).map(|i| (seed as usize + i) as u8 | 1).collect();
                    overlay.write(at, &data);
                    ops.push((at, Some(data)));
                }
                let want = model(&base, &ops);
                assert_eq!(overlay.size(), want.len() as u64, "{ops:?}");
                assert_eq!(overlay.read(&file, 0, 1000).expect("read"), want, "{ops:?}");
                let mid = overlay.read(&file, 17, 50).expect("read");
                assert_eq!(mid, want.get(17..want.len().min(67)).unwrap_or(&[]), "{ops:?}");
            }
            let want = model(&base, &ops);
            overlay.apply(&file).expect("apply");
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut file.try_clone().expect("clone"), &mut got).expect("read back");
            assert_eq!(got, want, "{ops:?}");
        }
    }

    #[test]
    fn sequential_writes_merge_into_one_extent() {
        let mut overlay = Overlay::new(0);
        for i in 0..100u64 {
            overlay.write(i * 10, &[i as u8; 10]);
        }
        assert_eq!(overlay.extents.len(), 1);
        assert_eq!(overlay.held_bytes(), 1000);
    }
}
