//! Lead.Pro (UK estate-agency lead management): webhook deliveries
//! `{"event": "lead.created" | "lead.updated", "data": {lead}}` and plain dumps of lead
//! bodies (API v103 field names), as JSON arrays, JSON Lines or CSV.
//!
//! The id is the numeric `id`. Deliveries of one lead fold in file order (later updates
//! win). A lead may carry only `full_name`. Lead.Pro routes leads to offices, so
//! `office_id` is the agent alias. Sale/let leads carry the property they ask about in
//! `advert_*` (→ `listing_ref`, `custom.advert_*`); every lead's own address is
//! `address`/`postcode`.
//!
//! `type` → kind:
//!
//! | `type`             | kind     |
//! |--------------------|----------|
//! | `sale`             | buyer    |
//! | `let`              | renter   |
//! | `vendor`           | seller   |
//! | `landlord`         | landlord |
//! | `mortgage_request` | mortgage |
//!
//! `status` has no documented vocabulary (the update example sends `Contacted`); its
//! words map through our common vocabulary (`new`, `contacted`, …) and anything else is
//! `unknown` with the text kept in `status_raw`.

pub mod write;

use compact_str::CompactString;
use serde_json::Value;

use crate::extract::Record;
use crate::lead::{non_blank, Kind, Lead, Quality, Status, System};
use crate::reject::{Reason, Reject, Stage};
use crate::vendors::fields::{keep_in_custom, Fields};
use crate::vendors::SourceContext;

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "Lead.Pro webhook deliveries (lead.created/lead.updated) and lead dumps; id `id`; agent from office_id";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "first_name|last_name|full_name|email|phone";

