#!/usr/bin/env bash
# Installs what clone-core's tests need on a fresh Debian 12 (bookworm) machine:
# the pinned nightly from rust-toolchain.toml (with rust-src for -Zbuild-std), QEMU system
# emulators and qemu-user-static from bookworm-backports (the same suite as the preinstalled
# qemu-utils, so the packages agree), and the PA-RISC cross compiler for the hppa stack probe.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
# `rustup toolchain install` is idempotent and also adds missing components to an existing
# toolchain; RUSTUP_AUTO_INSTALL=0 machines need it run explicitly.
RUST_BACKTRACE=0 rustup toolchain install "$toolchain" --profile minimal \
    --component rust-src,rustfmt,clippy,llvm-tools
# clone-core's promise: the pure logic builds on stable, for the host and bare-metal targets.
RUST_BACKTRACE=0 rustup toolchain install stable --profile minimal
RUST_BACKTRACE=0 rustup target add --toolchain stable \
    x86_64-unknown-none aarch64-unknown-none riscv64gc-unknown-none-elf

need_apt=()
for bin in qemu-system-x86_64 qemu-system-aarch64 qemu-system-riscv64 \
           qemu-aarch64-static qemu-riscv64-static qemu-s390x-static qemu-ppc64le-static \
           qemu-loongarch64-static qemu-arm-static qemu-hppa-static hppa-linux-gnu-gcc; do
    command -v "$bin" >/dev/null 2>&1 || need_apt+=("$bin")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "ci/install.sh: installing packages for: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat >/etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt-get update -qq
    apt-get install -y -qq -t bookworm-backports --no-install-recommends \
        qemu-system-x86 qemu-system-arm qemu-system-misc qemu-user-static >/dev/null
    apt-get install -y -qq --no-install-recommends gcc-hppa-linux-gnu libc6-dev-hppa-cross >/dev/null
fi
echo "ci/install.sh: toolchain $toolchain and emulators ready"
