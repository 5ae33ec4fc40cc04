/*
 * The tables of workspace/people.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 */
#ifndef LMS_WORKSPACE_PEOPLE_SCHEMA_H
#define LMS_WORKSPACE_PEOPLE_SCHEMA_H

#define PEOPLE_SCHEMA ""

#endif
