/*
 * test_pktlog.c - the LOG rings: bounded, never waiting, every queued line
 * written once by the thread, in order, and what a line carries (copied:
 * the packet's buffer may be reused at once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfqct/log.h"
#include "nfqct/pktlog.h"
#include "unit.h"

static const uint8_t udp4[] = {
	0x45, 0, 0, 33, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 1, 2,
	0x14, 0xe9, 0, 53, 0, 13, 0, 0, 'p', 'r', 'o', 'b', 'e',
};

static char *capture_path;

/* The thread writes to stderr (foreground): into a file the test reads. */
static void capture_start(void)
{
	char tmpl[] = "/tmp/test_pktlog.XXXXXX";
	int fd = mkstemp(tmpl);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	capture_path = strdup(tmpl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(freopen(capture_path, "w", stderr));
	setvbuf(stderr, NULL, _IONBF, 0);
}

static char *capture_end(void)
{
	FILE *f;
	char *text;
	long n;

	fflush(stderr);
	CU_ASSERT_PTR_NOT_NULL(freopen("/dev/null", "w", stderr));
	f = fopen(capture_path, "re");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	CU_ASSERT_EQUAL(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(capture_path);
	free(capture_path);
	return text;
}

static void test_ring(void)
{
	struct nfqct_pktlog *pl = nfqct_pktlog_create(2);
	struct nfqct_log_spec spec = { .prefix = "P ", .level = 4 };
	uint8_t buf[sizeof(udp4)];
	struct nfqct_pkt pkt = { .data = buf, .caplen = sizeof(buf), .len = sizeof(buf),
				 .hook = NFQCT_HOOK_OUTPUT };
	char *text, *line;
	unsigned int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
	memcpy(buf, udp4, sizeof(buf));
	/* full without a reader: the next put fails, at once */
	for (unsigned int i = 0; i < NFQCT_PKTLOG_RING; i++) {
		buf[5] = (uint8_t)i;	/* the IP id tells the lines apart */
		CU_ASSERT_TRUE(nfqct_pktlog_put(pl, 0, &pkt, &spec, 0, false));
	}
	CU_ASSERT_FALSE(nfqct_pktlog_put(pl, 0, &pkt, &spec, 0, false));
	/* the other worker's ring is its own */
	spec.prefix[0] = 'Q';
	CU_ASSERT_TRUE(nfqct_pktlog_put(pl, 1, &pkt, &spec, 0x7, false));
	memset(buf, 0, sizeof(buf));	/* copied: the packet may go */

	capture_start();
	CU_ASSERT_EQUAL(nfqct_pktlog_start(pl), 0);
	nfqct_pktlog_stop(pl);
	text = capture_end();
	CU_ASSERT_EQUAL(nfqct_pktlog_lines(pl), NFQCT_PKTLOG_RING + 1);
	for (char *save = NULL, *s = text; (line = strtok_r(s, "\n", &save)); s = NULL, n++) {
		char want[256];

		if (n < NFQCT_PKTLOG_RING)
			snprintf(want, sizeof(want), "P IN= OUT= SRC=198.18.0.2 DST=198.18.1.2 LEN=33 "
				 "TOS=0x00 PREC=0x00 TTL=64 ID=%u PROTO=UDP SPT=5353 DPT=53 LEN=13 ", n);
		else
			snprintf(want, sizeof(want), "Q IN= OUT= SRC=198.18.0.2 DST=198.18.1.2 LEN=33 "
				 "TOS=0x00 PREC=0x00 TTL=64 ID=255 PROTO=UDP SPT=5353 DPT=53 LEN=13 MARK=0x7 ");
		CU_ASSERT_STRING_EQUAL(line, want);
	}
	CU_ASSERT_EQUAL(n, NFQCT_PKTLOG_RING + 1);
	free(text);
	/* room again once written */
	CU_ASSERT_TRUE(nfqct_pktlog_put(pl, 0, &pkt, &spec, 0, false));
	nfqct_pktlog_destroy(pl);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "rings: bounded, copied, written once in order", test_ring },
	};

	log_init("test_pktlog", true, 0);
	return unit_main("pktlog", tests, UNIT_COUNT(tests));
}
