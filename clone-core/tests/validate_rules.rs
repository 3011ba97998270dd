//! One test per kernel rule (each case breaks exactly that rule), precedence between rules,
//! and the fixes the validator proposes. Expected values are written by hand from
//! `shared/reference/linux-clone-facts.md` §1 and `kernel/fork.c`.
#![allow(missing_docs)]

use clone_core::error::{Change, Field, Fix, Privilege, Reach, Rule};
use clone_core::flags::{CloneFlags as C, NAMESPACE_FLAGS};
use clone_core::policy::LinuxVersion;
use clone_core::validate::{
    BYTES_BASE, CallerTask, CloneArgs, Fault, LegacyCloneArgs, NoMemory, SetnsFd, UserMemory,
    validate_clone, validate_clone_in, validate_clone_word, validate_clone3, validate_clone3_bytes,
    validate_fork, validate_setns, validate_unshare, validate_vfork,
};
use clone_core::{Arch, CloneError, Errno, Policy};

#[path = "support/fixcheck.rs"]
#[allow(dead_code)]
mod fixcheck;
use fixcheck::{MemMap, Region, check_clone3, check_legacy};

const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
const MAINLINE: Policy = Policy::linux(Arch::X86_64, LinuxVersion::MAINLINE_2026);
/// Debian sid's kernel, the one that showed `CLONE_EMPTY_MNTNS` and `kernel_clone`'s exit
/// signal check.
const LINUX_7_2: Policy = Policy::linux(Arch::X86_64, LinuxVersion::new(7, 2));
const SIGCHLD: u64 = 17;
const PTID: u64 = 0x1000;
const PIDFD: u64 = 0x1008;

fn args3(flags: C, exit_signal: u64) -> CloneArgs {
    CloneArgs {
        flags: flags.bits(),
        exit_signal,
        pidfd: PIDFD,
        parent_tid: PTID,
        ..CloneArgs::default()
    }
}

fn clone3(a: CloneArgs, policy: &Policy) -> Result<(), CloneError> {
    clone3_tids(a, &[], policy)
}

/// Every refusal met here also has its fix applied and re-validated (`support/fixcheck.rs`).
fn clone3_tids(a: CloneArgs, tids: &[i32], policy: &Policy) -> Result<(), CloneError> {
    let bytes = a.to_bytes(policy.arch);
    let r = validate_clone3_bytes(&bytes, Some(tids), policy).map(|_| ());
    let mut mem = MemMap::with(BYTES_BASE, bytes.to_vec());
    let tid_bytes = tids.iter().flat_map(|t| {
        if policy.arch.big_endian() {
            t.to_be_bytes()
        } else {
            t.to_le_bytes()
        }
    });
    mem.regions.push(Region {
        base: a.set_tid,
        bytes: tid_bytes.collect(),
        writable: true,
    });
    let same = validate_clone3(BYTES_BASE, 88, &mem, policy).map(|_| ());
    assert_eq!(same, r, "the fix check's memory model differs");
    check_clone3(BYTES_BASE, 88, &mem, policy).unwrap_or_else(|v| panic!("{v}"));
    r
}

/// Every refusal met here also has its fix applied and re-validated.
fn word(w: u64, policy: &Policy) -> Result<(), CloneError> {
    let args = LegacyCloneArgs {
        word: w,
        ..LegacyCloneArgs::default()
    };
    check_legacy(&args, &MemMap::with(0, Vec::new()), policy).unwrap_or_else(|v| panic!("{v}"));
    validate_clone_word(w, policy).map(|_| ())
}

#[track_caller]
fn expect(r: Result<(), CloneError>, rule: Rule, errno: Errno) -> CloneError {
    let e = r.expect_err("expected a refusal");
    assert_eq!((e.rule, e.errno), (rule, errno), "{e}");
    e
}

/// A memory whose pidfd slot cannot be written.
struct ReadOnly;
impl UserMemory for ReadOnly {
    fn read(&self, _: u64, _: &mut [u8]) -> Result<(), Fault> {
        Err(Fault)
    }
    fn writable(&self, _: u64, _: u64) -> bool {
        false
    }
}

/// The struct at 0x10000, readable only in `readable`.
struct Window<'a> {
    bytes: &'a [u8],
    readable: core::ops::Range<u64>,
}
impl UserMemory for Window<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        let end = addr + out.len() as u64;
        if addr < self.readable.start || end > self.readable.end {
            return Err(Fault);
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = self
                .bytes
                .get((addr - 0x10000) as usize + i)
                .copied()
                .unwrap_or(0);
        }
        Ok(())
    }
}

