/*
 * The tables of workspace/mail.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 */
#ifndef LMS_WORKSPACE_MAIL_SCHEMA_H
#define LMS_WORKSPACE_MAIL_SCHEMA_H

#define MAIL_SCHEMA ""

#endif
