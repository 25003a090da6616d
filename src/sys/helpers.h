/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for the `static inline` functions and macros that Rust cannot call.
 * Each one is a one-line wrapper; all logic stays in Rust.
 */
#ifndef VIRTIO_SND_RS_HELPERS_H
#define VIRTIO_SND_RS_HELPERS_H

#include <linux/spinlock.h>
#include <linux/types.h>

struct scatterlist;
struct snd_pcm_substream;
struct virtio_device;
struct virtqueue;
struct virtqueue_info;

int rsnd_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			 struct virtqueue *vqs[], struct virtqueue_info infos[]);
void rsnd_virtio_del_vqs(struct virtio_device *vdev);
void rsnd_virtio_synchronize_cbs(struct virtio_device *vdev);
void rsnd_virtio_device_ready(struct virtio_device *vdev);
bool rsnd_virtio_has_feature(const struct virtio_device *vdev, unsigned int fbit);
u32 rsnd_virtio_cread_le32(struct virtio_device *vdev, unsigned int offset);

unsigned long rsnd_spin_lock_irqsave(spinlock_t *lock);
bool rsnd_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags);
void rsnd_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
void rsnd_spin_lock_init(spinlock_t *lock, const char *name,
			 struct lock_class_key *key);


struct snd_pcm_hw_params;
void *rsnd_pcm_substream_chip(struct snd_pcm_substream *substream);
int rsnd_params_format(const struct snd_pcm_hw_params *p);
unsigned int rsnd_params_interval_min(const struct snd_pcm_hw_params *p, int var);

struct snd_dma_buffer;
int rsnd_dma_alloc_vmalloc(size_t size, struct snd_dma_buffer *dmab);
void rsnd_dma_free_vmalloc(struct snd_dma_buffer *dmab);
bool rsnd_is_vmalloc_addr(const void *addr);
void rsnd_sg_set_vmalloc_page(struct scatterlist *sg, const void *addr,
			      unsigned int len);
void rsnd_pcm_set_runtime_buffer(struct snd_pcm_substream *substream,
				 struct snd_dma_buffer *dmab);
bool rsnd_pcm_no_period_wakeup(const struct snd_pcm_substream *substream);

struct ratelimit_state;
void rsnd_ratelimit_init(struct ratelimit_state *rs, unsigned int interval_ms,
			 unsigned int burst);

#endif /* VIRTIO_SND_RS_HELPERS_H */
