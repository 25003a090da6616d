// SPDX-License-Identifier: GPL-2.0

//! `chmap_info`: see `virtio_snd_spec::fuzz_api::chmap_info` (host/fuzz_api.rs).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| virtio_snd_spec::fuzz_api::chmap_info(data));
