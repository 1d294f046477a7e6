#!/usr/bin/env bash
# The differential harness tested on itself: tests/netns/rules-diff.sh --self-test runs the
# handmade rulesets of tests/corpus/ (kernel and nfqctd must agree) and then gives nfqctd a
# copy of one of them with two rules swapped, which the harness must report as a difference.
exec bash "$(dirname "$0")/rules-diff.sh" --self-test
