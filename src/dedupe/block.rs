//! Blocking: candidate pairs without comparing all pairs.
//!
//! Every record gets several keys: each email's mailbox, its local part, each phone, three
//! partial keys of each phone that survive one wrong digit, and two name keys (last-name prefix + first initial, and the
//! same with the names swapped). In agent scope every key also carries the agent, so leads
//! of different agents never meet. Records that share a key are candidates, so a typo in
//! one field still meets its twin through another. A block larger than `max_block` (a
//! common surname prefix, a shared office phone) is not compared all-pairs: records in it
//! meet only their `window` neighbours in sorted order. Keys are hashed, sorted and
//! grouped, which is deterministic whatever the thread count.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use rayon::prelude::*;

use crate::dedupe::{MatchRecord, Scope};

/// Blocking limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest block compared all-pairs.
    pub max_block: usize,
    /// Neighbours each record meets in a larger block.
    pub window: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        // Chosen on the labelled benchmark: at 100,000 leads 32/4 keeps contact F1 at
        // 0.991 with half the pairs of 64/8; in agent scope every agent's blocks are
        // compared apart, and a name block of 64 all-pairs is 2,016 comparisons.
        Limits {
            max_block: 32,
            window: 4,
        }
    }
}

fn key_hash(kind: u8, agent: Option<&str>, value: &str) -> u64 {
    key_hash_of(kind, agent, &[value])
}

/// A blocking key: the kind, the agent and the pieces of the value. Only which records
/// share a key matters, never the number itself (blocks are grouped by it, and the pairs
/// sorted after), so a fast hash does: foldhash with a fixed seed.
fn key_hash_of(kind: u8, agent: Option<&str>, pieces: &[&str]) -> u64 {
    use std::hash::BuildHasher;
    let h = foldhash::fast::FixedState::with_seed(0x6c65_6164_7265_636f).build_hasher();
    hash_key(h, kind, agent, pieces)
}

/// Where a record stands among one agent's records of its name: the number decides who
/// meet in an oversized block, so it is SipHash with fixed keys (the same on every run
/// and machine), of the pieces joined (a `str` hashes as its bytes and a 0xff, and
/// SipHash reads its input as one stream).
fn name_group(agent: &str, first: &str, last: &str) -> u64 {
    hash_key(
        std::hash::DefaultHasher::new(),
        0,
        Some(agent),
        &[first, "|", last],
    )
}

/// The kind, the agent and the value's pieces (then a 0xff, as a `str` ends) through `h`.
fn hash_key(mut h: impl Hasher, kind: u8, agent: Option<&str>, pieces: &[&str]) -> u64 {
    kind.hash(&mut h);
    agent.hash(&mut h);
    for piece in pieces {
        h.write(piece.as_bytes());
    }
    h.write_u8(0xff);
    h.finish()
}

/// The first `n` characters of `s`.
fn prefix(s: &str, n: usize) -> &str {
    &s[..s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)]
}

/// A phone's digits as a number (the first 18), for ordering.
fn phone_number(p: &str) -> u64 {
    p.bytes()
        .filter(u8::is_ascii_digit)
        .take(18)
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
}

/// The blocking keys of one record, each with the record's place in the key's block:
/// phone blocks are ordered by number, the others put one agent's records of one name
/// together, ordered by phone. In an oversized block a record meets only its neighbours,
/// so the order decides who they are: the likeliest twins, not whoever came next in the
/// file.
pub fn keys(r: &MatchRecord, scope: Scope) -> Vec<(u64, u64)> {
    keys_of(r, scope, true)
}

