import Foundation

/// Which job this process belongs to. A process that `mpirun` (OpenMPI) started runs over MPI;
/// any other process runs alone, and never touches MPI.
public enum Cluster {
    /// Whether the environment says `mpirun` started this process.
    public static var launchedByMPI: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// The world of this job: MPI's when launched by `mpirun`, else a single process.
    public static func world() -> Communicator {
        launchedByMPI ? MPICommunicator.world : SingleProcess()
    }
}
