//! Signal state: per-thread masks, per-process handlers, alternate stacks, and the other
//! per-thread and per-process records the libc start-up sets (`set_robust_list`, the
//! resource limits). The stub delivers no signals yet: masks and handlers are recorded and
//! read back exactly, which is what libc's start-up and thread code ask of them.
//!
//! Sharing follows Linux: the handler table is shared by `CLONE_SIGHAND` and copied otherwise
//! ([`SigState::for_child`]); the mask is inherited; the alternate stack is cleared for a
//! thread sharing the parent's memory (`CLONE_VM` without `CLONE_VFORK`) and inherited
//! otherwise; the limits are shared by threads (`CLONE_THREAD`) and copied for a process.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use crate::syscall::{EFAULT, EINVAL, SysResult};
use crate::task::Kernel;
use crate::uaccess;

const ENOMEM: i32 = 12;

/// `_NSIG`: signals 1..=64.
const NSIG: u64 = 64;
const SIGKILL: u64 = 9;
const SIGSTOP: u64 = 19;

/// Bytes of the kernel's `struct sigaction`: handler, flags, restorer (x86_64 and arm64 have
/// `SA_RESTORER`), mask; riscv64 has no restorer field.
#[cfg(not(target_arch = "riscv64"))]
const SIGACTION_SIZE: usize = 32;
#[cfg(target_arch = "riscv64")]
const SIGACTION_SIZE: usize = 24;

/// `MINSIGSTKSZ`: arm64's is 5120, x86_64's and riscv64's 2048.
#[cfg(target_arch = "aarch64")]
const MINSIGSTKSZ: u64 = 5120;
#[cfg(not(target_arch = "aarch64"))]
const MINSIGSTKSZ: u64 = 2048;

const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const SS_AUTODISARM: u32 = 1 << 31;

/// One process's resource limits (`prlimit64`), (soft, hard) per `RLIMIT_*`.
pub type Limits = [(u64, u64); 16];

/// What a task carries besides its ids, registers and memory.
#[derive(Clone)]
pub struct SigState {
    /// Blocked signals (bit `n - 1` for signal `n`).
    pub mask: u64,
    /// `struct sigaction` per signal, as the program gave it (shared by `CLONE_SIGHAND`).
    pub actions: Rc<RefCell<[[u8; SIGACTION_SIZE]; NSIG as usize]>>,
    /// `sigaltstack`: (sp, flags, size).
    pub altstack: (u64, u32, u64),
    /// `set_robust_list` head.
    pub robust_list: u64,
    /// Resource limits (shared by the threads of a process).
    pub limits: Rc<RefCell<Limits>>,
    /// Signals sent to this thread and not taken yet (blocked, or waiting for a handler).
    pub pending: u64,
    /// Signals sent to the process that every thread blocked (shared by its threads).
    pub shared_pending: Rc<Cell<u64>>,
}

impl SigState {
    /// A new program's state: nothing blocked, every action default, Linux's start limits.
    pub fn new() -> Self {
        Self {
            mask: 0,
            actions: Rc::new(RefCell::new([[0; SIGACTION_SIZE]; NSIG as usize])),
            altstack: (0, SS_DISABLE, 0),
            robust_list: 0,
            limits: Rc::new(RefCell::new(crate::surface::default_rlimits())),
            pending: 0,
            shared_pending: Rc::new(Cell::new(0)),
        }
    }

    /// The child's state for a clone (see the module doc for which part is shared).
    pub fn for_child(&self, sighand: bool, vm: bool, vfork: bool, thread: bool) -> Self {
        Self {
            mask: self.mask,
            actions: if sighand {
                self.actions.clone()
            } else {
                Rc::new(RefCell::new(*self.actions.borrow()))
            },
            altstack: if vm && !vfork {
                (0, SS_DISABLE, 0)
            } else {
                self.altstack
            },
            robust_list: 0,
            limits: if thread {
                self.limits.clone()
            } else {
                Rc::new(RefCell::new(*self.limits.borrow()))
            },
            // A child starts with nothing pending (`copy_process` clears it); threads share the
            // process's set.
            pending: 0,
            shared_pending: if thread {
                self.shared_pending.clone()
            } else {
                Rc::new(Cell::new(0))
            },
        }
    }

