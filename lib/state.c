// SPDX-License-Identifier: LGPL-2.1-or-later
/* state.c - the SQLite state store: ownership rows, topologies and the apply journal */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "array.h"
#include "state.h"
#include "kind.h"
#include "nat.h"
#include "uplink.h"

/*
 * Keys: a namespace is ("ns", NAME, NODE), a link ("link", NS, IFNAME), an
 * address ("addr", NS, "DEV ADDR/LEN"), a route ("route", NS, "DST METRIC"), vnet's
 * nftables table ("nft", NS, TABLE), forwarding vnet turned on ("sysctl", NS, KEY), a NIC
 * taken over by a bridge ("uplink", NS, NIC), whose state before is kept in table uplink.
 * The primary key spans topologies, so no object is ever owned twice.
 * A topology built as one host's part of a file that spans hosts has a row in topo_host:
 * the host, and every host of the file as "NAME=ADDRESS,..." (vnet show names VTEPs so).
 * The CNI plugin's attachments are not topologies: tables cni_attachment, cni_port (a
 * published port, unique per protocol, host address and port) and cni_network (each
 * network's bridge and elements) are lib/attach.c's.
 */
#define SCHEMA_VERSION 3 /* raise it with every change of the schema below */
#define VNET_STR_(x) #x
#define VNET_STR(x) VNET_STR_(x)
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS topology (name TEXT PRIMARY KEY, file TEXT NOT NULL,"
	" sandbox INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS object (kind TEXT NOT NULL, ns TEXT NOT NULL,"
	" name TEXT NOT NULL, topo TEXT NOT NULL, pending INTEGER NOT NULL,"
	" PRIMARY KEY (kind, ns, name));"
	"CREATE INDEX IF NOT EXISTS object_topo ON object (topo);"
	"CREATE TABLE IF NOT EXISTS journal (topo TEXT PRIMARY KEY, pid INTEGER NOT NULL,"
	" started INTEGER NOT NULL, steps INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lease (pool TEXT NOT NULL, addr INTEGER NOT NULL,"
	" owner TEXT NOT NULL, topo TEXT NOT NULL, PRIMARY KEY (pool, addr), UNIQUE (pool, owner));"
	"CREATE INDEX IF NOT EXISTS lease_topo ON lease (topo);"
	"CREATE TABLE IF NOT EXISTS uplink (ns TEXT NOT NULL, nic TEXT NOT NULL,"
	" bridge TEXT NOT NULL, saved BLOB NOT NULL, PRIMARY KEY (ns, nic));"
	"CREATE TABLE IF NOT EXISTS try (topo TEXT PRIMARY KEY, pid INTEGER NOT NULL,"
	" deadline INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cni_attachment (net TEXT NOT NULL, cid TEXT NOT NULL,"
	" ifname TEXT NOT NULL, netns TEXT NOT NULL, bridge TEXT NOT NULL, host TEXT NOT NULL,"
	" mac TEXT NOT NULL, addrs TEXT NOT NULL, ipam TEXT NOT NULL, spoof INTEGER NOT NULL,"
	" ready INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (net, cid, ifname));"
	"CREATE TABLE IF NOT EXISTS cni_port (proto TEXT NOT NULL, host_addr TEXT NOT NULL,"
	" host_port INTEGER NOT NULL, elem TEXT NOT NULL, net TEXT NOT NULL, cid TEXT NOT NULL,"
	" ifname TEXT NOT NULL, PRIMARY KEY (proto, host_addr, host_port));"
	"CREATE INDEX IF NOT EXISTS cni_port_owner ON cni_port (net, cid, ifname);"
	"CREATE TABLE IF NOT EXISTS cni_network (net TEXT PRIMARY KEY, bridge TEXT NOT NULL,"
	" made INTEGER NOT NULL, elems TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS topo_host (topo TEXT PRIMARY KEY, host TEXT NOT NULL,"
	" hosts TEXT NOT NULL);"
	"PRAGMA user_version=" VNET_STR(SCHEMA_VERSION) ";";

#define STMT_CACHE 40

struct vnet_state {
	sqlite3 *db;
	/* statements run once per container (ipam.c), prepared once: keyed by their text */
	struct {
		const char *sql;
		sqlite3_stmt *s;
	} cache[STMT_CACHE];
	char dir[PATH_MAX];
	int lock_fd;
	bool used_reserve; /* the disk was full and the reserve was given up to finish */
};

/* SQLite's result as -errno: a full disk must not read as an I/O error. */
static int db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

/* The last failure on @st's database as -errno: the system's errno for a full disk,
 * which SQLite may report as a mere I/O error (creating its -wal or -shm file). */
static int db_last(const struct vnet_state *st)
{
	int sys = sqlite3_system_errno(st->db);

	if (sys == ENOSPC || sys == EDQUOT)
		return -ENOSPC;
	return db_errno(sqlite3_extended_errcode(st->db));
}

/* The error of the last failed call on @st's database, in SQLite's words. */
static int db_error(struct vnet_state *st, struct vnet_error *e, const char *op)
{
	int r = db_last(st);

	if (r == -ENOSPC && sqlite3_errcode(st->db) != SQLITE_FULL)
		return vnet_error_set(e, r, "state store", op,
				      "database or disk is full (%s: %s) (%s/state.db)",
				      sqlite3_errmsg(st->db), strerror(ENOSPC), st->dir);
	return vnet_error_set(e, r, "state store", op, "%s (%s/state.db)", sqlite3_errmsg(st->db),
			      st->dir);
}

/* sqlite3_step() to the end of a statement that returns no rows; Return: 0 or -errno. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/*
 * A file kept beside the database to be given up when the disk is full: then vnet can
 * still record what it did (or forget a topology it removed) and say that the disk is
 * full, instead of leaving the kernel and the store at odds.
 */
#define RESERVE_SIZE (256 << 10)

static void reserve_path(const struct vnet_state *st, char *buf, size_t len)
{
	snprintf(buf, len, "%s/reserve", st->dir);
}

static void reserve_make(const struct vnet_state *st)
{
	char path[PATH_MAX + 16];
	int fd;

	reserve_path(st, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* there already, or no room: nothing to do */
	if (posix_fallocate(fd, 0, RESERVE_SIZE) != 0)
		unlink(path);
	close(fd);
}

/* Give the reserve up; Return: whether there was one. */
static bool reserve_use(struct vnet_state *st)
{
	char path[PATH_MAX + 16];

	reserve_path(st, path, sizeof(path));
	if (unlink(path) < 0)
		return false;
	st->used_reserve = true;
	return true;
}

void vnet_state_keep_wal(struct vnet_state *st)
{
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* the next process reads the whole log to open it: keep it short */
	sqlite3_wal_autocheckpoint(st->db, 64);
}

const char *vnet_state_dir(const struct vnet_state *st)
{
	return st->dir;
}

bool vnet_state_used_reserve(const struct vnet_state *st)
{
	return st->used_reserve;
}

/*
 * Open the database and set up its schema; Return: 0 or -errno (see db_error()).
 * Commands that race to make a new store can see SQLITE_BUSY at once, without the busy
 * timeout's wait, while one of them turns the file to WAL: the schema is tried again,
 * every 50 ms for as long as the busy timeout.
 */
/* Has the store the schema above? (PRAGMA user_version, set with it) */
static bool schema_current(struct vnet_state *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v == SCHEMA_VERSION;
}

/* The schema is written when the store has another (or none): a store of this version opens
 * with one statement, not fourteen (the CNI plugin opens it at every call). */
static int db_open(struct vnet_state *st, const char *path)
{
	int rc = SQLITE_BUSY;

	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, 30000) != SQLITE_OK)
		return db_last(st) ?: -EIO;
	if (schema_current(st))
		rc = sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	for (int i = 0; i < 600 && (rc & 0xff) == SQLITE_BUSY; i++) {
		if (i)
			usleep(50000);
		rc = sqlite3_exec(st->db, schema, NULL, NULL, NULL);
	}
	return rc == SQLITE_OK ? 0 : db_last(st) ?: -EIO;
}

