/* etcd v3 client on the event loop (see etcd-client.h).
 *
 * Transport: one CURLM. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> event_loop_add_fd/mod_fd/remove) and when it
 * wants to be woken (CURLMOPT_TIMERFUNCTION -> one one-shot timer); each
 * wake-up calls curl_multi_socket_action() and then client_process(). Each
 * request is a `struct etcd_call` owning one easy handle.
 *
 * Re-entrancy: curl's callbacks (write, socket, timer) only record data;
 * user callbacks run from client_process() and the timers, after curl has
 * returned, with client->busy raised. What a user callback frees (a watch,
 * a keep-alive, the whole client) is marked dead, taken out of curl at
 * once and freed when busy drops back to 0, so no loop below ever follows
 * a freed pointer. Freeing the client from a callback also ends the loops
 * early (client->freeing).
 *
 * Failover: see etcd-client.h. A request is retried on the next endpoint
 * only when curl sent none of it (CURLINFO_REQUEST_SIZE == 0: refused,
 * unreachable, connect timeout), never after it may have reached etcd. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>

#include "etcd-client.h"
#include "log.h"
#include "xalloc.h"

enum call_kind {
	CALL_UNARY,	/* user request: range, put, delete, txn, lease grant/revoke */
	CALL_KEEPALIVE, /* a keep-alive's periodic request */
	CALL_WATCH,	/* a watch's stream */
};

struct etcd_call {
	struct etcd_client *client;
	enum call_kind kind;
	enum etcd_reply_kind reply_kind;
	const char *path;
	char *what; /* "put /podwire/x", for messages */
	char *body;
	CURL *easy;
	struct curl_slist *headers;
	bool in_multi;
	bool dead;
	size_t endpoint; /* index into client->endpoints */
	size_t tries;	 /* endpoints tried so far */
	uint64_t deadline_ms;
	char *reply;
	size_t reply_len, reply_cap;
	bool too_large;
	char last_connect_error[CURL_ERROR_SIZE];
	char curl_error[CURL_ERROR_SIZE];
	etcd_done_cb cb; /* CALL_UNARY */
	void *userdata;
	struct etcd_keepalive *keepalive; /* CALL_KEEPALIVE */
	struct etcd_watch *watch;	  /* CALL_WATCH */
	struct etcd_call *prev, *next;	  /* client->calls */
	struct etcd_call *dead_next;	  /* client->dead_calls */
	bool idempotent;		  /* may be sent again after etcd said "unavailable" */
	bool waiting;			  /* on client->retries */
	uint64_t retry_at_ms;
	struct etcd_call *retry_next; /* client->retries */
};

struct etcd_keepalive {
	struct etcd_client *client;
	int64_t lease_id;
	int64_t ttl_s;
	struct event_watch *timer;
	struct etcd_call *call; /* in flight, or NULL */
	uint64_t last_ok_ms;
	bool lost;
	bool dead;
	struct pw_error last_error;
	etcd_lease_lost_cb lost_cb;
	void *userdata;
	struct etcd_keepalive *prev, *next, *dead_next;
};

enum watch_state {
	WATCH_WAITING,	  /* disconnected; the timer restarts the stream */
	WATCH_CONNECTING, /* stream requested; the timer bounds the wait for "created" */
	WATCH_STREAMING,
	WATCH_STOPPED, /* compacted or failed for good */
};

struct etcd_watch {
	struct etcd_client *client;
	char *key;
	bool prefix;
	int64_t next_revision; /* 0: from "now" (until the first created) */
	struct etcd_watch_callbacks callbacks;
	void *userdata;
	enum watch_state state;
	struct event_watch *timer;
	struct etcd_call *call;
	size_t endpoint;
	uint64_t backoff_ms;
	struct etcd_stream_splitter splitter;
	bool dirty;	  /* the splitter has unread data */
	int stream_error; /* set by the write callback: abort the stream */
	bool dead;
	struct etcd_watch *prev, *next, *dead_next;
};

struct socket_entry {
	struct etcd_client *client;
	curl_socket_t fd;
	struct event_watch *watch;
	struct socket_entry *prev, *next;
};

struct etcd_client {
	struct event_loop *loop;
	CURLM *multi;
	char *endpoints[ETCD_ENDPOINTS_MAX];
	size_t endpoint_count;
	size_t preferred;
	uint64_t timeout_ms;
	struct event_watch *curl_timer;
	struct event_watch *retry_timer; /* the earliest of retries */
	struct etcd_call *retries;	 /* waiting to be sent again */

	bool curl_timer_armed;
	struct socket_entry *sockets;
	struct etcd_call *calls;
	struct etcd_keepalive *keepalives;
	struct etcd_watch *watches;
	struct etcd_call *dead_calls;
	struct etcd_keepalive *dead_keepalives;
	struct etcd_watch *dead_watches;
	unsigned busy;
	bool freeing;
};

/* The first curl_global_init() is not thread-safe in old curls and costs
 * a little; netd is single-threaded and makes one client, tests a few. */
static bool curl_initialized;

static void client_destroy(struct etcd_client *client);
static void watch_connect(struct etcd_watch *watch);
static void watch_disconnected(struct etcd_watch *watch, const struct pw_error *why);

/* --- Lists and deferred frees --------------------------------------------- */

#define LIST_PUSH(head, item)                                                                      \
	do {                                                                                       \
		(item)->prev = NULL;                                                               \
		(item)->next = (head);                                                             \
		if (head)                                                                          \
			(head)->prev = (item);                                                     \
		(head) = (item);                                                                   \
	} while (0)

