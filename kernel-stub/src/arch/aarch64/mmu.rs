//! aarch64 MMU set-up: a static identity map of RAM with 2 MiB blocks, the board's devices at
//! [`MMIO_OFFSET`], and the user region's formats for `crate::addrspace`.
//!
//! # Orientation
//!
//! `crate::arch::imp::mmu`, used once by `init()`. The map (TTBR0_EL1 only, 39-bit VA, 4 KiB
//! granule, translation starts at level 1):
//!
//! | VA                             | PA                     | memory type   | EL1 | EL0  |
//! |--------------------------------|------------------------|---------------|-----|------|
//! | `USER_REGION` (4 MiB..1 GiB)   | frames of `FRAME_POOL` | Normal WB     | RW, PXN | per page |
//! | 0x4000_0000..0x8000_0000       | the same (identity)    | Normal WB     | RWX | none |
//! | 0x10_0000_0000..+1 GiB         | 0..0x4000_0000         | Device-nGnRnE | RW  | none |
//! | everything else                | unmapped               |               |     |      |
//!
//! The second GiB is RAM (up to 1 GiB of `-m`): the kernel, its stack and the frame pool,
//! reached at their physical addresses. The first physical GiB holds `virt`'s GIC, PL011,
//! PL031 and the rest of the MMIO; its addresses are where static Linux programs are linked
//! (0x40_0000), so the user region takes the first GiB of VA and the devices are reached at
//! [`MMIO_OFFSET`] above their physical address. The boot map has no user pages; each
//! address space gets its own level-2 table for the user GiB (`build_upper`) and leaf tables
//! as pages are mapped. EL0 pages are always PXN (ARMv8 makes EL0-writable memory
//! privileged-execute-never anyway). Descriptor bits are from the ARM ARM, D8.3 (VMSAv8-64
//! descriptor formats) and D8.4 (memory attributes).

use core::arch::asm;

use super::USER_REGION;
use crate::arch::Perm;

/// One translation table: 512 descriptors, 4 KiB aligned.
#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut L1: Table = Table([0; 512]);
static mut L2_RAM: Table = Table([0; 512]);

const DESC_BLOCK: u64 = 0b01;
const DESC_TABLE: u64 = 0b11;
/// AttrIndx (bits 4:2): MAIR_EL1 slot 0 = Device-nGnRnE, slot 1 = Normal WB.
const ATTR_DEVICE: u64 = 0 << 2;
const ATTR_NORMAL: u64 = 1 << 2;
/// AP[2:1] (bits 7:6): 0b00 = EL1 RW / EL0 none, 0b01 = EL1 RW / EL0 RW.
const AP_EL1_ONLY: u64 = 0b00 << 6;
const AP_EL0_RW: u64 = 0b01 << 6;
/// SH (bits 9:8) = inner shareable.
const SH_INNER: u64 = 0b11 << 8;
/// Access flag: set, so no access-flag faults.
const AF: u64 = 1 << 10;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;

const GIB: u64 = 1 << 30;
const BLOCK_2M: u64 = 2 << 20;
const RAM_GIB_BASE: u64 = 0x4000_0000;

/// Where the kernel reaches the board's devices: VA = PA + `MMIO_OFFSET` for the first
/// physical GiB (level-1 slot 64, far above RAM and the user region).
pub const MMIO_OFFSET: usize = 0x10_0000_0000;
/// The level-1 slot of [`MMIO_OFFSET`].
const MMIO_SLOT: usize = MMIO_OFFSET / GIB as usize;

