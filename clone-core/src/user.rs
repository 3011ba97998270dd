//! The user face: start a thread or process with raw `clone`/`clone3` and run `entry(arg)` on
//! its new stack, without libc.
//!
//! [`clone`] and [`clone3`] do, in order:
//!
//! 1. compute the child's stack values with [`crate::stack::layout`] — the one source of
//!    truth: the legacy `newsp` / `clone_args.stack{,_size}` passed to the kernel and the SP
//!    the trampoline calls `entry` with are exactly what it returns ([`SpawnError::Stack`]);
//! 2. **validate** the request with [`crate::validate`] and refuse it if it breaks one of
//!    [`PRECHECKED_RULES`] (rules of pure argument logic), so a caller gets the kernel rule
//!    and its fix instead of a bare `EINVAL` ([`SpawnError::Rejected`]);
//! 3. refuse a `CLONE_VM` child without its own stack unless `CLONE_VFORK` holds the parent
//!    ([`SpawnError::UnsafeSharedStack`]);
//! 4. trap into the kernel with the arch's trampoline (`src/arch/<arch>.rs`): the child sets up
//!    its first frame per the ABI, calls `entry(arg)` and passes its return value to the raw
//!    `exit` syscall (this thread only). It never returns and never touches the parent's stack.
//!
//! # What `tls` means per arch
//!
//! | Arch | `tls` with `CLONE_SETTLS` | [`thread_pointer`] reads |
//! |---|---|---|
//! | x86_64 | new FS base | FS base (`arch_prctl(ARCH_GET_FS)`) |
//! | i686 | address of a `struct user_desc` (`UserDesc`, built on i686 only) for `set_thread_area` | base of the `%gs` segment (`get_thread_area`) |
//! | aarch64 | `tpidr_el0` | `tpidr_el0` |
//! | arm | the TLS register (TPIDRURO, as `set_tls`) | TPIDRURO (`mrc p15, 0, r, c13, c0, 3`) |
//! | riscv64 | `tp` | `tp` |
//! | s390x | access registers: `a0` = high 32 bits, `a1` = low 32 bits | `a0:a1` |
//! | powerpc64 / powerpc64le | `r13` | `r13` |
//! | loongarch64 | `tp` (`$r2`) | `$tp` |
//! | mips64 | UserLocal (what `rdhwr $29` returns) | `rdhwr $3, $29` |
//! | sparc64 | `%g7` | `%g7` |
//!
//! The small raw syscall helpers here ([`gettid`], [`futex_wait`], [`write()`], …) are what the
//! conformance program and the kernel stub's user programs need; they use the numbers in
//! `src/arch/<arch>.rs`, which are checked against [`crate::abi`] at compile time.

use core::fmt;
use core::sync::atomic::AtomicU32;

use crate::error::{CloneError, Rule};
use crate::flags::CloneFlags;
use crate::policy::{LinuxVersion, Policy};
use crate::stack::{self, StackError, StackRegion};
use crate::validate::{self, KernelCloneArgs, LegacyCloneArgs};
use crate::{Arch, Errno};

#[path = "arch/spawn.rs"]
mod spawn;

pub use crate::arch::{syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6};
pub use spawn::{clone, clone3, exit_thread};

/// The `unshare` rule [`unshare`] checks before trapping: flags outside the newest unshare
/// mask modelled (7.1's, with `UNSHARE_EMPTY_MNTNS`) are EINVAL whatever the caller's state
/// (`check_unshare_flags` runs before anything that reads it; only Debian's
/// `kernel.unprivileged_userns_clone=0` patch can answer EPERM first, for a word that also
/// has `CLONE_NEWUSER`). The thread, sharing, privilege and namespace rules depend on the
/// process and are left to the kernel.
pub const PRECHECKED_UNSHARE_RULES: [Rule; 1] = [Rule::UnshareUnknownFlags];

/// The `setns` rule [`setns`] checks before trapping: a negative fd is never open (EBADF, the
/// first check). Everything else depends on what the fd refers to, which only the kernel
/// knows here.
pub const PRECHECKED_SETNS_RULES: [Rule; 1] = [Rule::SetnsBadFd];

