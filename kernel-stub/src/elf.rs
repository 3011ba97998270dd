//! User program loader: copies the `PT_LOAD` segments of a static, non-PIE ELF64 into the user
//! region, zeroes its bss, and builds the initial stack Linux would build for an exec with no
//! arguments (`argc = 0`, `argv[0] = NULL`, `envp[0] = NULL`, `auxv = {AT_NULL}`), which is how
//! the program knows it is not running on a native kernel.

use core::fmt;

use crate::uaccess;

/// Where the loaded program starts and where its first thread's stack is.
pub struct Image {
    /// `e_entry`.
    pub entry: u64,
    /// Initial stack pointer (points at `argc`).
    pub sp: u64,
}

/// Why the embedded program could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Not a little-endian ELF64 executable (`ET_EXEC`).
    NotElf64Exec,
    /// The header or a program header lies outside the file.
    Truncated,
    /// A segment does not fit in the user region (wrong `--image-base`?).
    OutsideUserRegion { vaddr: u64, memsz: u64 },
    /// No room left for the initial stack.
    NoStackRoom,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf64Exec => f.write_str("not a static little-endian ELF64 executable"),
            Self::Truncated => f.write_str("truncated ELF file"),
            Self::OutsideUserRegion { vaddr, memsz } => write!(
                f,
                "segment {vaddr:#x}+{memsz:#x} is outside the user region {:#x}..{:#x}",
                crate::arch::USER_REGION.start,
                crate::arch::USER_REGION.end
            ),
            Self::NoStackRoom => f.write_str("no room for the initial stack"),
        }
    }
}

const PT_LOAD: u32 = 1;
const ET_EXEC: u16 = 2;
/// Size of the initial thread's stack at the top of the user region.
const INITIAL_STACK: u64 = 256 * 1024;

fn u16_at(b: &[u8], off: usize) -> Result<u16, LoadError> {
    let s = b
        .get(off..off.checked_add(2).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, LoadError> {
    let s = b
        .get(off..off.checked_add(4).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Result<u64, LoadError> {
    let s = b
        .get(off..off.checked_add(8).ok_or(LoadError::Truncated)?)
        .ok_or(LoadError::Truncated)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

/// Loads `file` into the user region.
pub fn load(file: &[u8]) -> Result<Image, LoadError> {
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB.
    if file.get(0..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) || u16_at(file, 16)? != ET_EXEC {
        return Err(LoadError::NotElf64Exec);
    }
    let entry = u64_at(file, 24)?;
    let phoff = u64_at(file, 32)? as usize;
    let phentsize = u16_at(file, 54)? as usize;
    let phnum = u16_at(file, 56)? as usize;
    let mut top = 0u64;
    for i in 0..phnum {
        // Checked: the header fields are file data, and a wrapped offset must read as truncated.
        let ph = i
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .ok_or(LoadError::Truncated)?;
        if u32_at(file, ph)? != PT_LOAD {
            continue;
        }
        let offset = u64_at(file, ph.saturating_add(8))? as usize;
        let vaddr = u64_at(file, ph.saturating_add(16))?;
        let filesz = u64_at(file, ph.saturating_add(32))?;
        let memsz = u64_at(file, ph.saturating_add(40))?;
        if filesz > memsz || !uaccess::access_ok(vaddr, memsz) {
            return Err(LoadError::OutsideUserRegion { vaddr, memsz });
        }
        let end = offset
            .checked_add(filesz as usize)
            .ok_or(LoadError::Truncated)?;
        let data = file.get(offset..end).ok_or(LoadError::Truncated)?;
        uaccess::write_bytes(vaddr, data)
            .map_err(|_| LoadError::OutsideUserRegion { vaddr, memsz })?;
        zero(vaddr + filesz, memsz - filesz)?;
        top = top.max(vaddr + memsz);
    }

    // Initial stack at the top of the region: argc, argv NULL, envp NULL, AT_NULL pair.
    let region_end = crate::arch::USER_REGION.end;
    if top > region_end - INITIAL_STACK {
        return Err(LoadError::NoStackRoom);
    }
    let sp = (region_end - 64) & !15;
    let words: [u64; 5] = [0, 0, 0, 0, 0];
    for (i, w) in words.iter().enumerate() {
        uaccess::write_bytes(sp + 8 * i as u64, &w.to_ne_bytes())
            .map_err(|_| LoadError::NoStackRoom)?;
    }
    Ok(Image { entry, sp })
}

/// Zeroes `len` user bytes at `addr` (bss), in chunks to avoid a large kernel buffer.
fn zero(mut addr: u64, mut len: u64) -> Result<(), LoadError> {
    const CHUNK: [u8; 256] = [0; 256];
    while len > 0 {
        let n = len.min(CHUNK.len() as u64);
        uaccess::write_bytes(addr, &CHUNK[..n as usize]).map_err(|_| {
            LoadError::OutsideUserRegion {
                vaddr: addr,
                memsz: len,
            }
        })?;
        addr += n;
        len -= n;
    }
    Ok(())
}
