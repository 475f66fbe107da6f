//! Payloads end to end: a CRM export of five people against every system's current
//! records (`tests/fixtures/payloads/`). The payload files must equal the golden files in
//! `tests/golden/payloads/` (`UPDATE_GOLDEN=1` rewrites them after a deliberate change);
//! creates, updates with only the changed fields, and no-ops are checked by hand too; a
//! second run writes identical files.

mod common;

use std::path::Path;

use common::{expect_code, root};
use serde_json::{json, Value};

const SYSTEMS: [&str; 5] = ["peakidx", "leadpro", "realgeeks", "epixel", "maxwork"];
const FILES: [&str; 4] = ["create", "update", "invalid", "skipped"];

fn run(out: &Path) {
    let pipeline = root().join("tests/fixtures/payloads/pipeline.toml");
    common::run_ok(&pipeline, out, &["--quiet"]);
}

fn lines(out: &Path, system: &str, file: &str) -> Vec<Value> {
    std::fs::read_to_string(out.join(format!("payloads/{system}/{file}.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_name<'a>(lines: &'a [Value], field: &str, name: &str) -> Option<&'a Value> {
    lines.iter().find(|l| l["body"][field] == json!(name))
}

#[test]
fn payload_files_match_the_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&out);
    let golden = root().join("tests/golden/payloads");
    for system in SYSTEMS {
        for file in FILES {
            let name = format!("{system}/{file}.jsonl");
            let got = std::fs::read_to_string(out.join("payloads").join(&name)).unwrap();
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(golden.join(system)).unwrap();
                std::fs::write(golden.join(&name), &got).unwrap();
            }
            let want = std::fs::read_to_string(golden.join(&name)).unwrap_or_default();
            assert!(
                want == got,
                "payloads/{name} differs from tests/golden/payloads/{name} (UPDATE_GOLDEN=1 rewrites it)\n--- got\n{got}"
            );
        }
    }
}

#[test]
fn creates_updates_with_changed_fields_and_no_ops() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&out);

    // Maxwork holds Ann (status New, we have contacted) and Bob as he is.
    let creates = lines(&out, "maxwork", "create");
    let updates = lines(&out, "maxwork", "update");
    let names = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|l| l["body"]["Sender_Name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&creates), ["Dan Ortiz", "Carol Diaz"]);
    assert_eq!(names(&updates), ["Ann Lee"]);
    let ann = &updates[0];
    assert_eq!(ann["target_id"], json!("mx-000001"));
    assert_eq!(ann["body"]["External_LeadId"], json!("mx-000001"));
    assert_eq!(ann["body"]["Lead_Status"], json!("Contacted"));
    for l in creates.iter().chain(&updates) {
        assert_eq!(l["path"], json!("listingexport/leads"));
        assert_eq!(l["idempotency_key"].as_str().unwrap().len(), 32);
    }
    assert!(
        by_name(&creates, "Sender_Name", "Bob Kim").is_none(),
        "Bob is unchanged"
    );
    let invalid = lines(&out, "maxwork", "invalid");
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["violations"][0]["field"], json!("Sender_Email"));

    // Real Geeks: a PATCH with only what differs; Bob as he is sends nothing.
    let rg = lines(&out, "realgeeks", "update");
    assert_eq!(rg.len(), 1);
    assert_eq!(rg[0]["method"], json!("PATCH"));
    let body = rg[0]["body"].as_object().unwrap();
    assert!(!body.contains_key("first_name") && !body.contains_key("email"));
    assert_eq!(body["zip"], json!("60611"));
    assert_eq!(body["urgency"], json!("Contacted"));
    assert!(by_name(&lines(&out, "realgeeks", "create"), "first_name", "Bob").is_none());

    // Lead.Pro: PATCH with first and last name always, and the postcode that changed.
    let lp = lines(&out, "leadpro", "update");
    assert_eq!(
        lp[0]["body"],
        json!({"first_name": "Ann", "last_name": "Lee", "postcode": "60611"})
    );
    assert_eq!(lp[0]["path"], json!("api/v103/leads/500825"));

    // Epixel: a full re-post with the slug; their source kept.
    let ep = lines(&out, "epixel", "update");
    assert_eq!(ep[0]["body"]["slug"], json!("ann-lee-1001"));
    assert_eq!(ep[0]["body"]["phone"], json!("3125550142"));
    assert_eq!(ep[0]["body"]["source"], json!("Walk-in"));

    // PeakIDX: the site's lead_id, every field present; another agent's contact skipped.
    let pk = lines(&out, "peakidx", "update");
    assert_eq!(pk[0]["body"]["lead_id"], json!("100192"));
    assert_eq!(pk[0]["body"].as_object().unwrap().len(), 11);
    let skipped = lines(&out, "peakidx", "skipped");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("a-0002"));

    // The manifest counts each target's outcome.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mw = manifest["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["system"] == json!("maxwork"))
        .unwrap();
    for (k, v) in [
        ("creates", 2),
        ("updates", 1),
        ("unchanged", 1),
        ("invalid", 1),
        ("skipped", 0),
    ] {
        assert_eq!(mw[k], json!(v), "{k}");
    }
    assert_eq!(mw["existing"]["read"], json!(2));
}

