//! The only place that knows the stage order:
//! extract → adapt (vendor) → normalize → fold → load.
//!
//! Files are read one at a time (a Real Geeks source's files together: its deliveries are
//! replayed across files); records within a file are adapted and normalized in parallel
//! with order kept, so outputs are the same whatever the thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::agents::{Roster, RosterError};
use crate::allocator::{drop_later, Chunked};
use crate::dedupe::compare::{EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel, PlaceLevel};
use crate::dedupe::score::COMPARATORS;
use crate::dedupe::survive::{self, Contact};
use crate::dedupe::{self, Decision, Linkage, PairCounts, Scope};
use crate::extract::{self, ExtractError, FileData, Format};
use crate::fold::{self, FoldedLead};
use crate::lead::{Lead, LeadHead, Quality, System};
use crate::load::contacts;
use crate::load::datasets::{self, WriteError, GROUP_ROWS};
use crate::load::payloads::{self, Planned};
use crate::load::publish::{self, PublishError};
use crate::load::table::Table;
use crate::normalize;
use crate::packed::{KeyedLeads, LeadKeys, PackedLeads};
use crate::pipeline::config::{ConfigError, Pipeline, Source};
use crate::pipeline::manifest::Resources;
use crate::pipeline::manifest::{
    Counts, FileInfo, Manifest, Matching, SourceCounts, TargetReport, Timings,
};
use crate::progress::Observer;
use crate::reject::Reject;
use crate::shard::Shard;
use crate::state::{self, RunCounts, Sent, State, StateError};
use crate::vendors;
use crate::vendors::write;
use compact_str::CompactString;

/// Errors that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pipeline file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The roster.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// An input file.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// An input that does not fit its source's settings.
    #[error("{path}: {message}")]
    Mismatch {
        /// The file.
        path: String,
        /// What does not fit.
        message: String,
    },
    /// Writing an output.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Moving the output into place.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The state folder.
    #[error(transparent)]
    State(#[from] StateError),
}

impl RunError {
    /// Whether the fix is in the pipeline file (exit code 4) rather than elsewhere (1).
    pub fn is_invalid_pipeline(&self) -> bool {
        matches!(
            self,
            RunError::Config(ConfigError::Syntax { .. } | ConfigError::Invalid { .. })
                | RunError::Roster(RosterError::Invalid { .. } | RosterError::Csv { .. })
                | RunError::Mismatch { .. }
        )
    }
}

/// How this run behaves (flags, not pipeline content).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Output folder instead of the pipeline's.
    pub out: Option<PathBuf>,
    /// State folder instead of the pipeline's.
    pub state: Option<PathBuf>,
    /// Link only the leads of this part of the agents (`--shard I/N`).
    pub shard: Option<Shard>,
}

/// A finished run.
#[derive(Debug)]
pub struct Outcome {
    /// What was read and written.
    pub manifest: Manifest,
    /// Where.
    pub output: PathBuf,
}

impl Outcome {
    /// Whether more records were rejected than the pipeline allows.
    pub fn reject_ratio_exceeded(&self) -> bool {
        self.manifest
            .max_reject_ratio
            .is_some_and(|max| self.manifest.reject_ratio > max)
    }
}

/// One checked input file: its path, format and number of fields.
pub type CheckedFile = (String, Format, usize);

/// What `validate` found.
#[derive(Debug)]
pub struct Validation {
    /// Per source: name, system, and its files.
    pub sources: Vec<(String, System, Vec<CheckedFile>)>,
    /// Warnings about the inputs.
    pub warnings: Vec<String>,
}

struct Prepared {
    roster: Roster,
    files: Vec<Vec<PathBuf>>,
}

fn prepare(pipeline: &Pipeline) -> Result<Prepared, RunError> {
    let roster = match &pipeline.roster {
        Some(path) => Roster::load(path, &pipeline.display_path(path))?,
        None => Roster::none(),
    };
    let mut files = Vec::with_capacity(pipeline.sources.len());
    for source in pipeline.inputs() {
        if let (Some(agent), true) = (&source.agent, roster.is_loaded()) {
            roster
                .check_source_agent(source.system, agent)
                .map_err(|m| ConfigError::Invalid {
                    path: pipeline.file.display().to_string(),
                    message: if source.index < pipeline.sources.len() {
                        format!("[[sources]] #{} ({}): {m}", source.index + 1, source.name)
                    } else {
                        format!("[[targets]] ({}): {m}", source.system)
                    },
                })?;
        }
        files.push(extract::resolve(&source.pattern).map_err(|e| match e {
            ExtractError::NoMatch { .. } | ExtractError::Io { .. } => ExtractError::NoMatch {
                pattern: format!(
                    "{} (source {})",
                    pipeline.display_path(&source.pattern),
                    source.name
                ),
            },
            other => other,
        })?);
    }
    Ok(Prepared { roster, files })
}

/// Reads one file and checks that its fields fit the source; returns the file and the
/// field names it was checked by.
fn load_file(
    pipeline: &Pipeline,
    source: &Source,
    path: &Path,
) -> Result<(FileData, Vec<String>), RunError> {
    let display = pipeline.display_path(path);
    let file = extract::read_file(path, &display, source.format)?;
    let names = extract::field_names(&file, vendors::is_record(source.system));
    if names.is_empty() {
        return Ok((file, names));
    }
    if source.system == System::Csv {
        if file.format == Format::Csv {
            let missing: Vec<&str> = source
                .columns
                .values()
                .filter(|c| !names.iter().any(|n| n == *c))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(RunError::Mismatch {
                    path: display,
                    message: format!(
                        "the header has no column {} (mapped in [sources.columns] of source {}); it has: {}",
                        missing.join(", "),
                        source.name,
                        names.join(", ")
                    ),
                });
            }
        }
    } else if !vendors::recognizes(source.system, &names) {
        return Err(RunError::Mismatch {
            path: display,
            message: format!(
                "this does not look like {} data: none of its fields ({}) is one of {}; check the source's `system`",
                source.system,
                names.join(", "),
                vendors::identity_fields(source.system).replace('|', ", ")
            ),
        });
    }
    Ok((file, names))
}

