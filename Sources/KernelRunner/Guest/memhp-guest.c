/*
 * memhp-guest: the scenario runner inside the QEMU guest (static, started by /init).
 *
 * It reads the step list the host translated from the scenario (/steps, one command per line,
 * strings hex-encoded), performs each step with plain syscalls and prints observation lines
 * (`kind key=value ...`) on the control serial port (ttyS1). Lines starting with `@` are
 * protocol: `@host N ACTION` asks the host for a hot-plug action and blocks until the host
 * answers `@ack N ...` on the same port.
 *
 * Why C and not busybox sh: a write's errno comes straight from write(2) (no parsing of
 * "sh: write error: ..."), /proc/sys files are read in one read(2) (busybox `read` reads one
 * byte at a time and proc sysctls return EOF at offset > 0), and writes, holds and releases do
 * not fork or open anything, so they work while the kernel zones are full.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <malloc.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>

/* What the guest reads (meminfo and vmstat keys, tunables, boot log lines, kpageflags classes),
 * generated from ObservationSchema.swift when the runner builds the guest: one list for both runners. */
#include "memhp-schema.h"

#define MPOL_DEFAULT 0
#define MPOL_BIND 2
#define MEMDIR "/sys/devices/system/memory"

static FILE *out;          /* observations, to the host */
static int ctl = -1;       /* the control port, read for acks */
static int kmsg_fd = -1;

struct zinfo {
	int node; char name[16];
	long free, pcp, min, low, high, spanned, present, managed, prot[5], start_pfn;
	int nprot;
};
struct hold { char id[64]; int kind; int fd; void *addr; size_t len; int ring; int msq; };

/* The runner's static buffers, in three page-aligned groups of whole pages, so that a scenario
 * that looks at page placement can make the groups it uses resident before its first step
 * (`prefault`). GuestFootprint.swift lists the same sizes: keep the two in step. */
#define WHOLE_PAGES(n) (((n) + 4095) / 4096 * 4096)
struct core_bufs {                       /* every step kind */
	char qbuf[2][300000];                /* quoted observation values (Q, QN: slots 0 and 1) */
	int blocks[65536];                   /* list_blocks: dump blocks/pageflags, settle */
	int blocksel[65536];                 /* dump_blocks's selection */
	struct zinfo zones[64];              /* parse_zoneinfo */
	struct hold holds[64];
	char line[1 << 16], a1[1 << 15], a2[1 << 15], a3[1024], h1[8192], h2[1 << 15];  /* main's step parsing */
	uint64_t pf[4096];                   /* dump_pageflags: kpageflags words, a block in pieces */
};
struct hold_bufs {                       /* HOLD and FILL */
	char chunk[1 << 20];                 /* what fill_fd writes */
	struct { long mtype; char mtext[4048]; } msg;  /* hold_slab: one kmalloc-4k msg_msg */
};
struct kpf_bufs {                        /* DUMP kpageflags */
	uint64_t f[65536], c[65536];         /* /proc/kpageflags and /proc/kpagecount words */
	char line[512 * 40 + 64];            /* one `kpf` line: 512 runs */
};
static union { struct core_bufs b; char pages[WHOLE_PAGES(sizeof(struct core_bufs))]; } core __attribute__((aligned(4096)));
static union { struct hold_bufs b; char pages[WHOLE_PAGES(sizeof(struct hold_bufs))]; } holdbufs __attribute__((aligned(4096)));
static union { struct kpf_bufs b; char pages[WHOLE_PAGES(sizeof(struct kpf_bufs))]; } kpfbufs __attribute__((aligned(4096)));
#define qbuf (core.b.qbuf)
#define blocks (core.b.blocks)
#define zones (core.b.zones)
#define holds (core.b.holds)
#define chunk (holdbufs.b.chunk)

/* ---------- small helpers ---------- */

static long now_cs(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 100 + t.tv_nsec / 10000000;
}

