# vpnd - read this in a minute.
#   make            bin/vpnd, bin/vpnctl
#   make check      unit + e2e tests under ASan+UBSan, warnings as errors
#   make stress     tests/e2e/stress.sh for STRESS_ROUNDS (20) rounds per transport
#   make demo       client -> server (NAT) -> internet, in network namespaces
#   make deps       install the Debian packages the build, tests and demo need
#   make install    binaries, man pages, vpnd@.service, examples (uninstall: undo)
#   make deb        the Debian package, in build/deb (tests/deb.sh checks it)
#   make fuzz       libFuzzer harnesses (clang), FUZZ_SECONDS each; fuzz-smoke: 3 s

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS     = openssl libuv libconfig libmnl libcap-ng libseccomp jansson
# headers only: the library is loaded when it is used (daemon/dl.c), by
# daemon/http.c (libmicrohttpd), server/nat.c (libnftables) and
# daemon/sysd.c (libsystemd)
HDRPKGS  = libmicrohttpd libnftables libsystemd
VERSION  = 0.1.0

WARN     = -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla \
	   $(if $(filter 1,$(WERROR)),-Werror)
INCS     = -I. -D_GNU_SOURCE -DVPND_VERSION='"$(VERSION)"' \
	   $(shell pkg-config --cflags $(PKGS) $(HDRPKGS) 2>/dev/null)
CFLAGS  += $(WARN) -MMD -MP $(INCS)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# test_nat checks the tables it wrote with libnftables itself, test_dns
# runs a fake resolved with sd-bus
TESTLIBS = $(shell pkg-config --libs libnftables libsystemd 2>/dev/null)

# SAN=1 builds everything under ASan+UBSan into build/asan (make check uses it).
ifeq ($(SAN),1)
O       := build/asan
CFLAGS  += -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
BIN     := $(O)/bin
else
O       := build/obj
BIN     := bin
endif

