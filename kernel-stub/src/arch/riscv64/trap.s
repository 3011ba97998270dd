//! riscv64 user entry/exit: `__arch_run_user` (S -> U with `sret`) and the trap entries.
//!
//! Orientation: included by `mod.rs` with `global_asm!`; the upper-case operands are `const`
//! offsets into `TrapFrame` (checked there with `offset_of!`), `kernel_trap` is a `sym`.
//!
//! Register map (Linux riscv syscall ABI, arch/riscv/kernel/traps.c `do_trap_ecall_u`):
//! `ecall`, number in a7, arguments a0..a5, result in a0, sepc advanced by 4 by the kernel;
//! every other user register is preserved, which here means the whole user state is saved.
//!
//! TrapFrame layout (bytes, 536 in total; the operands are PC=256, SSTATUS=264, F=272,
//! FCSR=528):
//!   8*n      xn for n = 1..31 (slot 0 unused, so the index is the register number;
//!            x2 = sp, x3 = gp, x4 = tp = the TLS register)
//!   256      sepc (the user pc)          264  sstatus (as saved; informational)
//!   272+8*n  fn for n = 0..31 (64-bit, the user target has the D extension)
//!   528      fcsr
//!
//! Calling convention of `__arch_run_user(frame: *mut TrapFrame)`: saves ra, gp, tp and
//! s0..s11 of the kernel on the kernel stack and the kernel sp in `__arch_kernel_sp`, puts the
//! frame address in sscratch and `__arch_user_trap` in stvec, and (after `fence.i`) `sret`s with
//! sstatus.SPP = 0, SPIE = 1 (so the timer interrupts U-mode) and FS = Clean. The next trap
//! from U swaps sp with sscratch, stores every register into the frame, points stvec back at
//! `__arch_kernel_trap` and "returns" from `__arch_run_user`; scause/stval stay valid for the
//! Rust caller because sstatus.SIE is 0 in the kernel. A trap taken in S-mode is a kernel
//! bug: `__arch_kernel_trap` calls `kernel_trap` (mod.rs), which reports and exits QEMU.

    .section .text.__arch_run_user, "ax"
    .global __arch_run_user
    .balign 4
__arch_run_user:
    addi    sp, sp, -128
    sd      ra, 0(sp)
    sd      gp, 8(sp)
    sd      tp, 16(sp)
    sd      s0, 24(sp)
    sd      s1, 32(sp)
    sd      s2, 40(sp)
    sd      s3, 48(sp)
    sd      s4, 56(sp)
    sd      s5, 64(sp)
    sd      s6, 72(sp)
    sd      s7, 80(sp)
    sd      s8, 88(sp)
    sd      s9, 96(sp)
    sd      s10, 104(sp)
    sd      s11, 112(sp)
    lla     t0, __arch_kernel_sp
    sd      sp, 0(t0)
    csrw    sscratch, a0
    lla     t0, __arch_user_trap
    csrw    stvec, t0
    ld      t0, {PC}(a0)
    csrw    sepc, t0
    li      t0, (1 << 8) | (1 << 5) | (3 << 13)     // SPP | SPIE | FS
    csrc    sstatus, t0
    li      t0, (1 << 5) | (2 << 13)                // SPIE = 1, FS = Clean
    csrs    sstatus, t0
    ld      t0, {FCSR}(a0)
    fscsr   t0
    fld     f0, ({F} + 0)(a0)
    fld     f1, ({F} + 8)(a0)
    fld     f2, ({F} + 16)(a0)
    fld     f3, ({F} + 24)(a0)
    fld     f4, ({F} + 32)(a0)
    fld     f5, ({F} + 40)(a0)
    fld     f6, ({F} + 48)(a0)
    fld     f7, ({F} + 56)(a0)
    fld     f8, ({F} + 64)(a0)
    fld     f9, ({F} + 72)(a0)
    fld     f10, ({F} + 80)(a0)
    fld     f11, ({F} + 88)(a0)
    fld     f12, ({F} + 96)(a0)
    fld     f13, ({F} + 104)(a0)
    fld     f14, ({F} + 112)(a0)
    fld     f15, ({F} + 120)(a0)
    fld     f16, ({F} + 128)(a0)
    fld     f17, ({F} + 136)(a0)
    fld     f18, ({F} + 144)(a0)
    fld     f19, ({F} + 152)(a0)
    fld     f20, ({F} + 160)(a0)
    fld     f21, ({F} + 168)(a0)
    fld     f22, ({F} + 176)(a0)
    fld     f23, ({F} + 184)(a0)
    fld     f24, ({F} + 192)(a0)
    fld     f25, ({F} + 200)(a0)
    fld     f26, ({F} + 208)(a0)
    fld     f27, ({F} + 216)(a0)
    fld     f28, ({F} + 224)(a0)
    fld     f29, ({F} + 232)(a0)
    fld     f30, ({F} + 240)(a0)
    fld     f31, ({F} + 248)(a0)
    ld      x1, 8(a0)
    ld      x2, 16(a0)
    ld      x3, 24(a0)
    ld      x4, 32(a0)
    ld      x5, 40(a0)
    ld      x6, 48(a0)
    ld      x7, 56(a0)
    ld      x8, 64(a0)
    ld      x9, 72(a0)
    ld      x11, 88(a0)
    ld      x12, 96(a0)
    ld      x13, 104(a0)
    ld      x14, 112(a0)
    ld      x15, 120(a0)
    ld      x16, 128(a0)
    ld      x17, 136(a0)
    ld      x18, 144(a0)
    ld      x19, 152(a0)
    ld      x20, 160(a0)
    ld      x21, 168(a0)
    ld      x22, 176(a0)
    ld      x23, 184(a0)
    ld      x24, 192(a0)
    ld      x25, 200(a0)
    ld      x26, 208(a0)
    ld      x27, 216(a0)
    ld      x28, 224(a0)
    ld      x29, 232(a0)
    ld      x30, 240(a0)
    ld      x31, 248(a0)
    ld      x10, 80(a0)                            // a0 last: it held the frame address.
    fence.i                                         // User code the kernel just stored is visible.
    sret

    .balign 4
