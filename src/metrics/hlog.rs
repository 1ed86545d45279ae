//! HdrHistogram interval-log files (`<suite>/<phase>.hlog`): one compressed histogram
//! per second, readable by HdrHistogram's own tools (HistogramLogProcessor, hdr-plot).
//! Lines are appended as the run goes, so a crash leaves every finished second on disk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use super::LatencyHistogram;

/// Values are stored in microseconds; the max column is written in milliseconds.
const MAX_VALUE_DIVISOR: f64 = 1000.0;

/// Why a histogram log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HlogError {
    /// Creating, writing or reading the file failed.
    #[error("histogram log {path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// hdrhistogram could not serialise an interval (`message` says why).
    #[error("cannot encode a histogram for {path}: {message}")]
    Encode {
        /// The log file.
        path: PathBuf,
        /// hdrhistogram's reason.
        message: String,
    },
    /// A line of the log is not a valid interval; `line` is 1-based.
    #[error("histogram log {path} is malformed at line {line}: {message}")]
    Malformed {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong with the line.
        message: String,
    },
}

/// Why one histogram could not be carried as text ([`encode_histogram`], [`decode_histogram`]).
#[derive(Debug, thiserror::Error)]
pub enum HistogramCodecError {
    /// hdrhistogram could not serialise the histogram (`0` is its reason).
    #[error("{0}")]
    Encode(String),
    /// The text is not base64.
    #[error("base64: {0}")]
    Base64(#[source] base64::DecodeError),
    /// The bytes are not a V2 (deflate) histogram (`0` is hdrhistogram's reason).
    #[error("histogram: {0}")]
    Decode(String),
}

/// Appends one interval histogram per call.
pub struct HlogWriter {
    path: PathBuf,
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    scratch: Vec<u8>,
    /// `Tag=worker-1,` before each interval of a tagged log (one generator of a distributed run).
    tag: Option<String>,
}

impl HlogWriter {
    /// Creates the file with the standard header. `start_unix_s` is the run's start
    /// (seconds since the epoch); interval timestamps are relative to it.
    pub fn create(path: &Path, start_unix_s: f64, comment: &str) -> Result<Self, HlogError> {
        let io = |source| HlogError::Io { path: path.to_path_buf(), source };
        let file = File::create(path).map_err(io)?;
        let mut out = BufWriter::new(file);
        let header = format!(
            "#{comment}\n#[Histogram log format version 1.3]\n#[StartTime: {start_unix_s:.3} (seconds since epoch)]\n#[BaseTime: {start_unix_s:.3} (seconds since epoch)]\n#[MaxValueDivisor: {MAX_VALUE_DIVISOR:.1}]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
        );
        out.write_all(header.as_bytes()).map_err(io)?;
        out.flush().map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            out,
            serializer: V2DeflateSerializer::new(),
            scratch: Vec::new(),
            tag: None,
        })
    }

    /// Every interval of this log carries `tag` (HdrHistogram's `Tag=` prefix).
    pub fn tagged(mut self, tag: &str) -> Self {
        self.tag = Some(tag.replace([',', ' ', '\n'], "_"));
        self
    }

    /// Appends one interval: `offset` from the log's base time, its `length`, and the histogram.
    pub fn append(
        &mut self,
        offset: Duration,
        length: Duration,
        h: &LatencyHistogram,
    ) -> Result<(), HlogError> {
        self.scratch.clear();
        self.serializer
            .serialize(h.inner(), &mut self.scratch)
            .map_err(|e| HlogError::Encode { path: self.path.clone(), message: format!("{e:?}") })?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.scratch);
        let max = if h.is_empty() { 0.0 } else { h.inner().max() as f64 / MAX_VALUE_DIVISOR };
        let tag = self.tag.as_ref().map(|t| format!("Tag={t},")).unwrap_or_default();
        let line =
            format!("{tag}{:.3},{:.3},{:.3},{}\n", offset.as_secs_f64(), length.as_secs_f64(), max, encoded);
        let io = |source| HlogError::Io { path: self.path.clone(), source };
        self.out.write_all(line.as_bytes()).map_err(io)?;
        self.out.flush().map_err(io)
    }
}

