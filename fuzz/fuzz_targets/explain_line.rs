//! libFuzzer target `explain_line`: see `check/src/lib.rs` (`explain_line`) for the input and invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = clone_core_fuzz_check::explain_line(data) {
        panic!("{violation}");
    }
});
