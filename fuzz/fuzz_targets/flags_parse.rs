//! libFuzzer target `flags_parse`: see `check/src/lib.rs` (`flags_parse`) for the input and invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = clone_core_fuzz_check::flags_parse(data) {
        panic!("{violation}");
    }
});
