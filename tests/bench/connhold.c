/* connhold.c - open N TCP connections as fast as the path allows, then hold them idle.
 *
 *   connhold HOST PORT0 NPORTS N HOLD_S [INFLIGHT]
 *
 * Connects to HOST:PORT0 .. HOST:PORT0+NPORTS-1 in turn (one destination port holds at most
 * ip_local_port_range's ~28,000 source ports), with at most INFLIGHT (default 256) connect()s
 * pending at once, non-blocking, completions seen through epoll. Prints one line
 *   "open OK of N in SECS s: RATE conn/s (failed F)"
 * as soon as every connect() has finished, then holds the connections for HOLD_S seconds
 * (the line is flushed first, so a script can measure while they are held). With
 * CONNHOLD_MARK=K in the environment, a line "mark K in SECS s: RATE conn/s" is printed too when
 * the first K connect()s have finished (to compare with a daemon that holds fewer). A benchmark tool:
 * no data is sent. Exit status 0 if all N came up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event evs[512];
	struct rlimit rl;
	int port0, nports, n, hold, inflight = 256, ep, started = 0, done = 0, ok = 0, mark = 0;
	double t0;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: connhold HOST PORT0 NPORTS N HOLD_S [INFLIGHT]\n");
		return 2;
	}
	port0 = atoi(argv[2]);
	nports = atoi(argv[3]);
	n = atoi(argv[4]);
	hold = atoi(argv[5]);
	if (argc == 7)
		inflight = atoi(argv[6]);
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || nports < 1 || n < 1 || inflight < 1) {
		fprintf(stderr, "connhold: bad arguments\n");
		return 2;
	}
	if (getenv("CONNHOLD_MARK"))
		mark = atoi(getenv("CONNHOLD_MARK"));
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ep = epoll_create1(0);
	if (ep < 0) {
		perror("epoll_create1");
		return 2;
	}
	t0 = now();
	while (done < n) {
		int k;

		while (started < n && started - done < inflight) {
			struct epoll_event ev = { .events = EPOLLOUT };
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			started++;
			if (fd < 0) {
				perror("socket");
				done++;
				continue;
			}
			a.sin_port = htons(port0 + started % nports);
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
				close(fd);
				done++;
				continue;
			}
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		k = epoll_wait(ep, evs, 512, 30000);
		if (k <= 0) {
			fprintf(stderr, "connhold: no progress in 30 s, %d of %d done\n", done, n);
			break;
		}
		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t el = sizeof(err);

			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			done++;
			if (err)
				close(fd);
			else
				ok++;
			if (done == mark) {
				double dm = now() - t0;

				printf("mark %d in %.3f s: %.0f conn/s (%d ok)\n", mark, dm, ok / dm, ok);
			}
		}
	}
	double dt = now() - t0;

	printf("open %d of %d in %.3f s: %.0f conn/s (failed %d)\n", ok, n, dt, ok / dt, n - ok);
	fflush(stdout);
	sleep(hold);
	return ok != n;
}
