//! Synthetic exports of all five systems, for the shipped `sample-data/` and for
//! benchmarks of any size (`leadrecon generate`).
//!
//! Deterministic: the same seed and size give byte-identical files. The data has the mess
//! real exports have: US, UK and Portuguese phone formats, upper-case emails, full names
//! and "Last, First", accents, blank fields, Real Geeks update logs with hyphenated ids and
//! unset fields, Lead.Pro webhook updates, Epixel pages with an error response, the same
//! people in several systems and under several agents, and a few broken records of every
//! kind. `truth.csv` says which person each record is and which records must be rejected.

pub mod evaluate;
pub mod people;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use fastrand::Rng;
use serde_json::{json, Map, Value};

use std::collections::HashSet;

use people::{format_phone, international_digits, person_in, Country, Person, AGENTS};

/// Writes a dataset of about `leads` records into `dir`; returns a one-line summary.
pub fn write_dataset(dir: &Path, leads: usize, seed: u64) -> std::io::Result<String> {
    let mut g = Gen::new(seed, leads);
    let plan = Plan::new(leads);
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    files.extend(g.peakidx(&plan));
    files.extend(g.leadpro(&plan));
    files.extend(g.realgeeks(&plan));
    files.extend(g.epixel(&plan));
    files.extend(g.maxwork(&plan));
    files.extend(g.open_house(&plan));
    files.push(("agents.csv".into(), Content::Text(roster_csv())));
    files.push(("pipeline.toml".into(), Content::Text(PIPELINE.to_string())));
    let mut truth = String::from("system,file,line,source_id,person_id,expect\n");
    for t in &g.truth {
        let _ = writeln!(
            truth,
            "{},{},{},{},{},{}",
            t.system,
            t.file,
            t.line,
            t.source_id,
            t.person.map(|p| p.to_string()).unwrap_or_default(),
            t.expect
        );
    }
    files.push(("truth.csv".into(), Content::Text(truth)));
    files.push(("people.csv".into(), Content::Text(people_csv(&g.people))));
    let mut written = 0;
    for (name, content) in files {
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match content {
            Content::Text(t) => std::fs::write(&path, t)?,
            Content::Gzip(t) => {
                // Fixed header (no name, no time) so the bytes are reproducible.
                let mut enc = flate2::GzBuilder::new().mtime(0).write(
                    std::fs::File::create(&path)?,
                    flate2::Compression::default(),
                );
                enc.write_all(t.as_bytes())?;
                enc.finish()?;
            }
        }
        written += 1;
    }
    let records = g.truth.len();
    let rejects = g.truth.iter().filter(|t| t.expect == "reject").count();
    Ok(format!(
        "wrote {written} files with {records} records ({rejects} meant to be rejected) for {} people into {}",
        g.people.len(),
        dir.display()
    ))
}

enum Content {
    Text(String),
    Gzip(String),
}

/// How many records each system gets.
struct Plan {
    peakidx: usize,
    leadpro: usize,
    realgeeks: usize,
    epixel: usize,
    maxwork: usize,
    csv: usize,
}

impl Plan {
    fn new(total: usize) -> Plan {
        let share = |pct: usize| (total * pct).div_ceil(100).max(4);
        Plan {
            peakidx: share(19),
            leadpro: share(18),
            realgeeks: share(17),
            epixel: share(17),
            maxwork: share(17),
            csv: share(12),
        }
    }
}

struct Truth {
    system: &'static str,
    file: String,
    line: u64,
    source_id: String,
    person: Option<usize>,
    expect: &'static str,
}

struct Gen {
    rng: Rng,
    people: Vec<Person>,
    by_country: [Vec<usize>; 3],
    truth: Vec<Truth>,
    /// Phones and emails given to someone already.
    taken: HashSet<String>,
}

/// Appends lines and knows the line number of the next one.
struct Lines {
    text: String,
    line: u64,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            text: String::new(),
            line: 1,
        }
    }

    /// Appends one record (a CSV row may span lines); returns the line it starts on.
    fn push(&mut self, s: &str) -> u64 {
        let start = self.line;
        self.text.push_str(s);
        self.text.push('\n');
        self.line += 1 + s.matches('\n').count() as u64;
        start
    }
}

fn country_index(c: Country) -> usize {
    match c {
        Country::Us => 0,
        Country::Gb => 1,
        Country::Pt => 2,
    }
}

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

impl Gen {
    fn new(seed: u64, leads: usize) -> Gen {
        Gen {
            rng: Rng::with_seed(seed),
            people: Vec::with_capacity(leads),
            by_country: [Vec::new(), Vec::new(), Vec::new()],
            truth: Vec::with_capacity(leads),
            taken: HashSet::with_capacity(leads * 2),
        }
    }

    /// A person of `country`: someone already met (35%) or someone new; of the new, 6% join
    /// the household of someone met and 4% share the name of someone met.
    fn someone(&mut self, country: Country) -> usize {
        let c = country_index(country);
        let pool_len = self.by_country[c].len();
        if pool_len > 0 && self.rng.u8(..100) < 35 {
            return self.by_country[c][self.rng.usize(..pool_len)];
        }
        let id = self.people.len();
        let roll = self.rng.u8(..100);
        let p = if pool_len > 0 && roll < 10 {
            let other = self.by_country[c][self.rng.usize(..pool_len)];
            if roll < 6 {
                let mut of = self.people[other].clone();
                let p = people::household_member(&mut self.rng, id, &mut of, &mut self.taken);
                self.people[other] = of;
                p
            } else {
                people::namesake(&mut self.rng, id, &self.people[other], &mut self.taken)
            }
        } else {
            person_in(&mut self.rng, id, country, &mut self.taken)
        };
        self.people.push(p);
        self.by_country[c].push(id);
        id
    }

