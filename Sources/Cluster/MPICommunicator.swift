import CMPI
import Foundation

/// `MPI_COMM_WORLD` of a job started by `mpirun` (OpenMPI). MPI is initialised on first use
/// (threads serialised: Magpie's worker threads never call MPI, the training thread alone does)
/// and finalised at exit. Errors inside MPI abort the job, MPI's default.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm

    /// The world communicator; initialises MPI the first time.
    public static let world = MPICommunicator()

    private init() {
        var provided: Int32 = 0
        var argc: Int32 = 0
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        MPI_Init_thread(&argc, &argv, Int32(MPI_THREAD_SERIALIZED), &provided)
        atexit { MPI_Finalize() }
        world = magpie_mpi_comm_world()
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &n)
        rank = Int(r); size = Int(n)
    }

    public func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        allreduce(buffer.baseAddress, count: buffer.count, type: magpie_mpi_float(), op: magpie_mpi_sum())
    }

    public func sum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        allreduce(buffer.baseAddress, count: buffer.count, type: magpie_mpi_double(), op: magpie_mpi_sum())
    }

    public func maximum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        allreduce(buffer.baseAddress, count: buffer.count, type: magpie_mpi_double(), op: magpie_mpi_max())
    }

    /// In place, in chunks below MPI's 32-bit count limit.
    private func allreduce(_ base: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype, op: MPI_Op) {
        guard let base, count > 0 else { return }
        var extent: Int32 = 0
        MPI_Type_size(type, &extent)
        let chunk = 1 << 28
        var offset = 0
        while offset < count {
            let n = min(chunk, count - offset)
            MPI_Allreduce(magpie_mpi_in_place(), base + offset * Int(extent), Int32(n), type, op, world)
            offset += n
        }
    }

    public func gather(_ local: [Float]) -> (values: [Float], counts: [Int]) { gather(local, type: magpie_mpi_float()) }
    public func gather(_ local: [Int64]) -> (values: [Int64], counts: [Int]) { gather(local, type: magpie_mpi_int64()) }

    private func gather<T: Numeric>(_ local: [T], type: MPI_Datatype) -> (values: [T], counts: [Int]) {
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(local.count)
        MPI_Allgather(&mine, 1, magpie_mpi_int32(), &counts, 1, magpie_mpi_int32(), world)
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<size { displacements[r] = displacements[r - 1] + counts[r - 1] }
        var out = [T](repeating: 0, count: Int(counts.reduce(0, +)))
        local.withUnsafeBufferPointer { send in
            out.withUnsafeMutableBufferPointer { receive in
                _ = MPI_Allgatherv(send.baseAddress, mine, type, receive.baseAddress, counts, displacements, type, world)
            }
        }
        return (out, counts.map(Int.init))
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Double>, root: Int) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        MPI_Bcast(base, Int32(buffer.count), magpie_mpi_double(), Int32(root), world)
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }
}

