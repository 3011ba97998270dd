//! x86_64 signal frame: Linux's `struct rt_sigframe` (`arch/x86/kernel/signal_64.c`,
//! `arch/x86/include/asm/sigframe.h`): the return address (`sa_restorer`, which x86_64
//! requires), the `ucontext` with its `sigcontext` and 64-bit signal mask, the `siginfo`,
//! and below them the x87/SSE/AVX state in the XSAVE standard format (or the 512-byte
//! `fxsave` image without XSAVE), 64-byte aligned, as `fpu__alloc_mathframe` places it and
//! `copy_fpstate_to_sigframe` writes it (software-reserved bytes and `FP_XSTATE_MAGIC2`).
//!
//! `rt_sigreturn` reads it back as `restore_sigcontext` and `fpu__restore_sig` do. The stub
//! loads the FPU image with `xrstor64`/`fxrstor64` in kernel mode, so everything that would
//! make those fault is refused first (reserved MXCSR bits, XSTATE_BV bits outside XCR0, a
//! compacted or reserved header, a misaligned area): Linux gets the same fault from its
//! `xrstor` of the user buffer and ends the task with SIGSEGV, as the caller does for an
//! `Err`.

use super::{
    RFLAGS_AC, RFLAGS_AF, RFLAGS_CF, RFLAGS_DF, RFLAGS_OF, RFLAGS_PF, RFLAGS_RF, RFLAGS_SF,
    RFLAGS_TF, RFLAGS_ZF, TrapFrame, XSAVE_AREA, XSAVE_ON,
};
use crate::arch::Access;
use crate::signal::{Delivery, Restored};
use crate::uaccess;
use core::sync::atomic::Ordering;

/// `__NR_rt_sigreturn`.
pub const RT_SIGRETURN: u64 = 15;

/// The kernel's `struct sigaction` has `sa_restorer` (`SA_RESTORER`, 0x0400_0000).
pub const HAS_RESTORER: bool = true;

/// No sigreturn trampoline of the kernel's own: x86_64 handlers must have `SA_RESTORER`.
pub const TRAMPOLINE: Option<u64> = None;

/// `ucontext.uc_flags`: the FPU area is in XSAVE format; `uc_mcontext.ss` is saved and is
/// restored strictly (`frame_uc_flags`).
const UC_FP_XSTATE: u64 = 1;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;

/// `FP_XSTATE_MAGIC1` (in the fxsave software-reserved bytes) and `FP_XSTATE_MAGIC2` (after
/// the XSAVE area).
const MAGIC1: u32 = 0x4650_5853;
const MAGIC2: u32 = 0x4650_5845;

/// Offsets in `struct rt_sigframe`: `pretcode`, then `uc` (`uc_flags`, `uc_link`, `uc_stack`,
/// `uc_mcontext`, `uc_sigmask`), then `info`.
const UC: usize = 8;
const UC_STACK: usize = UC + 16;
const MCONTEXT: usize = UC + 40;
const SIGMASK: usize = UC + 296;
const INFO: usize = UC + 304;
const FRAME_SIZE: usize = INFO + 128;

/// Offsets in `struct sigcontext` (64-bit): r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
/// rip, eflags, cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate.
const SC_EFLAGS: usize = 136;
const SC_CS: usize = 144;
const SC_OLDMASK: usize = 168;
const SC_CR2: usize = 176;
const SC_FPSTATE: usize = 184;

/// The flags `rt_sigreturn` takes from the frame (`FIX_EFLAGS`); the rest stay as they are.
const FIX_EFLAGS: u64 = RFLAGS_AC
    | RFLAGS_OF
    | RFLAGS_DF
    | RFLAGS_TF
    | RFLAGS_SF
    | RFLAGS_ZF
    | RFLAGS_AF
    | RFLAGS_PF
    | RFLAGS_CF
    | RFLAGS_RF;

/// Linux's red zone: a signal frame goes 128 bytes below the interrupted sp.
const REDZONE: u64 = 128;

