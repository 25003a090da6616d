// SPDX-License-Identifier: GPL-2.0
/*
 * stress-client: reliability tests of a PCM device for the guest tests (tests/guest/stress-*.sh).
 *
 *   stress-client params CARD DEV
 *       hw_params with every out-of-range value of each family (rate, channels, format,
 *       access, subformat, period size/bytes/time, buffer size/bytes/time, periods, empty
 *       and open intervals): HW_REFINE and HW_PARAMS both give EINVAL, and the substream
 *       still configures afterwards. Then the extremes that are in range (rate min/max,
 *       channels min/max, every offered format, smallest period, largest buffer, fewest and
 *       most periods) must configure, prepare, start and move the position.
 *   stress-client states CARD DEV
 *       ioctls in the wrong state, with the errno that the ALSA core defines for each
 *       (EBADFD, EPIPE, EBUSY, EINVAL, EFAULT, ENOSYS, ENXIO, ENOTTY), playback and capture,
 *       RW and mmap access; also RESET while running and DRAIN while paused.
 *   stress-client stress PCM SECS WORKERS [SEED] [--sine HZ[,AMP]]
 *       WORKERS processes open/close PCM (e.g. hw:0,0) for SECS seconds, each picking any
 *       free substream: random hw_params (valid ones, and invalid ones that must give
 *       EINVAL), RW and mmap access, prepare, start, pause, drop, drain, reset, hw_free,
 *       writes and reads of random sizes. Worker 0 instead makes uninterrupted 1 s capture
 *       and playback runs: exactly the frames asked for, not faster than real time, and with
 *       --sine (the device captures a sine of HZ Hz at amplitude AMP, default 0.5) every
 *       sample on that sine (no period lost, repeated or reordered). A watchdog fails the
 *       run if a worker is stuck in one call for 20 s (and says where it sleeps).
 *
 * Output: one line per check, "ok<TAB>NAME[<TAB>DIAG]", "not ok<TAB>NAME<TAB>DIAG" or
 * "skip<TAB>NAME<TAB>REASON", and "# " diagnostic lines; tests/guest/stress-*.sh turn them
 * into KTAP. Check names carry no device-dependent number, so that the runs of both drivers
 * compare line by line. Exit status: 0 if every check passed, 1 if one failed, 2 on bad
 * usage, 3 if a worker hung.
 */
#include <alsa/asoundlib.h>
/* The kernel's uapi header, for raw ioctls: its typedefs collide with alsa-lib's. */
#define snd_aes_iec958 k_snd_aes_iec958
#define snd_pcm_access_t k_snd_pcm_access_t
#define snd_pcm_format_t k_snd_pcm_format_t
#define snd_pcm_subformat_t k_snd_pcm_subformat_t
#define snd_pcm_state_t k_snd_pcm_state_t
#define snd_ctl_elem_type_t k_snd_ctl_elem_type_t
#define snd_ctl_elem_iface_t k_snd_ctl_elem_iface_t
#include <sound/asound.h>
#undef snd_aes_iec958
#undef snd_pcm_access_t
#undef snd_pcm_format_t
#undef snd_pcm_subformat_t
#undef snd_pcm_state_t
#undef snd_ctl_elem_type_t
#undef snd_ctl_elem_iface_t
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int nfail;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *errname(long e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case -EINVAL: return "EINVAL";
	case -EBADFD: return "EBADFD";
	case -EPIPE: return "EPIPE";
	case -EBUSY: return "EBUSY";
	case -EAGAIN: return "EAGAIN";
	case -EFAULT: return "EFAULT";
	case -ENOSYS: return "ENOSYS";
	case -ENXIO: return "ENXIO";
	case -ENOTTY: return "ENOTTY";
	case -EIO: return "EIO";
	case -ENODEV: return "ENODEV";
	case -ENOMEM: return "ENOMEM";
	case -ETIMEDOUT: return "ETIMEDOUT";
	case -ESTRPIPE: return "ESTRPIPE";
	case -EINTR: return "EINTR";
	case -ENOENT: return "ENOENT";
	case -EPERM: return "EPERM";
	}
	if (e > 0)
		snprintf(buf, sizeof(buf), "+%ld", e);
	else
		snprintf(buf, sizeof(buf), "errno %ld", -e);
	return buf;
}

static void result(int ok, const char *name, const char *fmt, ...)
{
	char diag[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(diag, sizeof(diag), fmt, ap);
		va_end(ap);
	}
	printf("%s\t%s%s%s\n", ok ? "ok" : "not ok", name, *diag ? "\t" : "", diag);
	fflush(stdout);
	if (!ok)
		nfail++;
}

static void skip(const char *name, const char *why)
{
	printf("skip\t%s\t%s\n", name, why);
	fflush(stdout);
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* name is "PREFIX: WHAT"; checks that got == want. */
static int expect(const char *prefix, const char *what, long got, long want)
{
	char name[256];

	snprintf(name, sizeof(name), "%s: %s -> %s", prefix, what, errname(want));
	result(got == want, name, got == want ? NULL : "got %s", errname(got));
	return got == want;
}

/* ---- raw PCM ioctls ------------------------------------------------------------------- */

typedef struct snd_pcm_hw_params khw;

struct raw {
	int fd, capture, card, dev;
	unsigned int info, access, format, channels, rate;
	unsigned long period, buffer, boundary;
	unsigned int frame_bytes;
	void *mm;
	size_t mmlen;
};

static long xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static struct snd_mask *hmask(khw *p, int v)
{
	return &p->masks[v - SNDRV_PCM_HW_PARAM_FIRST_MASK];
}

static struct snd_interval *hiv(khw *p, int v)
{
	return &p->intervals[v - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];
}

static void hany(khw *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i <= SNDRV_PCM_HW_PARAM_LAST_MASK - SNDRV_PCM_HW_PARAM_FIRST_MASK; i++)
		memset(&p->masks[i], 0xff, sizeof(p->masks[i]));
	for (i = 0; i <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; i++) {
		p->intervals[i].min = 0;
		p->intervals[i].max = UINT_MAX;
	}
	p->rmask = ~0U;
	p->info = ~0U;
}

static void hset_iv(khw *p, int v, unsigned int min, unsigned int max, int omin, int omax)
{
	struct snd_interval *i = hiv(p, v);

	i->min = min;
	i->max = max;
	i->openmin = omin;
	i->openmax = omax;
	i->integer = 0;
	i->empty = 0;
}

static void hset(khw *p, int v, unsigned int val)
{
	hset_iv(p, v, val, val, 0, 0);
}

static void hmask_only(khw *p, int v, int bit)
{
	struct snd_mask *m = hmask(p, v);

	memset(m, 0, sizeof(*m));
	if (bit >= 0)
		m->bits[bit / 32] |= 1U << (bit % 32);
}

static int mask_has(const struct snd_mask *m, int bit)
{
	return !!(m->bits[bit / 32] & (1U << (bit % 32)));
}

static int mask_first(const struct snd_mask *m)
{
	int b;

	for (b = 0; b < SNDRV_MASK_MAX; b++)
		if (mask_has(m, b))
			return b;
	return -1;
}

