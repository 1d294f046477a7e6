/*
 * helper.c - the FTP and TFTP parsers (helper.h).
 *
 * Written from the semantics of the kernel's nf_conntrack_ftp.c and
 * nf_conntrack_tftp.c: the same patterns, the same tolerance (227 replies
 * scanned for the first digit, RFC 1123), the same refusals (EPRT of the
 * other family, an address other than the sender's), and the same
 * "partial" outcome that makes the kernel drop a packet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "nfqct/helper.h"

static const char *const helper_names[NFQCT_HELPER_MAX] = {
	[NFQCT_HELPER_FTP] = "ftp",
	[NFQCT_HELPER_TFTP] = "tftp",
};

const char *nfqct_helper_name(unsigned int id)
{
	return id < NFQCT_HELPER_MAX ? helper_names[id] : NULL;
}

int nfqct_helper_find(const char *name)
{
	for (unsigned int i = NFQCT_HELPER_NONE + 1; i < NFQCT_HELPER_MAX; i++)
		if (!strcmp(name, helper_names[i]))
			return (int)i;
	return -ENOENT;
}

uint8_t nfqct_helper_proto(unsigned int id)
{
	switch (id) {
	case NFQCT_HELPER_FTP:	return IPPROTO_TCP;
	case NFQCT_HELPER_TFTP:	return IPPROTO_UDP;
	default:		return 0;
	}
}

/* ---- FTP ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * @n numbers separated by @sep, ended by @term (0: by anything else).
 * Returns the characters read before the terminator, 0 when the numbers
 * are not all there and terminated within @dlen (try_number).
 */
static size_t numbers(const char *d, size_t dlen, uint32_t *v, unsigned int n, char sep, char term)
{
	unsigned int i = 0;
	size_t len;

	memset(v, 0, n * sizeof(*v));
	for (len = 0; len < dlen && i < n; len++) {
		if (is_digit(d[len]))
			v[i] = v[i] * 10 + (uint32_t)(d[len] - '0');
		else if (d[len] == sep)
			i++;
		else
			return ((d[len] == term || !term) && i == n - 1) ? len : 0;
	}
	return 0;
}

/* h1,h2,h3,h4,p1,p2 (try_rfc959): the address goes in the first four bytes. */
static size_t get_rfc959(const char *d, size_t dlen, struct nfqct_ftp_cmd *cmd, char term)
{
	uint32_t v[6];
	size_t len = numbers(d, dlen, v, 6, ',', term);

	if (!len)
		return 0;
	cmd->addr.ip = htonl((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]);
	cmd->port = htons((uint16_t)((v[4] << 8) | v[5]));
	return len;
}

/* 227: the reply's form is not standard; numbers start at the first digit (try_rfc1123). */
static size_t get_rfc1123(const char *d, size_t dlen, struct nfqct_ftp_cmd *cmd, char term,
			  unsigned int *off)
{
	size_t i;

	(void)term;
	for (i = 0; i < dlen && !is_digit(d[i]); i++)
		;
	if (i == dlen)
		return 0;
	*off += (unsigned int)i;
	return get_rfc959(d + i, dlen - i, cmd, 0);
}

/* A port up to @delim, from @start; returns the index after @delim, 0 on error (get_port). */
static size_t get_port(const char *d, size_t start, size_t dlen, char delim, uint16_t *port)
{
	uint16_t p = 0;

	for (size_t i = start; i < dlen; i++) {
		if (d[i] == delim) {
			if (p == 0)
				return 0;
			*port = htons(p);
			return i + 1;
		}
		if (!is_digit(d[i]))
			return 0;
		p = (uint16_t)(p * 10 + (d[i] - '0'));	/* wraps, as the kernel's u16 */
	}
	return 0;
}

static bool bad_delim(char c)
{
	return is_digit(c) || c < 33 || c > 126;
}

