//! PeakIDX payloads: `POST lead-api/create-lead` with the eleven form fields, all present,
//! blanks allowed; the same endpoint updates the lead its `lead_id` names.
//!
//! One site belongs to one agent: the site is the agent's `peakidx` alias in the roster
//! (`idx_site_id` in the path; the `api_key` is added by whoever sends). A contact whose
//! agent has no site is skipped. Creates leave `lead_id` blank (PeakIDX gives the id);
//! updates carry the site's `lead_id` and re-post every field, the site's value kept
//! where we have none. `lead_created_datetime` is the site's local time, never updated.
//!
//! | kind               | `lead_type`                                       |
//! |--------------------|---------------------------------------------------|
//! | buyer              | `Property Inquiry` with a listing, else `Inquiry` |
//! | seller             | `CMA Inquiry`                                     |
//! | mortgage           | `Mortgage Quote`                                  |
//! | others, unknown    | `Inquiry`, and `Lead Type: <kind>` in custom fields |
//!
//! What has no field of its own (second email, address, status, source) goes to
//! `lead_custom_fields` as `Label: Value` lines.

use crate::dedupe::survive::Contact;
use crate::lead::{Kind, Status};
use crate::vendors::write::{
    changed_fields, get, overlay, phone_for, Body, Draft, Op, PhoneStyle, Request, Update,
    Violation, WriteContext,
};

