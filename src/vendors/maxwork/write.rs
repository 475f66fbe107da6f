//! Maxwork payloads: JSON to the universal endpoint `POST listingexport/leads`, which
//! creates, marks contacted and archives (the `token` query parameter is added by
//! whoever sends).
//!
//! The six required fields are always sent: `Public_Reference` (the listing when it came
//! from Maxwork, else `"None"`, Maxwork's value for manual leads), `Sender_Name` (one full
//! name), `Sender_Email`, `Sender_Phone` (national digits for the target region, else
//! E.164), `Message` (the lead's message; a lead without one says where it was imported
//! from, and the line says so) and `Lead_Status`. Maxwork returns no id: our contact id
//! goes in `External_LeadId` on create, the record's own on update. The agent is
//! `Internal_UserId` (the agent's `maxwork` alias). An update re-posts the record with
//! what changed (Maxwork maps it to the contact by phone, email and agent).
//!
//! | status                  | `Lead_Status` |
//! |-------------------------|---------------|
//! | new, unknown            | `New`         |
//! | contacted, active, nurture | `Contacted` |
//! | closed, archived, dead  | `Archived`    |

use crate::dedupe::survive::Contact;
use crate::lead::Status;
use crate::vendors::write::{
    changed_fields, get, overlay, phone_for, Body, Draft, Op, PhoneStyle, Request, Update,
    Violation, WriteContext,
};

/// The fields Maxwork requires.
pub const REQUIRED: [&str; 6] = [
    "Public_Reference",
    "Sender_Name",
    "Sender_Email",
    "Sender_Phone",
    "Message",
    "Lead_Status",
];

/// Lead statuses.
pub const STATUSES: [&str; 3] = ["New", "Contacted", "Archived"];

/// Our status → `Lead_Status`.
pub fn lead_status(s: Status) -> &'static str {
    match s {
        Status::New | Status::Unknown => "New",
        Status::Contacted | Status::Active | Status::Nurture => "Contacted",
        Status::Closed | Status::Archived | Status::Dead => "Archived",
    }
}

fn system_names(c: &Contact) -> String {
    let mut names: Vec<&str> = c
        .lead_keys
        .iter()
        .filter_map(|k| k.split(':').next())
        .map(|s| match s {
            "peakidx" => "PeakIDX",
            "leadpro" => "Lead.Pro",
            "realgeeks" => "Real Geeks",
            "epixel" => "Epixel",
            "maxwork" => "Maxwork",
            _ => "a CSV file",
        })
        .collect();
    names.dedup();
    names.sort();
    names.dedup();
    names.join(", ")
}

