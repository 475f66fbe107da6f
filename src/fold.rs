//! Fold stage: records of one lead → one lead.
//!
//! Records that share a `lead_key` (the same id in a webhook log, in an API dump and in a
//! CSV export of the same system) are one lead. They fold in input order: a later record's
//! non-empty values win (per group: names, emails, phones, agent, kind, status, each
//! other field), the creation time is the earliest, the update time the latest, tags and
//! `custom` accumulate. The lead keeps the first record's provenance and lists the others
//! in `custom.folded_from`. This is not dedupe: different ids stay different leads.

use rayon::prelude::*;

use std::borrow::Cow;

use crate::lead::{Lead, LeadHead, Quality};
use crate::packed::{self, KeyedLeads, LeadKeys};

const NAME_FLAGS: Quality = Quality::NAME_SPLIT.bitor_const(Quality::NO_NAME);
const EMAIL_FLAGS: Quality = Quality::INVALID_EMAIL.bitor_const(Quality::INVALID_EMAIL2);
const PHONE_FLAGS: Quality = Quality::INVALID_PHONE
    .bitor_const(Quality::INVALID_PHONE2)
    .bitor_const(Quality::PHONE_COUNTRY_INFERRED);
const AGENT_FLAGS: Quality = Quality::NO_AGENT.bitor_const(Quality::UNKNOWN_AGENT);
/// `custom.folded_from` lists at most this many records.
const FOLDED_FROM_LIMIT: usize = 20;

/// A folded lead: a lead of one record, still packed as it was read (most leads: fold
/// leaves them as they are, and they need not be unpacked and packed again), or the lead
/// of several records, merged.
#[derive(Debug, Clone)]
pub enum FoldedLead<'a> {
    /// The packed bytes of a lead of one record.
    Alone(Cow<'a, [u8]>),
    /// A lead of several records, merged (boxed: a window holds mostly packed leads).
    Merged(Box<Lead>),
}

impl FoldedLead<'_> {
    /// The lead's head (what its match record and the run's counts read).
    pub fn head(&self) -> LeadHead<'_> {
        match self {
            FoldedLead::Alone(bytes) => packed::head_of(bytes),
            FoldedLead::Merged(lead) => LeadHead::of(lead),
        }
    }

    /// The lead, unpacked if it is packed.
    pub fn into_lead(self) -> Lead {
        match self {
            FoldedLead::Alone(bytes) => packed::decode(&bytes),
            FoldedLead::Merged(lead) => *lead,
        }
    }

    /// The lead packed after `out`'s bytes (the same bytes either way).
    pub fn pack_into(&self, mut out: Vec<u8>) -> Vec<u8> {
        match self {
            FoldedLead::Alone(bytes) => {
                out.extend_from_slice(bytes);
                out
            }
            FoldedLead::Merged(lead) => packed::encode(lead, out),
        }
    }
}

/// Folds records with the same key. `parts` hold the records in input order, part after
/// part (a run's batches), packed with their keys. Gives `each` the leads sorted by
/// `lead_key`, `window` of them at a time (the last window may be shorter), and returns,
/// for each input record in input order, whether it was folded into an earlier one.
///
/// The keys are sorted as (key, position) pairs, not the leads themselves, and each
/// record is unpacked once, when its lead's window is made: only a window of leads is
/// held unpacked at a time.
pub fn fold(parts: Vec<KeyedLeads>, window: usize, mut each: impl FnMut(Vec<Lead>)) -> Vec<bool> {
    let Ok(folded) = try_fold_leads(parts, window, |leads| {
        each(leads);
        Ok::<(), std::convert::Infallible>(())
    });
    folded
}

/// [`fold`] with an `each` that can fail: its first error ends the fold and is returned.
pub fn try_fold_leads<E>(
    parts: Vec<KeyedLeads>,
    window: usize,
    mut each: impl FnMut(Vec<Lead>) -> Result<(), E>,
) -> Result<Vec<bool>, E> {
    try_fold(parts, window, |folded| {
        let mut leads = Vec::with_capacity(folded.len());
        folded
            .into_par_iter()
            .map(FoldedLead::into_lead)
            .collect_into_vec(&mut leads);
        each(leads)
    })
}

