//! The set of events already stored in this run, shared by the decoding threads.

use std::collections::HashSet;
use std::sync::Mutex;

use xxhash_rust::xxh3::xxh3_128;

const SHARDS: usize = 16;

/// Remembers a 128-bit hash of every record with an eventID seen in this run, so a record
/// delivered twice (same eventID, same bytes) is stored once. At 10⁹ records the chance of a
/// false match is about 10⁻²¹.
#[derive(Debug)]
pub struct DedupSet {
    shards: Vec<Mutex<HashSet<u128>>>,
}

impl Default for DedupSet {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashSet::new())).collect(),
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
