//! Text people type: one line, normalised to NFC and trimmed, 1..=max characters,
//! and free of what makes two names look alike while differing — control
//! characters, bidirectional overrides and isolates, zero-width characters, the
//! byte-order mark and other invisible formatting. Every name and short free text
//! (person, unit, org, centre, activity, service, region, reasons) goes through here.
use unicode_normalization::UnicodeNormalization;

use crate::error::{AppError, AppResult};

/// Characters that draw nothing or reorder what is drawn.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'                  // soft hyphen
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'   // line and paragraph separators
            | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}'   // bidi isolates, deprecated format characters
            | '\u{3164}'                // Hangul filler
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                // byte-order mark, zero-width no-break space
            | '\u{FFA0}'                // half-width Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

/// Why a line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclean {
    /// Empty after trimming, or longer than allowed.
    Length,
    /// Holds a character that draws nothing or reorders the text.
    Invisible,
}

/// The line in NFC, trimmed, 1..=max characters and free of invisible characters.
pub fn check_line(raw: &str, max: usize) -> Result<String, Unclean> {
    let t: String = raw.nfc().collect();
    let t = t.trim();
    if t.chars().any(is_invisible) {
        return Err(Unclean::Invisible);
    }
    let n = t.chars().count();
    if n == 0 || n > max {
        return Err(Unclean::Length);
    }
    Ok(t.to_owned())
}

/// What is said when a line holds an invisible character, after the field's own rule.
pub const INVISIBLE_HINT: &str = "，不能含有看不见的字符（如零宽空格、文字方向控制符）";

/// [`check_line`], or 422 with `code` and `message` (which names the field and its
/// length); an invisible character adds [`INVISIBLE_HINT`] so the person knows
/// what to delete.
pub fn clean_text(raw: &str, max: usize, code: &'static str, message: &str) -> AppResult<String> {
    check_line(raw, max).map_err(|why| match why {
        Unclean::Length => AppError::rule(code, message),
        Unclean::Invisible => AppError::rule(code, format!("{message}{INVISIBLE_HINT}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean_line(raw: &str, max: usize) -> Option<String> {
        check_line(raw, max).ok()
    }

    #[test]
    fn names_are_nfc_and_trimmed() {
        assert_eq!(
            clean_line("  e\u{301}lise ", 10).as_deref(),
            Some("\u{e9}lise")
        );
        assert_eq!(
            clean_line("\u{3000}张三\u{3000}", 10).as_deref(),
            Some("张三")
        );
        assert_eq!(clean_line("王小明", 3).as_deref(), Some("王小明"));
        assert_eq!(clean_line("王小明", 2), None);
        assert_eq!(clean_line("   ", 10), None);
    }

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        for bad in [
            "张\u{202E}三",
            "张\u{200B}三",
            "\u{FEFF}张三",
            "张\u{2066}三\u{2069}",
            "张\u{200D}三",
            "张\t三",
            "张\n三",
            "张\u{00AD}三",
            "张\u{E0041}三",
        ] {
            assert_eq!(clean_line(bad, 20), None, "{bad:?}");
        }
        assert!(clean_line("Zhang San-李 (外卖)", 40).is_some());
    }
}
