//! Fellegi-Sunter scoring.
//!
//! Each comparator level has an m probability (how often true matches reach it) and a u
//! probability (how often random non-matches do); its match weight is log2(m/u), and a
//! pair's total weight is the prior log-odds plus the weights of the levels it reached
//! (`Missing` adds nothing). u comes from comparing random pairs of records (exact phone
//! and email agreement from value counts); m from expectation maximisation in training
//! sessions over the candidate pairs ([`estimate`]); the prior is the probability that two
//! random records are one person. Exact first and last names are adjusted for term
//! frequency: a shared rare surname says more than a common one. Sums run over fixed-size
//! chunks in order, so estimates do not depend on the thread count. Small inputs keep the
//! shipped m and u.

use compact_str::CompactString;
// Looked up for every scored pair: foldhash, not SipHash.
use foldhash::{HashMap, HashMapExt};

use rayon::prelude::*;

use crate::dedupe::compare::{EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel, PlaceLevel};
use crate::dedupe::{Levels, MatchRecord};

/// Comparator names, in [`Levels::indices`] order.
pub const COMPARATORS: [&str; 5] = ["phone", "email", "first_name", "last_name", "place"];

/// Number of levels of each comparator.
pub const LEVEL_COUNTS: [usize; 5] = [
    PhoneLevel::ALL.len(),
    EmailLevel::ALL.len(),
    FirstNameLevel::ALL.len(),
    LastNameLevel::ALL.len(),
    PlaceLevel::ALL.len(),
];

/// Fewer candidate pairs than this and the defaults are kept.
pub const MIN_PAIRS_FOR_EM: usize = 1000;
const CHUNK: usize = 4096;
const FLOOR: f64 = 1e-6;

/// m and u probabilities per comparator level, and the prior.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// Prior probability that two random records are one person.
    pub lambda: f64,
    /// m per comparator, per level (index 0, Missing, unused).
    pub m: [Vec<f64>; 5],
    /// u per comparator, per level.
    pub u: [Vec<f64>; 5],
    /// EM iterations run (0: defaults).
    pub iterations: usize,
}

impl Default for Model {
    /// Shipped defaults, from runs on the labelled benchmark data.
    fn default() -> Model {
        Model {
            lambda: 1e-3,
            m: [
                vec![0.0, 0.80, 0.03, 0.02, 0.15],
                vec![0.0, 0.70, 0.06, 0.03, 0.03, 0.03, 0.15],
                vec![0.0, 0.84, 0.04, 0.04, 0.02, 0.02, 0.02, 0.02],
                vec![0.0, 0.88, 0.06, 0.02, 0.04],
                vec![0.0, 0.60, 0.15, 0.20, 0.05],
            ],
            u: [
                vec![0.0, 0.003, 0.002, 0.001, 0.994],
                vec![0.0, 0.002, 0.0005, 0.0002, 0.001, 0.002, 0.9943],
                vec![0.0, 0.02, 0.003, 0.01, 0.0005, 0.05, 0.01, 0.9065],
                vec![0.0, 0.01, 0.01, 0.04, 0.94],
                vec![0.0, 0.02, 0.05, 0.10, 0.83],
            ],
            iterations: 0,
        }
    }
}

/// How often each folded name occurs among the records.
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    first: HashMap<CompactString, f64>,
    last: HashMap<CompactString, f64>,
}

impl TermFrequencies {
    /// Counts names over the records.
    pub fn of(records: &[MatchRecord]) -> TermFrequencies {
        let mut first: HashMap<CompactString, f64> = HashMap::new();
        let mut last: HashMap<CompactString, f64> = HashMap::new();
        let (mut nf, mut nl) = (0.0, 0.0);
        for r in records {
            if !r.first.is_empty() {
                *first.entry(r.first.clone()).or_default() += 1.0;
                nf += 1.0;
            }
            if !r.last.is_empty() {
                *last.entry(r.last.clone()).or_default() += 1.0;
                nl += 1.0;
            }
        }
        first.values_mut().for_each(|c| *c /= nf);
        last.values_mut().for_each(|c| *c /= nl);
        TermFrequencies { first, last }
    }
}

/// A scored pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Prior log-odds plus every comparator's weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Weight of each comparator's level (term frequency included), in comparator order.
    pub parts: [f64; 5],
}

