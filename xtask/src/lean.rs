//! `cargo xtask lean`: the kernel face's exact costs, printed on every run and gated.
//!
//! * **No panic path**: `clone-core/probe`'s `size` binary (a `no_std` clone entry that decodes
//!   and validates as a kernel's hot path does, with `validate::check`: errno, rule and flags,
//!   no fix search; `panic = "abort"`, opt-level s, fat LTO, `x86_64-unknown-none`) must link
//!   no `core::panicking`, `panic_bounds_check`, slice-index or `unwrap_failed` symbol; nor
//!   may the same binary built with the fix search (`--features explain`, the `validate_*`
//!   functions).
//! * **Size**: both binaries' `.text` (validator + decoder + a few bytes of glue, and the same
//!   with the fix search).
//! * **Instructions**: the probe's `count` binary under callgrind, N = 1000 and N = 2000 calls;
//!   (Ir(2000) − Ir(1000)) / 1000 is one call.
//!
//! Targets that are not met yet are printed as such, and a ceiling just above today's figure
//! keeps them from growing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use object::{Object, ObjectSection, ObjectSymbol};

use crate::build::project_root;

/// Options (none yet: the probe's build is fixed by its own manifest).
#[derive(clap::Args)]
pub struct Args {}

/// Symbol name fragments of core's panic machinery (legacy and v0 manglings both keep them).
const PANIC_SYMBOLS: &[&str] = &[
    "panicking",
    "panic_bounds_check",
    "panic_fmt",
    "index_len_fail",
    "index_order_fail",
    "slice_index",
    "unwrap_failed",
    "rust_begin_unwind",
];

/// One instruction-count case of the `count` probe.
struct Case {
    name: &'static str,
    what: &'static str,
    /// The target, if it sets one.
    target: Option<u64>,
    /// Today's figure where the target is not met yet: fail if it grows.
    ceiling: Option<u64>,
}

const CASES: &[Case] = &[
    Case {
        name: "legacy-accept",
        what: "accept the pthread flag word (Validator)",
        target: Some(60),
        ceiling: None,
    },
    Case {
        name: "clone3-accept",
        what: "accept an 88-byte clone3 struct (Validator)",
        target: Some(150),
        ceiling: None,
    },
    Case {
        name: "legacy-refuse",
        what: "refuse CLONE_THREAD alone, with its fix (Validator::validate_clone)",
        target: None,
        ceiling: None,
    },
    Case {
        name: "legacy-refuse-check",
        what: "refuse CLONE_THREAD alone, no fix search (Validator::check_clone)",
        target: None,
        ceiling: None,
    },
    Case {
        name: "legacy-accept-policy",
        what: "accept the pthread flag word (validate_clone_in)",
        target: None,
        ceiling: None,
    },
    Case {
        name: "clone3-accept-policy",
        what: "accept an 88-byte clone3 struct (validate_clone3)",
        target: None,
        ceiling: None,
    },
];

/// Bytes of `.text` for the decoder and validator without the fix search.
const TEXT_TARGET: u64 = 4096;
/// Not to grow past today's figure (7,871 bytes; the validator with the fix search linked
/// took 28,143 before the hot path stopped running it).
const TEXT_CEILING: u64 = 7_900;
/// The same entry with the fix search (`validate_*`): not to grow past today's 18,783.
const EXPLAIN_TEXT_CEILING: u64 = 18_800;

/// `cargo +stable` with the outer cargo's variables removed, so the probe's own manifest and
/// profile decide the build.
fn cargo(root: &Path) -> Command {
    let mut c = Command::new("cargo");
    c.arg("+stable").current_dir(root);
    for (k, _) in std::env::vars() {
        if k == "RUSTC"
            || k == "RUSTDOC"
            || k == "RUSTFLAGS"
            || k == "RUSTUP_TOOLCHAIN"
            || (k.starts_with("CARGO") && k != "CARGO_HOME")
        {
            c.env_remove(k);
        }
    }
    c
}

