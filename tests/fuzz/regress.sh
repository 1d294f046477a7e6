#!/bin/sh
# regress.sh - `make check`'s fuzz pass: every target once over its seed corpus and its
# regression inputs (tests/fuzz/regress/TARGET/, one file per crash ever found).
# Skipped (77) when configure found no clang with libFuzzer.
exec "${SHELL:-/bin/sh}" "${FUZZ_SRCDIR:-$(dirname "$0")/../..}/tests/fuzz/fuzz.sh" regress
