//! Property tests for the vendor adapters: any record, whatever the types of its fields,
//! becomes a lead or a reject (never a panic), and every record read is accounted for.

use std::collections::BTreeMap;

use leadrecon::agents::Roster;
use leadrecon::extract::{records, FileData, Format};
use leadrecon::lead::System;
use leadrecon::normalize::phone::parse_region;
use leadrecon::normalize::time::{DateOrder, TimeContext};
use leadrecon::normalize::{self, NormalizeContext};
use leadrecon::reject::Place;
use leadrecon::vendors::{self, SourceContext};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

/// Any JSON value a field could hold: text that looks like contact data, and every other
/// type a vendor's export should not have there.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[a-zA-Z0-9@. +()-]{0,14}".prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => Just(json!(2.5)),
        1 => Just(json!({"x": 1, "email": "a@b.co"})),
        1 => Just(json!(["a@b.co", 7])),
        1 => Just(json!([])),
    ]
}

/// A record of a system: some of the fields its adapter reads, each with any value. Real
/// Geeks records usually carry a delivery action and one of a few ids, so deliveries of
/// one lead meet in the replay.
fn record(system: System) -> impl Strategy<Value = Value> {
    let names: Vec<&'static str> = vendors::fields_read(system)
        .iter()
        .map(|(field, _)| *field)
        .collect();
    let fields = prop::collection::vec((select(names), value()), 0..8);
    let action = select(vec![
        "created",
        "updated",
        "activity_added",
        "unknown",
        "deleted",
    ]);
    let id = select(vec!["A-1", "a1", "b-2", "C3"]);
    (fields, action, id, any::<bool>()).prop_map(move |(fields, action, id, delivery)| {
        let mut m = Map::new();
        if system == System::Realgeeks && delivery {
            m.insert("action".into(), json!(action));
            m.insert("id".into(), json!(id));
        }
        for (k, v) in fields {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

fn system_and_records() -> impl Strategy<Value = (System, Vec<Value>)> {
    select(vec![
        System::Peakidx,
        System::Leadpro,
        System::Realgeeks,
        System::Epixel,
        System::Maxwork,
    ])
    .prop_flat_map(|system| (Just(system), prop::collection::vec(record(system), 1..6)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Read as JSON Lines by the system's adapter and normalized: no panic, and every
    /// record is a lead, folded into one (a Real Geeks delivery of an earlier id) or a
    /// reject: read = leads + folded + rejected.
    #[test]
    fn adapters_account_for_every_record((system, recs) in system_and_records()) {
        let text: String = recs.iter().map(|r| format!("{r}\n")).collect();
        let file = FileData {
            display: "f.jsonl".into(),
            bytes: text.len() as u64,
            sha256: String::new(),
            text,
            format: Format::Jsonl,
            warnings: Vec::new(),
        };
        let place = Place {
            system,
            source_index: 0,
            file: "f.jsonl",
            line: 0,
        };
        let found = records(&file, place, vendors::is_record(system));
        let read = found.len();
        let roster = Roster::default();
        let columns = BTreeMap::new();
        let ctx = SourceContext {
            index: 0,
            system,
            default_agent: Some("a-1"),
            country: "US",
            columns: &columns,
            roster: &roster,
        };
        let mut out = vendors::read_source(found, &ctx);
        prop_assert_eq!(
            out.leads.len() + out.folded + out.rejects.len(),
            read,
            "{} leads, {} folded, {} rejects of {} records",
            out.leads.len(),
            out.folded,
            out.rejects.len(),
            read
        );
        for rej in &out.rejects {
            prop_assert!((1..=recs.len() as u64).contains(&rej.line), "line {}", rej.line);
            prop_assert!(!rej.detail.is_empty());
        }
        let nctx = NormalizeContext {
            region: parse_region("US").unwrap(),
            time: TimeContext {
                tz: Some("America/Chicago".parse().unwrap()),
                order: DateOrder::MonthFirst,
            },
        };
        for lead in &mut out.leads {
            normalize::lead(lead, &nctx);
            prop_assert!(!lead.lead_key.is_empty());
        }
    }
}
