//! aarch64 boot code: `_start`, from QEMU's entry state to `kmain` at EL1 with a stack.
//!
//! Orientation: included by `mod.rs` with `global_asm!`; the `kmain` operand is a `sym` of
//! `crate::kmain`. QEMU `virt` (`-kernel <elf>`, no `virtualization=on`, no `secure=on`) enters
//! `_start` at EL1h with the MMU and caches off and x0 = device tree address (unused). With
//! `virtualization=on` it enters at EL2, so EL2 is handled by dropping to EL1h; EL3 is not
//! supported (the core parks).
//!
//! Register use: x0/x1 scratch only; nothing is passed to `kmain` (`extern "C" fn() -> !`).
//! On exit from this file: SP = top of `__arch_boot_stack` (SP_EL1, 16-byte aligned), DAIF all
//! masked, `.bss` zeroed, EL1.

    .section .text._start, "ax"
    .global _start
_start:
    msr     daifset, #0xf           // No interrupts in the kernel, ever (see kernel-stub/src/main.rs).
    mrs     x0, CurrentEL
    ubfx    x0, x0, #2, #2          // CurrentEL.EL is bits [3:2].
    cmp     x0, #2
    b.eq    1f
    cmp     x0, #1
    b.eq    2f
0:  wfe                             // EL3 (or EL0, impossible): park.
    b       0b

    // EL2 -> EL1h. HCR_EL2.RW=1 makes EL1 AArch64; CNTHCTL_EL2.EL1PCTEN|EL1PCEN lets EL1 use
    // the physical counter and timer; CNTVOFF_EL2=0 makes the virtual counter equal to the
    // physical one. SPSR_EL2 = EL1h with D, A, I, F masked (0x3c5).
1:  mov     x0, #(1 << 31)
    msr     hcr_el2, x0
    mov     x0, #3
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mov     x0, #0x3c5
    msr     spsr_el2, x0
    adr     x0, 2f
    msr     elr_el2, x0
    eret

2:  msr     spsel, #1               // The kernel runs on SP_EL1; SP_EL0 belongs to the user.
    adrp    x0, __arch_boot_stack_top
    add     x0, x0, :lo12:__arch_boot_stack_top
    mov     sp, x0

    // Zero .bss with byte stores: the MMU is still off, so RAM is Device memory here and an
    // unaligned wider store would fault. The boot stack lives in .bss but is not in use yet.
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
3:  cmp     x0, x1
    b.hs    4f
    strb    wzr, [x0], #1
    b       3b

4:  bl      {kmain}
5:  wfe                             // kmain never returns; stay parked if it does.
    b       5b

    // 64 KiB kernel stack: the only kernel stack (the kernel is a loop; see kernel-stub/src/main.rs).
    .section .bss.__arch_boot_stack, "aw", %nobits
    .balign 16
__arch_boot_stack:
    .skip   0x10000
__arch_boot_stack_top:
