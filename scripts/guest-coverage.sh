#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Coverage of the driver by the guest fuzzer (issue 17): builds the coverage build of the
# module (make RSND_COVER=1: SanitizerCoverage edge callbacks in the Rust crate, recorded
# from every context by src/sys/cover.c), runs tests/guest/vsnd-fuzz.sh with it on the
# gating kernel, and reports which edges of the driver the run reached, by source file,
# with the lines of the driver that it never reached.
#
# usage: scripts/guest-coverage.sh [options]
#   --seeds "S..."     fuzz seeds (default "1 2 3", the gating run's)
#   --rate N           percent of the device's answers mutated (default 30)
#   --timeout S        of the guest run (default 1800)
#   --out DIR          where the serial log and the report go
#                      (default $BENCH_CACHE/results/coverage-DATE)
#   --report KO LOG... no run: the report of the coverage build KO from the serial LOGs
#   --all-lines        list every line never reached (default: src/snd/ and src/spec/ only)
# The run's verdict (vsnd-fuzz.sh's plan) is printed, but the report is made either way.
# Exit status: 0 if the report was made and the run passed, 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# The report: KO ALL-LINES LOG... (python3, binutils' objdump and addr2line).
REPORT=$(
	cat <<'EOF'
import collections, os, re, subprocess, sys

ko, all_lines, logs = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]

# Every edge: the return address of each call to __sanitizer_cov_trace_pc in .text.
dis = subprocess.run(["objdump", "-dr", "-j", ".text", ko], check=True,
                     capture_output=True, text=True).stdout.splitlines()
sites, pending = [], False
for line in dis:
    m = re.match(r"\s*([0-9a-f]+):\s", line)
    if pending and m:
        sites.append(int(m.group(1), 16))
        pending = False
    if "R_X86_64_PLT32" in line and "__sanitizer_cov_trace_pc" in line:
        pending = True
sites = set(sites)
anchor = None
for line in subprocess.run(["nm", ko], check=True, capture_output=True,
                           text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[2] == "rsnd_cover_anchor":
        anchor = int(f[0], 16)
if not sites or anchor is None:
    sys.exit(f"{ko}: not a coverage build (no edges or no rsnd_cover_anchor)")

# Reached: the union of every dump ("BENCH-COVER: COUNT LOST OFF... @NEXT").
reached, lost, dumps = set(), 0, 0
for log in logs:
    with open(log, errors="replace") as f:
        for line in f:
            i = line.find("BENCH-COVER: ")
            if i < 0:
                continue
            words = line[i + 13:].split()
            if len(words) < 2:
                continue
            dumps += 1
            lost = max(lost, int(words[1]))
            for w in words[2:]:
                # A kernel message that cut into the line leaves a token that is no number.
                if not re.fullmatch(r"-?[0-9a-f]+", w):
                    continue
                off = -int(w[1:], 16) if w.startswith("-") else int(w, 16)
                reached.add(anchor + off)
hit = sites & reached

# Each edge's place: the innermost frame in the module's own source.
addrs = sorted(sites)
out = subprocess.run(["addr2line", "-a", "-i", "-f", "-C", "-j", ".text", "-e", ko]
                     + [hex(a) for a in addrs], check=True, capture_output=True,
                     text=True).stdout.splitlines()
# The module's own source tree, wherever it was built: the directory of src/snd.rs.
root = next((l.split(":")[0][:-len("src/snd.rs")] for l in out
             if l.split(":")[0].endswith("/src/snd.rs")), "/nonexistent/")
place, cur, frames = {}, None, []
def close():
    if cur is None:
        return
    own = [(fn, fl) for fn, fl in frames if fl.startswith(root)]
    fn, fl = own[0] if own else (frames[0] if frames else ("?", "?:0"))
    fl = fl[len(root):] if fl.startswith(root) else "(inlined: kernel crate, core):0"
    fl = re.sub(r" \(discriminator \d+\)", "", fl)
    place[cur] = (fl, fn)
i = 0
while i < len(out):
    if re.match(r"0x[0-9a-f]+$", out[i]):
        close()
        cur, frames = int(out[i], 16), []
        i += 1
        continue
    frames.append((out[i], out[i + 1] if i + 1 < len(out) else "?:0"))
    i += 2
close()

def short(fn):
    fn = re.sub(r"<[^<>]*>", "", re.sub(r"<[^<>]*>", "", fn))
    return fn.split("::")[-1] if "::" in fn else fn

by_file = collections.defaultdict(lambda: [0, 0])
by_fn = collections.defaultdict(lambda: [0, 0, set()])
for a in sites:
    fl, fn = place.get(a, ("?:0", "?"))
    name, line = fl.rsplit(":", 1) if ":" in fl else (fl, "?")
    key = (name, short(fn))
    by_file[name][0] += 1
    by_fn[key][0] += 1
    if a in hit:
        by_file[name][1] += 1
        by_fn[key][1] += 1
    elif line.isdigit() and line != "0":
        by_fn[key][2].add(int(line))

print(f"coverage dumps read: {dumps} (from {len(logs)} log(s)); set overflow: {lost}")
print(f"edges reached: {len(hit)} of {len(sites)} ({100 * len(hit) / len(sites):.1f} %)")
print()
print(f"{'file':44} {'edges':>6} {'reached':>8} {'%':>6}")
for name in sorted(by_file):
    n, h = by_file[name]
    print(f"{name:44} {n:6} {h:8} {100 * h / n:6.1f}")
print()
print("Functions with edges never reached (reached/edges: lines of the edges not reached):")
for (name, fn) in sorted(by_fn):
    n, h, lines = by_fn[(name, fn)]
    if h == n:
        continue
    if not all_lines and not (name.startswith("src/snd") or name.startswith("src/spec")):
        continue
    where = ", ".join(str(x) for x in sorted(lines)) or "-"
    print(f"  {name} {fn} ({h}/{n}): {where}")
EOF
)

