//! One record's bytes into the column builders, losing nothing.
//!
//! A value that fits its column goes there. Whatever does not (an unknown key, a value of an
//! unexpected JSON type, an explicit `null`, a non-canonical `eventTime`) is also written, as its
//! compact JSON text, into the record's `unmapped` object, which mirrors the record's nesting.
//! [`trawl_lake::restore`] reverses this exactly.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringBuilder};
use arrow::compute::filter_record_batch;
use trawl_lake::json_scan::SyntaxError;
use trawl_lake::json_text::{minify, push_string};
use trawl_lake::schema::{self, AWS_REGION, EVENT_ID, EVENT_TIME, FieldDef, Kind, RECORD};
use trawl_lake::{PartitionKey, eventtime};

use crate::columns::{ColumnBuilder, ListColumns, room};
use crate::dedup::{DedupSet, PartitionSet};
use crate::tape::{ROOT, Slot, Tape};

/// Why a record cannot be stored; it is quarantined instead.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The bytes are not UTF-8.
    #[error("not UTF-8 text: {0}")]
    NotUtf8(#[from] std::str::Utf8Error),
    /// The text is not a JSON object.
    #[error("not a JSON object: {0}")]
    NotAnObject(#[from] SyntaxError),
    /// The record has no `eventTime`.
    #[error("no eventTime")]
    NoEventTime,
    /// The record's `eventTime` is not a date and time.
    #[error("eventTime {0} is not a date and time")]
    BadEventTime(String),
}

/// Rows of one partition, decoded so far.
#[derive(Debug)]
pub struct DecodedBatch {
    /// Where the rows go.
    pub partition: PartitionKey,
    /// The rows, in the lake's file schema.
    pub batch: RecordBatch,
}

/// The builders of one partition's rows.
struct Rows {
    columns: Vec<ColumnBuilder>,
    unmapped: StringBuilder,
    len: usize,
    deliveries: Deliveries,
}

/// The duplicate check of one partition's rows.
struct Deliveries {
    /// The partition's events stored so far in this run, shared by the decoders.
    stored: Arc<PartitionSet>,
    /// Fingerprints of the rows appended since the last check against `stored`, with the rows.
    unchecked: Vec<u128>,
    unchecked_rows: Vec<usize>,
    /// Rows found to be second deliveries after they were appended, in increasing order:
    /// left out when the batch is finished.
    dropped: Vec<usize>,
}

impl Deliveries {
    fn new(stored: Arc<PartitionSet>) -> Self {
        Self {
            stored,
            unchecked: Vec::new(),
            unchecked_rows: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Notes row `row`, with this fingerprint, to be checked with the rest of its file.
    fn add(&mut self, fingerprint: u128, row: usize) {
        self.unchecked.push(fingerprint);
        self.unchecked_rows.push(row);
    }

    /// Checks the rows appended since the last check against the partition's stored events,
    /// marking second deliveries to be left out; returns how many there were. `seen` is
    /// scratch.
    fn check(&mut self, seen: &mut Vec<usize>) -> u64 {
        if self.unchecked.is_empty() {
            return 0;
        }
        seen.clear();
        self.stored.add_all(&self.unchecked, seen);
        self.dropped
            .extend(seen.iter().map(|&i| self.unchecked_rows[i]));
        self.unchecked.clear();
        self.unchecked_rows.clear();
        seen.len() as u64
    }
}

impl Rows {
    fn new(stored: Arc<PartitionSet>) -> Self {
        Self {
            columns: RECORD.iter().map(|d| ColumnBuilder::new(d.kind)).collect(),
            unmapped: StringBuilder::new(),
            len: 0,
            deliveries: Deliveries::new(stored),
        }
    }

    /// Builders with room for a batch like `like`.
    fn sized_like(like: &RecordBatch, stored: Arc<PartitionSet>) -> Self {
        let columns = RECORD
            .iter()
            .zip(like.columns())
            .map(|(d, c)| ColumnBuilder::sized_like(d.kind, c))
            .collect();
        let unmapped = like.column(RECORD.len()).as_string::<i32>();
        Self {
            columns,
            unmapped: StringBuilder::with_capacity(
                room(unmapped.len()),
                room(unmapped.values().len()),
            ),
            len: 0,
            deliveries: Deliveries::new(stored),
        }
    }

    fn finish(&mut self) -> RecordBatch {
        let rows = self.len;
        let mut arrays: Vec<_> = self.columns.iter_mut().map(|c| c.finish(rows)).collect();
        arrays.push(Arc::new(self.unmapped.finish()));
        self.len = 0;
        let batch = RecordBatch::try_new(schema::file_schema(), arrays)
            .expect("builders follow the file schema");
        if self.deliveries.dropped.is_empty() {
            return batch;
        }
        let mut keep = vec![true; rows];
        for row in self.deliveries.dropped.drain(..) {
            keep[row] = false;
        }
        filter_record_batch(&batch, &BooleanArray::from(keep)).expect("a mask as long as the batch")
    }
}

/// Decodes records into Arrow columns, one set of builders per partition, so rows never
/// have to be copied to be split by partition.
pub struct Decoder {
    parts: Vec<(PartitionKey, Rows)>,
    part_index: HashMap<PartitionKey, usize>,
    /// The last record's (awsRegion, day, part): consecutive records mostly share it.
    last_partition: Option<(String, i32, usize)>,
    rows: usize,
    dedup: Arc<DedupSet>,
    /// Scratch for the positions of rows found to be second deliveries.
    seen: Vec<usize>,
    /// Second deliveries found and left out since [`Decoder::settle_duplicates`] last said.
    duplicates: u64,
    /// The record being decoded, read once.
    tape: Tape,
    /// The record's `unmapped` value, built in a buffer kept from record to record.
    unmapped: String,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// The text of a JSON string literal, unescaped; `None` if `raw` is not a valid string.
fn string_value(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

impl Decoder {
    /// A decoder whose duplicate check is shared through `dedup`.
    pub fn new(dedup: Arc<DedupSet>) -> Self {
        Self {
            parts: Vec::new(),
            part_index: HashMap::new(),
            last_partition: None,
            rows: 0,
            dedup,
            seen: Vec::new(),
            duplicates: 0,
            tape: Tape::default(),
            unmapped: String::new(),
        }
    }

    /// Rows appended since the last [`Decoder::take_batches`].
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Appends one record. On error nothing was appended. A second delivery of an event
    /// already stored in this run is left out of the batches; [`Decoder::settle_duplicates`]
    /// says how many were.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        self.append_scanned(bytes, false)
    }

    /// Like [`Decoder::append`], for a record the splitter found `compact`: without white space
    /// outside strings, so it needs no minifying to be compared with other deliveries.
    pub fn append_scanned(&mut self, bytes: &[u8], compact: bool) -> Result<(), RecordError> {
        self.tape.read(bytes, RECORD)?;
        self.append_read(bytes, compact)
    }

    /// The tape records are read onto: a splitter may read a record onto it while finding
    /// where it ends, then hand it to [`Decoder::append_read`].
    pub(crate) fn tape_mut(&mut self) -> &mut Tape {
        &mut self.tape
    }

    /// Like [`Decoder::append_scanned`], for a record just read onto the tape.
    pub(crate) fn append_read(&mut self, bytes: &[u8], compact: bool) -> Result<(), RecordError> {
        // Most records are valid: the fast check first, the one that says where it fails after.
        let text = simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))?;
        let slots = self.tape.slots(ROOT, RECORD);
        let time = slots[EVENT_TIME];
        if !time.is_present() {
            return Err(RecordError::NoEventTime);
        }
        let time_raw = &text[time.range()];
        let micros = string_value(time_raw)
            .and_then(|s| eventtime::parse(&s))
            .ok_or_else(|| RecordError::BadEventTime(time_raw.to_string()))?;

        // Only a record with an eventID can be recognised as a second delivery. White space
        // does not make a record different: compare the compact text. The record is appended
        // now and checked with the rest of its file (`settle_duplicates`).
        let id = slots[EVENT_ID];
        let fingerprint =
            (id.is_present() && text.as_bytes()[id.range().start] == b'"').then(|| {
                let compact_text = if compact {
                    Cow::Borrowed(text)
                } else {
                    minify(text.trim())
                };
                DedupSet::fingerprint(compact_text.as_bytes())
            });

        let region_slot = slots[AWS_REGION];
        let region = region_slot
            .is_present()
            .then(|| string_value(&text[region_slot.range()]))
            .flatten();
        let region = region.as_deref().unwrap_or_default();
        let day = eventtime::epoch_day(micros);
        let part = match &self.last_partition {
            Some((r, d, i)) if *d == day && r == region => *i,
            _ => {
                let key = PartitionKey::new(Some(region), micros);
                let next = self.parts.len();
                let dedup = &self.dedup;
                let part = *self.part_index.entry(key).or_insert_with_key(|k| {
                    self.parts.push((k.clone(), Rows::new(dedup.partition(k))));
                    next
                });
                self.last_partition = Some((region.to_string(), day, part));
                part
            }
        };

        let rows = &mut self.parts[part].1;
        let record = Record {
            text,
            tape: &self.tape,
            compact,
            event_time: (time, micros),
        };
        let unmapped = &mut self.unmapped;
        unmapped.clear();
        record.append_object(RECORD, &mut rows.columns, ROOT, rows.len, unmapped);
        if unmapped.is_empty() {
            rows.unmapped.append_null();
        } else {
            rows.unmapped.append_value(&*unmapped);
        }
        if let Some(fingerprint) = fingerprint {
            rows.deliveries.add(fingerprint, rows.len);
        }
        rows.len += 1;
        self.rows += 1;
        Ok(())
    }

    /// Checks the records appended since the last check against the run's set of events,
    /// leaving second deliveries out of the batches; returns how many there were since the
    /// last call. Called at the end of each input file, so the count is that file's.
    pub fn settle_duplicates(&mut self) -> u64 {
        self.check_unchecked();
        std::mem::take(&mut self.duplicates)
    }

    /// Records are checked a file at a time, in each partition they went to.
    fn check_unchecked(&mut self) {
        for (_, rows) in &mut self.parts {
            self.duplicates += rows.deliveries.check(&mut self.seen);
        }
    }

    /// The rows decoded so far, one batch per partition; the decoder starts afresh, holding
    /// builders only for the partition the last record went to (records of one input file
    /// mostly share one), sized like its last batch, so memory follows the rows decoded, not
    /// the partitions seen.
    pub fn take_batches(&mut self) -> Vec<DecodedBatch> {
        self.check_unchecked();
        self.rows = 0;
        self.part_index.clear();
        let last = self.last_partition.take();
        let mut batches = Vec::new();
        for (i, (partition, mut rows)) in std::mem::take(&mut self.parts).into_iter().enumerate() {
            if rows.len == 0 {
                continue;
            }
            let batch = rows.finish();
            if let Some((region, day, part)) = &last
                && *part == i
            {
                self.part_index.insert(partition.clone(), 0);
                self.parts.push((
                    partition.clone(),
                    Rows::sized_like(&batch, Arc::clone(&rows.deliveries.stored)),
                ));
                self.last_partition = Some((region.clone(), *day, 0));
            }
            if batch.num_rows() > 0 {
                batches.push(DecodedBatch { batch, partition });
            }
        }
        batches
    }
}

/// Collects one level of the `unmapped` object, as JSON text (empty while it has no members).
struct Patch<'b>(&'b mut String);

impl Patch<'_> {
    /// Adds a member whose key is given as a JSON string literal.
    fn add_literal(&mut self, key_literal: &str, json: &str) {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        self.0.push_str(key_literal);
        self.0.push(':');
        self.0.push_str(json);
    }

    /// Adds a member for a field of the schema, whose key needs no escaping.
    fn add(&mut self, key: &'static str, json: &str) {
        debug_assert!(written_as_is(key));
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        self.0.push('"');
        self.0.push_str(key);
        self.0.push_str("\":");
        self.0.push_str(json);
    }

    fn finish(self) {
        if !self.0.is_empty() {
            self.0.push('}');
        }
    }
}