/// Returns the rule each case breaks; `every_rule_has_a_case` checks all rules are covered.
fn case_for(rule: Rule) -> Result<(), CloneError> {
    let thread = C::THREAD | C::SIGHAND | C::VM;
    match rule {
        Rule::Clone3Unavailable => clone3(args3(C::empty(), SIGCHLD), &P.with_arch(Arch::Sparc64)),
        Rule::Clone3SizeAbovePage => validate_clone3_bytes(&[0u8; 4097], None, &P).map(|_| ()),
        Rule::Clone3SizeBelowVer0 => validate_clone3_bytes(&[0u8; 63], None, &P).map(|_| ()),
        Rule::Clone3NonZeroTail => {
            let mut b = [0u8; 96];
            b[95] = 1;
            validate_clone3_bytes(&b, None, &P).map(|_| ())
        }
        Rule::ArgsFault => validate_clone3(0x1000, 88, &NoMemory, &P).map(|_| ()),
        Rule::SetTidSizeAboveMax => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 33;
            clone3(a, &P)
        }
        Rule::SetTidNullWithSize => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid_size = 1;
            clone3(a, &P)
        }
        Rule::SetTidSizeZeroWithPointer => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            clone3(a, &P)
        }
        Rule::Clone3BadExitSignal => clone3(args3(C::empty(), 65), &P),
        Rule::IntoCgroupBadFd => {
            let mut a = args3(C::INTO_CGROUP, SIGCHLD);
            a.cgroup = 1 << 31;
            clone3(a, &P)
        }
        Rule::IntoCgroupStructTooSmall => {
            let b = args3(C::INTO_CGROUP, SIGCHLD).to_bytes(Arch::X86_64);
            validate_clone3_bytes(&b[..80], None, &P).map(|_| ())
        }
        Rule::SetTidFault => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 1;
            validate_clone3_bytes(&a.to_bytes(Arch::X86_64), None, &P).map(|_| ())
        }
        Rule::Clone3UnknownFlags => clone3(args3(C::from_bits_retain(1 << 63), SIGCHLD), &P),
        Rule::Clone3DetachedOrSignalBits => clone3(args3(C::DETACHED, SIGCHLD), &P),
        Rule::SighandWithClearSighand => {
            clone3(args3(C::SIGHAND | C::VM | C::CLEAR_SIGHAND, SIGCHLD), &P)
        }
        Rule::ThreadOrParentWithExitSignal => clone3(args3(C::PARENT, SIGCHLD), &P),
        Rule::Clone3StackWithoutSize => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.stack = 0x10_0000;
            clone3(a, &P)
        }
        Rule::Clone3SizeWithoutStack => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.stack_size = 0x1000;
            clone3(a, &P)
        }
        Rule::StackNotAccessible => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.stack = 0x7fff_ffff_f000;
            a.stack_size = 0x1000;
            clone3(a, &P)
        }
        Rule::PidfdWithParentSettidSameSlot => word((C::PIDFD | C::PARENT_SETTID).bits(), &P),
        Rule::InvalidExitSignal => word(0x41, &LINUX_7_2),
        Rule::NewnsWithFs => word((C::NEWNS | C::FS).bits(), &P),
        Rule::NewuserWithFs => word((C::NEWUSER | C::FS).bits(), &P),
        Rule::ThreadWithoutSighand => word((C::THREAD | C::VM).bits(), &P),
        Rule::SighandWithoutVm => word(C::SIGHAND.bits(), &P),
        Rule::ParentFromInit => word(C::PARENT.bits(), &P.with_pid_ns_init(true)),
        Rule::ThreadWithNewPidOrUser => word((thread | C::NEWPID).bits(), &P),
        Rule::ThreadAcrossPidNs => word(thread.bits(), &P.with_pid_ns_for_children_differs(true)),
        Rule::PidfdWithDetached => word((C::PIDFD | C::DETACHED).bits(), &P),
        Rule::PidfdWithThread => word(
            (C::PIDFD | thread).bits(),
            &P.with_linux(LinuxVersion::V6_1),
        ),
        Rule::AutoreapWithThread => clone3(args3(C::AUTOREAP | thread, 0), &MAINLINE),
        Rule::AutoreapWithParent => clone3(args3(C::AUTOREAP | C::PARENT, 0), &MAINLINE),
        Rule::AutoreapWithExitSignal => clone3(args3(C::AUTOREAP, SIGCHLD), &MAINLINE),
        Rule::ParentFromAutoreap => {
            clone3(args3(C::PARENT, 0), &MAINLINE.with_autoreap_parent(true))
        }
        Rule::NnpWithThread => clone3(args3(C::NNP | thread, 0), &MAINLINE),
        Rule::AutokillWithoutPidfd => clone3(args3(C::PIDFD_AUTOKILL | C::AUTOREAP, 0), &MAINLINE),
        Rule::AutokillWithoutAutoreap => clone3(args3(C::PIDFD_AUTOKILL | C::PIDFD, 0), &MAINLINE),
        Rule::AutokillWithThread => clone3(
            args3(C::PIDFD_AUTOKILL | C::PIDFD | C::AUTOREAP | thread, 0),
            // AUTOREAP|THREAD would fire first; this is the pre-AUTOREAP-check path
            // exercised through AUTOKILL alone: see autokill_with_thread below.
            &MAINLINE,
        ),
        Rule::AutokillNeedsPrivilege => clone3(
            args3(C::PIDFD_AUTOKILL | C::PIDFD | C::AUTOREAP, 0),
            &MAINLINE.unprivileged(),
        ),
        Rule::NewuserNotPermitted => word(C::NEWUSER.bits(), &P.with_user_ns_allowed(false)),
        Rule::NamespaceWithoutCapSysAdmin => word(C::NEWNET.bits(), &P.unprivileged()),
        Rule::NewipcWithSysvsem => word((C::NEWIPC | C::SYSVSEM).bits(), &P),
        Rule::NamespaceNotConfigured => word(
            C::NEWNET.bits(),
            &P.with_namespaces_configured(NAMESPACE_FLAGS.difference(C::NEWNET)),
        ),
        Rule::NewpidAfterUnsharePid => {
            word(C::NEWPID.bits(), &P.with_pid_ns_for_children_differs(true))
        }
        Rule::PidNsTooDeep => word(C::NEWPID.bits(), &P.with_pid_ns_level(32)),
        Rule::TlsOutOfRange => validate_clone(
            &LegacyCloneArgs {
                word: C::SETTLS.bits() | SIGCHLD,
                tls: 1 << 63,
                ..LegacyCloneArgs::default()
            },
            &P,
        )
        .map(|_| ()),
        Rule::SetTidSizeAboveNsLevel => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 2;
            clone3_tids(a, &[500, 500], &P)
        }
        Rule::SetTidOutOfRange => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 1;
            clone3_tids(a, &[32768], &P)
        }
        Rule::SetTidNoReaper => {
            let mut a = args3(C::NEWPID, SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 1;
            clone3_tids(a, &[2], &P)
        }
        Rule::SetTidNotPermitted => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 1;
            clone3_tids(a, &[500], &P.unprivileged())
        }
        Rule::SetTidInUse => {
            let mut a = args3(C::empty(), SIGCHLD);
            a.set_tid = 0x2000;
            a.set_tid_size = 1;
            clone3_tids(a, &[1], &P)
        }
        Rule::PidfdWriteFault => validate_clone_in(
            &LegacyCloneArgs {
                word: C::PIDFD.bits() | SIGCHLD,
                parent_tid: 8,
                ..LegacyCloneArgs::default()
            },
            &ReadOnly,
            &P,
        )
        .map(|_| ()),
        Rule::IntoCgroupRejected => clone3(
            args3(C::INTO_CGROUP, SIGCHLD),
            &P.with_into_cgroup_error(Some(Errno::EBADF)),
        ),
        Rule::ForkUnavailable => validate_fork(&P.with_arch(Arch::Aarch64)).map(|_| ()),
        Rule::VforkUnavailable => validate_vfork(&P.with_arch(Arch::Mips64)).map(|_| ()),
        Rule::UserDescFault
        | Rule::UserDescInvalid
        | Rule::UserDescEntryOutOfRange
        | Rule::UnshareUnknownFlags
        | Rule::UnshareThreadGroupShared
        | Rule::UnshareSighandShared
        | Rule::UnshareVmShared
        | Rule::UserNsTooDeep
        | Rule::UnshareWithoutCapSysAdmin => family_case(rule),
        Rule::SetnsBadFd
        | Rule::SetnsNstypeMismatch
        | Rule::SetnsNotNamespaceFd
        | Rule::SetnsBadNstype
        | Rule::SetnsNamespaceNotConfigured
        | Rule::SetnsTargetNotPtraceable
        | Rule::SetnsOwnUserNs
        | Rule::SetnsMntWithoutCap
        | Rule::SetnsMntSharedFs
        | Rule::SetnsWithoutCapSysAdmin
        | Rule::SetnsTimeMultithreaded => setns_case(rule),
        _ => panic!("no case for {rule}: add one"),
    }
}

/// i386 `user_desc` and `unshare` cases (issue 9).
fn family_case(rule: Rule) -> Result<(), CloneError> {
    let one = CallerTask::SINGLE;
    let unshare =
        |f: C, caller: &CallerTask, p: &Policy| validate_unshare(f.bits(), caller, p).map(|_| ());
    // An i386 CLONE_SETTLS clone whose tls points at `desc` (entry, base, limit, flag bits).
    let settls = |desc: Option<[u32; 4]>| {
        let bytes: Vec<u8> = desc
            .unwrap_or_default()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let mem = clone_core::validate::SliceMemory {
            base: 0x4000,
            bytes: &bytes,
        };
        let p = P.with_arch(Arch::I386).with_task_size_max(P.task_size_max);
        let tls = if desc.is_some() { 0x4000 } else { 0x9000 };
        let args = LegacyCloneArgs {
            word: C::SETTLS.bits() | SIGCHLD,
            tls,
            ..Default::default()
        };
        validate_clone_in(&args, &mem, &p).map(|_| ())
    };
    match rule {
        Rule::UserDescFault => settls(None),
        // 16-bit data segment.
        Rule::UserDescInvalid => settls(Some([12, 0x1000, 0xfff, 0])),
        Rule::UserDescEntryOutOfRange => settls(Some([11, 0, 0, 0])),
        Rule::UnshareUnknownFlags => unshare(C::PARENT, &one, &P),
        Rule::UnshareThreadGroupShared => unshare(C::THREAD, &CallerTask::threads(2), &P),
        Rule::UnshareSighandShared => {
            let c = CallerTask {
                sighand_shared: true,
                ..one
            };
            unshare(C::SIGHAND, &c, &P)
        }
        Rule::UnshareVmShared => unshare(
            C::VM,
            &CallerTask {
                mm_shared: true,
                ..one
            },
            &P,
        ),
        Rule::UserNsTooDeep => unshare(C::NEWUSER, &one.with_user_ns_level(33), &P),
        Rule::UnshareWithoutCapSysAdmin => unshare(C::NEWUTS, &one, &P.unprivileged()),
        _ => unreachable!("{rule}"),
    }
}

