//! `cargo xtask differential [--kernel …] [--sample auto|small|full]`: the kernel differential
//! test (`clone-core/tests/kernel_differential.rs`) as `/init` of Debian's own x86_64 kernels
//! in qemu-system, so every `Policy` version threshold is checked by a kernel of that version,
//! not only by the host's.
//!
//! The test binary is linked statically (glibc, `crt-static`), so the initramfs holds nothing
//! but it (and `/dev/console`); as pid 1 it mounts `/proc` and cgroup2 itself. Each kernel runs
//! every setup of the host run (root, uid 65534, pid-namespace init, after `unshare(NEWPID)`,
//! chrooted, 32 pid namespaces deep) and the i386 compat phases, against the `Policy` for the
//! version its `uname` reports, and prints
//! `differential linux-<release>: <N> calls, <D> disagreements`, which this command relays.
//! The family differential test (`family_differential.rs`: unshare, setns, fork, vfork) then
//! boots the same kernel as its own `/init`; its closing line is relayed too.
//!
//! With hardware KVM the guest runs under KVM with the full sample; otherwise (no `/dev/kvm`,
//! or PVM, which boots no stock kernel) under TCG
//! with `CLONE_DIFFERENTIAL_SAMPLE=small` (smaller power sets and fewer random cases; the
//! counts printed say how many calls that was). `--sample` overrides the choice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::project_root;
use crate::linux_vm::{SERIES, kernel_dir};
use crate::runner::{VmArch, boot_as_init, last_lines};

