/*
 * fuzz_state.c - the state file reader: nfqct_state_check, then
 * nfqct_state_apply into a small table, with a round trip: the table's
 * own file (nfqct_state_encode) must check, hold every entry loaded, and
 * load into a fresh table that encodes to a file of the same size.
 * Input: one byte, then the file.  With the byte's low bit set, the last
 * four bytes are replaced by the CRC-32 of what precedes them, so that the
 * fuzzer gets past the checksum to the records (gen-seeds.py's seeds do);
 * without it, the file as it is.
 */
#include <urcu-qsbr.h>

#include "nfqct/ct.h"
#include "nfqct/state.h"
#include "fuzz.h"

#define NOW 5000000ull

static struct nfqct_settings settings;
static struct nfqct_ct *tables[2];	/* emptied for every load: creating one waits for RCU */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	nfqct_settings_init(&settings);
	settings.ct_buckets = 64;
	rcu_register_thread();
	tables[0] = nfqct_ct_create(&settings);
	tables[1] = nfqct_ct_create(&settings);
	if (!tables[0] || !tables[1])
		abort();
	return 0;
}

/* Load @len bytes into table @i, emptied first; the table, or NULL when the file is refused. */
static struct nfqct_ct *load(int i, const void *data, size_t len, uint64_t wall,
			     struct nfqct_state_load_stats *ls)
{
	struct nfqct_ct *ct = tables[i];
	const char *why = NULL;

	nfqct_ct_flush(ct, NULL);
	if (nfqct_ct_count(ct) != 0)
		fuzz_fail("a flushed table holds entries");
	memset(ls, 0, sizeof(*ls));
	if (nfqct_state_apply(ct, NULL, data, len, NOW, wall, 64, false, ls, &why) < 0)
		return NULL;
	return ct;
}

/* CRC-32 (IEEE, reflected, as zlib's), bit by bit: slow but plain. */
static uint32_t crc32_plain(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? 0xedb88320u : 0);
	}
	return ~c;
}

static int one_file(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	int r;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= 4) {
		uint32_t c = crc32_plain(copy, size - 5);

		copy[size - 5] = (uint8_t)(c >> 24);
		copy[size - 4] = (uint8_t)(c >> 16);
		copy[size - 3] = (uint8_t)(c >> 8);
		copy[size - 2] = (uint8_t)c;
	}
	r = one_file(copy, size - 1);
	free(copy);
	return r;
}

static int one_file(const uint8_t *data, size_t size)
{
	struct nfqct_state_buf one = { 0 }, two = { 0 };
	struct nfqct_state_load_stats ls, ls2;
	struct nfqct_state_info info, info2;
	struct nfqct_ct *ct, *ct2;
	const char *why = NULL;
	int r;

	r = nfqct_state_check(data, size, &info, &why);
	if (r < 0) {
		if (!why && r == -EBADMSG)
			fuzz_fail("a refused state file without a reason");
		return 0;
	}
	/* a downtime of 0..255 s, from the input's size */
	ct = load(0, data, size, info.saved_wall_ms + (size & 0xff) * 1000, &ls);
	if (!ct)
		fuzz_fail("a state file that checks does not load");
	if (ls.entries != info.entries ||
	    ls.loaded + ls.expired + ls.exists + ls.full + ls.failed != ls.entries)
		fuzz_fail("the load's figures do not add up");
	if (nfqct_state_encode(ct, NOW, 42000, &one) < 0)
		abort();
	if (nfqct_state_check(one.data, one.len, &info2, &why) < 0) {
		fprintf(stderr, "why: %s\n", why ? why : "?");
		fuzz_fail("the table's own state file does not check");
	}
	if (info2.entries != ls.loaded)
		fuzz_fail("the table's own state file lost entries");
	ct2 = load(1, one.data, one.len, 42000, &ls2);
	if (!ct2 || ls2.loaded != ls.loaded)
		fuzz_fail("the table's own state file does not load whole");
	if (nfqct_state_encode(ct2, NOW, 42000, &two) < 0)
		abort();
	if (two.len != one.len)
		fuzz_fail("a loaded table encodes to another size");
	nfqct_state_buf_free(&one);
	nfqct_state_buf_free(&two);
	rcu_quiescent_state();
	return 0;
}
