//! Per-arch ABI tables for every Linux arch clone-core knows (placeholder; filled in by the arch-table work).

/// A Linux architecture (userland ABI).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64 (LP64).
    X86_64,
    /// 32-bit x86.
    I386,
    /// AArch64.
    Aarch64,
    /// 32-bit ARM EABI.
    Arm,
    /// RISC-V 64.
    Riscv64,
    /// s390x (z/Architecture).
    S390x,
    /// 64-bit PowerPC, big-endian (ELFv1).
    Powerpc64,
    /// 64-bit PowerPC, little-endian (ELFv2).
    Powerpc64le,
    /// MIPS64 n64.
    Mips64,
    /// LoongArch64.
    Loongarch64,
    /// SPARC64.
    Sparc64,
    /// PA-RISC (hppa, 32-bit userland).
    Hppa,
    /// Itanium (removed from Linux in 6.7).
    Ia64,
    /// MicroBlaze.
    Microblaze,
}
