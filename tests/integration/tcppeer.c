/* tcppeer.c - exact-byte TCP peers for the relay's integration tests.
 *
 *   tcppeer serve PORT SEND RECV          on 127.0.0.1:PORT, accept one connection, run duplex
 *   tcppeer connect HOST PORT SEND RECV   connect, run duplex
 *   tcppeer short HOST PORT N             N sequential connect / 64-byte echo / close
 *                                         (against an echo server: tcpperf server)
 *   tcppeer echo PORT SECONDS             on 127.0.0.1:PORT, echo every connection (up to
 *                                         ECHO_MAX at once) for SECONDS, then exit
 *   tcppeer rr HOST PORT SECONDS MAXMS    one connection, 64-byte request / echoed reply
 *                                         round trips for SECONDS (against echo); prints
 *                                         their rate and the slowest; fails if one took
 *                                         longer than MAXMS or the connection broke
 *   tcppeer refused HOST PORT             expect ECONNREFUSED within 5 s
 *   tcppeer abort serve PORT | abort connect HOST PORT
 *                                         send 1 MiB, then close with SO_LINGER 0 (RST)
 *   tcppeer expect-reset serve PORT | expect-reset connect HOST PORT
 *                                         read until the connection is reset (ECONNRESET);
 *                                         an orderly EOF fails
 *
 * TCPPEER_DELAY=SECONDS in the environment: wait that long after the connection is up before
 * reading or writing anything (a receiver that does not read: its window closes).
 *
 * duplex: send SEND bytes of a deterministic pattern while reading at the same time, then
 * shutdown(SHUT_WR) and keep reading until EOF; every byte read is checked against the
 * other side's pattern and exactly RECV bytes must arrive. The client sends stream 1 and
 * expects stream 2; the server the reverse. Sizes take a K, M or G suffix (binary).
 * Prints one line of figures; exit 0 only if everything matched.
 * Must not: talk to anything but the address it is given (tests use loopback and their own
 * namespaces only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define STALL_MS 30000 /* no progress either way for this long: fail */

/** now_s() - monotonic seconds */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** pattern_word() - the 8-byte word number @k of stream @seed (splitmix64) */
static uint64_t pattern_word(uint64_t seed, uint64_t k)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + k + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stream is its table repeated: a prime period, so that no power-of-two slip of the data
 * (a segment sent twice, one skipped) lines up with itself; comparing is memcmp speed. */
#define PERIOD 1048573

/** pattern_table() - the table of stream @seed (1, 2 or 3), built on first use */
static const uint8_t *pattern_table(uint64_t seed)
{
	static uint8_t *tab[4];
	uint64_t k;

	if (!tab[seed]) {
		tab[seed] = malloc(PERIOD + 8);
		if (!tab[seed])
			abort();
		for (k = 0; k < (PERIOD + 7) / 8; k++) {
			uint64_t w = pattern_word(seed, k);

			memcpy(tab[seed] + 8 * k, &w, 8);
		}
	}
	return tab[seed];
}

/** pattern_fill() - the bytes @off .. @off + @len of stream @seed into @buf */
static void pattern_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
	const uint8_t *t = pattern_table(seed);

	while (len) {
		size_t at = off % PERIOD, n = PERIOD - at < len ? PERIOD - at : len;

		memcpy(buf, t + at, n);
		buf += n;
		off += n;
		len -= n;
	}
}

/** parse_size() - "200M" → bytes */
static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	switch (*end) {
	case 'G': return v << 30;
	case 'M': return v << 20;
	case 'K': return v << 10;
	default: return v;
	}
}

/**
 * duplex() - send @send_n bytes of stream @send_seed and check @recv_n bytes of stream
 * @recv_seed, at the same time, with half-closes at the end
 * Return: 0 if all matched
 */
