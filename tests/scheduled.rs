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
    // The stages as the manifest's timings count them: the leads' files are writing,
    // written between linking the leads and linking the contacts to persons.
    let stages: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "stage_start")
        .map(|e| e["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["read", "dedupe", "write", "dedupe", "payloads", "write"]
    );
    let ends = events.iter().filter(|e| e["event"] == "stage_end").count();
    assert_eq!(ends, stages.len(), "every stage that starts ends");
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

fn run_payloads(out: &std::path::Path, state: &std::path::Path) {
    let pipeline = root().join("tests/fixtures/payloads/pipeline.toml");
    common::run_ok(
        &pipeline,
        out,
        &["--state", state.to_str().unwrap(), "--quiet"],
    );
}

fn manifest(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_second_run_on_the_same_inputs_emits_no_payloads() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, state) = (tmp.path().join("out"), tmp.path().join("state"));
    run_payloads(&out, &state);
    let first = manifest(&out);
    let sent: u64 = first["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["creates"].as_u64().unwrap() + t["updates"].as_u64().unwrap())
        .sum();
    assert!(sent > 0);
    let contacts = std::fs::read(out.join("contacts.csv")).unwrap();
    run_payloads(&out, &state);
    let second = manifest(&out);
    assert_eq!(second["run"], 2);
    assert_eq!(second["previous"]["run"], 1);
    assert_eq!(
        second["previous"]["contacts"],
        first["matching"]["contacts"]
    );
    let mut again = 0;
    for t in second["targets"].as_array().unwrap() {
        assert_eq!(t["creates"], 0, "{t}");
        assert_eq!(t["updates"], 0, "{t}");
        again += t["already_sent"].as_u64().unwrap();
        for f in ["create", "update"] {
            let path = out.join(format!(
                "payloads/{}/{f}.jsonl",
                t["system"].as_str().unwrap()
            ));
            assert_eq!(std::fs::read_to_string(path).unwrap(), "");
        }
    }
    assert_eq!(again, sent);
    assert_eq!(
        contacts,
        std::fs::read(out.join("contacts.csv")).unwrap(),
        "same ids"
    );
}

fn write_crm(dir: &std::path::Path, rows: &[&str]) -> std::path::PathBuf {
    std::fs::write(
        dir.join("crm.csv"),
        format!("id,agent,first,last,email,phone\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let pipeline = dir.join("p.toml");
    std::fs::write(
        &pipeline,
        "[pipeline]\nname = \"ids\"\nstate = \"state\"\n\
         [[sources]]\nsystem = \"csv\"\npath = \"crm.csv\"\nregion = \"US\"\n\
         [sources.columns]\nsource_id = \"id\"\nagent = \"agent\"\nfirst_name = \"first\"\n\
         last_name = \"last\"\nemail = \"email\"\nphone = \"phone\"\n",
    )
    .unwrap();
    pipeline
}

fn contact_ids(out: &std::path::Path) -> Vec<String> {
    common::csv_rows(&out.join("contacts.csv"))
        .into_iter()
        .map(|r| r["contact_id"].clone())
        .collect()
}

#[test]
fn contact_ids_stay_stable_through_growth_and_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = |rows: &[&str]| {
        let p = write_crm(tmp.path(), rows);
        expect_code(
            tmp.path(),
            &[
                "run",
                p.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ],
            0,
        );
    };
    let ann1 = "1,a1,Ann,Lee,ann.lee@gmail.com,(312) 555-0142";
    let ann2 = "2,a1,Ann,Lee,ann.work@acme.example,(312) 555-0188";
    let bob = "3,a1,Bob,Kim,bob.kim@yahoo.com,(312) 555-0199";
    run(&[ann1, ann2, bob]);
    let first = contact_ids(&out);
    assert_eq!(first.len(), 3);
    // A lead with Ann's first email and second phone joins her two contacts; Bob gains a
    // lead and keeps his id.
    let bridge = "4,a1,Ann,Lee,ann.lee@gmail.com,(312) 555-0188";
    let bob2 = "5,a1,Bob,Kim,bob.kim@yahoo.com,";
    run(&[ann1, ann2, bob, bridge, bob2]);
    let second = contact_ids(&out);
    assert_eq!(second.len(), 2);
    assert!(
        second.iter().all(|id| first.contains(id)),
        "{first:?} {second:?}"
    );
    let changes = common::csv_rows(&out.join("id-changes.csv"));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["change"], "merged");
    assert_eq!(changes[0]["run"], "2");
    assert!(second.contains(&changes[0]["new_contact_id"]));
    assert!(!second.contains(&changes[0]["old_contact_id"]));
}

#[test]
fn a_run_killed_while_writing_leaves_the_previous_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    expect_code(
        &root(),
        &[
            "generate",
            "--out",
            data.to_str().unwrap(),
            "--leads",
            "20000",
        ],
        0,
    );
    let out = tmp.path().join("out");
    let pipeline = root().join("pipelines/sample.toml");
    let ok = [
        "run",
        pipeline.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    expect_code(&root(), &ok, 0);
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    let big = data.join("pipeline.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leadrecon"))
        .args([
            "run",
            big.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .current_dir(root())
        .spawn()
        .unwrap();
    // Kill it once files appear in its staging folder (it is writing), or after 60 s.
    let started = std::time::Instant::now();
    let writing = || {
        std::fs::read_dir(tmp.path()).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(".out.tmp-")
                && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
        })
    };
    while !writing() && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(writing(), "the run never started writing");
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was killed before it finished");
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    expect_code(&root(), &ok, 0);
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".out.tmp-") || n.starts_with(".out.old-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn outputs(out: &std::path::Path) -> Vec<(String, String)> {
    let mut files = vec![];
    for name in [
        "leads.csv",
        "contacts.csv",
        "rejects.csv",
        "review.csv",
        "id-changes.csv",
    ] {
        files.push((
            name.to_string(),
            std::fs::read_to_string(out.join(name)).unwrap(),
        ));
    }
    for system in ["peakidx", "leadpro", "realgeeks", "epixel", "maxwork"] {
        for f in ["create", "update", "invalid", "skipped"] {
            let name = format!("payloads/{system}/{f}.jsonl");
            files.push((
                name.clone(),
                std::fs::read_to_string(out.join(&name)).unwrap(),
            ));
        }
    }
    files.push((
        "manifest.json".into(),
        common::manifest_without_timings(out).to_string(),
    ));
    files
}

