//! Generic CSV (`csv`): any CSV whose columns the pipeline file maps to canonical fields in
//! `[sources.columns]` (canonical field = column name). Unmapped columns are kept in
//! `custom` under their own names. `kind` and `status` columns are read in our own
//! vocabulary and its common synonyms (`buy`, `tenant`, `lost`, …).

use compact_str::CompactString;

use crate::extract::Record;
use crate::lead::{non_blank, Kind, Lead, Quality, Status, System};
use crate::reject::Reject;
use crate::vendors::fields::Fields;
use crate::vendors::SourceContext;

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "Any CSV (or JSON) with a [sources.columns] mapping; id from the mapped source_id column, else file:line";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "first_name|last_name|full_name|email|email2|phone|phone2";

/// The canonical fields a column can be mapped to, and what they mean.
pub const FIELDS: &[(&str, &str)] = &[
    ("source_id", "the record's id (lead_key csv:<id>)"),
    ("agent", "agent id or alias (roster)"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("full_name", "full_name (split when first/last are missing)"),
    ("email", "email"),
    ("email2", "email2"),
    ("phone", "phone"),
    ("phone2", "phone2"),
    ("kind", "kind (our words and synonyms), kind_raw"),
    ("status", "status (our words and synonyms), status_raw"),
    ("marketing_source", "marketing_source"),
    ("listing_ref", "listing_ref"),
    ("address", "address"),
    ("city", "city"),
    ("region", "region"),
    ("postcode", "postcode"),
    ("country", "country"),
    ("message", "message"),
    ("tags", "tags (separated by | ; or ,)"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
];

/// The mapped columns that name a person or a way to reach one (`|`-separated).
pub fn identity_columns(columns: &std::collections::BTreeMap<String, String>) -> String {
    IDENTITY
        .split('|')
        .filter_map(|f| columns.get(f).map(String::as_str))
        .collect::<Vec<_>>()
        .join("|")
}

/// Whether `field` is a canonical field a column can be mapped to.
pub fn is_mappable(field: &str) -> bool {
    FIELDS.iter().any(|(f, _)| *f == field)
}

/// Reads one mapped CSV row.
pub fn read(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let mut f = Fields::take(record, ctx.place(record));
    let mut col = |field: &str| -> Result<Option<String>, Reject> {
        match ctx.columns.get(field) {
            Some(column) => f.text(column),
            None => Ok(None),
        }
    };
    let id = col("source_id")?;
    let mut lead = Lead::new(System::Csv, ctx.source_ref(record, id));
    lead.raw.text_mut().first_name = col("first_name")?.unwrap_or_default();
    lead.raw.text_mut().last_name = col("last_name")?.unwrap_or_default();
    lead.raw.text_mut().full_name = col("full_name")?.unwrap_or_default();
    lead.raw.emails = vec![
        col("email")?.unwrap_or_default().into(),
        col("email2")?.unwrap_or_default().into(),
    ];
    lead.raw.phones = vec![
        col("phone")?.unwrap_or_default().into(),
        col("phone2")?.unwrap_or_default().into(),
    ];
    lead.raw.text_mut().created_at = col("created_at")?.unwrap_or_default();
    lead.raw.text_mut().updated_at = col("updated_at")?.unwrap_or_default();
    let kind = col("kind")?;
    lead.kind = kind
        .as_deref()
        .and_then(Kind::from_common)
        .unwrap_or_default();
    if kind.is_some() && lead.kind == Kind::Unknown {
        lead.quality.insert(Quality::UNKNOWN_KIND);
    }
    lead.kind_raw = kind.map(CompactString::from);
    let status = col("status")?;
    lead.status = status
        .as_deref()
        .and_then(Status::from_common)
        .unwrap_or_default();
    if status.is_some() && lead.status == Status::Unknown {
        lead.quality.insert(Quality::UNKNOWN_STATUS);
    }
    lead.status_raw = status.map(CompactString::from);
    lead.marketing_source = col("marketing_source")?.map(CompactString::from);
    lead.listing_ref = col("listing_ref")?.map(CompactString::from);
    lead.address = col("address")?.map(CompactString::from);
    lead.city = col("city")?.map(CompactString::from);
    lead.region = col("region")?.map(CompactString::from);
    lead.postcode = col("postcode")?.map(CompactString::from);
    lead.message = col("message")?.map(CompactString::from);
    if let Some(tags) = col("tags")? {
        for tag in tags.split(['|', ';', ',']) {
            lead.add_tag(tag);
        }
    }
    let country = col("country")?;
    let agent = col("agent")?;
    lead.country = country
        .and_then(non_blank)
        .map(|c| CompactString::from(c.to_uppercase()))
        .or_else(|| {
            (lead.address.is_some() || lead.city.is_some() || lead.postcode.is_some())
                .then(|| ctx.country.into())
        });
    ctx.assign_agent(&mut lead, agent.as_deref());
    f.keep_rest(&mut lead);
    Ok(lead)
}
