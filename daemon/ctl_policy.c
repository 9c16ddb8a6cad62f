/* ctl_policy.c - the control socket's reach-policy commands: `policy_list` (read),
 * `policy_add`, `policy_remove`, `policy_set` (mutating: ctl_proto.c's table marks them and
 * ctl_auth.c checks the caller).
 *
 * Arguments: "link" (a link's name; absent or null: the daemon-wide default, which every link
 * obeys besides its own), "rule" (CIDR[:PORT[-PORT]] [tcp|udp|any], parsed by policy.c as
 * the configuration file's `deny` is, so the messages match), "deny_link_local" and
 * "deny_host_addresses" (booleans, policy_set). A change applies to the next flow opened;
 * flows already open stay. Must not: touch sockets or flows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "ctl_internal.h"
#include "link.h"
#include "log.h"
#include "policy.h"
#include "tapird.h"

/**
 * say() - write the failure description and class
 * @cls:	where the class goes
 * @c:		the class
 * @desc:	where the description goes
 * @len:	its size
 * @fmt:	printf format
 * Return: NULL, so that callers can `return say(...)`
 */
__attribute__((format(printf, 5, 6))) static json_t *say(const char **cls, const char *c,
							 char *desc, size_t len,
							 const char *fmt, ...)
{
	va_list ap;

	*cls = c;
	va_start(ap, fmt);
	vsnprintf(desc, len, fmt, ap);
	va_end(ap);
	return NULL;
}

/**
 * policy_json() - @p as {"deny_link_local", "deny_host_addresses", "deny": [...]}
 * @p:	the policy
 * Return: a new reference (NULL when out of memory)
 */
static json_t *policy_json(const struct policy *p)
{
	json_t *o = json_pack("{s:b, s:b, s:[]}", "deny_link_local", p->deny_link_local,
			      "deny_host_addresses", p->deny_host_addrs, "deny");
	json_t *rules = o ? json_object_get(o, "deny") : NULL;
	char t[POLICY_RULE_TEXT];

	for (unsigned int i = 0; rules && i < p->nrules; i++)
		json_array_append_new(rules, json_string(policy_rule_format(&p->rule[i], t,
									    sizeof(t))));
	return o;
}

/**
 * target() - the policy that "link" in @args names (absent or null: the daemon's default)
 * @d:		the daemon
 * @args:	the arguments
 * @l:		set to the link, or NULL for the default
 * @cls, @desc, @len: on failure
 * Return: the policy, or NULL with @cls and @desc set
 */
static struct policy *target(struct tapird *d, json_t *args, struct link **l, const char **cls,
			     char *desc, size_t len)
{
	json_t *v = json_object_get(args, "link");
	const char *name;

	*l = NULL;
	if (!v || json_is_null(v))
		return &d->cfg.policy;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		say(cls, "GenericError", desc, len, "argument 'link' must be a string");
		return NULL;
	}
	name = json_string_value(v);
	*l = link_find(d, name);
	if (!*l) {
		say(cls, "DeviceNotFound", desc, len, "no link named '%.*s'", 128, name);
		return NULL;
	}
	return &(*l)->cfg.policy;
}

/**
 * policy_list() - {"default": POLICY, "links": [{"name": N, ...POLICY}]} where POLICY is
 * {"deny_link_local": B, "deny_host_addresses": B, "deny": [RULE, ...]}; "link" narrows the
 * links to one
 * @d:		the daemon
 * @args:	the request's arguments
 * @cls:	on failure, the error class
 * @desc:	on failure, why
 * @len:	size of @desc
 * Return: a new reference, or NULL with @cls and @desc set
 */
static json_t *policy_list(struct tapird *d, json_t *args, const char **cls, char *desc,
			   size_t len)
{
	struct link *only;
	json_t *o, *links;

	if (!target(d, args, &only, cls, desc, len))
		return NULL;
	o = json_pack("{s:o, s:[]}", "default", policy_json(&d->cfg.policy), "links");
	links = o ? json_object_get(o, "links") : NULL;
	if (!links) {
		json_decref(o);
		return say(cls, "GenericError", desc, len, "out of memory");
	}
	for (unsigned int i = 0; i < d->nlinks; i++) {
		struct link *l = d->links[i];
		json_t *p;

		if (only && l != only)
			continue;
		p = policy_json(&l->cfg.policy);
		if (!p || json_object_set_new(p, "name", json_string(l->name)) ||
		    json_array_append_new(links, p)) {
			json_decref(o);
			return say(cls, "GenericError", desc, len, "out of memory");
		}
	}
	return o;
}

