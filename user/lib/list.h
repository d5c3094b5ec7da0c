/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * An intrusive doubly-linked list, as the kernel's list_head: the node lives in
 * the caller's struct, the list is a ring through a head that is its own node, so
 * adding and removing never branch on an end. The collector's least recently used
 * orders are these lists: touched entries move to the tail, the head's next is the
 * oldest.
 */
#ifndef ACCESSMON_LIB_LIST_H
#define ACCESSMON_LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* The struct of type `type` whose member `member` is at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) {&(name), &(name)}

static inline void list_init(struct list_head *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void list_insert_between(struct list_head *node, struct list_head *prev,
				       struct list_head *next)
{
	next->prev = node;
	node->next = next;
	node->prev = prev;
	prev->next = node;
}

/* At the front: the first list_first() returns. */
static inline void list_add(struct list_head *node, struct list_head *head)
{
	list_insert_between(node, head, head->next);
}

/* At the back: the last list_last() returns. */
static inline void list_add_tail(struct list_head *node, struct list_head *head)
{
	list_insert_between(node, head->prev, head);
}

static inline void list_unlink(struct list_head *node)
{
	node->next->prev = node->prev;
	node->prev->next = node->next;
}

/* Takes node out of its list; it is left an empty list of its own, safe to del again. */
static inline void list_del(struct list_head *node)
{
	list_unlink(node);
	list_init(node);
}

/* To the front; list_move_tail to the back (a cache's use of an entry). */
static inline void list_move(struct list_head *node, struct list_head *head)
{
	list_unlink(node);
	list_add(node, head);
}

static inline void list_move_tail(struct list_head *node, struct list_head *head)
{
	list_unlink(node);
	list_add_tail(node, head);
}

/* The first and last nodes, or NULL when the list is empty. */
static inline struct list_head *list_first(const struct list_head *head)
{
	return list_empty(head) ? NULL : head->next;
}

static inline struct list_head *list_last(const struct list_head *head)
{
	return list_empty(head) ? NULL : head->prev;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

/* The struct holding the first (last) node, or NULL when the list is empty. */
#define list_first_entry_or_null(head, type, member)                                               \
	(list_empty(head) ? NULL : list_entry((head)->next, type, member))
#define list_last_entry_or_null(head, type, member)                                                \
	(list_empty(head) ? NULL : list_entry((head)->prev, type, member))

/*
 * Front to back, by node (list_entry() finds the struct): a head is never taken
 * for an entry. The body must not remove node; list_for_each_safe's may.
 */
#define list_for_each(node, head) for (node = (head)->next; node != (head); node = node->next)

#define list_for_each_safe(node, next_node, head)                                                  \
	for (node = (head)->next, next_node = node->next; node != (head);                          \
	     node = next_node, next_node = node->next)

#endif /* ACCESSMON_LIB_LIST_H */
