//! Integration tests: the real binary on the shipped sample pipeline and on broken inputs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{csv_rows, expect_code, leadrecon, manifest_without_timings, root};

fn run_sample(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "pipelines/sample.toml",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    expect_code(&root(), &args, 0)
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn sample_pipeline_accounts_for_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = run_sample(&out, &["--json", "--quiet"]);
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "--json prints exactly one line: {stdout}"
    );
    let m: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert!(
        run.stderr.is_empty(),
        "--quiet prints nothing: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    let mut total_leads = 0;
    for s in m["sources"].as_array().unwrap() {
        assert_eq!(n(s, "read"), n(s, "loaded") + n(s, "rejected"), "{s}");
        assert_eq!(n(s, "leads"), n(s, "loaded") - n(s, "folded"), "{s}");
        let file_records: u64 = s["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| n(f, "records"))
            .sum();
        assert_eq!(file_records, n(s, "read"));
        for f in s["files"].as_array().unwrap() {
            assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
        }
        total_leads += n(s, "leads");
    }
    let leads = csv_rows(&out.join("leads.csv"));
    let rejects = csv_rows(&out.join("rejects.csv"));
    assert_eq!(leads.len() as u64, total_leads);
    assert_eq!(rejects.len() as u64, n(&m["totals"], "rejected"));

    // Exactly the records the generator broke on purpose are rejected, at their lines.
    let truth = csv_rows(&root().join("sample-data/truth.csv"));
    let want: BTreeSet<(String, String)> = truth
        .iter()
        .filter(|t| t["expect"] == "reject")
        .map(|t| (format!("../sample-data/{}", t["file"]), t["line"].clone()))
        .collect();
    let got: BTreeSet<(String, String)> = rejects
        .iter()
        .map(|r| (r["file"].clone(), r["line"].clone()))
        .collect();
    assert_eq!(got, want);
    for r in &rejects {
        assert!(
            !r["reason"].is_empty() && !r["detail"].is_empty() && !r["raw"].is_empty(),
            "{r:?}"
        );
    }
    // Every lead starts at a record the generator wrote as a lead.
    let lead_lines: BTreeSet<(String, String)> = truth
        .iter()
        .filter(|t| t["expect"] == "lead")
        .map(|t| (format!("../sample-data/{}", t["file"]), t["line"].clone()))
        .collect();
    for l in &leads {
        assert!(
            lead_lines.contains(&(l["source_file"].clone(), l["source_line"].clone())),
            "{l:?}"
        );
    }
    // Five systems of at least 60 records each.
    for system in ["peakidx", "leadpro", "realgeeks", "epixel", "maxwork"] {
        let read: u64 = m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["system"] == system)
            .map(|s| n(s, "read"))
            .sum();
        assert!(read >= 60, "{system}: {read} records");
    }
}

#[test]
fn outputs_are_identical_across_runs_and_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    run_sample(&one, &["--threads", "1", "--quiet"]);
    run_sample(&two, &["--threads", "2", "--quiet"]);
    for name in [
        "leads.csv",
        "leads.parquet",
        "rejects.csv",
        "contacts.csv",
        "contacts.parquet",
        "matches.parquet",
        "review.csv",
    ] {
        let a = std::fs::read(one.join(name)).unwrap();
        let b = std::fs::read(two.join(name)).unwrap();
        assert!(a == b, "{name} differs between --threads 1 and --threads 2");
    }
    assert_eq!(
        manifest_without_timings(&one),
        manifest_without_timings(&two)
    );
    // A second run into the same folder replaces it with the same content.
    run_sample(&one, &["--threads", "2", "--quiet"]);
    assert_eq!(
        std::fs::read(one.join("leads.csv")).unwrap(),
        std::fs::read(two.join("leads.csv")).unwrap()
    );
}

