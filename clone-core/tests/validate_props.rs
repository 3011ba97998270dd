//! Property tests: the validator never panics, whatever the word, bytes, size or policy, and
//! its answers keep the invariants Linux guarantees (legacy ignores bits 32–63; a refusal's
//! errno is its rule's; a refusal's fix, applied, passes the whole validation: checked by
//! `support/fixcheck.rs`, shared with the fuzz targets); the same for `unshare`, `setns`,
//! `fork` and `vfork` under any caller situation.
#![allow(missing_docs)]

#[path = "support/fixcheck.rs"]
#[allow(dead_code)]
mod fixcheck;
use fixcheck::{MemMap, Region, check_clone3, check_legacy};

use clone_core::error::{Change, Reach, Rule};
use clone_core::flags::CloneFlags;
use clone_core::policy::LinuxVersion;
use clone_core::validate::{
    CallerTask, CloneArgs, LegacyCloneArgs, SETNS_FLAGS, SetnsFd, SliceMemory, UNSHARE_FLAGS,
    validate_clone_word, validate_clone3, validate_clone3_bytes, validate_fork, validate_setns,
    validate_unshare, validate_vfork,
};
use clone_core::{Arch, Errno, Policy};
use proptest::prelude::*;

/// Every arch (the crate's own list, so a new arch is covered without editing this file).
const ARCHES: &[Arch] = &Arch::ALL;

fn any_policy() -> impl Strategy<Value = Policy> {
    (
        (0usize..ARCHES.len(), 4u16..8, 0u16..20, any::<u64>()),
        (
            any::<u32>(),
            any::<u32>(),
            0u64..3,
            any::<u64>(),
            any::<u64>(),
        ),
    )
        .prop_map(|((a, maj, min, bits), (level, pid_max, page, ns, tsm))| {
            let mut p = Policy::linux(ARCHES[a], LinuxVersion::new(maj, min));
            p.cap_sys_admin = bits & 1 != 0;
            p.cap_checkpoint_restore = bits & 2 != 0;
            p.user_ns_allowed = bits & 4 != 0;
            p.pid_ns_init = bits & 8 != 0;
            p.pid_ns_for_children_differs = bits & 16 != 0;
            p.autoreap_parent = bits & 32 != 0;
            if bits & 64 != 0 {
                p.into_cgroup_error = Some(Errno::EBADF);
            }
            p.pid_ns_level = level % 40;
            p.pid_max = pid_max;
            p.page_size = [4096, 16384, 65536][page as usize];
            p.namespaces_configured = CloneFlags::from_bits_retain(ns);
            if bits & 128 != 0 {
                p.task_size_max = tsm;
            }
            p
        })
}

