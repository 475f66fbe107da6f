//! Field comparators: how strongly two leads agree on phone, email, first name, last name
//! and place. Each returns a level, best first; `Missing` (either side has nothing) is
//! neither evidence for nor against a match. The scorer attaches a match weight to every
//! level of every comparator; explanations name the levels.

use compact_str::CompactString;
use strsim::{generic_jaro_winkler, osa_distance};
use unicode_normalization::UnicodeNormalization;

use crate::dedupe::nicknames;

vocabulary! {
    /// Phones (any of each lead's two, E.164).
    PhoneLevel {
        /// One side has no valid phone.
        #[default]
        Missing => "missing",
        /// The same number.
        Exact => "exact",
        /// One digit different, or two neighbouring digits swapped.
        OneDigitOff => "one_digit_off",
        /// The same last seven digits (another area or country code).
        SameLast7 => "same_last_7",
        /// Different numbers.
        Different => "different",
    }
}

vocabulary! {
    /// Emails (any of each lead's two, normalized).
    EmailLevel {
        /// One side has no valid email.
        #[default]
        Missing => "missing",
        /// The same address.
        Exact => "exact",
        /// The same mailbox: case, Gmail dots, `+tags`, googlemail.com.
        SameMailbox => "same_mailbox",
        /// The same local part at a misspelt common domain (gmial.com).
        DomainTypo => "domain_typo",
        /// One or two edits apart.
        Edits => "one_or_two_edits",
        /// The same local part at another domain.
        SameLocalPart => "same_local_part",
        /// Different addresses.
        Different => "different",
    }
}

vocabulary! {
    /// First names, folded (case, accents, punctuation).
    FirstNameLevel {
        /// One side has no first name.
        #[default]
        Missing => "missing",
        /// The same name.
        Exact => "exact",
        /// A nickname and its name (Bob, Robert).
        Nickname => "nickname",
        /// Jaro-Winkler ≥ 0.92 (a typo).
        Close => "jaro_winkler_0.92",
        /// First and last names swapped between the two leads.
        Swapped => "swapped",
        /// Jaro-Winkler ≥ 0.80.
        Similar => "jaro_winkler_0.80",
        /// An initial that matches (J., John).
        Initial => "initial",
        /// Different names.
        Different => "different",
    }
}

vocabulary! {
    /// Last names, folded.
    LastNameLevel {
        /// One side has no last name.
        #[default]
        Missing => "missing",
        /// The same name.
        Exact => "exact",
        /// Jaro-Winkler ≥ 0.92, or one name is part of the other (Santos, dos Santos Silva).
        Close => "jaro_winkler_0.92",
        /// Jaro-Winkler ≥ 0.80.
        Similar => "jaro_winkler_0.80",
        /// Different names.
        Different => "different",
    }
}

vocabulary! {
    /// Where the leads live: postcode, else city.
    PlaceLevel {
        /// One side has neither postcode nor city.
        #[default]
        Missing => "missing",
        /// The same postcode.
        SamePostcode => "same_postcode",
        /// The same postcode district (outward code, ZIP3, Portuguese CP4).
        SameDistrict => "same_district",
        /// The same city (postcodes missing on a side).
        SameCity => "same_city",
        /// Different places.
        Different => "different",
    }
}

/// Lower case, no accents, letters and digits only: "O'Neill" → "oneill", "José" → "jose".
pub fn fold(s: &str) -> CompactString {
    // ASCII decomposes to itself: no NFD pass for the common case.
    if s.is_ascii() {
        if s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return s.into();
        }
        // Made in a buffer and copied once: pushing characters one at a time into a
        // CompactString checks its representation on every push.
        let mut buf = [0u8; 64];
        let mut n = 0;
        if s.len() <= buf.len() {
            for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            }
            return std::str::from_utf8(&buf[..n])
                .expect("ASCII bytes are UTF-8")
                .into();
        }
        let folded: String = s
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
        return folded.into();
    }
    s.nfd()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The mailbox an address delivers to: lower case, `+tag` removed, and for Gmail the dots