/// `unshare(flags)`, raw: leaves the shared resources and enters the new namespaces `flags`
/// names (see [`crate::validate::validate_unshare`] for Linux's rules).
///
/// A word that breaks one of [`PRECHECKED_UNSHARE_RULES`] comes back as
/// [`SpawnError::Rejected`] without a trap; the kernel's refusals as [`SpawnError::Kernel`].
/// On 32-bit arches only the low 32 bits of `flags` reach the kernel (and the check).
pub fn unshare(flags: CloneFlags) -> Result<(), SpawnError> {
    // The newest kernel modelled, so that no flag a newer kernel knows is refused here
    // (`UNSHARE_EMPTY_MNTNS`, 7.1); an older one refuses it itself, with the same EINVAL.
    let policy = precheck_policy();
    let caller = validate::CallerTask::SINGLE;
    if let Err(e) = validate::validate_unshare(flags.bits(), &caller, &policy)
        && PRECHECKED_UNSHARE_RULES.contains(&e.rule)
    {
        return Err(SpawnError::Rejected(e));
    }
    unit(spawn::unshare(flags.bits() as usize))
}

/// `setns(fd, nstype)`, raw: joins the namespace `fd` refers to (a `/proc/<pid>/ns/*` file;
/// `nstype` 0 or its type) or the namespaces `nstype` names of the process a pidfd refers to
/// (see [`crate::validate::validate_setns`]).
///
/// A negative `fd` is [`SpawnError::Rejected`] without a trap ([`PRECHECKED_SETNS_RULES`]);
/// the kernel's refusals come back as [`SpawnError::Kernel`].
pub fn setns(fd: i32, nstype: CloneFlags) -> Result<(), SpawnError> {
    if fd < 0 {
        let policy = Policy::linux(ARCH, LinuxVersion::V6_18);
        let caller = validate::CallerTask::SINGLE;
        if let Err(e) =
            validate::validate_setns(validate::SetnsFd::Closed, nstype.bits(), &caller, &policy)
        {
            return Err(SpawnError::Rejected(e));
        }
    }
    // The kernel takes an int: only the low 32 bits of nstype count.
    unit(spawn::setns(fd, nstype.bits() as u32 as usize))
}

fn unit(ret: isize) -> Result<(), SpawnError> {
    if (-4095..0).contains(&ret) {
        Err(kernel_error(ret))
    } else {
        Ok(())
    }
}

/// What the child runs. Its return value is the thread's exit status (raw `exit`).
pub type ChildEntry = extern "C" fn(arg: usize) -> i32;

/// A legacy `clone` request.
#[derive(Clone, Debug)]
pub struct CloneRequest<'a> {
    /// `CLONE_*` flags. Only bits 8–31 can travel through legacy `clone`: bits above 31 are
    /// dropped (the kernel's `lower_32_bits` would drop them too), and `CLONE_NEWTIME` (0x80,
    /// inside the exit-signal byte) cannot be expressed here — use [`clone3`].
    pub flags: CloneFlags,
    /// Signal sent to the parent when the child exits (the low byte of the flags word; 0 =
    /// none). Linux does not check it.
    pub exit_signal: u8,
    /// The child's stack, or `None` for the child to keep the parent's SP (fork-like, or
    /// vfork-like with `CLONE_VM | CLONE_VFORK`).
    pub stack: Option<StackRegion>,
    /// `CLONE_PARENT_SETTID`: where the kernel writes the child's tid; `CLONE_PIDFD`: where it
    /// writes the pidfd (legacy `clone` uses the same slot for both).
    pub parent_tid: Option<&'a AtomicU32>,
    /// `CLONE_CHILD_SETTID` / `CLONE_CHILD_CLEARTID`: the child's tid word. With
    /// `CLONE_CHILD_CLEARTID` the kernel writes 0 there and futex-wakes it when the child
    /// exits, which may be long after this borrow ends (see the safety section of [`clone`]).
    pub child_tid: Option<&'a AtomicU32>,
    /// `CLONE_SETTLS` value; meaning per arch in the module docs.
    pub tls: usize,
}