/// The size of the user FPU image and the XSAVE features in it: XCR0's user size (CPUID
/// 0xd.0 EBX) and XCR0 with XSAVE; the 512-byte fxsave image and no features without.
fn fpu_layout() -> (usize, Option<u64>) {
    if XSAVE_ON.load(Ordering::Relaxed) == 0 {
        return (512, None);
    }
    let xcr0: u64;
    // SAFETY: `xgetbv` with ECX 0 reads XCR0; XSAVE_ON means CR4.OSXSAVE is set.
    unsafe {
        let (lo, hi): (u32, u32);
        core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi, options(nomem, nostack));
        xcr0 = (u64::from(hi) << 32) | u64::from(lo);
    }
    let size = core::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize;
    (size.min(XSAVE_AREA), Some(xcr0))
}

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

/// The general registers in `struct sigcontext` order.
fn regs(f: &mut TrapFrame) -> [&mut u64; 17] {
    [
        &mut f.r8, &mut f.r9, &mut f.r10, &mut f.r11, &mut f.r12, &mut f.r13, &mut f.r14,
        &mut f.r15, &mut f.rdi, &mut f.rsi, &mut f.rbp, &mut f.rbx, &mut f.rdx, &mut f.rax,
        &mut f.rcx, &mut f.rsp, &mut f.rip,
    ]
}

/// Linux's `get_sigframe` + `x64_setup_rt_frame`: writes the frame below the red zone (or at
/// the top of the alternate stack), then points the registers at the handler: rdi = signal,
/// rsi = &info, rdx = &uc, rax = 0, rsp = the frame (its first word is the return address),
/// DF/TF/RF clear, and the FPU in its initial state (`fpu__clear_user_states`). `Err` when
/// there is no `SA_RESTORER`, the frame does not fit the alternate stack, or cannot be
/// written: the caller forces SIGSEGV (`signal_setup_done` with a failure).
pub fn setup_frame(frame: &mut TrapFrame, d: &Delivery) -> Result<(), ()> {
    if d.flags & crate::signal::SA_RESTORER == 0 {
        return Err(());
    }
    let nested = crate::signal::on_sig_stack(frame.rsp, d.altstack);
    let mut sp = frame.rsp.wrapping_sub(REDZONE);
    let mut entering = false;
    if d.flags & crate::signal::SA_ONSTACK != 0 && crate::signal::sas_ss_flags(sp, d.altstack) == 0
    {
        sp = d.altstack.0.wrapping_add(d.altstack.2);
        entering = true;
    }
    let (fpu_size, xcr0) = fpu_layout();
    let math = fpu_size + if xcr0.is_some() { 4 } else { 0 };
    let fpstate = sp.wrapping_sub(math as u64) & !63;
    sp = (fpstate.wrapping_sub(FRAME_SIZE as u64) & !15).wrapping_sub(8);
    if (nested || entering) && !crate::signal::in_sig_stack(sp, d.altstack) {
        return Err(());
    }
    // The FPU image as `xsave` + `save_xstate_epilog` leave it in the frame.
    let mut fpu = [0u8; XSAVE_AREA + 4];
    fpu[..fpu_size].copy_from_slice(&frame.fx[..fpu_size]);
    if let Some(xcr0) = xcr0 {
        // `struct _fpx_sw_bytes` in the fxsave software-reserved bytes 464..512.
        fpu[464..468].copy_from_slice(&MAGIC1.to_le_bytes());
        fpu[468..472].copy_from_slice(&(fpu_size as u32 + 4).to_le_bytes());
        put(&mut fpu, 472, xcr0);
        fpu[480..484].copy_from_slice(&(fpu_size as u32).to_le_bytes());
        fpu[484..512].fill(0);
        fpu[fpu_size..fpu_size + 4].copy_from_slice(&MAGIC2.to_le_bytes());
        // "For legacy compatible, we always set FP/SSE bits in the bit vector."
        let bv = get(&fpu, 512) | 3;
        put(&mut fpu, 512, bv);
    }
    let mut b = [0u8; FRAME_SIZE];
    put(&mut b, 0, d.restorer);
    let uc_flags =
        UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | if xcr0.is_some() { UC_FP_XSTATE } else { 0 };
    put(&mut b, UC, uc_flags);
    put(&mut b, UC_STACK, d.altstack.0);
    b[UC_STACK + 8..UC_STACK + 12].copy_from_slice(&d.altstack.1.to_le_bytes());
    put(&mut b, UC_STACK + 16, d.altstack.2);
    let mut saved = *frame;
    for (n, r) in regs(&mut saved).into_iter().enumerate() {
        put(&mut b, MCONTEXT + 8 * n, *r);
    }
    put(&mut b, MCONTEXT + SC_EFLAGS, frame.rflags);
    // cs, gs, fs, ss: the stub's user selectors (gs and fs are 0, as Linux saves them).
    b[MCONTEXT + SC_CS..MCONTEXT + SC_CS + 2].copy_from_slice(&0x23u16.to_le_bytes());
    b[MCONTEXT + SC_CS + 6..MCONTEXT + SC_CS + 8].copy_from_slice(&0x1bu16.to_le_bytes());
    put(&mut b, MCONTEXT + SC_OLDMASK, d.mask);
    put(&mut b, MCONTEXT + SC_CR2, d.fault_address);
    put(&mut b, MCONTEXT + SC_FPSTATE, fpstate);
    put(&mut b, SIGMASK, d.mask);
    if d.flags & crate::signal::SA_SIGINFO != 0 {
        b[INFO..].copy_from_slice(&d.info);
    }
    uaccess::write_bytes(fpstate, &fpu[..math]).map_err(|_| ())?;
    uaccess::write_bytes(sp, &b).map_err(|_| ())?;
    frame.rdi = d.sig;
    frame.rax = 0;
    frame.rsi = sp + INFO as u64;
    frame.rdx = sp + UC as u64;
    frame.rip = d.handler;
    frame.rsp = sp;
    frame.rflags &= !(RFLAGS_DF | RFLAGS_RF | RFLAGS_TF);
    frame.fx = TrapFrame::default().fx;
    Ok(())
}

