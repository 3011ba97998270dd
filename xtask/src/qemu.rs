//! `cargo xtask qemu [--arch x86_64|aarch64|riscv64|all]` and `cargo xtask run`: build the
//! conformance program for the stub's user region, embed it in the kernel stub, boot the stub
//! in QEMU and report.
//!
//! Each boot is classified the way Asterinas's OSDK does it (style-anchors §2c), with a
//! timeout that kills QEMU:
//!
//! * **passed**: exit status 33 (the stub wrote 0x10 / semihosting 33 / SBI pass) and no
//!   `FAIL` line;
//! * **failed**: status 65, or any `case ...: FAIL` line, or a kernel `PANIC`;
//! * **did not boot**: no `kernel-stub: booted on` banner, or any other status (QEMU's own
//!   errors are status 1), or the timeout.
//!
//! The console log is kept in `target/qemu-logs/<arch>.log`; on failure its tail is printed.
//! The per-case results are shown side by side with Linux's answer for the same program
//! (built without the stub's link address and run natively on an x86_64 host, or under
//! qemu-user for the other arches, where qemu-user's own clone limits show as differences).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{build_std_with, project_root, sh};
use crate::runner::{CaseResult, parse_cases, run_with_timeout, value_names};

/// The conformance crate and its binary (see `clone-core/conformance/Cargo.toml`).
const CONFORMANCE_DIR: &str = "clone-core/conformance";
const CONFORMANCE_BIN: &str = "clone-conformance";
/// The first line the kernel prints (`kmain`).
const BANNER: &str = "kernel-stub: booted on";
/// The stub-only hostile-input program, run by the stub after the conformance program.
const HOSTILE_DIR: &str = "kernel-stub/hostile";
const HOSTILE_BIN: &str = "kernel-stub-hostile";

/// Options for `cargo xtask qemu`.
#[derive(clap::Args)]
pub struct Args {
    /// Which arches to boot (comma-separated), or all.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub arch: Vec<StubArchArg>,
    /// Seconds before QEMU is killed.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Do not run the program on Linux for the side-by-side table.
    #[arg(long)]
    pub no_linux: bool,
    /// Print the console live while QEMU runs.
    #[arg(long)]
    pub verbose: bool,
    /// x86_64 accelerator: auto (KVM when /dev/kvm is usable hardware virtualization, else
    /// TCG), kvm, tcg, or both (boot under KVM and TCG and fail unless every case line is the
    /// same). Other arches always use TCG.
    #[arg(long, default_value = "auto")]
    pub accel: String,
}

/// Options for `cargo xtask run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Which arch to boot.
    #[arg(long, value_enum, default_value = "x86_64")]
    pub arch: StubArchArg,
    /// Seconds before QEMU is killed.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Accelerator: auto, kvm or tcg (see `cargo xtask qemu --help`).
    #[arg(long, default_value = "auto")]
    pub accel: String,
}

/// How QEMU executes the guest.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Accel {
    /// QEMU's own translator (any host, any guest arch).
    Tcg,
    /// `/dev/kvm` (x86_64 guest on an x86_64 host only).
    Kvm,
}

impl Accel {
    fn name(self) -> &'static str {
        match self {
            Accel::Tcg => "TCG",
            Accel::Kvm => "KVM",
        }
    }
}

/// What `/dev/kvm` is, or why it cannot run the x86_64 stub here.
pub enum Kvm {
    /// Hardware virtualization (VT-x/AMD-V, possibly nested).
    Hardware,
    /// PVM (`kvm_pvm`): a page-table based hypervisor that runs the whole guest in hardware
    /// ring 3 and emulates its privileged instructions. It runs the stub with the same results,
    /// but every kernel entry traps to the host, so it is far slower than TCG.
    Pvm,
}

