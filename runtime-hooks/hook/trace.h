/* Per-step timing of one hook run, a debugging aid: with PODWIRE_HOOK_TRACE=1
 * in the hook's environment, every step prints one line on stderr,
 *   podwire-hook: trace: STEP  T us  (+D us, +F faults)
 * T since main() was entered, D since the previous step, F the page faults
 * taken in the step (tens of microseconds each on some virtual machines). A runtime passes a
 * hook exactly the env its config.json lists, so add the variable there
 * (crun keeps a hook's stderr with the annotation run.oci.hooks.stderr).
 * Off (one getenv at start, then a branch per step) otherwise. Not thread
 * safe: the hook is single-threaded. */
#pragma once

/* Reads PODWIRE_HOOK_TRACE and takes the start time. */
void trace_init(void);
/* Prints the step line when tracing is on. */
void trace_step(const char *step);
