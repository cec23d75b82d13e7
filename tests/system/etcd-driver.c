/* Test driver for netd/etcd-client.c: runs commands through the client on
 * a real event loop, one after the other, and prints one line per result
 * (stdout is line-buffered, so a test can follow a running driver).
 *
 *   etcd-driver [-e URL[,URL...]] [-t TIMEOUT_MS] COMMAND...
 *
 * Each COMMAND is one argument, words separated by spaces:
 *   put KEY VALUE [lease]   put (with the lease of the last grant)
 *   get KEY                 "get KEY: VALUE" or "get KEY: (none)"
 *   range PREFIX            "range PREFIX: K=V K=V ..." (keys in order)
 *   del KEY / delprefix PREFIX   "del KEY: deleted=N"
 *   create KEY VALUE        txn: put if the key does not exist (create
 *                           revision 0), else read it: "create KEY:
 *                           succeeded" or "create KEY: failed (holds V)"
 *   race PREFIX KEYS CLIENTS   CLIENTS clients, each with its own
 *                           connections, all send `create PREFIXi cN` for
 *                           i < KEYS at once; prints how many keys were won
 *                           once, twice or more, and by none
 *   rev                     "rev: N" (the store's revision)
 *   grant TTL / revoke      lease grant (remembered) / revoke it
 *   keepalive / unkeepalive start / stop keeping the last lease alive;
 *                           "lease ID lost: WHY" whenever it is lost
 *   watch PREFIX REV COUNT SECONDS
 *                           watch from REV; prints "watch connected URL",
 *                           "watch down: WHY", "event PUT K=V rev=N",
 *                           "event DELETE K rev=N"; done after COUNT
 *                           events (or "watch compacted at N"); fails
 *                           after SECONDS
 *   ticker MS / ticks       start a periodic timer / print "ticks: N
 *                           max-gap=G ms" (G: the longest time between two
 *                           ticks, which shows whether the loop blocked)
 *   sleep MS                wait on the loop
 *   abandon KEY             start a get and a watch of KEY and end at once:
 *                           freeing the client cancels both (the get
 *                           prints its -ECANCELED error)
 * A failed command prints "CMD ARG: error: MESSAGE (N ms)" and the next
 * one runs. Exit 0 when all commands ran, 1 if the client cannot be made,
 * 2 for usage errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../netd/etcd-client.h"
#include "error.h"
#include "event-loop.h"
#include "macro.h"
#include "xalloc.h"

#define DRIVER_WORDS_MAX	8
#define DRIVER_RACE_CLIENTS_MAX 8
#define DRIVER_RACE_KEYS_MAX	1000

struct race {
	struct etcd_client *clients[DRIVER_RACE_CLIENTS_MAX];
	size_t client_count;
	size_t key_count;
	unsigned wins[DRIVER_RACE_KEYS_MAX];
	size_t pending;
	size_t errors;
	char first_error[PW_ERROR_MESSAGE_MAX];
};

struct driver {
	struct event_loop *loop;
	struct etcd_client *client;
	const char *endpoints;
	uint64_t timeout_ms;
	char **commands;
	size_t command_count;
	size_t next;
	struct event_watch *advance; /* deferred: run the next command */
	struct event_watch *sleep_timer;
	/* the command running */
	char *words[DRIVER_WORDS_MAX];
	size_t word_count;
	char *line;
	uint64_t started_ms;
	/* state kept between commands */
	int64_t lease_id;
	int64_t lease_ttl;
	struct etcd_keepalive *keepalive;
	struct etcd_watch *watch;
	struct event_watch *watch_deadline;
	size_t watch_wanted, watch_seen;
	struct event_watch *ticker;
	uint64_t tick_interval_ms, last_tick_ms, max_gap_ms, tick_count;
	struct race race;
};

static struct driver drv;

static void command_done(void)
{
	free(drv.line);
	drv.line = NULL;
	drv.word_count = 0;
	event_loop_defer_arm(drv.loop, drv.advance);
}

