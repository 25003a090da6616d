#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest initramfs (gzip'ed newc cpio):
#   usage: scripts/mkinitramfs.sh OUT.cpio.gz [--kdir KDIR] [--module PATH.ko]... [--sound-servers]
#
# Contents (merged-/usr layout: /bin, /sbin, /lib, /lib64 are links into /usr):
#   busybox-static with every applet link; /init from scripts/guest-init.sh
#   aplay arecord speaker-test alsabat amixer alsactl (those present), their ldd libraries,
#     the dynamic loader, libgcc_s.so.1 (alsabat dlopens it), /etc/ld.so.cache
#   /usr/share/alsa, and the alsa-lib plugins that need no large library or server
#   with --sound-servers (scripts/run-guest.sh gives it to the scripts that need them; without
#   them the archive is a third of the size, and a guest boots faster under TCG):
#   PulseAudio (pulseaudio, pactl, pacat/paplay/parecord, module-alsa-card/-sink/-source,
#     module-native-protocol-unix, module-suspend-on-idle, /usr/share/pulseaudio/alsa-mixer)
#     for tests/guest/pulse.sh, pulse-integrity.sh and the server workloads of
#     tests/guest/bench.sh
#   PipeWire (pipewire, pw-cat/pw-play/pw-record, pw-link, pw-dump, the modules and SPA plugins
#     of a graph with static ALSA nodes, module-rt) for tests/guest/pipewire.sh, if installed
#   /lib/modules/c/    snd-timer.ko snd-pcm.ko [snd-hrtimer.ko] virtio_snd.ko from KDIR/sound
#   /lib/modules/rs/   every --module file
#   /usr/bin/pcm-test, /usr/bin/mixer-test plus its configuration in /tests/kselftest/ (if built by
#                      scripts/build-kselftest.sh)
#   /usr/bin/NAME      every test client in $BENCH_CACHE/clients (scripts/build-clients.sh)
#   /tests/            everything under tests/guest/
#
# Cached: the archive is kept in $BENCH_CACHE/initramfs/ under the hash of the manifest and of
# every input file; OUT is a copy of (or a hard link to) the cached archive.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '4,5s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

OUT='' KDIR=$KDIR_DEFAULT SERVERS=0
MODULES=()
while (($#)); do
	case $1 in
	--kdir) KDIR=${2:?--kdir needs a directory}; shift 2 ;;
	--module) MODULES+=("${2:?--module needs a .ko file}"); shift 2 ;;
	--sound-servers) SERVERS=1; shift ;;
	-h | --help) usage ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) [[ -z $OUT ]] || usage; OUT=$1; shift ;;
	esac
done
[[ -n $OUT ]] || usage
[[ -d $KDIR/sound ]] || die "no kernel build tree at $KDIR (run scripts/setup.sh)"

CACHE=$BENCH_CACHE/initramfs
mkdir -p "$CACHE"
MANIFEST=$(mktemp)
STAGE=
trap 'rm -rf "$MANIFEST" ${STAGE:+"$STAGE"}' EXIT

# Manifest lines, tab-separated (names may hold spaces): "f DEST SRC MODE" (a copy that
# follows links), "l DEST TARGET", "d DEST".
declare -A SEEN=()
add_dir() { [[ -n ${SEEN[$1]:-} ]] || { SEEN[$1]=1; printf 'd\t%s\n' "$1" >>"$MANIFEST"; }; }
add_link() { [[ -n ${SEEN[$1]:-} ]] || { SEEN[$1]=1; printf 'l\t%s\t%s\n' "$1" "$2" >>"$MANIFEST"; }; }
add_file() { # DEST SRC [MODE]
	[[ -f $2 ]] || die "missing input file $2"
	[[ -n ${SEEN[$1]:-} ]] && return 0
	SEEN[$1]=1
	printf 'f\t%s\t%s\t%s\n' "$1" "$(readlink -f "$2")" "${3:-0644}" >>"$MANIFEST"
}
# A host path as it lands in the merged-/usr initramfs: its directory resolved on the host.
dest_of() {
	local d
	d=$(readlink -f "$(dirname "$1")")
	echo "$d/$(basename "$1")"
}
# A dynamic executable or library and, recursively via ldd, every library it needs.
add_elf() { # SRC [DEST]
	local src=$1 dest=${2:-$(dest_of "$1")} lib
	add_file "$dest" "$src" 0755
	while read -r lib; do
		[[ -n $lib ]] || continue
		[[ -n ${SEEN[$(dest_of "$lib")]:-} ]] && continue
		add_elf "$lib"
	done < <(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
}
add_tree() { # SRCDIR DESTDIR: directories, regular files and symbolic links, as they are
	local src=$1 dest=$2 type rel mode target
	while IFS=$'\t' read -r -d '' type rel mode target; do
		case $type in
		d) add_dir "$dest/$rel" ;;
		l) add_link "$dest/$rel" "$target" ;;
		f)
			[[ -n ${SEEN[$dest/$rel]:-} ]] && continue
			SEEN[$dest/$rel]=1
			printf 'f\t%s\t%s\t%s\n' "$dest/$rel" "$src/$rel" "$mode" >>"$MANIFEST"
			;;
		esac
	done < <(find "$(readlink -f "$src")" -mindepth 1 -printf '%y\t%P\t%m\t%l\0' | sort -z)
}
find_module() { # NAME: NAME.ko under KDIR/sound, spelt with '-' or '_'
	local n=$1 f
	f=$(find "$KDIR/sound" \( -name "$n.ko" -o -name "${n//-/_}.ko" -o -name "${n//_/-}.ko" \) -print -quit)
	echo "$f"
}

