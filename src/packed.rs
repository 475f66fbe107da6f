//! Leads held packed: each lead encoded in a compact binary form (postcard, through the
//! lead's serde implementation), a few thousand leads to a buffer.
//!
//! A lead is a 688-byte struct and its strings, about 1.2 KB at a million leads; packed,
//! 320-470 bytes. The run packs each batch's leads (with their keys, [`KeyedLeads`]) as
//! soon as the batch is read; folding reads the records in key order, a window at a
//! time, and packs the folded leads again as their match records are made: a lead of
//! one record keeps its bytes (its match record is made from its head, [`head_of`]),
//! and only the records of leads of several records are unpacked and merged. They
//! are unpacked where they are read again: the golden records of contacts of several
//! leads (their members, one at a time), `review.csv` (the review pairs' leads) and the
//! leads' files (a window of a few thousand at a time, each freed once its rows are
//! made). A payload target's existing records wait packed from reading until they are
//! matched, and again until the payloads are planned (the records found, one at a time).
//!
//! While the leads are linked, their full buffers wait in a file instead
//! ([`PackedLeads::spill`]): the leads are read again only once linked.

use rayon::prelude::*;

use crate::allocator::Chunked;
use std::borrow::Cow;

use crate::lead::{Lead, LeadHead};

/// Leads in one buffer each.
const PER_BUFFER: usize = 4096;

/// Leads packed at a time by [`PackedLeads::pack`]: the leads' memory is freed as they
/// are packed, not at the end.
const PER_WINDOW: usize = 16 * PER_BUFFER;

/// `lead` encoded after `out`'s bytes.
pub fn encode(lead: &Lead, out: Vec<u8>) -> Vec<u8> {
    postcard::serialize_with_flavor(lead, Append(out)).expect("a lead encodes")
}

/// The lead packed in `bytes`.
pub fn decode(bytes: &[u8]) -> Lead {
    postcard::take_from_bytes::<Lead>(bytes)
        .expect("a packed lead decodes")
        .0
}

/// The head of the lead packed in `bytes` (its first fields, borrowed: the rest is not
/// read).
pub fn head_of(bytes: &[u8]) -> LeadHead<'_> {
    postcard::take_from_bytes::<LeadHead>(bytes)
        .expect("a packed lead's head decodes")
        .0
}

/// Postcard's output appended to a vector a slice at a time. `postcard::to_extend` adds
/// each piece through `Extend` one byte at a time, which made encoding a lead's strings
/// a third of the cost of packing it.
struct Append(Vec<u8>);

impl postcard::ser_flavors::Flavor for Append {
    type Output = Vec<u8>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// Leads encoded side by side, in order.
#[derive(Debug, Clone, Default)]
pub struct PackedLeads {
    /// Each buffer holds up to [`PER_BUFFER`] leads, one after the other (consumed or
    /// spilled buffers are `None`).
    buffers: Vec<Option<Box<[u8]>>>,
    /// Where each lead starts in its buffer.
    starts: Vec<u32>,
    /// How many leads of each buffer were released (see [`PackedLeads::release`]; as long
    /// as `buffers` from the first release on).
    released: Vec<u32>,
    /// Where the buffers moved to a file are (see [`PackedLeads::spill`]).
    spilled: Option<Spilled>,
}

/// Buffers moved to a file: the file, and each buffer's offset and length in it (as long
/// as `buffers`; `(0, 0)` for a buffer still held).
#[derive(Debug, Clone)]
struct Spilled {
    file: std::sync::Arc<std::fs::File>,
    at: Vec<(u64, u32)>,
    end: u64,
}

impl Spilled {
    /// `len` bytes at `offset` of the file.
    fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        // What this process wrote a moment before to a file only it holds (unlinked):
        // only a failing disk makes this fail, and nothing sensible is left to do then.
        read_at(&self.file, &mut bytes, offset)
            .unwrap_or_else(|e| panic!("reading back the leads set aside on disk failed: {e}"));
        bytes
    }
}