    /// At `execve`: handlers set to a function go back to the default (ignored ones stay
    /// ignored, `flush_signal_handlers`), the table is no longer shared, the alternate stack
    /// is cleared; the mask stays.
    pub fn exec(&mut self) {
        self.flush_handlers();
        self.altstack = (0, SS_DISABLE, 0);
        self.robust_list = 0;
    }

    /// Linux's `flush_signal_handlers(t, 0)`, at `execve` and for a `CLONE_CLEAR_SIGHAND`
    /// child (`copy_sighand`): a table of its own in which every handler but SIG_IGN is
    /// SIG_DFL with no flags or mask.
    pub fn flush_handlers(&mut self) {
        let mut table = *self.actions.borrow();
        for a in table.iter_mut() {
            let handler = u64::from_ne_bytes(a[..8].try_into().unwrap_or([0; 8]));
            // SIG_IGN (1) stays; anything else becomes SIG_DFL with no flags or mask.
            if handler != 1 {
                *a = [0; SIGACTION_SIZE];
            }
        }
        self.actions = Rc::new(RefCell::new(table));
    }
}

impl Default for SigState {
    fn default() -> Self {
        Self::new()
    }
}

/// `rt_sigaction(sig, act, oact, sigsetsize)`: EINVAL for a set size other than 8, EFAULT for
/// an unreadable `act`, EINVAL for a signal outside 1..=64 or a new action for SIGKILL or
/// SIGSTOP, then `oact` is written (EFAULT).
pub fn rt_sigaction(
    k: &mut Kernel,
    i: usize,
    sig: u64,
    act: u64,
    oact: u64,
    size: u64,
) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let mut new = [0u8; SIGACTION_SIZE];
    if act != 0 {
        uaccess::read_bytes(act, &mut new).map_err(|_| EFAULT)?;
    }
    let sig = sig as u32 as i32 as i64 as u64;
    if !(1..=NSIG).contains(&sig) || (act != 0 && (sig == SIGKILL || sig == SIGSTOP)) {
        return Err(EINVAL);
    }
    let actions = k.task(i).sig.actions.clone();
    let old = actions.borrow()[sig as usize - 1];
    if act != 0 {
        // The mask never blocks SIGKILL or SIGSTOP (`sigdelsetmask` in `do_sigaction`).
        let m = SIGACTION_SIZE - 8;
        let mask = u64::from_ne_bytes(new[m..].try_into().unwrap_or([0; 8]));
        let mask = mask & !(1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1));
        new[m..].copy_from_slice(&mask.to_ne_bytes());
        actions.borrow_mut()[sig as usize - 1] = new;
    }
    if oact != 0 {
        uaccess::write_bytes(oact, &old).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;

/// `rt_sigprocmask(how, set, oset, sigsetsize)`: EINVAL for a set size other than 8, EFAULT
/// for an unreadable `set`, EINVAL for an unknown `how`, then `oset` (the mask before) is
/// written (EFAULT). SIGKILL and SIGSTOP are never blocked.
pub fn rt_sigprocmask(
    k: &mut Kernel,
    i: usize,
    how: u64,
    set: u64,
    oset: u64,
    size: u64,
) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let before = k.task(i).sig.mask;
    if set != 0 {
        let new = uaccess::read_u64(set).map_err(|_| EFAULT)?;
        let new = new & !(1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1));
        let mask = match u64::from(how as u32) {
            SIG_BLOCK => before | new,
            SIG_UNBLOCK => before & !new,
            SIG_SETMASK => new,
            _ => return Err(EINVAL),
        };
        k.task(i).sig.mask = mask;
    }
    if oset != 0 {
        uaccess::write_bytes(oset, &before.to_ne_bytes()).map_err(|_| EFAULT)?;
    }
    take_pending(k, i);
    Ok(0)
}

