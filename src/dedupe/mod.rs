//! Dedupe: leads → contacts.
//!
//! [`MatchRecord`] is the part of a lead matching looks at (folded names, emails, phones,
//! place, agent); [`block`] finds candidate pairs without comparing all pairs;
//! [`compare`] grades each field of a pair; [`score`] turns grades into Fellegi-Sunter
//! match weights with m/u probabilities estimated from the data (EM); [`cluster`] joins
//! matches into contacts with a guard against chaining; [`survive`] makes each contact's
//! golden record. [`train`] estimates the model from every lead; [`link`] then links the
//! leads it is given (all of them, or one shard's agents) and [`link_persons`] joins
//! contacts of different agents that are one person. [`link_all`] runs the three.

pub mod block;
pub mod cluster;
pub mod compare;
pub mod existing;
pub mod nicknames;
pub mod score;
pub mod survive;

use compact_str::CompactString;
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::lead::{Lead, LeadHead, PhoneKind};
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

/// What matching reads of a lead. Names, agent, phones and most of the prepared emails'
/// parts are inline strings: a million records are scored against each other several
/// million times, and each one's fields sit together instead of in many heap strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchRecord {
    /// Agent id ("" when none).
    pub agent: CompactString,
    /// First name, folded.
    pub first: CompactString,
    /// Last name, folded.
    pub last: CompactString,
    /// Phones (E.164), up to two.
    pub phones: Phones,
    /// Whether the primary phone can be a mobile (mobile or fixed-or-mobile).
    pub mobile: bool,
    /// Whether every email's local part is made of the name alone.
    pub name_made_emails: bool,
    /// The emails (normalized, non-empty), prepared for comparison (see
    /// [`MatchRecord::prepared`]); each one's `address` is the email.
    pub prepared_emails: Box<[compare::PreparedEmail]>,
    /// Place prepared for comparison.
    pub prepared_place: compare::PreparedPlace,
}

/// Up to two phones, held in place (a record never has more: `phone` and `phone2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phones {
    items: [CompactString; 2],
    len: u8,
}

impl std::ops::Deref for Phones {
    type Target = [CompactString];
    fn deref(&self) -> &[CompactString] {
        &self.items[..usize::from(self.len)]
    }
}

impl<'a> FromIterator<&'a str> for Phones {
    /// The first two phones of `items` (more are ignored).
    fn from_iter<I: IntoIterator<Item = &'a str>>(items: I) -> Phones {
        let mut phones = Phones::default();
        for (slot, p) in phones.items.iter_mut().zip(items) {
            *slot = p.into();
            phones.len += 1;
        }
        phones
    }
}

impl MatchRecord {
    /// The match view of a lead.
    pub fn of(lead: &Lead) -> MatchRecord {
        MatchRecord::of_head(&LeadHead::of(lead))
    }

    /// The record of a lead from its head (a packed lead's, read without the rest).
    pub fn of_head(lead: &LeadHead<'_>) -> MatchRecord {
        MatchRecord {
            mobile: matches!(
                lead.phone_kind,
                PhoneKind::Mobile | PhoneKind::FixedOrMobile
            ),
            ..MatchRecord::made(
                lead.agent_id,
                [lead.first_name, lead.last_name],
                [lead.phone, lead.phone2],
                [lead.email, lead.email2],
                [lead.postcode, lead.city],
            )
        }
    }

    /// A record of the fields leads and golden records share: agent, first and last name
    /// (as written; folded here), phones, emails (normalized) and place (postcode and
    /// city as written).
    pub(crate) fn made(
        agent: Option<&str>,
        [first, last]: [Option<&str>; 2],
        phones: [Option<&str>; 2],
        emails: [Option<&str>; 2],
        [postcode, city]: [Option<&str>; 2],
    ) -> MatchRecord {
        MatchRecord {
            agent: agent.unwrap_or("").into(),
            first: compare::fold(first.unwrap_or("")),
            last: compare::fold(last.unwrap_or("")),
            phones: phones.into_iter().flatten().collect(),
            ..MatchRecord::default()
        }
        .prepared(
            emails.into_iter().flatten(),
            postcode.unwrap_or(""),
            city.unwrap_or(""),
        )
    }

