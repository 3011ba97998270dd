//! libFuzzer target `syscall_codec`: see `check/src/lib.rs` (`syscall_codec`) for the input and invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = clone_core_fuzz_check::syscall_codec(data) {
        panic!("{violation}");
    }
});
