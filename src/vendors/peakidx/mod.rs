//! PeakIDX (US IDX websites): the body of `GET lead-api/new-leads` and CSV exports with the
//! same column names.
//!
//! Every field is a string and any may be blank. One site belongs to one agent or team, so
//! the agent is the source's `agent` setting. `lead_created_datetime` is the site's local
//! time without a zone (`YYYY-MM-DD HH:MM:SS`): read in the source's `timezone`.
//! `lead_custom_fields` holds `Label: Value` lines; they are kept in `custom` as
//! `custom_fields.<Label>`, and address or buyer/seller labels fill canonical fields.
//!
//! Lead type → kind (our table; PeakIDX documents the four built-in types):
//!
//! | `lead_type`        | kind     |
//! |--------------------|----------|
//! | `Inquiry`          | buyer    |
//! | `Property Inquiry` | buyer    |
//! | `CMA Inquiry`      | seller (a market analysis of their own home) |
//! | `Mortgage Quote`   | mortgage |
//! | a site's own type  | by its words (sell/valuation → seller, rent → renter, …), else buyer |
//!
//! A custom field `Buying or Selling`, `Lead Type`, `Looking To` or `Type` overrides the
//! kind when its value says so. PeakIDX has no status: its leads come from the new-leads
//! feed, so status is `new`.

pub mod write;

use std::collections::BTreeMap;

use compact_str::CompactString;

use crate::extract::Record;
use crate::lead::{non_blank, Kind, Lead, Quality, Status, System};
use crate::reject::Reject;
use crate::vendors::fields::Fields;
use crate::vendors::SourceContext;

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "PeakIDX new-leads dumps and CSV exports; id lead_id; agent from the source's `agent`; naive local timestamps";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "lead_first_name|lead_last_name|lead_email|lead_phone|lead_phone2";

/// Fields read, and where they go.
pub const FIELDS: &[(&str, &str)] = &[
    ("lead_id", "source_id"),
    ("lead_listing_id", "listing_ref"),
    ("lead_type", "kind, kind_raw"),
    ("lead_first_name", "first_name"),
    ("lead_last_name", "last_name"),
    ("lead_email", "email"),
    ("lead_phone", "phone"),
    ("lead_phone2", "phone2"),
    ("lead_created_datetime", "created_at (source timezone)"),
    ("lead_comments", "message"),
    (
        "lead_custom_fields",
        "custom.custom_fields.*; address, city, region, postcode, kind",
    ),
];

/// Reads one PeakIDX record.
pub fn read(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let mut f = Fields::take(record, ctx.place(record));
    let id = f.text("lead_id")?;
    let mut lead = Lead::new(System::Peakidx, ctx.source_ref(record, id));
    lead.listing_ref = f.text("lead_listing_id")?.map(CompactString::from);
    let lead_type = f.text("lead_type")?;
    lead.raw.text_mut().first_name = f.string("lead_first_name")?;
    lead.raw.text_mut().last_name = f.string("lead_last_name")?;
    lead.raw.emails = vec![f.string("lead_email")?.into()];
    lead.raw.phones = vec![
        f.string("lead_phone")?.into(),
        f.string("lead_phone2")?.into(),
    ];
    lead.raw.text_mut().created_at = f.string("lead_created_datetime")?;
    lead.message = f.text("lead_comments")?.map(CompactString::from);
    // Documented as `Label: Value` lines; some dumps carry an object instead.
    let custom = if f.is_object("lead_custom_fields") {
        f.object("lead_custom_fields")?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect()
    } else {
        parse_custom_fields(&f.string("lead_custom_fields")?)
    };

    lead.kind = kind_of(lead_type.as_deref(), &custom);
    lead.kind_raw = lead_type.map(CompactString::from);
    lead.status = Status::New;
    for (label, value) in &custom {
        let target = match label.to_lowercase().as_str() {
            "address" | "street" | "street address" => &mut lead.address,
            "city" | "town" => &mut lead.city,
            "state" | "region" => &mut lead.region,
            "zip" | "zip code" | "zipcode" | "postal code" | "postcode" => &mut lead.postcode,
            "source" | "lead source" => &mut lead.marketing_source,
            _ => {
                lead.set_custom(format!("custom_fields.{label}"), value);
                continue;
            }
        };
        *target = non_blank(value).map(CompactString::from);
    }
    if lead.address.is_some() || lead.city.is_some() || lead.postcode.is_some() {
        lead.country = Some(ctx.country.into());
    }
    if lead.kind == Kind::Unknown {
        lead.quality.insert(Quality::UNKNOWN_KIND);
    }
    ctx.assign_agent(&mut lead, None);
    f.keep_rest(&mut lead);
    Ok(lead)
}