/// Can `/dev/kvm` run an x86_64 guest here, and which kind is it?
pub fn kvm_usable() -> Result<Kvm, String> {
    if std::env::consts::ARCH != "x86_64" {
        return Err(format!(
            "the host is {}, not x86_64",
            std::env::consts::ARCH
        ));
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map_err(|e| format!("/dev/kvm: {e}"))?;
    if Path::new("/sys/module/kvm_pvm").exists() {
        Ok(Kvm::Pvm)
    } else {
        Ok(Kvm::Hardware)
    }
}

/// The accelerators `spec` (auto|kvm|tcg|both) asks for on `arch`, with a line saying why.
fn accels(arch: StubArch, spec: &str) -> Result<(Vec<Accel>, String)> {
    let kvm = if arch == StubArch::X86_64 {
        kvm_usable()
    } else {
        Err(format!("no KVM for {} guests on this host", arch.name()))
    };
    let note = |k: &Kvm| match k {
        Kvm::Hardware => "/dev/kvm",
        Kvm::Pvm => "/dev/kvm is PVM (kvm_pvm), far slower than TCG here",
    };
    Ok(match (spec, kvm) {
        ("tcg", _) => (vec![Accel::Tcg], "TCG (asked for)".into()),
        ("kvm", Ok(k)) => (vec![Accel::Kvm], format!("KVM ({})", note(&k))),
        ("kvm", Err(why)) => bail!("--accel kvm: {why}"),
        ("auto", Ok(Kvm::Hardware)) => (vec![Accel::Kvm], "KVM (/dev/kvm)".into()),
        ("auto", Ok(Kvm::Pvm)) => (
            vec![Accel::Tcg],
            "TCG (/dev/kvm is PVM (kvm_pvm), far slower than TCG; --accel kvm uses it)".into(),
        ),
        ("auto", Err(why)) => (vec![Accel::Tcg], format!("TCG ({why})")),
        ("both", Ok(Kvm::Hardware)) => (
            vec![Accel::Kvm, Accel::Tcg],
            "KVM (/dev/kvm) and TCG, results compared".into(),
        ),
        // Under PVM the hostile program's 10,000 clone/exit cycles alone take minutes.
        ("both", Ok(Kvm::Pvm)) => (
            vec![Accel::Tcg],
            "TCG only (/dev/kvm is PVM (kvm_pvm), too slow for a routine run; \
             --accel kvm uses it)"
                .into(),
        ),
        ("both", Err(why)) => (vec![Accel::Tcg], format!("TCG only ({why})")),
        (other, _) => bail!("unknown accelerator `{other}` (auto, kvm, tcg, both)"),
    })
}

/// A `--arch` value: one arch of [`StubArch::ALL`], or all.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StubArchArg {
    /// Every arch.
    All,
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "aarch64")]
    Aarch64,
    #[value(name = "riscv64")]
    Riscv64,
}

/// An arch the kernel stub runs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StubArch {
    /// x86_64 (PVH boot, isa-debug-exit).
    X86_64,
    /// aarch64 (`virt`, semihosting exit).
    Aarch64,
    /// riscv64 (`virt`, OpenSBI, SBI/sifive_test exit).
    Riscv64,
}

impl StubArch {
    /// Every arch, in report order.
    pub const ALL: [StubArch; 3] = [StubArch::X86_64, StubArch::Aarch64, StubArch::Riscv64];

    /// The name used in target files, logs and `--arch`.
    pub fn name(self) -> &'static str {
        match self {
            StubArch::X86_64 => "x86_64",
            StubArch::Aarch64 => "aarch64",
            StubArch::Riscv64 => "riscv64",
        }
    }

    pub(crate) fn parse_list(s: &str) -> Result<Vec<StubArch>> {
        if s == "all" {
            return Ok(Self::ALL.to_vec());
        }
        s.split(',')
            .map(|a| {
                Self::ALL
                    .into_iter()
                    .find(|x| x.name() == a.trim())
                    .with_context(|| format!("unknown arch `{a}` (x86_64, aarch64, riscv64, all)"))
            })
            .collect()
    }

    /// The QEMU command line each arch module documents (`kernel-stub/src/arch/*/mod.rs`).
    fn qemu(self, kernel: &Path, accel: Accel) -> Command {
        let mut c;
        match self {
            StubArch::X86_64 => {
                c = Command::new("qemu-system-x86_64");
                // `-cpu max`: every feature QEMU can give (XSAVE/AVX, FSGSBASE), so the stub's
                // set-up of them runs and the hostile cases check it.
                c.args(["-machine", "q35", "-cpu", "max", "-m", "512M"]);
                c.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
            }
            StubArch::Aarch64 => {
                c = Command::new("qemu-system-aarch64");
                c.args(["-machine", "virt", "-cpu", "cortex-a72", "-m", "512M"]);
                c.arg("-semihosting");
            }
            StubArch::Riscv64 => {
                c = Command::new("qemu-system-riscv64");
                c.args(["-machine", "virt", "-m", "512M", "-bios", "default"]);
            }
        }
        if accel == Accel::Kvm {
            c.args(["-accel", "kvm"]);
        }
        c.args(["-nographic", "-no-reboot", "-kernel"]).arg(kernel);
        c
    }

    /// The stub's `USER_IMAGE_BASE` for this arch, read from its arch module so the xtask and
    /// the kernel cannot disagree.
    fn user_image_base(self) -> Result<u64> {
        let path = project_root()
            .join("kernel-stub/src/arch")
            .join(self.name())
            .join("mod.rs");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let value = const_value(&text, "USER_IMAGE_BASE")
            .with_context(|| format!("no `USER_IMAGE_BASE` in {}", path.display()))?;
        if let Some(v) = parse_int(&value) {
            return Ok(v);
        }
        if value == "USER_REGION.start" {
            let region = const_value(&text, "USER_REGION")
                .with_context(|| format!("no `USER_REGION` in {}", path.display()))?;
            let start = region.split("..").next().unwrap_or("");
            if let Some(v) = parse_int(start) {
                return Ok(v);
            }
        }
        bail!(
            "cannot read USER_IMAGE_BASE (`{value}`) from {}",
            path.display()
        )
    }
}

