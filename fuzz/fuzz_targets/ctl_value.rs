// SPDX-License-Identifier: GPL-2.0

//! `ctl_value`: see `virtio_snd_spec::fuzz_api::ctl_value` (host/fuzz_api.rs).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| virtio_snd_spec::fuzz_api::ctl_value(data));