/// A histogram as one base64 string of its V2-deflate encoding (an `.hlog` line's last column),
/// for carrying interval histograms between processes.
pub fn encode_histogram(h: &LatencyHistogram) -> Result<String, HistogramCodecError> {
    let mut raw = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h.inner(), &mut raw)
        .map_err(|e| HistogramCodecError::Encode(format!("{e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&raw))
}

/// The inverse of [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<LatencyHistogram, HistogramCodecError> {
    let raw = base64::engine::general_purpose::STANDARD.decode(text).map_err(HistogramCodecError::Base64)?;
    let h: hdrhistogram::Histogram<u64> = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(raw))
        .map_err(|e| HistogramCodecError::Decode(format!("{e:?}")))?;
    Ok(LatencyHistogram::from_inner(h))
}

/// One interval read back from a log.
#[derive(Clone, Debug)]
pub struct HlogInterval {
    /// Seconds from the log's base time.
    pub offset_s: f64,
    /// The interval's length in seconds (1 for this tool's logs).
    pub length_s: f64,
    /// The latencies recorded in the interval (µs resolution).
    pub histogram: LatencyHistogram,
}

/// Reads every interval of a log written by [`HlogWriter`] (or by HdrHistogram's tools).
pub fn read_hlog(path: &Path) -> Result<Vec<HlogInterval>, HlogError> {
    let mut out = Vec::new();
    visit_hlog(path, |interval| out.push(interval))?;
    Ok(out)
}

/// Hands each interval of a log to `visit` as it is decoded, so a caller that keeps less
/// than the whole histogram (a long phase holds one ~120 KiB histogram per second) never
/// holds them all at once.
pub fn visit_hlog(path: &Path, mut visit: impl FnMut(HlogInterval)) -> Result<(), HlogError> {
    // Capped and regular-file only: a summary may point anywhere (fsio::resolve_in_run
    // checks where; this checks what).
    let bytes = crate::fsio::read_capped(path, crate::fsio::HLOG_CAP, "the hlog")
        .map_err(|e| HlogError::Io { path: path.to_path_buf(), source: e.into_io() })?;
    let mut deserializer = Deserializer::new();
    for (index, entry) in IntervalLogIterator::new(&bytes).enumerate() {
        let malformed =
            |message: String| HlogError::Malformed { path: path.to_path_buf(), line: index + 1, message };
        match entry.map_err(|e| malformed(format!("{e:?}")))? {
            LogEntry::Interval(ih) => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(ih.encoded_histogram())
                    .map_err(|e| malformed(format!("base64: {e}")))?;
                let h: hdrhistogram::Histogram<u64> = deserializer
                    .deserialize(&mut std::io::Cursor::new(raw))
                    .map_err(|e| malformed(format!("histogram: {e:?}")))?;
                visit(HlogInterval {
                    offset_s: ih.start_timestamp().as_secs_f64(),
                    length_s: ih.duration().as_secs_f64(),
                    histogram: LatencyHistogram::from_inner(h),
                });
            }
            LogEntry::StartTime(_) | LogEntry::BaseTime(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_intervals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.hlog");
        let mut w = HlogWriter::create(&path, 1_700_000_000.0, "test").unwrap();
        let mut h = LatencyHistogram::new();
        for us in [1_000, 2_000, 50_000] {
            h.record_us(us);
        }
        w.append(Duration::ZERO, Duration::from_secs(1), &h).unwrap();
        w.append(Duration::from_secs(1), Duration::from_secs(1), &LatencyHistogram::new()).unwrap();
        drop(w);
        let back = read_hlog(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].histogram.count(), 3);
        assert!((back[0].histogram.max_ms() - 50.0).abs() < 0.1);
        assert!((back[1].offset_s - 1.0).abs() < 1e-6);
        assert_eq!(back[1].histogram.count(), 0);
    }

    #[test]
    fn tagged_lines_and_encoded_histograms_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.hlog");
        let mut h = LatencyHistogram::new();
        h.record_us(1_234);
        h.record_us(98_765);
        let mut w = HlogWriter::create(&path, 1_700_000_000.0, "test").unwrap().tagged("worker-2");
        w.append(Duration::ZERO, Duration::from_secs(1), &h).unwrap();
        drop(w);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().any(|l| l.starts_with("Tag=worker-2,0.000,1.000,")), "{text}");
        let back = read_hlog(&path).unwrap();
        assert_eq!(back[0].histogram.count(), 2);
        let again = decode_histogram(&encode_histogram(&h).unwrap()).unwrap();
        assert_eq!(again.count(), 2);
        assert_eq!(again.quantile_ms(1.0), h.quantile_ms(1.0));
        assert!(decode_histogram("not base64!").is_err());
    }
}
