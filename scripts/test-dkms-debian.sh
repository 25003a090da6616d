#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS install on a stock Debian 13 (trixie) with Debian's own trixie-backports kernel,
# which is built with CONFIG_RUST but whose headers package lacks the Rust metadata:
#   1. a trixie root (debootstrap --variant=minbase, cached in $BENCH_CACHE/debian13-root) with
#      trixie-backports; the mirror URI is the one the machine's own apt sources name;
#   2. in it, what a user types: apt install dkms linux-headers-REL linux-source-X.Y rustc
#      rust-src bindgen (+ what `make modules_prepare` needs); make dkms-src; dkms install.
#      scripts/dkms-prepare.sh rebuilds the kernel crates' metadata with Debian's rustc 1.85.1
#      and checks that they export every Rust symbol of the headers' Module.symvers;
#   3. Debian's own vmlinuz (linux-binary-REL) boots under QEMU (scripts/run-guest.sh) with
#      Debian's sound modules (linux-modules-REL) and the DKMS-built .ko, on tools/vsnd-device:
#      tests/guest/dkms-debian.sh loads them (no unknown symbol, taint O and E only), sees the
#      card, plays and records the integrity pattern exactly, and unloads the module.
# Prints one "PASS name" or "FAIL name" line per check; exits 1 if any check failed.
#
# Also: the blacklist file (modprobe.d/virtio-snd-rs.conf) makes the device's alias resolve to
# this module alone, as udev resolves it; and a mismatched rustc is refused before compiling,
# with no module left behind.
#
# usage: scripts/test-dkms-debian.sh [--kernel RELEASE] [--fresh]
#   --kernel   default 7.2.12+deb13-amd64, of LINUX_SOURCE_VERSION (versions.env); the 7.3
#              kernel is 7.3.4+deb13-amd64, of LINUX2_SOURCE_VERSION. Its headers and source
#              are installed at that Debian version.
#   --fresh    rebuild the kernel crates' metadata (scripts/dkms-prepare.sh keeps it in the
#              root's /var/cache/virtio-snd-rs, keyed by the toolchain, the packages' versions
#              and the .config: 5 to 9 minutes a kernel on 2 cores)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REL="${LINUX_SOURCE_VERSION%%-*}+deb13-amd64"
FRESH=0
while (($#)); do
	case $1 in
	--kernel) REL=${2:?--kernel needs a release}; shift 2 ;;
	--fresh) FRESH=1; shift ;;
	*) die "usage: $0 [--kernel RELEASE] [--fresh]" ;;
	esac
done
# The Debian version of the kernel packages: the pinned linux-source of the same release.
case ${REL%%+*} in
"${LINUX_SOURCE_VERSION%%-*}") PKGVER=$LINUX_SOURCE_VERSION ;;
"${LINUX2_SOURCE_VERSION%%-*}") PKGVER=$LINUX2_SOURCE_VERSION ;;
*) die "kernel $REL is not pinned in scripts/versions.env (LINUX_SOURCE_VERSION, LINUX2_SOURCE_VERSION)" ;;
esac
KVER=${REL%%+*}     # 7.2.12
KMM=${KVER%.*}      # 7.2
ROOT=$BENCH_CACHE/debian13-root
NAME=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$BENCH_ROOT/dkms.conf")
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$BENCH_ROOT/dkms.conf")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-dkms-debian.XXXXXX")
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
in_root() { DEBIAN_FRONTEND=noninteractive chroot "$ROOT" "$@"; }
logged() { # LOG COMMAND...: appends the command's output to LOG (the heartbeat stays on stderr)
	local log=$1
	shift
	"$@" >>"$log" 2>&1
}

