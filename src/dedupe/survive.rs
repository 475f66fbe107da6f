//! Golden records (survivorship): one contact per cluster of leads.
//!
//! Per field: names, emails and phones take the most frequent value among the members
//! (ties: the most recent lead, then the system priority from the pipeline file); kind,
//! status, address fields and marketing source take the most recent lead that has one;
//! creation is the earliest, update the latest. The second distinct email and phone are
//! kept as `email2`/`phone2`. `provenance` says which lead each field came from.

use chrono::{DateTime, Utc};
use compact_str::CompactString;

use crate::lead::{Custom, Kind, Lead, Status, System};

/// A golden record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contact {
    /// Deterministic id: `c-` and a hash of the smallest member lead key.
    pub contact_id: CompactString,
    /// Agent of the contact (the agent of its leads in agent scope).
    pub agent_id: Option<CompactString>,
    /// The same person across agents.
    pub person_id: CompactString,
    /// Member lead keys, sorted.
    pub lead_keys: Vec<CompactString>,
    /// Given name.
    pub first_name: Option<CompactString>,
    /// Family name.
    pub last_name: Option<CompactString>,
    /// Full name.
    pub full_name: Option<CompactString>,
    /// Primary email.
    pub email: Option<CompactString>,
    /// Second email.
    pub email2: Option<CompactString>,
    /// Primary phone (E.164).
    pub phone: Option<CompactString>,
    /// Second phone.
    pub phone2: Option<CompactString>,
    /// What the contact wants.
    pub kind: Kind,
    /// Where the contact stands.
    pub status: Status,
    /// Marketing source.
    pub marketing_source: Option<CompactString>,
    /// Address.
    pub address: Option<CompactString>,
    /// City.
    pub city: Option<CompactString>,
    /// Region.
    pub region: Option<CompactString>,
    /// Postcode.
    pub postcode: Option<CompactString>,
    /// Country.
    pub country: Option<CompactString>,
    /// Earliest creation.
    pub created_at: Option<DateTime<Utc>>,
    /// Latest update.
    pub updated_at: Option<DateTime<Utc>>,
    /// The most recent lead's message.
    pub message: Option<CompactString>,
    /// The listing the most recent lead that names one asked about.
    pub listing_ref: Option<CompactString>,
    /// Every member's extra fields (the most recent lead's value per key); not written to
    /// the contact tables, kept for the targets' payloads.
    pub custom: Custom,
    /// Field → the member it came from (see [`Contact::provenance`]).
    pub provenance: Provenance,
}

/// Which member each golden field came from: per field of [`Provenance::FIELDS`], an index
/// into the contact's `lead_keys`. Fixed slots held in place: a million golden records
/// allocate nothing for it (a sorted list of pairs grew on the heap three times per
/// record, about 300 MB at a million contacts).
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance([u32; Provenance::FIELDS.len()]);

impl Default for Provenance {
    fn default() -> Provenance {
        Provenance([Provenance::NONE; Provenance::FIELDS.len()])
    }
}

impl Provenance {
    /// The golden fields that have a provenance, in name order (the JSON's order).
    const FIELDS: [&'static str; 11] = [
        "address",
        "email",
        "email2",
        "kind",
        "listing_ref",
        "marketing_source",
        "message",
        "name",
        "phone",
        "phone2",
        "status",
    ];
    /// A field no member gave.
    const NONE: u32 = u32::MAX;

    /// The slot of a field of [`Provenance::FIELDS`]: a `match`, which the compiler
    /// settles at build time for the literal names golden records use (a binary search
    /// of the names cost 0.2 CPU-s at a million contacts). A test holds it to `FIELDS`.
    #[inline]
    fn slot(field: &str) -> Option<usize> {
        Some(match field {
            "address" => 0,
            "email" => 1,
            "email2" => 2,
            "kind" => 3,
            "listing_ref" => 4,
            "marketing_source" => 5,
            "message" => 6,
            "name" => 7,
            "phone" => 8,
            "phone2" => 9,
            "status" => 10,
            _ => return None,
        })
    }

    fn insert(&mut self, field: &'static str, member: usize) {
        let slot = Provenance::slot(field);
        debug_assert!(slot.is_some(), "`{field}` is not a provenance field");
        if let Some(i) = slot {
            self.0[i] = member as u32;
        }
    }

    /// The fields given, in name order, each with its member.
    fn iter(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        Provenance::FIELDS
            .iter()
            .zip(self.0)
            .filter(|(_, m)| *m != Provenance::NONE)
            .map(|(f, m)| (*f, m))
    }
}

impl Contact {
    /// The key of the lead a golden field (`name`, `email`, `email2`, `phone`, `phone2`,
    /// `kind`, `status`, `marketing_source`, `message`, `listing_ref`, `address`) came from.
    pub fn provenance(&self, field: &str) -> Option<&str> {
        let member = self.provenance.0[Provenance::slot(field)?];
        self.lead_keys
            .get(member as usize)
            .map(CompactString::as_str)
    }