impl<'a> CloneRequest<'a> {
    /// A request with `flags` and `exit_signal` and nothing else (no stack, no tid slots,
    /// `tls` 0).
    #[must_use]
    pub const fn new(flags: CloneFlags, exit_signal: u8) -> Self {
        Self {
            flags,
            exit_signal,
            stack: None,
            parent_tid: None,
            child_tid: None,
            tls: 0,
        }
    }
}

/// i686 `struct user_desc` (`arch/x86/include/uapi/asm/ldt.h`): the `tls` value for
/// `CLONE_SETTLS` on 32-bit x86 is the address of one of these.
#[cfg(target_arch = "x86")]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UserDesc {
    /// GDT TLS slot; for a new thread, the one the inherited `%gs` selects (`%gs >> 3`).
    pub entry_number: u32,
    /// Segment base: the new thread pointer.
    pub base_addr: u32,
    /// Segment limit.
    pub limit: u32,
    /// The bitfield word: `seg_32bit` (bit 0), `contents` (1–2), `read_exec_only` (3),
    /// `limit_in_pages` (4), `seg_not_present` (5), `useable` (6).
    pub flags: u32,
}

#[cfg(target_arch = "x86")]
impl UserDesc {
    /// A flat 4 GiB data segment based at `base` in GDT slot `entry_number`: limit 0xfffff in
    /// pages, 32-bit, usable (flags 0x51, as musl's `__set_thread_area` builds it).
    #[must_use]
    pub const fn tls(entry_number: u32, base: u32) -> Self {
        Self {
            entry_number,
            base_addr: base,
            limit: 0xfffff,
            flags: 0x51,
        }
    }
}

/// A `clone3` request (`struct clone_args`, `CLONE_ARGS_SIZE_VER2`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Clone3Request<'a> {
    /// `clone_args.flags`: the full 64-bit flag word.
    pub flags: CloneFlags,
    /// `clone_args.exit_signal` (the kernel wants `0..=64`; `0..=128` on mips).
    pub exit_signal: u64,
    /// The child's stack (`clone_args.stack`/`stack_size` come from [`crate::stack::layout`]),
    /// or `None` to keep the parent's SP.
    pub stack: Option<StackRegion>,
    /// `CLONE_PIDFD`: where the kernel writes the pidfd (`clone_args.pidfd`).
    pub pidfd: Option<&'a AtomicU32>,
    /// `CLONE_PARENT_SETTID`: `clone_args.parent_tid`.
    pub parent_tid: Option<&'a AtomicU32>,
    /// `CLONE_CHILD_SETTID` / `CLONE_CHILD_CLEARTID`: `clone_args.child_tid`.
    pub child_tid: Option<&'a AtomicU32>,
    /// `clone_args.tls` (meaning per arch in the module docs).
    pub tls: usize,
    /// `clone_args.set_tid` / `set_tid_size`: tids to ask for, innermost pid namespace first.
    pub set_tid: &'a [i32],
    /// `clone_args.cgroup`: a cgroup directory fd, with `CLONE_INTO_CGROUP`.
    pub cgroup: u64,
}

impl<'a> Clone3Request<'a> {
    /// A request with `flags` and `exit_signal` and nothing else.
    #[must_use]
    pub const fn new(flags: CloneFlags, exit_signal: u64) -> Self {
        Self {
            flags,
            exit_signal,
            stack: None,
            pidfd: None,
            parent_tid: None,
            child_tid: None,
            tls: 0,
            set_tid: &[],
            cgroup: 0,
        }
    }

    /// Sets [`Self::stack`].
    #[must_use]
    pub const fn with_stack(mut self, stack: StackRegion) -> Self {
        self.stack = Some(stack);
        self
    }

    /// Sets [`Self::pidfd`].
    #[must_use]
    pub const fn with_pidfd(mut self, slot: &'a AtomicU32) -> Self {
        self.pidfd = Some(slot);
        self
    }

    /// Sets [`Self::parent_tid`].
    #[must_use]
    pub const fn with_parent_tid(mut self, slot: &'a AtomicU32) -> Self {
        self.parent_tid = Some(slot);
        self
    }

    /// Sets [`Self::child_tid`].
    #[must_use]
    pub const fn with_child_tid(mut self, slot: &'a AtomicU32) -> Self {
        self.child_tid = Some(slot);
        self
    }

