//! `cargo xtask explain`: Linux's answer to a `clone`/`clone3` request — accepted, or the errno
//! with the rule, the flags involved and the smallest fix — from clone-core's validator.
//!
//! One query on the command line prints a few readable lines; `--batch` reads one query per
//! line from stdin (the same syntax) and prints one machine-readable line per query:
//!
//! ```text
//! ok
//! EINVAL ThreadWithoutSighand CLONE_THREAD fix=add:CLONE_VM|CLONE_SIGHAND
//! EPERM NamespaceWithoutCapSysAdmin CLONE_NEWNET fix=add:CLONE_NEWUSER
//! E2BIG Clone3SizeAbovePage - fix=set:size=0x58
//! EINVAL ThreadOrParentWithExitSignal CLONE_THREAD fix=exit-signal:0+privilege:CAP_SYS_ADMIN
//! error <message>
//! ```
//!
//! Blank lines and lines starting with `#` are skipped (no output).
//!
//! `--syscall unshare|setns|fork|vfork` asks about the rest of the family instead
//! ([`crate::explain_family`]); `clone` is the default.

use std::fmt::Write as _;
use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use clone_core::error::CloneError;
use clone_core::flags::{self, CloneFlags, LegacyWord};
use clone_core::policy::LinuxVersion;
use clone_core::validate::{
    CloneArgs, KernelCloneArgs, LegacyCloneArgs, validate_clone, validate_clone3_bytes,
};
use clone_core::{Arch, Policy};

use crate::UsageError;

use crate::explain_family;

/// Which syscall a query is about.
#[derive(clap::ValueEnum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Syscall {
    /// `clone`, or `clone3` with `--clone3`.
    #[default]
    Clone,
    /// `unshare(FLAGS)`.
    Unshare,
    /// `setns(--fd, --nstype)`.
    Setns,
    /// `fork()`.
    Fork,
    /// `vfork()`.
    Vfork,
}

impl Syscall {
    /// The syscall's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clone => "clone",
            Self::Unshare => "unshare",
            Self::Setns => "setns",
            Self::Fork => "fork",
            Self::Vfork => "vfork",
        }
    }
}

/// A clone/clone3 (or unshare/setns/fork/vfork) request and the caller's situation.
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Flags: `CLONE_VM|CLONE_THREAD|SIGCHLD`, `VM|THREAD`, or a number. For `clone` a signal
    /// here is the exit signal (the low byte); for `--clone3` it stays in `flags`, as Linux
    /// would see it; for `unshare` it is the whole flags word.
    pub(crate) flags: Option<String>,
    /// The syscall: `clone` (default), `unshare`, `setns`, `fork` or `vfork`.
    #[arg(long, value_enum, default_value_t = Syscall::Clone)]
    pub(crate) syscall: Syscall,
    /// `unshare`/`setns`: the caller has this many threads, ordinary pthreads sharing VM, FS,
    /// FILES and SIGHAND.
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: u32,
    /// `setns` fd: `ns:<type>` (mnt uts ipc net pid user cgroup time: the caller's own current
    /// namespace), `pidfd` (a live child in all the caller's namespaces), `file` (a regular
    /// file) or `closed`.
    #[arg(long)]
    pub(crate) fd: Option<String>,
    /// `setns` nstype flags (default 0).
    #[arg(long)]
    pub(crate) nstype: Option<String>,
    /// Ask about `clone3` instead of `clone`.
    #[arg(long)]
    pub(crate) clone3: bool,
    /// `exit_signal` (number or name; for `clone` it replaces the low byte).
    #[arg(long)]
    exit_signal: Option<String>,
    /// `clone3` size argument (default 88).
    #[arg(long, value_parser = parse_u64)]
    size: Option<u64>,
    /// Stack address (`clone`: new SP; `clone3`: lowest address).
    #[arg(long, value_parser = parse_u64)]
    stack: Option<u64>,
    /// `clone3` stack size.
    #[arg(long, value_parser = parse_u64)]
    stack_size: Option<u64>,
    /// `tls` value.
    #[arg(long, value_parser = parse_u64)]
    tls: Option<u64>,
    /// `set_tid` entries, comma separated (innermost pid namespace first).
    #[arg(long, value_delimiter = ',')]
    set_tid: Vec<i32>,
    /// `set_tid_size` (default: the number of `--set-tid` entries; entries not given read as
    /// pid 300, taken to be free).
    #[arg(long, value_parser = parse_u64)]
    set_tid_size: Option<u64>,
    /// `cgroup` fd for `CLONE_INTO_CGROUP`.
    #[arg(long, value_parser = parse_u64)]
    cgroup: Option<u64>,
    /// Architecture (the names below, or an alias such as `amd64`, `arm64`, `armhf`, `ppc64le`).
    #[arg(long, default_value = "x86_64", value_parser = ArchParser)]
    arch: Arch,
    /// Linux version: `6.1`, `6.12`, `6.18`, `mainline` (2026), or any `major.minor`.
    #[arg(long, default_value = "6.18")]
    linux: String,
    /// The caller lacks CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE.
    #[arg(long)]
    pub(crate) unprivileged: bool,
    /// The caller is the init of its pid namespace (SIGNAL_UNKILLABLE).
    #[arg(long)]
    pid_ns_init: bool,
    /// The caller ran `unshare(CLONE_NEWPID)` (children go to a new pid namespace).
    #[arg(long)]
    after_unshare_pid: bool,
    /// Read one query per line from stdin; print one machine-readable answer per line.
    #[arg(long)]
    batch: bool,
    /// Print each answer as one JSON object (errno, number, rule, kernel function, flags, fix).
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when Linux would refuse the call (any query, with `--batch`).
    #[arg(long)]
    exit_code: bool,
}

