//! Contacts against a target's existing records: which record of the target each contact
//! already is, with the same blocking, comparisons, weights and scope as linking leads.
//!
//! A contact holding a lead that the target's export also holds (the same system and id)
//! is that record outright. The others meet the target's records through blocking; a pair
//! at or above the match threshold that the chaining guard does not refuse is a match.
//! Each record goes to at most one contact, strongest pair first (ties in contact, then
//! record order), so the result is deterministic.

use rayon::prelude::*;

use crate::dedupe::cluster::conflict;
use crate::dedupe::score::{Model, TermFrequencies};
use crate::dedupe::survive::Contact;
use crate::dedupe::{block, Levels, MatchRecord};
use crate::pipeline::config::MatchConfig;

impl MatchRecord {
    /// The match view of a golden record.
    pub fn of_contact(c: &Contact) -> MatchRecord {
        MatchRecord::made(
            c.agent_id.as_deref(),
            [c.first_name.as_deref(), c.last_name.as_deref()],
            [c.phone.as_deref(), c.phone2.as_deref()],
            [c.email.as_deref(), c.email2.as_deref()],
            [c.postcode.as_deref(), c.city.as_deref()],
        )
    }
}

/// A contact's record in the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// Index into the existing records.
    pub record: usize,
    /// Match probability (1 for a shared id).
    pub probability: f64,
}

/// For each contact, its record among `existing` (the target's records' match records,
/// [`MatchRecord::of`]), if any. `contact_records` are the contacts' match records
/// ([`MatchRecord::of_contact`], in contact order); `direct` lists (contact, record) pairs
/// known to be the same by id.
pub fn find(
    contact_records: &[MatchRecord],
    records: &[MatchRecord],
    direct: &[(usize, usize)],
    model: &Model,
    tf: &TermFrequencies,
    config: &MatchConfig,
) -> Vec<Option<Found>> {
    let nc = contact_records.len();
    let mut pairs: Vec<(f64, usize, usize)> = direct.iter().map(|&(c, r)| (1.0, c, r)).collect();
    // Only contact–record pairs are made; they are scored side by side and sorted after,
    // so the order they come in does not matter.
    let candidates = block::candidate_pairs_across(
        contact_records,
        records,
        config.scope,
        block::Limits::default(),
    );
    let scorer = model.scorer();
    pairs.par_extend(candidates.into_par_iter().filter_map(|(a, b)| {
        let (a, b) = (a as usize, b as usize - nc);
        let (ra, rb) = (&contact_records[a], &records[b]);
        let p = scorer.score(&Levels::of(ra, rb), ra, Some(tf)).probability;
        (p >= config.match_threshold && !conflict(ra, rb)).then_some((p, a, b))
    }));
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut found: Vec<Option<Found>> = vec![None; nc];
    let mut taken = vec![false; records.len()];
    for (probability, c, r) in pairs {
        if found[c].is_none() && !taken[r] {
            found[c] = Some(Found {
                record: r,
                probability,
            });
            taken[r] = true;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{Email, Lead, Phone, SourceRef, System};

    fn lead(key: &str, agent: &str, first: &str, last: &str, email: &str, phone: &str) -> Lead {
        let mut l = Lead::new(System::Maxwork, SourceRef::default());
        l.lead_key = key.into();
        l.agent_id = Some(agent.into());
        l.first_name = Some(first.into());
        l.last_name = Some(last.into());
        l.email = (!email.is_empty()).then(|| Email(email.into()));
        l.phone = (!phone.is_empty()).then(|| Phone(phone.into()));
        l
    }

    fn contact(agent: &str, first: &str, last: &str, email: &str, phone: &str) -> Contact {
        let l = lead("x:1", agent, first, last, email, phone);
        crate::dedupe::survive::golden(&[&l], &[], "c-1", "p-1")
    }

    #[test]
    fn same_person_same_agent_is_found_other_agent_is_not() {
        let contacts = vec![
            contact("a1", "Ann", "Lee", "ann.lee@gmail.com", "+13125550142"),
            contact("a1", "Bob", "Kim", "bob.kim@yahoo.com", "+13125550199"),
        ];
        let existing = vec![
            lead(
                "maxwork:1",
                "a2",
                "Bob",
                "Kim",
                "bob.kim@yahoo.com",
                "+13125550199",
            ),
            lead(
                "maxwork:2",
                "a1",
                "Ann",
                "Lee",
                "annlee@gmail.com",
                "+13125550142",
            ),
        ];
        let found = find(
            &crate::dedupe::contact_records(&contacts),
            &crate::dedupe::records(&existing),
            &[],
            &Model::default(),
            &TermFrequencies::of(&[]),
            &MatchConfig::default(),
        );
        assert_eq!(found[0].map(|f| f.record), Some(1));
        assert_eq!(
            found[1], None,
            "another agent's Bob is another contact in agent scope"
        );
    }

    #[test]
    fn a_shared_id_wins_and_each_record_is_used_once() {
        let contacts = vec![
            contact("a1", "Ann", "Lee", "ann.lee@gmail.com", "+13125550142"),
            contact("a1", "Ann", "Lee", "ann.lee@gmail.com", "+13125550142"),
        ];
        let existing = vec![lead(
            "maxwork:1",
            "a1",
            "Ann",
            "Lee",
            "ann.lee@gmail.com",
            "",
        )];
        let found = find(
            &crate::dedupe::contact_records(&contacts),
            &crate::dedupe::records(&existing),
            &[(1, 0)],
            &Model::default(),
            &TermFrequencies::of(&[]),
            &MatchConfig::default(),
        );
        assert_eq!(found[1].map(|f| f.probability), Some(1.0));
        assert_eq!(found[0], None);
    }
}