impl Model {
    /// The prior's weight: log2 of the prior odds.
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// log2(m/u) of one comparator level (0 for Missing).
    pub fn weight(&self, comparator: usize, level: usize) -> f64 {
        if level == 0 {
            return 0.0;
        }
        (self.m[comparator][level].max(FLOOR) / self.u[comparator][level].max(FLOOR)).log2()
    }

    /// Scores one pair; `tf` adjusts exact name agreement by how common the name is.
    /// Makes a [`Scorer`] for the one pair: to score many, make one with
    /// [`Model::scorer`] and score through it.
    pub fn score(&self, levels: &Levels, a: &MatchRecord, tf: Option<&TermFrequencies>) -> Score {
        self.scorer().score(levels, a, tf)
    }

    /// The model ready to score many pairs ([`Scorer`]).
    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            model: self,
            prior: self.prior_weight(),
            weights: std::array::from_fn(|c| {
                std::array::from_fn(|level| {
                    if level < LEVEL_COUNTS[c] {
                        self.weight(c, level)
                    } else {
                        f64::NAN
                    }
                })
            }),
        }
    }
}

/// Levels of the comparator with the most.
const MAX_LEVELS: usize = 8;
const _: () = {
    let mut c = 0;
    while c < LEVEL_COUNTS.len() {
        assert!(LEVEL_COUNTS[c] <= MAX_LEVELS);
        c += 1;
    }
};

/// A model with the prior's weight and every level's weight (two logarithms each)
/// computed once: scoring millions of pairs computed six of them for every pair. Its
/// scores are the model's, to the bit.
pub struct Scorer<'m> {
    model: &'m Model,
    prior: f64,
    weights: [[f64; MAX_LEVELS]; 5],
}

impl Scorer<'_> {
    /// [`Model::score`].
    pub fn score(&self, levels: &Levels, a: &MatchRecord, tf: Option<&TermFrequencies>) -> Score {
        let idx = levels.indices();
        let mut parts: [f64; 5] = std::array::from_fn(|c| self.weights[c][idx[c]]);
        let m = &self.model.m;
        if levels.first == FirstNameLevel::Swapped {
            // "Lee Ann" and "Ann Lee": the swapped level already says both names agree, so
            // the surname adds nothing more; a common name weighs no more than its exact
            // agreement would.
            parts[3] = 0.0;
            if let Some(tf) = tf {
                let freq = |table: &HashMap<CompactString, f64>| {
                    [&a.first, &a.last]
                        .iter()
                        .filter_map(|n| table.get(*n))
                        .fold(1e-4f64, |m, &f| m.max(f))
                        .min(0.2)
                };
                let exact = (m[2][1].max(FLOOR) / freq(&tf.first)).log2()
                    + (m[3][1].max(FLOOR) / freq(&tf.last)).log2();
                parts[2] = parts[2].min(exact);
            }
        } else if let Some(tf) = tf {
            // Replace u of an exact name with the name's own frequency (bounded, so a name
            // seen once does not outweigh everything else).
            if levels.first == FirstNameLevel::Exact {
                if let Some(f) = tf.first.get(&a.first) {
                    parts[2] = (m[2][1].max(FLOOR) / f.clamp(1e-4, 0.2)).log2();
                }
            }
            if levels.last == LastNameLevel::Exact {
                if let Some(f) = tf.last.get(&a.last) {
                    parts[3] = (m[3][1].max(FLOOR) / f.clamp(1e-4, 0.2)).log2();
                }
            }
        }
        self.of_parts(parts)
    }

    /// The score of a pair whose comparator weights are `parts`.
    pub fn of_parts(&self, parts: [f64; 5]) -> Score {
        let weight = self.prior + parts.iter().sum::<f64>();
        Score {
            weight,
            probability: 1.0 / (1.0 + (-weight).exp2()),
            parts,
        }
    }

    /// [`Model::weight`].
    pub fn weight(&self, comparator: usize, level: usize) -> f64 {
        self.weights[comparator][level]
    }
}

/// Weight of the shipped u in the estimate, in pairs: a rare level seen in no sample still
/// gets a plausible u instead of the floor (which would give it an absurd weight).
const U_PSEUDO_PAIRS: f64 = 2000.0;

