/*
 * state.h - the connection table on disk: what lets flows survive a
 * restart, a crash (up to one save interval lost) and an upgrade.
 *
 * Format, version 1 (every integer big-endian, so a file moves between
 * machines):
 *
 *   header   32 bytes: magic "NFQCTST\0", u32 version, u32 header length
 *            (32), u64 wall-clock time of the save (CLOCK_REALTIME, ms),
 *            u64 reserved (0)
 *   records  u16 type, u16 length, then that many bytes of value.  Type 1
 *            is an entry whose value is itself a list of attributes in the
 *            same TLV shape (NFQCT_STATE_A_*); unknown record types and
 *            unknown attributes are skipped, so a later minor addition
 *            (sets, recent lists) does not need a new version.  The same
 *            encoding is meant for the HA sync messages: one encoder.
 *   trailer  record type 0xffff, length 12: u64 number of entries, u32
 *            CRC-32 (IEEE) of every byte of the file before the CRC.
 *
 * Time: an entry stores its lifetime left at the save (never an absolute
 * CLOCK_MONOTONIC value, which restarts at boot), and the header the
 * wall-clock time of the save; at load the time the daemon was down (wall
 * clock now minus then; 0 if the clock went backwards) is taken off every
 * lifetime, and what has expired is dropped.
 *
 * Loading is all or nothing: the whole file is checked (magic, version,
 * CRC, every record and attribute in range) before a single entry goes
 * into the table.  Not saved: expectations and the FTP helper's per-flow
 * parse state (an FTP control connection survives, a pending data
 * connection of the moment does not).
 *
 * Functions return 0 or -errno and log nothing; where a file is refused,
 * *@why gets a static string saying why.
 */
#ifndef NFQCT_STATE_H
#define NFQCT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqct/ct.h"

#define NFQCT_STATE_VERSION	1
#define NFQCT_STATE_HDR_LEN	32
#define NFQCT_STATE_TRAILER_LEN	16
/* Larger files are refused unread (-EFBIG): 1M entries take about 150 MB. */
#define NFQCT_STATE_MAX_BYTES	(2048ULL << 20)

/* Record types. */
enum {
	NFQCT_STATE_R_ENTRY	= 1,
	NFQCT_STATE_R_END	= 0xffff,
};

/* Attributes of an entry record. */
enum {
	NFQCT_STATE_A_TUPLE	= 1,	/* u8 family, u8 proto, 16 src, 16 dst, 2 sport, 2 dport
					 * (ports and ICMP id/type/code as on the wire) */
	NFQCT_STATE_A_ZONE	= 2,	/* u16; absent: 0 */
	NFQCT_STATE_A_FLAGS	= 3,	/* u16 enum nfqct_ct_entry_flags */
	NFQCT_STATE_A_MARK	= 4,	/* u32; absent: 0 */
	NFQCT_STATE_A_TIMEOUT	= 5,	/* u64 ms left at the save */
	NFQCT_STATE_A_COUNTERS	= 6,	/* u64 packets[2], bytes[2] */
	NFQCT_STATE_A_HELPER	= 7,	/* u8 helper, u8 master's helper; absent: 0, 0 */
	NFQCT_STATE_A_TCP	= 8,	/* struct nfqct_tcp_state, field by field */
	NFQCT_STATE_A_SCTP	= 9,	/* struct nfqct_sctp_state, field by field */
	NFQCT_STATE_A_UDP	= 10,	/* u64 ms left until the UDP stream rule applies */
};

/* A growing byte buffer. */
struct nfqct_state_buf {
	uint8_t *data;
	size_t len, cap;
};

/* nfqct_state_buf_free - free @b's bytes; @b may be reused after. */
void nfqct_state_buf_free(struct nfqct_state_buf *b);

/* What the header and trailer of a valid file say. */
struct nfqct_state_info {
	uint32_t version;
	uint64_t saved_wall_ms;		/* CLOCK_REALTIME ms of the save */
	uint64_t entries;
	uint64_t bytes;			/* file size */
};

/* What a load did with the entries of a valid file. */
struct nfqct_state_load_stats {
	uint64_t entries;		/* in the file */
	uint64_t loaded;		/* now in the table */
	uint64_t expired;		/* lifetime used up while the daemon was down */
	uint64_t exists;		/* a live entry held the tuple (no --replace) */
	uint64_t full;			/* refused: nf_conntrack_max reached */
	uint64_t failed;		/* no memory, or a worker inserting that tuple */
	uint64_t downtime_ms;		/* taken off every lifetime */
	bool clock_backwards;		/* the wall clock is before the save: downtime 0 */
};

/*
 * nfqct_state_encode - append the whole file for @ct to @out (empty it
 * first): every live entry at @now_ms (the table's clock), the save time
 * @wall_ms.  RCU reader, for the length of the table walk.  Returns 0 or
 * -ENOMEM (out->len is then back where it was).
 */
int nfqct_state_encode(struct nfqct_ct *ct, uint64_t now_ms, uint64_t wall_ms,
		       struct nfqct_state_buf *out);

/*
 * nfqct_state_write - write @len bytes to @path atomically: PATH.tmp,
 * fsync, rename, fsync of the directory; creates the directory (mode 0700)
 * when it is missing (its parent must exist).  The file is mode 0600.
 * Not an RCU reader: call it offline, it blocks on the disk.  Returns 0 or
 * -errno; the previous file stays as it was on failure.
 */
int nfqct_state_write(const char *path, const void *data, size_t len);

/*
 * nfqct_state_read - the file's bytes into a new buffer @out.  Returns 0,
 * -ENOENT, -EFBIG (larger than NFQCT_STATE_MAX_BYTES), or -errno.
 */
int nfqct_state_read(const char *path, struct nfqct_state_buf *out);

/*
 * nfqct_state_check - validate @len bytes of a state file, every record
 * and attribute included; fills @info (may be NULL).  Returns 0,
 * -EBADMSG (not a state file, truncated, CRC mismatch, a record or value
 * out of range: *@why says which) or -EPROTONOSUPPORT (another version).
 */
int nfqct_state_check(const void *data, size_t len, struct nfqct_state_info *info,
		      const char **why);

/*
 * nfqct_state_apply - check @data (as nfqct_state_check; nothing is
 * inserted from a file that fails), then import every entry whose
 * lifetime outlasts the downtime (@wall_ms - the save's) into @ct at
 * @now_ms, as nfqct_ct_import() with @ct_max and @replace.  Fills @ls.
 * RCU reader.  Returns 0 (even when some entries were refused: see @ls)
 * or the error of nfqct_state_check().
 */
int nfqct_state_apply(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const void *data, size_t len,
		      uint64_t now_ms, uint64_t wall_ms, uint32_t ct_max, bool replace,
		      struct nfqct_state_load_stats *ls, const char **why);


/* nfqct_state_strerror - a short text for a return value of this module. */
const char *nfqct_state_strerror(int err);

#endif
