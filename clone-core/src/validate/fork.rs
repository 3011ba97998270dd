//! `fork()` and `vfork()`: the argument-less members of the family, turned into the
//! `kernel_clone_args` that `kernel/fork.c`'s `sys_fork` / `sys_vfork` build and sent through
//! the same checks as `clone`.
//!
//! `sys_fork` is `kernel_clone(&{ .exit_signal = SIGCHLD })`, `sys_vfork` adds
//! `.flags = CLONE_VFORK | CLONE_VM` (sparc's `sparc_fork`/`sparc_vfork` also pass the
//! parent's own `%fp` as the stack, which is what `stack == 0` means here). Neither set of
//! flags can fail a `copy_process` rule, so the only refusal the arguments decide is
//! **ENOSYS** where the arch's table has no such entry ([`crate::SyscallNumbers::fork`]).

use super::{Failure, KernelCloneArgs, NoMemory, Request, Via, check_request, fail};
use crate::error::{Change, CloneError, Rule};
use crate::flags::CloneFlags;
use crate::policy::Policy;

/// Validates `fork()`: `SIGCHLD` as the exit signal, no flags.
///
/// **ENOSYS** ([`Rule::ForkUnavailable`], fix: use `clone`) where the arch has no `fork`.
pub fn validate_fork(policy: &Policy) -> Result<KernelCloneArgs, CloneError> {
    explained(false, policy)
}

/// Validates `vfork()`: `CLONE_VFORK | CLONE_VM` with `SIGCHLD`.
///
/// **ENOSYS** ([`Rule::VforkUnavailable`], fix: use `clone`) where the arch has no `vfork`.
pub fn validate_vfork(policy: &Policy) -> Result<KernelCloneArgs, CloneError> {
    explained(true, policy)
}

/// [`check`] with the fix: `UseClone` for a missing syscall, the search otherwise.
fn explained(vfork: bool, policy: &Policy) -> Result<KernelCloneArgs, CloneError> {
    check(vfork, policy).map_err(|f| {
        let fix = if matches!(f.rule, Rule::ForkUnavailable | Rule::VforkUnavailable) {
            Change::UseClone.into()
        } else {
            crate::fix::best_fix(&f, &request(vfork, policy), &NoMemory, policy)
        };
        f.with_fix(fix)
    })
}

/// `fork()` (or `vfork()`) without the fix: the missing syscall, then the shared checks.
pub(crate) fn check(vfork: bool, policy: &Policy) -> Result<KernelCloneArgs, Failure> {
    let (present, missing) = if vfork {
        (policy.arch.has_vfork(), Rule::VforkUnavailable)
    } else {
        (policy.arch.has_fork(), Rule::ForkUnavailable)
    };
    let req = request(vfork, policy);
    if !present {
        return Err(fail(missing, CloneFlags::from_bits_retain(req.flags)));
    }
    check_request(&req, &NoMemory, policy)
}

fn request(vfork: bool, policy: &Policy) -> Request {
    let (via, flags) = if vfork {
        (Via::Vfork, CloneFlags::VFORK | CloneFlags::VM)
    } else {
        (Via::Fork, CloneFlags::empty())
    };
    Request {
        via,
        flags: flags.bits(),
        exit_signal: u64::from(policy.sigchld()),
        pidfd: 0,
        parent_tid: 0,
        child_tid: 0,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LinuxVersion;
    use crate::{Arch, Errno};

    #[test]
    fn fork_is_sigchld_and_vfork_adds_vfork_vm() {
        for arch in [
            Arch::X86_64,
            Arch::I386,
            Arch::Sparc64,
            Arch::Hppa,
            Arch::Mips64,
        ] {
            let p = Policy::linux(arch, LinuxVersion::V6_18).unprivileged();
            let k = validate_fork(&p).unwrap();
            assert_eq!(
                (k.via, k.flags, k.exit_signal),
                (Via::Fork, CloneFlags::empty(), p.sigchld())
            );
            assert_eq!((k.stack, k.tls, k.set_tid_len), (0, 0, 0));
        }
        let p = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
        let k = validate_vfork(&p).unwrap();
        assert_eq!(k.flags, CloneFlags::VFORK | CloneFlags::VM);
        assert_eq!((k.via, k.exit_signal), (Via::Vfork, 17));
        // mips SIGCHLD is 18.
        let p = Policy::linux(Arch::Mips64, LinuxVersion::V6_18);
        assert_eq!(validate_fork(&p).unwrap().exit_signal, 18);
    }

    #[test]
    fn enosys_where_the_table_has_no_entry() {
        for arch in [Arch::Aarch64, Arch::Riscv64, Arch::Loongarch64, Arch::Ia64] {
            let p = Policy::linux(arch, LinuxVersion::V6_18);
            let e = validate_fork(&p).unwrap_err();
            let fix: crate::error::Fix = Change::UseClone.into();
            assert_eq!(
                (e.errno, e.rule, e.fix),
                (Errno::ENOSYS, Rule::ForkUnavailable, fix)
            );
            let e = validate_vfork(&p).unwrap_err();
            assert_eq!((e.errno, e.rule), (Errno::ENOSYS, Rule::VforkUnavailable));
        }
        let p = Policy::linux(Arch::Mips64, LinuxVersion::V6_18);
        assert_eq!(validate_vfork(&p).unwrap_err().rule, Rule::VforkUnavailable);
    }
}
