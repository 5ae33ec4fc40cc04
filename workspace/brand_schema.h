/*
 * The tables of workspace/brand.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 */
#ifndef LMS_WORKSPACE_BRAND_SCHEMA_H
#define LMS_WORKSPACE_BRAND_SCHEMA_H

#define BRAND_SCHEMA ""

#endif
