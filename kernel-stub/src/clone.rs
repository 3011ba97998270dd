//! `clone` and `clone3` through clone-core's kernel face: decode the raw registers, validate
//! with Linux's errno and order, then create the thread.
//!
//! (Being wired: until clone-core's `syscall`/`validate` modules land this returns `ENOSYS`.)

use crate::syscall::{ENOSYS, SysResult};
use crate::task::Kernel;

/// Handles `clone` (`number == nr::CLONE`) or `clone3` for the task in slot `i`.
pub fn sys_clone(_k: &mut Kernel, _i: usize, _number: u64, _args: [u64; 6]) -> SysResult {
    Err(ENOSYS)
}