/// Checks the pipeline, the roster and every input's header, writing nothing.
pub fn validate(pipeline: &Pipeline) -> Result<Validation, RunError> {
    let prep = prepare(pipeline)?;
    let mut out = Validation {
        sources: Vec::new(),
        warnings: Vec::new(),
    };
    for (source, paths) in pipeline.inputs().zip(&prep.files) {
        let mut files = Vec::new();
        for path in paths {
            let (file, names) = load_file(pipeline, source, path)?;
            out.warnings.extend(file.warnings.iter().cloned());
            files.push((file.display.clone(), file.format, names.len()));
        }
        out.sources
            .push((source.name.clone(), source.system, files));
    }
    Ok(out)
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Runs the pipeline and writes its outputs.
pub fn run(
    pipeline: &Pipeline,
    options: &RunOptions,
    observer: &dyn Observer,
) -> Result<Outcome, RunError> {
    let started = Instant::now();
    if options.shard.is_some() && pipeline.matching.scope == Scope::Global {
        return Err(ConfigError::Invalid {
            path: pipeline.file.display().to_string(),
            message: "--shard splits the work by agent: it needs [match] scope = \"agent\" (in global scope any two leads may be one contact)".into(),
        }
        .into());
    }
    let prep = prepare(pipeline)?;
    let output = options
        .out
        .clone()
        .unwrap_or_else(|| pipeline.output.clone());
    let _lock = publish::lock(&output)?;
    let state_dir = options.state.clone().or_else(|| pipeline.state.clone());
    let _state_lock = state_dir.as_deref().map(publish::lock).transpose()?;
    let prev = match &state_dir {
        Some(dir) => State::load(dir)?,
        None => State::default(),
    };
    let this_run = prev.run + 1;
    let cache = match (&state_dir, &pipeline.roster) {
        (Some(dir), roster) => {
            let text = roster
                .as_ref()
                .and_then(|r| std::fs::read_to_string(r).ok())
                .unwrap_or_default();
            Some(state::Cache::new(dir, &text))
        }
        (None, _) => None,
    };
    let mut resources = Resources::default();
    let staged = publish::staging(&output)?;

    let mut timings = Timings::default();
    // Each batch's leads, packed once the batch is read (the sources' index of each):
    // fold reads each one once, in key order (unpacking only those it merges).
    let mut parts: Vec<KeyedLeads> = Vec::new();
    let mut part_sources: Vec<usize> = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut sources: Vec<SourceCounts> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let total_files: usize = prep.files.iter().map(Vec::len).sum();
    observer.start("read", total_files as u64);
    let n_sources = pipeline.sources.len();
    // A target's existing export is often one of the sources' files too (the Maxwork
    // export read as a source and matched as Maxwork's records): a source's batch whose
    // files a target reads is kept, and the target takes it instead of parsing the files
    // again when it reads them with the same settings.
    let target_files: std::collections::HashSet<&PathBuf> =
        prep.files[n_sources..].iter().flatten().collect();
    // Kept packed, as the targets' own batches are (see `PackedLeads`).
    let mut shared: std::collections::HashMap<String, (Batch, KeyedLeads)> =
        std::collections::HashMap::new();
    let mut existing: Vec<(usize, Vec<KeyedLeads>)> = Vec::new();
    let mut existing_counts: Vec<SourceCounts> = Vec::new();
    let inputs: Vec<(&Source, &Vec<PathBuf>)> = pipeline.inputs().zip(&prep.files).collect();
    // The sources' batches are read two at a time: each one's sequential parts (reading
    // and checksumming the files, finding the records in them) then overlap another's
    // parallel ones. Results are taken in batch order.
    let jobs: Vec<(&Source, &[PathBuf])> = inputs[..n_sources]
        .iter()
        .flat_map(|&(source, paths)| {
            batches_of(source, paths)
                .into_iter()
                .map(move |b| (source, b))
        })
        .collect();
    let read_started = Instant::now();
    // Reading frees most of what it allocates (records, leads packed as their batch
    // ends): handed back once all are read, it does not stay resident under the folded
    // leads' buffers and the linking's arrays.
    let mut parsed_jobs = crate::allocator::hand_back_freed(|| {
        side_by_side(&jobs, |&(source, batch)| {
            let mut timings = Timings::default();
            let files = load_batch(pipeline, source, batch, &mut timings)?;
            let (mut read, origin) =
                read_batch(&files, source, &prep.roster, cache.as_ref(), &mut timings)?;
            // Packed as soon as the batch is read: the batches wait for the last one packed.
            let leads = KeyedLeads::pack(std::mem::take(&mut read.leads));
            // A batch whose files a target reads too is kept for it.
            let share_as = batch
                .iter()
                .all(|p| target_files.contains(p))
                .then(|| shared_key(source, &files));
            observer.advance(batch.len() as u64);
            Ok::<_, RunError>(SourceBatch {
                batch: read,
                leads,
                origin,
                timings,
                share_as,
            })
        })
    })
    .into_iter();
    for &(source, paths) in &inputs {
        let is_target = source.index >= n_sources;
        let mut source_leads: Vec<KeyedLeads> = Vec::new();
        // A target's records wait for the contacts packed, not as leads.
        let mut target_leads: Vec<KeyedLeads> = Vec::new();
        let mut counts = Counts::default();
        let mut infos = Vec::new();
        for batch in batches_of(source, paths) {
            let (b, origin) = if is_target {
                let files = load_batch(pipeline, source, batch, &mut timings)?;
                // Taken, not copied: a second target of the same files parses them again.
                let (read, mut packed) = match shared.remove(&shared_key(source, &files)) {
                    Some((b, packed)) => ((b.for_source(source.index), Origin::Shared), packed),
                    None => {
                        let (mut b, origin) =
                            read_batch(&files, source, &prep.roster, cache.as_ref(), &mut timings)?;
                        let packed = KeyedLeads::pack(std::mem::take(&mut b.leads));
                        ((b, origin), packed)
                    }
                };
                // Set aside until the targets are matched, after linking.
                set_aside(&mut packed.leads, staged.path())?;
                target_leads.push(packed);
                observer.advance(batch.len() as u64);
                read
            } else {
                let read = parsed_jobs
                    .next()
                    .expect("a result for every source batch")?;
                timings.extract += read.timings.extract;
                timings.adapt += read.timings.adapt;
                timings.normalize += read.timings.normalize;
                if let Some(key) = read.share_as {
                    shared.insert(key, (read.batch.shared_copy(), read.leads.clone()));
                }
                source_leads.push(read.leads);
                (read.batch, read.origin)
            };
            match origin {
                Origin::Parsed => resources.parsed_batches += 1,
                Origin::Cached => resources.cached_batches += 1,
                Origin::Shared => resources.shared_batches += 1,
            }
            counts.read += b.read;
            counts.rejected += b.rejects.len();
            counts.folded += b.folded;
            infos.extend(b.infos);
            warnings.extend(b.warnings);
            rejects.extend(b.rejects);
        }
        counts.loaded = counts.read - counts.rejected;
        let report = SourceCounts {
            name: source.name.clone(),
            system: source.system.to_string(),
            path: source.path.clone(),
            files: infos,
            counts,
        };
        if is_target {
            existing.push((source.index, target_leads));
            existing_counts.push(report);
        } else {
            part_sources.extend(std::iter::repeat_n(source.index, source_leads.len()));
            parts.extend(source_leads);
            sources.push(report);
        }
    }
    drop(shared);
    // Every number is normalized: the memo of numbers goes now, not with the process.
    crate::normalize::phone::forget_numbers();
    timings.apportion_reading(ms(read_started));
    observer.finish();

    let t = Instant::now();
    // Each part's source and length: which source each folded record came from.
    let part_sizes: Vec<(usize, usize)> = part_sources
        .into_iter()
        .zip(parts.iter().map(KeyedLeads::len))
        .collect();
    // The folded leads come a window at a time, in key order: each window's leads are
    // counted, give their match records and keys, and are packed (a third of their size):
    // from here on the leads are read again only for the golden records, review.csv and
    // their own files, and linking needs only their keys and match records. A shard keeps
    // its own leads, but trains on every lead's records, as a whole run would.
    let mut quality_flags = BTreeMap::new();
    let mut records: Vec<dedupe::MatchRecord> = Vec::new();
    let mut all_keys = LeadKeys::default();
    let mut owned: Vec<bool> = Vec::new();
    let mut keys = LeadKeys::default();
    let mut packed = PackedLeads::default();
    let mut records_time = Duration::ZERO;
    let mut writing = None;
    let folded = crate::allocator::hand_back_freed(|| {
        // Most leads are of one record, which folding leaves packed: their heads give
        // what is read of them here, and their bytes are packed again as they are.
        let folded = fold::try_fold(parts, FOLD_WINDOW, |window| {
            let heads: Vec<LeadHead> = window.par_iter().map(FoldedLead::head).collect();
            for head in &heads {
                sources[head.source.source_index].counts.leads += 1;
            }
            // Counted over every lead, so each shard reports what a whole run would.
            count_quality_flags(&mut quality_flags, heads.iter().map(|h| h.quality));
            let r = Instant::now();
            let at = records.len();
            records.par_extend(heads.par_iter().map(dedupe::MatchRecord::of_head));
            records_time += r.elapsed();
            all_keys.extend(heads.iter().map(|h| h.lead_key));
            match options.shard {
                Some(shard) => {
                    let mine: Vec<bool> =
                        records[at..].iter().map(|r| shard.owns(&r.agent)).collect();
                    keys.extend(
                        heads
                            .iter()
                            .zip(&mine)
                            .filter_map(|(h, &m)| m.then_some(h.lead_key)),
                    );
                    drop(heads);
                    let kept: Vec<FoldedLead> = window
                        .into_iter()
                        .zip(&mine)
                        .filter_map(|(lead, &m)| m.then_some(lead))
                        .collect();
                    packed.append_with(&kept, FoldedLead::pack_into);
                    owned.extend(mine);
                }
                None => {
                    drop(heads);
                    packed.append_with(&window, FoldedLead::pack_into);
                    crate::allocator::drop_on_pool(window);
                }
            }
            // The packed leads are read again only once linked: each full buffer goes to
            // a file in the staging folder as it is made (unlinked, so it goes with the
            // process), and linking's arrays take the memory instead (0.4 GB at a
            // million leads). The kernel's copying of them (0.7 CPU-s at a million
            // leads) is done on a thread of its own while the next window is folded,
            // instead of with the pool waiting; each write is waited for before the
            // next, and the last once folding is done, before any lead is read back.
            set_aside_done(writing.take(), staged.path())?;
            writing = set_aside_later(&mut packed, staged.path())?;
            Ok::<(), WriteError>(())
        })?;
        // The last window's buffers are freed once written, before memory is handed back.
        set_aside_done(writing.take(), staged.path())?;
        Ok::<_, WriteError>(folded)
    })?;
    let mut rest = &folded[..];
    for (source, len) in part_sizes {
        let (part, after) = rest.split_at(len);
        sources[source].counts.folded += part.iter().filter(|&&f| f).count();
        rest = after;
    }
    rejects.sort_by(|a, b| {
        (a.source_index, &a.file, a.line, a.reason).cmp(&(
            b.source_index,
            &b.file,
            b.line,
            b.reason,
        ))
    });
    // The match records, made while folding, count as dedupe's.
    let records_ms = records_time.as_millis() as u64;
    timings.fold = ms(t).saturating_sub(records_ms);

    let t = Instant::now();
    observer.start("dedupe", 0);
    let trained = dedupe::train(&|i| all_keys.get(i as u32), &records);
    let (keys, records) = match options.shard {
        Some(_) => {
            let records = records
                .into_iter()
                .zip(owned)
                .filter_map(|(r, mine)| mine.then_some(r))
                .collect();
            (keys, records)
        }
        None => (all_keys, records),
    };
    let n_leads = packed.len();
    debug_assert_eq!(keys.len(), n_leads);
    let (mut clusters, mut linkage, scores) = dedupe::link_keys(
        &|i| keys.get(i as u32),
        records,
        trained,
        &pipeline.matching,
    );
    // The leads are packed: stabilizing renames the contacts, and each lead takes its
    // contact's final id when it is unpacked.
    let (id_changes, known) =
        state::stabilize(&mut clusters, &mut [], &prev, this_run, state_dir.is_some());
    let mut contact_ids: Vec<CompactString> = vec![CompactString::default(); n_leads];
    for c in &clusters {
        for &i in &c.members {
            contact_ids[i as usize] = c.contact_id.as_str().into();
        }
    }
    // Lead `i` unpacked and linked: its contact and match score.
    let linked = |i: u32| {
        let mut lead = packed.get(i as usize);
        link_lead(&mut lead, i as usize, &contact_ids, &scores);
        lead
    };
    // Golden records: those of contacts of several leads now; those of contacts of one
    // lead (most of them) as the lead's row group is written, just before the lead is
    // freed, so the leads and all the golden records are never held side by side (that
    // was the run's memory peak). Either way a record is the same: made from the same
    // leads, with the contact's final id, and the contacts sorted by id once all are made.
    let keep_custom = !pipeline.targets.is_empty();
    let (single, several): (Vec<_>, Vec<_>) =
        clusters.into_iter().partition(|c| c.members.len() == 1);
    linkage.contacts = dedupe::golden_records(linked, &several, &pipeline.matching, keep_custom);
    let mut alone = vec![false; n_leads];
    for c in &single {
        alone[c.members[0] as usize] = true;
    }
    let n_single = single.len();
    drop((single, several));
    let dir = staged.path();
    let names: Vec<String> = pipeline.inputs().map(|s| s.name.clone()).collect();
    // The pairs are final once linked: counted for the manifest and the report, and
    // review.csv (which shows the review pairs' leads' fields) written, they go to the
    // thread that writes matches.parquet, which frees them a row group at a time.
    let pair_counts = PairCounts::of(&linkage.pairs);
    let leads_started = Instant::now();
    // The leads' files (and review.csv) count as writing, in the timings and in what the
    // observer is told: a bar over the leads.
    observer.start("write", n_leads as u64);
    {
        let mut shown: Vec<u32> = linkage
            .pairs
            .iter()
            .filter(|p| p.decision == Decision::Review)
            .flat_map(|p| [p.a, p.b])
            .collect();
        shown.par_sort_unstable();
        shown.dedup();
        let shown_leads: Vec<Lead> = shown.par_iter().map(|&i| linked(i)).collect();
        let lead = |i: u32| {
            let at = shown
                .binary_search(&i)
                .expect("a review pair's lead is unpacked");
            &shown_leads[at]
        };
        contacts::review_table(&lead, &linkage.pairs).write_csv(&dir.join("review.csv"))?;
    }
    let pairs = std::mem::take(&mut linkage.pairs);
    // The rest of the run, with `matches.parquet` written on a thread of its own from
    // here on: the biggest file starts while the golden records are matched to the
    // targets instead of being finished alone last.
    let (targets, sent) = std::thread::scope(|scope| -> Result<_, RunError> {
        let model = &linkage.model;
        let matches = scope.spawn(move || {
            let path = dir.join("matches.parquet");
            if pairs.is_empty() {
                // One empty row group: the file still has its columns.
                let empty = contacts::matches_table(&keys, &[], model);
                return Table::write_parquet_chunks(&path, std::iter::once(empty));
            }
            let pairs = Chunked::new(pairs);
            let tables = pairs
                .chunks(GROUP_ROWS)
                .map(|c| contacts::matches_table(&keys, &c, model));
            Table::write_parquet_chunks(&path, tables)
        });
        // The leads are final once their contacts are stable: their files are written
        // now, beside matches.parquet, and the leads freed before the golden records are
        // linked to persons and matched to the targets. Writing consumes them: they are
        // unpacked a window at a time, and each window's leads make their single-lead
        // contacts' golden records and are freed once their rows are made.
        // Room for every contact: the contacts of several leads join them after, and the
        // array becomes the contacts' (appending the other way round grew a new array,
        // and the singles' stayed allocated, and resident, to the end of the run).
        let mut singles: Vec<Contact> = Vec::with_capacity(n_single + linkage.contacts.len());
        let mut at = 0;
        let mut first = 0;
        let windows = packed.into_groups(LEADS_WINDOW).map(|mut window| {
            window
                .par_iter_mut()
                .enumerate()
                .for_each(|(i, lead)| link_lead(lead, first + i, &contact_ids, &scores));
            first += window.len();
            observer.advance(window.len() as u64);
            window
        });
        let written = crate::allocator::hand_back_freed(|| {
            datasets::write_leads(
                &dir.join("leads.parquet"),
                &dir.join("leads.csv"),
                windows,
                &names,
                |window| {
                    let alone = &alone[at..at + window.len()];
                    at += window.len();
                    if at.is_multiple_of(GROUP_ROWS) {
                        crate::allocator::hand_back_now();
                    }
                    // Picked first: an indexed iterator extends `singles` in place.
                    let picked: Vec<&Lead> = window
                        .iter()
                        .zip(alone)
                        .filter_map(|(lead, &a)| a.then_some(lead))
                        .collect();
                    singles.par_extend(picked.par_iter().map(|lead| {
                        let id = lead
                            .contact_id
                            .as_deref()
                            .expect("linked leads have a contact");
                        dedupe::golden_of(&[lead], id, &pipeline.matching, keep_custom)
                    }));
                },
            )
        });
        written?;
        // Every lead is written: what linked them goes before the contacts are matched.
        drop((contact_ids, scores, alone));
        singles.append(&mut linkage.contacts);
        linkage.contacts = singles;
        // Contact ids are unique: the order is the same whatever they came in.
        linkage
            .contacts
            .par_sort_unstable_by(|a, b| a.contact_id.cmp(&b.contact_id));
        // The leads' files' time, review.csv's with it.
        let leads_ms = ms(leads_started);
        // Linking the contacts to persons is dedupe's again.
        observer.start("dedupe", 0);
        // Payload targets match the golden records again: their match records are made
        // once.
        let contact_records =
            if pipeline.targets.is_empty() && pipeline.matching.scope == Scope::Global {
                Vec::new()
            } else {
                dedupe::contact_records(&linkage.contacts)
            };
        linkage.person_links = dedupe::link_persons_with(
            &mut linkage.contacts,
            &contact_records,
            &linkage.model,
            &pipeline.matching,
        );
        timings.dedupe = ms(t).saturating_sub(leads_ms) + records_ms;

        let t = Instant::now();
        observer.start("payloads", 0);
        let matched = match_targets(
            pipeline,
            (&linkage, contact_records),
            (existing, existing_counts),
            dir,
        )?;
        let matching_ms = ms(t);

        observer.start("write", 0);
        let write_started = Instant::now();
        // The state remembers what was sent only when there is a state folder.
        let mut sent = state_dir.as_ref().map(|_| prev.sent.clone());
        // Payloads and the datasets need nothing of each other: they are made side by
        // side, so the writing of the big files fills the cores the payloads leave idle.
        let (targets, written) = rayon::join(
            || {
                let t = Instant::now();
                let targets = plan_targets(
                    pipeline,
                    &prep.roster,
                    &linkage,
                    &prev,
                    matched,
                    &dir.join("payloads"),
                    sent.as_mut().map(|s| (s, &known)),
                );
                (targets, matching_ms + ms(t))
            },
            || write_datasets(dir, &names, &rejects, &linkage, (this_run, &id_changes)),
        );
        let matches = matches
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        timings.payloads = targets.1;
        timings.write = ms(write_started) + leads_ms;
        let targets = targets.0?;
        written?;
        matches?;
        Ok((targets, sent))
    })?;
    timings.total = ms(started);

    let manifest = build_manifest(
        pipeline,
        sources,
        n_leads,
        &rejects,
        &linkage,
        Reports {
            targets,
            warnings,
            timings,
            run: this_run,
            previous: prev.last.clone(),
            id_changes: id_changes.len(),
            resources,
            quality_flags,
            shard: options.shard,
            pairs: pair_counts,
        },
    );
    let json = serde_json::to_string_pretty(&linkage.model).expect("the model serializes") + "\n";
    datasets::write_text(&dir.join("model.json"), &json)?;
    datasets::write_text(&dir.join("manifest.json"), &manifest_json(&manifest))?;
    datasets::write_text(
        &dir.join("report.html"),
        &crate::load::report::render(
            &manifest,
            &crate::load::report::Shape::of_linkage(&linkage, &pair_counts),
        ),
    )?;
    publish::publish(staged, &output)?;
    // The state moves on only once the outputs are in place: a run that fails before
    // leaves the state of the last good run.
    if let Some(dir) = &state_dir {
        State {
            run: this_run,
            contacts: known,
            sent: sent.unwrap_or_default(),
            last: Some(RunCounts {
                run: this_run,
                read: manifest.totals.read,
                rejected: manifest.totals.rejected,
                leads: manifest.totals.leads,
                contacts: manifest.matching.contacts,
                review: manifest
                    .matching
                    .decisions
                    .get("review")
                    .copied()
                    .unwrap_or(0),
            }),
        }
        .save(dir)?;
        if let Some(c) = &cache {
            c.collect_garbage();
        }
    }
    observer.finish();
    // Freeing a million leads and their contacts, pairs and strings takes seconds of one
    // core; the outputs are in place, so a thread of its own does it while the caller
    // goes on (or the process exits and the kernel takes the memory back at once).
    drop_later((linkage, rejects));
    Ok(Outcome { manifest, output })
}

/// Lead `i` as linked, once unpacked: its contact (`contact_ids`) and match score.
fn link_lead(lead: &mut Lead, i: usize, contact_ids: &[CompactString], scores: &[Option<f64>]) {
    lead.contact_id = Some(contact_ids[i].clone());
    lead.match_score = scores[i];
}

/// Leads unpacked at a time to write the leads' files: a divisor of `GROUP_ROWS`, so the
/// row groups are those of the leads written whole.
const LEADS_WINDOW: usize = 16_384;

/// Leads folded at a time: each window's match records are made, and its leads packed, as
/// it comes.
const FOLD_WINDOW: usize = 65_536;
const _: () = assert!(GROUP_ROWS.is_multiple_of(LEADS_WINDOW));

/// Writes the reconciled datasets but the leads' files, `review.csv` and `matches.parquet`
/// (which the run writes earlier), the payloads and the run's reports into `dir`.
fn write_datasets(
    dir: &Path,
    names: &[String],
    rejects: &[Reject],
    linkage: &Linkage,
    (this_run, id_changes): (u64, &[state::IdChange]),
) -> Result<(), WriteError> {
    // Every file is independent: write them side by side, the biggest (contacts) first so
    // it starts at once.
    // Each chunk's table (golden fields, provenance as JSON) is made once for both files.
    let write_contacts = || {
        let (parquet, csv) = (dir.join("contacts.parquet"), dir.join("contacts.csv"));
        let tables = row_groups(&linkage.contacts)
            .into_iter()
            .map(contacts::contacts_table);
        Table::write_parquet_and_csv_chunks(&parquet, &csv, tables)
    };
    let writes: Vec<Box<dyn Fn() -> Result<(), WriteError> + Sync + '_>> = vec![
        Box::new(write_contacts),
        Box::new(|| {
            contacts::person_links_table(&linkage.contacts, &linkage.person_links)
                .write_csv(&dir.join("person-links.csv"))
        }),
        Box::new(|| datasets::write_rejects(&dir.join("rejects.csv"), rejects, names)),
        Box::new(|| write_id_changes(&dir.join("id-changes.csv"), this_run, id_changes)),
    ];
    // Every result first, then the first failure in file order: the same error whatever
    // the threads did.
    let results: Vec<Result<(), WriteError>> = writes.par_iter().map(|w| w()).collect();
    results.into_iter().collect()
}

