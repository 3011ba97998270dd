//! `cargo xtask programs --bench`: what starting and reaping a thread costs against a
//! process (issue 8, "How it must be proven"), the same binary on Linux and in the stub.
//!
//! `kernel-stub/programs/bench/spawn-bench.c` (outside the compared suite: its output is
//! timings) is built with each installed x86_64 toolchain as the suite is, then run natively
//! pinned to one CPU (`taskset -c 0`) and unpinned, and in the stub (QEMU TCG, one vCPU). The
//! program itself measures interleaved rounds and prints the median and min/max; this prints
//! them as one table. It is a figure, never a pass/fail threshold: nothing here gates on wall
//! time, and `cargo xtask test` does not run it. Under TCG the absolute times are emulation
//! times; what compares across rows is the ratio fork / pthread within one row.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::build::{build_std_with, cross_dir, project_root, sh};
use crate::programs::{Program, parse_stub_log, toolchains};
use crate::qemu::{Accel, StubArch};

/// The benchmark's source, relative to the root.
const SOURCE: &str = "kernel-stub/programs/bench/spawn-bench.c";

/// One `bench <name> median=M min=A max=B` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Figure {
    median: i64,
    min: i64,
    max: i64,
}

/// What one run of the benchmark reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Result3 {
    /// ns per pthread_create + pthread_join.
    pthread: Figure,
    /// ns per fork + waitpid.
    fork: Figure,
    /// fork / pthread per round, x1000.
    ratio: Figure,
}

/// Reads the program's `bench` lines; `None` if one is missing or malformed.
fn parse(lines: &[String]) -> Option<Result3> {
    let figure = |name: &str| -> Option<Figure> {
        let line = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("bench {name} ")))?;
        let value = |key: &str| -> Option<i64> {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))?
                .parse()
                .ok()
        };
        Some(Figure {
            median: value("median=")?,
            min: value("min=")?,
            max: value("max=")?,
        })
    };
    Some(Result3 {
        pthread: figure("pthread_create+join_ns")?,
        fork: figure("fork+waitpid_ns")?,
        ratio: figure("fork_per_pthread_x1000")?,
    })
}

/// Builds the benchmark with every installed x86_64 toolchain.
fn build(libcs: &[String]) -> Result<Vec<Program>> {
    let out = cross_dir().join("programs-bench");
    std::fs::create_dir_all(&out)?;
    let src = project_root().join(SOURCE);
    let mut programs = Vec::new();
    for tc in toolchains(StubArch::X86_64)? {
        if !libcs.is_empty() && !libcs.iter().any(|l| l == tc.libc) {
            continue;
        }
        if let Some(why) = &tc.missing {
            println!("   {}: {why}; skipped", tc.libc);
            continue;
        }
        let name = format!("spawn-bench-{}", tc.libc);
        let path = out.join(&name);
        let mut cmd = Command::new(&tc.cc);
        cmd.args(&tc.flags).arg("-o").arg(&path).arg(&src);
        eprintln!("$ {cmd:?}");
        if !cmd
            .status()
            .with_context(|| format!("running {}", tc.cc))?
            .success()
        {
            bail!("{} failed to build {}", tc.cc, src.display());
        }
        programs.push(Program { name, path });
    }
    Ok(programs)
}