/// `setns` cases (issue 9).
fn setns_case(rule: Rule) -> Result<(), CloneError> {
    let one = CallerTask::SINGLE;
    let many = CallerTask::threads(2);
    let setns = |fd: SetnsFd, t: C, caller: &CallerTask, p: &Policy| {
        validate_setns(fd, t.bits(), caller, p).map(|_| ())
    };
    let own = SetnsFd::OwnNamespace;
    match rule {
        Rule::SetnsBadFd => setns(SetnsFd::Closed, C::empty(), &one, &P),
        Rule::SetnsNstypeMismatch => setns(own(C::NEWNET), C::NEWIPC, &one, &P),
        Rule::SetnsNotNamespaceFd => setns(SetnsFd::Other, C::empty(), &one, &P),
        Rule::SetnsBadNstype => setns(SetnsFd::PIDFD, C::empty(), &one, &P),
        Rule::SetnsNamespaceNotConfigured => {
            let p = P.with_namespaces_configured(C::empty());
            setns(SetnsFd::PIDFD, C::NEWNET, &one, &p)
        }
        Rule::SetnsTargetNotPtraceable => {
            let fd = SetnsFd::Pidfd {
                ptrace_readable: false,
            };
            setns(fd, C::NEWNET, &one, &P)
        }
        Rule::SetnsOwnUserNs => setns(own(C::NEWUSER), C::empty(), &one, &P),
        Rule::SetnsMntWithoutCap => setns(own(C::NEWNS), C::empty(), &one, &P.unprivileged()),
        Rule::SetnsMntSharedFs => setns(own(C::NEWNS), C::empty(), &many, &P),
        Rule::SetnsWithoutCapSysAdmin => setns(own(C::NEWUTS), C::empty(), &one, &P.unprivileged()),
        Rule::SetnsTimeMultithreaded => setns(own(C::NEWTIME), C::empty(), &many, &P),
        _ => unreachable!("{rule}"),
    }
}

#[test]
fn every_rule_has_a_case_that_breaks_exactly_it() {
    for rule in Rule::ALL {
        let r = case_for(rule);
        if rule == Rule::AutokillWithThread {
            // AUTOREAP|THREAD is checked first (copy_process order), see the dedicated test.
            expect(r, Rule::AutoreapWithThread, Errno::EINVAL);
            continue;
        }
        expect(r, rule, rule.errno());
    }
}

#[test]
fn autokill_with_thread() {
    // AUTOKILL needs AUTOREAP, and AUTOREAP|THREAD fires before the AUTOKILL block, so the
    // AutokillWithThread check is unreachable in the 2026 kernel order: every THREAD request
    // with AUTOKILL fails earlier. The rule stays modelled because fork.c has it.
    let thread = C::THREAD | C::SIGHAND | C::VM;
    let e = clone3(args3(C::PIDFD_AUTOKILL | C::PIDFD | thread, 0), &MAINLINE).unwrap_err();
    assert_eq!(e.rule, Rule::AutokillWithoutAutoreap);
}

#[test]
fn each_rule_errno_by_hand() {
    let by_hand: &[(Rule, Errno)] = &[
        (Rule::Clone3Unavailable, Errno::ENOSYS),
        (Rule::Clone3SizeAbovePage, Errno::E2BIG),
        (Rule::Clone3SizeBelowVer0, Errno::EINVAL),
        (Rule::Clone3NonZeroTail, Errno::E2BIG),
        (Rule::ArgsFault, Errno::EFAULT),
        (Rule::SetTidFault, Errno::EFAULT),
        (Rule::StackNotAccessible, Errno::EINVAL),
        (Rule::InvalidExitSignal, Errno::EINVAL),
        (Rule::AutokillNeedsPrivilege, Errno::EPERM),
        (Rule::NewuserNotPermitted, Errno::EPERM),
        (Rule::NamespaceWithoutCapSysAdmin, Errno::EPERM),
        (Rule::NamespaceNotConfigured, Errno::EINVAL),
        (Rule::PidNsTooDeep, Errno::ENOSPC),
        (Rule::TlsOutOfRange, Errno::EPERM),
        (Rule::SetTidNotPermitted, Errno::EPERM),
        (Rule::SetTidInUse, Errno::EEXIST),
        (Rule::PidfdWriteFault, Errno::EFAULT),
    ];
    for &(rule, errno) in by_hand {
        assert_eq!(rule.errno(), errno, "{rule}");
    }
}

// ---- precedence: two rules broken, the earlier one in the kernel's order wins ----

#[test]
fn clone3_unavailable_before_size() {
    let p = P.with_arch(Arch::Ia64).with_linux(LinuxVersion::V6_1);
    expect(
        validate_clone3_bytes(&[0u8; 5000], None, &p).map(|_| ()),
        Rule::Clone3Unavailable,
        Errno::ENOSYS,
    );
}

#[test]
fn size_above_page_before_fault() {
    expect(
        validate_clone3(0, 8192, &NoMemory, &P).map(|_| ()),
        Rule::Clone3SizeAbovePage,
        Errno::E2BIG,
    );
    expect(
        validate_clone3(0, 8, &NoMemory, &P).map(|_| ()),
        Rule::Clone3SizeBelowVer0,
        Errno::EINVAL,
    );
}

#[test]
fn tail_is_checked_before_head() {
    // copy_struct_from_user runs check_zeroed_user on the tail first: an unreadable head with
    // a readable non-zero tail gives E2BIG, not EFAULT.
    let mut b = [0u8; 96];
    b[90] = 7;
    let mem = Window {
        bytes: &b,
        readable: 0x10000 + 88..0x10000 + 96,
    };
    expect(
        validate_clone3(0x10000, 96, &mem, &P).map(|_| ()),
        Rule::Clone3NonZeroTail,
        Errno::E2BIG,
    );
    // A zero tail then the unreadable head: EFAULT.
    let z = [0u8; 96];
    let mem = Window {
        bytes: &z,
        readable: 0x10000 + 88..0x10000 + 96,
    };
    expect(
        validate_clone3(0x10000, 96, &mem, &P).map(|_| ()),
        Rule::ArgsFault,
        Errno::EFAULT,
    );
    // A non-zero byte after an unreadable word: the fault is met first.
    let mut b = [0u8; 112];
    b[104] = 1;
    let mem = Window {
        bytes: &b,
        readable: 0x10000..0x10000 + 96,
    };
    expect(
        validate_clone3(0x10000, 112, &mem, &P).map(|_| ()),
        Rule::ArgsFault,
        Errno::EFAULT,
    );
}

