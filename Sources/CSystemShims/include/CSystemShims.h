#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
#include <sys/types.h>

/// syncfs(2), which glibc declares only under _GNU_SOURCE.
int sdx_syncfs(int fd);

#endif
