# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of virtio_snd_rs.ko.
#
#   make                      build against the bench kernel (scripts/setup.sh builds it)
#   make KDIR=/path/to/build  build against any Rust-enabled 7.2 or 7.3 kernel build tree
#   make rust-analyzer        write rust-project.json for editors
#   make fmt / fmt-check      rustfmt with the kernel's .rustfmt.toml
#   make host-test            cargo test of the pure logic (src/spec/)
#   make modules_install      install into $(INSTALL_MOD_PATH)/lib/modules/RELEASE/updates/
#   make install              the same (KDIR and INSTALL_MOD_PATH are honoured)
#   make dkms-src             copy the DKMS source into $(DESTDIR)$(DKMS_SOURCE_TREE)/NAME-VERSION
#   make dkms-modules         what DKMS runs: `modules` against KDIR, or, for a headers package
#                             without the Rust metadata, against the build directory that
#                             scripts/dkms-prepare.sh makes for it
#   make clean
#
# The module lands at src/virtio_snd_rs.ko.

ifneq ($(wildcard scripts/bench-env.sh),)
KDIR ?= $(shell scripts/bench-env.sh KDIR)
KSRC ?= $(shell scripts/bench-env.sh KSRC)
RUSTC ?= $(shell scripts/bench-env.sh RUSTC)
BINDGEN ?= $(or $(wildcard $(shell scripts/bench-env.sh BINDGEN)),bindgen)
export LIBCLANG_PATH ?= $(shell scripts/bench-env.sh LIBCLANG_PATH)
else
# A DKMS source tree (make dkms-src) has no bench scripts: the running kernel, and rustc
# and bindgen from PATH unless RUSTC, BINDGEN (and LIBCLANG_PATH) are set.
KDIR ?= /lib/modules/$(shell uname -r)/build
KSRC ?= $(KDIR)
RUSTC ?= rustc
BINDGEN ?= bindgen
endif

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) RUSTC=$(RUSTC) HOSTRUSTC=$(RUSTC) BINDGEN=$(BINDGEN)
RUST_SOURCES = $(shell find src host -name '*.rs' ! -name '*_generated.rs')

.PHONY: all modules dkms-modules clean rust-analyzer fmt fmt-check host-test modules_install install dkms-src

all: modules

modules:
	$(KMAKE) W=1 modules

# A distribution's headers lack the kernel crates' metadata: scripts/dkms-prepare.sh rebuilds
# it (once per kernel, cached) with the kernel's own rustc and source, or refuses.
dkms-modules:
	@k=$$(RUSTC='$(RUSTC)' BINDGEN='$(BINDGEN)' scripts/dkms-prepare.sh '$(KDIR)') && \
	$(MAKE) KDIR="$$k" modules

modules_install: modules
	$(KMAKE) modules_install

install: modules_install

# The files DKMS needs (dkms.conf's PACKAGE_NAME and PACKAGE_VERSION name the directory).
DKMS_SOURCE_TREE ?= /usr/src
DKMS_NAME = $(shell sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
DKMS_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_FILES = dkms.conf Makefile Kbuild Kconfig scripts/dkms-prepare.sh modprobe.d/virtio-snd-rs.conf $(shell find src -type f \( -name '*.rs' \
	-o -name '*.c' -o -name '*.h' -o -name Kbuild -o -name bindgen_parameters \) \
	! -name '*_generated.rs' ! -name '*.mod.c' | sort)
dkms-src:
	@d='$(DESTDIR)$(DKMS_SOURCE_TREE)/$(DKMS_NAME)-$(DKMS_VERSION)'; \
	rm -rf "$$d" && mkdir -p "$$d" && \
	for f in $(DKMS_FILES); do install -D -m 0644 "$$f" "$$d/$$f" || exit 1; done && \
	chmod 0755 "$$d/scripts/dkms-prepare.sh" && \
	echo "$$d"

clean:
	$(KMAKE) clean
	rm -f src/sys/bindings_generated.rs

rust-analyzer:
	$(KMAKE) rust-analyzer

fmt:
	rustfmt --config-path $(KSRC)/.rustfmt.toml --edition 2021 $(RUST_SOURCES)

fmt-check:
	rustfmt --check --config-path $(KSRC)/.rustfmt.toml --edition 2021 $(RUST_SOURCES)

host-test:
	cargo test --quiet
