//! The pieces every runner of the conformance program shares, so that `linux`, `linux_vm`,
//! `qemu` and `hppa` import this module and not each other: running a program with a timeout
//! ([`run_with_timeout`]), the `case …` line parser ([`parse_cases`]), one table row
//! ([`ArchResult`], filled by [`parse_into`]), the conformance build ([`build_conformance`]) and
//! the boot of a program as `/init` of a real kernel in qemu-system ([`boot_as_init`]).

use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{build_std, sh};

/// `--arch` values as the comma-separated names the arch tables use.
pub fn value_names<T: clap::ValueEnum>(values: &[T]) -> String {
    values
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|p| p.get_name().to_string())
        .collect::<Vec<_>>()
        .join(",")
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

/// The last `n` lines of `s`.
pub fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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

/// One case line of the conformance program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseResult {
    /// `case <name>: pass`.
    Pass,
    /// `case <name>: FAIL <details>`.
    Fail(String),
    /// `case <name>: skip <reason>`.
    Skip(String),
}

impl CaseResult {
    /// `pass`, `FAIL` or `skip`.
    pub fn short(&self) -> &'static str {
        match self {
            CaseResult::Pass => "pass",
            CaseResult::Fail(_) => "FAIL",
            CaseResult::Skip(_) => "skip",
        }
    }
}

/// Parses `case <name>: pass|FAIL ...|skip ...` lines, in order (the conformance program's
/// output format); other lines are ignored.
pub fn parse_cases(log: &str) -> Vec<(String, CaseResult)> {
    log.lines()
        .filter_map(|l| {
            let rest = l.trim_end().strip_prefix("case ")?;
            let (name, verdict) = rest.split_once(": ")?;
            let r = if verdict == "pass" || verdict.starts_with("pass ") {
                CaseResult::Pass
            } else if let Some(d) = verdict.strip_prefix("FAIL") {
                CaseResult::Fail(d.trim().to_string())
            } else {
                CaseResult::Skip(verdict.strip_prefix("skip")?.trim().to_string())
            };
            Some((name.to_string(), r))
        })
        .collect()
}

/// How a conformance run was made, which decides the skips it may give.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Directly on this x86_64 host (i686 through the kernel's IA-32 emulation), or on a real
    /// kernel in qemu-system: the kernel is the reference, so nothing may be skipped.
    Native,
    /// Under `qemu-<name>-static`.
    Qemu(&'static str),
}

impl Runner {
    /// Whether a skip reason is one a run of this kind may give.
    fn allows_skip(self, reason: &str) -> bool {
        match self {
            Runner::Native => false,
            Runner::Qemu(_) => {
                reason.starts_with("qemu-user") || reason.ends_with("has no clone3 syscall")
            }
        }
    }
}

/// The result of one row of a table.
#[derive(Clone, Debug, Default)]
pub struct ArchResult {
    /// Arch name.
    pub arch: String,
    /// "native", "qemu-user", "qemu-user, C probe" or the real kernel that ran it.
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

    /// Records a row that produced no verdict as one failed `run` case of the JUnit report
    /// (its cases, if any, were recorded as they were parsed).
    pub fn record_error(&self) {
        if let Some(e) = &self.error {
            let run = format!("{} ({})", self.arch, self.how);
            let first = e.lines().next().unwrap_or("").to_string();
            crate::junit::record_cases(&run, &[("run".into(), CaseResult::Fail(first))]);
        }
    }

    /// The verdict column of the row.
    pub fn verdict(&self) -> String {
        match (&self.error, self.ok(), self.required) {
            (Some(e), _, true) => format!("ERROR: {}", e.lines().next().unwrap_or("")),
            (Some(e), _, false) => format!(
                "not proven (experimental): {}",
                e.lines().next().unwrap_or("")
            ),
            (None, true, true) => "ok".into(),
            (None, true, false) => "ok (experimental)".into(),
            (None, false, true) => "FAILED".into(),
            (None, false, false) => "FAILED (experimental, not required)".into(),
        }
    }
}