    /// Fills the prepared fields from the emails (normalized; blank ones are skipped), the
    /// names and the place (postcode and city as written, kept only prepared): done once
    /// per record so that comparing a pair allocates nothing.
    pub fn prepared<'e>(
        mut self,
        emails: impl IntoIterator<Item = &'e str>,
        postcode: &str,
        city: &str,
    ) -> MatchRecord {
        self.prepared_emails = emails
            .into_iter()
            .filter(|e| !e.is_empty())
            .map(compare::PreparedEmail::new)
            .collect();
        self.name_made_emails = !self.prepared_emails.is_empty()
            && self
                .prepared_emails
                .iter()
                .all(|e| compare::local_is_name(e.address(), &self.first, &self.last));
        self.prepared_place = compare::PreparedPlace::new(postcode, city);
        self
    }
}

#[cfg(test)]
impl MatchRecord {
    /// A record with the given fields ("" for none), for tests.
    pub(crate) fn sample(agent: &str, first: &str, last: &str, email: &str, phone: &str) -> Self {
        MatchRecord {
            agent: agent.into(),
            first: first.into(),
            last: last.into(),
            phones: [phone].into_iter().filter(|p| !p.is_empty()).collect(),
            ..MatchRecord::default()
        }
        .prepared([email], "", "")
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
}

impl Decision {
    /// Every decision, in declaration order (so `ALL[d as usize] == d`).
    pub const ALL: [Decision; 3] = [Decision::Match, Decision::Review, Decision::NonMatch];

    /// The name in `matches.parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Review => "review",
            Decision::NonMatch => "non_match",
        }
    }
}

/// One compared candidate pair. A million leads make ten million of these, so a pair
/// keeps only what its levels and the model cannot give back: its probability and the
/// name weights (term frequencies make those the pair's own). [`ScoredPair::score`]
/// rebuilds the rest, to the same bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// First lead (index into the sorted leads).
    pub a: u32,
    /// Second lead.
    pub b: u32,
    /// Match probability.
    pub probability: f64,
    /// Weights of the first and last name comparators.
    names: [f64; 2],
    /// Field levels.
    pub levels: Levels,
    /// Outcome.
    pub decision: Decision,
}

impl ScoredPair {
    /// Comparators whose weight a pair keeps (the others follow from the levels).
    const NAMES: [usize; 2] = [2, 3];

    /// A pair scored `score` (by `model`), not decided yet.
    pub fn new(a: u32, b: u32, levels: Levels, score: &Score) -> ScoredPair {
        ScoredPair {
            a,
            b,
            probability: score.probability,
            names: Self::NAMES.map(|c| score.parts[c]),
            levels,
            decision: Decision::NonMatch,
        }
    }

    /// The pair's weights and probability as the model scored them.
    pub fn score(&self, scorer: &score::Scorer<'_>) -> Score {
        let idx = self.levels.indices();
        let mut parts: [f64; 5] = std::array::from_fn(|c| scorer.weight(c, idx[c]));
        for (k, c) in Self::NAMES.into_iter().enumerate() {
            parts[c] = self.names[k];
        }
        scorer.of_parts(parts)
    }
}

/// What a run reports of its scored pairs (the manifest's counts, the report's chart),
/// counted once so that the pairs themselves can be written to `matches.parquet` and freed
/// as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairCounts {
    /// Scored (candidate) pairs.
    pub pairs: usize,
    /// Pairs by decision, in [`Decision::ALL`]'s order.
    pub decisions: [usize; Decision::ALL.len()],
    /// Pairs per tenth of match probability ([`probability_tenth`]).
    pub probabilities: [usize; 10],
}

impl PairCounts {
    /// Counts `pairs`.
    pub fn of(pairs: &[ScoredPair]) -> PairCounts {
        let mut counts = PairCounts {
            pairs: pairs.len(),
            ..PairCounts::default()
        };
        for p in pairs {
            counts.decisions[p.decision as usize] += 1;
            counts.probabilities[probability_tenth(p.probability)] += 1;
        }
        counts
    }
}

/// The tenth of match probability (0 to 9; 1.0 counts in the last) a probability is in.
pub fn probability_tenth(p: f64) -> usize {
    ((p * 10.0) as usize).min(9)
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
    /// Name frequencies over every lead the model was trained on.
    pub tf: TermFrequencies,
    /// Pairs of contacts of different agents scored at or above the match threshold as
    /// one person, in contact order.
    pub person_links: Vec<PersonLink>,
}

