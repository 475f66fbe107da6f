//! One adapter per lead system: everything a vendor means lives in its module.
//!
//! An adapter consumes extracted [`Record`]s of one source and produces [`Lead`]s with
//! provenance, vendor values mapped to our vocabulary, agent resolved, and the raw contact
//! for the normalize stage; it rejects records of the wrong shape and records that name
//! no person and no way to reach one. Dispatch is a `match` on the closed [`System`] enum.

pub mod csv;
pub mod epixel;
pub mod fields;
pub mod leadpro;
pub mod maxwork;
pub mod peakidx;
pub mod realgeeks;
pub mod write;

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::agents::{AgentMatch, Roster};
use crate::extract::{IsRecord, Record};
use crate::lead::{Lead, Quality, SourceRef, System};
use crate::reject::{Place, Reason, Reject, Stage};

/// What an adapter knows about the source it reads.
#[derive(Debug, Clone, Copy)]
pub struct SourceContext<'a> {
    /// Index of the `[[sources]]` entry.
    pub index: usize,
    /// The system.
    pub system: System,
    /// Agent for records that name none (a roster id or alias).
    pub default_agent: Option<&'a str>,
    /// ISO country of the source, for addresses.
    pub country: &'a str,
    /// Column mapping of a `csv` source (canonical field → column).
    pub columns: &'a BTreeMap<String, String>,
    /// The agent roster.
    pub roster: &'a Roster,
}

impl SourceContext<'_> {
    /// Where a record sits.
    pub fn place<'a>(&self, record: &Record<'a>) -> Place<'a> {
        Place {
            system: self.system,
            source_index: self.index,
            file: record.file,
            line: record.line,
        }
    }

    /// Provenance of a record.
    pub fn source_ref(&self, record: &Record<'_>, source_id: Option<String>) -> SourceRef {
        SourceRef {
            source_index: self.index,
            file: record.file.to_string(),
            line: record.line,
            source_id: source_id
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        }
    }

    /// Sets the lead's agent from the record's own alias, else the source's `agent`.
    pub fn assign_agent(&self, lead: &mut Lead, alias: Option<&str>) {
        let alias = alias.map(str::trim).filter(|a| !a.is_empty());
        match alias.or(self.default_agent) {
            None => {
                lead.agent_id = None;
                lead.quality.insert(Quality::NO_AGENT);
            }
            Some(a) => {
                let id = match self.roster.resolve(self.system, a) {
                    AgentMatch::Known(id) => id,
                    // Without a roster the source's own `agent` setting is the agent id.
                    AgentMatch::Unchecked(_) if alias.is_none() => a.to_string(),
                    AgentMatch::Unchecked(id) => id,
                    AgentMatch::Unknown(id) => {
                        lead.quality.insert(Quality::UNKNOWN_AGENT);
                        id
                    }
                };
                lead.agent_id = Some(id.into());
            }
        }
    }
}

/// What an adapter made of one source.
#[derive(Debug, Default)]
pub struct SourceLeads {
    /// Leads, in input order.
    pub leads: Vec<Lead>,
    /// Rejected records.
    pub rejects: Vec<Reject>,
    /// Records folded into an earlier record of the same lead (Real Geeks replay).
    pub folded: usize,
}

/// Which JSON objects the system treats as records although they look like envelopes.
pub fn is_record(system: System) -> IsRecord {
    match system {
        System::Leadpro => leadpro::is_record,
        _ => |_: &dyn Fn(&str) -> bool| false,
    }
}

/// Turns one source's records (all its files, in order) into leads.
pub fn read_source(
    records: Vec<Result<Record<'_>, Reject>>,
    ctx: &SourceContext<'_>,
) -> SourceLeads {
    let mut reader = SourceReader::new(ctx.system);
    reader.feed(records, ctx);
    reader.finish(ctx)
}

/// A source's records being turned into leads, fed a chunk of records at a time in input
/// order ([`crate::extract::records_by_chunk`]), so that parsed records are dropped before
/// the next are parsed.
pub enum SourceReader<'a> {
    /// Each record is one lead or one reject, read as it is fed.
    Records(SourceLeads),
    /// Real Geeks deliveries, replayed into one lead per id once all are fed.
    Replay(realgeeks::Replay<'a>),
}