/// Fields read, and where they go.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "event",
        "webhook delivery: lead.created | lead.updated (later wins)",
    ),
    ("data", "webhook delivery: the lead"),
    ("id", "source_id"),
    ("type", "kind, kind_raw"),
    ("title", "custom.title"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("full_name", "full_name (split when first/last are missing)"),
    ("email", "email"),
    ("phone", "phone"),
    (
        "advert_address",
        "listing_ref (with advert_postcode), custom.advert_address",
    ),
    ("advert_postcode", "custom.advert_postcode"),
    ("advert_url", "listing_ref, custom.advert_url"),
    ("advert_image", "custom.advert_image"),
    ("message", "message"),
    (
        "appointment_availability",
        "custom.appointment_availability",
    ),
    ("meta", "custom.meta.*"),
    ("questionnaire", "custom.questionnaire.<question>"),
    ("gdpr_checkbox", "custom.gdpr_checkbox"),
    ("host", "custom.host"),
    ("office_id", "agent_id (roster leadpro alias)"),
    ("address", "address"),
    ("postcode", "postcode"),
    ("source", "marketing_source"),
    ("international", "custom.international"),
    (
        "utm_source, utm_campaign, utm_medium, utm_term, utm_content",
        "custom.utm_*",
    ),
    ("property_type", "custom.property_type"),
    ("status", "status, status_raw"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
];

/// A webhook delivery is a record although it has a `data` key.
pub fn is_record(has: &dyn Fn(&str) -> bool) -> bool {
    has("event")
}

/// Reads one Lead.Pro record (a delivery or a plain lead body).
pub fn read(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let mut outer = Fields::take(record, ctx.place(record));
    let mut f = if outer.has("event") {
        let event = outer.string("event")?;
        if !event.starts_with("lead.") {
            return Err(outer.reject(
                Stage::Validate,
                Reason::NotARecord,
                "event",
                format!("webhook event `{event}` does not carry a lead"),
            ));
        }
        match outer.object("data")? {
            Some(data) => outer.nested(data),
            None => {
                return Err(outer.reject(
                    Stage::Parse,
                    Reason::WrongType,
                    "data",
                    "the webhook delivery has no `data` object",
                ))
            }
        }
    } else {
        outer
    };

    let id = f.text("id")?;
    let mut lead = Lead::new(System::Leadpro, ctx.source_ref(record, id));
    let lead_type = f.text("type")?;
    lead.kind = lead_type.as_deref().map_or(Kind::Unknown, kind_of);
    if lead_type.is_some() && lead.kind == Kind::Unknown {
        lead.quality.insert(Quality::UNKNOWN_KIND);
    }
    lead.kind_raw = lead_type.map(CompactString::from);
    lead.raw.text_mut().first_name = f.string("first_name")?;
    lead.raw.text_mut().last_name = f.string("last_name")?;
    lead.raw.text_mut().full_name = f.string("full_name")?;
    lead.raw.emails = vec![f.string("email")?.into()];
    lead.raw.phones = vec![f.string("phone")?.into()];
    lead.raw.text_mut().created_at = f.string("created_at")?;
    lead.raw.text_mut().updated_at = f.string("updated_at")?;
    lead.message = f.text("message")?.map(CompactString::from);
    lead.address = f.text("address")?.map(CompactString::from);
    lead.postcode = f
        .text("postcode")?
        .map(|p| p.trim().to_uppercase())
        .map(CompactString::from);
    lead.marketing_source = f.text("source")?.map(CompactString::from);
    let status = f.text("status")?;
    lead.status = status.as_deref().map_or(Status::Unknown, |s| {
        Status::from_common(s).unwrap_or(Status::Unknown)
    });
    if status.is_some() && lead.status == Status::Unknown {
        lead.quality.insert(Quality::UNKNOWN_STATUS);
    }
    lead.status_raw = status.map(CompactString::from);

    let advert_address = f.text("advert_address")?;
    let advert_postcode = f.text("advert_postcode")?;
    let advert_url = f.text("advert_url")?;
    lead.listing_ref = advert_url
        .clone()
        .or_else(|| {
            let parts: Vec<&str> = [advert_address.as_deref(), advert_postcode.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            non_blank(parts.join(", "))
        })
        .map(CompactString::from);
    for (k, v) in [
        ("advert_address", advert_address),
        ("advert_postcode", advert_postcode),
        ("advert_url", advert_url),
    ] {
        if let Some(v) = v {
            lead.set_custom(k, v);
        }
    }
    if let Some(meta) = f.object("meta")? {
        keep_in_custom(&mut lead, "meta.", meta);
    }
    if let Some(answers) = f.list("questionnaire")? {
        for (i, pair) in answers.iter().enumerate() {
            match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(q), Value::String(a)]) => {
                    lead.set_custom(format!("questionnaire.{q}"), a.as_str())
                }
                _ => lead.set_custom(format!("questionnaire.{}", i + 1), pair.to_string()),
            }
        }
    }
    let office = f.text("office_id")?;
    ctx.assign_agent(&mut lead, office.as_deref());
    if lead.address.is_some() || lead.postcode.is_some() {
        lead.country = Some(ctx.country.into());
    }
    f.keep_rest(&mut lead);
    Ok(lead)
}

/// A Lead.Pro `type` → kind.
pub fn kind_of(lead_type: &str) -> Kind {
    match lead_type.trim().to_ascii_lowercase().as_str() {
        "sale" => Kind::Buyer,
        "let" => Kind::Renter,
        "vendor" => Kind::Seller,
        "landlord" => Kind::Landlord,
        "mortgage_request" => Kind::Mortgage,
        _ => Kind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_types() {
        assert_eq!(kind_of("sale"), Kind::Buyer);
        assert_eq!(kind_of("let"), Kind::Renter);
        assert_eq!(kind_of("vendor"), Kind::Seller);
        assert_eq!(kind_of("landlord"), Kind::Landlord);
        assert_eq!(kind_of("mortgage_request"), Kind::Mortgage);
        assert_eq!(kind_of("valuation"), Kind::Unknown);
    }

    #[test]
    fn documented_status_example() {
        assert_eq!(Status::from_common("Contacted"), Some(Status::Contacted));
    }
}
