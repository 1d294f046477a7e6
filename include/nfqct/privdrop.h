/*
 * privdrop.h - running without root (nfqctd -u USER): what the daemon
 * needs after its start-up is CAP_NET_ADMIN (verdicts: nfnetlink checks
 * it on every message the workers send; queue settings; SO_RCVBUFFORCE)
 * and write access to its own files.  Everything else goes.
 *
 * The daemon's main thread calls these before it creates any thread:
 * capabilities are per thread, and threads inherit the creator's.
 */
#ifndef NFQCT_PRIVDROP_H
#define NFQCT_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * nfqct_privdrop_lookup - the uid and primary gid of @user (a name or a
 * number).  Returns 0, or -ENOENT (no such user) / -errno.
 */
int nfqct_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * nfqct_privdrop_chown_stat - give @uid/@gid the stat tree under @dir
 * (statfile.h's subdirectories and the files in them), and @dir itself
 * when it holds nothing but the tree and the control socket (a directory
 * of its own, such as /run/nfqct, never a shared one such as /run).
 * Returns 0 or -errno; *@dir_owned tells whether @dir was given.
 */
int nfqct_privdrop_chown_stat(const char *dir, uid_t uid, gid_t gid, bool *dir_owned);

/*
 * nfqct_privdrop_state_dir - make sure @uid can write the state file
 * @path: its directory is created (0700, owned by @uid/@gid) when missing;
 * an existing one is left as it is.  Returns 0, or -EACCES when @uid
 * cannot write the existing directory, or -errno.
 */
int nfqct_privdrop_state_dir(const char *path, uid_t uid, gid_t gid);

/*
 * nfqct_privdrop_apply - become @uid/@gid (no supplementary groups, an
 * empty bounding set) keeping CAP_NET_ADMIN effective, permitted,
 * inheritable and ambient (so an in-place upgrade's execve keeps it), and
 * nothing else.  Call from the only thread.  Returns 0 or -EPERM.
 */
int nfqct_privdrop_apply(uid_t uid, gid_t gid);

/* nfqct_privdrop_net_admin - is CAP_NET_ADMIN effective in this thread? */
bool nfqct_privdrop_net_admin(void);

#endif