/// Rows in Parquet row groups of [`GROUP_ROWS`]; no rows make one empty group, so an
/// empty run's files still have their header and schema.
fn row_groups<T>(rows: &[T]) -> Vec<&[T]> {
    if rows.is_empty() {
        vec![rows]
    } else {
        rows.chunks(GROUP_ROWS).collect()
    }
}

/// Contacts planned and rendered a chunk at a time: the payload lines of one chunk are
/// held at once, never every contact's request.
const PAYLOAD_CHUNK: usize = 1 << 15;

/// What the state remembers of sent requests (per target system), and the contacts it
/// still knows (requests for other contacts are forgotten).
type SentMemory<'a> = (
    &'a mut BTreeMap<String, BTreeMap<String, Sent>>,
    &'a BTreeMap<String, state::KnownContact>,
);

/// A target's existing export, folded, with its counts, and the record (if any) each
/// contact matched.
type Matched = (
    PackedLeads,
    Option<SourceCounts>,
    Vec<Option<dedupe::existing::Found>>,
);

/// Folds each target's existing export and matches the contacts to it. Consumes the
/// contacts' match records (as many as the contacts, and large): they are freed before
/// any payload is rendered or dataset written.
fn match_targets(
    pipeline: &Pipeline,
    (linkage, contact_records): (&Linkage, Vec<dedupe::MatchRecord>),
    (existing, existing_counts): (Vec<(usize, Vec<KeyedLeads>)>, Vec<SourceCounts>),
    dir: &Path,
) -> Result<Vec<Matched>, WriteError> {
    let mut existing = existing.into_iter().zip(existing_counts);
    let mut matched = Vec::with_capacity(pipeline.targets.len());
    for target in &pipeline.targets {
        // Matching reads the records' keys and match records; planning, the records
        // found: the records are packed again as they are folded.
        let mut keys = LeadKeys::default();
        let mut match_records: Vec<dedupe::MatchRecord> = Vec::new();
        let mut records = PackedLeads::default();
        let report = match (
            &target.existing,
            target.existing.as_ref().and_then(|_| existing.next()),
        ) {
            (Some(_), Some(((index, mut packed), mut report))) => {
                // Folding reads every record: read back a buffer at a time, not a record.
                for part in &mut packed {
                    part.leads.unspill();
                }
                let folded = fold::try_fold_leads(packed, FOLD_WINDOW, |mut window| {
                    // A shared batch was packed as the source's.
                    for lead in &mut window {
                        lead.source.source_index = index;
                    }
                    match_records.par_extend(window.par_iter().map(dedupe::MatchRecord::of));
                    keys.extend(window.iter().map(|l| l.lead_key.as_str()));
                    records.append(&window);
                    // Read again only for the records found, as the payloads are planned.
                    set_aside(&mut records, dir)
                })?;
                report.counts.folded += folded.iter().filter(|f| **f).count();
                report.counts.leads = records.len();
                Some(report)
            }
            _ => None,
        };
        let by_key: foldhash::HashMap<&str, usize> =
            keys.iter().enumerate().map(|(i, key)| (key, i)).collect();
        // In contact order (a parallel collect keeps it).
        let direct: Vec<(usize, usize)> = linkage
            .contacts
            .par_iter()
            .enumerate()
            .filter_map(|(c, contact)| {
                contact
                    .lead_keys
                    .iter()
                    .find_map(|k| by_key.get(k.as_str()).map(|&r| (c, r)))
            })
            .collect();
        drop(by_key);
        let found = dedupe::existing::find(
            &contact_records,
            &match_records,
            &direct,
            &linkage.model,
            &linkage.tf,
            &pipeline.matching,
        );
        matched.push((records, report, found));
    }
    drop_later(contact_records);
    Ok(matched)
}