/// removed and googlemail.com read as gmail.com.
pub fn mailbox(email: &str) -> CompactString {
    // Normalized addresses are lower case already: lowered only when they are not.
    let lower: std::borrow::Cow<str> = if email
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        email.into()
    } else {
        email.to_lowercase().into()
    };
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower.as_ref().into();
    };
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    let mut out = CompactString::with_capacity(local.len() + 1 + domain.len());
    if domain == "gmail.com" {
        out.extend(local.split('.'));
    } else {
        out.push_str(local);
    }
    out.push('@');
    out.push_str(domain);
    out
}

/// Mail providers whose misspellings are common enough to be a level of their own.
const PROVIDERS: [&str; 16] = [
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "live.com",
    "msn.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "btinternet.com",
    "sapo.pt",
    "outlook.pt",
    "gmx.com",
    "comcast.net",
    "protonmail.com",
];

fn domain_typo(a: &str, b: &str) -> bool {
    a != b && osa_distance(a, b) <= 2 && (PROVIDERS.contains(&a) || PROVIDERS.contains(&b))
}

/// The best (lowest) level over every pair of non-blank values; `missing` when a side has none.
fn best_over_pairs<L: Copy + Ord, S: AsRef<str>>(
    a: &[S],
    b: &[S],
    missing: L,
    pair: impl Fn(&str, &str) -> L,
) -> L {
    a.iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty())
        .flat_map(|x| {
            b.iter()
                .map(AsRef::as_ref)
                .filter(|s| !s.is_empty())
                .map(move |y| (x, y))
        })
        .map(|(x, y)| pair(x, y))
        .min()
        .unwrap_or(missing)
}

/// The best level over every pair of the two leads' phones.
pub fn phones<S: AsRef<str>>(a: &[S], b: &[S]) -> PhoneLevel {
    best_over_pairs(a, b, PhoneLevel::Missing, phone_pair)
}

/// Whether two different numbers of one length differ in one digit or in two neighbouring
/// digits swapped (optimal string alignment distance 1 between equal lengths), in one pass.
fn one_digit_off(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return false;
    };
    let substituted = a[i + 1..] == b[i + 1..];
    let swapped =
        i + 1 < a.len() && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..];
    substituted || swapped
}

fn phone_pair(a: &str, b: &str) -> PhoneLevel {
    if a == b {
        return PhoneLevel::Exact;
    }
    if one_digit_off(a.as_bytes(), b.as_bytes()) {
        return PhoneLevel::OneDigitOff;
    }
    let last7 = |s: &str| s.len() >= 7 && s.is_char_boundary(s.len() - 7);
    if last7(a) && last7(b) && a[a.len() - 7..] == b[b.len() - 7..] {
        return PhoneLevel::SameLast7;
    }
    PhoneLevel::Different
}

/// An email prepared once per record, so comparing pairs allocates nothing.
///
/// Only the mailbox's text is kept (and the address's, when it is not its own mailbox):
/// the local part, the local part without dots and the mailbox without digits are
/// compared by their hashes, and, when the hashes agree, by their bytes read from the
/// mailbox. A record holds one for each of its emails, and a run holds a million
/// records: 128 bytes each instead of 208 with those three texts kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreparedEmail {
    /// Its mailbox (see [`mailbox`]).
    mailbox: Fingerprinted,
    /// The address as normalized, when it is not its own mailbox ("" when it is).
    other_address: CompactString,
    /// The hash of the address (see [`Fingerprinted`]).
    address_hash: u64,
    /// The hashes of the mailbox's local part, of it without dots and of the mailbox
    /// without ASCII digits.
    local_hash: u64,
    nodots_hash: u64,
    letters_hash: u64,
    /// Where the mailbox's domain starts ('@' index, or the length when there is none).
    at: u32,
    /// How many bytes of the mailbox fall in each of 32 buckets: two edits change at most
    /// four counts, so most pairs are told apart without an edit distance.
    histogram: [u8; 32],
    /// Whether the mailbox is ASCII (bytes are characters: the histogram applies).
    ascii: bool,
}

/// Text with its hash: most compared values differ, and differing hashes say so without
/// comparing the bytes. The text is inline up to 24 bytes (most names and mailboxes'
/// parts), so a prepared record holds few heap strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprinted {
    hash: u64,
    text: CompactString,
}

