//! Linux's answer to a `clone`/`clone3` call: accepted (with the `kernel_clone_args` the kernel
//! would build) or refused with the errno, in the kernel's exact check order.
//!
//! The order is the one in `kernel/fork.c` (facts §1.1–§1.8):
//!
//! 1. `sys_clone3`: ENOSYS where the arch/version has no `clone3`;
//! 2. `copy_clone_args_from_user`: size, `copy_struct_from_user` (tail then head), `set_tid`
//!    consistency, `exit_signal`, `CLONE_INTO_CGROUP`, `set_tid` copy;
//! 3. `clone3_args_valid` and `clone3_stack_valid`;
//! 4. `kernel_clone`: `CLONE_PIDFD | CLONE_PARENT_SETTID` on one pointer;
//! 5. `copy_process` flag rules, then `copy_creds` (user namespace), `copy_namespaces`,
//!    `copy_thread` (x86_64 TLS, i386 `struct user_desc`), `alloc_pid` (`set_tid`), the pidfd `put_user`, and
//!    `cgroup_can_fork`.
//!
//! The legacy `clone` enters at step 4 with `lower_32_bits(flags)`, the low byte as an exit
//! signal that is never checked, and one pointer for both `pidfd` and `parent_tid`.
//!
//! # Beyond the validator
//!
//! Runtime state that a [`Policy`] cannot describe is not modelled: a pending signal
//! (`ERESTARTNOINTR`, restarted transparently), memory exhaustion (ENOMEM), `RLIMIT_NPROC` and
//! `max_threads` (EAGAIN), LSM hooks, `fs->in_exec` with `CLONE_FS` (EAGAIN), namespace count
//! limits and user-namespace nesting (ENOSPC), fd exhaustion for the pidfd (EMFILE) and a
//! dying pid namespace (ENOMEM). Two per-call facts are asked of the caller at the kernel's
//! own step instead: a `set_tid` pid already in use (EEXIST, [`UserMemory::set_tid_taken`];
//! an existing namespace's init is known without asking) and `cgroup_can_fork`'s answer for a
//! `CLONE_INTO_CGROUP` fd ([`UserMemory::cgroup_can_fork`], by default
//! [`Policy::into_cgroup_error`]). Writes whose failure Linux ignores (`CLONE_PARENT_SETTID`,
//! `CLONE_CHILD_SETTID`) never produce an error.
//!
//! Arch-specific `copy_thread` errors other than x86_64's TLS range and i386's `CLONE_SETTLS`
//! `struct user_desc` checks (`validate/user_desc.rs`) are not modelled either: sparc's
//! `clone_stackframe` copy (EFAULT).
//!
//! # Checked against the real kernel
//!
//! `tests/kernel_differential.rs` issues real `clone`/`clone3` syscalls on an x86_64 host and
//! compares every errno with this module's answer: about 750,000 calls on Linux 6.18 (power
//! sets of the rule-relevant flags, random words and structs, sizes, tails, exit signals,
//! stacks, TLS values, pidfd slots, `set_tid` and `CLONE_INTO_CGROUP` cases), as root, as
//! uid 65534, as a pid-namespace init, after `unshare(CLONE_NEWPID)`, chrooted, and 32 pid
//! namespaces deep; 40 of the 52 `clone`/`clone3` rules are hit, with zero disagreements.
//! The i386 compat
//! entry is covered too: about 82,000 more calls per run through `int 0x80` (legacy `clone`
//! and `clone3`) with registers built by [`crate::syscall::encode`] for [`Arch::I386`], again
//! with zero disagreements (the compat kernel checks `clone3` stacks against the 64-bit
//! `TASK_SIZE_MAX`, see [`Policy::task_size_max`]). Findings the facts
//! file did not state: `access_ok` accepts a `clone3` stack ending exactly at `TASK_SIZE_MAX`;
//! a new pid namespace starts with `pid_max` 4194304 whatever its parent's value, so `set_tid`
//! entries are range-checked per level ([`Policy::ancestor_pid_max`]). The rules not reachable
//! on that host are the pre-6.9 `PidfdWithThread`, the 2026 AUTOREAP family, ENOSYS, and an
//! unconfigured namespace; they rest on the kernel source alone.
//!
//! # The fast accept path
//!
//! Calls that break no rule (nearly all of them) are accepted by a few mask tests
//! ([`Validator`] computes the masks once per [`Policy`]; the free functions compute them per
//! call). Anything that might fail takes the ordered walk above, so check order, errnos and
//! fixes are the walk's; a property test checks that both give the same verdict and the same
//! [`KernelCloneArgs`]. The `clone_args` words are read whole, in the arch's byte order; an
//! 88-byte struct on a kernel whose struct is 88 bytes (what a current libc passes) is read
//! as 11 words ([`UserMemory::read_clone_args`]), and any other size, or a struct the fast
//! path does not accept, takes the struct copy with its own checks and then the walk.
//! `cargo xtask lean` measures the result: no panic path linked, `.text` size, and callgrind
//! instruction counts per call.
//!
//! # Fixes
//!
//! Each [`CloneError`] from the `validate_*` functions carries the smallest [`Fix`] that passes
//! the whole validation under the same policy, found by re-validating combinations of
//! candidate changes (`src/fix.rs`); its [`Fix::reach`] says whether it stays within the
//! arguments, needs a privilege, or could not be checked. No allocation is involved.
//!
//! The kernel face's hot path does not search: [`check`] and [`Validator::check`] (which
//! [`crate::entry::clone_syscall`] uses) give the same verdict, errno, rule and flags as a
//! [`Refusal`], without the fix, so a kernel that only returns the errno does not link the
//! search (`cargo xtask lean` measures both builds). [`Refusal::explain`] searches on demand.
//!
//! [`Fix`]: crate::error::Fix
//! [`Fix::reach`]: crate::error::Fix::reach

use crate::accept;
use crate::error::{CloneError, Refusal, Rule};
use crate::flags::{CSIGNAL, CloneFlags, LEGACY_FLAGS};
use crate::policy::Policy;
use crate::syscall::CloneCall;
use crate::{Arch, Errno};

/// `MAX_PID_NS_LEVEL` (`include/linux/pid_namespace.h`).
pub const MAX_PID_NS_LEVEL: u64 = 32;
/// `CLONE_ARGS_SIZE_VER0`: `struct clone_args` up to `tls`.
pub const CLONE_ARGS_SIZE_VER0: u64 = 64;
/// `CLONE_ARGS_SIZE_VER1`: up to `set_tid_size`.
pub const CLONE_ARGS_SIZE_VER1: u64 = 80;
/// `CLONE_ARGS_SIZE_VER2`: up to `cgroup` (= `sizeof(struct clone_args)` since 5.7).
pub const CLONE_ARGS_SIZE_VER2: u64 = 88;
/// `_NSIG` on every arch clone-core knows except mips (`valid_signal` accepts `0..=_NSIG`);
/// the validator uses [`Arch::nsig`], which gives mips its 128.
pub const NSIG: u64 = 64;

pub use crate::syscall::LegacyCloneArgs;

mod caller;
mod fork;
mod setns;
mod unshare;
mod user_desc;
pub use caller::CallerTask;
pub use fork::{validate_fork, validate_vfork};
pub use setns::{KernelSetns, SETNS_FLAGS, SetnsFd, validate_setns};
pub use unshare::{
    KernelUnshare, UNSHARE_EMPTY_MNTNS, UNSHARE_FLAGS, implied_flags, unshare_flags,
    validate_unshare,
};
pub use user_desc::{USER_DESC_SIZE, tls_entries};

