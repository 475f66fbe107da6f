//! Lead.Pro payloads: create `POST api/v103/leads`, update `PATCH api/v103/leads/<id>`,
//! both JSON.
//!
//! | kind             | `type`             |
//! |------------------|--------------------|
//! | buyer            | `sale`             |
//! | renter           | `let`              |
//! | seller           | `vendor`           |
//! | landlord         | `landlord`         |
//! | mortgage         | `mortgage_request` |
//! | buyer and seller | `sale` (said on the line) |
//! | unknown          | none: the create is invalid (`type` is required) |
//!
//! Phones are written in national digits for the target region (`07911123456`), E.164
//! otherwise. The agent is the office: `office_id` is the agent's `leadpro` alias. Sale and
//! let leads need `advert_address` and `advert_postcode` unless an `office_id` is given;
//! vendor and landlord leads need `address` and `postcode`. A `source` outside Lead.Pro's
//! list becomes `homepage` (Lead.Pro would do the same; the line says so). `meta` carries
//! the lead's own meta pairs and our `leadrecon_contact_id` (Lead.Pro has no field for an
//! outside id). Messages longer than 255 characters are cut and flagged.
//!
//! An update sends first and last name (required even on PATCH) and the documented
//! updatable fields that changed: addresses and postcodes (up to 255 there), `office_id`,
//! `gdpr_checkbox`, `meta`, `utm_*`. Email, phone, type, source and message are not among
//! them: when those differ the line says so and they are not sent.

use serde_json::{Map, Value};

use crate::dedupe::survive::Contact;
use crate::lead::Kind;
use crate::vendors::write::{
    changed_fields, chars, get, is_empty, phone_for, valid_email, Adjustment, Body, Draft, Op,
    PhoneStyle, Request, Update, Violation, WriteContext,
};

/// Sources Lead.Pro takes; anything else is filed as `homepage`.
pub const SOURCES: [&str; 12] = [
    "rightmove",
    "rightmove_valuation",
    "zoopla",
    "zoopla_valuation",
    "onthemarket",
    "gumtree",
    "s1",
    "lettingweb",
    "propertypal",
    "propertynews",
    "ivt",
    "homepage",
];

/// Lead types.
pub const TYPES: [&str; 5] = ["sale", "vendor", "landlord", "let", "mortgage_request"];

/// Fields a PATCH may carry.
const UPDATABLE: [&str; 12] = [
    "first_name",
    "last_name",
    "address",
    "postcode",
    "advert_address",
    "advert_postcode",
    "office_id",
    "gdpr_checkbox",
    "meta",
    "utm_source",
    "utm_medium",
    "utm_campaign",
];

/// Our kind → a Lead.Pro `type`.
pub fn lead_type(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Buyer | Kind::BuyerAndSeller => "sale",
        Kind::Renter => "let",
        Kind::Seller => "vendor",
        Kind::Landlord => "landlord",
        Kind::Mortgage => "mortgage_request",
        Kind::Unknown => return None,
    })
}

/// The contact's extra fields that a Lead.Pro lead carries: those [`Picked::slot`] names,
/// and the `meta.` ones. Taken in one pass over the contact's fields instead of a search
/// per name: a million contacts' drafts spent most of their time in those searches.
struct Picked<'a> {
    fields: [Option<&'a str>; Picked::SLOTS],
    meta: Vec<(&'a str, &'a str)>,
}

impl<'a> Picked<'a> {
    const SLOTS: usize = 11;

    /// Where a field the draft reads by name is kept.
    fn slot(key: &str) -> Option<usize> {
        Some(match key {
            "title" => 0,
            "advert_address" => 1,
            "advert_postcode" => 2,
            "advert_url" => 3,
            "advert_image" => 4,
            "utm_source" => 5,
            "utm_medium" => 6,
            "utm_campaign" => 7,
            "utm_term" => 8,
            "utm_content" => 9,
            "gdpr_checkbox" => 10,
            _ => return None,
        })
    }

    fn of(c: &'a Contact) -> Picked<'a> {
        let mut picked = Picked {
            fields: [None; Picked::SLOTS],
            meta: Vec::new(),
        };
        for (k, v) in c.custom.iter() {
            if let Some(name) = k.strip_prefix("meta.") {
                picked.meta.push((name, v));
            } else if let Some(i) = Picked::slot(k) {
                picked.fields[i] = Some(v);
            }
        }
        picked
    }

    /// The value of a field [`Picked::slot`] names.
    fn get(&self, key: &str) -> Option<&'a str> {
        let slot = Picked::slot(key);
        debug_assert!(slot.is_some(), "`{key}` has no slot");
        slot.and_then(|i| self.fields[i])
    }
}

