//! Attachment contents on the local disk: content-addressed, encrypted, written whole.
//!
//! A blob is named by the SHA-256 (hex) of its plaintext and kept at `DIR/ab/abcdef…`, the first
//! two hex digits fanning the files out over 256 directories. The file holds a format tag, a
//! random 96-bit nonce and the AES-256-GCM ciphertext with its tag; the hash is the associated
//! data, so a blob copied under another blob's name fails to decrypt just like an altered one.
//! Files are written to a temporary file in the same directory, synced and renamed into place, so
//! a crash leaves either the whole blob or none of it. The metadata (who uploaded what, to which
//! record) lives in the database; this module only keeps bytes.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// First bytes of every blob file: names the layout, so a later format can be told apart.
const MAGIC: &[u8; 4] = b"HWB1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, Error)]
pub enum BlobError {
    #[error("no blob {0}")]
    NotFound(String),
    #[error("{0:?} is not a SHA-256 hex digest")]
    BadName(String),
    /// The file was altered, truncated, put under another name, or written with another key.
    #[error(
        "blob {0} does not decrypt with the configured key: it was altered or written with another key"
    )]
    Undecryptable(String),
    /// Decrypted, but to other bytes than its name says (should never happen: the name is
    /// authenticated; this guards against a bug in writing).
    #[error("blob {0} decrypts to content with another SHA-256")]
    HashMismatch(String),
    #[error("blob storage I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("blob storage task failed: {0}")]
    Task(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What storing a blob did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 of the plaintext, lowercase hex: the blob's name.
    pub sha256: String,
    pub size: u64,
    /// False when an identical blob was there already and nothing was written.
    pub written: bool,
}

