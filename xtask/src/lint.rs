//! `cargo xtask lint`: rustfmt on the three workspaces (the host one, `kernel-stub/` and
//! `clone-core/conformance/`), clippy with warnings denied, rustdoc with warnings (broken
//! intra-doc links included) denied for the host and a bare-metal target, and actionlint on
//! `ci/workflow.yml` with `ci/actionlint.yaml`. Every check runs; the command fails if any did.

use std::path::PathBuf;

use anyhow::{Result, bail};
use xshell::cmd;

use crate::build::sh;
use crate::runner::on_path;

/// Options for `cargo xtask lint` (none yet).
#[derive(clap::Args)]
pub struct Args {}

/// Where `ci/install.sh` puts actionlint when it is not on `PATH`.
fn actionlint() -> Option<PathBuf> {
    if on_path("actionlint") {
        return Some(PathBuf::from("actionlint"));
    }
    let tools = std::env::var_os("CLONE_CORE_TOOLS").map_or_else(
        || PathBuf::from("/var/cache/clone-core/tools"),
        PathBuf::from,
    );
    Some(tools.join("venv/bin/actionlint")).filter(|p| p.is_file())
}

/// `cargo xtask lint`.
pub fn run(_args: Args) -> Result<()> {
    let sh = sh()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut failed = Vec::new();
    let mut check = |name: &str, r: Result<(), xshell::Error>| {
        if let Err(e) = r {
            eprintln!("lint: {name} failed: {e}");
            failed.push(name.to_string());
        }
    };
    check("rustfmt", cmd!(sh, "{cargo} fmt --all --check").run());
    for ws in ["kernel-stub", "clone-core/conformance"] {
        let manifest = format!("{ws}/Cargo.toml");
        check(
            &format!("rustfmt ({ws})"),
            cmd!(sh, "{cargo} fmt --all --check --manifest-path {manifest}").run(),
        );
    }
    check(
        "clippy",
        cmd!(
            sh,
            "{cargo} clippy --workspace --all-targets -- -D warnings"
        )
        .run(),
    );
    check(
        "rustdoc",
        cmd!(sh, "{cargo} doc -p clone-core --no-deps")
            .env("RUSTDOCFLAGS", "-D warnings")
            .run(),
    );
    // The kernel face alone, as a bare-metal kernel sees it: links into the user face must
    // not break there.
    // Stable has the bare-metal targets (ci/install.sh adds them); the variables the outer
    // cargo exports would pin the inner one to the nightly.
    check(
        "rustdoc (x86_64-unknown-none)",
        cmd!(
            sh,
            "cargo +stable doc -p clone-core --no-deps --target x86_64-unknown-none"
        )
        .env("RUSTDOCFLAGS", "-D warnings")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .run(),
    );
    match actionlint() {
        Some(al) => check(
            "actionlint",
            cmd!(sh, "{al} -config-file ci/actionlint.yaml ci/workflow.yml").run(),
        ),
        None => {
            eprintln!("lint: actionlint not found; run ci/install.sh");
            failed.push("actionlint (not installed)".into());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("lint failed: {}", failed.join(", "))
    }
}
