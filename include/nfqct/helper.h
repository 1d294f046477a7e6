/*
 * helper.h - conntrack helpers: the FTP and TFTP parsers, pure functions.
 *
 * A helper reads the payload of packets of a connection it was assigned
 * to (explicitly, by `-j CT --helper NAME` in the raw table, as the
 * kernel's default nf_conntrack_helper=0) and asks for an expectation: a
 * flow that will come and must be RELATED to the master connection.  These
 * functions only parse; the table (ct.c) keeps the per-connection state,
 * runs them under its helper lock and registers what they ask for
 * (expect.h).  Semantics are the kernel's nf_conntrack_ftp.c (help(),
 * find_pattern(), try_rfc959(), try_rfc1123(), try_eprt(),
 * try_epsv_response(), find_nl_seq(), update_nl_seq()) and
 * nf_conntrack_tftp.c (tftp_help()).
 */
#ifndef NFQCT_HELPER_H
#define NFQCT_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqct/pkt.h"

enum nfqct_helper_id {
	NFQCT_HELPER_NONE,
	NFQCT_HELPER_FTP,
	NFQCT_HELPER_TFTP,
	NFQCT_HELPER_MAX,
};

/* Expectation lifetime and per-master limit of both helpers (the kernel's
 * ftp_exp_policy / tftp_exp_policy: max_expected 1, timeout 5 * 60 s). */
#define NFQCT_HELPER_EXPECT_TIMEOUT_S	300u
#define NFQCT_HELPER_MAX_EXPECTED	1u

/* nfqct_helper_name - "ftp", "tftp", or NULL for NONE and unknown ids. */
const char *nfqct_helper_name(unsigned int id);

/* nfqct_helper_find - the id of helper @name (exact, as xt_CT), or -ENOENT. */
int nfqct_helper_find(const char *name);

/* nfqct_helper_proto - the L4 protocol a helper works on (IPPROTO_TCP / UDP), 0 for none. */
uint8_t nfqct_helper_proto(unsigned int id);

/* What an FTP command or reply announces. */
enum nfqct_ftp_type {
	NFQCT_FTP_PORT,		/* client: PORT h1,h2,h3,h4,p1,p2 */
	NFQCT_FTP_EPRT,		/* client: EPRT |1|addr|port| or |2|addr6|port| */
	NFQCT_FTP_PASV,		/* server: 227 ... h1,h2,h3,h4,p1,p2 */
	NFQCT_FTP_EPSV,		/* server: 229 ... (|||port|) */
};

struct nfqct_ftp_cmd {
	uint8_t type;		/* enum nfqct_ftp_type */
	union nfqct_addr addr;	/* the address announced (EPSV: the sender's, as given) */
	uint16_t port;		/* network order */
	unsigned int off;	/* where the numbers start in the payload */
	unsigned int len;	/* their length */
};

/*
 * nfqct_ftp_parse - look for a command (@reply false: PORT, EPRT, case
 * insensitive) or a reply (@reply true: "227 ", "229 ") at the start of
 * @data (@len bytes), for a connection of @family (AF_INET / AF_INET6).
 * cmd->addr starts as *@sender (the packet's source), which an EPSV reply
 * leaves unchanged.  EPRT must name the connection's own family.
 * Returns 1 and fills @cmd on a match, 0 when the payload is none of
 * these, -1 when it starts like one but is cut or malformed ("partial":
 * the kernel drops such a packet).  Lines are not reassembled across
 * segments, as in the kernel: the numbers must be in this payload.
 */
int nfqct_ftp_parse(const char *data, size_t len, bool reply, uint8_t family,
		    const union nfqct_addr *sender, struct nfqct_ftp_cmd *cmd);

/* Per-connection FTP state: sequence numbers just after a '\n' in each
 * direction (the kernel's nf_ct_ftp_master, NUM_SEQ_TO_REMEMBER 2). */
struct nfqct_ftp_state {
	uint32_t seq_aft_nl[2][2];
	uint8_t seq_aft_nl_num[2];
};

/* What a helper asks the table to do with a packet. */
enum nfqct_help_verdict {
	NFQCT_HELP_ACCEPT,	/* nothing more */
	NFQCT_HELP_EXPECT,	/* register the expectation in *exp, drop the packet if that fails */
	NFQCT_HELP_DROP,	/* drop the packet (a partial FTP command) */
};

/* An expectation as a helper asks for it: the flow's tuple, any source port. */
struct nfqct_help_expect {
	struct nfqct_tuple tuple;	/* sp.port is 0 (wildcard) */
};

/*
 * nfqct_ftp_help - one packet (@pkt, a TCP packet of an FTP control
 * connection in ESTABLISHED state, direction @reply), with the
 * connection's state @st.  Parses only
 * payloads that start right after a '\n' seen before in the same
 * direction (find_nl_seq), and remembers where the next line starts when
 * the payload ends in '\n'.  An address in PORT/EPRT/227 other than the
 * sender's is not expected (the kernel's default, loose=0).  A payload cut
 * by the queue's copy range is not parsed (it is accepted).
 * Returns an enum nfqct_help_verdict; fills @exp for NFQCT_HELP_EXPECT:
 * from the receiver of this packet, any port, to the announced port of
 * the sender.
 */
int nfqct_ftp_help(struct nfqct_ftp_state *st, const struct nfqct_pkt *pkt, bool reply,
		   struct nfqct_help_expect *exp);

/*
 * nfqct_tftp_help - a UDP packet of a TFTP connection: a read or write
 * request (opcode 1 or 2) expects the server's answer from any port to the
 * client's port (the reply tuple with a wildcard source port).
 */
int nfqct_tftp_help(const struct nfqct_pkt *pkt, const struct nfqct_tuple *orig,
		    struct nfqct_help_expect *exp);

#endif