impl Fingerprinted {
    fn new(text: CompactString) -> Fingerprinted {
        Fingerprinted {
            hash: hash_of(&text),
            text,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn same(&self, other: &Fingerprinted) -> bool {
        self.hash == other.hash && self.text == other.text
    }
}

/// The hash [`Fingerprinted`] keeps of `text`.
fn hash_of(text: &str) -> u64 {
    use std::hash::BuildHasher;
    // Only equality reads the hash: any well-spread hash does, and foldhash is fast.
    foldhash::fast::FixedState::with_seed(0x6d61_696c).hash_one(text)
}

/// `text`'s bytes but the ASCII ones `drop` picks (removing ASCII bytes leaves valid
/// UTF-8, see [`without`]).
fn kept_bytes(text: &str, drop: fn(u8) -> bool) -> impl Iterator<Item = u8> + '_ {
    text.bytes().filter(move |&b| !(b.is_ascii() && drop(b)))
}

/// `text` without the ASCII bytes `drop` picks, or `None` when it has none of them.
/// Removing ASCII bytes leaves valid UTF-8: every byte of a longer character is 0x80 or
/// more.
fn without(text: &str, drop: impl Fn(u8) -> bool) -> Option<CompactString> {
    let first = text.bytes().position(|b| b.is_ascii() && drop(b))?;
    let mut out = CompactString::with_capacity(text.len() - 1);
    out.push_str(&text[..first]);
    // The kept runs between dropped bytes, each pushed whole.
    for run in text[first..].split(|c: char| c.is_ascii() && drop(c as u8)) {
        out.push_str(run);
    }
    Some(out)
}

impl PreparedEmail {
    /// Prepares an address.
    pub fn new(address: &str) -> PreparedEmail {
        let mailbox = mailbox(address);
        let at = mailbox.rfind('@').unwrap_or(mailbox.len());
        let mut histogram = [0u8; 32];
        for b in mailbox.bytes() {
            let slot = &mut histogram[(b % 32) as usize];
            *slot = slot.saturating_add(1);
        }
        let local = &mailbox[..at];
        // Most local parts have no dot and most mailboxes no digit: their hashes are those
        // of the text at hand.
        let nodots_hash =
            without(local, |b| b == b'.').map_or_else(|| hash_of(local), |t| hash_of(&t));
        let letters_hash = without(&mailbox, |b| b.is_ascii_digit())
            .map_or_else(|| hash_of(&mailbox), |t| hash_of(&t));
        let local_hash = hash_of(local);
        let mailbox = Fingerprinted::new(mailbox);
        // Most addresses are their own mailbox: not kept twice.
        let (other_address, address_hash) = if address == mailbox.as_str() {
            (CompactString::default(), mailbox.hash)
        } else {
            (address.into(), hash_of(address))
        };
        PreparedEmail {
            ascii: mailbox.as_str().is_ascii(),
            other_address,
            address_hash,
            local_hash,
            nodots_hash,
            letters_hash,
            at: u32::try_from(at).expect("an email under 4 GB"),
            histogram,
            mailbox,
        }
    }

    /// The address as normalized.
    pub fn address(&self) -> &str {
        if self.other_address.is_empty() {
            self.mailbox.as_str()
        } else {
            &self.other_address
        }
    }

    /// The mailbox (see [`mailbox`]).
    pub fn mailbox(&self) -> &str {
        self.mailbox.as_str()
    }

    /// The mailbox's local part.
    fn local(&self) -> &str {
        &self.mailbox.text[..self.at as usize]
    }

    fn same_address(&self, other: &PreparedEmail) -> bool {
        self.address_hash == other.address_hash && self.address() == other.address()
    }

    fn same_local(&self, other: &PreparedEmail) -> bool {
        self.local_hash == other.local_hash && self.local() == other.local()
    }

    fn same_local_nodots(&self, other: &PreparedEmail) -> bool {
        let dot = |b| b == b'.';
        self.nodots_hash == other.nodots_hash
            && kept_bytes(self.local(), dot).eq(kept_bytes(other.local(), dot))
    }

    fn same_letters(&self, other: &PreparedEmail) -> bool {
        let digit = |b: u8| b.is_ascii_digit();
        self.letters_hash == other.letters_hash
            && kept_bytes(self.mailbox(), digit).eq(kept_bytes(other.mailbox(), digit))
    }

