/* test_udp.c - batched datagram I/O on loopback: what udp_tx sends in
 * GSO runs arrives as the same datagrams, in order and intact, through
 * udp_rx's GRO splitting; mixed sizes and destinations too. A wildcard
 * socket (IPv4 or dual-stack "[::]") answers from the address the peer
 * sent to, and names an IPv4 peer as plain IPv4. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tunnel/sock.h"
#include "tunnel/udp.h"

struct ep {
	int                     fd;
	struct sockaddr_storage addr;
};

static void ep_open(struct ep *e)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&e->addr;
	socklen_t len = sizeof(e->addr);

	memset(&e->addr, 0, sizeof(e->addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((e->fd = udp_bind(&e->addr)) >= 0);
	assert_int_equal(getsockname(e->fd, (struct sockaddr *)&e->addr, &len), 0);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Receive until n datagrams came (or 2 s); check each against sizes[]. */
static void expect(struct udp_rx *rx, struct ep *to, const size_t *sizes, int n)
{
	struct pollfd pfd = { .fd = to->fd, .events = POLLIN };
	const struct sockaddr_storage *from;
	uint8_t want[UDP_DGRAM_MAX];
	const uint8_t *d;
	int got = 0, k, i;
	size_t len;

	while (got < n) {
		assert_true(poll(&pfd, 1, 2000) == 1);
		k = udp_rx_recv(rx, to->fd);
		for (i = 0; i < k; i++, got++) {
			assert_true(got < n);
			d = udp_rx_dgram(rx, i, &len, &from);
			assert_int_equal(len, sizes[got]);
			fill(want, len, (unsigned)got);
			assert_memory_equal(d, want, len);
			assert_int_equal(from->ss_family, AF_INET);
		}
	}
}

static void send_run(struct udp_tx *tx, struct ep *to, const size_t *sizes, int n)
{
	uint8_t buf[UDP_DGRAM_MAX];

	for (int i = 0; i < n; i++) {
		fill(buf, sizes[i], (unsigned)i);
		udp_tx_add(tx, &to->addr, buf, sizes[i]);
	}
	udp_tx_flush(tx);
}

static void test_udp_run_of_equal_sizes_arrives_intact(void **state)
{
	struct ep a, b;
	struct udp_tx *tx;
	struct udp_rx *rx;
	size_t sizes[UDP_TX_BATCH];
	int i;

	(void)state;
	ep_open(&a);
	ep_open(&b);
	for (i = 0; i < UDP_TX_BATCH; i++)
		sizes[i] = i == UDP_TX_BATCH - 1 ? 700 : 1475;	/* last one shorter */
	assert_int_equal(udp_tx_new(&tx, a.fd), 0);
	assert_int_equal(udp_rx_new(&rx), 0);
	send_run(tx, &b, sizes, UDP_TX_BATCH);
	expect(rx, &b, sizes, UDP_TX_BATCH);
	assert_int_equal(udp_tx_drops(tx), 0);
	udp_tx_free(tx);
	udp_rx_free(rx);
	close(a.fd);
	close(b.fd);
}

static void test_udp_mixed_sizes_and_more_than_a_batch(void **state)
{
	static const size_t pattern[] = { 100, 1475, 1475, 9000, 1, 1475, 1200, 1200, 64 };
	struct ep a, b;
	struct udp_tx *tx;
	struct udp_rx *rx;
	size_t sizes[150];
	int i;

	(void)state;
	ep_open(&a);
	ep_open(&b);
	for (i = 0; i < 150; i++)
		sizes[i] = pattern[i % 9];
	assert_int_equal(udp_tx_new(&tx, a.fd), 0);
	assert_int_equal(udp_rx_new(&rx), 0);
	send_run(tx, &b, sizes, 150);		/* flushes at 64 on its own */
	expect(rx, &b, sizes, 150);
	udp_tx_free(tx);
	udp_rx_free(rx);
	close(a.fd);
	close(b.fd);
}

/* Datagrams written in place (udp_tx_slot, udp_tx_push) lie back to back:
 * a batch of the largest fills its bytes before its count, is sent on its
 * own, and each still arrives whole. */
static void test_udp_in_place_largest_flush_by_bytes(void **state)
{
	struct ep a, b;
	struct udp_tx *tx;
	struct udp_rx *rx;
	size_t sizes[24];
	uint8_t *slot, *prev = NULL;
	int i, flushed = 0;

	(void)state;
	ep_open(&a);
	ep_open(&b);
	assert_int_equal(udp_tx_new(&tx, a.fd), 0);
	assert_int_equal(udp_rx_new(&rx), 0);
	for (i = 0; i < 24; i++) {
		sizes[i] = i % 3 == 2 ? 1475 : 9000;
		slot = udp_tx_slot(tx);
		assert_true(slot == udp_tx_slot(tx));	/* not pushed: the same */
		flushed += prev != NULL && slot <= prev;	/* back at the start */
		fill(slot, sizes[i], (unsigned)i);
		udp_tx_push(tx, &b.addr, sizes[i]);
		prev = slot;
	}
	udp_tx_flush(tx);
	assert_true(flushed >= 1);
	expect(rx, &b, sizes, 24);
	assert_int_equal(udp_tx_drops(tx), 0);
	udp_tx_free(tx);
	udp_rx_free(rx);
	close(a.fd);
	close(b.fd);
}

