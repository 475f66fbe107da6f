//! Reconciled datasets: `leads.parquet` (typed: timestamps as UTC timestamps, lists as
//! lists) and `leads.csv` (lists joined with `|`, `custom` as a JSON object), plus
//! `rejects.csv`. The row → column conversion lives here and only here.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use compact_str::CompactString;
use polars::prelude::*;
use polars_arrow::array::{
    Array as _, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray,
};
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    array_to_columns, fallible_streaming_iterator, get_dtype_encoding, CompressedPage,
    CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding, FileWriter,
    ParquetType, StatisticsOptions, Version, WriteOptions, ZstdLevel,
};
use rayon::prelude::*;

use crate::lead::Lead;
use crate::reject::Reject;

/// Errors writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// CSV encoding failed.
    #[error("cannot write {path}: {source}")]
    Csv {
        /// The file.
        path: String,
        /// Why.
        source: csv::Error,
    },
    /// Parquet encoding failed.
    #[error("cannot write {path}: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// The columns of `leads.parquet` and `leads.csv`, in order.
pub const LEAD_COLUMNS: [&str; 38] = [
    "lead_key",
    "source_system",
    "source_name",
    "source_file",
    "source_line",
    "source_id",
    "agent_id",
    "contact_id",
    "match_score",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "email2",
    "phone",
    "phone2",
    "phone_kind",
    "email_raw",
    "email2_raw",
    "phone_raw",
    "phone2_raw",
    "kind",
    "kind_raw",
    "status",
    "status_raw",
    "marketing_source",
    "listing_ref",
    "address",
    "city",
    "region",
    "postcode",
    "country",
    "message",
    "tags",
    "custom",
    "created_at",
    "updated_at",
    "quality",
];

/// One cell of a lead row.
enum Cell<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Int(u64),
    Float(Option<f64>),
    Time(Option<DateTime<Utc>>),
    List(Vec<&'a str>),
}

fn raw_at(v: &[CompactString], i: usize) -> Option<&str> {
    v.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A lead's cells, one per column of [`LEAD_COLUMNS`].
type Row<'a> = [Cell<'a>; LEAD_COLUMNS.len()];

fn cells<'a>(lead: &'a Lead, source_names: &'a [String]) -> Row<'a> {
    use Cell::*;
    // Room for most leads' extra fields (about 150 bytes of JSON on average).
    let custom = (!lead.custom.is_empty())
        .then(|| crate::json::to_string_with_capacity(&lead.custom, 256).unwrap_or_default());
    [
        Text(Some(&lead.lead_key)),
        Text(lead.system.map(|s| s.as_str())),
        Text(
            source_names
                .get(lead.source.source_index)
                .map(String::as_str),
        ),
        Text(Some(&lead.source.file)),
        Int(lead.source.line),
        Text(lead.source.source_id.as_deref()),
        Text(lead.agent_id.as_deref()),
        Text(lead.contact_id.as_deref()),
        Float(lead.match_score),
        Text(lead.first_name.as_deref()),
        Text(lead.last_name.as_deref()),
        Text(lead.full_name.as_deref()),
        Text(lead.email.as_ref().map(|e| e.as_str())),
        Text(lead.email2.as_ref().map(|e| e.as_str())),
        Text(lead.phone.as_ref().map(|p| p.as_str())),
        Text(lead.phone2.as_ref().map(|p| p.as_str())),
        Text(Some(lead.phone_kind.as_str())),
        Text(raw_at(&lead.raw.emails, 0)),
        Text(raw_at(&lead.raw.emails, 1)),
        Text(raw_at(&lead.raw.phones, 0)),
        Text(raw_at(&lead.raw.phones, 1)),
        Text(Some(lead.kind.as_str())),
        Text(lead.kind_raw.as_deref()),
        Text(Some(lead.status.as_str())),
        Text(lead.status_raw.as_deref()),
        Text(lead.marketing_source.as_deref()),
        Text(lead.listing_ref.as_deref()),
        Text(lead.address.as_deref()),
        Text(lead.city.as_deref()),
        Text(lead.region.as_deref()),
        Text(lead.postcode.as_deref()),
        Text(lead.country.as_deref()),
        Text(lead.message.as_deref()),
        List(lead.tags.iter().map(String::as_str).collect()),
        Owned(custom),
        Time(lead.created_at),
        Time(lead.updated_at),
        List(lead.quality.names().collect()),
    ]
}

/// A timestamp as written to CSV: RFC 3339 UTC, fractions only when present.
pub fn csv_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn create(path: &Path) -> Result<BufWriter<File>, WriteError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| WriteError::Io {
            path: path.display().to_string(),
            source,
        })
}

