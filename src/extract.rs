//! Extract stage: files → records. Knows containers, not vendors.
//!
//! Consumes the files a source names (a path or a glob), produces one [`Record`] per input
//! record: the record's fields as a JSON object (CSV cells become strings), the line where
//! it starts and its text. Reads CSV (delimiter sniffed: `,` `;` tab `|`), JSON documents
//! (an array, one object, or a response envelope such as `{"data": […]}` or Epixel's
//! `{"status_code", "errors", "data": {"results": […]}}`), JSON Lines (one record, array or
//! envelope per line), any of them gzip-compressed, UTF-8 with or without a BOM (UTF-16 with
//! a BOM, and Windows-1252 as a fallback with a warning), LF or CRLF.
//!
//! Rejects: malformed JSON lines or documents, CSV rows with the wrong field count, blank
//! rows, values that are not objects, envelopes that report an error. A file that cannot be
//! opened or decompressed is a fatal [`ExtractError`].

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::field_map::FieldMap;
use crate::reject::{Place, Reason, Reject, Stage};

/// Errors that stop a run: an input that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is named or marked as gzip but does not decompress.
    #[error("cannot decompress {path}: {source}")]
    Gzip {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A source's path matches no file.
    #[error("no input file matches {pattern}")]
    NoMatch {
        /// The pattern as resolved.
        pattern: String,
    },
    /// A source's glob pattern is not valid.
    #[error("invalid glob pattern {pattern}: {message}")]
    BadPattern {
        /// The pattern as written.
        pattern: String,
        /// Why.
        message: String,
    },
}

/// Container format of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma (or `;`, tab, `|`) separated values with a header row.
    Csv,
    /// A JSON document: array, object or envelope (also accepts one value per line).
    Json,
    /// JSON Lines: one value per line.
    Jsonl,
}

impl Format {
    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }
}

/// One input file, read and decoded.
#[derive(Debug)]
pub struct FileData {
    /// The path as shown in outputs: relative to the pipeline file's folder.
    pub display: String,
    /// Size on disk, in bytes.
    pub bytes: u64,
    /// SHA-256 of the bytes on disk, hex.
    pub sha256: String,
    /// The decoded text.
    pub text: String,
    /// The container format.
    pub format: Format,
    /// Things a person should know about the file (encoding fallbacks, emptiness).
    pub warnings: Vec<String>,
}

/// One input record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// The file, as shown in outputs.
    pub file: &'a str,
    /// 1-based line where the record starts.
    pub line: u64,
    /// The record's fields.
    pub fields: FieldMap,
    /// The record's text in the file.
    pub raw: &'a str,
}

/// What the vendor says about objects: which ones are records although they hold an
/// envelope-like key (a Lead.Pro webhook delivery `{"event", "data": {lead}}`), by their
/// field names (`has` tells whether the object has a field).
pub type IsRecord = fn(has: &dyn Fn(&str) -> bool) -> bool;

/// Expands a source path (a file or a glob) into files, sorted by path.
pub fn resolve(pattern: &Path) -> Result<Vec<PathBuf>, ExtractError> {
    let text = pattern.to_string_lossy().to_string();
    if !text.contains(['*', '?', '[']) {
        return if pattern.exists() {
            Ok(vec![pattern.to_path_buf()])
        } else {
            Err(ExtractError::Io {
                path: text,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            })
        };
    }
    let paths = glob::glob(&text).map_err(|e| ExtractError::BadPattern {
        pattern: text.clone(),
        message: e.msg.to_string(),
    })?;
    let mut files: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ExtractError::NoMatch { pattern: text });
    }
    Ok(files)
}

/// Reads, checksums, decompresses and decodes one file.
pub fn read_file(
    path: &Path,
    display: &str,
    explicit: Option<Format>,
) -> Result<FileData, ExtractError> {
    let io_err = |source| ExtractError::Io {
        path: display.to_string(),
        source,
    };
    let disk = std::fs::read(path).map_err(io_err)?;
    let sha256 = crate::hex::string(&Sha256::digest(&disk));
    let bytes = disk.len() as u64;
    let gz = disk.starts_with(&[0x1f, 0x8b]);
    let content = if gz {
        let mut out = Vec::with_capacity(disk.len() * 4);
        flate2::read::MultiGzDecoder::new(disk.as_slice())
            .read_to_end(&mut out)
            .map_err(|source| ExtractError::Gzip {
                path: display.to_string(),
                source,
            })?;
        out
    } else {
        disk
    };
    let mut warnings = Vec::new();
    let text = decode(content, display, &mut warnings);
    let format = explicit.unwrap_or_else(|| detect_format(path, &text));
    if text.trim().is_empty() {
        warnings.push(format!("{display} is empty"));
    }
    Ok(FileData {
        display: display.to_string(),
        bytes,
        sha256,
        text,
        format,
        warnings,
    })
}

