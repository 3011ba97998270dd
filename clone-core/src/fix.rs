//! The fix search: for a refusal found by [`crate::validate`], the candidate changes to the
//! request (smallest first) and the one that passes when re-validated.

use crate::error::{Field, Fix, Privilege, Rule};
use crate::flags::{CSIGNAL, CloneFlags, LEGACY_FLAGS};
use crate::policy::Policy;
use crate::validate::{
    CLONE_ARGS_SIZE_VER2, Failure, MAX_PID_NS_LEVEL, Request, UserMemory, Via, check, fl,
};

/// Up to four candidate fixes for a failure, smallest first.
fn candidates(fl_: &Failure, req: &Request, policy: &Policy) -> [Fix; 4] {
    use CloneFlags as C;
    let f = fl(req.flags);
    let n = Fix::None;
    let legacy = !matches!(req.via, Via::Clone3 { .. });
    match fl_.rule {
        Rule::SetTidSizeAboveMax | Rule::SetTidSizeAboveNsLevel => {
            let fresh = f.contains(C::NEWPID) || policy.pid_ns_for_children_differs;
            let max = u64::from(policy.pid_ns_level) + u64::from(fresh) + 1;
            [
                Fix::SetField {
                    field: Field::SetTidSize,
                    value: max.min(MAX_PID_NS_LEVEL),
                },
                n,
                n,
                n,
            ]
        }
        Rule::SetTidNullWithSize => [
            Fix::SetField {
                field: Field::SetTidSize,
                value: 0,
            },
            n,
            n,
            n,
        ],
        Rule::SetTidSizeZeroWithPointer => [
            Fix::SetField {
                field: Field::SetTid,
                value: 0,
            },
            n,
            n,
            n,
        ],
        Rule::Clone3BadExitSignal => [
            Fix::SetExitSignal(u64::from(policy.sigchld())),
            Fix::SetExitSignal(0),
            n,
            n,
        ],
        Rule::IntoCgroupBadFd => [Fix::RemoveFlags(C::INTO_CGROUP), n, n, n],
        Rule::IntoCgroupStructTooSmall => [
            Fix::SetField {
                field: Field::Size,
                value: CLONE_ARGS_SIZE_VER2,
            },
            n,
            n,
            n,
        ],
        Rule::SetTidFault => [Fix::ValidValue(Field::SetTid), n, n, n],
        Rule::Clone3UnknownFlags => [Fix::RemoveFlags(fl_.flags), n, n, n],
        Rule::Clone3DetachedOrSignalBits => {
            let sig = (fl_.flags.bits() & CSIGNAL) as u8;
            let first = if sig != 0 && !fl_.flags.contains(C::DETACHED) && req.exit_signal == 0 {
                Fix::MoveSignal(sig)
            } else {
                n
            };
            [first, Fix::RemoveFlags(fl_.flags), n, n]
        }
        Rule::SighandWithClearSighand => [
            Fix::RemoveFlags(C::CLEAR_SIGHAND),
            Fix::RemoveFlags(C::SIGHAND),
            n,
            n,
        ],
        Rule::ThreadOrParentWithExitSignal => [Fix::SetExitSignal(0), n, n, n],
        Rule::Clone3StackWithoutSize => [Fix::ValidValue(Field::StackSize), n, n, n],
        Rule::Clone3SizeWithoutStack => [
            Fix::SetField {
                field: Field::StackSize,
                value: 0,
            },
            Fix::ValidValue(Field::Stack),
            n,
            n,
        ],
        Rule::StackNotAccessible => [Fix::ValidValue(Field::Stack), n, n, n],
        Rule::PidfdWithParentSettidSameSlot => [
            Fix::RemoveFlags(C::PARENT_SETTID),
            if legacy {
                Fix::RemoveFlags(C::PIDFD)
            } else {
                Fix::ValidValue(Field::Pidfd)
            },
            n,
            n,
        ],
        Rule::NewnsWithFs => [Fix::RemoveFlags(C::FS), Fix::RemoveFlags(C::NEWNS), n, n],
        Rule::NewuserWithFs => [Fix::RemoveFlags(C::FS), Fix::RemoveFlags(C::NEWUSER), n, n],
        Rule::ThreadWithoutSighand => [
            Fix::AddFlags(C::SIGHAND),
            Fix::AddFlags(C::SIGHAND | C::VM),
            Fix::RemoveFlags(C::THREAD),
            n,
        ],
        Rule::SighandWithoutVm => [Fix::AddFlags(C::VM), Fix::RemoveFlags(C::SIGHAND), n, n],
        Rule::ParentFromInit | Rule::ParentFromAutoreap => [Fix::RemoveFlags(C::PARENT), n, n, n],
        Rule::ThreadWithNewPidOrUser => [
            Fix::RemoveFlags(fl_.flags.difference(C::THREAD)),
            Fix::RemoveFlags(C::THREAD),
            n,
            n,
        ],
        Rule::ThreadAcrossPidNs => [Fix::RemoveFlags(C::THREAD), n, n, n],
        Rule::PidfdWithDetached => [Fix::RemoveFlags(C::DETACHED), n, n, n],
        Rule::PidfdWithThread => [
            Fix::RemoveFlags(C::PIDFD),
            Fix::RemoveFlags(C::THREAD),
            n,
            n,
        ],
        Rule::AutoreapWithThread | Rule::AutoreapWithParent => {
            [Fix::RemoveFlags(C::AUTOREAP), n, n, n]
        }
        Rule::AutoreapWithExitSignal => {
            [Fix::SetExitSignal(0), Fix::RemoveFlags(C::AUTOREAP), n, n]
        }
        Rule::NnpWithThread => [Fix::RemoveFlags(C::NNP), n, n, n],
        Rule::AutokillWithoutPidfd => [
            Fix::AddFlags(C::PIDFD),
            Fix::RemoveFlags(C::PIDFD_AUTOKILL),
            n,
            n,
        ],
        Rule::AutokillWithoutAutoreap => [
            Fix::AddFlags(C::AUTOREAP),
            Fix::RemoveFlags(C::PIDFD_AUTOKILL),
            n,
            n,
        ],
        Rule::AutokillWithThread => [Fix::RemoveFlags(C::PIDFD_AUTOKILL), n, n, n],
        Rule::AutokillNeedsPrivilege => [
            Fix::AddFlags(C::NNP),
            Fix::NeedsPrivilege(Privilege::CapSysAdmin),
            n,
            n,
        ],
        Rule::NewuserNotPermitted => [Fix::RemoveFlags(C::NEWUSER), n, n, n],
        Rule::NamespaceWithoutCapSysAdmin => [
            Fix::AddFlags(C::NEWUSER),
            Fix::NeedsPrivilege(Privilege::CapSysAdmin),
            Fix::RemoveFlags(fl_.flags),
            n,
        ],
        Rule::NewipcWithSysvsem => [
            Fix::RemoveFlags(C::SYSVSEM),
            Fix::RemoveFlags(C::NEWIPC),
            n,
            n,
        ],
        Rule::NamespaceNotConfigured => {
            let all = crate::flags::NAMESPACE_FLAGS | C::NEWUSER;
            [
                Fix::RemoveFlags(f & all & !policy.namespaces_configured),
                n,
                n,
                n,
            ]
        }
        Rule::NewpidAfterUnsharePid | Rule::PidNsTooDeep => [Fix::RemoveFlags(fl_.flags), n, n, n],
        Rule::TlsOutOfRange => [Fix::ValidValue(Field::Tls), n, n, n],
        Rule::SetTidOutOfRange | Rule::SetTidNoReaper | Rule::SetTidInUse => {
            [Fix::ValidValue(Field::SetTid), n, n, n]
        }
        Rule::SetTidNotPermitted => [
            Fix::NeedsPrivilege(Privilege::CapCheckpointRestore),
            n,
            n,
            n,
        ],
        Rule::PidfdWriteFault => [
            Fix::ValidValue(if legacy {
                Field::ParentTid
            } else {
                Field::Pidfd
            }),
            n,
            n,
            n,
        ],
        _ => [n, n, n, n],
    }
}

