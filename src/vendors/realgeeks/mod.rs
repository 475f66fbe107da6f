//! Real Geeks (US IDX + Lead Manager CRM): Outgoing API deliveries, one JSON object per
//! delivery (JSON Lines, a JSON array, or CSV with the same field names), in delivery order.
//!
//! Deliveries are an event log, replayed per lead `id` in file order (files in path
//! order): `created` and `unknown` upsert, `updated` patches only the fields it carries
//! (an empty string or `null` unsets a field; `created` never changes once set),
//! `activity_added` appends activities. Ids arrive with and without hyphens: they are
//! lower-cased and stripped of hyphens before replaying. One lead comes out per id, in its
//! latest state; a lead first seen through an update is flagged `partial_history`.
//! The agent is the user of the latest `was_assigned` activity (role agent), else the
//! deprecated `agent_email`/`agent_name` looked up in the roster.
//!
//! `role` → kind: `Buyer` → buyer, `Seller` → seller, `Buyer and Seller` →
//! buyer_and_seller, `Renter` → renter, `Potential Seller` → seller.
//!
//! `status` → status: `Active` → active, `Cancelled` → dead, `In Escrow` → active (a deal
//! under way), `Closed Escrow` → closed, `Dead` → dead; a CRM's custom status → unknown
//! (text in `status_raw`). Without a status, `urgency` `Contacted` → contacted and
//! `Not Contacted` → new.

pub mod write;

use compact_str::CompactString;
use foldhash::HashMap;
use rayon::prelude::*;
use serde_json::Value;

use crate::extract::Record;
use crate::field_map::FieldMap;
use crate::lead::{Kind, Lead, Quality, SourceRef, Status, System};
use crate::reject::{Reason, Reject, Stage};
use crate::vendors::fields::{keep_in_custom, Fields, Patch};
use crate::vendors::{SourceContext, SourceLeads};

/// What `leadrecon systems` prints.
pub const SUMMARY: &str = "Real Geeks Outgoing API deliveries replayed per lead id (created/updated/activity_added/unknown); agent from was_assigned";

/// The fields that name a person or a way to reach one (`|`-separated).
pub const IDENTITY: &str = "first_name|last_name|email|second_email|phone|phone2";

/// Fields read, and where they go.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "action",
        "replay: created | updated | activity_added | unknown",
    ),
    ("id", "source_id (lower-case, no hyphens)"),
    ("source", "marketing_source"),
    ("source_details", "custom.source_details"),
    ("email", "email"),
    ("second_email", "email2"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("phone", "phone"),
    ("phone2", "phone2"),
    ("address", "address"),
    ("street_address", "address (when address is blank)"),
    ("city", "city"),
    ("state", "region"),
    ("zip", "postcode"),
    ("role", "kind, kind_raw"),
    (
        "activities",
        "custom.activities; agent from the latest was_assigned",
    ),
    ("region", "custom.area"),
    ("created", "created_at (fixed at creation)"),
    ("timeframe", "custom.timeframe"),
    ("urgency", "custom.urgency; status when status is blank"),
    ("status", "status, status_raw"),
    ("notes", "message"),
    ("tags", "tags"),
    (
        "agent_name, agent_email",
        "agent_id when no was_assigned activity (deprecated)",
    ),
    (
        "partner_id, site_uuid, site_domain, source_system",
        "custom.*",
    ),
    ("site_login_url", "dropped: a login link is a credential"),
];

/// Scalar lead fields that deliveries patch.
const PATCHED: [&str; 24] = [
    "source",
    "source_details",
    "email",
    "second_email",
    "first_name",
    "last_name",
    "phone",
    "phone2",
    "address",
    "street_address",
    "city",
    "state",
    "zip",
    "role",
    "region",
    "timeframe",
    "urgency",
    "status",
    "notes",
    "agent_name",
    "agent_email",
    "partner_id",
    "site_uuid",
    "site_domain",
];

struct Delivery<'a> {
    file: &'a str,
    line: u64,
    raw: &'a str,
}

