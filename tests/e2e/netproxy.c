/*
 * netproxy: a TCP proxy between validators that a test controls, to make
 * partitions, loss and delay on 127.0.0.1. Each link is one direction of one
 * pair of validators: it listens on a port and forwards to a validator's peer
 * port. Validator i reaches j through link "i-j" when its config.json names
 * that port in peer_addresses. The proxy understands the peer transport's
 * framing (rpc/peer.h: an 8-byte hello each way, then frames with a 32-bit
 * length), so it drops or delays whole messages and keeps their order.
 *
 * Usage: netproxy [--raw] RULES STATS NAME=LISTEN:TARGET...
 * LISTEN and TARGET are PORT (on 127.0.0.1) or ADDR:PORT (IPv4).
 * RULES is a file that the test rewrites (atomically, by rename) whenever
 * the network should change; it is read again within 20 ms. Each line is
 *   PATTERN drop PERCENT delay MIN_MS MAX_MS [flip PERCENT]
 * where PATTERN is a link name, "*" for every link, or "A-*" / "*-B" for the
 * links from A or to B; later lines win; a link no line names is perfect.
 * "drop 100" cuts a link. STATS is rewritten every 200 ms with one line per
 * link: NAME forwarded N dropped N flipped N. Runs until killed; stops by
 * itself after an hour.
 *
 * --raw: the links carry bytes the proxy cannot frame (TLS): it forwards
 * what it reads as it comes, each piece delayed by the rule (in order);
 * "drop" is then the chance that a piece cuts the connection instead, and
 * "flip" the chance that a piece is forwarded with one byte changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 64
#define MAX_CONNS 256
#define MAX_MSG (64u << 20)

struct rule {
	int drop;          /* percent */
	int delay_min;     /* ms */
	int delay_max;     /* ms */
	int flip;          /* percent, --raw only */
};

struct link {
	char name[32];
	int listen_fd;
	struct sockaddr_in target;
	struct rule rule;
	uint64_t forwarded, dropped, flipped;
};

static int raw_mode;

struct frame {
	uint64_t release_ms;
	size_t len;
	struct frame *next;
	uint8_t data[];
};

