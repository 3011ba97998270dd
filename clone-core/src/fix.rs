//! The fix search: for a refusal found by [`crate::validate`], the smallest set of changes to
//! the call that passes the *whole* validation under the same policy.
//!
//! Each failed rule has up to four candidate [`Change`]s, in order of preference (what the
//! caller most likely meant first, giving up the feature last). A candidate is applied and
//! the call re-validated; if another rule (earlier or later in Linux's order) then fails,
//! that rule's candidates are tried on top, depth first, up to [`MAX_STEPS`] steps. A change
//! that undoes an earlier one is never combined with it, and flag changes merge (a chain of
//! removals is one change). For each of the failed rule's candidates in turn, the search
//! first looks for any fix that starts with it, then, if that fix has more than one change,
//! for one with fewer (exhaustively up to [`SMALL`] changes). The first candidate with a fix
//! gives it ([`Reach::Arguments`], or [`Reach::Outside`] when it needs a privilege).
//! `ValidValue` changes are re-validated through [`Assumed`], which makes the named memory
//! behave as a valid value would. The work is bounded ([`BUDGET_ANY`], [`BUDGET_FEWER`]
//! re-validations per candidate); if nothing passes within it, the first candidate is
//! returned as unverified advice ([`Reach::Unknown`]). Nothing allocates.

use crate::error::{Change, Field, Fix, Privilege, Reach, Rule};
use crate::flags::{CSIGNAL, CloneFlags, LEGACY_FLAGS};
use crate::policy::Policy;
use crate::validate::{
    CLONE_ARGS_SIZE_VER2, Failure, Fault, MAX_PID_NS_LEVEL, Request, UserMemory, Via,
    check_request, fl,
};

/// The longest chain of failures one fix follows (flag changes along it merge, so a chain of
/// many steps may still be one `RemoveFlags`).
const MAX_STEPS: usize = 32;

/// Up to this many changes, the search finds the fewest.
const SMALL: usize = 3;

/// The most re-validations (about 50 ns each) for each candidate of the failed rule: to find
/// any fix starting with it, then to find one with fewer changes. Per candidate, so a dead
/// end below one leaves the next its chance.
const BUDGET_ANY: u32 = 256;
const BUDGET_FEWER: u32 = 128;

/// What re-validation may take as valid after `ValidValue` changes.
#[derive(Copy, Clone)]
struct Assume {
    /// `access_ok(addr, len)` passes for exactly this range (the stack).
    stack: Option<(u64, u64)>,
    /// Four bytes at this address are writable (the pidfd slot).
    writable: Option<u64>,
    /// `set_tid` points at a readable array of valid pids for the request as it is when
    /// re-validated (so later changes, a new pid namespace given up, are reflected).
    set_tid: bool,
}

const NOTHING: Assume = Assume {
    stack: None,
    writable: None,
    set_tid: false,
};

/// The caller's memory with the assumptions of the changes made so far, for `req`.
struct Assumed<'a> {
    mem: &'a dyn UserMemory,
    assume: &'a Assume,
    req: &'a Request,
    policy: &'a Policy,
}

impl Assumed<'_> {
    /// Exactly the range `copy_clone_args_from_user` reads: a stack (or anything else) at the
    /// same address with another length is not vouched for.
    fn is_set_tid(&self, addr: u64, len: u64) -> bool {
        self.assume.set_tid
            && addr == self.req.set_tid
            && len <= 128
            && len == self.req.set_tid_size.wrapping_mul(4)
    }
}

impl UserMemory for Assumed<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        if self.is_set_tid(addr, out.len() as u64) {
            let tids = valid_set_tid(self.req, self.policy);
            for (o, t) in out.iter_mut().zip(tids) {
                *o = t;
            }
            return Ok(());
        }
        self.mem.read(addr, out)
    }
    fn writable(&self, addr: u64, len: u64) -> bool {
        self.assume.writable == Some(addr) || self.mem.writable(addr, len)
    }
    fn access_ok(&self, addr: u64, len: u64, policy: &Policy) -> bool {
        self.assume.stack == Some((addr, len))
            || self.is_set_tid(addr, len)
            || self.mem.access_ok(addr, len, policy)
    }
}

/// A request on its way to a fix: the changes so far and what they changed.
#[derive(Copy, Clone)]
struct Trial {
    req: Request,
    policy: Policy,
    assume: Assume,
    fix: Fix,
}

type Candidates = [Option<Change>; 4];