static const char *arg(size_t i)
{
	return i < drv.word_count ? drv.words[i] : "";
}

static void print_error(const struct pw_error *err)
{
	printf("%s %s: error: %s (%" PRIu64 " ms)\n", arg(0), arg(1), pw_error_message(err),
	       now_ms() - drv.started_ms);
}

/* A request that could not even be submitted. */
static void submit_failed(const struct pw_error *err)
{
	print_error(err);
	command_done();
}

static void on_put(struct etcd_client *c, int r, const struct pw_error *err,
		   const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else
		printf("put %s: ok rev=%" PRId64 "\n", arg(1), resp->revision);
	command_done();
}

static void on_get(struct etcd_client *c, int r, const struct pw_error *err,
		   const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else if (resp->kv_count == 0)
		printf("get %s: (none)\n", arg(1));
	else
		printf("get %s: %s\n", arg(1), resp->kvs[0].value);
	command_done();
}

static void on_range(struct etcd_client *c, int r, const struct pw_error *err,
		     const struct etcd_response *resp, void *userdata)
{
	if (r < 0) {
		print_error(err);
	} else {
		printf("range %s:", arg(1));
		for (size_t i = 0; i < resp->kv_count; i++)
			printf(" %s=%s", resp->kvs[i].key, resp->kvs[i].value);
		printf("\n");
	}
	command_done();
}

static void on_rev(struct etcd_client *c, int r, const struct pw_error *err,
		   const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else
		printf("rev: %" PRId64 "\n", resp->revision);
	command_done();
}

static void on_delete(struct etcd_client *c, int r, const struct pw_error *err,
		      const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else
		printf("%s %s: deleted=%" PRId64 "\n", arg(0), arg(1), resp->deleted);
	command_done();
}

static void on_create(struct etcd_client *c, int r, const struct pw_error *err,
		      const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else if (resp->succeeded)
		printf("create %s: succeeded\n", arg(1));
	else if (resp->response_count == 1 && resp->responses[0].kv_count == 1)
		printf("create %s: failed (holds %s)\n", arg(1), resp->responses[0].kvs[0].value);
	else
		printf("create %s: failed\n", arg(1));
	command_done();
}

/* The transaction of `create`: put KEY=VALUE if KEY was never created,
 * else read it. */
static int create_txn(struct etcd_client *client, const char *key, const char *value,
		      etcd_done_cb cb, void *userdata, struct pw_error *err)
{
	struct etcd_compare cmp = {
	    .key = key, .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .number = 0};
	struct etcd_op put = {
	    .type = ETCD_OP_PUT, .key = key, .value = value, .value_len = strlen(value)};
	struct etcd_op get = {.type = ETCD_OP_RANGE, .key = key};
	return etcd_txn(client, &cmp, 1, &put, 1, &get, 1, cb, userdata, err);
}

static void race_finish(void)
{
	size_t once = 0, more = 0, none = 0;

	for (size_t i = 0; i < drv.race.key_count; i++) {
		if (drv.race.wins[i] == 1)
			once++;
		else if (drv.race.wins[i] > 1)
			more++;
		else
			none++;
	}
	printf("race %s: keys=%zu won-once=%zu won-more=%zu won-none=%zu errors=%zu%s%s\n", arg(1),
	       drv.race.key_count, once, more, none, drv.race.errors,
	       drv.race.errors ? " first: " : "", drv.race.first_error);
	for (size_t i = 0; i < drv.race.client_count; i++)
		etcd_client_free(drv.race.clients[i]);
	memset(&drv.race, 0, sizeof(drv.race));
	command_done();
}

static void on_race_reply(struct etcd_client *c, int r, const struct pw_error *err,
			  const struct etcd_response *resp, void *userdata)
{
	size_t key = (size_t)(uintptr_t)userdata;

	if (r < 0) {
		if (!drv.race.errors++)
			snprintf(drv.race.first_error, sizeof(drv.race.first_error), "%s",
				 pw_error_message(err));
	} else if (resp->succeeded) {
		drv.race.wins[key]++;
	}
	if (--drv.race.pending == 0)
		race_finish();
}