/// Full buffers taken by [`PackedLeads::spill_later`], each with its place in the file.
#[must_use = "the buffers' leads read back only once the job has written them"]
pub struct SpillJob {
    file: std::sync::Arc<std::fs::File>,
    writes: Vec<(u64, Box<[u8]>)>,
}

impl SpillJob {
    /// Writes the buffers at their places, then frees them.
    pub fn write(self) -> std::io::Result<()> {
        for (offset, buffer) in &self.writes {
            write_at(&self.file, buffer, *offset)?;
        }
        Ok(())
    }
}

/// Reads `buf.len()` bytes at `offset` of `file`, from any thread.
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
    #[cfg(not(unix))]
    return Err(std::io::ErrorKind::Unsupported.into());
}

/// Writes `buf` at `offset` of `file`.
fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::write_all_at(file, buf, offset);
    #[cfg(not(unix))]
    return Err(std::io::ErrorKind::Unsupported.into());
}

impl PackedLeads {
    /// Packs `leads`, freeing them as they are packed.
    pub fn pack(leads: Vec<Lead>) -> PackedLeads {
        let mut packed = PackedLeads::default();
        if leads.is_empty() {
            return packed;
        }
        let leads = Chunked::new(leads);
        for window in leads.chunks(PER_WINDOW) {
            packed.append(&window);
        }
        packed
    }

    /// Packs copies of `leads`.
    pub fn pack_slice(leads: &[Lead]) -> PackedLeads {
        let mut packed = PackedLeads::default();
        packed.append(leads);
        packed
    }

    /// Packs copies of `leads` after those already packed: the last buffer is filled
    /// first, then whole buffers are encoded on the pool's threads.
    pub fn append(&mut self, leads: &[Lead]) {
        self.append_with(leads, encode);
    }

