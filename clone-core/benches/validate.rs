//! Criterion benchmarks for the validator (placeholder until the real benches land).
#![allow(missing_docs)]
fn main() {}
