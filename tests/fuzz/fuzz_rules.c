/*
 * fuzz_rules.c - the ruleset parser (nfqct_ruleset_parse), with a round
 * trip: a ruleset that loads must print (nfqct_ruleset_print) to a text
 * that loads and prints the same text; anything else aborts.  The halves
 * of a pair print too (nfqct_ruleset_print_family).
 * Input: the text of an iptables-restore file.
 */
#include <sys/socket.h>

#include "nfqct/rules.h"
#include "fuzz.h"

/* Print @rs into a new string (freed by the caller). */
static char *print(const struct nfqct_ruleset *rs, int family, size_t *len)
{
	char *text = NULL;
	FILE *m = open_memstream(&text, len);

	if (!m)
		abort();
	if ((family ? nfqct_ruleset_print_family(rs, family, m, true)
		    : nfqct_ruleset_print(rs, m, false)) < 0)
		fuzz_fail("nfqct_ruleset_print failed");
	if (fclose(m))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqct_ruleset *rs = NULL, *rs2 = NULL;
	char *first, *second, *half;
	size_t flen, slen, hlen;

	if (nfqct_ruleset_parse("fuzz.rules", (const char *)data, size, 1, &rs, fuzz_devnull()) < 0)
		return 0;
	first = print(rs, 0, &flen);
	if (nfqct_ruleset_parse("(printed)", first, flen, 1, &rs2, stderr) < 0) {
		fprintf(stderr, "--- printed form:\n%s---\n", first);
		fuzz_fail("the printed form of a ruleset that loaded does not load");
	}
	second = print(rs2, 0, &slen);
	if (flen != slen || memcmp(first, second, flen)) {
		fprintf(stderr, "--- first:\n%s--- second:\n%s---\n", first, second);
		fuzz_fail("the printed form prints differently");
	}
	half = print(rs, AF_INET, &hlen);
	free(half);
	half = print(rs, AF_INET6, &hlen);
	free(half);
	free(first);
	free(second);
	nfqct_ruleset_free(rs2);
	nfqct_ruleset_free(rs);
	return 0;
}