# --- 1. the trixie root -----------------------------------------------------------------------
# Reuse the URI that the machine's own Debian sources name; never write a host name here.
uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $uri ]] || uri=$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $uri ]] || die "no Debian URI found in the machine's apt sources"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
if [[ ! -f $ROOT/.debootstrapped ]]; then
	step "test-dkms-debian: debootstrap trixie into $ROOT"
	rm -rf "$ROOT"
	with_heartbeat debootstrap debootstrap --variant=minbase trixie "$ROOT" "$uri" >"$WORK/debootstrap.log" 2>&1 ||
		{ cat "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
	touch "$ROOT/.debootstrapped"
fi
printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$uri" "$uri" >"$ROOT/etc/apt/sources.list"
for m in proc dev; do
	mount --bind "/$m" "$ROOT/$m" && MOUNTS+=("$ROOT/$m")
done

# --- 2. what a user types -----------------------------------------------------------------------
# dkms pulls build-essential; the headers pull gcc-14 and pahole; bindgen pulls libclang-dev.
# bc, bison, flex, libelf-dev, libssl-dev and python3 (resolve_btfids) are what
# `make modules_prepare` of the kernel source needs (scripts/dkms-prepare.sh).
PKGS=(dkms "linux-headers-$REL=$PKGVER" "linux-source-$KMM=$PKGVER" rustc rust-src bindgen
	bc bison flex libelf-dev libssl-dev python3)
# A clean DKMS state first (else the kernel hook of a newly installed linux-headers package
# would build an earlier run's module); the prepared kernel crates stay only with --reuse-kdir.
[[ ! -x $ROOT/usr/sbin/dkms ]] || in_root dkms remove "$NAME/$VERSION" --all >/dev/null 2>&1
rm -rf "$ROOT/usr/src/$NAME-$VERSION"
((FRESH == 0)) || rm -rf "$ROOT/var/cache/virtio-snd-rs/$REL"
step "test-dkms-debian: apt install ${PKGS[*]}"
if in_root apt-get update -qq >"$WORK/apt.log" 2>&1 &&
	in_root apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >>"$WORK/apt.log" 2>&1; then
	check_pass "apt install dkms linux-headers-$REL linux-source-$KMM rustc rust-src bindgen"
else
	check_fail "apt install dkms linux-headers-$REL linux-source-$KMM rustc rust-src bindgen" "$WORK/apt.log"
	exit 1
fi
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"/\1/p' "$ROOT/usr/src/linux-headers-$REL/.config")
have=$(in_root rustc --version)
if [[ $have == "$want" ]]; then
	check_pass "trixie's rustc is the kernel's ($have)"
else
	check_fail "trixie's rustc is the kernel's (kernel: $want; rustc: $have)"
fi

rm -rf "$ROOT/build/$NAME"
mkdir -p "$ROOT/build/$NAME"
tar -C "$BENCH_ROOT" -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' --exclude='*.mod*' \
	--exclude='*_generated.rs' --exclude='.*.d' dkms.conf Makefile Kbuild Kconfig src scripts modprobe.d |
	tar -C "$ROOT/build/$NAME" -xf -
step "test-dkms-debian: make dkms-src; dkms install $NAME/$VERSION -k $REL (the first time about 8 minutes on 2 cores)"
t0=$SECONDS
if in_root sh -c "cd /build/$NAME && make -s dkms-src >/dev/null && dkms add $NAME/$VERSION &&
	install -m 0644 /usr/src/$NAME-$VERSION/modprobe.d/virtio-snd-rs.conf /etc/modprobe.d/" >"$WORK/dkms.log" 2>&1 &&
	with_heartbeat "dkms install" logged "$WORK/dkms.log" nice chroot "$ROOT" dkms install "$NAME/$VERSION" -k "$REL"; then
	check_pass "dkms install $NAME/$VERSION -k $REL ($((SECONDS - t0))s)"
else
	l=$(find "$ROOT/var/lib/dkms/$NAME/$VERSION" -name make.log 2>/dev/null | head -n1)
	[[ -z $l ]] || cat "$l" >>"$WORK/dkms.log"
	check_fail "dkms install $NAME/$VERSION -k $REL" "$WORK/dkms.log"
	exit 1
fi
log=$(find "$ROOT/var/lib/dkms/$NAME/$VERSION/$REL" -name make.log | head -n1)
if grep -q "all [0-9]* Rust exports of $REL are reproduced" "$log"; then
	check_pass "the rebuilt kernel crates export every Rust symbol of Module.symvers"
else
	check_fail "the rebuilt kernel crates export every Rust symbol of Module.symvers" "$log"
fi
KO=$ROOT/lib/modules/$REL/updates/dkms/virtio_snd_rs.ko
undef=$(nm -u "$KO" | awk '{print $2}' | sort -u)
miss=$(comm -23 <(echo "$undef") <(awk '{print $2}' "$ROOT/usr/src/linux-headers-$REL/Module.symvers" | sort -u))
if [[ -z $miss ]]; then
	check_pass "every undefined symbol of the .ko is in Module.symvers ($(grep -c '^_R' <<<"$undef") Rust)"
else
	echo "$miss" >"$WORK/miss.log"
	check_fail "every undefined symbol of the .ko is in Module.symvers" "$WORK/miss.log"
fi

# A rustc other than the kernel's is refused before anything is compiled, and no module is
# left: the same build with a compiler that says it is another version.
printf '#!/bin/sh\necho "rustc 1.96.0 (not the kernel'"'"'s)"\n' >"$ROOT/tmp/other-rustc"
chmod +x "$ROOT/tmp/other-rustc"
rm -rf "$ROOT/build/refuse" && cp -a "$ROOT/usr/src/$NAME-$VERSION" "$ROOT/build/refuse"
t0=$SECONDS
in_root sh -c "cd /build/refuse && RUSTC=/tmp/other-rustc make KDIR=/usr/src/linux-headers-$REL dkms-modules" \
	>"$WORK/refuse.log" 2>&1
rrc=$?
if ((rrc != 0)) && grep -q "was built with \"rustc 1.85" "$WORK/refuse.log" &&
	[[ ! -e $ROOT/build/refuse/src/virtio_snd_rs.ko ]]; then
	check_pass "another rustc is refused before compiling ($((SECONDS - t0))s, no .ko)"
	grep -m1 'was built with' "$WORK/refuse.log" | sed 's/^/    /'
else
	check_fail "another rustc is refused before compiling (make status $rrc)" "$WORK/refuse.log"
fi
rm -rf "$ROOT/build/refuse" "$ROOT/tmp/other-rustc"

# --- 3. Debian's own kernel boots and loads it ---------------------------------------------------
step "test-dkms-debian: booting Debian's vmlinuz $REL under QEMU"
debs=$BENCH_CACHE/debian13-kernel-$REL
if [[ ! -f $debs/.unpacked ]]; then
	rm -rf "$debs" && mkdir -p "$ROOT/tmp/debs"
	in_root sh -c "cd /tmp/debs && apt-get download -qq linux-binary-$REL linux-modules-$REL" 2>/dev/null
	mkdir -p "$debs"
	for d in "$ROOT"/tmp/debs/*.deb; do dpkg -x "$d" "$debs"; done
	rm -rf "$ROOT/tmp/debs"
	touch "$debs/.unpacked"
fi
mods=$debs/usr/lib/modules/$REL
# What udev loads for the device: with the blacklist file installed above, the device's alias
# resolves to this module alone (modprobe -b applies the blacklist, as udev does); without it,
# to the C driver as well.
al=$WORK/alias
mkdir -p "$al/lib/modules/$REL/updates/dkms"
cp -a "$mods/kernel" "$al/lib/modules/$REL/"
cp "$KO" "$al/lib/modules/$REL/updates/dkms/"
depmod -b "$al" "$REL" 2>/dev/null
alias_mods() { # CONFIG-DIR: the modules that the alias loads, last one last
	modprobe -d "$al" -S "$REL" -C "$1" --dry-run -v -b 'virtio:d00000019v00001AF4' 2>&1 |
		sed -n 's|^insmod .*/\([^/]*\)\.ko.*|\1|p' | tr '\n' ' '
}
with=$(alias_mods "$ROOT/etc/modprobe.d")
without=$(alias_mods /dev/null)
if [[ $with == *virtio_snd_rs* && $with != *"virtio_snd "* && $without == *"virtio_snd "* ]]; then
	check_pass "udev's modprobe of the device's alias loads virtio_snd_rs, not virtio_snd (blacklist)"
