/* ctl_auth.c - who may connect to the control socket and who may mutate: the authorisation
 * rules in one place (issue 14; docs/security.md, "The control socket").
 *
 * The rules:
 *  1. Connect: whoever can open the socket. It is mode 0660, group cfg.control_group
 *     (listen_socket(), ctl_server.c), in a directory that no one but root or the daemon's
 *     uid can write to or swap, anywhere on its path (check_dir(), ctl_server.c; safedir.c).
 *  2. How many: at most CTL_MAX_CLIENTS connections; the last CTL_ROOT_RESERVE are root's
 *     alone; a uid other than root at most CTL_MAX_CLIENTS_PER_UID (ctl_over_limit()). One user
 *     cannot take the table, and root always gets in.
 *  3. Read commands (every command not flagged `mutating` in ctl_cmds[], ctl_proto.c):
 *     any peer that connected.
 *  4. Mutating commands (flagged `mutating`: capture, add_hostfwd, remove_hostfwd, attach,
 *     detach): uid 0, the daemon's own effective uid, or a member of cfg.admin_group
 *     (ctl_may_mutate()); checked by dispatch() before the handler runs.
 *  5. Membership of cfg.admin_group: the peer's primary gid (SO_PEERCRED) or one of its
 *     supplementary groups (SO_PEERGROUPS: the groups the connecting process had), against
 *     the gid resolved once at start-up (ctl_server_new()); settled when it connects, for the
 *     connection's life (ctl_peer_admin()). Without a connection (ctl_handle_line()) only the
 *     primary gid counts. Never an NSS lookup on the loop.
 *
 * Must not: consult NSS, block, or grant anything the table does not flag.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "ctl_internal.h"
#include "tapird.h"

/** client_admin() - whether @c's peer was in the admin group when it connected */
static bool client_admin(const struct ctl_client *c)
{
	return c->admin;
}

/**
 * server_admin_gid() - cfg.admin_group's gid as resolved at start-up
 * Return: whether there is one (@srv may be NULL: no server, no admin group)
 */
static bool server_admin_gid(const struct ctl_server *srv, gid_t *gid)
{
	if (!srv || !srv->admin_set)
		return false;
	*gid = srv->admin_gid;
	return true;
}

/**
 * ctl_may_mutate() - whether the peer may run mutating commands: root, the daemon's own user (a
 * rootless tapird, e.g. podman's slirp4netns, belongs to the user who started it), or a
 * member of cfg.admin_group. A connection's membership was settled when it connected
 * (SO_PEERGROUPS, accept_cb); without one (ctl_handle_line) the primary @gid is compared with
 * the group's gid resolved at start-up. Never consults NSS: no getgrnam/getpwuid on the loop
 * per request.
 */
bool ctl_may_mutate(const struct ctl_req *r, uid_t uid, gid_t gid)
{
	gid_t admin;

	if (uid == 0 || uid == geteuid())
		return true;
	if (r->client)
		return client_admin(r->client);
	return server_admin_gid(r->d->ctl, &admin) && gid == admin;
}

/**
 * ctl_over_limit() - whether a new connection of @uid must be refused, and why (in @desc): all
 * CTL_MAX_CLIENTS slots are taken; or @uid is not root and only root's CTL_ROOT_RESERVE are
 * left; or @uid has CTL_MAX_CLIENTS_PER_UID connections already. So one user cannot take
 * the table, and root always gets in.
 */
bool ctl_over_limit(struct ctl_server *srv, uid_t uid, char *desc, size_t desclen)
{
	unsigned int mine = 0;
	struct ctl_client *c;

	if (srv->nclients >= CTL_MAX_CLIENTS) {
		snprintf(desc, desclen, "too many control clients (limit %d)", CTL_MAX_CLIENTS);
		srv->refused_full++;
		return true;
	}
	if (uid == 0)
		return false;
	if (srv->nclients >= CTL_MAX_CLIENTS - CTL_ROOT_RESERVE) {
		snprintf(desc, desclen, "too many control clients (limit %d; the last %d are root's)",
			 CTL_MAX_CLIENTS, CTL_ROOT_RESERVE);
		srv->refused_full++;
		return true;
	}
	TAILQ_FOREACH(c, &srv->clients, entry)
		mine += c->uid == uid;
	if (mine >= CTL_MAX_CLIENTS_PER_UID) {
		snprintf(desc, desclen, "too many control clients for uid %u (limit %d per user)",
			 (unsigned int)uid, CTL_MAX_CLIENTS_PER_UID);
		srv->refused_uid++;
		return true;
	}
	return false;
}

/**
 * ctl_peer_admin() - whether the peer on @fd, with primary group @gid, is in the admin group:
 * its supplementary groups come from SO_PEERGROUPS (Linux 4.13), the kernel's record of the
 * connecting process, so no NSS lookup can block the loop (and membership is what the
 * process really had, as for file permissions)
 */
bool ctl_peer_admin(struct ctl_server *srv, int fd, gid_t gid)
{
	gid_t stackbuf[64], *groups = stackbuf;
	socklen_t len = sizeof(stackbuf);
	bool found = false;

	if (!srv->admin_set)
		return false;
	if (gid == srv->admin_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: more than 64 groups; len says how many bytes (at most NGROUPS_MAX) */
		if (errno != ERANGE || len > NGROUPS_MAX * sizeof(gid_t) || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == srv->admin_gid;
	if (groups != stackbuf)
		free(groups);
	return found;
}