    /// Sets [`Self::tls`].
    #[must_use]
    pub const fn with_tls(mut self, tls: usize) -> Self {
        self.tls = tls;
        self
    }

    /// Sets [`Self::set_tid`].
    #[must_use]
    pub const fn with_set_tid(mut self, set_tid: &'a [i32]) -> Self {
        self.set_tid = set_tid;
        self
    }

    /// Sets [`Self::cgroup`] (use with `CLONE_INTO_CGROUP`).
    #[must_use]
    pub const fn with_cgroup(mut self, fd: u64) -> Self {
        self.cgroup = fd;
        self
    }
}

/// The `struct clone_args` bytes [`clone3`] passes (`CLONE_ARGS_SIZE_VER2` = 88, native byte
/// order), 8-aligned like the kernel's `__aligned_u64` fields.
#[repr(C, align(8))]
#[derive(Copy, Clone, Debug)]
pub(crate) struct CloneArgsBytes(pub(crate) [u8; 88]);

/// Why [`clone`] or [`clone3`] did not start a child.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The validator says the kernel would refuse this request; no trap was made.
    ///
    /// Only [`PRECHECKED_RULES`] (pure argument logic) are checked before the trap: privilege
    /// (`EPERM`), namespaces and limits, version differences and everything that depends on
    /// memory or process state are left to the kernel and come back as [`SpawnError::Kernel`].
    Rejected(CloneError),
    /// The kernel refused.
    Kernel {
        /// The errno value as the kernel returned it (this arch's numbering).
        raw: i32,
        /// The name, if it is one clone can return.
        errno: Option<Errno>,
    },
    /// `CLONE_VM` without `CLONE_VFORK` and no stack: the child would run on the parent's live
    /// stack while the parent keeps running. No trap was made.
    UnsafeSharedStack,
    /// The stack region is unusable; no trap was made.
    Stack(StackError),
    /// This arch has no `clone3` (sparc64: Linux defines `__ARCH_BROKEN_SYS_CLONE3` through
    /// 6.19). No trap was made.
    Clone3Unsupported,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Rejected(e) => write!(f, "rejected before the syscall: {e}"),
            SpawnError::Kernel {
                errno: Some(e),
                raw,
            } => write!(f, "the kernel returned {e} ({raw})"),
            SpawnError::Kernel { errno: None, raw } => {
                write!(f, "the kernel returned errno {raw}")
            }
            SpawnError::UnsafeSharedStack => f.write_str(
                "CLONE_VM without CLONE_VFORK needs a stack: the child would run on the \
                 parent's live stack; give `stack` a region",
            ),
            SpawnError::Stack(e) => write!(f, "unusable child stack: {e}"),
            SpawnError::Clone3Unsupported => f.write_str("this arch has no clone3"),
        }
    }
}

impl core::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SpawnError::Rejected(e) => Some(e),
            SpawnError::Stack(e) => Some(e),
            SpawnError::Kernel { errno: Some(e), .. } => Some(e),
            _ => None,
        }
    }
}

impl From<StackError> for SpawnError {
    fn from(e: StackError) -> Self {
        SpawnError::Stack(e)
    }
}

/// The arch the user face runs on.
pub const ARCH: Arch = arch_consts::ARCH;

mod arch_consts {
    //! Compile-time proof that the trampolines' `clone3` support matches [`crate::abi`].
    use crate::arch;
    pub(super) const ARCH: crate::Arch = arch::ARCH;
    const _: () = assert!(arch::HAS_CLONE3 == ARCH.syscalls().clone3.is_some());
}

