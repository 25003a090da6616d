// SPDX-License-Identifier: GPL-2.0
/*
 * trigger-race: ioctls of one playback substream that wait for the same START/STOP answer
 * at once (tests/guest/vsnd-faults.sh).
 *
 *   trigger-race DEV BOUND_MS [THREADS]
 *
 * Opens DEV for playback (48 kHz, S16_LE, stereo, 4 periods of 1024 frames), fills the
 * buffer with silence, starts the stream and lets it run 100 ms, then drops it: the driver
 * sends STOP and does not wait for the answer (the trigger runs in atomic context). The test
 * device delays that answer (tools/vsnd-device "fault ctl-delay MS on STOP stream N"). At
 * once, THREADS threads (default 2) issue SNDRV_PCM_IOCTL_PREPARE on the PCM's file
 * descriptor (the raw ioctl: alsa-lib's own lock of the handle would serialise
 * snd_pcm_prepare calls). Each ioctl must return 0 within BOUND_MS of the drop (the test
 * passes the driver's msg_timeout_ms: a PREPARE left waiting for the STOP answer after it
 * came gives up only after that long). Then the stream must play again (one buffer, drained).
 * (The ALSA core serialises the PREPAREs of one substream: snd_pcm_action_nonatomic holds
 * the runtime's buffer_mutex, so only one of them waits in the driver at a time; the others
 * find the STOP answered.)
 *
 * Output: "# " lines with each thread's result and time, then "RESULT ok|fail ...".
 * Exit status 0 if every ioctl returned 0 within BOUND_MS and the stream played again,
 * 1 otherwise, 2 on bad usage.
 */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* SNDRV_PCM_IOCTL_PREPARE of <sound/asound.h> (not included: its definitions clash with
 * alsa-lib's). */
#define PCM_IOCTL_PREPARE _IO('A', 0x40)

#define RATE 48000
#define CHANNELS 2
#define FRAME_BYTES 4
#define PERIOD 1024
#define BUFFER (4 * PERIOD)
#define THREADS_MAX 8

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	printf("RESULT fail %s: %s (%d)\n", what, snd_strerror(err), err);
	return 1;
}

struct racer {
	pthread_t tid;
	int fd;
	pthread_barrier_t *go;
	double t0;  /* the drop */
	double start, end;
	int rc, err;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->start = now();
	r->rc = ioctl(r->fd, PCM_IOCTL_PREPARE);
	r->err = r->rc < 0 ? errno : 0;
	r->end = now();
	return NULL;
}

/* Writes one buffer of silence and starts the stream. */
static int fill_and_start(snd_pcm_t *pcm, const char **what)
{
	static char zero[BUFFER * FRAME_BYTES];
	snd_pcm_sframes_t n;
	int err;

	n = snd_pcm_writei(pcm, zero, BUFFER);
	if (n != BUFFER) {
		*what = "write";
		return n < 0 ? (int)n : -EIO;
	}
	if (snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING) {
		err = snd_pcm_start(pcm);
		if (err < 0) {
			*what = "start";
			return err;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = PERIOD, buffer = BUFFER;
	struct racer r[THREADS_MAX];
	pthread_barrier_t go;
	struct pollfd pfd;
	snd_pcm_t *pcm;
	const char *what = "";
	double bound_ms, t0;
	int err, ok = 1, threads = 2;

	if (argc == 4)
		threads = atoi(argv[3]);
	if (argc < 3 || argc > 4 || (bound_ms = atof(argv[2])) <= 0 || threads < 1 ||
	    threads > THREADS_MAX) {
		fprintf(stderr, "usage: %s DEV BOUND_MS [THREADS]\n", argv[0]);
		return 2;
	}
	err = snd_pcm_open(&pcm, argv[1], SND_PCM_STREAM_PLAYBACK, 0);
	if (err < 0)
		return fail("snd_pcm_open", err);
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, RATE, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size(pcm, hw, buffer)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0)
		return fail("hw_params", err);
	/* Started by hand; no automatic stop at an underrun before the drop. */
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, BUFFER * 2)) < 0 ||
	    (err = snd_pcm_sw_params(pcm, sw)) < 0)
		return fail("sw_params", err);
	if (snd_pcm_poll_descriptors(pcm, &pfd, 1) != 1)
		return fail("snd_pcm_poll_descriptors", -EINVAL);

	err = fill_and_start(pcm, &what);
	if (err < 0)
		return fail(what, err);
	usleep(100000);
	err = snd_pcm_drop(pcm);
	if (err < 0)
		return fail("snd_pcm_drop", err);
	t0 = now();

	pthread_barrier_init(&go, NULL, threads);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct racer){ .fd = pfd.fd, .go = &go, .t0 = t0 };
		err = pthread_create(&r[i].tid, NULL, race, &r[i]);
		if (err)
			return fail("pthread_create", -err);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(r[i].tid, NULL);
	pthread_barrier_destroy(&go);

	for (int i = 0; i < threads; i++) {
		double ms = (r[i].end - t0) * 1000;

		printf("# thread %d: PREPARE ioctl returned %d (%s) %.0f ms after the drop (it "
		       "started %.1f ms after it)\n",
		       i, r[i].rc, r[i].rc ? strerror(r[i].err) : "ok", ms,
		       (r[i].start - t0) * 1000);
		if (r[i].rc != 0 || ms >= bound_ms)
			ok = 0;
	}
	if (!ok)
		printf("# want: every one returns 0 within %.0f ms of the drop\n", bound_ms);

	/* The stream plays again. */
	err = fill_and_start(pcm, &what);
	if (err >= 0) {
		what = "drain";
		err = snd_pcm_drain(pcm);
	}
	if (err < 0) {
		printf("# after the race: %s: %s (%d)\n", what, snd_strerror(err), err);
		ok = 0;
	} else {
		printf("# after the race: one buffer played and drained\n");
	}
	snd_pcm_close(pcm);
	printf("RESULT %s\n", ok ? "ok" : "fail");
	return ok ? 0 : 1;
}
