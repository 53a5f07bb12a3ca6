//! Gzip decompression (also multi-member) through one inflater that a thread keeps for all
//! the files it reads.
//!
//! CloudTrail delivers thousands of small files: a fresh inflater for each one allocates and
//! zeroes its state and its 32 KiB window every time. [`Inflater`] is reset instead. The
//! inflater works in zlib's gzip mode, so it checks each member's header, CRC-32 and length
//! itself.

use std::io::{self, BufRead, Read};

use flate2::{Decompress, FlushDecompress, Status};

/// An inflater kept from one gzip stream to the next.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Self(Decompress::new_gzip(15))
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inflater")
    }
}

/// Where the stream is between reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside a member (or before the first one).
    InMember,
    /// A member ended: more input starts another, none ends the stream.
    AfterMember,
}

/// The decompressed text of a gzip stream whose members follow one another in `input`.
pub struct GzipReader<'a, R> {
    input: R,
    inflater: &'a mut Inflater,
    state: State,
}

impl<'a, R: BufRead> GzipReader<'a, R> {
    /// Reads the gzip stream in `input` through `inflater`, which is reset first.
    pub fn new(input: R, inflater: &'a mut Inflater) -> Self {
        inflater.0.reset(true);
        Self {
            input,
            inflater,
            state: State::InMember,
        }
    }
}

impl<R: BufRead> Read for GzipReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.input.fill_buf()?;
            if self.state == State::AfterMember {
                if input.is_empty() {
                    return Ok(0);
                }
                self.inflater.0.reset(true);
                self.state = State::InMember;
            }
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
            if status == Status::StreamEnd {
                self.state = State::AfterMember;
            } else if at_end && produced == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "gzip stream ends inside a member",
                ));
            }
            if produced > 0 {
                return Ok(produced);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
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
    fn a_cut_or_damaged_stream_is_an_error_and_the_inflater_recovers() {
        let mut inflater = Inflater::default();
        let whole = gzip(&b"some CloudTrail text ".repeat(500));
        for cut in [1, 10, whole.len() / 2, whole.len() - 4, whole.len() - 1] {
            let e = gunzip(&whole[..cut], &mut inflater).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let mut bad_crc = whole.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        let e = gunzip(&bad_crc, &mut inflater).unwrap_err();
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
