//! Dedupe: leads → contacts.
//!
//! [`MatchRecord`] is the part of a lead matching looks at (folded names, emails, phones,
//! place, agent); [`block`] finds candidate pairs without comparing all pairs;
//! [`compare`] grades each field of a pair; [`score`] turns grades into Fellegi-Sunter
//! match weights with m/u probabilities estimated from the data (EM); [`cluster`] joins
//! matches into contacts with a guard against chaining; [`survive`] makes each contact's
//! golden record. [`link`] runs them in that order.

pub mod block;
pub mod cluster;
pub mod compare;
pub mod existing;
pub mod nicknames;
pub mod score;
pub mod survive;

use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::lead::{Lead, PhoneKind};
use crate::pipeline::config::MatchConfig;
use score::{Model, Score, TermFrequencies};
use survive::Contact;

/// Which leads may become one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only leads of the same agent (Maxwork's rule: same phone or email for the same
    /// agent is one contact).
    #[default]
    Agent,
    /// One contact per person across agents.
    Global,
}

/// What matching reads of a lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchRecord {
    /// Agent id ("" when none).
    pub agent: String,
    /// First name, folded.
    pub first: String,
    /// Last name, folded.
    pub last: String,
    /// Emails (normalized), up to two.
    pub emails: Vec<String>,
    /// Phones (E.164), up to two.
    pub phones: Vec<String>,
    /// Whether the primary phone can be a mobile (mobile or fixed-or-mobile).
    pub mobile: bool,
    /// Postcode as written.
    pub postcode: String,
    /// City as written.
    pub city: String,
    /// Emails prepared for comparison (see [`MatchRecord::prepared`]).
    pub prepared_emails: Vec<compare::PreparedEmail>,
    /// Whether every email's local part is made of the name alone.
    pub name_made_emails: bool,
    /// Place prepared for comparison.
    pub prepared_place: compare::PreparedPlace,
}

impl MatchRecord {
    /// The match view of a lead.
    pub fn of(lead: &Lead) -> MatchRecord {
        MatchRecord {
            agent: lead.agent_id.clone().unwrap_or_default(),
            first: compare::fold(lead.first_name.as_deref().unwrap_or("")),
            last: compare::fold(lead.last_name.as_deref().unwrap_or("")),
            emails: [&lead.email, &lead.email2]
                .into_iter()
                .flatten()
                .map(|e| e.as_str().to_string())
                .collect(),
            phones: [&lead.phone, &lead.phone2]
                .into_iter()
                .flatten()
                .map(|p| p.as_str().to_string())
                .collect(),
            mobile: matches!(
                lead.phone_kind,
                PhoneKind::Mobile | PhoneKind::FixedOrMobile
            ),
            postcode: lead.postcode.clone().unwrap_or_default(),
            city: lead.city.clone().unwrap_or_default(),
            ..MatchRecord::default()
        }
        .prepared()
    }

    /// Fills the prepared fields from the plain ones: done once per record so that
    /// comparing a pair allocates nothing.
    pub fn prepared(mut self) -> MatchRecord {
        self.prepared_emails = self
            .emails
            .iter()
            .filter(|e| !e.is_empty())
            .map(|e| compare::PreparedEmail::new(e))
            .collect();
        self.name_made_emails = !self.prepared_emails.is_empty()
            && self
                .emails
                .iter()
                .all(|e| compare::local_is_name(e, &self.first, &self.last));
        self.prepared_place = compare::PreparedPlace::new(&self.postcode, &self.city);
        self
    }
}

#[cfg(test)]
impl MatchRecord {
    /// A record with the given fields ("" for none), for tests.
    pub(crate) fn sample(agent: &str, first: &str, last: &str, email: &str, phone: &str) -> Self {
        let one = |s: &str| (!s.is_empty()).then(|| s.to_string()).into_iter().collect();
        MatchRecord {
            agent: agent.into(),
            first: first.into(),
            last: last.into(),
            emails: one(email),
            phones: one(phone),
            ..MatchRecord::default()
        }
        .prepared()
    }
}

/// The field levels of one candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Levels {
    /// Phones.
    pub phone: compare::PhoneLevel,
    /// Emails.
    pub email: compare::EmailLevel,
    /// First names.
    pub first: compare::FirstNameLevel,
    /// Last names.
    pub last: compare::LastNameLevel,
    /// Place.
    pub place: compare::PlaceLevel,
}

impl Levels {
    /// Compares two records field by field (their prepared fields).
    pub fn of(a: &MatchRecord, b: &MatchRecord) -> Levels {
        let (first, last) = compare::names_folded(&a.first, &a.last, &b.first, &b.last);
        let mut email = compare::prepared_emails(&a.prepared_emails, &b.prepared_emails);
        if matches!(
            email,
            compare::EmailLevel::SameLocalPart | compare::EmailLevel::Edits
        ) && a.name_made_emails
            && b.name_made_emails
        {
            // ann.lee@gmail.com and ann.lee@yahoo.com, maria.silva@ and mariana.silva@: the
            // names were compared already; addresses made of them add nothing.
            email = compare::EmailLevel::Different;
        }
        Levels {
            phone: compare::phones(&a.phones, &b.phones),
            email,
            first,
            last,
            place: compare::prepared_place(&a.prepared_place, &b.prepared_place),
        }
    }

