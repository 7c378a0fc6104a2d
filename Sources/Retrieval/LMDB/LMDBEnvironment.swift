import CLMDB
import Foundation

/// One LMDB environment (a folder with `data.mdb` and `lock.mdb`) and its named databases.
/// Every change runs inside `write { }`, one transaction: it commits whole or not at all, so a
/// crash loses at most the transaction in flight. Readers (`read { }`) see the last commit and
/// never block the writer.
final class LMDBEnvironment: @unchecked Sendable {
    let path: String
    private var env: OpaquePointer?
    private(set) var databases: [String: MDB_dbi] = [:]

    /// Opens (or creates, when `create`) the environment at `path` with the given named databases.
    init(path: String, databases names: [String], create: Bool, readOnly: Bool = false,
         mapSize: Int = 1 << 40) throws {
        self.path = path
        var fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard create else { throw RetrievalError.galleryMissing(path: path) }
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw RetrievalError.invalidInput(path: path, reason: "cannot create the gallery folder (\(error.localizedDescription)); check the path and its permissions")
            }
        } else if !isDir.boolValue {
            throw RetrievalError.notAGallery(path: path, reason: "it is a file, not a folder")
        }
        fm = FileManager.default
        try check(mdb_env_create(&env), "env_create")
        mdb_env_set_maxdbs(env, MDB_dbi(max(names.count, 1)))
        mdb_env_set_mapsize(env, mapSize)
        // NOTLS: read transactions are not tied to threads (Swift tasks hop threads).
        var flags = UInt32(MDB_NOTLS)
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        let rc = mdb_env_open(env, path, flags, 0o644)
        if rc != 0 {
            mdb_env_close(env)
            env = nil
            if rc == EACCES || rc == EROFS {
                throw RetrievalError.invalidInput(path: path, reason: "permission denied opening the LMDB environment; use a writable folder")
            }
            if rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED {
                throw RetrievalError.corrupt(path: path, reason: "data.mdb is not a readable LMDB file (\(String(cString: mdb_strerror(rc))))")
            }
            throw RetrievalError.lmdb(operation: "open \(path)", code: rc, message: String(cString: mdb_strerror(rc)))
        }
        do {
            try checkFileCoversPages()
            try openDatabases(names, create: create && !readOnly)
        } catch {
            close()
            throw error
        }
    }

    /// LMDB maps `data.mdb` and trusts its header: pages the header counts but the file lacks
    /// (a truncated copy, a disk that filled during a copy) would end the process with SIGBUS on
    /// first touch. Refuse such a file with an error instead.
    private func checkFileCoversPages() throws {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        try check(mdb_env_info(env, &info), "env_info")
        try check(mdb_env_stat(env, &stat), "env_stat")
        let needed = (info.me_last_pgno + 1) * Int(stat.ms_psize)
        let size = dataFileSize
        guard size >= needed else {
            throw RetrievalError.corrupt(path: path, reason: "data.mdb is truncated: \(size) bytes, but its header describes \(needed)")
        }
    }

    deinit { if let env { mdb_env_close(env) } }

    private func openDatabases(_ names: [String], create: Bool) throws {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, create ? 0 : UInt32(MDB_RDONLY), &txn), "txn_begin")
        for name in names {
            var dbi = MDB_dbi()
            let rc = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
            if rc == MDB_NOTFOUND {
                mdb_txn_abort(txn)
                throw RetrievalError.notAGallery(path: path, reason: "it has no '\(name)' database")
            }
            if rc != 0 { mdb_txn_abort(txn); try check(rc, "dbi_open \(name)") }
            databases[name] = dbi
        }
        try check(mdb_txn_commit(txn), "txn_commit")
    }

    func check(_ rc: Int32, _ operation: String) throws {
        guard rc == 0 else {
            // A short write (file size limit, full disk mid-page) reaches LMDB as EIO.
            if rc == ENOSPC || rc == EFBIG || rc == EDQUOT || rc == EIO || rc == MDB_MAP_FULL {
                throw RetrievalError.storageFull(path: path, reason: String(cString: mdb_strerror(rc)))
            }
            throw RetrievalError.lmdb(operation: operation, code: rc, message: String(cString: mdb_strerror(rc)))
        }
    }

    func dbi(_ name: String) -> MDB_dbi { databases[name]! }

    /// Runs `body` in one write transaction; commits when it returns, aborts when it throws.
    /// A failed commit (disk full, file size limit) has written nothing and leaves the
    /// environment usable.
    func write<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "begin write transaction")
        let t = LMDBTransaction(handle: txn!, environment: self)
        let result: T
        do {
            result = try body(t)
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        // mdb_txn_commit frees the transaction whether or not it succeeds: no abort after it.
        try check(mdb_txn_commit(txn), "commit")
        return result
    }

    /// Size of `data.mdb` on disk, in bytes (0 when it cannot be read).
    var dataFileSize: Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb"))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Id of the last committed write transaction, by any process. Changes whenever anyone commits.
    func lastTransactionID() throws -> Int {
        var info = MDB_envinfo()
        try check(mdb_env_info(env, &info), "env_info")
        return info.me_last_txnid
    }

    /// Runs `body` in a read-only snapshot transaction.
    func read<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "begin read transaction")
        defer { mdb_txn_abort(txn) }
        return try body(LMDBTransaction(handle: txn!, environment: self))
    }

    /// Writes a compacted copy of the environment into the (empty, existing) folder `destination`.
    func copyCompacted(to destination: String) throws {
        try check(mdb_env_copy2(env, destination, UInt32(MDB_CP_COMPACT)), "compacting copy to \(destination)")
    }

    /// Closes the environment now (further use is a programming error).
    func close() {
        if let env { mdb_env_close(env) }
        env = nil
    }
}

