//! `cargo xtask linux [--arch A|all|required|experimental]`: builds the libc-free conformance
//! program (`clone-core/conformance`) for each arch, runs it natively (x86_64, i686) or under
//! `qemu-<arch>-static`, parses its `case …` lines and prints one table row per arch; the hppa
//! row comes from the C stack probe (`crate::hppa`).
//!
//! Skips are not free passes: a native run may skip nothing, and a qemu-user run may only skip
//! for the documented qemu-user limitations (reasons starting `qemu-user`) or an arch without
//! `clone3`. Anything else counts as a failure of the run.

use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{build_std, sh};

/// Options for `cargo xtask linux`.
#[derive(clap::Args)]
pub struct Args {
    /// `all` (required + hppa + experimental attempts), `required` (the arches that must
    /// pass, plus hppa), `experimental`, or a comma-separated list of arch names.
    #[arg(long, default_value = "all")]
    pub arch: String,
}

/// How a row was run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Directly on this x86_64 host (i686 through the kernel's IA-32 emulation).
    Native,
    /// Under `qemu-<name>-static`.
    Qemu(&'static str),
}

/// One userland arch of the conformance program.
#[derive(Copy, Clone, Debug)]
pub struct UserArch {
    /// Arch name (also the prefix of `targets/<name>-linux-user.json`).
    pub name: &'static str,
    /// How it runs here.
    pub runner: Runner,
    /// Built with clone-core's `experimental-asm` feature; its failure does not fail the run.
    pub experimental: bool,
}

/// Every userland arch, required ones first.
pub const ARCHES: &[UserArch] = &[
    UserArch {
        name: "x86_64",
        runner: Runner::Native,
        experimental: false,
    },
    UserArch {
        name: "i686",
        runner: Runner::Native,
        experimental: false,
    },
    UserArch {
        name: "aarch64",
        runner: Runner::Qemu("qemu-aarch64-static"),
        experimental: false,
    },
    UserArch {
        name: "armv7",
        runner: Runner::Qemu("qemu-arm-static"),
        experimental: false,
    },
    UserArch {
        name: "riscv64",
        runner: Runner::Qemu("qemu-riscv64-static"),
        experimental: false,
    },
    UserArch {
        name: "s390x",
        runner: Runner::Qemu("qemu-s390x-static"),
        experimental: false,
    },
    UserArch {
        name: "powerpc64le",
        runner: Runner::Qemu("qemu-ppc64le-static"),
        experimental: false,
    },
    UserArch {
        name: "loongarch64",
        runner: Runner::Qemu("qemu-loongarch64-static"),
        experimental: false,
    },
    UserArch {
        name: "mips64el",
        runner: Runner::Qemu("qemu-mips64el-static"),
        experimental: true,
    },
    UserArch {
        name: "powerpc64",
        runner: Runner::Qemu("qemu-ppc64-static"),
        experimental: true,
    },
    UserArch {
        name: "sparc64",
        runner: Runner::Qemu("qemu-sparc64-static"),
        experimental: true,
    },
];

/// The result of one row of the table.
#[derive(Clone, Debug, Default)]
pub struct ArchResult {
    /// Arch name.
    pub arch: String,
    /// "native", "qemu-user" or "qemu-user, C probe".
    pub how: String,
    /// Whether a failure of this row fails the run.
    pub required: bool,
    /// Passed cases.
    pub passed: u32,
    /// Failed cases.
    pub failed: u32,
    /// Skipped cases.
    pub skipped: u32,
    /// `(case, reason)` for each skip.
    pub skips: Vec<(String, String)>,
    /// `(case, detail)` for each failure (including disallowed skips).
    pub failures: Vec<(String, String)>,
    /// Why the row did not produce a verdict (build error, crash, timeout, bad output).
    pub error: Option<String>,
}

impl ArchResult {
    /// Built, ran, printed a consistent summary, exited as it said, and nothing failed.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.failed == 0 && self.failures.is_empty()
    }
}

