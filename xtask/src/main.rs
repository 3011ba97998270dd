//! `cargo xtask`: the one entry point for building, testing and explaining clone-core.
//!
//! Each subcommand lives in its own module with an `Args` (clap) and a `run`. `test` runs every
//! suite that exists and fails if any fails.
//!
//! Exit status: 0 on success; 1 when something ran and failed (a suite, a boot, or with
//! `explain --exit-code` a call Linux refuses); 2 for a mistake in what was asked (clap's own
//! usage errors, and [`UsageError`]). An error is one `error: …` line on stderr, never a
//! backtrace, whatever `RUST_BACKTRACE` says.
#![allow(missing_docs)]

mod build;
mod differential;
mod fuzz;
mod hppa;
mod junit;
mod lean;
mod lint;
mod linux;
mod linux_vm;
mod programs;
mod programs_bench;
mod programs_vm;
mod qemu;
mod runner;
mod selftests;
mod targets;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{UsageError, explain};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "clone-core build, test and explain tasks"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print Linux's answer for a clone, clone3, unshare, setns, fork or vfork request.
    Explain(Box<explain::Args>),
    /// Run every test suite (host unit/property tests, the real-kernel differential test,
    /// the libc-free conformance program on every arch, and the kernel stub in QEMU).
    Test(test::Args),
    /// rustfmt, clippy, rustdoc (warnings denied, also for a bare-metal target) and actionlint.
    Lint(lint::Args),
    /// Generate the custom target JSON files in targets/ (or check them with --check).
    Targets(targets::Args),
    /// The kernel face's exact costs: no panic path linked, `.text` size, instructions per call.
    Lean(lean::Args),
    /// Run the cargo-fuzz targets in fuzz/ for N seconds each (default 60).
    Fuzz(fuzz::Args),
    /// Build and run the libc-free conformance program natively and under qemu-user.
    Linux(linux::Args),
    /// Run the conformance program as /init of real Debian kernels in qemu-system
    /// (arm64 for aarch64 and armv7, s390x, ppc64el, mips64el, riscv64, loong64).
    LinuxVm(linux_vm::Args),
    /// Run the kernel differential test as /init of Debian's x86_64 kernels (6.1, 6.12, 7.x)
    /// in qemu-system, KVM when usable.
    Differential(differential::Args),
    /// Build and boot the kernel stub in QEMU, classify each run.
    Qemu(qemu::Args),
    /// Quick-start demo: boot the kernel stub and show threads being cloned and joined.
    Run(qemu::RunArgs),
    /// Build the suite programs (kernel-stub/programs) with the distribution's toolchains, run
    /// each on Linux and in the kernel stub, compare their output line by line.
    Programs(programs::Args),
}

fn dispatch(cmd: Cmd) -> anyhow::Result<ExitCode> {
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    match cmd {
        Cmd::Explain(args) => explain::run(*args),
        Cmd::Test(args) => done(test::run(args)),
        Cmd::Targets(args) => done(targets::run(args)),
        Cmd::Lean(args) => done(lean::run(args)),
        Cmd::Fuzz(args) => done(fuzz::run(args)),
        Cmd::Lint(args) => done(lint::run(args)),
        Cmd::Linux(args) => done(linux::run(args)),
        Cmd::LinuxVm(args) => done(linux_vm::run(args)),
        Cmd::Differential(args) => done(differential::run(args)),
        Cmd::Qemu(args) => done(qemu::run(args)),
        Cmd::Run(args) => done(qemu::run_demo(args)),
        Cmd::Programs(args) => done(programs::run(args)),
    }
}

/// The one line an error prints: its chain joined by `: ` and without line breaks, never a
/// backtrace (`{:#}` does not print one; only `{:?}` would).
fn error_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    match dispatch(Cli::parse().cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
