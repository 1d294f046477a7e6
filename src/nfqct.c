/* nfqct.c - placeholder until the client lands (issue 5). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "nfqct: not built yet\n");
	return 2;
}