static void emit(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

/* A quoted observation value with the escapes Observation.swift parses. */
static void qput(char *dst, size_t cap, const char *s, size_t n) {
	size_t o = 0;
	dst[o++] = '"';
	for (size_t i = 0; i < n && o + 6 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') { dst[o++] = '\\'; dst[o++] = c; }
		else if (c == '\n') { dst[o++] = '\\'; dst[o++] = 'n'; }
		else if (c == '\t') { dst[o++] = '\\'; dst[o++] = 't'; }
		else if (c == '\r') { dst[o++] = '\\'; dst[o++] = 'r'; }
		else if (c < 0x20 || c == 0x7f) { o += snprintf(dst + o, cap - o, "\\x%02x", c); }
		else dst[o++] = c;
	}
	dst[o++] = '"';
	dst[o] = 0;
}

static const char *Q(int slot, const char *s) { qput(qbuf[slot], sizeof qbuf[slot], s, strlen(s)); return qbuf[slot]; }
static const char *QN(int slot, const char *s, size_t n) { qput(qbuf[slot], sizeof qbuf[slot], s, n); return qbuf[slot]; }

static const char *errname(int e) {
	static char buf[16];
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case ESRCH: return "ESRCH";
	case EINTR: return "EINTR"; case EIO: return "EIO"; case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM"; case EACCES: return "EACCES"; case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY"; case EEXIST: return "EEXIST"; case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC"; case EROFS: return "EROFS"; case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE"; case ENOSYS: return "ENOSYS"; case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP"; case ETIMEDOUT: return "ETIMEDOUT";
	case ENOEXEC: return "ENOEXEC"; case EFBIG: return "EFBIG"; case EHWPOISON: return "EHWPOISON";
	}
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static int unhex(const char *h, char *dst, size_t cap) {
	size_t n = 0;
	if (strcmp(h, "-") == 0) { dst[0] = 0; return 0; }
	for (; h[0] && h[1] && n + 1 < cap; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		dst[n++] = (char)v;
	}
	dst[n] = 0;
	return (int)n;
}

/* Reads a whole file; returns length or -errno. One big read first: proc sysctls answer only at offset 0. */
static char *fbuf;
static size_t fcap;
static long readfile(const char *path) {
	if (!fbuf) { fcap = 1 << 20; fbuf = malloc(fcap); }
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -errno;
	size_t n = 0;
	for (;;) {
		if (n + 65536 > fcap) { fcap *= 2; fbuf = realloc(fbuf, fcap); }
		ssize_t r = read(fd, fbuf + n, fcap - n - 1);
		if (r < 0) { int e = errno; close(fd); return -e; }
		if (r == 0) break;
		n += r;
	}
	close(fd);
	fbuf[n] = 0;
	return (long)n;
}

/* The first line of a small file, without the newline; "" on error. */
static const char *readline1(const char *path, char *dst, size_t cap) {
	dst[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0) return dst;
	ssize_t r = read(fd, dst, cap - 1);
	close(fd);
	if (r < 0) r = 0;
	dst[r] = 0;
	char *nl = strchr(dst, '\n');
	if (nl) *nl = 0;
	return dst;
}

/* ---------- kernel log ---------- */

static int boot_line_wanted(const char *m) {
	static const char *keys[] = { MEMHP_BOOT_LOG_KEYS };
	for (int i = 0; keys[i]; i++)
		if (strstr(m, keys[i])) return 1;
	return 0;
}

/* Prints kernel messages logged since the last call. boot: only the boot-log lines of interest, as `dmesg [ts] text`. */
static void drain_kmsg(int boot) {
	char rec[8192];
	if (kmsg_fd < 0) return;
	for (;;) {
		ssize_t r = read(kmsg_fd, rec, sizeof rec - 1);
		if (r < 0) { if (errno == EPIPE) continue; break; }
		rec[r] = 0;
		unsigned prio = 0; unsigned long long seq = 0, ts = 0;
		char *semi = strchr(rec, ';');
		if (!semi) continue;
		sscanf(rec, "%u,%llu,%llu", &prio, &seq, &ts);
		char *msg = semi + 1;
		char *nl = strchr(msg, '\n');
		if (nl) *nl = 0;
		/* /dev/kmsg escapes unprintable bytes as \xHH; undo it so the log's own quoting applies once. */
		char *w = msg;
		for (char *r = msg; *r; ) {
			unsigned v;
			if (r[0] == '\\' && r[1] == 'x' && isxdigit((unsigned char)r[2]) && isxdigit((unsigned char)r[3]) && sscanf(r + 2, "%2x", &v) == 1) { *w++ = (char)v; r += 4; }
			else *w++ = *r++;
		}
		*w = 0;
		if (boot) {
			if (boot_line_wanted(msg)) emit("dmesg [%5llu.%06llu] %s", ts / 1000000, ts % 1000000, msg);
		} else {
			emit("kmsg prio=%u msg=%s", prio & 7, Q(0, msg));
		}
	}
}

/* ---------- writes and reads ---------- */

static volatile sig_atomic_t alarmed;
static void on_alarm(int s) { (void)s; alarmed = 1; }

/* kind 0: write/online; 1: offline (prints timeout_s and timed_out like the captures). */
static int do_write(int kind, int nonl, int timeout_s, const char *path, const char *value, int vlen) {
	char buf[8192];
	int len = vlen;
	memcpy(buf, value, vlen);
	if (!nonl) buf[len++] = '\n';
	struct itimerval it = { { 0, 0 }, { timeout_s, 0 } }, zero = { { 0, 0 }, { 0, 0 } };
	alarmed = 0;
	long t0 = now_cs();
	setitimer(ITIMER_REAL, &it, NULL);
	int err = 0;
	ssize_t w = -1;
	int fd = open(path, O_WRONLY);
	if (fd < 0) err = errno;
	else {
		w = write(fd, buf, len);
		if (w < 0) err = errno;
		close(fd);
	}
	setitimer(ITIMER_REAL, &zero, NULL);
	long el = now_cs() - t0;
	char extra[64] = "";
	if (w >= 0 && w < len) snprintf(extra, sizeof extra, " written=%zd", w);
	if (kind == 1)
		emit("write path=%s value=%s%s timeout_s=%d timed_out=%d rc=%d errno=%s%s elapsed_cs=%ld", path, QN(0, value, vlen),
		     nonl ? " nonl=1" : "", timeout_s, (int)alarmed, err ? 1 : 0, errname(err), extra, el);
	else
		emit("write path=%s value=%s%s rc=%d errno=%s%s elapsed_cs=%ld", path, QN(0, value, vlen),
		     nonl ? " nonl=1" : "", err ? 1 : 0, errname(err), extra, el);
	return err;
}

static void do_read(const char *path) {
	long n = readfile(path);
	if (n < 0) { emit("read path=%s errno=%s", path, errname((int)-n)); return; }
	if (n > 0 && fbuf[n - 1] == '\n') fbuf[--n] = 0;
	emit("read path=%s value=%s", path, QN(0, fbuf, n));
}

/* ---------- memory blocks ---------- */

static long block_size(void) {
	char b[64];
	readline1(MEMDIR "/block_size_bytes", b, sizeof b);
	return strtol(b, NULL, 16);
}

static int cmpint(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int list_blocks(int *idx, int cap) {
	int n = 0;
	DIR *d = opendir(MEMDIR);
	if (!d) return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < cap) {
		if (strncmp(e->d_name, "memory", 6) == 0 && isdigit((unsigned char)e->d_name[6])) idx[n++] = atoi(e->d_name + 6);
	}
	closedir(d);
	qsort(idx, n, sizeof *idx, cmpint);
	return n;
}

static int block_node(int i) {
	char p[128];
	snprintf(p, sizeof p, MEMDIR "/memory%d", i);
	DIR *d = opendir(p);
	if (!d) return -1;
	struct dirent *e;
	int node = -1;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "node", 4) == 0 && isdigit((unsigned char)e->d_name[4])) node = atoi(e->d_name + 4);
	closedir(d);
	return node;
}