/// The form fields, in the documented order.
pub const FIELDS: [&str; 11] = [
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

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Our kind → a PeakIDX lead type (and the custom-field line when the type cannot say it).
pub fn lead_type(kind: Kind, has_listing: bool) -> (&'static str, Option<&'static str>) {
    match kind {
        Kind::Buyer if has_listing => ("Property Inquiry", None),
        Kind::Buyer => ("Inquiry", None),
        Kind::Seller => ("CMA Inquiry", None),
        Kind::Mortgage => ("Mortgage Quote", None),
        Kind::BuyerAndSeller => ("Inquiry", Some("Buyer and Seller")),
        Kind::Renter => ("Inquiry", Some("Renter")),
        Kind::Landlord => ("Inquiry", Some("Landlord")),
        Kind::Unknown => ("Inquiry", None),
    }
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The contact as PeakIDX form fields.
pub fn draft(c: &Contact, ctx: &WriteContext<'_>) -> Result<Draft, String> {
    let site = ctx
        .agent_alias(c)
        .map_err(|why| format!("PeakIDX sites belong to one agent each: {why}"))?;
    let mut d = Draft {
        route: site,
        ..Draft::default()
    };
    let (ty, kind_line) = lead_type(c.kind, c.listing_ref.is_some());
    d.text("lead_id", None);
    d.text("lead_listing_id", c.listing_ref.as_deref());
    d.text("lead_type", Some(ty));
    d.text("lead_first_name", c.first_name.as_deref());
    d.text("lead_last_name", c.last_name.as_deref());
    d.text("lead_email", c.email.as_deref());
    let phone = |p: &Option<compact_str::CompactString>| {
        p.as_deref()
            .and_then(|p| phone_for(p, ctx.region, PhoneStyle::National))
    };
    d.text("lead_phone", phone(&c.phone).as_deref());
    d.text("lead_phone2", phone(&c.phone2).as_deref());
    let created = c.created_at.map(|t| match ctx.timezone {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string(),
        None => t.format("%Y-%m-%d %H:%M:%S").to_string(),
    });
    d.text("lead_created_datetime", created.as_deref());
    d.text("lead_comments", c.message.as_deref());
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(k) = kind_line {
        lines.push(("Lead Type", k.to_string()));
    }
    if c.status != Status::Unknown {
        lines.push(("Status", c.status.as_str().to_string()));
    }
    for (label, value) in [
        ("Second Email", &c.email2),
        ("Address", &c.address),
        ("City", &c.city),
        ("State", &c.region),
        ("Zip", &c.postcode),
        ("Source", &c.marketing_source),
    ] {
        if let Some(v) = value {
            lines.push((label, v.to_string()));
        }
    }
    let mut text = Vec::with_capacity(lines.len());
    for (label, value) in lines {
        let flat = one_line(&value);
        if flat != value.trim() {
            d.adjust(
                "lead_custom_fields",
                format!("{label}: line breaks replaced by spaces (one line per custom field)"),
            );
        }
        text.push(format!("{label}: {flat}"));
    }
    d.text("lead_custom_fields", Some(&text.join("\n")));
    Ok(d)
}

fn path(site: &str) -> String {
    format!("lead-api/create-lead?idx_site_id={site}")
}

/// A new lead: every field, `lead_id` blank.
pub fn create(d: &mut Draft, _c: &Contact, _ctx: &WriteContext<'_>) -> Request {
    Request {
        op: Op::Create,
        method: "POST",
        path: path(&d.route),
        content_type: CONTENT_TYPE,
        body: std::mem::take(&mut d.body),
    }
}

/// The site's lead `lead_id` re-posted with what changed (every field present).
pub fn update(d: &Draft, current: &Body, target_id: &str, _ctx: &WriteContext<'_>) -> Update {
    const KEEP: [&str; 2] = ["lead_id", "lead_created_datetime"];
    if changed_fields(&d.body, current, &KEEP).is_empty() {
        return None;
    }
    let mut body = overlay(current, &d.body, &KEEP);
    body.insert("lead_id".into(), target_id.into());
    Some((
        Request {
            op: Op::Update,
            method: "POST",
            path: path(&d.route),
            content_type: CONTENT_TYPE,
            body,
        },
        Vec::new(),
    ))
}

/// PeakIDX's rules: every field present (blank allowed), text only; the creation time as
/// `YYYY-MM-DD HH:MM:SS`; custom fields as `Label: Value` lines; an update names its lead.
pub fn validate(r: &Request) -> Vec<Violation> {
    let mut out = Vec::new();
    for f in FIELDS {
        match r.body.get(f) {
            Some(v) if v.is_string() => {}
            Some(_) => out.push(Violation::new(f, "form fields are text")),
            None => out.push(Violation::new(
                f,
                "you should include all fields for consistency, you may leave the values blank",
            )),
        }
    }
    if let Some(extra) = r.body.keys().find(|k| !FIELDS.contains(k)) {
        out.push(Violation::new(extra, "not a create-lead form field"));
    }
    let created = get(&r.body, "lead_created_datetime");
    if !created.is_empty()
        && chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_err()
    {
        out.push(Violation::new(
            "lead_created_datetime",
            "Timestamp of lead creation, as 2024-03-22 12:00:00",
        ));
    }
    let custom = get(&r.body, "lead_custom_fields");
    if custom
        .lines()
        .any(|l| !l.trim().is_empty() && !l.contains(": "))
    {
        out.push(Violation::new(
            "lead_custom_fields",
            "lead_custom_fields value format should be as follows: Label1: Value1",
        ));
    }
    if r.op == Op::Update && get(&r.body, "lead_id").is_empty() {
        out.push(Violation::new(
            "lead_id",
            "Unique identifier for the lead: needed to update an existing lead",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::write::tests_support::{contact, ctx_for};
    use serde_json::json;

    #[test]
    fn every_field_present_and_custom_lines() {
        let roster = crate::vendors::write::tests_support::roster();
        let ctx = ctx_for(crate::lead::System::Peakidx, "US", &roster);
        let c = contact();
        let mut d = draft(&c, &ctx).unwrap();
        let r = create(&mut d, &c, &ctx);
        assert_eq!(r.path, "lead-api/create-lead?idx_site_id=lakeside-homes");
        for f in FIELDS {
            assert!(r.body.contains_key(f), "{f}");
        }
        assert_eq!(r.body["lead_phone"], json!("(312) 555-0142"));
        assert_eq!(r.body["lead_type"], json!("Property Inquiry"));
        assert_eq!(
            r.body["lead_created_datetime"],
            json!("2025-03-01 09:30:00")
        );
        assert!(get(&r.body, "lead_custom_fields").contains("Zip: 60611"));
        assert!(validate(&r).is_empty(), "{:?}", validate(&r));
    }

    #[test]
    fn rules_reject_what_they_should() {
        let mut r = Request {
            op: Op::Update,
            method: "POST",
            path: path("s"),
            content_type: CONTENT_TYPE,
            body: Body::new(),
        };
        for f in FIELDS {
            r.body.insert(f.into(), "".into());
        }
        assert_eq!(validate(&r).len(), 1, "an update needs lead_id");
        r.body.insert("lead_id".into(), "12345".into());
        assert!(validate(&r).is_empty());
        r.body.remove("lead_phone2");
        r.body
            .insert("lead_created_datetime".into(), "03/22/2024".into());
        r.body
            .insert("lead_custom_fields".into(), "no label here".into());
        let fields: Vec<String> = validate(&r).into_iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            ["lead_phone2", "lead_created_datetime", "lead_custom_fields"]
        );
    }

    #[test]
    fn a_contact_without_a_site_is_skipped() {
        let roster = crate::vendors::write::tests_support::roster();
        let ctx = ctx_for(crate::lead::System::Peakidx, "US", &roster);
        let mut c = contact();
        c.agent_id = Some("a-0003".into());
        assert!(draft(&c, &ctx).unwrap_err().contains("no peakidx alias"));
    }

    #[test]
    fn update_only_when_something_changed() {
        let roster = crate::vendors::write::tests_support::roster();
        let ctx = ctx_for(crate::lead::System::Peakidx, "US", &roster);
        let c = contact();
        let d = draft(&c, &ctx).unwrap();
        assert!(update(&d, &d.body, "100", &ctx).is_none());
        let mut current = d.body.clone();
        current.insert("lead_phone2".into(), "(312) 555-0100".into());
        current.insert("lead_email".into(), "old@x.com".into());
        let (r, _) = update(&d, &current, "100", &ctx).unwrap();
        assert_eq!(r.body["lead_id"], json!("100"));
        assert_eq!(r.body["lead_email"], json!("ann.lee@gmail.com"));
        assert_eq!(r.body["lead_phone2"], json!("(312) 555-0100"), "kept");
    }
}