/// One batch line, parsed with the same options.
#[derive(Parser)]
#[command(name = "query", no_binary_name = true)]
struct Line {
    #[command(flatten)]
    args: Args,
}

fn parse_u64(s: &str) -> Result<u64> {
    let s = s.replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .map_err(|e| anyhow!("`{s}`: {e}"))
}

fn parse_signal(s: &str) -> Result<u64> {
    if let Ok(n) = parse_u64(s) {
        return Ok(n);
    }
    let up = s.to_ascii_uppercase();
    flags::signal_number(&up)
        .map(u64::from)
        .ok_or_else(|| anyhow!("`{s}` is not a signal"))
}

fn parse_version(s: &str) -> Result<LinuxVersion> {
    if matches!(s, "mainline" | "2026" | "mainline-2026") {
        return Ok(LinuxVersion::MAINLINE_2026);
    }
    let (maj, rest) = s
        .split_once('.')
        .ok_or_else(|| anyhow!("--linux `{s}`: expected major.minor[.patch] or `mainline`"))?;
    let (min, patch) = rest.split_once('.').unwrap_or((rest, "0"));
    Ok(LinuxVersion::new(
        maj.parse().context("--linux major")?,
        min.parse().context("--linux minor")?,
    )
    .with_patch(patch.parse().context("--linux patch level")?))
}

/// The request, resolved: policy plus what to validate.
struct Query {
    policy: Policy,
    call: Call,
}

enum Call {
    Legacy(LegacyCloneArgs),
    Clone3 {
        bytes: Vec<u8>,
        tids: Vec<i32>,
        args: CloneArgs,
    },
}

/// Placeholder user pointers for the pidfd and parent_tid slots (distinct, writable).
const PIDFD_SLOT: u64 = 0x1000;
const PTID_SLOT: u64 = 0x1008;
const SET_TID_PTR: u64 = 0x2000;

/// `--arch`: any name [`Arch::from_name`] knows; `--help` lists the canonical ones.
#[derive(Copy, Clone)]
struct ArchParser;

