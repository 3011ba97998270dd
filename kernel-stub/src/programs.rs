//! The suite programs (`kernel-stub/programs/`, issue 8): static Linux executables built with
//! the distributions' own toolchains, embedded by `build.rs` from `KERNEL_STUB_PROGRAMS`
//! (`cargo xtask programs` sets it). The kernel runs each in turn as Linux would after
//! `execve("/bin/<name>", { "/bin/<name>" }, { })`, and `execve` finds them at `/bin/<name>`.

use alloc::rc::Rc;

use crate::addrspace::AddressSpace;
use crate::elf::{self, Image};

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

/// A new address space with program `name` loaded and its stack laid out as `execve` lays it
/// out for `argv = { "/bin/<name>" }` and an empty environment.
pub fn load(name: &str, file: &[u8]) -> Result<(Image, Rc<AddressSpace>), &'static str> {
    let space = AddressSpace::new().ok_or("no frames for its page tables")?;
    let mut image = elf::load(file, &space).map_err(|_| "not a loadable ELF for this machine")?;
    let argv0 = alloc::format!("/bin/{name}").into_bytes();
    image.sp = AddressSpace::with_active(&space, || {
        crate::exec::build_stack(image.sp, &image, &[argv0], &[], 0)
    })
    .map_err(|_| "no room for its stack")?;
    Ok((image, space))
}