static void cmd_race(void)
{
	struct pw_error err = {0};
	long keys = atol(arg(2)), clients = atol(arg(3));

	if (keys < 1 || keys > DRIVER_RACE_KEYS_MAX || clients < 2 ||
	    clients > DRIVER_RACE_CLIENTS_MAX) {
		pw_error_set(&err, -EINVAL, "race: 1-%d keys, 2-%d clients", DRIVER_RACE_KEYS_MAX,
			     DRIVER_RACE_CLIENTS_MAX);
		submit_failed(&err);
		return;
	}
	drv.race.key_count = (size_t)keys;
	for (long i = 0; i < clients; i++) {
		if (etcd_client_new(drv.loop, drv.endpoints, drv.timeout_ms, &drv.race.clients[i],
				    &err) < 0) {
			submit_failed(&err);
			return;
		}
		drv.race.client_count++;
	}
	/* Interleaved, so the clients' requests for one key go out together. */
	for (long k = 0; k < keys; k++)
		for (long i = 0; i < clients; i++) {
			char key[256], value[16];

			snprintf(key, sizeof(key), "%s%ld", arg(1), k);
			snprintf(value, sizeof(value), "c%ld", i);
			if (create_txn(drv.race.clients[i], key, value, on_race_reply,
				       (void *)(uintptr_t)k, &err) < 0) {
				fprintf(stderr, "etcd-driver: %s\n", pw_error_message(&err));
				exit(1);
			}
			drv.race.pending++;
		}
}

static void on_grant(struct etcd_client *c, int r, const struct pw_error *err,
		     const struct etcd_response *resp, void *userdata)
{
	if (r < 0) {
		print_error(err);
	} else {
		drv.lease_id = resp->lease_id;
		drv.lease_ttl = resp->ttl;
		printf("grant: lease=%" PRId64 " ttl=%" PRId64 "\n", resp->lease_id, resp->ttl);
	}
	command_done();
}

static void on_revoke(struct etcd_client *c, int r, const struct pw_error *err,
		      const struct etcd_response *resp, void *userdata)
{
	if (r < 0)
		print_error(err);
	else
		printf("revoke: ok\n");
	command_done();
}

static void on_lease_lost(struct etcd_keepalive *ka, int64_t lease_id, const struct pw_error *why,
			  void *userdata)
{
	printf("lease %" PRId64 " lost: %s\n", lease_id, pw_error_message(why));
}

static void watch_end(void)
{
	event_loop_remove(drv.loop, drv.watch_deadline);
	drv.watch_deadline = NULL;
	etcd_watch_free(drv.watch);
	drv.watch = NULL;
	command_done();
}

static void on_watch_events(struct etcd_watch *w, const struct etcd_event *events, size_t count,
			    int64_t revision, void *userdata)
{
	for (size_t i = 0; i < count; i++) {
		const struct etcd_kv *kv = &events[i].kv;
		if (events[i].type == ETCD_EVENT_PUT)
			printf("event PUT %s=%s rev=%" PRId64 "\n", kv->key, kv->value,
			       kv->mod_revision);
		else
			printf("event DELETE %s rev=%" PRId64 "\n", kv->key, kv->mod_revision);
	}
	drv.watch_seen += count;
	if (drv.watch_seen >= drv.watch_wanted)
		watch_end();
}

static void on_watch_compacted(struct etcd_watch *w, int64_t compact_revision, void *userdata)
{
	printf("watch compacted at %" PRId64 "\n", compact_revision);
	watch_end();
}

static void on_watch_status(struct etcd_watch *w, const char *endpoint, const struct pw_error *err,
			    void *userdata)
{
	if (err)
		printf("watch down: %s\n", pw_error_message(err));
	else
		printf("watch connected %s\n", endpoint);
}