/// One lead's deliveries replayed so far. Held for every lead of the source until the
/// last delivery is fed, so it keeps only what making the lead reads: the patched values
/// in fixed slots (a B-tree of them was over a kilobyte a lead), the activities as the
/// JSON text the lead keeps of them, not as value trees.
#[derive(Default)]
struct State<'a> {
    id: String,
    deliveries: Vec<Delivery<'a>>,
    /// The value of each field of [`PATCHED`], by its place there.
    values: [Option<String>; PATCHED.len()],
    extra: FieldMap,
    tags: Vec<String>,
    activities: Activities,
    created: Option<String>,
    partial: bool,
}

/// Activities in delivery order, as the lead keeps them: their JSON (`custom.activities`),
/// the `created` time of the latest that has one, and the agent of the latest assignment.
#[derive(Default)]
struct Activities {
    /// Each activity's compact JSON, separated by commas (the array without brackets).
    json: String,
    /// The latest `created` given as text.
    created: Option<String>,
    /// The user id of the latest `was_assigned` activity of the agent role that names one.
    assigned: Option<String>,
}

impl Activities {
    fn of(list: Vec<Value>) -> Activities {
        let mut a = Activities::default();
        for activity in list {
            if !a.json.is_empty() {
                a.json.push(',');
            }
            a.json.push_str(&activity.to_string());
            if let Some(created) = activity.get("created").and_then(Value::as_str) {
                a.created = Some(created.to_string());
            }
            if let Some(user) = assigned_agent(&activity) {
                a.assigned = Some(user);
            }
        }
        a
    }

    /// Appends `later`'s activities after these.
    fn extend(&mut self, later: Activities) {
        if later.json.is_empty() {
            return;
        }
        if self.json.is_empty() {
            self.json = later.json;
        } else {
            self.json.push(',');
            self.json.push_str(&later.json);
        }
        if later.created.is_some() {
            self.created = later.created;
        }
        if later.assigned.is_some() {
            self.assigned = later.assigned;
        }
    }
}

/// The user id an activity assigns the lead to, when it is a `was_assigned` activity of
/// the agent role (the default role) that names one.
fn assigned_agent(a: &Value) -> Option<String> {
    let is_assignment = a.get("type").and_then(Value::as_str) == Some("was_assigned");
    let role = a.get("role").and_then(Value::as_str).unwrap_or("agent");
    if !(is_assignment && role.eq_ignore_ascii_case("agent")) {
        return None;
    }
    match a.get("user").and_then(|u| u.get("id"))? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The place of a patched field in [`PATCHED`].
fn slot(key: &str) -> usize {
    PATCHED
        .iter()
        .position(|k| *k == key)
        .expect("a patched field")
}

/// A source's deliveries being replayed into one lead per id, fed a chunk of records at a
/// time in delivery order (see [`crate::vendors::SourceReader`]).
#[derive(Default)]
pub struct Replay<'a> {
    index: HashMap<String, usize>,
    states: Vec<State<'a>>,
    rejects: Vec<Reject>,
}

impl<'a> Replay<'a> {
    /// Applies the next deliveries, in order.
    pub fn feed(&mut self, records: Vec<Result<Record<'a>, Reject>>, ctx: &SourceContext<'_>) {
        // Reading a delivery's fields is independent per delivery and runs in parallel,
        // order kept; only applying them to their lead's state, in delivery order, is
        // sequential.
        let read: Vec<Result<Read<'a>, Reject>> = records
            .into_par_iter()
            .map(|r| r.and_then(|mut record| read(&mut record, ctx)))
            .collect();
        for r in read {
            match r {
                Ok(delivery) => apply(delivery, &mut self.index, &mut self.states),
                Err(rej) => self.rejects.push(rej),
            }
        }
    }

