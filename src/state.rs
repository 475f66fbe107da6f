//! Run state: what a scheduled run keeps for the next one (`[pipeline] state` or
//! `--state DIR`).
//!
//! `state.json` holds the run number, every contact's id, the run it was first seen in and
//! its member lead keys, each target's requests already emitted (per contact: operation,
//! idempotency key, target id and body), and the previous run's headline counts. It is
//! written to a temporary file and renamed only after the run's outputs are in place, so a
//! run that fails or is killed leaves the previous state as it was.
//!
//! [`stabilize`] keeps contact ids stable across runs: a contact that gains leads keeps its
//! id; when contacts merge the oldest id survives (the others are recorded as `merged`);
//! when one splits, the part holding most of its leads keeps the id (the others are new
//! ids, recorded as `split`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dedupe::ContactKeys;
use crate::lead::Lead;

/// Errors reading or writing the state folder.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file cannot be read or written.
    #[error("cannot use the state folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// `state.json` is not a leadrecon state.
    #[error("{path} is not a leadrecon state file ({message}); move it away to start afresh")]
    Corrupt {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
}

/// One contact as the state remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownContact {
    /// Run in which the id was first given.
    pub born: u64,
    /// Member lead keys, sorted.
    pub lead_keys: Vec<String>,
}

/// A request emitted for a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// `create` or `update`.
    pub op: String,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// The target's id, when known.
    pub target_id: Option<String>,
    /// The body sent.
    pub body: crate::vendors::write::Body,
}

/// Headline counts of a run, kept for the next run's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    /// Run number.
    pub run: u64,
    /// Records read.
    pub read: usize,
    /// Records rejected.
    pub rejected: usize,
    /// Leads.
    pub leads: usize,
    /// Contacts.
    pub contacts: usize,
    /// Pairs for review.
    pub review: usize,
}

/// Everything kept between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The last successful run's number (0: none yet).
    pub run: u64,
    /// Contacts by id.
    pub contacts: BTreeMap<String, KnownContact>,
    /// Per target system, per contact id: the last request emitted.
    pub sent: BTreeMap<String, BTreeMap<String, Sent>>,
    /// The last run's counts.
    pub last: Option<RunCounts>,
}

const FILE: &str = "state.json";

impl State {
    /// The state in `dir`, or an empty one when there is none yet.
    pub fn load(dir: &Path) -> Result<State, StateError> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(source) => Err(StateError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the state into `dir` (created): a temporary file renamed over the old one.
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StateError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(FILE);
        let tmp: PathBuf = dir.join(format!(".{FILE}.tmp"));
        let text = serde_json::to_string(self).expect("the state serializes") + "\n";
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }
}

/// A contact id that changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct IdChange {
    /// The id before.
    pub old_contact_id: String,
    /// The id its leads have now.
    pub new_contact_id: String,
    /// `merged` (the old contact joined an older one) or `split` (part of it became a new
    /// contact).
    pub change: &'static str,
}

fn fresh_id(seed: &str, taken: &dyn Fn(&str) -> bool) -> String {
    let mut salt = 0u32;
    loop {
        let text = if salt == 0 {
            seed.to_string()
        } else {
            format!("{seed}#{salt}")
        };
        let d = Sha256::digest(text.as_bytes());
        let mut id = String::from("c-");
        crate::hex::push(&mut id, &d[..6]);
        if !taken(&id) {
            return id;
        }
        salt += 1;
    }
}

