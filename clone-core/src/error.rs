//! Why Linux refuses a `clone`/`clone3`: the errno, the kernel rule, the flags involved and
//! the smallest fix ([`Fix`], a short list of [`Change`]s).
//!
//! [`Rule`] has one variant per check the kernel makes, in the order the kernel makes them
//! (`kernel/fork.c`, `kernel/nsproxy.c`, `kernel/pid.c`, `kernel/cgroup/cgroup.c`), each
//! naming its function. [`CloneError`] is what [`crate::validate`]'s `validate_*` functions
//! return; [`Refusal`] is the same answer without the fix, from the kernel face's hot path.

use core::fmt;

use crate::Errno;
use crate::flags::CloneFlags;
use crate::policy::Policy;
use crate::syscall::CloneCall;
use crate::validate::UserMemory;

/// One kernel check that can refuse a `clone`/`clone3`, in Linux's check order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `sys_clone3`: the arch defines `__ARCH_BROKEN_SYS_CLONE3` or has no syscall 435, or the
    /// kernel predates 5.3. **ENOSYS**.
    Clone3Unavailable,
    /// `copy_clone_args_from_user`: `size > PAGE_SIZE`. **E2BIG**.
    Clone3SizeAbovePage,
    /// `copy_clone_args_from_user`: `size < CLONE_ARGS_SIZE_VER0` (64). **EINVAL**.
    Clone3SizeBelowVer0,
    /// `copy_struct_from_user` (`check_zeroed_user`): bytes past the kernel's
    /// `sizeof(struct clone_args)` are not all zero. **E2BIG**.
    Clone3NonZeroTail,
    /// `copy_struct_from_user`: the `clone_args` bytes (or their tail) are unreadable.
    /// **EFAULT**.
    ArgsFault,
    /// `copy_clone_args_from_user`: `set_tid_size > MAX_PID_NS_LEVEL` (32). **EINVAL**.
    SetTidSizeAboveMax,
    /// `copy_clone_args_from_user`: `set_tid == 0` with `set_tid_size > 0`. **EINVAL**.
    SetTidNullWithSize,
    /// `copy_clone_args_from_user`: `set_tid != 0` with `set_tid_size == 0`. **EINVAL**.
    SetTidSizeZeroWithPointer,
    /// `copy_clone_args_from_user`: `exit_signal` has bits above `CSIGNAL` or is above `_NSIG`
    /// (`valid_signal`; 64, but 128 on mips: [`crate::Arch::nsig`]). **EINVAL** on every
    /// version; since 7.1 the `_NSIG` half is `kernel_clone`'s (upstream 09e7827e7857), after
    /// the `set_tid` copy, `clone3_args_valid` and the pidfd same-slot check, and keeps this
    /// rule for `clone3` (the legacy byte gets [`Rule::InvalidExitSignal`] there).
    Clone3BadExitSignal,
    /// `copy_clone_args_from_user`: `CLONE_INTO_CGROUP` with `cgroup > INT_MAX`. **EINVAL**.
    IntoCgroupBadFd,
    /// `copy_clone_args_from_user`: `CLONE_INTO_CGROUP` with `size < CLONE_ARGS_SIZE_VER2`
    /// (88). **EINVAL**.
    IntoCgroupStructTooSmall,
    /// `copy_clone_args_from_user`: the `set_tid` array is unreadable. **EFAULT**.
    SetTidFault,
    /// `clone3_args_valid`: a flag outside `CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND |
    /// CLONE_INTO_CGROUP` (plus the 2026 AUTOREAP family). **EINVAL**.
    Clone3UnknownFlags,
    /// `clone3_args_valid`: `CLONE_DETACHED` or a `CSIGNAL` bit in `flags` (`CLONE_NEWTIME`
    /// excepted since 6.3; the exit signal belongs in `exit_signal`). **EINVAL**.
    Clone3DetachedOrSignalBits,
    /// `clone3_args_valid`: `CLONE_SIGHAND` with `CLONE_CLEAR_SIGHAND`. **EINVAL**.
    SighandWithClearSighand,
    /// `clone3_args_valid`: `CLONE_THREAD` or `CLONE_PARENT` with a non-zero `exit_signal`.
    /// **EINVAL**.
    ThreadOrParentWithExitSignal,
    /// `clone3_stack_valid`: `stack` set but `stack_size == 0`. **EINVAL**.
    Clone3StackWithoutSize,
    /// `clone3_stack_valid`: `stack_size` set but `stack == 0`. **EINVAL**.
    Clone3SizeWithoutStack,
    /// `clone3_stack_valid`: `!access_ok(stack, stack_size)`. **EINVAL**.
    StackNotAccessible,
    /// `kernel_clone`: `CLONE_PIDFD | CLONE_PARENT_SETTID` with `pidfd == parent_tid` (always
    /// true for legacy `clone`, which uses one pointer for both). **EINVAL**.
    PidfdWithParentSettidSameSlot,
    /// `kernel_clone` (7.1+): `!valid_signal(exit_signal)` for the legacy `clone` word, an
    /// exit-signal byte above `_NSIG` (64, 128 on mips), which older kernels accept. The same
    /// check refuses `clone3` as [`Rule::Clone3BadExitSignal`]. **EINVAL**.
    InvalidExitSignal,
    /// `copy_process`: `CLONE_NEWNS | CLONE_FS` (`CLONE_EMPTY_MNTNS` implies `CLONE_NEWNS`).
    /// **EINVAL**.
    NewnsWithFs,
    /// `copy_process`: `CLONE_NEWUSER | CLONE_FS`. **EINVAL**.
    NewuserWithFs,
    /// `copy_process`: `CLONE_THREAD` without `CLONE_SIGHAND`. **EINVAL**.
    ThreadWithoutSighand,
    /// `copy_process`: `CLONE_SIGHAND` without `CLONE_VM`. **EINVAL**.
    SighandWithoutVm,
    /// `copy_process`: `CLONE_PARENT` from a `SIGNAL_UNKILLABLE` caller (a pid namespace's
    /// init). **EINVAL**.
    ParentFromInit,
    /// `copy_process`: `CLONE_THREAD` with `CLONE_NEWUSER` or `CLONE_NEWPID`. **EINVAL**.
    ThreadWithNewPidOrUser,
    /// `copy_process`: `CLONE_THREAD` after `unshare(CLONE_NEWPID)` (children's pid namespace
    /// differs from the active one). **EINVAL**.
    ThreadAcrossPidNs,
    /// `copy_process`: `CLONE_PIDFD | CLONE_DETACHED`. **EINVAL**.
    PidfdWithDetached,
    /// `copy_process` before 6.9: `CLONE_PIDFD | CLONE_THREAD`. **EINVAL**.
    PidfdWithThread,
    /// `copy_process` (2026): `CLONE_AUTOREAP` with `CLONE_THREAD`. **EINVAL**.
    AutoreapWithThread,
    /// `copy_process` (2026): `CLONE_AUTOREAP` with `CLONE_PARENT`. **EINVAL**.
    AutoreapWithParent,
    /// `copy_process` (2026): `CLONE_AUTOREAP` with a non-zero exit signal. **EINVAL**.
    AutoreapWithExitSignal,
    /// `copy_process` (2026): `CLONE_PARENT` from a caller with `signal->autoreap`. **EINVAL**.
    ParentFromAutoreap,
    /// `copy_process` (2026): `CLONE_NNP` with `CLONE_THREAD`. **EINVAL**.
    NnpWithThread,
    /// `copy_process` (2026): `CLONE_PIDFD_AUTOKILL` without `CLONE_PIDFD`. **EINVAL**.
    AutokillWithoutPidfd,
    /// `copy_process` (2026): `CLONE_PIDFD_AUTOKILL` without `CLONE_AUTOREAP`. **EINVAL**.
    AutokillWithoutAutoreap,
    /// `copy_process` (2026): `CLONE_PIDFD_AUTOKILL` with `CLONE_THREAD`. **EINVAL**.
    AutokillWithThread,
    /// `copy_process` (2026): `CLONE_PIDFD_AUTOKILL` without `CLONE_NNP` and without
    /// `CAP_SYS_ADMIN`. **EPERM**.
    AutokillNeedsPrivilege,
    /// `copy_creds` → `create_user_ns`: the caller may not create a user namespace (chroot,
    /// unmapped uid/gid, LSM). **EPERM**.
    NewuserNotPermitted,
    /// `copy_namespaces`: a `CLONE_NEW*` other than `CLONE_NEWUSER` without `CAP_SYS_ADMIN` in
    /// the child's user namespace. **EPERM**.
    NamespaceWithoutCapSysAdmin,
    /// `copy_namespaces`: `CLONE_NEWIPC | CLONE_SYSVSEM`. **EINVAL**.
    NewipcWithSysvsem,
    /// `create_new_namespaces` / `create_user_ns`: a namespace type the kernel was built
    /// without (`CONFIG_*_NS`). **EINVAL**.
    NamespaceNotConfigured,
    /// `copy_pid_ns`: `CLONE_NEWPID` after `unshare(CLONE_NEWPID)`. **EINVAL**.
    NewpidAfterUnsharePid,
    /// `create_pid_namespace`: the new pid namespace would be deeper than
    /// `MAX_PID_NS_LEVEL` (32). **ENOSPC**.
    PidNsTooDeep,
    /// `copy_thread` (x86_64) → `do_arch_prctl_64(ARCH_SET_FS)`: `CLONE_SETTLS` with
    /// `tls >= TASK_SIZE_MAX`. **EPERM**.
    TlsOutOfRange,
    /// `alloc_pid`: `set_tid_size` above the target pid namespace's level + 1. **EINVAL**.
    SetTidSizeAboveNsLevel,
    /// `alloc_pid`: a `set_tid` entry `< 1` or `>= pid_max`. **EINVAL**.
    SetTidOutOfRange,
    /// `alloc_pid`: a `set_tid` entry other than 1 for a pid namespace with no init yet.
    /// **EINVAL**.
    SetTidNoReaper,
    /// `alloc_pid`: no `CAP_CHECKPOINT_RESTORE`/`CAP_SYS_ADMIN` over the pid namespace a
    /// `set_tid` entry is for. **EPERM**.
    SetTidNotPermitted,
    /// `alloc_pid`: `set_tid` asks for pid 1 in a namespace whose init exists (`idr_alloc`
    /// ENOSPC mapped to **EEXIST**). Other in-use pids are runtime state, beyond the validator.
    SetTidInUse,
    /// `copy_process`: `put_user(pidfd, args->pidfd)` faulted. **EFAULT**.
    PidfdWriteFault,
    /// `cgroup_can_fork` refused `CLONE_INTO_CGROUP` (the errno comes from
    /// [`crate::Policy::into_cgroup_error`]; usually **EBADF**).
    IntoCgroupRejected,
    // The rest of the CLONE_* family: fork, vfork (issue 9).
    /// `fork` is not in the arch's syscall table (arm64, riscv64, loongarch64, ia64).
    /// **ENOSYS**.
    ForkUnavailable,
    /// `vfork` is not in the arch's syscall table (as for `fork`, plus mips). **ENOSYS**.
    VforkUnavailable,
    // i386 CLONE_SETTLS `struct user_desc` (copy_thread), unshare and setns (issue 9).
    /// `copy_thread` (i386 `CLONE_SETTLS`) → `do_set_thread_area`: the `struct user_desc` at `tls` is
    /// unreadable. **EFAULT**.
    UserDescFault,
    /// `do_set_thread_area` → `tls_desc_okay`: the `struct user_desc` is neither empty
    /// (`LDT_empty`/`LDT_zero`) nor a present 32-bit data segment. **EINVAL**.
    UserDescInvalid,
    /// `do_set_thread_area`: `entry_number` outside `GDT_ENTRY_TLS_MIN..=GDT_ENTRY_TLS_MAX` (12..=14 on
    /// an x86_64 kernel, 6..=8 on a native i386 one; clone cannot allocate, so -1 fails too).
    /// **EINVAL**.
    UserDescEntryOutOfRange,
    /// `check_unshare_flags`: a flag `unshare` does not take (anything but `THREAD FS NEWNS SIGHAND VM
    /// FILES SYSVSEM` and the `CLONE_NEW*` flags). **EINVAL**.
    UnshareUnknownFlags,
    /// `check_unshare_flags`: `CLONE_THREAD`, `CLONE_SIGHAND` or `CLONE_VM` (also implied by
    /// `CLONE_NEWUSER`) while the thread group has other threads. **EINVAL**.
    UnshareThreadGroupShared,
    /// `check_unshare_flags`: `CLONE_SIGHAND` or `CLONE_VM` while another task shares the signal
    /// handlers. **EINVAL**.
    UnshareSighandShared,
    /// `check_unshare_flags`: `CLONE_VM` while another task shares the address space. **EINVAL**.
    UnshareVmShared,
    /// `create_user_ns`: the caller's user namespace is deeper than 32. **ENOSPC**.
    UserNsTooDeep,
    /// `unshare_nsproxy_namespaces`: a `CLONE_NEW*` other than `CLONE_NEWUSER` without
    /// `CAP_SYS_ADMIN` in the caller's (or the new) user namespace. **EPERM**.
    UnshareWithoutCapSysAdmin,
    /// `setns`: `fd` is not an open file. **EBADF**.
    SetnsBadFd,
    /// `setns`: a namespace fd with a non-zero `nstype` other than the fd's own type. **EINVAL**.
    SetnsNstypeMismatch,
    /// `setns`: `fd` is neither a namespace file nor a pidfd. **EINVAL**.
    SetnsNotNamespaceFd,
    /// `check_setns_flags` (pidfd): `nstype` is 0 or has bits other than the `CLONE_NEW*` flags.
    /// **EINVAL**.
    SetnsBadNstype,
    /// `check_setns_flags` (pidfd): a namespace type the kernel was built without. **EINVAL**.
    SetnsNamespaceNotConfigured,
    /// `validate_nsset`: `ptrace_may_access(target, PTRACE_MODE_READ_REALCREDS)` fails. **EPERM**.
    SetnsTargetNotPtraceable,
    /// `userns_install`: the target user namespace is the caller's own (no regaining capabilities
    /// by re-entering it). **EINVAL**.
    SetnsOwnUserNs,
    /// `mntns_install`: no `CAP_SYS_ADMIN` over the mount namespace or no `CAP_SYS_CHROOT` /
    /// `CAP_SYS_ADMIN` in the caller's user namespace. **EPERM**.
    SetnsMntWithoutCap,
    /// `mntns_install`: the caller's `fs_struct` is shared (threads, `CLONE_FS`) and
    /// `CLONE_NEWNS` is the only type being joined. **EINVAL**.
    SetnsMntSharedFs,
    /// `utsns_install`, `ipcns_install`, `pidns_install`, `cgroupns_install`, `netns_install`,
    /// `timens_install`: no `CAP_SYS_ADMIN` over the namespace and in the caller's user
    /// namespace. **EPERM**.
    SetnsWithoutCapSysAdmin,
    /// `timens_install`: the caller's address space is shared (threads), checked before the
    /// capability. **EUSERS**.
    SetnsTimeMultithreaded,
}