#[test]
fn exit_signal_limit_is_the_arch_nsig() {
    // valid_signal() accepts 0..=_NSIG; _NSIG is 64 in asm-generic and 128 in
    // arch/mips/include/uapi/asm/signal.h, so mips takes exit signals 65..=128 from clone3.
    let mips = Policy::linux(Arch::Mips64, LinuxVersion::V6_18);
    let hppa = Policy::linux(Arch::Hppa, LinuxVersion::V6_18);
    assert_eq!(clone3(args3(C::empty(), 64), &P), Ok(()));
    expect(
        clone3(args3(C::empty(), 65), &P),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    expect(
        clone3(args3(C::empty(), 65), &hppa),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    assert_eq!(clone3(args3(C::empty(), 65), &mips), Ok(()));
    assert_eq!(clone3(args3(C::empty(), 128), &mips), Ok(()));
    expect(
        clone3(args3(C::empty(), 129), &mips),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
}

#[test]
fn copy_stage_order() {
    // set_tid_size > 32 beats a bad exit signal and unknown flags.
    let mut a = args3(C::from_bits_retain(1 << 63), 65);
    a.set_tid = 0x2000;
    a.set_tid_size = 40;
    expect(clone3(a, &P), Rule::SetTidSizeAboveMax, Errno::EINVAL);
    // A bad exit signal beats the cgroup check and unknown flags.
    let mut a = args3(C::INTO_CGROUP | C::from_bits_retain(1 << 63), 65);
    a.cgroup = u64::MAX;
    expect(clone3(a, &P), Rule::Clone3BadExitSignal, Errno::EINVAL);
    // With size 80 the cgroup field is not read (zero-filled), so a huge fd in the bytes
    // past the size never meets the INT_MAX check: the size check fires.
    let mut a = args3(C::INTO_CGROUP, SIGCHLD);
    a.cgroup = 1 << 40;
    let b = a.to_bytes(Arch::X86_64);
    expect(
        validate_clone3_bytes(&b[..80], None, &P).map(|_| ()),
        Rule::IntoCgroupStructTooSmall,
        Errno::EINVAL,
    );
    // The cgroup check beats the set_tid fault.
    let mut a = args3(C::INTO_CGROUP, SIGCHLD);
    a.cgroup = 1 << 31;
    a.set_tid = 0x2000;
    a.set_tid_size = 1;
    expect(
        validate_clone3_bytes(&a.to_bytes(Arch::X86_64), None, &P).map(|_| ()),
        Rule::IntoCgroupBadFd,
        Errno::EINVAL,
    );
    // The set_tid fault beats every clone3_args_valid rule.
    let mut a = args3(C::DETACHED | C::from_bits_retain(1 << 40), 0);
    a.set_tid = 0x2000;
    a.set_tid_size = 1;
    expect(
        validate_clone3_bytes(&a.to_bytes(Arch::X86_64), None, &P).map(|_| ()),
        Rule::SetTidFault,
        Errno::EFAULT,
    );
}

#[test]
fn clone3_args_valid_order() {
    let unknown = C::from_bits_retain(1 << 40);
    expect(
        clone3(
            args3(unknown | C::DETACHED | C::SIGHAND | C::CLEAR_SIGHAND, 0),
            &P,
        ),
        Rule::Clone3UnknownFlags,
        Errno::EINVAL,
    );
    expect(
        clone3(args3(C::DETACHED | C::SIGHAND | C::CLEAR_SIGHAND, 0), &P),
        Rule::Clone3DetachedOrSignalBits,
        Errno::EINVAL,
    );
    expect(
        clone3(
            args3(C::THREAD | C::SIGHAND | C::CLEAR_SIGHAND, SIGCHLD),
            &P,
        ),
        Rule::SighandWithClearSighand,
        Errno::EINVAL,
    );
    let mut a = args3(C::THREAD, SIGCHLD);
    a.stack = 0x1000;
    expect(
        clone3(a, &P),
        Rule::ThreadOrParentWithExitSignal,
        Errno::EINVAL,
    );
    // Stack rules come before kernel_clone and copy_process.
    let mut a = args3(C::PIDFD | C::PARENT_SETTID | C::NEWNS | C::FS, 0);
    a.pidfd = PTID;
    a.stack_size = 0x100;
    expect(clone3(a, &P), Rule::Clone3SizeWithoutStack, Errno::EINVAL);
}

#[test]
fn kernel_clone_before_copy_process() {
    expect(
        word(
            (C::PIDFD | C::PARENT_SETTID | C::NEWNS | C::FS | C::THREAD).bits(),
            &P,
        ),
        Rule::PidfdWithParentSettidSameSlot,
        Errno::EINVAL,
    );
    // clone3 with distinct slots passes this check and reaches copy_process.
    expect(
        clone3(
            args3(C::PIDFD | C::PARENT_SETTID | C::NEWNS | C::FS, SIGCHLD),
            &P,
        ),
        Rule::NewnsWithFs,
        Errno::EINVAL,
    );
    // Two NULL pointers are the same slot too.
    let mut a = args3(C::PIDFD | C::PARENT_SETTID, SIGCHLD);
    a.pidfd = 0;
    a.parent_tid = 0;
    expect(
        clone3(a, &P),
        Rule::PidfdWithParentSettidSameSlot,
        Errno::EINVAL,
    );
}

#[test]
fn copy_process_order() {
    let cases: &[(C, Rule)] = &[
        (C::NEWNS | C::FS | C::NEWUSER | C::THREAD, Rule::NewnsWithFs),
        (C::NEWUSER | C::FS | C::THREAD, Rule::NewuserWithFs),
        (C::THREAD | C::PARENT, Rule::ThreadWithoutSighand),
        (C::SIGHAND | C::PIDFD | C::DETACHED, Rule::SighandWithoutVm),
        (
            C::THREAD | C::SIGHAND | C::VM | C::NEWPID | C::PIDFD | C::DETACHED,
            Rule::ThreadWithNewPidOrUser,
        ),
        (
            C::PIDFD | C::DETACHED | C::NEWIPC | C::SYSVSEM,
            Rule::PidfdWithDetached,
        ),
    ];
    for &(flags, rule) in cases {
        expect(word(flags.bits(), &P), rule, Errno::EINVAL);
    }
    // PARENT from init is checked before THREAD's namespace rule.
    expect(
        word(
            (C::PARENT | C::THREAD | C::SIGHAND | C::VM | C::NEWUSER).bits(),
            &P.with_pid_ns_init(true),
        ),
        Rule::ParentFromInit,
        Errno::EINVAL,
    );
    // THREAD is only refused for the flags; init may create threads.
    assert!(
        word(
            (C::THREAD | C::SIGHAND | C::VM).bits(),
            &P.with_pid_ns_init(true)
        )
        .is_ok()
    );
}

#[test]
fn eperm_comes_before_newipc_sysvsem() {
    let u = P.unprivileged();
    expect(
        word((C::NEWIPC | C::SYSVSEM).bits(), &u),
        Rule::NamespaceWithoutCapSysAdmin,
        Errno::EPERM,
    );
    // With CLONE_NEWUSER the capability is checked in the new user namespace: passes, and the
    // IPC/SEM conflict is what fails.
    expect(
        word((C::NEWUSER | C::NEWIPC | C::SYSVSEM).bits(), &u),
        Rule::NewipcWithSysvsem,
        Errno::EINVAL,
    );
    // An unprivileged NEWUSER|NEWNET is accepted.
    assert!(word((C::NEWUSER | C::NEWNET).bits(), &u).is_ok());
    // NEWUSER alone never needs CAP_SYS_ADMIN.
    assert!(word(C::NEWUSER.bits(), &u).is_ok());
    // User namespace creation (copy_creds) is refused before copy_namespaces.
    expect(
        word(
            (C::NEWUSER | C::NEWIPC | C::SYSVSEM).bits(),
            &u.with_user_ns_allowed(false),
        ),
        Rule::NewuserNotPermitted,
        Errno::EPERM,
    );
}

#[test]
fn namespace_creation_order() {
    // create_new_namespaces: mnt, uts, ipc, pid, cgroup, net, time.
    let none = C::empty();
    let p = P.with_namespaces_configured(none);
    let e = expect(
        word((C::NEWNET | C::NEWPID | C::NEWUTS).bits(), &p),
        Rule::NamespaceNotConfigured,
        Errno::EINVAL,
    );
    assert_eq!(e.flags, C::NEWUTS);
    let e = clone3(args3(C::NEWTIME | C::NEWCGROUP, SIGCHLD), &p).unwrap_err();
    assert_eq!(e.flags, C::NEWCGROUP);
    // Not configured NEWUSER is found at copy_creds, before any other namespace.
    let e = expect(
        word((C::NEWUSER | C::NEWNS).bits(), &p),
        Rule::NamespaceNotConfigured,
        Errno::EINVAL,
    );
    assert_eq!(e.flags, C::NEWUSER);
    // NEWPID after unshare(NEWPID) is found at the pid step, after an unconfigured NEWUTS.
    let q = P
        .with_pid_ns_for_children_differs(true)
        .with_namespaces_configured(NAMESPACE_FLAGS.difference(C::NEWUTS) | C::NEWUSER);
    let e = word((C::NEWPID | C::NEWUTS).bits(), &q).unwrap_err();
    assert_eq!((e.rule, e.flags), (Rule::NamespaceNotConfigured, C::NEWUTS));
}

#[test]
fn tls_after_namespaces_before_set_tid() {
    let l = LegacyCloneArgs {
        word: (C::SETTLS | C::NEWNET).bits() | SIGCHLD,
        tls: 0x7fff_ffff_f000,
        ..LegacyCloneArgs::default()
    };
    expect(
        validate_clone(&l, &P.unprivileged()).map(|_| ()),
        Rule::NamespaceWithoutCapSysAdmin,
        Errno::EPERM,
    );
    expect(
        validate_clone(&l, &P).map(|_| ()),
        Rule::TlsOutOfRange,
        Errno::EPERM,
    );
    // The last user address is fine; other arches do not check.
    let ok = LegacyCloneArgs {
        tls: 0x7fff_ffff_efff,
        ..l
    };
    assert!(validate_clone(&ok, &P).is_ok());
    assert!(validate_clone(&l, &P.with_arch(Arch::Aarch64)).is_ok());
    let mut a = args3(C::SETTLS, SIGCHLD);
    a.tls = 1 << 63;
    a.set_tid = 0x2000;
    a.set_tid_size = 1;
    let e = clone3_tids(a, &[0], &P).unwrap_err();
    assert_eq!(e.rule, Rule::TlsOutOfRange);
}

#[test]
fn set_tid_levels() {
    let mut a = args3(C::NEWPID, SIGCHLD);
    a.set_tid = 0x2000;
    // New pid ns: level 1, so up to two entries; set_tid[0] is for the new namespace.
    a.set_tid_size = 2;
    assert!(clone3_tids(a, &[1, 500], &P).is_ok());
    a.set_tid_size = 3;
    expect(
        clone3_tids(a, &[1, 500, 7], &P),
        Rule::SetTidSizeAboveNsLevel,
        Errno::EINVAL,
    );
    // Level by level, inner first: pid 1 for the new ns is fine, pid 1 in the parent ns is in
    // use (EEXIST) even though a later check would fail too.
    a.set_tid_size = 2;
    expect(
        clone3_tids(a, &[1, 1], &P),
        Rule::SetTidInUse,
        Errno::EEXIST,
    );
    // Out of range at level 0 beats everything at level 1.
    expect(
        clone3_tids(a, &[0, 1], &P),
        Rule::SetTidOutOfRange,
        Errno::EINVAL,
    );
    // Range is checked before the capability.
    let u = P.unprivileged();
    let mut b = args3(C::empty(), SIGCHLD);
    b.set_tid = 0x2000;
    b.set_tid_size = 1;
    expect(
        clone3_tids(b, &[-5], &u),
        Rule::SetTidOutOfRange,
        Errno::EINVAL,
    );
    expect(
        clone3_tids(b, &[300], &u),
        Rule::SetTidNotPermitted,
        Errno::EPERM,
    );
    // CAP_CHECKPOINT_RESTORE alone is enough on 5.9+.
    assert!(clone3_tids(b, &[300], &u.with_cap_checkpoint_restore(true)).is_ok());
    // An unprivileged NEWUSER|NEWPID owns the new pid ns, but not the outer one.
    let mut c = args3(C::NEWUSER | C::NEWPID, SIGCHLD);
    c.set_tid = 0x2000;
    c.set_tid_size = 1;
    assert!(clone3_tids(c, &[1], &u).is_ok());
    c.set_tid_size = 2;
    expect(
        clone3_tids(c, &[1, 300], &u),
        Rule::SetTidNotPermitted,
        Errno::EPERM,
    );
    // After unshare(NEWPID), the children's ns has no init: only pid 1 there.
    let d = P.with_pid_ns_for_children_differs(true);
    expect(
        clone3_tids(b, &[300], &d),
        Rule::SetTidNoReaper,
        Errno::EINVAL,
    );
    assert!(clone3_tids(b, &[1], &d).is_ok());
}

#[test]
fn set_tid_size_zero_with_newpid_reaches_no_set_tid_rules() {
    assert!(clone3(args3(C::NEWPID, SIGCHLD), &P).is_ok());
}

#[test]
fn pidfd_write_after_alloc_pid_and_cgroup_last() {
    let mut a = args3(C::PIDFD | C::INTO_CGROUP, SIGCHLD);
    a.set_tid = 0x2000;
    a.set_tid_size = 1;
    let p = P.with_into_cgroup_error(Some(Errno::EACCES));
    expect(clone3_tids(a, &[1], &p), Rule::SetTidInUse, Errno::EEXIST);
    let e = expect(
        clone3_tids(a, &[400], &p),
        Rule::IntoCgroupRejected,
        Errno::EACCES,
    );
    assert_eq!(
        e.fix.changes().next(),
        Some(Change::ValidValue(Field::Cgroup))
    );
    let b = a.to_bytes(Arch::X86_64);
    let mem = ReadOnlyTids {
        bytes: &b,
        tids: &[400],
    };
    expect(
        validate_clone3(0x10000, 88, &mem, &p).map(|_| ()),
        Rule::PidfdWriteFault,
        Errno::EFAULT,
    );
}

/// The struct at 0x10000 and the tids at 0x2000 readable, nothing writable.
struct ReadOnlyTids<'a> {
    bytes: &'a [u8],
    tids: &'a [i32],
}
impl UserMemory for ReadOnlyTids<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        if addr == 0x2000 {
            for (c, t) in out.chunks_mut(4).zip(self.tids) {
                c.copy_from_slice(&t.to_le_bytes());
            }
            return Ok(());
        }
        let start = (addr - 0x10000) as usize;
        out.copy_from_slice(self.bytes.get(start..start + out.len()).ok_or(Fault)?);
        Ok(())
    }
    fn writable(&self, _: u64, _: u64) -> bool {
        false
    }
}