/// The right-hand side of `pub const NAME: <type> = <value>;`.
fn const_value(text: &str, name: &str) -> Option<String> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("pub const {name}:")))?;
    let rhs = line.split_once('=')?.1;
    Some(rhs.trim().trim_end_matches(';').trim().to_string())
}

fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// How one boot ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Status 33 and no failing case.
    Passed,
    /// Status 65, a `FAIL` line or a kernel panic.
    Failed(String),
    /// No banner, QEMU error, unexpected status or timeout.
    DidNotBoot(String),
}

/// The result of booting the stub on one arch.
#[derive(Clone, Debug)]
pub struct QemuReport {
    /// Arch name.
    pub arch: &'static str,
    /// Which accelerator(s) ran it (`TCG`, `KVM`, or `KVM = TCG` after a comparison).
    pub accel: String,
    /// Classification.
    pub outcome: Outcome,
    /// Case lines from the console.
    pub cases: Vec<(String, CaseResult)>,
    /// The `kernel-stub: heap used ...` line, if printed.
    pub heap_line: Option<String>,
    /// Where the console log was saved.
    pub log: PathBuf,
}

impl QemuReport {
    /// Did this arch pass?
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// Kills QEMU if the xtask unwinds or times out.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds the conformance program at the stub's link address and the hostile-input program
/// just above it, then the stub around both.
fn build(arch: StubArch, trace: bool) -> Result<PathBuf> {
    let sh = sh()?;
    let base = arch.user_image_base()?;
    let user_target = format!("{}-linux-user", arch.name());
    let image_base = format!("-Clink-arg=--image-base={base:#x}");
    let user = build_std_with(
        &sh,
        CONFORMANCE_DIR,
        CONFORMANCE_BIN,
        &user_target,
        &[],
        &[&image_base],
        Some("stub"),
    )?;
    sh.set_var("KERNEL_STUB_USER_ELF", &user);
    // The demo (trace) kernel runs the conformance program only: the hostile-input cases are
    // tests, and leaving them out keeps `cargo xtask run` to a few seconds.
    if !trace {
        // The hostile-input program sits 64 KiB higher so its stack-overflow case has user
        // memory directly above the kernel's (see kernel-stub/hostile/src/main.rs).
        let hostile_base = format!("-Clink-arg=--image-base={:#x}", base + 0x1_0000);
        let hostile = build_std_with(
            &sh,
            HOSTILE_DIR,
            HOSTILE_BIN,
            &user_target,
            &[],
            &[&hostile_base],
            Some("stub"),
        )?;
        sh.set_var("KERNEL_STUB_HOSTILE_ELF", &hostile);
    }
    let features: &[&str] = if trace { &["trace"] } else { &[] };
    let flavour = if trace { "kernel-trace" } else { "kernel" };
    build_std_with(
        &sh,
        "kernel-stub",
        "kernel-stub",
        &format!("{}-kernel-stub", arch.name()),
        features,
        &[],
        Some(flavour),
    )
}

/// Boots `kernel`, collecting the console; `live` echoes it as it comes.
pub(crate) fn boot(
    arch: StubArch,
    kernel: &Path,
    accel: Accel,
    timeout: Duration,
    live: bool,
) -> Result<QemuReport> {
    let mut cmd = arch.qemu(kernel, accel);
    eprintln!("$ {cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(
        cmd.spawn()
            .with_context(|| format!("starting {:?}", cmd.get_program()))?,
    );
    let stdout = child.0.stdout.take().context("QEMU stdout")?;
    let mut stderr = child.0.stderr.take().context("QEMU stderr")?;
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&buf).into_owned();
            buf.clear();
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let start = Instant::now();
    let mut log = String::new();
    let mut status = None;
    let mut timed_out = false;
    loop {
        while let Ok(line) = rx.try_recv() {
            log.push_str(&line);
            // Firmware chatter (SeaBIOS, OpenSBI) stays in the log, not on the screen.
            if live && log.contains(BANNER) {
                // The banner may share its line with firmware output ("Booting from ROM..").
                let shown = line.find(BANNER).map_or(line.as_str(), |i| &line[i..]);
                print!("{}", printable(shown));
            }
        }
        if let Some(s) = child.0.try_wait()? {
            status = Some(s);
            break;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if timed_out {
        let _ = child.0.kill();
        let _ = child.0.wait();
    }
    let _ = reader.join();
    while let Ok(line) = rx.try_recv() {
        log.push_str(&line);
        if live && log.contains(BANNER) {
            print!("{}", printable(&line));
        }
    }
    let qemu_err = err_reader.join().unwrap_or_default();
    if !qemu_err.is_empty() {
        log.push_str("\n--- QEMU stderr ---\n");
        log.push_str(&qemu_err);
    }

    let log_dir = crate::build::target_dir().join("qemu-logs");
    std::fs::create_dir_all(&log_dir)?;
    let log_path = match accel {
        Accel::Tcg => log_dir.join(format!("{}.log", arch.name())),
        Accel::Kvm => log_dir.join(format!("{}-kvm.log", arch.name())),
    };
    std::fs::write(&log_path, &log)?;

    let cases = parse_cases(&log);
    let banner = log.contains(BANNER);
    let code = status.and_then(|s| s.code());
    let outcome = if timed_out {
        Outcome::DidNotBoot(format!("timed out after {} s", timeout.as_secs()))
    } else if !banner {
        Outcome::DidNotBoot(format!("no boot banner (QEMU exit status {code:?})"))
    } else if log.contains("kernel-stub: PANIC") {
        Outcome::Failed("kernel panic".into())
    } else if let Some((name, _)) = cases.iter().find(|(_, r)| matches!(r, CaseResult::Fail(_))) {
        Outcome::Failed(format!("case {name} failed"))
    } else {
        match code {
            Some(33) => Outcome::Passed,
            Some(65) => Outcome::Failed("the stub reported failure (status 65)".into()),
            other => Outcome::DidNotBoot(format!("unexpected QEMU exit status {other:?}")),
        }
    };
    let heap_line = log
        .lines()
        .find(|l| l.starts_with("kernel-stub: heap used"))
        .map(str::to_string);
    Ok(QemuReport {
        arch: arch.name(),
        accel: accel.name().into(),
        outcome,
        cases,
        heap_line,
        log: log_path,
    })
}

/// Strips the terminal control sequences SeaBIOS/OpenSBI print.
fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if n.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\r' {
            continue;
        }
        out.push(c);
    }
    out
}

