/* netd's nftables table `inet podwire`, built with libnftnl and sent with
 * libmnl. This file owns the table and nothing else: every message names
 * table `podwire` in family inet.
 *
 * Layout (see docs/netd.md "nftables layout"):
 *   set bridges   ifname           every VNet bridge
 *   set allowed   ifname . ifname  (in, out) bridge pairs that may forward:
 *                                  pw-x . pw-x for a VNet that is not
 *                                  isolate; peering will add pw-a . pw-b
 *   set internal  ifname           bridges of internal VNets
 *   set masq4     ipv4_addr, interval  subnets of non-internal VNets
 *   set masq6     ipv6_addr, interval
 *   chain forward      filter hook forward, priority 0, policy accept
 *   chain postrouting  nat hook postrouting, priority 100, policy accept
 * The rules are static; a VNet only changes elements.
 *
 * Invariants: every change is one batch (nftnl_batch_begin ... end) that
 * the kernel applies entirely or not at all; the reply of every message is
 * read before a call returns, and an error names the message (object) the
 * kernel refused and its errno. Removing elements first adds them (create
 * without EXCL, a no-op when present) and then deletes them in the same
 * batch, so removing what is gone succeeds on any kernel, without the 6.3+
 * DESTROY messages our headers do not define.
 *
 * Locking: none; a context belongs to one thread. */
#include <errno.h>
#include <netinet/in.h> /* before the linux/ headers, which then defer to it */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "log.h"
#include "nft.h"
#include "xalloc.h"

#define NFT_TABLE_NAME "podwire"
#define NFT_FAMILY     NFPROTO_INET
/* Every rule and set carries a comment starting with the owner, so that
 * `nft list ruleset` says who made it and cleanup can find it by owner. */
#define NFT_OWNER "podwire"

/* nftables' own data type ids (nftables src/datatype.h), stored as the key
 * type so that `nft list` prints the sets' types; a concatenation is the
 * types shifted by NFT_TYPE_BITS each. */
#define NFT_TYPE_IPADDR	 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_IFNAME	 41
#define NFT_TYPE_BITS	 6
/* nftables' byte order ids for NFTNL_UDATA_SET_KEYBYTEORDER. */
#define NFT_BYTEORDER_HOST	 1
#define NFT_BYTEORDER_BIG_ENDIAN 2

/* Batch pages as nftables sizes them: 128 KiB pages plus room for one
 * message past the page end. No message is larger than NFT_MESSAGE_MAX:
 * a set element list is a nested attribute whose length is 16 bits, so
 * element messages are cut at NFT_ELEMS_PER_MESSAGE elements (at most
 * ~100 bytes each). */
#define NFT_BATCH_PAGE_SIZE   (128 * 1024)
#define NFT_MESSAGE_MAX	      (64 * 1024)
#define NFT_ELEMS_PER_MESSAGE 256
/* The kernel handles a batch inside sendmsg(), so every reply is queued
 * when it returns; the timeout only guards against a reply that never
 * comes. */
#define NFT_REPLY_TIMEOUT_MS 5000
/* Base chain priorities as nft names them: "filter" and "srcnat". */
#define NFT_PRIORITY_FILTER 0
#define NFT_PRIORITY_SRCNAT 100
/* Two ifnames. */
#define NFT_KEY_MAX (2 * IFNAMSIZ)