/// Two contacts of different agents that score as one person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonLink {
    /// First contact (index into the contacts, sorted by id).
    pub a: u32,
    /// Second contact.
    pub b: u32,
    /// Field levels of their golden records.
    pub levels: Levels,
    /// Weights and probability.
    pub score: Score,
    /// Whether the link joined them: the chaining guard refuses a link that would put
    /// together records that name different people.
    pub linked: bool,
}

/// Random pairs compared to estimate u.
const U_SAMPLES: usize = 100_000;
/// EM iterations at most.
const EM_ITERATIONS: usize = 50;
/// Leads up to which m and the prior train on the candidate pairs of every lead. Above
/// this the candidate pairs of a sample of about this many leads train them (chosen by a
/// hash of the lead key, so every run and every shard picks the same): EM over level
/// patterns needs thousands of matching pairs, not millions, and blocking and comparing
/// every pair of a million leads only to train would cost as much as linking them.
/// 125,000 rather than 250,000: the same contact F1 at a million generated leads (0.9880),
/// 0.0001 less at 300,000 (0.9889), for 1-2.5 s less per run (a sample's candidate pairs
/// grow about as the square of its size).
pub const TRAIN_LEADS: usize = 125_000;

/// A deterministic id: `prefix-` and 12 hex digits of the key's SHA-256.
pub fn short_id(prefix: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(prefix.len() + 13);
    out.push_str(prefix);
    out.push('-');
    crate::hex::push(&mut out, &digest[..6]);
    out
}

/// The match view of every lead, in lead order.
pub fn records(leads: &[Lead]) -> Vec<MatchRecord> {
    leads.par_iter().map(MatchRecord::of).collect()
}

/// What linking needs from the whole input, whatever part of it one run links: the model
/// (m, u and prior) and the name frequencies.
#[derive(Debug, Clone)]
pub struct Trained {
    /// m, u and the prior.
    pub model: Model,
    /// Name frequencies.
    pub tf: TermFrequencies,
}

fn stable_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same on every run and machine.
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// Estimates the model from every lead (sorted by `lead_key`; `key(i)` is lead `i`'s) and
/// its match record: u from
/// random pairs of all records, m and the prior by EM over the candidate pairs of all
/// leads (every agent: the same person under two agents trains m too), or of a sample when
/// there are more than [`TRAIN_LEADS`]. A sharded run trains on every lead too, so each
/// shard has the model a single run would.
pub fn train<'k>(key: &(dyn Fn(usize) -> &'k str + Sync), records: &[MatchRecord]) -> Trained {
    let cut = if records.len() > TRAIN_LEADS {
        (u64::MAX as f64 * (TRAIN_LEADS as f64 / records.len() as f64)) as u64
    } else {
        u64::MAX
    };
    let training: Vec<&MatchRecord> = records
        .iter()
        .enumerate()
        .filter(|&(i, _)| cut == u64::MAX || stable_hash(key(i)) <= cut)
        .map(|(_, r)| r)
        .collect();
    let candidates = block::candidate_pairs(&training, Scope::Global, block::Limits::default());
    let levels: Vec<Levels> = candidates
        .par_iter()
        .map(|&(a, b)| Levels::of(training[a as usize], training[b as usize]))
        .collect();
    let mut start = Model::default();
    // Counting names over every record needs nothing of u: side by side.
    let (u, tf) = rayon::join(
        || score::estimate_u(records, U_SAMPLES, &start.u),
        || TermFrequencies::of(records),
    );
    if let Some(u) = u {
        start.u = u;
    }
    Trained {
        model: score::estimate(&levels, training.len(), &start, EM_ITERATIONS),
        tf,
    }
}

