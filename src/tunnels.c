// SPDX-License-Identifier: LGPL-2.1-or-later
/* tunnels.c - the tunnels a topology file declares: vnet up runs `vnet tunnel` on each
 * device, in its namespace, and vnet down stops them (vnet-tunnel(7)) */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * Each running tunnel has a record in STATE_DIR/tunnels/TOPO/DEV@NS: its pid, the start
 * time the kernel gives the process (so that a pid used again by another process is never
 * taken for it), and its command line; and its output in DEV@NS.log. A tunnel runs when
 * its record's process is alive with that start time; it is the file's when its command
 * line is the one the file makes now.
 */
#define START_MS 5000 /* how long a tunnel may take to attach to its device and bind */
#define STOP_MS 2000 /* how long it may take to stop on SIGTERM */
#define STEP_MS 20
#define TAG "VNET_TUNNEL_OF" /* in a tunnel's environment: the topology that started it */

struct record {
	pid_t pid;
	unsigned long long start;
	char args[256];
};

/* snprintf() into array @buf; Return: false when it did not fit (nothing is that long here
 * but a state directory given so). */
#define PATHF(buf, ...) fits(snprintf((buf), sizeof(buf), __VA_ARGS__), sizeof(buf))

static bool fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); 0 when
 * there is no such process or it is a zombie. */
static unsigned long long start_time(pid_t pid)
{
	char path[32], buf[1024], *p, *save = NULL;
	size_t n;
	FILE *f;
	int field = 2;

	PATHF(path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command's name may hold spaces and parentheses */
	if (!p || p[1] != ' ' || p[2] == 'Z')
		return 0;
	for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (++field == 22)
			return strtoull(tok, NULL, 10);
	return 0;
}

static bool alive(const struct record *r)
{
	return r->pid > 0 && r->start && start_time(r->pid) == r->start;
}

static bool read_record(const char *path, struct record *r)
{
	char line[64], *end;
	FILE *f = fopen(path, "re");
	bool ok;
	long pid;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) && fgets(r->args, sizeof(r->args), f);
	fclose(f);
	if (!ok)
		return false;
	r->args[strcspn(r->args, "\n")] = '\0';
	errno = 0;
	pid = strtol(line, &end, 10);
	r->start = strtoull(end, &end, 10);
	r->pid = (pid_t)pid;
	return !errno && *end == '\n' && pid > 0 && pid <= INT_MAX;
}

/* Written whole or not at all: a crash leaves the old record or the new one. */
static int write_record(const char *path, const struct record *r)
{
	char tmp[PATH_MAX];
	FILE *f;
	int bad;

	if (!PATHF(tmp, "%s.new", path))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d %llu\n%s\n", (int)r->pid, r->start, r->args);
	bad = fflush(f) || fsync(fileno(f));
	if (fclose(f) || bad || rename(tmp, path) < 0) {
		int err = errno ? errno : EIO;

		unlink(tmp);
		return -err;
	}
	return 0;
}

/* The command line of @t, as `vnet tunnel` takes it (no word holds a space). */
static void tunnel_args(const struct vnet_tunnel_decl *t, char *buf, size_t len)
{
	char peer[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN], mtu[24] = "";

	inet_ntop(AF_INET, t->peer, peer, sizeof(peer));
	inet_ntop(AF_INET, t->local, local, sizeof(local));
	if (t->mtu)
		snprintf(mtu, sizeof(mtu), " --mtu %u", t->mtu);
	snprintf(buf, len, "tunnel %s --peer %s:%u --local %s:%u --id %u --queues %u%s%s%s", t->dev,
		 peer, t->peer_port, local, t->port, t->id, t->queues, t->tap ? " --tap" : "",
		 t->offload ? "" : " --no-offload", mtu);
}