    /// The provenance as a JSON object, field → lead key, in field-name order.
    pub fn provenance_json(&self) -> String {
        struct View<'a>(&'a Contact);
        impl serde::Serialize for View<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let c = self.0;
                let mut m = s.serialize_map(Some(c.provenance.iter().count()))?;
                for (field, member) in c.provenance.iter() {
                    let key = c
                        .lead_keys
                        .get(member as usize)
                        .map_or("", CompactString::as_str);
                    m.serialize_entry(field, key)?;
                }
                m.end()
            }
        }
        // Each field's name and lead key (lead keys are up to about 45 bytes).
        let room = 2 + 64 * self.provenance.iter().count();
        crate::json::to_string_with_capacity(&View(self), room).unwrap_or_default()
    }
}

/// Orders members: most recent first, then by system priority, then lead key.
fn recency_order<'a>(members: &[&'a Lead], priority: &[System]) -> Vec<&'a Lead> {
    let rank = |l: &Lead| {
        l.system
            .and_then(|s| priority.iter().position(|p| *p == s))
            .unwrap_or(priority.len())
    };
    let mut v = members.to_vec();
    v.sort_by(|a, b| {
        let ta = a.updated_at.or(a.created_at);
        let tb = b.updated_at.or(b.created_at);
        tb.cmp(&ta)
            .then(rank(a).cmp(&rank(b)))
            .then(a.lead_key.cmp(&b.lead_key))
    });
    v
}

