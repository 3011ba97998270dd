//! `cargo xtask linux-vm [--arch A|all]`: runs the conformance program as `/init` of a real
//! Debian Linux kernel booted in `qemu-system-<arch>`, so the cases qemu-user cannot answer
//! (clone3, vfork suspension, the kernel as errno oracle) are answered by Linux itself on arches
//! this x86_64 host cannot run natively.
//!
//! The kernels are Debian bookworm's (6.1) and bookworm-backports' (6.12; `--kernel` picks),
//! fetched by `ci/install.sh` into `/var/cache/clone-core/kernels/<debian arch>[-bpo]/` as
//! `kernel` and `release` (or under `$CLONE_CORE_KERNELS`).
//! The initramfs is a newc cpio written here: `/dev/console` (so init has fds 0–2) and the
//! conformance ELF as `/init`. `CLONE_CONFORMANCE_ENV=native` on the kernel command line reaches
//! init's environment (the kernel hands unknown `KEY=VALUE` parameters to init), so the program
//! runs every case and no skip is allowed, exactly as on the native x86_64 run.
//!
//! When init exits the kernel panics with `Attempted to kill init! exitcode=0x…`; with
//! `panic=-1` and `-no-reboot` QEMU then exits. That panic line is where the exit status comes
//! from; a run without the program's summary line or without the panic line is an error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::linux::{
    ArchResult, RunOutput, Runner, UserArch, on_path, parse_into, run_with_timeout,
};

/// Options for `cargo xtask linux-vm`.
#[derive(clap::Args)]
pub struct Args {
    /// `all` (every arch below, experimental ones included), `required`, or a comma-separated
    /// list of: aarch64, armv7, s390x, powerpc64le, mips64el.
    #[arg(long, default_value = "all")]
    pub arch: String,
    /// Which Debian kernels: `bookworm` (6.1), `backports` (bookworm-backports, 6.12) or `all`.
    #[arg(long, default_value = "all")]
    pub kernel: String,
    /// Seconds before a boot that has not finished counts as hung.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// One conformance arch and the Debian kernel + QEMU machine that runs it.
#[derive(Copy, Clone, Debug)]
pub struct VmArch {
    /// Conformance arch (`targets/<name>-linux-user.json`).
    pub name: &'static str,
    /// Debian architecture of the kernel (directory under the kernel cache).
    pub deb_arch: &'static str,
    /// QEMU system emulator.
    pub qemu: &'static str,
    /// Machine and CPU options.
    pub machine: &'static [&'static str],
    /// The console device, for `console=`.
    pub console: &'static str,
    /// CPUs (`-smp`): two where the board boots them, so thread cases really run in parallel.
    pub cpus: u32,
    /// Built with `experimental-asm`; its failure does not fail the run.
    pub experimental: bool,
    /// What the row says besides the kernel version (e.g. the compat layer).
    pub note: &'static str,
}

/// Every arch with a Debian bookworm kernel QEMU boots. armv7 runs on the arm64 kernel through
/// its AArch32 compat layer (Cortex-A57 has AArch32 at EL0), like 32-bit programs on arm64
/// hardware; Debian's armhf kernels would need a DTB-matched board.
pub const VM_ARCHES: &[VmArch] = &[
    VmArch {
        name: "aarch64",
        deb_arch: "arm64",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a57"],
        console: "ttyAMA0",
        cpus: 2,
        experimental: false,
        note: "",
    },
    VmArch {
        name: "armv7",
        deb_arch: "arm64",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a57"],
        console: "ttyAMA0",
        cpus: 2,
        experimental: false,
        note: ", arm64 compat",
    },
    VmArch {
        name: "s390x",
        deb_arch: "s390x",
        qemu: "qemu-system-s390x",
        machine: &["-M", "s390-ccw-virtio"],
        console: "ttysclp0",
        cpus: 2,
        experimental: false,
        note: "",
    },
    VmArch {
        name: "powerpc64le",
        deb_arch: "ppc64el",
        qemu: "qemu-system-ppc64",
        machine: &["-M", "pseries", "-cpu", "power9"],
        console: "hvc0",
        cpus: 2,
        experimental: false,
        note: "",
    },
    VmArch {
        name: "mips64el",
        deb_arch: "mips64el",
        qemu: "qemu-system-mips64el",
        // The 5kc-malta kernel hangs before its first console line with `-smp 2`.
        machine: &["-M", "malta", "-cpu", "MIPS64R2-generic"],
        console: "ttyS0",
        cpus: 1,
        experimental: true,
        note: "",
    },
];

