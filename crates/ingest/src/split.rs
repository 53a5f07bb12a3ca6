//! Finding records in a stream of JSON text.
//!
//! CloudTrail files are `{"Records":[…]}`; other feeds give JSON Lines, a bare array, a single
//! record, or several wrappers back to back (multi-member gzip). [`RecordSplitter`] scans the
//! bytes once, tracking only strings and brackets, and hands out one record's bytes at a time,
//! so memory is bounded by the largest record, not the file (unless it is given a small file's
//! whole text, [`RecordSplitter::holding`]). An element of a records array that
//! is a whole object in the bytes read so far is instead found by reading it onto the decoder's
//! tape (the common case), so that it is parsed once; everything else is parsed by the decoder.
//!
//! Outside a wrapper a broken record costs only itself: a raw line break inside a string ends
//! it, and scanning resumes on the next line. Inside a wrapper a broken structure ends the file.

use std::io::{self, Read};

use memchr::memchr3;
use trawl_lake::schema::RECORD;

use crate::tape::Tape;

/// The largest record accepted; CloudTrail's own limit is 256 KiB.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

const READ_CHUNK: usize = 256 << 10;

/// One piece of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The bytes of one value that should be a record.
    Record {
        /// The value's bytes, exactly as in the file.
        bytes: &'a [u8],
        /// Whether it stood at the top level (JSON Lines) rather than in an array.
        top_level: bool,
        /// Whether it holds no white space outside strings (CloudTrail writes records so),
        /// which spares the decoder a search for it.
        compact: bool,
        /// Whether it was read onto the tape given to [`RecordSplitter::next_piece_onto`]
        /// (and so is a JSON object), which spares the decoder reading it again.
        on_tape: bool,
    },
    /// Bytes that cannot be a record, kept so they can be quarantined.
    Broken {
        /// The bytes, exactly as in the file.
        bytes: &'a [u8],
        /// Why they are not a record.
        reason: &'static str,
    },
}

/// Why a stream cannot be split further.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Reading (or decompressing) failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The text breaks JSON's structure where no recovery is possible.
    #[error("invalid JSON at byte {offset}: {reason}")]
    Structure { offset: u64, reason: &'static str },
    /// A single record is larger than [`MAX_RECORD_BYTES`].
    #[error("record at byte {offset} is larger than {MAX_RECORD_BYTES} bytes")]
    TooLarge { offset: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    TopLevel,
    /// Inside an array of records; `wrapped` when the array is a `{"Records": …}` value.
    InArray { wrapped: bool },
    /// After the records array of a wrapper, before its closing brace.
    AfterWrappedArray,
}

/// What a scan of one value found.
enum Scan {
    /// The value ends before this offset (relative to `start`).
    Complete(usize),
    /// A raw line break inside a string at this offset.
    LineBreakInString(usize),
    /// The input ended inside the value.
    Eof,
}

/// Splits a JSON text stream into record-sized pieces.
pub struct RecordSplitter<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    consumed: u64,
    state: State,
    at_beginning: bool,
    /// Whether the value scanned last had white space outside its strings.
    spaced: bool,
}

impl<R: Read> RecordSplitter<R> {
    /// A splitter reading from `reader` (already decompressed).
    pub fn new(reader: R) -> Self {
        Self::with_buffer(reader, Vec::new())
    }

    /// Like [`RecordSplitter::new`], reusing `buf` (from [`RecordSplitter::into_buffer`]) so a
    /// thread reading many files allocates its buffer once.
    pub fn with_buffer(reader: R, mut buf: Vec<u8>) -> Self {
        if buf.len() < READ_CHUNK {
            buf.resize(READ_CHUNK, 0);
        }
        Self {
            reader,
            buf,
            start: 0,
            end: 0,
            eof: false,
            consumed: 0,
            state: State::TopLevel,
            at_beginning: true,
            spaced: false,
        }
    }

    /// A splitter over text already in memory: the first `len` bytes of `buf` are the whole
    /// input, and `reader` is never read.
    pub fn holding(reader: R, buf: Vec<u8>, len: usize) -> Self {
        assert!(len <= buf.len(), "the text is inside the buffer");
        let mut splitter = Self::with_buffer(reader, buf);
        splitter.end = len;
        splitter.eof = true;
        splitter
    }