#[inline(never)]
fn c<const N: usize>(xs: [Change; N]) -> Candidates {
    let mut out = [None; 4];
    for (o, x) in out.iter_mut().zip(xs) {
        *o = Some(x);
    }
    out
}

/// Up to four candidate changes for a failure, in order of preference.
fn candidates(fl_: &Failure, req: &Request, policy: &Policy) -> Candidates {
    use Change::*;
    use CloneFlags as C;
    let f = fl(req.flags);
    let legacy = !matches!(req.via, Via::Clone3 { .. });
    let set = |field, value| SetField { field, value };
    // The last resort for set_tid: ask for no pids (set_tid then needs clearing as well).
    let no_set_tid = set(Field::SetTidSize, 0);
    match fl_.rule {
        Rule::SetTidSizeAboveMax | Rule::SetTidSizeAboveNsLevel => {
            let fresh = f.contains(C::NEWPID) || policy.pid_ns_for_children_differs;
            let max = u64::from(policy.pid_ns_level) + u64::from(fresh) + 1;
            c([
                set(Field::SetTidSize, max.min(MAX_PID_NS_LEVEL)),
                no_set_tid,
            ])
        }
        Rule::SetTidNullWithSize => c([set(Field::SetTidSize, 0)]),
        Rule::SetTidSizeZeroWithPointer => c([set(Field::SetTid, 0)]),
        Rule::Clone3BadExitSignal | Rule::InvalidExitSignal => {
            c([SetExitSignal(u64::from(policy.sigchld())), SetExitSignal(0)])
        }
        Rule::IntoCgroupBadFd => c([ValidValue(Field::Cgroup), RemoveFlags(C::INTO_CGROUP)]),
        Rule::IntoCgroupStructTooSmall => c([
            set(Field::Size, CLONE_ARGS_SIZE_VER2),
            RemoveFlags(C::INTO_CGROUP),
        ]),
        Rule::SetTidFault => c([ValidValue(Field::SetTid), no_set_tid]),
        Rule::Clone3UnknownFlags => c([RemoveFlags(fl_.flags)]),
        Rule::Clone3DetachedOrSignalBits => {
            let sig = (fl_.flags.bits() & CSIGNAL) as u8;
            let movable = sig != 0
                && u64::from(sig) <= policy.arch.nsig()
                && !fl_.flags.contains(C::DETACHED)
                && req.exit_signal == 0;
            if movable {
                c([MoveSignal(sig), RemoveFlags(fl_.flags)])
            } else {
                c([RemoveFlags(fl_.flags)])
            }
        }
        Rule::SighandWithClearSighand => {
            c([RemoveFlags(C::CLEAR_SIGHAND), RemoveFlags(C::SIGHAND)])
        }
        Rule::ThreadOrParentWithExitSignal => c([SetExitSignal(0)]),
        Rule::Clone3StackWithoutSize => c([ValidValue(Field::StackSize)]),
        Rule::Clone3SizeWithoutStack => c([set(Field::StackSize, 0), ValidValue(Field::Stack)]),
        Rule::StackNotAccessible => c([ValidValue(Field::Stack)]),
        Rule::PidfdWithParentSettidSameSlot => c([
            RemoveFlags(C::PARENT_SETTID),
            if legacy {
                RemoveFlags(C::PIDFD)
            } else {
                ValidValue(Field::Pidfd)
            },
        ]),
        Rule::NewnsWithFs => c([RemoveFlags(C::FS), RemoveFlags(C::NEWNS)]),
        Rule::NewuserWithFs => c([RemoveFlags(C::FS), RemoveFlags(C::NEWUSER)]),
        Rule::ThreadWithoutSighand => c([
            AddFlags(C::SIGHAND),
            AddFlags(C::SIGHAND | C::VM),
            RemoveFlags(C::THREAD),
        ]),
        Rule::SighandWithoutVm => c([AddFlags(C::VM), RemoveFlags(C::SIGHAND)]),
        Rule::ParentFromInit | Rule::ParentFromAutoreap => c([RemoveFlags(C::PARENT)]),
        Rule::ThreadWithNewPidOrUser => c([
            RemoveFlags(fl_.flags.difference(C::THREAD)),
            RemoveFlags(C::THREAD),
        ]),
        Rule::ThreadAcrossPidNs => c([RemoveFlags(C::THREAD)]),
        Rule::PidfdWithDetached => c([RemoveFlags(C::DETACHED)]),
        Rule::PidfdWithThread => c([RemoveFlags(C::PIDFD), RemoveFlags(C::THREAD)]),
        Rule::AutoreapWithThread | Rule::AutoreapWithParent => c([RemoveFlags(C::AUTOREAP)]),
        Rule::AutoreapWithExitSignal => c([SetExitSignal(0), RemoveFlags(C::AUTOREAP)]),
        Rule::NnpWithThread => c([RemoveFlags(C::NNP)]),
        Rule::AutokillWithoutPidfd => c([AddFlags(C::PIDFD), RemoveFlags(C::PIDFD_AUTOKILL)]),
        Rule::AutokillWithoutAutoreap => c([AddFlags(C::AUTOREAP), RemoveFlags(C::PIDFD_AUTOKILL)]),
        Rule::AutokillWithThread => c([RemoveFlags(C::PIDFD_AUTOKILL)]),
        Rule::AutokillNeedsPrivilege => {
            c([AddFlags(C::NNP), NeedsPrivilege(Privilege::CapSysAdmin)])
        }
        Rule::NewuserNotPermitted => c([RemoveFlags(C::NEWUSER)]),
        Rule::NamespaceWithoutCapSysAdmin => c([
            AddFlags(C::NEWUSER),
            NeedsPrivilege(Privilege::CapSysAdmin),
            RemoveFlags(fl_.flags),
        ]),
        Rule::NewipcWithSysvsem => c([RemoveFlags(C::SYSVSEM), RemoveFlags(C::NEWIPC)]),
        Rule::NamespaceNotConfigured => {
            let all = crate::flags::NAMESPACE_FLAGS | C::NEWUSER;
            let mut drop = f & all & !policy.namespaces_configured;
            // CLONE_EMPTY_MNTNS brings CLONE_NEWNS back (kernel_clone): it goes too.
            if !policy.namespaces_configured.contains(C::NEWNS) {
                drop |= f & C::EMPTY_MNTNS;
            }
            c([RemoveFlags(drop)])
        }
        Rule::NewpidAfterUnsharePid | Rule::PidNsTooDeep => c([RemoveFlags(fl_.flags)]),
        // With TASK_SIZE_MAX 0 no tls value is valid: then CLONE_SETTLS must go.
        Rule::TlsOutOfRange
        | Rule::UserDescFault
        | Rule::UserDescInvalid
        | Rule::UserDescEntryOutOfRange => c([ValidValue(Field::Tls), RemoveFlags(C::SETTLS)]),
        Rule::SetTidOutOfRange | Rule::SetTidNoReaper | Rule::SetTidInUse => {
            c([ValidValue(Field::SetTid), no_set_tid])
        }
        // CAP_CHECKPOINT_RESTORE only counts from 5.9; before, only CAP_SYS_ADMIN does.
        Rule::SetTidNotPermitted => c([
            NeedsPrivilege(if policy.linux.has_cap_checkpoint_restore() {
                Privilege::CapCheckpointRestore
            } else {
                Privilege::CapSysAdmin
            }),
            no_set_tid,
        ]),
        Rule::PidfdWriteFault => c([ValidValue(if legacy {
            Field::ParentTid
        } else {
            Field::Pidfd
        })]),
        Rule::IntoCgroupRejected => c([ValidValue(Field::Cgroup), RemoveFlags(C::INTO_CGROUP)]),
        _ => [None; 4],
    }
}