/// The keys of [`keys`]; without `fuzzy`, only each email's mailbox and each phone.
fn keys_of(r: &MatchRecord, scope: Scope, fuzzy: bool) -> Vec<(u64, u64)> {
    let agent = match scope {
        Scope::Agent => Some(r.agent.as_str()),
        Scope::Global => None,
    };
    let first_phone = r.phones.first().map_or(0, |p| phone_number(p));
    let by_name = {
        let group = name_group(&r.agent, &r.first, &r.last) >> 40;
        (group << 40) | (first_phone % (1 << 40))
    };
    let mut out = Vec::with_capacity(12);
    for e in r.prepared_emails.iter() {
        let m = e.mailbox();
        if let Some((local, _)) = m.rsplit_once('@') {
            if fuzzy && local.len() >= 4 {
                out.push((key_hash(2, agent, local), by_name));
            }
        }
        out.push((key_hash(1, agent, m), by_name));
    }
    for p in r.phones.iter() {
        let number = phone_number(p);
        out.push((key_hash(3, agent, p), number));
        let n = p.len();
        if fuzzy && n >= 8 {
            // One digit wrong leaves one of these whole: the last seven digits (a wrong
            // area code), all but the last four, or all but the four before them.
            out.push((key_hash(4, agent, &p[n - 7..]), number));
            out.push((key_hash(6, agent, &p[..n - 4]), number));
            out.push((
                key_hash_of(7, agent, &[&p[..n - 7], "|", &p[n - 4..]]),
                number,
            ));
        }
    }
    if fuzzy && !r.last.is_empty() && !r.first.is_empty() {
        let (first, last) = (r.first.as_str(), r.last.as_str());
        let pieces = [prefix(last, 4), "|", prefix(first, 1)];
        out.push((key_hash_of(5, agent, &pieces), by_name));
        let pieces = [prefix(first, 4), "|", prefix(last, 1)];
        out.push((key_hash_of(5, agent, &pieces), by_name));
    }
    out.sort_unstable();
    out.dedup_by_key(|k| k.0);
    out
}

/// Candidate pairs `(i, j)` with `i < j`, sorted, without duplicates. `records` are match
/// records or references to them (a sample of a run's records is not copied).
pub fn candidate_pairs<R: Borrow<MatchRecord> + Sync>(
    records: &[R],
    scope: Scope,
    limits: Limits,
) -> Vec<(u32, u32)> {
    pairs_by(records, &[], scope, limits, true, false)
}

/// The pairs [`candidate_pairs`] would give on `first` followed by `second` that cross
/// from one to the other: `(i, first.len() + j)` (golden records against a target's
/// records), without making the others.
pub fn candidate_pairs_across(
    first: &[MatchRecord],
    second: &[MatchRecord],
    scope: Scope,
    limits: Limits,
) -> Vec<(u32, u32)> {
    pairs_by(first, second, scope, limits, true, true)
}

/// Pairs of golden records (any agents) that share an email's mailbox or a phone: the
/// candidates for person links. Contacts were linked by every key already; across agents
/// a person is the same email or phone, and fuzzy keys over every contact would propose
/// millions of namesake pairs.
pub fn contact_pairs(records: &[MatchRecord]) -> Vec<(u32, u32)> {
    pairs_by(records, &[], Scope::Global, Limits::default(), false, false)
}

fn pairs_by<R: Borrow<MatchRecord> + Sync>(
    first: &[R],
    second: &[R],
    scope: Scope,
    limits: Limits,
    fuzzy: bool,
    across: bool,
) -> Vec<(u32, u32)> {
    debug_assert!(
        across || second.is_empty(),
        "a second side is only read across"
    );
    let split = across.then_some(first.len() as u32);
    // Each record's keys, with its index among `first` followed by `second`; `keep`
    // filters the keys.
    let keys_from = |side: &[R], start: usize, keep: &(dyn Fn(u64) -> bool + Sync)| {
        concat(
            side.par_iter()
                .enumerate()
                .flat_map_iter(|(i, r)| {
                    keys_of(r.borrow(), scope, fuzzy)
                        .into_iter()
                        .filter(|&(k, _)| keep(k))
                        .map(move |(k, at)| (k, at, (start + i) as u32))
                })
                .collect_vec_list(),
        )
    };
    let mut keyed = if across {
        // Only blocks with members on both sides make pairs: the first side's keys that
        // no record of the second has are dropped before sorting (a million golden
        // records against a target's export share a fraction of their keys with it). The
        // blocks that remain are whole, so they give the same pairs.
        let mut keyed = keys_from(second, first.len(), &|_| true);
        let wanted: foldhash::HashSet<u64> = keyed.iter().map(|&(k, _, _)| k).collect();
        keyed.extend(keys_from(first, 0, &|k| wanted.contains(&k)));
        keyed
    } else {
        keys_from(first, 0, &|_| true)
    };
    keyed.par_sort_unstable();
    let mut groups: Vec<&[(u64, u64, u32)]> = Vec::new();
    let mut start = 0;
    for i in 1..=keyed.len() {
        if i == keyed.len() || keyed[i].0 != keyed[start].0 {
            let group = &keyed[start..i];
            // Across a split, a block with members on one side only makes no pair.
            let crosses =
                |at: u32| group.iter().any(|g| g.2 < at) && group.iter().any(|g| g.2 >= at);
            if group.len() > 1 && split.is_none_or(crosses) {
                groups.push(group);
            }
            start = i;
        }
    }
    // Sorted as one number each (`a` in the high half): the same order as the tuples,
    // and a third less time sorting millions of them.
    let mut pairs: Vec<u64> = concat(
        groups
            .par_iter()
            .flat_map_iter(|g| block_pairs(g, limits, split))
            .map(|(a, b)| (u64::from(a) << 32) | u64::from(b))
            .collect_vec_list(),
    );
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
        .par_iter()
        .map(|&p| ((p >> 32) as u32, p as u32))
        .collect()
}

