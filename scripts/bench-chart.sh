#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Renders a table of scripts/bench.sh as a PNG chart (gnuplot): per workload, the ratios
# Rust / C of kicks, wakeups (device interrupts + timer interrupts above the idle baseline)
# and guest CPU, as bars from 1 (same as the C driver) on a log scale: a bar going down
# means the Rust driver needs less. Workloads where the C driver's stream failed are marked
# "C failed" and drawn pale (their ratios mean nothing). Tables from before the wakeup
# columns get the interrupt ratio in their place.
#
# usage: scripts/bench-chart.sh [TABLE.txt [OUT.png]]
#   TABLE.txt   a table of scripts/bench.sh (default: every $BENCH_CACHE/bench/latest-*.txt)
#   OUT.png     default: TABLE.png next to the table
# Prints the path of each PNG it wrote.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v gnuplot >/dev/null || die "gnuplot not found (apt-get install gnuplot-nox; scripts/setup.sh does)"

render() {
	local table=$1 out=$2 data title sub wake
	[[ -f $table ]] || die "no table $table"
	data=$(mktemp)
	# Rows: index, "workload period", kicks, wakeups, cpu ratios ("NaN" if none), C ok (1/0).
	# The table's groups are separated by "|": the first is "workload period", each other
	# one is named in the column header line by its first word without "/C" (kicks, irq,
	# timer, wakeups, cpu, xrC, ok, rtl); a ratio is the group's third word, and the group
	# ok holds C's and Rust's. No wakeups group (an older table): the irq ratio instead.
	awk -F '|' '
		function word(f, k,   w) { split($f, w, " "); return w[k] }
		$1 ~ /^workload / {
			for (i = 2; i <= NF; i++) { n0 = word(i, 1); sub(/\/.*/, "", n0); g[n0] = i }
			if (!("wakeups" in g)) g["wakeups"] = g["irq"]
			if (!("ok" in g)) g["ok"] = NF
			next
		}
		("kicks" in g) && $1 ~ /^[^ ]+ +[0-9]+ *$/ {
			r[1] = word(g["kicks"], 3); r[2] = word(g["wakeups"], 3); r[3] = word(g["cpu"], 3)
			for (i = 1; i <= 3; i++) if (r[i] !~ /^[0-9.]+$/) r[i] = "NaN"
			okc = word(g["ok"], 1) == "yes"; okr = word(g["ok"], 2) == "yes"
			split($1, wp, " ")
			printf "%d\t\"%s %s%s%s\"\t%s\t%s\t%s\t%d\n", n++, wp[1], wp[2],
				(okc ? "" : "\\n(C failed)"), (okr ? "" : "\\n(Rust failed)"),
				r[1], r[2], r[3], okc
		}' "$table" >"$data"
	[[ -s $data ]] || { rm -f "$data"; die "$table has no table rows"; }
	wake=wakeups
	grep -q '^workload .*| *wakeups/C' "$table" || wake=interrupts
	title=$(head -n1 "$table" | sed 's/"/\\"/g')
	sub=$(sed -n 2p "$table" | sed 's/"/\\"/g')
	# Y range: 0.1 .. 300 at least, wide enough for every ratio (a ratio of 0 sits on the floor).
	range=$(awk -F '\t' '
		BEGIN { lo = 0.1; hi = 300 }
		{ for (i = 3; i <= 5; i++) if ($i != "NaN") {
			if ($i > 0 && $i / 2 < lo) lo = $i / 2
			if ($i * 2 > hi) hi = $i * 2 } }
		END { printf "%g:%g", lo, hi }' "$data")
	gnuplot <<EOF
set terminal pngcairo size 1400,700 font "sans,11"
set output "$out"
set title "$title\n{/*0.85 $sub}"
set datafile separator "\t"
set datafile missing "NaN"
set logscale y
set yrange [$range]
set ytics ("0.01" 0.01, "0.02" 0.02, "0.05" 0.05, "0.1" 0.1, "0.25" 0.25, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "30" 30, "100" 100, "300" 300)
set ylabel "Rust / C (log scale; < 1: Rust needs less)"
set grid ytics lc rgb "#dddddd"
set xrange [-0.6:$(($(wc -l <"$data") - 1)).6]
set xtics nomirror font ",10"
set key top left opaque box
set bmargin 4.5
$(awk -F '\t' '$6 == 0 { f = 1 } END { exit !f }' "$data" &&
		echo "set label \"grey: the C driver's stream failed, so the ratios of that workload mean nothing\" at graph 0.5, graph 0.97 center font \",9\" front")
fmt(v) = v < 10 ? sprintf("%.2f", v) : sprintf("%.0f", v)
set style fill solid 0.9 border -1
YMIN = ${range%%:*}
f(v) = v < YMIN ? YMIN : v
lo(v) = v < 1 ? f(v) : 1
ly(v) = v >= 1 ? v * 1.12 : v <= YMIN ? YMIN * 1.25 : v / 1.12
hi(v) = v < 1 ? 1 : v
pale(ok, c) = ok > 0.5 ? c : 0xcccccc
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" lw 1.5 front
set arrow from graph 0, first 0.5 to graph 1, first 0.5 nohead lc rgb "#2a9d3a" dt 2 lw 1.2 front
set label "0.5x" at graph 0.995, first 0.54 right tc rgb "#2a9d3a" font ",9" front
w = 0.26
plot "$data" using (\$1 - w):(f(\$3)):(\$1 - 1.5 * w):(\$1 - 0.5 * w):(lo(\$3)):(hi(\$3)):(pale(\$6, 0x1f77b4)):xtic(2) \
		with boxxyerror lc rgb variable title "kicks", \
	"" using (\$1):(f(\$4)):(\$1 - 0.5 * w):(\$1 + 0.5 * w):(lo(\$4)):(hi(\$4)):(pale(\$6, 0xff7f0e)) \
		with boxxyerror lc rgb variable title "$wake", \
	"" using (\$1 + w):(f(\$5)):(\$1 + 0.5 * w):(\$1 + 1.5 * w):(lo(\$5)):(hi(\$5)):(pale(\$6, 0x9467bd)) \
		with boxxyerror lc rgb variable title "guest CPU", \
	"" using (\$1 - w):(ly(\$3)):(fmt(\$3)) with labels font ",8" notitle, \
	"" using (\$1):(ly(\$4)):(fmt(\$4)) with labels font ",8" notitle, \
	"" using (\$1 + w):(ly(\$5)):(fmt(\$5)) with labels font ",8" notitle
EOF
	rm -f "$data"
	echo "$out"
}

if (($# == 0)); then
	found=0
	for t in "$BENCH_CACHE"/bench/latest-*.txt; do
		[[ -f $t ]] || continue
		render "$t" "${t%.txt}.png"
		found=1
	done
	((found)) || die "no $BENCH_CACHE/bench/latest-*.txt (run scripts/bench.sh)"
else
	render "$1" "${2:-${1%.txt}.png}"
fi
