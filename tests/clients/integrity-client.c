// SPDX-License-Identifier: GPL-2.0
/*
 * integrity-client: sample-exact integrity of one PCM stream (Documentation/integrity.rst).
 *
 * Plays or captures the integrity pattern, in which every frame carries its own position,
 * and gives the verdict of the spec's Pass rules. The device (tools/vsnd-device) is told
 * through its test-control socket, reached from the guest as the virtio-serial port named
 * vsnd.ctl (scripts/run-guest.sh --vsnd):
 *   playback: "integrity SID arm SEED [keep]" before the first write; after the drain, the
 *             device's "integrity SID report" is judged; "integrity SID off"
 *   capture:  "integrity SID arm SEED" before snd_pcm_start; the client verifies what it
 *             reads itself, with the spec's verifier; "integrity SID off"
 *
 * usage: integrity-client [OPTIONS] playback|capture
 *        integrity-client [OPTIONS] --write-file FILE | --verify-file FILE
 *        integrity-client [OPTIONS] --arm-only playback|capture | --report-only playback
 *        integrity-client --self-test
 *   -D, --device DEV      PCM (default hw:0,0)
 *   --sid N               the device's virtio stream id (default: from the substream k that
 *                         was opened, 2k for playback, 2k+1 for capture: the device's
 *                         default layout alternates directions)
 *   --ctl PATH            the control port (default: the /dev/vportNpM whose
 *                         /sys/class/virtio-ports/vportNpM/name is vsnd.ctl)
 *   -f, --format NAME     ALSA format name (default S16_LE; "S16" means S16_LE): U8 S8 S16_LE
 *                         U16_LE S24_LE S24_3LE U24_LE S32_LE U32_LE FLOAT_LE FLOAT64_LE ...
 *   -c, --channels N      (default 2)
 *   -r, --rate HZ         (default 48000)
 *   --period F            period size in frames (default 1024)
 *   --buffer F            buffer size in frames (default 4 periods)
 *   --periods N           buffer size in periods (instead of --buffer)
 *   -n, --frames N        frames to play or capture (default rate / 2)
 *   --seed S              the pattern's 32-bit seed (default 1)
 *   --access rw|mmap      snd_pcm_writei/readi, or mmap_begin/commit (default rw)
 *   --chunk N             frames per write or read (default one period)
 *   --pause-at F:MS       after F frames, snd_pcm_pause(1), sleep MS ms, snd_pcm_pause(0)
 *   --xrun-at F:MS        after F frames, no transfer for MS ms, so that an xrun happens
 *                         (the next transfer must see EPIPE); snd_pcm_prepare and continue
 *   --reset-at F          after F frames, snd_pcm_reset while running
 *                         (--pause-at, --xrun-at, --reset-at: repeatable, 8 at most; a
 *                         stream not started yet is started first)
 *   --drop                snd_pcm_drop instead of snd_pcm_drain at the end
 *   --timer US            as a sound server does: period wakeups off (the run fails if the
 *                         PCM cannot turn them off), avail_min = the buffer, and every US
 *                         microseconds, on the client's own timer, it transfers what
 *                         snd_pcm_avail_update says is there (up to --chunk frames at a time)
 *   --allow-xruns         an xrun that was not requested is recovered from and allowed
 *                         (else it fails the run)
 *   --keep-armed          arm the device's stream with "integrity SID arm SEED keep": it
 *                         stays armed across a driver reset (the system sleep's freeze
 *                         resets the device), its position and counts as they were
 *   --expect-suspend      a system sleep is to come during the stream (the test suspends
 *                         the guest): the run fails if none came; implies --keep-armed
 *   --no-verify           no device verdict: no arm, no report, no capture check (reference
 *                         runs on a device without the integrity command)
 *   --self-test           checks the pattern against the spec's reference values and the
 *                         verifier against the streams of the device's unit tests; no PCM
 * A sound server's stream (tests/guest/pipewire.sh, pulse-integrity.sh): no PCM is opened;
 * -f, -c, -r, -n and --seed describe the file or the stream:
 *   --write-file FILE     a WAV file of frames 0 .. N-1 of the pattern (a format that WAV
 *                         carries: U8 S16_LE S24_3LE S32_LE FLOAT_LE FLOAT64_LE), then
 *                         --pad F frames of silence (default 0), for the server's player
 *   --verify-file FILE    verifies a WAV recording of the device's pattern (a server's
 *                         recorder): silence before the first frame of the pattern and after
 *                         the last is allowed; the first frame that is not silence may be at
 *                         any position (searched from 0, as far as the verifier's window),
 *                         and from there every frame must follow in order and unaltered; it
 *                         must hold N frames of the pattern at least
 *   --arm-only            "integrity SID arm SEED [keep] [lead]" only (SID: --sid, else 0 for
 *                         playback and 1 for capture: the first substream of each direction
 *                         in the device's default layout)
 *   --lead                (--arm-only) arm with "lead": the device counts silence before the
 *                         first frame of the pattern apart (a server starts its sink before
 *                         the player's data comes), not as silence
 *   --report-only         the device's report of a playback stream, judged as a drained
 *                         stream of N frames without xrun (every frame good, silence only
 *                         after the last), then "integrity SID off"
 *
 * Discontinuities: after an xrun (EPIPE) or a reset, the client goes on with the next
 * position that it did not write (playback), and records that position; a gap of lost
 * frames must end there and a silence run must start there (or just before such a gap, or
 * after the last frame written). For capture, the position recorded is the verifier's
 * expected position when EPIPE (or the reset) came, and a gap or silence run must start there
 * (capture data is kept and verified after the run, so that verifying cannot make the
 * reader late). A playback stream found in XRUN before or after the drain (ALSA's drain
 * returns 0 then) had an xrun too: its last frames may not have been played.
 *
 * Suspends: while the stream is SUSPENDED (a system sleep), transfers, avail, wait and
 * drain return ESTRPIPE. The client then calls snd_pcm_resume() until it stops returning
 * EAGAIN (every 10 ms). A suspend with a successful resume is no xrun and allows no gap:
 * the driver must keep every frame (SNDRV_PCM_INFO_RESUME). If the resume fails (a driver
 * without RESUME), the client prepares the stream again (and starts a capture stream), as
 * after an xrun: that is counted as an xrun (allowed only with --allow-xruns), its position
 * is recorded like an xrun's, and a gap must end (playback) or start (capture) there. Every
 * suspend is counted and printed ("suspends=" in the RESULT line when there was one, or
 * with --expect-suspend).
 *
 * Output: "# " lines describing the parameters and every event with its position, then one
 * last line "RESULT ok|fail frames=N xruns=K ...". Exit status 0 on a pass, 1 on a failure,
 * 2 on bad usage, 4 if the PCM does not offer the format at all (so that a test can skip it).
 */
#include <alsa/asoundlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NOT_OFFERED 4
#define MAX_ACTIONS 8
#define MAX_RESUMES 64
#define CTL_PORT_NAME "vsnd.ctl"
#define CTL_TIMEOUT_MS 10000
/* The verifier's search window around the expected position (the spec's 2^20). */
#define SEARCH_WINDOW (1ULL << 20)
/* Frames after a candidate that must match it too (the spec's "up to 4"). */
#define SEARCH_FOLLOWERS 4
/* Corrupt frames after which the verifier stops searching (a stream gone that wrong fails
 * anyway, and searches of frames found nowhere are slow under TCG): the rest of the
 * stream's frames that are not the expected one or silence count as corrupt. */
#define SEARCH_GIVE_UP 64
/* Events that a report keeps (a broken stream has no end of them). */
#define REPORT_KEEP_MAX 4096
/* Events of each kind that are printed (as many as the device lists). */
#define REPORT_PRINT_MAX 16
/* Buckets of the verifier's search index: 2^20. */
#define VERIFIER_HASH_BITS 20

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A "# " diagnostic line. */
static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

/* ---- The pattern (Documentation/integrity.rst, "The pattern") ------------------------ */

enum sample_kind { SK_SIGNED, SK_UNSIGNED, SK_FLOAT32, SK_FLOAT64 };

/* A stream's sample format and channels, as the pattern sees them. */
struct pfmt {
	enum sample_kind kind;
	unsigned int bits;     /* significant bits (b) */
	unsigned int bytes;    /* container bytes (n) */
	unsigned int channels;
	unsigned int frame;    /* bytes per frame */
	uint8_t silence[8];    /* one sample of silence */
};

static uint64_t splitmix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* r: the 32-bit value of position f, channel c. */
static uint32_t pattern_r(uint32_t seed, uint64_t f, unsigned int c)
{
	return splitmix64(((uint64_t)seed << 32) ^ (f * 256 + c)) >> 32;
}

static void store_le(uint8_t *out, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		out[i] = v >> (8 * i);
}

/* The sample of value r, cut to the format, never equal to the format's silence. */
static void pattern_sample(const struct pfmt *f, uint32_t r, uint8_t *out)
{
	int64_t v;
	uint64_t u;
	float x32;
	double x64;
	uint32_t b32;
	uint64_t b64;

	switch (f->kind) {
	case SK_SIGNED:
		v = r >> (32 - f->bits);
		if (v >= (1LL << (f->bits - 1)))
			v -= 1LL << f->bits;
		if (v == 0)
			v = 1;
		store_le(out, (uint64_t)v, f->bytes); /* two's complement: sign-extended */
		break;
	case SK_UNSIGNED:
		u = r >> (32 - f->bits);
		if (u == 1ULL << (f->bits - 1))
			u++;
		store_le(out, u, f->bytes);
		break;
	case SK_FLOAT32:
	case SK_FLOAT64:
		v = (int64_t)(r >> 8) - (1 << 23);
		if (v == 0)
			v = 1;
		if (f->kind == SK_FLOAT32) {
			x32 = (float)v / 8388608.0f;
			memcpy(&b32, &x32, 4);
			store_le(out, b32, 4);
		} else {
			x64 = (double)v / 8388608.0;
			memcpy(&b64, &x64, 8);
			store_le(out, b64, 8);
		}
		break;
	}
}

/* The frame at position pos into out (f->frame bytes). */
static void pattern_frame(const struct pfmt *f, uint32_t seed, uint64_t pos, uint8_t *out)
{
	for (unsigned int c = 0; c < f->channels; c++)
		pattern_sample(f, pattern_r(seed, pos, c), out + c * f->bytes);
}

static int frame_is_silence(const struct pfmt *f, const uint8_t *p)
{
	for (unsigned int c = 0; c < f->channels; c++)
		if (memcmp(p + c * f->bytes, f->silence, f->bytes))
			return 0;
	return 1;
}

/* Fills in f for an ALSA format; 0, or -1 (with a message) for a format the pattern has no
 * rule for (big-endian, non-linear). */
static int pfmt_init(struct pfmt *f, snd_pcm_format_t format, unsigned int channels)
{
	int width = snd_pcm_format_width(format);
	int phys = snd_pcm_format_physical_width(format);

	memset(f, 0, sizeof(*f));
	f->channels = channels;
	if (width <= 0 || phys <= 0 || phys % 8 || phys > 64 ||
	    (phys > 8 && snd_pcm_format_little_endian(format) != 1)) {
		fprintf(stderr, "format %s: the pattern covers little-endian linear and float formats\n",
			snd_pcm_format_name(format));
		return -1;
	}
	f->bits = width;
	f->bytes = phys / 8;
	if (snd_pcm_format_float(format) == 1) {
		f->kind = f->bytes == 8 ? SK_FLOAT64 : SK_FLOAT32;
	} else if (snd_pcm_format_linear(format) == 1 && width <= 32) {
		f->kind = snd_pcm_format_signed(format) == 1 ? SK_SIGNED : SK_UNSIGNED;
	} else {
		fprintf(stderr, "format %s: the pattern covers linear and float formats\n",
			snd_pcm_format_name(format));
		return -1;
	}
	f->frame = f->bytes * channels;
	if (f->kind == SK_UNSIGNED)
		store_le(f->silence, 1ULL << (f->bits - 1), f->bytes);
	return 0;
}

/* ---- Reports: the verifier's counts and events ---------------------------------------- */

enum ev_kind { EV_LOST, EV_SILENCE, EV_REPEATED, EV_REORDERED, EV_CORRUPT, EV_KINDS };

static const char *const ev_names[EV_KINDS] = { "lost", "silence", "repeated", "reordered",
						 "corrupt" };

struct report_event {
	enum ev_kind kind;
	uint64_t at;  /* the expected position when it happened */
	uint64_t pos; /* repeated: from=; reordered: pos= */
	uint64_t len;
};

/* What a receiver found: the device's "integrity SID report", or the client's own. */
struct report {
	uint64_t frames, good, count[EV_KINDS], end;
	struct report_event *ev;
	size_t nev, cap;
	uint64_t truncated[EV_KINDS]; /* events left out of the list (the device's "truncated") */
};

