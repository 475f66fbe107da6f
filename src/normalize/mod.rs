//! Normalize stage: a lead's raw contact → canonical names, emails, phones and UTC times.
//!
//! Consumes leads as vendors built them (raw contact filled), produces the same leads with
//! canonical fields and quality flags. Rejects nothing: an invalid email or phone is a flag
//! (its text stays in the `*_raw` columns), never a reason to drop a lead.

pub mod email;
pub mod name;
pub mod phone;
pub mod time;

use compact_str::CompactString;
use phonenumber::country::Id;

use crate::lead::{Email, Lead, Phone, PhoneKind, Quality};
use time::TimeContext;

/// What normalizing a source's leads needs to know.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeContext {
    /// Default country of phones without a country code.
    pub region: Id,
    /// Zone and date order of the source's timestamps.
    pub time: TimeContext,
}

/// Normalizes one lead in place.
pub fn lead(lead: &mut Lead, ctx: &NormalizeContext) {
    // Only the raw emails and phones are written after this (the `*_raw` columns); raw
    // names and times serve here (a time that is not one is kept in `custom`) and are
    // dropped.
    let text = lead.raw.text.take().unwrap_or_default();
    let names = name::normalize(&text.first_name, &text.last_name, &text.full_name);
    if names.split {
        lead.quality.insert(Quality::NAME_SPLIT);
    }
    if names.first.is_none() && names.last.is_none() {
        lead.quality.insert(Quality::NO_NAME);
    }
    lead.first_name = names.first.map(CompactString::from);
    lead.last_name = names.last.map(CompactString::from);
    lead.full_name = names.full.map(CompactString::from);

    normalize_emails(lead);
    normalize_phones(lead, ctx.region);

    let created = read_time(&text.created_at, ctx.time);
    lead.created_at = apply_time(lead, created, Quality::INVALID_CREATED_AT, "created_at_raw");
    let updated = read_time(&text.updated_at, ctx.time);
    lead.updated_at = apply_time(lead, updated, Quality::INVALID_UPDATED_AT, "updated_at_raw");
}

/// A timestamp field as read: blank, parsed, or text that is not a time.
enum TimeRead {
    Blank,
    Parsed(time::Parsed),
    Invalid(String),
}

fn read_time(raw: &str, ctx: TimeContext) -> TimeRead {
    if raw.trim().is_empty() {
        return TimeRead::Blank;
    }
    time::parse(raw, ctx).map_or_else(|| TimeRead::Invalid(raw.to_string()), TimeRead::Parsed)
}

/// The UTC time, with its flags set on the lead (an unreadable text is kept in `custom`).
fn apply_time(
    lead: &mut Lead,
    read: TimeRead,
    invalid: Quality,
    raw_key: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match read {
        TimeRead::Blank => None,
        TimeRead::Parsed(p) => {
            if p.assumed_utc {
                lead.quality.insert(Quality::ASSUMED_UTC);
            }
            if p.dst_adjusted {
                lead.quality.insert(Quality::DST_ADJUSTED_TIME);
            }
            Some(p.utc)
        }
        TimeRead::Invalid(raw) => {
            lead.quality.insert(invalid);
            lead.set_custom(raw_key, raw);
            None
        }
    }
}

fn normalize_emails(lead: &mut Lead) {
    let mut valid: Vec<Email> = Vec::with_capacity(2);
    for (i, field) in lead.raw.emails.iter().enumerate() {
        for part in email::split_field(field) {
            match email::normalize(part) {
                Some(e) => {
                    if !valid.contains(&e) {
                        valid.push(e);
                    }
                }
                None => lead.quality.insert(if i == 0 {
                    Quality::INVALID_EMAIL
                } else {
                    Quality::INVALID_EMAIL2
                }),
            }
        }
    }
    let mut it = valid.into_iter();
    lead.email = it.next();
    lead.email2 = it.next();
    let rest: Vec<String> = it.map(|e| e.0.into()).collect();
    if !rest.is_empty() {
        lead.quality.insert(Quality::EXTRA_CONTACTS);
        lead.set_custom("other_emails", rest.join("; "));
    }
}

