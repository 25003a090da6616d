// SPDX-License-Identifier: GPL-2.0

//! `status`: see `virtio_snd_spec::fuzz_api::status` (host/fuzz_api.rs).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| virtio_snd_spec::fuzz_api::status(data));