impl clap::builder::TypedValueParser for ArchParser {
    type Value = Arch;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Arch, clap::Error> {
        value.to_str().and_then(Arch::from_name).ok_or_else(|| {
            let known: Vec<&str> = Arch::ALL.iter().map(|a| a.name()).collect();
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "unknown arch `{}`; known: {}\n",
                    value.to_string_lossy(),
                    known.join(", ")
                ),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Arch::ALL
                .iter()
                .map(|a| clap::builder::PossibleValue::new(a.name())),
        ))
    }
}

/// The caller's policy from the options every syscall shares.
fn policy_of(a: &Args) -> Result<Policy> {
    let mut policy = Policy::linux(a.arch, parse_version(&a.linux)?);
    if a.unprivileged {
        policy = policy.unprivileged();
    }
    Ok(policy
        .with_pid_ns_init(a.pid_ns_init)
        .with_pid_ns_for_children_differs(a.after_unshare_pid))
}

fn resolve(a: &Args) -> Result<Query> {
    let policy = policy_of(a)?;
    let arch = policy.arch;
    let text = a.flags.as_deref().unwrap_or("0");
    let parsed = flags::parse(text).map_err(|e| anyhow!("{e}"))?;
    let exit_signal = a.exit_signal.as_deref().map(parse_signal).transpose()?;
    let call = if a.clone3 {
        let flags = parsed.flags.bits() | parsed.signal.unwrap_or(0);
        let set_tid_size = a.set_tid_size.unwrap_or(a.set_tid.len() as u64);
        let mut tids = a.set_tid.clone();
        tids.resize(tids.len().max(64), 300);
        let args = CloneArgs {
            flags,
            pidfd: PIDFD_SLOT,
            parent_tid: PTID_SLOT,
            child_tid: PTID_SLOT + 8,
            exit_signal: exit_signal.unwrap_or(0),
            stack: a.stack.unwrap_or(0),
            stack_size: a.stack_size.unwrap_or(0),
            tls: a.tls.unwrap_or(0),
            set_tid: if set_tid_size > 0 { SET_TID_PTR } else { 0 },
            set_tid_size,
            cgroup: a.cgroup.unwrap_or(0),
        };
        let size = a.size.unwrap_or(88);
        if size > 1 << 20 {
            bail!("--size {size}: too big to build (Linux refuses anything above a page anyway)");
        }
        let mut bytes = args.to_bytes(arch).to_vec();
        bytes.resize(size as usize, 0);
        Call::Clone3 { bytes, tids, args }
    } else {
        let mut word = parsed.legacy_word();
        if let Some(sig) = exit_signal {
            word = (word & !0xff) | (sig & 0xff);
        }
        Call::Legacy(LegacyCloneArgs {
            word,
            stack: a.stack.unwrap_or(0),
            stack_size: a.stack_size.unwrap_or(0),
            parent_tid: PTID_SLOT,
            child_tid: PTID_SLOT + 8,
            tls: a.tls.unwrap_or(0),
            via_clone2: false,
        })
    };
    Ok(Query { policy, call })
}

fn answer(q: &Query) -> Result<KernelCloneArgs, CloneError> {
    match &q.call {
        Call::Legacy(l) => validate_clone(l, &q.policy),
        Call::Clone3 { bytes, tids, .. } => validate_clone3_bytes(bytes, Some(tids), &q.policy),
    }
}

/// The one-line machine form of an answer.
pub(crate) fn batch_line<T>(r: &Result<T, CloneError>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => {
            let mut s = format!("{} {} ", e.errno, e.rule);
            if e.flags.is_empty() {
                s.push('-');
            } else {
                let _ = write!(s, "{}", e.flags);
            }
            s.push_str(" fix=");
            let _ = e.fix.write_machine(&mut s);
            s
        }
    }
}

