/* A file's transfer (spec §1.4, §1.6 steps 2-4), actions of the session machine: FILEINFO
 * (names checked, spec §6.1; file types, sync mode), FILESEG into storage, NAK rounds. */
#include "receiver/engine/recv_int.h"

#include <errno.h>

/* The file is refused (COMPLETE rejected): why, and storage's reason when rc < 0. */
static int reject(struct receiver *r, struct rsession *s, const char *why, int rc)
{
    char esc[160];
    file_name_escape(esc, sizeof(esc), s->f.name, strlen(s->f.name));
    RLOG(r, s, LL_WARN, "rejecting file '%s': %s%s%s", esc, why, rc < 0 ? ": " : "",
         rc < 0 ? file_strerror(rc) : "");
    return rfile_result(r, s, COMP_STAT_REJECTED);
}

/* Receives a regular file (5.0.1 handle_fileinfo_regular, with sync mode). */
static int fileinfo_regular(struct receiver *r, struct rsession *s)
{
    struct rfile *f = &s->f;
    const struct receiver_storage *st = &r->env.storage;
    int rc = blocks_init(&f->lay, f->rf.size, s->blocksize);
    if (rc < 0)
        return reject(r, s, "file too large for the block size", 0); /* spec §6 item 17 */
    if (s->sync_mode) {
        struct file_stat fst;
        if (st->stat(r->env.ctx, &f->rf, &fst) == 0) {
            bool skip = f->rf.mtime != fst.mtime ? f->rf.mtime < fst.mtime
                                                 : fst.type == FTYPE_REG && fst.size == f->rf.size;
            if (skip) {
                RLOG(r, s, LL_INFO, "skipping %s, in sync", f->name);
                return rfile_result(r, s, COMP_STAT_SKIPPED);
            }
            RLOG(r, s, LL_INFO, "overwriting out of sync file %s", f->name);
            f->rf.overwrite = true;
            if (s->sync_preview)
                return rfile_result(r, s, COMP_STAT_OVERWRITE);
        } else if (s->sync_preview) {
            return rfile_result(r, s, COMP_STAT_NORMAL);
        }
    }
    uint64_t avail = 0;
    if (st->free_space(r->env.ctx, &f->rf, &avail) == 0 && f->rf.size > avail)
        return reject(r, s, "not enough disk space", 0); /* 5.0.1 aborts the whole session */
    if (bitmap_init(&f->missing, f->lay.blocks, true) < 0 ||
        (f->sec_missing = calloc(f->lay.sections ? f->lay.sections : 1, sizeof(uint32_t))) ==
            NULL) {
        rfile_discard(r, s);
        return reject(r, s, "out of memory", 0);
    }
    for (uint32_t i = 0; i < f->lay.sections; i++)
        f->sec_missing[i] = blocks_in_section(&f->lay, i);
    f->nmissing = f->lay.blocks;
    rc = st->open(r->env.ctx, &f->rf, &f->h);
    if (rc == RECEIVER_OPEN_COMPLETE || rc < 0)
        rfile_discard(r, s);
    if (rc == RECEIVER_OPEN_COMPLETE) {
        RLOG(r, s, LL_INFO, "%s: complete from an earlier instance (restart)", f->name);
        return rfile_result(r, s, COMP_STAT_NORMAL); /* already complete */
    }
    if (rc < 0)
        return reject(r, s, "cannot open", rc);
    f->open = true; /* (f was cleared for this FILEINFO) */
    if (rc == RECEIVER_OPEN_PARTIAL && st->held != NULL) {
        /* Issue 13: what an earlier instance wrote stays; only the rest is NAKed. */
        f->partial = true;
        for (uint32_t b = 0; b < f->lay.blocks; b++) {
            if (!st->held(r->env.ctx, f->h, b))
                continue;
            bitmap_clear(&f->missing, b);
            uint16_t sec = 0, blk = 0;
            blocks_from_abs(&f->lay, b, &sec, &blk);
            f->sec_missing[sec]--;
            f->nmissing--;
        }
        RLOG(r, s, LL_INFO, "%s: resuming, %u of %u blocks kept", f->name,
             f->lay.blocks - f->nmissing, f->lay.blocks);
        if (f->nmissing == 0)
            return rfile_finish(r, s);
    }
    f->comp_status = f->rf.overwrite ? COMP_STAT_OVERWRITE : COMP_STAT_NORMAL;
    s->pending |= P_FILEINFO_ACK;
    slot_timeout(r, s, false); /* RECEIVING may follow RECEIVING */
    return FSM_GOTO(R_RECEIVING);
}

