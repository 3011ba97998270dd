//! Build script: picks the arch's linker script and forwards the user program's path.
//!
//! * `src/arch/<arch>/linker.ld`, when the arch has one, is passed with `-T` (the bare-metal
//!   targets have no default memory layout that matches QEMU's boot protocols).
//! * `KERNEL_STUB_USER_ELF` (set by `cargo xtask qemu`) names the user ELF the kernel embeds
//!   (the conformance program). Without it (a plain `cargo build` of the stub) an empty file is
//!   embedded, and the kernel reports that it has no user program and exits with the failure
//!   status. `KERNEL_STUB_HOSTILE_ELF`, optional, names a second program run after the first
//!   (the stub-only hostile-input cases in `kernel-stub/hostile/`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("set by cargo");
    let script = manifest.join("src/arch").join(&arch).join("linker.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if script.exists() {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    }

    forward("KERNEL_STUB_USER_ELF");
    forward("KERNEL_STUB_HOSTILE_ELF");
}

/// Forwards the path in env var `var` as `<var>_PATH` for `include_bytes!`, or an empty
/// placeholder file when the variable is unset.
fn forward(var: &str) {
    println!("cargo:rerun-if-env-changed={var}");
    let path = match std::env::var(var) {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            PathBuf::from(path)
        }
        _ => {
            let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
            let empty = out.join(format!("{var}.empty"));
            std::fs::write(&empty, b"").expect("write placeholder ELF");
            empty
        }
    };
    println!("cargo:rustc-env={var}_PATH={}", path.display());
}
