// SPDX-License-Identifier: GPL-2.0
/*
 * buf-frag: how large a PCM buffer still allocates when physical memory is fragmented
 * (tests/guest/buffer-frag.sh).
 *
 *   buf-frag frag [--kind pipe|anon] [--keep MB] [--eat MB]
 *       Fills free memory with single pages, alternately into two sets, until MemFree is
 *       at most --keep MB (default 8); frees the second set (every other page); then, with
 *       --eat MB, takes that much more anonymous memory, which the page allocator serves from
 *       the movable free lists first, i.e. from what was left contiguous. Prints "ready" on
 *       stdout and holds the memory until killed.
 *       pipe (default): pipe buffer pages, GFP_HIGHUSER: unmovable, compaction cannot undo
 *       the holes. anon: anonymous pages (movable; a kernel with CONFIG_COMPACTION can
 *       defragment them).
 *   buf-frag probe DEV play|capture BYTES [PERIODS]
 *       Opens DEV, S16_LE 48 kHz stereo, a buffer of exactly BYTES bytes in PERIODS periods
 *       (default 4), installs the hardware parameters (the driver allocates the buffer in
 *       hw_params), then prepares and starts the stream for 100 ms (per-period messages).
 *       Prints "ok BYTES ..." or "fail BYTES STEP: ERROR (ERRNO)"; exit 0 or 1.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define PAGE 4096UL

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

struct pipeset {
	int (*fd)[2];
	size_t n, cap;
};

static int pipe_new(struct pipeset *s, int size)
{
	int p[2];

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->fd = realloc(s->fd, s->cap * sizeof(*s->fd));
		if (!s->fd)
			return -1;
	}
	if (pipe(p))
		return -1;
	if (fcntl(p[1], F_SETPIPE_SZ, size) < 0) {
		fprintf(stderr, "F_SETPIPE_SZ %d: %s\n", size, strerror(errno));
		return -1;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	s->fd[s->n][0] = p[0];
	s->fd[s->n][1] = p[1];
	s->n++;
	return 0;
}

static int frag(int argc, char **argv)
{
	const char *kind = "pipe";
	long keep_mb = 8, eat_mb = 0, pages = 0;
	static char buf[PAGE];
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
			keep_mb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--eat") && i + 1 < argc)
			eat_mb = atol(argv[++i]);
		else {
			fprintf(stderr, "frag: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	/* The OOM killer should pick this process, never init or the test script. */
	{
		FILE *f = fopen("/proc/self/oom_score_adj", "w");

		if (f) {
			fputs("1000", f);
			fclose(f);
		}
	}
	memset(buf, 0x5a, sizeof(buf));
	fprintf(stderr, "frag: %s, MemFree %ld kB, filling down to %ld MB\n", kind,
		meminfo_kb("MemFree"), keep_mb);

	if (!strcmp(kind, "pipe")) {
		/* 1 MiB pipes (256 pages each). Not larger: the ring of a pipe (40 bytes a slot)
		 * is one kmalloc, freed with the pipe; 16 MiB pipes would free order-6 blocks. */
		const int size = 1 << 20;
		struct pipeset a = { 0 }, b = { 0 };
		struct rlimit rl = { 65536, 65536 };
		FILE *f = fopen("/proc/sys/fs/pipe-max-size", "w");
		size_t k;

		if (f) {
			fprintf(f, "%d", size);
			fclose(f);
		}
		setrlimit(RLIMIT_NOFILE, &rl);
		for (;;) {
			int j;

			if (pipe_new(&a, size) || pipe_new(&b, size))
				return 1;
			for (j = 0; j < size / (int)PAGE; j++) {
				/* One page each, alternately: neighbours go to different sets. */
				if (write(a.fd[a.n - 1][1], buf, PAGE) != PAGE ||
				    write(b.fd[b.n - 1][1], buf, PAGE) != PAGE) {
					fprintf(stderr, "frag: pipe write: %s\n", strerror(errno));
					return 1;
				}
				pages += 2;
				if ((pages & 255) == 0 && meminfo_kb("MemFree") <= keep_mb * 1024)
					goto filled;
			}
		}
filled:
		fprintf(stderr, "frag: %ld pages in %zu+%zu pipes, MemFree %ld kB; freeing one set\n",
			pages, a.n, b.n, meminfo_kb("MemFree"));
		for (k = 0; k < b.n; k++) {
			close(b.fd[k][0]);
			close(b.fd[k][1]);
		}
	} else if (!strcmp(kind, "anon")) {
		size_t len = (size_t)meminfo_kb("MemFree") * 1024, off;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED) {
			fprintf(stderr, "frag: mmap: %s\n", strerror(errno));
			return 1;
		}
		for (off = 0; off < len; off += PAGE) {
			m[off] = 1;
			pages++;
			if ((pages & 255) == 0 && meminfo_kb("MemFree") <= keep_mb * 1024)
				break;
		}
		fprintf(stderr, "frag: %ld anonymous pages, MemFree %ld kB; freeing every other\n",
			pages, meminfo_kb("MemFree"));
		for (off = PAGE; off < (size_t)pages * PAGE; off += 2 * PAGE)
			madvise(m + off, PAGE, MADV_DONTNEED);
	} else {
		fprintf(stderr, "frag: unknown kind %s\n", kind);
		return 2;
	}
	fprintf(stderr, "frag: MemFree %ld kB\n", meminfo_kb("MemFree"));
	if (eat_mb > 0) {
		size_t len = (size_t)eat_mb << 20, off;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			fprintf(stderr, "frag: mmap: %s\n", strerror(errno));
			return 1;
		}
		for (off = 0; off < len; off += PAGE)
			m[off] = 1;
		fprintf(stderr, "frag: ate %ld MB more, MemFree %ld kB\n", eat_mb,
			meminfo_kb("MemFree"));
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int probe(const char *dev, const char *dir, unsigned long bytes, unsigned int periods)
{
	snd_pcm_t *pcm;
	snd_pcm_hw_params_t *hw;
	snd_pcm_uframes_t buffer = bytes / 4, period = buffer / periods;
	const char *step;
	int err;

	err = snd_pcm_open(&pcm, dev, strcmp(dir, "capture") ? SND_PCM_STREAM_PLAYBACK :
			   SND_PCM_STREAM_CAPTURE, 0);
	if (err < 0) {
		printf("fail %lu open: %s (%d)\n", bytes, snd_strerror(err), err);
		return 1;
	}
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_hw_params_any(pcm, hw);
	if ((err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
		step = "access";
	else if ((err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0)
		step = "format";
	else if ((err = snd_pcm_hw_params_set_channels(pcm, hw, 2)) < 0)
		step = "channels";
	else if ((err = snd_pcm_hw_params_set_rate(pcm, hw, 48000, 0)) < 0)
		step = "rate";
	else if ((err = snd_pcm_hw_params_set_buffer_size(pcm, hw, buffer)) < 0)
		step = "buffer size (constraint)";
	else if ((err = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0)
		step = "period size (constraint)";
	else if ((err = snd_pcm_hw_params(pcm, hw)) < 0)
		step = "hw_params";
	else
		step = NULL;
	if (step) {
		printf("fail %lu %s: %s (%d)\n", bytes, step, snd_strerror(err), err);
		snd_pcm_close(pcm);
		return 1;
	}
	/* Start the stream: a driver may allocate per-period messages (scatter-gather lists)
	 * at prepare or start, not only the buffer at hw_params. Playback: the whole buffer of
	 * silence; then 100 ms; running (or already in xrun) counts as started. */
	{
		char *zero = calloc(buffer, 4);
		snd_pcm_sframes_t w;
		snd_pcm_state_t st;

		if (!zero) {
			printf("fail %lu calloc\n", bytes);
			snd_pcm_close(pcm);
			return 1;
		}
		err = snd_pcm_prepare(pcm);
		if (err < 0) {
			step = "prepare";
		} else if (!strcmp(dir, "capture")) {
			err = snd_pcm_start(pcm);
			step = err < 0 ? "start" : NULL;
		} else {
			w = snd_pcm_writei(pcm, zero, buffer);
			err = w < 0 ? (int)w : 0;
			step = w < 0 ? "write (start)" : NULL;
		}
		free(zero);
		if (!step) {
			usleep(100000);
			st = snd_pcm_state(pcm);
			if (st != SND_PCM_STATE_RUNNING && st != SND_PCM_STATE_XRUN) {
				err = -EIO;
				step = "running after 100 ms";
			}
		}
		if (step) {
			printf("fail %lu %s: %s (%d)\n", bytes, step, snd_strerror(err), err);
			snd_pcm_close(pcm);
			return 1;
		}
	}
	printf("ok %lu (buffer %lu frames, period %lu, started)\n", bytes, buffer, period);
	snd_pcm_drop(pcm);
	snd_pcm_close(pcm);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "frag"))
		return frag(argc - 2, argv + 2);
	if (argc >= 5 && !strcmp(argv[1], "probe"))
		return probe(argv[2], argv[3], strtoul(argv[4], NULL, 0),
			     argc > 5 ? (unsigned int)atoi(argv[5]) : 4);
	fprintf(stderr, "usage: buf-frag frag [--kind pipe|anon] [--keep MB] [--eat MB]\n"
			"       buf-frag probe DEV play|capture BYTES [PERIODS]\n");
	return 2;
}