static void print_block(int i) {
	char p[160], phys[64], state[64], vz[256], rem[16], pd[16];
	snprintf(p, sizeof p, MEMDIR "/memory%d", i);
	if (access(p, F_OK) != 0) { emit("block idx=%d state=absent", i); return; }
#define RD(f, b) (snprintf(p, sizeof p, MEMDIR "/memory%d/" f, i), readline1(p, b, sizeof b))
	RD("phys_index", phys); RD("state", state); RD("valid_zones", vz); RD("removable", rem); RD("phys_device", pd);
#undef RD
	emit("block idx=%d phys_index=0x%s state=%s valid_zones=%s removable=%s node=%d phys_device=%s", i, phys, state,
	     Q(0, vz), rem, block_node(i), pd);
}

static int parse_sel(const char *s, int *sel, int cap) {
	int n = 0;
	if (strcmp(s, "-") == 0) return -1;
	while (*s && n < cap) {
		sel[n++] = (int)strtol(s, (char **)&s, 10);
		if (*s == ',') s++;
	}
	return n;
}

static void dump_blocks(const char *seltxt) {
	int *sel = core.b.blocksel;
	int ns = parse_sel(seltxt, sel, 65536);
	emit("block_size_bytes value=0x%lx", block_size());
	int n = list_blocks(blocks, 65536);
	if (ns < 0) for (int i = 0; i < n; i++) print_block(blocks[i]);
	else for (int i = 0; i < ns; i++) print_block(sel[i]);
	emit("blocks_total count=%d", n);
}

/* ---------- /proc files ---------- */

/* vm.stat_refresh folds the per-cpu vmstat differentials, so free counts are exact rather than
 * off by up to the per-cpu threshold (the captures' HVO accounting relied on it). */
static void stat_refresh(void) {
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) { if (write(fd, "1\n", 2) < 0) { /* negative counters only warn */ } close(fd); }
}

static long meminfo_get(const char *key) {
	if (readfile("/proc/meminfo") < 0) return -1;
	size_t kl = strlen(key);
	for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ':') return strtol(l + kl + 1, NULL, 10);
	return -1;
}

static void dump_meminfo(void) {
	stat_refresh();
	static const char *keys[] = { MEMHP_MEMINFO_KEYS };
	char line[2048];
	int o = snprintf(line, sizeof line, "meminfo");
	for (int i = 0; keys[i]; i++) o += snprintf(line + o, sizeof line - o, " %s=%ld", keys[i], meminfo_get(keys[i]));
	emit("%s", line);
}

static void dump_vmstat(void) {
	static const char *keys[] = { MEMHP_VMSTAT_KEYS };
	char line[4096];
	int o = snprintf(line, sizeof line, "vmstat");
	stat_refresh();
	if (readfile("/proc/vmstat") < 0) return;
	for (int i = 0; keys[i]; i++) {
		size_t kl = strlen(keys[i]);
		long v = -1;
		for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (strncmp(l, keys[i], kl) == 0 && l[kl] == ' ') { v = strtol(l + kl + 1, NULL, 10); break; }
		o += snprintf(line + o, sizeof line - o, " %s=%ld", keys[i], v);
	}
	emit("%s", line);
}


