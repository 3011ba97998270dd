//! libFuzzer target `validate_clone`: see `check/src/lib.rs` (`validate_clone`) for the input and invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = clone_core_fuzz_check::validate_clone(data) {
        panic!("{violation}");
    }
});
