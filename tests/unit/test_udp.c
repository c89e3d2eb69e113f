/* test_udp.c - batched datagram I/O on loopback: what udp_tx sends in
 * GSO runs arrives as the same datagrams, in order and intact, through
 * udp_rx's GRO splitting; mixed sizes and destinations too. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_run_of_equal_sizes_arrives_intact),
		cmocka_unit_test(test_udp_mixed_sizes_and_more_than_a_batch),
		cmocka_unit_test(test_udp_two_destinations_are_not_merged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
