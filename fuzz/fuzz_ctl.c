/* fuzz_ctl.c - a control-socket request as on_conn_read cuts it: the first
 * CTL_MAX_REQ bytes, up to the first newline (without one, the connection
 * is closed and nothing is parsed). ctl_parse_request must split it exactly
 * as a model written from ctl.h does, point every word into the line, and
 * leave the request untouched when it fails. Each word is also rendered
 * with ctl_json_str, as names come back in --json answers, and must read
 * back as the same string from a valid JSON string literal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "daemon/ctl.h"

/* Undo ctl_json_str: the quoted literal in b must decode to s. */
static void check_json(const char *s)
{
	struct ctl_buf b = { 0 };
	const char *p, *end;
	size_t k = 0, n = strlen(s);
	char *out;

	ctl_json_str(&b, s);
	if (b.cb_oom || b.cb_len < 2 || b.cb_p[0] != '"' ||
	    b.cb_p[b.cb_len - 1] != '"' || (out = malloc(n + 1)) == NULL)
		abort();
	end = b.cb_p + b.cb_len - 1;
	for (p = b.cb_p + 1; p < end; p++) {
		unsigned v;

		if ((unsigned char)*p < 0x20 || *p == '"')
			abort();	/* raw control character or bare quote */
		if (*p != '\\') {
			out[k++] = *p;
			continue;
		}
		if (++p == end)
			abort();
		if (*p == '"' || *p == '\\')
			out[k++] = *p;
		else if (*p == 'u' && end - p > 4 && sscanf(p + 1, "%4x", &v) == 1) {
			out[k++] = (char)v;
			p += 4;
		} else
			abort();
		if (k > n)
			abort();
	}
	out[k] = '\0';
	if (k != n || memcmp(out, s, n) != 0)
		abort();
	free(out);
	ctl_buf_free(&b);
}

struct word {
	size_t w_off, w_len;
};

/* Model of ctl.h: words are the maximal runs of bytes other than a tab;
 * "--json" is a flag. Fills the other words (as many as fit) and returns
 * how many there are. */
static int model(const char *s, struct word w[CTL_MAX_ARGS], bool *json)
{
	size_t i = 0, wl;
	int n = 0;

	*json = false;
	while (s[i] != '\0') {
		if ((wl = strcspn(s + i, "\t")) == 0) {
			i++;
			continue;
		}
		if (wl == 6 && memcmp(s + i, "--json", 6) == 0)
			*json = true;
		else if (n++ < CTL_MAX_ARGS)
			w[n - 1] = (struct word){ i, wl };
		i += wl;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req rq, before;
	struct word w[CTL_MAX_ARGS];
	char *line, *nl;
	bool json;
	int rc, n, i;

	if (size > CTL_MAX_REQ)
		size = CTL_MAX_REQ;
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	/* exactly the line and its NUL, so ASan sees a read past it */
	if ((line = strndup((const char *)data, (size_t)(nl - (const char *)data))) == NULL)
		abort();
	n = model(line, w, &json);
	memset(&rq, 0xa5, sizeof(rq));
	before = rq;
	rc = ctl_parse_request(line, &rq);
	if (rc != (n == 0 ? -ENODATA : n > CTL_MAX_ARGS ? -E2BIG : 0))
		abort();
	if (rc != 0) {
		if (memcmp(&rq, &before, sizeof(rq)) != 0)
			abort();
		free(line);
		return 0;
	}
	if (rq.rq_conn != before.rq_conn || rq.rq_argc != n || rq.rq_json != json)
		abort();
	for (i = 0; i < CTL_MAX_ARGS; i++)
		if (i < n ? rq.rq_argv[i] != line + w[i].w_off ||
		    strlen(rq.rq_argv[i]) != w[i].w_len : rq.rq_argv[i] != NULL)
			abort();
	for (i = 0; i < n; i++)
		check_json(rq.rq_argv[i]);
	free(line);
	return 0;
}
