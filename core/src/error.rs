//! The one error type of promlite. Each variant maps to exactly one Prometheus
//! `errorType`, so the HTTP server, the C ABI and the bindings map errors by kind.

use std::fmt;
use std::ops::Range;

/// Result with promlite's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The Prometheus API error classes (the `errorType` field of an error response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request or query is malformed (`bad_data`, HTTP 400).
    BadData,
    /// The query failed while running (`execution`, HTTP 422).
    Execution,
    /// The query ran longer than allowed (`timeout`, HTTP 503).
    Timeout,
    /// The query was cancelled by its caller (`canceled`, HTTP 503).
    Canceled,
    /// Storage or another internal failure (`internal`, HTTP 500).
    Internal,
}

impl ErrorKind {
    /// The Prometheus `errorType` string for this kind.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A query that failed to parse or type-check: the query text, the byte range
/// the problem is at, and a message. Renders as `line:col: parse error: msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The query that was parsed.
    pub query: String,
    /// Byte range within `query` the error refers to.
    pub span: Range<usize>,
    /// What went wrong, in words a Prometheus user recognises.
    pub message: String,
}

impl ParseError {
    /// Creates a parse error at `span` of `query`.
    pub fn new(query: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        ParseError { query: query.to_string(), span, message: message.into() }
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        let start = self.span.start.min(self.query.len());
        let before = &self.query[..floor_char_boundary(&self.query, start)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        write!(f, "{line}:{col}: parse error: {}", self.message)
    }
}

/// Every error promlite returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query failed to parse or type-check.
    #[error("{0}")]
    Parse(ParseError),
    /// An argument or input (label set, exposition text, parameter) is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// A query failed during evaluation (e.g. many-to-many matching).
    #[error("{0}")]
    Execution(String),
    /// A query would load more samples than the configured maximum.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// A query ran longer than its timeout.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// A query was cancelled through its cancellation hook.
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// The file exists but is not a promlite database; it was not modified.
    #[error("file is not a promlite database: {0}")]
    NotADatabase(String),
    /// The database was written by a newer (or unknown) format version.
    #[error("unsupported promlite format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version recorded in the file.
        found: i64,
        /// Version this build reads and writes.
        supported: i64,
    },
    /// The database has been closed.
    #[error("database is closed")]
    Closed,
    /// SQLite reported an error.
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file system error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Stored data failed to decode (corruption).
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl Error {
    /// The Prometheus error class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse(_) | Error::InvalidInput(_) => ErrorKind::BadData,
            Error::Execution(_) | Error::TooManySamples(_) => ErrorKind::Execution,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Canceled(_) => ErrorKind::Canceled,
            Error::NotADatabase(_)
            | Error::UnsupportedVersion { .. }
            | Error::Closed
            | Error::Sqlite(_)
            | Error::Io(_)
            | Error::Corrupt(_) => ErrorKind::Internal,
        }
    }

    /// Shorthand for an [`Error::InvalidInput`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    /// Shorthand for an [`Error::Execution`].
    pub fn execution(msg: impl Into<String>) -> Self {
        Error::Execution(msg.into())
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_renders_line_and_column() {
        let e = ParseError::new("sum(\n  rate(x[5m]) +)", 20..21, "unexpected \")\"");
        assert_eq!(e.to_string(), "2:16: parse error: unexpected \")\"");
        assert_eq!(Error::from(e).kind().error_type(), "bad_data");
    }
}