/// All rows of one run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One per arch, in run order.
    pub rows: Vec<ArchResult>,
}

impl Summary {
    /// Every required row is ok.
    pub fn ok(&self) -> bool {
        self.rows.iter().all(|r| r.ok() || !r.required)
    }

    /// The table and, below it, the skip reasons and failures.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<13} {:<19} {:>6} {:>6} {:>7}  verdict",
            "arch", "ran as", "passed", "failed", "skipped"
        );
        for r in &self.rows {
            let verdict = match (&r.error, r.ok(), r.required) {
                (Some(e), _, req) => format!(
                    "{}{}",
                    if req {
                        "ERROR: "
                    } else {
                        "not proven (experimental): "
                    },
                    first_line(e)
                ),
                (None, true, true) => "ok".into(),
                (None, true, false) => "ok (experimental)".into(),
                (None, false, true) => "FAILED".into(),
                (None, false, false) => "FAILED (experimental, not required)".into(),
            };
            let _ = writeln!(
                s,
                "{:<13} {:<19} {:>6} {:>6} {:>7}  {}",
                r.arch, r.how, r.passed, r.failed, r.skipped, verdict
            );
        }
        let mut notes = String::new();
        for r in &self.rows {
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
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `cargo xtask linux`.
pub fn run(args: Args) -> Result<()> {
    let (arches, hppa) = select(&args.arch)?;
    let summary = run_selected(&arches, hppa)?;
    print!("{}", summary.render());
    if summary.ok() {
        Ok(())
    } else {
        bail!("cargo xtask linux: a required arch failed or did not run")
    }
}

fn select(spec: &str) -> Result<(Vec<UserArch>, bool)> {
    match spec {
        "all" => Ok((ARCHES.to_vec(), true)),
        "required" => Ok((
            ARCHES.iter().filter(|a| !a.experimental).copied().collect(),
            true,
        )),
        "experimental" => Ok((
            ARCHES.iter().filter(|a| a.experimental).copied().collect(),
            false,
        )),
        list => {
            let mut out = Vec::new();
            let mut hppa = false;
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if name == "hppa" {
                    hppa = true;
                } else if let Some(a) = ARCHES.iter().find(|a| a.name == name) {
                    out.push(*a);
                } else {
                    let known: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
                    bail!(
                        "unknown arch {name:?}; known: {}, hppa, or all/required/experimental",
                        known.join(", ")
                    );
                }
            }
            Ok((out, hppa))
        }
    }
}

fn run_selected(arches: &[UserArch], hppa: bool) -> Result<Summary> {
    // A missing emulator is a set-up error, not a skip.
    let mut missing: Vec<&str> = arches
        .iter()
        .filter_map(|a| match a.runner {
            Runner::Qemu(q) if !on_path(q) => Some(q),
            _ => None,
        })
        .collect();
    if hppa {
        missing.extend(crate::hppa::missing_tools());
    }
    if !missing.is_empty() {
        bail!(
            "missing {}; run ci/install.sh to install the emulators and cross compiler",
            missing.join(", ")
        );
    }
    let mut summary = Summary::default();
    for a in arches {
        let row = run_arch(a);
        eprintln!(
            "linux: {} done ({})",
            a.name,
            if row.ok() { "ok" } else { "not ok" }
        );
        summary.rows.push(row);
    }
    if hppa {
        summary.rows.push(crate::hppa::run_probe());
    }
    Ok(summary)
}

/// Whether `prog` is an executable on `PATH`.
pub fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            let f = d.join(prog);
            f.is_file()
        })
    })
}

