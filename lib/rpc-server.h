/* The JSON-lines control socket every daemon serves (see docs/rpc.md).
 *
 * One JSON object per line, both ways:
 *   -> {"id":1,"method":"vnet.create","params":{...}}
 *   <- {"id":1,"result":{...}}
 *   <- {"id":1,"error":{"code":"invalid_params","message":"..."}}
 * Events to subscribers are lines without "id":
 *   <- {"event":"group.attached","seq":7,"data":{...}}
 *
 * The server runs on an event_loop, serves many clients at once, never
 * blocks on a slow one (output is queued; a client with more than
 * RPC_OUTPUT_PAUSE unsent has its requests wait until it reads; a
 * subscriber that falls more than RPC_OUTPUT_MAX behind on events is
 * disconnected), answers pipelined requests in order, and answers every
 * malformed, oversized, unknown or unauthorised request with an error
 * reply. Methods marked mutating are allowed only to root and to members
 * of the admin group (primary group from SO_PEERCRED, supplementary ones
 * from SO_PEERGROUPS, both as the kernel recorded them at connect()). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "error.h"
#include "event-loop.h"

/* A request line may be at most 1 MiB: far more than any real request
 * (a group attach is under 4 KiB) while bounding memory per client. */
#define RPC_LINE_MAX (1024 * 1024)
/* Unsent output above which a connection's requests are not read nor
 * handled until the peer reads: bounds what a client that writes requests
 * and never reads costs us, while a client that pipelines thousands of
 * requests before reading its first reply (5,000 vnet.list replies with one
 * VNet are about 1.3 MB) still gets every reply. */
#define RPC_OUTPUT_PAUSE (4 * 1024 * 1024)
/* Queued output per connection before a subscriber is dropped (events are
 * queued even while its requests are paused). */
#define RPC_OUTPUT_MAX (64 * 1024 * 1024)
/* Connections served at once. */
#define RPC_CONNECTIONS_MAX 1024

struct rpc_server;
struct rpc_conn;
struct rpc_deferred;

struct rpc_request {
	const char *method;
	json_t *params; /* borrowed; always an object ({} when absent) */
	struct rpc_conn *conn;
	struct ucred peer;
	struct rpc_deferred *deferred; /* set by rpc_request_defer() */
};

/* Returns 0 and sets *ret_result (a new reference; NULL means {}), or a
 * negative errno with err filled; the server turns either into the reply. */
typedef int (*rpc_handler_t)(struct rpc_request *req, void *userdata, json_t **ret_result,
			     struct pw_error *err);

struct rpc_method {
	const char *name;
	rpc_handler_t handler;
	bool mutating;
};

/* Binds socket_path (removing a stale socket file; refusing if another
 * server answers on it), mode 0660. methods must outlive the server. */
int rpc_server_new(struct event_loop *loop, const char *socket_path,
		   const struct rpc_method *methods, size_t method_count, void *userdata,
		   struct rpc_server **ret_server, struct pw_error *err);
void rpc_server_free(struct rpc_server *server);
/* Members of this group (primary or supplementary) may call mutating
 * methods besides root; the socket is given to the group (root:GROUP, mode
 * 0660) so that they, and no one else but root, may connect. Returns 0, or
 * a negative errno if the socket could not be given to the group (the
 * check on mutating methods applies anyway). */
int rpc_server_set_admin_gid(struct rpc_server *server, gid_t gid);

/* Called by a handler whose answer needs something that completes later
 * on the loop (an etcd reply): the handler returns 0 (its *ret_result is
 * ignored) and the reply is sent by rpc_deferred_reply(). Until then the
 * connection's later requests wait, so replies stay in request order;
 * other connections are served as usual. A handler that defers and then
 * fails sends its error at once, and the later rpc_deferred_reply() only
 * frees the handle. */
struct rpc_deferred *rpc_request_defer(struct rpc_request *req);
/* Sends the reply of a deferred request, exactly once: r = 0 with result
 * (borrowed; NULL means {}), or r < 0 with err (NULL: strerror). Nothing
 * is sent if the client went away meanwhile. Frees deferred. */
void rpc_deferred_reply(struct rpc_deferred *deferred, int r, json_t *result,
			const struct pw_error *err);

/* Marks the connection as an event subscriber: after the reply to the
 * current request, it receives every rpc_server_broadcast(). */
void rpc_conn_subscribe(struct rpc_conn *conn);
/* Sends {"event":name,"seq":N,"data":data} to every subscriber. Steals no
 * reference. Returns the sequence number used. */
uint64_t rpc_server_broadcast(struct rpc_server *server, const char *event, json_t *data);
/* The seq the next broadcast will carry (snapshots include it, so a
 * subscriber knows where the stream continues). */
uint64_t rpc_server_next_seq(struct rpc_server *server);
unsigned rpc_server_connection_count(struct rpc_server *server);
