//! `setns(fd, nstype)`: Linux's answer in `kernel/nsproxy.c`'s order, for the kinds of fd a
//! caller can hold: a namespace file (`/proc/<pid>/ns/<type>`), a pidfd, anything else, or
//! no open file at all.
//!
//! 1. `setns`: no file (**EBADF**); a namespace file with a non-zero `nstype` other than its
//!    own type (**EINVAL**); a pidfd goes through `check_setns_flags` (`nstype` 0, bits outside
//!    the namespace flags, or a type the kernel was built without: **EINVAL**); any other file
//!    is **EINVAL**;
//! 2. `prepare_nsset` (ENOMEM only);
//! 3. a namespace file: its type's `install`; a pidfd: `validate_nsset`, which needs
//!    `ptrace_may_access(PTRACE_MODE_READ_REALCREDS)` on the target (**EPERM**) and then calls
//!    the `install` of every requested type in the order user, mnt, uts, ipc, pid, cgroup,
//!    net, time.
//!
//! The `install` checks, for the namespaces this module knows (the caller's own, or those
//! of a process in all of the caller's namespaces):
//! - `userns_install`: joining the caller's own user namespace is **EINVAL** (before the
//!   thread-group, `fs` and capability checks, which therefore never decide here);
//! - `mntns_install`: `CAP_SYS_ADMIN` (and `CAP_SYS_CHROOT`) or **EPERM**, then a shared
//!   `fs_struct` is **EINVAL** — but only when `CLONE_NEWNS` is the only type asked for: with
//!   more, `prepare_nsset` gives the install a private copy;
//! - `utsns_install`, `ipcns_install`, `pidns_install`, `cgroupns_install`, `netns_install`:
//!   `CAP_SYS_ADMIN` or **EPERM** (joining one's own active pid namespace passes the level
//!   checks);
//! - `timens_install`: a shared `mm` is **EUSERS**, checked before the capability.
//!
//! Namespaces of other owners, levels or user namespaces (and the ESRCH of a dead target)
//! are runtime state beyond this model.

use super::CallerTask;
use super::caller::search_fix;
use crate::error::{Change, CloneError, Field, Fix, Privilege, Rule};
use crate::flags::{CloneFlags as C, NAMESPACE_FLAGS};
use crate::policy::Policy;

/// The namespace flags `check_setns_flags` accepts.
pub const SETNS_FLAGS: C = NAMESPACE_FLAGS.union(C::NEWUSER);

/// `validate_nsset`'s install order.
const INSTALL_ORDER: [C; 8] = [
    C::NEWUSER,
    C::NEWNS,
    C::NEWUTS,
    C::NEWIPC,
    C::NEWPID,
    C::NEWCGROUP,
    C::NEWNET,
    C::NEWTIME,
];

/// What `fd` refers to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetnsFd {
    /// No open file (`fd_empty`).
    Closed,
    /// `/proc/<pid>/ns/<type>` of the caller's own current namespace of this type (one
    /// `CLONE_NEW*` flag; `CLONE_NEWPID` is the caller's active pid namespace).
    OwnNamespace(C),
    /// A pidfd of a live process in all of the caller's namespaces.
    Pidfd {
        /// `ptrace_may_access(target, PTRACE_MODE_READ_REALCREDS)`: true for an ordinary
        /// child with the caller's credentials; false e.g. for a non-dumpable target of an
        /// unprivileged caller.
        ptrace_readable: bool,
    },
    /// Any other open file (regular file, pipe, socket…).
    Other,
}

impl SetnsFd {
    /// A pidfd of an ordinary child.
    pub const PIDFD: Self = Self::Pidfd {
        ptrace_readable: true,
    };
}

/// An accepted `setns`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelSetns {
    /// The namespace types the caller enters (`nsset->flags`).
    pub flags: C,
}

/// Validates `setns(fd, nstype)`. `nstype` is the raw register; the kernel takes an `int`,
/// so only its low 32 bits count.
pub fn validate_setns(
    fd: SetnsFd,
    nstype: u64,
    caller: &CallerTask,
    policy: &Policy,
) -> Result<KernelSetns, CloneError> {
    let nstype = nstype & u64::from(u32::MAX);
    match check(fd, nstype, caller, policy) {
        Ok(k) => Ok(k),
        Err((rule, involved)) => Err(CloneError {
            errno: rule.errno(),
            rule,
            flags: involved,
            fix: best_fix(rule, involved, fd, nstype, caller, policy),
        }),
    }
}

