/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing an array by doubling: one helper instead of a realloc dance per caller. */
#ifndef GMT_GROW_H
#define GMT_GROW_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* item copied to the end of *arr (of *nr elements), for arrays that stay
 * small or are built once; -ENOMEM leaves *arr and *nr as they were */
static inline int gmt_append(void *arr, int *nr, const void *item, size_t elem)
{
	void **a = arr;
	char *n = realloc(*a, (size_t)(*nr + 1) * elem);

	if (!n)
		return -ENOMEM;
	memcpy(n + (size_t)*nr * elem, item, elem);
	*a = n;
	(*nr)++;
	return 0;
}

#endif /* GMT_GROW_H */
