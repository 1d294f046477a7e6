/* nfqctd.c - placeholder until the worker module lands (issue 2). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "nfqctd: not built yet\n");
	return 2;
}