    /// Whether the two mailboxes are at most two edits apart.
    fn within_two_edits(&self, other: &PreparedEmail) -> bool {
        let (a, b) = (self.mailbox.as_str(), other.mailbox.as_str());
        if !self.ascii || !other.ascii {
            return osa_distance(a, b) <= 2;
        }
        if a.len().abs_diff(b.len()) > 2 {
            return false;
        }
        let changed: u32 = self
            .histogram
            .iter()
            .zip(&other.histogram)
            .map(|(x, y)| u32::from(x.abs_diff(*y)))
            .sum();
        changed <= 4 && osa_distance(a, b) <= 2
    }

    fn domain(&self) -> &str {
        self.mailbox.text.get(self.at as usize + 1..).unwrap_or("")
    }
}

/// The best level over every pair of the two leads' emails.
pub fn emails(a: &[&str], b: &[&str]) -> EmailLevel {
    let prep = |v: &[&str]| -> Vec<PreparedEmail> {
        v.iter()
            .filter(|s| !s.is_empty())
            .map(|s| PreparedEmail::new(s))
            .collect()
    };
    prepared_emails(&prep(a), &prep(b))
}

/// [`emails`] on prepared addresses.
pub fn prepared_emails(a: &[PreparedEmail], b: &[PreparedEmail]) -> EmailLevel {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| email_pair(x, y)))
        .min()
        .unwrap_or(EmailLevel::Missing)
}

fn email_pair(a: &PreparedEmail, b: &PreparedEmail) -> EmailLevel {
    if a.same_address(b) {
        return EmailLevel::Exact;
    }
    if a.mailbox.same(&b.mailbox) {
        return EmailLevel::SameMailbox;
    }
    // Dots are ignored here: a misspelt gmail.com loses the Gmail dot rule.
    if a.same_local_nodots(b) && domain_typo(a.domain(), b.domain()) {
        return EmailLevel::DomainTypo;
    }
    // Addresses that differ only in their digits are other accounts (ann.lee12, ann.lee85).
    if !a.same_letters(b) && a.within_two_edits(b) {
        return EmailLevel::Edits;
    }
    if a.same_local(b) {
        return EmailLevel::SameLocalPart;
    }
    EmailLevel::Different
}

/// Whether an email's local part is made of the name alone (ann.lee, annlee, alee,
/// lee.ann, ann_lee85: digits and punctuation aside). Two people of one name, or of two
/// close names, pick such addresses: agreement between them says no more than the names.
pub fn local_is_name(email: &str, first: &str, last: &str) -> bool {
    // Made once per record (a million times in a big run): the forms are compared as
    // letter sequences, without building them.
    let Some((local, _)) = email.rsplit_once('@') else {
        return false;
    };
    if local.is_ascii() && first.is_ascii() && last.is_ascii() {
        // Most addresses and names: their letters are bytes, read without decoding
        // characters or looking each up in Unicode's table of letters.
        fn letters(s: &str) -> impl Iterator<Item = u8> + Clone + '_ {
            s.bytes().filter(u8::is_ascii_alphabetic)
        }
        return local_is_form(letters(local), letters(first), letters(last));
    }
    fn letters(s: &str) -> impl Iterator<Item = char> + Clone + '_ {
        s.chars().filter(|c| c.is_alphabetic())
    }
    local_is_form(letters(local), letters(first), letters(last))
}

/// Whether the letters of an email's local part are those of a form of the name: first
/// and last (either order), an initial and the other, or one of them alone.
fn local_is_form<T: PartialEq, I: Iterator<Item = T> + Clone>(local: I, f: I, l: I) -> bool {
    if local.clone().next().is_none() || (f.clone().next().is_none() && l.clone().next().is_none())
    {
        return false;
    }
    // The local part has letters, so a form equal to it is not empty.
    let (f_head, l_head) = (f.clone().take(1), l.clone().take(1));
    local.clone().eq(f.clone().chain(l.clone()))
        || local.clone().eq(l.clone().chain(f.clone()))
        || local.clone().eq(f_head.chain(l.clone()))
        || local.clone().eq(f.clone().chain(l_head))
        || local.clone().eq(f)
        || local.eq(l)
}

fn is_initial(a: &str, b: &str) -> bool {
    let one = |s: &str| s.chars().count() == 1;
    (one(a) || one(b)) && a.chars().next() == b.chars().next()
}