/* The directory of @topo's records, made when @make. */
static int record_dir(const struct cli *cli, const char *topo, bool make, char *buf, size_t len)
{
	if (!fits(snprintf(buf, len, "%s/tunnels", cli->state_dir), len))
		return -ENAMETOOLONG;
	if (make && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (!fits(snprintf(buf, len, "%s/tunnels/%s", cli->state_dir, topo), len))
		return -ENAMETOOLONG;
	if (make && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* vnet's environment with TAG=@topo first, where held_by() looks for it. */
static char **tagged_env(const char *topo)
{
	static char tag[sizeof(TAG) + VNET_NAMSIZ + 2];
	size_t n = 0, k = 1;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return environ;
	snprintf(tag, sizeof(tag), "%s=%s", TAG, topo);
	env[0] = tag;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], TAG "=", sizeof(TAG)))
			env[k++] = environ[i];
	return env;
}

/* In the child: become `vnet tunnel` in the device's namespace, its output in @log, tagged
 * with its topology in its environment (TAG=TOPO) as the tunnels vnet started. */
static void run_child(const char *topo, const char *ns, int log, const char *args)
{
	char buf[256], *argv[16], *save = NULL;
	int argc = 0, null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid(); /* neither vnet's terminal nor its end takes the tunnel along */
	dup2(null, STDIN_FILENO);
	dup2(log, STDOUT_FILENO);
	dup2(log, STDERR_FILENO);
	if (cli_enter_ns(ns))
		_exit(EXIT_FAILED);
	snprintf(buf, sizeof(buf), "%s", args);
	argv[argc++] = "vnet";
	for (char *w = strtok_r(buf, " ", &save); w && argc < 15; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	closefrom(STDERR_FILENO + 1); /* the store's files and the lock are not the tunnel's */
	execve("/proc/self/exe", argv, tagged_env(topo));
	fprintf(stderr, "vnet: cannot run vnet tunnel: %s\n", strerror(errno));
	_exit(127);
}

/* Does @pid hold a tun file attached to @dev (its fdinfo says "iff: DEV")? Its sockets'
 * inodes go to @ino. */
static bool attached(pid_t pid, const char *dev, unsigned long *ino, size_t *n_ino)
{
	char path[320], link[64], line[128], want[VNET_IFNAMSIZ + 8];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	PATHF(path, "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	snprintf(want, sizeof(want), "iff:\t%s\n", dev);
	while (dir && (d = readdir(dir))) {
		ssize_t n;

		PATHF(path, "/proc/%d/fd/%s", (int)pid, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		if (!strncmp(link, "socket:[", 8) && *n_ino < 8)
			ino[(*n_ino)++] = strtoul(link + 8, NULL, 10);
		if (strcmp(link, "/dev/net/tun"))
			continue;
		PATHF(path, "/proc/%d/fdinfo/%s", (int)pid, d->d_name);
		FILE *f = fopen(path, "re");

		while (f && !found && fgets(line, sizeof(line), f))
			found = !strcmp(line, want);
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return found;
}

/* Has @pid bound one of its sockets (@ino) to UDP port @port, in its namespace? */
static bool bound(pid_t pid, uint16_t port, const unsigned long *ino, size_t n_ino)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	PATHF(path, "/proc/%d/net/udp", (int)pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		char *w[10], *save = NULL, *colon;
		size_t n = 0;

		for (char *x = strtok_r(line, " ", &save); x && n < 10;
		     x = strtok_r(NULL, " ", &save))
			w[n++] = x;
		colon = n == 10 ? strchr(w[1], ':') : NULL;
		if (!colon || strtoul(colon + 1, NULL, 16) != port)
			continue;
		for (size_t i = 0; i < n_ino && !found; i++)
			found = strtoul(w[9], NULL, 10) == ino[i];
	}

	if (f)
		fclose(f);
	return found;
}

/* The last line the tunnel wrote, for an error. */
static void last_line(const char *log, char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen(log, "re");

	snprintf(buf, len, "it said nothing");
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
}

/* Wait until the tunnel @pid has attached to its device and bound its port. */
static int wait_ready(pid_t pid, const struct vnet_tunnel_decl *t, const char *log, const char *obj,
		      struct vnet_error *reterr)
{
	char said[400];
	int status;

	for (long ms = 0; ms < START_MS; ms += STEP_MS) {
		unsigned long ino[8];
		size_t n_ino = 0;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			last_line(log, said, sizeof(said));
			return vnet_error_set(reterr, -ECHILD, obj, "start",
					      "vnet tunnel exited: %s", said);
		}
		if (attached(pid, t->dev, ino, &n_ino) && bound(pid, t->port, ino, n_ino))
			return 0;
		sleep_ms(STEP_MS);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return vnet_error_set(reterr, -ETIMEDOUT, obj, "start",
			      "vnet tunnel did not attach and bind in %d ms", START_MS);
}

/* A file of /proc/@pid, its NULs made spaces, none at the end; Return: its length, or 0. */
static size_t proc_text(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	PATHF(path, "/proc/%d/%s", (int)pid, what);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return n;
}

/* The process of namespace @ns that holds tun or tap @dev (one does at most), or 0. */
static pid_t holder(const char *ns, const char *dev)
{
	char path[320], *end;
	unsigned long ino[8];
	struct stat want, st;
	struct dirent *d;
	pid_t found = 0;
	DIR *proc;

	if (!cli_ns_path(ns, path, sizeof(path)) || stat(path, &want) < 0 ||
	    !(proc = opendir("/proc")))
		return 0;
	while (!found && (d = readdir(proc))) {
		long pid = strtol(d->d_name, &end, 10);
		size_t n_ino = 0;

		if (*end || pid <= 0 || pid > INT_MAX || !PATHF(path, "/proc/%ld/ns/net", pid) ||
		    stat(path, &st) < 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev)
			continue;
		if (attached((pid_t)pid, dev, ino, &n_ino))
			found = (pid_t)pid;
	}
	closedir(proc);
	return found;
}

/* What holds a tunnel's device without a record of it. */
enum held {
	HELD_NONE,
	HELD_SAME, /* a tunnel this topology started, as the file says: its record was lost */
	HELD_OTHER, /* a tunnel this topology started, otherwise */
	HELD_FOREIGN, /* anything else: not vnet's to stop */
};

static enum held held_by(pid_t pid, const char *topo, const char *args, char *cmd, size_t len)
{
	char env[sizeof(TAG) + VNET_NAMSIZ + 8], tag[sizeof(TAG) + VNET_NAMSIZ + 2], want[300];

	if (!pid)
		return HELD_NONE;
	proc_text(pid, "cmdline", cmd, len);
	env[0] = ' '; /* the tag is the first variable: run_child() puts it there */
	proc_text(pid, "environ", env + 1, sizeof(env) - 1);
	snprintf(tag, sizeof(tag), " %s=%s", TAG, topo);
	if (strncmp(env, tag, strlen(tag)) || (env[strlen(tag)] && env[strlen(tag)] != ' '))
		return HELD_FOREIGN;
	snprintf(want, sizeof(want), "vnet %s", args);
	return strcmp(cmd, want) ? HELD_OTHER : HELD_SAME;
}

/* "tun0@tt-a": a record's name; the host part outside the sandbox is "tun0@". */
static void record_name(const char *dev, const char *ns, char *buf, size_t len)
{
	snprintf(buf, len, "%s@%s", dev, ns);
}

static void describe(const struct vnet_tunnel_decl *t, char *buf, size_t len)
{
	char peer[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, t->peer, peer, sizeof(peer));
	snprintf(buf, len, "tunnel %s%s%s to %s:%u", t->dev, t->ns[0] ? " in " : "", t->ns, peer,
		 t->peer_port);
}

/* Start `vnet tunnel` on @t, recorded in @dir, and wait until it runs. */
static int start(const char *topo, const char *dir, const struct vnet_tunnel_decl *t,
		 const char *args, struct record *r, struct vnet_error *reterr)
{
	char name[VNET_IFNAMSIZ + VNET_NAMSIZ + 2], path[PATH_MAX], log[PATH_MAX], obj[160], c;
	int fd, err, go[2];

	record_name(t->dev, t->ns, name, sizeof(name));
	describe(t, obj, sizeof(obj));
	if (!PATHF(path, "%s/%s", dir, name) || !PATHF(log, "%s.log", path))
		return vnet_error_set(reterr, -ENAMETOOLONG, obj, "start", "%s: %s", dir,
				      strerror(ENAMETOOLONG));
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return vnet_error_set(reterr, -errno, obj, "start", "cannot open %s: %s", log,
				      strerror(errno));
	/* the child waits for its record: a vnet killed before writing it leaves no tunnel */
	if (pipe2(go, O_CLOEXEC) < 0) {
		err = errno;
		close(fd);
		return vnet_error_set(reterr, -err, obj, "start", "pipe: %s", strerror(err));
	}
	fflush(NULL);
	r->pid = fork();
	if (r->pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(0);
		run_child(topo, t->ns, fd, args);
	}
	err = errno;
	close(fd);
	close(go[0]);
	if (r->pid < 0) {
		close(go[1]);
		return vnet_error_set(reterr, -err, obj, "start", "cannot fork: %s", strerror(err));
	}
	r->start = start_time(r->pid);
	snprintf(r->args, sizeof(r->args), "%s", args);
	err = write_record(path, r);
	if (err < 0 || write(go[1], "g", 1) != 1) {
		close(go[1]);
		waitpid(r->pid, NULL, 0);
		unlink(path);
		return vnet_error_set(reterr, err < 0 ? err : -EPIPE, obj, "record",
				      "cannot write %s: %s", path,
				      strerror(err < 0 ? -err : EPIPE));
	}
	close(go[1]);
	err = wait_ready(r->pid, t, log, obj, reterr);
	if (err < 0) { /* what it said last is in the error */
		unlink(path);
		unlink(log);
	}
	return err;
}

/* SIGTERM, and SIGKILL when it has not stopped in STOP_MS. */
static void stop_pid(const struct record *r)
{
	kill(r->pid, SIGTERM);
	for (long ms = 0; ms < STOP_MS && alive(r); ms += STEP_MS)
		sleep_ms(STEP_MS);
	if (alive(r))
		kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, WNOHANG); /* reaped, if it was started by this vnet */
}

/* Stop the tunnel of record @name in @dir (SIGTERM, then SIGKILL), and forget it.
 * Return: whether it ran. */
static bool stop(const char *dir, const char *name)
{
	char path[PATH_MAX], log[PATH_MAX];
	struct record r;
	bool ran;

	if (!PATHF(path, "%s/%s", dir, name) || !PATHF(log, "%s.log", path))
		return false;
	ran = read_record(path, &r) && alive(&r);
	if (ran)
		stop_pid(&r);
	unlink(path);
	unlink(log);
	return ran;
}

/* Does the process of record @name in @dir run? */
static bool running_record(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct record r;

	return PATHF(path, "%s/%s", dir, name) && read_record(path, &r) && alive(&r);
}

/* Is record @name in @dir one of @m's tunnels, running as the file says now? */
static const struct vnet_tunnel_decl *declared(const struct vnet_model *m, const char *dir,
					       const char *name, bool *ret_running)
{
	char want[VNET_IFNAMSIZ + VNET_NAMSIZ + 2], path[PATH_MAX], args[256];
	struct record r;

	*ret_running = false;
	if (!PATHF(path, "%s/%s", dir, name))
		return NULL;
	for (size_t i = 0; m && i < m->tunnels.n; i++) {
		const struct vnet_tunnel_decl *t = &m->tunnels.v[i];

		record_name(t->dev, t->ns, want, sizeof(want));
		if (strcmp(want, name))
			continue;
		tunnel_args(t, args, sizeof(args));
		*ret_running = read_record(path, &r) && alive(&r) && !strcmp(r.args, args);
		return t;
	}
	*ret_running = false;
	return NULL;
}

/* "tunnel tun0 in tt-a" of record "tun0@tt-a" ("tun0@": the host part's, "tunnel tun0"). */
static void record_words(const char *name, char *buf, size_t len)
{
	const char *at = strchr(name, '@');

	if (!at)
		snprintf(buf, len, "tunnel %s", name);
	else
		snprintf(buf, len, "tunnel %.*s%s%s", (int)(at - name), name, at[1] ? " in " : "",
			 at + 1);
}

static bool is_record(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' &&
	       (n < 4 || (strcmp(name + n - 4, ".log") && strcmp(name + n - 4, ".new")));
}

/* Stop the recorded tunnels @m no longer has, or has otherwise (NULL: all of them). */
static void stop_others(const struct cli *cli, const struct vnet_model *m, const char *dir,
			FILE *out)
{
	char what[VNET_IFNAMSIZ + VNET_NAMSIZ + 16];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		bool running;

		if (!is_record(e->d_name) || (declared(m, dir, e->d_name, &running) && running))
			continue;
		if (cli->dry_run ? running_record(dir, e->d_name) : stop(dir, e->d_name)) {
			record_words(e->d_name, what, sizeof(what));
			fprintf(out, "  - stop %s\n", what);
		}
	}
	if (d)
		closedir(d);
}

/* Undo what cli_tunnels_up() started before it failed: the first @n of @m's that @started. */
static void stop_started(const struct vnet_model *m, const char *dir, const bool *started, size_t n)
{
	char name[VNET_IFNAMSIZ + VNET_NAMSIZ + 2];

	for (size_t i = 0; started && i < n; i++)
		if (started[i]) {
			record_name(m->tunnels.v[i].dev, m->tunnels.v[i].ns, name, sizeof(name));
			stop(dir, name);
		}
}

/*
 * One tunnel of the file that its record does not show running. A tunnel this topology
 * started that runs as the file says (its record lost: the store deleted or corrupted) is
 * recorded again; one that runs otherwise is stopped; anything else holding the device is
 * not vnet's to stop, and refused. Then the tunnel is started. *@started: it was.
 */
static int up_one(const struct cli *cli, const struct vnet_model *m, const char *dir,
		  const struct vnet_tunnel_decl *t, FILE *out, bool *started,
		  struct vnet_error *reterr)
{
	char args[256], what[160], cmd[300], name[VNET_IFNAMSIZ + VNET_NAMSIZ + 2], path[PATH_MAX];
	struct record rec = { .pid = holder(t->ns, t->dev) };
	int r = 0;

	describe(t, what, sizeof(what));
	tunnel_args(t, args, sizeof(args));
	record_name(t->dev, t->ns, name, sizeof(name));
	rec.start = rec.pid ? start_time(rec.pid) : 0;
	switch (held_by(rec.pid, m->name, args, cmd, sizeof(cmd))) {
	case HELD_SAME:
		snprintf(rec.args, sizeof(rec.args), "%s", args);
		if (!cli->dry_run &&
		    (!PATHF(path, "%s/%s", dir, name) || (r = write_record(path, &rec)) < 0))
			return vnet_error_set(reterr, r < 0 ? r : -ENAMETOOLONG, what, "record",
					      "cannot write its record in %s", dir);
		fprintf(out, "  ~ record %s (pid %d): it runs without its record\n", what,
			(int)rec.pid);
		return 0;
	case HELD_OTHER:
		if (!cli->dry_run)
			stop_pid(&rec);
		fprintf(out, "  - stop tunnel %s (pid %d): it runs without its record, otherwise\n",
			t->dev, (int)rec.pid);
		break;
	case HELD_FOREIGN:
		return vnet_error_set(reterr, -EBUSY, what, "start",
				      "%s is held by process %d (%s), which vnet did not start: "
				      "vnet stops only its own",
				      t->dev, (int)rec.pid, cmd);
	case HELD_NONE:
		break;
	}
	if (cli->dry_run) {
		fprintf(out, "  + run %s\n", what);
		return 0;
	}
	r = start(m->name, dir, t, args, &rec, reterr);
	*started = r >= 0;
	if (r >= 0)
		fprintf(out, "  + run %s (pid %d)\n", what, (int)rec.pid);
	return r;
}

int cli_tunnels_up(const struct cli *cli, const struct vnet_model *m, FILE *out,
		   struct vnet_error *reterr)
{
	char dir[PATH_MAX];
	int r = record_dir(cli, m->name, m->tunnels.n && !cli->dry_run, dir, sizeof(dir));
	bool *started = calloc(m->tunnels.n + 1, sizeof(*started));
	size_t i;

	if (r < 0 || !started) {
		free(started);
		return vnet_error_set(reterr, r < 0 ? r : -ENOMEM, "state store", "tunnels",
				      "cannot make %s: %s", dir, strerror(r < 0 ? -r : ENOMEM));
	}
	stop_others(cli, m, dir, out);
	for (i = 0; r >= 0 && i < m->tunnels.n; i++) {
		const struct vnet_tunnel_decl *t = &m->tunnels.v[i];
		char name[VNET_IFNAMSIZ + VNET_NAMSIZ + 2];
		bool running;

		record_name(t->dev, t->ns, name, sizeof(name));
		if (!declared(m, dir, name, &running) || !running)
			r = up_one(cli, m, dir, t, out, &started[i], reterr);
	}
	if (r < 0)
		stop_started(m, dir, started, i);
	free(started);
	if (!m->tunnels.n && !cli->dry_run)
		rmdir(dir);
	return r;
}

void cli_tunnels_down(const struct cli *cli, const char *topo, FILE *out)
{
	char dir[PATH_MAX];

	record_dir(cli, topo, false, dir, sizeof(dir));
	stop_others(cli, NULL, dir, out);
	if (!cli->dry_run)
		rmdir(dir);
}

int cli_tunnels_drift(const struct cli *cli, const struct vnet_model *m, FILE *out)
{
	struct cli dry = *cli;
	struct vnet_error e = { 0 };
	char *buf = NULL, msg[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	if (!f)
		return 0;
	dry.dry_run = true; /* what up would do is the drift */
	if (cli_tunnels_up(&dry, m, f, &e) < 0) {
		vnet_error_format(&e, msg, sizeof(msg));
		fprintf(f, "  ! %s\n", msg);
	}
	fclose(f);
	for (const char *p = buf; p && *p; p++)
		n += *p == '\n';
	fprintf(out, "%s", buf ? buf : "");
	free(buf);
	return n;
}

void cli_tunnels_show(const struct cli *cli, const char *topo, FILE *out)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], what[VNET_IFNAMSIZ + VNET_NAMSIZ + 16];
	struct dirent **names = NULL;
	int n;

	if (record_dir(cli, topo, false, dir, sizeof(dir)) < 0 ||
	    (n = scandir(dir, &names, NULL, alphasort)) < 0)
		return;
	for (int i = 0, shown = 0; i < n; i++) {
		struct record r;
		const char *peer;

		if (is_record(names[i]->d_name) && PATHF(path, "%s/%s", dir, names[i]->d_name) &&
		    read_record(path, &r)) {
			record_words(names[i]->d_name, what, sizeof(what));
			peer = strstr(r.args, "--peer ");
			fprintf(out, "%s  %s to %.*s: %s (pid %d)\n", shown++ ? "" : "\ntunnels:\n",
				what + strlen("tunnel "), peer ? (int)strcspn(peer + 7, " ") : 1,
				peer ? peer + 7 : "?", alive(&r) ? "runs" : "does not run",
				(int)r.pid);
		}
		free(names[i]);
	}
	free(names);
}
