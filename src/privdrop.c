/*
 * privdrop.c - running without root: user lookup, handing the daemon's
 * own files to the user, and the switch itself with libcap-ng (privdrop.h).
 */
#include "config.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfqct/ctl.h"
#include "nfqct/events.h"
#include "nfqct/privdrop.h"

int nfqct_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long n;
	int r;

	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (!res && r == 0 && user[0] >= '0' && user[0] <= '9') {
		errno = 0;
		n = strtoul(user, &end, 10);
		if (!*end && !errno && n < UINT_MAX)
			r = getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &res);
	}
	if (r)
		return -r;
	if (!res)
		return -ENOENT;
	*uid = res->pw_uid;
	*gid = res->pw_gid;
	return 0;
}

/* chown @dir/@name, and with @files every regular file in it (not following links). */
static int chown_at(const char *dir, const char *name, uid_t uid, gid_t gid, bool files)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (lchown(path, uid, gid) < 0)
		return -errno;
	if (!files)
		return 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_type == DT_REG && fchownat(dirfd(d), e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
	closedir(d);
	return r;
}

/* Does @dir hold only what nfqctd puts there?  Then it is nfqctd's own. */
static bool dir_is_ours(const char *dir)
{
	static const char *const ours[] = { ".", "..", "net", "sys", NFQCT_CTL_SOCKET,
					    NFQCT_EVENTS_SOCKET };
	struct dirent *e;
	bool only = true;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (only && (e = readdir(d))) {
		size_t i;

		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (!strcmp(e->d_name, ours[i]))
				break;
		only = i < sizeof(ours) / sizeof(ours[0]);
	}
	closedir(d);
	return only;
}

int nfqct_privdrop_chown_stat(const char *dir, uid_t uid, gid_t gid, bool *dir_owned)
{
	/* the tree statfile.h lays out, parents before children */
	static const struct {
		const char *name;
		bool files;
	} tree[] = {
		{ "net", false }, { "net/stat", true }, { "sys", false }, { "sys/net", false },
		{ "sys/net/netfilter", true }, { "sys/net/nfqct", true },
	};
	int r;

	*dir_owned = false;
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		r = chown_at(dir, tree[i].name, uid, gid, tree[i].files);
		if (r < 0)
			return r;
	}
	if (dir_is_ours(dir)) {
		r = chown_at(dir, ".", uid, gid, false);
		if (r < 0)
			return r;
		*dir_owned = true;
	}
	return 0;
}

int nfqct_privdrop_state_dir(const char *path, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;
	*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		/* ours to create, so ours to give */
		if (mkdir(dir, 0700) < 0 || chown(dir, uid, gid) < 0)
			return -errno;
		return 0;
	}
	/* An existing directory is the operator's: only say whether @uid can write it. */
	if (st.st_uid == uid ? (st.st_mode & S_IWUSR) :
	    st.st_gid == gid ? (st.st_mode & S_IWGRP) : (st.st_mode & S_IWOTH))
		return 0;
	return -EACCES;
}

int nfqct_privdrop_apply(uid_t uid, gid_t gid)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE,
			 CAP_NET_ADMIN) < 0)
		return -EPERM;
	/* gid, no supplementary groups, uid, an empty bounding set, then the caps above */
	if (capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) < 0)
		return -EPERM;
	/* Ambient: an execve (the in-place upgrade) keeps CAP_NET_ADMIN. */
	if (capng_update(CAPNG_ADD, CAPNG_AMBIENT, CAP_NET_ADMIN) < 0 ||
	    capng_apply(CAPNG_SELECT_AMBIENT) < 0)
		return -EPERM;
	return nfqct_privdrop_net_admin() ? 0 : -EPERM;
}

bool nfqct_privdrop_net_admin(void)
{
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) == 1;
}
