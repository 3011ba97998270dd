//! riscv64 paging set-up: a static Sv39 identity map of RAM with 2 MiB leaf pages, the
//! board's devices at [`MMIO_OFFSET`], and the user region's formats for `crate::addrspace`.
//!
//! # Orientation
//!
//! `crate::arch::imp::mmu`, used once by `init()`. The map:
//!
//! | VA                            | PA                     | permissions  | U-mode   |
//! |-------------------------------|------------------------|--------------|----------|
//! | `USER_REGION` (0..1 GiB)      | frames of `FRAME_POOL` | per page     | yes      |
//! | 0x8000_0000..0xc000_0000      | the same (identity)    | R W X (RAM)  | no       |
//! | 0x10_0000_0000..+1 GiB        | 0..0x4000_0000         | R W (MMIO)   | no       |
//! | everything else               | unmapped               |              |          |
//!
//! The RAM GiB covers up to 1 GiB of `-m` (OpenSBI's own 2 MiB at its bottom stay protected by
//! its PMP): the kernel, its stack and the frame pool, reached at their physical addresses.
//! The first physical GiB holds `virt`'s sifive_test, goldfish RTC, CLINT, PLIC and UART; its
//! addresses are where static Linux programs are linked (0x1_0000), so the user region takes
//! the first GiB of VA and the devices are reached at [`MMIO_OFFSET`] above their physical
//! address. The boot map has no user pages; each address space gets its own level-1 table
//! for the user GiB (`build_upper`) and leaf tables as pages are mapped. A and D are preset
//! in every leaf so no hardware A/D update is needed. PTE format and satp encoding: RISC-V
//! privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System".

use core::arch::asm;

use super::USER_REGION;
use crate::arch::Perm;

/// One page table: 512 PTEs, 4 KiB aligned.
#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut ROOT: Table = Table([0; 512]);
static mut L1_RAM: Table = Table([0; 512]);

const V: u64 = 1 << 0;
const R: u64 = 1 << 1;
const W: u64 = 1 << 2;
const X: u64 = 1 << 3;
const U: u64 = 1 << 4;
const A: u64 = 1 << 6;
const D: u64 = 1 << 7;

const GIB: u64 = 1 << 30;
const MEGAPAGE: u64 = 2 << 20;
const RAM_GIB_BASE: u64 = 0x8000_0000;

/// Where the kernel reaches the board's devices: VA = PA + `MMIO_OFFSET` for the first
/// physical GiB (root slot 64, far above RAM and the user region).
pub const MMIO_OFFSET: usize = 0x10_0000_0000;
/// The root slot of [`MMIO_OFFSET`].
const MMIO_SLOT: usize = MMIO_OFFSET / GIB as usize;
/// satp.MODE = 8 (Sv39).
const SATP_SV39: u64 = 8 << 60;

/// The PPN field of a PTE for physical address `pa`.
const fn ppn(pa: u64) -> u64 {
    (pa >> 12) << 10
}

/// Builds the identity map and turns Sv39 translation on.
///
/// # Safety
///
/// Call once, at boot, on the only running hart, before anything else runs (no other code may
/// hold references into `ROOT`/`L1_RAM`). Every address the kernel uses must be inside the
/// mapped ranges above, which holds for the kernel image, its stack and the `virt` MMIO it
/// touches.
pub unsafe fn enable() {
    const _: () = assert!(
        USER_REGION.start.is_multiple_of(MEGAPAGE) && USER_REGION.end.is_multiple_of(MEGAPAGE)
    );
    // The user region is the first GiB of VA, which the boot map leaves empty.
    const _: () = assert!(USER_REGION.end <= GIB);
    const _: () = assert!(MMIO_OFFSET.is_multiple_of(GIB as usize) && MMIO_SLOT < 256);
    let root = &raw mut ROOT;
    let l1 = &raw mut L1_RAM;
    // SAFETY: the caller guarantees exclusive use at boot; `root`/`l1` point to the statics.
    unsafe {
        (*root).0[MMIO_SLOT] = ppn(0) | V | R | W | A | D;
        (*root).0[(RAM_GIB_BASE / GIB) as usize] = ppn(l1 as u64) | V;
        for (i, pte) in (*l1).0.iter_mut().enumerate() {
            let pa = RAM_GIB_BASE + i as u64 * MEGAPAGE;
            *pte = ppn(pa) | V | R | W | X | A | D;
        }
    }
    // SAFETY: the map is the identity over the executing code, its stack and all kernel data,
    // so enabling translation moves nothing; `sfence.vma` orders the table writes before the
    // first translated access.
    unsafe {
        asm!(
            "sfence.vma",
            "csrw satp, {satp}",
            "sfence.vma",
            satp = in(reg) SATP_SV39 | (root as u64 >> 12),
            options(nostack, preserves_flags),
        );
    }
}