/// Links leads (sorted by `lead_key`, with their match records) into contacts with a
/// trained model: sets each lead's `contact_id` and `match_score`, and returns the golden
/// records and every scored pair; the golden records carry their members' extra fields
/// only when `keep_custom` (payload targets need them). Person links come after, from
/// [`link_persons`], once contact ids are final. In agent scope only leads of one agent are
/// compared, so the agents' leads can be linked apart (`--shard`). [`link_clusters`] and
/// [`golden_records`], at once.
pub fn link(
    leads: &mut [Lead],
    records: Vec<MatchRecord>,
    trained: Trained,
    config: &MatchConfig,
    keep_custom: bool,
) -> Linkage {
    let (clusters, mut linkage) = link_clusters(leads, records, trained, config);
    let leads: &[Lead] = leads;
    linkage.contacts = golden_records(|i| &leads[i as usize], &clusters, config, keep_custom);
    linkage
        .contacts
        .par_sort_unstable_by(|a, b| a.contact_id.cmp(&b.contact_id));
    linkage
}

/// A contact's id and member leads, without its golden record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactKeys {
    /// Deterministic id: `c-` and a hash of the smallest member lead key.
    pub contact_id: String,
    /// Member leads (indices into the sorted leads), in lead order.
    pub members: Vec<u32>,
    /// Member lead keys, sorted (the members' keys, as the leads are sorted by key).
    pub lead_keys: Vec<CompactString>,
}

/// The golden records of `contacts`, in their order; `member(i)` is lead `i` (borrowed
/// from the leads at hand, or unpacked).
pub fn golden_records<L: std::borrow::Borrow<Lead>>(
    member: impl Fn(u32) -> L + Sync,
    contacts: &[ContactKeys],
    config: &MatchConfig,
    keep_custom: bool,
) -> Vec<Contact> {
    contacts
        .par_iter()
        .map(|c| {
            let members: Vec<L> = c.members.iter().map(|&i| member(i)).collect();
            let refs: Vec<&Lead> = members.iter().map(L::borrow).collect();
            golden_of(&refs, &c.contact_id, config, keep_custom)
        })
        .collect()
}

/// The golden record of the contact `contact_id` made of `members`, as linking makes it
/// (no person yet; extra fields kept only when `keep_custom`).
pub fn golden_of(
    members: &[&Lead],
    contact_id: &str,
    config: &MatchConfig,
    keep_custom: bool,
) -> Contact {
    survive::golden_with(
        members,
        &config.system_priority,
        contact_id,
        "",
        keep_custom,
    )
}

/// Links leads as [`link`] does, but stops short of the golden records: returns each
/// contact's id and members (in the order of their smallest lead), and the linkage with
/// no contacts yet. The match records are freed once the clusters are known.
pub fn link_clusters(
    leads: &mut [Lead],
    records: Vec<MatchRecord>,
    trained: Trained,
    config: &MatchConfig,
) -> (Vec<ContactKeys>, Linkage) {
    let (contacts, linkage, scores) = {
        let leads: &[Lead] = leads;
        link_keys(&|i| leads[i].lead_key.as_str(), records, trained, config)
    };
    for c in &contacts {
        for &i in &c.members {
            let lead = &mut leads[i as usize];
            lead.contact_id = Some(c.contact_id.as_str().into());
            lead.match_score = scores[i as usize];
        }
    }
    (contacts, linkage)
}