/* |1|a.b.c.d|port| or |2|addr6|port| (try_eprt) */
static size_t get_eprt(const char *d, size_t dlen, struct nfqct_ftp_cmd *cmd, uint8_t family)
{
	char delim, buf[INET6_ADDRSTRLEN];
	size_t len = 0;

	if (dlen <= 3)
		return 0;
	delim = d[0];
	if (bad_delim(delim) || d[2] != delim)
		return 0;
	if ((family == AF_INET && d[1] != '1') || (family == AF_INET6 && d[1] != '2'))
		return 0;
	if (d[1] == '1') {
		uint32_t v[4];

		len = numbers(d + 3, dlen - 3, v, 4, '.', delim);
		if (len)
			cmd->addr.ip = htonl((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]);
	} else {
		/* the address up to the delimiter (in6_pton with @delim as end) */
		while (3 + len < dlen && d[3 + len] != delim && len < sizeof(buf) - 1)
			len++;
		if (3 + len >= dlen || d[3 + len] != delim)
			return 0;
		memcpy(buf, d + 3, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &cmd->addr) != 1)
			return 0;
	}
	if (!len)
		return 0;
	return get_port(d, 3 + len + 1, dlen, delim, &cmd->port);
}

/* (|||port|) (try_epsv_response): the address stays the sender's. */
static size_t get_epsv(const char *d, size_t dlen, struct nfqct_ftp_cmd *cmd)
{
	char delim;

	if (dlen <= 3)
		return 0;
	delim = d[0];
	if (bad_delim(delim) || d[1] != delim || d[2] != delim)
		return 0;
	return get_port(d, 3, dlen, delim, &cmd->port);
}

/* One pattern of the kernel's search[][] table; returns 1, 0 or -1 (find_pattern). */
static int find_pattern(const char *d, size_t dlen, const char *pat, char skip, uint8_t type,
			uint8_t family, struct nfqct_ftp_cmd *cmd)
{
	size_t plen = strlen(pat), i = plen, n = 0;
	unsigned int off;

	if (dlen <= plen)
		return strncasecmp(d, pat, dlen) == 0 ? -1 : 0;
	if (strncasecmp(d, pat, plen) != 0)
		return 0;
	if (skip) {
		for (i = plen; d[i] != skip; i++)
			if (i == dlen - 1)
				return -1;
		i++;
	}
	off = (unsigned int)i;
	switch (type) {
	case NFQCT_FTP_PORT:
		n = get_rfc959(d + i, dlen - i, cmd, '\r');
		break;
	case NFQCT_FTP_EPRT:
		n = get_eprt(d + i, dlen - i, cmd, family);
		break;
	case NFQCT_FTP_PASV:
		n = get_rfc1123(d + i, dlen - i, cmd, ')', &off);
		break;
	case NFQCT_FTP_EPSV:
		n = get_epsv(d + i, dlen - i, cmd);
		break;
	}
	if (!n)
		return -1;
	cmd->type = type;
	cmd->off = off;
	cmd->len = (unsigned int)n;
	return 1;
}

int nfqct_ftp_parse(const char *data, size_t len, bool reply, uint8_t family,
		    const union nfqct_addr *sender, struct nfqct_ftp_cmd *cmd)
{
	static const struct {
		const char *pat;
		char skip;
		uint8_t type;
	} search[2][2] = {
		{ { "PORT", ' ', NFQCT_FTP_PORT }, { "EPRT", ' ', NFQCT_FTP_EPRT } },
		{ { "227 ", 0, NFQCT_FTP_PASV }, { "229 ", '(', NFQCT_FTP_EPSV } },
	};
	int found = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (!len)
		return 0;
	for (unsigned int i = 0; i < 2 && !found; i++) {
		cmd->addr = *sender;
		found = find_pattern(data, len, search[reply][i].pat, search[reply][i].skip,
				     search[reply][i].type, family, cmd);
	}
	return found;
}