/* Parses /proc/zoneinfo into zones[]; returns the count. */
static int parse_zoneinfo(void) {
	if (readfile("/proc/zoneinfo") < 0) return 0;
	int nz = 0;
	struct zinfo *z = NULL;
	int in_wm = 0;
	char *save;
	for (char *l = strtok_r(fbuf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int node; char name[32];
		if (sscanf(l, "Node %d, zone %31s", &node, name) == 2) {
			if (nz >= 64) break;
			z = &zones[nz++];
			memset(z, 0, sizeof *z);
			z->node = node; snprintf(z->name, sizeof z->name, "%s", name); z->start_pfn = -1;
			in_wm = 0;
			continue;
		}
		if (!z) continue;
		char k[64]; long v;
		while (*l == ' ') l++;
		if (sscanf(l, "pages free %ld", &v) == 1) { z->free = v; in_wm = 1; continue; }
		if (strncmp(l, "protection: (", 13) == 0) {
			char *p = l + 13;
			z->nprot = 0;
			while (*p && *p != ')' && z->nprot < 5) { z->prot[z->nprot++] = strtol(p, &p, 10); while (*p == ',' || *p == ' ') p++; }
			in_wm = 0;
			continue;
		}
		if (sscanf(l, "count: %ld", &v) == 1) { z->pcp += v; continue; }
		if (sscanf(l, "start_pfn: %ld", &v) == 1) { z->start_pfn = v; continue; }
		if (in_wm && sscanf(l, "%63s %ld", k, &v) == 2) {
			if (!strcmp(k, "min")) z->min = v;
			else if (!strcmp(k, "low")) z->low = v;
			else if (!strcmp(k, "high")) z->high = v;
			else if (!strcmp(k, "spanned")) z->spanned = v;
			else if (!strcmp(k, "present")) z->present = v;
			else if (!strcmp(k, "managed")) z->managed = v;
		}
	}
	return nz;
}

static void dump_zones(void) {
	stat_refresh();
	int nz = parse_zoneinfo();
	for (int i = 0; i < nz; i++) {
		struct zinfo *z = &zones[i];
		char prot[128] = "", spfn[32] = "-";
		int o = 0;
		for (int j = 0; j < z->nprot; j++) o += snprintf(prot + o, sizeof prot - o, j ? ",%ld" : "%ld", z->prot[j]);
		if (z->start_pfn >= 0) snprintf(spfn, sizeof spfn, "%ld", z->start_pfn);
		emit("zone node=%d zone=%s free=%ld pcp=%ld min=%ld low=%ld high=%ld spanned=%ld present=%ld managed=%ld protection=%s start_pfn=%s",
		     z->node, z->name, z->free, z->pcp, z->min, z->low, z->high, z->spanned, z->present, z->managed, prot, spfn);
	}
}

static void dump_buddyinfo(void) {
	if (readfile("/proc/buddyinfo") < 0) return;
	char *save;
	for (char *l = strtok_r(fbuf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int node, off = 0; char name[32];
		if (sscanf(l, "Node %d, zone %31s%n", &node, name, &off) < 2) continue;
		char orders[256] = "";
		int o = 0, k = 0;
		char *p = l + off;
		long v;
		while (sscanf(p, "%ld%n", &v, &off) == 1) { o += snprintf(orders + o, sizeof orders - o, k++ ? ",%ld" : "%ld", v); p += off; }
		emit("buddy node=%d zone=%s orders=%s", node, name, orders);
	}
}

static long readlong(const char *path) {
	char b[64];
	readline1(path, b, sizeof b);
	if (!b[0]) return -1;
	return strtol(b, NULL, 10);
}

static int hsizes(long *kb, int cap) {
	int n = 0;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	if (!d) return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < cap)
		if (strncmp(e->d_name, "hugepages-", 10) == 0) kb[n++] = atol(e->d_name + 10);
	closedir(d);
	for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (kb[j] < kb[i]) { long t = kb[i]; kb[i] = kb[j]; kb[j] = t; }
	return n;
}

static void dump_hugepages(void) {
	char p[256];
	stat_refresh();
#define H(sz, f) (snprintf(p, sizeof p, "/sys/kernel/mm/hugepages/hugepages-%ldkB/" f, (long)(sz)), readlong(p))
	emit("hugepages sysctl_nr_hugepages=%ld nr_hugepages=%ld free=%ld resv=%ld surplus=%ld overcommit=%ld meminfo_total=%ld MemFree=%ld MemTotal=%ld",
	     readlong("/proc/sys/vm/nr_hugepages"), H(2048, "nr_hugepages"), H(2048, "free_hugepages"), H(2048, "resv_hugepages"),
	     H(2048, "surplus_hugepages"), H(2048, "nr_overcommit_hugepages"), meminfo_get("HugePages_Total"),
	     meminfo_get("MemFree"), meminfo_get("MemTotal"));
	long kb[8];
	int n = hsizes(kb, 8);
	for (int i = 0; i < n; i++)
		emit("hstate size_kB=%ld nr=%ld free=%ld resv=%ld surplus=%ld overcommit=%ld", kb[i], H(kb[i], "nr_hugepages"),
		     H(kb[i], "free_hugepages"), H(kb[i], "resv_hugepages"), H(kb[i], "surplus_hugepages"), H(kb[i], "nr_overcommit_hugepages"));
#undef H
	for (int node = 0; node < 64; node++) {
		snprintf(p, sizeof p, "/sys/devices/system/node/node%d", node);
		if (access(p, F_OK) != 0) continue;
		for (int i = 0; i < n; i++) {
#define N(f) (snprintf(p, sizeof p, "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/" f, node, kb[i]), readlong(p))
			emit("hstate_node node=%d size_kB=%ld nr=%ld free=%ld surplus=%ld", node, kb[i], N("nr_hugepages"),
			     N("free_hugepages"), N("surplus_hugepages"));
#undef N
		}
	}
}

static void dump_params(void) {
	static const char *paths[] = { MEMHP_PARAM_PATHS };
	for (int i = 0; paths[i]; i++) {
		long n = readfile(paths[i]);
		if (n < 0) { emit("param path=%s errno=%s", paths[i], errname((int)-n)); continue; }
		if (n > 0 && fbuf[n - 1] == '\n') fbuf[--n] = 0;
		for (char *c = fbuf; *c; c++) if (*c == '\t') *c = ' ';
		emit("param path=%s value=%s", paths[i], QN(0, fbuf, n));
	}
}

static void dump_layout(void) {
	if (readfile("/proc/iomem") < 0) return;
	char *save;
	for (char *l = strtok_r(fbuf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "System RAM")) { while (*l == ' ') l++; emit("iomem line=%s", Q(0, l)); }
}

/* Per-block page kinds from /proc/kpageflags (bit numbers from include/uapi/linux/kernel-page-flags.h). */
/* Every pfn's /proc/kpageflags word, masked to the bits memhp's snapshot census reads, with
 * bit 63 set when /proc/kpagecount is not 0, run-length encoded: `kpf start=PFN runs=HEX*LEN,...`
 * (at most 512 runs a line). The host turns these lines into a snapshot (Snapshot/GuestLog). */
static void dump_kpf(void) {
	const uint64_t mask = (1ULL << 20) | (1ULL << 19) | (1ULL << 10) | (1ULL << 23) | (1ULL << 32) |
		(1ULL << 7) | (1ULL << 26) | (1ULL << 17) | (1ULL << 15) | (1ULL << 16) | (1ULL << 5) |
		(1ULL << 18) | (1ULL << 12) | (1ULL << 14) | (1ULL << 33) | (1ULL << 22);
	enum { CHUNK = 65536 };
	uint64_t *f = kpfbufs.b.f, *c = kpfbufs.b.c;
	int ff = open("/proc/kpageflags", O_RDONLY), fc = open("/proc/kpagecount", O_RDONLY);
	if (ff < 0 || fc < 0) { emit("kpf errno=%s", errname(errno)); if (ff >= 0) close(ff); if (fc >= 0) close(fc); return; }
	char *line = kpfbufs.b.line;
	size_t len = 0;
	int nruns = 0;
	uint64_t cur = 0, run = 0, pfn = 0, lineStart = 0;
	for (;;) {
		ssize_t r = pread(ff, f, sizeof kpfbufs.b.f, (off_t)(pfn * 8));
		if (r <= 0) break;
		long n = r / 8;
		ssize_t rc = pread(fc, c, (size_t)n * 8, (off_t)(pfn * 8));
		for (long i = 0; i < n; i++) {
			uint64_t v = (f[i] & mask) | ((rc == r && c[i]) ? (1ULL << 63) : 0);
			if (run && v == cur) { run++; continue; }
			if (run) {
				len += (size_t)sprintf(line + len, "%s%llx*%llu", nruns ? "," : "", (unsigned long long)cur, (unsigned long long)run);
				if (++nruns == 512) { emit("kpf start=%llu runs=%s", (unsigned long long)lineStart, line); len = 0; nruns = 0; lineStart = pfn + i; }
			}
			cur = v; run = 1;
		}
		pfn += n;
		if (n < CHUNK) break;
	}
	if (run) { len += (size_t)sprintf(line + len, "%s%llx*%llu", nruns ? "," : "", (unsigned long long)cur, (unsigned long long)run); nruns++; }
	if (nruns) emit("kpf start=%llu runs=%s", (unsigned long long)lineStart, line);
	emit("kpf_end pfns=%llu", (unsigned long long)pfn);
	close(ff); close(fc);
}

/* A block's words are read a piece at a time into core.b.pf (static, so prefault covers it: a
 * buffer malloc'd here would fault in pages of the zone being counted). */
static void dump_pageflags(const char *seltxt) {
	int *sel = blocks;
	int ns = parse_sel(seltxt, sel, 65536);
	if (ns < 0) { ns = list_blocks(sel, 65536); }
	long bs = block_size() >> 12;
	const long piece = (long)(sizeof core.b.pf / 8);
	uint64_t *f = core.b.pf;
	int fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0) { emit("pageflags errno=%s", errname(errno)); return; }
	for (int b = 0; b < ns; b++) {
		char p[128];
		snprintf(p, sizeof p, MEMDIR "/memory%d", sel[b]);
		if (access(p, F_OK) != 0) { emit("pageflags block=%d state=absent", sel[b]); continue; }
		long n = 0;
		long c[PC_COUNT] = { 0 };
		for (long off = 0; off < bs; off += piece) {
			long want = bs - off < piece ? bs - off : piece;
			ssize_t r = pread(fd, f, (size_t)want * 8, (off_t)(sel[b] * bs + off) * 8);
			long got = r > 0 ? r / 8 : 0;
			n += got;
			for (long i = 0; i < got; i++) {
				uint64_t v = f[i];
#define B(k) ((v >> (k)) & 1)
				if (B(20)) { c[PC_nopage]++; continue; }
				if (B(32)) { c[PC_reserved]++; continue; }
				if (B(23)) { c[PC_offline]++; continue; }
				if (B(10)) { c[PC_buddy]++; continue; }   /* every page of a free buddy block (is_free_buddy_page) */
				if (B(17)) { c[PC_huge]++; if (B(15)) c[PC_huge_heads]++; continue; }
				if (B(22)) { c[PC_thp]++; continue; }
				if (B(7)) { c[PC_slab]++; continue; }
				if (B(26)) { c[PC_pgtable]++; continue; }
				if (B(5) || B(18)) {
					c[PC_lru]++;
					if (B(12)) c[PC_anon]++; else c[PC_file]++;
					if (B(18)) c[PC_unevictable]++;
					if (B(33)) c[PC_mlocked]++;
					continue;
				}
				c[PC_other]++;
#undef B
			}
			if (got < want) break;
		}
		static const char *names[] = { MEMHP_PAGE_CLASS_NAMES };
		char line[1024];
		int o = snprintf(line, sizeof line, "pageflags block=%d pages=%ld", sel[b], n);
		for (int k = 0; k < PC_COUNT; k++) o += snprintf(line + o, sizeof line - o, " %s=%ld", names[k], c[k]);
		emit("%s", line);
	}
	close(fd);
}

