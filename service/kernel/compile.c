/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "compile.h"
#include "durations.h"
#include "includes.h"
#include "log.h"

#define DIAGNOSTICS_MAX (64 * 1024)
#define NOBODY 65534

/* What the child says on its stderr when it could not become the compiler. */
#define EXIT_SETUP_FAILED 125

/* dynmon's headers, opened by the daemon: the unprivileged compiler reaches them through
 * /proc/self/fd even where it could not walk the path (a source tree under /root). */
#define INCLUDE_FD 3
#define INCLUDE_PATH "/proc/self/fd/3"

static int read_all(int fd, size_t max, char **ret, size_t *ret_size);

/* The child of dm_compiler_version(): clang --version as the unprivileged user. */
static _Noreturn void version_exec(const struct dm_compiler *c, int out)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
	char *argv[] = {(char *)c->clang, "--version", NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (dup2(out, STDOUT_FILENO) < 0 || (null >= 0 && dup2(null, STDERR_FILENO) < 0))
		_exit(EXIT_SETUP_FAILED);
	if (geteuid() == 0 && (syscall(SYS_setgroups, 0, NULL) < 0 ||
			       syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0 ||
			       syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0))
		_exit(EXIT_SETUP_FAILED);
	execve(argv[0], argv, envp);
	_exit(EXIT_SETUP_FAILED);
}

int dm_compiler_version(const struct dm_compiler *c, char **ret)
{
	_cleanup_close_ int out = memfd_create("dynmon-version", MFD_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int status = 0, r;
	pid_t pid;

	if (out < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		version_exec(c, out);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ENOENT;
	r = read_all(out, 4096, &text, &len);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	if (!text[0])
		return -ENOENT;
	*ret = TAKE_PTR(text);
	return 0;
}

int dm_compiler_file_id(const struct dm_compiler *c, char **ret)
{
	_cleanup_free_ char *path = realpath(c->clang, NULL);
	struct stat st;

	if (!path || stat(path, &st) < 0)
		return -errno;
	*ret = strdup_printf("%s size %lld inode %llu mtime %lld.%09ld", path,
			     (long long)st.st_size, (unsigned long long)st.st_ino,
			     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return *ret ? 0 : -ENOMEM;
}

static void hash_file(EVP_MD_CTX *ctx, int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char buf[8192];
	ssize_t n;

	EVP_DigestUpdate(ctx, name, strlen(name) + 1);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, n);
}

int dm_compiler_headers_id(const struct dm_compiler *c, char **ret)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	_cleanup_close_ int dirfd = open(c->include_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent **names = NULL;
	unsigned char md[32];
	unsigned len = 0;
	char hex[72] = "sha256:";
	int n;

	if (!ctx)
		return -ENOMEM;
	if (dirfd < 0 || (n = scandir(c->include_dir, &names, NULL, alphasort)) < 0) {
		EVP_MD_CTX_free(ctx);
		return -errno;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			hash_file(ctx, dirfd, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	hash_file(ctx, AT_FDCWD, "/usr/include/linux/version.h");
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 7 + 2 * i, "%02x", md[i]);
	*ret = strdup(hex);
	return *ret ? 0 : -ENOMEM;
}

void dm_compiler_set_user(struct dm_compiler *c)
{
	struct passwd *pw = getpwnam("nobody");

	c->uid = pw ? pw->pw_uid : NOBODY;
	c->gid = pw ? pw->pw_gid : NOBODY;
}

struct dm_compile_job {
	const struct dm_compiler *compiler;
	char *unit_name;
	pid_t pid;
	int pidfd;
	int out_fd; /* memory files: the object and the diagnostics */
	int err_fd;
	sd_event_source *exit_source;
	sd_event_source *timer_source;
	dm_compile_done_fn done;
	void *userdata;
	uint64_t start; /* dm_now_ns() */
};

static int memfd_with(const char *name, const char *data)
{
	_cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);
	size_t size = data ? strlen(data) : 0;

	if (fd < 0)
		return -errno;
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n < 0)
			return -errno;
		data += n;
		size -= n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int read_all(int fd, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t size, done = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	size = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, done);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	buf[done] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = done;
	return 0;
}

static void child_fail(const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "dynmond: cannot run the compiler: %s: %s\n", what,
			 strerror(errno));

	(void)!write(STDERR_FILENO, msg, n);
	_exit(EXIT_SETUP_FAILED);
}

static void set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};

	if (setrlimit(resource, &rl) < 0)
		child_fail("setrlimit");
}

/* In the child, between fork and exec: only system calls. Drops to the unprivileged user
 * before asking for the death signal, which a change of user would clear. */
