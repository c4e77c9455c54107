//! Encryption at rest of sensitive case data (PIPL: health and financial details
//! of hardship and counselling requests). AES-256-GCM with a random 96-bit nonce
//! per value; the key comes from `QUNJIA_DATA_KEY`. Text is stored as
//! `v1:<base64(nonce ‖ ciphertext ‖ tag)>`, bytes as `nonce ‖ ciphertext ‖ tag`.
//!
//! Rotation: values are always sealed with the current key; earlier keys
//! (`QUNJIA_DATA_KEY_PREVIOUS`) only open. The GCM tag tells which key fits,
//! so no key id is stored. `qunjia rekey` (see [`rekey`]) re-seals every
//! stored value under the current key, after which earlier keys can go.
pub mod rekey;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::error::{AppError, AppResult};

const NONCE_LEN: usize = 12;
/// The version prefix of sealed text.
pub const TEXT_PREFIX: &str = "v1:";

/// The data key, ready to seal and open values, with the earlier keys that
/// still open what was sealed before a rotation.
pub struct DataKey {
    current: Aes256Gcm,
    previous: Vec<Aes256Gcm>,
}

/// Which key opened a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenedWith {
    Current,
    Previous,
}

fn cipher(hex: &str) -> Option<Aes256Gcm> {
    if !crate::config::is_hex_key(hex) {
        return None;
    }
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    Aes256Gcm::new_from_slice(&bytes).ok()
}

impl DataKey {
    /// From 64 hex digits (checked by the settings); `None` when malformed.
    pub fn from_hex(hex: &str) -> Option<DataKey> {
        DataKey::with_previous(hex, [])
    }

    /// The current key plus earlier ones that only open; `None` when any is malformed.
    pub fn with_previous<'a>(
        hex: &str,
        previous: impl IntoIterator<Item = &'a str>,
    ) -> Option<DataKey> {
        let previous = previous
            .into_iter()
            .map(cipher)
            .collect::<Option<Vec<_>>>()?;
        Some(DataKey {
            current: cipher(hex)?,
            previous,
        })
    }

    /// The keys configured in the settings.
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<DataKey> {
        use secrecy::ExposeSecret;
        DataKey::with_previous(
            settings.data_key.expose_secret(),
            settings.data_key_previous.iter().map(|k| k.expose_secret()),
        )
        .ok_or_else(|| {
            anyhow::anyhow!(
                "QUNJIA_DATA_KEY and QUNJIA_DATA_KEY_PREVIOUS must be 64 hex digits each"
            )
        })
    }

    /// Encrypts bytes: a fresh nonce, then ciphertext and tag.
    pub fn seal_bytes(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        #[expect(
            clippy::expect_used,
            reason = "AES-GCM of an in-memory buffer cannot fail"
        )]
        let ct = self
            .current
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
        self.open_bytes_with(sealed).map(|(plain, _)| plain)
    }

    /// [`DataKey::open_bytes`], telling whether the current key or an earlier one fitted.
    pub fn open_bytes_with(&self, sealed: &[u8]) -> AppResult<(Vec<u8>, OpenedWith)> {
        if sealed.len() < NONCE_LEN {
            return Err(AppError::Internal("sealed value too short".into()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let mut exact = [0u8; NONCE_LEN];
        exact.copy_from_slice(nonce);
        let nonce = Nonce::from(exact);
        if let Ok(plain) = self.current.decrypt(&nonce, ct) {
            return Ok((plain, OpenedWith::Current));
        }
        self.previous
            .iter()
            .find_map(|k| k.decrypt(&nonce, ct).ok())
            .map(|plain| (plain, OpenedWith::Previous))
            .ok_or_else(|| {
                AppError::Internal("sealed value does not open with the data key".into())
            })
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
        self.open_with(sealed).map(|(plain, _)| plain)
    }

    /// [`DataKey::open`], telling whether the current key or an earlier one fitted.
    pub fn open_with(&self, sealed: &str) -> AppResult<(String, OpenedWith)> {
        let b64 = sealed
            .strip_prefix(TEXT_PREFIX)
            .ok_or_else(|| AppError::Internal("sealed text has no version prefix".into()))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| AppError::Internal("sealed text is not base64".into()))?;
        let (plain, with) = self.open_bytes_with(&bytes)?;
        let plain = String::from_utf8(plain)
            .map_err(|_| AppError::Internal("sealed text is not UTF-8".into()))?;
        Ok((plain, with))
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

/// Refuses a data key that does not open the stored cases, which would
/// otherwise answer 500 on every case: tries the oldest and the newest
/// description (a rotation half done shows at one end or the other).
pub async fn check_opens(db: &sea_orm::DatabaseConnection, key: &DataKey) -> anyhow::Result<()> {
    use sea_orm::{EntityTrait, Order, QueryOrder};

    use crate::entity::cases;
    for order in [Order::Asc, Order::Desc] {
        let case = cases::Entity::find()
            .order_by(cases::Column::Id, order)
            .one(db)
            .await?;
        if let Some(c) = case
            && key.open(&c.description_enc).is_err()
        {
            anyhow::bail!(
                "refusing to start: QUNJIA_DATA_KEY does not open stored case {}; set the key that sealed the cases (during a rotation, keep it in QUNJIA_DATA_KEY_PREVIOUS until qunjia rekey has run)",
                c.id
            );
        }
    }
    Ok(())
}

/// HMAC-SHA256 keyed with `key`: the one place a MAC is made (JWT and OTP key
/// derivation, OTP hashes, check-in tokens).
#[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
pub fn hmac_sha256(key: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key).expect("HMAC takes any key length")
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
        assert!(DataKey::with_previous(KEY, ["abc"]).is_none());
    }

    #[test]
    fn an_earlier_key_opens_what_it_sealed_and_new_values_use_the_current_one() {
        let old = DataKey::from_hex(KEY).expect("key");
        let rotated = DataKey::with_previous(&"ab".repeat(32), [KEY]).expect("keys");
        let before = old.seal("旧钥匙加密");
        assert_eq!(
            rotated.open_with(&before).expect("opens"),
            ("旧钥匙加密".to_owned(), OpenedWith::Previous)
        );
        let after = rotated.seal("新钥匙加密");
        assert_eq!(
            rotated.open_with(&after).expect("opens").1,
            OpenedWith::Current
        );
        assert!(old.open(&after).is_err());
    }

    #[test]
    fn a_value_of_no_configured_key_does_not_open() {
        let stranger = DataKey::from_hex(&"cd".repeat(32)).expect("key");
        let rotated = DataKey::with_previous(&"ab".repeat(32), [KEY]).expect("keys");
        assert!(rotated.open_bytes(&stranger.seal_bytes(b"x")).is_err());
    }
}