/// The syscall numbers the per-arch asm uses, taken from the [`crate::abi`] table of the arch
/// the user face runs on (itself checked against `linux-raw-sys` and the kernel's tables).
pub(crate) mod nr {
    const NR: crate::abi::SyscallNumbers = super::ARCH.syscalls();
    /// `__NR_clone`.
    pub(crate) const SYS_CLONE: usize = NR.clone as usize;
    /// `__NR_clone3` (0 where the arch has none, and then no trampoline uses it).
    #[cfg_attr(target_arch = "sparc64", allow(dead_code))]
    pub(crate) const SYS_CLONE3: usize = match NR.clone3 {
        Some(n) => n as usize,
        None => 0,
    };
    /// `__NR_exit` (thread exit, not `exit_group`).
    pub(crate) const SYS_EXIT: usize = NR.exit as usize;
    /// `__NR_exit_group`.
    pub(crate) const SYS_EXIT_GROUP: usize = NR.exit_group as usize;
    /// `__NR_gettid`.
    pub(crate) const SYS_GETTID: usize = NR.gettid as usize;
    /// `__NR_getpid`.
    pub(crate) const SYS_GETPID: usize = NR.getpid as usize;
    /// `__NR_futex` (on 32-bit arches the time32 one; a NULL timeout makes that moot).
    pub(crate) const SYS_FUTEX: usize = NR.futex as usize;
    /// `__NR_sched_yield`.
    pub(crate) const SYS_SCHED_YIELD: usize = NR.sched_yield as usize;
    /// `__NR_write`.
    pub(crate) const SYS_WRITE: usize = NR.write as usize;
    /// `__NR_unshare`.
    pub(crate) const SYS_UNSHARE: usize = NR.unshare as usize;
    /// `__NR_setns`.
    pub(crate) const SYS_SETNS: usize = NR.setns as usize;
}

/// Register values for one legacy `clone` trap.
pub(crate) struct LegacyPlan {
    pub(crate) word: usize,
    pub(crate) newsp: usize,
    pub(crate) parent_tid: usize,
    pub(crate) child_tid: usize,
    pub(crate) tls: usize,
    /// SP the child calls `entry` with; 0 = the SP it inherits.
    pub(crate) child_sp: usize,
}

/// The `clone_args` block and child SP for one `clone3` trap.
pub(crate) struct Clone3Plan {
    pub(crate) args: CloneArgsBytes,
    pub(crate) child_sp: usize,
}

/// The kernel rules [`clone`] and [`clone3`] check before trapping ([`SpawnError::Rejected`]).
///
/// A rule is here when its outcome depends only on the arguments — not on privilege, the
/// caller's namespaces, `pid_max`, `TASK_SIZE`, memory or process state — **and** every
/// state-dependent check Linux makes before it fails with the same errno (EINVAL), so the
/// errno in the [`CloneError`] is the one any kernel with the syscall would return. Version
/// differences only ever make an older kernel refuse *more* of these (an unknown flag is
/// EINVAL there too), never accept one of them.
///
/// Left to the kernel, on purpose: `Clone3Unavailable` (sparc64 is refused as
/// [`SpawnError::Clone3Unsupported`]; other arches just trap), `StackNotAccessible`
/// (`TASK_SIZE`), `ParentFromInit`, `ThreadAcrossPidNs`, `ParentFromAutoreap` (process state),
/// `InvalidExitSignal` (7.1+, the legacy byte only: older kernels accept a legacy exit
/// signal above `_NSIG`),
/// `AutokillNeedsPrivilege`, `NewuserNotPermitted`, `NamespaceWithoutCapSysAdmin` (privilege),
/// `NewipcWithSysvsem` (an unprivileged caller gets EPERM first), `NamespaceNotConfigured`,
/// `NewpidAfterUnsharePid`, `PidNsTooDeep`, `TlsOutOfRange` (5-level paging changes the
/// limit), every `set_tid` rule after the copy (`pid_max`, namespace level, reaper, pids in
/// use), faults, and `IntoCgroupRejected`. The size rules cannot trigger: [`clone3`] always
/// passes the 88-byte struct.
///
/// `Clone3BadExitSignal` (a `clone3` exit signal above `_NSIG`) is EINVAL on every version,
/// although 7.1 moved its `_NSIG` half from `copy_clone_args_from_user` to `kernel_clone`:
/// what 7.1 checks first instead is the `set_tid` copy (a slice here, always readable) and
/// EINVAL rules, so no kernel answers anything else.
pub const PRECHECKED_RULES: [Rule; 25] = [
    Rule::SetTidSizeAboveMax,
    Rule::SetTidNullWithSize,
    Rule::SetTidSizeZeroWithPointer,
    Rule::Clone3BadExitSignal,
    Rule::IntoCgroupBadFd,
    Rule::Clone3UnknownFlags,
    Rule::Clone3DetachedOrSignalBits,
    Rule::SighandWithClearSighand,
    Rule::ThreadOrParentWithExitSignal,
    Rule::Clone3StackWithoutSize,
    Rule::Clone3SizeWithoutStack,
    Rule::PidfdWithParentSettidSameSlot,
    Rule::NewnsWithFs,
    Rule::NewuserWithFs,
    Rule::ThreadWithoutSighand,
    Rule::SighandWithoutVm,
    Rule::ThreadWithNewPidOrUser,
    Rule::PidfdWithDetached,
    Rule::AutoreapWithThread,
    Rule::AutoreapWithParent,
    Rule::AutoreapWithExitSignal,
    Rule::NnpWithThread,
    Rule::AutokillWithoutPidfd,
    Rule::AutokillWithoutAutoreap,
    Rule::AutokillWithThread,
];