#define LIST_UNLINK(head, item)                                                                    \
	do {                                                                                       \
		if ((item)->prev)                                                                  \
			(item)->prev->next = (item)->next;                                         \
		else                                                                               \
			(head) = (item)->next;                                                     \
		if ((item)->next)                                                                  \
			(item)->next->prev = (item)->prev;                                         \
		(item)->prev = (item)->next = NULL;                                                \
	} while (0)

static void call_reap(struct etcd_call *call)
{
	if (call->easy)
		curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	free(call->what);
	free(call->body);
	free(call->reply);
	free(call);
}

/* Takes the call out of curl and the client's list; freed later. */
static void call_release(struct etcd_call *call)
{
	struct etcd_client *client = call->client;

	if (call->dead)
		return;
	if (call->in_multi) {
		curl_multi_remove_handle(client->multi, call->easy);
		call->in_multi = false;
	}
	if (call->waiting) {
		for (struct etcd_call **p = &client->retries; *p; p = &(*p)->retry_next)
			if (*p == call) {
				*p = call->retry_next;
				break;
			}
		call->waiting = false;
	}
	LIST_UNLINK(client->calls, call);
	call->dead = true;
	call->dead_next = client->dead_calls;
	client->dead_calls = call;
}

static void client_reap(struct etcd_client *client)
{
	while (client->dead_calls) {
		struct etcd_call *call = client->dead_calls;
		client->dead_calls = call->dead_next;
		call_reap(call);
	}
	while (client->dead_keepalives) {
		struct etcd_keepalive *ka = client->dead_keepalives;
		client->dead_keepalives = ka->dead_next;
		free(ka);
	}
	while (client->dead_watches) {
		struct etcd_watch *watch = client->dead_watches;
		client->dead_watches = watch->dead_next;
		etcd_stream_done(&watch->splitter);
		free(watch->key);
		free(watch);
	}
}

static void client_enter(struct etcd_client *client)
{
	client->busy++;
}

/* Ends a section entered with client_enter(); the client may be gone
 * afterwards (freed from a callback), so this is the caller's last use. */
static void client_leave(struct etcd_client *client)
{
	if (--client->busy > 0)
		return;
	if (client->freeing)
		client_destroy(client);
	else
		client_reap(client);
}

/* --- curl callbacks: record only --------------------------------------------- */

static size_t on_unary_data(char *data, size_t size, size_t count, void *userdata)
{
	struct etcd_call *call = userdata;
	size_t len = size * count;

	if (call->reply_len + len > ETCD_REPLY_MAX) {
		call->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (call->reply_len + len + 1 > call->reply_cap) {
		call->reply_cap = MAX(call->reply_cap * 2, call->reply_len + len + 1);
		call->reply = xrealloc(call->reply, call->reply_cap);
	}
	memcpy(call->reply + call->reply_len, data, len);
	call->reply_len += len;
	call->reply[call->reply_len] = '\0';
	return len;
}

static size_t on_watch_data(char *data, size_t size, size_t count, void *userdata)
{
	struct etcd_call *call = userdata;
	struct etcd_watch *watch = call->watch;
	size_t len = size * count;
	int r;

	if (!watch || watch->call != call)
		return 0;
	r = etcd_stream_feed(&watch->splitter, data, len);
	if (r < 0) {
		watch->stream_error = r;
		return 0;
	}
	watch->dirty = true;
	return len;
}

static void on_socket_event(struct event_loop *loop, int fd, uint32_t events, void *userdata);

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct etcd_client *client = userp;
	struct socket_entry *entry = socketp;
	uint32_t events;
	int r;

	if (what == CURL_POLL_REMOVE) {
		if (entry) {
			event_loop_remove(client->loop, entry->watch);
			LIST_UNLINK(client->sockets, entry);
			free(entry);
			curl_multi_assign(client->multi, fd, NULL);
		}
		return 0;
	}
	events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (entry)
		return event_loop_mod_fd(client->loop, entry->watch, events) < 0 ? -1 : 0;
	entry = xcalloc(1, sizeof(*entry));
	entry->client = client;
	entry->fd = fd;
	r = event_loop_add_fd(client->loop, fd, events, on_socket_event, entry, &entry->watch);
	if (r < 0) {
		log_debug("etcd: cannot watch socket %d: %s", fd, strerror(-r));
		free(entry);
		return -1;
	}
	LIST_PUSH(client->sockets, entry);
	curl_multi_assign(client->multi, fd, entry);
	return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct etcd_client *client = userp;

	if (timeout_ms < 0) {
		/* No timer API to disarm: a stale expiry is ignored instead. */
		client->curl_timer_armed = false;
		return 0;
	}
	client->curl_timer_armed = true;
	return event_loop_timer_set(client->loop, client->curl_timer, (uint64_t)timeout_ms, 0) < 0
		   ? -1
		   : 0;
}

/* --- Calls -------------------------------------------------------------------- */

static struct etcd_call *call_new(struct etcd_client *client, enum call_kind kind,
				  enum etcd_reply_kind reply_kind, const char *path, char *body,
				  char *what)
{
	struct etcd_call *call = xcalloc(1, sizeof(*call));

	call->client = client;
	call->kind = kind;
	call->reply_kind = reply_kind;
	call->path = path;
	call->body = body;
	call->what = what;
	call->endpoint = client->preferred;
	call->deadline_ms = now_ms() + client->timeout_ms;
	call->easy = curl_easy_init();
	if (!call->easy)
		xalloc_die();
	call->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* A lost leader must end a watch stream rather than leave it silent:
	 * etcd cancels streams carrying gRPC metadata hasleader=true (which
	 * the gateway forwards from Grpc-Metadata-* headers) when its member
	 * loses the leader, and refuses to open them without one. */
	if (kind == CALL_WATCH)
		call->headers = curl_slist_append(call->headers, "Grpc-Metadata-hasleader: true");
	if (!call->headers)
		xalloc_die();
	LIST_PUSH(client->calls, call);
	return call;
}