int vnet_state_open(const char *dir, struct vnet_state **ret_st, struct vnet_error *reterr)
{
	_cleanup_(vnet_state_closep) struct vnet_state *st = calloc(1, sizeof(*st));
	char path[PATH_MAX + 16];
	int fd, r;

	if (!st)
		return -ENOMEM;
	st->lock_fd = -1;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		return vnet_error_set(reterr, r, "state store", "create", "%s: %s", dir,
				      strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	/* create the file ourselves so that it is 0600 whatever the umask */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		return vnet_error_set(reterr, r, "state store", "open", "%s: %s", path,
				      strerror(-r));
	}
	close(fd);
	r = db_open(st, path);
	if (r == -ENOSPC && reserve_use(st)) {
		sqlite3_close(st->db);
		r = db_open(st, path);
	}
	if (r < 0)
		return db_error(st, reterr, "open");
	reserve_make(st);
	*ret_st = TAKE_PTR(st);
	return 0;
}

void vnet_state_close(struct vnet_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].s);
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}

/* Who holds the lock, as its holder wrote it: "pid 123 (vnet up docker.yaml)". */
static void lock_holder(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!buf[0])
		snprintf(buf, len, "another vnet");
}

/* Say who holds the lock now, for the next one who waits; best effort. */
static void lock_sign(int fd)
{
	char cmd[160] = "", line[200];
	int in = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), n;
	ssize_t got = in < 0 ? 0 : read(in, cmd, sizeof(cmd) - 1);

	if (in >= 0)
		close(in);
	for (ssize_t i = 0; i + 1 < got; i++)
		if (!cmd[i] || (unsigned char)cmd[i] < 0x20 || cmd[i] == 0x7f)
			cmd[i] = ' ';
	cmd[got > 0 ? got : 0] = '\0';
	n = snprintf(line, sizeof(line), "pid %d (%s)\n", (int)getpid(), cmd);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) != n)
		(void)ftruncate(fd, 0);
}

