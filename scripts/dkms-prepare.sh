#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Makes a distribution kernel's headers usable for an out-of-tree Rust module, and prints the
# kernel build directory to build against (stdout; progress on stderr).
#
# A kernel headers package (Debian's linux-headers-RELEASE) has the kernel's Module.symvers,
# with the Rust symbols of `core`, `bindings`, `kernel` and `pin_init` that vmlinux exports,
# but not the crates' metadata (rust/lib*.rmeta) nor the proc macros (rust/lib*.so) that rustc
# needs to compile a module. This script rebuilds them from the kernel's own source (Debian's
# linux-source-X.Y of the same version) with the kernel's .config and the same rustc and
# bindgen, then checks that the rebuilt crates export every Rust symbol of Module.symvers
# (the v0 mangling's crate hash depends on the rustc that built the crate), and assembles a
# build directory: the headers (symlinked), plus rust/ and scripts/target.json.
#
# A build directory that already has rust/libkernel.rmeta (a full kernel build tree) is
# printed as it is.
#
# The result is cached in $VIRTIO_SND_RS_CACHE (default /var/cache/virtio-snd-rs)/RELEASE,
# keyed by the toolchain, the .config and the package versions.
#
# usage: scripts/dkms-prepare.sh KDIR
#   RUSTC, BINDGEN   the compilers (default: rustc, bindgen from PATH)
#   KSRC             an unpacked kernel source tree of the same version (default: the tarball
#                    of the linux-source-X.Y package, /usr/src/linux-source-X.Y.tar.*)
#   JOBS             parallel jobs (default: nproc)
set -euo pipefail

die() {
	printf 'virtio-snd-rs: %s\n' "$*" >&2
	exit 1
}
say() { printf 'virtio-snd-rs: %s\n' "$*" >&2; }

