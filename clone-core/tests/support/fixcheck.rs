//! Checks shared by the rule tests, the fix property test, the fuzz targets and their corpus
//! replay (`fuzz/check` includes this file by path): an accepted call obeys Linux's
//! implications, and a refusal's fix, applied here by this file's own reading of the
//! [`Change`] docs and re-validated from scratch through the public entry points, passes.
//!
//! Nothing here calls the fix search's own `apply`; a wrong search and a wrong applier would
//! have to be wrong the same way.

use clone_core::error::{Change, CloneError, Field, Privilege, Reach, Rule};
use clone_core::flags::{CloneFlags as C, NAMESPACE_FLAGS};
use clone_core::validate::{
    CloneArgs, Fault, KernelCloneArgs, LegacyCloneArgs, UserMemory, Via, validate_clone_in,
    validate_clone3,
};
use clone_core::{Arch, Policy};

/// One readable range of the caller's memory.
#[derive(Clone, Debug)]
pub struct Region {
    pub base: u64,
    pub bytes: Vec<u8>,
    pub writable: bool,
}

/// The caller's memory: regions (earlier ones win), writes elsewhere succeed or fault as
/// `writable_elsewhere` says, and `access_ok` is the policy's unless a range is listed in
/// `access_ok`. `read_first` holds bytes read from its address before any region (a valid
/// `set_tid` array), without changing what is writable.
#[derive(Clone, Debug, Default)]
pub struct MemMap {
    pub regions: Vec<Region>,
    pub writable_elsewhere: bool,
    pub access_ok: Vec<(u64, u64)>,
    pub read_first: Option<(u64, Vec<u8>)>,
    /// Four bytes at these addresses are writable whatever the regions say (a valid pidfd
    /// slot, wherever it is).
    pub writable_at: Vec<u64>,
}

impl MemMap {
    /// `bytes` at `base`, writes succeeding everywhere (what `validate_clone3_bytes` models).
    pub fn with(base: u64, bytes: Vec<u8>) -> Self {
        Self {
            regions: vec![Region {
                base,
                bytes,
                writable: true,
            }],
            writable_elsewhere: true,
            access_ok: Vec::new(),
            read_first: None,
            writable_at: Vec::new(),
        }
    }

    fn region(&self, addr: u64, len: u64) -> Option<&Region> {
        self.regions.iter().find(|r| {
            addr >= r.base
                && addr
                    .checked_add(len)
                    .is_some_and(|end| end - r.base <= r.bytes.len() as u64)
        })
    }

    /// Puts a region in front of the others.
    pub fn overlay(&mut self, base: u64, bytes: Vec<u8>, writable: bool) {
        self.regions.insert(
            0,
            Region {
                base,
                bytes,
                writable,
            },
        );
    }

    /// `len` bytes at `addr` if all are readable.
    pub fn bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0; len];
        self.read(addr, &mut out).ok()?;
        Some(out)
    }
}

impl UserMemory for MemMap {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        if let Some((at, bytes)) = &self.read_first
            && *at == addr
            && let Some(src) = bytes.get(..out.len())
        {
            out.copy_from_slice(src);
            return Ok(());
        }
        let r = self.region(addr, out.len() as u64).ok_or(Fault)?;
        let at = (addr - r.base) as usize;
        out.copy_from_slice(&r.bytes[at..at + out.len()]);
        Ok(())
    }
    fn writable(&self, addr: u64, len: u64) -> bool {
        if self.writable_at.contains(&addr) {
            return true;
        }
        match self.region(addr, len) {
            Some(r) => r.writable,
            None => self.writable_elsewhere,
        }
    }
    fn access_ok(&self, addr: u64, len: u64, policy: &Policy) -> bool {
        self.access_ok.contains(&(addr, len)) || policy.access_ok(addr, len)
    }
}