__arch_user_trap:
    csrrw   sp, sscratch, sp                        // sp = frame, sscratch = user sp.
    sd      x1, 8(sp)
    sd      x3, 24(sp)
    sd      x4, 32(sp)
    sd      x5, 40(sp)
    sd      x6, 48(sp)
    sd      x7, 56(sp)
    sd      x8, 64(sp)
    sd      x9, 72(sp)
    sd      x10, 80(sp)
    sd      x11, 88(sp)
    sd      x12, 96(sp)
    sd      x13, 104(sp)
    sd      x14, 112(sp)
    sd      x15, 120(sp)
    sd      x16, 128(sp)
    sd      x17, 136(sp)
    sd      x18, 144(sp)
    sd      x19, 152(sp)
    sd      x20, 160(sp)
    sd      x21, 168(sp)
    sd      x22, 176(sp)
    sd      x23, 184(sp)
    sd      x24, 192(sp)
    sd      x25, 200(sp)
    sd      x26, 208(sp)
    sd      x27, 216(sp)
    sd      x28, 224(sp)
    sd      x29, 232(sp)
    sd      x30, 240(sp)
    sd      x31, 248(sp)
    csrr    t0, sscratch
    sd      t0, 16(sp)
    csrr    t0, sepc
    sd      t0, {PC}(sp)
    csrr    t0, sstatus
    sd      t0, {SSTATUS}(sp)
    fsd     f0, ({F} + 0)(sp)
    fsd     f1, ({F} + 8)(sp)
    fsd     f2, ({F} + 16)(sp)
    fsd     f3, ({F} + 24)(sp)
    fsd     f4, ({F} + 32)(sp)
    fsd     f5, ({F} + 40)(sp)
    fsd     f6, ({F} + 48)(sp)
    fsd     f7, ({F} + 56)(sp)
    fsd     f8, ({F} + 64)(sp)
    fsd     f9, ({F} + 72)(sp)
    fsd     f10, ({F} + 80)(sp)
    fsd     f11, ({F} + 88)(sp)
    fsd     f12, ({F} + 96)(sp)
    fsd     f13, ({F} + 104)(sp)
    fsd     f14, ({F} + 112)(sp)
    fsd     f15, ({F} + 120)(sp)
    fsd     f16, ({F} + 128)(sp)
    fsd     f17, ({F} + 136)(sp)
    fsd     f18, ({F} + 144)(sp)
    fsd     f19, ({F} + 152)(sp)
    fsd     f20, ({F} + 160)(sp)
    fsd     f21, ({F} + 168)(sp)
    fsd     f22, ({F} + 176)(sp)
    fsd     f23, ({F} + 184)(sp)
    fsd     f24, ({F} + 192)(sp)
    fsd     f25, ({F} + 200)(sp)
    fsd     f26, ({F} + 208)(sp)
    fsd     f27, ({F} + 216)(sp)
    fsd     f28, ({F} + 224)(sp)
    fsd     f29, ({F} + 232)(sp)
    fsd     f30, ({F} + 240)(sp)
    fsd     f31, ({F} + 248)(sp)
    frcsr   t0
    sd      t0, {FCSR}(sp)
    fscsr   zero                        // The kernel (lp64d) never runs with the user's frm.
    lla     t0, __arch_kernel_trap
    csrw    stvec, t0
    lla     t0, __arch_kernel_sp
    ld      sp, 0(t0)
    ld      ra, 0(sp)
    ld      gp, 8(sp)
    ld      tp, 16(sp)
    ld      s0, 24(sp)
    ld      s1, 32(sp)
    ld      s2, 40(sp)
    ld      s3, 48(sp)
    ld      s4, 56(sp)
    ld      s5, 64(sp)
    ld      s6, 72(sp)
    ld      s7, 80(sp)
    ld      s8, 88(sp)
    ld      s9, 96(sp)
    ld      s10, 104(sp)
    ld      s11, 112(sp)
    addi    sp, sp, 128
    ret

    // stvec while the kernel runs (direct mode, so 4-byte aligned).
    .global __arch_kernel_trap
    .balign 4
__arch_kernel_trap:
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    call    {kernel_trap}
1:  wfi
    j       1b

    .section .bss.__arch_kernel_sp, "aw", @nobits
    .balign 8
__arch_kernel_sp:
    .skip   8
