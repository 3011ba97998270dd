//! The kernel face in one call (`clone`, `clone3`, ia64 `clone2`, `fork`, `vfork`): raw
//! syscall registers in, an accepted request (with the child's stack pointer and TLS) or
//! Linux's errno out. It chains [`decode`], the validator
//! ([`crate::validate`]) and [`kernel_child_sp`], the straight line every Linux-compatible
//! `clone` walks.
//!
//! A refusal carries Linux's errno, rule and flags ([`Refusal`]) but no fix: the fix search
//! runs only when asked ([`EntryError::explain`]), so a kernel that returns the errno and
//! nothing else does not link it.
//!
//! ```
//! use clone_core::entry::{self, Accepted};
//! use clone_core::validate::NoMemory;
//! use clone_core::{Arch, CloneFlags, Policy, RawSyscall, policy::LinuxVersion};
//!
//! /// What a kernel's syscall dispatcher would do for syscall 56 on x86_64.
//! fn sys_clone(regs: [u64; 6]) -> i64 {
//!     let policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
//!     let raw = RawSyscall { nr: 56, args: regs };
//!     match entry::clone_syscall(&raw, &NoMemory, &policy) {
//!         Ok(Accepted { args, child_sp, tls, .. }) => {
//!             // Create the task: args.flags, child_sp (None = the parent's SP), tls.
//!             let _ = (args.flags, child_sp, tls);
//!             1234 // the new tid
//!         }
//!         Err(e) => -i64::from(e.errno().raw_for(policy.arch)),
//!     }
//! }
//!
//! let threads = CloneFlags::VM | CloneFlags::FS | CloneFlags::FILES | CloneFlags::SIGHAND
//!     | CloneFlags::THREAD | CloneFlags::SYSVSEM;
//! assert_eq!(sys_clone([threads.bits(), 0x7000_0000, 0, 0, 0, 0]), 1234);
//! // CLONE_THREAD alone: EINVAL (22), as Linux says.
//! assert_eq!(sys_clone([CloneFlags::THREAD.bits(), 0, 0, 0, 0, 0]), -22);
//! ```

use core::fmt;

use crate::abi::StackGrowth;
use crate::error::{CloneError, Refusal};
use crate::flags::CloneFlags;
use crate::syscall::{
    ChildSp, CloneCall, DecodeError, KernelStackError, KernelStackRequest, RawSyscall, decode,
    kernel_child_sp,
};
use crate::validate::{KernelCloneArgs, UserMemory, Validator, Via};
use crate::{Errno, Policy};

/// A request Linux would accept, with what the new task starts from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The call as decoded from the registers.
    pub call: CloneCall,
    /// `struct kernel_clone_args` after validation.
    pub args: KernelCloneArgs,
    /// The child's stack pointer ([`kernel_child_sp`]); `None` = it keeps the parent's.
    pub child_sp: Option<ChildSp>,
    /// The thread pointer to install, `Some` exactly when `CLONE_SETTLS` is set (on i386 this
    /// is the `struct user_desc *`, on the other arches the new TLS register value).
    pub tls: Option<u64>,
}

/// Why [`clone_syscall`] refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryError {
    /// The number is not `clone`, `clone3` or `clone2` on this arch (a dispatch error; a
    /// kernel answers an unknown number with **ENOSYS**).
    NotClone(DecodeError),
    /// Linux refuses the call: its errno, rule and flags ([`EntryError::explain`] adds the
    /// fix).
    Refused(Refusal),
    /// The validated stack has no child SP (reachable only through a [`UserMemory`] whose
    /// `access_ok` accepts what the arch's address width cannot hold). **EINVAL**.
    Stack(KernelStackError),
}

impl EntryError {
    /// What the syscall returns (negated).
    #[must_use]
    pub const fn errno(&self) -> Errno {
        match self {
            EntryError::NotClone(_) => Errno::ENOSYS,
            EntryError::Refused(e) => e.errno,
            EntryError::Stack(_) => Errno::EINVAL,
        }
    }

