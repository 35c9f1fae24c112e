//! The secret that keys the audit chain. It never enters the database: a
//! person who can write the database but not read the server's environment
//! or data directory cannot compute a keyed hash, so an edited, re-hashed or
//! truncated trail shows (SPEC §1: health information audited).
//!
//! Keys come from `RESPITE_AUDIT_KEY` (hex, several separated by commas or
//! spaces) or from the file `audit.key` in the data directory (one hex key a
//! line, `#` comments), created at first start with 32 random bytes and mode
//! 0600. The last key signs new entries; the earlier ones stay for verifying
//! the entries and checkpoints they signed (rotation: append a key, restart).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The environment variable that holds the audit keys, oldest first.
pub const AUDIT_KEY_ENV: &str = "RESPITE_AUDIT_KEY";
/// The key file's name in the data directory.
pub const AUDIT_KEY_FILE: &str = "audit.key";

/// 256 bits: the HMAC-SHA256 key size RFC 2104 §3 recommends (at least the
/// hash output length).
const KEY_BYTES: usize = 32;

/// One audit key: 32 secret bytes and an id derived from them.
#[derive(Clone)]
pub struct AuditKey {
    id: String,
    secret: [u8; KEY_BYTES],
}

/// A non-empty list of audit keys; the last one signs.
#[derive(Clone, Debug)]
pub struct AuditKeys {
    keys: Vec<AuditKey>,
}

/// What to do when the key file is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingKeyFile {
    /// First start of a server: create it with one random key.
    Create,
    /// Verification: a missing key is an error, never a fresh key.
    Refuse,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditKeyError {
    #[error("{origin}: key {position} is not an audit key: it must be 64 hex digits (32 bytes)")]
    NotAKey { origin: String, position: usize },
    #[error("{origin}: holds no audit key")]
    Empty { origin: String },
    #[error(
        "{path}: missing: the audit keys are in {AUDIT_KEY_ENV} or in this file, which `respite serve` creates at first start"
    )]
    Missing { path: PathBuf },
    #[error(
        "{path}: readable or writable by group or others (mode {mode:o}); the audit key file must be private: chmod 600 {path}"
    )]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("audit key: the system gave no random bytes: {0}")]
    Random(String),
}

impl AuditKey {
    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Option<AuditKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        let secret: [u8; KEY_BYTES] = bytes.try_into().ok()?;
        Some(AuditKey::from_secret(secret))
    }

    /// A fresh random key.
    pub fn generate() -> Result<AuditKey, AuditKeyError> {
        let mut secret = [0u8; KEY_BYTES];
        getrandom::getrandom(&mut secret).map_err(|err| AuditKeyError::Random(err.to_string()))?;
        Ok(AuditKey::from_secret(secret))
    }

    /// The key's id, stored with each entry it signs: the first 8 bytes of
    /// SHA-256 over a label and the key, so that it names the key without
    /// revealing it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as hex, to write the key file (never for logs).
    pub fn to_hex(&self) -> String {
        hex::encode(self.secret)
    }

    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; 32 bytes never fails.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts a 32-byte key"))
    }

    fn from_secret(secret: [u8; KEY_BYTES]) -> AuditKey {
        let mut hasher = Sha256::new();
        hasher.update(b"respite audit key id\0");
        hasher.update(secret);
        let id = hex::encode(&hasher.finalize()[..8]);
        AuditKey { id, secret }
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id).finish()
    }
}

impl AuditKeys {
    /// Keys oldest first; the last signs.
    pub fn new(keys: Vec<AuditKey>) -> Option<AuditKeys> {
        (!keys.is_empty()).then_some(AuditKeys { keys })
    }

