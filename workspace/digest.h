/*
 * The overdue copies to managers, one mail per manager and run.
 *
 * workspace/compliance.c decides each copy as it decides the learner's
 * overdue reminder: a row of the reminders table with role "manager"
 * and no mail yet. At the end of the run digest_send() gathers, for
 * each manager, the rows not mailed yet into one mail: the template
 * "overdue_manager" when there is one, "overdue_digest" with the list
 * of learners, courses and due dates when there are several. A manager
 * of a house where 300 people are overdue gets one mail, not 300.
 *
 * Each manager's mail is queued and noted on their rows in one
 * transaction of its own. A run stopped before (a crash, the database
 * busy) leaves the rows for the next run: a copy is mailed once, late
 * rather than never.
 */
#ifndef LMS_WORKSPACE_DIGEST_H
#define LMS_WORKSPACE_DIGEST_H

#include <sqlite3.h>
#include <stdint.h>

/* The most lines of a digest's list; more are counted in a last line
 * ("… and 12 more"), and the link leads to the whole list. */
#define DIGEST_LIST_MAX 100

/* Where the mails link to and in which language they are written
 * when the manager chose none. */
struct digest_params {
	const char *web_url;  /* "https://academy.example" or "" */
	const char *language; /* the academy's default */
};

/* Queues the mails of every manager's copies not mailed yet at now;
 * *mails counts them. 0, or a negative STORE_E* code (the managers
 * before it stay done). */
int digest_send(sqlite3 *db, int64_t now, const struct digest_params *p,
		int *mails);

#endif
