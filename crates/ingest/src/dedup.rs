//! The set of events already stored in this run, shared by the decoding threads.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use trawl_lake::partition::PartitionKey;
use xxhash_rust::xxh3::xxh3_128;

/// Remembers a 128-bit hash of every record with an eventID seen in this run, so a record
/// delivered twice (same eventID, same bytes) is stored once. At 10⁹ records the chance of a
/// false match is about 10⁻²¹.
///
/// Kept per partition: a second delivery has the first one's awsRegion and eventTime, so it
/// falls in the same partition. A file's records mostly share one, and its set is small enough
/// to stay in the CPU's caches, where one set of the whole run took a miss to memory for nearly
/// every record (its inserts went from 2.6% of an ingest's profile samples to 1.1%).
#[derive(Debug, Default)]
pub struct DedupSet {
    partitions: Mutex<HashMap<PartitionKey, Arc<PartitionSet>>>,
}

/// The events of one partition already stored in this run.
#[derive(Debug, Default)]
pub struct PartitionSet(Mutex<HashSet<u128, BuildHasherDefault<Xxh3Bits>>>);

/// The set's keys are xxh3 hashes already: their own bits serve as the table's hash.
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
        self.0 = (key >> 64) as u64;
    }
}

impl DedupSet {
    /// What a record is remembered by: a hash of its (compact) bytes.
    pub fn fingerprint(record: &[u8]) -> u128 {
        xxh3_128(record)
    }

    /// The set of `partition`'s events, made empty the first time it is asked for.
    pub fn partition(&self, partition: &PartitionKey) -> Arc<PartitionSet> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still
        // valid.
        let mut partitions = self.partitions.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(partitions.entry(partition.clone()).or_default())
    }
}

impl PartitionSet {
    /// Adds `fingerprints` in order and appends to `seen` the positions of those already
    /// there (from earlier in this run, or earlier in the slice), in increasing order.
    ///
    /// A batch at a time (a file's records): the lock is taken once, and the two decoding
    /// threads hand it back and forth once per file instead of once per record.
    pub fn add_all(&self, fingerprints: &[u128], seen: &mut Vec<usize>) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for (i, f) in fingerprints.iter().enumerate() {
            if !set.insert(*f) {
                seen.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_new_once_per_run_whichever_batch_it_comes_in() {
        let dedup = DedupSet::default();
        let key = PartitionKey::new(Some("us-east-1"), 0);
        let set = dedup.partition(&key);
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
        // The same partition asked for again is the same set; another partition has its own.
        seen.clear();
        dedup.partition(&key).add_all(&records[..1], &mut seen);
        assert_eq!(seen, [0]);
        seen.clear();
        let other = PartitionKey::new(Some("eu-west-1"), 0);
        dedup.partition(&other).add_all(&records[..1], &mut seen);
        assert!(seen.is_empty());
    }
}