impl Rule {
    /// Every rule, in Linux's check order (`clone3` entry first).
    pub const ALL: [Rule; 75] = [
        Self::Clone3Unavailable,
        Self::Clone3SizeAbovePage,
        Self::Clone3SizeBelowVer0,
        Self::Clone3NonZeroTail,
        Self::ArgsFault,
        Self::SetTidSizeAboveMax,
        Self::SetTidNullWithSize,
        Self::SetTidSizeZeroWithPointer,
        Self::Clone3BadExitSignal,
        Self::IntoCgroupBadFd,
        Self::IntoCgroupStructTooSmall,
        Self::SetTidFault,
        Self::Clone3UnknownFlags,
        Self::Clone3DetachedOrSignalBits,
        Self::SighandWithClearSighand,
        Self::ThreadOrParentWithExitSignal,
        Self::Clone3StackWithoutSize,
        Self::Clone3SizeWithoutStack,
        Self::StackNotAccessible,
        Self::PidfdWithParentSettidSameSlot,
        Self::InvalidExitSignal,
        Self::NewnsWithFs,
        Self::NewuserWithFs,
        Self::ThreadWithoutSighand,
        Self::SighandWithoutVm,
        Self::ParentFromInit,
        Self::ThreadWithNewPidOrUser,
        Self::ThreadAcrossPidNs,
        Self::PidfdWithDetached,
        Self::PidfdWithThread,
        Self::AutoreapWithThread,
        Self::AutoreapWithParent,
        Self::AutoreapWithExitSignal,
        Self::ParentFromAutoreap,
        Self::NnpWithThread,
        Self::AutokillWithoutPidfd,
        Self::AutokillWithoutAutoreap,
        Self::AutokillWithThread,
        Self::AutokillNeedsPrivilege,
        Self::NewuserNotPermitted,
        Self::NamespaceWithoutCapSysAdmin,
        Self::NewipcWithSysvsem,
        Self::NamespaceNotConfigured,
        Self::NewpidAfterUnsharePid,
        Self::PidNsTooDeep,
        Self::TlsOutOfRange,
        Self::SetTidSizeAboveNsLevel,
        Self::SetTidOutOfRange,
        Self::SetTidNoReaper,
        Self::SetTidNotPermitted,
        Self::SetTidInUse,
        Self::PidfdWriteFault,
        Self::IntoCgroupRejected,
        Self::ForkUnavailable,
        Self::VforkUnavailable,
        Self::UserDescFault,
        Self::UserDescInvalid,
        Self::UserDescEntryOutOfRange,
        Self::UnshareUnknownFlags,
        Self::UnshareThreadGroupShared,
        Self::UnshareSighandShared,
        Self::UnshareVmShared,
        Self::UserNsTooDeep,
        Self::UnshareWithoutCapSysAdmin,
        Self::SetnsBadFd,
        Self::SetnsNstypeMismatch,
        Self::SetnsNotNamespaceFd,
        Self::SetnsBadNstype,
        Self::SetnsNamespaceNotConfigured,
        Self::SetnsTargetNotPtraceable,
        Self::SetnsOwnUserNs,
        Self::SetnsMntWithoutCap,
        Self::SetnsMntSharedFs,
        Self::SetnsWithoutCapSysAdmin,
        Self::SetnsTimeMultithreaded,
    ];