/// How likely two random records of different people are to share a phone, and an email.
///
/// Sampling cannot see this (one pair in millions), and counting every pair that shares
/// a value would count the same person's leads, which is what matching looks for. So the
/// pairs counted are those sharing a value under different first names (a household's
/// landline, an office phone), with a floor of one hundredth of what two records drawing
/// from the values at random would share (the data's own typing slips).
fn exact_agreement(records: &[MatchRecord]) -> [f64; 2] {
    let n = records.len() as f64;
    let all_pairs = n * (n - 1.0) / 2.0;
    // `field(r, i)`: the record's i-th value of the field.
    let rate = |field: fn(&MatchRecord, usize) -> Option<&str>| -> f64 {
        // How many records hold each value, and each value under each first name: two
        // flat maps (a map of names per value made a million small maps at a million
        // leads, two thirds of a second).
        let mut holders: HashMap<&str, u64> = HashMap::with_capacity(records.len());
        let mut by_name: HashMap<(&str, &str), u64> = HashMap::with_capacity(records.len());
        for r in records {
            for v in (0..).map_while(|i| field(r, i)) {
                *holders.entry(v).or_default() += 1;
                *by_name.entry((v, r.first.as_str())).or_default() += 1;
            }
        }
        if holders.is_empty() || all_pairs < 1.0 {
            return 0.0;
        }
        // Whole numbers far below 2^53: the sums are exact, in whatever order.
        let pairs = |c: &u64| (c * c.saturating_sub(1) / 2) as f64;
        let shared =
            holders.values().map(pairs).sum::<f64>() - by_name.values().map(pairs).sum::<f64>();
        (shared / all_pairs).max(0.01 / holders.len() as f64)
    };
    // Two passes over every record, each on its own core.
    let (phones, emails) = rayon::join(
        || rate(|r, i| r.phones.get(i).map(|p| p.as_str())),
        || rate(|r, i| r.prepared_emails.get(i).map(|e| e.address())),
    );
    [phones, emails]
}

/// u probabilities from up to `samples` pseudo-random pairs of records (a fixed sequence),
/// smoothed towards `prior`. Exact phone and email agreement come from
/// [`exact_agreement`] instead, and their near misses (one digit off, a typo) are taken as
/// rare as the shipped ratio to exact agreement says, unless the sample saw more.
pub fn estimate_u(
    records: &[MatchRecord],
    samples: usize,
    prior: &[Vec<f64>; 5],
) -> Option<[Vec<f64>; 5]> {
    let n = records.len() as u64;
    if n < 50 {
        return None;
    }
    let samples = samples.min((n * 50) as usize);
    let mut rng = fastrand::Rng::with_seed(0x1ead_4ec0);
    let pairs: Vec<(usize, usize)> = (0..samples)
        .map(|_| {
            let a = rng.u64(..n) as usize;
            let mut b = rng.u64(..n) as usize;
            if b == a {
                b = (b + 1) % n as usize;
            }
            (a, b)
        })
        .collect();
    let counts = chunked_sum(&pairs, |&(a, b), c| {
        let idx = Levels::of(&records[a], &records[b]).indices();
        for k in 0..5 {
            c[k][idx[k]] += 1.0;
        }
    });
    let sampled = normalize(counts.clone(), 0.0);
    let mut smoothed = counts;
    for (k, levels) in smoothed.iter_mut().enumerate() {
        for (l, x) in levels.iter_mut().enumerate() {
            *x += U_PSEUDO_PAIRS * prior[k][l];
        }
    }
    let mut u = normalize(smoothed, FLOOR);
    let exact = exact_agreement(records);
    for k in 0..2 {
        if exact[k] <= 0.0 {
            continue;
        }
        let different = u[k].len() - 1;
        u[k][1] = exact[k];
        for l in 2..different {
            let near_miss = k == 0 || EmailLevel::ALL[l] != EmailLevel::SameLocalPart;
            if near_miss {
                u[k][l] = (exact[k] * prior[k][l] / prior[k][1]).max(sampled[k][l]);
            }
        }
        u[k][different] = (1.0 - u[k][1..different].iter().sum::<f64>()).max(FLOOR);
    }
    Some(u)
}