/// [`link_clusters`] for leads that are not at hand: `key(i)` is lead `i`'s key (one per
/// match record). Returns each lead's match score too (the strongest match probability
/// that put it in its contact), instead of setting it.
pub fn link_keys<'k>(
    key: &(dyn Fn(usize) -> &'k str + Sync),
    records: Vec<MatchRecord>,
    trained: Trained,
    config: &MatchConfig,
) -> (Vec<ContactKeys>, Linkage, Vec<Option<f64>>) {
    let n = records.len();
    let Trained { model, tf } = trained;
    let candidates = crate::allocator::hand_back_freed(|| {
        block::candidate_pairs(&records, config.scope, block::Limits::default())
    });
    let scorer = model.scorer();
    let mut pairs: Vec<ScoredPair> = candidates
        .par_iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            prefetch_ahead(&records, &candidates, i);
            let (ra, rb) = (&records[a as usize], &records[b as usize]);
            let levels = Levels::of(ra, rb);
            ScoredPair::new(a, b, levels, &scorer.score(&levels, ra, Some(&tf)))
        })
        .collect();
    drop(candidates);
    let edges: Vec<cluster::Edge> = pairs
        .iter()
        .filter(|p| p.probability >= config.match_threshold)
        .map(|p| cluster::Edge {
            a: p.a,
            b: p.b,
            probability: p.probability,
        })
        .collect();
    let contact_of = cluster::clusters(&records, &edges, config.match_threshold);
    drop(edges);
    // Freed here, on the pool's threads: their memory is theirs again at once for the
    // golden records (freed on a thread of its own, it was not yet, and the golden
    // records took fresh memory beside it).
    crate::allocator::drop_on_pool(records);
    pairs.par_iter_mut().for_each(|p| {
        let prob = p.probability;
        p.decision = if contact_of[p.a as usize] == contact_of[p.b as usize]
            && prob >= config.match_threshold
        {
            Decision::Match
        } else if prob >= config.review_threshold {
            Decision::Review
        } else {
            Decision::NonMatch
        };
    });
    let mut best: Vec<Option<f64>> = vec![None; n];
    for p in pairs.iter().filter(|p| p.decision == Decision::Match) {
        for i in [p.a as usize, p.b as usize] {
            best[i] = Some(best[i].map_or(p.probability, |b: f64| b.max(p.probability)));
        }
    }
    // Members of each cluster, in lead order, without a vector per lead.
    let mut order: Vec<u32> = (0..n as u32).collect();
    // The keys are distinct (the index is one of them): unstable is the same order.
    order.par_sort_unstable_by_key(|&i| (contact_of[i as usize], i));
    let groups: Vec<&[u32]> = order
        .chunk_by(|&x, &y| contact_of[x as usize] == contact_of[y as usize])
        .collect();
    // Ids come from the smallest lead key of each cluster (leads are sorted by key, so
    // that is the cluster's smallest index, its root).
    let ids: Vec<String> = groups
        .par_iter()
        .map(|m| short_id("c", key(m[0] as usize)))
        .collect();
    let contacts: Vec<ContactKeys> = groups
        .iter()
        .zip(ids)
        .map(|(m, contact_id)| ContactKeys {
            contact_id,
            members: m.to_vec(),
            lead_keys: m.iter().map(|&i| key(i as usize).into()).collect(),
        })
        .collect();
    let linkage = Linkage {
        contacts: Vec::new(),
        pairs,
        model,
        tf,
        person_links: Vec::new(),
    };
    (contacts, linkage, best)
}

/// How many pairs ahead of the one being scored its records' memory is asked for: the
/// record twice as far ahead (its emails' address is in it), its emails this far.
const PREFETCH_PAIRS: usize = 8;

/// Asks for the memory that scoring `pairs[i + PREFETCH_PAIRS]` and, a step earlier, the
/// pair twice as far will read: the second record of a pair is anywhere among the
/// records (pairs are sorted by the first), see [`crate::prefetch`].
#[inline(always)]
fn prefetch_ahead<R: std::borrow::Borrow<MatchRecord>>(
    records: &[R],
    pairs: &[(u32, u32)],
    i: usize,
) {
    if let Some(&(_, b)) = pairs.get(i + 2 * PREFETCH_PAIRS) {
        crate::prefetch::value(records[b as usize].borrow());
    }
    if let Some(&(_, b)) = pairs.get(i + PREFETCH_PAIRS) {
        if let Some(email) = records[b as usize].borrow().prepared_emails.first() {
            crate::prefetch::value(email);
        }
    }
}

/// Trains on `leads` (sorted by `lead_key`) and links them: [`train`], [`link`], then
/// [`link_persons`].
pub fn link_all(leads: &mut [Lead], config: &MatchConfig) -> Linkage {
    let records = records(leads);
    let trained = train(&|i| leads[i].lead_key.as_str(), &records);
    let mut linkage = link(leads, records, trained, config, true);
    linkage.person_links = link_persons(&mut linkage.contacts, &linkage.model, config);
    linkage
}

/// Sets `person_id` on contacts (sorted by contact id): in agent scope, contacts of
/// different agents that are one person share it — their golden records meet through an
/// email or a phone, score at or above the match threshold and pass the chaining guard;
/// in global scope every contact is its own person. The id hashes the smallest lead key of
/// the person's contacts, so it does not depend on which contacts were linked together
/// first, and `leadrecon merge` gets the same ids from the shards' contacts. Returns the
/// scored links.
pub fn link_persons(
    contacts: &mut [Contact],
    model: &Model,
    config: &MatchConfig,
) -> Vec<PersonLink> {
    let records = match config.scope {
        Scope::Global => Vec::new(),
        Scope::Agent => contact_records(contacts),
    };
    link_persons_with(contacts, &records, model, config)
}