    /// The errno this rule gives (for [`Rule::IntoCgroupRejected`] the usual one, EBADF; the
    /// actual value is in [`CloneError::errno`]).
    #[must_use]
    pub const fn errno(self) -> Errno {
        use Errno::*;
        match self {
            Self::Clone3Unavailable | Self::ForkUnavailable | Self::VforkUnavailable => ENOSYS,
            Self::Clone3SizeAbovePage | Self::Clone3NonZeroTail => E2BIG,
            Self::ArgsFault | Self::SetTidFault | Self::PidfdWriteFault => EFAULT,
            Self::AutokillNeedsPrivilege
            | Self::NewuserNotPermitted
            | Self::NamespaceWithoutCapSysAdmin
            | Self::TlsOutOfRange
            | Self::SetTidNotPermitted => EPERM,
            Self::PidNsTooDeep => ENOSPC,
            Self::SetTidInUse => EEXIST,
            Self::IntoCgroupRejected => EBADF,
            Self::UserDescFault => EFAULT,
            Self::UserNsTooDeep => ENOSPC,
            Self::UnshareWithoutCapSysAdmin
            | Self::SetnsTargetNotPtraceable
            | Self::SetnsMntWithoutCap
            | Self::SetnsWithoutCapSysAdmin => EPERM,
            Self::SetnsBadFd => EBADF,
            Self::SetnsTimeMultithreaded => EUSERS,
            _ => EINVAL,
        }
    }