#[test]
fn a_second_run_writes_identical_payloads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run(&a);
    run(&b);
    for system in SYSTEMS {
        for file in FILES {
            let name = format!("payloads/{system}/{file}.jsonl");
            assert_eq!(
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
                "{name}"
            );
        }
    }
}

#[test]
fn shipped_migration_pipelines_run_on_the_sample_data() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, system) in [
        ("realgeeks-to-maxwork", "maxwork"),
        ("peakidx-leadpro-to-epixel", "epixel"),
        ("nightly-reconcile", "realgeeks"),
    ] {
        let out = tmp.path().join(name);
        let pipeline = root().join(format!("pipelines/{name}.toml"));
        common::run_ok(&pipeline, &out, &["--quiet"]);
        let creates = lines(&out, system, "create");
        assert!(!creates.is_empty(), "{name}: no creates for {system}");
    }
}

#[test]
fn targets_the_vendor_cannot_take_are_pipeline_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let crm = root().join("tests/fixtures/payloads/crm.csv");
    for (targets, says) in [
        ("[[targets]]\nsystem = \"csv\"\n", "no API"),
        ("[[targets]]\nsystem = \"realgeeks\"\n", "site_uuid"),
        ("[[targets]]\nsystem = \"epixel\"\n", "region"),
        (
            "[[targets]]\nsystem = \"maxwork\"\n[[targets]]\nsystem = \"maxwork\"\n",
            "already the target",
        ),
    ] {
        let file = tmp.path().join("p.toml");
        std::fs::write(
            &file,
            format!(
                "[pipeline]\nname = \"t\"\n[[sources]]\nsystem = \"csv\"\npath = \"{}\"\nregion = \"US\"\n[sources.columns]\nemail = \"email\"\n{targets}",
                crm.display()
            ),
        )
        .unwrap();
        let o = expect_code(tmp.path(), &["validate", file.to_str().unwrap()], 4);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{says}: {err}");
    }
}

#[test]
fn a_target_export_read_as_a_source_too_is_parsed_once() {
    // Maxwork's export is both a source and the target's existing records, read with the
    // same settings: the target takes the source's parsed batch. The same run with the
    // target reading a copy of the file (another path: nothing to share) must give the
    // same payloads, leads and counts.
    let tmp = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/payloads");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("existing")).unwrap();
    for f in ["crm.csv", "agents.csv", "existing/maxwork.json"] {
        std::fs::copy(fixture.join(f), data.join(f)).unwrap();
    }
    std::fs::copy(
        fixture.join("existing/maxwork.json"),
        data.join("existing/maxwork-copy.json"),
    )
    .unwrap();
    let text = std::fs::read_to_string(fixture.join("pipeline.toml")).unwrap();
    let head = &text[..text.find("[[targets]]").unwrap()];
    let pipeline = |existing: &str| {
        format!(
            "{head}\n[[sources]]\nsystem = \"maxwork\"\nname = \"maxwork-export\"\npath = \"existing/maxwork.json\"\nregion = \"PT\"\n\n[[targets]]\nsystem = \"maxwork\"\nexisting = \"{existing}\"\nregion = \"PT\"\n"
        )
    };
    let run = |name: &str, existing: &str| {
        let file = data.join(format!("{name}.toml"));
        std::fs::write(&file, pipeline(existing)).unwrap();
        let out = tmp.path().join(name);
        common::run_ok(&file, &out, &["--quiet"]);
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        (out, manifest)
    };
    let (shared, shared_manifest) = run("shared", "existing/maxwork.json");
    let (apart, apart_manifest) = run("apart", "existing/maxwork-copy.json");
    assert_eq!(shared_manifest["resources"]["shared_batches"], json!(1));
    assert_eq!(apart_manifest["resources"]["shared_batches"], json!(0));
    let counts = |m: &Value| {
        let e = &m["targets"][0]["existing"];
        (e["read"].clone(), e["loaded"].clone(), e["leads"].clone())
    };
    assert_eq!(counts(&shared_manifest), counts(&apart_manifest));
    assert!(counts(&shared_manifest).0.as_u64().unwrap() > 0);
    assert_eq!(
        shared_manifest["targets"][0]["matched"],
        apart_manifest["targets"][0]["matched"]
    );
    for file in FILES {
        assert_eq!(
            lines(&shared, "maxwork", file),
            lines(&apart, "maxwork", file),
            "{file}"
        );
    }
    for file in ["leads.csv", "contacts.csv"] {
        assert_eq!(
            std::fs::read(shared.join(file)).unwrap(),
            std::fs::read(apart.join(file)).unwrap(),
            "{file}"
        );
    }
}