/* Serial-number arithmetic on TCP sequence numbers (before()). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool find_nl_seq(const struct nfqct_ftp_state *st, uint32_t seq, unsigned int dir)
{
	for (unsigned int i = 0; i < st->seq_aft_nl_num[dir]; i++)
		if (st->seq_aft_nl[dir][i] == seq)
			return true;
	return false;
}

/* Remember @seq as a line start; with two remembered, replace the older if @seq is newer. */
static void update_nl_seq(struct nfqct_ftp_state *st, uint32_t seq, unsigned int dir)
{
	unsigned int oldest;

	if (find_nl_seq(st, seq, dir))
		return;
	if (st->seq_aft_nl_num[dir] < 2) {
		st->seq_aft_nl[dir][st->seq_aft_nl_num[dir]++] = seq;
		return;
	}
	oldest = seq_before(st->seq_aft_nl[dir][0], st->seq_aft_nl[dir][1]) ? 0 : 1;
	if (seq_before(st->seq_aft_nl[dir][oldest], seq))
		st->seq_aft_nl[dir][oldest] = seq;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int nfqct_ftp_help(struct nfqct_ftp_state *st, const struct nfqct_pkt *pkt, bool reply,
		   struct nfqct_help_expect *exp)
{
	unsigned int dir = reply ? 1 : 0;
	struct nfqct_ftp_cmd cmd;
	uint32_t doff, dlen, seq;
	const char *data;
	bool ends_in_nl;
	int found, ret = NFQCT_HELP_ACCEPT;

	if (!pkt->l4 || pkt->tuple.proto != IPPROTO_TCP || pkt->l4caplen < 20)
		return NFQCT_HELP_ACCEPT;
	doff = (uint32_t)(pkt->l4[12] >> 4) * 4u;
	if (doff >= pkt->l4len)
		return NFQCT_HELP_ACCEPT;	/* no data */
	dlen = pkt->l4len - doff;
	if (pkt->l4caplen < pkt->l4len)
		return NFQCT_HELP_ACCEPT;	/* cut by the copy range: cannot read it */
	data = (const char *)pkt->l4 + doff;
	ends_in_nl = data[dlen - 1] == '\n';
	seq = get_be32(pkt->l4 + 4);

	if (!find_nl_seq(st, seq, dir))
		goto update_nl;		/* not at a line start: not a command */

	found = nfqct_ftp_parse(data, dlen, reply, pkt->tuple.family, &pkt->tuple.src, &cmd);
	if (found < 0)
		return NFQCT_HELP_DROP;	/* partial: the kernel drops it, line state kept */
	if (found == 0)
		goto update_nl;
	/* An address other than the sender's is not expected (loose=0). */
	if (memcmp(&cmd.addr, &pkt->tuple.src, sizeof(cmd.addr)) != 0)
		goto update_nl;

	memset(exp, 0, sizeof(*exp));
	exp->tuple.family = pkt->tuple.family;
	exp->tuple.proto = IPPROTO_TCP;
	exp->tuple.src = pkt->tuple.dst;	/* from the receiver of this line */
	exp->tuple.dst = pkt->tuple.src;	/* to the port the sender announced */
	exp->tuple.dp.port = cmd.port;
	ret = NFQCT_HELP_EXPECT;
update_nl:
	if (ends_in_nl)
		update_nl_seq(st, seq + dlen, dir);
	return ret;
}

/* ---- TFTP ---- */

int nfqct_tftp_help(const struct nfqct_pkt *pkt, const struct nfqct_tuple *orig,
		    struct nfqct_help_expect *exp)
{
	unsigned int opcode;

	if (!pkt->l4 || pkt->l4caplen < 8 + 2)
		return NFQCT_HELP_ACCEPT;
	opcode = (unsigned int)pkt->l4[8] << 8 | pkt->l4[9];
	if (opcode != 1 && opcode != 2)		/* RRQ, WRQ */
		return NFQCT_HELP_ACCEPT;
	/* the reply tuple, from any port of the server */
	memset(exp, 0, sizeof(*exp));
	exp->tuple.family = orig->family;
	exp->tuple.proto = IPPROTO_UDP;
	exp->tuple.src = orig->dst;
	exp->tuple.dst = orig->src;
	exp->tuple.dp.port = orig->sp.port;
	return NFQCT_HELP_EXPECT;
}
