//! The canonical lead: the one record type every stage passes to the next.
//!
//! Vendor adapters fill a [`Lead`]'s provenance, its vendor-mapped fields and its
//! [`RawContact`] (names, emails, phones and timestamps exactly as the source wrote them).
//! The normalize stage turns the raw contact into the canonical contact fields (E.164
//! phones, clean emails, repaired names, UTC timestamps) and sets [`Quality`] flags.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

/// The lead systems leadrecon reads. A closed set: adding one means adding a vendor module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// PeakIDX IDX websites (US).
    Peakidx,
    /// Lead.Pro lead management (UK).
    Leadpro,
    /// Real Geeks IDX + Lead Manager CRM (US).
    Realgeeks,
    /// Epixel "Leads & CRM".
    Epixel,
    /// Maxwork (Portugal).
    Maxwork,
    /// Any CSV with a column mapping.
    Csv,
}

impl System {
    /// Every system, in display order.
    pub const ALL: [System; 6] = [
        System::Peakidx,
        System::Leadpro,
        System::Realgeeks,
        System::Epixel,
        System::Maxwork,
        System::Csv,
    ];

    /// The name used in pipeline files, lead keys and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            System::Peakidx => "peakidx",
            System::Leadpro => "leadpro",
            System::Realgeeks => "realgeeks",
            System::Epixel => "epixel",
            System::Maxwork => "maxwork",
            System::Csv => "csv",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

vocabulary! {
    /// What the lead wants to do: one vocabulary for every system's lead type or role.
    Kind {
        /// Wants to buy.
        Buyer => "buyer",
        /// Wants to sell (including valuation requests).
        Seller => "seller",
        /// Buying and selling.
        BuyerAndSeller => "buyer_and_seller",
        /// Wants to rent a home.
        Renter => "renter",
        /// Wants to let out a property.
        Landlord => "landlord",
        /// Wants a mortgage.
        Mortgage => "mortgage",
        /// The source does not say, or says something we cannot map.
        #[default]
        Unknown => "unknown",
    }
}

vocabulary! {
    /// Where the lead stands: one vocabulary for every system's lead status.
    Status {
        /// Not yet worked.
        New => "new",
        /// Reached at least once.
        Contacted => "contacted",
        /// Being worked actively.
        Active => "active",
        /// Long-term follow-up.
        Nurture => "nurture",
        /// Transaction done.
        Closed => "closed",
        /// Put away, no longer worked.
        Archived => "archived",
        /// Lost, cancelled or bogus.
        Dead => "dead",
        /// The source does not say, or says something we cannot map.
        #[default]
        Unknown => "unknown",
    }
}

impl Kind {
    /// Our own words (and common synonyms) for a kind, as a generic CSV column would carry
    /// them. Vendor vocabularies are mapped in each vendor's module, not here.
    pub fn from_common(word: &str) -> Option<Kind> {
        let w = word.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match w.as_str() {
            "buyer" | "buy" | "buying" | "purchaser" => Kind::Buyer,
            "seller" | "sell" | "selling" | "vendor" => Kind::Seller,
            "buyer_and_seller" | "buyer_seller" | "both" | "buy_and_sell" => Kind::BuyerAndSeller,
            "renter" | "rent" | "renting" | "tenant" => Kind::Renter,
            "landlord" => Kind::Landlord,
            "mortgage" | "mortgage_request" | "lender" => Kind::Mortgage,
            "unknown" => Kind::Unknown,
            _ => return None,
        })
    }
}

impl Status {
    /// Our own words (and common synonyms) for a status, as a generic CSV column would carry
    /// them. Vendor vocabularies are mapped in each vendor's module, not here.
    pub fn from_common(word: &str) -> Option<Status> {
        let w = word.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match w.as_str() {
            "new" | "open" | "fresh" | "not_contacted" => Status::New,
            "contacted" | "attempted" | "reached" => Status::Contacted,
            "active" | "working" | "in_progress" | "qualified" => Status::Active,
            "nurture" | "nurturing" | "follow_up" | "long_term" => Status::Nurture,
            "closed" | "won" | "converted" | "sold" => Status::Closed,
            "archived" | "archive" | "inactive" => Status::Archived,
            "dead" | "lost" | "cancelled" | "canceled" | "junk" | "spam" => Status::Dead,
            "unknown" => Status::Unknown,
            _ => return None,
        })
    }
}