/// A training session: the candidate pairs that agree on one strong field, and the
/// comparators whose m it estimates (all but the ones it selected on).
struct Session {
    select: fn(&Levels) -> bool,
    trains: [bool; 5],
}

const SESSIONS: [Session; 3] = [
    Session {
        // same email
        select: |l| matches!(l.email, EmailLevel::Exact | EmailLevel::SameMailbox),
        trains: [true, false, true, true, true],
    },
    Session {
        // same phone
        select: |l| l.phone == PhoneLevel::Exact,
        trains: [false, true, true, true, true],
    },
    Session {
        // same name
        select: |l| l.first == FirstNameLevel::Exact && l.last == LastNameLevel::Exact,
        trains: [true, true, false, false, true],
    },
];

/// Weight of the shipped m in each EM step, in pairs.
const M_PSEUDO_PAIRS: f64 = 50.0;

/// Fewer pairs than this in a session and it trains nothing.
const MIN_PAIRS_PER_SESSION: usize = 200;

/// m probabilities the way Splink trains them, then the prior.
///
/// EM over all candidate pairs at once finds the wrong mixture: blocking picked pairs that
/// agree on names, so "agrees on names" explains them better than "same person", and the
/// prior runs to 1. Instead each session takes the pairs that agree on one strong field
/// (same email; same phone; same first and last name) and runs EM there on the other
/// fields only, so what a session selected on never trains itself. Each comparator's m is
/// the mean over the sessions that trained it (the shipped default where none could).
/// Last, with m and u fixed, EM gives the prior: the probability that two random records
/// of the `records` are one person (pairs blocking did not propose count as non-matches).
pub fn estimate(levels: &[Levels], records: usize, start: &Model, max_iterations: usize) -> Model {
    let all_pairs = (records as f64) * (records as f64 - 1.0) / 2.0;
    if levels.len() < MIN_PAIRS_FOR_EM {
        return em_prior(&patterns(levels.iter()), start, all_pairs, max_iterations);
    }
    let mut sum = zeroed();
    let mut sessions = [0usize; 5];
    let mut iterations = 0;
    for session in &SESSIONS {
        let idx = patterns(levels.iter().filter(|l| (session.select)(l)));
        if pair_count(&idx) < MIN_PAIRS_PER_SESSION as f64 {
            continue;
        }
        let mut seed = start.clone();
        seed.lambda = 0.5;
        let fitted = em(&idx, &seed, session.trains, max_iterations);
        iterations += fitted.iterations;
        for k in (0..5).filter(|&k| session.trains[k]) {
            for (s, m) in sum[k].iter_mut().zip(&fitted.m[k]) {
                *s += m;
            }
            sessions[k] += 1;
        }
    }
    let mut model = start.clone();
    for k in 0..5 {
        if sessions[k] > 0 {
            model.m[k] = sum[k].iter().map(|s| s / sessions[k] as f64).collect();
        }
    }
    model.lambda = start.lambda;
    let fitted = em_prior(&patterns(levels.iter()), &model, all_pairs, max_iterations);
    model.lambda = fitted.lambda;
    model.iterations = iterations + fitted.iterations;
    model
}

/// Level patterns (indices in comparator order) and how many pairs reached each, sorted by
/// pattern. EM works on these: a few thousand patterns at most, however many pairs.
type Patterns = Vec<([usize; 5], f64)>;

fn patterns<'a>(levels: impl Iterator<Item = &'a Levels>) -> Patterns {
    let mut counts: HashMap<[usize; 5], u64> = HashMap::new();
    for l in levels {
        *counts.entry(l.indices()).or_default() += 1;
    }
    let mut out: Patterns = counts.into_iter().map(|(i, n)| (i, n as f64)).collect();
    out.sort_by_key(|a| a.0);
    out
}

fn pair_count(idx: &[([usize; 5], f64)]) -> f64 {
    idx.iter().map(|(_, n)| n).sum()
}