/// Writes `leads.csv`.
pub fn write_leads_csv(
    path: &Path,
    leads: &[Lead],
    source_names: &[String],
) -> Result<(), WriteError> {
    write_csv(path, &LEAD_COLUMNS, |w| {
        let mut buf = String::new();
        for lead in leads {
            for cell in cells(lead, source_names) {
                w.write_field(csv_field(&cell, &mut buf))?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        Ok(())
    })
}

/// A cell as `leads.csv` writes it (`buf` holds what needs formatting).
fn csv_field<'c>(cell: &'c Cell<'_>, buf: &'c mut String) -> &'c str {
    buf.clear();
    match cell {
        Cell::Text(t) => t.unwrap_or(""),
        Cell::Owned(t) => t.as_deref().unwrap_or(""),
        Cell::Int(n) => {
            let _ = write!(buf, "{n}");
            buf
        }
        Cell::Float(f) => {
            float_into(buf, *f);
            buf
        }
        Cell::Time(t) => {
            time_into(buf, t.as_ref());
            buf
        }
        Cell::List(items) => {
            join_into(buf, items.iter().copied());
            buf
        }
    }
}

/// The leads' cells, made on every core.
fn rows_of<'a>(leads: &'a [Lead], source_names: &'a [String]) -> Vec<Row<'a>> {
    leads.par_iter().map(|l| cells(l, source_names)).collect()
}

/// How many leads' rows `write_leads` makes at a time: their cells (38 a lead, about
/// 1.2 KB) are held until both files have them.
const ROWS_AT_ONCE: usize = 4096;

/// Writes `leads.parquet` and `leads.csv` together, a row group at a time: each lead's
/// cells (its extra fields as JSON among them) are made once for both files, which are
/// those [`write_leads_parquet`] and [`write_leads_csv`] write. `windows` gives the leads
/// in order, a few thousand at a time, each made when it is asked for (the run's leads
/// are packed, see [`crate::packed`]): a row group takes windows until the next would
/// take it past [`GROUP_ROWS`] rows (so windows whose length divides it, but the last,
/// make the same row groups as the leads whole). Each window is given to `each_window`
/// once its rows are made, and freed: the row group's columns hold copies of what they
/// show, so only one window's leads are held at a time.
pub fn write_leads(
    parquet: &Path,
    csv: &Path,
    windows: impl Iterator<Item = Vec<Lead>>,
    source_names: &[String],
    each_window: impl FnMut(&[Lead]),
) -> Result<(), WriteError> {
    let windows = std::cell::RefCell::new(windows.filter(|w| !w.is_empty()).peekable());
    if windows.borrow_mut().peek().is_none() {
        write_leads_parquet(parquet, &[], source_names)?;
        return write_leads_csv(csv, &[], source_names);
    }
    let each_window = std::cell::RefCell::new(each_window);
    let each_window = &each_window;
    // The next window of a row group that has `rows` rows so far, if it fits.
    let next_window = |rows: usize| {
        let mut windows = windows.borrow_mut();
        let fits = windows
            .peek()
            .is_some_and(|next| rows == 0 || rows + next.len() <= GROUP_ROWS);
        fits.then(|| windows.next().expect("peeked"))
    };
    let next_window = &next_window;
    // A group takes its windows when it is written: `write_csv_and_parquet` writes each
    // group before it asks for the next.
    let groups = std::iter::from_fn(|| {
        // Room for one window: a small run's columns stay small.
        let first = windows.borrow_mut().peek().map(Vec::len)?;
        Some(move |w: &mut CsvFile, buf: &mut String| {
            let mut columns = LeadColumns::new(first, source_names);
            let mut rows = 0;
            while let Some(window) = next_window(rows) {
                for part in window.chunks(ROWS_AT_ONCE) {
                    // The part's cells are made on every core; then its CSV rows (one
                    // stream, in order) are written while its columns, each on its own,
                    // are filled beside them.
                    let part = rows_of(part, source_names);
                    let (written, ()) = rayon::join(
                        || -> csv::Result<()> {
                            for row in &part {
                                for cell in row {
                                    w.write_field(csv_field(cell, buf))?;
                                }
                                w.write_record(None::<&[u8]>)?;
                            }
                            Ok(())
                        },
                        || columns.push_rows(&part),
                    );
                    written?;
                }
                rows += window.len();
                (each_window.borrow_mut())(&window);
                crate::allocator::drop_on_pool(window);
            }
            Ok(columns.finish(rows))
        })
    });
    write_csv_and_parquet(csv, &LEAD_COLUMNS, parquet, groups)
}