    /// Gives back the buffer for the next file.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes of decompressed text consumed so far.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Reads more input; returns false at the end of the input.
    fn fill(&mut self) -> Result<bool, SplitError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_RECORD_BYTES + READ_CHUNK {
                return Err(SplitError::TooLarge {
                    offset: self.consumed,
                });
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.consumed += n as u64;
    }

    /// The next byte that is not white space (nor a leading byte-order mark), without consuming it.
    fn peek(&mut self) -> Result<Option<u8>, SplitError> {
        loop {
            if self.at_beginning {
                while self.end - self.start < 3 && self.fill()? {}
                if self.buf[self.start..self.end].starts_with(b"\xEF\xBB\xBF") {
                    self.advance(3);
                }
                self.at_beginning = false;
            }
            while self.start < self.end {
                let c = self.buf[self.start];
                if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                    self.advance(1);
                } else {
                    return Ok(Some(c));
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Scans one value starting at `start`, reading more input as needed.
    fn scan_value(&mut self) -> Result<Scan, SplitError> {
        let mut pos = 0usize;
        let mut depth = 0u32;
        let mut in_string = false;
        let first = self.buf[self.start];
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        self.spaced = false;
        loop {
            while self.start + pos < self.end {
                let window = &self.buf[self.start + pos..self.end];
                if in_string {
                    match memchr3(b'"', b'\\', b'\n', window) {
                        None => pos += window.len(),
                        Some(i) => match window[i] {
                            b'\\' => {
                                if i + 1 >= window.len() {
                                    // The escaped byte is not read yet; rescan from the backslash.
                                    pos += i;
                                    break;
                                }
                                pos += i + 2;
                            }
                            b'"' => {
                                in_string = false;
                                pos += i + 1;
                                if depth == 0 {
                                    return Ok(Scan::Complete(pos));
                                }
                            }
                            _ => return Ok(Scan::LineBreakInString(pos + i)),
                        },
                    }
                    continue;
                }
                let c = window[0];
                if scalar {
                    if matches!(
                        c,
                        b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}' | b'{' | b'['
                    ) && pos > 0
                    {
                        return Ok(Scan::Complete(pos));
                    }
                    pos += 1;
                    continue;
                }
                pos += 1;
                match c {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Ok(Scan::Complete(pos));
                        }
                    }
                    b' ' | b'\n' | b'\r' | b'\t' => self.spaced = true,
                    _ => {}
                }
            }
            if pos > MAX_RECORD_BYTES {
                return Err(SplitError::TooLarge {
                    offset: self.consumed,
                });
            }
            if !self.fill()? {
                return Ok(if scalar && pos > 0 {
                    Scan::Complete(pos)
                } else {
                    Scan::Eof
                });
            }
        }
    }

    /// Whether the object at `start` opens with `"Records"` followed by an array; if so,
    /// consumes through the `[`.
    fn enter_wrapper(&mut self) -> Result<bool, SplitError> {
        const LOOKAHEAD: usize = 256;
        while self.end - self.start < LOOKAHEAD && self.fill()? {}
        let window = &self.buf[self.start..self.end];
        let skip_ws = |mut i: usize| {
            while i < window.len() && matches!(window[i], b' ' | b'\n' | b'\r' | b'\t') {
                i += 1;
            }
            i
        };
        let i = skip_ws(1);
        if !window[i..].starts_with(b"\"Records\"") {
            return Ok(false);
        }
        let i = skip_ws(i + 9);
        if window.get(i) != Some(&b':') {
            return Ok(false);
        }
        let i = skip_ws(i + 1);
        if window.get(i) != Some(&b'[') {
            return Ok(false);
        }
        self.advance(i + 1);
        Ok(true)
    }

    fn structure(&self, reason: &'static str) -> SplitError {
        SplitError::Structure {
            offset: self.consumed,
            reason,
        }
    }

    /// The next piece, or `None` at the end of the stream.
    pub fn next_piece(&mut self) -> Result<Option<Piece<'_>>, SplitError> {
        self.next_piece_onto(None)
    }

    /// Like [`RecordSplitter::next_piece`], but an element of a records array is found by
    /// reading it onto `tape` as a record of the lake's schema: one pass over its bytes finds
    /// both where it ends and where its fields are.
    pub(crate) fn next_piece_onto(
        &mut self,
        mut tape: Option<&mut Tape>,
    ) -> Result<Option<Piece<'_>>, SplitError> {
        loop {
            let Some(c) = self.peek()? else {
                return match self.state {
                    State::TopLevel | State::InArray { wrapped: false } => Ok(None),
                    _ => Err(self.structure("the file ends inside the Records array")),
                };
            };
            match self.state {
                State::TopLevel if c == b'[' => {
                    self.advance(1);
                    self.state = State::InArray { wrapped: false };
                }
                State::TopLevel => {
                    if c == b'{' && self.enter_wrapper()? {
                        self.state = State::InArray { wrapped: true };
                    } else {
                        return self.top_level_value();
                    }
                }
                State::InArray { wrapped } => match c {
                    b']' => {
                        self.advance(1);
                        self.state = if wrapped {
                            State::AfterWrappedArray
                        } else {
                            State::TopLevel
                        };
                    }
                    b',' => self.advance(1),
                    _ => return self.array_element(tape.take()),
                },
                State::AfterWrappedArray => match c {
                    b'}' => {
                        self.advance(1);
                        self.state = State::TopLevel;
                    }
                    b',' => {
                        // Keys after "Records" are not records: skip them with the wrapper's end.
                        self.advance(1);
                        self.skip_rest_of_wrapper()?;
                        self.state = State::TopLevel;
                    }
                    _ => return Err(self.structure("expected `}` after the Records array")),
                },
            }
        }
    }