/// Acts on the signals pending for task `i` that it no longer blocks (after a mask change):
/// a fatal default ends its process; an ignored one is dropped; one with a handler stays
/// pending (no handler runs yet).
pub fn take_pending(k: &mut Kernel, i: usize) {
    let t = k.task(i);
    let ready = (t.sig.pending | t.sig.shared_pending.get()) & !t.sig.mask;
    for sig in (1..=NSIG).filter(|s| ready & (1 << (s - 1)) != 0) {
        if !k.has_task(i) {
            return;
        }
        let t = k.task(i);
        if handler_of(t, sig) > 1 {
            continue;
        }
        t.sig.pending &= !(1 << (sig - 1));
        t.sig
            .shared_pending
            .set(t.sig.shared_pending.get() & !(1 << (sig - 1)));
        if handler_of(t, sig) == 0 && default_action(sig) == DefaultAction::Kill {
            k.exit_group(i, crate::task::Death::Killed(sig as u8));
        }
    }
}

/// The `sa_handler` word of `sig`'s action (0 `SIG_DFL`, 1 `SIG_IGN`, else a handler).
fn handler_of(t: &crate::task::Task, sig: u64) -> u64 {
    let actions = t.sig.actions.borrow();
    u64::from_ne_bytes(actions[sig as usize - 1][..8].try_into().unwrap_or([0; 8]))
}

/// `sigaltstack(ss, old_ss)` (`do_sigaltstack`): EFAULT for an unreadable `ss`, EINVAL for
/// flags other than 0, `SS_ONSTACK` or `SS_DISABLE` (plus `SS_AUTODISARM`), ENOMEM for a
/// stack smaller than `MINSIGSTKSZ`, then the old one is written (EFAULT). No handler ever
/// runs, so the task is never on its alternate stack (no EPERM).
pub fn sigaltstack(k: &mut Kernel, i: usize, ss: u64, old_ss: u64) -> SysResult {
    let before = k.task(i).sig.altstack;
    if ss != 0 {
        let mut b = [0u8; 24];
        uaccess::read_bytes(ss, &mut b).map_err(|_| EFAULT)?;
        let sp = u64::from_ne_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let flags = u32::from_ne_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_ne_bytes(b[16..24].try_into().unwrap_or([0; 8]));
        let mode = flags & !SS_AUTODISARM;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(EINVAL);
        }
        let new = if mode == SS_DISABLE {
            (0, flags, 0)
        } else if size < MINSIGSTKSZ {
            return Err(ENOMEM);
        } else {
            (sp, flags & SS_AUTODISARM, size)
        };
        k.task(i).sig.altstack = new;
    }
    if old_ss != 0 {
        let (sp, flags, size) = before;
        let flags = if size == 0 { SS_DISABLE } else { 0 } | (flags & SS_AUTODISARM);
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&sp.to_ne_bytes());
        b[8..12].copy_from_slice(&flags.to_ne_bytes());
        b[16..24].copy_from_slice(&size.to_ne_bytes());
        uaccess::write_bytes(old_ss, &b).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// What a signal does when its action is `SIG_DFL` (`signal(7)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum DefaultAction {
    /// Ends the process (Term, and Core: `RLIMIT_CORE` is 0, so no core and no WCOREDUMP).
    Kill,
    /// Nothing (SIGCHLD, SIGURG, SIGWINCH).
    Ignore,
    /// Stop or continue the process: the stub has no stopped state yet.
    StopOrContinue,
}

fn default_action(sig: u64) -> DefaultAction {
    match sig {
        17 | 23 | 28 => DefaultAction::Ignore,
        18..=22 => DefaultAction::StopOrContinue,
        _ => DefaultAction::Kill,
    }
}