/// A valid `set_tid` array for `req`: 1 for a new pid namespace, pid 300 (or the largest
/// in range) elsewhere.
fn valid_set_tid(req: &Request, policy: &Policy) -> [u8; 128] {
    let fresh = fl(req.flags).contains(CloneFlags::NEWPID) || policy.pid_ns_for_children_differs;
    let mut out = [0u8; 128];
    for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
        let max = i64::from(policy.set_tid_pid_max(i, fresh));
        let tid: i32 = if fresh && i == 0 {
            1
        } else {
            (max - 1).clamp(2, 300) as i32
        };
        let b = if policy.arch.big_endian() {
            tid.to_be_bytes()
        } else {
            tid.to_le_bytes()
        };
        for (d, s) in chunk.iter_mut().zip(b) {
            *d = s;
        }
    }
    out
}

/// Applies one change to a trial, if the call can express it.
fn apply(change: Change, t: &Trial) -> Option<Trial> {
    let mut n = *t;
    let r = &mut n.req;
    let legacy = !matches!(r.via, Via::Clone3 { .. });
    match change {
        Change::AddFlags(f) => {
            if legacy && f.bits() & !(LEGACY_FLAGS & !CSIGNAL) != 0 {
                return None;
            }
            r.flags |= f.bits();
        }
        Change::RemoveFlags(f) => r.flags &= !f.bits(),
        Change::MoveSignal(s) => {
            r.flags &= !(CSIGNAL & !CloneFlags::NEWTIME.bits());
            r.exit_signal = u64::from(s);
        }
        Change::SetExitSignal(s) => r.exit_signal = s,
        Change::SetField { field, value } => match field {
            Field::StackSize => r.stack_size = value,
            Field::SetTid => r.set_tid = value,
            Field::SetTidSize => r.set_tid_size = value,
            // Only growing the struct, with zeros: the fields read stay as they are.
            Field::Size if !legacy && value >= CLONE_ARGS_SIZE_VER2 => {
                r.via = Via::Clone3 { size: value };
            }
            _ => return None,
        },
        Change::ValidValue(field) => match field {
            Field::Stack => {
                if r.stack == 0 {
                    r.stack = t.policy.page_size;
                }
                n.assume.stack = Some((r.stack, r.stack_size));
            }
            Field::StackSize => {
                if r.stack_size == 0 {
                    r.stack_size = t.policy.page_size;
                }
            }
            Field::Tls => r.tls = 0,
            Field::Pidfd => {
                if r.pidfd == r.parent_tid {
                    r.pidfd = r.parent_tid.wrapping_add(8);
                }
                n.assume.writable = Some(r.pidfd);
            }
            Field::ParentTid => n.assume.writable = Some(r.parent_tid),
            Field::SetTid if r.set_tid != 0 => n.assume.set_tid = true,
            Field::Cgroup => {
                r.cgroup = r.cgroup.min(i32::MAX as u64);
                n.policy.into_cgroup_error = None;
            }
            _ => return None,
        },
        Change::NeedsPrivilege(Privilege::CapSysAdmin) => n.policy.cap_sys_admin = true,
        Change::NeedsPrivilege(Privilege::CapCheckpointRestore) => {
            n.policy.cap_checkpoint_restore = true;
        }
        _ => return None,
    }
    Some(n)
}

