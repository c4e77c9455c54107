//! The unified social credit code (统一社会信用代码) of GB 32100-2015:
//! 18 characters, the last a check character over the first 17.

/// The 31 characters the code may use (no I, O, S, V, Z).
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|x| *x == c).map(|p| p as u32)
}

/// The check character for the first 17 characters.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in b.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(CHARSET[v as usize] as char)
}

/// A valid code, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uscc(String);

impl Uscc {
    /// Checks length, alphabet and check character.
    pub fn parse(raw: &str) -> Option<Uscc> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != 18 || !s.is_ascii() {
            return None;
        }
        let (body, check) = s.split_at(17);
        (check_char(body)? == check.chars().next()?).then_some(Uscc(s))
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_validate() {
        // A published code of a well-known company, and lower case of it.
        assert!(Uscc::parse("91110000802100433B").is_some());
        assert!(Uscc::parse("91110000802100433b").is_some());
        assert!(Uscc::parse("91110000802100433C").is_none());
        assert!(Uscc::parse("91110000802100433").is_none());
        assert!(Uscc::parse("9111000080210043IB").is_none());
    }

    #[test]
    fn generated_check_characters_round_trip() {
        let body = "91340100MA2N00001";
        let c = check_char(body).expect("valid body");
        assert!(Uscc::parse(&format!("{body}{c}")).is_some());
    }
}
