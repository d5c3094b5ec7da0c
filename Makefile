# accessmon: eBPF runtime access monitor for AKS nodes.
#
#   make          build build/accessmon (BPF objects embedded through a libbpf skeleton)
#   make run      install missing Debian packages, build, run the monitor on this host
#   make test     install missing Debian packages, build, run every test (the kernel
#                 matrix's smoke among them: Debian's 5.10, 6.1 and 6.12 in qemu)
#   make vmtest   the kernel matrix in full (tests/vm/run.sh full)
#   make deps     only install missing Debian packages
#   make vmlinux  regenerate bpf/vmlinux/<arch>/vmlinux.h from this machine's kernel BTF
#
# V=1 shows full commands. DESTDIR and prefix apply to `make install`.

BUILD ?= build
ARCH ?= $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)
prefix ?= /usr/local
DESTDIR ?=

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

Q := $(if $(V),,@)
msg = $(if $(V),,@printf '  %-8s %s\n' '$(1)' '$(2)';)

# Debian packages: to build, and additionally to test.
BUILD_PACKAGES := gcc make clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev \
	libcjson-dev libcurl4-openssl-dev
# Also node and npm (the manifest validator) and kubectl (kustomize): checked by
# command, since they may come from elsewhere than Debian; installed from Debian if missing.
TEST_PACKAGES := libcmocka-dev valgrind curl jq iproute2 python3 util-linux libcap2-bin procps \
	openssl libclang-rt-14-dev strace
# tests/vm (other kernels under qemu): qemu, a static busybox for the guest's
# initramfs, kmod (depmod and modprobe order the guest's modules), xz and zstd
# (compressed kernels and modules).
# Installed without their recommends (qemu's would be some 170 packages more).
VM_PACKAGES := qemu-system-x86 busybox-static kmod xz-utils zstd

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# SANITIZE=1 builds everything (the monitor too) under ASan and UBSan.
ifdef SANITIZE
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
CFLAGS += -std=gnu11 $(WARNINGS) -MMD -MP -D_GNU_SOURCE -DACCESSMON_VERSION='"$(VERSION)"' \
	-Iinclude -Iuser -I$(BUILD)
LDLIBS := -lbpf -lelf -lz -lcjson -lcurl -lpthread
UNIT_LDLIBS := -lcmocka -lcjson -lcurl -lbpf -lelf -lpthread -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	-Iinclude -Ibpf -Ibpf/vmlinux/$(ARCH)

# maps.bpf.o first: libbpf 1.1's linker resolves the extern maps of later objects
# only against a definition it has already seen.
BPF_SOURCES := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJECTS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SOURCES))
SKELETON := $(BUILD)/accessmon.skel.h

# Modules are found by folder: user/<stage>/<module>.c (README, "Map of the code").
# kernel/ talks to the kernel (libbpf, the skeleton). Unit tests link an archive of
# every module, fuzz targets an archive of all but kernel/ (built with clang): a
# binary pulls from an archive only the modules it uses.
USER_SOURCES := $(wildcard user/*/*.c)
KERNEL_SOURCES := $(wildcard user/kernel/*.c)
LIB_SOURCES := $(USER_SOURCES)
PURE_SOURCES := $(filter-out $(KERNEL_SOURCES),$(USER_SOURCES))
objects_in = $(patsubst user/%.c,$(1)/%.o,$(2))
APP_OBJECTS := $(call objects_in,$(BUILD)/obj,$(USER_SOURCES))
LIB_ARCHIVE := $(BUILD)/libaccessmon.a
SAN_ARCHIVE := $(BUILD)/san/libaccessmon.a
FUZZ_ARCHIVE := $(BUILD)/fuzz/libaccessmon.a

# tests/unit mirrors user/: tests/unit/<stage>/test_<name>.c; the binaries are flat.
UNIT_SOURCES := $(wildcard tests/unit/*/test_*.c)
UNIT_TESTS := $(notdir $(basename $(UNIT_SOURCES)))
UNIT_BINS := $(patsubst %,$(BUILD)/tests/%,$(UNIT_TESTS))
SAN_BINS := $(patsubst %,$(BUILD)/san/tests/%,$(UNIT_TESTS))
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# libFuzzer targets: name -> source, and the -D that picks a JSON document kind.
FUZZ_TARGETS := dns http flows tls podlist bundle azure_json service_tags policy identities config \
	trace
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_SECONDS ?= 300
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))