else
	printf '    with the blacklist: %s\n    without: %s\n' "$with" "$without"
	check_fail "udev's modprobe of the device's alias loads virtio_snd_rs, not virtio_snd (blacklist)"
fi
# A build tree for run-guest.sh and mkinitramfs.sh: Debian's vmlinuz as the bzImage, and
# under sound/ Debian's modules that ours needs plus its C driver (mkinitramfs wants
# snd-timer, snd-pcm and virtio_snd there), decompressed (the package has no modules.dep).
pk=$BENCH_CACHE/debian13-kdir-$REL
rm -rf "$pk" && mkdir -p "$pk/arch/x86/boot" "$pk/sound"
cp "$mods/vmlinuz" "$pk/arch/x86/boot/bzImage"
order=()
add_deps() { # NAME...: NAME and its dependencies, dependencies first
	local n f d
	for n in "$@"; do
		[[ " ${order[*]} " == *" $n "* ]] && continue
		f=$(find "$mods/kernel" \( -name "$n.ko*" -o -name "${n//_/-}.ko*" -o -name "${n//-/_}.ko*" \) | head -n1)
		[[ -n $f ]] || continue # built in
		d=$(modinfo -F depends "$f")
		# shellcheck disable=SC2086 # a comma-separated list
		[[ -z $d ]] || add_deps ${d//,/ }
		xz -dcf "$f" >"$pk/sound/$n.ko" 2>/dev/null || cp "$f" "$pk/sound/$n.ko"
		order+=("$n")
	done
}
# shellcheck disable=SC2046
add_deps $(modinfo -F depends "$KO" | tr , ' ')
add_deps virtio_snd
deps=() modargs=()
for n in "${order[@]}"; do
	[[ $n == virtio_snd ]] && continue
	deps+=("$n")
	modargs+=(--module "$pk/sound/$n.ko")
done
# vsnd-device: the device checks every frame played; the guest's client every frame recorded.
guest_log=$WORK/guest.log
"$BENCH_ROOT/scripts/run-guest.sh" --kdir "$pk" --module "$KO" "${modargs[@]}" --vsnd --streams=2 \
	--timeout 300 --append "bench.deps=$(IFS=,; echo "${deps[*]}")" dkms-debian.sh >"$guest_log" 2>&1
grc=$?
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$guest_log" | head -n1)
n=0
while IFS= read -r line; do
	n=$((n + 1))
	name=${line#* [0-9]* }
	if [[ $line == ok* ]]; then check_pass "Debian's $REL: $name"; else check_fail "Debian's $REL: $name"; fi
done < <(grep -E '^(ok|not ok) [0-9]+ ' "$guest_log")
grep -E '^# (RESULT|cards:)' "$guest_log" | sed 's/^/    /'
if [[ -z $plan || $n -ne $plan || $grc -ne 0 ]]; then
	check_fail "the guest on Debian's $REL: plan ${plan:-none}, $n result(s), exit status $grc" "$guest_log"
fi

((FAILED == 0))
