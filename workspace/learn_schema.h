/*
 * The tables of workspace/learn.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 */
#ifndef LMS_WORKSPACE_LEARN_SCHEMA_H
#define LMS_WORKSPACE_LEARN_SCHEMA_H

#define LEARN_SCHEMA ""

#endif