/// What a check found, for counting.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Accepted, implications hold.
    Accepted,
    /// Refused; the fix, applied, passes within the arguments.
    FixedInArguments,
    /// Refused; the fix needs a privilege (passes with it granted) or the legacy syscall.
    FixedOutside,
    /// Refused with a fix the validator says it cannot check (`valid:uargs`).
    Unverifiable(Rule),
}

/// A broken invariant, with what broke it.
pub type Violation = String;

/// Linux's implications for an accepted call (`copy_process`, `clone3_args_valid`, …).
pub fn implications(k: &KernelCloneArgs, policy: &Policy) -> Result<(), Violation> {
    let f = k.flags;
    let has = |x: C| f.contains(x);
    let rules: [(bool, &str); 16] = [
        (has(C::THREAD) && !has(C::SIGHAND), "THREAD without SIGHAND"),
        (has(C::SIGHAND) && !has(C::VM), "SIGHAND without VM"),
        (has(C::NEWNS) && has(C::FS), "NEWNS with FS"),
        (has(C::NEWUSER) && has(C::FS), "NEWUSER with FS"),
        (has(C::PIDFD) && has(C::DETACHED), "PIDFD with DETACHED"),
        (
            has(C::THREAD) && f.intersects(C::NEWUSER | C::NEWPID),
            "THREAD with NEWUSER/NEWPID",
        ),
        (
            has(C::PARENT) && policy.pid_ns_init,
            "PARENT from a pid-ns init",
        ),
        (
            f.intersects(NAMESPACE_FLAGS) && !has(C::NEWUSER) && !policy.cap_sys_admin,
            "namespace without CAP_SYS_ADMIN or NEWUSER",
        ),
        (has(C::NEWIPC) && has(C::SYSVSEM), "NEWIPC with SYSVSEM"),
        (
            !policy
                .namespaces_configured
                .contains(f & (NAMESPACE_FLAGS | C::NEWUSER)),
            "unconfigured namespace",
        ),
        (
            has(C::NEWUSER) && !policy.user_ns_allowed,
            "NEWUSER not permitted",
        ),
        (
            has(C::PIDFD_AUTOKILL) && (!has(C::PIDFD) || !has(C::AUTOREAP) || has(C::THREAD)),
            "PIDFD_AUTOKILL without PIDFD+AUTOREAP or with THREAD",
        ),
        (
            policy.arch == Arch::X86_64 && has(C::SETTLS) && k.tls >= policy.task_size_max,
            "tls above TASK_SIZE_MAX",
        ),
        (
            has(C::THREAD) && policy.pid_ns_for_children_differs,
            "THREAD after unshare(NEWPID)",
        ),
        (
            has(C::NEWPID) && policy.pid_ns_for_children_differs,
            "NEWPID after unshare(NEWPID)",
        ),
        (
            k.set_tid_len as u64
                > u64::from(policy.pid_ns_level)
                    + 1
                    + u64::from(has(C::NEWPID) || policy.pid_ns_for_children_differs),
            "set_tid deeper than the pid namespaces",
        ),
    ];
    if let Some((_, what)) = rules.iter().find(|(bad, _)| *bad) {
        return Err(format!("accepted {f} but {what}"));
    }
    if let Via::Clone3 { .. } = k.via {
        let clone3_rules: [(bool, &str); 4] = [
            (
                u64::from(k.exit_signal) > policy.arch.nsig(),
                "exit_signal above _NSIG",
            ),
            (
                f.intersects(C::THREAD | C::PARENT) && k.exit_signal != 0,
                "THREAD/PARENT with an exit signal",
            ),
            (
                has(C::SIGHAND) && has(C::CLEAR_SIGHAND),
                "SIGHAND with CLEAR_SIGHAND",
            ),
            (
                f.bits() & (C::DETACHED.bits() | 0x7f) != 0,
                "DETACHED or signal bits in clone3 flags",
            ),
        ];
        if let Some((_, what)) = clone3_rules.iter().find(|(bad, _)| *bad) {
            return Err(format!("clone3 accepted {f} but {what}"));
        }
    }
    Ok(())
}

