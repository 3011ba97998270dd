//! Cross-checks clone-core's per-arch tables against linux-raw-sys, which is generated from the
//! kernel's uapi headers.
//!
//! linux-raw-sys only compiles the module of the build target (`#[cfg(target_arch = ...)]`), so
//! the host arch is checked through the crate itself and every arch it ships is checked by
//! parsing its `src/<arch>/general.rs` from the cargo registry. The registry copy must exist
//! (it does after any build of this crate's tests); if it cannot be found the test fails, it
//! never skips. hppa, ia64 and microblaze are not in linux-raw-sys; their numbers are checked
//! by hand-written tables in `src/abi.rs`.

use clone_core::CloneFlags;
use clone_core::abi::{Arch, MmapKind};
use clone_core::flags::CSIGNAL;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// linux-raw-sys's directory for each of our arches (powerpc64 covers both byte orders; the
/// mips64 directory is the n64 ABI).
fn lrs_dir(arch: Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::X86_64 => "x86_64",
        Arch::I386 => "x86",
        Arch::Aarch64 => "aarch64",
        Arch::Arm => "arm",
        Arch::Riscv64 => "riscv64",
        Arch::S390x => "s390x",
        Arch::Powerpc64 | Arch::Powerpc64le => "powerpc64",
        Arch::Mips64 => "mips64",
        Arch::Loongarch64 => "loongarch64",
        Arch::Sparc64 => "sparc64",
        Arch::Hppa | Arch::Ia64 | Arch::Microblaze => return None,
        other => panic!("{other:?}: say which linux-raw-sys directory covers it, if any"),
    })
}

/// The linux-raw-sys version Cargo.lock resolved for this workspace.
fn locked_version() -> String {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let text = std::fs::read_to_string(&lock)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", lock.display()));
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"linux-raw-sys\"" {
            let v = lines.next().expect("version line after name");
            let v = v
                .trim()
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .expect("version = \"…\"");
            if v.starts_with("0.12.") {
                return v.to_string();
            }
        }
    }
    panic!("Cargo.lock has no linux-raw-sys 0.12.x");
}

/// `$CARGO_HOME/registry/src/*/linux-raw-sys-<locked version>/src`.
fn lrs_src() -> PathBuf {
    let version = locked_version();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry/src");
    let entries = std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", registry.display()));
    for index in entries.flatten() {
        let candidate = index.path().join(format!("linux-raw-sys-{version}/src"));
        if candidate.join("x86_64/general.rs").is_file() {
            return candidate;
        }
    }
    panic!(
        "linux-raw-sys-{version} sources not found under {}; run `cargo fetch`",
        registry.display()
    );
}

/// Every `pub const NAME: ty = value;` in one general.rs, as u64.
fn constants(src: &Path, dir: &str) -> BTreeMap<String, u64> {
    let file = src.join(dir).join("general.rs");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("pub const ") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(':') else {
            continue;
        };
        let Some((_, value)) = rest.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_end_matches(';').trim();
        let parsed = if let Some(hex) = value.strip_prefix("0x") {
            u64::from_str_radix(hex, 16).ok()
        } else {
            value.parse::<u64>().ok()
        };
        if let Some(v) = parsed {
            out.insert(name.trim().to_string(), v);
        }
    }
    assert!(
        out.len() > 500,
        "{} parsed to only {} constants; format changed?",
        file.display(),
        out.len()
    );
    out
}

fn get(c: &BTreeMap<String, u64>, arch: Arch, name: &str) -> u64 {
    *c.get(name)
        .unwrap_or_else(|| panic!("{arch}: linux-raw-sys has no {name}"))
}

#[test]
fn syscall_numbers_match_linux_raw_sys_sources() {
    let src = lrs_src();
    let mut checked = 0;
    for arch in Arch::ALL {
        let Some(dir) = lrs_dir(arch) else { continue };
        let c = constants(&src, dir);
        let n = arch.syscalls();
        let pairs = [
            ("__NR_clone", n.clone),
            ("__NR_exit", n.exit),
            ("__NR_exit_group", n.exit_group),
            ("__NR_gettid", n.gettid),
            ("__NR_futex", n.futex),
            ("__NR_set_tid_address", n.set_tid_address),
            ("__NR_getpid", n.getpid),
            ("__NR_getppid", n.getppid),
            ("__NR_sched_yield", n.sched_yield),
            ("__NR_write", n.write),
            ("__NR_waitid", n.waitid),
            ("__NR_munmap", n.munmap),
            ("__NR_kill", n.kill),
            ("__NR_tgkill", n.tgkill),
        ];
        for (name, ours) in pairs {
            assert_eq!(ours, get(&c, arch, name), "{arch} {name}");
            checked += 1;
        }
        assert_eq!(
            n.clone3,
            c.get("__NR_clone3").copied(),
            "{arch} __NR_clone3"
        );
        assert_eq!(n.wait4, c.get("__NR_wait4").copied(), "{arch} __NR_wait4");
        assert_eq!(c.get("__NR_clone2"), None, "{arch}: only ia64 has clone2");
        // Where a 32-bit-uid variant exists it is the one we use.
        let getuid = c
            .get("__NR_getuid32")
            .copied()
            .unwrap_or_else(|| get(&c, arch, "__NR_getuid"));
        assert_eq!(n.getuid, getuid, "{arch} getuid(32)");
        let mmap_name = match n.mmap_kind {
            MmapKind::Pages4096 => "__NR_mmap2",
            MmapKind::Bytes | MmapKind::ParameterBlock => "__NR_mmap",
        };
        assert_eq!(n.mmap, get(&c, arch, mmap_name), "{arch} {mmap_name}");
        assert_eq!(
            u64::from(arch.sigchld()),
            get(&c, arch, "SIGCHLD"),
            "{arch} SIGCHLD"
        );
        checked += 5;
    }
    // 11 arches (powerpc64 twice) × 19 comparisons.
    assert_eq!(checked, 11 * 19);
}