struct nft_ctx {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

enum nft_set_index {
	NFT_SET_BRIDGES,
	NFT_SET_ALLOWED,
	NFT_SET_INTERNAL,
	NFT_SET_MASQ4,
	NFT_SET_MASQ6,
	NFT_SET_COUNT,
};

static const struct nft_set_def {
	const char *name;
	uint32_t key_type;
	uint32_t key_len;
	uint32_t flags;
	uint32_t byteorder;
	const char *comment;
} nft_set_defs[NFT_SET_COUNT] = {
    [NFT_SET_BRIDGES] = {"bridges", NFT_TYPE_IFNAME, IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
			 NFT_OWNER ": every VNet bridge"},
    [NFT_SET_ALLOWED] = {"allowed", (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_IFNAME,
			 2 * IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
			 NFT_OWNER ": bridge pairs that may forward (in . out)"},
    [NFT_SET_INTERNAL] = {"internal", NFT_TYPE_IFNAME, IFNAMSIZ, 0, NFT_BYTEORDER_HOST,
			  NFT_OWNER ": bridges of internal VNets"},
    [NFT_SET_MASQ4] = {"masq4", NFT_TYPE_IPADDR, 4, NFT_SET_INTERVAL, NFT_BYTEORDER_BIG_ENDIAN,
		       NFT_OWNER ": IPv4 subnets to masquerade"},
    [NFT_SET_MASQ6] = {"masq6", NFT_TYPE_IP6ADDR, 16, NFT_SET_INTERVAL, NFT_BYTEORDER_BIG_ENDIAN,
		       NFT_OWNER ": IPv6 subnets to masquerade"},
};

/* Set ids tie lookups to sets created in the same batch. */
static uint32_t nft_set_batch_id(enum nft_set_index set)
{
	return set + 1;
}

/* One element of one set; an interval end carries NFT_SET_ELEM_INTERVAL_END. */
struct nft_elem {
	enum nft_set_index set;
	uint8_t key[NFT_KEY_MAX];
	uint32_t key_len;
	uint32_t flags;
};

struct nft_elem_list {
	struct nft_elem *elems;
	size_t count;
	size_t allocated;
};

static void nft_elem_list_done(struct nft_elem_list *list)
{
	free(list->elems);
	list->elems = NULL;
	list->count = list->allocated = 0;
}

static void nft_elem_list_add(struct nft_elem_list *list, enum nft_set_index set, const void *key,
			      uint32_t key_len, uint32_t flags)
{
	struct nft_elem *e;

	if (list->count == list->allocated) {
		list->allocated = list->allocated ? list->allocated * 2 : 16;
		list->elems = xrealloc(list->elems, list->allocated * sizeof(*list->elems));
	}
	e = &list->elems[list->count++];
	memset(e, 0, sizeof(*e));
	e->set = set;
	memcpy(e->key, key, key_len);
	e->key_len = key_len;
	e->flags = flags;
}

/* A bridge name as the kernel's meta iifname/oifname loads it: IFNAMSIZ
 * bytes, zero padded. */
static void nft_ifname_key(const char *name, uint8_t key[static IFNAMSIZ])
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strlen(name));
}

static int nft_vnet_validate(const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	size_t len, i;

	if (strempty(vnet->bridge))
		return pw_error_set(err, -EINVAL, "bridge name is empty");
	len = strlen(vnet->bridge);
	if (len >= IFNAMSIZ)
		return pw_error_set(err, -EINVAL,
				    "bridge name '%s' is too long (%zu > %d characters)",
				    vnet->bridge, len, IFNAMSIZ - 1);
	if (vnet->subnet_count && !vnet->subnets)
		return pw_error_set(err, -EINVAL, "bridge '%s': subnets missing", vnet->bridge);
	for (i = 0; i < vnet->subnet_count; i++) {
		const struct ip_prefix *p = &vnet->subnets[i];
		size_t size = ip_family_addr_size(p->family);
		unsigned bit;

		if (!size)
			return pw_error_set(err, -EINVAL,
					    "bridge '%s': subnet %zu has no address family",
					    vnet->bridge, i);
		if (p->prefixlen > size * 8)
			return pw_error_set(err, -EINVAL,
					    "bridge '%s': prefix length %u is too long",
					    vnet->bridge, p->prefixlen);
		/* Interval elements start at the network address. */
		for (bit = p->prefixlen; bit < size * 8; bit++)
			if (p->addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
				char buf[IP_PREFIX_STRLEN];
				return pw_error_set(err, -EINVAL,
						    "bridge '%s': subnet %s has host bits set",
						    vnet->bridge, ip_prefix_format(p, buf));
			}
	}
	return 0;
}

