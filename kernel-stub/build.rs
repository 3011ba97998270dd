//! Build script: picks the arch's linker script and forwards the user program's path.
//!
//! * `src/arch/<arch>/linker.ld`, when the arch has one, is passed with `-T` (the bare-metal
//!   targets have no default memory layout that matches QEMU's boot protocols).
//! * `KERNEL_STUB_USER_ELF` (set by `cargo xtask qemu`) names the user ELF the kernel embeds.
//!   Without it (a plain `cargo build` of the stub) an empty file is embedded, and the kernel
//!   reports that it has no user program and exits with the failure status.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("set by cargo");
    let script = manifest.join("src/arch").join(&arch).join("linker.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    if script.exists() {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    }

    println!("cargo:rerun-if-env-changed=KERNEL_STUB_USER_ELF");
    let user_elf = match std::env::var("KERNEL_STUB_USER_ELF") {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            PathBuf::from(path)
        }
        _ => {
            let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
            let empty = out.join("no-user-program.elf");
            std::fs::write(&empty, b"").expect("write placeholder user ELF");
            empty
        }
    };
    println!(
        "cargo:rustc-env=KERNEL_STUB_USER_ELF_PATH={}",
        user_elf.display()
    );
}