static _Noreturn void child_exec(const struct dm_compiler *c, char **argv, int in, int out, int err,
				 int include_fd, pid_t parent)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};

	if (dup2(err, STDERR_FILENO) < 0 || dup2(in, STDIN_FILENO) < 0 ||
	    dup2(out, STDOUT_FILENO) < 0 || dup2(include_fd, INCLUDE_FD) < 0)
		_exit(EXIT_SETUP_FAILED);
	if (syscall(SYS_close_range, INCLUDE_FD + 1, ~0U, 0) < 0)
		child_fail("close_range");
	set_limit(RLIMIT_AS, DM_COMPILE_MEMORY_MAX);
	set_limit(RLIMIT_FSIZE, DM_COMPILE_OUTPUT_MAX);
	set_limit(RLIMIT_CPU, c->timeout_sec + 1);
	set_limit(RLIMIT_CORE, 0);
	if (geteuid() == 0) {
		if (syscall(SYS_setgroups, 0, NULL) < 0)
			child_fail("setgroups");
		if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0)
			child_fail("setresgid");
		if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
			child_fail("setresuid");
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("PR_SET_PDEATHSIG");
	if (getppid() != parent)
		_exit(EXIT_SETUP_FAILED);
	/* Quoted includes resolve beside the code, that is here: only dynmon's headers. */
	if (fchdir(INCLUDE_FD) < 0)
		child_fail(c->include_dir);
	execve(argv[0], argv, envp);
	child_fail(argv[0]);
	_exit(EXIT_SETUP_FAILED);
}

static void build_argv(const struct dm_compiler *c, char **argv)
{
	int n = 0;

	argv[n++] = (char *)c->clang;
	argv[n++] = "-O2";
	argv[n++] = "-g";
	argv[n++] = "-target";
	argv[n++] = "bpf";
	argv[n++] = "-D__TARGET_ARCH_x86";
	argv[n++] = "-fno-color-diagnostics";
	argv[n++] = "-ferror-limit=20";
	argv[n++] = "-I";
	argv[n++] = INCLUDE_PATH;
	if (c->multiarch_include && c->multiarch_include[0]) {
		argv[n++] = "-idirafter";
		argv[n++] = (char *)c->multiarch_include;
	}
	/* From standard input to standard output: clang makes no file of its own. */
	argv[n++] = "-x";
	argv[n++] = "c";
	argv[n++] = "-c";
	argv[n++] = "-";
	argv[n++] = "-o";
	argv[n++] = "-";
	argv[n] = NULL;
}

/* Checks the code's includes and starts clang on it. */
static int job_spawn(struct dm_compile_job *j, const char *code, dm_error *error)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int in = -1, include_fd = -1;
	char *argv[32];
	pid_t parent = getpid(), pid;
	int r;

	r = dm_includes_check(code, j->unit_name, error);
	if (r < 0)
		return r;
	/* Diagnostics name the unit, not "<stdin>". */
	text = strdup_printf("#line 1 \"%s\"\n%s", j->unit_name, code);
	if (!text)
		return -ENOMEM;
	in = memfd_with("dynmon-code", text);
	if (in >= 0)
		j->out_fd = memfd_with("dynmon-object", NULL);
	if (in >= 0 && j->out_fd >= 0)
		j->err_fd = memfd_with("dynmon-diagnostics", NULL);
	if (in < 0 || j->out_fd < 0 || j->err_fd < 0)
		return dm_error_set(error,
				    in < 0	    ? in
				    : j->out_fd < 0 ? j->out_fd
						    : j->err_fd,
				    "Cannot prepare the compilation: %m");
	include_fd = open(j->compiler->include_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (include_fd < 0)
		return dm_error_set(error, -errno, "Cannot open the include directory %s: %m",
				    j->compiler->include_dir);
	build_argv(j->compiler, argv);
	pid = fork();
	if (pid < 0)
		return dm_error_set(error, -errno, "Cannot run the compiler %s: %m",
				    j->compiler->clang);
	if (pid == 0)
		child_exec(j->compiler, argv, in, j->out_fd, j->err_fd, include_fd, parent);
	j->pid = pid;
	j->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (j->pidfd < 0)
		return dm_error_set(error, -errno, "Cannot watch the compiler: %m");
	return 0;
}