    /// Person `p` as one record names them: mostly as they are; sometimes by a nickname, an
    /// initial, with a typo, first and last swapped, or without a first name.
    fn noisy(&mut self, p: usize) -> Person {
        let mut person = self.people[p].clone();
        match self.rng.u16(..1000) {
            0..=29 => {
                if let Some(nick) = nickname(&person.first) {
                    person.first = nick.to_string();
                }
            }
            30..=49 => person.first = typo(&mut self.rng, &person.first),
            50..=69 => person.last = typo(&mut self.rng, &person.last),
            70..=79 => std::mem::swap(&mut person.first, &mut person.last),
            80..=94 => person.first = person.first.chars().take(1).collect(),
            95..=114 => person.first.clear(),
            _ => {}
        }
        person
    }

    fn any_country(&mut self) -> Country {
        match self.rng.u8(..10) {
            0..=5 => Country::Us,
            6..=7 => Country::Gb,
            _ => Country::Pt,
        }
    }

    fn record(
        &mut self,
        system: &'static str,
        file: &str,
        line: u64,
        id: &str,
        person: Option<usize>,
        expect: &'static str,
    ) {
        self.truth.push(Truth {
            system,
            file: file.to_string(),
            line,
            source_id: id.to_string(),
            person,
            expect,
        });
    }

    fn case_noise(&mut self, s: &str) -> String {
        match self.rng.u8(..20) {
            0 | 1 => s.to_uppercase(),
            2 | 3 => s.to_lowercase(),
            4 => format!("  {s} "),
            _ => s.to_string(),
        }
    }

    fn email(&mut self, p: usize) -> String {
        let person = &self.people[p];
        let e = if person.emails.len() > 1 && self.rng.u8(..3) == 0 {
            person.emails[1].clone()
        } else {
            person.emails[0].clone()
        };
        match self.rng.u8(..100) {
            0..=11 => e.to_uppercase(),
            12..=14 => format!(" {e} "),
            15..=16 => e.replace('@', "@@"),
            17..=21 => String::new(),
            22..=23 => {
                let (local, domain) = e.split_once('@').unwrap_or((&e, ""));
                format!("{}@{domain}", typo(&mut self.rng, local))
            }
            24..=25 => domain_typo(&e),
            26..=28 if e.ends_with("@gmail.com") => {
                // Gmail ignores dots and +tags: people write both.
                let (local, _) = e.split_once('@').unwrap_or((&e, ""));
                if local.contains('.') {
                    format!("{}@gmail.com", local.replace('.', ""))
                } else {
                    format!("{local}+homes@gmail.com")
                }
            }
            _ => e,
        }
    }

    fn phone(&mut self, p: usize, which: usize) -> String {
        let person = &self.people[p];
        let Some(n) = person.phones.get(which).cloned() else {
            return String::new();
        };
        let country = person.country;
        let mut n = n;
        match self.rng.u16(..1000) {
            0..=32 if which == 0 => return String::new(),
            // The home number in the main phone field.
            33..=92 if which == 0 && person.phones.len() > 1 => n = person.phones[1].clone(),
            93..=112 => n = digit_typo(&mut self.rng, &n, false),
            113..=122 => n = digit_typo(&mut self.rng, &n, true),
            _ => {}
        }
        format_phone(&mut self.rng, country, &n)
    }

    fn when(&mut self) -> (i64, String) {
        // 2025-01-01 .. 2026-10-31, whole seconds.
        let secs = 1_735_689_600 + self.rng.i64(0..57_000_000);
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        (secs, t.format("%Y-%m-%d %H:%M:%S").to_string())
    }

