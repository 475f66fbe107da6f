//! Phones to E.164 through the `phonenumber` crate (libphonenumber's metadata).
//!
//! A number is read with the source's region as the default country. When that gives no
//! valid number and the text is a long run of digits, it is read again as international
//! (`447911123456` → `+447911123456`): Epixel and spreadsheets drop the `+`.

use phonenumber::country::Id;
use phonenumber::metadata::Descriptor;
use phonenumber::{PhoneNumber, Type};

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

/// Numbers normalized so far in this process, by what libphonenumber reads of their text
/// and the region: the same number comes back in every record of a lead (a Real Geeks
/// update, a Lead.Pro webhook and its dump) and every lead of a person, written with
/// different punctuation, and libphonenumber's parse is the costliest step of
/// normalizing. About two million numbers at most (~150 MB).
fn memo() -> &'static Memo<(Reading, Id), Option<NormalizedPhone>> {
    MEMO.get_or_init(|| Memo::new(1 << 21))
}
static MEMO: std::sync::OnceLock<Memo<(Reading, Id), Option<NormalizedPhone>>> =
    std::sync::OnceLock::new();

/// Forgets the numbers normalized so far (see [`memo`]): once every input is read, the
/// run normalizes no more numbers, and the memo held about a million of them (90-100 MB)
/// through linking and matching, the run's memory peaks.
pub fn forget_numbers() {
    if let Some(memo) = MEMO.get() {
        memo.clear();
    }
}

/// Normalizes one number, or `None` when it is not a valid number.
pub fn normalize(raw: &str, region: Id) -> Option<NormalizedPhone> {
    let reading = Reading::of(raw);
    let digits = match reading {
        Reading::Digits(d) => Some(d),
        Reading::Text(_) => None,
    };
    if let Some(found) =
        digits.and_then(|d| usual_number(d, region).or_else(|| usual_abroad(d, region)))
    {
        return Some(found);
    }
    memo().get_or((reading, region), || match digits {
        Some(d) => parse_uncached(&d.text(), region),
        None => parse_uncached(raw, region),
    })
}

/// The national numbers [`usual_number`] reads without the parser: a region, its calling
/// code, how many digits its national numbers have, and whether they are written with a
/// trunk `0` in front at home.
const USUAL: [(Id, u16, u8, bool); 3] = [
    (Id::US, 1, 10, false),
    (Id::GB, 44, 10, true),
    (Id::PT, 351, 9, false),
];

/// A number of a US, UK or Portuguese source written in its country's usual forms, which
/// that country's own patterns type: what the full path gives, without libphonenumber's
/// parse. The forms are the national number's digits (after the trunk `0` in the UK, or
/// North America's trunk `1`), or `+` or `00` (not in North America), the calling code
/// and those digits (a UK number's trunk `0` may follow `+44`), the national number not
/// starting with 0 (or 1 in North America): `(312) 908-0062`, `1-312-908-0062`,
/// `+1 312 908 0062`, `07911 123456`, `+44 (0)7911 123456`, `0044 7911 123456`,
/// `912 345 678`, `+351 912 345 678`, `00351912345678`. The parser reads
/// such text as the calling code and those digits (there is no other prefix to take
/// off, and a national number its region types is never read as starting with the
/// calling code), and the full path then types it against the region's own patterns
/// first ([`number_type`]), with the same anchored matching. A number the region's
/// patterns do not type (a Canadian number in a US source, a Manx one in a UK source,
/// or no valid number) is `None` here and takes the full path, where the crate looks
/// through the calling code's other regions. Most numbers are written so, and the parse
/// was most of the cost of normalizing them; `usual_numbers_read_as_the_parser_reads_them`
/// holds this to the full path.
fn usual_number(d: Digits, region: Id) -> Option<NormalizedPhone> {
    let at = USUAL.iter().position(|(id, ..)| *id == region)?;
    let (_, code, len, trunk_zero) = USUAL[at];
    let scale = 10u64.pow(u32::from(len));
    let code_digits = code.ilog10() as u8 + 1;
    // The digits after the calling code (with a UK number's trunk 0 after it, which a
    // `(0)` leaves), after the calling code and the international prefix 00 (UK and
    // Portugal), after North America's trunk 1, or alone (after the UK's trunk 0, which is
    // no digit of the value but counts in the length).
    let after_code = |n: u8| {
        let below = 10u64.pow(u32::from(n));
        (d.value / below == u64::from(code)).then_some(d.value % below)
    };
    let national = match (d.plus, d.len) {
        (true, n) if n == code_digits + len => after_code(len),
        (true, n) if trunk_zero && n == code_digits + 1 + len => after_code(len + 1),
        (false, n) if code != 1 && n == 2 + code_digits + len => after_code(len),
        (false, n) if code == 1 && n == 1 + len => after_code(len),
        (false, n) if n == len + u8::from(trunk_zero) => Some(d.value),
        _ => None,
    }?;
    // The national number's first digit: not 0 (for a UK number, the digit after the
    // trunk 0, which then must be there), not 1 in North America.
    let lowest = if code == 1 { 2 } else { 1 };
    if national < lowest * (scale / 10) || national >= scale {
        return None;
    }
    let meta = usual_metadata(at)?;
    let e164 = compact_str::format_compact!("+{code}{national}");
    let kind = type_in(meta, &e164[1 + usize::from(code_digits)..]);
    (kind != Type::Unknown).then(|| NormalizedPhone {
        phone: Phone(e164),
        kind: phone_kind(kind),
        country_inferred: false,
    })
}

