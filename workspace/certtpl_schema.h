/*
 * The tables of workspace/certtpl.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * certificate_texts holds the wording a tenant gave its certificates,
 * one row per field (title, body, signer) and language; a missing row
 * means the built-in text (workspace/certpdf.c). certificate_signature
 * holds at most one PNG image, drawn above the signer line.
 */
#ifndef LMS_WORKSPACE_CERTTPL_SCHEMA_H
#define LMS_WORKSPACE_CERTTPL_SCHEMA_H

#define CERTTPL_SCHEMA                                                    \
	"CREATE TABLE certificate_texts ("                                \
	"  field TEXT NOT NULL CHECK (field IN ('title', 'body',"         \
	"    'signer')),"                                                 \
	"  language TEXT NOT NULL CHECK (language IN ('de', 'en')),"      \
	"  text TEXT NOT NULL,"                                           \
	"  PRIMARY KEY (field, language)"                                 \
	") WITHOUT ROWID;"                                                \
	"CREATE TABLE certificate_signature ("                            \
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"                        \
	"  data BLOB NOT NULL,"                                           \
	"  updated_at INTEGER NOT NULL"                                   \
	");"

#endif