/// The policy the pre-check runs under: the newest kernel clone-core models, privileged, in
/// the initial namespaces, so that only [`PRECHECKED_RULES`] can be what stops a request.
fn precheck_policy() -> Policy {
    Policy::linux(ARCH, LinuxVersion::MAINLINE_2026)
}

fn precheck(result: Result<KernelCloneArgs, CloneError>) -> Result<(), SpawnError> {
    match result {
        Err(e) if PRECHECKED_RULES.contains(&e.rule) => Err(SpawnError::Rejected(e)),
        _ => Ok(()),
    }
}

fn addr(v: u64) -> Result<usize, SpawnError> {
    usize::try_from(v).map_err(|_| SpawnError::Stack(StackError::Overflow))
}

fn slot(p: Option<&AtomicU32>) -> usize {
    p.map_or(0, |a| a.as_ptr() as usize)
}

fn shared_stack(flags: CloneFlags, stack: Option<StackRegion>) -> Result<(), SpawnError> {
    if flags.contains(CloneFlags::VM) && !flags.contains(CloneFlags::VFORK) && stack.is_none() {
        Err(SpawnError::UnsafeSharedStack)
    } else {
        Ok(())
    }
}

/// Checks a legacy request and turns it into register values (steps 1–3 of the module docs).
pub(crate) fn plan_clone(req: &CloneRequest<'_>) -> Result<LegacyPlan, SpawnError> {
    let (newsp, child_sp) = match req.stack {
        None => (0, 0),
        Some(region) => {
            let l = stack::layout(ARCH, region)?;
            (addr(l.syscall_stack.register_value())?, addr(l.child_sp)?)
        }
    };
    let word = crate::flags::join_legacy(req.flags, req.exit_signal);
    let plan = LegacyPlan {
        // join_legacy keeps only the low 32 bits, which fit a register on every arch.
        word: word as usize,
        newsp,
        parent_tid: slot(req.parent_tid),
        child_tid: slot(req.child_tid),
        tls: req.tls,
        child_sp,
    };
    // The validator sees exactly the word the kernel will get.
    let args = LegacyCloneArgs {
        word,
        stack: newsp as u64,
        stack_size: 0,
        parent_tid: plan.parent_tid as u64,
        child_tid: plan.child_tid as u64,
        tls: req.tls as u64,
        via_clone2: false,
    };
    precheck(validate::validate_clone(&args, &precheck_policy()))?;
    shared_stack(req.flags, req.stack)?;
    Ok(plan)
}

