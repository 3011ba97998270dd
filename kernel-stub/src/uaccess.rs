//! User memory access (`copy_from_user`, `copy_to_user`, `get_user`, `put_user`) for the
//! running task's address space.
//!
//! The kernel never dereferences a user pointer. Each page of an access is translated through
//! the active page table ([`addrspace::current_user_page`]), with the checks the CPU makes for
//! the user: outside [`arch::USER_REGION`] is EFAULT, a write to a read-only page (ELF text or
//! rodata) is EFAULT, a write to a copy-on-write page first gets the page its own frame, and a
//! page never touched is a zeroed frame. The bytes are then copied through the kernel's
//! identity map of the frame. A failure part-way leaves the bytes before it copied, as Linux's
//! copy routines do.

use clone_core::Errno;

use crate::frames::{self, FRAME_SIZE};
use crate::{addrspace, arch};

/// Is `[addr, addr + len)` inside the user region? (`len == 0` is accepted anywhere, like
/// Linux's `access_ok` with size 0.) Permissions are checked at the copy.
pub fn access_ok(addr: u64, len: u64) -> bool {
    if len == 0 {
        return true;
    }
    match addr.checked_add(len) {
        Some(end) => addr >= arch::USER_REGION.start && end <= arch::USER_REGION.end,
        None => false,
    }
}

/// Linux's `access_ok`: is `[addr, addr + len)` below the end of the user half
/// ([`arch::TASK_SIZE_MAX`]), mapped or not? (Also for `len == 0`: a zero-length range at a
/// kernel address is refused.) Decides EFAULT where Linux decides it before touching memory.
pub fn range_ok(addr: u64, len: u64) -> bool {
    addr < arch::TASK_SIZE_MAX
        && addr
            .checked_add(len)
            .is_some_and(|end| end <= arch::TASK_SIZE_MAX)
}

/// Calls `f(frame pointer, range in the buffer)` for each page piece of `[addr, addr + len)`.
fn each_page(
    addr: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(*mut u8, core::ops::Range<usize>),
) -> Result<(), Errno> {
    if !access_ok(addr, len as u64) {
        return Err(Errno::EFAULT);
    }
    let mut done = 0usize;
    while done < len {
        let va = addr + done as u64;
        let in_page = (FRAME_SIZE - va % FRAME_SIZE) as usize;
        let n = in_page.min(len - done);
        let pa = addrspace::current_user_page(va, write).map_err(|_| Errno::EFAULT)?;
        f(frames::ptr(pa), done..done + n);
        done += n;
    }
    Ok(())
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn read_bytes(src: u64, dst: &mut [u8]) -> Result<(), Errno> {
    each_page(src, dst.len(), false, |p, r| {
        // SAFETY: `p` is the kernel's mapping of the frame behind this piece, which holds at
        // least `r.len()` bytes from `p` (the piece does not cross a page); `dst` is a distinct
        // kernel buffer.
        unsafe { core::ptr::copy_nonoverlapping(p, dst[r.clone()].as_mut_ptr(), r.len()) }
    })
}

/// Copies `src` to user address `dst`.
pub fn write_bytes(dst: u64, src: &[u8]) -> Result<(), Errno> {
    each_page(dst, src.len(), true, |p, r| {
        // SAFETY: as in `read_bytes`; the page was checked writable for the user (after a COW
        // break it is this space's own frame), so the write changes only this task's memory.
        unsafe { core::ptr::copy_nonoverlapping(src[r.clone()].as_ptr(), p, r.len()) }
    })
}

/// Reads a `u32` (the size of a futex word and of a `pid_t`).
pub fn read_u32(addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    read_bytes(addr, &mut b)?;
    Ok(u32::from_ne_bytes(b))
}

/// Writes a `u32` (Linux's `put_user` of a `pid_t`).
pub fn write_u32(addr: u64, value: u32) -> Result<(), Errno> {
    write_bytes(addr, &value.to_ne_bytes())
}

/// Reads a `u64`.
pub fn read_u64(addr: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    read_bytes(addr, &mut b)?;
    Ok(u64::from_ne_bytes(b))
}

/// Is `[addr, addr + len)` writable by the user right now (mapped read-only pages are not)?
/// What the validator's pidfd-slot check needs before the kernel commits to a clone.
pub fn writable(addr: u64, len: u64) -> bool {
    if !access_ok(addr, len) {
        return false;
    }
    let mut page = addr & !(FRAME_SIZE - 1);
    while page < addr + len {
        if addrspace::current_user_page(page, true).is_err() {
            return false;
        }
        page += FRAME_SIZE;
    }
    true
}
