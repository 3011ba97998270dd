//! `cargo xtask programs [--arch x86_64]`: ordinary Linux programs, built with the
//! distribution's own toolchains, run unmodified on Linux and in the kernel stub, their output
//! compared line by line (issue 8).
//!
//! The suite is `kernel-stub/programs/*.c`. Each source is built static and non-PIE with every
//! toolchain of the arch that is installed (x86_64: `musl-gcc` from musl-tools, and the
//! system `gcc` with glibc), giving one binary per (program, libc), named
//! `<program>-<libc>`. The same binary then runs:
//!
//! * on Linux: natively on an x86_64 host, by its path (argv[0], so a program can run itself
//!   again), with an empty environment and stdin from /dev/null;
//! * in the stub: every binary of the arch embedded in one kernel image
//!   (`KERNEL_STUB_PROGRAMS`), which runs them one after another as `/bin/<name>` (argv[0],
//!   the path `execve` finds it at) with an empty environment; QEMU under TCG.
//!
//! A program passes when its stdout lines and its exit status are the same in both. The
//! kernel's own lines inside a program's run (`kernel-stub: syscall ... is not implemented`)
//! are not program output; they are listed under the table.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{build_std_with, cross_dir, project_root, sh};
use crate::qemu::{Accel, StubArch, StubArchArg};
use crate::runner::{on_path, value_names};

/// Where the suite's sources are.
const SOURCES: &str = "kernel-stub/programs";

/// Options for `cargo xtask programs`.
#[derive(clap::Args)]
pub struct Args {
    /// Which arches (comma-separated, or `all`). x86_64 runs natively on Linux; aarch64 and
    /// riscv64 on the arch's Debian kernel in qemu-system (TCG).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "x86_64")]
    pub arch: Vec<StubArchArg>,
    /// Seconds before QEMU (or a native run) is killed.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Print the stub's console live.
    #[arg(long)]
    pub verbose: bool,
    /// Only these libcs (comma-separated: musl, glibc); all installed ones by default.
    #[arg(long, value_delimiter = ',')]
    pub libc: Vec<String>,
    /// Run the whole suite this many times in one boot; every round must match Linux, and the
    /// kernel's heap and frame counts must be back at their start after the last.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Instead of the suite, run the spawn benchmark (`kernel-stub/programs/bench/`:
    /// pthread_create + join against fork + waitpid) natively and in the stub and print a
    /// table of timings (x86_64 only; a figure, not a test).
    #[arg(long)]
    pub bench: bool,
}

/// A C toolchain: a driver and the flags for a static, non-PIE executable.
pub(crate) struct Toolchain {
    /// The libc, as it appears in program names.
    pub(crate) libc: &'static str,
    /// The compiler driver.
    pub(crate) cc: String,
    /// Flags before the source.
    pub(crate) flags: Vec<String>,
    /// Why it cannot be used here (not installed), if so.
    pub(crate) missing: Option<String>,
}

/// Where `ci/install.sh` unpacks trixie's musl-dev for arm64 and riscv64.
fn musl_dir() -> PathBuf {
    std::env::var_os("CLONE_CORE_MUSL").map_or_else(
        || PathBuf::from("/var/cache/clone-core/musl"),
        PathBuf::from,
    )
}

