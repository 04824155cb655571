/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "compile.h"
#include "log.h"

#define DIAGNOSTICS_MAX (64 * 1024)

extern char **environ;

static int write_file_at(int dirfd, const char *name, const void *data, size_t size)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		return -errno;
	while (size > 0) {
		ssize_t n = write(fd, p, size);
		if (n < 0)
			return -errno;
		p += n;
		size -= n;
	}
	return 0;
}

static int read_file_at(int dirfd, const char *name, void **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ void *buf = NULL;
	struct stat st;
	size_t done = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size ?: 1);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + done, st.st_size - done);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	*ret = TAKE_PTR(buf);
	*ret_size = done;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Collects the child's output until it closes the pipe or the deadline passes. Returns 0, or
 * -ETIMEDOUT. The output is cut at DIAGNOSTICS_MAX bytes. */
static int collect_output(int fd, uint64_t deadline, char *buf, size_t *len)
{
	for (;;) {
		uint64_t now = now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char chunk[4096];
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, deadline - now) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p.revents == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (*len + n > DIAGNOSTICS_MAX - 1)
			n = DIAGNOSTICS_MAX - 1 - *len;
		memcpy(buf + *len, chunk, n);
		*len += n;
		buf[*len] = '\0';
	}
}

static int run_clang(const struct dm_compiler *c, const char *dir, const char *unit_name,
		     char *diag, dm_error *error)
{
	const char *argv[32];
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r, n = 0;
	size_t len = 0;
	pid_t pid;

	argv[n++] = c->clang;
	argv[n++] = "-O2";
	argv[n++] = "-g";
	argv[n++] = "-target";
	argv[n++] = "bpf";
	argv[n++] = "-D__TARGET_ARCH_x86";
	argv[n++] = "-fno-color-diagnostics";
	argv[n++] = "-ferror-limit=20";
	argv[n++] = "-I";
	argv[n++] = c->include_dir;
	if (c->multiarch_include && c->multiarch_include[0]) {
		argv[n++] = "-idirafter";
		argv[n++] = c->multiarch_include;
	}
	argv[n++] = "-c";
	argv[n++] = unit_name;
	argv[n++] = "-o";
	argv[n++] = "out.o";
	argv[n] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	r = posix_spawn(&pid, c->clang, &fa, NULL, (char **)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return dm_error_set(error, -r, "Cannot run the compiler %s: %s", c->clang,
				    strerror(r));
	}

	r = collect_output(pipefd[0], now_ms() + c->timeout_sec * 1000ULL, diag, &len);
	close(pipefd[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -ETIMEDOUT)
		return dm_error_set(error, r, "The compiler did not finish within %u s.",
				    c->timeout_sec);
	if (r < 0)
		return dm_error_set(error, r, "Cannot read the compiler's output: %s",
				    strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dm_error_set(error, -ENOEXEC, "Compilation failed:\n%s",
				    len > 0 ? diag : "(the compiler printed nothing)");
	if (len > 0)
		log_debug("Compiler warnings for %s:\n%s", unit_name, diag);
	return 0;
}

int dm_compile(const struct dm_compiler *c, const char *code, const char *unit_name,
	       void **ret_object, size_t *ret_size, dm_error *error)
{
	char dir[] = "/tmp/dynmon-compile-XXXXXX";
	_cleanup_free_ char *diag = NULL;
	_cleanup_close_ int dirfd = -1;
	int r;

	diag = malloc(DIAGNOSTICS_MAX);
	if (!diag)
		return -ENOMEM;
	diag[0] = '\0';
	if (!mkdtemp(dir))
		return dm_error_set(error, -errno, "Cannot create a directory to compile in: %m");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = dm_error_set(error, -errno, "Cannot open %s: %m", dir);
		goto out;
	}

	r = write_file_at(dirfd, unit_name, code, strlen(code));
	if (r < 0) {
		dm_error_set(error, r, "Cannot write the code to compile: %s", strerror(-r));
		goto out;
	}
	r = run_clang(c, dir, unit_name, diag, error);
	if (r < 0)
		goto out;
	r = read_file_at(dirfd, "out.o", ret_object, ret_size);
	if (r < 0)
		dm_error_set(error, r, "Cannot read the compiled object: %s", strerror(-r));
out:
	if (dirfd >= 0) {
		unlinkat(dirfd, unit_name, 0);
		unlinkat(dirfd, "out.o", 0);
	}
	rmdir(dir);
	return r;
}
