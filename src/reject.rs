//! Rejects: input records that could not become leads, with enough provenance to find and
//! fix them. Rejects are data, not errors: the run goes on and writes them to `rejects.csv`.

use std::fmt;

use crate::lead::System;
use crate::redact;

/// The stage that refused the record.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Stage {
    /// The container (JSON, JSONL, CSV) could not be read at this place.
    Extract,
    /// The record was read but a field has the wrong shape.
    Parse,
    /// The record is well formed but cannot be a lead.
    Validate,
}

impl Stage {
    /// The name written to `rejects.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Extract => "extract",
            Stage::Parse => "parse",
            Stage::Validate => "validate",
        }
    }
}

/// Why a record was refused: a stable snake_case code for each reason.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Reason {
    /// A JSON line or document that is not valid JSON.
    MalformedJson,
    /// A CSV row whose field count differs from the header's.
    MalformedCsvRow,
    /// A JSON value that is not an object where a record was expected.
    NotARecord,
    /// A vendor response envelope that reports an error instead of data.
    ErrorResponse,
    /// A field holds a value of the wrong type (an object where text was expected…).
    WrongType,
    /// A record with no name, no email and no phone.
    NoContactInfo,
    /// A record that must carry an id (a Real Geeks delivery) has none.
    MissingId,
    /// A Real Geeks delivery whose `action` we do not know.
    UnknownAction,
    /// A row whose every field is blank.
    EmptyRecord,
}

impl Reason {
    /// The code written to `rejects.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::MalformedCsvRow => "malformed_csv_row",
            Reason::NotARecord => "not_a_record",
            Reason::ErrorResponse => "error_response",
            Reason::WrongType => "wrong_type",
            Reason::NoContactInfo => "no_contact_info",
            Reason::MissingId => "missing_id",
            Reason::UnknownAction => "unknown_action",
            Reason::EmptyRecord => "empty_record",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most this many characters of a record's text are kept in `raw`.
const RAW_LIMIT: usize = 4000;

/// One refused input record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    /// The stage that refused it.
    pub stage: Stage,
    /// The system of the source.
    pub system: System,
    /// Index of the `[[sources]]` entry.
    pub source_index: usize,
    /// The file, relative to the pipeline file's folder.
    pub file: String,
    /// 1-based line where the record starts (0: the whole file).
    pub line: u64,
    /// The field at fault (blank when the whole record is).
    pub field: String,
    /// Stable reason code.
    pub reason: Reason,
    /// What went wrong, for a person.
    pub detail: String,
    /// The record's text, secrets redacted, cut at 4000 characters.
    pub raw: String,
}

/// Where a record sits: what a [`Reject`] needs besides the reason.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The system of the source.
    pub system: System,
    /// Index of the `[[sources]]` entry.
    pub source_index: usize,
    /// The file, relative to the pipeline file's folder.
    pub file: &'a str,
    /// 1-based line.
    pub line: u64,
}

impl Place<'_> {
    /// A reject at this place.
    pub fn reject(
        &self,
        stage: Stage,
        reason: Reason,
        field: &str,
        detail: impl Into<String>,
        raw: &str,
    ) -> Reject {
        Reject {
            stage,
            system: self.system,
            source_index: self.source_index,
            file: self.file.to_string(),
            line: self.line,
            field: field.to_string(),
            reason,
            detail: redact::text(&detail.into()),
            raw: clip(&redact::text(raw.trim_end_matches(['\r', '\n']))),
        }
    }
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(RAW_LIMIT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}