// ---- legacy specifics ----

#[test]
fn legacy_drops_high_bits_and_never_checks_the_signal() {
    for w in [
        (1 << 32) | SIGCHLD,
        (1 << 33) | (1 << 63),
        0xff,
        0x80,
        65,
        C::DETACHED.bits(),
        (C::THREAD | C::SIGHAND | C::VM).bits() | SIGCHLD,
    ] {
        assert!(word(w, &P).is_ok(), "{w:#x}");
    }
    let k = validate_clone_word((1 << 32) | 0x80 | C::VM.bits(), &P).unwrap();
    assert_eq!(k.flags, C::VM);
    assert_eq!(k.exit_signal, 0x80);
    // CLEAR_SIGHAND is bit 32: gone, so SIGHAND|VM|CLEAR_SIGHAND passes through clone.
    assert!(word((C::SIGHAND | C::VM | C::CLEAR_SIGHAND).bits(), &P).is_ok());
}

#[test]
fn clone3_result_fields() {
    let mut a = args3(C::VM, SIGCHLD);
    a.stack = 0x10_0000;
    a.stack_size = 0x4000;
    let k = validate_clone3_bytes(&a.to_bytes(Arch::X86_64), None, &P).unwrap();
    // stack += stack_size on grows-down arches.
    assert_eq!(k.stack, 0x10_4000);
    assert_eq!(k.exit_signal, 17);
    // hppa (STACK_GROWSUP) keeps the base.
    let hppa = P.with_arch(Arch::Hppa);
    let k = validate_clone3_bytes(&a.to_bytes(Arch::Hppa), None, &hppa).unwrap();
    assert_eq!(k.stack, 0x10_0000);
}