/// Options for `cargo xtask differential`.
#[derive(clap::Args)]
pub struct Args {
    /// Which Debian amd64 kernels: `bookworm` (6.1), `backports` (6.12), `sid` (7.x), a
    /// comma-separated list, or `all`.
    #[arg(long, default_value = "all")]
    pub kernel: String,
    /// `auto` (full under KVM, small under TCG), `small` or `full`.
    #[arg(long, default_value = "auto")]
    pub sample: String,
    /// Which tests: `all`, `kernel` (clone/clone3) or `family` (unshare, setns, fork, vfork).
    #[arg(long, default_value = "all")]
    pub tests: String,
    /// Seconds before a boot that has not finished counts as hung.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

/// The amd64 kernel series Debian has (trixie's 6.12 is the same series as backports').
const AMD64_SERIES: &[&str] = &["bookworm", "backports", "sid"];

fn machine(kvm: bool, small: bool) -> VmArch {
    VmArch {
        name: "x86_64",
        deb_arch: "amd64",
        qemu: "qemu-system-x86_64",
        machine: if kvm {
            &["-accel", "kvm", "-cpu", "host"]
        } else {
            // Without la57 the guest has 4-level paging like the host (TASK_SIZE_MAX
            // 0x7fff_ffff_f000); `-cpu max` alone gives TCG guests 5-level paging, whose
            // larger TASK_SIZE_MAX accepts the stacks and TLS values the policy's x86_64
            // default refuses.
            &["-accel", "tcg", "-cpu", "max,la57=off"]
        },
        console: "ttyS0",
        cpus: 2,
        experimental: false,
        note: "",
        cmdline: if small {
            "CLONE_DIFFERENTIAL_SAMPLE=small"
        } else {
            ""
        },
    }
}

/// The differential tests run in each kernel: the clone/clone3 one and the family one
/// (unshare, setns, fork, vfork), with the line each ends its report with.
const TESTS: &[(&str, &str)] = &[
    ("kernel_differential", "differential linux-"),
    ("family_differential", "family_differential: "),
];

/// Builds the differential tests as static x86_64 executables and returns their paths, in
/// the order of [`TESTS`].
fn build_static_tests() -> Result<Vec<PathBuf>> {
    let root = project_root();
    let mut cmd = std::process::Command::new("cargo");
    cmd.current_dir(&root).args(["test", "-p", "clone-core"]);
    for (name, _) in TESTS {
        cmd.args(["--test", name]);
    }
    cmd.args([
        "--no-run",
        // Optimised: under TCG the validator and its fix search are a large part of each
        // case's cost in a debug build.
        "--release",
        "--message-format=json-render-diagnostics",
        // An explicit target keeps the rustflags off build scripts and proc macros.
        "--target",
        "x86_64-unknown-linux-gnu",
        "--target-dir",
    ])
    .arg(root.join("target/differential-static"))
    .env(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
        "-C target-feature=+crt-static",
    )
    .stderr(std::process::Stdio::inherit());
    let out = cmd.output().context("running cargo test --no-run")?;
    if !out.status.success() {
        bail!("building the static differential tests failed");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    TESTS
        .iter()
        .map(|(name, _)| {
            reports
                .iter()
                .filter(|v| v["target"]["name"] == *name)
                .find_map(|v| v["executable"].as_str().map(PathBuf::from))
                .with_context(|| format!("cargo reported no {name} executable"))
        })
        .collect()
}

/// One kernel's result: the summary line and init's exit code.
struct KernelRun {
    line: String,
    passed: bool,
    took: Duration,
}

fn run_kernel(
    a: &VmArch,
    dir: &Path,
    elf: &Path,
    summary: &str,
    timeout: Duration,
) -> Result<KernelRun> {
    let start = Instant::now();
    let run = boot_as_init(a, &dir.join("kernel"), elf, timeout)?;
    let took = start.elapsed();
    // The guest's own report, for the log.
    for l in run.stdout.lines().filter(|l| l.starts_with("  ")) {
        eprintln!("{l}");
    }
    // The last such line: the family test also opens with its name.
    let Some(line) = run.stdout.lines().rfind(|l| l.starts_with(summary)) else {
        bail!(
            "no `{summary}…` line (init exit {:?}); last console output:\n{}",
            run.code,
            last_lines(&run.stdout, 12)
        );
    };
    Ok(KernelRun {
        line: line.to_string(),
        passed: run.code == Some(0),
        took,
    })
}

/// `cargo xtask differential`.
pub fn run(args: Args) -> Result<()> {
    let names: Vec<&str> = match args.kernel.as_str() {
        "all" => AMD64_SERIES.to_vec(),
        list => list.split(',').map(str::trim).collect(),
    };
    let mut series = Vec::new();
    for n in &names {
        match SERIES.iter().find(|s| s.name == *n) {
            Some(s) if AMD64_SERIES.contains(n) => series.push(*s),
            _ => bail!("unknown amd64 kernel series {n:?}; known: bookworm, backports, sid, all"),
        }
    }
    // PVM (kvm_pvm) runs only guests built for it: a stock Debian kernel hangs before its
    // first console line there.
    let (kvm, why) = match crate::qemu::kvm_usable() {
        Ok(crate::qemu::Kvm::Hardware) => (true, String::new()),
        Ok(crate::qemu::Kvm::Pvm) => (
            false,
            " (/dev/kvm is PVM, which boots no stock kernel)".into(),
        ),
        Err(e) => (false, format!(" ({e})")),
    };
    let small = match args.sample.as_str() {
        "auto" => !kvm,
        "small" => true,
        "full" => false,
        other => bail!("--sample is auto, small or full, not {other:?}"),
    };
    let wanted: Vec<bool> = match args.tests.as_str() {
        "all" => vec![true, true],
        "kernel" => vec![true, false],
        "family" => vec![false, true],
        other => bail!("--tests is all, kernel or family, not {other:?}"),
    };
    let kernels = kernel_dir();
    for s in &series {
        let k = kernels.join(format!("amd64{}", s.suffix)).join("kernel");
        if !k.is_file() {
            bail!(
                "missing the amd64{} kernel ({}); run ci/install.sh",
                s.suffix,
                k.display()
            );
        }
    }
    eprintln!(
        "differential: {} guest{why}, {} sample",
        if kvm { "KVM" } else { "TCG" },
        if small { "small" } else { "full" }
    );
    let elfs = build_static_tests()?;
    let a = machine(kvm, small);
    let timeout = Duration::from_secs(args.timeout);
    let mut failed = 0;
    for s in &series {
        let dir = kernels.join(format!("amd64{}", s.suffix));
        for (((name, summary), elf), _) in TESTS
            .iter()
            .zip(&elfs)
            .zip(&wanted)
            .filter(|(_, want)| **want)
        {
            match run_kernel(&a, &dir, elf, summary, timeout) {
                Ok(r) => {
                    println!(
                        "{}   [{}, {:.0}s]",
                        r.line,
                        if r.passed { "ok" } else { "FAILED" },
                        r.took.as_secs_f64()
                    );
                    failed += usize::from(!r.passed);
                }
                Err(e) => {
                    println!("{name} in amd64{}: ERROR: {e:#}", s.suffix);
                    failed += 1;
                }
            }
        }
    }
    if failed > 0 {
        bail!("cargo xtask differential: {failed} kernel(s) disagreed or did not finish");
    }
    Ok(())
}
