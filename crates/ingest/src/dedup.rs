//! The set of events already stored in this run, shared by the decoding threads.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use xxhash_rust::xxh3::xxh3_128;

const SHARDS: usize = 16;

/// Remembers a 128-bit hash of every record with an eventID seen in this run, so a record
/// delivered twice (same eventID, same bytes) is stored once. At 10⁹ records the chance of a
/// false match is about 10⁻²¹.
#[derive(Debug)]
pub struct DedupSet {
    shards: Vec<Mutex<HashSet<u128, BuildHasherDefault<Xxh3Bits>>>>,
}

/// The set's keys are xxh3 hashes already: their own low bits serve as the table's hash.
#[derive(Default)]
struct Xxh3Bits(u64);

impl Hasher for Xxh3Bits {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; this keeps any other key type correct, if slower.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u128(&mut self, key: u128) {
        // The low bits chose the shard; the high half is as random and independent.
        self.0 = (key >> 64) as u64;
    }
}

impl Default for DedupSet {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashSet::default()))
                .collect(),
        }
    }
}

impl DedupSet {
    /// What a record is remembered by: a hash of its (compact) bytes.
    pub fn fingerprint(record: &[u8]) -> u128 {
        xxh3_128(record)
    }

    /// Adds `fingerprints` in order and appends to `seen` the positions of those already
    /// there (from earlier in this run, or earlier in the slice), in increasing order.
    ///
    /// A batch at a time: each shard is locked once for all its fingerprints and they go in
    /// one after another, so the table's cache misses overlap instead of each waiting for the
    /// record after it to be decoded, and the two decoding threads hand a shard's lock back and
    /// forth once per file instead of once per record.
    pub fn add_all(&self, fingerprints: &[u128], seen: &mut Vec<usize>) {
        let first = seen.len();
        let mut shards_used = 0u32;
        for f in fingerprints {
            shards_used |= 1 << shard_of(*f);
        }
        while shards_used != 0 {
            let shard = shards_used.trailing_zeros() as usize;
            shards_used &= shards_used - 1;
            // A poisoned shard only means another thread panicked mid-insert; the set is
            // still valid.
            let mut set = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
            for (i, f) in fingerprints.iter().enumerate() {
                // The same fingerprint always falls in the same shard: within a shard, the
                // order of the slice is kept.
                if shard_of(*f) == shard && !set.insert(*f) {
                    seen.push(i);
                }
            }
        }
        seen[first..].sort_unstable();
    }
}

/// The shard a fingerprint is kept in: its low bits.
fn shard_of(fingerprint: u128) -> usize {
    (fingerprint as usize) % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_new_once_per_run_whichever_batch_it_comes_in() {
        let set = DedupSet::default();
        let records: Vec<u128> = (0..100u32)
            .map(|i| DedupSet::fingerprint(format!("record {i}").as_bytes()))
            .collect();
        let mut seen = Vec::new();
        set.add_all(&records[..60], &mut seen);
        assert!(seen.is_empty());
        // Repeats within one batch and from an earlier one: the first sighting stays new.
        let batch = [
            records[59],
            records[60],
            records[61],
            records[60],
            records[0],
        ];
        set.add_all(&batch, &mut seen);
        assert_eq!(seen, [0, 3, 4]);
        seen.clear();
        set.add_all(&records, &mut seen);
        assert_eq!(seen, (0..=61).collect::<Vec<usize>>());
    }
}
