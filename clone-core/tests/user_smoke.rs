//! Host smoke test of the user face on x86-64 Linux: real threads and processes through
//! `clone-core::user`, joined through `CLONE_CHILD_CLEARTID` futex wake-ups and `wait4`.
//! (Every other arch is exercised under qemu-user by the conformance program.)
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use clone_core::CloneFlags;
use clone_core::stack::StackRegion;
use clone_core::user::{self, Clone3Request, CloneRequest, SpawnError};

/// What a child reports back through `arg`.
#[derive(Default)]
struct Report {
    tid: AtomicU32,
    sp: AtomicUsize,
    arg_seen: AtomicUsize,
}

extern "C" fn record(arg: usize) -> i32 {
    // SAFETY: `arg` is the address of a `Report` the parent keeps alive until the child
    // has exited (it joins before dropping it).
    let report = unsafe { &*(arg as *const Report) };
    report.sp.store(user::current_sp(), Ordering::SeqCst);
    report.tid.store(user::gettid(), Ordering::SeqCst);
    report.arg_seen.store(arg, Ordering::SeqCst);
    42
}

const THREAD: CloneFlags = CloneFlags::VM
    .union(CloneFlags::FS)
    .union(CloneFlags::FILES)
    .union(CloneFlags::SIGHAND)
    .union(CloneFlags::THREAD)
    .union(CloneFlags::SYSVSEM)
    .union(CloneFlags::PARENT_SETTID)
    .union(CloneFlags::CHILD_CLEARTID);

fn region(buf: &mut [u8]) -> StackRegion {
    StackRegion {
        base: buf.as_mut_ptr() as u64,
        size: buf.len() as u64,
    }
}

/// Waits until the kernel clears the tid word (CLONE_CHILD_CLEARTID).
fn join(tid_word: &AtomicU32) {
    loop {
        let v = tid_word.load(Ordering::SeqCst);
        if v == 0 {
            return;
        }
        let _ = user::futex_wait(tid_word, v);
    }
}

#[test]
fn thread_runs_on_its_stack_and_is_joined() {
    let mut stack = vec![0u8; 64 * 1024];
    let reg = region(&mut stack);
    let report = Report::default();
    let ptid = AtomicU32::new(0);
    let ctid = AtomicU32::new(u32::MAX);
    let req = CloneRequest {
        stack: Some(reg),
        parent_tid: Some(&ptid),
        child_tid: Some(&ctid),
        ..CloneRequest::new(THREAD, 0)
    };
    let arg = &report as *const Report as usize;
    // SAFETY: the stack, the report and ctid outlive the child (joined below); `record`
    // only touches atomics, no TLS.
    let tid = unsafe { user::clone(&req, record, arg) }.expect("clone");
    // PARENT_SETTID wrote the tid before clone returned; the kernel may not have stored
    // CHILD_SETTID (not requested), so ctid keeps u32::MAX until the child exits.
    assert_eq!(ptid.load(Ordering::SeqCst), tid);
    join(&ctid);
    assert_eq!(report.tid.load(Ordering::SeqCst), tid);
    assert_eq!(report.arg_seen.load(Ordering::SeqCst), arg);
    let sp = report.sp.load(Ordering::SeqCst) as u64;
    assert!(
        sp > reg.base && sp < reg.base + reg.size,
        "child sp {sp:#x} outside [{:#x}, {:#x})",
        reg.base,
        reg.base + reg.size
    );
    assert_ne!(tid, user::gettid());
}

#[test]
fn clone3_thread_is_joined() {
    let mut stack = vec![0u8; 64 * 1024];
    let reg = region(&mut stack);
    let report = Report::default();
    let ptid = AtomicU32::new(0);
    let ctid = AtomicU32::new(u32::MAX);
    let req = Clone3Request::new(THREAD, 0)
        .with_stack(reg)
        .with_parent_tid(&ptid)
        .with_child_tid(&ctid);
    let arg = &report as *const Report as usize;
    // SAFETY: as in the legacy test.
    let tid = unsafe { user::clone3(&req, record, arg) }.expect("clone3");
    assert_eq!(ptid.load(Ordering::SeqCst), tid);
    join(&ctid);
    assert_eq!(report.tid.load(Ordering::SeqCst), tid);
    let sp = report.sp.load(Ordering::SeqCst) as u64;
    assert!(sp > reg.base && sp < reg.base + reg.size);
}