/// The toolchains for `arch` (installed or not). x86_64: musl-tools' `musl-gcc` and the
/// system gcc with glibc. aarch64 and riscv64: Debian's cross gcc with its static glibc
/// (`libc6-dev-*-cross`), and the same gcc with the musl of trixie's `musl-dev` for that arch
/// through the package's own `musl-gcc.specs`, its paths pointed at where `ci/install.sh`
/// unpacked it (written next to the binaries).
pub(crate) fn toolchains(arch: StubArch) -> Result<Vec<Toolchain>> {
    let strs = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let installed = |cc: &str| (!on_path(cc)).then(|| format!("{cc} not installed"));
    let (triple, deb) = match arch {
        StubArch::X86_64 => {
            return Ok(vec![
                Toolchain {
                    libc: "musl",
                    cc: "musl-gcc".into(),
                    flags: strs(&["-static", "-O2", "-pthread"]),
                    missing: installed("musl-gcc"),
                },
                Toolchain {
                    libc: "glibc",
                    cc: "gcc".into(),
                    flags: strs(&["-static", "-no-pie", "-O2", "-pthread"]),
                    missing: installed("gcc"),
                },
            ]);
        }
        StubArch::Aarch64 => ("aarch64", "arm64"),
        StubArch::Riscv64 => ("riscv64", "riscv64"),
    };
    let cc = format!("{triple}-linux-gnu-gcc");
    let musl = musl_dir().join(deb);
    let lib = musl.join(format!("usr/lib/{triple}-linux-musl"));
    let include = musl.join(format!("usr/include/{triple}-linux-musl"));
    let specs = cross_dir()
        .join("programs")
        .join(arch.name())
        .join("musl-gcc.specs");
    let musl_missing = match std::fs::read_to_string(lib.join("musl-gcc.specs")) {
        Ok(text) => {
            let text = text
                .replace(
                    &format!("/usr/lib/{triple}-linux-musl"),
                    &lib.display().to_string(),
                )
                .replace(
                    &format!("/usr/include/{triple}-linux-musl"),
                    &include.display().to_string(),
                );
            std::fs::create_dir_all(specs.parent().context("specs dir")?)?;
            std::fs::write(&specs, text)?;
            installed(&cc)
        }
        Err(_) => Some(format!("musl-dev:{deb} not unpacked in {}", musl.display())),
    };
    Ok(vec![
        Toolchain {
            libc: "musl",
            cc: cc.clone(),
            flags: vec![
                "-specs".into(),
                specs.display().to_string(),
                "-static".into(),
                "-O2".into(),
                "-pthread".into(),
            ],
            missing: musl_missing,
        },
        Toolchain {
            libc: "glibc",
            cc: cc.clone(),
            flags: strs(&["-static", "-no-pie", "-O2", "-pthread"]),
            missing: installed(&cc),
        },
    ])
}

/// One built program.
pub(crate) struct Program {
    /// `<source stem>-<libc>`.
    pub(crate) name: String,
    pub(crate) path: PathBuf,
}

/// The suite's sources, sorted.
fn sources() -> Result<Vec<PathBuf>> {
    let dir = project_root().join(SOURCES);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    v.sort();
    Ok(v)
}

/// Builds every source with every installed toolchain of `arch`.
fn build_programs(arch: StubArch, libcs: &[String]) -> Result<Vec<Program>> {
    let out = cross_dir().join("programs").join(arch.name());
    std::fs::create_dir_all(&out)?;
    let mut programs = Vec::new();
    if crate::selftests::sources().is_ok() {
        println!(
            "   clone3 selftests: linux-source-6.12 {}",
            crate::selftests::version()
        );
    }
    for tc in toolchains(arch)? {
        if !libcs.is_empty() && !libcs.iter().any(|l| l == tc.libc) {
            continue;
        }
        if let Some(why) = &tc.missing {
            println!(
                "   {}: {why} (ci/install.sh installs it); its programs are skipped",
                tc.libc
            );
            continue;
        }
        // The suite's own programs, then the kernel's clone3 selftests (`crate::selftests`).
        let selftests = match crate::selftests::sources() {
            Ok(v) => v,
            Err(why) => {
                println!("   clone3 selftests: {why}; not built");
                Vec::new()
            }
        };
        let selftest_flags = crate::selftests::flags(arch, tc.libc)?;
        let all = sources()?
            .into_iter()
            .map(|s| (s, &[][..]))
            .chain(selftests.into_iter().map(|s| (s, &selftest_flags[..])));
        for (src, extra) in all {
            let stem = src
                .file_stem()
                .and_then(|s| s.to_str())
                .context("source name")?;
            let name = format!("{stem}-{}", tc.libc);
            let path = out.join(&name);
            let mut cmd = Command::new(&tc.cc);
            cmd.args(&tc.flags)
                .args(extra)
                .arg("-o")
                .arg(&path)
                .arg(&src);
            eprintln!("$ {cmd:?}");
            let st = cmd.status().with_context(|| format!("running {}", tc.cc))?;
            if !st.success() {
                bail!("{} failed to build {}", tc.cc, src.display());
            }
            programs.push(Program { name, path });
        }
    }
    programs.extend(rust_std(arch, libcs, &out)?);
    Ok(programs)
}

