//! `cargo xtask linux-vm [--arch A|all]`: runs the conformance program as `/init` of a real
//! Debian Linux kernel booted in `qemu-system-<arch>`, so the cases qemu-user cannot answer
//! (clone3, vfork suspension, the kernel as errno oracle) are answered by Linux itself on arches
//! this x86_64 host cannot run natively.
//!
//! The kernels are Debian bookworm's (6.1), bookworm-backports' and trixie's (6.12) and sid's
//! (7.x; `--kernel` picks), fetched by `ci/install.sh` into
//! `/var/cache/clone-core/kernels/<debian arch><suffix>/` as `kernel` and `release` (or under
//! `$CLONE_CORE_KERNELS`).
//! The boot itself is [`crate::runner::boot_as_init`]: a newc initramfs with `/dev/console` and
//! the conformance ELF as `/init`, `CLONE_CONFORMANCE_ENV=native` on the kernel command line (so
//! the program runs every case and no skip is allowed, exactly as on the native x86_64 run), and
//! init's exit status from the kernel's panic line. A run without the program's summary line or
//! without the panic line is an error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::runner::{
    ArchResult, Runner, VmArch, boot_as_init, build_conformance, on_path, parse_into, render_notes,
};

/// Options for `cargo xtask linux-vm`.
#[derive(clap::Args)]
pub struct Args {
    /// Arches, comma-separated: `all` (experimental ones included), `required`, or arch names.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub arch: Vec<VmArchArg>,
    /// Debian kernels, comma-separated: a series, `default` (the oldest and the newest each arch
    /// has: what `cargo xtask test` runs) or `all`. An arch runs the series it has.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub kernel: Vec<SeriesArg>,
    /// Seconds before a boot that has not finished counts as hung.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// A `--arch` value: a group, or one arch of [`VM_ARCHES`] (same names).
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum VmArchArg {
    /// Every arch, experimental ones included.
    All,
    /// The arches whose failure fails the run.
    Required,
    #[value(name = "aarch64")]
    Aarch64,
    #[value(name = "armv7")]
    Armv7,
    #[value(name = "s390x")]
    S390x,
    #[value(name = "powerpc64le")]
    Powerpc64le,
    #[value(name = "mips64el")]
    Mips64el,
    #[value(name = "riscv64")]
    Riscv64,
    #[value(name = "loongarch64")]
    Loongarch64,
}

/// A `--kernel` value: a Debian series of [`SERIES`] (same names) or a group.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeriesArg {
    /// Every series the arch has.
    All,
    /// The oldest and the newest series the arch has.
    Default,
    /// Debian 12, Linux 6.1.
    Bookworm,
    /// bookworm-backports, Linux 6.12.
    Backports,
    /// Debian 13, Linux 6.12.
    Trixie,
    /// Debian unstable, Linux 7.x.
    Sid,
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
        cmdline: "",
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
        cmdline: "",
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
        cmdline: "",
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
        cmdline: "",
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
        cmdline: "",
    },
    VmArch {
        name: "riscv64",
        deb_arch: "riscv64",
        qemu: "qemu-system-riscv64",
        // QEMU's own OpenSBI (qemu-system-data) as the M-mode firmware; Debian's riscv64
        // kernel file is a raw Image.
        machine: &["-M", "virt", "-bios", "default"],
        console: "ttyS0",
        cpus: 2,
        experimental: false,
        note: "",
        cmdline: "",
    },
    VmArch {
        name: "loongarch64",
        deb_arch: "loong64",
        qemu: "qemu-system-loongarch64",
        // ci/install.sh unpacks Debian's EFI zboot file into the raw Image it wraps, which the
        // `virt` board boots without firmware.
        machine: &["-M", "virt", "-cpu", "la464"],
        console: "ttyS0",
        cpus: 2,
        experimental: false,
        note: "",
        // The virt board has no i8042; its probe stalls the boot without this.
        cmdline: "initcall_blacklist=i8042_init",
    },
];

