//! Property tests for `clone_core::syscall`: encode/decode are inverse on every arch and
//! every call form, and no input makes decode or the child-SP arithmetic panic.

use clone_core::abi::{Arch, ArgOrder};
use clone_core::syscall::{
    CloneCall, DecodeError, KernelStackRequest, LegacyCloneArgs, RawSyscall, decode, decode_for,
    encode, encode_for, kernel_child_sp,
};
use proptest::prelude::*;

fn any_arch() -> impl Strategy<Value = Arch> {
    (0..Arch::ALL.len()).prop_map(|i| Arch::ALL[i])
}

/// Values that reach the edges: small, near 2^32, near 2^64, and anything.
fn edgy() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0..16u64,
        0..0x1_0000u64,
        0xffff_0000..=0x1_0001_0000u64,
        (u64::MAX - 0x1_0000)..=u64::MAX,
    ]
}

/// Legacy args that the arch's registers can carry.
fn fit(arch: Arch, a: [u64; 6], via_clone2: bool) -> LegacyCloneArgs {
    let m = arch.register_mask();
    let has_size = via_clone2 || arch.clone_arg_order() == ArgOrder::Backwards3;
    LegacyCloneArgs {
        word: a[0] & m,
        stack: a[1] & m,
        stack_size: if has_size { a[2] & m } else { 0 },
        parent_tid: a[3] & m,
        child_tid: a[4] & m,
        tls: a[5] & m,
        via_clone2,
    }
}

