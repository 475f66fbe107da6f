//! Clustering matched pairs into contacts, with a guard against chaining.
//!
//! Matches are joined strongest first (probability, then lead order, so the result does
//! not depend on input order or thread count). Two clusters are not joined when any lead
//! of one and any lead of the other conflict: they differ on every strong identifier
//! (different valid phones, different emails and different first names), or they look
//! like two members of one household (different first names, the same surname, and no
//! email in common: a shared landline and address are not enough). That keeps households
//! and namesakes with their own contact data apart even when a chain of weaker links
//! would join them.

use rayon::prelude::*;

use crate::dedupe::compare::{self, EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel};
use crate::dedupe::MatchRecord;

/// A scored candidate pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// First record.
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Match probability.
    pub probability: f64,
}

/// Whether two records name different people: different on every strong identifier, or
/// two members of one household.
pub fn conflict(a: &MatchRecord, b: &MatchRecord) -> bool {
    let (first, last) = compare::names_folded(&a.first, &a.last, &b.first, &b.last);
    let email = compare::prepared_emails(&a.prepared_emails, &b.prepared_emails);
    if matches!(first, FirstNameLevel::Missing | FirstNameLevel::Initial) {
        // "J Lee" and "Jo Lee" with emails of their own, sharing only a second phone (the
        // home landline): as likely two of a household as one person.
        let primary_shared = |x: &MatchRecord, y: &MatchRecord| {
            x.phones.first().is_some_and(|p| y.phones.contains(p))
        };
        return last == LastNameLevel::Exact
            && email == EmailLevel::Different
            && !primary_shared(a, b)
            && !primary_shared(b, a);
    }
    if !matches!(first, FirstNameLevel::Different | FirstNameLevel::Similar) {
        return false;
    }
    // Ann and Bob Lee: a landline and an address in common, not an email, not a name.
    let household = first == FirstNameLevel::Different
        && last == LastNameLevel::Exact
        && matches!(email, EmailLevel::Different | EmailLevel::Missing);
    household
        || (email == EmailLevel::Different
            && compare::phones(&a.phones, &b.phones) == PhoneLevel::Different)
}

/// Cluster of every record: the smallest record index in its cluster.
///
/// The guard only ever weighs records that strong edges connect, so each connected part
/// is clustered on its own, side by side, with its edges in the same order (strongest
/// first): the same clusters as one pass over every edge.
pub fn clusters(records: &[MatchRecord], edges: &[Edge], threshold: f64) -> Vec<u32> {
    let n = records.len();
    let mut strong: Vec<&Edge> = edges
        .iter()
        .filter(|e| e.probability >= threshold)
        .collect();
    let part = connected_parts(n, strong.iter().copied());
    // By part, then strongest first (then lead order: pairs are distinct).
    strong.par_sort_unstable_by(|x, y| {
        part[x.a as usize]
            .cmp(&part[y.a as usize])
            .then(y.probability.total_cmp(&x.probability))
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    let parts: Vec<&[&Edge]> = strong
        .chunk_by(|x, y| part[x.a as usize] == part[y.a as usize])
        .collect();
    let labels: Vec<Vec<(u32, u32)>> = parts
        .par_iter()
        .map(|edges| cluster_part(records, edges))
        .collect();
    let mut out: Vec<u32> = (0..n as u32).collect();
    for (i, label) in labels.into_iter().flatten() {
        out[i as usize] = label;
    }
    out
}

/// Each of `n` records' connected part through `edges`, as the part's smallest record.
fn connected_parts<'e>(n: usize, edges: impl Iterator<Item = &'e Edge>) -> Vec<u32> {
    let mut part: Vec<u32> = (0..n as u32).collect();
    for e in edges {
        let (ra, rb) = (root(&mut part, e.a), root(&mut part, e.b));
        part[ra.max(rb) as usize] = ra.min(rb);
    }
    for i in 0..n as u32 {
        part[i as usize] = root(&mut part, i);
    }
    part
}

/// The root of `i` in a union-find forest, halving the path on the way.
fn root(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        parent[i as usize] = parent[parent[i as usize] as usize];
        i = parent[i as usize];
    }
    i
}

