//! Leads held packed: each lead encoded in a compact binary form (postcard, through the
//! lead's serde implementation), a few thousand leads to a buffer.
//!
//! A payload target's existing records are read with the sources, but only matched once
//! the contacts are linked and the leads' files written. As leads they were a quarter of a
//! million structs of 688 bytes and their strings, held through linking, where the run's
//! memory peaks; packed they take about a third of that, and are unpacked on the pool's
//! threads when the target is matched.

use rayon::prelude::*;

use crate::lead::Lead;

/// Leads in one buffer each.
const PER_BUFFER: usize = 4096;

/// Leads encoded side by side, in order.
#[derive(Debug, Default)]
pub struct PackedLeads {
    /// Each buffer holds up to [`PER_BUFFER`] leads, one after the other.
    buffers: Vec<Box<[u8]>>,
    len: usize,
}

impl PackedLeads {
    /// Packs `leads`, freeing them as they are packed.
    pub fn pack(leads: Vec<Lead>) -> PackedLeads {
        let packed = Self::pack_slice(&leads);
        crate::allocator::drop_later(leads);
        packed
    }

    /// Packs copies of `leads`.
    pub fn pack_slice(leads: &[Lead]) -> PackedLeads {
        let buffers = leads
            .par_chunks(PER_BUFFER)
            .map(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * 512);
                for lead in chunk {
                    out = postcard::to_extend(lead, out).expect("a lead encodes");
                }
                out.into_boxed_slice()
            })
            .collect();
        PackedLeads {
            buffers,
            len: leads.len(),
        }
    }

    /// How many leads.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The leads, in the order they were packed.
    pub fn unpack(self) -> Vec<Lead> {
        let mut leads = Vec::with_capacity(self.len);
        leads.par_extend(self.buffers.into_par_iter().flat_map_iter(|buffer| {
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
        assert_eq!(packed.unpack(), leads);

        let none = PackedLeads::pack(Vec::new());
        assert!(none.is_empty());
        assert!(none.unpack().is_empty());
        assert_eq!(
            PackedLeads::pack(vec![Lead::default()]).unpack(),
            vec![Lead::default()]
        );
    }
}
