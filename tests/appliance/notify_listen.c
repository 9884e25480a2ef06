/*
 * notify_listen SOCKET OUT: stands in for systemd's notification socket in
 * tests/appliance/daemon_life.sh. Binds an AF_UNIX datagram socket at SOCKET
 * (a path, or "@name" for the abstract namespace), then appends every
 * message to OUT followed by a line "--", until SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_listen SOCKET OUT\n");
        return 2;
    }
    const char *name = argv[1];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    if (len >= sizeof(sa.sun_path))
        return 2;
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(name);
    socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] != '@'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sl) < 0) {
        perror("notify_listen: bind");
        return 2;
    }
    int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
        perror("notify_listen: open");
        return 2;
    }
    char buf[4096 + 4];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 4, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 1;
        memcpy(buf + n, "\n--\n", 4);
        (void)!write(out, buf, (size_t)n + 4);
    }
}
