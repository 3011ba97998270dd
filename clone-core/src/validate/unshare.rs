//! `unshare(flags)`: Linux's answer in `ksys_unshare`'s order (`kernel/fork.c`), with the
//! flags it implies and the namespaces only later children enter.
//!
//! 1. the implied flags: `CLONE_NEWUSER` adds `CLONE_THREAD | CLONE_FS`, then `CLONE_VM` adds
//!    `CLONE_SIGHAND`, `CLONE_SIGHAND` adds `CLONE_THREAD`, (7.1+) [`UNSHARE_EMPTY_MNTNS`]
//!    adds `CLONE_NEWNS`, `CLONE_NEWNS` adds `CLONE_FS`;
//! 2. `check_unshare_flags`: bits outside the unshare mask ([`unshare_flags`]; **EINVAL**);
//!    `CLONE_THREAD`, `CLONE_SIGHAND` or `CLONE_VM` with other threads in the group,
//!    `CLONE_SIGHAND` or `CLONE_VM` with shared signal handlers, `CLONE_VM` with a shared
//!    `mm` (**EINVAL**);
//! 3. `unshare_fs`, `unshare_fd`: only ENOMEM/EMFILE (runtime, not modelled);
//! 4. `unshare_userns` → `create_user_ns`: not configured (**EINVAL**), a parent deeper than
//!    32 (**ENOSPC**), chroot / unmapped ids / LSM (**EPERM**, [`Policy::user_ns_allowed`]);
//! 5. `unshare_nsproxy_namespaces`: `CAP_SYS_ADMIN` in the (possibly new) user namespace
//!    (**EPERM**), then `create_new_namespaces` in its order: mnt, uts, ipc, pid, cgroup,
//!    net, time (not configured: **EINVAL**; `CLONE_NEWPID` after `unshare(CLONE_NEWPID)`:
//!    **EINVAL**; a pid namespace deeper than 32: **ENOSPC**).
//!
//! Unlike `clone`, `unshare` has no `CLONE_NEWIPC | CLONE_SYSVSEM` rule and no
//! `CLONE_NEWNS | CLONE_FS` rule. Debian's `kernel.unprivileged_userns_clone` sysctl (a
//! distribution patch, absent upstream) is not modelled.

use super::CallerTask;
use super::caller::search_fix;
use crate::error::{Change, CloneError, Fix, Privilege, Rule};
use crate::flags::{CloneFlags as C, NAMESPACE_FLAGS};
use crate::policy::{LinuxVersion, Policy};

/// `UNSHARE_EMPTY_MNTNS` (7.1+): enter a new, empty mount namespace. It reuses
/// `CLONE_PARENT_SETTID`'s bit (0x0010_0000), which means nothing to `unshare`, and implies
/// `CLONE_NEWNS` (`ksys_unshare`); `clone3` has its own bit, [`C::EMPTY_MNTNS`].
pub const UNSHARE_EMPTY_MNTNS: C = C::PARENT_SETTID;

/// The flags `check_unshare_flags` accepts on every version (7.1 adds
/// [`UNSHARE_EMPTY_MNTNS`]: [`unshare_flags`]).
pub const UNSHARE_FLAGS: C = C::THREAD
    .union(C::FS)
    .union(C::NEWNS)
    .union(C::SIGHAND)
    .union(C::VM)
    .union(C::FILES)
    .union(C::SYSVSEM)
    .union(NAMESPACE_FLAGS)
    .union(C::NEWUSER);

/// The flags `check_unshare_flags` accepts on `linux`: [`UNSHARE_FLAGS`], and
/// [`UNSHARE_EMPTY_MNTNS`] since 7.1 ([`LinuxVersion::has_empty_mntns`]).
#[must_use]
pub const fn unshare_flags(linux: LinuxVersion) -> C {
    if linux.has_empty_mntns() {
        UNSHARE_FLAGS.union(UNSHARE_EMPTY_MNTNS)
    } else {
        UNSHARE_FLAGS
    }
}

/// `create_user_ns` refuses a parent user namespace deeper than this (**ENOSPC**).
pub const MAX_USER_NS_PARENT_LEVEL: u32 = 32;

