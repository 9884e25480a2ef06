/* Name resolution through getaddrinfo(); see resolve.h. */
#include "core/net/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

#define HOST_TEXT_MAX 256

static int gai_to_errno(int rc)
{
    switch (rc) {
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
        return -ENOENT;
    case EAI_AGAIN:
        return -EAGAIN;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_FAMILY:
        return -EAFNOSUPPORT;
    case EAI_SYSTEM:
        return errno > 0 ? -errno : -EIO;
    default:
        return -EINVAL;
    }
}

int net_resolve_host(struct addr *a, const char *s, uint16_t defport, int family)
{
    char host[HOST_TEXT_MAX];
    struct addrinfo hints, *res = NULL;
    uint16_t port = defport;
    size_t n;
    int rc;

    addr_clear(a);
    if (s == NULL || (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
        return -EINVAL;
    rc = net_addr_parse(a, s, defport);
    if (rc == 0) {
        if (family != AF_UNSPEC && net_addr_af(a) != family) {
            addr_clear(a);
            return -EAFNOSUPPORT;
        }
        return 0;
    }
    if (rc == -ERANGE)
        return rc;

    n = strnlen(s, sizeof(host));
    if (n == 0 || n >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, n + 1);
    if (host[0] == '[') {
        char *close = strchr(host, ']');
        if (close == NULL)
            return -EINVAL;
        *close = '\0';
        if (close[1] == ':') {
            if ((rc = addr_parse_port(close + 2, &port)) < 0)
                return rc;
        } else if (close[1] != '\0') {
            return -EINVAL;
        }
        memmove(host, host + 1, strlen(host + 1) + 1);
    } else {
        char *colon = strchr(host, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            if ((rc = addr_parse_port(colon + 1, &port)) < 0)
                return rc;
            *colon = '\0';
        }
    }
    if (host[0] == '\0')
        return -EINVAL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        return gai_to_errno(rc);
    rc = -ENOENT;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (net_addr_from_sockaddr(a, ai->ai_addr, ai->ai_addrlen) == 0) {
            addr_set_port(a, port);
            rc = 0;
            break;
        }
    }
    freeaddrinfo(res);
    return rc;
}
