// SPDX-License-Identifier: GPL-2.0
/*
 * pcm-client: scripted ALSA clients for the guest tests, where aplay/arecord cannot go.
 *
 *   pcm-client pause DEV        playback; pause 500 ms mid-stream; the position must not
 *                               move while paused; resume; drain
 *   pcm-client xrun DEV         playback underrun: a late write gets -EPIPE (never -EIO);
 *                               prepare + write works again
 *   pcm-client overrun DEV      the same for capture (a late read gets -EPIPE)
 *   pcm-client tiny DEV N SECS  playback in writes of N frames for SECS seconds; prints
 *                               the frames written and the xruns seen
 *   pcm-client nowake DEV playback|capture PERIOD SECS
 *                               a sound server's stream (PipeWire, PulseAudio with timer
 *                               scheduling): buffer 4 periods, period wakeups off if the
 *                               driver can disable them (prints "period-wakeup: off" or
 *                               "... on"), avail_min = the buffer, no period events; the
 *                               client wakes on its own timer every half period, reads the
 *                               position (snd_pcm_delay, snd_pcm_avail_update) and moves
 *                               every available frame, until SECS seconds of audio have
 *                               been moved (playback: and played out); prints the frames,
 *                               the xruns seen (recovered by prepare) and its wakeups
 *   pcm-client ctl-wait CTL NAME SECS
 *                               waits up to SECS seconds for a value-change event of the
 *                               control element NAME of CTL (e.g. hw:0); exit 0 on one
 *
 * 48 kHz, S16_LE, stereo. Exit status 0 on success; each failure prints one line.
 */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATE 48000
#define CHANNELS 2
#define FRAME_BYTES 4

static int fail(const char *what, int err)
{
	fprintf(stderr, "FAIL: %s: %s (%d)\n", what, err < 0 ? snd_strerror(err) : "", err);
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Sets the hw params: interleaved, 48 kHz, S16_LE, stereo, the period and buffer sizes
 * nearest PERIOD and BUFFER. With wakeup non-NULL, also turns the period wakeups off if the
 * driver can (alsa-lib wants a PCM opened with SND_PCM_NONBLOCK for that) and sets *wakeup
 * to 1 if they stay on, 0 if they are off.
 */
static int set_hw(snd_pcm_t *pcm, snd_pcm_uframes_t period, snd_pcm_uframes_t buffer,
		  int *wakeup)
{
	snd_pcm_hw_params_t *hw;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_hw_params_any(pcm, hw);
	if ((err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, RATE, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, NULL)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)) < 0)
		return fail("hw_params", err);
	if (wakeup) {
		*wakeup = 1;
		if (snd_pcm_hw_params_can_disable_period_wakeup(hw)) {
			err = snd_pcm_hw_params_set_period_wakeup(pcm, hw, 0);
			if (err < 0)
				return fail("hw_params: period wakeup off", err);
			*wakeup = 0;
		}
	}
	err = snd_pcm_hw_params(pcm, hw);
	if (err < 0)
		return fail("hw_params", err);
	return 0;
}

static int open_pcm(snd_pcm_t **pcm, const char *dev, snd_pcm_stream_t dir,
		    snd_pcm_uframes_t period, snd_pcm_uframes_t buffer)
{
	int err;

	err = snd_pcm_open(pcm, dev, dir, 0);
	if (err < 0)
		return fail("open", err);
	return set_hw(*pcm, period, buffer, NULL);
}

/* Writes `frames` frames of silence; returns 0 or the first error. */
static int write_frames(snd_pcm_t *pcm, long frames, long chunk)
{
	static short buf[2 * 4096];

	while (frames > 0) {
		long n = frames < chunk ? frames : chunk;
		snd_pcm_sframes_t w = snd_pcm_writei(pcm, buf, n);

		if (w < 0)
			return (int)w;
		frames -= w;
	}
	return 0;
}

static int read_frames(snd_pcm_t *pcm, long frames)
{
	static short buf[2 * 4096];

	while (frames > 0) {
		long n = frames < 1024 ? frames : 1024;
		snd_pcm_sframes_t r = snd_pcm_readi(pcm, buf, n);

		if (r < 0)
			return (int)r;
		frames -= r;
	}
	return 0;
}

