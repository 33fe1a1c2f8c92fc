//! Citizens' identity numbers for the quota: normalised to one spelling, then kept only as a
//! keyed hash (HMAC-SHA256). The key lives in its own file, outside the database, so a copied
//! database alone cannot be searched for an id (12-digit CCCD numbers have little entropy:
//! province, sex/century and birth year leave about 10^6 per guess without the key).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why an identity number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{shown}\" is not an identity number: give the 12 digits of the CCCD (or 9 of an old CMND) \
     or a passport number"
)]
pub struct BadCitizenId {
    shown: String,
}

/// One spelling per person: spaces, dots and dashes dropped, letters upper case. A number of
/// digits only must have 12 (CCCD) or 9 (CMND); a passport number starts with a letter and has
/// 6 to 12 letters and digits. Anything else is refused, so "001-190-054321" and
/// "001190054321" are one person and a typo cannot pass as a second. (The same rule is the
/// `citizen_id` pattern in docs/openapi.yaml.)
pub fn normalise_citizen_id(raw: &str) -> Result<String, BadCitizenId> {
    let bad = || BadCitizenId {
        shown: crate::text::clip(raw, 32),
    };
    let mut out = String::new();
    for c in raw.chars() {
        match c {
            ' ' | '.' | '-' => {}
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            _ => return Err(bad()),
        }
    }
    let ok = match out.chars().next() {
        Some(c) if c.is_ascii_digit() => {
            out.chars().all(|c| c.is_ascii_digit()) && matches!(out.len(), 9 | 12)
        }
        Some(_) => (6..=12).contains(&out.len()),
        None => false,
    };
    if ok { Ok(out) } else { Err(bad()) }
}

/// The secret the identity hashes are keyed with.
pub struct IdKey {
    key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("identity key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("identity key {path}: expected 64 hex digits (32 bytes)")]
    Malformed { path: PathBuf },
}

impl IdKey {
    /// Read the key file, or create it (32 random bytes as hex, mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<IdKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::File::open(path) {
            Ok(mut f) => {
                let mut text = String::new();
                f.read_to_string(&mut text).map_err(io)?;
                IdKey::from_hex(text.trim()).ok_or_else(|| KeyError::Malformed {
                    path: path.to_path_buf(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                // Straight from the OS: a key must not fall back to guessable entropy.
                let mut key = [0u8; 32];
                std::fs::File::open("/dev/urandom")
                    .and_then(|mut r| r.read_exact(&mut key))
                    .map_err(io)?;
                let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(io)?;
                f.write_all(format!("{hex}\n").as_bytes()).map_err(io)?;
                f.sync_all().map_err(io)?;
                IdKey::from_hex(&hex).ok_or_else(|| KeyError::Malformed {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The key the centre hashes a booked citizen's id with for one point, derived from that
    /// point's reporting token (a secret both already share, kept outside the point's
    /// database). The centre keeps only this hash, the point matches a scanned card against
    /// it; a copied database without the token says nothing. Rotating the token makes the
    /// bookings made before unmatched by card (their codes still work).
    pub fn for_bookings(point_token: &str) -> IdKey {
        let mut h = Sha256::new();
        sha2::Digest::update(&mut h, b"kiosk booking id key v1:");
        sha2::Digest::update(&mut h, point_token.as_bytes());
        IdKey {
            key: h.finalize().into(),
        }
    }

    fn from_hex(hex: &str) -> Option<IdKey> {
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(IdKey { key })
    }

    /// The stored form of a normalised identity number.
    pub fn hash(&self, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"kiosk citizen id v2:");
        mac.update(normalised.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_person() {
        let a = normalise_citizen_id("001190054321").unwrap();
        assert_eq!(normalise_citizen_id("001-190-054321").unwrap(), a);
        assert_eq!(normalise_citizen_id(" 001 190 054 321 ").unwrap(), a);
        assert_eq!(normalise_citizen_id("001.190.054.321").unwrap(), a);
        assert_eq!(normalise_citizen_id("c1234567").unwrap(), "C1234567");
        assert!(
            normalise_citizen_id("012345678").is_ok(),
            "old 9-digit CMND"
        );
    }

    #[test]
    fn typos_and_junk_are_refused() {
        for bad in [
            "00119005432",
            "0011900543210",
            "",
            "12/3456789012",
            "ABC",
            "１２３",
            "1234C567",
        ] {
            assert!(normalise_citizen_id(bad).is_err(), "{bad}");
        }
        let long = "9".repeat(10_000);
        let e = normalise_citizen_id(&long).unwrap_err().to_string();
        assert!(e.len() < 200, "the refusal quotes a short part only: {e}");
    }

    #[test]
    fn the_key_file_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/identity.key");
        let k1 = IdKey::load_or_create(&path).unwrap();
        let k2 = IdKey::load_or_create(&path).unwrap();
        assert_eq!(k1.hash("001190054321"), k2.hash("001190054321"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Another key gives other hashes: without the key file the hashes say nothing.
        let other = dir.path().join("other.key");
        let k3 = IdKey::load_or_create(&other).unwrap();
        assert_ne!(k1.hash("001190054321"), k3.hash("001190054321"));
        std::fs::write(&other, "not hex").unwrap();
        assert!(matches!(
            IdKey::load_or_create(&other),
            Err(KeyError::Malformed { .. })
        ));
    }
}
