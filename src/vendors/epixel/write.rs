//! Epixel Leads & CRM payloads (form data): create `POST leads/create/lead/`, update
//! `POST leads/update/lead/` — a full re-post of the lead plus its `slug`.
//!
//! First and last name, email and phone are required and not blank, on update too; text
//! fields hold at most 255 characters; the phone is digits only, at most 15 (national
//! digits for the target region, else country code and number). `status` and `source`
//! must be among the install's choices (the target's `statuses`, by default the
//! documented `prospect`, `tentative`, `potential`, `closed`, `contact`, `customer`;
//! `sources`, by default none known, so `source` is not sent, unless the contact's
//! source was read from Epixel itself). `assignee` is the agent's
//! `epixel` username; without one the lead is not assigned (said on the line). Messages
//! longer than 255 characters are cut and flagged. `location` is the contact's city,
//! region and postcode.
//!
//! | status             | `status`    |
//! |--------------------|-------------|
//! | new                | `prospect`  |
//! | contacted          | `contact`   |
//! | active             | `potential` |
//! | nurture            | `tentative` |
//! | closed             | `closed`    |
//! | archived, dead, unknown | not sent (no documented choice) |

use crate::dedupe::survive::Contact;
use crate::lead::Status;
use crate::vendors::write::{
    changed_fields, chars, get, overlay, phone_for, valid_email, Body, Draft, Op, PhoneStyle,
    Request, Update, Violation, WriteContext,
};

/// The statuses Epixel documents (an install may define others).
pub const DOCUMENTED_STATUSES: [&str; 6] = [
    "prospect",
    "tentative",
    "potential",
    "closed",
    "contact",
    "customer",
];

const CONTENT_TYPE: &str = "multipart/form-data";
const REQUIRED: [&str; 4] = ["first_name", "last_name", "email", "phone"];
const TEXT: [&str; 5] = ["first_name", "last_name", "email", "location", "message"];

/// Our status → an Epixel status.
pub fn status(s: Status) -> Option<&'static str> {
    match s {
        Status::New => Some("prospect"),
        Status::Contacted => Some("contact"),
        Status::Active => Some("potential"),
        Status::Nurture => Some("tentative"),
        Status::Closed => Some("closed"),
        Status::Archived | Status::Dead | Status::Unknown => None,
    }
}

fn choices<'a>(configured: &'a [String], documented: &'a [&'a str]) -> Vec<&'a str> {
    if configured.is_empty() {
        documented.to_vec()
    } else {
        configured.iter().map(String::as_str).collect()
    }
}

