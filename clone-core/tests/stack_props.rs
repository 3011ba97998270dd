//! Property tests for `clone_core::stack::layout`: no region makes it panic, and every layout
//! it returns keeps the child's SP, the reserved frame and the syscall values inside the
//! region, aligned as the arch's ABI requires, and agrees with the kernel's arithmetic.

use clone_core::abi::Arch;
use clone_core::stack::{
    ChildStack, MIN_HEADROOM, SPARC64_STACK_BIAS, SPARC64_TRAP_FRAME_MAX, StackError, StackRegion,
    layout, min_stack_size,
};
use clone_core::syscall::{KernelStackRequest, kernel_child_sp};
use proptest::prelude::*;

fn any_arch() -> impl Strategy<Value = Arch> {
    (0..Arch::ALL.len()).prop_map(|i| Arch::ALL[i])
}

fn edgy() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0..0x1000u64,
        0..0x10_0000u64,
        0xfff0_0000..=0x1_0000_0000u64,
        (u64::MAX - 0x10_0000)..=u64::MAX,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn layout_is_inside_aligned_and_agrees_with_kernel(arch in any_arch(), base in edgy(), size in edgy()) {
        let region = StackRegion { base, size };
        let l = match layout(arch, region) {
            Ok(l) => l,
            Err(StackError::ZeroSize) => { prop_assert_eq!(size, 0); return Ok(()); }
            Err(StackError::NullBase) => { prop_assert!(size != 0 && base == 0); return Ok(()); }
            Err(StackError::Overflow) => {
                let end = base as u128 + size as u128;
                prop_assert!(end > 1u128 << arch.pointer_bits());
                return Ok(());
            }
            Err(StackError::TooSmall { size: usable, min }) => {
                prop_assert_eq!(min, min_stack_size(arch));
                prop_assert!(usable < min && usable <= size);
                return Ok(());
            }
            Err(e) => { prop_assert!(false, "a stack error this test does not know: {e:?}"); return Ok(()); }
        };
        prop_assert!(size != 0 && base != 0);
        let end = base.checked_add(size).expect("Ok layouts do not wrap");
        prop_assert!(end as u128 <= 1u128 << arch.pointer_bits());
        let align = arch.stack_alignment();
        let (sp, reserved) = (l.child_sp, l.reserved);
        match arch {
            Arch::Hppa => {
                // Grows up: frame marker area just below the SP, the rest above it.
                prop_assert_eq!(l.syscall_stack, ChildStack::Low(sp));
                prop_assert_eq!(sp % align, 0);
                prop_assert!(sp - reserved >= base);
                prop_assert!(end - sp >= MIN_HEADROOM);
                prop_assert_eq!(l.clone3_stack, sp);
                prop_assert_eq!(l.clone3_stack + l.clone3_stack_size, end);
            }
            Arch::Sparc64 => {
                let frame = sp.wrapping_add(SPARC64_STACK_BIAS);
                prop_assert_eq!(l.syscall_stack, ChildStack::Top(sp));
                prop_assert_eq!(frame % align, 0);
                prop_assert!(frame + reserved <= end);
                prop_assert!(frame - base >= MIN_HEADROOM + SPARC64_TRAP_FRAME_MAX);
                prop_assert_eq!(l.clone3_stack + l.clone3_stack_size, frame);
            }
            _ => {
                prop_assert_eq!(sp % align, 0);
                prop_assert!(sp >= base && sp + reserved <= end);
                prop_assert!(sp - base >= MIN_HEADROOM);
                match l.syscall_stack {
                    ChildStack::Top(v) => prop_assert_eq!(v, sp),
                    ChildStack::BaseSize { base: b, size: s } => {
                        prop_assert_eq!(arch, Arch::Ia64);
                        prop_assert!(b >= base && b % 16 == 0 && b + s <= end);
                        prop_assert_eq!(b + s - 16, sp);
                    }
                    ChildStack::Low(_) => prop_assert!(false, "Low on a grows-down arch"),
                }
                prop_assert!(l.clone3_stack >= base);
                prop_assert_eq!(l.clone3_stack + l.clone3_stack_size, sp + if arch == Arch::Ia64 { 16 } else { 0 });
            }
        }
        // Linux's own arithmetic starts the child exactly at child_sp.
        let legacy = match l.syscall_stack {
            ChildStack::Top(v) | ChildStack::Low(v) => KernelStackRequest::Clone { newsp: v },
            ChildStack::BaseSize { base, size } => KernelStackRequest::Clone2 { base, size },
        };
        let k = kernel_child_sp(arch, &legacy).expect("legacy form valid").expect("has a stack");
        prop_assert_eq!(k.sp, sp);
        if arch.syscalls().clone3.is_some() {
            let c3 = KernelStackRequest::Clone3 { stack: l.clone3_stack, stack_size: l.clone3_stack_size };
            let k = kernel_child_sp(arch, &c3).expect("clone3 form valid").expect("has a stack");
            prop_assert_eq!(k.sp, sp);
        }
    }
}
