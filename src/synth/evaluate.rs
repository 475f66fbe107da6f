//! Scores a run's contacts against a generated dataset's truth: pairwise precision, recall
//! and F1 of contacts (leads of one person and one agent belong together) and of person
//! links (leads of one person), and how many household and namesake pairs were merged.
//!
//! Reads `truth.csv` and `people.csv` from the dataset folder and `leads.csv` and
//! `contacts.csv` from the run's output folder. A lead is the person of the record it starts at (its
//! `source_file` and `source_line`).

use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;

use serde::Serialize;

/// Pair counts of one grouping against another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PairCounts {
    /// Pairs put together that belong together.
    pub true_positives: u64,
    /// Pairs put together that do not.
    pub false_positives: u64,
    /// Pairs that belong together but were kept apart.
    pub false_negatives: u64,
}

impl PairCounts {
    /// TP / (TP + FP); 1 when nothing was put together.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// TP / (TP + FN); 1 when nothing belongs together.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Hard negatives of one kind: pairs of leads of one agent and different people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HardNegatives {
    /// Such pairs in the data.
    pub pairs: u64,
    /// Of them, put in one contact.
    pub merged: u64,
}

impl HardNegatives {
    /// merged / pairs (0 when there are none).
    pub fn rate(&self) -> f64 {
        if self.pairs == 0 {
            0.0
        } else {
            self.merged as f64 / self.pairs as f64
        }
    }
}

/// How well a run's contacts match the truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Leads scored.
    pub leads: usize,
    /// Contacts: leads of one person and one agent.
    pub contacts: PairCounts,
    /// Person links: leads of one person, whatever the agent.
    pub persons: PairCounts,
    /// Household members (shared surname, address and landline) under one agent.
    pub households: HardNegatives,
    /// Namesakes (same first and last name) under one agent.
    pub namesakes: HardNegatives,
}

impl std::fmt::Display for Quality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |f: &mut std::fmt::Formatter<'_>, name: &str, c: &PairCounts| {
            writeln!(
                f,
                "{name:<9} precision {:.4}  recall {:.4}  F1 {:.4}  (TP {}, FP {}, FN {})",
                c.precision(),
                c.recall(),
                c.f1(),
                c.true_positives,
                c.false_positives,
                c.false_negatives
            )
        };
        writeln!(f, "{} leads", self.leads)?;
        line(f, "contacts", &self.contacts)?;
        line(f, "persons", &self.persons)?;
        for (name, h) in [
            ("households", &self.households),
            ("namesakes", &self.namesakes),
        ] {
            writeln!(
                f,
                "{name:<10} {} of {} pairs merged ({:.3}%)",
                h.merged,
                h.pairs,
                100.0 * h.rate()
            )?;
        }
        Ok(())
    }
}

/// Errors reading the files.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A file could not be read as CSV.
    #[error("cannot read {path}: {source}")]
    Csv {
        /// The file.
        path: String,
        /// Why.
        source: csv::Error,
    },
    /// A column is missing.
    #[error("{path} has no column {column}")]
    Column {
        /// The file.
        path: String,
        /// The column.
        column: &'static str,
    },
    /// A lead starts at a record the truth does not know.
    #[error("lead {lead_key} starts at {file} line {line}, which truth.csv does not list")]
    Unknown {
        /// The lead.
        lead_key: String,
        /// Its file.
        file: String,
        /// Its line.
        line: String,
    },
}

struct CsvFile {
    path: String,
    rows: Vec<csv::StringRecord>,
    header: csv::StringRecord,
}

impl CsvFile {
    fn read(path: &Path) -> Result<CsvFile, EvaluateError> {
        let shown = path.display().to_string();
        let err = |source| EvaluateError::Csv {
            path: shown.clone(),
            source,
        };
        let mut r = csv::Reader::from_path(path).map_err(err)?;
        let header = r.headers().map_err(err)?.clone();
        let rows = r.records().collect::<Result<Vec<_>, _>>().map_err(err)?;
        Ok(CsvFile {
            path: shown,
            rows,
            header,
        })
    }

    fn column(&self, name: &'static str) -> Result<usize, EvaluateError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or(EvaluateError::Column {
                path: self.path.clone(),
                column: name,
            })
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairs within groups of equal key.
fn grouped_pairs<K: Hash + Eq>(keys: impl Iterator<Item = K>) -> u64 {
    let mut counts: HashMap<K, u64> = HashMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    counts.values().map(|&n| pairs(n)).sum()
}