/// Runs the same programs (linked normally) on Linux: natively when the host is this arch,
/// else under qemu-user, with `crate::runner`'s timeout runner. The conformance program runs
/// as is; the hostile-input program gets an argument, which makes it run only the cases that
/// make sense on Linux. `None` when the conformance program cannot run here. The label says
/// how it ran and whether a program stopped before its summary line.
fn linux_cases(arch: StubArch) -> Option<(String, Vec<(String, CaseResult)>)> {
    let sh = sh().ok()?;
    let target = format!("{}-linux-user", arch.name());
    let native = std::env::consts::ARCH == arch.name();
    // One program on Linux: natively, else as init of a real Debian kernel in qemu-system when
    // `ci/install.sh` cached one for this arch, else under qemu-user. Returns how it ran, its
    // output, and whether that output is a real kernel's answer.
    let run = |dir: &str, bin: &str, args: &[&str]| -> Option<(String, String, bool)> {
        let exe = build_std_with(&sh, dir, bin, &target, &[], &[], None).ok()?;
        if let Some((label, console)) = (!native)
            .then(|| crate::linux_vm::boot_program(arch.name(), &exe, Duration::from_secs(300)))
            .flatten()
        {
            return Some((label, console, true));
        }
        let exe = exe.to_string_lossy().into_owned();
        let timeout = Duration::from_secs(60);
        let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        // The same environment `cargo xtask linux` gives it, so the program skips exactly the
        // qemu-user limitations (and runs the errno-oracle case natively).
        let env = [(
            "CLONE_CONFORMANCE_ENV",
            if native { "native" } else { "qemu-user" },
        )];
        let out = if native {
            run_with_timeout(&exe, &argv, &env, timeout).ok()?
        } else {
            argv.insert(0, exe);
            let runner = format!("qemu-{}-static", arch.name());
            run_with_timeout(&runner, &argv, &env, timeout).ok()?
        };
        let how = if native {
            "native Linux"
        } else {
            "Linux via qemu-user"
        };
        Some((how.to_string(), out.stdout, native))
    };
    let finished = |out: &str| {
        out.lines()
            .any(|l| l.starts_with("conformance ") || l.starts_with("stub hostile cases:"))
    };
    let (how, out, real_kernel) = run(CONFORMANCE_DIR, CONFORMANCE_BIN, &[])?;
    let mut complete = finished(&out);
    let mut cases = parse_cases(&out);
    // The hostile-input cases probe the kernel's own pointer and clone3 checks; qemu-user has
    // no clone3 and checks pointers itself, so only a real kernel's run is a Linux answer for
    // them (under qemu-user they show as n/a). As init the program has argc 1, which selects
    // its Linux-only cases just as the argument does natively.
    if real_kernel {
        match run(HOSTILE_DIR, HOSTILE_BIN, &["linux"]) {
            Some((_, more, _)) => {
                complete &= finished(&more);
                cases.extend(parse_cases(&more));
            }
            None => complete = false,
        }
    }
    let label = if complete {
        how
    } else {
        format!("{how}; a program stopped before its summary line")
    };
    Some((label, cases))
}

