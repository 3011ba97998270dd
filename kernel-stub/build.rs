//! Build script: picks the arch's linker script and forwards the user program's path.
//!
//! * `src/arch/<arch>/linker.ld`, when the arch has one, is passed with `-T` (the bare-metal
//!   targets have no default memory layout that matches QEMU's boot protocols).
//! * `KERNEL_STUB_USER_ELF` (set by `cargo xtask qemu`) names the user ELF the kernel embeds
//!   (the conformance program). Without it (a plain `cargo build` of the stub) an empty file is
//!   embedded, and the kernel reports that it has no user program and exits with the failure
//!   status. `KERNEL_STUB_HOSTILE_ELF`, optional, names a second program run after the first
//!   (the stub-only hostile-input cases in `kernel-stub/hostile/`). Each is embedded cut to
//!   what the loader reads (no section headers or debug information).
//! * `KERNEL_STUB_PROGRAMS` (set by `cargo xtask programs`): `name=path,...`, the suite
//!   programs of `kernel-stub/programs/`, run one after another with `argv = { "/bin/<name>" }`,
//!   the whole list `KERNEL_STUB_PROGRAM_ROUNDS` times (default 1).
//! * `syscall_names.rs`: syscall names for the kernel's "not implemented" log, from the build
//!   machine's kernel headers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    programs();
    syscall_names(&arch);
}

fn out_dir() -> PathBuf {
    PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"))
}

/// Forwards the path in env var `var` as `<var>_PATH` for `include_bytes!`: a copy of the ELF
/// cut to what the loader reads ([`loadable`]), or an empty placeholder file when the
/// variable is unset.
fn forward(var: &str) {
    println!("cargo:rerun-if-env-changed={var}");
    let path = match std::env::var(var) {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            let copy = out_dir().join(format!("{var}.elf"));
            write_loadable(Path::new(&path), &copy);
            copy
        }
        _ => {
            let empty = out_dir().join(format!("{var}.empty"));
            std::fs::write(&empty, b"").expect("write placeholder ELF");
            empty
        }
    };
    println!("cargo:rustc-env={var}_PATH={}", path.display());
}

/// Writes to `to` the bytes of the ELF at `from` that a loader reads: the header, the program
/// headers and every `PT_LOAD` segment's file bytes, without the section headers (debug
/// information stays out of the kernel image, which must end below the user region). A file
/// that is not a little-endian ELF64 is copied as it is.
fn write_loadable(from: &Path, to: &Path) {
    let data = std::fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    let out = loadable(&data).unwrap_or(data);
    std::fs::write(to, out).unwrap_or_else(|e| panic!("writing {}: {e}", to.display()));
}

fn loadable(data: &[u8]) -> Option<Vec<u8>> {
    if data.get(0..6)? != [0x7f, b'E', b'L', b'F', 2, 1] {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(32)?).ok()?;
    let phentsize = usize::from(u16_at(54)?);
    let phnum = usize::from(u16_at(56)?);
    let mut keep = phoff.checked_add(phentsize.checked_mul(phnum)?)?.max(64);
    for k in 0..phnum {
        let ph = phoff + k * phentsize;
        if u32_at(ph)? == 1 {
            let end = u64_at(ph + 8)?.checked_add(u64_at(ph + 32)?)?;
            keep = keep.max(usize::try_from(end).ok()?);
        }
    }
    let mut out = data.get(..keep)?.to_vec();
    // e_shoff, e_shnum, e_shstrndx: no section headers.
    out[40..48].fill(0);
    out[60..64].fill(0);
    Some(out)
}

/// `KERNEL_STUB_PROGRAMS` (`name=path,name=path`, set by `cargo xtask programs`): the suite
/// programs, embedded as `crate::programs::PROGRAMS` and runnable as `/bin/<name>`.
///
/// On x86_64 each file goes in section `.programs`, which `linker.ld` loads at 4 MiB physical
/// and links at the kernel's 1 GiB alias of physical memory, so the programs do not count
/// against the 4 MiB the kernel image must fit in.
fn programs() {
    println!("cargo:rerun-if-env-changed=KERNEL_STUB_PROGRAMS");
    let list = std::env::var("KERNEL_STUB_PROGRAMS").unwrap_or_default();
    let x86 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64");
    let mut statics = String::new();
    let mut code = String::from("pub static PROGRAMS: &[(&str, &[u8])] = &[\n");
    for (k, entry) in list.split(',').filter(|e| !e.is_empty()).enumerate() {
        let (name, path) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("KERNEL_STUB_PROGRAMS entry `{entry}` is not name=path"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "program name `{name}`"
        );
        println!("cargo:rerun-if-changed={path}");
        let copy = out_dir().join(format!("program-{name}.elf"));
        write_loadable(Path::new(path), &copy);
        let len = std::fs::metadata(&copy)
            .expect("the copy just written")
            .len();
        if x86 {
            statics.push_str("#[unsafe(link_section = \".programs\")]\n");
        }
        writeln!(
            statics,
            "static PROGRAM_{k}: [u8; {len}] = *include_bytes!({:?});",
            copy.display().to_string()
        )
        .expect("write to a String");
        writeln!(code, "    ({name:?}, &PROGRAM_{k}),").expect("write to a String");
    }
    code.push_str("];\n");
    println!("cargo:rerun-if-env-changed=KERNEL_STUB_PROGRAM_ROUNDS");
    let rounds: usize = std::env::var("KERNEL_STUB_PROGRAM_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    writeln!(
        code,
        "/// How many times the suite runs in one boot.\npub const ROUNDS: usize = {rounds};"
    )
    .expect("write to a String");
    std::fs::write(out_dir().join("programs.rs"), statics + &code).expect("write programs.rs");
}

/// `syscall_names.rs`: `NAMES`, (number, name) for every syscall of the target arch, read
/// from the build machine's kernel headers (x86_64's `asm/unistd_64.h`, the generic
/// `asm-generic/unistd.h` of aarch64 and riscv64). Empty when they are not installed: the
/// kernel then logs numbers only.
fn syscall_names(arch: &str) {
    let headers: &[&str] = if arch == "x86_64" {
        &[
            "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
            "/usr/include/asm/unistd_64.h",
        ]
    } else {
        &["/usr/include/asm-generic/unistd.h"]
    };
    let mut names = std::collections::BTreeMap::new();
    if let Some(text) = headers.iter().find_map(|h| {
        println!("cargo:rerun-if-changed={h}");
        std::fs::read_to_string(h).ok()
    }) {
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("#define") {
                continue;
            }
            let (Some(name), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            let name = name
                .strip_prefix("__NR3264_")
                .or_else(|| name.strip_prefix("__NR_"));
            if let (Some(name), Ok(nr)) = (name, value.parse::<u64>()) {
                names.entry(nr).or_insert_with(|| name.to_string());
            }
        }
    }
    let mut code = String::from("pub static NAMES: &[(u64, &str)] = &[\n");
    for (nr, name) in names {
        writeln!(code, "    ({nr}, {name:?}),").expect("write to a String");
    }
    code.push_str("];\n");
    std::fs::write(out_dir().join("syscall_names.rs"), code).expect("write syscall_names.rs");
}
