/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "durations.h"
#include "log.h"
#include "swap.h"
#include "util.h"

struct dm_grace {
	int outer_fd; /* ARRAY_OF_MAPS with one slot */
	int inner_fd; /* what goes in the slot, again and again */
	struct dm_durations waits;
};

int dm_grace_new(struct dm_grace **ret)
{
	_cleanup_close_ int inner = -1, outer = -1;
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct dm_grace *g;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "dm_grace_in", 4, 4, 1, NULL);
	if (inner < 0)
		return -errno;
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "dm_grace", 4, 4, 1, &opts);
	if (outer < 0)
		return -errno;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->outer_fd = TAKE_FD(outer);
	g->inner_fd = TAKE_FD(inner);
	*ret = g;
	return 0;
}

int dm_grace_wait(struct dm_grace *g)
{
	uint64_t start = dm_now_ns();
	__u32 key = 0;
	int r;

	r = bpf_map_update_elem(g->outer_fd, &key, &g->inner_fd, BPF_ANY) < 0 ? -errno : 0;
	dm_durations_observe(&g->waits, start, r < 0);
	return r;
}

const struct dm_durations *dm_grace_durations(const struct dm_grace *g)
{
	return &g->waits;
}

void dm_grace_free(struct dm_grace *g)
{
	if (!g)
		return;
	close(g->outer_fd);
	close(g->inner_fd);
	free(g);
}

struct job {
	dm_work_fn work;
	dm_done_fn done;
	void *userdata;
	int result;
	struct job *next;
};

/* Jobs go from `todo` (main → thread) to `finished` (thread → main, signalled by the eventfd). */
struct dm_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *todo, **todo_tail;
	struct job *finished, **finished_tail;
	bool stopping;
	int efd;
	sd_event_source *source;
};

static void *worker_main(void *arg)
{
	struct dm_worker *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j;

		while (!w->todo && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->todo)
			break;
		j = w->todo;
		w->todo = j->next;
		if (!w->todo)
			w->todo_tail = &w->todo;
		pthread_mutex_unlock(&w->lock);

		j->result = j->work(j->userdata);

		pthread_mutex_lock(&w->lock);
		j->next = NULL;
		*w->finished_tail = j;
		w->finished_tail = &j->next;
		if (write(w->efd, &one, sizeof(one)) < 0)
			log_debug_errno(errno, "Failed to wake the event loop, ignoring: %m");
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void run_finished(struct dm_worker *w)
{
	struct job *list;

	pthread_mutex_lock(&w->lock);
	list = w->finished;
	w->finished = NULL;
	w->finished_tail = &w->finished;
	pthread_mutex_unlock(&w->lock);

	while (list) {
		struct job *j = list;

		list = j->next;
		j->done(j->userdata, j->result);
		free(j);
	}
}

static int on_finished(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug_errno(errno, "Failed to read the worker's eventfd, ignoring: %m");
	run_finished(userdata);
	return 0;
}

int dm_worker_new(sd_event *event, struct dm_worker **ret)
{
	struct dm_worker *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->todo_tail = &w->todo;
	w->finished_tail = &w->finished;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, on_finished, w);
	if (r < 0)
		goto fail;
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	sd_event_source_unref(w->source);
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	return r;
}

int dm_worker_submit(struct dm_worker *w, dm_work_fn work, dm_done_fn done, void *userdata)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->work = work;
	j->done = done;
	j->userdata = userdata;
	pthread_mutex_lock(&w->lock);
	*w->todo_tail = j;
	w->todo_tail = &j->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void dm_worker_free(struct dm_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	run_finished(w);
	sd_event_source_disable_unref(w->source);
	close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}