/// The notes below a table: every skip reason, failure and error, or nothing.
pub fn render_notes<'a>(rows: impl IntoIterator<Item = &'a ArchResult>) -> String {
    let mut notes = String::new();
    for r in rows {
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
    if notes.is_empty() {
        notes
    } else {
        format!("\nskips and failures:\n{notes}")
    }
}

/// Fills `row` from a run of the conformance program for `arch`: case lines, the summary line,
/// the exit code and the skip policy of `runner`.
pub fn parse_into(row: &mut ArchResult, arch: &str, runner: Runner, run: &RunOutput) {
    let (mut p, mut f, mut s) = (0u32, 0u32, 0u32);
    let cases = parse_cases(&run.stdout);
    crate::junit::record_cases(&format!("{arch} ({})", row.how), &cases);
    for (name, result) in cases {
        match result {
            CaseResult::Pass => p += 1,
            CaseResult::Fail(d) => {
                f += 1;
                row.failures.push((name, d));
            }
            CaseResult::Skip(r) => {
                s += 1;
                if !runner.allows_skip(&r) {
                    row.failures.push((
                        name.clone(),
                        format!("skip not allowed on a {} run: {r}", row.how),
                    ));
                }
                row.skips.push((name, r));
            }
        }
    }
    let prefix = format!("conformance {arch}: ");
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

/// Builds the conformance ELF for the `<arch>-linux-user` target (`experimental` turns on
/// clone-core's `experimental-asm` feature).
pub fn build_conformance(arch: &str, experimental: bool) -> Result<PathBuf> {
    let sh = sh()?;
    let features: &[&str] = if experimental {
        &["experimental-asm"]
    } else {
        &[]
    };
    let target = format!("{arch}-linux-user");
    // The build's own output goes to our stderr; only its error is summarised in the table.
    build_std(
        &sh,
        "clone-core/conformance",
        "clone-conformance",
        &target,
        features,
    )
}

/// A qemu-system machine that boots a Linux kernel with a program as `/init`.
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
    /// Kernel parameters this machine needs besides the console (may be empty).
    pub cmdline: &'static str,
}

/// Boots `elf` as `/init` of `kernel` on machine `a` and returns its console output (one
/// program line per line) with init's exit status, read from the kernel's panic line.
///
/// When init exits the kernel panics with `Attempted to kill init! exitcode=0x…`; with
/// `panic=-1` and `-no-reboot` QEMU then exits. A run without that line is an error.
/// `CLONE_CONFORMANCE_ENV=native` on the command line reaches init's environment (the kernel
/// hands unknown `KEY=VALUE` parameters to init).
pub fn boot_as_init(a: &VmArch, kernel: &Path, elf: &Path, timeout: Duration) -> Result<RunOutput> {
    let initrd = write_initramfs(elf)?;
    boot_initrd(a, kernel, &initrd, timeout)
}

/// [`boot_as_init`] with a ready initramfs (its `/init` is the program).
pub fn boot_initrd(
    a: &VmArch,
    kernel: &Path,
    initrd: &Path,
    timeout: Duration,
) -> Result<RunOutput> {
    let mut args: Vec<String> = a.machine.iter().map(|s| (*s).to_string()).collect();
    args.push("-smp".into());
    args.push(a.cpus.to_string());
    args.extend(["-m", "512M", "-nographic", "-no-reboot", "-kernel"].map(String::from));
    args.push(kernel.display().to_string());
    args.push("-initrd".into());
    args.push(initrd.display().to_string());
    args.push("-append".into());
    args.push(format!(
        "console={} panic=-1 quiet CLONE_CONFORMANCE_ENV=native {}",
        a.console, a.cmdline
    ));
    let mut out = run_with_timeout(a.qemu, &args, &[], timeout)?;
    let mut console = clean_console(&out.stdout);
    if panicked_before_init(&console) {
        // A guest kernel that panics before the program wrote its first line never ran it
        // (seen once in ~50 TCG boots of Debian's 7.2, an interrupt-time panic 3 s in): that
        // boot says nothing about the program, so it is run once more, and said so.
        eprintln!(
            "{}: the kernel panicked before /init wrote anything; booting once more:\n{}",
            a.name,
            last_lines(&console, 4)
        );
        out = run_with_timeout(a.qemu, &args, &[], timeout)?;
        console = clean_console(&out.stdout);
    }
    let Some((code, signal)) = init_exit(&console) else {
        bail!(
            "QEMU exited ({:?}) without the kernel's `Attempted to kill init` line; \
             last console output:\n{}",
            out.code,
            last_lines(&console, 8)
        );
    };
    Ok(RunOutput {
        stdout: console,
        stderr: out.stderr,
        code,
        signal,
    })
}

/// The console with `\r` dropped and each program line starting its own line: firmware or
/// early kernel output without a final newline (SLOF and prom_init on pseries) can sit in
/// front of the first line the program writes.
fn clean_console(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.replace('\r', "").lines() {
        let start = ["case ", "conformance ", "differential "]
            .iter()
            .filter_map(|m| line.find(m))
            .min()
            .unwrap_or(0);
        out.push_str(line.get(start..).unwrap_or(line));
        out.push('\n');
    }
    out
}

/// A kernel panic with no line from the program and no exit of init: the kernel died before
/// the program under test ran.
fn panicked_before_init(console: &str) -> bool {
    console.contains("Kernel panic")
        && init_exit(console).is_none()
        && !console.lines().any(|l| {
            ["case ", "conformance ", "differential "]
                .iter()
                .any(|m| l.starts_with(m))
        })
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
pub fn cpio_entry(
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

    const QEMU: Runner = Runner::Qemu("qemu-aarch64-static");

    #[test]
    fn only_a_panic_before_the_program_wrote_anything_is_booted_again() {
        let early = "[    3.1] Kernel panic - not syncing: Fatal exception in interrupt\n";
        assert!(panicked_before_init(early));
        // The program ran: its lines or its exit decide, never a second boot.
        let ran = "conformance: 27 cases\ncase a: pass\n[ 9.0] Kernel panic - not syncing: oops\n";
        assert!(!panicked_before_init(ran));
        let exited =
            "[ 9.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\n";
        assert!(!panicked_before_init(exited));
        // A hang or a quiet exit is no panic.
        assert!(!panicked_before_init("Booting Linux\n"));
    }

    #[test]
    fn case_lines_are_parsed_and_other_lines_ignored() {
        let log = "kernel-stub: booted on x86_64\n\
                   case a-b: pass\n\
                   case c: FAIL got 3, expected 4\r\n\
                   case d: skip no clone3 here\n\
                   clone: parent tid 2 -> child tid 3\n\
                   case e: maybe\n\
                   conformance x86_64: 1 passed, 1 failed, 1 skipped\n";
        assert_eq!(
            parse_cases(log),
            vec![
                ("a-b".to_string(), CaseResult::Pass),
                (
                    "c".to_string(),
                    CaseResult::Fail("got 3, expected 4".into())
                ),
                ("d".to_string(), CaseResult::Skip("no clone3 here".into())),
            ]
        );
    }

    #[test]
    fn parses_a_clean_run() {
        let mut row = ArchResult::default();
        let out = "case a: pass\ncase b: skip qemu-user is not an errno oracle\n\
                   conformance aarch64: 1 passed, 0 failed, 1 skipped\n";
        parse_into(&mut row, "aarch64", QEMU, &run(out, 0));
        assert!(row.ok(), "{row:?}");
        assert_eq!((row.passed, row.failed, row.skipped), (1, 0, 1));
    }

    #[test]
    fn unexplained_skip_is_a_failure() {
        let mut row = ArchResult::default();
        let out = "case a: skip clone3: the kernel returned ENOSYS (38)\n\
                   conformance aarch64: 0 passed, 0 failed, 1 skipped\n";
        parse_into(&mut row, "aarch64", QEMU, &run(out, 0));
        assert!(!row.ok());
        let mut row = ArchResult::default();
        let out = "case a: skip qemu-user is not an errno oracle\n\
                   conformance aarch64: 0 passed, 0 failed, 1 skipped\n";
        parse_into(&mut row, "aarch64", Runner::Native, &run(out, 0));
        assert!(!row.ok(), "a native run may skip nothing");
    }

    #[test]
    fn missing_summary_or_wrong_exit_is_an_error() {
        let mut row = ArchResult::default();
        parse_into(&mut row, "aarch64", QEMU, &run("case a: pass\n", 0));
        assert!(row.error.is_some());
        let mut row = ArchResult::default();
        let out = "case a: FAIL x\nconformance aarch64: 0 passed, 1 failed, 0 skipped\n";
        parse_into(&mut row, "aarch64", QEMU, &run(out, 0));
        assert!(row.error.is_some());
        let mut row = ArchResult::default();
        let out = "case a: pass\nconformance aarch64: 2 passed, 0 failed, 0 skipped\n";
        parse_into(&mut row, "aarch64", QEMU, &run(out, 0));
        assert!(row.error.is_some());
    }

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
}
