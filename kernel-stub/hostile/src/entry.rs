//! Kernel entry and exit with hostile user state: every flag bit user code can set survives a
//! syscall (and the kernel survives it: the NT + `syscall` case used to panic the stub in
//! `iretq`), and each kind of fault kills its process with Linux's signal.
//!
//! The fault cases run in a `CLONE_VM` process child (exit signal SIGCHLD) that the parent
//! reaps with `wait4`: on Linux too a signal death of such a child ends only that child.

use core::sync::atomic::AtomicU32;

use clone_core::user::{self, ARCH, CloneRequest};
use clone_core::{CloneFlags, StackRegion};

use crate::{CaseResult, STACK};

// ---------------------------------------------------------------------------------------------
// Flags across a syscall.

/// Makes `getpid` with `set` or-ed into the user flags just before the trap, and returns the
/// flags read right after it (and getpid's result).
///
/// x86_64: RFLAGS through `pushfq`/`popfq` (CPL 3 can set CF PF AF ZF SF DF OF NT AC ID);
/// aarch64: NZCV; riscv64: fcsr (frm and fflags). The asm restores a clean state before
/// it ends (DF clear, as the Rust ABI requires).
#[cfg(target_arch = "x86_64")]
fn flags_across_syscall(set: usize) -> (usize, isize) {
    let after: usize;
    let ret: isize;
    // SAFETY: only flags change between `popfq` and the final `popfq`; getpid (39) writes no
    // memory; the stack use (one push/pop pair each) is balanced; no red zone is touched.
    unsafe {
        core::arch::asm!(
            "pushfq",
            "or qword ptr [rsp], {set}",
            "popfq",
            "syscall",
            "pushfq",
            "pop {after}",
            "push 0x202",
            "popfq",
            set = in(reg) set,
            after = lateout(reg) after,
            inlateout("rax") 39isize => ret,
            lateout("rcx") _, lateout("r11") _,
        );
    }
    (after, ret)
}

#[cfg(target_arch = "aarch64")]
fn flags_across_syscall(set: usize) -> (usize, isize) {
    let after: usize;
    let ret: isize;
    // SAFETY: only NZCV changes; getpid (172) writes no memory.
    unsafe {
        core::arch::asm!(
            "msr nzcv, {set}",
            "svc #0",
            "mrs {after}, nzcv",
            set = in(reg) set,
            after = lateout(reg) after,
            in("x8") 172usize,
            lateout("x0") ret,
        );
    }
    (after, ret)
}

#[cfg(target_arch = "riscv64")]
fn flags_across_syscall(set: usize) -> (usize, isize) {
    let after: usize;
    let ret: isize;
    // SAFETY: only fcsr changes, and it is zeroed again before the block ends; getpid (172)
    // writes no memory.
    unsafe {
        core::arch::asm!(
            "fscsr {set}",
            "ecall",
            "frcsr {after}",
            "fscsr zero",
            set = in(reg) set,
            after = lateout(reg) after,
            in("a7") 172usize,
            lateout("a0") ret,
        );
    }
    (after, ret)
}

/// The bits to try one at a time, with their names.
#[cfg(target_arch = "x86_64")]
const USER_FLAGS: &[(usize, &str)] = &[
    (1 << 0, "CF"),
    (1 << 2, "PF"),
    (1 << 4, "AF"),
    (1 << 6, "ZF"),
    (1 << 7, "SF"),
    (1 << 10, "DF"),
    (1 << 11, "OF"),
    (1 << 14, "NT"),
    (1 << 18, "AC"),
    (1 << 21, "ID"),
    ((1 << 14) | (1 << 18) | (1 << 10), "NT|AC|DF"),
];
#[cfg(target_arch = "aarch64")]
const USER_FLAGS: &[(usize, &str)] = &[
    (1 << 31, "N"),
    (1 << 30, "Z"),
    (1 << 29, "C"),
    (1 << 28, "V"),
    (0xf << 28, "NZCV"),
];
#[cfg(target_arch = "riscv64")]
const USER_FLAGS: &[(usize, &str)] = &[
    (1 << 0, "fflags.NX"),
    (1 << 1, "fflags.UF"),
    (1 << 2, "fflags.OF"),
    (1 << 3, "fflags.DZ"),
    (1 << 4, "fflags.NV"),
    (1 << 5, "frm=1 (RTZ)"),
    (2 << 5, "frm=2 (RDN)"),
    (3 << 5, "frm=3 (RUP)"),
    (4 << 5, "frm=4 (RMM)"),
    (0xff, "all of fcsr"),
];

