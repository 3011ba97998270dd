//! Every conformance case, in one list ([`CASES`]), so the native/qemu-user runs and the kernel
//! stub run exactly the same checks.
//!
//! Thread cases only use write, exit, exit_group, clone, clone3, futex, gettid, getpid,
//! sched_yield (what the kernel stub implements), plus how `user::thread_pointer` reads the TLS
//! register (`arch_prctl(ARCH_GET_FS)` on x86_64; a register read elsewhere). Cases that need more (wait4/waitid for
//! process children, the kernel as an errno oracle) say so in [`Case::needs`] and turn an
//! `ENOSYS` into a skip with the reason, never a failure. Expected values are written here by
//! hand from the facts file and LTP (clone01, 03, 05, 07, 08, 10, clone302), never computed by
//! the code under test.

use core::hint::black_box;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use clone_core::error::Rule;
use clone_core::stack;
use clone_core::user::{self, ARCH, Clone3Request, CloneRequest, SpawnError};
use clone_core::{CloneFlags, Errno, StackError, StackRegion};

use crate::out::Msg;
use crate::sys::{self, EINVAL, ENOSYS, Exit, GuardedStack, SIGCHLD};
use crate::{msg, processes};

/// What a case needs beyond the thread syscalls.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// `clone3` (skip on arches without it, and if the kernel says ENOSYS).
    Clone3,
    /// Process children and `wait4`/`waitid` (skip on ENOSYS).
    Wait,
    /// A native Linux kernel to compare errno with (qemu-user rejects valid flag sets).
    ErrnoOracle,
}

/// A case's result.
pub enum Outcome {
    /// Everything checked held.
    Pass,
    /// A check failed; the detail says which and with what values.
    Fail(Msg),
    /// The environment cannot run the case; the reason says why.
    Skip(Msg),
}

/// One conformance case.
pub struct Case {
    /// Printed as `case <name>: …`.
    pub name: &'static str,
    /// What it needs beyond the thread syscalls: `Clone3` and `ErrnoOracle` are judged before
    /// the case runs ([`unmet`]); `Wait` is found out at run time (ENOSYS turns into a skip).
    pub needs: &'static [Capability],
    /// Runs the case.
    pub run: fn() -> Outcome,
}

/// All cases, in the order they run. Every case that starts a process child (fork-like or
/// vfork) runs before the first thread: qemu-user can deadlock a forked child when a guest
/// thread has only just exited (its host thread may still hold an emulator lock), and a real
/// kernel does not care about the order.
pub static CASES: &[Case] = &[
    Case {
        name: "fork-sigchld",
        needs: &[Capability::Wait],
        run: fork_sigchld,
    },
    Case {
        name: "fork-parent-settid",
        needs: &[Capability::Wait],
        run: fork_parent_settid,
    },
    Case {
        name: "fork-entry-arg-and-return",
        needs: &[Capability::Wait],
        run: fork_entry_arg_and_return,
    },
    Case {
        name: "vfork-suspends-parent",
        needs: &[],
        run: vfork_own_stack,
    },
    Case {
        name: "vfork-on-parent-stack",
        needs: &[],
        run: vfork_parent_stack,
    },
    Case {
        name: "clone3-fork-sigchld",
        needs: &[Capability::Clone3, Capability::Wait],
        run: clone3_fork_sigchld,
    },
    Case {
        name: "vfork-suspends-until-exec",
        needs: &[Capability::Wait],
        run: processes::vfork_until_exec,
    },
    Case {
        name: "fork-memory-private",
        needs: &[Capability::Wait],
        run: processes::fork_memory_private,
    },
    Case {
        name: "clone-vm-process-shares-memory",
        needs: &[Capability::Wait],
        run: processes::clone_vm_shares_memory,
    },
    Case {
        name: "exit-signal-0-needs-wclone",
        needs: &[Capability::Wait],
        run: processes::exit_signal_zero_needs_wclone,
    },
    Case {
        name: "wnohang-and-echild",
        needs: &[Capability::Wait],
        run: processes::wnohang_and_echild,
    },
    Case {
        name: "exit-group-from-thread",
        needs: &[Capability::Wait],
        run: processes::exit_group_from_thread,
    },
    Case {
        name: "clone-parent-sibling",
        needs: &[Capability::Wait],
        run: processes::clone_parent,
    },
    Case {
        name: "orphan-reparented",
        needs: &[Capability::Wait],
        run: processes::orphan_reparented,
    },
    Case {
        name: "cow-three-generations",
        needs: &[Capability::Wait],
        run: processes::cow_three_generations,
    },
    Case {
        name: "execve-refusals",
        needs: &[],
        run: processes::execve_refusals,
    },
    Case {
        name: "thousand-fork-exit-wait",
        needs: &[Capability::Wait],
        run: processes::thousand_fork_exit_wait,
    },
    Case {
        name: "thousand-vfork-exec-wait",
        needs: &[Capability::Wait],
        run: processes::thousand_vfork_exec_wait,
    },
    Case {
        name: "clone3-vfork-suspends-parent",
        needs: &[Capability::Clone3],
        run: clone3_vfork,
    },
    Case {
        name: "rejected-before-trap",
        needs: &[],
        run: rejected_before_trap,
    },
    Case {
        name: "user-face-refusals",
        needs: &[],
        run: user_face_refusals,
    },
    Case {
        name: "kernel-agrees-on-errno",
        needs: &[Capability::ErrnoOracle],
        run: kernel_agrees_on_errno,
    },
    Case {
        name: "thread-tid-tls-cleartid",
        needs: &[],
        run: thread_tid_tls_cleartid,
    },
    Case {
        name: "thread-stack-in-region",
        needs: &[],
        run: thread_stack_in_region,
    },
    Case {
        name: "thread-entry-arg-and-return",
        needs: &[],
        run: thread_entry_arg_and_return,
    },
    Case {
        name: "clone3-thread-tid-tls-cleartid",
        needs: &[Capability::Clone3],
        run: clone3_thread,
    },
    Case {
        name: "thousand-threads",
        needs: &[],
        run: thousand_threads,
    },
];

