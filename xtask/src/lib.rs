//! The xtask parts other crates call: the `explain` query and batch-line parsers, which the
//! fuzz targets (`fuzz/`) drive, and [`UsageError`] (exit status 2), which `explain` returns.
//! Everything else lives in the binary (`main.rs`).

pub mod explain;
pub mod explain_family;

/// A mistake in what the user asked for (a value clap cannot check): exit status 2.
#[derive(Debug)]
pub struct UsageError(String);

impl UsageError {
    /// An error with this message.
    pub fn error(msg: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(UsageError(msg.into()))
    }

    /// `e` (its whole chain, on one line) as a usage error.
    pub fn from_error(e: anyhow::Error) -> anyhow::Error {
        Self::error(format!("{e:#}"))
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
