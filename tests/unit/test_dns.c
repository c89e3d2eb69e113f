/* test_dns.c - client/dns.c: the resolvconf fragment; the resolvconf
 * back-end through a fake dns_ops.run that records each call, and the real
 * fork+exec runner on a shell script; the systemd-resolved back-end
 * against a private dbus-daemon on which a forked fake claims
 * org.freedesktop.resolve1 and writes down each call it receives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "client/dns.h"
#include "fixture.h"

#define IFINDEX 7

struct fixture {
	char  dir[FX_DIR_MAX];
	char  calls[8][512];	/* what the fake run was asked, argv joined */
	char  stdin_text[8][DNS_RESOLVCONF_MAX];
	int   ncalls;
	int   rc;		/* what the fake run returns */
	pid_t bus_pid;		/* the private dbus-daemon, or 0 */
	pid_t fake_pid;		/* the fake resolved, or 0 */
	char  bus_addr[128];
};

static int fake_run(void *arg, char *const argv[], const char *in, size_t len)
{
	struct fixture *f = arg;
	size_t off = 0;
	int i;

	assert_true(f->ncalls < 8);
	for (i = 0; argv[i] != NULL; i++)
		off += (size_t)snprintf(f->calls[f->ncalls] + off,
		    sizeof(f->calls[0]) - off, "%s%s", i ? " " : "",
		    i == 0 ? strrchr(argv[i], '/') + 1 : argv[i]);
	assert_true(len < sizeof(f->stdin_text[0]));
	if (len > 0)
		memcpy(f->stdin_text[f->ncalls], in, len);
	f->stdin_text[f->ncalls][len] = '\0';
	f->ncalls++;
	return f->rc;
}

static const struct dns_ops fake_ops = { .run = fake_run };

static void sample(struct dns_set *s, bool full)
{
	memset(s, 0, sizeof(*s));
	s->ds_servers[0].cd_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.8.0.1", s->ds_servers[0].cd_addr), 1);
	s->ds_servers[1].cd_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::1", s->ds_servers[1].cd_addr), 1);
	s->ds_nservers = 2;
	strcpy(s->ds_domains[0], "corp.example");
	strcpy(s->ds_domains[1], "~lab.example");
	strcpy(s->ds_domains[2], "eng.example");
	s->ds_ndomains = 3;
	s->ds_full_tunnel = full;
}

static void put_exec(const char *path, const char *text)
{
	fx_write(path, text);
	assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || fx_tmpdir(f->dir, sizeof(f->dir), "dns") < 0)
		return -1;
	/* no system bus here: resolved is "not running" unless a test says */
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/vpnd-test-bus", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->fake_pid > 0) {
		kill(f->fake_pid, SIGKILL);
		waitpid(f->fake_pid, NULL, 0);
	}
	if (f->bus_pid > 0) {
		kill(f->bus_pid, SIGKILL);
		waitpid(f->bus_pid, NULL, 0);
	}
	fx_rmtree(f->dir);
	free(f);
	return 0;
}

/* A dns on device vpn7 whose resolvconf is a placeholder in the fixture's
 * directory (run by fake_run, never executed). */
static void dns_fake(struct fixture *f, struct dns *d)
{
	put_exec(fx_path(f->dir, "resolvconf"), "#!/bin/sh\nexit 99\n");
	dns_init(d, "vpn7", IFINDEX, &fake_ops, f);
	d->d_path = f->dir;
}

/* ---- the fragment ---- */