/// Moves `packed`'s full buffers to a file in the staging folder `dir` (unlinked, so it
/// goes with the process however it ends) until they are read again: see
/// [`PackedLeads::spill`].
fn set_aside(packed: &mut PackedLeads, dir: &Path) -> Result<(), WriteError> {
    packed
        .spill(|| tempfile::tempfile_in(dir))
        .map_err(aside_error(dir))
}

/// A write of leads set aside, on a thread of its own.
type Writing = std::thread::JoinHandle<std::io::Result<()>>;

/// [`set_aside`], with the writing done on a thread of its own (see
/// [`PackedLeads::spill_later`]): none of `packed`'s leads may be read before
/// [`set_aside_done`] has waited for it.
fn set_aside_later(packed: &mut PackedLeads, dir: &Path) -> Result<Option<Writing>, WriteError> {
    let job = packed
        .spill_later(|| tempfile::tempfile_in(dir))
        .map_err(aside_error(dir))?;
    Ok(job.map(|job| std::thread::spawn(move || job.write())))
}

/// Waits for a write of [`set_aside_later`], if there is one.
fn set_aside_done(writing: Option<Writing>, dir: &Path) -> Result<(), WriteError> {
    let Some(writing) = writing else {
        return Ok(());
    };
    writing
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        .map_err(aside_error(dir))
}