/// A number of one of [`USUAL`]'s countries written in a source of another as its
/// calling code and national number with no `+` (`447911123456`, `351912345678` in a
/// US source): what the full path gives, without libphonenumber's parse. The full path
/// reads such digits as a national number of the source's country first, which is
/// never valid (it is too long, and it does not start with the source's own calling
/// code or international prefix), then reads them again after a `+`, and flags the
/// country as inferred. That second reading is [`usual_number`]'s of the `+` form in
/// the number's own country: the number's calling code has one main region whose own
/// patterns type it, or the number takes the full path. Only the bare form: `00` before
/// the code is the international prefix of some sources' countries, read in the first
/// reading there. `usual_numbers_read_as_the_parser_reads_them` holds this to the full
/// path too.
fn usual_abroad(d: Digits, region: Id) -> Option<NormalizedPhone> {
    let own = USUAL.iter().find(|(id, ..)| *id == region)?.1;
    if d.plus {
        return None;
    }
    let (id, ..) = USUAL.iter().find(|&&(_, code, len, _)| {
        let code_digits = code.ilog10() as u8 + 1;
        code != own
            && d.len == code_digits + len
            && d.value / 10u64.pow(u32::from(len)) == u64::from(code)
    })?;
    let found = usual_number(Digits { plus: true, ..d }, *id)?;
    Some(NormalizedPhone {
        country_inferred: true,
        ..found
    })
}

/// The metadata of [`USUAL`]'s entry `at`, when the full path types its numbers with it
/// first ([`own_patterns`]); looked up once.
fn usual_metadata(at: usize) -> Option<&'static phonenumber::Metadata> {
    static FOUND: std::sync::OnceLock<Vec<Option<&'static phonenumber::Metadata>>> =
        std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        USUAL
            .iter()
            .map(|&(id, code, ..)| own_patterns(code, id))
            .collect()
    })[at]
}

/// What libphonenumber reads of a number's text. Text of digits, ASCII spaces, dashes,
/// dots and parentheses, maybe after a `+`, reads as its digits and the `+`: the parser
/// keeps only those of such text before it looks at the number (a `(0)` after the
/// country code is a national prefix, which it strips by digits). So `(312) 908-0062`,
/// `312.908.0062` and `3129080062` are one number to parse, and the memo's key needs no
/// string. Anything else (letters, an extension, other punctuation, more than 19 digits,
/// a `+` number with separators but no space, which the crate reads as RFC 3966) is read
/// as written. `reading_the_digits_reads_as_the_text` holds the two readings
/// equal on every region's example numbers in their usual formats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Reading {
    /// Digits and maybe a `+`.
    Digits(Digits),
    /// The text, cleaned of `tel:` and surrounding space.
    Text(String),
}

/// A number's digits as a number, how many there are (leading zeros count), and whether
/// a `+` came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Digits {
    value: u64,
    len: u8,
    plus: bool,
}

impl Reading {
    fn of(raw: &str) -> Reading {
        let text = clean(raw);
        Digits::of(text).map_or_else(|| Reading::Text(text.to_string()), Reading::Digits)
    }
}

