//! `manifest.json`: what a run read, loaded and rejected, per source and file, with
//! checksums and timings. For every source `read = loaded + rejected`; `loaded` records
//! become `leads` rows, except `folded` ones, which were merged into an earlier record of
//! the same lead (a Real Geeks update, a lead present in two exports): `leads = loaded -
//! folded`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// leadrecon version that wrote it.
    pub leadrecon_version: String,
    /// `[pipeline] name`.
    pub pipeline: String,
    /// The part of the agents this run linked (`--shard I/N`); absent in a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// Per source, in pipeline-file order.
    pub sources: Vec<SourceCounts>,
    /// Sums over sources.
    pub totals: Counts,
    /// Rejected records / read records.
    pub reject_ratio: f64,
    /// The pipeline's limit, if set.
    pub max_reject_ratio: Option<f64>,
    /// Rejects by reason code.
    pub reject_reasons: BTreeMap<String, usize>,
    /// Leads by quality flag.
    pub quality_flags: BTreeMap<String, usize>,
    /// Rows written per output file.
    pub outputs: BTreeMap<String, usize>,
    /// Dedupe: contacts, pairs by decision, the model.
    pub matching: Matching,
    /// Per target system: its existing export as read, and the payloads planned.
    pub targets: Vec<TargetReport>,
    /// This run's number in its state (1 without state).
    pub run: u64,
    /// The previous run's counts (with state), to compare with this one.
    pub previous: Option<crate::state::RunCounts>,
    /// What the run used (changes from run to run, like the timings).
    pub resources: Resources,
    /// Things a person should know (encoding fallbacks, empty files).
    pub warnings: Vec<String>,
    /// Wall time per stage, in milliseconds.
    pub timings_ms: Timings,
}

/// Record counts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Records read (every CSV row, JSON record, and unreadable piece).
    pub read: usize,
    /// Records that became (part of) a lead.
    pub loaded: usize,
    /// Records in `rejects.csv`.
    pub rejected: usize,
    /// Loaded records merged into an earlier record of the same lead.
    pub folded: usize,
    /// Rows in `leads.*` that come from this source.
    pub leads: usize,
}

impl Counts {
    /// Adds another source's counts.
    pub fn add(&mut self, o: &Counts) {
        self.read += o.read;
        self.loaded += o.loaded;
        self.rejected += o.rejected;
        self.folded += o.folded;
        self.leads += o.leads;
    }
}

/// One source's counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceCounts {
    /// Source name.
    pub name: String,
    /// System.
    pub system: String,
    /// Path or glob as written.
    pub path: String,
    /// The files it matched.
    pub files: Vec<FileInfo>,
    /// Counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// One input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path relative to the pipeline file.
    pub path: String,
    /// Size on disk.
    pub bytes: u64,
    /// SHA-256 of the bytes on disk.
    pub sha256: String,
    /// Container format read.
    pub format: String,
    /// Records read from it.
    pub records: usize,
}

/// Wall time per stage. Two input batches are read at a time, so the reading stages
/// (extract, adapt, normalize) share the reading's wall time in proportion to the time
/// their batches spent in each.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Reading, decompressing and splitting files into records.
    pub extract: u64,
    /// Vendor adapters: records → leads.
    pub adapt: u64,
    /// Names, emails, phones, times.
    pub normalize: u64,
    /// Records of one lead → one lead.
    pub fold: u64,
    /// Leads → contacts.
    pub dedupe: u64,
    /// Contacts → each target's creates and updates.
    pub payloads: u64,
    /// Writing outputs.
    pub write: u64,
    /// The whole run.
    pub total: u64,
}

impl Timings {
    /// Scales extract, adapt and normalize (summed over batches that ran side by side) to
    /// add up to `wall`, the reading's wall time, when they add up to more.
    pub fn apportion_reading(&mut self, wall: u64) {
        let sum = self.extract + self.adapt + self.normalize;
        if sum <= wall {
            return;
        }
        let share = |t: u64| (t as u128 * wall as u128 / sum as u128) as u64;
        let (extract, adapt) = (share(self.extract), share(self.adapt));
        self.extract = extract;
        self.adapt = adapt;
        self.normalize = wall - extract - adapt;
    }
}

/// What dedupe did.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Matching {
    /// `agent` or `global`.
    pub scope: String,
    /// Contacts written.
    pub contacts: usize,
    /// Leads in a contact with at least one other lead.
    pub merged_leads: usize,
    /// Candidate pairs compared.
    pub candidate_pairs: usize,
    /// Pairs by decision.
    pub decisions: BTreeMap<String, usize>,
    /// Prior probability that two random leads are one person.
    pub lambda: f64,
    /// EM iterations (0: shipped defaults were used).
    pub em_iterations: usize,
    /// Match weight of every comparator level: comparator → level → log2(m/u).
    pub weights: BTreeMap<String, BTreeMap<String, f64>>,
}

/// One target's payloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetReport {
    /// The target system.
    pub system: String,
    /// Its existing export: files and counts (read = loaded + rejected; `leads` records).
    pub existing: Option<SourceCounts>,
    /// Creates, updates, unchanged, invalid, skipped.
    #[serde(flatten)]
    pub payloads: crate::load::payloads::PayloadCounts,
}

/// What a run used.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Resources {
    /// Peak resident memory, MB.
    pub peak_rss_mb: u64,
    /// Input batches (a file, or a Real Geeks source's files) taken from the state's cache
    /// because their files had not changed.
    pub cached_batches: usize,
    /// Input batches read and parsed.
    pub parsed_batches: usize,
    /// Target export batches taken from a source that read the same files with the same
    /// settings in this run, instead of parsing them again.
    #[serde(default)]
    pub shared_batches: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stages_share_the_wall_time_of_overlapping_batches() {
        let mut t = Timings {
            extract: 3000,
            adapt: 1000,
            normalize: 2000,
            fold: 7,
            ..Timings::default()
        };
        t.apportion_reading(4500);
        assert_eq!((t.extract, t.adapt, t.normalize), (2250, 750, 1500));
        assert_eq!(t.fold, 7);
        // Stages that already fit the wall time (batches one at a time) stay as measured.
        let mut t = Timings {
            extract: 100,
            adapt: 50,
            normalize: 25,
            ..Timings::default()
        };
        t.apportion_reading(200);
        assert_eq!((t.extract, t.adapt, t.normalize), (100, 50, 25));
    }
}