static void test_resolvconf_text(void **state)
{
	struct dns_set s;
	char buf[DNS_RESOLVCONF_MAX];
	int n;

	(void)state;
	sample(&s, true);
	n = dns_resolvconf_text(&s, buf, sizeof(buf));
	/* routing-only domains have no resolv.conf form */
	assert_string_equal(buf, "nameserver 10.8.0.1\nnameserver fd00:8::1\n"
	    "search corp.example eng.example\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(dns_resolvconf_text(&s, buf, (size_t)n), -ENOSPC);
	assert_int_equal(dns_resolvconf_text(&s, buf, (size_t)n + 1), n);
	s.ds_ndomains = 0;
	assert_true(dns_resolvconf_text(&s, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "nameserver 10.8.0.1\nnameserver fd00:8::1\n");
}

/* ---- resolvconf, through the ops seam ---- */

static void test_resolvconf_apply_replace_remove(void **state)
{
	struct fixture *f = *state;
	struct dns_set s, none = { 0 };
	enum dns_backend used;
	struct dns d;

	dns_fake(f, &d);
	sample(&s, false);
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(used, DNS_RESOLVCONF);
	assert_int_equal(f->ncalls, 1);
	assert_string_equal(f->calls[0], "resolvconf -a tun.vpn7 -m 0 -x");
	assert_string_equal(f->stdin_text[0], "nameserver 10.8.0.1\n"
	    "nameserver fd00:8::1\nsearch corp.example eng.example\n");
	/* the same again (a reconnect to the same server) runs nothing */
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(f->ncalls, 1);
	/* different resolvers replace the record */
	s.ds_nservers = 1;
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(f->ncalls, 2);
	assert_string_equal(f->calls[1], "resolvconf -a tun.vpn7 -m 0 -x");
	assert_string_equal(f->stdin_text[1], "nameserver 10.8.0.1\n"
	    "search corp.example eng.example\n");
	/* a server that pushes none now: the record goes */
	assert_int_equal(dns_apply(&d, &none, &used), 0);
	assert_int_equal(used, DNS_NONE);
	assert_int_equal(f->ncalls, 3);
	assert_string_equal(f->calls[2], "resolvconf -d tun.vpn7 -f");
	assert_string_equal(f->stdin_text[2], "");
	assert_int_equal(d.d_applied, DNS_NONE);
	/* nothing applied: nothing to remove */
	assert_int_equal(dns_remove(&d), 0);
	assert_int_equal(f->ncalls, 3);
}

/* The privileged helper's side: a request is checked as untrusted input
 * before anything runs; a good one applies on the helper's own device;
 * a NULL one (the worker gone) removes it. */
static void test_helper_requests(void **state)
{
	struct fixture *f = *state;
	struct dns_req r = { .dr_op = DNS_REQ_APPLY };
	struct dns d;

	dns_fake(f, &d);
	sample(&r.dr_set, false);
	assert_int_equal(dns_helper(&d, &r, sizeof(r) - 1), -EINVAL);
	r.dr_op = 7;
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	r.dr_op = DNS_REQ_APPLY;
	r.dr_set.ds_nservers = CONF_MAX_DNS + 1;
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	r.dr_set.ds_nservers = 2;
	r.dr_set.ds_servers[1].cd_family = 7;
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	r.dr_set.ds_servers[1].cd_family = AF_INET6;
	strcpy(r.dr_set.ds_domains[0], "corp.example\nnameserver 6.6.6.6");
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	memset(r.dr_set.ds_domains[0], 'a', sizeof(r.dr_set.ds_domains[0]));	/* no NUL */
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	r.dr_set.ds_ndomains = -1;
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), -EINVAL);
	assert_int_equal(f->ncalls, 0);			/* nothing ran */
	sample(&r.dr_set, false);
	assert_int_equal(dns_helper(&d, &r, sizeof(r)), DNS_RESOLVCONF);
	assert_int_equal(f->ncalls, 1);
	assert_string_equal(f->calls[0], "resolvconf -a tun.vpn7 -m 0 -x");
	assert_int_equal(dns_helper(&d, NULL, 0), 0);	/* the worker is gone */
	assert_int_equal(f->ncalls, 2);
	assert_string_equal(f->calls[1], "resolvconf -d tun.vpn7 -f");
	assert_int_equal(dns_helper(&d, NULL, 0), 0);	/* nothing left */
	assert_int_equal(f->ncalls, 2);
}

static void test_resolvconf_remove_at_stop(void **state)
{
	struct fixture *f = *state;
	enum dns_backend used;
	struct dns_set s;
	struct dns d;

	dns_fake(f, &d);
	sample(&s, true);
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(dns_remove(&d), 0);
	assert_int_equal(f->ncalls, 2);
	assert_string_equal(f->calls[1], "resolvconf -d tun.vpn7 -f");
	assert_int_equal(d.d_applied, DNS_NONE);
}

/* A failing resolvconf is -EIO and leaves nothing recorded as applied:
 * the next apply tries again. */
static void test_resolvconf_failure(void **state)
{
	struct fixture *f = *state;
	enum dns_backend used;
	struct dns_set s;
	struct dns d;

	dns_fake(f, &d);
	sample(&s, false);
	f->rc = 1;
	assert_int_equal(dns_apply(&d, &s, &used), -EIO);
	assert_int_equal(d.d_applied, DNS_NONE);
	f->rc = -EPERM;			/* exec forbidden (seccomp) */
	assert_int_equal(dns_apply(&d, &s, &used), -EPERM);
	f->rc = 0;
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(f->ncalls, 3);
	assert_int_equal(dns_remove(&d), 0);
}

/* No resolved, no resolvconf: -ENOTSUP and nothing is run. */
static void test_no_backend(void **state)
{
	struct fixture *f = *state;
	enum dns_backend used;
	struct dns_set s;
	struct dns d;

	dns_init(&d, "vpn7", IFINDEX, &fake_ops, f);
	d.d_path = "/nonexistent-a:/nonexistent-b";
	sample(&s, false);
	assert_int_equal(dns_apply(&d, &s, &used), -ENOTSUP);
	assert_int_equal(used, DNS_NONE);
	assert_int_equal(f->ncalls, 0);
	assert_int_equal(dns_remove(&d), 0);
}