vocabulary! {
    /// What the phone-number library says the primary phone is.
    PhoneKind {
        /// A mobile number.
        Mobile => "mobile",
        /// A landline.
        Landline => "landline",
        /// The numbering plan cannot tell (all US numbers).
        FixedOrMobile => "fixed_or_mobile",
        /// Toll-free, premium, VoIP, pager or another special range.
        Other => "other",
        /// No valid phone.
        #[default]
        None => "none",
    }
}

macro_rules! quality_flags {
    ($($(#[$meta:meta])* $name:ident = $bit:expr => $text:literal),+ $(,)?) => {
        /// Data-quality flags on a lead: problems that do not make it a reject.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, serde::Serialize, serde::Deserialize)]
        pub struct Quality(u32);

        impl Quality {
            $($(#[$meta])* pub const $name: Quality = Quality(1 << $bit);)+

            /// Every flag with its output name, in output order.
            pub const NAMES: &'static [(Quality, &'static str)] = &[$((Quality::$name, $text)),+];
        }
    };
}

quality_flags! {
    /// The primary email is not a valid address (its text stays in `email_raw`).
    INVALID_EMAIL = 0 => "invalid_email",
    /// The second email is not a valid address (its text stays in `email2_raw`).
    INVALID_EMAIL2 = 1 => "invalid_email2",
    /// The primary phone is not a valid number for the source's region (`phone_raw` keeps it).
    INVALID_PHONE = 2 => "invalid_phone",
    /// The second phone is not a valid number (`phone2_raw` keeps it).
    INVALID_PHONE2 = 3 => "invalid_phone2",
    /// A phone was valid only when read as international (country code without `+`).
    PHONE_COUNTRY_INFERRED = 4 => "phone_country_inferred",
    /// The record names no agent and the source sets none.
    NO_AGENT = 5 => "no_agent",
    /// The agent is not in the roster; `agent_id` keeps `system:alias`.
    UNKNOWN_AGENT = 6 => "unknown_agent",
    /// The vendor's lead type could not be mapped (`kind_raw` keeps it).
    UNKNOWN_KIND = 7 => "unknown_kind",
    /// The vendor's status could not be mapped (`status_raw` keeps it).
    UNKNOWN_STATUS = 8 => "unknown_status",
    /// The creation time could not be read (its text stays in `custom.created_at_raw`).
    INVALID_CREATED_AT = 9 => "invalid_created_at",
    /// The update time could not be read (its text stays in `custom.updated_at_raw`).
    INVALID_UPDATED_AT = 10 => "invalid_updated_at",
    /// A local time fell in a daylight-saving change (ambiguous or skipped hour).
    DST_ADJUSTED_TIME = 11 => "dst_adjusted_time",
    /// A timestamp had no zone and the source sets no timezone: read as UTC.
    ASSUMED_UTC = 12 => "assumed_utc",
    /// First and last names were split from a full name.
    NAME_SPLIT = 13 => "name_split",
    /// More emails or phones than the lead has columns for (the rest are in `custom`).
    EXTRA_CONTACTS = 14 => "extra_contacts",
    /// The lead's history starts with an update: its creation is not in the input.
    PARTIAL_HISTORY = 15 => "partial_history",
    /// No name at all.
    NO_NAME = 16 => "no_name",
}

impl Quality {
    /// No flags.
    pub const EMPTY: Quality = Quality(0);

    /// The union of two flag sets, usable in constants.
    pub const fn bitor_const(self, other: Quality) -> Quality {
        Quality(self.0 | other.0)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits (unknown bits are dropped).
    pub const fn from_bits(bits: u32) -> Quality {
        Quality(bits & ((1 << 17) - 1))
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Quality) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: Quality) {
        self.0 &= !other.0;
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Quality) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set flags' names, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Quality::NAMES
            .iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
    }
}

impl std::ops::BitOr for Quality {
    type Output = Quality;
    fn bitor(self, rhs: Quality) -> Quality {
        Quality(self.0 | rhs.0)
    }
}

/// Where a lead came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceRef {
    /// Index of the `[[sources]]` entry in the pipeline file.
    pub source_index: usize,
    /// The file, as a path relative to the pipeline file's folder.
    pub file: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// The record's own id in its system, if it has one.
    pub source_id: Option<String>,
}