/// Writes a CSV file and a Parquet file in one pass over row groups: each of `groups`
/// writes its rows to the CSV (with a scratch buffer) and gives back its frame, written as
/// one row group. A CSV error ends the pass and is the error reported; no group writes
/// the CSV header only, and no Parquet file.
pub fn write_csv_and_parquet<G>(
    csv: &Path,
    header: &[&str],
    parquet: &Path,
    groups: impl Iterator<Item = G>,
) -> Result<(), WriteError>
where
    G: FnOnce(&mut CsvFile, &mut String) -> csv::Result<PolarsResult<DataFrame>>,
{
    let mut parquet_written = Ok(());
    write_csv(csv, header, |w| {
        let mut buf = String::new();
        let mut csv_failed = None;
        let frames = groups.map_while(|group| match group(w, &mut buf) {
            Ok(frame) => Some(frame),
            Err(e) => {
                csv_failed = Some(e);
                None
            }
        });
        parquet_written = write_parquet_groups(parquet, frames);
        csv_failed.map_or(Ok(()), Err)
    })?;
    parquet_written
}

/// A number as CSV cells show it (six decimals) into `buf`; nothing for none.
pub fn float_into(buf: &mut String, f: Option<f64>) {
    if let Some(f) = f {
        let _ = write!(buf, "{f:.6}");
    }
}

/// A time as CSV cells show it ([`csv_time`]) into `buf`; nothing for none.
pub fn time_into(buf: &mut String, t: Option<&DateTime<Utc>>) {
    if let Some(t) = t {
        buf.push_str(&csv_time(t));
    }
}

/// `items` joined with `|` into `buf` (as CSV cells hold lists).
pub fn join_into<'a>(buf: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            buf.push('|');
        }
        buf.push_str(item);
    }
}

/// A CSV file being written.
pub type CsvFile = csv::Writer<BufWriter<File>>;

