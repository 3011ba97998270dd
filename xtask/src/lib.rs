//! The xtask parts other crates call: the `explain` query and batch-line parsers, which the
//! fuzz targets (`fuzz/`) drive. Everything else lives in the binary (`main.rs`).

pub mod explain;
pub mod explain_family;