/**
 * change_set() - policy_set: the two switches, each optional, at least one
 * @p:		the policy
 * @args:	the arguments
 * @cls, @desc, @len: on failure
 * Return: 0, or -1 with nothing changed
 */
static int change_set(struct policy *p, json_t *args, const char **cls, char *desc, size_t len)
{
	json_t *ll = json_object_get(args, "deny_link_local");
	json_t *ha = json_object_get(args, "deny_host_addresses");

	if ((ll && !json_is_boolean(ll)) || (ha && !json_is_boolean(ha))) {
		say(cls, "GenericError", desc, len,
		    "deny_link_local and deny_host_addresses must be true or false");
		return -1;
	}
	if (!ll && !ha) {
		say(cls, "GenericError", desc, len,
		    "give deny_link_local or deny_host_addresses");
		return -1;
	}
	if (ll)
		p->deny_link_local = json_is_true(ll);
	if (ha)
		p->deny_host_addrs = json_is_true(ha);
	return 0;
}

/**
 * policy_change() - policy_add, policy_remove or policy_set on the default or a link
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
static json_t *policy_change(struct tapird *d, const char *what, json_t *args, const char **cls,
			     char *desc, size_t len)
{
	json_t *v = json_object_get(args, "rule");
	char why[160], canon[POLICY_RULE_TEXT];
	struct policy_rule r;
	struct policy *p;
	struct link *l;
	const char *who;
	int rc;

	p = target(d, args, &l, cls, desc, len);
	if (!p)
		return NULL;
	who = l ? l->name : "every link";
	if (!strcmp(what, "set")) {
		if (change_set(p, args, cls, desc, len))
			return NULL;
		log_info("policy for %s: deny-link-local %s, deny-host-addresses %s", who,
			 p->deny_link_local ? "yes" : "no", p->deny_host_addrs ? "yes" : "no");
		return json_pack("{s:s?}", "link", l ? l->name : NULL);
	}
	if (!v || !json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return say(cls, "GenericError", desc, len, "argument 'rule' must be a string");
	if (policy_rule_parse(json_string_value(v), &r, why, sizeof(why)))
		return say(cls, "GenericError", desc, len, "rule: %s", why);
	policy_rule_format(&r, canon, sizeof(canon));
	rc = !strcmp(what, "add") ? policy_add(p, canon, why, sizeof(why)) :
				    policy_remove(p, canon, why, sizeof(why));
	if (rc)
		return say(cls, "GenericError", desc, len, "rule: %s", why);
	log_info("policy for %s: %s deny %s", who, !strcmp(what, "add") ? "added" : "removed",
		 canon);
	return json_pack("{s:s?, s:s}", "link", l ? l->name : NULL, "rule", canon);
}

/**
 * policy_reply() - @o, or the error @cls/@desc as the request's reply (call it after the
 * handler: @cls is read here)
 * @r:		the request
 * @o:		the result (NULL: failed)
 * @cls:	the error class
 * @desc:	the description
 * Return: @o, or NULL with the request's error set
 */
static json_t *policy_reply(struct ctl_req *r, json_t *o, const char *cls, const char *desc)
{
	return o ? o : ctl_fail(r, cls, "%s", desc);
}

/**
 * ctl_cmd_policy_list() - `policy_list`: the daemon's default and each link's policy
 * @r:	the request
 * Return: the reply's "return" value, or NULL with the error set
 */
json_t *ctl_cmd_policy_list(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	json_t *o = policy_list(r->d, r->args, &cls, desc, sizeof(desc));

	return policy_reply(r, o, cls, desc);
}

/**
 * ctl_cmd_policy_add() - `policy_add`: one more deny rule for a link or every link
 * @r:	the request
 * Return: {"link", "rule"}, or NULL with the error set
 */
json_t *ctl_cmd_policy_add(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	json_t *o = policy_change(r->d, "add", r->args, &cls, desc, sizeof(desc));

	return policy_reply(r, o, cls, desc);
}

/**
 * ctl_cmd_policy_remove() - `policy_remove`: drop a deny rule
 * @r:	the request
 * Return: {"link", "rule"}, or NULL with the error set
 */
json_t *ctl_cmd_policy_remove(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	json_t *o = policy_change(r->d, "remove", r->args, &cls, desc, sizeof(desc));

	return policy_reply(r, o, cls, desc);
}

/**
 * ctl_cmd_policy_set() - `policy_set`: deny_link_local and/or deny_host_addresses
 * @r:	the request
 * Return: {"link"}, or NULL with the error set
 */
json_t *ctl_cmd_policy_set(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	json_t *o = policy_change(r->d, "set", r->args, &cls, desc, sizeof(desc));

	return policy_reply(r, o, cls, desc);
}