#[test]
fn an_incremental_run_equals_a_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&root().join("tests/fixtures/payloads"), &data);
    let pipeline = data.join("pipeline.toml");
    let run = |out: &str, state: &str| {
        let (out, state) = (tmp.path().join(out), tmp.path().join(state));
        expect_code(
            tmp.path(),
            &[
                "run",
                pipeline.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
                "--quiet",
            ],
            0,
        );
        out
    };
    run("first", "state");
    // A new lead arrives; the targets' exports are the same files.
    let mut crm = std::fs::read_to_string(data.join("crm.csv")).unwrap();
    crm.push_str(
        "6,a-0001,Eve,Moss,eve.moss@gmail.com,(312) 555-0111,buyer,new,,,,,,2025-03-08T12:00:00Z\n",
    );
    std::fs::write(data.join("crm.csv"), crm).unwrap();
    // The same state without its cache: every file is parsed again.
    copy_dir(&tmp.path().join("state"), &tmp.path().join("state-full"));
    std::fs::remove_dir_all(tmp.path().join("state-full/cache")).unwrap();
    let incremental = run("incremental", "state");
    let full = run("full", "state-full");
    let resources = |out: &std::path::Path| manifest(out)["resources"].clone();
    assert_eq!(
        resources(&incremental)["parsed_batches"],
        1,
        "only crm.csv is read again"
    );
    assert_eq!(resources(&incremental)["cached_batches"], 5);
    assert_eq!(resources(&full)["cached_batches"], 0);
    for ((name, a), (_, b)) in outputs(&incremental).iter().zip(outputs(&full)) {
        assert_eq!(*a, b, "{name}");
    }
    // And the same leads and contacts as a run from scratch with no state at all.
    let scratch = run("scratch", "state-scratch");
    for name in ["leads.csv", "contacts.csv"] {
        assert_eq!(
            std::fs::read_to_string(incremental.join(name)).unwrap(),
            std::fs::read_to_string(scratch.join(name)).unwrap(),
            "{name}"
        );
    }
    // Only Eve is new to the targets that take creates.
    let creates =
        std::fs::read_to_string(incremental.join("payloads/maxwork/create.jsonl")).unwrap();
    assert_eq!(creates.lines().count(), 1, "{creates}");
    assert!(creates.contains("Eve Moss"));
}

#[test]
fn payloads_are_the_same_on_one_thread_or_two() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = root().join("tests/fixtures/payloads/pipeline.toml");
    let run = |threads: &str| {
        let out = tmp.path().join(format!("t{threads}"));
        common::run_ok(&pipeline, &out, &["--threads", threads, "--quiet"]);
        outputs(&out)
    };
    assert_eq!(run("1"), run("2"));
}
