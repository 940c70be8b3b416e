/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing an array by doubling: one helper instead of a realloc dance per caller. */
#ifndef GMT_GROW_H
#define GMT_GROW_H

#include <errno.h>
#include <stdlib.h>

/* room for one more element at *arr[nr] (cap doubles, from first); -ENOMEM */
static inline int gmt_grow(void *arr, int *cap, int nr, size_t elem, int first)
{
	void **a = arr, *n;
	int c;

	if (nr < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	n = realloc(*a, (size_t)c * elem);
	if (!n)
		return -ENOMEM;
	*a = n;
	*cap = c;
	return 0;
}

#endif /* GMT_GROW_H */
