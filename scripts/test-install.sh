#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install paths of the module, against the bench kernel build tree (KDIR), all into
# temporary directories (nothing lands in /lib/modules, /usr/src or /var/lib/dkms):
#   1. `make modules_install INSTALL_MOD_PATH=T` and `make install`: the .ko lands in
#      T/lib/modules/RELEASE/updates/ and modinfo reads it (name, alias, vermagic);
#   2. `make dkms-src`: the DKMS source tree holds dkms.conf and the sources;
#   3. dkms add, build, install, remove (Debian's dkms, with --dkmstree, --sourcetree,
#      --installtree and --kernelsourcedir KDIR): the module builds from the DKMS copy,
#      installs into INSTALLTREE/RELEASE/updates/dkms/, and is removed again.
# Prints one "PASS name" or "FAIL name" line per check; exits 1 if any check failed.
#
# usage: scripts/test-install.sh [--kdir KDIR]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KDIR=${KDIR:-$KDIR_DEFAULT}
while (($#)); do
	case $1 in
	--kdir) KDIR=${2:?--kdir needs a directory}; shift 2 ;;
	*) die "usage: $0 [--kdir KDIR]" ;;
	esac
done
[[ -f $KDIR/include/config/kernel.release ]] || die "no kernel build tree at $KDIR (run scripts/setup.sh)"
REL=$(cat "$KDIR/include/config/kernel.release")
# The DKMS copy has no bench scripts: hand it the bench's toolchain through the environment.
export KDIR RUSTC BINDGEN LIBCLANG_PATH


WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# check_ko NAME FILE: modinfo reads FILE as our module, built for $REL.
check_ko() {
	local name=$1 ko=$2 info
	if [[ ! -f $ko ]]; then
		check_fail "$name: $(basename "$ko") installed" "$WORK/last.log"
		return
	fi
	info=$(modinfo "$ko" 2>&1)
	if grep -qx 'name: *virtio_snd_rs' <<<"$info" && grep -q '^alias: *virtio:d00000019v\*' <<<"$info" &&
		grep -q "^vermagic: *$REL " <<<"$info"; then
		check_pass "$name: modinfo reads ${ko#"$WORK"/}"
	else
		echo "$info" >"$WORK/modinfo.log"
		check_fail "$name: modinfo reads ${ko#"$WORK"/}" "$WORK/modinfo.log"
	fi
}

step "test-install: make modules_install / install (KDIR=$KDIR, release $REL)"
for target in modules_install install; do
	dest=$WORK/$target
	if make -C "$BENCH_ROOT" -s KDIR="$KDIR" INSTALL_MOD_PATH="$dest" "$target" >"$WORK/last.log" 2>&1; then
		check_pass "make $target INSTALL_MOD_PATH=..."
	else
		check_fail "make $target INSTALL_MOD_PATH=..." "$WORK/last.log"
		continue
	fi
	ko=$(find "$dest/lib/modules/$REL/updates" -name virtio_snd_rs.ko 2>/dev/null | head -n1)
	check_ko "make $target" "${ko:-$dest/lib/modules/$REL/updates/virtio_snd_rs.ko}"
done

step "test-install: make dkms-src"
srctree=$WORK/usr-src
if make -C "$BENCH_ROOT" -s dkms-src DKMS_SOURCE_TREE="$srctree" >"$WORK/last.log" 2>&1; then
	check_pass "make dkms-src"
else
	check_fail "make dkms-src" "$WORK/last.log"
fi
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$BENCH_ROOT/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$BENCH_ROOT/dkms.conf")
pkgsrc=$srctree/$name-$version
if [[ -f $pkgsrc/dkms.conf && -f $pkgsrc/src/lib.rs && -f $pkgsrc/src/Kbuild && -x $pkgsrc/scripts/dkms-prepare.sh &&
	! -e $pkgsrc/scripts/bench-env.sh ]]; then
	check_pass "dkms source tree $name-$version"
else
	ls -R "$srctree" >"$WORK/ls.log" 2>&1
	check_fail "dkms source tree $name-$version" "$WORK/ls.log"
fi

step "test-install: dkms add/build/install/remove $name/$version for $REL"
if ! command -v dkms >/dev/null; then
	check_fail "dkms is installed (apt-get install dkms; scripts/setup.sh does)"
else
	mkdir -p "$WORK/dkms" "$WORK/modules/$REL"
	D=(-m "$name" -v "$version" -k "$REL" --kernelsourcedir "$KDIR" --dkmstree "$WORK/dkms"
		--sourcetree "$srctree" --installtree "$WORK/modules")
	for action in add build install; do
		extra=()
		[[ $action == install ]] && extra=(--no-depmod)
		if dkms "$action" "${D[@]}" "${extra[@]}" >"$WORK/last.log" 2>&1; then
			check_pass "dkms $action"
		else
			# The build's own log, if there is one.
			l=$WORK/dkms/$name/$version/build/make.log
			[[ ! -f $l ]] || cat "$l" >>"$WORK/last.log"
			check_fail "dkms $action" "$WORK/last.log"
			break
		fi
	done
	if [[ $action == install ]]; then
		check_ko "dkms install" "$WORK/modules/$REL/updates/dkms/virtio_snd_rs.ko"
		status=$(dkms status "$name/$version" -k "$REL" --dkmstree "$WORK/dkms" --sourcetree "$srctree" \
			--installtree "$WORK/modules" 2>&1)
		if [[ $status == *": installed"* ]]; then
			check_pass "dkms status: installed"
		else
			echo "$status" >"$WORK/last.log"
			check_fail "dkms status: installed" "$WORK/last.log"
		fi
		if dkms remove "${D[@]}" --no-depmod >"$WORK/last.log" 2>&1 &&
			[[ ! -e $WORK/modules/$REL/updates/dkms/virtio_snd_rs.ko && ! -e $WORK/dkms/$name/$version ]]; then
			check_pass "dkms remove"
		else
			check_fail "dkms remove" "$WORK/last.log"
		fi
	fi
fi

((FAILED == 0))