    /// Packs `items` after the leads already packed, as [`PackedLeads::append`] does:
    /// `put` appends an item's packed lead to a buffer and gives the buffer back.
    pub fn append_with<T: Sync>(
        &mut self,
        mut items: &[T],
        put: impl Fn(&T, Vec<u8>) -> Vec<u8> + Sync,
    ) {
        let filled = self.len() % PER_BUFFER;
        if filled > 0 {
            let take = (PER_BUFFER - filled).min(items.len());
            let last = self
                .buffers
                .last_mut()
                .expect("a partly filled buffer")
                .take()
                .expect("the last buffer is held");
            let mut out = last.into_vec();
            for item in &items[..take] {
                self.starts
                    .push(u32::try_from(out.len()).expect("a buffer under 4 GB"));
                out = put(item, out);
            }
            *self.buffers.last_mut().expect("a last buffer") = Some(out.into_boxed_slice());
            items = &items[take..];
        }
        let encoded: Vec<(Box<[u8]>, Vec<u32>)> = items
            .par_chunks(PER_BUFFER)
            .map(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * 512);
                let mut starts = Vec::with_capacity(chunk.len());
                for item in chunk {
                    starts.push(u32::try_from(out.len()).expect("a buffer under 4 GB"));
                    out = put(item, out);
                }
                (out.into_boxed_slice(), starts)
            })
            .collect();
        for (buffer, starts) in encoded {
            self.buffers.push(Some(buffer));
            self.starts.extend(starts);
        }
    }

    /// How many leads.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Lead `i`, decoded (read back from the file if its buffer was spilled).
    ///
    /// # Panics
    /// If `i` is out of range or its buffer was consumed by [`PackedLeads::into_groups`]
    /// or freed by [`PackedLeads::release`].
    pub fn get(&self, i: usize) -> Lead {
        decode(&self.raw(i))
    }

    /// Lead `i`'s packed bytes (read back from the file if its buffer was spilled).
    ///
    /// # Panics
    /// As [`PackedLeads::get`].
    pub fn raw(&self, i: usize) -> Cow<'_, [u8]> {
        let b = i / PER_BUFFER;
        let start = self.starts[i] as usize;
        // The lead's own bytes: up to the next lead's start, or to the buffer's end.
        let end = |len: usize| match self.starts.get(i + 1) {
            Some(&next) if (i + 1) / PER_BUFFER == b => next as usize,
            _ => len,
        };
        if let Some(buffer) = self.buffers[b].as_deref() {
            return Cow::Borrowed(&buffer[start..end(buffer.len())]);
        }
        let (spilled, (offset, len)) = self
            .spilled
            .as_ref()
            .and_then(|s| Some((s, s.at.get(b).copied()?)))
            .filter(|&(_, (_, len))| len > 0)
            .expect("the lead's buffer is still held");
        Cow::Owned(spilled.read(offset + start as u64, end(len as usize) - start))
    }

    /// Reads every spilled buffer back into memory (one read a buffer): for leads about
    /// to be read through, which [`PackedLeads::get`] would read back one by one.
    pub fn unspill(&mut self) {
        let Some(spilled) = self.spilled.take() else {
            return;
        };
        for (b, &(offset, len)) in spilled.at.iter().enumerate() {
            if len > 0 && self.buffers[b].is_none() {
                self.buffers[b] = Some(spilled.read(offset, len as usize).into_boxed_slice());
            }
        }
    }

    /// Moves every full buffer still held to `file` (created by `open` the first time
    /// there is one), so that the packed leads take next to no memory while others are
    /// worked on: the last, partly filled buffer stays, for [`PackedLeads::append`]. The
    /// leads read the same after, from the file. Only on Unix (positioned reads from
    /// any thread): elsewhere the leads stay in memory. An error opening the file leaves
    /// every buffer held; an error writing it loses the buffers' leads (the caller stops
    /// on it).
    pub fn spill(
        &mut self,
        open: impl FnOnce() -> std::io::Result<std::fs::File>,
    ) -> std::io::Result<()> {
        self.spill_later(open)?.map_or(Ok(()), SpillJob::write)
    }

    /// [`PackedLeads::spill`] with the writing left to the caller, to do on another
    /// thread while it goes on: the buffers are taken at once and their places in the
    /// file kept, and none of their leads may be read before [`SpillJob::write`] has
    /// returned `Ok` (they would read what the file holds there: nothing yet). `None`
    /// when there is nothing to write.
    pub fn spill_later(
        &mut self,
        open: impl FnOnce() -> std::io::Result<std::fs::File>,
    ) -> std::io::Result<Option<SpillJob>> {
        if !cfg!(unix) {
            return Ok(None);
        }
        let full = self.len() / PER_BUFFER;
        if !self.buffers[..full].iter().any(Option::is_some) {
            return Ok(None);
        }
        if self.spilled.is_none() {
            self.spilled = Some(Spilled {
                file: std::sync::Arc::new(open()?),
                at: Vec::new(),
                end: 0,
            });
        }
        let spilled = self.spilled.as_mut().expect("a spill file");
        spilled.at.resize(self.buffers.len(), (0, 0));
        let mut writes = Vec::new();
        for b in 0..full {
            let Some(buffer) = self.buffers[b].take() else {
                continue;
            };
            let len = u32::try_from(buffer.len()).expect("a buffer under 4 GB");
            // An empty buffer (leads of no bytes do not exist) would read as not spilled.
            debug_assert!(len > 0);
            spilled.at[b] = (spilled.end, len);
            writes.push((spilled.end, buffer));
            spilled.end += u64::from(len);
        }
        Ok(Some(SpillJob {
            file: std::sync::Arc::clone(&spilled.file),
            writes,
        }))
    }

    /// Marks lead `i` as read for the last time: once every lead of its buffer is, the
    /// buffer is freed (a later [`PackedLeads::get`] of its leads panics).
    pub fn release(&mut self, i: usize) {
        self.released.resize(self.buffers.len(), 0);
        let b = i / PER_BUFFER;
        self.released[b] += 1;
        let leads = (self.len() - b * PER_BUFFER).min(PER_BUFFER);
        if self.released[b] as usize == leads {
            self.buffers[b] = None;
        }
    }

    /// The leads of each buffer of `buffers`, decoded on the pool's threads, in order.
    fn decode(buffers: Vec<Box<[u8]>>, len: usize) -> Vec<Lead> {
        let mut leads = Vec::with_capacity(len);
        leads.par_extend(buffers.into_par_iter().flat_map_iter(|buffer| {
            let mut rest: &[u8] = &buffer;
            let mut out = Vec::with_capacity(PER_BUFFER);
            while !rest.is_empty() {
                let (lead, tail) =
                    postcard::take_from_bytes::<Lead>(rest).expect("a packed lead decodes");
                out.push(lead);
                rest = tail;
            }
            out
        }));
        leads
    }

    /// The leads, in the order they were packed (the run reads them a group at a time).
    #[cfg(test)]
    fn unpack(self) -> Vec<Lead> {
        let all = self.len().max(1);
        self.into_groups(all).flatten().collect()
    }

    /// The leads in order, `rows` at a time (a multiple of the buffer size, or all), each
    /// group decoded when it is asked for and its buffers freed.
    pub fn into_groups(mut self, rows: usize) -> impl Iterator<Item = Vec<Lead>> {
        let per_group = rows.div_ceil(PER_BUFFER).max(1);
        let len = self.len();
        let mut next = 0;
        std::iter::from_fn(move || {
            (next < self.buffers.len()).then(|| {
                let end = (next + per_group).min(self.buffers.len());
                let (held, spilled) = (&mut self.buffers, &mut self.spilled);
                let buffers: Vec<Box<[u8]>> = (next..end)
                    .map(|b| match held[b].take() {
                        Some(buffer) => buffer,
                        None => {
                            let s = spilled.as_mut().expect("each buffer is decoded once");
                            let (offset, len) = std::mem::take(&mut s.at[b]);
                            assert!(len > 0, "each buffer is decoded once");
                            s.read(offset, len as usize).into_boxed_slice()
                        }
                    })
                    .collect();
                let n = (end * PER_BUFFER).min(len) - next * PER_BUFFER;
                next = end;
                Self::decode(buffers, n)
            })
        })
    }
}