/// A transaction handle valid only inside `LMDBEnvironment.read/write`.
struct LMDBTransaction {
    let handle: OpaquePointer
    let environment: LMDBEnvironment

    /// The bytes stored under `key`, or nil.
    func get(_ db: String, key: [UInt8]) throws -> [UInt8]? {
        var k = key
        return try k.withUnsafeMutableBytes { kb -> [UInt8]? in
            var kv = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
            var v = MDB_val()
            let rc = mdb_get(handle, environment.dbi(db), &kv, &v)
            if rc == MDB_NOTFOUND { return nil }
            try environment.check(rc, "get")
            return Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    /// Stores `value` under `key`; returns false (and stores nothing) when `noOverwrite` and the key exists.
    @discardableResult
    func put(_ db: String, key: [UInt8], value: UnsafeRawBufferPointer, noOverwrite: Bool = false) throws -> Bool {
        var k = key
        return try k.withUnsafeMutableBytes { kb -> Bool in
            var kv = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            let rc = mdb_put(handle, environment.dbi(db), &kv, &v, noOverwrite ? UInt32(MDB_NOOVERWRITE) : 0)
            if rc == MDB_KEYEXIST { return false }
            try environment.check(rc, "put")
            return true
        }
    }

    func put(_ db: String, key: [UInt8], bytes: [UInt8], noOverwrite: Bool = false) throws -> Bool {
        try bytes.withUnsafeBytes { try put(db, key: key, value: $0, noOverwrite: noOverwrite) }
    }

    /// Deletes `key`; returns false when it was absent.
    @discardableResult
    func delete(_ db: String, key: [UInt8]) throws -> Bool {
        var k = key
        return try k.withUnsafeMutableBytes { kb -> Bool in
            var kv = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
            let rc = mdb_del(handle, environment.dbi(db), &kv, nil)
            if rc == MDB_NOTFOUND { return false }
            try environment.check(rc, "delete")
            return true
        }
    }

    /// Visits every (key, value) pair in key order; the buffers are valid only during the call.
    func forEach(_ db: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        try withCursor(db) { cursor in
            var k = MDB_val(), v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            while rc == 0 {
                try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                         UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try environment.check(rc, "cursor_get") }
        }
    }

    /// Runs `body` with a cursor over `db`, closed afterwards.
    private func withCursor<T>(_ db: String, _ body: (OpaquePointer?) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try environment.check(mdb_cursor_open(handle, environment.dbi(db), &cursor), "cursor_open")
        defer { mdb_cursor_close(cursor) }
        return try body(cursor)
    }

    /// The largest key in `db` that sorts before `limit` (byte order), or nil when there is none.
    func lastKey(_ db: String, before limit: [UInt8]) throws -> [UInt8]? {
        try withCursor(db) { cursor in
            var bound = limit
            return try bound.withUnsafeMutableBytes { lb -> [UInt8]? in
                var k = MDB_val(mv_size: lb.count, mv_data: lb.baseAddress), v = MDB_val()
                // SET_RANGE lands on the first key >= limit; the one before it is the answer.
                var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cursor, &k, &v, MDB_LAST) : mdb_cursor_get(cursor, &k, &v, MDB_PREV)
                if rc == MDB_NOTFOUND { return nil }
                try environment.check(rc, "cursor_get")
                return Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size))
            }
        }
    }

    /// Visits the keys of `db` from the first one ≥ `start`, in order, while `body` returns true.
    func forEachKey(_ db: String, from start: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Bool) throws {
        try withCursor(db) { cursor in
            var bound = start
            try bound.withUnsafeMutableBytes { sb in
                var k = MDB_val(mv_size: sb.count, mv_data: sb.baseAddress), v = MDB_val()
                var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                while rc == 0 {
                    guard try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)) else { return }
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
                }
                if rc != MDB_NOTFOUND { try environment.check(rc, "cursor_get") }
            }
        }
    }

    /// This write transaction's id (the value `lastTransactionID()` reports once it commits).
    var id: Int { Int(mdb_txn_id(handle)) }

    /// Number of entries in `db`.
    func count(_ db: String) throws -> Int {
        var stat = MDB_stat()
        try environment.check(mdb_stat(handle, environment.dbi(db), &stat), "stat")
        return stat.ms_entries
    }
}