/// First and last name levels of two leads (names as written; folded here).
pub fn names(
    a_first: &str,
    a_last: &str,
    b_first: &str,
    b_last: &str,
) -> (FirstNameLevel, LastNameLevel) {
    names_folded(&fold(a_first), &fold(a_last), &fold(b_first), &fold(b_last))
}

/// Jaro-Winkler similarity of two names, remembered. The names a block pairs recur (one
/// surname block meets the same few first names over and over, across millions of
/// pairs), and a similarity costs far more than finding it again: each thread keeps the
/// last figures it computed in a small table indexed by a hash of both names, and checks
/// the names themselves before it takes one.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    use std::hash::BuildHasher;
    const SLOTS: usize = 8192;
    type Seen = Vec<Option<(CompactString, CompactString, f64)>>;
    thread_local! {
        static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::new(vec![None; SLOTS]);
    }
    let slot = foldhash::fast::FixedState::with_seed(0x6a77).hash_one((a, b)) as usize % SLOTS;
    SEEN.with_borrow_mut(|seen| match &seen[slot] {
        Some((x, y, similarity)) if x == a && y == b => *similarity,
        _ => {
            let similarity = jaro_winkler_uncached(a, b);
            seen[slot] = Some((a.into(), b.into(), similarity));
            similarity
        }
    })
}

/// [`jaro_winkler`] computed. Folded names are mostly ASCII, where bytes are characters:
/// comparing bytes gives the same figure without decoding UTF-8 at every step of the
/// search.
fn jaro_winkler_uncached(a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        generic_jaro_winkler(&Bytes(a.as_bytes()), &Bytes(b.as_bytes()))
    } else {
        strsim::jaro_winkler(a, b)
    }
}

/// Bytes as strsim's generic functions take them (iterated by reference).
struct Bytes<'s>(&'s [u8]);

impl<'s> IntoIterator for &Bytes<'s> {
    type Item = u8;
    type IntoIter = std::iter::Copied<std::slice::Iter<'s, u8>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

/// [`names`] on names already folded.
pub fn names_folded(af: &str, al: &str, bf: &str, bl: &str) -> (FirstNameLevel, LastNameLevel) {
    let first = first_name(af, bf);
    let last = last_name(al, bl);
    let straight_agrees = matches!(
        first,
        FirstNameLevel::Exact | FirstNameLevel::Nickname | FirstNameLevel::Close
    );
    if !straight_agrees && !af.is_empty() && !al.is_empty() && af == bl && al == bf {
        return (FirstNameLevel::Swapped, LastNameLevel::Exact);
    }
    (first, last)
}

fn first_name(a: &str, b: &str) -> FirstNameLevel {
    if a.is_empty() || b.is_empty() {
        return FirstNameLevel::Missing;
    }
    if a == b {
        return FirstNameLevel::Exact;
    }
    if nicknames::same_person(a, b) {
        return FirstNameLevel::Nickname;
    }
    if is_initial(a, b) {
        return FirstNameLevel::Initial;
    }
    let jw = jaro_winkler(a, b);
    if jw >= 0.92 {
        FirstNameLevel::Close
    } else if jw >= 0.80 {
        FirstNameLevel::Similar
    } else {
        FirstNameLevel::Different
    }
}

fn last_name(a: &str, b: &str) -> LastNameLevel {
    if a.is_empty() || b.is_empty() {
        return LastNameLevel::Missing;
    }
    if a == b {
        return LastNameLevel::Exact;
    }
    let jw = jaro_winkler(a, b);
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if jw >= 0.92 || (short.len() >= 4 && long.contains(short)) {
        LastNameLevel::Close
    } else if jw >= 0.80 {
        LastNameLevel::Similar
    } else {
        LastNameLevel::Different
    }
}

/// The part of a postcode that names a district: the UK outward code, a US ZIP's first
/// three digits, a Portuguese code's first four.
fn district(code: &str) -> &str {
    if let Some((outward, _)) = code.split_once(' ') {
        return outward;
    }
    if let Some((cp4, _)) = code.split_once('-') {
        return cp4;
    }
    if code.chars().all(|c| c.is_ascii_digit()) && code.len() >= 5 {
        return &code[..3];
    }
    code
}

/// A record's place prepared once: postcode upper-cased and trimmed, the same without
/// spaces, city folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreparedPlace {
    postcode: CompactString,
    compact: CompactString,
    city: CompactString,
}