/// Checks the fix's reach against its changes.
fn reach_matches(e: &CloneError) -> Result<(), Violation> {
    let outside = e.fix.changes().any(|c| !c.in_arguments());
    let ok = match e.fix.reach() {
        Reach::Arguments => !outside && !e.fix.is_empty(),
        Reach::Outside => outside,
        Reach::Unknown => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{e}: reach {:?} does not match its changes",
            e.fix.reach()
        ))
    }
}

fn grant(policy: &mut Policy, p: Privilege) {
    match p {
        Privilege::CapSysAdmin => policy.cap_sys_admin = true,
        Privilege::CapCheckpointRestore => policy.cap_checkpoint_restore = true,
        _ => {}
    }
}

fn unverifiable(e: &CloneError) -> Result<Verdict, Violation> {
    if e.fix.reach() == Reach::Unknown
        && e.fix
            .changes()
            .any(|c| c == Change::ValidValue(Field::Args))
    {
        return Ok(Verdict::Unverifiable(e.rule));
    }
    Err(format!("{e}: fix not re-validated ({:?})", e.fix))
}

fn after_fix(
    e: &CloneError,
    again: Result<KernelCloneArgs, CloneError>,
    policy: &Policy,
) -> Result<Verdict, Violation> {
    match again {
        Ok(k) => {
            implications(&k, policy)?;
            Ok(if e.fix.reach() == Reach::Arguments {
                Verdict::FixedInArguments
            } else {
                Verdict::FixedOutside
            })
        }
        Err(e2) => Err(format!(
            "fix of {} `{e}` applied gives {} `{e2}`",
            e.rule, e2.rule
        )),
    }
}

/// Validates a legacy `clone` and checks the answer.
pub fn check_legacy(
    args: &LegacyCloneArgs,
    mem: &MemMap,
    policy: &Policy,
) -> Result<Verdict, Violation> {
    let e = match validate_clone_in(args, mem, policy) {
        Ok(k) => return implications(&k, policy).map(|()| Verdict::Accepted),
        Err(e) => e,
    };
    reach_matches(&e)?;
    if e.fix.reach() == Reach::Unknown {
        return unverifiable(&e);
    }
    let (mut a, mut m, mut p) = (*args, mem.clone(), *policy);
    for c in e.fix.changes() {
        match c {
            Change::AddFlags(f) => a.word |= f.bits(),
            Change::RemoveFlags(f) => a.word &= !f.bits(),
            Change::SetExitSignal(s) if s <= 0xff => a.word = (a.word & !0xff) | s,
            Change::ValidValue(Field::ParentTid | Field::Pidfd) => m.writable_at.push(a.parent_tid),
            Change::ValidValue(Field::Tls) => a.tls = 0,
            Change::NeedsPrivilege(pr) => grant(&mut p, pr),
            other => return Err(format!("{e}: {other} is not a legacy clone change")),
        }
    }
    after_fix(&e, validate_clone_in(&a, &m, &p), &p)
}

/// A `set_tid` array of valid pids for `a` (1 for a new pid namespace, 2 elsewhere).
fn valid_tids(a: &CloneArgs, policy: &Policy) -> Vec<u8> {
    let fresh = a.flags & C::NEWPID.bits() != 0 || policy.pid_ns_for_children_differs;
    (0..a.set_tid_size.min(32))
        .flat_map(|i| {
            let tid: i32 = if fresh && i == 0 { 1 } else { 2 };
            if policy.arch.big_endian() {
                tid.to_be_bytes()
            } else {
                tid.to_le_bytes()
            }
        })
        .collect()
}

