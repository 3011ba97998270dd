//! x86_64 clocks: `CLOCK_MONOTONIC` from the TSC, calibrated once against PIT channel 2 (as
//! Linux's `pit_calibrate_tsc` does), and the CMOS RTC for `CLOCK_REALTIME`.
//!
//! The TSC runs whether or not interrupts are on, so the monotonic time (and the tick count
//! derived from it) stays right while the kernel works with interrupts off. Ports: PIT
//! channel 2 data 0x42, mode 0x43, its gate and output in port 0x61 (bit 0 gate, bit 1
//! speaker, bit 5 OUT2); CMOS index 0x70 (bit 7 = NMI off), data 0x71 (MC146818 registers).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

/// TSC counts per second, and the TSC at calibration (monotonic time 0).
static TSC_HZ: AtomicU64 = AtomicU64::new(1);
static TSC_BASE: AtomicU64 = AtomicU64::new(0);

/// PIT input clock (Hz).
const PIT_HZ: u64 = 1_193_182;
/// Calibration window: 50 ms of PIT channel 2 counting down in mode 0.
const CALIBRATE_MS: u64 = 50;

fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` reads the time-stamp counter; CR4.TSD is clear, no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Measures the TSC frequency over [`CALIBRATE_MS`] of PIT channel 2. Called once by `init`.
pub fn calibrate() {
    let latch = (PIT_HZ * CALIBRATE_MS / 1000) as u16;
    // SAFETY: the 8254 PIT channel 2 and its gate in port 0x61 (speaker off) at their fixed
    // PC ports; channel 2 drives only the speaker, which stays off. Mode 0 raises OUT2 when
    // the count reaches 0; the loop is bounded by that on every PC QEMU emulates.
    let (start, end) = unsafe {
        let mut gate: Port<u8> = Port::new(0x61);
        let g = gate.read();
        gate.write((g & !0x02) | 0x01);
        Port::<u8>::new(0x43).write(0xb0); // channel 2, lo/hi byte, mode 0, binary
        let mut ch2: Port<u8> = Port::new(0x42);
        ch2.write(latch as u8);
        ch2.write((latch >> 8) as u8);
        let start = rdtsc();
        while gate.read() & 0x20 == 0 {}
        (start, rdtsc())
    };
    let hz = (end - start).saturating_mul(1000) / CALIBRATE_MS;
    TSC_HZ.store(hz.max(1), Ordering::Relaxed);
    TSC_BASE.store(start, Ordering::Relaxed);
}

/// Nanoseconds since [`calibrate`].
pub fn monotonic_ns() -> u64 {
    let ticks = rdtsc().wrapping_sub(TSC_BASE.load(Ordering::Relaxed));
    (u128::from(ticks) * 1_000_000_000 / u128::from(TSC_HZ.load(Ordering::Relaxed))) as u64
}

fn cmos(reg: u8) -> u8 {
    // SAFETY: the MC146818 index/data ports; selecting a register (NMI kept off) and reading
    // it has no other effect.
    unsafe {
        Port::<u8>::new(0x70).write(0x80 | reg);
        Port::<u8>::new(0x71).read()
    }
}

/// The CMOS clock's registers: seconds, minutes, hours, day, month, year, century.
fn cmos_fields() -> [u8; 7] {
    // Register A bit 7: an update is in progress, the time registers are about to change.
    while cmos(0x0a) & 0x80 != 0 {}
    [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32].map(cmos)
}

/// The CMOS RTC (UTC, as QEMU keeps it by default), in ns since the epoch. Read until two
/// reads agree, so a read is never torn by an update.
pub fn rtc_unix_ns() -> u64 {
    let mut fields = cmos_fields();
    loop {
        let again = cmos_fields();
        if again == fields {
            break;
        }
        fields = again;
    }
    // Register B: bit 2 = binary (else BCD), bit 1 = 24-hour (else 12-hour, bit 7 of the
    // hour = PM).
    let b = cmos(0x0b);
    let bin = |v: u8| -> u64 {
        if b & 0x04 != 0 {
            u64::from(v)
        } else {
            u64::from((v & 0x0f) + (v >> 4) * 10)
        }
    };
    let [sec, min, hour, day, month, year, century] = fields;
    let mut h = bin(hour & 0x7f);
    if b & 0x02 == 0 {
        h %= 12;
        if hour & 0x80 != 0 {
            h += 12;
        }
    }
    let century = match bin(century) {
        c @ 19..=99 => c,
        _ => 20,
    };
    let secs = crate::clock::unix_seconds(
        century * 100 + bin(year),
        bin(month),
        bin(day),
        h,
        bin(min),
        bin(sec),
    );
    secs * 1_000_000_000
}