/// The Rust std program (`kernel-stub/programs/rust-std/main.rs`, issue 8 item 3(d)), built
/// by the pinned toolchain's `rustc` for each Linux target of `arch` whose std rustup has
/// installed (`ci/install.sh` adds them), static and non-PIE; named `rust-std-<libc>`.
fn rust_std(arch: StubArch, libcs: &[String], out: &std::path::Path) -> Result<Vec<Program>> {
    // (libc, target, linker): the linker is the gcc that links the C programs of that arch
    // (its GNU ld, default script); rustc's musl targets bring their own crt objects and
    // libc.a (self-contained), so the cross gcc only drives ld for them. riscv64 has none:
    // the rustup distribution this machine reaches lists no riscv64gc-unknown-linux-* std
    // (`rustup target list`: only riscv64gc-unknown-none-elf), see kernel-stub/README.md.
    let targets: &[(&str, &str, &str)] = match arch {
        StubArch::X86_64 => &[
            ("glibc", "x86_64-unknown-linux-gnu", "cc"),
            ("musl", "x86_64-unknown-linux-musl", "cc"),
        ],
        StubArch::Aarch64 => &[
            (
                "glibc",
                "aarch64-unknown-linux-gnu",
                "aarch64-linux-gnu-gcc",
            ),
            (
                "musl",
                "aarch64-unknown-linux-musl",
                "aarch64-linux-gnu-gcc",
            ),
        ],
        StubArch::Riscv64 => &[],
    };
    let src = project_root().join(SOURCES).join("rust-std/main.rs");
    let sysroot = Command::new("rustc")
        .current_dir(project_root())
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let mut programs = Vec::new();
    for (libc, target, linker) in targets {
        if !libcs.is_empty() && !libcs.iter().any(|l| l == libc) {
            continue;
        }
        if !sysroot
            .join("lib/rustlib")
            .join(target)
            .join("lib")
            .is_dir()
        {
            println!(
                "   rust-std-{libc}: the {target} std is not installed (ci/install.sh adds it); skipped"
            );
            continue;
        }
        if !on_path(linker) {
            println!("   rust-std-{libc}: {linker} not installed (ci/install.sh adds it); skipped");
            continue;
        }
        let name = format!("rust-std-{libc}");
        let path = out.join(&name);
        let mut cmd = Command::new("rustc");
        cmd.current_dir(project_root())
            .args(["--edition", "2021", "-O", "--target", target])
            .arg(format!("-Clinker={linker}"))
            .args([
                "-C",
                "target-feature=+crt-static",
                "-C",
                "relocation-model=static",
            ])
            // GNU ld, as the C programs link: it puts a static executable at 0x400000 on
            // x86_64 and aarch64, where the stub's user region starts; rust-lld (the x86_64
            // gnu target's default linker) puts it at 0x200000. glibc's static-linking notes (getaddrinfo, getpwuid_r) are
            // not errors.
            .args(["-C", "link-arg=-fuse-ld=bfd", "-A", "linker_messages"])
            .arg("-o")
            .arg(&path)
            .arg(&src);
        eprintln!("$ {cmd:?}");
        let start = Instant::now();
        let st = cmd.status().context("running rustc")?;
        if !st.success() {
            bail!("rustc failed to build {} for {target}", src.display());
        }
        println!("   {name}: built in {:.1} s", start.elapsed().as_secs_f64());
        programs.push(Program { name, path });
    }
    Ok(programs)
}

/// What one run of a program printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) lines: Vec<String>,
    /// Exit status, or a description of how it did not exit.
    pub(crate) status: String,
}

