// SuiteSparse's UMFPACK (Debian: libsuitesparse-dev); we use the _dl (int64 index) interface.
#include <suitesparse/umfpack.h>
