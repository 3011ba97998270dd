//! riscv64 boot code: `_start`, from OpenSBI's hand-off to `kmain` with a stack.
//!
//! Orientation: included by `mod.rs` with `global_asm!`; the `kmain` operand is a `sym` of
//! `crate::kmain`. OpenSBI (fw_dynamic, QEMU `-bios default`) enters `_start` in S-mode with
//! a0 = hart id, a1 = device tree address (both unused: the stub is single-hart and hard-codes
//! `virt`'s addresses), satp = 0 (bare), sstatus.SIE = 0. Only the boot hart is started with
//! `-smp 1`; other harts would wait in OpenSBI for an HSM start call that never comes.
//!
//! Register use: t0/t1 scratch; nothing is passed to `kmain` (`extern "C" fn() -> !`).
//! On exit from this file: sp = top of `__arch_boot_stack` (16-byte aligned), sie = 0,
//! `.bss` zeroed.

    .section .text._start, "ax"
    .global _start
_start:
    csrw    sie, zero                   // No interrupt sources until `init` enables the timer.
    csrci   sstatus, 2                  // sstatus.SIE = 0: interrupts off in the kernel.
    lla     sp, __arch_boot_stack_top
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sb      zero, 0(t0)
    addi    t0, t0, 1
    j       1b
2:  call    {kmain}
3:  wfi                                 // kmain never returns; park if it does.
    j       3b

    // 64 KiB kernel stack: the only kernel stack (the kernel is a loop; see kernel-stub/src/main.rs).
    .section .bss.__arch_boot_stack, "aw", @nobits
    .balign 16
__arch_boot_stack:
    .skip   0x10000
__arch_boot_stack_top:
