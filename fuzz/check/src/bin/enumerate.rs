//! Random enumeration over the two validator targets: `N` random inputs each (default
//! 1,000,000), decoded exactly as the fuzz targets decode them (random policies, memory maps,
//! words and structs), counting every broken invariant by kind: a fix that, applied, trips an
//! earlier rule, trips a later one, the same one, or could not be re-validated.
//!
//! `cargo +stable run --release --manifest-path fuzz/Cargo.toml -p clone-core-fuzz-check
//! --bin enumerate -- [N] [SEED]`; with `ENUMERATE_SAVE=DIR` the first input of each distinct
//! case is written to `DIR` (for `fuzz/regressions/`).

use std::collections::BTreeMap;

use clone_core::error::Rule;
use clone_core_fuzz_check::{validate_clone, validate_clone3};

fn position(name: &str) -> Option<usize> {
    Rule::ALL.iter().position(|r| r.name() == name)
}

/// `fix of RULE ... applied gives RULE2 ...` → the kind and the pair.
fn classify(v: &str) -> (String, String) {
    let words: Vec<&str> = v.split_whitespace().collect();
    if let (Some(i), Some(j)) = (
        words.iter().position(|w| *w == "of"),
        words.iter().position(|w| *w == "gives"),
    ) {
        let (a, b) = (words.get(i + 1).copied(), words.get(j + 1).copied());
        if let (Some(a), Some(b)) = (a, b) {
            let kind = match (position(a), position(b)) {
                (Some(x), Some(y)) if y < x => "trips an earlier rule",
                (Some(x), Some(y)) if y == x => "does not fix (same rule)",
                _ => "trips a later rule",
            };
            return (kind.into(), format!("{a} -> {b}"));
        }
    }
    let kind = if v.contains("not re-validated") {
        "not re-validated"
    } else {
        "other invariant"
    };
    (
        kind.into(),
        v.lines().next().unwrap_or("").chars().take(160).collect(),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut seed: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut cases: BTreeMap<(String, String), (u64, String)> = BTreeMap::new();
    let mut buf = vec![0u8; 256];
    let start = std::time::Instant::now();
    for (name, target) in [
        ("validate_clone", validate_clone as fn(&[u8]) -> _),
        ("validate_clone3", validate_clone3),
    ] {
        for _ in 0..n {
            for chunk in buf.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            if let Err(v) = target(&buf) {
                let (kind, case) = classify(&v);
                *kinds.entry(kind.clone()).or_default() += 1;
                let key = (kind, format!("{name}: {case}"));
                if !cases.contains_key(&key)
                    && let Ok(dir) = std::env::var("ENUMERATE_SAVE")
                {
                    let file = format!("{dir}/{name}-{}", cases.len());
                    std::fs::write(file, &buf).expect("writable ENUMERATE_SAVE directory");
                }
                let e = cases.entry(key).or_insert((0, v));
                e.0 += 1;
            }
        }
    }
    println!(
        "{} random inputs ({n} per target) in {:.1?}; {} broke an invariant",
        2 * n,
        start.elapsed(),
        kinds.values().sum::<u64>()
    );
    for (k, c) in &kinds {
        println!("  {k}: {c}");
    }
    println!("{} distinct cases:", cases.len());
    for ((kind, case), (count, example)) in &cases {
        println!(
            "  [{kind}] {case} x{count}\n    e.g. {}",
            example.lines().next().unwrap_or("")
        );
    }
}