fn run_arch(a: &UserArch) -> ArchResult {
    let mut row = ArchResult {
        arch: a.name.into(),
        how: match a.runner {
            Runner::Native => "native".into(),
            Runner::Qemu(_) => "qemu-user".into(),
        },
        required: !a.experimental,
        ..Default::default()
    };
    let elf = match build(a) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("build failed: {e:#}"));
            return row;
        }
    };
    let (prog, args, env): (String, Vec<String>, &str) = match a.runner {
        Runner::Native => (elf.display().to_string(), vec![], "native"),
        Runner::Qemu(q) => (q.into(), vec![elf.display().to_string()], "qemu-user"),
    };
    match run_with_timeout(&prog, &args, &[("CLONE_CONFORMANCE_ENV", env)], TIMEOUT) {
        Err(e) => row.error = Some(format!("{e:#}")),
        Ok(run) => parse_into(&mut row, a, &run),
    }
    row
}

const TIMEOUT: Duration = Duration::from_secs(120);

/// Builds the conformance ELF for `a` (also used by `crate::linux_vm`).
pub(crate) fn build(a: &UserArch) -> Result<PathBuf> {
    let sh = sh()?;
    let features: &[&str] = if a.experimental {
        &["experimental-asm"]
    } else {
        &[]
    };
    let target = format!("{}-linux-user", a.name);
    // The build's own output goes to our stderr; only its error is summarised in the table.
    build_std(
        &sh,
        "clone-core/conformance",
        "clone-conformance",
        &target,
        features,
    )
}

/// Output and status of one run.
pub struct RunOutput {
    /// Everything the program wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr (qemu's messages land here).
    pub stderr: String,
    /// Exit code, or `None` if killed by a signal.
    pub code: Option<i32>,
    /// Signal number, if killed by one.
    pub signal: Option<i32>,
}