    /// The kernel function that makes the check.
    #[must_use]
    pub const fn kernel_function(self) -> &'static str {
        match self {
            Self::Clone3Unavailable => "sys_clone3",
            Self::Clone3SizeAbovePage
            | Self::Clone3SizeBelowVer0
            | Self::SetTidSizeAboveMax
            | Self::SetTidNullWithSize
            | Self::SetTidSizeZeroWithPointer
            | Self::Clone3BadExitSignal
            | Self::IntoCgroupBadFd
            | Self::IntoCgroupStructTooSmall
            | Self::SetTidFault => "copy_clone_args_from_user",
            Self::Clone3NonZeroTail | Self::ArgsFault => "copy_struct_from_user",
            Self::Clone3UnknownFlags
            | Self::Clone3DetachedOrSignalBits
            | Self::SighandWithClearSighand
            | Self::ThreadOrParentWithExitSignal => "clone3_args_valid",
            Self::Clone3StackWithoutSize
            | Self::Clone3SizeWithoutStack
            | Self::StackNotAccessible => "clone3_stack_valid",
            Self::PidfdWithParentSettidSameSlot | Self::InvalidExitSignal => "kernel_clone",
            Self::NewuserNotPermitted => "create_user_ns",
            Self::NamespaceWithoutCapSysAdmin | Self::NewipcWithSysvsem => "copy_namespaces",
            Self::NamespaceNotConfigured => "create_new_namespaces",
            Self::NewpidAfterUnsharePid => "copy_pid_ns",
            Self::PidNsTooDeep => "create_pid_namespace",
            Self::TlsOutOfRange => "copy_thread",
            Self::SetTidSizeAboveNsLevel
            | Self::SetTidOutOfRange
            | Self::SetTidNoReaper
            | Self::SetTidNotPermitted
            | Self::SetTidInUse => "alloc_pid",
            Self::IntoCgroupRejected => "cgroup_can_fork",
            Self::ForkUnavailable | Self::VforkUnavailable => "sys_ni_syscall",
            Self::UserDescFault | Self::UserDescEntryOutOfRange => "do_set_thread_area",
            Self::UserDescInvalid => "tls_desc_okay",
            Self::UnshareUnknownFlags
            | Self::UnshareThreadGroupShared
            | Self::UnshareSighandShared
            | Self::UnshareVmShared => "check_unshare_flags",
            Self::UserNsTooDeep => "create_user_ns",
            Self::UnshareWithoutCapSysAdmin => "unshare_nsproxy_namespaces",
            Self::SetnsBadFd | Self::SetnsNstypeMismatch | Self::SetnsNotNamespaceFd => "setns",
            Self::SetnsBadNstype | Self::SetnsNamespaceNotConfigured => "check_setns_flags",
            Self::SetnsTargetNotPtraceable => "validate_nsset",
            Self::SetnsOwnUserNs => "userns_install",
            Self::SetnsMntWithoutCap | Self::SetnsMntSharedFs => "mntns_install",
            Self::SetnsWithoutCapSysAdmin => "ns install",
            Self::SetnsTimeMultithreaded => "timens_install",
            _ => "copy_process",
        }
    }

    /// The variant name (`"ThreadWithoutSighand"`), used by machine-readable output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Clone3Unavailable => "Clone3Unavailable",
            Self::Clone3SizeAbovePage => "Clone3SizeAbovePage",
            Self::Clone3SizeBelowVer0 => "Clone3SizeBelowVer0",
            Self::Clone3NonZeroTail => "Clone3NonZeroTail",
            Self::ArgsFault => "ArgsFault",
            Self::SetTidSizeAboveMax => "SetTidSizeAboveMax",
            Self::SetTidNullWithSize => "SetTidNullWithSize",
            Self::SetTidSizeZeroWithPointer => "SetTidSizeZeroWithPointer",
            Self::Clone3BadExitSignal => "Clone3BadExitSignal",
            Self::IntoCgroupBadFd => "IntoCgroupBadFd",
            Self::IntoCgroupStructTooSmall => "IntoCgroupStructTooSmall",
            Self::SetTidFault => "SetTidFault",
            Self::Clone3UnknownFlags => "Clone3UnknownFlags",
            Self::Clone3DetachedOrSignalBits => "Clone3DetachedOrSignalBits",
            Self::SighandWithClearSighand => "SighandWithClearSighand",
            Self::ThreadOrParentWithExitSignal => "ThreadOrParentWithExitSignal",
            Self::Clone3StackWithoutSize => "Clone3StackWithoutSize",
            Self::Clone3SizeWithoutStack => "Clone3SizeWithoutStack",
            Self::StackNotAccessible => "StackNotAccessible",
            Self::PidfdWithParentSettidSameSlot => "PidfdWithParentSettidSameSlot",
            Self::InvalidExitSignal => "InvalidExitSignal",
            Self::NewnsWithFs => "NewnsWithFs",
            Self::NewuserWithFs => "NewuserWithFs",
            Self::ThreadWithoutSighand => "ThreadWithoutSighand",
            Self::SighandWithoutVm => "SighandWithoutVm",
            Self::ParentFromInit => "ParentFromInit",
            Self::ThreadWithNewPidOrUser => "ThreadWithNewPidOrUser",
            Self::ThreadAcrossPidNs => "ThreadAcrossPidNs",
            Self::PidfdWithDetached => "PidfdWithDetached",
            Self::PidfdWithThread => "PidfdWithThread",
            Self::AutoreapWithThread => "AutoreapWithThread",
            Self::AutoreapWithParent => "AutoreapWithParent",
            Self::AutoreapWithExitSignal => "AutoreapWithExitSignal",
            Self::ParentFromAutoreap => "ParentFromAutoreap",
            Self::NnpWithThread => "NnpWithThread",
            Self::AutokillWithoutPidfd => "AutokillWithoutPidfd",
            Self::AutokillWithoutAutoreap => "AutokillWithoutAutoreap",
            Self::AutokillWithThread => "AutokillWithThread",
            Self::AutokillNeedsPrivilege => "AutokillNeedsPrivilege",
            Self::NewuserNotPermitted => "NewuserNotPermitted",
            Self::NamespaceWithoutCapSysAdmin => "NamespaceWithoutCapSysAdmin",
            Self::NewipcWithSysvsem => "NewipcWithSysvsem",
            Self::NamespaceNotConfigured => "NamespaceNotConfigured",
            Self::NewpidAfterUnsharePid => "NewpidAfterUnsharePid",
            Self::PidNsTooDeep => "PidNsTooDeep",
            Self::TlsOutOfRange => "TlsOutOfRange",
            Self::SetTidSizeAboveNsLevel => "SetTidSizeAboveNsLevel",
            Self::SetTidOutOfRange => "SetTidOutOfRange",
            Self::SetTidNoReaper => "SetTidNoReaper",
            Self::SetTidNotPermitted => "SetTidNotPermitted",
            Self::SetTidInUse => "SetTidInUse",
            Self::PidfdWriteFault => "PidfdWriteFault",
            Self::IntoCgroupRejected => "IntoCgroupRejected",
            Self::ForkUnavailable => "ForkUnavailable",
            Self::VforkUnavailable => "VforkUnavailable",
            Self::UserDescFault => "UserDescFault",
            Self::UserDescInvalid => "UserDescInvalid",
            Self::UserDescEntryOutOfRange => "UserDescEntryOutOfRange",
            Self::UnshareUnknownFlags => "UnshareUnknownFlags",
            Self::UnshareThreadGroupShared => "UnshareThreadGroupShared",
            Self::UnshareSighandShared => "UnshareSighandShared",
            Self::UnshareVmShared => "UnshareVmShared",
            Self::UserNsTooDeep => "UserNsTooDeep",
            Self::UnshareWithoutCapSysAdmin => "UnshareWithoutCapSysAdmin",
            Self::SetnsBadFd => "SetnsBadFd",
            Self::SetnsNstypeMismatch => "SetnsNstypeMismatch",
            Self::SetnsNotNamespaceFd => "SetnsNotNamespaceFd",
            Self::SetnsBadNstype => "SetnsBadNstype",
            Self::SetnsNamespaceNotConfigured => "SetnsNamespaceNotConfigured",
            Self::SetnsTargetNotPtraceable => "SetnsTargetNotPtraceable",
            Self::SetnsOwnUserNs => "SetnsOwnUserNs",
            Self::SetnsMntWithoutCap => "SetnsMntWithoutCap",
            Self::SetnsMntSharedFs => "SetnsMntSharedFs",
            Self::SetnsWithoutCapSysAdmin => "SetnsWithoutCapSysAdmin",
            Self::SetnsTimeMultithreaded => "SetnsTimeMultithreaded",
        }
    }

    /// One sentence saying what the rule requires.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Clone3Unavailable => "clone3 does not exist on this arch/kernel",
            Self::Clone3SizeAbovePage => "clone3 size must not exceed the page size",
            Self::Clone3SizeBelowVer0 => "clone3 size must be at least 64 (CLONE_ARGS_SIZE_VER0)",
            Self::Clone3NonZeroTail => {
                "clone_args bytes beyond the kernel's struct size must be zero"
            }
            Self::ArgsFault => "the clone_args memory must be readable",
            Self::SetTidSizeAboveMax => "set_tid_size must not exceed 32 (MAX_PID_NS_LEVEL)",
            Self::SetTidNullWithSize => "set_tid_size needs a set_tid array",
            Self::SetTidSizeZeroWithPointer => "a set_tid array needs a non-zero set_tid_size",
            Self::Clone3BadExitSignal => {
                "exit_signal must be a valid signal (0..=64; 0..=128 on mips)"
            }
            Self::IntoCgroupBadFd => "CLONE_INTO_CGROUP needs a cgroup fd <= INT_MAX",
            Self::IntoCgroupStructTooSmall => {
                "CLONE_INTO_CGROUP needs size >= 88 (CLONE_ARGS_SIZE_VER2)"
            }
            Self::SetTidFault => "the set_tid array must be readable",
            Self::Clone3UnknownFlags => "clone3 flags must all be known to this kernel",
            Self::Clone3DetachedOrSignalBits => {
                "clone3 flags must not contain CLONE_DETACHED or an exit signal"
            }
            Self::SighandWithClearSighand => {
                "CLONE_SIGHAND and CLONE_CLEAR_SIGHAND are mutually exclusive"
            }
            Self::ThreadOrParentWithExitSignal => {
                "CLONE_THREAD and CLONE_PARENT require exit_signal 0 in clone3"
            }
            Self::Clone3StackWithoutSize => "a clone3 stack needs a stack_size",
            Self::Clone3SizeWithoutStack => "a clone3 stack_size needs a stack",
            Self::StackNotAccessible => "the clone3 stack must lie in user address space",
            Self::PidfdWithParentSettidSameSlot => {
                "CLONE_PIDFD and CLONE_PARENT_SETTID cannot share one pointer"
            }
            Self::InvalidExitSignal => {
                "the exit signal must be a valid signal (0..=64; 0..=128 on mips)"
            }
            Self::NewnsWithFs => "CLONE_NEWNS cannot be combined with CLONE_FS",
            Self::NewuserWithFs => "CLONE_NEWUSER cannot be combined with CLONE_FS",
            Self::ThreadWithoutSighand => "CLONE_THREAD requires CLONE_SIGHAND",
            Self::SighandWithoutVm => "CLONE_SIGHAND requires CLONE_VM",
            Self::ParentFromInit => "a pid namespace init cannot use CLONE_PARENT",
            Self::ThreadWithNewPidOrUser => {
                "CLONE_THREAD cannot be combined with CLONE_NEWPID or CLONE_NEWUSER"
            }
            Self::ThreadAcrossPidNs => "CLONE_THREAD is refused after unshare(CLONE_NEWPID)",
            Self::PidfdWithDetached => "CLONE_PIDFD cannot be combined with CLONE_DETACHED",
            Self::PidfdWithThread => "CLONE_PIDFD cannot be combined with CLONE_THREAD before 6.9",
            Self::AutoreapWithThread => "CLONE_AUTOREAP cannot be combined with CLONE_THREAD",
            Self::AutoreapWithParent => "CLONE_AUTOREAP cannot be combined with CLONE_PARENT",
            Self::AutoreapWithExitSignal => "CLONE_AUTOREAP requires exit_signal 0",
            Self::ParentFromAutoreap => "an autoreaped process cannot use CLONE_PARENT",
            Self::NnpWithThread => "CLONE_NNP cannot be combined with CLONE_THREAD",
            Self::AutokillWithoutPidfd => "CLONE_PIDFD_AUTOKILL requires CLONE_PIDFD",
            Self::AutokillWithoutAutoreap => "CLONE_PIDFD_AUTOKILL requires CLONE_AUTOREAP",
            Self::AutokillWithThread => "CLONE_PIDFD_AUTOKILL cannot be combined with CLONE_THREAD",
            Self::AutokillNeedsPrivilege => "CLONE_PIDFD_AUTOKILL needs CLONE_NNP or CAP_SYS_ADMIN",
            Self::NewuserNotPermitted => "this caller may not create a user namespace",
            Self::NamespaceWithoutCapSysAdmin => {
                "new namespaces need CAP_SYS_ADMIN (or CLONE_NEWUSER)"
            }
            Self::NewipcWithSysvsem => "CLONE_NEWIPC cannot be combined with CLONE_SYSVSEM",
            Self::NamespaceNotConfigured => "the kernel was built without this namespace type",
            Self::NewpidAfterUnsharePid => "CLONE_NEWPID is refused after unshare(CLONE_NEWPID)",
            Self::PidNsTooDeep => "pid namespaces nest at most 32 levels",
            Self::TlsOutOfRange => "the CLONE_SETTLS value must be a user address",
            Self::SetTidSizeAboveNsLevel => "set_tid_size must not exceed the pid namespace depth",
            Self::SetTidOutOfRange => "set_tid entries must be in 1..pid_max",
            Self::SetTidNoReaper => "a pid namespace without init only accepts set_tid 1",
            Self::SetTidNotPermitted => "set_tid needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN",
            Self::SetTidInUse => "the requested pid is already in use",
            Self::PidfdWriteFault => "the pidfd slot must be writable",
            Self::IntoCgroupRejected => "the target cgroup refused the child",
            Self::ForkUnavailable => "fork does not exist on this arch (use clone with SIGCHLD)",
            Self::VforkUnavailable => {
                "vfork does not exist on this arch (use clone with CLONE_VM|CLONE_VFORK|SIGCHLD)"
            }
            Self::UserDescFault => "the CLONE_SETTLS struct user_desc must be readable",
            Self::UserDescInvalid => {
                "the CLONE_SETTLS user_desc must be empty or a present 32-bit data segment"
            }
            Self::UserDescEntryOutOfRange => {
                "the CLONE_SETTLS user_desc entry_number must name a TLS slot"
            }
            Self::UnshareUnknownFlags => {
                "unshare takes only THREAD, FS, NEWNS, SIGHAND, VM, FILES, SYSVSEM and CLONE_NEW* flags"
            }
            Self::UnshareThreadGroupShared => {
                "unsharing THREAD, SIGHAND, VM or NEWUSER needs a single-threaded caller"
            }
            Self::UnshareSighandShared => {
                "unsharing SIGHAND or VM needs signal handlers nobody else shares"
            }
            Self::UnshareVmShared => "unsharing VM needs an address space nobody else shares",
            Self::UserNsTooDeep => "user namespaces nest at most 33 levels",
            Self::UnshareWithoutCapSysAdmin => {
                "new namespaces need CAP_SYS_ADMIN (or CLONE_NEWUSER)"
            }
            Self::SetnsBadFd => "setns needs an open file descriptor",
            Self::SetnsNstypeMismatch => {
                "for a namespace fd, nstype must be 0 or that namespace's type"
            }
            Self::SetnsNotNamespaceFd => "setns needs a namespace fd or a pidfd",
            Self::SetnsBadNstype => {
                "for a pidfd, nstype must be a non-empty set of CLONE_NEW* flags"
            }
            Self::SetnsNamespaceNotConfigured => "the kernel was built without this namespace type",
            Self::SetnsTargetNotPtraceable => {
                "joining a process's namespaces needs ptrace read access to it"
            }
            Self::SetnsOwnUserNs => "a task cannot re-enter its own user namespace",
            Self::SetnsMntWithoutCap => {
                "joining a mount namespace needs CAP_SYS_ADMIN and CAP_SYS_CHROOT"
            }
            Self::SetnsMntSharedFs => {
                "joining a mount namespace needs a root and cwd nobody else shares"
            }
            Self::SetnsWithoutCapSysAdmin => "joining a namespace needs CAP_SYS_ADMIN",
            Self::SetnsTimeMultithreaded => {
                "joining a time namespace needs a single-threaded caller"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `clone_args` field or syscall argument a [`Fix`] talks about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The `clone_args` pointer (`uargs`).
    Args,
    /// The `size` argument of `clone3`.
    Size,
    /// `pidfd` (clone3) / the `parent_tid` slot used for the pidfd (legacy).
    Pidfd,
    /// `parent_tid`.
    ParentTid,
    /// `child_tid`.
    ChildTid,
    /// `exit_signal`.
    ExitSignal,
    /// `stack`.
    Stack,
    /// `stack_size`.
    StackSize,
    /// `tls`.
    Tls,
    /// `set_tid` (the array pointer or its entries).
    SetTid,
    /// `set_tid_size`.
    SetTidSize,
    /// `cgroup`.
    Cgroup,
    /// `setns`'s `fd` argument.
    Fd,
    /// `setns`'s `nstype` argument.
    Nstype,
}

