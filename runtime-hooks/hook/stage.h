/* The two things the hook does: start (createRuntime/prestart) wires a
 * container into its group's VNets, DNS files and shares; stop (poststop)
 * takes its part back out. Both are idempotent, and a failed start undoes
 * everything it did before it returns (runtimes do not all call poststop
 * after a failed start, see RUNTIMES.md). */
#pragma once

#include "error.h"
#include "oci.h"
#include "trust.h"

enum hook_stage {
	HOOK_STAGE_START, /* createRuntime, prestart */
	HOOK_STAGE_STOP,  /* poststop */
};

/* Maps an OCI stage name to what we do: -EINVAL for a stage we do not
 * handle (createContainer, startContainer, poststart run where our work
 * cannot be done). */
int hook_stage_parse(const char *name, enum hook_stage *ret);

/* The stage from the state's status when no STAGE argument was given:
 * "creating"/"created" = start, "stopped" = stop. */
int hook_stage_from_status(const char *status, enum hook_stage *ret);

/* start needs c->rootfs (oci_config_load) and c->pid; stop needs c->id.
 * trust: where podwire-trust and containers-storage are (trust.h). */
int hook_start(const char *run_dir, const struct trust_config *trust, struct oci_container *c,
	       struct pw_error *err);
int hook_stop(const char *run_dir, const char *id, struct pw_error *err);
