//! The labelled dedupe benchmark: generates datasets with known truth (households,
//! namesakes, typos, nicknames, swapped names, missing fields, second emails and phones,
//! the same person under several agents), runs the whole pipeline on them and prints
//! pairwise precision, recall and F1 of contacts and person links, the share of household
//! and namesake pairs merged, and how long dedupe took.
//!
//! `cargo bench --bench dedupe_quality` runs 10k and 100k leads; give sizes to choose
//! others: `cargo bench --bench dedupe_quality -- 1000000`.

use leadrecon::pipeline::config::Pipeline;
use leadrecon::pipeline::run::{self, RunOptions};
use leadrecon::progress::Silent;
use leadrecon::synth::{evaluate::evaluate, write_dataset};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for leads in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        write_dataset(dir, leads, 2026).expect("dataset");
        let pipeline = Pipeline::load(&dir.join("pipeline.toml")).expect("pipeline");
        let out = dir.join("out");
        let outcome = run::run(
            &pipeline,
            &RunOptions {
                out: Some(out.clone()),
                ..RunOptions::default()
            },
            &Silent,
        )
        .expect("run");
        let quality = evaluate(dir, &out).expect("evaluate");
        let m = &outcome.manifest;
        println!("== {leads} generated leads ==");
        print!("{quality}");
        println!(
            "candidate pairs {} ({:.2} per lead), contacts {}, dedupe {} ms, whole run {} ms",
            m.matching.candidate_pairs,
            m.matching.candidate_pairs as f64 / m.totals.leads.max(1) as f64,
            m.matching.contacts,
            m.timings_ms.dedupe,
            m.timings_ms.total
        );
    }
}