static int do_pause(const char *dev)
{
	snd_pcm_t *pcm;
	snd_pcm_sframes_t avail1, avail2;
	double t0 = now(), dt;
	int err;

	if (open_pcm(&pcm, dev, SND_PCM_STREAM_PLAYBACK, 1024, 4096))
		return 1;
	err = write_frames(pcm, RATE, 1024);
	if (err)
		return fail("write before pause", err);
	err = snd_pcm_pause(pcm, 1);
	if (err < 0)
		return fail("pause", err);
	usleep(100000);
	avail1 = snd_pcm_avail(pcm);
	usleep(400000);
	avail2 = snd_pcm_avail(pcm);
	if (avail1 < 0 || avail2 < 0)
		return fail("avail while paused", avail1 < 0 ? avail1 : avail2);
	if (avail1 != avail2) {
		fprintf(stderr, "FAIL: the position moved while paused (avail %ld -> %ld)\n",
			avail1, avail2);
		return 1;
	}
	if (snd_pcm_state(pcm) != SND_PCM_STATE_PAUSED)
		return fail("state is not PAUSED", -EINVAL);
	err = snd_pcm_pause(pcm, 0);
	if (err < 0)
		return fail("resume", err);
	err = write_frames(pcm, RATE, 1024);
	if (err)
		return fail("write after resume", err);
	err = snd_pcm_drain(pcm);
	if (err < 0)
		return fail("drain", err);
	dt = now() - t0;
	snd_pcm_close(pcm);
	/* 2 s of audio plus a 0.5 s pause. */
	if (dt < 2.3 || dt > 3.2) {
		fprintf(stderr, "FAIL: took %.2f s, want 2.3 .. 3.2 s\n", dt);
		return 1;
	}
	printf("pause: ok, %.2f s\n", dt);
	return 0;
}

static int do_xrun(const char *dev, int capture)
{
	snd_pcm_t *pcm;
	int err;

	if (open_pcm(&pcm, dev, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
		     1024, 4096))
		return 1;
	err = capture ? (snd_pcm_start(pcm), read_frames(pcm, RATE / 4))
		      : write_frames(pcm, RATE / 4, 1024);
	if (err)
		return fail("first transfer", err);
	/* Much longer than the 85 ms buffer. */
	usleep(500000);
	err = capture ? read_frames(pcm, RATE / 4) : write_frames(pcm, RATE / 4, 1024);
	if (err != -EPIPE) {
		fprintf(stderr, "FAIL: late transfer returned %d (%s), want -EPIPE\n", err,
			err ? snd_strerror(err) : "no error");
		return 1;
	}
	err = snd_pcm_prepare(pcm);
	if (err < 0)
		return fail("prepare after xrun", err);
	if (capture)
		snd_pcm_start(pcm);
	err = capture ? read_frames(pcm, RATE / 2) : write_frames(pcm, RATE / 2, 1024);
	if (err)
		return fail("transfer after recovery", err);
	if (!capture) {
		err = snd_pcm_drain(pcm);
		if (err < 0)
			return fail("drain after recovery", err);
	}
	snd_pcm_close(pcm);
	printf("%s: ok, -EPIPE then recovery\n", capture ? "overrun" : "xrun");
	return 0;
}

static int do_tiny(const char *dev, long chunk, double secs)
{
	snd_pcm_t *pcm;
	long total = (long)(secs * RATE), done = 0, xruns = 0;
	int err;

	if (chunk < 1 || chunk > 4096)
		return fail("chunk must be 1..4096 frames", -EINVAL);
	if (open_pcm(&pcm, dev, SND_PCM_STREAM_PLAYBACK, 256, 1024))
		return 1;
	while (done < total) {
		err = write_frames(pcm, chunk, chunk);
		if (err == -EPIPE) {
			xruns++;
			if ((err = snd_pcm_prepare(pcm)) < 0)
				return fail("prepare", err);
			continue;
		}
		if (err)
			return fail("write", err);
		done += chunk;
	}
	err = snd_pcm_drain(pcm);
	if (err < 0)
		return fail("drain", err);
	snd_pcm_close(pcm);
	printf("tiny: frames=%ld xruns=%ld\n", done, xruns);
	return 0;
}