/* The real runner: argv, stdin, a clean environment, the exit status. */
static void test_exec_runner(void **state)
{
	struct fixture *f = *state;
	char script[512], got[512], prog[FX_DIR_MAX + 16];
	char *argv[] = { prog, "-a", "tun.vpn7", NULL };
	char *missing[] = { "/nonexistent/resolvconf", NULL };
	FILE *fp;

	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$@\" > %s/args\n"
	    "cat > %s/in\nenv > %s/env\nexit ${VPND_TEST_RC:-3}\n",
	    f->dir, f->dir, f->dir);
	put_exec(fx_path(f->dir, "resolvconf"), script);
	snprintf(prog, sizeof(prog), "%s", fx_path(f->dir, "resolvconf"));
	setenv("VPND_TEST_RC", "0", 1);		/* must not reach the child */
	assert_int_equal(dns_exec_ops.run(NULL, argv, "nameserver 1.2.3.4\n", 19), 3);
	unsetenv("VPND_TEST_RC");
	assert_non_null(fp = fopen(fx_path(f->dir, "args"), "r"));
	assert_non_null(fgets(got, sizeof(got), fp));
	fclose(fp);
	assert_string_equal(got, "-a tun.vpn7\n");
	assert_non_null(fp = fopen(fx_path(f->dir, "in"), "r"));
	assert_non_null(fgets(got, sizeof(got), fp));
	fclose(fp);
	assert_string_equal(got, "nameserver 1.2.3.4\n");
	assert_non_null(fp = fopen(fx_path(f->dir, "env"), "r"));
	while (fgets(got, sizeof(got), fp) != NULL)
		if (strncmp(got, "PWD=", 4) != 0 && strncmp(got, "OLDPWD=", 7) != 0 &&
		    strcmp(got, "SHLVL=1\n") != 0 && strcmp(got, "_=/usr/bin/env\n") != 0)
			assert_string_equal(got, "PATH=" DNS_PATH "\n");
	fclose(fp);
	assert_int_equal(dns_exec_ops.run(NULL, missing, "", 0), -ENOENT);
}

/* ---- systemd-resolved on a private bus ---- */

static const char bus_conf[] =
	"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	"  <listen>unix:path=%s/bus</listen>\n"
	"  <auth>EXTERNAL</auth>\n"
	"  <policy context=\"default\">\n"
	"    <allow user=\"*\"/>\n"
	"    <allow own=\"*\"/>\n"
	"    <allow send_destination=\"*\"/>\n"
	"    <allow receive_sender=\"*\"/>\n"
	"  </policy>\n"
	"</busconfig>\n";

static bool wait_for(const char *path)
{
	struct timespec t = { 0, 20 * 1000000L };

	for (int i = 0; i < 500; i++) {		/* 10 s, a loaded machine */
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&t, NULL);
	}
	return false;
}

static int bus_start(struct fixture *f)
{
	char text[1024], arg[FX_DIR_MAX + 32];

	if (access("/usr/bin/dbus-daemon", X_OK) != 0)
		return -1;
	snprintf(text, sizeof(text), bus_conf, f->dir);
	fx_write(fx_path(f->dir, "bus.conf"), text);
	snprintf(arg, sizeof(arg), "--config-file=%s", fx_path(f->dir, "bus.conf"));
	if ((f->bus_pid = fork()) == 0) {
		execl("/usr/bin/dbus-daemon", "dbus-daemon", "--nofork", arg, (char *)NULL);
		_exit(127);
	}
	assert_true(f->bus_pid > 0);
	assert_true(wait_for(fx_path(f->dir, "bus")));
	snprintf(f->bus_addr, sizeof(f->bus_addr), "unix:path=%s", fx_path(f->dir, "bus"));
	setenv("DBUS_SYSTEM_BUS_ADDRESS", f->bus_addr, 1);
	return 0;
}

