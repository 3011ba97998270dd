//! Kernel heap: `linked_list_allocator` over a static array, behind a spin lock.
//!
//! Only task records live here; [`used`] lets the kernel prove that thousands of clone/exit
//! cycles give every byte back.

use linked_list_allocator::LockedHeap;

/// Heap size: room for every task slot many times over.
const HEAP_SIZE: usize = 1 << 20;

/// Backing store; 16-byte aligned so the allocator never wastes its first bytes.
#[repr(C, align(16))]
struct Arena([u8; HEAP_SIZE]);

static mut ARENA: Arena = Arena([0; HEAP_SIZE]);

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Hands the arena to the allocator. Called once from `kmain`.
pub fn init() {
    // SAFETY: called once, before any allocation; `ARENA` is used by nothing else, so the
    // allocator gets exclusive ownership of the whole static array for the kernel's lifetime.
    unsafe {
        let start = core::ptr::addr_of_mut!(ARENA).cast::<u8>();
        ALLOCATOR.lock().init(start, HEAP_SIZE);
    }
}

/// Bytes currently allocated.
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}

/// Highest [`used`] seen at a clone (sampled by `note_peak`).
static PEAK: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Records the current use as a peak candidate.
pub fn note_peak() {
    PEAK.fetch_max(used(), core::sync::atomic::Ordering::Relaxed);
}

/// The highest use recorded by [`note_peak`].
pub fn peak() -> usize {
    PEAK.load(core::sync::atomic::Ordering::Relaxed)
}