/// Joins the clusters of nodes `a` and `b` (indices into `parent` and `members`, whose
/// lists hold record indices) unless a record of one conflicts with a record of the other.
fn join_unless_conflict(
    records: &[MatchRecord],
    parent: &mut [u32],
    members: &mut [Vec<u32>],
    a: u32,
    b: u32,
) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    if ra == rb {
        return;
    }
    let blocked = members[ra as usize].iter().any(|&x| {
        members[rb as usize]
            .iter()
            .any(|&y| conflict(&records[x as usize], &records[y as usize]))
    });
    if blocked {
        return;
    }
    let (keep, gone) = if members[ra as usize].len() >= members[rb as usize].len() {
        (ra, rb)
    } else {
        (rb, ra)
    };
    parent[gone as usize] = keep;
    let moved = std::mem::take(&mut members[gone as usize]);
    members[keep as usize].extend(moved);
}

/// One connected part's records, each with the smallest record of its cluster: `edges`
/// are joined strongest first unless a record of one side conflicts with one of the other.
fn cluster_part(records: &[MatchRecord], edges: &[&Edge]) -> Vec<(u32, u32)> {
    if let [e] = edges {
        // Two records (most parts): joined unless they conflict.
        let (a, b) = (e.a.min(e.b), e.a.max(e.b));
        let joined = !conflict(&records[e.a as usize], &records[e.b as usize]);
        return vec![(a, a), (b, if joined { a } else { b })];
    }
    let mut nodes: Vec<u32> = edges.iter().flat_map(|e| [e.a, e.b]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let local = |i: u32| nodes.binary_search(&i).expect("a node of the part") as u32;
    let mut parent: Vec<u32> = (0..nodes.len() as u32).collect();
    let mut members: Vec<Vec<u32>> = nodes.iter().map(|&i| vec![i]).collect();
    for e in edges {
        join_unless_conflict(records, &mut parent, &mut members, local(e.a), local(e.b));
    }
    // Nodes are in record order: a cluster's first node met is its smallest record.
    let mut smallest = vec![u32::MAX; nodes.len()];
    (0..nodes.len() as u32)
        .map(|l| {
            let r = root(&mut parent, l) as usize;
            if smallest[r] == u32::MAX {
                smallest[r] = nodes[l as usize];
            }
            (nodes[l as usize], smallest[r])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(first: &str, email: &str, phone: &str) -> MatchRecord {
        MatchRecord::sample("", first, "", email, phone)
    }

    fn edge(a: u32, b: u32, probability: f64) -> Edge {
        Edge { a, b, probability }
    }

    #[test]
    fn joins_matches_above_the_threshold() {
        let r = vec![
            rec("ann", "a@x.com", ""),
            rec("ann", "a@x.com", ""),
            rec("bob", "b@x.com", ""),
        ];
        let c = clusters(&r, &[edge(0, 1, 0.99), edge(1, 2, 0.4)], 0.9);
        assert_eq!(c, [0, 0, 2]);
    }

    /// A household: two people share a landline; each has a mobile and email of their own.
    /// A third record (the landline only, no name) links to both; the guard keeps the two
    /// people apart.
    #[test]
    fn chaining_guard_keeps_a_household_apart() {
        let r = [
            MatchRecord {
                phones: ["+13125550100", "+13125550142"].into_iter().collect(),
                ..rec("ann", "ann@x.com", "")
            },
            MatchRecord {
                phones: ["+13125550100", "+13125550199"].into_iter().collect(),
                ..rec("bob", "bob@y.com", "")
            },
            rec("", "", "+13125550100"),
        ];
        assert!(!conflict(&r[0], &r[1]), "they share the landline");
        let r2 = vec![
            rec("ann", "ann@x.com", "+13125550142"),
            rec("bob", "bob@y.com", "+13125550199"),
            rec("", "", ""),
        ];
        assert!(conflict(&r2[0], &r2[1]));
        let c = clusters(&r2, &[edge(0, 2, 0.95), edge(1, 2, 0.95)], 0.9);
        assert_ne!(
            c[0], c[1],
            "a chain through the empty record must not join Ann and Bob"
        );
        assert!(
            c[2] == c[0] || c[2] == c[1],
            "the bare landline joins one of them: {c:?}"
        );
    }

    /// The clusters of one pass over every edge, strongest first: what [`clusters`] did
    /// before it split the records into connected parts (each join decided the same way).
    fn clusters_in_one_pass(records: &[MatchRecord], edges: &[Edge], threshold: f64) -> Vec<u32> {
        let n = records.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
        let mut strong: Vec<&Edge> = edges
            .iter()
            .filter(|e| e.probability >= threshold)
            .collect();
        strong.sort_by(|x, y| {
            y.probability
                .total_cmp(&x.probability)
                .then(x.a.cmp(&y.a))
                .then(x.b.cmp(&y.b))
        });
        for e in strong {
            join_unless_conflict(records, &mut parent, &mut members, e.a, e.b);
        }
        let mut smallest = vec![u32::MAX; n];
        for i in 0..n as u32 {
            let r = root(&mut parent, i) as usize;
            smallest[r] = smallest[r].min(i);
        }
        (0..n as u32)
            .map(|i| smallest[root(&mut parent, i) as usize])
            .collect()
    }

    #[test]
    fn parts_apart_give_the_clusters_of_one_pass() {
        // Few names, emails and phones, so that conflicts (households, namesakes) are
        // common; probabilities from a few values, so that ties are too.
        let mut rng = fastrand::Rng::with_seed(11);
        let mut guarded = 0;
        for round in 0..200 {
            let n = rng.usize(2..60);
            let records: Vec<MatchRecord> = (0..n)
                .map(|_| {
                    let first = ["ann", "bo", "", "a"][rng.usize(..4)];
                    let last = ["lee", "kim", ""][rng.usize(..3)];
                    let email = match rng.u8(..3) {
                        0 => String::new(),
                        _ => format!("m{}@x.com", rng.u8(..6)),
                    };
                    let phone = match rng.u8(..3) {
                        0 => String::new(),
                        _ => format!("+1312555010{}", rng.u8(..6)),
                    };
                    MatchRecord::sample("a", first, last, &email, &phone)
                })
                .collect();
            let mut edges: Vec<Edge> = Vec::new();
            for _ in 0..rng.usize(0..n * 2) {
                let (a, b) = (rng.u32(..n as u32), rng.u32(..n as u32));
                if a != b && !edges.iter().any(|e| (e.a, e.b) == (a.min(b), a.max(b))) {
                    let p = [0.5, 0.91, 0.95, 0.99][rng.usize(..4)];
                    edges.push(edge(a.min(b), a.max(b), p));
                }
            }
            let ours = clusters(&records, &edges, 0.9);
            assert_eq!(
                ours,
                clusters_in_one_pass(&records, &edges, 0.9),
                "round {round}"
            );
            // Rounds where the guard kept records of one connected part apart.
            let part = connected_parts(n, edges.iter().filter(|e| e.probability >= 0.9));
            if (0..n).any(|i| part[i] != ours[i]) {
                guarded += 1;
            }
        }
        assert!(guarded > 20, "the guard acted in {guarded} rounds");
    }

    #[test]
    fn result_does_not_depend_on_edge_order() {
        let r: Vec<MatchRecord> = (0..6)
            .map(|i| rec("x", &format!("{i}@x.com"), ""))
            .collect();
        let mut edges = vec![
            edge(0, 1, 0.95),
            edge(2, 3, 0.97),
            edge(1, 2, 0.91),
            edge(4, 5, 0.99),
        ];
        let a = clusters(&r, &edges, 0.9);
        edges.reverse();
        assert_eq!(a, clusters(&r, &edges, 0.9));
        assert_eq!(a, [0, 0, 0, 0, 4, 4]);
    }
}