fn normalize_phones(lead: &mut Lead, region: Id) {
    let mut valid: Vec<(Phone, PhoneKind)> = Vec::with_capacity(2);
    for (i, field) in lead.raw.phones.iter().enumerate() {
        let mut any = false;
        for part in phone::split_field(field) {
            any = true;
            match phone::normalize(part, region) {
                Some(p) => {
                    if p.country_inferred {
                        lead.quality.insert(Quality::PHONE_COUNTRY_INFERRED);
                    }
                    if !valid.iter().any(|(v, _)| *v == p.phone) {
                        valid.push((p.phone, p.kind));
                    }
                }
                None => lead.quality.insert(if i == 0 {
                    Quality::INVALID_PHONE
                } else {
                    Quality::INVALID_PHONE2
                }),
            }
        }
        if !any && !field.trim().is_empty() {
            lead.quality.insert(if i == 0 {
                Quality::INVALID_PHONE
            } else {
                Quality::INVALID_PHONE2
            });
        }
    }
    let mut it = valid.into_iter();
    if let Some((p, kind)) = it.next() {
        lead.phone = Some(p);
        lead.phone_kind = kind;
    }
    lead.phone2 = it.next().map(|(p, _)| p);
    let rest: Vec<String> = it.map(|(p, _)| p.0.into()).collect();
    if !rest.is_empty() {
        lead.quality.insert(Quality::EXTRA_CONTACTS);
        lead.set_custom("other_phones", rest.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{RawContact, RawText, SourceRef, System};
    use time::DateOrder;

    fn ctx() -> NormalizeContext {
        NormalizeContext {
            region: phone::parse_region("US").unwrap(),
            time: TimeContext {
                tz: Some("America/Chicago".parse().unwrap()),
                order: DateOrder::MonthFirst,
            },
        }
    }

    fn lead_with(raw: RawContact) -> Lead {
        let mut l = Lead::new(System::Peakidx, SourceRef::default());
        l.raw = raw;
        l
    }

    #[test]
    fn fills_canonical_fields_and_keeps_raw() {
        let mut l = lead_with(RawContact {
            emails: vec![" John.ONeill@Example.com ".into(), "not-an-email".into()],
            phones: vec!["(312) 555-0142".into(), "555-0199".into()],
            text: Some(Box::new(RawText {
                first_name: "JOHN".into(),
                last_name: "o'neill".into(),
                created_at: "2024-03-22 12:00:00".into(),
                ..RawText::default()
            })),
        });
        lead(&mut l, &ctx());
        assert_eq!(l.full_name.as_deref(), Some("John O'Neill"));
        assert_eq!(
            l.email.as_ref().map(Email::as_str),
            Some("john.oneill@example.com")
        );
        assert_eq!(l.email2, None);
        assert_eq!(l.phone.as_ref().map(Phone::as_str), Some("+13125550142"));
        assert_eq!(l.phone_kind, PhoneKind::FixedOrMobile);
        assert!(l
            .quality
            .contains(Quality::INVALID_EMAIL2 | Quality::INVALID_PHONE2));
        assert!(!l.quality.contains(Quality::INVALID_EMAIL));
        assert_eq!(
            l.created_at.unwrap().to_rfc3339(),
            "2024-03-22T17:00:00+00:00"
        );
        assert_eq!(l.raw.phones[1], "555-0199");
        // Names and times as written are not kept: nothing after normalize reads them.
        assert_eq!(l.raw.text, None);
    }

    #[test]
    fn several_values_in_one_field() {
        let mut l = lead_with(RawContact {
            emails: vec!["a@x.com; b@y.com; c@z.com".into()],
            phones: vec!["312-555-0142 / 312-555-0143".into()],
            ..RawContact::default()
        });
        lead(&mut l, &ctx());
        assert_eq!(l.email2.as_ref().map(Email::as_str), Some("b@y.com"));
        assert_eq!(l.phone2.as_ref().map(Phone::as_str), Some("+13125550143"));
        assert_eq!(l.custom.get("other_emails"), Some("c@z.com"));
        assert!(l
            .quality
            .contains(Quality::EXTRA_CONTACTS | Quality::NO_NAME));
    }

    #[test]
    fn unreadable_time_is_flagged_and_kept() {
        let mut l = lead_with(RawContact {
            text: Some(Box::new(RawText {
                first_name: "Ann".into(),
                created_at: "last tuesday".into(),
                ..RawText::default()
            })),
            ..RawContact::default()
        });
        lead(&mut l, &ctx());
        assert!(l.quality.contains(Quality::INVALID_CREATED_AT));
        assert_eq!(&l.custom["created_at_raw"], "last tuesday");
    }
}
