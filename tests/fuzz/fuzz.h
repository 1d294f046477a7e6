/*
 * fuzz.h - what the fuzz targets share.
 *
 * Each target is one LLVMFuzzerTestOneInput() (libFuzzer's entry point,
 * which AFL++'s afl-clang-fast/-lto drivers call too).  The library is
 * built with the same sanitizers as the target (make fuzz), so a memory
 * error anywhere in nfqct's sources ends the run with a report.
 *
 * A target that checks a property (a round trip) calls fuzz_fail(): it
 * prints why and aborts, which libFuzzer reports as a crash.
 */
#ifndef NFQCT_FUZZ_H
#define NFQCT_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: property violated: %s\n", what);
	abort();
}

/* A sink for error messages: the parsers report every mistake, and the
 * fuzzer must not spend its time on a terminal. */
static inline FILE *fuzz_devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

/*
 * Readers that take a path (settings, captures) read the input through a
 * memory file: no disk, no name to clean up.  fuzz_memfile() replaces its
 * contents with @size bytes at @data and returns a path that opens it.
 */
static inline const char *fuzz_memfile(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("nfqct-fuzz", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

/* A NUL-terminated copy of the input (freed by the caller). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