/// Writes a CSV file: the header, then whatever `rows` writes.
pub fn write_csv(
    path: &Path,
    header: &[&str],
    rows: impl FnOnce(&mut CsvFile) -> csv::Result<()>,
) -> Result<(), WriteError> {
    let csv_err = |source| WriteError::Csv {
        path: path.display().to_string(),
        source,
    };
    let mut w = csv::Writer::from_writer(create(path)?);
    w.write_record(header).map_err(csv_err)?;
    rows(&mut w).map_err(csv_err)?;
    w.flush().map_err(|source| WriteError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The leads as a data frame with the canonical columns and types.
pub fn leads_frame(leads: &[Lead], source_names: &[String]) -> PolarsResult<DataFrame> {
    if leads.is_empty() {
        return empty_frame();
    }
    let mut columns = LeadColumns::new(leads.len(), source_names);
    for part in leads.chunks(ROWS_AT_ONCE) {
        columns.push_rows(&rows_of(part, source_names));
    }
    columns.finish(leads.len())
}

/// One column of [`leads_frame`] being filled. Text is copied into the column as it
/// comes, so a column holds nothing of the leads it was made from.
enum Builder {
    Text(StringChunkedBuilder),
    Int(Vec<u64>),
    Float(Vec<Option<f64>>),
    Time(Vec<Option<i64>>),
    List(Box<ListStringChunkedBuilder>),
}

/// The columns of a leads frame, filled cell by cell.
struct LeadColumns {
    builders: Vec<Builder>,
}

impl LeadColumns {
    /// Empty columns typed by a lead's cells (the same for every lead), with room for
    /// `rows`.
    fn new(rows: usize, source_names: &[String]) -> LeadColumns {
        let builders = cells(&Lead::default(), source_names)
            .iter()
            .zip(LEAD_COLUMNS)
            .map(|(cell, name)| match cell {
                Cell::Text(_) | Cell::Owned(_) => {
                    Builder::Text(StringChunkedBuilder::new(name.into(), rows))
                }
                Cell::Int(_) => Builder::Int(Vec::with_capacity(rows)),
                Cell::Float(_) => Builder::Float(Vec::with_capacity(rows)),
                Cell::Time(_) => Builder::Time(Vec::with_capacity(rows)),
                Cell::List(_) => Builder::List(Box::new(ListStringChunkedBuilder::new(
                    name.into(),
                    rows,
                    rows,
                ))),
            })
            .collect();
        LeadColumns { builders }
    }

    /// Adds rows of cells, each column filled on its own (side by side on the pool).
    fn push_rows(&mut self, rows: &[Row<'_>]) {
        self.builders
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, builder)| {
                for row in rows {
                    Self::push(builder, &row[c]);
                }
            });
    }

    /// Adds a cell to its column's builder.
    fn push(builder: &mut Builder, cell: &Cell<'_>) {
        match (cell, builder) {
            (Cell::Text(t), Builder::Text(b)) => b.append_option(*t),
            (Cell::Owned(t), Builder::Text(b)) => b.append_option(t.as_deref()),
            (Cell::Int(x), Builder::Int(v)) => v.push(*x),
            (Cell::Float(x), Builder::Float(v)) => v.push(*x),
            (Cell::Time(t), Builder::Time(v)) => v.push(t.map(|t| t.timestamp_micros())),
            (Cell::List(items), Builder::List(b)) => b.append_values_iter(items.iter().copied()),
            _ => unreachable!("a column's cells all have one type"),
        }
    }

    /// The frame of `rows` leads.
    fn finish(self, rows: usize) -> PolarsResult<DataFrame> {
        let columns: Vec<Column> = self
            .builders
            .into_iter()
            .zip(LEAD_COLUMNS)
            .map(|(b, name)| match b {
                Builder::Text(b) => b.finish().into_column(),
                Builder::Int(v) => Column::new(name.into(), v),
                Builder::Float(v) => Column::new(name.into(), v),
                Builder::Time(v) => Int64Chunked::from_iter_options(name.into(), v.into_iter())
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_series()
                    .into_column(),
                Builder::List(mut b) => b.finish().into_series().into_column(),
            })
            .collect();
        DataFrame::new(rows, columns)
    }
}

fn empty_frame() -> PolarsResult<DataFrame> {
    let lead = Lead::default();
    let names = Vec::new();
    let columns: Vec<Column> = cells(&lead, &names)
        .iter()
        .zip(LEAD_COLUMNS)
        .map(|(cell, name)| {
            let dtype = match cell {
                Cell::Text(_) | Cell::Owned(_) => DataType::String,
                Cell::Int(_) => DataType::UInt64,
                Cell::Float(_) => DataType::Float64,
                Cell::Time(_) => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
                Cell::List(_) => DataType::List(Box::new(DataType::String)),
            };
            Column::new_empty(name.into(), &dtype)
        })
        .collect();
    DataFrame::new(0, columns)
}

/// Rows per row group of the Parquet outputs that can be large (leads, contacts,
/// matches): each is written a group at a time, never every row as columns at once.
pub const GROUP_ROWS: usize = 512 * 512;

/// Writes `leads.parquet` (zstd), a row group of [`GROUP_ROWS`] leads at a time.
pub fn write_leads_parquet(
    path: &Path,
    leads: &[Lead],
    source_names: &[String],
) -> Result<(), WriteError> {
    if leads.is_empty() {
        let mut df = empty_frame().map_err(parquet_error(path))?;
        return write_parquet(path, &mut df);
    }
    write_parquet_groups(
        path,
        leads
            .chunks(GROUP_ROWS)
            .map(|chunk| leads_frame(chunk, source_names)),
    )
}

fn parquet_error(path: &Path) -> impl Fn(PolarsError) -> WriteError + '_ {
    move |e| WriteError::Parquet {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Columns whose values come from a small vocabulary (systems, agents, kinds, statuses,
/// places, decisions, comparison levels and their weights, and a pair's total weight and
/// probability, sums of those weights: about 6,000 values in a row group of 262,144
/// pairs at a million leads), and the first lead of `matches.parquet`'s pairs (sorted by
/// it: 10,000 to 30,000 leads in a row group, each over a run of rows): Parquet
/// dictionary-encodes them. Every other text or float column is written plain: names,
/// emails, phones, the other keys and leads' match scores are mostly distinct, and
/// polars would hash every one of their cells only to find that out (zstd still
/// compresses their repeats).
const DICTIONARY_COLUMNS: [&str; 28] = [
    "lead_key_a",
    "source_system",
    "source_name",
    "source_file",
    "agent_id",
    "phone_kind",
    "kind",
    "kind_raw",
    "status",
    "status_raw",
    "marketing_source",
    "city",
    "region",
    "country",
    "decision",
    "phone_level",
    "email_level",
    "first_name_level",
    "last_name_level",
    "place_level",
    "prior_weight",
    "weight",
    "probability",
    "phone_weight",
    "email_weight",
    "first_name_weight",
    "last_name_weight",
    "place_weight",
];

/// The encodings of one column's Parquet leaves: dictionary for the vocabulary columns,
/// integers and times (polars decides those from their range, without hashing), plain
/// for the rest.
fn column_encodings(name: &str, dtype: &DataType, field: &ArrowField) -> Vec<Encoding> {
    let by_type = get_dtype_encoding(&field.dtype);
    let ranged = dtype.is_integer() || matches!(dtype, DataType::Datetime(..));
    if ranged || DICTIONARY_COLUMNS.contains(&name) {
        by_type
    } else {
        by_type.into_iter().map(|_| Encoding::Plain).collect()
    }
}

/// A vocabulary column's text as the dictionary array Parquet's dictionary encoding
/// writes: each distinct value once, in order of first appearance, and a key per row.
/// Polars makes the same array from the text by hashing every cell (and first estimates
/// the number of distinct values with a HyperLogLog pass): for the ten million rows of
/// `matches.parquet`'s level columns, a second of CPU. Here a row is compared with the
/// row before, then with the few words seen so far, and only a column of more than 16
/// words is hashed. `None` (polars decides as before) for an empty column or one of more
/// than 128 rows whose values are more than half distinct: polars writes such a column
/// plain when its estimate finds three in four distinct, so it is left to that rule.
fn vocabulary(array: &Utf8ViewArray) -> Option<DictionaryArray<u32>> {
    if array.is_empty() {
        return None;
    }
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    let (words, keys) = Words::keys_of(array.len(), validity, |i| array.value(i))?;
    let mut values = MutableBinaryViewArray::<str>::with_capacity(words.len());
    for w in &words {
        values.push_value(*w);
    }
    dictionary(array.dtype(), keys, validity, values.freeze().boxed())
}

/// A float column of few distinct values (the comparison weights of `matches.parquet`,
/// a few thousand in a row group of a quarter million) as a dictionary array, the same
/// way as [`vocabulary`]: values are told apart by their bits, so each is written exactly
/// as it was. Polars would estimate the column's distinct values, then fail to make a
/// dictionary of floats and write them plain (zstd then compresses eight bytes a row).
fn float_vocabulary(array: &PrimitiveArray<f64>) -> Option<DictionaryArray<u32>> {
    if array.is_empty() {
        return None;
    }
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    let cells = array.values();
    let (bits, keys) = Words::keys_of(array.len(), validity, |i| cells[i].to_bits())?;
    let values: Vec<f64> = bits.into_iter().map(f64::from_bits).collect();
    dictionary(
        array.dtype(),
        keys,
        validity,
        PrimitiveArray::<f64>::from_vec(values).boxed(),
    )
}

/// The dictionary array of `keys` into `values` for a column of type `dtype`.
pub(crate) fn dictionary(
    dtype: &polars_arrow::datatypes::ArrowDataType,
    keys: Vec<u32>,
    validity: Option<&polars_arrow::bitmap::Bitmap>,
    values: Box<dyn polars_arrow::array::Array>,
) -> Option<DictionaryArray<u32>> {
    use polars_arrow::datatypes::{ArrowDataType, IntegerType};
    let keys = PrimitiveArray::<u32>::new(ArrowDataType::UInt32, keys.into(), validity.cloned());
    let dtype = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(dtype.clone()), false);
    DictionaryArray::try_new(dtype, keys, values).ok()
}

/// A column's distinct values in order of first appearance, each with its key (its
/// place): looked for among the list while it is short, by hash past 16 values.
pub(crate) struct Words<T> {
    list: Vec<T>,
    index: Option<foldhash::HashMap<T, u32>>,
}

impl<T> Default for Words<T> {
    fn default() -> Words<T> {
        Words {
            list: Vec::new(),
            index: None,
        }
    }
}

impl<T: Copy + Eq + std::hash::Hash> Words<T> {
    /// The key of `word`, added if it is new.
    fn key(&mut self, word: T) -> u32 {
        let next = self.list.len() as u32;
        if let Some(index) = &mut self.index {
            return *index.entry(word).or_insert_with(|| {
                self.list.push(word);
                next
            });
        }
        if let Some(k) = self.list.iter().position(|w| *w == word) {
            return k as u32;
        }
        self.list.push(word);
        if self.list.len() > 16 {
            self.index = Some(self.list.iter().copied().zip(0..).collect());
        }
        next
    }

    /// Each row's key, a row compared with the row before first; null rows get key 0
    /// (their definition level says they are null, so it is never read). `None` when a
    /// column of more than 128 rows is more than half distinct values (see
    /// [`vocabulary`]).
    pub(crate) fn keys_of(
        len: usize,
        validity: Option<&polars_arrow::bitmap::Bitmap>,
        value: impl Fn(usize) -> T,
    ) -> Option<(Vec<T>, Vec<u32>)> {
        let mut words = Words::default();
        let mut keys: Vec<u32> = Vec::with_capacity(len);
        let mut last: Option<(T, u32)> = None;
        for i in 0..len {
            if validity.is_some_and(|v| !v.get_bit(i)) {
                keys.push(0);
                continue;
            }
            let v = value(i);
            let key = match last {
                Some((word, key)) if word == v => key,
                _ => words.key(v),
            };
            // Past half distinct, the rest of the column need not be read.
            if len > 128 && words.list.len() * 2 > len {
                return None;
            }
            last = Some((v, key));
            keys.push(key);
        }
        Some((words.list, keys))
    }
}

/// A Parquet file being written a row group at a time with the settings every Parquet
/// output shares (zstd level 1, [`column_encodings`]): `leadrecon merge` rewrites the parts'
/// files with them and must get a run's bytes. Each row group's columns are encoded and
/// compressed side by side on the rayon pool, then written in column order.
struct ParquetFile {
    writer: FileWriter<BufWriter<File>>,
    /// Each column's Parquet type and its leaves' encodings.
    columns: Vec<(ParquetType, Vec<Encoding>)>,
    options: WriteOptions,
}

impl ParquetFile {
    fn create(path: &Path, schema: &Schema) -> Result<ParquetFile, WriteError> {
        let err = parquet_error(path);
        let arrow = schema.to_arrow(CompatLevel::newest());
        let encodings: Vec<Vec<Encoding>> = schema
            .iter()
            .zip(arrow.iter_values())
            .map(|((name, dtype), field)| column_encodings(name, dtype, field))
            .collect();
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::Zstd(Some(
                ZstdLevel::try_new(1).expect("1 is a zstd level"),
            )),
            version: Version::V1,
            data_page_size: None,
        };
        let writer = FileWriter::try_new(create(path)?, arrow, options).map_err(&err)?;
        let columns = writer
            .parquet_schema()
            .fields()
            .iter()
            .cloned()
            .zip(encodings)
            .collect();
        Ok(ParquetFile {
            writer,
            columns,
            options,
        })
    }

    /// Writes `df` as one row group per chunk of its columns.
    fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            self.write_arrays(batch.len(), batch.columns())?;
        }
        Ok(())
    }

    /// Writes one row group of `rows` rows (none: nothing) from its columns' arrays, in
    /// the schema's order. A column of text may come as a dictionary array already
    /// ([`Values::Coded`](crate::load::table::Values::Coded)): it is written as it is.
    fn write_arrays(&mut self, rows: usize, arrays: &[ArrayRef]) -> PolarsResult<()> {
        if rows == 0 {
            return Ok(());
        }
        let options = self.options;
        let columns: Vec<Vec<Vec<CompressedPage>>> = arrays
            .par_iter()
            .zip(&self.columns)
            .map(|(array, (type_, encodings))| {
                let any = array.as_any();
                let as_dictionary = (encodings[..] == [Encoding::RleDictionary]
                    && any.downcast_ref::<DictionaryArray<u32>>().is_none())
                .then(|| {
                    any.downcast_ref::<Utf8ViewArray>()
                        .and_then(vocabulary)
                        .or_else(|| {
                            any.downcast_ref::<PrimitiveArray<f64>>()
                                .and_then(float_vocabulary)
                        })
                })
                .flatten();
                let array = as_dictionary.map_or_else(|| array.clone(), |d| d.boxed());
                array_to_columns(array, type_.clone(), options, encodings)?
                    .into_iter()
                    .map(|pages| {
                        Compressor::new_from_vec(
                            pages.map(|page| {
                                page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string()))
                            }),
                            options.compression,
                            vec![],
                        )
                        .collect::<Result<Vec<CompressedPage>, ParquetError>>()
                        .map_err(PolarsError::from)
                    })
                    .collect()
            })
            .collect::<PolarsResult<_>>()?;
        let leaves = columns.iter().flatten().map(|pages| {
            Ok(DynStreamingIterator::new(
                fallible_streaming_iterator::convert(pages.iter().map(PolarsResult::Ok)),
            ))
        });
        self.writer.write(rows as u64, DynIter::new(leaves))?;
        Ok(())
    }

    fn finish(mut self) -> PolarsResult<()> {
        self.writer.end(None)?;
        Ok(())
    }
}

