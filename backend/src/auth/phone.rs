//! Mainland mobile numbers, parsed once at the edge.
use crate::error::AppError;

/// An 11-digit mainland mobile number (`1[3-9]xxxxxxxxx`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `13812345678`, `+8613812345678`, `138 1234 5678`, `138-1234-5678`.
    pub fn parse(raw: &str) -> Result<Phone, AppError> {
        let invalid = || AppError::rule("invalid_phone", "请输入正确的手机号");
        if raw.len() > 32 {
            return Err(invalid());
        }
        let mut s = raw.trim();
        if let Some(rest) = s.strip_prefix("+86") {
            s = rest.trim_start();
        }
        let mut digits = String::with_capacity(11);
        let mut prev_sep = true;
        for ch in s.chars() {
            match ch {
                '0'..='9' => {
                    digits.push(ch);
                    prev_sep = false;
                }
                // One separator between digit groups, never two in a row or leading.
                ' ' | '-' if !prev_sep => prev_sep = true,
                _ => return Err(invalid()),
            }
        }
        let b = digits.as_bytes();
        if prev_sep || b.len() != 11 || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(invalid());
        }
        Ok(Phone(digits))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `138****5678`: what people other than the owner and covering admins see.
pub fn mask(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "****".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_four_written_forms() {
        for raw in [
            "13812345678",
            "+8613812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
        ] {
            assert_eq!(Phone::parse(raw).expect(raw).as_str(), "13812345678");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for raw in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "+8513812345678",
            "138--1234-5678",
            "-13812345678",
            "13812345678-",
            "1381234567a",
            "１３８１２３４５６７８",
            "138.1234.5678",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask("13812345678"), "138****5678");
    }
}