/// Validates `clone3(uargs, size)` and checks the answer.
pub fn check_clone3(
    uargs: u64,
    size: u64,
    mem: &MemMap,
    policy: &Policy,
) -> Result<Verdict, Violation> {
    let e = match validate_clone3(uargs, size, mem, policy) {
        Ok(k) => return implications(&k, policy).map(|()| Verdict::Accepted),
        Err(e) => e,
    };
    reach_matches(&e)?;
    if e.fix.changes().any(|c| c == Change::UseClone) {
        return if e.rule == Rule::Clone3Unavailable && e.fix.reach() == Reach::Outside {
            Ok(Verdict::FixedOutside)
        } else {
            Err(format!("{e}: use-clone for another rule"))
        };
    }
    if e.fix.reach() == Reach::Unknown {
        return unverifiable(&e);
    }
    let mut new_size = size;
    for c in e.fix.changes() {
        if let Change::SetField {
            field: Field::Size,
            value,
        } = c
        {
            new_size = value;
        }
    }
    // The caller's struct as far as it is readable up to the new size, padded with zeros.
    let keep = size.min(new_size) as usize;
    let Some(mut bytes) = mem.bytes(uargs, keep) else {
        return Err(format!("{e}: fix checked on an unreadable struct"));
    };
    bytes.resize(new_size as usize, 0);
    let mut head = [0u8; 88];
    let n = bytes.len().min(88);
    head[..n].copy_from_slice(&bytes[..n]);
    let mut a = CloneArgs::from_bytes(&head, policy.arch);
    let (mut m, mut p) = (mem.clone(), *policy);
    for c in e.fix.changes() {
        match c {
            Change::AddFlags(f) => a.flags |= f.bits(),
            Change::RemoveFlags(f) => a.flags &= !f.bits(),
            Change::MoveSignal(s) => {
                a.flags &= !0x7f;
                a.exit_signal = u64::from(s);
            }
            Change::SetExitSignal(s) => a.exit_signal = s,
            Change::SetField { field, value } => match field {
                Field::Size => {}
                Field::StackSize => a.stack_size = value,
                Field::SetTid => a.set_tid = value,
                Field::SetTidSize => a.set_tid_size = value,
                other => return Err(format!("{e}: cannot set {}", other.name())),
            },
            Change::ValidValue(Field::Stack) => {
                if a.stack == 0 {
                    a.stack = policy.page_size;
                }
            }
            Change::ValidValue(Field::StackSize) => {
                if a.stack_size == 0 {
                    a.stack_size = policy.page_size;
                }
            }
            Change::ValidValue(Field::Tls) => a.tls = 0,
            Change::ValidValue(Field::Pidfd) => {
                if a.pidfd == a.parent_tid {
                    a.pidfd = a.parent_tid.wrapping_add(8);
                }
            }
            Change::ValidValue(Field::Cgroup) => {
                a.cgroup = a.cgroup.min(i32::MAX as u64);
                p.into_cgroup_error = None;
            }
            Change::ValidValue(Field::SetTid) => {}
            Change::NeedsPrivilege(pr) => grant(&mut p, pr),
            other => return Err(format!("{e}: cannot apply {other}")),
        }
    }
    let full = a.to_bytes(policy.arch);
    let n = bytes.len().min(88);
    bytes[..n].copy_from_slice(&full[..n]);
    let writable = mem.writable(uargs, new_size.max(1));
    m.overlay(uargs, bytes, writable);
    // Memory changes once the fields are final, in front of everything else.
    for c in e.fix.changes() {
        match c {
            Change::ValidValue(Field::Stack) => m.access_ok.push((a.stack, a.stack_size)),
            Change::ValidValue(Field::Pidfd) => m.writable_at.push(a.pidfd),
            Change::ValidValue(Field::SetTid) => {
                let tids = valid_tids(&a, &p);
                m.access_ok.push((a.set_tid, tids.len() as u64));
                m.read_first = Some((a.set_tid, tids));
            }
            _ => {}
        }
    }
    after_fix(&e, validate_clone3(uargs, new_size, &m, &p), &p)
}
