//! Property tests for the normalizers (phones, emails, names, times) and the extract parser.
//!
//! Case counts are kept modest so the file runs in seconds in a debug build: phone parsing
//! goes through libphonenumber's metadata and is slow without optimizations.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use leadrecon::extract::{records, FileData, Format, Record};
use leadrecon::lead::{PhoneKind, System};
use leadrecon::normalize::phone::NormalizedPhone;
use leadrecon::normalize::time::{DateOrder, TimeContext};
use leadrecon::normalize::{email, name, phone, time};
use leadrecon::reject::{Place, Reject};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

const CASES: u32 = 64;

/// `cases` cases; failures are reported, not saved to a regressions file next to the test.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------
// Shared generators and helpers
// ---------------------------------------------------------------------------------------

/// Any text: arbitrary Unicode scalar values (control characters included) mixed with
/// pieces the parser under test cares about, so that inputs get past its first checks.
fn text_with(pieces: &'static [&'static str], max_parts: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            2 => any::<char>().prop_map(String::from),
            3 => select(pieces).prop_map(str::to_string),
        ],
        0..max_parts,
    )
    .prop_map(|parts| parts.concat())
}

/// Characters that are easy to mishandle: controls, zero-width, BOM, combining marks,
/// characters whose case mapping changes length, non-ASCII digits and line separators.
const TRICKY: [&str; 16] = [
    "\0",
    "\u{7}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{301}",
    "\u{2028}",
    "ß",
    "İ",
    "ﬁ",
    "\u{660}",
    "\u{FF11}",
    "\u{1F600}",
];

macro_rules! pieces {
    ($($p:expr),* $(,)?) => {{
        const P: &[&str] = &[
            $($p,)*
            TRICKY[0], TRICKY[1], TRICKY[2], TRICKY[3], TRICKY[4], TRICKY[5], TRICKY[6],
            TRICKY[7], TRICKY[8], TRICKY[9], TRICKY[10], TRICKY[11], TRICKY[12], TRICKY[13],
            TRICKY[14], TRICKY[15],
        ];
        P
    }};
}

fn normalize_phone(raw: &str, code: &str) -> Option<NormalizedPhone> {
    phone::normalize(raw, phone::parse_region(code).expect("known region"))
}

fn e164(raw: &str, code: &str) -> Option<String> {
    normalize_phone(raw, code).map(|p| p.phone.as_str().to_string())
}

/// `+` and 2 to 17 digits, no leading zero: libphonenumber allows national numbers longer
/// than E.164's 15-digit total (German numbers of up to 15 national digits), so the bound
/// is libphonenumber's 17.
fn check_e164(s: &str) -> Result<(), TestCaseError> {
    let Some(digits) = s.strip_prefix('+') else {
        return Err(TestCaseError::fail(format!(
            "{s:?} does not start with '+'"
        )));
    };
    prop_assert!(
        (2..=17).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0'),
        "{:?} is not E.164",
        s
    );
    Ok(())
}

/// Re-reading an E.164 number, from any region, gives the same number, kind and no
/// inferred country (the `+` says which country it is).
fn check_phone_fixed_point(p: &NormalizedPhone, regions: &[&str]) -> Result<(), TestCaseError> {
    for code in regions {
        let again = normalize_phone(p.phone.as_str(), code);
        prop_assert_eq!(
            again
                .as_ref()
                .map(|a| (a.phone.as_str(), a.kind, a.country_inferred)),
            Some((p.phone.as_str(), p.kind, false)),
            "re-normalizing {} in {}",
            p.phone.as_str(),
            code
        );
    }
    Ok(())
}

fn check_name_part(part: &Option<String>) -> Result<(), TestCaseError> {
    if let Some(s) = part {
        prop_assert!(!s.is_empty(), "empty Some");
        prop_assert!(
            !s.starts_with(' ') && !s.ends_with(' ') && !s.contains("  "),
            "{:?} has stray spaces",
            s
        );
        prop_assert!(
            !s.chars()
                .any(|c| c.is_control() || (c.is_whitespace() && c != ' ')),
            "{:?} has control characters or non-space whitespace",
            s
        );
    }
    Ok(())
}

fn contexts() -> [TimeContext; 3] {
    [
        TimeContext {
            tz: None,
            order: DateOrder::MonthFirst,
        },
        TimeContext {
            tz: Some(Tz::America__Chicago),
            order: DateOrder::DayFirst,
        },
        TimeContext {
            tz: Some(Tz::Asia__Kolkata),
            order: DateOrder::MonthFirst,
        },
    ]
}

fn file(text: String, format: Format) -> FileData {
    FileData {
        display: "f".into(),
        bytes: text.len() as u64,
        sha256: String::new(),
        text,
        format,
        warnings: Vec::new(),
    }
}

fn place() -> Place<'static> {
    Place {
        system: System::Csv,
        source_index: 0,
        file: "f",
        line: 0,
    }
}