#[test]
fn fork_family_numbers_match_linux_raw_sys_sources() {
    let src = lrs_src();
    let mut checked = 0;
    for arch in Arch::ALL {
        let Some(dir) = lrs_dir(arch) else { continue };
        let c = constants(&src, dir);
        let n = arch.syscalls();
        assert_eq!(n.fork, c.get("__NR_fork").copied(), "{arch} __NR_fork");
        assert_eq!(n.vfork, c.get("__NR_vfork").copied(), "{arch} __NR_vfork");
        assert_eq!(n.unshare, get(&c, arch, "__NR_unshare"), "{arch} unshare");
        assert_eq!(n.setns, get(&c, arch, "__NR_setns"), "{arch} setns");
        checked += 1;
    }
    assert_eq!(checked, 11);
}

#[test]
fn clone_flag_values_match_linux_raw_sys_sources() {
    let src = lrs_src();
    let mut dirs: Vec<&str> = Arch::ALL.iter().filter_map(|a| lrs_dir(*a)).collect();
    dirs.dedup();
    assert_eq!(dirs.len(), 10);
    for dir in dirs {
        let c = constants(&src, dir);
        let mut seen = 0;
        for (name, value) in &c {
            let Some(short) = name.strip_prefix("CLONE_") else {
                continue;
            };
            if short.starts_with("ARGS_SIZE_VER") {
                continue;
            }
            let flag = CloneFlags::from_name(short)
                .unwrap_or_else(|| panic!("{dir}: CloneFlags lacks {name}"));
            assert_eq!(flag.bits(), *value, "{dir} {name}");
            seen += 1;
        }
        // CLONE_VM … CLONE_IO (24), NEWTIME, CLEAR_SIGHAND, INTO_CGROUP.
        assert!(seen >= 27, "{dir}: only {seen} CLONE_* constants");
        assert_eq!(c.get("CSIGNAL").copied(), Some(CSIGNAL), "{dir} CSIGNAL");
        assert_eq!(c.get("CLONE_ARGS_SIZE_VER0").copied(), Some(64), "{dir}");
        assert_eq!(c.get("CLONE_ARGS_SIZE_VER1").copied(), Some(80), "{dir}");
        assert_eq!(c.get("CLONE_ARGS_SIZE_VER2").copied(), Some(88), "{dir}");
    }
}

#[test]
fn uncovered_arches_really_are_absent() {
    // If linux-raw-sys gains one of these, this test fails so it gets added to the check above.
    let src = lrs_src();
    for dir in ["parisc", "hppa", "ia64", "microblaze"] {
        assert!(
            !src.join(dir).exists(),
            "linux-raw-sys now has {dir}: cross-check it"
        );
    }
}

/// The host's own linux-raw-sys module, through the compiled crate.
#[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
#[test]
fn host_module_matches_x86_64() {
    use linux_raw_sys::general as g;
    let n = Arch::X86_64.syscalls();
    assert_eq!(n.clone, u64::from(g::__NR_clone));
    assert_eq!(n.clone3, Some(u64::from(g::__NR_clone3)));
    assert_eq!(n.exit, u64::from(g::__NR_exit));
    assert_eq!(n.exit_group, u64::from(g::__NR_exit_group));
    assert_eq!(n.gettid, u64::from(g::__NR_gettid));
    assert_eq!(n.futex, u64::from(g::__NR_futex));
    assert_eq!(n.set_tid_address, u64::from(g::__NR_set_tid_address));
    assert_eq!(n.mmap, u64::from(g::__NR_mmap));
    assert_eq!(n.wait4, Some(u64::from(g::__NR_wait4)));
    assert_eq!(u64::from(Arch::X86_64.sigchld()), u64::from(g::SIGCHLD));
    assert_eq!(CloneFlags::CLEAR_SIGHAND.bits(), g::CLONE_CLEAR_SIGHAND);
    assert_eq!(CloneFlags::INTO_CGROUP.bits(), g::CLONE_INTO_CGROUP);
    assert_eq!(CloneFlags::IO.bits(), u64::from(g::CLONE_IO));
    assert_eq!(Arch::native(), Some(Arch::X86_64));
}
