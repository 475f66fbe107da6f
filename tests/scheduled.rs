//! What schedulers rely on: a lock against concurrent runs, JSON event logs, quality
//! problems as exit codes, and the run report.

mod common;

use common::{expect_code, root};

fn sample_args(out: &std::path::Path) -> Vec<String> {
    vec![
        "run".into(),
        root().join("pipelines/sample.toml").display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

#[test]
fn a_second_concurrent_run_exits_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // Another run holds the lock (this process stands in for it).
    let lock = std::fs::File::create(tmp.path().join(".out.lock")).unwrap();
    lock.try_lock().unwrap();
    let args = sample_args(&out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = expect_code(&root(), &args, 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another leadrecon run is writing"), "{err}");
    assert!(!out.exists(), "nothing written");
    drop(lock);
    expect_code(&root(), &args, 0);
    assert!(out.join("manifest.json").is_file());
}

#[test]
fn json_log_lines_and_review_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut args = sample_args(&out);
    args.extend([
        "--log-format".into(),
        "json".into(),
        "--fail-on-review".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = expect_code(&root(), &args, 5);
    let err = String::from_utf8_lossy(&o.stderr);
    let events: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("each event is one JSON object"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"stage_start"));
    assert!(names.contains(&"stage_end"));
    let end = events.iter().find(|e| e["event"] == "run_end").unwrap();
    assert_eq!(end["exit_code"], 5);
    assert_eq!(end["read"], 511);
    assert!(end["review"].as_u64().unwrap() > 0);
    assert!(err.contains("wait for review"));
}

#[test]
fn the_report_is_one_self_contained_page() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut args = sample_args(&out);
    args.push("--quiet".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    expect_code(&root(), &args, 0);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    for want in [
        "peakidx-lakeside",
        "Match probability of compared pairs",
        "Contacts by number of leads",
        "Top reject reasons",
        "review.csv",
    ] {
        assert!(page.contains(want), "{want}");
    }
    assert!(
        !page.contains("<script") && !page.contains("http"),
        "self-contained"
    );
    let again = tmp.path().join("again");
    let mut args2 = sample_args(&again);
    args2.push("--quiet".into());
    let args2: Vec<&str> = args2.iter().map(String::as_str).collect();
    expect_code(&root(), &args2, 0);
    assert_eq!(
        page,
        std::fs::read_to_string(again.join("report.html")).unwrap()
    );
}
