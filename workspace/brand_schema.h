/*
 * The tables of workspace/brand.c: one migration step of workspace.db
 * (store.c applies the steps in order, each once).
 *
 * branding holds the short settings (name, colours, default language) as
 * key/value texts; branding_assets the two files an admin may upload,
 * the logo and the custom CSS, each with its type and the validator it
 * is served with.
 */
#ifndef LMS_WORKSPACE_BRAND_SCHEMA_H
#define LMS_WORKSPACE_BRAND_SCHEMA_H

#define BRAND_SCHEMA                                                      \
	"CREATE TABLE branding ("                                         \
	"  key TEXT PRIMARY KEY CHECK (key IN ('name', 'primary_color',"   \
	"    'accent_color', 'default_language')),"                       \
	"  value TEXT NOT NULL"                                           \
	") WITHOUT ROWID;"                                                \
	"CREATE TABLE branding_assets ("                                  \
	"  name TEXT PRIMARY KEY CHECK (name IN ('logo', 'css')),"        \
	"  content_type TEXT NOT NULL,"                                   \
	"  data BLOB NOT NULL,"                                           \
	"  etag TEXT NOT NULL CHECK (length(etag) = 64),"                 \
	"  updated_at INTEGER NOT NULL"                                   \
	") WITHOUT ROWID;"

#endif
