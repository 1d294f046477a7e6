/*
 * test_recent.c - CUnit suite for the recent lists (recent.h) against
 * xt_recent's rules, worked by hand: --set, --rcheck with --seconds and
 * --hitcount, --update stamping only on a match, --remove, --reap, --rttl,
 * the mask, the stamp ring, a full table forgetting its least recently
 * seen address, the proc file's format and commands, references by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfqct/recent.h"
#include "nfqct/tbf.h"
#include "unit.h"

static union nfqct_addr all_ones(void)
{
	union nfqct_addr m;

	memset(&m, 0xff, sizeof(m));
	return m;
}

static union nfqct_addr a4(const char *s)
{
	union nfqct_addr a;

	memset(&a, 0, sizeof(a));
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* The table's proc text, in a buffer the caller frees. */
static char *proc(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_EQUAL(nfqct_recent_print(name, f), 0);
	fclose(f);
	return buf;
}

static const struct nfqct_recent_info SET = { .cmd = NFQCT_RECENT_SET };

static void test_set_check_update(void)
{
	union nfqct_addr m = all_ones(), x = a4("198.18.0.1"), y = a4("198.18.0.2");
	struct nfqct_recent_info check = { .cmd = NFQCT_RECENT_CHECK, .seconds = 60, .hit_count = 4 };
	struct nfqct_recent_info upd = { .cmd = NFQCT_RECENT_UPDATE, .seconds = 60, .hit_count = 4 };
	struct nfqct_recent_table *t;
	uint64_t j = 100000;
	char *s;

	CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T1", &m, 4, &t), 0);
	/* an unknown address: --rcheck fails, --set matches and adds it */
	CU_ASSERT_FALSE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j));
	for (int i = 0; i < 3; i++)
		CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &x, 64, j + (uint64_t)i * 250));
	/* three stamps: a hit count of 4 is not reached */
	CU_ASSERT_FALSE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 1000));
	CU_ASSERT_FALSE(nfqct_recent_match(t, &upd, AF_INET, &x, 64, j + 1000));	/* no stamp then */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &x, 64, j + 1000));
	CU_ASSERT_TRUE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 1000));
	/* --seconds 60: 15000 jiffies; the stamp at j is older than now - 60 s once now > j + 15000 */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 15000));
	CU_ASSERT_FALSE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 15001));
	/* --update stamps when it matches: 4 stamps within 60 s again */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &y, 64, j));
	upd.hit_count = 1;
	CU_ASSERT_TRUE(nfqct_recent_match(t, &upd, AF_INET, &y, 64, j + 100));
	s = proc("T1");
	/* the ring holds 4 stamps (--hitcount 4: roundup_pow_of_two(4)); x wrote 4 */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=198.18.0.1 ttl: 64 last_seen: 101000 oldest_pkt: 4 100000, 100250, 100500, 101000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=198.18.0.2 ttl: 64 last_seen: 100100 oldest_pkt: 2 100000, 100100\n"));
	free(s);
	/* a fifth stamp overwrites the oldest: index wraps to 1 */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &x, 64, j + 2000));
	s = proc("T1");
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=198.18.0.1 ttl: 64 last_seen: 102000 oldest_pkt: 1 102000, 100250, 100500, 101000\n"));
	free(s);
	/* ! --rcheck, --remove */
	check = (struct nfqct_recent_info){ .cmd = NFQCT_RECENT_CHECK, .invert = true };
	CU_ASSERT_FALSE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 3000));
	check.cmd = NFQCT_RECENT_REMOVE;
	check.invert = false;
	CU_ASSERT_TRUE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 3000));
	CU_ASSERT_FALSE(nfqct_recent_match(t, &check, AF_INET, &x, 64, j + 3000));
	nfqct_recent_put(t);
	CU_ASSERT_EQUAL(nfqct_recent_print("T1", stdout), -ENOENT);	/* the last reference freed it */
}