/// A kernel series `ci/install.sh` fetches.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// `--kernel` name.
    pub name: &'static str,
    /// Suffix of the cache directory (`<debian arch><suffix>`).
    pub suffix: &'static str,
}

/// Debian bookworm (6.1), bookworm-backports (6.12), trixie (6.12) and sid (7.x), oldest first.
pub const SERIES: &[Series] = &[
    Series {
        name: "bookworm",
        suffix: "",
    },
    Series {
        name: "backports",
        suffix: "-bpo",
    },
    Series {
        name: "trixie",
        suffix: "-trixie",
    },
    Series {
        name: "sid",
        suffix: "-sid",
    },
];

/// The series Debian has a kernel of for `deb_arch` (what `ci/install.sh` fetches): riscv64
/// came to Debian with trixie and loong64 is in sid only; sid has no mips64el. The
/// bookworm-backports 6.12 stands for 6.12 where it exists (trixie's is the same series).
pub fn series_of(deb_arch: &str) -> &'static [&'static str] {
    match deb_arch {
        "riscv64" => &["trixie", "sid"],
        "loong64" => &["sid"],
        "mips64el" => &["bookworm", "backports"],
        _ => &["bookworm", "backports", "sid"],
    }
}

/// The series `--kernel` picks for `deb_arch`, oldest first.
fn select_series(asked: &[SeriesArg], deb_arch: &str) -> Vec<Series> {
    use clap::ValueEnum as _;
    let has = series_of(deb_arch);
    let wanted = |name: &str| {
        asked.iter().any(|a| match a {
            SeriesArg::All => true,
            SeriesArg::Default => name == has[0] || name == has[has.len() - 1],
            one => one
                .to_possible_value()
                .is_some_and(|v| v.get_name() == name),
        })
    };
    SERIES
        .iter()
        .filter(|s| has.contains(&s.name) && wanted(s.name))
        .copied()
        .collect()
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
    let arches = select(&args.arch);
    let kernels = kernel_dir();
    let mut missing = Vec::new();
    let mut runs = Vec::new();
    for a in &arches {
        if !on_path(a.qemu) {
            missing.push(a.qemu.to_string());
        }
        for s in select_series(&args.kernel, a.deb_arch) {
            runs.push((s, *a));
        }
    }
    // Oldest kernels first, then the arch order of the table.
    runs.sort_by_key(|(s, _)| SERIES.iter().position(|x| x == s));
    for (s, a) in &runs {
        {
            let dir = format!("{}{}", a.deb_arch, s.suffix);
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
    for (s, a) in &runs {
        let start = Instant::now();
        let row = run_arch(
            a,
            &kernels.join(format!("{}{}", a.deb_arch, s.suffix)),
            timeout,
        );
        let took = start.elapsed();
        row.record_error();
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

/// The arches `--arch` picks, in table order.
fn select(asked: &[VmArchArg]) -> Vec<VmArch> {
    use clap::ValueEnum as _;
    VM_ARCHES
        .iter()
        .filter(|a| {
            asked.iter().any(|x| match x {
                VmArchArg::All => true,
                VmArchArg::Required => !a.experimental,
                one => one
                    .to_possible_value()
                    .is_some_and(|v| v.get_name() == a.name),
            })
        })
        .copied()
        .collect()
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
    let elf = match build_conformance(a.name, a.experimental) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("build failed: {e:#}"));
            return row;
        }
    };
    match boot_as_init(a, &kernel_dir.join("kernel"), &elf, timeout) {
        Err(e) => row.error = Some(format!("{e:#}")),
        // A real kernel is judged like the native one: every case must run.
        Ok(run) => parse_into(&mut row, a.name, Runner::Native, &run),
    }
    row
}

/// For `cargo xtask qemu`'s side-by-side table: boots `elf` (a program built for `arch`'s
/// `*-linux-user` target) as init of the newest cached Debian kernel for `arch`, and returns
/// a label naming that kernel and the console. `None` when this arch has no real-kernel
/// runner or its kernel is not cached (then the caller falls back to qemu-user).
pub(crate) fn boot_program(arch: &str, elf: &Path, timeout: Duration) -> Option<(String, String)> {
    let a = VM_ARCHES.iter().find(|a| a.name == arch)?;
    let kernels = kernel_dir();
    // 6.12 (bookworm-backports, or trixie where bookworm has no kernel), else 6.1: the
    // side-by-side table names one kernel series for every arch.
    let dir = ["-bpo", "-trixie", ""]
        .iter()
        .map(|suffix| kernels.join(format!("{}{suffix}", a.deb_arch)))
        .find(|d| d.join("kernel").is_file())?;
    let (krel, kver) = release(&dir);
    let upstream = kver.split('-').next().unwrap_or(&kver).to_string();
    let run = boot_as_init(a, &dir.join("kernel"), elf, timeout).ok()?;
    Some((
        format!("real Linux {upstream} ({krel}, qemu-system)"),
        run.stdout,
    ))
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
        let _ = writeln!(
            s,
            "{:<12} {:<w$} {:>6} {:>6} {:>7} {:>5.0}s  {}",
            r.arch,
            r.how,
            r.passed,
            r.failed,
            r.skipped,
            took.as_secs_f64(),
            r.verdict()
        );
    }
    s.push_str(&render_notes(rows.iter().map(|(r, _)| r)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What clap makes of an `--arch`/`--kernel` value, as on the command line.
    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        use clap::{Args as _, Command, FromArgMatches as _};
        let cmd = Args::augment_args(Command::new("linux-vm"));
        let m =
            cmd.try_get_matches_from(std::iter::once("linux-vm").chain(args.iter().copied()))?;
        Args::from_arg_matches(&m)
    }

    fn arches(spec: &str) -> Vec<&'static str> {
        select(&parse(&["--arch", spec]).unwrap().arch)
            .iter()
            .map(|a| a.name)
            .collect()
    }

    fn series(spec: &str, deb_arch: &str) -> Vec<&'static str> {
        select_series(&parse(&["--kernel", spec]).unwrap().kernel, deb_arch)
            .iter()
            .map(|s| s.suffix)
            .collect()
    }

    #[test]
    fn arch_selection() {
        assert_eq!(arches("all").len(), VM_ARCHES.len());
        assert_eq!(
            arches("required"),
            [
                "aarch64",
                "armv7",
                "s390x",
                "powerpc64le",
                "riscv64",
                "loongarch64"
            ]
        );
        // Table order, whatever order they were asked in.
        assert_eq!(arches("s390x,armv7"), ["armv7", "s390x"]);
        assert_eq!(arches("riscv64"), ["riscv64"]);
        assert!(parse(&["--arch", "sparc64"]).is_err());
        // Every single-arch value names a runner (a misspelt value would select nothing).
        use clap::ValueEnum as _;
        for v in VmArchArg::value_variants() {
            let name = v.to_possible_value().unwrap().get_name().to_string();
            if !matches!(v, VmArchArg::All | VmArchArg::Required) {
                assert_eq!(arches(&name), [name.as_str()]);
            }
        }
        assert_eq!(series("all", "arm64"), ["", "-bpo", "-sid"]);
        assert_eq!(series("default", "arm64"), ["", "-sid"]);
        assert_eq!(series("all", "riscv64"), ["-trixie", "-sid"]);
        assert_eq!(series("default", "loong64"), ["-sid"]);
        assert_eq!(series("default", "mips64el"), ["", "-bpo"]);
        assert_eq!(series("trixie", "riscv64"), ["-trixie"]);
        // A series an arch lacks is no run for that arch, not an error.
        assert_eq!(series("sid", "mips64el"), Vec::<&str>::new());
        assert_eq!(series("backports,sid", "s390x"), ["-bpo", "-sid"]);
        assert!(parse(&["--kernel", "jessie"]).is_err());
        for v in SeriesArg::value_variants() {
            let name = v.to_possible_value().unwrap().get_name().to_string();
            if !matches!(v, SeriesArg::All | SeriesArg::Default) {
                assert!(SERIES.iter().any(|s| s.name == name), "{name}");
            }
        }
    }
}
