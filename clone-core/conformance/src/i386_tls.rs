//! i386 TLS for the thread cases: `CLONE_SETTLS` takes a `struct user_desc *` with
//! `set_thread_area` semantics and the child keeps the parent's `%gs` selector, so the parent
//! must first own a GDT TLS entry and have `%gs` select it (facts §4.4: musl builds the
//! descriptor from `%gs >> 3`). Linux only lets `clone` *reuse* an entry number, not allocate
//! one (`do_set_thread_area(.., can_allocate = false)`).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

use clone_core::user;

/// `struct user_desc` (`arch/x86/include/uapi/asm/ldt.h`).
#[repr(C)]
struct UserDesc {
    entry_number: u32,
    base_addr: u32,
    limit: u32,
    /// seg_32bit:1, contents:2, read_exec_only:1, limit_in_pages:1, seg_not_present:1,
    /// useable:1.
    flags: u32,
}

/// seg_32bit | limit_in_pages | useable, a flat 4 GiB data segment (musl uses the same).
const FLAGS: u32 = 0x51;
const SYS_SET_THREAD_AREA: usize = 243;

struct Slot(UnsafeCell<UserDesc>);
// SAFETY: written by the parent only while no clone that reads it is in flight (the cases run
// one at a time and the kernel reads the descriptor during the clone call).
unsafe impl Sync for Slot {}

static CHILD_DESC: Slot = Slot(UnsafeCell::new(UserDesc {
    entry_number: u32::MAX,
    base_addr: 0,
    limit: 0,
    flags: 0,
}));
static ENTRY: AtomicU32 = AtomicU32::new(u32::MAX);

#[repr(C, align(64))]
struct Block([u32; 16]);
static PARENT_BLOCK: Block = Block([0; 16]);

/// Allocates a GDT TLS entry for the main thread and loads `%gs` with it. Call once at start.
pub fn setup() -> Result<(), i32> {
    let mut d = UserDesc {
        entry_number: u32::MAX, // -1: let the kernel pick a free TLS entry.
        base_addr: core::ptr::addr_of!(PARENT_BLOCK) as u32,
        limit: 0xfffff,
        flags: FLAGS,
    };
    // SAFETY: the kernel reads and writes back (entry_number) the descriptor on our stack.
    let ret = unsafe { user::syscall1(SYS_SET_THREAD_AREA, core::ptr::addr_of_mut!(d) as usize) };
    if ret < 0 {
        return Err(-ret as i32);
    }
    ENTRY.store(d.entry_number, Ordering::Relaxed);
    let selector = (d.entry_number << 3) | 3; // GDT, ring 3.
    // SAFETY: the selector names the TLS entry the kernel just installed for this thread.
    unsafe {
        core::arch::asm!("mov gs, {0:e}", in(reg) selector, options(nostack, preserves_flags));
    }
    Ok(())
}

/// The `tls` argument for a child whose `%gs` base should be `base`.
pub fn child_desc(base: usize) -> usize {
    let p = CHILD_DESC.0.get();
    // SAFETY: see `Slot`.
    unsafe {
        p.write(UserDesc {
            entry_number: ENTRY.load(Ordering::Relaxed),
            base_addr: base as u32,
            limit: 0xfffff,
            flags: FLAGS,
        });
    }
    p as usize
}