/// Runs `p` natively (under `taskset -c 0` if `pinned`) with an empty environment, killed by
/// coreutils' `timeout` after `timeout`.
fn run_native(p: &Program, pinned: bool, timeout: Duration) -> Result<Result3> {
    let mut cmd = Command::new("timeout");
    cmd.arg(timeout.as_secs().to_string());
    if pinned {
        cmd.args(["taskset", "-c", "0"]);
    }
    cmd.arg(&p.path).env_clear();
    eprintln!("$ {cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("running {}", p.name))?;
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if !out.status.success() {
        bail!("{} failed on Linux ({}): {lines:?}", p.name, out.status);
    }
    parse(&lines).with_context(|| format!("{} printed no figures: {lines:?}", p.name))
}

/// µs with one decimal, from ns.
fn us(ns: i64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

/// One table row.
fn row(env: &str, libc: &str, r: &Result3) {
    let f = |x: &Figure| format!("{} ({}–{})", us(x.median), us(x.min), us(x.max));
    let ratio = |x: i64| format!("{:.2}", x as f64 / 1000.0);
    println!(
        "   | {env} | {libc} | {} | {} | {} ({}–{}) |",
        f(&r.pthread),
        f(&r.fork),
        ratio(r.ratio.median),
        ratio(r.ratio.min),
        ratio(r.ratio.max)
    );
}

/// `cargo xtask programs --bench`: x86_64 only (Linux runs natively).
pub fn run(arches: &[StubArch], libcs: &[String], timeout: Duration, live: bool) -> Result<()> {
    if arches != [StubArch::X86_64] {
        return Err(xtask::UsageError::error(
            "--bench runs on x86_64 only (its Linux side runs natively)".to_string(),
        ));
    }
    println!("\n== spawn benchmark on x86_64 ({SOURCE})");
    let programs = build(libcs)?;
    if programs.is_empty() {
        println!("   no toolchain installed: nothing to run");
        return Ok(());
    }
    // Native first, pinned then unpinned per binary.
    let mut native = Vec::new();
    for p in &programs {
        for pinned in [true, false] {
            native.push((p, pinned, run_native(p, pinned, timeout)?));
        }
    }

    let sh = sh()?;
    let list = programs
        .iter()
        .map(|p| format!("{}={}", p.name, p.path.display()))
        .collect::<Vec<_>>()
        .join(",");
    sh.set_var("KERNEL_STUB_PROGRAMS", &list);
    sh.set_var("KERNEL_STUB_PROGRAM_ROUNDS", "1");
    let kernel = build_std_with(
        &sh,
        "kernel-stub",
        "kernel-stub",
        "x86_64-kernel-stub",
        &[],
        &[],
        Some("kernel-programs"),
    )?;
    let report = crate::qemu::boot(StubArch::X86_64, &kernel, Accel::Tcg, timeout, live)?;
    let log_path: PathBuf = report.log.with_file_name("programs-bench-x86_64.log");
    std::fs::rename(&report.log, &log_path)?;
    let log = std::fs::read_to_string(&log_path)?;
    let stub = parse_stub_log(&log, &programs, 0);

    println!(
        "   µs per cycle: median of the rounds (min–max); fork/pthread: median of the per-round ratios"
    );
    println!("   | environment | libc | pthread_create + join | fork + waitpid | fork / pthread |");
    println!("   |---|---|---|---|---|");
    for (p, pinned, r) in &native {
        let env = if *pinned {
            "Linux native, `taskset -c 0`"
        } else {
            "Linux native, unpinned"
        };
        row(env, libc_of(p), r);
    }
    let mut ok = true;
    for (p, (run, _notes)) in programs.iter().zip(&stub) {
        match run
            .as_ref()
            .filter(|r| r.status == "0")
            .and_then(|r| parse(&r.lines))
        {
            Some(r) => row("stub, TCG, one vCPU", libc_of(p), &r),
            None => {
                println!("   {}: no figures from the stub ({run:?})", p.name);
                ok = false;
            }
        }
    }
    println!("   console log: {}", log_path.display());
    if !ok {
        bail!("the benchmark did not finish in the stub");
    }
    Ok(())
}

/// The libc part of a benchmark binary's name.
fn libc_of(p: &Program) -> &str {
    p.name.rsplit('-').next().unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_are_parsed() {
        let lines: Vec<String> = [
            "bench rounds=3 n=100",
            "bench pthread_create+join_ns median=45696 min=42354 max=46780",
            "bench fork+waitpid_ns median=74457 min=74009 max=79501",
            "bench fork_per_pthread_x1000 median=1699 min=1619 max=1757",
        ]
        .map(str::to_string)
        .to_vec();
        let r = parse(&lines).expect("parsed");
        assert_eq!(r.pthread.median, 45696);
        assert_eq!(r.fork.max, 79501);
        assert_eq!(r.ratio.min, 1619);
        assert!(parse(&lines[..3]).is_none(), "a missing line is no result");
    }
}
