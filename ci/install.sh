#!/usr/bin/env bash
# Installs what clone-core's tests need on a fresh Debian 12 (bookworm) machine:
# the pinned nightly from rust-toolchain.toml (with rust-src for -Zbuild-std), QEMU system
# emulators and qemu-user-static from bookworm-backports (the same suite as the preinstalled
# qemu-utils, so the packages agree), the PA-RISC cross compiler for the hppa stack probe, and
# Debian's own Linux kernels for arm64, s390x, ppc64el and mips64el (booted by
# `cargo xtask linux-vm`), and cargo-fuzz. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
# `rustup toolchain install` is idempotent and also adds missing components to an existing
# toolchain; RUSTUP_AUTO_INSTALL=0 machines need it run explicitly.
RUST_BACKTRACE=0 rustup toolchain install "$toolchain" --profile minimal \
    --component rust-src,rustfmt,clippy,llvm-tools
# clone-core's promise: the pure logic builds on stable, for the host and bare-metal targets.
# Installed once: re-running `rustup toolchain install stable` updates the channel, which fails
# whenever today's stable lacks one of the targets upstream or on a mirror.
if ! rustup run stable rustc --version >/dev/null 2>&1; then
    RUST_BACKTRACE=0 rustup toolchain install stable --profile minimal
fi
installed_targets=$(rustup target list --toolchain stable --installed)
need_targets=()
for t in x86_64-unknown-none aarch64-unknown-none riscv64gc-unknown-none-elf; do
    grep -qx "$t" <<<"$installed_targets" || need_targets+=("$t")
done
if [ ${#need_targets[@]} -gt 0 ]; then
    RUST_BACKTRACE=0 rustup target add --toolchain stable "${need_targets[@]}"
fi
# cargo-fuzz for `cargo xtask fuzz` (libFuzzer targets in fuzz/). From crates.io, pinned by
# its lock file; once installed, not rebuilt. Measured here: 1 min 54 s of CPU (10 min 48 s
# wall on a loaded 2-core machine).
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

need_apt=()
for bin in qemu-system-x86_64 qemu-system-aarch64 qemu-system-riscv64 qemu-system-s390x \
           qemu-system-ppc64 qemu-system-mips64el \
           qemu-aarch64-static qemu-riscv64-static qemu-s390x-static qemu-ppc64le-static \
           qemu-loongarch64-static qemu-arm-static qemu-hppa-static hppa-linux-gnu-gcc valgrind; do
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
    # An index that fails to refresh (a mirror mid-sync) is not fatal here: the install below
    # fails loudly if a package really cannot be had.
    apt-get update -qq || echo "ci/install.sh: apt-get update reported errors; continuing"
    apt-get install -y -qq -t bookworm-backports --no-install-recommends \
        qemu-system-x86 qemu-system-arm qemu-system-misc qemu-system-ppc qemu-system-mips \
        qemu-user-static >/dev/null
    # valgrind (3.19): callgrind instruction counts for `cargo xtask lean`.
    apt-get install -y -qq --no-install-recommends gcc-hppa-linux-gnu libc6-dev-hppa-cross \
        valgrind >/dev/null
fi

# Real Linux kernels for `cargo xtask linux-vm`: Debian bookworm's current kernel image per
# arch (6.1) and bookworm-backports' (6.12), found through the meta package (linux-image-arm64
# -> linux-image-6.1.0-N-arm64) so a security update that retires an ABI number does not break
# this script. Only the kernel file is kept, in $kernels/<debian arch>[-bpo]/kernel with its
# release in ./release; a kernel already there is not fetched again.
#
# Foreign-arch packages are fetched through a private apt state (lists, cache, an empty dpkg
# status) under $kernels/.apt, with APT::Architectures naming only the foreign arches. The
# machine's own apt is left exactly as it was: no `dpkg --add-architecture` to undo, no foreign
# indexes in /var/lib/apt/lists. The private state is deleted afterwards.
kernels=${CLONE_CORE_KERNELS:-/var/cache/clone-core/kernels}
want_kernels=()
for pair in arm64:arm64 s390x:s390x ppc64el:powerpc64le mips64el:5kc-malta; do
    for dir in "${pair%%:*}" "${pair%%:*}-bpo"; do
        [ -s "$kernels/$dir/kernel" ] && [ -s "$kernels/$dir/release" ] || want_kernels+=("$dir:${pair#*:}")
    done
done
if [ ${#want_kernels[@]} -gt 0 ]; then
    echo "ci/install.sh: fetching Debian kernels for: ${want_kernels[*]%%:*}"
    priv=$kernels/.apt
    rm -rf "$priv"
    mkdir -p "$priv/lists/partial" "$priv/archives/partial" "$priv/debs"
    : >"$priv/status"
    apt_priv=(-o "Dir::State::Lists=$priv/lists" -o "Dir::State::status=$priv/status"
              -o "Dir::Cache=$priv" -o "Dir::Cache::archives=$priv/archives"
              -o Acquire::Languages=none -o APT::Sandbox::User=root
              -o "APT::Architecture=${want_kernels[0]%%[:-]*}")
    for pair in "${want_kernels[@]}"; do apt_priv+=(-o "APT::Architectures::=${pair%%[:-]*}"); done
    # A mirror caught mid-sync on one index (seen on bookworm-security) must not stop us: the
    # kernels come from bookworm main, and the look-up below fails loudly if one is missing.
    apt-get "${apt_priv[@]}" update -qq >/dev/null 2>&1 || true
    for pair in "${want_kernels[@]}"; do
        dir=${pair%%:*} flavour=${pair#*:}
        arch=${dir%-bpo} release=()
        [ "$dir" = "$arch" ] || release=(-o APT::Default-Release=bookworm-backports)
        pkg=$(apt-cache "${apt_priv[@]}" "${release[@]}" depends "linux-image-$flavour:$arch" 2>/dev/null |
              sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
        [ -n "$pkg" ] || { echo "ci/install.sh: no kernel package for $dir" >&2; exit 1; }
        (cd "$priv/debs" && apt-get "${apt_priv[@]}" download -qq "$pkg:$arch" >/dev/null)
        deb=$(ls "$priv/debs/${pkg}_"*"_$arch.deb")
        mkdir -p "$priv/x" "$kernels/$dir"
        # ./boot comes first in the data tarball: tar stops after the kernel instead of
        # decompressing all the modules (dpkg-deb then dies of SIGPIPE, which is expected).
        { dpkg-deb --fsys-tarfile "$deb" 2>/dev/null || true; } |
            tar -x -C "$priv/x" --wildcards --occurrence=1 "./boot/vmlinu[xz]-${pkg#linux-image-}"
        mv "$priv/x/boot/"vmlinu* "$kernels/$dir/kernel"
        echo "${pkg#linux-image-} $(dpkg-deb -f "$deb" Version)" >"$kernels/$dir/release"
        rm -rf "$priv/x" "$deb"
    done
    rm -rf "$priv"
fi
echo "ci/install.sh: toolchain $toolchain, emulators and kernels ready"