/* One proxied connection: from (the dialing validator) and to (the target). */
struct conn {
	int from, to;
	struct link *link;
	uint8_t head[8]; /* the hello, then each message's length */
	size_t head_have;
	int handshake_done;
	struct frame *cur; /* message being read */
	size_t cur_have;
	struct frame *queue, *tail; /* messages waiting for their release time */
	uint64_t last_release;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* parse_addr reads PORT (127.0.0.1) or ADDR:PORT from s up to end; 0 if it parses. */
static int
parse_addr(const char *s, size_t len, struct sockaddr_in *sa)
{
	char buf[64], *colon;
	int port;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*sa = (struct sockaddr_in){.sin_family = AF_INET};
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((colon = strrchr(buf, ':')) != NULL) {
		*colon = '\0';
		if (inet_pton(AF_INET, buf, &sa->sin_addr) != 1)
			return -1;
		s = colon + 1;
	} else {
		s = buf;
	}
	if (sscanf(s, "%d", &port) != 1 || port <= 0 || port > 65535)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int
listen_on(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 || listen(fd, 16) != 0) {
		fprintf(stderr, "netproxy: cannot listen on port %d: %s\n", ntohs(sa->sin_port),
			strerror(errno));
		exit(1);
	}
	return fd;
}

static int
dial(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* write_all writes everything (blocking: validators read their peer ports promptly). */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	close(c->from);
	close(c->to);
	free(c->cur);
	for (struct frame *f = c->queue, *nx; f != NULL; f = nx) {
		nx = f->next;
		free(f);
	}
	memset(c, 0, sizeof(*c));
	c->from = c->to = -1;
}

/*
 * deliver queues a complete message (with --raw, a piece), or drops it, by
 * the link's rule. -1: with --raw, the piece cuts the connection.
 */
static int
deliver(struct conn *c, struct frame *f)
{
	struct rule *r = &c->link->rule;
	if (r->drop > 0 && (int)(rnd() % 100) < r->drop) {
		c->link->dropped++;
		free(f);
		return raw_mode ? -1 : 0;
	}
	if (raw_mode && r->flip > 0 && (int)(rnd() % 100) < r->flip) {
		f->data[rnd() % f->len] ^= (uint8_t)(1u << (rnd() % 8));
		c->link->flipped++;
	}
	uint64_t span = (uint64_t)(r->delay_max - r->delay_min + 1);
	uint64_t at = now_ms() + (uint64_t)r->delay_min + (r->delay_max > r->delay_min ? rnd() % span : 0);
	if (at < c->last_release)
		at = c->last_release; /* a TCP link keeps order */
	c->last_release = at;
	f->release_ms = at;
	f->next = NULL;
	if (c->tail)
		c->tail->next = f;
	else
		c->queue = f;
	c->tail = f;
	return 0;
}

/* on_from reads what the dialing validator sent; -1 closes the connection. */
static int
on_from(struct conn *c)
{
	uint8_t buf[65536];
	ssize_t n = recv(c->from, buf, sizeof(buf), 0);
	if (n <= 0)
		return -1;
	if (raw_mode) {
		struct frame *f = malloc(sizeof(struct frame) + (size_t)n);
		if (f == NULL)
			return -1;
		f->len = (size_t)n;
		memcpy(f->data, buf, (size_t)n);
		return deliver(c, f);
	}
	for (size_t i = 0; i < (size_t)n;) {
		if (c->cur == NULL) { /* the hello, or a message length */
			size_t want = c->handshake_done ? 4 : 8;
			size_t k = want - c->head_have;
			if (k > (size_t)n - i)
				k = (size_t)n - i;
			memcpy(c->head + c->head_have, buf + i, k);
			c->head_have += k;
			i += k;
			if (c->head_have < want)
				continue;
			c->head_have = 0;
			if (!c->handshake_done) {
				c->handshake_done = 1;
				if (write_all(c->to, c->head, 8) != 0)
					return -1;
				continue;
			}
			uint64_t len = 0;
			for (int b = 0; b < 4; b++)
				len = len << 8 | c->head[b];
			if (len > MAX_MSG)
				return -1;
			c->cur = malloc(sizeof(struct frame) + 4 + len);
			if (c->cur == NULL)
				return -1;
			c->cur->len = 4 + len;
			memcpy(c->cur->data, c->head, 4);
			c->cur_have = 4;
		}
		size_t k = c->cur->len - c->cur_have;
		if (k > (size_t)n - i)
			k = (size_t)n - i;
		memcpy(c->cur->data + c->cur_have, buf + i, k);
		c->cur_have += k;
		i += k;
		if (c->cur_have == c->cur->len) {
			(void)deliver(c, c->cur);
			c->cur = NULL;
		}
	}
	return 0;
}

/* flush writes the messages whose time has come; -1 closes the connection. */
static int
flush(struct conn *c, uint64_t now)
{
	while (c->queue != NULL && c->queue->release_ms <= now) {
		struct frame *f = c->queue;
		c->queue = f->next;
		if (c->queue == NULL)
			c->tail = NULL;
		int rc = write_all(c->to, f->data, f->len);
		c->link->forwarded++;
		free(f);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
matches(const char *pat, const char *name)
{
	if (strcmp(pat, "*") == 0 || strcmp(pat, name) == 0)
		return 1;
	const char *dash = strchr(name, '-');
	size_t plen = strlen(pat);
	if (dash == NULL || plen < 2)
		return 0;
	if (strcmp(pat + plen - 2, "-*") == 0) /* A-*: from A */
		return (size_t)(dash - name) == plen - 2 && strncmp(pat, name, plen - 2) == 0;
	if (strncmp(pat, "*-", 2) == 0) /* *-B: to B */
		return strcmp(pat + 2, dash + 1) == 0;
	return 0;
}

static void
load_rules(const char *path, struct link *links, int nlinks)
{
	FILE *f = fopen(path, "r");
	char line[256], pat[64];
	struct rule r;
	for (int i = 0; i < nlinks; i++)
		links[i].rule = (struct rule){0, 0, 0, 0};
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		int got = sscanf(line, "%63s drop %d delay %d %d flip %d", pat, &r.drop, &r.delay_min,
				 &r.delay_max, &r.flip);
		if (got == 4)
			r.flip = 0;
		if ((got != 4 && got != 5) || r.drop < 0 || r.drop > 100 || r.delay_min < 0 ||
		    r.delay_max < r.delay_min || r.flip < 0 || r.flip > 100) {
			if (line[0] != '#' && line[0] != '\n')
				fprintf(stderr, "netproxy: %s: bad rule: %s", path, line);
			continue;
		}
		for (int i = 0; i < nlinks; i++)
			if (matches(pat, links[i].name))
				links[i].rule = r;
	}
	fclose(f);
}

static void
write_stats(const char *path, const struct link *links, int nlinks)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	for (int i = 0; i < nlinks; i++)
		fprintf(f, "%s forwarded %llu dropped %llu flipped %llu\n", links[i].name,
			(unsigned long long)links[i].forwarded, (unsigned long long)links[i].dropped,
			(unsigned long long)links[i].flipped);
	if (fclose(f) == 0)
		rename(tmp, path);
}

int
main(int argc, char **argv)
{
	static struct link links[MAX_LINKS];
	static struct conn conns[MAX_CONNS];
	int nlinks = 0;
	if (argc > 1 && strcmp(argv[1], "--raw") == 0) {
		raw_mode = 1;
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: netproxy [--raw] RULES STATS NAME=LISTEN:TARGET...\n");
		return 2;
	}
	const char *rules = argv[1], *stats = argv[2];
	for (int i = 3; i < argc && nlinks < MAX_LINKS; i++) {
		struct link *l = &links[nlinks];
		struct sockaddr_in lsa;
		char *eq = strchr(argv[i], '=');
		/* LISTEN:TARGET, each PORT or ADDR:PORT: split at the colon that ends LISTEN */
		const char *spec = eq != NULL ? eq + 1 : NULL, *mid = NULL;
		int colons = 0;
		for (const char *q = spec; q != NULL && *q != '\0'; q++)
			colons += *q == ':';
		if (spec != NULL && (colons == 1 || colons == 3)) {
			mid = strchr(spec, ':'); /* PORT:PORT */
			if (colons == 3)
				mid = strchr(mid + 1, ':'); /* ADDR:PORT:ADDR:PORT */
		}
		if (eq == NULL || mid == NULL || (size_t)(eq - argv[i]) >= sizeof(l->name) ||
		    parse_addr(spec, (size_t)(mid - spec), &lsa) != 0 ||
		    parse_addr(mid + 1, strlen(mid + 1), &l->target) != 0) {
			fprintf(stderr, "netproxy: bad link %s (want NAME=LISTEN:TARGET, each PORT or "
					"ADDR:PORT)\n",
				argv[i]);
			return 2;
		}
		memcpy(l->name, argv[i], (size_t)(eq - argv[i]));
		l->listen_fd = listen_on(&lsa);
		nlinks++;
	}
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].from = conns[i].to = -1;
	rng_state ^= (uint64_t)getpid() << 16;
	struct timespec seen = {0, 0};
	ino_t seen_ino = 0;
	uint64_t start = now_ms(), last_stats = 0;
	load_rules(rules, links, nlinks);
	while (now_ms() - start < 3600 * 1000) {
		struct pollfd pfd[MAX_LINKS + 2 * MAX_CONNS];
		int idx[MAX_LINKS + 2 * MAX_CONNS], np = 0;
		uint64_t now = now_ms(), wake = now + 20;
		for (int i = 0; i < nlinks; i++) {
			pfd[np] = (struct pollfd){.fd = links[i].listen_fd, .events = POLLIN};
			idx[np++] = -1 - i;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			if (conns[i].from < 0)
				continue;
			pfd[np] = (struct pollfd){.fd = conns[i].from, .events = POLLIN};
			idx[np++] = 2 * i;
			pfd[np] = (struct pollfd){.fd = conns[i].to, .events = POLLIN};
			idx[np++] = 2 * i + 1;
			if (conns[i].queue != NULL && conns[i].queue->release_ms < wake)
				wake = conns[i].queue->release_ms;
		}
		poll(pfd, (nfds_t)np, (int)(wake > now ? wake - now : 0));
		for (int p = 0; p < np; p++) {
			if (pfd[p].revents == 0)
				continue;
			if (idx[p] < 0) { /* a validator dials in: dial its target */
				struct link *l = &links[-1 - idx[p]];
				int fd = accept(l->listen_fd, NULL, NULL), slot = 0;
				while (slot < MAX_CONNS && conns[slot].from >= 0)
					slot++;
				int to = fd >= 0 && slot < MAX_CONNS ? dial(&l->target) : -1;
				if (to < 0) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				/* a proxy that adds its own latency must not add Nagle's too */
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				setsockopt(to, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				conns[slot].from = fd;
				conns[slot].to = to;
				conns[slot].link = l;
				continue;
			}
			struct conn *c = &conns[idx[p] / 2];
			if (c->from < 0)
				continue;
			int rc;
			if (idx[p] % 2 == 0) {
				rc = on_from(c);
			} else { /* the target's hello back, or its hang-up */
				uint8_t b[256];
				ssize_t n = recv(c->to, b, sizeof(b), 0);
				rc = n <= 0 ? -1 : write_all(c->from, b, (size_t)n);
			}
			if (rc != 0)
				conn_close(c);
		}
		now = now_ms();
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].from >= 0 && flush(&conns[i], now) != 0)
				conn_close(&conns[i]);
		struct stat st;
		if (stat(rules, &st) == 0 &&
		    (st.st_ino != seen_ino || st.st_mtim.tv_sec != seen.tv_sec ||
		     st.st_mtim.tv_nsec != seen.tv_nsec)) {
			seen = st.st_mtim;
			seen_ino = st.st_ino;
			load_rules(rules, links, nlinks);
		}
		if (now - last_stats >= 200) {
			write_stats(stats, links, nlinks);
			last_stats = now;
		}
	}
	return 0;
}