/// Writes a frame as one Parquet file, a row group per [`GROUP_ROWS`] rows (none for an
/// empty frame: the file then holds its schema).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), WriteError> {
    let err = parquet_error(path);
    let mut file = ParquetFile::create(path, df.schema())?;
    let df = &*df;
    for offset in (0..df.height()).step_by(GROUP_ROWS) {
        let mut chunk = df.slice(offset as i64, GROUP_ROWS);
        chunk.rechunk_mut();
        file.write(&chunk).map_err(&err)?;
    }
    file.finish().map_err(&err)
}

/// Writes row groups of one schema as one Parquet file, each given as its schema, its
/// rows and its columns' arrays (see [`ParquetFile::write_arrays`]), so only one group is
/// in memory as columns at a time. No group: nothing is written.
pub fn write_parquet_arrays(
    path: &Path,
    groups: impl Iterator<Item = PolarsResult<(Schema, usize, Vec<ArrayRef>)>>,
) -> Result<(), WriteError> {
    write_row_groups(
        path,
        groups,
        |(schema, ..)| schema,
        |file, (_, rows, arrays)| file.write_arrays(*rows, arrays),
    )
}

/// Writes frames of one schema as one Parquet file, a row group per frame, so only one
/// frame is in memory as columns at a time. No frame: nothing is written.
pub fn write_parquet_groups(
    path: &Path,
    frames: impl Iterator<Item = PolarsResult<DataFrame>>,
) -> Result<(), WriteError> {
    write_row_groups(path, frames, |df| df.schema(), ParquetFile::write)
}

