/* The hook's calls to netd and volumed over their control sockets
 * (RUN_DIR/netd.sock, RUN_DIR/volumed.sock): group.attach/detach/show and
 * vnet.show on netd; share.use/release on volumed; and pipelined calls
 * (daemon_send_many/recv_many) for the trust check's queries (trust.c).
 * Replies are turned into typed structs here; json_t does not leave this
 * file except through struct daemon_call. */
#pragma once

#include "../common/annotations.h"
#include "../common/resolvconf.h"
#include "error.h"
#include "rpc-client.h"

/* A hook runs inside the runtime's create call, which has its own timeout;
 * 10 s per call leaves room for a busy daemon but fails before most
 * runtime hook timeouts would. */
#define HOOK_RPC_TIMEOUT_MS 10000

/* What the hook needs of an attached group to write resolv.conf and hosts. */
struct group_net {
	char hostname[DNS_LABEL_MAX + 1]; /* "" = none */
	char aliases[HOOK_ALIASES_MAX][DNS_LABEL_MAX + 1];
	size_t alias_count;
	char addresses[HOSTS_ADDRESSES_MAX][INET6_ADDRSTRLEN]; /* all attachments' */
	size_t address_count;
	char gateways[RESOLV_NAMESERVERS_MAX][INET6_ADDRSTRLEN]; /* one per attachment */
	size_t gateway_count;
	char vnets[RESOLV_SEARCHES_MAX][VNET_NAME_MAX + 1]; /* the attachments' VNets */
	size_t vnet_count;
	/* Filled by netd_group_domains(): each VNet's domain, if it has one. */
	char domains[RESOLV_SEARCHES_MAX][DNS_NAME_MAX + 1];
	size_t domain_count;
};

/* Connects to RUN_DIR/NAME.sock. */
int daemon_connect(const char *run_dir, const char *name, struct rpc_client **ret,
		   struct pw_error *err);

/* Pipelined calls: _send writes every request in one send, _recv reads
 * the replies in order (netd and volumed answer a connection's requests in
 * order). A call's own failure (an error reply) lands in its r and error
 * (daemon_call_error() makes the message); the return value is for the
 * connection (no reply, a bad one). Use them on a connection with no other
 * call in flight. Small (no message buffer): a start keeps 40 of them on
 * the stack, and every stack page first touched is a page fault. */
struct daemon_call {
	const char *method;
	json_t *params; /* owned; freed by daemon_calls_done */
	json_t *result; /* owned; NULL on an error reply */
	json_t *error;	/* owned; the error reply's "error" object */
	int r;		/* 0, or the error reply's errno (negative) */
};
int daemon_send_many(struct rpc_client *client, struct daemon_call *calls, size_t count,
		     struct pw_error *err);
int daemon_recv_many(struct rpc_client *client, const char *daemon, struct daemon_call *calls,
		     size_t count, struct pw_error *err);
void daemon_calls_done(struct daemon_call *calls, size_t count);
/* Puts call's error reply message into err; returns call->r. */
int daemon_call_error(const struct daemon_call *call, struct pw_error *err);

/* With ret_net, also what netd_group_net() gives (from the reply). trust:
 * the hook's verdict (trust.c) or NULL; borrowed. */
int netd_group_attach(struct rpc_client *netd, const struct hook_spec *spec, const char *netns,
		      json_t *trust, struct group_net *ret_net, struct pw_error *err);
/* Detaching an unknown group succeeds (netd's contract). */
int netd_group_detach(struct rpc_client *netd, const char *group, struct pw_error *err);
/* group.show; the domains are not filled (see netd_group_domains). */
int netd_group_net(struct rpc_client *netd, const char *group, struct group_net *ret,
		   struct pw_error *err);
/* Fills net->domains, in the order of net's VNets, from the domains of
 * the spec's VNets (domains[i] for spec->vnets[i], "" = none): what the
 * trust check's vnet.show calls returned before the attach. */
void group_net_set_domains(struct group_net *net, const struct hook_spec *spec,
			   const char (*domains)[DNS_NAME_MAX + 1]);
/* vnet.show for each of net's VNets: fills net->domains. */
int netd_group_domains(struct rpc_client *netd, struct group_net *net, struct pw_error *err);

/* *ret_mountpoint (malloc'd): where volumed serves the share. */
int volumed_share_use(struct rpc_client *volumed, const char *share, const char *group,
		      bool read_only, json_t *trust, char **ret_mountpoint, struct pw_error *err);
int volumed_share_release(struct rpc_client *volumed, const char *share, const char *group,
			  struct pw_error *err);
