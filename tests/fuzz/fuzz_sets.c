/*
 * fuzz_sets.c - the set file reader (nfqct_ipset_load, `ipset save`
 * format: nfqctd --sets, `nfqct set restore`).  Sets that load must save
 * (nfqct_ipset_cmd_save) to a text that loads and saves the same; then
 * `ipset list`, housekeeping and the input once more as a restore over
 * the loaded sets.  One fixed clock, so saved timeouts are stable.
 * Input: the file's bytes.  Seeds: `ipset save` of every set type nfqct
 * has, from the kernel's ipset (tests/fuzz/corpus/sets/).
 *
 * Inputs with a hashsize above 4096 are passed over: the loader sizes the
 * table up to 2^20 buckets from it, and each load, save and destroy then
 * walks every empty bucket (up to a million), which cut the run from 13,000 to 800
 * inputs a second and teaches the fuzzer nothing the smaller ones do not.
 */
#include <ctype.h>

#include <stdbool.h>

#include <urcu-qsbr.h>

#include "nfqct/ipset.h"
#include "fuzz.h"

#define NOW_MS 1000000u

static int load(const void *text, size_t len, enum nfqct_ipset_load_mode mode, FILE *errs)
{
	/* fmemopen() of 0 bytes fails: an empty file is an empty string */
	FILE *in = len ? fmemopen((void *)text, len, "r") : fmemopen("", 1, "r");
	int rc;

	if (!in)
		abort();
	rc = nfqct_ipset_load(in, "sets", errs, mode, NOW_MS);
	fclose(in);
	return rc;
}

static char *save(size_t *len)
{
	char *text = NULL;
	FILE *m = open_memstream(&text, len);

	if (!m)
		abort();
	if (nfqct_ipset_cmd_save(NULL, m, NOW_MS) < 0)
		fuzz_fail("the loaded sets do not save");
	if (fclose(m))
		abort();
	return text;
}

static bool huge_hashsize(const uint8_t *data, size_t size)
{
	static const char word[] = "hashsize";
	const uint8_t *p = data, *stop = data + size;

	/* raw bytes: the loader reads on past a NUL, so must this */
	while ((p = memmem(p, (size_t)(stop - p), word, sizeof(word) - 1))) {
		char num[32], *end;
		size_t n = 0;

		p += sizeof(word) - 1;
		while (p < stop && isspace(*p))
			p++;
		while (p + n < stop && n < sizeof(num) - 1 && !isspace(p[n]))
			n++;
		memcpy(num, p, n);
		num[n] = '\0';
		/* any base and sign the loader might take */
		if (strtoull(num, &end, 0) > 4096 || (num[0] == '-' && end != num))
			return true;
	}
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* the loader and housekeeping run as RCU readers in nfqctd */
	rcu_register_thread();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *first, *second;
	size_t flen, slen;

	if (huge_hashsize(data, size))
		return 0;
	if (load(data, size, NFQCT_IPSET_LOAD_FILE, fuzz_devnull()) < 0)
		goto out;
	first = save(&flen);
	if (load(first, flen, NFQCT_IPSET_LOAD_FILE, stderr) < 0) {
		fprintf(stderr, "--- saved form:\n%s---\n", first);
		fuzz_fail("the saved sets do not load");
	}
	second = save(&slen);
	if (flen != slen || memcmp(first, second, flen)) {
		fprintf(stderr, "--- first:\n%s--- second:\n%s---\n", first, second);
		fuzz_fail("the saved sets load to other sets");
	}
	free(first);
	free(second);
	nfqct_ipset_cmd_list(NULL, fuzz_devnull(), NOW_MS);
	nfqct_ipset_gc(NOW_MS + 3600000u);
	load(data, size, NFQCT_IPSET_LOAD_RESTORE, fuzz_devnull());
out:
	nfqct_ipset_destroy_all();
	rcu_quiescent_state();	/* lets call_rcu free what went */
	return 0;
}
