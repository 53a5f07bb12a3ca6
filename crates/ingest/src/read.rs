//! Opening an input file as the records of its JSON text: gzip (also multi-member) is
//! recognised by its magic bytes, not its name, so a mislabelled file still reads.
//!
//! A file of up to [`WHOLE_INPUT_MAX`] bytes (CloudTrail's are far smaller) is read whole and,
//! if gzip, inflated whole by [`WholeInflater`] straight into the splitter's buffer. A larger
//! file, or a gzip stream that does not inflate whole (it is broken, or its text is longer than
//! [`WHOLE_TEXT_MAX`]), is read as a stream: memory stays bounded, and a broken stream still
//! gives its records up to the break and an error that says where it broke.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::gunzip::{GzipReader, Inflater};
use crate::split::RecordSplitter;
use crate::whole_gunzip::WholeInflater;

const READ_BUFFER: usize = 64 << 10;

/// Files up to this size are read whole.
const WHOLE_INPUT_MAX: u64 = 8 << 20;

/// The longest text inflated whole; a gzip file with a longer one is streamed.
const WHOLE_TEXT_MAX: usize = 32 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Counts the bytes read from the file, for progress.
struct Counting<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An open input: the records of its text, and whether it was gzip.
pub struct Opened<'a> {
    /// The file's records. Hand its buffer back with [`Scratch::recycle`] when done.
    pub records: RecordSplitter<Box<dyn Read + 'a>>,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
}

/// What a thread keeps from one input file to the next, so that opening a file allocates
/// (and zeroes) neither buffers nor inflaters: CloudTrail's files are many and small.
#[derive(Debug, Default)]
pub struct Scratch {
    /// A whole file's bytes, or a streamed file's read buffer.
    input: Vec<u8>,
    /// The splitter's buffer: a whole file's text, or a window of a streamed one.
    text: Vec<u8>,
    inflater: Inflater,
    /// Made on first use; `None` until then (and if libdeflate could not allocate one).
    whole: Option<WholeInflater>,
}

impl Scratch {
    /// Takes back the buffer of a file's splitter ([`RecordSplitter::into_buffer`]) for the
    /// next file.
    pub fn recycle(&mut self, text: Vec<u8>) {
        self.text = text;
    }
}

/// Opens `path`, adding every byte read from disk to `bytes_read`.
pub fn open<'a>(
    path: &Path,
    bytes_read: &'a AtomicU64,
    scratch: &'a mut Scratch,
) -> io::Result<Opened<'a>> {
    let mut file = File::open(path)?;
    let metadata = file.metadata()?;
    let size = metadata.len();
    // A pipe or device has no size to go by: it is streamed.
    if size > WHOLE_INPUT_MAX || !metadata.is_file() {
        let counted = Counting {
            inner: file,
            counter: bytes_read,
        };
        return streamed(counted, scratch);
    }
    let Scratch {
        input,
        text,
        inflater,
        whole,
    } = scratch;
    input.clear();
    input.reserve(size as usize + 1);
    // Through `take`, not `File::read_to_end`, which would ask the file's size and position
    // again: two more system calls per file, 40,000 in a run of 20,000 files. The one byte
    // more tells a file that grew since its size was read, which is then read to its end.
    (&mut file).take(size + 1).read_to_end(input)?;
    if input.len() as u64 > size {
        file.read_to_end(input)?;
    }
    bytes_read.fetch_add(input.len() as u64, Ordering::Relaxed);
    Ok(held(io::Cursor::new(&input[..]), text, inflater, whole))
}

/// Opens an object already fetched into memory.
pub fn open_bytes<'a>(
    bytes: bytes::Bytes,
    bytes_read: &'a AtomicU64,
    scratch: &'a mut Scratch,
) -> io::Result<Opened<'a>> {
    bytes_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let Scratch {
        text,
        inflater,
        whole,
        ..
    } = scratch;
    Ok(held(io::Cursor::new(bytes), text, inflater, whole))
}

/// The records of a file held whole in `data`: its text goes straight into the splitter's
/// buffer when it can, else it is streamed from `data`.
fn held<'a, D: AsRef<[u8]> + 'a>(
    data: io::Cursor<D>,
    text: &mut Vec<u8>,
    inflater: &'a mut Inflater,
    whole: &mut Option<WholeInflater>,
) -> Opened<'a> {
    let bytes = data.get_ref().as_ref();
    let gzip = bytes.starts_with(&GZIP_MAGIC);
    let mut buffer = std::mem::take(text);
    let whole_text = if gzip {
        if whole.is_none() {
            *whole = WholeInflater::new();
        }
        whole
            .as_mut()
            .and_then(|w| w.inflate(bytes, &mut buffer, WHOLE_TEXT_MAX))
    } else {
        if buffer.len() < bytes.len() {
            buffer.resize(bytes.len(), 0);
        }
        buffer[..bytes.len()].copy_from_slice(bytes);
        Some(bytes.len())
    };
    let records: RecordSplitter<Box<dyn Read + 'a>> = match whole_text {
        Some(len) => RecordSplitter::holding(Box::new(io::empty()), buffer, len),
        None => RecordSplitter::with_buffer(Box::new(GzipReader::new(data, inflater)), buffer),
    };
    Opened { records, gzip }
}

