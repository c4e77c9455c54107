//! Mainland mobile numbers, parsed once at the edge.
use crate::error::AppError;

/// An 11-digit mainland mobile number (`1[3-9]xxxxxxxxx`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts exactly the written forms of API.md: `13812345678`, `+8613812345678`,
    /// `138 1234 5678` and `138-1234-5678` (surrounding spaces ignored).
    pub fn parse(raw: &str) -> Result<Phone, AppError> {
        let invalid = || AppError::rule("invalid_phone", "请输入正确的手机号");
        let s = raw.trim();
        // Byte slicing below is safe only on ASCII.
        if !s.is_ascii() {
            return Err(invalid());
        }
        let digits: String = match s.len() {
            11 => s.to_owned(),
            14 if s.starts_with("+86") => s[3..].to_owned(),
            13 => {
                let b = s.as_bytes();
                let sep = b[3];
                if !(sep == b' ' || sep == b'-') || b[8] != sep {
                    return Err(invalid());
                }
                format!("{}{}{}", &s[..3], &s[4..8], &s[9..])
            }
            _ => return Err(invalid()),
        };
        let b = digits.as_bytes();
        if b.len() != 11
            || !b.iter().all(u8::is_ascii_digit)
            || b[0] != b'1'
            || !(b'3'..=b'9').contains(&b[1])
        {
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
            " 13812345678 ",
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
            "１３８１２３４",
            "138.1234.5678",
            "+86 138 1234 5678",
            "138 1234-5678",
            "1381 234 5678",
            "1 3 8 1 2 3 4 5 6 7 8",
            "+86138 1234 5678",
            "+8613812345a78",
            "+86+8613812345",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask("13812345678"), "138****5678");
    }
}
