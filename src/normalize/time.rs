//! Timestamps from every vendor's format to UTC.
//!
//! Accepted: RFC 3339 / ISO 8601 with an offset or `Z` (fractions of any length, `T` or a
//! space), RFC 2822, naive ISO date-times (`2024-03-22 12:00:00`, PeakIDX), dates alone,
//! slash dates (`03/22/2024`, `22/03/2024 14:05`; day and month are told apart by a value
//! over 12, else by the source's region: month first only in the US), and Unix epoch
//! seconds or milliseconds. Naive values are local time in the source's timezone.

use std::sync::LazyLock;

use chrono::format::{Item, Parsed as Fields, StrftimeItems};
use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How a source writes day and month in slash dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `03/22/2024` (the US).
    MonthFirst,
    /// `22/03/2024` (everywhere else).
    DayFirst,
}

/// What a source's timestamps need to be read.
#[derive(Debug, Clone, Copy)]
pub struct TimeContext {
    /// Zone of naive timestamps; `None` reads them as UTC (and flags them).
    pub tz: Option<Tz>,
    /// Order of slash dates.
    pub order: DateOrder,
}

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The instant.
    pub utc: DateTime<Utc>,
    /// The text had no zone and the context none either: read as UTC.
    pub assumed_utc: bool,
    /// The local time was ambiguous or skipped by a daylight-saving change.
    pub dst_adjusted: bool,
}

const NAIVE_FORMATS: [&str; 8] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%dT%H%M%S",
    "%d.%m.%Y %H:%M",
];
const OFFSET_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f %z",
];
const DATE_FORMAT: &str = "%Y-%m-%d";
const TIME_FORMATS: [&str; 5] = ["%H:%M:%S%.f", "%H:%M", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p"];

/// A list of formats, each parsed into chrono's items once: `parse_from_str` reads the
/// format text again on every call, and a timestamp may be tried against a dozen formats
/// before one fits. Reading with the items is what `parse_from_str` does after.
struct Formats(Vec<Vec<Item<'static>>>);

impl Formats {
    fn new(formats: &[&str]) -> Formats {
        Formats(
            formats
                .iter()
                .map(|f| {
                    StrftimeItems::new(f)
                        .parse_to_owned()
                        .expect("the formats above are valid")
                })
                .collect(),
        )
    }

    /// The first format `s` is written in, read into `finish`'s result.
    fn read<T>(&self, s: &str, finish: impl Fn(&Fields) -> chrono::ParseResult<T>) -> Option<T> {
        self.0.iter().find_map(|items| {
            let mut fields = Fields::new();
            chrono::format::parse(&mut fields, s, items.iter()).ok()?;
            finish(&fields).ok()
        })
    }
}

static NAIVE: LazyLock<Formats> = LazyLock::new(|| Formats::new(&NAIVE_FORMATS));
static OFFSET: LazyLock<Formats> = LazyLock::new(|| Formats::new(&OFFSET_FORMATS));
static DATE: LazyLock<Formats> = LazyLock::new(|| Formats::new(&[DATE_FORMAT]));
static TIME: LazyLock<Formats> = LazyLock::new(|| Formats::new(&TIME_FORMATS));

/// Parses a timestamp; `None` when the text is not one we can read.
pub fn parse(raw: &str, ctx: TimeContext) -> Option<Parsed> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let aware = |utc: DateTime<Utc>| Parsed {
        utc,
        assumed_utc: false,
        dst_adjusted: false,
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return plausible(aware(dt.with_timezone(&Utc)));
    }
    if let Some(z) = s.strip_suffix(['Z', 'z']) {
        if let Some(naive) = parse_naive(z) {
            return plausible(aware(naive.and_utc()));
        }
    }
    if let Some(dt) = OFFSET.read(s, Fields::to_datetime) {
        return plausible(aware(dt.with_timezone(&Utc)));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return plausible(aware(dt.with_timezone(&Utc)));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        let utc = match s.len() {
            9 | 10 => DateTime::from_timestamp(n, 0)?,
            12 | 13 => DateTime::from_timestamp_millis(n)?,
            _ => return None,
        };
        return plausible(aware(utc));
    }
    let naive = parse_naive(s).or_else(|| parse_slash(s, ctx.order))?;
    plausible(localize(naive, ctx.tz))
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    NAIVE
        .read(s, |f| f.to_naive_datetime_with_offset(0))
        .or_else(|| {
            DATE.read(s, Fields::to_naive_date)
                .map(|d| d.and_time(NaiveTime::MIN))
        })
}

fn parse_slash(s: &str, order: DateOrder) -> Option<NaiveDateTime> {
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let mut parts = date.split(['/', '-', '.']);
    let a: u32 = parts.next()?.parse().ok()?;
    let b: u32 = parts.next()?.parse().ok()?;
    let y_text = parts.next()?;
    if parts.next().is_some() || y_text.len() != 4 {
        return None;
    }
    let y: i32 = y_text.parse().ok()?;
    let (month, day) = if a > 12 {
        (b, a)
    } else if b > 12 {
        (a, b)
    } else {
        match order {
            DateOrder::MonthFirst => (a, b),
            DateOrder::DayFirst => (b, a),
        }
    };
    let date = NaiveDate::from_ymd_opt(y, month, day)?;
    let time = match time {
        None | Some("") => NaiveTime::MIN,
        Some(t) => TIME.read(t, Fields::to_naive_time)?,
    };
    Some(date.and_time(time))
}

fn localize(naive: NaiveDateTime, tz: Option<Tz>) -> Parsed {
    let Some(tz) = tz else {
        return Parsed {
            utc: naive.and_utc(),
            assumed_utc: true,
            dst_adjusted: false,
        };
    };
    let (utc, dst_adjusted) = match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => (t.with_timezone(&Utc), false),
        LocalResult::Ambiguous(earliest, _) => (earliest.with_timezone(&Utc), true),
        // A skipped hour (spring forward): the clock read an hour that did not exist.
        LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            let utc = tz
                .from_local_datetime(&later)
                .earliest()
                .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc));
            (utc, true)
        }
    };
    Parsed {
        utc,
        assumed_utc: false,
        dst_adjusted,
    }
}