static int raw_open(struct raw *r, int card, int dev, int capture, int nonblock)
{
	char path[64];

	memset(r, 0, sizeof(*r));
	r->card = card;
	r->dev = dev;
	r->capture = capture;
	snprintf(path, sizeof(path), "/dev/snd/pcmC%dD%d%c", card, dev, capture ? 'c' : 'p');
	r->fd = open(path, O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
	if (r->fd < 0)
		return -errno;
	/* A modern protocol version (status mmap of SYNC_APPLPTR drivers is allowed then). */
	{
		int v = SNDRV_PCM_VERSION;

		ioctl(r->fd, SNDRV_PCM_IOCTL_USER_PVERSION, &v);
	}
	return 0;
}

static void raw_close(struct raw *r)
{
	if (r->mm)
		munmap(r->mm, r->mmlen);
	r->mm = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static void raw_nonblock(struct raw *r, int on)
{
	int fl = fcntl(r->fd, F_GETFL);

	fcntl(r->fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static long raw_hw_params(struct raw *r, khw *p)
{
	long err = xioctl(r->fd, SNDRV_PCM_IOCTL_HW_PARAMS, p);

	if (err)
		return err;
	r->info = p->info;
	r->access = mask_first(hmask(p, SNDRV_PCM_HW_PARAM_ACCESS));
	r->format = mask_first(hmask(p, SNDRV_PCM_HW_PARAM_FORMAT));
	r->channels = hiv(p, SNDRV_PCM_HW_PARAM_CHANNELS)->min;
	r->rate = hiv(p, SNDRV_PCM_HW_PARAM_RATE)->min;
	r->period = hiv(p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE)->min;
	r->buffer = hiv(p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE)->min;
	r->frame_bytes = hiv(p, SNDRV_PCM_HW_PARAM_FRAME_BITS)->min / 8;
	return 0;
}

/* Typical parameters: S16_LE, 2 channels (or the device's), 48 kHz, 4 periods of 40 ms. */
static long raw_setup(struct raw *r, int access)
{
	khw p;

	hany(&p);
	hmask_only(&p, SNDRV_PCM_HW_PARAM_ACCESS, access);
	hmask_only(&p, SNDRV_PCM_HW_PARAM_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
	hset(&p, SNDRV_PCM_HW_PARAM_RATE, 48000);
	hset(&p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, 1920);
	hset(&p, SNDRV_PCM_HW_PARAM_PERIODS, 4);
	return raw_hw_params(r, &p);
}

static long raw_simple(struct raw *r, unsigned long req)
{
	return xioctl(r->fd, req, NULL);
}

static long raw_pause(struct raw *r, int push)
{
	return ioctl(r->fd, SNDRV_PCM_IOCTL_PAUSE, push) < 0 ? -errno : 0;
}

/* Returns frames transferred or -errno. */
static long raw_xfer(struct raw *r, void *buf, unsigned long frames)
{
	struct snd_xferi x = { .buf = buf, .frames = frames };
	long err = xioctl(r->fd, r->capture ? SNDRV_PCM_IOCTL_READI_FRAMES
					    : SNDRV_PCM_IOCTL_WRITEI_FRAMES, &x);

	return err ? err : x.result;
}

/* Reads the status through SYNC_PTR (changing nothing); returns the state or -errno. */
static long raw_sync(struct raw *r, unsigned long *hw, unsigned long *appl, unsigned long *bnd)
{
	struct snd_pcm_sync_ptr s;
	long err;

	memset(&s, 0, sizeof(s));
	s.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	err = xioctl(r->fd, SNDRV_PCM_IOCTL_SYNC_PTR, &s);
	if (err)
		return err;
	if (hw)
		*hw = s.s.status.hw_ptr;
	if (appl)
		*appl = s.c.control.appl_ptr;
	if (bnd)
		*bnd = 0;
	return s.s.status.state;
}

static long raw_state(struct raw *r)
{
	return raw_sync(r, NULL, NULL, NULL);
}

/* Sets appl_ptr through SYNC_PTR. */
static long raw_set_appl(struct raw *r, unsigned long appl)
{
	struct snd_pcm_sync_ptr s;

	memset(&s, 0, sizeof(s));
	s.flags = SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	s.c.control.appl_ptr = appl;
	s.c.control.avail_min = 1;
	return xioctl(r->fd, SNDRV_PCM_IOCTL_SYNC_PTR, &s);
}

/* SW_PARAMS with the defaults of a fresh hw_params, but this start threshold; returns the
 * boundary (0 on error). */
static unsigned long raw_sw(struct raw *r, unsigned long start_threshold)
{
	struct snd_pcm_sw_params sw;

	memset(&sw, 0, sizeof(sw));
	sw.tstamp_mode = SNDRV_PCM_TSTAMP_NONE;
	sw.period_step = 1;
	sw.avail_min = 1;
	sw.start_threshold = start_threshold;
	sw.stop_threshold = r->buffer;
	if (xioctl(r->fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw))
		return 0;
	r->boundary = sw.boundary;
	return sw.boundary;
}

static unsigned long raw_boundary(struct raw *r)
{
	struct snd_pcm_sw_params sw;

	memset(&sw, 0, sizeof(sw));
	/* SW_PARAMS reports the boundary; these are the defaults of a fresh hw_params. */
	sw.tstamp_mode = SNDRV_PCM_TSTAMP_NONE;
	sw.period_step = 1;
	sw.avail_min = 1;
	sw.start_threshold = 1;
	sw.stop_threshold = r->buffer;
	sw.silence_threshold = 0;
	sw.silence_size = 0;
	if (xioctl(r->fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw))
		return 0;
	r->boundary = sw.boundary;
	return sw.boundary;
}

static const char *state_name(long s)
{
	static const char *n[] = { "OPEN", "SETUP", "PREPARED", "RUNNING", "XRUN", "DRAINING",
				   "PAUSED", "SUSPENDED", "DISCONNECTED" };

	if (s < 0)
		return errname(s);
	return s < 9 ? n[s] : "?";
}

/* Waits up to ms for the stream to be ready (room to write, frames to read). */
static int raw_wait(struct raw *r, int ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = r->capture ? POLLIN : POLLOUT };

	return poll(&pfd, 1, ms);
}

/*
 * One transfer step: RW access reads or writes up to a buffer (nonblocking); mmap access
 * touches the available part of the mapping and moves appl_ptr with SYNC_PTR (and starts a
 * prepared playback stream, which a commit does not do). Returns frames or -errno.
 */
static long raw_step(struct raw *r, char *buf)
{
	unsigned long hw = 0, appl = 0, avail, off, n;
	long s, e;

	if (!r->mm)
		return raw_xfer(r, buf, r->buffer);
	s = raw_sync(r, &hw, &appl, NULL);
	if (s < 0)
		return s;
	if (s == SNDRV_PCM_STATE_XRUN)
		return -EPIPE;
	avail = r->capture ? hw - appl : hw + r->buffer - appl;
	if (!avail || avail > r->buffer)
		return -EAGAIN;
	off = appl % r->buffer;
	n = avail < r->buffer - off ? avail : r->buffer - off;
	if (r->capture)
		memcpy(buf, (char *)r->mm + off * r->frame_bytes, n * r->frame_bytes);
	else
		memset((char *)r->mm + off * r->frame_bytes, 0, n * r->frame_bytes);
	e = raw_set_appl(r, r->boundary ? (appl + n) % r->boundary : appl + n);
	if (e)
		return e;
	if (!r->capture && s == SNDRV_PCM_STATE_PREPARED) {
		e = raw_simple(r, SNDRV_PCM_IOCTL_START);
		if (e)
			return e;
	}
	return n;
}

/*
 * Streams for a while after a successful HW_PARAMS: prepare, transfer, start, until the
 * position moved by max(a period, rate / 20) frames (at most two buffers) within 3 s, in all (xruns, a
 * busy host with tiny periods, are recovered and counted; the position of each run adds
 * up). Then DROP and HW_FREE. Returns 0 or a negative errno, with a description in why.
 */
static long raw_exercise(struct raw *r, char *why, size_t n)
{
	unsigned long hw, moved = 0, base = 0, want;
	size_t bytes = (size_t)r->buffer * r->frame_bytes;
	char *buf = calloc(1, bytes ? bytes : 1);
	double t0 = now();
	long err, s;
	int xruns = 0;

	*why = 0;
	if (!buf)
		return -ENOMEM;
	want = r->rate / 20 > r->period ? r->rate / 20 : r->period;
	if (want > 2 * r->buffer)
		want = 2 * r->buffer;
	raw_nonblock(r, 1);
	raw_boundary(r);
	if (r->access == SNDRV_PCM_ACCESS_MMAP_INTERLEAVED) {
		r->mmlen = bytes;
		r->mm = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->mm == MAP_FAILED) {
			r->mm = NULL;
			err = -errno;
			snprintf(why, n, "mmap: %s", errname(err));
			goto out;
		}
	}
	err = raw_simple(r, SNDRV_PCM_IOCTL_PREPARE);
	if (err) {
		snprintf(why, n, "PREPARE: %s", errname(err));
		goto out;
	}
	if (r->capture) {
		err = raw_simple(r, SNDRV_PCM_IOCTL_START);
		if (err) {
			snprintf(why, n, "START: %s", errname(err));
			goto out;
		}
	}
	while (now() - t0 < 3) {
		long got;

		raw_wait(r, 100);
		got = raw_step(r, buf);
		if (got == -EPIPE) {
			xruns++;
			if (raw_sync(r, &hw, NULL, NULL) >= 0)
				moved += hw - base;
			err = raw_simple(r, SNDRV_PCM_IOCTL_PREPARE);
			if (!err && r->capture)
				err = raw_simple(r, SNDRV_PCM_IOCTL_START);
			if (err) {
				snprintf(why, n, "PREPARE after xrun: %s", errname(err));
				goto out;
			}
			base = 0;
			if (raw_sync(r, &hw, NULL, NULL) >= 0)
				base = hw;
			continue;
		}
		if (got < 0 && got != -EAGAIN) {
			err = got;
			snprintf(why, n, "%s: %s", r->mm ? "mmap commit" : r->capture ? "READI" : "WRITEI",
				 errname(err));
			goto out;
		}
		s = raw_sync(r, &hw, NULL, NULL);
		if (s < 0) {
			err = s;
			snprintf(why, n, "SYNC_PTR: %s", errname(err));
			goto out;
		}
		if (moved + hw - base >= want)
			break;
	}
	if (raw_sync(r, &hw, NULL, NULL) >= 0)
		moved += hw - base;
	if (moved < want) {
		err = -ETIMEDOUT;
		snprintf(why, n, "the position moved %lu of %lu frames in 3 s (%d xruns)", moved,
			 want, xruns);
		goto out;
	}
	snprintf(why, n, "%lu frames in %.2f s, %d xrun(s)", moved, now() - t0, xruns);
	err = raw_simple(r, SNDRV_PCM_IOCTL_DROP);
	if (err) {
		snprintf(why, n, "DROP: %s", errname(err));
		goto out;
	}
	if (r->mm) {
		munmap(r->mm, r->mmlen);
		r->mm = NULL;
	}
	err = raw_simple(r, SNDRV_PCM_IOCTL_HW_FREE);
	if (err)
		snprintf(why, n, "HW_FREE: %s", errname(err));
out:
	free(buf);
	return err;
}

/* ---- params ------------------------------------------------------------------------- */

struct ranges {
	khw any;
	unsigned int rmin, rmax, cmin, cmax, psmin, psmax, pbmin, pbmax, bsmin, bsmax;
	unsigned int bbmin, bbmax, pmin, pmax, ptmin, ptmax, btmin, btmax;
};

static void get_ranges(khw *p, struct ranges *g)
{
	g->any = *p;
#define R(lo, hi, v) g->lo = hiv(p, v)->min, g->hi = hiv(p, v)->max
	R(rmin, rmax, SNDRV_PCM_HW_PARAM_RATE);
	R(cmin, cmax, SNDRV_PCM_HW_PARAM_CHANNELS);
	R(psmin, psmax, SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
	R(pbmin, pbmax, SNDRV_PCM_HW_PARAM_PERIOD_BYTES);
	R(bsmin, bsmax, SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
	R(bbmin, bbmax, SNDRV_PCM_HW_PARAM_BUFFER_BYTES);
	R(pmin, pmax, SNDRV_PCM_HW_PARAM_PERIODS);
	R(ptmin, ptmax, SNDRV_PCM_HW_PARAM_PERIOD_TIME);
	R(btmin, btmax, SNDRV_PCM_HW_PARAM_BUFFER_TIME);
#undef R
}

/* One invalid configuration: HW_REFINE and HW_PARAMS must both give EINVAL. */
static void bad_case(int card, int dev, int capture, const struct ranges *g, const char *what,
		     int param, long long value, int raw_param, unsigned int min, unsigned int max,
		     int omin, int omax)
{
	char name[192];
	struct raw r;
	khw p;
	long e1, e2, st;

	snprintf(name, sizeof(name), "%s: %s", capture ? "capture" : "playback", what);
	if (raw_open(&r, card, dev, capture, 0)) {
		result(0, name, "open failed: %s", strerror(errno));
		return;
	}
	hany(&p);
	if (raw_param >= 0) {
		hset_iv(&p, raw_param, min, max, omin, omax);
	} else if (param >= SNDRV_PCM_HW_PARAM_FIRST_MASK && param <= SNDRV_PCM_HW_PARAM_LAST_MASK) {
		hmask_only(&p, param, (int)value);
	} else {
		hset(&p, param, (unsigned int)value);
	}
	e1 = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_REFINE, &p);
	/* HW_REFINE changed p: start again for HW_PARAMS. */
	hany(&p);
	if (raw_param >= 0)
		hset_iv(&p, raw_param, min, max, omin, omax);
	else if (param >= SNDRV_PCM_HW_PARAM_FIRST_MASK && param <= SNDRV_PCM_HW_PARAM_LAST_MASK)
		hmask_only(&p, param, (int)value);
	else
		hset(&p, param, (unsigned int)value);
	e2 = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_PARAMS, &p);
	st = raw_state(&r);
	if (e1 == -EINVAL && e2 == -EINVAL && st == SNDRV_PCM_STATE_OPEN)
		result(1, name, NULL);
	else
		result(0, name, "HW_REFINE %s, HW_PARAMS %s (want EINVAL), state %s", errname(e1),
		       errname(e2), state_name(st));
	(void)g;
	raw_close(&r);
}

/* One valid extreme: HW_PARAMS works, and the stream runs. */
static void good_case(int card, int dev, int capture, const char *what, khw *p)
{
	char name[192], why[192];
	struct raw r;
	long err;

	snprintf(name, sizeof(name), "%s: %s configures and runs", capture ? "capture" : "playback",
		 what);
	if (raw_open(&r, card, dev, capture, 0)) {
		result(0, name, "open failed: %s", strerror(errno));
		return;
	}
	err = raw_hw_params(&r, p);
	if (err) {
		result(0, name, "HW_PARAMS: %s", errname(err));
		raw_close(&r);
		return;
	}
	err = raw_exercise(&r, why, sizeof(why));
	result(!err, name, "%s %u ch %u Hz, period %lu, buffer %lu: %s",
	       snd_pcm_format_name((snd_pcm_format_t)r.format), r.channels, r.rate, r.period,
	       r.buffer, why);
	raw_close(&r);
}

static void params_dir(int card, int dev, int capture)
{
	const char *dir = capture ? "capture" : "playback";
	struct ranges g;
	struct raw r;
	char what[128];
	khw p;
	long err;
	int f;

	err = raw_open(&r, card, dev, capture, 0);
	if (err) {
		skip(capture ? "capture: parameters" : "playback: parameters", "no such substream");
		return;
	}
	hany(&p);
	err = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_REFINE, &p);
	raw_close(&r);
	if (err) {
		result(0, capture ? "capture: HW_REFINE of any" : "playback: HW_REFINE of any",
		       "%s", errname(err));
		return;
	}
	get_ranges(&p, &g);
	diag("%s ranges: rate %u..%u, channels %u..%u, period %u..%u frames (%u..%u bytes, %u..%u us), "
	     "buffer %u..%u frames (%u..%u bytes, %u..%u us), periods %u..%u, info %#x", dir,
	     g.rmin, g.rmax, g.cmin, g.cmax, g.psmin, g.psmax, g.pbmin, g.pbmax, g.ptmin, g.ptmax,
	     g.bsmin, g.bsmax, g.bbmin, g.bbmax, g.btmin, g.btmax, g.pmin, g.pmax, p.info);

#define BAD(what, param, value) bad_case(card, dev, capture, &g, what, param, value, -1, 0, 0, 0, 0)
#define BADIV(what, param, lo, hi, omin, omax) \
	bad_case(card, dev, capture, &g, what, -1, 0, param, lo, hi, omin, omax)
	BAD("rate 0", SNDRV_PCM_HW_PARAM_RATE, 0);
	if (g.rmin > 1)
		BAD("rate below the minimum", SNDRV_PCM_HW_PARAM_RATE, g.rmin - 1);
	if (g.rmax < UINT_MAX)
		BAD("rate above the maximum", SNDRV_PCM_HW_PARAM_RATE, g.rmax + 1LL);
	BAD("rate UINT_MAX", SNDRV_PCM_HW_PARAM_RATE, UINT_MAX);
	BADIV("rate interval empty (min > max)", SNDRV_PCM_HW_PARAM_RATE, 48000, 44100, 0, 0);
	BADIV("rate interval open on both ends of one value", SNDRV_PCM_HW_PARAM_RATE, 48000,
	      48000, 1, 1);
	BAD("channels 0", SNDRV_PCM_HW_PARAM_CHANNELS, 0);
	if (g.cmin > 1)
		BAD("channels below the minimum", SNDRV_PCM_HW_PARAM_CHANNELS, g.cmin - 1);
	BAD("channels above the maximum", SNDRV_PCM_HW_PARAM_CHANNELS, g.cmax + 1LL);
	BAD("channels UINT_MAX", SNDRV_PCM_HW_PARAM_CHANNELS, UINT_MAX);
	/* Every format the device does not offer, one check in all. */
	{
		char bads[256] = "";
		int n = 0;

		for (f = 0; f <= SNDRV_PCM_FORMAT_LAST; f++) {
			long e1, e2;

			if (mask_has(hmask(&g.any, SNDRV_PCM_HW_PARAM_FORMAT), f))
				continue;
			if (raw_open(&r, card, dev, capture, 0))
				break;
			hany(&p);
			hmask_only(&p, SNDRV_PCM_HW_PARAM_FORMAT, f);
			e1 = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_REFINE, &p);
			hany(&p);
			hmask_only(&p, SNDRV_PCM_HW_PARAM_FORMAT, f);
			e2 = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_PARAMS, &p);
			raw_close(&r);
			n++;
			if (e1 != -EINVAL || e2 != -EINVAL)
				snprintf(bads + strlen(bads), sizeof(bads) - strlen(bads), " %d:%s/%s",
					 f, errname(e1), errname(e2));
		}
		/* HW_REFINE of the loop changed p: refine "any" again for the later checks. */
		p = g.any;
		snprintf(what, sizeof(what), "%s: every format not offered", dir);
		result(!*bads, what, *bads ? "format:REFINE/PARAMS%s" : "%d formats", *bads ? bads : "", n);
	}
	BAD("format undefined (bit 60)", SNDRV_PCM_HW_PARAM_FORMAT, 60);
	BAD("format mask empty", SNDRV_PCM_HW_PARAM_FORMAT, -1);
	BAD("access mask empty", SNDRV_PCM_HW_PARAM_ACCESS, -1);
	BAD("access MMAP_COMPLEX", SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_MMAP_COMPLEX);
	BAD("access undefined (bit 7)", SNDRV_PCM_HW_PARAM_ACCESS, 7);
	BAD("subformat mask empty", SNDRV_PCM_HW_PARAM_SUBFORMAT, -1);
	BAD("period size 0", SNDRV_PCM_HW_PARAM_PERIOD_SIZE, 0);
	if (g.psmin > 1)
		BAD("period size below the minimum", SNDRV_PCM_HW_PARAM_PERIOD_SIZE, g.psmin - 1);
	BAD("period size above the maximum", SNDRV_PCM_HW_PARAM_PERIOD_SIZE, g.psmax + 1LL);
	BAD("period bytes 0", SNDRV_PCM_HW_PARAM_PERIOD_BYTES, 0);
	if (g.pbmin > 1)
		BAD("period bytes below the minimum", SNDRV_PCM_HW_PARAM_PERIOD_BYTES, g.pbmin - 1);
	BAD("period bytes above the maximum", SNDRV_PCM_HW_PARAM_PERIOD_BYTES, g.pbmax + 1LL);
	BAD("period time 0", SNDRV_PCM_HW_PARAM_PERIOD_TIME, 0);
	BAD("period time above the maximum", SNDRV_PCM_HW_PARAM_PERIOD_TIME, g.ptmax + 1LL);
	BAD("buffer size 0", SNDRV_PCM_HW_PARAM_BUFFER_SIZE, 0);
	if (g.bsmin > 1)
		BAD("buffer size below the minimum", SNDRV_PCM_HW_PARAM_BUFFER_SIZE, g.bsmin - 1);
	BAD("buffer size above the maximum", SNDRV_PCM_HW_PARAM_BUFFER_SIZE, g.bsmax + 1LL);
	BAD("buffer bytes above the maximum", SNDRV_PCM_HW_PARAM_BUFFER_BYTES, g.bbmax + 1LL);
	BAD("buffer time above the maximum", SNDRV_PCM_HW_PARAM_BUFFER_TIME, g.btmax + 1LL);
	BAD("periods 0", SNDRV_PCM_HW_PARAM_PERIODS, 0);
	if (g.pmin > 1)
		BAD("periods below the minimum", SNDRV_PCM_HW_PARAM_PERIODS, g.pmin - 1);
	BAD("periods above the maximum", SNDRV_PCM_HW_PARAM_PERIODS, g.pmax + 1LL);
	BAD("periods UINT_MAX", SNDRV_PCM_HW_PARAM_PERIODS, UINT_MAX);
	BADIV("periods strictly between 2 and 3", SNDRV_PCM_HW_PARAM_PERIODS, 2, 3, 1, 1);
	BADIV("frame bits 7", SNDRV_PCM_HW_PARAM_FRAME_BITS, 7, 7, 0, 0);
	BADIV("sample bits 0", SNDRV_PCM_HW_PARAM_SAMPLE_BITS, 0, 0, 0, 0);
	/* Consistent one by one, impossible together: a buffer of 2.5 periods. */
	{
		struct raw r2;
		khw q;
		long e;

		snprintf(what, sizeof(what), "%s: buffer of 2.5 periods -> EINVAL", dir);
		if (!raw_open(&r2, card, dev, capture, 0)) {
			hany(&q);
			hset(&q, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, 1024);
			hset(&q, SNDRV_PCM_HW_PARAM_BUFFER_SIZE, 2560);
			e = xioctl(r2.fd, SNDRV_PCM_IOCTL_HW_PARAMS, &q);
			result(e == -EINVAL, what, e == -EINVAL ? NULL : "got %s", errname(e));
			raw_close(&r2);
		}
	}
	/* After all that, the substream still configures and runs. */
	hany(&p);
	good_case(card, dev, capture, "kernel's choice after the refused ones", &p);
#undef BAD
#undef BADIV

	/*
	 * In-range extremes. What a case does not test is held at usual values: RW access, 48 kHz,
	 * periods of 10..40 ms; the period and buffer extremes also at S16_LE and 2 channels
	 * (when offered), with the ranges refined under those.
	 */
	{
		unsigned int rate = g.rmin <= 48000 && 48000 <= g.rmax ? 48000 : g.rmin;
		unsigned int ch = g.cmin <= 2 && 2 <= g.cmax ? 2 : g.cmin;
		int s16 = mask_has(hmask(&g.any, SNDRV_PCM_HW_PARAM_FORMAT), SNDRV_PCM_FORMAT_S16_LE);
		struct ranges h;
		khw base, q;

#define USUAL(p, what) \
	do { \
		hany(p); \
		hmask_only(p, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_RW_INTERLEAVED); \
		if ((what) != SNDRV_PCM_HW_PARAM_RATE) \
			hset(p, SNDRV_PCM_HW_PARAM_RATE, rate); \
		hset_iv(p, SNDRV_PCM_HW_PARAM_PERIOD_TIME, 10000, 40000, 0, 0); \
	} while (0)
#define GOOD(what, param, value) \
	do { USUAL(&p, param); hset(&p, param, value); good_case(card, dev, capture, what, &p); } while (0)
		GOOD("rate minimum", SNDRV_PCM_HW_PARAM_RATE, g.rmin);
		GOOD("rate maximum", SNDRV_PCM_HW_PARAM_RATE, g.rmax);
		GOOD("channels minimum", SNDRV_PCM_HW_PARAM_CHANNELS, g.cmin);
		GOOD("channels maximum", SNDRV_PCM_HW_PARAM_CHANNELS, g.cmax);
		for (f = 0; f <= SNDRV_PCM_FORMAT_LAST; f++) {
			if (!mask_has(hmask(&g.any, SNDRV_PCM_HW_PARAM_FORMAT), f))
				continue;
			snprintf(what, sizeof(what), "format %s", snd_pcm_format_name((snd_pcm_format_t)f));
			USUAL(&p, -1);
			hmask_only(&p, SNDRV_PCM_HW_PARAM_FORMAT, f);
			good_case(card, dev, capture, what, &p);
		}
		if (mask_has(hmask(&g.any, SNDRV_PCM_HW_PARAM_ACCESS), SNDRV_PCM_ACCESS_MMAP_INTERLEAVED)) {
			USUAL(&p, -1);
			hmask_only(&p, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_MMAP_INTERLEAVED);
			good_case(card, dev, capture, "MMAP_INTERLEAVED access", &p);
		}
#undef GOOD
		/* Period and buffer extremes: the ranges at 48 kHz, S16_LE, 2 channels. */
		hany(&base);
		hmask_only(&base, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
		hset(&base, SNDRV_PCM_HW_PARAM_RATE, rate);
		hset(&base, SNDRV_PCM_HW_PARAM_CHANNELS, ch);
		if (s16)
			hmask_only(&base, SNDRV_PCM_HW_PARAM_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
		q = base;
		if (raw_open(&r, card, dev, capture, 0))
			return;
		err = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_REFINE, &q);
		raw_close(&r);
		if (err) {
			result(0, capture ? "capture: HW_REFINE at 48 kHz" : "playback: HW_REFINE at 48 kHz",
			       "%s", errname(err));
			return;
		}
		get_ranges(&q, &h);
		diag("%s at %u Hz, %u ch%s: period %u..%u frames, buffer %u..%u frames, periods %u..%u",
		     dir, rate, ch, s16 ? ", S16_LE" : "", h.psmin, h.psmax, h.bsmin, h.bsmax, h.pmin,
		     h.pmax);
#define SIZE(what, param, value) \
	do { p = base; hset(&p, param, value); good_case(card, dev, capture, what, &p); } while (0)
		SIZE("smallest period", SNDRV_PCM_HW_PARAM_PERIOD_SIZE, h.psmin);
		SIZE("largest period", SNDRV_PCM_HW_PARAM_PERIOD_SIZE, h.psmax);
		SIZE("smallest buffer", SNDRV_PCM_HW_PARAM_BUFFER_SIZE, h.bsmin);
		SIZE("largest buffer", SNDRV_PCM_HW_PARAM_BUFFER_SIZE, h.bsmax);
		SIZE("fewest periods", SNDRV_PCM_HW_PARAM_PERIODS, h.pmin);
		SIZE("most periods", SNDRV_PCM_HW_PARAM_PERIODS, h.pmax);
#undef SIZE
		/* Most periods of the smallest size the largest buffer allows. */
		p = base;
		hset(&p, SNDRV_PCM_HW_PARAM_PERIODS, h.pmax);
		hset(&p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE, h.bsmax);
		q = p;
		if (!raw_open(&r, card, dev, capture, 0)) {
			err = xioctl(r.fd, SNDRV_PCM_IOCTL_HW_REFINE, &q);
			raw_close(&r);
			if (!err)
				good_case(card, dev, capture, "most periods, largest buffer", &p);
			else
				skip(capture ? "capture: most periods, largest buffer configures and runs"
					     : "playback: most periods, largest buffer configures and runs",
				     "no such combination");
		}
#undef USUAL
	}
}

static int do_params(int card, int dev)
{
	params_dir(card, dev, 0);
	params_dir(card, dev, 1);
	return nfail ? 1 : 0;
}

/* ---- states ------------------------------------------------------------------------- */

static long resume_errno(void)
{
	struct stat st;

	/* CONFIG_PM: the state check (EBADFD); without it, RESUME is ENOSYS. */
	return stat("/sys/power", &st) == 0 ? -EBADFD : -ENOSYS;
}

/* Waits until the stream is RUNNING with room to write (at most 2 s). */
static int wait_room(struct raw *r)
{
	double t0 = now();

	while (now() - t0 < 2) {
		unsigned long hw = 0, appl = 0;
		long s = raw_sync(r, &hw, &appl, NULL);

		if (s != SNDRV_PCM_STATE_RUNNING)
			return -1;
		if (r->capture ? appl != hw : hw + r->buffer > appl)
			return 0;
		usleep(2000);
	}
	return -1;
}

/*
 * Before checks that need a running stream: a busy host may have let it run dry (xrun).
 * Restarts it if so (saying it), and tops the buffer up (playback) or empties it (capture).
 */
static void running(struct raw *r, void *buf)
{
	long s = raw_state(r);

	if (s != SNDRV_PCM_STATE_RUNNING) {
		diag("%s: the stream is %s, not RUNNING: restarting it", r->capture ? "capture" : "playback",
		     state_name(s));
		raw_simple(r, SNDRV_PCM_IOCTL_DROP);
		raw_simple(r, SNDRV_PCM_IOCTL_PREPARE);
		if (r->capture)
			raw_simple(r, SNDRV_PCM_IOCTL_START);
	}
	raw_xfer(r, buf, r->buffer);
}

static void states_playback(int card, int dev)
{
	const char *P = "playback";
	struct snd_pcm_sw_params sw;
	struct snd_pcm_channel_info ci;
	struct raw r;
	char *buf;
	long e, s, want;
	unsigned long hw, appl, bnd;
	snd_pcm_sframes_t delay;
	void *mm;
	double t0;

	if (raw_open(&r, card, dev, 0, 1)) {
		skip("playback: states", "no playback substream");
		return;
	}
	/* OPEN */
	expect(P, "OPEN: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), -EBADFD);
	expect(P, "OPEN: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(P, "OPEN: DROP", raw_simple(&r, SNDRV_PCM_IOCTL_DROP), -EBADFD);
	expect(P, "OPEN: DRAIN", raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN), -EBADFD);
	/* No hw_params yet: runtime->info is 0, so the core has no PAUSE to offer. */
	expect(P, "OPEN: PAUSE push", raw_pause(&r, 1), -ENOSYS);
	expect(P, "OPEN: RESET", raw_simple(&r, SNDRV_PCM_IOCTL_RESET), -EBADFD);
	expect(P, "OPEN: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), -EBADFD);
	expect(P, "OPEN: HWSYNC", raw_simple(&r, SNDRV_PCM_IOCTL_HWSYNC), -EBADFD);
	expect(P, "OPEN: DELAY", xioctl(r.fd, SNDRV_PCM_IOCTL_DELAY, &delay), -EBADFD);
	memset(&sw, 0, sizeof(sw));
	expect(P, "OPEN: SW_PARAMS", xioctl(r.fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw), -EBADFD);
	memset(&ci, 0, sizeof(ci));
	expect(P, "OPEN: CHANNEL_INFO", xioctl(r.fd, SNDRV_PCM_IOCTL_CHANNEL_INFO, &ci), -EBADFD);
	expect(P, "OPEN: RESUME", raw_simple(&r, SNDRV_PCM_IOCTL_RESUME), resume_errno());
	{
		char z[64] = { 0 };

		expect(P, "OPEN: WRITEI", raw_xfer(&r, z, 1), -EBADFD);
	}
	mm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	expect(P, "OPEN: mmap of the buffer", mm == MAP_FAILED ? -errno : 0, -EBADFD);
	if (mm != MAP_FAILED)
		munmap(mm, 4096);
	expect(P, "unknown ioctl", xioctl(r.fd, _IO('A', 0xfe), NULL), -ENOTTY);

	/* SETUP */
	e = raw_setup(&r, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	if (!expect(P, "HW_PARAMS S16_LE 48000 Hz, 4 periods of 40 ms", e, 0)) {
		raw_close(&r);
		return;
	}
	diag("playback: %u ch, period %lu, buffer %lu, info %#x (NO_REWINDS %s, SYNC_APPLPTR %s)",
	     r.channels, r.period, r.buffer, r.info,
	     r.info & SNDRV_PCM_INFO_NO_REWINDS ? "yes" : "no",
	     r.info & SNDRV_PCM_INFO_SYNC_APPLPTR ? "yes" : "no");
	buf = calloc(r.buffer * 2, r.frame_bytes);
	if (!buf)
		return;
	expect(P, "SETUP: state", raw_state(&r), SNDRV_PCM_STATE_SETUP);
	expect(P, "SETUP: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(P, "SETUP: WRITEI", raw_xfer(&r, buf, r.period), -EBADFD);
	expect(P, "SETUP: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(P, "SETUP: HWSYNC", raw_simple(&r, SNDRV_PCM_IOCTL_HWSYNC), -EBADFD);
	expect(P, "SETUP: RESET", raw_simple(&r, SNDRV_PCM_IOCTL_RESET), -EBADFD);
	memset(&ci, 0, sizeof(ci));
	ci.channel = r.channels;
	expect(P, "SETUP: CHANNEL_INFO of a channel past the last",
	       xioctl(r.fd, SNDRV_PCM_IOCTL_CHANNEL_INFO, &ci), -EINVAL);
	/* DRAIN of a nonblocking file is EAGAIN: these are blocking. */
	raw_nonblock(&r, 0);
	expect(P, "SETUP: DRAIN", raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN), 0);
	raw_nonblock(&r, 1);
	expect(P, "SETUP: DROP", raw_simple(&r, SNDRV_PCM_IOCTL_DROP), 0);
	mm = mmap(NULL, r.buffer * r.frame_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	expect(P, "RW access: mmap of the buffer", mm == MAP_FAILED ? -errno : 0, -EINVAL);
	if (mm != MAP_FAILED)
		munmap(mm, r.buffer * r.frame_bytes);
	expect(P, "SETUP: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), 0);
	expect(P, "HW_FREE twice", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), -EBADFD);
	raw_setup(&r, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	raw_boundary(&r);
	expect(P, "SETUP: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);

	/* PREPARED */
	expect(P, "PREPARED: START with an empty buffer", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EPIPE);
	expect(P, "PREPARED: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(P, "PREPARED: PAUSE release", raw_pause(&r, 0), -EBADFD);
	expect(P, "PREPARED: RESUME", raw_simple(&r, SNDRV_PCM_IOCTL_RESUME), resume_errno());
	expect(P, "PREPARED: WRITEI from a bad address", raw_xfer(&r, (void *)16, r.period), -EFAULT);
	expect(P, "PREPARED: state after the bad write", raw_state(&r), SNDRV_PCM_STATE_PREPARED);
	raw_sync(&r, &hw, &appl, NULL);
	bnd = r.boundary;
	expect(P, "PREPARED: SYNC_PTR appl_ptr at the boundary", bnd ? raw_set_appl(&r, bnd) : -EINVAL,
	       -EINVAL);
	want = r.info & SNDRV_PCM_INFO_NO_REWINDS ? -EINVAL : 0;
	expect(P, "PREPARED: SYNC_PTR appl_ptr a buffer and a frame ahead (EINVAL with NO_REWINDS)",
	       raw_set_appl(&r, appl + r.buffer + 1), want);
	expect(P, "PREPARED: PREPARE again", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
	raw_nonblock(&r, 0);
	expect(P, "PREPARED: DRAIN of an empty buffer", raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN), 0);
	raw_nonblock(&r, 1);
	expect(P, "after the empty DRAIN: state", raw_state(&r), SNDRV_PCM_STATE_SETUP);
	expect(P, "SETUP: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
	e = raw_xfer(&r, NULL, r.period);
	expect(P, "PREPARED: WRITEI of silence (NULL buffer), one period", e == (long)r.period ? 0 : e, 0);
	expect(P, "after the first write: state", raw_state(&r), SNDRV_PCM_STATE_RUNNING);

	/* RUNNING */
	running(&r, buf);
	expect(P, "RUNNING: HW_PARAMS", raw_setup(&r, SNDRV_PCM_ACCESS_RW_INTERLEAVED), -EBADFD);
	expect(P, "RUNNING: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), -EBADFD);
	expect(P, "RUNNING: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), -EBUSY);
	expect(P, "RUNNING: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(P, "RUNNING: PAUSE release", raw_pause(&r, 0), -EBADFD);
	expect(P, "RUNNING: RESUME", raw_simple(&r, SNDRV_PCM_IOCTL_RESUME), resume_errno());
	running(&r, buf);
	raw_sync(&r, &hw, &appl, NULL);
	expect(P, "RUNNING: SYNC_PTR appl_ptr one frame back (EINVAL with NO_REWINDS)",
	       raw_set_appl(&r, appl ? appl - 1 : bnd - 1), want);
	if (!want)
		raw_set_appl(&r, appl);
	{
		snd_pcm_uframes_t n = r.period;
		long got = xioctl(r.fd, SNDRV_PCM_IOCTL_REWIND, &n);

		if (r.info & SNDRV_PCM_INFO_NO_REWINDS) {
			expect(P, "RUNNING: REWIND with NO_REWINDS rewinds nothing", got ? got : (long)n, 0);
		} else {
			if (got)
				result(0, "playback: RUNNING: REWIND one period -> 0", "got %s", errname(got));
			else
				result(1, "playback: RUNNING: REWIND one period -> 0", "%lu frames",
				       (unsigned long)n);
			/* Give the rewound frames back. */
			raw_xfer(&r, buf, n);
		}
	}
	if (wait_room(&r) == 0)
		expect(P, "RUNNING: WRITEI from a bad address", raw_xfer(&r, (void *)16, 1), -EFAULT);
	else
		result(0, "playback: RUNNING: WRITEI from a bad address -> EFAULT", "no room in 2 s (state %s)",
		       state_name(raw_state(&r)));
	running(&r, buf);
	expect(P, "RUNNING: PAUSE push", raw_pause(&r, 1), 0);
	expect(P, "PAUSED: state", raw_state(&r), SNDRV_PCM_STATE_PAUSED);
	expect(P, "PAUSED: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(P, "PAUSED: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(P, "PAUSED: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), -EBADFD);
	expect(P, "PAUSED: PAUSE release", raw_pause(&r, 0), 0);
	expect(P, "after the release: state", raw_state(&r), SNDRV_PCM_STATE_RUNNING);

	/*
	 * RESET while running, after more than two buffers were played (the position wraps
	 * the buffer, so RESET moves hw_ptr and appl_ptr back by whole buffers), then the
	 * application keeps the buffer full for 1 s.
	 */
	running(&r, buf);
	{
		unsigned long h = 0;

		t0 = now();
		while (now() - t0 < 2 && raw_sync(&r, &h, NULL, NULL) == SNDRV_PCM_STATE_RUNNING &&
		       h < 2 * r.buffer + r.period) {
			raw_wait(&r, 50);
			raw_xfer(&r, buf, r.buffer);
		}
		diag("playback: RESET at position %lu (buffer %lu), state %s", h, r.buffer,
		     state_name(raw_state(&r)));
	}
	running(&r, buf);
	expect(P, "RUNNING: RESET", raw_simple(&r, SNDRV_PCM_IOCTL_RESET), 0);
	{
		long got = 0;
		unsigned long total = 0, hw0 = 0, hw1 = 0;

		t0 = now();
		raw_sync(&r, &hw0, NULL, NULL);
		while (now() - t0 < 1.0) {
			raw_wait(&r, 50);
			got = raw_xfer(&r, buf, r.buffer);
			if (got < 0 && got != -EAGAIN)
				break;
			if (got > 0)
				total += got;
		}
		raw_sync(&r, &hw1, NULL, NULL);
		if (got < 0 && got != -EAGAIN)
			result(0, "playback: after RESET while running, 1 s of writes -> 0", "got %s after %lu frames",
			       errname(got), total);
		else
			result(hw1 - hw0 > r.rate / 4, "playback: after RESET while running, 1 s of writes -> 0",
			       "%lu frames written, position moved %lu", total, hw1 - hw0);
	}
	running(&r, buf);
	expect(P, "RUNNING: XRUN", raw_simple(&r, SNDRV_PCM_IOCTL_XRUN), 0);
	expect(P, "XRUN: state", raw_state(&r), SNDRV_PCM_STATE_XRUN);
	expect(P, "XRUN: WRITEI", raw_xfer(&r, buf, r.period), -EPIPE);
	expect(P, "XRUN: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(P, "XRUN: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(P, "XRUN: HWSYNC", raw_simple(&r, SNDRV_PCM_IOCTL_HWSYNC), -EPIPE);
	expect(P, "XRUN: DELAY", xioctl(r.fd, SNDRV_PCM_IOCTL_DELAY, &delay), -EPIPE);
	expect(P, "XRUN: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);

	/* DRAIN (blocking) of a buffer: within the buffer's time plus a second. */
	e = raw_xfer(&r, buf, r.buffer);
	raw_nonblock(&r, 0);
	t0 = now();
	e = raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN);
	t0 = now() - t0;
	if (e == 0 && t0 > (double)r.buffer / r.rate + 1)
		result(0, "playback: RUNNING: DRAIN -> 0", "took %.2f s for a %.3f s buffer", t0,
		       (double)r.buffer / r.rate);
	else
		expect(P, "RUNNING: DRAIN", e, 0);
	raw_nonblock(&r, 1);
	expect(P, "after DRAIN: state", raw_state(&r), SNDRV_PCM_STATE_SETUP);
	expect(P, "after DRAIN: WRITEI", raw_xfer(&r, buf, r.period), -EBADFD);
	expect(P, "after DRAIN: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);

	/* PREPARE while paused, DROP while paused, DRAIN while paused. */
	raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE);
	raw_xfer(&r, buf, r.buffer);
	expect(P, "RUNNING: PAUSE push (2)", raw_pause(&r, 1), 0);
	expect(P, "PAUSED: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
	expect(P, "after PREPARE while paused: state", raw_state(&r), SNDRV_PCM_STATE_PREPARED);
	e = raw_xfer(&r, buf, r.buffer);
	expect(P, "after PREPARE while paused: WRITEI a buffer", e == (long)r.buffer ? 0 : e, 0);
	expect(P, "RUNNING: PAUSE push (3)", raw_pause(&r, 1), 0);
	expect(P, "PAUSED: DROP", raw_simple(&r, SNDRV_PCM_IOCTL_DROP), 0);
	expect(P, "after DROP while paused: state", raw_state(&r), SNDRV_PCM_STATE_SETUP);
	raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE);
	raw_xfer(&r, buf, r.buffer);
	expect(P, "RUNNING: PAUSE push (4)", raw_pause(&r, 1), 0);
	raw_nonblock(&r, 0);
	t0 = now();
	e = raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN);
	t0 = now() - t0;
	raw_nonblock(&r, 1);
	if (e == 0 && t0 > (double)r.buffer / r.rate + 1)
		result(0, "playback: PAUSED: DRAIN -> 0", "took %.2f s", t0);
	else
		expect(P, "PAUSED: DRAIN", e, 0);
	expect(P, "after DRAIN while paused: state", raw_state(&r), SNDRV_PCM_STATE_SETUP);

	/*
	 * DRAIN of less than one period: ALSA plays what was written (a short sound), then
	 * stops. Not started yet (start threshold of a buffer: DRAIN starts it), and started by
	 * the write (start threshold 1).
	 */
	{
		static const char *name[2] = {
			"playback: DRAIN of half a period, not started -> 0, played",
			"playback: DRAIN of half a period, started by the write -> 0, played",
		};
		int k;

		for (k = 0; k < 2; k++) {
			unsigned long h = 0;

			raw_sw(&r, k ? 1 : r.buffer);
			raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE);
			e = raw_xfer(&r, buf, r.period / 2);
			if (e != (long)(r.period / 2)) {
				result(0, name[k], "WRITEI: %s", errname(e));
				continue;
			}
			if (k)
				usleep(200000);
			raw_nonblock(&r, 0);
			t0 = now();
			e = raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN);
			t0 = now() - t0;
			raw_nonblock(&r, 1);
			s = raw_sync(&r, &h, NULL, NULL);
			if (e || s != SNDRV_PCM_STATE_SETUP || h < r.period / 2)
				result(0, name[k], "DRAIN %s after %.2f s, state %s, position %lu of %lu frames", errname(e),
				       t0, state_name(s), h, r.period / 2);
			else
				result(1, name[k], "%.2f s", t0);
		}
		raw_sw(&r, 1);
	}

	/* Close while running: the release path stops and frees the stream, so that the
	 * substream opens again at once (one left busy would give EBUSY). */
	raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE);
	raw_xfer(&r, buf, r.buffer);
	s = raw_state(&r);
	raw_close(&r);
	e = raw_open(&r, card, dev, 0, 1);
	result(s == SNDRV_PCM_STATE_RUNNING && !e, "playback: close while running, then open again",
	       "state before the close %s, open again: %s", state_name(s), errname(e));
	if (e)
		goto out;

	/* mmap access. */
	e = raw_setup(&r, SNDRV_PCM_ACCESS_MMAP_INTERLEAVED);
	if (!expect(P, "HW_PARAMS with MMAP_INTERLEAVED access", e, 0))
		goto close;
	raw_boundary(&r);
	expect(P, "MMAP access: WRITEI", raw_xfer(&r, buf, r.period), r.channels > 1 ? -EINVAL : -EBADFD);
	{
		size_t len = r.buffer * r.frame_bytes;
		size_t plen = (len + 4095) & ~(size_t)4095;
		void *big = mmap(NULL, plen + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);

		expect(P, "mmap past the end of the buffer", big == MAP_FAILED ? -errno : 0, -EINVAL);
		if (big != MAP_FAILED)
			munmap(big, plen + 4096);
		mm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
		if (!expect(P, "mmap of the buffer", mm == MAP_FAILED ? -errno : 0, 0))
			goto close;
		r.mm = mm;
		r.mmlen = len;
		{
			void *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd,
				       SNDRV_PCM_MMAP_OFFSET_CONTROL);

			expect(P, "mmap of the control page (ENXIO with SYNC_APPLPTR)",
			       c == MAP_FAILED ? -errno : 0,
			       r.info & SNDRV_PCM_INFO_SYNC_APPLPTR ? -ENXIO : 0);
			if (c != MAP_FAILED)
				munmap(c, 4096);
		}
		expect(P, "mmapped: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), -EBADFD);
		expect(P, "mmapped: HW_PARAMS", raw_setup(&r, SNDRV_PCM_ACCESS_MMAP_INTERLEAVED), -EBADFD);
		expect(P, "mmapped: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
		/* Fill the buffer through the mapping, commit with SYNC_PTR, start, and keep
		 * committing for 0.5 s: the position must move. */
		memset(mm, 0, len);
		raw_sync(&r, &hw, &appl, NULL);
		expect(P, "mmap: commit a buffer through SYNC_PTR", raw_set_appl(&r, appl + r.buffer), 0);
		expect(P, "mmap: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), 0);
		{
			unsigned long h0, h1, a;
			long err = 0;

			raw_sync(&r, &h0, NULL, NULL);
			t0 = now();
			while (now() - t0 < 0.5 && !err) {
				raw_wait(&r, 50);
				s = raw_sync(&r, &hw, &a, NULL);
				if (s != SNDRV_PCM_STATE_RUNNING) {
					err = s < 0 ? s : -EPIPE;
					break;
				}
				if (hw + r.buffer - a >= r.period)
					err = raw_set_appl(&r, a + r.period);
			}
			raw_sync(&r, &h1, NULL, NULL);
			result(!err && h1 - h0 > r.rate / 10, "playback: mmap: 0.5 s of commits -> 0",
			       "%s, position moved %lu", errname(err), h1 - h0);
			raw_sync(&r, &hw, &a, NULL);
			expect(P, "mmap: SYNC_PTR appl_ptr more than a buffer ahead (EINVAL with NO_REWINDS)",
			       raw_set_appl(&r, a + r.buffer + 1), want);
		}
		expect(P, "mmap: DROP", raw_simple(&r, SNDRV_PCM_IOCTL_DROP), 0);
		munmap(mm, len);
		r.mm = NULL;
		expect(P, "unmapped: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), 0);
	}
close:
	raw_close(&r);
out:
	free(buf);
}

static void states_capture(int card, int dev)
{
	const char *C = "capture";
	struct raw r;
	char *buf;
	long e;

	if (raw_open(&r, card, dev, 1, 1)) {
		skip("capture: states", "no capture substream");
		return;
	}
	{
		char z[64];

		expect(C, "OPEN: READI", raw_xfer(&r, z, 1), -EBADFD);
	}
	if (!expect(C, "HW_PARAMS S16_LE 48000 Hz, 4 periods of 40 ms",
		    raw_setup(&r, SNDRV_PCM_ACCESS_RW_INTERLEAVED), 0)) {
		raw_close(&r);
		return;
	}
	buf = calloc(r.buffer * 2, r.frame_bytes);
	if (!buf)
		return;
	expect(C, "SETUP: READI", raw_xfer(&r, buf, r.period), -EBADFD);
	expect(C, "SETUP: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(C, "SETUP: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
	expect(C, "PREPARED: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(C, "PREPARED: READI of a NULL buffer", raw_xfer(&r, NULL, r.period), -EINVAL);
	expect(C, "PREPARED: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), 0);
	running(&r, buf);
	expect(C, "RUNNING: START", raw_simple(&r, SNDRV_PCM_IOCTL_START), -EBADFD);
	expect(C, "RUNNING: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), -EBUSY);
	if (wait_room(&r) == 0)
		expect(C, "RUNNING: READI into a bad address", raw_xfer(&r, (void *)16, 1), -EFAULT);
	else
		result(0, "capture: RUNNING: READI into a bad address -> EFAULT",
		       "nothing captured in 2 s (state %s)", state_name(raw_state(&r)));
	raw_nonblock(&r, 0);
	e = raw_xfer(&r, buf, r.period);
	expect(C, "RUNNING: READI of one period (blocking)", e == (long)r.period ? 0 : e, 0);
	raw_nonblock(&r, 1);
	running(&r, buf);
	expect(C, "RUNNING: PAUSE push", raw_pause(&r, 1), 0);
	expect(C, "PAUSED: PAUSE push", raw_pause(&r, 1), -EBADFD);
	expect(C, "PAUSED: PAUSE release", raw_pause(&r, 0), 0);
	running(&r, buf);
	expect(C, "RUNNING: XRUN", raw_simple(&r, SNDRV_PCM_IOCTL_XRUN), 0);
	expect(C, "XRUN: READI", raw_xfer(&r, buf, r.period), -EPIPE);
	expect(C, "XRUN: PREPARE", raw_simple(&r, SNDRV_PCM_IOCTL_PREPARE), 0);
	expect(C, "PREPARED: START (2)", raw_simple(&r, SNDRV_PCM_IOCTL_START), 0);
	usleep(50000);
	raw_nonblock(&r, 0);
	e = raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN);
	raw_nonblock(&r, 1);
	expect(C, "RUNNING: DRAIN", e, 0);
	expect(C, "nonblocking DRAIN", raw_simple(&r, SNDRV_PCM_IOCTL_DRAIN), -EAGAIN);
	e = raw_state(&r);
	result(e == SNDRV_PCM_STATE_DRAINING || e == SNDRV_PCM_STATE_SETUP,
	       "capture: after DRAIN: state DRAINING or SETUP", "%s", state_name(e));
	expect(C, "after DRAIN: DROP", raw_simple(&r, SNDRV_PCM_IOCTL_DROP), 0);
	expect(C, "SETUP: HW_FREE", raw_simple(&r, SNDRV_PCM_IOCTL_HW_FREE), 0);
	free(buf);
	raw_close(&r);
}

static int do_states(int card, int dev)
{
	states_playback(card, dev);
	states_capture(card, dev);
	return nfail ? 1 : 0;
}

/* ---- stress ------------------------------------------------------------------------- */

#define MAX_WORKERS 32

struct slot {
	volatile double last;
	volatile int pid;
	char op[40];
	unsigned long ops, xruns, busy, einval_ok, unexpected, sessions;
	unsigned long runs, runs_ok, runs_xrun, frames;
	char first_bad[160];
	volatile int done;
};

static struct slot *slots;
static int me;

static void at(const char *op)
{
	slots[me].last = now();
	snprintf(slots[me].op, sizeof(slots[me].op), "%s", op);
}

static uint64_t rng;

static unsigned int rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng >> 11);
}

static void unexpected(const char *op, long err, const char *extra)
{
	struct slot *s = &slots[me];

	s->unexpected++;
	if (!s->first_bad[0])
		snprintf(s->first_bad, sizeof(s->first_bad), "%s: %s%s%s", op, errname(err),
			 extra ? " " : "", extra ? extra : "");
	printf("# worker %d: unexpected %s from %s%s%s\n", me, errname(err), op, extra ? " " : "",
	       extra ? extra : "");
	fflush(stdout);
}

/* Accepts err if it is 0 or in the list (terminated by 0). */
static int ok_err(const char *op, long err, ...)
{
	va_list ap;
	int e;

	slots[me].ops++;
	if (err >= 0)
		return 1;
	if (err == -EPIPE)
		slots[me].xruns++;
	va_start(ap, err);
	while ((e = va_arg(ap, int)) != 0) {
		if (err == e) {
			va_end(ap);
			return 1;
		}
	}
	va_end(ap);
	unexpected(op, err, NULL);
	return 0;
}

static const unsigned int common_rates[] = { 8000, 11025, 16000, 22050, 32000, 44100, 48000,
					     64000, 88200, 96000, 176400, 192000 };

/* Random valid hw_params; returns 0 or an error. */
static int random_params(snd_pcm_t *pcm, snd_pcm_access_t *acc)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_format_t fmts[64];
	unsigned int nf = 0, cmin, cmax, ch, rate, pmin = 2, pmax = 8, periods;
	unsigned int ptime;
	int f, err, dir = 0;

	snd_pcm_hw_params_alloca(&hw);
	at("hw_params_any");
	err = snd_pcm_hw_params_any(pcm, hw);
	if (err < 0)
		return err;
	*acc = rnd() % 3 == 0 ? SND_PCM_ACCESS_MMAP_INTERLEAVED : SND_PCM_ACCESS_RW_INTERLEAVED;
	if (snd_pcm_hw_params_set_access(pcm, hw, *acc) < 0) {
		*acc = SND_PCM_ACCESS_RW_INTERLEAVED;
		err = snd_pcm_hw_params_set_access(pcm, hw, *acc);
		if (err < 0)
			return err;
	}
	for (f = 0; f <= SND_PCM_FORMAT_LAST && nf < 64; f++)
		if (snd_pcm_hw_params_test_format(pcm, hw, (snd_pcm_format_t)f) == 0)
			fmts[nf++] = (snd_pcm_format_t)f;
	if (!nf)
		return -EINVAL;
	err = snd_pcm_hw_params_set_format(pcm, hw, fmts[rnd() % nf]);
	if (err < 0)
		return err;
	snd_pcm_hw_params_get_channels_min(hw, &cmin);
	snd_pcm_hw_params_get_channels_max(hw, &cmax);
	ch = cmin + rnd() % (cmax - cmin + 1);
	err = snd_pcm_hw_params_set_channels(pcm, hw, ch);
	if (err < 0)
		return err;
	rate = common_rates[rnd() % (sizeof(common_rates) / sizeof(common_rates[0]))];
	err = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, &dir);
	if (err < 0)
		return err;
	ptime = 1000 + rnd() % 40000;
	dir = 0;
	err = snd_pcm_hw_params_set_period_time_near(pcm, hw, &ptime, &dir);
	if (err < 0)
		return err;
	snd_pcm_hw_params_get_periods_min(hw, &pmin, &dir);
	snd_pcm_hw_params_get_periods_max(hw, &pmax, &dir);
	if (pmax > 8)
		pmax = 8;
	if (pmin > pmax)
		pmin = pmax;
	periods = pmin + rnd() % (pmax - pmin + 1);
	err = snd_pcm_hw_params_set_periods_near(pcm, hw, &periods, &dir);
	if (err < 0)
		return err;
	at("hw_params");
	return snd_pcm_hw_params(pcm, hw);
}

/* An invalid hw_params request: must be refused with EINVAL. */
static void invalid_params(snd_pcm_t *pcm)
{
	snd_pcm_hw_params_t *hw;
	unsigned int v;
	int err, dir = 0, which = rnd() % 5;
	const char *what = "?";

	snd_pcm_hw_params_alloca(&hw);
	at("hw_params_any (invalid)");
	if (snd_pcm_hw_params_any(pcm, hw) < 0)
		return;
	switch (which) {
	case 0:
		snd_pcm_hw_params_get_rate_max(hw, &v, &dir);
		err = snd_pcm_hw_params_set_rate(pcm, hw, v + 1, 0);
		what = "rate max+1";
		break;
	case 1:
		err = snd_pcm_hw_params_set_channels(pcm, hw, 0);
		what = "channels 0";
		break;
	case 2:
		snd_pcm_hw_params_get_channels_max(hw, &v);
		err = snd_pcm_hw_params_set_channels(pcm, hw, v + 1);
		what = "channels max+1";
		break;
	case 3:
		err = snd_pcm_hw_params_set_periods(pcm, hw, 1, 0);
		snd_pcm_hw_params_get_periods_min(hw, &v, &dir);
		if (v <= 1)
			return;
		what = "periods 1";
		break;
	default:
		err = snd_pcm_hw_params_set_buffer_size(pcm, hw, 0);
		what = "buffer size 0";
		break;
	}
	slots[me].ops++;
	if (err == -EINVAL)
		slots[me].einval_ok++;
	else
		unexpected("invalid hw_params", err, what);
}

static long xfer(snd_pcm_t *pcm, int capture, snd_pcm_access_t acc, void *buf,
		 snd_pcm_uframes_t n)
{
	if (acc == SND_PCM_ACCESS_MMAP_INTERLEAVED)
		return capture ? snd_pcm_mmap_readi(pcm, buf, n) : snd_pcm_mmap_writei(pcm, buf, n);
	return capture ? snd_pcm_readi(pcm, buf, n) : snd_pcm_writei(pcm, buf, n);
}

static void session(snd_pcm_t *pcm, int capture)
{
	snd_pcm_access_t acc;
	snd_pcm_uframes_t bsize = 0, psize = 0;
	static char buf[1 << 20];
	int k, steps, err;

	int setup = 0;

	for (k = 0; k < 1 + (int)(rnd() % 3); k++) {
		/* hw_params or hw_free of a running stream is EBADFD, and alsa-lib then forgets the
		 * setup while the kernel keeps the stream running (every later call: EIO, "PCM not
		 * set up", and EBADFD from hw_params): stop it first, as applications do. */
		if (setup) {
			at("drop before hw_params");
			ok_err("drop", snd_pcm_drop(pcm), -EBADFD, 0);
		}
		if (rnd() % 6 == 0)
			invalid_params(pcm);
		err = random_params(pcm, &acc);
		if (!ok_err("hw_params", err, 0))
			return;
		setup = 1;
		snd_pcm_get_params(pcm, &bsize, &psize);
		{
			snd_pcm_sw_params_t *sw;

			snd_pcm_sw_params_alloca(&sw);
			snd_pcm_sw_params_current(pcm, sw);
			snd_pcm_sw_params_set_start_threshold(pcm, sw, rnd() % 2 ? 1 : bsize);
			snd_pcm_sw_params_set_avail_min(pcm, sw, psize);
			at("sw_params");
			ok_err("sw_params", snd_pcm_sw_params(pcm, sw), 0);
		}
		steps = 5 + rnd() % 30;
		while (steps--) {
			snd_pcm_uframes_t n = 1 + rnd() % (2 * bsize);
			unsigned int fb = snd_pcm_frames_to_bytes(pcm, 1);
			long r;

			if (n * fb > sizeof(buf))
				n = sizeof(buf) / fb;
			switch (rnd() % 16) {
			case 0: case 1: case 2: case 3: case 4: case 5:
				at(capture ? "read" : "write");
				r = xfer(pcm, capture, acc, buf, n);
				if (r == -EAGAIN) {
					at("wait");
					r = snd_pcm_wait(pcm, 200);
					ok_err("wait", r, -EPIPE, -EBADFD, -ESTRPIPE, 0);
				} else {
					ok_err(capture ? "read" : "write", r, -EPIPE, -EBADFD, 0);
				}
				if (r == -EPIPE && rnd() % 2) {
					at("prepare after xrun");
					ok_err("prepare", snd_pcm_prepare(pcm), 0);
				}
				break;
			case 6:
				at("start");
				ok_err("start", snd_pcm_start(pcm), -EBADFD, -EPIPE, 0);
				break;
			case 7:
				at("pause");
				ok_err("pause", snd_pcm_pause(pcm, rnd() % 2), -EBADFD, 0);
				break;
			case 8:
				at("drop");
				ok_err("drop", snd_pcm_drop(pcm), -EBADFD, 0);
				break;
			case 9: {
				snd_pcm_sframes_t d = 0;
				snd_pcm_state_t st = snd_pcm_state(pcm);
				char x[96];

				at("drain");
				if (snd_pcm_delay(pcm, &d) < 0)
					d = -1;
				snd_pcm_nonblock(pcm, 0);
				r = snd_pcm_drain(pcm);
				snd_pcm_nonblock(pcm, 1);
				snprintf(x, sizeof(x), "(from %s, %ld frames to play, period %lu)",
					 snd_pcm_state_name(st), (long)d, (unsigned long)psize);
				if (r == -EIO) {
					slots[me].ops++;
					unexpected("drain", r, x);
				} else {
					ok_err("drain", r, -EBADFD, -EPIPE, 0);
				}
				break;
			}
			case 10: case 11:
				at("prepare");
				ok_err("prepare", snd_pcm_prepare(pcm), -EBUSY, 0);
				break;
			case 12:
				at("reset");
				ok_err("reset", snd_pcm_reset(pcm), -EBADFD, 0);
				break;
			case 13:
				at("status");
				{
					snd_pcm_sframes_t a, d;

					ok_err("avail_delay", snd_pcm_avail_delay(pcm, &a, &d), -EPIPE,
					       -EBADFD, 0);
				}
				break;
			case 14:
				at("sleep");
				usleep(rnd() % 30000);
				break;
			default:
				at("drop before hw_free");
				ok_err("drop", snd_pcm_drop(pcm), -EBADFD, 0);
				at("hw_free");
				ok_err("hw_free", snd_pcm_hw_free(pcm), 0);
				setup = 0;
				steps = 0;
				break;
			}
		}
		if (setup && rnd() % 2) {
			at("drop (end)");
			ok_err("drop", snd_pcm_drop(pcm), -EBADFD, 0);
		}
	}
}

static int open_retry(snd_pcm_t **pcm, const char *dev, snd_pcm_stream_t st, double end)
{
	int err;

	for (;;) {
		at("open");
		err = snd_pcm_open(pcm, dev, st, SND_PCM_NONBLOCK);
		if (err != -EBUSY && err != -EAGAIN)
			return err;
		slots[me].busy++;
		if (now() > end)
			return err;
		usleep(2000 + rnd() % 20000);
	}
}

static void stress_worker(const char *dev, double end)
{
	snd_pcm_t *pcm;
	int capture, err;

	while (now() < end) {
		capture = rnd() % 2;
		err = open_retry(&pcm, dev, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
				 end);
		if (err == -EBUSY || err == -EAGAIN)
			break;
		if (err == -ENOENT && capture)
			continue; /* no capture stream */
		if (!ok_err("open", err, 0))
			break;
		slots[me].sessions++;
		session(pcm, capture);
		at("close");
		snd_pcm_close(pcm);
	}
}

/* The sine check of one capture run. */
struct sine {
	double w, amp, phase, phase0;
	int have_phase;
	int16_t at_bad[32]; /* first channel from the first bad frame on */
	int n_at_bad;
	unsigned long bad, stretches, first_bad, last_bad;
	int got, want; /* at first_bad */
	int in_bad;
};

/* Checks frames (base: their index in the run) against the sine; counts stretches of bad
 * frames, so that a lost or repeated period (every later frame off) and a burst of wrong data
 * (the sine resumes in phase) can be told apart. */
static void sine_check(struct sine *k, const int16_t *s, unsigned long frames, unsigned int ch,
		       unsigned long base)
{
	const double tol = 64;
	unsigned long i;

	if (!k->have_phase) {
		double s0, s1, c0;

		if (frames < 2)
			return;
		s0 = s[0] / k->amp;
		s1 = s[ch] / k->amp;
		c0 = (s1 - s0 * cos(k->w)) / sin(k->w);
		k->phase = atan2(s0, c0);
		k->phase0 = k->phase - k->w * (double)base;
		k->have_phase = 1;
	}
	for (i = 0; i < frames; i++) {
		double want = k->amp * sin(k->phase);
		unsigned int c;
		int off = 0;

		for (c = 0; c < ch; c++)
			if (fabs(s[i * ch + c] - want) > tol)
				off = 1;
		if (off) {
			if (!k->bad) {
				unsigned long j;

				k->first_bad = base + i;
				k->got = s[i * ch];
				k->want = (int)lrint(want);
				for (j = i; j < frames && k->n_at_bad < 32; j++)
					k->at_bad[k->n_at_bad++] = s[j * ch];
			}
			if (!k->in_bad)
				k->stretches++;
			k->bad++;
			k->last_bad = base + i;
		}
		k->in_bad = off;
		k->phase = fmod(k->phase + k->w, 2 * M_PI);
	}
}

/*
 * Which part of the sine the first bad frames hold: a shift of a whole number of periods
 * (within +-6), which is how a period from another lap of the ring shows; LONG_MIN if none
 * matches. (Any shift cannot be told: at 997 Hz and 48 kHz, 4333 frames are 90 cycles.)
 */
static long sine_shift(const struct sine *k, long period)
{
	long n;
	int j;

	if (k->n_at_bad < 8)
		return LONG_MIN;
	for (n = -6; n <= 6; n++) {
		double err = 0;

		if (!n)
			continue;
		for (j = 0; j < k->n_at_bad; j++) {
			double x = (double)k->first_bad + j + n * period;

			err = fmax(err, fabs(k->at_bad[j] - k->amp * sin(k->phase0 + k->w * x)));
		}
		if (err < 64)
			return n * period;
	}
	return LONG_MIN;
}

/* Uninterrupted 1 s runs on one substream, capture and playback in turn. */
static void account_worker(const char *dev, double end, double freq, double ampl)
{
	int capture = 1;

	while (now() + 2.5 < end) {
		snd_pcm_t *pcm;
		int err;
		const unsigned int rate = 48000, ch = 2;
		unsigned long total = rate, done = 0;
		snd_pcm_uframes_t bsize, psize;
		static int16_t buf[2 * 4096];
		double t0, dt;
		struct sine k = { .w = 2 * M_PI * freq / rate, .amp = ampl * 32767 };
		long r = 0;
		char what[64];

		err = open_retry(&pcm, dev, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
				 end);
		if (err == -EBUSY || err == -EAGAIN)
			break;
		if (err == -ENOENT && capture) {
			capture = 0;
			continue;
		}
		if (!ok_err("open (accounting)", err, 0))
			break;
		snd_pcm_nonblock(pcm, 0);
		at("set_params (accounting)");
		err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, ch,
					 rate, 0, 80000);
		if (!ok_err("set_params (accounting)", err, 0)) {
			snd_pcm_hw_params_t *hw;
			unsigned int a = 0, b = 0;

			snd_pcm_hw_params_alloca(&hw);
			snd_pcm_hw_params_any(pcm, hw);
			snd_pcm_hw_params_get_channels_min(hw, &a);
			snd_pcm_hw_params_get_channels_max(hw, &b);
			printf("# worker 0: %s: channels %u..%u, state %s\n", capture ? "capture" : "playback",
			       a, b, snd_pcm_state_name(snd_pcm_state(pcm)));
			snd_pcm_close(pcm);
			break;
		}
		snd_pcm_get_params(pcm, &bsize, &psize);
		slots[me].runs++;
		slots[me].sessions++;
		t0 = now();
		if (capture)
			snd_pcm_start(pcm);
		while (done < total) {
			snd_pcm_uframes_t n = 1 + rnd() % 4096;

			if (n > total - done)
				n = total - done;
			at(capture ? "read (accounting)" : "write (accounting)");
			r = capture ? snd_pcm_readi(pcm, buf, n) : snd_pcm_writei(pcm, buf, n);
			if (r < 0)
				break;
			if (capture && freq > 0)
				sine_check(&k, buf, r, ch, done);
			done += r;
		}
		if (r >= 0 && !capture) {
			at("drain (accounting)");
			r = snd_pcm_drain(pcm);
		}
		dt = now() - t0;
		at("close (accounting)");
		snd_pcm_close(pcm);
		slots[me].frames += done;
		snprintf(what, sizeof(what), "%s run %lu", capture ? "capture" : "playback",
			 slots[me].runs);
		if (r == -EPIPE) {
			/* Interrupted by an xrun (a busy host): no accounting. */
			slots[me].runs_xrun++;
			slots[me].xruns++;
			printf("# worker 0: %s: xrun after %lu frames, %.2f s (period %lu, buffer %lu)",
			       what, done, dt, psize, bsize);
			if (k.bad) {
				long sh = sine_shift(&k, (long)psize);

				printf(", the sine was off before it: %lu frames from frame %lu", k.bad,
				       k.first_bad);
				if (sh != LONG_MIN)
					printf(" (audio from %+ld frames later)", sh);
			}
			printf("\n");
		} else if (r < 0) {
			char x[160];

			snprintf(x, sizeof(x), "%s after %lu frames, %.2f s (period %lu, buffer %lu)", what,
				 done, dt, psize, bsize);
			unexpected(capture ? "read (accounting)" : "write/drain (accounting)", r, x);
		} else if (done != total) {
			char x[160];

			snprintf(x, sizeof(x), "%s: %lu of %lu frames", what, done, total);
			unexpected("accounting", -EIO, x);
		} else if (dt < (capture ? 0.95 : 0.95 - (double)bsize / rate)) {
			char x[160];

			snprintf(x, sizeof(x), "%s: 1 s of audio in %.3f s (faster than real time)",
				 what, dt);
			unexpected("accounting", -EIO, x);
		} else if (k.bad) {
			char x[240], sh_txt[64] = "";
			long sh = sine_shift(&k, (long)psize);

			if (sh != LONG_MIN)
				snprintf(sh_txt, sizeof(sh_txt), "; they hold audio from %+ld frames later", sh);
			snprintf(x, sizeof(x), "%s: %lu frames off the %.0f Hz sine in %lu stretch(es), "
				 "frames %lu..%lu (period %lu, buffer %lu); first: %d, want %d%s",
				 what, k.bad, freq, k.stretches, k.first_bad, k.last_bad, psize, bsize,
				 k.got, k.want, sh_txt);
			unexpected("sine", -EIO, x);
		} else {
			slots[me].runs_ok++;
		}
		capture = !capture;
	}
}

static void print_where(int pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f))
			printf("#   wchan: %s\n", line);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			printf("#   %s", line);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f))
			printf("#   stat: %s", line);
		fclose(f);
	}
}

static int do_stress(const char *dev, double secs, int workers, uint64_t seed, double freq,
		     double amp)
{
	double end = now() + secs, t0 = now();
	int i, alive, hung = -1;
	unsigned long ops = 0, xr = 0, busy = 0, einval = 0, bad = 0, sess = 0;

	if (workers < 1 || workers > MAX_WORKERS)
		return 2;
	slots = mmap(NULL, sizeof(*slots) * MAX_WORKERS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED)
		return 2;
	memset(slots, 0, sizeof(*slots) * MAX_WORKERS);
	diag("stress: %d workers on %s for %.0f s, seed %llu%s", workers, dev, secs,
	     (unsigned long long)seed, freq > 0 ? ", worker 0 checks the capture sine" : "");
	for (i = 0; i < workers; i++) {
		int pid;

		slots[i].last = now();
		pid = fork();
		if (pid == 0) {
			me = i;
			rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)i * 7919 + 1;
			if (i == 0)
				account_worker(dev, end, freq, amp);
			else
				stress_worker(dev, end);
			slots[i].done = 1;
			_exit(0);
		}
		slots[i].pid = pid;
	}
	do {
		alive = 0;
		usleep(200000);
		for (i = 0; i < workers; i++) {
			int st;

			if (slots[i].pid <= 0)
				continue;
			if (waitpid(slots[i].pid, &st, WNOHANG) == slots[i].pid) {
				if (!WIFEXITED(st) || WEXITSTATUS(st)) {
					printf("# worker %d died (status %#x) in %s\n", i, st, slots[i].op);
					slots[i].unexpected++;
				}
				slots[i].pid = 0;
				continue;
			}
			alive++;
			if (now() - slots[i].last > 20 && hung < 0)
				hung = i;
		}
		if (hung >= 0)
			break;
	} while (alive && now() < end + 60);
	if (hung < 0 && alive) {
		/* Still running long after the end: the oldest one is stuck. */
		for (i = 0; i < workers; i++)
			if (slots[i].pid > 0 && (hung < 0 || slots[i].last < slots[hung].last))
				hung = i;
	}
	if (hung >= 0) {
		printf("# worker %d (pid %d) stuck in %s for %.1f s\n", hung, slots[hung].pid,
		       slots[hung].op, now() - slots[hung].last);
		print_where(slots[hung].pid);
		for (i = 0; i < workers; i++)
			if (slots[i].pid > 0 && i != hung && now() - slots[i].last > 5) {
				printf("# worker %d (pid %d) also in %s for %.1f s\n", i, slots[i].pid,
				       slots[i].op, now() - slots[i].last);
				print_where(slots[i].pid);
			}
		for (i = 0; i < workers; i++)
			if (slots[i].pid > 0)
				kill(slots[i].pid, SIGKILL);
		sleep(3);
		for (i = 0; i < workers; i++) {
			int st;

			if (slots[i].pid > 0 && waitpid(slots[i].pid, &st, WNOHANG) != slots[i].pid)
				printf("# worker %d (pid %d) survives SIGKILL (uninterruptible sleep)\n",
				       i, slots[i].pid);
		}
		result(0, "stress: no call blocks for 20 s", "worker %d in %s", hung, slots[hung].op);
		return 3;
	}
	for (i = 0; i < workers; i++) {
		ops += slots[i].ops;
		xr += slots[i].xruns;
		busy += slots[i].busy;
		einval += slots[i].einval_ok;
		bad += slots[i].unexpected;
		sess += slots[i].sessions;
	}
	diag("stress: %.1f s, %lu sessions, %lu calls, %lu xruns, %lu busy opens, %lu invalid "
	     "hw_params refused with EINVAL", now() - t0, sess, ops, xr, busy, einval);
	result(1, "stress: no call blocks for 20 s", NULL);
	result(sess > 0, "stress: substreams were opened", "%lu sessions", sess);
	{
		char first[200] = "";

		for (i = 0; i < workers && !first[0]; i++)
			if (slots[i].first_bad[0])
				snprintf(first, sizeof(first), "worker %d: %s", i, slots[i].first_bad);
		result(!bad, "stress: only the errnos of the state machine (EPIPE, EBADFD, EBUSY, EAGAIN)",
		       bad ? "%lu unexpected; first: %s" : NULL, bad, first);
	}
	if (slots[0].runs == 0)
		skip("stress: uninterrupted runs are exact", "no run");
	else if (slots[0].runs_ok == 0)
		skip("stress: uninterrupted runs are exact", "every run had an xrun");
	else
		result(slots[0].runs_ok + slots[0].runs_xrun == slots[0].runs,
		       "stress: uninterrupted runs are exact",
		       "%lu of %lu runs checked (%lu interrupted by an xrun)%s", slots[0].runs_ok,
		       slots[0].runs, slots[0].runs_xrun, freq > 0 ? ", sine continuous" : "");
	return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "params"))
		return do_params(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "states"))
		return do_states(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "stress")) {
		double freq = 0, amp = 0.5;
		uint64_t seed = (uint64_t)time(NULL);
		int i;

		for (i = 5; i < argc; i++) {
			if (!strcmp(argv[i], "--sine") && i + 1 < argc) {
				if (sscanf(argv[++i], "%lf,%lf", &freq, &amp) < 1)
					return 2;
			} else {
				seed = strtoull(argv[i], NULL, 0);
			}
		}
		return do_stress(argv[2], atof(argv[3]), atoi(argv[4]), seed, freq, amp);
	}
	fprintf(stderr, "usage: stress-client params|states CARD DEV\n"
			"       stress-client stress PCM SECS WORKERS [SEED] [--sine HZ[,AMP]]\n");
	return 2;
}