/// Gives `contacts` (fresh from dedupe) the ids `prev` knew, updates the leads' contact
/// ids, re-sorts the contacts by id, and returns the id changes and, when `remember` (a
/// run with a state folder), the new state's contacts (ids born in run `run` when new).
pub fn stabilize(
    contacts: &mut [ContactKeys],
    leads: &mut [Lead],
    prev: &State,
    run: u64,
    remember: bool,
) -> (Vec<IdChange>, BTreeMap<String, KnownContact>) {
    let mut old_of: HashMap<&str, &str> = HashMap::new();
    for (id, known) in &prev.contacts {
        for k in &known.lead_keys {
            old_of.insert(k.as_str(), id.as_str());
        }
    }
    // Overlap of every new contact with every old id.
    let overlaps: Vec<BTreeMap<&str, usize>> = contacts
        .iter()
        .map(|c| {
            let mut m = BTreeMap::new();
            for k in &c.lead_keys {
                if let Some(old) = old_of.get(k.as_str()) {
                    *m.entry(*old).or_insert(0) += 1;
                }
            }
            m
        })
        .collect();
    // Each old id goes to the new contact holding most of its leads (ties: the contact
    // with the smallest lead key).
    let mut keeper: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, m) in overlaps.iter().enumerate() {
        for (&old, &n) in m {
            let better = match keeper.get(old) {
                None => true,
                Some(&k) => {
                    let kn = overlaps[k][old];
                    n > kn || (n == kn && contacts[j].lead_keys[0] < contacts[k].lead_keys[0])
                }
            };
            if better {
                keeper.insert(old, j);
            }
        }
    }
    let born = |id: &str| prev.contacts.get(id).map_or(u64::MAX, |k| k.born);
    let mut changes = Vec::new();
    let mut final_ids: Vec<Option<String>> = vec![None; contacts.len()];
    let mut births: Vec<u64> = vec![run; contacts.len()];
    for (j, m) in overlaps.iter().enumerate() {
        let mut mine: Vec<&str> = m.keys().copied().filter(|o| keeper[o] == j).collect();
        mine.sort_by(|a, b| born(a).cmp(&born(b)).then(a.cmp(b)));
        if let Some((&keep, others)) = mine.split_first() {
            for &o in others {
                changes.push(IdChange {
                    old_contact_id: o.to_string(),
                    new_contact_id: keep.to_string(),
                    change: "merged",
                });
            }
            final_ids[j] = Some(keep.to_string());
            births[j] = born(keep);
        }
    }
    let kept: std::collections::HashSet<String> = final_ids.iter().flatten().cloned().collect();
    for j in 0..contacts.len() {
        if final_ids[j].is_some() {
            continue;
        }
        let taken = |id: &str| prev.contacts.contains_key(id) || kept.contains(id);
        let id = if taken(&contacts[j].contact_id) {
            fresh_id(&contacts[j].lead_keys[0], &taken)
        } else {
            contacts[j].contact_id.clone()
        };
        for &old in overlaps[j].keys() {
            changes.push(IdChange {
                old_contact_id: old.to_string(),
                new_contact_id: id.clone(),
                change: "split",
            });
        }
        final_ids[j] = Some(id);
    }
    // Only the ids that change are renamed: on a first run (or a run that changes no id)
    // a million leads keep theirs untouched.
    let mut rename: HashMap<String, String> = HashMap::new();
    for (c, id) in contacts.iter_mut().zip(final_ids) {
        let id = id.expect("every contact has an id");
        if c.contact_id != id {
            rename.insert(std::mem::replace(&mut c.contact_id, id.clone()), id);
        }
    }
    if !rename.is_empty() {
        for lead in leads.iter_mut() {
            if let Some(id) = lead.contact_id.as_mut() {
                if let Some(new) = rename.get(id.as_str()) {
                    *id = new.as_str().into();
                }
            }
        }
    }
    let known = if remember {
        contacts
            .iter()
            .zip(&births)
            .map(|(c, &born)| {
                let lead_keys = c.lead_keys.iter().map(|k| k.to_string()).collect();
                (c.contact_id.clone(), KnownContact { born, lead_keys })
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    // Ids are unique: the order is the same whatever the sort.
    contacts.par_sort_unstable_by(|a, b| a.contact_id.cmp(&b.contact_id));
    changes.sort();
    (changes, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, keys: &[&str]) -> ContactKeys {
        ContactKeys {
            contact_id: id.into(),
            members: Vec::new(),
            lead_keys: keys.iter().map(|&k| k.into()).collect(),
        }
    }

    fn state(entries: &[(&str, u64, &[&str])]) -> State {
        State {
            run: 2,
            contacts: entries
                .iter()
                .map(|(id, born, keys)| {
                    (
                        id.to_string(),
                        KnownContact {
                            born: *born,
                            lead_keys: keys.iter().map(|k| k.to_string()).collect(),
                        },
                    )
                })
                .collect(),
            ..State::default()
        }
    }

    #[test]
    fn a_contact_that_gains_leads_keeps_its_id() {
        let prev = state(&[("c-old", 1, &["a:1"])]);
        let mut cs = vec![contact("c-new", &["a:0", "a:1"])];
        let (changes, known) = stabilize(&mut cs, &mut [], &prev, 3, true);
        assert_eq!(cs[0].contact_id, "c-old");
        assert!(changes.is_empty());
        assert_eq!(known["c-old"].born, 1);
    }

    #[test]
    fn merging_keeps_the_older_id() {
        let prev = state(&[("c-young", 2, &["a:1"]), ("c-elder", 1, &["a:2"])]);
        let mut cs = vec![contact("c-x", &["a:1", "a:2"])];
        let (changes, _) = stabilize(&mut cs, &mut [], &prev, 3, true);
        assert_eq!(cs[0].contact_id, "c-elder");
        assert_eq!(
            changes,
            [IdChange {
                old_contact_id: "c-young".into(),
                new_contact_id: "c-elder".into(),
                change: "merged"
            }]
        );
    }

    #[test]
    fn splitting_leaves_the_id_with_the_largest_part() {
        let prev = state(&[("c-old", 1, &["a:1", "a:2", "a:3"])]);
        let mut cs = vec![contact("c-p", &["a:1"]), contact("c-q", &["a:2", "a:3"])];
        let mut leads = vec![Lead {
            lead_key: "a:1".into(),
            contact_id: Some("c-p".into()),
            ..Lead::default()
        }];
        let (changes, known) = stabilize(&mut cs, &mut leads, &prev, 3, true);
        let q = cs.iter().find(|c| c.lead_keys.len() == 2).unwrap();
        assert_eq!(q.contact_id, "c-old");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change, "split");
        assert_eq!(changes[0].new_contact_id, "c-p");
        assert_eq!(leads[0].contact_id.as_deref(), Some("c-p"));
        assert_eq!(known["c-p"].born, 3);
    }

    #[test]
    fn leads_follow_their_contacts_new_ids_and_memory_is_optional() {
        let prev = state(&[("c-old", 1, &["a:2"])]);
        let fresh = || vec![contact("c-p", &["a:1"]), contact("c-q", &["a:2", "a:3"])];
        let lead = |key: &str, id: &str| Lead {
            lead_key: key.into(),
            contact_id: Some(id.into()),
            ..Lead::default()
        };
        let mut leads = vec![lead("a:1", "c-p"), lead("a:2", "c-q"), lead("a:3", "c-q")];
        let mut cs = fresh();
        let (changes, known) = stabilize(&mut cs, &mut leads, &prev, 3, false);
        assert!(changes.is_empty() && known.is_empty());
        let ids: Vec<_> = leads.iter().map(|l| l.contact_id.as_deref()).collect();
        assert_eq!(ids, [Some("c-p"), Some("c-old"), Some("c-old")]);
        let ids: Vec<&str> = cs.iter().map(|c| c.contact_id.as_str()).collect();
        assert_eq!(ids, ["c-old", "c-p"]);
        // With memory, the same ids and every contact remembered.
        let mut again = fresh();
        let (_, known) = stabilize(&mut again, &mut [], &prev, 3, true);
        assert_eq!(again, cs);
        assert_eq!(known.keys().collect::<Vec<_>>(), ["c-old", "c-p"]);
        assert_eq!((known["c-old"].born, known["c-p"].born), (1, 3));
    }

    #[test]
    fn a_new_id_never_reuses_a_known_one() {
        let prev = state(&[("c-p", 1, &["b:9"])]);
        let mut cs = vec![contact("c-p", &["a:1"]), contact("c-z", &["b:9"])];
        stabilize(&mut cs, &mut [], &prev, 2, true);
        let ids: Vec<&str> = cs.iter().map(|c| c.contact_id.as_str()).collect();
        assert!(ids.contains(&"c-p"));
        assert_eq!(
            cs.iter().find(|c| c.contact_id == "c-p").unwrap().lead_keys,
            ["b:9"]
        );
        assert!(ids.iter().all(|i| i.starts_with("c-")) && ids[0] != ids[1]);
    }

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let s = state(&[("c-a", 1, &["a:1"])]);
        s.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()).unwrap(), s);
        assert_eq!(
            State::load(&dir.path().join("none")).unwrap(),
            State::default()
        );
    }
}

