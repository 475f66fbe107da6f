//! Every stage on generated data (seeded, so every run measures the same input): extract +
//! adapt, normalize, fold, packing, dedupe, and the whole run with its outputs. `cargo bench
//! --bench extract_normalize` prints time and elements (records or leads) per second for
//! each. End to end at 100k and 1M leads: `scripts/bench-e2e`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leadrecon::agents::Roster;
use leadrecon::extract;
use leadrecon::lead::Lead;
use leadrecon::normalize::{self, NormalizeContext};
use leadrecon::pipeline::config::Pipeline;
use leadrecon::pipeline::run::{self, RunOptions};
use leadrecon::progress::Silent;
use leadrecon::reject::Place;
use leadrecon::vendors;

const LEADS: usize = 20_000;

// The same allocator as the binary, so the figures match what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Prepared {
    pipeline: Pipeline,
    roster: Roster,
    files: Vec<Vec<extract::FileData>>,
    records: usize,
}

fn prepare(dir: &Path) -> Prepared {
    leadrecon::synth::write_dataset(dir, LEADS, 7).expect("dataset");
    let pipeline = Pipeline::load(&dir.join("pipeline.toml")).expect("pipeline");
    let roster = Roster::load(pipeline.roster.as_ref().unwrap(), "agents.csv").expect("roster");
    let mut records = 0;
    let files = pipeline
        .sources
        .iter()
        .map(|s| {
            extract::resolve(&s.pattern)
                .unwrap()
                .iter()
                .map(|p| {
                    let f = extract::read_file(p, &pipeline.display_path(p), s.format).unwrap();
                    records += extract::records(
                        &f,
                        place(s.system, &f.display),
                        vendors::is_record(s.system),
                    )
                    .len();
                    f
                })
                .collect()
        })
        .collect();
    Prepared {
        pipeline,
        roster,
        files,
        records,
    }
}

fn place(system: leadrecon::lead::System, file: &str) -> Place<'_> {
    Place {
        system,
        source_index: 0,
        file,
        line: 0,
    }
}

fn adapt_all(p: &Prepared) -> Vec<(usize, Lead)> {
    let mut out = Vec::new();
    for (source, files) in p.pipeline.sources.iter().zip(&p.files) {
        let ctx = source.context(&p.roster);
        let mut records = Vec::new();
        for f in files {
            records.extend(extract::records(
                f,
                place(source.system, &f.display),
                vendors::is_record(source.system),
            ));
        }
        out.extend(
            vendors::read_source(records, &ctx)
                .leads
                .into_iter()
                .map(|l| (source.index, l)),
        );
    }
    out
}

fn stages(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let p = prepare(tmp.path());
    let slug = format!("{}-records", p.records);

    let mut g = c.benchmark_group("extract+adapt");
    g.sample_size(10);
    g.throughput(Throughput::Elements(p.records as u64));
    g.bench_function(BenchmarkId::from_parameter(&slug), |b| {
        b.iter(|| adapt_all(&p).len())
    });
    g.finish();

    let leads = adapt_all(&p);
    let contexts: Vec<NormalizeContext> = p
        .pipeline
        .sources
        .iter()
        .map(|s| s.normalize_context())
        .collect();
    let mut g = c.benchmark_group("normalize");
    g.sample_size(10);
    g.throughput(Throughput::Elements(leads.len() as u64));
    g.bench_function(
        BenchmarkId::from_parameter(format!("{}-leads", leads.len())),
        |b| {
            b.iter_batched(
                || leads.clone(),
                |mut batch| {
                    use rayon::prelude::*;
                    batch
                        .par_iter_mut()
                        .for_each(|(i, lead)| normalize::lead(lead, &contexts[*i]));
                    batch
                },
                criterion::BatchSize::LargeInput,
            )
        },
    );
    g.finish();

    let mut normalized: Vec<Lead> = leads
        .iter()
        .map(|(i, lead)| {
            let mut lead = lead.clone();
            normalize::lead(&mut lead, &contexts[*i]);
            lead
        })
        .collect();
    normalized.sort_by(|a, b| a.lead_key.cmp(&b.lead_key));
    let mut g = c.benchmark_group("fold");
    g.sample_size(10);
    g.throughput(Throughput::Elements(normalized.len() as u64));
    g.bench_function(
        BenchmarkId::from_parameter(format!("{}-leads", normalized.len())),
        |b| {
            b.iter_batched(
                || vec![normalized.clone()],
                |batch| leadrecon::fold::fold_leads(batch).0.len(),
                criterion::BatchSize::LargeInput,
            )
        },
    );
    g.finish();

    // Sorted by key, as the run has them.
    let (folded, _) = leadrecon::fold::fold_leads(vec![normalized]);
    // The run holds its leads packed between stages: packing the folded leads and
    // unpacking every one of them again, as the leads' files do.
    let mut g = c.benchmark_group("pack+unpack");
    g.sample_size(10);
    g.throughput(Throughput::Elements(folded.len() as u64));
    g.bench_function(
        BenchmarkId::from_parameter(format!("{}-leads", folded.len())),
        |b| {
            b.iter(|| {
                let packed = leadrecon::packed::PackedLeads::pack_slice(&folded);
                (0..packed.len())
                    .map(|i| packed.get(i).tags.len())
                    .sum::<usize>()
            })
        },
    );
    g.finish();

    let config = leadrecon::pipeline::config::MatchConfig::default();
    let mut g = c.benchmark_group("dedupe");
    g.sample_size(10);
    g.throughput(Throughput::Elements(folded.len() as u64));
    g.bench_function(
        BenchmarkId::from_parameter(format!("{}-leads", folded.len())),
        |b| {
            b.iter_batched(
                || folded.clone(),
                |mut batch| {
                    leadrecon::dedupe::link_all(&mut batch, &config)
                        .contacts
                        .len()
                },
                criterion::BatchSize::LargeInput,
            )
        },
    );
    g.finish();

    let mut g = c.benchmark_group("run");
    g.sample_size(10);
    g.throughput(Throughput::Elements(p.records as u64));
    let out = tmp.path().join("bench-out");
    g.bench_function(BenchmarkId::from_parameter(&slug), |b| {
        b.iter(|| {
            run::run(
                &p.pipeline,
                &RunOptions {
                    out: Some(out.clone()),
                    ..RunOptions::default()
                },
                &Silent,
            )
            .unwrap()
            .manifest
            .totals
            .leads
        })
    });
    g.finish();

    // The whole run again with two payload targets (each matched against its own
    // export), as scripts/bench-e2e runs it: the payloads stage's share is the difference.
    let text = std::fs::read_to_string(tmp.path().join("pipeline.toml")).unwrap();
    let with_targets = tmp.path().join("targets.toml");
    std::fs::write(
        &with_targets,
        format!(
            "{text}\n[[targets]]\nsystem = \"maxwork\"\nexisting = \"maxwork/*\"\n\n[[targets]]\nsystem = \"leadpro\"\nexisting = \"leadpro/leads.json\"\n"
        ),
    )
    .unwrap();
    let pipeline = Pipeline::load(&with_targets).expect("pipeline with targets");
    let mut g = c.benchmark_group("run+payloads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(p.records as u64));
    g.bench_function(BenchmarkId::from_parameter(&slug), |b| {
        b.iter(|| {
            let outcome = run::run(
                &pipeline,
                &RunOptions {
                    out: Some(out.clone()),
                    ..RunOptions::default()
                },
                &Silent,
            )
            .unwrap();
            outcome.manifest.targets.len()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