/// The contact as a Lead.Pro lead (blank fields left out).
pub fn draft(c: &Contact, ctx: &WriteContext<'_>) -> Result<Draft, String> {
    let mut d = Draft::default();
    d.text_if("type", lead_type(c.kind));
    if c.kind == Kind::BuyerAndSeller {
        d.adjust(
            "type",
            "Lead.Pro has no buyer-and-seller type: sent as sale",
        );
    }
    d.text_if("first_name", c.first_name.as_deref());
    d.text_if("last_name", c.last_name.as_deref());
    d.text_if("email", c.email.as_deref());
    let phone = c
        .phone
        .as_deref()
        .and_then(|p| phone_for(p, ctx.region, PhoneStyle::NationalDigits));
    d.text_if("phone", phone.as_deref());
    let picked = Picked::of(c);
    let custom = |k: &str| picked.get(k);
    d.text_if("title", custom("title"));
    d.text_if("advert_address", custom("advert_address"));
    d.text_if("advert_postcode", custom("advert_postcode"));
    d.text_if(
        "advert_url",
        custom("advert_url").or(c.listing_ref.as_deref().filter(|r| r.starts_with("http"))),
    );
    d.text_if("advert_image", custom("advert_image"));
    if c.message.is_some() {
        d.truncated(
            "message",
            c.message.as_deref(),
            255,
            "Lead.Pro: message length max 255",
        );
    }
    d.text_if("address", c.address.as_deref());
    d.text_if("postcode", c.postcode.as_deref());
    for k in [
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    ] {
        d.text_if(k, custom(k));
    }
    if let Some(g) = custom("gdpr_checkbox") {
        d.body
            .insert("gdpr_checkbox".into(), Value::Bool(g == "true"));
    }
    if let Ok(alias) = ctx.agent_alias(c) {
        match alias.trim().parse::<u64>() {
            Ok(n) => {
                d.body.insert("office_id".into(), Value::from(n));
            }
            Err(_) => d.adjust(
                "office_id",
                format!("office `{alias}` is not a Lead.Pro office id (a number): not sent"),
            ),
        }
    }
    let source = c.marketing_source.as_deref().map(|s| {
        let key = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        (s, SOURCES.iter().find(|x| **x == key).copied())
    });
    match source {
        Some((_, Some(known))) => d.text("source", Some(known)),
        Some((raw, None)) => {
            d.text("source", Some("homepage"));
            d.adjust(
                "source",
                format!("`{raw}` is not a Lead.Pro source: sent as homepage, Lead.Pro's default"),
            );
        }
        None => {}
    }
    let mut meta = Map::new();
    for (name, v) in picked.meta {
        meta.insert(name.to_string(), Value::String(v.to_string()));
    }
    meta.insert(
        "leadrecon_contact_id".into(),
        Value::String(c.contact_id.to_string()),
    );
    d.body.insert("meta".into(), Value::Object(meta));
    Ok(d)
}

/// A new lead.
pub fn create(d: &mut Draft, _c: &Contact, _ctx: &WriteContext<'_>) -> Request {
    Request {
        op: Op::Create,
        method: "POST",
        path: "api/v103/leads".into(),
        content_type: "application/json",
        body: std::mem::take(&mut d.body),
    }
}

/// First and last name, and the updatable fields that changed.
pub fn update(d: &Draft, current: &Body, target_id: &str, _ctx: &WriteContext<'_>) -> Update {
    let mut changed = changed_fields(&d.body, current, &[]);
    // Our own contact id in meta is not a change of the lead.
    if changed.iter().any(|f| f == "meta") {
        let strip = |b: &Body| {
            b.get("meta").and_then(Value::as_object).map(|m| {
                let mut m = m.clone();
                m.remove("leadrecon_contact_id");
                m
            })
        };
        if strip(&d.body) == strip(current) || strip(&d.body).is_none_or(|m| m.is_empty()) {
            changed.retain(|f| f != "meta");
        }
    }
    let (send, not_sent): (Vec<String>, Vec<String>) = changed
        .into_iter()
        .partition(|f| UPDATABLE.contains(&f.as_str()) || f.starts_with("utm_"));
    if send.is_empty() {
        return None;
    }
    let mut body = Body::new();
    for f in ["first_name", "last_name"] {
        let v = if get(&d.body, f).is_empty() {
            get(current, f)
        } else {
            get(&d.body, f)
        };
        body.insert(f.into(), v.into());
    }
    for f in &send {
        body.insert(f.as_str().into(), d.body[f.as_str()].clone());
    }
    let notes = not_sent
        .into_iter()
        .map(|f| Adjustment {
            field: f,
            note: "differs, but Lead.Pro documents no update of this field: not sent".into(),
        })
        .collect();
    Some((
        Request {
            op: Op::Update,
            method: "PATCH",
            path: format!("api/v103/leads/{target_id}"),
            content_type: "application/json",
            body,
        },
        notes,
    ))
}