/* ---------- holds ---------- */


static long set_policy(int node) {
	unsigned long mask[4] = { 0 };
	if (node < 0) return syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	mask[node / 64] = 1UL << (node % 64);
	return syscall(SYS_set_mempolicy, MPOL_BIND, mask, 257);
}


static int fill_fd(int fd, size_t bytes) {
	while (bytes) {
		size_t n = bytes < sizeof chunk ? bytes : sizeof chunk;
		ssize_t w = write(fd, chunk, n);
		if (w <= 0) return w < 0 ? errno : ENOSPC;
		bytes -= w;
	}
	return 0;
}

static struct hold *new_hold(const char *id) {
	for (int i = 0; i < 64; i++)
		if (!holds[i].id[0]) { memset(&holds[i], 0, sizeof holds[i]); snprintf(holds[i].id, sizeof holds[i].id, "%s", id); holds[i].fd = holds[i].ring = holds[i].msq = -1; return &holds[i]; }
	return NULL;
}

static const char *kinds[] = { "anon", "shmem", "ramfs", "pinned", "slab", "pagetable" };

/* slab: System V messages whose msg_msg (48-byte header + 4048 bytes of text) is exactly a
 * kmalloc-cg-4k object (alloc_msg), unreclaimable slab; the queue's limit (msgmnb, read when
 * the queue is created) is raised to hold them all. */
static int hold_slab(struct hold *h, size_t bytes) {
#define msg (holdbufs.b.msg)
	size_t n = bytes / 4096;
	char v[32];
	int fd = open("/proc/sys/kernel/msgmnb", O_WRONLY);
	if (fd < 0) return errno;
	snprintf(v, sizeof v, "%zu\n", (n + 1) * sizeof msg.mtext);
	if (write(fd, v, strlen(v)) < 0) { int e = errno; close(fd); return e; }
	close(fd);
	h->msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (h->msq < 0) return errno;
	msg.mtype = 1;
	memset(msg.mtext, 0x5a, sizeof msg.mtext);
	for (size_t i = 0; i < n; i++)
		if (msgsnd(h->msq, &msg, sizeof msg.mtext, IPC_NOWAIT) < 0) return errno;
	return 0;
#undef msg
}

/* pagetable: a read-only private anonymous mapping read once every 2 MiB: each read allocates
 * a PTE page and maps the zero page (do_anonymous_page), so only page tables are allocated. */
static int hold_pagetable(struct hold *h, size_t bytes) {
	size_t n = bytes / 4096;
	h->addr = mmap(NULL, n << 21, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->addr == MAP_FAILED) { h->addr = NULL; return errno; }
	h->len = n << 21;
	madvise(h->addr, h->len, MADV_NOHUGEPAGE);  /* no huge zero page: one PTE page per 2 MiB */
	for (size_t o = 0; o < h->len; o += 1UL << 21) (void)((volatile char *)h->addr)[o];
	return 0;
}

