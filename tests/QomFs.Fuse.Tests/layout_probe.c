/* Prints the sizes, offsets, bit positions and constants that QomFs.Fuse hard-codes, as gcc sees them. */
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE
#include <fuse_lowlevel.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define P(name, value) printf("%s %lld\n", name, (long long)(value))
#define SIZE(type) P("sizeof " #type, sizeof(struct type))
#define OFF(type, member) P(#type "." #member, offsetof(struct type, member))
#define CONST(name) P(#name, name)

/* Bit-fields have no offsetof: set one in a zeroed struct and report which bit of the struct changed. */
#define BIT(member) do { struct fuse_file_info fi; memset(&fi, 0, sizeof fi); fi.member = 1; \
    const unsigned char *b = (const unsigned char *)&fi; long bit = -1; \
    for (size_t i = 0; i < sizeof fi && bit < 0; i++) for (int j = 0; j < 8; j++) if (b[i] & (1u << j)) { bit = (long)(i * 8 + j); break; } \
    P("fuse_file_info.bit." #member, bit); } while (0)

int main(void)
{
    SIZE(fuse_args); OFF(fuse_args, argc); OFF(fuse_args, argv); OFF(fuse_args, allocated);

    SIZE(fuse_lowlevel_ops);
    OFF(fuse_lowlevel_ops, init); OFF(fuse_lowlevel_ops, destroy); OFF(fuse_lowlevel_ops, lookup);
    OFF(fuse_lowlevel_ops, forget); OFF(fuse_lowlevel_ops, getattr); OFF(fuse_lowlevel_ops, setattr);
    OFF(fuse_lowlevel_ops, readlink); OFF(fuse_lowlevel_ops, mknod); OFF(fuse_lowlevel_ops, mkdir);
    OFF(fuse_lowlevel_ops, unlink); OFF(fuse_lowlevel_ops, rmdir); OFF(fuse_lowlevel_ops, rename);
    OFF(fuse_lowlevel_ops, open); OFF(fuse_lowlevel_ops, read); OFF(fuse_lowlevel_ops, write);
    OFF(fuse_lowlevel_ops, flush); OFF(fuse_lowlevel_ops, release); OFF(fuse_lowlevel_ops, opendir);
    OFF(fuse_lowlevel_ops, readdir); OFF(fuse_lowlevel_ops, releasedir); OFF(fuse_lowlevel_ops, statfs);
    OFF(fuse_lowlevel_ops, getxattr); OFF(fuse_lowlevel_ops, listxattr); OFF(fuse_lowlevel_ops, access);
    OFF(fuse_lowlevel_ops, create); OFF(fuse_lowlevel_ops, forget_multi); OFF(fuse_lowlevel_ops, readdirplus);

    SIZE(fuse_entry_param);
    OFF(fuse_entry_param, ino); OFF(fuse_entry_param, generation); OFF(fuse_entry_param, attr);
    OFF(fuse_entry_param, attr_timeout); OFF(fuse_entry_param, entry_timeout);

    SIZE(fuse_ctx); OFF(fuse_ctx, uid); OFF(fuse_ctx, gid); OFF(fuse_ctx, pid); OFF(fuse_ctx, umask);
    SIZE(fuse_forget_data); OFF(fuse_forget_data, ino); OFF(fuse_forget_data, nlookup);

    SIZE(fuse_conn_info); OFF(fuse_conn_info, capable); OFF(fuse_conn_info, want);

    SIZE(fuse_file_info);
    OFF(fuse_file_info, flags); OFF(fuse_file_info, fh); OFF(fuse_file_info, lock_owner); OFF(fuse_file_info, poll_events);
    BIT(writepage); BIT(direct_io); BIT(keep_cache); BIT(flush); BIT(nonseekable);
    BIT(flock_release); BIT(cache_readdir); BIT(noflush);

    SIZE(stat);
    OFF(stat, st_dev); OFF(stat, st_ino); OFF(stat, st_nlink); OFF(stat, st_mode); OFF(stat, st_uid);
    OFF(stat, st_gid); OFF(stat, st_rdev); OFF(stat, st_size); OFF(stat, st_blksize); OFF(stat, st_blocks);
    OFF(stat, st_atim); OFF(stat, st_mtim); OFF(stat, st_ctim);
    SIZE(timespec); OFF(timespec, tv_sec); OFF(timespec, tv_nsec);

    SIZE(fuse_buf); OFF(fuse_buf, size); OFF(fuse_buf, flags); OFF(fuse_buf, mem); OFF(fuse_buf, fd); OFF(fuse_buf, pos);
    SIZE(fuse_bufvec); OFF(fuse_bufvec, count); OFF(fuse_bufvec, idx); OFF(fuse_bufvec, off); OFF(fuse_bufvec, buf);

    SIZE(statvfs);
    OFF(statvfs, f_bsize); OFF(statvfs, f_frsize); OFF(statvfs, f_blocks); OFF(statvfs, f_bfree);
    OFF(statvfs, f_bavail); OFF(statvfs, f_files); OFF(statvfs, f_ffree); OFF(statvfs, f_favail);
    OFF(statvfs, f_fsid); OFF(statvfs, f_flag); OFF(statvfs, f_namemax);

    CONST(FUSE_CAP_ATOMIC_O_TRUNC); CONST(FUSE_CAP_READDIRPLUS_AUTO); CONST(FUSE_CAP_POSIX_ACL); CONST(FUSE_ROOT_ID);
    CONST(FUSE_SET_ATTR_MODE); CONST(FUSE_SET_ATTR_UID); CONST(FUSE_SET_ATTR_GID); CONST(FUSE_SET_ATTR_SIZE);
    CONST(FUSE_SET_ATTR_ATIME); CONST(FUSE_SET_ATTR_MTIME); CONST(FUSE_SET_ATTR_ATIME_NOW); CONST(FUSE_SET_ATTR_MTIME_NOW);
    CONST(S_IFMT); CONST(S_IFSOCK); CONST(S_IFLNK); CONST(S_IFREG); CONST(S_IFBLK); CONST(S_IFDIR); CONST(S_IFCHR); CONST(S_IFIFO);
    CONST(UTIME_NOW); CONST(UTIME_OMIT); CONST(RENAME_EXCHANGE);
    CONST(MNT_DETACH); CONST(AT_FDCWD); CONST(AT_STATX_FORCE_SYNC); CONST(STATX_TYPE);

    CONST(EPERM); CONST(ENOENT); CONST(EINTR); CONST(EIO); CONST(ENXIO); CONST(E2BIG); CONST(EBADF);
    CONST(EAGAIN); CONST(ENOMEM); CONST(EACCES); CONST(EBUSY); CONST(EEXIST); CONST(EXDEV); CONST(ENODEV);
    CONST(ENOTDIR); CONST(EISDIR); CONST(EINVAL); CONST(EMFILE); CONST(EFBIG); CONST(ENOSPC); CONST(ESPIPE);
    CONST(EROFS); CONST(ERANGE); CONST(ENAMETOOLONG); CONST(ENOSYS); CONST(ENOTEMPTY); CONST(ENODATA);
    CONST(EPROTO); CONST(EOVERFLOW); CONST(ENOTSUP); CONST(EOPNOTSUPP); CONST(ECONNABORTED); CONST(ECONNRESET);
    CONST(ENOTCONN); CONST(ETIMEDOUT); CONST(ECONNREFUSED); CONST(EHOSTUNREACH); CONST(ECANCELED);
    return 0;
}
