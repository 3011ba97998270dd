//! i386 `CLONE_SETTLS`: the `struct user_desc` that `copy_thread` hands to
//! `do_set_thread_area(p, -1, tls, 0)` (`arch/x86/kernel/process.c` `set_new_tls`,
//! `arch/x86/kernel/tls.c`), checked in the kernel's order:
//!
//! 1. `copy_from_user` of the 16 bytes at `tls`: **EFAULT**;
//! 2. `tls_desc_okay`: an empty descriptor (`LDT_empty` or the all-zero `LDT_zero`) passes;
//!    otherwise it must be a 32-bit (`seg_32bit`), data (`contents <= 1`), present
//!    (`!seg_not_present`) segment: **EINVAL**;
//! 3. `idx = entry_number` (clone passes `can_allocate = 0`, so -1 is not replaced by a free
//!    slot) must lie in `GDT_ENTRY_TLS_MIN..=GDT_ENTRY_TLS_MAX`: **EINVAL**.
//!
//! `GDT_ENTRY_TLS_MIN` is 12 under an x86_64 kernel (the compat entry) and 6 on a native
//! i386 kernel; three slots each. The validator takes the compat value when the policy's
//! `TASK_SIZE_MAX` is above 4 GiB, which is how a compat caller is described (see
//! [`Policy::task_size_max`]). Field layout: `entry_number`, `base_addr`, `limit`, then the
//! bitfields `seg_32bit:1 contents:2 read_exec_only:1 limit_in_pages:1 seg_not_present:1
//! useable:1` (`lm:1` follows, which `LDT_empty` ignores), little-endian.

use super::UserMemory;
use crate::error::Rule;
use crate::policy::Policy;

/// `sizeof(struct user_desc)`.
pub const USER_DESC_SIZE: u64 = 16;

/// The TLS slots `do_set_thread_area` accepts: `GDT_ENTRY_TLS_MIN..=GDT_ENTRY_TLS_MAX`.
#[must_use]
pub const fn tls_entries(policy: &Policy) -> (u32, u32) {
    if policy.task_size_max > u32::MAX as u64 {
        (12, 14)
    } else {
        (6, 8)
    }
}

/// Memory for callers that hold no user memory ([`super::validate_clone`]): an empty
/// (`LDT_zero`) `struct user_desc` for slot `entry` at `tls`, nothing else readable; writes
/// succeed.
pub(super) struct AssumedValid {
    pub(super) tls: u64,
    pub(super) entry: u32,
}

impl UserMemory for AssumedValid {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), super::Fault> {
        if addr != self.tls || out.len() as u64 != USER_DESC_SIZE {
            return Err(super::Fault);
        }
        out.fill(0);
        out[..4].copy_from_slice(&self.entry.to_le_bytes());
        Ok(())
    }

    fn access_ok(&self, _addr: u64, _len: u64, _policy: &Policy) -> bool {
        true
    }
}

/// Checks the `struct user_desc` at `tls`; the rule that fails, if any.
pub(super) fn check(tls: u64, mem: &dyn UserMemory, policy: &Policy) -> Result<(), Rule> {
    let mut b = [0u8; USER_DESC_SIZE as usize];
    if !mem.access_ok(tls, USER_DESC_SIZE, policy) || mem.read(tls, &mut b).is_err() {
        return Err(Rule::UserDescFault);
    }
    let word = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    let (entry, base, limit, bits) = (word(0), word(1), word(2), word(3));
    let bit = |n: u32| (bits >> n) & 1;
    let seg_32bit = bit(0);
    let contents = (bits >> 1) & 3;
    let read_exec_only = bit(3);
    let limit_in_pages = bit(4);
    let seg_not_present = bit(5);
    let useable = bit(6);
    let blank = base == 0 && limit == 0 && contents == 0 && seg_32bit == 0 && limit_in_pages == 0;
    let ldt_empty = blank && read_exec_only == 1 && seg_not_present == 1 && useable == 0;
    let ldt_zero = blank && read_exec_only == 0 && seg_not_present == 0 && useable == 0;
    if !(ldt_empty || ldt_zero) && (seg_32bit == 0 || contents > 1 || seg_not_present == 1) {
        return Err(Rule::UserDescInvalid);
    }
    let (min, max) = tls_entries(policy);
    if entry < min || entry > max {
        return Err(Rule::UserDescEntryOutOfRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;
    use crate::policy::LinuxVersion;
    use crate::validate::SliceMemory;

    const COMPAT: Policy =
        Policy::linux(Arch::I386, LinuxVersion::V6_18).with_task_size_max(0x7fff_ffff_f000);
    const NATIVE: Policy = Policy::linux(Arch::I386, LinuxVersion::V6_18);

    fn run(desc: [u32; 4], p: &Policy) -> Result<(), Rule> {
        let bytes: [u8; 16] = core::array::from_fn(|i| desc[i / 4].to_le_bytes()[i % 4]);
        check(
            0x1000,
            &SliceMemory {
                base: 0x1000,
                bytes: &bytes,
            },
            p,
        )
    }

    #[test]
    fn kernel_answers() {
        const SEG32: u32 = 1;
        const CODE: u32 = 2 << 1;
        const RO: u32 = 1 << 3;
        const PAGES: u32 = 1 << 4;
        const ABSENT: u32 = 1 << 5;
        const USEABLE: u32 = 1 << 6;
        const LM: u32 = 1 << 7;
        assert_eq!(run([12, 0, 0, 0], &COMPAT), Ok(()));
        assert_eq!(run([14, 0, 0, RO | ABSENT | LM], &COMPAT), Ok(()));
        assert_eq!(run([13, 0x1000, 0xfffff, SEG32 | PAGES], &COMPAT), Ok(()));
        assert_eq!(
            run([12, 0x1000, 0xfff, PAGES], &COMPAT),
            Err(Rule::UserDescInvalid)
        );
        assert_eq!(
            run([12, 0, 0xfff, SEG32 | CODE], &COMPAT),
            Err(Rule::UserDescInvalid)
        );
        assert_eq!(
            run([12, 0x10, 0xfff, SEG32 | ABSENT], &COMPAT),
            Err(Rule::UserDescInvalid)
        );
        assert_eq!(
            run([12, 0, 0, USEABLE], &COMPAT),
            Err(Rule::UserDescInvalid)
        );
        // The descriptor check comes before the slot check.
        assert_eq!(run([0, 0, 0, USEABLE], &COMPAT), Err(Rule::UserDescInvalid));
        for entry in [0, 11, 15, u32::MAX] {
            assert_eq!(
                run([entry, 0, 0, 0], &COMPAT),
                Err(Rule::UserDescEntryOutOfRange)
            );
        }
        // A native i386 kernel's slots are 6..=8.
        assert_eq!(run([6, 0, 0, 0], &NATIVE), Ok(()));
        assert_eq!(
            run([12, 0, 0, 0], &NATIVE),
            Err(Rule::UserDescEntryOutOfRange)
        );
        let none = SliceMemory {
            base: 0x1000,
            bytes: &[0; 15],
        };
        assert_eq!(check(0x1000, &none, &COMPAT), Err(Rule::UserDescFault));
    }
}
