// SPDX-License-Identifier: GPL-2.0
/*
 * Edge coverage of the module's Rust code, in the coverage build only
 * (`make RSND_COVER=1`, scripts/guest-coverage.sh; never in a normal build).
 *
 * The Rust crate is compiled with LLVM's SanitizerCoverage in the form that the kernel's
 * KCOV uses (`-sanitizer-coverage-level=3 -sanitizer-coverage-trace-pc`): every edge of the
 * control flow calls __sanitizer_cov_trace_pc(). The kernel's KCOV records only the
 * current task's edges, and a virtio driver does much of its work in interrupt context
 * (virtqueue callbacks, timers), so this module brings its own definition, which records
 * the edge's return address from any context into a lock-free set. This file is not
 * instrumented (the flags are the Rust crate's only), and a kernel with CONFIG_KCOV keeps
 * its own function: the module's definition binds the module's calls at link time.
 *
 * The set is read through the module parameter `cover` (0600): writing N sets the slot to
 * start from; reading prints "COUNT LOST", then the offsets of the recorded return
 * addresses from rsnd_cover_anchor() (in hex, signed: negative ones lie outside .text),
 * as many as fit in a page, and "@NEXT", the slot to continue from (RSND_COVER_SLOTS at
 * the end). The set lives as long as the module: a reader saves it before rmmod.
 */

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>

#define RSND_COVER_BITS 15
#define RSND_COVER_SLOTS (1U << RSND_COVER_BITS)

static unsigned long rsnd_cover_pcs[RSND_COVER_SLOTS];
static atomic_t rsnd_cover_count = ATOMIC_INIT(0);
static atomic_t rsnd_cover_lost = ATOMIC_INIT(0);
static unsigned int rsnd_cover_from;

void rsnd_cover_anchor(void);

/* The reference point of the offsets: a function of the module's .text. */
noinline void rsnd_cover_anchor(void)
{
	barrier();
}

void __sanitizer_cov_trace_pc(void);

void notrace __sanitizer_cov_trace_pc(void)
{
	unsigned long pc = _RET_IP_;
	unsigned int i = hash_long(pc, RSND_COVER_BITS);
	unsigned int n;

	for (n = 0; n < RSND_COVER_SLOTS; n++) {
		unsigned long v = READ_ONCE(rsnd_cover_pcs[i]);

		if (v == pc)
			return;
		if (!v) {
			v = cmpxchg(&rsnd_cover_pcs[i], 0UL, pc);
			if (!v) {
				atomic_inc(&rsnd_cover_count);
				return;
			}
			if (v == pc)
				return;
		}
		i = (i + 1) & (RSND_COVER_SLOTS - 1);
	}
	atomic_inc(&rsnd_cover_lost);
}

static int rsnd_cover_set(const char *val, const struct kernel_param *kp)
{
	unsigned int from;
	int ret = kstrtouint(val, 0, &from);

	if (ret)
		return ret;
	WRITE_ONCE(rsnd_cover_from, min(from, RSND_COVER_SLOTS));
	return 0;
}

static int rsnd_cover_get(char *buf, const struct kernel_param *kp)
{
	unsigned long anchor = (unsigned long)rsnd_cover_anchor;
	unsigned int i = READ_ONCE(rsnd_cover_from);
	/* Room for the longest entry (" -" and 16 digits) and "@NEXT\n". */
	const int tail = 32;
	int len;

	len = scnprintf(buf, PAGE_SIZE, "%d %d", atomic_read(&rsnd_cover_count),
			atomic_read(&rsnd_cover_lost));
	for (; i < RSND_COVER_SLOTS && len < PAGE_SIZE - tail; i++) {
		long off = (long)(READ_ONCE(rsnd_cover_pcs[i]) - anchor);

		if (!rsnd_cover_pcs[i])
			continue;
		len += scnprintf(buf + len, PAGE_SIZE - len, off < 0 ? " -%lx" : " %lx",
				 off < 0 ? -off : off);
	}
	len += scnprintf(buf + len, PAGE_SIZE - len, " @%u\n", i);
	return len;
}

static const struct kernel_param_ops rsnd_cover_ops = {
	.set = rsnd_cover_set,
	.get = rsnd_cover_get,
};
module_param_cb(cover, &rsnd_cover_ops, NULL, 0600);
MODULE_PARM_DESC(cover, "Coverage build: the edges reached (see src/sys/cover.c)");
