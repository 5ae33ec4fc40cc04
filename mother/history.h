/*
 * A course's revision history at the mother, read from its git
 * repository (DATA/courses/ID.git, branch main) with a libgit2 revwalk.
 */
#ifndef LMS_MOTHER_HISTORY_H
#define LMS_MOTHER_HISTORY_H

#include <cjson/cJSON.h>

#include "mother/mother.h"

#define HISTORY_MAX 500 /* revisions listed, newest first */

/* [{"revision", "time", "author", "message"}], newest first, following
 * first parents from main; at most limit (1 to HISTORY_MAX). 0 and *out,
 * 1 when there is no such course, -1 on error. The caller deletes
 * *out. */
int history_json(struct mother *m, const char *course, int limit,
		 cJSON **out);

#endif