/// Runs `p` natively by its path with an empty environment. Its stdin is a pipe nobody
/// writes, held open until it exits: like the stub's console, it has no input and no end
/// (a read waits, an `O_NONBLOCK` read is EAGAIN).
fn run_native(p: &Program, timeout: Duration) -> Result<Run> {
    use std::os::unix::process::ExitStatusExt as _;
    let out = std::env::temp_dir().join(format!(
        "clone-core-program-{}-{}",
        p.name,
        std::process::id()
    ));
    let mut cmd = Command::new(&p.path);
    cmd.env_clear()
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out)?)
        .stderr(Stdio::inherit());
    eprintln!("$ {} (empty environment)", p.path.display());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", p.path.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} timed out on Linux", p.name);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let status = match (status.code(), status.signal()) {
        (Some(c), _) => c.to_string(),
        (None, Some(s)) => format!("signal {s}"),
        _ => "?".into(),
    };
    Ok(Run {
        lines: text.lines().map(str::to_string).collect(),
        status,
    })
}

/// The Linux side: on x86_64 each program natively; elsewhere all of them as one boot of the
/// arch's Debian kernel (`crate::programs_vm`). Returns a label for the table and one run per
/// program (a program without a result there is an error: Linux's output is the reference).
fn linux_runs(
    arch: StubArch,
    programs: &[Program],
    timeout: Duration,
) -> Result<(String, Vec<Run>)> {
    if arch == StubArch::X86_64 {
        let runs = programs
            .iter()
            .map(|p| run_native(p, timeout))
            .collect::<Result<Vec<_>>>()?;
        return Ok(("native (this host's kernel)".into(), runs));
    }
    let cc = format!("{}-linux-gnu-gcc", arch.name());
    let binaries: Vec<_> = programs
        .iter()
        .map(|p| crate::programs_vm::Binary {
            name: &p.name,
            path: &p.path,
        })
        .collect();
    // One boot runs them all: the per-program timeout times their number.
    let boot_timeout =
        timeout.max(Duration::from_secs(60)) * u32::try_from(programs.len()).unwrap_or(1);
    let (label, runs) = crate::programs_vm::run(arch.name(), &cc, &binaries, boot_timeout)?;
    let runs = programs
        .iter()
        .zip(runs)
        .map(|(p, r)| {
            r.map(|r| Run {
                lines: r.lines,
                status: r.status,
            })
            .with_context(|| format!("{} did not finish on Linux ({label})", p.name))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((label, runs))
}

/// What is compared of a run: all of it, but only the TAP report of a selftest
/// (`crate::selftests::tap`), whose other lines carry pids.
fn report(p: &Program, r: Run) -> Run {
    if !crate::selftests::is_selftest(&p.name) {
        return r;
    }
    Run {
        lines: crate::selftests::tap(&r.lines)
            .into_iter()
            .map(str::to_string)
            .collect(),
        status: r.status,
    }
}

/// [`parse_stub_log`] with each run cut to what is compared ([`report`]).
fn stub_runs(log: &str, programs: &[Program], round: usize) -> Vec<(Option<Run>, Vec<String>)> {
    parse_stub_log(log, programs, round)
        .into_iter()
        .zip(programs)
        .map(|((r, notes), p)| (r.map(|r| report(p, r)), notes))
        .collect()
}

/// The stub's runs in round `round` (0-based: the `round`-th run of each program), by program
/// name, from its console log; plus the kernel's own lines that fell inside each run.
pub(crate) fn parse_stub_log(
    log: &str,
    programs: &[Program],
    round: usize,
) -> Vec<(Option<Run>, Vec<String>)> {
    let lines: Vec<String> = log
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    programs
        .iter()
        .map(|p| {
            let start = format!("kernel-stub: running the {} program", p.name);
            let end = format!("kernel-stub: {} program exited with status ", p.name);
            let Some(from) = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.starts_with(&start))
                .nth(round)
                .map(|(i, _)| i)
            else {
                return (None, Vec::new());
            };
            let mut out = Vec::new();
            let mut notes = Vec::new();
            for l in &lines[from + 1..] {
                // A last line without its newline shares its line with the kernel's.
                let (text, kernel) = match l.find("kernel-stub: ") {
                    Some(0) => (None, Some(l.as_str())),
                    Some(i) => (Some(&l[..i]), Some(&l[i..])),
                    None => (Some(l.as_str()), None),
                };
                if let Some(t) = text {
                    out.push(t.to_string());
                }
                if let Some(k) = kernel {
                    if let Some(rest) = k.strip_prefix(&end) {
                        let status = rest.split_whitespace().next().unwrap_or("?").to_string();
                        let status = if status == "-1" {
                            "killed".to_string()
                        } else {
                            status
                        };
                        return (Some(Run { lines: out, status }), notes);
                    }
                    notes.push(k.to_string());
                }
            }
            (None, notes)
        })
        .collect()
}

/// Builds, runs and compares the suite on `arch`; `Ok(false)` if a program differs.
fn run_arch(
    arch: StubArch,
    libcs: &[String],
    repeat: usize,
    timeout: Duration,
    live: bool,
) -> Result<bool> {
    println!("\n== programs on {}", arch.name());
    let programs = build_programs(arch, libcs)?;
    if programs.is_empty() {
        println!("   no toolchain installed: nothing to run");
        return Ok(true);
    }
    let started = Instant::now();
    let (linux_label, native) = linux_runs(arch, &programs, timeout)?;
    let native: Vec<Run> = programs
        .iter()
        .zip(native)
        .map(|(p, r)| report(p, r))
        .collect();
    let linux_took = started.elapsed();

    let sh = sh()?;
    let list = programs
        .iter()
        .map(|p| format!("{}={}", p.name, p.path.display()))
        .collect::<Vec<_>>()
        .join(",");
    sh.set_var("KERNEL_STUB_PROGRAMS", &list);
    sh.set_var("KERNEL_STUB_PROGRAM_ROUNDS", repeat.to_string());
    let kernel = build_std_with(
        &sh,
        "kernel-stub",
        "kernel-stub",
        &format!("{}-kernel-stub", arch.name()),
        &[],
        &[],
        Some("kernel-programs"),
    )?;
    let boot_timeout = timeout * u32::try_from(repeat).unwrap_or(u32::MAX);
    let started = Instant::now();
    let report = crate::qemu::boot(arch, &kernel, Accel::Tcg, boot_timeout, live)?;
    let stub_took = started.elapsed();
    let log_path = report
        .log
        .with_file_name(format!("programs-{}.log", arch.name()));
    std::fs::rename(&report.log, &log_path)?;
    let log = std::fs::read_to_string(&log_path)?;
    let stub = stub_runs(&log, &programs, 0);

    println!(
        "   Linux: {linux_label}, {:.1} s; stub boot {:.1} s",
        linux_took.as_secs_f64(),
        stub_took.as_secs_f64()
    );
    println!(
        "   {:24} {:>16} {:>16}  result",
        "program", "Linux", "stub (TCG)"
    );
    let mut ok = true;
    let mut details = Vec::new();
    for ((p, linux), (stub_run, notes)) in programs.iter().zip(&native).zip(&stub) {
        let shown = |r: &Run| format!("{} lines, {}", r.lines.len(), r.status);
        let (stub_shown, verdict) = match stub_run {
            None => (
                "no result".to_string(),
                "DIFFERENT (did not finish)".to_string(),
            ),
            Some(s) if s == linux => (shown(s), "same".to_string()),
            Some(s) if crate::selftests::is_selftest(&p.name) => {
                use crate::selftests::{Verdict, judge};
                match judge(
                    &p.name,
                    (&linux.lines, &linux.status),
                    (&s.lines, &s.status),
                ) {
                    Verdict::Same => (shown(s), "same".to_string()),
                    Verdict::Documented(why) => {
                        for w in why {
                            details.push(format!("{}: documented as absent: {w}", p.name));
                        }
                        (shown(s), "documented absence".to_string())
                    }
                    Verdict::Different(what) => {
                        for w in what {
                            details.push(format!("{}: {w}", p.name));
                        }
                        (shown(s), "DIFFERENT".to_string())
                    }
                }
            }
            Some(s) => {
                let first = linux
                    .lines
                    .iter()
                    .zip(&s.lines)
                    .position(|(a, b)| a != b)
                    .unwrap_or(linux.lines.len().min(s.lines.len()));
                details.push(format!(
                    "{}: first difference at line {}: Linux {:?}, stub {:?}",
                    p.name,
                    first + 1,
                    linux.lines.get(first),
                    s.lines.get(first)
                ));
                (shown(s), "DIFFERENT".to_string())
            }
        };
        ok &= verdict == "same" || verdict == "documented absence";
        println!(
            "   {:24} {:>16} {:>16}  {verdict}",
            p.name,
            shown(linux),
            stub_shown
        );
        for n in notes {
            details.push(format!("{}: {n}", p.name));
        }
    }
    for d in details {
        println!("     - {d}");
    }
    if repeat > 1 {
        // A run passes as in the table: the same as on Linux, or a selftest whose only
        // differences are documented absences.
        let passing = |runs: &[(Option<Run>, Vec<String>)]| {
            runs.iter()
                .zip(&native)
                .zip(&programs)
                .filter(|(((r, _), linux), p)| match r {
                    Some(r) if r == *linux => true,
                    Some(r) if crate::selftests::is_selftest(&p.name) => matches!(
                        crate::selftests::judge(
                            &p.name,
                            (&linux.lines, &linux.status),
                            (&r.lines, &r.status)
                        ),
                        crate::selftests::Verdict::Documented(_)
                    ),
                    _ => false,
                })
                .count()
        };
        let mut same = 0;
        for round in 0..repeat {
            same += passing(&stub_runs(&log, &programs, round));
        }
        let total = repeat * programs.len();
        println!(
            "   {repeat} rounds in one boot: {same} of {total} runs print what Linux prints \
             (a selftest: but for its documented absences)"
        );
        // Round 1 may already differ (shown above); later rounds must not differ more.
        let first_round_same = passing(&stub);
        ok &= same == first_round_same * repeat;
    }
    // The kernel's balance over the whole boot (every round).
    for prefix in ["kernel-stub: heap used ", "kernel-stub: frames used "] {
        match log.lines().find(|l| l.starts_with(prefix)) {
            Some(line) => {
                let line = line.trim_end_matches('\r');
                let value = |key: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(key))
                        .map(str::to_string)
                };
                let balanced = value("before=").is_some() && value("before=") == value("after=");
                println!(
                    "   {}{}",
                    line.trim_start_matches("kernel-stub: "),
                    if balanced { "" } else { "  NOT BALANCED" }
                );
                ok &= balanced;
            }
            None => {
                println!("   no `{}` line: the kernel did not finish", prefix.trim());
                ok = false;
            }
        }
    }
    println!("   console log: {}", log_path.display());
    Ok(ok)
}