/* (Re)starts the call on call->endpoint. */
static int call_start(struct etcd_call *call, struct pw_error *err)
{
	struct etcd_client *client = call->client;
	_cleanup_free_ char *url = xasprintf("%s%s", client->endpoints[call->endpoint], call->path);
	CURL *easy = call->easy;
	CURLMcode mr;

	curl_easy_reset(easy);
	call->reply_len = 0;
	call->too_large = false;
	call->curl_error[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(call->body));
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->curl_error);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)MIN(client->timeout_ms, (uint64_t)ETCD_CONNECT_TIMEOUT_MS));
	if (call->kind == CALL_WATCH) {
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_watch_data);
		/* A stream is silent while nothing changes; TCP keep-alive
		 * notices a peer that vanished without a FIN (host down,
		 * link cut) in about 5 s + a few 2 s probes. */
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 5L);
		curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 2L);
	} else {
		uint64_t now = now_ms();
		if (now >= call->deadline_ms)
			return pw_error_set(err, -ETIMEDOUT, "etcd %s: no time left", call->what);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_unary_data);
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(call->deadline_ms - now));
	}
	mr = curl_multi_add_handle(client->multi, easy);
	if (mr != CURLM_OK)
		return pw_error_set(err, -EIO, "etcd %s: %s", call->what, curl_multi_strerror(mr));
	call->in_multi = true;
	return 0;
}

static size_t next_endpoint(const struct etcd_client *client, size_t index)
{
	return (index + 1) % client->endpoint_count;
}

static void call_complete(struct etcd_call *call, int r, const struct pw_error *err,
			  const struct etcd_response *resp);

static void retry_timer_arm(struct etcd_client *client)
{
	uint64_t earliest = UINT64_MAX, now = now_ms();

	for (struct etcd_call *call = client->retries; call; call = call->retry_next)
		earliest = MIN(earliest, call->retry_at_ms);
	if (earliest != UINT64_MAX)
		event_loop_timer_set(client->loop, client->retry_timer,
				     earliest > now ? earliest - now : 0, 0);
}

static void call_retry_later(struct etcd_call *call)
{
	struct etcd_client *client = call->client;

	call->endpoint = next_endpoint(client, call->endpoint);
	call->tries = 0;
	call->retry_at_ms = now_ms() + ETCD_RETRY_DELAY_MS;
	call->waiting = true;
	call->retry_next = client->retries;
	client->retries = call;
	retry_timer_arm(client);
}

static void on_retry_timer(struct event_loop *loop, void *userdata)
{
	struct etcd_client *client = userdata;
	uint64_t now = now_ms();
	struct etcd_call *due = NULL;

	client_enter(client);
	for (struct etcd_call **p = &client->retries; *p;) {
		struct etcd_call *call = *p;
		if (call->retry_at_ms <= now) {
			*p = call->retry_next;
			call->waiting = false;
			call->retry_next = due;
			due = call;
		} else {
			p = &call->retry_next;
		}
	}
	while (due && !client->freeing) {
		struct etcd_call *call = due;
		struct pw_error err = {0};
		int r;

		due = call->retry_next;
		if (call->dead)
			continue;
		r = call_start(call, &err);
		if (r < 0)
			call_complete(call, r, &err, NULL);
	}
	if (!client->freeing)
		retry_timer_arm(client);
	client_leave(client);
}

/* A unary or keep-alive call's transfer ended: retry elsewhere, or turn
 * the outcome into a reply or a message and complete the call. */
