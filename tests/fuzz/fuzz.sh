#!/bin/sh
# fuzz.sh - build and run the fuzz targets (make fuzz, make fuzz-regress).
#
#   fuzz.sh build              build every target (make passes the environment below)
#   fuzz.sh run [TARGET...]    build, then fuzz each for FUZZ_SECONDS (default 10), from its
#                              seed corpus and regression inputs; fails on any crash
#   fuzz.sh regress [TARGET...]  build, then run each once over its corpus and regressions
#
# From make: FUZZ_CC (clang with -fsanitize=fuzzer, empty: skip), FUZZ_CPPFLAGS, FUZZ_SYSCONFDIR,
# FUZZ_RUNSTATEDIR, FUZZ_LOCALSTATEDIR (the configured paths),
# FUZZ_CFLAGS (the libraries' flags), FUZZ_LIBS, FUZZ_SRCS (the library's sources),
# FUZZ_SRCDIR (top source directory), FUZZ_BUILDDIR (where the objects and targets go).
# The library is compiled apart from the normal (gcc) build, with the sanitizers and
# libFuzzer's coverage instrumentation, into one static archive the targets link.
# AFL++: FUZZ_CC=afl-clang-fast (or afl-clang-lto) builds the same targets, whose
# -fsanitize=fuzzer link gives them AFL++'s driver: run them with afl-fuzz.
set -eu

TARGETS="judge rules settings state ctl ctfilter capture sync sets"
mode=${1:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && TARGETS="$*"
src=${FUZZ_SRCDIR:-.}
out=${FUZZ_BUILDDIR:-.}/tests/fuzz/build
seconds=${FUZZ_SECONDS:-10}

case $mode in
build|run|regress) ;;
*)
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac

if [ -z "${FUZZ_CC:-}" ]; then
	echo "fuzz: no clang with -fsanitize=fuzzer found by configure: fuzzing skipped" \
		"(Debian: apt-get install clang libclang-rt-dev, then ./configure again)"
	[ "$mode" = regress ] && exit 77
	exit 0
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS_F="-g -O1 -std=gnu11 $SAN ${FUZZ_CPPFLAGS:-} ${FUZZ_CFLAGS:-}"

build() {
	mkdir -p "$out/obj"
	objs=""
	changed=""
	for s in ${FUZZ_SRCS:-}; do
		case $s in *.c) ;; *) continue ;; esac
		o=$out/obj/$(basename "$s" .c).o
		objs="$objs $o"
		# rebuild when the source or any header is newer than the object
		if [ ! -e "$o" ] || [ "$src/$s" -nt "$o" ] ||
			[ -n "$(find "$src/include" "$src/src" -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
			echo "  FUZZCC   $s"
			# shellcheck disable=SC2086
			$FUZZ_CC $CFLAGS_F -fsanitize=fuzzer-no-link \
				-DSYSCONFDIR="\"${FUZZ_SYSCONFDIR:-/etc}\"" -DRUNSTATEDIR="\"${FUZZ_RUNSTATEDIR:-/run}\"" \
				-DLOCALSTATEDIR="\"${FUZZ_LOCALSTATEDIR:-/var}\"" -c "$src/$s" -o "$o"
			changed=1
		fi
	done
	lib=$out/libnfqct-fuzz.a
	if [ -n "$changed" ] || [ ! -e "$lib" ]; then
		rm -f "$lib"
		# shellcheck disable=SC2086
		ar cr "$lib" $objs
	fi
	for t in $TARGETS; do
		bin=$out/fuzz_$t
		if [ ! -e "$bin" ] || [ "$lib" -nt "$bin" ] || [ "$src/tests/fuzz/fuzz_$t.c" -nt "$bin" ] ||
			[ "$src/tests/fuzz/fuzz.h" -nt "$bin" ]; then
			echo "  FUZZLD   tests/fuzz/fuzz_$t"
			# shellcheck disable=SC2086
			$FUZZ_CC $CFLAGS_F -fsanitize=fuzzer -I"$src/tests/fuzz" \
				"$src/tests/fuzz/fuzz_$t.c" "$lib" ${FUZZ_LIBS:-} -o "$bin"
		fi
	done
}

# the seed corpus and the regression inputs of @1, as directories that exist
inputs() {
	for d in "$src/tests/fuzz/corpus/$1" "$src/tests/fuzz/regress/$1"; do
		[ -d "$d" ] && printf '%s\n' "$d"
	done
}

dict() {
	[ -f "$src/tests/fuzz/$1.dict" ] && printf '%s\n' "-dict=$src/tests/fuzz/$1.dict"
	return 0
}

# One line per run for README's table: executions, exec/s, coverage (libFuzzer's
# cov: edges, ft: features) and crashes.
summary() {
	awk -v t="$1" '
		/^stat::number_of_executed_units:/ { runs = $2 }
		/^stat::average_exec_per_sec:/ { eps = $2 }
		/ cov: / { for (i = 1; i < NF; i++) { if ($i == "cov:") cov = $(i + 1); if ($i == "ft:") ft = $(i + 1) } }
		/^==[0-9]+==ERROR|^SUMMARY: |deadly signal|property violated/ { crash = 1 }
		END { printf "fuzz: %s: %s executions, %s exec/s, cov %s, ft %s, crashes %d\n", t, runs, eps, cov, ft, crash }
	' "$2"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case $mode in
build)
	build
	;;
run)
	build
	fail=0
	for t in $TARGETS; do
		work=$out/work/$t
		mkdir -p "$work/corpus" "$work/crashes"
		echo "fuzz: $t for ${seconds}s"
		# new inputs go to the work corpus (never into the source tree).
		# -detect_leaks=0: the table frees entries through call_rcu(), after the
		# input's run, which libFuzzer's per-input leak check would take for a
		# leak and scan the heap for; ASan's check at exit stays on.
		# shellcheck disable=SC2046
		if ! (cd "$work" && "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
			-print_final_stats=1 -artifact_prefix="$work/crashes/" $(dict "$t") \
			corpus $(inputs "$t")) >"$work/log" 2>&1; then
			echo "fuzz: $t FAILED: see $work/log; the input is in $work/crashes/" >&2
			tail -n 40 "$work/log" >&2
			fail=1
		fi
		summary "$t" "$work/log"
	done
	exit $fail
	;;
regress)
	build
	fail=0
	for t in $TARGETS; do
		files=$(for d in $(inputs "$t"); do find "$d" -type f; done)
		[ -n "$files" ] || continue
		n=$(printf '%s\n' "$files" | wc -l)
		# shellcheck disable=SC2086
		if "$out/fuzz_$t" -runs=0 $files >"$out/regress-$t.log" 2>&1; then
			echo "PASS: fuzz_$t over $n inputs"
		else
			echo "FAIL: fuzz_$t: see $out/regress-$t.log" >&2
			tail -n 40 "$out/regress-$t.log" >&2
			fail=1
		fi
	done
	exit $fail
	;;
esac
