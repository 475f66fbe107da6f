//! `run --shard I/N` over every part plus `merge` gives what one run gives.

mod common;

use std::path::{Path, PathBuf};

use common::{expect_code, manifest_without_timings, root, run_ok};

/// Every file below `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).expect("below").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn shards_then_merge_equal_one_run(pipeline: &str, parts: u32) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pipeline = root().join("pipelines").join(pipeline);
    let single = tmp.path().join("single");
    run_ok(&pipeline, &single, &["--quiet"]);
    let mut dirs = Vec::new();
    for i in 0..parts {
        let dir = tmp.path().join(format!("part-{i}"));
        run_ok(
            &pipeline,
            &dir,
            &["--quiet", "--shard", &format!("{i}/{parts}")],
        );
        let shard = &manifest_without_timings(&dir)["shard"];
        assert_eq!(shard["index"], i, "{}", dir.display());
        dirs.push(dir);
    }
    let merged = tmp.path().join("merged");
    let mut args = vec![
        "merge".to_string(),
        pipeline.display().to_string(),
        "--out".into(),
        merged.display().to_string(),
    ];
    // Parts in any order.
    args.extend(dirs.iter().rev().map(|d| d.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    expect_code(&root(), &args, 0);

    assert_eq!(files(&single), files(&merged));
    for f in files(&single) {
        if f == Path::new("manifest.json") {
            continue;
        }
        let a = std::fs::read(single.join(&f)).expect("single file");
        let b = std::fs::read(merged.join(&f)).expect("merged file");
        assert!(
            a == b,
            "{} differs between one run and the merged parts",
            f.display()
        );
    }
    assert_eq!(
        manifest_without_timings(&single),
        manifest_without_timings(&merged)
    );
    // Each part linked some agents, not all.
    let leads = |d: &Path| common::csv_rows(&d.join("leads.csv")).len();
    let total: usize = dirs.iter().map(|d| leads(d)).sum();
    assert_eq!(total, leads(&single));
    assert!(dirs.iter().all(|d| leads(d) < total));
}

#[test]
fn three_shards_merged_equal_the_single_run_on_the_sample() {
    shards_then_merge_equal_one_run("sample.toml", 3);
}

#[test]
fn shards_with_payload_targets_merge_to_the_single_run() {
    shards_then_merge_equal_one_run("nightly-reconcile.toml", 3);
}

#[test]
fn merge_refuses_a_missing_part_and_a_whole_run() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pipeline = root().join("pipelines/sample.toml");
    let p = pipeline.display().to_string();
    let part0 = tmp.path().join("p0");
    let part2 = tmp.path().join("p2");
    run_ok(&pipeline, &part0, &["--quiet", "--shard", "0/3"]);
    run_ok(&pipeline, &part2, &["--quiet", "--shard", "2/3"]);
    let out = tmp.path().join("m").display().to_string();
    let (a, b) = (part0.display().to_string(), part2.display().to_string());
    let err = expect_code(&root(), &["merge", &p, &a, &b, "--out", &out], 1);
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("every part from 0 to 2"), "{stderr}");
    assert!(!tmp.path().join("m").exists(), "nothing is written");

    let whole = tmp.path().join("whole");
    run_ok(&pipeline, &whole, &["--quiet"]);
    let w = whole.display().to_string();
    let err = expect_code(&root(), &["merge", &p, &w, "--out", &out], 1);
    assert!(String::from_utf8_lossy(&err.stderr).contains("whole run"));
}

#[test]
fn shard_needs_agent_scope_and_a_valid_part() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(root().join("pipelines/sample.toml")).expect("sample");
    let text = text.replace("../", &format!("{}/", root().display()));
    let global = tmp.path().join("global.toml");
    std::fs::write(&global, format!("{text}\n[match]\nscope = \"global\"\n")).expect("write");
    let out = tmp.path().join("out").display().to_string();
    let g = global.display().to_string();
    let err = expect_code(&root(), &["run", &g, "--out", &out, "--shard", "0/2"], 4);
    assert!(String::from_utf8_lossy(&err.stderr).contains("scope = \"agent\""));
    expect_code(
        &root(),
        &[
            "run",
            "pipelines/sample.toml",
            "--out",
            &out,
            "--shard",
            "2/2",
        ],
        2,
    );
}