/// `rt_sigreturn`: the frame is at rsp - 8 (the handler's `ret` popped `pretcode`). Reads
/// the mask and `uc_flags`, the registers (`FIX_EFLAGS` of the saved flags), the FPU image
/// (none: the initial state), and hands back the mask, `uc_stack` and rax. `Err` for any
/// unreadable or invalid part (`badframe`: SIGSEGV).
pub fn restore_frame(frame: &mut TrapFrame) -> Result<Restored, ()> {
    let at = frame.rsp.wrapping_sub(8);
    let mut b = [0u8; FRAME_SIZE];
    uaccess::read_bytes(at, &mut b).map_err(|_| ())?;
    let mut new = *frame;
    for (n, r) in regs(&mut new).into_iter().enumerate() {
        *r = get(&b, MCONTEXT + 8 * n);
    }
    new.rflags = (frame.rflags & !FIX_EFLAGS) | (get(&b, MCONTEXT + SC_EFLAGS) & FIX_EFLAGS);
    let fpstate = get(&b, MCONTEXT + SC_FPSTATE);
    new.fx = if fpstate == 0 {
        TrapFrame::default().fx
    } else {
        restore_fpu(fpstate, &frame.fx)?
    };
    *frame = new;
    let mut stack = [0u8; 24];
    stack.copy_from_slice(&b[UC_STACK..UC_STACK + 24]);
    Ok(Restored {
        mask: get(&b, SIGMASK),
        stack,
        value: frame.rax,
    })
}