/// `cargo xtask programs`.
pub fn run(args: Args) -> Result<()> {
    let arches = StubArch::parse_list(&value_names(&args.arch))?;
    if let Some(l) = args
        .libc
        .iter()
        .find(|l| !["musl", "glibc"].contains(&l.as_str()))
    {
        return Err(xtask::UsageError::error(format!(
            "unknown libc `{l}` (musl, glibc)"
        )));
    }
    if args.bench {
        return crate::programs_bench::run(
            &arches,
            &args.libc,
            Duration::from_secs(args.timeout),
            args.verbose,
        );
    }
    let mut failed = Vec::new();
    for arch in arches {
        if !run_arch(
            arch,
            &args.libc,
            args.repeat.max(1),
            Duration::from_secs(args.timeout),
            args.verbose,
        )? {
            failed.push(arch.name());
        }
    }
    if !failed.is_empty() {
        bail!("programs differ from Linux on: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(name: &str) -> Program {
        Program {
            name: name.into(),
            path: PathBuf::from("/nonexistent"),
        }
    }

    #[test]
    fn stub_log_runs_are_split_by_program() {
        let log = "kernel-stub: booted on x86_64\n\
                   kernel-stub: running the a-musl program (1 bytes, entry 0x1) as pid 2\n\
                   hello\r\n\
                   kernel-stub: syscall foo (999) is not implemented: ENOSYS\n\
                   last linekernel-stub: a-musl program exited with status 3 (1 clones)\n\
                   kernel-stub: running the b-musl program (1 bytes, entry 0x1) as pid 2\n";
        let runs = parse_stub_log(log, &[prog("a-musl"), prog("b-musl")], 0);
        let (a, notes) = &runs[0];
        let a = a.as_ref().expect("a finished");
        assert_eq!(a.lines, ["hello", "last line"]);
        assert_eq!(a.status, "3");
        assert_eq!(notes.len(), 1);
        assert!(runs[1].0.is_none(), "b never printed its exit line");
    }
}