/// The JSON form of an answer (see the module docs); `arch` numbers the errno.
fn json_answer<T>(r: &Result<T, CloneError>, arch: Arch) -> serde_json::Value {
    match r {
        Ok(_) => serde_json::json!({ "ok": true }),
        Err(e) => {
            let changes: Vec<String> = e
                .fix
                .changes()
                .map(|c| {
                    let mut s = String::new();
                    let _ = c.write_machine(&mut s);
                    s
                })
                .collect();
            let flags: Vec<String> = e.flags.iter().map(|f| f.to_string()).collect();
            serde_json::json!({
                "ok": false,
                "errno": e.errno.name(),
                "number": e.errno.raw_for(arch),
                "rule": e.rule.name(),
                "kernel_function": e.rule.kernel_function(),
                "flags": flags,
                "fix": {
                    "reach": e.fix.reach().name(),
                    "changes": changes,
                    "text": e.fix.to_string(),
                },
            })
        }
    }
}

/// The JSON answer to one query (any syscall) and whether Linux refuses it.
fn json_query(a: &Args) -> Result<(serde_json::Value, bool)> {
    if a.syscall == Syscall::Clone {
        let q = resolve(a)?;
        let r = answer(&q);
        Ok((json_answer(&r, q.policy.arch), r.is_err()))
    } else {
        let q = explain_family::resolve(a, policy_of(a)?)?;
        let (r, arch) = explain_family::answer_for_json(&q);
        Ok((json_answer(&r, arch), r.is_err()))
    }
}

/// One `--batch --json` line: the object (`{"error": …}` for a query that cannot be read)
/// and whether Linux refuses.
fn batch_json(line: &str) -> Option<(String, bool)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let parsed = Line::try_parse_from(line.split_whitespace()).map_err(|e| anyhow!("{e}"));
    Some(match parsed.and_then(|l| json_query(&l.args)) {
        Ok((v, refused)) => (v.to_string(), refused),
        Err(e) => {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad query").trim().to_string();
            (serde_json::json!({ "error": first }).to_string(), false)
        }
    })
}

/// Answers one batch line (`None` for blank/comment lines): the documented one-line form.
pub fn batch_answer(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let parsed = Line::try_parse_from(line.split_whitespace());
    Some(
        match parsed.map_err(|e| anyhow!("{e}")).and_then(|l| {
            if l.args.syscall == Syscall::Clone {
                resolve(&l.args).map(|q| batch_line(&answer(&q)))
            } else {
                let q = explain_family::resolve(&l.args, policy_of(&l.args)?)?;
                Ok(explain_family::batch_line(&q))
            }
        }) {
            Ok(line) => line,
            Err(e) => {
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("bad query").trim();
                format!("error {first}")
            }
        },
    )
}

fn describe_request(a: &Args, q: &Query) -> String {
    let who = if a.unprivileged {
        "unprivileged"
    } else {
        "privileged"
    };
    let what = match &q.call {
        Call::Legacy(l) => format!("clone({})", LegacyWord(l.word)),
        Call::Clone3 { bytes, args, .. } => format!(
            "clone3(flags={}, exit_signal={}, size={})",
            CloneFlags::from_bits_retain(args.flags),
            args.exit_signal,
            bytes.len()
        ),
    };
    format!(
        "{what} on Linux {} {}, {who}{}",
        q.policy.linux,
        q.policy.arch.name(),
        if a.pid_ns_init { ", pid-ns init" } else { "" }
    )
}

