/*
 * A file's parity store as the files below the parity handler (fec.c) see
 * it (spec §9.4): its FEC-block layout, the NAKs the held parity makes
 * unnecessary (reply.c's STATUS), and freeing it with the file (rfile.c).
 */
#include "receiver/engine/recv_int.h"

void rfec_layout(const struct rsession *s, uint32_t sec, struct fec_layout *l)
{
    fec_layout_init(l, blocks_in_section(&s->f.lay, sec), s->fec_k, s->fec_stride);
}

void rfec_file_free(struct rfile *f)
{
    fec_rx_free(f->fec);
    f->fec = NULL;
}

uint32_t rfec_reduce(struct receiver *r, struct rsession *s, uint32_t sec, uint8_t *naks,
                     size_t len)
{
    (void)r;
    if (s->f.fec == NULL)
        return 0;
    struct fec_layout l;
    rfec_layout(s, sec, &l);
    return (uint32_t)fec_rx_reduce_naks(s->f.fec, (uint16_t)sec, &l, naks, len);
}