fn aside_error(dir: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: format!("{} (leads set aside on disk)", dir.display()),
        source,
    }
}

/// Each target's payloads, from its matched export ([`match_targets`]): a create,
/// update, no-op or skip per contact, written to `dir/<system>/` in contact-id order.
/// With `memory`, requests that will be sent are remembered for the state.
fn plan_targets(
    pipeline: &Pipeline,
    roster: &Roster,
    linkage: &Linkage,
    prev: &State,
    matched: Vec<Matched>,
    dir: &Path,
    mut memory: Option<SentMemory<'_>>,
) -> Result<Vec<TargetReport>, WriteError> {
    let mut out = Vec::with_capacity(pipeline.targets.len());
    for (target, (records, report, found)) in pipeline.targets.iter().zip(matched) {
        let ctx = target.write_context(roster);
        let sent_before = prev.sent.get(target.system.as_str());
        let mut remembered = memory.as_mut().map(|(sent, known)| {
            let m = sent.entry(target.system.to_string()).or_default();
            m.retain(|id, _| known.contains_key(id));
            m
        });
        let keep_sent = remembered.is_some();
        let mut writer = payloads::PayloadWriter::create(&dir.join(target.system.as_str()))?;
        for (contacts, found) in linkage
            .contacts
            .chunks(PAYLOAD_CHUNK)
            .zip(found.chunks(PAYLOAD_CHUNK))
        {
            let rendered: Vec<payloads::Rendered> = contacts
                .par_iter()
                .zip(found)
                .map(|(contact, found)| {
                    // The target's record as it stands, as a golden record of its own.
                    let record = found.map(|f| records.get(f.record));
                    let target_id = record.as_ref().and_then(|r| r.source.source_id.clone());
                    let current = record.map(|l| {
                        survive::golden(&[&l], &pipeline.matching.system_priority, &l.lead_key, "")
                    });
                    let existing = current
                        .as_ref()
                        .map(|c| (target_id.as_deref().unwrap_or(""), c));
                    let sent = sent_before.and_then(|m| m.get(contact.contact_id.as_str()));
                    let plan = match (existing, sent) {
                        // Created on an earlier run, not in the target's export yet: what
                        // changed since is an update of what was sent.
                        (None, Some(s)) if s.op == "create" => {
                            write::plan_after_create(contact, &s.body, &ctx)
                        }
                        _ => write::plan(contact, existing, &ctx),
                    };
                    let planned = Planned {
                        contact_id: contact.contact_id.to_string(),
                        plan,
                        target_id,
                    };
                    payloads::render(target.system, planned, sent, keep_sent)
                })
                .collect();
            for r in rendered {
                writer.push(&r)?;
                if let (Some(m), Some((id, sent))) = (remembered.as_mut(), r.sent) {
                    m.insert(id, sent);
                }
            }
        }
        out.push(TargetReport {
            system: target.system.to_string(),
            existing: report,
            payloads: writer.finish()?,
        });
    }
    Ok(out)
}