extern "C" fn exit_with_arg(arg: usize) -> i32 {
    arg as i32
}

/// `wait4(pid, &status, 0, NULL)` through the raw syscall; returns the exit code.
fn wait_exit_code(pid: u32) -> i32 {
    let mut status: i32 = 0;
    // SAFETY: wait4 writes one int at `status`.
    let r = unsafe {
        user::syscall4(
            61, // __NR_wait4 on x86_64
            pid as usize,
            &mut status as *mut i32 as usize,
            0,
            0,
        )
    };
    assert_eq!(r, pid as isize, "wait4");
    assert_eq!(status & 0x7f, 0, "child killed by signal {status:#x}");
    (status >> 8) & 0xff
}

#[test]
fn fork_like_child_exit_status_is_entry_result() {
    // No CLONE_VM, no stack: the child runs on a copy of this stack.
    let req = CloneRequest::new(CloneFlags::empty(), 17 /* SIGCHLD */);
    // SAFETY: the child only returns a value; it runs on a private copy of memory.
    let pid = unsafe { user::clone(&req, exit_with_arg, 7) }.expect("clone");
    assert_eq!(wait_exit_code(pid), 7);
}

extern "C" fn set_flag(arg: usize) -> i32 {
    // SAFETY: `arg` points at an AtomicU32 on the suspended parent's stack.
    let flag = unsafe { &*(arg as *const AtomicU32) };
    flag.store(0x5eed, Ordering::SeqCst);
    3
}

#[test]
fn vfork_like_child_runs_on_parents_stack_while_parent_waits() {
    let flag = AtomicU32::new(0);
    let canary = std::hint::black_box([0xa5u8; 64]);
    let req = CloneRequest::new(CloneFlags::VM | CloneFlags::VFORK, 17);
    // SAFETY: CLONE_VFORK suspends this thread until the child exits; the child only
    // pushes below this frame and writes `flag`.
    let pid =
        unsafe { user::clone(&req, set_flag, &flag as *const AtomicU32 as usize) }.expect("clone");
    // The parent resumed only after the child exited, so the store is visible.
    assert_eq!(flag.load(Ordering::SeqCst), 0x5eed);
    assert_eq!(std::hint::black_box(canary), [0xa5u8; 64]);
    assert_eq!(wait_exit_code(pid), 3);
}

#[test]
fn shared_stack_without_vfork_is_refused_before_the_trap() {
    let req = CloneRequest::new(THREAD, 0);
    // SAFETY: refused before any trap.
    let r = unsafe { user::clone(&req, record, 0) };
    assert_eq!(r, Err(SpawnError::UnsafeSharedStack));
    let req3 = Clone3Request::new(THREAD, 0);
    // SAFETY: refused before any trap.
    let r3 = unsafe { user::clone3(&req3, record, 0) };
    assert_eq!(r3, Err(SpawnError::UnsafeSharedStack));
}

