//! Names: Unicode NFC, trimmed, case repaired, full names split.
//!
//! Case is repaired only in words written all upper or all lower case ("JOHN o'neill" →
//! "John O'Neill"); a word with mixed case ("McDonald", "DeShawn") is the person's own
//! spelling and stays. Full names split as "Last, First" or "First [Middle…] Last", with
//! surname particles ("dos Santos", "van der Berg") kept on the last name.

use unicode_normalization::UnicodeNormalization;

/// Normalized names of one lead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    /// Given name.
    pub first: Option<String>,
    /// Family name.
    pub last: Option<String>,
    /// Full name.
    pub full: Option<String>,
    /// First and last were split from the full name.
    pub split: bool,
}

const PARTICLES: [&str; 18] = [
    "da", "das", "de", "del", "della", "der", "den", "di", "do", "dos", "du", "la", "le", "van",
    "von", "ten", "ter", "y",
];
const HONORIFICS: [&str; 12] = [
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sr", "sra", "srta", "dra", "eng",
];
const SUFFIXES: [&str; 8] = ["jr", "sr", "ii", "iii", "iv", "jnr", "snr", "phd"];

/// Normalizes raw first, last and full names.
pub fn normalize(first: &str, last: &str, full: &str) -> Names {
    let mut first = clean(first);
    let mut last = clean(last);
    let mut full = clean(full);
    let mut split = false;

    if first.is_empty() && last.is_empty() && !full.is_empty() {
        (first, last, full) = split_full(&full);
        split = true;
    } else if first.is_empty() && last.contains(',') {
        // "Smith, John" typed into the last-name field.
        (first, last, full) = split_full(&last);
        split = true;
    }
    let first = composed(repair_case(&first, Field::First));
    let last = composed(repair_case(&last, Field::Last));
    let full = if !first.is_empty() || !last.is_empty() {
        if split && !full.is_empty() {
            composed(repair_case(&full, Field::Full))
        } else {
            [first.as_str(), last.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
    } else {
        String::new()
    };
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Names {
        first: opt(first),
        last: opt(last),
        full: opt(full),
        split,
    }
}

/// `s` in NFC: ASCII text is its own (most names), and is kept as it is.
fn composed(s: String) -> String {
    if s.is_ascii() {
        s
    } else {
        s.nfc().collect()
    }
}

/// NFC, no control or zero-width characters, single spaces, no wrapping quotes.
pub fn clean(raw: &str) -> String {
    // Printable ASCII is its own NFC and has no invisible characters: most names are.
    let nfc: std::borrow::Cow<str> = if raw.bytes().all(|b| b.is_ascii() && !b.is_ascii_control()) {
        raw.into()
    } else {
        // Drop invisible characters before composing, so that what they separated
        // composes.
        let visible: String = raw
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}'))
            .collect();
        visible.nfc().collect::<String>().into()
    };
    let mut t = nfc.trim();
    // Only quotes that wrap the whole name: `"Jack" Smith` keeps its nickname quotes.
    while let Some(inner) = [('"', '"'), ('“', '”'), ('\'', '\'')]
        .iter()
        .find_map(|(open, close)| t.strip_prefix(*open).and_then(|r| r.strip_suffix(*close)))
    {
        t = inner.trim();
    }
    // Words already single-spaced (most names) are kept as they are.
    if !t.contains("  ") && !t.chars().any(|c| c.is_whitespace() && c != ' ') {
        return t.to_string();
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bare(token: &str) -> String {
    token.trim_end_matches(['.', ',']).to_lowercase()
}

/// (first, last, full without honorifics, in "First … Last" order).
fn split_full(full: &str) -> (String, String, String) {
    if let Some((last, first)) = full.split_once(',') {
        let first_tokens: Vec<&str> = first
            .split_whitespace()
            .filter(|t| {
                t.chars().any(char::is_alphanumeric) && !HONORIFICS.contains(&bare(t).as_str())
            })
            .collect();
        let last = last
            .split_whitespace()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .collect::<Vec<_>>()
            .join(" ");
        let ordered = first_tokens
            .iter()
            .copied()
            .chain(last.split_whitespace())
            .collect::<Vec<_>>()
            .join(" ");
        let first = first_tokens.first().copied().unwrap_or("").to_string();
        return (first, last, ordered);
    }
    // Tokens without a letter or digit (stray quotes, dashes) are not names.
    let mut tokens: Vec<&str> = full
        .split_whitespace()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .collect();
    while tokens.len() > 1 && HONORIFICS.contains(&bare(tokens[0]).as_str()) {
        tokens.remove(0);
    }
    let mut suffix = None;
    if tokens.len() > 2 && SUFFIXES.contains(&bare(tokens[tokens.len() - 1]).as_str()) {
        suffix = tokens.pop();
    }
    let mut ordered = tokens.join(" ");
    if let Some(s) = suffix {
        ordered.push(' ');
        ordered.push_str(s);
    }
    match tokens.len() {
        0 => (String::new(), String::new(), String::new()),
        1 => (tokens[0].to_string(), String::new(), ordered),
        n => {
            let mut start = n - 1;
            while start > 1 && PARTICLES.contains(&bare(tokens[start - 1]).as_str()) {
                start -= 1;
            }
            let mut last = tokens[start..].join(" ");
            if let Some(s) = suffix {
                last.push(' ');
                last.push_str(s);
            }
            (tokens[0].to_string(), last, ordered)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    First,
    Last,
    Full,
}

fn repair_case(s: &str, field: Field) -> String {
    // One word (most first and last names) is repaired alone, without the lists.
    if !s.contains(' ') {
        return if s.is_empty() {
            String::new()
        } else {
            repair_word(s, 0, 1, field)
        };
    }
    let tokens: Vec<&str> = s.split(' ').filter(|t| !t.is_empty()).collect();
    let n = tokens.len();
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| repair_word(t, i, n, field))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Word `i` of `n` of a name field, its case repaired: a word in mixed case is kept as
/// written; an all-caps or all-lowercase one is title-cased, but for the roman-numeral
/// suffixes (upper case) and the particles inside a name (lower case).
fn repair_word(t: &str, i: usize, n: usize, field: Field) -> String {
    let cased = t.chars().any(char::is_alphabetic);
    let upper = cased && !t.chars().any(char::is_lowercase);
    let lower = cased && !t.chars().any(char::is_uppercase);
    if !(upper || lower) {
        return t.to_string();
    }
    let key = bare(t);
    if SUFFIXES[2..5].contains(&key.as_str()) {
        return t.to_uppercase();
    }
    let first_of_field = i == 0 && field != Field::Last;
    if PARTICLES.contains(&key.as_str()) && !first_of_field && n > 1 && i + 1 < n {
        return t.to_lowercase();
    }
    title_word(t)
}

/// The only char of an iterator of one char.
fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

/// "o'neill" → "O'Neill", "mary-jane" → "Mary-Jane", "mcdonald" → "McDonald".
fn title_word(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut capital_next = true;
    for c in t.chars() {
        // A letter whose other case is not one letter (ß → SS) keeps its own spelling.
        if capital_next && c.is_alphabetic() {
            out.push(single(c.to_uppercase()).unwrap_or(c));
            capital_next = false;
        } else {
            out.push(single(c.to_lowercase()).unwrap_or(c));
        }
        if matches!(c, '\'' | '’' | '-' | '.') {
            capital_next = true;
        }
    }
    let chars: Vec<char> = out.chars().collect();
    if chars.len() > 3 && chars[0] == 'M' && chars[1] == 'c' && chars[2].is_alphabetic() {
        let mut fixed: String = chars[..2].iter().collect();
        fixed.extend(chars[2].to_uppercase());
        fixed.extend(chars[3..].iter());
        return fixed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Printable ASCII skips the Unicode passes: the same text as through them (a
        /// zero-width space, which they drop, sends the text through them).
        #[test]
        fn ascii_names_clean_as_through_nfc(raw in "[ -~\t]{0,16}", quoted in "\"[ -~]{0,8}\"") {
            for text in [raw, quoted] {
                proptest::prop_assert_eq!(clean(&text), clean(&format!("{text}\u{200B}")));
            }
        }

        /// The shortcuts for single-spaced text and one-word names give what splitting
        /// and joining the words gives.
        #[test]
        fn shortcuts_agree_with_the_words(text in "[ a-zA-Z.'\\-\t]{0,12}|\\PC{0,12}") {
            let joined = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let cleaned = clean(&text);
            proptest::prop_assert_eq!(&cleaned, &joined(&cleaned));
            for field in [Field::First, Field::Last, Field::Full] {
                let words: Vec<&str> = cleaned.split(' ').filter(|t| !t.is_empty()).collect();
                let n = words.len();
                let by_word = words
                    .iter()
                    .enumerate()
                    .map(|(i, t)| repair_word(t, i, n, field))
                    .collect::<Vec<_>>()
                    .join(" ");
                proptest::prop_assert_eq!(repair_case(&cleaned, field), by_word);
            }
        }

        /// Composing skips ASCII text, which NFC leaves as it is; other text is composed.
        #[test]
        fn composed_is_nfc(text in "[ -~]{0,12}|\\PC{0,12}|(e\u{301}|A\u{30A}|[a-z ]){0,8}") {
            proptest::prop_assert_eq!(composed(text.clone()), text.nfc().collect::<String>());
        }
    }

    fn n(first: &str, last: &str, full: &str) -> (Option<String>, Option<String>, Option<String>) {
        let r = normalize(first, last, full);
        (r.first, r.last, r.full)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn repairs_case_word_by_word() {
        assert_eq!(
            n("JOHN", "o'neill", ""),
            (s("John"), s("O'Neill"), s("John O'Neill"))
        );
        assert_eq!(
            n("mary-jane", "MCDONALD", ""),
            (s("Mary-Jane"), s("McDonald"), s("Mary-Jane McDonald"))
        );
        assert_eq!(
            n("DeShawn", "McDonald", ""),
            (s("DeShawn"), s("McDonald"), s("DeShawn McDonald"))
        );
        assert_eq!(
            n("JOÃO", "GONÇALVES", ""),
            (s("João"), s("Gonçalves"), s("João Gonçalves"))
        );
    }

    #[test]
    fn nfc_and_spaces() {
        let decomposed = "Jose\u{301}";
        assert_eq!(n(decomposed, "  da   Silva ", "").0, s("José"));
        assert_eq!(n("ana", "DOS SANTOS", "").1, s("dos Santos"));
    }

    #[test]
    fn splits_full_names() {
        assert_eq!(n("", "", "Doe, John"), (s("John"), s("Doe"), s("John Doe")));
        assert_eq!(
            n("", "", "John Michael Doe"),
            (s("John"), s("Doe"), s("John Michael Doe"))
        );
        assert_eq!(
            n("", "", "maria dos santos"),
            (s("Maria"), s("dos Santos"), s("Maria dos Santos"))
        );
        assert_eq!(
            n("", "", "Ludwig van Beethoven"),
            (s("Ludwig"), s("van Beethoven"), s("Ludwig van Beethoven"))
        );
        assert_eq!(
            n("", "", "Mrs Marla Singer"),
            (s("Marla"), s("Singer"), s("Marla Singer"))
        );
        assert_eq!(
            n("", "", "JOHN SMITH JR."),
            (s("John"), s("Smith Jr."), s("John Smith Jr."))
        );
        assert_eq!(n("", "", "Madonna"), (s("Madonna"), None, s("Madonna")));
        assert_eq!(
            n("", "Smith, John", ""),
            (s("John"), s("Smith"), s("John Smith"))
        );
        assert!(normalize("", "", "Ana Lima").split);
    }

    #[test]
    fn roman_suffix_stays_upper() {
        assert_eq!(n("henry", "FORD III", "").1, s("Ford III"));
    }

    #[test]
    fn empty() {
        assert_eq!(n(" ", "", "  "), (None, None, None));
    }
}