static void call_finished(struct etcd_call *call, CURLcode result)
{
	struct etcd_client *client = call->client;
	const char *endpoint = client->endpoints[call->endpoint];
	struct etcd_response resp = {0};
	struct pw_error err = {0};
	long status = 0, sent = 0;
	int r;

	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(call->easy, CURLINFO_REQUEST_SIZE, &sent);
	if (call->in_multi) {
		curl_multi_remove_handle(client->multi, call->easy);
		call->in_multi = false;
	}
	call->tries++;

	if (result != CURLE_OK && sent == 0 && !call->too_large) {
		/* Nothing reached a server: safe to try the next endpoint. */
		snprintf(call->last_connect_error, sizeof(call->last_connect_error), "%s",
			 call->curl_error[0] ? call->curl_error : curl_easy_strerror(result));
		if (call->tries < client->endpoint_count && now_ms() < call->deadline_ms) {
			call->endpoint = next_endpoint(client, call->endpoint);
			log_debug("etcd %s: %s: %s; trying %s", call->what, endpoint,
				  call->last_connect_error, client->endpoints[call->endpoint]);
			r = call_start(call, &err);
			if (r >= 0)
				return;
			call_complete(call, r, &err, NULL);
			return;
		}
		if (result == CURLE_OPERATION_TIMEDOUT)
			r = pw_error_set(&err, -ETIMEDOUT,
					 "etcd %s: %s: cannot connect within %" PRIu64 " ms (%s)",
					 call->what, endpoint, client->timeout_ms,
					 call->last_connect_error);
		else
			r = pw_error_set(&err, -ECONNREFUSED,
					 "etcd %s: %s: %s (tried %zu of %zu endpoints)", call->what,
					 endpoint, call->last_connect_error, call->tries,
					 client->endpoint_count);
		if (client->preferred == call->endpoint)
			client->preferred = next_endpoint(client, call->endpoint);
		call_complete(call, r, &err, NULL);
		return;
	}
	if (result != CURLE_OK) {
		if (call->too_large)
			r = pw_error_set(&err, -EMSGSIZE, "etcd %s: %s: reply larger than %u bytes",
					 call->what, endpoint, ETCD_REPLY_MAX);
		else if (result == CURLE_OPERATION_TIMEDOUT)
			r = pw_error_set(&err, -ETIMEDOUT,
					 "etcd %s: %s: no reply within %" PRIu64 " ms", call->what,
					 endpoint, client->timeout_ms);
		else
			r = pw_error_set(&err, -EIO, "etcd %s: %s: %s", call->what, endpoint,
					 call->curl_error[0] ? call->curl_error
							     : curl_easy_strerror(result));
		/* The member took the request and said nothing (no quorum,
		 * overloaded, half-dead): the next request starts elsewhere. */
		if (client->preferred == call->endpoint)
			client->preferred = next_endpoint(client, call->endpoint);
		call_complete(call, r, &err, NULL);
		return;
	}
	client->preferred = call->endpoint;
	if (status != 200) {
		r = etcd_error_parse(status, call->reply, call->reply_len, &err);
		/* gRPC Unavailable ("leader changed", "no leader"): a read
		 * can ask again, elsewhere, after an election's worth of
		 * small steps. */
		if (r == -ECONNREFUSED && call->idempotent &&
		    now_ms() + ETCD_RETRY_DELAY_MS < call->deadline_ms) {
			log_debug("etcd %s: %s: %s; asking again", call->what, endpoint,
				  pw_error_message(&err));
			call_retry_later(call);
			return;
		}
		pw_error_wrap(&err, r, "etcd %s: %s", call->what, endpoint);
		call_complete(call, r, &err, NULL);
		return;
	}
	r = etcd_reply_parse(call->reply_kind, call->reply ? call->reply : "", call->reply_len,
			     &resp, &err);
	if (r < 0) {
		pw_error_wrap(&err, r, "etcd %s: %s", call->what, endpoint);
		call_complete(call, r, &err, NULL);
		return;
	}
	call_complete(call, 0, NULL, &resp);
	etcd_response_done(&resp);
}

/* --- Processing after curl -------------------------------------------------------- */

static void watch_dispatch(struct etcd_watch *watch);
static void watch_stream_ended(struct etcd_watch *watch, CURLcode result);

static void client_process(struct etcd_client *client)
{
	CURLMsg *msg;
	int left;

	client_enter(client);
	/* Stream data first: the events a stream carried before it ended
	 * are delivered before its end is handled. */
	for (bool again = true; again && !client->freeing;) {
		/* Restart the scan after each dispatch: its callbacks may
		 * have freed the watch the scan would continue from. */
		again = false;
		for (struct etcd_watch *watch = client->watches; watch; watch = watch->next)
			if (watch->dirty && !watch->dead) {
				watch_dispatch(watch);
				again = true;
				break;
			}
	}
	while (!client->freeing && (msg = curl_multi_info_read(client->multi, &left))) {
		struct etcd_call *call = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &call);
		if (!call || call->dead)
			continue;
		if (call->kind == CALL_WATCH) {
			CURLcode result = msg->data.result;
			struct etcd_watch *watch = call->watch;

			if (watch && watch->dirty)
				watch_dispatch(watch);
			if (watch && !watch->dead && watch->call == call)
				watch_stream_ended(watch, result);
			else
				call_release(call);
		} else {
			call_finished(call, msg->data.result);
		}
	}
	client_leave(client);
}

static void on_socket_event(struct event_loop *loop, int fd, uint32_t events, void *userdata)
{
	struct socket_entry *entry = userdata;
	struct etcd_client *client = entry->client;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	/* entry may be freed inside (CURL_POLL_REMOVE); client is not. */
	curl_multi_socket_action(client->multi, fd, flags, &running);
	client_process(client);
}

static void on_curl_timer_expired(struct event_loop *loop, void *userdata)
{
	struct etcd_client *client = userdata;
	int running;

	if (!client->curl_timer_armed)
		return;
	client->curl_timer_armed = false;
	curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	client_process(client);
}

/* --- Client --------------------------------------------------------------------- */

static int endpoints_parse(struct etcd_client *client, const char *text, struct pw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL, *item;

	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(item);
		const char *host;

		if (strncmp(item, "http://", 7) == 0)
			host = item + 7;
		else if (strncmp(item, "https://", 8) == 0)
			host = item + 8;
		else
			return pw_error_set(err, -EINVAL,
					    "etcd endpoint '%s': expected http://HOST:PORT or "
					    "https://HOST:PORT",
					    item);
		while (len > (size_t)(host - item) && item[len - 1] == '/')
			item[--len] = '\0';
		if (!*host || strchr(host, '/') || strpbrk(item, " \t\r\n"))
			return pw_error_set(
			    err, -EINVAL, "etcd endpoint '%s': expected a base URL without a path",
			    item);
		if (client->endpoint_count == ETCD_ENDPOINTS_MAX)
			return pw_error_set(err, -EINVAL, "etcd: more than %d endpoints",
					    ETCD_ENDPOINTS_MAX);
		client->endpoints[client->endpoint_count++] = xstrdup(item);
	}
	if (client->endpoint_count == 0)
		return pw_error_set(err, -EINVAL, "etcd: no endpoint given");
	return 0;
}

static void client_free_fields(struct etcd_client *client)
{
	if (client->multi)
		curl_multi_cleanup(client->multi);
	/* Sockets curl did not report removed (it closes them itself). */
	while (client->sockets) {
		struct socket_entry *entry = client->sockets;
		LIST_UNLINK(client->sockets, entry);
		event_loop_remove(client->loop, entry->watch);
		free(entry);
	}
	event_loop_remove(client->loop, client->curl_timer);
	event_loop_remove(client->loop, client->retry_timer);

	client_reap(client);
	for (size_t i = 0; i < client->endpoint_count; i++)
		free(client->endpoints[i]);
	free(client);
}