#[test]
fn access_ok_edge_from_the_differential_test() {
    // 6.18 on x86_64 (the differential test): a stack ending exactly at TASK_SIZE_MAX
    // (0x7fff_ffff_f000) is accepted, one byte more is refused.
    let mut a = args3(C::empty(), SIGCHLD);
    a.stack = 0x7fff_ffff_e000;
    a.stack_size = 0x1000;
    assert!(clone3(a, &P).is_ok());
    a.stack_size = 0x1001;
    expect(clone3(a, &P), Rule::StackNotAccessible, Errno::EINVAL);
    a.stack = u64::MAX;
    a.stack_size = 2;
    expect(clone3(a, &P), Rule::StackNotAccessible, Errno::EINVAL);
}

#[test]
fn no_stack_range_check_with_a_separate_user_address_space() {
    // s390, parisc and sparc64 select ALTERNATE_USER_ADDRESS_SPACE, so the asm-generic
    // access_ok() returns true for any range and clone3_stack_valid() never refuses a stack
    // there; s390x then adds the size in unsigned long, wrapping.
    let mut a = args3(C::empty(), 18);
    a.stack = u64::MAX - 0xfff;
    a.stack_size = 0x2000;
    let s390 = P.with_arch(Arch::S390x);
    let k = validate_clone3_bytes(&a.to_bytes(Arch::S390x), None, &s390).unwrap();
    assert_eq!(k.stack, 0x1000);
    let hppa = P.with_arch(Arch::Hppa);
    let k = validate_clone3_bytes(&a.to_bytes(Arch::Hppa), None, &hppa).unwrap();
    assert_eq!(k.stack, u64::MAX - 0xfff);
    // The same stack on an arch whose access_ok() checks the range.
    let mips = P.with_arch(Arch::Mips64);
    expect(
        validate_clone3_bytes(&a.to_bytes(Arch::Mips64), None, &mips).map(|_| ()),
        Rule::StackNotAccessible,
        Errno::EINVAL,
    );
}

#[test]
fn tail_at_the_top_of_the_address_space() {
    // Memory that reads zeros everywhere, on an arch whose access_ok() checks nothing: a
    // struct whose size-4096 tail ends exactly at 2^64 - 1 is all zero, so clone3 is
    // accepted (and the word-by-word tail check must stop at the last word, not wrap).
    struct Zeros;
    impl clone_core::validate::UserMemory for Zeros {
        fn read(&self, _addr: u64, out: &mut [u8]) -> Result<(), clone_core::validate::Fault> {
            out.fill(0);
            Ok(())
        }
    }
    let s390 = P.with_arch(Arch::S390x);
    let k = clone_core::validate::validate_clone3(u64::MAX - 4096, 4096, &Zeros, &s390).unwrap();
    assert_eq!(k.flags, C::empty());
    assert_eq!(k.exit_signal, 0);
}

// ---- fixes ----

#[test]
fn fixes_pass_the_whole_validation() {
    let u = P.unprivileged();
    let cases: &[(u64, &Policy, Change)] = &[
        (C::THREAD.bits(), &P, Change::AddFlags(C::SIGHAND | C::VM)),
        ((C::THREAD | C::VM).bits(), &P, Change::AddFlags(C::SIGHAND)),
        (C::SIGHAND.bits(), &P, Change::AddFlags(C::VM)),
        ((C::NEWNS | C::FS).bits(), &P, Change::RemoveFlags(C::FS)),
        (
            (C::NEWIPC | C::SYSVSEM).bits(),
            &P,
            Change::RemoveFlags(C::SYSVSEM),
        ),
        (
            (C::PIDFD | C::PARENT_SETTID).bits(),
            &P,
            Change::RemoveFlags(C::PARENT_SETTID),
        ),
        (C::NEWNET.bits(), &u, Change::AddFlags(C::NEWUSER)),
        (
            (C::THREAD | C::SIGHAND | C::VM | C::NEWPID).bits(),
            &P,
            Change::RemoveFlags(C::NEWPID),
        ),
    ];
    for &(w, policy, fix) in cases {
        let e = word(w, policy).unwrap_err();
        assert_eq!(e.fix, fix, "{e}");
    }
}

#[test]
fn clone3_fixes() {
    let e = clone3(args3(C::from_bits_retain(SIGCHLD), 0), &P).unwrap_err();
    assert_eq!(e.fix, Change::MoveSignal(17));
    let thread = C::THREAD | C::SIGHAND | C::VM;
    let e = clone3(args3(thread, SIGCHLD), &P).unwrap_err();
    assert_eq!(e.fix, Change::SetExitSignal(0));
    let e = clone3(args3(C::empty(), 65), &P).unwrap_err();
    assert_eq!(e.fix, Change::SetExitSignal(17));
    // For a thread, SIGCHLD would fail the next rule; 0 passes.
    let e = clone3(args3(thread, 65), &P).unwrap_err();
    assert_eq!(e.fix, Change::SetExitSignal(0));
    let e = clone3(args3(C::SIGHAND | C::VM | C::CLEAR_SIGHAND, 0), &P).unwrap_err();
    assert_eq!(e.fix, Change::RemoveFlags(C::CLEAR_SIGHAND));
    let mut a = args3(C::empty(), SIGCHLD);
    a.stack_size = 10;
    assert_eq!(
        clone3(a, &P).unwrap_err().fix,
        Change::SetField {
            field: Field::StackSize,
            value: 0
        }
    );
    let e = validate_clone3_bytes(&[0u8; 40], None, &P).unwrap_err();
    assert_eq!(
        e.fix,
        Change::SetField {
            field: Field::Size,
            value: 88
        }
    );
    let e = clone3(args3(C::empty(), 0), &P.with_arch(Arch::Sparc64)).unwrap_err();
    assert_eq!(e.fix, Change::UseClone);
    let mut b = args3(C::empty(), SIGCHLD);
    b.set_tid = 0x2000;
    b.set_tid_size = 1;
    let e = clone3_tids(b, &[300], &P.unprivileged()).unwrap_err();
    assert_eq!(
        e.fix,
        Change::NeedsPrivilege(Privilege::CapCheckpointRestore)
    );
}