.PHONY: all run test check unit e2e vm deps vmlinux clean install bench fuzz fuzz-build
# Keep intermediate objects (the sanitizer build) between runs.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BUILD)/accessmon

$(BUILD)/bpf $(BUILD)/tests $(BUILD)/tests/helpers $(BUILD)/san/tests:
	$(Q)mkdir -p $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.bpf.h include/accessmon.h | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One object from all probes, maps declared once in bpf/maps.bpf.h.
$(BUILD)/accessmon.bpf.o: $(BPF_OBJECTS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKELETON): $(BUILD)/accessmon.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name accessmon_bpf > $@.tmp && mv $@.tmp $@

$(call objects_in,$(BUILD)/obj,$(KERNEL_SOURCES)) $(call objects_in,$(BUILD)/san/obj,$(KERNEL_SOURCES)): $(SKELETON)

# The objects that print the version are rebuilt when it changes (a new commit).
VERSION_STAMP := $(BUILD)/version.stamp
$(VERSION_STAMP): FORCE
	$(Q)mkdir -p $(@D) && [ "$$(cat $@ 2>/dev/null)" = "$(VERSION)" ] || echo "$(VERSION)" > $@
$(call objects_in,$(BUILD)/obj,$(shell grep -l ACCESSMON_VERSION $(USER_SOURCES))): $(VERSION_STAMP)
.PHONY: FORCE
FORCE:

# The archives are rebuilt when a module comes or goes, not only when one changes.
MODULES_STAMP := $(BUILD)/modules.stamp
$(MODULES_STAMP): FORCE
	$(Q)mkdir -p $(@D) && [ "$$(cat $@ 2>/dev/null)" = "$(USER_SOURCES)" ] || echo "$(USER_SOURCES)" > $@

$(BUILD)/obj/%.o: user/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/accessmon: $(APP_OBJECTS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(LIB_ARCHIVE): $(call objects_in,$(BUILD)/obj,$(LIB_SOURCES)) $(MODULES_STAMP)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(BUILD)/san/obj/%.o: user/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN_ARCHIVE): $(call objects_in,$(BUILD)/san/obj,$(LIB_SOURCES)) $(MODULES_STAMP)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

# Unit tests: each links the archive; the sanitizer build compiles them again. Their
# dependency files are kept by source path (deps/<folder>/test_x.d) and only those
# of today's sources are read: a test moved to another folder keeps its binary's
# name, and a stale file naming its old path would stop the build.
UNIT_DEPS = $(BUILD)/$(1)deps/$(patsubst tests/unit/%.c,%.d,$(2))
define unit_test
$(BUILD)/tests/$(notdir $(basename $(1))): $(1) $(LIB_ARCHIVE) | $(BUILD)/tests
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(dir $(call UNIT_DEPS,tests/,$(1)))
	$$(Q)$$(CC) $$(CFLAGS) -MF $(call UNIT_DEPS,tests/,$(1)) -Itests/unit $$< $(LIB_ARCHIVE) $$(UNIT_LDLIBS) -o $$@

$(BUILD)/san/tests/$(notdir $(basename $(1))): $(1) $(SAN_ARCHIVE) | $(BUILD)/san/tests
	$$(call msg,CC-SAN,$$@)
	$$(Q)mkdir -p $$(dir $(call UNIT_DEPS,san/tests/,$(1)))
	$$(Q)$$(CC) $$(CFLAGS) $$(SAN_FLAGS) -MF $(call UNIT_DEPS,san/tests/,$(1)) -Itests/unit $$< $(SAN_ARCHIVE) $$(UNIT_LDLIBS) -o $$@