int etcd_client_new(struct event_loop *loop, const char *endpoints, uint64_t timeout_ms,
		    struct etcd_client **ret_client, struct pw_error *err)
{
	struct etcd_client *client;
	int r;

	if (!curl_initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return pw_error_set(err, -EIO, "etcd: cannot initialize libcurl");
		curl_initialized = true;
	}
	client = xcalloc(1, sizeof(*client));
	client->loop = loop;
	client->timeout_ms = timeout_ms ? timeout_ms : ETCD_TIMEOUT_DEFAULT_MS;
	r = endpoints_parse(client, endpoints ? endpoints : "", err);
	if (r < 0) {
		client_free_fields(client);
		return r;
	}
	r = event_loop_add_timer(loop, 3600 * 1000, 0, on_curl_timer_expired, client,
				 &client->curl_timer);
	if (r < 0) {
		client_free_fields(client);
		return pw_error_set(err, r, "etcd: cannot create a timer: %s", strerror(-r));
	}
	r = event_loop_add_timer(loop, 3600 * 1000, 0, on_retry_timer, client,
				 &client->retry_timer);
	if (r < 0) {
		client_free_fields(client);
		return pw_error_set(err, r, "etcd: cannot create a timer: %s", strerror(-r));
	}
	client->multi = curl_multi_init();
	if (!client->multi)
		xalloc_die();
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	*ret_client = client;
	return 0;
}

const char *etcd_client_endpoint(const struct etcd_client *client)
{
	return client->endpoints[client->preferred];
}

static void keepalive_release(struct etcd_keepalive *ka);
static void watch_release(struct etcd_watch *watch);

/* Cancels everything: pending requests complete with -ECANCELED. */
static void client_cancel_all(struct etcd_client *client)
{
	struct pw_error err = {0};

	while (client->watches)
		watch_release(client->watches);
	while (client->keepalives)
		keepalive_release(client->keepalives);
	while (client->calls) {
		struct etcd_call *call = client->calls;

		call_release(call);
		if (call->kind == CALL_UNARY) {
			pw_error_set(&err, -ECANCELED, "etcd %s: canceled (client closed)",
				     call->what);
			call->cb(client, -ECANCELED, &err, NULL, call->userdata);
		}
	}
}

static void client_destroy(struct etcd_client *client)
{
	client_free_fields(client);
}

void etcd_client_free(struct etcd_client *client)
{
	if (!client || client->freeing)
		return;
	client->freeing = true;
	client_enter(client);
	client_cancel_all(client);
	client_leave(client); /* destroys it unless a callback of ours is running */
}

/* --- Unary requests ---------------------------------------------------------------- */

static void call_complete(struct etcd_call *call, int r, const struct pw_error *err,
			  const struct etcd_response *resp);

static int unary_submit(struct etcd_client *client, enum etcd_reply_kind kind, const char *path,
			char *body, char *what, bool idempotent, etcd_done_cb cb, void *userdata,
			struct pw_error *err)
{
	struct etcd_call *call;
	int r;

	if (client->freeing) {
		free(body);
		free(what);
		return pw_error_set(err, -ESHUTDOWN, "etcd: client is closing");
	}
	call = call_new(client, CALL_UNARY, kind, path, body, what);
	call->cb = cb;
	call->userdata = userdata;
	call->idempotent = idempotent;
	r = call_start(call, err);
	if (r < 0) {
		call_release(call);
		if (!client->busy)
			client_reap(client);
		return r;
	}
	return 0;
}

static int op_submit(struct etcd_client *client, const struct etcd_op *op, etcd_done_cb cb,
		     void *userdata, struct pw_error *err)
{
	static const struct {
		const char *verb;
		const char *path;
		enum etcd_reply_kind kind;
	} paths[] = {
	    [ETCD_OP_RANGE] = {"range", "/v3/kv/range", ETCD_REPLY_RANGE},
	    [ETCD_OP_PUT] = {"put", "/v3/kv/put", ETCD_REPLY_PUT},
	    [ETCD_OP_DELETE] = {"delete", "/v3/kv/deleterange", ETCD_REPLY_DELETE},
	};
	char *body = NULL;
	int r;

	r = etcd_body_op(op, &body, err);
	if (r < 0)
		return r;
	return unary_submit(
	    client, paths[op->type].kind, paths[op->type].path, body,
	    xasprintf("%s %s%s", paths[op->type].verb, op->key, op->prefix ? "*" : ""),
	    op->type == ETCD_OP_RANGE, cb, userdata, err);
}

int etcd_range(struct etcd_client *client, const char *key, bool prefix, int64_t revision,
	       etcd_done_cb cb, void *userdata, struct pw_error *err)
{
	struct etcd_op op = {
	    .type = ETCD_OP_RANGE, .key = key, .prefix = prefix, .revision = revision};
	return op_submit(client, &op, cb, userdata, err);
}

int etcd_put(struct etcd_client *client, const char *key, const void *value, size_t value_len,
	     int64_t lease, etcd_done_cb cb, void *userdata, struct pw_error *err)
{
	struct etcd_op op = {.type = ETCD_OP_PUT,
			     .key = key,
			     .value = value,
			     .value_len = value_len,
			     .lease = lease};
	return op_submit(client, &op, cb, userdata, err);
}