/// The records of a file too large to hold whole, read as a stream.
fn streamed<'a, R: Read + 'a>(inner: R, scratch: &'a mut Scratch) -> io::Result<Opened<'a>> {
    let Scratch {
        input,
        text,
        inflater,
        ..
    } = scratch;
    if input.len() < READ_BUFFER {
        input.resize(READ_BUFFER, 0);
    }
    let mut buffered = Buffered {
        inner,
        buf: input,
        pos: 0,
        end: 0,
    };
    let gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
    let reader: Box<dyn Read> = if gzip {
        Box::new(GzipReader::new(buffered, inflater))
    } else {
        Box::new(buffered)
    };
    Ok(Opened {
        records: RecordSplitter::with_buffer(reader, std::mem::take(text)),
        gzip,
    })
}

/// A buffered reader over a buffer that outlives it.
struct Buffered<'a, R> {
    inner: R,
    buf: &'a mut [u8],
    /// Bytes `pos..end` of `buf` are read and not yet consumed.
    pos: usize,
    end: usize,
}

impl<R: Read> Read for Buffered<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() {
            return self.inner.read(out);
        }
        let n = self.fill_buf()?.read(out)?;
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Buffered<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.end = self.inner.read(self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

/// Says what an I/O error while reading an input means to its owner.
pub fn describe(error: &io::Error, gzip: bool) -> String {
    match (gzip, error.kind()) {
        (true, io::ErrorKind::UnexpectedEof) => "truncated gzip file".to_string(),
        (true, io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData) => {
            format!("corrupt gzip data ({error})")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gunzip::tests::gzip;
    use crate::split::{Piece, SplitError};

    /// The records of `opened` as text, and the error that ended them, if any.
    fn records(opened: Opened<'_>) -> (Vec<String>, Option<io::ErrorKind>) {
        let mut splitter = opened.records;
        let mut found = Vec::new();
        loop {
            match splitter.next_piece() {
                Ok(Some(Piece::Record { bytes, .. })) => {
                    found.push(String::from_utf8_lossy(bytes).into_owned());
                }
                Ok(Some(Piece::Broken { bytes, .. })) => {
                    found.push(format!("broken: {}", String::from_utf8_lossy(bytes)));
                }
                Ok(None) => return (found, None),
                Err(SplitError::Io(e)) => return (found, Some(e.kind())),
                Err(e) => return (found, Some(io::Error::other(e).kind())),
            }
        }
    }

    #[test]
    fn a_file_read_whole_gives_what_the_stream_gives() {
        let dir = tempfile::tempdir().unwrap();
        let counter = AtomicU64::new(0);
        let mut scratch = Scratch::default();
        let wrapper = |ids: std::ops::Range<u32>| {
            let records: Vec<String> = ids
                .map(|i| format!(r#"{{"eventID":"{i}","eventTime":"2024-01-01T00:00:00Z"}}"#))
                .collect();
            format!(r#"{{"Records":[{}]}}"#, records.join(","))
        };
        let mut two_members = gzip(wrapper(0..300).as_bytes());
        two_members.extend(gzip(wrapper(300..310).as_bytes()));
        let single = gzip(wrapper(0..2000).as_bytes());
        let cut = single[..single.len() * 2 / 3].to_vec();
        let mut bad_crc = single.clone();
        let n = bad_crc.len();
        bad_crc[n - 7] ^= 0x40;
        let plain = wrapper(0..5).into_bytes();
        for (name, bytes, records_expected, error) in [
            ("two-members.json.gz", two_members, Some(310), None),
            ("plain.json", plain, Some(5), None),
            ("cut.json.gz", cut, None, Some(io::ErrorKind::UnexpectedEof)),
            (
                "bad-crc.json.gz",
                bad_crc,
                Some(2000),
                Some(io::ErrorKind::InvalidData),
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let whole = records(open(&path, &counter, &mut scratch).unwrap());
            let file = File::open(&path).unwrap();
            let stream = records(streamed(file, &mut scratch).unwrap());
            assert_eq!(whole, stream, "{name}");
            let fetched = records(open_bytes(bytes.into(), &counter, &mut scratch).unwrap());
            assert_eq!(whole, fetched, "{name}");
            if let Some(n) = records_expected {
                assert_eq!(whole.0.len(), n, "{name}");
            } else {
                assert!(!whole.0.is_empty() && whole.0.len() < 2000, "{name}");
            }
            assert_eq!(whole.1, error, "{name}");
        }
    }
}