/// fork/vfork are exactly where the kernel tables have them: never on the asm-generic-only
/// arches (arm64, riscv64, loongarch64) nor ia64; mips has fork without vfork.
#[test]
fn fork_vfork_absent_on_asm_generic_arches_and_ia64() {
    for arch in Arch::ALL {
        let n = arch.syscalls();
        let generic = matches!(
            arch,
            Arch::Aarch64 | Arch::Riscv64 | Arch::Loongarch64 | Arch::Ia64
        );
        assert_eq!(n.fork.is_none(), generic, "{arch} fork");
        assert_eq!(
            n.vfork.is_none(),
            generic || arch == Arch::Mips64,
            "{arch} vfork"
        );
        for call in [CloneCall::Fork, CloneCall::Vfork] {
            if let Ok(raw) = encode(arch, &call) {
                assert_eq!(decode(arch, &raw), Ok(call), "{arch} {call:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn legacy_encode_then_decode_is_identity(arch in any_arch(), a in any::<[u64; 6]>()) {
        let call = CloneCall::Clone(fit(arch, a, false));
        let raw = encode(arch, &call).expect("fitting legacy args always encode");
        prop_assert_eq!(raw.nr, arch.syscalls().clone);
        prop_assert_eq!(decode(arch, &raw), Ok(call));
    }

    #[test]
    fn versioned_encode_then_decode_is_identity(arch in any_arch(), a in any::<[u64; 6]>(), major in 3u32..8, minor in 0u32..20) {
        let linux = (major, minor);
        let m = arch.register_mask();
        let has_size = arch.clone_arg_order_for(linux) == ArgOrder::Backwards3;
        let call = CloneCall::Clone(LegacyCloneArgs {
            word: a[0] & m,
            stack: a[1] & m,
            stack_size: if has_size { a[2] & m } else { 0 },
            parent_tid: a[3] & m,
            child_tid: a[4] & m,
            tls: a[5] & m,
            via_clone2: false,
        });
        let raw = encode_for(arch, linux, &call).expect("fitting args encode");
        prop_assert_eq!(decode_for(arch, linux, &raw), Ok(call));
    }

    #[test]
    fn clone2_encode_then_decode_is_identity(a in any::<[u64; 6]>()) {
        let call = CloneCall::Clone(fit(Arch::Ia64, a, true));
        let raw = encode(Arch::Ia64, &call).expect("clone2 encodes on ia64");
        prop_assert_eq!(raw.nr, 1213);
        prop_assert_eq!(decode(Arch::Ia64, &raw), Ok(call));
    }

    #[test]
    fn clone3_encode_then_decode_is_identity(arch in any_arch(), args in any::<u64>(), size in any::<u64>()) {
        let m = arch.register_mask();
        let call = CloneCall::Clone3 { args: args & m, size: size & m };
        match arch.syscalls().clone3 {
            Some(nr) => {
                let raw = encode(arch, &call).expect("clone3 encodes where wired");
                prop_assert_eq!(raw.nr, nr);
                prop_assert_eq!(decode(arch, &raw), Ok(call));
            }
            None => prop_assert!(encode(arch, &call).is_err()),
        }
    }

    #[test]
    fn fork_vfork_decode_then_encode_on_every_arch(arch in any_arch(), a in any::<[u64; 6]>(), hi in any::<u64>()) {
        // Arguments are ignored, and on 32-bit arches so are the number's high bits.
        let m = arch.register_mask();
        let n = arch.syscalls();
        for (nr, call) in [(n.fork, CloneCall::Fork), (n.vfork, CloneCall::Vfork)] {
            match nr {
                Some(nr) => {
                    let raw = RawSyscall { nr: nr | (hi & !m), args: a };
                    prop_assert_eq!(decode(arch, &raw), Ok(call));
                    let back = encode(arch, &call).expect("fork/vfork encode where present");
                    prop_assert_eq!(back, RawSyscall { nr, args: [0; 6] });
                    prop_assert_eq!(decode(arch, &back), Ok(call));
                }
                None => prop_assert!(encode(arch, &call).is_err()),
            }
        }
    }

    #[test]
    fn decode_then_encode_keeps_every_used_register(arch in any_arch(), a in any::<[u64; 6]>(), hi in any::<u64>()) {
        let m = arch.register_mask();
        // High garbage in the number must not matter on 32-bit arches.
        let nr = arch.syscalls().clone | (hi & !m);
        let raw = RawSyscall { nr, args: a };
        let call = decode(arch, &raw).expect("clone number decodes");
        let back = encode(arch, &call).expect("decoded call re-encodes");
        let used = if arch.clone_arg_order() == ArgOrder::Backwards3 { 6 } else { 5 };
        for (i, (&got, &sent)) in back.args.iter().zip(a.iter()).enumerate() {
            let want = if i < used { sent & m } else { 0 };
            prop_assert_eq!(got, want, "arg {}", i);
        }
        prop_assert_eq!(back.nr, arch.syscalls().clone);
    }

    #[test]
    fn decode_never_panics(arch in any_arch(), nr in edgy(), a in any::<[u64; 6]>()) {
        let raw = RawSyscall { nr, args: a };
        match decode(arch, &raw) {
            Ok(CloneCall::Clone(l)) => prop_assert!(l.via_clone2 == (arch == Arch::Ia64 && nr & arch.register_mask() == 1213)),
            Ok(CloneCall::Clone3 { .. }) => prop_assert_eq!(Some(nr & arch.register_mask()), arch.syscalls().clone3),
            Ok(CloneCall::Fork) => prop_assert_eq!(Some(nr & arch.register_mask()), arch.syscalls().fork),
            Ok(CloneCall::Vfork) => prop_assert_eq!(Some(nr & arch.register_mask()), arch.syscalls().vfork),
            Err(DecodeError::NotClone(n)) => prop_assert_eq!(n, nr & arch.register_mask()),
            Err(e) => prop_assert!(false, "a decode error this test does not know: {e:?}"),
        }
    }

    #[test]
    fn encode_never_panics(arch in any_arch(), a in any::<[u64; 6]>(), via_clone2 in any::<bool>()) {
        let call = CloneCall::Clone(LegacyCloneArgs {
            word: a[0], stack: a[1], stack_size: a[2], parent_tid: a[3], child_tid: a[4], tls: a[5], via_clone2,
        });
        if let Ok(raw) = encode(arch, &call) {
            // Whatever encodes, decodes back to the same call.
            prop_assert_eq!(decode(arch, &raw), Ok(call));
        }
    }

    #[test]
    fn child_sp_never_panics_and_stays_in_range(arch in any_arch(), a in edgy(), b in edgy()) {
        for req in [
            KernelStackRequest::Clone { newsp: a },
            KernelStackRequest::Clone2 { base: a, size: b },
            KernelStackRequest::Clone3 { stack: a, stack_size: b },
        ] {
            if let Ok(Some(sp)) = kernel_child_sp(arch, &req) {
                prop_assert!(sp.sp <= arch.register_mask() && sp.sp != 0 || arch == Arch::Ia64);
                if let KernelStackRequest::Clone3 { stack, stack_size } = req {
                    let m = arch.register_mask();
                    let (s, n) = (stack & m, stack_size & m);
                    // The SP is inside (or at the top of) the described memory; parisc's
                    // ALIGN(sp, 4) may move it up to 3 bytes past a tiny region.
                    let slack = if arch == Arch::Hppa { 3 } else { 0 };
                    if arch == Arch::S390x {
                        // access_ok() is constant true on s390 (separate user address
                        // space), so `stack + stack_size` may wrap, as in the kernel.
                        prop_assert_eq!(sp.sp, s.wrapping_add(n));
                    } else {
                        prop_assert!(sp.sp >= s && sp.sp - s <= n + slack);
                    }
                }
            }
        }
    }
}
