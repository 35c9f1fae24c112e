//! A person's name as they typed it on a form: trimmed, not empty, at most
//! [`NAME_MAX_CHARS`] characters, and free of characters that are invisible or
//! that change how the text around them is shown.
//!
//! Refused, because each can make a stored name read differently from what it
//! is (a NUL that truncates it in other programs, a right-to-left override that
//! reverses what follows on a staff page, a zero-width space that makes two
//! names look equal while they differ):
//! - control characters, C0 (U+0000–U+001F), DEL (U+007F) and C1
//!   (U+0080–U+009F) — Unicode general category Cc;
//! - bidirectional formatting: the marks U+200E, U+200F and U+061C, the
//!   embeddings and overrides U+202A–U+202E and the isolates U+2066–U+2069
//!   (Unicode Standard Annex #9, "Unicode Bidirectional Algorithm", §2);
//! - zero-width and invisible characters: U+200B–U+200D, the word joiner and
//!   invisible operators U+2060–U+2064, the deprecated format characters
//!   U+206A–U+206F and the byte order mark U+FEFF; and the line and paragraph
//!   separators U+2028 and U+2029 (a name is one line).
//!
//! A person who writes their name with a zero-width non-joiner (as Persian
//! spelling sometimes does) is asked to type it without; the name still reads
//! the same.

use std::fmt;

/// The longest name we accept, so one request cannot fill the disk.
pub const NAME_MAX_CHARS: usize = 200;

/// A person's name that passed the rules above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

/// Why a name was refused. The form adds the field's name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is required")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error(
        "must not contain control or invisible formatting characters (found U+{:04X})",
        u32::from(*character)
    )]
    InvisibleCharacter { character: char },
}

impl PersonName {
    /// Trims surrounding white space, then checks the rules above.
    pub fn parse(typed: &str) -> Result<PersonName, NameError> {
        let name = typed.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(NameError::TooLong {
                max: NAME_MAX_CHARS,
            });
        }
        if let Some(character) = name.chars().find(|&c| is_invisible_or_control(c)) {
            return Err(NameError::InvisibleCharacter { character });
        }
        Ok(PersonName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `c` is one of the characters the module documentation lists.
pub fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(typed: &str, expected: Result<&str, NameError>) {
        let got = PersonName::parse(typed);
        assert_eq!(
            got.as_ref().map(PersonName::as_str),
            expected.as_ref().map(|name| *name),
            "{typed:?}"
        );
    }

    fn refused(character: char) -> Result<&'static str, NameError> {
        Err(NameError::InvisibleCharacter { character })
    }

    #[test]
    fn ordinary_names_are_accepted_trimmed() {
        for (typed, expected) in [
            ("Ana López", "Ana López"),
            ("  Zoë Brontë-Smith ", "Zoë Brontë-Smith"),
            ("Seán O'Brien", "Seán O'Brien"),
            ("D’Angelo Núñez", "D’Angelo Núñez"),
            ("Jean-Luc Picard", "Jean-Luc Picard"),
            ("王小明", "王小明"),
            ("佐藤 花子", "佐藤 花子"),
            ("محمد عبد الله", "محمد عبد الله"),
            ("Ólafur Þórðarson", "Ólafur Þórðarson"),
            ("Nguyễn Thị Minh Khai", "Nguyễn Thị Minh Khai"),
        ] {
            check(typed, Ok(expected));
        }
    }

    #[test]
    fn control_and_invisible_characters_are_refused_by_code_point() {
        for character in [
            '\u{0000}', // NUL
            '\u{0009}', // tab
            '\u{000A}', // line feed
            '\u{001F}', '\u{007F}', // DEL
            '\u{0085}', // C1: next line
            '\u{009F}', '\u{200E}', // left-to-right mark
            '\u{200F}', // right-to-left mark
            '\u{061C}', // Arabic letter mark
            '\u{202A}', // left-to-right embedding
            '\u{202B}', // right-to-left embedding
            '\u{202C}', // pop directional formatting
            '\u{202D}', // left-to-right override
            '\u{202E}', // right-to-left override
            '\u{2066}', // left-to-right isolate
            '\u{2067}', // right-to-left isolate
            '\u{2068}', // first strong isolate
            '\u{2069}', // pop directional isolate
            '\u{200B}', // zero-width space
            '\u{200C}', // zero-width non-joiner
            '\u{200D}', // zero-width joiner
            '\u{2060}', // word joiner
            '\u{FEFF}', // byte order mark / zero-width no-break space
            '\u{2028}', // line separator
        ] {
            check(&format!("Ana{character}López"), refused(character));
        }
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        check("", Err(NameError::Empty));
        check(" \t ", Err(NameError::Empty));
        check(
            &"a".repeat(NAME_MAX_CHARS + 1),
            Err(NameError::TooLong {
                max: NAME_MAX_CHARS,
            }),
        );
        check(
            &"é".repeat(NAME_MAX_CHARS),
            Ok("é".repeat(NAME_MAX_CHARS).as_str()),
        );
    }

    #[test]
    fn the_refusal_names_the_rule_and_the_code_point() {
        let error = PersonName::parse("Ana\u{202E}zepóL").unwrap_err();
        assert_eq!(
            error.to_string(),
            "must not contain control or invisible formatting characters (found U+202E)"
        );
    }
}