static void do_hold(int kind, const char *id, size_t bytes, int node) {
	struct hold *h = new_hold(id);
	int err = 0;
	memset(chunk, 0x5a, sizeof chunk);
	h->kind = kind;
	if (node >= 0 && set_policy(node) != 0) err = errno;
	if (!err && (kind == 0 || kind == 3)) {
		h->addr = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (h->addr == MAP_FAILED) { err = errno; h->addr = NULL; }
		else {
			h->len = bytes;
			madvise(h->addr, bytes, MADV_NOHUGEPAGE);  /* 4K pages: what the model counts */
			for (size_t o = 0; o < bytes; o += 4096) ((volatile char *)h->addr)[o] = 1;
		}
		if (!err && kind == 3) {
			struct io_uring_params pr;
			memset(&pr, 0, sizeof pr);
			h->ring = (int)syscall(__NR_io_uring_setup, 4, &pr);
			if (h->ring < 0) err = errno;
			else {
				size_t nv = (bytes + (1UL << 30) - 1) >> 30;
				struct iovec iov[64];
				for (size_t i = 0; i < nv && i < 64; i++) {
					iov[i].iov_base = (char *)h->addr + (i << 30);
					iov[i].iov_len = bytes - (i << 30) < (1UL << 30) ? bytes - (i << 30) : (1UL << 30);
				}
				if (syscall(__NR_io_uring_register, h->ring, IORING_REGISTER_BUFFERS, iov, (unsigned)nv) < 0) err = errno;
			}
		}
	} else if (!err && kind == 4) {
		err = hold_slab(h, bytes);
	} else if (!err && kind == 5) {
		err = hold_pagetable(h, bytes);
	} else if (!err) {
		if (kind == 1) h->fd = (int)syscall(SYS_memfd_create, id, 0);
		else {
			char p[128];
			snprintf(p, sizeof p, "/mnt/ramfs/%s", id);
			h->fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0600);
			if (h->fd >= 0) unlink(p);   /* the fd alone keeps the pages; close() frees them without allocating */
		}
		if (h->fd < 0) err = errno;
		else err = fill_fd(h->fd, bytes);
	}
	if (node >= 0) set_policy(-1);
	char nodes[16] = "-";
	if (node >= 0) snprintf(nodes, sizeof nodes, "%d", node);
	emit("hold id=%s kind=%s size=%zu node=%s rc=%d errno=%s", id, kinds[kind], bytes, nodes, err ? 1 : 0, errname(err));
}

static void do_release(const char *id) {
	for (int i = 0; i < 64; i++) {
		struct hold *h = &holds[i];
		if (strcmp(h->id, id) != 0) continue;
		if (h->ring >= 0) { syscall(__NR_io_uring_register, h->ring, IORING_UNREGISTER_BUFFERS, NULL, 0); close(h->ring); }
		if (h->fd >= 0) close(h->fd);
		if (h->msq >= 0) msgctl(h->msq, IPC_RMID, NULL);
		if (h->addr) munmap(h->addr, h->len);
		h->id[0] = 0;
		emit("release id=%s rc=0", id);
		return;
	}
	emit("release id=%s rc=1", id);
}

/* Pages of NODE's kernel zones above min + lowmem_reserve[ZONE_NORMAL] (the reserve a GFP_HIGHUSER allocation sees). */
static long headroom(int node) {
	int nz = parse_zoneinfo();
	long h = 0;
	for (int i = 0; i < nz; i++) {
		struct zinfo *z = &zones[i];
		if (z->node != node || !z->managed) continue;
		if (strcmp(z->name, "DMA") && strcmp(z->name, "DMA32") && strcmp(z->name, "Normal")) continue;
		long r = z->free - z->min - (z->nprot > 2 ? z->prot[2] : 0);
		if (r > 0) h += r;
	}
	return h;
}

static void do_fill(int node, long margin, const char *id) {
	struct hold *h = new_hold(id);
	char p[128];
	int err = 0;
	long pages = 0;
	memset(chunk, 0xa5, sizeof chunk);
	snprintf(p, sizeof p, "/mnt/ramfs/%s", id);
	h->kind = 2;
	h->fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (h->fd < 0) err = errno;
	else unlink(p);
	if (!err && set_policy(node) != 0) err = errno;
	long hr = headroom(node);
	for (int iter = 0; !err && iter < 100000; iter++) {
		long want = hr - margin;
		if (want <= 0) break;
		/* Converge: big steps far from the margin, single pages near it. */
		long step = want > 2048 ? want / 2 : (want > 64 ? want / 4 : 1);
		if (step > 65536) step = 65536;
		err = fill_fd(h->fd, (size_t)step * 4096);
		if (!err) pages += step;
		hr = headroom(node);
	}
	set_policy(-1);
	emit("fill id=%s node=%d margin=%ld pages=%ld headroom=%ld rc=%d errno=%s", id, node, margin, pages, hr, err ? 1 : 0, errname(err));
}

/* ---------- host requests ---------- */

static int read_ack(char *line, size_t cap, int timeout_s) {
	size_t n = 0;
	long deadline = now_cs() + timeout_s * 100L;
	while (now_cs() < deadline) {
		char c;
		ssize_t r = read(ctl, &c, 1);
		if (r == 1) {
			if (c == '\n') { line[n] = 0; if (n && line[0] == '@') return 0; n = 0; continue; }
			if (c != '\r' && n + 1 < cap) line[n++] = c;
		} else if (r < 0 && errno != EINTR && errno != EAGAIN) return -1;
	}
	return -1;
}

/* Blocks until memory block dirs stop appearing/disappearing and changing state: hot-plug work
 * (ACPI, virtio-mem's workqueue) finishes after the host-visible event. */
static void settle(int max_s) {
	char last[4096] = "", cur[4096];
	int stable = 0;
	long deadline = now_cs() + max_s * 100L;
	while (now_cs() < deadline && stable < 10) {
		int n = list_blocks(blocks, 65536), on = 0;
		char p[128], st[32];
		for (int i = 0; i < n; i++) {
			snprintf(p, sizeof p, MEMDIR "/memory%d/state", blocks[i]);
			readline1(p, st, sizeof st);
			if (!strcmp(st, "online")) on++;
		}
		snprintf(cur, sizeof cur, "%d/%d", n, on);
		if (!strcmp(cur, last)) stable++; else { stable = 0; strcpy(last, cur); }
		usleep(100000);
	}
}