impl<'a> SourceReader<'a> {
    /// A reader for a source of `system`.
    pub fn new(system: System) -> SourceReader<'a> {
        match system {
            System::Realgeeks => SourceReader::Replay(realgeeks::Replay::default()),
            _ => SourceReader::Records(SourceLeads::default()),
        }
    }

    /// Reads the next records, in order.
    pub fn feed(&mut self, records: Vec<Result<Record<'a>, Reject>>, ctx: &SourceContext<'_>) {
        let out = match self {
            SourceReader::Replay(replay) => return replay.feed(records, ctx),
            SourceReader::Records(out) => out,
        };
        let results: Vec<Result<Lead, Reject>> = records
            .into_par_iter()
            .map(|r| r.and_then(|mut rec| read_record(&mut rec, ctx)))
            .collect();
        // A lead is a large value: the leads stay where they were collected (a `Result` of
        // a lead is the size of a lead, so collecting them back into a vector reuses its
        // memory) instead of being copied into fresh memory.
        let leads: Vec<Lead> = results
            .into_iter()
            .filter_map(|r| r.map_err(|rej| out.rejects.push(rej)).ok())
            .collect();
        if out.leads.is_empty() {
            out.leads = leads;
        } else {
            out.leads.extend(leads);
        }
    }

    /// The leads made so far from `from` on, in order (none for replayed deliveries,
    /// whose leads are made by [`SourceReader::finish`]).
    pub fn leads_from(&mut self, from: usize) -> &mut [Lead] {
        match self {
            SourceReader::Records(out) => &mut out.leads[from..],
            SourceReader::Replay(_) => &mut [],
        }
    }

    /// The leads of every record fed.
    pub fn finish(self, ctx: &SourceContext<'_>) -> SourceLeads {
        match self {
            SourceReader::Records(out) => out,
            SourceReader::Replay(replay) => replay.finish(ctx),
        }
    }
}

fn read_record(record: &mut Record<'_>, ctx: &SourceContext<'_>) -> Result<Lead, Reject> {
    let lead = match ctx.system {
        System::Peakidx => peakidx::read(record, ctx),
        System::Leadpro => leadpro::read(record, ctx),
        System::Epixel => epixel::read(record, ctx),
        System::Maxwork => maxwork::read(record, ctx),
        System::Csv => csv::read(record, ctx),
        System::Realgeeks => {
            unreachable!("Real Geeks deliveries are replayed, not read one by one")
        }
    }?;
    require_identity(&lead, record, ctx)?;
    Ok(lead)
}

/// Rejects a lead that names no person and no way to reach one.
pub fn require_identity(
    lead: &Lead,
    record: &Record<'_>,
    ctx: &SourceContext<'_>,
) -> Result<(), Reject> {
    if lead.raw.has_identity() {
        return Ok(());
    }
    let field = match ctx.system {
        // Name the user's own columns, not our canonical fields.
        System::Csv => csv::identity_columns(ctx.columns),
        other => identity_fields(other).to_string(),
    };
    Err(ctx.place(record).reject(
        Stage::Validate,
        Reason::NoContactInfo,
        &field,
        "the record has no name, no email and no phone",
        record.raw,
    ))
}

/// The fields that identify a person in a system's records, for messages.
pub fn identity_fields(system: System) -> &'static str {
    match system {
        System::Peakidx => peakidx::IDENTITY,
        System::Leadpro => leadpro::IDENTITY,
        System::Realgeeks => realgeeks::IDENTITY,
        System::Epixel => epixel::IDENTITY,
        System::Maxwork => maxwork::IDENTITY,
        System::Csv => csv::IDENTITY,
    }
}

/// The fields an adapter reads and where they go, for `leadrecon systems`.
pub fn fields_read(system: System) -> &'static [(&'static str, &'static str)] {
    match system {
        System::Peakidx => peakidx::FIELDS,
        System::Leadpro => leadpro::FIELDS,
        System::Realgeeks => realgeeks::FIELDS,
        System::Epixel => epixel::FIELDS,
        System::Maxwork => maxwork::FIELDS,
        System::Csv => csv::FIELDS,
    }
}

/// One line on what the system is and how leadrecon reads it, for `leadrecon systems`.
pub fn summary(system: System) -> &'static str {
    match system {
        System::Peakidx => peakidx::SUMMARY,
        System::Leadpro => leadpro::SUMMARY,
        System::Realgeeks => realgeeks::SUMMARY,
        System::Epixel => epixel::SUMMARY,
        System::Maxwork => maxwork::SUMMARY,
        System::Csv => csv::SUMMARY,
    }
}

/// Whether a file's field names look like this system's (at least one identifying field).
pub fn recognizes(system: System, names: &[String]) -> bool {
    if system == System::Csv {
        return true;
    }
    let wanted: Vec<&str> = identity_fields(system).split('|').collect();
    names.iter().any(|n| wanted.contains(&n.as_str()))
        || (system == System::Leadpro && names.iter().any(|n| n == "event" || n == "data"))
        || (system == System::Realgeeks && names.iter().any(|n| n == "action"))
}