/// Extra lines explaining a multi-flag fix: why adding only part of it is not enough.
fn fix_notes(q: &Query, e: &CloneError) -> Vec<String> {
    let add = e.fix.added();
    if add.bits().count_ones() < 2 {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for (_, one) in add.iter_names() {
        let partial = match &q.call {
            Call::Legacy(l) => {
                let l2 = LegacyCloneArgs {
                    word: l.word | one.bits(),
                    ..*l
                };
                validate_clone(&l2, &q.policy)
            }
            Call::Clone3 { bytes, tids, args } => {
                let a2 = CloneArgs {
                    flags: args.flags | one.bits(),
                    ..*args
                };
                let mut b = a2.to_bytes(q.policy.arch).to_vec();
                b.resize(bytes.len(), 0);
                validate_clone3_bytes(&b, Some(tids), &q.policy)
            }
        };
        if let Err(e2) = partial
            && e2.rule != e.rule
        {
            notes.push(format!(
                "adding only {one} is not enough: {}",
                e2.rule.description()
            ));
        }
    }
    notes
}

fn human(a: &Args, q: &Query) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}:", describe_request(a, q));
    match answer(q) {
        Ok(k) => {
            let _ = writeln!(out, "  accepted: Linux would create the child");
            let _ = writeln!(
                out,
                "  kernel_clone_args: flags {} exit_signal {} stack {:#x} tls {:#x}",
                k.flags, k.exit_signal, k.stack, k.tls
            );
        }
        Err(e) => {
            out.push_str(&error_lines(&e));
            for n in fix_notes(q, &e) {
                let _ = writeln!(out, "         ({n})");
            }
        }
    }
    out
}

/// The readable lines of a refusal: errno and rule, flags, fix.
pub(crate) fn error_lines(e: &CloneError) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  {} — {}", e.errno, e.rule.description());
    let _ = writeln!(out, "  rule:  {} ({})", e.rule, e.rule.kernel_function());
    if !e.flags.is_empty() {
        let _ = writeln!(out, "  flags: {}", e.flags);
    }
    let _ = writeln!(out, "  fix:   {}", e.fix);
    out
}