/// EM on the comparators in `active` (the others count as missing): m and the prior.
fn em(idx: &[([usize; 5], f64)], start: &Model, active: [bool; 5], max_iterations: usize) -> Model {
    let pairs = pair_count(idx);
    let mut model = start.clone();
    let masked = |i: &[usize; 5]| -> [usize; 5] {
        let mut out = *i;
        for k in 0..5 {
            if !active[k] {
                out[k] = 0;
            }
        }
        out
    };
    for it in 1..=max_iterations {
        let (counts, total) = {
            let m = &model;
            let sums = chunked_sum(idx, |(i, n), c| {
                let i = masked(i);
                let p = n * posterior(m, &i);
                for (k, &level) in i.iter().enumerate() {
                    if level != 0 {
                        c[k][level] += p;
                    }
                }
                // Missing levels carry no m; the phone's slot holds the sum of posteriors.
                c[0][0] += p;
            });
            let total = sums[0][0];
            (sums, total)
        };
        let lambda = (total / pairs).clamp(1e-4, 1.0 - 1e-4);
        // Smoothed towards the shipped m, so a level the matches here never reached (a
        // move to another postcode) gets a small m, not a weight of minus infinity.
        let mut counts = counts;
        for (k, levels) in counts.iter_mut().enumerate() {
            for (l, x) in levels.iter_mut().enumerate() {
                *x += M_PSEUDO_PAIRS * start.m[k][l];
            }
        }
        let mut m = normalize(counts, FLOOR);
        for k in 0..5 {
            if !active[k] {
                m[k] = model.m[k].clone();
            }
        }
        let change: f64 = (0..5)
            .flat_map(|k| (1..LEVEL_COUNTS[k]).map(move |l| (k, l)))
            .map(|(k, l)| (m[k][l] - model.m[k][l]).abs())
            .fold((lambda - model.lambda).abs(), f64::max);
        model.m = m;
        model.lambda = lambda;
        model.iterations = it;
        if change < 1e-6 {
            break;
        }
    }
    model
}

/// EM on the prior alone, m and u fixed, over `all_pairs` pairs of which `idx` are the
/// candidates (the rest count as non-matches).
fn em_prior(
    idx: &[([usize; 5], f64)],
    start: &Model,
    all_pairs: f64,
    max_iterations: usize,
) -> Model {
    let mut model = start.clone();
    if idx.is_empty() || all_pairs < 1.0 {
        return model;
    }
    for it in 1..=max_iterations {
        let m = &model;
        let sums = chunked_sum(idx, |(i, n), c| c[0][0] += n * posterior(m, i));
        // At least one match expected: data without any would otherwise drive the prior
        // to nothing, and the next run's real match with it.
        let lambda = (sums[0][0] / all_pairs).clamp(1.0 / all_pairs, 0.5);
        let change = ((lambda / model.lambda).ln()).abs();
        model.lambda = lambda;
        model.iterations = it;
        if change < 1e-6 {
            break;
        }
    }
    model
}

fn posterior(m: &Model, i: &[usize; 5]) -> f64 {
    let mut lm = m.lambda.ln();
    let mut lu = (1.0 - m.lambda).ln();
    for (k, &level) in i.iter().enumerate() {
        if level != 0 {
            lm += m.m[k][level].max(FLOOR).ln();
            lu += m.u[k][level].max(FLOOR).ln();
        }
    }
    1.0 / (1.0 + (lu - lm).exp())
}

fn zeroed() -> [Vec<f64>; 5] {
    LEVEL_COUNTS.map(|n| vec![0.0; n])
}

/// Adds up per-item level counts (`f` adds an item's into the accumulator) over fixed
/// chunks, then the chunk sums in order: the same floating-point result for any thread
/// count, and no allocation per item.
fn chunked_sum<T: Sync>(items: &[T], f: impl Fn(&T, &mut [Vec<f64>; 5]) + Sync) -> [Vec<f64>; 5] {
    let partials: Vec<[Vec<f64>; 5]> = items
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = zeroed();
            for item in chunk {
                f(item, &mut acc);
            }
            acc
        })
        .collect();
    let mut total = zeroed();
    for p in partials {
        for k in 0..5 {
            for (a, x) in total[k].iter_mut().zip(&p[k]) {
                *a += x;
            }
        }
    }
    total
}

