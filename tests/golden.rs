//! Golden test: one pipeline over fixtures holding every documented field and enum value
//! of every system; the outputs must equal the committed expectations in
//! `tests/golden/`. Set `UPDATE_GOLDEN=1` to rewrite them after a deliberate change.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{csv_rows, expect_code, manifest_without_timings, root};

fn run_golden(out: &Path) {
    let pipeline = root().join("tests/fixtures/golden/pipeline.toml");
    expect_code(
        &root(),
        &[
            "run",
            pipeline.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        0,
    );
}

#[test]
fn outputs_match_the_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_golden(&out);
    let expected = root().join("tests/golden");
    let manifest = serde_json::to_string_pretty(&manifest_without_timings(&out)).unwrap() + "\n";
    let actual = [
        (
            "leads.csv",
            std::fs::read_to_string(out.join("leads.csv")).unwrap(),
        ),
        (
            "rejects.csv",
            std::fs::read_to_string(out.join("rejects.csv")).unwrap(),
        ),
        ("manifest.json", manifest),
    ];
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&expected).unwrap();
        for (name, text) in &actual {
            std::fs::write(expected.join(name), text).unwrap();
        }
    }
    for (name, text) in &actual {
        let want = std::fs::read_to_string(expected.join(name)).unwrap_or_default();
        assert!(
            want == *text,
            "{name} differs from tests/golden/{name} (UPDATE_GOLDEN=1 rewrites it after a deliberate change)\n--- got\n{text}"
        );
    }
}

fn by_key(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    csv_rows(&out.join("leads.csv"))
        .into_iter()
        .map(|r| (r["lead_key"].clone(), r))
        .collect()
}

