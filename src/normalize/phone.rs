//! Phones to E.164 through the `phonenumber` crate (libphonenumber's metadata).
//!
//! A number is read with the source's region as the default country. When that gives no
//! valid number and the text is a long run of digits, it is read again as international
//! (`447911123456` → `+447911123456`): Epixel and spreadsheets drop the `+`.

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber, Type};

use crate::lead::{Phone, PhoneKind};
use crate::memo::Memo;

/// A valid phone, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedPhone {
    /// E.164 form.
    pub phone: Phone,
    /// What kind of line it is.
    pub kind: PhoneKind,
    /// Valid only when read as international.
    pub country_inferred: bool,
}

/// Splits a field that may hold several numbers (`"0161 496 0000 / 07911 123456"`).
pub fn split_field(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([';', '/', ',', '|', '\n'])
        .map(str::trim)
        .filter(|s| s.chars().filter(char::is_ascii_digit).count() >= 3)
}

/// Numbers normalized so far in this process, by text and region: the same number comes
/// back in every record of a lead (a Real Geeks update, a Lead.Pro webhook and its dump)
/// and every lead of a person, and libphonenumber's parse is the costliest step of
/// normalizing. About two million numbers at most (~150 MB).
fn memo() -> &'static Memo<(String, Id), Option<NormalizedPhone>> {
    static MEMO: std::sync::OnceLock<Memo<(String, Id), Option<NormalizedPhone>>> =
        std::sync::OnceLock::new();
    MEMO.get_or_init(|| Memo::new(1 << 21))
}

/// Normalizes one number, or `None` when it is not a valid number.
pub fn normalize(raw: &str, region: Id) -> Option<NormalizedPhone> {
    memo().get_or((raw.to_string(), region), || parse_uncached(raw, region))
}

/// How many compiled patterns libphonenumber's metadata keeps. The `phonenumber` crate
/// compiles its per-country patterns lazily into one LRU cache of 100, fewer than the
/// patterns that validating numbers of three or four countries touches: past that, every
/// parse evicts and recompiles regular expressions, which made normalizing several times
/// slower. The whole metadata has under 4,000 patterns, so nothing is evicted again.
const REGEX_CACHE_CAPACITY: usize = 8192;

/// Grows the metadata's regex cache once per process (see [`REGEX_CACHE_CAPACITY`]).
fn widen_regex_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.set_capacity(REGEX_CACHE_CAPACITY);
    });
}

fn parse_uncached(raw: &str, region: Id) -> Option<NormalizedPhone> {
    widen_regex_cache();
    let text = clean(raw);
    if text.is_empty() {
        return None;
    }
    // An explicit `+CC` needs no default region; reading it with one makes the
    // `phonenumber` crate apply that region's national prefix to the number (`+44 161…`
    // loses its `1` when the region is the US).
    let default = if text.starts_with('+') {
        None
    } else {
        Some(region)
    };
    if let Some(number) = parse_valid(default, text) {
        return Some(finish(number, false));
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = !text.starts_with('+') && digits.len() >= 10 && digits.len() <= 15;
    if international {
        // `00` is the international prefix in most of the world, `011` in North America.
        let trimmed = digits
            .strip_prefix("00")
            .or_else(|| digits.strip_prefix("011"))
            .unwrap_or(&digits);
        if let Some(number) = parse_valid(None, &format!("+{trimmed}")) {
            return Some(finish(number, true));
        }
    }
    None
}

fn clean(raw: &str) -> &str {
    let t = raw.trim();
    let t = t
        .strip_prefix("tel:")
        .or_else(|| t.strip_prefix("TEL:"))
        .unwrap_or(t);
    t.trim()
}

/// A parsed number and its type, when valid. Valid means the metadata gives it a type:
/// what `phonenumber::is_valid` checks too, so asking for the type once does both.
fn parse_valid(region: Option<Id>, text: &str) -> Option<(PhoneNumber, Type)> {
    let number = phonenumber::parse(region, text).ok()?;
    let kind = number.number_type(&phonenumber::metadata::DATABASE);
    (kind != Type::Unknown).then_some((number, kind))
}

fn finish((number, kind): (PhoneNumber, Type), country_inferred: bool) -> NormalizedPhone {
    let kind = match kind {
        Type::Mobile => PhoneKind::Mobile,
        Type::FixedLine => PhoneKind::Landline,
        Type::FixedLineOrMobile => PhoneKind::FixedOrMobile,
        _ => PhoneKind::Other,
    };
    NormalizedPhone {
        phone: Phone(number.format().mode(Mode::E164).to_string()),
        kind,
        country_inferred,
    }
}

/// Parses a region code from a pipeline file (`US`, `GB`; `UK` is accepted for `GB`).
pub fn parse_region(code: &str) -> Option<Id> {
    let upper = code.trim().to_ascii_uppercase();
    let upper = if upper == "UK" {
        "GB".to_string()
    } else {
        upper
    };
    upper.parse::<Id>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str, region: &str) -> Option<String> {
        normalize(raw, parse_region(region).unwrap()).map(|p| p.phone.0)
    }

    #[test]
    fn us_formats() {
        for raw in [
            "(312) 555-0142",
            "312-555-0142",
            "+1 312 555 0142",
            "3125550142",
            "1-312-555-0142",
        ] {
            assert_eq!(e164(raw, "US").as_deref(), Some("+13125550142"), "{raw}");
        }
    }

    #[test]
    fn uk_and_pt_formats() {
        assert_eq!(e164("07911 123456", "GB").as_deref(), Some("+447911123456"));
        assert_eq!(
            e164("+44 (0)7911 123456", "GB").as_deref(),
            Some("+447911123456")
        );
        assert_eq!(
            e164("020 7946 0958", "GB").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(e164("912 345 678", "PT").as_deref(), Some("+351912345678"));
        assert_eq!(
            e164("00351 912 345 678", "PT").as_deref(),
            Some("+351912345678")
        );
    }

    #[test]
    fn missing_plus_is_inferred_and_flagged() {
        let n = normalize("447911123456", parse_region("US").unwrap()).unwrap();
        assert_eq!(n.phone.0, "+447911123456");
        assert!(n.country_inferred);
        assert_eq!(n.kind, PhoneKind::Mobile);
    }

    #[test]
    fn explicit_country_code_wins_over_the_region() {
        assert_eq!(
            e164("+44 161 496 0123", "US").as_deref(),
            e164("0161 496 0123", "GB").as_deref()
        );
        assert_eq!(
            e164("+44 (0)7911 123456", "US").as_deref(),
            Some("+447911123456")
        );
        assert_eq!(
            e164("+33 1 23 45 67 89", "US").as_deref(),
            Some("+33123456789")
        );
    }

    #[test]
    fn invalid_numbers() {
        for raw in ["", "555-0199", "123", "not a phone", "0000000000"] {
            assert_eq!(e164(raw, "US"), None, "{raw}");
        }
    }

    #[test]
    fn kinds() {
        let gb = parse_region("UK").unwrap();
        assert_eq!(
            normalize("07911 123456", gb).unwrap().kind,
            PhoneKind::Mobile
        );
        assert_eq!(
            normalize("020 7946 0958", gb).unwrap().kind,
            PhoneKind::Landline
        );
    }

    #[test]
    fn splits_multi_number_fields() {
        let parts: Vec<_> = split_field("0161 496 0000 / 07911 123456; x").collect();
        assert_eq!(parts, ["0161 496 0000", "07911 123456"]);
    }
}