/// `Label: Value` lines → map. A line without a colon continues the previous value; a label
/// given twice keeps both values, joined by `; `.
pub fn parse_custom_fields(text: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    let text = text.replace("\\n", "\n");
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() && !label.contains("//") => {
                let label = label.trim().to_string();
                let value = value.trim().to_string();
                out.entry(label.clone())
                    .and_modify(|v| {
                        v.push_str("; ");
                        v.push_str(&value);
                    })
                    .or_insert(value);
                last = Some(label);
            }
            _ => match last.as_ref().and_then(|l| out.get_mut(l)) {
                Some(v) => {
                    v.push('\n');
                    v.push_str(line);
                }
                None => {
                    out.insert("note".into(), line.to_string());
                    last = Some("note".into());
                }
            },
        }
    }
    out
}

/// The kind a PeakIDX lead type (and its custom fields) say.
pub fn kind_of(lead_type: Option<&str>, custom: &BTreeMap<String, String>) -> Kind {
    const KIND_LABELS: [&str; 5] = [
        "buying or selling",
        "lead type",
        "looking to",
        "type",
        "buyer/seller",
    ];
    for (label, value) in custom {
        if KIND_LABELS.contains(&label.to_lowercase().as_str()) {
            if let Some(k) = kind_from_words(value) {
                return k;
            }
        }
    }
    match lead_type.map(str::trim) {
        None | Some("") => Kind::Buyer,
        Some("Inquiry") | Some("Property Inquiry") => Kind::Buyer,
        Some("CMA Inquiry") => Kind::Seller,
        Some("Mortgage Quote") => Kind::Mortgage,
        Some(custom_type) => kind_from_words(custom_type).unwrap_or(Kind::Buyer),
    }
}

fn kind_from_words(text: &str) -> Option<Kind> {
    let t = text.to_lowercase();
    let both = t.trim() == "both" || t.contains("buy and sell") || t.contains("buying and selling");
    let buy = both || t.contains("buy") || t.contains("purchas");
    let sell = both
        || t.contains("sell")
        || t.contains("valuation")
        || t.contains("cma")
        || t.contains("home value");
    Some(if buy && sell {
        Kind::BuyerAndSeller
    } else if sell {
        Kind::Seller
    } else if t.contains("landlord") {
        Kind::Landlord
    } else if t.contains("rent") || t.contains("lease") {
        Kind::Renter
    } else if t.contains("mortgage") || t.contains("loan") || t.contains("pre-approv") {
        Kind::Mortgage
    } else if buy || t.contains("showing") || t.contains("inquiry") {
        Kind::Buyer
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_lead_types() {
        let none = BTreeMap::new();
        assert_eq!(kind_of(Some("Inquiry"), &none), Kind::Buyer);
        assert_eq!(kind_of(Some("Property Inquiry"), &none), Kind::Buyer);
        assert_eq!(kind_of(Some("CMA Inquiry"), &none), Kind::Seller);
        assert_eq!(kind_of(Some("Mortgage Quote"), &none), Kind::Mortgage);
        assert_eq!(kind_of(Some("Rental Search"), &none), Kind::Renter);
        assert_eq!(kind_of(Some("Open House Signup"), &none), Kind::Buyer);
    }

    #[test]
    fn custom_fields_override_kind() {
        let custom = parse_custom_fields("Buying or Selling: Both\nTimeframe: 3-6 months");
        assert_eq!(kind_of(Some("Inquiry"), &custom), Kind::BuyerAndSeller);
        let custom = parse_custom_fields("Buying or Selling: Buying and selling");
        assert_eq!(kind_of(Some("Inquiry"), &custom), Kind::BuyerAndSeller);
        let custom = parse_custom_fields("Looking To: Sell");
        assert_eq!(kind_of(Some("Inquiry"), &custom), Kind::Seller);
    }

    #[test]
    fn custom_field_lines() {
        let m = parse_custom_fields("Label1: Value1\r\nLabel2: a: b\ncontinued\nLabel1: again\n\n");
        assert_eq!(m["Label1"], "Value1; again");
        assert_eq!(m["Label2"], "a: b\ncontinued");
        assert_eq!(parse_custom_fields("just a note")["note"], "just a note");
    }
}