/// The kernel series `ci/install.sh` fetches: name and the suffix of their cache directories.
pub const SERIES: &[(&str, &str)] = &[("bookworm", ""), ("backports", "-bpo")];

fn select_series(spec: &str) -> Result<Vec<&'static str>> {
    match spec {
        "all" => Ok(SERIES.iter().map(|s| s.1).collect()),
        one => SERIES
            .iter()
            .find(|s| s.0 == one)
            .map(|s| vec![s.1])
            .with_context(|| {
                format!("unknown kernel series {one:?}; known: bookworm, backports, all")
            }),
    }
}

/// Where `ci/install.sh` puts the kernels.
pub fn kernel_dir() -> PathBuf {
    std::env::var_os("CLONE_CORE_KERNELS").map_or_else(
        || PathBuf::from("/var/cache/clone-core/kernels"),
        PathBuf::from,
    )
}

/// `cargo xtask linux-vm`.
pub fn run(args: Args) -> Result<()> {
    let arches = select(&args.arch)?;
    let series = select_series(&args.kernel)?;
    let kernels = kernel_dir();
    let mut missing = Vec::new();
    for a in &arches {
        if !on_path(a.qemu) {
            missing.push(a.qemu.to_string());
        }
        for suffix in &series {
            let dir = format!("{}{suffix}", a.deb_arch);
            let k = kernels.join(&dir).join("kernel");
            if !k.is_file() {
                missing.push(format!("the {dir} kernel ({})", k.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        bail!(
            "missing {}; run ci/install.sh (it fetches Debian's kernels and installs QEMU)",
            missing.join(", ")
        );
    }
    let timeout = Duration::from_secs(args.timeout);
    let mut rows = Vec::new();
    for (a, suffix) in series
        .iter()
        .flat_map(|suffix| arches.iter().map(move |a| (a, suffix)))
    {
        let start = Instant::now();
        let row = run_arch(a, &kernels.join(format!("{}{suffix}", a.deb_arch)), timeout);
        let took = start.elapsed();
        eprintln!(
            "linux-vm: {} done in {:.1}s ({})",
            a.name,
            took.as_secs_f64(),
            if row.ok() { "ok" } else { "not ok" }
        );
        rows.push((row, took));
    }
    print!("{}", render(&rows));
    if rows.iter().all(|(r, _)| r.ok() || !r.required) {
        Ok(())
    } else {
        bail!("cargo xtask linux-vm: a required arch failed or did not run")
    }
}

fn select(spec: &str) -> Result<Vec<VmArch>> {
    match spec {
        "all" => Ok(VM_ARCHES.to_vec()),
        "required" => Ok(VM_ARCHES
            .iter()
            .filter(|a| !a.experimental)
            .copied()
            .collect()),
        list => list
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|name| {
                VM_ARCHES
                    .iter()
                    .find(|a| a.name == name)
                    .copied()
                    .with_context(|| {
                        let known: Vec<&str> = VM_ARCHES.iter().map(|a| a.name).collect();
                        format!(
                            "no real-kernel runner for {name:?}; known: {}, or all/required",
                            known.join(", ")
                        )
                    })
            })
            .collect(),
    }
}

/// The Debian kernel release and package version, e.g. `("6.1.0-50-arm64", "6.1.176-1")`.
fn release(kernel_dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(kernel_dir.join("release")).unwrap_or_default();
    let mut it = text.split_whitespace();
    (
        it.next().unwrap_or("?").to_string(),
        it.next().unwrap_or("?").to_string(),
    )
}

/// Boots the kernel in `kernel_dir` (`<cache>/<debian arch>[-bpo]`) with `a`'s program as init.
fn run_arch(a: &VmArch, kernel_dir: &Path, timeout: Duration) -> ArchResult {
    let (krel, kver) = release(kernel_dir);
    // Upstream version without Debian's revision: "6.1.176-1" -> "6.1.176",
    // "6.12.95-1~bpo12+1" -> "6.12.95".
    let upstream = kver.split('-').next().unwrap_or(&kver);
    let mut row = ArchResult {
        arch: a.name.into(),
        how: format!("real Linux {upstream} ({krel}{}, qemu-system)", a.note),
        required: !a.experimental,
        ..Default::default()
    };
    let user = UserArch {
        name: a.name,
        // A real kernel is judged like the native one: every case must run.
        runner: Runner::Native,
        experimental: a.experimental,
    };
    let elf = match crate::linux::build(&user) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("build failed: {e:#}"));
            return row;
        }
    };
    match boot(a, kernel_dir, &elf, timeout) {
        Err(e) => row.error = Some(format!("{e:#}")),
        Ok(run) => parse_into(&mut row, &user, &run),
    }
    row
}