    /// One lead per id, from every delivery fed.
    pub fn finish(self, ctx: &SourceContext<'_>) -> SourceLeads {
        let mut out = SourceLeads {
            rejects: self.rejects,
            ..SourceLeads::default()
        };
        // Each id's deliveries are replayed in order (`feed`); making the leads from them
        // is independent per id and runs in parallel, order kept.
        let finished: Vec<(usize, Result<Lead, Vec<Reject>>)> = self
            .states
            .into_par_iter()
            .map(|state| (state.deliveries.len(), finish(state, ctx)))
            .collect();
        out.leads.reserve(finished.len());
        for (deliveries, made) in finished {
            match made {
                Ok(lead) => {
                    out.folded += deliveries - 1;
                    out.leads.push(lead);
                }
                Err(rejects) => out.rejects.extend(rejects),
            }
        }
        out
    }
}

/// A Real Geeks id as replayed: lower-case, no hyphens.
pub fn normalize_id(id: &str) -> String {
    id.trim().to_ascii_lowercase().replace('-', "")
}

/// One delivery, read and checked: everything it says, before it touches any state (a
/// bad field rejects the whole delivery, and a rejected first delivery makes no lead:
/// the lead starts at its first good one).
struct Read<'a> {
    action: String,
    id: String,
    delivery: Delivery<'a>,
    /// Each field of [`PATCHED`]'s patch, by its place there.
    patches: Vec<Patch>,
    created: Option<String>,
    tags: Option<Vec<String>>,
    activities: Activities,
    extra: FieldMap,
}

fn read<'a>(record: &mut Record<'a>, ctx: &SourceContext<'_>) -> Result<Read<'a>, Reject> {
    let mut f = Fields::take(record, ctx.place(record));
    let action = f.text("action")?.unwrap_or_else(|| "unknown".into());
    let action = action.trim().to_ascii_lowercase();
    if !matches!(
        action.as_str(),
        "created" | "updated" | "activity_added" | "unknown"
    ) {
        return Err(f.reject(
            Stage::Validate,
            Reason::UnknownAction,
            "action",
            format!(
                "`{action}` is not a lead delivery (created, updated, activity_added, unknown)"
            ),
        ));
    }
    let Some(raw_id) = f.text("id")? else {
        return Err(f.reject(
            Stage::Validate,
            Reason::MissingId,
            "id",
            "a Real Geeks delivery must carry the lead's `id`",
        ));
    };
    let id = normalize_id(&raw_id);
    let mut patches = Vec::with_capacity(PATCHED.len());
    for key in PATCHED {
        patches.push(f.patch(key)?);
    }
    let created = f.text("created")?;
    let tags = if f.has("tags") {
        Some(f.words("tags")?.unwrap_or_default())
    } else {
        None
    };
    let activities = Activities::of(f.list("activities")?.unwrap_or_default());
    f.text("site_login_url")?;
    let mut extra = FieldMap::new();
    if action != "activity_added" {
        f.keep_rest_into(&mut extra);
    }
    Ok(Read {
        action,
        id,
        delivery: Delivery {
            file: record.file,
            line: record.line,
            raw: record.raw,
        },
        patches,
        created,
        tags,
        activities,
        extra,
    })
}

/// Applies a delivery to its lead's state: `created` and `unknown` upsert, `updated`
/// patches, `activity_added` only appends activities.
fn apply<'a>(read: Read<'a>, index: &mut HashMap<String, usize>, states: &mut Vec<State<'a>>) {
    let Read {
        action,
        id,
        delivery,
        patches,
        created,
        tags,
        activities,
        extra,
    } = read;
    let at = match index.get(&id) {
        Some(&at) => at,
        None => {
            let partial = action == "updated" || action == "activity_added";
            index.insert(id.clone(), states.len());
            states.push(State {
                id,
                partial,
                ..State::default()
            });
            states.len() - 1
        }
    };
    let state = &mut states[at];
    state.deliveries.push(delivery);
    if action != "activity_added" {
        for (i, patch) in patches.into_iter().enumerate() {
            match patch {
                Patch::Absent => {}
                Patch::Unset => state.values[i] = None,
                Patch::Set(v) => state.values[i] = Some(v),
            }
        }
        if state.created.is_none() {
            state.created = created;
        }
        if let Some(tags) = tags {
            state.tags = tags;
        }
        state.extra.extend(extra);
    }
    state.activities.extend(activities);
}

