/*
 * fuzz_settings.c - the settings file reader (nfqct_settings_load_file),
 * sysctl.conf syntax.  A file that loads must load again from its printed
 * form (every setting as "name = value", nfqct_settings_format) to the
 * same values; the reload check (nfqct_settings_reload_diff) runs against
 * the defaults.
 * Input: the file's bytes.
 */
#include "nfqct/settings.h"
#include "fuzz.h"

static char *print(const struct nfqct_settings *s, size_t *len)
{
	char *text = NULL, buf[512];
	FILE *m = open_memstream(&text, len);

	if (!m)
		abort();
	for (size_t i = 0; i < nfqct_settings_count(); i++) {
		if (nfqct_settings_format(s, i, buf, sizeof(buf)) < 0)
			fuzz_fail("a setting does not format");
		fprintf(m, "%s = %s\n", nfqct_settings_name(i), buf);
	}
	if (fclose(m))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqct_settings s, again, cur;
	char *first, *second;
	size_t flen, slen;

	nfqct_settings_init(&s);
	if (nfqct_settings_load_file(&s, fuzz_memfile(data, size), fuzz_devnull()) < 0)
		return 0;
	first = print(&s, &flen);
	nfqct_settings_init(&again);
	if (nfqct_settings_load_file(&again, fuzz_memfile((const uint8_t *)first, flen), stderr) < 0) {
		fprintf(stderr, "--- printed form:\n%s---\n", first);
		fuzz_fail("the printed settings do not load");
	}
	second = print(&again, &slen);
	if (flen != slen || memcmp(first, second, flen)) {
		fprintf(stderr, "--- first:\n%s--- second:\n%s---\n", first, second);
		fuzz_fail("the printed settings load to other values");
	}
	nfqct_settings_init(&cur);
	nfqct_settings_reload_diff(&cur, &s, fuzz_devnull());
	free(first);
	free(second);
	return 0;
}