/// Pairwise counts of `predicted` grouping against `truth` grouping.
fn compare<P: Hash + Eq + Copy, T: Hash + Eq + Copy>(predicted: &[P], truth: &[T]) -> PairCounts {
    let both = grouped_pairs(predicted.iter().zip(truth));
    let predicted = grouped_pairs(predicted.iter());
    let truth = grouped_pairs(truth.iter());
    PairCounts {
        true_positives: both,
        false_positives: predicted - both,
        false_negatives: truth - both,
    }
}

/// Scores the run in `out` against the dataset in `dataset`.
pub fn evaluate(dataset: &Path, out: &Path) -> Result<Quality, EvaluateError> {
    let truth = CsvFile::read(&dataset.join("truth.csv"))?;
    let people = CsvFile::read(&dataset.join("people.csv"))?;
    let leads = CsvFile::read(&out.join("leads.csv"))?;
    let (t_file, t_line, t_id, t_person) = (
        truth.column("file")?,
        truth.column("line")?,
        truth.column("source_id")?,
        truth.column("person_id")?,
    );
    // Records at each place (several when a JSON line holds a page of records).
    let mut at: HashMap<(&str, &str), Vec<(&str, &str)>> = HashMap::new();
    for r in &truth.rows {
        at.entry((&r[t_file], &r[t_line]))
            .or_default()
            .push((&r[t_id], &r[t_person]));
    }
    let (p_id, p_first, p_last, p_household) = (
        people.column("person_id")?,
        people.column("first_name")?,
        people.column("last_name")?,
        people.column("household_id")?,
    );
    let mut names: HashMap<(&str, &str), u32> = HashMap::new();
    let mut person_info: HashMap<&str, (u32, &str)> = HashMap::new();
    for r in &people.rows {
        let next = names.len() as u32;
        let name = *names.entry((&r[p_first], &r[p_last])).or_insert(next);
        person_info.insert(&r[p_id], (name, &r[p_household]));
    }
    let (l_key, l_file, l_line, l_id, l_agent, l_contact) = (
        leads.column("lead_key")?,
        leads.column("source_file")?,
        leads.column("source_line")?,
        leads.column("source_id")?,
        leads.column("agent_id")?,
        leads.column("contact_id")?,
    );
    // Interned ids per lead: (person, agent, contact, predicted person, name, household).
    let mut intern: HashMap<String, u32> = HashMap::new();
    let mut id = |s: &str| -> u32 {
        let next = intern.len() as u32;
        *intern.entry(s.to_string()).or_insert(next)
    };
    let contacts = CsvFile::read(&out.join("contacts.csv"))?;
    let (c_id, c_person) = (
        contacts.column("contact_id")?,
        contacts.column("person_id")?,
    );
    let person_of_contact: HashMap<&str, &str> = contacts
        .rows
        .iter()
        .map(|r| (&r[c_id], &r[c_person]))
        .collect();
    let mut rows: Vec<[u32; 6]> = Vec::with_capacity(leads.rows.len());
    for r in &leads.rows {
        let person = at
            .get(&(&r[l_file], &r[l_line]))
            .and_then(|records| match records.as_slice() {
                [(_, person)] => Some(*person),
                several => several
                    .iter()
                    .find(|(id, _)| *id == &r[l_id])
                    .map(|(_, person)| *person),
            })
            .ok_or_else(|| EvaluateError::Unknown {
                lead_key: r[l_key].to_string(),
                file: r[l_file].to_string(),
                line: r[l_line].to_string(),
            })?;
        let (name, household) = person_info.get(person).copied().unwrap_or((u32::MAX, ""));
        let predicted_person = person_of_contact.get(&r[l_contact]).copied().unwrap_or("");
        rows.push([
            id(person),
            id(&r[l_agent]),
            id(&r[l_contact]),
            id(predicted_person),
            name,
            id(household),
        ]);
    }
    let col = |k: usize| -> Vec<u32> { rows.iter().map(|r| r[k]).collect() };
    let (person, agent, contact, predicted_person) = (col(0), col(1), col(2), col(3));
    let true_contact: Vec<(u32, u32)> = person.iter().copied().zip(agent.iter().copied()).collect();
    let hard = |k: usize| -> HardNegatives {
        // Pairs sharing the key under one agent, less those of one person.
        let keyed = |group: &[u32]| -> u64 {
            grouped_pairs(rows.iter().zip(group).map(|(r, g)| (r[k], *g)))
                - grouped_pairs(rows.iter().zip(group).map(|(r, g)| (r[0], *g)))
        };
        HardNegatives {
            pairs: keyed(&agent),
            merged: keyed(&contact),
        }
    };
    Ok(Quality {
        leads: rows.len(),
        contacts: compare(&contact, &true_contact),
        persons: compare(&predicted_person, &person),
        households: hard(5),
        namesakes: hard(4),
    })
}