    /// For a refusal, the whole answer with its smallest fix ([`Refusal::explain`]: the fix
    /// search, run now), under the memory and policy the call was made with; `None` for the
    /// other errors.
    pub fn explain(&self, mem: &impl UserMemory, policy: &Policy) -> Option<CloneError> {
        match self {
            EntryError::Refused(r) => r.explain(mem, policy),
            _ => None,
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::NotClone(e) => e.fmt(f),
            EntryError::Refused(e) => e.fmt(f),
            EntryError::Stack(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for EntryError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            EntryError::NotClone(e) => Some(e),
            EntryError::Refused(e) => Some(e),
            EntryError::Stack(e) => Some(e),
        }
    }
}

impl From<Refusal> for EntryError {
    fn from(e: Refusal) -> Self {
        EntryError::Refused(e)
    }
}

/// Linux's `clone`, `clone3`, ia64 `clone2`, `fork` or `vfork` for the registers in `raw`: decodes them for
/// `policy.arch` (the one arch value decodes, validates and lays out the stack, so the three
/// cannot disagree), validates in Linux's order reading `clone_args` and `set_tid` from `mem`
/// and asking it the per-call questions ([`UserMemory::set_tid_taken`],
/// [`UserMemory::cgroup_can_fork`]), and computes the child's stack pointer. No fix is
/// searched ([`EntryError::explain`]).
pub fn clone_syscall(
    raw: &RawSyscall,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Result<Accepted, EntryError> {
    let arch = policy.arch;
    let call = decode(arch, raw).map_err(EntryError::NotClone)?;
    let args = Validator::new(*policy).check(&call, mem)?;
    let stack = match args.via {
        // fork and vfork keep the parent's SP (their stack is 0).
        Via::Clone | Via::Fork | Via::Vfork => KernelStackRequest::Clone { newsp: args.stack },
        Via::Clone2 => KernelStackRequest::Clone2 {
            base: args.stack,
            size: args.stack_size,
        },
        // The validator already moved a grows-down stack to its top (`stack += stack_size`
        // in clone3_stack_valid); undo that to hand kernel_child_sp the caller's values.
        Via::Clone3 { .. } => KernelStackRequest::Clone3 {
            stack: match arch.stack_growth() {
                StackGrowth::Down => args.stack.wrapping_sub(args.stack_size),
                StackGrowth::Up => args.stack,
            },
            stack_size: args.stack_size,
        },
    };
    let child_sp = kernel_child_sp(arch, &stack).map_err(EntryError::Stack)?;
    let tls = args.flags.contains(CloneFlags::SETTLS).then_some(args.tls);
    Ok(Accepted {
        call,
        args,
        child_sp,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Region, Regions};
    use crate::policy::LinuxVersion;
    use crate::validate::{CloneArgs, NoMemory};
    use crate::{Arch, error::Rule};

    const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
    const THREAD: CloneFlags = crate::flags::THREAD_FLAGS;

    #[test]
    fn legacy_thread_gets_its_sp_and_tls() {
        // x86_64 order: flags, sp, ptid, ctid, tls.
        let raw = RawSyscall {
            nr: 56,
            args: [THREAD.bits(), 0x7000_1000, 0, 0, 0x5000, 0],
        };
        let a = clone_syscall(&raw, &NoMemory, &P).unwrap();
        assert_eq!(a.child_sp.map(|s| s.sp), Some(0x7000_1000));
        assert_eq!(a.tls, Some(0x5000));
        assert_eq!(a.args.flags, THREAD);
    }

    #[test]
    fn clone3_sp_is_the_top_of_the_stack_and_hppa_keeps_the_base() {
        let mut c = CloneArgs {
            flags: CloneFlags::VM.bits(),
            exit_signal: 17,
            stack: 0x10_0000,
            stack_size: 0x4000,
            ..CloneArgs::default()
        };
        let bytes = c.to_bytes(Arch::X86_64);
        let regions = [Region::read_only(0x1000, &bytes)];
        let raw = RawSyscall {
            nr: 435,
            args: [0x1000, 88, 0, 0, 0, 0],
        };
        let a = clone_syscall(&raw, &Regions::new(&regions), &P).unwrap();
        assert_eq!(a.child_sp.map(|s| s.sp), Some(0x10_4000));
        assert_eq!(a.tls, None);

        // hppa: the stack grows up, the SP is the base rounded up to 4.
        c.stack = 0x10_0001;
        c.exit_signal = 18;
        let bytes = c.to_bytes(Arch::Hppa);
        let regions = [Region::read_only(0x1000, &bytes)];
        let hppa = P.with_arch(Arch::Hppa);
        let a = clone_syscall(&raw, &Regions::new(&regions), &hppa).unwrap();
        assert_eq!(a.child_sp.map(|s| s.sp), Some(0x10_0004));
    }

    #[test]
    fn refusals_and_dispatch_errors_carry_linux_errno() {
        let raw = RawSyscall {
            nr: 56,
            args: [CloneFlags::THREAD.bits(), 0, 0, 0, 0, 0],
        };
        let e = clone_syscall(&raw, &NoMemory, &P).unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL);
        assert!(matches!(e, EntryError::Refused(c) if c.rule == Rule::ThreadWithoutSighand));
        // The fix, searched on demand.
        let explained = e.explain(&NoMemory, &P).unwrap();
        assert_eq!(explained.rule, Rule::ThreadWithoutSighand);
        assert_eq!(
            explained.fix,
            crate::error::Change::AddFlags(CloneFlags::SIGHAND | CloneFlags::VM)
        );
        // x86_64 syscall 1 is write: not for this entry.
        let e = clone_syscall(
            &RawSyscall {
                nr: 1,
                args: [0; 6],
            },
            &NoMemory,
            &P,
        )
        .unwrap_err();
        assert_eq!(e.errno(), Errno::ENOSYS);
    }

    #[test]
    fn fork_keeps_the_parents_sp() {
        // x86_64 fork is syscall 57.
        let a = clone_syscall(
            &RawSyscall {
                nr: 57,
                args: [0; 6],
            },
            &NoMemory,
            &P,
        )
        .unwrap();
        assert_eq!((a.child_sp, a.tls), (None, None));
        assert_eq!(a.args.via, Via::Fork);
    }

    #[test]
    fn set_tid_taken_hook_is_asked_at_alloc_pid() {
        let tids = 300i32.to_le_bytes();
        let c = CloneArgs {
            exit_signal: 17,
            set_tid: 0x2000,
            set_tid_size: 1,
            ..CloneArgs::default()
        };
        let bytes = c.to_bytes(Arch::X86_64);
        let regions = [
            Region::read_only(0x1000, &bytes),
            Region::read_only(0x2000, &tids),
        ];
        let raw = RawSyscall {
            nr: 435,
            args: [0x1000, 88, 0, 0, 0, 0],
        };
        let free = Regions::new(&regions);
        assert!(clone_syscall(&raw, &free, &P).is_ok());
        let taken = free.with_taken_pids(&[(0, 300)]);
        let e = clone_syscall(&raw, &taken, &P).unwrap_err();
        assert!(
            matches!(e, EntryError::Refused(c) if c.rule == Rule::SetTidInUse),
            "{e}"
        );
        assert_eq!(e.errno(), Errno::EEXIST);
        // An earlier step still wins: without privilege alloc_pid says EPERM before asking.
        let e = clone_syscall(&raw, &taken, &P.unprivileged()).unwrap_err();
        assert_eq!(e.errno(), Errno::EPERM);
    }

    #[test]
    fn cgroup_hook_answers_per_fd_after_the_pidfd() {
        let c = |fd: u64, pidfd: u64| CloneArgs {
            flags: (CloneFlags::INTO_CGROUP | CloneFlags::PIDFD).bits(),
            exit_signal: 17,
            cgroup: fd,
            pidfd,
            ..CloneArgs::default()
        };
        let slot = [0u8; 4];
        let run = |args: CloneArgs| {
            let bytes = args.to_bytes(Arch::X86_64);
            let regions = [
                Region::read_only(0x1000, &bytes),
                Region::read_write(0x3000, &slot),
                Region::read_only(0x4000, &slot),
            ];
            let mem = Regions::new(&regions).with_cgroup_errors(&[(5, Errno::EBADF)]);
            let raw = RawSyscall {
                nr: 435,
                args: [0x1000, 88, 0, 0, 0, 0],
            };
            clone_syscall(&raw, &mem, &P)
                .map(|_| ())
                .map_err(|e| e.errno())
        };
        assert_eq!(run(c(4, 0x3000)), Ok(()));
        assert_eq!(run(c(5, 0x3000)), Err(Errno::EBADF));
        // The pidfd put_user comes first in Linux's order.
        assert_eq!(run(c(5, 0x4000)), Err(Errno::EFAULT));
    }
}
