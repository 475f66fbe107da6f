//! Fold stage: records of one lead → one lead.
//!
//! Records that share a `lead_key` (the same id in a webhook log, in an API dump and in a
//! CSV export of the same system) are one lead. They fold in input order: a later record's
//! non-empty values win (per group: names, emails, phones, agent, kind, status, each
//! other field), the creation time is the earliest, the update time the latest, tags and
//! `custom` accumulate. The lead keeps the first record's provenance and lists the others
//! in `custom.folded_from`. This is not dedupe: different ids stay different leads.

use std::collections::HashMap;

use crate::lead::{Lead, Quality};

const NAME_FLAGS: Quality = Quality::NAME_SPLIT.bitor_const(Quality::NO_NAME);
const EMAIL_FLAGS: Quality = Quality::INVALID_EMAIL.bitor_const(Quality::INVALID_EMAIL2);
const PHONE_FLAGS: Quality = Quality::INVALID_PHONE
    .bitor_const(Quality::INVALID_PHONE2)
    .bitor_const(Quality::PHONE_COUNTRY_INFERRED);
const AGENT_FLAGS: Quality = Quality::NO_AGENT.bitor_const(Quality::UNKNOWN_AGENT);
/// `custom.folded_from` lists at most this many records.
const FOLDED_FROM_LIMIT: usize = 20;

/// Folds leads with the same key; returns the leads (first-seen order) and, for each
/// input lead, whether it was folded into an earlier one.
pub fn fold(leads: Vec<Lead>) -> (Vec<Lead>, Vec<bool>) {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(leads.len());
    let mut out: Vec<Lead> = Vec::with_capacity(leads.len());
    let mut folded = Vec::with_capacity(leads.len());
    for lead in leads {
        match index.get(&lead.lead_key) {
            Some(&at) => {
                merge(&mut out[at], lead);
                folded.push(true);
            }
            None => {
                index.insert(lead.lead_key.clone(), out.len());
                out.push(lead);
                folded.push(false);
            }
        }
    }
    (out, folded)
}

fn take_flags(into: &mut Quality, from: Quality, group: Quality) {
    into.remove(group);
    into.insert(Quality::from_bits(from.bits() & group.bits()));
}

/// Merges a later record of the same lead into `base`.
pub fn merge(base: &mut Lead, later: Lead) {
    let place = format!("{}:{}", later.source.file, later.source.line);
    let listed = base
        .custom
        .get("folded_from")
        .map_or(0, |v| v.matches("; ").count() + 1);
    if listed < FOLDED_FROM_LIMIT {
        let entry = base.custom.get_or_default("folded_from");
        if !entry.is_empty() {
            entry.push_str("; ");
        }
        entry.push_str(&place);
    }
    let q = later.quality;
    if later.first_name.is_some() || later.last_name.is_some() {
        base.first_name = later.first_name;
        base.last_name = later.last_name;
        base.full_name = later.full_name;
        base.raw.first_name = later.raw.first_name;
        base.raw.last_name = later.raw.last_name;
        base.raw.full_name = later.raw.full_name;
        take_flags(&mut base.quality, q, NAME_FLAGS);
    }
    if later.raw.emails.iter().any(|e| !e.trim().is_empty()) {
        base.email = later.email;
        base.email2 = later.email2;
        base.raw.emails = later.raw.emails;
        take_flags(&mut base.quality, q, EMAIL_FLAGS);
    }
    if later.raw.phones.iter().any(|p| !p.trim().is_empty()) {
        base.phone = later.phone;
        base.phone2 = later.phone2;
        base.phone_kind = later.phone_kind;
        base.raw.phones = later.raw.phones;
        take_flags(&mut base.quality, q, PHONE_FLAGS);
    }
    if later.agent_id.is_some() {
        base.agent_id = later.agent_id;
        take_flags(&mut base.quality, q, AGENT_FLAGS);
    }
    if later.kind_raw.is_some() {
        base.kind = later.kind;
        base.kind_raw = later.kind_raw;
        take_flags(&mut base.quality, q, Quality::UNKNOWN_KIND);
    }
    if later.status_raw.is_some() {
        base.status = later.status;
        base.status_raw = later.status_raw;
        take_flags(&mut base.quality, q, Quality::UNKNOWN_STATUS);
    }
    let fields = [
        (&mut base.marketing_source, later.marketing_source),
        (&mut base.listing_ref, later.listing_ref),
        (&mut base.address, later.address),
        (&mut base.city, later.city),
        (&mut base.region, later.region),
        (&mut base.postcode, later.postcode),
        (&mut base.country, later.country),
        (&mut base.message, later.message),
    ];
    for (slot, value) in fields {
        if value.is_some() {
            *slot = value;
        }
    }
    base.created_at = match (base.created_at, later.created_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    base.updated_at = base.updated_at.max(later.updated_at);
    for tag in &later.tags {
        base.add_tag(tag);
    }
    let folded_from = base.custom.remove("folded_from");
    base.custom.extend(later.custom);
    if let Some(f) = folded_from {
        base.custom.insert("folded_from".into(), f);
    }
    // Flags that describe the record as a whole accumulate.
    base.quality.insert(Quality::from_bits(
        q.bits()
            & (Quality::EXTRA_CONTACTS
                | Quality::DST_ADJUSTED_TIME
                | Quality::ASSUMED_UTC
                | Quality::PARTIAL_HISTORY)
                .bits(),
    ));
    if base.created_at.is_some() {
        base.quality.remove(Quality::INVALID_CREATED_AT);
        base.custom.remove("created_at_raw");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{SourceRef, System};
    use chrono::TimeZone;

    fn lead(id: &str, line: u64) -> Lead {
        Lead::new(
            System::Leadpro,
            SourceRef {
                file: "f".into(),
                line,
                source_id: Some(id.into()),
                ..SourceRef::default()
            },
        )
    }

    #[test]
    fn later_values_win_and_times_span() {
        let mut a = lead("1", 1);
        a.city = Some("Leeds".into());
        a.message = Some("first".into());
        a.created_at = Some(chrono::Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap());
        a.quality = Quality::INVALID_EMAIL;
        a.raw.emails = vec!["bad".into()];
        let mut b = lead("1", 5);
        b.message = Some("second".into());
        b.created_at = Some(chrono::Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap());
        b.updated_at = b.created_at;
        b.raw.emails = vec!["good@x.com".into()];
        let c = lead("2", 9);
        let (out, folded) = fold(vec![a, b, c]);
        assert_eq!(folded, [false, true, false]);
        assert_eq!(out.len(), 2);
        let m = &out[0];
        assert_eq!(m.city.as_deref(), Some("Leeds"));
        assert_eq!(m.message.as_deref(), Some("second"));
        assert_eq!(
            m.created_at.unwrap().to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        assert_eq!(
            m.updated_at.unwrap().to_rfc3339(),
            "2024-03-01T00:00:00+00:00"
        );
        assert!(!m.quality.contains(Quality::INVALID_EMAIL));
        assert_eq!(m.custom["folded_from"], "f:5");
        assert_eq!(m.source.line, 1);
    }
}
