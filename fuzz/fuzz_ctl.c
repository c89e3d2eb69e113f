/* fuzz_ctl.c - a control-socket request as on_conn_read cuts it: the first
 * CTL_MAX_REQ bytes, up to the first newline (without one, the connection
 * is closed and nothing is parsed). ctl_parse_request must split it exactly
 * as a model written from ctl.h does, point every word into the line, and
 * leave the request untouched when it fails. Each word is also rendered
 * with ctl_json_string, as names come back in --json answers, and must read
 * back through jansson as the same string. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "daemon/ctl.h"

/* ctl_json_string, dumped and parsed back by jansson, must give s when s
 * is UTF-8, and some valid string in any case. */
static void check_json(const char *s)
{
	json_t *j = ctl_json_string(s), *back, *valid = json_string(s);
	json_error_t e;
	char *d;

	if (j == NULL || (d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL ||
	    (back = json_loads(d, JSON_DECODE_ANY, &e)) == NULL || !json_is_string(back))
		abort();
	if (valid != NULL && strcmp(json_string_value(back), s) != 0)
		abort();
	json_decref(valid);
	json_decref(back);
	json_decref(j);
	free(d);
}

struct word {
	size_t w_off, w_len;
};

/* Model of ctl.h: words are the maximal runs of bytes other than a tab;
 * "--json" and "--long" are flags. Fills the other words (as many as fit) and returns
 * how many there are. */
static int model(const char *s, struct word w[CTL_MAX_ARGS], bool *json, bool *lng)
{
	size_t i = 0, wl;
	int n = 0;

	*json = *lng = false;
	while (s[i] != '\0') {
		if ((wl = strcspn(s + i, "\t")) == 0) {
			i++;
			continue;
		}
		if (wl == 6 && memcmp(s + i, "--json", 6) == 0)
			*json = true;
		else if (wl == 6 && memcmp(s + i, "--long", 6) == 0)
			*lng = true;
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
	bool json, lng;
	int rc, n, i;

	if (size > CTL_MAX_REQ)
		size = CTL_MAX_REQ;
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	/* exactly the line and its NUL, so ASan sees a read past it */
	if ((line = strndup((const char *)data, (size_t)(nl - (const char *)data))) == NULL)
		abort();
	n = model(line, w, &json, &lng);
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
	if (rq.rq_conn != before.rq_conn || rq.rq_argc != n || rq.rq_json != json ||
	    rq.rq_long != lng)
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
