//! aarch64 user entry/exit: `__arch_run_user` (EL1 -> EL0) and the VBAR_EL1 vector table.
//!
//! Orientation: included by `mod.rs` with `global_asm!`; the brace operands are `const`
//! offsets into `TrapFrame` (checked there with `offset_of!`) and `sym` names of Rust handlers.
//!
//! Register map (Linux arm64 syscall ABI, arch/arm64/kernel/syscall.c `invoke_syscall` and
//! `el0_svc_common`): `svc #0`, number in x8, arguments x0..x5, result in x0; every other
//! user register is preserved, which here means the whole user state is saved and restored.
//!
//! TrapFrame layout (bytes; 16-byte aligned, 816 in total):
//!   0..248   x0..x30
//!   248      SP_EL0            256  ELR_EL1 (the user pc)
//!   264      SPSR_EL1          272  TPIDR_EL0 (the user TLS register)
//!   280      FPCR              288  FPSR
//!   304..816 q0..q31 (Rust's aarch64 Linux code uses NEON for memcpy and friends)
//!   (the asm gets 248/264/280/304 as the SP/PSTATE/FPCR/Q operands)
//!
//! Calling convention of `__arch_run_user(frame: *mut TrapFrame) -> u64`: saves the kernel's
//! callee-saved x19..x30 on the kernel stack and the kernel SP in `__arch_kernel_sp`, points
//! SP_EL1 at the frame and `eret`s into EL0. The next exception from EL0 lands on SP_EL1 =
//! frame, so the entry path can store the user registers without a scratch register; it then
//! reloads the kernel SP and "returns" from `__arch_run_user` with x0 = vector kind
//! (0 sync, 1 IRQ, 2 FIQ, 3 SError). ESR_EL1/FAR_EL1 stay valid for the Rust caller because
//! the kernel runs with all interrupts masked. The kernel is soft-float (no FP/SIMD use), so
//! d8..d15 need no saving for it. Exceptions taken from EL1 itself are kernel bugs: they go to
//! `kernel_trap` (mod.rs), which reports and exits QEMU.

    // The kernel target is soft-float (`-neon`), but this file must move the user's FP/SIMD
    // state, so the assembler is told the instructions exist (CPACR_EL1.FPEN allows them).
    .arch_extension fp
    .arch_extension simd

    .section .text.__arch_run_user, "ax"
    .global __arch_run_user
    .balign 4
__arch_run_user:
    sub     sp, sp, #96
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    adrp    x9, __arch_kernel_sp
    mov     x10, sp
    str     x10, [x9, :lo12:__arch_kernel_sp]

    mov     sp, x0                      // SP_EL1 = frame until the next exception.
    ldp     x9, x10, [sp, #{SP}]
    msr     sp_el0, x9
    msr     elr_el1, x10
    ldp     x9, x10, [sp, #{PSTATE}]
    msr     spsr_el1, x9
    msr     tpidr_el0, x10
    ldp     x9, x10, [sp, #{FPCR}]
    msr     fpcr, x9
    msr     fpsr, x10
    ldp     q0, q1, [sp, #({Q} + 0)]
    ldp     q2, q3, [sp, #({Q} + 32)]
    ldp     q4, q5, [sp, #({Q} + 64)]
    ldp     q6, q7, [sp, #({Q} + 96)]
    ldp     q8, q9, [sp, #({Q} + 128)]
    ldp     q10, q11, [sp, #({Q} + 160)]
    ldp     q12, q13, [sp, #({Q} + 192)]
    ldp     q14, q15, [sp, #({Q} + 224)]
    ldp     q16, q17, [sp, #({Q} + 256)]
    ldp     q18, q19, [sp, #({Q} + 288)]
    ldp     q20, q21, [sp, #({Q} + 320)]
    ldp     q22, q23, [sp, #({Q} + 352)]
    ldp     q24, q25, [sp, #({Q} + 384)]
    ldp     q26, q27, [sp, #({Q} + 416)]
    ldp     q28, q29, [sp, #({Q} + 448)]
    ldp     q30, q31, [sp, #({Q} + 480)]
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    eret

    // Common tail of the four "lower EL, AArch64" vectors: x0/x1 already saved, x0 = kind.
    .balign 4
__arch_user_trap:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x9, sp_el0
    mrs     x10, elr_el1
    stp     x9, x10, [sp, #{SP}]
    mrs     x9, spsr_el1
    mrs     x10, tpidr_el0
    stp     x9, x10, [sp, #{PSTATE}]
    mrs     x9, fpcr
    mrs     x10, fpsr
    stp     x9, x10, [sp, #{FPCR}]
    stp     q0, q1, [sp, #({Q} + 0)]
    stp     q2, q3, [sp, #({Q} + 32)]
    stp     q4, q5, [sp, #({Q} + 64)]
    stp     q6, q7, [sp, #({Q} + 96)]
    stp     q8, q9, [sp, #({Q} + 128)]
    stp     q10, q11, [sp, #({Q} + 160)]
    stp     q12, q13, [sp, #({Q} + 192)]
    stp     q14, q15, [sp, #({Q} + 224)]
    stp     q16, q17, [sp, #({Q} + 256)]
    stp     q18, q19, [sp, #({Q} + 288)]
    stp     q20, q21, [sp, #({Q} + 320)]
    stp     q22, q23, [sp, #({Q} + 352)]
    stp     q24, q25, [sp, #({Q} + 384)]
    stp     q26, q27, [sp, #({Q} + 416)]
    stp     q28, q29, [sp, #({Q} + 448)]
    stp     q30, q31, [sp, #({Q} + 480)]

    adrp    x9, __arch_kernel_sp
    ldr     x10, [x9, :lo12:__arch_kernel_sp]
    mov     sp, x10
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #96
    ret                                 // To the caller of __arch_run_user, x0 = kind.

    // Exception from EL1: x0 = vector index (0..15), then ESR/ELR/FAR for the report.
    .balign 4
__arch_kernel_vector:
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      {kernel_trap}
0:  wfe
    b       0b

    // VBAR_EL1 needs 2 KiB alignment; each of the 16 slots is 0x80 bytes.
    .section .text.__arch_vectors, "ax"
    .global __arch_vectors
    .balign 0x800
__arch_vectors:
    .set    slot, 0
    .rept   8                           // Current EL with SP_EL0 / SP_EL1: kernel bugs.
    .balign 0x80
    mov     x0, #slot
    b       __arch_kernel_vector
    .set    slot, slot + 1
    .endr
    .balign 0x80                        // Lower EL, AArch64, synchronous (svc, aborts...).
    stp     x0, x1, [sp, #0]
    mov     x0, #0
    b       __arch_user_trap
    .balign 0x80                        // Lower EL, AArch64, IRQ (the timer).
    stp     x0, x1, [sp, #0]
    mov     x0, #1
    b       __arch_user_trap
    .balign 0x80                        // Lower EL, AArch64, FIQ.
    stp     x0, x1, [sp, #0]
    mov     x0, #2
    b       __arch_user_trap
    .balign 0x80                        // Lower EL, AArch64, SError.
    stp     x0, x1, [sp, #0]
    mov     x0, #3
    b       __arch_user_trap
    .set    slot, 12
    .rept   4                           // Lower EL, AArch32: never entered (no AArch32 EL0).
    .balign 0x80
    mov     x0, #slot
    b       __arch_kernel_vector
    .set    slot, slot + 1
    .endr

    .section .bss.__arch_kernel_sp, "aw", %nobits
    .balign 8
__arch_kernel_sp:
    .skip   8