    /// Level indices in comparator order (phone, email, first, last, place).
    pub fn indices(&self) -> [usize; 5] {
        [
            self.phone.index(),
            self.email.index(),
            self.first.index(),
            self.last.index(),
            self.place.index(),
        ]
    }
}

/// What became of a scored pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// The two leads are one contact.
    Match,
    /// Borderline, or a match the chaining guard refused: for a person to decide.
    Review,
    /// Not the same contact.
    NonMatch,
    /// Leads of different agents (agent scope): compared for person links only.
    OtherAgent,
}

impl Decision {
    /// The name in `matches.parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Review => "review",
            Decision::NonMatch => "non_match",
            Decision::OtherAgent => "other_agent",
        }
    }
}

/// One compared candidate pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// First lead (index into the sorted leads).
    pub a: u32,
    /// Second lead.
    pub b: u32,
    /// Field levels.
    pub levels: Levels,
    /// Weights and probability.
    pub score: Score,
    /// Outcome.
    pub decision: Decision,
}

/// The result of linking.
#[derive(Debug, Clone)]
pub struct Linkage {
    /// Golden records, sorted by contact id.
    pub contacts: Vec<Contact>,
    /// Every scored pair, in lead order.
    pub pairs: Vec<ScoredPair>,
    /// The model used (estimated or default).
    pub model: Model,
}

/// Random pairs compared to estimate u.
const U_SAMPLES: usize = 100_000;
/// EM iterations at most.
const EM_ITERATIONS: usize = 50;

fn short_id(prefix: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// Links leads (sorted by `lead_key`) into contacts: sets each lead's `contact_id` and
/// `match_score`, and returns the golden records and every scored pair.
pub fn link(leads: &mut [Lead], config: &MatchConfig) -> Linkage {
    let records: Vec<MatchRecord> = leads.par_iter().map(MatchRecord::of).collect();
    let candidates = block::candidate_pairs(&records, Scope::Global, block::Limits::default());
    let levels: Vec<Levels> = candidates
        .par_iter()
        .map(|&(a, b)| Levels::of(&records[a as usize], &records[b as usize]))
        .collect();
    let mut start = Model::default();
    if let Some(u) = score::estimate_u(&records, U_SAMPLES, &start.u) {
        start.u = u;
    }
    let model = score::estimate(&levels, records.len(), &start, EM_ITERATIONS);
    let tf = TermFrequencies::of(&records);
    let in_scope = |a: u32, b: u32| {
        config.scope == Scope::Global || records[a as usize].agent == records[b as usize].agent
    };
    let mut pairs: Vec<ScoredPair> = candidates
        .par_iter()
        .zip(levels.par_iter())
        .map(|(&(a, b), lv)| ScoredPair {
            a,
            b,
            levels: *lv,
            score: model.score(lv, &records[a as usize], Some(&tf)),
            decision: Decision::NonMatch,
        })
        .collect();
    let edges = |scoped: bool| -> Vec<cluster::Edge> {
        pairs
            .iter()
            .filter(|p| !scoped || in_scope(p.a, p.b))
            .map(|p| cluster::Edge {
                a: p.a,
                b: p.b,
                probability: p.score.probability,
            })
            .collect()
    };
    let contact_of = cluster::clusters(&records, &edges(true), config.match_threshold);
    let person_of = match config.scope {
        Scope::Global => contact_of.clone(),
        Scope::Agent => cluster::clusters(&records, &edges(false), config.match_threshold),
    };
    for p in pairs.iter_mut() {
        let prob = p.score.probability;
        p.decision = if !in_scope(p.a, p.b) {
            Decision::OtherAgent
        } else if contact_of[p.a as usize] == contact_of[p.b as usize]
            && prob >= config.match_threshold
        {
            Decision::Match
        } else if prob >= config.review_threshold {
            Decision::Review
        } else {
            Decision::NonMatch
        };
    }
    // Ids come from the smallest lead key of each cluster (leads are sorted by key, so
    // that is the cluster's smallest index).
    let ids: Vec<String> = (0..leads.len())
        .map(|i| short_id("c", &leads[contact_of[i] as usize].lead_key))
        .collect();
    let persons: Vec<String> = (0..leads.len())
        .map(|i| short_id("p", &leads[person_of[i] as usize].lead_key))
        .collect();
    let mut best: Vec<Option<f64>> = vec![None; leads.len()];
    for p in pairs.iter().filter(|p| p.decision == Decision::Match) {
        for i in [p.a as usize, p.b as usize] {
            best[i] =
                Some(best[i].map_or(p.score.probability, |b: f64| b.max(p.score.probability)));
        }
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); leads.len()];
    for (i, &c) in contact_of.iter().enumerate() {
        members[c as usize].push(i);
    }
    for (i, lead) in leads.iter_mut().enumerate() {
        lead.contact_id = Some(ids[i].clone());
        lead.match_score = best[i];
    }
    let leads: &[Lead] = leads;
    let mut contacts: Vec<Contact> = members
        .par_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(root, m)| {
            let refs: Vec<&Lead> = m.iter().map(|&i| &leads[i]).collect();
            survive::golden(
                &refs,
                &config.system_priority,
                ids[root].clone(),
                persons[root].clone(),
            )
        })
        .collect();
    contacts.sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
    Linkage {
        contacts,
        pairs,
        model,
    }
}
