/* Persistence of shares and their users (layout in volumed.h): one JSON
 * file per share under the state dir, one per (share, group) under the run
 * dir, each written atomically with lib/state-file.h, so one mutation
 * costs one small file whatever the number of shares or groups. */
#pragma once

#include "volumed.h"

int store_share_save(struct volumed *v, const struct share_config *c);
int store_share_remove(struct volumed *v, const char *name);
/* Calls cb for every saved share (cfg is the callee's to keep or free). A
 * file that does not parse is logged and skipped. */
int store_shares_load(struct volumed *v, void (*cb)(struct share_config *cfg, void *userdata),
		      void *userdata);

int store_user_save(struct volumed *v, const char *share, const struct share_user *u);
int store_user_remove(struct volumed *v, const char *share, const char *group);
/* Fills s->users from the run dir. */
int store_users_load(struct volumed *v, struct share *s);
int store_users_clear(struct volumed *v, const char *share);