/// Contact data exactly as the source wrote it; the normalize stage reads this, and keeps
/// only the emails and phones (for the `*_raw` columns): it drops the names and times.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RawContact {
    /// Emails in the source's order (primary first); a field may hold several.
    pub emails: Vec<CompactString>,
    /// Phones in the source's order (primary first); a field may hold several.
    pub phones: Vec<CompactString>,
    /// Names and times as written, until the normalize stage has read them (`None`
    /// after). Boxed: a normalized lead would otherwise carry five empty strings, 120
    /// bytes of every one of a million leads moved and kept for nothing.
    pub text: Option<Box<RawText>>,
}

/// A record's names and times as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RawText {
    /// Given name as written.
    pub first_name: String,
    /// Family name as written.
    pub last_name: String,
    /// Full name as written (used to split when first/last are missing).
    pub full_name: String,
    /// Creation time as written.
    pub created_at: String,
    /// Last update time as written.
    pub updated_at: String,
}

impl RawContact {
    /// The names and times as written (all empty when there are none, or once normalized).
    pub fn text(&self) -> &RawText {
        static EMPTY: RawText = RawText {
            first_name: String::new(),
            last_name: String::new(),
            full_name: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        self.text.as_deref().unwrap_or(&EMPTY)
    }

    /// The names and times as written, to set.
    pub fn text_mut(&mut self) -> &mut RawText {
        self.text.get_or_insert_with(Box::default)
    }

    /// Whether the record names a person or a way to reach one.
    pub fn has_identity(&self) -> bool {
        let filled = |s: &str| !s.trim().is_empty();
        let text = self.text();
        filled(&text.first_name)
            || filled(&text.last_name)
            || filled(&text.full_name)
            || self.emails.iter().any(|s| filled(s))
            || self.phones.iter().any(|s| filled(s))
    }
}

/// A validated, normalized email address (trimmed, lower-case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Email(pub(crate) CompactString);

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid phone number in E.164 form (`+14155550123`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Phone(pub(crate) CompactString);

impl Phone {
    /// The number in E.164.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lead's other vendor fields, by field name in name order, packed in one string: each
/// field is its name and its value, each written as its length in bytes and the text.
/// A length is written in ASCII, six bits a character, most significant first, with
/// `0x40` set on every character but the last (a length under 64 is one character).
/// A lead keeps a handful of fields; as a list of (name, value) strings they were seven
/// small blocks on the heap per lead (a million leads' worth was a sizeable share of
/// memory, scattered among the reading's short-lived blocks), and as a B-tree half a
/// kilobyte. Packed, they are one block, copied at once. Serializes as a JSON object,
/// like the map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Custom(Box<str>);

impl Custom {
    /// The field that starts at `at`: its name, its value and where it ends.
    fn field_at(&self, mut at: usize) -> (&str, &str, usize) {
        let (s, bytes) = (&*self.0, self.0.as_bytes());
        let mut text = || {
            let mut len = 0;
            loop {
                let b = bytes[at];
                at += 1;
                len = (len << 6) | usize::from(b & 0x3F);
                if b & 0x40 == 0 {
                    break;
                }
            }
            at += len;
            &s[at - len..at]
        };
        let key = text();
        let value = text();
        (key, value, at)
    }

    /// The fields as (name, value, where the field starts, where it ends) in the string.
    fn fields(&self) -> impl Iterator<Item = (&str, &str, usize, usize)> {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.0.len() {
                return None;
            }
            let start = at;
            let (key, value, end) = self.field_at(start);
            at = end;
            Some((key, value, start, end))
        })
    }

    /// Where a field is, or where it would go to keep name order.
    fn find(&self, key: &str) -> Result<(usize, usize), usize> {
        for (k, _, start, end) in self.fields() {
            match k.cmp(key) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok((start, end)),
                std::cmp::Ordering::Greater => return Err(start),
            }
        }
        Err(self.0.len())
    }

