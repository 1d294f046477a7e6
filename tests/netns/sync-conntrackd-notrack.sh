#!/usr/bin/env bash
# sync-conntrackd.sh with both sides in NOTRACK mode (fire and forget) instead of FTFW.
SYNC_TEST_MODE=notrack exec bash "$(dirname "$0")/sync-conntrackd.sh" "$@"
