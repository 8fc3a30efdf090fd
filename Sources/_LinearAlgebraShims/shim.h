// The C libraries under Foundations' linear algebra (Debian: libopenblas-dev, liblapacke-dev,
// libsuitesparse-dev): OpenBLAS's CBLAS with its thread-count controls, LAPACKE (LAPACK itself comes
// from OpenBLAS), and SuiteSparse's UMFPACK (the _dl, int64-index interface is the one used).
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#include <lapacke.h>
#include <suitesparse/umfpack.h>