/// Each user-settable flag bit, set just before a syscall, is still set after it, and the
/// syscall still works (on the stub, NT + `syscall` used to end in a kernel #GP).
pub fn flags_survive_syscall() -> CaseResult {
    let pid = user::getpid() as isize;
    for &(bit, name) in USER_FLAGS {
        let (after, ret) = flags_across_syscall(bit);
        if ret != pid {
            fail!("{name} set: getpid returned {ret}, expected {pid}");
        }
        if after & bit != bit {
            fail!("{name} set before the syscall: flags after it are {after:#x}");
        }
    }
    Ok(())
}

/// x86_64: MXCSR (rounding, FTZ, DAZ, masks) and the x87 control word set before a syscall
/// come back unchanged (the kernel saves and restores them per task).
pub fn fp_control_survives_syscall() -> CaseResult {
    #[cfg(target_arch = "x86_64")]
    {
        let set_mxcsr: u32 = 0x1f80 ^ 0x6000 ^ 0x8040; // round toward zero, FTZ, DAZ
        let set_fcw: u16 = 0x037f ^ 0x0c00; // x87 round toward zero
        let mut mxcsr: u32 = 0;
        let mut fcw: u16 = 0;
        let ret: isize;
        // SAFETY: loads and stores only the four locals; the defaults are restored before
        // the block ends; getpid (39) writes no memory.
        unsafe {
            core::arch::asm!(
                "ldmxcsr [{m_in}]",
                "fldcw [{f_in}]",
                "syscall",
                "stmxcsr [{m_out}]",
                "fnstcw [{f_out}]",
                "push 0x1f80",
                "ldmxcsr [rsp]",
                "mov word ptr [rsp], 0x037f",
                "fldcw [rsp]",
                "add rsp, 8",
                m_in = in(reg) &set_mxcsr,
                f_in = in(reg) &set_fcw,
                m_out = in(reg) &mut mxcsr,
                f_out = in(reg) &mut fcw,
                inlateout("rax") 39isize => ret,
                lateout("rcx") _, lateout("r11") _,
            );
        }
        if ret != user::getpid() as isize {
            fail!("getpid returned {ret}");
        }
        if mxcsr != set_mxcsr || fcw != set_fcw {
            fail!(
                "MXCSR {mxcsr:#x} (set {set_mxcsr:#x}), x87 CW {fcw:#x} (set {set_fcw:#x}) after a syscall"
            );
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        // FPCR: AHP, DN, FZ and RMode = round toward zero; FPSR: every cumulative flag.
        let set_fpcr: usize = (1 << 26) | (1 << 25) | (1 << 24) | (3 << 22);
        let set_fpsr: usize = 0x9f | (1 << 27);
        let (fpcr, fpsr): (usize, usize);
        let ret: isize;
        // SAFETY: only FPCR/FPSR change, and they are zeroed before the block ends; getpid
        // (172) writes no memory.
        unsafe {
            core::arch::asm!(
                "msr fpcr, {c}",
                "msr fpsr, {s}",
                "svc #0",
                "mrs {c}, fpcr",
                "mrs {s}, fpsr",
                "msr fpcr, xzr",
                "msr fpsr, xzr",
                c = inout(reg) set_fpcr => fpcr,
                s = inout(reg) set_fpsr => fpsr,
                in("x8") 172usize,
                lateout("x0") ret,
            );
        }
        if ret != user::getpid() as isize {
            fail!("getpid returned {ret}");
        }
        if fpcr != set_fpcr || fpsr != set_fpsr {
            fail!("FPCR {fpcr:#x} (set {set_fpcr:#x}), FPSR {fpsr:#x} (set {set_fpsr:#x})");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Faults and their signals.

const SIGILL: i32 = 4;
const SIGTRAP: i32 = 5;
#[cfg(target_arch = "aarch64")]
const SIGBUS: i32 = 7;
#[cfg(target_arch = "x86_64")]
const SIGFPE: i32 = 8;
const SIGSEGV: i32 = 11;
const SIGCHLD: u8 = 17;

/// Runs `entry` in a `CLONE_VM` process child and returns its wait status.
pub(crate) fn child_status(
    entry: extern "C" fn(usize) -> i32,
    arg: usize,
) -> Result<i32, crate::Fail> {
    child_status_on(STACK.region(), entry, arg)
}

/// Runs `entry` in a `CLONE_VM` process child on `stack` and returns its wait status.
pub(crate) fn child_status_on(
    stack: StackRegion,
    entry: extern "C" fn(usize) -> i32,
    arg: usize,
) -> Result<i32, crate::Fail> {
    let req = CloneRequest {
        stack: Some(stack),
        ..CloneRequest::new(CloneFlags::VM, SIGCHLD)
    };
    // SAFETY: the child runs on `stack` until it dies; the parent waits for it before anything
    // else uses that stack.
    let pid = match unsafe { user::clone(&req, entry, arg) } {
        Ok(pid) => pid,
        Err(e) => fail!("clone(CLONE_VM, SIGCHLD) failed: {e}"),
    };
    wait_status(pid as isize)
}

/// `wait4(pid)` of a child: its wait status.
pub(crate) fn wait_status(pid: isize) -> Result<i32, crate::Fail> {
    let wait4 = ARCH.syscalls().wait4.unwrap_or(u64::MAX) as usize;
    let status = AtomicU32::new(0);
    // SAFETY: wait4 writes one int to `status`; no rusage.
    let got = unsafe { user::syscall4(wait4, pid as usize, status.as_ptr() as usize, 0, 0) };
    if got != pid {
        fail!("wait4({pid}) returned {got}");
    }
    Ok(status.into_inner() as i32)
}

extern "C" fn undefined_instruction(_: usize) -> i32 {
    // SAFETY: deliberately undefined: the kernel kills this process.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("ud2");
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("udf #0");
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("unimp");
    }
    0
}

extern "C" fn breakpoint(_: usize) -> i32 {
    // SAFETY: a breakpoint with no debugger: the kernel kills this process with SIGTRAP.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("int3");
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("brk #0");
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ebreak");
    }
    0
}

extern "C" fn bad_load(addr: usize) -> i32 {
    // SAFETY: deliberately invalid: the read faults and the kernel kills this process.
    unsafe { core::ptr::read_volatile(addr as *const u32) as i32 }
}

#[cfg(target_arch = "x86_64")]
extern "C" fn divide_by_zero(_: usize) -> i32 {
    // SAFETY: `div` by zero raises #DE; no memory is touched.
    unsafe {
        core::arch::asm!(
            "xor edx, edx",
            "xor ecx, ecx",
            "mov eax, 1",
            "div ecx",
            out("eax") _, out("ecx") _, out("edx") _,
        );
    }
    0
}

#[cfg(target_arch = "x86_64")]
extern "C" fn single_step(_: usize) -> i32 {
    // SAFETY: sets TF; the next instruction raises a single-step trap and, with no debugger,
    // the kernel kills this process with SIGTRAP before the flags are restored.
    unsafe {
        core::arch::asm!(
            "pushfq",
            "or qword ptr [rsp], 0x100",
            "popfq",
            "nop",
            "nop",
            "pushfq",
            "and qword ptr [rsp], ~0x100",
            "popfq",
        );
    }
    0
}

#[cfg(target_arch = "x86_64")]
extern "C" fn single_step_syscall(_: usize) -> i32 {
    // SAFETY: as `single_step`, with a syscall (getpid) as the stepped instruction: the
    // kernel must not take the trap itself.
    unsafe {
        core::arch::asm!(
            "pushfq",
            "or qword ptr [rsp], 0x100",
            "popfq",
            "syscall",
            "nop",
            "pushfq",
            "and qword ptr [rsp], ~0x100",
            "popfq",
            inlateout("rax") 39usize => _,
            lateout("rcx") _, lateout("r11") _,
        );
    }
    0
}

#[cfg(target_arch = "x86_64")]
extern "C" fn x87_divide_by_zero(_: usize) -> i32 {
    // SAFETY: unmasks the x87 zero-divide exception and divides 1 by 0; the pending
    // exception is raised (#MF) by the next x87 instruction. Only the stack is touched.
    unsafe {
        core::arch::asm!(
            "sub rsp, 8",
            "mov word ptr [rsp], 0x037b",
            "fldcw [rsp]",
            "fld1",
            "fldz",
            "fdivp st(1), st",
            "fwait",
            "add rsp, 8",
        );
    }
    0
}

#[cfg(target_arch = "aarch64")]
extern "C" fn misaligned_pc(_: usize) -> i32 {
    // SAFETY: branches to a 2-byte misaligned address: the PC alignment fault kills the
    // process with SIGBUS before anything there runs.
    unsafe {
        core::arch::asm!("adr x9, 1f", "add x9, x9, #2", "br x9", "1: nop", "nop", out("x9") _);
    }
    0
}

/// The faults to try: name, child body, its argument, and the signal Linux kills with.
fn faults() -> &'static [(&'static str, extern "C" fn(usize) -> i32, usize, i32)] {
    #[cfg(target_arch = "x86_64")]
    {
        &[
            ("ud2", undefined_instruction, 0, SIGILL),
            ("int3", breakpoint, 0, SIGTRAP),
            (
                "load from the kernel half",
                bad_load,
                crate::KERNEL_HIGH,
                SIGSEGV,
            ),
            ("load from page 0", bad_load, crate::NULLISH, SIGSEGV),
            ("div by zero", divide_by_zero, 0, SIGFPE),
            ("TF single step", single_step, 0, SIGTRAP),
            ("TF over a syscall", single_step_syscall, 0, SIGTRAP),
            (
                "x87 divide by zero, unmasked",
                x87_divide_by_zero,
                0,
                SIGFPE,
            ),
        ]
    }
    #[cfg(target_arch = "aarch64")]
    {
        &[
            ("udf", undefined_instruction, 0, SIGILL),
            ("brk", breakpoint, 0, SIGTRAP),
            (
                "load from the kernel half",
                bad_load,
                crate::KERNEL_HIGH,
                SIGSEGV,
            ),
            ("load from page 0", bad_load, crate::NULLISH, SIGSEGV),
            ("misaligned pc", misaligned_pc, 0, SIGBUS),
        ]
    }
    #[cfg(target_arch = "riscv64")]
    {
        &[
            ("unimp", undefined_instruction, 0, SIGILL),
            ("ebreak", breakpoint, 0, SIGTRAP),
            (
                "load from the kernel half",
                bad_load,
                crate::KERNEL_HIGH,
                SIGSEGV,
            ),
            ("load from page 0", bad_load, crate::NULLISH, SIGSEGV),
        ]
    }
}

/// Each fault kills its process with Linux's signal for it.
pub fn fault_signals() -> CaseResult {
    for &(name, entry, arg, signal) in faults() {
        let status = child_status(entry, arg)?;
        if status & 0x7f != signal {
            fail!("{name}: child wait status {status:#x}, expected death by signal {signal}");
        }
    }
    Ok(())
}

/// x86_64 `int 0x80` from a 64-bit task. The stub is a kernel without `IA32_EMULATION`: there
/// the vector has no user gate, so the `int` is a #GP and the process dies of SIGSEGV
/// (`kernel-stub/README.md`). Stub-only: the host kernel has the i386 entry.
pub fn int80_without_ia32() -> CaseResult {
    #[cfg(target_arch = "x86_64")]
    {
        extern "C" fn int80(_: usize) -> i32 {
            // SAFETY: i386 getpid (20) through `int 0x80`; without IA32_EMULATION it faults.
            unsafe { core::arch::asm!("int 0x80", inlateout("eax") 20 => _) };
            0
        }
        let status = child_status(int80, 0)?;
        if status & 0x7f != SIGSEGV {
            fail!("int 0x80: child wait status {status:#x}, expected death by SIGSEGV");
        }
    }
    Ok(())
}
