//! The Linux side of `cargo xtask programs` on aarch64 and riscv64: every suite binary of the
//! arch in one initramfs, run in turn by a small init (`programs_init.c`) under the Debian kernel
//! `cargo xtask linux-vm` boots for that arch (6.12: bookworm-backports' arm64 kernel, trixie's
//! riscv64 one; `ci/install.sh` caches them), in `qemu-system-<arch>` under TCG.
//!
//! The initramfs has `/dev/console`, `/dev/null`, `/init`, `/programs.list` (the names, one a
//! line) and each program as `/bin/<name>`, the path the stub runs it at, so `argv[0]` is the
//! same in both. init prints each program's stdout between markers (see `programs_init.c`),
//! which [`parse`] reads back into one run per program.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::build::cross_dir;
use crate::linux_vm::{VM_ARCHES, kernel_dir};
use crate::runner::{VmArch, boot_initrd, cpio_entry};

/// The init's source.
const INIT_C: &str = include_str!("programs_init.c");

/// One program to run: its name (`/bin/<name>`) and its file.
pub struct Binary<'a> {
    pub name: &'a str,
    pub path: &'a Path,
}

/// What one program printed on stdout and how it ended (`N` for an exit status,
/// `signal N`), as the native x86_64 run reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct VmRun {
    pub lines: Vec<String>,
    pub status: String,
}

/// The machine and kernel for `arch` (`aarch64`, `riscv64`): the newest 6.12 the cache has
/// (bookworm-backports, or trixie where bookworm has no kernel), as `cargo xtask qemu`'s
/// side-by-side table picks it. Returns the machine, the kernel file and a label.
fn machine(arch: &str) -> Result<(VmArch, PathBuf, String)> {
    let a = *VM_ARCHES
        .iter()
        .find(|a| a.name == arch)
        .with_context(|| format!("no Linux VM for {arch}"))?;
    let kernels = kernel_dir();
    let Some(dir) = ["-bpo", "-trixie"]
        .iter()
        .map(|s| kernels.join(format!("{}{s}", a.deb_arch)))
        .find(|d| d.join("kernel").is_file())
    else {
        bail!(
            "no 6.12 {} kernel under {} (ci/install.sh fetches it)",
            a.deb_arch,
            kernels.display()
        );
    };
    let release = std::fs::read_to_string(dir.join("release")).unwrap_or_default();
    let mut it = release.split_whitespace();
    let (krel, kver) = (it.next().unwrap_or("?"), it.next().unwrap_or("?"));
    let upstream = kver.split('-').next().unwrap_or(kver);
    Ok((
        a,
        dir.join("kernel"),
        format!("Linux {upstream} ({krel}, TCG)"),
    ))
}

/// Builds init with `cc` (the arch's glibc cross gcc), static.
fn build_init(arch: &str, cc: &str) -> Result<PathBuf> {
    let dir = cross_dir().join("programs").join(arch);
    std::fs::create_dir_all(&dir)?;
    let src = dir.join("programs-init.c");
    std::fs::write(&src, INIT_C)?;
    let out = dir.join("programs-init");
    let st = Command::new(cc)
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .with_context(|| format!("running {cc}"))?;
    if !st.success() {
        bail!("{cc} failed to build the programs' init");
    }
    Ok(out)
}

/// Runs every binary under the arch's Debian kernel; returns a label for the kernel and one
/// run per binary (`None`: init printed no end line for it).
pub fn run(
    arch: &str,
    cc: &str,
    binaries: &[Binary<'_>],
    timeout: Duration,
) -> Result<(String, Vec<Option<VmRun>>)> {
    let (vm, kernel, label) = machine(arch)?;
    let init = build_init(arch, cc)?;
    let mut cpio = Vec::new();
    let mut ino = 1;
    let mut entry = |cpio: &mut Vec<u8>, name: &str, mode: u32, rdev, data: &[u8]| {
        let nlink = if mode & 0o040_000 != 0 { 2 } else { 1 };
        cpio_entry(cpio, ino, name, mode, nlink, rdev, data);
        ino += 1;
    };
    entry(&mut cpio, "dev", 0o040_755, (0, 0), &[]);
    entry(&mut cpio, "dev/console", 0o020_600, (5, 1), &[]);
    entry(&mut cpio, "dev/null", 0o020_666, (1, 3), &[]);
    entry(&mut cpio, "bin", 0o040_755, (0, 0), &[]);
    let init_bytes = std::fs::read(&init)?;
    entry(&mut cpio, "init", 0o100_755, (0, 0), &init_bytes);
    let mut list = String::new();
    for b in binaries {
        let data =
            std::fs::read(b.path).with_context(|| format!("reading {}", b.path.display()))?;
        entry(
            &mut cpio,
            &format!("bin/{}", b.name),
            0o100_755,
            (0, 0),
            &data,
        );
        list.push_str(b.name);
        list.push('\n');
    }
    entry(
        &mut cpio,
        "programs.list",
        0o100_644,
        (0, 0),
        list.as_bytes(),
    );
    cpio_entry(&mut cpio, 0, "TRAILER!!!", 0, 1, (0, 0), &[]);
    let initrd = cross_dir()
        .join("programs")
        .join(arch)
        .join("linux-initramfs.cpio");
    std::fs::write(&initrd, &cpio)?;
    eprintln!(
        "$ {} {} with {} programs in {}",
        vm.qemu,
        kernel.display(),
        binaries.len(),
        initrd.display()
    );
    let out = boot_initrd(&vm, &kernel, &initrd, timeout)?;
    let log = initrd.with_file_name("linux-console.log");
    std::fs::write(&log, &out.stdout)?;
    if !out.stdout.contains("programs-vm: done") {
        bail!(
            "the Linux VM's init did not finish (console: {})",
            log.display()
        );
    }
    let runs = binaries
        .iter()
        .map(|b| parse(&out.stdout, b.name))
        .collect();
    Ok((label, runs))
}

/// The run of `name` in init's console output.
fn parse(console: &str, name: &str) -> Option<VmRun> {
    let begin = format!("programs-vm: begin {name}");
    let end = format!("programs-vm: end {name} ");
    let mut lines = console.lines().skip_while(|l| *l != begin).skip(1);
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if let Some(rest) = l.strip_prefix("programs-vm: | ") {
            out.push(rest.to_string());
        } else if l == "programs-vm: |" {
            out.push(String::new());
        } else if let Some(rest) = l.strip_prefix(&end) {
            let status = match rest.split_once(' ') {
                Some(("exit", n)) => n.to_string(),
                Some(("signal", n)) => format!("signal {n}"),
                _ => return None,
            };
            return Some(VmRun { lines: out, status });
        }
        // Anything else is the kernel's or the program's stderr.
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_read_between_markers() {
        let console = "programs-vm: begin a-glibc\n\
                       [    1.0] some kernel line\n\
                       programs-vm: | hello\n\
                       programs-vm: |\n\
                       programs-vm: end a-glibc exit 3\n\
                       programs-vm: begin b-musl\n\
                       programs-vm: end b-musl signal 9\n\
                       programs-vm: begin c-musl\n";
        let a = parse(console, "a-glibc").unwrap();
        assert_eq!(a.lines, ["hello", ""]);
        assert_eq!(a.status, "3");
        assert_eq!(parse(console, "b-musl").unwrap().status, "signal 9");
        assert!(parse(console, "c-musl").is_none());
        assert!(parse(console, "d-musl").is_none());
    }
}
