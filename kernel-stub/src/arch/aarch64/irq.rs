//! aarch64 preemption tick: the EL1 virtual timer (PPI 27) routed through QEMU `virt`'s GICv2.
//!
//! # Orientation
//!
//! `crate::arch::imp::irq`. Only one interrupt is ever enabled, INTID 27 (the virtual timer,
//! `virt`'s device tree lists it as PPI 11 = INTID 16 + 11). The distributor is at physical
//! 0x0800_0000 and the CPU interface at 0x0801_0000 (QEMU `hw/arm/virt.c`, `VIRT_GIC_DIST`
//! and `VIRT_GIC_CPU`), reached at `mmu::MMIO_OFFSET` above that; register offsets are from the GICv2 architecture specification
//! (IHI 0048B, 4.1.2 and 4.1.3). The kernel keeps PSTATE.I set, so the IRQ is only taken while
//! EL0 runs (then `run_user` calls [`handle`]) or noticed after `wfi` in `idle`.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{CNTFRQ_EL0, CNTV_CTL_EL0, CNTV_TVAL_EL0, Readable, Writeable};

const GICD: usize = super::mmu::MMIO_OFFSET + 0x0800_0000;
const GICC: usize = super::mmu::MMIO_OFFSET + 0x0801_0000;
const GICD_CTLR: usize = GICD;
const GICD_ISENABLER0: usize = GICD + 0x100;
const GICD_IPRIORITYR: usize = GICD + 0x400;
const GICC_CTLR: usize = GICC;
const GICC_PMR: usize = GICC + 0x4;
const GICC_IAR: usize = GICC + 0xc;
const GICC_EOIR: usize = GICC + 0x10;

/// INTID of the EL1 virtual timer.
const TIMER_INTID: u32 = 27;
/// IAR value meaning "no pending interrupt".
const SPURIOUS: u32 = 1023;
/// Preemption ticks per second.
const TICK_HZ: u64 = 100;

fn write32(addr: usize, value: u32) {
    // SAFETY: only called with GIC register addresses of QEMU `virt`, mapped as Device memory
    // at `mmu::MMIO_OFFSET`; GIC registers accept 32-bit accesses.
    unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
}

fn read32(addr: usize) -> u32 {
    // SAFETY: as in `write32`; reading GICC_IAR acknowledges an interrupt, which is intended.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// Enables INTID 27 in the GIC and starts the periodic tick.
pub fn init() {
    // Priority 0x80 (byte-addressed register); PMR 0xff lets every priority through.
    // SAFETY: GICD_IPRIORITYR is byte-accessible (IHI 0048B 4.3.11); identity-mapped Device.
    unsafe {
        core::ptr::write_volatile((GICD_IPRIORITYR + TIMER_INTID as usize) as *mut u8, 0x80);
    }
    write32(GICD_ISENABLER0, 1 << TIMER_INTID);
    write32(GICD_CTLR, 1);
    write32(GICC_PMR, 0xff);
    write32(GICC_CTLR, 1);
    arm_timer();
}

/// Sets the virtual timer to fire one tick from now (CNTV_TVAL_EL0) and enables it unmasked.
fn arm_timer() {
    CNTV_TVAL_EL0.set(CNTFRQ_EL0.get() / TICK_HZ);
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
    barrier::isb(barrier::SY);
}

/// Is the virtual timer's condition met (CNTV_CTL_EL0.ISTATUS)?
pub fn timer_pending() -> bool {
    CNTV_CTL_EL0.is_set(CNTV_CTL_EL0::ISTATUS)
}

/// Acknowledges the pending interrupt, re-arms the tick if it was the timer, signals end of
/// interrupt. A spurious acknowledge (1023) needs no EOI.
pub fn handle() {
    let iar = read32(GICC_IAR);
    let intid = iar & 0x3ff;
    if intid == SPURIOUS {
        return;
    }
    if intid == TIMER_INTID {
        arm_timer();
    }
    write32(GICC_EOIR, iar);
}
