//! Signals: per-thread masks, per-process handlers, alternate stacks, pending sets with their
//! `siginfo`, delivery on the way back to user mode, and the other per-thread and
//! per-process records the libc start-up sets (`set_robust_list`, the resource limits).
//!
//! Delivery follows Linux's `get_signal` + `handle_signal`: before a task enters user mode
//! ([`deliver_pending`]) each pending signal it does not block is taken, thread-directed
//! ones first, synchronous ones (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS) before the
//! rest, then by number. An ignored one is dropped, a fatal default ends the thread group,
//! and one with a handler gets a signal frame (the per-arch layout is `arch::sigframe`; a
//! frame that cannot be written is a forced SIGSEGV, `force_sigsegv`), the handler's
//! `sa_mask` and (without `SA_NODEFER`) the signal itself are blocked, `SA_RESETHAND` puts the
//! default back, `SS_AUTODISARM` disarms the alternate stack. `rt_sigreturn` ([`rt_sigreturn`])
//! restores the registers, the mask and the alternate stack from the frame; a frame it
//! cannot read or accept is SIGSEGV. A fault is [`force_sig_fault`].
//!
//! A blocking call (futex wait, sleep, `wait4`/`waitid`, a pipe read or write) of a task
//! that gets a signal with a handler it does not block is woken ([`interrupt`]); when the
//! handler is set up, the call returns EINTR, or runs again for `SA_RESTART` where Linux
//! restarts it (`-ERESTARTSYS`: futex wait without a timeout, `wait4`, pipe I/O); a sleep
//! always returns EINTR with the time left in `rem` (`-ERESTART_RESTARTBLOCK`), a futex wait
//! with a timeout EINTR. If no handler runs after all (the action changed meanwhile), the call
//! goes on: a sleep to its old deadline, the others run again (a futex timeout from the
//! start: Linux's `restart_block` keeps the first deadline).
//!
//! Sharing follows Linux: the handler table is shared by `CLONE_SIGHAND` and copied otherwise
//! ([`SigState::for_child`]); the mask is inherited; the alternate stack is cleared for a
//! thread sharing the parent's memory (`CLONE_VM` without `CLONE_VFORK`) and inherited
//! otherwise; the limits are shared by threads (`CLONE_THREAD`) and copied for a process.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::arch::sigframe;
use crate::syscall::{EFAULT, EINVAL, SysResult, neg};
use crate::task::{Death, Kernel, State, Task};
use crate::uaccess;

const EPERM: i32 = 1;
const EINTR: i32 = 4;
const ENOMEM: i32 = 12;

/// `_NSIG`: signals 1..=64.
const NSIG: u64 = 64;
const SIGKILL: u64 = 9;
const SIGSEGV: u64 = 11;
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

/// `sa_flags` bits (the same on x86_64, arm64 and riscv64): the handler takes `siginfo_t`
/// and `ucontext` arguments.
pub const SA_SIGINFO: u64 = 4;
/// `sa_restorer` is where the handler returns to.
pub const SA_RESTORER: u64 = 0x0400_0000;
/// Run on the alternate stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// Interrupted calls run again where Linux restarts them.
pub const SA_RESTART: u64 = 0x1000_0000;
/// The signal is not blocked while its handler runs.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// The action goes back to `SIG_DFL` once the handler is set up.
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `si_code` values: sent by `kill`, by `tkill`/`tgkill`, by the kernel.
const SI_USER: i32 = 0;
const SI_TKILL: i32 = -6;
const SI_KERNEL: i32 = 0x80;

/// Signals that cannot be blocked, ignored or caught.
const UNBLOCKABLE: u64 = 1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1);

/// Taken before the others (`SYNCHRONOUS_MASK`): SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE,
/// SIGSYS.
const SYNCHRONOUS: u64 = 1 << 10 | 1 << 6 | 1 << 3 | 1 << 4 | 1 << 7 | 1 << 30;

/// `nanosleep` and `clock_nanosleep`, whose `rem` an interrupted sleep writes.
#[cfg(target_arch = "x86_64")]
const NANOSLEEP: u64 = 35;
#[cfg(target_arch = "x86_64")]
const CLOCK_NANOSLEEP: u64 = 230;
#[cfg(not(target_arch = "x86_64"))]
const NANOSLEEP: u64 = 101;
#[cfg(not(target_arch = "x86_64"))]
const CLOCK_NANOSLEEP: u64 = 115;

fn bit(sig: u64) -> u64 {
    1 << (sig - 1)
}

/// One process's resource limits (`prlimit64`), (soft, hard) per `RLIMIT_*`.
pub type Limits = [(u64, u64); 16];

/// The `siginfo` of a pending signal: who sent it, or the fault.
#[derive(Clone, Copy, Debug)]
pub struct SigInfo {
    /// The signal.
    pub signo: u64,
    /// `si_code`.
    pub code: i32,
    /// `si_pid` of the sender (`si_uid` is always 0: every task is root).
    pub pid: u32,
    /// `si_addr` of a fault (the union's other member).
    pub addr: Option<u64>,
    /// A SIGCHLD's `si_status`, `si_utime` and `si_stime` (clock ticks).
    pub child: Option<(i32, u64, u64)>,
    /// The whole `siginfo_t` as `rt_sigqueueinfo` gave it (only `si_signo` is the kernel's).
    pub raw: Option<[u8; 128]>,
}

impl SigInfo {
    /// A fault's signal (`force_sig_fault`).
    pub fn fault(signo: u64, code: i32, addr: u64) -> Self {
        Self {
            signo,
            code,
            pid: 0,
            addr: Some(addr),
            child: None,
            raw: None,
        }
    }

    /// A signal from the kernel itself (`SEND_SIG_PRIV`: `SI_KERNEL`, no sender).
    fn kernel(signo: u64) -> Self {
        Self {
            signo,
            code: SI_KERNEL,
            pid: 0,
            addr: None,
            child: None,
            raw: None,
        }
    }

    /// The 128-byte `siginfo_t` (`si_signo`, `si_errno`, `si_code`, then at 16 either
    /// `si_addr` or `si_pid`, `si_uid`, and for SIGCHLD `si_status`, `si_utime`,
    /// `si_stime`).
    fn bytes(&self) -> [u8; 128] {
        if let Some(mut b) = self.raw {
            b[0..4].copy_from_slice(&(self.signo as u32).to_ne_bytes());
            return b;
        }
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&(self.signo as u32).to_ne_bytes());
        b[8..12].copy_from_slice(&self.code.to_ne_bytes());
        match self.addr {
            Some(a) => b[16..24].copy_from_slice(&a.to_ne_bytes()),
            None => b[16..20].copy_from_slice(&self.pid.to_ne_bytes()),
        }
        if let Some((status, utime, stime)) = self.child {
            b[24..28].copy_from_slice(&status.to_ne_bytes());
            b[32..40].copy_from_slice(&utime.to_ne_bytes());
            b[40..48].copy_from_slice(&stime.to_ne_bytes());
        }
        b
    }
}

/// A pending set and the `siginfo` of each member. A signal already pending is not queued
/// again (standard signals never are; the stub does not queue real-time ones either).
#[derive(Clone, Default)]
pub struct Pending {
    /// Bit `n - 1` for signal `n`.
    pub set: u64,
    info: Vec<SigInfo>,
}

impl Pending {
    fn add(&mut self, info: SigInfo) {
        if self.set & bit(info.signo) == 0 {
            self.set |= bit(info.signo);
            self.info.push(info);
        }
    }

    fn take(&mut self, sig: u64) -> SigInfo {
        self.set &= !bit(sig);
        match self.info.iter().position(|x| x.signo == sig) {
            Some(n) => self.info.swap_remove(n),
            None => SigInfo::kernel(sig),
        }
    }
}

/// How a blocking call that a signal interrupted ends (Linux's `-ERESTART*` codes, resolved
/// when the handler is set up or found absent).
#[derive(Clone, Copy, Debug)]
enum Restart {
    /// `-ERESTARTSYS`: EINTR for a handler without `SA_RESTART`, else the call runs again.
    Sys,
    /// `-ERESTART_RESTARTBLOCK` of a futex wait with a timeout: EINTR for a handler, else
    /// the call runs again.
    Intr,
    /// A sleep: EINTR and `rem` for a handler, else back to sleep in this state.
    Sleep(State),
    /// A partly done pipe write: it returns the bytes written, whatever happens.
    Value(u64),
}

/// A call woken by a signal, waiting for [`deliver_pending`] to decide its result.
#[derive(Clone, Copy, Debug)]
pub struct Interrupted {
    restart: Restart,
    /// Where an interrupted relative sleep writes the time left (0: nowhere).
    rem: u64,
    /// That sleep's deadline (monotonic ns).
    deadline: u64,
}

/// What a task carries besides its ids, registers and memory.
#[derive(Clone)]
pub struct SigState {
    /// Blocked signals (bit `n - 1` for signal `n`).
    pub mask: u64,
    /// `struct sigaction` per signal, as the program gave it (shared by `CLONE_SIGHAND`).
    pub actions: Rc<RefCell<[[u8; SIGACTION_SIZE]; NSIG as usize]>>,
    /// `sigaltstack`: (sp, flags, size), Linux's `sas_ss_sp`, `sas_ss_flags`, `sas_ss_size`.
    pub altstack: (u64, u32, u64),
    /// `set_robust_list` head.
    pub robust_list: u64,
    /// Resource limits (shared by the threads of a process).
    pub limits: Rc<RefCell<Limits>>,
    /// Signals sent to this thread and not taken yet.
    pub pending: Pending,
    /// Signals sent to the process and not taken yet (shared by its threads).
    pub shared_pending: Rc<RefCell<Pending>>,
    /// The blocking call a signal woke, if any.
    pub interrupted: Option<Interrupted>,
    /// The number and arguments of the task's last syscall, for running it again.
    pub syscall: (u64, [u64; 6]),
    /// `rt_sigsuspend`'s mask to put back once a handler's frame has saved it or no handler
    /// ran (Linux's `saved_sigmask`).
    pub saved_mask: Option<u64>,
    /// While in `rt_sigtimedwait`: the mask before the waited set was unblocked (Linux's
    /// `real_blocked`); 0 otherwise.
    pub real_blocked: u64,
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
            pending: Pending::default(),
            shared_pending: Rc::new(RefCell::new(Pending::default())),
            interrupted: None,
            syscall: (0, [0; 6]),
            saved_mask: None,
            real_blocked: 0,
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
            pending: Pending::default(),
            shared_pending: if thread {
                self.shared_pending.clone()
            } else {
                Rc::new(RefCell::new(Pending::default()))
            },
            interrupted: None,
            syscall: self.syscall,
            saved_mask: None,
            real_blocked: 0,
        }
    }

    /// At `execve`: handlers set to a function go back to the default (ignored ones stay
    /// ignored, `flush_signal_handlers`), the table is no longer shared, the alternate stack
    /// is cleared; the mask and the pending signals stay.
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

/// One signal's action, decoded.
#[derive(Clone, Copy)]
struct Action {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

fn action_of(t: &Task, sig: u64) -> Action {
    let a = t.sig.actions.borrow()[sig as usize - 1];
    let word = |at: usize| u64::from_ne_bytes(a[at..at + 8].try_into().unwrap_or([0; 8]));
    Action {
        handler: word(0),
        flags: word(8),
        restorer: if sigframe::HAS_RESTORER { word(16) } else { 0 },
        mask: word(SIGACTION_SIZE - 8),
    }
}

/// The `sa_handler` word of `sig`'s action (0 `SIG_DFL`, 1 `SIG_IGN`, else a handler).
fn handler_of(t: &Task, sig: u64) -> u64 {
    action_of(t, sig).handler
}

/// Sets `sig`'s handler to `SIG_DFL` (for every task sharing the table), flags and mask kept.
fn reset_handler(t: &Task, sig: u64) {
    t.sig.actions.borrow_mut()[sig as usize - 1][..8].fill(0);
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
        let mask = mask & !UNBLOCKABLE;
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
/// written (EFAULT). SIGKILL and SIGSTOP are never blocked. What the new mask lets through
/// is delivered on the way back to user mode.
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
        let new = new & !UNBLOCKABLE;
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
    Ok(0)
}

/// What the per-arch frame code needs to build a signal frame (`arch::sigframe::setup_frame`).
pub struct Delivery {
    /// The signal number (the handler's first argument).
    pub sig: u64,
    /// Its `siginfo_t`.
    pub info: [u8; 128],
    /// `sa_handler`.
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_restorer` (0 where the arch has none).
    pub restorer: u64,
    /// The mask to save in the frame (the one before the handler's is applied).
    pub mask: u64,
    /// The alternate stack (sp, flags, size) as `sigaltstack` set it.
    pub altstack: (u64, u32, u64),
    /// The fault address for a fault's signal (x86_64 `cr2`, arm64 `fault_address`), else 0.
    pub fault_address: u64,
}

/// What `rt_sigreturn` read back (`arch::sigframe::restore_frame`).
pub struct Restored {
    /// `uc_sigmask`.
    pub mask: u64,
    /// `uc_stack`, a raw `stack_t`.
    pub stack: [u8; 24],
    /// The restored return register: the syscall's result.
    pub value: u64,
}

/// Linux's `__on_sig_stack`: is `sp` within the alternate stack (it grows down: its top
/// counts, its bottom does not)?
pub fn in_sig_stack(sp: u64, alt: (u64, u32, u64)) -> bool {
    sp > alt.0 && sp - alt.0 <= alt.2
}

/// `on_sig_stack`: as [`in_sig_stack`], but never with `SS_AUTODISARM` (the stack is
/// disarmed while a handler runs on it).
pub fn on_sig_stack(sp: u64, alt: (u64, u32, u64)) -> bool {
    alt.1 & SS_AUTODISARM == 0 && in_sig_stack(sp, alt)
}

/// `sas_ss_flags`: `SS_DISABLE` without an alternate stack, `SS_ONSTACK` on it, else 0.
pub fn sas_ss_flags(sp: u64, alt: (u64, u32, u64)) -> u32 {
    if alt.2 == 0 {
        SS_DISABLE
    } else if on_sig_stack(sp, alt) {
        SS_ONSTACK
    } else {
        0
    }
}

/// `next_signal`: the synchronous signals first, then the lowest number.
fn next_signal(ready: u64) -> u64 {
    let x = if ready & SYNCHRONOUS != 0 {
        ready & SYNCHRONOUS
    } else {
        ready
    };
    u64::from(x.trailing_zeros()) + 1
}

/// Queues `info` for task `i` as Linux's `force_sig_info_to_task`: a blocked or ignored
/// signal (or any, when `fatal`: `force_fatal_sig`) gets the default action back and is
/// unblocked, so it is taken at the next return to user mode.
fn force(t: &mut Task, info: SigInfo, fatal: bool) {
    let sig = info.signo;
    let blocked = t.sig.mask & bit(sig) != 0;
    if blocked || fatal || handler_of(t, sig) == 1 {
        reset_handler(t, sig);
        t.sig.mask &= !bit(sig);
    }
    t.sig.pending.add(info);
}

/// `force_sig_fault`: a user fault's signal for task `i`, delivered before it runs again:
/// to its handler if it has one and does not block the signal, else the default action
/// (death of the thread group). `true` if the default action will be taken.
pub fn force_sig_fault(k: &mut Kernel, i: usize, info: SigInfo) -> bool {
    let t = k.task(i);
    force(t, info, false);
    handler_of(t, info.signo) == 0
}

/// Resolves an interrupted call for task `t`: `handler` is the `sa_flags` of the handler
/// about to run, or `None` if none runs. `false`: the task sleeps again.
fn finish_interrupted(t: &mut Task, x: Interrupted, handler: Option<u64>) -> bool {
    let (nr, args) = t.sig.syscall;
    let eintr = match (x.restart, handler) {
        (Restart::Value(v), _) => {
            t.frame.set_return(v);
            return true;
        }
        (Restart::Sys, Some(flags)) => flags & SA_RESTART == 0,
        (Restart::Intr | Restart::Sleep(_), Some(_)) => true,
        (Restart::Sleep(state), None) => {
            t.state = state;
            return false;
        }
        (Restart::Sys | Restart::Intr, None) => false,
    };
    if !eintr {
        sigframe::restart_syscall(&mut t.frame, nr, args);
        return true;
    }
    let mut value = neg(EINTR);
    if let Restart::Sleep(_) = x.restart {
        let now = crate::clock::monotonic_ns();
        if x.deadline <= now {
            // The time was up anyway: the sleep completed (`do_nanosleep` returns 0).
            value = 0;
        } else if x.rem != 0 {
            let left = x.deadline - now;
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(left / 1_000_000_000).to_ne_bytes());
            b[8..].copy_from_slice(&(left % 1_000_000_000).to_ne_bytes());
            if uaccess::write_bytes(x.rem, &b).is_err() {
                value = neg(EFAULT);
            }
        }
    }
    t.frame.set_return(value);
    true
}

/// Linux's `get_signal` loop and `handle_signal`, run before task `i` enters user mode:
/// takes every pending signal it does not block (see the module doc) and builds a frame for
/// each one with a handler, the last one taken running first. `false` when the task must not
/// enter user mode: it died (a fatal default) or went back to an interrupted sleep.
pub fn deliver_pending(k: &mut Kernel, i: usize) -> bool {
    let mut interrupted = k.task(i).sig.interrupted.take();
    loop {
        let t = k.task(i);
        let private = t.sig.pending.set & !t.sig.mask;
        let shared = t.sig.shared_pending.borrow().set & !t.sig.mask;
        let (sig, info) = if private != 0 {
            let s = next_signal(private);
            (s, t.sig.pending.take(s))
        } else if shared != 0 {
            let s = next_signal(shared);
            (s, t.sig.shared_pending.borrow_mut().take(s))
        } else {
            break;
        };
        let act = action_of(t, sig);
        if sig == SIGKILL || act.handler == 0 {
            match default_action(sig) {
                DefaultAction::Kill => {
                    k.exit_group(i, Death::Killed(sig as u8));
                    return false;
                }
                DefaultAction::Ignore => continue,
                DefaultAction::StopOrContinue => {
                    crate::kprintln!(
                        "kernel-stub: signal {sig} would stop or continue a process: not implemented, ignored"
                    );
                    continue;
                }
            }
        }
        if act.handler == 1 {
            continue;
        }
        if let Some(x) = interrupted.take() {
            finish_interrupted(t, x, Some(act.flags));
        }
        // `sigmask_to_save`: the mask before `rt_sigsuspend` changed it, if it did.
        let save = t.sig.saved_mask.take().unwrap_or(t.sig.mask);
        let d = Delivery {
            sig,
            info: info.bytes(),
            handler: act.handler,
            flags: act.flags,
            restorer: act.restorer,
            mask: save,
            altstack: t.sig.altstack,
            fault_address: info.addr.unwrap_or(0),
        };
        if sigframe::setup_frame(&mut t.frame, &d).is_ok() {
            // `signal_delivered`.
            let mut block = act.mask;
            if act.flags & SA_NODEFER == 0 {
                block |= bit(sig);
            }
            t.sig.mask |= block & !UNBLOCKABLE;
            if act.flags & SA_RESETHAND != 0 {
                reset_handler(t, sig);
            }
            if t.sig.altstack.1 & SS_AUTODISARM != 0 {
                t.sig.altstack = (0, SS_DISABLE, 0);
            }
        } else {
            // `force_sigsegv`: a SIGSEGV handler whose frame failed is not tried again.
            t.sig.saved_mask = Some(save);
            force(t, SigInfo::kernel(SIGSEGV), sig == SIGSEGV);
        }
    }
    // `restore_saved_sigmask`: no handler took it.
    if let Some(m) = k.task(i).sig.saved_mask.take() {
        k.task(i).sig.mask = m;
    }
    match interrupted {
        Some(x) => finish_interrupted(k.task(i), x, None),
        None => true,
    }
}

/// Wakes task `j` from a blocking call because a signal with a handler arrived that it does
/// not block; [`deliver_pending`] decides the call's result.
fn interrupt(k: &mut Kernel, j: usize) {
    let t = k.task(j);
    let (nr, a) = t.sig.syscall;
    let (restart, rem, deadline) = match t.state {
        State::FutexWait { deadline: None, .. } | State::WaitChild(_) => (Restart::Sys, 0, 0),
        State::FutexWait {
            deadline: Some(_), ..
        } => (Restart::Intr, 0, 0),
        State::PipeWait { done, .. } if done > 0 => (Restart::Value(done), 0, 0),
        State::PipeWait { .. } => (Restart::Sys, 0, 0),
        // `-ERESTARTNOHAND`: EINTR with a handler, else it runs again.
        State::SigSuspend => (Restart::Intr, 0, 0),
        // Woken by a handled signal outside its set: EINTR whatever the flags.
        State::SigTimedWait { .. } => {
            t.sig.mask = core::mem::take(&mut t.sig.real_blocked);
            (Restart::Value(neg(EINTR)), 0, 0)
        }
        State::Sleep { deadline } => {
            // `rem` of a relative sleep only (`TIMER_ABSTIME` is flag bit 0).
            let rem = match nr {
                NANOSLEEP => a[1],
                CLOCK_NANOSLEEP if a[1] & 1 == 0 => a[3],
                _ => 0,
            };
            (Restart::Sleep(t.state), rem, deadline)
        }
        _ => return,
    };
    t.sig.interrupted = Some(Interrupted {
        restart,
        rem,
        deadline,
    });
    t.state = State::Runnable;
}

/// `rt_sigreturn`: the registers, the mask (never SIGKILL or SIGSTOP) and the alternate
/// stack come back from the frame the handler returned through (`restore_altstack` keeps
/// only EFAULT of `do_sigaltstack`'s errors). A frame that cannot be read or accepted is
/// `badframe`: SIGSEGV.
pub fn rt_sigreturn(k: &mut Kernel, i: usize) -> SysResult {
    let t = k.task(i);
    t.sig.interrupted = None;
    match sigframe::restore_frame(&mut t.frame) {
        Ok(r) => {
            t.sig.mask = r.mask & !UNBLOCKABLE;
            let sp = t.frame.sp();
            let _ = do_sigaltstack(t, &r.stack, sp);
            Ok(r.value)
        }
        Err(()) => {
            force(t, SigInfo::kernel(SIGSEGV), false);
            Ok(0)
        }
    }
}

/// `sigaltstack(ss, old_ss)` (`do_sigaltstack`): EFAULT for an unreadable `ss`, EPERM while
/// running on the alternate stack, EINVAL for flags other than 0, `SS_ONSTACK` or
/// `SS_DISABLE` (plus `SS_AUTODISARM`), ENOMEM for a stack smaller than `MINSIGSTKSZ`, then
/// the old one is written (EFAULT) with `SS_ONSTACK` if the caller is on it.
pub fn sigaltstack(k: &mut Kernel, i: usize, ss: u64, old_ss: u64) -> SysResult {
    let mut new = None;
    if ss != 0 {
        let mut b = [0u8; 24];
        uaccess::read_bytes(ss, &mut b).map_err(|_| EFAULT)?;
        new = Some(b);
    }
    let t = k.task(i);
    let sp = t.frame.sp();
    let before = t.sig.altstack;
    if let Some(b) = new {
        do_sigaltstack(t, &b, sp)?;
    }
    if old_ss != 0 {
        let (ss_sp, flags, size) = before;
        let flags = sas_ss_flags(sp, before) | (flags & SS_AUTODISARM);
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&ss_sp.to_ne_bytes());
        b[8..12].copy_from_slice(&flags.to_ne_bytes());
        b[16..24].copy_from_slice(&size.to_ne_bytes());
        uaccess::write_bytes(old_ss, &b).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// The checks and update of `do_sigaltstack` for a new `stack_t` `b`, the task at `sp`.
fn do_sigaltstack(t: &mut Task, b: &[u8; 24], sp: u64) -> Result<(), i32> {
    let ss_sp = u64::from_ne_bytes(b[0..8].try_into().unwrap_or([0; 8]));
    let flags = u32::from_ne_bytes(b[8..12].try_into().unwrap_or([0; 4]));
    let size = u64::from_ne_bytes(b[16..24].try_into().unwrap_or([0; 8]));
    if on_sig_stack(sp, t.sig.altstack) {
        return Err(EPERM);
    }
    let mode = flags & !SS_AUTODISARM;
    if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
        return Err(EINVAL);
    }
    t.sig.altstack = if mode == SS_DISABLE {
        (0, flags, 0)
    } else if size < MINSIGSTKSZ {
        return Err(ENOMEM);
    } else {
        (ss_sp, flags, size)
    };
    Ok(())
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

/// Task `j` (a thread of its process) receives `info`, for the process when `shared`
/// (`kill`) or for that thread (`tgkill`). SIGKILL, and a fatal default that nobody blocks,
/// end every thread of the process at once (Linux's `complete_signal`; `wait` sees
/// `WIFSIGNALED`). A signal nobody blocks whose action is `SIG_IGN` or an ignoring default
/// is dropped (`sig_ignored`); anything else is queued, for the thread or the process, and
/// a thread that does not block it and has a handler for it is woken from a blocking call
/// ([`interrupt`]). For the process, the first thread that does not block it is picked.
fn deliver(k: &mut Kernel, j: usize, info: SigInfo, shared: bool) {
    let sig = info.signo;
    let tgid = k.task(j).tgid;
    let target = if shared {
        k.slots()
            .find(|(_, t)| t.tgid == tgid && !t.is_zombie() && t.sig.mask & bit(sig) == 0)
            .map(|(x, _)| x)
    } else {
        Some(j).filter(|&x| k.task(x).sig.mask & bit(sig) == 0)
    };
    if sig == SIGKILL {
        k.exit_group(j, Death::Killed(sig as u8));
        return;
    }
    let handler = handler_of(k.task(j), sig);
    // A signal `rt_sigtimedwait` waits for counts as blocked for the default and ignore
    // decisions (`real_blocked` in `sig_ignored` and `complete_signal`).
    let waited = target.is_some_and(|x| k.task(x).sig.real_blocked & bit(sig) != 0);
    if let Some(x) = target
        && handler == 0
        && !waited
    {
        match default_action(sig) {
            DefaultAction::Ignore => return,
            DefaultAction::StopOrContinue => {
                crate::kprintln!(
                    "kernel-stub: signal {sig} would stop or continue a process: not implemented, ignored"
                );
                return;
            }
            DefaultAction::Kill => {
                k.exit_group(x, Death::Killed(sig as u8));
                return;
            }
        }
    }
    if target.is_some() && handler == 1 && !waited {
        return;
    }
    let t = k.task(j);
    if shared {
        t.sig.shared_pending.borrow_mut().add(info);
    } else {
        t.sig.pending.add(info);
    }
    let Some(x) = target else {
        return;
    };
    let t = k.task(x);
    if let State::SigTimedWait { set, .. } = t.state
        && set & bit(sig) != 0
    {
        // The call runs again with its mask back and takes the signal.
        t.sig.mask = core::mem::take(&mut t.sig.real_blocked);
        t.state = State::Retry { done: 0 };
    } else if handler > 1 {
        interrupt(k, x);
    }
}

/// Bytes of the kernel's `sigset_t`.
const SIGSET_SIZE: u64 = 8;

/// `rt_sigpending(set, sigsetsize)`: EINVAL for a size above 8; the pending signals (the
/// thread's and the process's) that the thread blocks, `sigsetsize` bytes of them (EFAULT).
pub fn rt_sigpending(k: &mut Kernel, i: usize, set: u64, size: u64) -> SysResult {
    if size > SIGSET_SIZE {
        return Err(EINVAL);
    }
    let t = k.task(i);
    let pending = (t.sig.pending.set | t.sig.shared_pending.borrow().set) & t.sig.mask;
    uaccess::write_bytes(set, &pending.to_ne_bytes()[..size as usize]).map_err(|_| EFAULT)?;
    Ok(0)
}

/// `rt_sigsuspend(mask, sigsetsize)`: EINVAL for a size other than 8, EFAULT for an
/// unreadable mask; then the task waits with that mask (never SIGKILL or SIGSTOP) until a
/// signal is delivered, and returns EINTR once its handler is set up, the old mask saved in
/// the frame (`saved_sigmask`; see [`deliver_pending`]).
pub fn rt_sigsuspend(k: &mut Kernel, i: usize, mask: u64, size: u64) -> Option<SysResult> {
    if size != SIGSET_SIZE {
        return Some(Err(EINVAL));
    }
    let new = match uaccess::read_u64(mask) {
        Ok(m) => m & !UNBLOCKABLE,
        Err(_) => return Some(Err(EFAULT)),
    };
    let t = k.task(i);
    t.sig.saved_mask = Some(t.sig.mask);
    t.sig.mask = new;
    t.state = State::SigSuspend;
    // A signal already pending that the new mask lets through ends the wait at once.
    let ready = (t.sig.pending.set | t.sig.shared_pending.borrow().set) & !new;
    if ready != 0 {
        interrupt(k, i);
    }
    k.yield_now = true;
    None
}

const EAGAIN: i32 = 11;

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)` (`do_sigtimedwait`): EINVAL for a size
/// other than 8, EFAULT for an unreadable set or timeout, EINVAL for an invalid timeout; a
/// pending signal of the set (never SIGKILL or SIGSTOP) is taken, its `siginfo` written to
/// `info` (EFAULT, the signal gone), and its number returned; else, with a zero timeout,
/// EAGAIN; else the task waits with the set unblocked until one comes (the call runs again),
/// the timeout passes (EAGAIN) or a handled signal interrupts it (EINTR).
pub fn rt_sigtimedwait(
    k: &mut Kernel,
    i: usize,
    set: u64,
    info: u64,
    timeout: u64,
    size: u64,
) -> Option<SysResult> {
    if size != SIGSET_SIZE {
        return Some(Err(EINVAL));
    }
    let set = match uaccess::read_u64(set) {
        Ok(s) => s & !UNBLOCKABLE,
        Err(_) => return Some(Err(EFAULT)),
    };
    let wait_ns = if timeout == 0 {
        None
    } else {
        let sec = uaccess::read_u64(timeout).map(|v| v as i64);
        let nsec = uaccess::read_u64(timeout.wrapping_add(8)).map(|v| v as i64);
        match (sec, nsec) {
            (Ok(s), Ok(n)) if s >= 0 && (0..1_000_000_000).contains(&n) => Some(
                (s as u64)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(n as u64),
            ),
            (Ok(_), Ok(_)) => return Some(Err(EINVAL)),
            _ => return Some(Err(EFAULT)),
        }
    };
    let t = k.task(i);
    let private = t.sig.pending.set & set;
    let shared = t.sig.shared_pending.borrow().set & set;
    let taken = if private != 0 {
        Some(t.sig.pending.take(next_signal(private)))
    } else if shared != 0 {
        Some(t.sig.shared_pending.borrow_mut().take(next_signal(shared)))
    } else {
        None
    };
    if let Some(x) = taken {
        if info != 0 && uaccess::write_bytes(info, &x.bytes()).is_err() {
            return Some(Err(EFAULT));
        }
        return Some(Ok(x.signo));
    }
    if wait_ns == Some(0) {
        return Some(Err(EAGAIN));
    }
    t.sig.real_blocked = t.sig.mask;
    t.sig.mask &= !set;
    t.state = State::SigTimedWait {
        set,
        deadline: wait_ns.map(|ns| crate::clock::monotonic_ns().saturating_add(ns)),
    };
    k.yield_now = true;
    None
}

/// At a tick: an `rt_sigtimedwait` whose timeout has passed ends with EAGAIN, its mask back.
pub fn timed_wait_expired(t: &mut Task, now: u64) {
    if let State::SigTimedWait {
        deadline: Some(d), ..
    } = t.state
        && d <= now
    {
        t.sig.mask = core::mem::take(&mut t.sig.real_blocked);
        t.state = State::Runnable;
        t.frame.set_return(neg(EAGAIN));
    }
}

/// `si_code` of a SIGCHLD: the child exited, or was killed (no core dumps: `RLIMIT_CORE` 0).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const SIGCHLD: u64 = 17;

/// What `do_notify_parent` sends for the zombie in slot `child`, taken before its parent's
/// wait may reap it: its exit signal (usually SIGCHLD; none for 0) with `CLD_EXITED`/
/// `CLD_KILLED`, the child's pid, its status and its CPU times in clock ticks (`USER_HZ` 100).
pub fn parent_note(k: &mut Kernel, child: usize) -> Option<SigInfo> {
    let t = k.task(child);
    let State::Zombie(death) = t.state else {
        return None;
    };
    let sig = u64::from(t.exit_signal);
    if sig == 0 || sig > NSIG {
        return None;
    }
    let (code, status) = match death {
        Death::Exited(c) => (CLD_EXITED, i32::from(c)),
        Death::Killed(s) => (CLD_KILLED, i32::from(s)),
    };
    let ticks = |ns: u64| ns / 10_000_000;
    let (user, sys) = (
        t.cpu.own.user + t.cpu.dead.user,
        t.cpu.own.sys + t.cpu.dead.sys,
    );
    Some(SigInfo {
        signo: sig,
        code,
        pid: t.tid,
        addr: None,
        child: Some((status, ticks(user), ticks(sys))),
        raw: None,
    })
}

/// `do_notify_parent`'s signal: parent process `ppid` gets `note` ([`parent_note`]) after
/// the wait the child's exit completed (Linux wakes the parent's `wait4`, whose scan finds
/// the child before any pending signal counts). A parent that ignores SIGCHLD with
/// `SIG_IGN` gets nothing (the stub does not reap such children by itself, see the README).
pub fn notify_parent(k: &mut Kernel, note: Option<SigInfo>, ppid: u32) {
    let Some(info) = note else {
        return;
    };
    let Some(j) = k
        .slots()
        .find(|(_, p)| p.tgid == ppid && !p.is_zombie())
        .map(|(j, _)| j)
    else {
        return;
    };
    if info.signo == SIGCHLD && handler_of(k.task(j), SIGCHLD) == 1 {
        return;
    }
    deliver(k, j, info, true);
}

/// `send_sig(sig, current, 0)`: the kernel signals task `i` itself (a pipe write without
/// readers sends SIGPIPE this way: `SI_USER` from the task itself).
pub fn send_sig(k: &mut Kernel, i: usize, sig: u64) {
    let info = SigInfo {
        signo: sig,
        code: SI_USER,
        pid: k.task(i).tgid,
        addr: None,
        child: None,
        raw: None,
    };
    deliver(k, i, info, false);
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
/// no EPERM. The caller's own process is signalled last (it may not come back). `SI_USER`
/// with the caller's pid. A zombie process counts until it is reaped (its pid and signal
/// state stay until `release_task`): the signal goes to a live thread of its group, or
/// nowhere when none is left.
pub fn kill(k: &mut Kernel, i: usize, pid: u64, sig: u64) -> SysResult {
    kill_with(k, i, pid, sig, None)
}

/// [`kill`], with the `siginfo` of `rt_sigqueueinfo` when `raw` is given.
fn kill_with(k: &mut Kernel, i: usize, pid: u64, sig: u64, raw: Option<[u8; 128]>) -> SysResult {
    let sig = signal_number(sig)?;
    let pid = pid as u32 as i32;
    let me = k.task(i).tgid;
    let leaders: Vec<(usize, u32)> = k
        .slots()
        .filter(|(_, t)| t.tid == t.tgid)
        .map(|(j, t)| (j, t.tgid))
        .collect();
    let targets: Vec<(usize, u32)> = match pid {
        p if p > 0 => leaders
            .into_iter()
            .filter(|&(_, g)| g == p as u32)
            .collect(),
        0 => leaders,
        -1 => leaders.into_iter().filter(|&(_, g)| g != me).collect(),
        p if p.unsigned_abs() == crate::task::FIRST_PID => leaders,
        _ => Vec::new(),
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    let info = SigInfo {
        signo: sig,
        code: SI_USER,
        pid: me,
        addr: None,
        child: None,
        raw,
    };
    let (own, others): (Vec<_>, Vec<_>) = targets.into_iter().partition(|&(_, g)| g == me);
    for (_, g) in others.into_iter().chain(own) {
        let found = k
            .slots()
            .find(|(_, t)| t.tgid == g && !t.is_zombie())
            .map(|(j, _)| j);
        if let Some(j) = found {
            deliver(k, j, info, true);
        }
    }
    Ok(0)
}

/// `tgkill(tgid, tid, sig)` and `tkill(tid, sig)` (`tgid` 0: any group): EINVAL for a
/// nonpositive id or a bad signal, ESRCH when there is no such thread; a zombie leader
/// (until it is reaped) is still one and answers 0, the signal going nowhere (Linux queues it
/// for a task that never takes it again). `SI_TKILL` with the caller's pid.
pub fn tgkill(k: &mut Kernel, tgid: Option<u64>, tid: u64, sig: u64) -> SysResult {
    tgkill_with(k, tgid, tid, sig, None)
}

/// [`tgkill`], with the `siginfo` of `rt_tgsigqueueinfo` when `raw` is given.
fn tgkill_with(
    k: &mut Kernel,
    tgid: Option<u64>,
    tid: u64,
    sig: u64,
    raw: Option<[u8; 128]>,
) -> SysResult {
    let tid = tid as u32 as i32;
    let tgid = tgid.map(|g| g as u32 as i32);
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(EINVAL);
    }
    let sig = signal_number(sig)?;
    let j = k
        .slots()
        .find(|(_, t)| t.tid == tid as u32 && tgid.is_none_or(|g| t.tgid == g as u32))
        .map(|(j, _)| j)
        .ok_or(ESRCH)?;
    if sig != 0 && !k.task(j).is_zombie() {
        let info = SigInfo {
            signo: sig,
            code: SI_TKILL,
            pid: k.current_task().tgid,
            addr: None,
            child: None,
            raw,
        };
        deliver(k, j, info, false);
    }
    Ok(0)
}

/// `rt_sigqueueinfo(pid, sig, info)` and `rt_tgsigqueueinfo(tgid, tid, sig, info)`
/// (`do_rt_sigqueueinfo`, `do_rt_tgsigqueueinfo`): EFAULT for an unreadable `info`; a
/// nonpositive tgid or tid EINVAL (the thread form); EPERM for a `si_code` that would claim
/// the kernel or `kill`/`tkill` as the sender (`si_code >= 0` or `SI_TKILL`) when the target
/// is not the caller itself; then as `kill` of that one process (pid <= 0: ESRCH) or
/// `tgkill`, delivering the caller's `siginfo` with `si_signo` set to `sig`.
pub fn rt_sigqueueinfo(
    k: &mut Kernel,
    i: usize,
    tgid: Option<u64>,
    pid: u64,
    sig: u64,
    info: u64,
) -> SysResult {
    let mut raw = [0u8; 128];
    uaccess::read_bytes(info, &mut raw).map_err(|_| EFAULT)?;
    let code = i32::from_ne_bytes(raw[8..12].try_into().unwrap_or([0; 4]));
    let target = pid as u32 as i32;
    if let Some(g) = tgid
        && (target <= 0 || g as u32 as i32 <= 0)
    {
        return Err(EINVAL);
    }
    let me = match tgid {
        Some(_) => k.task(i).tid,
        None => k.task(i).tgid,
    };
    if (code >= 0 || code == SI_TKILL) && target as u32 != me {
        return Err(EPERM);
    }
    match tgid {
        Some(g) => tgkill_with(k, Some(g), pid, sig, Some(raw)),
        None if target <= 0 => Err(ESRCH),
        None => kill_with(k, i, pid, sig, Some(raw)),
    }
}
