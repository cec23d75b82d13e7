/* Quota accounting (see quota.h). */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "quota.h"

void quota_init(struct quota *q, uint64_t limit_bytes, uint64_t limit_files)
{
	*q = (struct quota){.limit_bytes = limit_bytes, .limit_files = limit_files};
	pthread_mutex_init(&q->lock, NULL);
}

void quota_done(struct quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

void quota_set_limits(struct quota *q, uint64_t limit_bytes, uint64_t limit_files)
{
	pthread_mutex_lock(&q->lock);
	q->limit_bytes = limit_bytes;
	q->limit_files = limit_files;
	pthread_mutex_unlock(&q->lock);
}

void quota_set_usage(struct quota *q, uint64_t used_bytes, uint64_t used_files)
{
	pthread_mutex_lock(&q->lock);
	q->used_bytes = used_bytes;
	q->used_files = used_files;
	pthread_mutex_unlock(&q->lock);
}

void quota_get(struct quota *q, struct quota_usage *ret)
{
	pthread_mutex_lock(&q->lock);
	*ret = (struct quota_usage){
	    .limit_bytes = q->limit_bytes,
	    .limit_files = q->limit_files,
	    .used_bytes = q->used_bytes,
	    .used_files = q->used_files,
	};
	pthread_mutex_unlock(&q->lock);
}

/* Whether used + delta passes limit (delta > 0), without overflow. */
static bool passes(uint64_t used, int64_t delta, uint64_t limit)
{
	if (delta <= 0 || limit == 0)
		return false;
	return used > limit || (uint64_t)delta > limit - used;
}

static uint64_t apply(uint64_t used, int64_t delta)
{
	if (delta >= 0)
		return used + (uint64_t)delta;
	/* -(INT64_MIN) overflows; no usage is that large anyway. */
	uint64_t down = delta == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-delta;
	return down > used ? 0 : used - down;
}

int quota_charge(struct quota *q, int64_t bytes, int64_t files)
{
	int r = 0;

	pthread_mutex_lock(&q->lock);
	if (passes(q->used_bytes, bytes, q->limit_bytes) ||
	    passes(q->used_files, files, q->limit_files))
		r = -EDQUOT;
	else {
		q->used_bytes = apply(q->used_bytes, bytes);
		q->used_files = apply(q->used_files, files);
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

void quota_account(struct quota *q, int64_t bytes)
{
	pthread_mutex_lock(&q->lock);
	q->used_bytes = apply(q->used_bytes, bytes);
	pthread_mutex_unlock(&q->lock);
}

int64_t quota_size_delta(uint64_t old_size, uint64_t new_size)
{
	if (new_size <= old_size)
		return 0;
	return new_size - old_size > (uint64_t)INT64_MAX ? INT64_MAX
							 : (int64_t)(new_size - old_size);
}

void quota_statfs(const struct quota_usage *u, const struct statvfs *backing, struct statvfs *ret)
{
	*ret = *backing;
	if (u->limit_bytes) {
		unsigned long frsize = backing->f_frsize ? backing->f_frsize : 4096;
		uint64_t left =
		    u->used_bytes >= u->limit_bytes ? 0 : u->limit_bytes - u->used_bytes;
		uint64_t free_blocks = left / frsize;

		ret->f_frsize = frsize;
		ret->f_blocks = (u->limit_bytes + frsize - 1) / frsize;
		ret->f_bfree = MIN(free_blocks, (uint64_t)backing->f_bfree);
		ret->f_bavail = MIN(free_blocks, (uint64_t)backing->f_bavail);
	}
	if (u->limit_files) {
		uint64_t left =
		    u->used_files >= u->limit_files ? 0 : u->limit_files - u->used_files;

		ret->f_files = u->limit_files;
		ret->f_ffree = MIN(left, (uint64_t)backing->f_ffree);
		ret->f_favail = MIN(left, (uint64_t)backing->f_favail);
	}
}