/// An accepted `unshare`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelUnshare {
    /// The flags as passed (truncated to the arch's register width).
    pub requested: C,
    /// The flags `ksys_unshare` acts on, implied ones included.
    pub flags: C,
    /// Namespaces the caller stays outside of and only its later children enter:
    /// `CLONE_NEWPID` (`pid_ns_for_children`) and `CLONE_NEWTIME` (`time_ns_for_children`).
    pub for_children: C,
}

impl KernelUnshare {
    /// The caller's [`Policy`] for its later `clone` calls: after `CLONE_NEWPID` its children
    /// go to the new pid namespace ([`Policy::pid_ns_for_children_differs`]).
    #[must_use]
    pub const fn policy_after(&self, policy: &Policy) -> Policy {
        if self.flags.contains(C::NEWPID) {
            policy.with_pid_ns_for_children_differs(true)
        } else {
            *policy
        }
    }
}

/// Validates `unshare(flags)` for a caller in `caller`'s situation.
///
/// `flags` is the raw register; on 32-bit arches only its low 32 bits reach the kernel.
pub fn validate_unshare(
    flags: u64,
    caller: &CallerTask,
    policy: &Policy,
) -> Result<KernelUnshare, CloneError> {
    let requested = flags & policy.arch.register_mask();
    match check(requested, caller, policy) {
        Ok(k) => Ok(k),
        Err((rule, involved)) => Err(CloneError {
            errno: rule.errno(),
            rule,
            flags: involved,
            fix: best_fix(rule, involved, requested, caller, policy),
        }),
    }
}

/// The flags `ksys_unshare` adds before it checks anything.
///
/// [`UNSHARE_EMPTY_MNTNS`]'s `CLONE_NEWNS` (and so `CLONE_FS`) is added on every version:
/// before 7.1 the bit is unknown and refused before anything acts on the implied flags.
#[must_use]
pub const fn implied_flags(requested: C) -> C {
    let mut f = requested;
    if f.contains(C::NEWUSER) {
        f = f.union(C::THREAD).union(C::FS);
    }
    if f.contains(C::VM) {
        f = f.union(C::SIGHAND);
    }
    if f.contains(C::SIGHAND) {
        f = f.union(C::THREAD);
    }
    if f.contains(UNSHARE_EMPTY_MNTNS) {
        f = f.union(C::NEWNS);
    }
    if f.contains(C::NEWNS) {
        f = f.union(C::FS);
    }
    f
}

type Failure = (Rule, C);

fn check(requested: u64, caller: &CallerTask, policy: &Policy) -> Result<KernelUnshare, Failure> {
    let asked = C::from_bits_retain(requested);
    let f = implied_flags(asked);

    // check_unshare_flags.
    let unknown = f.difference(unshare_flags(policy.linux));
    if !unknown.is_empty() {
        return Err((Rule::UnshareUnknownFlags, unknown));
    }
    if f.intersects(C::THREAD | C::SIGHAND | C::VM) && caller.other_threads {
        // Name what the caller asked for that led here (NEWUSER implies THREAD).
        let cause = asked & (C::THREAD | C::SIGHAND | C::VM | C::NEWUSER);
        return Err((Rule::UnshareThreadGroupShared, cause));
    }
    if f.intersects(C::SIGHAND | C::VM) && caller.sighand_shared {
        return Err((Rule::UnshareSighandShared, asked & (C::SIGHAND | C::VM)));
    }
    if f.contains(C::VM) && caller.mm_shared {
        return Err((Rule::UnshareVmShared, C::VM));
    }

    // unshare_userns -> create_user_ns.
    let newuser = f.contains(C::NEWUSER);
    if newuser {
        if !policy.namespaces_configured.contains(C::NEWUSER) {
            return Err((Rule::NamespaceNotConfigured, C::NEWUSER));
        }
        if caller.user_ns_level > MAX_USER_NS_PARENT_LEVEL {
            return Err((Rule::UserNsTooDeep, C::NEWUSER));
        }
        if !policy.user_ns_allowed {
            return Err((Rule::NewuserNotPermitted, C::NEWUSER));
        }
    }

    // unshare_nsproxy_namespaces.
    let ns = f & NAMESPACE_FLAGS;
    if !ns.is_empty() {
        // With CLONE_NEWUSER the check runs in the new user namespace, which the caller owns.
        if !newuser && !policy.cap_sys_admin {
            return Err((Rule::UnshareWithoutCapSysAdmin, ns));
        }
        super::create_new_namespaces(ns, policy).map_err(|f| (f.rule, f.flags))?;
    }

    Ok(KernelUnshare {
        requested: asked,
        flags: f,
        for_children: f & (C::NEWPID | C::NEWTIME),
    })
}