/// Checks a `clone3` request and builds its `clone_args` (steps 1–3 of the module docs).
pub(crate) fn plan_clone3(req: &Clone3Request<'_>) -> Result<Clone3Plan, SpawnError> {
    if !spawn::HAS_CLONE3 {
        return Err(SpawnError::Clone3Unsupported);
    }
    let (stack, stack_size, child_sp) = match req.stack {
        None => (0, 0, 0),
        Some(region) => {
            let l = stack::layout(ARCH, region)?;
            (l.clone3_stack, l.clone3_stack_size, addr(l.child_sp)?)
        }
    };
    let args = validate::CloneArgs {
        flags: req.flags.bits(),
        pidfd: slot(req.pidfd) as u64,
        child_tid: slot(req.child_tid) as u64,
        parent_tid: slot(req.parent_tid) as u64,
        exit_signal: req.exit_signal,
        stack,
        stack_size,
        tls: req.tls as u64,
        set_tid: if req.set_tid.is_empty() {
            0
        } else {
            req.set_tid.as_ptr() as usize as u64
        },
        set_tid_size: req.set_tid.len() as u64,
        cgroup: req.cgroup,
    };
    // The validator reads the same fields the kernel will get, in the byte order it assumes
    // for ARCH ...
    precheck(validate::validate_clone3_bytes(
        &args.to_bytes(ARCH),
        Some(req.set_tid),
        &precheck_policy(),
    ))?;
    shared_stack(req.flags, req.stack)?;
    // ... while the kernel reads them in the CPU's own order, which on a bi-endian arch is not
    // always the one `Arch` names (mips64el runs little-endian; Arch::Mips64 says big).
    Ok(Clone3Plan {
        args: CloneArgsBytes(args.to_bytes_with(cfg!(target_endian = "big"))),
        child_sp,
    })
}

/// Turns a raw kernel return into a tid or a [`SpawnError::Kernel`].
pub(crate) fn decode(ret: isize) -> Result<u32, SpawnError> {
    match u32::try_from(ret) {
        Ok(tid) => Ok(tid),
        Err(_) => Err(kernel_error(ret)),
    }
}

fn kernel_error(ret: isize) -> SpawnError {
    let raw = i32::try_from(ret.unsigned_abs()).unwrap_or(i32::MAX);
    SpawnError::Kernel {
        raw,
        errno: Errno::from_raw_for(raw, ARCH),
    }
}

/// Result of a raw syscall: the value, or the positive errno in this arch's numbering.
fn result(ret: isize) -> Result<usize, i32> {
    if (-4095..0).contains(&ret) {
        Err(i32::try_from(-ret).unwrap_or(i32::MAX))
    } else {
        Ok(ret as usize)
    }
}

/// The calling thread's id (`gettid`).
#[must_use]
pub fn gettid() -> u32 {
    spawn::gettid()
}

/// The process id (`getpid`).
#[must_use]
pub fn getpid() -> u32 {
    spawn::getpid()
}

/// Gives up the CPU (`sched_yield`).
pub fn sched_yield() {
    spawn::sched_yield();
}

/// Writes `bytes` to `fd` once (`write`); the count written or the raw errno.
pub fn write(fd: i32, bytes: &[u8]) -> Result<usize, i32> {
    result(spawn::write(fd, bytes))
}

/// Sleeps while `*word == expected` (`FUTEX_WAIT`, shared, no timeout). `Err(EAGAIN)` (raw
/// errno) if the value already differed, `Err(EINTR)` on a signal; callers re-check and loop.
///
/// Shared (not `FUTEX_PRIVATE_FLAG`) because the kernel's `CLONE_CHILD_CLEARTID` wake-up is a
/// shared `FUTEX_WAKE`.
pub fn futex_wait(word: &AtomicU32, expected: u32) -> Result<(), i32> {
    result(spawn::futex(word, FUTEX_WAIT, expected)).map(|_| ())
}

/// Wakes up to `count` waiters on `word` (`FUTEX_WAKE`, shared); how many were woken.
pub fn futex_wake(word: &AtomicU32, count: u32) -> Result<usize, i32> {
    result(spawn::futex(word, FUTEX_WAKE, count))
}

const FUTEX_WAIT: usize = 0;
const FUTEX_WAKE: usize = 1;

/// Ends the whole process (`exit_group`).
pub fn exit_group(code: i32) -> ! {
    crate::arch::exit_group(code)
}

/// The current stack pointer (sparc64: the biased `%sp`, as [`crate::stack`] reports it).
#[inline(always)]
#[must_use]
pub fn current_sp() -> usize {
    crate::arch::current_sp()
}