/* The interval [network, network + size) as a start element and an end
 * element holding the first address past it; a prefix reaching the top of
 * the address space has no end element. */
static void nft_prefix_elems(struct nft_elem_list *list, const struct ip_prefix *p)
{
	enum nft_set_index set = p->family == AF_INET ? NFT_SET_MASQ4 : NFT_SET_MASQ6;
	uint32_t size = ip_family_addr_size(p->family);
	unsigned carry, sum;
	uint8_t end[16];
	int byte;

	nft_elem_list_add(list, set, p->addr.bytes, size, 0);
	if (p->prefixlen == 0)
		return;
	/* Add 1 at the last bit of the prefix, carrying towards byte 0. */
	memcpy(end, p->addr.bytes, size);
	carry = 0x80 >> ((p->prefixlen - 1) % 8);
	for (byte = (p->prefixlen - 1) / 8; byte >= 0 && carry; byte--) {
		sum = end[byte] + carry;
		end[byte] = sum & 0xff;
		carry = sum >> 8;
	}
	if (carry)
		return;
	nft_elem_list_add(list, set, end, size, NFT_SET_ELEM_INTERVAL_END);
}

/* The elements VNet vnet puts into the sets. With every_possible, also
 * those its flags leave out (what a removal must make sure are gone). */
static void nft_vnet_elems(struct nft_elem_list *list, const struct nft_vnet_spec *vnet,
			   bool every_possible)
{
	uint8_t key[NFT_KEY_MAX];
	size_t i;

	nft_ifname_key(vnet->bridge, key);
	nft_elem_list_add(list, NFT_SET_BRIDGES, key, IFNAMSIZ, 0);
	if (every_possible || vnet->internal)
		nft_elem_list_add(list, NFT_SET_INTERNAL, key, IFNAMSIZ, 0);
	if (every_possible || !vnet->isolate) {
		nft_ifname_key(vnet->bridge, key + IFNAMSIZ);
		nft_elem_list_add(list, NFT_SET_ALLOWED, key, 2 * IFNAMSIZ, 0);
	}
	if (every_possible || !vnet->internal)
		for (i = 0; i < vnet->subnet_count; i++)
			nft_prefix_elems(list, &vnet->subnets[i]);
}

/* A batch under construction, with a description of every message so that
 * an error reply can say which object the kernel refused. */
struct nft_batch {
	struct nftnl_batch *batch;
	uint32_t seq_begin;
	uint32_t seq_next;
	char **what; /* what[seq - seq_begin - 1]; NULL for begin and end */
	size_t message_count;
	size_t message_allocated;
};

static void nft_batch_done(struct nft_batch *b)
{
	size_t i;

	if (b->batch)
		nftnl_batch_free(b->batch);
	for (i = 0; i < b->message_count; i++)
		free(b->what[i]);
	free(b->what);
	memset(b, 0, sizeof(*b));
}

static void nft_batch_start(struct nft_ctx *ctx, struct nft_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->batch = nftnl_batch_alloc(NFT_BATCH_PAGE_SIZE, NFT_MESSAGE_MAX);
	if (!b->batch)
		xalloc_die();
	b->seq_begin = ctx->seq;
	nftnl_batch_begin(nftnl_batch_buffer(b->batch), b->seq_begin);
	nftnl_batch_update(b->batch);
	b->seq_next = b->seq_begin + 1;
}

/* Starts the header of the next message; the caller adds its payload and
 * calls nft_batch_commit_message(). */
static struct nlmsghdr *nft_batch_message(struct nft_batch *b, uint16_t type, uint16_t flags,
					  char *what)
{
	if (b->message_count == b->message_allocated) {
		b->message_allocated = b->message_allocated ? b->message_allocated * 2 : 32;
		b->what = xrealloc(b->what, b->message_allocated * sizeof(*b->what));
	}
	b->what[b->message_count++] = what;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, NFT_FAMILY,
				     flags | NLM_F_ACK, b->seq_next++);
}

