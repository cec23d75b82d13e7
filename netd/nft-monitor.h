/* Watches nftables for changes to netd's own tables made by someone else
 * (`nft flush ruleset`, a firewall reload deleting every table, someone
 * deleting a rule, a set or elements of table inet/bridge podwire), so that
 * netd can put them back (nft_table_sync_all) at once.
 *
 * A NETLINK_NETFILTER socket subscribed to NFNLGRP_NFTABLES: the kernel
 * sends one message per object a transaction changed, with the port id of
 * the socket that asked for it, so netd's own changes (from the nft
 * context's socket) are told apart and ignored.
 *
 * Not tied to an event loop: the owner polls nft_monitor_fd() for input
 * and calls nft_monitor_process(). Single-threaded. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct nft_monitor;

/* Called from nft_monitor_process(), at most once per call. lost is true
 * when the kernel dropped events (the socket's buffer overflowed, e.g.
 * during a big sync of our own): the owner should check that the tables
 * exist (nft_table_exists) rather than restore blindly. */
typedef void (*nft_monitor_cb)(struct nft_monitor *monitor, bool lost, void *userdata);

int nft_monitor_new(uint32_t own_portid, nft_monitor_cb cb, void *userdata,
		    struct nft_monitor **ret_monitor, struct pw_error *err);
void nft_monitor_free(struct nft_monitor *monitor);
int nft_monitor_fd(const struct nft_monitor *monitor);
/* Reads every pending event without blocking; returns the number of
 * foreign changes to our tables seen (0 if none), or a negative errno. */
int nft_monitor_process(struct nft_monitor *monitor);
/* How many times the callback was called since the monitor started. */
uint64_t nft_monitor_alerts(const struct nft_monitor *monitor);
