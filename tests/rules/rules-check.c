/*
 * rules-check - load a ruleset file as nfqctd would and print it in the
 * normalised form (stdout, exit 0), or print its errors (stdout, exit 1).
 * With -r, also load the printed form back and check that it prints the
 * same (exit 3 when it does not).  -4 / -6 read a one-family file, as
 * nfqctd --rules-v4 / --rules-v6.  -s SETS loads a set file (`ipset
 * save` format) first, as nfqctd --sets; -S reads FILE as a set file
 * and prints its sets as `nfqct set save` does (errors: stdout, exit 1).
 * Used by tests/rules/run.sh.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfqct/ipset.h"
#include "nfqct/rules.h"

static int usage(void)
{
	fprintf(stderr, "usage: rules-check [-r] [-4|-6] [-s SETS] FILE | -S SETS\n");
	return 2;
}

/* The printed form loaded back as the same kind of file: a one-family
 * ruleset prints as iptables-save / ip6tables-save would, so it is read
 * back as a file of that family (REJECT's ICMPv6-only types need that). */
static int reload(const char *text, size_t len, int family, struct nfqct_ruleset **rsp)
{
	char path[] = "/tmp/rules-check.XXXXXX";
	int fd, rc;

	if (!family)
		return nfqct_ruleset_parse("(printed)", text, len, 1, rsp, stderr);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	rc = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (!rc)
		rc = nfqct_ruleset_load_family(path, family, 1, rsp, stderr);
	unlink(path);
	return rc;
}

int main(int argc, char **argv)
{
	struct nfqct_ruleset *rs = NULL, *rs2 = NULL;
	char *first = NULL, *second = NULL;
	size_t flen = 0, slen = 0;
	bool reparse = false, sets_only = false;
	const char *sets = NULL;
	int opt, rc, family = 0;
	FILE *m;

	while ((opt = getopt(argc, argv, "r46s:S")) != -1) {
		if (opt == 'r')
			reparse = true;
		else if (opt == 's')
			sets = optarg;
		else if (opt == 'S')
			sets_only = true;
		else if (opt == '4' || opt == '6')
			family = opt == '4' ? AF_INET : AF_INET6;
		else
			return usage();
	}
	if (optind + 1 != argc)
		return usage();
	if (sets_only || sets) {
		rc = nfqct_ipset_load_path(sets_only ? argv[optind] : sets, stdout, NFQCT_IPSET_LOAD_FILE, 0);
		if (rc == -EINVAL)
			return 1;
		if (rc)
			return 2;
		if (sets_only) {
			rc = nfqct_ipset_cmd_save(NULL, stdout, 0) ? 2 : 0;
			nfqct_ipset_destroy_all();
			return rc;
		}
	}

	rc = nfqct_ruleset_load_family(argv[optind], family, 1, &rs, stdout);
	if (rc == -EINVAL)
		return 1;
	if (rc) {
		fprintf(stderr, "rules-check: %s: %s\n", argv[optind], strerror(-rc));
		return 2;
	}
	m = open_memstream(&first, &flen);
	if (!m || nfqct_ruleset_print(rs, m, false) || fclose(m))
		return 2;
	fputs(first, stdout);

	rc = 0;
	if (reparse) {
		if (reload(first, flen, family, &rs2)) {
			fprintf(stderr, "rules-check: the printed form does not load\n");
			rc = 3;
			goto out;
		}
		m = open_memstream(&second, &slen);
		if (!m || nfqct_ruleset_print(rs2, m, false) || fclose(m))
			return 2;
		if (slen != flen || memcmp(first, second, flen)) {
			fprintf(stderr, "rules-check: the printed form prints differently:\n%s", second);
			rc = 3;
		}
	}
out:
	nfqct_ruleset_free(rs);
	nfqct_ruleset_free(rs2);
	nfqct_ipset_destroy_all();
	free(first);
	free(second);
	return rc;
}