static void do_host(int n, const char *action, int timeout_s) {
	char line[512];
	emit("@host %d %s", n, action);
	if (read_ack(line, sizeof line, timeout_s + 120) != 0) { emit("@error no ack for host request %d", n); return; }
	/* `@ack N [blocks=A-B]`: wait for those block directories (a DIMM's blocks). */
	char *b = strstr(line, "blocks=");
	if (b) {
		int a = 0, z = -1;
		sscanf(b, "blocks=%d-%d", &a, &z);
		long deadline = now_cs() + timeout_s * 100L;
		for (int i = a; i <= z; i++) {
			char p[128];
			snprintf(p, sizeof p, MEMDIR "/memory%d", i);
			while (access(p, F_OK) != 0 && now_cs() < deadline) usleep(20000);
		}
	}
	settle(timeout_s);
}

/* ---------- main ---------- */

static void do_insmod(const char *path, const char *args, const char *name) {
	int fd = open(path, O_RDONLY);
	int err = 0;
	if (fd < 0) err = errno;
	else if (syscall(SYS_finit_module, fd, args, 0) != 0) err = errno;
	if (fd >= 0) close(fd);
	emit("insmod module=%s args=%s rc=%d errno=%s", name, Q(0, args), err ? 1 : 0, errname(err));
}

/* The runner's own static buffers (about 4 MB of .bss) span an aligned 2 MiB range: with THP
 * "always" (Debian's default) their first touch would fault in a transparent huge page, an order-9
 * allocation and a pcp refill that no scenario asked for, which moves every later allocation by one
 * (the runner's footprint before its buffers grew: ~200 kB of anon pages, no THP). Marking the range
 * VM_NOHUGEPAGE before anything touches it keeps the guest's own memory small pages; the scenario's
 * holds are mapped separately and are not affected. */
extern char __bss_start[], _end[];
static void runner_nohugepage(void) {
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)__bss_start & ~(page - 1);
	uintptr_t hi = ((uintptr_t)_end + page - 1) & ~(page - 1);
	madvise((void *)lo, hi - lo, MADV_NOHUGEPAGE);
}

/* Prefault: a scenario that counts pages per block (DUMP pageflags, kpageflags) must not find
 * the runner's own pages there. The runner's buffers fault in lazily, each page on its first
 * write, and a fault after a block was onlined movable is served from that block (a user page is
 * GFP_HIGHUSER_MOVABLE: the highest zone first) and refills its zone's per-cpu list. So for such
 * scenarios the host puts `PREFAULT GROUP,...` first in /steps and the runner makes those buffers
 * resident before anything else, from boot memory like the rest of its pages: the static groups
 * it names (core, hold, kpf: see core_bufs), the file buffer, 64 KiB of stack and 64 KiB of heap
 * (readdir's buffers), with glibc told never to give heap back. Other scenarios (the campaign)
 * fault as before. GuestFootprint.swift gives the model the same pages. */
enum { PREFAULT_STACK = 64 << 10, PREFAULT_HEAP = 64 << 10 };
static long prefault_pages[6];
static int prefaulted;  /* core, hold, kpf, fbuf, stack, heap: pages made resident */

/* Makes every page of [p, p+len) resident; returns how many were not (mincore). A page that is
 * not resident reads as zeros, so writing a zero into it changes nothing but its residency. */
static long touch_range(void *p, size_t len) {
	const uintptr_t pg = 4096;
	uintptr_t lo = (uintptr_t)p & ~(pg - 1), hi = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);
	unsigned char vec[256];
	long fresh = 0;
	for (uintptr_t a = lo; a < hi; a += 256 * pg) {
		size_t n = (hi - a) / pg < 256 ? (hi - a) / pg : 256;
		int known = mincore((void *)a, n * pg, vec) == 0;  /* fails where the stack has not grown yet */
		for (size_t i = 0; i < n; i++) {
			if (known && (vec[i] & 1)) continue;
			volatile char *at = (volatile char *)(a + i * pg < (uintptr_t)p ? (uintptr_t)p : a + i * pg);
			*at = known ? 0 : *at;
			fresh++;
		}
	}
	return fresh;
}

static __attribute__((noinline)) long prefault_stack(void) {
	volatile char s[PREFAULT_STACK];
	return touch_range((void *)s, sizeof s);
}

static void prefault(const char *steps_path) {
	char first[128] = "";
	int fd = open(steps_path, O_RDONLY);
	if (fd < 0) return;
	ssize_t r = read(fd, first, sizeof first - 1);
	close(fd);
	if (r <= 0 || strncmp(first, "PREFAULT ", 9) != 0) return;
	first[r] = 0;
	char *nl = strchr(first, '\n');
	if (nl) *nl = 0;
	const char *g = first + 9;
	if (strstr(g, "core")) prefault_pages[0] = touch_range(&core, sizeof core);
	if (strstr(g, "hold")) prefault_pages[1] = touch_range(&holdbufs, sizeof holdbufs);
	if (strstr(g, "kpf")) prefault_pages[2] = touch_range(&kpfbufs, sizeof kpfbufs);
	fcap = 1 << 20;
	fbuf = malloc(fcap);
	prefault_pages[3] = touch_range(fbuf, fcap);
	prefault_pages[4] = prefault_stack();
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	void *h = malloc(PREFAULT_HEAP);
	prefault_pages[5] = touch_range(h, PREFAULT_HEAP);
	free(h);
	prefaulted = 1;
}