/// The most frequent values of `get` (ties: earlier in `ordered`), with their leads.
fn by_frequency<'a>(
    ordered: &[&'a Lead],
    get: impl Fn(&'a Lead) -> [Option<&'a str>; 2],
) -> Vec<(&'a str, &'a str)> {
    let mut counts: Vec<(&str, usize, usize, &str)> = Vec::new();
    for (pos, lead) in ordered.iter().enumerate() {
        for v in get(lead).into_iter().flatten() {
            match counts.iter_mut().find(|(x, ..)| *x == v) {
                Some(entry) => entry.1 += 1,
                None => counts.push((v, 1, pos, &lead.lead_key)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    counts.into_iter().map(|(v, _, _, k)| (v, k)).collect()
}

/// Builds the golden record of one cluster.
pub fn golden(
    members: &[&Lead],
    priority: &[System],
    contact_id: &str,
    person_id: &str,
) -> Contact {
    golden_with(members, priority, contact_id, person_id, true)
}

/// [`golden`], with the members' extra fields (`custom`) gathered only when `keep_custom`:
/// only payload writers read them, and copying every member's map for every contact is a
/// sizeable share of linking a million leads.
pub fn golden_with(
    members: &[&Lead],
    priority: &[System],
    contact_id: &str,
    person_id: &str,
    keep_custom: bool,
) -> Contact {
    let ordered = recency_order(members, priority);
    let mut c = Contact {
        contact_id: contact_id.into(),
        person_id: person_id.into(),
        ..Contact::default()
    };
    let mut keys: Vec<CompactString> = members.iter().map(|l| l.lead_key.clone()).collect();
    keys.sort();
    let mut prov = Provenance::default();
    // Members' keys are distinct (folded leads): a key's place in the sorted list.
    let member = |key: &str| keys.binary_search_by(|k| k.as_str().cmp(key)).unwrap_or(0);

    let names = by_frequency(&ordered, |l| {
        [
            l.full_name.as_deref().filter(|_| l.first_name.is_some()),
            None,
        ]
    });
    if let Some((full, key)) = names.first() {
        let lead = members.iter().find(|l| l.lead_key == *key).expect("member");
        c.full_name = Some(CompactString::from(*full));
        c.first_name = lead.first_name.clone();
        c.last_name = lead.last_name.clone();
        prov.insert("name", member(key));
    } else if let Some(lead) = ordered.iter().find(|l| l.full_name.is_some()) {
        c.full_name = lead.full_name.clone();
        c.first_name = lead.first_name.clone();
        c.last_name = lead.last_name.clone();
        prov.insert("name", member(&lead.lead_key));
    }
    let emails = by_frequency(&ordered, |l| {
        [&l.email, &l.email2].map(|e| e.as_ref().map(|e| e.as_str()))
    });
    let phones = by_frequency(&ordered, |l| {
        [&l.phone, &l.phone2].map(|p| p.as_ref().map(|p| p.as_str()))
    });
    // The most frequent value is the primary, the next distinct one the second.
    for (slot, field, ranked, rank) in [
        (&mut c.email, "email", &emails, 0),
        (&mut c.email2, "email2", &emails, 1),
        (&mut c.phone, "phone", &phones, 0),
        (&mut c.phone2, "phone2", &phones, 1),
    ] {
        if let Some((v, k)) = ranked.get(rank) {
            *slot = Some(CompactString::from(*v));
            prov.insert(field, member(k));
        }
    }
    if let Some(l) = ordered.iter().find(|l| l.kind != Kind::Unknown) {
        c.kind = l.kind;
        prov.insert("kind", member(&l.lead_key));
    }
    if let Some(l) = ordered.iter().find(|l| l.status != Status::Unknown) {
        c.status = l.status;
        prov.insert("status", member(&l.lead_key));
    }
    if let Some(l) = ordered.iter().find(|l| l.agent_id.is_some()) {
        c.agent_id = l.agent_id.clone();
    }
    if let Some(l) = ordered.iter().find(|l| l.marketing_source.is_some()) {
        c.marketing_source = l.marketing_source.clone();
        prov.insert("marketing_source", member(&l.lead_key));
    }
    if let Some(l) = ordered.iter().find(|l| l.message.is_some()) {
        c.message = l.message.clone();
        prov.insert("message", member(&l.lead_key));
    }
    if let Some(l) = ordered.iter().find(|l| l.listing_ref.is_some()) {
        c.listing_ref = l.listing_ref.clone();
        prov.insert("listing_ref", member(&l.lead_key));
    }
    for l in ordered.iter().rev().filter(|_| keep_custom) {
        if c.custom.is_empty() {
            // The first member's fields as they are, in one copy.
            c.custom = l.custom.clone();
            c.custom.remove("folded_from");
            continue;
        }
        for (k, v) in l.custom.iter() {
            if k != "folded_from" {
                c.custom.insert(k, v);
            }
        }
    }
    // The address fields travel together, from the most recent lead that has any.
    if let Some(l) = ordered
        .iter()
        .find(|l| l.address.is_some() || l.city.is_some() || l.postcode.is_some())
    {
        c.address = l.address.clone();
        c.city = l.city.clone();
        c.region = l.region.clone();
        c.postcode = l.postcode.clone();
        c.country = l.country.clone();
        prov.insert("address", member(&l.lead_key));
    }
    c.created_at = members.iter().filter_map(|l| l.created_at).min();
    c.updated_at = members
        .iter()
        .filter_map(|l| l.updated_at.or(l.created_at))
        .max();
    c.provenance = prov;
    c.lead_keys = keys;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{Email, Phone, SourceRef};
    use chrono::TimeZone;

    #[test]
    fn provenance_slots_are_in_name_order() {
        // The JSON lists the fields in this order; each field's slot is its place.
        assert!(Provenance::FIELDS.windows(2).all(|w| w[0] < w[1]));
        for (i, f) in Provenance::FIELDS.iter().enumerate() {
            assert_eq!(Provenance::slot(f), Some(i));
        }
        let mut p = Provenance::default();
        assert_eq!(p.iter().count(), 0);
        p.insert("status", 2);
        p.insert("address", 0);
        p.insert("status", 1);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            [("address", 0), ("status", 1)]
        );
        assert_eq!(Provenance::slot("custom"), None);
    }

    fn lead(key: &str, system: System, day: u32) -> Lead {
        let mut l = Lead::new(
            system,
            SourceRef {
                source_id: Some(key.into()),
                ..SourceRef::default()
            },
        );
        l.created_at = Some(Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap());
        l
    }

    #[test]
    fn most_frequent_wins_and_recent_breaks_ties() {
        let mut a = lead("a", System::Leadpro, 1);
        a.email = Some(Email("ann@x.com".into()));
        a.first_name = Some("Ann".into());
        a.full_name = Some("Ann Lee".into());
        a.city = Some("Leeds".into());
        let mut b = lead("b", System::Maxwork, 2);
        b.email = Some(Email("ann@x.com".into()));
        b.email2 = Some(Email("ann.work@y.com".into()));
        b.kind = Kind::Seller;
        let mut c = lead("c", System::Epixel, 3);
        c.email = Some(Email("ann.lee@z.com".into()));
        c.phone = Some(Phone("+447911123456".into()));
        c.first_name = Some("Anne".into());
        c.full_name = Some("Anne Lee".into());
        c.status = Status::Contacted;
        let g = golden(&[&a, &b, &c], &[], "c-1", "p-1");
        assert_eq!(g.email.as_deref(), Some("ann@x.com"));
        assert_eq!(
            g.email2.as_deref(),
            Some("ann.lee@z.com"),
            "ties go to the most recent"
        );
        assert_eq!(g.full_name.as_deref(), Some("Anne Lee"));
        assert_eq!(g.kind, Kind::Seller);
        assert_eq!(g.status, Status::Contacted);
        assert_eq!(g.city.as_deref(), Some("Leeds"));
        assert_eq!(g.created_at, a.created_at);
        assert_eq!(
            g.provenance("email"),
            Some(b.lead_key.as_str()),
            "the most recent lead with the winning email"
        );
        assert_eq!(g.provenance("phone"), Some(c.lead_key.as_str()));
        assert_eq!(g.lead_keys.len(), 3);
    }

    #[test]
    fn system_priority_breaks_ties_between_equally_recent_leads() {
        let mut a = lead("a", System::Epixel, 1);
        a.marketing_source = Some("facebook".into());
        let mut b = lead("b", System::Maxwork, 1);
        b.marketing_source = Some("idealista".into());
        let g = golden(&[&a, &b], &[System::Maxwork, System::Epixel], "c", "p");
        assert_eq!(g.marketing_source.as_deref(), Some("idealista"));
        let g = golden(&[&a, &b], &[System::Epixel], "c", "p");
        assert_eq!(g.marketing_source.as_deref(), Some("facebook"));
    }
}