int etcd_delete(struct etcd_client *client, const char *key, bool prefix, etcd_done_cb cb,
		void *userdata, struct pw_error *err)
{
	struct etcd_op op = {.type = ETCD_OP_DELETE, .key = key, .prefix = prefix};
	return op_submit(client, &op, cb, userdata, err);
}

int etcd_txn(struct etcd_client *client, const struct etcd_compare *compares, size_t compare_count,
	     const struct etcd_op *success, size_t success_count, const struct etcd_op *failure,
	     size_t failure_count, etcd_done_cb cb, void *userdata, struct pw_error *err)
{
	const char *first_key = compare_count	? compares[0].key
				: success_count ? success[0].key
				: failure_count ? failure[0].key
						: NULL;
	char *body = NULL;
	int r;

	r = etcd_body_txn(compares, compare_count, success, success_count, failure, failure_count,
			  &body, err);
	if (r < 0)
		return r;
	return unary_submit(client, ETCD_REPLY_TXN, "/v3/kv/txn", body,
			    xasprintf("txn %s", first_key ? first_key : "(empty)"), false, cb,
			    userdata, err);
}

int etcd_lease_grant(struct etcd_client *client, int64_t ttl_s, etcd_done_cb cb, void *userdata,
		     struct pw_error *err)
{
	if (ttl_s < ETCD_LEASE_TTL_MIN_S)
		return pw_error_set(err, -EINVAL,
				    "etcd lease grant: TTL %" PRId64 " s is below %d s", ttl_s,
				    ETCD_LEASE_TTL_MIN_S);
	return unary_submit(client, ETCD_REPLY_LEASE, "/v3/lease/grant",
			    etcd_body_lease_grant(ttl_s), xstrdup("lease grant"), false, cb,
			    userdata, err);
}

int etcd_lease_revoke(struct etcd_client *client, int64_t lease_id, etcd_done_cb cb, void *userdata,
		      struct pw_error *err)
{
	return unary_submit(client, ETCD_REPLY_LEASE, "/v3/lease/revoke",
			    etcd_body_lease_id(lease_id),
			    xasprintf("lease revoke %" PRId64, lease_id), false, cb, userdata, err);
}

/* --- Keep-alive --------------------------------------------------------------------- */

static void keepalive_lose(struct etcd_keepalive *ka, const struct pw_error *why)
{
	if (ka->lost || ka->dead)
		return;
	ka->lost = true;
	if (ka->call) {
		call_release(ka->call);
		ka->call = NULL;
	}
	log_debug("etcd lease %" PRId64 " lost: %s", ka->lease_id, pw_error_message(why));
	ka->lost_cb(ka, ka->lease_id, why, ka->userdata);
}

static void call_complete(struct etcd_call *call, int r, const struct pw_error *err,
			  const struct etcd_response *resp)
{
	struct etcd_client *client = call->client;
	struct etcd_keepalive *ka;
	struct pw_error why = {0};

	call_release(call);
	switch (call->kind) {
	case CALL_UNARY:
		call->cb(client, r, err, resp, call->userdata);
		break;
	case CALL_KEEPALIVE:
		ka = call->keepalive;
		if (!ka || ka->dead || ka->call != call)
			break;
		ka->call = NULL;
		if (r == -ENOENT) {
			keepalive_lose(ka, err);
		} else if (r < 0) {
			ka->last_error = *err; /* decides at the next tick */
		} else if (resp->ttl <= 0) {
			pw_error_set(&why, -ENOENT, "etcd lease %" PRId64 " expired or was revoked",
				     ka->lease_id);
			keepalive_lose(ka, &why);
		} else {
			ka->last_ok_ms = now_ms();
			pw_error_clear(&ka->last_error);
		}
		break;
	case CALL_WATCH:
		break;
	}
}

static void on_keepalive_tick(struct event_loop *loop, void *userdata)
{
	struct etcd_keepalive *ka = userdata;
	struct etcd_client *client = ka->client;
	struct pw_error err = {0};
	int r;

	if (ka->lost || ka->dead || ka->call)
		return; /* the one in flight has its own timeout */
	client_enter(client);
	if (now_ms() - ka->last_ok_ms >= (uint64_t)ka->ttl_s * 1000) {
		pw_error_set(&err, -ETIMEDOUT,
			     "etcd lease %" PRId64
			     ": no keep-alive succeeded for its TTL of %" PRId64 " s (last: %s)",
			     ka->lease_id, ka->ttl_s,
			     ka->last_error.errnum ? pw_error_message(&ka->last_error)
						   : "none sent");
		keepalive_lose(ka, &err);
		client_leave(client);
		return;
	}
	ka->call = call_new(client, CALL_KEEPALIVE, ETCD_REPLY_KEEPALIVE, "/v3/lease/keepalive",
			    etcd_body_lease_id(ka->lease_id),
			    xasprintf("lease keep-alive %" PRId64, ka->lease_id));
	ka->call->keepalive = ka;
	ka->call->idempotent = true;

	/* One keep-alive must not outlive the next tick's decision. */
	ka->call->deadline_ms =
	    now_ms() + MIN(client->timeout_ms, (uint64_t)ka->ttl_s * 1000 / 3 + 1);
	r = call_start(ka->call, &err);
	if (r < 0) {
		call_release(ka->call);
		ka->call = NULL;
		ka->last_error = err;
	}
	client_leave(client);
}

int etcd_lease_keepalive(struct etcd_client *client, int64_t lease_id, int64_t ttl_s,
			 etcd_lease_lost_cb lost, void *userdata,
			 struct etcd_keepalive **ret_keepalive, struct pw_error *err)
{
	struct etcd_keepalive *ka;
	uint64_t period_ms;
	int r;

