/* Blocking client of a daemon's JSON-lines socket (see rpc-server.h), for
 * the CLI, the hooks and tests. For the event stream, call
 * "events.subscribe" with rpc_client_call() (its result is the snapshot),
 * then read events with rpc_client_read(). */
#pragma once

#include <jansson.h>

#include "error.h"

struct rpc_client;

/* timeout_ms bounds connect and each call (0 = no limit). */
int rpc_client_connect(const char *socket_path, int timeout_ms, struct rpc_client **ret_client,
		       struct pw_error *err);
void rpc_client_free(struct rpc_client *client);
static inline void rpc_client_freep(struct rpc_client **c)
{
	if (*c)
		rpc_client_free(*c);
}
#define _cleanup_rpc_client_ __attribute__((cleanup(rpc_client_freep)))

/* Sends {"id":N,"method":method,"params":params} (params borrowed; NULL
 * sends {}), waits for the reply with that id. On an error reply returns
 * the errno mapped from its code and copies its message into err. */
int rpc_client_call(struct rpc_client *client, const char *method, json_t *params,
		    json_t **ret_result, struct pw_error *err);
/* Reads the next line as a JSON object (an event). -ECONNRESET at EOF. */
int rpc_client_read(struct rpc_client *client, json_t **ret_message, struct pw_error *err);
/* The same, waiting at most the client's timeout (-ETIMEDOUT): for
 * replies to requests a caller pipelined itself. */
int rpc_client_read_reply(struct rpc_client *client, json_t **ret_message, struct pw_error *err);
int rpc_client_fd(struct rpc_client *client);