/// MAIR_EL1: Attr0 = 0x00 (Device-nGnRnE), Attr1 = 0xff (Normal, inner/outer write-back
/// read/write-allocate).
const MAIR: u64 = 0xff << 8;
/// TCR_EL1: T0SZ = 25 (39-bit VA), IRGN0/ORGN0 = write-back, SH0 = inner, TG0 = 4 KiB,
/// EPD1 = 1 (no TTBR1 walks), IPS = 0b001 (36-bit PA, enough for `virt`'s low memory map).
const TCR: u64 = 25 | (0b01 << 8) | (0b01 << 10) | (0b11 << 12) | (1 << 23) | (0b001 << 32);
/// SCTLR_EL1: M (MMU), C and I (caches), SA and SA0 (SP alignment checks) plus, like Linux's
/// `INIT_SCTLR_EL1_MMU_ON`, EL0 access to DC ZVA (DZE), CTR_EL0 (UCT), cache maintenance
/// (UCI) and WFI/WFE without trapping (nTWI, nTWE); A (alignment check) and WXN stay clear.
/// The RES1 bits of ARMv8.0 (11, 20, 22, 23, 28, 29) are set.
const SCTLR: u64 = (1 << 0)
    | (1 << 2)
    | (1 << 3)
    | (1 << 4)
    | (1 << 12)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 18)
    | (1 << 26)
    | (1 << 11)
    | (1 << 20)
    | (1 << 22)
    | (1 << 23)
    | (1 << 28)
    | (1 << 29);

/// Builds the identity map and turns the MMU and caches on.
///
/// # Safety
///
/// Call once, at boot, on the only running core, before anything relies on memory attributes
/// (no other code may run concurrently or hold references into `L1`/`L2_RAM`). Every address
/// the kernel uses must be inside the mapped ranges in the table above, which holds for the
/// kernel image, its stack and the `virt` MMIO it touches.
pub unsafe fn enable() {
    let l1 = &raw mut L1;
    let l2 = &raw mut L2_RAM;
    // SAFETY: the caller guarantees exclusive use at boot; `l1`/`l2` point to the statics.
    unsafe {
        (*l1).0[MMIO_SLOT] = DESC_BLOCK | ATTR_DEVICE | AP_EL1_ONLY | AF | PXN | UXN;
        (*l1).0[(RAM_GIB_BASE / GIB) as usize] = DESC_TABLE | (l2 as u64);
        for (i, entry) in (*l2).0.iter_mut().enumerate() {
            let pa = RAM_GIB_BASE + i as u64 * BLOCK_2M;
            *entry = DESC_BLOCK | ATTR_NORMAL | SH_INNER | AF | AP_EL1_ONLY | UXN | pa;
        }
    }
    const _: () = assert!(
        USER_REGION.start.is_multiple_of(BLOCK_2M) && USER_REGION.end.is_multiple_of(BLOCK_2M)
    );
    // The user region is the first GiB of VA, which the boot map leaves empty.
    const _: () = assert!(USER_REGION.end <= GIB);
    const _: () = assert!(MMIO_OFFSET.is_multiple_of(GIB as usize) && MMIO_SLOT < 512);

    // SAFETY: the tables above identity-map the code executing this sequence, its stack and
    // all kernel data with their previous meaning, so turning translation on does not move
    // anything; the barriers order the table writes before the walker can see them and make
    // the new SCTLR_EL1 take effect before the next instruction.
    unsafe {
        asm!(
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr0}",
            "dsb ish",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {tmp}, sctlr_el1",
            "orr {tmp}, {tmp}, {sctlr}",
            "bic {tmp}, {tmp}, {clear}",
            "msr sctlr_el1, {tmp}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr0 = in(reg) l1 as u64,
            sctlr = in(reg) SCTLR,
            // A (bit 1) and WXN (bit 19) must be clear.
            clear = in(reg) (1u64 << 1) | (1u64 << 19),
            tmp = out(reg) _,
            options(nostack, preserves_flags),
        );
    }
}

/// Tables above the leaf level each address space owns: level 1 and the user GiB's level 2.
pub const UPPER_TABLES: usize = 2;

/// Page descriptor (level 3) and the user access permissions: AP[2:1] = 0b01 EL0 RW, 0b11 EL0
/// read-only; bit 55, free for software, marks a copy-on-write page.
const DESC_PAGE: u64 = 0b11;
const AP_EL0_RO: u64 = 0b11 << 6;
const COW: u64 = 1 << 55;
const ADDR: u64 = 0x0000_ffff_ffff_f000;

