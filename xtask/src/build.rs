//! Shared build plumbing: the project root, a shell rooted there, and `-Zbuild-std` builds of the
//! crates that run on custom targets (the conformance program and the kernel stub).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Where the cross builds, QEMU logs and probes go: `$XTASK_CROSS_DIR` if set, else `cross/`
/// under `$CARGO_TARGET_DIR` (or the root's `target/`).
pub fn cross_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XTASK_CROSS_DIR") {
        return PathBuf::from(d);
    }
    target_dir().join("cross")
}

/// `$CARGO_TARGET_DIR`, or `target/` under the root.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || project_root().join("target"),
        |d| {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                project_root().join(d)
            }
        },
    )
}

/// A shell whose working directory is the project root.
pub fn sh() -> Result<Shell> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    Ok(sh)
}

/// Builds the binary `bin` of the crate at `crate_dir` (relative to the root) for the custom
/// target `targets/<target>.json`, with `-Zbuild-std=core,alloc,compiler_builtins` and the
/// compiler-builtins `mem` feature (no libc to provide memcpy). Returns the path of the ELF.
///
/// Inherited `CARGO*`/`RUSTFLAGS` variables from the outer `cargo xtask` are removed so the inner
/// cargo sees only what is passed here.
pub fn build_std(
    sh: &Shell,
    crate_dir: &str,
    bin: &str,
    target: &str,
    features: &[&str],
) -> Result<PathBuf> {
    build_std_with(sh, crate_dir, bin, target, features, &[], None)
}

/// [`build_std`] with extra rustflags (e.g. a link address for the kernel stub's copy of a user
/// program) and an optional sub-directory of the cross build directory, so differently-flagged
/// builds of the same crate do not overwrite each other.
pub fn build_std_with(
    sh: &Shell,
    crate_dir: &str,
    bin: &str,
    target: &str,
    features: &[&str],
    rustflags: &[&str],
    flavour: Option<&str>,
) -> Result<PathBuf> {
    let root = project_root();
    let target_json = root.join("targets").join(format!("{target}.json"));
    anyhow::ensure!(
        target_json.exists(),
        "missing target spec {}",
        target_json.display()
    );
    let manifest = root.join(crate_dir).join("Cargo.toml");
    // XTASK_CROSS_DIR lets parallel work use separate build directories (no cargo lock waits).
    let target_dir = cross_dir().join(flavour.unwrap_or("default"));
    let features = features.join(",");
    let feature_args: Vec<String> = if features.is_empty() {
        vec![]
    } else {
        vec!["--features".into(), features]
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = cmd!(
        sh,
        "{cargo} build --release --manifest-path {manifest} --bin {bin} --target {target_json}
            -Zbuild-std=core,alloc,compiler_builtins -Zbuild-std-features=compiler-builtins-mem
            -Zjson-target-spec --target-dir {target_dir} {feature_args...}"
    );
    for (k, _) in std::env::vars() {
        if (k.starts_with("CARGO") && k != "CARGO_HOME")
            || k.starts_with("RUSTFLAGS")
            || k == "RUSTC"
            || k == "RUSTC_WRAPPER"
        {
            c = c.env_remove(k);
        }
    }
    if !rustflags.is_empty() {
        // CARGO_ENCODED_RUSTFLAGS separates flags with 0x1f, so flags may contain spaces.
        c = c.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"));
    }
    c.run()
        .with_context(|| format!("building {crate_dir} for {target}"))?;
    Ok(target_dir.join(target).join("release").join(bin))
}