impl Field {
    /// The C field/argument name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Args => "uargs",
            Self::Size => "size",
            Self::Pidfd => "pidfd",
            Self::ParentTid => "parent_tid",
            Self::ChildTid => "child_tid",
            Self::ExitSignal => "exit_signal",
            Self::Stack => "stack",
            Self::StackSize => "stack_size",
            Self::Tls => "tls",
            Self::SetTid => "set_tid",
            Self::SetTidSize => "set_tid_size",
            Self::Cgroup => "cgroup",
            Self::Fd => "fd",
            Self::Nstype => "nstype",
        }
    }
}

/// A privilege a fix may need.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Privilege {
    /// `CAP_SYS_ADMIN` in the caller's user namespace.
    CapSysAdmin,
    /// `CAP_CHECKPOINT_RESTORE` (or `CAP_SYS_ADMIN`).
    CapCheckpointRestore,
}

impl Privilege {
    /// `"CAP_SYS_ADMIN"` etc.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CapSysAdmin => "CAP_SYS_ADMIN",
            Self::CapCheckpointRestore => "CAP_CHECKPOINT_RESTORE",
        }
    }
}

/// One change to a `clone`/`clone3` call; a [`Fix`] is a short list of them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// Add these flags.
    AddFlags(CloneFlags),
    /// Remove these flags.
    RemoveFlags(CloneFlags),
    /// Move the signal out of `flags` into `exit_signal` (clone3).
    MoveSignal(u8),
    /// Set `exit_signal` to this value (0 = clear it).
    SetExitSignal(u64),
    /// Set a field to a value.
    SetField {
        /// Which field.
        field: Field,
        /// The value that passes.
        value: u64,
    },
    /// Give the field a valid value (a readable/writable pointer, a non-zero size, an
    /// in-range pid…); no single value can be named. Re-validation models it as the value
    /// the rule asks for: [`Field::Stack`] a range the caller's memory accepts,
    /// [`Field::StackSize`] one page, [`Field::Tls`] 0, [`Field::Pidfd`]/[`Field::ParentTid`]
    /// a writable slot (for `clone3` distinct from `parent_tid`), [`Field::SetTid`] a
    /// readable array of in-range pids (1 for a new pid namespace), [`Field::Cgroup`] a cgroup
    /// fd the kernel accepts.
    ValidValue(Field),
    /// Use the legacy `clone` syscall (clone3 does not exist here). Outside the call.
    UseClone,
    /// Run with this privilege. Outside the call's arguments.
    NeedsPrivilege(Privilege),
}

