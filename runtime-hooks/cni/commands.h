/* The CNI operations against podwire-netd. A container's group id is its
 * CNI_CONTAINERID. What podwire-cni attached is recorded under
 * RUN_DIR/cni/NETWORK/CONTAINERID.json before netd is asked (so DEL and GC
 * find it, and never touch a group someone else attached); an exclusive
 * flock on RUN_DIR/cni/lock serialises concurrent invocations.
 *
 * ADD attaches (netd attach is idempotent) and returns the 1.0 result;
 * DEL detaches what ADD recorded (unknown = success); CHECK verifies the
 * attachment against netd and prevResult; GC detaches recorded attachments
 * of this network that are not in cni.dev/valid-attachments; STATUS says
 * whether netd serves the VNet. */
#pragma once

#include <jansson.h>

#include "cni.h"

/* *ret_result: the JSON to print (ADD: the result; others: NULL). */
int cni_run(const struct cni_request *req, json_t **ret_result, struct cni_error *ce);