/// Counts → probabilities over the non-missing levels of each comparator.
fn normalize(mut counts: [Vec<f64>; 5], floor: f64) -> [Vec<f64>; 5] {
    for c in counts.iter_mut() {
        c[0] = 0.0;
        let sum: f64 = c[1..].iter().sum();
        for x in c[1..].iter_mut() {
            *x = if sum > 0.0 {
                (*x / sum).max(floor)
            } else {
                floor
            };
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_agreement_counts_pairs_sharing_a_value_under_different_names() {
        // Every pair of records counted by hand: those that share a phone (an email) and
        // have different first names, over all pairs; the floor is a hundredth of one
        // pair in the number of distinct values.
        let mut rng = fastrand::Rng::with_seed(7);
        let names = ["ann", "bo", "cy", ""];
        let records: Vec<MatchRecord> = (0..300)
            .map(|_| {
                let phone = match rng.u8(..10) {
                    0 => String::new(),
                    _ => format!("+1312555{:04}", rng.u16(..40)),
                };
                let email = match rng.u8(..4) {
                    0 => String::new(),
                    _ => format!("x{}@mail.com", rng.u16(..60)),
                };
                MatchRecord::sample("a", names[rng.usize(..4)], "lee", &email, &phone)
            })
            .collect();
        let by_hand = |value: fn(&MatchRecord) -> Option<String>| {
            let mut shared = 0u64;
            for (i, a) in records.iter().enumerate() {
                for b in &records[i + 1..] {
                    if value(a).is_some() && value(a) == value(b) && a.first != b.first {
                        shared += 1;
                    }
                }
            }
            let distinct: std::collections::BTreeSet<String> =
                records.iter().filter_map(value).collect();
            let n = records.len() as f64;
            (shared as f64 / (n * (n - 1.0) / 2.0)).max(0.01 / distinct.len() as f64)
        };
        let want = [
            by_hand(|r| r.phones.first().map(|p| p.to_string())),
            by_hand(|r| r.prepared_emails.first().map(|e| e.address().to_string())),
        ];
        assert_eq!(exact_agreement(&records), want);
        assert!(
            want[0] > 0.01 / 40.0,
            "the records share phones under other names"
        );
        // No values: nothing shared.
        let none = vec![MatchRecord::sample("a", "ann", "lee", "", ""); 3];
        assert_eq!(exact_agreement(&none), [0.0, 0.0]);
    }

    #[test]
    fn a_kept_pair_gives_back_its_score_to_the_bit() {
        use crate::dedupe::ScoredPair;
        let records = [
            MatchRecord::sample("a", "ann", "lee", "ann@x.com", "+13125550142"),
            MatchRecord::sample("a", "lee", "ann", "ann@x.com", "+13125550142"),
            MatchRecord::sample("a", "ann", "lee", "", "+13125550143"),
            MatchRecord::sample("a", "anne", "leigh", "a.lee@y.com", ""),
            MatchRecord::sample("a", "bo", "kim", "bo@z.com", "+447911123456"),
            MatchRecord::sample("a", "", "", "bo@z.com", ""),
        ];
        let tf = TermFrequencies::of(&records);
        let model = Model {
            lambda: 0.013,
            ..Model::default()
        };
        for (i, ra) in records.iter().enumerate() {
            for rb in &records {
                let levels = Levels::of(ra, rb);
                for tf in [Some(&tf), None] {
                    let score = model.score(&levels, ra, tf);
                    let kept = ScoredPair::new(i as u32, 0, levels, &score);
                    let back = kept.score(&model.scorer());
                    assert_eq!(back.weight.to_bits(), score.weight.to_bits());
                    assert_eq!(back.probability.to_bits(), score.probability.to_bits());
                    assert_eq!(kept.probability.to_bits(), score.probability.to_bits());
                    assert_eq!(back.parts.map(f64::to_bits), score.parts.map(f64::to_bits));
                }
            }
        }
    }

    /// EM on every comparator at once, the mechanism each training session runs.
    fn estimate_m(levels: &[Levels], start: &Model, max_iterations: usize) -> Model {
        em(&patterns(levels.iter()), start, [true; 5], max_iterations)
    }
    use crate::dedupe::compare::*;

    fn lv(phone: PhoneLevel, email: EmailLevel) -> Levels {
        Levels {
            phone,
            email,
            first: FirstNameLevel::Missing,
            last: LastNameLevel::Missing,
            place: PlaceLevel::Missing,
        }
    }

    #[test]
    fn defaults_are_probabilities() {
        let m = Model::default();
        for (k, &count) in LEVEL_COUNTS.iter().enumerate() {
            assert_eq!(m.m[k].len(), count);
            assert_eq!(m.u[k].len(), count);
            assert!(
                (m.m[k][1..].iter().sum::<f64>() - 1.0).abs() < 1e-9,
                "m {k}"
            );
            assert!(
                (m.u[k][1..].iter().sum::<f64>() - 1.0).abs() < 1e-9,
                "u {k}"
            );
        }
    }

    #[test]
    fn weights_order_levels() {
        let m = Model::default();
        assert!(m.weight(0, PhoneLevel::Exact.index()) > 7.0);
        assert!(m.weight(0, PhoneLevel::Different.index()) < -1.0);
        assert_eq!(m.weight(0, PhoneLevel::Missing.index()), 0.0);
        let r = MatchRecord::default();
        let agree = m.score(&lv(PhoneLevel::Exact, EmailLevel::Exact), &r, None);
        let differ = m.score(&lv(PhoneLevel::Different, EmailLevel::Different), &r, None);
        // The default prior (one in a thousand random pairs) against two identifiers.
        assert!(
            agree.probability > 0.98 && differ.probability < 0.001,
            "{agree:?} {differ:?}"
        );
    }

    /// A mixture with a known answer: 30% matches agreeing on phone 90% of the time and
    /// email 80%, 70% non-matches agreeing 1% and 2%. EM must recover m and the prior.
    #[test]
    fn em_recovers_a_known_mixture() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut levels = Vec::new();
        for i in 0..20_000 {
            let matched = i % 10 < 3;
            let (pp, pe) = if matched { (0.9, 0.8) } else { (0.01, 0.02) };
            let phone = if rng.f64() < pp {
                PhoneLevel::Exact
            } else {
                PhoneLevel::Different
            };
            let email = if rng.f64() < pe {
                EmailLevel::Exact
            } else {
                EmailLevel::Different
            };
            let first = if matched == (rng.f64() < 0.85) {
                FirstNameLevel::Exact
            } else {
                FirstNameLevel::Different
            };
            levels.push(Levels {
                first,
                ..lv(phone, email)
            });
        }
        let mut start = Model::default();
        start.u[0] = vec![0.0, 0.01, 0.0, 0.0, 0.99];
        start.u[1] = vec![0.0, 0.02, 0.0, 0.0, 0.0, 0.0, 0.98];
        start.u[2] = vec![0.0, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.85];
        let fitted = estimate_m(&levels, &start, 200);
        assert!(
            (fitted.lambda - 0.3).abs() < 0.02,
            "lambda {}",
            fitted.lambda
        );
        assert!(
            (fitted.m[0][PhoneLevel::Exact.index()] - 0.9).abs() < 0.03,
            "{:?}",
            fitted.m[0]
        );
        assert!(
            (fitted.m[1][EmailLevel::Exact.index()] - 0.8).abs() < 0.03,
            "{:?}",
            fitted.m[1]
        );
    }

    #[test]
    fn em_is_the_same_for_any_thread_count() {
        let levels: Vec<Levels> = (0..5000)
            .map(|i| {
                lv(
                    if i % 3 == 0 {
                        PhoneLevel::Exact
                    } else {
                        PhoneLevel::Different
                    },
                    EmailLevel::Missing,
                )
            })
            .collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let a = one.install(|| estimate_m(&levels, &Model::default(), 30));
        let b = two.install(|| estimate_m(&levels, &Model::default(), 30));
        assert_eq!(a, b);
    }

    #[test]
    fn rare_surnames_weigh_more() {
        let records: Vec<MatchRecord> = (0..100)
            .map(|i| MatchRecord {
                last: if i < 30 {
                    "smith".into()
                } else {
                    format!("rare{i}").into()
                },
                ..MatchRecord::default()
            })
            .collect();
        let tf = TermFrequencies::of(&records);
        let m = Model::default();
        let exact = Levels {
            last: LastNameLevel::Exact,
            ..lv(PhoneLevel::Missing, EmailLevel::Missing)
        };
        let common = m.score(&exact, &records[0], Some(&tf)).parts[3];
        let rare = m.score(&exact, &records[50], Some(&tf)).parts[3];
        assert!(rare > common + 3.0, "rare {rare} common {common}");
    }
}
