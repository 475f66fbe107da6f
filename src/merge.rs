//! `leadrecon merge`: joins the outputs of `leadrecon run --shard I/N` (one folder per
//! part) into the output one machine would have written for the same pipeline.
//!
//! Consumes every part's folder; produces the same files as a whole run: leads and
//! contacts (rows of all parts, sorted as a run sorts them), matches, the review queue,
//! payloads, rejects and a manifest with the parts' counts added up. What crosses parts is
//! computed again: person links (one person under several agents) over every part's
//! contacts, with the model the parts trained (`model.json`; every part trains on every
//! lead, so they agree). A set of folders that are not the parts of one run — a part
//! missing or twice, other inputs, another pipeline or leadrecon version — is refused.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use compact_str::CompactString;
use polars::prelude::*;

use crate::dedupe;
use crate::dedupe::score::Model;
use crate::dedupe::survive::Contact;
use crate::load::contacts::shown_millionths;
use crate::load::datasets::{self, WriteError};
use crate::load::publish::{self, PublishError};
use crate::load::report::{self, Shape};
use crate::pipeline::config::Pipeline;
use crate::pipeline::manifest::Manifest;
use crate::pipeline::run::manifest_json;

/// Why the parts cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A part's file cannot be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The folders are not the parts of one run.
    #[error("{0}")]
    NotParts(String),
    /// Writing the merged output.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Moving it into place.
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// The error for a part's file that cannot be read or is not what a run writes.
fn unreadable<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> MergeError + '_ {
    move |e| MergeError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// One part's folder and manifest.
struct Part {
    dir: PathBuf,
    manifest: Manifest,
}

fn read_parts(dirs: &[PathBuf], pipeline: &Pipeline) -> Result<Vec<Part>, MergeError> {
    let mut parts = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(unreadable(&path))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(unreadable(&path))?;
        if manifest.shard.is_none() {
            return Err(MergeError::NotParts(format!(
                "{} is the output of a whole run, not of `leadrecon run --shard I/N`",
                dir.display()
            )));
        }
        parts.push(Part {
            dir: dir.clone(),
            manifest,
        });
    }
    parts.sort_by_key(|p| p.manifest.shard.map(|s| s.index));
    let count = parts
        .first()
        .and_then(|p| p.manifest.shard)
        .map(|s| s.count);
    let Some(count) = count else {
        return Err(MergeError::NotParts("no part folders were given".into()));
    };
    let indices: Vec<u32> = parts
        .iter()
        .filter_map(|p| p.manifest.shard.map(|s| s.index))
        .collect();
    if parts
        .iter()
        .any(|p| p.manifest.shard.map(|s| s.count) != Some(count))
        || indices != (0..count).collect::<Vec<_>>()
    {
        return Err(MergeError::NotParts(format!(
            "the folders hold parts {} of {count}: every part from 0 to {} is needed, once",
            indices
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            count - 1
        )));
    }
    let first = &parts[0].manifest;
    if first.pipeline != pipeline.name {
        return Err(MergeError::NotParts(format!(
            "the parts ran pipeline `{}`, not `{}`",
            first.pipeline, pipeline.name
        )));
    }
    let inputs = |m: &Manifest| serde_json::to_string(&m.sources).unwrap_or_default();
    for p in &parts[1..] {
        let m = &p.manifest;
        if m.leadrecon_version != first.leadrecon_version
            || inputs(m) != inputs(first)
            || m.reject_reasons != first.reject_reasons
        {
            return Err(MergeError::NotParts(format!(
                "{} and {} did not read the same inputs with the same leadrecon: merge parts of one run only",
                parts[0].dir.display(),
                p.dir.display()
            )));
        }
    }
    Ok(parts)
}

fn read_frame(path: &Path) -> Result<DataFrame, MergeError> {
    let file = File::open(path).map_err(unreadable(path))?;
    ParquetReader::new(file).finish().map_err(unreadable(path))
}

