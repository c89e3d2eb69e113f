/* event.h - the event bus behind `vpnctl events`: session-level changes
 * (a peer connected, denied, revoked, kicked, changed transport, roamed,
 * disconnected; an allow-list edit, a reload) fanned out as one line each
 * to every watcher on the control socket, text or JSON.
 *
 * One bus per process, like the log: the daemon's modules call evt_emit()
 * where they log the same change, and it costs nothing while no one
 * watches. Events happen once per session or per command, never per
 * packet. A watcher that does not read is never waited for: each has a
 * queue of EVT_QUEUE lines; what does not fit is dropped and counted, and
 * the watcher is told how many ("events_dropped") once it has room again. */
#ifndef VPND_EVENT_H
#define VPND_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <jansson.h>

#define EVT_QUEUE        256	/* lines a watcher may have unread */
#define EVT_MAX_WATCHERS 16	/* watchers at once */

struct ctl_req;

enum evt_type {
	EVT_CONNECTED, EVT_DENIED, EVT_REVOKED, EVT_KICKED, EVT_TRANSPORT,
	EVT_ROAMED, EVT_DISCONNECTED, EVT_ALLOW, EVT_RELOAD,
};

/* One event; every pointer is borrowed for the call and may be NULL (the
 * field is then left out), as may ev_uid be -1 and ev_has_bytes false. */
struct evt {
	enum evt_type ev_type;
	const char   *ev_name;		/* the peer's allow-list name */
	const char   *ev_fp;		/* its fingerprint (the server's, on a client) */
	const char   *ev_endpoint;	/* "ip:port" */
	const char   *ev_address;	/* tunnel address */
	const char   *ev_address6;	/* IPv6 tunnel address, NULL: none */
	const char   *ev_transport;	/* "dtls" or "tls" */
	const char   *ev_from, *ev_to;	/* transport: what data moved from and to */
	const char   *ev_reason;
	const char   *ev_change;	/* allow: "add" or "remove"; reload: "ok" or "failed" */
	long long     ev_uid;		/* allow, reload: who asked (SO_PEERCRED) */
	bool          ev_has_bytes;	/* disconnected: the session's totals */
	uint64_t      ev_rx_bytes, ev_tx_bytes;
};

#define EVT_NO_UID (-1LL)

/* Start the bus on loop (watchers' handles live there). */
void evt_open(uv_loop_t *loop);
/* End every watcher (their handles close; the loop must run on for their
 * close callbacks) and stop taking events. Idempotent. */
void evt_close(void);

/* Publish ev to every watcher now; never blocks. No-op while closed. */
void evt_emit(const struct evt *ev);

/* The "events" request: answers "ok\n" and keeps the connection as a
 * watcher (rq_json: JSON lines), or answers an error. The connection
 * leaves the control socket's request deadlines behind. */
void evt_watch(struct ctl_req *rq);
/* A watcher on fd (a connected stream socket, taken in all cases; "ok\n"
 * is its first line). 0 or -errno. For evt_watch and the tests. */
int  evt_watch_fd(int fd, bool json);

/* The line ev makes: text, or JSON, ended by a newline; at is its time.
 * Malloc'd (the caller frees), NULL when out of memory. */
char *evt_format(const struct evt *ev, bool json, time_t at);
/* The JSON object of ev; NULL when out of memory. */
json_t *evt_json(const struct evt *ev, time_t at);

/* Watchers now, and the events dropped for slow watchers so far. */
unsigned evt_watchers(void);
uint64_t evt_dropped(void);

#endif