impl Digits {
    /// The most digits a `u64` holds, whatever they are.
    const MAX: u8 = 19;

    /// The digits of text made of digits and `[ -.()]` only, maybe after a `+`.
    fn of(text: &str) -> Option<Digits> {
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mut value, mut len) = (0u64, 0u8);
        let (mut space, mut separator) = (false, false);
        for b in rest.bytes() {
            match b {
                b'0'..=b'9' if len < Self::MAX => {
                    value = value * 10 + u64::from(b - b'0');
                    len += 1;
                }
                b' ' => space = true,
                b'-' | b'.' | b'(' | b')' => separator = true,
                _ => return None,
            }
        }
        // Text without spaces is first tried as RFC 3966 (`+44-20-7946-0958`), whose
        // calling code is the digits before the first separator, not the parser's pick.
        let rfc3966 = plus && separator && !space;
        (len > 0 && !rfc3966).then_some(Digits { value, len, plus })
    }

    /// The text to parse: the digits, leading zeros kept, after the `+` if there was one.
    fn text(self) -> String {
        let plus = if self.plus { "+" } else { "" };
        format!(
            "{plus}{:0width$}",
            self.value,
            width = usize::from(self.len)
        )
    }
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
    if let Some(number) = parse_valid(default, region, text) {
        return Some(finish(settled(number, region), false));
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = !text.starts_with('+') && digits.len() >= 10 && digits.len() <= 15;
    if international {
        // `00` is the international prefix in most of the world, `011` in North America.
        let trimmed = digits
            .strip_prefix("00")
            .or_else(|| digits.strip_prefix("011"))
            .unwrap_or(&digits);
        if let Some(number) = parse_valid(None, region, &format!("+{trimmed}")) {
            return Some(finish(settled(number, region), true));
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

/// The number as its E.164 form reads back. libphonenumber keeps leading zeros of a
/// national number where it cannot tell them from a trunk prefix (`0006000000000` read in
/// India is `+9106000000000`), but reads the `+CC` form without them (`+916000000000`):
/// such a number is read again from its `+CC` form, and that reading is kept when it is
/// valid, so normalizing a normalized number gives it back.
fn settled((number, kind): (PhoneNumber, Type), hint: Id) -> (PhoneNumber, Type) {
    if number.national().zeros() == 0 {
        return (number, kind);
    }
    let e164 = e164_of(&number);
    parse_valid(None, hint, &e164).unwrap_or((number, kind))
}

/// A parsed number and its type, when valid. Valid means the metadata gives it a type:
/// what `phonenumber::is_valid` checks too, so asking for the type once does both.
fn parse_valid(region: Option<Id>, hint: Id, text: &str) -> Option<(PhoneNumber, Type)> {
    let number = phonenumber::parse(region, text).ok()?;
    let kind = number_type(&number, hint);
    (kind != Type::Unknown).then_some((number, kind))
}

/// `PhoneNumber::number_type`, reaching the same answer with half the pattern matches for
/// the common case: a number of the source's own country.
///
/// The crate first finds the number's region (for a calling code shared by several
/// regions, the first one whose patterns take the number) and then types the number
/// against that region's patterns, so a valid +1 or +44 number is typed twice, and every
/// pattern match goes through the crate's mutex-guarded regex cache. When the source's
/// region is the first region of the number's calling code and has no leading-digits
/// pattern, the crate's search would stop at it exactly when the number types there: so
/// type it there once, with the crate's own metadata and matching; otherwise, or when it
/// does not type there, ask the crate.
fn number_type(number: &PhoneNumber, hint: Id) -> Type {
    if let Some(meta) = own_patterns(number.country().code(), hint) {
        let kind = type_in(meta, &number.national().value().to_string());
        if kind != Type::Unknown {
            return kind;
        }
    }
    number.number_type(&phonenumber::metadata::DATABASE)
}

/// `region`'s metadata when the crate's search for the region of a number of calling code
/// `code` would stop at it exactly when the number types there: `region` is the code's
/// first region and has no leading-digits pattern (see [`number_type`]).
fn own_patterns(code: u16, region: Id) -> Option<&'static phonenumber::Metadata> {
    let db: &'static phonenumber::metadata::Database = &phonenumber::metadata::DATABASE;
    let first = db
        .region(&code)?
        .first()
        .is_some_and(|r| *r == region.as_ref());
    db.by_id(region.as_ref())
        .filter(|m| first && m.leading_digits().is_none())
}

/// The type of a national number in one region's metadata: libphonenumber's order of
/// checks (the `phonenumber` crate's `validator::number_type`, which it does not export).
fn type_in(meta: &phonenumber::Metadata, national: &str) -> Type {
    let d = meta.descriptors();
    let is = |x: Option<&Descriptor>| x.is_some_and(|d| starts_with_match(d, national));
    if !starts_with_match(d.general(), national) {
        return Type::Unknown;
    }
    for (desc, kind) in [
        (d.premium_rate(), Type::PremiumRate),
        (d.toll_free(), Type::TollFree),
        (d.shared_cost(), Type::SharedCost),
        (d.voip(), Type::Voip),
        (d.personal_number(), Type::PersonalNumber),
        (d.pager(), Type::Pager),
        (d.uan(), Type::Uan),
        (d.voicemail(), Type::Voicemail),
    ] {
        if is(desc) {
            return kind;
        }
    }
    if is(d.fixed_line()) {
        let same_patterns = d.fixed_line().map(|x| x.national_number().as_str())
            == d.mobile().map(|x| x.national_number().as_str());
        if same_patterns || is(d.mobile()) {
            return Type::FixedLineOrMobile;
        }
        return Type::FixedLine;
    }
    if is(d.mobile()) {
        return Type::Mobile;
    }
    Type::Unknown
}

/// `Descriptor::is_match`: a possible length, and the pattern matching from the first
/// digit. The crate finds the leftmost match anywhere in the number and checks that it
/// starts at 0; a match that starts at 0 is always the leftmost, so a search anchored at
/// the start gives the same answer without scanning past it or searching back for where
/// it began. Each thread compiles the anchored patterns it uses once (the metadata is a
/// static, so a descriptor's address names it).
fn starts_with_match(d: &Descriptor, national: &str) -> bool {
    let lengths = d.possible_length();
    if !lengths.is_empty() && !lengths.contains(&(national.len() as u16)) {
        return false;
    }
    thread_local! {
        static ANCHORED: std::cell::RefCell<foldhash::HashMap<usize, Option<regex::Regex>>> =
            std::cell::RefCell::new(foldhash::HashMap::default());
    }
    let matched = ANCHORED.with_borrow_mut(|anchored| {
        anchored
            .entry(std::ptr::from_ref(d) as usize)
            .or_insert_with(|| {
                // The crate compiles the metadata's patterns ignoring whitespace; the line
                // end closes a comment, should a pattern end in one.
                regex::RegexBuilder::new(&format!("^(?:{}\n)", d.national_number().as_str()))
                    .ignore_whitespace(true)
                    .build()
                    .ok()
            })
            .as_ref()
            .map(|re| re.is_match(national))
    });
    matched.unwrap_or_else(|| d.is_match(national))
}

/// A number's E.164 text: `+`, the calling code and the national significant number
/// (leading zeros kept), which is what the crate's E.164 formatting writes. The crate's
/// formatter first picks the national format pattern (regular expressions over the
/// number) even for E.164, which does not use it.
fn e164_of(number: &PhoneNumber) -> compact_str::CompactString {
    compact_str::format_compact!("+{}{}", number.code().value(), number.national())
}

fn finish((number, kind): (PhoneNumber, Type), country_inferred: bool) -> NormalizedPhone {
    NormalizedPhone {
        phone: Phone(e164_of(&number)),
        kind: phone_kind(kind),
        country_inferred,
    }
}

fn phone_kind(kind: Type) -> PhoneKind {
    match kind {
        Type::Mobile => PhoneKind::Mobile,
        Type::FixedLine => PhoneKind::Landline,
        Type::FixedLineOrMobile => PhoneKind::FixedOrMobile,
        _ => PhoneKind::Other,
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

/// Every number-type descriptor of a region's metadata (the general one first), for tests
/// that hold our reading of numbers to the crate's.
#[cfg(test)]
pub(crate) fn descriptors(meta: &phonenumber::Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = meta.descriptors();
    [
        Some(d.general()),
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::Mode;

    #[test]
    fn e164_text_is_the_crates() {
        let mut checked = 0;
        for meta in phonenumber::metadata::DATABASE.iter() {
            for example in descriptors(meta).filter_map(|d| d.example()) {
                // Non-geographic entities (`001`) are no region to parse in.
                let Ok(region) = meta.id().parse() else {
                    continue;
                };
                let Ok(number) = phonenumber::parse(Some(region), example) else {
                    continue;
                };
                assert_eq!(
                    e164_of(&number),
                    number.format().mode(Mode::E164).to_string()
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn anchored_matching_answers_as_the_crate_does() {
        let db = &*phonenumber::metadata::DATABASE;
        let mut rng = fastrand::Rng::with_seed(11);
        for region in [
            "US", "GB", "PT", "CA", "IE", "ES", "FR", "DE", "AU", "BR", "IN", "JE",
        ] {
            let meta = db.by_id(region).expect(region);
            for desc in descriptors(meta) {
                let mut numbers: Vec<String> =
                    desc.example().map(String::from).into_iter().collect();
                for _ in 0..300 {
                    let n = rng.usize(4..13);
                    numbers.push((0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect());
                }
                if let Some(e) = desc.example() {
                    // Near the valid ones: one digit changed, one added, one dropped.
                    for k in 0..e.len() {
                        let mut v = e.as_bytes().to_vec();
                        v[k] = b'0' + (v[k] - b'0' + 1) % 10;
                        numbers.push(String::from_utf8(v).unwrap());
                    }
                    numbers.push(format!("{e}7"));
                    numbers.push(e[..e.len() - 1].to_string());
                }
                for n in &numbers {
                    assert_eq!(starts_with_match(desc, n), desc.is_match(n), "{region} {n}");
                }
                if let Some(e) = desc.example() {
                    assert!(starts_with_match(desc, e), "{region} {e}");
                }
            }
        }
    }

    /// Every region's example numbers, written in the crate's national and international
    /// formats and the ways exports write them, parse the same from their digits as from
    /// their text.
    #[test]
    fn reading_the_digits_reads_as_the_text() {
        let mut checked = 0;
        for meta in phonenumber::metadata::DATABASE.iter() {
            let Ok(region) = meta.id().parse::<Id>() else {
                continue;
            };
            for example in descriptors(meta).filter_map(|d| d.example()) {
                let Ok(number) = phonenumber::parse(Some(region), example) else {
                    continue;
                };
                let national = number.format().mode(Mode::National).to_string();
                let international = number.format().mode(Mode::International).to_string();
                let dotted = national.replace(' ', ".");
                let with_zero = format!("+{} (0){}", number.code().value(), number.national());
                let idd = format!("00{}{}", number.code().value(), number.national());
                for text in [
                    example.to_string(),
                    national,
                    international,
                    dotted,
                    with_zero,
                    idd,
                    format!("1-{example}"),
                    format!("  ({example}) "),
                ] {
                    let Some(digits) = Digits::of(clean(&text)) else {
                        continue;
                    };
                    for source in [region, Id::US, Id::GB, Id::PT] {
                        assert_eq!(
                            parse_uncached(&digits.text(), source),
                            parse_uncached(&text, source),
                            "{text:?} ({:?}) read in {source:?}",
                            digits.text()
                        );
                        checked += 1;
                    }
                }
            }
        }
        // Random digits, valid or not, with random punctuation.
        let mut rng = fastrand::Rng::with_seed(19);
        for _ in 0..3000 {
            let mut text = String::from(["", "+", "00", "1-", "0"][rng.usize(..5)]);
            for _ in 0..rng.usize(3..16) {
                text.push(char::from(b'0' + rng.u8(..10)));
                if rng.u8(..4) == 0 {
                    text.push([' ', '-', '.', '(', ')', ' '][rng.usize(..6)]);
                }
            }
            let Some(digits) = Digits::of(clean(&text)) else {
                // `+` and separators without a space: the RFC 3966 form.
                assert!(
                    text.starts_with('+') && !clean(&text).contains(' '),
                    "{text}"
                );
                continue;
            };
            for source in [Id::US, Id::GB, Id::PT, Id::IN] {
                assert_eq!(
                    parse_uncached(&digits.text(), source),
                    parse_uncached(&text, source),
                    "{text:?} read in {source:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 40_000, "{checked}");
    }

    #[test]
    fn readings() {
        let d = |text: &str| match Reading::of(text) {
            Reading::Digits(d) => Some(d.text()),
            Reading::Text(_) => None,
        };
        assert_eq!(d(" tel:(312) 908-0062 ").as_deref(), Some("3129080062"));
        assert_eq!(d("+44 (0)7911 123456").as_deref(), Some("+4407911123456"));
        assert_eq!(d("0044.7911.123456").as_deref(), Some("00447911123456"));
        assert_eq!(
            d("9999999999999999999").as_deref(),
            Some("9999999999999999999")
        );
        assert_eq!(d("+1 312-908-0062").as_deref(), Some("+13129080062"));
        for text in [
            "+1-312-908-0062",
            "312 908 0062 ext 4",
            "1+312",
            "++1 312",
            "312/908",
            "12345678901234567890",
            "",
            "+",
            "()",
        ] {
            assert_eq!(d(text), None, "{text}");
        }
    }

    #[test]
    fn usual_numbers_read_as_the_parser_reads_them() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut texts: Vec<(String, Id)> = [
            ("(312) 908-0062", Id::US),
            ("312.908.0062", Id::US),
            ("+1 312 908 0062", Id::US),
            ("2125551234", Id::US),
            ("4165550123", Id::US),
            ("2685551234", Id::US),
            ("8005551234", Id::US),
            ("7875551234", Id::US),
            ("1312908006", Id::US),
            ("0312908006", Id::US),
            ("+1 112 908 0062", Id::US),
            ("13129080062", Id::US),
            ("07911 123456", Id::GB),
            ("+44 7911 123456", Id::GB),
            ("+44 7624 123456", Id::GB),
            ("01624 212345", Id::GB),
            ("020 7946 0958", Id::GB),
            ("7911123456", Id::GB),
            ("0044 7911 123456", Id::GB),
            ("+44 (0)7911 123456", Id::GB),
            ("+44 (0)1624 212345", Id::GB),
            ("00447911123456", Id::GB),
            ("1-312-908-0062", Id::US),
            ("1 (800) 555-1234", Id::US),
            ("011 44 7911 123456", Id::US),
            ("00351912345678", Id::PT),
            ("00351 912 345 678", Id::PT),
            ("0351912345678", Id::PT),
            ("912 345 678", Id::PT),
            ("+351 912 345 678", Id::PT),
            ("213456789", Id::PT),
            ("351912345", Id::PT),
            ("+44 7911 123456", Id::US),
            ("+1 312 908 0062", Id::GB),
        ]
        .iter()
        .map(|(t, r)| (t.to_string(), *r))
        .collect();
        // Every region's example numbers (valid by construction) in each usual form.
        let db = &*phonenumber::metadata::DATABASE;
        for (region, code, _, trunk) in USUAL {
            for meta in db.iter() {
                for example in descriptors(meta).filter_map(|d| d.example()) {
                    let zero = if trunk { "0" } else { "" };
                    for text in [
                        format!("{zero}{example}"),
                        format!("+{code} {example}"),
                        format!("+{code} ({zero}){example}"),
                        format!("00{code}{example}"),
                        format!("{code}{example}"),
                    ] {
                        texts.push((text, region));
                    }
                    // Written as another usual country's number, its code without `+`.
                    for (_, other, ..) in USUAL {
                        texts.push((format!("{other}{example}"), region));
                        texts.push((format!("00{other}{example}"), region));
                    }
                }
            }
        }
        // Random digits of the usual lengths and around them, with and without the
        // calling code and the trunk 0, and prefixes that would be read otherwise.
        for _ in 0..2_500 {
            for (region, code, len, _) in USUAL {
                let len = usize::from(len) + rng.usize(0..=2) - 1;
                let digits: String = (0..len).map(|_| char::from(b'0' + rng.u8(0..10))).collect();
                texts.push((digits.clone(), region));
                texts.push((format!("0{digits}"), region));
                texts.push((format!("+{code} {digits}"), region));
                texts.push((format!("{code}{digits}"), region));
                texts.push((format!("00{code}{digits}"), region));
                texts.push((format!("+{code} (0){digits}"), region));
                texts.push((format!("011{code}{digits}"), region));
                // Numbers of the other usual countries, their code without `+`.
                for (_, other, other_len, _) in USUAL {
                    let len = usize::from(other_len) + rng.usize(0..=2) - 1;
                    let digits: String = (0..len)
                        .map(|i| char::from(b'0' + rng.u8(u8::from(i == 0)..10)))
                        .collect();
                    texts.push((format!("{other}{digits}"), region));
                    texts.push((format!("{other}0{digits}"), region));
                    texts.push((format!("00{other}{digits}"), region));
                }
            }
        }
        let mut fast = [0; 3];
        let mut abroad = [0; 3];
        for (text, region) in &texts {
            let Reading::Digits(d) = Reading::of(text) else {
                continue;
            };
            let want = parse_uncached(&d.text(), *region);
            if let Some(got) = usual_number(d, *region) {
                assert_eq!(Some(got), want, "{text} in {region:?}");
                fast[USUAL.iter().position(|u| u.0 == *region).unwrap()] += 1;
            }
            if let Some(got) = usual_abroad(d, *region) {
                assert_eq!(Some(got), want, "{text} in {region:?}");
                abroad[USUAL.iter().position(|u| u.0 == *region).unwrap()] += 1;
            }
            assert_eq!(normalize(text, *region), want, "{text} in {region:?}");
            // Other regions always take the full path.
            assert_eq!(usual_number(d, Id::CA), None);
            assert_eq!(usual_abroad(d, Id::CA), None);
        }
        assert!(fast.iter().all(|&n| n > 300), "{fast:?}");
        assert!(abroad.iter().all(|&n| n > 300), "{abroad:?}");
    }

    fn e164(raw: &str, region: &str) -> Option<String> {
        normalize(raw, parse_region(region).unwrap()).map(|p| p.phone.0.into())
    }

    /// Regression (found by `phone_normalize_is_idempotent`): numbers read with leading
    /// zeros kept in the national number came out in a form that reads back differently.
    #[test]
    fn leading_zeros_settle_to_the_form_that_reads_back() {
        for (raw, region, want) in [
            ("0006000000000", "IN", "+916000000000"),
            ("+310150000000", "US", "+31150000000"),
        ] {
            assert_eq!(
                e164(raw, region).as_deref(),
                Some(want),
                "{raw} in {region}"
            );
            for again_in in ["US", "IN", "NL", "GB", "PT"] {
                assert_eq!(
                    e164(want, again_in).as_deref(),
                    Some(want),
                    "{want} in {again_in}"
                );
            }
        }
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

    /// The shortcut types every number as the crate does: numbers of many kinds and
    /// countries (valid, invalid, shared calling codes, toll-free, premium, mobiles,
    /// Caribbean NANP, Crown dependencies), typed from several source regions.
    #[test]
    fn number_type_agrees_with_the_crate() {
        let db = &*phonenumber::metadata::DATABASE;
        let mut texts: Vec<String> = [
            "+13125550142",
            "+12125551234",
            "+14165550123",
            "+12685551234",
            "+18005551234",
            "+19005551234",
            "+16175550100",
            "+447911123456",
            "+442079460958",
            "+441624212345",
            "+447624123456",
            "+441481712345",
            "+448001234567",
            "+449061234567",
            "+351912345678",
            "+351213456789",
            "+351800123456",
            "+33612345678",
            "+4915123456789",
            "+61412345678",
            "+390612345678",
            "+12025550199",
            "+17875551234",
            "+15145550123",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Pseudo-random national numbers of each length under a few calling codes.
        let mut rng = fastrand::Rng::with_seed(6);
        for cc in ["1", "44", "351", "33", "49"] {
            for _ in 0..400 {
                let len = rng.usize(7..=11);
                let digits: String = (0..len).map(|_| char::from(b'0' + rng.u8(0..10))).collect();
                texts.push(format!("+{cc}{digits}"));
            }
        }
        let hints = ["US", "GB", "PT", "CA", "FR", "IM", "AG"];
        let mut compared = 0;
        for text in &texts {
            let Ok(number) = phonenumber::parse(None, text) else {
                continue;
            };
            for hint in hints {
                let hint = parse_region(hint).unwrap();
                assert_eq!(
                    number_type(&number, hint),
                    number.number_type(db),
                    "{text} from {hint:?}"
                );
                compared += 1;
            }
        }
        assert!(compared > 5_000, "{compared}");
    }
}