/// One input batch (a file, or a Real Geeks source's files) parsed: what the state's
/// cache keeps.
#[derive(serde::Serialize, serde::Deserialize)]
struct Batch {
    leads: Vec<Lead>,
    rejects: Vec<Reject>,
    infos: Vec<FileInfo>,
    warnings: Vec<String>,
    read: usize,
    folded: usize,
}

impl Batch {
    /// A copy of all but the leads, which are packed apart: a target's export read as a
    /// source too is copied for the target, its packed leads with it.
    fn shared_copy(&self) -> Batch {
        debug_assert!(
            self.leads.is_empty(),
            "a read batch's leads are packed apart"
        );
        Batch {
            leads: Vec::new(),
            rejects: self.rejects.clone(),
            infos: self.infos.clone(),
            warnings: self.warnings.clone(),
            read: self.read,
            folded: self.folded,
        }
    }

    /// The batch as another input with the same parse settings read it: its rejects
    /// belong to input `index` (a shared batch's leads are packed apart, see
    /// [`Batch::shared_copy`], and given theirs when unpacked).
    fn for_source(mut self, index: usize) -> Batch {
        debug_assert!(self.leads.is_empty(), "a shared batch's leads are packed");
        for reject in &mut self.rejects {
            reject.source_index = index;
        }
        self
    }
}

/// An input's files in the batches they are parsed in: Real Geeks deliveries replay
/// across files, other systems' files stand alone.
fn batches_of<'a>(source: &Source, paths: &'a [PathBuf]) -> Vec<&'a [PathBuf]> {
    if source.system == System::Realgeeks {
        vec![paths]
    } else {
        paths.chunks(1).collect()
    }
}

/// The key under which a source's batch waits for a target that reads the same files
/// (by name and content) with the same settings.
fn shared_key(source: &Source, files: &[FileData]) -> String {
    let ids: Vec<(&str, &str)> = file_ids(files).collect();
    format!("{}|{ids:?}", source.parse_settings())
}

/// Reads a batch's files (and checks their fields fit the source).
fn load_batch(
    pipeline: &Pipeline,
    source: &Source,
    batch: &[PathBuf],
    timings: &mut Timings,
) -> Result<Vec<FileData>, RunError> {
    let t = Instant::now();
    let files = batch
        .iter()
        .map(|p| load_file(pipeline, source, p).map(|(file, _)| file))
        .collect::<Result<Vec<_>, _>>();
    timings.extract += ms(t);
    files
}