    /// The value of a field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields().find(|(k, ..)| *k == key).map(|(_, v, ..)| v)
    }

    /// Sets a field; returns its former value.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let (start, end, old) = match self.find(key) {
            Ok((start, end)) => (start, end, Some(self.field_at(start).1.to_string())),
            Err(at) => (at, at, None),
        };
        let mut s =
            String::with_capacity(self.0.len() - (end - start) + key.len() + value.len() + 8);
        s.push_str(&self.0[..start]);
        push_field(&mut s, key, value);
        s.push_str(&self.0[end..]);
        self.0 = s.into_boxed_str();
        old
    }

    /// Removes a field; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let (start, end) = self.find(key).ok()?;
        let old = Some(self.field_at(start).1.to_string());
        let mut s = String::with_capacity(self.0.len() - (end - start));
        s.push_str(&self.0[..start]);
        s.push_str(&self.0[end..]);
        self.0 = s.into_boxed_str();
        old
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.fields().count()
    }

    /// Fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields().map(|(k, v, ..)| (k, v))
    }
}

/// Writes a field as [`Custom`] keeps it: its name and its value, each after its length.
fn push_field(s: &mut String, key: &str, value: &str) {
    for text in [key, value] {
        push_len(s, text.len());
        s.push_str(text);
    }
}

/// Writes a length as [`Custom`] keeps it.
fn push_len(s: &mut String, n: usize) {
    let mut shift = 0;
    while n >> shift >= 64 {
        shift += 6;
    }
    loop {
        let digit = ((n >> shift) & 0x3F) as u8;
        if shift == 0 {
            s.push(char::from(digit));
            break;
        }
        s.push(char::from(digit | 0x40));
        shift -= 6;
    }
}

impl std::ops::Index<&str> for Custom {
    type Output = str;
    fn index(&self, key: &str) -> &str {
        self.get(key).expect("no such custom field")
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for Custom {
    /// Sets each field in turn (a later value of a name wins), packing the fields once.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, items: I) {
        let mut new: Vec<(K, V)> = items.into_iter().collect();
        match new.len() {
            0 => return,
            1 => {
                let (k, v) = new.pop().expect("one field");
                self.insert(k, v);
                return;
            }
            _ => {}
        }
        // Stable: of one name's values, the last stays last.
        new.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut s = String::with_capacity(
            self.0.len()
                + new
                    .iter()
                    .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 4)
                    .sum::<usize>(),
        );
        let mut push = |k: &str, v: &str| push_field(&mut s, k, v);
        let mut old = self.iter().peekable();
        let mut new = new.iter().peekable();
        while let Some((k, v)) = new.next() {
            let k = k.as_ref();
            if new.peek().is_some_and(|(next, _)| next.as_ref() == k) {
                continue;
            }
            while let Some(&(ok, ov)) = old.peek() {
                if ok >= k {
                    break;
                }
                push(ok, ov);
                old.next();
            }
            if old.peek().is_some_and(|&(ok, _)| ok == k) {
                old.next();
            }
            push(k, v.as_ref());
        }
        for (ok, ov) in old {
            push(ok, ov);
        }
        self.0 = s.into_boxed_str();
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Custom {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Custom {
        let mut c = Custom::default();
        c.extend(items);
        c
    }
}

impl Custom {
    /// Whether `s` is a well-formed packed string: lengths that fit, on character
    /// boundaries, and names in strictly increasing order.
    fn is_packed(s: &str) -> bool {
        let bytes = s.as_bytes();
        let mut at = 0;
        let text = |at: &mut usize| -> Option<&str> {
            let mut len: usize = 0;
            loop {
                let b = *bytes.get(*at)?;
                *at += 1;
                if b >= 0x80 || len > usize::MAX >> 7 {
                    return None;
                }
                len = (len << 6) | usize::from(b & 0x3F);
                if b & 0x40 == 0 {
                    break;
                }
            }
            let end = at.checked_add(len)?;
            let t = s.get(*at..end)?;
            *at = end;
            Some(t)
        };
        let mut last: Option<&str> = None;
        while at < bytes.len() {
            let (Some(key), Some(_)) = (text(&mut at), text(&mut at)) else {
                return false;
            };
            if last.is_some_and(|l| l >= key) {
                return false;
            }
            last = Some(key);
        }
        true
    }
}

impl Serialize for Custom {
    /// A JSON object, like the map; in a binary encoding ([`crate::packed`]), the packed
    /// string as it is.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_str(&self.0);
        }
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Custom {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Custom, D::Error> {
        if !d.is_human_readable() {
            let s = String::deserialize(d)?;
            return if Custom::is_packed(&s) {
                Ok(Custom(s.into_boxed_str()))
            } else {
                Err(serde::de::Error::custom("malformed packed custom fields"))
            };
        }
        Ok(BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .collect())
    }
}

/// A lead's times as chrono writes them (RFC 3339 text) in JSON; in a binary encoding
/// ([`crate::packed`]), as seconds and nanoseconds since the epoch. Leads are packed
/// twice and unpacked two or three times in a run, and formatting and parsing two
/// RFC 3339 texts a lead each time was a quarter of the packing's cost.
mod packed_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return t.serialize(s);
        }
        t.map(|t| (t.timestamp(), t.timestamp_subsec_nanos()))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        if d.is_human_readable() {
            return Option::<DateTime<Utc>>::deserialize(d);
        }
        Option::<(i64, u32)>::deserialize(d)?
            .map(|(secs, nanos)| {
                DateTime::from_timestamp(secs, nanos)
                    .ok_or_else(|| serde::de::Error::custom("a packed time out of range"))
            })
            .transpose()
    }
}

