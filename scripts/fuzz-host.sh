#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Coverage-guided fuzzing of the pure logic (src/spec/) with cargo fuzz (libFuzzer): every
# target of fuzz/fuzz_targets/ (or the ones named) in turn, from the seeds of
# fuzz/corpus/TARGET/. See Documentation/fuzzing.rst.
#
#   scripts/fuzz-host.sh                     200000 executions per target (CI)
#   scripts/fuzz-host.sh --runs 10000000     a long run
#   scripts/fuzz-host.sh --time 600 ring     ten minutes of one target
#   scripts/fuzz-host.sh --coverage          line/region coverage of src/spec/ that the
#                                            corpora reach (needs Debian's llvm-N, N the
#                                            LLVM major version of $RUSTC)
#
# Prints a plan line "1..N", one line per target ("ok TARGET execs=N ..." or "not ok TARGET
# ..."), and a summary; exits 1 if any target crashed (the input is in
# fuzz/artifacts/TARGET/). Installs cargo-fuzz into $BENCH_CACHE if it is missing.
#
# The stable compiler of the bench (Debian's rustc-web, $RUSTC) has no AddressSanitizer
# runtime: the targets run with --sanitizer none (they are safe Rust), built --release with
# overflow checks and debug assertions on (fuzz/Cargo.toml). The flags that cargo fuzz
# passes then are all stable ones: no nightly compiler, no RUSTC_BOOTSTRAP.
#
# Environment: FUZZ_CORPUS_DIR keeps the corpus that the run grows (default: a temporary
# directory, so that every run starts from the committed seeds); FUZZ_ARGS adds libFuzzer
# options.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# CARGO_FUZZ_VERSION: scripts/versions.env.
CARGO_FUZZ=$BENCH_CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION/bin/cargo-fuzz

runs=200000
time_s=
coverage=
while (($#)); do
	case $1 in
	--coverage) coverage=1; shift ;;
	--runs) runs=$2 time_s=; shift 2 ;;
	--time) time_s=$2 runs=; shift 2 ;;
	-h | --help) sed -n '3,28p' "$0"; exit 0 ;;
	--*) die "unknown option $1" ;;
	*) break ;;
	esac
done

FUZZ=$BENCH_ROOT/fuzz
all=()
for f in "$FUZZ"/fuzz_targets/*.rs; do
	all+=("$(basename "$f" .rs)")
done
(($#)) || set -- "${all[@]}"
for t in "$@"; do
	[[ -f $FUZZ/fuzz_targets/$t.rs ]] || die "no fuzz target $t (fuzz/fuzz_targets/)"
done

# cargo fuzz runs "cargo" from PATH: Debian's, next to $RUSTC, not rustup's.
PATH="$(dirname "$RUSTC"):$PATH"
export PATH RUSTC

if [[ ! -x $CARGO_FUZZ ]]; then
	step "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked \
		--root "$BENCH_CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION" >&2
fi

logs=$(mktemp -d)
corpus=${FUZZ_CORPUS_DIR:-$logs/corpus}
trap 'rm -rf "$logs"' EXIT

if [[ -n $coverage ]]; then
	# cargo fuzz coverage builds with -Cinstrument-coverage into target/ (of the current
	# directory), runs each target on its corpora and merges with llvm-profdata; llvm-cov
	# of the same LLVM version as rustc reports on src/spec/ only.
	llvm=/usr/lib/llvm-$("$RUSTC" -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')/bin
	[[ -x $llvm/llvm-cov ]] || die "no $llvm/llvm-cov (apt-get install ${llvm#/usr/lib/}; the name without /bin)"
	cov_bin=$BENCH_ROOT/target/x86_64-unknown-linux-gnu/coverage/x86_64-unknown-linux-gnu/release
	objects=()
	for t in "$@"; do
		step "fuzz: coverage of $t"
		dirs=("$FUZZ/corpus/$t")
		[[ -z ${FUZZ_CORPUS_DIR:-} || ! -d $FUZZ_CORPUS_DIR/$t ]] || dirs+=("$FUZZ_CORPUS_DIR/$t")
		(cd "$BENCH_ROOT" && "$CARGO_FUZZ" fuzz coverage --sanitizer none --llvm-path "$llvm" \
			"$t" "${dirs[@]}") >"$logs/cov-$t.log" 2>&1 || { cat "$logs/cov-$t.log" >&2; die "coverage of $t failed"; }
		objects+=(-object "$cov_bin/$t")
	done
	profiles=()
	for t in "$@"; do
		profiles+=("$FUZZ/coverage/$t/coverage.profdata")
	done
	"$llvm/llvm-profdata" merge -sparse "${profiles[@]}" -o "$FUZZ/coverage/all.profdata"
	"$llvm/llvm-cov" report --instr-profile "$FUZZ/coverage/all.profdata" "${objects[@]}" \
		--ignore-filename-regex='/(\.cargo|usr/src)/|fuzz_targets|fuzz_api'
	echo "# lines never reached: $llvm/llvm-cov show --instr-profile $FUZZ/coverage/all.profdata ${objects[*]} --ignore-filename-regex='/(\.cargo|usr/src)/|fuzz_targets|fuzz_api' | grep -E '^ *[0-9]+\| *0\|'"
	exit 0
fi

step "fuzz: building ${#all[@]} targets (cargo fuzz build --sanitizer none)"
# The build lives in the cache, so that a fresh clone (CI) does not compile libFuzzer again.
TARGET_DIR=$BENCH_CACHE/fuzz-target
if ! (cd "$BENCH_ROOT" && "$CARGO_FUZZ" fuzz build --sanitizer none --target-dir "$TARGET_DIR") \
	>"$logs/build.log" 2>&1; then
	cat "$logs/build.log" >&2
	die "cargo fuzz build failed"
fi
BIN=$TARGET_DIR/x86_64-unknown-linux-gnu/release

limit=(-runs="$runs")
[[ -z $time_s ]] || limit=(-max_total_time="$time_s")
# shellcheck disable=SC2206
extra=(${FUZZ_ARGS:-})

echo "1..$#"
failed=0 total=0 t0=$(date +%s)
for t in "$@"; do
	mkdir -p "$corpus/$t" "$FUZZ/artifacts/$t"
	start=$(date +%s)
	rc=0
	"$BIN/$t" "${limit[@]}" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$FUZZ/artifacts/$t/" "${extra[@]}" \
		"$corpus/$t" "$FUZZ/corpus/$t" >"$logs/$t.log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$logs/$t.log" | tail -1 |
		sed -E 's/cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)/edges=\1 features=\2 corpus=\3/')
	if ((rc == 0)); then
		echo "ok $t execs=${execs:-0} time=${secs}s $cov"
		total=$((total + ${execs:-0}))
	else
		failed=$((failed + 1))
		artifact=$(grep -o "Test unit written to .*" "$logs/$t.log" | tail -1 | sed 's/Test unit written to //')
		echo "not ok $t exit=$rc time=${secs}s artifact=${artifact:-none}"
		grep -E "panicked at|^[^ ].*(overflow|assert)" "$logs/$t.log" | head -5 | sed 's/^/# /'
		echo "# reproduce: $BIN/$t ${artifact:-ARTIFACT}"
	fi
done
echo "# fuzz: $(($# - failed)) ok, $failed not ok; $total executions in $(($(date +%s) - t0)) s"
((failed == 0))