/// A user-memory access that faulted (EFAULT).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fault;

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("user memory access faulted")
    }
}

impl core::error::Error for Fault {}

/// The caller's memory as the kernel's `copy_from_user`/`put_user` see it.
pub trait UserMemory {
    /// Copies `out.len()` bytes at `addr`, or faults if any of them is unreadable.
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault>;

    /// The whole 88-byte `struct clone_args` at `addr` as its words in the given byte order,
    /// or a fault if any of its bytes is unreadable: what [`Self::read`] of the 88 bytes and
    /// [`CloneArgs::from_array`] give, which is the default. Memory that can be addressed in
    /// place ([`SliceMemory`]) reads the words where they are, without the copy.
    fn read_clone_args(&self, addr: u64, big_endian: bool) -> Result<CloneArgs, Fault>
    where
        Self: Sized,
    {
        let mut raw = [0u8; 88];
        self.read(addr, &mut raw)?;
        Ok(CloneArgs::from_array(&raw, big_endian))
    }

    /// Whether `len` bytes at `addr` can be written (`put_user` of the pidfd). Default:
    /// writes succeed.
    fn writable(&self, addr: u64, len: u64) -> bool {
        let _ = (addr, len);
        true
    }

    /// `access_ok(addr, len)`: by default [`Policy::access_ok`], a pure range check against
    /// the policy's `TASK_SIZE_MAX` (always true on s390x, hppa and sparc64).
    fn access_ok(&self, addr: u64, len: u64, policy: &Policy) -> bool {
        policy.access_ok(addr, len)
    }

    /// Per-call hook of `alloc_pid`: whether `pid`, asked for by `set_tid[level]` (0 = the
    /// child's innermost pid namespace), is already in use there (`idr_alloc` fails, Linux
    /// says **EEXIST**). Asked at the kernel's own step: after that entry's range, reaper and
    /// permission checks, before the next entry's. Default: no pid is taken (the validator
    /// itself knows only that an existing namespace's pid 1 is).
    fn set_tid_taken(&self, level: usize, pid: i32) -> bool {
        let _ = (level, pid);
        false
    }

    /// Per-call hook of `cgroup_can_fork`: its answer for `CLONE_INTO_CGROUP` with this call's
    /// `cgroup` fd (`None` = accepted). Asked last, after `alloc_pid` and the pidfd, as Linux
    /// does. Default: [`Policy::into_cgroup_error`], one answer for every fd.
    fn cgroup_can_fork(&self, fd: u64, policy: &Policy) -> Option<Errno> {
        let _ = fd;
        policy.into_cgroup_error
    }
}

impl<T: UserMemory + ?Sized> UserMemory for &T {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        (**self).read(addr, out)
    }
    fn writable(&self, addr: u64, len: u64) -> bool {
        (**self).writable(addr, len)
    }
    fn access_ok(&self, addr: u64, len: u64, policy: &Policy) -> bool {
        (**self).access_ok(addr, len, policy)
    }
    fn set_tid_taken(&self, level: usize, pid: i32) -> bool {
        (**self).set_tid_taken(level, pid)
    }
    fn cgroup_can_fork(&self, fd: u64, policy: &Policy) -> Option<Errno> {
        (**self).cgroup_can_fork(fd, policy)
    }
}

/// Memory with nothing readable (every read faults); writes are assumed to succeed. Suits
/// legacy `clone`, which reads nothing.
#[derive(Copy, Clone, Debug, Default)]
pub struct NoMemory;

impl UserMemory for NoMemory {
    fn read(&self, _addr: u64, _out: &mut [u8]) -> Result<(), Fault> {
        Err(Fault)
    }
}

/// One readable byte range at a user address; everything else faults on read. Writes are
/// assumed to succeed.
#[derive(Copy, Clone, Debug)]
pub struct SliceMemory<'a> {
    /// User address of `bytes[0]`.
    pub base: u64,
    /// The readable bytes.
    pub bytes: &'a [u8],
}

impl SliceMemory<'_> {
    /// The `len` bytes at `addr`, if all of them are inside.
    fn at(&self, addr: u64, len: usize) -> Result<&[u8], Fault> {
        let start = addr.checked_sub(self.base).ok_or(Fault)?;
        let start = usize::try_from(start).map_err(|_| Fault)?;
        let end = start.checked_add(len).ok_or(Fault)?;
        self.bytes.get(start..end).ok_or(Fault)
    }
}

impl UserMemory for SliceMemory<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        out.copy_from_slice(self.at(addr, out.len())?);
        Ok(())
    }

    fn read_clone_args(&self, addr: u64, big_endian: bool) -> Result<CloneArgs, Fault> {
        let bytes = self.at(addr, 88)?.try_into().map_err(|_| Fault)?;
        Ok(CloneArgs::from_array_inline(bytes, big_endian))
    }
}

/// Which syscall built the arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// Legacy `clone`.
    Clone,
    /// ia64 `clone2`.
    Clone2,
    /// `clone3` with this `size`.
    Clone3 {
        /// The `size` argument.
        size: u64,
    },
    /// `fork()` ([`validate_fork`]).
    Fork,
    /// `vfork()` ([`validate_vfork`]).
    Vfork,
}

/// `struct kernel_clone_args` after validation: what `copy_process` works from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KernelCloneArgs {
    /// Which syscall this came from.
    pub via: Via,
    /// Flags (legacy: `lower_32_bits(word) & ~CSIGNAL`).
    pub flags: CloneFlags,
    /// Exit signal (legacy: the low byte, 0..=255, unchecked; clone3: 0..=64, mips 0..=128). The child's
    /// real exit signal is decided later: -1 with `CLONE_THREAD`, the caller's own with
    /// `CLONE_PARENT`.
    pub exit_signal: u8,
    /// Where the pidfd goes (legacy: the `parent_tid` pointer).
    pub pidfd: u64,
    /// `child_tid` pointer.
    pub child_tid: u64,
    /// `parent_tid` pointer.
    pub parent_tid: u64,
    /// Stack: legacy, the new SP as given (0 = the parent's); clone3, `stack + stack_size` on
    /// grows-down arches (the kernel's adjustment in `clone3_stack_valid`), the base on hppa.
    pub stack: u64,
    /// Stack size (clone3, ia64 `clone2`, microblaze; 0 otherwise).
    pub stack_size: u64,
    /// `tls`.
    pub tls: u64,
    /// `set_tid` entries (`pid_t`), innermost pid namespace first.
    pub set_tid: [i32; 32],
    /// How many of [`Self::set_tid`] are used.
    pub set_tid_len: usize,
    /// `cgroup` fd for `CLONE_INTO_CGROUP`.
    pub cgroup: u64,
}

/// The `struct clone_args` fields, as `copy_struct_from_user` left them (zero past `size`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct CloneArgs {
    /// `flags`.
    pub flags: u64,
    /// `pidfd`.
    pub pidfd: u64,
    /// `child_tid`.
    pub child_tid: u64,
    /// `parent_tid`.
    pub parent_tid: u64,
    /// `exit_signal`.
    pub exit_signal: u64,
    /// `stack` (lowest address).
    pub stack: u64,
    /// `stack_size`.
    pub stack_size: u64,
    /// `tls`.
    pub tls: u64,
    /// `set_tid` pointer.
    pub set_tid: u64,
    /// `set_tid_size`.
    pub set_tid_size: u64,
    /// `cgroup`.
    pub cgroup: u64,
}