#[test]
fn display_is_one_line_with_rule_flags_and_fix() {
    let e = word(C::THREAD.bits(), &P).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EINVAL: CLONE_THREAD requires CLONE_SIGHAND (copy_process) — flags CLONE_THREAD; \
         fix: add CLONE_VM|CLONE_SIGHAND"
    );
    let e = word(C::NEWNET.bits(), &P.unprivileged()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EPERM: new namespaces need CAP_SYS_ADMIN (or CLONE_NEWUSER) (copy_namespaces) — flags \
         CLONE_NEWNET; fix: add CLONE_NEWUSER"
    );
    let e = validate_clone3_bytes(&[0u8; 4097], None, &P).unwrap_err();
    assert_eq!(
        e.to_string(),
        "E2BIG: clone3 size must not exceed the page size (copy_clone_args_from_user); fix: set \
         size to 88"
    );
}

// ---- fixes that used to trip an earlier rule or not fix at all (issue 14) ----

/// The fix of `e` as its list of changes.
fn changes(e: &CloneError) -> Vec<Change> {
    e.fix.changes().collect()
}

#[test]
fn newuser_fix_also_drops_fs() {
    // Adding NEWUSER alone gave NewuserWithFs, an earlier rule.
    let u = P.unprivileged();
    let e = expect(
        word((C::NEWNET | C::FS).bits(), &u),
        Rule::NamespaceWithoutCapSysAdmin,
        Errno::EPERM,
    );
    assert_eq!(
        changes(&e),
        [Change::AddFlags(C::NEWUSER), Change::RemoveFlags(C::FS)]
    );
    assert_eq!(e.fix.reach(), Reach::Arguments);
    assert!(word((C::NEWNET | C::NEWUSER).bits(), &u).is_ok());
    // Where user namespaces are not allowed, only the privilege is left before giving up
    // the namespace.
    let no_userns = u.with_user_ns_allowed(false);
    let e = word((C::NEWNET | C::FS).bits(), &no_userns).unwrap_err();
    assert_eq!(e.fix, Change::NeedsPrivilege(Privilege::CapSysAdmin));
    assert_eq!(e.fix.reach(), Reach::Outside);
}

#[test]
fn newpid_fix_also_drops_unconfigured_namespaces() {
    let p = P
        .with_pid_ns_for_children_differs(true)
        .with_namespaces_configured(NAMESPACE_FLAGS.difference(C::NEWCGROUP) | C::NEWUSER);
    let e = expect(
        word((C::NEWPID | C::NEWCGROUP).bits(), &p),
        Rule::NewpidAfterUnsharePid,
        Errno::EINVAL,
    );
    assert_eq!(e.fix, Change::RemoveFlags(C::NEWPID | C::NEWCGROUP));
    assert!(word(0, &p).is_ok());
}

#[test]
fn signal_bits_above_nsig_are_removed_not_moved() {
    // MoveSignal(110) gave Clone3BadExitSignal, an earlier rule.
    for sig in [65u64, 100, 110, 127] {
        let e = expect(
            clone3(args3(C::from_bits_retain(sig), 0), &P),
            Rule::Clone3DetachedOrSignalBits,
            Errno::EINVAL,
        );
        assert_eq!(e.fix, Change::RemoveFlags(C::from_bits_retain(sig)), "{e}");
    }
    // Up to _NSIG the signal still moves.
    let e = clone3(args3(C::from_bits_retain(64), 0), &P).unwrap_err();
    assert_eq!(e.fix, Change::MoveSignal(64));
}

#[test]
fn set_tid_before_5_9_needs_cap_sys_admin() {
    // CAP_CHECKPOINT_RESTORE only counts from 5.9: asking for it on 5.5-5.8 fixed nothing.
    let mut b = args3(C::empty(), SIGCHLD);
    b.set_tid = 0x2000;
    b.set_tid_size = 1;
    for minor in 5..=8 {
        let p = Policy::linux(Arch::X86_64, LinuxVersion::new(5, minor)).unprivileged();
        let e = expect(
            clone3_tids(b, &[300], &p),
            Rule::SetTidNotPermitted,
            Errno::EPERM,
        );
        assert_eq!(
            e.fix,
            Change::NeedsPrivilege(Privilege::CapSysAdmin),
            "5.{minor}"
        );
        assert_eq!(e.fix.reach(), Reach::Outside);
        assert!(clone3_tids(b, &[300], &p.with_cap_sys_admin(true)).is_ok());
    }
    let p = Policy::linux(Arch::X86_64, LinuxVersion::new(5, 9)).unprivileged();
    let e = clone3_tids(b, &[300], &p).unwrap_err();
    assert_eq!(
        e.fix,
        Change::NeedsPrivilege(Privilege::CapCheckpointRestore)
    );
}

#[test]
fn autokill_fixes_respect_the_pidfd_and_autoreap_rules() {
    // Adding PIDFD where pidfd and parent_tid share a slot gave PidfdWithParentSettidSameSlot.
    let mut a = args3(
        C::PIDFD_AUTOKILL | C::AUTOREAP | C::NNP | C::PARENT_SETTID,
        0,
    );
    a.pidfd = PTID;
    let e = expect(
        clone3(a, &MAINLINE),
        Rule::AutokillWithoutPidfd,
        Errno::EINVAL,
    );
    assert_eq!(
        changes(&e),
        [
            Change::AddFlags(C::PIDFD),
            Change::RemoveFlags(C::PARENT_SETTID)
        ]
    );
    // Adding AUTOREAP to a thread, a CLONE_PARENT child or one with an exit signal gave an
    // AutoreapWith* rule.
    let thread = C::THREAD | C::SIGHAND | C::VM;
    let e = expect(
        clone3(args3(C::PIDFD | C::PIDFD_AUTOKILL | thread, 0), &MAINLINE),
        Rule::AutokillWithoutAutoreap,
        Errno::EINVAL,
    );
    assert_eq!(e.fix, Change::RemoveFlags(C::PIDFD_AUTOKILL));
    let e = expect(
        clone3(
            args3(C::PIDFD | C::PIDFD_AUTOKILL | C::PARENT, 0),
            &MAINLINE,
        ),
        Rule::AutokillWithoutAutoreap,
        Errno::EINVAL,
    );
    assert_eq!(e.fix, Change::RemoveFlags(C::PIDFD_AUTOKILL));
    let e = expect(
        clone3(
            args3(C::PIDFD | C::PIDFD_AUTOKILL | C::NNP, SIGCHLD),
            &MAINLINE,
        ),
        Rule::AutokillWithoutAutoreap,
        Errno::EINVAL,
    );
    assert_eq!(
        changes(&e),
        [Change::AddFlags(C::AUTOREAP), Change::SetExitSignal(0)]
    );
}

#[test]
fn thread_fix_also_drops_clear_sighand() {
    // Adding SIGHAND next to CLEAR_SIGHAND gave SighandWithClearSighand.
    let e = expect(
        clone3(args3(C::THREAD | C::VM | C::CLEAR_SIGHAND, 0), &P),
        Rule::ThreadWithoutSighand,
        Errno::EINVAL,
    );
    assert_eq!(
        changes(&e),
        [
            Change::AddFlags(C::SIGHAND),
            Change::RemoveFlags(C::CLEAR_SIGHAND)
        ]
    );
    assert!(clone3(args3(C::THREAD | C::VM | C::SIGHAND, 0), &P).is_ok());
}

#[test]
fn fix_machine_and_text_forms() {
    let e = clone3(args3(C::THREAD | C::VM | C::CLEAR_SIGHAND, 0), &P).unwrap_err();
    let mut s = String::new();
    e.fix.write_machine(&mut s).unwrap();
    assert_eq!(s, "add:CLONE_SIGHAND+remove:CLONE_CLEAR_SIGHAND");
    assert_eq!(
        e.fix.to_string(),
        "add CLONE_SIGHAND and remove CLONE_CLEAR_SIGHAND"
    );
    let mut b = args3(C::empty(), SIGCHLD);
    b.set_tid = 0x2000;
    b.set_tid_size = 1;
    let e = clone3_tids(b, &[300], &P.unprivileged()).unwrap_err();
    assert_eq!(
        e.fix.to_string(),
        "run with CAP_CHECKPOINT_RESTORE (outside the call's arguments)"
    );
    let mut s = String::new();
    Fix::NONE.write_machine(&mut s).unwrap();
    assert_eq!(s, "none");
}

