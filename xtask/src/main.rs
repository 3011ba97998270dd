//! `cargo xtask`: the one entry point for building, testing and explaining clone-core.
//!
//! Each subcommand lives in its own module with an `Args` (clap) and a `run`. `test` runs every
//! suite that exists and fails if any fails.
#![allow(missing_docs)]

mod build;
mod differential;
mod fuzz;
mod hppa;
mod lean;
mod linux;
mod linux_vm;
mod qemu;
mod runner;
mod targets;
mod test;

use clap::{Parser, Subcommand};
use xtask::explain;

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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Explain(args) => explain::run(*args),
        Cmd::Test(args) => test::run(args),
        Cmd::Targets(args) => targets::run(args),
        Cmd::Lean(args) => lean::run(args),
        Cmd::Fuzz(args) => fuzz::run(args),
        Cmd::Linux(args) => linux::run(args),
        Cmd::LinuxVm(args) => linux_vm::run(args),
        Cmd::Differential(args) => differential::run(args),
        Cmd::Qemu(args) => qemu::run(args),
        Cmd::Run(args) => qemu::run_demo(args),
    }
}