/// Prints one arch's result and the side-by-side table.
fn print_report(r: &QemuReport, linux: Option<&(String, Vec<(String, CaseResult)>)>) {
    let verdict = match &r.outcome {
        Outcome::Passed => "passed".to_string(),
        Outcome::Failed(why) => format!("FAILED: {why}"),
        Outcome::DidNotBoot(why) => format!("DID NOT BOOT: {why}"),
    };
    println!("\n== kernel-stub on {} ({}): {verdict}", r.arch, r.accel);
    if let Some(h) = &r.heap_line {
        println!("   {h}");
    }
    if !r.passed() && !r.log.as_os_str().is_empty() {
        let log = std::fs::read_to_string(&r.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        println!("   console log: {} (last 25 lines)", r.log.display());
        for l in &lines[lines.len().saturating_sub(25)..] {
            println!("   | {}", printable(l));
        }
    }
    let stub: BTreeMap<&str, &CaseResult> = r.cases.iter().map(|(n, c)| (n.as_str(), c)).collect();
    let linux_map: BTreeMap<&str, &CaseResult> = linux
        .map(|(_, cs)| cs.iter().map(|(n, c)| (n.as_str(), c)).collect())
        .unwrap_or_default();
    let mut names: Vec<&str> = r.cases.iter().map(|(n, _)| n.as_str()).collect();
    if let Some((_, cs)) = linux {
        for (n, _) in cs {
            if !stub.contains_key(n.as_str()) {
                names.push(n);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let width = names.iter().map(|n| n.len()).max().unwrap_or(4).max(4);
    let linux_head = linux.map_or("", |(how, _)| how.as_str());
    if linux.is_none() {
        println!("   {:width$}  {:>6}", "case", "stub");
        for n in &names {
            let st = stub.get(n).map_or("-", |c| c.short());
            println!("   {n:width$}  {st:>6}");
        }
        return;
    }
    println!("   {:width$}  {:>6}  {:>6}", "case", "stub", "Linux");
    let mut diffs = Vec::new();
    for n in &names {
        let s = stub.get(n).map_or("-", |c| c.short());
        // Hostile-input cases that only make sense on the stub: nothing to compare.
        let stub_only = n.starts_with("stub-")
            && match linux_map.get(n) {
                None => true,
                Some(CaseResult::Skip(why)) => why.starts_with("stub-only"),
                Some(_) => false,
            };
        let l = if stub_only {
            "n/a"
        } else {
            linux_map.get(n).map_or("-", |c| c.short())
        };
        let differs = linux.is_some() && !stub_only && s != l;
        let mark = if differs { "  <- differs" } else { "" };
        println!("   {n:width$}  {s:>6}  {l:>6}{mark}");
        if differs {
            let detail = |c: Option<&&CaseResult>| match c {
                Some(CaseResult::Fail(d)) | Some(CaseResult::Skip(d)) if !d.is_empty() => {
                    format!(" ({d})")
                }
                _ => String::new(),
            };
            diffs.push(format!(
                "{n}: stub {s}{}; Linux {l}{}",
                detail(stub.get(n)),
                detail(linux_map.get(n))
            ));
        }
    }
    println!(
        "   (Linux column: {linux_head}; n/a = a hostile-input case that only makes sense on the stub, or any hostile-input case under qemu-user)"
    );
    if linux_head.contains("qemu-user") {
        println!(
            "   (qemu-user is not an errno oracle for clone: it refuses some valid flag sets, \
             so a difference here may be qemu-user's)"
        );
    }
    if diffs.is_empty() {
        if linux.is_some() {
            println!("   no differences from Linux");
        }
    } else {
        println!("   differences from Linux ({}):", diffs.len());
        for d in diffs {
            println!("     - {d}");
        }
    }
}

/// Builds and boots the given arches; prints everything; returns the reports.
fn run_arches(
    arches: &[StubArch],
    accel: &str,
    timeout: Duration,
    linux: bool,
    live: bool,
) -> Result<Vec<QemuReport>> {
    let mut reports = Vec::new();
    for &arch in arches {
        let (accels, why) = accels(arch, accel)?;
        println!("\n== {}: accelerator {why}", arch.name());
        let report = match build(arch, false) {
            Ok(kernel) => boot_each(arch, &kernel, &accels, timeout, live)?,
            Err(e) => QemuReport {
                arch: arch.name(),
                accel: accels
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(" and "),
                outcome: Outcome::DidNotBoot(format!("build failed: {e:#}")),
                cases: Vec::new(),
                heap_line: None,
                log: PathBuf::new(),
            },
        };
        let boot = match &report.outcome {
            Outcome::Passed => CaseResult::Pass,
            Outcome::Failed(w) | Outcome::DidNotBoot(w) => CaseResult::Fail(w.clone()),
        };
        let mut cases = vec![("boot".to_string(), boot)];
        cases.extend(report.cases.iter().cloned());
        crate::junit::record_cases(&format!("stub {}", arch.name()), &cases);
        let linux_result = if linux { linux_cases(arch) } else { None };
        print_report(&report, linux_result.as_ref());
        reports.push(report);
    }
    println!("\n== summary");
    for r in &reports {
        let v = match &r.outcome {
            Outcome::Passed => "passed".to_string(),
            Outcome::Failed(w) => format!("FAILED ({w})"),
            Outcome::DidNotBoot(w) => format!("did not boot ({w})"),
        };
        let pass = r
            .cases
            .iter()
            .filter(|(_, c)| *c == CaseResult::Pass)
            .count();
        println!(
            "   {:8} {v}, {pass}/{} cases pass ({})",
            r.arch,
            r.cases.len(),
            r.accel
        );
    }
    Ok(reports)
}

/// Boots `kernel` under each accelerator in turn; with two, the second run's report is kept
/// and it fails unless both printed the same case lines and both passed.
fn boot_each(
    arch: StubArch,
    kernel: &Path,
    accels: &[Accel],
    timeout: Duration,
    live: bool,
) -> Result<QemuReport> {
    let mut reports = Vec::new();
    for &accel in accels {
        let start = Instant::now();
        let r = boot(arch, kernel, accel, timeout, live)?;
        println!(
            "   {} boot under {}: {:?} in {:.1}s",
            arch.name(),
            accel.name(),
            r.outcome,
            start.elapsed().as_secs_f64()
        );
        reports.push(r);
    }
    let mut last = reports.pop().context("at least one accelerator")?;
    if let Some(first) = reports.first() {
        last.accel = format!("{} = {}", first.accel, last.accel);
        if first.cases != last.cases || first.outcome != last.outcome {
            last.accel = format!("{} differs from {}", first.accel, last.accel);
            last.outcome = Outcome::Failed(format!(
                "{} and {} disagree (logs {} and {})",
                first.accel,
                accels[accels.len() - 1].name(),
                first.log.display(),
                last.log.display()
            ));
        }
    }
    Ok(last)
}

/// `cargo xtask qemu`.
pub fn run(args: Args) -> Result<()> {
    let arches = StubArch::parse_list(&value_names(&args.arch))?;
    let reports = run_arches(
        &arches,
        &args.accel,
        Duration::from_secs(args.timeout),
        !args.no_linux,
        args.verbose,
    )?;
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.arch)
        .collect();
    if !failed.is_empty() {
        bail!("kernel stub failed on: {}", failed.join(", "));
    }
    Ok(())
}

/// `cargo xtask run`: the quick-start demo. Boots the stub built with its `trace` feature,
/// which prints one line per clone and per exit (tid, stack, TLS, futex wake), and shows the
/// console live.
pub fn run_demo(args: RunArgs) -> Result<()> {
    let arches = StubArch::parse_list(&value_names(&[args.arch]))?;
    let [arch] = arches[..] else {
        bail!("`cargo xtask run` boots one arch; use `cargo xtask qemu --arch all` for all");
    };
    println!(
        "Building the conformance program and the kernel stub for {}...",
        arch.name()
    );
    let (accels, why) = accels(arch, &args.accel)?;
    let kernel = build(arch, true)?;
    println!(
        "\nBooting the stub in QEMU. Every clone, exec and exit is traced by the kernel:\n\
         `clone: parent tid P (pid G) -> child tid C (pid H, what it is)` with the child's\n\
         stack and TLS (a fork, a vfork child sharing memory, a thread of the same pid),\n\
         `exec:  tid C /bin/...` when a (vfork) child execs a program built into the kernel,\n\
         and `exit:  tid C status S, futex wake N` when the child's CLONE_CHILD_CLEARTID slot\n\
         is cleared and its joiner woken. `case ...` lines come from the user program; its\n\
         1,000-cycle leak tests and the hostile-input program are left out here (`cargo xtask\n\
         qemu` runs them).\n"
    );
    println!("Accelerator: {why}");
    let report = boot(
        arch,
        &kernel,
        accels[0],
        Duration::from_secs(args.timeout),
        true,
    )?;
    print_report(&report, None);
    if !report.passed() {
        bail!("the demo did not pass on {}", arch.name());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_base_literal_and_region_start() {
        let lit = "pub const USER_IMAGE_BASE: u64 = 0x0200_0000;\n";
        assert_eq!(
            const_value(lit, "USER_IMAGE_BASE").as_deref(),
            Some("0x0200_0000")
        );
        assert_eq!(parse_int("0x0200_0000"), Some(0x200_0000));
        assert_eq!(parse_int("4096"), Some(4096));
        assert_eq!(parse_int("USER_REGION.start"), None);
    }

    #[test]
    fn image_base_of_every_stub_arch() {
        // Expected values copied by hand from kernel-stub/src/arch/*/mod.rs.
        assert_eq!(StubArch::X86_64.user_image_base().unwrap(), 0x0200_0000);
        assert_eq!(StubArch::Aarch64.user_image_base().unwrap(), 0x0200_0000);
        assert_eq!(StubArch::Riscv64.user_image_base().unwrap(), 0x0200_0000);
    }

    #[test]
    fn arch_lists() {
        assert_eq!(StubArch::parse_list("all").unwrap(), StubArch::ALL.to_vec());
        assert_eq!(
            StubArch::parse_list("riscv64,x86_64").unwrap(),
            vec![StubArch::Riscv64, StubArch::X86_64]
        );
        assert!(StubArch::parse_list("sparc64").is_err());
        use clap::ValueEnum as _;
        for a in StubArch::ALL {
            let v = StubArchArg::from_str(a.name(), false).unwrap();
            assert_eq!(StubArch::parse_list(&value_names(&[v])).unwrap(), [a]);
        }
    }

    #[test]
    fn firmware_escapes_are_stripped() {
        assert_eq!(printable("\u{1b}[2J\u{1b}[0mSeaBIOS\r\n"), "SeaBIOS\n");
    }
}