fn decode(content: Vec<u8>, display: &str, warnings: &mut Vec<String>) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(&content) {
        if enc == encoding_rs::UTF_8 {
            if let Ok(s) = std::str::from_utf8(&content[bom_len..]) {
                return s.to_string();
            }
        } else {
            let (text, _, bad) = enc.decode(&content);
            if bad {
                warnings.push(format!(
                    "{display}: some {} characters could not be decoded",
                    enc.name()
                ));
            }
            return text.into_owned();
        }
    }
    match String::from_utf8(content) {
        Ok(s) => s,
        Err(e) => {
            warnings.push(format!("{display} is not UTF-8: read as Windows-1252"));
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(e.as_bytes());
            text.into_owned()
        }
    }
}

/// The format a file's name says, else what its first character suggests.
pub fn detect_format(path: &Path, text: &str) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "csv" | "tsv" | "txt" => Format::Csv,
        "jsonl" | "ndjson" => Format::Jsonl,
        "json" => Format::Json,
        _ => match text.trim_start().as_bytes().first() {
            Some(b'[') | Some(b'{') => Format::Json,
            _ => Format::Csv,
        },
    }
}

/// Every record of a file, or the reject that stands for it, in file order.
pub fn records<'a>(
    file: &'a FileData,
    place: Place<'_>,
    is_record: IsRecord,
) -> Vec<Result<Record<'a>, Reject>> {
    let mut all = Vec::new();
    records_by_chunk(file, place, is_record, &mut |found| {
        if all.is_empty() {
            all = found;
        } else {
            all.extend(found);
        }
    });
    all
}

/// Records read into fields at a time, at most: each chunk is made side by side and
/// handed on before the next is read, so a file's records never all sit in memory at once
/// (the largest file of the million-lead benchmark holds 161,500 Real Geeks deliveries,
/// 114 MB of JSON, several times that once read into fields).
pub const CHUNK: usize = 1 << 14;

/// The records of [`records`], handed to `each` in order, a chunk at a time: about
/// [`CHUNK`] rows or top-level values (an envelope's array is chunked the same way), each
/// value's records whole.
pub fn records_by_chunk<'a>(
    file: &'a FileData,
    place: Place<'_>,
    is_record: IsRecord,
    each: &mut dyn FnMut(Found<'a>),
) {
    records_in_chunks_of(file, place, is_record, CHUNK, each)
}

fn records_in_chunks_of<'a>(
    file: &'a FileData,
    place: Place<'_>,
    is_record: IsRecord,
    chunk: usize,
    each: &mut dyn FnMut(Found<'a>),
) {
    let lines = LineIndex::new(&file.text);
    let cx = JsonCx {
        file: &file.display,
        text: &file.text,
        lines: &lines,
        place,
        is_record,
        chunk,
    };
    match file.format {
        Format::Csv => csv_records(file, &lines, place, chunk, each),
        Format::Json if file.text.trim_start().starts_with('[') => cx.document_array(each),
        Format::Json | Format::Jsonl => cx.stream(each),
    }
}

/// The header of a CSV file (trimmed), or the keys of a JSON file's first record. Reads
/// only as far as that record (plus the envelope around it), not the whole file.
pub fn field_names(file: &FileData, is_record: IsRecord) -> Vec<String> {
    if file.format == Format::Csv {
        let mut rdr = csv_reader(&file.text);
        return rdr.headers().map(clean_headers).unwrap_or_default();
    }
    let Some(first) = first_value(&file.text) else {
        return Vec::new();
    };
    let no_lines = LineIndex {
        newlines: Vec::new(),
    };
    let cx = JsonCx {
        file: &file.display,
        text: &file.text,
        lines: &no_lines,
        place: Place {
            system: crate::lead::System::Csv,
            source_index: 0,
            file: &file.display,
            line: 0,
        },
        is_record,
        chunk: CHUNK,
    };
    cx.first_record(first)
        .map(|fields| fields.keys().map(String::from).collect())
        .unwrap_or_default()
}

/// The first value of a JSON text: the first element of a top-level array, else the first
/// value of the stream.
fn first_value(text: &str) -> Option<&RawValue> {
    if text.trim_start().starts_with('[') {
        let mut items = Vec::with_capacity(1);
        let mut de = serde_json::Deserializer::from_str(text);
        // Stops with an error after the first element; the element is kept.
        let _ = Collect {
            into: &mut items,
            limit: 1,
        }
        .deserialize(&mut de);
        return items.into_iter().next();
    }
    serde_json::Deserializer::from_str(text)
        .into_iter::<&RawValue>()
        .next()
        .and_then(Result::ok)
}

struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex {
            newlines: memchr_all(text.as_bytes()),
        }
    }

    /// 1-based line of a byte offset.
    fn line(&self, offset: usize) -> u64 {
        (self.newlines.partition_point(|&n| n < offset) + 1) as u64
    }
}

fn memchr_all(bytes: &[u8]) -> Vec<usize> {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b'\n').then_some(i))
        .collect()
}

struct JsonCx<'a, 'l, 'p> {
    file: &'a str,
    text: &'a str,
    lines: &'l LineIndex,
    place: Place<'p>,
    is_record: IsRecord,
    /// Values read into records at a time ([`CHUNK`]).
    chunk: usize,
}

const ENVELOPE_KEYS: [&str; 5] = ["data", "results", "leads", "items", "records"];

/// Records, or the rejects that stand for them, in file order.
pub type Found<'a> = Vec<Result<Record<'a>, Reject>>;

/// One level of a value, as [`JsonCx::step`] finds it.
enum Step<'a> {
    /// An array's items.
    Items(Vec<&'a RawValue>),
    /// The value a large envelope wraps.
    Inner(&'a RawValue),
    /// The value's records, or the reject that stands for it.
    Found(Found<'a>),
}

/// A top-level value found while scanning, or the reject for a piece that is not one.
enum Piece<'a> {
    Value(&'a RawValue),
    Broken(Reject),
}

impl<'a> JsonCx<'a, '_, '_> {
    fn offset(&self, s: &str) -> usize {
        s.as_ptr() as usize - self.text.as_ptr() as usize
    }

    fn reject(&self, line: u64, reason: Reason, detail: String, raw: &str) -> Reject {
        let place = Place { line, ..self.place };
        place.reject(Stage::Extract, reason, "", detail, raw)
    }

    /// Scanning finds the values in order (cheap); turning them into records, the costly
    /// part, runs in parallel with order kept.
    fn expand(&self, pieces: Vec<Piece<'a>>) -> Found<'a> {
        let nested: Vec<Found<'a>> = pieces
            .into_par_iter()
            .map(|p| match p {
                Piece::Value(v) => self.walk(v),
                Piece::Broken(r) => vec![Err(r)],
            })
            .collect();
        nested.into_iter().flatten().collect()
    }

    /// The records of `pieces`, as [`JsonCx::expand`] gives them, handed to `each` a
    /// chunk of `self.chunk` pieces at a time. A piece that may hold many records (an array,
    /// a large object) is opened here, its own values chunked in turn.
    fn expand_by_chunk(&self, pieces: Vec<Piece<'a>>, each: &mut dyn FnMut(Found<'a>)) {
        let mut small: Vec<Piece<'a>> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Value(v) if Self::may_hold_many(v) => {
                    if !small.is_empty() {
                        each(self.expand(std::mem::take(&mut small)));
                    }
                    self.open(v, each);
                }
                piece => {
                    small.push(piece);
                    if small.len() == self.chunk {
                        each(self.expand(std::mem::take(&mut small)));
                    }
                }
            }
        }
        if !small.is_empty() {
            each(self.expand(small));
        }
    }

    /// Whether [`JsonCx::walk`] may find many records in `v`: an array, or an object large
    /// enough to be looked at as an envelope first.
    fn may_hold_many(v: &RawValue) -> bool {
        let s = v.get();
        s.starts_with('[') || (s.starts_with('{') && s.len() >= LARGE_OBJECT)
    }

    /// [`JsonCx::walk`] of a value that may hold many records, handed to `each` by chunk.
    fn open(&self, raw: &'a RawValue, each: &mut dyn FnMut(Found<'a>)) {
        match self.step(raw) {
            Step::Items(items) => {
                self.expand_by_chunk(items.into_iter().map(Piece::Value).collect(), each)
            }
            Step::Inner(inner) => self.open(inner, each),
            Step::Found(found) => each(found),
        }
    }

    /// A document that is one JSON array; a break in it keeps the elements before it.
    fn document_array(&self, each: &mut dyn FnMut(Found<'a>)) {
        let mut items: Vec<&'a RawValue> = Vec::new();
        let mut de = serde_json::Deserializer::from_str(self.text);
        let result = Collect {
            into: &mut items,
            limit: usize::MAX,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        let mut pieces: Vec<Piece<'a>> = items.into_iter().map(Piece::Value).collect();
        if let Err(e) = result {
            let line = e.line() as u64;
            let tail = &self.text[self.line_start(line)..];
            pieces.push(Piece::Broken(self.reject(
                line,
                Reason::MalformedJson,
                format!("{e}; the rest of the file from this line could not be read"),
                tail,
            )));
        }
        self.expand_by_chunk(pieces, each)
    }

    fn line_start(&self, line: u64) -> usize {
        if line <= 1 || self.lines.newlines.is_empty() {
            0
        } else {
            self.lines.newlines[(line as usize - 2).min(self.lines.newlines.len() - 1)] + 1
        }
    }

    /// A sequence of JSON values (JSON Lines, or one document); a broken value is rejected
    /// and reading goes on at the next line that starts a value.
    fn stream(&self, each: &mut dyn FnMut(Found<'a>)) {
        let mut pieces = Vec::new();
        let mut pos = 0;
        while pos < self.text.len() {
            let rest = &self.text[pos..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&'a RawValue>();
            let mut failed = None;
            for item in stream.by_ref() {
                match item {
                    Ok(v) => pieces.push(Piece::Value(v)),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let Some(err) = failed else { break };
            // The value that failed starts after the last good one.
            let good_end = pos + stream.byte_offset();
            let start =
                good_end + self.text[good_end..].len() - self.text[good_end..].trim_start().len();
            let line = self.lines.line(start);
            let line_end = self.text[start..]
                .find('\n')
                .map_or(self.text.len(), |i| start + i);
            let next = self.next_value_line(line_end);
            let raw_end = if next > start { next } else { line_end };
            pieces.push(Piece::Broken(self.reject(
                line,
                Reason::MalformedJson,
                err.to_string(),
                &self.text[start..raw_end],
            )));
            pos = next.max(line_end);
        }
        self.expand_by_chunk(pieces, each)
    }

    /// Offset of the next line (after `from`) whose first non-blank character opens a value.
    fn next_value_line(&self, from: usize) -> usize {
        let mut at = from;
        while at < self.text.len() {
            let line_start = at + 1;
            if line_start >= self.text.len() {
                return self.text.len();
            }
            let line = &self.text[line_start..];
            let first = line
                .trim_start_matches([' ', '\t', '\r'])
                .as_bytes()
                .first();
            if matches!(first, Some(b'{') | Some(b'[')) {
                return line_start;
            }
            at = line.find('\n').map_or(self.text.len(), |i| line_start + i);
        }
        self.text.len()
    }

    fn walk(&self, raw: &'a RawValue) -> Found<'a> {
        match self.step(raw) {
            // An envelope's array of records: read side by side, in order.
            Step::Items(items) => self.expand(items.into_iter().map(Piece::Value).collect()),
            Step::Inner(inner) => self.walk(inner),
            Step::Found(found) => found,
        }
    }

    /// What a value is, one level down: an array's items, the value a large envelope
    /// wraps, or its records (a record, an envelope read whole, or a reject).
    fn step(&self, raw: &'a RawValue) -> Step<'a> {
        let s = raw.get();
        let line = self.lines.line(self.offset(s));
        let reject =
            |reason, detail: String| Step::Found(vec![Err(self.reject(line, reason, detail, s))]);
        match s.as_bytes().first() {
            Some(b'[') => match serde_json::from_str::<Vec<&'a RawValue>>(s) {
                Ok(items) => Step::Items(items),
                Err(e) => reject(Reason::MalformedJson, e.to_string()),
            },
            Some(b'{') => match self.large_object(s) {
                Some(Shape::ErrorResponse(problem)) => reject(Reason::ErrorResponse, problem),
                Some(Shape::Envelope(inner)) => Step::Inner(inner),
                None => Step::Found(self.object_read_whole(line, s)),
            },
            _ => reject(
                Reason::NotARecord,
                "expected a JSON object (a record), found a bare value".into(),
            ),
        }
    }

    /// An object read into values at once (any object that [`JsonCx::large_object`] does
    /// not route).
    fn object_read_whole(&self, line: u64, s: &'a str) -> Found<'a> {
        let malformed = |e: serde_json::Error| {
            vec![Err(self.reject(
                line,
                Reason::MalformedJson,
                e.to_string(),
                s,
            ))]
        };
        let fields: FieldMap = match serde_json::from_str(s) {
            Ok(m) => m,
            Err(e) => return malformed(e),
        };
        if !(self.is_record)(&|k| fields.contains_key(k)) {
            if let Some(problem) = error_response(&fields) {
                return vec![Err(self.reject(line, Reason::ErrorResponse, problem, s))];
            }
            let key = ENVELOPE_KEYS.iter().find(|k| {
                matches!(
                    fields.get(k),
                    Some(Value::Array(_)) | Some(Value::Object(_))
                )
            });
            if let Some(key) = key {
                let inner: HashMap<&str, &'a RawValue> = match serde_json::from_str(s) {
                    Ok(m) => m,
                    Err(e) => return malformed(e),
                };
                if let Some(v) = inner.get(*key) {
                    return self.walk(v);
                }
            }
        }
        vec![Ok(Record {
            file: self.file,
            line,
            fields,
            raw: s,
        })]
    }
}

/// Objects this long are looked at field by field before their values are read: an
/// envelope (a page of an API's list, `{"data": {"results": [...]}}`) is megabytes, and
/// reading all of it into values only to find the array of records in it read every
/// record twice more, on one thread. Records are a few hundred bytes.
const LARGE_OBJECT: usize = 64 * 1024;

/// What a large object turned out to be, from its fields' names and raw text.
enum Shape<'a> {
    /// An envelope reporting failure.
    ErrorResponse(String),
    /// An envelope around this value.
    Envelope(&'a RawValue),
}

/// An object's fields as names and raw text, in order.
struct ShallowFields<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for ShallowFields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = ShallowFields<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(field) = access.next_entry::<String, &'de RawValue>()? {
                    fields.push(field);
                }
                Ok(ShallowFields(fields))
            }
        }
        d.deserialize_map(Fields)
    }
}

impl<'a> JsonCx<'a, '_, '_> {
    /// An object of at least [`LARGE_OBJECT`] bytes that is an envelope, decided as
    /// [`JsonCx::object_read_whole`] decides on its values: not a record by the vendor's
    /// rule, then an error response, then the first envelope key holding an array or object
    /// (a repeated field counts by its last value, as when read into values). `None` for
    /// anything else (a record, a malformed object), which is read in full.
    fn large_object(&self, s: &'a str) -> Option<Shape<'a>> {
        if s.len() < LARGE_OBJECT {
            return None;
        }
        let ShallowFields(fields) = serde_json::from_str(s).ok()?;
        let last = |k: &str| fields.iter().rev().find(|(n, _)| n == k).map(|(_, v)| *v);
        if (self.is_record)(&|k| last(k).is_some()) {
            return None;
        }
        let reports: FieldMap = REPORT_FIELDS
            .into_iter()
            .filter_map(|k| Some((k.to_string(), serde_json::from_str(last(k)?.get()).ok()?)))
            .collect();
        if let Some(problem) = error_response(&reports) {
            return Some(Shape::ErrorResponse(problem));
        }
        ENVELOPE_KEYS
            .iter()
            .find_map(|k| last(k).filter(|v| v.get().starts_with(['[', '{'])))
            .map(Shape::Envelope)
    }

    /// The fields of the first record in a value, the one [`JsonCx::walk`] finds first,
    /// without reading the records after it.
    fn first_record(&self, raw: &'a RawValue) -> Option<FieldMap> {
        let s = raw.get();
        match s.as_bytes().first() {
            Some(b'[') => serde_json::from_str::<Vec<&'a RawValue>>(s)
                .ok()?
                .into_iter()
                .find_map(|i| self.first_record(i)),
            Some(b'{') => match self.large_object(s) {
                Some(Shape::ErrorResponse(_)) => None,
                Some(Shape::Envelope(inner)) => self.first_record(inner),
                None => self
                    .object_read_whole(0, s)
                    .into_iter()
                    .find_map(Result::ok)
                    .map(|r| r.fields),
            },
            _ => None,
        }
    }
}

/// The fields [`error_response`] reads: a large object has only these read into values
/// to tell whether it reports failure ([`JsonCx::large_object`]).
const REPORT_FIELDS: [&str; 3] = ["status_code", "errors", "error"];

/// An envelope that reports failure: `status_code` ≥ 300, or a non-empty `errors`/`error`.
fn error_response(fields: &FieldMap) -> Option<String> {
    let status = fields.get("status_code").and_then(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    });
    let errors = ["errors", "error"]
        .iter()
        .find_map(|k| match fields.get(k) {
            Some(Value::Object(m)) if !m.is_empty() => Some(Value::Object(m.clone()).to_string()),
            Some(Value::Array(a)) if !a.is_empty() => Some(Value::Array(a.clone()).to_string()),
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        });
    match (status, errors) {
        (Some(code), errs) if code >= 300 => Some(format!(
            "the response reports status {code}{}",
            errs.map(|e| format!(": {e}")).unwrap_or_default()
        )),
        (_, Some(errs)) => Some(format!("the response reports errors: {errs}")),
        _ => None,
    }
}

/// Collects the elements of a JSON array into a vector as they are read, so that those
/// before a syntax error are kept; stops (with an error) after `limit` elements.
struct Collect<'v, 'a> {
    into: &'v mut Vec<&'a RawValue>,
    limit: usize,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Collect<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Collect<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            self.into.push(item);
            if self.into.len() >= self.limit {
                return Err(serde::de::Error::custom("enough elements read"));
            }
        }
        Ok(())
    }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    let header = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| (count_outside_quotes(header, *d), *d == b','))
        .unwrap_or(b',');
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    line.bytes()
        .filter(|&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            !quoted && b == delimiter
        })
        .count()
}

