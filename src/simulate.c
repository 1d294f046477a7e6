/*
 * simulate.c - `nfqct simulate`: captures through nfqct_judge() (simulate.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "nfqct/capture.h"
#include "nfqct/ct.h"
#include "nfqct/ifname.h"
#include "nfqct/judge.h"
#include "nfqct/simulate.h"

/* Interface indexes that stand for --in and --out names; far above what a
 * kernel hands out, so they do not meet real ones. */
#define SIM_IFINDEX_IN	0x7ffffff0u
#define SIM_IFINDEX_OUT	0x7ffffff1u
#define SIM_IFNAMES	64

struct nfqct_sim {
	struct nfqct_sim_config cfg;
	struct nfqct_ct *ct;
	struct nfqct_loopback *lo;
	struct nfqct_ct_stats st;
	uint64_t now_ns;	/* the clock: the latest timestamp seen */
	uint64_t now_ms;	/* the same for the table, in ms (+1: never 0) */
	uint64_t t0_ns;		/* the first packet's timestamp: time 0 of the output */
	uint64_t next_gc_ms;
	uint64_t packets;	/* packet number, across files */
	bool started;
};

/* ---- interface names: --in/--out and --ifname, else this host's ---- */

static struct {
	uint32_t ifindex;
	char name[IFNAMSIZ];
} sim_ifnames[SIM_IFNAMES];
static unsigned int sim_nifnames;

int nfqct_sim_ifname(uint32_t ifindex, const char *name)
{
	for (unsigned int i = 0; i < sim_nifnames; i++)
		if (sim_ifnames[i].ifindex == ifindex) {
			snprintf(sim_ifnames[i].name, IFNAMSIZ, "%s", name);
			return 0;
		}
	if (sim_nifnames == SIM_IFNAMES)
		return -ENOSPC;
	sim_ifnames[sim_nifnames].ifindex = ifindex;
	snprintf(sim_ifnames[sim_nifnames].name, IFNAMSIZ, "%s", name);
	sim_nifnames++;
	return 0;
}

static char *sim_resolve(unsigned int ifindex, char *name)
{
	for (unsigned int i = 0; i < sim_nifnames; i++)
		if (sim_ifnames[i].ifindex == ifindex)
			return strcpy(name, sim_ifnames[i].name);
	return if_indextoname(ifindex, name);
}

/* ---- life ---- */

int nfqct_sim_create(const struct nfqct_sim_config *cfg, struct nfqct_sim **simp)
{
	struct nfqct_sim *sim = calloc(1, sizeof(*sim));
	int err;

	if (!sim)
		return -ENOMEM;
	sim->cfg = *cfg;
	if ((cfg->in && (err = nfqct_sim_ifname(SIM_IFINDEX_IN, cfg->in)) < 0) ||
	    (cfg->out && (err = nfqct_sim_ifname(SIM_IFINDEX_OUT, cfg->out)) < 0))
		goto err_free;
	sim->ct = nfqct_ct_create(cfg->settings);
	if (!sim->ct) {
		err = -errno;
		goto err_free;
	}
	sim->lo = nfqct_loopback_create(NFQCT_LOOPBACK_SLOTS);
	if (!sim->lo) {
		err = -errno;
		goto err_destroy_ct;
	}
	nfqct_ifname_set_resolver(sim_resolve);
	*simp = sim;
	return 0;

err_destroy_ct:
	nfqct_ct_destroy(sim->ct);
err_free:
	free(sim);
	return err;
}

void nfqct_sim_destroy(struct nfqct_sim *sim)
{
	if (!sim)
		return;
	nfqct_ct_destroy(sim->ct);
	nfqct_loopback_destroy(sim->lo);
	nfqct_ifname_set_resolver(NULL);
	free(sim);
}

/* ---- one packet ---- */

static const char *const ctstate_names[] = {
	"INVALID", "ESTABLISHED", "RELATED", "NEW", "UNTRACKED",
};

static const char *ctstate_name(unsigned int bit)
{
	for (unsigned int i = 0; i < sizeof(ctstate_names) / sizeof(ctstate_names[0]); i++)
		if (bit == 1u << i)
			return ctstate_names[i];
	return "?";
}

