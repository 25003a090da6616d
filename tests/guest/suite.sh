#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Several guest scripts in one boot (a boot of the gating kernel under TCG costs half a
# minute or more): bench.suite=ENTRY+ENTRY+..., each ENTRY being NAME:SCRIPT[:KEY=VALUE]...
# Every entry runs as one KTAP subtest named NAME, in order, with BENCH_KEY=VALUE set for
# that script alone (e.g. rsparams=poll=1,defer_kicks=1: the module parameters of
# load_rs_driver). Between entries the driver is unloaded, so that each script loads it
# with its own parameters.
#
# State that outlives a driver reload stays: QEMU's device, for one, reports the channel
# count of a stream's last PREPARE as its channels_max, so the order of the entries counts.
#
# The plan is the number of entries. An entry passes if its script exits 0, which its
# ktap_finish does only when every check passed and their count met the script's own plan;
# scripts/test.sh counts the nested checks one by one.
. /tests/lib.sh

[ -n "${BENCH_SUITE:-}" ] || { echo "suite.sh: no bench.suite=..." >&2; exit 2; }
entries=$(echo "$BENCH_SUITE" | tr '+' ' ')
n=0
for e in $entries; do n=$((n + 1)); done
ktap_plan $n

i=0
for e in $entries; do
	i=$((i + 1))
	name=${e%%:*}
	rest=${e#*:}
	script=${rest%%:*}
	[ "$rest" = "$script" ] && rest= || rest=${rest#*:}
	echo "  # Subtest: $name"
	(
		# The entry's own bench.KEY=VALUE settings, for its script only.
		IFS=:
		for kv in $rest; do
			[ -n "$kv" ] || continue
			key=$(echo "${kv%%=*}" | tr 'a-z.-' 'A-Z__')
			export "BENCH_$key=${kv#*=}"
		done
		unset IFS
		if [ -f "/tests/$script" ]; then
			sh "/tests/$script" </dev/null 2>&1
		else
			echo "suite.sh: no /tests/$script"
			exit 127
		fi
		echo "SUITE-STATUS: $?"
	) | while IFS= read -r line; do
		case $line in
		SUITE-STATUS:*) echo "$line" >/tmp/suite.status ;;
		*) echo "  $line" ;;
		esac
	done
	rc=$(sed -n 's/^SUITE-STATUS: //p' /tmp/suite.status 2>/dev/null)
	rm -f /tmp/suite.status
	unload_driver >/dev/null 2>&1
	if [ "${rc:-1}" = 0 ]; then
		ktap_ok "$name"
	else
		ktap_fail "$name" "exit status ${rc:-unknown}"
	fi
done
ktap_finish
exit $?