#[test]
fn parquet_is_typed() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_sample(&out, &["--quiet"]);
    let file = std::fs::File::open(out.join("leads.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let csv_rows = csv_rows(&out.join("leads.csv")).len();
    assert_eq!(df.height(), csv_rows);
    let schema = df.schema();
    assert_eq!(
        schema.get("created_at"),
        Some(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC)
        ))
    );
    assert_eq!(schema.get("source_line"), Some(&DataType::UInt64));
    assert_eq!(
        schema.get("tags"),
        Some(&DataType::List(Box::new(DataType::String)))
    );
    assert_eq!(
        schema.get("quality"),
        Some(&DataType::List(Box::new(DataType::String)))
    );
    assert_eq!(schema.get("email"), Some(&DataType::String));
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let header: Vec<String> = csv::Reader::from_path(out.join("leads.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(names, header, "Parquet and CSV have the same columns");
}

#[test]
fn default_pipeline_is_the_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    expect_code(
        &root(),
        &["run", "--out", out.to_str().unwrap(), "--quiet"],
        0,
    );
    assert!(out.join("leads.parquet").is_file());
}

#[test]
fn missing_input_is_fatal_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"maxwork\"\npath = \"nowhere/leads.json\"\n",
    );
    let out = expect_code(tmp.path(), &["run", "p.toml"], 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("leadrecon: ") && err.contains("nowhere/leads.json"),
        "{err}"
    );
    assert!(
        !tmp.path().join("out").exists(),
        "nothing is written on a fatal error"
    );
}

#[test]
fn invalid_pipeline_exits_4_with_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n\n[[sources]]\nsytem = \"maxwork\"\npath = \"x\"\n",
    );
    let out = expect_code(tmp.path(), &["run", "p.toml"], 4);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5") && err.contains("sytem"), "{err}");
    let out = expect_code(tmp.path(), &["validate", "p.toml"], 4);
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 5"));
}

#[test]
fn input_of_another_system_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let maxwork = root().join("sample-data/maxwork/leads.json");
    write(
        tmp.path(),
        "p.toml",
        &format!(
            "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"peakidx\"\ntimezone = \"UTC\"\npath = {:?}\n",
            maxwork.to_str().unwrap()
        ),
    );
    let out = expect_code(tmp.path(), &["run", "p.toml"], 4);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not look like peakidx data"), "{err}");
}

#[test]
fn csv_mapping_to_a_missing_column_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "c.csv", "Name,Mail\nAnn,ann@example.com\n");
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"csv\"\npath = \"c.csv\"\nregion = \"US\"\ncolumns = { full_name = \"Name\", email = \"E-mail\" }\n",
    );
    let out = expect_code(tmp.path(), &["validate", "p.toml"], 4);
    assert!(String::from_utf8_lossy(&out.stderr).contains("E-mail"));
}

#[test]
fn reject_ratio_over_the_limit_exits_3_after_writing() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "c.csv",
        "Name,Mail\nAnn,ann@example.com\n,\n\"\",\"\"\nBob,\n",
    );
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\nmax_reject_ratio = 0.1\n[[sources]]\nsystem = \"csv\"\npath = \"c.csv\"\nregion = \"US\"\ncolumns = { full_name = \"Name\", email = \"Mail\" }\n",
    );
    let out = expect_code(tmp.path(), &["run", "p.toml"], 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_reject_ratio"));
    assert_eq!(csv_rows(&tmp.path().join("out/t/leads.csv")).len(), 2);
    assert_eq!(csv_rows(&tmp.path().join("out/t/rejects.csv")).len(), 2);
}