# Skeleton.
for d in /dev /proc /sys /tmp /run /root /etc /usr /usr/bin /usr/sbin /usr/lib /usr/lib64 /tests; do
	add_dir "$d"
done
add_link /bin usr/bin
add_link /sbin usr/sbin
add_link /lib usr/lib
add_link /lib64 usr/lib64
add_dir /usr/lib/modules
add_dir /usr/lib/modules/c
add_dir /usr/lib/modules/rs
add_file /init "$BENCH_ROOT/scripts/guest-init.sh" 0755

# busybox and its applets.
BUSYBOX=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
[[ $(ldd "$BUSYBOX" 2>&1 || true) == *"not a dynamic"* ]] ||
	die "$BUSYBOX is not static (apt-get install busybox-static)"
add_file /usr/bin/busybox "$BUSYBOX" 0755
while read -r applet; do
	applet=${applet#usr/}
	add_link "/usr/$applet" /usr/bin/busybox
done < <("$BUSYBOX" --list-full | grep -v '^usr/bin/busybox$' | sort)

# ALSA user space. A busybox applet of the same name (none today) gives way to the tool.
for tool in aplay arecord speaker-test alsabat amixer alsactl; do
	path=$(command -v "$tool" || true)
	[[ -n $path ]] || { step "mkinitramfs: $tool not found on the host, skipped"; continue; }
	dest=/usr/bin/$tool
	[[ $path == */sbin/* ]] && dest=/usr/sbin/$tool
	SEEN[$dest]=''
	sed -i "\\#^l\t$dest\t#d" "$MANIFEST"
	add_elf "$path" "$dest"
done
# (No early exit in these pipelines: with pipefail, a writer killed by SIGPIPE fails them.)
LIBGCC=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ && !f {print $NF; f = 1}')
[[ -n $LIBGCC ]] || die "libgcc_s.so.1 not found (alsabat dlopens it)"
add_elf "$LIBGCC"
[[ -d /usr/share/alsa ]] && add_tree /usr/share/alsa /usr/share/alsa
# alsa-lib plugins; the ones that drag in ffmpeg, JACK or PulseAudio are of no use in the
# guest and would triple the archive.
for plugdir in /usr/lib/x86_64-linux-gnu/alsa-lib /usr/lib/alsa-lib; do
	[[ -d $plugdir ]] || continue
	for plug in "$plugdir"/*.so; do
		[[ -e $plug ]] || continue
		case ${plug##*/} in *lavrate* | *a52* | *jack* | *pulse*) continue ;; esac
		add_elf "$plug"
	done
done

# PulseAudio (tests/guest/pulse.sh, pulse-integrity.sh, tests/guest/servers.sh): the
# daemon, pactl, pacat (paplay and parecord are its names), the modules that the tests load
# with their libraries, and module-alsa-card's profile sets and mixer paths. Not the other
# modules: they would pull in X11, JACK, D-Bus services, LADSPA... The tests write their
# own daemon.conf, client.conf and startup script.
PA_MODDIR=$(find /usr/lib -maxdepth 2 -type d -path '/usr/lib/pulse-*/modules' -print -quit 2>/dev/null || true)
if ((SERVERS == 0)); then
	:
elif command -v pulseaudio >/dev/null && command -v pacat >/dev/null && [[ -n $PA_MODDIR ]]; then
	for tool in pulseaudio pactl pacat; do
		add_elf "$(command -v "$tool")" "/usr/bin/$tool"
	done
	for name in paplay parecord parec pamon; do
		SEEN[/usr/bin/$name]=''
		sed -i "\\#^l\t/usr/bin/$name\t#d" "$MANIFEST"
		add_link "/usr/bin/$name" pacat
	done
	for m in module-alsa-card module-alsa-sink module-alsa-source module-native-protocol-unix \
		module-suspend-on-idle; do
		add_elf "$PA_MODDIR/$m.so"
	done
	[[ -d /usr/share/pulseaudio/alsa-mixer ]] &&
		add_tree /usr/share/pulseaudio/alsa-mixer /usr/share/pulseaudio/alsa-mixer
else
	step "mkinitramfs: PulseAudio not found on the host, skipped (apt-get install pulseaudio pulseaudio-utils)"
fi
# PipeWire (tests/guest/pipewire.sh, tests/guest/servers.sh): the daemon, pw-cat (pw-play,
# pw-record), pw-link, pw-dump, the modules and SPA plugins of a graph with static ALSA
# nodes, module-rt (real-time data threads without rtkit). The tests write their own
# pipewire.conf.
PW_MODDIR=/usr/lib/x86_64-linux-gnu/pipewire-0.3 SPA_DIR=/usr/lib/x86_64-linux-gnu/spa-0.2
if ((SERVERS)) && command -v pipewire >/dev/null && command -v pw-cat >/dev/null && [[ -d $PW_MODDIR && -d $SPA_DIR ]]; then
	for tool in pipewire pw-cat pw-link pw-dump; do
		add_elf "$(command -v "$tool")" "/usr/bin/$tool"
	done
	add_link /usr/bin/pw-play pw-cat
	add_link /usr/bin/pw-record pw-cat
	for m in protocol-native access client-node adapter link-factory metadata spa-node-factory rt; do
		add_elf "$PW_MODDIR/libpipewire-module-$m.so"
	done
	for p in support/libspa-support alsa/libspa-alsa audioconvert/libspa-audioconvert; do
		add_elf "$SPA_DIR/$p.so"
	done
fi

# Kernel modules of the reference C driver.
for m in snd-timer snd-pcm snd-hrtimer virtio_snd; do
	f=$(find_module "$m")
	if [[ -z $f ]]; then
		[[ $m == snd-hrtimer ]] && continue
		die "$m.ko not found under $KDIR/sound (is the guest kernel built with CONFIG_SND_VIRTIO=m?)"
	fi
	add_file "/usr/lib/modules/c/$(basename "$f")" "$f"
done
for m in "${MODULES[@]}"; do
	add_file "/usr/lib/modules/rs/$(basename "$m")" "$m"
done

# The kernel's ALSA kselftest, if scripts/build-kselftest.sh built it.
KST=$BENCH_CACHE/kselftest
if [[ -x $KST/pcm-test ]]; then
	add_elf "$KST/pcm-test" /usr/bin/pcm-test
	[[ -x $KST/mixer-test ]] && add_elf "$KST/mixer-test" /usr/bin/mixer-test
	[[ -d $KST/conf ]] && add_tree "$KST/conf" /tests/kselftest
fi

# The test clients, if scripts/build-clients.sh built them.
for c in "$BENCH_CACHE"/clients/*; do
	[[ -x $c && ! $c =~ \.tmp$ ]] && add_elf "$c" "/usr/bin/$(basename "$c")"
done

# The guest tests.
[[ -d $BENCH_ROOT/tests/guest ]] && add_tree "$BENCH_ROOT/tests/guest" /tests

# Cache key: the manifest, the content of every input, this script.
KEY=$({
	cat "$MANIFEST" "$0"
	awk -F '\t' '$1 == "f" {print $3}' "$MANIFEST" | sort -u | tr '\n' '\0' | xargs -0 sha256sum
} | sha256sum | cut -c1-16)
CACHED=$CACHE/$KEY.cpio.gz

if [[ ! -f $CACHED ]]; then
	step "mkinitramfs: building $KEY ($(grep -c '^f' "$MANIFEST") files)"
	STAGE=$(mktemp -d "$CACHE/stage.XXXXXX")
	chmod 755 "$STAGE"
	while IFS=$'\t' read -r kind dest a b; do
		case $kind in
		d) mkdir -p "$STAGE$dest" ;;
		l) mkdir -p "$(dirname "$STAGE$dest")"; ln -sfn "$a" "$STAGE$dest" ;;
		f) install -D -m "$b" "$a" "$STAGE$dest" ;;
		esac
	done <"$MANIFEST"
	printf '%s\n' /usr/lib/x86_64-linux-gnu /usr/lib /usr/lib64 >"$STAGE/etc/ld.so.conf"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$STAGE/etc/passwd"
	echo 'root:x:0:' >"$STAGE/etc/group"
	ldconfig -r "$STAGE" 2>/dev/null || ldconfig -r "$STAGE"
	(cd "$STAGE" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$CACHED.tmp.$$"
	mv -f "$CACHED.tmp.$$" "$CACHED"
	# Keep the newest few archives only.
	ls -1t "$CACHE"/*.cpio.gz 2>/dev/null | tail -n +9 | xargs -r rm -f
fi
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
ln "$CACHED" "$OUT" 2>/dev/null || cp "$CACHED" "$OUT"
touch "$CACHED"
step "mkinitramfs: $OUT ($(du -k "$CACHED" | cut -f1) KiB, key $KEY)"
