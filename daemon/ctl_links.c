/* ctl_links.c - the control socket's `attach` and `detach` (ctl_links.h).
 *
 * attach turns each JSON argument into the text a [link NAME] section would hold and hands it
 * to link_cfg_set() under the key spelled as in the file, then link_cfg_check(), then
 * link_attach(): one set of rules and messages for the file, the command line and the socket.
 * link_attach() refuses a name in use before it opens anything, and undoes what it opened when
 * a later step fails (the TAP is closed, so the kernel removes it), so a failed attach
 * disturbs nothing that runs.
 */
#include "ctl_links.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "tapird.h"

/**
 * enum arg_type - the JSON type an attach argument must have
 * @ARG_STRING:	a string ("name", "netns", addresses...)
 * @ARG_INT:	an integer ("pid", "mtu")
 * @ARG_BOOL:	true or false ("configure", "dhcp", "host_loopback")
 * @ARG_LIST:	a string or an array of strings, each set in turn (a repeatable key: "deny")
 */
enum arg_type { ARG_STRING, ARG_INT, ARG_BOOL, ARG_LIST };

/**
 * struct attach_arg - one argument of `attach`
 * @json:	its name in the request
 * @key:	the [link] key link_cfg_set() knows it by
 * @type:	the JSON type it must have
 */
static const struct attach_arg {
	const char *json;
	const char *key;
	enum arg_type type;
} attach_args[] = {
	/* name first: every later message can name the link */
	{ "name", "name", ARG_STRING },
	{ "netns", "netns", ARG_STRING },
	{ "pid", "pid", ARG_INT },
	{ "ifname", "ifname", ARG_STRING },
	{ "address", "address", ARG_STRING },
	{ "gateway", "gateway", ARG_STRING },
	{ "dns", "dns", ARG_STRING },
	{ "mtu", "mtu", ARG_INT },
	{ "configure", "configure", ARG_BOOL },
	{ "dhcp", "dhcp", ARG_BOOL },
	{ "host_loopback", "host-loopback", ARG_BOOL },
	{ "deny", "deny", ARG_LIST },
	{ "deny_link_local", "deny-link-local", ARG_BOOL },
	{ "deny_host_addresses", "deny-host-addresses", ARG_BOOL },
};

/**
 * say() - write the failure description
 * Return: -1, so that callers can `return say(...)`
 */
__attribute__((format(printf, 3, 4))) static int say(char *desc, size_t len, const char *fmt,
						     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, len, fmt, ap);
	va_end(ap);
	return -1;
}

/**
 * arg_text() - argument @a of @args as the text a [link] section would hold
 * @v:		the value (not NULL, not null)
 * @buf, @buflen: room for a number or a boolean's text
 * @out:	set to the text (@buf, or the JSON string itself)
 * Return: 0, or -1 with @desc filled (wrong type)
 */
static int arg_text(const struct attach_arg *a, json_t *v, char *buf, size_t buflen,
		    const char **out, char *desc, size_t len)
{
	switch (a->type) {
	case ARG_LIST: /* one element at a time, by attach_list() */
	case ARG_STRING:
		if (!json_is_string(v))
			return say(desc, len, "argument '%s' must be a string", a->json);
		/* an embedded NUL would make the text say less than the request did */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return say(desc, len, "argument '%s' must not contain NUL", a->json);
		*out = json_string_value(v);
		return 0;
	case ARG_INT:
		if (!json_is_integer(v))
			return say(desc, len, "argument '%s' must be an integer", a->json);
		snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = buf;
		return 0;
	case ARG_BOOL:
		if (!json_is_boolean(v))
			return say(desc, len, "argument '%s' must be true or false", a->json);
		*out = json_is_true(v) ? "yes" : "no";
		return 0;
	}
	return say(desc, len, "argument '%s': unknown type", a->json);
}