    /// Keys from text: hex keys separated by commas, spaces or lines, `#`
    /// starting a comment. `origin` names the text in errors.
    pub fn parse(text: &str, origin: &str) -> Result<AuditKeys, AuditKeyError> {
        let mut keys = Vec::new();
        let words = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or(""))
            .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|word| !word.is_empty());
        for (index, word) in words.enumerate() {
            let key = AuditKey::from_hex(word).ok_or_else(|| AuditKeyError::NotAKey {
                origin: origin.to_owned(),
                position: index + 1,
            })?;
            keys.push(key);
        }
        AuditKeys::new(keys).ok_or_else(|| AuditKeyError::Empty {
            origin: origin.to_owned(),
        })
    }

    /// The keys in `data_dir/audit.key`; when it is missing, created with one
    /// random key (mode 0600) or refused, as `missing` says.
    pub fn load_file(data_dir: &Path, missing: MissingKeyFile) -> Result<AuditKeys, AuditKeyError> {
        let path = data_dir.join(AUDIT_KEY_FILE);
        let io = |error| AuditKeyError::Io {
            path: path.clone(),
            error,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                refuse_if_not_private(&path)?;
                AuditKeys::parse(&text, &path.display().to_string())
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => match missing {
                MissingKeyFile::Refuse => Err(AuditKeyError::Missing { path }),
                MissingKeyFile::Create => {
                    std::fs::create_dir_all(data_dir).map_err(io)?;
                    let key = AuditKey::generate()?;
                    let text = format!(
                        "# Respite audit keys, oldest first; the last signs new entries.\n\
                         # Keep every key: the entries it signed are verified with it.\n{}\n",
                        key.to_hex()
                    );
                    match write_private_new(&path, text.as_bytes()) {
                        Ok(()) => {
                            tracing::info!(path = %path.display(), key_id = key.id(), "created the audit key file");
                            Ok(AuditKeys { keys: vec![key] })
                        }
                        // Another process created it first: use its key.
                        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                            AuditKeys::load_file(data_dir, MissingKeyFile::Refuse)
                        }
                        Err(err) => Err(io(err)),
                    }
                }
            },
            Err(err) => Err(io(err)),
        }
    }

    /// The key new entries and checkpoints are signed with.
    pub fn signing(&self) -> &AuditKey {
        // `new` and `parse` never build an empty list.
        &self.keys[self.keys.len() - 1]
    }

    /// The key with this id, to verify what it signed.
    pub fn get(&self, id: &str) -> Option<&AuditKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// The ids, oldest first (for messages; never the keys).
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.id.as_str()).collect()
    }

    /// A key that lives only in this process, for a store nobody gave keys
    /// (tests, embedding): its entries verify until the process ends, and
    /// afterwards show as signed by a key the server does not hold, never
    /// as intact.
    pub(crate) fn ephemeral() -> AuditKeys {
        static EPHEMERAL: OnceLock<AuditKeys> = OnceLock::new();
        EPHEMERAL
            .get_or_init(|| {
                let key = AuditKey::generate().unwrap_or_else(|err| {
                    panic!("no random bytes for an ephemeral audit key: {err}")
                });
                AuditKeys { keys: vec![key] }
            })
            .clone()
    }
}

/// Creates `path` with mode 0600 (on Unix) and writes `bytes`; refuses to
/// overwrite an existing file.
fn write_private_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn refuse_if_not_private(path: &Path) -> Result<(), AuditKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|error| AuditKeyError::Io {
            path: path.to_owned(),
            error,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(AuditKeyError::NotPrivate {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_not_private(_path: &Path) -> Result<(), AuditKeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn keys_parse_oldest_first_and_the_last_signs() {
        let keys = AuditKeys::parse(&format!("# old\n{KEY_A}\n\n{KEY_B} # new\n"), "f").unwrap();
        assert_eq!(keys.ids().len(), 2);
        assert_eq!(keys.signing().to_hex(), KEY_B);
        let env = AuditKeys::parse(&format!("{KEY_A}, {KEY_B}"), "env").unwrap();
        assert_eq!(env.ids(), keys.ids());
        assert!(keys.get(keys.ids()[0]).is_some());
        assert_ne!(keys.ids()[0], keys.ids()[1]);
        assert_eq!(keys.ids()[0].len(), 16);
    }

    #[test]
    fn bad_keys_name_the_origin_and_the_rule() {
        let error = |text: &str| AuditKeys::parse(text, "RESPITE_AUDIT_KEY").unwrap_err();
        assert_eq!(
            error(&format!("{KEY_A},abc")).to_string(),
            "RESPITE_AUDIT_KEY: key 2 is not an audit key: it must be 64 hex digits (32 bytes)"
        );
        assert_eq!(
            error(" # nothing\n").to_string(),
            "RESPITE_AUDIT_KEY: holds no audit key"
        );
        // 31 bytes is too short for the rule, 33 too long.
        assert!(matches!(error(&KEY_A[2..]), AuditKeyError::NotAKey { .. }));
        assert!(matches!(
            error(&format!("{KEY_A}00")),
            AuditKeyError::NotAKey { .. }
        ));
    }

    #[test]
    fn the_key_file_is_created_private_once_and_then_read() {
        let dir = std::env::temp_dir().join(format!("respite-audit-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(
            AuditKeys::load_file(&dir, MissingKeyFile::Refuse),
            Err(AuditKeyError::Missing { .. })
        ));
        let created = AuditKeys::load_file(&dir, MissingKeyFile::Create).unwrap();
        let read = AuditKeys::load_file(&dir, MissingKeyFile::Refuse).unwrap();
        assert_eq!(created.ids(), read.ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.join(AUDIT_KEY_FILE);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let error = AuditKeys::load_file(&dir, MissingKeyFile::Refuse).unwrap_err();
            assert!(error.to_string().contains("chmod 600"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
