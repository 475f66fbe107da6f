//! Maxwork (Portuguese real-estate CRM): lead bodies as posted to or exported from
//! `/listingexport/leads`, as JSON arrays, JSON Lines or CSV.
//!
//! `Sender_Name` is one full name (split into first and last). The id is
//! `External_LeadId` when the dump carries it (the integrator's id); otherwise the record
//! has none and its key is `maxwork:file:line`. `Public_Reference` is the listing
//! (`"None"` for manual leads). The agent is `Internal_UserId`, else the source's `agent`.
//! Maxwork counts the same mobile phone or email for the same agent as one contact.
//!
//! `Lead_Status` → status: `New` → new, `Contacted` → contacted, `Archived` → archived.
//!
//! Kind from `LeadType_Id` (Buyer/Seller) and `Business_TypeId` (Sale/Rent): a buyer of a
//! rental is a renter, a seller of one a landlord. Maxwork does not document the numeric
//! ids of these fields, so numbers are kept in `kind_raw` and the kind is `unknown`.

pub mod write;

use compact_str::CompactString;

use crate::extract::Record;
use crate::lead::{Kind, Lead, Quality, Status, System};
use crate::reject::Reject;
use crate::vendors::fields::Fields;
use crate::vendors::SourceContext;

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "Maxwork /listingexport/leads bodies; id External_LeadId (else file:line); agent Internal_UserId; one Sender_Name";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "Sender_Name|Sender_Email|Sender_Phone";

/// Fields read, and where they go.
pub const FIELDS: &[(&str, &str)] = &[
    ("Public_Reference", "listing_ref (\"None\" = manual lead)"),
    (
        "Sender_Name",
        "full_name, split into first_name and last_name",
    ),
    ("Sender_Email", "email"),
    ("Sender_Phone", "phone"),
    ("Message", "message"),
    ("Lead_Status", "status, status_raw"),
    ("Internal_UserId", "agent_id (roster maxwork alias)"),
    ("LeadType_Id", "kind, kind_raw"),
    ("Business_TypeId", "kind (rent), custom.Business_TypeId"),
    ("Listing_ClassId", "custom.Listing_ClassId"),
    (
        "Price_Min, Price_Max, Room_Min, Room_Max, Area_Min, Area_Max",
        "custom.*",
    ),
    ("External_LeadId", "source_id"),
    (
        "Listing_Attributes",
        "custom.Listing_Attributes (codes named)",
    ),
    ("Created_At", "created_at"),
];

/// Reads one Maxwork lead.
pub fn read(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let mut f = Fields::take(record, ctx.place(record));
    let id = f.text("External_LeadId")?;
    let mut lead = Lead::new(System::Maxwork, ctx.source_ref(record, id));
    lead.listing_ref = f
        .text("Public_Reference")?
        .filter(|r| !r.trim().eq_ignore_ascii_case("none"))
        .map(CompactString::from);
    lead.raw.text_mut().full_name = f.string("Sender_Name")?;
    lead.raw.emails = vec![f.string("Sender_Email")?.into()];
    lead.raw.phones = vec![f.string("Sender_Phone")?.into()];
    lead.message = f.text("Message")?.map(CompactString::from);
    lead.raw.text_mut().created_at = f.string("Created_At")?;
    let status = f.text("Lead_Status")?;
    lead.status = status.as_deref().map_or(Status::Unknown, status_of);
    if status.is_some() && lead.status == Status::Unknown {
        lead.quality.insert(Quality::UNKNOWN_STATUS);
    }
    lead.status_raw = status.map(CompactString::from);

    let lead_type = f.text("LeadType_Id")?;
    let business = f.text("Business_TypeId")?;
    lead.kind = kind_of(lead_type.as_deref(), business.as_deref());
    if lead_type.is_some() && lead.kind == Kind::Unknown {
        lead.quality.insert(Quality::UNKNOWN_KIND);
    }
    lead.kind_raw = lead_type.map(CompactString::from);
    if let Some(b) = business {
        lead.set_custom("Business_TypeId", b);
    }
    if f.has("Listing_Attributes") {
        let codes = f.words("Listing_Attributes")?.unwrap_or_default();
        let named: Vec<String> = codes.iter().map(|c| attribute_name(c)).collect();
        lead.set_custom("Listing_Attributes", named.join("|"));
    }
    let user = f.text("Internal_UserId")?;
    ctx.assign_agent(&mut lead, user.as_deref());
    f.keep_rest(&mut lead);
    Ok(lead)
}

/// A Maxwork `Lead_Status` → status.
pub fn status_of(status: &str) -> Status {
    match status.trim().to_ascii_lowercase().as_str() {
        "new" => Status::New,
        "contacted" => Status::Contacted,
        "archived" => Status::Archived,
        _ => Status::Unknown,
    }
}

/// Kind from `LeadType_Id` and `Business_TypeId` (words only: the ids are undocumented).
pub fn kind_of(lead_type: Option<&str>, business: Option<&str>) -> Kind {
    let rent = business.is_some_and(|b| {
        let b = b.trim().to_ascii_lowercase();
        b == "rent" || b == "rental" || b == "arrendamento"
    });
    match lead_type.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("buyer") | Some("comprador") => {
            if rent {
                Kind::Renter
            } else {
                Kind::Buyer
            }
        }
        Some("seller") | Some("vendedor") => {
            if rent {
                Kind::Landlord
            } else {
                Kind::Seller
            }
        }
        None if rent => Kind::Renter,
        _ => Kind::Unknown,
    }
}

/// The documented name of a listing attribute code.
pub fn attribute_name(code: &str) -> String {
    match code.trim() {
        "0" => "Parking_Space".into(),
        "1" => "Lift".into(),
        "5" => "Balcony".into(),
        "7" => "Swimming_Pool".into(),
        "8" => "Terrace".into(),
        "9" => "Garden_Area".into(),
        "11" => "Storage".into(),
        "51" => "Air_Conditioning".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_statuses() {
        assert_eq!(status_of("New"), Status::New);
        assert_eq!(status_of("Contacted"), Status::Contacted);
        assert_eq!(status_of("Archived"), Status::Archived);
        assert_eq!(status_of("Won"), Status::Unknown);
    }

    #[test]
    fn kinds_from_type_and_business() {
        assert_eq!(kind_of(Some("Buyer"), Some("Sale")), Kind::Buyer);
        assert_eq!(kind_of(Some("Buyer"), Some("Rent")), Kind::Renter);
        assert_eq!(kind_of(Some("Seller"), None), Kind::Seller);
        assert_eq!(kind_of(Some("Seller"), Some("Rent")), Kind::Landlord);
        assert_eq!(kind_of(Some("2"), None), Kind::Unknown);
        assert_eq!(kind_of(None, None), Kind::Unknown);
    }

    #[test]
    fn attribute_codes() {
        let names: Vec<String> = ["0", "1", "5", "7", "8", "9", "11", "51", "99"]
            .iter()
            .map(|c| attribute_name(c))
            .collect();
        assert_eq!(
            names,
            [
                "Parking_Space",
                "Lift",
                "Balcony",
                "Swimming_Pool",
                "Terrace",
                "Garden_Area",
                "Storage",
                "Air_Conditioning",
                "99"
            ]
        );
    }
}
