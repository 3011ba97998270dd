//! The few raw syscalls the cases need beyond clone-core's user face (`getppid`, `wait4` /
//! `waitid`, the raw errno oracle), the start-up environment, and guarded static stacks.
//!
//! Syscall numbers come from [`clone_core::Arch::syscalls`], which clone-core's own tests check
//! against the kernel's tables; errno values used as *expectations* are written here by hand.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use clone_core::StackRegion;
use clone_core::user::{self, ARCH};

/// `EINVAL` on every Linux arch this program runs on (hand-written, not from clone-core).
pub const EINVAL: i32 = 22;

/// `ENOSYS` for this arch (MIPS and SPARC kept their historical numbering).
pub const ENOSYS: i32 = if cfg!(target_arch = "mips64") {
    89
} else if cfg!(target_arch = "sparc64") {
    90
} else {
    38
};

/// `SIGCHLD` for this arch (SPARC and MIPS differ).
pub const SIGCHLD: u8 = if cfg!(target_arch = "mips64") {
    18
} else if cfg!(target_arch = "sparc64") {
    20
} else {
    17
};

static NATIVE: AtomicBool = AtomicBool::new(false);
static QEMU_USER: AtomicBool = AtomicBool::new(false);
static DEMO: AtomicBool = AtomicBool::new(false);

/// Whether `CLONE_CONFORMANCE_ENV=native` was in the environment (set by `cargo xtask linux`
/// for native runs only): only then is the kernel an errno oracle.
pub fn native() -> bool {
    NATIVE.load(Ordering::Relaxed)
}

/// Whether `CLONE_CONFORMANCE_ENV=qemu-user` was in the environment: some clone behaviour is
/// emulated differently there (see the cases that consult this), and those cases say so.
pub fn qemu_user() -> bool {
    QEMU_USER.load(Ordering::Relaxed)
}

/// Whether `CLONE_CONFORMANCE_ENV=demo` was in the environment (the kernel stub's
/// `cargo xtask run`): the demo leaves out the long leak tests.
pub fn demo() -> bool {
    DEMO.load(Ordering::Relaxed)
}

/// Reads `envp` from the initial stack (`argc`, `argv[]`, NULL, `envp[]`, NULL). Without
/// `CLONE_CONFORMANCE_ENV` (e.g. under the kernel stub) the run is neither native nor qemu-user.
///
/// # Safety
///
/// `sp` must be the initial stack pointer the kernel handed to `_start`, or point at zeroed
/// words (a loader that passes no arguments: `argc = 0`, `argv[0] = envp[0] = NULL`).
pub unsafe fn read_environment(sp: *const usize) {
    if sp.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `sp` points at the argc word.
    let argc = unsafe { sp.read() };
    // A garbage argc means no Linux-style stack was set up; assume nothing.
    if argc > 4096 {
        return;
    }
    // SAFETY: argv has argc entries and a NULL; envp follows (caller's contract).
    let mut envp = unsafe { sp.add(1 + argc + 1) };
    for _ in 0..512 {
        // SAFETY: envp entries up to the terminating NULL are readable (caller's contract).
        let entry = unsafe { envp.read() } as *const u8;
        if entry.is_null() {
            break;
        }
        // SAFETY: each entry is a NUL-terminated string.
        if unsafe { c_str_eq(entry, b"CLONE_CONFORMANCE_ENV=native") } {
            NATIVE.store(true, Ordering::Relaxed);
        }
        // SAFETY: as above.
        if unsafe { c_str_eq(entry, b"CLONE_CONFORMANCE_ENV=qemu-user") } {
            QEMU_USER.store(true, Ordering::Relaxed);
        }
        // SAFETY: as above.
        if unsafe { c_str_eq(entry, b"CLONE_CONFORMANCE_ENV=demo") } {
            DEMO.store(true, Ordering::Relaxed);
        }
        // SAFETY: still inside envp (the loop stops at its NULL).
        envp = unsafe { envp.add(1) };
    }
}

/// # Safety
///
/// `p` must point at a NUL-terminated string.
unsafe fn c_str_eq(p: *const u8, want: &[u8]) -> bool {
    for (i, &w) in want.iter().enumerate() {
        // SAFETY: we stop at the first mismatch, which includes the NUL.
        if unsafe { p.add(i).read() } != w {
            return false;
        }
    }
    // SAFETY: all `want.len()` bytes matched and none was NUL, so one more byte is readable.
    unsafe { p.add(want.len()).read() == 0 }
}