/// Boots `elf` as `/init` of the kernel in `kernel_dir` and returns its console output (one
/// program line per line) with init's exit status, read from the kernel's panic line.
fn boot(a: &VmArch, kernel_dir: &Path, elf: &Path, timeout: Duration) -> Result<RunOutput> {
    let initrd = write_initramfs(elf)?;
    let kernel = kernel_dir.join("kernel");
    let mut args: Vec<String> = a.machine.iter().map(|s| (*s).to_string()).collect();
    args.push("-smp".into());
    args.push(a.cpus.to_string());
    args.extend(["-m", "512M", "-nographic", "-no-reboot", "-kernel"].map(String::from));
    args.push(kernel.display().to_string());
    args.push("-initrd".into());
    args.push(initrd.display().to_string());
    args.push("-append".into());
    args.push(format!(
        "console={} panic=-1 quiet CLONE_CONFORMANCE_ENV=native",
        a.console
    ));
    let out = run_with_timeout(a.qemu, &args, &[], timeout)?;
    let console = clean_console(&out.stdout);
    let Some((code, signal)) = init_exit(&console) else {
        bail!(
            "QEMU exited ({:?}) without the kernel's `Attempted to kill init` line; \
             last console output:\n{}",
            out.code,
            tail(&console, 8)
        );
    };
    Ok(RunOutput {
        stdout: console,
        stderr: out.stderr,
        code,
        signal,
    })
}

/// For `cargo xtask qemu`'s side-by-side table: boots `elf` (a program built for `arch`'s
/// `*-linux-user` target) as init of the newest cached Debian kernel for `arch`, and returns
/// a label naming that kernel and the console. `None` when this arch has no real-kernel
/// runner or its kernel is not cached (then the caller falls back to qemu-user).
pub(crate) fn boot_program(arch: &str, elf: &Path, timeout: Duration) -> Option<(String, String)> {
    let a = VM_ARCHES.iter().find(|a| a.name == arch)?;
    let kernels = kernel_dir();
    let dir = SERIES
        .iter()
        .rev()
        .map(|s| kernels.join(format!("{}{}", a.deb_arch, s.1)))
        .find(|d| d.join("kernel").is_file())?;
    let (krel, kver) = release(&dir);
    let upstream = kver.split('-').next().unwrap_or(&kver).to_string();
    let run = boot(a, &dir, elf, timeout).ok()?;
    Some((
        format!("real Linux {upstream} ({krel}, qemu-system)"),
        run.stdout,
    ))
}