(($# == 1)) || die "usage: $0 KDIR"
KDIR=$(readlink -f "$1")
RUSTC=${RUSTC:-rustc}
BINDGEN=${BINDGEN:-bindgen}
CACHE_ROOT=${VIRTIO_SND_RS_CACHE:-/var/cache/virtio-snd-rs}

[[ -f $KDIR/.config ]] || die "no kernel build directory at $KDIR (install linux-headers-\$(uname -r))"
if [[ -f $KDIR/rust/libkernel.rmeta ]]; then
	echo "$KDIR"
	exit 0
fi
grep -qx 'CONFIG_RUST=y' "$KDIR/.config" || die "the kernel of $KDIR is built without CONFIG_RUST"
REL=$(cat "$KDIR/include/config/kernel.release")

# --- the toolchain must be the kernel's: refuse before compiling anything ----------------------
kconf() { sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$KDIR/.config"; }
want_rustc=$(kconf CONFIG_RUSTC_VERSION_TEXT)
want_bindgen=$(kconf CONFIG_BINDGEN_VERSION_TEXT)
have_rustc=$("$RUSTC" --version 2>/dev/null) || die "$RUSTC not found (apt install rustc rust-src)"
have_bindgen=$("$BINDGEN" --version 2>/dev/null) || die "$BINDGEN not found (apt install bindgen)"
if [[ $have_rustc != "$want_rustc" ]]; then
	die "kernel $REL was built with \"$want_rustc\", but $RUSTC is \"$have_rustc\".
  The Rust symbols that the kernel exports carry a hash of the compiler's version: a module built
  by another rustc cannot load. Install that compiler (Debian 13: apt install rustc rust-src,
  1.85.1+dfsg1-1+deb13u1) and set RUSTC=/path/to/it if it is not the first rustc on PATH."
fi
if [[ $have_bindgen != "$want_bindgen" ]]; then
	die "kernel $REL was built with \"$want_bindgen\", but $BINDGEN is \"$have_bindgen\" (Debian 13: apt install bindgen)."
fi
sysroot=$("$RUSTC" --print sysroot)
[[ -f $sysroot/lib/rustlib/src/rust/library/core/src/lib.rs ]] ||
	die "no Rust standard library source in $sysroot (apt install rust-src)"

# What `make modules_prepare` of the kernel source needs (Debian package names).
need=()
for t in bc:bc bison:bison flex:flex python3:python3; do
	command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[[ -f /usr/include/gelf.h ]] || need+=(libelf-dev)
[[ -f /usr/include/openssl/ssl.h ]] || need+=(libssl-dev)
((${#need[@]} == 0)) || die "building the kernel crates needs: apt install ${need[*]}"

# --- the kernel source of the same version -------------------------------------------------------
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }
kver=$(make -s -C "$KDIR" kernelversion 2>/dev/null || true) # 7.2.12
mm=$(cut -d. -f1-2 <<<"$kver")
hdr_pkg=$(dpkg -S "$KDIR" 2>/dev/null | head -n1 | cut -d: -f1 || true)
hdr_ver=$( [[ -z $hdr_pkg ]] || pkgver "$hdr_pkg")
if [[ -z ${KSRC:-} ]]; then
	[[ -n $mm ]] || die "cannot tell the kernel's version from $KDIR/Makefile; set KSRC"
	src_pkg=linux-source-$mm
	src_ver=$(pkgver "$src_pkg")
	[[ -n $src_ver ]] || die "$src_pkg is not installed (apt install $src_pkg${hdr_ver:+=$hdr_ver}), or set KSRC"
	[[ -z $hdr_ver || $src_ver == "$hdr_ver" ]] ||
		die "$src_pkg is $src_ver but $hdr_pkg is $hdr_ver: install $src_pkg=$hdr_ver"
	tarballs=(/usr/src/"$src_pkg".tar.*)
	tarball=${tarballs[0]}
	[[ -f $tarball ]] || die "no /usr/src/$src_pkg.tar.* (is $src_pkg installed?)"
else
	src_ver="tree:$(readlink -f "$KSRC")"
fi

# --- cache -----------------------------------------------------------------------------------------
CACHE=$CACHE_ROOT/$REL
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
key=$( { echo "$have_rustc" "$have_bindgen" "$hdr_ver" "$src_ver"; cat "$KDIR/.config"; } | sha256sum | cut -c1-16)
if [[ -f $CACHE/kdir/.stamp && -f $CACHE/kdir/.exports && $(cat "$CACHE/kdir/.stamp") == "$key" ]]; then
	say "$(cat "$CACHE/kdir/.exports") (cached)"
	echo "$CACHE/kdir"
	exit 0
fi
say "building the Rust metadata of kernel $REL in $CACHE (once per kernel; several minutes)"
t0=$SECONDS
work=$CACHE/work
rm -rf "$work" "$CACHE/kdir"
mkdir -p "$work/obj"
if [[ -z ${KSRC:-} ]]; then
	say "unpacking $tarball"
	mkdir -p "$work/src"
	tar -xaf "$tarball" -C "$work/src" --strip-components=1
	KSRC=$work/src
fi

# The compiler that Debian's headers name (.kernelvariables: CC = $(CROSS_COMPILE)gcc-14).
cc=gcc
if [[ -f $KDIR/.kernelvariables ]]; then
	# shellcheck disable=SC2016 # $(CC) is make's
	cc=$(printf 'include %s\nall:\n\t@echo $(CC)\n' "$KDIR/.kernelvariables" | make -s -f - all | xargs)
fi
cp "$KDIR/.config" "$work/obj/.config"
mk=(make -s -C "$KSRC" O="$work/obj" CC="$cc" HOSTCC="$cc" RUSTC="$RUSTC" HOSTRUSTC="$RUSTC"
	BINDGEN="$BINDGEN" KERNELRELEASE="$REL")
"${mk[@]}" olddefconfig >&2
# A Kconfig symbol that olddefconfig changed is reported (a host tool's probe can differ, e.g.
# CONFIG_OPENSSL_SUPPORTS_ML_DSA); the symbol check below is what decides.
if ! diff <(grep '^CONFIG_' "$KDIR/.config" | sort) <(grep '^CONFIG_' "$work/obj/.config" | sort) >"$work/config.diff"; then
	say "note: olddefconfig changed these lines of $REL's .config:"
	sed 's/^/    /' "$work/config.diff" >&2
fi
say "make modules_prepare (the rust/ crates)"
# Under DKMS's `make -jN`, the jobserver of the outer make is used as it is.
jobs=()
[[ ${MAKEFLAGS:-} == *jobserver* ]] || jobs=(-j"${JOBS:-$(nproc)}")
"${mk[@]}" "${jobs[@]}" modules_prepare >&2

# --- the rebuilt crates must export every Rust symbol that the kernel exports --------------------
grep -ohE '\b_R[A-Za-z0-9_]+' "$work"/obj/rust/exports_*_generated.h | sort -u >"$work/rebuilt.syms"
awk '$2 ~ /^_R/ && $3 == "vmlinux" {print $2}' "$KDIR/Module.symvers" | sort -u >"$work/kernel.syms"
missing=$(comm -13 "$work/rebuilt.syms" "$work/kernel.syms" | wc -l)
total=$(wc -l <"$work/kernel.syms")
if ((missing)); then
	crate_ids() { grep -ohE 'Cs[0-9A-Za-z]+_[0-9]+(core|kernel|bindings|pin_init)' "$1" | sort | uniq -c | sort -rn | head -n4; }
	die "the rebuilt crates miss $missing of the kernel's $total Rust exports, e.g.
$(comm -13 "$work/rebuilt.syms" "$work/kernel.syms" | head -n3 | sed 's/^/    /')
  crate hashes of the kernel:
$(crate_ids "$work/kernel.syms")
  crate hashes rebuilt:
$(crate_ids "$work/rebuilt.syms")
  (left in $work)"
fi
say "all $total Rust exports of $REL are reproduced"

# --- the build directory: the headers, plus rust/ and scripts/target.json ------------------------
k=$CACHE/kdir.new
rm -rf "$k"
mkdir -p "$k/rust" "$k/scripts"
for f in "$KDIR"/* "$KDIR"/.[!.]*; do
	case ${f##*/} in Makefile | scripts | rust | '.[!.]*') ;; *) ln -s "$f" "$k/${f##*/}" ;; esac
done
grep -q '^KBUILD_OUTPUT=' "$KDIR/Makefile" || die "$KDIR/Makefile does not set KBUILD_OUTPUT (not a Debian headers tree)"
sed "s|^KBUILD_OUTPUT=.*|KBUILD_OUTPUT=$CACHE/kdir|" "$KDIR/Makefile" >"$k/Makefile"
for f in "$KDIR"/scripts/* "$KDIR"/scripts/.[!.]*; do
	[[ -e $f ]] && ln -s "$f" "$k/scripts/${f##*/}"
done
cp "$work/obj/scripts/target.json" "$k/scripts/"
cp "$work"/obj/rust/*.rmeta "$work"/obj/rust/*.so "$k/rust/"
echo "all $total Rust exports of $REL are reproduced" >"$k/.exports"
echo "$key" >"$k/.stamp"
mv "$k" "$CACHE/kdir"
rm -rf "$work"
say "kernel $REL ready in $((SECONDS - t0))s: $CACHE/kdir"
echo "$CACHE/kdir"