/// A fix that makes `set_tid` valid says nothing about a stack at the same address: the
/// stack must still get its own fix (a fuzz find, CI run of stop 15).
#[test]
fn set_tid_fix_does_not_vouch_for_a_stack_at_its_address() {
    let kernel_half = 0xffff_8000_0000_0000;
    let mut a = args3(C::empty(), SIGCHLD);
    a.set_tid = kernel_half;
    a.set_tid_size = 1;
    a.stack = kernel_half;
    a.stack_size = 64;
    let e = expect(clone3(a, &P), Rule::SetTidFault, Errno::EFAULT);
    assert!(
        e.fix
            .changes()
            .any(|c| c == Change::ValidValue(Field::Stack)),
        "{e}"
    );
}

// ---- 7.1+: kernel_clone's CLONE_EMPTY_MNTNS and valid_signal (seen in Debian's 7.2.13) ----

#[test]
fn legacy_exit_signal_checked_in_kernel_clone() {
    // Every byte 0..=64 passes, 65..=255 is EINVAL, with or without other flags.
    for byte in [0u64, 17, 64] {
        assert_eq!(word(byte, &LINUX_7_2), Ok(()), "{byte:#x}");
    }
    for byte in [0x41u64, 0x80, 0xff] {
        let e = expect(
            word(byte, &LINUX_7_2),
            Rule::InvalidExitSignal,
            Errno::EINVAL,
        );
        assert_eq!(
            e.fix.changes().next(),
            Some(Change::SetExitSignal(SIGCHLD)),
            "{e}"
        );
        let thread = (C::THREAD | C::SIGHAND | C::VM).bits();
        expect(
            word(thread | byte, &LINUX_7_2),
            Rule::InvalidExitSignal,
            Errno::EINVAL,
        );
    }
    // mips's _NSIG is 128.
    let mips = LINUX_7_2.with_arch(Arch::Mips64);
    assert_eq!(word(0x80, &mips), Ok(()));
    expect(word(0x81, &mips), Rule::InvalidExitSignal, Errno::EINVAL);
}

#[test]
fn exit_signal_check_comes_after_same_slot_before_copy_process() {
    // The PIDFD/PARENT_SETTID same-slot check is first...
    expect(
        word((C::PIDFD | C::PARENT_SETTID).bits() | 0x80, &LINUX_7_2),
        Rule::PidfdWithParentSettidSameSlot,
        Errno::EINVAL,
    );
    // ...then the exit signal beats every copy_process, copy_creds and copy_namespaces rule.
    expect(
        word((C::NEWNS | C::FS).bits() | 0x80, &LINUX_7_2),
        Rule::InvalidExitSignal,
        Errno::EINVAL,
    );
    let unprivileged = LINUX_7_2.unprivileged();
    expect(
        word((C::NEWNS | C::NEWUSER).bits() | 0x41, &unprivileged),
        Rule::InvalidExitSignal,
        Errno::EINVAL,
    );
    expect(
        word(
            (C::NEWUSER | C::NEWNS).bits() | 17,
            &unprivileged.with_user_ns_allowed(false),
        ),
        Rule::NewuserNotPermitted,
        Errno::EPERM,
    );
}

#[test]
fn clone3_exit_signal_moved_after_set_tid_and_clone3_args_valid() {
    // Since 7.1 copy_clone_args_from_user keeps only the high-bits half; above _NSIG is
    // kernel_clone's, so the set_tid copy and clone3_args_valid now come first.
    let mut a = args3(C::empty(), 65);
    a.set_tid = 0x2000;
    a.set_tid_size = 1;
    let b = a.to_bytes(Arch::X86_64);
    expect(
        validate_clone3_bytes(&b, None, &LINUX_7_2).map(|_| ()),
        Rule::SetTidFault,
        Errno::EFAULT,
    );
    expect(
        validate_clone3_bytes(&b, None, &P).map(|_| ()),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    expect(
        clone3(args3(C::from_bits_retain(1 << 40), 65), &LINUX_7_2),
        Rule::Clone3UnknownFlags,
        Errno::EINVAL,
    );
    expect(
        clone3(args3(C::from_bits_retain(1 << 40), 65), &P),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    // ...and the pidfd same-slot check of kernel_clone too.
    let mut same = args3(C::PIDFD | C::PARENT_SETTID, 65);
    same.pidfd = PTID;
    expect(
        clone3(same, &LINUX_7_2),
        Rule::PidfdWithParentSettidSameSlot,
        Errno::EINVAL,
    );
    expect(clone3(same, &P), Rule::Clone3BadExitSignal, Errno::EINVAL);
    // The rule for clone3 is the same on every version (the user face pre-checks it); only
    // the legacy byte gets InvalidExitSignal.
    let e = expect(
        clone3(args3(C::empty(), 65), &LINUX_7_2),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    assert_eq!(
        e.fix.changes().next(),
        Some(Change::SetExitSignal(SIGCHLD)),
        "{e}"
    );
    expect(
        clone3(args3(C::empty(), 256), &LINUX_7_2),
        Rule::Clone3BadExitSignal,
        Errno::EINVAL,
    );
    assert_eq!(clone3(args3(C::empty(), 64), &LINUX_7_2), Ok(()));
}

#[test]
fn empty_mntns_implies_newns() {
    let empty = C::EMPTY_MNTNS;
    assert_eq!(clone3(args3(empty, SIGCHLD), &LINUX_7_2), Ok(()));
    let k = validate_clone3_bytes(
        &args3(empty, SIGCHLD).to_bytes(Arch::X86_64),
        None,
        &LINUX_7_2,
    )
    .unwrap();
    assert_eq!(k.flags, empty | C::NEWNS);
    assert_eq!(clone3(args3(empty | C::NEWNS, SIGCHLD), &LINUX_7_2), Ok(()));
    // The implied CLONE_NEWNS meets copy_process's CLONE_FS rule...
    let e = expect(
        clone3(args3(empty | C::FS, SIGCHLD), &LINUX_7_2),
        Rule::NewnsWithFs,
        Errno::EINVAL,
    );
    assert_eq!(e.flags, C::NEWNS | C::FS);
    assert_eq!(
        e.fix.changes().next(),
        Some(Change::RemoveFlags(C::FS)),
        "{e}"
    );
    // ...and copy_namespaces's CAP_SYS_ADMIN, unless with CLONE_NEWUSER.
    let u = LINUX_7_2.unprivileged();
    let e = expect(
        clone3(args3(empty, SIGCHLD), &u),
        Rule::NamespaceWithoutCapSysAdmin,
        Errno::EPERM,
    );
    assert_eq!(e.flags, C::NEWNS);
    assert_eq!(clone3(args3(empty | C::NEWUSER, SIGCHLD), &u), Ok(()));
    // The same-slot check still comes after the implication and before copy_process.
    let mut a = args3(empty | C::FS | C::PIDFD | C::PARENT_SETTID, SIGCHLD);
    a.pidfd = PTID;
    expect(
        clone3(a, &LINUX_7_2),
        Rule::PidfdWithParentSettidSameSlot,
        Errno::EINVAL,
    );
}