/// Runs `prog args…` with only `env` in its environment, in its own process group, with output
/// to files (so a stuck grandchild cannot hold a pipe open), and kills the whole group when it
/// exits or after `timeout`.
pub fn run_with_timeout(
    prog: &str,
    args: &[String],
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<RunOutput> {
    use std::os::unix::process::ExitStatusExt as _;
    let dir = std::env::temp_dir().join(format!(
        "clone-core-linux-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .process_group(0);
    let shown = format!("{prog} {}", args.join(" "));
    eprintln!("$ {} {shown}", env_shown(env));
    let mut child = cmd.spawn().with_context(|| format!("starting {prog}"))?;
    let pgid = child.id();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if start.elapsed() > timeout {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever is left of the group (e.g. a child stuck inside qemu) goes too.
    kill_group(pgid);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let read = |p: &Path| -> String {
        let mut s = Vec::new();
        if let Ok(mut f) = std::fs::File::open(p) {
            let _ = f.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    };
    let stdout = read(&out_path);
    let stderr = read(&err_path);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(status) = status else {
        bail!(
            "timed out after {}s: {shown}\n{}",
            timeout.as_secs(),
            last_lines(&stdout, 3)
        );
    };
    Ok(RunOutput {
        stdout,
        stderr,
        code: status.code(),
        signal: status.signal(),
    })
}

fn env_shown(env: &[(&str, &str)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn kill_group(pgid: u32) {
    // No libc dependency: the `kill` utility reaches a process group with a negative pid.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether a skip reason is one a run of this kind may give.
fn skip_allowed(runner: Runner, reason: &str) -> bool {
    match runner {
        // The native kernel is the reference: it must run everything.
        Runner::Native => false,
        Runner::Qemu(_) => {
            reason.starts_with("qemu-user") || reason.ends_with("has no clone3 syscall")
        }
    }
}

/// Fills `row` from a run's output: case lines, the summary line, the exit code and the skip
/// policy of `a.runner` (also used by `crate::linux_vm`, whose rows are judged as native).
pub(crate) fn parse_into(row: &mut ArchResult, a: &UserArch, run: &RunOutput) {
    use crate::qemu::CaseResult;
    let (mut p, mut f, mut s) = (0u32, 0u32, 0u32);
    for (name, result) in crate::qemu::parse_cases(&run.stdout) {
        match result {
            CaseResult::Pass => p += 1,
            CaseResult::Fail(d) => {
                f += 1;
                row.failures.push((name, d));
            }
            CaseResult::Skip(r) => {
                s += 1;
                if !skip_allowed(a.runner, &r) {
                    row.failures.push((
                        name.clone(),
                        format!("skip not allowed on a {} run: {r}", row.how),
                    ));
                }
                row.skips.push((name, r));
            }
        }
    }
    let prefix = format!("conformance {}: ", a.name);
    let summary = run
        .stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(parse_counts);
    row.passed = p;
    row.failed = f;
    row.skipped = s;
    let tail = || {
        let mut t = last_lines(&run.stdout, 3);
        let e = last_lines(&run.stderr, 3);
        if !e.is_empty() {
            t.push_str("\nstderr: ");
            t.push_str(&e);
        }
        t
    };
    match summary {
        None => {
            row.error = Some(format!(
                "no `{prefix}…` summary line (exit {:?}, signal {:?}); last output:\n{}",
                run.code,
                run.signal,
                tail()
            ));
        }
        Some(counts) if counts != (p, f, s) => {
            row.error = Some(format!(
                "summary says {counts:?} (passed, failed, skipped) but the case lines give {:?}",
                (p, f, s)
            ));
        }
        Some(_) => {
            let want = if f == 0 { 0 } else { 1 };
            if run.code != Some(want) {
                row.error = Some(format!(
                    "exit code {:?} (signal {:?}), expected {want} for {f} failures\n{}",
                    run.code,
                    run.signal,
                    tail()
                ));
            }
        }
    }
}

fn parse_counts(rest: &str) -> Option<(u32, u32, u32)> {
    // "N passed, M failed, K skipped"
    let mut it = rest.split(", ");
    let n = it.next()?.strip_suffix(" passed")?.parse().ok()?;
    let m = it.next()?.strip_suffix(" failed")?.parse().ok()?;
    let k = it.next()?.strip_suffix(" skipped")?.parse().ok()?;
    Some((n, m, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stdout: &str, code: i32) -> RunOutput {
        RunOutput {
            stdout: stdout.into(),
            stderr: String::new(),
            code: Some(code),
            signal: None,
        }
    }

    const QEMU: UserArch = UserArch {
        name: "aarch64",
        runner: Runner::Qemu("qemu-aarch64-static"),
        experimental: false,
    };

    #[test]
    fn parses_a_clean_run() {
        let mut row = ArchResult::default();
        let out = "case a: pass\ncase b: skip qemu-user is not an errno oracle\n\
                   conformance aarch64: 1 passed, 0 failed, 1 skipped\n";
        parse_into(&mut row, &QEMU, &run(out, 0));
        assert!(row.ok(), "{row:?}");
        assert_eq!((row.passed, row.failed, row.skipped), (1, 0, 1));
    }

    #[test]
    fn unexplained_skip_is_a_failure() {
        let mut row = ArchResult::default();
        let out = "case a: skip clone3: the kernel returned ENOSYS (38)\n\
                   conformance aarch64: 0 passed, 0 failed, 1 skipped\n";
        parse_into(&mut row, &QEMU, &run(out, 0));
        assert!(!row.ok());
    }

    #[test]
    fn missing_summary_or_wrong_exit_is_an_error() {
        let mut row = ArchResult::default();
        parse_into(&mut row, &QEMU, &run("case a: pass\n", 0));
        assert!(row.error.is_some());
        let mut row = ArchResult::default();
        let out = "case a: FAIL x\nconformance aarch64: 0 passed, 1 failed, 0 skipped\n";
        parse_into(&mut row, &QEMU, &run(out, 0));
        assert!(row.error.is_some());
        let mut row = ArchResult::default();
        let out = "case a: pass\nconformance aarch64: 2 passed, 0 failed, 0 skipped\n";
        parse_into(&mut row, &QEMU, &run(out, 0));
        assert!(row.error.is_some());
    }
}