fn finish<'a>(state: State<'a>, ctx: &SourceContext<'_>) -> Result<Lead, Vec<Reject>> {
    let first = &state.deliveries[0];
    let source = SourceRef {
        source_index: ctx.index,
        file: first.file.to_string(),
        line: first.line,
        source_id: Some(state.id.clone()),
    };
    let mut lead = Lead::new(System::Realgeeks, source);
    let v = |k: &str| state.values[slot(k)].clone();
    lead.raw.text_mut().first_name = v("first_name").unwrap_or_default();
    lead.raw.text_mut().last_name = v("last_name").unwrap_or_default();
    lead.raw.emails = vec![
        v("email").unwrap_or_default().into(),
        v("second_email").unwrap_or_default().into(),
    ];
    lead.raw.phones = vec![
        v("phone").unwrap_or_default().into(),
        v("phone2").unwrap_or_default().into(),
    ];
    lead.raw.text_mut().created_at = state.created.clone().unwrap_or_default();
    lead.raw.text_mut().updated_at = state.activities.created.clone().unwrap_or_default();
    if !lead.raw.has_identity() {
        let n = state.deliveries.len();
        return Err(state
            .deliveries
            .iter()
            .map(|d| {
                let place = crate::reject::Place {
                    system: System::Realgeeks,
                    source_index: ctx.index,
                    file: d.file,
                    line: d.line,
                };
                place.reject(
                    Stage::Validate,
                    Reason::NoContactInfo,
                    IDENTITY,
                    format!(
                        "lead {} has no name, no email and no phone after replaying its {n} deliveries",
                        state.id
                    ),
                    d.raw,
                )
            })
            .collect());
    }
    lead.marketing_source = v("source").map(CompactString::from);
    lead.address = v("address")
        .or_else(|| v("street_address"))
        .map(CompactString::from);
    lead.city = v("city").map(CompactString::from);
    lead.region = v("state").map(CompactString::from);
    lead.postcode = v("zip").map(CompactString::from);
    lead.message = v("notes").map(CompactString::from);
    if lead.address.is_some() || lead.city.is_some() || lead.postcode.is_some() {
        lead.country = Some(ctx.country.into());
    }
    let role = v("role");
    lead.kind = role.as_deref().map_or(Kind::Unknown, kind_of);
    if role.is_some() && lead.kind == Kind::Unknown {
        lead.quality.insert(Quality::UNKNOWN_KIND);
    }
    lead.kind_raw = role.map(CompactString::from);
    let status = v("status");
    lead.status = match status.as_deref() {
        Some(s) => status_of(s),
        None => match v("urgency").as_deref() {
            Some("Contacted") => Status::Contacted,
            Some("Not Contacted") => Status::New,
            _ => Status::Unknown,
        },
    };
    if status.is_some() && lead.status == Status::Unknown {
        lead.quality.insert(Quality::UNKNOWN_STATUS);
    }
    lead.status_raw = status.map(CompactString::from);
    for tag in &state.tags {
        lead.add_tag(tag);
    }
    for (key, custom) in [
        ("source_details", "source_details"),
        ("region", "area"),
        ("timeframe", "timeframe"),
        ("urgency", "urgency"),
        ("partner_id", "partner_id"),
        ("site_uuid", "site_uuid"),
        ("site_domain", "site_domain"),
    ] {
        if let Some(value) = v(key) {
            lead.set_custom(custom, value);
        }
    }
    if state.partial {
        lead.quality.insert(Quality::PARTIAL_HISTORY);
    }

    match state.activities.assigned.as_deref() {
        Some(user) => ctx.assign_agent(&mut lead, Some(user)),
        None => match ctx
            .roster
            .by_email_or_name(v("agent_email").as_deref(), v("agent_name").as_deref())
        {
            Some(id) => lead.agent_id = Some(id.into()),
            None => {
                let alias = v("agent_email").or_else(|| v("agent_name"));
                ctx.assign_agent(&mut lead, alias.as_deref());
            }
        },
    }
    if let Some(email) = v("agent_email") {
        lead.set_custom("agent_email", email);
    }
    if let Some(name) = v("agent_name") {
        lead.set_custom("agent_name", name);
    }
    if !state.activities.json.is_empty() {
        lead.set_custom("activities", format!("[{}]", state.activities.json));
    }
    keep_in_custom(&mut lead, "", state.extra);
    Ok(lead)
}

