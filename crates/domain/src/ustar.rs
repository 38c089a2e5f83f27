//! The few parts of the POSIX ustar archive format an evidence bundle needs: regular files with
//! short ASCII names, written to and read from memory. Any `tar` opens the result.
//!
//! Why not the `tar` crate: it is built around files on disk and `std::io`, while the bundle is
//! made and checked in memory by pure code; writing and reading plain files is a few dozen lines.

const BLOCK: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TarError {
    #[error("the archive ends inside an entry")]
    Truncated,
    #[error("entry {0:?}: its header checksum does not match (the archive is damaged)")]
    BadChecksum(String),
    #[error("entry {0:?}: only regular files are expected")]
    NotAFile(String),
    #[error("entry {0:?}: its size field is not an octal number")]
    BadSize(String),
    #[error("entry {0:?} appears twice")]
    Duplicate(String),
    #[error("name {0:?} is not 1 to 100 printable ASCII characters")]
    BadName(String),
}

/// Writes regular files into an in-memory ustar archive.
#[derive(Debug, Default)]
pub struct TarWriter {
    out: Vec<u8>,
}

impl TarWriter {
    /// Appends a file; `mtime` is seconds since the epoch.
    pub fn file(&mut self, name: &str, bytes: &[u8], mtime: i64) -> Result<(), TarError> {
        if name.is_empty() || name.len() > 100 || !name.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(TarError::BadName(name.to_owned()));
        }
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        put_octal(&mut h[100..108], 0o644);
        put_octal(&mut h[108..116], 0);
        put_octal(&mut h[116..124], 0);
        put_octal(&mut h[124..136], bytes.len() as u64);
        put_octal(&mut h[136..148], u64::try_from(mtime).unwrap_or(0));
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        put_octal(&mut h[148..155], sum);
        h[155] = b' ';
        self.out.extend_from_slice(&h);
        self.out.extend_from_slice(bytes);
        self.out.resize(self.out.len().div_ceil(BLOCK) * BLOCK, 0);
        Ok(())
    }

    /// The archive, closed with its two empty blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.resize(self.out.len() + 2 * BLOCK, 0);
        self.out
    }
}

/// Writes `v` in octal, zero-padded, into all but the field's last byte (left as NUL).
fn put_octal(field: &mut [u8], v: u64) {
    let width = field.len() - 1;
    let text = format!("{v:0width$o}");
    let text = &text.as_bytes()[text.len().saturating_sub(width)..];
    field[..width].copy_from_slice(text);
    field[width] = 0;
}

fn read_octal(field: &[u8]) -> Option<u64> {
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// The regular files of an archive, in order, as `(name, content)`.
pub fn read(archive: &[u8]) -> Result<Vec<(String, Vec<u8>)>, TarError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut at = 0;
    while at + BLOCK <= archive.len() {
        let h = &archive[at..at + BLOCK];
        if h.iter().all(|&b| b == 0) {
            return Ok(files);
        }
        let name: String = String::from_utf8_lossy(&h[..100])
            .trim_end_matches('\0')
            .to_owned();
        let stored = read_octal(&h[148..156]).ok_or_else(|| TarError::BadChecksum(name.clone()))?;
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if sum != stored {
            return Err(TarError::BadChecksum(name));
        }
        if h[156] != b'0' && h[156] != 0 {
            return Err(TarError::NotAFile(name));
        }
        let size = read_octal(&h[124..136])
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| TarError::BadSize(name.clone()))?;
        let start = at + BLOCK;
        let end = start.checked_add(size).ok_or(TarError::Truncated)?;
        if end > archive.len() {
            return Err(TarError::Truncated);
        }
        if files.iter().any(|(n, _)| *n == name) {
            return Err(TarError::Duplicate(name));
        }
        files.push((name, archive[start..end].to_vec()));
        at = start + size.div_ceil(BLOCK) * BLOCK;
    }
    Err(TarError::Truncated)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn files_round_trip() {
        let mut w = TarWriter::default();
        w.file("manifest.json", b"{}", 1_700_000_000).unwrap();
        w.file("attachments/a.pdf", &[7u8; 1000], 0).unwrap();
        w.file("empty", b"", 0).unwrap();
        let bytes = w.finish();
        assert_eq!(bytes.len() % BLOCK, 0);
        let files = read(&bytes).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0], ("manifest.json".into(), b"{}".to_vec()));
        assert_eq!(files[1].1, vec![7u8; 1000]);
        assert!(files[2].1.is_empty());
    }

    #[test]
    fn damage_and_bad_names_are_refused() {
        let mut w = TarWriter::default();
        assert!(matches!(w.file("a b", b"", 0), Err(TarError::BadName(_))));
        assert!(matches!(
            w.file(&"x".repeat(101), b"", 0),
            Err(TarError::BadName(_))
        ));
        w.file("a", b"hello", 0).unwrap();
        let mut bytes = w.finish();
        bytes[0] = b'b';
        assert_eq!(read(&bytes), Err(TarError::BadChecksum("b".into())));
        assert_eq!(read(&bytes[..600]), Err(TarError::BadChecksum("b".into())));
        assert_eq!(read(b"short"), Err(TarError::Truncated));
    }
}