endef
$(foreach source,$(UNIT_SOURCES),$(eval $(call unit_test,$(source))))

$(BUILD)/tests/helpers/%: tests/helpers/%.c | $(BUILD)/tests/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# BPF program tests (tests/bpf/test_<source>.c beside bpf/<source>.bpf.c): the
# monitor's own skeleton, loaded program set by program set, and the packet
# programs run with BPF_PROG_TEST_RUN. They link the archive for kernel/'s feature
# probe, which decides the globals set before load as the monitor does.
BPF_TEST_SOURCES := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPF_TEST_SOURCES))

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(SKELETON) $(LIB_ARCHIVE)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $< $(LIB_ARCHIVE) $(UNIT_LDLIBS) -o $@
-include $(wildcard $(BUILD)/tests/bpf/*.d)

# Installs whichever of the Debian packages are missing; needs root only then.
deps:
	$(Q)missing=""; vm_missing=""; \
	for p in $(BUILD_PACKAGES) $(if $(filter build,$(DEPS)),,$(TEST_PACKAGES)); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ "$(DEPS)" != build ]; then \
		command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
		command -v kubectl >/dev/null || missing="$$missing kubernetes-client"; \
		for p in $(VM_PACKAGES); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || vm_missing="$$vm_missing $$p"; \
		done; \
	fi; \
	if [ -n "$$missing$$vm_missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "accessmon: missing Debian packages:$$missing$$vm_missing; run 'make deps' as root" >&2; exit 1; \
		fi; \
		echo "installing Debian packages:$$missing$$vm_missing"; \
		apt-get update -qq || exit 1; \
		[ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		[ -z "$$vm_missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$vm_missing >/dev/null || exit 1; \
	fi

RUN_ARGS ?= --events --format text

run:
	$(Q)$(MAKE) --no-print-directory deps DEPS=build
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/accessmon monitor $(RUN_ARGS)

test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory check

check: $(BUILD)/accessmon $(UNIT_BINS) $(SAN_BINS) $(BPF_TEST_BINS) $(HELPERS) $(FUZZ_BINS) \
	deploy-check-deps
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=5 tests/run.sh

unit: $(UNIT_BINS) $(SAN_BINS)
	$(Q)BUILD=$(BUILD) tests/run.sh unit

e2e: $(BUILD)/accessmon $(HELPERS)
	$(Q)BUILD=$(BUILD) tests/run.sh e2e

vm: $(BUILD)/accessmon $(HELPERS)
	$(Q)BUILD=$(BUILD) tests/run.sh vm

# Debian's kernels for tests/vm (5.10, 6.1, 6.12) into $(BUILD)/vm/kernels; a
# second run only checks that they are current. tests/vm/selftest.sh boots them.
.PHONY: vmtest-fetch vmtest
vmtest-fetch:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)tests/vm/fetch-kernels.sh $(BUILD)/vm/kernels

# The kernel matrix in full: the e2e suites that touch every probe, on each kernel
# (make test runs its smoke). VM_SUITES=bullseye limits it to some kernels.
vmtest:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/accessmon $(HELPERS)
	$(Q)BUILD=$(BUILD) tests/vm/run.sh full $(VM_SUITES)

$(BUILD)/fuzz/obj/%.o: user/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(filter-out -Wformat=2,$(CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

FUZZ_OBJECTS := $(FUZZ_ARCHIVE)
$(FUZZ_ARCHIVE): $(call objects_in,$(BUILD)/fuzz/obj,$(PURE_SOURCES)) $(MODULES_STAMP)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(BUILD)/fuzz/fuzz_dns: fuzz/fuzz_dns.c $(FUZZ_OBJECTS)
$(BUILD)/fuzz/fuzz_http: fuzz/fuzz_http.c $(FUZZ_OBJECTS)
$(BUILD)/fuzz/fuzz_flows: fuzz/fuzz_flows.c $(FUZZ_OBJECTS)
$(BUILD)/fuzz/fuzz_tls: fuzz/fuzz_tls.c $(FUZZ_OBJECTS)
$(BUILD)/fuzz/fuzz_trace: fuzz/fuzz_trace.c $(FUZZ_OBJECTS)
$(BUILD)/fuzz/fuzz_podlist: FUZZ_KIND := -DFUZZ_JSON_KIND=1
$(BUILD)/fuzz/fuzz_bundle: FUZZ_KIND := -DFUZZ_JSON_KIND=2
$(BUILD)/fuzz/fuzz_azure_json: FUZZ_KIND := -DFUZZ_JSON_KIND=3
$(BUILD)/fuzz/fuzz_service_tags: FUZZ_KIND := -DFUZZ_JSON_KIND=4
$(BUILD)/fuzz/fuzz_policy: FUZZ_KIND := -DFUZZ_JSON_KIND=5
$(BUILD)/fuzz/fuzz_identities: FUZZ_KIND := -DFUZZ_JSON_KIND=6
$(BUILD)/fuzz/fuzz_config: FUZZ_KIND := -DFUZZ_JSON_KIND=7
$(BUILD)/fuzz/fuzz_podlist $(BUILD)/fuzz/fuzz_bundle $(BUILD)/fuzz/fuzz_azure_json $(BUILD)/fuzz/fuzz_service_tags $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_identities $(BUILD)/fuzz/fuzz_config: fuzz/fuzz_json_inputs.c $(FUZZ_OBJECTS)

# The targets' own sources include the modules' headers: a changed header rebuilds them.
$(FUZZ_BINS): $(wildcard user/*/*.h) include/accessmon.h
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $(FUZZ_KIND) -Iinclude -Iuser -D_GNU_SOURCE $(filter %.c %.a,$^) -lcjson -lz -o $@

