//! Gzip decompression (also multi-member) through one inflater that a thread keeps for all
//! the files it reads.
//!
//! CloudTrail delivers thousands of small files: a fresh inflater for each one allocates and
//! zeroes its state every time, which costs as much as inflating a small file. Only a raw
//! deflate inflater can be reset in place, so the gzip framing around each member's deflate
//! data is read here ([`MemberHeader`], [`Trailer`]), and each member's CRC-32 and length are
//! checked here too.

use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// An inflater kept from one gzip stream to the next.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        // Raw deflate with the default window: the one kind that `reset` keeps in place.
        Self(Decompress::new(false))
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inflater")
    }
}

fn corrupt(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "gzip stream ends inside a member",
    )
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED_FLAGS: u8 = 0xe0;

/// What is left to read of a member's header (RFC 1952, 2.3.1), fed a byte at a time so that
/// a header split across reads needs no buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberHeader {
    /// The fixed ten bytes: how many were read, and the flags once seen.
    Fixed {
        read: u8,
        flags: u8,
    },
    /// The two bytes of the extra field's length.
    ExtraLength {
        read: u8,
        length: u16,
        flags: u8,
    },
    /// The extra field's bytes still to skip.
    Extra {
        left: u16,
        flags: u8,
    },
    /// A zero-terminated file name.
    Name {
        flags: u8,
    },
    /// A zero-terminated comment.
    Comment {
        flags: u8,
    },
    /// The header's CRC-16 bytes still to skip.
    HeaderCrc {
        left: u8,
    },
    Done,
}

impl MemberHeader {
    const START: Self = MemberHeader::Fixed { read: 0, flags: 0 };

    /// Takes the header bytes at the start of `input`; returns how many it took.
    fn feed(&mut self, input: &[u8]) -> io::Result<usize> {
        let mut used = 0;
        while *self != MemberHeader::Done {
            let Some(&b) = input.get(used) else { break };
            used += 1;
            *self = self.next(b)?;
        }
        Ok(used)
    }

    fn next(self, b: u8) -> io::Result<Self> {
        use MemberHeader::*;
        Ok(match self {
            Fixed { read, flags } => {
                let flags = match read {
                    0 if b != 0x1f => return Err(corrupt("not a gzip member")),
                    1 if b != 0x8b => return Err(corrupt("not a gzip member")),
                    2 if b != 8 => return Err(corrupt("unknown gzip compression method")),
                    3 if b & RESERVED_FLAGS != 0 => return Err(corrupt("reserved gzip flags set")),
                    3 => b,
                    _ => flags,
                };
                if read < 9 {
                    Fixed {
                        read: read + 1,
                        flags,
                    }
                } else {
                    Self::after_fixed(flags)
                }
            }
            ExtraLength { read: 0, flags, .. } => ExtraLength {
                read: 1,
                length: u16::from(b),
                flags,
            },
            ExtraLength { length, flags, .. } => {
                let left = length | (u16::from(b) << 8);
                if left == 0 {
                    Self::after_extra(flags)
                } else {
                    Extra { left, flags }
                }
            }
            Extra { left: 1, flags } => Self::after_extra(flags),
            Extra { left, flags } => Extra {
                left: left - 1,
                flags,
            },
            Name { flags } if b == 0 => Self::after_name(flags),
            Comment { flags } if b == 0 => Self::after_comment(flags),
            Name { .. } | Comment { .. } => self,
            HeaderCrc { left: 1 } => Done,
            HeaderCrc { left } => HeaderCrc { left: left - 1 },
            Done => Done,
        })
    }

    fn after_fixed(flags: u8) -> Self {
        if flags & FEXTRA != 0 {
            MemberHeader::ExtraLength {
                read: 0,
                length: 0,
                flags,
            }
        } else {
            Self::after_extra(flags)
        }
    }

    fn after_extra(flags: u8) -> Self {
        if flags & FNAME != 0 {
            MemberHeader::Name { flags }
        } else {
            Self::after_name(flags)
        }
    }

    fn after_name(flags: u8) -> Self {
        if flags & FCOMMENT != 0 {
            MemberHeader::Comment { flags }
        } else {
            Self::after_comment(flags)
        }
    }

    fn after_comment(flags: u8) -> Self {
        if flags & FHCRC != 0 {
            MemberHeader::HeaderCrc { left: 2 }
        } else {
            MemberHeader::Done
        }
    }
}

/// A member's trailer: the CRC-32 and length (mod 2³²) of its text, both little-endian.
#[derive(Debug, Default)]
struct Trailer {
    bytes: [u8; 8],
    read: usize,
}

impl Trailer {
    /// Takes trailer bytes from the start of `input`; returns how many it took.
    fn feed(&mut self, input: &[u8]) -> usize {
        let n = (8 - self.read).min(input.len());
        self.bytes[self.read..self.read + n].copy_from_slice(&input[..n]);
        self.read += n;
        n
    }

    fn is_complete(&self) -> bool {
        self.read == 8
    }

    /// Whether the member's text matches the trailer.
    fn check(&self, crc: &Crc) -> io::Result<()> {
        let word = |i: usize| u32::from_le_bytes(self.bytes[i..i + 4].try_into().expect("4 bytes"));
        if word(0) != crc.sum() {
            return Err(corrupt("gzip CRC-32 does not match the data"));
        }
        if word(4) != crc.amount() {
            return Err(corrupt("gzip length does not match the data"));
        }
        Ok(())
    }
}

/// Where the stream is between reads.
#[derive(Debug)]
enum State {
    Header(MemberHeader),
    Deflate,
    Trailer(Trailer),
    /// A member ended: more input starts another, none ends the stream.
    AfterMember,
}

