//! Physical frame allocator: 4 KiB frames of [`arch::FRAME_POOL`], each with a reference count.
//!
//! A frame is free when its count is 0. Page tables hold one reference per mapping, so a
//! copy-on-write page shared by a parent and two forked generations has count 3 and is copied
//! (or, at count 1, simply made writable again) on the first write. The kernel reaches every
//! frame through the identity map of [`arch::FRAME_POOL`], which every address space has,
//! supervisor-only.
//!
//! Single core, interrupts off in the kernel: the table is a plain `static mut` used only
//! through the functions below.

use crate::arch;

/// Bytes per frame (and per page).
pub const FRAME_SIZE: u64 = 4096;

/// Frames in the pool.
const FRAMES: usize = ((arch::FRAME_POOL.end - arch::FRAME_POOL.start) / FRAME_SIZE) as usize;

const _: () = assert!(arch::FRAME_POOL.start.is_multiple_of(FRAME_SIZE));

/// Reference count per frame, and where the next search for a free frame starts.
struct Table {
    refs: [u16; FRAMES],
    cursor: usize,
    used: usize,
}

static mut TABLE: Table = Table {
    refs: [0; FRAMES],
    cursor: 0,
    used: 0,
};

fn table() -> &'static mut Table {
    // SAFETY: one core, and the kernel never re-enters itself (interrupts are off in kernel
    // mode), so no two references to `TABLE` are live at once: every caller below uses the
    // reference only for the duration of the call.
    unsafe { &mut *core::ptr::addr_of_mut!(TABLE) }
}

fn index(pa: u64) -> usize {
    debug_assert!(arch::FRAME_POOL.contains(&pa) && pa.is_multiple_of(FRAME_SIZE));
    ((pa - arch::FRAME_POOL.start) / FRAME_SIZE) as usize
}

/// A zeroed frame with count 1, or `None` when the pool is exhausted (the caller answers
/// ENOMEM, or kills the faulting task).
pub fn alloc() -> Option<u64> {
    let t = table();
    let n = FRAMES;
    let i = (0..n)
        .map(|k| (t.cursor + k) % n)
        .find(|&i| t.refs[i] == 0)?;
    t.refs[i] = 1;
    t.cursor = (i + 1) % n;
    t.used += 1;
    let pa = arch::FRAME_POOL.start + i as u64 * FRAME_SIZE;
    // SAFETY: `pa` is a whole frame of the pool, mapped for the kernel at `ptr(pa)`, and it
    // was free, so nothing else refers to it.
    unsafe { core::ptr::write_bytes(ptr(pa), 0, FRAME_SIZE as usize) };
    Some(pa)
}

/// One more reference to an allocated frame (a COW mapping shared by a fork).
pub fn share(pa: u64) {
    let t = table();
    let i = index(pa);
    debug_assert!(t.refs[i] > 0);
    t.refs[i] += 1;
}

/// Drops one reference; the frame is free again when the last one goes.
pub fn release(pa: u64) {
    let t = table();
    let i = index(pa);
    debug_assert!(t.refs[i] > 0);
    t.refs[i] -= 1;
    if t.refs[i] == 0 {
        t.used -= 1;
    }
}

/// How many references `pa` has (1 = the only mapping: a COW write just takes it).
pub fn refs(pa: u64) -> u16 {
    table().refs[index(pa)]
}

/// Frames currently allocated.
pub fn used() -> usize {
    table().used
}

/// Frames in the pool.
pub fn total() -> usize {
    FRAMES
}

/// The kernel's pointer to frame `pa`: its address in the kernel's map of physical memory
/// ([`arch::DIRECT_MAP_OFFSET`] above the physical address).
pub fn ptr(pa: u64) -> *mut u8 {
    (pa + arch::DIRECT_MAP_OFFSET) as usize as *mut u8
}

/// `[u64; 512]` view of a page-table frame.
///
/// # Safety
///
/// `pa` must be an allocated frame used as a page table, and the caller must not keep another
/// reference to the same frame alive while using the result.
pub unsafe fn table_at(pa: u64) -> &'static mut [u64; 512] {
    // SAFETY: the caller guarantees `pa` is an allocated, 4 KiB aligned frame, identity-mapped
    // and exclusively used through this reference.
    unsafe { &mut *(ptr(pa) as *mut [u64; 512]) }
}