/// Entry point for `cargo xtask explain`.
///
/// With `--exit-code` the status is 1 when Linux refuses (any query, with `--batch`); a
/// query that cannot be read is a usage error (status 2).
pub fn run(args: Args) -> Result<ExitCode> {
    let status = |refused: bool| {
        if refused && args.exit_code {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    };
    if args.batch {
        let stdin = std::io::stdin();
        let mut refused = false;
        for line in stdin.lock().lines() {
            let line = line?;
            if args.json {
                if let Some((ans, no)) = batch_json(&line) {
                    println!("{ans}");
                    refused |= no;
                }
            } else if let Some(ans) = batch_answer(&line) {
                refused |= !(ans == "ok" || ans.starts_with("ok ") || ans.starts_with("error "));
                println!("{ans}");
            }
        }
        return Ok(status(refused));
    }
    if args.syscall == Syscall::Clone && args.flags.is_none() {
        return Err(UsageError::error(
            "give the flags to explain (e.g. `cargo xtask explain CLONE_THREAD`) or --batch",
        ));
    }
    if args.json {
        let (v, refused) = json_query(&args).map_err(UsageError::from_error)?;
        println!("{v}");
        return Ok(status(refused));
    }
    if args.syscall != Syscall::Clone {
        let q =
            explain_family::resolve(&args, policy_of(&args)?).map_err(UsageError::from_error)?;
        print!("{}", explain_family::human(&args, &q));
        return Ok(status(explain_family::answer_for_json(&q).0.is_err()));
    }
    let q = resolve(&args).map_err(UsageError::from_error)?;
    print!("{}", human(&args, &q));
    Ok(status(answer(&q).is_err()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_format() {
        assert_eq!(
            batch_answer("CLONE_THREAD").as_deref(),
            Some("EINVAL ThreadWithoutSighand CLONE_THREAD fix=add:CLONE_VM|CLONE_SIGHAND")
        );
        assert_eq!(
            batch_answer("CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|SIGCHLD").as_deref(),
            Some("ok")
        );
        assert_eq!(
            batch_answer("CLONE_VM|CLONE_THREAD --clone3 --exit-signal 17").as_deref(),
            // exit-signal:0 alone would then fail ThreadWithoutSighand.
            Some(
                "EINVAL ThreadOrParentWithExitSignal CLONE_THREAD fix=add:CLONE_SIGHAND+exit-signal:0"
            )
        );
        assert_eq!(
            batch_answer("CLONE_NEWNET --unprivileged").as_deref(),
            Some("EPERM NamespaceWithoutCapSysAdmin CLONE_NEWNET fix=add:CLONE_NEWUSER")
        );
        assert_eq!(
            batch_answer("0 --clone3 --size 4097").as_deref(),
            Some("E2BIG Clone3SizeAbovePage - fix=set:size=0x58")
        );
        assert_eq!(
            batch_answer("CLONE_NEWTIME --clone3 --exit-signal SIGCHLD --linux 6.1").as_deref(),
            Some("EINVAL Clone3DetachedOrSignalBits CLONE_NEWTIME fix=remove:CLONE_NEWTIME")
        );
        // Compound: the exit signal must go, and set_tid on 5.6 needs CAP_SYS_ADMIN
        // (CAP_CHECKPOINT_RESTORE only counts from 5.9).
        assert_eq!(
            batch_answer(
                "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD --clone3 --exit-signal 17 --set-tid 5 \
                 --unprivileged --linux 5.6"
            )
            .as_deref(),
            Some(
                "EINVAL ThreadOrParentWithExitSignal CLONE_THREAD \
                 fix=exit-signal:0+privilege:CAP_SYS_ADMIN"
            )
        );
        assert_eq!(batch_answer("  # comment"), None);
        assert_eq!(batch_answer(""), None);
        assert!(batch_answer("CLONE_BOGUS").unwrap().starts_with("error "));
        assert!(
            batch_answer("0 --no-such-option")
                .unwrap()
                .starts_with("error ")
        );
    }

    #[test]
    fn json_answers_parse_and_carry_every_field() {
        let parse = |q: &str| -> (serde_json::Value, bool) {
            let (line, refused) = batch_json(q).unwrap();
            (serde_json::from_str(&line).unwrap(), refused)
        };
        let (v, refused) = parse("CLONE_THREAD");
        assert!(refused);
        assert_eq!(v["ok"], false);
        assert_eq!(v["errno"], "EINVAL");
        assert_eq!(v["number"], 22);
        assert_eq!(v["rule"], "ThreadWithoutSighand");
        assert_eq!(v["kernel_function"], "copy_process");
        assert_eq!(v["flags"], serde_json::json!(["CLONE_THREAD"]));
        assert_eq!(v["fix"]["reach"], "arguments");
        assert_eq!(
            v["fix"]["changes"],
            serde_json::json!(["add:CLONE_VM|CLONE_SIGHAND"])
        );
        assert!(v["fix"]["text"].as_str().unwrap().contains("CLONE_SIGHAND"));
        // The number follows the queried arch: ENOSYS is 89 on mips.
        let (v, _) = parse("0 --clone3 --arch mips64 --linux 5.2");
        assert_eq!(
            (v["errno"].as_str(), v["number"].as_i64()),
            (Some("ENOSYS"), Some(89))
        );
        assert_eq!(
            parse("CLONE_VM|CLONE_SIGHAND|CLONE_THREAD"),
            (serde_json::json!({"ok": true}), false)
        );
        let (v, refused) = parse("CLONE_BOGUS");
        assert!(v["error"].as_str().unwrap().contains("CLONE_BOGUS") && !refused);
        // The rest of the family answers in the same shape.
        let (v, _) = parse("CLONE_THREAD --syscall unshare --unprivileged");
        assert!(v["ok"].is_boolean(), "{v}");
    }

    #[test]
    fn thread_explanation_mentions_the_chain() {
        let a = Line::try_parse_from(["CLONE_THREAD", "--arch", "x86_64", "--linux", "6.18"])
            .unwrap()
            .args;
        let text = human(&a, &resolve(&a).unwrap());
        assert!(
            text.contains("EINVAL — CLONE_THREAD requires CLONE_SIGHAND"),
            "{text}"
        );
        assert!(text.contains("fix:   add CLONE_VM|CLONE_SIGHAND"), "{text}");
        assert!(
            text.contains(
                "adding only CLONE_SIGHAND is not enough: CLONE_SIGHAND requires CLONE_VM"
            ),
            "{text}"
        );
    }
}
