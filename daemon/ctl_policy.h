/* ctl_policy.h - the control socket's reach-policy commands: `policy_list` (read),
 * `policy_add`, `policy_remove`, `policy_set` (mutating: control.c checks the caller).
 *
 * Arguments: "link" (a link's name; absent or null: the daemon-wide default, which every link
 * obeys besides its own), "rule" (CIDR[:PORT[-PORT]] [tcp|udp|any], parsed by policy.c as
 * the configuration file's `deny` is, so the messages match), "deny_link_local" and
 * "deny_host_addresses" (booleans, policy_set). A change applies to the next flow opened;
 * flows already open stay (as a firewall rule leaves established connections alone only if
 * told to: close them with their container if needed). Must not: touch sockets or flows.
 */
#ifndef TAPIR_CTL_POLICY_H
#define TAPIR_CTL_POLICY_H

#include <jansson.h>
#include <stddef.h>

struct tapird;

/**
 * ctl_policy_list() - {"default": POLICY, "links": [{"name": N, ...POLICY}]} where POLICY
 * is {"deny_link_local": B, "deny_host_addresses": B, "deny": [RULE, ...]}; "link" narrows
 * the links to one
 * @d:		the daemon
 * @args:	the request's arguments
 * @cls:	on failure, the error class
 * @desc:	on failure, why
 * @len:	size of @desc
 * Return: a new reference, or NULL with @cls and @desc set
 */
json_t *ctl_policy_list(struct tapird *d, json_t *args, const char **cls, char *desc,
			size_t len);

/**
 * ctl_policy_change() - policy_add, policy_remove or policy_set on the default or a link
 * @d:		the daemon
 * @what:	"add", "remove" or "set"
 * @args:	the request's arguments
 * @cls:	on failure, the error class (GenericError: a bad argument or rule, a full table;
 *		DeviceNotFound: no such link)
 * @desc:	on failure, why
 * @len:	size of @desc
 * Return: {"link": NAME or null, "rule": CANONICAL (add, remove)}, or NULL with nothing
 * changed
 */
json_t *ctl_policy_change(struct tapird *d, const char *what, json_t *args, const char **cls,
			  char *desc, size_t len);

#endif