/// Files by name and content: what the cache key and the shared key name.
fn file_ids(files: &[FileData]) -> impl Iterator<Item = (&str, &str)> {
    files
        .iter()
        .map(|f| (f.display.as_str(), f.sha256.as_str()))
}

/// Where a run's batch came from (what the manifest's `resources` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Extracted, adapted and normalized in this run.
    Parsed,
    /// Taken from the state's cache.
    Cached,
    /// A target's export taken from the source that read the same files.
    Shared,
}

/// A source's batch as read by [`side_by_side`]: its timings, and the key under which
/// it waits for a target that reads the same files.
struct SourceBatch {
    /// The batch, its leads packed apart.
    batch: Batch,
    leads: KeyedLeads,
    origin: Origin,
    timings: Timings,
    share_as: Option<String>,
}

/// `work` done on every job, two at a time (this thread and one more), each job's result
/// in job order. A failed job stops the jobs not started yet: the results end with the
/// first failure in job order (every job before it has run), whatever finished first.
/// Not a rayon loop over the jobs: a pool thread waiting inside one job's own parallel
/// loops may steal and start another job (more than two batches in memory at once), and
/// rayon reports any one failure, not the first in order.
fn side_by_side<J: Sync, T: Send, E: Send>(
    jobs: &[J],
    work: impl Fn(&J) -> Result<T, E> + Sync,
) -> Vec<Result<T, E>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<std::sync::Mutex<Option<Result<T, E>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let worker = || {
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let result = work(job);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let helper = scope.spawn(worker);
        worker();
        if let Err(panic) = helper.join() {
            std::panic::resume_unwind(panic);
        }
    });
    // Jobs are taken in order, so every job before a failed one was taken and has run;
    // jobs after the first failure in order may not have.
    let mut out = Vec::with_capacity(jobs.len());
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(t)) => out.push(Ok(t)),
            Some(Err(e)) => {
                out.push(Err(e));
                break;
            }
            None => break,
        }
    }
    out
}

/// A batch of read files taken from the state's cache (by the files' names and SHA-256)
/// or, failing that, parsed (and stored there).
fn read_batch(
    files: &[FileData],
    source: &Source,
    roster: &Roster,
    cache: Option<&state::Cache>,
    timings: &mut Timings,
) -> Result<(Batch, Origin), RunError> {
    let ids: Vec<(&str, &str)> = file_ids(files).collect();
    let key = cache.map(|c| c.key(&source.cache_settings(), &ids));
    // Taking a batch from the cache counts as extracting it.
    let t = Instant::now();
    let cached: Option<Batch> = cache.zip(key.as_deref()).and_then(|(c, k)| c.load(k));
    timings.extract += ms(t);
    if let Some(b) = cached {
        return Ok((b, Origin::Cached));
    }
    let ctx = source.context(roster);
    let nctx = source.normalize_context();
    let b = parse_batch(files, source, &ctx, &nctx, timings);
    if let (Some(c), Some(k)) = (cache, &key) {
        c.store(k, &b)?;
    }
    Ok((b, Origin::Parsed))
}

/// Extracts, adapts and normalizes one batch.
fn parse_batch(
    files: &[FileData],
    source: &Source,
    ctx: &vendors::SourceContext<'_>,
    nctx: &normalize::NormalizeContext,
    timings: &mut Timings,
) -> Batch {
    let is_record = vendors::is_record(source.system);
    let mut infos = Vec::new();
    let mut warnings = Vec::new();
    let mut read = 0;
    // Records are read into leads a chunk at a time: parsed records are reading's biggest
    // working memory, dropped before the next chunk is parsed. A chunk's leads are
    // normalized at once, while they are in the cache, which drops their names and times
    // as written; replayed deliveries make their leads (normalized last) only when all are
    // fed.
    let mut reader = vendors::SourceReader::new(source.system);
    let normalize_all = |leads: &mut [Lead]| {
        leads
            .par_iter_mut()
            .for_each(|lead| normalize::lead(lead, nctx))
    };
    // Leads normalized so far (the first ones of the reader's).
    let mut normalized = 0;
    for file in files {
        let t = Instant::now();
        let place = crate::reject::Place {
            system: source.system,
            source_index: source.index,
            file: &file.display,
            line: 0,
        };
        let mut records = 0;
        let mut adapting = Duration::ZERO;
        let mut normalizing = Duration::ZERO;
        extract::records_by_chunk(file, place, is_record, &mut |recs| {
            records += recs.len();
            let t = Instant::now();
            reader.feed(recs, ctx);
            adapting += t.elapsed();
            let t = Instant::now();
            let fresh = reader.leads_from(normalized);
            normalized += fresh.len();
            normalize_all(fresh);
            normalizing += t.elapsed();
        });
        infos.push(FileInfo {
            path: file.display.clone(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
            format: file.format.as_str().to_string(),
            records,
        });
        warnings.extend(file.warnings.iter().cloned());
        read += records;
        let (adapt_ms, normalize_ms) =
            (adapting.as_millis() as u64, normalizing.as_millis() as u64);
        timings.extract += ms(t).saturating_sub(adapt_ms + normalize_ms);
        timings.adapt += adapt_ms;
        timings.normalize += normalize_ms;
    }

    let t = Instant::now();
    let adapted = reader.finish(ctx);
    timings.adapt += ms(t);

    let t = Instant::now();
    let mut leads = adapted.leads;
    normalize_all(&mut leads[normalized..]);
    timings.normalize += ms(t);
    Batch {
        leads,
        rejects: adapted.rejects,
        infos,
        warnings,
        read,
        folded: adapted.folded,
    }
}

/// `id-changes.csv`: contact ids that changed in this run.
fn write_id_changes(path: &Path, run: u64, changes: &[state::IdChange]) -> Result<(), WriteError> {
    datasets::write_csv(
        path,
        &["run", "old_contact_id", "new_contact_id", "change"],
        |w| {
            for c in changes {
                w.write_record([
                    run.to_string().as_str(),
                    &c.old_contact_id,
                    &c.new_contact_id,
                    c.change,
                ])?;
            }
            Ok(())
        },
    )
}

/// Peak resident memory of this process, in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn matching_summary(pipeline: &Pipeline, linkage: &Linkage, pairs: &PairCounts) -> Matching {
    let decisions: BTreeMap<String, usize> = Decision::ALL
        .iter()
        .zip(pairs.decisions)
        .filter(|&(_, n)| n > 0)
        .map(|(d, n)| (d.as_str().to_string(), n))
        .collect();
    let model = &linkage.model;
    let mut weights = BTreeMap::new();
    let names: [Vec<&str>; 5] = [
        PhoneLevel::ALL.iter().map(|l| l.as_str()).collect(),
        EmailLevel::ALL.iter().map(|l| l.as_str()).collect(),
        FirstNameLevel::ALL.iter().map(|l| l.as_str()).collect(),
        LastNameLevel::ALL.iter().map(|l| l.as_str()).collect(),
        PlaceLevel::ALL.iter().map(|l| l.as_str()).collect(),
    ];
    for (c, comparator) in COMPARATORS.iter().enumerate() {
        let levels: BTreeMap<String, f64> = names[c]
            .iter()
            .enumerate()
            .skip(1)
            .map(|(l, name)| {
                (
                    name.to_string(),
                    (model.weight(c, l) * 1000.0).round() / 1000.0,
                )
            })
            .collect();
        weights.insert(comparator.to_string(), levels);
    }
    Matching {
        scope: match pipeline.matching.scope {
            Scope::Agent => "agent".into(),
            Scope::Global => "global".into(),
        },
        contacts: linkage.contacts.len(),
        merged_leads: linkage
            .contacts
            .iter()
            .filter(|c| c.lead_keys.len() > 1)
            .map(|c| c.lead_keys.len())
            .sum(),
        candidate_pairs: pairs.pairs,
        decisions,
        lambda: significant(model.lambda, 4),
        em_iterations: model.iterations,
        weights,
    }
}

