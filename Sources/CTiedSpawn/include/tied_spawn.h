#ifndef MEMHP_TIED_SPAWN_H
#define MEMHP_TIED_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` (NULL-terminated) and this process's environment, its stdin,
/// stdout and stderr on `in_fd`, `out_fd` and `err_fd`, every other descriptor closed at exec,
/// every signal at its default and unblocked. On Linux the child is tied to the calling
/// thread: PR_SET_PDEATHSIG makes the kernel SIGKILL it when that thread exits, so the caller
/// must keep the thread alive until it has reaped the child. Returns the pid, or -1 with errno
/// set (fork's, or the exec's as the child reported it). With `new_group` non-zero the child
/// leads a process group of its own (pgid = its pid), so that the caller can signal it together
/// with everything it starts: a shell's gcc or cpio, which the death signal does not reach.
pid_t memhp_spawn_tied(const char *path, char *const argv[], int in_fd, int out_fd, int err_fd, int new_group);

#endif
