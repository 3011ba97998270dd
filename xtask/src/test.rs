//! `cargo xtask test`: every suite that exists, in order, with a summary.
//!
//! Each suite runs as its own process (cargo, or this xtask's own subcommands), so one failing
//! suite does not hide the others; the run fails at the end if any failed. The last line is
//! `xtask test: N passed, M failed` over suites.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::build::project_root;

/// Options for the full test run.
#[derive(clap::Args)]
pub struct Args {
    /// Run only the suites whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// The whole real-kernel version matrix: every Debian kernel per arch for the conformance
    /// program and both differential tests in all three x86_64 kernels (CI runs the default:
    /// the oldest and newest kernel per arch, the clone/clone3 differential test in 6.1 and 7.x),
    /// and `cargo xtask programs` on aarch64 and riscv64 too (the default: x86_64 only).
    #[arg(long)]
    full: bool,
    /// Also write a JUnit XML report here: one testcase per suite and per arch case.
    #[arg(long)]
    junit: Option<std::path::PathBuf>,
}

/// One suite: a name for the summary and the command that runs it.
struct Suite {
    name: &'static str,
    program: String,
    args: Vec<String>,
}

fn suite(name: &'static str, program: &str, args: &[&str]) -> Suite {
    Suite {
        name,
        program: program.to_owned(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

fn suites(full: bool) -> Result<Vec<Suite>> {
    let xtask = std::env::current_exe()?.to_string_lossy().into_owned();
    let mut all = vec![
        // The pure logic's promise: stable Rust, host tests including the real-kernel
        // differential test (it prints its case counts).
        suite(
            "clone-core tests (stable)",
            "cargo",
            &["+stable", "test", "-p", "clone-core"],
        ),
    ];
    // clone-core/examples/: built and run (they assert what they print).
    for example in ["thread", "kernel_face"] {
        all.push(Suite {
            name: "examples",
            program: "cargo".into(),
            args: ["+stable", "run", "-p", "clone-core", "--example", example]
                .map(String::from)
                .to_vec(),
        });
    }
    for target in [
        "x86_64-unknown-none",
        "aarch64-unknown-none",
        "riscv64gc-unknown-none-elf",
    ] {
        all.push(Suite {
            name: "clone-core bare-metal build (stable)",
            program: "cargo".into(),
            args: ["+stable", "build", "-p", "clone-core", "--target", target]
                .map(String::from)
                .to_vec(),
        });
    }
    all.extend([
        suite("xtask tests", "cargo", &["test", "-p", "xtask"]),
        // The kernel face's exact gates: no panic path, .text size, callgrind instructions per
        // call.
        suite(
            "lean kernel face (panic, size, instructions)",
            &xtask,
            &["lean"],
        ),
        // Every kept fuzz input (corpus and regressions) through the targets' invariants, on
        // stable without libFuzzer; then each libFuzzer target for a short, bounded time.
        suite(
            "fuzz corpus and regressions replay (stable)",
            "cargo",
            &[
                "+stable",
                "test",
                "--manifest-path",
                "fuzz/Cargo.toml",
                "-p",
                "clone-core-fuzz-check",
            ],
        ),
        suite(
            "fuzz targets (20 s each)",
            &xtask,
            &["fuzz", "--seconds", "20"],
        ),
        suite("lint (fmt, clippy, doc, actionlint)", &xtask, &["lint"]),
        suite(
            "target specs match the pinned nightly",
            &xtask,
            &["targets", "--check"],
        ),
        suite(
            "conformance on Linux (native + qemu-user)",
            &xtask,
            &["linux", "--arch", "all"],
        ),
        // clone3, vfork and the errno oracle on arches qemu-user cannot answer for: Debian's
        // kernels (fetched by ci/install.sh) with the conformance program as /init.
        suite(
            "conformance on real Linux kernels (qemu-system)",
            &xtask,
            &[
                "linux-vm",
                "--arch",
                "all",
                "--kernel",
                if full { "all" } else { "default" },
            ],
        ),
        // The version thresholds of the Policy, checked by a kernel of that version: the
        // clone/clone3 differential test as /init of Debian's x86_64 6.1 and 7.x (about 4
        // minutes and 1.5 minutes under TCG with the small sample); --full adds 6.12 and the
        // family test.
        suite(
            "differential tests in Debian x86_64 kernels (qemu-system)",
            &xtask,
            &if full {
                ["differential", "--kernel", "all", "--tests", "all"]
            } else {
                [
                    "differential",
                    "--kernel",
                    "bookworm,sid",
                    "--tests",
                    "kernel",
                ]
            },
        ),
        // x86_64 under KVM and TCG (same case lines required) when /dev/kvm is hardware.
        suite(
            "kernel stub in QEMU",
            &xtask,
            &["qemu", "--arch", "all", "--accel", "both"],
        ),
        // Static musl and glibc programs and the kernel's clone3 selftests, on Linux and in
        // the stub, output compared: x86_64 against native Linux. aarch64 and riscv64 (against
        // their Debian kernels in qemu-system) only with --full: measured from a fresh target
        // dir on 2 cores, aarch64 165 s at load 8 (127 s of it the programs kernel's
        // build-std build, 25 s the Linux boot), riscv64 106 s at load 5 (78 s, 20 s): together
        // about 4.5 minutes.
        if full {
            suite(
                "libc programs in the kernel stub (all arches, vs Linux)",
                &xtask,
                &["programs", "--arch", "all"],
            )
        } else {
            suite(
                "libc programs in the kernel stub (x86_64, vs native Linux)",
                &xtask,
                &["programs", "--arch", "x86_64"],
            )
        },
    ]);
    Ok(all)
}

/// Runs all suites; fails at the end if any failed.
pub fn run(args: Args) -> Result<()> {
    let root = project_root();
    let mut results = Vec::new();
    let mut reports = Vec::new();
    for s in suites(args.full)? {
        if args.only.as_deref().is_some_and(|o| !s.name.contains(o)) {
            continue;
        }
        eprintln!("\n=== {} ===\n$ {} {}", s.name, s.program, s.args.join(" "));
        let start = Instant::now();
        let mut cmd = Command::new(&s.program);
        let case_log = std::env::temp_dir().join(format!("xtask-cases-{}", std::process::id()));
        let _ = std::fs::remove_file(&case_log);
        cmd.args(&s.args)
            .current_dir(&root)
            .env(crate::junit::CASE_LOG_ENV, &case_log);
        if s.program == "cargo" {
            // The outer `cargo xtask` exports variables (RUSTC, CARGO_*…) that would pin the
            // inner cargo to the xtask's own toolchain; `+stable` must pick its own.
            for (k, _) in std::env::vars() {
                if k == "RUSTC"
                    || k == "RUSTDOC"
                    || (k.starts_with("CARGO_") && k != "CARGO_TARGET_DIR")
                    || k == "RUSTUP_TOOLCHAIN"
                {
                    cmd.env_remove(k);
                }
            }
        }
        let ok = cmd.status().map(|st| st.success()).unwrap_or(false);
        let cases = std::fs::read_to_string(&case_log).unwrap_or_default();
        let _ = std::fs::remove_file(&case_log);
        results.push((s.name, s.args.join(" "), ok, start.elapsed()));
        reports.push(crate::junit::SuiteResult {
            name: s.name.to_string(),
            command: format!("{} {}", s.program, s.args.join(" ")),
            ok,
            took: start.elapsed(),
            cases: crate::junit::read_cases(&cases),
        });
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, crate::junit::render(&reports))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("\n=== summary ===");
    for (name, args, ok, took) in &results {
        eprintln!(
            "{:<6} {name} ({args}) [{:.1}s]",
            if *ok { "ok" } else { "FAILED" },
            took.as_secs_f64()
        );
    }
    let failed = results.iter().filter(|r| !r.2).count();
    println!(
        "xtask test: {} passed, {failed} failed",
        results.len() - failed
    );
    if failed > 0 {
        bail!("{failed} suite(s) failed");
    }
    Ok(())
}