/// [`try_fold_leads`] without unpacking the leads of one record: `each` gets each
/// window's leads as [`FoldedLead`]s, whose packed bytes are the parts' own until it
/// returns. Only the records of leads of several records are unpacked (and merged).
pub fn try_fold<E>(
    mut parts: Vec<KeyedLeads>,
    window: usize,
    mut each: impl FnMut(Vec<FoldedLead<'_>>) -> Result<(), E>,
) -> Result<Vec<bool>, E> {
    let n: usize = parts.iter().map(KeyedLeads::len).sum();
    assert!(
        u32::try_from(n).is_ok(),
        "fewer than 4 billion records in one run"
    );
    // Where each part starts among all records.
    let starts: Vec<u32> = parts
        .iter()
        .scan(0u32, |at, p| {
            let start = *at;
            *at += p.len() as u32;
            Some(start)
        })
        .collect();
    let (order, heads) = {
        let mut keyed: Vec<(&str, u32)> = Vec::with_capacity(n);
        for part in &parts {
            debug_assert_eq!(part.keys.len(), part.leads.len());
            keyed.extend(part.keys.iter().zip(keyed.len() as u32..));
        }
        // Positions are unique: the order is total, and records of one key stay in input
        // order.
        keyed.par_sort_unstable();
        // Positions in key order, and where each lead's group starts among them.
        let order: Vec<u32> = keyed.iter().map(|&(_, at)| at).collect();
        let heads: Vec<usize> = (0..keyed.len())
            .filter(|&i| i == 0 || keyed[i - 1].0 != keyed[i].0)
            .collect();
        (order, heads)
    };
    for part in &mut parts {
        part.keys = LeadKeys::default();
    }
    let mut folded = vec![false; n];
    for (g, &head) in heads.iter().enumerate() {
        let end = heads.get(g + 1).copied().unwrap_or(n);
        for &at in &order[head + 1..end] {
            folded[at as usize] = true;
        }
    }

    // The part and index of the record at position `at` of all parts (an empty part
    // starts where the next one does: the last part starting at or before `at` holds it).
    let place = |at: u32| {
        let part = starts.partition_point(|&s| s <= at) - 1;
        (part, (at - starts[part]) as usize)
    };
    let window = window.max(1);
    let mut first = 0;
    while first < heads.len() {
        let last = first.saturating_add(window).min(heads.len());
        let mut leads = Vec::with_capacity(last - first);
        {
            let parts = &parts;
            let record = |at: u32| {
                let (part, i) = place(at);
                parts[part].leads.get(i)
            };
            (first..last)
                .into_par_iter()
                .map(|g| {
                    let end = heads.get(g + 1).copied().unwrap_or(n);
                    let group = &order[heads[g]..end];
                    if let [alone] = group {
                        let (part, i) = place(*alone);
                        return FoldedLead::Alone(parts[part].leads.raw(i));
                    }
                    let mut lead = record(group[0]);
                    for &at in &group[1..] {
                        merge(&mut lead, record(at));
                    }
                    FoldedLead::Merged(Box::new(lead))
                })
                .collect_into_vec(&mut leads);
            each(leads)?;
        }
        // Keys sort by system first, so each system's batches are read through in turn:
        // a buffer is freed as soon as its last record is read.
        let end = heads.get(last).copied().unwrap_or(n);
        for &at in &order[heads[first]..end] {
            let (part, i) = place(at);
            parts[part].leads.release(i);
        }
        first = last;
    }
    Ok(folded)
}

/// [`fold`] of leads at hand, the folded leads all at once: they are packed first.
pub fn fold_leads(parts: Vec<Vec<Lead>>) -> (Vec<Lead>, Vec<bool>) {
    let parts = parts.into_iter().map(KeyedLeads::pack).collect();
    let mut leads = Vec::new();
    let folded = fold(parts, 1 << 16, |window| leads.extend(window));
    (leads, folded)
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
        let entry = match base.custom.get("folded_from") {
            Some(before) if !before.is_empty() => format!("{before}; {place}"),
            _ => place,
        };
        base.custom.insert("folded_from", entry);
    }
    let q = later.quality;
    if later.first_name.is_some() || later.last_name.is_some() {
        base.first_name = later.first_name;
        base.last_name = later.last_name;
        base.full_name = later.full_name;
        // Normalized leads have no raw names left (`text` is `None`): nothing to box.
        if base.raw.text.is_some() || later.raw.text.is_some() {
            let names = later.raw.text.unwrap_or_default();
            let into = base.raw.text_mut();
            into.first_name = names.first_name;
            into.last_name = names.last_name;
            into.full_name = names.full_name;
        }
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
    base.custom.extend(later.custom.iter());
    if let Some(f) = folded_from {
        base.custom.insert("folded_from", f);
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

    /// Leads of one record come out as their packed bytes, leads of several merged; both
    /// read as `fold` gives them, and pack to the same bytes as the leads themselves.
    #[test]
    fn lone_records_stay_packed_and_merged_ones_are_unpacked() {
        let mut two = lead("2", 3);
        two.city = Some("Leeds".into());
        let parts = vec![
            vec![lead("3", 1), lead("2", 2), lead("1", 9)],
            vec![two, lead("4", 4)],
        ];
        let packed = || parts.iter().map(|p| KeyedLeads::pack_slice(p)).collect();
        let (leads, folded) = fold_leads(parts.clone());
        let mut kinds = Vec::new();
        let mut seen = Vec::new();
        let mut bytes = Vec::new();
        let by_items = try_fold(packed(), 3, |window| {
            for item in &window {
                kinds.push(matches!(item, FoldedLead::Merged(_)));
                assert_eq!(item.head(), LeadHead::of(&item.clone().into_lead()));
                bytes.push(item.pack_into(vec![7]));
            }
            seen.extend(window.into_iter().map(FoldedLead::into_lead));
            Ok::<(), ()>(())
        });
        assert_eq!((seen.clone(), by_items), (leads, Ok(folded)));
        assert_eq!(kinds, [false, true, false, false]);
        for (lead, bytes) in seen.iter().zip(&bytes) {
            assert_eq!(bytes[..], packed::encode(lead, vec![7])[..]);
        }
        assert_eq!(seen[1].city.as_deref(), Some("Leeds"));
        // An error ends the fold and is the fold's.
        assert_eq!(try_fold(packed(), 1, |_| Err("stop")), Err("stop"));
    }

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
        let (out, folded) = fold_leads(vec![vec![a], vec![b, c]]);
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
        assert_eq!(&m.custom["folded_from"], "f:5");
        assert_eq!(m.source.line, 1);
    }

    #[test]
    fn leads_come_out_sorted_and_later_parts_win() {
        let mut first = lead("9", 1);
        first.city = Some("York".into());
        let mut later = lead("9", 2);
        later.city = Some("Hull".into());
        let mut last = lead("9", 3);
        last.city = None;
        let parts = vec![
            vec![lead("5", 1), first],
            vec![],
            vec![lead("1", 7), later, lead("5", 4)],
            vec![last],
        ];
        // Two at a time, the same leads.
        let mut windows = Vec::new();
        let by_two = fold(
            parts.iter().map(|p| KeyedLeads::pack_slice(p)).collect(),
            2,
            |w| windows.push(w),
        );
        let (out, folded) = fold_leads(parts);
        assert_eq!(windows.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
        assert_eq!((windows.concat(), by_two), (out.clone(), folded.clone()));
        let keys: Vec<&str> = out.iter().map(|l| l.lead_key.as_str()).collect();
        assert_eq!(keys, ["leadpro:1", "leadpro:5", "leadpro:9"]);
        assert_eq!(folded, [false, false, false, true, true, true]);
        assert_eq!(out[2].city.as_deref(), Some("Hull"));
        assert_eq!(out[2].source.line, 1);
        assert_eq!(&out[2].custom["folded_from"], "f:2; f:3");
        assert_eq!(&out[1].custom["folded_from"], "f:4");
        assert_eq!(fold_leads(Vec::new()), (Vec::new(), Vec::new()));
        assert!(fold(Vec::new(), 2, |_| panic!("no window")).is_empty());
    }
}