/// The canonical lead.
///
/// The fields a lead's match record and the run's counts read come first, in the order
/// [`LeadHead`] reads them: packed, a lead's head is read without decoding the rest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lead {
    /// `system:source_id`, or `system:file:line` when the record has no id.
    pub lead_key: CompactString,
    /// Provenance.
    pub source: SourceRef,
    /// Roster agent id; an agent the roster does not know keeps `system:alias`.
    pub agent_id: Option<CompactString>,
    /// Data-quality flags.
    pub quality: Quality,
    /// Given name, repaired.
    pub first_name: Option<CompactString>,
    /// Family name, repaired.
    pub last_name: Option<CompactString>,
    /// Primary email.
    pub email: Option<Email>,
    /// Second email.
    pub email2: Option<Email>,
    /// Primary phone.
    pub phone: Option<Phone>,
    /// Second phone.
    pub phone2: Option<Phone>,
    /// What the primary phone is.
    pub phone_kind: PhoneKind,
    /// Postal code.
    pub postcode: Option<CompactString>,
    /// City.
    pub city: Option<CompactString>,
    /// The system the record was read from.
    pub system: Option<System>,
    /// Contact data as written.
    pub raw: RawContact,
    /// Full name, repaired.
    pub full_name: Option<CompactString>,
    /// What the lead wants.
    pub kind: Kind,
    /// The vendor's own lead type or role.
    pub kind_raw: Option<CompactString>,
    /// Where the lead stands.
    pub status: Status,
    /// The vendor's own status.
    pub status_raw: Option<CompactString>,
    /// Marketing source (portal, website, campaign).
    pub marketing_source: Option<CompactString>,
    /// The listing the lead asked about (MLS id, portal reference, advert URL).
    pub listing_ref: Option<CompactString>,
    /// The lead's own address (street or free-text location).
    pub address: Option<CompactString>,
    /// State, county or district.
    pub region: Option<CompactString>,
    /// ISO 3166 alpha-2 country of the address.
    pub country: Option<CompactString>,
    /// The lead's message or notes.
    pub message: Option<CompactString>,
    /// Tags, in source order, without duplicates.
    pub tags: Vec<String>,
    /// Everything else the vendor said, by the vendor's field name (secrets removed).
    pub custom: Custom,
    /// Creation time, UTC.
    #[serde(with = "packed_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last update time, UTC.
    #[serde(with = "packed_time")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The contact this lead belongs to (set by dedupe).
    pub contact_id: Option<CompactString>,
    /// The strongest match probability that put the lead in its contact (none: alone).
    pub match_score: Option<f64>,
}