static void nft_batch_commit_message(struct nft_batch *b)
{
	if (nftnl_batch_update(b->batch) < 0)
		xalloc_die();
}

static const char *nft_batch_what(const struct nft_batch *b, uint32_t seq)
{
	if (seq > b->seq_begin && seq - b->seq_begin - 1 < b->message_count)
		return b->what[seq - b->seq_begin - 1];
	return "batch";
}

static void nft_table_message(struct nft_batch *b, uint16_t type, uint16_t flags, char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		xalloc_die();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFT_FAMILY);
	nlh = nft_batch_message(b, type, flags, what);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nft_batch_commit_message(b);
}

static void nft_chain_message(struct nft_batch *b, const char *name, const char *type,
			      uint32_t hook, int32_t priority)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		xalloc_die();
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFT_FAMILY);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, priority);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nft_batch_message(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, xasprintf("add chain %s", name));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nft_batch_commit_message(b);
}

static void nft_set_message(struct nft_batch *b, enum nft_set_index set)
{
	const struct nft_set_def *def = &nft_set_defs[set];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(NFT_MESSAGE_MAX);
	struct nlmsghdr *nlh;

	if (!s || !udata)
		xalloc_die();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFT_FAMILY);
	nftnl_set_set_str(s, NFTNL_SET_NAME, def->name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, nft_set_batch_id(set));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, def->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, def->key_len);
	if (def->flags)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, def->flags);
	if (!nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER, def->byteorder) ||
	    !nftnl_udata_put_strz(udata, NFTNL_UDATA_SET_COMMENT, def->comment))
		xalloc_die();
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
			   nftnl_udata_buf_len(udata));
	nlh =
	    nft_batch_message(b, NFT_MSG_NEWSET, NLM_F_CREATE, xasprintf("add set %s", def->name));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(udata);
	nft_batch_commit_message(b);
}

/* Adds (NEWSETELEM, create without EXCL: present is fine) or deletes the
 * elements of list that belong to set, NFT_ELEMS_PER_MESSAGE per message.
 * what_prefix says whose elements they are, for error messages. */
static void nft_elems_messages(struct nft_batch *b, const struct nft_elem_list *list,
			       enum nft_set_index set, uint16_t type, const char *what_prefix)
{
	const char *set_name = nft_set_defs[set].name;
	struct nftnl_set *s = NULL;
	size_t i, in_message = 0;

	for (i = 0; i <= list->count; i++) {
		if (s && (i == list->count || in_message == NFT_ELEMS_PER_MESSAGE)) {
			struct nlmsghdr *nlh = nft_batch_message(
			    b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
			    xasprintf("%s %s set %s", what_prefix,
				      type == NFT_MSG_NEWSETELEM ? "add to" : "delete from",
				      set_name));
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			nftnl_set_free(s);
			s = NULL;
			in_message = 0;
			nft_batch_commit_message(b);
		}
		if (i == list->count)
			break;
		if (list->elems[i].set != set)
			continue;
		if (!s) {
			s = nftnl_set_alloc();
			if (!s)
				xalloc_die();
			nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
			nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFT_FAMILY);
			nftnl_set_set_str(s, NFTNL_SET_NAME, set_name);
		}
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e)
			xalloc_die();
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, list->elems[i].key,
				   list->elems[i].key_len);
		if (list->elems[i].flags)
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, list->elems[i].flags);
		nftnl_set_elem_add(s, e);
		in_message++;
	}
}

static void nft_all_elems_messages(struct nft_batch *b, const struct nft_elem_list *list,
				   uint16_t type, const char *what_prefix)
{
	enum nft_set_index set;

	for (set = 0; set < NFT_SET_COUNT; set++)
		nft_elems_messages(b, list, set, type, what_prefix);
}

/* Expression builders: each mirrors what `nft -d netlink add rule ...`
 * shows for the rule text in the comment of nft_rules_messages(). */
static struct nftnl_expr *nft_expr_new(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		xalloc_die();
	return e;
}

