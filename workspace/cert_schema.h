/*
 * The tables of workspace/cert.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 */
#ifndef LMS_WORKSPACE_CERT_SCHEMA_H
#define LMS_WORKSPACE_CERT_SCHEMA_H

#define CERT_SCHEMA ""

#endif