#[test]
fn kernel_errors_come_back_with_their_name() {
    // pid 1 exists in the initial pid namespace, so asking for it is EEXIST (alloc_pid), a
    // question of process state the validator leaves to the kernel. Needs
    // CAP_CHECKPOINT_RESTORE/CAP_SYS_ADMIN; unprivileged callers get EPERM instead.
    let tids = [1i32];
    let req = Clone3Request::new(CloneFlags::empty(), 17).with_set_tid(&tids);
    // SAFETY: if the kernel did create a child, it would only return a value.
    let r = unsafe { user::clone3(&req, exit_with_arg, 0) };
    let expected = if is_root() { 17 } else { 1 };
    match r {
        Err(SpawnError::Kernel { raw, errno }) => {
            assert_eq!(raw, expected);
            assert_eq!(errno.map(|e| e.raw()), Some(expected));
        }
        other => panic!("expected a kernel error, got {other:?}"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no arguments.
    unsafe { user::syscall0(107) == 0 } // __NR_geteuid on x86_64
}

#[test]
fn pure_argument_rules_are_refused_before_the_trap() {
    use clone_core::Errno;
    use clone_core::error::Rule;
    // copy_process: CLONE_SIGHAND without CLONE_VM is EINVAL on every kernel.
    let req = CloneRequest::new(CloneFlags::SIGHAND, 17);
    // SAFETY: refused before any trap.
    match unsafe { user::clone(&req, exit_with_arg, 0) } {
        Err(SpawnError::Rejected(e)) => {
            assert_eq!(e.rule, Rule::SighandWithoutVm);
            assert_eq!(e.errno, Errno::EINVAL);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    // clone3_args_valid: CLONE_THREAD with a non-zero exit_signal.
    let mut stack = vec![0u8; 16 * 1024];
    let req3 = Clone3Request::new(THREAD, 17).with_stack(region(&mut stack));
    // SAFETY: refused before any trap.
    match unsafe { user::clone3(&req3, exit_with_arg, 0) } {
        Err(SpawnError::Rejected(e)) => {
            assert_eq!(e.rule, Rule::ThreadOrParentWithExitSignal);
            assert_eq!(e.errno, Errno::EINVAL);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn privilege_and_state_rules_are_left_to_the_kernel() {
    // CLONE_NEWIPC|CLONE_SYSVSEM is EINVAL only after the CAP_SYS_ADMIN check (EPERM
    // unprivileged), so it must reach the kernel, whose answer depends on who runs the test.
    let req = CloneRequest::new(CloneFlags::NEWIPC | CloneFlags::SYSVSEM, 17);
    // SAFETY: if a child were created it would only return a value.
    match unsafe { user::clone(&req, exit_with_arg, 0) } {
        Err(SpawnError::Kernel { raw, .. }) => {
            assert_eq!(raw, if is_root() { 22 } else { 1 });
        }
        other => panic!("expected a kernel error, got {other:?}"),
    }
}

/// Runs `body` in a forked child (the test harness is multi-threaded, so the child only makes
/// raw syscalls) and returns its exit status: what unshare/setns change stays there.
fn in_child(body: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes raw syscalls through clone-core and _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = body();
        // SAFETY: leave the child at once.
        unsafe { libc::_exit(code) };
    }
    wait_exit_code(pid as u32)
}

fn kernel_errno(r: Result<(), SpawnError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(SpawnError::Kernel { raw, .. }) => raw,
        Err(_) => 255,
    }
}

#[test]
fn unshare_checks_the_mask_before_the_trap_and_traps_otherwise() {
    use clone_core::error::Rule;
    match user::unshare(CloneFlags::PARENT | CloneFlags::FILES) {
        Err(SpawnError::Rejected(e)) => assert_eq!(e.rule, Rule::UnshareUnknownFlags),
        other => panic!("expected a refusal before the trap, got {other:?}"),
    }
    // A flag set the kernel accepts from anyone: a private fd table.
    assert_eq!(
        in_child(|| kernel_errno(user::unshare(CloneFlags::FILES))),
        0
    );
    // The thread rule is the kernel's (the child is single-threaded: accepted).
    assert_eq!(
        in_child(|| kernel_errno(user::unshare(CloneFlags::SIGHAND))),
        0
    );
    // SAFETY: plain geteuid.
    let root = unsafe { libc::geteuid() } == 0;
    let want = if root { 0 } else { libc::EPERM };
    assert_eq!(
        in_child(|| kernel_errno(user::unshare(CloneFlags::NEWUTS))),
        want
    );
}

#[test]
fn setns_checks_the_fd_before_the_trap() {
    use clone_core::error::Rule;
    match user::setns(-1, CloneFlags::NEWNET) {
        Err(SpawnError::Rejected(e)) => assert_eq!(e.rule, Rule::SetnsBadFd),
        other => panic!("expected a refusal before the trap, got {other:?}"),
    }
    let user_ns = std::fs::File::open("/proc/self/ns/user").expect("open ns/user");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&user_ns);
    // Re-entering one's own user namespace is the kernel's EINVAL (userns_install).
    assert_eq!(
        in_child(|| kernel_errno(user::setns(fd, CloneFlags::empty()))),
        libc::EINVAL
    );
    // A namespace fd with another type in nstype.
    assert_eq!(
        in_child(|| kernel_errno(user::setns(fd, CloneFlags::NEWNET))),
        libc::EINVAL
    );
    let uts = std::fs::File::open("/proc/self/ns/uts").expect("open ns/uts");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&uts);
    // SAFETY: plain geteuid.
    let root = unsafe { libc::geteuid() } == 0;
    let want = if root { 0 } else { libc::EPERM };
    assert_eq!(
        in_child(|| kernel_errno(user::setns(fd, CloneFlags::NEWUTS))),
        want
    );
}