/// The console with `\r` dropped and each program line starting its own line: firmware or
/// early kernel output without a final newline (SLOF and prom_init on pseries) can sit in
/// front of the first line the program writes.
fn clean_console(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.replace('\r', "").lines() {
        let start = ["case ", "conformance "]
            .iter()
            .filter_map(|m| line.find(m))
            .min()
            .unwrap_or(0);
        out.push_str(line.get(start..).unwrap_or(line));
        out.push('\n');
    }
    out
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Init's wait status from the kernel's panic line `Attempted to kill init! exitcode=0x…`, as
/// (exit code, signal): `(Some(code), None)` for a normal exit, `(None, Some(sig))` for a
/// signal.
fn init_exit(console: &str) -> Option<(Option<i32>, Option<i32>)> {
    let at = console.find("Attempted to kill init! exitcode=0x")?;
    let hex: String = console[at..]
        .trim_start_matches("Attempted to kill init! exitcode=0x")
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let status = i32::from_str_radix(&hex, 16).ok()?;
    Some(if status & 0x7f == 0 {
        (Some((status >> 8) & 0xff), None)
    } else {
        (None, Some(status & 0x7f))
    })
}

/// Writes the initramfs for `elf` next to it and returns its path.
fn write_initramfs(elf: &Path) -> Result<PathBuf> {
    let program = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let out = elf.with_extension("initramfs.cpio");
    std::fs::write(&out, initramfs(&program))
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(out)
}

/// A newc ("070701") cpio archive with `/dev`, `/dev/console` (char 5:1) and `program` as
/// `/init`. The kernel opens `/dev/console` for init's fds 0–2 before running it; without the
/// node init would start with no stdout.
pub fn initramfs(program: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() + 512);
    cpio_entry(&mut out, 1, "dev", 0o040_755, 2, (0, 0), &[]);
    cpio_entry(&mut out, 2, "dev/console", 0o020_600, 1, (5, 1), &[]);
    cpio_entry(&mut out, 3, "init", 0o100_755, 1, (0, 0), program);
    cpio_entry(&mut out, 0, "TRAILER!!!", 0, 1, (0, 0), &[]);
    out
}