int vnet_state_lock(struct vnet_state *st, bool wait, struct vnet_error *reterr)
{
	char path[PATH_MAX + 16], who[200];

	snprintf(path, sizeof(path), "%s/lock", st->dir);
	if (st->lock_fd < 0)
		st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return vnet_error_set(reterr, -errno, "state store", "lock", "%s: %s", path,
				      strerror(errno));
	if (flock(st->lock_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int r = -errno;

		if (r != -EWOULDBLOCK)
			return vnet_error_set(reterr, r, "state store", "lock", "%s: %s", path,
					      strerror(-r));
		lock_holder(st->lock_fd, who, sizeof(who));
		return vnet_error_set(reterr, -EBUSY, "state store", "lock", "in use by %s", who);
	}
	lock_sign(st->lock_fd);
	return 0;
}

void vnet_state_unlock(struct vnet_state *st)
{
	if (st->lock_fd < 0)
		return;
	(void)ftruncate(st->lock_fd, 0);
	flock(st->lock_fd, LOCK_UN);
}

/* A statement of @sql, or NULL. */
static sqlite3_stmt *prepare(struct vnet_state *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

sqlite3_stmt *vnet_state_prepare(struct vnet_state *st, const char *sql)
{
	return prepare(st, sql);
}

sqlite3_stmt *vnet_state_cached(struct vnet_state *st, const char *sql)
{
	size_t i;

	for (i = 0; i < STMT_CACHE && st->cache[i].sql; i++)
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].s);
			sqlite3_clear_bindings(st->cache[i].s);
			return st->cache[i].s;
		}
	if (i == STMT_CACHE)
		return NULL;
	st->cache[i].s = prepare(st, sql);
	st->cache[i].sql = st->cache[i].s ? sql : NULL;
	return st->cache[i].s;
}

int vnet_state_errno(int rc)
{
	return db_errno(rc);
}

int vnet_state_exec(struct vnet_state *st, const char *sql, struct vnet_error *reterr)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
		       0 :
		       db_error(st, reterr, "write");
}

static void bind_texts(sqlite3_stmt *s, int n, const char *const *v)
{
	sqlite3_reset(s);
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_TRANSIENT);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

static void fill_info(sqlite3_stmt *s, struct vnet_topo_info *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", col_text(s, 0));
	snprintf(t->file, sizeof(t->file), "%s", col_text(s, 1));
	t->sandbox = sqlite3_column_int(s, 2);
	t->updated = sqlite3_column_int64(s, 3);
	t->objects = (unsigned)sqlite3_column_int(s, 4);
	t->interrupted = sqlite3_column_int(s, 5);
	snprintf(t->host, sizeof(t->host), "%s", col_text(s, 6));
}