/// Writes `groups` as one Parquet file, created with the first group's `schema` and
/// given each group through `write`. No group: nothing is written.
fn write_row_groups<G>(
    path: &Path,
    groups: impl Iterator<Item = PolarsResult<G>>,
    schema: fn(&G) -> &Schema,
    write: fn(&mut ParquetFile, &G) -> PolarsResult<()>,
) -> Result<(), WriteError> {
    let err = parquet_error(path);
    let mut file = None;
    for group in groups {
        let group = group.map_err(&err)?;
        if file.is_none() {
            file = Some(ParquetFile::create(path, schema(&group))?);
        }
        if let Some(f) = file.as_mut() {
            write(f, &group).map_err(&err)?;
        }
    }
    if let Some(f) = file {
        f.finish().map_err(&err)?;
    }
    Ok(())
}

/// The columns of `rejects.csv`.
pub const REJECT_COLUMNS: [&str; 9] = [
    "source", "system", "file", "line", "field", "reason", "stage", "detail", "raw",
];

/// Writes `rejects.csv`.
pub fn write_rejects(
    path: &Path,
    rejects: &[Reject],
    source_names: &[String],
) -> Result<(), WriteError> {
    write_csv(path, &REJECT_COLUMNS, |w| {
        for r in rejects {
            let line = r.line.to_string();
            w.write_record([
                source_names.get(r.source_index).map_or("", String::as_str),
                r.system.as_str(),
                &r.file,
                &line,
                &r.field,
                r.reason.as_str(),
                r.stage.as_str(),
                &r.detail,
                &r.raw,
            ])?;
        }
        Ok(())
    })
}