impl Change {
    /// Whether this change is to the call's own arguments (not a privilege or another syscall).
    #[must_use]
    pub const fn in_arguments(&self) -> bool {
        !matches!(self, Self::UseClone | Self::NeedsPrivilege(_))
    }

    /// Writes the compact machine form of one change: `add:FLAGS`, `remove:FLAGS`,
    /// `move-signal:N`, `exit-signal:N`, `set:FIELD=VALUE`, `valid:FIELD`, `use-clone`,
    /// `privilege:CAP_…`.
    pub fn write_machine(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        match *self {
            Self::AddFlags(fl) => write!(f, "add:{fl}"),
            Self::RemoveFlags(fl) => write!(f, "remove:{fl}"),
            Self::MoveSignal(s) => write!(f, "move-signal:{s}"),
            Self::SetExitSignal(s) => write!(f, "exit-signal:{s}"),
            Self::SetField { field, value } => write!(f, "set:{}={value:#x}", field.name()),
            Self::ValidValue(field) => write!(f, "valid:{}", field.name()),
            Self::UseClone => f.write_str("use-clone"),
            Self::NeedsPrivilege(p) => write!(f, "privilege:{}", p.name()),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::AddFlags(fl) => write!(f, "add {fl}"),
            Self::RemoveFlags(fl) => write!(f, "remove {fl}"),
            Self::MoveSignal(s) => write!(f, "move signal {s} from flags to exit_signal"),
            Self::SetExitSignal(0) => f.write_str("set exit_signal to 0"),
            Self::SetExitSignal(s) => write!(f, "set exit_signal to {s}"),
            Self::SetField { field, value } => write!(f, "set {} to {value}", field.name()),
            Self::ValidValue(Field::Args) => f.write_str("point uargs at readable memory"),
            Self::ValidValue(Field::SetTid) => {
                f.write_str("give set_tid readable, in-range, unused pids")
            }
            Self::ValidValue(Field::Pidfd) => f.write_str("point pidfd at writable memory"),
            Self::ValidValue(Field::ParentTid) => {
                f.write_str("point parent_tid (the pidfd slot) at writable memory")
            }
            Self::ValidValue(Field::Stack) => {
                f.write_str("use a stack range inside user address space")
            }
            Self::ValidValue(Field::StackSize) => f.write_str("give stack_size a non-zero value"),
            Self::ValidValue(Field::Tls) => f.write_str(
                "use a valid tls (x86_64: below TASK_SIZE_MAX; i386: a readable struct user_desc \
                 that is empty or a present 32-bit data segment in a TLS slot)",
            ),
            Self::ValidValue(Field::Fd) => f.write_str("pass a namespace fd or a pidfd"),
            Self::ValidValue(Field::Nstype) => {
                f.write_str("give nstype the CLONE_NEW* flags of the namespaces to join")
            }
            Self::ValidValue(Field::Cgroup) => {
                f.write_str("give cgroup a cgroup directory fd the child may enter")
            }
            Self::ValidValue(field) => write!(f, "give {} a valid value", field.name()),
            Self::UseClone => f.write_str("use the legacy clone syscall"),
            Self::NeedsPrivilege(p) => write!(f, "run with {}", p.name()),
        }
    }
}