fn length(out: &mut Vec<Violation>, b: &Body, field: &str, min: usize, max: usize) {
    let present = b.get(field).is_some_and(|v| !v.is_null());
    let n = chars(b, field);
    if present && (n < min || n > max) {
        let rule = if min > 0 {
            format!("length : min {min} max {max}")
        } else {
            format!("length : max {max}")
        };
        out.push(Violation::new(field, rule));
    }
}

fn string_object(out: &mut Vec<Violation>, b: &Body, field: &str, max_bytes: usize) {
    if let Some(v) = b.get(field) {
        let ok = v
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
            && serde_json::to_string(v).map_or(0, |s| s.len()) <= max_bytes;
        if !ok {
            out.push(Violation::new(
                field,
                format!("max JSON byte size {max_bytes}, object with only string values"),
            ));
        }
    }
}

/// Lead.Pro's documented rules for the request's operation.
pub fn validate(r: &Request) -> Vec<Violation> {
    let b = &r.body;
    let mut out = Vec::new();
    let has = |f: &str| b.get(f).is_some_and(|v| !is_empty(v));
    if r.op == Op::Create {
        for f in ["first_name", "last_name", "email", "phone", "type"] {
            if !has(f) {
                out.push(Violation::new(f, "required"));
            }
        }
    } else {
        for f in ["first_name", "last_name"] {
            if !has(f) {
                out.push(Violation::new(f, "required (even on update)"));
            }
        }
    }
    length(&mut out, b, "first_name", 1, 50);
    length(&mut out, b, "last_name", 1, 50);
    length(&mut out, b, "title", 1, 50);
    if has("email") && !valid_email(get(b, "email")) {
        out.push(Violation::new("email", "must be valid email address"));
    }
    length(&mut out, b, "phone", 0, 255);
    if has("type") && !TYPES.contains(&get(b, "type")) {
        out.push(Violation::new(
            "type",
            "either : 'sale', 'vendor', 'landlord', 'let', 'mortgage_request'",
        ));
    }
    let (address_max, postcode_max) = if r.op == Op::Create {
        (100, 10)
    } else {
        (255, 255)
    };
    length(&mut out, b, "advert_address", 0, address_max);
    length(&mut out, b, "address", 0, address_max);
    length(&mut out, b, "advert_postcode", 2, postcode_max);
    length(&mut out, b, "postcode", 2, postcode_max);
    for f in ["advert_url", "advert_image", "message", "host"] {
        length(&mut out, b, f, 0, 255);
    }
    string_object(&mut out, b, "meta", 1024);
    if let Some(v) = b.get("office_id") {
        if !v.is_u64() {
            out.push(Violation::new(
                "office_id",
                "number: has to match an officeID in the account",
            ));
        }
    }
    if has("source") && !SOURCES.contains(&get(b, "source")) {
        out.push(Violation::new(
            "source",
            "possible values : 'rightmove', 'rightmove_valuation', 'zoopla', 'zoopla_valuation', 'onthemarket', 'gumtree', 's1', 'lettingweb', 'propertypal', 'propertynews', 'ivt', 'homepage'",
        ));
    }
    if r.op == Op::Create {
        match get(b, "type") {
            "sale" | "let" if !has("office_id") => {
                for f in ["advert_address", "advert_postcode"] {
                    if !has(f) {
                        out.push(Violation::new(
                            f,
                            "For Sale and Let leads, ensure the advert address fields are populated (or give office_id)",
                        ));
                    }
                }
            }
            "vendor" | "landlord" => {
                for f in ["address", "postcode"] {
                    if !has(f) {
                        out.push(Violation::new(
                            f,
                            "For Vendor and Landlord leads, populate the 'address' and 'postcode' fields",
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::System;
    use crate::vendors::write::tests_support::{contact, ctx_for, request as req, roster};
    use serde_json::json;

    fn uk_contact() -> Contact {
        let mut c = contact();
        c.phone = Some("+447911123456".into());
        c.postcode = Some("SW1A 1AA".into());
        c.marketing_source = Some("Rightmove".into());
        c.custom.insert("meta.Property ID", "7071");
        c
    }

    #[test]
    fn create_body() {
        let r = roster();
        let ctx = ctx_for(System::Leadpro, "GB", &r);
        let c = uk_contact();
        let mut d = draft(&c, &ctx).unwrap();
        let req = create(&mut d, &c, &ctx);
        assert_eq!(req.body["type"], json!("sale"));
        assert_eq!(req.body["phone"], json!("07911123456"));
        assert_eq!(req.body["office_id"], json!(1213));
        assert_eq!(req.body["source"], json!("rightmove"));
        assert_eq!(
            req.body["meta"],
            json!({"Property ID": "7071", "leadrecon_contact_id": "c-0123456789ab"})
        );
        assert!(validate(&req).is_empty(), "{:?}", validate(&req));
    }

    #[test]
    fn unknown_source_becomes_homepage_and_is_said() {
        let r = roster();
        let ctx = ctx_for(System::Leadpro, "GB", &r);
        let mut c = uk_contact();
        c.marketing_source = Some("Facebook".into());
        let d = draft(&c, &ctx).unwrap();
        assert_eq!(d.body["source"], json!("homepage"));
        assert!(d.adjustments.iter().any(|a| a.field == "source"));
    }

    fn fields(r: &Request) -> Vec<String> {
        validate(r).into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn each_documented_rule() {
        let ok = json!({"type": "vendor", "first_name": "Ann", "last_name": "Lee",
            "email": "ann@x.com", "phone": "07911123456", "address": "1 High St",
            "postcode": "SW1A 1AA"});
        assert!(fields(&req(Op::Create, ok.clone())).is_empty());
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            req(Op::Create, b)
        };
        assert_eq!(
            fields(&with("first_name", json!(""))),
            ["first_name", "first_name"]
        );
        assert_eq!(
            fields(&with("last_name", json!("x".repeat(51)))),
            ["last_name"]
        );
        assert_eq!(fields(&with("email", json!("ann@x"))), ["email"]);
        assert_eq!(fields(&with("type", json!("buyer"))), ["type"]);
        assert_eq!(fields(&with("postcode", json!("S"))), ["postcode"]);
        assert_eq!(
            fields(&with("postcode", json!("SW1A 1AA 12345"))),
            ["postcode"]
        );
        assert_eq!(
            fields(&with("address", json!("a".repeat(101)))),
            ["address"]
        );
        assert_eq!(
            fields(&with("message", json!("m".repeat(256)))),
            ["message"]
        );
        assert_eq!(fields(&with("meta", json!({"n": 1}))), ["meta"]);
        assert_eq!(
            fields(&with("meta", json!({"k": "v".repeat(1100)}))),
            ["meta"]
        );
        assert_eq!(fields(&with("office_id", json!("12"))), ["office_id"]);
        assert_eq!(fields(&with("source", json!("facebook"))), ["source"]);
        // Conditional address rules.
        assert_eq!(fields(&with("address", json!(""))), ["address"]);
        let sale = with("type", json!("sale"));
        assert_eq!(fields(&sale), ["advert_address", "advert_postcode"]);
        let mut routed = sale.clone();
        routed.body.insert("office_id".into(), json!(1213));
        assert!(fields(&routed).is_empty());
        // Updates: names required, addresses up to 255.
        let upd = req(
            Op::Update,
            json!({"first_name": "Ann", "last_name": "Lee",
            "address": "a".repeat(200)}),
        );
        assert!(fields(&upd).is_empty());
        let upd = req(Op::Update, json!({"address": "x"}));
        assert_eq!(fields(&upd), ["first_name", "last_name"]);
    }

    #[test]
    fn update_sends_names_and_what_changed() {
        let r = roster();
        let ctx = ctx_for(System::Leadpro, "GB", &r);
        let c = uk_contact();
        let d = draft(&c, &ctx).unwrap();
        let mut current = d.body.clone();
        current.insert("meta".into(), json!({"Property ID": "7071"}));
        assert!(
            update(&d, &current, "500825", &ctx).is_none(),
            "our id alone is no change"
        );
        current.insert("postcode".into(), "SW1A 2BB".into());
        current.insert("email".into(), "old@x.com".into());
        let (req, notes) = update(&d, &current, "500825", &ctx).unwrap();
        assert_eq!(req.method, "PATCH");
        assert_eq!(req.path, "api/v103/leads/500825");
        assert_eq!(
            Value::from(req.body),
            json!({"first_name": "Ann", "last_name": "Lee", "postcode": "SW1A 1AA"})
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].field, "email");
    }
}
