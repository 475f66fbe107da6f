//! Epixel "Leads & CRM": responses of `GET leads/list/` (offset/limit pages, often one
//! response per file or per line) and `GET leads/view/lead/`, each an envelope
//! `{"status_code": 200, "errors": {}, "data": …}` whose `data` holds one lead, a list, or
//! a page `{"count", "next", "previous", "results": […]}` (unwrapped by the extract stage;
//! an envelope reporting an error becomes an `error_response` reject). CSV exports with the
//! same field names are read too.
//!
//! The id is `slug`; the agent is `assignee` (a username, or an object with `username`).
//! Phones are digits only (`999999999`, up to 15) and may lack the country code: the
//! source's `region` supplies it. The creation date's field name is not documented:
//! `created`, `created_at`, `created_date`, `date_created`, `creation_date` and
//! `created_on` are read.
//!
//! `status` → status (the documented choices; an install may add its own):
//!
//! | `status`    | status    |
//! |-------------|-----------|
//! | `prospect`  | new       |
//! | `contact`   | contacted |
//! | `potential` | active    |
//! | `tentative` | nurture   |
//! | `customer`  | closed    |
//! | `closed`    | closed    |
//!
//! Epixel leads carry no type: kind is `unknown`.

pub mod write;

use compact_str::CompactString;
use serde_json::Value;

use crate::extract::Record;
use crate::lead::{Lead, Quality, Status, System};
use crate::reject::Reject;
use crate::vendors::fields::Fields;
use crate::vendors::SourceContext;

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "Epixel leads/list and lead detail responses (status_code/errors/data envelopes, paged results); id slug; agent from assignee";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "first_name|last_name|email|phone";

/// Fields read, and where they go.
pub const FIELDS: &[(&str, &str)] = &[
    ("slug", "source_id"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("email", "email"),
    ("phone", "phone (digits; region from the source)"),
    ("status", "status, status_raw"),
    ("source", "marketing_source"),
    ("location", "address"),
    ("message", "message"),
    ("assignee", "agent_id (roster epixel username)"),
    (
        "created, created_at, created_date, date_created, creation_date, created_on",
        "created_at",
    ),
    (
        "updated, updated_at, modified, modified_at, updated_on",
        "updated_at",
    ),
];

const CREATED: [&str; 6] = [
    "created",
    "created_at",
    "created_date",
    "date_created",
    "creation_date",
    "created_on",
];
const UPDATED: [&str; 5] = [
    "updated",
    "updated_at",
    "modified",
    "modified_at",
    "updated_on",
];

/// Reads one Epixel lead.
pub fn read(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let mut f = Fields::take(record, ctx.place(record));
    let slug = f.text("slug")?;
    let mut lead = Lead::new(System::Epixel, ctx.source_ref(record, slug));
    lead.raw.text_mut().first_name = f.string("first_name")?;
    lead.raw.text_mut().last_name = f.string("last_name")?;
    lead.raw.emails = vec![f.string("email")?.into()];
    lead.raw.phones = vec![f.string("phone")?.into()];
    lead.raw.text_mut().created_at = f.text_any(&CREATED)?.unwrap_or_default();
    lead.raw.text_mut().updated_at = f.text_any(&UPDATED)?.unwrap_or_default();
    lead.marketing_source = f.text("source")?.map(CompactString::from);
    lead.address = f.text("location")?.map(CompactString::from);
    lead.message = f.text("message")?.map(CompactString::from);
    if lead.address.is_some() {
        lead.country = Some(ctx.country.into());
    }
    let status = f.text("status")?;
    lead.status = status.as_deref().map_or(Status::Unknown, status_of);
    if status.is_some() && lead.status == Status::Unknown {
        lead.quality.insert(Quality::UNKNOWN_STATUS);
    }
    lead.status_raw = status.map(CompactString::from);
    let assignee = if f.is_object("assignee") {
        let mut user = f.object("assignee")?.unwrap_or_default();
        ["username", "user_name", "name", "id"]
            .iter()
            .find_map(|k| match user.remove(*k) {
                Some(Value::String(s)) => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
    } else {
        f.text("assignee")?
    };
    ctx.assign_agent(&mut lead, assignee.as_deref());
    f.keep_rest(&mut lead);
    Ok(lead)
}

/// An Epixel `status` → status.
pub fn status_of(status: &str) -> Status {
    match status.trim().to_ascii_lowercase().as_str() {
        "prospect" => Status::New,
        "contact" => Status::Contacted,
        "potential" => Status::Active,
        "tentative" => Status::Nurture,
        "customer" | "closed" => Status::Closed,
        other => Status::from_common(other).unwrap_or(Status::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_statuses() {
        assert_eq!(status_of("prospect"), Status::New);
        assert_eq!(status_of("contact"), Status::Contacted);
        assert_eq!(status_of("potential"), Status::Active);
        assert_eq!(status_of("tentative"), Status::Nurture);
        assert_eq!(status_of("customer"), Status::Closed);
        assert_eq!(status_of("closed"), Status::Closed);
        assert_eq!(status_of("VIP"), Status::Unknown);
    }
}
