/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one in-order reader of a kernel rb-tree ordered by a u64 key (a VFIO
 * container's dma_list, an IOAS's area interval tree), one node move per
 * step so that a bpf_loop callback drives it, read without the tree's lock
 * through bpf_probe_read_kernel. It resumes: a walk may start at the first
 * node whose key is at or above `from` (a descent, as the kernel's lookups).
 * The key is the u64 at key_off bytes from the struct rb_node (for example
 * vfio_dma.iova, interval_tree_node.start), which the caller computes with
 * CO-RE.
 */
#ifndef GMT_LIB_RBTREE_BPF_H
#define GMT_LIB_RBTREE_BPF_H

enum { GMT_RB_SEEK, GMT_RB_DOWN, GMT_RB_VISIT, GMT_RB_UP };

struct gmt_rb_walk {
	struct rb_node *node;
	struct rb_node *cand;	/* GMT_RB_SEEK: the lowest node >= from so far */
	__u64 from;
	__s64 key_off;
	__u32 mode;
	__u32 done;		/* walked to the end */
};

/* gmt_rb_walk_step() results */
#define GMT_RB_END	-1	/* nothing left (w->done) */
#define GMT_RB_MOVED	0	/* one move down or up */
#define GMT_RB_NODE	1	/* w->node is the next node in order: visit it, then
				 * gmt_rb_walk_next() */

static __always_inline __u64 gmt_rb_key(const struct gmt_rb_walk *w, struct rb_node *n)
{
	__u64 k = 0;

	bpf_probe_read_kernel(&k, sizeof(k), (void *)n + w->key_off);
	return k;
}

/* from 0: every node; else from the first node whose key >= from */
static __always_inline void gmt_rb_walk_init(struct gmt_rb_walk *w, struct rb_node *root,
					     __u64 from, __s64 key_off)
{
	w->node = root;
	w->cand = NULL;
	w->from = from;
	w->key_off = key_off;
	w->mode = from ? GMT_RB_SEEK : GMT_RB_DOWN;
	w->done = 0;
}

static __always_inline struct rb_node *gmt_rb_parent(struct rb_node *n)
{
	return (struct rb_node *)(BPF_CORE_READ(n, __rb_parent_color) & ~3UL);
}

static __always_inline int gmt_rb_walk_step(struct gmt_rb_walk *w)
{
	struct rb_node *n = w->node, *next;

	if (w->mode == GMT_RB_SEEK) {	/* ordered by key: descend */
		if (!n) {
			w->node = w->cand;
			w->mode = GMT_RB_VISIT;
		} else if (gmt_rb_key(w, n) >= w->from) {
			w->cand = n;
			w->node = BPF_CORE_READ(n, rb_left);
		} else {
			w->node = BPF_CORE_READ(n, rb_right);
		}
		return GMT_RB_MOVED;
	}
	if (!n) {
		w->done = 1;
		return GMT_RB_END;
	}
	switch (w->mode) {
	case GMT_RB_DOWN:	/* to the leftmost of this subtree */
		next = BPF_CORE_READ(n, rb_left);
		if (next)
			w->node = next;
		else
			w->mode = GMT_RB_VISIT;
		return GMT_RB_MOVED;
	case GMT_RB_VISIT:
		return GMT_RB_NODE;
	default:		/* GMT_RB_UP: climb while we come from the right */
		next = gmt_rb_parent(n);
		if (next && BPF_CORE_READ(next, rb_right) != n)
			w->mode = GMT_RB_VISIT;
		w->node = next;
		return GMT_RB_MOVED;
	}
}

/* after visiting w->node: on to its right subtree, or up */
static __always_inline void gmt_rb_walk_next(struct gmt_rb_walk *w)
{
	/* w->node apart: inside BPF_CORE_READ, w's own member would be
	 * relocated too, against a kernel type that does not exist */
	struct rb_node *n = w->node;
	struct rb_node *next = BPF_CORE_READ(n, rb_right);

	if (next) {
		w->node = next;
		w->mode = GMT_RB_DOWN;
	} else {
		w->mode = GMT_RB_UP;
	}
}

#endif /* GMT_LIB_RBTREE_BPF_H */