/// One-time set-up: nothing beyond [`enable`] (PXN/UXN need no switch).
pub fn init() {}

/// Fills an address space's upper tables: `upper[0]` level 1 (the RAM GiB and the device
/// window as at boot, the user GiB → `upper[1]`), `upper[1]` the user GiB's level 2, empty
/// until [`install_leaf`] gives a slot a leaf table. Returns the TTBR0_EL1 value for
/// [`activate`].
///
/// # Safety
///
/// Every frame must be an allocated, zeroed page-table frame used by nothing else.
pub unsafe fn build_upper(upper: &[u64; UPPER_TABLES]) -> u64 {
    // SAFETY: the caller hands over the frames; the boot tables are only read (the RAM GiB's
    // level 2 is the boot one, shared and never written after `enable`).
    unsafe {
        let l1 = crate::frames::table_at(upper[0]);
        let boot = &*((&raw const L1) as *const [u64; 512]);
        l1[0] = DESC_TABLE | upper[1];
        l1[(RAM_GIB_BASE / GIB) as usize] = boot[(RAM_GIB_BASE / GIB) as usize];
        l1[MMIO_SLOT] = boot[MMIO_SLOT];
    }
    upper[0]
}

/// Points the `index`-th 2 MiB slot of the user region at leaf table `leaf` (the caller
/// flushes before the next user access).
///
/// # Safety
///
/// `upper` must come from [`build_upper`] and `leaf` be an allocated, zeroed page-table frame
/// of the same address space.
pub unsafe fn install_leaf(upper: &[u64; UPPER_TABLES], index: usize, leaf: u64) {
    // SAFETY: the L2 table is this space's; the caller hands over the leaf.
    let l2 = unsafe { crate::frames::table_at(upper[1]) };
    l2[(USER_REGION.start / BLOCK_2M) as usize + index] = DESC_TABLE | leaf;
}

/// A user page descriptor for frame `pa`: EL0 read (and write), never EL1-executable.
pub fn leaf_entry(pa: u64, perm: Perm) -> u64 {
    let mut e = DESC_PAGE | ATTR_NORMAL | SH_INNER | AF | PXN | pa;
    e |= if perm.write { AP_EL0_RW } else { AP_EL0_RO };
    if !perm.exec {
        e |= UXN;
    }
    if perm.cow {
        e |= COW;
    }
    e
}

/// The frame and permissions of a page descriptor, `None` if invalid.
pub fn decode_leaf(e: u64) -> Option<(u64, Perm)> {
    (e & 0b11 == DESC_PAGE).then_some((
        e & ADDR,
        Perm {
            write: e & (0b11 << 6) == AP_EL0_RW,
            exec: e & UXN == 0,
            cow: e & COW != 0,
        },
    ))
}

/// The boot tables' root (for when no address space is active).
pub fn boot_root() -> u64 {
    (&raw const L1) as u64
}

/// Switches TTBR0_EL1 to `root` and drops every cached translation (no ASIDs: a full flush).
///
/// # Safety
///
/// `root` must be [`boot_root`] or a root from [`build_upper`] whose frames stay allocated
/// while it is active.
pub unsafe fn activate(root: u64) {
    // SAFETY: every root maps the kernel identically (the level-2 copy), so the running code
    // and its stack stay mapped; the barriers order the table writes before the new walks.
    unsafe {
        asm!(
            "dsb ishst",
            "msr ttbr0_el1, {}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            in(reg) root,
            options(nostack, preserves_flags),
        )
    };
}

/// Drops every cached translation (after a table change of the active space).
pub fn flush_all() {
    // SAFETY: TLB maintenance only.
    unsafe {
        asm!(
            "dsb ishst",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}

/// Makes instructions the kernel wrote through its mapping visible to EL0 fetches: clean the
/// data cache to the point of unification and invalidate the instruction cache.
pub fn code_written() {
    // SAFETY: cache maintenance only; `ic iallu` invalidates the whole instruction cache.
    unsafe {
        asm!(
            "dsb ish",
            "ic iallu",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}