fn clean_headers(h: &csv::StringRecord) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    h.iter()
        .enumerate()
        .map(|(i, name)| {
            let name = name.trim().trim_start_matches('\u{feff}').to_string();
            let name = if name.is_empty() {
                format!("column_{}", i + 1)
            } else {
                name
            };
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                format!("{name}_{n}")
            } else {
                name
            }
        })
        .collect()
}

fn csv_records<'a>(
    file: &'a FileData,
    lines: &LineIndex,
    place: Place<'_>,
    chunk: usize,
    each: &mut dyn FnMut(Found<'a>),
) {
    let text = file.text.as_str();
    let mut rdr = csv_reader(text);
    let headers = match rdr.headers() {
        Ok(h) => clean_headers(h),
        Err(e) => {
            let p = Place { line: 1, ..place };
            return each(vec![Err(p.reject(
                Stage::Extract,
                Reason::MalformedCsvRow,
                "",
                format!("the header row cannot be read: {e}"),
                text.lines().next().unwrap_or(""),
            ))]);
        }
    };
    // Reading rows is sequential; building records from them runs in parallel, a chunk
    // of rows at a time.
    let records_of = |rows: Vec<Result<(u64, csv::StringRecord, &'a str), Reject>>| -> Found<'a> {
        rows.into_par_iter()
            .map(|row| {
                let (line, record, raw) = row?;
                csv_row(
                    &file.display,
                    &headers,
                    &record,
                    raw,
                    Place { line, ..place },
                )
            })
            .collect()
    };
    let mut rows: Vec<Result<(u64, csv::StringRecord, &'a str), Reject>> = Vec::new();
    loop {
        if rows.len() == chunk {
            each(records_of(std::mem::take(&mut rows)));
        }
        let start = rdr.position().clone();
        let mut record = csv::StringRecord::new();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let end = (rdr.position().byte() as usize).min(text.len());
                let begin = record.position().map_or(start.byte(), |p| p.byte()) as usize;
                // Counted from the byte offset: the same rule as for JSON records.
                let begin = skip_line_ends(text, begin).min(end);
                rows.push(Ok((lines.line(begin), record, &text[begin..end])));
            }
            Err(e) => {
                let line = lines.line(skip_line_ends(text, start.byte() as usize));
                let p = Place { line, ..place };
                rows.push(Err(p.reject(
                    Stage::Extract,
                    Reason::MalformedCsvRow,
                    "",
                    e.to_string(),
                    "",
                )));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    if !rows.is_empty() {
        each(records_of(rows));
    }
}

/// The offset of the first character after any line ends at `at`.
fn skip_line_ends(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    at + (rest.len() - rest.trim_start_matches(['\r', '\n']).len())
}

fn csv_row<'a>(
    file: &'a str,
    headers: &[String],
    record: &csv::StringRecord,
    raw: &'a str,
    p: Place<'_>,
) -> Result<Record<'a>, Reject> {
    let extra_filled = record
        .iter()
        .skip(headers.len())
        .any(|v| !v.trim().is_empty());
    if record.len() < headers.len() || extra_filled {
        return Err(p.reject(
            Stage::Extract,
            Reason::MalformedCsvRow,
            "",
            format!(
                "the row has {} fields, the header has {}",
                record.len(),
                headers.len()
            ),
            raw,
        ));
    }
    let mut fields = FieldMap::new();
    for (name, value) in headers.iter().zip(record.iter()) {
        if !value.trim().is_empty() {
            fields.insert(name.as_str().into(), Value::String(value.to_string()));
        }
    }
    if fields.is_empty() {
        return Err(p.reject(
            Stage::Extract,
            Reason::EmptyRecord,
            "",
            "every field of the row is blank",
            raw,
        ));
    }
    Ok(Record {
        file,
        line: p.line,
        fields,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::System;

    fn file(text: &str, format: Format) -> FileData {
        FileData {
            display: "f".into(),
            bytes: text.len() as u64,
            sha256: String::new(),
            text: text.into(),
            format,
            warnings: Vec::new(),
        }
    }

    fn place() -> Place<'static> {
        Place {
            system: System::Csv,
            source_index: 0,
            file: "f",
            line: 0,
        }
    }

    fn no(_: &dyn Fn(&str) -> bool) -> bool {
        false
    }

    fn event(has: &dyn Fn(&str) -> bool) -> bool {
        has("event")
    }

    fn lines_of(v: &[Result<Record<'_>, Reject>]) -> Vec<Result<u64, (u64, &'static str)>> {
        v.iter()
            .map(|r| match r {
                Ok(rec) => Ok(rec.line),
                Err(rej) => Err((rej.line, rej.reason.as_str())),
            })
            .collect()
    }

    #[test]
    fn json_array_lines() {
        let f = file("[\n {\"a\": 1},\n {\"a\": 2}\n]\n", Format::Json);
        assert_eq!(lines_of(&records(&f, place(), no)), [Ok(2), Ok(3)]);
    }

    #[test]
    fn broken_array_keeps_what_came_before() {
        let f = file("[\n {\"a\": 1},\n {\"a\": },\n {\"a\": 3}\n]", Format::Json);
        let r = records(&f, place(), no);
        assert_eq!(lines_of(&r), [Ok(2), Err((3, "malformed_json"))]);
    }

    #[test]
    fn jsonl_with_a_bad_line_goes_on() {
        let f = file(
            "{\"a\": 1}\n{\"a\": \n{\"a\": 3}\r\n\n{\"a\": 4}\n",
            Format::Jsonl,
        );
        let r = records(&f, place(), no);
        assert_eq!(
            lines_of(&r),
            [Ok(1), Err((2, "malformed_json")), Ok(3), Ok(5)]
        );
        assert_eq!(r[1].as_ref().unwrap_err().raw, "{\"a\": ");
    }

    #[test]
    fn envelopes_unwrap_and_errors_reject() {
        let text = r#"{"status_code": 200, "errors": {}, "data": {"count": 2, "next": null, "results": [
  {"slug": "a"},
  {"slug": "b"}]}}
{"status_code": 400, "errors": {"slug": ["Requested slug is invalid."]}, "data": {}}
{"data": {"slug": "c"}}
"#;
        let f = file(text, Format::Jsonl);
        let r = records(&f, place(), no);
        assert_eq!(
            lines_of(&r),
            [Ok(2), Ok(3), Err((4, "error_response")), Ok(5)]
        );
    }

    #[test]
    fn vendor_records_are_not_unwrapped() {
        let f = file(
            r#"[{"event": "lead.created", "data": {"id": 1}}]"#,
            Format::Json,
        );
        let r = records(&f, place(), event);
        assert!(r[0].as_ref().unwrap().fields.contains_key("event"));
    }

    /// A record's line and fields, or a reject's line and reason.
    type Outcome = Result<(u64, FieldMap), (u64, &'static str)>;

    /// Objects of [`LARGE_OBJECT`] bytes or more are routed by their fields' raw text
    /// before being read into values: every shape gives what the same object gives when
    /// small (the records, their lines and fields, the rejects), and so does the first
    /// record `field_names` reads.
    #[test]
    fn large_objects_read_as_small_ones() {
        let shapes = [
            r#"{"status_code": 200, "errors": {}, PAD"data": {"count": 2, "next": null, "results": [
  {"slug": "a"},
  {"slug": "b", "nested": {"x": [1, 2.5, "\u00e9"]}}]}}"#,
            r#"{"status_code": 400, PAD"errors": {"slug": ["Requested slug is invalid."]}, "data": {}}"#,
            r#"{PAD"error": "rate limited", "data": [{"slug": "x"}]}"#,
            r#"{PAD"data": {"slug": "c"}}"#,
            r#"{"event": "lead.created", PAD"data": {"id": 1}}"#,
            r#"{PAD"data": [], "data": [{"slug": "the last data counts"}]}"#,
            r#"{PAD"results": [{"slug": "d"}, {"slug": }]}"#,
            r#"{PAD"leads": [{"slug": "e"}, 3, [{"slug": "f"}]]}"#,
            r#"{PAD"id": 7, "name": "a large record"}"#,
        ];
        let padding = format!(r#""padding": "{}", "#, "x".repeat(LARGE_OBJECT));
        let small = shapes.join("\n").replace("PAD", "");
        let large = shapes.join("\n").replace("PAD", &padding);
        let read = |text: &str| {
            let f = file(text, Format::Jsonl);
            let names = field_names(&f, event);
            let found: Vec<Outcome> = records(&f, place(), event)
                .into_iter()
                .map(|r| match r {
                    Ok(mut rec) => {
                        rec.fields.remove("padding");
                        Ok((rec.line, rec.fields))
                    }
                    Err(rej) => Err((rej.line, rej.reason.as_str())),
                })
                .collect();
            (names, found)
        };
        let (small_names, small_found) = read(&small);
        let (large_names, large_found) = read(&large);
        assert_eq!(large_found, small_found);
        assert_eq!(large_names, small_names);
        assert_eq!(small_names, ["slug"]);
        let lines: Vec<Result<u64, (u64, &str)>> = small_found
            .iter()
            .map(|r| r.as_ref().map(|(line, _)| *line).map_err(|e| *e))
            .collect();
        assert_eq!(
            lines,
            [
                Ok(2),
                Ok(3),
                Err((4, "error_response")),
                Err((5, "error_response")),
                Ok(6),
                Ok(7),
                Ok(8),
                Err((9, "malformed_json")),
                Ok(10),
                Err((10, "not_a_record")),
                Ok(10),
                Ok(11)
            ]
        );
    }

    #[test]
    fn records_read_by_chunk_are_the_records_read_whole() {
        let padding = format!(r#""padding": "{}", "#, "x".repeat(LARGE_OBJECT));
        let envelope = |pad: &str| {
            format!(
                r#"{{{pad}"data": {{{pad}"results": [{{"slug": "a"}}, {{"slug": "b"}}, 3, {{"slug": "c"}},
  {{"slug": "d"}}, [{{"slug": "e"}}, {{"slug": "f"}}]]}}}}"#
            )
        };
        let texts = [
            (
                r#"[{"id": 1}, {"id": 2}, 7, {"id": 3}, {"id": 4}, {"id": 5}, {"id": "#
                    .to_string(),
                Format::Json,
            ),
            (
                "{\"id\": 1}\n{\"id\": \n{\"id\": 2}\n[{\"id\": 3}, {\"id\": 4}]\n{\"id\": 5}\n"
                    .to_string(),
                Format::Jsonl,
            ),
            (
                format!("{}\n{}\n{{\"id\": 9}}\n", envelope(""), envelope(&padding)),
                Format::Jsonl,
            ),
            (
                "name,email\nAnn,a@x.com\nBob,b@x.com,extra\nCy,c@x.com\nEd,e@x.com\nFay,f@x.com\n\"Di,d@x.com\n"
                    .to_string(),
                Format::Csv,
            ),
        ];
        type Seen = Result<(u64, Vec<(String, String)>), (u64, &'static str, String)>;
        let seen = |found: &Found<'_>| -> Vec<Seen> {
            found
                .iter()
                .map(|r| match r {
                    Ok(rec) => Ok((
                        rec.line,
                        rec.fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .filter(|(k, _)| k != "padding")
                            .collect(),
                    )),
                    Err(rej) => Err((rej.line, rej.reason.as_str(), rej.detail.clone())),
                })
                .collect()
        };
        for (text, format) in &texts {
            let f = file(text, *format);
            let whole = seen(&records(&f, place(), no));
            assert!(whole.len() >= 5, "{format:?}: {whole:?}");
            for chunk in 1..=4 {
                let mut chunks: Vec<Found<'_>> = Vec::new();
                records_in_chunks_of(&f, place(), no, chunk, &mut |found| chunks.push(found));
                assert!(chunks.iter().all(|c| !c.is_empty()));
                if *format == Format::Csv {
                    assert!(chunks.iter().all(|c| c.len() <= chunk), "{chunks:?}");
                }
                if chunk == 1 && *format != Format::Csv {
                    assert!(
                        chunks.len() > 3,
                        "{format:?} read in {} chunks: {whole:?}",
                        chunks.len()
                    );
                }
                let joined: Vec<Seen> = chunks.iter().flat_map(&seen).collect();
                assert_eq!(joined, whole, "{format:?} in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn bare_values_are_not_records() {
        let f = file("[1, {\"a\": 1}]", Format::Json);
        assert_eq!(
            lines_of(&records(&f, place(), no)),
            [Err((1, "not_a_record")), Ok(1)]
        );
    }

    #[test]
    fn csv_rows() {
        let text =
            "name;email\r\nAnn;a@x.com\r\n;\r\nBob;b@x.com;extra\r\n\"Multi\nLine\";c@x.com\r\n";
        let f = file(text, Format::Csv);
        let r = records(&f, place(), no);
        assert_eq!(
            lines_of(&r),
            [
                Ok(2),
                Err((3, "empty_record")),
                Err((4, "malformed_csv_row")),
                Ok(5)
            ]
        );
        assert_eq!(
            r[0].as_ref().unwrap().fields.get("email").unwrap(),
            "a@x.com"
        );
        assert_eq!(
            r[3].as_ref().unwrap().fields.get("name").unwrap(),
            "Multi\nLine"
        );
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect_format(Path::new("a.jsonl.gz"), ""), Format::Jsonl);
        assert_eq!(detect_format(Path::new("a.CSV"), ""), Format::Csv);
        assert_eq!(detect_format(Path::new("dump"), " [{}]"), Format::Json);
    }

    #[test]
    fn decodes_bom_and_latin1() {
        let mut w = Vec::new();
        assert_eq!(decode(b"\xef\xbb\xbfa,b".to_vec(), "f", &mut w), "a,b");
        assert_eq!(decode(b"Jo\xe3o".to_vec(), "f", &mut w), "João");
        assert_eq!(w.len(), 1);
    }
}