/// The thread pointer register, meaning per arch in the module docs.
#[must_use]
pub fn thread_pointer() -> usize {
    crate::arch::thread_pointer()
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREAD: CloneFlags = CloneFlags::VM
        .union(CloneFlags::FS)
        .union(CloneFlags::FILES)
        .union(CloneFlags::SIGHAND)
        .union(CloneFlags::THREAD)
        .union(CloneFlags::SYSVSEM);

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn legacy_plan_uses_the_stack_module_values() {
        // x86_64: top = end rounded down to 16, nothing reserved (stack.rs table).
        let req = CloneRequest {
            stack: Some(StackRegion {
                base: 0x1_0000,
                size: 0x1008,
            }),
            ..CloneRequest::new(THREAD, 0)
        };
        let p = plan_clone(&req).unwrap();
        assert_eq!(p.newsp, 0x1_1000);
        assert_eq!(p.child_sp, 0x1_1000);
        assert_eq!(p.word, 0x0005_0f00);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn clone3_plan_bytes_are_what_the_kernel_reads() {
        let req = Clone3Request {
            stack: Some(StackRegion {
                base: 0x1_0000,
                size: 0x1000,
            }),
            tls: 0x7777,
            ..Clone3Request::new(THREAD, 0)
        };
        let p = plan_clone3(&req).unwrap();
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&p.args.0[i * 8..i * 8 + 8]);
            // The kernel reads the struct in the CPU's own byte order.
            u64::from_ne_bytes(b)
        };
        assert_eq!(word(0), 0x0005_0f00); // flags
        assert_eq!(word(4), 0); // exit_signal
        assert_eq!(word(5), 0x1_0000); // stack: the region's base
        assert_eq!(word(6), 0x1000); // stack_size: kernel SP = base + size = top
        assert_eq!(word(7), 0x7777); // tls
        assert_eq!(p.child_sp, 0x1_1000);
    }

    #[test]
    fn prechecked_rules_are_all_einval() {
        for r in PRECHECKED_RULES {
            assert_eq!(r.errno(), Errno::EINVAL, "{r:?}");
        }
    }

    #[test]
    fn clone3_exit_signal_above_nsig_is_refused_before_the_trap() {
        // The pre-check runs the newest model (7.1+, where kernel_clone checks it), and the
        // refusal is the same rule as on every older kernel.
        let above = ARCH.nsig() + 1;
        let e = match plan_clone3(&Clone3Request::new(CloneFlags::empty(), above)) {
            Err(SpawnError::Rejected(e)) => e,
            Err(SpawnError::Clone3Unsupported) => return,
            other => panic!("{:?}", other.err()),
        };
        assert_eq!((e.rule, e.errno), (Rule::Clone3BadExitSignal, Errno::EINVAL));
        // The legacy byte above _NSIG is the kernel's to judge: before 7.1 it is accepted.
        let legacy = CloneRequest::new(CloneFlags::empty(), 0x80);
        assert!(plan_clone(&legacy).is_ok());
    }

    #[test]
    fn privilege_and_state_questions_pass_the_precheck() {
        // EPERM for an unprivileged caller comes before the EINVAL rule: the kernel decides.
        let req = CloneRequest::new(CloneFlags::NEWIPC | CloneFlags::SYSVSEM, 17);
        assert!(plan_clone(&req).is_ok());
        // A TLS value only a 5-level-paging x86_64 accepts: TASK_SIZE is the kernel's.
        let req = CloneRequest {
            tls: 1 << 50,
            ..CloneRequest::new(CloneFlags::SETTLS, 17)
        };
        assert!(plan_clone(&req).is_ok());
    }

    #[test]
    fn order_stack_then_rules_then_shared_stack() {
        let bad_stack = Some(StackRegion { base: 0, size: 64 });
        let req = CloneRequest {
            stack: bad_stack,
            ..CloneRequest::new(CloneFlags::SIGHAND, 0)
        };
        assert_eq!(
            plan_clone(&req).err(),
            Some(SpawnError::Stack(StackError::NullBase))
        );
        // CLONE_SIGHAND without CLONE_VM, no stack: the kernel rule wins.
        let req = CloneRequest::new(CloneFlags::SIGHAND | CloneFlags::THREAD, 0);
        match plan_clone(&req) {
            Err(SpawnError::Rejected(e)) => assert_eq!(e.rule, Rule::SighandWithoutVm),
            other => panic!("{:?}", other.err()),
        }
        let req = CloneRequest::new(THREAD, 0);
        assert_eq!(plan_clone(&req).err(), Some(SpawnError::UnsafeSharedStack));
    }
}