LIBSRC  = $(wildcard conf/*.c crypto/*.c tunnel/*.c daemon/*.c server/*.c client/*.c)
LIBOBJ  = $(LIBSRC:%.c=$(O)/%.o)
UNITSRC = $(wildcard tests/unit/test_*.c)
UNITBIN = $(UNITSRC:tests/unit/%.c=$(O)/tests/%)
UNITOBJ = $(UNITSRC:%.c=$(O)/%.o)
FAKEOBJ = $(patsubst %.c,$(O)/%.o,$(filter-out $(UNITSRC),$(wildcard tests/unit/*.c)))
DEPS    = $(LIBOBJ:.o=.d) $(O)/cmd/vpnd.d $(O)/cmd/vpnctl.d $(FAKEOBJ:.o=.d) \
	  $(UNITOBJ:.o=.d)

ifeq ($(V),1)
Q =
else
Q = @
endif

all: $(BIN)/vpnd $(BIN)/vpnctl

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BIN)/vpnd: $(O)/cmd/vpnd.o $(LIBOBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/vpnctl: $(O)/cmd/vpnctl.o $(LIBOBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBOBJ) $(FAKEOBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TESTLIBS) -lcmocka

unit: all $(UNITBIN)

# make check: everything under ASan+UBSan with -Werror, then unit and e2e
# tests; the runner prints "N passed, N failed" last.
check: deps
	$(MAKE) SAN=1 WERROR=1 unit
	tests/run.sh build/asan

demo: deps all
	tests/demo.sh

# make stress: the long form of e2e/stress (make check runs one round per
# transport): 8 clients, bulk both ways, 2% loss, ASan+UBSan build.
STRESS_ROUNDS ?= 20

stress: deps
	$(MAKE) SAN=1 WERROR=1 all
	ROUNDS=$(STRESS_ROUNDS) BIN_DIR=build/asan/bin bash tests/e2e/stress.sh

deps:
	@tests/deps.sh

# make install: binaries, man pages, vpnd@.service and example configs.
# SYSTEMDUNITDIR defaults to $(PREFIX)/lib/systemd/system, which systemd
# searches for PREFIX=/usr/local and /usr; the Debian package sets it to
# what `pkg-config --variable=systemdsystemunitdir systemd` says
# (/lib/systemd/system on bookworm). The unit's ExecStart names $(SBINDIR).
# make uninstall removes exactly those files (and the directories only
# they used); tests/install.list is the list, tests/e2e/install.sh checks it.
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/vpnd
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
EXAMPLES        = docs/examples/server.conf docs/examples/client.conf \
		  docs/examples/peers.conf
INSTALLED = $(SBINDIR)/vpnd $(SBINDIR)/vpnctl $(MANDIR)/man8/vpnd.8 \
	    $(MANDIR)/man8/vpnctl.8 $(MANDIR)/man5/vpnd.conf.5 \
	    $(SYSTEMDUNITDIR)/vpnd@.service \
	    $(EXAMPLES:docs/examples/%=$(DOCDIR)/examples/%)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BIN)/vpnd $(BIN)/vpnctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 docs/vpnd.8 docs/vpnctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/vpnd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/sbin/vpnd|$(SBINDIR)/vpnd|g' systemd/vpnd@.service > \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vpnd@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vpnd@.service
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# vpnd's own directory goes too; shared ones (sbin, man8, the unit
# directory) stay, even when empty, as other packages' do.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)

# make deb: the Debian package (debian/), built in a copy of the tree so
# the work tree's bin/ and build/ are left alone; ../vpnd_*.deb beside it
# is avoided too: the .deb lands in build/deb/.
deb:
	tests/deb-build.sh

# make fuzz: each harness fuzz/fuzz_T.c is compiled with the sources it
# tests by clang into build/fuzz/T, then run for FUZZ_SECONDS on
# build/fuzz/corpus/T (fuzz/corpus/T's seeds plus earlier finds), FUZZ_JOBS
# at a time; fuzz/run.sh prints each one's final stats line.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_CFLAGS   = -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) $(INCS)
FUZZ_TARGETS  = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

FUZZ_CONF     = $(wildcard conf/*.c) crypto/fp.c	# conf/ links as a whole, with the fingerprint syntax

build/fuzz/fuzz_frame:    tunnel/frame.c tunnel/vnet.c $(FUZZ_CONF)	# conf_check_domain checks pushed domains
build/fuzz/fuzz_dtls_msg: tunnel/frame.c server/filter.c $(FUZZ_CONF)
build/fuzz/fuzz_ip:       server/filter.c $(FUZZ_CONF)
build/fuzz/fuzz_ip6:      server/filter.c $(FUZZ_CONF)
build/fuzz/fuzz_conf:     $(FUZZ_CONF) fuzz/scratch.c
build/fuzz/fuzz_allow:    $(FUZZ_CONF) fuzz/scratch.c
build/fuzz/fuzz_ctl:      daemon/ctl.c
build/fuzz/fuzz_vnet:     tunnel/vnet.c
build/fuzz/fuzz_drec:     crypto/drec.c crypto/dtls.c

build/fuzz/%: fuzz/%.c $(wildcard */*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory -j2 fuzz FUZZ_SECONDS=3

analyze:
	scan-build $(MAKE) clean all

clean:
	rm -rf build bin

# make bench: vpnd (DTLS and TLS) beside plain forwarding, OpenVPN,
# wireguard-go and ocserv, in network namespaces, BENCH_ROUNDS interleaved
# rounds (default 3) of BENCH_SECONDS runs (default 5); the table, JSON and
# a chart in build/bench/ (bench/README.md). PROFILE=1: perf profiles of
# both vpnd ends too.
BENCH_SECONDS ?= 5
BENCH_ROUNDS ?= 3
PROFILE ?= 0

bench: all bench-deps
	@BENCH_SECONDS=$(BENCH_SECONDS) BENCH_ROUNDS=$(BENCH_ROUNDS) PROFILE=$(PROFILE) bench/bench.sh

bench-deps:
	@bench/deps.sh

.PHONY: all unit check stress demo deps install uninstall deb fuzz fuzz-smoke analyze clean bench bench-deps
.SECONDARY: $(UNITOBJ)
-include $(DEPS)