static void test_udp_two_destinations_are_not_merged(void **state)
{
	struct ep a, b, c;
	struct udp_tx *tx;
	struct udp_rx *rb, *rc;
	uint8_t buf[1475];
	size_t sizes[10];
	int i;

	(void)state;
	ep_open(&a);
	ep_open(&b);
	ep_open(&c);
	assert_int_equal(udp_tx_new(&tx, a.fd), 0);
	assert_int_equal(udp_rx_new(&rb), 0);
	assert_int_equal(udp_rx_new(&rc), 0);
	for (i = 0; i < 10; i++) {	/* b, c, b, c ...: each gets 0..4 in order */
		sizes[i] = sizeof(buf);
		fill(buf, sizeof(buf), (unsigned)(i / 2));
		udp_tx_add(tx, i % 2 ? &c.addr : &b.addr, buf, sizeof(buf));
	}
	udp_tx_flush(tx);
	expect(rb, &b, sizes, 5);
	expect(rc, &c, sizes, 5);
	udp_tx_free(tx);
	udp_rx_free(rb);
	udp_rx_free(rc);
	close(a.fd);
	close(b.fd);
	close(c.fd);
}

/* A server socket on the wildcard of family; a client connected to
 * 127.0.0.2 (a second loopback address: the route to 127.0.0.1 has
 * 127.0.0.1 as its source, so a reply from the kernel's choice would not
 * reach the connected client). The first datagram's path is checked; the
 * reply goes back on it, or on a copy with the local half zeroed. */
static void pktinfo_round(int family, bool forget_local, bool want_reply)
{
	struct sockaddr_storage any = { .ss_family = (sa_family_t)family }, to = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&to;
	const struct sockaddr_storage *from;
	struct sockaddr_storage back;
	struct pollfd pfd = { .events = POLLIN };
	struct udp_tx *tx;
	struct udp_rx *rx;
	socklen_t sl = sizeof(any);
	int srv, cli, n;
	size_t len;
	char buf[4 * 1000], big[1000] = { 0 };

	assert_true((srv = udp_bind(&any)) >= 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&any, &sl), 0);
	sin->sin_family = AF_INET;
	sin->sin_port = family == AF_INET6 ? ((struct sockaddr_in6 *)&any)->sin6_port :
	    ((struct sockaddr_in *)&any)->sin_port;
	sin->sin_addr.s_addr = htonl(0x7f000002);
	assert_true((cli = udp_connect(&to)) >= 0);
	assert_int_equal(send(cli, "ping", 4, 0), 4);
	pfd.fd = srv;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(udp_rx_new(&rx), 0);
	assert_int_equal(udp_rx_recv(rx, srv), 1);
	udp_rx_dgram(rx, 0, &len, &from);
	assert_int_equal(from->ss_family, AF_INET);	/* unmapped on "[::]" */
	assert_int_equal(((const struct sockaddr_in *)from)->sin_addr.s_addr,
	    htonl(INADDR_LOOPBACK));
	assert_int_equal(udp_local_of(from)->ul_family, AF_INET);
	assert_int_equal(udp_local_of(from)->ul_addr.v4.s_addr, htonl(0x7f000002));
	back = *from;
	if (forget_local)
		memset((char *)&back + offsetof(struct udp_path, up_local), 0,
		    sizeof(struct udp_local));
	assert_int_equal(udp_tx_new(&tx, srv), 0);
	for (n = 0; n < 4; n++)		/* a GSO run: the source rides along */
		udp_tx_add(tx, &back, big, sizeof(big));
	udp_tx_flush(tx);
	assert_int_equal(udp_tx_drops(tx), 0);
	pfd.fd = cli;
	for (len = 0; len < (want_reply ? 4 * sizeof(big) : 1); len += (size_t)n) {
		/* the client's UDP GRO may hand the run over as one */
		assert_int_equal(poll(&pfd, 1, want_reply ? 2000 : 300), want_reply ? 1 : 0);
		if (!want_reply)
			break;
		assert_true((n = (int)recv(cli, buf, sizeof(buf), 0)) > 0);
		assert_int_equal(n % (int)sizeof(big), 0);
	}
	udp_tx_free(tx);
	udp_rx_free(rx);
	close(srv);
	close(cli);
}

static void test_udp_wildcard_answers_from_the_address_sent_to(void **state)
{
	(void)state;
	pktinfo_round(AF_INET, false, true);
	pktinfo_round(AF_INET, true, false);	/* the control: kernel's source */
}

static void test_udp_dual_stack_unmaps_and_answers_from_it(void **state)
{
	(void)state;
	pktinfo_round(AF_INET6, false, true);
	pktinfo_round(AF_INET6, true, false);
}

static void test_sock_rules(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	(void)state;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(4433);
	assert_true(sock_is_any(&ss));
	assert_false(sock_v6only(&ss));		/* "[::]": IPv4 too */
	assert_int_equal(inet_pton(AF_INET6, "::1", &s6->sin6_addr), 1);
	assert_true(sock_v6only(&ss));		/* beside "0.0.0.0" */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.18.1.2", &s6->sin6_addr), 1);
	sock_unmap(&ss);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, htons(4433));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0xc6120102));
	sock_unmap(&ss);			/* IPv4 stays */
	assert_int_equal(ss.ss_family, AF_INET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_run_of_equal_sizes_arrives_intact),
		cmocka_unit_test(test_udp_mixed_sizes_and_more_than_a_batch),
		cmocka_unit_test(test_udp_in_place_largest_flush_by_bytes),
		cmocka_unit_test(test_udp_two_destinations_are_not_merged),
		cmocka_unit_test(test_udp_wildcard_answers_from_the_address_sent_to),
		cmocka_unit_test(test_udp_dual_stack_unmaps_and_answers_from_it),
		cmocka_unit_test(test_sock_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