    fn agent_for(&mut self, country: Country) -> &'static people::Agent {
        let local: Vec<&'static people::Agent> =
            AGENTS.iter().filter(|a| a.country == country).collect();
        local[self.rng.usize(..local.len())]
    }

    fn peakidx(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const HEADER: [&str; 11] = [
            "lead_id",
            "lead_listing_id",
            "lead_type",
            "lead_first_name",
            "lead_last_name",
            "lead_email",
            "lead_phone",
            "lead_phone2",
            "lead_created_datetime",
            "lead_comments",
            "lead_custom_fields",
        ];
        const TYPES: [&str; 6] = [
            "Inquiry",
            "Property Inquiry",
            "Property Inquiry",
            "CMA Inquiry",
            "Mortgage Quote",
            "Home Valuation",
        ];
        let mut out = Vec::new();
        for (site_no, site) in ["lakeside-homes", "metro-realty"].into_iter().enumerate() {
            let n = plan.peakidx / 2 + site_no * (plan.peakidx % 2);
            let json_name = format!("peakidx/{site}/new-leads.json");
            let csv_name = format!("peakidx/{site}/export.csv");
            let mut json = Lines::new();
            let mut csv = Lines::new();
            json.push("[");
            csv.push(&csv_line(&HEADER));
            let in_json = n * 3 / 5;
            let mut json_rows: Vec<String> = Vec::new();
            let mut kept: Vec<(String, usize, Vec<String>)> = Vec::new();
            for i in 0..n {
                let p = self.someone(Country::Us);
                let id = format!("{}", 100_000 * (site_no + 1) + i * 7 + 3);
                let person = self.noisy(p);
                let lead_type = TYPES[self.rng.usize(..TYPES.len())];
                let custom = match self.rng.u8(..4) {
                    0 => format!(
                        "Timeframe: 3-6 months\nBuying or Selling: Buying\nCity: {}",
                        person.city
                    ),
                    1 => format!("Price Range: $300k-$450k\nZip: {}", person.postcode),
                    2 => String::new(),
                    _ => format!(
                        "Looking To: {}\nPre-approved: No",
                        if person.intent == 1 { "Sell" } else { "Buy" }
                    ),
                };
                let (_, created) = self.when();
                let row = vec![
                    id.clone(),
                    format!("MLS-{}", 10_000 + self.rng.u32(..90_000)),
                    lead_type.to_string(),
                    self.case_noise(&person.first),
                    self.case_noise(&person.last),
                    self.email(p),
                    self.phone(p, 0),
                    self.phone(p, 1),
                    created,
                    [
                        "Interested in lakeside properties.",
                        "Please call after 5pm",
                        "",
                        "Is this still available?",
                    ][self.rng.usize(..4)]
                    .to_string(),
                    custom,
                ];
                if i < in_json {
                    json_rows.push(
                        serde_json::to_string(&obj(HEADER
                            .iter()
                            .zip(&row)
                            .map(|(k, v)| (*k, json!(v)))
                            .collect()))
                        .unwrap_or_default(),
                    );
                    kept.push((id, p, row));
                } else {
                    let line = csv.push(&csv_line(
                        &row.iter().map(String::as_str).collect::<Vec<_>>(),
                    ));
                    self.record("peakidx", &csv_name, line, &id, Some(p), "lead");
                }
            }
            // The same leads often reach the CSV export too: one lead, two records.
            for (id, p, row) in kept.iter().step_by(4) {
                let mut again = row.clone();
                again[6] = format_phone(&mut self.rng, Country::Us, &self.people[*p].phones[0]);
                let line = csv.push(&csv_line(
                    &again.iter().map(String::as_str).collect::<Vec<_>>(),
                ));
                self.record("peakidx", &csv_name, line, id, Some(*p), "lead");
            }
            let last = json_rows.len();
            for (i, ((id, p, _), text)) in kept.iter().zip(&json_rows).enumerate() {
                let sep = if i + 1 < last || site_no == 0 {
                    ","
                } else {
                    ""
                };
                let line = json.push(&format!("{text}{sep}"));
                self.record("peakidx", &json_name, line, id, Some(*p), "lead");
            }
            if site_no == 0 {
                // Broken: a lead with no name, email or phone.
                let empty: Vec<(&str, Value)> = HEADER.iter().map(|k| (*k, json!(""))).collect();
                let mut v = obj(empty);
                v["lead_id"] = json!("199999");
                v["lead_comments"] = json!("test submission");
                let line = json.push(&serde_json::to_string(&v).unwrap_or_default());
                self.record("peakidx", &json_name, line, "199999", None, "reject");
            } else {
                // Broken: a row with more fields than the header.
                let line = csv.push("299999,MLS-1,Inquiry,Ann,Lee,ann@example.com,312-555-0100,,2025-01-02 10:00:00,note,,EXTRA,FIELDS");
                self.record("peakidx", &csv_name, line, "299999", None, "reject");
            }
            json.push("]");
            out.push((json_name, Content::Text(json.text)));
            out.push((csv_name, Content::Text(csv.text)));
        }
        out
    }

    fn leadpro(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const SOURCES: [&str; 5] = [
            "rightmove",
            "zoopla",
            "onthemarket",
            "homepage",
            "rightmove_valuation",
        ];
        const TYPES: [&str; 5] = ["sale", "let", "vendor", "landlord", "mortgage_request"];
        let mut hooks = Lines::new();
        let mut dump = Lines::new();
        let mut archive = Lines::new();
        dump.push("[");
        let mut dump_rows: Vec<(String, usize, String)> = Vec::new();
        let mut updates: Vec<(String, usize, Value)> = Vec::new();
        for i in 0..plan.leadpro {
            let p = self.someone(Country::Gb);
            let person = self.noisy(p);
            let id = 500_000 + i * 11;
            let lead_type = TYPES[(person.intent as usize + i) % 5];
            let office = match self.rng.u8(..20) {
                0 => json!(1299),
                1..=9 => json!(1213),
                10..=14 => json!("1214"),
                _ => json!(1216),
            };
            let (secs, _) = self.when();
            let created = chrono::DateTime::from_timestamp(secs, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let mut pairs: Vec<(&str, Value)> = vec![("id", json!(id)), ("type", json!(lead_type))];
            if self.rng.u8(..10) < 3 {
                let full = if self.rng.u8(..3) == 0 {
                    format!("{}, {}", person.last.to_uppercase(), person.first)
                } else {
                    format!("{} {}", person.first, person.last)
                };
                pairs.push(("full_name", json!(full)));
            } else {
                pairs.push((
                    "title",
                    json!(["Mr", "Mrs", "Ms", "Dr"][self.rng.usize(..4)]),
                ));
                let first = self.case_noise(&person.first);
                let last = self.case_noise(&person.last);
                pairs.push(("first_name", json!(first)));
                pairs.push(("last_name", json!(last)));
                pairs.push((
                    "full_name",
                    json!(format!("{} {}", person.first, person.last)),
                ));
            }
            pairs.push(("email", json!(self.email(p))));
            pairs.push(("phone", json!(self.phone(p, 0))));
            if matches!(lead_type, "sale" | "let") {
                pairs.push((
                    "advert_address",
                    json!(format!(
                        "{} {} Road, {}",
                        self.rng.u16(1..200),
                        ["Station", "Victoria", "Queen's"][self.rng.usize(..3)],
                        person.city
                    )),
                ));
                pairs.push(("advert_postcode", json!(person.postcode.clone())));
                pairs.push((
                    "advert_url",
                    json!(format!(
                        "https://www.rightmove.example/properties/{}",
                        140_000_000 + self.rng.u32(..1_000_000)
                    )),
                ));
            } else {
                pairs.push(("address", json!(person.street.clone())));
                pairs.push(("postcode", json!(person.postcode.clone())));
            }
            pairs.push((
                "message",
                json!(
                    [
                        "I would like a valuation please",
                        "Is the flat still available?",
                        "",
                        "Please call me back"
                    ][self.rng.usize(..4)]
                ),
            ));
            pairs.push(("source", json!(SOURCES[self.rng.usize(..SOURCES.len())])));
            pairs.push(("office_id", office));
            pairs.push((
                "meta",
                json!({"Property ID": format!("{}", 7000 + i), "Virtual Tour": "true"}),
            ));
            if self.rng.u8(..3) == 0 {
                pairs.push((
                    "questionnaire",
                    json!([
                        ["Do you have pets?", "No"],
                        ["When do you want to move?", "Within 3 months"]
                    ]),
                ));
            }
            pairs.push(("utm_source", json!("social_media")));
            pairs.push(("gdpr_checkbox", json!(self.rng.bool())));
            pairs.push(("created_at", json!(created)));
            let body = obj(pairs);
            let id_s = id.to_string();
            match i % 10 {
                0..=5 => {
                    let line = hooks.push(
                        &serde_json::to_string(&json!({"event": "lead.created", "data": body}))
                            .unwrap_or_default(),
                    );
                    self.record(
                        "leadpro",
                        "leadpro/webhooks.jsonl",
                        line,
                        &id_s,
                        Some(p),
                        "lead",
                    );
                    if i % 5 == 0 {
                        updates.push((id_s.clone(), p, body.clone()));
                    }
                    if i % 7 == 0 {
                        dump_rows.push((id_s, p, serde_json::to_string(&body).unwrap_or_default()));
                    }
                }
                6..=8 => {
                    dump_rows.push((id_s, p, serde_json::to_string(&body).unwrap_or_default()))
                }
                _ => {
                    let line = archive.push(&serde_json::to_string(&body).unwrap_or_default());
                    self.record(
                        "leadpro",
                        "leadpro/archive.jsonl.gz",
                        line,
                        &id_s,
                        Some(p),
                        "lead",
                    );
                }
            }
        }
        for (id, p, mut body) in updates {
            body["status"] = json!("Contacted");
            body["phone"] = json!(format_phone(
                &mut self.rng,
                Country::Gb,
                &self.people[p].phones[0]
            ));
            let line = hooks.push(
                &serde_json::to_string(&json!({"event": "lead.updated", "data": body}))
                    .unwrap_or_default(),
            );
            self.record(
                "leadpro",
                "leadpro/webhooks.jsonl",
                line,
                &id,
                Some(p),
                "lead",
            );
        }
        // Broken: a truncated delivery.
        let line = hooks.push(r#"{"event": "lead.created", "data": {"id": 599999, "type": "sale", "first_name": "Trunc"#);
        self.record(
            "leadpro",
            "leadpro/webhooks.jsonl",
            line,
            "599999",
            None,
            "reject",
        );
        let n = dump_rows.len();
        for (i, (id, p, text)) in dump_rows.iter().enumerate() {
            let line = dump.push(&format!("{text},"));
            let _ = (i, n);
            self.record("leadpro", "leadpro/leads.json", line, id, Some(*p), "lead");
        }
        // Broken: a phone given as an object.
        let line = dump.push(r#"{"id": 599998, "type": "let", "first_name": "Wrong", "last_name": "Type", "email": "wrong.type@example.com", "phone": {"mobile": "07700 900999"}}"#);
        self.record(
            "leadpro",
            "leadpro/leads.json",
            line,
            "599998",
            None,
            "reject",
        );
        dump.push("]");
        vec![
            ("leadpro/webhooks.jsonl".into(), Content::Text(hooks.text)),
            ("leadpro/leads.json".into(), Content::Text(dump.text)),
            (
                "leadpro/archive.jsonl.gz".into(),
                Content::Gzip(archive.text),
            ),
        ]
    }

    fn uuid(&mut self) -> String {
        format!("{:016x}{:016x}", self.rng.u64(..), self.rng.u64(..))
    }

    fn realgeeks(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const SOURCES: [&str; 4] = [
            "Website Property Search",
            "Website Property Valuation",
            "Website Agent Landing Page",
            "Website Property Landing Page",
        ];
        const ROLES: [&str; 6] = [
            "Buyer",
            "Seller",
            "Renter",
            "Buyer",
            "Buyer and Seller",
            "Potential Seller",
        ];
        let site = "5ead6dd1-2cb9-4f80-80fc-5716b05c90ba";
        // (time, order, id, person, delivery)
        let mut events: Vec<(i64, usize, String, usize, Value)> = Vec::new();
        for i in 0..plan.realgeeks {
            let p = self.someone(Country::Us);
            let person = self.noisy(p);
            let id = self.uuid();
            let agent = self.agent_for(Country::Us);
            let (secs, _) = self.when();
            let created = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let stamp = |t: chrono::DateTime<chrono::Utc>, micros: u32| {
                format!("{}.{micros:06}Z", t.format("%Y-%m-%dT%H:%M:%S"))
            };
            let micros = self.rng.u32(..1_000_000);
            let mut activities = vec![
                json!({"source": SOURCES[0], "type": "visited", "description": "First visit (initial sign-up)", "created": stamp(created, micros)}),
            ];
            if self.rng.u8(..5) != 0 {
                activities.push(json!({"type": "was_assigned", "source": "LeadManager", "user": {"id": agent.realgeeks}, "role": "agent", "description": "Round robin"}));
            }
            let phone2 = self.phone(p, 1);
            let mut lead = vec![
                (
                    "action",
                    json!(if i % 20 == 7 { "unknown" } else { "created" }),
                ),
                ("id", json!(id.clone())),
                ("partner_id", json!("brokerage-001")),
                ("site_uuid", json!(site)),
                ("site_domain", json!("www.lakesidehomes.example")),
                (
                    "site_login_url",
                    json!(format!(
                        "http://www.lakesidehomes.example/member/quick_login/{id}/"
                    )),
                ),
                ("source_system", json!("Website")),
                ("source", json!(SOURCES[self.rng.usize(..SOURCES.len())])),
                ("first_name", json!(self.case_noise(&person.first))),
                ("last_name", json!(self.case_noise(&person.last))),
                ("email", json!(self.email(p))),
                ("phone", json!(self.phone(p, 0))),
                ("role", json!(ROLES[person.intent as usize % ROLES.len()])),
                (
                    "created",
                    json!(if i % 3 == 0 {
                        format!("{}+00:00", created.format("%Y-%m-%dT%H:%M:%S"))
                    } else {
                        stamp(created, micros)
                    }),
                ),
                ("city", json!(person.city.clone())),
                ("state", json!(person.region.clone())),
                ("zip", json!(person.postcode.clone())),
                ("street_address", json!(person.street.clone())),
                ("region", json!("North Side")),
                (
                    "timeframe",
                    json!(
                        ["Immediately", "30 Days", "3-6 Months", "1 Year Or More"]
                            [self.rng.usize(..4)]
                    ),
                ),
                (
                    "tags",
                    json!([
                        "website",
                        if person.intent == 1 {
                            "seller"
                        } else {
                            "buyer"
                        }
                    ]),
                ),
                ("activities", Value::Array(activities)),
            ];
            if !phone2.is_empty() {
                lead.push(("phone2", json!(phone2)));
            }
            if person.emails.len() > 1 {
                lead.push(("second_email", json!(person.emails[1].clone())));
            }
            events.push((secs, 0, id.clone(), p, obj(lead)));
            let hyphen = |s: &str| {
                format!(
                    "{}-{}-{}-{}-{}",
                    &s[..8],
                    &s[8..12],
                    &s[12..16],
                    &s[16..20],
                    &s[20..]
                )
                .to_uppercase()
            };
            if i % 3 == 0 {
                let later = secs + 3600 * (1 + self.rng.i64(0..200));
                let upd = match self.rng.u8(..3) {
                    0 => {
                        json!({"action": "updated", "id": hyphen(&id), "partner_id": "brokerage-001", "site_uuid": site, "site_domain": "www.lakesidehomes.example", "source": "LeadManager", "source_system": "LeadManager", "status": "Active", "urgency": "Contacted"})
                    }
                    1 => {
                        json!({"action": "updated", "id": id.clone(), "partner_id": "brokerage-001", "site_uuid": site, "site_domain": "www.lakesidehomes.example", "source": "LeadManager", "source_system": "LeadManager", "phone2": ""})
                    }
                    _ => {
                        json!({"action": "updated", "id": id.clone(), "partner_id": "brokerage-001", "site_uuid": site, "site_domain": "www.lakesidehomes.example", "source": "LeadManager", "source_system": "LeadManager", "status": "Closed Escrow", "tags": ["closed-2025"]})
                    }
                };
                events.push((later, 1, id.clone(), p, upd));
            }
            if i % 4 == 1 {
                let later = secs + 3600 * (300 + self.rng.i64(0..200));
                let other = self.agent_for(Country::Us);
                let t = chrono::DateTime::from_timestamp(later, 0).unwrap_or_default();
                events.push((later, 2, id.clone(), p, json!({"action": "activity_added", "id": hyphen(&id), "partner_id": "brokerage-001", "site_uuid": site, "site_domain": "www.lakesidehomes.example", "source_system": "LeadManager", "activities": [{"type": "was_assigned", "source": "LeadManager", "user": {"id": other.realgeeks}, "role": "agent", "created": stamp(t, 0)}]})));
            }
        }
        events.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        let split = events.len() * 3 / 5;
        let mut first = Lines::new();
        let mut second = Lines::new();
        second.push("[");
        for (n, (_, _, id, p, v)) in events.into_iter().enumerate() {
            let text = serde_json::to_string(&v).unwrap_or_default();
            if n < split {
                let line = first.push(&text);
                self.record(
                    "realgeeks",
                    "realgeeks/deliveries-1.jsonl",
                    line,
                    id.as_str(),
                    Some(p),
                    "lead",
                );
            } else {
                // Every element ends with a comma: the broken records below follow.
                let line = second.push(&format!("{text},"));
                self.record(
                    "realgeeks",
                    "realgeeks/deliveries-2.json",
                    line,
                    id.as_str(),
                    Some(p),
                    "lead",
                );
            }
        }
        // Broken: a delivery without an id, and activity for a lead never delivered.
        let line = second.push(r#"{"action": "created", "partner_id": "brokerage-001", "source": "Website Property Search", "first_name": "No", "last_name": "Id", "email": "no.id@example.com"},"#);
        self.record(
            "realgeeks",
            "realgeeks/deliveries-2.json",
            line,
            "",
            None,
            "reject",
        );
        let line = second.push(r#"{"action": "activity_added", "id": "ffffffffffffffffffffffffffffffff", "partner_id": "brokerage-001", "activities": [{"type": "visited", "source": "Website", "description": "Viewed a listing"}]}"#);
        self.record(
            "realgeeks",
            "realgeeks/deliveries-2.json",
            line,
            "ffffffffffffffffffffffffffffffff",
            None,
            "reject",
        );
        second.push("]");
        vec![
            (
                "realgeeks/deliveries-1.jsonl".into(),
                Content::Text(first.text),
            ),
            (
                "realgeeks/deliveries-2.json".into(),
                Content::Text(second.text),
            ),
        ]
    }

    fn epixel(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const STATUSES: [&str; 6] = [
            "prospect",
            "contact",
            "potential",
            "tentative",
            "customer",
            "closed",
        ];
        let mut leads: Vec<(String, usize, String)> = Vec::new();
        for i in 0..plan.epixel {
            let country = self.any_country();
            let p = self.someone(country);
            let person = self.noisy(p);
            let slug = format!(
                "{}-{}-{}",
                people::ascii_slug(&person.first),
                people::ascii_slug(&person.last),
                1000 + i
            );
            let phone = match (country, self.rng.u8(..4)) {
                (Country::Us, 0) => international_digits(country, &person.phones[0]),
                (Country::Us, _) => person.phones[0].clone(),
                (_, 0) if i % 2 == 0 => person.phones[0].clone(),
                _ => international_digits(country, &person.phones[0]),
            };
            let phone = if i % 25 == 3 {
                "N/A".to_string()
            } else {
                phone
            };
            let agent = match self.rng.u8(..12) {
                0 => "jdoe".to_string(),
                _ => {
                    let a = self.agent_for(country);
                    if a.epixel.is_empty() {
                        "icarvalho".to_string()
                    } else {
                        a.epixel.to_string()
                    }
                }
            };
            let (_, created) = self.when();
            let v = obj(vec![
                ("slug", json!(slug.clone())),
                ("first_name", json!(self.case_noise(&person.first))),
                ("last_name", json!(self.case_noise(&person.last))),
                ("email", json!(self.email(p))),
                ("phone", json!(phone)),
                ("status", json!(STATUSES[self.rng.usize(..STATUSES.len())])),
                (
                    "source",
                    json!(["website", "referral", "facebook", "open_house"][self.rng.usize(..4)]),
                ),
                ("location", json!(person.city.clone())),
                (
                    "message",
                    json!(
                        [
                            "Looking for a 3 bedroom house",
                            "Interested in investment properties",
                            ""
                        ][self.rng.usize(..3)]
                    ),
                ),
                ("assignee", json!(agent)),
                ("date_created", json!(created.replace(' ', "T"))),
            ]);
            leads.push((slug, p, serde_json::to_string(&v).unwrap_or_default()));
        }
        let n = leads.len();
        let page = n.div_ceil(4).max(1);
        let mut files = Vec::new();
        // Two pretty pages, one record per line.
        for (no, chunk) in leads.chunks(page).take(2).enumerate() {
            let name = format!("epixel/leads-page-{}.json", no + 1);
            let mut f = Lines::new();
            let next = format!(
                "https://crm.example/api/v1/leads/list/?limit={page}&offset={}",
                (no + 1) * page
            );
            f.push(&format!(r#"{{"status_code": 200, "errors": {{}}, "data": {{"count": {n}, "next": "{next}", "previous": null, "results": ["#));
            for (i, (slug, p, text)) in chunk.iter().enumerate() {
                let sep = if i + 1 < chunk.len() { "," } else { "" };
                let line = f.push(&format!("{text}{sep}"));
                self.record("epixel", &name, line, slug, Some(*p), "lead");
            }
            f.push("]}}");
            files.push((name, Content::Text(f.text)));
        }
        // The rest as one response per line, an error response among them.
        let mut jl = Lines::new();
        let rest: Vec<_> = leads.iter().skip(2 * page).collect();
        let half = rest.len().saturating_sub(1) / 2 + 1;
        for (k, chunk) in rest.chunks(half.max(1)).enumerate() {
            let body: Vec<&str> = chunk.iter().map(|(_, _, t)| t.as_str()).collect();
            let line = jl.push(&format!(r#"{{"status_code": 200, "errors": {{}}, "data": {{"count": {n}, "next": null, "previous": null, "results": [{}]}}}}"#, body.join(", ")));
            for (slug, p, _) in chunk {
                self.record("epixel", "epixel/pages.jsonl", line, slug, Some(*p), "lead");
            }
            if k == 0 {
                let line = jl.push(r#"{"status_code": 401, "errors": {"detail": "Given token not valid for any token type"}, "data": {}}"#);
                self.record("epixel", "epixel/pages.jsonl", line, "", None, "reject");
            }
        }
        files.push(("epixel/pages.jsonl".into(), Content::Text(jl.text)));
        // A lead detail response, and a lead with nothing to reach anyone by.
        let detail = r#"{"status_code": 200, "errors": {}, "data": {"slug": "binuser1", "first_name": "", "last_name": "", "email": "", "phone": "", "status": "prospect", "source": "website", "location": "", "message": "duplicate test record", "assignee": "dreyes"}}"#;
        let mut d = Lines::new();
        let line = d.push(detail);
        self.record(
            "epixel",
            "epixel/lead-detail.json",
            line,
            "binuser1",
            None,
            "reject",
        );
        files.push(("epixel/lead-detail.json".into(), Content::Text(d.text)));
        files
    }

    fn maxwork(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const HEADER: [&str; 12] = [
            "Public_Reference",
            "Sender_Name",
            "Sender_Email",
            "Sender_Phone",
            "Message",
            "Lead_Status",
            "Internal_UserId",
            "LeadType_Id",
            "Business_TypeId",
            "Price_Max",
            "External_LeadId",
            "Created_At",
        ];
        let mut json = Lines::new();
        let mut csv = Lines::new();
        json.push("[");
        csv.push(&csv_line(&HEADER));
        let in_json = plan.maxwork * 2 / 3;
        for i in 0..plan.maxwork {
            let p = self.someone(Country::Pt);
            let person = self.noisy(p);
            let agent = self.agent_for(Country::Pt);
            let name = match self.rng.u8(..10) {
                0 => format!(
                    "{}, {}",
                    person.last.to_uppercase(),
                    person.first.to_uppercase()
                ),
                1 => format!(
                    "{} {}",
                    person.first.to_lowercase(),
                    person.last.to_lowercase()
                ),
                _ => format!("{} {}", person.first, person.last),
            };
            let (secs, _) = self.when();
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let created = if i % 2 == 0 {
                t.format("%d/%m/%Y %H:%M").to_string()
            } else {
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            };
            let id = if i % 8 == 5 {
                String::new()
            } else {
                format!("mx-{:06}", i * 13 + 1)
            };
            let reference = if i % 5 == 0 {
                "None".to_string()
            } else {
                format!(
                    "{}-{}",
                    129_990_000 + self.rng.u32(..10_000),
                    self.rng.u8(1..9)
                )
            };
            let (lt, bt) = match person.intent {
                1 => ("Seller", "Sale"),
                2 => ("Buyer", "Rent"),
                3 => ("Seller", "Rent"),
                _ => ("Buyer", "Sale"),
            };
            let row = vec![
                reference,
                name,
                self.email(p),
                self.phone(p, 0),
                [
                    "Tenho interesse neste imóvel.",
                    "Gostaria de agendar uma visita.",
                    "I am interested on this listing.",
                ][self.rng.usize(..3)]
                .to_string(),
                ["New", "New", "Contacted", "Archived"][self.rng.usize(..4)].to_string(),
                agent.maxwork.to_string(),
                lt.to_string(),
                bt.to_string(),
                format!("{}", 150_000 + 10_000 * self.rng.u32(..50)),
                id.clone(),
                created,
            ];
            if i < in_json {
                let mut pairs: Vec<(&str, Value)> = HEADER
                    .iter()
                    .zip(&row)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (*k, json!(v)))
                    .collect();
                pairs.retain(|(k, _)| *k != "Price_Max");
                pairs.push(("Price_Max", json!(row[9].parse::<u64>().unwrap_or(0))));
                pairs.push(("Listing_Attributes", json!([1, 5, 51])));
                let line = json.push(&format!(
                    "{},",
                    serde_json::to_string(&obj(pairs)).unwrap_or_default()
                ));
                self.record("maxwork", "maxwork/leads.json", line, &id, Some(p), "lead");
            } else {
                let line = csv.push(&csv_line(
                    &row.iter().map(String::as_str).collect::<Vec<_>>(),
                ));
                self.record("maxwork", "maxwork/leads.csv", line, &id, Some(p), "lead");
            }
        }
        let line = json.push(r#"{"Public_Reference": "None", "Sender_Name": "Lista Errada", "Sender_Email": ["a@b.pt", "c@d.pt"], "Sender_Phone": "912000000", "Message": "x", "Lead_Status": "New", "External_LeadId": "mx-999999"}"#);
        self.record(
            "maxwork",
            "maxwork/leads.json",
            line,
            "mx-999999",
            None,
            "reject",
        );
        json.push("]");
        let line = csv.push(",,,,,,,,,,,");
        self.record("maxwork", "maxwork/leads.csv", line, "", None, "reject");
        vec![
            ("maxwork/leads.json".into(), Content::Text(json.text)),
            ("maxwork/leads.csv".into(), Content::Text(csv.text)),
        ]
    }

    fn open_house(&mut self, plan: &Plan) -> Vec<(String, Content)> {
        const HEADER: [&str; 9] = [
            "Visitor Name",
            "E-mail",
            "Cell",
            "Home Phone",
            "Signed In",
            "Agent",
            "Property",
            "Notes",
            "Buying/Selling",
        ];
        let name = "csv/open-house-signins.csv";
        let mut f = Lines::new();
        f.push(&csv_line(&HEADER));
        for _ in 0..plan.csv {
            let p = self.someone(Country::Us);
            let person = self.noisy(p);
            let agent = self.agent_for(Country::Us);
            let agent_ref = match self.rng.u8(..3) {
                0 => agent.name.to_string(),
                1 => agent.email.to_string(),
                _ => agent.id.to_string(),
            };
            let (secs, _) = self.when();
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let row = [
                if self.rng.bool() {
                    format!("{} {}", person.first, person.last)
                } else {
                    format!("{}, {}", person.last, person.first)
                },
                self.email(p),
                self.phone(p, 0),
                self.phone(p, 1),
                t.format("%-m/%-d/%Y %-I:%M %p").to_string(),
                agent_ref,
                format!(
                    "{} {} Ave",
                    self.rng.u16(100..999),
                    ["Sheridan", "Lincoln", "Grand"][self.rng.usize(..3)]
                ),
                [
                    "Loved the kitchen",
                    "",
                    "Wants a bigger yard",
                    "Second visit",
                ][self.rng.usize(..4)]
                .to_string(),
                ["Buying", "Selling", "Both", "Just looking"][person.intent as usize % 4]
                    .to_string(),
            ];
            let line = f.push(&csv_line(
                &row.iter().map(String::as_str).collect::<Vec<_>>(),
            ));
            self.record("csv", name, line, "", Some(p), "lead");
        }
        let line = f.push(",,,,11/2/2025 1:15 PM,Dana Reyes,12 Elm Ave,left no details,");
        self.record("csv", name, line, "", None, "reject");
        vec![(name.into(), Content::Text(f.text))]
    }
}

/// A common nickname of a given name, if it has one the matcher's table knows.
fn nickname(first: &str) -> Option<&'static str> {
    Some(match first {
        "Robert" => "Bob",
        "William" => "Bill",
        "Elizabeth" => "Liz",
        "James" => "Jim",
        "John" => "Jack",
        "Michael" => "Mike",
        "Richard" => "Rick",
        "Joseph" => "Joe",
        "Thomas" => "Tom",
        "Christopher" => "Chris",
        "Daniel" => "Dan",
        "Matthew" => "Matt",
        "Anthony" => "Tony",
        "Steven" => "Steve",
        "Jennifer" => "Jen",
        "Patricia" => "Pat",
        "Susan" => "Sue",
        "Jessica" => "Jess",
        "Barbara" => "Barb",
        "Sandra" => "Sandy",
        "David" => "Dave",
        "José" => "Zé",
        "António" => "Tó",
        "Francisca" => "Chica",
        "Beatriz" => "Bea",
        "Rodrigo" => "Rodri",
        _ => return None,
    })
}

/// One keyboard slip in a word: a letter replaced, dropped or doubled, or two swapped.
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        return word.to_string();
    }
    let i = rng.usize(1..chars.len() - 1);
    match rng.u8(..4) {
        0 => chars[i] = (b'a' + rng.u8(..26)) as char,
        1 => {
            chars.remove(i);
        }
        2 => chars.insert(i, chars[i]),
        _ => chars.swap(i, i + 1),
    }
    chars.into_iter().collect()
}

/// An email with a misspelt common domain (gmial.com), or as it was when none applies.
fn domain_typo(email: &str) -> String {
    for (right, wrong) in [
        ("@gmail.com", "@gmial.com"),
        ("@yahoo.com", "@yaho.com"),
        ("@hotmail.com", "@hotmial.com"),
        ("@hotmail.co.uk", "@hotmail.co"),
        ("@outlook.com", "@outlok.com"),
        ("@icloud.com", "@iclod.com"),
    ] {
        if let Some(local) = email.strip_suffix(right) {
            return format!("{local}{wrong}");
        }
    }
    email.to_string()
}

/// National digits with one digit mistyped (or two neighbours swapped), leaving the leading
/// digits that decide the number's range alone.
fn digit_typo(rng: &mut Rng, digits: &str, swap: bool) -> String {
    let mut d: Vec<u8> = digits.bytes().collect();
    let i = rng.usize(4..d.len() - 1);
    if swap && d[i] != d[i + 1] {
        d.swap(i, i + 1);
    } else {
        d[i] = b'0' + (d[i] - b'0' + 1 + rng.u8(..8)) % 10;
    }
    String::from_utf8(d).unwrap_or_else(|_| digits.to_string())
}

/// `people.csv`: every person with their true name and household, for scoring a dedupe
/// run (namesakes share a name; household members share a household id).
fn people_csv(people: &[Person]) -> String {
    let mut s = String::from("person_id,first_name,last_name,household_id\n");
    for p in people {
        s.push_str(&csv_line(&[
            &p.id.to_string(),
            &p.first,
            &p.last,
            &p.household.to_string(),
        ]));
        s.push('\n');
    }
    s
}

fn roster_csv() -> String {
    let mut s = String::from("agent_id,name,email,peakidx,leadpro,realgeeks,epixel,maxwork\n");
    for a in &AGENTS {
        s.push_str(&csv_line(&[
            a.id,
            a.name,
            a.email,
            a.peakidx,
            a.leadpro,
            a.realgeeks,
            a.epixel,
            a.maxwork,
        ]));
        s.push('\n');
    }
    s
}

/// The pipeline written beside a generated dataset (the commented one is
/// `pipelines/sample.toml`).
const PIPELINE: &str = r#"# Generated by `leadrecon generate`: runs this folder's data. See pipelines/sample.toml.
[pipeline]
name = "generated"
output = "out"

[[sources]]
system = "peakidx"
name = "peakidx-lakeside"
path = "peakidx/lakeside-homes/*"
timezone = "America/Chicago"
agent = "lakeside-homes"

[[sources]]
system = "peakidx"
name = "peakidx-metro"
path = "peakidx/metro-realty/*"
timezone = "America/New_York"
agent = "metro-realty"

[[sources]]
system = "leadpro"
path = "leadpro/*"

[[sources]]
system = "realgeeks"
path = "realgeeks/deliveries-*"
timezone = "America/Chicago"

[[sources]]
system = "epixel"
path = "epixel/*"
region = "US"
timezone = "America/New_York"

[[sources]]
system = "maxwork"
path = "maxwork/*"

[[sources]]
system = "csv"
name = "open-house"
path = "csv/open-house-signins.csv"
region = "US"
timezone = "America/Chicago"

[sources.columns]
full_name = "Visitor Name"
email = "E-mail"
phone = "Cell"
phone2 = "Home Phone"
created_at = "Signed In"
agent = "Agent"
listing_ref = "Property"
message = "Notes"
kind = "Buying/Selling"

[agents]
roster = "agents.csv"
"#;