/// The contact as Epixel form fields.
pub fn draft(c: &Contact, ctx: &WriteContext<'_>) -> Result<Draft, String> {
    let mut d = Draft::default();
    d.text("first_name", c.first_name.as_deref());
    d.text("last_name", c.last_name.as_deref());
    d.text("email", c.email.as_deref());
    let phone = c
        .phone
        .as_deref()
        .and_then(|p| phone_for(p, ctx.region, PhoneStyle::Digits));
    d.text("phone", phone.as_deref());
    let statuses = choices(ctx.statuses, &DOCUMENTED_STATUSES);
    match status(c.status) {
        Some(s) if statuses.contains(&s) => d.text("status", Some(s)),
        Some(s) => d.adjust(
            "status",
            format!("`{s}` is not one of the install's statuses: not sent"),
        ),
        None if c.status != Status::Unknown => d.adjust(
            "status",
            format!("Epixel documents no status for {}: not sent", c.status),
        ),
        None => {}
    }
    // A source read from Epixel is one of the install's choices by definition.
    let from_install = c
        .provenance("marketing_source")
        .is_some_and(|k| k.starts_with("epixel:"));
    let wanted = c.marketing_source.as_deref().or(ctx.source);
    if let (Some(s), true) = (c.marketing_source.as_deref(), from_install) {
        d.text("source", Some(s));
    } else if let Some(w) = wanted {
        match ctx
            .sources
            .iter()
            .find(|s| s.eq_ignore_ascii_case(w.trim()))
        {
            Some(s) => d.text("source", Some(s)),
            None if !ctx.sources.is_empty() => d.adjust(
                "source",
                format!("`{w}` is not one of the install's sources: not sent"),
            ),
            None => {}
        }
    }
    let location: Vec<&str> = [
        c.city.as_deref(),
        c.region.as_deref(),
        c.postcode.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    d.text_if("location", Some(&location.join(", ")));
    if c.message.is_some() {
        d.truncated(
            "message",
            c.message.as_deref(),
            255,
            "Epixel: Ensure this field has no more than 255 characters.",
        );
    }
    match ctx.agent_alias(c) {
        Ok(user) => d.text("assignee", Some(&user)),
        Err(why) if c.agent_id.is_some() => d.adjust("assignee", format!("not assigned: {why}")),
        Err(_) => {}
    }
    Ok(d)
}

/// A new lead.
pub fn create(d: &mut Draft, _c: &Contact, _ctx: &WriteContext<'_>) -> Request {
    Request {
        op: Op::Create,
        method: "POST",
        path: "leads/create/lead/".into(),
        content_type: CONTENT_TYPE,
        body: std::mem::take(&mut d.body),
    }
}

/// The whole lead again with its slug, when a field changed.
pub fn update(d: &Draft, current: &Body, target_id: &str, _ctx: &WriteContext<'_>) -> Update {
    if changed_fields(&d.body, current, &[]).is_empty() {
        return None;
    }
    let mut body = overlay(current, &d.body, &[]);
    for (k, v) in current {
        if !body.contains_key(k) {
            body.insert(k.into(), v.clone());
        }
    }
    body.insert("slug".into(), target_id.into());
    Some((
        Request {
            op: Op::Update,
            method: "POST",
            path: "leads/update/lead/".into(),
            content_type: CONTENT_TYPE,
            body,
        },
        Vec::new(),
    ))
}

/// Epixel's documented 400 messages, for the install's choices.
pub fn validate(r: &Request, ctx: &WriteContext<'_>) -> Vec<Violation> {
    let b = &r.body;
    let mut out = Vec::new();
    for f in REQUIRED {
        match b.get(f) {
            None => out.push(Violation::new(f, "This field is required.")),
            Some(_) if get(b, f).trim().is_empty() => {
                out.push(Violation::new(f, "This field may not be blank."))
            }
            _ => {}
        }
    }
    for f in TEXT {
        if chars(b, f) > 255 {
            out.push(Violation::new(
                f,
                "Ensure this field has no more than 255 characters.",
            ));
        }
    }
    let email = get(b, "email");
    if !email.is_empty() && !valid_email(email) {
        out.push(Violation::new("email", "Invalid email."));
    }
    let phone = get(b, "phone");
    if !phone.is_empty() && (phone.len() > 15 || !phone.chars().all(|c| c.is_ascii_digit())) {
        out.push(Violation::new(
            "phone",
            "Phone number must be entered in the format: '999999999'. Up to 15 digits allowed.",
        ));
    }
    let statuses = choices(ctx.statuses, &DOCUMENTED_STATUSES);
    let status = get(b, "status");
    if b.contains_key("status") && !statuses.contains(&status) {
        out.push(Violation::new(
            "status",
            format!("{status} is not a valid choice."),
        ));
    }
    let source = get(b, "source");
    // Choices the pipeline file does not list are unknown, not refused.
    if b.contains_key("source")
        && !ctx.sources.is_empty()
        && !ctx.sources.iter().any(|s| s == source)
    {
        out.push(Violation::new(
            "source",
            format!("{source} is not a valid choice."),
        ));
    }
    if b.contains_key("assignee") && get(b, "assignee").trim().is_empty() {
        out.push(Violation::new("assignee", "This field may not be blank."));
    }
    if r.op == Op::Update {
        let slug = get(b, "slug");
        if slug.trim().is_empty() {
            out.push(Violation::new("slug", "This field may not be blank."));
        } else if slug.chars().count() > 258 {
            out.push(Violation::new(
                "slug",
                "Ensure this field has no more than 258 characters.",
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
    use serde_json::{json, Value};

    #[test]
    fn create_body() {
        let r = roster();
        let ctx = ctx_for(System::Epixel, "US", &r);
        let c = contact();
        let mut d = draft(&c, &ctx).unwrap();
        let req = create(&mut d, &c, &ctx);
        assert_eq!(
            Value::from(req.body.clone()),
            json!({"first_name": "Ann", "last_name": "Lee", "email": "ann.lee@gmail.com",
                "phone": "3125550142", "status": "prospect",
                "location": "Chicago, IL, 60611",
                "message": "Interested in lakeside properties.", "assignee": "dreyes"})
        );
        assert!(validate(&req, &ctx).is_empty());
    }

    #[test]
    fn each_documented_rule() {
        let r = roster();
        let sources = vec!["Website".to_string()];
        let ctx = WriteContext {
            sources: &sources,
            ..ctx_for(System::Epixel, "US", &r)
        };
        let ok = json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@x.com",
            "phone": "3125550142"});
        let msgs = |r: &Request| -> Vec<String> {
            validate(r, &ctx)
                .into_iter()
                .map(|v| format!("{}: {}", v.field, v.message))
                .collect()
        };
        assert!(msgs(&req(Op::Create, ok.clone())).is_empty());
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            req(Op::Create, b)
        };
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("phone");
        assert_eq!(
            msgs(&req(Op::Create, missing)),
            ["phone: This field is required."]
        );
        assert_eq!(
            msgs(&with("last_name", json!(" "))),
            ["last_name: This field may not be blank."]
        );
        assert_eq!(
            msgs(&with("message", json!("m".repeat(256)))),
            ["message: Ensure this field has no more than 255 characters."]
        );
        assert_eq!(
            msgs(&with("email", json!("ann@"))),
            ["email: Invalid email."]
        );
        assert_eq!(msgs(&with("phone", json!("+13125550142"))).len(), 1);
        assert_eq!(msgs(&with("phone", json!("1234567890123456"))).len(), 1);
        assert_eq!(
            msgs(&with("status", json!("hot"))),
            ["status: hot is not a valid choice."]
        );
        assert_eq!(
            msgs(&with("source", json!("web"))),
            ["source: web is not a valid choice."]
        );
        assert_eq!(
            msgs(&with("assignee", json!(""))),
            ["assignee: This field may not be blank."]
        );
        assert_eq!(
            msgs(&req(Op::Update, ok.clone())),
            ["slug: This field may not be blank."]
        );
        let mut long = ok.clone();
        long["slug"] = json!("s".repeat(259));
        assert_eq!(msgs(&req(Op::Update, long)).len(), 1);
    }

    #[test]
    fn update_is_a_full_repost_with_the_slug() {
        let r = roster();
        let ctx = ctx_for(System::Epixel, "US", &r);
        let c = contact();
        let d = draft(&c, &ctx).unwrap();
        assert!(update(&d, &d.body, "ann-lee-1001", &ctx).is_none());
        let mut current = d.body.clone();
        current.insert("status".into(), "contact".into());
        current.insert("source".into(), "Walk-in".into());
        let (req, _) = update(&d, &current, "ann-lee-1001", &ctx).unwrap();
        assert_eq!(req.body["slug"], json!("ann-lee-1001"));
        assert_eq!(req.body["status"], json!("prospect"));
        assert_eq!(req.body["source"], json!("Walk-in"), "theirs kept");
        assert_eq!(req.body["first_name"], json!("Ann"));
    }
}