/// Each documented vendor value, checked by name so a failure says which one broke.
#[test]
fn documented_values_reach_canonical_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_golden(&out);
    let leads = by_key(&out);
    let get = |key: &str, field: &str| -> String {
        leads
            .get(key)
            .unwrap_or_else(|| panic!("no lead {key}"))
            .get(field)
            .cloned()
            .unwrap_or_default()
    };
    let cases: &[(&str, &str, &str)] = &[
        // PeakIDX lead types, names, custom fields, naive local time in the site's zone.
        ("peakidx:12345", "kind", "buyer"),
        ("peakidx:12346", "kind", "buyer"),
        ("peakidx:12347", "kind", "seller"),
        ("peakidx:12348", "kind", "mortgage"),
        ("peakidx:12349", "kind", "buyer_and_seller"),
        ("peakidx:12345", "created_at", "2024-03-22T17:00:00Z"),
        ("peakidx:12345", "listing_ref", "MLS-9982"),
        ("peakidx:12345", "phone2", "+13125550100"),
        ("peakidx:12346", "full_name", "Mary O'Neill"),
        ("peakidx:12346", "email", "mary.oneill@example.com"),
        ("peakidx:12346", "postcode", "60611"),
        ("peakidx:12346", "city", "Chicago"),
        ("peakidx:12348", "marketing_source", "Zillow"),
        ("peakidx:12345", "agent_id", "a-0001"),
        // Lead.Pro types, webhook update folding, office agents.
        ("leadpro:7001", "kind", "buyer"),
        ("leadpro:7002", "kind", "renter"),
        ("leadpro:7003", "kind", "seller"),
        ("leadpro:7004", "kind", "landlord"),
        ("leadpro:7005", "kind", "mortgage"),
        ("leadpro:7002", "status", "contacted"),
        ("leadpro:7002", "phone", "+447911234567"),
        ("leadpro:7002", "first_name", "John"),
        ("leadpro:7002", "last_name", "Smith"),
        ("leadpro:7001", "agent_id", "a-0001"),
        ("leadpro:7002", "agent_id", "a-0002"),
        ("leadpro:7003", "agent_id", "leadpro:1299"),
        ("leadpro:7003", "postcode", "LS1 4AP"),
        ("leadpro:7001", "listing_ref", "https://placeholder.com/150"),
        ("leadpro:7001", "marketing_source", "rightmove"),
        // Real Geeks roles, statuses, replay.
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "kind",
            "buyer",
        ),
        (
            "realgeeks:b0000000000000000000000000000001",
            "kind",
            "seller",
        ),
        (
            "realgeeks:b0000000000000000000000000000002",
            "kind",
            "buyer_and_seller",
        ),
        (
            "realgeeks:b0000000000000000000000000000003",
            "kind",
            "renter",
        ),
        (
            "realgeeks:b0000000000000000000000000000004",
            "kind",
            "seller",
        ),
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "status",
            "active",
        ),
        (
            "realgeeks:b0000000000000000000000000000001",
            "status",
            "dead",
        ),
        (
            "realgeeks:b0000000000000000000000000000002",
            "status",
            "closed",
        ),
        (
            "realgeeks:b0000000000000000000000000000003",
            "status",
            "dead",
        ),
        (
            "realgeeks:b0000000000000000000000000000005",
            "status",
            "new",
        ),
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "created_at",
            "2015-10-01T06:14:01.597026Z",
        ),
        ("realgeeks:a27c20af4497415d9e4e7334dd1d40d2", "phone2", ""),
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "email2",
            "kate.work@example.com",
        ),
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "agent_id",
            "a-0002",
        ),
        (
            "realgeeks:a27c20af4497415d9e4e7334dd1d40d2",
            "tags",
            "website|vip",
        ),
        ("realgeeks:a27c20af4497415d9e4e7334dd1d40d2", "region", "HI"),
        (
            "realgeeks:b0000000000000000000000000000001",
            "agent_id",
            "a-0003",
        ),
        // Epixel statuses, assignee forms, digits-only phones.
        ("epixel:lead-one", "status", "new"),
        ("epixel:lead-two", "status", "nurture"),
        ("epixel:lead-three", "status", "active"),
        ("epixel:lead-four", "status", "closed"),
        ("epixel:lead-five", "status", "contacted"),
        ("epixel:lead-six", "status", "closed"),
        ("epixel:lead-one", "agent_id", "a-0001"),
        ("epixel:lead-two", "agent_id", "a-0002"),
        ("epixel:lead-three", "agent_id", "epixel:nobody"),
        ("epixel:lead-two", "phone", "+447911123456"),
        ("epixel:lead-three", "phone", "+351912345678"),
        ("epixel:lead-eight", "phone", "+13125550115"),
        // Maxwork statuses, kinds, names, ids.
        ("maxwork:fz-1", "status", "new"),
        ("maxwork:fz-2", "status", "contacted"),
        ("maxwork:maxwork/leads.json:4", "status", "archived"),
        ("maxwork:fz-1", "kind", "buyer"),
        ("maxwork:fz-2", "kind", "landlord"),
        ("maxwork:maxwork/leads.csv:2", "kind", "renter"),
        ("maxwork:fz-1", "first_name", "João"),
        ("maxwork:fz-1", "last_name", "Gonçalves"),
        ("maxwork:fz-1", "listing_ref", "129991025-5"),
        ("maxwork:fz-2", "listing_ref", ""),
        ("maxwork:fz-1", "agent_id", "a-0001"),
        ("maxwork:fz-1", "created_at", "2025-03-04T10:15:00Z"),
        // Generic CSV.
        ("csv:c-1", "first_name", "Jane"),
        ("csv:c-1", "kind", "buyer_and_seller"),
        ("csv:c-1", "status", "dead"),
        ("csv:c-1", "agent_id", "a-0002"),
        ("csv:c-1", "created_at", "2024-03-22T18:05:00Z"),
        ("csv:c-2", "kind", "renter"),
    ];
    let mut failures = Vec::new();
    for (key, field, want) in cases {
        let got = get(key, field);
        if got != *want {
            failures.push(format!("{key} {field}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(get("maxwork:fz-1", "custom").contains("Air_Conditioning"));
    assert!(get("leadpro:7001", "custom").contains("\"questionnaire.Do you have pets?\":\"Yes\""));
    let rg = get("realgeeks:a27c20af4497415d9e4e7334dd1d40d2", "custom");
    assert!(
        !rg.contains("quick_login"),
        "a login link reached the output: {rg}"
    );
}
