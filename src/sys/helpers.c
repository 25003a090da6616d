// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for the `static inline` functions and macros that Rust cannot call.
 * Only the safe abstractions (`src/virtio/`, `src/alsa/`, `src/sync.rs`,
 * `src/ratelimit.rs`, through `crate::sys`) call these.
 */

#include "bindings_helper.h"

int rsnd_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			 struct virtqueue *vqs[], struct virtqueue_info infos[])
{
	return virtio_find_vqs(vdev, nvqs, vqs, infos, NULL);
}

void rsnd_virtio_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

void rsnd_virtio_synchronize_cbs(struct virtio_device *vdev)
{
	virtio_synchronize_cbs(vdev);
}

void rsnd_virtio_device_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

bool rsnd_virtio_has_feature(const struct virtio_device *vdev, unsigned int fbit)
{
	return virtio_has_feature(vdev, fbit);
}

u32 rsnd_virtio_cread_le32(struct virtio_device *vdev, unsigned int offset)
{
	__le32 v;

	vdev->config->get(vdev, offset, &v, sizeof(v));
	return le32_to_cpu(v);
}

unsigned long rsnd_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

bool rsnd_spin_trylock_irqsave(spinlock_t *lock, unsigned long *flags)
{
	return spin_trylock_irqsave(lock, *flags);
}

void rsnd_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

void rsnd_spin_lock_init(spinlock_t *lock, const char *name,
			 struct lock_class_key *key)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	__raw_spin_lock_init(spinlock_check(lock), name, key, LD_WAIT_CONFIG);
#else
	spin_lock_init(lock);
#endif
}

void *rsnd_pcm_substream_chip(struct snd_pcm_substream *substream)
{
	return snd_pcm_substream_chip(substream);
}

int rsnd_params_format(const struct snd_pcm_hw_params *p)
{
	return (__force int)params_format(p);
}

unsigned int rsnd_params_interval_min(const struct snd_pcm_hw_params *p, int var)
{
	return hw_param_interval_c(p, var)->min;
}

int rsnd_dma_alloc_vmalloc(size_t size, struct snd_dma_buffer *dmab)
{
	return snd_dma_alloc_dir_pages(SNDRV_DMA_TYPE_VMALLOC, NULL,
				       DMA_BIDIRECTIONAL, size, dmab);
}

void rsnd_dma_free_vmalloc(struct snd_dma_buffer *dmab)
{
	kvfree_atomic(dmab->area);
}

bool rsnd_is_vmalloc_addr(const void *addr)
{
	return is_vmalloc_addr(addr);
}

void rsnd_sg_set_vmalloc_page(struct scatterlist *sg, const void *addr,
			      unsigned int len)
{
	sg_set_page(sg, vmalloc_to_page(addr), len, offset_in_page(addr));
}

void rsnd_pcm_set_runtime_buffer(struct snd_pcm_substream *substream,
				 struct snd_dma_buffer *dmab)
{
	snd_pcm_set_runtime_buffer(substream, dmab);
}

/* A bitfield of the runtime: bindgen's accessors would need a reference to it. */
bool rsnd_pcm_no_period_wakeup(const struct snd_pcm_substream *substream)
{
	return substream->runtime->no_period_wakeup;
}

void rsnd_ratelimit_init(struct ratelimit_state *rs, unsigned int interval_ms,
			 unsigned int burst)
{
	ratelimit_state_init(rs, msecs_to_jiffies(interval_ms), burst);
}
