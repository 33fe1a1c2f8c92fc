//! Update bundles from the centre: site config, procedure catalogue, assistant data, guides and
//! voice clips, as one signed file. The centre makes its Ed25519 key once (`kiosk centre
//! keygen`), signs each bundle (`kiosk centre bundle`), publishes it to some points or all
//! (`kiosk centre publish`); each point pulls it over the reporting link, checks the signature
//! against the public key in its config, checks the files (and the config with the same checks
//! as `kiosk check-config`), and only then installs it (`crate::updates`).
//!
//! A bundle file is JSON: `{schema: "kiosk-bundle/1", key_id, payload, signature}`, where
//! `payload` is the base64 of the exact bytes signed (the manifest JSON with every file inline)
//! and `key_id` the first 16 hex digits of SHA-256 of the public key. Anything that does not
//! decode, verify and check is refused whole: nothing of it is written.

use std::collections::BTreeSet;
use std::path::Path;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

pub const SCHEMA: &str = "kiosk-bundle/1";
/// The largest bundle a point takes (a catalogue of every procedure is ~10 MB of JSON).
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;
pub const MAX_FILES: usize = 2000;
/// What a bundle may carry, by its top folder (or file).
pub const PARTS: [&str; 5] = [
    "config.toml",
    "catalogue/",
    "assistant/",
    "guides/",
    "voice/",
];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BundleError {
    #[error("not a bundle: {0}")]
    Malformed(String),
    #[error("signed by another key ({found}; this point trusts {trusted})")]
    OtherKey { found: String, trusted: String },
    #[error("the signature does not match: the bundle was changed after signing, or cut short")]
    BadSignature,
    #[error("file {path}: {why}")]
    BadFile { path: String, why: String },
    #[error("{0}")]
    Key(String),
}

/// One file in a bundle, inline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    pub path: String,
    pub sha256: String,
    /// base64
    pub data: String,
}

/// What is signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    /// The bundle's version, as the dashboard shows it ("2026.12.02-1").
    pub version: String,
    pub created_at: DateTime<Utc>,
    /// Free text for the people who publish it.
    pub note: String,
    pub files: Vec<BundleFile>,
}

/// The file as stored and sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub schema: String,
    pub key_id: String,
    pub payload: String,
    pub signature: String,
}

/// A bundle that verified and checked: its manifest and its files' bytes.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    pub files: Vec<(String, Vec<u8>)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public_key: &[u8]) -> String {
    hex(&sha2::Sha256::digest(public_key))[..16].to_string()
}

/// A new signing key: (PKCS#8 private key as base64, raw public key as base64).
pub fn keygen() -> Result<(String, String), BundleError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| BundleError::Key(e.to_string()))?;
    let pair =
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| BundleError::Key(e.to_string()))?;
    Ok((
        B64.encode(pkcs8.as_ref()),
        B64.encode(pair.public_key().as_ref()),
    ))
}

/// The public key a point's config names (`[updates] public_key`, base64 of 32 bytes).
pub fn parse_public_key(text: &str) -> Result<Vec<u8>, BundleError> {
    let key = B64
        .decode(text.trim())
        .map_err(|e| BundleError::Key(format!("public key: not base64: {e}")))?;
    if key.len() != 32 {
        return Err(BundleError::Key(format!(
            "public key: {} bytes, an Ed25519 key has 32",
            key.len()
        )));
    }
    Ok(key)
}

/// Whether a path in a bundle is one a point may write: relative, plain characters, no `..`,
/// under one of `PARTS`.
pub fn check_path(path: &str) -> Result<(), String> {
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
    if path.is_empty() || path.len() > 200 || !plain {
        return Err("a path of letters, digits, '.', '_', '-' and '/' only".into());
    }
    if path.starts_with('/')
        || path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err("a relative path without '.', '..' or empty parts".into());
    }
    if !PARTS.iter().any(|p| {
        if p.ends_with('/') {
            path.starts_with(p)
        } else {
            path == *p
        }
    }) {
        return Err(format!(
            "not a part a bundle carries ({})",
            PARTS.join(", ")
        ));
    }
    Ok(())
}