type Failure = (Rule, C);

fn check(
    fd: SetnsFd,
    nstype: u64,
    caller: &CallerTask,
    policy: &Policy,
) -> Result<KernelSetns, Failure> {
    // `nstype` is the int's 32 bits here. For a pidfd the kernel sign-extends it to
    // check_setns_flags' unsigned long; bit 31 is no namespace flag, so EINVAL either way.
    let asked = C::from_bits_retain(nstype);
    let flags = match fd {
        SetnsFd::Closed => return Err((Rule::SetnsBadFd, C::empty())),
        SetnsFd::OwnNamespace(t) => {
            if nstype != 0 && nstype != t.bits() {
                return Err((Rule::SetnsNstypeMismatch, asked));
            }
            t
        }
        SetnsFd::Pidfd { .. } => {
            let unknown = asked.difference(SETNS_FLAGS);
            if nstype == 0 || !unknown.is_empty() {
                return Err((Rule::SetnsBadNstype, unknown));
            }
            let missing = asked.difference(policy.namespaces_configured);
            if !missing.is_empty() {
                return Err((Rule::SetnsNamespaceNotConfigured, missing));
            }
            asked
        }
        SetnsFd::Other => return Err((Rule::SetnsNotNamespaceFd, C::empty())),
    };
    if let SetnsFd::Pidfd { ptrace_readable } = fd {
        if !ptrace_readable {
            return Err((Rule::SetnsTargetNotPtraceable, C::empty()));
        }
    }
    for one in INSTALL_ORDER {
        if flags.contains(one) {
            install(one, flags, caller, policy)?;
        }
    }
    Ok(KernelSetns { flags })
}

/// One namespace type's `install`, for the caller's own namespace of that type.
fn install(one: C, nsset_flags: C, caller: &CallerTask, policy: &Policy) -> Result<(), Failure> {
    let cap = policy.cap_sys_admin;
    if one == C::NEWUSER {
        return Err((Rule::SetnsOwnUserNs, one));
    }
    if one == C::NEWNS {
        if !cap {
            return Err((Rule::SetnsMntWithoutCap, one));
        }
        // prepare_nsset shares current->fs only when CLONE_NEWNS is all that is asked.
        if caller.fs_shared && nsset_flags == C::NEWNS {
            return Err((Rule::SetnsMntSharedFs, one));
        }
        return Ok(());
    }
    if one == C::NEWTIME && caller.mm_shared {
        return Err((Rule::SetnsTimeMultithreaded, one));
    }
    if !cap {
        return Err((Rule::SetnsWithoutCapSysAdmin, one));
    }
    Ok(())
}