static void nft_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nft_expr_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_lookup(struct nftnl_rule *r, uint32_t sreg, enum nft_set_index set, bool invert)
{
	struct nftnl_expr *e = nft_expr_new("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nft_set_defs[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nft_set_batch_id(set));
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_cmp_u32(struct nftnl_rule *r, uint32_t sreg, uint32_t op, uint32_t value)
{
	struct nftnl_expr *e = nft_expr_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &value, sizeof(value));
	nftnl_rule_add_expr(r, e);
}

static void nft_add_cmp_u8(struct nftnl_rule *r, uint32_t sreg, uint32_t op, uint8_t value)
{
	struct nftnl_expr *e = nft_expr_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &value, sizeof(value));
	nftnl_rule_add_expr(r, e);
}

static void nft_add_ct_state_in(struct nftnl_rule *r, uint32_t states)
{
	struct nftnl_expr *e = nft_expr_new("ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);

	e = nft_expr_new("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &states, sizeof(states));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, e);

	nft_add_cmp_u32(r, NFT_REG_1, NFT_CMP_NEQ, 0);
}

static void nft_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len,
			    uint32_t dreg)
{
	struct nftnl_expr *e = nft_expr_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nft_expr_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, e);
}

static void nft_add_masquerade(struct nftnl_rule *r)
{
	nftnl_rule_add_expr(r, nft_expr_new("masq"));
}

static struct nftnl_rule *nft_rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		xalloc_die();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFT_FAMILY);
	return r;
}

/* Appends rule r with its owner comment (userdata, as nft stores
 * `comment "..."`) and frees it. */
static void nft_rule_message(struct nft_batch *b, struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(NFT_MESSAGE_MAX);
	_cleanup_free_ char *text = xasprintf(NFT_OWNER ": %s", comment);
	struct nlmsghdr *nlh;

	if (!udata)
		xalloc_die();
	if (!nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, text))
		xalloc_die();
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata),
			    nftnl_udata_buf_len(udata));
	nlh = nft_batch_message(
	    b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
	    xasprintf("add rule '%s' to chain %s", text, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nftnl_udata_buf_free(udata);
	nft_batch_commit_message(b);
}

/* Registers of 16 bytes: an ifname fills one, so a concatenation of two
 * ifnames is NFT_REG_1 . NFT_REG_2. */
static void nft_rules_messages(struct nft_batch *b)
{
	struct nftnl_rule *r;

	/* ct state established,related accept */
	r = nft_rule_new("forward");
	nft_add_ct_state_in(r, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "return traffic");

	/* iifname . oifname @allowed accept */
	r = nft_rule_new("forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_2);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_ALLOWED, false);
	nft_add_verdict(r, NF_ACCEPT);
	nft_rule_message(b, r, "within a VNet (not isolate) and between peers");

	/* iifname @bridges oifname @bridges drop: between two VNets, and
	 * between two groups of an isolate VNet (br_netfilter passes frames
	 * bridged between two ports with in and out both the bridge). */
	r = nft_rule_new("forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, false);
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "between VNets, and between groups of an isolate VNet");

	/* iifname @internal drop (pairs of bridges were decided above, so
	 * what is left goes to a non-podwire interface) */
	r = nft_rule_new("forward");
	nft_add_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_INTERNAL, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "internal VNet: nothing out");

	/* oifname @internal drop */
	r = nft_rule_new("forward");
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_INTERNAL, false);
	nft_add_verdict(r, NF_DROP);
	nft_rule_message(b, r, "internal VNet: nothing in");

	/* oifname != @bridges ip saddr @masq4 masquerade */
	r = nft_rule_new("postrouting");
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, true);
	nft_add_meta(r, NFT_META_NFPROTO, NFT_REG_1);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, NFPROTO_IPV4);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_MASQ4, false);
	nft_add_masquerade(r);
	nft_rule_message(b, r, "masquerade IPv4 leaving the VNets");

	/* oifname != @bridges ip6 saddr @masq6 masquerade */
	r = nft_rule_new("postrouting");
	nft_add_meta(r, NFT_META_OIFNAME, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_BRIDGES, true);
	nft_add_meta(r, NFT_META_NFPROTO, NFT_REG_1);
	nft_add_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, NFPROTO_IPV6);
	nft_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	nft_add_lookup(r, NFT_REG_1, NFT_SET_MASQ6, false);
	nft_add_masquerade(r);
	nft_rule_message(b, r, "masquerade IPv6 leaving the VNets");
}

