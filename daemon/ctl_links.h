/* ctl_links.h - the control socket's `attach` and `detach`: one daemon, many containers
 * (issue 11 part 2; the request and reply are specified in the attach contract, README
 * "Many containers, one tapird").
 *
 * Each handler takes the request's "arguments" object (already checked against the command's
 * argument names by ctl_proto.c) and validates every value with the code that reads the
 * configuration file (link_cfg_set(), link_cfg_check()), so messages match the file's. Must
 * not: build the link's status object (ctl_cmds.c does: the same one `status` shows), or leave
 * anything behind when it fails.
 */
#ifndef TAPIR_CTL_LINKS_H
#define TAPIR_CTL_LINKS_H

#include <jansson.h>
#include <stddef.h>

struct tapird;
struct link;

/**
 * ctl_links_attach() - attach the container @args names: {"name", "netns" | "pid", "ifname",
 * "address", "gateway", "dns", "mtu", "configure", "host_loopback", "deny" (a rule or an array of
 * them), "deny_link_local", "deny_host_addresses"}
 * @desc, @len:	on failure, what is wrong ("mtu: \"1\" is not a number between 576 and
 *		65521", "c1: a link of that name is attached already", ...); the class is
 *		always GenericError
 * Return: the new link, or NULL with nothing attached and nothing left open
 */
struct link *ctl_links_attach(struct tapird *d, json_t *args, char *desc, size_t len);

/**
 * ctl_links_detach() - detach the link {"name": NAME}: its forwards, flows and TAP go
 * @cls:	on failure, the error class (GenericError for a bad argument, DeviceNotFound
 *		when no link has that name)
 * @desc, @len:	on failure, the description ("no link named 'c1'")
 * Return: 0, or -1
 */
int ctl_links_detach(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len);

#endif
