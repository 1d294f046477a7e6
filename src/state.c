/*
 * state.c - the connection table on disk (format in state.h).
 *
 * The encoder walks the table once into memory (an RCU read-side section
 * of about 0.1 us per entry); the caller then writes the bytes offline,
 * so a slow disk never holds up grace periods.  The decoder parses every
 * entry twice: once to prove the whole file sound, once to insert; a
 * parse is cheap next to an insertion, and a half-loaded table from a
 * file found bad halfway is what must never happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nfqct/helper.h"
#include "nfqct/l4proto.h"
#include "nfqct/state.h"

static const uint8_t state_magic[8] = { 'N', 'F', 'Q', 'C', 'T', 'S', 'T', 0 };

/* Longest lifetime a valid entry can have: the largest timeout setting. */
#define STATE_MAX_TIMEOUT_MS	(100ULL * 86400 * 1000)
#define TUPLE_LEN		38
#define TCP_LEN			56
#define SCTP_LEN		14

/* ---- CRC-32 (IEEE 802.3, reflected), slicing by 8 ---- */

static uint32_t crc_table[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint32_t c = 0xffffffffu;

	pthread_once(&once, crc_init);
	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				   (uint32_t)p[3] << 24);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- big-endian helpers ---- */

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* ---- buffer ---- */