/// The fix: candidate changes per failed rule, searched along the chain of failures.
fn best_fix(rule: Rule, involved: C, requested: u64, caller: &CallerTask, policy: &Policy) -> Fix {
    use Change::{AddFlags, NeedsPrivilege, RemoveFlags};
    let candidates = |(rule, involved): Failure| {
        let asked = C::from_bits_retain(requested);
        match rule {
            Rule::UnshareUnknownFlags
            | Rule::UnshareThreadGroupShared
            | Rule::UnshareSighandShared
            | Rule::UnshareVmShared
            | Rule::UserNsTooDeep
            | Rule::NewuserNotPermitted
            | Rule::NewpidAfterUnsharePid
            | Rule::PidNsTooDeep => [Some(RemoveFlags(involved)), None, None],
            Rule::NamespaceNotConfigured => {
                let all = NAMESPACE_FLAGS | C::NEWUSER;
                [
                    Some(RemoveFlags(asked & all & !policy.namespaces_configured)),
                    None,
                    None,
                ]
            }
            Rule::UnshareWithoutCapSysAdmin => [
                Some(AddFlags(C::NEWUSER)),
                Some(NeedsPrivilege(Privilege::CapSysAdmin)),
                Some(RemoveFlags(involved & asked)),
            ],
            _ => [None; 3],
        }
    };
    search_fix((rule, involved), candidates, |fix| {
        let (mut r, mut p) = (requested, *policy);
        for c in fix.changes() {
            match c {
                AddFlags(x) => r |= x.bits(),
                RemoveFlags(x) => r &= !x.bits(),
                NeedsPrivilege(Privilege::CapSysAdmin) => p = p.with_cap_sys_admin(true),
                _ => return None,
            }
        }
        Some(check(r, caller, &p).map(|_| ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(c: Change) -> Fix {
        c.into()
    }
    use crate::policy::LinuxVersion;
    use crate::{Arch, Errno};

    const P: Policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
    const ONE: CallerTask = CallerTask::SINGLE;
    const MANY: CallerTask = CallerTask::threads(3);

    fn rule(flags: C, caller: &CallerTask, p: &Policy) -> (Errno, Rule, C, Fix) {
        let e = validate_unshare(flags.bits(), caller, p).unwrap_err();
        (e.errno, e.rule, e.flags, e.fix)
    }

    #[test]
    fn implied_flags_chain() {
        assert_eq!(implied_flags(C::NEWUSER), C::NEWUSER | C::THREAD | C::FS);
        assert_eq!(implied_flags(C::VM), C::VM | C::SIGHAND | C::THREAD);
        assert_eq!(implied_flags(C::NEWNS), C::NEWNS | C::FS);
        let k = validate_unshare((C::NEWPID | C::NEWTIME | C::NEWNS).bits(), &ONE, &P).unwrap();
        assert_eq!(k.for_children, C::NEWPID | C::NEWTIME);
        assert!(k.policy_after(&P).pid_ns_for_children_differs);
    }

    #[test]
    fn unknown_bits_first() {
        // CLONE_PARENT is a clone flag but not an unshare one; a high bit on x86_64 too.
        let (e, r, f, fix) = rule(C::PARENT | C::VM, &MANY, &P);
        assert_eq!(
            (e, r, f),
            (Errno::EINVAL, Rule::UnshareUnknownFlags, C::PARENT)
        );
        // Removing PARENT alone leaves VM, which the threads refuse: both go.
        assert_eq!(fix, fx(Change::RemoveFlags(C::PARENT | C::VM)));
        let e = validate_unshare(1 << 32, &ONE, &P).unwrap_err();
        assert_eq!(e.rule, Rule::UnshareUnknownFlags);
        // On i386 the high half never reaches the kernel.
        assert!(validate_unshare(1 << 32, &ONE, &P.with_arch(Arch::I386)).is_ok());
        // The exit-signal byte is not special for unshare.
        assert_eq!(
            rule(C::from_bits_retain(17), &ONE, &P).1,
            Rule::UnshareUnknownFlags
        );
    }

    #[test]
    fn empty_mntns_from_7_1() {
        // Before 7.1 the bit is CLONE_PARENT_SETTID, no unshare flag.
        for v in [
            LinuxVersion::V6_1,
            LinuxVersion::V6_18,
            LinuxVersion::new(7, 0),
        ] {
            let p = Policy::linux(Arch::X86_64, v);
            let (e, r, f, _) = rule(UNSHARE_EMPTY_MNTNS, &ONE, &p);
            assert_eq!(
                (e, r, f),
                (
                    Errno::EINVAL,
                    Rule::UnshareUnknownFlags,
                    UNSHARE_EMPTY_MNTNS
                ),
                "{v}"
            );
        }
        // Since 7.1 it implies CLONE_NEWNS and so CLONE_FS, with CLONE_NEWNS's rules.
        let p = Policy::linux(Arch::X86_64, LinuxVersion::new(7, 2));
        let k = validate_unshare(UNSHARE_EMPTY_MNTNS.bits(), &MANY, &p).unwrap();
        assert_eq!(k.flags, UNSHARE_EMPTY_MNTNS | C::NEWNS | C::FS);
        let (e, r, f, fix) = rule(UNSHARE_EMPTY_MNTNS, &ONE, &p.unprivileged());
        assert_eq!(
            (e, r, f),
            (Errno::EPERM, Rule::UnshareWithoutCapSysAdmin, C::NEWNS)
        );
        assert_eq!(fix, fx(Change::AddFlags(C::NEWUSER)));
        let k = validate_unshare(
            (UNSHARE_EMPTY_MNTNS | C::NEWUSER).bits(),
            &ONE,
            &p.unprivileged(),
        );
        assert!(k.is_ok());
        // Still no clone flag: CLONE_PARENT and the exit-signal byte stay unknown.
        assert_eq!(
            rule(UNSHARE_EMPTY_MNTNS | C::PARENT, &ONE, &p).1,
            Rule::UnshareUnknownFlags
        );
    }

    #[test]
    fn threads_refuse_thread_sighand_vm_and_newuser() {
        for f in [C::THREAD, C::SIGHAND, C::VM, C::NEWUSER] {
            let (e, r, inv, fix) = rule(f, &MANY, &P);
            assert_eq!(
                (e, r, inv),
                (Errno::EINVAL, Rule::UnshareThreadGroupShared, f)
            );
            assert_eq!(fix, fx(Change::RemoveFlags(f)));
            assert!(validate_unshare(f.bits(), &ONE, &P).is_ok(), "{f}");
        }
        // FS, FILES, NEWNS (implies FS only) and the other namespaces are fine with threads.
        for f in [
            C::FS,
            C::FILES,
            C::SYSVSEM,
            C::NEWNS,
            C::NEWNET,
            C::NEWPID,
            C::NEWTIME,
        ] {
            assert!(validate_unshare(f.bits(), &MANY, &P).is_ok(), "{f}");
        }
    }

    #[test]
    fn sighand_and_mm_sharing_outside_the_thread_group() {
        let sighand = CallerTask {
            sighand_shared: true,
            mm_shared: true,
            ..ONE
        };
        assert_eq!(rule(C::SIGHAND, &sighand, &P).1, Rule::UnshareSighandShared);
        assert_eq!(rule(C::VM, &sighand, &P).1, Rule::UnshareSighandShared);
        assert!(validate_unshare(C::THREAD.bits(), &sighand, &P).is_ok());
        let vm = CallerTask {
            mm_shared: true,
            ..ONE
        };
        assert_eq!(rule(C::VM, &vm, &P).1, Rule::UnshareVmShared);
        assert!(validate_unshare(C::SIGHAND.bits(), &vm, &P).is_ok());
    }

    #[test]
    fn userns_rules_then_capability() {
        let chroot = P.with_user_ns_allowed(false);
        assert_eq!(rule(C::NEWUSER, &ONE, &chroot).1, Rule::NewuserNotPermitted);
        let deep = ONE.with_user_ns_level(33);
        let (e, r, ..) = rule(C::NEWUSER, &deep, &P);
        assert_eq!((e, r), (Errno::ENOSPC, Rule::UserNsTooDeep));
        assert!(validate_unshare(C::NEWUSER.bits(), &ONE.with_user_ns_level(32), &P).is_ok());
        // Unprivileged: a namespace alone is EPERM, with NEWUSER it is allowed.
        let unpriv = P.unprivileged();
        let (e, r, f, fix) = rule(C::NEWNET, &ONE, &unpriv);
        assert_eq!(
            (e, r, f),
            (Errno::EPERM, Rule::UnshareWithoutCapSysAdmin, C::NEWNET)
        );
        assert_eq!(fix, fx(Change::AddFlags(C::NEWUSER)));
        // NEWNS implies FS only; the capability check names the namespace.
        assert_eq!(rule(C::NEWNS, &ONE, &unpriv).2, C::NEWNS);
        assert!(validate_unshare((C::NEWUSER | C::NEWNET).bits(), &ONE, &unpriv).is_ok());
        // With threads, NEWUSER is refused before any capability question.
        let (_, r, ..) = rule(C::NEWUSER | C::NEWNET, &MANY, &unpriv);
        assert_eq!(r, Rule::UnshareThreadGroupShared);
        // ... so the capability fix is privilege, not NEWUSER.
        assert_eq!(
            rule(C::NEWNET, &MANY, &unpriv).3,
            fx(Change::NeedsPrivilege(Privilege::CapSysAdmin))
        );
        // chroot + NEWUSER|NEWNET: create_user_ns fails first.
        assert_eq!(
            rule(C::NEWUSER | C::NEWNET, &ONE, &chroot.unprivileged()).1,
            Rule::NewuserNotPermitted
        );
    }

    #[test]
    fn pid_namespace_rules_and_configuration() {
        let after = P.with_pid_ns_for_children_differs(true);
        assert_eq!(rule(C::NEWPID, &ONE, &after).1, Rule::NewpidAfterUnsharePid);
        // No clone-style NEWIPC|SYSVSEM rule.
        assert!(validate_unshare((C::NEWIPC | C::SYSVSEM).bits(), &ONE, &P).is_ok());
        let deep = P.with_pid_ns_level(32);
        assert_eq!(rule(C::NEWPID, &ONE, &deep).0, Errno::ENOSPC);
        let bare = P.with_namespaces_configured(C::NEWNS);
        let (e, r, f, fix) = rule(C::NEWNS | C::NEWNET, &ONE, &bare);
        assert_eq!(
            (e, r, f),
            (Errno::EINVAL, Rule::NamespaceNotConfigured, C::NEWNET)
        );
        assert_eq!(fix, fx(Change::RemoveFlags(C::NEWNET)));
        assert_eq!(
            rule(C::NEWUSER, &ONE, &bare).1,
            Rule::NamespaceNotConfigured
        );
    }

    #[test]
    fn no_input_panics_on_any_arch() {
        let callers = [
            ONE,
            MANY,
            CallerTask {
                sighand_shared: true,
                ..ONE
            },
        ];
        for arch in Arch::ALL {
            let p = Policy::linux(arch, LinuxVersion::V6_18);
            for bit in 0..64 {
                for c in &callers {
                    let _ = validate_unshare(1 << bit, c, &p);
                    let _ = validate_unshare(!(1u64 << bit), c, &p.unprivileged());
                }
            }
        }
    }
}