/* The rule column: FORWARD#3, FORWARD policy, raw:PREROUTING#1, ct:table-full. */
static void decided_by(const struct nfqct_sim *sim, const struct nfqct_verdict *v, int family,
		       char *buf, size_t len)
{
	const struct nfqct_ruleset *rs = nfqct_ruleset_family(sim->cfg.rs, family);

	switch (v->by) {
	case NFQCT_BY_RAW:
		snprintf(buf, len, "raw:");
		nfqct_ruleset_ref_name(rs, "raw", &v->rule, buf + 4, len - 4);
		break;
	case NFQCT_BY_TABLE_FULL:
		snprintf(buf, len, "ct:table-full");
		break;
	case NFQCT_BY_INSERT_FAILED:
		snprintf(buf, len, "ct:insert-failed");
		break;
	default:
		nfqct_ruleset_ref_name(rs, "filter", &v->rule, buf, len);
		break;
	}
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* The flow the line names: the entry's original tuple, else the packet's own. */
static void flow_text(const struct nfqct_verdict *v, const struct nfqct_pkt *pkt, char *buf,
		      size_t len)
{
	struct nfqct_ct_info ci;
	const struct nfqct_tuple *t = &pkt->tuple;
	const char *name;
	FILE *f = fmemopen(buf, len, "w");

	if (!f) {
		snprintf(buf, len, "?");
		return;
	}
	if (v->conn) {
		nfqct_ct_info(v->conn, &ci);
		t = &ci.orig;
	}
	name = nfqct_proto_name(t->proto);
	if (name)
		fprintf(f, "%s ", name);
	else
		fprintf(f, "%u ", t->proto);
	nfqct_tuple_print(f, t);
	fclose(f);
}

static void print_packet(struct nfqct_sim *sim, FILE *out, uint64_t time_ns,
			 const struct nfqct_verdict *v, const struct nfqct_pkt *pkt)
{
	char rule[96], flow[256];
	uint64_t rel = time_ns - sim->t0_ns;
	const char *verdict = v->accept ? "ACCEPT" : v->reject ? "REJECT" : "DROP";

	decided_by(sim, v, nfqct_pkt_family(pkt), rule, sizeof(rule));
	flow_text(v, pkt, flow, sizeof(flow));
	if (sim->cfg.json) {
		fprintf(out, "{\"packet\":%" PRIu64 ",\"time\":%" PRIu64 ".%06" PRIu64
			",\"verdict\":\"%s\",\"ctstate\":\"%s\",\"rule\":",
			sim->packets, rel / 1000000000u, rel % 1000000000u / 1000u, verdict,
			ctstate_name(v->ctstate));
		json_string(out, rule);
		fprintf(out, ",\"mark\":%" PRIu32 ",\"flow\":", v->mark);
		json_string(out, flow);
		if (v->offload)
			fputs(",\"offload\":true", out);
		if (v->invalid_reason) {
			fputs(",\"invalid\":", out);
			json_string(out, v->invalid_reason);
		}
		fputs("}\n", out);
		return;
	}
	fprintf(out, "%" PRIu64 " %" PRIu64 ".%06" PRIu64 " %s %s %s mark=%" PRIu32 " %s",
		sim->packets, rel / 1000000000u, rel % 1000000000u / 1000u, verdict,
		ctstate_name(v->ctstate), rule, v->mark, flow);
	if (v->offload)
		fputs(" [OFFLOAD]", out);	/* nfqctd would hand the flow to the kernel here */
	if (v->invalid_reason)
		fprintf(out, " (%s)", v->invalid_reason);
	fputc('\n', out);
}

static void print_skip(struct nfqct_sim *sim, FILE *out, uint64_t time_ns, const char *why)
{
	uint64_t rel = time_ns - sim->t0_ns;

	if (sim->cfg.json)
		fprintf(out, "{\"packet\":%" PRIu64 ",\"time\":%" PRIu64 ".%06" PRIu64
			",\"skipped\":\"%s\"}\n", sim->packets, rel / 1000000000u,
			rel % 1000000000u / 1000u, why);
	else
		fprintf(out, "%" PRIu64 " %" PRIu64 ".%06" PRIu64 " SKIP %s\n", sim->packets,
			rel / 1000000000u, rel % 1000000000u / 1000u, why);
}

/* Expire entries as the housekeeping thread would, on the capture's clock. */
static void sim_gc(struct nfqct_sim *sim)
{
	if (sim->now_ms < sim->next_gc_ms)
		return;
	while (nfqct_ct_gc(sim->ct, &sim->st, sim->now_ms, 100000) || nfqct_ct_gc_sweeping(sim->ct))
		;
	sim->next_gc_ms = sim->now_ms + sim->cfg.settings->gc_interval_ms;
}

/*
 * A capture of every interface (`tcpdump -i any`) holds a forwarded packet
 * twice, as it came in and as it went out; a hook sees it once.  Returns
 * why @cp is the copy to leave out at @hook, or NULL.
 */
static const char *other_copy(const struct nfqct_capture_pkt *cp, uint8_t hook)
{
	bool local_out = hook == NFQCT_HOOK_OUTPUT || hook == NFQCT_HOOK_POSTROUTING;

	if (cp->direction == NFQCT_CAPTURE_DIR_OUT && !local_out)
		return "outgoing copy (the hook saw it on its way in)";
	if (cp->direction == NFQCT_CAPTURE_DIR_IN && local_out)
		return "incoming copy (the hook sees what the box sends)";
	return NULL;
}

static void sim_packet(struct nfqct_sim *sim, const struct nfqct_capture_pkt *cp, FILE *out)
{
	const char *skip;
	struct nfqct_judge_ctx cx = {
		.ct = sim->ct, .rs = sim->cfg.rs, .s = sim->cfg.settings, .st = &sim->st,
		.lo = sim->lo,
	};
	struct nfqct_pkt pkt = {
		.data = cp->data,
		.caplen = cp->caplen,
		.len = cp->len,
		.mark = cp->has_mark ? cp->mark : 0,
		.hw_protocol = cp->hw_protocol,
		.hook = NFQCT_HOOK_FORWARD,
		/* A capture says nothing of checksums.  By default they count as
		 * verified (a NIC or the sender's offload may have left them to
		 * be filled in); with --checksums as unverified, so the entering
		 * hooks check them as nf_conntrack_checksum does (csum.h). */
		.flags = sim->cfg.checksums ? NFQCT_PKT_F_CSUM_NOTVERIFIED : 0,
	};
	struct nfqct_verdict v;

	if (sim->cfg.hook >= 0)
		pkt.hook = (uint8_t)sim->cfg.hook;
	else if (cp->hook >= 0)
		pkt.hook = (uint8_t)cp->hook;
	/* the capture's interfaces where it has them, else --in / --out */
	if (cp->has_indev)
		pkt.indev = cp->indev;
	else if (sim->cfg.in && !cp->ifaces_exact)
		pkt.indev = SIM_IFINDEX_IN;
	if (cp->has_outdev)
		pkt.outdev = cp->outdev;
	else if (sim->cfg.out && !cp->ifaces_exact)
		pkt.outdev = SIM_IFINDEX_OUT;
	skip = other_copy(cp, pkt.hook);
	if (skip) {
		print_skip(sim, out, cp->time_ns, skip);
		return;
	}
	sim_gc(sim);
	nfqct_judge(&cx, &pkt, sim->now_ms, &v);
	print_packet(sim, out, cp->time_ns, &v, &pkt);
	/* v.conn was valid until here */
	rcu_quiescent_state();
}

int nfqct_sim_file(struct nfqct_sim *sim, const char *path, FILE *out, FILE *errs)
{
	struct nfqct_capture *c;
	struct nfqct_capture_pkt cp;
	char err[512];
	int ret = 0, r;

	if (nfqct_capture_open(path, &c, err, sizeof(err)) < 0) {
		fprintf(errs, "%s: %s\n", path, err);
		return -EINVAL;
	}
	while ((r = nfqct_capture_next(c, &cp, err, sizeof(err))) == 1) {
		if (!sim->started) {
			sim->started = true;
			sim->t0_ns = sim->now_ns = cp.time_ns;
		}
		/* the clock never goes back: an older record is judged (and
		 * printed) at the latest time seen */
		if (cp.time_ns > sim->now_ns)
			sim->now_ns = cp.time_ns;
		cp.time_ns = sim->now_ns;
		sim->now_ms = sim->now_ns / 1000000u + 1;
		sim->packets++;
		if (cp.malformed) {
			fprintf(errs, "%s: record %" PRIu64 ": %s\n", path, cp.record, cp.skip);
			print_skip(sim, out, cp.time_ns, cp.skip);
			ret = -EINVAL;
		} else if (!cp.data) {
			print_skip(sim, out, cp.time_ns, cp.skip);
		} else {
			sim_packet(sim, &cp, out);
		}
	}
	if (r < 0) {
		fprintf(errs, "%s: %s\n", path, err);
		ret = -EINVAL;
	}
	nfqct_capture_close(c);
	return ret;
}

void nfqct_sim_list(struct nfqct_sim *sim, FILE *out)
{
	nfqct_ct_dump(sim->ct, out, sim->now_ms);
}

const struct nfqct_ct_stats *nfqct_sim_stats(const struct nfqct_sim *sim)
{
	return &sim->st;
}

uint32_t nfqct_sim_entries(const struct nfqct_sim *sim)
{
	return nfqct_ct_count(sim->ct);
}