impl PreparedPlace {
    /// Prepares a postcode and city as written.
    pub fn new(postcode: &str, city: &str) -> PreparedPlace {
        let postcode = postcode.trim().to_uppercase();
        PreparedPlace {
            compact: postcode.chars().filter(|&c| c != ' ').collect(),
            postcode: postcode.into(),
            city: fold(city),
        }
    }
}

/// Place level from postcodes and cities (as written).
pub fn place(a_postcode: &str, a_city: &str, b_postcode: &str, b_city: &str) -> PlaceLevel {
    prepared_place(
        &PreparedPlace::new(a_postcode, a_city),
        &PreparedPlace::new(b_postcode, b_city),
    )
}

/// [`place`] on prepared places.
pub fn prepared_place(a: &PreparedPlace, b: &PreparedPlace) -> PlaceLevel {
    if !a.postcode.is_empty() && !b.postcode.is_empty() {
        if a.compact == b.compact {
            return PlaceLevel::SamePostcode;
        }
        if district(&a.postcode) == district(&b.postcode) {
            return PlaceLevel::SameDistrict;
        }
        return PlaceLevel::Different;
    }
    match (a.city.is_empty(), b.city.is_empty()) {
        (false, false) if a.city == b.city => PlaceLevel::SameCity,
        (false, false) => PlaceLevel::Different,
        _ => PlaceLevel::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_on_bytes_is_strsims_on_ascii() {
        // Twice over the same pairs: the second round mostly finds them remembered, and
        // 20,000 pairs over the table's slots make every slot change hands many times.
        for _round in 0..2 {
            jaro_winkler_rounds();
        }
    }

    fn jaro_winkler_rounds() {
        let mut rng = fastrand::Rng::with_seed(7);
        let word = |rng: &mut fastrand::Rng| -> String {
            let n = rng.usize(0..12);
            (0..n).map(|_| char::from(b'a' + rng.u8(0..6))).collect()
        };
        for _ in 0..20_000 {
            let (a, b) = (word(&mut rng), word(&mut rng));
            assert_eq!(
                jaro_winkler(&a, &b).to_bits(),
                strsim::jaro_winkler(&a, &b).to_bits(),
                "{a} {b}"
            );
        }
        assert_eq!(
            jaro_winkler("zoë", "zoe"),
            strsim::jaro_winkler("zoë", "zoe")
        );
    }

    #[test]
    fn phone_levels() {
        assert_eq!(
            phones(&["+13125550142"], &["+13125550142"]),
            PhoneLevel::Exact
        );
        assert_eq!(
            phones(&["+13125550142"], &["+13125550143"]),
            PhoneLevel::OneDigitOff
        );
        assert_eq!(
            phones(&["+13125550142"], &["+13125550124"]),
            PhoneLevel::OneDigitOff
        );
        assert_eq!(
            phones(&["+13125550142"], &["+14155550142"]),
            PhoneLevel::SameLast7
        );
        assert_eq!(
            phones(&["+13125550142"], &["+14155559999"]),
            PhoneLevel::Different
        );
        assert_eq!(phones(&[], &["+14155559999"]), PhoneLevel::Missing);
        assert_eq!(phones(&["", "+1"], &[""]), PhoneLevel::Missing);
        // The best pair wins: a shared second phone.
        assert_eq!(
            phones(&["+13125550100", "+442079460958"], &["+442079460958"]),
            PhoneLevel::Exact
        );
    }

    #[test]
    fn email_levels() {
        let e = |a: &str, b: &str| emails(&[a], &[b]);
        assert_eq!(e("ann@x.com", "ann@x.com"), EmailLevel::Exact);
        assert_eq!(
            e("a.n.n@gmail.com", "ann@googlemail.com"),
            EmailLevel::SameMailbox
        );
        assert_eq!(e("ann+leads@x.com", "ann@x.com"), EmailLevel::SameMailbox);
        assert_eq!(
            e("ann.lee@gmial.com", "ann.lee@gmail.com"),
            EmailLevel::DomainTypo
        );
        assert_eq!(e("ann.lee@x.com", "ann.le@x.com"), EmailLevel::Edits);
        assert_eq!(
            e("ann.lee@x.com", "ann.lee@y.org"),
            EmailLevel::SameLocalPart
        );
        assert_eq!(e("ann@x.com", "bob@y.org"), EmailLevel::Different);
        assert_eq!(
            e("mnguyen43@aol.com", "mnguyen17@aol.com"),
            EmailLevel::Different
        );
        assert_eq!(emails(&[], &["bob@y.org"]), EmailLevel::Missing);
        // a.n.n is not ann outside Gmail.
        assert_ne!(e("a.n.n@x.com", "ann@x.com"), EmailLevel::SameMailbox);
    }

    #[test]
    fn name_levels() {
        use FirstNameLevel as F;
        use LastNameLevel as L;
        assert_eq!(
            names("John", "O'Neill", "JOHN", "oneill"),
            (F::Exact, L::Exact)
        );
        assert_eq!(names("José", "Peña", "Jose", "Pena"), (F::Exact, L::Exact));
        assert_eq!(
            names("Bob", "Smith", "Robert", "Smith"),
            (F::Nickname, L::Exact)
        );
        assert_eq!(names("Jonathon", "Smith", "Jonathan", "Smyth").0, F::Close);
        assert_eq!(names("J.", "Smith", "John", "Smith").0, F::Initial);
        assert_eq!(
            names("Smith", "John", "John", "Smith"),
            (F::Swapped, L::Exact)
        );
        assert_eq!(names("Ann", "Santos", "Ann", "dos Santos").1, L::Close);
        assert_eq!(
            names("Ann", "Lee", "Mary", "Kim"),
            (F::Different, L::Different)
        );
        assert_eq!(names("", "Lee", "Mary", "Lee"), (F::Missing, L::Exact));
    }

    #[test]
    fn place_levels() {
        assert_eq!(
            place("SW1A 1AA", "", "sw1a1aa", "London"),
            PlaceLevel::SamePostcode
        );
        assert_eq!(
            place("SW1A 1AA", "", "SW1A 2BB", ""),
            PlaceLevel::SameDistrict
        );
        assert_eq!(
            place("1100-123", "", "1100-999", ""),
            PlaceLevel::SameDistrict
        );
        assert_eq!(place("60611", "", "60614", ""), PlaceLevel::SameDistrict);
        assert_eq!(place("60611", "", "98101", ""), PlaceLevel::Different);
        assert_eq!(place("", "Lisboa", "", "LISBOA"), PlaceLevel::SameCity);
        assert_eq!(place("", "", "", "Porto"), PlaceLevel::Missing);
    }

    #[test]
    fn level_tables_start_with_missing() {
        assert_eq!(PhoneLevel::ALL[0], PhoneLevel::Missing);
        assert_eq!(EmailLevel::ALL[0], EmailLevel::Missing);
        assert_eq!(FirstNameLevel::ALL[0], FirstNameLevel::Missing);
        assert_eq!(LastNameLevel::ALL[0], LastNameLevel::Missing);
        assert_eq!(PlaceLevel::ALL[0], PlaceLevel::Missing);
        assert_eq!(EmailLevel::Different.index(), EmailLevel::ALL.len() - 1);
    }

    /// `mailbox` as first written: the reference for the one that lowers and copies only
    /// what it must.
    fn mailbox_by_format(email: &str) -> String {
        let lower = email.to_lowercase();
        let Some((local, domain)) = lower.rsplit_once('@') else {
            return lower;
        };
        let local = local.split('+').next().unwrap_or(local);
        let domain = if domain == "googlemail.com" {
            "gmail.com"
        } else {
            domain
        };
        if domain == "gmail.com" {
            format!("{}@{domain}", local.replace('.', ""))
        } else {
            format!("{local}@{domain}")
        }
    }

    /// `local_is_name` as first written, building each form: the reference for the
    /// allocation-free one.
    fn local_is_name_by_forms(email: &str, first: &str, last: &str) -> bool {
        let letters = |s: &str| -> String { s.chars().filter(|c| c.is_alphabetic()).collect() };
        let Some((local, _)) = email.rsplit_once('@') else {
            return false;
        };
        let (f, l) = (letters(first), letters(last));
        let local = letters(local);
        if local.is_empty() || (f.is_empty() && l.is_empty()) {
            return false;
        }
        let head = |s: &str| s.chars().take(1).collect::<String>();
        [
            format!("{f}{l}"),
            format!("{l}{f}"),
            format!("{}{l}", head(&f)),
            format!("{f}{}", head(&l)),
            f.clone(),
            l.clone(),
        ]
        .iter()
        .any(|form| !form.is_empty() && *form == local)
    }

    proptest::proptest! {
        #[test]
        fn local_is_name_answers_as_building_the_forms(
            local in "[a-zé1_.]{0,9}",
            first in "[a-zé1]{0,4}",
            last in "[a-zé1]{0,4}",
            at in proptest::bool::ANY,
        ) {
            // Locals made of the names, often, not only random ones.
            for local in [local.clone(), format!("{first}{last}"), format!("{last}.{first}1"), format!("{}{last}", first.chars().take(1).collect::<String>())] {
                let email = if at { format!("{local}@x.com") } else { local.clone() };
                proptest::prop_assert_eq!(
                    local_is_name(&email, &first, &last),
                    local_is_name_by_forms(&email, &first, &last),
                    "{} {} {}", email, first, last
                );
            }
        }

        #[test]
        fn mailboxes_are_the_formatted_ones(
            local in "[a-zA-Z.+É1]{0,10}",
            domain in "(gmail\\.com|GMail\\.com|googlemail\\.com|x\\.pt|Ünï\\.de|@y\\.com|)",
            at in proptest::bool::ANY,
        ) {
            let email = if at { format!("{local}@{domain}") } else { format!("{local}{domain}") };
            let (ours, reference) = (mailbox(&email), mailbox_by_format(&email));
            proptest::prop_assert_eq!(ours.as_str(), reference.as_str());
        }

        #[test]
        fn prepared_emails_hold_the_forms_made_from_the_mailbox(
            local in "[a-zA-Z.+é1-9]{0,12}",
            domain in "(gmail\\.com|x\\.pt|ÿ9\\.de|)",
            at in proptest::bool::ANY,
        ) {
            let email = if at { format!("{local}@{domain}") } else { format!("{local}{domain}") };
            let p = PreparedEmail::new(&email);
            let m = mailbox(&email);
            let at = m.rfind('@').unwrap_or(m.len());
            let nodots: String = m[..at].chars().filter(|&c| c != '.').collect();
            let letters: String = m.chars().filter(|c| !c.is_ascii_digit()).collect();
            proptest::prop_assert_eq!(p.address(), email.as_str());
            proptest::prop_assert_eq!(p.mailbox(), m.as_str());
            proptest::prop_assert_eq!(p.local(), &m[..at]);
            proptest::prop_assert_eq!(p.ascii, m.is_ascii());
            // The hashes are those of the texts they stand for, and the bytes compared
            // with them are the texts'.
            let kept = |t: &str, drop: fn(u8) -> bool| String::from_utf8(kept_bytes(t, drop).collect()).unwrap();
            proptest::prop_assert_eq!(kept(p.local(), |b| b == b'.'), nodots.as_str());
            proptest::prop_assert_eq!(kept(p.mailbox(), |b| b.is_ascii_digit()), letters.as_str());
            let hashes = [p.address_hash, p.mailbox.hash, p.local_hash, p.nodots_hash, p.letters_hash];
            let texts = [email.as_str(), m.as_str(), &m[..at], nodots.as_str(), letters.as_str()];
            proptest::prop_assert_eq!(hashes, texts.map(hash_of));
            proptest::prop_assert!(p.mailbox.same(&Fingerprinted::new(m.clone())));
            // Each comparison says of the email and a copy made anew what the texts say.
            let q = PreparedEmail::new(&email);
            proptest::prop_assert!(p.same_address(&q) && p.same_local(&q));
            proptest::prop_assert!(p.same_local_nodots(&q) && p.same_letters(&q));
        }

        #[test]
        fn folding_ascii_answers_as_folding_any_text(s in "[ -~]{0,12}|[ -~]{60,70}", t in "\\PC{0,6}") {
            let reference = |s: &str| -> CompactString {
                s.nfd().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
            };
            proptest::prop_assert_eq!(fold(&s), reference(&s));
            proptest::prop_assert_eq!(fold(&t), reference(&t));
        }
    }

    #[test]
    fn folding() {
        assert_eq!(fold("O'Neill-Smith"), "oneillsmith");
        assert_eq!(fold("Gonçalves"), "goncalves");
        assert_eq!(mailbox("J.Doe+x@GMail.com"), "jdoe@gmail.com");
    }
}