/// Builds one probe binary; `explain` selects the size probe's fix-search variant (in its own
/// target directory, so the two builds do not replace each other).
fn build_probe(root: &Path, bin: &str, target: Option<&str>, explain: bool) -> Result<PathBuf> {
    let dir_name = if explain { "probe-explain" } else { "probe" };
    let target_dir = root.join("target").join(dir_name);
    let manifest = root.join("clone-core/probe/Cargo.toml");
    let mut c = cargo(root);
    c.args(["build", "--release", "--bin", bin, "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    if explain {
        c.args(["--features", "explain"]);
    }
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    let st = c
        .status()
        .with_context(|| format!("building the {bin} probe"))?;
    ensure!(st.success(), "building the {bin} probe failed");
    let dir = match target {
        Some(t) => target_dir.join(t).join("release"),
        None => target_dir.join("release"),
    };
    Ok(dir.join(bin))
}

/// `.text` size and the panic symbols left in the size probe.
fn inspect(elf: &Path) -> Result<(u64, Vec<String>)> {
    let data = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let file = object::File::parse(&*data).context("parsing the probe ELF")?;
    let text = file
        .section_by_name(".text")
        .context("the probe has no .text")?
        .size();
    let mut panics: Vec<String> = file
        .symbols()
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| PANIC_SYMBOLS.iter().any(|p| n.contains(p)))
        .collect();
    panics.sort();
    panics.dedup();
    Ok((text, panics))
}

/// Instructions callgrind counts for `count case n`.
fn callgrind(count: &Path, case: &str, n: u32) -> Result<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(count)
        .args([case, &n.to_string()])
        .output()
        .context("running valgrind (ci/install.sh installs it)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "count {case} {n} failed under callgrind:\n{stderr}"
    );
    stderr
        .lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no `Collected :` line from callgrind:\n{stderr}"))
}

/// Builds the probes, prints every figure, and fails if a gate does.
pub fn run(_args: Args) -> Result<()> {
    let root = project_root();
    let size = build_probe(&root, "size", Some("x86_64-unknown-none"), false)?;
    let explain = build_probe(&root, "size", Some("x86_64-unknown-none"), true)?;
    let count = build_probe(&root, "count", None, false)?;
    let mut failures = Vec::new();

    println!(
        "lean: no_std clone entry (decode + validate), x86_64-unknown-none, opt-level s, fat LTO, panic=abort"
    );
    let (text, panics) = inspect(&size)?;
    let (explain_text, explain_panics) = inspect(&explain)?;
    for (what, panics) in [
        ("validate::check", &panics),
        ("with the fix search", &explain_panics),
    ] {
        if panics.is_empty() {
            println!("  panic symbols linked ({what}): none");
        } else {
            println!("  panic symbols linked ({what}): {}", panics.join(", "));
            failures.push(format!("{} panic symbol(s) linked ({what})", panics.len()));
        }
    }
    let met = if text <= TEXT_TARGET {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "  .text, validate::check (no fix search): {text} bytes (target {TEXT_TARGET}: {met}; ceiling {TEXT_CEILING})"
    );
    if text > TEXT_CEILING {
        failures.push(format!(".text {text} > ceiling {TEXT_CEILING}"));
    }
    println!(
        "  .text, validate_* (with the fix search): {explain_text} bytes (ceiling {EXPLAIN_TEXT_CEILING})"
    );
    if explain_text > EXPLAIN_TEXT_CEILING {
        failures.push(format!(
            ".text with the fix search {explain_text} > ceiling {EXPLAIN_TEXT_CEILING}"
        ));
    }

    println!("lean: instructions per call (callgrind; (Ir of 2000 calls - Ir of 1000) / 1000)");
    for c in CASES {
        let per_call = (callgrind(&count, c.name, 2000)? - callgrind(&count, c.name, 1000)?) / 1000;
        let mut line = format!("  {:<22} {per_call:>5}  {}", c.name, c.what);
        if let Some(t) = c.target {
            let met = per_call <= t;
            line += &format!(" [target {t}: {}]", if met { "met" } else { "NOT met" });
            match c.ceiling {
                None if !met => failures.push(format!("{} {per_call} > {t}", c.name)),
                Some(ceiling) if per_call > ceiling => {
                    failures.push(format!("{} {per_call} > ceiling {ceiling}", c.name));
                }
                _ => {}
            }
        }
        println!("{line}");
    }
    if !failures.is_empty() {
        bail!("lean gates failed: {}", failures.join("; "));
    }
    Ok(())
}
