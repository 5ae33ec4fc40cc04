/*
 * The tenant's certificate template: the wording of its certificates in
 * German and English and a signature image, kept in workspace.db
 * (migration 12, certtpl_schema.h) and drawn by workspace/certpdf.c.
 *
 * Three texts per language, each a template (workspace/template.h) with
 * the placeholders {{learner}}, {{course}}, {{issued}}, {{expires}},
 * {{number}}, {{academy}} and {{revision}}:
 *   title   one line, e.g. "Teilnahmebescheinigung"
 *   body    up to CERTTPL_BODY_LINES lines; must name {{learner}} and
 *           {{course}}, so a certificate always says whom and what
 *   signer  up to two lines under the signature (name and role); ""
 *           draws no signer line
 * A text the tenant did not set is the built-in one (today's wording;
 * the signer is empty). The signature is a PNG of at most
 * CERTTPL_SIGNATURE_MAX bytes that cairo decodes.
 *
 *   GET    /api/v1/certificate-template  (admin) -> {"title": {"de",
 *          "en"}, "body": {...}, "signer": {...}, "signature": bool (an
 *          image is stored), "custom": bool (a text is the tenant's),
 *          "placeholders": [...]}
 *   PUT    /api/v1/certificate-template  (admin) the same shape, every
 *          member optional: a text as a string (both languages) or
 *          {"de", "en"}; null returns it to the built-in one;
 *          "signature": true asks for the stored image (refused when
 *          there is none), false or null removes it -> 200 as GET, or
 *          400 with the reason and nothing changed
 *   PUT    /api/v1/certificate-template/signature (admin) the PNG as
 *          the body -> 200 as GET; 413 too large, 415 not a PNG, 400 a
 *          PNG that does not decode
 *   GET    /api/v1/certificate-template/signature (admin) the image
 *   DELETE /api/v1/certificate-template/signature (admin) -> 200
 *
 * and on the command line (certtpl_cli.c) `lms-workspace certificate
 * template DATA FILE.json [--signature PNG]` and `... DATA --show`.
 *
 * Functions return 0 or a negative CERTTPL_E* code; database failures
 * are logged once where they happen.
 */
#ifndef LMS_WORKSPACE_CERTTPL_H
#define LMS_WORKSPACE_CERTTPL_H

#include "common/http.h"
#include "workspace/api.h"
#include "workspace/certpdf.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define CERTTPL_TITLE_MAX 200		/* bytes */
#define CERTTPL_BODY_MAX 2000		/* bytes */
#define CERTTPL_BODY_LINES 12
#define CERTTPL_SIGNER_MAX 200		/* bytes */
#define CERTTPL_SIGNATURE_MAX (512 * 1024) /* bytes of the PNG */
#define CERTTPL_WHY_MAX 200		/* bytes of a refusal's reason */
#define CERTTPL_NTEXTS 3		/* title, body, signer */

enum certtpl_error {
	CERTTPL_OK = 0,
	CERTTPL_EINVAL = -1, /* a text, image or change refused; why says */
	CERTTPL_EDB = -2,    /* SQLite failed; logged */
	CERTTPL_ENOMEM = -3
};

/* A short text for a CERTTPL_E* code; never NULL. */
const char *certtpl_strerror(int code);

/* What certificates in one language are drawn with: the texts
 * (malloc'd, the built-in ones where the tenant set none) and the
 * signature (malloc'd, or NULL). */
struct certtpl {
	char *text[CERTTPL_NTEXTS]; /* by enum certpdf_text */
	uint8_t *signature;
	size_t signature_len;
};

/* Loads the template for language ("en"; anything else German) into
 * out; release it with certtpl_release(), also after an error. */
int certtpl_load(sqlite3 *db, const char *language, struct certtpl *out);
void certtpl_release(struct certtpl *t);

/* Checks text for the field: 0, or CERTTPL_EINVAL with the reason in
 * why (cap bytes), naming the field. */
int certtpl_text_check(enum certpdf_text field, const char *text,
		       char *why, size_t cap);

/* Checks a signature image of n bytes: at most CERTTPL_SIGNATURE_MAX
 * bytes and a PNG that decodes (certpdf_png_check()). */
int certtpl_signature_check(const uint8_t *p, size_t n, char *why,
			    size_t cap);

enum certtpl_signature_change {
	CERTTPL_SIGNATURE_KEEP,	  /* as it is */
	CERTTPL_SIGNATURE_REMOVE, /* delete the stored image */
	CERTTPL_SIGNATURE_NEEDED  /* the template asks for an image */
};

/* A change of the template; pointers borrowed. */
struct certtpl_change {
	const char *text[CERTTPL_NTEXTS][2]; /* [field][0 de, 1 en]: a new
					      * text, or NULL to keep it */
	int reset[CERTTPL_NTEXTS][2];	     /* 1: back to the built-in */
	enum certtpl_signature_change signature;
	const uint8_t *image; /* a new signature, or NULL */
	size_t image_len;
};

/* The change a JSON body (the PUT shape) asks for into c, its texts
 * borrowed from body and checked: 0, or CERTTPL_EINVAL with the reason
 * in why (cap bytes). */
int certtpl_parse(const cJSON *body, struct certtpl_change *c, char *why,
		  size_t cap);

/* Applies c in one transaction, after checking the image: 0, or
 * CERTTPL_EINVAL with the reason in why when c asks for the signature
 * and none is stored or given, or the image is refused; nothing changes
 * then. now is the time of the change. Joins the caller's transaction
 * when one is open (audit_begin(), workspace/audit.h). */
int certtpl_apply(sqlite3 *db, const struct certtpl_change *c, int64_t now,
		  char *why, size_t cap);

/* certtpl_apply() and its audit entry ("template.change" by who, with
 * {"what": what}: "texts", "signature", ...) in one transaction. */
struct audit_actor;
int certtpl_apply_audited(sqlite3 *db, const struct audit_actor *who,
			  const struct certtpl_change *c, int64_t now,
			  const char *what, char *why, size_t cap);

/* The template as GET shows it into *out (cJSON_Delete() it). */
int certtpl_json(sqlite3 *db, cJSON **out);

/* `lms-workspace certificate ...` (certtpl_cli.c): argv[0] is
 * "certificate"; returns the exit code (0, 1 failure, 2 usage). */
int certtpl_cli(int argc, char **argv);

/* Answers req when its path is one of this module's; see api_route_fn. */
int certtpl_route(struct api_ctx *api, struct http_exchange *x,
		  const struct http_request *req);

#endif
