#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
#include <sys/types.h>
#include <sys/xattr.h>

/// syncfs(2), which glibc declares only under _GNU_SOURCE.
int sdx_syncfs(int fd);

/// lseek(2) whences and utimensat(2)'s "leave this time alone", also _GNU_SOURCE-only.
#define SDX_SEEK_DATA 3
#define SDX_SEEK_HOLE 4
#define SDX_UTIME_OMIT 1073741822L

#endif
