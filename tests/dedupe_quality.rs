//! The labelled benchmark in small: a generated dataset with known people (households,
//! namesakes, typos, nicknames, swapped names, missing fields, second emails and phones,
//! one person under several agents), the real binary run on it, and the contacts scored
//! against the truth. `cargo bench --bench dedupe_quality` runs the same at 10k and 100k.

mod common;

use common::leadrecon;
use leadrecon::synth::{evaluate::evaluate, write_dataset};

#[test]
fn contacts_match_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_dataset(dir, 4000, 11).unwrap();
    let out = dir.join("out");
    let run = leadrecon(
        dir,
        &["run", "pipeline.toml", "--out", out.to_str().unwrap()],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let q = evaluate(dir, &out).unwrap();
    println!("{q}");
    assert!(q.contacts.true_positives > 500, "{q}");
    assert!(q.contacts.f1() >= 0.98, "{q}");
    assert!(q.contacts.precision() >= 0.99, "{q}");
    assert!(q.persons.f1() >= 0.97, "{q}");
    // A few hundred hard pairs here: one merge is 0.3%. The bench's 10k and 100k runs hold
    // them under 0.5%.
    assert!(q.households.pairs > 50 && q.households.rate() < 0.01, "{q}");
    assert!(q.namesakes.pairs > 50 && q.namesakes.rate() < 0.005, "{q}");
}
