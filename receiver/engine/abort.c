/* ABORT (spec §1.4), actions of the session machine: the server's, or ours (told but
 * when the keys are gone): a refusal once begun, a timer that gave up, shutdown. */
#include "receiver/engine/recv_int.h"

/* The open file is rejected and discarded; tell: ABORT(text) owed. */
static int end(struct receiver *r, struct rsession *s, const char *text, bool tell)
{
    RLOG(r, s, LL_WARN, "%s", text);
    if (s->f.open) {
        r->st.files_failed++;
        s->f.comp_status = COMP_STAT_REJECTED;
        rfile_report(r, s, RECEIVER_EV_RESULT, false);
    }
    rfile_keep(r, s); /* the session ends: -T keeps it for a restart (issue 13) */
    s->pending = tell ? P_ABORT : 0;
    if (tell && text != s->abort_text)
        snprintf(s->abort_text, sizeof(s->abort_text), "%s", text);
    return FSM_NEXT;
}

/* The server's ABORT: for us, or for everyone (but not for a file we are not receiving). */
RECV_ACTION(abort_server)
{
    const struct wire_abort *a = &((const struct rmsg *)arg)->m->u.abort;
    if (a->host != r->cfg.client_id &&
        (a->host != 0 || ((a->flags & FLAG_CURRENT_FILE) && s->state == R_MIDGROUP)))
        return FSM_STAY;
    char msg[WIRE_ABORT_TEXT_LEN + 40], esc[WIRE_ABORT_TEXT_LEN + 8];
    file_name_escape(esc, sizeof(esc), a->text, strlen(a->text)); /* network text */
    snprintf(msg, sizeof(msg), "transfer aborted by server: %s", esc);
    r->st.sessions_failed[RECEIVER_FAIL_SERVER]++;
    return end(r, s, msg, false);
}

/* What we tell the server when a state's timer gives up (RE_TIMEOUT, RE_EXPIRE). */
static const char *const gave_up[R_NSTATES] = {
    [R_PREREGISTER] = "No PROXY_KEY from the proxy",
    [R_REGISTERED] = "Registration unconfirmed",
    [R_MIDGROUP] = "Transfer timed out",
    [R_RECEIVING] = "Transfer timed out",
};

/* RE_FAIL (s->abort_text), RE_QUIT (arg, the server is not told), RE_SHUTDOWN, a timer. */
RECV_ACTION(abort_ours)
{
    if (ev == RE_QUIT) {
        r->st.sessions_failed[RECEIVER_FAIL_SECURITY]++;
        return end(r, s, arg, false);
    }
    if (ev == RE_FAIL) {
        r->st.sessions_failed[RECEIVER_FAIL_ERROR]++;
        return end(r, s, s->abort_text, true);
    }
    r->st.sessions_failed[ev == RE_SHUTDOWN ? RECEIVER_FAIL_SHUTDOWN : RECEIVER_FAIL_TIMEOUT]++;
    return end(r, s, ev == RE_SHUTDOWN ? "Client shutting down" : gave_up[s->state], true);
}