impl CloneArgs {
    /// Reads the fields from up to 88 bytes in `arch`'s byte order; missing bytes are zero.
    #[must_use]
    pub fn from_bytes(bytes: &[u8], arch: Arch) -> Self {
        let mut buf = [0u8; 88];
        let n = bytes.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        Self::from_array(&buf, arch.big_endian())
    }

    /// Reads the fields from the whole struct, one 8-byte word each, in the given byte order.
    #[must_use]
    pub fn from_array(bytes: &[u8; 88], big_endian: bool) -> Self {
        Self::from_array_inline(bytes, big_endian)
    }

    /// [`CloneArgs::from_array`], inlined into the fast path so that the words go straight
    /// to registers.
    #[inline(always)]
    fn from_array_inline(bytes: &[u8; 88], big_endian: bool) -> Self {
        if big_endian {
            Self::from_words(bytes, u64::from_be_bytes)
        } else {
            Self::from_words(bytes, u64::from_le_bytes)
        }
    }

    #[inline(always)]
    fn from_words(bytes: &[u8; 88], word: impl Fn([u8; 8]) -> u64) -> Self {
        let at = |offset: usize| {
            let mut w = [0u8; 8];
            if let Some(src) = bytes.get(offset..offset + 8) {
                w.copy_from_slice(src);
            }
            word(w)
        };
        Self {
            flags: at(0),
            pidfd: at(8),
            child_tid: at(16),
            parent_tid: at(24),
            exit_signal: at(32),
            stack: at(40),
            stack_size: at(48),
            tls: at(56),
            set_tid: at(64),
            set_tid_size: at(72),
            cgroup: at(80),
        }
    }

    /// The 88-byte `struct clone_args` in `arch`'s byte order ([`Arch::big_endian`]).
    #[must_use]
    pub fn to_bytes(&self, arch: Arch) -> [u8; 88] {
        self.to_bytes_with(arch.big_endian())
    }

    /// The 88-byte `struct clone_args` in the given byte order. For a bi-endian arch
    /// ([`Arch::bi_endian`]) the running CPU's order may not be the one [`Arch::big_endian`]
    /// names (mips64el), so code that hands the struct to its own kernel uses this with
    /// `cfg!(target_endian = "big")`.
    #[must_use]
    pub fn to_bytes_with(&self, big_endian: bool) -> [u8; 88] {
        let w = [
            self.flags,
            self.pidfd,
            self.child_tid,
            self.parent_tid,
            self.exit_signal,
            self.stack,
            self.stack_size,
            self.tls,
            self.set_tid,
            self.set_tid_size,
            self.cgroup,
        ];
        let mut out = [0u8; 88];
        for (chunk, v) in out.chunks_exact_mut(8).zip(w) {
            let b = if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            chunk.copy_from_slice(&b);
        }
        out
    }
}

/// Validates a legacy `clone` (or ia64 `clone2`) call. Pointers are assumed valid: the pidfd
/// slot writable and, on i386, `tls` pointing at an empty `struct user_desc` in the first TLS
/// slot (use [`validate_clone_in`] to model real memory).
pub fn validate_clone(
    args: &LegacyCloneArgs,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    let mem = user_desc::AssumedValid {
        tls: args.tls,
        entry: tls_entries(policy).0,
    };
    validate_clone_in(args, &mem, policy)
}

/// [`validate_clone`] for a word alone (all pointers 0 but assumed valid): for flag questions.
pub fn validate_clone_word(word: u64, policy: &Policy) -> Result<KernelCloneArgs, CloneError> {
    validate_clone(
        &LegacyCloneArgs {
            word,
            ..LegacyCloneArgs::default()
        },
        policy,
    )
}

/// [`validate_clone`] with a memory model for the pidfd `put_user`.
pub fn validate_clone_in(
    args: &LegacyCloneArgs,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    // Only the legacy masks: the clone3 ones would be computed for nothing.
    match accept::legacy_accepts(args, &accept::LegacyMasks::new(policy), mem) {
        Some(k) => Ok(k),
        None => explain_legacy(args, mem, policy),
    }
}

/// Validates `clone3(uargs, size)` reading `struct clone_args` (and `set_tid`) from `mem`.
pub fn validate_clone3(
    uargs: u64,
    size: u64,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    Validator::new(*policy).validate_clone3(uargs, size, mem)
}

/// A [`Policy`] with the masks of the fast accept path computed once, for a kernel that
/// validates many calls under one policy. [`Validator::new`] is `const`, so a kernel whose
/// policy is fixed can keep one in a `static`.
///
/// Answers are exactly those of [`validate_clone_in`] and [`validate_clone3`], which build a
/// `Validator` per call: calls that break no rule are accepted by a few mask tests, anything
/// else takes the ordered rule walk (and, if refused, the fix search).
#[derive(Copy, Clone, Debug)]
pub struct Validator {
    policy: Policy,
    pub(crate) masks: accept::Masks,
}

impl Validator {
    /// The validator for `policy`.
    #[must_use]
    pub const fn new(policy: Policy) -> Self {
        Self {
            masks: accept::Masks::new(&policy),
            policy,
        }
    }

