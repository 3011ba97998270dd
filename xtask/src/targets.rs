//! `cargo xtask targets` (placeholder: being written).

/// Arguments (none yet).
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask targets is not implemented yet")
}
