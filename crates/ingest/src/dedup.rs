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
    /// True the first time these record bytes are seen.
    pub fn first_sighting(&self, record: &[u8]) -> bool {
        let h = xxh3_128(record);
        let shard = &self.shards[(h as usize) % SHARDS];
        // A poisoned shard only means another thread panicked mid-insert; the set is still valid.
        shard.lock().unwrap_or_else(|e| e.into_inner()).insert(h)
    }
}
