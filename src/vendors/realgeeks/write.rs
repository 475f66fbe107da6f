//! Real Geeks payloads (Incoming API, JSON): create `POST /sites/{site_uuid}/leads`,
//! update `PATCH /sites/{site_uuid}/leads/{id}` with only the fields that changed.
//!
//! Creates carry our stable UUID in `id` (derived from the contact id, so a resend names
//! the same lead), `source` (the target's `source`, default `leadrecon`; Real Geeks advises
//! one source per integration) with the lead's own marketing source in `source_details`,
//! `created` in ISO 8601, and the agent as a `was_assigned` activity for the agent's
//! `realgeeks` user id. `created` and `source` are never updated.
//!
//! | kind             | `role`              | status   | `status` / `urgency`          |
//! |------------------|---------------------|----------|-------------------------------|
//! | buyer            | `Buyer`             | new      | urgency `Not Contacted`       |
//! | seller           | `Seller`            | contacted| urgency `Contacted`           |
//! | buyer and seller | `Buyer and Seller`  | active   | status `Active`               |
//! | renter           | `Renter`            | closed   | status `Closed Escrow`        |
//! | landlord, mortgage, unknown | none (said) | dead, archived | status `Dead`     |
//!
//! Phones go in the target region's national format (`(808) 123-1234`), others
//! international (`+55 83 1234-1234`), the two forms the docs show.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::dedupe::survive::Contact;
use crate::lead::{Kind, Status};
use crate::vendors::write::{
    changed_fields, get, is_empty, phone_for, valid_email, Body, Draft, Op, PhoneStyle, Request,
    Update, Violation, WriteContext,
};

/// Roles the Incoming API takes (Potential Seller has its own endpoint).
pub const ROLES: [&str; 4] = ["Buyer", "Seller", "Buyer and Seller", "Renter"];
/// System statuses.
pub const STATUSES: [&str; 5] = ["Active", "Cancelled", "In Escrow", "Closed Escrow", "Dead"];
/// System urgencies.
pub const URGENCIES: [&str; 5] = ["Cold", "Warm", "Hot", "Contacted", "Not Contacted"];
/// Timeframes.
pub const TIMEFRAMES: [&str; 9] = [
    "Immediately",
    "1 Week",
    "2-4 Weeks",
    "30 Days",
    "60 Days",
    "90 Days",
    "3-6 Months",
    "6-12 Months",
    "1 Year Or More",
];

/// Our kind → a role.
pub fn role(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Buyer => Some("Buyer"),
        Kind::Seller => Some("Seller"),
        Kind::BuyerAndSeller => Some("Buyer and Seller"),
        Kind::Renter => Some("Renter"),
        Kind::Landlord | Kind::Mortgage | Kind::Unknown => None,
    }
}

/// Our status → (`status`, `urgency`).
pub fn status(s: Status) -> (Option<&'static str>, Option<&'static str>) {
    match s {
        Status::New => (None, Some("Not Contacted")),
        Status::Contacted => (None, Some("Contacted")),
        Status::Active | Status::Nurture => (Some("Active"), None),
        Status::Closed => (Some("Closed Escrow"), None),
        Status::Archived | Status::Dead => (Some("Dead"), None),
        Status::Unknown => (None, None),
    }
}

