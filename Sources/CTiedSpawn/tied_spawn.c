// fork + exec with PR_SET_PDEATHSIG set in the child, which posix_spawn (and so Foundation's
// Process) cannot do. Between fork and exec the child calls only async-signal-safe functions.
#define _GNU_SOURCE
#include "tied_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

/// Puts `fd` at `target` for the exec (dup2 clears close-on-exec; an fd already there keeps it).
static int place(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

pid_t memhp_spawn_tied(const char *path, char *const argv[], int in_fd, int out_fd, int err_fd, int new_group) {
    int report[2];
    if (pipe(report) != 0) return -1;
    fcntl(report[0], F_SETFD, FD_CLOEXEC);
    fcntl(report[1], F_SETFD, FD_CLOEXEC);
    pid_t parent = getpid();
    // No signal handler of ours may run in the child before the exec.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        int err = 0;
#ifdef __linux__
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) err = errno;
        // The parent died before the prctl: nothing would ever kill us.
        else if (getppid() != parent) _exit(127);
#endif
        if (!err && new_group && setpgid(0, 0) != 0) err = errno;
        if (!err) {
            struct sigaction dfl;
            memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            for (int s = 1; s < NSIG; s++) {
                if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);
            }
            if (place(in_fd, 0) != 0 || place(out_fd, 1) != 0 || place(err_fd, 2) != 0) err = errno;
        }
        if (!err) {
#if defined(__linux__) && defined(SYS_close_range)
            syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
#endif
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            execv(path, argv);
            err = errno;
        }
        ssize_t w;
        do w = write(report[1], &err, sizeof err); while (w < 0 && errno == EINTR);
        _exit(127);
    }
    int forkErr = errno;
    // Both sides set the group, so that it exists before either goes on (the usual idiom; the
    // parent's call fails harmlessly with EACCES once the child has exec'd).
    if (pid > 0 && new_group) setpgid(pid, pid);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        errno = forkErr;
        return -1;
    }
    int childErr = 0;
    ssize_t n;
    do n = read(report[0], &childErr, sizeof childErr); while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof childErr) {
        // The exec failed: reap the child and hand its errno on.
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        errno = childErr;
        return -1;
    }
    return pid;
}