/// A raw syscall result as value or positive errno.
fn result(ret: isize) -> Result<usize, i32> {
    if (-4095..0).contains(&ret) {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

/// `getppid()`.
pub fn getppid() -> Result<u32, i32> {
    // SAFETY: getppid takes no arguments and has no side effects.
    result(unsafe { user::syscall0(ARCH.syscalls().getppid as usize) }).map(|v| v as u32)
}

/// `FUTEX_WAIT` on `word` while it holds `expected`, for at most one second (a relative
/// `struct timespec`; `futex` takes the time32 layout on 32-bit arches, `long` fields
/// everywhere). `Err(errno)`: EAGAIN (value differs), ETIMEDOUT, EINTR, or ENOSYS.
pub fn futex_wait_1s(word: &core::sync::atomic::AtomicU32, expected: u32) -> Result<(), i32> {
    const FUTEX_WAIT: usize = 0;
    let timeout: [usize; 2] = [1, 0];
    // SAFETY: the kernel reads the aligned u32 behind the reference and the timespec.
    let ret = unsafe {
        user::syscall4(
            ARCH.syscalls().futex as usize,
            word.as_ptr() as usize,
            FUTEX_WAIT,
            expected as usize,
            timeout.as_ptr() as usize,
        )
    };
    result(ret).map(|_| ())
}

/// How a waited-for child ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)` (low 8 bits).
    Code(i32),
    /// Killed by a signal.
    Signal(i32),
    /// Something else (stopped/continued codes we never ask for).
    Other(i32),
}

/// Waits for the child `pid` (`__WALL`, so a non-SIGCHLD child is found too) and returns the
/// pid the kernel reported and how the child ended. Uses `wait4` where the arch has it, else
/// `waitid(P_PID)`.
pub fn wait_child(pid: u32) -> Result<(u32, Exit), i32> {
    const WALL: usize = 0x4000_0000;
    let nr = ARCH.syscalls();
    if let Some(wait4) = nr.wait4 {
        let mut status: i32 = 0;
        loop {
            // SAFETY: the kernel writes one int to `status`; rusage pointer NULL.
            let ret = unsafe {
                user::syscall4(
                    wait4 as usize,
                    pid as usize,
                    core::ptr::addr_of_mut!(status) as usize,
                    WALL,
                    0,
                )
            };
            match result(ret) {
                Err(4) => continue, // EINTR
                Err(e) => return Err(e),
                Ok(got) => {
                    let exit = if status & 0x7f == 0 {
                        Exit::Code((status >> 8) & 0xff)
                    } else if ((status & 0x7f) + 1) as i8 >> 1 > 0 {
                        Exit::Signal(status & 0x7f)
                    } else {
                        Exit::Other(status)
                    };
                    return Ok((got as u32, exit));
                }
            }
        }
    }
    // waitid(P_PID, pid, &siginfo, WEXITED | __WALL, NULL).
    const P_PID: usize = 1;
    const WEXITED: usize = 4;
    let mut info = [0u32; 32]; // siginfo_t is 128 bytes.
    loop {
        // SAFETY: the kernel writes at most 128 bytes of siginfo to `info`.
        let ret = unsafe {
            user::syscall5(
                nr.waitid as usize,
                P_PID,
                pid as usize,
                info.as_mut_ptr() as usize,
                WEXITED | WALL,
                0,
            )
        };
        match result(ret) {
            Err(4) => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    // si_signo, si_errno, si_code (MIPS: si_signo, si_code, si_errno), then on 64-bit an int of
    // padding before the union; the union starts with si_pid, si_uid, si_status.
    let code = if cfg!(target_arch = "mips64") {
        info[1]
    } else {
        info[2]
    } as i32;
    let union = if cfg!(target_pointer_width = "64") {
        4
    } else {
        3
    };
    let got = info[union];
    let status = info[union + 2] as i32;
    let exit = match code {
        1 => Exit::Code(status & 0xff), // CLD_EXITED
        2 | 3 => Exit::Signal(status),  // CLD_KILLED, CLD_DUMPED
        _ => Exit::Other(code),
    };
    Ok((got, exit))
}

/// Issues legacy `clone(word, 0, 0, 0, 0)` directly, bypassing clone-core's checks, and returns
/// the kernel's answer. Used only as an errno oracle on native runs, with flag words that do not
/// share memory: should the kernel accept one, the child is a copy of this process and leaves
/// at once through `exit`, and the parent reaps it.
pub fn raw_clone_errno(word: u64) -> Result<u32, i32> {
    let nr = ARCH.syscalls().clone as usize;
    let word = word as usize;
    // s390x (CLONE_BACKWARDS2) takes the stack first; everywhere else flags are first, and the
    // other arguments are all 0, so their order does not matter.
    let (a0, a1) = if cfg!(target_arch = "s390x") {
        (0, word)
    } else {
        (word, 0)
    };
    // SAFETY: no CLONE_VM, so a child (if any) runs on its own copy of this stack and exits
    // immediately below; no pointers are passed.
    let ret = unsafe { user::syscall5(nr, a0, a1, 0, 0, 0) };
    finish_raw(ret)
}

/// `struct clone_args` as the kernel reads it (`include/uapi/linux/sched.h`, VER2, 88 bytes),
/// written out here so the oracle does not share code with the user face it checks.
#[repr(C, align(8))]
#[derive(Default)]
pub struct RawCloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}
const _: () = assert!(core::mem::size_of::<RawCloneArgs>() == 88);

/// `clone3(args, 88)` directly (see [`raw_clone_errno`] for why this is safe to call with the
/// flag sets used).
pub fn raw_clone3_errno(args: &RawCloneArgs) -> Result<u32, i32> {
    let Some(nr) = ARCH.syscalls().clone3 else {
        return Err(ENOSYS);
    };
    // SAFETY: the kernel reads 88 bytes at `args`; the flag sets used have no CLONE_VM (see
    // `raw_clone_errno`).
    let ret = unsafe {
        user::syscall2(
            nr as usize,
            core::ptr::from_ref(args) as usize,
            core::mem::size_of::<RawCloneArgs>(),
        )
    };
    finish_raw(ret)
}

fn finish_raw(ret: isize) -> Result<u32, i32> {
    if ret == 0 {
        // SAFETY: we are a fork-like child that shares nothing with the parent; end it here.
        unsafe { user::exit_thread(0) }
    }
    match result(ret) {
        Ok(tid) => {
            let _ = wait_child(tid as u32);
            Ok(tid as u32)
        }
        Err(e) => Err(e),
    }
}

/// Words of canary on each side of a guarded stack.
const GUARD_WORDS: usize = 16;

#[repr(C, align(64))]
struct Guarded<const N: usize> {
    below: [usize; GUARD_WORDS],
    region: [u8; N],
    above: [usize; GUARD_WORDS],
}

/// A static stack region in `.bss` with canary words on both sides, so a child that writes
/// outside the region it was given is caught (no `mmap` needed, so this works under the kernel
/// stub too).
pub struct GuardedStack<const N: usize>(UnsafeCell<Guarded<N>>);

// SAFETY: the cells are only touched through raw pointers by the parent between runs (arm,
// check) and by one child at a time while it runs; cases never share a stack between live
// children.
unsafe impl<const N: usize> Sync for GuardedStack<N> {}

impl<const N: usize> GuardedStack<N> {
    /// A zeroed stack (lives in `.bss`).
    pub const fn new() -> Self {
        Self(UnsafeCell::new(Guarded {
            below: [0; GUARD_WORDS],
            region: [0; N],
            above: [0; GUARD_WORDS],
        }))
    }

    fn canary(side: usize, i: usize) -> usize {
        (0xC10E_C0DE_5AFE_0000_u64 as usize) ^ (side << 8) ^ i
    }

    /// Writes the canaries; call before handing the region to a child.
    pub fn arm(&self) {
        let g = self.0.get();
        for i in 0..GUARD_WORDS {
            // SAFETY: no child uses this stack now (caller's discipline); the guard words are
            // outside the region any child is given.
            unsafe {
                core::ptr::addr_of_mut!((*g).below[i]).write_volatile(Self::canary(1, i));
                core::ptr::addr_of_mut!((*g).above[i]).write_volatile(Self::canary(2, i));
            }
        }
    }

    /// The region `[base, base + N)` between the guards.
    pub fn region(&self) -> StackRegion {
        let g = self.0.get();
        // SAFETY: only the address is taken.
        let base = unsafe { core::ptr::addr_of_mut!((*g).region) } as usize as u64;
        StackRegion {
            base,
            size: N as u64,
        }
    }

    /// `Err((side, index, value))` for the first overwritten canary ("below"/"above").
    pub fn check(&self) -> Result<(), (&'static str, usize, usize)> {
        let g = self.0.get();
        for i in 0..GUARD_WORDS {
            // SAFETY: reads of the guard words, which no child should touch.
            let (b, a) = unsafe {
                (
                    core::ptr::addr_of!((*g).below[i]).read_volatile(),
                    core::ptr::addr_of!((*g).above[i]).read_volatile(),
                )
            };
            if b != Self::canary(1, i) {
                return Err(("below", i, b));
            }
            if a != Self::canary(2, i) {
                return Err(("above", i, a));
            }
        }
        Ok(())
    }
}