/// Flag words that reach past `Clone3UnknownFlags` often: known bits, sometimes a signal byte.
fn biased_flags() -> impl Strategy<Value = u64> {
    (any::<u64>(), any::<u64>(), 0u8..4).prop_map(|(a, b, k)| {
        let known = CloneFlags::all().bits();
        match k {
            0 => a,
            1 => a & known,
            2 => a & b & known,
            _ => (a & b & known & !0xff) | (a >> 56),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn legacy_fixes_pass(word in biased_flags(), p in any_policy(), ptid_ok in any::<bool>(),
                         tls in any::<u64>()) {
        let args = LegacyCloneArgs { word, parent_tid: 0x1000, tls, ..LegacyCloneArgs::default() };
        let mut mem = MemMap::with(0x1000, vec![0; 8]);
        mem.regions[0].writable = ptid_ok;
        mem.writable_elsewhere = false;
        if let Err(v) = check_legacy(&args, &mem, &p) {
            prop_assert!(false, "{}", v);
        }
    }

    #[test]
    fn clone3_fixes_pass(flags in biased_flags(), es in prop_oneof![0u64..70, any::<u64>()],
                         stack in prop_oneof![Just(0u64), 0x10_0000u64..0x20_0000, any::<u64>()],
                         ss in prop_oneof![Just(0u64), 1u64..0x10_0000, any::<u64>()],
                         tls in any::<u64>(), cgroup in prop_oneof![0u64..10, any::<u64>()],
                         sts in 0u64..36, tids in proptest::collection::vec(-2i32..400, 0..34),
                         give_tids in any::<bool>(), same_slot in any::<bool>(),
                         size in prop_oneof![Just(88u64), Just(64), Just(80), 0u64..200, Just(4097)],
                         tail in any::<u8>(), pidfd_ok in any::<bool>(), p in any_policy()) {
        const BASE: u64 = 0x40_0000;
        const TIDS: u64 = 0x50_0000;
        let a = CloneArgs {
            flags, exit_signal: es, pidfd: if same_slot { 0x1000 } else { 0x1008 },
            parent_tid: 0x1000, child_tid: 0x1010, stack, stack_size: ss, tls,
            set_tid: if give_tids || sts > 0 { TIDS } else { 0 }, set_tid_size: sts, cgroup,
        };
        let mut bytes = a.to_bytes(p.arch).to_vec();
        bytes.resize(size as usize, 0);
        if let Some(last) = bytes.get_mut(100..).and_then(|t| t.last_mut()) {
            *last = tail;
        }
        let mut mem = MemMap::with(BASE, bytes);
        mem.writable_elsewhere = false;
        mem.regions.push(Region { base: 0x1000, bytes: vec![0; 24], writable: pidfd_ok });
        if give_tids {
            let b = tids.iter().flat_map(|t| if p.arch.big_endian() { t.to_be_bytes() } else { t.to_le_bytes() });
            mem.regions.push(Region { base: TIDS, bytes: b.collect(), writable: false });
        }
        if let Err(v) = check_clone3(BASE, size, &mem, &p) {
            prop_assert!(false, "{}", v);
        }
    }

    #[test]
    fn legacy_never_panics_and_ignores_high_bits(word in any::<u64>(), p in any_policy()) {
        let full = validate_clone_word(word, &p);
        let low = validate_clone_word(word & 0xffff_ffff, &p);
        match (&full, &low) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "high bits changed the answer"),
        }
        if let Ok(k) = full {
            prop_assert_eq!(k.flags.bits(), word & 0xffff_ff00);
            prop_assert_eq!(u64::from(k.exit_signal), word & 0xff);
        }
    }

    #[test]
    fn errno_is_the_rules(word in any::<u64>(), p in any_policy()) {
        if let Err(e) = validate_clone_word(word, &p) {
            if e.rule != Rule::IntoCgroupRejected {
                prop_assert_eq!(e.errno, e.rule.errno());
            }
        }
    }

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..5000),
                             tids in proptest::collection::vec(any::<i32>(), 0..40),
                             give_tids in any::<bool>(),
                             p in any_policy()) {
        let r = validate_clone3_bytes(&bytes, give_tids.then_some(&tids[..]), &p);
        if p.has_clone3() {
            if bytes.len() as u64 > p.page_size {
                prop_assert_eq!(r.unwrap_err().errno, Errno::E2BIG);
            } else if bytes.len() < 64 {
                prop_assert_eq!(r.unwrap_err().errno, Errno::EINVAL);
            }
        } else {
            prop_assert_eq!(r.unwrap_err().errno, Errno::ENOSYS);
        }
    }

    #[test]
    fn any_args_any_size_any_address(flags in any::<u64>(), es in any::<u64>(),
                                     stack in any::<u64>(), ss in any::<u64>(),
                                     set_tid in any::<u64>(), sts in 0u64..40,
                                     cgroup in any::<u64>(), size in any::<u64>(),
                                     base in any::<u64>(), p in any_policy()) {
        let a = CloneArgs { flags, exit_signal: es, stack, stack_size: ss, set_tid,
                            set_tid_size: sts, cgroup, ..CloneArgs::default() };
        let bytes = a.to_bytes(p.arch);
        let mem = SliceMemory { base, bytes: &bytes };
        let _ = validate_clone3(base, size, &mem, &p);
        let _ = validate_clone3(base, size % 128, &mem, &p);
    }

    #[test]
    fn flag_fixes_pass_the_whole_validation(word in any::<u32>(), p in any_policy()) {
        let word = u64::from(word);
        let Err(e) = validate_clone_word(word, &p) else { return Ok(()) };
        let mut fixed = word;
        for c in e.fix.changes() {
            match c {
                Change::AddFlags(f) => fixed |= f.bits(),
                Change::RemoveFlags(f) => fixed &= !f.bits(),
                Change::SetExitSignal(s) => fixed = (fixed & !0xff) | s,
                _ => return Ok(()),
            }
        }
        prop_assert_eq!(e.fix.reach(), Reach::Arguments, "{}", e);
        let again = validate_clone_word(fixed, &p);
        prop_assert!(again.is_ok(), "fix {} for {} gives {:?}", e.fix, e, again.err());
    }
}

fn any_caller() -> impl Strategy<Value = CallerTask> {
    (any::<[bool; 4]>(), 0u32..40).prop_map(|(b, level)| CallerTask {
        other_threads: b[0],
        sighand_shared: b[1],
        mm_shared: b[2],
        fs_shared: b[3],
        user_ns_level: level,
    })
}

fn any_setns_fd() -> impl Strategy<Value = SetnsFd> {
    (0u8..5, 0usize..64, any::<bool>()).prop_map(|(k, bit, readable)| match k {
        0 => SetnsFd::Closed,
        1 => SetnsFd::Other,
        2 => SetnsFd::Pidfd {
            ptrace_readable: readable,
        },
        // Any single bit, namespace type or not: the validator must not panic on nonsense.
        _ => SetnsFd::OwnNamespace(CloneFlags::from_bits_retain(1 << bit)),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn unshare_never_panics_and_fixes_pass(word in any::<u64>(), sub in any::<u32>(),
                                           c in any_caller(), p in any_policy()) {
        for w in [word, u64::from(sub) & UNSHARE_FLAGS.bits()] {
            let Err(e) = validate_unshare(w, &c, &p) else { continue };
            prop_assert_eq!(e.errno, e.rule.errno());
            if e.fix.reach() != Reach::Arguments {
                continue;
            }
            let mut fixed = w;
            for ch in e.fix.changes() {
                match ch {
                    Change::AddFlags(f) => fixed |= f.bits(),
                    Change::RemoveFlags(f) => fixed &= !f.bits(),
                    other => prop_assert!(false, "unexpected change {:?}", other),
                }
            }
            let again = validate_unshare(fixed, &c, &p);
            prop_assert!(again.is_ok(), "fix {} for {} gives {:?}", e.fix, e, again.err());
        }
    }

    #[test]
    fn setns_never_panics_and_errno_is_the_rules(fd in any_setns_fd(), nstype in any::<u64>(),
                                                 c in any_caller(), p in any_policy()) {
        for t in [nstype, nstype & SETNS_FLAGS.bits(), 0] {
            if let Err(e) = validate_setns(fd, t, &c, &p) {
                prop_assert_eq!(e.errno, e.rule.errno());
            }
        }
    }

    #[test]
    fn fork_and_vfork_never_panic(p in any_policy()) {
        for r in [validate_fork(&p), validate_vfork(&p)] {
            match r {
                Ok(k) => prop_assert_eq!(k.exit_signal, p.sigchld()),
                Err(e) => prop_assert_eq!(e.errno, Errno::ENOSYS),
            }
        }
    }
}