#define INFO_SQL                                               \
	"SELECT name, file, sandbox, updated,"                 \
	" (SELECT count(*) FROM object WHERE topo = t.name),"  \
	" EXISTS (SELECT 1 FROM journal WHERE topo = t.name)," \
	" (SELECT host FROM topo_host WHERE topo = t.name) FROM topology t"

int vnet_state_get_topo(struct vnet_state *st, const char *name, struct vnet_topo_info *ret)
{
	sqlite3_stmt *s = prepare(st, INFO_SQL " WHERE name = ?");
	int r, rc;

	if (!s)
		return db_errno(sqlite3_extended_errcode(st->db));
	bind_texts(s, 1, &name);
	rc = sqlite3_step(s);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	if (!r)
		fill_info(s, ret);
	sqlite3_finalize(s);
	return r;
}

int vnet_state_list(struct vnet_state *st, struct vnet_topo_info **ret, size_t *ret_n)
{
	sqlite3_stmt *s = prepare(st, INFO_SQL " ORDER BY name");
	struct vnet_topo_info *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!s)
		return db_errno(sqlite3_extended_errcode(st->db));
	/* a failed step is an error, never the end of the rows (a corrupt page reads so) */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (vnet_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		fill_info(s, &v[n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_errno(rc);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int vnet_state_rows(struct vnet_state *st, const char *topo, struct vnet_state_row **ret,
		    size_t *ret_n)
{
	sqlite3_stmt *s = prepare(st, "SELECT kind, ns, name FROM object WHERE topo = ?"
				      " ORDER BY kind, ns, name");
	struct vnet_state_row *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!s)
		return db_errno(sqlite3_extended_errcode(st->db));
	bind_texts(s, 1, &topo);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (vnet_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		snprintf(v[n].kind, sizeof(v[n].kind), "%s", col_text(s, 0));
		snprintf(v[n].ns, sizeof(v[n].ns), "%s", col_text(s, 1));
		snprintf(v[n].name, sizeof(v[n].name), "%s", col_text(s, 2));
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_errno(rc);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void vnet_state_key_addr(const struct vnet_addr *a, char *buf, size_t len)
{
	char txt[64];

	vnet_addr_format(a->family, a->addr, a->prefixlen, txt, sizeof(txt));
	snprintf(buf, len, "%s %s", a->dev, txt);
}

void vnet_state_key_route(const struct vnet_route *r, char *buf, size_t len)
{
	char txt[64];

	vnet_addr_format(r->family, r->dst, r->dst_len, txt, sizeof(txt));
	snprintf(buf, len, "%s %u", txt, r->metric);
}

/* ---- writing ---- */

struct writer {
	struct vnet_state *st;
	sqlite3_stmt *ins, *owner;
	const char *topo;
	int pending;
	struct vnet_error *err;
};

/* Record one object; another topology's row for it is a conflict. */
static int record(struct writer *w, const char *kind, const char *ns, const char *name)
{
	const char *v[] = { kind, ns, name, w->topo };
	char p[2] = { (char)('0' + w->pending), 0 };
	int rc;

	bind_texts(w->ins, 4, v);
	sqlite3_bind_text(w->ins, 5, p, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(w->ins) != SQLITE_DONE)
		return db_error(w->st, w->err, "record");
	if (sqlite3_changes(w->st->db))
		return 0;
	bind_texts(w->owner, 3, v);
	rc = sqlite3_step(w->owner);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(w->st, w->err, "record");
	if (rc == SQLITE_ROW && strcmp(col_text(w->owner, 0), w->topo))
		return vnet_error_set(w->err, -EEXIST, kind, "record",
				      "%s %s%s%s belongs to topology %s", kind, name,
				      ns[0] ? " in " : "", ns, col_text(w->owner, 0));
	return 0;
}

/* vnet's nftables table ("nft", NS, TABLE), and IPv4 forwarding when vnet turned it on
 * ("sysctl", NS, VNET_SYSCTL_FORWARD), which vnet down turns off again. */
static int record_nat(struct writer *w, const char *ns, const char *table, bool nat, bool forward)
{
	int r = nat ? record(w, "nft", ns, table) : 0;

	return r < 0 || !forward ? r : record(w, "sysctl", ns, VNET_SYSCTL_FORWARD);
}

/*
 * A take-over: its row, and the NIC as it was, which observe gave the plan: the record's
 * while the NIC is the bridge's (after a crash, not a half-moved NIC), else the NIC's now.
 */
static int record_uplink(struct writer *w, const struct vnet_uplink *u,
			 const struct vnet_uplink_saved *saved)
{
	sqlite3_stmt *s;
	size_t len;
	void *blob;
	int r = record(w, "uplink", u->ns, u->nic);

	if (r < 0 || !saved)
		return r;
	r = vnet_uplink_saved_encode(saved, &blob, &len);
	if (r < 0)
		return vnet_error_set(w->err, r, "state store", "record", "out of memory");
	s = prepare(w->st, "INSERT INTO uplink (ns, nic, bridge, saved) VALUES (?, ?, ?, ?)"
			   " ON CONFLICT (ns, nic) DO UPDATE SET bridge = excluded.bridge,"
			   " saved = excluded.saved");
	if (!s) {
		free(blob);
		return db_error(w->st, w->err, "prepare");
	}
	sqlite3_bind_text(s, 1, u->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, u->nic, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, u->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, blob, (int)len, free);
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(w->st, w->err, "record") : 0;
}

static int record_op(struct writer *w, const struct vnet_op *op)
{
	char key[128];

	switch (op->kind) {
	case VNET_OP_NS_ADD:
		return record(w, "ns", op->ns.name, op->ns.node);
	case VNET_OP_LINK_ADD:
		if (vnet_kind_has(op->link.kind, VNET_KIND_F_PAIR)) {
			int r = record(w, "link", op->link.peer_ns, op->link.peer);

			if (r < 0)
				return r;
		}
		return record(w, "link", op->link.ns, op->link.name);
	case VNET_OP_ADDR_ADD:
		vnet_state_key_addr(&op->addr, key, sizeof(key));
		return record(w, "addr", op->addr.ns, key);
	case VNET_OP_ROUTE_ADD:
		vnet_state_key_route(&op->route, key, sizeof(key));
		return record(w, "route", op->route.ns, key);
	case VNET_OP_NAT:
		return record_nat(w, op->nat->ns, op->nat->table, op->nat->create,
				  op->nat->forward == 1);
	case VNET_OP_UPLINK:
		return op->set & VNET_UPLINK_GIVE ?
			       0 :
			       record_uplink(w, &op->uplink->u, &op->uplink->saved);
	default:
		return 0;
	}
}

static int writer_open(struct writer *w, struct vnet_state *st, const char *topo, int pending,
		       struct vnet_error *reterr)
{
	*w = (struct writer){ .st = st, .topo = topo, .pending = pending, .err = reterr };
	w->ins = prepare(st, "INSERT OR IGNORE INTO object (kind, ns, name, topo, pending)"
			     " VALUES (?, ?, ?, ?, ?)");
	w->owner = prepare(st, "SELECT topo FROM object WHERE kind = ? AND ns = ? AND name = ?");
	if (!w->ins || !w->owner)
		return db_error(st, reterr, "prepare");
	return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ?
		       0 :
		       db_error(st, reterr, "begin");
}

/* Commit when @r is 0, else roll the transaction back; Return: @r or the commit's error. */
static int writer_close(struct writer *w, int r)
{
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->owner);
	if (r >= 0 && sqlite3_exec(w->st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = db_error(w->st, w->err, "commit");
	if (r < 0)
		sqlite3_exec(w->st->db, "ROLLBACK", NULL, NULL, NULL);
	else
		vnet_crash_point();
	return r;
}

/*
 * One write transaction around @body. When the disk is full, the reserve is given up
 * and the transaction runs once more: a full disk must not leave the kernel changed
 * and the store unaware of it.
 */
static int txn(struct vnet_state *st, const char *topo, int pending,
	       int (*body)(struct writer *w, const void *arg), const void *arg,
	       struct vnet_error *reterr)
{
	struct writer w;
	int r;

	for (int attempt = 0;; attempt++) {
		r = writer_open(&w, st, topo, pending, reterr);
		if (r >= 0)
			r = body(&w, arg);
		r = writer_close(&w, r);
		if (r != -ENOSPC || attempt || !reserve_use(st))
			return r;
	}
}

static int exec_topo(struct writer *w, const char *sql)
{
	sqlite3_stmt *s = prepare(w->st, sql);
	int r;

	if (!s)
		return db_error(w->st, w->err, "prepare");
	bind_texts(s, 1, &w->topo);
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(w->st, w->err, "write") : 0;
}

#define TOPO_INSERT "INSERT INTO topology (name, file, sandbox, updated) VALUES (?, ?, ?, ?)"
#define TOPO_UPSERT                                                           \
	TOPO_INSERT " ON CONFLICT (name) DO UPDATE SET file = excluded.file," \
		    " sandbox = excluded.sandbox, updated = excluded.updated"
#define TOPO_KEEP TOPO_INSERT " ON CONFLICT (name) DO NOTHING"

/* The topology's row: TOPO_UPSERT after success; TOPO_KEEP before an apply, so that a
 * failed apply leaves a known topology's row as it was. */
static int write_topo(struct writer *w, const struct vnet_model *m, const char *sql)
{
	sqlite3_stmt *s = prepare(w->st, sql);
	int r;

	if (!s)
		return db_error(w->st, w->err, "prepare");
	sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->file, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, m->sandbox);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(w->st, w->err, "write") : 0;
}

static int journal_start(struct writer *w, size_t steps)
{
	sqlite3_stmt *s = prepare(w->st, "INSERT OR REPLACE INTO journal (topo, pid, started,"
					 " steps) VALUES (?, ?, ?, ?)");
	int r;

	if (!s)
		return db_error(w->st, w->err, "prepare");
	sqlite3_bind_text(s, 1, w->topo, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)getpid());
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(s, 4, (sqlite3_int64)steps);
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(w->st, w->err, "journal") : 0;
}

struct begin_arg {
	const struct vnet_model *m;
	const struct vnet_plan *plan;
};

static int begin_body(struct writer *w, const void *arg)
{
	const struct begin_arg *a = arg;
	int r = write_topo(w, a->m, TOPO_KEEP);

	if (r >= 0)
		r = journal_start(w, a->plan->ops.n);
	for (size_t i = 0; r >= 0 && i < a->plan->ops.n; i++)
		r = record_op(w, &a->plan->ops.v[i]);
	return r;
}

int vnet_state_begin(struct vnet_state *st, const struct vnet_model *m,
		     const struct vnet_plan *plan, struct vnet_error *reterr)
{
	struct begin_arg a = { m, plan };

	return txn(st, m->name, 1, begin_body, &a, reterr);
}

static int record_model(struct writer *w, const struct vnet_model *m)
{
	char key[128];
	int r = 0;

	for (size_t i = 0; r >= 0 && i < m->ns.n; i++)
		if (m->ns.v[i].name[0])
			r = record(w, "ns", m->ns.v[i].name, m->ns.v[i].node);
	for (size_t i = 0; r >= 0 && i < m->links.n; i++)
		r = record(w, "link", m->links.v[i].ns, m->links.v[i].name);
	for (size_t i = 0; r >= 0 && i < m->addrs.n; i++) {
		vnet_state_key_addr(&m->addrs.v[i], key, sizeof(key));
		r = record(w, "addr", m->addrs.v[i].ns, key);
	}
	for (size_t i = 0; r >= 0 && i < m->routes.n; i++) {
		vnet_state_key_route(&m->routes.v[i], key, sizeof(key));
		r = record(w, "route", m->routes.v[i].ns, key);
	}
	if (r >= 0 && m->nat.table[0])
		r = record_nat(w, m->nat.ns, m->nat.table, true, m->nat.forward_owned);
	/* an observed model (settle) lists the uplinks not given back whole: the rest go */
	for (size_t i = 0; r >= 0 && i < m->uplinks.n; i++)
		r = record_uplink(w, &m->uplinks.v[i], m->uplinks.v[i].saved);
	return r;
}

/* The NIC as it was is kept as long as a row says that vnet holds it. */
#define UPLINK_PRUNE                                                        \
	"DELETE FROM uplink WHERE NOT EXISTS (SELECT 1 FROM object o WHERE" \
	" o.kind = 'uplink' AND o.ns = uplink.ns AND o.name = uplink.nic)"

/* The host of a desired model that is one host's part, and the file's hosts. */
static int write_hosts(struct writer *w, const struct vnet_model *m)
{
	char hosts[VNET_HOST_MAX * (VNET_NAMSIZ + 18)] = "", a[INET_ADDRSTRLEN];
	sqlite3_stmt *s;
	size_t off = 0;
	int r = exec_topo(w, "DELETE FROM topo_host WHERE topo = ?");

	if (r < 0 || !m->host[0])
		return r;
	for (size_t i = 0; i < m->hosts.n && off < sizeof(hosts); i++)
		off += (size_t)snprintf(hosts + off, sizeof(hosts) - off, "%s%s=%s", i ? "," : "",
					m->hosts.v[i].name,
					inet_ntop(AF_INET, m->hosts.v[i].addr, a, sizeof(a)));
	s = prepare(w->st, "INSERT INTO topo_host (topo, host, hosts) VALUES (?, ?, ?)");
	if (!s)
		return db_error(w->st, w->err, "prepare");
	sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, hosts, -1, SQLITE_STATIC);
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(w->st, w->err, "write") : 0;
}

int vnet_state_hosts(struct vnet_state *st, const char *topo, struct vnet_model *m)
{
	sqlite3_stmt *s = prepare(st, "SELECT host, hosts FROM topo_host WHERE topo = ?");
	char hosts[VNET_HOST_MAX * (VNET_NAMSIZ + 18)], *save = NULL;
	int rc;

	if (!s)
		return db_errno(sqlite3_extended_errcode(st->db));
	bind_texts(s, 1, &topo);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(m->host, sizeof(m->host), "%s", col_text(s, 0));
		snprintf(hosts, sizeof(hosts), "%s", col_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : db_errno(rc);
	for (char *t = strtok_r(hosts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		struct vnet_host *h;

		if (!eq)
			continue;
		*eq = '\0';
		h = vnet_model_add_host(m);
		if (!h)
			return -ENOMEM;
		snprintf(h->name, sizeof(h->name), "%s", t);
		if (inet_pton(AF_INET, eq + 1, h->addr) != 1)
			m->hosts.n--; /* a row that does not read is no name to give */
	}
	return 0;
}

/* The rows of the topology become exactly the objects of @arg, and its journal ends. */
static int replace_rows(struct writer *w, const struct vnet_model *m, const char *topo_sql)
{
	int r = exec_topo(w, "DELETE FROM object WHERE topo = ?");

	if (r >= 0)
		r = record_model(w, m);
	if (r >= 0)
		r = write_topo(w, m, topo_sql);
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM journal WHERE topo = ?");
	if (r >= 0)
		r = exec_topo(w, UPLINK_PRUNE);
	return r;
}

static int commit_body(struct writer *w, const void *arg)
{
	int r = replace_rows(w, arg, TOPO_UPSERT);

	return r < 0 ? r : write_hosts(w, arg);
}

int vnet_state_commit(struct vnet_state *st, const struct vnet_model *m, struct vnet_error *reterr)
{
	return txn(st, m->name, 0, commit_body, m, reterr);
}

static int settle_body(struct writer *w, const void *arg)
{
	int r = replace_rows(w, arg, TOPO_KEEP);

	/* a topology that has nothing built is not worth listing */
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM topology WHERE name = ?1 AND NOT EXISTS"
				 " (SELECT 1 FROM object WHERE topo = ?1)");
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM topo_host WHERE NOT EXISTS"
				 " (SELECT 1 FROM topology WHERE name = topo_host.topo)");
	return r;
}

int vnet_state_settle(struct vnet_state *st, const struct vnet_model *owned,
		      struct vnet_error *reterr)
{
	return txn(st, owned->name, 0, settle_body, owned, reterr);
}

static int forget_body(struct writer *w, const void *arg)
{
	int r = exec_topo(w, "DELETE FROM object WHERE topo = ?");

	(void)arg;
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM journal WHERE topo = ?");
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM lease WHERE topo = ?");
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM topology WHERE name = ?");
	if (r >= 0)
		r = exec_topo(w, "DELETE FROM topo_host WHERE topo = ?");
	if (r >= 0)
		r = exec_topo(w, UPLINK_PRUNE);
	return r;
}

int vnet_state_forget(struct vnet_state *st, const char *topo, struct vnet_error *reterr)
{
	return txn(st, topo, 0, forget_body, NULL, reterr);
}

int vnet_state_uplinks(struct vnet_state *st, const char *topo, struct vnet_model *m,
		       struct vnet_error *reterr)
{
	sqlite3_stmt *s = prepare(st, "SELECT u.ns, u.nic, u.bridge, u.saved FROM uplink u JOIN"
				      " object o ON o.kind = 'uplink' AND o.ns = u.ns AND"
				      " o.name = u.nic WHERE o.topo = ? ORDER BY u.ns, u.nic");
	int rc, r = 0;

	if (!s)
		return db_error(st, reterr, "read");
	bind_texts(s, 1, &topo);
	while (r >= 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vnet_uplink *u = vnet_model_add_uplink(m);

		if (!u) {
			r = vnet_error_set(reterr, -ENOMEM, "state store", "read", "out of memory");
			break;
		}
		snprintf(u->ns, sizeof(u->ns), "%s", col_text(s, 0));
		snprintf(u->nic, sizeof(u->nic), "%s", col_text(s, 1));
		snprintf(u->bridge, sizeof(u->bridge), "%s", col_text(s, 2));
		u->owned = true;
		r = vnet_uplink_saved_decode(sqlite3_column_blob(s, 3),
					     (size_t)sqlite3_column_bytes(s, 3), &u->saved);
		if (r == -EBADMSG)
			r = 0; /* unreadable: left NULL, for the caller to take back from the kernel */
		else if (r < 0)
			vnet_error_set(reterr, r, "state store", "read", "out of memory");
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(st, reterr, "read");
	sqlite3_finalize(s);
	return r;
}

/* ---- --try: a change kept only when confirmed before its deadline ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int vnet_state_try_start(struct vnet_state *st, const char *topo, long long deadline_ms,
			 struct vnet_error *reterr)
{
	sqlite3_stmt *s = prepare(st, "INSERT OR REPLACE INTO try (topo, pid, deadline, state, at)"
				      " VALUES (?, ?, ?, 'pending', ?)");
	int r;

	if (!s)
		return db_error(st, reterr, "prepare");
	sqlite3_bind_text(s, 1, topo, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)getpid());
	sqlite3_bind_int64(s, 3, deadline_ms);
	sqlite3_bind_int64(s, 4, now_ms());
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? db_error(st, reterr, "write") : 0;
}

int vnet_state_try_decide(struct vnet_state *st, const char *topo, const char *from, const char *to)
{
	sqlite3_stmt *s =
		prepare(st, "UPDATE try SET state = ?, at = ? WHERE topo = ? AND state = ?");
	int r;

	if (!s)
		return db_last(st);
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms());
	sqlite3_bind_text(s, 3, topo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, from, -1, SQLITE_STATIC);
	r = step_done(s);
	sqlite3_finalize(s);
	return r < 0 ? r : sqlite3_changes(st->db);
}

int vnet_state_try_get(struct vnet_state *st, const char *topo, struct vnet_try *ret)
{
	sqlite3_stmt *s = prepare(st, "SELECT pid, deadline, state, at FROM try WHERE topo = ?");
	int rc, r;

	if (!s)
		return db_last(st);
	bind_texts(s, 1, &topo);
	rc = sqlite3_step(s);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	if (!r) {
		memset(ret, 0, sizeof(*ret));
		ret->pid = sqlite3_column_int(s, 0);
		ret->deadline_ms = sqlite3_column_int64(s, 1);
		snprintf(ret->state, sizeof(ret->state), "%s", col_text(s, 2));
		ret->at_ms = sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);
	return r;
}

int vnet_state_try_forget(struct vnet_state *st, const char *topo)
{
	sqlite3_stmt *s = prepare(st, "DELETE FROM try WHERE topo = ?");
	int r;

	if (!s)
		return db_last(st);
	bind_texts(s, 1, &topo);
	r = step_done(s);
	sqlite3_finalize(s);
	return r;
}