static int duplex(int fd, uint64_t send_n, uint64_t send_seed, uint64_t recv_n,
		  uint64_t recv_seed, const char *who)
{
	static uint8_t out[CHUNK], in[CHUNK], want[CHUNK];
	uint64_t sent = 0, got = 0;
	size_t out_len = 0, out_off = 0;
	double t0 = now_s(), t_sent = 0, t_got = 0;
	int shut = 0, eof = 0;

	while (!eof || !shut) {
		struct pollfd pfd = { .fd = fd, .events = 0 };
		int r;

		if (!shut && sent == send_n) {
			if (shutdown(fd, SHUT_WR) < 0) {
				fprintf(stderr, "%s: shutdown: %s\n", who, strerror(errno));
				return 1;
			}
			shut = 1;
			t_sent = now_s() - t0;
			continue;
		}
		if (!shut)
			pfd.events |= POLLOUT;
		if (!eof)
			pfd.events |= POLLIN;
		r = poll(&pfd, 1, STALL_MS);
		if (r == 0) {
			fprintf(stderr, "%s: stalled: sent %llu of %llu, got %llu of %llu\n", who,
				(unsigned long long)sent, (unsigned long long)send_n,
				(unsigned long long)got, (unsigned long long)recv_n);
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return 1;

		if (!eof && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

			if (n < 0 && errno != EAGAIN) {
				fprintf(stderr, "%s: recv after %llu bytes: %s\n", who,
					(unsigned long long)got, strerror(errno));
				return 1;
			}
			if (n == 0) {
				eof = 1;
				t_got = now_s() - t0;
			} else if (n > 0) {
				if (got + n > recv_n) {
					fprintf(stderr, "%s: %llu bytes more than the %llu expected\n",
						who, (unsigned long long)(got + n - recv_n),
						(unsigned long long)recv_n);
					return 1;
				}
				pattern_fill(recv_seed, got, want, n);
				if (memcmp(in, want, n)) {
					ssize_t i = 0;

					while (in[i] == want[i])
						i++;
					fprintf(stderr, "%s: wrong byte at offset %llu\n", who,
						(unsigned long long)(got + i));
					return 1;
				}
				got += n;
			}
		}
		if (!shut && (pfd.revents & (POLLOUT | POLLERR))) {
			ssize_t n;

			if (out_off == out_len) {
				uint64_t left = send_n - sent;

				out_len = left < CHUNK ? left : CHUNK;
				out_off = 0;
				pattern_fill(send_seed, sent, out, out_len);
			}
			n = send(fd, out + out_off, out_len - out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				fprintf(stderr, "%s: send after %llu bytes: %s\n", who,
					(unsigned long long)sent, strerror(errno));
				return 1;
			}
			if (n > 0) {
				out_off += n;
				sent += n;
			}
		}
	}
	if (got != recv_n) {
		fprintf(stderr, "%s: EOF after %llu bytes, expected %llu\n", who,
			(unsigned long long)got, (unsigned long long)recv_n);
		return 1;
	}
	printf("%s: sent %llu B in %.2f s (%.1f MiB/s), received %llu B in %.2f s (%.1f MiB/s),"
	       " all bytes match\n", who, (unsigned long long)sent, t_sent,
	       t_sent > 0 ? sent / t_sent / 1048576 : 0, (unsigned long long)got, t_got,
	       t_got > 0 ? got / t_got / 1048576 : 0);
	return 0;
}

/** delay() - sleep TCPPEER_DELAY seconds if set */
static void delay(void)
{
	const char *d = getenv("TCPPEER_DELAY");
	double s = d ? atof(d) : 0;

	if (s > 0) {
		struct timespec ts = { .tv_sec = (time_t)s,
				       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

/** sockaddr_of() - @host:@port; exits on a bad address */
static struct sockaddr_in sockaddr_of(const char *host, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", host);
		exit(2);
	}
	return a;
}

/** dial() - blocking connect; Return: fd or -1 (errno set) */
static int dial(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/** cmd_serve() - accept one connection on 127.0.0.1:@port and run duplex */
static int cmd_serve(char **argv)
{
	struct sockaddr_in a = sockaddr_of("127.0.0.1", argv[0]);
	int one = 1, s, c;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
		perror("tcppeer serve");
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	close(s);
	delay();
	return duplex(c, parse_size(argv[1]), 2, parse_size(argv[2]), 1, "server");
}

/** cmd_connect() - connect to @host:@port and run duplex */
static int cmd_connect(char **argv)
{
	struct sockaddr_in a = sockaddr_of(argv[0], argv[1]);
	int fd = dial(&a);

	if (fd < 0) {
		perror("tcppeer connect");
		return 1;
	}
	delay();
	return duplex(fd, parse_size(argv[2]), 1, parse_size(argv[3]), 2, "client");
}

/** cmd_short() - @n sequential short echo connections */
static int cmd_short(char **argv)
{
	struct sockaddr_in a = sockaddr_of(argv[0], argv[1]);
	long n = atol(argv[2]), ok = 0, i;
	double t0 = now_s();
	uint8_t msg[64], back[64];

	for (i = 0; i < n; i++) {
		size_t got = 0;
		int fd = dial(&a);

		if (fd < 0) {
			fprintf(stderr, "short %ld: connect: %s\n", i, strerror(errno));
			continue;
		}
		pattern_fill(3, i * sizeof(msg), msg, sizeof(msg));
		if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != sizeof(msg)) {
			fprintf(stderr, "short %ld: send: %s\n", i, strerror(errno));
			close(fd);
			continue;
		}
		while (got < sizeof(back)) {
			ssize_t r = recv(fd, back + got, sizeof(back) - got, 0);

			if (r <= 0)
				break;
			got += r;
		}
		if (got == sizeof(back) && !memcmp(msg, back, sizeof(msg)))
			ok++;
		else
			fprintf(stderr, "short %ld: echo: got %zu bytes%s\n", i, got,
				got == sizeof(back) ? " (different)" : "");
		close(fd);
	}
	printf("short_ok %ld of %ld in %.2f s (%.0f conn/s)\n", ok, n, now_s() - t0,
	       n / (now_s() - t0));
	return ok != n;
}

/* Connections the echo server serves at once (more wait in the listen backlog). */
#define ECHO_MAX 64

/** cmd_echo() - echo server on 127.0.0.1:@port for @seconds (bounded: tests never leak it) */
static int cmd_echo(char **argv)
{
	struct sockaddr_in a = sockaddr_of("127.0.0.1", argv[0]);
	double end = now_s() + atof(argv[1]);
	struct pollfd pfd[ECHO_MAX + 1];
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n = 1;
	uint8_t buf[65536];

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 128) < 0) {
		perror("tcppeer echo");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	pfd[0] = (struct pollfd){ .fd = s, .events = POLLIN };
	while (now_s() < end) {
		if (poll(pfd, n, 200) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && n < ECHO_MAX + 1) {
			int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				pfd[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
			}
		}
		for (size_t i = 1; i < n; i++) {
			ssize_t r;

			if (!pfd[i].revents)
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			/* a blocking send: the echo of what one peer sent, bounded by its window */
			if (r <= 0 || send(pfd[i].fd, buf, (size_t)r, MSG_NOSIGNAL) != r) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
			}
		}
	}
	return 0;
}

/** cmd_rr() - 64-byte round trips on one connection for a while; the rate and the slowest */
static int cmd_rr(char **argv)
{
	struct sockaddr_in a = sockaddr_of(argv[0], argv[1]);
	double secs = atof(argv[2]), max_ms = atof(argv[3]), worst = 0, t0, end;
	struct timeval tmo = { .tv_sec = 1 + (time_t)(max_ms / 1000) };
	uint8_t msg[64], back[64];
	int one = 1, fd = dial(&a);
	long n = 0;

	if (fd < 0) {
		fprintf(stderr, "rr: connect: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a reply that never comes fails after MAXMS (rounded up to a second), not never */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		double t = now_s();
		size_t got = 0;

		pattern_fill(3, (uint64_t)n * sizeof(msg), msg, sizeof(msg));
		if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != sizeof(msg)) {
			fprintf(stderr, "rr %ld: send: %s\n", n, strerror(errno));
			return 1;
		}
		while (got < sizeof(back)) {
			ssize_t r = recv(fd, back + got, sizeof(back) - got, 0);

			if (r <= 0) {
				fprintf(stderr, "rr %ld: recv: %s after %.0f ms\n", n,
					r ? strerror(errno) : "EOF", (now_s() - t) * 1000);
				return 1;
			}
			got += (size_t)r;
		}
		if (memcmp(msg, back, sizeof(msg))) {
			fprintf(stderr, "rr %ld: the echo differs\n", n);
			return 1;
		}
		if ((now_s() - t) * 1000 > worst)
			worst = (now_s() - t) * 1000;
		n++;
	}
	close(fd);
	printf("rr %ld in %.2f s (%.0f/s), slowest %.1f ms\n", n, now_s() - t0,
	       n / (now_s() - t0), worst);
	return worst > max_ms;
}

/** cmd_refused() - a connect that must fail with ECONNREFUSED within 5 s */
static int cmd_refused(char **argv)
{
	struct sockaddr_in a = sockaddr_of(argv[0], argv[1]);
	struct timeval tmo = { .tv_sec = 5 };
	double t0 = now_s();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	/* a blocking connect bounded by SO_SNDTIMEO (EINPROGRESS when it runs out) */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		printf("refused: connected (not refused)\n");
		return 1;
	}
	e = errno;
	printf("refused: %s after %.1f ms\n", strerror(e), (now_s() - t0) * 1000);
	return e != ECONNREFUSED;
}