/// Every part's table, one after the other, sorted by `by`.
fn stacked(parts: &[Part], name: &str, by: &[&str]) -> Result<DataFrame, MergeError> {
    let mut all: Option<DataFrame> = None;
    for p in parts {
        let path = p.dir.join(name);
        let df = read_frame(&path)?;
        match all.as_mut() {
            None => all = Some(df),
            Some(a) => {
                a.vstack_mut(&df).map_err(unreadable(&path))?;
            }
        }
    }
    let all = all.unwrap_or_default();
    let sorted = all
        .sort(
            by.iter().map(|s| PlSmallStr::from(*s)).collect::<Vec<_>>(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .map_err(unreadable(Path::new(name)))?;
    Ok(sorted)
}

/// A part's CSV: its header and rows.
fn read_csv(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), MergeError> {
    let mut r = csv::Reader::from_path(path).map_err(unreadable(path))?;
    let header = r.headers().map_err(unreadable(path))?.clone();
    let rows = r
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable(path))?;
    Ok((header, rows))
}

/// Every part's rows of one CSV, with the header.
fn stacked_csv(
    parts: &[Part],
    name: &str,
) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), MergeError> {
    let mut header = csv::StringRecord::new();
    let mut rows = Vec::new();
    for p in parts {
        let (h, r) = read_csv(&p.dir.join(name))?;
        header = h;
        rows.extend(r);
    }
    Ok((header, rows))
}