/// The first fields of a packed [`Lead`] (its head: what a match record and the run's
/// counts read), borrowed from the packed bytes: read without decoding, or allocating,
/// the rest of the lead. Its fields are the lead's first ones, in the same order (a test
/// holds them to the lead's).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LeadHead<'a> {
    /// [`Lead::lead_key`].
    pub lead_key: &'a str,
    /// [`Lead::source`].
    #[serde(borrow)]
    pub source: SourceHead<'a>,
    /// [`Lead::agent_id`].
    pub agent_id: Option<&'a str>,
    /// [`Lead::quality`].
    pub quality: Quality,
    /// [`Lead::first_name`].
    pub first_name: Option<&'a str>,
    /// [`Lead::last_name`].
    pub last_name: Option<&'a str>,
    /// [`Lead::email`].
    pub email: Option<&'a str>,
    /// [`Lead::email2`].
    pub email2: Option<&'a str>,
    /// [`Lead::phone`].
    pub phone: Option<&'a str>,
    /// [`Lead::phone2`].
    pub phone2: Option<&'a str>,
    /// [`Lead::phone_kind`].
    pub phone_kind: PhoneKind,
    /// [`Lead::postcode`].
    pub postcode: Option<&'a str>,
    /// [`Lead::city`].
    pub city: Option<&'a str>,
}

/// A [`SourceRef`] borrowed from packed bytes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SourceHead<'a> {
    /// [`SourceRef::source_index`].
    pub source_index: usize,
    /// [`SourceRef::file`].
    pub file: &'a str,
    /// [`SourceRef::line`].
    pub line: u64,
    /// [`SourceRef::source_id`].
    pub source_id: Option<&'a str>,
}

impl<'a> LeadHead<'a> {
    /// The head of a lead at hand.
    pub fn of(lead: &'a Lead) -> LeadHead<'a> {
        LeadHead {
            lead_key: &lead.lead_key,
            source: SourceHead {
                source_index: lead.source.source_index,
                file: &lead.source.file,
                line: lead.source.line,
                source_id: lead.source.source_id.as_deref(),
            },
            agent_id: lead.agent_id.as_deref(),
            quality: lead.quality,
            first_name: lead.first_name.as_deref(),
            last_name: lead.last_name.as_deref(),
            email: lead.email.as_ref().map(Email::as_str),
            email2: lead.email2.as_ref().map(Email::as_str),
            phone: lead.phone.as_ref().map(Phone::as_str),
            phone2: lead.phone2.as_ref().map(Phone::as_str),
            phone_kind: lead.phone_kind,
            postcode: lead.postcode.as_deref(),
            city: lead.city.as_deref(),
        }
    }
}

impl Lead {
    /// A lead with its key and provenance set and nothing else.
    pub fn new(system: System, source: SourceRef) -> Lead {
        let lead_key = match &source.source_id {
            Some(id) => format!("{}:{}", system.as_str(), id),
            None => format!("{}:{}:{}", system.as_str(), source.file, source.line),
        };
        Lead {
            lead_key: lead_key.into(),
            system: Some(system),
            source,
            ..Lead::default()
        }
    }

    /// Records a vendor field we keep but have no column for. Blank values are skipped.
    pub fn set_custom(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let trimmed = value.as_ref().trim();
        if trimmed.is_empty() {
            return;
        }
        self.custom.insert(key, trimmed);
    }

    /// [`Lead::set_custom`] for many fields at once (packed once, not once per field).
    pub fn set_customs<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        fields: impl IntoIterator<Item = (K, V)>,
    ) {
        let kept: Vec<(K, V)> = fields
            .into_iter()
            .filter(|(_, v)| !v.as_ref().trim().is_empty())
            .collect();
        self.custom
            .extend(kept.iter().map(|(k, v)| (k.as_ref(), v.as_ref().trim())));
    }