/// Real Geeks deliveries of one lead spread over two files (replayed a file at a time)
/// make the same leads, rejects and counts as the same deliveries in one file.
#[test]
fn deliveries_replay_across_files_as_in_one() {
    let lines = [
        r#"{"action":"created","id":"A-1","first_name":"Ann","email":"ann@example.com","status":"Active"}"#,
        r#"{"action":"created","id":"B-2","first_name":"Bob","phone":{"n":1}}"#,
        r#"{"action":"updated","id":"a1","last_name":"Lee","status":"Closed Escrow"}"#,
        r#"{"action":"activity_added","id":"A-1","activities":[{"type":"note"}]}"#,
        r#"{"action":"updated","id":"C-3","first_name":"Cy","email":"cy@example.com"}"#,
    ];
    let pipeline = "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"realgeeks\"\npath = \"rg/*\"\ntimezone = \"America/Chicago\"\n";
    let run = |files: &[(&str, &[&str])]| {
        let tmp = tempfile::tempdir().unwrap();
        for (name, part) in files {
            write(tmp.path(), &format!("rg/{name}"), &(part.join("\n") + "\n"));
        }
        write(tmp.path(), "p.toml", pipeline);
        expect_code(tmp.path(), &["run", "p.toml", "--quiet"], 0);
        let leads = csv_rows(&tmp.path().join("out/t/leads.csv"));
        let fields: Vec<Vec<String>> = leads
            .iter()
            .map(|r| {
                [
                    "lead_key",
                    "first_name",
                    "last_name",
                    "email",
                    "status",
                    "quality",
                ]
                .iter()
                .map(|c| r[*c].clone())
                .collect()
            })
            .collect();
        let rejects: Vec<String> = csv_rows(&tmp.path().join("out/t/rejects.csv"))
            .iter()
            .map(|r| r["field"].clone())
            .collect();
        (fields, rejects)
    };
    let one = run(&[("d-1.jsonl", &lines)]);
    let two = run(&[("d-1.jsonl", &lines[..2]), ("d-2.jsonl", &lines[2..])]);
    assert_eq!(one, two);
    let keys: Vec<&str> = one.0.iter().map(|l| l[0].as_str()).collect();
    assert_eq!(keys, ["realgeeks:a1", "realgeeks:c3"]);
    // Ann's update in the second file reached her lead.
    assert_eq!(one.0[0][2], "Lee");
    assert_eq!(one.1, ["phone"]);
}

/// A file read in several chunks (`extract::CHUNK` values at a time) loses nothing at the
/// seams: broken lines on both sides of the first seam are rejected with their line, and
/// a delivery in the last chunk reaches the lead its first chunk created.
#[test]
fn files_longer_than_a_chunk_lose_nothing_at_the_seams() {
    const LINES: usize = 40_000;
    let seam = leadrecon::extract::CHUNK;
    assert!(2 * seam < LINES, "the file spans three chunks");
    let mut text = String::new();
    for line in 1..=LINES {
        if line == seam || line == seam + 1 {
            text.push_str("{\"action\": \"created\", \"id\": \n");
            continue;
        }
        if line == LINES {
            text.push_str(r#"{"action":"updated","id":"L-1","last_name":"Late"}"#);
        } else {
            text.push_str(&format!(
                r#"{{"action":"created","id":"L-{line}","first_name":"P{line}","email":"p{line}@example.com"}}"#
            ));
        }
        text.push('\n');
    }
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "rg/deliveries.jsonl", &text);
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"realgeeks\"\npath = \"rg/*\"\ntimezone = \"America/Chicago\"\n",
    );
    let out = expect_code(tmp.path(), &["run", "p.toml", "--quiet", "--json"], 0);
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let source = &m["sources"][0];
    assert_eq!(source["read"], LINES);
    assert_eq!(source["rejected"], 2);
    assert_eq!(source["loaded"], LINES - 2);
    assert_eq!(source["files"][0]["records"], LINES);
    let rejects = csv_rows(&tmp.path().join("out/t/rejects.csv"));
    let lines: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["line"].as_str(), r["reason"].as_str()))
        .collect();
    let (a, b) = (seam.to_string(), (seam + 1).to_string());
    assert_eq!(
        lines,
        [
            (a.as_str(), "malformed_json"),
            (b.as_str(), "malformed_json")
        ]
    );
    let leads = csv_rows(&tmp.path().join("out/t/leads.csv"));
    // Every created id but the two broken lines', the update folded into L-1.
    assert_eq!(leads.len(), LINES - 3);
    let first = leads
        .iter()
        .find(|l| l["lead_key"] == "realgeeks:l1")
        .expect("L-1's lead");
    assert_eq!(first["last_name"], "Late");
    assert_eq!(first["first_name"], "P1");
}