fn never_a_record(_: &dyn Fn(&str) -> bool) -> bool {
    false
}

/// 1-based physical line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    text[..offset].matches('\n').count() as u64 + 1
}

type Outcome = Result<u64, (u64, &'static str)>;

fn outcomes(v: &[Result<Record<'_>, Reject>]) -> Vec<Outcome> {
    v.iter()
        .map(|r| match r {
            Ok(rec) => Ok(rec.line),
            Err(rej) => Err((rej.line, rej.reason.as_str())),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. No normalizer and no container format panics on arbitrary text
// ---------------------------------------------------------------------------------------

const PHONE_PIECES: &[&str] = pieces![
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "(", ")", "-", " ", ".", "/", ";", ",",
    "|", "\n", "tel:", "TEL:", "00", "011", "x", "ext. ", "#", "*", "+1", "+44", "+351", "555",
    "0142", "07911",
];
const EMAIL_PIECES: &[&str] = pieces![
    "a", "Z", "0", ".", "@", "-", "+", "_", "<", ">", "mailto:", "MAILTO:", ";", ",", "\"", "[",
    "]", "(", ")", ":", " ", "\t", "\n", "|", "com", "pt", "xn--", "ç", "É",
];
const NAME_PIECES: &[&str] = pieces![
    "a", "JOHN", "o'neill", "Mc", "mc", "de", "DOS", "van", "Mr", "dr.", "Jr", "III", ",", ".",
    "-", "'", "’", "\"", "“", "”", " ", "\t", "e",
];
const TIME_PIECES: &[&str] = pieces![
    "0",
    "1",
    "2",
    "3",
    "9",
    "-",
    ":",
    "T",
    " ",
    "Z",
    "z",
    "+",
    ".",
    "/",
    "AM",
    "PM",
    "2024",
    "12",
    "1990-01-01",
    "Mon, ",
    "GMT",
    ",",
    "1711108800",
    "05:30",
];
const EXTRACT_PIECES: &[&str] = pieces![
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    ";",
    "|",
    "1",
    "-",
    "null",
    "true",
    "\"a\"",
    "\"data\"",
    "\"errors\"",
    "\"status_code\"",
    "500",
    "{\"a\":1}",
    "[{\"b\":\"x\"}]",
    "\\",
    "\"\"",
    "a,b\n",
];

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn phone_never_panics(
        raw in text_with(PHONE_PIECES, 24),
        code in select(vec!["US", "GB", "PT", "DE", "BR"]),
    ) {
        for part in phone::split_field(&raw) {
            prop_assert_eq!(part, part.trim());
            prop_assert!(part.chars().filter(char::is_ascii_digit).count() >= 3);
        }
        if let Some(p) = normalize_phone(&raw, code) {
            check_e164(p.phone.as_str())?;
        }
    }

    #[test]
    fn email_never_panics(raw in text_with(EMAIL_PIECES, 32)) {
        for part in email::split_field(&raw) {
            prop_assert!(!part.is_empty() && part == part.trim());
            prop_assert!(!part.contains([';', ',', ' ', '\n', '|']));
        }
        if let Some(e) = email::normalize(&raw) {
            let e = e.as_str();
            prop_assert!(e.contains('@'), "{:?}", e);
            prop_assert!(!e.chars().any(char::is_whitespace), "{:?}", e);
            prop_assert_eq!(e, e.to_lowercase());
        }
    }

    #[test]
    fn name_never_panics(
        first in text_with(NAME_PIECES, 12),
        last in text_with(NAME_PIECES, 12),
        full in text_with(NAME_PIECES, 16),
    ) {
        let n = name::normalize(&first, &last, &full);
        check_name_part(&n.first)?;
        check_name_part(&n.last)?;
        check_name_part(&n.full)?;
        prop_assert_eq!(n.full.is_some(), n.first.is_some() || n.last.is_some());
        let c = name::clean(&full);
        prop_assert!(!c.chars().any(char::is_control), "{:?}", c);
        prop_assert!(!c.starts_with(' ') && !c.ends_with(' ') && !c.contains("  "));
    }

    #[test]
    fn time_never_panics(raw in text_with(TIME_PIECES, 16)) {
        use chrono::Datelike;
        for ctx in contexts() {
            if let Some(p) = time::parse(&raw, ctx) {
                prop_assert!((1900..=2200).contains(&p.utc.year()), "{:?} -> {}", raw, p.utc);
                prop_assert!(!p.assumed_utc || ctx.tz.is_none());
                prop_assert!(!p.dst_adjusted || ctx.tz.is_some());
            }
        }
    }

    #[test]
    fn extract_never_panics(
        text in text_with(EXTRACT_PIECES, 48),
        format in select(vec![Format::Csv, Format::Json, Format::Jsonl]),
    ) {
        let last_line = text.matches('\n').count() as u64 + 1;
        let f = file(text, format);
        for r in records(&f, place(), never_a_record) {
            let line = match &r {
                Ok(rec) => {
                    prop_assert!(!rec.fields.is_empty() || format != Format::Csv);
                    rec.line
                }
                Err(rej) => rej.line,
            };
            prop_assert!((1..=last_line).contains(&line), "line {} of {}", line, last_line);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2 + 3. Phones: every formatting of a valid number gives one E.164, which is a fixed point
// ---------------------------------------------------------------------------------------

/// A valid number and ways people write it.
#[derive(Debug, Clone)]
struct GenPhone {
    region: &'static str,
    e164: String,
    kind: PhoneKind,
    /// Written for its own region (national formats, or digits without the `+`).
    national: Vec<String>,
    /// With `+CC`: the same number from any region.
    plus: Vec<String>,
    /// With `00CC`: the same number from regions whose international prefix is `00` (and
    /// from the US, where a long run of digits is read again as international).
    zero_zero: Vec<String>,
    /// `+CC (0)…`: the country code and the trunk prefix people keep out of habit.
    plus_trunk_zero: Vec<String>,
}

/// Regions a `+CC` number is read from (the number's own region is always tried too).
const ANY_REGIONS: [&str; 9] = ["US", "GB", "PT", "DE", "FR", "BR", "AU", "JP", "IN"];
/// Regions where `00` is the whole international prefix, plus the US.
const ZERO_ZERO_REGIONS: [&str; 5] = ["US", "GB", "PT", "DE", "FR"];

const US_AREAS: [&str; 15] = [
    "312", "415", "617", "212", "206", "213", "305", "404", "512", "702", "713", "718", "773",
    "646", "202",
];

/// US: `(AAA) 555-01NN`, the range reserved for fictional use.
fn us_phone() -> impl Strategy<Value = GenPhone> {
    (select(US_AREAS.to_vec()), 0u32..100).prop_map(|(a, n)| {
        let l = format!("01{n:02}");
        GenPhone {
            region: "US",
            e164: format!("+1{a}555{l}"),
            kind: PhoneKind::FixedOrMobile,
            national: vec![
                format!("({a}) 555-{l}"),
                format!("{a}-555-{l}"),
                format!("{a}.555.{l}"),
                format!("{a} 555 {l}"),
                format!("{a}555{l}"),
                format!("1-{a}-555-{l}"),
                format!("1 ({a}) 555-{l}"),
                format!("1{a}555{l}"),
                format!(" \t({a})555-{l}  "),
                format!("011 1 {a} 555 {l}"),
            ],
            plus: vec![
                format!("+1 {a} 555 {l}"),
                format!("+1 ({a}) 555-{l}"),
                format!("+1-{a}-555-{l}"),
                format!("+1{a}555{l}"),
                format!("+1.{a}.555.{l}"),
                format!("tel:+1-{a}-555-{l}"),
            ],
            zero_zero: vec![format!("001 {a} 555 {l}"), format!("001-{a}-555-{l}")],
            plus_trunk_zero: Vec::new(),
        }
    })
}

/// UK mobiles: `07` + two digits + 7 digits. The first two digits after `07` are limited to
/// the blocks libphonenumber's metadata (9.0.33) allocates whole; `076` (pagers), `0745`,
/// `0750`, `0752`, `0770`, `0778`, `0782`, `0783`, `0791` and `0793` are only partly
/// allocated.
const GB_BLOCKS: [&str; 36] = [
    "40", "41", "42", "43", "44", "46", "47", "48", "49", "51", "53", "54", "55", "56", "57", "58",
    "59", "71", "72", "73", "74", "75", "76", "77", "80", "81", "84", "85", "86", "87", "88", "89",
    "90", "92", "94", "95",
];

fn gb_mobile() -> impl Strategy<Value = GenPhone> {
    (select(GB_BLOCKS.to_vec()), "[0-9]{7}").prop_map(|(block, rest)| {
        let n = format!("7{block}{rest}");
        let (a, b) = n.split_at(4);
        let (b1, b2) = b.split_at(3);
        GenPhone {
            region: "GB",
            e164: format!("+44{n}"),
            kind: PhoneKind::Mobile,
            national: vec![
                format!("0{n}"),
                format!("0{a} {b}"),
                format!("0{a}-{b1}-{b2}"),
                format!("(0{a}) {b}"),
                format!("0{a} {b1} {b2}"),
                format!("44{n}"),
                format!("  0{a} {b}\n"),
            ],
            plus: vec![
                format!("+44 {a} {b}"),
                format!("+44{n}"),
                format!("+44-{a}-{b}"),
                format!("tel:+44{n}"),
            ],
            zero_zero: vec![format!("0044 {a} {b}"), format!("00 44 {n}")],
            plus_trunk_zero: vec![format!("+44 (0){a} {b}"), format!("+44 (0) {a} {b1} {b2}")],
        }
    })
}

/// Portuguese mobiles: `91`, `92`, `93` or `96` + 7 digits.
fn pt_mobile() -> impl Strategy<Value = GenPhone> {
    (select(vec!["91", "92", "93", "96"]), "[0-9]{7}").prop_map(|(p, rest)| {
        let n = format!("{p}{rest}");
        let (a, b, c) = (&n[..3], &n[3..6], &n[6..]);
        GenPhone {
            region: "PT",
            e164: format!("+351{n}"),
            kind: PhoneKind::Mobile,
            national: vec![
                n.clone(),
                format!("{a} {b} {c}"),
                format!("{a}-{b}-{c}"),
                format!("({a}) {b}{c}"),
                format!("{a}.{b}.{c}"),
                format!("351{n}"),
            ],
            plus: vec![
                format!("+351 {a} {b} {c}"),
                format!("+351{n}"),
                format!("+351-{n}"),
                format!("tel:+351 {n}"),
            ],
            zero_zero: vec![format!("00351 {a} {b} {c}"), format!("00351{n}")],
            plus_trunk_zero: Vec::new(),
        }
    })
}

/// UK geographic numbers in Ofcom's drama ranges (`0161 496 0xxx`, …) that libphonenumber's
/// metadata (9.0.33) holds valid (not `0115 496`): their national number starts with `1`, as
/// do most UK landlines.
const GB_AREAS: [&str; 11] = [
    "113", "114", "116", "117", "118", "121", "131", "141", "151", "161", "191",
];

fn gb_landline() -> impl Strategy<Value = GenPhone> {
    (select(GB_AREAS.to_vec()), 0u32..1000).prop_map(|(a, x)| {
        let x = format!("0{x:03}");
        GenPhone {
            region: "GB",
            e164: format!("+44{a}496{x}"),
            kind: PhoneKind::Landline,
            national: vec![
                format!("0{a} 496 {x}"),
                format!("(0{a}) 496 {x}"),
                format!("0{a}-496-{x}"),
                format!("0{a}496{x}"),
                format!("44{a}496{x}"),
            ],
            plus: vec![
                format!("+44 {a} 496 {x}"),
                format!("+44{a}496{x}"),
                format!("+44-{a}-496-{x}"),
            ],
            zero_zero: vec![format!("0044 {a} 496 {x}"), format!("00 44 {a}496{x}")],
            plus_trunk_zero: vec![format!("+44 (0){a} 496 {x}")],
        }
    })
}

/// Checks every format of `p`: national ones from its own region, `+CC` ones from
/// `plus_regions`, `00CC` ones from `zero_zero_regions`, `+CC (0)` ones from its own region.
fn check_formats(
    p: &GenPhone,
    plus_regions: &[&str],
    zero_zero_regions: &[&str],
) -> Result<(), TestCaseError> {
    let expect = |raw: &str, code: &str| {
        let got = normalize_phone(raw, code);
        prop_assert_eq!(
            got.as_ref().map(|g| (g.phone.as_str(), g.kind)),
            Some((p.e164.as_str(), p.kind)),
            "{:?} read in {}",
            raw,
            code
        );
        Ok(got.unwrap())
    };
    for raw in p.national.iter().chain(&p.plus_trunk_zero) {
        expect(raw, p.region)?;
    }
    for raw in &p.plus {
        for code in plus_regions {
            let got = expect(raw, code)?;
            prop_assert!(!got.country_inferred, "{:?} read in {}", raw, code);
        }
    }
    for raw in &p.zero_zero {
        for code in zero_zero_regions {
            expect(raw, code)?;
        }
    }
    Ok(())
}

fn any_phone() -> impl Strategy<Value = GenPhone> {
    prop_oneof![us_phone(), gb_mobile(), pt_mobile()]
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn phone_formats_agree(
        p in any_phone(),
        other in select(ANY_REGIONS.to_vec()),
        other00 in select(ZERO_ZERO_REGIONS.to_vec()),
    ) {
        check_formats(&p, &[p.region, other], &[p.region, other00])?;
        // Idempotence: the E.164 form reads back as itself from every region.
        let canonical = normalize_phone(&p.e164, p.region).expect("canonical form is valid");
        check_phone_fixed_point(&canonical, &ANY_REGIONS)?;
    }

    #[test]
    fn gb_landline_formats_agree(
        p in gb_landline(),
        other in select(ANY_REGIONS.to_vec()),
        other00 in select(ZERO_ZERO_REGIONS.to_vec()),
    ) {
        check_formats(&p, &[p.region, other], &[p.region, other00])?;
        let canonical = normalize_phone(&p.e164, p.region).expect("canonical form is valid");
        check_phone_fixed_point(&canonical, &ANY_REGIONS)?;
    }

    /// Regression (failed at bbe6956, where a `+CC` number was read with the source region's
    /// national-prefix rules): `normalize("+44 161 496 0000", US)` and
    /// `normalize("+33 1 23 45 67 89", US)` were `None`, and `+44 (0)7911 123456` was `None`
    /// from US and PT.
    #[test]
    fn phone_plus_cc_reads_the_same_from_any_region(
        p in prop_oneof![gb_landline(), gb_mobile()],
    ) {
        for raw in p.plus.iter().chain(&p.plus_trunk_zero) {
            for code in ANY_REGIONS {
                prop_assert_eq!(e164(raw, code), Some(p.e164.clone()), "{:?} read in {}", raw, code);
            }
        }
    }

    /// Regression (failed at bbe6956, same cause as above): `normalize("1120000000", BR)` is
    /// `+551120000000`, which read from US was `None`; `normalize("+929 0000000", US)` is
    /// `+9290000000`, which read from BR (national prefix `0|90`) was `None`.
    #[test]
    fn phone_normalize_is_idempotent(
        plus in any::<bool>(),
        body in prop::collection::vec(
            select(vec!["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", " ", "-", "(", ")", "."]),
            6..20,
        ),
        code in select(ANY_REGIONS.to_vec()),
    ) {
        let raw = format!("{}{}", if plus { "+" } else { "" }, body.concat());
        if let Some(p) = normalize_phone(&raw, code) {
            check_e164(p.phone.as_str())?;
            check_phone_fixed_point(&p, &ANY_REGIONS)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2 + 4. Emails: case and whitespace do not matter; the result is a fixed point
// ---------------------------------------------------------------------------------------

/// A valid lower-case address, sometimes with non-ASCII letters in the local part.
fn address() -> impl Strategy<Value = String> {
    let word = "[a-z0-9çãéü]{1,6}";
    let label = "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?";
    (
        word,
        prop::collection::vec((select(vec![".", "+", "_", "-"]), word), 0..3),
        prop::collection::vec(label, 1..3),
        "[a-z]{2,6}",
    )
        .prop_map(|(head, tail, labels, tld)| {
            let mut local = head;
            for (sep, w) in tail {
                local.push_str(sep);
                local.push_str(&w);
            }
            format!("{local}@{}.{tld}", labels.join("."))
        })
}

fn mixed_case(s: &str, mask: &[bool]) -> String {
    s.chars()
        .zip(mask.iter().cycle())
        .map(|(c, &up)| {
            if up {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn check_email_fixed_point(e: &str) -> Result<(), TestCaseError> {
    let again = email::normalize(e);
    prop_assert_eq!(
        again.as_ref().map(|x| x.as_str()),
        Some(e),
        "re-normalizing {:?}",
        e
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn email_case_and_space_variants_agree(
        addr in address(),
        mask in prop::collection::vec(any::<bool>(), 1..8),
        before in select(vec!["", " ", "\t", "\n ", "\u{a0}", "\r\n"]),
        after in select(vec!["", " ", "\t", " \n", "\u{3000}", "\r\n"]),
    ) {
        let variants = [
            addr.clone(),
            addr.to_uppercase(),
            mixed_case(&addr, &mask),
            format!("{before}{addr}{after}"),
            format!("{before}{}{after}", addr.to_uppercase()),
            format!("{before}{}{after}", mixed_case(&addr, &mask)),
            format!("<{}>", mixed_case(&addr, &mask)),
            format!("mailto:{addr}"),
            format!("MAILTO:{}", addr.to_uppercase()),
            format!("{addr};"),
        ];
        for v in &variants {
            let got = email::normalize(v);
            prop_assert_eq!(got.as_ref().map(|e| e.as_str()), Some(addr.as_str()), "{:?}", v);
        }
        prop_assert_eq!(addr.matches('@').count(), 1);
        prop_assert_eq!(&addr, &addr.to_lowercase());
        check_email_fixed_point(&addr)?;
    }

    #[test]
    fn email_normalize_is_idempotent(
        junk_before in text_with(EMAIL_PIECES, 3),
        local in text_with(EMAIL_PIECES, 6),
        domain in text_with(EMAIL_PIECES, 6),
        junk_after in text_with(EMAIL_PIECES, 3),
        tld in "[a-zA-Z]{2,4}",
    ) {
        let raw = format!("{junk_before}{local}@{domain}.{tld}{junk_after}");
        if let Some(e) = email::normalize(&raw) {
            let e = e.as_str();
            prop_assert_eq!(e, e.to_lowercase());
            check_email_fixed_point(e)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Names: normalizing the output again changes nothing; `clean` is idempotent
// ---------------------------------------------------------------------------------------

const NAME_WORDS: [&str; 20] = [
    "john",
    "mary-jane",
    "o'neill",
    "mcdonald",
    "DeShawn",
    "joão",
    "gonçalves",
    "ana",
    "silva",
    "smith",
    "doe",
    "lee",
    "ng",
    "zoë",
    "françois",
    "müller",
    "d'angelo",
    "jean-luc",
    "åsa",
    "x",
];
const NAME_PARTICLES: [&str; 9] = ["da", "dos", "van", "der", "de", "la", "von", "y", "di"];
const NAME_HONORIFICS: [&str; 5] = ["mr", "mrs.", "dr", "prof.", "Ms"];
const NAME_SUFFIXES: [&str; 6] = ["jr", "jr.", "iii", "ii", "phd", "sr"];

fn name_token() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        6 => select(NAME_WORDS.to_vec()),
        2 => select(NAME_PARTICLES.to_vec()),
        1 => select(NAME_HONORIFICS.to_vec()),
        1 => select(NAME_SUFFIXES.to_vec()),
    ];
    (word, 0u8..4).prop_map(|(w, case)| match case {
        0 => w.to_string(),
        1 => w.to_uppercase(),
        2 => w.to_lowercase(),
        _ => {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    })
}

/// A name field as people type it: words, odd spacing, sometimes "Last, First", sometimes
/// wrapped in quotes or zero-width characters.
fn name_field(max_words: usize) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(name_token(), 0..max_words),
        select(vec![" ", "  ", "\t", " \u{a0}"]),
        any::<bool>(),
        select(vec!["", "\"", "'", " ", "\u{200B}", "“"]),
    )
        .prop_map(|(words, sep, comma, wrap)| {
            let mut s = String::new();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    s.push_str(if comma && i == 1 { ", " } else { sep });
                }
                s.push_str(w);
            }
            let close = if wrap == "“" { "”" } else { wrap };
            format!("{wrap}{s}{close}")
        })
}

fn maybe_empty(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 2 => s]
}

fn check_names_fixed_point(first: &str, last: &str, full: &str) -> Result<(), TestCaseError> {
    let once = name::normalize(first, last, full);
    let again = name::normalize(
        once.first.as_deref().unwrap_or(""),
        once.last.as_deref().unwrap_or(""),
        "",
    );
    prop_assert_eq!(
        &again.first,
        &once.first,
        "first of {:?}",
        (first, last, full)
    );
    prop_assert_eq!(&again.last, &once.last, "last of {:?}", (first, last, full));
    prop_assert!(
        !again.split,
        "normalized names were split again: {:?}",
        once
    );
    let joined = [once.first.as_deref(), once.last.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    prop_assert_eq!(again.full.unwrap_or_default(), joined);
    Ok(())
}

fn check_clean_fixed_point(raw: &str) -> Result<(), TestCaseError> {
    let once = name::clean(raw);
    prop_assert_eq!(
        name::clean(&once),
        once.clone(),
        "clean({:?}) = {:?}",
        raw,
        once
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES * 2))]

    #[test]
    fn name_normalize_is_idempotent(
        first in maybe_empty(name_field(3)),
        last in maybe_empty(name_field(3)),
        full in maybe_empty(name_field(6)),
    ) {
        check_names_fixed_point(&first, &last, &full)?;
    }

    #[test]
    fn clean_is_idempotent_on_names(raw in name_field(6)) {
        check_clean_fixed_point(&raw)?;
    }

    /// Regression (failed at bbe6956): `ß` → `SS` → `Ss` (and `ﬁ` → `FI` → `Fi`);
    /// `"Jack" Smith` → first `Jack"`, cleaned to `Jack` by the next pass; `ΐ` → non-NFC
    /// `Ι\u{308}\u{301}`, composed to `Ϊ\u{301}` by the next pass.
    #[test]
    fn name_normalize_is_idempotent_on_any_text(
        first in text_with(NAME_PIECES, 8),
        last in text_with(NAME_PIECES, 8),
        full in text_with(NAME_PIECES, 12),
    ) {
        check_names_fixed_point(&first, &last, &full)?;
    }

    /// Regression (failed at bbe6956, where `clean` composed before dropping zero-width and
    /// control characters): `clean("e\u{200B}\u{301}")` was `"e\u{301}"`, not NFC.
    #[test]
    fn clean_is_idempotent_on_any_text(raw in text_with(NAME_PIECES, 16)) {
        check_clean_fixed_point(&raw)?;
    }
}

// ---------------------------------------------------------------------------------------
// 5. Times: RFC 3339 gives back the instant; naive times are wall clocks
// ---------------------------------------------------------------------------------------

/// An instant from 1990-01-01 to 2100-01-01 (seconds, nanoseconds).
fn instant() -> impl Strategy<Value = (i64, u32)> {
    (631_152_000i64..4_102_444_800, 0u32..1_000_000_000)
}

/// `.ddd` with `digits` digits (none when 0) and the nanoseconds it stands for.
fn fraction(nanos: u32, digits: u32) -> (String, u32) {
    if digits == 0 {
        return (String::new(), 0);
    }
    let unit = 10u32.pow(9 - digits);
    let kept = nanos / unit;
    (
        format!(".{kept:0width$}", width = digits as usize),
        kept * unit,
    )
}

fn write_naive(t: NaiveDateTime, sep: &str, fraction: &str) -> String {
    format!(
        "{}{sep}{}{fraction}",
        t.format("%Y-%m-%d"),
        t.format("%H:%M:%S")
    )
}

const ZONES: [Tz; 7] = [
    Tz::America__Chicago,
    Tz::America__New_York,
    Tz::America__Sao_Paulo,
    Tz::Europe__Lisbon,
    Tz::Europe__London,
    Tz::Australia__Sydney,
    Tz::Asia__Kolkata,
];

proptest! {
    #![proptest_config(config(CASES * 2))]

    #[test]
    fn aware_timestamps_give_back_the_instant(
        (secs, nanos) in instant(),
        digits in 0u32..=9,
        offset_min in -720i64..=840,
        // 0: `Z`, 1: `z`, 2: `+HH:MM`, 3: `+HHMM`
        style in 0u8..4,
        sep in select(vec!["T", "t", " "]),
    ) {
        let (frac, kept) = fraction(nanos, digits);
        let expected = DateTime::from_timestamp(secs, kept).unwrap();
        let utc = expected.naive_utc();
        let (local, zone) = match style {
            0 => (utc, "Z".to_string()),
            1 => (utc, "z".to_string()),
            _ => {
                let sign = if offset_min < 0 { '-' } else { '+' };
                let a = offset_min.abs();
                let colon = if style == 2 { ":" } else { "" };
                (utc + Duration::minutes(offset_min), format!("{sign}{:02}{colon}{:02}", a / 60, a % 60))
            }
        };
        // `t` is RFC 3339; `+HHMM` is ISO 8601 basic, which goes with `T` or a space.
        let sep = if style == 3 && sep == "t" { "T" } else { sep };
        let raw = format!("{}{zone}", write_naive(local, sep, &frac));
        for ctx in contexts() {
            let got = time::parse(&raw, ctx);
            prop_assert_eq!(got.map(|p| p.utc), Some(expected), "{:?}", raw);
            let got = got.unwrap();
            prop_assert!(!got.assumed_utc && !got.dst_adjusted, "{:?}", raw);
        }
    }

    #[test]
    fn naive_times_without_zone_are_utc(
        (secs, nanos) in instant(),
        digits in prop_oneof![3 => Just(0u32), 1 => 1u32..=9],
        sep in select(vec![" ", "T"]),
        order in select(vec![DateOrder::MonthFirst, DateOrder::DayFirst]),
    ) {
        let (frac, kept) = fraction(nanos, digits);
        let wall = DateTime::from_timestamp(secs, kept).unwrap().naive_utc();
        let raw = write_naive(wall, sep, &frac);
        let got = time::parse(&raw, TimeContext { tz: None, order });
        prop_assert_eq!(got.map(|p| p.utc.naive_utc()), Some(wall), "{:?}", raw);
        let got = got.unwrap();
        prop_assert!(got.assumed_utc && !got.dst_adjusted, "{:?}", raw);
    }

    #[test]
    fn naive_times_in_a_zone_keep_the_wall_clock(
        secs in 631_152_000i64..4_102_444_800,
        tz in select(ZONES.to_vec()),
    ) {
        let wall = DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
        let raw = write_naive(wall, " ", "");
        let got = time::parse(&raw, TimeContext { tz: Some(tz), order: DateOrder::DayFirst });
        prop_assert!(got.is_some(), "{:?}", raw);
        let got = got.unwrap();
        prop_assert!(!got.assumed_utc);
        let back = got.utc.with_timezone(&tz).naive_local();
        let single = tz.from_local_datetime(&wall).single().is_some();
        prop_assert_eq!(got.dst_adjusted, !single, "{:?} in {}", raw, tz);
        if single {
            prop_assert_eq!(back, wall, "{:?} in {}", raw, tz);
        } else {
            // Ambiguous: the earlier instant (same wall clock); skipped: one hour later.
            prop_assert!(back == wall || back == wall + Duration::hours(1), "{:?} in {} -> {}", raw, tz, back);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 6. Extract: N records in → N records out, each at the line where it starts
// ---------------------------------------------------------------------------------------

/// One generated record: a `name` (any text, JSON- or CSV-escaped as needed), whether a
/// JSON array writes it over several lines, and blank lines before it.
#[derive(Debug, Clone)]
struct Rec {
    name: String,
    pretty: bool,
    blank_before: usize,
}

fn recs(min: usize) -> impl Strategy<Value = Vec<Rec>> {
    let name = prop::collection::vec(
        select(vec![
            "a", "B", "7", " ", ",", ";", "\"", "'", "é", "\n", "\r\n", "\t", "|", "{", "}", "[",
            "\\",
        ]),
        0..8,
    )
    .prop_map(|p| p.concat());
    prop::collection::vec(
        (name, any::<bool>(), 0usize..3).prop_map(|(name, pretty, blank_before)| Rec {
            name,
            pretty,
            blank_before,
        }),
        min..12,
    )
}

fn object(i: usize, r: &Rec) -> Value {
    json!({"id": i, "name": r.name})
}

/// JSON Lines; returns the text and where each record starts.
fn write_jsonl(recs: &[Rec], nl: &str) -> (String, Vec<usize>) {
    let mut text = String::new();
    let mut starts = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        text.push_str(&nl.repeat(r.blank_before));
        starts.push(text.len());
        text.push_str(&object(i, r).to_string());
        text.push_str(nl);
    }
    (text, starts)
}

/// A JSON array with one element per line (or several, when pretty-printed).
fn write_json_array(recs: &[Rec], nl: &str) -> (String, Vec<usize>) {
    let mut text = format!("[{nl}");
    let mut starts = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        text.push_str(&nl.repeat(r.blank_before));
        text.push_str("  ");
        starts.push(text.len());
        let v = object(i, r);
        let s = if r.pretty {
            serde_json::to_string_pretty(&v).unwrap().replace('\n', nl)
        } else {
            v.to_string()
        };
        text.push_str(&s);
        if i + 1 < recs.len() {
            text.push(',');
        }
        text.push_str(nl);
    }
    text.push(']');
    text.push_str(nl);
    (text, starts)
}

/// CSV with a header; names are always quoted, so they may hold the delimiter, quotes and
/// line breaks (a record then spans several physical lines).
fn write_csv(recs: &[Rec], nl: &str) -> (String, Vec<usize>) {
    let mut text = format!("id,name{nl}");
    let mut starts = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        starts.push(text.len());
        text.push_str(&format!("{i},\"{}\"{nl}", r.name.replace('"', "\"\"")));
    }
    (text, starts)
}

fn check_records(
    text: String,
    starts: &[usize],
    format: Format,
    recs: &[Rec],
) -> Result<(), TestCaseError> {
    let expected: Vec<Outcome> = starts.iter().map(|&s| Ok(line_of(&text, s))).collect();
    let f = file(text, format);
    let got = records(&f, place(), never_a_record);
    prop_assert_eq!(outcomes(&got), expected, "{:?}", f.text);
    for (i, (r, rec)) in got.iter().zip(recs).enumerate() {
        let r = r.as_ref().unwrap();
        let (id, name) = (r.fields.get("id"), r.fields.get("name"));
        if format == Format::Csv {
            prop_assert_eq!(id, Some(&Value::String(i.to_string())));
            let want = (!rec.name.trim().is_empty()).then(|| Value::String(rec.name.clone()));
            prop_assert_eq!(name, want.as_ref());
        } else {
            prop_assert_eq!(id, Some(&json!(i)));
            prop_assert_eq!(name, Some(&Value::String(rec.name.clone())));
        }
    }
    Ok(())
}

/// A line that is not JSON: text that cannot start a value, or a record cut short.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            select(vec![
                "x", "a", "Z", "#", "<", "}", "]", ":", ",", "?", "=", "\\", "'", "@", "garbage",
                "ERROR", "<html>", "Lead:",
            ]),
            "[^\n\r]{0,20}",
        )
            .prop_map(|(head, rest)| format!("{head}{rest}")),
        (0u32..1000, "[a-z ]{0,8}", any::<Index>()).prop_map(|(id, name, cut)| {
            let s = json!({"id": id, "name": name}).to_string();
            s[..1 + cut.index(s.len() - 1)].to_string()
        }),
    ]
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn extract_finds_every_record_at_its_line(
        recs in recs(0),
        nl in select(vec!["\n", "\r\n"]),
    ) {
        let (text, starts) = write_json_array(&recs, nl);
        check_records(text, &starts, Format::Json, &recs)?;
        let (text, starts) = write_jsonl(&recs, nl);
        check_records(text.clone(), &starts, Format::Jsonl, &recs)?;
        // A JSON document may also be a stream of objects.
        check_records(text, &starts, Format::Json, &recs)?;
        let (text, starts) = write_csv(&recs, nl);
        check_records(text, &starts, Format::Csv, &recs)?;
    }

    #[test]
    fn extract_jsonl_rejects_one_garbage_line_and_goes_on(
        recs in recs(1),
        bad in any::<Index>(),
        junk in garbage(),
        nl in select(vec!["\n", "\r\n"]),
    ) {
        let (text, starts) = write_jsonl(&recs, nl);
        let k = bad.index(recs.len());
        let len = object(k, &recs[k]).to_string().len();
        let text = format!("{}{junk}{}", &text[..starts[k]], &text[starts[k] + len..]);
        let expected: Vec<Outcome> = starts
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let s = if i > k { s + junk.len() - len } else { s };
                let line = line_of(&text, s);
                if i == k { Err((line, "malformed_json")) } else { Ok(line) }
            })
            .collect();
        let f = file(text, Format::Jsonl);
        let got = records(&f, place(), never_a_record);
        prop_assert_eq!(got.len(), recs.len(), "{:?}", f.text);
        prop_assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1, "{:?}", f.text);
        prop_assert_eq!(outcomes(&got), expected, "{:?}", f.text);
    }
}