fn write_rows(
    path: &Path,
    header: &csv::StringRecord,
    rows: &[csv::StringRecord],
) -> Result<(), MergeError> {
    let header: Vec<&str> = header.iter().collect();
    datasets::write_csv(path, &header, |w| {
        for r in rows {
            w.write_record(r)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn column_index(header: &csv::StringRecord, name: &str, path: &str) -> Result<usize, MergeError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| MergeError::Read {
            path: path.to_string(),
            message: format!("no column {name}"),
        })
}

/// Person links over every part's contacts (rows sorted by contact id), as a whole run
/// links them: writes `person-links.csv` into `dir` and returns each contact's person id;
/// `smallest` maps each contact to its smallest lead key.
fn person_ids(
    header: &csv::StringRecord,
    rows: &[csv::StringRecord],
    smallest: &BTreeMap<String, String>,
    model: &Model,
    pipeline: &Pipeline,
    dir: &Path,
) -> Result<(Vec<String>, usize), MergeError> {
    let col = |name: &str| column_index(header, name, "contacts.csv");
    let (id, agent, first, last, email, email2, phone, phone2, postcode, city) = (
        col("contact_id")?,
        col("agent_id")?,
        col("first_name")?,
        col("last_name")?,
        col("email")?,
        col("email2")?,
        col("phone")?,
        col("phone2")?,
        col("postcode")?,
        col("city")?,
    );
    let opt = |r: &csv::StringRecord, i: usize| {
        let v = &r[i];
        (!v.is_empty()).then(|| CompactString::from(v))
    };
    let mut contacts: Vec<Contact> = rows
        .iter()
        .map(|r| Contact {
            contact_id: r[id].into(),
            agent_id: opt(r, agent),
            lead_keys: smallest
                .get(&r[id])
                .map(|k| k.as_str().into())
                .into_iter()
                .collect(),
            first_name: opt(r, first),
            last_name: opt(r, last),
            email: opt(r, email),
            email2: opt(r, email2),
            phone: opt(r, phone),
            phone2: opt(r, phone2),
            postcode: opt(r, postcode),
            city: opt(r, city),
            ..Contact::default()
        })
        .collect();
    let links = dedupe::link_persons(&mut contacts, model, &pipeline.matching);
    crate::load::contacts::person_links_table(&contacts, &links)
        .write_csv(&dir.join("person-links.csv"))?;
    Ok((
        contacts.into_iter().map(|c| c.person_id.into()).collect(),
        links.len(),
    ))
}

/// Adds the parts' counts of what each linked into the first part's manifest.
fn merged_manifest(parts: &[Part]) -> Manifest {
    let mut m = parts[0].manifest.clone();
    m.shard = None;
    // Read the same in every part, or computed again over all of them.
    let shared_outputs = ["rejects.csv", "person-links.csv"];
    for p in &parts[1..] {
        let o = &p.manifest;
        m.matching.contacts += o.matching.contacts;
        m.matching.merged_leads += o.matching.merged_leads;
        m.matching.candidate_pairs += o.matching.candidate_pairs;
        for (k, v) in &o.matching.decisions {
            *m.matching.decisions.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &o.outputs {
            if !shared_outputs.contains(&k.as_str()) {
                *m.outputs.entry(k.clone()).or_insert(0) += v;
            }
        }
        for (t, ot) in m.targets.iter_mut().zip(&o.targets) {
            t.payloads.add(&ot.payloads);
        }
        if let (Some(prev), Some(op)) = (m.previous.as_mut(), o.previous.as_ref()) {
            prev.contacts += op.contacts;
            prev.review += op.review;
        }
        let (t, ot) = (&mut m.timings_ms, &o.timings_ms);
        t.extract = t.extract.max(ot.extract);
        t.adapt = t.adapt.max(ot.adapt);
        t.normalize = t.normalize.max(ot.normalize);
        t.fold = t.fold.max(ot.fold);
        t.dedupe = t.dedupe.max(ot.dedupe);
        t.payloads = t.payloads.max(ot.payloads);
        t.write = t.write.max(ot.write);
        t.total = t.total.max(ot.total);
        m.resources.peak_rss_mb = m.resources.peak_rss_mb.max(o.resources.peak_rss_mb);
    }
    m
}

/// Merges the parts in `dirs` (the outputs of `leadrecon run PIPELINE --shard I/N` for
/// every I) into `out`, staged and moved into place like a run's output.
pub fn merge(pipeline: &Pipeline, dirs: &[PathBuf], out: &Path) -> Result<Manifest, MergeError> {
    let parts = read_parts(dirs, pipeline)?;
    let _lock = publish::lock(out)?;
    let staged = publish::staging(out)?;
    let dir = staged.path();
    let first = &parts[0].dir;

    let model_path = first.join("model.json");
    let model_text = std::fs::read_to_string(&model_path).map_err(unreadable(&model_path))?;
    let model: Model = serde_json::from_str(&model_text).map_err(unreadable(&model_path))?;
    datasets::write_text(&dir.join("model.json"), &model_text)?;
    // Read and written the same in every part: the first one's.
    let rejects = first.join("rejects.csv");
    std::fs::copy(&rejects, dir.join("rejects.csv")).map_err(unreadable(&rejects))?;

    let (header, mut leads) = stacked_csv(&parts, "leads.csv")?;
    leads.sort_by(|a, b| a[0].cmp(&b[0]));
    write_rows(&dir.join("leads.csv"), &header, &leads)?;
    let contact_col = column_index(&header, "contact_id", "leads.csv")?;
    let mut smallest: BTreeMap<String, String> = BTreeMap::new();
    for r in &leads {
        smallest
            .entry(r[contact_col].to_string())
            .or_insert_with(|| r[0].to_string());
    }
    drop(leads);
    datasets::write_parquet(
        &dir.join("leads.parquet"),
        &mut stacked(&parts, "leads.parquet", &["lead_key"])?,
    )?;

    let (header, mut contacts) = stacked_csv(&parts, "contacts.csv")?;
    contacts.sort_by(|a, b| a[0].cmp(&b[0]));
    let (persons, person_links) = person_ids(&header, &contacts, &smallest, &model, pipeline, dir)?;
    let person_col = column_index(&header, "person_id", "contacts.csv")?;
    let contacts: Vec<csv::StringRecord> = contacts
        .iter()
        .zip(&persons)
        .map(|(r, p)| {
            r.iter()
                .enumerate()
                .map(|(i, v)| if i == person_col { p.as_str() } else { v })
                .collect()
        })
        .collect();
    write_rows(&dir.join("contacts.csv"), &header, &contacts)?;
    let mut frame = stacked(&parts, "contacts.parquet", &["contact_id"])?;
    let members: Vec<usize> = frame
        .column("members")
        .and_then(|c| {
            c.u64()
                .map(|m| m.into_no_null_iter().map(|n| n as usize).collect())
        })
        .map_err(unreadable(Path::new("contacts.parquet")))?;
    frame
        .replace("person_id", Column::new("person_id".into(), &persons))
        .map_err(unreadable(Path::new("contacts.parquet")))?;
    datasets::write_parquet(&dir.join("contacts.parquet"), &mut frame)?;

    let mut matches = stacked(&parts, "matches.parquet", &["lead_key_a", "lead_key_b"])?;
    let probabilities: Vec<f64> = matches
        .column("probability")
        .and_then(|c| c.f64().map(|p| p.into_no_null_iter().collect()))
        .map_err(unreadable(Path::new("matches.parquet")))?;
    if matches.height() > 0 {
        datasets::write_parquet(&dir.join("matches.parquet"), &mut matches)?;
    } else {
        std::fs::copy(first.join("matches.parquet"), dir.join("matches.parquet"))
            .map_err(unreadable(&first.join("matches.parquet")))?;
    }
    drop(matches);

    let (header, mut review) = stacked_csv(&parts, "review.csv")?;
    let (p, a, b) = (
        column_index(&header, "probability", "review.csv")?,
        column_index(&header, "lead_key_a", "review.csv")?,
        column_index(&header, "lead_key_b", "review.csv")?,
    );
    let shown = |r: &csv::StringRecord| shown_millionths(r[p].parse::<f64>().unwrap_or(0.0));
    review.sort_by(|x, y| {
        shown(y)
            .cmp(&shown(x))
            .then_with(|| (&x[a], &x[b]).cmp(&(&y[a], &y[b])))
    });
    write_rows(&dir.join("review.csv"), &header, &review)?;

    let (header, mut changes) = stacked_csv(&parts, "id-changes.csv")?;
    changes.sort_by(|x, y| x.iter().skip(1).cmp(y.iter().skip(1)));
    write_rows(&dir.join("id-changes.csv"), &header, &changes)?;

    merge_payloads(&parts, dir)?;

    let mut manifest = merged_manifest(&parts);
    manifest
        .outputs
        .insert("person-links.csv".into(), person_links);
    datasets::write_text(&dir.join("manifest.json"), &manifest_json(&manifest))?;
    let shape = Shape::of(probabilities.into_iter(), members.into_iter());
    datasets::write_text(&dir.join("report.html"), &report::render(&manifest, &shape))?;
    publish::publish(staged, out)?;
    Ok(manifest)
}

/// `payloads/<system>/<file>.jsonl`: every part's lines, in contact-id order.
fn merge_payloads(parts: &[Part], dir: &Path) -> Result<(), MergeError> {
    let root = parts[0].dir.join("payloads");
    let Ok(systems) = std::fs::read_dir(&root) else {
        return Ok(());
    };
    let mut systems: Vec<PathBuf> = systems.filter_map(|e| e.ok().map(|e| e.path())).collect();
    systems.sort();
    for system in systems {
        let Some(name) = system.file_name() else {
            continue;
        };
        let out = dir.join("payloads").join(name);
        std::fs::create_dir_all(&out).map_err(|source| WriteError::Io {
            path: out.display().to_string(),
            source,
        })?;
        for file in [
            "create.jsonl",
            "update.jsonl",
            "invalid.jsonl",
            "skipped.jsonl",
        ] {
            let mut lines: Vec<(String, String)> = Vec::new();
            for p in parts {
                let path = p.dir.join("payloads").join(name).join(file);
                let text = std::fs::read_to_string(&path).map_err(unreadable(&path))?;
                for line in text.lines() {
                    let v: serde_json::Value =
                        serde_json::from_str(line).map_err(unreadable(&path))?;
                    let id = v["contact_id"].as_str().unwrap_or_default().to_string();
                    lines.push((id, line.to_string()));
                }
            }
            lines.sort_by(|x, y| x.0.cmp(&y.0));
            let mut text = String::new();
            for (_, line) in lines {
                text.push_str(&line);
                text.push('\n');
            }
            datasets::write_text(&out.join(file), &text)?;
        }
    }
    Ok(())
}
