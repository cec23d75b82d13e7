/* PODWIRE_HOOK_TRACE timing (see trace.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "trace.h"

static bool trace_on;
static long long trace_start_us, trace_last_us;
static long trace_last_faults;

/* Page faults so far: on a virtual machine each can cost tens of
 * microseconds, so they are shown next to the time. */
static long minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) < 0 ? 0 : ru.ru_minflt + ru.ru_majflt;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trace_init(void)
{
	const char *v = getenv("PODWIRE_HOOK_TRACE");

	trace_on = v && v[0] && !(v[0] == '0' && !v[1]);
	if (trace_on) {
		trace_start_us = trace_last_us = now_us();
		trace_last_faults = minor_faults();
	}
}

void trace_step(const char *step)
{
	long long t;
	long faults;

	if (!trace_on)
		return;
	t = now_us();
	faults = minor_faults();
	fprintf(stderr, "podwire-hook: trace: %-22s %6lld us  (+%lld us, +%ld faults)\n", step,
		t - trace_start_us, t - trace_last_us, faults - trace_last_faults);
	trace_last_us = now_us();
	trace_last_faults = minor_faults();
}