static void report_free(struct report *r)
{
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static struct report_event *report_add(struct report *r, enum ev_kind kind)
{
	static struct report_event scratch;

	if (r->nev == REPORT_KEEP_MAX) {
		/* A stream gone wrong: count the event, keep no more. */
		r->truncated[kind]++;
		memset(&scratch, 0, sizeof(scratch));
		return &scratch;
	}
	if (r->nev == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
		if (!r->ev) {
			perror("realloc");
			exit(1);
		}
	}
	memset(&r->ev[r->nev], 0, sizeof(r->ev[0]));
	r->ev[r->nev].kind = kind;
	return &r->ev[r->nev++];
}

static void report_event_text(const struct report_event *e, char *buf, size_t size)
{
	switch (e->kind) {
	case EV_REPEATED:
		snprintf(buf, size, "repeated at=%" PRIu64 " from=%" PRIu64 " len=%" PRIu64, e->at,
			 e->pos, e->len);
		break;
	case EV_REORDERED:
		snprintf(buf, size, "reordered at=%" PRIu64 " pos=%" PRIu64 " len=%" PRIu64, e->at,
			 e->pos, e->len);
		break;
	default:
		snprintf(buf, size, "%s at=%" PRIu64 " len=%" PRIu64, ev_names[e->kind], e->at,
			 e->len);
		break;
	}
}

/* ---- The verifier (Documentation/integrity.rst, "Verification") ----------------------- */

/*
 * Where the spec leaves room, this verifier decides as the device's
 * (tools/vsnd-device/src/pattern.rs), so that both report a stream alike:
 *  - a frame comes "again" when its position p is below the highest position received so
 *    far plus one (high), not only below e: after a jump back, the frames that follow in
 *    order are still repeats (a stale period shows as one run of repeated frames), and a
 *    jump forward to p counts as lost only the frames from high to p - 1 ("lost at=high");
 *  - a frame that comes out of order is taken out of its gap (a second copy of it is
 *    repeated); the gap's frames stay counted as lost;
 *  - the search takes the candidate nearest to e, e + d before e - d; a candidate must
 *    match F and every frame after F in the same read, up to 4;
 *  - an event extends the run of the previous event (of the previous or the same received
 *    frame) if it is of the same kind and continues it: silence at the same e; lost or
 *    corrupt at the run's end; repeated or reordered at the next position.
 * The search uses an index (hash of a frame -> positions) of the positions 0 .. e + 2^16,
 * grown to e + 2^20 when a search finds nothing nearer.
 */

/* The run that the last event made or extended. */
struct open_run {
	int valid;
	enum ev_kind kind;
	struct report_event run;
	uint64_t frame;  /* frames received before its last event */
	long listed;     /* its index in the report's list, or -1 */
};

struct verifier {
	struct pfmt f;
	uint32_t seed;
	uint64_t e, high;
	struct report rep;
	struct open_run open;
	/* Lost positions [start, end), in order (the oldest dropped past MAX_GAPS). */
	uint64_t (*gaps)[2];
	size_t ngaps;
	uint8_t *want; /* one frame of the pattern */
	/* The index: positions 0 .. indexed-1, chained by hash bucket; UINT32_MAX ends a chain. */
	uint32_t *head, *next;
	uint64_t indexed, next_cap;
};

#define MAX_GAPS 4096

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		perror("realloc");
		exit(1);
	}
	return p;
}

static void verifier_init(struct verifier *v, const struct pfmt *f, uint32_t seed)
{
	memset(v, 0, sizeof(*v));
	v->f = *f;
	v->seed = seed;
	v->want = xrealloc(NULL, f->frame);
	v->gaps = xrealloc(NULL, MAX_GAPS * sizeof(v->gaps[0]));
}

static void verifier_free(struct verifier *v)
{
	free(v->want);
	free(v->gaps);
	free(v->head);
	free(v->next);
	report_free(&v->rep);
}

static uint32_t frame_bucket(const uint8_t *p, unsigned int n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (unsigned int i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h >> (64 - VERIFIER_HASH_BITS);
}

/* Extends the index to positions 0 .. upto-1. */
static void verifier_index(struct verifier *v, uint64_t upto)
{
	if (upto > UINT32_MAX - 1)
		upto = UINT32_MAX - 1;
	if (upto <= v->indexed)
		return;
	if (!v->head) {
		v->head = xrealloc(NULL, sizeof(uint32_t) << VERIFIER_HASH_BITS);
		memset(v->head, 0xff, sizeof(uint32_t) << VERIFIER_HASH_BITS);
	}
	if (upto > v->next_cap) {
		v->next_cap = upto + upto / 2;
		v->next = xrealloc(v->next, v->next_cap * sizeof(uint32_t));
	}
	for (; v->indexed < upto; v->indexed++) {
		uint32_t b;

		pattern_frame(&v->f, v->seed, v->indexed, v->want);
		b = frame_bucket(v->want, v->f.frame);
		v->next[v->indexed] = v->head[b];
		v->head[b] = v->indexed;
	}
}

static int matches(struct verifier *v, uint64_t p, const uint8_t *frame)
{
	pattern_frame(&v->f, v->seed, p, v->want);
	return !memcmp(frame, v->want, v->f.frame);
}

/* frames[0] is the pattern at p, and the nnext frames after it at p + 1, ... */
static int confirm(struct verifier *v, uint64_t p, const uint8_t *frames, size_t nnext)
{
	for (size_t i = 0; i <= nnext; i++)
		if (!matches(v, p + i, frames + i * v->f.frame))
			return 0;
	return 1;
}

/* The position of frames[0] (followed by nnext frames) nearest to e in the window. */
static int verifier_search(struct verifier *v, const uint8_t *frames, size_t nnext,
			   uint64_t *found)
{
	uint64_t e = v->e, lo = e > SEARCH_WINDOW ? e - SEARCH_WINDOW : 0, hi = e + SEARCH_WINDOW;
	uint32_t b = frame_bucket(frames, v->f.frame);
	uint64_t best = 0, best_dist = UINT64_MAX;

	/* Near e first: a match there is nearer than anything the wider index adds. */
	for (uint64_t upto = e + (1 << 16);; upto = hi) {
		verifier_index(v, upto < hi ? upto : hi);
		for (uint32_t p = v->head[b]; p != UINT32_MAX; p = v->next[p]) {
			uint64_t dist = p > e ? p - e : e - p;

			if (p < lo || p >= hi || p == e || dist > best_dist ||
			    (dist == best_dist && p < e))
				continue;
			if (confirm(v, p, frames, nnext)) {
				best = p;
				best_dist = dist;
			}
		}
		if (best_dist != UINT64_MAX || upto >= hi)
			break;
	}
	if (best_dist == UINT64_MAX)
		return 0;
	*found = best;
	return 1;
}

/* Records an event, or extends the open run with it. */
static void verifier_event(struct verifier *v, enum ev_kind kind, uint64_t at, uint64_t pos,
			   uint64_t len)
{
	struct open_run *o = &v->open;
	uint64_t frame = v->rep.frames - 1;
	struct report_event *ev;

	if (o->valid && o->kind == kind && frame <= o->frame + 1) {
		int joins;

		switch (kind) {
		case EV_SILENCE:
			joins = at == o->run.at;
			break;
		case EV_LOST:
		case EV_CORRUPT:
			joins = at == o->run.at + o->run.len;
			break;
		default:
			joins = pos == o->run.pos + o->run.len;
			break;
		}
		if (joins) {
			o->run.len += len;
			o->frame = frame;
			if (o->listed >= 0)
				v->rep.ev[o->listed].len = o->run.len;
			return;
		}
	}
	ev = report_add(&v->rep, kind);
	ev->at = at;
	ev->pos = pos;
	ev->len = len;
	o->valid = 1;
	o->kind = kind;
	o->run = *ev;
	o->frame = frame;
	o->listed = ev == &v->rep.ev[v->rep.nev - 1] ? (long)v->rep.nev - 1 : -1;
}

/* Is p in a gap? If so, it leaves the gap. */
static int take_from_gap(struct verifier *v, uint64_t p)
{
	for (size_t i = 0; i < v->ngaps; i++) {
		uint64_t s = v->gaps[i][0], end = v->gaps[i][1];

		if (p < s || p >= end)
			continue;
		if (s == p && p + 1 == end) {
			memmove(&v->gaps[i], &v->gaps[i + 1], (v->ngaps - i - 1) * sizeof(v->gaps[0]));
			v->ngaps--;
		} else if (s == p) {
			v->gaps[i][0] = p + 1;
		} else if (p + 1 == end) {
			v->gaps[i][1] = p;
		} else {
			if (v->ngaps == MAX_GAPS) { /* no room to split: drop the oldest */
				memmove(&v->gaps[0], &v->gaps[1], (v->ngaps - 1) * sizeof(v->gaps[0]));
				v->ngaps--;
				i--;
			}
			memmove(&v->gaps[i + 2], &v->gaps[i + 1],
				(v->ngaps - i - 1) * sizeof(v->gaps[0]));
			v->gaps[i][1] = p;
			v->gaps[i + 1][0] = p + 1;
			v->gaps[i + 1][1] = end;
			v->ngaps++;
		}
		return 1;
	}
	return 0;
}

static void verifier_corrupt(struct verifier *v)
{
	v->rep.count[EV_CORRUPT]++;
	verifier_event(v, EV_CORRUPT, v->e, v->e, 1);
	v->e++;
	if (v->high < v->e)
		v->high = v->e;
}

/* The frame is the pattern at p. */
static void verifier_accept(struct verifier *v, uint64_t p)
{
	uint64_t at = v->e;

	if (p >= v->high) {
		if (p > v->high) {
			uint64_t h = v->high;

			v->rep.count[EV_LOST] += p - h;
			verifier_event(v, EV_LOST, h, h, p - h);
			if (v->ngaps == MAX_GAPS) {
				memmove(&v->gaps[0], &v->gaps[1], (v->ngaps - 1) * sizeof(v->gaps[0]));
				v->ngaps--;
			}
			v->gaps[v->ngaps][0] = h;
			v->gaps[v->ngaps][1] = p;
			v->ngaps++;
		}
		v->rep.good++;
	} else if (take_from_gap(v, p)) {
		v->rep.count[EV_REORDERED]++;
		verifier_event(v, EV_REORDERED, at, p, 1);
	} else {
		v->rep.count[EV_REPEATED]++;
		verifier_event(v, EV_REPEATED, at, p, 1);
	}
	v->e = p + 1;
	if (v->high < v->e)
		v->high = v->e;
}

/* Takes the n frames of one read. */
static void verifier_feed(struct verifier *v, const uint8_t *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *fr = frames + i * v->f.frame;
		size_t nnext = n - i - 1 < SEARCH_FOLLOWERS ? n - i - 1 : SEARCH_FOLLOWERS;
		uint64_t p;

		v->rep.frames++;
		if (matches(v, v->e, fr)) {
			verifier_accept(v, v->e);
		} else if (frame_is_silence(&v->f, fr)) {
			v->rep.count[EV_SILENCE]++;
			verifier_event(v, EV_SILENCE, v->e, v->e, 1);
		} else if (v->rep.count[EV_CORRUPT] < SEARCH_GIVE_UP &&
			   v->rep.nev < REPORT_KEEP_MAX && verifier_search(v, fr, nnext, &p)) {
			verifier_accept(v, p);
		} else {
			verifier_corrupt(v);
		}
	}
	v->rep.end = v->e;
}

/* ---- The Pass rules (Documentation/integrity.rst, "Pass") ----------------------------- */

/* Where the application told the stream to go on after a break (xrun, reset). */
struct resumes {
	uint64_t pos[MAX_RESUMES];
	unsigned int n;
};

static int is_resume(const struct resumes *rs, uint64_t pos)
{
	for (unsigned int i = 0; i < rs->n; i++)
		if (rs->pos[i] == pos)
			return 1;
	return 0;
}

/*
 * Judges a report; prints every event with its verdict. playback: the device's report;
 * written: frames written; drained: every frame written must have been played (a drain
 * that no xrun cut short; else the device's end may lie before written). Capture: gaps and
 * silence runs must start at a recorded position. Returns 1 on a pass.
 */
static int judge(const struct report *r, const struct resumes *rs, int playback,
		 uint64_t written, int drained)
{
	int pass = 1;
	uint64_t listed[EV_KINDS] = { 0 }, printed[EV_KINDS] = { 0 };
	char text[160];

	for (size_t i = 0; i < r->nev; i++) {
		const struct report_event *e = &r->ev[i];
		const char *why = NULL;

		listed[e->kind] += e->len;
		switch (e->kind) {
		case EV_LOST:
			if (playback && is_resume(rs, e->at + e->len))
				why = "ends where the client resumed after an xrun/reset";
			else if (!playback && is_resume(rs, e->at))
				why = "starts where the client resumed after an xrun/reset";
			break;
		case EV_SILENCE:
			if (is_resume(rs, e->at))
				why = "starts where the client resumed after an xrun/reset";
			else if (playback && e->at >= written)
				why = "after the last frame written";
			for (size_t j = 0; !why && playback && j < r->nev; j++)
				if (r->ev[j].kind == EV_LOST && r->ev[j].at == e->at &&
				    is_resume(rs, r->ev[j].at + r->ev[j].len))
					why = "just before a gap that ends at a resume position";
			break;
		default:
			break;
		}
		if (!why)
			pass = 0;
		if (printed[e->kind]++ < REPORT_PRINT_MAX) {
			report_event_text(e, text, sizeof(text));
			diag("%s: %s%s", text, why ? "allowed, " : "NOT ALLOWED", why ? why : "");
		}
	}
	for (int k = 0; k < EV_KINDS; k++) {
		if (printed[k] > REPORT_PRINT_MAX)
			diag("... and %" PRIu64 " more %s event(s), not shown",
			     printed[k] - REPORT_PRINT_MAX, ev_names[k]);
		if (r->truncated[k]) {
			diag("the report leaves out %" PRIu64 " %s event(s): they cannot be checked",
			     r->truncated[k], ev_names[k]);
			pass = 0;
		} else if (listed[k] != r->count[k]) {
			/* Not a Pass rule: a note on the report's bookkeeping. */
			diag("note: the report counts %" PRIu64 " %s frame(s), its events add up to %"
			     PRIu64, r->count[k], ev_names[k], listed[k]);
		}
	}
	if (playback) {
		if (drained && r->end != written) {
			diag("end=%" PRIu64 ": the device's last position is not the %" PRIu64
			     " frames written (drained)", r->end, written);
			pass = 0;
		} else if (!drained && r->end > written) {
			diag("end=%" PRIu64 ": beyond the %" PRIu64 " frames written", r->end, written);
			pass = 0;
		}
	}
	return pass;
}