    /// Adds a tag unless blank or already present.
    pub fn add_tag(&mut self, tag: &str) {
        let tag = tag.trim();
        if !tag.is_empty() && !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_string());
        }
    }
}

/// `Some(trimmed)` for a non-blank string.
pub fn non_blank(s: impl AsRef<str>) -> Option<String> {
    let t = s.as_ref().trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_packed_fields_are_taken() {
        let c: Custom = [("b", "2"), ("a", "x".repeat(70).as_str()), ("é", "ü")]
            .into_iter()
            .collect();
        assert!(Custom::is_packed(&c.0));
        assert!(Custom::is_packed(""));
        // A length past the end, a cut length, names out of order or repeated, a length
        // that splits a character.
        for bad in [
            "\u{3}ab",
            "\u{41}",
            "\u{1}b\u{1}1\u{1}a\u{1}1",
            "\u{1}a\u{0}\u{1}a\u{0}",
            "\u{1}\u{c3}\u{a9}",
        ] {
            assert!(!Custom::is_packed(bad), "{bad:?}");
        }
        let bytes = postcard::to_allocvec(&c).unwrap();
        assert_eq!(postcard::from_bytes::<Custom>(&bytes).unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with("{\"a\":"), "{json}");
        assert_eq!(serde_json::from_str::<Custom>(&json).unwrap(), c);
    }

    #[test]
    fn times_pack_as_numbers_and_write_as_text() {
        use chrono::TimeZone;
        let times = [
            None,
            Some(Utc.with_ymd_and_hms(2025, 3, 1, 15, 30, 0).unwrap()),
            Some(Utc.timestamp_opt(1_741_000_000, 123_456_789).unwrap()),
            // A leap second, as chrono reads `23:59:60`.
            Some(
                DateTime::parse_from_rfc3339("2016-12-31T23:59:60.5Z")
                    .unwrap()
                    .to_utc(),
            ),
            Some(Utc.with_ymd_and_hms(1899, 12, 31, 23, 59, 59).unwrap()),
            Some(DateTime::<Utc>::MIN_UTC),
            Some(DateTime::<Utc>::MAX_UTC),
        ];
        for created_at in times {
            let lead = Lead {
                lead_key: "peakidx:1".into(),
                created_at,
                updated_at: created_at
                    .and_then(|t| t.checked_add_signed(chrono::TimeDelta::nanoseconds(1))),
                ..Lead::default()
            };
            let bytes = postcard::to_allocvec(&lead).unwrap();
            assert_eq!(postcard::from_bytes::<Lead>(&bytes).unwrap(), lead);
            // JSON (the state's cache of parsed batches) keeps chrono's text.
            let json = serde_json::to_value(&lead).unwrap();
            assert_eq!(
                json["created_at"],
                serde_json::to_value(created_at).unwrap(),
                "{created_at:?}"
            );
            assert_eq!(serde_json::from_value::<Lead>(json).unwrap(), lead);
        }
        // Seconds past chrono's range do not decode.
        let lead = Lead {
            created_at: Some(Utc.timestamp_opt(1_741_000_000, 0).unwrap()),
            ..Lead::default()
        };
        let mut bytes = postcard::to_allocvec(&lead).unwrap();
        let time = postcard::to_allocvec(&Some((1_741_000_000i64, 0u32))).unwrap();
        let far = postcard::to_allocvec(&Some((i64::MAX, 0u32))).unwrap();
        let at = bytes
            .windows(time.len())
            .position(|w| w == time.as_slice())
            .unwrap();
        bytes.splice(at..at + time.len(), far);
        assert!(postcard::from_bytes::<Lead>(&bytes).is_err());
    }

    #[test]
    fn custom_fields_behave_as_the_map_did() {
        let pairs = [
            ("utm_source", "fb"),
            ("Budget", "300k"),
            ("a", "1"),
            ("utm_source", "ig"),
        ];
        let mut c = Custom::default();
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            assert_eq!(c.insert(k, v), m.insert(k.to_string(), v.to_string()));
        }
        assert_eq!(c.len(), m.len());
        assert!(c.iter().eq(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
        let back: Custom = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(&c["utm_source"], "ig");
        assert_eq!(c.remove("a").as_deref(), Some("1"));
        assert_eq!(c.get("a"), None);
        assert_eq!(c.remove("a"), None);
        // Lengths of one, two and three characters.
        for n in [63, 64, 4095, 4096, 300_000] {
            let long = "é".repeat(n / 2) + &"x".repeat(n % 2);
            c.insert("long", &long);
            c.insert(&long, "k");
            assert_eq!(c.get("long"), Some(long.as_str()));
            assert_eq!(c.get(&long), Some("k"));
            assert_eq!(c.get("utm_source"), Some("ig"));
            assert_eq!(c.remove(&long).as_deref(), Some("k"));
        }
    }

    proptest::proptest! {
        /// Any inserts and removes, of any text (colons and digits among it), leave the
        /// fields a sorted map leaves, in the same order.
        #[test]
        fn custom_fields_are_a_sorted_map(
            ops in proptest::collection::vec(
                (proptest::bool::ANY, "[a-c:0-9]{0,3}", "[:0-9é x]{0,12}|[é x]{60,80}"),
                0..40,
            )
        ) {
            let mut c = Custom::default();
            let mut m = BTreeMap::new();
            for (insert, k, v) in ops {
                if insert {
                    proptest::prop_assert_eq!(c.insert(&k, &v), m.insert(k, v));
                } else {
                    proptest::prop_assert_eq!(c.remove(&k), m.remove(&k));
                }
                proptest::prop_assert!(c.iter().eq(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
                proptest::prop_assert_eq!(c.len(), m.len());
                proptest::prop_assert_eq!(c.is_empty(), m.is_empty());
                for (k, v) in &m {
                    proptest::prop_assert_eq!(c.get(k), Some(v.as_str()));
                }
            }
        }

        /// Setting many fields at once (names repeated among them) is setting each in turn.
        #[test]
        fn custom_fields_extend_as_a_sorted_map(
            before in proptest::collection::vec(("[a-d]{0,2}", "[:0-9é x]{0,6}"), 0..8),
            more in proptest::collection::vec(("[a-d]{0,2}", "[:0-9é x]{0,6}|[x]{70}"), 0..12),
        ) {
            let mut c: Custom = before.iter().cloned().collect();
            let mut m: BTreeMap<String, String> = before.into_iter().collect();
            c.extend(more.iter().cloned());
            m.extend(more);
            proptest::prop_assert!(c.iter().eq(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        }
    }

    #[test]
    fn lead_key_uses_id_or_file_and_line() {
        let with_id = Lead::new(
            System::Leadpro,
            SourceRef {
                source_id: Some("42".into()),
                ..SourceRef::default()
            },
        );
        assert_eq!(with_id.lead_key, "leadpro:42");
        let without = Lead::new(
            System::Maxwork,
            SourceRef {
                file: "maxwork/leads.json".into(),
                line: 7,
                ..SourceRef::default()
            },
        );
        assert_eq!(without.lead_key, "maxwork:maxwork/leads.json:7");
    }

    #[test]
    fn quality_names_are_ordered_and_distinct() {
        let q = Quality::INVALID_PHONE | Quality::INVALID_EMAIL;
        assert_eq!(
            q.names().collect::<Vec<_>>(),
            ["invalid_email", "invalid_phone"]
        );
        let mut bits = Quality::EMPTY;
        for (flag, _) in Quality::NAMES {
            assert!(!bits.contains(*flag), "duplicate bit");
            bits.insert(*flag);
        }
    }

    #[test]
    fn common_words_map() {
        assert_eq!(
            Kind::from_common("Buyer and Seller"),
            Some(Kind::BuyerAndSeller)
        );
        assert_eq!(Kind::from_common("tenant"), Some(Kind::Renter));
        assert_eq!(Status::from_common("Not Contacted"), Some(Status::New));
        assert_eq!(Status::from_common("whatever"), None);
    }
}