/// Whether JSON writes `key` as it is, between quotes: nothing in it is escaped.
fn written_as_is(key: &str) -> bool {
    let mut literal = String::new();
    push_string(key, &mut literal);
    literal.len() == key.len() + 2
}

/// One record read onto a tape, and how to copy it into columns.
struct Record<'a> {
    text: &'a str,
    tape: &'a Tape,
    /// The text holds no white space outside strings, so values need no minifying.
    compact: bool,
    /// `eventTime`, read once to choose the partition.
    event_time: (Slot, i64),
}

impl Record<'_> {
    /// The JSON text of `range`, without insignificant white space.
    fn json(&self, range: Range<usize>) -> Cow<'_, str> {
        let raw = &self.text[range];
        if self.compact {
            Cow::Borrowed(raw)
        } else {
            minify(raw)
        }
    }

    /// Appends the object at `level` to `columns` (one per field of `fields`) as their row
    /// `row`, and writes what they could not hold to `unmapped` (empty) as a JSON object, if
    /// anything. Columns of absent fields are left short, to be padded later.
    fn append_object(
        &self,
        fields: &'static [FieldDef],
        columns: &mut [ColumnBuilder],
        level: u32,
        row: usize,
        unmapped: &mut String,
    ) {
        let mut patch = Patch(unmapped);
        for member in self.tape.unknown(level) {
            patch.add_literal(
                &self.text[member.key.clone()],
                &self.json(member.value.clone()),
            );
        }
        let slots = self.tape.slots(level, fields);
        for ((def, column), slot) in fields.iter().zip(columns.iter_mut()).zip(slots) {
            if slot.is_present() {
                column.pad_to(row);
                self.append_value(def, column, slot, &mut patch);
            }
        }
        patch.finish()
    }

    fn append_value(
        &self,
        def: &FieldDef,
        column: &mut ColumnBuilder,
        slot: &Slot,
        patch: &mut Patch,
    ) {
        let range = slot.range();
        let first = self.text.as_bytes()[range.start];
        if first == b'n' {
            column.append_null();
            patch.add(def.key, "null");
            return;
        }
        // The common case, a string without escapes, slices the text once (each slice of a
        // `str` checks both ends fall between characters).
        if let (Kind::Text, ColumnBuilder::Text(b)) = (def.kind, &mut *column)
            && first == b'"'
            && !slot.escaped
        {
            b.append_value(&self.text[range.start + 1..range.end - 1]);
            return;
        }
        let raw = &self.text[range];
        match (def.kind, column) {
            (Kind::Json, ColumnBuilder::Text(b)) => b.append_value(self.json(slot.range())),
            // A string with escapes to undo.
            (Kind::Text, ColumnBuilder::Text(b)) if first == b'"' => {
                if let Ok(s) = serde_json::from_str::<String>(raw) {
                    b.append_value(s);
                } else {
                    // A lone surrogate escape has no UTF-8 form: keep the text only in
                    // `unmapped`.
                    b.append_null();
                    patch.add(def.key, raw);
                }
            }
            (Kind::Text, ColumnBuilder::Text(b)) => {
                let text = self.json(slot.range());
                b.append_value(&text);
                patch.add(def.key, &text);
            }
            (Kind::Bool, ColumnBuilder::Bool(b)) => match raw {
                "true" => b.append_value(true),
                "false" => b.append_value(false),
                _ => {
                    let text = string_value(raw).map(|s| s.trim().to_ascii_lowercase());
                    match text.as_deref() {
                        Some("true") => b.append_value(true),
                        Some("false") => b.append_value(false),
                        _ => b.append_null(),
                    }
                    patch.add(def.key, &self.json(slot.range()));
                }
            },
            (Kind::Timestamp, ColumnBuilder::Timestamp(b)) => {
                let (read, micros) = self.event_time;
                let micros = if read.range() == slot.range() {
                    Some(micros)
                } else {
                    string_value(raw).as_deref().and_then(eventtime::parse)
                };
                match micros {
                    Some(micros) => {
                        b.append_value(micros);
                        if !eventtime::is_canonical_whole_second(&raw[1..raw.len() - 1]) {
                            patch.add(def.key, raw);
                        }
                    }
                    None => {
                        b.append_null();
                        patch.add(def.key, &self.json(slot.range()));
                    }
                }
            }
            (Kind::Struct(fields), ColumnBuilder::Struct(s)) => {
                match self.tape.object_level(slot) {
                    Some(level) => {
                        let row = s.append_present();
                        let mut nested = String::new();
                        self.append_object(fields, &mut s.children, level, row, &mut nested);
                        if !nested.is_empty() {
                            patch.add(def.key, &nested);
                        }
                    }
                    None => {
                        s.append_null();
                        patch.add(def.key, &self.json(slot.range()));
                    }
                }
            }
            (Kind::StructList(fields), ColumnBuilder::List(list)) => {
                self.append_list(def.key, fields, list, slot, patch)
            }
            (_, column) => {
                column.append_null();
                patch.add(def.key, &self.json(slot.range()));
            }
        }
    }

    fn append_list(
        &self,
        key: &'static str,
        fields: &'static [FieldDef],
        list: &mut ListColumns,
        slot: &Slot,
        patch: &mut Patch,
    ) {
        let Some(items) = self.tape.items(slot) else {
            // Not an array: nothing typed to show, all of it in `unmapped`.
            list.append_nulls(1);
            patch.add(key, &self.json(slot.range()));
            return;
        };
        let mut exact = true;
        let mut count = 0;
        for item in items {
            count += 1;
            match item {
                Some(level) => {
                    let row = list.items.append_present();
                    let mut nested = String::new();
                    self.append_object(fields, &mut list.items.children, level, row, &mut nested);
                    exact &= nested.is_empty();
                }
                None => {
                    list.items.append_null();
                    exact = false;
                }
            }
        }
        list.close_list(count);
        if !exact {
            // The typed list shows what fits; the whole original array restores the record.
            patch.add(key, &self.json(slot.range()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trawl_lake::restore::RecordWriter;

    fn round_trip(records: &[&str]) -> Vec<String> {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        for r in records {
            d.append(r.as_bytes()).unwrap();
        }
        let mut batches = d.take_batches();
        assert_eq!(batches.len(), 1);
        let batch = batches.pop().unwrap().batch;
        let w = RecordWriter::new(&batch).unwrap();
        (0..batch.num_rows())
            .map(|i| {
                let mut s = String::new();
                w.write_row(i, &mut s).unwrap();
                s
            })
            .collect()
    }

    fn assert_json_eq(a: &str, b: &str) {
        if a.contains("\\ud800") {
            // serde_json refuses lone surrogates (Python does not): compare the value's text.
            assert!(b.contains(r#""eventName":"\ud800 lone""#), "{b}");
            let strip = |s: &str| s.replace(r#""\ud800 lone""#, "0");
            return assert_json_eq(&strip(a), &strip(b));
        }
        let va: serde_json::Value = serde_json::from_str(a).unwrap();
        let vb: serde_json::Value = serde_json::from_str(b).unwrap();
        assert_eq!(va, vb, "\n{a}\n{b}");
    }

    #[test]
    fn no_key_of_the_schema_needs_escaping() {
        fn check(fields: &[FieldDef]) {
            for d in fields {
                assert!(written_as_is(d.key), "{}", d.key);
                if let Kind::Struct(f) | Kind::StructList(f) = d.kind {
                    check(f);
                }
            }
        }
        check(RECORD);
        assert!(!written_as_is("a\"b") && !written_as_is("a\\b") && !written_as_is("a\nb"));
    }

    #[test]
    fn odd_records_come_back_equal() {
        let records = [
            r#"{"eventTime":"2024-01-02T03:04:05Z","eventName":"A","awsRegion":null}"#,
            r#"{"eventTime":"2024-01-02 03:04:05.123456789","readOnly":"true","managementEvent":1}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","requestParameters":"a string","responseElements":null,"x-amz-id-2":[1.50,2e3],"eventId":"lower"}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","userIdentity":{"type":"Root","sessionContext":{"attributes":{"mfaAuthenticated":false,"extra":{"k":null}}},"new":"x"}}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","userIdentity":"weird","resources":[{"ARN":"a","accountId":"1","type":"t"},{"arn":"b"}],"tlsDetails":{}}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","resources":[],"eventVersion":1.08,"errorCode":{"nested":true}}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","eventName":"\ud800 lone","dup":1,"dup":2,"big":123456789012345678901234567890}"#,
            r#"{"eventTime":"2024-01-02T03:04:05Z","resources":{"ARN":"not a list"},"addendum":null}"#,
            // Read in one pass: a repeated object key (the last one counts, as in serde_json),
            // an escaped known key, white space everywhere, unknown keys at every depth.
            r#"{"userIdentity":{"type":"A","x":1},"eventTime":"2024-01-02T03:04:05Z","userIdentity":{"arn":"B"}}"#,
            r#"{"event\u004eame":"Esc","eventTime":"2024-01-02T03:04:05Z","\u00e9":"\u00e9"}"#,
            "{ \"eventTime\" : \"2024-01-02T03:04:05Z\" ,\n \"requestParameters\" : { \"a\" : [ 1 , { } ] } ,\t\"resources\" : [ { \"ARN\" : \"a\" , \"k\" : [ ] } , 7 ] , \"u\" : { \"v\" : null } }",
        ];
        let out = round_trip(&records);
        for (a, b) in records.iter().zip(&out) {
            assert_json_eq(a, b);
        }
        // Exact text too for values that a parsed number would change.
        assert!(out[2].contains("[1.50,2e3]"), "{}", out[2]);
        assert!(out[6].contains("123456789012345678901234567890"));
    }

    #[test]
    fn refused_records_leave_no_trace() {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        for bad in [
            &b"[1]"[..],
            b"{\"eventName\":\"x\"}",
            b"{\"eventTime\":\"soon\"}",
            b"{\"eventTime\":5}",
            b"\xff\xfe",
            b"{\"eventTime\":\"2024-01-01T00:00:00Z\"",
        ] {
            assert!(d.append(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(d.take_batches().is_empty());
    }

    #[test]
    fn the_same_event_twice_is_stored_once_but_shared_ids_are_kept() {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        let a = br#"{"eventTime":"2024-01-02T03:04:05Z","eventID":"1","eventName":"A"}"#;
        let b = br#"{"eventTime":"2024-01-02T03:04:05Z","eventID":"1","eventName":"B"}"#;
        let c = br#"{"eventTime":"2024-01-02T03:04:05Z","eventName":"no id"}"#;
        d.append(a).unwrap();
        d.append(a).unwrap();
        let pretty = br#"{ "eventTime": "2024-01-02T03:04:05Z",
            "eventID": "1", "eventName": "A" }"#;
        d.append(pretty).unwrap();
        // The splitter vouches for compact text: the same event is found without minifying.
        d.append_scanned(a, true).unwrap();
        d.append(b).unwrap();
        d.append(c).unwrap();
        d.append(c).unwrap();
        assert_eq!(d.settle_duplicates(), 3);
        assert_eq!(
            d.settle_duplicates(),
            0,
            "each second delivery is counted once"
        );
        let batches = d.take_batches();
        let names: Vec<&str> = batches
            .iter()
            .flat_map(|b| {
                let i = b.batch.schema().index_of("eventname").unwrap();
                b.batch
                    .column(i)
                    .as_string::<i32>()
                    .iter()
                    .map(Option::unwrap)
            })
            .collect();
        assert_eq!(names, ["A", "B", "no id", "no id"]);
        // Found again by a later file, after its first delivery left in an earlier batch.
        d.append(pretty).unwrap();
        assert!(
            d.take_batches().is_empty(),
            "a batch of only second deliveries"
        );
        assert_eq!(d.settle_duplicates(), 1);
    }

    #[test]
    fn partitions_opened_after_a_take_start_empty() {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        let record = |region: &str, name: &str| {
            format!(
                r#"{{"eventTime":"2024-01-02T03:04:05Z","awsRegion":"{region}","eventName":"{name}","resources":[{{"ARN":"{name}"}}]}}"#
            )
        };
        for i in 0..5 {
            d.append(record("a", &format!("a{i}")).as_bytes()).unwrap();
        }
        assert_eq!(d.take_batches()[0].batch.num_rows(), 5);
        // Regions b and c get new builders, region a its kept ones.
        for region in ["b", "c", "a"] {
            d.append(record(region, region).as_bytes()).unwrap();
        }
        let batches = d.take_batches();
        assert_eq!(batches.len(), 3);
        for b in &batches {
            let batch = &b.batch;
            assert_eq!(batch.num_rows(), 1);
            let schema = batch.schema();
            let names = batch.column(schema.index_of("eventname").unwrap());
            let region = b.partition.relative_dir()[7..8].to_string();
            assert_eq!(names.as_string::<i32>().value(0), region);
            let resources = batch.column(schema.index_of("resources").unwrap());
            assert_eq!(resources.as_list::<i32>().value(0).len(), 1);
        }
    }

    #[test]
    fn partitions_follow_region_and_utc_day() {
        let mut d = Decoder::new(Arc::new(DedupSet::default()));
        d.append(br#"{"eventTime":"2024-01-02T23:30:00-02:00","awsRegion":"../../x"}"#)
            .unwrap();
        d.append(br#"{"eventTime":"2024-01-03T01:30:00Z","awsRegion":"../../x"}"#)
            .unwrap();
        d.append(br#"{"eventTime":"2024-01-03T01:30:00Z","awsRegion":"us-east-1"}"#)
            .unwrap();
        let b = d.take_batches();
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0].partition.relative_dir(),
            "region=%2E%2E%2F%2E%2E%2Fx/date=2024-01-03"
        );
        assert_eq!(b[0].batch.num_rows(), 2);
        assert!(d.take_batches().is_empty());
    }
}
