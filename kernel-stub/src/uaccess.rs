//! User memory access: every user pointer is checked against [`arch::USER_REGION`] before the
//! kernel touches it (the stub's `access_ok`).
//!
//! The kernel and user share one identity-mapped address space and the whole user region is
//! backed by RAM, so a checked access can never fault: a pointer outside the region is the only
//! way to get `EFAULT`, exactly where Linux's `copy_from_user`/`put_user` would fail.

use clone_core::Errno;

use crate::arch;

/// Is `[addr, addr + len)` inside the user region? (`len == 0` is accepted anywhere, like
/// Linux's `access_ok` with size 0.)
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

/// Copies `dst.len()` bytes from user address `src`.
pub fn read_bytes(src: u64, dst: &mut [u8]) -> Result<(), Errno> {
    if !access_ok(src, dst.len() as u64) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `access_ok` proved `[src, src + len)` lies in the user region, which is
    // identity-mapped RAM the kernel may read; `dst` is a distinct kernel buffer.
    unsafe {
        core::ptr::copy_nonoverlapping(src as usize as *const u8, dst.as_mut_ptr(), dst.len())
    };
    Ok(())
}

/// Copies `src` to user address `dst`.
pub fn write_bytes(dst: u64, src: &[u8]) -> Result<(), Errno> {
    if !access_ok(dst, src.len() as u64) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `access_ok` proved `[dst, dst + len)` lies in the user region (identity-mapped
    // RAM, never kernel data), so writing there cannot corrupt the kernel.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst as usize as *mut u8, src.len()) };
    Ok(())
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