/* Reads replies until every message of the batch is answered or the
 * kernel refused the batch as a whole; returns 0 or the errno of the
 * first refused message, with err naming it. */
static int nft_batch_replies(struct nft_ctx *ctx, const struct nft_batch *b, struct pw_error *err)
{
	_cleanup_free_ char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	size_t answered = 0;
	int first_error = 0;
	int fd = mnl_socket_get_fd(ctx->nl);

	while (answered < b->message_count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		const struct nlmsghdr *nlh;
		ssize_t len;
		int remaining, r;

		r = poll(&pfd, 1, NFT_REPLY_TIMEOUT_MS);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return pw_error_set(err, -errno, "nftables: waiting for replies: %m");
		}
		if (r == 0)
			return pw_error_set(
			    err, -ETIMEDOUT, "nftables: %zu of %zu replies missing after %d ms",
			    b->message_count - answered, b->message_count, NFT_REPLY_TIMEOUT_MS);
		len = mnl_socket_recvfrom(ctx->nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: replies were dropped; the outcome is unknown. */
			return pw_error_set(err, -errno, "nftables: reading replies: %m");
		}
		remaining = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, remaining);
		     nlh = mnl_nlmsg_next(nlh, &remaining)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_pid != ctx->portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return pw_error_set(err, -EBADMSG, "nftables: short error reply");
			e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_seq < b->seq_begin || nlh->nlmsg_seq >= b->seq_next)
				continue; /* a reply to an earlier call that gave up */
			if (e->error && !first_error) {
				first_error = e->error;
				/* Elements are added without EXCL, so EEXIST
				 * means an interval overlapping one there. */
				pw_error_set(err, e->error, "nftables: %s: %s",
					     nft_batch_what(b, nlh->nlmsg_seq),
					     e->error == -EEXIST ? "overlaps a subnet already there"
								 : strerror(-e->error));
			}
			/* An error on the batch itself (out of memory, or the
			 * commit failed) is the only reply that comes. */
			if (nlh->nlmsg_seq == b->seq_begin)
				return first_error ? first_error : -EPROTO;
			answered++;
		}
	}
	return first_error;
}

static int nft_batch_send(struct nft_ctx *ctx, struct nft_batch *b, struct pw_error *err)
{
	_cleanup_free_ struct iovec *iov = NULL;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct msghdr msg = {0};
	int iov_count, sndbuf = 0;
	socklen_t optlen = sizeof(sndbuf);
	uint32_t total;
	ssize_t sent;

	nftnl_batch_end(nftnl_batch_buffer(b->batch), b->seq_next++);
	nftnl_batch_update(b->batch);
	ctx->seq = b->seq_next;

	iov_count = nftnl_batch_iovec_len(b->batch);
	iov = xcalloc(iov_count, sizeof(*iov));
	nftnl_batch_iovec(b->batch, iov, iov_count);
	total = 0;
	for (int i = 0; i < iov_count; i++)
		total += iov[i].iov_len;

	/* The kernel takes a batch only in one piece, which must fit the
	 * socket's send buffer (as nft does, grow it when a big sync needs). */
	if (getsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUF, &sndbuf, &optlen) == 0 &&
	    (uint32_t)sndbuf < total) {
		int want = total;

		if (setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUFFORCE, &want,
			       sizeof(want)) < 0)
			(void)setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_SNDBUF, &want,
					 sizeof(want));
	}

	msg.msg_name = &kernel;
	msg.msg_namelen = sizeof(kernel);
	msg.msg_iov = iov;
	msg.msg_iovlen = iov_count;
	sent = sendmsg(mnl_socket_get_fd(ctx->nl), &msg, 0);
	if (sent < 0)
		return pw_error_set(err, -errno, "nftables: sending a batch of %u bytes: %m",
				    total);
	return nft_batch_replies(ctx, b, err);
}