/// The match records of golden records ([`MatchRecord::of_contact`]), in their order.
pub fn contact_records(contacts: &[Contact]) -> Vec<MatchRecord> {
    contacts.par_iter().map(MatchRecord::of_contact).collect()
}

/// [`link_persons`] with the contacts' match records made already ([`contact_records`];
/// unused in global scope), for a run that matches them to targets' records after.
pub fn link_persons_with(
    contacts: &mut [Contact],
    records: &[MatchRecord],
    model: &Model,
    config: &MatchConfig,
) -> Vec<PersonLink> {
    fn smallest_key(c: &Contact) -> &str {
        c.lead_keys.first().map_or("", CompactString::as_str)
    }
    if config.scope == Scope::Global {
        contacts
            .par_iter_mut()
            .for_each(|c| c.person_id = short_id("p", smallest_key(c)).into());
        return Vec::new();
    }
    let scorer = model.scorer();
    let mut links: Vec<PersonLink> = block::contact_pairs(records)
        .into_par_iter()
        .filter_map(|(a, b)| {
            let (ra, rb) = (&records[a as usize], &records[b as usize]);
            if ra.agent == rb.agent {
                return None;
            }
            let levels = Levels::of(ra, rb);
            let score = scorer.score(&levels, ra, None);
            (score.probability >= config.match_threshold).then_some(PersonLink {
                a,
                b,
                levels,
                score,
                linked: false,
            })
        })
        .collect();
    let edges: Vec<cluster::Edge> = links
        .iter()
        .map(|l| cluster::Edge {
            a: l.a,
            b: l.b,
            probability: l.score.probability,
        })
        .collect();
    let person_of = cluster::clusters(records, &edges, config.match_threshold);
    for l in links.iter_mut() {
        l.linked = person_of[l.a as usize] == person_of[l.b as usize];
    }
    // Each person's id comes from the smallest lead key among its contacts.
    let mut key: Vec<Option<&str>> = vec![None; contacts.len()];
    for (i, c) in contacts.iter().enumerate() {
        let k = smallest_key(c);
        let slot = &mut key[person_of[i] as usize];
        if slot.is_none_or(|s| k < s) {
            *slot = Some(k);
        }
    }
    let ids: Vec<String> = key
        .par_iter()
        .map(|k| k.map(|k| short_id("p", k)).unwrap_or_default())
        .collect();
    contacts
        .par_iter_mut()
        .zip(&person_of)
        .for_each(|(c, &p)| c.person_id = ids[p as usize].as_str().into());
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs are counted by decision and by tenth of probability, a certain match in the
    /// last tenth.
    #[test]
    fn pair_counts_count_decisions_and_tenths() {
        let levels = Levels {
            phone: compare::PhoneLevel::ALL[0],
            email: compare::EmailLevel::ALL[0],
            first: compare::FirstNameLevel::ALL[0],
            last: compare::LastNameLevel::ALL[0],
            place: compare::PlaceLevel::ALL[0],
        };
        let pair = |probability, decision| ScoredPair {
            a: 0,
            b: 1,
            probability,
            names: [0.0; 2],
            levels,
            decision,
        };
        let pairs = [
            pair(1.0, Decision::Match),
            pair(0.97, Decision::Match),
            pair(0.55, Decision::Review),
            pair(0.0, Decision::NonMatch),
            pair(0.099, Decision::NonMatch),
        ];
        let counts = PairCounts::of(&pairs);
        assert_eq!(counts.pairs, 5);
        assert_eq!(counts.decisions, [2, 1, 2]);
        assert_eq!(counts.probabilities, [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(PairCounts::of(&[]), PairCounts::default());
    }

    #[test]
    fn all_decisions_in_declaration_order() {
        for (i, d) in Decision::ALL.into_iter().enumerate() {
            assert_eq!(d as usize, i, "{}", d.as_str());
        }
    }
}
