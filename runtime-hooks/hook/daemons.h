/* The hook's calls to netd and volumed over their control sockets
 * (RUN_DIR/netd.sock, RUN_DIR/volumed.sock): group.attach/detach/show and
 * vnet.show on netd; share.use/release on volumed. Replies are turned into
 * typed structs here; json_t does not leave this file. */
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

/* With ret_net, also what netd_group_net() gives (from the reply). */
int netd_group_attach(struct rpc_client *netd, const struct hook_spec *spec, const char *netns,
		      struct group_net *ret_net, struct pw_error *err);
/* Detaching an unknown group succeeds (netd's contract). */
int netd_group_detach(struct rpc_client *netd, const char *group, struct pw_error *err);
/* group.show; the domains are not filled (see netd_group_domains). */
int netd_group_net(struct rpc_client *netd, const char *group, struct group_net *ret,
		   struct pw_error *err);
/* vnet.show for the spec's VNets, pipelined: _send writes the requests on
 * a connection of their own before the attach (netd answers them while
 * the hook waits for the attach), _recv reads the answers after it and
 * fills net->domains in the order of net's VNets. Saves a round trip. */
int netd_domains_send(struct rpc_client *netd, const struct hook_spec *spec, struct pw_error *err);
int netd_domains_recv(struct rpc_client *netd, const struct hook_spec *spec, struct group_net *net,
		      struct pw_error *err);
/* vnet.show for each of net's VNets: fills net->domains. */
int netd_group_domains(struct rpc_client *netd, struct group_net *net, struct pw_error *err);

/* *ret_mountpoint (malloc'd): where volumed serves the share. */
int volumed_share_use(struct rpc_client *volumed, const char *share, const char *group,
		      bool read_only, char **ret_mountpoint, struct pw_error *err);
int volumed_share_release(struct rpc_client *volumed, const char *share, const char *group,
			  struct pw_error *err);