/// Limits of one search: the most changes, the most steps along the chain of failures, and
/// the re-validations left.
struct Limits {
    changes: usize,
    steps: usize,
    budget: u32,
}

/// Searches below `t`, which fails with `failure`, for a passing fix of at most
/// `lim.changes` changes.
fn search(
    t: &Trial,
    failure: &Failure,
    mem: &dyn UserMemory,
    lim: &mut Limits,
    only: Option<Change>,
) -> Option<Fix> {
    let cands = candidates(failure, &t.req, &t.policy);
    for change in cands
        .into_iter()
        .flatten()
        .filter(|c| only.is_none_or(|o| o == *c))
    {
        let Some(fix) = t.fix.and(change) else {
            continue;
        };
        if fix.len() > lim.changes || lim.budget == 0 {
            continue;
        }
        let Some(mut next) = apply(change, t) else {
            continue;
        };
        next.fix = fix;
        lim.budget -= 1;
        let m = Assumed {
            mem,
            assume: &next.assume,
            req: &next.req,
            policy: &next.policy,
        };
        match check_request(&next.req, &m, &next.policy) {
            Ok(_) => return Some(reached(fix)),
            Err(f) if lim.steps > 1 => {
                lim.steps -= 1;
                let found = search(&next, &f, mem, lim, None);
                lim.steps += 1;
                if found.is_some() {
                    return found;
                }
            }
            Err(_) => {}
        }
    }
    None
}

/// A fix that passed: within the arguments, or needing a privilege.
fn reached(fix: Fix) -> Fix {
    let outside = fix.changes().any(|c| !c.in_arguments());
    fix.with_reach(if outside {
        Reach::Outside
    } else {
        Reach::Arguments
    })
}

