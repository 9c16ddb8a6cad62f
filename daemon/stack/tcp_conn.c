/* tcp_conn.c - STUB */
#include "tcp_internal.h"
int tcp_init(struct stack *s) { (void)s; return 0; }
void tcp_fini(struct stack *s) { (void)s; }
void tcp_release(struct stack *s, struct flow *f) { (void)s; (void)f; }
bool tcp_get_view(const struct flow *f, struct tcp_view *v) { (void)f; (void)v; return false; }
void tcp_upstream_connected(struct stack *s, struct flow *f, uint64_t now_us) { (void)s; (void)f; (void)now_us; }
void tcp_upstream_failed(struct stack *s, struct flow *f, int err, uint64_t now_us) { (void)s; (void)f; (void)err; (void)now_us; }
void tcp_upstream_readable(struct stack *s, struct flow *f, uint64_t now_us) { (void)s; (void)f; (void)now_us; }
void tcp_upstream_writable(struct stack *s, struct flow *f, uint64_t now_us) { (void)s; (void)f; (void)now_us; }
void tcp_upstream_eof(struct stack *s, struct flow *f, uint64_t now_us) { (void)s; (void)f; (void)now_us; }
void tcp_upstream_reset(struct stack *s, struct flow *f, uint64_t now_us) { (void)s; (void)f; (void)now_us; }
void tcp_abort(struct stack *s, struct flow *f, int end, uint64_t now_us) { (void)s; (void)f; (void)end; (void)now_us; }
