//! Mainland mobile numbers, parsed once at the edge.
use crate::error::AppError;

/// An 11-digit mainland mobile number (`1[3-9]xxxxxxxxx`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Reads a number as people write and paste it (API.md Conventions): spaces,
    /// hyphens and parentheses anywhere, an optional `+86`, `0086` or `86` prefix,
    /// full-width digits and signs; what is left must be `1[3-9]` and nine digits.
    pub fn parse(raw: &str) -> Result<Phone, AppError> {
        let invalid = || AppError::rule("invalid_phone", "请输入正确的手机号（11位数字）");
        // Longer than any written form with separators: not a phone, and not worth reading.
        if raw.chars().count() > 40 {
            return Err(invalid());
        }
        let mut kept = String::with_capacity(16);
        for c in raw.chars() {
            match half_width(c) {
                c if c.is_whitespace() || is_separator(c) => {}
                c @ ('0'..='9' | '+') => kept.push(c),
                _ => return Err(invalid()),
            }
        }
        let digits = if let Some(rest) = kept.strip_prefix("+86") {
            rest
        } else if let Some(rest) = kept.strip_prefix("0086") {
            rest
        } else if kept.len() == 13 && kept.starts_with("86") {
            &kept[2..]
        } else {
            &kept
        };
        let b = digits.as_bytes();
        if b.len() != 11
            || !b.iter().all(u8::is_ascii_digit)
            || b[0] != b'1'
            || !(b'3'..=b'9').contains(&b[1])
        {
            return Err(invalid());
        }
        Ok(Phone(digits.to_owned()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ASCII form of a full-width digit or sign (`１` → `1`, `＋` → `+`, `（` → `(`).
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// What people put between the digits: hyphens and dashes, parentheses, dots are not.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '(' | ')' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}'
    )
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
    fn accepts_numbers_as_people_paste_them() {
        for raw in [
            "13812345678",
            "+8613812345678",
            "138 1234 5678",
            "138-1234-5678",
            " 13812345678 ",
            "+86 138 1234 5678",
            "(+86) 138-1234-5678",
            "+86 138-1234-5678",
            "008613812345678",
            "0086 138 1234 5678",
            "8613812345678",
            "86 138 1234 5678",
            "１３８１２３４５６７８",
            "＋８６ １３８－１２３４－５６７８",
            "（＋８６）１３８\u{3000}１２３４\u{3000}５６７８",
            "138 1234-5678",
            "1381 234 5678",
            "1 3 8 1 2 3 4 5 6 7 8",
            "+86138 1234 5678",
            "138\u{2014}1234\u{2014}5678",
            "\t13812345678\n",
        ] {
            assert_eq!(
                Phone::parse(raw).expect(raw).as_str(),
                "13812345678",
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_everything_else() {
        for raw in [
            "",
            "   ",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "+8513812345678",
            "1381234567a",
            "１３８１２３４",
            "138.1234.5678",
            "+8613812345a78",
            "+86+8613812345",
            "13812345678+",
            "+13812345678",
            "86138123456789",
            "008613812345",
            "861381234567",
            "138\u{200B}12345678",
            "１３８１２３４５６７８９",
            &"1".repeat(41),
            &format!("{}13812345678", " ".repeat(40)),
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask("13812345678"), "138****5678");
    }
}