/// `fpu__restore_sig` for the image at `buf`: the XSAVE image when the software bytes and
/// `MAGIC2` say so, else only its fxsave part (`fx_only`, the other components initial).
/// `current` is the task's image before, for the CPU's MXCSR_MASK (bytes 28..32).
fn restore_fpu(buf: u64, current: &[u8; XSAVE_AREA]) -> Result<[u8; XSAVE_AREA], ()> {
    let (fpu_size, xcr0) = fpu_layout();
    let mut img = [0u8; XSAVE_AREA];
    uaccess::read_bytes(buf, &mut img[..512]).map_err(|_| ())?;
    let mut xrestore = None;
    if let Some(xcr0) = xcr0 {
        // `check_xstate_in_sigframe`.
        let magic1 = get32(&img, 464);
        let extended = get32(&img, 468) as usize;
        let features = get(&img, 472);
        let xstate_size = get32(&img, 480) as usize;
        if magic1 == MAGIC1
            && xstate_size >= 512 + 64
            && xstate_size <= fpu_size
            && xstate_size <= extended
        {
            let magic2 = uaccess::read_u32(buf + xstate_size as u64).map_err(|_| ())?;
            if magic2 == MAGIC2 {
                xrestore = Some(features & xcr0);
            }
        }
        match xrestore {
            Some(x) => {
                uaccess::read_bytes(buf + 512, &mut img[512..fpu_size]).map_err(|_| ())?;
                // `xrstor` from the user's buffer: 64-byte alignment, a standard-format
                // header (XCOMP_BV and the next 8 bytes zero), XSTATE_BV within XCR0.
                let bv = get(&img, 512);
                if !buf.is_multiple_of(64)
                    || img[520..536].iter().any(|&c| c != 0)
                    || bv & !xcr0 != 0
                {
                    return Err(());
                }
                // Components outside the restored set go back to their initial state.
                put(&mut img, 512, bv & x);
            }
            None => {
                // `fxrstor` of the legacy part only: x87 and SSE from it, the rest initial.
                if !buf.is_multiple_of(16) {
                    return Err(());
                }
                put(&mut img, 512, 3);
            }
        }
    } else if !buf.is_multiple_of(16) {
        return Err(());
    }
    // Reserved MXCSR bits make `fxrstor`/`xrstor` raise #GP.
    let mask = match get32(current, 28) {
        0 => 0xffbf,
        m => m,
    };
    if get32(&img, 24) & !mask != 0 {
        return Err(());
    }
    Ok(img)
}

/// Rewinds a syscall that a signal interrupted so it runs again (`-ERESTARTSYS` and friends
/// in `arch_do_signal_or_restart`): rax back to its number, rip back over the 2-byte
/// `syscall`. The arguments are in registers the result did not touch.
pub fn restart_syscall(frame: &mut TrapFrame, nr: u64, _args: [u64; 6]) {
    frame.rax = nr;
    frame.rip = frame.rip.wrapping_sub(2);
}

/// Linux's `si_code` and `si_addr` for a fault the arch reported (`signal`, and `what`, the
/// name `trap_cause` gave the vector): SIGSEGV of a page fault is `SEGV_MAPERR` or
/// `SEGV_ACCERR` (`mapped`: the address is inside a mapping, decided by the caller) with the
/// address; #UD `ILL_ILLOPN` at rip; #DE `FPE_INTDIV` at rip; #AC `BUS_ADRALN` without an
/// address; #GP, int3, #NP/#SS and the x87/SIMD errors `SI_KERNEL` (the stub does not decode
/// the FPU status word for an `FPE_FLT*` code).
pub fn fault_code(
    signal: u8,
    what: &str,
    pc: u64,
    addr: u64,
    access: Option<Access>,
    mapped: bool,
) -> (i32, u64) {
    use super::super::signal::{SIGILL, SIGSEGV};
    const SI_KERNEL: i32 = 0x80;
    match (signal, access) {
        (SIGSEGV, Some(_)) => (if mapped { 2 } else { 1 }, addr),
        (SIGILL, _) => (2, pc),
        _ if what == "divide error (#DE)" => (1, pc),
        _ if what == "alignment check (#AC)" => (1, 0),
        _ => (SI_KERNEL, 0),
    }
}