/// How far a [`Fix`] is known to work.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reach {
    /// Within the caller's control: with every change applied to the arguments the call passes
    /// the whole validation under the same policy (checked by re-validating).
    Arguments,
    /// No change to the arguments alone was found: the fix needs something outside them, a
    /// privilege or the legacy `clone` syscall, named among the changes. A privilege was
    /// checked by re-validating with it granted; `UseClone` cannot be re-validated.
    Outside,
    /// Nothing is known to pass: the changes (possibly none) are advice the validator cannot
    /// check, because the answer depends on memory it cannot read (the `clone_args` struct
    /// itself) or on runtime state; with no changes, nothing in the call helps.
    Unknown,
}

impl Reach {
    /// `"arguments"`, `"outside"`, `"unknown"`, used by machine-readable output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Arguments => "arguments",
            Self::Outside => "outside",
            Self::Unknown => "unknown",
        }
    }
}

/// The smallest set of changes that makes the call pass: [`Change`]s applied together, at
/// most one per thing a change decides (the flags to add, the flags to remove, the exit
/// signal, a privilege, each field), and the [`Reach`] saying whether it was re-validated.
///
/// [`Fix::changes`] lists them in a fixed order: added flags, removed flags, the exit signal,
/// fields set to a value, fields given a valid value, the privilege, `UseClone`. No change
/// undoes another. The struct is small and `Copy` (no allocation); its parts are reached only
/// through the methods, so new kinds of change can be added.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fix {
    add: CloneFlags,
    remove: CloneFlags,
    signal: Option<SignalChange>,
    /// Values for [`SET_FIELDS`], present where the bit of `set` is.
    values: [u64; SET_FIELDS.len()],
    set: u8,
    /// Bit `i` = `ValidValue(VALID_FIELDS[i])`.
    valid: u16,
    privilege: Option<Privilege>,
    use_clone: bool,
    reach: Reach,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum SignalChange {
    Move(u8),
    Set(u64),
}

/// The fields a fix can set to a named value.
const SET_FIELDS: [Field; 5] = [
    Field::Size,
    Field::StackSize,
    Field::SetTid,
    Field::SetTidSize,
    Field::Nstype,
];

/// The fields a fix can ask a valid value for.
const VALID_FIELDS: [Field; 14] = [
    Field::Args,
    Field::Size,
    Field::Pidfd,
    Field::ParentTid,
    Field::ChildTid,
    Field::ExitSignal,
    Field::Stack,
    Field::StackSize,
    Field::Tls,
    Field::SetTid,
    Field::SetTidSize,
    Field::Cgroup,
    Field::Fd,
    Field::Nstype,
];

fn valid_bit(field: Field) -> Option<u16> {
    let i = VALID_FIELDS.iter().position(|f| *f == field)?;
    Some(1 << i)
}

impl Fix {
    /// The most changes a fix can name (one per thing a change decides).
    pub const MAX_CHANGES: usize = 4 + SET_FIELDS.len() + VALID_FIELDS.len();

    /// No change helps (runtime state).
    pub const NONE: Self = Self {
        add: CloneFlags::empty(),
        remove: CloneFlags::empty(),
        signal: None,
        values: [0; SET_FIELDS.len()],
        set: 0,
        valid: 0,
        privilege: None,
        use_clone: false,
        reach: Reach::Unknown,
    };

    /// A fix of one change.
    #[must_use]
    pub fn one(change: Change, reach: Reach) -> Self {
        Self::NONE
            .and(change)
            .unwrap_or(Self::NONE)
            .with_reach(reach)
    }

    /// The changes, to be applied together, in the fixed order above.
    pub fn changes(&self) -> impl Iterator<Item = Change> + use<> {
        let mut out = [None; Self::MAX_CHANGES];
        let mut n = 0;
        let mut push = |c: Change| {
            if let Some(slot) = out.get_mut(n) {
                *slot = Some(c);
                n += 1;
            }
        };
        if !self.add.is_empty() {
            push(Change::AddFlags(self.add));
        }
        if !self.remove.is_empty() {
            push(Change::RemoveFlags(self.remove));
        }
        match self.signal {
            Some(SignalChange::Move(s)) => push(Change::MoveSignal(s)),
            Some(SignalChange::Set(s)) => push(Change::SetExitSignal(s)),
            None => {}
        }
        for (i, field) in SET_FIELDS.iter().enumerate() {
            if self.set & (1 << i) != 0 {
                push(Change::SetField {
                    field: *field,
                    value: self.values[i],
                });
            }
        }
        for (i, field) in VALID_FIELDS.iter().enumerate() {
            if self.valid & (1 << i) != 0 {
                push(Change::ValidValue(*field));
            }
        }
        if let Some(p) = self.privilege {
            push(Change::NeedsPrivilege(p));
        }
        if self.use_clone {
            push(Change::UseClone);
        }
        out.into_iter().flatten()
    }

    /// The number of changes.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(!self.add.is_empty())
            + usize::from(!self.remove.is_empty())
            + usize::from(self.signal.is_some())
            + self.set.count_ones() as usize
            + self.valid.count_ones() as usize
            + usize::from(self.privilege.is_some())
            + usize::from(self.use_clone)
    }

    /// Whether the fix names no change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the fix was re-validated and how far it reaches.
    #[must_use]
    pub const fn reach(&self) -> Reach {
        self.reach
    }

    /// The same changes with another reach.
    #[must_use]
    pub const fn with_reach(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    /// Adds a change, merging flag changes (a `SetField` replaces a `ValidValue` of the same
    /// field: set_tid given up once no valid pids exist); `None` when it would undo an
    /// earlier change (a flag added then removed, the exit signal or a field decided twice,
    /// a second privilege).
    #[must_use]
    pub fn and(mut self, change: Change) -> Option<Self> {
        match change {
            Change::AddFlags(x) => {
                if x.intersects(self.remove) {
                    return None;
                }
                self.add |= x;
            }
            Change::RemoveFlags(x) => {
                if x.intersects(self.add) {
                    return None;
                }
                self.remove |= x;
            }
            Change::MoveSignal(_) | Change::SetExitSignal(_) if self.signal.is_some() => {
                return None;
            }
            Change::MoveSignal(s) => self.signal = Some(SignalChange::Move(s)),
            Change::SetExitSignal(s) => self.signal = Some(SignalChange::Set(s)),
            Change::SetField { field, value } => {
                let i = SET_FIELDS.iter().position(|f| *f == field)?;
                if self.set & (1 << i) != 0 {
                    return None;
                }
                *self.values.get_mut(i)? = value;
                self.set |= 1 << i;
                self.valid &= !valid_bit(field).unwrap_or(0);
            }
            Change::ValidValue(field) => {
                let i = SET_FIELDS.iter().position(|f| *f == field);
                let bit = valid_bit(field)?;
                if self.valid & bit != 0 || i.is_some_and(|i| self.set & (1 << i) != 0) {
                    return None;
                }
                self.valid |= bit;
            }
            Change::NeedsPrivilege(p) => {
                if self.privilege.is_some() {
                    return None;
                }
                self.privilege = Some(p);
            }
            Change::UseClone => {
                if self.use_clone {
                    return None;
                }
                self.use_clone = true;
            }
        }
        Some(self)
    }

    /// The flags the fix adds.
    #[must_use]
    pub const fn added(&self) -> CloneFlags {
        self.add
    }

    /// The flags the fix removes.
    #[must_use]
    pub const fn removed(&self) -> CloneFlags {
        self.remove
    }

    /// Writes the compact machine form used by `cargo xtask explain --batch`: the changes'
    /// [`Change::write_machine`] forms joined by `+`, or `none` for no change.
    pub fn write_machine(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, c) in self.changes().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            c.write_machine(f)?;
        }
        Ok(())
    }
}