/// Every lead's key in one string, in lead order: `matches.parquet` looks up two keys for
/// each of ten million pairs, and reading them from here is one cache miss among 40 MB of
/// keys instead of two among the leads (a 700-byte struct, then its key on the heap).
/// Folding sorts the packed leads by them.
#[derive(Debug, Clone, Default)]
pub struct LeadKeys {
    text: String,
    /// Where each key ends in `text`.
    ends: Vec<usize>,
}

impl LeadKeys {
    /// The keys of `leads`.
    pub fn of(leads: &[Lead]) -> LeadKeys {
        let mut keys = LeadKeys {
            text: String::with_capacity(leads.iter().map(|l| l.lead_key.len()).sum()),
            ends: Vec::with_capacity(leads.len()),
        };
        keys.extend(leads.iter().map(|l| l.lead_key.as_str()));
        keys
    }

    /// Adds `keys` after those held.
    pub fn extend<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) {
        for key in keys {
            self.text.push_str(key);
            self.ends.push(self.text.len());
        }
    }

    /// The key of lead `i`.
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The keys in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i as u32))
    }
}

/// A batch's leads packed, with their keys: what folding takes (it sorts the keys and
/// unpacks each lead once, in key order).
#[derive(Debug, Clone, Default)]
pub struct KeyedLeads {
    /// Each lead's `lead_key`.
    pub keys: LeadKeys,
    /// The leads.
    pub leads: PackedLeads,
}

