//! Getting the file's bytes as UTF-8: encoding sniffing, the streaming GBK decoder, and one
//! record's cells as text (`Rec`).

use super::running::RowIssue;
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::Path;

/// Bytes read up front to decide whether the file is UTF-8.
const SNIFF_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Decoding

/// Turns GBK bytes into UTF-8 as they stream by. Undecodable bytes become U+FFFD, which the
/// row check then reports per cell.
struct DecodeReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    done: bool,
}

impl<R: Read> DecodeReader<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        DecodeReader {
            inner,
            // A BOM, if any, wins over the mapping: it cannot be wrong.
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 32 * 1024],
            in_pos: 0,
            in_len: 0,
            out: vec![0; 64 * 1024],
            out_pos: 0,
            out_len: 0,
            eof: false,
            done: false,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.in_len = self.inner.read(&mut self.input)?;
                self.in_pos = 0;
                self.eof = self.in_len == 0;
            }
            let (res, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_pos..self.in_len],
                &mut self.out,
                self.eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if self.eof && res == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

/// Opens the file as a UTF-8 byte stream, choosing or checking the encoding on its first bytes.
/// Returns the stream, the encoding used and a note when the choice deserves one.
pub(super) fn open_decoded(
    path: &Path,
    declared: &str,
) -> Result<(Box<dyn Read>, String, Option<String>)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)
        .with_context(|| format!("reading {}", path.display()))?;
    // An error with no `error_len` is a character cut by the sample's end, not a bad byte.
    let utf8_error = match std::str::from_utf8(&sample) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() => None,
        Err(e) => Some(e.valid_up_to()),
    };
    let stream = std::io::Cursor::new(sample).chain(file);
    let gbk = |s| -> Box<dyn Read> { Box::new(DecodeReader::new(s, encoding_rs::GBK)) };
    match (declared, utf8_error) {
        ("utf-8", Some(at)) => bail!(
            "{} is not valid UTF-8 (first bad byte at offset {at}); exports from Chinese \
             government platforms are often GBK: set encoding = \"gbk\" (or \"auto\") in the mapping",
            path.display()
        ),
        ("utf-8", None) => Ok((Box::new(stream), "utf-8".into(), None)),
        ("gbk", _) => Ok((gbk(stream), "gbk".into(), None)),
        (_, Some(at)) => Ok((
            gbk(stream),
            "gbk".into(),
            Some(format!(
                "not valid UTF-8 (offset {at}); decoded as GBK (auto-detected)"
            )),
        )),
        (_, None) => Ok((
            Box::new(stream),
            "utf-8".into(),
            Some("valid UTF-8 (auto-detected)".to_string()),
        )),
    }
}

/// One record's cells as text, with the header for messages.
pub(super) struct Rec<'a> {
    pub(super) cells: Vec<&'a str>,
    pub(super) header: &'a [String],
    pub(super) row: u64,
    pub(super) line: u64,
}

impl Rec<'_> {
    /// The trimmed cell; empty is `None`.
    pub(super) fn get(&self, i: Option<usize>) -> Option<&str> {
        i.and_then(|i| self.cells.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
    pub(super) fn issue(
        &self,
        col: Option<usize>,
        reason: &str,
        message: impl Into<String>,
    ) -> RowIssue {
        let value: String = col
            .and_then(|i| self.cells.get(i))
            .map(|v| v.chars().take(120).collect())
            .unwrap_or_default();
        RowIssue {
            row: self.row,
            line: self.line,
            column: col.and_then(|i| self.header.get(i)).cloned(),
            value,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
}