    fn top_level_value(&mut self) -> Result<Option<Piece<'_>>, SplitError> {
        let (len, broken) = match self.scan_value()? {
            Scan::Complete(n) => (n, None),
            // Resume after the line break: the next line may be a good record.
            Scan::LineBreakInString(n) => (n + 1, Some("line break inside a string")),
            Scan::Eof => (
                self.end - self.start,
                Some("the file ends inside this record"),
            ),
        };
        let from = self.start;
        self.advance(len);
        let bytes = &self.buf[from..from + len];
        Ok(Some(match broken {
            None => Piece::Record {
                bytes,
                top_level: true,
                compact: !self.spaced,
                on_tape: false,
            },
            Some(reason) => Piece::Broken { bytes, reason },
        }))
    }

    fn array_element(&mut self, tape: Option<&mut Tape>) -> Result<Option<Piece<'_>>, SplitError> {
        if let Some(tape) = tape
            && self.buf[self.start] == b'{'
        {
            // A record that goes on past the bytes read so far (or is broken) is left to the
            // scan below, which reads on without starting over: retrying the tape after each
            // read would cost time quadratic in the record's size.
            if let Some((len, spaced)) = tape.read_prefix(&self.buf[self.start..self.end], RECORD) {
                let from = self.start;
                self.advance(len);
                return Ok(Some(Piece::Record {
                    bytes: &self.buf[from..from + len],
                    top_level: false,
                    compact: !spaced,
                    on_tape: true,
                }));
            }
        }
        match self.scan_value()? {
            Scan::Complete(len) => {
                let from = self.start;
                self.advance(len);
                Ok(Some(Piece::Record {
                    bytes: &self.buf[from..from + len],
                    top_level: false,
                    compact: !self.spaced,
                    on_tape: false,
                }))
            }
            Scan::LineBreakInString(n) => {
                self.advance(n);
                Err(self.structure("line break inside a string"))
            }
            Scan::Eof => {
                let n = self.end - self.start;
                self.advance(n);
                Err(self.structure("the file ends inside a record"))
            }
        }
    }

    fn skip_rest_of_wrapper(&mut self) -> Result<(), SplitError> {
        // Scan as if inside an object at depth 1: prepend nothing, count until the closing brace.
        let mut depth = 1u32;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            while self.start < self.end {
                let c = self.buf[self.start];
                self.advance(1);
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if c == b'\\' {
                        escaped = true;
                    } else if c == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match c {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
            if !self.fill()? {
                return Err(self.structure("the file ends inside the Records wrapper"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &[u8]) -> (Vec<String>, Option<String>) {
        let mut s = RecordSplitter::new(text);
        let mut out = Vec::new();
        loop {
            match s.next_piece() {
                Ok(Some(Piece::Record { bytes, .. })) => {
                    out.push(String::from_utf8_lossy(bytes).into_owned())
                }
                Ok(Some(Piece::Broken { bytes, reason })) => out.push(format!(
                    "BROKEN({reason}): {}",
                    String::from_utf8_lossy(bytes)
                )),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    /// A reader handing out a few bytes at a time, so records cross every read boundary.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Every piece as text with its flags, and the error that ended the stream.
    fn pieces(text: &[u8], tape: Option<&mut Tape>) -> (Vec<(String, bool, bool)>, Option<String>) {
        let mut s = RecordSplitter::new(Trickle(text));
        let mut tape = tape;
        let mut out = Vec::new();
        loop {
            match s.next_piece_onto(tape.as_deref_mut()) {
                Ok(Some(Piece::Record {
                    bytes,
                    compact,
                    on_tape,
                    ..
                })) => out.push((
                    String::from_utf8_lossy(bytes).into_owned(),
                    compact,
                    on_tape,
                )),
                Ok(Some(Piece::Broken { bytes, reason })) => out.push((
                    format!("{reason}: {}", String::from_utf8_lossy(bytes)),
                    false,
                    false,
                )),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    #[test]
    fn reading_records_onto_a_tape_splits_the_same() {
        let inputs: [&[u8]; 8] = [
            br#"{"Records":[{"eventTime":"2024-01-01T00:00:00Z","a":"}"},{"b":[1,{"c":2}]}]}"#,
            b"{\"Records\": [ { \"a\" : 1 } ,\n {\"b\":\"\\\"\"}, 7, {\"c\":tru} ] }",
            br#"[{"a":1},{"userIdentity":{"type":"Root","x":[{}]}},{"b":2}]"#,
            br#"{"Records":[{"a":1},{"b":"#,
            br#"{"Records":[{"a":"line
break"},{"b":2}]}"#,
            br#"{"Records":[{"a":1.5e3},{"b":-0}],"extra":{"x":[1]}}{"Records":[{"c":null}]}"#,
            b"{\"a\":1}\n{\"b\":2}",
            br#"{"Records":[{"a":"\u00e9\u12"},{"ok":true}]}"#,
        ];
        // Long enough that records cross many reads after the wrapper's look-ahead.
        let many = format!(
            "{{\"Records\":[{}]}}",
            (0..60)
                .map(|i| format!(
                    r#"{{"eventName":"E{i}","n":[{i},{{"x":"\\"}}], "s" :"{}"}}"#,
                    "y".repeat(i)
                ))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut tape = Tape::default();
        for input in inputs.into_iter().chain([many.as_bytes()]) {
            let (plain, plain_error) = pieces(input, None);
            let (taped, taped_error) = pieces(input, Some(&mut tape));
            let strip = |v: &[(String, bool, bool)]| {
                v.iter()
                    .map(|(t, c, _)| (t.clone(), *c))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                strip(&plain),
                strip(&taped),
                "{}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(plain_error, taped_error);
            assert!(plain.iter().all(|p| !p.2));
        }
        // Elements that are whole objects are read onto the tape; others are left to the decoder.
        let (taped, _) = pieces(inputs[1], Some(&mut tape));
        let on_tape: Vec<bool> = taped.iter().map(|p| p.2).collect();
        assert_eq!(on_tape, [true, true, false, false]);
        // Read in large chunks, as files are, nearly every record is read onto the tape.
        let mut s = RecordSplitter::new(many.as_bytes());
        let mut taped = 0;
        while let Some(piece) = s.next_piece_onto(Some(&mut tape)).unwrap() {
            taped += matches!(piece, Piece::Record { on_tape: true, .. }) as usize;
        }
        assert_eq!(taped, 60);
    }

    #[test]
    fn cloudtrail_wrapper() {
        let (r, e) = split(br#"{"Records":[{"a":"}"},{"b":[1,{"c":2}]}]}"#);
        assert_eq!(r, [r#"{"a":"}"}"#, r#"{"b":[1,{"c":2}]}"#]);
        assert_eq!(e, None);
    }

    #[test]
    fn wrapper_with_white_space_bom_and_extra_keys() {
        let text = b"\xEF\xBB\xBF { \"Records\" :\n [ {\"a\":1} ,\n {\"b\":\"\\\"\"} ], \"x\": {\"y\": [1]} }";
        let (r, e) = split(text);
        assert_eq!(r, [r#"{"a":1}"#, r#"{"b":"\""}"#]);
        assert_eq!(e, None);
    }

    #[test]
    fn concatenated_wrappers_and_empty_records() {
        let (r, e) = split(
            br#"{"Records":[{"a":1}]}{"Records":[]}
{"Records":[{"b":2}]}"#,
        );
        assert_eq!(r, [r#"{"a":1}"#, r#"{"b":2}"#]);
        assert_eq!(e, None);
    }

    #[test]
    fn json_lines_and_bare_array() {
        let (r, _) = split(b"{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}");
        assert_eq!(r.len(), 3);
        let (r, _) = split(b"[{\"a\":1},{\"b\":2}]");
        assert_eq!(r, [r#"{"a":1}"#, r#"{"b":2}"#]);
    }

    #[test]
    fn a_broken_line_costs_only_itself() {
        let (r, e) = split(b"{\"a\":1}\n{\"b\":\"oops\n{\"c\":3}\n");
        assert_eq!(e, None);
        assert_eq!(r[0], r#"{"a":1}"#);
        assert!(r[1].starts_with("BROKEN(line break inside a string)"));
        assert_eq!(r[2], r#"{"c":3}"#);
    }

    #[test]
    fn truncation_inside_wrapper_is_an_error_after_the_good_records() {
        let (r, e) = split(br#"{"Records":[{"a":1},{"b":"#);
        assert_eq!(r, [r#"{"a":1}"#]);
        assert!(e.unwrap().contains("ends inside a record"));
        let (r, e) = split(br#"{"Records":[{"a":1}"#);
        assert_eq!(r, [r#"{"a":1}"#]);
        assert!(e.unwrap().contains("Records array"));
    }

    #[test]
    fn scalars_are_handed_out_for_the_decoder_to_refuse() {
        let (r, e) = split(b"42\n\"x\"\nnull");
        assert_eq!(r, ["42", "\"x\"", "null"]);
        assert_eq!(e, None);
    }

    #[test]
    fn records_say_whether_they_hold_white_space_outside_strings() {
        let text =
            b"{\"Records\":[{\"a\":\"x y\"}, {\"a\": 1},{\"b\":[1,\n2]}]}\n{\"c\":\"\\\" \"}";
        let mut s = RecordSplitter::new(&text[..]);
        let mut compact = Vec::new();
        while let Some(piece) = s.next_piece().unwrap() {
            match piece {
                Piece::Record { compact: c, .. } => compact.push(c),
                Piece::Broken { reason, .. } => panic!("{reason}"),
            }
        }
        assert_eq!(compact, [true, false, false, true]);
    }

    #[test]
    fn records_larger_than_a_read_chunk() {
        let big = "x".repeat(READ_CHUNK * 3);
        let text = format!("{{\"Records\":[{{\"a\":\"{big}\"}},{{\"b\":1}}]}}");
        let (r, e) = split(text.as_bytes());
        assert_eq!(e, None);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), big.len() + 8);
    }

    #[test]
    fn escapes_across_chunk_boundaries() {
        // Put a backslash exactly at the end of the first read chunk.
        let pad = "y".repeat(READ_CHUNK - 14);
        let text = format!("{{\"Records\":[{{\"a\":\"{pad}\\\"\"}}]}}");
        let (r, e) = split(text.as_bytes());
        assert_eq!(e, None);
        assert_eq!(r.len(), 1);
    }
}