fuzz-build: $(FUZZ_BINS)

# Long fuzzing runs: FUZZ_SECONDS per target (make test runs each briefly).
fuzz:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

# The manifests and image: deploy-check (render, schema-validate, image build context).
include tests/deploy/deploy.mk

# Benchmarks (bench/run.sh): the workload loop, and the floor: empty BPF programs on
# the monitor's hooks, loaded through a skeleton of their own.
BENCH_PACKAGES := bpftrace gnuplot-nox iproute2 jq util-linux procps curl
BENCH_BINS := $(BUILD)/bench/loop $(BUILD)/bench/floor

$(BUILD)/bench/loop: bench/loop.c
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c
	$(Q)mkdir -p $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/floor.skel.h: $(BUILD)/bench/floor.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/floor: bench/floor.c $(BUILD)/bench/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/bench $< -lbpf -lelf -lz -o $@

# Benchmarks: what the monitor costs other workloads, against a same-run baseline,
# the floor and bpftrace. BENCH_ONLY=SECTION runs one section; REPS repetitions.
bench:
	$(Q)$(MAKE) --no-print-directory deps DEPS=build
	$(Q)missing=""; \
	for p in $(BENCH_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(Q)$(MAKE) --no-print-directory $(BUILD)/accessmon $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bench/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux/$(ARCH)/vmlinux.h

install: $(BUILD)/accessmon
	install -D -m 0755 $(BUILD)/accessmon $(DESTDIR)$(prefix)/bin/accessmon

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/san/obj/*/*.d $(BUILD)/tests/helpers/*.d $(BUILD)/fuzz/obj/*/*.d)
-include $(wildcard $(foreach source,$(UNIT_SOURCES),$(call UNIT_DEPS,tests/,$(source)) $(call UNIT_DEPS,san/tests/,$(source))))
