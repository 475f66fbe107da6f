//! Small typed tables (contacts, matches, the review queue) written as Parquet and CSV.

use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::*;
use rayon::prelude::*;

use crate::load::datasets::{csv_time, write_csv, write_parquet, write_parquet_groups, WriteError};

/// One column's values.
pub enum Values<'a> {
    /// Text.
    Text(Vec<Option<String>>),
    /// Text borrowed from the data (lead keys, vocabulary words): no copy per row.
    Borrowed(Vec<&'a str>),
    /// Counts.
    UInt(Vec<u64>),
    /// Numbers.
    Float(Vec<Option<f64>>),
    /// UTC times.
    Time(Vec<Option<DateTime<Utc>>>),
    /// Lists of text.
    List(Vec<Vec<String>>),
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
            .map(|(name, v)| {
                let name: PlSmallStr = (*name).into();
                match v {
                    Values::Text(x) => Column::new(name, x),
                    Values::Borrowed(x) => Column::new(name, x),
                    Values::UInt(x) => Column::new(name, x),
                    Values::Float(x) => Column::new(name, x),
                    Values::Time(x) => Int64Chunked::from_iter_options(
                        name,
                        x.iter().map(|t| t.map(|t| t.timestamp_micros())),
                    )
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_series()
                    .into_column(),
                    Values::List(x) => {
                        let mut b = ListStringChunkedBuilder::new(name, x.len(), x.len());
                        for items in x {
                            b.append_values_iter(items.iter().map(String::as_str));
                        }
                        b.finish().into_series().into_column()
                    }
                }
            })
            .collect();
        DataFrame::new(self.rows, columns)
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
        write_parquet_groups(path, chunks.map(|c| c.frame()))
    }

    /// Writes the table as CSV (lists joined with `|`, times in RFC 3339).
    pub fn write_csv(&self, path: &Path) -> Result<(), WriteError> {
        let header: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        write_csv(path, &header, |w| {
            let mut row: Vec<String> = Vec::with_capacity(header.len());
            for i in 0..self.rows {
                row.clear();
                for (_, v) in &self.columns {
                    row.push(match v {
                        Values::Text(x) => x[i].clone().unwrap_or_default(),
                        Values::Borrowed(x) => x[i].to_string(),
                        Values::UInt(x) => x[i].to_string(),
                        Values::Float(x) => x[i].map(|f| format!("{f:.6}")).unwrap_or_default(),
                        Values::Time(x) => x[i].as_ref().map(csv_time).unwrap_or_default(),
                        Values::List(x) => x[i].join("|"),
                    });
                }
                w.write_record(&row)?;
            }
            Ok(())
        })
    }
}