/// One newc entry: the 110-byte header (magic and 13 eight-digit hex fields), the name with its
/// NUL padded to a multiple of four, then the data padded likewise.
fn cpio_entry(
    out: &mut Vec<u8>,
    ino: u32,
    name: &str,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    data: &[u8],
) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        u32::try_from(data.len()).expect("initramfs member below 4 GiB"),
        0, // devmajor
        0, // devminor
        rdev.0,
        rdev.1,
        u32::try_from(name.len() + 1).expect("short name"),
        0, // check (only for "070702")
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        let _ = write!(HexSink(out), "{f:08x}");
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// `fmt::Write` into a byte vector (the header fields are ASCII).
struct HexSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn render(rows: &[(ArchResult, Duration)]) -> String {
    let mut s = String::new();
    let w = rows
        .iter()
        .map(|(r, _)| r.how.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        s,
        "{:<12} {:<w$} {:>6} {:>6} {:>7} {:>6}  verdict",
        "arch", "ran as", "passed", "failed", "skipped", "time"
    );
    for (r, took) in rows {
        let verdict = match (&r.error, r.ok(), r.required) {
            (Some(e), _, true) => format!("ERROR: {}", e.lines().next().unwrap_or("")),
            (Some(e), _, false) => format!(
                "not proven (experimental): {}",
                e.lines().next().unwrap_or("")
            ),
            (None, true, true) => "ok".into(),
            (None, true, false) => "ok (experimental)".into(),
            (None, false, true) => "FAILED".into(),
            (None, false, false) => "FAILED (experimental, not required)".into(),
        };
        let _ = writeln!(
            s,
            "{:<12} {:<w$} {:>6} {:>6} {:>7} {:>5.0}s  {verdict}",
            r.arch,
            r.how,
            r.passed,
            r.failed,
            r.skipped,
            took.as_secs_f64()
        );
    }
    let mut notes = String::new();
    for (r, _) in rows {
        for (case, reason) in &r.skips {
            let _ = writeln!(notes, "  {:<12} skip {case}: {reason}", r.arch);
        }
        for (case, detail) in &r.failures {
            let _ = writeln!(notes, "  {:<12} FAIL {case}: {detail}", r.arch);
        }
        if let Some(e) = &r.error {
            for line in e.lines().take(12) {
                let _ = writeln!(notes, "  {:<12} error: {line}", r.arch);
            }
        }
    }
    if !notes.is_empty() {
        s.push_str("\nskips and failures:\n");
        s.push_str(&notes);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_header_layout() {
        let mut out = Vec::new();
        cpio_entry(&mut out, 3, "init", 0o100_755, 1, (0, 0), b"ab");
        // Hand-written: magic, ino 3, mode 0o100755 = 0x81ed, uid, gid, nlink 1, mtime,
        // filesize 2, devmajor, devminor, rdevmajor, rdevminor, namesize 5 ("init\0"), check.
        let header = "070701\
            00000003000081ed000000000000000000000001000000000000000200000000\
            0000000000000000000000000000000500000000";
        assert_eq!(&out[..110], header.as_bytes());
        // 110 + 5 = 115 -> padded to 116; then "ab" padded to 120.
        assert_eq!(&out[110..116], b"init\0\0");
        assert_eq!(&out[116..], b"ab\0\0");
    }

    #[test]
    fn initramfs_has_console_node_init_and_trailer() {
        let img = initramfs(b"ELF");
        let text = String::from_utf8_lossy(&img);
        // dev/console: mode 0o020600 = 0x2180, rdev 5:1.
        assert!(text.contains("00002180"), "{text}");
        assert!(text.contains("0000000500000001"));
        assert!(text.contains("dev/console\0"));
        assert!(text.contains("init\0"));
        assert!(img.ends_with(b"TRAILER!!!\0\0\0\0"));
        assert_eq!(img.len() % 4, 0);
    }

    #[test]
    fn init_exit_status_from_the_panic_line() {
        let c = "case a: pass\n[    1.2] Kernel panic - not syncing: Attempted to kill init! \
                 exitcode=0x00000100\n";
        assert_eq!(init_exit(c), Some((Some(1), None)));
        let c = "Attempted to kill init! exitcode=0x00000000";
        assert_eq!(init_exit(c), Some((Some(0), None)));
        let c = "Attempted to kill init! exitcode=0x0000000b";
        assert_eq!(init_exit(c), Some((None, Some(11))));
        assert_eq!(init_exit("case a: pass\n"), None);
    }

    #[test]
    fn console_junk_before_the_first_line_is_dropped() {
        let raw = "Linux ppc64le\r\n#1 SMP Debian 6.case fork-sigchld: pass\r\n\
                   case b: FAIL a case x\r\nconformance powerpc64le: 1 passed, 1 failed, 0 skipped\r\n";
        assert_eq!(
            clean_console(raw),
            "Linux ppc64le\ncase fork-sigchld: pass\ncase b: FAIL a case x\n\
             conformance powerpc64le: 1 passed, 1 failed, 0 skipped\n"
        );
    }

    #[test]
    fn arch_selection() {
        assert_eq!(select("all").unwrap().len(), VM_ARCHES.len());
        assert!(select("required").unwrap().iter().all(|a| !a.experimental));
        assert_eq!(select("s390x,armv7").unwrap()[1].deb_arch, "arm64");
        assert!(select("riscv64").is_err());
        assert_eq!(select_series("all").unwrap(), ["", "-bpo"]);
        assert_eq!(select_series("backports").unwrap(), ["-bpo"]);
        assert!(select_series("sid").is_err());
    }
}