/**
 * attach_list() - set each string of @v (a string or an array of strings) under @a's key
 * @a:		the argument
 * @v:		its value
 * @lc:		the link configuration being built
 * @desc:	on failure, why
 * @len:	size of @desc
 * Return: 0, or -1 with @desc filled
 */
static int attach_list(const struct attach_arg *a, json_t *v, struct link_cfg *lc, char *desc,
		       size_t len)
{
	char why[256], num[32];
	const char *text;
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		if (arg_text(a, v, num, sizeof(num), &text, desc, len))
			return -1;
		if (link_cfg_set(lc, a->key, text, why, sizeof(why)))
			return say(desc, len, "%s: %s", a->json, why);
		return 0;
	}
	json_array_foreach(v, i, e) {
		if (arg_text(a, e, num, sizeof(num), &text, desc, len))
			return -1;
		if (link_cfg_set(lc, a->key, text, why, sizeof(why)))
			return say(desc, len, "%s[%zu]: %s", a->json, i, why);
	}
	return 0;
}

/**
 * attach_cfg() - the link configuration @args asks for, checked
 * @dflt_no_host_loopback: the daemon's [tcp] host-loopback, for a link that does not say
 * Return: 0, or -1 with @desc filled
 */
static int attach_cfg(json_t *args, bool dflt_no_host_loopback, struct link_cfg *lc,
		      char *desc, size_t len)
{
	json_t *netns = json_object_get(args, "netns"), *pid = json_object_get(args, "pid");
	json_t *name = json_object_get(args, "name");
	char why[256], num[32];

	link_cfg_defaults(lc);
	/* The contract makes the name required: a derived one ("c1" from /run/netns/c1) would
	 * leave the caller to guess what to detach later. */
	if (!name || json_is_null(name))
		return say(desc, len, "argument 'name' is required");
	if (netns && !json_is_null(netns) && pid && !json_is_null(pid))
		return say(desc, len, "give either netns or pid, not both");
	for (size_t i = 0; i < sizeof(attach_args) / sizeof(attach_args[0]); i++) {
		const struct attach_arg *a = &attach_args[i];
		json_t *v = json_object_get(args, a->json);
		const char *text = NULL;

		if (!v || json_is_null(v))
			continue;
		if (a->type == ARG_LIST) {
			if (attach_list(a, v, lc, desc, len))
				return -1;
			continue;
		}
		if (arg_text(a, v, num, sizeof(num), &text, desc, len))
			return -1;
		/* the name may not be empty here: "" would mean "derive it" in the file */
		if (a->type == ARG_STRING && !*text && !strcmp(a->key, "name"))
			return say(desc, len, "name: \"\" is not a name of 1 to %d characters",
				   LINK_NAME_MAX - 1);
		if (link_cfg_set(lc, a->key, text, why, sizeof(why)))
			return say(desc, len, "%s: %s", a->json, why);
	}
	if (!lc->host_loopback_set)
		lc->no_host_loopback = dflt_no_host_loopback;
	if (link_cfg_check(lc, why, sizeof(why)))
		return say(desc, len, "%s", why);
	return 0;
}

struct link *ctl_links_attach(struct tapird *d, json_t *args, char *desc, size_t len)
{
	struct link_cfg lc;
	struct link *l;

	if (attach_cfg(args, d->cfg.no_host_loopback, &lc, desc, len))
		return NULL;
	l = link_attach(d, &lc, desc, len);
	if (!l)
		log_warn("attach %s: %s", lc.name, desc);
	return l;
}

int ctl_links_detach(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len)
{
	json_t *name = json_object_get(args, "name");
	struct link *l;

	*cls = "GenericError";
	if (!name || json_is_null(name))
		return say(desc, len, "argument 'name' is required");
	if (!json_is_string(name))
		return say(desc, len, "argument 'name' must be a string");
	l = link_find(d, json_string_value(name));
	if (!l) {
		*cls = "DeviceNotFound";
		return say(desc, len, "no link named '%.*s'", LINK_NAME_MAX,
			   json_string_value(name));
	}
	link_detach(l);
	return 0;
}