SEEDS="1 2 3" RATE=30 TIMEOUT=1800 OUT='' ALL=0 REPORT_ONLY=()
while (($#)); do
	case $1 in
	--seeds) SEEDS=$2 && shift 2 ;;
	--rate) RATE=$2 && shift 2 ;;
	--timeout) TIMEOUT=$2 && shift 2 ;;
	--out) OUT=$2 && shift 2 ;;
	--all-lines) ALL=1 && shift ;;
	--report)
		shift
		(($# >= 2)) || usage
		REPORT_ONLY=("$@")
		shift $#
		;;
	*) usage ;;
	esac
done

if ((${#REPORT_ONLY[@]})); then
	python3 -c "$REPORT" "${REPORT_ONLY[0]}" "$ALL" "${REPORT_ONLY[@]:1}"
	exit
fi

OUT=${OUT:-$BENCH_CACHE/results/coverage-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
step "coverage build of the module (RSND_COVER=1)"
KO=$(MODULE_COPY=$BENCH_CACHE/cover-module build_module_copy "$KDIR_DEFAULT" RSND_COVER=1)
cp "$KO" "$OUT/virtio_snd_rs.ko"
step "vsnd-fuzz.sh, seeds $SEEDS at $RATE %"
rc=0
"$BENCH_ROOT/scripts/run-guest.sh" --module "$KO" --timeout "$TIMEOUT" \
	--vsnd '--streams=4 --jacks=2 --jack-remap --chmaps=4 --controls=default' \
	--append "bench.fuzz_seeds=$(echo "$SEEDS" | tr ' ' ,)" --append "bench.fuzz_rate=$RATE" \
	--log "$OUT/serial.log" vsnd-fuzz.sh >"$OUT/run.out" 2>&1 || rc=$?
grep -E '^(ok|not ok) |^# Totals' "$OUT/serial.log" | tail -n 3 || true
echo "guest run: exit $rc (log $OUT/serial.log)"
python3 -c "$REPORT" "$OUT/virtio_snd_rs.ko" "$ALL" "$OUT/serial.log" | tee "$OUT/report.txt"
echo "report: $OUT/report.txt"
exit $((rc != 0))