/// Task `j` (a thread of its process) receives `sig` (1..=64), for the process when `shared`
/// (`kill`) or for that thread (`tgkill`). SIGKILL, and a signal whose action is `SIG_DFL`
/// with a fatal default, end every thread of the process (`wait` sees `WIFSIGNALED`) unless
/// blocked: then it stays pending until the mask lets it through ([`take_pending`]), as does
/// a signal with a handler (the stub runs no handlers yet). `SIG_IGN` and an ignoring default
/// drop it. For the process, the first thread that does not block it takes it.
fn deliver(k: &mut Kernel, j: usize, sig: u64, shared: bool) {
    let bit = 1 << (sig - 1);
    let tgid = k.task(j).tgid;
    let j = if shared {
        k.slots()
            .find(|(_, t)| t.tgid == tgid && !t.is_zombie() && t.sig.mask & bit == 0)
            .map_or(j, |(x, _)| x)
    } else {
        j
    };
    let t = k.task(j);
    let handler = handler_of(t, sig);
    let blocked = sig != SIGKILL && t.sig.mask & bit != 0;
    if handler == 1 && sig != SIGKILL {
        return;
    }
    if handler == 0 && sig != SIGKILL {
        match default_action(sig) {
            DefaultAction::Ignore => return,
            DefaultAction::StopOrContinue => {
                crate::kprintln!(
                    "kernel-stub: signal {sig} would stop or continue a process: not implemented, ignored"
                );
                return;
            }
            DefaultAction::Kill => {}
        }
    }
    if blocked || handler > 1 {
        if shared && blocked {
            t.sig.shared_pending.set(t.sig.shared_pending.get() | bit);
        } else {
            t.sig.pending |= bit;
        }
        return;
    }
    k.exit_group(j, crate::task::Death::Killed(sig as u8));
}

/// `send_sig(sig, current, 0)`: the kernel signals task `i` itself (a pipe write without
/// readers sends SIGPIPE this way), with the same default actions as `tgkill`.
pub fn send_sig(k: &mut Kernel, i: usize, sig: u64) {
    deliver(k, i, sig, false);
}

/// A signal number as `kill`, `tkill` and `tgkill` take it (an `int`): EINVAL outside
/// 0..=64; 0 checks only that the target exists.
fn signal_number(sig: u64) -> Result<u64, i32> {
    let sig = sig as u32 as i32;
    if !(0..=NSIG as i32).contains(&sig) {
        return Err(EINVAL);
    }
    Ok(sig as u64)
}

const ESRCH: i32 = 3;

/// `kill(pid, sig)` (`kill_something_info`): EINVAL for a bad signal; pid > 0 is that
/// process (ESRCH if none), 0 and -pgid of the program's one process group every process,
/// -1 every process but the caller's, any other group ESRCH. The caller is privileged, so
/// no EPERM. The caller's own process is signalled last (it may not come back).
pub fn kill(k: &mut Kernel, i: usize, pid: u64, sig: u64) -> SysResult {
    let sig = signal_number(sig)?;
    let pid = pid as u32 as i32;
    let me = k.task(i).tgid;
    let leaders: alloc::vec::Vec<(usize, u32)> = k
        .slots()
        .filter(|(_, t)| t.tid == t.tgid && !t.is_zombie())
        .map(|(j, t)| (j, t.tgid))
        .collect();
    let targets: alloc::vec::Vec<(usize, u32)> = match pid {
        p if p > 0 => leaders
            .into_iter()
            .filter(|&(_, g)| g == p as u32)
            .collect(),
        0 => leaders,
        -1 => leaders.into_iter().filter(|&(_, g)| g != me).collect(),
        p if p.unsigned_abs() == crate::task::FIRST_PID => leaders,
        _ => alloc::vec::Vec::new(),
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    let (own, others): (alloc::vec::Vec<_>, alloc::vec::Vec<_>) =
        targets.into_iter().partition(|&(_, g)| g == me);
    for (_, g) in others.into_iter().chain(own) {
        let found = k
            .slots()
            .find(|(_, t)| t.tgid == g && !t.is_zombie())
            .map(|(j, _)| j);
        if let Some(j) = found {
            deliver(k, j, sig, true);
        }
    }
    Ok(0)
}

/// `tgkill(tgid, tid, sig)` and `tkill(tid, sig)` (`tgid` 0: any group): EINVAL for a
/// nonpositive id or a bad signal, ESRCH when no such thread is alive.
pub fn tgkill(k: &mut Kernel, tgid: Option<u64>, tid: u64, sig: u64) -> SysResult {
    let tid = tid as u32 as i32;
    let tgid = tgid.map(|g| g as u32 as i32);
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(EINVAL);
    }
    let sig = signal_number(sig)?;
    let j = k
        .slots()
        .find(|(_, t)| {
            t.tid == tid as u32 && !t.is_zombie() && tgid.is_none_or(|g| t.tgid == g as u32)
        })
        .map(|(j, _)| j)
        .ok_or(ESRCH)?;
    if sig != 0 {
        deliver(k, j, sig, false);
    }
    Ok(0)
}
