//! Small typed tables (contacts, matches, the review queue) written as Parquet and CSV.

use std::path::Path;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use polars::prelude::*;
use rayon::prelude::*;

use std::fmt::Write as _;

use polars_arrow::array::MutableBinaryViewArray;
use polars_arrow::datatypes::ArrowDataType;

use crate::load::datasets::{
    dictionary, float_into, join_into, time_into, write_csv, write_csv_and_parquet, write_parquet,
    write_parquet_arrays, CsvFile, Words, WriteError,
};

/// One column's values.
pub enum Values<'a> {
    /// Text.
    Text(Vec<Option<String>>),
    /// Text borrowed from the data (lead keys, vocabulary words): no copy per row.
    Borrowed(Vec<&'a str>),
    /// Optional text borrowed from the data.
    BorrowedOpt(Vec<Option<&'a str>>),
    /// Counts.
    UInt(Vec<u64>),
    /// Numbers.
    Float(Vec<Option<f64>>),
    /// UTC times.
    Time(Vec<Option<DateTime<Utc>>>),
    /// Lists of text.
    List(Vec<Vec<String>>),
    /// Lists of text borrowed from the data.
    BorrowedList(Vec<&'a [CompactString]>),
    /// Text of a few values, as each row's key into `words`: a column of ten million
    /// cells and a handful of values (the levels of `matches.parquet`). Written to
    /// Parquet as the dictionary it is: with its words in order of first appearance, as
    /// [`Values::coded`] makes them, the same dictionary Parquet would make of the text,
    /// without making or reading the text.
    Coded { words: Vec<&'a str>, keys: Vec<u32> },
}

impl<'a> Values<'a> {
    /// The rows' text as [`Values::Coded`]: each row is an index into `all`, and the
    /// words come in order of first appearance.
    pub fn coded(all: &[&'a str], rows: impl Iterator<Item = usize>) -> Values<'a> {
        let mut key_of = vec![u32::MAX; all.len()];
        let mut words = Vec::new();
        let keys = rows
            .map(|i| {
                let key = &mut key_of[i];
                if *key == u32::MAX {
                    *key = words.len() as u32;
                    words.push(all[i]);
                }
                *key
            })
            .collect();
        Values::Coded { words, keys }
    }

    /// Text named by ids, each id one word and each word one id (a lead's index and its
    /// key), as [`Values::Coded`] with the dictionary the text itself gets from
    /// `vocabulary` in `datasets.rs` (what `leadrecon merge` writes from the parts'
    /// text): the same [`Words::keys_of`] over the ids instead of the words, so words in
    /// order of first appearance, or no dictionary but the text when a column of more
    /// than 128 rows is more than half distinct. Sorted ids (the first lead of
    /// `matches.parquet`'s pairs) come in runs: a row is compared with the row before,
    /// and only an id that starts a run is looked up.
    pub fn coded_by_id(ids: &[u32], word: impl Fn(u32) -> &'a str) -> Values<'a> {
        match Words::keys_of(ids.len(), None, |i| ids[i]) {
            Some((distinct, keys)) => Values::Coded {
                words: distinct.into_iter().map(word).collect(),
                keys,
            },
            None => Values::Borrowed(ids.iter().map(|&id| word(id)).collect()),
        }
    }
}

/// A column of `values` named `name`, as polars holds it.
fn column(name: &str, values: &Values<'_>) -> Column {
    let name: PlSmallStr = name.into();
    match values {
        Values::Text(x) => Column::new(name, x),
        Values::Borrowed(x) => Column::new(name, x),
        Values::BorrowedOpt(x) => Column::new(name, x),
        Values::UInt(x) => Column::new(name, x),
        Values::Float(x) => Column::new(name, x),
        Values::Time(x) => {
            Int64Chunked::from_iter_options(name, x.iter().map(|t| t.map(|t| t.timestamp_micros())))
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_series()
                .into_column()
        }
        Values::List(x) => {
            let mut b = ListStringChunkedBuilder::new(name, x.len(), x.len());
            for items in x {
                b.append_values_iter(items.iter().map(String::as_str));
            }
            b.finish().into_series().into_column()
        }
        Values::BorrowedList(x) => {
            let mut b = ListStringChunkedBuilder::new(name, x.len(), x.len());
            for items in x {
                b.append_values_iter(items.iter().map(CompactString::as_str));
            }
            b.finish().into_series().into_column()
        }
        Values::Coded { words, keys } => Column::new(
            name,
            keys.iter()
                .map(|&k| words[k as usize])
                .collect::<Vec<&str>>(),
        ),
    }
}

/// Named columns of equal length.
#[derive(Default)]
pub struct Table<'a> {
    columns: Vec<(&'static str, Values<'a>)>,
    rows: usize,
}

impl<'a> Table<'a> {
    /// An empty table of `rows` rows.
    pub fn new(rows: usize) -> Table<'a> {
        Table {
            columns: Vec::new(),
            rows,
        }
    }

    /// Adds a column.
    pub fn add(&mut self, name: &'static str, values: Values<'a>) -> &mut Table<'a> {
        self.columns.push((name, values));
        self
    }

    fn frame(&self) -> PolarsResult<DataFrame> {
        // Columns build independently: side by side on big tables.
        let columns = self
            .columns
            .par_iter()
            .map(|(name, v)| column(name, v))
            .collect();
        DataFrame::new(self.rows, columns)
    }

    /// The table as one Parquet row group: its schema, its rows and its columns' arrays
    /// (a [`Values::Coded`] column's a dictionary array, as Parquet writes it).
    fn row_group(&self) -> (Schema, usize, Vec<ArrayRef>) {
        let columns: Vec<(Field, ArrayRef)> = self
            .columns
            .par_iter()
            .map(|(name, v)| match v {
                Values::Coded { words, keys } => {
                    let mut values = MutableBinaryViewArray::<str>::with_capacity(words.len());
                    for w in words {
                        values.push_value(*w);
                    }
                    let array = dictionary(
                        &ArrowDataType::Utf8View,
                        keys.clone(),
                        None,
                        values.freeze().boxed(),
                    )
                    .expect("every key is a word's");
                    (Field::new((*name).into(), DataType::String), array.boxed())
                }
                _ => {
                    let c = column(name, v);
                    let field = Field::new((*name).into(), c.dtype().clone());
                    let array = c
                        .as_materialized_series()
                        .rechunk()
                        .to_arrow(0, CompatLevel::newest());
                    (field, array)
                }
            })
            .collect();
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
        (Schema::from_iter(fields), self.rows, arrays)
    }

    /// Writes the table as Parquet (zstd).
    pub fn write_parquet(&self, path: &Path) -> Result<(), WriteError> {
        let mut df = self.frame().map_err(|e| WriteError::Parquet {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        write_parquet(path, &mut df)
    }

    /// Writes tables of one schema as one Parquet file (zstd), a row group at a time, so
    /// only one chunk is in memory as columns (`matches.parquet` has tens of millions of
    /// rows at a million leads). An empty iterator writes nothing.
    pub fn write_parquet_chunks(
        path: &Path,
        chunks: impl Iterator<Item = Table<'a>>,
    ) -> Result<(), WriteError> {
        write_parquet_arrays(path, chunks.map(|c| Ok(c.row_group())))
    }

    /// Writes tables of one schema as one Parquet file and one CSV file (as
    /// [`Table::write_parquet_chunks`] and [`Table::write_csv_chunks`] would), making each
    /// chunk's table once for both. An empty iterator writes nothing.
    pub fn write_parquet_and_csv_chunks(
        parquet: &Path,
        csv: &Path,
        mut chunks: impl Iterator<Item = Table<'a>>,
    ) -> Result<(), WriteError> {
        let Some(first) = chunks.next() else {
            return Ok(());
        };
        let header = first.header();
        let groups = std::iter::once(first).chain(chunks).map(|table| {
            move |w: &mut CsvFile, buf: &mut String| {
                table.write_rows(w, buf)?;
                Ok(table.frame())
            }
        });
        write_csv_and_parquet(csv, &header, parquet, groups)
    }

    /// Writes the table as CSV (lists joined with `|`, times in RFC 3339).
    pub fn write_csv(&self, path: &Path) -> Result<(), WriteError> {
        write_csv(path, &self.header(), |w| {
            self.write_rows(w, &mut String::new())
        })
    }

    /// The column names, in order.
    fn header(&self) -> Vec<&'static str> {
        self.columns.iter().map(|(n, _)| *n).collect()
    }

    /// Writes tables of one schema as one CSV file, the header from the first: only one
    /// chunk is in memory at a time. An empty iterator writes nothing. The run writes its
    /// chunked CSV beside Parquet ([`Table::write_parquet_and_csv_chunks`]); this is that
    /// CSV alone, the tests' reference.
    #[cfg(test)]
    pub fn write_csv_chunks(
        path: &Path,
        mut chunks: impl Iterator<Item = Table<'a>>,
    ) -> Result<(), WriteError> {
        let Some(first) = chunks.next() else {
            return Ok(());
        };
        write_csv(path, &first.header(), |w| {
            let mut buf = String::new();
            for table in std::iter::once(first).chain(chunks) {
                table.write_rows(w, &mut buf)?;
            }
            Ok(())
        })
    }

    fn write_rows(&self, w: &mut CsvFile, buf: &mut String) -> csv::Result<()> {
        for i in 0..self.rows {
            for (_, v) in &self.columns {
                buf.clear();
                let field: &str = match v {
                    Values::Text(x) => x[i].as_deref().unwrap_or(""),
                    Values::Borrowed(x) => x[i],
                    Values::BorrowedOpt(x) => x[i].unwrap_or(""),
                    Values::UInt(x) => {
                        let _ = write!(buf, "{}", x[i]);
                        buf
                    }
                    Values::Float(x) => {
                        float_into(buf, x[i]);
                        buf
                    }
                    Values::Time(x) => {
                        time_into(buf, x[i].as_ref());
                        buf
                    }
                    Values::List(x) => {
                        join_into(buf, x[i].iter().map(String::as_str));
                        buf
                    }
                    Values::BorrowedList(x) => {
                        join_into(buf, x[i].iter().map(CompactString::as_str));
                        buf
                    }
                    Values::Coded { words, keys } => words[keys[i] as usize],
                };
                w.write_field(field)?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<'a>(
        keys: &[&'a str],
        names: &'a [Option<String>],
        lists: &'a [Vec<CompactString>],
    ) -> Table<'a> {
        let mut t = Table::new(keys.len());
        t.add("key", Values::Borrowed(keys.to_vec()))
            .add(
                "name",
                Values::BorrowedOpt(names.iter().map(Option::as_deref).collect()),
            )
            .add("n", Values::UInt((0..keys.len() as u64).collect()))
            .add("score", Values::Float(vec![Some(0.5); keys.len()]))
            .add(
                "items",
                Values::BorrowedList(lists.iter().map(Vec::as_slice).collect()),
            );
        t
    }

    #[test]
    fn chunks_write_the_same_csv_as_one_table() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            Some("Ann, Lee".to_string()),
            None,
            Some("Bo \"B\"".to_string()),
        ];
        let lists = [
            vec![CompactString::from("a"), CompactString::from("b")],
            vec![],
            vec![CompactString::from("c")],
        ];
        let whole = dir.path().join("whole.csv");
        table(&["k1", "k2", "k3"], &names, &lists)
            .write_csv(&whole)
            .unwrap();
        let parts = dir.path().join("parts.csv");
        let chunks = [
            table(&["k1", "k2"], &names[..2], &lists[..2]),
            table(&["k3"], &names[2..], &lists[2..]),
        ];
        Table::write_csv_chunks(&parts, chunks.into_iter()).unwrap();
        let text = std::fs::read_to_string(&whole).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("k1,\"Ann, Lee\",0,0.500000,a|b\n"), "{text}");
        assert!(text.contains("k2,,1,0.500000,\n"), "{text}");
        // The counter restarts per chunk: only the rows' order and content matter here.
        let parts_text = std::fs::read_to_string(&parts).unwrap();
        assert_eq!(
            parts_text.replace("k3,\"Bo \"\"B\"\"\",0,", "k3,\"Bo \"\"B\"\"\",2,"),
            text
        );
        Table::write_csv_chunks(&dir.path().join("none.csv"), std::iter::empty()).unwrap();
        assert!(!dir.path().join("none.csv").exists());
    }

    /// A coded column writes the bytes its text does, in every file and through every
    /// path, chunked or whole (the name is one Parquet dictionary-encodes).
    #[test]
    fn coded_text_writes_the_files_its_text_does() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let all = ["match", "review", "non_match", "unused"];
        let rows: Vec<usize> = (0..1000).map(|i| [2, 2, 0, 1, 2][i % 5]).collect();
        let table = |rows: &[usize], coded: bool| {
            let mut t = Table::new(rows.len());
            let text = if coded {
                Values::coded(&all, rows.iter().copied())
            } else {
                Values::Borrowed(rows.iter().map(|&i| all[i]).collect())
            };
            t.add("decision", text)
                .add("n", Values::UInt((0..rows.len() as u64).collect()));
            t
        };
        let Values::Coded { words, keys } = Values::coded(&all, rows.iter().copied()) else {
            panic!("coded");
        };
        assert_eq!(words, ["non_match", "match", "review"]);
        assert_eq!(keys[..5], [0, 0, 1, 2, 0]);
        for (coded, name) in [(true, "coded"), (false, "text")] {
            let chunks = || rows.chunks(300).map(|r| table(r, coded));
            Table::write_parquet_chunks(&p(&format!("{name}.parquet")), chunks()).unwrap();
            Table::write_parquet_and_csv_chunks(
                &p(&format!("{name}-both.parquet")),
                &p(&format!("{name}.csv")),
                chunks(),
            )
            .unwrap();
            table(&rows, coded)
                .write_parquet(&p(&format!("{name}-whole.parquet")))
                .unwrap();
        }
        for file in ["%.parquet", "%-both.parquet", "%.csv", "%-whole.parquet"] {
            let read = |name| std::fs::read(p(&file.replace('%', name))).unwrap();
            assert_eq!(read("coded"), read("text"), "{file}");
        }
        let back = ParquetReader::new(std::fs::File::open(p("coded.parquet")).unwrap())
            .finish()
            .unwrap();
        let decisions: Vec<Option<&str>> = back
            .column("decision")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            decisions,
            rows.iter().map(|&i| Some(all[i])).collect::<Vec<_>>()
        );
    }

    /// Text coded by ids writes the bytes its text does (the text's own dictionary, or
    /// none where the text gets none): ids in runs (each word over several rows, as the
    /// first leads of sorted pairs), an id met again after other runs, a short column
    /// of distinct words and a long one, more than half distinct.
    #[test]
    fn text_coded_by_id_writes_the_files_its_text_does() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let names: Vec<String> = (0..3000).map(|i| format!("realgeeks:{i:032x}")).collect();
        let word = |id: u32| names[id as usize].as_str();
        let runs: Vec<u32> = (0..2000u32)
            .map(|i| (i / 7) * 3 % 2000)
            .chain([0, 3, 855, 0])
            .collect();
        let short: Vec<u32> = (0..100).collect();
        let distinct: Vec<u32> = (0..1000).map(|i| i * 2 % 3000).collect();
        let coded = |ids: &[u32]| matches!(Values::coded_by_id(ids, word), Values::Coded { .. });
        assert!(coded(&runs) && coded(&short) && !coded(&distinct));
        let Values::Coded { words, keys } = Values::coded_by_id(&runs[1995..], word) else {
            panic!("coded");
        };
        assert_eq!(words, [word(855), word(0), word(3)]);
        assert_eq!(keys, [0, 0, 0, 0, 0, 1, 2, 0, 1]);
        for (case, ids) in [("runs", &runs), ("short", &short), ("distinct", &distinct)] {
            for by_id in [true, false] {
                let table = |ids: &[u32]| {
                    let mut t = Table::new(ids.len());
                    let text = if by_id {
                        Values::coded_by_id(ids, word)
                    } else {
                        Values::Borrowed(ids.iter().map(|&i| word(i)).collect())
                    };
                    t.add("lead_key_a", text);
                    t
                };
                let name = format!("{case}-{by_id}.parquet");
                Table::write_parquet_chunks(&p(&name), ids.chunks(700).map(table)).unwrap();
            }
            let read = |by_id: bool| std::fs::read(p(&format!("{case}-{by_id}.parquet"))).unwrap();
            assert_eq!(read(true), read(false), "{case}");
            let back = ParquetReader::new(
                std::fs::File::open(p(&format!("{case}-true.parquet"))).unwrap(),
            )
            .finish()
            .unwrap();
            let text: Vec<Option<&str>> = back
                .column("lead_key_a")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .collect();
            assert_eq!(text, ids.iter().map(|&i| Some(word(i))).collect::<Vec<_>>());
        }
    }

    #[test]
    fn one_empty_group_writes_what_an_empty_table_does() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let empty = || table(&[], &[], &[]);
        empty().write_parquet(&p("whole.parquet")).unwrap();
        empty().write_csv(&p("whole.csv")).unwrap();
        Table::write_parquet_and_csv_chunks(
            &p("group.parquet"),
            &p("group.csv"),
            [empty()].into_iter(),
        )
        .unwrap();
        for (a, b) in [
            ("whole.parquet", "group.parquet"),
            ("whole.csv", "group.csv"),
        ] {
            assert_eq!(
                std::fs::read(p(a)).unwrap(),
                std::fs::read(p(b)).unwrap(),
                "{b}"
            );
        }
    }

    #[test]
    fn both_files_at_once_are_the_files_written_apart() {
        let dir = tempfile::tempdir().unwrap();
        let names = [Some("Ann".to_string()), None, Some("Bo, B".to_string())];
        let lists = [
            vec![CompactString::from("a")],
            vec![],
            vec![CompactString::from("b")],
        ];
        let chunks = || {
            [
                table(&["k1", "k2"], &names[..2], &lists[..2]),
                table(&["k3"], &names[2..], &lists[2..]),
            ]
            .into_iter()
        };
        let p = |name: &str| dir.path().join(name);
        Table::write_parquet_chunks(&p("apart.parquet"), chunks()).unwrap();
        Table::write_csv_chunks(&p("apart.csv"), chunks()).unwrap();
        Table::write_parquet_and_csv_chunks(&p("both.parquet"), &p("both.csv"), chunks()).unwrap();
        for (a, b) in [("apart.parquet", "both.parquet"), ("apart.csv", "both.csv")] {
            assert_eq!(
                std::fs::read(p(a)).unwrap(),
                std::fs::read(p(b)).unwrap(),
                "{b}"
            );
        }
        Table::write_parquet_and_csv_chunks(&p("none.parquet"), &p("none.csv"), std::iter::empty())
            .unwrap();
        assert!(!p("none.parquet").exists() && !p("none.csv").exists());
    }
}
