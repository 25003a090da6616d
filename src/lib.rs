// SPDX-License-Identifier: GPL-2.0

//! A virtio-snd guest driver (virtio device ID 25).
//!
//! Layout, from the bottom up:
//! - [`sys`]: module-local bindgen output and C helpers (the only raw FFI);
//! - [`sync`], [`ratelimit`], [`dma`], [`virtio`], [`alsa`]: safe abstractions, in the style
//!   of `rust/kernel/`, and [`errno`], the error codes that the kernel crate does not name;
//! - [`spec`]: pure logic (wire format, tables, translation), host-tested with `cargo test`;
//! - [`snd`]: the driver, written against the abstractions only;
//! - [`compat`]: what differs between the kernels the module builds against (7.2, 7.3).

mod alsa;
mod compat;
mod dma;
mod errno;
mod snd;
// The host build (`host/lib.rs`) tests every item; the driver uses a subset of them.
mod ratelimit;
#[expect(dead_code)]
mod spec;
mod sync;
mod sys;
mod timer;
mod virtio;

virtio::module_virtio_driver! {
    type: snd::VirtioSnd,
    name: "virtio_snd_rs",
    authors: ["The virtio-snd-rs developers"],
    description: "Virtio sound driver (Rust): ALSA card for virtio-snd devices",
    license: "GPL",
    params: {
        msg_timeout_ms: u32 {
            default: 1000,
            description: "Timeout of a control request, in ms (1..=60000)",
        },
        pcm_buffer_ms: u32 {
            default: 160,
            description: "Largest PCM buffer, in ms of audio at the stream's largest format (1..=10000)",
        },
        pcm_periods_min: u32 {
            default: 2,
            description: "Fewest periods per buffer (2..=pcm_periods_max)",
        },
        pcm_periods_max: u32 {
            default: 16,
            description: "Most periods per buffer (pcm_periods_min..=1024)",
        },
        pcm_period_us_min: u32 {
            default: 1000,
            description: "Shortest period, in us (1..=pcm_period_ms_max*1000)",
        },
        defer_kicks: u32 {
            default: 1,
            description: "1 (default): announce new periods to the device in batches of half a buffer (half the kicks; the device always knows of the period it plays and the next); 0: at once",
        },
        poll: u32 {
            default: 0,
            description: "0: the device interrupts for every used period; 1: no interrupts while a stream runs, a timer polls at the period rate (the default of each substream's Playback/Capture Polling Switch element)",
        },
        pcm_period_ms_max: u32 {
            default: 80,
            description: "Longest period, in ms (1..=pcm_buffer_ms)",
        },
    },
}