static void on_watch_deadline(struct event_loop *loop, void *userdata)
{
	struct pw_error err = {0};

	pw_error_set(&err, -ETIMEDOUT, "saw %zu of %zu events", drv.watch_seen, drv.watch_wanted);
	print_error(&err);
	watch_end();
}

static void cmd_watch(void)
{
	static const struct etcd_watch_callbacks callbacks = {
	    .events = on_watch_events,
	    .compacted = on_watch_compacted,
	    .status = on_watch_status,
	};
	struct pw_error err = {0};

	drv.watch_wanted = (size_t)atol(arg(3));
	drv.watch_seen = 0;
	if (etcd_watch_start(drv.client, arg(1), true, atoll(arg(2)), &callbacks, NULL, &drv.watch,
			     &err) < 0) {
		submit_failed(&err);
		return;
	}
	if (event_loop_add_timer(drv.loop, (uint64_t)atol(arg(4)) * 1000, 0, on_watch_deadline,
				 NULL, &drv.watch_deadline) < 0)
		exit(1);
}

static void on_tick(struct event_loop *loop, void *userdata)
{
	uint64_t now = now_ms();

	drv.max_gap_ms = MAX(drv.max_gap_ms, now - drv.last_tick_ms);
	drv.last_tick_ms = now;
	drv.tick_count++;
}

static void on_sleep_done(struct event_loop *loop, void *userdata)
{
	command_done();
}

static void run_next(struct event_loop *loop, void *userdata)
{
	struct pw_error err = {0};
	char *save = NULL, *word;
	const char *cmd;
	int r = 0;

	if (drv.next == drv.command_count) {
		event_loop_quit(loop, 0);
		return;
	}
	drv.line = xstrdup(drv.commands[drv.next++]);
	drv.word_count = 0;
	for (word = strtok_r(drv.line, " ", &save); word && drv.word_count < DRIVER_WORDS_MAX;
	     word = strtok_r(NULL, " ", &save))
		drv.words[drv.word_count++] = word;
	drv.started_ms = now_ms();
	cmd = arg(0);

	if (streq(cmd, "put") && drv.word_count >= 3) {
		bool with_lease = drv.word_count > 3 && streq(arg(3), "lease");
		r = etcd_put(drv.client, arg(1), arg(2), strlen(arg(2)),
			     with_lease ? drv.lease_id : 0, on_put, NULL, &err);
	} else if (streq(cmd, "get") && drv.word_count == 2) {
		r = etcd_range(drv.client, arg(1), false, 0, on_get, NULL, &err);
	} else if (streq(cmd, "range") && drv.word_count == 2) {
		r = etcd_range(drv.client, arg(1), true, 0, on_range, NULL, &err);
	} else if (streq(cmd, "rev") && drv.word_count == 1) {
		r = etcd_range(drv.client, "/", false, 0, on_rev, NULL, &err);
	} else if ((streq(cmd, "del") || streq(cmd, "delprefix")) && drv.word_count == 2) {
		r = etcd_delete(drv.client, arg(1), streq(cmd, "delprefix"), on_delete, NULL, &err);
	} else if (streq(cmd, "create") && drv.word_count == 3) {
		r = create_txn(drv.client, arg(1), arg(2), on_create, NULL, &err);
	} else if (streq(cmd, "race") && drv.word_count == 4) {
		cmd_race();
	} else if (streq(cmd, "grant") && drv.word_count == 2) {
		r = etcd_lease_grant(drv.client, atoll(arg(1)), on_grant, NULL, &err);
	} else if (streq(cmd, "revoke") && drv.word_count == 1) {
		r = etcd_lease_revoke(drv.client, drv.lease_id, on_revoke, NULL, &err);
	} else if (streq(cmd, "keepalive") && drv.word_count == 1) {
		etcd_keepalive_free(drv.keepalive);
		drv.keepalive = NULL;
		r = etcd_lease_keepalive(drv.client, drv.lease_id, drv.lease_ttl, on_lease_lost,
					 NULL, &drv.keepalive, &err);
		if (r >= 0) {
			printf("keepalive: started\n");
			command_done();
		}
	} else if (streq(cmd, "unkeepalive") && drv.word_count == 1) {
		etcd_keepalive_free(drv.keepalive);
		drv.keepalive = NULL;
		printf("unkeepalive: stopped\n");
		command_done();
	} else if (streq(cmd, "watch") && drv.word_count == 5) {
		cmd_watch();
	} else if (streq(cmd, "ticker") && drv.word_count == 2) {
		drv.tick_interval_ms = (uint64_t)atol(arg(1));
		drv.last_tick_ms = now_ms();
		drv.max_gap_ms = drv.tick_count = 0;
		event_loop_remove(loop, drv.ticker);
		if (event_loop_add_timer(loop, drv.tick_interval_ms, drv.tick_interval_ms, on_tick,
					 NULL, &drv.ticker) < 0)
			exit(1);
		command_done();
	} else if (streq(cmd, "ticks") && drv.word_count == 1) {
		on_tick(loop, NULL); /* counts the gap up to now too */
		printf("ticks: %" PRIu64 " max-gap=%" PRIu64 " ms\n", drv.tick_count - 1,
		       drv.max_gap_ms);
		command_done();
	} else if (streq(cmd, "abandon") && drv.word_count == 2) {
		static const struct etcd_watch_callbacks callbacks = {
			.events = on_watch_events,
			.compacted = on_watch_compacted,
		};
		struct etcd_watch *watch;

		r = etcd_range(drv.client, arg(1), false, 0, on_get, NULL, &err);
		if (r >= 0)
			r = etcd_watch_start(drv.client, arg(1), false, 0, &callbacks, NULL, &watch,
					     &err);
		if (r >= 0)
			event_loop_quit(loop, 0);
	} else if (streq(cmd, "sleep") && drv.word_count == 2) {
		if (event_loop_timer_set(loop, drv.sleep_timer, (uint64_t)atol(arg(1)), 0) < 0)
			exit(1);
	} else {
		fprintf(stderr, "etcd-driver: unknown command or wrong arguments: '%s'\n",
			drv.commands[drv.next - 1]);
		exit(2);
	}
	if (r < 0)
		submit_failed(&err);
}