/// A Real Geeks lead whose first delivery has a field of the wrong type: that delivery is
/// rejected (not a panic) and the lead starts at its next delivery.
#[test]
fn a_rejected_first_delivery_starts_no_lead() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "rg/deliveries.jsonl",
        concat!(
            r#"{"action":"created","id":"A-1","first_name":"Ann","email":{"x":1}}"#,
            "\n",
            r#"{"action":"updated","id":"a1","first_name":"Ann","email":"ann@example.com"}"#,
            "\n",
            r#"{"action":"created","id":"B-2","first_name":"Bob","phone":{"n":1}}"#,
            "\n",
            r#"{"action":"created","id":"C-3","first_name":"Cy","email":"cy@example.com"}"#,
            "\n",
        ),
    );
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"realgeeks\"\npath = \"rg/*\"\ntimezone = \"America/Chicago\"\n",
    );
    expect_code(tmp.path(), &["run", "p.toml", "--quiet"], 0);
    let leads = csv_rows(&tmp.path().join("out/t/leads.csv"));
    let keys: Vec<&str> = leads.iter().map(|r| r["lead_key"].as_str()).collect();
    assert_eq!(keys, ["realgeeks:a1", "realgeeks:c3"]);
    // Ann's lead starts at line 2 (an update: its creation is not in the input).
    assert_eq!(leads[0]["source_line"], "2");
    assert!(leads[0]["quality"].contains("partial_history"));
    let rejects = csv_rows(&tmp.path().join("out/t/rejects.csv"));
    let lines: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["line"].as_str(), r["field"].as_str()))
        .collect();
    assert_eq!(lines, [("1", "email"), ("3", "phone")]);
}

#[test]
fn validate_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("p.toml");
    let text = std::fs::read_to_string(root().join("pipelines/sample.toml")).unwrap();
    let sample = root().join("sample-data");
    std::fs::write(
        &copy,
        text.replace("../sample-data", sample.to_str().unwrap())
            .replace("../out/sample", "out"),
    )
    .unwrap();
    let out = expect_code(tmp.path(), &["validate", "p.toml"], 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is valid"));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn secrets_never_reach_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "rg.jsonl",
        concat!(
            r#"{"action": "created", "id": "c1", "first_name": "Al", "email": "al@example.com", "site_login_url": "http://x.example/member/quick_login/SECRET-LINK-1/", "api_key": "SECRET-KEY-2"}"#,
            "\n",
            r#"{"action": "created", "first_name": "Bo", "access_token": "SECRET-TOKEN-3", "note": "Authorization: Bearer SECRET-BEARER-4"}"#,
            "\n",
            "{\"action\": \"created\", \"id\": \"c3\", \"api_key\": \"SECRET-KEY-5\", \"first_name\": \n"
        ),
    );
    write(
        tmp.path(),
        "p.toml",
        "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"realgeeks\"\npath = \"rg.jsonl\"\n",
    );
    let run = expect_code(tmp.path(), &["run", "p.toml", "--json"], 0);
    let mut all =
        String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    for name in ["leads.csv", "rejects.csv", "manifest.json"] {
        all.push_str(&std::fs::read_to_string(tmp.path().join("out/t").join(name)).unwrap());
    }
    assert_eq!(
        csv_rows(&tmp.path().join("out/t/rejects.csv")).len(),
        2,
        "{all}"
    );
    for secret in [
        "SECRET-LINK-1",
        "SECRET-KEY-2",
        "SECRET-TOKEN-3",
        "SECRET-BEARER-4",
        "SECRET-KEY-5",
    ] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[test]
