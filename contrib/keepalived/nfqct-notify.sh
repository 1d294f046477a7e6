#!/bin/sh
# nfqct-notify.sh - keepalived's notify script for a pair of nfqctd firewalls that
# replicate their tables (nfqct.sync_mode), modelled on conntrackd's primary-backup.sh.
#
#   notify_master "/etc/nfqct/nfqct-notify.sh primary"
#   notify_backup "/etc/nfqct/nfqct-notify.sh backup"
#   notify_fault  "/etc/nfqct/nfqct-notify.sh fault"
#
# primary  commit the peer's flows (the external cache) into the live table, then send
#          our whole table to the peer: `nfqct ha primary` does both, in that order
# backup   keep the peer's flows aside and ask it for its whole table (`nfqct ha backup`)
# fault    stop sending (`nfqct ha fault`)
#
# NFQCT (default: nfqct from PATH) and NFQCT_STATDIR (default /run/nfqct, nfqctd -s) may
# be set in the environment; keepalived passes its own, so edit the defaults here when
# the daemon runs with another stat directory.
NFQCT=${NFQCT:-nfqct}
NFQCT_STATDIR=${NFQCT_STATDIR:-/run/nfqct}

case "$1" in
primary|backup|fault)
	if ! out=$("$NFQCT" -s "$NFQCT_STATDIR" ha "$1" 2>&1); then
		logger -t nfqct-notify "ERROR: nfqct ha $1 failed: $out"
		exit 1
	fi
	logger -t nfqct-notify "$out"
	;;
*)
	logger -t nfqct-notify "ERROR: unknown state '$1' (expected primary, backup or fault)"
	echo "usage: $0 primary|backup|fault" >&2
	exit 1
	;;
esac
exit 0
