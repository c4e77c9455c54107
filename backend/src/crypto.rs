//! Encryption at rest of sensitive case data (PIPL: health and financial details
//! of hardship and counselling requests). AES-256-GCM with a random 96-bit nonce
//! per value; the key comes from `QUNJIA_DATA_KEY`. Text is stored as
//! `v1:<base64(nonce ‖ ciphertext ‖ tag)>`, bytes as `nonce ‖ ciphertext ‖ tag`.
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::error::{AppError, AppResult};

const NONCE_LEN: usize = 12;
const TEXT_PREFIX: &str = "v1:";

/// The data key, ready to seal and open values.
pub struct DataKey(Aes256Gcm);

impl DataKey {
    /// From 64 hex digits (checked by the settings); `None` when malformed.
    pub fn from_hex(hex: &str) -> Option<DataKey> {
        if !crate::config::is_hex_key(hex) {
            return None;
        }
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .ok()?;
        Aes256Gcm::new_from_slice(&bytes).ok().map(DataKey)
    }

    /// Encrypts bytes: a fresh nonce, then ciphertext and tag.
    pub fn seal_bytes(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(&Nonce::from(nonce), plain)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts what [`DataKey::seal_bytes`] made; a wrong key or a changed
    /// value is an internal error (never the client's doing).
    pub fn open_bytes(&self, sealed: &[u8]) -> AppResult<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(AppError::Internal("sealed value too short".into()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
        self.0
            .decrypt(&Nonce::from(nonce), ct)
            .map_err(|_| AppError::Internal("sealed value does not open with the data key".into()))
    }

    /// Encrypts text for a TEXT column.
    pub fn seal(&self, plain: &str) -> String {
        format!(
            "{TEXT_PREFIX}{}",
            STANDARD.encode(self.seal_bytes(plain.as_bytes()))
        )
    }

    /// Decrypts what [`DataKey::seal`] made.
    pub fn open(&self, sealed: &str) -> AppResult<String> {
        let b64 = sealed
            .strip_prefix(TEXT_PREFIX)
            .ok_or_else(|| AppError::Internal("sealed text has no version prefix".into()))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| AppError::Internal("sealed text is not base64".into()))?;
        String::from_utf8(self.open_bytes(&bytes)?)
            .map_err(|_| AppError::Internal("sealed text is not UTF-8".into()))
    }

    /// [`DataKey::seal`] for an optional value.
    pub fn seal_opt(&self, plain: Option<&str>) -> Option<String> {
        plain.map(|p| self.seal(p))
    }

    /// [`DataKey::open`] for an optional value.
    pub fn open_opt(&self, sealed: Option<&str>) -> AppResult<Option<String>> {
        sealed.map(|s| self.open(s)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn text_round_trips_and_hides_the_plaintext() {
        let k = DataKey::from_hex(KEY).expect("key");
        let sealed = k.seal("家里老人住院，急需帮助");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("住院"));
        assert_eq!(k.open(&sealed).expect("opens"), "家里老人住院，急需帮助");
    }

    #[test]
    fn same_text_seals_differently_each_time() {
        let k = DataKey::from_hex(KEY).expect("key");
        assert_ne!(k.seal("x"), k.seal("x"));
    }

    #[test]
    fn another_key_or_a_changed_byte_does_not_open() {
        let k = DataKey::from_hex(KEY).expect("key");
        let other = DataKey::from_hex(&"ab".repeat(32)).expect("key");
        let mut sealed = k.seal_bytes(b"secret");
        assert!(other.open_bytes(&sealed).is_err());
        sealed[NONCE_LEN] ^= 1;
        assert!(k.open_bytes(&sealed).is_err());
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(DataKey::from_hex("abc").is_none());
        assert!(DataKey::from_hex(&"zz".repeat(32)).is_none());
    }
}