    /// The policy it validates under.
    #[must_use]
    pub const fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The kernel face's hot path: Linux's answer for a decoded call (`clone`, `clone2`,
    /// `clone3`, `fork`, `vfork`) with the refusal's errno, rule and flags but no fix search,
    /// so a kernel that only returns the errno links no search. Same verdict, rule and flags as
    /// the `validate_*` functions; [`Refusal::explain`] gives the fix on demand.
    pub fn check(
        &self,
        call: &CloneCall,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, Refusal> {
        match *call {
            CloneCall::Clone(ref args) => self.check_clone(args, mem),
            CloneCall::Clone3 { args, size } => self.check_clone3(args, size, mem),
            CloneCall::Fork | CloneCall::Vfork => {
                fork::check(matches!(call, CloneCall::Vfork), &self.policy)
                    .map_err(|f| f.refusal(*call))
            }
        }
    }

    /// [`Validator::check`] for a legacy `clone`/`clone2` call.
    pub fn check_clone(
        &self,
        args: &LegacyCloneArgs,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, Refusal> {
        match accept::legacy_accepts(args, &self.masks.legacy, mem) {
            Some(k) => Ok(k),
            None => refuse_legacy(args, mem, &self.policy),
        }
    }

    /// [`Validator::check`] for `clone3(uargs, size)`.
    pub fn check_clone3(
        &self,
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, Refusal> {
        self.clone3::<WithoutFix>(uargs, size, mem)
    }

    /// [`validate_clone_in`] under this validator's policy.
    pub fn validate_clone(
        &self,
        args: &LegacyCloneArgs,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, CloneError> {
        match accept::legacy_accepts(args, &self.masks.legacy, mem) {
            Some(k) => Ok(k),
            None => explain_legacy(args, mem, &self.policy),
        }
    }

    /// [`validate_clone3`] under this validator's policy.
    pub fn validate_clone3(
        &self,
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, CloneError> {
        self.clone3::<WithFix>(uargs, size, mem)
    }

    /// `clone3` up to the verdict: the fast path, or, out of line, the struct copy with its
    /// own checks and then the walk, answered as `A` answers. An accepted call's arguments
    /// are written once, where the caller wants them.
    #[inline(always)]
    fn clone3<A: Answer>(
        &self,
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
    ) -> Result<KernelCloneArgs, A::Error> {
        // The whole struct, what a current libc passes: `sys_clone3` and the size rules pass
        // (`whole_struct`), there is no tail to check, and the struct is read as 11 words.
        if size == CLONE_ARGS_SIZE_VER2
            && self.masks.whole_struct
            && mem.access_ok(uargs, CLONE_ARGS_SIZE_VER2, &self.policy)
        {
            if let Ok(args) = mem.read_clone_args(uargs, self.masks.big_endian) {
                if let Some(k) = accept::clone3_accepts(&args, size, &self.masks, mem, &self.policy)
                {
                    return Ok(k);
                }
            }
        }
        copy_then_walk::<A>(uargs, size, mem, &self.policy, &self.masks)
    }
}

/// How a `clone3` call the fast path did not accept is answered: a type, not a closure, so
/// the fast path builds nothing for it.
trait Answer {
    /// The refusal.
    type Error;
    /// A refusal by the struct copy's own checks.
    fn early(
        f: Failure,
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
        policy: &Policy,
    ) -> Self::Error;
    /// The walk on the struct as copied into `raw`.
    fn walk(
        raw: &[u8; 88],
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
        policy: &Policy,
    ) -> Result<KernelCloneArgs, Self::Error>;
}

/// [`Refusal`]: errno, rule and flags (the hot path's answer).
struct WithoutFix;

impl Answer for WithoutFix {
    type Error = Refusal;
    fn early(f: Failure, uargs: u64, size: u64, _: &impl UserMemory, _: &Policy) -> Refusal {
        f.refusal(CloneCall::Clone3 { args: uargs, size })
    }
    fn walk(
        raw: &[u8; 88],
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
        policy: &Policy,
    ) -> Result<KernelCloneArgs, Refusal> {
        refuse_clone3(raw, uargs, size, mem, policy)
    }
}

/// [`CloneError`]: the refusal with its fix.
struct WithFix;

impl Answer for WithFix {
    type Error = CloneError;
    fn early(
        f: Failure,
        uargs: u64,
        size: u64,
        mem: &impl UserMemory,
        policy: &Policy,
    ) -> CloneError {
        f.with_fix(crate::fix::early_fix(f.rule, uargs, size, mem, policy))
    }
    fn walk(
        raw: &[u8; 88],
        _: u64,
        size: u64,
        mem: &impl UserMemory,
        policy: &Policy,
    ) -> Result<KernelCloneArgs, CloneError> {
        explain_clone3(raw, size, mem, policy)
    }
}

/// A `clone3` call the fast path did not accept: the struct copy with all its checks, in
/// Linux's order (a fault is EFAULT here), then the walk on that copy. The struct is read
/// again rather than handed over, so the fast path keeps its words in registers; the verdict
/// is the walk's on the bytes it read, as Linux's is on its one copy.
#[cold]
#[inline(never)]
fn copy_then_walk<A: Answer>(
    uargs: u64,
    size: u64,
    mem: &impl UserMemory,
    policy: &Policy,
    masks: &accept::Masks,
) -> Result<KernelCloneArgs, A::Error> {
    let mut raw = [0u8; 88];
    if let Err(f) = read_clone_args(uargs, size, mem, policy, masks, &mut raw) {
        return Err(A::early(f, uargs, size, mem, policy));
    }
    A::walk(&raw, uargs, size, mem, policy)
}

// The walk for the calls the fast path did not accept, out of line so that the fast path
// builds nothing for it: `refuse_*` answer without a fix (the search is not linked where only
// they are used), `explain_*` with the fix search's fix.

/// The walk for a legacy call, its refusal without a fix.
#[cold]
#[inline(never)]
fn refuse_legacy(
    args: &LegacyCloneArgs,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Refusal> {
    walk_legacy(args, mem, policy).map_err(|f| f.refusal(CloneCall::Clone(*args)))
}

/// The walk for a legacy call, its refusal with the fix.
#[cold]
#[inline(never)]
fn explain_legacy(
    args: &LegacyCloneArgs,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    walk_legacy(args, mem, policy)
        .map_err(|f| f.with_fix(crate::fix::best_fix(&f, &legacy_request(args), mem, policy)))
}

/// The walk for `clone3` after the struct copy into `raw`, its refusal without a fix.
#[cold]
#[inline(never)]
fn refuse_clone3(
    raw: &[u8; 88],
    uargs: u64,
    size: u64,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Refusal> {
    walk_clone3(raw, size, mem, policy)
        .map_err(|f| f.refusal(CloneCall::Clone3 { args: uargs, size }))
}

/// The walk for `clone3` after the struct copy into `raw`, its refusal with the fix.
#[cold]
#[inline(never)]
fn explain_clone3(
    raw: &[u8; 88],
    size: u64,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    walk_clone3(raw, size, mem, policy).map_err(|f| {
        let req = clone3_request(raw, size, policy.arch.big_endian());
        f.with_fix(crate::fix::best_fix(&f, &req, mem, policy))
    })
}

/// [`Validator::check`] for one call under `policy` (the masks computed for this call, the
/// legacy ones alone for a legacy call).
pub fn check(
    call: &CloneCall,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Refusal> {
    match call {
        CloneCall::Clone(args) => {
            match accept::legacy_accepts(args, &accept::LegacyMasks::new(policy), mem) {
                Some(k) => Ok(k),
                None => refuse_legacy(args, mem, policy),
            }
        }
        _ => Validator::new(*policy).check(call, mem),
    }
}

/// The notional user address [`validate_clone3_bytes`] places the struct at.
pub const BYTES_BASE: u64 = 0x10_0000;

/// Validates `clone3` for a tool that already holds the struct bytes: `size` is
/// `bytes.len()`, the struct sits at [`BYTES_BASE`], and the `set_tid` pointer (whatever its
/// value) reads `set_tid` if given, or faults (EFAULT) if `None`.
pub fn validate_clone3_bytes(
    bytes: &[u8],
    set_tid: Option<&[i32]>,
    policy: &Policy,
) -> Result<KernelCloneArgs, CloneError> {
    let mem = BytesMemory {
        bytes,
        set_tid,
        arch: policy.arch,
    };
    validate_clone3(BYTES_BASE, bytes.len() as u64, &mem, policy)
}

struct BytesMemory<'a> {
    bytes: &'a [u8],
    set_tid: Option<&'a [i32]>,
    arch: Arch,
}

impl UserMemory for BytesMemory<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        let args = SliceMemory {
            base: BYTES_BASE,
            bytes: self.bytes,
        };
        if args.read(addr, out).is_ok() {
            return Ok(());
        }
        let tids = self.set_tid.ok_or(Fault)?;
        if addr != CloneArgs::from_bytes(self.bytes, self.arch).set_tid {
            return Err(Fault);
        }
        if out.len() > tids.len().saturating_mul(4) {
            return Err(Fault);
        }
        for (chunk, tid) in out.chunks_mut(4).zip(tids) {
            let b = if self.arch.big_endian() {
                tid.to_be_bytes()
            } else {
                tid.to_le_bytes()
            };
            for (d, s) in chunk.iter_mut().zip(b) {
                *d = s;
            }
        }
        Ok(())
    }
}

/// The arguments after the syscall entry, before the shared checks.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Request {
    pub(crate) via: Via,
    pub(crate) flags: u64,
    pub(crate) exit_signal: u64,
    pub(crate) pidfd: u64,
    pub(crate) parent_tid: u64,
    pub(crate) child_tid: u64,
    pub(crate) stack: u64,
    pub(crate) stack_size: u64,
    pub(crate) tls: u64,
    pub(crate) set_tid: u64,
    pub(crate) set_tid_size: u64,
    pub(crate) cgroup: u64,
}

/// A failed rule before its fix is known.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) rule: Rule,
    pub(crate) errno: Errno,
    pub(crate) flags: CloneFlags,
}

impl Failure {
    /// The refusal of `call`, without a fix.
    pub(crate) fn refusal(self, call: CloneCall) -> Refusal {
        Refusal {
            errno: self.errno,
            rule: self.rule,
            flags: self.flags,
            call,
        }
    }

    /// The refusal with its fix.
    pub(crate) fn with_fix(self, fix: crate::error::Fix) -> CloneError {
        CloneError {
            errno: self.errno,
            rule: self.rule,
            flags: self.flags,
            fix,
        }
    }
}

fn fail(rule: Rule, flags: CloneFlags) -> Failure {
    Failure {
        rule,
        errno: rule.errno(),
        flags,
    }
}

/// `sys_clone3` entry and `copy_clone_args_from_user` up to (not including) the `set_tid`
/// consistency rules, which the shared checks run so that fixes can be re-validated.
pub(crate) fn copy_clone_args(
    uargs: u64,
    size: u64,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Result<Request, Failure> {
    let mut raw = [0u8; 88];
    read_clone_args(
        uargs,
        size,
        mem,
        policy,
        &accept::Masks::new(policy),
        &mut raw,
    )?;
    Ok(clone3_request(&raw, size, policy.arch.big_endian()))
}

/// [`copy_clone_args`] into `buf`, the struct as the kernel copied it (zero past `size`).
pub(crate) fn read_clone_args(
    uargs: u64,
    size: u64,
    mem: &impl UserMemory,
    policy: &Policy,
    masks: &accept::Masks,
    buf: &mut [u8; 88],
) -> Result<(), Failure> {
    let known = masks.args_size;
    let none = CloneFlags::empty();
    if !masks.has_clone3 {
        return Err(fail(Rule::Clone3Unavailable, none));
    }
    // The fixes of these refusals come from crate::fix::early_fix, on demand.
    if size > policy.page_size {
        return Err(fail(Rule::Clone3SizeAbovePage, none));
    }
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(fail(Rule::Clone3SizeBelowVer0, none));
    }
    let fault = || fail(Rule::ArgsFault, none);
    // copy_struct_from_user checks the tail (check_zeroed_user) before copying the head.
    if size > known {
        check_zeroed_tail(uargs, known, size, mem, policy)?;
    }
    let head = size.min(known);
    if !mem.access_ok(uargs, head, policy) {
        return Err(fault());
    }
    let dst = buf.get_mut(..head as usize).ok_or_else(fault)?;
    mem.read(uargs, dst).map_err(|_| fault())
}

/// `check_zeroed_user` on the bytes `known..size` past the struct the kernel knows: whole
/// aligned words, stopping at the first non-zero one.
#[cold]
fn check_zeroed_tail(
    uargs: u64,
    known: u64,
    size: u64,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<(), Failure> {
    let fault = || fail(Rule::ArgsFault, CloneFlags::empty());
    let start = uargs.checked_add(known).ok_or_else(fault)?;
    let end = uargs.checked_add(size).ok_or_else(fault)?;
    let from = start - start % 8;
    if !mem.access_ok(from, end - from, policy) {
        return Err(fault());
    }
    // Bits of the bytes below offset `k` of a word read in memory order.
    let below = |k: u64| {
        if k >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * k)) - 1
        }
    };
    let mut word_addr = from;
    while word_addr < end {
        let mut w = [0u8; 8];
        mem.read(word_addr, &mut w).map_err(|_| fault())?;
        let inside = below(end - word_addr) & !below(start.saturating_sub(word_addr));
        if u64::from_le_bytes(w) & inside != 0 {
            return Err(fail(Rule::Clone3NonZeroTail, CloneFlags::empty()));
        }
        // The last word may be the top of the address space (`end == u64::MAX` where
        // access_ok() checks nothing, or a UserMemory that allows it): stop, don't wrap.
        match word_addr.checked_add(8) {
            Some(next) => word_addr = next,
            None => break,
        }
    }
    Ok(())
}

/// [`check_request`] for a legacy call (called out of line, from [`refuse_legacy`] and
/// [`explain_legacy`], so that the fast path builds nothing for it).
pub(crate) fn walk_legacy(
    args: &LegacyCloneArgs,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Failure> {
    check_request(&legacy_request(args), mem, policy)
}

/// [`check_request`] for a `clone3` call (out of line, from [`refuse_clone3`] and [`explain_clone3`]).
pub(crate) fn walk_clone3(
    raw: &[u8; 88],
    size: u64,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Failure> {
    check_request(
        &clone3_request(raw, size, policy.arch.big_endian()),
        mem,
        policy,
    )
}

/// The `clone3` arguments as the shared checks see them.
pub(crate) fn clone3_request(raw: &[u8; 88], size: u64, big_endian: bool) -> Request {
    let a = CloneArgs::from_array(raw, big_endian);
    Request {
        via: Via::Clone3 { size },
        flags: a.flags,
        exit_signal: a.exit_signal,
        pidfd: a.pidfd,
        parent_tid: a.parent_tid,
        child_tid: a.child_tid,
        stack: a.stack,
        stack_size: a.stack_size,
        tls: a.tls,
        set_tid: a.set_tid,
        set_tid_size: a.set_tid_size,
        cgroup: a.cgroup,
    }
}

/// The legacy arguments as the shared checks see them: `lower_32_bits(flags)` split into flags
/// and the unchecked exit signal, and one pointer for both `pidfd` and `parent_tid`.
pub(crate) fn legacy_request(args: &LegacyCloneArgs) -> Request {
    let low = args.word & LEGACY_FLAGS;
    Request {
        via: if args.via_clone2 {
            Via::Clone2
        } else {
            Via::Clone
        },
        flags: low & !CSIGNAL,
        exit_signal: low & CSIGNAL,
        pidfd: args.parent_tid,
        parent_tid: args.parent_tid,
        child_tid: args.child_tid,
        stack: args.stack,
        stack_size: if args.via_clone2 { args.stack_size } else { 0 },
        tls: args.tls,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    }
}

pub(crate) const fn fl(bits: u64) -> CloneFlags {
    CloneFlags::from_bits_retain(bits)
}

/// Every check after the clone3 copy, in Linux's order: one function per kernel function, so
/// that each can be read beside its source. Pure apart from `mem`, which is a trait object:
/// one copy of the walk serves every memory type (the fast accept path stays generic).
pub(crate) fn check_request(
    req: &Request,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<KernelCloneArgs, Failure> {
    let mut set_tid = [0i32; 32];
    let mut stack = req.stack;
    // valid_signal(exit_signal): kernel_clone's since 7.1, copy_clone_args_from_user's before.
    let late_signal = policy.linux.kernel_clone_checks_exit_signal();
    // The legacy byte's rule there; clone3's keeps its name wherever it is checked.
    let mut late_rule = Rule::InvalidExitSignal;
    if let Via::Clone3 { size } = req.via {
        copy_clone_args_from_user(req, size, late_signal, mem, policy, &mut set_tid)?;
        stack = clone3_args_valid(req, mem, policy)?;
        late_rule = Rule::Clone3BadExitSignal;
    }
    let flags = kernel_clone_flags(req.flags);
    kernel_clone(req, flags, late_signal, late_rule, policy)?;
    copy_process(req, flags, policy)?;
    copy_creds(req, policy)?;
    copy_namespaces(flags, policy)?;
    copy_thread(req, mem, policy)?;
    alloc_pid(req, &set_tid, mem, policy)?;
    pidfd_put_user(req, mem)?;
    cgroup_can_fork(req, mem, policy)?;
    let mut accepted = accept::accepted(req, stack, set_tid);
    accepted.flags = flags;
    Ok(accepted)
}

/// `copy_clone_args_from_user` after the struct copy: `set_tid` consistency, `exit_signal`
/// (its high bits; also `valid_signal` unless `late_signal`, 7.1+, gives that to
/// `kernel_clone`), `CLONE_INTO_CGROUP`, then the `set_tid` array copy into `set_tid`.
fn copy_clone_args_from_user(
    req: &Request,
    size: u64,
    late_signal: bool,
    mem: &dyn UserMemory,
    policy: &Policy,
    set_tid: &mut [i32; 32],
) -> Result<(), Failure> {
    let none = CloneFlags::empty();
    if req.set_tid_size > MAX_PID_NS_LEVEL {
        return Err(fail(Rule::SetTidSizeAboveMax, none));
    }
    if req.set_tid == 0 && req.set_tid_size > 0 {
        return Err(fail(Rule::SetTidNullWithSize, none));
    }
    if req.set_tid != 0 && req.set_tid_size == 0 {
        return Err(fail(Rule::SetTidSizeZeroWithPointer, none));
    }
    // `exit_signal & ~CSIGNAL || !valid_signal(exit_signal)` in one compare (`_NSIG` <
    // `CSIGNAL`); since 7.1 the `valid_signal` half is kernel_clone's, after the set_tid copy.
    let limit = if late_signal {
        CSIGNAL
    } else {
        policy.arch.nsig()
    };
    if req.exit_signal > limit {
        return Err(fail(Rule::Clone3BadExitSignal, none));
    }
    if fl(req.flags).intersects(CloneFlags::INTO_CGROUP)
        && policy.linux.at_least(crate::policy::LinuxVersion::V5_7)
    {
        if req.cgroup > i32::MAX as u64 {
            return Err(fail(Rule::IntoCgroupBadFd, CloneFlags::INTO_CGROUP));
        }
        if size < CLONE_ARGS_SIZE_VER2 {
            return Err(fail(
                Rule::IntoCgroupStructTooSmall,
                CloneFlags::INTO_CGROUP,
            ));
        }
    }
    if req.set_tid != 0 {
        // set_tid_size <= 32 here.
        let n = req.set_tid_size as usize;
        let mut raw = [0u8; 128];
        let dst = raw.get_mut(..n * 4).ok_or(fail(Rule::SetTidFault, none))?;
        if !mem.access_ok(req.set_tid, (n * 4) as u64, policy)
            || mem.read(req.set_tid, dst).is_err()
        {
            return Err(fail(Rule::SetTidFault, none));
        }
        for (slot, b) in set_tid.iter_mut().zip(raw.chunks_exact(4)).take(n) {
            let b = [b[0], b[1], b[2], b[3]];
            *slot = if policy.arch.big_endian() {
                i32::from_be_bytes(b)
            } else {
                i32::from_le_bytes(b)
            };
        }
    }
    Ok(())
}

/// `clone3_args_valid`: known flags, `CLONE_DETACHED` and `CSIGNAL` bits, `CLONE_SIGHAND` with
/// `CLONE_CLEAR_SIGHAND`, an exit signal with `CLONE_THREAD`/`CLONE_PARENT`, then
/// [`clone3_stack_valid`]. Returns the stack pointer the child gets.
fn clone3_args_valid(req: &Request, mem: &dyn UserMemory, policy: &Policy) -> Result<u64, Failure> {
    let v = policy.linux;
    let f = fl(req.flags);
    let known = fl(LEGACY_FLAGS) | v.clone3_extra_flags();
    let unknown = f.difference(known);
    if !unknown.is_empty() {
        return Err(fail(Rule::Clone3UnknownFlags, unknown));
    }
    let csignal = if v.clone3_accepts_newtime() {
        CSIGNAL & !CloneFlags::NEWTIME.bits()
    } else {
        CSIGNAL
    };
    let bad = f.intersection(CloneFlags::DETACHED | fl(csignal));
    if !bad.is_empty() {
        return Err(fail(Rule::Clone3DetachedOrSignalBits, bad));
    }
    if f.contains(CloneFlags::SIGHAND | CloneFlags::CLEAR_SIGHAND) {
        return Err(fail(
            Rule::SighandWithClearSighand,
            CloneFlags::SIGHAND | CloneFlags::CLEAR_SIGHAND,
        ));
    }
    if f.intersects(CloneFlags::THREAD | CloneFlags::PARENT) && req.exit_signal != 0 {
        return Err(fail(
            Rule::ThreadOrParentWithExitSignal,
            f & (CloneFlags::THREAD | CloneFlags::PARENT),
        ));
    }
    clone3_stack_valid(req, mem, policy)
}

/// `clone3_stack_valid`: stack and size both or neither, `access_ok`, and the move of the
/// stack pointer to the top on grows-down arches.
fn clone3_stack_valid(
    req: &Request,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<u64, Failure> {
    let none = CloneFlags::empty();
    if req.stack == 0 {
        if req.stack_size > 0 {
            return Err(fail(Rule::Clone3SizeWithoutStack, none));
        }
        return Ok(0);
    }
    if req.stack_size == 0 {
        return Err(fail(Rule::Clone3StackWithoutSize, none));
    }
    if !mem.access_ok(req.stack, req.stack_size, policy) {
        return Err(fail(Rule::StackNotAccessible, none));
    }
    // CONFIG_STACK_GROWSUP (parisc) keeps the lowest address as the SP.
    if policy.arch.stack_growth() == crate::abi::StackGrowth::Down {
        return Ok(req.stack.wrapping_add(req.stack_size));
    }
    Ok(req.stack)
}

/// `kernel_clone`, before `copy_process`, on the flags [`kernel_clone_flags`] gives (with
/// `CLONE_EMPTY_MNTNS`'s `CLONE_NEWNS`, which every later check and the accepted request see):
/// `CLONE_PIDFD` and `CLONE_PARENT_SETTID` must not share one pointer, then (`late_signal`,
/// 7.1+) `valid_signal(exit_signal)`, refused as `rule`: [`Rule::InvalidExitSignal`] for the
/// legacy byte, [`Rule::Clone3BadExitSignal`] for `clone3` (the rule older kernels give it from
/// `copy_clone_args_from_user`; only its place in the order moved).
fn kernel_clone(
    req: &Request,
    flags: CloneFlags,
    late_signal: bool,
    rule: Rule,
    policy: &Policy,
) -> Result<(), Failure> {
    let both = CloneFlags::PIDFD | CloneFlags::PARENT_SETTID;
    if flags.contains(both) && req.pidfd == req.parent_tid {
        return Err(fail(Rule::PidfdWithParentSettidSameSlot, both));
    }
    if late_signal && req.exit_signal > policy.arch.nsig() {
        // Both are EINVAL: no errno lookup for a rule known only here.
        return Err(Failure {
            rule,
            errno: Errno::EINVAL,
            flags: CloneFlags::empty(),
        });
    }
    Ok(())
}

/// `kernel_clone`'s flags from its start on: `CLONE_EMPTY_MNTNS` adds `CLONE_NEWNS`. The bit
/// reaches here only where `clone3_args_valid` knows it (7.1+; the legacy `clone` cannot carry
/// bit 37), so there is no version test: the bit is shifted onto `CLONE_NEWNS`'s.
const fn kernel_clone_flags(bits: u64) -> CloneFlags {
    const NEWNS: u64 = CloneFlags::NEWNS.bits();
    const TO_NEWNS: u32 = CloneFlags::EMPTY_MNTNS.bits().trailing_zeros() - NEWNS.trailing_zeros();
    fl(bits | (bits >> TO_NEWNS) & NEWNS)
}

/// `copy_process`'s flag rules, before it copies anything.
fn copy_process(req: &Request, f: CloneFlags, policy: &Policy) -> Result<(), Failure> {
    use CloneFlags as C;
    let v = policy.linux;
    let has = |x: CloneFlags| f.intersects(x);
    let pair = |a: CloneFlags, b: CloneFlags| f.contains(a | b);
    if pair(C::NEWNS, C::FS) {
        return Err(fail(Rule::NewnsWithFs, C::NEWNS | C::FS));
    }
    if pair(C::NEWUSER, C::FS) {
        return Err(fail(Rule::NewuserWithFs, C::NEWUSER | C::FS));
    }
    if has(C::THREAD) && !has(C::SIGHAND) {
        return Err(fail(Rule::ThreadWithoutSighand, C::THREAD));
    }
    if has(C::SIGHAND) && !has(C::VM) {
        return Err(fail(Rule::SighandWithoutVm, C::SIGHAND));
    }
    if has(C::PARENT) && policy.pid_ns_init {
        return Err(fail(Rule::ParentFromInit, C::PARENT));
    }
    if has(C::THREAD) {
        let ns = f & (C::NEWUSER | C::NEWPID);
        if !ns.is_empty() {
            return Err(fail(Rule::ThreadWithNewPidOrUser, C::THREAD | ns));
        }
        if policy.pid_ns_for_children_differs {
            return Err(fail(Rule::ThreadAcrossPidNs, C::THREAD));
        }
    }
    if has(C::PIDFD) {
        if has(C::DETACHED) {
            return Err(fail(Rule::PidfdWithDetached, C::PIDFD | C::DETACHED));
        }
        if has(C::THREAD) && !v.pidfd_thread() {
            return Err(fail(Rule::PidfdWithThread, C::PIDFD | C::THREAD));
        }
    }
    if v.has_autoreap() {
        copy_process_autoreap(req, policy)?;
    }
    Ok(())
}

/// `copy_process`'s rules for the 2026 `CLONE_AUTOREAP`, `CLONE_NNP` and
/// `CLONE_PIDFD_AUTOKILL`.
fn copy_process_autoreap(req: &Request, policy: &Policy) -> Result<(), Failure> {
    use CloneFlags as C;
    let f = fl(req.flags);
    let has = |x: CloneFlags| f.intersects(x);
    if has(C::AUTOREAP) {
        if has(C::THREAD) {
            return Err(fail(Rule::AutoreapWithThread, C::AUTOREAP | C::THREAD));
        }
        if has(C::PARENT) {
            return Err(fail(Rule::AutoreapWithParent, C::AUTOREAP | C::PARENT));
        }
        if req.exit_signal != 0 {
            return Err(fail(Rule::AutoreapWithExitSignal, C::AUTOREAP));
        }
    }
    if has(C::PARENT) && policy.autoreap_parent {
        return Err(fail(Rule::ParentFromAutoreap, C::PARENT));
    }
    if f.contains(C::NNP | C::THREAD) {
        return Err(fail(Rule::NnpWithThread, C::NNP | C::THREAD));
    }
    if has(C::PIDFD_AUTOKILL) {
        let ak = C::PIDFD_AUTOKILL;
        if !has(C::PIDFD) {
            return Err(fail(Rule::AutokillWithoutPidfd, ak));
        }
        if !has(C::AUTOREAP) {
            return Err(fail(Rule::AutokillWithoutAutoreap, ak));
        }
        if has(C::THREAD) {
            return Err(fail(Rule::AutokillWithThread, ak | C::THREAD));
        }
        if !has(C::NNP) && !policy.cap_sys_admin {
            return Err(fail(Rule::AutokillNeedsPrivilege, ak));
        }
    }
    Ok(())
}

/// `copy_creds` → `create_user_ns` for `CLONE_NEWUSER`.
fn copy_creds(req: &Request, policy: &Policy) -> Result<(), Failure> {
    if fl(req.flags).intersects(CloneFlags::NEWUSER) {
        if !policy.namespaces_configured.contains(CloneFlags::NEWUSER) {
            return Err(fail(Rule::NamespaceNotConfigured, CloneFlags::NEWUSER));
        }
        if !policy.user_ns_allowed {
            return Err(fail(Rule::NewuserNotPermitted, CloneFlags::NEWUSER));
        }
    }
    Ok(())
}

/// `copy_namespaces`: `CAP_SYS_ADMIN`, `CLONE_NEWIPC` with `CLONE_SYSVSEM`, then
/// `create_new_namespaces` in its order (mnt, uts, ipc, pid, cgroup, net, time).
fn copy_namespaces(f: CloneFlags, policy: &Policy) -> Result<(), Failure> {
    use CloneFlags as C;
    let ns = f & crate::flags::NAMESPACE_FLAGS;
    if ns.is_empty() {
        return Ok(());
    }
    // With CLONE_NEWUSER the check runs in the new user namespace, owned by the caller.
    if !f.intersects(C::NEWUSER) && !policy.cap_sys_admin {
        return Err(fail(Rule::NamespaceWithoutCapSysAdmin, ns));
    }
    if f.contains(C::NEWIPC | C::SYSVSEM) {
        return Err(fail(Rule::NewipcWithSysvsem, C::NEWIPC | C::SYSVSEM));
    }
    create_new_namespaces(ns, policy)
}

/// `create_new_namespaces` in its order (mnt, uts, ipc, pid, cgroup, net, time), for
/// `copy_namespaces` and `unshare_nsproxy_namespaces`: configuration, then `copy_pid_ns`.
pub(crate) fn create_new_namespaces(ns: CloneFlags, policy: &Policy) -> Result<(), Failure> {
    use CloneFlags as C;
    for one in [
        C::NEWNS,
        C::NEWUTS,
        C::NEWIPC,
        C::NEWPID,
        C::NEWCGROUP,
        C::NEWNET,
        C::NEWTIME,
    ] {
        if !ns.contains(one) {
            continue;
        }
        if !policy.namespaces_configured.contains(one) {
            return Err(fail(Rule::NamespaceNotConfigured, one));
        }
        if one == C::NEWPID {
            copy_pid_ns(policy)?;
        }
    }
    Ok(())
}

/// `copy_pid_ns` → `create_pid_namespace` for `CLONE_NEWPID`.
fn copy_pid_ns(policy: &Policy) -> Result<(), Failure> {
    if policy.pid_ns_for_children_differs {
        return Err(fail(Rule::NewpidAfterUnsharePid, CloneFlags::NEWPID));
    }
    if u64::from(policy.pid_ns_level) + 1 > MAX_PID_NS_LEVEL {
        return Err(fail(Rule::PidNsTooDeep, CloneFlags::NEWPID));
    }
    Ok(())
}

/// `copy_thread`: x86_64 checks the new FS base (`do_arch_prctl_64`), i386 the
/// `struct user_desc` (`set_new_tls` → `do_set_thread_area`).
fn copy_thread(req: &Request, mem: &dyn UserMemory, policy: &Policy) -> Result<(), Failure> {
    let settls = fl(req.flags).intersects(CloneFlags::SETTLS);
    if policy.arch == Arch::X86_64 && settls && req.tls >= policy.task_size_max {
        return Err(fail(Rule::TlsOutOfRange, CloneFlags::SETTLS));
    }
    // i386: the struct user_desc at tls.
    if policy.arch == Arch::I386 && settls {
        user_desc::check(req.tls, mem, policy).map_err(|rule| fail(rule, CloneFlags::SETTLS))?;
    }
    Ok(())
}

/// `alloc_pid` with `set_tid`: the size against the target level, then each entry from the
/// innermost namespace out.
fn alloc_pid(
    req: &Request,
    set_tid: &[i32; 32],
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Result<(), Failure> {
    let none = CloneFlags::empty();
    let n = req.set_tid_size;
    if n == 0 {
        return Ok(());
    }
    let f = fl(req.flags);
    let newpid = f.intersects(CloneFlags::NEWPID);
    let fresh = newpid || policy.pid_ns_for_children_differs;
    let target_level = u64::from(policy.pid_ns_level) + u64::from(fresh);
    if n > target_level + 1 {
        return Err(fail(Rule::SetTidSizeAboveNsLevel, none));
    }
    for (i, &tid) in set_tid.iter().enumerate().take(n as usize) {
        let is_fresh = fresh && i == 0;
        if tid < 1 || i64::from(tid) >= i64::from(policy.set_tid_pid_max(i, fresh)) {
            return Err(fail(Rule::SetTidOutOfRange, none));
        }
        let has_reaper = !is_fresh;
        if tid != 1 && !has_reaper {
            return Err(fail(Rule::SetTidNoReaper, none));
        }
        // A new pid namespace made together with a new user namespace is owned by it, and
        // the caller owns that user namespace.
        let owned_by_new_user_ns = is_fresh && f.intersects(CloneFlags::NEWUSER) && newpid;
        if !owned_by_new_user_ns && !policy.checkpoint_restore_capable() {
            return Err(fail(Rule::SetTidNotPermitted, none));
        }
        if (tid == 1 && has_reaper) || mem.set_tid_taken(i, tid) {
            return Err(fail(Rule::SetTidInUse, none));
        }
    }
    Ok(())
}

/// The pidfd `put_user` in `copy_process`.
fn pidfd_put_user(req: &Request, mem: &dyn UserMemory) -> Result<(), Failure> {
    if fl(req.flags).intersects(CloneFlags::PIDFD) && !mem.writable(req.pidfd, 4) {
        return Err(fail(Rule::PidfdWriteFault, CloneFlags::PIDFD));
    }
    Ok(())
}

/// `cgroup_can_fork` for `CLONE_INTO_CGROUP`: the caller's answer for the fd
/// ([`UserMemory::cgroup_can_fork`]).
fn cgroup_can_fork(req: &Request, mem: &dyn UserMemory, policy: &Policy) -> Result<(), Failure> {
    if fl(req.flags).intersects(CloneFlags::INTO_CGROUP) {
        if let Some(e) = mem.cgroup_can_fork(req.cgroup, policy) {
            return Err(Failure {
                rule: Rule::IntoCgroupRejected,
                errno: e,
                flags: CloneFlags::INTO_CGROUP,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Change, Reach};
    use crate::policy::LinuxVersion;

    const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);

    #[test]
    fn clone_args_bytes_in_either_order() {
        let a = CloneArgs {
            flags: 0x0102_0304_0506_0708,
            cgroup: 0x11,
            ..CloneArgs::default()
        };
        let be = a.to_bytes_with(true);
        let le = a.to_bytes_with(false);
        assert_eq!(be[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(le[..8], [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!((be[87], le[80]), (0x11, 0x11));
        // Arch::Mips64 names the big-endian order; mips64el code must pick its own.
        assert_eq!(a.to_bytes(Arch::Mips64), be);
        assert_eq!(a.to_bytes(Arch::X86_64), le);
    }

    /// [`SliceMemory`] reads the words in place: the same struct the bytes hold in that byte
    /// order, wherever the 88 bytes lie inside the slice (also unaligned), and a fault
    /// wherever one of them lies outside.
    #[test]
    fn slice_memory_reads_clone_args_in_place() {
        let a = CloneArgs {
            flags: 0x0102_0304_0506_0708,
            pidfd: 2,
            child_tid: 3,
            parent_tid: 4,
            exit_signal: 5,
            stack: 6,
            stack_size: 7,
            tls: 8,
            set_tid: 9,
            set_tid_size: 10,
            cgroup: 0x1100_0000_0000_0011,
        };
        for big_endian in [false, true] {
            let struct_bytes = a.to_bytes_with(big_endian);
            for offset in 0..4usize {
                let mut bytes = [0xffu8; 92];
                bytes[offset..offset + 88].copy_from_slice(&struct_bytes);
                let mem = SliceMemory {
                    base: 0x1000,
                    bytes: &bytes,
                };
                let at = 0x1000 + offset as u64;
                assert_eq!(mem.read_clone_args(at, big_endian), Ok(a));
                let mut raw = [0u8; 88];
                assert_eq!(mem.read(at, &mut raw), Ok(()));
                assert_eq!(raw, struct_bytes);
            }
            let mem = SliceMemory {
                base: 0x1000,
                bytes: &struct_bytes,
            };
            for at in [0xfff, 0x1001, 0x1058, u64::MAX - 8, 0] {
                assert_eq!(
                    mem.read_clone_args(at, big_endian),
                    Err(Fault),
                    "at {at:#x}"
                );
            }
        }
    }

    #[test]
    fn thread_alone_fix_adds_sighand_and_vm() {
        let e = validate_clone_word(CloneFlags::THREAD.bits(), &P).unwrap_err();
        assert_eq!(e.rule, Rule::ThreadWithoutSighand);
        assert_eq!(
            e.fix,
            Change::AddFlags(CloneFlags::SIGHAND | CloneFlags::VM)
        );
        assert_eq!(e.fix.reach(), Reach::Arguments);
    }

    #[test]
    fn pthread_flags_pass() {
        let word = crate::flags::THREAD_FLAGS.bits();
        let k = validate_clone(
            &LegacyCloneArgs {
                word,
                parent_tid: 0x1000,
                child_tid: 0x1000,
                tls: 0x2000,
                ..Default::default()
            },
            &P,
        )
        .unwrap();
        assert_eq!(k.flags, crate::flags::THREAD_FLAGS);
        assert_eq!(k.exit_signal, 0);
    }
}