int main(int argc, char **argv) {
	runner_nohugepage();
	if (argc >= 2) prefault(argv[1]);
	if (argc < 3) { fprintf(stderr, "usage: memhp-guest STEPS TTY\n"); return 2; }
	ctl = open(argv[2], O_RDWR | O_NOCTTY);
	if (ctl < 0) { perror(argv[2]); return 2; }
	struct termios t;
	if (tcgetattr(ctl, &t) == 0) { cfmakeraw(&t); cfsetspeed(&t, B115200); tcsetattr(ctl, TCSANOW, &t); }
	out = fdopen(dup(ctl), "w");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;   /* no SA_RESTART: the signal interrupts a long write (offline_pages -> EINTR) */
	sigaction(SIGALRM, &sa, NULL);

	char buf[512];
	emit("@hello");
	if (prefaulted)
		emit("@prefault core=%ld hold=%ld kpf=%ld fbuf=%ld stack=%ld heap=%ld", prefault_pages[0], prefault_pages[1],
		     prefault_pages[2], prefault_pages[3], prefault_pages[4], prefault_pages[5]);
	{
		struct utsname un;
		char u[512] = "";
		if (uname(&un) == 0) snprintf(u, sizeof u, "%s %s", un.release, un.version);
		emit("guest uname=%s", Q(0, u));
		long n = readfile("/proc/cmdline");
		if (n > 0 && fbuf[n - 1] == '\n') fbuf[--n] = 0;
		emit("guest cmdline=%s", QN(0, fbuf, n > 0 ? n : 0));
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	drain_kmsg(1);

	FILE *steps = fopen(argv[1], "r");
	if (!steps) { emit("@error cannot open %s", argv[1]); return 2; }
#define line (core.b.line)
#define a1 (core.b.a1)
#define a2 (core.b.a2)
#define a3 (core.b.a3)
	int started = 0;
	while (fgets(line, sizeof line, steps)) {
		char cmd[32];
		char *nl = strchr(line, '\n'); if (nl) *nl = 0;
		if (sscanf(line, "%31s", cmd) != 1) continue;
		if (!strcmp(cmd, "PREFAULT")) continue;  /* done before @hello (prefault) */
		char *rest = line + strlen(cmd);
		if (!started && strcmp(cmd, "INSMOD") && strcmp(cmd, "DYNDBG")) {
			drain_kmsg(0);
			emit("stage name=scenario-start");
			started = 1;
		}
		if (!strcmp(cmd, "INSMOD")) {
			char h1[4096], h2[4096], h3[256];
			sscanf(rest, "%4095s %4095s %255s", h1, h2, h3);
			unhex(h1, a1, sizeof a1); unhex(h2, a2, sizeof a2); unhex(h3, a3, sizeof a3);
			do_insmod(a1, a2, a3);
			continue;  /* module load messages belong to boot */
		} else if (!strcmp(cmd, "DYNDBG")) {
			char h1[4096];
			sscanf(rest, "%4095s", h1);
			int n = unhex(h1, a1, sizeof a1);
			int fd = open("/proc/dynamic_debug/control", O_WRONLY);
			if (fd >= 0) { if (write(fd, a1, n) < 0) emit("dyndbg query=%s errno=%s", Q(0, a1), errname(errno)); close(fd); }
			continue;
		} else if (!strcmp(cmd, "STEP")) {
			int n; char h1[4096];
			sscanf(rest, "%d %4095s", &n, h1);
			unhex(h1, a1, sizeof a1);
			emit("step n=%d label=%s", n, Q(1, a1));
		} else if (!strcmp(cmd, "WRITE")) {
			int kind, nonl, to; char *h1 = core.b.h1, *h2 = core.b.h2;
			sscanf(rest, "%d %d %d %8191s %32767s", &kind, &nonl, &to, h1, h2);
			unhex(h1, a1, sizeof a1);
			int vlen = unhex(h2, a2, 4096);
			do_write(kind, nonl, to, a1, a2, vlen);
		} else if (!strcmp(cmd, "READ")) {
			char h1[8192];
			sscanf(rest, "%8191s", h1);
			unhex(h1, a1, sizeof a1);
			do_read(a1);
		} else if (!strcmp(cmd, "HOST")) {
			int n, to; char h1[4096];
			sscanf(rest, "%d %d %4095s", &n, &to, h1);
			unhex(h1, a1, sizeof a1);
			do_host(n, a1, to);
		} else if (!strcmp(cmd, "HOLD")) {
			int kind, node; size_t bytes; char h1[256];
			sscanf(rest, "%d %255s %zu %d", &kind, h1, &bytes, &node);
			unhex(h1, a1, sizeof a1);
			do_hold(kind, a1, bytes, node);
		} else if (!strcmp(cmd, "RELEASE")) {
			char h1[256];
			sscanf(rest, "%255s", h1);
			unhex(h1, a1, sizeof a1);
			do_release(a1);
		} else if (!strcmp(cmd, "FILL")) {
			int node; long margin; char h1[256];
			sscanf(rest, "%d %ld %255s", &node, &margin, h1);
			unhex(h1, a1, sizeof a1);
			do_fill(node, margin, a1);
		} else if (!strcmp(cmd, "DUMP")) {
			char what[32], sel[1 << 14];
			sscanf(rest, "%31s %16383s", what, sel);
			if (!strcmp(what, "blocks")) dump_blocks(sel);
			else if (!strcmp(what, "meminfo")) dump_meminfo();
			else if (!strcmp(what, "zones")) dump_zones();
			else if (!strcmp(what, "buddyinfo")) dump_buddyinfo();
			else if (!strcmp(what, "hugepages")) dump_hugepages();
			else if (!strcmp(what, "pageflags")) dump_pageflags(sel);
			else if (!strcmp(what, "params")) dump_params();
			else if (!strcmp(what, "layout")) dump_layout();
			else if (!strcmp(what, "vmstat")) dump_vmstat();
			else if (!strcmp(what, "kpageflags")) dump_kpf();
		} else if (!strcmp(cmd, "SLEEP")) {
			long ms;
			sscanf(rest, "%ld", &ms);
			usleep(ms * 1000);
		}
		drain_kmsg(0);
	}
	if (!started) { drain_kmsg(0); emit("stage name=scenario-start"); }
	(void)buf;
	emit("scenario_exit rc=0");
	emit("@done");
	return 0;
}