int nft_ctx_new(struct nft_ctx **ret_ctx, struct pw_error *err)
{
	struct nft_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct timespec now;

	ctx->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!ctx->nl) {
		int r = -errno;
		free(ctx);
		return pw_error_set(err, r, "nftables: opening a netfilter netlink socket: %s",
				    strerror(-r));
	}
	if (mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;
		nft_ctx_free(ctx);
		return pw_error_set(err, r, "nftables: binding the netlink socket: %s",
				    strerror(-r));
	}
	ctx->portid = mnl_socket_get_portid(ctx->nl);
	/* A fresh start point, so that late replies to an earlier process's
	 * socket are not mistaken for ours (they are filtered by port too). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	ctx->seq = (uint32_t)(now.tv_sec ^ now.tv_nsec) & 0x7fffffff;
	*ret_ctx = ctx;
	return 0;
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->nl)
		mnl_socket_close(ctx->nl);
	free(ctx);
}

static void nft_batch_table_reset(struct nft_batch *b)
{
	/* Adding first makes the delete succeed whether or not the table is
	 * there; both are undone if anything later in the batch fails. */
	nft_table_message(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, xstrdup("add table inet podwire"));
	nft_table_message(b, NFT_MSG_DELTABLE, 0, xstrdup("delete table inet podwire"));
}

/* Overlapping intervals in masq4/masq6 are refused by the kernel only
 * when one lies inside another, and merge otherwise, so that removing one
 * VNet would cut into the other: refuse any overlap among the subnets a
 * sync puts into those sets. (netd never lets subnets overlap; a single
 * add cannot see the other VNets, so there the kernel's check is all.) */
static int nft_vnets_check_overlap(const struct nft_vnet_spec *vnets, size_t vnet_count,
				   struct pw_error *err)
{
	struct masq_subnet {
		const struct ip_prefix *prefix;
		const char *bridge;
	};
	_cleanup_free_ struct masq_subnet *subnets = NULL;
	size_t count = 0, total = 0, i, j;

	for (i = 0; i < vnet_count; i++)
		total += vnets[i].subnet_count;
	subnets = xcalloc(total ? total : 1, sizeof(*subnets));
	for (i = 0; i < vnet_count; i++)
		for (j = 0; j < vnets[i].subnet_count && !vnets[i].internal; j++)
			subnets[count++] =
			    (struct masq_subnet){&vnets[i].subnets[j], vnets[i].bridge};

	for (i = 0; i < count; i++)
		for (j = i + 1; j < count; j++) {
			char buf_i[IP_PREFIX_STRLEN], buf_j[IP_PREFIX_STRLEN];

			if (subnets[i].prefix->family != subnets[j].prefix->family ||
			    !ip_prefix_overlaps(subnets[i].prefix, subnets[j].prefix))
				continue;
			return pw_error_set(
			    err, -EINVAL, "nftables: subnet %s of %s overlaps %s of %s",
			    ip_prefix_format(subnets[i].prefix, buf_i), subnets[i].bridge,
			    ip_prefix_format(subnets[j].prefix, buf_j), subnets[j].bridge);
		}
	return 0;
}

int nft_table_sync(struct nft_ctx *ctx, const struct nft_vnet_spec *vnets, size_t vnet_count,
		   struct pw_error *err)
{
	struct nft_elem_list elems = {0};
	struct nft_batch b;
	enum nft_set_index set;
	size_t i;
	int r;

