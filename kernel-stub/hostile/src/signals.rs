//! Signal handlers without a libc, on every arch: a handler installed with raw
//! `rt_sigaction` runs for `tgkill` with the `siginfo` Linux gives (`si_signo`, `SI_TKILL`,
//! `si_pid`) and returns through `rt_sigreturn` to the interrupted code with the syscall's
//! result intact; a SIGSEGV handler sees `SEGV_MAPERR` and the address, finds the signal
//! blocked while it runs, and moves the saved pc in its `ucontext` past the faulting store
//! (so the frame's layout is Linux's: the offset of the pc is the ABI's), after which the
//! mask is back. On x86_64 a handler without `SA_RESTORER` kills the process with SIGSEGV
//! (Linux refuses to build the frame); on aarch64 one without returns through the vDSO on
//! Linux and the stub's stand-in trampoline, as every riscv64 handler does.
//!
//! `rt_sigreturn` of a hand-built frame (in a `CLONE_VM` process child) that resumes at a
//! stub which exits with 0x42 does so; the same frame with one field Linux refuses (x86_64: an
//! MXCSR with reserved bits in the FPU image, which `fxrstor` would fault on; aarch64: a
//! pstate of EL1h; riscv64: the reserved word after the F/D state) kills the child with
//! SIGSEGV instead (`badframe`), and the kernel survives it.

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

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl hostile_exit42",
    "hostile_exit42:",
    "mov edi, 0x42",
    "mov eax, 60",
    "syscall",
    "ud2"
);
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl hostile_exit42",
    "hostile_exit42:",
    "mov x0, #0x42",
    "mov x8, #93",
    "svc #0",
    "udf #0"
);
#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl hostile_exit42",
    "hostile_exit42:",
    "li a0, 0x42",
    "li a7, 93",
    "ecall",
    "unimp"
);

unsafe extern "C" {
    /// `exit(0x42)`: where a hand-built signal frame resumes.
    fn hostile_exit42();
}

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

/// Room for a hand-built frame (the aarch64 one is 4688 bytes) and, on x86_64, its FPU image.
#[repr(C, align(64))]
struct FrameBuf(core::cell::UnsafeCell<[u8; 8192]>);
// SAFETY: only the child writes it, while the parent waits for that child.
unsafe impl Sync for FrameBuf {}
static FRAME: FrameBuf = FrameBuf(core::cell::UnsafeCell::new([0; 8192]));

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Builds a signal frame in `FRAME` that resumes at `hostile_exit42`, corrupt when
/// `corrupt` is 1, and makes `rt_sigreturn` with it.
extern "C" fn sigreturn_child(corrupt: usize) -> i32 {
    // SAFETY: this child is the only user of FRAME while its parent waits.
    let b = unsafe { &mut *FRAME.0.get() };
    b.fill(0);
    let base = b.as_ptr() as usize;
    let top = base + 8192 - 64;
    let exit42 = hostile_exit42 as *const () as u64;
    #[cfg(target_arch = "x86_64")]
    {
        // rt_sigframe at base: pretcode, uc (flags 6 = SIGCONTEXT_SS | STRICT_RESTORE_SS,
        // mcontext at 8 + 40), info; the fxsave image at base + 4096 (64-byte aligned,
        // without the XSAVE magic: restored as `fx_only`).
        let (cs, ss): (u16, u16);
        // SAFETY: reading the code and stack selectors has no side effects.
        unsafe {
            core::arch::asm!("mov {0:x}, cs", "mov {1:x}, ss", out(reg) cs, out(reg) ss);
        }
        let mc = 48;
        put(b, 8, 6);
        put(b, mc + 120, (top - 8) as u64); // rsp
        put(b, mc + 128, exit42); // rip
        put(b, mc + 136, 0x202); // eflags
        b[mc + 144..mc + 146].copy_from_slice(&cs.to_le_bytes());
        b[mc + 150..mc + 152].copy_from_slice(&ss.to_le_bytes());
        let fx = 4096;
        put(b, mc + 184, (base + fx) as u64); // fpstate
        b[fx..fx + 2].copy_from_slice(&0x037fu16.to_le_bytes());
        let mxcsr: u32 = if corrupt == 1 { 0xffff_ffff } else { 0x1f80 };
        b[fx + 24..fx + 28].copy_from_slice(&mxcsr.to_le_bytes());
        // SAFETY: rt_sigreturn reads the frame at rsp - 8 and either resumes at
        // hostile_exit42 (which exits) or kills this process: nothing returns here.
        unsafe {
            core::arch::asm!("mov rsp, {sp}", "mov eax, 15", "syscall", "ud2", sp = in(reg) base + 8, options(noreturn));
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        // rt_sigframe at base: info, uc; mcontext at 304 (regs, sp 560, pc 568, pstate 576),
        // __reserved at 592: the fpsimd record, then the terminator.
        put(b, 560, top as u64);
        put(b, 568, exit42);
        put(b, 576, if corrupt == 1 { 5 } else { 0 });
        b[592..596].copy_from_slice(&0x4650_8001u32.to_le_bytes());
        b[596..600].copy_from_slice(&528u32.to_le_bytes());
        // SAFETY: as for x86_64; the frame is at sp.
        unsafe {
            core::arch::asm!("mov sp, {sp}", "mov x8, #139", "svc #0", "udf #0", sp = in(reg) base, options(noreturn));
        }
    }
    #[cfg(target_arch = "riscv64")]
    {
        // rt_sigframe at base: info, uc; mcontext at 304 (pc, then x1..x31), the F/D state
        // at 560, the reserved word at 560 + 516.
        put(b, 304, exit42);
        put(b, 304 + 16, top as u64);
        if corrupt == 1 {
            b[560 + 516] = 1;
        }
        // SAFETY: as for x86_64; the frame is at sp.
        unsafe {
            core::arch::asm!("mv sp, {sp}", "li a7, 139", "ecall", "unimp", sp = in(reg) base, options(noreturn));
        }
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
    for (corrupt, want) in [(0, 0x4200), (1, SIGSEGV as i32)] {
        let status = crate::entry::child_status(sigreturn_child, corrupt)?;
        if status != want {
            fail!(
                "rt_sigreturn of a hand-built frame (corrupt {corrupt}): child wait status {status:#x}, expected {want:#x}"
            );
        }
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