static void test_reap_rttl_mask(void)
{
	union nfqct_addr m = all_ones(), x = a4("198.18.0.1"), y = a4("198.18.0.2"), z = a4("198.18.5.9");
	struct nfqct_recent_info reap = { .cmd = NFQCT_RECENT_CHECK, .seconds = 1, .reap = true };
	struct nfqct_recent_info rttl = { .cmd = NFQCT_RECENT_CHECK, .rttl = true };
	struct nfqct_recent_table *t, *t2;
	union nfqct_addr m24 = all_ones();
	char *s;

	CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T2", &m, 0, &t), 0);
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &x, 64, 1000));
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &y, 60, 1100));
	/* --rttl: the TTL must be the stamped one */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &rttl, AF_INET, &x, 64, 1200));
	CU_ASSERT_FALSE(nfqct_recent_match(t, &rttl, AF_INET, &x, 63, 1200));
	/* --reap removes the least recently seen (x) once it is older than --seconds,
	 * only x, and only when its newest stamp is */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &reap, AF_INET, &y, 60, 1250));	/* y: 150 jiffies old; x: exactly 1 s */
	s = proc("T2");
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "198.18.0.1 "));
	free(s);
	CU_ASSERT_FALSE(nfqct_recent_match(t, &reap, AF_INET, &y, 60, 1351));	/* y too old; x reaped */
	s = proc("T2");
	CU_ASSERT_PTR_NULL(strstr(s, "198.18.0.1 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "198.18.0.2 "));
	free(s);
	nfqct_recent_put(t);
	/* the mask of the rule that made the table: /24 keys */
	memset(m24.b + 3, 0, 13);
	CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T3", &m24, 0, &t), 0);
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &z, 64, 5));
	rttl.rttl = false;
	CU_ASSERT_TRUE(nfqct_recent_match(t, &rttl, AF_INET, &z, 64, 6));
	z.b[3] = 77;
	CU_ASSERT_TRUE(nfqct_recent_match(t, &rttl, AF_INET, &z, 64, 6));
	z.b[2] = 6;
	CU_ASSERT_FALSE(nfqct_recent_match(t, &rttl, AF_INET, &z, 64, 6));
	/* a second reference by name, and the proc file's commands */
	CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T3", &m, 0, &t2), 0);
	CU_ASSERT_PTR_EQUAL(t, t2);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "+2001:db8::5", 9), 0);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "+198.18.0.1", 10), 0);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "+198.18.0.1", 11), 0);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "bogus", 11), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "+300.1.1.1", 11), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_recent_write("nope", "/", 11), -ENOENT);
	s = proc("T3");
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=2001:0db8:0000:0000:0000:0000:0000:0005 ttl: 0 last_seen: 9 oldest_pkt: 1 9\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=198.18.0.1 ttl: 0 last_seen: 11 oldest_pkt: 2 10, 11\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "src=198.18.5.0 ttl: 64 last_seen: 5 oldest_pkt: 1 5\n"));
	free(s);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "-198.18.0.1", 12), 0);
	s = proc("T3");
	CU_ASSERT_PTR_NULL(strstr(s, "198.18.0.1 "));
	free(s);
	CU_ASSERT_EQUAL(nfqct_recent_write("T3", "/", 12), 0);
	s = proc("T3");
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
	nfqct_recent_put(t2);
	nfqct_recent_put(t);
}

static void test_full_table(void)
{
	struct nfqct_recent_conf c = { .ip_list_tot = 3 };
	union nfqct_addr m = all_ones(), a;
	struct nfqct_recent_info check = { .cmd = NFQCT_RECENT_CHECK };
	struct nfqct_recent_stat st[4];
	struct nfqct_recent_table *t;

	CU_ASSERT_EQUAL(nfqct_recent_configure(&(struct nfqct_recent_conf){ .ip_list_tot = 0 }), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_recent_configure(&(struct nfqct_recent_conf){ .ip_list_tot = 5,
		.ip_list_hash_size = 3 }), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_recent_configure(&(struct nfqct_recent_conf){ .ip_list_tot = 5,
		.ip_pkt_list_tot = 256 }), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(nfqct_recent_configure(&c), 0);
	CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T4", &m, 0, &t), 0);
	for (int i = 1; i <= 3; i++) {
		a = a4("198.18.0.0");
		a.b[3] = (uint8_t)i;
		CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &a, 64, (uint64_t)i));
	}
	a.b[3] = 1;	/* stamp .1 again: .2 is now the least recently seen */
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &a, 64, 10));
	a.b[3] = 4;
	CU_ASSERT_TRUE(nfqct_recent_match(t, &SET, AF_INET, &a, 64, 11));
	CU_ASSERT_EQUAL(nfqct_recent_stats(st, 4), 1u);
	CU_ASSERT_STRING_EQUAL(st[0].name, "T4");
	CU_ASSERT_EQUAL(st[0].entries, 3u);
	CU_ASSERT_EQUAL(st[0].max, 3u);
	CU_ASSERT_EQUAL(st[0].nstamps, 32u);
	for (int i = 1; i <= 4; i++) {
		a.b[3] = (uint8_t)i;
		CU_ASSERT_EQUAL(nfqct_recent_match(t, &check, AF_INET, &a, 64, 12), i != 2);
	}
	/* a rule needing more stamps empties and grows the table (recent_mt_check) */
	{
		struct nfqct_recent_table *t2;

		CU_ASSERT_EQUAL_FATAL(nfqct_recent_get("T4", &m, 100, &t2), 0);
		CU_ASSERT_EQUAL(nfqct_recent_stats(st, 4), 1u);
		CU_ASSERT_EQUAL(st[0].entries, 0u);
		CU_ASSERT_EQUAL(st[0].nstamps, 128u);
		nfqct_recent_put(t2);
	}
	CU_ASSERT_EQUAL(nfqct_recent_get("a/b", &m, 0, &t), -EINVAL);
	CU_ASSERT_EQUAL(nfqct_recent_get("T5", &m, 256, &t), -EINVAL);
	nfqct_recent_put(t);
	CU_ASSERT_EQUAL(nfqct_recent_stats(st, 4), 0u);
	c.ip_list_tot = 100;
	nfqct_recent_configure(&c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "set, rcheck, update, remove", test_set_check_update },
		{ "reap, rttl, mask, proc commands", test_reap_rttl_mask },
		{ "full table, stats, growth", test_full_table },
	};

	return unit_main("recent", tests, UNIT_COUNT(tests));
}