/**
 * open_role() - "serve PORT" (accept one on 127.0.0.1) or "connect HOST PORT"
 * Return: the connected socket, or -1
 */
static int open_role(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[0], "serve")) {
		struct sockaddr_in a = sockaddr_of("127.0.0.1", argv[1]);
		int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
			return -1;
		printf("listening\n");
		fflush(stdout);
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		close(s);
		return c;
	}
	if (argc == 3 && !strcmp(argv[0], "connect")) {
		struct sockaddr_in a = sockaddr_of(argv[1], argv[2]);

		return dial(&a);
	}
	return -1;
}

/** cmd_abort() - send 1 MiB, give it a moment to leave, then abort (RST) */
static int cmd_abort(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct timespec ts = { .tv_nsec = 300 * 1000 * 1000 };
	int fd = open_role(argc, argv);

	if (fd < 0) {
		perror("tcppeer abort");
		return 1;
	}
	pattern_fill(1, 0, buf, sizeof(buf));
	if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf)) {
		perror("tcppeer abort: send");
		return 1;
	}
	nanosleep(&ts, NULL);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	printf("abort: sent %zu B, then RST\n", sizeof(buf));
	return 0;
}

/** cmd_expect_reset() - read until the connection is reset */
static int cmd_expect_reset(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	uint64_t got = 0;
	int fd = open_role(argc, argv);
	struct timeval tmo = { .tv_sec = 20 };

	if (fd < 0) {
		perror("tcppeer expect-reset");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			got += n;
			continue;
		}
		if (n == 0) {
			printf("expect-reset: orderly EOF after %llu B (no reset)\n",
			       (unsigned long long)got);
			return 1;
		}
		printf("expect-reset: %s after %llu B\n", strerror(errno),
		       (unsigned long long)got);
		return errno != ECONNRESET;
	}
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "abort"))
		return cmd_abort(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "expect-reset"))
		return cmd_expect_reset(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "serve"))
		return cmd_serve(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "connect"))
		return cmd_connect(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "short"))
		return cmd_short(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "rr"))
		return cmd_rr(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "refused"))
		return cmd_refused(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of tcppeer.c\n");
	return 2;
}