/*
 * An xrun (-EPIPE from any call) in the nowake loop: counted, then snd_pcm_recover
 * prepares the stream; capture starts again at once, playback when its buffer is full again
 * (the start threshold). Any other error is returned.
 */
static int nowake_recover(snd_pcm_t *pcm, int capture, int err, long *xruns)
{
	if (err != -EPIPE)
		return err;
	(*xruns)++;
	err = snd_pcm_recover(pcm, err, 1);
	if (err < 0)
		return err;
	return capture ? snd_pcm_start(pcm) : 0;
}

/* Moves up to `frames` frames (nonblocking); returns the frames moved or an error. */
static snd_pcm_sframes_t nowake_xfer(snd_pcm_t *pcm, int capture, short *buf, long frames)
{
	snd_pcm_sframes_t moved = 0, n;

	while (moved < frames) {
		n = capture ? snd_pcm_readi(pcm, buf + moved * CHANNELS, frames - moved)
			    : snd_pcm_writei(pcm, buf + moved * CHANNELS, frames - moved);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		moved += n;
	}
	return moved;
}

static int do_nowake(const char *dev, const char *dir, long period, double secs)
{
	int capture = !strcmp(dir, "capture");
	long total = (long)(secs * RATE), done = 0, xruns = 0, wakeups = 0;
	snd_pcm_uframes_t psize, bsize;
	snd_pcm_sw_params_t *sw;
	snd_pcm_sframes_t avail, delay, n;
	long long step, next, now, end = 0;
	snd_pcm_t *pcm;
	short *buf;
	int wakeup, err;
	long i;

	if (!capture && strcmp(dir, "playback"))
		return fail("direction must be playback or capture", -EINVAL);
	if (period < 16 || period > 48000)
		return fail("period must be 16..48000 frames", -EINVAL);
	err = snd_pcm_open(&pcm, dev, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
			   SND_PCM_NONBLOCK);
	if (err < 0)
		return fail("open", err);
	if (set_hw(pcm, period, 4 * period, &wakeup))
		return 1;
	printf("period-wakeup: %s\n", wakeup ? "on (driver cannot disable)" : "off");
	err = snd_pcm_get_params(pcm, &bsize, &psize);
	if (err < 0)
		return fail("get_params", err);
	if (total < (long)bsize)
		return fail("SECS must cover at least one buffer", -EINVAL);
	/*
	 * The application wakes itself: no poll wakeup before the whole buffer is free (full),
	 * no period events; playback starts once a whole buffer is written.
	 */
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_avail_min(pcm, sw, bsize)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, capture ? 1 : bsize)) < 0 ||
	    (err = snd_pcm_sw_params_set_period_event(pcm, sw, 0)) < 0 ||
	    (err = snd_pcm_sw_params(pcm, sw)) < 0)
		return fail("sw_params", err);
	buf = malloc(bsize * FRAME_BYTES);
	if (!buf)
		return fail("malloc", -ENOMEM);
	/* A quiet sawtooth, so that playback is not all zeros. */
	for (i = 0; i < (long)bsize * CHANNELS; i++)
		buf[i] = (short)((i / CHANNELS % 128 - 64) * 16);

	/* Playback: prefill the whole buffer, which starts the stream. */
	if (capture)
		err = snd_pcm_start(pcm);
	else
		err = nowake_xfer(pcm, 0, buf, bsize);
	if (err < 0)
		return fail(capture ? "start" : "prefill", err);
	done = capture ? 0 : err;

	/* Half a period, like a sound server's timer. */
	step = (long long)psize * 1000000000LL / RATE / 2;
	next = mono_ns();
	for (;;) {
		struct timespec ts;

		next += step;
		ts.tv_sec = next / 1000000000LL;
		ts.tv_nsec = next % 1000000000LL;
		while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
			;
		if (err)
			return fail("clock_nanosleep", -err);
		wakeups++;
		now = mono_ns();
		/* Late by more than a step (a stalled vCPU): go on from now, no burst. */
		if (now - next > step)
			next = now;

		/* The delay ioctl syncs the position; avail_update then reads it. */
		err = snd_pcm_delay(pcm, &delay);
		if (err >= 0) {
			avail = snd_pcm_avail_update(pcm);
			err = avail < 0 ? (int)avail : 0;
		}
		if (done >= total) {
			/* Playback: played out when the delay is 0 or the stream ran dry. */
			if (err == -EPIPE || (!err && delay <= 0))
				break;
			if (err < 0)
				return fail("delay/avail while playing out", err);
			/* What is queued, plus a second of slack for a slow device. */
			if (!end)
				end = now + (long long)bsize * 1000000000LL / RATE + 1000000000LL;
			if (now > end)
				return fail("playback not played out in time", -ETIMEDOUT);
			/* Refilled after an xrun with less than the start threshold. */
			if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
				err = snd_pcm_start(pcm);
				if (err < 0)
					return fail("start", err);
			}
			continue;
		}
		if (err < 0) {
			err = nowake_recover(pcm, capture, err, &xruns);
			if (err < 0)
				return fail("delay/avail", err);
			continue;
		}
		/* A full buffer that never started: the start that the write made failed, and
		 * ALSA drops that error once frames were written. Start it, as a server does, and
		 * fail on the error (a device that broke the queue), instead of waiting forever. */
		if (!capture && avail == 0 && snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
			err = snd_pcm_start(pcm);
			if (err < 0)
				return fail("start of a full buffer", err);
			continue;
		}
		if (avail > (snd_pcm_sframes_t)bsize)
			avail = bsize;
		if (avail > total - done)
			avail = total - done;
		n = nowake_xfer(pcm, capture, buf, avail);
		if (n < 0) {
			err = nowake_recover(pcm, capture, (int)n, &xruns);
			if (err < 0)
				return fail(capture ? "read" : "write", err);
			continue;
		}
		done += n;
		if (capture && done >= total)
			break;
	}
	err = snd_pcm_drop(pcm);
	if (err < 0)
		return fail("drop", err);
	snd_pcm_close(pcm);
	free(buf);
	printf("nowake: %s frames=%ld xruns=%ld wakeups=%ld period=%lu buffer=%lu\n", dir, done,
	       xruns, wakeups, psize, bsize);
	return 0;
}

