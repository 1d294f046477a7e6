/*
 * ctfilter.h - conntrack(8)'s filters and output options for `nfqct list`,
 * `count`, `delete`, `update` (and later `events`): one parser for the
 * client (validation, error messages) and the daemon (the same text comes
 * over the control socket), and the match the daemon runs while it walks
 * the table, so that a large table is never sent whole to be filtered.
 *
 * Syntax (conntrack(8) names; an option's value is the next word):
 *   -f, --family ipv4|ipv6        -p, --proto NAME|NUMBER
 *   -s, --src, --orig-src ADDR[/PLEN]   -d, --dst, --orig-dst ADDR[/PLEN]
 *   -r, --reply-src ADDR[/PLEN]         -q, --reply-dst ADDR[/PLEN]
 *   --sport, --orig-port-src PORT       --dport, --orig-port-dst PORT
 *   --reply-port-src PORT               --reply-port-dst PORT
 *   --state STATE[,STATE...]      (needs -p tcp or -p sctp)
 *   -u, --status ASSURED|SEEN_REPLY|UNSET[,...]
 *   -w, --zone N                  -m, --mark VALUE[/MASK]
 *   -o, --output extended|id|json[,...]   (list, delete, update)
 *   --all                         (delete, update: no filter on purpose)
 *   update only: --mark VALUE[/MASK] is the new mark, not a filter.
 * Values are checked (addresses, ports 0-65535, numbers), and so
 * are contradictions: an address of the other family, ports on a protocol
 * without ports, --state on a protocol without states, a mark value with
 * bits outside its mask, an option given twice.
 */
#ifndef NFQCT_CTFILTER_H
#define NFQCT_CTFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nfqct/ct.h"
#include "nfqct/pkt.h"

/* Which members of struct nfqct_ctfilter are set. */
enum nfqct_ctf_field {
	NFQCT_CTF_FAMILY	= 1 << 0,
	NFQCT_CTF_PROTO		= 1 << 1,
	NFQCT_CTF_SRC		= 1 << 2,	/* addr[0]: original source */
	NFQCT_CTF_DST		= 1 << 3,	/* addr[1]: original destination */
	NFQCT_CTF_RSRC		= 1 << 4,	/* addr[2]: reply source */
	NFQCT_CTF_RDST		= 1 << 5,	/* addr[3]: reply destination */
	NFQCT_CTF_SPORT		= 1 << 6,	/* port[0] ... */
	NFQCT_CTF_DPORT		= 1 << 7,
	NFQCT_CTF_RSPORT	= 1 << 8,
	NFQCT_CTF_RDPORT	= 1 << 9,	/* ... port[3] */
	NFQCT_CTF_STATE		= 1 << 10,
	NFQCT_CTF_STATUS	= 1 << 11,
	NFQCT_CTF_ZONE		= 1 << 12,
	NFQCT_CTF_MARK		= 1 << 13,
};

/* -u bits (the kernel's IPS_* that the table keeps) */
enum nfqct_ctf_status {
	NFQCT_CTF_ST_SEEN_REPLY	= 1 << 0,
	NFQCT_CTF_ST_ASSURED	= 1 << 1,
	NFQCT_CTF_ST_UNSET	= 1 << 2,	/* neither of the above */
};

/* -o bits */
enum nfqct_ctf_output {
	NFQCT_CTF_OUT_EXTENDED	= 1 << 0,	/* "ipv4     2 " before each line */
	NFQCT_CTF_OUT_ID	= 1 << 1,	/* " id=N" after use= */
	NFQCT_CTF_OUT_JSON	= 1 << 2,	/* one JSON object a line */
};

#define NFQCT_CTF_MAX_STATES 10

struct nfqct_ctf_addr {
	union nfqct_addr a;	/* masked to plen */
	uint8_t plen;		/* prefix length: 32/128 for one address */
};

struct nfqct_ctfilter {
	unsigned int set;		/* enum nfqct_ctf_field bits */
	uint8_t family;			/* AF_INET, AF_INET6 */
	uint8_t proto;
	struct nfqct_ctf_addr addr[4];
	uint16_t port[4];		/* host order */
	uint8_t nstates;
	const char *states[NFQCT_CTF_MAX_STATES];	/* static names, as state_name prints */
	unsigned int status;		/* enum nfqct_ctf_status bits, all required */
	uint16_t zone;
	uint32_t mark, mark_mask;
};

enum nfqct_ctcmd_kind {
	NFQCT_CTCMD_LIST,
	NFQCT_CTCMD_COUNT,
	NFQCT_CTCMD_DELETE,
	NFQCT_CTCMD_UPDATE,
};

/* A whole table command: its kind, filter, output and what it changes. */
struct nfqct_ctcmd {
	enum nfqct_ctcmd_kind kind;
	struct nfqct_ctfilter f;
	unsigned int output;		/* enum nfqct_ctf_output bits */
	bool all;			/* --all */
	bool set_mark;			/* update: --mark given */
	uint32_t new_mark, new_mask;	/* update: mark = (mark & ~mask) | new_mark */
};

/*
 * nfqct_ctcmd_parse - parse @argv[0..@argc-1]: argv[0] the command ("list",
 * "count", "delete", "update"), then its options.  Returns 0, or -EINVAL
 * with one message naming the bad word in @err (no "nfqct: " prefix).
 * Refuses delete and update without a filter and without --all, update
 * without --mark, -o on count.
 */
int nfqct_ctcmd_parse(int argc, char **argv, struct nfqct_ctcmd *cmd, char *err, size_t errlen);

/*
 * nfqct_ctcmd_format - the canonical text of @cmd, words separated by one
 * blank, that nfqct_ctcmd_parse() reads back into an equal command.
 * Returns the length, or -ENOSPC when @len is too small.
 */
int nfqct_ctcmd_format(const struct nfqct_ctcmd *cmd, char *buf, size_t len);

/* nfqct_ctfilter_match - does the snapshot @ci pass @f?  (No filter: yes.) */
bool nfqct_ctfilter_match(const struct nfqct_ctfilter *f, const struct nfqct_ct_info *ci);

/*
 * nfqct_ctfilter_print - one entry as `conntrack -L -o @output` prints it,
 * with its newline; JSON: one object a line, keys documented in nfqct(8).
 * @id is the entry's id (nfqct_ct_id).
 */
void nfqct_ctfilter_print(FILE *out, const struct nfqct_ct_info *ci, uint32_t id, uint64_t now_ms,
			  unsigned int output);

#endif
