//! `cargo xtask linux` (placeholder: being written).

/// Arguments (none yet).
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask linux is not implemented yet")
}
