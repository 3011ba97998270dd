//! Signal handlers without a libc, on every arch: a handler installed with raw
//! `rt_sigaction` runs for `tgkill` with the `siginfo` Linux gives (`si_signo`, `SI_TKILL`,
//! `si_pid`) and returns through `rt_sigreturn` to the interrupted code with the syscall's
//! result intact; a SIGSEGV handler sees `SEGV_MAPERR` and the address, finds the signal
//! blocked while it runs, and moves the saved pc in its `ucontext` past the faulting store
//! (so the frame's layout is Linux's: the offset of the pc is the ABI's), after which the
//! mask is back. On x86_64 a handler without `SA_RESTORER` kills the process with SIGSEGV
//! (Linux refuses to build the frame); on aarch64 one without returns through the vDSO on
//! Linux and the stub's stand-in trampoline, as every riscv64 handler does.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use clone_core::user::{self, ARCH};

use crate::CaseResult;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const RT_SIGACTION: usize = 13;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const TGKILL: usize = 234;
}
#[cfg(not(target_arch = "x86_64"))]
mod nr {
    pub const RT_SIGACTION: usize = 134;
    pub const RT_SIGPROCMASK: usize = 135;
    pub const TGKILL: usize = 131;
}

const SIGUSR1: usize = 10;
const SIGSEGV: usize = 11;
const SA_SIGINFO: u64 = 4;
const SA_RESTORER: u64 = 0x0400_0000;
const SI_TKILL: i32 = -6;
const SEGV_MAPERR: i32 = 1;
const FAULT_ADDR: usize = 0x10;

/// Offset of the saved pc in the `ucontext` (`uc_mcontext` + the pc's place in it): x86_64
/// 40 + 128 (`rip`), aarch64 176 + 264, riscv64 176 + 0 (`sc_regs.pc`).
#[cfg(target_arch = "x86_64")]
const UC_PC: usize = 168;
#[cfg(target_arch = "aarch64")]
const UC_PC: usize = 440;
#[cfg(target_arch = "riscv64")]
const UC_PC: usize = 176;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl hostile_restorer",
    "hostile_restorer:",
    "mov eax, 15",
    "syscall",
    "ud2"
);
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl hostile_restorer",
    "hostile_restorer:",
    "mov x8, #139",
    "svc #0",
    "udf #0"
);

#[cfg(not(target_arch = "riscv64"))]
unsafe extern "C" {
    /// `rt_sigreturn`, what libc's `__restore_rt` is.
    fn hostile_restorer();
}

static SIG: AtomicI32 = AtomicI32::new(0);
static CODE: AtomicI32 = AtomicI32::new(0);
static PID: AtomicU32 = AtomicU32::new(0);
static ADDR: AtomicUsize = AtomicUsize::new(0);
static BLOCKED: AtomicUsize = AtomicUsize::new(0);
static RESUME: AtomicUsize = AtomicUsize::new(0);

fn mask() -> usize {
    let mut old = 0usize;
    // SAFETY: reads the mask into `old` (8 bytes); `set` NULL changes nothing.
    unsafe {
        user::syscall4(nr::RT_SIGPROCMASK, 0, 0, (&raw mut old) as usize, 8);
    }
    old
}

extern "C" fn handler(sig: i32, info: *const u8, uc: *mut u8) {
    // SAFETY: with SA_SIGINFO the kernel passes its siginfo and ucontext, both readable and
    // writable on the signal stack for the handler's duration.
    unsafe {
        SIG.store(sig, Ordering::SeqCst);
        CODE.store(info.add(8).cast::<i32>().read_unaligned(), Ordering::SeqCst);
        PID.store(
            info.add(16).cast::<u32>().read_unaligned(),
            Ordering::SeqCst,
        );
        ADDR.store(
            info.add(16).cast::<usize>().read_unaligned(),
            Ordering::SeqCst,
        );
        BLOCKED.store(mask(), Ordering::SeqCst);
        let resume = RESUME.swap(0, Ordering::SeqCst);
        if resume != 0 {
            uc.add(UC_PC).cast::<usize>().write_unaligned(resume);
        }
    }
}

/// `rt_sigaction(sig, {handler, flags [, restorer], 0})`.
fn install(sig: usize, handler: usize, flags: u64, restorer: bool) -> isize {
    let _ = restorer;
    #[cfg(not(target_arch = "riscv64"))]
    let act: [u64; 4] = [
        handler as u64,
        flags | if restorer { SA_RESTORER } else { 0 },
        if restorer {
            hostile_restorer as *const () as u64
        } else {
            0
        },
        0,
    ];
    #[cfg(target_arch = "riscv64")]
    let act: [u64; 3] = [handler as u64, flags, 0];
    // SAFETY: the kernel reads the action; no old action is written.
    unsafe { user::syscall4(nr::RT_SIGACTION, sig, act.as_ptr() as usize, 0, 8) }
}