/// The contact as a Maxwork lead.
pub fn draft(c: &Contact, ctx: &WriteContext<'_>) -> Result<Draft, String> {
    let mut d = Draft::default();
    let from_maxwork = c
        .provenance("listing_ref")
        .is_some_and(|k| k.starts_with("maxwork:"));
    match c.listing_ref.as_deref() {
        Some(r) if from_maxwork => d.text("Public_Reference", Some(r)),
        Some(_) => {
            d.text("Public_Reference", Some("None"));
            d.adjust(
                "Public_Reference",
                "the listing is another system's, not a Maxwork reference: sent as a manual lead (\"None\")",
            );
        }
        None => d.text("Public_Reference", Some("None")),
    }
    let name = c.full_name.as_deref().map(String::from).or_else(|| {
        let parts: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    d.text("Sender_Name", name.as_deref());
    d.text("Sender_Email", c.email.as_deref());
    let phone = c
        .phone
        .as_deref()
        .and_then(|p| phone_for(p, ctx.region, PhoneStyle::NationalDigits));
    d.text("Sender_Phone", phone.as_deref());
    match c.message.as_deref().filter(|m| !m.trim().is_empty()) {
        Some(m) => d.text("Message", Some(m)),
        None => {
            let text = format!("Imported from {}", system_names(c));
            d.text("Message", Some(&text));
            d.adjust(
                "Message",
                "the lead has no message; Maxwork requires one: wrote where it was imported from",
            );
        }
    }
    d.text("Lead_Status", Some(lead_status(c.status)));
    match ctx.agent_alias(c) {
        Ok(user) => d.text("Internal_UserId", Some(&user)),
        Err(why) if c.agent_id.is_some() => d.adjust(
            "Internal_UserId",
            format!("not sent ({why}): Maxwork gives the lead to the agency's lead manager"),
        ),
        Err(_) => {}
    }
    Ok(d)
}

fn request(op: Op, body: Body) -> Request {
    Request {
        op,
        method: "POST",
        path: "listingexport/leads".into(),
        content_type: "application/json",
        body,
    }
}

/// A new lead with our id.
pub fn create(d: &mut Draft, c: &Contact, _ctx: &WriteContext<'_>) -> Request {
    let mut body = std::mem::take(&mut d.body);
    body.insert("External_LeadId".into(), c.contact_id.as_str().into());
    request(Op::Create, body)
}

/// The record re-posted with what changed, under its own id.
pub fn update(d: &Draft, current: &Body, target_id: &str, _ctx: &WriteContext<'_>) -> Update {
    // A message we wrote ourselves is no reason to update.
    let mut never = vec!["External_LeadId"];
    if d.adjustments.iter().any(|a| a.field == "Message") {
        never.push("Message");
    }
    if changed_fields(&d.body, current, &never).is_empty() {
        return None;
    }
    let mut body = overlay(current, &d.body, &never);
    body.insert("External_LeadId".into(), target_id.into());
    Some((request(Op::Update, body), Vec::new()))
}

/// Maxwork's documented rules: the six fields present and not blank, a known status.
pub fn validate(r: &Request) -> Vec<Violation> {
    let mut out = Vec::new();
    for f in REQUIRED {
        if get(&r.body, f).trim().is_empty() {
            out.push(Violation::new(f, "Required: True"));
        }
    }
    let s = get(&r.body, "Lead_Status");
    if !s.is_empty() && !STATUSES.contains(&s) {
        out.push(Violation::new("Lead_Status", "New, Contacted, Archived"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::System;
    use crate::vendors::write::tests_support::{contact, ctx_for, roster};
    use serde_json::{json, Value};

    #[test]
    fn create_body() {
        let r = roster();
        let ctx = ctx_for(System::Maxwork, "PT", &r);
        let mut c = contact();
        c.phone = Some("+351912345678".into());
        c.lead_keys = vec!["realgeeks:abc".into()];
        c.message = None;
        let mut d = draft(&c, &ctx).unwrap();
        let req = create(&mut d, &c, &ctx);
        assert_eq!(
            Value::from(req.body.clone()),
            json!({"Public_Reference": "None", "Sender_Name": "Ann Lee",
                "Sender_Email": "ann.lee@gmail.com", "Sender_Phone": "912345678",
                "Message": "Imported from Real Geeks", "Lead_Status": "New",
                "Internal_UserId": "4411", "External_LeadId": "c-0123456789ab"})
        );
        assert_eq!(d.adjustments.len(), 2, "{:?}", d.adjustments);
        assert!(validate(&req).is_empty());
    }

    #[test]
    fn each_documented_rule() {
        let mut b = Body::new();
        for f in REQUIRED {
            b.insert(f.into(), "x".into());
        }
        b.insert("Lead_Status".into(), "New".into());
        let r = |b: &Body| validate(&request(Op::Create, b.clone()));
        assert!(r(&b).is_empty());
        for f in REQUIRED {
            let mut missing = b.clone();
            missing.insert(f.into(), "".into());
            assert_eq!(r(&missing)[0].field, f);
        }
        b.insert("Lead_Status".into(), "Qualified".into());
        assert_eq!(r(&b)[0].field, "Lead_Status");
    }

    #[test]
    fn update_keeps_their_id() {
        let r = roster();
        let ctx = ctx_for(System::Maxwork, "PT", &r);
        let c = contact();
        let d = draft(&c, &ctx).unwrap();
        assert!(update(&d, &d.body, "MX-1", &ctx).is_none());
        let mut current = d.body.clone();
        current.insert("Lead_Status".into(), "Contacted".into());
        let (req, _) = update(&d, &current, "MX-1", &ctx).unwrap();
        assert_eq!(req.body["External_LeadId"], json!("MX-1"));
        assert_eq!(req.body["Lead_Status"], json!("New"));
    }
}
