// OpenMPI's C API (Debian's libopenmpi-dev), used by the Cluster module. MPI's handles are
// macros over library globals, which Swift cannot import; these functions hand them over.
#include <mpi.h>

static inline MPI_Comm magpie_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype magpie_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype magpie_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype magpie_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op magpie_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op magpie_mpi_max(void) { return MPI_MAX; }
static inline void *magpie_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Datatype magpie_mpi_int32(void) { return MPI_INT32_T; }