impl KeyedLeads {
    /// Packs `leads`, freeing them as they are packed.
    pub fn pack(leads: Vec<Lead>) -> KeyedLeads {
        KeyedLeads {
            keys: LeadKeys::of(&leads),
            leads: PackedLeads::pack(leads),
        }
    }

    /// Packs copies of `leads`.
    pub fn pack_slice(leads: &[Lead]) -> KeyedLeads {
        KeyedLeads {
            keys: LeadKeys::of(leads),
            leads: PackedLeads::pack_slice(leads),
        }
    }

    /// How many leads.
    pub fn len(&self) -> usize {
        self.leads.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.leads.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{Email, Kind, Phone, Quality, RawText, SourceRef, Status, System};

    fn lead(i: usize) -> Lead {
        let mut l = Lead::new(
            System::Maxwork,
            SourceRef {
                source_index: i % 3,
                file: format!("maxwork/leads-{}.json", i % 5),
                line: i as u64 + 1,
                source_id: (!i.is_multiple_of(4)).then(|| format!("MX-{i}")),
            },
        );
        l.agent_id = Some(format!("agent-{}", i % 7).into());
        l.first_name = Some("Ana".into());
        l.full_name = Some(format!("Ana Sousa {i} with a name longer than inline").into());
        l.email = Some(Email(format!("ana.{i}@example.pt").into()));
        l.phone = i.is_multiple_of(2).then(|| Phone("+351912345678".into()));
        l.raw.emails = vec![format!(" Ana.{i}@Example.pt ").into()];
        l.raw.text = i.is_multiple_of(3).then(|| Box::new(RawText::default()));
        l.kind = Kind::Seller;
        l.status = Status::Contacted;
        l.message = Some("Olá, gostaria de marcar uma visita ao apartamento".into());
        l.tags = vec!["portal".into(), "t2".into()];
        l.set_customs([
            ("Business_TypeId", "2"),
            ("LeadType_Id", "7"),
            ("empty", " "),
        ]);
        l.created_at = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 123_456_789);
        l.quality = Quality::PHONE_COUNTRY_INFERRED;
        l.contact_id = (i % 2 == 1).then(|| format!("c-{i:016x}").into());
        l.match_score = (i % 2 == 1).then_some(0.1 + 1.0 / (i as f64 + 3.0));
        l
    }

    #[test]
    fn leads_unpack_as_they_were_packed() {
        // Several buffers, the last one partly filled.
        let leads: Vec<Lead> = (0..PER_BUFFER * 2 + 17).map(lead).collect();
        let packed = PackedLeads::pack_slice(&leads);
        assert_eq!(packed.len(), leads.len());
        assert_eq!(packed.buffers.len(), 3);
        for i in [0, 1, PER_BUFFER - 1, PER_BUFFER, leads.len() - 1] {
            assert_eq!(packed.get(i), leads[i]);
        }
        assert_eq!(packed.unpack(), leads);
        // Packing the leads themselves, in windows of several buffers.
        let many: Vec<Lead> = (0..PER_WINDOW + PER_BUFFER + 3).map(lead).collect();
        let packed = PackedLeads::pack(many.clone());
        assert_eq!(packed.get(PER_WINDOW + 1), many[PER_WINDOW + 1]);
        let groups: Vec<Vec<Lead>> = packed.into_groups(2 * PER_BUFFER).collect();
        assert_eq!(
            groups.iter().map(Vec::len).collect::<Vec<_>>(),
            [2 * PER_BUFFER; 8]
                .into_iter()
                .chain([PER_BUFFER + 3])
                .collect::<Vec<_>>()
        );
        assert_eq!(groups.concat(), many);

        // Appended a few at a time: the last buffer is filled before a new one starts.
        let mut bits = PackedLeads::default();
        for chunk in many.chunks(PER_BUFFER - 5) {
            bits.append(chunk);
        }
        assert_eq!(bits.buffers.len(), many.len().div_ceil(PER_BUFFER));
        assert_eq!(bits.get(PER_BUFFER), many[PER_BUFFER]);
        assert_eq!(bits.clone().unpack(), many);
        // Released lead by lead, in any order: each buffer goes with its last lead.
        for i in (0..many.len()).rev() {
            bits.release(i);
            assert_eq!(bits.buffers[i / PER_BUFFER].is_none(), i % PER_BUFFER == 0);
        }

        let none = PackedLeads::pack(Vec::new());
        assert!(none.is_empty());
        assert!(none.unpack().is_empty());
        assert_eq!(
            PackedLeads::pack(vec![Lead::default()]).unpack(),
            vec![Lead::default()]
        );
    }

