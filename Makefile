# SPDX-License-Identifier: GPL-2.0-only
#
# gmemtrace build. Artifacts go to build/ (static variants for the VM suite
# in build/static/). V=1 shows full commands.
#
#   make            gmemtrace and gmem-workload
#   make demo       install deps, build, trace the built-in workload
#   make test       install deps, build, run unit + live + VM suites
#   make unit | live | vmtest [VM_KERNELS=name] [TESTS=pattern]
#   make fuzz [FUZZ_SECONDS=30]   libFuzzer over policy parse+compile
#   make bpftest    only the BPF tier (bpf/lib on crafted input; part of unit)
#   make bench      overhead benchmark (ratios against a bare baseline)
#   make install | uninstall [PREFIX=/usr/local] [DESTDIR=]
#   make pkgtest    build the Debian package from a copy, lintian, install tests
#   make vmtest-kernel   build the conversion kernels (linux-source-7.3, 7.2 + G3 v8)

OUTPUT		?= build
STATIC_OUT	:= $(OUTPUT)/static
CLANG		?= clang
CC		?= gcc
BPFTOOL		?= bpftool
LLVM_STRIP	?= llvm-strip
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION		:= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

CFLAGS		?= -O2 -g
WARNFLAGS	:= -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes \
		   -Wstrict-prototypes -Wshadow -Wformat=2
CPPFLAGS	+= -Iinclude -I$(OUTPUT) -D_GNU_SOURCE -DGMT_VERSION='"$(VERSION)"'
LDLIBS_BPF	:= -lbpf -ldw -lelf -lz
LDLIBS_JSON	:= -ljson-c
LDLIBS_HTTP	:= -lmicrohttpd -lpthread
# policy files (src/policy): libyaml
LDLIBS_YAML	:= -lyaml
STATIC_LDLIBS	:= -static -l:libbpf.a -l:libdw.a -l:libelf.a -l:libz.a -l:libzstd.a -l:liblzma.a \
		   -l:libbz2.a -l:libjson-c.a -l:libyaml.a -lpthread -ldl

# clang needs the system include dirs for asm/ headers on every distro
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS	:= -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -D__bpf__ -Wall -Werror \
		   -I. -Iinclude -Ibpf $(CLANG_BPF_SYS_INCLUDES)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# BPF objects with a skeleton each; gmemtrace is linked from one unit per