/* ---- The device's control port -------------------------------------------------------- */

/* The /dev/vportNpM named vsnd.ctl, into buf; 0, or -1 if there is none. */
static int find_ctl_port(char *buf, size_t size)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while (found && (de = readdir(d))) {
		char path[512], name[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = 0;
		fclose(f);
		if (!strcmp(name, CTL_PORT_NAME)) {
			snprintf(buf, size, "/dev/%.200s", de->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

/*
 * One transaction: opens the port (retrying on EBUSY for up to 10 s: a virtio_console port
 * has one opener at a time), sends cmd, reads the reply up to its last line, closes. The
 * body (the "ok: BODY" text, or the lines before "ok") goes into body. Returns 0 on "ok",
 * -1 with a message otherwise.
 */
static int ctl_transact(const char *port, const char *cmd, char *body, size_t size)
{
	char line[1024];
	size_t len = 0, blen = 0;
	double deadline = now() + CTL_TIMEOUT_MS / 1000.0;
	int fd, rc = -1;

	body[0] = 0;
	for (;;) {
		fd = open(port, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EBUSY || now() > deadline) {
			diag("control port %s: open: %s", port, strerror(errno));
			return -1;
		}
		usleep(20000);
	}
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		diag("control port %s: write: %s", port, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (deadline - now()) * 1000;
		char *nl;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0) {
			diag("control port %s: no reply to '%s' within %d s", port, cmd,
			     CTL_TIMEOUT_MS / 1000);
			goto out;
		}
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0) {
			diag("control port %s: read: %s", port, n ? strerror(errno) : "end of file");
			goto out;
		}
		len += n;
		line[len] = 0;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (!strcmp(line, "ok")) {
				rc = 0;
				goto out;
			}
			if (!strncmp(line, "ok: ", 4)) {
				snprintf(body, size, "%s", line + 4);
				rc = 0;
				goto out;
			}
			if (!strncmp(line, "error: ", 7)) {
				diag("device: '%s': %s", cmd, line);
				goto out;
			}
			if (blen + strlen(line) + 2 < size)
				blen += sprintf(body + blen, "%s\n", line);
			len -= nl + 1 - line;
			memmove(line, nl + 1, len + 1);
		}
		if (len == sizeof(line) - 1) {
			diag("control port %s: reply line too long", port);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* Parses "key=value" words of a line; returns 1 if key was there. */
static int word_u64(const char *line, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			*out = strtoull(p + klen + 1, NULL, 10);
			return 1;
		}
		p += klen;
	}
	return 0;
}

/* The device's report body into r; 0, or -1 if it has no header line. */
static int parse_report(const char *body, struct report *r)
{
	char line[512];
	const char *p = body;
	int header = 0;

	memset(r, 0, sizeof(*r));
	while (*p) {
		size_t n = strcspn(p, "\n");
		char kind[32] = "";

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		sscanf(line, "%31s", kind);
		if (strstr(line, "frames=") == line) {
			header = word_u64(line, "frames", &r->frames) & word_u64(line, "good", &r->good) &
				 word_u64(line, "lost", &r->count[EV_LOST]) &
				 word_u64(line, "repeated", &r->count[EV_REPEATED]) &
				 word_u64(line, "reordered", &r->count[EV_REORDERED]) &
				 word_u64(line, "corrupt", &r->count[EV_CORRUPT]) &
				 word_u64(line, "silence", &r->count[EV_SILENCE]) &
				 word_u64(line, "end", &r->end);
			continue;
		}
		if (!strcmp(kind, "truncated")) {
			for (int k = 0; k < EV_KINDS; k++)
				word_u64(line, ev_names[k], &r->truncated[k]);
			continue;
		}
		for (int k = 0; k < EV_KINDS; k++) {
			struct report_event *e;

			if (strcmp(kind, ev_names[k]))
				continue;
			e = report_add(r, k);
			word_u64(line, "at", &e->at);
			word_u64(line, "len", &e->len);
			word_u64(line, k == EV_REPEATED ? "from" : "pos", &e->pos);
		}
	}
	return header ? 0 : -1;
}

/* ---- The run -------------------------------------------------------------------------- */

enum act { ACT_PAUSE, ACT_XRUN, ACT_RESET };

struct action {
	enum act what;
	uint64_t at;
	unsigned int ms;
};

struct opts {
	const char *device, *ctl;
	int capture, sid, mmap, drop, verify, allow_xruns, keep_armed, expect_suspend, lead;
	unsigned int timer_us;
	snd_pcm_format_t format;
	unsigned int channels, rate, periods;
	snd_pcm_uframes_t period, buffer, chunk;
	uint64_t frames, pad;
	uint32_t seed;
	struct action act[MAX_ACTIONS];
	unsigned int nact;
};

struct run {
	const struct opts *o;
	snd_pcm_t *pcm;
	struct pfmt f;
	uint8_t *buf;         /* one chunk, for rw */
	uint64_t done;        /* frames written or read */
	unsigned int next_act;
	int xrun_wanted;      /* a requested xrun has not come yet */
	unsigned int xruns, resets, pauses, unexpected;
	unsigned int suspends, restarts; /* ESTRPIPE; those not resumed (prepared again) */
	int ended_by_xrun;    /* playback: the last frames may not have been played */
	struct resumes rs;    /* playback: positions; capture: filled in by verify_capture */
	/* Capture: every frame read, and the length of each read, verified after the run (so
	 * that the verifier's searches cannot make the reader late); the frames received
	 * when each xrun or reset came. */
	uint8_t *cap;
	size_t *reads, nreads;
	uint64_t breaks[MAX_RESUMES];
	unsigned int nbreaks;
	struct verifier v;
	uint64_t next_tick;   /* --timer: the next wakeup, ns of CLOCK_MONOTONIC */
	int failed;
};

/* An ALSA call that failed: the run fails. */
static int alsa_fail(struct run *run, const char *what, int err)
{
	diag("FAIL: %s at frame %" PRIu64 ": %s (%d)", what, run->done, snd_strerror(err), err);
	run->failed = 1;
	return err;
}

/* A break (xrun, reset) at run->done: playback goes on with the next position not
 * written, which a gap must end at; for capture, the verifier's expected position at this
 * point of the stream (known after the run) is where a gap must start. */
static void record_break(struct run *run)
{
	if (run->o->capture) {
		if (run->nbreaks < MAX_RESUMES)
			run->breaks[run->nbreaks++] = run->done;
	} else if (run->rs.n < MAX_RESUMES) {
		run->rs.pos[run->rs.n++] = run->done;
	}
}

static const char *resume_text(struct run *run)
{
	return run->o->capture ? "the position the next read brings" : "the next frame written";
}

static const char *state_name(snd_pcm_t *pcm)
{
	return snd_pcm_state_name(snd_pcm_state(pcm));
}

/* Opens the PCM with exactly the requested parameters. */
static int setup_pcm(struct run *run)
{
	const struct opts *o = run->o;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = o->period, buffer = o->buffer, got_p, got_b;
	unsigned int rate, channels, pmin, pmax;
	snd_pcm_uframes_t fmin, fmax;
	snd_pcm_format_t format;
	snd_pcm_access_t access;
	int err, dir = 0;

	/* alsa-lib lets only a nonblocking PCM turn period wakeups off (--timer). */
	err = snd_pcm_open(&run->pcm, o->device,
			   o->capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
			   o->timer_us ? SND_PCM_NONBLOCK : 0);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_open", err);
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	err = snd_pcm_hw_params_any(run->pcm, hw);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_hw_params_any", err);
	access = o->mmap ? SND_PCM_ACCESS_MMAP_INTERLEAVED : SND_PCM_ACCESS_RW_INTERLEAVED;
	if (snd_pcm_hw_params_test_format(run->pcm, hw, o->format) < 0) {
		diag("%s does not offer format %s", o->device, snd_pcm_format_name(o->format));
		return -EINVAL;
	}
	err = snd_pcm_hw_params_set_access(run->pcm, hw, access);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_hw_params_set_access", err);
	err = snd_pcm_hw_params_set_format(run->pcm, hw, o->format);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_hw_params_set_format", err);
	err = snd_pcm_hw_params_set_channels(run->pcm, hw, o->channels);
	if (err < 0) {
		snd_pcm_hw_params_get_channels_min(hw, &pmin);
		snd_pcm_hw_params_get_channels_max(hw, &pmax);
		diag("channels %u refused; offered %u..%u", o->channels, pmin, pmax);
		return alsa_fail(run, "snd_pcm_hw_params_set_channels", err);
	}
	snd_pcm_hw_params_set_rate_resample(run->pcm, hw, 0);
	err = snd_pcm_hw_params_set_rate(run->pcm, hw, o->rate, 0);
	if (err < 0) {
		snd_pcm_hw_params_get_rate_min(hw, &pmin, &dir);
		snd_pcm_hw_params_get_rate_max(hw, &pmax, &dir);
		diag("rate %u refused; offered %u..%u", o->rate, pmin, pmax);
		return alsa_fail(run, "snd_pcm_hw_params_set_rate", err);
	}
	err = snd_pcm_hw_params_set_period_size(run->pcm, hw, period, 0);
	if (err < 0) {
		snd_pcm_hw_params_get_period_size_min(hw, &fmin, &dir);
		snd_pcm_hw_params_get_period_size_max(hw, &fmax, &dir);
		diag("period %lu frames refused; offered %lu..%lu", period, fmin, fmax);
		return alsa_fail(run, "snd_pcm_hw_params_set_period_size", err);
	}
	err = snd_pcm_hw_params_set_buffer_size(run->pcm, hw, buffer);
	if (err < 0) {
		snd_pcm_hw_params_get_buffer_size_min(hw, &fmin);
		snd_pcm_hw_params_get_buffer_size_max(hw, &fmax);
		diag("buffer %lu frames refused; offered %lu..%lu", buffer, fmin, fmax);
		return alsa_fail(run, "snd_pcm_hw_params_set_buffer_size", err);
	}
	if (o->timer_us) {
		if (!snd_pcm_hw_params_can_disable_period_wakeup(hw)) {
			diag("FAIL: %s cannot disable period wakeups (no NO_PERIOD_WAKEUP)",
			     o->device);
			run->failed = 1;
			return -EINVAL;
		}
		err = snd_pcm_hw_params_set_period_wakeup(run->pcm, hw, 0);
		if (err < 0)
			return alsa_fail(run, "snd_pcm_hw_params_set_period_wakeup", err);
	}
	err = snd_pcm_hw_params(run->pcm, hw);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_hw_params", err);

	/* What the driver made of it: exactly what was asked, or the run fails. */
	snd_pcm_hw_params_get_format(hw, &format);
	snd_pcm_hw_params_get_channels(hw, &channels);
	snd_pcm_hw_params_get_rate(hw, &rate, &dir);
	snd_pcm_hw_params_get_period_size(hw, &got_p, &dir);
	snd_pcm_hw_params_get_buffer_size(hw, &got_b);
	if (format != o->format || channels != o->channels || rate != o->rate || got_p != period ||
	    got_b != buffer) {
		diag("FAIL: hw_params refined: got %s %u ch %u Hz period %lu buffer %lu",
		     snd_pcm_format_name(format), channels, rate, got_p, got_b);
		run->failed = 1;
		return -EINVAL;
	}
	if (o->nact) {
		for (unsigned int i = 0; i < o->nact; i++)
			if (o->act[i].what == ACT_PAUSE && !snd_pcm_hw_params_can_pause(hw)) {
				diag("FAIL: %s cannot pause (no SNDRV_PCM_INFO_PAUSE)", o->device);
				run->failed = 1;
				return -EINVAL;
			}
	}

	err = snd_pcm_sw_params_current(run->pcm, sw);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_sw_params_current", err);
	/* Playback starts when the buffer is full (or at the drain); capture by snd_pcm_start,
	 * after the device is armed. */
	err = snd_pcm_sw_params_set_start_threshold(run->pcm, sw,
						    o->capture ? buffer + 1 : buffer);
	if (err >= 0)
		err = snd_pcm_sw_params_set_avail_min(run->pcm, sw,
						      o->timer_us	     ? buffer
						      : o->chunk < period ? o->chunk
									  : period);
	if (err >= 0)
		err = snd_pcm_sw_params(run->pcm, sw);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_sw_params", err);
	return 0;
}

/* The substream that snd_pcm_open gave us. */
static int subdevice(snd_pcm_t *pcm)
{
	snd_pcm_info_t *info;

	snd_pcm_info_alloca(&info);
	if (snd_pcm_info(pcm, info) < 0)
		return 0;
	return snd_pcm_info_get_subdevice(info);
}

/* Starts a stream that has not started yet (before a pause, xrun or reset). */
static int ensure_running(struct run *run)
{
	int err;

	if (snd_pcm_state(run->pcm) != SND_PCM_STATE_PREPARED)
		return 0;
	err = snd_pcm_start(run->pcm);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_start", err);
	diag("started at frame %" PRIu64 " (before the action there)", run->done);
	return 0;
}

/* The actions due at this frame. */
static int do_actions(struct run *run)
{
	const struct opts *o = run->o;
	int err;

	while (run->next_act < o->nact && o->act[run->next_act].at == run->done) {
		const struct action *a = &o->act[run->next_act++];

		if (ensure_running(run))
			return -1;
		switch (a->what) {
		case ACT_PAUSE:
			err = snd_pcm_pause(run->pcm, 1);
			if (err < 0)
				return alsa_fail(run, "snd_pcm_pause(1)", err);
			usleep(a->ms * 1000);
			diag("paused at frame %" PRIu64 " for %u ms (state %s)", run->done, a->ms,
			     state_name(run->pcm));
			err = snd_pcm_pause(run->pcm, 0);
			if (err < 0)
				return alsa_fail(run, "snd_pcm_pause(0)", err);
			run->pauses++;
			break;
		case ACT_XRUN:
			usleep(a->ms * 1000);
			diag("no transfer at frame %" PRIu64 " for %u ms, for an xrun (state now %s)",
			     run->done, a->ms, state_name(run->pcm));
			run->xrun_wanted = 1;
			break;
		case ACT_RESET:
			err = snd_pcm_reset(run->pcm);
			if (err < 0)
				return alsa_fail(run, "snd_pcm_reset", err);
			run->resets++;
			record_break(run);
			diag("reset at frame %" PRIu64 " (state %s); resuming at %s", run->done,
			     state_name(run->pcm), resume_text(run));
			break;
		}
	}
	return 0;
}

/* EPIPE: records it, prepares the stream again (and starts a capture stream). */
static int recover(struct run *run)
{
	int err;

	run->xruns++;
	record_break(run);
	if (run->xrun_wanted) {
		run->xrun_wanted = 0;
		diag("xrun (requested) at frame %" PRIu64 ": EPIPE; resuming at %s", run->done,
		     resume_text(run));
	} else {
		run->unexpected++;
		diag("%sxrun (unexpected) at frame %" PRIu64 ": EPIPE; resuming at %s",
		     run->o->allow_xruns ? "" : "FAIL: ", run->done, resume_text(run));
		if (!run->o->allow_xruns)
			run->failed = 1;
	}
	err = snd_pcm_prepare(run->pcm);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_prepare", err);
	if (run->o->capture) {
		err = snd_pcm_start(run->pcm);
		if (err < 0)
			return alsa_fail(run, "snd_pcm_start", err);
	}
	return 0;
}

/* How long the client calls snd_pcm_resume() while it returns EAGAIN (the devices are
 * still resuming). */
#define RESUME_TIMEOUT_S 30

/*
 * ESTRPIPE: the stream is SUSPENDED (a system sleep). snd_pcm_resume() until it stops
 * returning EAGAIN; if it fails, snd_pcm_prepare() (and snd_pcm_start() for capture) as
 * after an xrun: a discontinuity at run->done, counted as an xrun. draining: the drain was
 * cut short (a restart loses the frames not played yet, as an xrun there does).
 */
static int resume_suspended(struct run *run, int draining)
{
	double t0 = now();
	unsigned int tries = 0;
	int err;

	run->suspends++;
	diag("suspended at frame %" PRIu64 "%s: ESTRPIPE (state %s); snd_pcm_resume()", run->done,
	     draining ? " (draining)" : "", state_name(run->pcm));
	for (;;) {
		err = snd_pcm_resume(run->pcm);
		if (err != -EAGAIN || now() - t0 > RESUME_TIMEOUT_S)
			break;
		tries++;
		usleep(10000);
	}
	if (err == 0) {
		diag("resumed by snd_pcm_resume() at frame %" PRIu64 " after %.2f s (%u EAGAIN), "
		     "state %s: no frame may be lost", run->done, now() - t0, tries,
		     state_name(run->pcm));
		return 0;
	}
	run->restarts++;
	run->xruns++;
	run->unexpected++;
	record_break(run);
	if (draining && !run->o->capture)
		run->ended_by_xrun = 1;
	diag("%ssnd_pcm_resume() failed at frame %" PRIu64 ": %s (%d), after %.2f s; "
	     "snd_pcm_prepare() instead (an xrun: the frames in the buffer are lost); resuming at %s",
	     run->o->allow_xruns ? "" : "FAIL: ", run->done, snd_strerror(err), err, now() - t0,
	     resume_text(run));
	if (!run->o->allow_xruns)
		run->failed = 1;
	err = snd_pcm_prepare(run->pcm);
	if (err < 0)
		return alsa_fail(run, "snd_pcm_prepare (after a suspend)", err);
	if (run->o->capture) {
		err = snd_pcm_start(run->pcm);
		if (err < 0)
			return alsa_fail(run, "snd_pcm_start (after a suspend)", err);
	}
	return 0;
}

/* Playback: an xrun found by the state before or after the drain, which the client cannot
 * resume from. */
static void end_xrun(struct run *run, const char *when)
{
	run->xruns++;
	run->ended_by_xrun = 1;
	run->unexpected++;
	diag("%sxrun (unexpected) %s, after %" PRIu64 " frames written: state XRUN",
	     run->o->allow_xruns ? "" : "FAIL: ", when, run->done);
	if (!run->o->allow_xruns)
		run->failed = 1;
}

/* Waits until n frames can be transferred by mmap (n <= buffer). Returns 0 or an error. */
/* --timer: sleeps on the client's own timer until there is room or data (returns the
 * frames there are, at most n), as a sound server does; never snd_pcm_wait. */
static snd_pcm_sframes_t timer_wait(struct run *run, snd_pcm_uframes_t n)
{
	double idle = now();

	for (;;) {
		/* snd_pcm_avail, not _avail_update: the driver learns of the position then. */
		snd_pcm_sframes_t avail = snd_pcm_avail(run->pcm);
		struct timespec ts;
		uint64_t t;
		int err;

		if (avail < 0)
			return avail;
		if (avail > 0)
			return (snd_pcm_uframes_t)avail < n ? avail : (snd_pcm_sframes_t)n;
		if (snd_pcm_state(run->pcm) == SND_PCM_STATE_PREPARED) {
			/* Playback: the buffer is full; start (as the start threshold would). */
			err = snd_pcm_start(run->pcm);
			if (err < 0)
				return err;
			continue;
		}
		if (now() - idle > 2) {
			diag("FAIL: no room or data for 2 s at frame %" PRIu64 " (state %s)",
			     run->done, state_name(run->pcm));
			return -ETIMEDOUT;
		}
		/* The next tick of a steady timer; one missed (the client was late) is skipped. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = ts.tv_sec * 1000000000ull + ts.tv_nsec;
		run->next_tick += run->o->timer_us * 1000ull;
		if (run->next_tick <= t)
			run->next_tick = t + run->o->timer_us * 1000ull;
		ts.tv_sec = run->next_tick / 1000000000ull;
		ts.tv_nsec = run->next_tick % 1000000000ull;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
}

/* --timer: waits on the client's timer until a drain that returned EAGAIN ends. */
static int timer_drain(struct run *run)
{
	double t0 = now(), limit = 2.0 + (double)run->o->buffer / run->o->rate;
	struct timespec ts = { 0, run->o->timer_us * 1000L };

	while (snd_pcm_state(run->pcm) == SND_PCM_STATE_DRAINING) {
		snd_pcm_sframes_t avail = snd_pcm_avail(run->pcm);

		/* The drain may end between the state and the avail: the kernel's HWSYNC then
		 * answers EBADFD, for a stream in SETUP (seen once in about a dozen runs of two
		 * streams on the timer). */
		if (avail == -EBADFD && snd_pcm_state(run->pcm) == SND_PCM_STATE_SETUP)
			break;
		if (avail < 0 && avail != -EPIPE)
			return avail;
		if (now() - t0 > limit) {
			diag("FAIL: the drain did not end in %.1f s", limit);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int mmap_wait(struct run *run, snd_pcm_uframes_t n)
{
	for (;;) {
		snd_pcm_sframes_t avail = snd_pcm_avail_update(run->pcm);
		int err;

		if (avail < 0)
			return avail;
		if ((snd_pcm_uframes_t)avail >= n)
			return 0;
		if (snd_pcm_state(run->pcm) == SND_PCM_STATE_PREPARED) {
			/* Playback: the buffer is full; start (as the start threshold would). */
			err = snd_pcm_start(run->pcm);
			if (err < 0)
				return err;
			continue;
		}
		err = snd_pcm_wait(run->pcm, 2000);
		if (err < 0)
			return err;
		if (err == 0) {
			diag("FAIL: no room or data for 2 s at frame %" PRIu64 " (state %s)",
			     run->done, state_name(run->pcm));
			return -ETIMEDOUT;
		}
	}
}

/* Transfers up to n frames at position run->done; returns the frames done, or an error. */
static snd_pcm_sframes_t transfer(struct run *run, snd_pcm_uframes_t n)
{
	const struct pfmt *f = &run->f;
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t offset, frames = n;
	snd_pcm_sframes_t r;
	uint8_t *p;
	int err;

	if (run->o->timer_us) {
		r = timer_wait(run, n);
		if (r < 0)
			return r;
		n = frames = r;
	}
	if (!run->o->mmap) {
		if (run->o->capture) {
			r = snd_pcm_readi(run->pcm, run->cap + run->done * f->frame, n);
			if (r > 0)
				run->reads[run->nreads++] = r;
			return r;
		}
		for (snd_pcm_uframes_t i = 0; i < n; i++)
			pattern_frame(f, run->o->seed, run->done + i, run->buf + i * f->frame);
		return snd_pcm_writei(run->pcm, run->buf, n);
	}
	err = run->o->timer_us ? 0 : mmap_wait(run, n);
	if (err < 0)
		return err;
	err = snd_pcm_mmap_begin(run->pcm, &areas, &offset, &frames);
	if (err < 0)
		return err;
	p = (uint8_t *)areas[0].addr + areas[0].first / 8 + offset * (areas[0].step / 8);
	if (run->o->capture) {
		memcpy(run->cap + run->done * f->frame, p, frames * f->frame);
		run->reads[run->nreads++] = frames;
	} else {
		for (snd_pcm_uframes_t i = 0; i < frames; i++)
			pattern_frame(f, run->o->seed, run->done + i, p + i * f->frame);
	}
	r = snd_pcm_mmap_commit(run->pcm, offset, frames);
	if (r >= 0 && (snd_pcm_uframes_t)r != frames)
		diag("mmap_commit took %ld of %lu frames", (long)r, frames);
	return r;
}

/* Capture: verifies the frames read, read by read, and turns the breaks into positions. */
static void verify_capture(struct run *run)
{
	uint64_t received = 0;
	unsigned int b = 0;

	verifier_init(&run->v, &run->f, run->o->seed);
	for (size_t i = 0; i < run->nreads; i++) {
		for (; b < run->nbreaks && run->breaks[b] <= received; b++) {
			diag("the break after %" PRIu64 " frames read is at position %" PRIu64,
			     run->breaks[b], run->v.e);
			if (run->rs.n < MAX_RESUMES)
				run->rs.pos[run->rs.n++] = run->v.e;
		}
		verifier_feed(&run->v, run->cap + received * run->f.frame, run->reads[i]);
		received += run->reads[i];
	}
}

/* The transfer loop: every frame, with the actions on their frame. */
static int stream_all(struct run *run)
{
	const struct opts *o = run->o;

	while (run->done < o->frames) {
		uint64_t n = o->frames - run->done;
		snd_pcm_sframes_t r;

		if (do_actions(run))
			return -1;
		if (run->next_act < o->nact && o->act[run->next_act].at - run->done < n)
			n = o->act[run->next_act].at - run->done;
		if (n > o->chunk)
			n = o->chunk;
		r = transfer(run, n);
		if (r == -EPIPE) {
			if (recover(run))
				return -1;
			continue;
		}
		if (r == -ESTRPIPE) {
			if (resume_suspended(run, 0))
				return -1;
			continue;
		}
		if (r < 0)
			return alsa_fail(run, o->capture ? (o->mmap ? "mmap read" : "snd_pcm_readi")
							 : (o->mmap ? "mmap write" : "snd_pcm_writei"),
					 r);
		run->done += r;
	}
	return do_actions(run); /* actions at the very end */
}

/* The watchdog: a stream that hangs (a drain that never ends) fails the run, and the test
 * goes on with the next case. */
static void on_alarm(int sig)
{
	static const char msg[] = "# FAIL: watchdog: the run did not finish in time\n"
				  "RESULT fail timeout\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static int run_stream(struct opts *o)
{
	struct run run = { .o = o };
	char port[256], cmd[128], body[8192];
	struct report devrep = { 0 };
	double t0;
	int sid, armed = 0, pass = 0, err;

	if (pfmt_init(&run.f, o->format, o->channels))
		return 2;
	{
		/* The audio, the actions' sleeps, and 30 s for all the rest (TCG is slow). */
		unsigned int secs = o->frames / o->rate + 30;

		for (unsigned int i = 0; i < o->nact; i++)
			secs += o->act[i].ms / 1000 + 1;
		if (o->expect_suspend) /* the sleep, and the resume of every device */
			secs += 30;
		signal(SIGALRM, on_alarm);
		alarm(secs);
	}
	if (setup_pcm(&run)) {
		if (!run.failed) {
			printf("RESULT fail frames=0 xruns=0 format-not-offered\n");
			return EXIT_NOT_OFFERED;
		}
		goto result;
	}
	if (o->capture) {
		run.cap = xrealloc(NULL, o->frames * run.f.frame);
		run.reads = xrealloc(NULL, o->frames * sizeof(run.reads[0]));
	} else {
		run.buf = xrealloc(NULL, (size_t)o->chunk * run.f.frame);
	}
	sid = o->sid >= 0 ? o->sid : 2 * subdevice(run.pcm) + o->capture;
	diag("%s %s (substream %d, device stream %d): %s %u ch %u Hz, period %lu, buffer %lu, "
	     "%s, chunk %lu, %" PRIu64 " frames (%.2f s), seed %u",
	     o->capture ? "capture" : "playback", o->device, subdevice(run.pcm), sid,
	     snd_pcm_format_name(o->format), o->channels, o->rate, o->period, o->buffer,
	     o->mmap ? "mmap" : "rw", o->chunk, o->frames, (double)o->frames / o->rate, o->seed);
	if (o->verify) {
		if (o->ctl)
			snprintf(port, sizeof(port), "%s", o->ctl);
		else if (find_ctl_port(port, sizeof(port))) {
			diag("FAIL: no virtio-serial port named %s (run-guest.sh --vsnd, "
			     "CONFIG_VIRTIO_CONSOLE)", CTL_PORT_NAME);
			run.failed = 1;
			goto result;
		}
		snprintf(cmd, sizeof(cmd), "integrity %d arm %u%s", sid, o->seed,
			 o->keep_armed ? " keep" : "");
		if (ctl_transact(port, cmd, body, sizeof(body))) {
			diag("FAIL: could not arm the device (%s on %s)", cmd, port);
			run.failed = 1;
			goto result;
		}
		armed = 1;
	}

	t0 = now();
	if (o->capture) {
		err = snd_pcm_start(run.pcm);
		if (err < 0) {
			alsa_fail(&run, "snd_pcm_start", err);
			goto result;
		}
	}
	if (stream_all(&run))
		goto result;
	if (run.xrun_wanted) {
		diag("FAIL: the requested xrun did not happen");
		run.failed = 1;
	}
	if (o->capture || o->drop) {
		err = snd_pcm_drop(run.pcm);
		if (err < 0)
			alsa_fail(&run, "snd_pcm_drop", err);
	} else {
		/* ALSA's drain returns 0 for a stream in XRUN (it only goes to SETUP), and when an
		 * xrun ends the drain: the frames not played yet are lost, and only the state tells.
		 * Such an xrun is one like any other; the device's end then may lie before the
		 * frames written. */
		if (snd_pcm_state(run.pcm) == SND_PCM_STATE_SUSPENDED &&
		    resume_suspended(&run, 0))
			goto result;
		if (snd_pcm_state(run.pcm) == SND_PCM_STATE_XRUN)
			end_xrun(&run, "before the drain");
		/* A suspend during the drain: resume (or prepare) and drain again. */
		while ((err = snd_pcm_drain(run.pcm)) == -ESTRPIPE)
			if (resume_suspended(&run, 1))
				goto result;
		/* --timer: the PCM is nonblocking; the drain goes on, looked at on the timer. */
		if (err == -EAGAIN)
			err = timer_drain(&run);
		if (err < 0)
			alsa_fail(&run, "snd_pcm_drain", err);
		else if (snd_pcm_state(run.pcm) == SND_PCM_STATE_XRUN)
			end_xrun(&run, "during the drain");
	}
	diag("%s %" PRIu64 " frames in %.2f s, %u xrun(s), %u reset(s), %u pause(s), "
	     "%u suspend(s) (%u resumed, %u restarted by prepare)",
	     o->capture ? "read" : "wrote", run.done, now() - t0, run.xruns, run.resets, run.pauses,
	     run.suspends, run.suspends - run.restarts, run.restarts);
	if (o->expect_suspend && !run.suspends) {
		diag("FAIL: --expect-suspend: no suspend came during the stream (no ESTRPIPE)");
		run.failed = 1;
	}

	if (!o->verify) {
		pass = !run.failed;
		goto result;
	}
	if (o->capture) {
		struct report *r = &run.v.rep;

		verify_capture(&run);
		if (r->count[EV_CORRUPT] >= SEARCH_GIVE_UP)
			diag("the verifier stopped searching after %d corrupt frames", SEARCH_GIVE_UP);
		diag("client verdict: frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64
		     " repeated=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
		     " silence=%" PRIu64 " end=%" PRIu64,
		     r->frames, r->good, r->count[EV_LOST], r->count[EV_REPEATED],
		     r->count[EV_REORDERED], r->count[EV_CORRUPT], r->count[EV_SILENCE], r->end);
		pass = judge(r, &run.rs, 0, run.done, 0) && !run.failed;
		goto result;
	}
	snprintf(cmd, sizeof(cmd), "integrity %d report", sid);
	if (ctl_transact(port, cmd, body, sizeof(body))) {
		diag("FAIL: no report from the device");
		run.failed = 1;
		goto result;
	}
	if (parse_report(body, &devrep)) {
		diag("FAIL: the device's report has no 'frames=' line: %s", body);
		run.failed = 1;
		goto result;
	}
	diag("device verdict: frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64
	     " repeated=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64 " silence=%" PRIu64
	     " end=%" PRIu64,
	     devrep.frames, devrep.good, devrep.count[EV_LOST], devrep.count[EV_REPEATED],
	     devrep.count[EV_REORDERED], devrep.count[EV_CORRUPT], devrep.count[EV_SILENCE],
	     devrep.end);
	pass = judge(&devrep, &run.rs, 1, run.done, !o->drop && !run.ended_by_xrun) && !run.failed;

result:
	if (armed) {
		snprintf(cmd, sizeof(cmd), "integrity %d off", sid);
		ctl_transact(port, cmd, body, sizeof(body));
	}
	{
		const struct report *r = o->capture ? &run.v.rep : &devrep;

		printf("RESULT %s frames=%" PRIu64 " xruns=%u resets=%u pauses=%u", pass ? "ok" : "fail",
		       run.done, run.xruns, run.resets, run.pauses);
		if (run.suspends || o->expect_suspend)
			printf(" suspends=%u restarts=%u", run.suspends, run.restarts);
		if (o->verify)
			printf(" good=%" PRIu64 " lost=%" PRIu64 " repeated=%" PRIu64
			       " reordered=%" PRIu64 " corrupt=%" PRIu64 " silence=%" PRIu64
			       " end=%" PRIu64 "\n",
			       r->good, r->count[EV_LOST], r->count[EV_REPEATED], r->count[EV_REORDERED],
			       r->count[EV_CORRUPT], r->count[EV_SILENCE], r->end);
		else
			printf(" unverified\n");
	}
	fflush(stdout);
	verifier_free(&run.v);
	free(run.cap);
	free(run.reads);
	report_free(&devrep);
	free(run.buf);
	if (run.pcm)
		snd_pcm_close(run.pcm);
	return pass ? 0 : 1;
}

/* ---- Sound servers: the pattern in a file, the device's verdict alone ------------------ */

/*
 * A sound server (PipeWire, PulseAudio) stands between the application and the PCM: the
 * test plays a file of the pattern with the server's player (--write-file), arms the
 * device's stream and reads its verdict apart (--arm-only, --report-only), or records the
 * device's pattern with the server's recorder and verifies the file (--verify-file).
 */

/* The WAV format tag of a pattern format: PCM (1) or IEEE float (3); 0 if WAV has none (a
 * sample narrower than its container, or big-endian). */
static unsigned int wav_tag(const struct pfmt *f)
{
	if (f->kind == SK_FLOAT32 || f->kind == SK_FLOAT64)
		return 3;
	if (f->bits != f->bytes * 8)
		return 0;
	/* WAV's 8-bit samples are unsigned, its wider ones signed. */
	if ((f->bytes == 1) != (f->kind == SK_UNSIGNED))
		return 0;
	return 1;
}

static void le_put(FILE *out, uint64_t v, unsigned int bytes)
{
	uint8_t b[8];

	store_le(b, v, bytes);
	fwrite(b, 1, bytes, out);
}

/*
 * --write-file: a WAV file of frames 0 .. o->frames-1 of the pattern, then o->pad frames of
 * silence (what a server's sink may cut when it stops after the player's drain). 0, or 1
 * with a message.
 */
static int write_file(const struct opts *o, const char *path)
{
	struct pfmt f;
	uint64_t n = o->frames + o->pad, bytes;
	uint8_t *buf;
	FILE *out;

	if (pfmt_init(&f, o->format, o->channels))
		return 2;
	if (!wav_tag(&f)) {
		fprintf(stderr, "--write-file: WAV has no format %s\n", snd_pcm_format_name(o->format));
		return 2;
	}
	bytes = n * f.frame;
	if (bytes > UINT32_MAX - 36) {
		fprintf(stderr, "--write-file: %" PRIu64 " frames do not fit a WAV file\n", n);
		return 2;
	}
	out = fopen(path, "wb");
	if (!out) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	fputs("RIFF", out);
	le_put(out, 36 + bytes, 4);
	fputs("WAVEfmt ", out);
	le_put(out, 16, 4);
	le_put(out, wav_tag(&f), 2);
	le_put(out, f.channels, 2);
	le_put(out, o->rate, 4);
	le_put(out, (uint64_t)o->rate * f.frame, 4);
	le_put(out, f.frame, 2);
	le_put(out, f.bytes * 8, 2);
	fputs("data", out);
	le_put(out, bytes, 4);
	buf = xrealloc(NULL, f.frame);
	for (uint64_t i = 0; i < o->frames; i++) {
		pattern_frame(&f, o->seed, i, buf);
		fwrite(buf, 1, f.frame, out);
	}
	for (unsigned int c = 0; c < f.channels; c++)
		memcpy(buf + c * f.bytes, f.silence, f.bytes);
	for (uint64_t i = 0; i < o->pad; i++)
		fwrite(buf, 1, f.frame, out);
	free(buf);
	if (ferror(out) | fclose(out)) {
		fprintf(stderr, "%s: write error\n", path);
		return 1;
	}
	printf("# wrote %s: %s %u ch %u Hz, frames 0..%" PRIu64 " of the pattern of seed %u, "
	       "then %" PRIu64 " frames of silence\n", path, snd_pcm_format_name(o->format),
	       o->channels, o->rate, o->frames ? o->frames - 1 : 0, o->seed, o->pad);
	return 0;
}

/* What a recording held: leading silence, the pattern from position start, trailing
 * silence, and the verifier's report of the frames between. */
struct recording {
	uint64_t frames, lead, tail, start;
	int synced;      /* the first frame that is not silence is a frame of the pattern */
	struct verifier v;
};

/*
 * Verifies a recording of the pattern that started anywhere in the stream: silence before
 * the first pattern frame and after the last frame that is not silence is allowed; the
 * first frame that is not silence must be the pattern at some position start (searched
 * from 0 in the verifier's window, and confirmed by the frames after it), and from there
 * every frame must follow in order: any event of the verifier fails. min_good: the frames
 * of the pattern that the recording must hold at least. Returns 1 on a pass.
 */
static int verify_recording(const struct pfmt *f, uint32_t seed, const uint8_t *data,
			    uint64_t n, uint64_t min_good, struct recording *rec)
{
	const uint8_t *p;
	uint64_t first, last, chunk = 1024;
	size_t nnext;

	memset(rec, 0, sizeof(*rec));
	verifier_init(&rec->v, f, seed);
	rec->frames = n;
	for (first = 0; first < n && frame_is_silence(f, data + first * f->frame); first++)
		;
	for (last = n; last > first && frame_is_silence(f, data + (last - 1) * f->frame); last--)
		;
	rec->lead = first;
	rec->tail = n - last;
	if (first == n)
		return 0;
	p = data + first * f->frame;
	nnext = last - first - 1 < SEARCH_FOLLOWERS ? last - first - 1 : SEARCH_FOLLOWERS;
	if (confirm(&rec->v, 0, p, nnext)) {
		rec->start = 0;
	} else if (!verifier_search(&rec->v, p, nnext, &rec->start)) {
		return 0;
	}
	rec->synced = 1;
	rec->v.e = rec->v.high = rec->start;
	for (uint64_t i = first; i < last; i += chunk)
		verifier_feed(&rec->v, data + i * f->frame, last - i < chunk ? last - i : chunk);
	return rec->v.rep.nev == 0 && rec->v.rep.good == last - first && rec->v.rep.good >= min_good;
}

/* Reads a little-endian number of a WAV header. */
static uint64_t le_get(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * --verify-file: a WAV recording (a sound server's recorder) of the pattern that the
 * device produced: its format must be the options' (-f, -c, -r); verify_recording judges
 * it, and it must hold -n frames of the pattern at least. Exit status 0 on a pass.
 */
static int verify_file(const struct opts *o, const char *path)
{
	struct pfmt f;
	struct recording rec;
	uint8_t *file = NULL, *data = NULL;
	size_t size = 0, cap = 0, off = 12, n;
	uint64_t len = 0, frames;
	unsigned int tag = 0, ch = 0, rate = 0, bits = 0;
	int pass = 0, have_fmt = 0;
	FILE *in;

	if (pfmt_init(&f, o->format, o->channels))
		return 2;
	in = fopen(path, "rb");
	if (!in) {
		printf("# %s: %s\nRESULT fail no file\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (size == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			file = xrealloc(file, cap);
		}
		n = fread(file + size, 1, cap - size, in);
		if (!n)
			break;
		size += n;
	}
	fclose(in);
	if (size < 12 || memcmp(file, "RIFF", 4) || memcmp(file + 8, "WAVE", 4)) {
		printf("# %s: not a WAV file (%zu bytes)\nRESULT fail not a WAV file\n", path, size);
		goto out;
	}
	/* The chunks: "fmt ", then "data" (whose length a recorder killed before it closed
	 * the file may not have written: then the rest of the file). */
	while (off + 8 <= size) {
		uint64_t clen = le_get(file + off + 4, 4);

		if (!memcmp(file + off, "fmt ", 4) && clen >= 16 && off + 24 <= size) {
			tag = le_get(file + off + 8, 2);
			ch = le_get(file + off + 10, 2);
			rate = le_get(file + off + 12, 4);
			bits = le_get(file + off + 22, 2);
			/* WAVE_FORMAT_EXTENSIBLE: the subformat's tag. */
			if (tag == 0xfffe && clen >= 40 && off + 34 <= size)
				tag = le_get(file + off + 32, 2);
			have_fmt = 1;
		} else if (!memcmp(file + off, "data", 4)) {
			data = file + off + 8;
			len = clen == 0 || clen > size - off - 8 ? size - off - 8 : clen;
			break;
		}
		off += 8 + clen + (clen & 1);
	}
	if (!have_fmt || !data) {
		printf("# %s: no%s%s chunk\nRESULT fail bad WAV file\n", path,
		       have_fmt ? "" : " fmt", data ? "" : " data");
		goto out;
	}
	printf("# %s: WAV format %u, %u ch, %u Hz, %u bits, %" PRIu64 " data bytes\n", path, tag,
	       ch, rate, bits, len);
	if (tag != wav_tag(&f) || ch != f.channels || rate != o->rate || bits != f.bytes * 8) {
		printf("# FAIL: the file is not %s %u ch %u Hz (WAV format %u, %u bits)\n"
		       "RESULT fail format\n", snd_pcm_format_name(o->format), f.channels, o->rate,
		       wav_tag(&f), f.bytes * 8);
		goto out;
	}
	frames = len / f.frame;
	pass = verify_recording(&f, o->seed, data, frames, o->frames, &rec);
	if (!rec.synced) {
		const uint8_t *p = data + rec.lead * f.frame;

		if (rec.lead == frames)
			diag("FAIL: the recording holds no frame that is not silence");
		else
			diag("FAIL: the first frame that is not silence (after %" PRIu64 " frames of "
			     "silence) is no frame of the pattern near 0..%llu: %02x %02x %02x %02x ...",
			     rec.lead, SEARCH_WINDOW, p[0], p[1 % f.frame], p[2 % f.frame],
			     p[3 % f.frame]);
	} else {
		const struct report *r = &rec.v.rep;

		diag("leading silence %" PRIu64 " frames, then the pattern from position %" PRIu64
		     " to %" PRIu64 ", trailing silence %" PRIu64 " frames", rec.lead, rec.start,
		     r->end, rec.tail);
		diag("client verdict: frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64
		     " repeated=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
		     " silence=%" PRIu64 " end=%" PRIu64, r->frames, r->good, r->count[EV_LOST],
		     r->count[EV_REPEATED], r->count[EV_REORDERED], r->count[EV_CORRUPT],
		     r->count[EV_SILENCE], r->end);
		/* Every event fails here: no xrun was announced to a recording. */
		judge(r, &(struct resumes){ .n = 0 }, 0, 0, 0);
		if (r->good < o->frames)
			diag("FAIL: %" PRIu64 " frames of the pattern, fewer than the %" PRIu64
			     " wanted", r->good, o->frames);
	}
	printf("RESULT %s frames=%" PRIu64 " lead=%" PRIu64 " start=%" PRIu64 " good=%" PRIu64
	       " lost=%" PRIu64 " repeated=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64
	       " silence=%" PRIu64 " end=%" PRIu64 " tail=%" PRIu64 "\n", pass ? "ok" : "fail",
	       frames, rec.lead, rec.start, rec.v.rep.good, rec.v.rep.count[EV_LOST],
	       rec.v.rep.count[EV_REPEATED], rec.v.rep.count[EV_REORDERED],
	       rec.v.rep.count[EV_CORRUPT], rec.v.rep.count[EV_SILENCE], rec.v.rep.end, rec.tail);
	verifier_free(&rec.v);
out:
	free(file);
	return pass ? 0 : 1;
}

/* The control port (--ctl, or the one named vsnd.ctl) into port; 0, or -1 with a message. */
static int ctl_port(const struct opts *o, char *port, size_t size)
{
	if (o->ctl) {
		snprintf(port, size, "%s", o->ctl);
		return 0;
	}
	if (!find_ctl_port(port, size))
		return 0;
	diag("FAIL: no virtio-serial port named %s (run-guest.sh --vsnd, CONFIG_VIRTIO_CONSOLE)",
	     CTL_PORT_NAME);
	return -1;
}

/*
 * --arm-only: "integrity SID arm SEED [keep] [lead]" and nothing else, for a stream that a
 * sound server plays or records (SID: --sid, else 0 for playback and 1 for capture, the
 * first substream of each direction in the device's default layout).
 */
static int arm_only(const struct opts *o)
{
	char port[256], cmd[128], body[8192];
	int sid = o->sid >= 0 ? o->sid : o->capture;

	if (ctl_port(o, port, sizeof(port)))
		goto fail;
	snprintf(cmd, sizeof(cmd), "integrity %d arm %u%s%s", sid, o->seed,
		 o->keep_armed ? " keep" : "", o->lead ? " lead" : "");
	if (ctl_transact(port, cmd, body, sizeof(body)))
		goto fail;
	diag("%s: %s", cmd, body);
	printf("RESULT ok armed\n");
	return 0;
fail:
	printf("RESULT fail not armed\n");
	return 1;
}

/*
 * --report-only: the device's report of a playback stream that a sound server played -n
 * frames of the pattern to (a file of --write-file), judged by the Pass rules as a drained
 * stream of that many frames without an xrun: every frame once, in order and unaltered, and
 * silence only after the last one (or, armed with --lead, before the first: the device
 * counts it apart); then "integrity SID off".
 */
static int report_only(const struct opts *o)
{
	char port[256], cmd[128], body[8192];
	struct report r = { 0 };
	struct resumes rs = { .n = 0 };
	int sid = o->sid >= 0 ? o->sid : o->capture, pass = 0;
	uint64_t lead = 0;

	if (o->capture) {
		fprintf(stderr, "--report-only: a playback stream's (a capture is --verify-file)\n");
		return 2;
	}
	if (ctl_port(o, port, sizeof(port)))
		goto result;
	snprintf(cmd, sizeof(cmd), "integrity %d report", sid);
	if (ctl_transact(port, cmd, body, sizeof(body))) {
		diag("FAIL: no report from the device");
		goto result;
	}
	if (parse_report(body, &r)) {
		diag("FAIL: the device's report has no 'frames=' line: %s", body);
		goto result;
	}
	word_u64(body, "lead", &lead);
	diag("device verdict: frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64
	     " repeated=%" PRIu64 " reordered=%" PRIu64 " corrupt=%" PRIu64 " silence=%" PRIu64
	     " end=%" PRIu64 " lead=%" PRIu64, r.frames, r.good, r.count[EV_LOST],
	     r.count[EV_REPEATED], r.count[EV_REORDERED], r.count[EV_CORRUPT], r.count[EV_SILENCE],
	     r.end, lead);
	pass = judge(&r, &rs, 1, o->frames, 1) && r.good == o->frames;
	if (r.good != o->frames)
		diag("FAIL: %" PRIu64 " good frames, not the %" PRIu64 " played", r.good, o->frames);
	snprintf(cmd, sizeof(cmd), "integrity %d off", sid);
	ctl_transact(port, cmd, body, sizeof(body));
result:
	printf("RESULT %s frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64 " repeated=%" PRIu64
	       " reordered=%" PRIu64 " corrupt=%" PRIu64 " silence=%" PRIu64 " end=%" PRIu64
	       " lead=%" PRIu64 "\n", pass ? "ok" : "fail", o->frames, r.good, r.count[EV_LOST],
	       r.count[EV_REPEATED], r.count[EV_REORDERED], r.count[EV_CORRUPT],
	       r.count[EV_SILENCE], r.end, lead);
	report_free(&r);
	return pass ? 0 : 1;
}

/* ---- Self-test ------------------------------------------------------------------------ */

static int st_failures;

static void st_check(int ok, const char *what)
{
	if (!ok) {
		printf("# self-test: FAIL: %s\n", what);
		st_failures++;
	}
}

static void st_pfmt(struct pfmt *f, const char *name, unsigned int channels)
{
	if (pfmt_init(f, snd_pcm_format_value(name), channels)) {
		printf("# self-test: no format %s\n", name);
		exit(1);
	}
}

/* Channel c of frame pos of format name, as stored, into out. */
static void st_sample(const char *name, uint32_t seed, uint64_t pos, unsigned int c, uint8_t *out)
{
	struct pfmt f;
	uint8_t frame[64];

	st_pfmt(&f, name, c + 1);
	pattern_frame(&f, seed, pos, frame);
	memcpy(out, frame + c * f.bytes, f.bytes);
}

static uint64_t st_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Received buffers (reads) made up for the verifier. */
struct st_bufs {
	struct pfmt f;
	uint32_t seed;
	uint8_t *data[32];
	size_t frames[32];
	int n;
};

static void sb_init(struct st_bufs *b, const char *format, unsigned int channels, uint32_t seed)
{
	memset(b, 0, sizeof(*b));
	st_pfmt(&b->f, format, channels);
	b->seed = seed;
}

static void sb_free(struct st_bufs *b)
{
	for (int i = 0; i < b->n; i++) {
		free(b->data[i]);
		b->data[i] = NULL;
		b->frames[i] = 0;
	}
	b->n = 0;
}

/* Appends n frames to the last buffer (new: to a new buffer); returns the first. */
static uint8_t *sb_grow(struct st_bufs *b, int new, size_t n)
{
	int i;

	if (new || !b->n)
		b->n++;
	i = b->n - 1;
	b->data[i] = xrealloc(b->data[i], (b->frames[i] + n) * b->f.frame);
	b->frames[i] += n;
	return b->data[i] + (b->frames[i] - n) * b->f.frame;
}

/* Frames from .. to-1 of the pattern. */
static void sb_frames(struct st_bufs *b, int new, uint64_t from, uint64_t to)
{
	uint8_t *p = sb_grow(b, new, to - from);

	for (uint64_t i = from; i < to; i++, p += b->f.frame)
		pattern_frame(&b->f, b->seed, i, p);
}

static void sb_silence(struct st_bufs *b, int new, size_t n)
{
	uint8_t *p = sb_grow(b, new, n);

	for (size_t i = 0; i < n * b->f.channels; i++)
		memcpy(p + i * b->f.bytes, b->f.silence, b->f.bytes);
}

/* The verifier's report of the buffers, in the device's words (one line a run, by kind;
 * 16 runs of a kind, then "truncated KIND=N"). */
static const char *sb_verify(struct st_bufs *b)
{
	static char out[4096];
	struct verifier v;
	size_t len;

	verifier_init(&v, &b->f, b->seed);
	for (int i = 0; i < b->n; i++)
		verifier_feed(&v, b->data[i], b->frames[i]);
	len = snprintf(out, sizeof(out),
		       "frames=%" PRIu64 " good=%" PRIu64 " lost=%" PRIu64 " repeated=%" PRIu64
		       " reordered=%" PRIu64 " corrupt=%" PRIu64 " silence=%" PRIu64 " end=%" PRIu64
		       "\n",
		       v.rep.frames, v.rep.good, v.rep.count[EV_LOST], v.rep.count[EV_REPEATED],
		       v.rep.count[EV_REORDERED], v.rep.count[EV_CORRUPT], v.rep.count[EV_SILENCE],
		       v.rep.end);
	for (int k = 0; k < EV_KINDS; k++) {
		uint64_t n = 0, more = v.rep.truncated[k];

		for (size_t i = 0; i < v.rep.nev; i++) {
			if (v.rep.ev[i].kind != (enum ev_kind)k)
				continue;
			if (n++ >= REPORT_PRINT_MAX) {
				more++;
				continue;
			}
			report_event_text(&v.rep.ev[i], out + len, sizeof(out) - len);
			len += strlen(out + len);
			len += snprintf(out + len, sizeof(out) - len, "\n");
		}
		if (more)
			len += snprintf(out + len, sizeof(out) - len, "truncated %s=%" PRIu64 "\n",
					ev_names[k], more);
	}
	verifier_free(&v);
	sb_free(b);
	return out;
}

static void st_report(const char *what, const char *got, const char *want, int how)
{
	size_t gl = strlen(got), wl = strlen(want);
	int ok = how == 0   ? !strcmp(got, want)
		 : how < 0 ? !strncmp(got, want, wl)               /* starts with */
			   : gl >= wl && !strcmp(got + gl - wl, want); /* ends with */
	char msg[8192];

	snprintf(msg, sizeof(msg), "verifier, %s: got\n%s# want%s\n%s", what, got,
		 how ? (how < 0 ? " (start)" : " (end)") : "", want);
	st_check(ok, msg);
}

/*
 * The verifier on the streams of the device's unit tests (tools/vsnd-device/src/pattern.rs,
 * the same inputs and the same reports), so that the two verifiers are known to agree.
 */
static void st_verifier(void)
{
	static const struct { const char *format; unsigned int channels; } clean[] = {
		{ "U8", 1 }, { "S16_LE", 2 }, { "S32_LE", 2 }, { "FLOAT_LE", 2 },
		{ "S16_LE", 6 }, { "S24_3LE", 2 }, { "FLOAT64_LE", 1 },
	};
	static const struct { const char *format; unsigned int channels; } sil[] = {
		{ "U8", 1 }, { "S16_LE", 2 }, { "U32_LE", 3 },
	};
	struct st_bufs b;
	const char *r;
	char what[64];

	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		sb_init(&b, clean[i].format, clean[i].channels, 0xdeadbeef);
		for (int p = 0; p < 20; p++)
			sb_frames(&b, 1, p * 480, (p + 1) * 480);
		snprintf(what, sizeof(what), "clean %s x %u", clean[i].format, clean[i].channels);
		st_report(what, sb_verify(&b),
			  "frames=9600 good=9600 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 "
			  "end=9600\n", 0);
	}

	sb_init(&b, "S16_LE", 2, 1);
	sb_frames(&b, 1, 0, 50);
	sb_frames(&b, 1, 60, 100);
	sb_frames(&b, 1, 100, 110);
	st_report("lost frames", sb_verify(&b),
		  "frames=100 good=100 lost=10 repeated=0 reordered=0 corrupt=0 silence=0 end=110\n"
		  "lost at=50 len=10\n", 0);
	sb_frames(&b, 1, 0, 20);
	sb_frames(&b, 0, 25, 40);
	st_report("a gap inside a buffer", sb_verify(&b), "end=40\nlost at=20 len=5\n", 1);

	sb_frames(&b, 1, 0, 50);
	sb_frames(&b, 1, 50, 100);
	sb_frames(&b, 1, 50, 100);
	sb_frames(&b, 1, 100, 150);
	st_report("a stale period", sb_verify(&b),
		  "frames=200 good=150 lost=0 repeated=50 reordered=0 corrupt=0 silence=0 end=150\n"
		  "repeated at=100 from=50 len=50\n", 0);

	sb_init(&b, "S16_LE", 2, 9);
	sb_frames(&b, 1, 0, 50);
	sb_frames(&b, 1, 100, 150);
	sb_frames(&b, 1, 50, 100);
	sb_frames(&b, 1, 150, 200);
	st_report("reordered periods", sb_verify(&b),
		  "frames=200 good=150 lost=50 repeated=0 reordered=50 corrupt=0 silence=0 end=200\n"
		  "lost at=50 len=50\n"
		  "reordered at=150 pos=50 len=50\n", 0);
	sb_frames(&b, 1, 0, 10);
	sb_frames(&b, 1, 20, 30);
	sb_frames(&b, 1, 10, 20);
	sb_frames(&b, 1, 15, 16);
	r = sb_verify(&b);
	st_report("out of order, then again (start)", r,
		  "frames=31 good=20 lost=10 repeated=1 reordered=10 corrupt=0 silence=0 end=16\n",
		  -1);
	st_report("out of order, then again (end)", r,
		  "lost at=10 len=10\nrepeated at=20 from=15 len=1\nreordered at=30 pos=10 len=10\n",
		  1);

	sb_init(&b, "S16_LE", 2, 1);
	sb_frames(&b, 1, 0, 100);
	b.data[0][30 * 4 + 2] ^= 0x01; /* channel 1 of frame 30 */
	st_report("a corrupted sample", sb_verify(&b),
		  "frames=100 good=99 lost=0 repeated=0 reordered=0 corrupt=1 silence=0 end=100\n"
		  "corrupt at=30 len=1\n", 0);

	for (size_t i = 0; i < sizeof(sil) / sizeof(sil[0]); i++) {
		sb_init(&b, sil[i].format, sil[i].channels, 5);
		sb_frames(&b, 1, 0, 50);
		sb_silence(&b, 1, 20);
		sb_frames(&b, 1, 50, 100);
		snprintf(what, sizeof(what), "silence inside, %s", sil[i].format);
		st_report(what, sb_verify(&b),
			  "frames=120 good=100 lost=0 repeated=0 reordered=0 corrupt=0 silence=20 "
			  "end=100\nsilence at=50 len=20\n", 0);
		sb_frames(&b, 1, 0, 64);
		sb_frames(&b, 1, 64, 100);
		sb_silence(&b, 0, 30);
		snprintf(what, sizeof(what), "silence at the end, %s", sil[i].format);
		st_report(what, sb_verify(&b),
			  "frames=130 good=100 lost=0 repeated=0 reordered=0 corrupt=0 silence=30 "
			  "end=100\nsilence at=100 len=30\n", 0);
	}

	/* 20 gaps of 1 frame: 16 listed, 4 more; then 3 corrupt frames, one run. */
	sb_init(&b, "S16_LE", 2, 2);
	for (int i = 0; i < 20; i++)
		sb_frames(&b, 1, i * 10, i * 10 + 9);
	memset(sb_grow(&b, 1, 3), 0x5a, 3 * 4);
	r = sb_verify(&b);
	st_report("lists cut at 16 (start)", r,
		  "frames=183 good=180 lost=19 repeated=0 reordered=0 corrupt=3 silence=0 end=202\n"
		  "lost at=9 len=1\n", -1);
	st_report("lists cut at 16 (end)", r,
		  "lost at=159 len=1\ntruncated lost=3\ncorrupt at=199 len=3\n", 1);

	/* The window: within it a gap, beyond it corrupt. */
	sb_init(&b, "S16_LE", 2, 4);
	sb_frames(&b, 1, 0, 10);
	sb_frames(&b, 1, 10 + SEARCH_WINDOW - 1, 10 + SEARCH_WINDOW);
	sb_frames(&b, 1, 10 + 3 * SEARCH_WINDOW, 10 + 3 * SEARCH_WINDOW + 1);
	st_report("the search window", sb_verify(&b),
		  "frames=12 good=11 lost=1048575 repeated=0 reordered=0 corrupt=1 silence=0 "
		  "end=1048587\nlost at=10 len=1048575\ncorrupt at=1048586 len=1\n", 0);
	/* A frame that matches alone but not with the frames after it is corrupt; alone (the
	 * last of a read), it is taken. */
	sb_frames(&b, 1, 0, 10);
	sb_frames(&b, 0, 500, 501);
	sb_frames(&b, 0, 11, 13);
	sb_frames(&b, 1, 500, 501);
	st_report("confirmation by the following frames", sb_verify(&b),
		  "frames=14 good=13 lost=487 repeated=0 reordered=0 corrupt=1 silence=0 end=501\n"
		  "lost at=13 len=487\ncorrupt at=10 len=1\n", 0);
}

/* A recording (--verify-file) of b's frames, all in one buffer; want: the verdict. */
static void st_recording(struct st_bufs *b, uint64_t min_good, int want, uint64_t lead,
			 uint64_t start, uint64_t tail, const char *what)
{
	struct recording rec;
	uint8_t *all = NULL;
	size_t n = 0;
	int pass;

	for (int i = 0; i < b->n; i++) {
		all = xrealloc(all, (n + b->frames[i]) * b->f.frame + 1);
		memcpy(all + n * b->f.frame, b->data[i], b->frames[i] * b->f.frame);
		n += b->frames[i];
	}
	pass = verify_recording(&b->f, b->seed, all, n, min_good, &rec);
	st_check(pass == want && rec.lead == lead && (!pass || rec.start == start) &&
		 rec.tail == tail, what);
	verifier_free(&rec.v);
	free(all);
	sb_free(b);
}

/* verify_recording: a recording that starts anywhere, silence only around the pattern. */
static void st_recordings(void)
{
	struct st_bufs b;

	sb_init(&b, "S16_LE", 2, 7);
	sb_silence(&b, 1, 300);
	sb_frames(&b, 0, 5000, 9000);
	sb_silence(&b, 0, 20);
	st_recording(&b, 4000, 1, 300, 5000, 20, "recording: silence, pattern from 5000, silence");
	sb_frames(&b, 1, 0, 100);
	st_recording(&b, 100, 1, 0, 0, 0, "recording: the pattern from 0, nothing else");
	sb_frames(&b, 1, 5000, 9000);
	st_recording(&b, 4001, 0, 0, 5000, 0, "recording: fewer frames than wanted");
	sb_silence(&b, 1, 50);
	st_recording(&b, 1, 0, 50, 0, 0, "recording: silence only");
	sb_frames(&b, 1, 5000, 6000);
	sb_frames(&b, 0, 6100, 7000);
	st_recording(&b, 1, 0, 0, 5000, 0, "recording: a gap fails");
	sb_frames(&b, 1, 5000, 6000);
	sb_silence(&b, 0, 10);
	sb_frames(&b, 0, 6000, 7000);
	st_recording(&b, 1, 0, 0, 5000, 0, "recording: silence between pattern frames fails");
	sb_frames(&b, 1, 5000, 6000);
	sb_frames(&b, 0, 5900, 7000);
	st_recording(&b, 1, 0, 0, 5000, 0, "recording: repeated frames fail");
	{
		uint8_t *p;

		sb_frames(&b, 1, 5000, 7000);
		p = b.data[0] + 1500 * b.f.frame;
		p[1] ^= 0x01; /* one sample of frame 6500 one step off: not bit-exact */
		st_recording(&b, 1, 0, 0, 5000, 0, "recording: one sample off by one fails");
		p = sb_grow(&b, 1, 10);
		memset(p, 0x55, 10 * b.f.frame);
		sb_frames(&b, 0, 0, 1000);
		st_recording(&b, 1, 0, 0, 0, 0, "recording: garbage before the pattern fails");
	}
}

static int self_test(void)
{
	uint8_t s[8];
	struct report r = { 0 };
	struct resumes rs = { .pos = { 100 }, .n = 1 };

	/* The spec's reference values (seed 1), as in the device's unit tests. */
	st_check(splitmix64(1ULL << 32) == 0xc42c5a1aa3820138ULL, "splitmix64((1 << 32) ^ 0)");
	st_check(splitmix64(0) == 0xe220a8397b1dcdafULL, "splitmix64(0)");
	st_check(pattern_r(1, 0, 0) == 0xc42c5a1a && pattern_r(1, 0, 1) == 0x204391a6,
		 "r of frame 0, channels 0 and 1");
	st_sample("S16_LE", 1, 0, 0, s);
	st_check(st_le(s, 2) == 0xc42c, "S16 frame 0 channel 0 (-15316)");
	st_sample("S16_LE", 1, 0, 1, s);
	st_check(st_le(s, 2) == 0x2043, "S16 frame 0 channel 1 (8259)");
	st_sample("S24_3LE", 1, 0, 0, s);
	st_check(st_le(s, 3) == 0xc42c5a, "S24_3LE frame 0 channel 0 (5a 2c c4)");
	/* More values of the same spec, from an independent (Python) model of it. */
	st_sample("U8", 1, 0, 0, s);
	st_check(s[0] == 0xc4, "U8 frame 0 channel 0 (0xc4)");
	st_sample("S8", 1, 0, 0, s);
	st_check(s[0] == 0xc4, "S8 frame 0 channel 0 (0xc4, -60)");
	st_sample("S32_LE", 1, 0, 0, s);
	st_check(st_le(s, 4) == 0xc42c5a1a, "S32 frame 0 channel 0");
	st_sample("S24_LE", 1, 0, 0, s);
	st_check(st_le(s, 4) == 0xffc42c5a, "S24_LE frame 0 channel 0 (sign-extended)");
	st_sample("U24_LE", 1, 0, 0, s);
	st_check(st_le(s, 4) == 0x00c42c5a, "U24_LE frame 0 channel 0 (zero-extended)");
	st_sample("U16_LE", 1, 0, 1, s);
	st_check(st_le(s, 2) == 0x2043, "U16 frame 0 channel 1");
	st_sample("U32_LE", 1, 0, 0, s);
	st_check(st_le(s, 4) == 0xc42c5a1a, "U32 frame 0 channel 0");
	st_sample("FLOAT_LE", 1, 0, 0, s);
	/* v = 0xc42c5a - 2^23 = 4467802, as v / 2^23 */
	st_check(st_le(s, 4) == 0x3f0858b4, "FLOAT frame 0 channel 0 (4467802 / 2^23)");
	st_sample("FLOAT_LE", 1, 0, 1, s);
	st_check(st_le(s, 4) == 0xbf3f78de, "FLOAT frame 0 channel 1");
	st_sample("FLOAT64_LE", 1, 0, 0, s);
	st_check(st_le(s, 8) == 0x3fe10b1680000000ULL, "FLOAT64 frame 0 channel 0");
	st_sample("S16_LE", 0xdeadbeef, 12345, 5, s);
	st_check(st_le(s, 2) == 0xb78f, "S16 seed 0xdeadbeef frame 12345 channel 5");
	st_sample("FLOAT_LE", 0xdeadbeef, 12345, 5, s);
	st_check(st_le(s, 4) == 0x3ede3c24, "FLOAT seed 0xdeadbeef frame 12345 channel 5");

	/* Sample encodings at the special cases (the device's sample_encodings test). */
	{
		static const struct { const char *format; uint32_t r; uint64_t raw; } enc[] = {
			{ "S16_LE", 0x12345678, 0x1234 },
			{ "S16_LE", 0xfedc0000, 0xfedc },
			{ "S16_LE", 0x0000ffff, 1 },
			{ "S8", 0x00ffffff, 1 },
			{ "S32_LE", 0, 1 },
			{ "S32_LE", 0x80000000, 0x80000000 },
			{ "S24_LE", 0x800000ff, 0xff800000 },
			{ "S24_3LE", 0x12345678, 0x123456 },
			{ "U8", 0x80ffffff, 0x81 },
			{ "U8", 0x7fffffff, 0x7f },
			{ "U16_LE", 0x80001234, 0x8001 },
			{ "U32_LE", 0x80000000, 0x80000001 },
			{ "U32_LE", 0xffffffff, 0xffffffff },
			{ "FLOAT_LE", 0x80000000, 0x34000000 },     /* 1 / 2^23 */
			{ "FLOAT_LE", 0, 0xbf800000 },              /* -1.0 */
			{ "FLOAT64_LE", 0xc0000000, 0x3fe0000000000000ULL }, /* 0.5 */
		};
		struct pfmt f;
		uint8_t out[8];
		char what[96];

		for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
			st_pfmt(&f, enc[i].format, 1);
			pattern_sample(&f, enc[i].r, out);
			snprintf(what, sizeof(what), "%s of r = %#x", enc[i].format, enc[i].r);
			st_check(st_le(out, f.bytes) == enc[i].raw, what);
		}
		st_pfmt(&f, "U8", 1);
		st_check(f.silence[0] == 0x80, "U8 silence is 0x80");
		st_pfmt(&f, "U16_LE", 1);
		st_check(st_le(f.silence, 2) == 0x8000, "U16 silence is 0x8000");
		/* Every format: a pattern frame is never silence. */
		static const char *const formats[] = {
			"S8", "U8", "S16_LE", "U16_LE", "S24_LE", "U24_LE", "S24_3LE", "S32_LE",
			"U32_LE", "FLOAT_LE", "FLOAT64_LE", NULL,
		};

		for (const char *const *name = formats; *name; name++) {
			st_pfmt(&f, *name, 1);
			for (uint64_t p = 0; p < 5000; p++) {
				pattern_frame(&f, 7, p, out);
				if (frame_is_silence(&f, out)) {
					snprintf(what, sizeof(what), "%s frame %" PRIu64 " is silence",
						 *name, p);
					st_check(0, what);
					break;
				}
			}
		}
	}

	st_verifier();

	/* The Pass rules. */
	r.count[EV_LOST] = 20;
	r.count[EV_SILENCE] = 5 + 7;
	r.end = 300;
	report_add(&r, EV_SILENCE)->at = 80;
	r.ev[0].len = 5;
	report_add(&r, EV_LOST)->at = 80;
	r.ev[1].len = 20;
	report_add(&r, EV_SILENCE)->at = 300;
	r.ev[2].len = 7;
	printf("# self-test: a playback report that passes (lost 80+20 = resume 100):\n");
	st_check(judge(&r, &rs, 1, 300, 1), "playback pass rules: allowed gap and silence");
	printf("# self-test: the same with the resume at 90 (must fail):\n");
	rs.pos[0] = 90;
	st_check(!judge(&r, &rs, 1, 300, 1), "playback pass rules: a gap not at a resume");
	rs.pos[0] = 100;
	printf("# self-test: the same, drained but end 300 of 301 written (must fail):\n");
	st_check(!judge(&r, &rs, 1, 301, 1), "playback pass rules: end != written");
	printf("# self-test: the same as capture, gaps must start at a resume (must fail):\n");
	st_check(!judge(&r, &rs, 0, 300, 0), "capture pass rules: a gap ending at a resume");
	rs.pos[0] = 80;
	printf("# self-test: capture, the gap and silence start at the resume 80:\n");
	r.ev[2].at = 80; /* no silence after the end for capture */
	st_check(judge(&r, &rs, 0, 300, 0), "capture pass rules: gap and silence at a resume");
	report_free(&r);
	r.count[EV_REPEATED] = 1;
	report_add(&r, EV_REPEATED)->len = 1;
	printf("# self-test: a repeated frame (must fail):\n");
	st_check(!judge(&r, &rs, 1, 0, 1), "pass rules: a repeated frame");
	report_free(&r);
	{
		struct report d;

		rs.pos[0] = 100;
		printf("# self-test: parsing a device report:\n");
		st_check(!parse_report("frames=130 good=110 lost=20 repeated=0 reordered=0 corrupt=0 "
				       "silence=0 end=130\nlost at=80 len=20\ntruncated lost=3\n",
				       &d) &&
				 d.frames == 130 && d.good == 110 && d.count[EV_LOST] == 20 &&
				 d.end == 130 && d.nev == 1 && d.ev[0].at == 80 && d.ev[0].len == 20 &&
				 d.truncated[EV_LOST] == 3,
			 "parse_report");
		st_check(!judge(&d, &rs, 1, 130, 1), "pass rules: a truncated list fails");
		report_free(&d);
		st_check(!parse_report("frames=1 good=1 lost=0 repeated=0 reordered=0 corrupt=0 "
				       "silence=0 end=1", &d) && d.end == 1 && d.nev == 0,
			 "parse_report of a one-line body");
		report_free(&d);
	}

	st_recordings();
	printf("RESULT %s self-test, %d failure(s)\n", st_failures ? "fail" : "ok", st_failures);
	return st_failures ? 1 : 0;
}

/* ---- Options -------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: integrity-client [-D DEV] [--sid N] [--ctl PATH] [-f FORMAT] [-c CH] [-r HZ]\n"
		"         [--period F] [--buffer F | --periods N] [-n FRAMES] [--seed S]\n"
		"         [--access rw|mmap] [--chunk F] [--pause-at F:MS] [--xrun-at F:MS]\n"
		"         [--reset-at F] [--drop] [--allow-xruns] [--keep-armed] [--expect-suspend]\n"
		"         [--no-verify] playback|capture\n"
		"       integrity-client [-f FORMAT] [-c CH] [-r HZ] [-n FRAMES] [--seed S] [--pad F]\n"
		"         --write-file FILE\n"
		"       integrity-client [-f FORMAT] [-c CH] [-r HZ] [-n FRAMES] [--seed S]\n"
		"         --verify-file FILE\n"
		"       integrity-client [--sid N] [--ctl PATH] [--seed S] [--keep-armed] [--lead]\n"
		"         --arm-only playback|capture\n"
		"       integrity-client [--sid N] [--ctl PATH] -n FRAMES --report-only playback\n"
		"       integrity-client --self-test\n");
	exit(2);
}

static uint64_t num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "%s: not a number: '%s'\n", what, s);
		usage();
	}
	return v;
}

static void add_action(struct opts *o, enum act what, const char *arg)
{
	char copy[64], *colon;
	struct action *a;

	if (o->nact == MAX_ACTIONS) {
		fprintf(stderr, "at most %d actions\n", MAX_ACTIONS);
		usage();
	}
	snprintf(copy, sizeof(copy), "%s", arg);
	colon = strchr(copy, ':');
	if ((what == ACT_RESET) != !colon) {
		fprintf(stderr, "'%s': want %s\n", arg, what == ACT_RESET ? "F" : "F:MS");
		usage();
	}
	if (colon)
		*colon = 0;
	a = &o->act[o->nact++];
	a->what = what;
	a->at = num(copy, "action frame");
	a->ms = colon ? num(colon + 1, "action ms") : 0;
	/* Keep the list in frame order (insertion sort; stable). */
	for (unsigned int i = o->nact - 1; i > 0 && o->act[i - 1].at > o->act[i].at; i--) {
		struct action t = o->act[i];

		o->act[i] = o->act[i - 1];
		o->act[i - 1] = t;
	}
}

int main(int argc, char **argv)
{
	enum { O_SID = 256, O_CTL, O_PERIOD, O_BUFFER, O_PERIODS, O_SEED, O_ACCESS, O_CHUNK,
	       O_PAUSE, O_XRUN, O_RESET, O_DROP, O_ALLOW, O_NOVERIFY, O_SELFTEST, O_KEEP,
	       O_EXPECT_SUSPEND, O_TIMER, O_WRITE_FILE, O_VERIFY_FILE, O_PAD, O_ARM_ONLY,
	       O_REPORT_ONLY, O_LEAD };
	static const struct option longopts[] = {
		{ "device", 1, NULL, 'D' },     { "sid", 1, NULL, O_SID },
		{ "ctl", 1, NULL, O_CTL },       { "format", 1, NULL, 'f' },
		{ "channels", 1, NULL, 'c' },    { "rate", 1, NULL, 'r' },
		{ "period", 1, NULL, O_PERIOD }, { "buffer", 1, NULL, O_BUFFER },
		{ "periods", 1, NULL, O_PERIODS }, { "frames", 1, NULL, 'n' },
		{ "seed", 1, NULL, O_SEED },     { "access", 1, NULL, O_ACCESS },
		{ "chunk", 1, NULL, O_CHUNK },   { "pause-at", 1, NULL, O_PAUSE },
		{ "xrun-at", 1, NULL, O_XRUN },  { "reset-at", 1, NULL, O_RESET },
		{ "drop", 0, NULL, O_DROP },     { "allow-xruns", 0, NULL, O_ALLOW },
		{ "no-verify", 0, NULL, O_NOVERIFY }, { "self-test", 0, NULL, O_SELFTEST },
		{ "keep-armed", 0, NULL, O_KEEP }, { "expect-suspend", 0, NULL, O_EXPECT_SUSPEND },
		{ "timer", 1, NULL, O_TIMER },   { "help", 0, NULL, 'h' },
		{ "write-file", 1, NULL, O_WRITE_FILE }, { "verify-file", 1, NULL, O_VERIFY_FILE },
		{ "pad", 1, NULL, O_PAD },       { "arm-only", 0, NULL, O_ARM_ONLY },
		{ "report-only", 0, NULL, O_REPORT_ONLY }, { "lead", 0, NULL, O_LEAD },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.device = "hw:0,0", .sid = -1, .verify = 1, .format = SND_PCM_FORMAT_S16_LE,
		.channels = 2, .rate = 48000, .period = 1024, .seed = 1,
	};
	const char *write_path = NULL, *verify_path = NULL;
	int arm = 0, report = 0;
	char name[64];
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "D:f:c:r:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': o.device = optarg; break;
		case O_SID: o.sid = num(optarg, "--sid"); break;
		case O_CTL: o.ctl = optarg; break;
		case 'f':
			o.format = snd_pcm_format_value(optarg);
			if (o.format == SND_PCM_FORMAT_UNKNOWN) {
				snprintf(name, sizeof(name), "%s_LE", optarg);
				o.format = snd_pcm_format_value(name);
			}
			if (o.format == SND_PCM_FORMAT_UNKNOWN) {
				fprintf(stderr, "unknown format '%s'\n", optarg);
				usage();
			}
			break;
		case 'c': o.channels = num(optarg, "--channels"); break;
		case 'r': o.rate = num(optarg, "--rate"); break;
		case O_PERIOD: o.period = num(optarg, "--period"); break;
		case O_BUFFER: o.buffer = num(optarg, "--buffer"); break;
		case O_PERIODS: o.periods = num(optarg, "--periods"); break;
		case 'n': o.frames = num(optarg, "--frames"); break;
		case O_SEED: o.seed = num(optarg, "--seed"); break;
		case O_ACCESS:
			if (strcmp(optarg, "rw") && strcmp(optarg, "mmap"))
				usage();
			o.mmap = !strcmp(optarg, "mmap");
			break;
		case O_CHUNK: o.chunk = num(optarg, "--chunk"); break;
		case O_PAUSE: add_action(&o, ACT_PAUSE, optarg); break;
		case O_XRUN: add_action(&o, ACT_XRUN, optarg); break;
		case O_RESET: add_action(&o, ACT_RESET, optarg); break;
		case O_DROP: o.drop = 1; break;
		case O_TIMER: o.timer_us = num(optarg, "--timer"); break;
		case O_ALLOW: o.allow_xruns = 1; break;
		case O_NOVERIFY: o.verify = 0; break;
		case O_KEEP: o.keep_armed = 1; break;
		case O_EXPECT_SUSPEND: o.expect_suspend = o.keep_armed = 1; break;
		case O_SELFTEST: return self_test();
		case O_WRITE_FILE: write_path = optarg; break;
		case O_VERIFY_FILE: verify_path = optarg; break;
		case O_PAD: o.pad = num(optarg, "--pad"); break;
		case O_ARM_ONLY: arm = 1; break;
		case O_REPORT_ONLY: report = 1; break;
		case O_LEAD: o.lead = 1; break;
		default: usage();
		}
	}
	if (!!write_path + !!verify_path + arm + report > 1) {
		fprintf(stderr, "one of --write-file, --verify-file, --arm-only, --report-only\n");
		usage();
	}
	if (!o.frames)
		o.frames = o.rate / 2;
	if (write_path || verify_path) {
		if (optind != argc)
			usage();
		return write_path ? write_file(&o, write_path) : verify_file(&o, verify_path);
	}
	if (optind != argc - 1)
		usage();
	if (!strcmp(argv[optind], "capture"))
		o.capture = 1;
	else if (strcmp(argv[optind], "playback"))
		usage();
	if (o.buffer && o.periods) {
		fprintf(stderr, "--buffer or --periods, not both\n");
		usage();
	}
	if (arm)
		return arm_only(&o);
	if (report)
		return report_only(&o);
	if (!o.buffer)
		o.buffer = o.period * (o.periods ? o.periods : 4);
	if (!o.chunk)
		o.chunk = o.period;
	if (!o.channels || !o.rate || !o.period || !o.chunk || o.chunk > o.buffer) {
		fprintf(stderr, "channels, rate, period must be > 0, chunk 1..buffer\n");
		usage();
	}
	return run_stream(&o);
}
