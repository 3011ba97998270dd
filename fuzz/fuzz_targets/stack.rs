//! libFuzzer target `stack`: see `check/src/lib.rs` (`stack`) for the input and invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = clone_core_fuzz_check::stack(data) {
        panic!("{violation}");
    }
});