    #[test]
    #[cfg(unix)]
    fn spilled_leads_read_back_as_they_were_packed() {
        let leads: Vec<Lead> = (0..PER_BUFFER * 3 + 5).map(lead).collect();
        let dir = tempfile::tempdir().unwrap();
        let opened = std::cell::Cell::new(0);
        let open = || {
            opened.set(opened.get() + 1);
            tempfile::tempfile_in(dir.path())
        };
        // Nothing full to move: no file.
        let mut few = PackedLeads::pack_slice(&leads[..10]);
        few.spill(open).unwrap();
        assert_eq!(opened.get(), 0);
        assert_eq!(few.get(9), leads[9]);

        // Spilled as it grows, as folding does: full buffers go, the last one stays and
        // is filled before the next one starts.
        let mut packed = PackedLeads::default();
        for chunk in leads.chunks(PER_BUFFER / 2 + 1) {
            packed.append(chunk);
            packed.spill(open).unwrap();
        }
        assert_eq!(opened.get(), 1);
        assert_eq!(packed.len(), leads.len());
        let held: Vec<bool> = packed.buffers.iter().map(Option::is_some).collect();
        assert_eq!(held, [false, false, false, true]);
        // Every lead reads back, the first and last of each buffer too.
        for i in (0..leads.len()).step_by(97).chain([
            PER_BUFFER - 1,
            PER_BUFFER,
            2 * PER_BUFFER - 1,
            3 * PER_BUFFER - 1,
            leads.len() - 1,
        ]) {
            assert_eq!(packed.get(i), leads[i], "lead {i}");
        }
        assert_eq!(packed.clone().unpack(), leads);
        // Read back whole, it is as it was packed, and holds every buffer again.
        let mut back = packed.clone();
        back.unspill();
        assert!(back.buffers.iter().all(Option::is_some) && back.spilled.is_none());
        assert_eq!(back.get(PER_BUFFER + 7), leads[PER_BUFFER + 7]);
        assert_eq!(back.unpack(), leads);
        let groups: Vec<Vec<Lead>> = packed.into_groups(2 * PER_BUFFER).collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups.concat(), leads);