macro_rules! fail {
    ($($t:tt)*) => { return Outcome::Fail(msg!($($t)*)) };
}
macro_rules! skip {
    ($($t:tt)*) => { return Outcome::Skip(msg!($($t)*)) };
}
/// `ensure!(cond, "detail", args…)`: fail the case unless `cond`.
macro_rules! ensure {
    ($c:expr, $($t:tt)*) => { if !$c { fail!($($t)*) } };
}

/// A distinctive argument: every byte different, high bit set, so truncation, sign extension
/// or a swapped register shows.
#[cfg(target_pointer_width = "64")]
const ARG_PATTERN: usize = 0xA5C3_5A3C_0F1E_2D4B;
#[cfg(target_pointer_width = "32")]
const ARG_PATTERN: usize = 0xA5C3_5A3C;

/// The exit code children return to show their entry ran to the end (clone07: returning from
/// `entry` must exit cleanly with its value).
pub(crate) const CHILD_OK: i32 = 42;

/// Thread flags for a pthread-like child, as glibc/musl use them.
pub(crate) fn thread_flags() -> CloneFlags {
    CloneFlags::VM
        | CloneFlags::FS
        | CloneFlags::FILES
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SYSVSEM
}

/// The errors the kernel stub or an old kernel may give for something it does not implement.
fn unsupported(e: &SpawnError) -> Option<i32> {
    match e {
        SpawnError::Kernel { raw, .. } if *raw == ENOSYS => Some(*raw),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Process children (clone01, clone03).

static FORK_PTID: AtomicU32 = AtomicU32::new(0);
static FORK_CTID: AtomicU32 = AtomicU32::new(0);

/// Runs in a fork-like child (own copy of memory): compares what the kernel says about it with
/// what the kernel wrote into its `CLONE_CHILD_SETTID` slot, and the parent's pid (`arg`) with
/// `getppid`. Encodes the first mismatch in the exit code.
extern "C" fn fork_child(parent: usize) -> i32 {
    let pid = user::getpid();
    if pid != user::gettid() {
        return 1; // A process child is its own thread-group leader.
    }
    if FORK_CTID.load(Ordering::Relaxed) != pid {
        return 2; // CLONE_CHILD_SETTID wrote the wrong value or the wrong place.
    }
    match sys::getppid() {
        Ok(pp) if pp as usize != parent => return 3,
        Err(_) => return 4,
        Ok(_) => {}
    }
    CHILD_OK
}

/// Waits for a process child started with `fork_child` and checks its verdict; with
/// `ptid_requested`, also the `CLONE_PARENT_SETTID` slot in the parent.
fn check_process_child(tid: u32, what: &str, ptid_requested: bool) -> Outcome {
    let ptid = FORK_PTID.load(Ordering::Relaxed);
    let verdict = match sys::wait_child(tid) {
        Err(e) if e == ENOSYS => skip!("{what}: child {tid} started but wait4/waitid gave ENOSYS"),
        Err(e) => fail!("{what}: waiting for {tid}: errno {e}"),
        Ok((got, exit)) => {
            ensure!(got == tid, "{what}: waited pid {got}, clone returned {tid}");
            match exit {
                Exit::Code(CHILD_OK) => Outcome::Pass,
                Exit::Code(1) => fail!("{what}: child's getpid() != gettid()"),
                Exit::Code(2) => fail!("{what}: child's CLONE_CHILD_SETTID slot != its getpid()"),
                Exit::Code(3) => fail!("{what}: child's getppid() != parent's getpid()"),
                other => fail!("{what}: child ended with {other:?}, expected exit({CHILD_OK})"),
            }
        }
    };
    if ptid_requested && ptid != tid {
        if ptid == 0 && sys::qemu_user() {
            skip!(
                "qemu-user does not write CLONE_PARENT_SETTID into the parent for a fork-like \
                 child (slot stayed 0; the child's own checks passed)"
            );
        }
        fail!("{what}: CLONE_PARENT_SETTID slot holds {ptid}, clone returned {tid}");
    }
    verdict
}

/// A fork-like child (clone01, clone03): returns its pid; in the child `getpid() == gettid()`,
/// the `CLONE_CHILD_SETTID` slot (in the child's copy) holds that pid, `getppid()` is us.
fn fork_sigchld() -> Outcome {
    fork_like(CloneFlags::CHILD_SETTID, false)
}

/// As [`fork_sigchld`], and the kernel writes the child's tid into the parent's slot (clone08).
fn fork_parent_settid() -> Outcome {
    fork_like(CloneFlags::CHILD_SETTID | CloneFlags::PARENT_SETTID, true)
}

fn fork_like(flags: CloneFlags, ptid: bool) -> Outcome {
    FORK_PTID.store(0, Ordering::Relaxed);
    FORK_CTID.store(0, Ordering::Relaxed);
    let req = CloneRequest {
        parent_tid: ptid.then_some(&FORK_PTID),
        child_tid: Some(&FORK_CTID),
        ..CloneRequest::new(flags, SIGCHLD)
    };
    // SAFETY: no CLONE_VM: the child runs `fork_child` on its own copy of this stack and
    // memory; the slots are statics.
    match unsafe { user::clone(&req, fork_child, user::getpid() as usize) } {
        Ok(tid) => check_process_child(tid, "clone(SIGCHLD)", ptid),
        Err(e) if unsupported(&e).is_some() => skip!("fork-like clone unsupported: {e}"),
        Err(e) => fail!("clone(SIGCHLD) failed: {e}"),
    }
}

extern "C" fn arg_echo_child(arg: usize) -> i32 {
    if arg == ARG_PATTERN { CHILD_OK } else { 7 }
}

fn fork_entry_arg_and_return() -> Outcome {
    let req = CloneRequest::new(CloneFlags::empty(), SIGCHLD);
    // SAFETY: no CLONE_VM; the child only compares its argument.
    match unsafe { user::clone(&req, arg_echo_child, ARG_PATTERN) } {
        Err(e) if unsupported(&e).is_some() => skip!("fork-like clone unsupported: {e}"),
        Err(e) => fail!("clone(SIGCHLD) failed: {e}"),
        Ok(tid) => match sys::wait_child(tid) {
            Err(e) if e == ENOSYS => skip!("wait4/waitid gave ENOSYS"),
            Err(e) => fail!("waiting for {tid}: errno {e}"),
            Ok((_, Exit::Code(CHILD_OK))) => Outcome::Pass,
            Ok((_, Exit::Code(7))) => fail!("entry's argument arrived altered"),
            Ok((_, other)) => fail!("child ended with {other:?}, expected exit({CHILD_OK})"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Threads (clone07, clone08, clone10).

const STACK: usize = 16 * 1024;
static THREAD_STACK: GuardedStack<STACK> = GuardedStack::new();

/// What a thread child saw, written by the child, read by the parent after the join.
struct Probe {
    arg: AtomicUsize,
    tid: AtomicUsize,
    pid: AtomicUsize,
    tp: AtomicUsize,
    sp: AtomicUsize,
    local: AtomicUsize,
    ptid_seen: AtomicUsize,
    done: AtomicUsize,
}

impl Probe {
    const fn new() -> Self {
        Self {
            arg: AtomicUsize::new(0),
            tid: AtomicUsize::new(0),
            pid: AtomicUsize::new(0),
            tp: AtomicUsize::new(0),
            sp: AtomicUsize::new(0),
            local: AtomicUsize::new(0),
            ptid_seen: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        }
    }
    fn reset(&self) {
        for a in [
            &self.arg,
            &self.tid,
            &self.pid,
            &self.tp,
            &self.sp,
            &self.local,
            &self.ptid_seen,
            &self.done,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

static PROBE: Probe = Probe::new();
static PTID: AtomicU32 = AtomicU32::new(0);
static CTID: AtomicU32 = AtomicU32::new(0);
/// Marks a tid slot the kernel has not written (yet).
const SENTINEL: u32 = 0x7EAD_BEEF;

/// An object the compiler must place at the ABI stack alignment without realigning the stack
/// itself, so its address shows whether the child's stack was aligned as the ABI promises.
#[repr(C, align(16))]
struct AbiAligned([u8; 16]);

/// The alignment a call's callee may assume (hand-written from facts §5: 16 everywhere here
/// except 32-bit ARM (8 at public interfaces) and s390x (8)).
const ABI_ALIGN: usize = if cfg!(any(target_arch = "arm", target_arch = "s390x")) {
    8
} else {
    16
};

#[inline(never)]
extern "C" fn thread_child(arg: usize) -> i32 {
    let local = AbiAligned([0x5A; 16]);
    let local_addr = black_box(&local) as *const AbiAligned as usize;
    PROBE
        .sp
        .store(real_sp(user::current_sp()), Ordering::Relaxed);
    PROBE.local.store(local_addr, Ordering::Relaxed);
    PROBE.arg.store(arg, Ordering::Relaxed);
    PROBE.tid.store(user::gettid() as usize, Ordering::Relaxed);
    PROBE.pid.store(user::getpid() as usize, Ordering::Relaxed);
    PROBE.tp.store(user::thread_pointer(), Ordering::Relaxed);
    PROBE
        .ptid_seen
        .store(PTID.load(Ordering::Acquire) as usize, Ordering::Relaxed);
    // Use some stack, so an SP outside the region would hit a canary.
    let mut scratch = [0u8; 512];
    for (i, b) in scratch.iter_mut().enumerate() {
        *b = i as u8;
    }
    black_box(&mut scratch);
    PROBE.done.store(1, Ordering::Release);
    CHILD_OK // Returning must end only this thread (clone07).
}

/// The address `%sp` really points at (sparc64 keeps it biased by 2047).
fn real_sp(sp: usize) -> usize {
    if cfg!(target_arch = "sparc64") {
        sp.wrapping_add(2047)
    } else {
        sp
    }
}

/// Waits until the kernel clears `slot` (`CLONE_CHILD_CLEARTID` at thread exit) using the
/// futex it wakes. Gives up after 20 one-second timeouts (or, on a kernel without futex, many
/// yields), so a kernel that clears the wrong word (e.g. `child_tid` and `tls` swapped) fails
/// the case instead of hanging the run.
fn join(slot: &AtomicU32) -> Result<(), Msg> {
    const EAGAIN: i32 = 11; // Same number on every arch here.
    const EINTR: i32 = 4;
    let (mut timeouts, mut yields) = (0u32, 0u32);
    loop {
        let v = slot.load(Ordering::Acquire);
        if v == 0 {
            return Ok(());
        }
        match sys::futex_wait_1s(slot, v) {
            Ok(()) | Err(EAGAIN) | Err(EINTR) => {}
            Err(e) if e == ENOSYS => {
                user::sched_yield();
                yields += 1;
            }
            Err(_) => timeouts += 1, // ETIMEDOUT
        }
        if timeouts >= 20 || yields >= 10_000_000 {
            return Err(msg!(
                "tid slot still {v:#x} after ~20 s: CLONE_CHILD_CLEARTID never cleared it"
            ));
        }
    }
}

/// The value to pass as `tls` for a child whose thread pointer should become `value`.
#[cfg(not(target_arch = "x86"))]
fn child_tls(value: usize) -> usize {
    value
}

/// i386 takes a `struct user_desc *` for the segment `%gs` selects; see `i386_tls`.
#[cfg(target_arch = "x86")]
fn child_tls(value: usize) -> usize {
    crate::i386_tls::child_desc(value)
}

#[repr(C, align(64))]
struct TlsBlock([usize; 8]);
static CHILD_TLS_BLOCK: TlsBlock = TlsBlock([0; 8]);

/// A distinctive, valid thread-pointer value: the address of a static block (canonical on
/// x86_64, aligned everywhere).
fn tls_value() -> usize {
    core::ptr::addr_of!(CHILD_TLS_BLOCK) as usize
}

fn check_thread_probe(tid: u32, region: StackRegion, expect_tp: Option<usize>) -> Option<Msg> {
    let p = &PROBE;
    if p.done.load(Ordering::Acquire) != 1 {
        return Some(msg!("child did not finish its entry"));
    }
    let got = p.tid.load(Ordering::Relaxed);
    if got != tid as usize {
        return Some(msg!("child's gettid() {got} != clone's return {tid}"));
    }
    let pid = p.pid.load(Ordering::Relaxed);
    if pid != user::getpid() as usize {
        return Some(msg!(
            "CLONE_THREAD child's getpid() {pid} != parent's {}",
            user::getpid()
        ));
    }
    if let Some(tp) = expect_tp {
        let seen = p.tp.load(Ordering::Relaxed);
        if seen != tp {
            return Some(msg!(
                "child's thread pointer {seen:#x}, CLONE_SETTLS gave {tp:#x}"
            ));
        }
    }
    let sp = p.sp.load(Ordering::Relaxed) as u64;
    let (lo, hi) = (region.base, region.base + region.size);
    if !(lo..hi).contains(&sp) {
        return Some(msg!(
            "child's SP {sp:#x} outside its region [{lo:#x}, {hi:#x})"
        ));
    }
    let local = p.local.load(Ordering::Relaxed);
    if local % ABI_ALIGN != 0 {
        return Some(msg!(
            "a {ABI_ALIGN}-aligned local sits at {local:#x}: child's stack misaligned"
        ));
    }
    None
}

/// The thread case with the given clone path; `clone3` picks `user::clone3`.
fn run_thread(clone3: bool, arg: usize) -> Outcome {
    let what = if clone3 { "clone3" } else { "clone" };
    let stack = &THREAD_STACK;
    stack.arm();
    PROBE.reset();
    PTID.store(0, Ordering::Relaxed);
    CTID.store(SENTINEL, Ordering::Relaxed);
    let region = stack.region();
    let tls_v = tls_value();
    let tls = child_tls(tls_v);
    let tp_before = user::thread_pointer();
    let flags = thread_flags()
        | CloneFlags::SETTLS
        | CloneFlags::PARENT_SETTID
        | CloneFlags::CHILD_CLEARTID;
    // SAFETY: the region is a static only this child uses until the join below; the tid slots
    // are statics; the child touches only atomics and its own stack.
    let r = unsafe {
        if clone3 {
            let req = Clone3Request::new(flags, 0)
                .with_stack(region)
                .with_parent_tid(&PTID)
                .with_child_tid(&CTID)
                .with_tls(tls);
            user::clone3(&req, thread_child, arg)
        } else {
            let req = CloneRequest {
                stack: Some(region),
                parent_tid: Some(&PTID),
                child_tid: Some(&CTID),
                tls,
                ..CloneRequest::new(flags, 0)
            };
            user::clone(&req, thread_child, arg)
        }
    };
    let tid = match r {
        Ok(tid) => tid,
        Err(e) if clone3 && unsupported(&e).is_some() => return clone3_enosys(&e),
        Err(e) => fail!("{what} failed: {e}"),
    };
    // CLONE_PARENT_SETTID is written before clone returns in the parent.
    let ptid = PTID.load(Ordering::Acquire);
    if let Err(m) = join(&CTID) {
        fail!("{what}: join: {m}");
    }
    ensure!(
        ptid == tid,
        "{what}: CLONE_PARENT_SETTID slot {ptid:#x}, clone returned {tid}"
    );
    let seen = PROBE.ptid_seen.load(Ordering::Relaxed);
    ensure!(
        seen == tid as usize,
        "{what}: child saw the parent tid slot as {seen:#x} (kernel writes it before the child runs)"
    );
    if let Some(m) = check_thread_probe(tid, region, Some(tls_v)) {
        fail!("{what}: {m}");
    }
    let got_arg = PROBE.arg.load(Ordering::Relaxed);
    ensure!(
        got_arg == arg,
        "{what}: entry got argument {got_arg:#x}, passed {arg:#x}"
    );
    let tp_after = user::thread_pointer();
    ensure!(
        tp_after == tp_before,
        "{what}: parent's thread pointer changed {tp_before:#x} -> {tp_after:#x}"
    );
    if let Err((side, i, v)) = stack.check() {
        fail!("{what}: canary {side}[{i}] overwritten with {v:#x}");
    }
    Outcome::Pass
}

fn thread_tid_tls_cleartid() -> Outcome {
    run_thread(false, 1)
}

fn thread_entry_arg_and_return() -> Outcome {
    run_thread(false, ARG_PATTERN)
}

/// The SP checks in detail: inside the region, at most a few KiB below the SP clone-core
/// computed (so the child started there and not elsewhere in the region), ABI-aligned, and the
/// canaries on both sides untouched.
fn thread_stack_in_region() -> Outcome {
    let stack = &THREAD_STACK;
    stack.arm();
    PROBE.reset();
    CTID.store(SENTINEL, Ordering::Relaxed);
    let region = stack.region();
    let layout = match stack::layout(ARCH, region) {
        Ok(l) => l,
        Err(e) => fail!("stack::layout rejected a {STACK}-byte region: {e}"),
    };
    let flags = thread_flags() | CloneFlags::CHILD_CLEARTID;
    let req = CloneRequest {
        stack: Some(region),
        child_tid: Some(&CTID),
        ..CloneRequest::new(flags, 0)
    };
    // SAFETY: as in `run_thread`.
    let tid = match unsafe { user::clone(&req, thread_child, 3) } {
        Ok(t) => t,
        Err(e) => fail!("clone failed: {e}"),
    };
    if let Err(m) = join(&CTID) {
        fail!("join: {m}");
    }
    if let Some(m) = check_thread_probe(tid, region, None) {
        fail!("{m}");
    }
    let sp = PROBE.sp.load(Ordering::Relaxed) as u64;
    let start = real_sp(layout.child_sp as usize) as u64;
    ensure!(
        sp <= start && start - sp < 4096,
        "child's SP in entry {sp:#x} is not just below the computed start {start:#x}"
    );
    if let Err((side, i, v)) = stack.check() {
        fail!("canary {side}[{i}] overwritten with {v:#x}");
    }
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------
// vfork (clone05).

static VFORK_MARK: AtomicU32 = AtomicU32::new(0);
static VFORK_STACK: GuardedStack<STACK> = GuardedStack::new();

/// Dawdles, then sets the mark: if the parent were not suspended it would see 0.
extern "C" fn vfork_child(arg: usize) -> i32 {
    for _ in 0..20 {
        user::sched_yield();
    }
    for i in 0..200_000u32 {
        black_box(i);
    }
    VFORK_MARK.store(arg as u32, Ordering::Release);
    CHILD_OK
}

fn run_vfork(clone3: bool, own_stack: bool) -> Outcome {
    const MARK: u32 = 0x600D_F00D;
    VFORK_MARK.store(0, Ordering::Relaxed);
    VFORK_STACK.arm();
    let stack = own_stack.then(|| VFORK_STACK.region());
    let flags = CloneFlags::VM | CloneFlags::VFORK;
    // SAFETY: CLONE_VFORK suspends this thread until the child exits, so the child may use its
    // own static stack or (without one) the parent's stack below this frame; it only stores
    // to an atomic.
    let r = unsafe {
        if clone3 {
            let mut req = Clone3Request::new(flags, u64::from(SIGCHLD));
            req.stack = stack;
            user::clone3(&req, vfork_child, MARK as usize)
        } else {
            let req = CloneRequest {
                stack,
                ..CloneRequest::new(flags, SIGCHLD)
            };
            user::clone(&req, vfork_child, MARK as usize)
        }
    };
    let tid = match r {
        Ok(t) => t,
        Err(e) if clone3 && unsupported(&e).is_some() => return clone3_enosys(&e),
        Err(e) => fail!("clone(VM|VFORK) failed: {e}"),
    };
    let mark = VFORK_MARK.load(Ordering::Acquire);
    if own_stack {
        if let Err((side, i, v)) = VFORK_STACK.check() {
            fail!("canary {side}[{i}] overwritten with {v:#x}");
        }
    }
    // Reap the child; a kernel without wait still lets the mark show what the case is about.
    let exit = match sys::wait_child(tid) {
        Ok((_, exit)) => Some(exit),
        Err(e) if e == ENOSYS => None,
        Err(e) => fail!("waiting for the vfork child: errno {e}"),
    };
    if let Some(exit) = exit {
        ensure!(
            exit == Exit::Code(CHILD_OK),
            "vfork child ended with {exit:?}, expected exit({CHILD_OK})"
        );
    }
    if mark == 0 && sys::qemu_user() && exit.is_some() {
        skip!(
            "qemu-user runs CLONE_VM|CLONE_VFORK as a plain fork (parent not suspended, memory \
             not shared); the child ran entry and exited {CHILD_OK}"
        );
    }
    ensure!(
        mark == MARK,
        "clone returned in the parent before the vfork child finished (mark {mark:#x})"
    );
    Outcome::Pass
}

fn vfork_own_stack() -> Outcome {
    run_vfork(false, true)
}

fn vfork_parent_stack() -> Outcome {
    run_vfork(false, false)
}

// ---------------------------------------------------------------------------------------------
// clone3 (clone301).

/// Why a case cannot run here, judged from its [`Case::needs`] before it starts.
pub fn unmet(needs: &[Capability]) -> Option<Msg> {
    for n in needs {
        match n {
            Capability::Clone3 if ARCH.syscalls().clone3.is_none() => {
                return Some(msg!("{} has no clone3 syscall", ARCH.name()));
            }
            Capability::ErrnoOracle if !sys::native() => {
                return Some(if sys::qemu_user() {
                    msg!("qemu-user is not an errno oracle")
                } else {
                    msg!("not a native Linux run: no errno oracle")
                });
            }
            _ => {}
        }
    }
    None
}

/// The skip for a clone3 the kernel (or emulator) does not have.
fn clone3_enosys(e: &SpawnError) -> Outcome {
    if sys::qemu_user() {
        Outcome::Skip(msg!("qemu-user has no clone3 ({e})"))
    } else {
        Outcome::Skip(msg!("clone3: {e}"))
    }
}

fn clone3_fork_sigchld() -> Outcome {
    FORK_PTID.store(0, Ordering::Relaxed);
    FORK_CTID.store(0, Ordering::Relaxed);
    let req = Clone3Request::new(
        CloneFlags::PARENT_SETTID | CloneFlags::CHILD_SETTID,
        u64::from(SIGCHLD),
    )
    .with_parent_tid(&FORK_PTID)
    .with_child_tid(&FORK_CTID);
    // SAFETY: as in `fork_sigchld`.
    match unsafe { user::clone3(&req, fork_child, user::getpid() as usize) } {
        Ok(tid) => check_process_child(tid, "clone3(SIGCHLD)", true),
        Err(e) if unsupported(&e).is_some() => clone3_enosys(&e),
        Err(e) => fail!("clone3 failed: {e}"),
    }
}

fn clone3_thread() -> Outcome {
    run_thread(true, ARG_PATTERN)
}

fn clone3_vfork() -> Outcome {
    run_vfork(true, true)
}

// ---------------------------------------------------------------------------------------------
// Invalid requests (LTP clone302, kselftest clone3.c, gVisor CloneTest): the user face must
// refuse them with the rule the kernel would apply, without trapping; natively the kernel must
// return the same errno. None of these flag sets has CLONE_VM, so if a kernel ever accepts one
// the child is a harmless copy.

/// One invalid request and the rule Linux applies first (facts §1.2–§1.5, hand-copied).
struct Bad {
    name: &'static str,
    clone3: bool,
    flags: u64,
    exit_signal: u64,
    set_tid_len: usize,
    rule: Rule,
}

const BAD: &[Bad] = &[
    Bad {
        name: "thread-without-sighand",
        clone3: false,
        flags: 0x0001_0000, // CLONE_THREAD
        exit_signal: 0,
        set_tid_len: 0,
        rule: Rule::ThreadWithoutSighand,
    },
    Bad {
        name: "sighand-without-vm",
        clone3: false,
        flags: 0x0000_0800, // CLONE_SIGHAND
        exit_signal: 0,
        set_tid_len: 0,
        rule: Rule::SighandWithoutVm,
    },
    Bad {
        name: "newns-with-fs",
        clone3: false,
        flags: 0x0002_0000 | 0x0000_0200, // CLONE_NEWNS | CLONE_FS
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::NewnsWithFs,
    },
    Bad {
        name: "newuser-with-fs",
        clone3: false,
        flags: 0x1000_0000 | 0x0000_0200, // CLONE_NEWUSER | CLONE_FS
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::NewuserWithFs,
    },
    Bad {
        name: "pidfd-with-parent-settid",
        clone3: false,
        flags: 0x0000_1000 | 0x0010_0000, // CLONE_PIDFD | CLONE_PARENT_SETTID
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::PidfdWithParentSettidSameSlot,
    },
    Bad {
        name: "pidfd-with-detached",
        clone3: false,
        flags: 0x0000_1000 | 0x0040_0000, // CLONE_PIDFD | CLONE_DETACHED
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::PidfdWithDetached,
    },
    Bad {
        name: "clone3-unknown-flag",
        clone3: true,
        flags: 1 << 63,
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::Clone3UnknownFlags,
    },
    Bad {
        name: "clone3-exit-signal-above-nsig",
        clone3: true,
        flags: 0,
        exit_signal: ABOVE_NSIG,
        set_tid_len: 0,
        rule: Rule::Clone3BadExitSignal,
    },
    Bad {
        name: "clone3-sighand-with-clear-sighand",
        clone3: true,
        flags: 0x0000_0800 | (1 << 32), // CLONE_SIGHAND | CLONE_CLEAR_SIGHAND
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::SighandWithClearSighand,
    },
    Bad {
        name: "clone3-parent-with-exit-signal",
        clone3: true,
        flags: 0x0000_8000, // CLONE_PARENT
        exit_signal: 17,
        set_tid_len: 0,
        rule: Rule::ThreadOrParentWithExitSignal,
    },
    Bad {
        name: "clone3-set-tid-size-33",
        clone3: true,
        flags: 0,
        exit_signal: 17,
        set_tid_len: 33,
        rule: Rule::SetTidSizeAboveMax,
    },
];

/// `_NSIG + 1`, the lowest exit signal `clone3` refuses for being no signal (`valid_signal()`
/// accepts `0..=_NSIG`): `_NSIG` is 128 on mips (`arch/mips/include/uapi/asm/signal.h`), 64
/// elsewhere (`include/uapi/asm-generic/signal.h`). A real mips kernel accepts 65.
const ABOVE_NSIG: u64 = if cfg!(target_arch = "mips64") {
    129
} else {
    65
};

static SET_TID: [i32; 33] = [0; 33];

extern "C" fn never_child(_: usize) -> i32 {
    99
}

fn rejected_before_trap() -> Outcome {
    for b in BAD {
        if b.clone3 && ARCH.syscalls().clone3.is_none() {
            continue;
        }
        let flags = CloneFlags::from_bits_retain(b.flags);
        // SAFETY: no CLONE_VM in any entry of BAD; should a child start anyway it is a
        // fork-like copy that returns 99 at once.
        let r = unsafe {
            if b.clone3 {
                let req = Clone3Request::new(flags, b.exit_signal)
                    .with_set_tid(&SET_TID[..b.set_tid_len]);
                user::clone3(&req, never_child, 0)
            } else {
                user::clone(
                    &CloneRequest::new(flags, b.exit_signal as u8),
                    never_child,
                    0,
                )
            }
        };
        match r {
            Err(SpawnError::Rejected(e)) if e.rule == b.rule && e.errno == Errno::EINVAL => {}
            Err(SpawnError::Rejected(e)) => fail!(
                "{}: rejected as {:?}/{}, expected {:?}/EINVAL",
                b.name,
                e.rule,
                e.errno,
                b.rule
            ),
            Err(e) => fail!("{}: not rejected before the trap: {e}", b.name),
            Ok(tid) => {
                let _ = sys::wait_child(tid);
                fail!("{}: a child was started (tid {tid})", b.name)
            }
        }
    }
    Outcome::Pass
}

/// The user face's own refusals, also made before any trap: a `CLONE_VM` child without a stack
/// and without `CLONE_VFORK` would run on the parent's live stack; a region with no room or at
/// address 0 is no stack.
fn user_face_refusals() -> Outcome {
    let shared = thread_flags();
    let tiny = StackRegion {
        base: THREAD_STACK.region().base,
        size: 64,
    };
    let null = StackRegion {
        base: 0,
        size: STACK as u64,
    };
    let tries: [(&str, CloneRequest<'_>); 3] = [
        ("CLONE_VM without a stack", CloneRequest::new(shared, 0)),
        (
            "64-byte region",
            CloneRequest {
                stack: Some(tiny),
                ..CloneRequest::new(shared, 0)
            },
        ),
        (
            "region at address 0",
            CloneRequest {
                stack: Some(null),
                ..CloneRequest::new(shared, 0)
            },
        ),
    ];
    for (i, (what, req)) in tries.iter().enumerate() {
        // SAFETY: every request here is refused before the trap (that is what is checked); if
        // one were not, the child would run `never_child` on the parent's stack or in the
        // 64 bytes given, which the case then reports.
        let r = unsafe { user::clone(req, never_child, 0) };
        let ok = matches!(
            (i, &r),
            (0, Err(SpawnError::UnsafeSharedStack))
                | (1, Err(SpawnError::Stack(StackError::TooSmall { .. })))
                | (2, Err(SpawnError::Stack(StackError::NullBase)))
        );
        if !ok {
            match r {
                Ok(tid) => fail!("{what}: a child was started (tid {tid})"),
                Err(e) => fail!("{what}: refused with the wrong reason: {e}"),
            }
        }
    }
    Outcome::Pass
}

fn kernel_agrees_on_errno() -> Outcome {
    for b in BAD {
        let r = if b.clone3 {
            let args = sys::RawCloneArgs {
                flags: b.flags,
                exit_signal: b.exit_signal,
                set_tid: if b.set_tid_len > 0 {
                    SET_TID.as_ptr() as usize as u64
                } else {
                    0
                },
                set_tid_size: b.set_tid_len as u64,
                ..Default::default()
            };
            sys::raw_clone3_errno(&args)
        } else {
            sys::raw_clone_errno(b.flags | b.exit_signal)
        };
        match r {
            Err(EINVAL) => {}
            Err(e) => fail!("{}: the kernel returned errno {e}, expected EINVAL", b.name),
            Ok(tid) => fail!("{}: the kernel accepted it (child {tid})", b.name),
        }
    }
    Outcome::Pass
}

// ---------------------------------------------------------------------------------------------
// Many threads in a row: stacks reused, every tid slot cleared, nothing written outside.

const POOL: usize = 8;
const SMALL: usize = 8 * 1024;
const TOTAL: usize = 1000;
static POOL_STACKS: [GuardedStack<SMALL>; POOL] = [const { GuardedStack::new() }; POOL];
static POOL_CTID: [AtomicU32; POOL] = [const { AtomicU32::new(0) }; POOL];
static POOL_PTID: [AtomicU32; POOL] = [const { AtomicU32::new(0) }; POOL];
static SEEN: [AtomicU32; TOTAL] = [const { AtomicU32::new(0) }; TOTAL];
static RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn pool_child(n: usize) -> i32 {
    if let Some(s) = SEEN.get(n) {
        s.fetch_add(1, Ordering::Relaxed);
    }
    RAN.fetch_add(1, Ordering::Release);
    0
}

fn thousand_threads() -> Outcome {
    RAN.store(0, Ordering::Relaxed);
    for s in &SEEN {
        s.store(0, Ordering::Relaxed);
    }
    let flags = thread_flags() | CloneFlags::PARENT_SETTID | CloneFlags::CHILD_CLEARTID;
    let mut n = 0;
    while n < TOTAL {
        let batch = POOL.min(TOTAL - n);
        let mut tids = [0u32; POOL];
        for i in 0..batch {
            POOL_STACKS[i].arm();
            POOL_CTID[i].store(SENTINEL, Ordering::Relaxed);
            POOL_PTID[i].store(0, Ordering::Relaxed);
            let req = CloneRequest {
                stack: Some(POOL_STACKS[i].region()),
                parent_tid: Some(&POOL_PTID[i]),
                child_tid: Some(&POOL_CTID[i]),
                ..CloneRequest::new(flags, 0)
            };
            // SAFETY: stack i is reused only after the thread that had it was joined below.
            match unsafe { user::clone(&req, pool_child, n + i) } {
                Ok(t) => tids[i] = t,
                Err(e) => {
                    // Join what was started before reporting.
                    for (j, _) in tids.iter().enumerate().take(i) {
                        let _ = join(&POOL_CTID[j]);
                    }
                    fail!("thread {} of {TOTAL}: clone failed: {e}", n + i)
                }
            }
        }
        for i in 0..batch {
            if let Err(m) = join(&POOL_CTID[i]) {
                fail!("thread {}: join: {m}", n + i);
            }
            let p = POOL_PTID[i].load(Ordering::Relaxed);
            ensure!(
                p == tids[i],
                "thread {}: parent tid slot {p:#x}, clone returned {}",
                n + i,
                tids[i]
            );
            if let Err((side, k, v)) = POOL_STACKS[i].check() {
                fail!(
                    "thread {}: stack {i} canary {side}[{k}] overwritten with {v:#x}",
                    n + i
                );
            }
        }
        n += batch;
    }
    let ran = RAN.load(Ordering::Acquire);
    ensure!(ran == TOTAL, "{ran} of {TOTAL} threads ran their entry");
    for (i, s) in SEEN.iter().enumerate() {
        let c = s.load(Ordering::Relaxed);
        ensure!(c == 1, "thread {i} ran its entry {c} times");
    }
    for (i, c) in POOL_CTID.iter().enumerate() {
        let v = c.load(Ordering::Relaxed);
        ensure!(v == 0, "tid slot {i} left at {v:#x}");
    }
    Outcome::Pass
}