/// The pieces a parallel iterator collected, one after the other in one vector, copied
/// side by side. Collecting an iterator of unknown length into a vector (rayon's
/// `collect`) copies the pieces into it on the calling thread alone: for the ten
/// million blocking keys of a million leads, half a second of copying and of the kernel
/// zeroing the vector's fresh memory, with the other core idle.
fn concat<T: Copy + Send + Sync>(pieces: std::collections::LinkedList<Vec<T>>) -> Vec<T> {
    let pieces: Vec<Vec<T>> = pieces.into_iter().collect();
    let total = pieces.iter().map(Vec::len).sum();
    let mut out: Vec<T> = Vec::with_capacity(total);
    let mut rest = &mut out.spare_capacity_mut()[..total];
    let mut places = Vec::with_capacity(pieces.len());
    for piece in &pieces {
        let (place, after) = rest.split_at_mut(piece.len());
        places.push(place);
        rest = after;
    }
    places
        .into_par_iter()
        .zip(&pieces)
        .for_each(|(place, piece)| {
            for (slot, &value) in place.iter_mut().zip(piece) {
                slot.write(value);
            }
        });
    // SAFETY: the places cover the first `total` slots, and each was written above.
    unsafe { out.set_len(total) };
    out
}

fn block_pairs(group: &[(u64, u64, u32)], limits: Limits, split: Option<u32>) -> Vec<(u32, u32)> {
    let ids: Vec<u32> = group.iter().map(|(_, _, i)| *i).collect();
    let reach = if ids.len() <= limits.max_block {
        ids.len()
    } else {
        limits.window + 1
    };
    // Each record meets at most `reach - 1` others after it.
    let mut out = Vec::with_capacity(ids.len() * (reach - 1));
    for (n, &a) in ids.iter().enumerate() {
        for &b in ids.iter().skip(n + 1).take(reach - 1) {
            let pair = (a.min(b), a.max(b));
            if split.is_none_or(|at| pair.0 < at && pair.1 >= at) {
                out.push(pair);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_keeps_the_pieces_in_order() {
        let list: std::collections::LinkedList<Vec<u32>> = (0..2000u32)
            .into_par_iter()
            .flat_map_iter(|i| 0..i % 7)
            .map(|x| x * 3)
            .collect_vec_list();
        let want: Vec<u32> = (0..2000u32).flat_map(|i| 0..i % 7).map(|x| x * 3).collect();
        assert_eq!(concat(list), want);
        assert_eq!(
            concat::<u8>(std::collections::LinkedList::new()),
            Vec::<u8>::new()
        );
        let mut with_empty = std::collections::LinkedList::new();
        with_empty.push_back(vec![]);
        with_empty.push_back(vec![1u8, 2]);
        with_empty.push_back(vec![]);
        assert_eq!(concat(with_empty), [1, 2]);
    }

    fn rec(agent: &str, first: &str, last: &str, email: &str, phone: &str) -> MatchRecord {
        MatchRecord::sample(agent, first, last, email, phone)
    }

    #[test]
    fn name_groups_hash_the_joined_text_as_before() {
        // The group orders oversized blocks: it must stay SipHash of the joined name
        // (what `key_hash_of` was when it ordered them too).
        let sip = |text: &str| {
            let mut h = std::hash::DefaultHasher::new();
            0u8.hash(&mut h);
            Some("a1").hash(&mut h);
            text.hash(&mut h);
            h.finish()
        };
        for (first, last) in [("ann", "lee"), ("", ""), ("ünï", "c")] {
            assert_eq!(
                name_group("a1", first, last),
                sip(&format!("{first}|{last}"))
            );
        }
        assert_eq!(
            name_group("a1", "a very long piece that spans sip blocks", "x"),
            sip("a very long piece that spans sip blocks|x")
        );
    }

    #[test]
    fn keys_tell_kinds_agents_and_values_apart() {
        let k = key_hash_of(5, Some("a1"), &["lee", "|", "a"]);
        assert_eq!(k, key_hash_of(5, Some("a1"), &["lee", "|", "a"]));
        assert_ne!(k, key_hash_of(6, Some("a1"), &["lee", "|", "a"]));
        assert_ne!(k, key_hash_of(5, Some("a2"), &["lee", "|", "a"]));
        assert_ne!(k, key_hash_of(5, None, &["lee", "|", "a"]));
        assert_ne!(k, key_hash_of(5, Some("a1"), &["lee", "|", "b"]));
        assert_eq!(prefix("gonçalves", 4), "gonç");
        assert_eq!(prefix("li", 4), "li");
        assert_eq!(prefix("", 1), "");
    }

    #[test]
    fn typo_in_one_field_meets_through_another() {
        let r = vec![
            rec("a", "ann", "lee", "ann.lee@gmail.com", "+13125550142"),
            rec("a", "ann", "lee", "ann.le@gmail.com", "+13125550142"),
            rec("a", "bob", "kim", "bob@x.com", "+14155550100"),
            rec("b", "ann", "lee", "ann.lee@gmail.com", "+13125550142"),
        ];
        assert_eq!(
            candidate_pairs(&r, Scope::Agent, Limits::default()),
            [(0, 1)]
        );
        assert_eq!(
            candidate_pairs(&r, Scope::Global, Limits::default()),
            [(0, 1), (0, 3), (1, 3)]
        );
    }

    #[test]
    fn swapped_names_share_a_key() {
        let r = vec![
            rec("a", "smith", "john", "", ""),
            rec("a", "john", "smith", "", ""),
        ];
        assert_eq!(
            candidate_pairs(&r, Scope::Agent, Limits::default()),
            [(0, 1)]
        );
    }

    #[test]
    fn oversized_blocks_use_a_window() {
        let r: Vec<MatchRecord> = (0..200)
            .map(|i| rec("a", &format!("p{i}"), "x", "", "+13125550100"))
            .collect();
        let limits = Limits {
            max_block: 64,
            window: 8,
        };
        let pairs = candidate_pairs(&r, Scope::Agent, limits);
        // Two orders (by phone for the phone keys, by name group for the name keys): at most
        // a window of neighbours in each, never all 19,900 pairs.
        assert!(pairs.len() <= 200 * 8 * 2, "{}", pairs.len());
        assert!(pairs.len() >= 190 * 8 / 2);
    }

    #[test]
    fn pairs_across_a_split_are_the_crossing_candidates() {
        let r: Vec<MatchRecord> = (0..120)
            .map(|i| {
                let phone = format!("+1312555{:04}", i % 7);
                rec(
                    "a",
                    &format!("p{}", i % 13),
                    "lee",
                    &format!("x{}@y.com", i % 5),
                    &phone,
                )
            })
            .collect();
        let limits = Limits {
            max_block: 8,
            window: 3,
        };
        for split in [0, 1, 40, 119, 120] {
            let crossing: Vec<(u32, u32)> = candidate_pairs(&r, Scope::Agent, limits)
                .into_iter()
                .filter(|&(a, b)| (a as usize) < split && (b as usize) >= split)
                .collect();
            assert_eq!(
                candidate_pairs_across(&r[..split], &r[split..], Scope::Agent, limits),
                crossing,
                "split {split}"
            );
        }
    }
}