void nfqct_state_buf_free(struct nfqct_state_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Room for @n more bytes; returns where they go, or NULL. */
static uint8_t *buf_put(struct nfqct_state_buf *b, size_t n)
{
	uint8_t *p;

	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return NULL;
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

/* One attribute: header and value space; returns the value's place. */
static uint8_t *attr_put(uint8_t **pp, uint16_t type, uint16_t len)
{
	uint8_t *p = *pp;

	put16(p, type);
	put16(p + 2, len);
	*pp = p + 4 + len;
	return p + 4;
}

/* ---- encoding ---- */

struct enc {
	struct nfqct_state_buf *out;
	uint64_t now_ms;
	uint64_t count;
};

/* Biggest entry record: header + every attribute. */
#define ENTRY_MAX (4 + (4 + TUPLE_LEN) + (4 + 2) + (4 + 2) + (4 + 4) + (4 + 8) + (4 + 32) + \
		   (4 + 2) + (4 + TCP_LEN))

static void enc_tuple(uint8_t *v, const struct nfqct_tuple *t)
{
	v[0] = t->family;
	v[1] = t->proto;
	memcpy(v + 2, t->src.b, 16);
	memcpy(v + 18, t->dst.b, 16);
	memcpy(v + 34, &t->sp, 2);
	memcpy(v + 36, &t->dp, 2);
}

static void enc_tcp(uint8_t *v, const struct nfqct_tcp_state *t)
{
	for (int d = 0; d < 2; d++) {
		put32(v + 16 * d, t->peer[d].end);
		put32(v + 16 * d + 4, t->peer[d].maxend);
		put32(v + 16 * d + 8, t->peer[d].maxwin);
		put32(v + 16 * d + 12, t->peer[d].maxack);
	}
	put32(v + 32, t->last_seq);
	put32(v + 36, t->last_ack);
	put32(v + 40, t->last_end);
	v[44] = (uint8_t)t->pflags0;
	v[45] = (uint8_t)t->pflags1;
	v[46] = (uint8_t)t->scale0;
	v[47] = (uint8_t)t->scale1;
	v[48] = (uint8_t)t->last_index;
	v[49] = (uint8_t)t->last_dir;
	v[50] = (uint8_t)t->last_wscale;
	v[51] = (uint8_t)t->last_flags;
	put16(v + 52, t->last_win);
	v[54] = t->state;
	v[55] = t->retrans;
}

static void enc_sctp(uint8_t *v, const struct nfqct_sctp_state *s)
{
	memcpy(v, s->vtag, 8);		/* network order, as kept */
	v[8] = s->state;
	v[9] = s->init[0];
	v[10] = s->init[1];
	v[11] = s->hb_vtag_failed;
	v[12] = s->last_dir;
	v[13] = s->unconfirmed;
}

static int enc_entry(void *arg, const struct nfqct_ct_entry *e)
{
	struct enc *x = arg;
	uint8_t *rec = buf_put(x->out, ENTRY_MAX), *p, *v;

	if (!rec)
		return -ENOMEM;
	p = rec + 4;
	enc_tuple(attr_put(&p, NFQCT_STATE_A_TUPLE, TUPLE_LEN), &e->tuple);
	if (e->zone)
		put16(attr_put(&p, NFQCT_STATE_A_ZONE, 2), e->zone);
	put16(attr_put(&p, NFQCT_STATE_A_FLAGS, 2), e->flags);
	if (e->mark)
		put32(attr_put(&p, NFQCT_STATE_A_MARK, 4), e->mark);
	put64(attr_put(&p, NFQCT_STATE_A_TIMEOUT, 8), e->timeout_ms);
	v = attr_put(&p, NFQCT_STATE_A_COUNTERS, 32);
	put64(v, e->packets[0]);
	put64(v + 8, e->packets[1]);
	put64(v + 16, e->bytes[0]);
	put64(v + 24, e->bytes[1]);
	if (e->helper || e->master_helper) {
		v = attr_put(&p, NFQCT_STATE_A_HELPER, 2);
		v[0] = e->helper;
		v[1] = e->master_helper;
	}
	switch (e->tuple.proto) {
	case IPPROTO_TCP:
		enc_tcp(attr_put(&p, NFQCT_STATE_A_TCP, TCP_LEN), &e->proto.tcp);
		break;
	case IPPROTO_SCTP:
		enc_sctp(attr_put(&p, NFQCT_STATE_A_SCTP, SCTP_LEN), &e->proto.sctp);
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		/* an absolute time of this boot: stored as what is left */
		put64(attr_put(&p, NFQCT_STATE_A_UDP, 8),
		      e->proto.udp.stream_ms > x->now_ms ? e->proto.udp.stream_ms - x->now_ms : 0);
		break;
	default:
		break;
	}
	put16(rec, NFQCT_STATE_R_ENTRY);
	put16(rec + 2, (uint16_t)(p - rec - 4));
	x->out->len -= ENTRY_MAX - (size_t)(p - rec);	/* give back what was not used */
	x->count++;
	return 0;
}

int nfqct_state_encode(struct nfqct_ct *ct, uint64_t now_ms, uint64_t wall_ms,
		       struct nfqct_state_buf *out)
{
	struct enc x = { .out = out, .now_ms = now_ms };
	size_t start = out->len;
	uint8_t *p;
	int ret;

	p = buf_put(out, NFQCT_STATE_HDR_LEN);
	if (!p)
		return -ENOMEM;
	memcpy(p, state_magic, 8);
	put32(p + 8, NFQCT_STATE_VERSION);
	put32(p + 12, NFQCT_STATE_HDR_LEN);
	put64(p + 16, wall_ms);
	put64(p + 24, 0);
	ret = nfqct_ct_export(ct, now_ms, enc_entry, &x);
	if (ret)
		goto err_truncate;
	p = buf_put(out, NFQCT_STATE_TRAILER_LEN);
	if (!p) {
		ret = -ENOMEM;
		goto err_truncate;
	}
	put16(p, NFQCT_STATE_R_END);
	put16(p + 2, 12);
	put64(p + 4, x.count);
	put32(p + 12, crc32_ieee(out->data + start, out->len - start - 4));
	return 0;

err_truncate:
	out->len = start;
	return ret;
}

/* ---- decoding ---- */

/* Parse one entry record's value into @e; returns NULL or why it is bad. */
static const char *dec_entry(const uint8_t *v, size_t len, struct nfqct_ct_entry *e,
			     uint64_t *udp_left)
{
	unsigned int seen = 0;
	const uint8_t *a;
	size_t off;

	memset(e, 0, sizeof(*e));
	*udp_left = 0;
	for (off = 0; off < len; off += 4 + get16(v + off + 2)) {
		uint16_t type, alen;

		if (len - off < 4 || len - off - 4 < get16(v + off + 2))
			return "attribute overruns its entry";
		type = get16(v + off);
		alen = get16(v + off + 2);
		a = v + off + 4;
		if (type < 16) {
			if (seen & (1u << type))
				return "attribute repeated";
			seen |= 1u << type;
		}
		switch (type) {
		case NFQCT_STATE_A_TUPLE:
			if (alen != TUPLE_LEN)
				return "bad tuple length";
			e->tuple.family = a[0];
			e->tuple.proto = a[1];
			memcpy(e->tuple.src.b, a + 2, 16);
			memcpy(e->tuple.dst.b, a + 18, 16);
			memcpy(&e->tuple.sp, a + 34, 2);
			memcpy(&e->tuple.dp, a + 36, 2);
			break;
		case NFQCT_STATE_A_ZONE:
			if (alen != 2)
				return "bad zone length";
			e->zone = get16(a);
			break;
		case NFQCT_STATE_A_FLAGS:
			if (alen != 2)
				return "bad flags length";
			e->flags = get16(a);
			break;
		case NFQCT_STATE_A_MARK:
			if (alen != 4)
				return "bad mark length";
			e->mark = get32(a);
			break;
		case NFQCT_STATE_A_TIMEOUT:
			if (alen != 8)
				return "bad timeout length";
			e->timeout_ms = get64(a);
			break;
		case NFQCT_STATE_A_COUNTERS:
			if (alen != 32)
				return "bad counters length";
			e->packets[0] = get64(a);
			e->packets[1] = get64(a + 8);
			e->bytes[0] = get64(a + 16);
			e->bytes[1] = get64(a + 24);
			break;
		case NFQCT_STATE_A_HELPER:
			if (alen != 2)
				return "bad helper length";
			e->helper = a[0];
			e->master_helper = a[1];
			break;
		case NFQCT_STATE_A_TCP: {
			struct nfqct_tcp_state *t = &e->proto.tcp;

			if (alen != TCP_LEN)
				return "bad TCP state length";
			for (int d = 0; d < 2; d++) {
				t->peer[d].end = get32(a + 16 * d);
				t->peer[d].maxend = get32(a + 16 * d + 4);
				t->peer[d].maxwin = get32(a + 16 * d + 8);
				t->peer[d].maxack = get32(a + 16 * d + 12);
			}
			t->last_seq = get32(a + 32);
			t->last_ack = get32(a + 36);
			t->last_end = get32(a + 40);
			/* the bit fields' widths: a wider value is not ours */
			if (a[44] >= 64 || a[45] >= 64 || a[46] > 14 || a[47] > 14 || a[48] >= 8 ||
			    a[49] >= 2 || a[50] >= 16 || a[51] >= 16 || a[54] >= NFQCT_TCP_STATE_MAX)
				return "TCP state out of range";
			t->pflags0 = a[44];
			t->pflags1 = a[45];
			t->scale0 = a[46];
			t->scale1 = a[47];
			t->last_index = a[48];
			t->last_dir = a[49];
			t->last_wscale = a[50];
			t->last_flags = a[51];
			t->last_win = get16(a + 52);
			t->state = a[54];
			t->retrans = a[55];
			break;
		}
		case NFQCT_STATE_A_SCTP: {
			struct nfqct_sctp_state *s = &e->proto.sctp;

			if (alen != SCTP_LEN)
				return "bad SCTP state length";
			if (a[8] >= NFQCT_SCTP_STATE_MAX || a[9] > 1 || a[10] > 1 || a[11] > 1 ||
			    a[12] > 1 || a[13] > 1)
				return "SCTP state out of range";
			memcpy(s->vtag, a, 8);
			s->state = a[8];
			s->init[0] = a[9];
			s->init[1] = a[10];
			s->hb_vtag_failed = a[11];
			s->last_dir = a[12];
			s->unconfirmed = a[13];
			break;
		}
		case NFQCT_STATE_A_UDP:
			if (alen != 8)
				return "bad UDP state length";
			*udp_left = get64(a);
			if (*udp_left > STATE_MAX_TIMEOUT_MS)
				return "UDP stream time out of range";
			break;
		default:
			break;	/* a later minor addition: skipped */
		}
	}
	if (!(seen & (1u << NFQCT_STATE_A_TUPLE)) || !(seen & (1u << NFQCT_STATE_A_TIMEOUT)) ||
	    !(seen & (1u << NFQCT_STATE_A_FLAGS)))
		return "entry without tuple, flags or timeout";
	if (e->tuple.family == AF_INET) {
		static const uint8_t zero[12];

		/* keys compare by bytes: IPv4 addresses have zero tails */
		if (memcmp(e->tuple.src.b + 4, zero, 12) || memcmp(e->tuple.dst.b + 4, zero, 12))
			return "IPv4 address with a non-zero tail";
	} else if (e->tuple.family != AF_INET6) {
		return "unknown address family";
	}
	if ((e->flags & ~NFQCT_CT_F_ALL) || e->helper >= NFQCT_HELPER_MAX ||
	    e->master_helper >= NFQCT_HELPER_MAX)
		return "flags or helper out of range";
	if (!e->timeout_ms || e->timeout_ms > STATE_MAX_TIMEOUT_MS)
		return "timeout out of range";
	if ((e->tuple.proto == IPPROTO_TCP) != !!(seen & (1u << NFQCT_STATE_A_TCP)) ||
	    (e->tuple.proto == IPPROTO_SCTP) != !!(seen & (1u << NFQCT_STATE_A_SCTP)) ||
	    ((seen & (1u << NFQCT_STATE_A_UDP)) && e->tuple.proto != IPPROTO_UDP &&
	     e->tuple.proto != IPPROTO_UDPLITE))
		return "protocol state does not match the protocol";
	{
		struct nfqct_tuple r;

		if (!nfqct_tuple_invert(&r, &e->tuple))
			return "tuple without a reply direction";
	}
	return NULL;
}

int nfqct_state_check(const void *data, size_t len, struct nfqct_state_info *info,
		      const char **why)
{
	const uint8_t *p = data;
	const char *bad = NULL;
	uint64_t count = 0;
	size_t off, end;
	uint32_t version;

	*why = NULL;
	if (len < 8 || memcmp(p, state_magic, 8)) {
		*why = len < 8 && !memcmp(p, state_magic, len) ? "truncated header" :
			"not an nfqct state file (bad magic)";
		return -EBADMSG;
	}
	if (len < 12) {
		*why = "truncated header";
		return -EBADMSG;
	}
	version = get32(p + 8);
	if (version != NFQCT_STATE_VERSION) {
		*why = "unsupported format version";
		if (info)
			info->version = version;
		return -EPROTONOSUPPORT;
	}
	if (len < NFQCT_STATE_HDR_LEN + NFQCT_STATE_TRAILER_LEN) {
		*why = "truncated (shorter than header and trailer)";
		return -EBADMSG;
	}
	end = len - NFQCT_STATE_TRAILER_LEN;
	if (get32(p + 12) != NFQCT_STATE_HDR_LEN || get16(p + end) != NFQCT_STATE_R_END ||
	    get16(p + end + 2) != 12) {
		*why = "truncated or corrupt (no trailer at the end)";
		return -EBADMSG;
	}
	if (crc32_ieee(p, len - 4) != get32(p + len - 4)) {
		*why = "checksum mismatch (truncated or corrupt)";
		return -EBADMSG;
	}
	for (off = NFQCT_STATE_HDR_LEN; off < end; off += 4 + get16(p + off + 2)) {
		uint16_t type, rlen;

		if (end - off < 4 || end - off - 4 < get16(p + off + 2)) {
			*why = "a record overruns the file";
			return -EBADMSG;
		}
		type = get16(p + off);
		rlen = get16(p + off + 2);
		if (type == NFQCT_STATE_R_END) {
			*why = "trailer before the end";
			return -EBADMSG;
		}
		if (type == NFQCT_STATE_R_ENTRY) {
			struct nfqct_ct_entry e;
			uint64_t udp_left;

			bad = dec_entry(p + off + 4, rlen, &e, &udp_left);
			if (bad) {
				*why = bad;
				return -EBADMSG;
			}
			count++;
		}
	}
	if (count != get64(p + end + 4)) {
		*why = "entry count differs from the trailer's";
		return -EBADMSG;
	}
	if (info) {
		info->version = version;
		info->saved_wall_ms = get64(p + 16);
		info->entries = count;
		info->bytes = len;
	}
	return 0;
}

int nfqct_state_apply(struct nfqct_ct *ct, struct nfqct_ct_stats *st, const void *data, size_t len,
		      uint64_t now_ms, uint64_t wall_ms, uint32_t ct_max, bool replace,
		      struct nfqct_state_load_stats *ls, const char **why)
{
	struct nfqct_state_info info;
	const uint8_t *p = data;
	size_t off, end;
	int ret;

	memset(ls, 0, sizeof(*ls));
	ret = nfqct_state_check(data, len, &info, why);
	if (ret < 0)
		return ret;
	ls->entries = info.entries;
	if (wall_ms >= info.saved_wall_ms)
		ls->downtime_ms = wall_ms - info.saved_wall_ms;
	else
		ls->clock_backwards = true;	/* trust the lifetimes as saved */
	end = len - NFQCT_STATE_TRAILER_LEN;
	for (off = NFQCT_STATE_HDR_LEN; off < end; off += 4 + get16(p + off + 2)) {
		struct nfqct_ct_entry e;
		uint64_t udp_left;

		if (get16(p + off) != NFQCT_STATE_R_ENTRY)
			continue;
		/* checked above: cannot fail */
		dec_entry(p + off + 4, get16(p + off + 2), &e, &udp_left);
		if (e.timeout_ms <= ls->downtime_ms) {
			ls->expired++;
			continue;
		}
		e.timeout_ms -= ls->downtime_ms;
		if (e.tuple.proto == IPPROTO_UDP || e.tuple.proto == IPPROTO_UDPLITE)
			e.proto.udp.stream_ms = now_ms + (udp_left > ls->downtime_ms ?
							  udp_left - ls->downtime_ms : 0);
		switch (nfqct_ct_import(ct, st, &e, now_ms, ct_max, replace)) {
		case 0:
			ls->loaded++;
			break;
		case -EEXIST:
			ls->exists++;
			break;
		case -ENOSPC:
			ls->full++;
			break;
		default:
			ls->failed++;
			break;
		}
	}
	return 0;
}

/* ---- files ---- */

/* Create the directory of @path when it is missing (one level). */
static int make_dir_of(const char *path)
{
	char copy[PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, path);
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int nfqct_state_write(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ret = make_dir_of(path);
	if (ret < 0)
		return ret;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	/* the rename itself must reach the disk before we call it saved */
	strcpy(dir, path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			ret = -errno;
		close(dfd);
	}
	return ret;
}

int nfqct_state_read(const char *path, struct nfqct_state_buf *out)
{
	struct stat sb;
	int fd, ret = 0;
	size_t got = 0;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		ret = -EINVAL;
		goto out_close;
	}
	if ((unsigned long long)sb.st_size > NFQCT_STATE_MAX_BYTES) {
		ret = -EFBIG;
		goto out_close;
	}
	out->cap = (size_t)sb.st_size + 1;
	out->data = malloc(out->cap);
	if (!out->data) {
		ret = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (got == out->cap) {
			/* it grew while we read: keep to what it was */
			break;
		}
		n = read(fd, out->data + got, out->cap - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	out->len = got;
	if (ret || got > (size_t)sb.st_size) {
		if (!ret)
			ret = -EAGAIN;	/* changed under us */
		nfqct_state_buf_free(out);
	}
out_close:
	close(fd);
	return ret;
}

const char *nfqct_state_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such file";
	case -EFBIG:
		return "larger than the limit (2 GiB)";
	case -EBADMSG:
		return "corrupt";
	case -EPROTONOSUPPORT:
		return "unsupported format version";
	default:
		return strerror(-err);
	}
}