/// Tables above the leaf level each address space owns: the root and the user GiB's level 1.
pub const UPPER_TABLES: usize = 2;

/// RSW bit 8, free for software: a copy-on-write page.
const COW: u64 = 1 << 8;

/// One-time set-up: nothing beyond [`enable`].
pub fn init() {}

/// Fills an address space's upper tables: `upper[0]` the root (the RAM GiB and the device
/// window as at boot, the user GiB → `upper[1]`), `upper[1]` the user GiB's level 1, empty
/// until [`install_leaf`] gives a slot a leaf table. Returns the root's address for
/// [`activate`].
///
/// # Safety
///
/// Every frame must be an allocated, zeroed page-table frame used by nothing else.
pub unsafe fn build_upper(upper: &[u64; UPPER_TABLES]) -> u64 {
    // SAFETY: the caller hands over the frames; the boot tables are only read (the RAM GiB's
    // level 1 is the boot one, shared and never written after `enable`).
    unsafe {
        let root = crate::frames::table_at(upper[0]);
        let boot = &*((&raw const ROOT) as *const [u64; 512]);
        root[0] = ppn(upper[1]) | V;
        root[(RAM_GIB_BASE / GIB) as usize] = boot[(RAM_GIB_BASE / GIB) as usize];
        root[MMIO_SLOT] = boot[MMIO_SLOT];
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
    // SAFETY: the L1 table is this space's; the caller hands over the leaf.
    let l1 = unsafe { crate::frames::table_at(upper[1]) };
    l1[(USER_REGION.start / MEGAPAGE) as usize + index] = ppn(leaf) | V;
}

/// A user leaf PTE for frame `pa` (A and D preset: no hardware A/D updates needed).
pub fn leaf_entry(pa: u64, perm: Perm) -> u64 {
    let mut e = ppn(pa) | V | R | U | A | D;
    if perm.write {
        e |= W;
    }
    if perm.exec {
        e |= X;
    }
    if perm.cow {
        e |= COW;
    }
    e
}

/// The frame and permissions of a leaf PTE, `None` if invalid.
pub fn decode_leaf(e: u64) -> Option<(u64, Perm)> {
    (e & V != 0).then_some((
        (e >> 10) << 12,
        Perm {
            write: e & W != 0,
            exec: e & X != 0,
            cow: e & COW != 0,
        },
    ))
}

/// The boot tables' root (for when no address space is active).
pub fn boot_root() -> u64 {
    (&raw const ROOT) as u64
}

/// Switches satp to `root` (Sv39, ASID 0) and drops every cached translation.
///
/// # Safety
///
/// `root` must be [`boot_root`] or a root from [`build_upper`] whose frames stay allocated
/// while it is active.
pub unsafe fn activate(root: u64) {
    // SAFETY: every root maps the kernel identically (the level-1 copy), so the running code
    // and its stack stay mapped; `sfence.vma` orders the table writes and flushes the TLB.
    unsafe {
        asm!(
            "sfence.vma",
            "csrw satp, {satp}",
            "sfence.vma",
            satp = in(reg) SATP_SV39 | (root >> 12),
            options(nostack, preserves_flags),
        )
    };
}

/// Drops every cached translation (after a table change of the active space).
pub fn flush_all() {
    // SAFETY: TLB maintenance only.
    unsafe { asm!("sfence.vma", options(nostack, preserves_flags)) };
}

/// Makes instructions the kernel wrote visible to instruction fetches (`fence.i`).
pub fn code_written() {
    // SAFETY: an instruction-fetch fence only.
    unsafe { asm!("fence.i", options(nostack, preserves_flags)) };
}