/// Parsed input batches kept in the state folder (`cache/<key>.json`), keyed by the
/// leadrecon version, the source's settings, the roster and every file's SHA-256: a batch
/// whose files did not change is taken from here instead of being parsed again, with the
/// same leads, rejects and counts.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    roster: String,
    used: std::sync::Mutex<Vec<String>>,
}

impl Cache {
    /// The cache in a state folder; `roster` is the roster file's text (or "").
    pub fn new(state_dir: &Path, roster: &str) -> Cache {
        Cache {
            dir: state_dir.join("cache"),
            roster: crate::hex::string(&Sha256::digest(roster.as_bytes())),
            used: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The key of a batch: `settings` describes the source, `files` are (path, sha256).
    pub fn key(&self, settings: &str, files: &[(&str, &str)]) -> String {
        let mut h = Sha256::new();
        for part in [env!("CARGO_PKG_VERSION"), settings, &self.roster] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for (path, sha) in files {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(sha.as_bytes());
            h.update([0]);
        }
        let key = crate::hex::string(&h.finalize());
        if let Ok(mut used) = self.used.lock() {
            used.push(key.clone());
        }
        key
    }

    /// A cached batch, if there is a readable one.
    pub fn load<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = std::fs::read_to_string(self.dir.join(format!("{key}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Keeps a batch (temporary file, then rename: a killed run leaves no half file).
    pub fn store<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StateError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StateError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(format!("{key}.json"));
        let tmp = self.dir.join(format!(".{key}.tmp"));
        let text = serde_json::to_string(value).expect("a batch serializes");
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Removes batches this run did not use (after the state is saved).
    pub fn collect_garbage(&self) {
        let used: std::collections::HashSet<String> = self
            .used
            .lock()
            .map(|u| u.iter().map(|k| format!("{k}.json")).collect())
            .unwrap_or_default();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if !used.contains(e.file_name().to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}
