//! The rotating check-in token: `base64url(activity_id u64 BE ‖ window u32 BE ‖ mac[..12])`,
//! 32 characters, where `window = floor(unix_secs / 30)` and the MAC is HMAC-SHA256
//! under a key derived from the server secret and the activity's own `checkin_key`
//! (so rotating that key voids every code of the activity). The 6-character short
//! code is taken from bytes of the same MAC that the token never shows.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

/// Seconds per window.
pub const WINDOW_SECS: i64 = 30;
/// A window's token is still taken this long after the window ends.
pub const GRACE_SECS: i64 = 30;
/// Bytes of MAC the token carries (96 bits).
const MAC_LEN: usize = 12;
const RAW_LEN: usize = 8 + 4 + MAC_LEN;
/// Short-code alphabet: no 0/O, 1/I/L.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Short-code length.
pub const SHORT_CODE_LEN: usize = 6;

/// What a token says once its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    /// The activity.
    pub activity_id: i64,
    /// The 30-second window it was issued for.
    pub window: i64,
}

/// The window a moment (Unix seconds) falls in.
pub fn window_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(WINDOW_SECS)
}

/// The key of one activity: HMAC(HMAC(secret, purpose), checkin_key).
pub fn activity_key(secret: &[u8], checkin_key: &str) -> [u8; 32] {
    let purpose = mac_bytes(secret, &[b"qunjia/checkin"]);
    mac_bytes(&purpose, &[checkin_key.as_bytes()])
}

fn mac_bytes(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = crate::crypto::hmac_sha256(key);
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn full_mac(key: &[u8; 32], activity_id: i64, window: i64) -> [u8; 32] {
    mac_bytes(
        key,
        &[
            b"qr",
            &activity_id.to_be_bytes(),
            &(window as u32).to_be_bytes(),
        ],
    )
}

/// The token for an activity and window.
pub fn sign(key: &[u8; 32], activity_id: i64, window: i64) -> String {
    let mac = full_mac(key, activity_id, window);
    let mut raw = Vec::with_capacity(RAW_LEN);
    raw.extend_from_slice(&activity_id.to_be_bytes());
    raw.extend_from_slice(&(window as u32).to_be_bytes());
    raw.extend_from_slice(&mac[..MAC_LEN]);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Reads the activity and window a token names, before its signature is checked
/// (the activity's key is needed for that).
pub fn peek(token: &str) -> Option<Claims> {
    let token = token.trim();
    if token.len() > 64 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    if raw.len() != RAW_LEN {
        return None;
    }
    let activity_id = i64::from_be_bytes(raw[..8].try_into().ok()?);
    let window = i64::from(u32::from_be_bytes(raw[8..12].try_into().ok()?));
    // Canonical encoding only, so a token has exactly one spelling.
    (activity_id > 0 && URL_SAFE_NO_PAD.encode(&raw) == token).then_some(Claims {
        activity_id,
        window,
    })
}

/// Checks a token's signature under the activity's key.
pub fn verify(key: &[u8; 32], token: &str) -> Option<Claims> {
    let claims = peek(token)?;
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let mut mac = crate::crypto::hmac_sha256(key);
    mac.update(b"qr");
    mac.update(&claims.activity_id.to_be_bytes());
    mac.update(&(claims.window as u32).to_be_bytes());
    // Constant-time comparison of the truncated tag.
    mac.verify_truncated_left(&raw[12..]).ok()?;
    Some(claims)
}

/// The short code for an activity and window.
pub fn short_code(key: &[u8; 32], activity_id: i64, window: i64) -> String {
    let mac = full_mac(key, activity_id, window);
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&mac[16..24]);
    let mut n = u64::from_be_bytes(eight);
    let base = ALPHABET.len() as u64;
    (0..SHORT_CODE_LEN)
        .map(|_| {
            let c = ALPHABET[(n % base) as usize] as char;
            n /= base;
            c
        })
        .collect()
}

/// Normalises what a person typed: spaces and dashes dropped, upper case.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Compares two codes in constant time.
pub fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_verifies_and_names_its_activity_and_window() {
        let key = activity_key(SECRET, "k1");
        let t = sign(&key, 42, 1_000_000);
        assert_eq!(t.len(), 32);
        assert_eq!(
            verify(&key, &t),
            Some(Claims {
                activity_id: 42,
                window: 1_000_000
            })
        );
    }

    #[test]
    fn a_flipped_character_another_key_or_garbage_is_refused() {
        let key = activity_key(SECRET, "k1");
        let t = sign(&key, 42, 7);
        let mut flipped: Vec<char> = t.chars().collect();
        let last = flipped.len() - 5;
        flipped[last] = if flipped[last] == 'A' { 'B' } else { 'A' };
        let flipped: String = flipped.into_iter().collect();
        assert!(verify(&key, &flipped).is_none());
        assert!(verify(&activity_key(SECRET, "k2"), &t).is_none());
        assert!(verify(&activity_key(b"other-secret", "k1"), &t).is_none());
        for bad in ["", "garbage", "!!!!", &"A".repeat(200)] {
            assert!(verify(&key, bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn short_codes_use_the_unambiguous_alphabet_and_change_by_window() {
        let key = activity_key(SECRET, "k1");
        let a = short_code(&key, 1, 10);
        assert_eq!(a.len(), SHORT_CODE_LEN);
        assert!(a.chars().all(|c| !"01OIL".contains(c)));
        assert_ne!(a, short_code(&key, 1, 11));
        assert_eq!(normalise_code(&a.to_lowercase()), a);
        assert!(same_code(&a, &a));
    }
}