/// Writes any text file.
pub fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    let mut f = create(path)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.flush())
        .map_err(|source| WriteError::Io {
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{Email, SourceRef, System};
    use chrono::TimeZone;

    /// Polars' dictionary of a text column (what its Parquet writer made before).
    fn polars_dictionary(array: &Utf8ViewArray) -> DictionaryArray<u32> {
        use polars_arrow::datatypes::{ArrowDataType, IntegerType};
        let dtype = ArrowDataType::Dictionary(
            IntegerType::UInt32,
            Box::new(ArrowDataType::Utf8View),
            false,
        );
        let cast = polars::polars_compute::cast::cast(array, &dtype, Default::default()).unwrap();
        cast.as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .unwrap()
            .clone()
    }

    #[test]
    fn vocabularies_are_the_dictionaries_polars_makes() {
        let mut rng = fastrand::Rng::with_seed(3);
        let long = "a word longer than twelve bytes";
        for (rows, words, nulls) in [
            (1, 1, false),
            (50, 3, true),
            (1000, 5, false),
            (1000, 40, true),
            (5000, 300, true),
            (100, 90, false),
        ] {
            let text: Vec<Option<String>> = (0..rows)
                .map(|_| {
                    (!(nulls && rng.u8(..) < 40)).then(|| {
                        let w = rng.usize(..words);
                        if w.is_multiple_of(3) {
                            format!("{long} {w}")
                        } else {
                            format!("w{w}")
                        }
                    })
                })
                .collect();
            let array = Utf8ViewArray::from_slice(&text);
            let ours = vocabulary(&array).expect("a vocabulary");
            let theirs = polars_dictionary(&array);
            assert_eq!(ours.dtype(), theirs.dtype());
            assert_eq!(
                ours.values().as_ref(),
                theirs.values().as_ref(),
                "{rows} rows of {words}"
            );
            assert_eq!(
                ours.keys().validity().map(|v| v.unset_bits()).unwrap_or(0),
                theirs.keys().null_count()
            );
            for i in 0..rows {
                assert_eq!(ours.keys().get(i), theirs.keys().get(i), "row {i}");
            }
        }
        // Every row null: no words, and every key null.
        let nulls = Utf8ViewArray::from_slice([None::<&str>; 10]);
        let (ours, theirs) = (
            vocabulary(&nulls).expect("a vocabulary"),
            polars_dictionary(&nulls),
        );
        assert_eq!(ours.values().len(), 0);
        assert_eq!(
            (ours.keys().null_count(), theirs.keys().null_count()),
            (10, 10)
        );
        // Mostly distinct text over 128 rows, and no rows: polars decides.
        let distinct: Vec<Option<String>> =
            (0..200).map(|i| Some(format!("v{}", i % 150))).collect();
        assert!(vocabulary(&Utf8ViewArray::from_slice(&distinct)).is_none());
        assert!(vocabulary(&Utf8ViewArray::from_slice::<String, _>(
            [] as [Option<String>; 0]
        ))
        .is_none());
    }

    #[test]
    fn vocabulary_columns_get_a_dictionary_and_the_rest_are_plain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let rows = 1000;
        let mut df = DataFrame::new(
            rows,
            vec![
                Column::new(
                    "kind".into(),
                    (0..rows)
                        .map(|i| ["buyer", "seller"][i % 2])
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "first_name".into(),
                    (0..rows).map(|i| ["Ann", "Bo"][i % 2]).collect::<Vec<_>>(),
                ),
                Column::new(
                    "match_score".into(),
                    (0..rows).map(|i| (i % 2) as f64).collect::<Vec<_>>(),
                ),
                Column::new(
                    "source_line".into(),
                    (0..rows).map(|i| (i % 2) as u64).collect::<Vec<_>>(),
                ),
                // Few values, nulls among them, and two zeros that differ in their bits.
                Column::new(
                    "weight".into(),
                    (0..rows)
                        .map(|i| {
                            (i % 7 != 0)
                                .then(|| [-3.25, 0.0, -0.0, 19.637, f64::MIN_POSITIVE][i % 5])
                        })
                        .collect::<Vec<_>>(),
                ),
                // Mostly distinct: plain.
                Column::new(
                    "probability".into(),
                    (0..rows).map(|i| i as f64 / 7.0).collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap();
        write_parquet(&path, &mut df).unwrap();
        let meta = polars_parquet::read::read_metadata(&mut File::open(&path).unwrap()).unwrap();
        let dictionary = |name: &str| {
            meta.row_groups[0]
                .columns_under_root_iter(name)
                .unwrap()
                .all(|c| c.dictionary_page_offset().is_some())
        };
        // Two values each: polars would dictionary-encode all four.
        assert!(dictionary("kind"));
        assert!(dictionary("source_line"));
        assert!(!dictionary("first_name"));
        assert!(!dictionary("match_score"));
        // Floats of a vocabulary column too, when few.
        assert!(dictionary("weight"));
        assert!(!dictionary("probability"));
        // And the file reads back as written, every float to the bit.
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df));
        let bits = |df: &DataFrame| -> Vec<Option<u64>> {
            df.column("weight")
                .unwrap()
                .f64()
                .unwrap()
                .iter()
                .map(|v| v.map(f64::to_bits))
                .collect()
        };
        assert_eq!(bits(&back), bits(&df));
    }

    #[test]
    fn leads_written_together_are_the_files_written_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let names = vec!["crm".to_string()];
        let mut leads: Vec<Lead> = (0..3)
            .map(|i| {
                Lead::new(
                    System::Maxwork,
                    SourceRef {
                        file: "f.json".into(),
                        line: i + 1,
                        source_id: Some(format!("mx-{i}")),
                        ..SourceRef::default()
                    },
                )
            })
            .collect();
        leads[0].first_name = Some("Ann, \"A\"".into());
        leads[0].email = Some(Email("ann@x.com".into()));
        leads[0].tags = vec!["hot".into(), "new".into()];
        leads[0].set_custom("utm_source", "mail");
        leads[1].created_at = Some(Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap());
        leads[2].match_score = Some(0.25);
        for leads in [&leads[..], &[]] {
            write_leads_parquet(&p("apart.parquet"), leads, &names).unwrap();
            write_leads_csv(&p("apart.csv"), leads, &names).unwrap();
            let mut seen = Vec::new();
            write_leads(
                &p("both.parquet"),
                &p("both.csv"),
                leads.chunks(2).map(<[Lead]>::to_vec),
                &names,
                |g| {
                    seen.extend(g.iter().map(|l| l.lead_key.clone()));
                },
            )
            .unwrap();
            let keys: Vec<_> = leads.iter().map(|l| l.lead_key.clone()).collect();
            assert_eq!(
                seen, keys,
                "every lead is given to each_window once, in order"
            );
            for (a, b) in [("apart.parquet", "both.parquet"), ("apart.csv", "both.csv")] {
                assert_eq!(
                    std::fs::read(p(a)).unwrap(),
                    std::fs::read(p(b)).unwrap(),
                    "{b}"
                );
            }
        }
    }
}