# concern (they share maps), the others from one unit
BPF_OBJS	:= gmemtrace probes refs
GMT_BPF_UNITS	:= uapi kernel_side vm_life holders gup_pins iommu_maps policy
BPF_HDRS	:= $(wildcard bpf/*.bpf.h bpf/lib/*.bpf.h) $(wildcard include/*.h) vmlinux.h
BPF_UNIT_OBJS	:= $(patsubst %,$(OUTPUT)/bpf/%.bpf.o,$(GMT_BPF_UNITS) probes refs)

# gmemtrace sources, one folder a layer (src/README.md): everything but
# main.c is also a library for the unit tests
SRC_DIRS	:= cmd core model output refs policy
SRC_INC		:= $(patsubst %,-Isrc/%,$(SRC_DIRS))
SRC_HDRS	:= $(wildcard src/*/*.h)
GMT_SRCS	:= $(wildcard $(patsubst %,src/%/*.c,$(SRC_DIRS)))
GMT_LIB_SRCS	:= $(filter-out src/cmd/main.c,$(GMT_SRCS))
GMT_OBJS	:= $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(GMT_SRCS))
GMT_LIB_OBJS	:= $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(GMT_LIB_SRCS))
SKELS		:= $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_OBJS))

# gmem-workload, one file a concern (tools/workload/workload.h); the unit
# test links only its pure parts: the options and the guest image
WL_SRCS		:= $(wildcard tools/workload/*.c)
WL_HDRS		:= $(wildcard tools/workload/*.h) $(wildcard include/*.h)
WL_OBJS		:= $(patsubst tools/%.c,$(OUTPUT)/tools/%.o,$(WL_SRCS))
WL_TEST_OBJS	:= $(patsubst %,$(OUTPUT)/tools/workload/%.o,args args_scn args_values guest_image)

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
# BPF tier: bpf/lib functions run with BPF_PROG_TEST_RUN (tests/bpf/README.md)
BPFTEST_PROGS	:= $(patsubst tests/bpf/%.bpf.c,%,$(wildcard tests/bpf/*.bpf.c))
BPFTEST_BINS	:= $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/%,$(filter-out %.bpf.c,$(wildcard tests/bpf/test_*.c)))
UNIT_BINS	+= $(BPFTEST_BINS)
LIVE_SRCS	:= $(filter-out tests/live/live_util.c,$(wildcard tests/live/live_*.c))
LIVE_BINS	:= $(patsubst tests/live/%.c,$(OUTPUT)/tests/%,$(LIVE_SRCS))
LIVE_LIB	:= $(wildcard tests/live/live_util.c)

.DELETE_ON_ERROR:
# the BPF objects and the skeletons are intermediates: keep them (the unit
# tests include the skeletons, so a deleted one breaks them; a bare
# .SECONDARY would also keep make from rebuilding missing objects)
.SECONDARY: $(patsubst %,$(OUTPUT)/%.bpf.o,$(BPF_OBJS)) $(BPF_UNIT_OBJS) $(SKELS) \
	$(patsubst %,$(OUTPUT)/tests/bpf/%.bpf.o,$(BPFTEST_PROGS)) \
	$(patsubst %,$(OUTPUT)/tests/bpf/%.skel.h,$(BPFTEST_PROGS))
.PHONY: all deps demo test unit bpftest fuzz live pkgtest vmtest vmtest-kernel bench static clean install uninstall \
	format format-check vmlinux check-deps

all: $(OUTPUT)/gmemtrace $(OUTPUT)/gmem-workload $(OUTPUT)/gmem-workload.1

# gmem-workload's man page is its --help (argp), so the two never disagree;
# docs/gmem-workload.md has the longer story
$(OUTPUT)/gmem-workload.1: $(OUTPUT)/gmem-workload
	$(call msg,MAN,$@)
	$(Q)help2man --no-info --section=1 --source=gmemtrace \
		--name="drive KVM guest_memfd conversions (gmemtrace's workload)" \
		--output=$@ $(abspath $<)

deps:
	$(Q)scripts/install-deps.sh

check-deps:
	$(Q)scripts/install-deps.sh --check

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/src $(OUTPUT)/tests $(OUTPUT)/tests/bpf $(OUTPUT)/tools \
$(STATIC_OUT) $(STATIC_OUT)/src:
	$(Q)mkdir -p $@

# BPF objects and skeletons: each unit compiled alone, then linked by
# libbpf's static linker (maps shared between units are defined in one and
# extern in the others: bpf/gmt_state.bpf.h)
$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/gmemtrace.bpf.o: $(patsubst %,$(OUTPUT)/bpf/%.bpf.o,$(GMT_BPF_UNITS))
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/%.bpf.o: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# user space
$(OUTPUT)/src/%.o: src/%.c $(SRC_HDRS) $(wildcard include/*.h) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(SRC_INC) -c $< -o $@

$(OUTPUT)/gmemtrace: $(GMT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS_BPF) $(LDLIBS_JSON) $(LDLIBS_HTTP) $(LDLIBS_YAML) -lm

# frame pointers: gmemtrace --holders walks the workload's user stacks by them
$(OUTPUT)/tools/workload/%.o: tools/workload/%.c $(WL_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fno-omit-frame-pointer $(WARNFLAGS) $(CPPFLAGS) -c $< -o $@

$(OUTPUT)/gmem-workload: $(WL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS_JSON) -l:liburing.a

# static variants for the initramfs of the VM suite
$(STATIC_OUT)/src/%.o: src/%.c $(SRC_HDRS) $(wildcard include/*.h) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(SRC_INC) -c $< -o $@

# without export: Debian's libmicrohttpd.a needs GnuTLS, whose static
# dependencies (libp11-kit, libunistring) ship no .a; the VM suite does not
# run the exporter
STATIC_SRCS	:= $(filter-out src/cmd/export.c,$(GMT_SRCS))
$(STATIC_OUT)/gmemtrace: $(patsubst src/%.c,$(STATIC_OUT)/src/%.o,$(STATIC_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(STATIC_LDLIBS) -lm

# the same objects: they are built with the same flags
$(STATIC_OUT)/gmem-workload: $(WL_OBJS) | $(STATIC_OUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WL_OBJS) -o $@ -static -l:libjson-c.a -l:liburing.a

# the kernel-side pins benchmark, for the VM rows (TESTS=bench_pins runs it)
$(STATIC_OUT)/gmt-bench-pins: bench/gmt-bench-pins.c bench/empty_pins.bpf.c | $(STATIC_OUT)
	$(Q)$(MAKE) -s -C bench OUTPUT=$(abspath $(OUTPUT)) $(abspath $(OUTPUT))/bench/gmt-bench-pins.static
	$(Q)cp $(OUTPUT)/bench/gmt-bench-pins.static $@

static: $(STATIC_OUT)/gmemtrace $(STATIC_OUT)/gmem-workload $(STATIC_OUT)/gmt-bench-pins $(LIVE_BINS)

# tests: cmocka unit tests link the gmemtrace library objects
$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(GMT_LIB_OBJS) | $(OUTPUT)/tests $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(SRC_INC) $^ -o $@ -lcmocka \
		$(LDLIBS_BPF) $(LDLIBS_JSON) $(LDLIBS_HTTP) $(LDLIBS_YAML) -lm

# links gmem-workload's option and guest image objects, not gmemtrace's
$(OUTPUT)/tests/test_workload_args: tests/unit/test_workload_args.c $(WL_TEST_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) -Itools/workload $^ -o $@ -lcmocka

# the BPF tier: a test object per tests/bpf/*.bpf.c (bpf/lib functions in
# SEC("syscall") programs), its skeleton, and a cmocka runner
$(OUTPUT)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/tests/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/tests/bpf/%.skel.h: $(OUTPUT)/tests/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/tests/test_bpf_%: tests/bpf/test_bpf_%.c $(patsubst %,$(OUTPUT)/tests/bpf/%.skel.h,$(BPFTEST_PROGS)) \
		$(GMT_LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) -I$(OUTPUT)/tests/bpf $(SRC_INC) \
		$(filter %.c %.o,$^) -o $@ -lcmocka $(LDLIBS_BPF) $(LDLIBS_JSON) $(LDLIBS_HTTP) $(LDLIBS_YAML) -lm

bpftest: all $(BPFTEST_BINS)
	$(Q)GMT_TESTS='^test_bpf_' tests/run.sh unit $(OUTPUT)

# refs' live tests share a holding workload and the record helpers
$(OUTPUT)/tests/live_refs $(OUTPUT)/tests/live_refs_holders $(OUTPUT)/tests/live_vfio_refs: tests/live/refs_util.c
# the policy hook benchmark loads gmemtrace's own hook: its skeleton and libbpf
# and the policy compiler's index (src/policy/index.c)
$(OUTPUT)/tests/live_bench_policy: tests/live/live_bench_policy.c $(LIVE_LIB) src/policy/index.c \
		$(OUTPUT)/gmemtrace.skel.h $(wildcard tests/live/*.h) $(wildcard include/*.h) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) -Isrc/policy -Itests/live $(filter %.c,$^) -o $@ \
		-lcmocka $(LDLIBS_JSON) $(LDLIBS_BPF)

$(OUTPUT)/tests/live_%: tests/live/live_%.c $(LIVE_LIB) $(wildcard tests/live/*.h) $(wildcard include/*.h) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNFLAGS) $(CPPFLAGS) $(SRC_INC) -Itests/live $(filter %.c,$^) -o $@ \
		-lcmocka $(LDLIBS_JSON) $(LIVE_BPF_LIBS)

# live tests that load a BPF program of their own (a test LSM program,
# empty programs on the iommu tracepoints)
$(OUTPUT)/tests/live_enforce_rules $(OUTPUT)/tests/live_bench_iommu: LIVE_BPF_LIBS := -lbpf -lelf -lz

# libFuzzer over the policy parser (tests/fuzz): clang's fuzzer, ASan and
# UBSan (libclang-rt-14-dev); the corpus in the tree is the seed, new
# inputs go to build/fuzz/corpus
FUZZ_SECONDS	?= 30
# parse and compile only: pin.c and live.c talk to the kernel
FUZZ_SRCS	:= tests/fuzz/fuzz_policy.c \
		   $(filter-out src/policy/pin.c src/policy/live.c,$(wildcard src/policy/*.c)) src/cmd/parse.c
FUZZ_CFLAGS	:= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		   -Iinclude -Isrc/policy -Isrc/cmd -D_GNU_SOURCE $(WARNFLAGS)

$(OUTPUT)/fuzz/fuzz_policy: $(FUZZ_SRCS) $(wildcard src/policy/*.h) include/gmt_policy.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SRCS) -o $@ $(LDLIBS_YAML) $(LDLIBS_JSON)

fuzz: $(OUTPUT)/fuzz/fuzz_policy
	$(Q)GMT_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz $(OUTPUT)

demo: deps all
	$(Q)scripts/demo.sh $(OUTPUT)

unit: all $(UNIT_BINS)
	$(Q)tests/run.sh unit $(OUTPUT)

live: all $(LIVE_BINS)
	$(Q)tests/run.sh live $(OUTPUT)

# the Debian package and make install/uninstall (tests/pkg/test-package.sh;
# root for the features and sandbox checks; part of make test)
pkgtest: all
	$(Q)tests/run.sh pkg $(OUTPUT)

vmtest: all static
	$(Q)tests/run.sh vm $(OUTPUT)

# The README's test command: everything a clean machine can run.
test: deps all static $(UNIT_BINS) $(LIVE_BINS) $(OUTPUT)/fuzz/fuzz_policy
	$(Q)tests/run.sh all $(OUTPUT)

vmtest-kernel:
	$(Q)tests/vm/build-kernel.sh $(foreach k,$(VM_KERNELS),--kernel $(k))

bench: all
	$(Q)$(MAKE) -s -C bench OUTPUT=$(abspath $(OUTPUT))

vmlinux:
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

# .clang-format states the style; aligned tables written by hand stay as they
# are, so only the lines a change touches are formatted
format:
	$(Q)git clang-format --style=file $(if $(BASE),$(BASE),HEAD) -- '*.c' '*.h'

format-check:
	$(Q)out=$$(git clang-format --style=file --diff $(if $(BASE),$(BASE),HEAD) -- '*.c' '*.h'); \
	case "$$out" in ''|*"no modified files"*|*"did not modify"*) echo "format: clean" ;; \
	*) echo "$$out"; exit 1 ;; esac

# make install [PREFIX=/usr/local] [DESTDIR=]; make uninstall removes
# exactly the files install installed and gmemtrace's own doc directory
# (shared directories such as sbin/ stay). Units go to
# $(PREFIX)/lib/systemd/system, which systemd searches for /usr/local too
# (the Debian package passes SYSTEMDUNITDIR=/lib/systemd/system); their
# @SBINDIR@ is replaced as they are installed. /etc is not touched: the
# unit's options file /etc/default/gmemtrace is optional, a commented copy
# goes to $(DOCDIR)/examples.
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/gmemtrace
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
UNITS		:= gmemtrace-export.service
DOC_FILES	:= README.md $(wildcard docs/*.md)
# example policies (issue 10), installed when the directory exists
POLICY_FILES	:= $(shell find docs/policies -type f 2>/dev/null | sort)

install: all
	install -D -m 0755 $(OUTPUT)/gmemtrace $(DESTDIR)$(SBINDIR)/gmemtrace
	install -D -m 0755 $(OUTPUT)/gmem-workload $(DESTDIR)$(BINDIR)/gmem-workload
	install -D -m 0644 docs/gmemtrace.8 $(DESTDIR)$(MANDIR)/man8/gmemtrace.8
	install -D -m 0644 $(OUTPUT)/gmem-workload.1 $(DESTDIR)$(MANDIR)/man1/gmem-workload.1
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 0644 systemd/gmemtrace.default $(DESTDIR)$(DOCDIR)/examples/gmemtrace.default
	for f in $(POLICY_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DOCDIR)/examples/policies/$${f#docs/policies/} || exit 1; \
	done
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/$$u.in > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/gmemtrace $(DESTDIR)$(BINDIR)/gmem-workload \
		$(DESTDIR)$(MANDIR)/man8/gmemtrace.8 $(DESTDIR)$(MANDIR)/man1/gmem-workload.1 \
		$(patsubst %,$(DESTDIR)$(SYSTEMDUNITDIR)/%,$(UNITS))
	rm -f $(patsubst %,$(DESTDIR)$(DOCDIR)/%,$(notdir $(DOC_FILES))) \
		$(DESTDIR)$(DOCDIR)/examples/gmemtrace.default \
		$(patsubst docs/policies/%,$(DESTDIR)$(DOCDIR)/examples/policies/%,$(POLICY_FILES))
	if [ -d $(DESTDIR)$(DOCDIR) ]; then find $(DESTDIR)$(DOCDIR) -depth -type d -empty -delete; fi

clean:
	$(Q)rm -rf $(OUTPUT)