fn best_fix(
    rule: Rule,
    involved: C,
    fd: SetnsFd,
    nstype: u64,
    caller: &CallerTask,
    policy: &Policy,
) -> Fix {
    use Change::{NeedsPrivilege, RemoveFlags, SetField, ValidValue};
    let pidfd = matches!(fd, SetnsFd::Pidfd { .. });
    let candidates = |(rule, involved): Failure| {
        let one = match rule {
            Rule::SetnsBadFd | Rule::SetnsNotNamespaceFd => ValidValue(Field::Fd),
            Rule::SetnsNstypeMismatch => SetField {
                field: Field::Nstype,
                value: 0,
            },
            Rule::SetnsBadNstype if involved.is_empty() => ValidValue(Field::Nstype),
            Rule::SetnsBadNstype | Rule::SetnsNamespaceNotConfigured => RemoveFlags(involved),
            Rule::SetnsOwnUserNs | Rule::SetnsTimeMultithreaded | Rule::SetnsMntSharedFs
                if pidfd =>
            {
                RemoveFlags(involved)
            }
            Rule::SetnsOwnUserNs => ValidValue(Field::Fd),
            Rule::SetnsMntWithoutCap | Rule::SetnsWithoutCapSysAdmin => {
                NeedsPrivilege(Privilege::CapSysAdmin)
            }
            // Runtime state: the target's dumpability, the caller's threads or shared fs.
            _ => return [None; 3],
        };
        [Some(one), None, None]
    };
    search_fix((rule, involved), candidates, |fix| {
        let (mut t, mut p) = (nstype, *policy);
        for c in fix.changes() {
            match c {
                RemoveFlags(x) => t &= !x.bits(),
                SetField { value, .. } => t = value,
                NeedsPrivilege(_) => p = p.with_cap_sys_admin(true),
                _ => return None,
            }
        }
        Some(check(fd, t, caller, &p).map(|_| ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reach;

    fn fx(c: Change) -> Fix {
        c.into()
    }
    use crate::policy::LinuxVersion;
    use crate::{Arch, Errno};

    const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
    const ONE: CallerTask = CallerTask::SINGLE;
    const MANY: CallerTask = CallerTask::threads(4);

    fn err(fd: SetnsFd, nstype: C, caller: &CallerTask, p: &Policy) -> (Errno, Rule, C, Fix) {
        let e = validate_setns(fd, nstype.bits(), caller, p).unwrap_err();
        (e.errno, e.rule, e.flags, e.fix)
    }

    #[test]
    fn fd_kind_decides_first() {
        assert_eq!(err(SetnsFd::Closed, C::NEWNET, &ONE, &P).0, Errno::EBADF);
        let (e, r, ..) = err(SetnsFd::Other, C::empty(), &ONE, &P);
        assert_eq!((e, r), (Errno::EINVAL, Rule::SetnsNotNamespaceFd));
        // Closed beats everything, even unprivileged and threaded.
        assert_eq!(
            err(SetnsFd::Closed, C::NEWUSER, &MANY, &P.unprivileged()).1,
            Rule::SetnsBadFd
        );
    }

    #[test]
    fn namespace_fd_nstype_is_zero_or_its_type() {
        let net = SetnsFd::OwnNamespace(C::NEWNET);
        assert_eq!(validate_setns(net, 0, &ONE, &P).unwrap().flags, C::NEWNET);
        assert!(validate_setns(net, C::NEWNET.bits(), &ONE, &P).is_ok());
        let (e, r, _, fix) = err(net, C::NEWUTS, &ONE, &P);
        assert_eq!((e, r), (Errno::EINVAL, Rule::SetnsNstypeMismatch));
        assert_eq!(
            fix,
            fx(Change::SetField {
                field: Field::Nstype,
                value: 0
            })
        );
        // The mismatch comes before the capability check.
        assert_eq!(
            err(net, C::NEWUTS, &ONE, &P.unprivileged()).1,
            Rule::SetnsNstypeMismatch
        );
        // High register bits never reach the int.
        assert!(validate_setns(net, (1 << 40) | C::NEWNET.bits(), &ONE, &P).is_ok());
    }

    #[test]
    fn own_user_namespace_is_einval_even_for_root() {
        let user = SetnsFd::OwnNamespace(C::NEWUSER);
        assert_eq!(err(user, C::empty(), &ONE, &P).1, Rule::SetnsOwnUserNs);
        assert_eq!(
            err(user, C::empty(), &MANY, &P.unprivileged()).1,
            Rule::SetnsOwnUserNs
        );
        // Through a pidfd the user install runs first.
        let (_, r, _, fix) = err(
            SetnsFd::PIDFD,
            C::NEWUSER | C::NEWNET,
            &ONE,
            &P.unprivileged(),
        );
        assert_eq!(r, Rule::SetnsOwnUserNs);
        // ... and NEWNET then needs the privilege.
        let want = fx(Change::RemoveFlags(C::NEWUSER))
            .and(Change::NeedsPrivilege(Privilege::CapSysAdmin))
            .unwrap()
            .with_reach(Reach::Outside);
        assert_eq!(fix, want);
    }

    #[test]
    fn mount_time_and_capabilities() {
        let mnt = SetnsFd::OwnNamespace(C::NEWNS);
        assert!(validate_setns(mnt, 0, &ONE, &P).is_ok());
        assert_eq!(err(mnt, C::empty(), &MANY, &P).1, Rule::SetnsMntSharedFs);
        assert_eq!(
            err(mnt, C::empty(), &MANY, &P.unprivileged()).1,
            Rule::SetnsMntWithoutCap
        );
        // A pidfd with NEWNS and more installs into a private fs copy.
        assert_eq!(
            err(SetnsFd::PIDFD, C::NEWNS, &MANY, &P).1,
            Rule::SetnsMntSharedFs
        );
        assert!(validate_setns(SetnsFd::PIDFD, (C::NEWNS | C::NEWUTS).bits(), &MANY, &P).is_ok());
        let time = SetnsFd::OwnNamespace(C::NEWTIME);
        let (e, r, ..) = err(time, C::empty(), &MANY, &P.unprivileged());
        assert_eq!((e, r), (Errno::EUSERS, Rule::SetnsTimeMultithreaded));
        assert_eq!(
            err(time, C::empty(), &ONE, &P.unprivileged()).1,
            Rule::SetnsWithoutCapSysAdmin
        );
        for t in [C::NEWUTS, C::NEWIPC, C::NEWPID, C::NEWCGROUP, C::NEWNET] {
            let fd = SetnsFd::OwnNamespace(t);
            assert!(validate_setns(fd, 0, &MANY, &P).is_ok(), "{t}");
            let (e, r, f, fix) = err(fd, C::empty(), &ONE, &P.unprivileged());
            assert_eq!((e, r, f), (Errno::EPERM, Rule::SetnsWithoutCapSysAdmin, t));
            assert_eq!(fix, fx(Change::NeedsPrivilege(Privilege::CapSysAdmin)));
        }
    }

    #[test]
    fn pidfd_nstype_rules() {
        let (e, r, f, fix) = err(SetnsFd::PIDFD, C::empty(), &ONE, &P);
        assert_eq!((e, r, f), (Errno::EINVAL, Rule::SetnsBadNstype, C::empty()));
        // Which namespaces to join is the caller's choice: advice, not re-validated.
        assert_eq!(
            fix,
            Fix::one(Change::ValidValue(Field::Nstype), Reach::Unknown)
        );
        let (_, r, f, _) = err(SetnsFd::PIDFD, C::NEWNET | C::VM, &ONE, &P);
        assert_eq!((r, f), (Rule::SetnsBadNstype, C::VM));
        let bare = P.with_namespaces_configured(C::NEWNS);
        let (_, r, f, _) = err(SetnsFd::PIDFD, C::NEWNS | C::NEWNET, &ONE, &bare);
        assert_eq!((r, f), (Rule::SetnsNamespaceNotConfigured, C::NEWNET));
        let hidden = SetnsFd::Pidfd {
            ptrace_readable: false,
        };
        let (e, r, ..) = err(hidden, C::NEWNET, &ONE, &P);
        assert_eq!((e, r), (Errno::EPERM, Rule::SetnsTargetNotPtraceable));
        // The install order: user, mnt, ..., time.
        let all = SETNS_FLAGS.difference(C::NEWUSER);
        assert!(validate_setns(SetnsFd::PIDFD, all.bits(), &ONE, &P).is_ok());
        assert_eq!(
            err(SetnsFd::PIDFD, all, &MANY, &P).1,
            Rule::SetnsTimeMultithreaded
        );
        assert_eq!(
            err(SetnsFd::PIDFD, all, &ONE, &P.unprivileged()).1,
            Rule::SetnsMntWithoutCap
        );
    }

    #[test]
    fn no_input_panics() {
        let fds = [
            SetnsFd::Closed,
            SetnsFd::Other,
            SetnsFd::PIDFD,
            SetnsFd::Pidfd {
                ptrace_readable: false,
            },
            SetnsFd::OwnNamespace(C::NEWNET),
            SetnsFd::OwnNamespace(C::VM),
        ];
        for fd in fds {
            for bit in 0..64 {
                for c in [ONE, MANY] {
                    let _ = validate_setns(fd, 1 << bit, &c, &P);
                    let _ = validate_setns(fd, !(1u64 << bit), &c, &P.unprivileged());
                }
            }
        }
    }
}