static int do_ctl_wait(const char *dev, const char *name, double secs)
{
	snd_ctl_t *ctl;
	snd_ctl_event_t *ev;
	double end = now() + secs;
	int err;

	err = snd_ctl_open(&ctl, dev, SND_CTL_NONBLOCK);
	if (err < 0)
		return fail("ctl open", err);
	err = snd_ctl_subscribe_events(ctl, 1);
	if (err < 0)
		return fail("subscribe", err);
	snd_ctl_event_alloca(&ev);
	printf("ctl-wait: listening\n");
	fflush(stdout);
	while (now() < end) {
		err = snd_ctl_wait(ctl, 100);
		if (err < 0)
			return fail("wait", err);
		while ((err = snd_ctl_read(ctl, ev)) > 0) {
			if (snd_ctl_event_get_type(ev) != SND_CTL_EVENT_ELEM)
				continue;
			printf("ctl-wait: event on '%s' mask %#x\n", snd_ctl_event_elem_get_name(ev),
			       snd_ctl_event_elem_get_mask(ev));
			if (!strcmp(snd_ctl_event_elem_get_name(ev), name) &&
			    (snd_ctl_event_elem_get_mask(ev) & SND_CTL_EVENT_MASK_VALUE)) {
				snd_ctl_close(ctl);
				return 0;
			}
		}
		if (err < 0 && err != -EAGAIN)
			return fail("read", err);
	}
	snd_ctl_close(ctl);
	fprintf(stderr, "FAIL: no value event for '%s' within %.1f s\n", name, secs);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "pause"))
		return do_pause(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "xrun"))
		return do_xrun(argv[2], 0);
	if (argc >= 3 && !strcmp(argv[1], "overrun"))
		return do_xrun(argv[2], 1);
	if (argc >= 5 && !strcmp(argv[1], "tiny"))
		return do_tiny(argv[2], atol(argv[3]), atof(argv[4]));
	if (argc >= 6 && !strcmp(argv[1], "nowake"))
		return do_nowake(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "ctl-wait"))
		return do_ctl_wait(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr, "usage: pcm-client pause|xrun|overrun DEV | tiny DEV FRAMES SECS | "
			"nowake DEV playback|capture PERIOD SECS | ctl-wait CTL NAME SECS\n");
	return 2;
}