int main(int argc, char **argv)
{
	struct pw_error err = {0};
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	drv.endpoints = "http://127.0.0.1:2379";
	while ((opt = getopt(argc, argv, "e:t:")) != -1) {
		switch (opt) {
		case 'e':
			drv.endpoints = optarg;
			break;
		case 't':
			drv.timeout_ms = (uint64_t)atoll(optarg);
			break;
		default:
			fprintf(stderr, "usage: etcd-driver [-e URL,...] [-t MS] COMMAND...\n");
			return 2;
		}
	}
	drv.commands = argv + optind;
	drv.command_count = (size_t)(argc - optind);
	if (event_loop_new(&drv.loop) < 0)
		return 1;
	if (etcd_client_new(drv.loop, drv.endpoints, drv.timeout_ms, &drv.client, &err) < 0) {
		fprintf(stderr, "etcd-driver: %s\n", pw_error_message(&err));
		event_loop_free(drv.loop);
		return 1;
	}
	if (event_loop_add_defer(drv.loop, run_next, NULL, &drv.advance) < 0 ||
	    event_loop_add_timer(drv.loop, 3600 * 1000, 0, on_sleep_done, NULL, &drv.sleep_timer) <
		0)
		return 1;
	event_loop_defer_arm(drv.loop, drv.advance);
	event_loop_run(drv.loop);
	/* Frees the keep-alive and any watch too (and cancels requests). */
	etcd_client_free(drv.client);
	event_loop_free(drv.loop);
	return 0;
}