/// Applies a fix to a copy of the request and policy, if it can be re-validated.
fn apply(fix: Fix, req: &Request, policy: &Policy) -> Option<(Request, Policy)> {
    let mut r = *req;
    let mut p = *policy;
    let legacy = !matches!(req.via, Via::Clone3 { .. });
    match fix {
        Fix::AddFlags(f) => {
            if legacy && f.bits() & !(LEGACY_FLAGS & !CSIGNAL) != 0 {
                return None;
            }
            r.flags |= f.bits();
        }
        Fix::RemoveFlags(f) => r.flags &= !f.bits(),
        Fix::MoveSignal(s) => {
            r.flags &= !(CSIGNAL & !CloneFlags::NEWTIME.bits());
            r.exit_signal = u64::from(s);
        }
        Fix::SetExitSignal(s) => r.exit_signal = s,
        Fix::SetField {
            field: Field::StackSize,
            value,
        } => r.stack_size = value,
        Fix::SetField {
            field: Field::SetTid,
            value,
        } => r.set_tid = value,
        Fix::SetField {
            field: Field::SetTidSize,
            value,
        } => r.set_tid_size = value,
        Fix::NeedsPrivilege(Privilege::CapSysAdmin) => p.cap_sys_admin = true,
        Fix::NeedsPrivilege(Privilege::CapCheckpointRestore) => p.cap_checkpoint_restore = true,
        _ => return None,
    }
    Some((r, p))
}

pub(crate) fn best_fix(
    failure: &Failure,
    req: &Request,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Fix {
    let cands = candidates(failure, req, policy);
    let mut past_rule = None;
    for fix in cands {
        if fix == Fix::None {
            continue;
        }
        let Some((r, p)) = apply(fix, req, policy) else {
            // Not re-validatable: take it if nothing better was found so far.
            return past_rule.unwrap_or(fix);
        };
        match check(&r, mem, &p) {
            Ok(_) => return fix,
            Err(e) if e.rule != failure.rule && past_rule.is_none() => past_rule = Some(fix),
            Err(_) => {}
        }
    }
    past_rule.unwrap_or(cands[0])
}