impl From<Change> for Fix {
    /// A one-change fix within the caller's control (or outside it, for a privilege or
    /// `UseClone`).
    fn from(c: Change) -> Self {
        let reach = if c.in_arguments() {
            Reach::Arguments
        } else {
            Reach::Outside
        };
        Self::one(c, reach)
    }
}

impl PartialEq<Change> for Fix {
    /// A fix equals a change when that change is all it names.
    fn eq(&self, other: &Change) -> bool {
        let mut it = self.changes();
        it.next() == Some(*other) && it.next().is_none()
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none (depends on runtime state, not on the arguments)");
        }
        for (i, c) in self.changes().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{c}")?;
        }
        match self.reach {
            Reach::Arguments => Ok(()),
            Reach::Outside => f.write_str(" (outside the call's arguments)"),
            Reach::Unknown => f.write_str(" (not re-validated)"),
        }
    }
}

/// Linux's refusal of a `clone`/`clone3`: the errno it returns, the rule that fired, the flags
/// that rule looked at, and the smallest fix.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CloneError {
    /// What the syscall returns (negated).
    pub errno: Errno,
    /// The check that failed.
    pub rule: Rule,
    /// The flags the failed check involves (empty for size/pointer rules).
    pub flags: CloneFlags,
    /// The smallest set of changes that passes (see [`Fix::reach`]).
    pub fix: Fix,
}

/// `EINVAL: <rule> (<kernel function>) — flags <flags>`: what a [`CloneError`] and a
/// [`Refusal`] both say first.
fn write_refusal(
    f: &mut fmt::Formatter<'_>,
    errno: Errno,
    rule: Rule,
    flags: CloneFlags,
) -> fmt::Result {
    write!(
        f,
        "{errno}: {} ({})",
        rule.description(),
        rule.kernel_function()
    )?;
    if !flags.is_empty() {
        write!(f, " — flags {flags}")?;
    }
    Ok(())
}

impl fmt::Display for CloneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_refusal(f, self.errno, self.rule, self.flags)?;
        write!(f, "; fix: {}", self.fix)
    }
}

impl core::error::Error for CloneError {}

/// Linux's refusal without its fix: the errno, the rule and the flags, plus the refused call.
/// What the kernel face's hot path returns ([`crate::validate::Validator::check`],
/// [`crate::entry::clone_syscall`]): it runs no fix search, so a kernel that only returns the
/// errno does not link one. [`Refusal::explain`] runs the search on demand.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Refusal {
    /// What the syscall returns (negated).
    pub errno: Errno,
    /// The check that failed.
    pub rule: Rule,
    /// The flags the failed check involves (empty for size/pointer rules).
    pub flags: CloneFlags,
    /// The call that was refused, as decoded.
    pub call: CloneCall,
}

impl Refusal {
    /// The whole answer for the refused call, fix included: the call validated again
    /// ([`crate::validate::validate_clone_in`], [`crate::validate::validate_clone3`],
    /// [`crate::validate::validate_fork`], [`crate::validate::validate_vfork`]), which runs
    /// the fix search. With the memory and policy the call was checked under it is this
    /// refusal with its [`Fix`]; `None` if the call passes under the `mem` and `policy` given.
    pub fn explain(&self, mem: &impl UserMemory, policy: &Policy) -> Option<CloneError> {
        use crate::validate;
        match self.call {
            CloneCall::Clone(args) => validate::validate_clone_in(&args, mem, policy),
            CloneCall::Clone3 { args, size } => validate::validate_clone3(args, size, mem, policy),
            CloneCall::Fork => validate::validate_fork(policy),
            CloneCall::Vfork => validate::validate_vfork(policy),
        }
        .err()
    }

    /// The smallest fix ([`Refusal::explain`]'s).
    pub fn fix(&self, mem: &impl UserMemory, policy: &Policy) -> Option<Fix> {
        self.explain(mem, policy).map(|e| e.fix)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_refusal(f, self.errno, self.rule, self.flags)
    }
}

impl core::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    #[test]
    fn all_rules_distinct_and_named() {
        for (i, a) in Rule::ALL.iter().enumerate() {
            for b in &Rule::ALL[i + 1..] {
                assert_ne!(a, b);
                assert_ne!(a.name(), b.name());
            }
            assert_eq!(format!("{a:?}"), a.name());
            assert!(!a.description().is_empty());
        }
    }

    #[test]
    fn display_one_line() {
        let e = CloneError {
            errno: Errno::EINVAL,
            rule: Rule::ThreadWithoutSighand,
            flags: CloneFlags::THREAD,
            fix: Change::AddFlags(CloneFlags::SIGHAND | CloneFlags::VM).into(),
        };
        assert_eq!(
            format!("{e}"),
            "EINVAL: CLONE_THREAD requires CLONE_SIGHAND (copy_process) — flags CLONE_THREAD; \
             fix: add CLONE_VM|CLONE_SIGHAND"
        );
        let mut s = String::new();
        e.fix.write_machine(&mut s).unwrap();
        assert_eq!(s, "add:CLONE_VM|CLONE_SIGHAND");
    }

    #[test]
    fn errno_classes() {
        assert_eq!(Rule::Clone3Unavailable.errno(), Errno::ENOSYS);
        assert_eq!(Rule::Clone3NonZeroTail.errno(), Errno::E2BIG);
        assert_eq!(Rule::Clone3SizeBelowVer0.errno(), Errno::EINVAL);
        assert_eq!(Rule::NamespaceWithoutCapSysAdmin.errno(), Errno::EPERM);
        assert_eq!(Rule::SetTidNotPermitted.errno(), Errno::EPERM);
        assert_eq!(Rule::SetTidFault.errno(), Errno::EFAULT);
        assert_eq!(Rule::PidNsTooDeep.errno(), Errno::ENOSPC);
        assert_eq!(Rule::SetTidInUse.errno(), Errno::EEXIST);
    }
}
