/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.h - the SQLite state store: what each topology owns, and the journal of an apply */
#ifndef VNET_STATE_H
#define VNET_STATE_H

#include "cleanup.h"
#include "vnet/vnet.h"

struct vnet_state;

/* One owned object: kind "ns", "link", "addr" or "route"; see state.c for the keys. */
struct vnet_state_row {
	char kind[8];
	char ns[VNET_NAMSIZ];
	char name[96];
};

/**
 * vnet_state_open() - open (creating if needed) the store in a directory
 * @dir: the directory, made with mode 0700; the database file gets mode 0600
 * @ret_st: the store
 * @reterr: why it could not be opened
 *
 * Return: 0 or -errno.
 */
int vnet_state_open(const char *dir, struct vnet_state **ret_st, struct vnet_error *reterr);
void vnet_state_close(struct vnet_state *st);
VNET_DEFINE_CLEANUP(struct vnet_state *, vnet_state_close)

/**
 * vnet_state_lock() - serialize commands that change the kernel: an exclusive flock(2)
 * @st: the store
 * @wait: wait for the lock; else fail at once with -EBUSY, @reterr naming the holder
 * @reterr: why not
 *
 * Return: 0, -EBUSY or -errno.
 */
int vnet_state_lock(struct vnet_state *st, bool wait, struct vnet_error *reterr);
/* vnet_state_unlock() - let the next command in (the store stays open for reading). */
void vnet_state_unlock(struct vnet_state *st);
/*
 * vnet_state_keep_wal() - closing does not checkpoint the write-ahead log (nor sync the
 * files): for a program that runs a few milliseconds many times (the CNI plugin). A commit
 * checkpoints once the log holds 64 pages: opening the store reads the whole log, so a
 * long one costs every later process (4 MB, SQLite's default limit: 2.8 ms here).
 */
void vnet_state_keep_wal(struct vnet_state *st);
/* vnet_state_dir() - the store's directory, for messages. */
const char *vnet_state_dir(const struct vnet_state *st);
/* vnet_state_used_reserve() - the disk was full, and the reserve kept for that was used. */
bool vnet_state_used_reserve(const struct vnet_state *st);

/* vnet_state_get_topo() - Return: 0 with @ret filled, -ENOENT when @name is unknown. */
int vnet_state_get_topo(struct vnet_state *st, const char *name, struct vnet_topo_info *ret);
/* vnet_state_list() - every topology; Return: 0 or -errno. */
int vnet_state_list(struct vnet_state *st, struct vnet_topo_info **ret, size_t *ret_n);

/* vnet_state_rows() - the objects @topo owns, sorted by kind, ns, name. */
int vnet_state_rows(struct vnet_state *st, const char *topo, struct vnet_state_row **ret,
		    size_t *ret_n);

/* The key of an object in the store. */
void vnet_state_key_addr(const struct vnet_addr *a, char *buf, size_t len);
void vnet_state_key_route(const struct vnet_route *r, char *buf, size_t len);

/**
 * vnet_state_begin() - record an apply before it touches the kernel
 * @st: the store
 * @m: the desired model (its name, file and sandbox flag are recorded)
 * @plan: the steps; every object they create is recorded as pending
 * @reterr: an object owned by another topology, or a database failure
 *
 * Return: 0, -EEXIST when another topology owns an object, or -errno.
 */
int vnet_state_begin(struct vnet_state *st, const struct vnet_model *m,
		     const struct vnet_plan *plan, struct vnet_error *reterr);

/* vnet_state_commit() - after success: @m->name owns exactly the objects of @m. */
int vnet_state_commit(struct vnet_state *st, const struct vnet_model *m, struct vnet_error *reterr);
/*
 * vnet_state_settle() - after a failed apply, or to take back what the kernel's tags
 * prove: @owned->name owns exactly the objects of @owned (what is vnet's in the kernel
 * now), its journal ends; a topology left with nothing is forgotten.
 */
int vnet_state_settle(struct vnet_state *st, const struct vnet_model *owned,
		      struct vnet_error *reterr);
/* vnet_state_forget() - after down: forget @topo and all it owned. */
/* vnet_state_hosts() - @m->host and @m->hosts as the topology's part of a multi-host file
 * was recorded (nothing for a topology of one host). Return: 0 or -errno. */
int vnet_state_hosts(struct vnet_state *st, const char *topo, struct vnet_model *m);
int vnet_state_forget(struct vnet_state *st, const char *topo, struct vnet_error *reterr);

/**
 * vnet_state_uplinks() - the NICs @topo has taken over, with each one as it was before
 * @st: the store
 * @topo: the topology
 * @m: an observed model: each becomes an owned entry of @m->uplinks, with its saved state
 *     (NULL when the store's bytes of it are not one: a corrupt store)
 * @reterr: a failed read
 *
 * Return: 0 or -errno.
 */
int vnet_state_uplinks(struct vnet_state *st, const char *topo, struct vnet_model *m,
		       struct vnet_error *reterr);

/* vnet_state_try_start() - a --try of @topo is pending until @deadline_ms (epoch), held by
 * this process. */
int vnet_state_try_start(struct vnet_state *st, const char *topo, long long deadline_ms,
			 struct vnet_error *reterr);
/* vnet_state_try_decide() - the try's state goes from @from to @to, if it still is @from:
 * the one atomic step that settles a race of confirm and deadline. Return: 1 when it did,
 * 0 when the state was another, or -errno. */
int vnet_state_try_decide(struct vnet_state *st, const char *topo, const char *from,
			  const char *to);
/* vnet_state_try_get() - the try of @topo; Return: 0, -ENOENT when none, or -errno. */
int vnet_state_try_get(struct vnet_state *st, const char *topo, struct vnet_try *ret);
/* vnet_state_try_forget() - no try of @topo any more. */
int vnet_state_try_forget(struct vnet_state *st, const char *topo);

/* For ipam.c, which keeps its leases in the same database. */
typedef struct sqlite3_stmt sqlite3_stmt;
/* vnet_state_prepare() - a statement of @sql on the store's database, or NULL. */
sqlite3_stmt *vnet_state_prepare(struct vnet_state *st, const char *sql);
/* vnet_state_cached() - the same, prepared once and kept by the store (@sql must be a
 * string that lives as long as the program: its address is the key); reset after use,
 * never finalized by the caller. NULL when out of memory or when the cache is full. */
sqlite3_stmt *vnet_state_cached(struct vnet_state *st, const char *sql);
/* vnet_state_errno() - SQLite's result code @rc as -errno. */
int vnet_state_errno(int rc);
/* vnet_state_exec() - run @sql (BEGIN IMMEDIATE, COMMIT, ...); Return: 0 or -errno, said. */
int vnet_state_exec(struct vnet_state *st, const char *sql, struct vnet_error *reterr);

#endif /* VNET_STATE_H */