/* What the file's type asks of storage (spec §1.4 FILEINFO ftype). */
static int fileinfo_type(struct receiver *r, struct rsession *s, const struct wire_fileinfo *fi)
{
    struct rfile *f = &s->f;
    const struct receiver_storage *st = &r->env.storage;
    int rc = 0;
    switch (f->rf.ftype) {
    case FTYPE_REG:
        return fileinfo_regular(r, s);
    case FTYPE_DIR: {
        struct file_stat fst;
        bool exists = st->stat(r->env.ctx, &f->rf, &fst) == 0 && fst.type == FTYPE_DIR;
        if (s->sync_preview)
            return rfile_result(r, s, exists ? COMP_STAT_SKIPPED : COMP_STAT_NORMAL);
        if ((rc = st->mkdir(r->env.ctx, &f->rf)) < 0)
            return reject(r, s, "cannot create directory", rc);
        return rfile_result(r, s, rc == 1 ? COMP_STAT_SKIPPED : COMP_STAT_NORMAL);
    }
    case FTYPE_LINK:
        rc = file_link_check(fi->link, fi->link_len, r->cfg.link_policy);
        if (rc == 0 && memchr(fi->link, '\0', fi->link_len) != NULL)
            rc = FILE_ELINK_CTRL;
        /* Issue 14 item 6: by default a link may only point inside the destination. */
        if (rc == 0 && (r->cfg.link_policy & FILE_LINK_BENEATH))
            rc = file_link_beneath(f->rf.rel, fi->link, fi->link_len, r->cfg.dests[f->rf.dest]);
        if (rc < 0)
            return reject(r, s, "link target refused", rc);
        if (!s->sync_preview && (rc = st->symlink(r->env.ctx, &f->rf)) < 0)
            return reject(r, s, "cannot create symlink", rc);
        break;
    case FTYPE_DELETE:
        /* Not deleted (with -A: not without its backup, issue 14 item 4): say so. */
        if (!s->sync_preview && (rc = st->remove(r->env.ctx, &f->rf)) < 0 && rc != -ENOENT)
            return reject(r, s, "cannot delete", rc);
        break;
    default: /* FTYPE_FREESPACE */
        if ((rc = st->free_space(r->env.ctx, &f->rf, &f->freespace_val)) < 0)
            RLOG(r, s, LL_WARN, "cannot get free space: %s", file_strerror(rc));
        f->freespace = true;
        break;
    }
    return rfile_result(r, s, COMP_STAT_NORMAL);
}

/* FILEINFO in REGISTERED (it confirms us when it lists us, spec §1.4), MIDGROUP, RECEIVING. */
RECV_ACTION(xfer_fileinfo)
{
    const struct wire_fileinfo *fi = &((const struct rmsg *)arg)->m->u.fileinfo;
    if (!wire_ids_contains(&fi->ids, r->cfg.client_id)) {
        slot_timeout(r, s, false);
        return FSM_STAY;
    }
    s->pending &= ~(uint32_t)P_REGISTER;
    /* Issue 13: a FILEINFO that confirms a restarted session (its REG_CONF
     * lost) supersedes the earlier instances before this file opens, so
     * that their kept state can be resumed. */
    if (s->state == R_REGISTERED && s->group_inst != 0)
        slot_supersede(r, s);
    /* The server's clock for our echo (spec §1.3). */
    s->server_ts = fi->tstamp;
    s->server_rx = r->now;
    if (fi->file_id == s->f.rf.file_id &&
        (s->state == R_RECEIVING || (s->state == R_MIDGROUP && s->file_id != 0))) {
        /* A resend: answer again. */
        s->pending |= s->state == R_RECEIVING ? P_FILEINFO_ACK : P_COMPLETE;
        slot_timeout(r, s, false);
        return FSM_STAY;
    }
    if (s->state == R_RECEIVING) {
        RLOG(r, s, LL_WARN, "FILEINFO %04X while receiving %04X: dropping the old file",
             fi->file_id, s->f.rf.file_id);
        r->st.files_failed++;
    }
    struct rfile *f = &s->f;
    rfile_discard(r, s);
    memset(f, 0, sizeof(*f));
    s->file_id = fi->file_id;
    memcpy(f->name, fi->name, fi->name_len);
    memcpy(f->link, fi->link, fi->link_len);
    s->pending &= ~(uint32_t)(P_FILEINFO_ACK | P_COMPLETE);
    f->rf = (struct receiver_file){
        .server_id = s->server_id,
        .group_id = s->group_id,
        .group_inst = s->group_inst,
        .file_id = fi->file_id,
        .ftype = fi->ftype,
        .name = f->name,
        .link = f->link,
        .size = fi->size,
        .mtime = (int64_t)fi->mtime,
        .blocksize = s->blocksize,
        .server_fp = s->server_fplen ? s->server_fp : NULL,
        .server_fplen = s->server_fplen,
    };
    if (fi->ftype > FTYPE_FREESPACE) {
        RLOG(r, s, LL_WARN, "invalid file type %u", fi->ftype);
        return rsess_fail(s, "Invalid file type");
    }
    char esc[160];
    file_name_escape(esc, sizeof(esc), f->name, fi->name_len);
    RLOG(r, s, LL_INFO, "file %04X: '%s' (%llu bytes)", fi->file_id, esc,
         (unsigned long long)fi->size);
    /* spec §6 items 1, 15: a name that is NUL-padded early or holds a NUL is refused. */
    if (fi->name_junk || fi->link_junk)
        return reject(r, s, "name holds a NUL", 0);
    if (fi->ftype == FTYPE_FREESPACE) {
        f->rf.rel = "."; /* @FREESPACE is sent as "." and names no file (walk.h) */
    } else {
        char msg[200];
        unsigned flags = r->cfg.temp_dir ? FILE_NAME_NO_ABS : 0;
        if (file_name_check(&f->fname, fi->name, fi->name_len, r->cfg.dests, r->cfg.ndest, flags,
                            msg, sizeof(msg)) < 0) {
            RLOG(r, s, LL_WARN, "rejecting file: %s", msg);
            return rfile_result(r, s, COMP_STAT_REJECTED);
        }
        f->rf.rel = f->fname.rel;
        f->rf.dest = f->fname.dest;
    }
    return fileinfo_type(r, s, fi);
}