	if (client->freeing)
		return pw_error_set(err, -ESHUTDOWN, "etcd: client is closing");
	if (ttl_s < ETCD_LEASE_TTL_MIN_S)
		return pw_error_set(err, -EINVAL,
				    "etcd lease %" PRId64 " keep-alive: TTL %" PRId64
				    " s is below %d s",
				    lease_id, ttl_s, ETCD_LEASE_TTL_MIN_S);
	ka = xcalloc(1, sizeof(*ka));
	ka->client = client;
	ka->lease_id = lease_id;
	ka->ttl_s = ttl_s;
	ka->lost_cb = lost;
	ka->userdata = userdata;
	ka->last_ok_ms = now_ms();
	/* A third of the TTL, as etcd's own clients: two keep-alives may
	 * fail before the lease is at risk. */
	period_ms = (uint64_t)ttl_s * 1000 / 3;
	r = event_loop_add_timer(client->loop, period_ms, period_ms, on_keepalive_tick, ka,
				 &ka->timer);
	if (r < 0) {
		free(ka);
		return pw_error_set(err, r, "etcd lease %" PRId64 " keep-alive: %s", lease_id,
				    strerror(-r));
	}
	LIST_PUSH(client->keepalives, ka);
	*ret_keepalive = ka;
	return 0;
}

static void keepalive_release(struct etcd_keepalive *ka)
{
	struct etcd_client *client = ka->client;

	if (ka->dead)
		return;
	if (ka->call)
		call_release(ka->call);
	ka->call = NULL;
	event_loop_remove(client->loop, ka->timer);
	LIST_UNLINK(client->keepalives, ka);
	ka->dead = true;
	ka->dead_next = client->dead_keepalives;
	client->dead_keepalives = ka;
}

void etcd_keepalive_free(struct etcd_keepalive *ka)
{
	struct etcd_client *client;

	if (!ka)
		return;
	client = ka->client;
	keepalive_release(ka);
	if (!client->busy)
		client_reap(client);
}

/* --- Watch ------------------------------------------------------------------------ */

static void watch_status(struct etcd_watch *watch, const struct pw_error *err)
{
	if (watch->callbacks.status)
		watch->callbacks.status(watch, watch->client->endpoints[watch->endpoint], err,
					watch->userdata);
}

static void watch_stop_call(struct etcd_watch *watch)
{
	if (watch->call) {
		watch->call->watch = NULL;
		call_release(watch->call);
		watch->call = NULL;
	}
	etcd_stream_reset(&watch->splitter);
	watch->dirty = false;
	watch->stream_error = 0;
}

static void on_watch_timer(struct event_loop *loop, void *userdata)
{
	struct etcd_watch *watch = userdata;
	struct etcd_client *client = watch->client;
	struct pw_error err = {0};

	client_enter(client);
	if (watch->state == WATCH_WAITING) {
		watch_connect(watch);
	} else if (watch->state == WATCH_CONNECTING) {
		pw_error_set(&err, -ETIMEDOUT,
			     "etcd watch %s: %s: not created within %" PRIu64 " ms", watch->key,
			     client->endpoints[watch->endpoint], client->timeout_ms);
		watch_disconnected(watch, &err);
	}
	client_leave(client);
}

static void watch_connect(struct etcd_watch *watch)
{
	struct etcd_client *client = watch->client;
	struct pw_error err = {0};
	int r;

	watch_stop_call(watch);
	watch->call = call_new(client, CALL_WATCH, ETCD_REPLY_RANGE, "/v3/watch",
			       etcd_body_watch(watch->key, watch->prefix, watch->next_revision),
			       xasprintf("watch %s%s", watch->key, watch->prefix ? "*" : ""));
	watch->call->watch = watch;
	watch->call->endpoint = watch->endpoint;
	watch->state = WATCH_CONNECTING;
	r = call_start(watch->call, &err);
	if (r < 0) {
		watch_disconnected(watch, &err);
		return;
	}
	event_loop_timer_set(client->loop, watch->timer, client->timeout_ms, 0);
}

/* The stream is gone: try the next endpoint after the backoff. */
static void watch_disconnected(struct etcd_watch *watch, const struct pw_error *why)
{
	struct etcd_client *client = watch->client;

	watch_stop_call(watch);
	if (watch->state == WATCH_STOPPED || watch->dead)
		return;
	log_debug("etcd watch %s: %s; retrying in %" PRIu64 " ms from revision %" PRId64,
		  watch->key, pw_error_message(why), watch->backoff_ms, watch->next_revision);
	watch->state = WATCH_WAITING;
	event_loop_timer_set(client->loop, watch->timer, watch->backoff_ms, 0);
	watch_status(watch, why);
	watch->endpoint = next_endpoint(client, watch->endpoint);
	watch->backoff_ms = MIN(watch->backoff_ms * 2, (uint64_t)ETCD_WATCH_BACKOFF_MAX_MS);
}

static void watch_stream_ended(struct etcd_watch *watch, CURLcode result)
{
	struct etcd_call *call = watch->call;
	const char *endpoint = watch->client->endpoints[watch->endpoint];
	struct pw_error err = {0};
	long status = 0;

	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	if (watch->stream_error == -EMSGSIZE)
		pw_error_set(&err, -EMSGSIZE, "etcd watch %s: %s: message larger than %u bytes",
			     watch->key, endpoint, ETCD_STREAM_MESSAGE_MAX);
	else if (watch->stream_error)
		pw_error_set(&err, -EBADMSG, "etcd watch %s: %s: malformed stream", watch->key,
			     endpoint);
	else if (result != CURLE_OK)
		pw_error_set(&err, -EIO, "etcd watch %s: %s: %s", watch->key, endpoint,
			     call->curl_error[0] ? call->curl_error : curl_easy_strerror(result));
	else if (status != 200)
		pw_error_set(&err, -EIO, "etcd watch %s: %s: HTTP %ld", watch->key, endpoint,
			     status);
	else
		pw_error_set(&err, -EPIPE, "etcd watch %s: %s: stream ended", watch->key, endpoint);
	watch_disconnected(watch, &err);
}