/// Sign the files of `dir` (config.toml, catalogue/, assistant/, guides/, voice/) as bundle
/// `version`, with the private key (base64 PKCS#8).
pub fn make(
    dir: &Path,
    version: &str,
    note: &str,
    private_key: &str,
) -> Result<Signed, BundleError> {
    if version.is_empty() || version.len() > 64 || check_path(&format!("guides/{version}")).is_err()
    {
        return Err(BundleError::Malformed(format!(
            "version \"{version}\": letters, digits, '.', '_' and '-' only"
        )));
    }
    let pkcs8 = B64
        .decode(private_key.trim())
        .map_err(|e| BundleError::Key(format!("private key: not base64: {e}")))?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
        .map_err(|e| BundleError::Key(format!("private key: {e}")))?;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| BundleError::Malformed(format!("{}: {e}", d.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| BundleError::Malformed(e.to_string()))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .map_err(|e| BundleError::Malformed(e.to_string()))?
                .to_string_lossy()
                .replace('\\', "/");
            check_path(&rel).map_err(|why| BundleError::BadFile {
                path: rel.clone(),
                why,
            })?;
            let data = std::fs::read(&path)
                .map_err(|e| BundleError::Malformed(format!("{}: {e}", path.display())))?;
            files.push(BundleFile {
                sha256: hex(&sha2::Sha256::digest(&data)),
                data: B64.encode(&data),
                path: rel,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if files.is_empty() {
        return Err(BundleError::Malformed(format!(
            "{}: nothing to bundle (config.toml, catalogue/, assistant/, guides/, voice/)",
            dir.display()
        )));
    }
    let manifest = Manifest {
        schema: SCHEMA.into(),
        version: version.into(),
        created_at: Utc::now(),
        note: note.into(),
        files,
    };
    let payload =
        serde_json::to_vec(&manifest).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let signature = pair.sign(&payload);
    Ok(Signed {
        schema: SCHEMA.into(),
        key_id: key_id(pair.public_key().as_ref()),
        payload: B64.encode(&payload),
        signature: B64.encode(signature.as_ref()),
    })
}

/// Check a bundle's bytes against the trusted public key: it parses, the signature holds over
/// the exact payload, and every file's path, size and hash are right. Nothing is written.
pub fn verify(bytes: &[u8], public_key: &[u8]) -> Result<Verified, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::Malformed(format!(
            "{} bytes, more than the {MAX_BUNDLE_BYTES} a point takes",
            bytes.len()
        )));
    }
    let signed: Signed = serde_json::from_slice(bytes)
        .map_err(|e| BundleError::Malformed(format!("{e} (truncated or not a bundle file)")))?;
    if signed.schema != SCHEMA {
        return Err(BundleError::Malformed(format!(
            "schema \"{}\", not {SCHEMA}",
            signed.schema
        )));
    }
    let trusted = key_id(public_key);
    if signed.key_id != trusted {
        return Err(BundleError::OtherKey {
            found: signed.key_id,
            trusted,
        });
    }
    let payload = B64
        .decode(&signed.payload)
        .map_err(|_| BundleError::BadSignature)?;
    let signature = B64
        .decode(&signed.signature)
        .map_err(|_| BundleError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(&payload, &signature)
        .map_err(|_| BundleError::BadSignature)?;
    // Signed by the centre from here on; still checked, so a bug there cannot write anywhere.
    let manifest: Manifest = serde_json::from_slice(&payload)
        .map_err(|e| BundleError::Malformed(format!("manifest: {e}")))?;
    if manifest.schema != SCHEMA || manifest.files.len() > MAX_FILES {
        return Err(BundleError::Malformed(
            "manifest: schema or file count".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for f in &manifest.files {
        let bad = |why: &str| BundleError::BadFile {
            path: f.path.clone(),
            why: why.to_string(),
        };
        check_path(&f.path).map_err(|why| bad(&why))?;
        if !seen.insert(f.path.to_ascii_lowercase()) {
            return Err(bad("listed twice"));
        }
        let data = B64.decode(&f.data).map_err(|_| bad("not base64"))?;
        if hex(&sha2::Sha256::digest(&data)) != f.sha256 {
            return Err(bad("its hash does not match"));
        }
        files.push((f.path.clone(), data));
    }
    Ok(Verified { manifest, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) {
        std::fs::create_dir_all(dir.join("guides")).unwrap();
        std::fs::write(dir.join("guides/vneid.md"), "# VNeID\n").unwrap();
        std::fs::write(dir.join("config.toml"), "# site\n").unwrap();
    }

    #[test]
    fn a_signed_bundle_verifies_and_any_change_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path());
        let (private, public) = keygen().unwrap();
        let public = parse_public_key(&public).unwrap();
        let signed = make(dir.path(), "2026.12.02-1", "test", &private).unwrap();
        let bytes = serde_json::to_vec(&signed).unwrap();
        let v = verify(&bytes, &public).unwrap();
        assert_eq!(v.manifest.version, "2026.12.02-1");
        assert_eq!(
            v.files.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["config.toml", "guides/vneid.md"]
        );
        // Cut short.
        assert!(matches!(
            verify(&bytes[..bytes.len() / 2], &public),
            Err(BundleError::Malformed(_))
        ));
        // One byte of the payload changed (a file's text), re-encoded so it still parses.
        let mut payload = B64.decode(&signed.payload).unwrap();
        let at = payload.len() / 2;
        payload[at] ^= 1;
        let tampered = Signed {
            payload: B64.encode(&payload),
            ..signed.clone()
        };
        assert_eq!(
            verify(&serde_json::to_vec(&tampered).unwrap(), &public).unwrap_err(),
            BundleError::BadSignature
        );
        // Another key.
        let (_, other) = keygen().unwrap();
        assert!(matches!(
            verify(&bytes, &parse_public_key(&other).unwrap()),
            Err(BundleError::OtherKey { .. })
        ));
    }

    #[test]
    fn paths_outside_the_bundles_parts_are_refused() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "guides/../../x",
            "kiosk.sqlite",
            "guides//a",
            "guides/ä.md",
            "",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for good in [
            "config.toml",
            "catalogue/tthc.json",
            "voice/vi/a-001.wav",
            "assistant/phrasings/ho-tich.toml",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }
}