fn plausible(p: Parsed) -> Option<Parsed> {
    use chrono::Datelike;
    (1900..=2200).contains(&p.utc.year()).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_as_chrono_parse_from_str_does() {
        let samples = [
            "2024-03-22 12:00:00",
            "2024-03-22T12:00:00.250",
            "2024-03-22 12:00",
            "2024/03/22 12:00:00",
            "20240322T120000",
            "22.03.2024 12:00",
            "2024-03-22",
            "2024-03-22 12:00:00+01:00",
            "2024-03-22 12:00:00 +0100",
            "2024-03-22T12:00:00-0500",
            "12:00",
            "1:05 PM",
            "1:05:09 am",
            "2024-02-30 12:00:00",
            "nonsense",
            "",
        ];
        for s in samples {
            let naive = NAIVE_FORMATS
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok());
            assert_eq!(
                NAIVE.read(s, |f| f.to_naive_datetime_with_offset(0)),
                naive,
                "{s}"
            );
            let offset = OFFSET_FORMATS
                .iter()
                .find_map(|f| DateTime::parse_from_str(s, f).ok());
            assert_eq!(OFFSET.read(s, Fields::to_datetime), offset, "{s}");
            let date = NaiveDate::parse_from_str(s, DATE_FORMAT).ok();
            assert_eq!(DATE.read(s, Fields::to_naive_date), date, "{s}");
            let time = TIME_FORMATS
                .iter()
                .find_map(|f| NaiveTime::parse_from_str(s, f).ok());
            assert_eq!(TIME.read(s, Fields::to_naive_time), time, "{s}");
        }
    }

    fn ctx(tz: Option<&str>, order: DateOrder) -> TimeContext {
        TimeContext {
            tz: tz.map(|t| t.parse().unwrap()),
            order,
        }
    }

    fn utc(raw: &str, c: TimeContext) -> String {
        parse(raw, c).unwrap().utc.to_rfc3339()
    }

    #[test]
    fn peakidx_naive_local() {
        let c = ctx(Some("America/Chicago"), DateOrder::MonthFirst);
        assert_eq!(utc("2024-03-22 12:00:00", c), "2024-03-22T17:00:00+00:00");
        assert_eq!(utc("2024-01-22 12:00:00", c), "2024-01-22T18:00:00+00:00");
    }

    #[test]
    fn iso_with_offset_zulu_and_micros() {
        let c = ctx(None, DateOrder::MonthFirst);
        assert_eq!(
            utc("2015-04-01T08:41:51+00:00", c),
            "2015-04-01T08:41:51+00:00"
        );
        assert_eq!(
            utc("2015-10-01T06:14:01.597026Z", c),
            "2015-10-01T06:14:01.597026+00:00"
        );
        assert_eq!(
            utc("2015-10-01 06:14:01+0100", c),
            "2015-10-01T05:14:01+00:00"
        );
        assert_eq!(utc("2015-10-01T06:14:01Z", c), "2015-10-01T06:14:01+00:00");
    }

    #[test]
    fn slash_dates_by_region() {
        let us = ctx(Some("America/New_York"), DateOrder::MonthFirst);
        let pt = ctx(Some("Europe/Lisbon"), DateOrder::DayFirst);
        assert_eq!(utc("03/04/2024", us), "2024-03-04T05:00:00+00:00");
        assert_eq!(utc("03/04/2024", pt), "2024-04-02T23:00:00+00:00");
        assert_eq!(utc("22/03/2024 14:05", us), "2024-03-22T18:05:00+00:00");
        assert_eq!(utc("3/22/2024 2:05 PM", us), "2024-03-22T18:05:00+00:00");
    }

    #[test]
    fn epochs() {
        let c = ctx(None, DateOrder::DayFirst);
        assert_eq!(utc("1711108800", c), "2024-03-22T12:00:00+00:00");
        assert_eq!(utc("1711108800000", c), "2024-03-22T12:00:00+00:00");
    }

    #[test]
    fn naive_without_zone_is_flagged() {
        let p = parse("2024-03-22 12:00", ctx(None, DateOrder::DayFirst)).unwrap();
        assert!(p.assumed_utc);
    }

    #[test]
    fn dst_gap_and_overlap() {
        let c = ctx(Some("America/Chicago"), DateOrder::MonthFirst);
        let gap = parse("2024-03-10 02:30:00", c).unwrap();
        assert!(gap.dst_adjusted);
        assert_eq!(gap.utc.to_rfc3339(), "2024-03-10T08:30:00+00:00");
        let overlap = parse("2024-11-03 01:30:00", c).unwrap();
        assert!(overlap.dst_adjusted);
        assert_eq!(overlap.utc.to_rfc3339(), "2024-11-03T06:30:00+00:00");
    }

    #[test]
    fn garbage() {
        let c = ctx(None, DateOrder::DayFirst);
        for raw in ["", "yesterday", "2024-13-45", "31/31/2024", "12"] {
            assert!(parse(raw, c).is_none(), "{raw}");
        }
    }
}
