# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of virtio_snd_rs.ko.
#
#   make                      build against the bench kernel (scripts/setup.sh builds it)
#   make KDIR=/path/to/build  build against any Rust-enabled 7.2 kernel build tree
#   make rust-analyzer        write rust-project.json for editors
#   make fmt / fmt-check      rustfmt with the kernel's .rustfmt.toml
#   make host-test            cargo test of the pure logic (src/spec/)
#   make clean
#
# The module lands at src/virtio_snd_rs.ko.

KDIR ?= $(shell scripts/bench-env.sh KDIR)
KSRC ?= $(shell scripts/bench-env.sh KSRC)
RUSTC ?= $(shell scripts/bench-env.sh RUSTC)
BINDGEN ?= $(shell scripts/bench-env.sh BINDGEN)
export LIBCLANG_PATH ?= $(shell scripts/bench-env.sh LIBCLANG_PATH)

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) RUSTC=$(RUSTC) HOSTRUSTC=$(RUSTC) BINDGEN=$(BINDGEN)
RUST_SOURCES = $(shell find src host -name '*.rs' ! -name '*_generated.rs')

.PHONY: all modules clean rust-analyzer fmt fmt-check host-test modules_install

all: modules

modules:
	$(KMAKE) W=1 modules

modules_install: modules
	$(KMAKE) modules_install

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
