/*
 * fuzz_capture.c - the capture reader of `nfqct simulate`
 * (nfqct_capture_open / _next): pcap and pcapng files with Ethernet, raw
 * IP, Linux cooked (SLL, SLL2) and NFLOG link types, read to their end
 * (at most 1000 packets).  Every packet's bytes are read here: a packet
 * that does not lie inside what the reader holds is an ASan report.
 * Input: the file's bytes.
 */
#include "nfqct/capture.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqct_capture *c;
	struct nfqct_capture_pkt p;
	char err[256];
	unsigned int sum = 0;

	if (nfqct_capture_open(fuzz_memfile(data, size), &c, err, sizeof(err)) < 0)
		return 0;
	(void)nfqct_capture_linktype(c);
	for (int i = 0; i < 1000; i++) {
		int r = nfqct_capture_next(c, &p, err, sizeof(err));

		if (r <= 0)
			break;
		if (!p.data)
			continue;
		for (uint32_t k = 0; k < p.caplen; k++)
			sum += p.data[k];
	}
	nfqct_capture_close(c);
	return (int)(sum & 0);
}