/// A Real Geeks `role` → kind.
pub fn kind_of(role: &str) -> Kind {
    match role.trim() {
        "Buyer" => Kind::Buyer,
        "Seller" | "Potential Seller" => Kind::Seller,
        "Buyer and Seller" => Kind::BuyerAndSeller,
        "Renter" => Kind::Renter,
        other => Kind::from_common(other).unwrap_or(Kind::Unknown),
    }
}

/// A Real Geeks `status` → status.
pub fn status_of(status: &str) -> Status {
    match status.trim() {
        "Active" | "In Escrow" => Status::Active,
        "Cancelled" | "Dead" => Status::Dead,
        "Closed Escrow" => Status::Closed,
        _ => Status::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_keep_their_json_and_the_latest_time_and_assignment() {
        let list = |v: Value| match v {
            Value::Array(a) => a,
            _ => unreachable!(),
        };
        let first = list(serde_json::json!([
            {"type": "was_assigned", "user": {"id": 7}, "created": "2024-01-01T00:00:00Z"},
            {"type": "note", "created": 5, "text": "a \"quoted\" note"},
        ]));
        let second = list(serde_json::json!([
            {"type": "was_assigned", "role": "Agent", "user": {"id": "u-9"}},
            {"type": "was_assigned", "role": "lender", "user": {"id": "l-1"}},
            {"type": "was_assigned", "user": {}},
            {"type": "viewed", "created": "2024-02-02T00:00:00Z"},
        ]));
        let all: Vec<Value> = first.iter().chain(&second).cloned().collect();
        let mut a = Activities::of(first.clone());
        assert_eq!(a.assigned.as_deref(), Some("7"));
        assert_eq!(a.created.as_deref(), Some("2024-01-01T00:00:00Z"));
        a.extend(Activities::of(Vec::new()));
        a.extend(Activities::of(second));
        assert_eq!(format!("[{}]", a.json), Value::Array(all).to_string());
        // The latest agent assignment that names a user; a lender's does not count.
        assert_eq!(a.assigned.as_deref(), Some("u-9"));
        assert_eq!(a.created.as_deref(), Some("2024-02-02T00:00:00Z"));
        let mut none = Activities::default();
        none.extend(Activities::of(first));
        assert_eq!(none.assigned.as_deref(), Some("7"));
        assert!(Activities::of(Vec::new()).json.is_empty());
    }

    #[test]
    fn documented_roles() {
        assert_eq!(kind_of("Buyer"), Kind::Buyer);
        assert_eq!(kind_of("Seller"), Kind::Seller);
        assert_eq!(kind_of("Buyer and Seller"), Kind::BuyerAndSeller);
        assert_eq!(kind_of("Renter"), Kind::Renter);
        assert_eq!(kind_of("Potential Seller"), Kind::Seller);
        assert_eq!(kind_of("Investor"), Kind::Unknown);
    }

    #[test]
    fn documented_statuses() {
        assert_eq!(status_of("Active"), Status::Active);
        assert_eq!(status_of("Cancelled"), Status::Dead);
        assert_eq!(status_of("In Escrow"), Status::Active);
        assert_eq!(status_of("Closed Escrow"), Status::Closed);
        assert_eq!(status_of("Dead"), Status::Dead);
        assert_eq!(status_of("Hot Prospect"), Status::Unknown);
    }

    #[test]
    fn ids_lose_hyphens_and_case() {
        assert_eq!(
            normalize_id("A27C20AF-4497-415D-9E4E-7334DD1D40D2"),
            "a27c20af4497415d9e4e7334dd1d40d2"
        );
    }
}