/// The decompressed text of a gzip stream whose members follow one another in `input`.
pub struct GzipReader<'a, R> {
    input: R,
    inflater: &'a mut Inflater,
    crc: Crc,
    state: State,
}

impl<'a, R: BufRead> GzipReader<'a, R> {
    /// Reads the gzip stream in `input` through `inflater`, which is reset first.
    pub fn new(input: R, inflater: &'a mut Inflater) -> Self {
        inflater.0.reset(false);
        Self {
            input,
            inflater,
            crc: Crc::new(),
            state: State::Header(MemberHeader::START),
        }
    }

    /// Inflates what `input` holds into `out`; returns the bytes written.
    fn inflate(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let input = self.input.fill_buf()?;
        let at_end = input.is_empty();
        let (in_before, out_before) = (self.inflater.0.total_in(), self.inflater.0.total_out());
        let status = self
            .inflater
            .0
            .decompress(input, out, FlushDecompress::None)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let consumed = (self.inflater.0.total_in() - in_before) as usize;
        let produced = (self.inflater.0.total_out() - out_before) as usize;
        self.input.consume(consumed);
        self.crc.update(&out[..produced]);
        if status == Status::StreamEnd {
            self.state = State::Trailer(Trailer::default());
        } else if at_end && produced == 0 {
            return Err(cut_short());
        }
        Ok(produced)
    }
}

impl<R: BufRead> Read for GzipReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.state {
                State::Deflate => {
                    let produced = self.inflate(out)?;
                    if produced > 0 {
                        return Ok(produced);
                    }
                }
                State::Header(header) => {
                    let input = self.input.fill_buf()?;
                    if input.is_empty() {
                        return Err(cut_short());
                    }
                    let used = header.feed(input)?;
                    let done = *header == MemberHeader::Done;
                    self.input.consume(used);
                    if done {
                        self.state = State::Deflate;
                    }
                }
                State::Trailer(trailer) => {
                    let input = self.input.fill_buf()?;
                    if input.is_empty() {
                        return Err(cut_short());
                    }
                    let used = trailer.feed(input);
                    self.input.consume(used);
                    if trailer.is_complete() {
                        trailer.check(&self.crc)?;
                        self.state = State::AfterMember;
                    }
                }
                State::AfterMember => {
                    if self.input.fill_buf()?.is_empty() {
                        return Ok(0);
                    }
                    self.inflater.0.reset(false);
                    self.crc.reset();
                    self.state = State::Header(MemberHeader::START);
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::Compression;
    use std::io::Write;

    /// `text` as one gzip member: shared by the tests of every module that reads gzip.
    pub(crate) fn gzip(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(bytes: &[u8], inflater: &mut Inflater) -> io::Result<Vec<u8>> {
        // A small buffer, so members and trailers are split across reads.
        let input = io::BufReader::with_capacity(7, bytes);
        let mut out = Vec::new();
        GzipReader::new(input, inflater).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn one_inflater_reads_many_streams_and_members() {
        let mut inflater = Inflater::default();
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for text in [&b"{\"Records\":[]}"[..], &big, b""] {
            assert_eq!(gunzip(&gzip(text), &mut inflater).unwrap(), text);
        }
        let mut two = gzip(b"first,");
        two.extend(gzip(b"second"));
        assert_eq!(gunzip(&two, &mut inflater).unwrap(), b"first,second");
    }

    #[test]
    fn optional_header_fields_are_skipped_even_when_split_across_reads() {
        let mut inflater = Inflater::default();
        let text = b"{\"Records\":[]}".repeat(50);
        let mut e = flate2::GzBuilder::new()
            .filename("file.json")
            .comment("a comment")
            .extra(vec![7; 300])
            .write(Vec::new(), Compression::default());
        e.write_all(&text).unwrap();
        let named = e.finish().unwrap();
        assert_eq!(gunzip(&named, &mut inflater).unwrap(), text);
        // A header CRC: two more bytes after the fixed header.
        let mut plain = gzip(&text);
        plain[3] |= FHCRC;
        plain.splice(10..10, [0xab, 0xcd]);
        let mut both = named.clone();
        both.extend(&plain);
        let mut twice = text.clone();
        twice.extend(&text);
        assert_eq!(gunzip(&both, &mut inflater).unwrap(), twice);
        // Damage anywhere in the header is an error, never a panic.
        for i in 0..named.len().min(400) {
            let mut bad = named.clone();
            bad[i] ^= 0x55;
            let _ = gunzip(&bad, &mut inflater);
        }
        let mut reserved = gzip(&text);
        reserved[3] |= 0x20;
        let e = gunzip(&reserved, &mut inflater).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let mut method = gzip(&text);
        method[2] = 7;
        let e = gunzip(&method, &mut inflater).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_cut_or_damaged_stream_is_an_error_and_the_inflater_recovers() {
        let mut inflater = Inflater::default();
        let whole = gzip(&b"some CloudTrail text ".repeat(500));
        for cut in (1..12).chain([whole.len() / 2, whole.len() - 8, whole.len() - 4]) {
            let e = gunzip(&whole[..cut], &mut inflater).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let mut bad_crc = whole.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        let e = gunzip(&bad_crc, &mut inflater).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let mut bad_length = whole.clone();
        bad_length[n - 1] ^= 0x01;
        let e = gunzip(&bad_length, &mut inflater).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let mut trailing = whole.clone();
        trailing.extend(b"not gzip");
        let e = gunzip(&trailing, &mut inflater).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            gunzip(&whole, &mut inflater).unwrap(),
            b"some CloudTrail text ".repeat(500)
        );
    }
}