fn a_folder_that_is_not_an_output_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    write(&precious, "thesis.txt", "years of work");
    let out = leadrecon(
        &root(),
        &["run", "--out", precious.to_str().unwrap(), "--quiet"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to replace"));
    assert_eq!(
        std::fs::read_to_string(precious.join("thesis.txt")).unwrap(),
        "years of work"
    );
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    expect_code(&root(), &["run", "--no-such-flag"], 2);
    expect_code(&root(), &["run", "--threads", "0"], 2);
    let help = expect_code(&root(), &["--help"], 0);
    let text = String::from_utf8_lossy(&help.stdout);
    for code in [
        "0  the run finished",
        "3  the run finished, but",
        "4  the pipeline file is invalid",
    ] {
        assert!(text.contains(code), "{text}");
    }
}

#[test]
fn systems_lists_every_adapter_and_its_fields() {
    let out = expect_code(&root(), &["systems"], 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "peakidx:",
        "leadpro:",
        "realgeeks:",
        "epixel:",
        "maxwork:",
        "csv:",
        "lead_custom_fields",
        "Sender_Name",
        "was_assigned",
        "slug",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn generator_is_deterministic_and_made_the_shipped_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let made = tmp.path().join("sample");
    expect_code(&root(), &["generate", "--out", made.to_str().unwrap()], 0);
    let shipped = root().join("sample-data");
    let mut names = Vec::new();
    for entry in walk(&made) {
        let rel = entry.strip_prefix(&made).unwrap().to_path_buf();
        let a = std::fs::read(&entry).unwrap();
        let b = std::fs::read(shipped.join(&rel)).unwrap_or_default();
        assert!(
            a == b,
            "sample-data/{} is not what `leadrecon generate` makes",
            rel.display()
        );
        names.push(rel);
    }
    assert!(names.len() >= 15, "{names:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn explain_shows_the_weights_of_a_leads_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_sample(&out, &["--quiet"]);
    let contacts = csv_rows(&out.join("contacts.csv"));
    let merged = contacts
        .iter()
        .find(|c| c["members"] != "1")
        .expect("a merged contact");
    let id = merged["contact_id"].clone();
    let lead = merged["lead_keys"].split('|').next().unwrap().to_string();
    for key in [&id, &lead] {
        let shown = expect_code(
            &root(),
            &["explain", "--out", out.to_str().unwrap(), key],
            0,
        );
        let text = String::from_utf8_lossy(&shown.stdout);
        for needle in [
            "prior",
            "phone",
            "email",
            "first_name",
            "last_name",
            "place",
            "decision match",
        ] {
            assert!(text.contains(needle), "{needle} missing for {key}:\n{text}");
        }
    }
    // Every lead belongs to exactly one contact, and the contact lists it.
    let leads = csv_rows(&out.join("leads.csv"));
    let members: usize = contacts
        .iter()
        .map(|c| c["members"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(members, leads.len());
    let out_dir = out.to_str().unwrap();
    let unknown = leadrecon(&root(), &["explain", "--out", out_dir, "nope:1"]);
    assert_eq!(unknown.status.code(), Some(1));
}

/// The sample has people under several agents: their contacts share a person id, and
/// person-links.csv and explain say which fields made the link.
#[test]
fn person_links_are_written_and_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_sample(&out, &["--quiet"]);
    let links = csv_rows(&out.join("person-links.csv"));
    let link = links
        .iter()
        .find(|l| l["linked"] == "true")
        .expect("a person under two agents");
    assert_ne!(link["agent_id_a"], link["agent_id_b"]);
    let contacts = csv_rows(&out.join("contacts.csv"));
    let person = |id: &str| {
        contacts
            .iter()
            .find(|c| c["contact_id"] == id)
            .map(|c| c["person_id"].clone())
            .expect("the contact")
    };
    assert_eq!(person(&link["contact_id_a"]), person(&link["contact_id_b"]));
    let shown = expect_code(
        &root(),
        &[
            "explain",
            "--out",
            out.to_str().unwrap(),
            &link["contact_id_a"],
        ],
        0,
    );
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("person links") && text.contains(link["contact_id_b"].as_str()),
        "{text}"
    );
}