/* Handles one message; false when the stream must be dropped. */
static bool watch_message(struct etcd_watch *watch, const struct etcd_watch_message *msg)
{
	struct etcd_client *client = watch->client;
	struct pw_error err = {0};
	size_t first = 0;

	if (msg->canceled) {
		if (msg->compact_revision > 0) {
			watch_stop_call(watch);
			watch->state = WATCH_STOPPED;
			log_debug("etcd watch %s: revision %" PRId64 " compacted (at %" PRId64 ")",
				  watch->key, watch->next_revision, msg->compact_revision);
			watch->callbacks.compacted(watch, msg->compact_revision, watch->userdata);
			return false;
		}
		pw_error_set(&err, -ECONNRESET, "etcd watch %s: %s: canceled by the server: %s",
			     watch->key, client->endpoints[watch->endpoint],
			     msg->cancel_reason ? msg->cancel_reason : "no reason given");
		watch_disconnected(watch, &err);
		return false;
	}
	if (msg->created && watch->state == WATCH_CONNECTING) {
		watch->state = WATCH_STREAMING;
		watch->backoff_ms = ETCD_WATCH_BACKOFF_MIN_MS;
		client->preferred = watch->endpoint;
		/* "From now" becomes a revision, so a reconnect misses nothing. */
		if (watch->next_revision == 0)
			watch->next_revision = msg->revision + 1;
		watch_status(watch, NULL);
		if (watch->dead || watch->state != WATCH_STREAMING)
			return false;
	}
	/* Events of revisions already delivered (a server resending after a
	 * reconnect would) are skipped; events come in revision order. */
	while (first < msg->event_count &&
	       msg->events[first].kv.mod_revision < watch->next_revision)
		first++;
	if (first == msg->event_count)
		return true;
	watch->next_revision = msg->events[msg->event_count - 1].kv.mod_revision + 1;
	watch->callbacks.events(watch, msg->events + first, msg->event_count - first, msg->revision,
				watch->userdata);
	return !watch->dead && watch->state == WATCH_STREAMING;
}

static void watch_dispatch(struct etcd_watch *watch)
{
	const char *text;
	size_t len;
	int r;

	watch->dirty = false;
	while (!watch->dead && watch->call && !watch->client->freeing) {
		struct etcd_watch_message msg;
		struct pw_error err = {0};

		r = etcd_stream_next(&watch->splitter, &text, &len);
		if (r == 0)
			return;
		if (r > 0)
			r = etcd_watch_message_parse(text, len, &msg, &err);
		else
			pw_error_set(&err, r, "malformed stream");
		if (r < 0) {
			pw_error_wrap(&err, r, "etcd watch %s: %s", watch->key,
				      watch->client->endpoints[watch->endpoint]);
			watch_disconnected(watch, &err);
			return;
		}
		bool keep = watch_message(watch, &msg);
		etcd_watch_message_done(&msg);
		if (!keep)
			return;
	}
}

int etcd_watch_start(struct etcd_client *client, const char *key, bool prefix,
		     int64_t start_revision, const struct etcd_watch_callbacks *callbacks,
		     void *userdata, struct etcd_watch **ret_watch, struct pw_error *err)
{
	struct etcd_watch *watch;
	int r;

	if (client->freeing)
		return pw_error_set(err, -ESHUTDOWN, "etcd: client is closing");
	if (strempty(key))
		return pw_error_set(err, -EINVAL, "etcd watch: no key");
	if (start_revision < 0)
		return pw_error_set(err, -EINVAL, "etcd watch %s: negative revision", key);
	if (!callbacks->events || !callbacks->compacted)
		return pw_error_set(err, -EINVAL,
				    "etcd watch %s: events and compacted are required", key);
	watch = xcalloc(1, sizeof(*watch));
	watch->client = client;
	watch->key = xstrdup(key);
	watch->prefix = prefix;
	watch->next_revision = start_revision;
	watch->callbacks = *callbacks;
	watch->userdata = userdata;
	watch->endpoint = client->preferred;
	watch->backoff_ms = ETCD_WATCH_BACKOFF_MIN_MS;
	watch->state = WATCH_WAITING;
	/* Connect from the loop, not from here: the caller gets the handle
	 * before any callback can run. */
	r = event_loop_add_timer(client->loop, 0, 0, on_watch_timer, watch, &watch->timer);
	if (r < 0) {
		free(watch->key);
		free(watch);
		return pw_error_set(err, r, "etcd watch %s: %s", key, strerror(-r));
	}
	LIST_PUSH(client->watches, watch);
	*ret_watch = watch;
	return 0;
}

int64_t etcd_watch_next_revision(const struct etcd_watch *watch)
{
	return watch->next_revision;
}

static void watch_release(struct etcd_watch *watch)
{
	struct etcd_client *client = watch->client;

	if (watch->dead)
		return;
	watch_stop_call(watch);
	event_loop_remove(client->loop, watch->timer);
	LIST_UNLINK(client->watches, watch);
	watch->dead = true;
	watch->dead_next = client->dead_watches;
	client->dead_watches = watch;
}

void etcd_watch_free(struct etcd_watch *watch)
{
	struct etcd_client *client;

	if (!watch)
		return;
	client = watch->client;
	watch_release(watch);
	if (!client->busy)
		client_reap(client);
}