fn tgkill_self(sig: usize) -> isize {
    let n = ARCH.syscalls();
    // SAFETY: getpid, gettid and tgkill take no pointers.
    unsafe {
        let pid = user::syscall4(n.getpid as usize, 0, 0, 0, 0);
        let tid = user::syscall4(n.gettid as usize, 0, 0, 0, 0);
        user::syscall4(nr::TGKILL, pid as usize, tid as usize, sig, 0)
    }
}

/// A store to `FAULT_ADDR` whose continuation address is in `RESUME` for the handler.
fn faulting_store() {
    // SAFETY: the store faults (nothing is mapped at 0x10); the SIGSEGV handler moves the pc
    // to label 2, so execution goes on after it with every register as the asm left it.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!(
            "lea {t}, [rip + 2f]",
            "mov [{r}], {t}",
            "mov byte ptr [{a}], 1",
            "2:",
            t = out(reg) _, r = in(reg) RESUME.as_ptr(), a = in(reg) FAULT_ADDR,
        );
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!(
            "adr {t}, 2f",
            "str {t}, [{r}]",
            "strb wzr, [{a}]",
            "2:",
            t = out(reg) _, r = in(reg) RESUME.as_ptr(), a = in(reg) FAULT_ADDR,
        );
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!(
            "la {t}, 2f",
            "sd {t}, 0({r})",
            "sb zero, 0({a})",
            "2:",
            t = out(reg) _, r = in(reg) RESUME.as_ptr(), a = in(reg) FAULT_ADDR,
        );
    }
}

/// See the module doc.
pub fn handlers() -> CaseResult {
    let restorer_modes: &[bool] = if cfg!(target_arch = "x86_64") {
        &[true]
    } else if cfg!(target_arch = "aarch64") {
        &[true, false]
    } else {
        &[false]
    };
    let n = ARCH.syscalls();
    // SAFETY: getpid takes no arguments.
    let pid = unsafe { user::syscall4(n.getpid as usize, 0, 0, 0, 0) } as u32;
    for &restorer in restorer_modes {
        let r = install(SIGUSR1, handler as *const () as usize, SA_SIGINFO, restorer);
        if r != 0 {
            fail!("rt_sigaction(SIGUSR1): {r}");
        }
        SIG.store(0, Ordering::SeqCst);
        let r = tgkill_self(SIGUSR1);
        let (sig, code, from) = (
            SIG.load(Ordering::SeqCst),
            CODE.load(Ordering::SeqCst),
            PID.load(Ordering::SeqCst),
        );
        if r != 0 || sig != SIGUSR1 as i32 || code != SI_TKILL || from != pid {
            fail!(
                "restorer {restorer}: tgkill {r}, handler saw signal {sig} code {code} pid ok {}",
                from == pid
            );
        }
        let r = install(SIGSEGV, handler as *const () as usize, SA_SIGINFO, restorer);
        if r != 0 {
            fail!("rt_sigaction(SIGSEGV): {r}");
        }
        SIG.store(0, Ordering::SeqCst);
        faulting_store();
        let (sig, code, addr, blocked) = (
            SIG.load(Ordering::SeqCst),
            CODE.load(Ordering::SeqCst),
            ADDR.load(Ordering::SeqCst),
            BLOCKED.load(Ordering::SeqCst),
        );
        let segv_bit = 1 << (SIGSEGV - 1);
        if sig != SIGSEGV as i32 || code != SEGV_MAPERR || addr != FAULT_ADDR {
            fail!(
                "restorer {restorer}: SIGSEGV handler saw signal {sig} code {code} addr {addr:#x}"
            );
        }
        if blocked & segv_bit == 0 || mask() & segv_bit != 0 {
            fail!(
                "restorer {restorer}: SIGSEGV blocked in the handler {}, after {}",
                blocked & segv_bit != 0,
                mask() & segv_bit != 0
            );
        }
        install(SIGUSR1, 0, 0, false);
        install(SIGSEGV, 0, 0, false);
    }
    #[cfg(target_arch = "x86_64")]
    {
        extern "C" fn no_restorer(_: usize) -> i32 {
            install(SIGUSR1, handler as *const () as usize, SA_SIGINFO, false);
            tgkill_self(SIGUSR1);
            0
        }
        let status = crate::entry::child_status(no_restorer, 0)?;
        if status != SIGSEGV as i32 {
            fail!(
                "handler without SA_RESTORER: child wait status {status:#x}, expected death by SIGSEGV"
            );
        }
    }
    Ok(())
}
