//! x86_64 page tables of one address space: 4-level paging, 4 KiB user pages.
//!
//! # Orientation
//!
//! `crate::addrspace` owns the frames; this file only knows the formats. Each address space has its
//! own PML4 → PDPT → PD (the [`UPPER_TABLES`]); the PD's 2 MiB entries are the boot identity map
//! (`boot.rs`, supervisor-only: the kernel's first 4 MiB) except the [`super::USER_REGION`] slots,
//! empty until [`install_leaf`] points one at a leaf table of 4 KiB pages. `PDPT[1]` is the boot PD
//! itself, supervisor-only: physical memory again at 1 GiB ([`super::DIRECT_MAP_OFFSET`]), where
//! the kernel reaches [`super::FRAME_POOL`]. Entry bits are from the Intel SDM vol. 3A, 4.5
//! ("4-level paging"): P, R/W, U/S, XD (bit 63, needs `EFER.NXE`), and bit 9, free for software,
//! marks a copy-on-write page.

use core::arch::asm;

use super::USER_REGION;
use crate::arch::Perm;

/// Tables above the leaf level each address space owns: PML4, PDPT, PD.
pub const UPPER_TABLES: usize = 3;

const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const COW: u64 = 1 << 9;
const XD: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
const IA32_EFER: u32 = 0xC000_0080;
const EFER_NXE: u64 = 1 << 11;

unsafe extern "C" {
    static X86_BOOT_PML4: [u64; 512];
    static X86_BOOT_PD: [u64; 512];
}

/// One-time set-up: `EFER.NXE`, so the XD bit of user pages is honoured.
pub fn init() {
    // SAFETY: setting EFER.NXE only gives bit 63 of page-table entries its meaning; no entry
    // in use sets it yet.
    unsafe {
        let mut efer = x86_64::registers::model_specific::Msr::new(IA32_EFER);
        efer.write(efer.read() | EFER_NXE);
    }
}

/// Fills an address space's upper tables: `upper[0]` PML4, `[1]` PDPT, `[2]` PD, all zeroed
/// frames. The user region's slots stay empty until [`install_leaf`]; `PDPT[1]` is the boot
/// PD, supervisor-only: the kernel's alias of physical memory at `DIRECT_MAP_OFFSET`.
/// Returns the root for [`activate`].
///
/// # Safety
///
/// Every frame must be an allocated, zeroed page-table frame used by nothing else.
pub unsafe fn build_upper(upper: &[u64; UPPER_TABLES]) -> u64 {
    // SAFETY: the caller hands over the frames; the boot tables are only read.
    unsafe {
        let pml4 = crate::frames::table_at(upper[0]);
        pml4[0] = upper[1] | P | RW | US;
        let pdpt = crate::frames::table_at(upper[1]);
        pdpt[0] = upper[2] | P | RW | US;
        pdpt[1] = core::ptr::addr_of!(X86_BOOT_PD) as u64 | P | RW;
        let pd = crate::frames::table_at(upper[2]);
        let boot = &*core::ptr::addr_of!(X86_BOOT_PD);
        for (i, e) in pd.iter_mut().enumerate() {
            let va = i as u64 * (1 << 21);
            *e = if USER_REGION.contains(&va) {
                0
            } else {
                boot[i] & !US
            };
        }
    }
    upper[0]
}

/// Points the `index`-th 2 MiB slot of the user region at leaf table `leaf`.
///
/// # Safety
///
/// `upper` must come from [`build_upper`] and `leaf` be an allocated, zeroed page-table frame
/// of the same address space.
pub unsafe fn install_leaf(upper: &[u64; UPPER_TABLES], index: usize, leaf: u64) {
    // SAFETY: the PD is this space's; the caller hands over the leaf.
    let pd = unsafe { crate::frames::table_at(upper[2]) };
    pd[(USER_REGION.start >> 21) as usize + index] = leaf | P | RW | US;
}

/// A user leaf entry for frame `pa`.
pub fn leaf_entry(pa: u64, perm: Perm) -> u64 {
    let mut e = pa | P | US;
    if perm.write {
        e |= RW;
    }
    if !perm.exec {
        e |= XD;
    }
    if perm.cow {
        e |= COW;
    }
    e
}

/// The frame and permissions of a leaf entry, `None` if not present.
pub fn decode_leaf(e: u64) -> Option<(u64, Perm)> {
    (e & P != 0).then_some((
        e & ADDR,
        Perm {
            write: e & RW != 0,
            exec: e & XD == 0,
            cow: e & COW != 0,
        },
    ))
}

/// The boot tables' root (for when no address space is active).
pub fn boot_root() -> u64 {
    core::ptr::addr_of!(X86_BOOT_PML4) as u64
}

/// Switches to the address space whose root is `root` (flushes the TLB: no PCIDs).
///
/// # Safety
///
/// `root` must be [`boot_root`] or a root from [`build_upper`] whose frames stay allocated
/// while it is active.
pub unsafe fn activate(root: u64) {
    // SAFETY: every root maps the kernel identically (the PD copy), so the running code and
    // its stack stay mapped.
    unsafe { asm!("mov cr3, {}", in(reg) root, options(nostack, preserves_flags)) };
}

/// Drops every cached translation of the active address space.
pub fn flush_all() {
    // SAFETY: reloading CR3 with its own value only flushes the TLB.
    unsafe {
        asm!("mov {t}, cr3", "mov cr3, {t}", t = out(reg) _, options(nostack, preserves_flags))
    };
}

/// Makes instructions written through the kernel's mapping visible to user fetches: nothing to
/// do on x86 (coherent instruction cache).
pub fn code_written() {}