/// The smallest fix for a failure of the shared checks. Through a trait object: one copy of
/// the search whatever the caller's memory type.
#[inline(never)]
pub(crate) fn best_fix(
    failure: &Failure,
    req: &Request,
    mem: &dyn UserMemory,
    policy: &Policy,
) -> Fix {
    let start = Trial {
        req: *req,
        policy: *policy,
        assume: NOTHING,
        fix: Fix::NONE,
    };
    // For each of the failed rule's candidates, in order of preference: any fix that starts
    // with it (depth first, each rule's preferred change first), then, if that took several
    // changes, the fewest that do.
    for first in candidates(failure, req, policy).into_iter().flatten() {
        let mut lim = Limits {
            changes: Fix::MAX_CHANGES,
            steps: MAX_STEPS,
            budget: BUDGET_ANY,
        };
        let Some(mut best) = search(&start, failure, mem, &mut lim, Some(first)) else {
            continue;
        };
        lim.budget = BUDGET_FEWER;
        for changes in 1..best.len().min(SMALL + 1) {
            lim.changes = changes;
            if let Some(fewer) = search(&start, failure, mem, &mut lim, Some(first)) {
                best = fewer;
                break;
            }
        }
        return best;
    }
    match candidates(failure, req, policy)[0] {
        Some(first) => Fix::one(first, Reach::Unknown),
        None => Fix::NONE,
    }
}

/// The fix for a refusal before the struct is read (`sys_clone3` and the struct copy of
/// `copy_clone_args_from_user`):
/// a size fix is re-validated with the kernel's size, the struct extended with zeros where it
/// was shorter; an unreadable struct is advice the validator cannot check.
pub(crate) fn early_fix(
    rule: Rule,
    uargs: u64,
    size: u64,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Fix {
    early_fix_in(rule, uargs, size, mem, policy)
}

#[inline(never)]
fn early_fix_in(rule: Rule, uargs: u64, size: u64, mem: &dyn UserMemory, policy: &Policy) -> Fix {
    let unreadable = || Fix::one(Change::ValidValue(Field::Args), Reach::Unknown);
    match rule {
        Rule::Clone3Unavailable => Fix::one(Change::UseClone, Reach::Outside),
        Rule::Clone3SizeAbovePage | Rule::Clone3SizeBelowVer0 | Rule::Clone3NonZeroTail => {
            let known = policy.linux.clone_args_size();
            let set_size = Change::SetField {
                field: Field::Size,
                value: known,
            };
            let padded = ZeroPadded {
                mem,
                from: uargs.saturating_add(size.min(known)),
                to: uargs.saturating_add(known),
            };
            // Not validate_clone3 itself: that would instantiate early_fix again, endlessly.
            let later = match crate::validate::copy_clone_args(uargs, known, &padded, policy) {
                Err(f) if f.rule == Rule::ArgsFault => unreadable(),
                // The struct copy again (a page smaller than the struct): nothing helps.
                Err(_) => Fix::NONE,
                Ok(req) => match check_request(&req, &padded, policy) {
                    Ok(_) => return Fix::one(set_size, Reach::Arguments),
                    Err(f) => best_fix(&f, &req, &padded, policy),
                },
            };
            let mut fix = Fix::one(set_size, later.reach());
            for ch in later.changes() {
                fix = fix.and(ch).unwrap_or(fix.with_reach(Reach::Unknown));
            }
            fix
        }
        Rule::ArgsFault => unreadable(),
        _ => Fix::NONE,
    }
}

/// The caller's memory with `from..to` reading as zeros (the struct padded to the kernel's
/// size, as a caller following a size fix would do).
struct ZeroPadded<'a> {
    mem: &'a dyn UserMemory,
    from: u64,
    to: u64,
}

impl UserMemory for ZeroPadded<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        let end = addr.saturating_add(out.len() as u64);
        if end <= self.from || addr >= self.to {
            return self.mem.read(addr, out);
        }
        // Before the padding: real memory; inside: zeros; after: real memory.
        let lo = (self.from.saturating_sub(addr) as usize).min(out.len());
        let hi = (self.to.saturating_sub(addr) as usize).min(out.len());
        // Checked splits: no panic path in the validator (`cargo xtask lean`).
        let (head, rest) = out.split_at_mut_checked(lo).ok_or(Fault)?;
        let (pad, tail) = rest
            .split_at_mut_checked(hi.saturating_sub(lo))
            .ok_or(Fault)?;
        if !head.is_empty() {
            self.mem.read(addr, head)?;
        }
        pad.fill(0);
        if !tail.is_empty() {
            self.mem.read(self.to, tail)?;
        }
        Ok(())
    }
    fn writable(&self, addr: u64, len: u64) -> bool {
        self.mem.writable(addr, len)
    }
    // access_ok() is about the addresses, not the contents: unchanged.
    fn access_ok(&self, addr: u64, len: u64, policy: &Policy) -> bool {
        self.mem.access_ok(addr, len, policy)
    }
}