/// An encrypted, content-addressed file store under one directory. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    dir: PathBuf,
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for BlobStore {
    // The cipher holds the key schedule: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn valid_name(sha256: &str) -> bool {
    sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    /// A store under `dir` (created on the first write) encrypting with `key`. The key comes from
    /// the deployment's configuration: a store never makes one up, since blobs written under a
    /// forgotten key are lost.
    pub fn new(dir: impl Into<PathBuf>, key: &[u8; 32]) -> Self {
        Self {
            dir: dir.into(),
            cipher: Arc::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob named `sha256` is (or would be) kept.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        if !valid_name(sha256) {
            return Err(BlobError::BadName(sha256.to_owned()));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// Stores `bytes` under their SHA-256 and returns it. Storing the same content again writes
    /// nothing, unless the copy there no longer decrypts (altered, or from another key), in which
    /// case it is replaced by a good one.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<StoredBlob, BlobError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.put_blocking(&bytes))
            .await
            .map_err(|e| BlobError::Task(e.to_string()))?
    }

    /// The plaintext of the blob named `sha256`, checked against its name.
    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        let this = self.clone();
        let name = sha256.to_owned();
        tokio::task::spawn_blocking(move || this.get_blocking(&name))
            .await
            .map_err(|e| BlobError::Task(e.to_string()))?
    }

    pub fn put_blocking(&self, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        let sha256 = sha256_hex(bytes);
        let path = self.path_of(&sha256)?;
        let stored = |written| StoredBlob {
            sha256: sha256.clone(),
            size: bytes.len() as u64,
            written,
        };
        match self.get_blocking(&sha256) {
            Ok(_) => return Ok(stored(false)),
            Err(BlobError::NotFound(_)) => {}
            Err(BlobError::Undecryptable(_) | BlobError::HashMismatch(_)) => {
                tracing::warn!(sha256 = %sha256, "replacing a stored blob that no longer decrypts");
            }
            Err(e) => return Err(e),
        }
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: bytes,
                    aad: sha256.as_bytes(),
                },
            )
            .map_err(|_| BlobError::Task("encryption failed".to_owned()))?;
        let shard = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(shard).map_err(io(shard))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(shard)
            .map_err(io(shard))?;
        tmp.write_all(MAGIC).map_err(io(tmp.path()))?;
        tmp.write_all(&nonce).map_err(io(tmp.path()))?;
        tmp.write_all(&ciphertext).map_err(io(tmp.path()))?;
        // On disk before the rename makes it visible: a crash must not leave a named half-blob.
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        // Two uploads of the same content may race here; both files are equally good, and
        // rename replaces atomically, so whichever lands last is fine.
        tmp.persist(&path).map_err(|e| BlobError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        // The rename itself is durable only once the directory is synced.
        sync_dir(shard)?;
        Ok(stored(true))
    }

    pub fn get_blocking(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(sha256)?;
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(BlobError::NotFound(sha256.to_owned()));
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let undecryptable = || BlobError::Undecryptable(sha256.to_owned());
        if data.len() < MAGIC.len() + NONCE_LEN + TAG_LEN || !data.starts_with(MAGIC) {
            return Err(undecryptable());
        }
        let (nonce, ciphertext) = data[MAGIC.len()..].split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: sha256.as_bytes(),
                },
            )
            .map_err(|_| undecryptable())?;
        if sha256_hex(&plaintext) != sha256 {
            return Err(BlobError::HashMismatch(sha256.to_owned()));
        }
        Ok(plaintext)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), BlobError> {
    // Directories cannot be opened for syncing there; NTFS journals the rename itself.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture, but bytes to keep";

    fn store(dir: &Path) -> BlobStore {
        BlobStore::new(dir, &KEY)
    }

    #[test]
    fn content_round_trips_and_is_not_stored_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let put = s.put_blocking(PNG).unwrap();
        assert_eq!(put.sha256, sha256_hex(PNG));
        assert_eq!(put.size, PNG.len() as u64);
        assert!(put.written);
        assert_eq!(s.get_blocking(&put.sha256).unwrap(), PNG);

        let path = s.path_of(&put.sha256).unwrap();
        assert!(path.starts_with(dir.path().join(&put.sha256[..2])));
        let on_disk = std::fs::read(&path).unwrap();
        assert!(!on_disk.windows(16).any(|w| PNG.windows(16).any(|p| p == w)));
        // No temporary file is left beside the blob.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(&put.sha256)]);
    }

    #[test]
    fn the_same_content_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let a = s.put_blocking(PNG).unwrap();
        let before = std::fs::read(s.path_of(&a.sha256).unwrap()).unwrap();
        let b = s.put_blocking(PNG).unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert!(!b.written);
        // Not rewritten (a rewrite would have a fresh nonce).
        assert_eq!(
            std::fs::read(s.path_of(&a.sha256).unwrap()).unwrap(),
            before
        );
        let other = s.put_blocking(b"%PDF-1.7 other").unwrap();
        assert_ne!(other.sha256, a.sha256);
    }

    #[test]
    fn another_key_cannot_read_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let put = store(dir.path()).put_blocking(PNG).unwrap();
        let other = BlobStore::new(dir.path(), &[8; 32]);
        assert!(matches!(
            other.get_blocking(&put.sha256),
            Err(BlobError::Undecryptable(_))
        ));
        // Storing under the new key replaces the unreadable copy with a readable one.
        assert!(other.put_blocking(PNG).unwrap().written);
        assert_eq!(other.get_blocking(&put.sha256).unwrap(), PNG);
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let put = s.put_blocking(PNG).unwrap();
        let path = s.path_of(&put.sha256).unwrap();
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                matches!(
                    s.get_blocking(&put.sha256),
                    Err(BlobError::Undecryptable(_))
                ),
                "byte {i}"
            );
        }
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert!(matches!(
            s.get_blocking(&put.sha256),
            Err(BlobError::Undecryptable(_))
        ));
    }

    #[test]
    fn a_blob_under_another_name_does_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let a = s.put_blocking(PNG).unwrap();
        let b = s.put_blocking(b"%PDF-1.4 something else").unwrap();
        std::fs::copy(s.path_of(&a.sha256).unwrap(), s.path_of(&b.sha256).unwrap()).unwrap();
        assert!(matches!(
            s.get_blocking(&b.sha256),
            Err(BlobError::Undecryptable(_))
        ));
    }

    #[test]
    fn missing_blobs_and_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert!(matches!(
            s.get_blocking(&sha256_hex(b"never stored")),
            Err(BlobError::NotFound(_))
        ));
        for bad in ["../../etc/passwd", "ABCDEF", &"A".repeat(64), ""] {
            assert!(
                matches!(s.get_blocking(bad), Err(BlobError::BadName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = BlobStore::new("/tmp/x", &[0xAB; 32]);
        assert_eq!(format!("{s:?}"), r#"BlobStore { dir: "/tmp/x", .. }"#);
    }
}