/* The fake resolved: one line per call, "Method ifindex args...". */
static int fake_method(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	FILE *log = ud;
	const char *member = sd_bus_message_get_member(m), *name;
	char a[INET6_ADDRSTRLEN];
	const void *p;
	int32_t ifindex, family;
	int b;
	size_t n;

	(void)e;
	assert_true(sd_bus_message_read(m, "i", &ifindex) > 0);
	if (ifindex == 99)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED,
		    "not for you");
	fprintf(log, "%s %d", member, ifindex);
	if (strcmp(member, "SetLinkDNS") == 0) {
		assert_true(sd_bus_message_enter_container(m, 'a', "(iay)") > 0);
		while (sd_bus_message_enter_container(m, 'r', "iay") > 0) {
			assert_true(sd_bus_message_read(m, "i", &family) > 0);
			assert_true(sd_bus_message_read_array(m, 'y', &p, &n) > 0);
			assert_int_equal(n, family == AF_INET ? 4 : 16);
			fprintf(log, " %s", inet_ntop(family, p, a, sizeof(a)));
			sd_bus_message_exit_container(m);
		}
		sd_bus_message_exit_container(m);
	} else if (strcmp(member, "SetLinkDomains") == 0) {
		assert_true(sd_bus_message_enter_container(m, 'a', "(sb)") > 0);
		while (sd_bus_message_read(m, "(sb)", &name, &b) > 0)
			fprintf(log, " %s%s", b ? "~" : "", name);
		sd_bus_message_exit_container(m);
	} else if (strcmp(member, "SetLinkDefaultRoute") == 0) {
		assert_true(sd_bus_message_read(m, "b", &b) > 0);
		fprintf(log, " %s", b ? "yes" : "no");
	}
	fprintf(log, "\n");
	fflush(log);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable fake_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetLinkDNS", "ia(iay)", "", fake_method, 0),
	SD_BUS_METHOD("SetLinkDomains", "ia(sb)", "", fake_method, 0),
	SD_BUS_METHOD("SetLinkDefaultRoute", "ib", "", fake_method, 0),
	SD_BUS_METHOD("RevertLink", "i", "", fake_method, 0),
	SD_BUS_VTABLE_END
};

static void fake_resolved(const char *logpath, const char *ready)
{
	FILE *log = fopen(logpath, "w");
	sd_bus *bus = NULL;

	if (log == NULL || sd_bus_open_system(&bus) < 0 ||
	    sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/resolve1",
	    "org.freedesktop.resolve1.Manager", fake_vtable, log) < 0 ||
	    sd_bus_request_name(bus, "org.freedesktop.resolve1", 0) < 0)
		_exit(1);
	fx_write(ready, "");
	for (;;)
		if (sd_bus_process(bus, NULL) == 0)
			sd_bus_wait(bus, UINT64_MAX);
}

static void read_log(struct fixture *f, char *out, size_t cap)
{
	FILE *fp = fopen(fx_path(f->dir, "calls"), "r");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, cap - 1, fp);
	out[n] = '\0';
	fclose(fp);
}

static void test_resolved(void **state)
{
	struct fixture *f = *state;
	enum dns_backend used;
	struct dns_set s;
	struct dns d;
	char log[2048];

	if (bus_start(f) < 0)
		skip();
	/* a bus without resolve1 on it: resolvconf */
	dns_fake(f, &d);
	sample(&s, true);
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(used, DNS_RESOLVCONF);
	assert_int_equal(dns_remove(&d), 0);
	assert_int_equal(f->ncalls, 2);

	if ((f->fake_pid = fork()) == 0)
		fake_resolved(fx_path(f->dir, "calls"), fx_path(f->dir, "ready"));
	assert_true(f->fake_pid > 0);
	assert_true(wait_for(fx_path(f->dir, "ready")));

	/* full tunnel: servers, domains with "~.", DefaultRoute */
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	assert_int_equal(used, DNS_RESOLVED);
	read_log(f, log, sizeof(log));
	assert_string_equal(log, "SetLinkDNS 7 10.8.0.1 fd00:8::1\n"
	    "SetLinkDomains 7 corp.example ~lab.example eng.example ~.\n"
	    "SetLinkDefaultRoute 7 yes\n");
	assert_int_equal(f->ncalls, 2);		/* resolvconf not run */
	assert_int_equal(dns_remove(&d), 0);
	read_log(f, log, sizeof(log));
	assert_non_null(strstr(log, "\nRevertLink 7\n"));

	/* split tunnel: no "~.", DefaultRoute left to resolved */
	sample(&s, false);
	assert_int_equal(dns_apply(&d, &s, &used), 0);
	read_log(f, log, sizeof(log));
	assert_non_null(strstr(log, "RevertLink 7\nSetLinkDNS 7 10.8.0.1 fd00:8::1\n"
	    "SetLinkDomains 7 corp.example ~lab.example eng.example\n"));
	assert_null(strstr(strstr(log, "RevertLink"), "DefaultRoute"));
	assert_int_equal(dns_remove(&d), 0);

	/* resolved's refusal is the caller's error, nothing recorded */
	d.d_ifindex = 99;
	assert_int_equal(dns_apply(&d, &s, &used), -EACCES);
	assert_int_equal(d.d_applied, DNS_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolvconf_text),
		cmocka_unit_test_setup_teardown(test_resolvconf_apply_replace_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolvconf_remove_at_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolvconf_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_runner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolved, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