/* Reaps the child and turns how it ended into the result. */
static int job_finish(struct dm_compile_job *j, bool timed_out, void **ret, size_t *ret_size,
		      dm_error *error)
{
	_cleanup_free_ char *diag = NULL;
	size_t len = 0;
	int status = 0, r;

	if (timed_out)
		(void)kill(j->pid, SIGKILL);
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->pid = 0;
	if (timed_out)
		return dm_error_set(error, -ETIMEDOUT, "The compiler did not finish within %u s.",
				    j->compiler->timeout_sec);
	r = read_all(j->err_fd, DIAGNOSTICS_MAX - 1, &diag, &len);
	if (r < 0)
		return dm_error_set(error, r, "Cannot read the compiler's output: %m");
	/* Not the caller's doing: the daemon's (its sandbox) keeps clang from running. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SETUP_FAILED)
		return dm_error_set(error, -EIO, "%s", diag);
	if (WIFSIGNALED(status))
		return dm_error_set(error, -ENOEXEC,
				    "Compilation failed: the compiler was killed by signal %d "
				    "(%s); it may have hit a limit: %llu MiB of memory, %u s of "
				    "CPU, %llu MiB of output.\n%s",
				    WTERMSIG(status), strsignal(WTERMSIG(status)),
				    DM_COMPILE_MEMORY_MAX >> 20, j->compiler->timeout_sec,
				    DM_COMPILE_OUTPUT_MAX >> 20, diag);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dm_error_set(error, -ENOEXEC, "Compilation failed:\n%s",
				    len > 0 ? diag : "(the compiler printed nothing)");
	if (len > 0)
		log_debug("Compiler warnings for %s:\n%s", j->unit_name, diag);
	r = read_all(j->out_fd, DM_COMPILE_OUTPUT_MAX, (char **)ret, ret_size);
	if (r < 0)
		return dm_error_set(error, r, "Cannot read the compiled object: %m");
	return 0;
}

void dm_compile_job_free(struct dm_compile_job *j)
{
	if (!j)
		return;
	sd_event_source_disable_unref(j->exit_source);
	sd_event_source_disable_unref(j->timer_source);
	if (j->pid > 0) {
		(void)kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->err_fd >= 0)
		close(j->err_fd);
	free(j->unit_name);
	free(j);
}

static int job_new(const struct dm_compiler *c, const char *unit_name, struct dm_compile_job **ret)
{
	struct dm_compile_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	*j = (struct dm_compile_job){.compiler = c,
				     .pidfd = -1,
				     .out_fd = -1,
				     .err_fd = -1,
				     .unit_name = strdup(unit_name),
				     .start = dm_now_ns()};
	if (!j->unit_name) {
		free(j);
		return -ENOMEM;
	}
	*ret = j;
	return 0;
}

static void job_complete(struct dm_compile_job *j, bool timed_out)
{
	dm_error e = DM_ERROR_NULL;
	void *elf = NULL;
	size_t size = 0;
	int r;

	j->exit_source = sd_event_source_disable_unref(j->exit_source);
	j->timer_source = sd_event_source_disable_unref(j->timer_source);
	r = job_finish(j, timed_out, &elf, &size, &e);
	dm_durations_observe(j->compiler->durations, j->start, r < 0);
	/* `done` may free the job. */
	j->done(r, elf, size, &e, j->userdata);
	dm_error_done(&e);
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	job_complete(userdata, false);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	job_complete(userdata, true);
	return 0;
}

int dm_compile_start(const struct dm_compiler *c, sd_event *event, const char *code,
		     const char *unit_name, dm_compile_done_fn done, void *userdata,
		     struct dm_compile_job **ret, dm_error *error)
{
	_cleanup_(dm_compile_job_freep) struct dm_compile_job *j = NULL;
	uint64_t now;
	int r;

	r = job_new(c, unit_name, &j);
	if (r < 0)
		return r;
	j->done = done;
	j->userdata = userdata;
	r = job_spawn(j, code, error);
	if (r < 0)
		return r;
	r = sd_event_add_io(event, &j->exit_source, j->pidfd, EPOLLIN, on_child_exit, j);
	if (r >= 0)
		r = sd_event_now(event, CLOCK_MONOTONIC, &now);
	if (r >= 0)
		r = sd_event_add_time(event, &j->timer_source, CLOCK_MONOTONIC,
				      now + c->timeout_sec * 1000000ULL, 0, on_timeout, j);
	if (r < 0)
		return dm_error_set(error, r, "Cannot watch the compiler: %s", strerror(-r));
	*ret = TAKE_PTR(j);
	return 0;
}

int dm_compile(const struct dm_compiler *c, const char *code, const char *unit_name,
	       void **ret_object, size_t *ret_size, dm_error *error)
{
	_cleanup_(dm_compile_job_freep) struct dm_compile_job *j = NULL;
	struct pollfd p;
	int r;

	r = job_new(c, unit_name, &j);
	if (r < 0)
		return r;
	r = job_spawn(j, code, error);
	if (r < 0)
		return r;
	p = (struct pollfd){.fd = j->pidfd, .events = POLLIN};
	do
		r = poll(&p, 1, c->timeout_sec * 1000);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return dm_error_set(error, -errno, "Cannot wait for the compiler: %m");
	r = job_finish(j, r == 0, ret_object, ret_size, error);
	dm_durations_observe(c->durations, j->start, r < 0);
	return r;
}