/* A write failed: the file is refused (COMPLETE rejected), the session goes on. */
static int file_fail(struct receiver *r, struct rsession *s, const char *why, int err)
{
    RLOG(r, s, LL_ERR, "%s %s: %s; file rejected", why, s->f.name, file_strerror(err));
    rfile_discard(r, s);
    return rfile_result(r, s, COMP_STAT_REJECTED);
}

RECV_ACTION(xfer_fileseg)
{
    const struct rmsg *msg = arg;
    const struct wire_fileseg *fs = &msg->m->u.fileseg;
    struct rfile *f = &s->f;
    if (fs->file_id != f->rf.file_id || f->rf.ftype != FTYPE_REG) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: file ID %04X, expected %04X", fs->file_id,
             f->rf.file_id);
        return FSM_STAY;
    }
    uint32_t abs;
    /* spec §6 item 5: (section, block) must lie in the file. */
    if (blocks_to_abs(&f->lay, fs->section, fs->sec_block, &abs) < 0) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: section %u block %u outside the file", fs->section,
             fs->sec_block);
        return FSM_STAY;
    }
    if (fs->data_len != blocks_bytes(&f->lay, abs)) {
        RLOG(r, s, LL_PROTO, "rejecting FILESEG: invalid data size %zu", fs->data_len);
        return FSM_STAY;
    }
    f->nak_round_at = 0; /* a pass under way: its DONE may be NAKed at once (reply.c) */
    if (msg->h->seq == s->max_txseq) {
        /* The newest packet opens a new section: NAK the earlier ones after 1·GRTT. */
        if (fs->section > f->last_section && f->nak_at == 0)
            reply_nak_arm(r, s, f->last_section, fs->section, false);
        f->last_section = fs->section;
    }
    if (bitmap_get(&f->missing, abs)) {
        int rc = r->env.storage.write(r->env.ctx, f->h, blocks_offset(&f->lay, abs), fs->data,
                                      fs->data_len);
        if (rc < 0)
            return file_fail(r, s, "write failed for", rc);
        bitmap_clear(&f->missing, abs);
        if (!bitmap_ok(&f->missing))
            return file_fail(r, s, "out of memory for", -ENOMEM);
        f->sec_missing[fs->section]--;
        f->nmissing--;
        r->st.data_packets++;
        r->st.data_bytes += fs->data_len;
        /* spec §9: with parity held, this block may complete its FEC block. */
        if (f->fec != NULL && (rc = rfec_source(r, s, fs->section, fs->sec_block)) < 0)
            return file_fail(r, s, "write failed for", rc);
        /* Issue 17: repaired after its DONE: COMPLETE now, not at the next DONE. */
        if (f->nmissing == 0 && f->done_seen && !f->nak_emit)
            return rfile_finish(r, s);
    } else {
        r->st.dup_packets++;
    }
    slot_timeout(r, s, false);
    return FSM_NEXT;
}

/* The NAK timer fired (spec §1.6 step 4): a round of STATUS over [nak_first, nak_last). */
RECV_ACTION(xfer_nak)
{
    s->f.nak_at = 0;
    s->f.nak_round_at = r->now;
    s->f.nak_emit = true;
    s->f.nak_cur = s->f.nak_first;
    s->f.sent_naks = false;
    return FSM_NEXT;
}

/* After a round of STATUS (the reference's NAK timer tail). */
RECV_ACTION(xfer_nak_end)
{
    struct rfile *f = &s->f;
    f->nak_emit = false;
    if (f->nmissing == 0)
        return rfile_finish(r, s);
    if (f->got_done && !f->sent_naks) {
        /* DONE asked but nothing in range was missing: rescan from section 0. */
        f->nak_last = f->nak_first;
        f->nak_first = 0;
        f->got_done = false;
        f->nak_emit = true;
        f->nak_cur = 0;
    }
    return FSM_NEXT;
}