/// A stable UUID (version 5 layout) for a contact id.
pub fn uuid_for(contact_id: &str) -> String {
    let d = Sha256::digest(format!("leadrecon:{contact_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::hex::string(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Whether text is a UUID (hyphenated, or 32 hex digits as Real Geeks also sends).
pub fn is_uuid(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = s.split('-').map(str::len).collect();
    hex.len() == 32
        && hex.chars().all(|c| c.is_ascii_hexdigit())
        && (groups == [8, 4, 4, 4, 12] || groups == [32])
}

fn hyphenated(id: &str) -> String {
    if id.len() == 32 && is_uuid(id) {
        format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        )
    } else {
        id.to_string()
    }
}

/// The contact as a Real Geeks lead (blank fields left out).
pub fn draft(c: &Contact, ctx: &WriteContext<'_>) -> Result<Draft, String> {
    let site = ctx
        .site_uuid
        .ok_or("the target has no site_uuid: Real Geeks leads belong to a site")?;
    let mut d = Draft {
        route: site.to_string(),
        ..Draft::default()
    };
    d.text("source", Some(ctx.source.unwrap_or("leadrecon")));
    d.text_if("source_details", c.marketing_source.as_deref());
    d.text_if("first_name", c.first_name.as_deref());
    d.text_if("last_name", c.last_name.as_deref());
    d.text_if("email", c.email.as_deref());
    d.text_if("second_email", c.email2.as_deref());
    let phone = |p: &Option<compact_str::CompactString>| {
        p.as_deref()
            .and_then(|p| phone_for(p, ctx.region, PhoneStyle::National))
    };
    d.text_if("phone", phone(&c.phone).as_deref());
    d.text_if("phone2", phone(&c.phone2).as_deref());
    let state_zip = [c.region.as_deref(), c.postcode.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let full: Vec<&str> = [
        c.address.as_deref(),
        c.city.as_deref(),
        Some(state_zip.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    // The full formatted address only when there is a street: a city alone is not one.
    if c.address.is_some() {
        d.text_if("address", Some(&full.join(", ")));
    }
    d.text_if("street_address", c.address.as_deref());
    d.text_if("city", c.city.as_deref());
    d.text_if("state", c.region.as_deref());
    d.text_if("zip", c.postcode.as_deref());
    match role(c.kind) {
        Some(r) => d.text("role", Some(r)),
        None if c.kind != Kind::Unknown => d.adjust(
            "role",
            format!("Real Geeks has no role for a {}: none sent", c.kind),
        ),
        None => {}
    }
    let (st, urgency) = status(c.status);
    d.text_if("status", st);
    d.text_if("urgency", urgency);
    d.text_if("notes", c.message.as_deref());
    if let Some(t) = c.created_at {
        d.text(
            "created",
            Some(&t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
        );
    }
    match ctx.agent_alias(c) {
        Ok(user) => {
            d.body.insert(
                "activities".into(),
                json!([{"type": "was_assigned", "user": {"id": user}, "role": "agent"}]),
            );
        }
        Err(why) if c.agent_id.is_some() => {
            d.adjust("activities", format!("not assigned: {why}"));
        }
        Err(_) => {}
    }
    Ok(d)
}

/// A new lead with our stable UUID.
pub fn create(d: &mut Draft, c: &Contact, _ctx: &WriteContext<'_>) -> Request {
    let mut body = Body::new();
    body.insert("id".into(), Value::String(uuid_for(&c.contact_id)));
    body.extend(std::mem::take(&mut d.body));
    Request {
        op: Op::Create,
        method: "POST",
        path: format!("sites/{}/leads", d.route),
        content_type: "application/json",
        body,
    }
}

/// Only the fields that differ ("Fields that are not present are left alone").
pub fn update(d: &Draft, current: &Body, target_id: &str, _ctx: &WriteContext<'_>) -> Update {
    let changed = changed_fields(&d.body, current, &["created", "source", "id"]);
    if changed.is_empty() {
        return None;
    }
    let body: Body = changed
        .iter()
        .map(|f| (f.clone(), d.body[f.as_str()].clone()))
        .collect();
    Some((
        Request {
            op: Op::Update,
            method: "PATCH",
            path: format!("sites/{}/leads/{}", d.route, hyphenated(target_id)),
            content_type: "application/json",
            body,
        },
        Vec::new(),
    ))
}

/// Real Geeks' documented rules.
pub fn validate(r: &Request) -> Vec<Violation> {
    let b = &r.body;
    let mut out = Vec::new();
    let has = |f: &str| b.get(f).is_some_and(|v| !is_empty(v));
    if r.op == Op::Create {
        if !has("source") {
            out.push(Violation::new(
                "source",
                "required: Name of your source, where leads are coming from",
            ));
        }
        if !["first_name", "last_name", "email", "phone", "address"]
            .iter()
            .any(|f| has(f))
        {
            out.push(Violation::new(
                "first_name",
                "at least one identification field is required to create a lead. You must provide at least one of: first_name, last_name, email, phone or address",
            ));
        }
        if has("id") && !is_uuid(get(b, "id")) {
            out.push(Violation::new("id", "has to be a valid UUID"));
        }
    }
    for f in ["email", "second_email"] {
        if has(f) && !valid_email(get(b, f)) {
            out.push(Violation::new(f, "Valid email address"));
        }
    }
    let one_of = |out: &mut Vec<Violation>, f: &str, list: &[&str], words: &str| {
        if has(f) && !list.contains(&get(b, f)) {
            out.push(Violation::new(f, words));
        }
    };
    one_of(
        &mut out,
        "role",
        &ROLES,
        "Lead role, one of \"Buyer\", \"Seller\", \"Buyer and Seller\", \"Renter\"",
    );
    one_of(&mut out, "status", &STATUSES, "Value has to be one of the system values: \"Active\", \"Cancelled\", \"In Escrow\", \"Closed Escrow\" and \"Dead\"");
    one_of(&mut out, "urgency", &URGENCIES, "Value has to be one of the system values: \"Cold\", \"Warm\", \"Hot\", \"Contacted\", \"Not Contacted\"");
    one_of(&mut out, "timeframe", &TIMEFRAMES, "Allowed values: \"Immediately\", \"1 Week\", \"2-4 Weeks\", \"30 Days\", \"60 Days\", \"90 Days\", \"3-6 Months\", \"6-12 Months\", \"1 Year Or More\"");
    if has("created") && chrono::DateTime::parse_from_rfc3339(get(b, "created")).is_err() {
        out.push(Violation::new(
            "created",
            "Format must be a combined date and time according to ISO 8601, ex.: \"2015-04-01T08:41:51+00:00\"",
        ));
    }
    if let Some(acts) = b.get("activities") {
        let ok = acts.as_array().is_some_and(|a| {
            a.iter().all(|x| {
                x.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.is_empty())
                    && (x["type"] != "was_assigned"
                        || x.pointer("/user/id")
                            .and_then(Value::as_str)
                            .is_some_and(|i| !i.is_empty()))
            })
        });
        if !ok {
            out.push(Violation::new(
                "activities",
                "was_assigned: id is the only required field for user",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::System;
    use crate::vendors::write::tests_support::{contact, ctx_for, request as req, roster};

    #[test]
    fn create_body() {
        let r = roster();
        let ctx = ctx_for(System::Realgeeks, "US", &r);
        let c = contact();
        let mut d = draft(&c, &ctx).unwrap();
        let req = create(&mut d, &c, &ctx);
        assert_eq!(req.path, "sites/3f9c1e2a-6b7d-4c8e-9a0b-1c2d3e4f5a6b/leads");
        assert!(is_uuid(get(&req.body, "id")));
        assert_eq!(req.body["id"], json!(uuid_for("c-0123456789ab")), "stable");
        assert_eq!(req.body["role"], json!("Buyer"));
        assert_eq!(req.body["urgency"], json!("Not Contacted"));
        assert_eq!(req.body["phone"], json!("(312) 555-0142"));
        assert_eq!(req.body["created"], json!("2025-03-01T15:30:00+00:00"));
        assert_eq!(
            req.body["activities"],
            json!([{"type": "was_assigned", "user": {"id": "10001"}, "role": "agent"}])
        );
        assert_eq!(
            req.body["address"],
            json!("100 E Ohio St, Chicago, IL 60611")
        );
        assert!(validate(&req).is_empty(), "{:?}", validate(&req));
    }

    fn fields(r: &Request) -> Vec<String> {
        validate(r).into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn each_documented_rule() {
        let ok = json!({"source": "leadrecon", "email": "ann@x.com"});
        assert!(fields(&req(Op::Create, ok.clone())).is_empty());
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            req(Op::Create, b)
        };
        assert_eq!(fields(&with("source", json!(""))), ["source"]);
        assert_eq!(
            fields(&req(Op::Create, json!({"source": "x"}))),
            ["first_name"]
        );
        assert!(fields(&req(
            Op::Create,
            json!({"source": "x", "address": "1 Main St"})
        ))
        .is_empty());
        assert_eq!(fields(&with("email", json!("nope"))), ["email"]);
        assert_eq!(
            fields(&with("second_email", json!("a@b"))),
            ["second_email"]
        );
        assert_eq!(fields(&with("role", json!("Potential Seller"))), ["role"]);
        assert_eq!(fields(&with("status", json!("Open"))), ["status"]);
        assert_eq!(fields(&with("urgency", json!("Lukewarm"))), ["urgency"]);
        assert_eq!(fields(&with("timeframe", json!("Soon"))), ["timeframe"]);
        assert_eq!(
            fields(&with("created", json!("2015-04-01 08:41"))),
            ["created"]
        );
        assert_eq!(fields(&with("id", json!("12345"))), ["id"]);
        assert_eq!(
            fields(&with(
                "activities",
                json!([{"type": "was_assigned", "user": {}}])
            )),
            ["activities"]
        );
        // An update needs neither source nor an identifier.
        assert!(fields(&req(Op::Update, json!({"zip": "60611"}))).is_empty());
    }

    #[test]
    fn update_sends_only_what_differs() {
        let r = roster();
        let ctx = ctx_for(System::Realgeeks, "US", &r);
        let c = contact();
        let d = draft(&c, &ctx).unwrap();
        let mut current = d.body.clone();
        current.insert("created".into(), "2020-01-01T00:00:00+00:00".into());
        current.insert("source".into(), "Website Property Search".into());
        assert!(update(&d, &current, "a27c20af4497415d9e4e7334dd1d40d2", &ctx).is_none());
        current.insert("zip".into(), "60614".into());
        let (req, _) = update(&d, &current, "a27c20af4497415d9e4e7334dd1d40d2", &ctx).unwrap();
        assert_eq!(Value::from(req.body), json!({"zip": "60611"}));
        assert!(req
            .path
            .ends_with("/leads/a27c20af-4497-415d-9e4e-7334dd1d40d2"));
    }
}