	for (i = 0; i < vnet_count; i++) {
		r = nft_vnet_validate(&vnets[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "nftables: VNet %zu", i);
	}
	r = nft_vnets_check_overlap(vnets, vnet_count, err);
	if (r < 0)
		return r;
	for (i = 0; i < vnet_count; i++)
		nft_vnet_elems(&elems, &vnets[i], false);

	nft_batch_start(ctx, &b);
	nft_batch_table_reset(&b);
	nft_table_message(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, xstrdup("create table inet podwire"));
	nft_chain_message(&b, "forward", "filter", NF_INET_FORWARD, NFT_PRIORITY_FILTER);
	nft_chain_message(&b, "postrouting", "nat", NF_INET_POST_ROUTING, NFT_PRIORITY_SRCNAT);
	for (set = 0; set < NFT_SET_COUNT; set++)
		nft_set_message(&b, set);
	nft_rules_messages(&b);
	nft_all_elems_messages(&b, &elems, NFT_MSG_NEWSETELEM, "VNets:");
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	nft_elem_list_done(&elems);
	if (r < 0)
		return r;
	log_debug("nftables table synced vnets=%zu", vnet_count);
	return 0;
}

int nft_vnet_add(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	struct nft_elem_list every = {0}, wanted = {0};
	_cleanup_free_ char *what = NULL;
	struct nft_batch b;
	int r;

	r = nft_vnet_validate(vnet, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: add VNet");
	nft_vnet_elems(&every, vnet, true);
	nft_vnet_elems(&wanted, vnet, false);
	what = xasprintf("VNet %s:", vnet->bridge);

	/* Clear every element the bridge could have (so a VNet whose flags
	 * changed loses the old ones), then add the wanted ones: one batch,
	 * so nothing is ever missing in between. */
	nft_batch_start(ctx, &b);
	nft_all_elems_messages(&b, &every, NFT_MSG_NEWSETELEM, what);
	nft_all_elems_messages(&b, &every, NFT_MSG_DELSETELEM, what);
	nft_all_elems_messages(&b, &wanted, NFT_MSG_NEWSETELEM, what);
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	nft_elem_list_done(&every);
	nft_elem_list_done(&wanted);
	return r;
}

int nft_vnet_remove(struct nft_ctx *ctx, const struct nft_vnet_spec *vnet, struct pw_error *err)
{
	struct nft_elem_list every = {0};
	_cleanup_free_ char *what = NULL;
	struct nft_batch b;
	int r;

	r = nft_vnet_validate(vnet, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables: remove VNet");
	nft_vnet_elems(&every, vnet, true);
	what = xasprintf("VNet %s:", vnet->bridge);

	nft_batch_start(ctx, &b);
	nft_all_elems_messages(&b, &every, NFT_MSG_NEWSETELEM, what);
	nft_all_elems_messages(&b, &every, NFT_MSG_DELSETELEM, what);
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	nft_elem_list_done(&every);
	return r;
}

int nft_table_exists(struct nft_ctx *ctx)
{
	_cleanup_free_ char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = ctx->seq++;
	bool found = false;

	if (!t)
		xalloc_die();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFT_FAMILY, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* The table in a NEWTABLE message, then an ACK; or an error. */
	for (;;) {
		const struct nlmsghdr *reply;
		ssize_t len;
		int remaining;

		len = mnl_socket_recvfrom(ctx->nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		remaining = (int)len;
		for (reply = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(reply, remaining);
		     reply = mnl_nlmsg_next(reply, &remaining)) {
			const struct nlmsgerr *e;

			if (reply->nlmsg_seq != seq)
				continue; /* a late reply to an earlier call */
			if (reply->nlmsg_type != NLMSG_ERROR) {
				found = true;
				continue;
			}
			if (reply->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			e = mnl_nlmsg_get_payload(reply);
			if (e->error == -ENOENT)
				return 0;
			if (e->error)
				return e->error;
			return found ? 1 : 0;
		}
	}
}

int nft_table_remove(struct nft_ctx *ctx, struct pw_error *err)
{
	struct nft_batch b;
	int r;

	nft_batch_start(ctx, &b);
	nft_batch_table_reset(&b);
	r = nft_batch_send(ctx, &b, err);
	nft_batch_done(&b);
	return r;
}