/// What the manifest reports beside the data: payload targets, warnings, timings.
struct Reports {
    targets: Vec<TargetReport>,
    warnings: Vec<String>,
    timings: Timings,
    run: u64,
    previous: Option<RunCounts>,
    id_changes: usize,
    resources: Resources,
    quality_flags: BTreeMap<String, usize>,
    shard: Option<Shard>,
    /// The scored pairs' counts (the pairs are freed as `matches.parquet` is written).
    pairs: PairCounts,
}

/// `manifest.json`'s text.
pub fn manifest_json(manifest: &Manifest) -> String {
    serde_json::to_string_pretty(manifest).expect("the manifest serializes") + "\n"
}

/// Counts how many of `leads` carry each quality flag into `counts`.
fn count_quality_flags(counts: &mut BTreeMap<String, usize>, leads: impl Iterator<Item = Quality>) {
    // Counted by flag first: a name is looked up once per window, not per lead.
    let mut by_flag = [0usize; Quality::NAMES.len()];
    for quality in leads {
        for (n, (flag, _)) in by_flag.iter_mut().zip(Quality::NAMES) {
            *n += usize::from(quality.contains(*flag));
        }
    }
    for (&n, (_, name)) in by_flag.iter().zip(Quality::NAMES) {
        if n > 0 {
            *counts.entry((*name).to_string()).or_insert(0) += n;
        }
    }
}

fn build_manifest(
    pipeline: &Pipeline,
    sources: Vec<SourceCounts>,
    leads: usize,
    rejects: &[Reject],
    linkage: &Linkage,
    reports: Reports,
) -> Manifest {
    let Reports {
        targets,
        warnings,
        timings,
        run,
        previous,
        id_changes,
        mut resources,
        quality_flags,
        shard,
        pairs,
    } = reports;
    resources.peak_rss_mb = peak_rss_mb();
    let mut totals = Counts::default();
    for s in &sources {
        totals.add(&s.counts);
    }
    let mut reject_reasons = BTreeMap::new();
    for r in rejects {
        *reject_reasons
            .entry(r.reason.as_str().to_string())
            .or_insert(0) += 1;
    }
    let matching = matching_summary(pipeline, linkage, &pairs);
    let review = matching.decisions.get("review").copied().unwrap_or(0);
    let mut outputs = BTreeMap::from([
        ("leads.csv".to_string(), leads),
        ("leads.parquet".to_string(), leads),
        ("rejects.csv".to_string(), rejects.len()),
        ("contacts.csv".to_string(), linkage.contacts.len()),
        ("contacts.parquet".to_string(), linkage.contacts.len()),
        ("matches.parquet".to_string(), pairs.pairs),
        ("review.csv".to_string(), review),
        ("person-links.csv".to_string(), linkage.person_links.len()),
        ("id-changes.csv".to_string(), id_changes),
    ]);
    for t in &targets {
        let p = &t.payloads;
        for (file, n) in [
            ("create", p.creates),
            ("update", p.updates),
            ("invalid", p.invalid),
            ("skipped", p.skipped),
        ] {
            outputs.insert(format!("payloads/{}/{file}.jsonl", t.system), n);
        }
    }
    Manifest {
        leadrecon_version: env!("CARGO_PKG_VERSION").to_string(),
        pipeline: pipeline.name.clone(),
        shard,
        reject_ratio: if totals.read == 0 {
            0.0
        } else {
            totals.rejected as f64 / totals.read as f64
        },
        max_reject_ratio: pipeline.max_reject_ratio,
        sources,
        totals,
        reject_reasons,
        quality_flags,
        outputs,
        matching,
        targets,
        run,
        previous,
        resources,
        warnings,
        timings_ms: timings,
    }
}

/// `x` rounded to `digits` significant digits (the prior is one in a million at a million
/// leads: fixed decimals would print 0).
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - x.abs().log10().ceil() as i32);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_keeps_job_order_whatever_finishes_first() {
        let jobs: Vec<u64> = (0..40).collect();
        let done = side_by_side(&jobs, |&j| {
            // Early jobs take longest, so later ones finish first.
            std::thread::sleep(std::time::Duration::from_millis(40 - j));
            Ok::<u64, String>(j * 10)
        });
        let want: Vec<Result<u64, String>> = jobs.iter().map(|j| Ok(j * 10)).collect();
        assert_eq!(done, want);
        assert!(side_by_side(&Vec::<u64>::new(), |&j| Ok::<u64, ()>(j)).is_empty());
    }

    #[test]
    fn side_by_side_ends_with_the_first_failure_in_job_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let ran = AtomicUsize::new(0);
        let jobs: Vec<u64> = (0..1000).collect();
        let done = side_by_side(&jobs, |&j| {
            ran.fetch_add(1, Ordering::Relaxed);
            // Job 3 fails late, job 5 early: job 3's error is the one reported.
            match j {
                3 => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    Err(format!("job {j}"))
                }
                5 => Err(format!("job {j}")),
                _ => Ok(j),
            }
        });
        assert_eq!(done.len(), 4);
        assert_eq!(done[..3], [Ok(0), Ok(1), Ok(2)]);
        assert_eq!(done[3], Err("job 3".to_string()));
        // The jobs after a failure are not started.
        assert!(
            ran.load(Ordering::Relaxed) < 100,
            "{} jobs ran",
            ran.load(Ordering::Relaxed)
        );
    }
}