        // A folder that cannot take the file: the error is the caller's to report.
        let mut full = PackedLeads::pack_slice(&leads);
        let gone = dir.path().join("gone");
        assert!(full.spill(|| tempfile::tempfile_in(&gone)).is_err());
        assert_eq!(full.unpack(), leads);
    }

    /// Spilled as folding does it: each window's full buffers are taken at once and
    /// written on another thread while the next window is appended, each write waited
    /// for before the next is taken; every lead then reads back as it was.
    #[test]
    fn buffers_written_on_another_thread_read_back() {
        let leads: Vec<Lead> = (0..PER_BUFFER * 5 + 3).map(lead).collect();
        let dir = tempfile::tempdir().unwrap();
        let mut packed = PackedLeads::default();
        let mut writing: Option<std::thread::JoinHandle<std::io::Result<()>>> = None;
        let mut jobs = 0;
        for chunk in leads.chunks(PER_BUFFER + PER_BUFFER / 3) {
            packed.append(chunk);
            if let Some(w) = writing.take() {
                w.join().unwrap().unwrap();
            }
            let job = packed
                .spill_later(|| tempfile::tempfile_in(dir.path()))
                .unwrap();
            // Taken at once: only the last, partly filled buffer is still held.
            let held = packed.buffers.iter().filter(|b| b.is_some()).count();
            assert!(held <= 1, "{held} buffers held");
            jobs += usize::from(job.is_some());
            writing = job.map(|job| std::thread::spawn(move || job.write()));
        }
        writing.take().unwrap().join().unwrap().unwrap();
        assert!(jobs >= 4, "{jobs} writes");
        for i in (0..leads.len())
            .step_by(89)
            .chain([PER_BUFFER - 1, leads.len() - 1])
        {
            assert_eq!(packed.get(i), leads[i], "lead {i}");
        }
        assert_eq!(packed.unpack(), leads);
        // Nothing full left to take: no job.
        let mut few = PackedLeads::pack_slice(&leads[..5]);
        assert!(few
            .spill_later(|| tempfile::tempfile_in(dir.path()))
            .unwrap()
            .is_none());
    }

    /// A packed lead's bytes are its own, and its head reads as the lead's fields, from
    /// held and spilled buffers alike; leads packed again from their bytes are the same.
    #[test]
    fn packed_bytes_and_heads_are_the_leads() {
        use crate::lead::PhoneKind;
        let leads: Vec<Lead> = (0..PER_BUFFER + 9)
            .map(|i| {
                let mut l = lead(i);
                if i % 3 == 0 {
                    l.last_name = Some(format!("Sousa-{i} de Albuquerque e Menezes").into());
                    l.email2 = Some(Email("second@example.pt".into()));
                    l.phone2 = Some(Phone("+351212345678".into()));
                    l.postcode = Some("1000-001".into());
                    l.city = Some("Lisboa".into());
                    l.phone_kind = PhoneKind::Mobile;
                    l.quality = Quality::NAME_SPLIT | Quality::INVALID_EMAIL2;
                }
                if i % 5 == 0 {
                    l.agent_id = None;
                    l.source.source_id = None;
                    l.phone_kind = PhoneKind::Landline;
                }
                l
            })
            .chain([Lead::default()])
            .collect();
        let check = |packed: &PackedLeads| {
            for (i, lead) in leads.iter().enumerate() {
                let raw = packed.raw(i);
                assert_eq!(raw[..], encode(lead, Vec::new())[..], "lead {i}");
                assert_eq!(head_of(&raw), LeadHead::of(lead), "lead {i}");
                assert_eq!(decode(&raw), *lead);
            }
        };
        let mut packed = PackedLeads::pack_slice(&leads);
        check(&packed);
        let raws: Vec<Vec<u8>> = (0..leads.len())
            .map(|i| packed.raw(i).into_owned())
            .collect();
        let mut again = PackedLeads::default();
        for chunk in raws.chunks(1000) {
            again.append_with(chunk, |bytes, mut out| {
                out.extend_from_slice(bytes);
                out
            });
        }
        assert_eq!(again.clone().unpack(), leads);
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            packed.spill(|| tempfile::tempfile_in(dir.path())).unwrap();
            assert!(packed.buffers[0].is_none());
            check(&packed);
        }
    }

    #[test]
    fn lead_keys_give_each_leads_key() {
        let leads: Vec<Lead> = [
            "a:1",
            "",
            "realgeeks:814fae8dc624e9d04fc6df5ac7730101",
            "é:2",
        ]
        .into_iter()
        .map(|k| Lead {
            lead_key: k.into(),
            ..Lead::default()
        })
        .collect();
        let keys = LeadKeys::of(&leads);
        for (i, lead) in leads.iter().enumerate() {
            assert_eq!(keys.get(i as u32), lead.lead_key.as_str());
        }
        assert!(keys.iter().eq(leads.iter().map(|l| l.lead_key.as_str())));
        let mut more = keys.clone();
        more.extend(["z:9"]);
        assert_eq!((more.len(), more.get(4)), (5, "z:9"));
        assert!(LeadKeys::of(&[]).is_empty());
    }
}
